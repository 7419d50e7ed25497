/* Inter-overlay optimization manager.
 *
 * Besides pulling from partners, an AnySee peer keeps an active streaming
 * path for the stream it watches: a chain of peers from the source that
 * push every segment on as soon as they have it. Paths are found by
 * reverse tracing: the peer sends ProbM to j mesh neighbours, whatever
 * they watch; each receiver stamps itself and forwards to j neighbours
 * until the delay so far exceeds the peer's LastDelay or the probe reaches
 * the source. The source offers the peer the fastest trace, and the
 * fastest that avoids the first one's hop next to the peer (PATH_SETUP,
 * hop 0 = source ... last = peer): the peer keeps an offer as a backup and builds
 * it hop by hop towards the source. A hop that does not carry the stream
 * yet relays it anyway: that is the inter-overlay part. An offer through
 * the peer's own parent is no backup (it fails with the parent) but may
 * be a faster way to the same parent; taken, it moves the parent's own
 * upstream to the one traced.
 * Only the last link of a path is cut when it fails; the fastest backup
 * that avoids the failed hop is promoted, and backups through it go.
 *
 * Eq. 1 with two active paths: a node with half an upload connection
 * spare takes a child at half the rate (the segments of one parity), and
 * marks the probes it forwards; the source offers such a trace as a
 * half-rate path, and the peer builds a second path beside it for the
 * other half (struct inter_second), which takes over when the first fails.
 *
 * Push loops: a hop refuses a child that is on its own active path (its
 * upstream as the source traced it), a relay refuses its own parent, and a
 * peer never keeps or builds a path through one of its own push children.
 * Paths change after they are traced, so every tick a parent also tells
 * each child its current path from the source (a PATH_SETUP ending in the
 * child, from its parent): a node that finds itself upstream of itself is
 * in a loop of any length and cuts its link to its parent.
 *
 * I/O goes through the callbacks in struct inter_io, so this file decides
 * and node.c sends.
 */
#ifndef ANYSEE_INTER_H
#define ANYSEE_INTER_H

#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "peer/adl.h"
#include "peer/auth.h"
#include "peer/keynode.h"
#include "peer/log.h"
#include "peer/wire.h"

#define INTER_MAX_CHILDREN 48
#define INTER_MAX_RELAYS 8
#define INTER_MAX_BACKUP 4
#define INTER_MAX_COLLECT 32
#define INTER_PROBE_J 3
#define INTER_RELAY_SEEN 64
#define INTER_MAX_FAILED 8
/* Seconds of pull serving whose busiest second sets the connections the
 * partners hold for push admission (inter_conns_free). */
#define INTER_PULL_WINDOW 5
/* Push and relay children hold a lease their child renews (WIRE_RENEW)
 * at every tick (about once a second); a parent drops a child whose lease
 * ran INTER_LEASE_US without a renewal, freeing its key-node slot and the
 * upload of its push. Three renewals per lease let one or two lost
 * datagrams pass; the child judges its parent on the same 3 s (a silent
 * path is cut after 3 s), and since a parent checks leases at every 1 s
 * tick, a dead child is dropped within lease + 1 s, under two leases. */
#define INTER_LEASE_US WIRE_LEASE_US
/* The probe forwarding budget. The paper bounds a trace by LastDelay and
 * TTL only, so what a node forwards grows with the swarm (a trace goes on
 * to every node within LastDelay of Peer_0, j messages at each) and with
 * what an admitted stranger sends: one probe naming a bound no trace
 * reaches costs the swarm up to j messages a node. Assumed here: a node
 * sends others' probes (flooded on or followed up its path) within
 * INTER_PROBE_SHARE of its stream's rate, the overhead this testbed holds
 * probing to (a peer's --probe-share changes it, to study the choice), in
 * a token bucket that holds INTER_PROBE_BURST_S seconds of it and at least
 * one full flood step (j probes of WIRE_MAX_HOPS hops): a minute, the span
 * the report gives probing overhead over (per peer per minute). Honest
 * probing comes in bursts, every joining peer tracing at once in a flash
 * crowd: with a bucket of 2 s, 100 peers joining in 15 s found it empty
 * at most nodes, traces died, and the delay's 95th percentile was 292 ms
 * against 228 ms without a budget (medians of three seeds); a minute's
 * bucket held back nothing honest in the same runs. What an attacker gets
 * past it is at most half a minute's share at each node, once, then no
 * more than the share's refill, and none of it while others' traces keep
 * the bucket under half (INTER_PROBE_SENDERS).
 * What does not fit is not forwarded, or to fewer than j neighbours: the
 * flood thins where it is dense. The bucket counts the bytes the network
 * carries (a copy's IP and UDP headers too) and a peer's own probes as
 * well, which it never holds back (the probing interval paces them):
 * with the codec's bytes of others' probes alone, 200 peers under churn
 * sent 1.02% of the media bytes as ProbM. */
#define INTER_PROBE_SHARE 0.01
#define INTER_PROBE_BURST_S 60
/* One sender cannot spend the bucket for all: below half of it, a node
 * sends on nothing more from a sender (by address) that had more than
 * its fair share of what the node sent on for others over the last
 * minute: 1/k of it, k the senders that asked in that minute (at least
 * 2), so while one admitted peer floods, the other half of the bucket and
 * the share's refill go to the traces of the rest, and several flooding
 * together each get no more than the others ask for. Above half, anyone's
 * go on: a neighbour whose traces are most of an honest burst is not cut
 * while the bucket has room. INTER_PROBE_SENDERS are remembered, the
 * least active forgotten first. */
#define INTER_PROBE_SENDERS 32
/* A probe stamped this far ahead of the receiver's clock would look
 * instant at every hop and so never meet its bound; the hosts' clocks are
 * one (the paper assumes NTP), so no honest stamp is. */
#define INTER_PROBE_SKEW_US 1000000u
/* A relay's pending area: segments of the stream it relays that came
 * before their hash list (a relay set up in the middle of a batch, or a
 * list overtaken on the way) wait for it while the parent is asked for the
 * list, which comes within a round trip; they wait AUTH_HOLD_US at most.
 * At most one list's worth of segments (a list covers WIRE_MAX_HASHES):
 * past that more than one list is missing, which a relay does not wait
 * out. At most 32 full segments of payload (42 KB), one batch interval of
 * a 336 kbit/s stream: a batch of the paper's usual 300 kbit/s fits
 * whole, and a faster stream's children pull what its relay could not
 * hold (an assumption: the paper has no signed media). */
#define INTER_RELAY_HOLD WIRE_MAX_HASHES
#define INTER_RELAY_HOLD_BYTES (32 * WIRE_SEG_PAYLOAD_MAX)

struct inter_io {
	void *ctx;
	void (*send)(void *ctx, const struct wire_addr *to, const struct wire_msg *m);
	/* Mesh neighbours to forward probes to. */
	int (*neighbours)(void *ctx, struct wire_addr *out, int max);
	/* Pull partners the node serves now (NULL: none). */
	int (*partners)(void *ctx);
	/* A stream's public key (peer/auth.h) as the rendezvous point gave it:
	 * 0, or -1 when the stream is unknown. NULL: media is not signed, and
	 * relays forward it unchecked. */
	int (*stream_key)(void *ctx, uint16_t stream, uint8_t key[WIRE_KEY_LEN]);
	/* The active path failed: the LastDelay it set is gone with it, and
	 * the node's estimate must restart from the paths it still has. */
	void (*path_lost)(void *ctx);
};

struct push_child {
	struct wire_addr addr;
	uint8_t cls;         /* admission class: KEYNODE_WATCH or KEYNODE_RELAY */
	uint8_t share;       /* enum wire_share: what it is pushed */
	uint64_t renewed_us; /* admitted or last renewed (monotonic) */
	struct bucket serve; /* what it may still ask for (peer/serve.h) */
};

/* A stream this peer carries for others without watching it. */
struct relay {
	uint16_t stream;
	struct wire_addr parent;
	struct wire_addr up[WIRE_MAX_HOPS]; /* source ... parent, this node */
	uint8_t nup;
	uint8_t share; /* what the parent pushes: a half relay serves that half */
	int active;    /* the parent accepted */
	uint32_t setup_seq;
	struct wire_addr pending_child; /* waiting for the parent's answer */
	int have_pending;
	struct push_child child[INTER_MAX_CHILDREN];
	int nchild;
	uint64_t last_rx_us;
	/* Smoothed gap between new segments from the parent (0: fewer than
	 * two yet): a relay knows no stream rate, so its silence window is
	 * measured (relay_silent_us). */
	uint32_t gap_us;
	uint64_t new_rx_us; /* the last new segment's arrival */
	/* The stream's pace as its source made it (0: unknown): from the first
	 * verified segment (anchor_seq, anchor_origin_us) to the latest, the
	 * source's stamps over the sequences between. */
	uint32_t pace_us;
	int anchored;
	uint32_t anchor_seq;
	uint64_t anchor_origin_us;
	uint32_t seen[INTER_RELAY_SEEN]; /* recent sequences forwarded: each goes on once */
	int seen_next, nseen;
	struct auth *auth; /* the stream's verified hash lists; NULL unsigned */
	uint64_t asked_us; /* when the parent was last asked for a list */
	uint64_t forwarded, unverified;
	uint64_t held, hold_full; /* put in the pending area, or not for want of room */
	/* Moving to another upstream a child asked for (inter_on_path_setup):
	 * the old parent pushes until the new one accepts. */
	int moving;
	struct wire_addr new_up[WIRE_MAX_HOPS]; /* source ... new parent, this node */
	uint8_t new_nup;
	uint32_t new_seq;
	uint64_t move_since_us;
	uint64_t moves;
};

struct inter_path {
	uint32_t seq;
	uint8_t nhops;
	/* A backup: WIRE_SHARE_WHOLE, or EVEN when a hop could take half the
	 * rate only; an active path: the share it was built for. */
	uint8_t share;
	struct wire_addr hops[WIRE_MAX_HOPS];
	uint32_t delay_us; /* trace delay measured by the source */
};

/* The second active path (eq. 1 with two): while the active path carries
 * one half of the stream, another carries the other. Judged on its own
 * (silence, set-up timeout, its rate, its parent's cut), it takes over as
 * the active path when that one fails, and goes when a whole path is up. */
struct inter_second {
	int have, ok, up; /* being built / accepted / pushing */
	struct inter_path path;
	uint64_t since_us, ok_us, rx_us;
	uint32_t seq;    /* newest pushed sequence it delivered */
	uint32_t pushed; /* segments it pushed since the last tick */
	int window_full, short_ticks;
};

/* A parent that failed lately: no path through it is built or kept. */
struct inter_failed {
	uint32_t id;
	uint64_t at_us;
};

/* Probe traces gathered at a source for one (peer, seq): the fastest
 * INTER_COLLECT_KEEP, fastest first, with their delays. */
#define INTER_COLLECT_KEEP 6
struct inter_collect {
	uint32_t peer0, seq;
	uint64_t first_us;
	int n;
	uint32_t delay_us[INTER_COLLECT_KEEP];
	struct wire_probe trace[INTER_COLLECT_KEEP];
	int used;
};
struct inter {
	struct wire_addr self;
	struct evlog *log;
	struct inter_io io;
	struct rng *rng;
	int enabled;  /* push paths on: the policy's push_paths */
	int own_only; /* relays no stream it does not watch (anysee-intra) */
	/* The stream this peer watches or serves, and its source. */
	uint16_t stream;
	uint32_t source_id;
	int is_source;
	uint64_t rate_bps;
	uint64_t upload_bps;
	int conns; /* N: streams the uplink carries, upload / rate */
	/* Payload bytes served to pulling partners in each of the last
	 * INTER_PULL_WINDOW seconds (inter_note_pull), newest at pull_next-1. */
	uint64_t pull_bytes[INTER_PULL_WINDOW];
	int pull_next;
	uint32_t mu_d_us; /* a path slower than this is invalid */
	/* Serving the own stream by push. */
	struct push_child child[INTER_MAX_CHILDREN];
	int nchild;
	struct keynode kn; /* admission control over push slots */
	struct relay relay[INTER_MAX_RELAYS];
	int nrelay;
	/* Payload bytes sent by push to own children, and relayed. */
	uint64_t push_bytes, relay_bytes;
	/* Receiving the own stream by push. */
	int have_active, active_up; /* a path is being built / is pushing */
	int active_ok;              /* the parent accepted: renew its lease */
	struct inter_path active;
	uint64_t active_since_us, active_rx_us;
	uint64_t active_ok_us; /* when the parent accepted */
	uint32_t active_seq;   /* newest pushed sequence the path delivered */
	/* The lowest delay of the segments the active path pushed since the
	 * last tick (0: none), against which a backup is judged faster. */
	uint32_t active_delay_min_us;
	/* The last tick's such figure (0: none since the path was built), and
	 * the first tick's (active_ref_us). */
	uint32_t active_measured_us, active_first_us;
	/* Make before break: a path being replaced by a faster one keeps its
	 * lease and its push until the new one is up (then its parent is cut),
	 * and is the active path again if the new one fails first. */
	int replacing;
	int keep_replaced; /* it was replaced for a faster path: keep it as a backup */
	struct inter_path prev_active;
	uint64_t paths_replaced;
	struct inter_second second;
	uint64_t seconds_built, seconds_promoted;
	/* Eq. 1, the active path's rate: its share of the stream's new
	 * segments (newest_seen advanced from window_seq) it pushed in the
	 * last tick (window_pushed), and the ticks in a row it fell short. */
	uint32_t newest_seen, window_seq, window_pushed;
	int have_newest, window_full, short_ticks;
	double active_share;
	uint64_t paths_short;
	struct inter_failed failed[INTER_MAX_FAILED];
	int failed_next;
	uint64_t leases_expired;
	struct inter_path backup[INTER_MAX_BACKUP];
	int nbackup;
	uint32_t next_seq;
	uint64_t last_probe_us;
	int probe_now;     /* the active path failed: trace without waiting */
	int delay_lost;    /* with it the LastDelay it set: wait for the next */
	uint64_t retry_us; /* since then, until a path pushes: the next gap */
	struct adl adl;    /* the optimization index: how often to probe */
	uint64_t probes_sent, paths_built, paths_cut;
	/* Probes not forwarded: this node could not have taken the child. */
	uint64_t probes_declined;
	/* Probes sent up this node's own push path, not flooded on. */
	uint64_t probes_followed;
	/* Others' probes sent on (messages and their bytes), and the budget
	 * left for them, in bytes: probe_share of the stream's rate
	 * (INTER_PROBE_SHARE unless the peer is told otherwise). */
	uint64_t probes_forwarded, probe_fwd_bytes;
	double probe_share;
	struct bucket probe_budget;
	/* Probes not sent on, or to fewer than j neighbours, for the budget. */
	uint64_t probes_over_budget;
	/* Bytes of others' probes sent on, by who sent them (address), in the
	 * window that began at probe_window_us and the one before, each
	 * INTER_PROBE_BURST_S long; the totals over every sender. */
	struct probe_use {
		uint32_t ip;
		uint64_t cur, prev;
		uint64_t asked_us; /* its last probe this node weighed */
	} probe_use[INTER_PROBE_SENDERS];
	uint64_t probe_use_cur, probe_use_prev, probe_window_us;
	/* Of probes_over_budget, those held back from a sender past its share. */
	uint64_t probes_over_share;
	/* Probes refused as no peer sends them: no bound, a stamp from the
	 * future, or a trace that does not end in its sender. */
	uint64_t probes_refused;
	/* Hash lists relay children asked for beyond their serve budget. */
	uint64_t lists_over;
	struct inter_collect col[INTER_MAX_COLLECT];
	/* Probes forwarded lately, (peer0 << 32 | seq): each goes on once, so a
	 * trace costs O(peers) messages instead of j^TTL. The first copy to
	 * arrive came the fastest way, which is the one worth extending. */
	uint64_t probe_seen[256];
	int probe_seen_next;
};

void inter_init(struct inter *in, const struct wire_addr *self, struct evlog *log,
                const struct inter_io *io, struct rng *rng, int enabled, uint64_t upload_bps);
/* The stream this peer watches (or serves, for a source). */
void inter_set_stream(struct inter *in, uint16_t stream, uint32_t source_id, uint64_t rate_bps,
                      int is_source);

/* A segment of stream became available here (stored, or generated by the
 * source): push it to every child. Returns how many got it. */
int inter_push(struct inter *in, uint16_t stream, const struct wire_seg_data *sd);
/* A segment of a stream we relay arrived: forward it. 1 if it was ours to
 * relay (the caller must not treat it as its own stream). */
int inter_on_relay_segment(struct inter *in, uint16_t stream, const struct wire_seg_data *sd,
                           const struct wire_addr *from, uint64_t now_us);
/* A verified hash list of the own stream (peer/auth.h): send it to every
 * push child, ahead of the segments it covers. */
void inter_push_list(struct inter *in, uint16_t stream, const struct wire_hash_list *hl);
/* A hash list of a stream we relay arrived: the parent's, once verified
 * with the stream's key, goes on to the relay's children once. 1 if it was
 * ours to relay. A relay forwards only segments whose hash a list it
 * verified holds; one ahead of its list waits in the relay's pending area
 * (INTER_RELAY_HOLD) while the parent is asked for the list, and goes on
 * after the list when its hash matches. One that does not fit, or waits
 * too long, is dropped and counted, and the children pull what they miss. */
int inter_on_relay_list(struct inter *in, uint16_t stream, const struct wire_hash_list *hl,
                        const struct wire_addr *from, uint64_t now_us);
/* A relay child asks for the hash list covering seq of a stream we
 * relay: answered from the relay's verified lists, within the child's
 * serve budget (peer/serve.h) at the pace the source made the stream at
 * (a relay knows no stream rate; the signed creation stamps of the
 * segments it verified give it), taken as no faster than the fastest
 * stream the wire admits, which is also the pace until two are verified. */
void inter_on_relay_hash_req(struct inter *in, uint16_t stream, uint32_t seq,
                             const struct wire_addr *from, uint64_t now_us);
/* id is the parent of one of the own stream's push paths. */
int inter_is_parent(const struct inter *in, uint32_t id);
/* The serve budget (peer/serve.h) of the own stream's push child id, or
 * NULL when id is not one. */
struct bucket *inter_child_budget(struct inter *in, uint32_t id);
/* A segment of the own stream arrived from from. Only a segment the
 * parent pushed (WIRE_SEG_PUSHED) with a sequence newer than the last one
 * it pushed keeps the active path alive: a pulled segment or a repeated
 * one says nothing about the push. */
void inter_on_own_segment(struct inter *in, const struct wire_addr *from,
                          const struct wire_seg_data *sd, uint32_t delay_us, uint64_t now_us);
/* A child renewed its lease on stream. */
void inter_on_renew(struct inter *in, uint16_t stream, const struct wire_addr *from,
                    uint64_t now_us);
/* Upload connections. A node's uplink carries N = upload / stream rate
 * streams (the paper's N, under 33 at 10 Mbit/s and 300 kbit/s), in every
 * mode: the mode decides only how N is spent (a coolstreaming node on
 * partners, an anysee node on partners and push paths), so a source's
 * upload is set by its uplink, not by the mode its peers run. A push or
 * relay child holds a connection: it is sent the whole stream. What the
 * pull partners hold depends on the question:
 *  - a new partner is taken while partners and children together leave a
 *    connection (each partner counted as one): a partnership is a standing
 *    offer to serve whatever the partner asks;
 *  - a new push or relay child is taken while the children and the
 *    partners' measured pull leave one (inter_pull_held): the paper's N
 *    counts the spare connections, and partners pull only part of the
 *    stream each (a peer that is pushed the stream pulls only its gaps),
 *    so counting each as a whole stream leaves most of the swarm's upload
 *    idle and most nodes unable to take a child.
 * Connections still free with `held` held by partners (0 or less: none). */
int inter_conns_free(const struct inter *in, int held);
/* Fractional admission: a child pushed half the stream (a path's share,
 * eq. 1 with two active paths) holds half a connection, so upload is
 * counted in halves, and a node with half a connection spare takes a
 * half-rate child. The connections above are whole ones, rounded down.
 * The key node's slots count requests, whatever their rate: it allots
 * service among request classes, not bandwidth. */
int inter_halves_free(const struct inter *in);
/* The connections the partners' pulls held: the busiest of the last
 * INTER_PULL_WINDOW seconds' pull serving over the stream rate, rounded
 * up (to halves in inter_halves_free). */
int inter_pull_held(const struct inter *in);
/* The payload served to pulling partners in the second that ended. */
void inter_note_pull(struct inter *in, uint64_t bytes);
/* Key-node connections in use, and the live push and relay children they
 * must equal. */
int inter_slots_used(const struct inter *in);
int inter_children(const struct inter *in);

/* A probe came from `from`. have_stream: as for inter_on_path_setup (the
 * node plays the own stream and could push it). A node forwards a probe
 * only when it could take `from` as its push child on the traced path,
 * and within its forwarding budget (probe_share). `from` must be the
 * trace's last hop, or Peer_0 itself on the first. */
void inter_on_probe(struct inter *in, const struct wire_probe *p, const struct wire_addr *from,
                    int have_stream, uint64_t now_real_us, uint64_t now_us);
void inter_on_path_setup(struct inter *in, uint16_t stream, const struct wire_path_setup *ps,
                         const struct wire_addr *from, int have_stream, uint64_t now_us);
void inter_on_relay_answer(struct inter *in, uint16_t stream, int accepted, uint32_t seq,
                           const struct wire_addr *from, uint64_t now_us);
/* A child or parent cut the link for stream, or left altogether (stream 0:
 * a LEAVE, or a partner or mesh neighbour gone silent). */
void inter_on_cut(struct inter *in, uint16_t stream, uint32_t id, uint64_t now_us);

/* Once a second or so: send the source's path offers, expire children's
 * leases and renew our own, check the active path, promote the best backup
 * that avoids the failed hops, probe when the backup set runs low, as
 * often as the optimization index ADL asks (peer/adl.h). */
void inter_tick(struct inter *in, uint32_t last_delay_us, uint64_t now_real_us, uint64_t now_us);
/* Between ticks, every few tens of milliseconds: the source offers the
 * traces it finished collecting; a peer whose push went silent cuts it and
 * promotes a backup (or traces at once), so a parent's crash costs well
 * under a second of push. Cheap: a few comparisons when nothing is due. */
void inter_watch(struct inter *in, uint32_t last_delay_us, uint64_t now_real_us, uint64_t now_us);

/* Cut everything (leaving). */
void inter_leave(struct inter *in);

#endif
