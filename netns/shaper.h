/* The queueing math of the userspace shaping switch, free of I/O.
 *
 * A frame from host a to host b crosses three stages:
 *   1. a's uplink: a FIFO queue drained at up_bps (shaper_ingress);
 *   2. the path: one-way delay a->b plus jitter, with loss and partitions
 *      (also shaper_ingress, which returns when the frame reaches b's access
 *      link);
 *   3. b's downlink: a FIFO queue drained at down_bps (shaper_egress).
 * Stage 3 must run in the order frames reach b, not the order they left
 * their senders (a far sender's frame must not hold up a near one), so the
 * caller keeps frames in a due queue between the two calls and calls
 * shaper_egress when a frame's stage-2 time comes.
 *
 * Semantics, chosen to match the kernel netem backend where it matters:
 * - Sizes are what HTB and netem count (qdisc_pkt_len): the Ethernet frame
 *   from destination MAC to the end of the payload, without preamble, FCS or
 *   inter-frame gap. A GSO frame counts as the segments it becomes.
 * - A queue holds the bytes not yet serialised. A frame is dropped when
 *   those plus its own exceed the limit (queue_bytes, or the default); a
 *   frame arriving at an idle link is always taken. Unlimited rate (0)
 *   means no serialisation and no queue.
 * - Loss and partitions act after the uplink (the sender did transmit);
 *   one loss draw per frame, with the path loss of both access links.
 * - Delay: delay + N(0, jitter), truncated so the total is never negative.
 *   Frames of one pair never overtake each other: a frame whose draw would
 *   land before its predecessor leaves with it instead. netem reorders
 *   jittered frames unless a rate is set; we keep FIFO always because real
 *   paths rarely reorder and TCP misreads reordering as loss.
 * Times are nanoseconds on any clock that only moves forward.
 */
#ifndef ANYSEE_SHAPER_H
#define ANYSEE_SHAPER_H

#include <stdint.h>

#include "netns/linkmodel.h"

enum shaper_verdict {
	SHAPER_PASS = 0,
	SHAPER_DROP_QUEUE,
	SHAPER_DROP_LOSS,
	SHAPER_DROP_PARTITION,
};

struct shaper;

/* State for hosts 0..n-1 and a PRNG seeded with seed; NULL when out of
 * memory. The per-pair state is n*n words, touched only for pairs used. */
struct shaper *shaper_new(uint32_t n, uint64_t seed);
void shaper_free(struct shaper *s);

/* Stages 1 and 2 for a frame of wire bytes from src to dst arriving at
 * now_ns; on SHAPER_PASS, *due_ns is when it reaches dst's downlink. */
enum shaper_verdict shaper_ingress(struct shaper *s, const struct linkmodel *m, uint32_t src,
                                   uint32_t dst, uint32_t wire, uint64_t now_ns, uint64_t *due_ns);

/* Stage 3, called in due order at at_ns (the due time from shaper_ingress);
 * on SHAPER_PASS, *depart_ns is when the frame leaves towards dst. */
enum shaper_verdict shaper_egress(struct shaper *s, const struct linkmodel *m, uint32_t dst,
                                  uint32_t wire, uint64_t at_ns, uint64_t *depart_ns);

/* Bytes a frame of len bytes (Ethernet header included) occupies on a link.
 * For a GSO frame (gso_size > 0) each segment after the first repeats the
 * hdr_len bytes of headers, as qdisc_pkt_len_init counts it. */
uint32_t shaper_wire_bytes(uint32_t len, uint32_t gso_size, uint32_t hdr_len);

/* A due-time priority queue of frame ids (binary heap). Equal due times pop
 * in push order, so frames due together keep their order. */
struct dueq;

/* Room for cap entries; NULL when out of memory. */
struct dueq *dueq_new(uint32_t cap);
void dueq_free(struct dueq *q);
/* -1 when full. */
int dueq_push(struct dueq *q, uint64_t due_ns, uint32_t id);
/* 1 and the earliest due time in *due_ns, or 0 when empty. */
int dueq_peek(const struct dueq *q, uint64_t *due_ns);
/* Remove the earliest entry (the queue must not be empty). */
uint32_t dueq_pop(struct dueq *q, uint64_t *due_ns);
uint32_t dueq_len(const struct dueq *q);

#endif
