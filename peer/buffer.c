#include "peer/buffer.h"

#include <stdlib.h>
#include <string.h>

int buffer_init(struct buffer *b, uint64_t rate_bps, uint64_t capacity_us)
{
	memset(b, 0, sizeof(*b));
	if (!rate_bps)
		return -1;
	b->period_us = (uint64_t)WIRE_SEG_PAYLOAD_MAX * 8u * 1000000u / rate_bps;
	if (!b->period_us)
		b->period_us = 1;
	uint64_t cap = capacity_us / b->period_us;
	if (cap < 16)
		cap = 16;
	if (cap > WIRE_MAX_MAP_BITS)
		cap = WIRE_MAX_MAP_BITS;
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
	if (!b->have_any || b->newest < b->capacity - 1)
		return 0;
	return b->newest - b->capacity + 1;
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

int buffer_put(struct buffer *b, const struct wire_seg_data *sd, uint64_t now_us)
{
	if (sd->len > WIRE_SEG_PAYLOAD_MAX)
		return 0;
	if (b->have_any && sd->seq < buffer_oldest(b))
		return 0;
	if (b->playing && sd->seq < b->next_due) {
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
	if (!b->have_any || sd->seq > b->newest) {
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
	while (buffer_deadline(b, b->next_due) <= now_us) {
		int ok = buffer_has(b, b->next_due);
		b->st.due++;
		b->st.on_time += (uint64_t)ok;
		if (fn)
			fn(arg, b->next_due, ok);
		b->next_due++;
		n++;
	}
	return n;
}

void buffer_fill_map(const struct buffer *b, struct wire_buffer_map *m)
{
	memset(m, 0, sizeof(*m));
	if (!b->have_any)
		return;
	m->base_seq = buffer_oldest(b);
	uint32_t span = b->newest - m->base_seq + 1;
	m->nbits = (uint16_t)(span < WIRE_MAX_MAP_BITS ? span : WIRE_MAX_MAP_BITS);
	for (uint32_t i = 0; i < m->nbits; i++)
		if (buffer_has(b, m->base_seq + i))
			wire_map_set(m, m->base_seq + i);
}
