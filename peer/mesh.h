/* Mesh-based overlay manager: the logical neighbours a peer keeps across
 * all streams, and location-aware topology matching (LTM).
 *
 * Every round a peer S floods dm(id, S, TTL=2) to its neighbours with its
 * send time; the first hop N stamps its receive time and forwards. A peer P
 * two hops away then knows d(S,N) and d(N,P); from S's own one-hop
 * detectors it knows d(S,P) when S is a neighbour, else it measures it
 * with a direct probe. LTM's rule: in the triangle S, N, P, the link N-P
 * goes when it is the slowest; a non-neighbour S closer than N replaces N.
 * Repeated rounds move every peer's neighbours towards near ones.
 *
 * mesh_ltm_decide() and the tables are pure; the protocol (requests,
 * detectors, the round timer) decides and sends through struct mesh_io, as
 * the inter-overlay manager does, so its tests run without sockets.
 */
#ifndef ANYSEE_MESH_H
#define ANYSEE_MESH_H

#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "peer/log.h"
#include "peer/wire.h"

#define MESH_MAX 16
#define MESH_SEEN 512
#define MESH_PENDING 16
/* LTM detectors dm(id, S, TTL) start at this TTL; one arriving above it is
 * not of the protocol and goes no further. */
#define MESH_DETECTOR_TTL 2
/* A node floods a detector once a round, MESH_ROUND_US apart +-10%. */
#define MESH_ROUND_US 3000000u
/* Detectors a neighbour passes on (TTL 1, S two hops away) that this node
 * judges in one round period: each may draw a direct probe to S, at the
 * address the detector names. An honest neighbour passes on one a round
 * of each of its other neighbours (MESH_MAX - 1 at most), and a
 * neighbour's round comes at most twice in one round period; past that a
 * neighbour is making this node send probes at addresses of its choosing. */
#define MESH_TWO_HOP_MAX (2 * (MESH_MAX - 1))
/* The peers an LTM cut or replacement dropped lately, neither asked again
 * nor taken when they ask, for MESH_CUT_MEMORY_US: the refill that follows
 * a cut picks at random among the candidates, and where the dropped peer
 * is the only one (a five-node network) it came back within a second and
 * was cut again at the next round, every 3 s. Ten rounds is an
 * assumption (LTM gives no figure): the triangle that justified the cut
 * is measured once a round, and delays in a network move on a scale of
 * minutes, not rounds. */
#define MESH_CUT_MEMORY 8
#define MESH_CUT_MEMORY_US 30000000u

struct mesh_nb {
	struct wire_addr addr;
	uint16_t stream;   /* stream the neighbour watches (0 unknown) */
	uint32_t delay_us; /* one-way delay neighbour -> us, from its detectors */
	int have_delay;
	uint64_t last_heard_us; /* monotonic */
	/* Its passed-on detectors judged since two_hop_since_us (a round
	 * period), against MESH_TWO_HOP_MAX. */
	uint64_t two_hop_since_us;
	int two_hop_n;
};

/* A pending direct measurement towards s, to decide about replacing n. */
struct mesh_pending {
	struct wire_addr s;
	uint32_t n_id;
	uint32_t d_sn_us;
	uint32_t d_np_us;
	uint64_t sent_us;
};

struct mesh_io {
	void *ctx;
	void (*send)(void *ctx, const struct wire_addr *to, const struct wire_msg *m);
	/* The peers the rendezvous point listed: new neighbours come from them. */
	int (*candidates)(void *ctx, const struct wire_peer_entry **out);
	/* A neighbour went silent past the timeout (may be NULL). */
	void (*lost)(void *ctx, uint32_t id);
};

struct mesh {
	struct wire_addr self;
	struct evlog *log;
	struct mesh_io io;
	struct rng *rng;
	int enabled;    /* off: refuse every neighbour, send nothing */
	int rule;       /* enum ltm_rule */
	uint16_t watch; /* the stream this node watches or serves, 0 not yet */
	int leaving;
	uint64_t ltm_last_us; /* last LTM cut or replacement */
	int target;           /* M: neighbours to keep */
	int max;              /* accepted when asked, >= target */
	struct mesh_nb nb[MESH_MAX];
	int n;
	uint32_t next_msg_id;
	uint64_t seen[MESH_SEEN]; /* (source id << 32 | msg id) of forwarded dms */
	int seen_next;
	struct mesh_pending pend[MESH_PENDING];
	int npend;
	struct {
		uint32_t id;
		uint64_t until_us; /* monotonic; 0: free */
	} cut[MESH_CUT_MEMORY];
	int cut_next;
	/* Detectors refused: a first hop (TTL 2) that does not come from the
	 * source it names; passed-on ones beyond MESH_TWO_HOP_MAX. */
	uint64_t detectors_forged, detectors_over;
};

enum ltm_verdict {
	LTM_KEEP,      /* nothing to change */
	LTM_CUT_NP,    /* N-P is the slowest link of the triangle: drop it */
	LTM_PROBE_S,   /* S is not a neighbour: measure d(S,P) first */
	LTM_REPLACE_N, /* S (not a neighbour) is closer than N: take S, drop N */
};

/* Two LTM rules for the triangle S, N, P that P judges.
 *
 * LTM_RULE_SLOWEST (the default): N-P goes only when it is the slowest
 * link of the triangle, and a non-neighbour S replaces N only when S-P is
 * faster than N-P. Cutting N-P then keeps P connected to N through S over
 * links no slower than the one cut.
 *
 * LTM_RULE_PATH, the rule as the AnySee paper states it (section III.B):
 * P compares the direct path S->P with the two-hop path S->N->P and, when
 * the direct one is shorter, N-P goes and S-P is kept or built. By the
 * triangle inequality the direct path is the shorter in nearly every
 * triangle a real network makes, so this rule cuts a link of almost every
 * triangle P sees, and the neighbour that refills the slot comes from the
 * rendezvous point's random list, near or not.
 *
 * The default is the slowest-link rule because it changes a link only
 * where that shortens the mesh, and measured so: 20 peers on a Waxman
 * topology for 90 s (the mesh.sh scenario, seed 3, one run each), it took
 * the mean neighbour delay from 13.8 ms to 12.7 ms (a random pair: 13.7
 * ms) with 6.6 LTM cuts and replacements per peer and minute, while the
 * paper's rule stayed at 14.0 ms with 11.1. The paper's rule stays an
 * option (--ltm-rule path). */
enum ltm_rule { LTM_RULE_SLOWEST = 0, LTM_RULE_PATH = 1 };

/* The slowest-link rule for P, given d(S,N), d(N,P) and, if known,
 * d(S,P); a link or path counts as slower only by a clear margin (1 ms and
 * 10%), in both rules. */
enum ltm_verdict mesh_ltm_decide(uint32_t d_sn, uint32_t d_np, int s_is_neighbour, int have_sp,
                                 uint32_t d_sp);
/* The paper's rule, same arguments. */
enum ltm_verdict mesh_ltm_decide_path(uint32_t d_sn, uint32_t d_np, int s_is_neighbour, int have_sp,
                                      uint32_t d_sp);

/* The tables alone; mesh_attach connects them to a node. */
void mesh_init(struct mesh *m, int target, int max);
void mesh_attach(struct mesh *m, const struct wire_addr *self, struct evlog *log,
                 const struct mesh_io *io, struct rng *rng, int enabled);
struct mesh_nb *mesh_find(struct mesh *m, uint32_t id);
/* Add or refresh; NULL when full. */
struct mesh_nb *mesh_add(struct mesh *m, const struct wire_addr *a, uint16_t stream, uint64_t now);
void mesh_del(struct mesh *m, uint32_t id);
/* Mean one-way delay to the neighbours whose delay is known (0 if none). */
double mesh_mean_delay_us(const struct mesh *m, int *count);
/* 1 the first time (src, msg_id) is seen, 0 after: a dm is forwarded once. */
int mesh_first_seen(struct mesh *m, uint32_t src, uint32_t msg_id);
/* Remember a probe; the oldest is forgotten when the table is full.
 * Returns 1 when a probe to s is due: s was not pending, or its probe went
 * a round period ago or more (lost, or s did not answer) and is sent again
 * now; 0 while one is on its way. */
int mesh_pending_add(struct mesh *m, const struct wire_addr *s, uint32_t n_id, uint32_t d_sn,
                     uint32_t d_np, uint64_t now);
/* Take the pending entry for s, if any. */
int mesh_pending_take(struct mesh *m, uint32_t s_id, struct mesh_pending *out);

/* Neighbour addresses, at most max. */
int mesh_neighbours(const struct mesh *m, struct wire_addr *out, int max);
/* The neighbours known to watch stream (or serve it). */
int mesh_neighbours_watching(const struct mesh *m, uint16_t stream, struct wire_addr *out, int max);

/* The stream this node watches: every neighbour request and accept says
 * it, so a neighbour found by LTM (not from the bootstrap list) learns it
 * and can become a partner. */
void mesh_set_watch(struct mesh *m, uint16_t stream);

/* The protocol. Times are the monotonic now_us and the real-time clock
 * now_real_us that detectors carry across hosts. watch is the stream the
 * sender said it watches (0 unknown). */
void mesh_on_request(struct mesh *m, const struct wire_addr *from, uint16_t watch, uint64_t now_us);
void mesh_on_accept(struct mesh *m, const struct wire_addr *from, uint16_t watch, uint64_t now_us);
void mesh_on_detector(struct mesh *m, const struct wire_detector *d, const struct wire_addr *from,
                      uint64_t now_real_us, uint64_t now_us);
/* The neighbour id cut the link or left; why goes to the event log. */
void mesh_on_cut(struct mesh *m, uint32_t id, const char *why);
/* One round: forget silent neighbours, ask random candidates to fill up to
 * the target, flood a detector. Returns the time to the next round, 0 once
 * leaving. */
uint64_t mesh_round(struct mesh *m, uint64_t now_real_us, uint64_t now_us);
/* Tell every neighbour we leave; later requests are refused. */
void mesh_leave(struct mesh *m);

#endif
