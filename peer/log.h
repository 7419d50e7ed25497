/* Event log of one host: the one definition of its files, events, keys and
 * records, used by the peer that writes them and by every reader (the
 * analysis and the harness's live progress).
 *
 * Two files in the host's log directory:
 * - events.log: one text line per event, "<real_us> <event> key=value ...".
 *   The events the analysis reads are written through the typed functions
 *   below, whose keys are the LOGK_ constants the readers look up, so a key
 *   cannot be renamed on one side only.
 * - segments.bin: a 16-byte header (magic "ASEGLOG1", u64 epoch_us) then
 *   one 16-byte record per segment received (struct seglog_rec, little
 *   endian). At 300 kbit/s that is about 460 bytes/s per peer, so a
 *   1000-peer, 30-minute run writes about 0.8 GB.
 */
#ifndef ANYSEE_LOG_H
#define ANYSEE_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EVLOG_FILE "events.log"
#define SEGLOG_FILE "segments.bin"

/* Events and keys that readers depend on. */
#define LOGEV_START "start"
#define LOGEV_PLAY_START "play_start"
#define LOGEV_TICK "tick"
#define LOGEV_MESH "mesh"
#define LOGEV_LEAVE "leave"
#define LOGEV_UTIL "util"
#define LOGEV_PATH_UP "path_up"
#define LOGEV_PATH_CUT "path_cut"
#define LOGEV_CHILD_ADD "child_add"
#define LOGEV_CHILD_DEL "child_del"
#define LOGEV_KILLED "killed"
/* The host's event loop ran a timer late by LOGK_LATE_US (at least
 * EVLOG_STALL_US): the process did not run meanwhile. Any role logs it;
 * the analysis judges the emulation by it. */
#define LOGEV_STALL "stall"
#define LOGK_LATE_US "late_us"
#define EVLOG_STALL_US 100000u
#define LOGK_MODE "mode"
#define LOGK_SEQ "seq"
#define LOGK_STARTUP_US "startup_us"
#define LOGK_LAG_US "lag_us"
#define LOGK_DUE "due"
#define LOGK_ON_TIME "on_time"
#define LOGK_CORRUPT "corrupt"
#define LOGK_REJECTED "rejected"
#define LOGK_MEAN_DELAY_US "mean_delay_us"
#define LOGK_HOPS "hops"
#define LOGK_UPLOAD_BPS "upload_bps"
#define LOGK_RATE_BPS "rate_bps"
#define LOGK_PULL_BYTES "pull_bytes"
#define LOGK_PUSH_BYTES "push_bytes"
#define LOGK_RELAY_BYTES "relay_bytes"
#define LOGK_CHILDREN "children"
#define LOGK_KEYNODE_USED "keynode_used"
#define LOGK_ID "id"
#define LOGK_PARENT "parent"
#define LOGK_STREAM "stream"
/* Once, as the node leaves: the others' probes it sent on (messages and
 * bytes), those its forwarding budget held back (over_share of them from a
 * sender past its share) and those it refused as forged (peer/inter.h). */
#define LOGEV_PROBES "probes"
#define LOGK_FORWARDED "forwarded"
#define LOGK_FORWARDED_BYTES "forwarded_bytes"
#define LOGK_OVER_BUDGET "over_budget"
#define LOGK_OVER_SHARE "over_share"
#define LOGK_REFUSED "refused"

#define SEGLOG_MAGIC "ASEGLOG1"
#define SEGLOG_HDR_LEN 16
#define SEGLOG_REC_LEN 16

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

void seglog_rec_encode(const struct seglog_rec *r, uint8_t out[SEGLOG_REC_LEN]);
void seglog_rec_decode(const uint8_t in[SEGLOG_REC_LEN], struct seglog_rec *r);
void seglog_hdr_encode(uint64_t epoch_us, uint8_t out[SEGLOG_HDR_LEN]);
/* Returns -1 when the bytes are not a segment log header. */
int seglog_hdr_decode(const uint8_t in[SEGLOG_HDR_LEN], uint64_t *epoch_us);

struct evlog {
	FILE *ev;
	FILE *seg;
	uint64_t epoch_us;
	/* The real-time clock stamped on events and records (real_us); a tool
	 * that synthesizes logs sets its own after evlog_open. */
	uint64_t (*clock)(void);
};

/* Open dir/events.log and dir/segments.bin (dir is created). NULL dir gives
 * a log that writes nothing. Returns -1 with errno set on failure. */
int evlog_open(struct evlog *l, const char *dir);
void evlog_event(struct evlog *l, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A stall event; the shape of loop_on_late's callback, with log as arg. */
void evlog_stall(void *log, uint64_t late_us);
void evlog_segment(struct evlog *l, uint16_t stream, uint32_t seq, uint32_t delay_us, uint8_t hops,
                   uint8_t flags);
void evlog_flush(struct evlog *l);
/* Written by whoever killed the process (the harness's crash), after it:
 * "<ts_us> killed" appended to dir/events.log on a line of its own, so the
 * analysis knows when the process died, not only its last event, up to a
 * second earlier. Returns -1 with errno set. */
int evlog_append_killed(const char *dir, uint64_t ts_us);
void evlog_close(struct evlog *l);

/* The events the analysis reads. */
void evlog_start(struct evlog *l, const char *role, uint32_t id, const char *mode,
                 const char *stream, uint64_t rate_bps, uint64_t buffer_us);
void evlog_play_start(struct evlog *l, uint32_t seq, uint64_t startup_us, uint64_t lag_us);
struct evlog_tick {
	uint64_t due, on_time, recv, late, dup;
	int partners;
	uint32_t last_delay_us;
};
void evlog_tick(struct evlog *l, const struct evlog_tick *t);
void evlog_mesh(struct evlog *l, int neighbours, int measured, double mean_delay_us);
struct evlog_leave {
	uint64_t received, due, on_time, served, bad, late;
	/* Segments not in segments.bin, counted instead of logged one record
	 * each: failed checksums, and good ones not stored (duplicates, out of
	 * the window). */
	uint64_t corrupt, rejected;
};
void evlog_leave(struct evlog *l, const struct evlog_leave *t);
struct evlog_probes {
	uint64_t forwarded, forwarded_bytes, over_budget, over_share, refused;
};
void evlog_probes(struct evlog *l, const struct evlog_probes *p);
/* Once a second: the upload capacity and the stream rate (their ratio is
 * the paper's N connections) and the segment payload bytes sent since the
 * last one, by how: served to pulling partners, pushed to own children,
 * relayed for another overlay; and the push and relay children held with
 * the key-node connections they take (equal, unless a slot leaked). */
struct evlog_util {
	uint64_t upload_bps, rate_bps;
	uint64_t pull_bytes, push_bytes, relay_bytes;
	int children, keynode_used;
};
void evlog_util(struct evlog *l, const struct evlog_util *u);

/* Reading events.log: one line at a time. */
struct evlog_line {
	uint64_t ts_us;
	char event[32];
	const char *args; /* the key=value part (points into the line) */
};
/* Returns -1 when line is not an event line. */
int evlog_parse(const char *line, struct evlog_line *e);
/* 0 and the value when key is present with a decimal value, else -1. */
int evlog_get_u64(const struct evlog_line *e, const char *key, uint64_t *v);
/* A key's value without blanks into buf; -1 when absent. */
int evlog_get_str(const struct evlog_line *e, const char *key, char *buf, size_t len);

#endif
