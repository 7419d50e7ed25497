#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "peer/buffer.h"
#include "peer/wire.h"

/* One full segment every second: the arithmetic in the tests stays exact. */
#define RATE_1S ((uint64_t)WIRE_SEG_PAYLOAD_MAX * 8u)
#define SEC 1000000u

static uint8_t payload[WIRE_SEG_PAYLOAD_MAX];

/* A segment whose payload and fields identify seq, so a mixed-up slot shows. */
static struct wire_seg_data seg(uint32_t seq)
{
	memset(payload, (int)(seq & 0xff), sizeof(payload));
	return (struct wire_seg_data){
	    .seq = seq,
	    .origin_us = 1000u + seq,
	    .hops = (uint8_t)(seq % 7 + 1),
	    .checksum = seq * 31u,
	    .len = (uint16_t)(100 + seq % 50),
	    .payload = payload,
	};
}

static int put(struct buffer *b, uint32_t seq, uint64_t now_us)
{
	struct wire_seg_data sd = seg(seq);
	return buffer_put(b, &sd, now_us);
}

/* A buffer of `slots` one-second segments. */
static void init_slots(struct buffer *b, uint32_t slots)
{
	assert_int_equal(buffer_init(b, RATE_1S, (uint64_t)slots * SEC), 0);
	assert_int_equal(b->capacity, slots);
}

static void test_period_from_rate(void **state)
{
	(void)state;
	struct buffer b;

	assert_int_equal(buffer_init(&b, RATE_1S, 40u * SEC), 0);
	assert_int_equal(b.period_us, SEC);
	buffer_free(&b);

	/* 300 kbit/s: 10528 bits per segment take 35093.3 us. */
	assert_int_equal(buffer_init(&b, 300000, 40u * SEC), 0);
	assert_int_equal(b.period_us, 35093);
	assert_int_equal(b.capacity, 40u * SEC / 35093);
	buffer_free(&b);

	/* So fast that a segment takes under 1 us: the period must not be 0. */
	assert_int_equal(buffer_init(&b, 1000000000000ull, SEC), 0);
	assert_int_equal(b.period_us, 1);
	buffer_free(&b);

	assert_int_equal(buffer_init(&b, 0, 40u * SEC), -1);
	buffer_free(&b);
}

static void test_capacity_bounds(void **state)
{
	(void)state;
	struct buffer b;

	/* A shorter buffer still holds 16 segments. */
	assert_int_equal(buffer_init(&b, RATE_1S, 15u * SEC), 0);
	assert_int_equal(b.capacity, 16);
	buffer_free(&b);

	/* The paper's top rate: 120 s at 800 kbit/s is 9118 segments of 13.16 ms,
	 * all of them kept (a map-sized ring cut it to 54 s). */
	assert_int_equal(buffer_init(&b, 800000, 120u * SEC), 0);
	assert_int_equal(b.capacity, 120u * SEC / 13160);
	assert_true((uint64_t)b.capacity * b.period_us >= 120u * SEC - b.period_us);
	buffer_free(&b);

	/* 120 s of 10 Mbit/s is about 114000 segments: capped by the ring. */
	assert_int_equal(buffer_init(&b, 10000000, 120u * SEC), 0);
	assert_int_equal(b.capacity, BUFFER_MAX_SEGMENTS);
	buffer_free(&b);

	init_slots(&b, 40);
	buffer_free(&b);
}

static void test_put_get_has(void **state)
{
	(void)state;
	struct buffer b;
	init_slots(&b, 16);

	assert_false(buffer_has(&b, 0));
	assert_null(buffer_get(&b, 0));
	assert_int_equal(buffer_oldest(&b), 0);

	assert_int_equal(put(&b, 5, 777), 1);
	assert_true(buffer_has(&b, 5));
	assert_false(buffer_has(&b, 4));
	assert_false(buffer_has(&b, 6));
	/* Same slot (5 + capacity), different sequence. */
	assert_false(buffer_has(&b, 21));

	struct wire_seg_data want = seg(5);
	const struct segment *s = buffer_get(&b, 5);
	assert_non_null(s);
	assert_int_equal(s->seq, 5);
	assert_int_equal(s->origin_us, want.origin_us);
	assert_int_equal(s->arrival_us, 777);
	assert_int_equal(s->checksum, want.checksum);
	assert_int_equal(s->hops, want.hops);
	assert_int_equal(s->len, want.len);
	assert_memory_equal(s->data, want.payload, want.len);
	assert_int_equal(b.st.received, 1);

	/* An oversized payload is refused, not truncated. */
	struct wire_seg_data big = seg(6);
	big.len = WIRE_SEG_PAYLOAD_MAX + 1;
	assert_int_equal(buffer_put(&b, &big, 0), 0);
	assert_false(buffer_has(&b, 6));
	assert_int_equal(b.st.received, 1);

	buffer_free(&b);
}

static void test_duplicates_counted(void **state)
{
	(void)state;
	struct buffer b;
	init_slots(&b, 16);

	assert_int_equal(put(&b, 3, 10), 1);
	assert_int_equal(put(&b, 3, 20), 0);
	assert_int_equal(put(&b, 3, 30), 0);
	assert_int_equal(b.st.received, 1);
	assert_int_equal(b.st.duplicates, 2);
	/* The first copy stays. */
	assert_int_equal(buffer_get(&b, 3)->arrival_us, 10);

	buffer_free(&b);
}

static void test_outdated_rejected(void **state)
{
	(void)state;
	struct buffer b;
	init_slots(&b, 16);

	assert_int_equal(put(&b, 100, 0), 1);
	assert_int_equal(buffer_oldest(&b), 85);
	assert_int_equal(put(&b, 84, 0), 0);
	assert_false(buffer_has(&b, 84));
	assert_int_equal(put(&b, 85, 0), 1);
	assert_true(buffer_has(&b, 85));
	/* Older than the window is neither a receipt nor a duplicate. */
	assert_int_equal(b.st.received, 2);
	assert_int_equal(b.st.duplicates, 0);
	assert_int_equal(b.st.late, 0);

	/* Out of order within the window is fine and does not move newest. */
	assert_int_equal(put(&b, 90, 0), 1);
	assert_int_equal(b.newest, 100);
	assert_int_equal(buffer_oldest(&b), 85);

	buffer_free(&b);
}

static void test_ring_reuse(void **state)
{
	(void)state;
	struct buffer b;
	init_slots(&b, 16);

	for (uint32_t s = 0; s < 16; s++)
		assert_int_equal(put(&b, s, s), 1);
	assert_int_equal(buffer_oldest(&b), 0);
	assert_int_equal(buffer_run_from(&b, 0), 16);

	/* 16 takes 0's slot: 0 is gone, and cannot come back. */
	assert_int_equal(put(&b, 16, 16), 1);
	assert_int_equal(buffer_oldest(&b), 1);
	assert_false(buffer_has(&b, 0));
	assert_int_equal(put(&b, 0, 17), 0);
	const struct segment *s = buffer_get(&b, 16);
	assert_non_null(s);
	struct wire_seg_data want = seg(16);
	assert_int_equal(s->len, want.len);
	assert_memory_equal(s->data, want.payload, want.len);
	assert_int_equal(s->origin_us, want.origin_us);
	for (uint32_t q = 1; q <= 16; q++)
		assert_true(buffer_has(&b, q));
	assert_int_equal(b.st.received, 17);

	buffer_free(&b);
}

static void test_run_from(void **state)
{
	(void)state;
	struct buffer b;
	init_slots(&b, 16);

	for (uint32_t s = 10; s <= 13; s++)
		put(&b, s, 0);
	put(&b, 15, 0);
	assert_int_equal(buffer_run_from(&b, 10), 4);
	assert_int_equal(buffer_run_from(&b, 12), 2);
	assert_int_equal(buffer_run_from(&b, 14), 0);
	assert_int_equal(buffer_run_from(&b, 15), 1);
	assert_int_equal(buffer_run_from(&b, 9), 0);

	put(&b, 14, 0);
	assert_int_equal(buffer_run_from(&b, 10), 6);

	buffer_free(&b);
}

static void test_deadlines(void **state)
{
	(void)state;
	struct buffer b;
	assert_int_equal(buffer_init(&b, 300000, 40u * SEC), 0);

	buffer_start_playback(&b, 50, 7000000);
	assert_int_equal(buffer_deadline(&b, 50), 7000000);
	assert_int_equal(buffer_deadline(&b, 51), 7000000 + b.period_us);
	assert_int_equal(buffer_deadline(&b, 1050), 7000000 + 1000 * b.period_us);

	buffer_free(&b);
}

struct played {
	uint32_t seq[64];
	int on_time[64];
	int n;
};

static void record(void *arg, uint32_t seq, int on_time)
{
	struct played *p = arg;
	assert_true(p->n < 64);
	p->seq[p->n] = seq;
	p->on_time[p->n] = on_time;
	p->n++;
}

static void test_advance_accounting(void **state)
{
	(void)state;
	struct buffer b;
	struct played p = {0};
	init_slots(&b, 16);
	const uint64_t t0 = 100u * SEC;

	put(&b, 10, 0);
	put(&b, 11, 0);
	put(&b, 13, 0);
	assert_int_equal(buffer_advance(&b, t0 + 50u * SEC, record, &p), 0);

	buffer_start_playback(&b, 10, t0);
	assert_int_equal(buffer_advance(&b, t0 - 1, record, &p), 0);
	assert_int_equal(p.n, 0);

	assert_int_equal(buffer_advance(&b, t0, record, &p), 1);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.seq[0], 10);
	assert_true(p.on_time[0]);

	/* Just short of 13's deadline: 11 and 12 are due, 12 is missing. */
	assert_int_equal(buffer_advance(&b, t0 + 3u * SEC - 1, record, &p), 2);
	assert_int_equal(buffer_advance(&b, t0 + 3u * SEC, record, &p), 1);
	assert_int_equal(p.n, 4);
	assert_int_equal(p.seq[1], 11);
	assert_true(p.on_time[1]);
	assert_int_equal(p.seq[2], 12);
	assert_false(p.on_time[2]);
	assert_int_equal(p.seq[3], 13);
	assert_true(p.on_time[3]);

	/* Nothing new becomes due twice. */
	assert_int_equal(buffer_advance(&b, t0 + 3u * SEC, record, &p), 0);
	assert_int_equal(b.st.due, 4);
	assert_int_equal(b.st.on_time, 3);

	/* Without a callback the accounting still happens. */
	assert_int_equal(buffer_advance(&b, t0 + 5u * SEC, NULL, NULL), 2);
	assert_int_equal(b.st.due, 6);
	assert_int_equal(b.st.on_time, 3);

	buffer_free(&b);
}

static void test_late_rejected(void **state)
{
	(void)state;
	struct buffer b;
	init_slots(&b, 16);
	const uint64_t t0 = 100u * SEC;

	put(&b, 10, 0);
	put(&b, 11, 0);
	/* Before playback a gap can be filled at any time. */
	assert_int_equal(put(&b, 12, 0), 1);
	buffer_start_playback(&b, 10, t0);
	buffer_advance(&b, t0 + 3u * SEC, NULL, NULL);
	assert_int_equal(b.st.due, 4);
	assert_int_equal(b.st.on_time, 3);

	/* 13 was due at t0 + 3 s and missed it. */
	assert_int_equal(put(&b, 13, t0 + 3u * SEC + 1), 0);
	assert_false(buffer_has(&b, 13));
	assert_int_equal(b.st.late, 1);
	assert_int_equal(b.st.received, 3);
	/* A late copy of a played segment is late too, not stored again. */
	assert_int_equal(put(&b, 11, t0 + 3u * SEC + 1), 0);
	assert_int_equal(b.st.late, 2);

	/* 14 is not due yet: stored, and on time when its deadline comes. */
	assert_int_equal(put(&b, 14, t0 + 3u * SEC + 2), 1);
	assert_int_equal(buffer_advance(&b, t0 + 4u * SEC, NULL, NULL), 1);
	assert_int_equal(b.st.due, 5);
	assert_int_equal(b.st.on_time, 4);
	assert_int_equal(b.st.late, 2);

	buffer_free(&b);
}

/* On time is by arrival, not by when playback looks: the timer that
 * advances playback may run late (slack, a starved host), and a segment
 * stored after its deadline but before that run still missed it. */
static void test_on_time_by_arrival(void **state)
{
	(void)state;
	struct buffer b;
	struct played p = {0};
	init_slots(&b, 16);
	const uint64_t t0 = 100u * SEC;

	put(&b, 10, 0);
	buffer_start_playback(&b, 10, t0);
	/* 11 is due at t0 + 1 s: one comes exactly then, 12 a microsecond
	 * after its own deadline; playback looks only at t0 + 2.5 s. */
	assert_int_equal(put(&b, 11, t0 + 1u * SEC), 1);
	assert_int_equal(put(&b, 12, t0 + 2u * SEC + 1), 1);
	assert_int_equal(buffer_advance(&b, t0 + 2u * SEC + SEC / 2, record, &p), 3);
	assert_int_equal(p.n, 3);
	assert_true(p.on_time[0]);
	assert_true(p.on_time[1]);
	assert_false(p.on_time[2]);
	assert_int_equal(b.st.due, 3);
	assert_int_equal(b.st.on_time, 2);
	assert_int_equal(b.st.late, 1);

	buffer_free(&b);
}

static void assert_map_matches(const struct buffer *b, const struct wire_buffer_map *m)
{
	assert_true(m->nbits <= WIRE_MAX_MAP_BITS);
	assert_true(m->nbits <= b->capacity);
	for (uint32_t i = 0; i < m->nbits; i++)
		assert_int_equal(wire_map_get(m, m->base_seq + i), buffer_has(b, m->base_seq + i));
	for (uint32_t i = m->nbits; i < WIRE_MAX_MAP_BITS; i++)
		assert_int_equal((m->bits[i >> 3] >> (i & 7)) & 1, 0);
}

static void test_fill_map(void **state)
{
	(void)state;
	struct buffer b;
	struct wire_buffer_map m;
	init_slots(&b, 16);

	buffer_fill_map(&b, 0, &m);
	assert_int_equal(m.nbits, 0);

	put(&b, 3, 0);
	put(&b, 5, 0);
	put(&b, 6, 0);
	buffer_fill_map(&b, 0, &m);
	assert_int_equal(m.base_seq, 0);
	assert_int_equal(m.nbits, 7);
	assert_map_matches(&b, &m);
	assert_true(wire_map_get(&m, 3));
	assert_false(wire_map_get(&m, 4));
	assert_true(wire_map_get(&m, 6));

	/* After a jump the map covers exactly the kept window. */
	put(&b, 40, 0);
	put(&b, 30, 0);
	buffer_fill_map(&b, 0, &m);
	assert_int_equal(m.base_seq, 25);
	assert_int_equal(m.nbits, 16);
	assert_map_matches(&b, &m);
	assert_true(wire_map_get(&m, 30));
	assert_true(wire_map_get(&m, 40));
	assert_false(wire_map_get(&m, 6));

	/* From a later point the map is shorter; from past the newest, empty. */
	buffer_fill_map(&b, 35, &m);
	assert_int_equal(m.base_seq, 35);
	assert_int_equal(m.nbits, 6);
	assert_map_matches(&b, &m);
	buffer_fill_map(&b, 41, &m);
	assert_int_equal(m.nbits, 0);

	buffer_free(&b);
}

static void test_fill_map_full_capacity(void **state)
{
	(void)state;
	struct buffer b;
	struct wire_buffer_map m;
	assert_int_equal(buffer_init(&b, 800000, 120u * SEC), 0);
	assert_true(b.capacity > WIRE_MAX_MAP_BITS);

	/* Every third segment over more than two rings: a map is at most
	 * WIRE_MAX_MAP_BITS, ending at the newest. */
	for (uint32_t s = 0; s < 3 * b.capacity; s += 3)
		put(&b, s, 0);
	buffer_fill_map(&b, 0, &m);
	assert_int_equal(m.nbits, WIRE_MAX_MAP_BITS);
	assert_int_equal(m.base_seq + m.nbits - 1, b.newest);
	assert_map_matches(&b, &m);

	buffer_free(&b);
}

/* Sequence numbers wrap at 2^32 and keep their order (serial numbers). */
static void test_wraps(void **state)
{
	(void)state;
	struct buffer b;
	struct wire_buffer_map m;
	init_slots(&b, 16);

	for (uint32_t s = UINT32_MAX - 3; s != 4; s++)
		assert_int_equal(put(&b, s, 0), 1);
	assert_int_equal(b.newest, 3);
	assert_int_equal(buffer_oldest(&b), (uint32_t)(3 - 16 + 1));
	assert_int_equal(buffer_run_from(&b, UINT32_MAX - 3), 8);
	/* Older than the ring across the wrap is outdated, not new. */
	assert_int_equal(put(&b, UINT32_MAX - 14, 0), 0);
	assert_int_equal(b.newest, 3);

	buffer_fill_map(&b, UINT32_MAX - 1, &m);
	assert_int_equal(m.base_seq, UINT32_MAX - 1);
	assert_int_equal(m.nbits, 6);
	assert_true(wire_map_get(&m, UINT32_MAX));
	assert_true(wire_map_get(&m, 2));
	assert_false(wire_map_get(&m, UINT32_MAX - 2));

	/* Playback deadlines run on across the wrap. */
	buffer_start_playback(&b, UINT32_MAX - 3, 0);
	assert_int_equal(buffer_advance(&b, 7u * SEC, NULL, NULL), 8);
	assert_int_equal(b.st.on_time, 8);
	assert_int_equal(b.next_due, 4);
	buffer_free(&b);
}

/* One forged segment far ahead must not make every real one outdated: a
 * playing buffer takes only [next due, next due + capacity). */
static void test_window_far_ahead(void **state)
{
	(void)state;
	struct buffer b;
	init_slots(&b, 16);
	for (uint32_t s = 100; s < 104; s++)
		put(&b, s, 0);
	buffer_start_playback(&b, 100, 0);
	assert_int_equal(put(&b, 0xFFFFFF00u, 0), 0);
	assert_int_equal(put(&b, 100 + (1u << 30), 0), 0);
	assert_int_equal(put(&b, 100 + 16, 0), 0);
	/* 0xFFFFFF00 is before 100 by more than the ring: outdated. */
	assert_int_equal(b.st.out_of_window, 3);
	assert_int_equal(b.st.late, 0);
	assert_int_equal(b.newest, 103);
	/* The real stream goes on. */
	assert_int_equal(put(&b, 104, 0), 1);
	assert_int_equal(put(&b, 115, 0), 1);
	assert_int_equal(b.newest, 115);
	buffer_free(&b);
}

/* Before playback the window is anchored at the chosen start. */
static void test_window_anchor(void **state)
{
	(void)state;
	struct buffer b;
	init_slots(&b, 16);
	/* Not anchored (a source): anything goes. */
	assert_true(buffer_in_window(&b, 0x80000000u));
	buffer_anchor(&b, 50);
	assert_false(buffer_in_window(&b, 49));
	assert_true(buffer_in_window(&b, 50));
	assert_true(buffer_in_window(&b, 65));
	assert_false(buffer_in_window(&b, 66));
	assert_int_equal(put(&b, 70, 0), 0);
	assert_int_equal(put(&b, 40, 0), 0);
	assert_int_equal(b.st.out_of_window, 2);
	assert_int_equal(put(&b, 52, 0), 1);
	buffer_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_period_from_rate),
	    cmocka_unit_test(test_capacity_bounds),
	    cmocka_unit_test(test_put_get_has),
	    cmocka_unit_test(test_duplicates_counted),
	    cmocka_unit_test(test_outdated_rejected),
	    cmocka_unit_test(test_ring_reuse),
	    cmocka_unit_test(test_run_from),
	    cmocka_unit_test(test_deadlines),
	    cmocka_unit_test(test_advance_accounting),
	    cmocka_unit_test(test_late_rejected),
	    cmocka_unit_test(test_on_time_by_arrival),
	    cmocka_unit_test(test_fill_map),
	    cmocka_unit_test(test_fill_map_full_capacity),
	    cmocka_unit_test(test_wraps),
	    cmocka_unit_test(test_window_far_ahead),
	    cmocka_unit_test(test_window_anchor),
	};
	return cmocka_run_group_tests_name("buffer", tests, NULL, NULL);
}
