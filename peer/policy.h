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
/* The policy a node runs: a source serves peers of every mode, so it
 * always keeps the mesh and push paths whatever its mode says. */
const struct policy *policy_of(const struct config *c);

#endif
