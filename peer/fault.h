/* Deliberate faults, for testing the regression gate: a sound build run
 * with --debug-forward-delay or --debug-forward-drop sends segments on
 * (pushed, relayed, served, or from the source) late or not at all, and
 * `anysee-analyze check` must catch the run. Off unless asked for; never
 * part of an experiment. */
#ifndef ANYSEE_FAULT_H
#define ANYSEE_FAULT_H

#include <stdint.h>

#include "lib/util.h"
#include "peer/udp.h"
#include "peer/wire.h"

struct loop;
struct fault_held;

struct fault {
	uint64_t delay_us;
	double drop;
	struct rng rng; /* its own, so the node's random choices stay as they are */
	struct loop *loop;
	struct udp *udp;
	struct fault_held *held; /* datagrams waiting out the delay */
	uint64_t delayed, dropped;
};

void fault_init(struct fault *f, uint64_t delay_us, double drop, uint64_t seed, struct loop *l,
                struct udp *u);
int fault_active(const struct fault *f);
/* Takes a segment the node sends: 1 when it is held back or dropped, 0
 * when the caller sends it now. */
int fault_forward(struct fault *f, uint32_t ip, uint16_t port, const struct wire_msg *m);
/* Frees what is still held (never sent). */
void fault_free(struct fault *f);

#endif
