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
 * behind pull from it. */
uint64_t policy_startup_us(const struct policy *p, uint64_t buffer_us);
/* The policy a node runs: a source serves peers of every mode, so it
 * always keeps the mesh and push paths whatever its mode says. */
const struct policy *policy_of(const struct config *c);

#endif
