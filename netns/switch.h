/* The userspace shaping switch: the hub of the `userspace` backend.
 *
 * It runs inside the hub namespace and forwards Ethernet frames among the
 * hub ends of the host veths, holding each frame as the link model says
 * (netns/shaper.h has the queueing semantics). Frames go to the port of the
 * host owning the destination MAC (02:a5:ee:00:hi:lo of host+1, see
 * netns/testbed.h); the port a frame came in on names its sender.
 *
 * - ARP requests are answered by the switch itself, at once and outside the
 *   model, for any testbed host that has a port. Other broadcast and
 *   multicast is dropped, so IPv6 neighbour discovery does not work.
 * - Checksum offload and GSO frames pass through unchanged (virtio-net
 *   headers on the socket). A GSO frame would take one loss draw, as in
 *   netem, so the testbed creates each host's eth0 with gso_max_segs 1
 *   (netns/testbed.c): the hosts' TCP sends one segment per frame, and
 *   every frame here is one wire frame with its own draw.
 * - One AF_PACKET socket, unbound, reads every port with recvmmsg and sends
 *   with sendmmsg. A TPACKET_V3 ring hands frames over only when a block
 *   retires (1 ms timer at best), too coarse for the delay bar, and frames
 *   are held for milliseconds anyway, so they would be copied out of a ring.
 * - Arrival times are kernel receive timestamps. A due frame leaves when a
 *   wait for events times out, aimed early by the median lateness of past
 *   wakeups, so frames leave on time in the median. Under load the socket
 *   is read every 100 us instead of on every frame.
 * - Sent frames bypass the qdisc layer and with it the taps, so a capture on
 *   the hub sees every frame once, as it enters the switch.
 */
#ifndef ANYSEE_SWITCH_H
#define ANYSEE_SWITCH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/hist.h"
#include "netns/linkmodel.h"

struct switch_port {
	const char *ifname; /* hub end, e.g. "p3" */
	uint32_t host;      /* index in the model */
};

/* Counters, updated as frames pass; point them into shared memory to
 * watch a running switch from another process (no pointers inside). */
struct switch_stats {
	uint64_t rx;             /* frames received from ports */
	uint64_t forwarded;      /* frames sent to their destination */
	uint64_t arp_replies;    /* ARP requests answered by the switch */
	uint64_t drop_loss;      /* random loss of the model */
	uint64_t drop_queue;     /* uplink or downlink queue full */
	uint64_t drop_partition; /* sender and receiver in different partitions */
	uint64_t drop_unknown;   /* no port owns the destination; non-ARP broadcast */
	uint64_t drop_nobuf;     /* switch out of frame buffers, or frame too large */
	uint64_t drop_kernel;    /* socket receive buffer overflowed (read every 10 ms) */
	uint64_t tx_errors;      /* sendmmsg refused a frame */
	uint64_t cpu_ns;         /* the switch's CPU time, user and system, every 10 ms */
	/* When cpu_ns was read (CLOCK_MONOTONIC): a reader times the figure
	 * by this, not by when it looked, since the switch publishes only
	 * when it wakes. Written before cpu_ns without a lock: a reader that
	 * comes in between pairs a time with the previous figure, at most one
	 * publish period (10 ms of CPU) off. */
	uint64_t cpu_at_ns;
	/* Release lateness of forwarded frames in ns: when sendmmsg was called
	 * minus when the model had the frame leave. A frame the switch sends
	 * early (it aims by the median timer lateness) counts as 0. */
	struct hist late_ns;
};

/* The counters as switch_stats_format writes them, and switch_stats_parse
 * reads them back in another process: lateness as quantiles. */
struct switch_summary {
	uint64_t rx, forwarded, arp_replies;
	uint64_t drop_loss, drop_queue, drop_partition, drop_unknown, drop_nobuf, drop_kernel;
	uint64_t tx_errors;
	uint64_t cpu_ms;
	uint64_t cpu_at_us; /* CLOCK_MONOTONIC when cpu_ms was read */
	uint64_t late_n, late_p50_ns, late_p99_ns, late_max_ns;
};

struct switch_config {
	const struct switch_port *ports;
	uint32_t nports;
	/* Read for every frame, so changes by the harness apply to the next
	 * frame; it must outlive switch_run. */
	const struct linkmodel *model;
	uint64_t seed;
	uint32_t max_frames;        /* frames held at once; 0 = 65536 */
	struct switch_stats *stats; /* optional, zeroed by switch_run */
	/* Optional: called once every port is being read, so a caller can hold
	 * traffic back until then (a frame sent earlier is lost). */
	void (*ready)(void *arg);
	void *ready_arg;
};

/* Forward until *stop becomes nonzero. SIGTERM and SIGINT are blocked
 * except while waiting, so a handler that sets *stop wakes the loop at
 * once; a stop set any other way is noticed within 100 ms. Prints the
 * counters on one line to stderr on exit. Returns 0 after a stop, or -1 with
 * err naming what failed. */
int switch_run(const struct switch_config *cfg, volatile sig_atomic_t *stop, char *err,
               size_t errlen);

void switch_summarize(const struct switch_stats *st, struct switch_summary *out);
/* The counters as one line of key=value pairs, as switch_summary names them. */
void switch_stats_format(const struct switch_stats *st, char *buf, size_t len);
/* A line of switch_stats_format back into a summary; -1 when a key is
 * missing (a line of another backend). */
int switch_stats_parse(const char *line, struct switch_summary *out);

#endif
