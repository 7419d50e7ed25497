/* What a node serves on request: to partners (segments and hash lists) and
 * to push and relay children (hash lists), never to a stranger that did
 * not do the handshake, so a request is never answered with more than it
 * weighs; and to each within a budget.
 *
 * The budget is a token bucket per partner or child in segments: refilled
 * at twice the stream's segment rate (a partner pulls at most the whole
 * stream from us, and catches up after a failover), holding up to
 * SERVE_BURST_S seconds of the stream (the start-up backlog a new partner
 * pulls at once). A hash list (64 hashes and a signature, 1.1 KB) weighs
 * less than a segment of the largest payload and costs one token: the
 * source signs one list a batch, about one for every 28 segments of a
 * 300 kbit/s stream, so an honest requester's lists cost it little, and
 * one that asks for nothing but lists gets no more than the stream's
 * worth it could have pulled anyway. */
#ifndef ANYSEE_SERVE_H
#define ANYSEE_SERVE_H

#include <stdint.h>

#include "lib/util.h"

#define SERVE_RATE_FACTOR 2.0
#define SERVE_BURST_S 4.0

/* How many of `asked` segments (or lists) the requester whose budget is b
 * may be sent now, on a stream of a segment every period_us (tokens
 * taken). */
int serve_budget(struct bucket *b, uint64_t period_us, int asked, uint64_t now_us);

#endif
