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
 * The decisions here are pure; node.c sends what they ask for.
 */
#ifndef ANYSEE_MESH_H
#define ANYSEE_MESH_H

#include <stddef.h>
#include <stdint.h>

#include "peer/wire.h"

#define MESH_MAX 16
#define MESH_SEEN 512
#define MESH_PENDING 16

struct mesh_nb {
	struct wire_addr addr;
	uint16_t stream;   /* stream the neighbour watches (0 unknown) */
	uint32_t delay_us; /* one-way delay neighbour -> us, from its detectors */
	int have_delay;
	uint64_t last_heard_us; /* monotonic */
};

/* A pending direct measurement towards s, to decide about replacing n. */
struct mesh_pending {
	struct wire_addr s;
	uint32_t n_id;
	uint32_t d_np_us;
	uint64_t sent_us;
};

struct mesh {
	int target; /* M: neighbours to keep */
	int max;    /* accepted when asked, >= target */
	struct mesh_nb nb[MESH_MAX];
	int n;
	uint32_t next_msg_id;
	uint64_t seen[MESH_SEEN]; /* (source id << 32 | msg id) of forwarded dms */
	int seen_next;
	struct mesh_pending pend[MESH_PENDING];
	int npend;
};

enum ltm_verdict {
	LTM_KEEP,      /* nothing to change */
	LTM_CUT_NP,    /* N-P is the slowest link of the triangle: drop it */
	LTM_PROBE_S,   /* S is not a neighbour: measure d(S,P) first */
	LTM_REPLACE_N, /* S (not a neighbour) is closer than N: take S, drop N */
};

/* The LTM rule for P, given d(S,N), d(N,P) and, if known, d(S,P); a link
 * counts as slower only by a clear margin (1 ms and 10%). */
enum ltm_verdict mesh_ltm_decide(uint32_t d_sn, uint32_t d_np, int s_is_neighbour, int have_sp,
                                 uint32_t d_sp);

void mesh_init(struct mesh *m, int target, int max);
struct mesh_nb *mesh_find(struct mesh *m, uint32_t id);
/* Add or refresh; NULL when full. */
struct mesh_nb *mesh_add(struct mesh *m, const struct wire_addr *a, uint16_t stream, uint64_t now);
void mesh_del(struct mesh *m, uint32_t id);
/* Mean one-way delay to the neighbours whose delay is known (0 if none). */
double mesh_mean_delay_us(const struct mesh *m, int *count);
/* 1 the first time (src, msg_id) is seen, 0 after: a dm is forwarded once. */
int mesh_first_seen(struct mesh *m, uint32_t src, uint32_t msg_id);
/* Remember a probe; the oldest is forgotten when the table is full. */
void mesh_pending_add(struct mesh *m, const struct wire_addr *s, uint32_t n_id, uint32_t d_np,
                      uint64_t now);
/* Take the pending entry for s, if any. */
int mesh_pending_take(struct mesh *m, uint32_t s_id, struct mesh_pending *out);

#endif
