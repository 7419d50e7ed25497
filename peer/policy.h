/* The streaming policy: which of the peer's mechanisms run, chosen once at
 * start from the mode. Modules read their switch from here, so a new mode
 * (an ablation that turns one mechanism off) is one more table entry. */
#ifndef ANYSEE_POLICY_H
#define ANYSEE_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "peer/config.h"

struct policy {
	const char *name;   /* as --mode spells it; also in events.log and /status */
	bool mesh;          /* keep LTM-matched mesh neighbours across streams */
	bool mesh_partners; /* look for partners among the nearest neighbours first */
	bool push_paths;    /* inter-overlay push paths, key-node admission on them */
	bool intra_only;    /* trace and build paths only through peers of the own overlay */
	bool layer_buffer;  /* playout buffer from the peer's layer (eq. 12) */
	uint64_t buffer_us; /* buffer length unless --buffer is given */
};

const struct policy *policy_for(enum mode mode);

/* The start rule: a peer starts playback once it holds, without a gap
 * from its start point, the media this returns (unless --startup sets
 * it). The AnySee paper ties startup to buffer size (end of section III.F:
 * the baseline needs a big buffer, and "a small buffer often means a
 * shorter startup delay"; 40 s against 120 s in sections IV and V) but
 * gives no share, and the DONet paper's text we could consult gives its
 * sliding window (120 one-second segments) and deadline-driven pulling,
 * not a start threshold. Assumed, in every mode: the playout buffer, the
 * media held ahead of the playback point, is half the buffer; the other
 * half holds what arrives while the peer fills it (its start point must
 * stay in the ring until playback starts) and what partners lagging
 * behind pull from it. A policy with layer_buffer holds its layer's
 * buffer instead (policy_layer_buffer_us), at most that half. layer is
 * the peer's hop count from the source, 0 when not known yet. */
uint64_t policy_startup_us(const struct policy *p, uint64_t buffer_us, int layer);

/* AnySee's layer-aware buffer (eq. 10 to 12, section V.B.2): a peer m
 * overlay hops from the source needs
 *   T_A = eps * t_b * (1 - (1 - P_b)^m) + m * mu
 * of media: eps disconnections, each costing t_b to find a new parent
 * with probability 1 - (1 - P_b)^m that one of its m upstream links or
 * nodes fails, plus m hops of transport delay mu. The paper's values (end
 * of section V.C): mu = 20 ms, t_b = 2 s, P_b = 0.4, eps = 2; so 1.62 s
 * at the first layer, rising towards 4 s. In the anysee modes this is
 * the playout buffer of the start rule; the ring keeps the mode's 40 s
 * (the paper's initial buffer size) for partners' backlogs. A layer not
 * known yet (no segment stored) counts as POLICY_LAYER_MAX, the height
 * the paper's trees stayed under, so the start point chosen then holds
 * every layer's buffer. */
#define POLICY_LAYER_MAX 7
uint64_t policy_layer_buffer_us(int layer);
/* The policy a node runs: a source serves peers of every mode, so it
 * always keeps the mesh and push paths whatever its mode says. */
const struct policy *policy_of(const struct config *c);

#endif
