#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "peer/adl.h"

#define SEC 1000000ull

/* By hand: ADL = leaving share / mean delay (s) x 100. */
static void test_index(void **state)
{
	/* 3 of 20 contacts left, 25 s of delay: the magnitude of Table II. */
	assert_true(fabs(adl_index(3, 20, 25) - 0.6) < 1e-9);
	/* 1 of 10 at 50 ms: far above any threshold of that scale. */
	assert_true(fabs(adl_index(1, 10, 0.05) - 200) < 1e-9);
	assert_true(adl_index(0, 10, 0.05) == 0);
	assert_true(adl_index(0, 0, 0) == 0);
	/* More leaves than contacts on average: the share is at most 1. */
	assert_true(fabs(adl_index(4, 2, 1) - 100) < 1e-9);
	/* Leaves and no delay known: above the threshold. */
	assert_true(adl_index(1, 10, 0) > ADL_THRESHOLD);
}

/* A window of samples gives the index; a leaver counts once however often
 * it is told (partner timeout, then mesh timeout). */
static void test_window(void **state)
{
	struct adl a;
	memset(&a, 0, sizeof(a));
	assert_int_equal(adl_probe_interval_us(&a, 5 * SEC), 5 * SEC); /* unknown: full */
	adl_leave(&a, 7);
	adl_leave(&a, 7);
	adl_leave(&a, 8);
	int closed = 0;
	for (uint64_t t = 0; t <= 30; t++)
		closed += adl_sample(&a, 10, 50000, 1000 * SEC + t * SEC);
	assert_int_equal(closed, 1);
	assert_true(a.known);
	/* 2 of 10 at 50 ms: 0.2 / 0.05 x 100 = 400. */
	assert_true(fabs(a.value - 400) < 1e-6);
	assert_int_equal(adl_probe_interval_us(&a, 5 * SEC), 5 * SEC);
	/* The next window: nobody left. */
	for (uint64_t t = 31; t <= 60; t++)
		adl_sample(&a, 10, 50000, 1000 * SEC + t * SEC);
	assert_true(a.value == 0);
	assert_int_equal(adl_probe_interval_us(&a, 5 * SEC), 20 * SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_index),
	    cmocka_unit_test(test_window),
	};
	return cmocka_run_group_tests_name("adl", tests, NULL, NULL);
}
