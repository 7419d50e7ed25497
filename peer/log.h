/* Event log of one host, read by the analysis.
 *
 * Two files in the host's log directory:
 * - events.log: one text line per event, "<real_us> <event> key=value ...".
 *   Events: start, bootstrap, partner_add, partner_del, play_start, tick
 *   (one per second while playing: due, on_time, recv, late, dup), leave.
 * - segments.bin: a 16-byte header (magic "ASEGLOG1", u64 epoch_us) then
 *   one 16-byte record per segment received (struct seglog_rec, little
 *   endian). At 300 kbit/s that is about 460 bytes/s per peer, so a
 *   1000-peer, 30-minute run writes about 0.8 GB.
 */
#ifndef ANYSEE_LOG_H
#define ANYSEE_LOG_H

#include <stdint.h>
#include <stdio.h>

#define SEGLOG_MAGIC "ASEGLOG1"

enum seglog_flags {
	SEG_CHECKSUM_OK = 1, /* payload matches the checksum the source stamped */
	SEG_CONTENT_OK = 2,  /* synthetic content regenerated and matched */
	SEG_STORED = 4,      /* new and in time: went into the buffer */
};

struct seglog_rec {
	uint32_t seq;
	uint32_t delay_us; /* arrival - origin, real-time clocks */
	uint32_t t_ms;     /* arrival, ms since the header's epoch */
	uint8_t hops;
	uint8_t flags;
	uint16_t stream;
};

struct evlog {
	FILE *ev;
	FILE *seg;
	uint64_t epoch_us;
};

/* Open dir/events.log and dir/segments.bin (dir is created). NULL dir gives
 * a log that writes nothing. Returns -1 with errno set on failure. */
int evlog_open(struct evlog *l, const char *dir);
void evlog_event(struct evlog *l, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void evlog_segment(struct evlog *l, uint16_t stream, uint32_t seq, uint32_t delay_us, uint8_t hops,
                   uint8_t flags);
void evlog_flush(struct evlog *l);
void evlog_close(struct evlog *l);

#endif
