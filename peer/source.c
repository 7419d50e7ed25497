#include "peer/source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "peer/auth.h"
#include "peer/media.h"
#include "peer/node.h"

int source_start(struct node *n)
{
	const char *in = n->cfg->ingest;
	n->synthetic = strcmp(in, "synthetic") == 0;
	if (!n->synthetic) {
		n->ingest = strcmp(in, "-") == 0 ? stdin : fopen(in, "rbe");
		if (!n->ingest) {
			err_errno("open ingest file %s", in);
			return -1;
		}
	}
	n->generated = 0;
	if (n->cfg->no_auth)
		return 0;
	/* One batch interval of segments, and room for timer lateness. */
	struct source_queue *q = &n->sq;
	q->cap = (int)(AUTH_BATCH_US / n->ov.buf.period_us) + 16;
	q->s = calloc((size_t)q->cap, sizeof(*q->s));
	if (!q->s) {
		err_msg("allocate the signing queue of %d segments: out of memory", q->cap);
		return -1;
	}
	return 0;
}

void source_stop(struct node *n)
{
	free(n->sq.s);
	n->sq.s = NULL;
	if (n->ingest && n->ingest != stdin)
		fclose(n->ingest);
	n->ingest = NULL;
}

/* Read one segment's worth of media; a file loops at its end so a short
 * clip can feed a long run, standard input ends the stream. */
static size_t read_media(struct node *n, uint8_t *buf)
{
	size_t got = fread(buf, 1, WIRE_SEG_PAYLOAD_MAX, n->ingest);
	if (got < WIRE_SEG_PAYLOAD_MAX && n->ingest != stdin && !ferror(n->ingest)) {
		rewind(n->ingest);
		got += fread(buf + got, 1, WIRE_SEG_PAYLOAD_MAX - got, n->ingest);
	}
	return got;
}

/* A made segment goes out: stored for serving and pushed to children. */
static void release(struct node *n, const struct wire_seg_data *sd, uint64_t now)
{
	buffer_put(&n->ov.buf, sd, now);
	inter_push(&n->inter, n->ov.stream, sd);
}

/* Sign the batch and send its hash list, before any of its segments. */
static void close_batch(struct node *n)
{
	struct source_queue *q = &n->sq;
	auth_sign(&n->key, n->ov.stream, &q->batch);
	auth_add_own(&n->auth, &q->batch);
	node_spread_list(n, &q->batch, 0);
	q->batch.count = 0;
	q->lists++;
}

static void release_head(struct node *n, uint64_t now)
{
	struct source_queue *q = &n->sq;
	release(n, &q->s[q->head].sd, now);
	q->head = (q->head + 1) % q->cap;
	q->n--;
}

/* Queue a made segment for release one interval after made_us and add its
 * hash to the batch. The queue holds one interval (flush runs first), so
 * it is never full; were it, the oldest would go early, after its list. */
static void enqueue(struct node *n, const struct wire_seg_data *sd, uint64_t made_us, uint64_t now)
{
	struct source_queue *q = &n->sq;
	if (q->n == q->cap) {
		if (q->batch.count)
			close_batch(n);
		release_head(n, now);
	}
	struct source_seg *e = &q->s[(q->head + q->n++) % q->cap];
	e->sd = *sd;
	memcpy(e->data, sd->payload, sd->len);
	e->sd.payload = e->data;
	e->release_us = made_us + AUTH_BATCH_US;
	if (!q->batch.count) {
		q->batch.first = sd->seq;
		q->batch_open_us = made_us;
	}
	auth_seg_hash(n->ov.stream, sd, q->batch.hash[q->batch.count++]);
	if (q->batch.count == WIRE_MAX_HASHES)
		close_batch(n);
}

/* Close the batch when its interval is over by `upto`, then release what
 * is due by then. A segment is released one interval after it was made,
 * and its batch opened no earlier: its list has always gone first.
 * Returns the time of the next of these. */
static uint64_t flush(struct node *n, uint64_t upto, uint64_t now)
{
	struct source_queue *q = &n->sq;
	if (q->batch.count && upto - q->batch_open_us >= AUTH_BATCH_US)
		close_batch(n);
	while (q->n && q->s[q->head].release_us <= upto)
		release_head(n, now);
	uint64_t next = UINT64_MAX;
	if (q->batch.count)
		next = q->batch_open_us + AUTH_BATCH_US;
	if (q->n && q->s[q->head].release_us < next)
		next = q->s[q->head].release_us;
	return next;
}

/* Generate every segment due by now; pacing follows the monotonic clock so
 * the long-run rate is exact whatever the timer jitter. */
uint64_t source_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	struct buffer *b = &n->ov.buf;
	uint64_t now = mono_us(), real_now = real_us();
	uint8_t payload[WIRE_SEG_PAYLOAD_MAX];
	/* Segments carry the stream id the rendezvous point assigns: wait for it. */
	if (!n->ov.stream)
		return 50000;
	if (!n->gen_t0_us)
		n->gen_t0_us = now;
	struct source_queue *q = &n->sq;
	/* Pacing counts segments in 64 bits: the 32-bit sequence wraps (serial
	 * numbers, wire.h), the schedule must not. */
	while (!q->ended && n->gen_t0_us + n->generated * b->period_us <= now) {
		uint64_t made = n->gen_t0_us + n->generated * b->period_us;
		uint32_t seq = (uint32_t)n->generated;
		uint64_t origin = real_us();
		/* The origin stamp is the release time (auth.h), on the real-time
		 * clock read with now, so it is never after the actual release. */
		if (q->s)
			origin = real_now + made + AUTH_BATCH_US - now;
		size_t len = WIRE_SEG_PAYLOAD_MAX;
		if (n->synthetic) {
			media_synth_fill(n->ov.stream, seq, origin, payload, len);
		} else {
			len = read_media(n, payload);
			if (!len) {
				evlog_event(&n->log, "ingest_end", "seq=%u", seq);
				q->ended = 1;
				break;
			}
		}
		struct wire_seg_data sd = {
		    .seq = seq,
		    .origin_us = origin,
		    .hops = 0,
		    .checksum = wire_checksum(payload, len),
		    .len = (uint16_t)len,
		    .payload = payload,
		};
		if (q->s) {
			/* What fell due while the timer was late goes first, so the
			 * queue holds one interval however late it was. */
			flush(n, made, now);
			enqueue(n, &sd, made, now);
		} else
			release(n, &sd, now);
		n->generated++;
	}
	uint64_t next = q->ended ? UINT64_MAX : n->gen_t0_us + n->generated * b->period_us;
	if (q->s) {
		uint64_t f = flush(n, now, now);
		next = f < next ? f : next;
	}
	if (next == UINT64_MAX)
		return 0; /* the ingest ended and everything made went out */
	return next > now ? next - now : 1;
}
