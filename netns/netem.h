/* The netem shaping backend: the link model realized with kernel qdiscs,
 * configured through libnl, one source host at a time.
 *
 * On the host's eth0 (what the host sends):
 *
 *   1:     htb root, default 1:1
 *   1:1    the upload access link: rate = ceil = upload rate
 *   2:     htb under 1:1, default 2:1
 *   2:1    unmatched traffic (ARP, addresses outside the testbed), no netem
 *   2:X    one class per destination group, unlimited, X = NETEM_GROUP_MINOR + slot,
 *          with a netem leaf X: holding the group's delay, jitter, loss and limit
 *   u32    on 2:, prio NETEM_FILTER_PRIO: hash table 1: of 256 buckets keyed on the last
 *          byte of the destination address, linked from 800:: for 10.77.0.0/16; one
 *          node per destination steers it to its group's class.
 *
 * On the hub end p<i> (what the host receives): htb root 1: default 1:1, class 1:1 at the
 * download rate with a bfifo leaf 2: holding the queue limit.
 *
 * A group is every destination sharing (delay, jitter, loss) from this host; partitioned
 * destinations share one group whose netem drops everything. The groups hang below 1:1
 * instead of each carrying the upload rate because HTB lets a class send on its own
 * tokens without asking its parent: k sibling classes at the upload rate would let the
 * host send k times its upload rate.
 *
 * Layers: netem_plan_build() is pure (model -> integers), netem_batch_build() turns plans
 * into netlink messages without a kernel, netem_batch_send() sends them. netem_host ties
 * the three together for the testbed.
 */
#ifndef ANYSEE_NETEM_H
#define ANYSEE_NETEM_H

#include <stddef.h>
#include <stdint.h>

#include "netns/linkmodel.h"

struct nl_cache;
struct nl_msg;
struct nl_sock;

/* Packet size assumed when a byte budget becomes a packet count, and the HTB quantum. */
#define NETEM_MTU 1500u
/* The rate of "unlimited" classes (model rate 0, and every group class). */
#define NETEM_UNLIMITED_BPS 10000000000ull
/* Model rates are clamped into this range: below it the HTB burst time no longer fits
 * the kernel's 32-bit tick count, above it the burst no longer fits libnl's int. */
#define NETEM_MIN_RATE_BPS 8000ull
#define NETEM_MAX_RATE_BPS 1000000000000ull
/* libnl sends delay and jitter as 32-bit psched ticks (64 ns each on current kernels,
 * wrapping after 274 s); longer values are clamped to this. */
#define NETEM_MAX_DELAY_US 60000000u
#define NETEM_MAX_LIMIT 0x7fffffffu

#define NETEM_FILTER_PRIO 1u
#define NETEM_GROUP_MINOR 0x10u
/* Leaf majors equal the class minor and must stay below ffff:. */
#define NETEM_MAX_GROUPS (0xfff0u - NETEM_GROUP_MINOR)
/* u32 hash table holding the destination nodes (1:) and the link node in 800::. */
#define NETEM_HT_ID 0x001u
#define NETEM_HT_BUCKETS 256u
#define NETEM_LINK_NODE 0x80000001u

/* tc handles of the layout above (major in the high 16 bits). */
#define NETEM_UP_ROOT 0x00010000u
#define NETEM_UP_LINK 0x00010001u
#define NETEM_UP_INNER 0x00020000u
#define NETEM_UP_DEFAULT 0x00020001u
#define NETEM_DOWN_ROOT 0x00010000u
#define NETEM_DOWN_LINK 0x00010001u
#define NETEM_DOWN_FIFO 0x00020000u

struct netem_group {
	uint32_t slot;      /* stable across updates; class and leaf derive from it */
	uint32_t classid;   /* 2:(NETEM_GROUP_MINOR + slot) */
	uint32_t leaf;      /* (NETEM_GROUP_MINOR + slot):0 */
	int blocked;        /* partitioned destinations: loss is UINT32_MAX */
	uint32_t delay_us;  /* one-way delay of the path */
	uint32_t jitter_us; /* netem's jitter: half-width of its uniform spread */
	uint32_t loss;      /* probability as a fraction of UINT32_MAX */
	uint32_t limit;     /* netem queue in packets */
	uint32_t ndst;      /* destinations steered here */
};

struct netem_filter {
	uint32_t dst;     /* destination host index */
	uint32_t ip;      /* its address, host byte order */
	uint32_t handle;  /* u32 node 1:bucket:node */
	uint32_t classid; /* the group's class */
};

struct netem_plan {
	uint32_t host;
	uint32_t nhosts;
	uint64_t up_rate;    /* bytes/s of class 1:1 on eth0 */
	uint32_t up_burst;   /* bytes */
	uint64_t down_rate;  /* bytes/s of class 1:1 on p<host> */
	uint32_t down_burst; /* bytes */
	uint32_t down_limit; /* bfifo bytes */
	uint32_t ngroups;
	struct netem_group *group; /* ordered by slot */
	uint32_t nfilters;
	struct netem_filter *filter; /* ordered by destination */
};

/* Loss probability (clamped to [0,1]) as netem's fraction of UINT32_MAX, rounded. */
uint32_t netem_loss_u32(double p);
/* netem spreads delay uniformly over +-jitter when given no distribution table; this
 * returns the half-width whose spread has the model's standard deviation (sd * sqrt 3). */
uint32_t netem_jitter_us(uint32_t sd_us);
/* Model bits/s (0 = unlimited) as the HTB rate in bytes/s. */
uint64_t netem_rate(uint64_t bps);
/* HTB burst in bytes: one packet plus 1 ms at the rate, so HTB needs no timer per packet
 * at high rates while bursts stay within a millisecond of line time. */
uint32_t netem_burst(uint64_t rate);
/* netem holds packets for their whole delay in the same queue its limit bounds, so the
 * limit is the queue plus what the link carries during the longest delay. */
uint32_t netem_limit_pkts(uint64_t rate, uint32_t max_delay_us, uint32_t queue_bytes);

/* Plan host's qdiscs. With prev (an earlier plan of the same host and model size),
 * groups whose (delay, jitter, loss) survive keep their slot and new groups take free
 * slots first, so an update only touches what changed. */
int netem_plan_build(const struct linkmodel *m, uint32_t host, const struct netem_plan *prev,
                     struct netem_plan *out, char *err, size_t errlen);
void netem_plan_free(struct netem_plan *p);

enum netem_side { NETEM_ON_HOST, NETEM_ON_HUB };

struct netem_req {
	struct nl_msg *msg;
	enum netem_side side;
	const char *op;   /* "add", "change", "delete" */
	const char *kind; /* its TCA_KIND: "htb", "netem", "bfifo", "u32"; "" in deletes */
	char obj[48];     /* what the message touches, for error lines */
	int absent_ok;    /* a delete of what a fresh interface does not have */
};

struct netem_batch {
	uint32_t host;
	size_t n, cap;
	struct netem_req *req;
};

/* Messages turning the state of old into new; old NULL means install from scratch
 * (delete whatever root qdiscs exist, then create everything).
 *
 * Updates change objects in place instead of deleting and recreating the root: a root
 * delete drops every packet held in the delay lines and leaves the host unshaped until
 * the rebuild ends, a visible artifact in a streaming run. In place, netem keeps the send
 * time it stamped on queued packets, so only later packets see the new values. Added
 * groups get class and leaf, groups whose slot was recycled get their leaf changed,
 * destinations that changed group get their u32 node replaced (the kernel keeps the
 * node's match and swaps its class), then vanished groups' classes are deleted. */
int netem_batch_build(const struct netem_plan *old, const struct netem_plan *new, int host_ifindex,
                      int hub_ifindex, struct netem_batch *out, char *err, size_t errlen);
void netem_batch_free(struct netem_batch *b);

/* Send in order, each waiting for the kernel's ack; stops at the first error and does
 * not roll back. host_sk must be connected inside the host's namespace, hub_sk inside
 * the hub's; two threads must not send on one socket at once. */
int netem_batch_send(const struct netem_batch *b, struct nl_sock *host_sk, struct nl_sock *hub_sk,
                     char *err, size_t errlen);

/* One host's shaping: the first apply installs, later applies update. After a failed
 * apply the kernel state is unknown, so the next apply installs again. The sockets stay
 * owned by the caller. */
struct netem_host;
struct netem_host *netem_host_new(uint32_t host, struct nl_sock *host_sk, int host_ifindex,
                                  struct nl_sock *hub_sk, int hub_ifindex, char *err,
                                  size_t errlen);
int netem_host_apply(struct netem_host *h, const struct linkmodel *m, char *err, size_t errlen);
const struct netem_plan *netem_host_plan(const struct netem_host *h);
void netem_host_free(struct netem_host *h);

/* ---- kernel counters ----------------------------------------------------
 *
 * What the qdiscs counted, summed over hosts and over the run. netem counts a packet its
 * random loss drops and one its full queue (the limit) drops alike, as qdisc drops (and
 * HTB counts both again in the class above), so within one leaf the two cannot be told
 * apart. What tells them apart is where a drop happened: the leaf of a path without loss
 * can only overflow (upload queue), as can the default class's fifo; the leaf of
 * partitioned destinations drops everything (partition); the hub end's bfifo only
 * overflows (download queue). Drops in the leaf of a lossy path are its random loss plus
 * any overflow of its upload queue. */
struct netem_counters {
	uint64_t packets, bytes; /* sent by the upload leaves: past loss and queue */
	uint64_t loss_packets;   /* of them, by leaves of lossy paths */
	uint64_t drop_loss;      /* dropped by leaves of lossy paths */
	uint64_t drop_upload;    /* by leaves of lossless paths and the default class */
	uint64_t drop_download;  /* by the hub ends' bfifos */
	uint64_t drop_partition; /* by leaves of partitioned destinations */
	uint64_t overlimits;     /* times an HTB class was throttled by its rate, both ends */
	uint64_t qlen, backlog;  /* packets and bytes held in the leaves when read */
};

/* One qdisc's or class's counters as the kernel reports them. */
struct netem_tc_count {
	enum netem_side side;
	int is_class;
	uint32_t parent, handle;
	uint64_t packets, bytes, drops, overlimits, qlen, backlog;
};

/* Add c, read from the objects plan p made, to sum by what its drops mean. Objects
 * counted elsewhere (HTB qdiscs, whose drops repeat their children's) add nothing. */
void netem_counters_add(const struct netem_plan *p, const struct netem_tc_count *c,
                        struct netem_counters *sum);
/* The counters as one line of key=value pairs, as struct netem_counters names them. */
void netem_counters_format(const struct netem_counters *c, char *buf, size_t len);
/* A line of netem_counters_format back; -1 when a key is missing (another backend's). */
int netem_counters_parse(const char *line, struct netem_counters *out);

/* The counters of interface ifindex's classes, dumped through sk, and of its qdiscs,
 * found in qdiscs (an rtnl_qdisc cache of sk's namespace) or dumped when it is NULL;
 * *out is malloc'ed. */
int netem_tc_read(struct nl_sock *sk, enum netem_side side, int ifindex, struct nl_cache *qdiscs,
                  struct netem_tc_count **out, size_t *n, char *err, size_t errlen);

/* Add host h's counters since its first apply to sum: its eth0 objects, and its hub end's
 * among hub_qdiscs (an rtnl_qdisc cache of the hub) and classes. Counters of objects an
 * update deleted or changed in meaning were taken before the update (netem_host_apply),
 * each under the plan it counted for. */
int netem_host_counters(struct netem_host *h, struct nl_cache *hub_qdiscs,
                        struct netem_counters *sum, char *err, size_t errlen);

/* Whether the kernel has sch_netem: adds a netem qdisc to lo in a scratch network
 * namespace entered by a short-lived thread (the namespace dies with it). 1 yes, 0 no,
 * -1 could not tell; reason says why either way. */
int netem_kernel_probe(char *reason, size_t len);

#endif
