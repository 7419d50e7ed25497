/* The runner's queue of scheduled events: filled from the scenario's
 * declared schedule, drained in firing order as the run goes, and refilled
 * by every() callbacks, which come back after each period. */
#ifndef ANYSEE_EVQUEUE_H
#define ANYSEE_EVQUEUE_H

#include "harness/scenario.h"

struct evqueue {
	struct sched_event *ev; /* sorted; ev[head..n) are still to fire */
	int n, cap, head;
};

/* Copy the n events of sched (already in firing order). Returns 0 or -1
 * with err set. */
int evqueue_init(struct evqueue *q, const struct sched_event *sched, int n, char *err,
                 size_t errlen);
void evqueue_free(struct evqueue *q);
/* The next event to fire, or NULL when none is left. */
const struct sched_event *evqueue_peek(const struct evqueue *q);
/* Remove the next event into *e; 0, or -1 when none is left. */
int evqueue_pop(struct evqueue *q, struct sched_event *e);
/* Queue e after every pending event due at or before e.t. Returns 0 or -1
 * with err set. */
int evqueue_push(struct evqueue *q, struct sched_event e, char *err, size_t errlen);

#endif
