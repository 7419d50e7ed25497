#include "peer/source.h"

#include <errno.h>
#include <string.h>

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
	return 0;
}

void source_stop(struct node *n)
{
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

/* Generate every segment due by now; pacing follows the monotonic clock so
 * the long-run rate is exact whatever the timer jitter. */
uint64_t source_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	struct buffer *b = &n->ov.buf;
	uint64_t now = mono_us();
	uint8_t payload[WIRE_SEG_PAYLOAD_MAX];
	/* Segments carry the stream id the rendezvous point assigns: wait for it. */
	if (!n->ov.stream)
		return 50000;
	if (!n->gen_t0_us)
		n->gen_t0_us = now;
	/* Pacing counts segments in 64 bits: the 32-bit sequence wraps (serial
	 * numbers, wire.h), the schedule must not. */
	while (n->gen_t0_us + n->generated * b->period_us <= now) {
		uint32_t seq = (uint32_t)n->generated;
		uint64_t origin = real_us();
		size_t len = WIRE_SEG_PAYLOAD_MAX;
		if (n->synthetic) {
			media_synth_fill(n->ov.stream, seq, origin, payload, len);
		} else {
			len = read_media(n, payload);
			if (!len) {
				evlog_event(&n->log, "ingest_end", "seq=%u", seq);
				return 0;
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
		buffer_put(b, &sd, now);
		inter_push(&n->inter, n->ov.stream, &sd);
		n->generated++;
	}
	uint64_t next = n->gen_t0_us + n->generated * b->period_us;
	return next > now ? next - now : 1;
}
