/* Buffer manager: the segment store of one stream, its playback deadlines
 * and continuity accounting. It only stores and accounts; which segment to
 * fetch from whom is the single overlay manager's choice (overlay.h).
 *
 * Segments live in a ring of `capacity` slots indexed by sequence number;
 * a slot holding a sequence older than newest - capacity is outdated and
 * is reused. Playback: once started at sequence `start` at time t0, the
 * deadline of sequence s is t0 + (s - start) * period.
 *
 * Sequence window: once anchored (at the chosen start, then at the next
 * segment due), the buffer takes only sequences in [anchor, anchor +
 * capacity): one beyond would evict segments still to be played, so a
 * single forged far-ahead sequence cannot make every real one look
 * outdated. Sequences compare as serial numbers (seq_lt in wire.h).
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
	uint64_t on_time; /* of those, arrived by their deadline */
	uint64_t received;
	uint64_t duplicates;
	uint64_t late;          /* arrived after their deadline */
	uint64_t out_of_window; /* outside the sequence window: dropped */
};

struct buffer {
	struct segment *slot;
	uint32_t capacity;
	uint64_t period_us;
	int have_any;
	uint32_t newest;
	int anchored; /* the sequence window applies */
	uint32_t anchor;
	int playing;
	uint32_t start_seq;
	uint64_t play_t0_us;
	uint32_t next_due; /* first sequence whose deadline has not passed */
	struct buffer_stats st;
};

/* The ring's upper bound: serial comparison needs it far below 2^31, and
 * 2^16 segments hold 120 s up to about 5.7 Mbit/s, above the paper's top
 * stream rate of 800 kbit/s. */
#define BUFFER_MAX_SEGMENTS 65536u

/* capacity_us of a stream of rate_bps in full segments. */
int buffer_init(struct buffer *b, uint64_t rate_bps, uint64_t capacity_us);
void buffer_free(struct buffer *b);

/* Store a segment. Returns 1 stored, 0 duplicate, late or outside the
 * sequence window (ignored, counted). */
int buffer_put(struct buffer *b, const struct wire_seg_data *sd, uint64_t now_us);
const struct segment *buffer_get(const struct buffer *b, uint32_t seq);
int buffer_has(const struct buffer *b, uint32_t seq);
/* Oldest sequence still kept (newest - capacity + 1 modulo 2^32, or 0). */
uint32_t buffer_oldest(const struct buffer *b);

/* Number of consecutive segments present from seq. */
uint32_t buffer_run_from(const struct buffer *b, uint32_t seq);

/* Only [anchor, anchor + capacity) is taken from now on; playback moves the
 * anchor to the next segment due. */
void buffer_anchor(struct buffer *b, uint32_t anchor);
/* The sequence window's verdict on seq: 1 inside (or not anchored). */
int buffer_in_window(const struct buffer *b, uint32_t seq);
void buffer_start_playback(struct buffer *b, uint32_t start_seq, uint64_t now_us);
uint64_t buffer_deadline(const struct buffer *b, uint32_t seq);
/* Account every segment whose deadline is <= now; calls fn for each with
 * whether it was on time. Returns how many became due. */
uint32_t buffer_advance(struct buffer *b, uint64_t now_us,
                        void (*fn)(void *arg, uint32_t seq, int on_time), void *arg);

/* Fill a buffer map of what is held from `from` (or the oldest kept, if
 * later) to the newest, at most WIRE_MAX_MAP_BITS ending at the newest. */
void buffer_fill_map(const struct buffer *b, uint32_t from, struct wire_buffer_map *m);

#endif
