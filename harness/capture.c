#include "harness/capture.h"

#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netns/testbed.h"

/* Kernel ring for the capture: a second of a few hundred peers' traffic, so
 * a burst while the file is being written is not dropped. */
#define CAPTURE_BUFFER_BYTES (64 << 20)
/* Frames come from the kernel's ring a block at a time (TPACKET_V3), when
 * the block is full or this long after its first frame: one wake-up for
 * many frames, where immediate mode woke the thread for every frame (some
 * 18,000 a second with 200 peers, a good part of a core on this kind of
 * machine, taken from the peers the run measures). Also the upper bound on
 * how long the thread waits before it looks at the stop flag again, should
 * the wake-up from pcap_breakloop() be missed. */
#define CAPTURE_TIMEOUT_MS 100
#define PCAP_FILE_HDR 24u
#define PCAP_REC_HDR 16u
#define SLL2_IFINDEX_OFF 4

struct capture {
	pthread_t thread;
	sem_t ready; /* posted once setup in the hub succeeded or failed */
	int setup_rc;
	atomic_int stop;

	char *hub_ns;
	char *out_path;
	char *filter;
	int snaplen;
	uint64_t max_bytes;

	pcap_t *pcap;
	pcap_dumper_t *dump;
	int *bridges; /* ifindexes of the hub's bridge devices */
	size_t nbridges;
	struct capture_stats st;
	char err[512];
};

static int is_bridge(int sock, const char *ifname)
{
	struct ethtool_drvinfo info = {.cmd = ETHTOOL_GDRVINFO};
	struct ifreq ifr = {.ifr_data = (char *)&info};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(sock, SIOCETHTOOL, &ifr))
		return 0;
	return strcmp(info.driver, "bridge") == 0;
}

/* The bridges of the namespace the calling thread is in. */
static int find_bridges(struct capture *c)
{
	struct if_nameindex *ifs = if_nameindex();
	if (!ifs) {
		err_set(c->err, sizeof(c->err), "list interfaces of namespace %s: %s", c->hub_ns,
		        strerror(errno));
		return -1;
	}
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		err_set(c->err, sizeof(c->err), "open ioctl socket in namespace %s: %s", c->hub_ns,
		        strerror(errno));
		if_freenameindex(ifs);
		return -1;
	}
	size_t n = 0;
	while (ifs[n].if_index)
		n++;
	int rc = 0;
	c->bridges = calloc(n ? n : 1, sizeof(*c->bridges));
	if (!c->bridges) {
		err_set(c->err, sizeof(c->err), "list bridges of namespace %s: out of memory",
		        c->hub_ns);
		rc = -1;
	}
	for (size_t i = 0; !rc && i < n; i++)
		if (is_bridge(sock, ifs[i].if_name))
			c->bridges[c->nbridges++] = (int)ifs[i].if_index;
	close(sock);
	if_freenameindex(ifs);
	return rc;
}

static int entered_by_bridge(const struct capture *c, const uint8_t *frame, uint32_t caplen)
{
	if (caplen < SLL2_IFINDEX_OFF + 4)
		return 0;
	const uint8_t *p = frame + SLL2_IFINDEX_OFF;
	int ifindex =
	    (int)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
	for (size_t i = 0; i < c->nbridges; i++)
		if (c->bridges[i] == ifindex)
			return 1;
	return 0;
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture *c = (struct capture *)user;
	if (entered_by_bridge(c, bytes, h->caplen))
		return;
	uint64_t rec = PCAP_REC_HDR + h->caplen;
	if (c->max_bytes && c->st.bytes + rec > c->max_bytes) {
		c->st.capped++;
		return;
	}
	pcap_dump((u_char *)c->dump, h, bytes);
	c->st.packets++;
	c->st.bytes += rec;
}

static int pcap_fail(struct capture *c, const char *what)
{
	err_set(c->err, sizeof(c->err), "%s on device \"any\" in namespace %s: %s", what, c->hub_ns,
	        pcap_geterr(c->pcap));
	return -1;
}

static int setup(struct capture *c)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	if (testbed_enter_ns(c->hub_ns, c->err, sizeof(c->err)))
		return -1;
	if (find_bridges(c))
		return -1;
	c->pcap = pcap_create("any", ebuf);
	if (!c->pcap) {
		err_set(c->err, sizeof(c->err),
		        "create capture on device \"any\" in namespace %s: %s", c->hub_ns, ebuf);
		return -1;
	}
	if (pcap_set_snaplen(c->pcap, c->snaplen) ||
	    pcap_set_timeout(c->pcap, CAPTURE_TIMEOUT_MS) ||
	    pcap_set_buffer_size(c->pcap, CAPTURE_BUFFER_BYTES))
		return pcap_fail(c, "set capture options");
	int rc = pcap_activate(c->pcap);
	if (rc < 0)
		return pcap_fail(c, "activate capture");
	if (pcap_set_datalink(c->pcap, DLT_LINUX_SLL2))
		return pcap_fail(c, "select link type LINUX_SLL2");
	if (pcap_setdirection(c->pcap, PCAP_D_IN))
		return pcap_fail(c, "capture inbound frames only");
	struct bpf_program prog;
	if (pcap_compile(c->pcap, &prog, c->filter, 1, PCAP_NETMASK_UNKNOWN)) {
		char what[300];
		snprintf(what, sizeof(what), "compile filter \"%s\"", c->filter);
		return pcap_fail(c, what);
	}
	rc = pcap_setfilter(c->pcap, &prog);
	pcap_freecode(&prog);
	if (rc)
		return pcap_fail(c, "install filter");
	c->dump = pcap_dump_open(c->pcap, c->out_path);
	if (!c->dump) {
		err_set(c->err, sizeof(c->err), "open capture file of namespace %s: %s", c->hub_ns,
		        pcap_geterr(c->pcap));
		return -1;
	}
	/* libpcap opens both without O_CLOEXEC; peers exec'd by the harness
	 * would keep the socket, and with it the ring filling with frames,
	 * alive after the capture ends. */
	if (fcntl(pcap_get_selectable_fd(c->pcap), F_SETFD, FD_CLOEXEC) ||
	    fcntl(fileno(pcap_dump_file(c->dump)), F_SETFD, FD_CLOEXEC)) {
		err_set(c->err, sizeof(c->err), "set close-on-exec on capture in namespace %s: %s",
		        c->hub_ns, strerror(errno));
		return -1;
	}
	c->st.bytes = PCAP_FILE_HDR;
	return 0;
}

static void *capture_main(void *arg)
{
	struct capture *c = arg;
	c->setup_rc = setup(c);
	sem_post(&c->ready);
	if (c->setup_rc)
		return NULL;
	while (!atomic_load(&c->stop)) {
		if (pcap_dispatch(c->pcap, -1, on_frame, (u_char *)c) == PCAP_ERROR) {
			pcap_fail(c, "read frames");
			return NULL;
		}
	}
	/* Frames the kernel queued before the stop belong to the run: once
	 * the kernel handed over the last block, partly filled (a block
	 * timeout later), one non-blocking pass reads them all, after the call
	 * that only consumes the pending breakloop request. */
	struct timespec ts = {0, (CAPTURE_TIMEOUT_MS + 50) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	char ebuf[PCAP_ERRBUF_SIZE];
	if (pcap_setnonblock(c->pcap, 1, ebuf)) {
		err_set(c->err, sizeof(c->err), "drain capture in namespace %s: %s", c->hub_ns,
		        ebuf);
		return NULL;
	}
	int n;
	do
		n = pcap_dispatch(c->pcap, -1, on_frame, (u_char *)c);
	while (n == PCAP_ERROR_BREAK);
	if (n == PCAP_ERROR)
		pcap_fail(c, "drain frames");
	return NULL;
}

static void capture_free(struct capture *c)
{
	if (c->dump)
		pcap_dump_close(c->dump);
	if (c->pcap)
		pcap_close(c->pcap);
	sem_destroy(&c->ready);
	free(c->bridges);
	free(c->hub_ns);
	free(c->out_path);
	free(c->filter);
	free(c);
}

struct capture *capture_start(const char *hub_ns, const char *out_path, int snaplen,
                              const char *bpf_filter, uint64_t max_bytes, char *err, size_t errlen)
{
	struct capture *c = calloc(1, sizeof(*c));
	if (!c || sem_init(&c->ready, 0, 0)) {
		err_set(err, errlen, "start capture in namespace %s: out of memory", hub_ns);
		free(c);
		return NULL;
	}
	c->hub_ns = strdup(hub_ns);
	c->out_path = strdup(out_path);
	c->filter = strdup(bpf_filter ? bpf_filter : CAPTURE_FILTER_DEFAULT);
	c->snaplen = snaplen;
	c->max_bytes = max_bytes;
	if (!c->hub_ns || !c->out_path || !c->filter) {
		err_set(err, errlen, "start capture in namespace %s: out of memory", hub_ns);
		capture_free(c);
		return NULL;
	}

	/* Signals stay with the harness's main thread; the capture thread
	 * inherits a mask that blocks them all. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&c->thread, NULL, capture_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		err_set(err, errlen, "start capture thread for namespace %s: %s", hub_ns,
		        strerror(rc));
		capture_free(c);
		return NULL;
	}
	while (sem_wait(&c->ready) && errno == EINTR)
		;
	if (c->setup_rc) {
		pthread_join(c->thread, NULL);
		err_set(err, errlen, "%s", c->err);
		capture_free(c);
		return NULL;
	}
	return c;
}

int capture_stop(struct capture *c, struct capture_stats *stats, char *err, size_t errlen)
{
	atomic_store(&c->stop, 1);
	pcap_breakloop(c->pcap);
	pthread_join(c->thread, NULL);

	struct pcap_stat ps;
	if (pcap_stats(c->pcap, &ps) == 0)
		c->st.kernel_drops = ps.ps_drop;
	else if (!c->err[0])
		pcap_fail(c, "read capture statistics");
	/* pcap_dump() reports no write error; the stream remembers one. */
	if (pcap_dump_flush(c->dump) && !c->err[0])
		err_set(c->err, sizeof(c->err), "write capture file %s: %s", c->out_path,
		        strerror(errno));
	else if (ferror(pcap_dump_file(c->dump)) && !c->err[0])
		err_set(c->err, sizeof(c->err),
		        "write capture file %s: a write failed during the run", c->out_path);
	if (stats)
		*stats = c->st;
	int rc = c->err[0] ? -1 : 0;
	if (rc)
		err_set(err, errlen, "%s", c->err);
	capture_free(c);
	return rc;
}
