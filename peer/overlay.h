/* Single overlay manager: one stream's partners, whom to ask as partners,
 * where playback starts, buffer-map exchange and DONet-style pull
 * scheduling. Every decision here is pure; node.c sends what they ask for. */
#ifndef ANYSEE_OVERLAY_H
#define ANYSEE_OVERLAY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "peer/buffer.h"
#include "peer/mesh.h"
#include "peer/wire.h"

/* A source's partners are bounded by its uplink (peer/inter.h), 33 at
 * 10 Mbit/s and 300 kbit/s; up to 20 Mbit/s at that rate fits. */
#define OVERLAY_MAX_PARTNERS 64
/* LastDelay is the minimum over the last OVERLAY_DELAY_WINDOW seconds (one
 * bucket a second). The paper defines it as the minimum over the paths a
 * peer has; the paths it has now are those that delivered lately: a silent
 * partner is dropped after 6 s, so every path still in use delivered
 * within 10 s, and one gone longer ago no longer bounds the probes (an
 * all-time minimum never rises after churn). The push path, the fastest,
 * is cut within a second of silence, and the window is forgotten then
 * (overlay_forget_delay): a trace bounded by the lost path's delay would
 * find nothing. */
#define OVERLAY_DELAY_WINDOW 10

struct partner {
	struct wire_addr addr;
	uint64_t last_heard_us;
	int have_map;
	struct wire_buffer_map map;
	int is_source;
	/* Segments it may still pull from us (a token bucket, serve.c). */
	struct bucket serve;
};

struct overlay {
	uint16_t stream;
	char name[WIRE_STREAM_NAME];
	uint64_t rate_bps;
	struct wire_addr source;
	struct partner p[OVERLAY_MAX_PARTNERS];
	int np;
	struct buffer buf;
	uint64_t *requested_us; /* per ring slot: when its segment was requested */
	uint32_t *requested_seq;
	/* LastDelay: per second of the real-time clock, the minimum arrival -
	 * origin seen in it. */
	uint32_t delay_min[OVERLAY_DELAY_WINDOW];
	uint64_t delay_sec[OVERLAY_DELAY_WINDOW]; /* second + 1 of each bucket, 0 unused */
	uint64_t future_stamps;                   /* segments stamped after their arrival */
	uint64_t maps_dropped;                    /* maps outside the sequence window */
	int start_chosen;                         /* start_seq is set: the first segment to play */
	int layer; /* fewest overlay hops a stored segment came over (0: none yet) */
	uint32_t start_seq;
	uint32_t start_span; /* startup segments the start was chosen for */
};

int overlay_init(struct overlay *o, uint16_t stream, const char *name, uint64_t rate_bps,
                 uint64_t buffer_us);
void overlay_free(struct overlay *o);

struct partner *overlay_partner(struct overlay *o, uint32_t id);
/* Add (or refresh) a partner. NULL when the table is full. */
struct partner *overlay_partner_add(struct overlay *o, const struct wire_addr *a, uint64_t now_us);
void overlay_partner_del(struct overlay *o, uint32_t id);
/* Newest sequence any partner advertises, 0 with *ok = 0 if none. */
uint32_t overlay_newest_known(const struct overlay *o, int *ok);

/* How many partners advertise seq. */
int overlay_holders(const struct overlay *o, uint32_t seq);

/* A segment made at origin_us arrived at now_real_us (real-time clock). One
 * stamped in the future is counted and ignored: it says nothing about a
 * path, and would pin LastDelay at 0. */
void overlay_note_delay(struct overlay *o, uint64_t origin_us, uint64_t now_real_us);
/* LastDelay: the minimum source-to-end delay over the paths of the last
 * OVERLAY_DELAY_WINDOW seconds; 0 when none delivered in that time. */
uint32_t overlay_last_delay(const struct overlay *o, uint64_t now_real_us);
/* Forget LastDelay's window: the path that set it failed. Until a path
 * delivers again LastDelay is 0, and probing waits for it. */
void overlay_forget_delay(struct overlay *o);

/* A partner's buffer map, taken unless it lies outside the sequence
 * window: its newest offer more than a buffer's length from the newest
 * segment held (or, playing, the next one due). Returns 1 taken, 0
 * dropped (counted in maps_dropped). */
int overlay_on_map(struct overlay *o, struct partner *p, const struct wire_buffer_map *m,
                   uint64_t now_us);
/* Store a segment of the stream: none before the start is chosen (none
 * was asked for), then within the buffer's sequence window. */
int overlay_store(struct overlay *o, const struct wire_seg_data *sd, uint64_t now_us);
/* The map this node sends its partners (see overlay.c for its window). */
void overlay_fill_map(const struct overlay *o, struct wire_buffer_map *m);

/* One scheduling decision: the missing segment seq goes to partner index. */
struct sched_choice {
	uint32_t seq;
	int partner;
};

/* Pull scheduling over the window [from, to]: every segment the buffer
 * lacks, not requested within retry_us, and held by some partner is
 * assigned to one holder. Rarest first (fewest holders), ties to the most
 * urgent (lowest sequence); the holder with the most budget left wins,
 * so each partner gets at most budget[i] requests. Returns the number of
 * choices written (<= max). */
size_t overlay_schedule(const struct overlay *o, uint32_t from, uint32_t to, const uint32_t *budget,
                        uint64_t now_us, uint64_t retry_us, struct sched_choice *out, size_t max);
void overlay_mark_requested(struct overlay *o, uint32_t seq, uint64_t now_us);

/* Segments of startup_us media, at least one: what playback waits for. */
uint32_t overlay_startup_segments(const struct overlay *o, uint64_t startup_us);
/* The start rule. The first call fixes the start startup_us of media
 * before newest (the newest segment a partner offers); until playback
 * begins the start then moves past segments no partner offers (a partner
 * that joined after the chosen start lacks them) and past any missing one
 * older than every partner's map (nobody can offer it now), and is chosen afresh
 * when newest leaves the buffer's length after it (a forged map's start,
 * once real maps replace it). Returns the first segment the pull window
 * covers: the start, or the next one due. */
uint32_t overlay_window_from(struct overlay *o, uint32_t newest, uint64_t startup_us);
/* Start playback once startup_us of media from the start is held. Returns
 * 1 when it started now. */
int overlay_try_play(struct overlay *o, uint64_t startup_us, uint64_t now_us);

/* One pull round of round_us: the requests to send, each partner asked
 * for no more than its serve budget gives in a round, marked as
 * requested.
 * Returns the number of choices written (<= max). */
size_t overlay_pull_round(struct overlay *o, uint64_t startup_us, uint64_t round_us,
                          uint64_t retry_us, uint64_t now_us, struct sched_choice *out, size_t max);

/* Partner selection: up to want peers to ask this round, in order, none a
 * partner yet. With prefer_mesh, the nearest mesh neighbours watching the
 * stream come first, as LTM keeps them close; then random bootstrap peers
 * of the stream (its source among them), the DONet way. out has room for
 * want entries; returns the number written. */
int overlay_pick_partners(const struct overlay *o, const struct mesh *m, int prefer_mesh,
                          const struct wire_peer_entry *cand, int ncand, struct rng *rng, int want,
                          struct wire_addr *out);

#endif
