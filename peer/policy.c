#include "peer/policy.h"

static const struct policy policies[] = {
    [MODE_ANYSEE] = {.name = "anysee",
                     .mesh = true,
                     .mesh_partners = true,
                     .push_paths = true,
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

uint64_t policy_startup_us(const struct policy *p, uint64_t buffer_us)
{
	(void)p;
	return buffer_us / 2;
}
