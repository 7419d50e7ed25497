/* cmocka.h needs these included before it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "lib/util.h"
#include "netns/linkmodel.h"
#include "netns/shaper.h"

#define MS 1000000ull /* nanoseconds */
#define US 1000ull

struct fixture {
	void *mem;
	struct linkmodel *m;
	struct shaper *s;
};

/* n hosts, unlimited links, no delay, one partition. */
static struct fixture *fixture_new(uint32_t n, uint64_t seed)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->mem = calloc(1, linkmodel_size(n));
	assert_non_null(f->mem);
	f->m = linkmodel_init(f->mem, n);
	f->s = shaper_new(n, seed);
	assert_non_null(f->s);
	return f;
}

static void fixture_free(struct fixture *f)
{
	shaper_free(f->s);
	free(f->mem);
	free(f);
}

static void set_delay(struct fixture *f, uint32_t a, uint32_t b, uint32_t us)
{
	f->m->delay_us[(size_t)a * f->m->n + b] = us;
}

/* Ingress then egress at the due time, as the switch does for a lone frame. */
static uint64_t pass_both(struct fixture *f, uint32_t a, uint32_t b, uint32_t len, uint64_t now)
{
	uint64_t due, depart;
	assert_int_equal(shaper_ingress(f->s, f->m, a, b, len, now, &due), SHAPER_PASS);
	assert_int_equal(shaper_egress(f->s, f->m, b, len, due, &depart), SHAPER_PASS);
	return depart;
}

static void test_delay_only(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(2, 1);
	set_delay(f, 0, 1, 25000);
	set_delay(f, 1, 0, 7000);
	assert_int_equal(pass_both(f, 0, 1, 1514, 1000), 1000 + 25 * MS);
	assert_int_equal(pass_both(f, 1, 0, 60, 5 * MS), 12 * MS);
	/* Unlimited links queue nothing: a burst all leaves together. */
	for (int i = 0; i < 100; i++)
		assert_int_equal(pass_both(f, 0, 1, 1514, 40 * MS), 65 * MS);
	fixture_free(f);
}

static void test_uplink_serialisation(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(2, 1);
	f->m->host[0].up_bps = 10000000; /* 1250 bytes per ms */
	set_delay(f, 0, 1, 5000);
	uint64_t due;
	for (uint64_t i = 1; i <= 3; i++) {
		assert_int_equal(shaper_ingress(f->s, f->m, 0, 1, 1250, 0, &due), SHAPER_PASS);
		assert_int_equal(due, i * MS + 5 * MS);
	}
	/* After the backlog has drained, a frame goes straight on the wire. */
	assert_int_equal(shaper_ingress(f->s, f->m, 0, 1, 125, 10 * MS, &due), SHAPER_PASS);
	assert_int_equal(due, 10 * MS + 100 * US + 5 * MS);
	/* The other direction has its own, unlimited, uplink. */
	assert_int_equal(shaper_ingress(f->s, f->m, 1, 0, 1250, 0, &due), SHAPER_PASS);
	assert_int_equal(due, 0);
	fixture_free(f);
}

static void test_downlink_serialisation(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(3, 1);
	f->m->host[2].down_bps = 1000000; /* 125 bytes per ms */
	set_delay(f, 0, 2, 10000);
	set_delay(f, 1, 2, 1000);
	/* Two senders share host 2's downlink in the order frames reach it. */
	uint64_t a, b, da, db;
	assert_int_equal(shaper_ingress(f->s, f->m, 0, 2, 125, 0, &a), SHAPER_PASS);
	assert_int_equal(shaper_ingress(f->s, f->m, 1, 2, 125, 0, &b), SHAPER_PASS);
	assert_true(b < a);
	assert_int_equal(shaper_egress(f->s, f->m, 2, 125, b, &db), SHAPER_PASS);
	assert_int_equal(shaper_egress(f->s, f->m, 2, 125, a, &da), SHAPER_PASS);
	assert_int_equal(db, 2 * MS);
	assert_int_equal(da, 11 * MS);
	/* Back to back: each waits for the one before. */
	uint64_t d[3];
	for (int i = 0; i < 3; i++)
		assert_int_equal(shaper_egress(f->s, f->m, 2, 250, 20 * MS, &d[i]), SHAPER_PASS);
	assert_int_equal(d[0], 22 * MS);
	assert_int_equal(d[1], 24 * MS);
	assert_int_equal(d[2], 26 * MS);
	fixture_free(f);
}

static void test_wire_bytes(void **state)
{
	(void)state;
	assert_int_equal(shaper_wire_bytes(1514, 0, 0), 1514);
	assert_int_equal(shaper_wire_bytes(60, 0, 54), 60);
	/* Three full TCP segments behind 66 bytes of headers. */
	assert_int_equal(shaper_wire_bytes(66 + 3 * 1448, 1448, 66), 66 + 3 * 1448 + 2 * 66);
	/* A short last segment still carries its own headers. */
	assert_int_equal(shaper_wire_bytes(66 + 1448 + 100, 1448, 66), 66 + 1448 + 100 + 66);
	assert_int_equal(shaper_wire_bytes(66 + 1000, 1448, 66), 66 + 1000);
}

static void test_queue_limit(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(2, 1);
	f->m->host[0].up_bps = 8000000; /* one byte per microsecond */
	f->m->host[0].queue_bytes = 3000;
	uint64_t due;
	enum shaper_verdict want[] = {SHAPER_PASS, SHAPER_PASS, SHAPER_PASS, SHAPER_DROP_QUEUE,
	                              SHAPER_DROP_QUEUE};
	for (size_t i = 0; i < ARRAY_LEN(want); i++)
		assert_int_equal(shaper_ingress(f->s, f->m, 0, 1, 1000, 0, &due), want[i]);
	assert_int_equal(due, 3000 * US); /* drops leave the backlog alone */
	/* 1000 bytes have gone out: room for exactly one more. */
	assert_int_equal(shaper_ingress(f->s, f->m, 0, 1, 1000, 1000 * US, &due), SHAPER_PASS);
	assert_int_equal(shaper_ingress(f->s, f->m, 0, 1, 1, 1000 * US, &due), SHAPER_DROP_QUEUE);
	/* An idle link takes a frame even larger than the limit. */
	assert_int_equal(shaper_ingress(f->s, f->m, 0, 1, 5000, 10 * MS, &due), SHAPER_PASS);
	/* The default limit applies when none is set. */
	f->m->host[1].down_bps = 8000000;
	int passed = 0;
	for (int i = 0; i < 1000; i++)
		passed += shaper_egress(f->s, f->m, 1, 1000, 0, &due) == SHAPER_PASS;
	assert_int_equal(passed, LINKMODEL_DEFAULT_QUEUE_BYTES / 1000);
	fixture_free(f);
}

static int count_losses(uint64_t seed, double loss, int n)
{
	struct fixture *f = fixture_new(2, seed);
	f->m->host[0].loss = loss;
	int lost = 0;
	uint64_t due;
	for (int i = 0; i < n; i++) {
		enum shaper_verdict v = shaper_ingress(f->s, f->m, 0, 1, 100, (uint64_t)i, &due);
		assert_true(v == SHAPER_PASS || v == SHAPER_DROP_LOSS);
		lost += v == SHAPER_DROP_LOSS;
	}
	fixture_free(f);
	return lost;
}

static void test_loss_rate(void **state)
{
	(void)state;
	const int n = 100000;
	int lost = count_losses(42, 0.1, n);
	/* Three standard deviations of a binomial(n, 0.1) are 0.28 points. */
	assert_true(fabs((double)lost / n - 0.1) < 0.003);
	assert_int_equal(count_losses(42, 0.1, n), lost);
	assert_int_not_equal(count_losses(43, 0.1, n), lost);
	assert_int_equal(count_losses(42, 0.0, n), 0);
	assert_int_equal(count_losses(42, 1.0, 1000), 1000);
}

static void test_partition(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(3, 1);
	f->m->host[2].partition = 1;
	uint64_t due;
	assert_int_equal(shaper_ingress(f->s, f->m, 0, 2, 100, 0, &due), SHAPER_DROP_PARTITION);
	assert_int_equal(shaper_ingress(f->s, f->m, 2, 1, 100, 0, &due), SHAPER_DROP_PARTITION);
	assert_int_equal(shaper_ingress(f->s, f->m, 0, 1, 100, 0, &due), SHAPER_PASS);
	/* Healing is just another model change. */
	f->m->host[2].partition = 0;
	assert_int_equal(shaper_ingress(f->s, f->m, 0, 2, 100, 0, &due), SHAPER_PASS);
	fixture_free(f);
}

static void test_jitter_distribution(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(2, 7);
	set_delay(f, 0, 1, 50000);
	f->m->host[0].jitter_us = 5000;
	const int n = 20000;
	double sum = 0, sum2 = 0;
	uint64_t due;
	for (int i = 0; i < n; i++) {
		/* A second apart, so keeping order never holds a frame back. */
		uint64_t now = (uint64_t)i * 1000 * MS;
		assert_int_equal(shaper_ingress(f->s, f->m, 0, 1, 100, now, &due), SHAPER_PASS);
		double d = (double)(due - now) / MS;
		sum += d;
		sum2 += d * d;
	}
	double mean = sum / n, sd = sqrt(sum2 / n - mean * mean);
	/* The mean's standard error is 5 ms / sqrt(n) = 0.035 ms. */
	assert_true(fabs(mean - 50.0) < 0.15);
	assert_true(fabs(sd - 5.0) < 0.15);
	fixture_free(f);
}

static void test_jitter_truncated(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(2, 7);
	set_delay(f, 0, 1, 1000);
	f->m->host[1].jitter_us = 5000;
	uint64_t due;
	int at_zero = 0;
	for (int i = 0; i < 5000; i++) {
		uint64_t now = (uint64_t)i * 1000 * MS;
		assert_int_equal(shaper_ingress(f->s, f->m, 0, 1, 100, now, &due), SHAPER_PASS);
		assert_true(due >= now);
		at_zero += due == now;
	}
	/* P(1 ms + N(0, 5 ms) < 0) = 42%. */
	assert_true(at_zero > 1900 && at_zero < 2300);
	fixture_free(f);
}

static void test_fifo_per_pair(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(3, 3);
	set_delay(f, 0, 2, 10000);
	set_delay(f, 1, 2, 10000);
	f->m->host[0].jitter_us = 5000;
	f->m->host[1].jitter_us = 5000;
	uint64_t last0 = 0, last1 = 0, due;
	int overtaken = 0;
	for (int i = 0; i < 10000; i++) {
		uint64_t now = (uint64_t)i * 100 * US;
		assert_int_equal(shaper_ingress(f->s, f->m, 0, 2, 100, now, &due), SHAPER_PASS);
		assert_true(due >= last0);
		last0 = due;
		assert_int_equal(shaper_ingress(f->s, f->m, 1, 2, 100, now, &due), SHAPER_PASS);
		assert_true(due >= last1);
		last1 = due;
		/* Pairs do not hold each other back. */
		overtaken += last1 < last0;
	}
	assert_true(overtaken > 0);
	/* Shortening a delay mid-flow does not reorder either. */
	f->m->host[0].jitter_us = 0;
	set_delay(f, 0, 2, 0);
	assert_int_equal(shaper_ingress(f->s, f->m, 0, 2, 100, 1000 * MS, &due), SHAPER_PASS);
	assert_true(due >= last0);
	fixture_free(f);
}

static void test_model_change(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(2, 1);
	f->m->host[0].up_bps = 8000000;
	uint64_t due;
	assert_int_equal(shaper_ingress(f->s, f->m, 0, 1, 1000, 0, &due), SHAPER_PASS);
	assert_int_equal(due, 1000 * US);
	f->m->host[0].up_bps = 16000000;
	set_delay(f, 0, 1, 2000);
	f->m->generation++;
	assert_int_equal(shaper_ingress(f->s, f->m, 0, 1, 1000, 0, &due), SHAPER_PASS);
	assert_int_equal(due, 1500 * US + 2 * MS);
	fixture_free(f);
}

static void test_dueq_order(void **state)
{
	(void)state;
	const uint32_t n = 5000;
	struct dueq *q = dueq_new(n);
	assert_non_null(q);
	uint64_t due;
	assert_int_equal(dueq_peek(q, &due), 0);
	struct rng r;
	rng_seed(&r, 9);
	/* Few distinct times, so ties are common. */
	uint64_t *at = calloc(n, sizeof(*at));
	assert_non_null(at);
	for (uint32_t i = 0; i < n; i++) {
		at[i] = rng_below(&r, 200);
		assert_int_equal(dueq_push(q, at[i], i), 0);
	}
	assert_int_equal(dueq_push(q, 0, n), -1);
	assert_int_equal(dueq_len(q), n);
	uint64_t prev_due = 0;
	int64_t prev_id = -1;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t peeked;
		assert_int_equal(dueq_peek(q, &peeked), 1);
		uint32_t id = dueq_pop(q, &due);
		assert_int_equal(due, peeked);
		assert_int_equal(due, at[id]);
		assert_true(due >= prev_due);
		if (due == prev_due)
			assert_true((int64_t)id > prev_id);
		prev_due = due;
		prev_id = id;
	}
	assert_int_equal(dueq_len(q), 0);
	/* Pushes and pops interleaved, as the switch does. */
	for (uint32_t i = 0; i < 100; i++)
		assert_int_equal(dueq_push(q, 1000 - i, i), 0);
	assert_int_equal(dueq_pop(q, &due), 99);
	assert_int_equal(dueq_push(q, 5, 500), 0);
	assert_int_equal(dueq_pop(q, &due), 500);
	assert_int_equal(due, 5);
	assert_int_equal(dueq_pop(q, &due), 98);
	free(at);
	dueq_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_delay_only),
	    cmocka_unit_test(test_uplink_serialisation),
	    cmocka_unit_test(test_downlink_serialisation),
	    cmocka_unit_test(test_wire_bytes),
	    cmocka_unit_test(test_queue_limit),
	    cmocka_unit_test(test_loss_rate),
	    cmocka_unit_test(test_partition),
	    cmocka_unit_test(test_jitter_distribution),
	    cmocka_unit_test(test_jitter_truncated),
	    cmocka_unit_test(test_fifo_per_pair),
	    cmocka_unit_test(test_model_change),
	    cmocka_unit_test(test_dueq_order),
	};
	return cmocka_run_group_tests_name("shaper", tests, NULL, NULL);
}
