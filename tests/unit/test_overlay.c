#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "peer/overlay.h"
#include "peer/serve.h"

/* One full segment a second, 64 s of buffer: a 64-slot window. */
#define RATE_1S ((uint64_t)WIRE_SEG_PAYLOAD_MAX * 8u)
#define CAP 64u
#define RETRY 1000000u
#define NOW 50000000u
#define SEC 1000000ull

static struct wire_addr addr(uint32_t id)
{
	return (struct wire_addr){.id = id, .ip = 0x0a000000u + id, .port = 7000};
}

static int setup(void **state)
{
	static struct overlay o;
	if (overlay_init(&o, 1, "tv1", RATE_1S, (uint64_t)CAP * 1000000u))
		return -1;
	if (o.buf.capacity != CAP)
		return -1;
	*state = &o;
	return 0;
}

static int teardown(void **state)
{
	overlay_free(*state);
	return 0;
}

/* Partner ids 1..n, each with an empty map over [0, CAP). */
static void add_partners(struct overlay *o, int n)
{
	for (int i = 0; i < n; i++) {
		struct wire_addr a = addr((uint32_t)i + 1);
		struct partner *p = overlay_partner_add(o, &a, 0);
		assert_non_null(p);
		p->have_map = 1;
		p->map.base_seq = 0;
		p->map.nbits = CAP;
	}
}

static void hold(struct overlay *o, int partner, uint32_t from, uint32_t to)
{
	for (uint32_t s = from; s <= to; s++)
		wire_map_set(&o->p[partner].map, s);
}

static void store(struct overlay *o, uint32_t seq)
{
	static uint8_t data[16];
	struct wire_seg_data sd = {.seq = seq, .len = sizeof(data), .payload = data};
	assert_int_equal(buffer_put(&o->buf, &sd, 0), 1);
}

static size_t sched(const struct overlay *o, uint32_t from, uint32_t to, const uint32_t *budget,
                    uint64_t now, struct sched_choice *out, size_t max)
{
	return overlay_schedule(o, from, to, budget, now, RETRY, out, max);
}

static int scheduled(const struct sched_choice *c, size_t n, uint32_t seq)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].seq == seq)
			return 1;
	return 0;
}

static void test_partner_add_refresh_del(void **state)
{
	struct overlay *o = *state;
	o->source = addr(9);

	struct wire_addr a = addr(5);
	struct partner *p = overlay_partner_add(o, &a, 100);
	assert_non_null(p);
	assert_int_equal(o->np, 1);
	assert_int_equal(p->last_heard_us, 100);
	assert_false(p->is_source);
	assert_ptr_equal(overlay_partner(o, 5), p);
	assert_null(overlay_partner(o, 6));

	/* Refresh: same entry, new address and time, map kept. */
	p->have_map = 1;
	a.port = 7100;
	assert_ptr_equal(overlay_partner_add(o, &a, 200), p);
	assert_int_equal(o->np, 1);
	assert_int_equal(p->last_heard_us, 200);
	assert_int_equal(p->addr.port, 7100);
	assert_true(p->have_map);

	struct wire_addr src = addr(9), c = addr(7);
	assert_true(overlay_partner_add(o, &src, 300)->is_source);
	struct partner *pc = overlay_partner_add(o, &c, 400);
	pc->have_map = 1;
	pc->map.base_seq = 77;
	assert_int_equal(o->np, 3);

	/* Deleting one leaves the others intact and findable. */
	overlay_partner_del(o, 5);
	assert_int_equal(o->np, 2);
	assert_null(overlay_partner(o, 5));
	assert_non_null(overlay_partner(o, 9));
	assert_true(overlay_partner(o, 9)->is_source);
	pc = overlay_partner(o, 7);
	assert_non_null(pc);
	assert_int_equal(pc->map.base_seq, 77);
	assert_int_equal(pc->last_heard_us, 400);

	overlay_partner_del(o, 42);
	assert_int_equal(o->np, 2);
	overlay_partner_del(o, 9);
	overlay_partner_del(o, 7);
	assert_int_equal(o->np, 0);
}

static void test_partner_table_full(void **state)
{
	struct overlay *o = *state;
	for (uint32_t id = 1; id <= OVERLAY_MAX_PARTNERS; id++) {
		struct wire_addr a = addr(id);
		assert_non_null(overlay_partner_add(o, &a, id));
	}
	struct wire_addr extra = addr(1000), known = addr(3);
	assert_null(overlay_partner_add(o, &extra, 0));
	assert_int_equal(o->np, OVERLAY_MAX_PARTNERS);
	/* A full table still refreshes the partners it has. */
	struct partner *p = overlay_partner_add(o, &known, 999);
	assert_non_null(p);
	assert_int_equal(p->last_heard_us, 999);
	/* And takes a new one once a slot is free. */
	overlay_partner_del(o, 10);
	assert_non_null(overlay_partner_add(o, &extra, 0));
	assert_non_null(overlay_partner(o, 1000));
}

static void test_newest_known(void **state)
{
	struct overlay *o = *state;
	int ok = 1;
	assert_int_equal(overlay_newest_known(o, &ok), 0);
	assert_false(ok);

	add_partners(o, 3);
	/* Maps advertised but empty. */
	overlay_newest_known(o, &ok);
	assert_false(ok);

	o->p[0].map.base_seq = 100;
	o->p[0].map.nbits = 50;
	wire_map_set(&o->p[0].map, 100);
	wire_map_set(&o->p[0].map, 120);
	o->p[1].map.base_seq = 90;
	o->p[1].map.nbits = 20;
	wire_map_set(&o->p[1].map, 95);
	assert_int_equal(overlay_newest_known(o, &ok), 120);
	assert_true(ok);

	/* A partner whose map never arrived does not count. */
	o->p[2].map.base_seq = 1000;
	wire_map_set(&o->p[2].map, 1010);
	o->p[2].have_map = 0;
	assert_int_equal(overlay_newest_known(o, &ok), 120);
	o->p[2].have_map = 1;
	assert_int_equal(overlay_newest_known(o, &ok), 1010);
}

static void test_newest_known_zero(void **state)
{
	struct overlay *o = *state;
	int ok = 0;
	add_partners(o, 1);
	wire_map_set(&o->p[0].map, 0);
	assert_int_equal(overlay_newest_known(o, &ok), 0);
	assert_true(ok);
}

#define REAL 1700000000000000ull

/* A segment made at REAL + at - delay that arrived at REAL + at. */
static void arrived(struct overlay *o, uint64_t at, uint64_t delay)
{
	overlay_note_delay(o, REAL + at - delay, REAL + at);
}

static void test_last_delay_minimum(void **state)
{
	struct overlay *o = *state;
	assert_int_equal(overlay_last_delay(o, REAL), 0);
	arrived(o, 0, 500000);
	assert_int_equal(overlay_last_delay(o, REAL), 500000);
	arrived(o, 1000, 300000);
	arrived(o, 2000, 400000);
	assert_int_equal(overlay_last_delay(o, REAL + 2000), 300000);
	arrived(o, SEC, 200000);
	assert_int_equal(overlay_last_delay(o, REAL + SEC), 200000);
	/* The path that set it failed: only what comes after counts. */
	overlay_forget_delay(o);
	assert_int_equal(overlay_last_delay(o, REAL + SEC), 0);
	arrived(o, SEC + 1000, 450000);
	assert_int_equal(overlay_last_delay(o, REAL + SEC + 1000), 450000);
}

/* A segment stamped after its arrival says nothing about a path: it is
 * counted and ignored, and does not pin LastDelay at 0 (which would stop
 * probing for good). */
static void test_last_delay_ignores_future(void **state)
{
	struct overlay *o = *state;
	arrived(o, 0, 40000);
	overlay_note_delay(o, REAL + 5 * SEC, REAL + 1000);
	assert_int_equal(o->future_stamps, 1);
	assert_int_equal(overlay_last_delay(o, REAL + 1000), 40000);
}

/* LastDelay is the minimum over a window: once the fast path is gone for
 * longer than the window, LastDelay rises to what the paths give now. */
static void test_last_delay_window(void **state)
{
	struct overlay *o = *state;
	arrived(o, 0, 20000);
	for (uint64_t t = 1; t <= 30; t++) {
		arrived(o, t * SEC, 90000);
		uint32_t ld = overlay_last_delay(o, REAL + t * SEC);
		if (t < OVERLAY_DELAY_WINDOW)
			assert_int_equal(ld, 20000);
		else
			assert_int_equal(ld, 90000);
	}
	/* Nothing delivered for a whole window: no LastDelay. */
	assert_int_equal(overlay_last_delay(o, REAL + 41 * SEC), 0);
}

static void test_rarest_first(void **state)
{
	struct overlay *o = *state;
	struct sched_choice c[CAP];
	add_partners(o, 3);
	hold(o, 0, 2, 2);
	hold(o, 1, 2, 2);
	hold(o, 0, 5, 5);
	/* A map that is not valid does not make 5 any less rare. */
	hold(o, 2, 5, 5);
	o->p[2].have_map = 0;

	/* 5 has one holder, 2 has two: 5 goes first even though 2 is older. */
	uint32_t budget[] = {1, 1, 1};
	size_t n = sched(o, 0, CAP - 1, budget, NOW, c, CAP);
	assert_int_equal(n, 2);
	assert_int_equal(c[0].seq, 5);
	assert_int_equal(c[0].partner, 0);
	assert_int_equal(c[1].seq, 2);
	assert_int_equal(c[1].partner, 1);

	/* With one request to spend on partner 0, it is the rare segment. */
	uint32_t tight[] = {1, 0, 1};
	n = sched(o, 0, CAP - 1, tight, NOW, c, CAP);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].seq, 5);
	assert_int_equal(c[0].partner, 0);
}

static void test_ties_most_urgent_first(void **state)
{
	struct overlay *o = *state;
	struct sched_choice c[CAP];
	add_partners(o, 1);
	hold(o, 0, 7, 7);
	hold(o, 0, 3, 3);
	hold(o, 0, 12, 12);

	uint32_t budget[] = {2};
	size_t n = sched(o, 0, CAP - 1, budget, NOW, c, CAP);
	assert_int_equal(n, 2);
	assert_int_equal(c[0].seq, 3);
	assert_int_equal(c[1].seq, 7);
}

static void test_most_budget_left_wins(void **state)
{
	struct overlay *o = *state;
	struct sched_choice c[CAP];
	add_partners(o, 3);
	hold(o, 0, 1, 1);
	hold(o, 1, 1, 1);
	uint32_t budget[] = {2, 5, 9};
	/* Partner 2 has the most budget but not the segment. */
	size_t n = sched(o, 0, CAP - 1, budget, NOW, c, CAP);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].seq, 1);
	assert_int_equal(c[0].partner, 1);
}

static void test_budgets_spread_and_exact(void **state)
{
	struct overlay *o = *state;
	struct sched_choice c[CAP];
	add_partners(o, 3);
	for (int i = 0; i < 3; i++)
		hold(o, i, 0, CAP - 1);

	/* Equal rarity everywhere: the lowest 8 sequences, 3 + 0 + 5 requests. */
	uint32_t budget[] = {3, 0, 5};
	size_t n = sched(o, 0, CAP - 1, budget, NOW, c, CAP);
	assert_int_equal(n, 8);
	uint32_t per[3] = {0};
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(c[i].seq, i);
		per[c[i].partner]++;
	}
	assert_int_equal(per[0], 3);
	assert_int_equal(per[1], 0);
	assert_int_equal(per[2], 5);

	/* Two equal budgets alternate rather than drain one partner first. */
	uint32_t even[] = {2, 2, 0};
	n = sched(o, 0, CAP - 1, even, NOW, c, CAP);
	assert_int_equal(n, 4);
	assert_int_not_equal(c[0].partner, c[1].partner);
	assert_int_not_equal(c[2].partner, c[3].partner);

	/* max bounds the output whatever the budgets. */
	uint32_t big[] = {100, 100, 100};
	assert_int_equal(sched(o, 0, CAP - 1, big, NOW, c, 5), 5);
	uint32_t none[] = {0, 0, 0};
	assert_int_equal(sched(o, 0, CAP - 1, none, NOW, c, CAP), 0);
}

static void test_skips_held_and_pending(void **state)
{
	struct overlay *o = *state;
	struct sched_choice c[CAP];
	add_partners(o, 1);
	hold(o, 0, 0, 9);
	store(o, 0);
	store(o, 1);
	store(o, 5);
	overlay_mark_requested(o, 2, NOW);

	uint32_t budget[] = {CAP};
	size_t n = sched(o, 0, 9, budget, NOW + RETRY - 1, c, CAP);
	assert_int_equal(n, 6);
	for (uint32_t s = 0; s <= 9; s++)
		assert_int_equal(scheduled(c, n, s), s != 0 && s != 1 && s != 2 && s != 5);

	/* Once retry_us has passed the request is made again. */
	n = sched(o, 0, 9, budget, NOW + RETRY, c, CAP);
	assert_int_equal(n, 7);
	assert_true(scheduled(c, n, 2));
	assert_false(scheduled(c, n, 5));

	/* A mark for another sequence in the same ring slot does not count. */
	overlay_mark_requested(o, 3 + CAP, NOW);
	n = sched(o, 0, 9, budget, NOW, c, CAP);
	assert_true(scheduled(c, n, 3));
}

static void test_window_clipped_to_capacity(void **state)
{
	struct overlay *o = *state;
	struct sched_choice c[2 * CAP];
	add_partners(o, 1);
	o->p[0].map.base_seq = 100;
	o->p[0].map.nbits = 3 * CAP;
	hold(o, 0, 100, 100 + 3 * CAP - 1);

	uint32_t budget[] = {1000};
	size_t n = sched(o, 100, 100 + 3 * CAP - 1, budget, NOW, c, 2 * CAP);
	assert_int_equal(n, CAP);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(c[i].seq, 100 + i);

	/* A window outside what the partner holds yields nothing. */
	assert_int_equal(sched(o, 0, 99, budget, NOW, c, 2 * CAP), 0);
	assert_int_equal(sched(o, 110, 109, budget, NOW, c, 2 * CAP), 0);
}

static void test_unheld_not_scheduled(void **state)
{
	struct overlay *o = *state;
	struct sched_choice c[CAP];
	uint32_t budget[] = {CAP, CAP};

	assert_int_equal(sched(o, 0, CAP - 1, budget, NOW, c, CAP), 0);

	add_partners(o, 2);
	hold(o, 0, 0, 4);
	hold(o, 1, 6, 9);
	size_t n = sched(o, 0, 20, budget, NOW, c, CAP);
	assert_int_equal(n, 9);
	assert_false(scheduled(c, n, 5));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(c[i].partner, c[i].seq < 5 ? 0 : 1);

	/* Bits of a map that is not (or no longer) valid are not offers. */
	o->p[1].have_map = 0;
	n = sched(o, 0, 20, budget, NOW, c, CAP);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(c[i].partner, 0);
}

/* The start is fixed startup before the newest offer, then moves past
 * segments nobody offers until playback begins. */
static void test_start_rule(void **state)
{
	struct overlay *o = *state;
	add_partners(o, 1);
	hold(o, 0, 10, 20);
	assert_int_equal(overlay_window_from(o, 20, 3 * SEC), 18);
	assert_int_equal(o->start_seq, 18);
	/* Fixed once chosen. */
	hold(o, 0, 21, 30);
	assert_int_equal(overlay_window_from(o, 30, 3 * SEC), 18);
}

static void test_start_moves_past_unoffered(void **state)
{
	struct overlay *o = *state;
	add_partners(o, 1);
	hold(o, 0, 20, 25);
	assert_int_equal(overlay_window_from(o, 25, 8 * SEC), 20);
}

static void test_start_stays_on_held(void **state)
{
	struct overlay *o = *state;
	add_partners(o, 1);
	hold(o, 0, 20, 25);
	store(o, 18);
	assert_int_equal(overlay_window_from(o, 25, 8 * SEC), 18);
}

/* A hole the start waits for that every partner's map has moved past can
 * never be filled: the start moves past it, and playback begins. Before
 * the maps move past it, it is still worth waiting for. */
static void test_start_moves_past_lost_hole(void **state)
{
	struct overlay *o = *state;
	add_partners(o, 2);
	hold(o, 0, 20, 30);
	hold(o, 1, 20, 30);
	assert_int_equal(overlay_window_from(o, 30, 11 * SEC), 20);
	for (uint32_t s = 20; s <= 33; s++)
		if (s != 22)
			store(o, s);
	/* One partner has moved past 22, the other still offers it: wait. */
	struct wire_buffer_map moved = {.base_seq = 25, .nbits = 9};
	for (uint32_t s = 25; s <= 33; s++)
		wire_map_set(&moved, s);
	o->p[0].map = moved;
	assert_int_equal(overlay_window_from(o, 33, 11 * SEC), 20);
	assert_false(overlay_try_play(o, 11 * SEC, NOW));
	/* Both have moved past it. */
	o->p[1].map = moved;
	assert_int_equal(overlay_window_from(o, 33, 11 * SEC), 23);
	assert_true(overlay_try_play(o, 11 * SEC, NOW));
}

/* A forged map far ahead in a new peer's first seconds moves the start
 * only until the partner's real map replaces it. */
static void test_start_forged_map(void **state)
{
	struct overlay *o = *state;
	add_partners(o, 2);
	o->p[0].map.base_seq = 990;
	o->p[1].map.base_seq = 990;
	hold(o, 0, 990, 1000);
	hold(o, 1, 990, 1000);
	struct wire_buffer_map real = o->p[0].map;
	struct wire_buffer_map forged = {.base_seq = 1000 + (1u << 30) - 40, .nbits = 40};
	for (uint32_t s = 0; s < 40; s++)
		wire_map_set(&forged, forged.base_seq + s);
	o->p[0].map = forged;
	int ok;
	uint32_t newest = overlay_newest_known(o, &ok);
	assert_int_equal(newest, 1000 + (1u << 30) - 1);
	overlay_window_from(o, newest, 3 * SEC);
	assert_true(o->start_seq > 1000);
	o->p[0].map = real;
	newest = overlay_newest_known(o, &ok);
	assert_int_equal(newest, 1000);
	assert_int_equal(overlay_window_from(o, newest, 3 * SEC), 998);
	store(o, 998);
	store(o, 999);
	store(o, 1000);
	assert_true(overlay_try_play(o, 3 * SEC, NOW));
}

/* The case: a forged map near 2^32 is the first a new peer sees.
 * Once the real map arrives, the start goes to a segment really offered,
 * and playback begins. */
static void test_start_forged_map_near_wrap(void **state)
{
	struct overlay *o = *state;
	add_partners(o, 1);
	struct wire_buffer_map forged = {.base_seq = 0xFFFFFF00u, .nbits = 40};
	for (uint32_t s = 0; s < 40; s++)
		wire_map_set(&forged, forged.base_seq + s);
	o->p[0].map = forged;
	int ok;
	overlay_window_from(o, overlay_newest_known(o, &ok), 3 * SEC);
	assert_true(o->start_seq >= 0xFFFFFF00u);
	struct wire_buffer_map real = {.base_seq = 990, .nbits = 11};
	for (uint32_t s = 990; s <= 1000; s++)
		wire_map_set(&real, s);
	o->p[0].map = real;
	uint32_t from = overlay_window_from(o, overlay_newest_known(o, &ok), 3 * SEC);
	assert_true(from >= 990 && from <= 998);
	for (uint32_t s = from; s <= 1000; s++)
		store(o, s);
	assert_true(overlay_try_play(o, 3 * SEC, NOW));
}

/* Near 2^32 the start is chosen and kept like anywhere else. */
static void test_start_across_wrap(void **state)
{
	struct overlay *o = *state;
	add_partners(o, 1);
	o->p[0].map.base_seq = UINT32_MAX - 9;
	hold(o, 0, UINT32_MAX - 9, UINT32_MAX - 1);
	wire_map_set(&o->p[0].map, UINT32_MAX);
	hold(o, 0, 0, 3);
	int ok;
	uint32_t newest = overlay_newest_known(o, &ok);
	assert_int_equal(newest, 3);
	assert_int_equal(overlay_window_from(o, newest, 6 * SEC), UINT32_MAX - 1);
	struct sched_choice c[CAP];
	uint32_t budget[1] = {CAP};
	assert_int_equal(sched(o, UINT32_MAX - 1, 3, budget, NOW, c, CAP), 6);
}

/* Once segments are held, a map whose newest offer is more than a
 * buffer's length away is dropped and counted; nothing is stored before
 * the start is chosen. */
static void test_map_window(void **state)
{
	struct overlay *o = *state;
	add_partners(o, 1);
	static uint8_t data[16];
	struct wire_seg_data sd = {.seq = 500, .len = sizeof(data), .payload = data};
	assert_int_equal(overlay_store(o, &sd, 0), 0);
	assert_int_equal(o->buf.st.out_of_window, 1);
	struct wire_buffer_map m = {.base_seq = 480, .nbits = 21};
	for (uint32_t s = 480; s <= 500; s++)
		wire_map_set(&m, s);
	assert_int_equal(overlay_on_map(o, &o->p[0], &m, 7), 1);
	int ok;
	overlay_window_from(o, overlay_newest_known(o, &ok), 3 * SEC);
	assert_int_equal(overlay_store(o, &sd, 0), 1);
	struct wire_buffer_map far = {.base_seq = 500 + (1u << 20), .nbits = 8};
	assert_int_equal(overlay_on_map(o, &o->p[0], &far, 8), 0);
	struct wire_buffer_map old = {.base_seq = 0xFFFFFF00u, .nbits = 8};
	assert_int_equal(overlay_on_map(o, &o->p[0], &old, 9), 0);
	assert_int_equal(o->maps_dropped, 2);
	assert_int_equal(o->p[0].map.base_seq, 480);
	struct wire_buffer_map next = {.base_seq = 490, .nbits = 40};
	assert_int_equal(overlay_on_map(o, &o->p[0], &next, 10), 1);
	assert_int_equal(o->p[0].last_heard_us, 10);
}

/* The layer is the fewest hops a stored segment came over; one not
 * stored (outside the window, or before the start) does not count. */
static void test_layer(void **state)
{
	struct overlay *o = *state;
	add_partners(o, 1);
	static uint8_t data[16];
	struct wire_seg_data sd = {.seq = 500, .hops = 1, .len = sizeof(data), .payload = data};
	overlay_store(o, &sd, 0);
	assert_int_equal(o->layer, 0);
	struct wire_buffer_map m = {.base_seq = 480, .nbits = 21};
	for (uint32_t s = 480; s <= 500; s++)
		wire_map_set(&m, s);
	overlay_on_map(o, &o->p[0], &m, 7);
	int ok;
	overlay_window_from(o, overlay_newest_known(o, &ok), 3 * SEC);
	sd.hops = 3;
	assert_int_equal(overlay_store(o, &sd, 0), 1);
	assert_int_equal(o->layer, 3);
	sd.seq = 499;
	sd.hops = 2;
	assert_int_equal(overlay_store(o, &sd, 0), 1);
	assert_int_equal(o->layer, 2);
	sd.seq = 498;
	sd.hops = 4;
	assert_int_equal(overlay_store(o, &sd, 0), 1);
	assert_int_equal(o->layer, 2);
}

/* A playing peer's map reaches back twice its lag behind the newest, not
 * over its whole buffer; a source's covers what it holds. */
static void test_map_window_sent(void **state)
{
	struct overlay *o = *state;
	struct wire_buffer_map m;
	for (uint32_t s = 0; s < CAP; s++)
		store(o, s);
	overlay_fill_map(o, &m);
	assert_int_equal(m.base_seq, 0);
	assert_int_equal(m.nbits, CAP);

	o->start_chosen = 1;
	o->start_seq = 50;
	buffer_start_playback(&o->buf, 50, NOW);
	overlay_fill_map(o, &m);
	assert_int_equal(m.base_seq, 50 - 13);
	assert_int_equal(m.nbits, 27);
	for (uint32_t s = 37; s < CAP; s++)
		assert_true(wire_map_get(&m, s));
}

/* No startup still waits for one segment; the start never passes 0. */
static void test_start_bounds(void **state)
{
	struct overlay *o = *state;
	add_partners(o, 1);
	hold(o, 0, 0, 5);
	assert_int_equal(overlay_startup_segments(o, 0), 1);
	assert_int_equal(overlay_startup_segments(o, 2500000), 2);
	assert_int_equal(overlay_window_from(o, 5, 0), 5);
	o->start_chosen = 0;
	assert_int_equal(overlay_window_from(o, 5, 30 * SEC), 0);
}

/* A rule asking for less once the start is chosen (the layer-aware
 * buffer learns its layer) moves the start up by the difference, once;
 * newer segments alone move nothing. */
static void test_start_follows_shrinking_rule(void **state)
{
	struct overlay *o = *state;
	add_partners(o, 1);
	hold(o, 0, 10, 22);
	assert_int_equal(overlay_window_from(o, 20, 6 * SEC), 15);
	assert_int_equal(overlay_window_from(o, 21, 6 * SEC), 15);
	assert_int_equal(overlay_window_from(o, 21, 3 * SEC), 18);
	assert_int_equal(overlay_window_from(o, 22, 3 * SEC), 18);
	/* A rule asking for more later does not move it back. */
	assert_int_equal(overlay_window_from(o, 22, 6 * SEC), 18);
}

static void test_play_waits_for_startup(void **state)
{
	struct overlay *o = *state;
	assert_false(overlay_try_play(o, 3 * SEC, NOW));
	add_partners(o, 1);
	hold(o, 0, 10, 20);
	overlay_window_from(o, 20, 3 * SEC);
	store(o, 18);
	store(o, 19);
	assert_false(overlay_try_play(o, 3 * SEC, NOW));
	store(o, 20);
	assert_true(overlay_try_play(o, 3 * SEC, NOW));
	assert_true(o->buf.playing);
	assert_int_equal(o->buf.next_due, 18);
	assert_false(overlay_try_play(o, 3 * SEC, NOW));
	/* Playing, the window follows the next segment due. */
	assert_int_equal(overlay_window_from(o, 20, 3 * SEC), o->buf.next_due);
}

/* A round asks for the window once; the requests stay pending for the
 * retry time. */
static void test_pull_round(void **state)
{
	struct overlay *o = *state;
	struct sched_choice c[CAP];
	assert_int_equal(overlay_pull_round(o, 3 * SEC, SEC, RETRY, NOW, c, CAP), 0);
	add_partners(o, 2);
	hold(o, 0, 0, 20);
	hold(o, 1, 0, 20);
	size_t n = overlay_pull_round(o, 3 * SEC, SEC, RETRY, NOW, c, CAP);
	assert_int_equal(n, 3);
	for (uint32_t seq = 18; seq <= 20; seq++)
		assert_true(scheduled(c, n, seq));
	assert_int_equal(overlay_pull_round(o, 3 * SEC, SEC, RETRY, NOW + 1, c, CAP), 0);
	assert_int_equal(overlay_pull_round(o, 3 * SEC, SEC, RETRY, NOW + RETRY, c, CAP), 3);
}

/* Each partner is asked for what its serve budget gives in a round: twice
 * the stream's segments (here one a second, so 2 in a 1 s round), and the
 * partner answers every one of them, round after round, once its burst is
 * spent; the former two rounds' worth and 4 (8 here) had 6 of 8 refused
 * once the burst was gone. */
static void test_pull_round_budget(void **state)
{
	struct overlay *o = *state;
	struct sched_choice c[CAP];
	add_partners(o, 1);
	hold(o, 0, 0, 40);
	size_t n = overlay_pull_round(o, 30 * SEC, SEC, RETRY, NOW, c, CAP);
	assert_int_equal(n, 2);
	struct bucket serve = {0};
	uint64_t t = NOW;
	(void)serve_budget(&serve, o->buf.period_us, 1000, t); /* the burst */
	for (int round = 0; round < 20; round++) {
		t += SEC;
		assert_int_equal(serve_budget(&serve, o->buf.period_us, (int)n, t), (int)n);
	}
}

static int has_addr(const struct wire_addr *a, int n, uint32_t id)
{
	for (int i = 0; i < n; i++)
		if (a[i].id == id)
			return 1;
	return 0;
}

/* Nearest watching neighbours first (a measured one before an unmeasured
 * one), then random bootstrap peers of the stream; never a partner. */
static void test_pick_partners(void **state)
{
	struct overlay *o = *state;
	struct mesh m;
	mesh_init(&m, 5, 8);
	const uint32_t delay[] = {0, 30000, 10000, 0, 5000};
	const uint16_t stream[] = {0, 1, 1, 1, 2};
	for (uint32_t id = 1; id <= 4; id++) {
		struct wire_addr a = addr(20 + id);
		struct mesh_nb *nb = mesh_add(&m, &a, stream[id], 0);
		nb->delay_us = delay[id];
		nb->have_delay = delay[id] != 0;
	}
	struct wire_addr partner = addr(22);
	overlay_partner_add(o, &partner, 0);
	struct wire_peer_entry cand[] = {
	    {addr(31), 1, WIRE_ROLE_PEER},
	    {addr(32), 2, WIRE_ROLE_PEER},
	    {addr(22), 1, WIRE_ROLE_PEER},
	};
	struct rng rng;
	rng_seed(&rng, 7);
	struct wire_addr out[8];
	int n = overlay_pick_partners(o, &m, 1, cand, 3, &rng, 3, out);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].id, 21);
	assert_int_equal(out[1].id, 23);
	assert_int_equal(out[2].id, 31);
	/* Without the mesh only bootstrap peers of the stream. */
	n = overlay_pick_partners(o, &m, 0, cand, 3, &rng, 2, out);
	assert_true(n >= 1 && n <= 2);
	for (int i = 0; i < n; i++)
		assert_int_equal(out[i].id, 31);
	assert_false(has_addr(out, n, 22));
	assert_int_equal(overlay_pick_partners(o, &m, 1, cand, 3, &rng, 0, out), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_partner_add_refresh_del),
	    T(test_partner_table_full),
	    T(test_newest_known),
	    T(test_newest_known_zero),
	    T(test_last_delay_minimum),
	    T(test_last_delay_ignores_future),
	    T(test_last_delay_window),
	    T(test_start_forged_map),
	    T(test_start_forged_map_near_wrap),
	    T(test_start_across_wrap),
	    T(test_map_window),
	    T(test_map_window_sent),
	    T(test_rarest_first),
	    T(test_ties_most_urgent_first),
	    T(test_most_budget_left_wins),
	    T(test_budgets_spread_and_exact),
	    T(test_skips_held_and_pending),
	    T(test_window_clipped_to_capacity),
	    T(test_unheld_not_scheduled),
	    T(test_start_rule),
	    T(test_start_moves_past_unoffered),
	    T(test_start_moves_past_lost_hole),
	    T(test_start_stays_on_held),
	    T(test_start_bounds),
	    T(test_play_waits_for_startup),
	    T(test_start_follows_shrinking_rule),
	    T(test_pull_round),
	    T(test_layer),
	    T(test_pull_round_budget),
	    T(test_pick_partners),
	};
	return cmocka_run_group_tests_name("overlay", tests, NULL, NULL);
}
