#include "netns/switch.h"

#include <endian.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/util.h"
#include "netns/shaper.h"
#include "netns/testbed.h"

#define BATCH 64         /* frames per recvmmsg and per sendmmsg */
#define RX_BUDGET 8      /* receive batches before due frames get their turn */
#define STOP_POLL_MS 100 /* bounds how late a stop set without a signal is seen */
/* How often the CPU time and the kernel's receive drops are published. */
#define PUBLISH_NS 10000000u
/* Once frames arrive closer together than this, the socket is read on a
 * timer at this interval instead of waking the switch for every frame.
 * Kernel receive timestamps keep arrival times exact; only frames due
 * sooner than this after arrival can leave up to this late. */
#define RX_COALESCE_NS 100000u
/* Timer wakeups run late by tens of microseconds in VMs; the switch aims
 * that much early (measured), up to this bound. */
#define MAX_LEAD_NS 200000u
#define LEAD_STEP_NS 2000u
#define DEFAULT_MAX_FRAMES 65536u
#define RCVBUF_BYTES (32 << 20)
/* Room after a frame's inline buffer for the rest of a GSO frame; veth
 * builds them up to its gso_max_size of 64 KiB. */
#define OVERFLOW_BYTES (64u << 10)

/* UDP segmentation offload; newer than Debian 12's kernel headers. */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

#define ARP_LEN 28 /* Ethernet/IPv4 ARP payload */
#define ARP_REQUEST 1
#define ARP_REPLY 2

enum stage {
	STAGE_PATH,     /* in flight towards the destination's downlink */
	STAGE_DOWNLINK, /* queued on the destination's downlink */
	STAGE_ARP,      /* a reply made by the switch, sent at once */
};

struct frame {
	uint8_t *data; /* buf, or a heap block when the frame is larger */
	uint32_t len;
	uint32_t wire; /* bytes counted on links */
	uint32_t src, dst;
	uint32_t stage;
	struct virtio_net_hdr vnet;
	/* A 1500-byte MTU frame with VLAN tags fits; the struct is 2 KiB. */
	uint8_t buf[2008];
};
_Static_assert(sizeof(struct frame) == 2048, "frames should fill 2 KiB exactly");

struct sw {
	const struct linkmodel *m;
	struct switch_stats *st;
	struct switch_stats own_stats;
	int fd, ep;
	struct shaper *sh;
	struct dueq *q;
	struct frame *pool; /* nframes + 1; the last receives what we cannot keep */
	size_t pool_bytes;
	uint32_t nframes;
	uint32_t *free_ids;
	uint32_t nfree;
	int32_t *host_of_ifindex; /* -1: not a port */
	uint32_t nifindex;
	int *ifindex_of_host; /* 0: the host has no port */
	uint64_t wake_ns;     /* when the next wait should end; 0: no timed work */
	uint64_t lead_ns;     /* how late timer wakeups are (median) */
	uint64_t rx_last_ns;  /* last receive pass that found frames */
	uint64_t rx_poll_ns;  /* next receive pass when coalescing; 0 when waiting on the socket */
	uint64_t publish_ns;  /* when to publish the CPU time and kernel drops next */

	struct mmsghdr rmsg[BATCH];
	struct iovec riov[BATCH][3];
	struct sockaddr_ll raddr[BATCH];
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct timespec))];
	} rctl[BATCH];
	uint32_t rid[BATCH];
	uint8_t *overflow; /* BATCH * OVERFLOW_BYTES */

	struct mmsghdr tmsg[BATCH];
	struct iovec tiov[BATCH][2];
	struct sockaddr_ll taddr[BATCH];
	uint32_t tid[BATCH];
	uint64_t tdue[BATCH]; /* when the model has each frame leave */
	uint32_t ntx;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The host owning a unicast MAC and having a port, or -1. */
static int64_t mac_host(const struct sw *sw, const uint8_t *mac)
{
	int64_t h = addr_mac_host(mac);
	if (h < 0 || h >= (int64_t)sw->m->n || !sw->ifindex_of_host[h])
		return -1;
	return h;
}

static void frame_put(struct sw *sw, uint32_t id)
{
	struct frame *f = &sw->pool[id];
	if (f->data != f->buf)
		free(f->data);
	sw->free_ids[sw->nfree++] = id;
}

static void tx_flush(struct sw *sw)
{
	uint8_t failed[BATCH] = {0};
	uint32_t off = 0;
	uint64_t sent = now_ns();
	while (off < sw->ntx) {
		int r = sendmmsg(sw->fd, sw->tmsg + off, sw->ntx - off, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* sendmmsg reports an error only for the first frame
			 * of a call; skip that one and go on with the rest. */
			sw->st->tx_errors++;
			failed[off++] = 1;
			continue;
		}
		off += (uint32_t)r;
	}
	for (uint32_t i = 0; i < sw->ntx; i++) {
		if (!failed[i] && sw->pool[sw->tid[i]].stage != STAGE_ARP) {
			sw->st->forwarded++;
			hist_add(&sw->st->late_ns, sent > sw->tdue[i] ? sent - sw->tdue[i] : 0);
		}
		frame_put(sw, sw->tid[i]);
	}
	sw->ntx = 0;
}

/* Queue frame id for sending on ifindex; due is when the model has it
 * leave (ARP replies leave at once and are not timed). */
static void tx_add(struct sw *sw, uint32_t id, int ifindex, uint64_t due)
{
	struct frame *f = &sw->pool[id];
	uint32_t i = sw->ntx++;
	/* DATA_VALID only means something on receive. */
	f->vnet.flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM;
	sw->tiov[i][0] = (struct iovec){&f->vnet, sizeof(f->vnet)};
	sw->tiov[i][1] = (struct iovec){f->data, f->len};
	struct sockaddr_ll *a = &sw->taddr[i];
	memset(a, 0, sizeof(*a));
	a->sll_family = AF_PACKET;
	a->sll_ifindex = ifindex;
	memcpy(&a->sll_protocol, f->data + 12, 2);
	sw->tmsg[i].msg_hdr = (struct msghdr){
	    .msg_name = a,
	    .msg_namelen = sizeof(*a),
	    .msg_iov = sw->tiov[i],
	    .msg_iovlen = 2,
	};
	sw->tid[i] = id;
	sw->tdue[i] = due;
	if (sw->ntx == BATCH)
		tx_flush(sw);
}

/* Turn an ARP request from host src into the reply of the host owning the
 * target address, in place. Answering here rather than flooding keeps
 * broadcasts off every port, and resolution costs no emulated time, as on a
 * real LAN where the gateway is one short hop away. */
static int arp_answer(struct sw *sw, struct frame *f, uint32_t src)
{
	uint8_t *eth = f->data, *arp = f->data + ETH_HLEN;
	if (f->len < ETH_HLEN + ARP_LEN || get16(arp) != 1 || get16(arp + 2) != ETH_P_IP ||
	    arp[4] != ETH_ALEN || arp[5] != 4 || get16(arp + 6) != ARP_REQUEST)
		return 0;
	uint32_t tip;
	memcpy(&tip, arp + 24, 4);
	int64_t t = addr_ip_host(be32toh(tip));
	if (t < 0 || t >= (int64_t)sw->m->n || t == src || !sw->ifindex_of_host[t])
		return 0;

	uint8_t mac[ETH_ALEN];
	addr_host_mac((uint32_t)t, mac);
	memcpy(eth, eth + ETH_ALEN, ETH_ALEN);
	memcpy(eth + ETH_ALEN, mac, ETH_ALEN);
	arp[6] = 0;
	arp[7] = ARP_REPLY;
	memmove(arp + 18, arp + 8, ETH_ALEN + 4); /* target := requester */
	memcpy(arp + 8, mac, ETH_ALEN);
	memcpy(arp + 14, &tip, 4);
	f->len = ETH_HLEN + ARP_LEN;
	memset(&f->vnet, 0, sizeof(f->vnet));
	f->stage = STAGE_ARP;
	return 1;
}

/* What HTB would count; GSO headers are measured from the frame because
 * the socket reports the linear length in hdr_len, not the headers. */
static uint32_t frame_wire(const struct frame *f)
{
	const struct virtio_net_hdr *v = &f->vnet;
	uint32_t gso = le16toh(v->gso_size), l4 = le16toh(v->csum_start);
	uint32_t hdr = le16toh(v->hdr_len);
	switch (v->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return f->len;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (l4 >= ETH_HLEN && l4 + 20 <= f->len)
			hdr = l4 + (uint32_t)(f->data[l4 + 12] >> 4) * 4;
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		hdr = l4 + 8;
		break;
	}
	return shaper_wire_bytes(f->len, gso, hdr);
}

static void ingress(struct sw *sw, uint32_t id, int ifindex, uint64_t now)
{
	struct frame *f = &sw->pool[id];
	struct switch_stats *st = sw->st;
	if (ifindex <= 0 || (uint32_t)ifindex >= sw->nifindex || sw->host_of_ifindex[ifindex] < 0) {
		frame_put(sw, id); /* another interface of the hub */
		return;
	}
	uint32_t src = (uint32_t)sw->host_of_ifindex[ifindex];
	st->rx++;
	if (f->len >= ETH_HLEN && get16(f->data + 12) == ETH_P_ARP && arp_answer(sw, f, src)) {
		st->arp_replies++;
		tx_add(sw, id, ifindex, now);
		return;
	}
	int64_t dst = f->len >= ETH_HLEN ? mac_host(sw, f->data) : -1;
	if (dst < 0 || (uint32_t)dst == src) {
		st->drop_unknown++;
		frame_put(sw, id);
		return;
	}
	f->src = src;
	f->dst = (uint32_t)dst;
	f->wire = frame_wire(f);
	f->stage = STAGE_PATH;
	uint64_t due;
	switch (shaper_ingress(sw->sh, sw->m, f->src, f->dst, f->wire, now, &due)) {
	case SHAPER_PASS:
		/* Cannot fail: the queue has room for every frame. */
		dueq_push(sw->q, due, id);
		return;
	case SHAPER_DROP_QUEUE:
		st->drop_queue++;
		break;
	case SHAPER_DROP_LOSS:
		st->drop_loss++;
		break;
	case SHAPER_DROP_PARTITION:
		st->drop_partition++;
		break;
	}
	frame_put(sw, id);
}

/* The receive timestamp of message i on the monotonic clock. */
static uint64_t rx_time(struct sw *sw, uint32_t i, int64_t real_minus_mono, uint64_t now)
{
	struct msghdr *mh = &sw->rmsg[i].msg_hdr;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		struct timespec ts;
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		int64_t t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - real_minus_mono;
		/* A clock step between stamp and now must not put it ahead. */
		return t > 0 && (uint64_t)t < now ? (uint64_t)t : now;
	}
	return now;
}

static int64_t real_minus_mono(void)
{
	struct timespec r, m;
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return ((int64_t)r.tv_sec - m.tv_sec) * 1000000000 + (r.tv_nsec - m.tv_nsec);
}

enum rx_result { RX_ERROR = -1, RX_EMPTY, RX_DRAINED, RX_MORE };

#define RX_SLOT_EMPTY UINT32_MAX

/* Give receive slot i a frame. Without a free frame it gets the discard
 * frame: we still read, to drop the frame and count it rather than spin on
 * a readable socket. */
static void rx_slot_fill(struct sw *sw, uint32_t i)
{
	uint32_t id = sw->nfree ? sw->free_ids[--sw->nfree] : sw->nframes;
	struct frame *f = &sw->pool[id];
	f->data = f->buf;
	sw->rid[i] = id;
	sw->riov[i][0] = (struct iovec){&f->vnet, sizeof(f->vnet)};
	sw->riov[i][1] = (struct iovec){f->buf, sizeof(f->buf)};
	sw->riov[i][2] = (struct iovec){sw->overflow + (size_t)i * OVERFLOW_BYTES, OVERFLOW_BYTES};
	sw->rmsg[i].msg_hdr = (struct msghdr){
	    .msg_name = &sw->raddr[i],
	    .msg_namelen = sizeof(sw->raddr[i]),
	    .msg_iov = sw->riov[i],
	    .msg_iovlen = 3,
	    .msg_control = sw->rctl[i].buf,
	    .msg_controllen = sizeof(sw->rctl[i].buf),
	};
}

/* Slots keep their frame until a datagram lands in them: recvmmsg returns a
 * few frames a call under this load, and handing all BATCH frames out and
 * back on every call touched a cold 2 KiB frame per slot (a fifth of the
 * switch's CPU at 300 peers). */
static void rx_slots_fill(struct sw *sw)
{
	for (uint32_t i = 0; i < BATCH; i++) {
		if (sw->rid[i] != RX_SLOT_EMPTY && (sw->rid[i] != sw->nframes || !sw->nfree))
			continue;
		/* With no frame free, the first slots take the frames of the
		 * last ones: the kernel fills slots from the first, so frames
		 * are dropped only when every frame is in use, as before. */
		for (uint32_t j = BATCH - 1; !sw->nfree && j > i; j--) {
			if (sw->rid[j] < sw->nframes) {
				sw->free_ids[sw->nfree++] = sw->rid[j];
				sw->rid[j] = RX_SLOT_EMPTY;
			}
		}
		rx_slot_fill(sw, i);
	}
}

/* Read up to RX_BUDGET batches. */
static enum rx_result receive(struct sw *sw)
{
	uint32_t discard = sw->nframes;
	enum rx_result res = RX_EMPTY;
	for (int round = 0; round < RX_BUDGET; round++) {
		rx_slots_fill(sw);
		int n = recvmmsg(sw->fd, sw->rmsg, BATCH, MSG_DONTWAIT, NULL);
		int rerr = n < 0 && errno != EAGAIN && errno != EINTR ? errno : 0;
		uint64_t now = now_ns();
		int64_t offset = real_minus_mono();
		for (int i = 0; i < n; i++) {
			uint32_t id = sw->rid[i];
			sw->rid[i] = RX_SLOT_EMPTY;
			struct frame *f = &sw->pool[id];
			uint32_t got = sw->rmsg[i].msg_len;
			if (id == discard || (sw->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) ||
			    got < sizeof(f->vnet)) {
				sw->st->drop_nobuf++;
				if (id != discard)
					frame_put(sw, id);
				continue;
			}
			f->len = got - (uint32_t)sizeof(f->vnet);
			if (f->len > sizeof(f->buf)) {
				uint8_t *big = malloc(f->len);
				if (!big) {
					sw->st->drop_nobuf++;
					frame_put(sw, id);
					continue;
				}
				memcpy(big, f->buf, sizeof(f->buf));
				memcpy(big + sizeof(f->buf),
				       sw->overflow + (size_t)i * OVERFLOW_BYTES,
				       f->len - sizeof(f->buf));
				f->data = big;
			}
			ingress(sw, id, sw->raddr[i].sll_ifindex,
			        rx_time(sw, (uint32_t)i, offset, now));
		}
		if (rerr) {
			errno = rerr;
			return RX_ERROR;
		}
		if (n > 0)
			res = RX_DRAINED;
		if (n < BATCH)
			return res;
	}
	return RX_MORE;
}

/* Move every frame due by `horizon` to its next stage. */
static void release(struct sw *sw, uint64_t horizon)
{
	uint64_t due;
	while (dueq_peek(sw->q, &due) && due <= horizon) {
		uint32_t id = dueq_pop(sw->q, &due);
		struct frame *f = &sw->pool[id];
		if (f->stage == STAGE_PATH) {
			uint64_t depart;
			if (shaper_egress(sw->sh, sw->m, f->dst, f->wire, due, &depart) !=
			    SHAPER_PASS) {
				sw->st->drop_queue++;
				frame_put(sw, id);
				continue;
			}
			/* Back into the queue even when due now: a frame already
			 * waiting on the same downlink may leave before this one,
			 * and the queue releases them in departure order. */
			f->stage = STAGE_DOWNLINK;
			dueq_push(sw->q, depart, id);
			continue;
		}
		tx_add(sw, id, sw->ifindex_of_host[f->dst], due);
	}
	tx_flush(sw);
}

/* When to wake for the next due frame or coalesced receive pass. */
static void arm(struct sw *sw, uint64_t now)
{
	uint64_t at = 0, due;
	if (dueq_peek(sw->q, &due))
		at = due > sw->lead_ns ? due - sw->lead_ns : 1;
	if (sw->rx_poll_ns > now && (!at || sw->rx_poll_ns < at))
		at = sw->rx_poll_ns;
	sw->wake_ns = at;
}

/* The wait until wake_ns, at most STOP_POLL_MS. The timeout of epoll_pwait2
 * is the switch's timer: a timerfd set before every wait was one more system
 * call per wakeup, 18% of the switch's CPU at 150 peers. At SCHED_FIFO the
 * kernel adds no slack to it; without, it adds 0.1% of the wait (10 us on a
 * 10 ms wait), which the lead learnt from the wakeups absorbs in the median. */
static struct timespec wait_for(const struct sw *sw, int busy, uint64_t now)
{
	uint64_t left = (uint64_t)STOP_POLL_MS * 1000000u;
	if (busy || (sw->wake_ns && sw->wake_ns <= now))
		left = 0;
	else if (sw->wake_ns && sw->wake_ns - now < left)
		left = sw->wake_ns - now;
	return (struct timespec){(time_t)(left / 1000000000u), (long)(left % 1000000000u)};
}

/* Let the next frame on the socket wake the switch (one-shot interest). */
static int watch_socket(struct sw *sw)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.fd = sw->fd};
	return epoll_ctl(sw->ep, EPOLL_CTL_MOD, sw->fd, &ev);
}

static int setopt(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val));
}

static int open_socket(struct sw *sw, char *err, size_t errlen)
{
	/* Protocol 0 receives nothing until bind, which comes once the
	 * options that shape what recvmsg returns are in place. */
	sw->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (sw->fd < 0)
		return err_set(err, errlen, "opening AF_PACKET socket in the hub: %s",
		               strerror(errno));
	static const struct {
		int level, name;
		const char *what;
	} opts[] = {
	    {SOL_PACKET, PACKET_VNET_HDR, "PACKET_VNET_HDR"},
	    /* Our own sends would otherwise come back to us. */
	    {SOL_PACKET, PACKET_IGNORE_OUTGOING, "PACKET_IGNORE_OUTGOING"},
	    /* veths have no qdisc to go through; this also keeps sent
	     * frames from taps, so a hub capture sees each frame once. */
	    {SOL_PACKET, PACKET_QDISC_BYPASS, "PACKET_QDISC_BYPASS"},
	    /* Arrival times that do not depend on when the switch reads. */
	    {SOL_SOCKET, SO_TIMESTAMPNS, "SO_TIMESTAMPNS"},
	};
	for (size_t i = 0; i < ARRAY_LEN(opts); i++) {
		if (setopt(sw->fd, opts[i].level, opts[i].name, 1) < 0)
			return err_set(err, errlen, "setting %s on the switch socket: %s",
			               opts[i].what, strerror(errno));
	}
	/* Bursts from hundreds of hosts land together; FORCE passes rmem_max. */
	if (setopt(sw->fd, SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF_BYTES) < 0 &&
	    setopt(sw->fd, SOL_SOCKET, SO_RCVBUF, RCVBUF_BYTES) < 0)
		return err_set(err, errlen, "setting SO_RCVBUF on the switch socket: %s",
		               strerror(errno));
	struct sockaddr_ll a = {.sll_family = AF_PACKET, .sll_protocol = htobe16(ETH_P_ALL)};
	if (bind(sw->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return err_set(err, errlen, "binding the switch socket to all interfaces: %s",
		               strerror(errno));
	return 0;
}

static int map_ports(struct sw *sw, const struct switch_config *cfg, char *err, size_t errlen)
{
	int *ifx = calloc(cfg->nports, sizeof(*ifx));
	sw->ifindex_of_host = calloc(sw->m->n, sizeof(*sw->ifindex_of_host));
	if (!ifx || !sw->ifindex_of_host) {
		free(ifx);
		return err_set(err, errlen, "allocating the port table: out of memory");
	}
	int ret = -1;
	uint32_t max = 0;
	for (uint32_t i = 0; i < cfg->nports; i++) {
		const struct switch_port *p = &cfg->ports[i];
		if (p->host >= (int64_t)sw->m->n) {
			err_set(err, errlen, "port %s: host %u is outside the model of %u hosts",
			        p->ifname, p->host, sw->m->n);
			goto out;
		}
		if (sw->ifindex_of_host[p->host]) {
			err_set(err, errlen, "port %s: host %u already has a port", p->ifname,
			        p->host);
			goto out;
		}
		ifx[i] = (int)if_nametoindex(p->ifname);
		if (!ifx[i]) {
			err_set(err, errlen, "looking up port %s in the hub: %s", p->ifname,
			        strerror(errno));
			goto out;
		}
		sw->ifindex_of_host[p->host] = ifx[i];
		if ((uint32_t)ifx[i] > max)
			max = (uint32_t)ifx[i];
	}
	sw->nifindex = max + 1;
	sw->host_of_ifindex = malloc(sw->nifindex * sizeof(*sw->host_of_ifindex));
	if (!sw->host_of_ifindex) {
		err_set(err, errlen, "allocating the port table: out of memory");
		goto out;
	}
	memset(sw->host_of_ifindex, 0xff, sw->nifindex * sizeof(*sw->host_of_ifindex));
	for (uint32_t i = 0; i < cfg->nports; i++)
		sw->host_of_ifindex[ifx[i]] = (int32_t)cfg->ports[i].host;
	ret = 0;
out:
	free(ifx);
	return ret;
}

static int sw_open(struct sw *sw, const struct switch_config *cfg, char *err, size_t errlen)
{
	if (!cfg->model || !cfg->nports)
		return err_set(err, errlen, "switch configuration has no model or no ports");
	sw->m = cfg->model;
	if (map_ports(sw, cfg, err, errlen) < 0)
		return -1;

	sw->nframes = cfg->max_frames ? cfg->max_frames : DEFAULT_MAX_FRAMES;
	/* Anonymous pages are zero and unbacked until touched, and the free
	 * list hands out recently used frames first, so memory follows the
	 * peak number of frames held, not the limit. */
	sw->pool_bytes = (sw->nframes + 1u) * sizeof(struct frame);
	sw->pool = mmap(NULL, sw->pool_bytes, PROT_READ | PROT_WRITE,
	                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (sw->pool == MAP_FAILED) {
		sw->pool = NULL;
		return err_set(err, errlen, "mapping %u frame buffers: %s", sw->nframes,
		               strerror(errno));
	}
	sw->free_ids = malloc(sw->nframes * sizeof(*sw->free_ids));
	sw->overflow = malloc((size_t)BATCH * OVERFLOW_BYTES);
	sw->q = dueq_new(sw->nframes);
	sw->sh = shaper_new(sw->m->n, cfg->seed);
	if (!sw->free_ids || !sw->overflow || !sw->q || !sw->sh)
		return err_set(err, errlen, "allocating switch state for %u hosts: out of memory",
		               sw->m->n);
	for (uint32_t i = 0; i < sw->nframes; i++)
		sw->free_ids[i] = sw->nframes - 1 - i;
	sw->nfree = sw->nframes;
	for (uint32_t i = 0; i < BATCH; i++)
		sw->rid[i] = RX_SLOT_EMPTY;

	sw->ep = epoll_create1(EPOLL_CLOEXEC);
	if (sw->ep < 0)
		return err_set(err, errlen, "creating the switch's epoll: %s", strerror(errno));
	if (open_socket(sw, err, errlen) < 0)
		return -1;
	struct epoll_event sev = {.events = EPOLLIN | EPOLLONESHOT, .data.fd = sw->fd};
	if (epoll_ctl(sw->ep, EPOLL_CTL_ADD, sw->fd, &sev) < 0)
		return err_set(err, errlen, "adding the switch socket to epoll: %s",
		               strerror(errno));
	return 0;
}

/* The frames the kernel dropped on the switch socket for want of room;
 * reading them resets the kernel's count. */
static void read_kernel_drops(struct sw *sw)
{
	struct tpacket_stats ks;
	socklen_t len = sizeof(ks);
	if (getsockopt(sw->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len) == 0)
		sw->st->drop_kernel += ks.tp_drops;
}

static void sw_close(struct sw *sw)
{
	if (sw->fd >= 0) {
		read_kernel_drops(sw);
		close(sw->fd);
	}
	if (sw->ep >= 0)
		close(sw->ep);
	if (sw->pool && sw->q) {
		uint64_t due;
		while (dueq_peek(sw->q, &due))
			frame_put(sw, dueq_pop(sw->q, &due));
	}
	if (sw->pool)
		munmap(sw->pool, sw->pool_bytes);
	dueq_free(sw->q);
	shaper_free(sw->sh);
	free(sw->free_ids);
	free(sw->overflow);
	free(sw->host_of_ifindex);
	free(sw->ifindex_of_host);
}

/* The switch's own CPU time and the kernel's drops into the counters, at
 * most every PUBLISH_NS: both are system calls, too dear for every wakeup. */
static void publish(struct sw *sw, uint64_t now)
{
	if (now < sw->publish_ns)
		return;
	struct timespec ts;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0) {
		sw->st->cpu_at_ns = now_ns();
		sw->st->cpu_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	}
	if (sw->fd >= 0)
		read_kernel_drops(sw);
	sw->publish_ns = now + PUBLISH_NS;
}

/* After a timer wakeup that was `late`, step the lead towards the median
 * lateness: the median ignores the rare wakeups that a busy host delays by
 * milliseconds, and it is the median RTT that has to come out right. */
static void learn_lead(struct sw *sw, uint64_t late)
{
	if (late > sw->lead_ns && sw->lead_ns + LEAD_STEP_NS <= MAX_LEAD_NS)
		sw->lead_ns += LEAD_STEP_NS;
	else if (late < sw->lead_ns)
		sw->lead_ns -= sw->lead_ns < LEAD_STEP_NS ? sw->lead_ns : LEAD_STEP_NS;
}

static int loop(struct sw *sw, volatile sig_atomic_t *stop, const sigset_t *waitmask, char *err,
                size_t errlen)
{
	int rx_due = 1;
	while (!*stop) {
		uint64_t now = now_ns();
		if (rx_due) {
			enum rx_result r = receive(sw);
			if (r == RX_ERROR)
				return err_set(err, errlen, "receiving frames from the ports: %s",
				               strerror(errno));
			sw->rx_poll_ns = 0;
			if (r == RX_MORE) {
				sw->rx_poll_ns = now;
			} else if (r == RX_DRAINED && now - sw->rx_last_ns < RX_COALESCE_NS) {
				sw->rx_poll_ns = now + RX_COALESCE_NS;
			} else if (watch_socket(sw) < 0)
				return err_set(err, errlen, "watching the switch socket: %s",
				               strerror(errno));
			if (r != RX_EMPTY)
				sw->rx_last_ns = now;
			now = now_ns();
		}
		release(sw, now + sw->lead_ns);
		publish(sw, now);
		arm(sw, now);
		/* Even with frames still waiting, go through epoll_pwait2 so a
		 * pending SIGTERM gets delivered. */
		int busy = sw->rx_poll_ns && sw->rx_poll_ns <= now;
		struct epoll_event ev[1];
		struct timespec wait = wait_for(sw, busy, now_ns());
		int n = epoll_pwait2(sw->ep, ev, 1, &wait, waitmask);
		if (n < 0 && errno != EINTR)
			return err_set(err, errlen, "waiting for frames: %s", strerror(errno));
		now = now_ns();
		rx_due = busy || n > 0;
		/* A timed wake: how late it came teaches the lead. */
		if (n == 0 && !busy && sw->wake_ns && now >= sw->wake_ns)
			learn_lead(sw, now - sw->wake_ns);
		/* While coalescing, read on every wakeup: being awake anyway,
		 * a read costs far less than a wakeup of its own. */
		if (sw->rx_poll_ns)
			rx_due = 1;
	}
	return 0;
}

int switch_run(const struct switch_config *cfg, volatile sig_atomic_t *stop, char *err,
               size_t errlen)
{
	struct sw *sw = calloc(1, sizeof(*sw));
	if (!sw)
		return err_set(err, errlen, "allocating the switch: out of memory");
	sw->fd = sw->ep = -1;
	sw->st = cfg->stats ? cfg->stats : &sw->own_stats;
	memset(sw->st, 0, sizeof(*sw->st));

	sigset_t block, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);

	int ret = sw_open(sw, cfg, err, errlen);
	if (ret == 0) {
		if (cfg->ready)
			cfg->ready(cfg->ready_arg);
		ret = loop(sw, stop, &waitmask, err, errlen);
	}
	sw->publish_ns = 0;
	publish(sw, 0);
	sw_close(sw);
	sigprocmask(SIG_SETMASK, &waitmask, NULL);

	char line[512];
	switch_stats_format(sw->st, line, sizeof(line));
	err_msg("switch: %s", line);
	free(sw);
	return ret;
}

/* The one definition of the line's keys, for writing and reading it. */
static const struct {
	const char *key;
	size_t off;
} summary_keys[] = {
#define KEY(f) #f, offsetof(struct switch_summary, f)
    {KEY(rx)},          {KEY(forwarded)},      {KEY(arp_replies)},  {KEY(drop_loss)},
    {KEY(drop_queue)},  {KEY(drop_partition)}, {KEY(drop_unknown)}, {KEY(drop_nobuf)},
    {KEY(drop_kernel)}, {KEY(tx_errors)},      {KEY(cpu_ms)},       {KEY(cpu_at_us)},
    {KEY(late_n)},      {KEY(late_p50_ns)},    {KEY(late_p99_ns)},  {KEY(late_max_ns)},
#undef KEY
};

static uint64_t *summary_field(struct switch_summary *s, size_t k)
{
	return (uint64_t *)((char *)s + summary_keys[k].off);
}

void switch_summarize(const struct switch_stats *st, struct switch_summary *out)
{
	*out = (struct switch_summary){
	    .rx = st->rx,
	    .forwarded = st->forwarded,
	    .arp_replies = st->arp_replies,
	    .drop_loss = st->drop_loss,
	    .drop_queue = st->drop_queue,
	    .drop_partition = st->drop_partition,
	    .drop_unknown = st->drop_unknown,
	    .drop_nobuf = st->drop_nobuf,
	    .drop_kernel = st->drop_kernel,
	    .tx_errors = st->tx_errors,
	    .cpu_ms = st->cpu_ns / 1000000u,
	    .cpu_at_us = st->cpu_at_ns / 1000u,
	    .late_n = st->late_ns.n,
	    .late_p50_ns = (uint64_t)hist_quantile(&st->late_ns, 0.5),
	    .late_p99_ns = (uint64_t)hist_quantile(&st->late_ns, 0.99),
	    .late_max_ns = st->late_ns.max,
	};
}

void switch_stats_format(const struct switch_stats *st, char *buf, size_t len)
{
	struct switch_summary s;
	switch_summarize(st, &s);
	size_t used = 0;
	if (len)
		*buf = 0;
	for (size_t k = 0; k < ARRAY_LEN(summary_keys) && used < len; k++) {
		int n = snprintf(buf + used, len - used, "%s%s=%llu", k ? " " : "",
		                 summary_keys[k].key, (unsigned long long)*summary_field(&s, k));
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

int switch_stats_parse(const char *line, struct switch_summary *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t k = 0; k < ARRAY_LEN(summary_keys); k++) {
		size_t kl = strlen(summary_keys[k].key);
		const char *p = line;
		/* The key at the start of the line or after a space. */
		while ((p = strstr(p, summary_keys[k].key)) &&
		       ((p != line && p[-1] != ' ') || p[kl] != '='))
			p += kl;
		if (!p)
			return -1;
		char *end;
		errno = 0;
		unsigned long long v = strtoull(p + kl + 1, &end, 10);
		if (errno || end == p + kl + 1)
			return -1;
		*summary_field(out, k) = v;
	}
	return 0;
}
