/* What a node serves to a segment request: partners only (a stranger that
 * never did the handshake gets nothing, so a request can never be answered
 * with more than it weighs), each within a budget.
 *
 * The budget is a token bucket per partner in segments: refilled at twice
 * the stream's segment rate (a partner pulls at most the whole stream from
 * us, and catches up after a failover), holding up to SERVE_BURST_S seconds
 * of the stream (the start-up backlog a new partner pulls at once). */
#ifndef ANYSEE_SERVE_H
#define ANYSEE_SERVE_H

#include <stdint.h>

#include "peer/overlay.h"

#define SERVE_RATE_FACTOR 2.0
#define SERVE_BURST_S 4.0

/* How many of `asked` segments p may be sent now (tokens taken). */
int serve_budget(struct partner *p, uint64_t period_us, int asked, uint64_t now_us);

#endif
