#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "harness/evqueue.h"

static struct sched_event ev(double t, uint64_t order)
{
	return (struct sched_event){.t = t, .kind = EV_CALL, .host = -1, .order = order};
}

/* Pop the next event and check its time and declaration order. */
static void pops(struct evqueue *q, double t, uint64_t order)
{
	struct sched_event e;
	assert_int_equal(evqueue_pop(q, &e), 0);
	if (e.t != t || e.order != order)
		fail_msg("popped (%g, %llu), want (%g, %llu)", e.t, (unsigned long long)e.order, t,
		         (unsigned long long)order);
}

static void test_fires_in_order(void **state)
{
	(void)state;
	const struct sched_event sched[] = {ev(0, 0), ev(1, 1), ev(1, 2), ev(2, 3)};
	struct evqueue q;
	char err[128];
	assert_int_equal(evqueue_init(&q, sched, 4, err, sizeof(err)), 0);
	assert_true(evqueue_peek(&q)->t == 0);
	pops(&q, 0, 0);
	pops(&q, 1, 1);
	pops(&q, 1, 2);
	pops(&q, 2, 3);
	assert_null(evqueue_peek(&q));
	struct sched_event e;
	assert_int_equal(evqueue_pop(&q, &e), -1);
	evqueue_free(&q);
}

/* A pushed event fires after every pending one due at the same time. */
static void test_push_after_ties(void **state)
{
	(void)state;
	const struct sched_event sched[] = {ev(1, 0), ev(2, 1), ev(2, 2), ev(3, 3)};
	struct evqueue q;
	char err[128];
	assert_int_equal(evqueue_init(&q, sched, 4, err, sizeof(err)), 0);
	pops(&q, 1, 0);
	assert_int_equal(evqueue_push(&q, ev(2, 0), err, sizeof(err)), 0);
	assert_int_equal(evqueue_push(&q, ev(5, 9), err, sizeof(err)), 0);
	pops(&q, 2, 1);
	pops(&q, 2, 2);
	pops(&q, 2, 0);
	pops(&q, 3, 3);
	pops(&q, 5, 9);
	assert_null(evqueue_peek(&q));
	evqueue_free(&q);
}

/* An event pushed with a time already passed (a late loop) is next, and
 * no fired event comes back. */
static void test_push_late(void **state)
{
	(void)state;
	const struct sched_event sched[] = {ev(1, 0), ev(4, 1), ev(6, 2)};
	struct evqueue q;
	char err[128];
	assert_int_equal(evqueue_init(&q, sched, 3, err, sizeof(err)), 0);
	pops(&q, 1, 0);
	pops(&q, 4, 1);
	assert_int_equal(evqueue_push(&q, ev(2, 0), err, sizeof(err)), 0);
	pops(&q, 2, 0);
	pops(&q, 6, 2);
	assert_null(evqueue_peek(&q));
	evqueue_free(&q);
}

/* A periodic event re-queued many times: order holds while the room of
 * fired events is reused and the array grows. */
static void test_many_pushes(void **state)
{
	(void)state;
	const struct sched_event sched[] = {ev(0, 0), ev(1000.5, 1)};
	struct evqueue q;
	char err[128];
	assert_int_equal(evqueue_init(&q, sched, 2, err, sizeof(err)), 0);
	for (int k = 0; k < 900; k++) {
		struct sched_event e;
		assert_int_equal(evqueue_pop(&q, &e), 0);
		assert_true(e.t == k);
		e.t = k + 1;
		assert_int_equal(evqueue_push(&q, e, err, sizeof(err)), 0);
	}
	pops(&q, 900, 0);
	assert_true(evqueue_peek(&q)->t == 1000.5);
	evqueue_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fires_in_order),
	    cmocka_unit_test(test_push_after_ties),
	    cmocka_unit_test(test_push_late),
	    cmocka_unit_test(test_many_pushes),
	};
	return cmocka_run_group_tests_name("evqueue", tests, NULL, NULL);
}
