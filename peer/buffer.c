#include "peer/buffer.h"

#include <stdlib.h>
#include <string.h>

int buffer_init(struct buffer *b, uint64_t rate_bps, uint64_t capacity_us)
{
	memset(b, 0, sizeof(*b));
	if (!rate_bps)
		return -1;
	b->period_us = wire_seg_period_us(rate_bps);
	if (!b->period_us)
		b->period_us = 1;
	uint64_t cap = capacity_us / b->period_us;
	if (cap < 16)
		cap = 16;
	if (cap > BUFFER_MAX_SEGMENTS)
		cap = BUFFER_MAX_SEGMENTS;
	b->capacity = (uint32_t)cap;
	b->slot = calloc(b->capacity, sizeof(*b->slot));
	return b->slot ? 0 : -1;
}

void buffer_free(struct buffer *b)
{
	free(b->slot);
	b->slot = NULL;
}

uint32_t buffer_oldest(const struct buffer *b)
{
	return b->have_any ? b->newest - b->capacity + 1 : 0;
}

const struct segment *buffer_get(const struct buffer *b, uint32_t seq)
{
	if (!b->have_any)
		return NULL;
	const struct segment *s = &b->slot[seq % b->capacity];
	return s->valid && s->seq == seq ? s : NULL;
}

int buffer_has(const struct buffer *b, uint32_t seq)
{
	return buffer_get(b, seq) != NULL;
}

void buffer_anchor(struct buffer *b, uint32_t anchor)
{
	b->anchored = 1;
	b->anchor = anchor;
}

int buffer_in_window(const struct buffer *b, uint32_t seq)
{
	if (b->have_any && seq_lt(seq, buffer_oldest(b)))
		return 0;
	if (!b->anchored)
		return 1;
	uint32_t lo = b->playing ? b->next_due : b->anchor;
	/* Behind the playback point is late, not out of the window. */
	if (b->playing && seq_lt(seq, lo))
		return 1;
	return seq - lo < b->capacity;
}

int buffer_put(struct buffer *b, const struct wire_seg_data *sd, uint64_t now_us)
{
	if (sd->len > WIRE_SEG_PAYLOAD_MAX)
		return 0;
	if (!buffer_in_window(b, sd->seq)) {
		b->st.out_of_window++;
		return 0;
	}
	if (b->playing && seq_lt(sd->seq, b->next_due)) {
		/* Past its deadline: useless for playback, still counted. */
		b->st.late++;
		return 0;
	}
	if (buffer_has(b, sd->seq)) {
		b->st.duplicates++;
		return 0;
	}
	struct segment *s = &b->slot[sd->seq % b->capacity];
	s->seq = sd->seq;
	s->origin_us = sd->origin_us;
	s->arrival_us = now_us;
	s->checksum = sd->checksum;
	s->len = sd->len;
	s->hops = sd->hops;
	s->valid = 1;
	memcpy(s->data, sd->payload, sd->len);
	if (!b->have_any || seq_lt(b->newest, sd->seq)) {
		b->newest = sd->seq;
		b->have_any = 1;
	}
	b->st.received++;
	return 1;
}

uint32_t buffer_run_from(const struct buffer *b, uint32_t seq)
{
	uint32_t n = 0;
	while (n < b->capacity && buffer_has(b, seq + n))
		n++;
	return n;
}

void buffer_start_playback(struct buffer *b, uint32_t start_seq, uint64_t now_us)
{
	b->playing = 1;
	buffer_anchor(b, start_seq);
	b->start_seq = start_seq;
	b->next_due = start_seq;
	b->play_t0_us = now_us;
}

uint64_t buffer_deadline(const struct buffer *b, uint32_t seq)
{
	return b->play_t0_us + (uint64_t)(seq - b->start_seq) * b->period_us;
}

uint32_t buffer_advance(struct buffer *b, uint64_t now_us,
                        void (*fn)(void *arg, uint32_t seq, int on_time), void *arg)
{
	if (!b->playing)
		return 0;
	uint32_t n = 0;
	uint64_t deadline;
	while ((deadline = buffer_deadline(b, b->next_due)) <= now_us) {
		/* On time by its arrival, not by when this runs: the caller's timer
		 * may run late (by design, loop_set_slack, or starved of CPU), and
		 * a segment that came in meanwhile still missed its deadline. */
		const struct segment *s = buffer_get(b, b->next_due);
		int ok = s && s->arrival_us <= deadline;
		b->st.late += (uint64_t)(s && !ok);
		b->st.due++;
		b->st.on_time += (uint64_t)ok;
		if (fn)
			fn(arg, b->next_due, ok);
		b->next_due++;
		n++;
	}
	return n;
}

void buffer_fill_map(const struct buffer *b, uint32_t from, struct wire_buffer_map *m)
{
	memset(m, 0, sizeof(*m));
	if (!b->have_any || seq_lt(b->newest, from))
		return;
	uint32_t base = seq_max(from, buffer_oldest(b));
	uint32_t span = b->newest - base + 1;
	if (span > WIRE_MAX_MAP_BITS)
		span = WIRE_MAX_MAP_BITS;
	m->base_seq = b->newest - span + 1;
	m->nbits = (uint16_t)span;
	for (uint32_t i = 0; i < m->nbits; i++)
		if (buffer_has(b, m->base_seq + i))
			wire_map_set(m, m->base_seq + i);
}
