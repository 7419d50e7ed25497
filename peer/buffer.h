/* Buffer manager: the segment store of one stream, its playback deadlines
 * and continuity accounting. It only stores and accounts; which segment to
 * fetch from whom is the single overlay manager's choice (overlay.h).
 *
 * Segments live in a ring of `capacity` slots indexed by sequence number;
 * a slot holding a sequence older than newest - capacity is outdated and
 * is reused. Playback: once started at sequence `start` at time t0, the
 * deadline of sequence s is t0 + (s - start) * period.
 */
#ifndef ANYSEE_BUFFER_H
#define ANYSEE_BUFFER_H

#include <stdint.h>

#include "peer/wire.h"

struct segment {
	uint32_t seq;
	uint64_t origin_us;
	uint64_t arrival_us;
	uint32_t checksum;
	uint16_t len;
	uint8_t hops;
	uint8_t valid;
	uint8_t data[WIRE_SEG_PAYLOAD_MAX];
};

struct buffer_stats {
	uint64_t due;     /* segments whose deadline passed since playback start */
	uint64_t on_time; /* of those, present at their deadline */
	uint64_t received;
	uint64_t duplicates;
	uint64_t late; /* arrived after their deadline */
};

struct buffer {
	struct segment *slot;
	uint32_t capacity;
	uint64_t period_us;
	int have_any;
	uint32_t newest;
	int playing;
	uint32_t start_seq;
	uint64_t play_t0_us;
	uint32_t next_due; /* first sequence whose deadline has not passed */
	struct buffer_stats st;
};

/* capacity_s seconds of a stream of rate_bps in full segments. */
int buffer_init(struct buffer *b, uint64_t rate_bps, uint64_t capacity_us);
void buffer_free(struct buffer *b);

/* Store a segment. Returns 1 stored, 0 duplicate or outdated (ignored). */
int buffer_put(struct buffer *b, const struct wire_seg_data *sd, uint64_t now_us);
const struct segment *buffer_get(const struct buffer *b, uint32_t seq);
int buffer_has(const struct buffer *b, uint32_t seq);
/* Oldest sequence still kept (newest - capacity + 1, or 0). */
uint32_t buffer_oldest(const struct buffer *b);

/* Number of consecutive segments present from seq. */
uint32_t buffer_run_from(const struct buffer *b, uint32_t seq);

void buffer_start_playback(struct buffer *b, uint32_t start_seq, uint64_t now_us);
uint64_t buffer_deadline(const struct buffer *b, uint32_t seq);
/* Account every segment whose deadline is <= now; calls fn for each with
 * whether it was on time. Returns how many became due. */
uint32_t buffer_advance(struct buffer *b, uint64_t now_us,
                        void (*fn)(void *arg, uint32_t seq, int on_time), void *arg);

/* Fill a buffer map of the held window (at most WIRE_MAX_MAP_BITS). */
void buffer_fill_map(const struct buffer *b, struct wire_buffer_map *m);

#endif
