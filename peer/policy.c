#include "peer/policy.h"

#include <math.h>

static const struct policy policies[] = {
    [MODE_ANYSEE] = {.name = "anysee",
                     .mesh = true,
                     .mesh_partners = true,
                     .push_paths = true,
                     .layer_buffer = true,
                     .buffer_us = 40000000u},
    /* The ablation: AnySee's intra-overlay optimization alone (LTM mesh,
     * push paths, key-node admission) with every path inside the peer's own
     * overlay, so a gain splits into what intra-overlay optimization gives
     * and what relays through other overlays add. */
    [MODE_ANYSEE_INTRA] = {.name = "anysee-intra",
                           .mesh = true,
                           .mesh_partners = true,
                           .push_paths = true,
                           .intra_only = true,
                           .layer_buffer = true,
                           .buffer_us = 40000000u},
    /* DONet: random partners from the bootstrap list, pull only; a longer
     * buffer makes up for the lack of push. */
    [MODE_COOLSTREAMING] = {.name = "coolstreaming",
                            .mesh = false,
                            .mesh_partners = false,
                            .push_paths = false,
                            .buffer_us = 120000000u},
};

const struct policy *policy_for(enum mode mode)
{
	return &policies[mode];
}

const struct policy *policy_of(const struct config *c)
{
	return policy_for(c->role == ROLE_SOURCE ? MODE_ANYSEE : c->mode);
}

/* The paper's parameter values (section V.C). */
#define LAYER_MU_US 20000.0   /* transport delay per hop */
#define LAYER_TB_US 2000000.0 /* time to find a new parent */
#define LAYER_PB 0.4          /* failure probability of a link or node */
#define LAYER_EPS 2.0         /* disconnections of one connection */

uint64_t policy_layer_buffer_us(int layer)
{
	if (layer < 1)
		layer = POLICY_LAYER_MAX;
	double t = LAYER_EPS * LAYER_TB_US * (1 - pow(1 - LAYER_PB, layer)) + layer * LAYER_MU_US;
	return (uint64_t)llround(t);
}

uint64_t policy_startup_us(const struct policy *p, uint64_t buffer_us, int layer)
{
	uint64_t half = buffer_us / 2;
	if (!p->layer_buffer)
		return half;
	uint64_t t = policy_layer_buffer_us(layer);
	return t < half ? t : half;
}
