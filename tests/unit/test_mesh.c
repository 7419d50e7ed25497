#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "peer/mesh.h"

static struct wire_addr addr(uint32_t id)
{
	return (struct wire_addr){.id = id, .ip = 0x0a4d0000u + id, .port = 7000};
}

static int setup(void **state)
{
	static struct mesh m;
	mesh_init(&m, 5, 8);
	*state = &m;
	return 0;
}

static enum ltm_verdict replace_or_keep(uint32_t d_np, uint32_t d_sp)
{
	/* d(S,N) must not matter while S is not a neighbour. */
	enum ltm_verdict v = mesh_ltm_decide(0, d_np, 0, 1, d_sp);
	assert_int_equal(mesh_ltm_decide(UINT32_MAX, d_np, 0, 1, d_sp), v);
	return v;
}

static void test_ltm_unknown_s_is_probed(void **state)
{
	assert_int_equal(mesh_ltm_decide(1000, 900000, 0, 0, 0), LTM_PROBE_S);
	assert_int_equal(mesh_ltm_decide(0, 0, 0, 0, 0), LTM_PROBE_S);
	/* A neighbour S whose delay is not measured yet gives nothing to judge. */
	assert_int_equal(mesh_ltm_decide(1000, 900000, 1, 0, 0), LTM_KEEP);
}

static void test_ltm_replace_margin(void **state)
{
	/* Around 10 ms the 1 ms floor is the margin (10% would be 1 ms too). */
	assert_int_equal(replace_or_keep(20000, 10000), LTM_REPLACE_N);
	assert_int_equal(replace_or_keep(11000, 10000), LTM_KEEP);
	assert_int_equal(replace_or_keep(11001, 10000), LTM_REPLACE_N);
	/* Short links: 10% would be 200 us, the 1 ms floor rules. */
	assert_int_equal(replace_or_keep(2900, 2000), LTM_KEEP);
	assert_int_equal(replace_or_keep(3000, 2000), LTM_KEEP);
	assert_int_equal(replace_or_keep(3001, 2000), LTM_REPLACE_N);
	assert_int_equal(replace_or_keep(1000, 0), LTM_KEEP);
	assert_int_equal(replace_or_keep(1001, 0), LTM_REPLACE_N);
	/* Long links: 1 ms is within noise, 10% rules. */
	assert_int_equal(replace_or_keep(52000, 50000), LTM_KEEP);
	assert_int_equal(replace_or_keep(55000, 50000), LTM_KEEP);
	assert_int_equal(replace_or_keep(55001, 50000), LTM_REPLACE_N);
	/* Never when S is the slower one, nor when equal. */
	assert_int_equal(replace_or_keep(10000, 20000), LTM_KEEP);
	assert_int_equal(replace_or_keep(30000, 30000), LTM_KEEP);
}

static void test_ltm_replace_no_wrap(void **state)
{
	/* Absurd delays (a skewed clock) must not wrap the margin sum around
	 * and turn a far S into a "closer" one. */
	assert_int_equal(replace_or_keep(400000000u, 4200000000u), LTM_KEEP);
	assert_int_equal(replace_or_keep(UINT32_MAX - 1, UINT32_MAX), LTM_KEEP);
	assert_int_equal(replace_or_keep(UINT32_MAX, 3000000000u), LTM_REPLACE_N);
}

static void test_ltm_cut_only_slowest(void **state)
{
	/* N-P clearly slower than both S-P and S-N: the triangle sheds it. */
	assert_int_equal(mesh_ltm_decide(10000, 30000, 1, 1, 10000), LTM_CUT_NP);
	/* N-P slower than S-P but not clearly slower than S-N: keep. */
	assert_int_equal(mesh_ltm_decide(28000, 30000, 1, 1, 10000), LTM_KEEP);
	assert_int_equal(mesh_ltm_decide(27273, 30000, 1, 1, 10000), LTM_KEEP);
	assert_int_equal(mesh_ltm_decide(27272, 30000, 1, 1, 10000), LTM_CUT_NP);
	assert_int_equal(mesh_ltm_decide(27000, 30000, 1, 1, 10000), LTM_CUT_NP);
	/* ... and the other way round. */
	assert_int_equal(mesh_ltm_decide(10000, 30000, 1, 1, 28000), LTM_KEEP);
	assert_int_equal(mesh_ltm_decide(10000, 30000, 1, 1, 27000), LTM_CUT_NP);
	/* The 1 ms floor applies to both comparisons. */
	assert_int_equal(mesh_ltm_decide(2000, 3000, 1, 1, 1000), LTM_KEEP);
	assert_int_equal(mesh_ltm_decide(1000, 3000, 1, 1, 2000), LTM_KEEP);
	assert_int_equal(mesh_ltm_decide(1999, 3000, 1, 1, 1999), LTM_CUT_NP);
	/* N-P faster than either: nothing goes, and a neighbour S is never
	 * "replaced". */
	assert_int_equal(mesh_ltm_decide(30000, 10000, 1, 1, 30000), LTM_KEEP);
	assert_int_equal(mesh_ltm_decide(30000, 30000, 1, 1, 30000), LTM_KEEP);
}

/* The paper's rule: the direct path S->P against S->N->P. A triangle
 * whose N-P is not its slowest link keeps N-P under the slowest-link rule
 * and loses it under the paper's, whenever the direct path is clearly
 * shorter than the two hops (by 1 ms and 10%). */
static void test_ltm_path_rule(void **state)
{
	/* d(S,N) = 10, d(N,P) = 20, d(S,P) = 25 ms: N-P is not the slowest. */
	assert_int_equal(mesh_ltm_decide(10000, 20000, 1, 1, 25000), LTM_KEEP);
	assert_int_equal(mesh_ltm_decide_path(10000, 20000, 1, 1, 25000), LTM_CUT_NP);
	/* Direct 27 ms against 30 ms over N: within the margin, kept. */
	assert_int_equal(mesh_ltm_decide_path(10000, 20000, 1, 1, 27273), LTM_KEEP);
	assert_int_equal(mesh_ltm_decide_path(10000, 20000, 1, 1, 27272), LTM_CUT_NP);
	/* The direct path longer than the two hops: kept. */
	assert_int_equal(mesh_ltm_decide_path(10000, 20000, 1, 1, 40000), LTM_KEEP);
	/* S not a neighbour: probed first, then S replaces N when its direct
	 * path beats the two hops, though S-P (25 ms) is slower than N-P. */
	assert_int_equal(mesh_ltm_decide_path(10000, 20000, 0, 0, 0), LTM_PROBE_S);
	assert_int_equal(mesh_ltm_decide(10000, 20000, 0, 1, 25000), LTM_KEEP);
	assert_int_equal(mesh_ltm_decide_path(10000, 20000, 0, 1, 25000), LTM_REPLACE_N);
	/* A neighbour S not measured yet: nothing to judge. */
	assert_int_equal(mesh_ltm_decide_path(10000, 20000, 1, 0, 0), LTM_KEEP);
	/* Absurd delays do not wrap the two-hop sum. */
	assert_int_equal(mesh_ltm_decide_path(UINT32_MAX, UINT32_MAX, 1, 1, UINT32_MAX), LTM_KEEP);
	assert_int_equal(mesh_ltm_decide_path(UINT32_MAX, UINT32_MAX, 1, 1, 1000), LTM_CUT_NP);
}

static void test_init(void **state)
{
	struct mesh m;
	memset(&m, 0xa5, sizeof(m));
	mesh_init(&m, 5, 8);
	assert_int_equal(m.target, 5);
	assert_int_equal(m.max, 8);
	assert_int_equal(m.n, 0);
	assert_int_equal(m.npend, 0);
	/* Message id 0 would collide with the empty slots of the seen ring. */
	assert_int_equal(m.next_msg_id, 1);

	mesh_init(&m, 6, 3);
	assert_int_equal(m.max, 6);
	mesh_init(&m, 5, MESH_MAX + 10);
	assert_int_equal(m.max, MESH_MAX);
}

static void test_add_refresh(void **state)
{
	struct mesh *m = *state;
	struct wire_addr a = addr(5);
	struct mesh_nb *nb = mesh_add(m, &a, 2, 100);
	assert_non_null(nb);
	assert_int_equal(m->n, 1);
	assert_int_equal(nb->addr.id, 5);
	assert_int_equal(nb->addr.ip, a.ip);
	assert_int_equal(nb->stream, 2);
	assert_int_equal(nb->last_heard_us, 100);
	assert_false(nb->have_delay);
	assert_ptr_equal(mesh_find(m, 5), nb);
	assert_null(mesh_find(m, 6));

	/* Refresh: same slot, new address and time, the measured delay kept and
	 * a known stream not forgotten when the refresh does not name one. */
	nb->delay_us = 1234;
	nb->have_delay = 1;
	a.port = 7100;
	assert_ptr_equal(mesh_add(m, &a, 0, 200), nb);
	assert_int_equal(m->n, 1);
	assert_int_equal(nb->addr.port, 7100);
	assert_int_equal(nb->last_heard_us, 200);
	assert_int_equal(nb->stream, 2);
	assert_true(nb->have_delay);
	assert_int_equal(nb->delay_us, 1234);
	assert_ptr_equal(mesh_add(m, &a, 3, 300), nb);
	assert_int_equal(nb->stream, 3);

	/* A new entry starts clean even in a slot used before. */
	mesh_del(m, 5);
	struct wire_addr b = addr(9);
	nb = mesh_add(m, &b, 0, 400);
	assert_non_null(nb);
	assert_false(nb->have_delay);
	assert_int_equal(nb->delay_us, 0);
	assert_int_equal(nb->stream, 0);
}

static void test_full(void **state)
{
	struct mesh *m = *state;
	for (uint32_t id = 1; id <= (uint32_t)m->max; id++) {
		struct wire_addr a = addr(id);
		assert_non_null(mesh_add(m, &a, 1, id));
	}
	assert_int_equal(m->n, m->max);
	struct wire_addr extra = addr(100), known = addr(3);
	assert_null(mesh_add(m, &extra, 1, 50));
	assert_int_equal(m->n, m->max);
	assert_null(mesh_find(m, 100));
	/* A full table still refreshes the neighbours it has. */
	struct mesh_nb *nb = mesh_add(m, &known, 1, 999);
	assert_non_null(nb);
	assert_int_equal(nb->last_heard_us, 999);
	assert_int_equal(m->n, m->max);
	/* Room again after a delete. */
	mesh_del(m, 1);
	assert_non_null(mesh_add(m, &extra, 1, 60));
	assert_int_equal(m->n, m->max);
}

static void test_full_at_mesh_max(void **state)
{
	struct mesh m;
	mesh_init(&m, MESH_MAX, MESH_MAX);
	for (uint32_t id = 1; id <= MESH_MAX; id++) {
		struct wire_addr a = addr(id);
		assert_non_null(mesh_add(&m, &a, 0, 0));
	}
	struct wire_addr a = addr(MESH_MAX + 1);
	assert_null(mesh_add(&m, &a, 0, 0));
	assert_int_equal(m.n, MESH_MAX);
}

static void test_del(void **state)
{
	struct mesh *m = *state;
	for (uint32_t id = 1; id <= 4; id++) {
		struct wire_addr a = addr(id);
		struct mesh_nb *nb = mesh_add(m, &a, (uint16_t)id, id * 10);
		nb->delay_us = id * 1000;
		nb->have_delay = 1;
	}
	mesh_del(m, 2);
	assert_int_equal(m->n, 3);
	assert_null(mesh_find(m, 2));
	/* The others keep their own fields, wherever they now sit. */
	for (uint32_t id = 1; id <= 4; id++) {
		if (id == 2)
			continue;
		struct mesh_nb *nb = mesh_find(m, id);
		assert_non_null(nb);
		assert_int_equal(nb->stream, id);
		assert_int_equal(nb->last_heard_us, id * 10);
		assert_int_equal(nb->delay_us, id * 1000);
		assert_int_equal(nb->addr.ip, addr(id).ip);
	}
	mesh_del(m, 42);
	assert_int_equal(m->n, 3);
	mesh_del(m, 2);
	assert_int_equal(m->n, 3);
	mesh_del(m, 4);
	mesh_del(m, 1);
	mesh_del(m, 3);
	assert_int_equal(m->n, 0);
	assert_null(mesh_find(m, 3));
}

static void test_mean_delay(void **state)
{
	struct mesh *m = *state;
	int k = -1;
	assert_true(mesh_mean_delay_us(m, &k) == 0.0);
	assert_int_equal(k, 0);

	static const uint32_t d[] = {1000, 0, 4000, 0, 2500};
	for (uint32_t i = 0; i < 5; i++) {
		struct wire_addr a = addr(i + 1);
		struct mesh_nb *nb = mesh_add(m, &a, 0, 0);
		nb->delay_us = d[i];
		/* Unmeasured neighbours carry a stale value that must not count. */
		nb->have_delay = d[i] != 0;
		if (!nb->have_delay)
			nb->delay_us = 999999;
	}
	assert_true(mesh_mean_delay_us(m, &k) == 2500.0);
	assert_int_equal(k, 3);
	assert_true(mesh_mean_delay_us(m, NULL) == 2500.0);

	/* A measured delay of 0 (same host, coarse clock) still counts. */
	mesh_find(m, 2)->delay_us = 0;
	mesh_find(m, 2)->have_delay = 1;
	assert_true(mesh_mean_delay_us(m, &k) == 7500.0 / 4);
	assert_int_equal(k, 4);
}

static void test_first_seen(void **state)
{
	struct mesh *m = *state;
	assert_true(mesh_first_seen(m, 7, 1));
	assert_false(mesh_first_seen(m, 7, 1));
	assert_false(mesh_first_seen(m, 7, 1));
	assert_true(mesh_first_seen(m, 7, 2));
	assert_true(mesh_first_seen(m, 8, 1));
	/* Source and message id do not alias each other. */
	assert_true(mesh_first_seen(m, 1, 7));
	assert_true(mesh_first_seen(m, 2, 8));
	assert_true(mesh_first_seen(m, UINT32_MAX, 1));
	assert_true(mesh_first_seen(m, 1, UINT32_MAX));
	assert_false(mesh_first_seen(m, UINT32_MAX, 1));
	assert_false(mesh_first_seen(m, 1, UINT32_MAX));
	assert_false(mesh_first_seen(m, 8, 1));
}

static void test_first_seen_ring_wraps(void **state)
{
	struct mesh *m = *state;
	/* Go round the ring more than once so the wrap is exercised, not just
	 * the first fill. */
	for (uint32_t i = 0; i < 3 * MESH_SEEN / 2; i++)
		assert_true(mesh_first_seen(m, 1, 1000 + i));
	assert_true(mesh_first_seen(m, 42, 1));
	/* The window holds the last MESH_SEEN keys: 42/1 stays a duplicate for
	 * MESH_SEEN - 1 more new keys... */
	for (uint32_t i = 0; i < MESH_SEEN - 1; i++) {
		assert_true(mesh_first_seen(m, 2, i + 1));
		assert_false(mesh_first_seen(m, 42, 1));
	}
	/* ...all of which are remembered too... */
	for (uint32_t i = 0; i < MESH_SEEN - 1; i++)
		assert_false(mesh_first_seen(m, 2, i + 1));
	/* ...and the next new key pushes it out. */
	assert_true(mesh_first_seen(m, 3, 1));
	assert_true(mesh_first_seen(m, 42, 1));
	/* Re-entered, it pushed out the oldest one, 2/1. */
	assert_true(mesh_first_seen(m, 2, 1));
	assert_false(mesh_first_seen(m, 2, MESH_SEEN - 1));
}

static void test_pending_add_take(void **state)
{
	struct mesh *m = *state;
	struct wire_addr s = addr(20), t = addr(21);
	mesh_pending_add(m, &s, 3, 0, 15000, 500);
	mesh_pending_add(m, &t, 4, 0, 9000, 600);
	assert_int_equal(m->npend, 2);

	struct mesh_pending p;
	memset(&p, 0, sizeof(p));
	assert_false(mesh_pending_take(m, 99, &p));
	assert_int_equal(p.s.id, 0);
	assert_int_equal(m->npend, 2);

	assert_true(mesh_pending_take(m, 20, &p));
	assert_int_equal(p.s.id, 20);
	assert_int_equal(p.s.ip, s.ip);
	assert_int_equal(p.s.port, s.port);
	assert_int_equal(p.n_id, 3);
	assert_int_equal(p.d_np_us, 15000);
	assert_int_equal(p.sent_us, 500);
	assert_int_equal(m->npend, 1);
	/* Taken once: a second answer from S is ignored. */
	assert_false(mesh_pending_take(m, 20, &p));

	assert_true(mesh_pending_take(m, 21, &p));
	assert_int_equal(p.n_id, 4);
	assert_int_equal(p.d_np_us, 9000);
	assert_int_equal(m->npend, 0);
	assert_false(mesh_pending_take(m, 21, &p));
}

static void test_pending_keeps_slowest_n(void **state)
{
	struct mesh *m = *state;
	struct wire_addr s = addr(20);
	mesh_pending_add(m, &s, 3, 0, 10000, 100);
	/* A slower N for the same S: judge S against it instead. */
	mesh_pending_add(m, &s, 4, 0, 20000, 200);
	assert_int_equal(m->npend, 1);
	/* A faster one (or an equal one) does not displace it. */
	mesh_pending_add(m, &s, 5, 0, 15000, 300);
	mesh_pending_add(m, &s, 6, 0, 20000, 400);
	assert_int_equal(m->npend, 1);

	struct mesh_pending p;
	assert_true(mesh_pending_take(m, 20, &p));
	assert_int_equal(p.n_id, 4);
	assert_int_equal(p.d_np_us, 20000);
	assert_int_equal(m->npend, 0);
}

static void test_pending_overflow_forgets_oldest(void **state)
{
	struct mesh *m = *state;
	for (uint32_t id = 1; id <= MESH_PENDING + 2; id++) {
		struct wire_addr s = addr(id);
		mesh_pending_add(m, &s, 100 + id, 0, 1000 * id, id);
		assert_true(m->npend <= MESH_PENDING);
	}
	assert_int_equal(m->npend, MESH_PENDING);
	struct mesh_pending p;
	assert_false(mesh_pending_take(m, 1, &p));
	assert_false(mesh_pending_take(m, 2, &p));
	for (uint32_t id = 3; id <= MESH_PENDING + 2; id++) {
		assert_true(mesh_pending_take(m, id, &p));
		assert_int_equal(p.n_id, 100 + id);
		assert_int_equal(p.d_np_us, 1000 * id);
	}
	assert_int_equal(m->npend, 0);
}

static void test_pending_overflow_after_take(void **state)
{
	struct mesh *m = *state;
	for (uint32_t id = 1; id <= MESH_PENDING; id++) {
		struct wire_addr s = addr(id);
		mesh_pending_add(m, &s, 0, 0, 1000, id);
	}
	/* Answers arrive out of order; what is left must still be forgotten
	 * oldest first. */
	struct mesh_pending p;
	assert_true(mesh_pending_take(m, 1, &p));
	assert_true(mesh_pending_take(m, 5, &p));
	for (uint32_t id = MESH_PENDING + 1; id <= MESH_PENDING + 4; id++) {
		struct wire_addr s = addr(id);
		mesh_pending_add(m, &s, 0, 0, 1000, id);
	}
	assert_int_equal(m->npend, MESH_PENDING);
	/* Two free slots took two; the other two new ones pushed out 2 and 3. */
	assert_false(mesh_pending_take(m, 2, &p));
	assert_false(mesh_pending_take(m, 3, &p));
	for (uint32_t id = 4; id <= MESH_PENDING + 4; id++) {
		if (id == 5)
			continue;
		assert_true(mesh_pending_take(m, id, &p));
		assert_int_equal(p.sent_us, id);
	}
	assert_int_equal(m->npend, 0);
}

/* ---- the protocol, through struct mesh_io ---- */

#define SELF 100
#define SEC 1000000ull
#define T0 (1000 * SEC)
#define REAL0 1700000000000000ull
#define MS 1000ull

struct sent {
	struct wire_addr to;
	struct wire_msg m;
};

/* The node around the mesh: what it sent, and its bootstrap list. */
static struct fx {
	struct mesh m;
	struct evlog log;
	struct rng rng;
	struct sent out[64];
	int nout;
	struct wire_peer_entry cand[8];
	int ncand;
	uint32_t lost[8]; /* neighbours reported gone silent */
	int nlost;
} fx;

static void fake_send(void *ctx, const struct wire_addr *to, const struct wire_msg *m)
{
	struct fx *f = ctx;
	assert_true(f->nout < (int)ARRAY_LEN(f->out));
	f->out[f->nout++] = (struct sent){*to, *m};
}

static int fake_candidates(void *ctx, const struct wire_peer_entry **out)
{
	struct fx *f = ctx;
	*out = f->cand;
	return f->ncand;
}

static void fake_lost(void *ctx, uint32_t id)
{
	struct fx *f = ctx;
	assert_true(f->nlost < (int)ARRAY_LEN(f->lost));
	f->lost[f->nlost++] = id;
}

/* A mesh keeping 3 neighbours (4 when asked), on or off. */
static void start(int enabled)
{
	memset(&fx, 0, sizeof(fx));
	rng_seed(&fx.rng, 2006);
	assert_int_equal(evlog_open(&fx.log, NULL), 0);
	struct mesh_io io = {&fx, fake_send, fake_candidates, fake_lost};
	struct wire_addr self = addr(SELF);
	mesh_init(&fx.m, 3, 4);
	mesh_attach(&fx.m, &self, &fx.log, &io, &fx.rng, enabled);
}

static int proto_teardown(void **state)
{
	evlog_close(&fx.log);
	return 0;
}

/* The one message sent since the last call, of that type to that peer. */
static const struct wire_msg *only(int type, uint32_t to)
{
	assert_int_equal(fx.nout, 1);
	assert_int_equal(fx.out[0].m.hdr.type, type);
	assert_int_equal(fx.out[0].to.id, to);
	assert_int_equal(fx.out[0].m.hdr.sender, SELF);
	assert_int_equal(fx.out[0].m.hdr.stream, 0);
	fx.nout = 0;
	return &fx.out[0].m;
}

static void befriend(uint32_t id, uint32_t delay_us)
{
	struct wire_addr a = addr(id);
	mesh_on_request(&fx.m, &a, 0, T0);
	only(WIRE_NEIGH_ACCEPT, id);
	struct mesh_nb *nb = mesh_find(&fx.m, id);
	assert_non_null(nb);
	if (delay_us) {
		nb->delay_us = delay_us;
		nb->have_delay = 1;
	}
}

static void test_request_accepted_until_full(void **state)
{
	start(1);
	fx.cand[fx.ncand++] = (struct wire_peer_entry){addr(1), 7, WIRE_ROLE_PEER};
	befriend(1, 0);
	/* The stream a neighbour watches comes from the bootstrap list. */
	assert_int_equal(mesh_find(&fx.m, 1)->stream, 7);
	for (uint32_t id = 2; id <= 4; id++)
		befriend(id, 0);
	struct wire_addr a = addr(5);
	mesh_on_request(&fx.m, &a, 0, T0);
	assert_int_equal(only(WIRE_NEIGH_CUT, 5)->u.simple.reason, WIRE_CUT_FULL);
	assert_null(mesh_find(&fx.m, 5));
	/* A neighbour asking again is accepted, not refused. */
	a = addr(4);
	mesh_on_request(&fx.m, &a, 0, T0 + SEC);
	only(WIRE_NEIGH_ACCEPT, 4);
	assert_int_equal(fx.m.n, 4);
}

static void test_disabled_refuses_and_stays_silent(void **state)
{
	start(0);
	struct wire_addr a = addr(1);
	mesh_on_request(&fx.m, &a, 0, T0);
	assert_int_equal(only(WIRE_NEIGH_CUT, 1)->u.simple.reason, WIRE_CUT_FULL);
	mesh_on_accept(&fx.m, &a, 0, T0);
	struct wire_detector d = {.ttl = 0, .src = a, .src_ts_us = REAL0};
	mesh_on_detector(&fx.m, &d, &a, REAL0 + MS, T0);
	assert_int_equal(fx.nout, 0);
	assert_int_equal(fx.m.n, 0);
}

static void test_leaving_refuses_and_says_goodbye(void **state)
{
	start(1);
	befriend(1, 0);
	befriend(2, 0);
	mesh_leave(&fx.m);
	assert_int_equal(fx.nout, 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(fx.out[i].m.hdr.type, WIRE_LEAVE);
	fx.nout = 0;
	struct wire_addr a = addr(3);
	mesh_on_request(&fx.m, &a, 0, T0);
	only(WIRE_NEIGH_CUT, 3);
	assert_int_equal(mesh_round(&fx.m, REAL0, T0), 0);
	assert_int_equal(fx.nout, 0);
}

/* An accept over the target sheds the farthest measured neighbour. */
static void test_accept_over_target_sheds_farthest(void **state)
{
	start(1);
	befriend(1, 5 * MS);
	befriend(2, 40 * MS);
	befriend(3, 0);
	struct wire_addr a = addr(4);
	mesh_on_accept(&fx.m, &a, 0, T0);
	assert_int_equal(only(WIRE_NEIGH_CUT, 2)->u.simple.reason, WIRE_CUT_LTM);
	assert_null(mesh_find(&fx.m, 2));
	assert_non_null(mesh_find(&fx.m, 4));
	assert_int_equal(fx.m.n, 3);
}

/* Rounds ask random candidates up to the target and flood a detector. */
static void test_round_fills_and_floods(void **state)
{
	start(1);
	for (uint32_t id = 1; id <= 4; id++)
		fx.cand[fx.ncand++] = (struct wire_peer_entry){addr(id), 1, WIRE_ROLE_PEER};
	befriend(1, 0);
	uint64_t next = mesh_round(&fx.m, REAL0, T0);
	assert_true(next >= 2700000 && next < 3300000);
	int req = 0, det = 0;
	for (int i = 0; i < fx.nout; i++) {
		const struct wire_msg *m = &fx.out[i].m;
		if (m->hdr.type == WIRE_NEIGH_REQ) {
			assert_int_not_equal(fx.out[i].to.id, 1);
			req++;
		} else {
			assert_int_equal(m->hdr.type, WIRE_DETECTOR);
			assert_int_equal(fx.out[i].to.id, 1);
			assert_int_equal(m->u.det.ttl, 2);
			assert_int_equal(m->u.det.src.id, SELF);
			assert_int_equal(m->u.det.src_ts_us, REAL0);
			det++;
		}
	}
	assert_true(req >= 1 && req <= 2);
	assert_int_equal(det, 1);
}

/* A neighbour found by LTM is not in the bootstrap list: it learns the
 * stream from the request or accept itself, and says its own. */
static void test_neighbour_learns_stream(void **state)
{
	start(1);
	mesh_set_watch(&fx.m, 4);
	struct wire_addr a = addr(21), b = addr(22);
	mesh_on_request(&fx.m, &a, 9, T0);
	assert_int_equal(mesh_find(&fx.m, 21)->stream, 9);
	assert_int_equal(only(WIRE_NEIGH_ACCEPT, 21)->u.simple.watch, 4);
	mesh_on_accept(&fx.m, &b, 7, T0);
	assert_int_equal(mesh_find(&fx.m, 22)->stream, 7);
	/* A later word updates it; silence (0) does not erase it. */
	mesh_on_request(&fx.m, &a, 5, T0 + SEC);
	assert_int_equal(mesh_find(&fx.m, 21)->stream, 5);
	mesh_on_request(&fx.m, &a, 0, T0 + 2 * SEC);
	assert_int_equal(mesh_find(&fx.m, 21)->stream, 5);
	/* anysee-intra traces only through neighbours of one stream. */
	struct wire_addr out[4];
	assert_int_equal(mesh_neighbours_watching(&fx.m, 7, out, 4), 1);
	assert_int_equal(out[0].id, 22);
	assert_int_equal(mesh_neighbours_watching(&fx.m, 0, out, 4), 0);
	assert_int_equal(mesh_neighbours(&fx.m, out, 4), 2);
	/* Our own requests say what we watch. */
	fx.nout = 0;
	fx.ncand = 1;
	fx.cand[0] = (struct wire_peer_entry){.addr = addr(30), .stream = 4};
	mesh_round(&fx.m, REAL0, T0 + 2 * SEC);
	int req = 0;
	for (int i = 0; i < fx.nout; i++) {
		if (fx.out[i].m.hdr.type != WIRE_NEIGH_REQ)
			continue;
		assert_int_equal(fx.out[i].to.id, 30);
		assert_int_equal(fx.out[i].m.u.simple.watch, 4);
		req++;
	}
	assert_true(req >= 1);
}

static void test_round_forgets_silent(void **state)
{
	start(1);
	befriend(1, 0);
	mesh_round(&fx.m, REAL0, T0 + 13 * SEC);
	assert_null(mesh_find(&fx.m, 1));
	/* The node hears of it, so the inter-overlay paths through it go. */
	assert_int_equal(fx.nlost, 1);
	assert_int_equal(fx.lost[0], 1);
}

/* A one-hop detector measures its sender and goes on, stamped, to every
 * other neighbour, once. */
static void test_one_hop_forwarded_once(void **state)
{
	start(1);
	befriend(1, 0);
	befriend(2, 0);
	befriend(3, 0);
	struct wire_addr s = addr(1);
	struct wire_detector d = {.msg_id = 9, .ttl = 2, .src = s, .src_ts_us = REAL0};
	mesh_on_detector(&fx.m, &d, &s, REAL0 + 7 * MS, T0 + SEC);
	assert_int_equal(mesh_find(&fx.m, 1)->delay_us, 7 * MS);
	assert_int_equal(mesh_find(&fx.m, 1)->last_heard_us, T0 + SEC);
	assert_int_equal(fx.nout, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_not_equal(fx.out[i].to.id, 1);
		assert_int_equal(fx.out[i].m.u.det.ttl, 1);
		assert_int_equal(fx.out[i].m.u.det.direct.id, SELF);
		assert_int_equal(fx.out[i].m.u.det.direct_ts_us, REAL0 + 7 * MS);
	}
	fx.nout = 0;
	mesh_on_detector(&fx.m, &d, &s, REAL0 + 8 * MS, T0 + SEC);
	assert_int_equal(fx.nout, 0);
}

/* A detector above the protocol's TTL (2) is dropped, not passed on with
 * TTL - 1: a forged TTL 200 must not travel the mesh. */
static void test_detector_ttl_bounded(void **state)
{
	start(1);
	befriend(1, 0);
	befriend(2, 0);
	struct wire_addr s = addr(1);
	struct wire_detector d = {.msg_id = 9, .ttl = 200, .src = s, .src_ts_us = REAL0};
	mesh_on_detector(&fx.m, &d, &s, REAL0 + 7 * MS, T0 + SEC);
	assert_int_equal(fx.nout, 0);
	d.ttl = 3;
	mesh_on_detector(&fx.m, &d, &s, REAL0 + 7 * MS, T0 + SEC);
	assert_int_equal(fx.nout, 0);
}

/* A first hop (TTL 2) must come from the source it names: one naming
 * another id or address is not passed on, so no neighbour is made to
 * probe an address the sender chose. */
static void test_one_hop_forged_source(void **state)
{
	start(1);
	befriend(1, 0);
	befriend(2, 0);
	befriend(3, 0);
	struct wire_addr s = addr(1), other = addr(9), moved = addr(1);
	moved.port++;
	struct wire_detector d = {.msg_id = 9, .ttl = 2, .src = other, .src_ts_us = REAL0};
	mesh_on_detector(&fx.m, &d, &s, REAL0 + 7 * MS, T0 + SEC);
	d.src = moved;
	mesh_on_detector(&fx.m, &d, &s, REAL0 + 7 * MS, T0 + SEC);
	assert_int_equal(fx.nout, 0);
	assert_int_equal(fx.m.detectors_forged, 2);
	d.src = s;
	mesh_on_detector(&fx.m, &d, &s, REAL0 + 7 * MS, T0 + SEC);
	assert_int_equal(fx.nout, 2);
}

/* Detectors a neighbour passes on draw direct probes at the addresses they
 * name: MESH_TWO_HOP_MAX of them a round period from one neighbour, one a
 * round period to one S. */
static void test_two_hops_bounded(void **state)
{
	start(1);
	befriend(2, 0); /* N */
	struct wire_addr n = addr(2);
	int probes = 0;
	for (uint32_t i = 0; i < MESH_TWO_HOP_MAX + 10; i++) {
		fx.nout = 0;
		struct wire_detector d = {.msg_id = i,
		                          .ttl = 1,
		                          .src = addr(1000 + i),
		                          .src_ts_us = REAL0,
		                          .direct = n,
		                          .direct_ts_us = REAL0 + 5 * MS};
		mesh_on_detector(&fx.m, &d, &n, REAL0 + 45 * MS, T0);
		probes += fx.nout;
	}
	assert_int_equal(probes, MESH_TWO_HOP_MAX);
	assert_int_equal(fx.m.detectors_over, 10);
	/* The next round period: more, but S = 1000 + i again only once. */
	struct wire_detector d = {.msg_id = 99,
	                          .ttl = 1,
	                          .src = addr(5000),
	                          .src_ts_us = REAL0,
	                          .direct = n,
	                          .direct_ts_us = REAL0 + 5 * MS};
	fx.nout = 0;
	mesh_on_detector(&fx.m, &d, &n, REAL0 + 45 * MS, T0 + MESH_ROUND_US);
	only(WIRE_DETECTOR, 5000);
	mesh_on_detector(&fx.m, &d, &n, REAL0 + 45 * MS, T0 + MESH_ROUND_US + SEC);
	assert_int_equal(fx.nout, 0);
	/* S did not answer within a round period: it is probed again. */
	mesh_on_detector(&fx.m, &d, &n, REAL0 + 45 * MS, T0 + 2 * MESH_ROUND_US);
	only(WIRE_DETECTOR, 5000);
}

/* Two hops S -> N -> us with N-us the slowest link: the link to N goes,
 * once per round. */
/* Neighbours S = 1 (d_sp_ms from it), N = 2 and 3; S's detector reaches
 * us through N after d(S,N) = 10 ms and d(N,us) = d_np_ms. */
static struct wire_detector triangle(uint32_t d_sp_ms, uint32_t d_np_ms)
{
	befriend(1, d_sp_ms * MS); /* S */
	befriend(2, 0);            /* N */
	befriend(3, 0);
	struct wire_addr n = addr(2);
	struct wire_detector d = {.msg_id = 1,
	                          .ttl = 1,
	                          .src = addr(1),
	                          .src_ts_us = REAL0,
	                          .direct = n,
	                          .direct_ts_us = REAL0 + 10 * MS};
	mesh_on_detector(&fx.m, &d, &n, REAL0 + (10 + d_np_ms) * MS, T0);
	return d;
}

static void test_two_hops_cut_slowest(void **state)
{
	start(1);
	struct wire_detector d = triangle(10, 30);
	struct wire_addr n = addr(2);
	assert_int_equal(only(WIRE_NEIGH_CUT, 2)->u.simple.reason, WIRE_CUT_LTM);
	assert_null(mesh_find(&fx.m, 2));
	/* The next change waits for the next round. */
	assert_non_null(mesh_add(&fx.m, &n, 0, T0));
	mesh_on_detector(&fx.m, &d, &n, REAL0 + 40 * MS, T0 + SEC);
	assert_int_equal(fx.nout, 0);
	assert_non_null(mesh_find(&fx.m, 2));
}

/* A peer LTM cut is neither asked again nor taken when it asks for
 * MESH_CUT_MEMORY_US: in a network where it is the only candidate the
 * refill brought it back within a second, and the next round cut it
 * again. */
static void test_ltm_cut_remembered(void **state)
{
	start(1);
	fx.cand[fx.ncand++] = (struct wire_peer_entry){addr(2), 1, WIRE_ROLE_PEER};
	triangle(10, 30);
	assert_int_equal(only(WIRE_NEIGH_CUT, 2)->u.simple.reason, WIRE_CUT_LTM);
	assert_int_equal(fx.m.n, 2);
	mesh_round(&fx.m, REAL0 + 3 * SEC, T0 + 3 * SEC);
	for (int i = 0; i < fx.nout; i++)
		assert_int_not_equal(fx.out[i].to.id, 2);
	fx.nout = 0;
	struct wire_addr n = addr(2);
	mesh_on_request(&fx.m, &n, 0, T0 + 3 * SEC);
	assert_int_equal(only(WIRE_NEIGH_CUT, 2)->u.simple.reason, WIRE_CUT_LTM);
	assert_null(mesh_find(&fx.m, 2));
	/* Then it is a candidate like any other. */
	mesh_round(&fx.m, REAL0 + MESH_CUT_MEMORY_US, T0 + MESH_CUT_MEMORY_US);
	int asked = 0;
	for (int i = 0; i < fx.nout; i++)
		asked += fx.out[i].to.id == 2 && fx.out[i].m.hdr.type == WIRE_NEIGH_REQ;
	assert_true(asked >= 1);
}

/* The node's rule decides on a live detector: S at 10 ms, N-P 20 ms, S-P
 * 25 ms. The default keeps N; the paper's rule cuts it. */
static void test_two_hops_rule_option(void **state)
{
	for (int rule = LTM_RULE_SLOWEST; rule <= LTM_RULE_PATH; rule++) {
		start(1);
		fx.m.rule = rule;
		triangle(25, 20);
		if (rule == LTM_RULE_SLOWEST) {
			assert_int_equal(fx.nout, 0);
			assert_non_null(mesh_find(&fx.m, 2));
		} else {
			assert_int_equal(only(WIRE_NEIGH_CUT, 2)->u.simple.reason, WIRE_CUT_LTM);
			assert_null(mesh_find(&fx.m, 2));
		}
		evlog_close(&fx.log);
	}
	start(1); /* the teardown closes this one */
}

/* S two hops away and not a neighbour: probe it; a direct answer that
 * shows S clearly nearer than N brings a request to S. */
static void test_probe_then_replace(void **state)
{
	start(1);
	befriend(2, 0); /* N */
	struct wire_addr n = addr(2), s = addr(9);
	struct wire_detector d = {.msg_id = 1,
	                          .ttl = 1,
	                          .src = s,
	                          .src_ts_us = REAL0,
	                          .direct = n,
	                          .direct_ts_us = REAL0 + 5 * MS};
	mesh_on_detector(&fx.m, &d, &n, REAL0 + 45 * MS, T0);
	const struct wire_msg *p = only(WIRE_DETECTOR, 9);
	assert_int_equal(p->u.det.ttl, 0);
	assert_int_equal(p->u.det.direct.id, 0);
	/* S answers a direct probe with its own timestamp ... */
	struct wire_detector answer = {
	    .ttl = 0, .src = s, .src_ts_us = REAL0 + 50 * MS, .direct = addr(SELF)};
	mesh_on_detector(&fx.m, &answer, &s, REAL0 + 55 * MS, T0 + SEC);
	only(WIRE_NEIGH_REQ, 9);
	/* ... and only once per probe. */
	mesh_on_detector(&fx.m, &answer, &s, REAL0 + 55 * MS, T0 + 5 * SEC);
	assert_int_equal(fx.nout, 0);
}

/* We answer a direct probe with our own timestamp. */
static void test_direct_probe_answered(void **state)
{
	start(1);
	struct wire_addr s = addr(9);
	struct wire_detector d = {.ttl = 0, .src = s, .src_ts_us = REAL0};
	mesh_on_detector(&fx.m, &d, &s, REAL0 + 3 * MS, T0);
	const struct wire_msg *m = only(WIRE_DETECTOR, 9);
	assert_int_equal(m->u.det.src.id, SELF);
	assert_int_equal(m->u.det.src_ts_us, REAL0 + 3 * MS);
	assert_int_equal(m->u.det.direct.id, 9);
}

static void test_cut_logged_once(void **state)
{
	start(1);
	befriend(1, 0);
	mesh_on_cut(&fx.m, 1, "cut");
	mesh_on_cut(&fx.m, 1, "cut");
	assert_int_equal(fx.m.n, 0);
	struct wire_addr out[4];
	assert_int_equal(mesh_neighbours(&fx.m, out, 4), 0);
}

#define T(f) cmocka_unit_test_setup(f, setup)
#define P(f) cmocka_unit_test_teardown(f, proto_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ltm_unknown_s_is_probed),
	    cmocka_unit_test(test_ltm_replace_margin),
	    cmocka_unit_test(test_ltm_replace_no_wrap),
	    cmocka_unit_test(test_ltm_cut_only_slowest),
	    cmocka_unit_test(test_ltm_path_rule),
	    cmocka_unit_test(test_init),
	    T(test_add_refresh),
	    T(test_full),
	    cmocka_unit_test(test_full_at_mesh_max),
	    T(test_del),
	    T(test_mean_delay),
	    T(test_first_seen),
	    T(test_first_seen_ring_wraps),
	    T(test_pending_add_take),
	    T(test_pending_keeps_slowest_n),
	    T(test_pending_overflow_forgets_oldest),
	    T(test_pending_overflow_after_take),
	    P(test_request_accepted_until_full),
	    P(test_disabled_refuses_and_stays_silent),
	    P(test_leaving_refuses_and_says_goodbye),
	    P(test_accept_over_target_sheds_farthest),
	    P(test_round_fills_and_floods),
	    P(test_round_forgets_silent),
	    P(test_neighbour_learns_stream),
	    P(test_one_hop_forwarded_once),
	    P(test_detector_ttl_bounded),
	    P(test_one_hop_forged_source),
	    P(test_two_hops_bounded),
	    P(test_two_hops_cut_slowest),
	    P(test_ltm_cut_remembered),
	    P(test_two_hops_rule_option),
	    P(test_probe_then_replace),
	    P(test_direct_probe_answered),
	    P(test_cut_logged_once),
	};
	return cmocka_run_group_tests_name("mesh", tests, NULL, NULL);
}
