/* The idle-priority spinners (harness/awake.h): they run only while the
 * machine is nearly idle, and held they take no CPU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "harness/awake.h"

static void test_wanted(void **state)
{
	(void)state;
	assert_true(awake_wanted(0.0));
	assert_true(awake_wanted(0.03)); /* the quick start's load */
	assert_false(awake_wanted(AWAKE_BUSY_MAX));
	assert_false(awake_wanted(0.17)); /* 20 peers: no halting to fear */
	assert_false(awake_wanted(1.0));
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Held, the spinners sleep: over 300 ms they use a few wakeups' worth of
 * CPU, where spinning they would take every idle cycle. Let go, they spin
 * again (on a machine busy with other work they may get little, so only
 * that they got some is asserted, over a second). */
static void test_hold(void **state)
{
	(void)state;
	struct awake a;
	char err[256];
	assert_int_equal(awake_start(&a, err, sizeof(err)), 0);
	assert_true(a.n >= 1);
	awake_hold(&a, 1);
	sleep_ms(50); /* each spinner sees the hold at its next turn */
	double before = awake_cpu_s(&a);
	sleep_ms(300);
	double held = awake_cpu_s(&a) - before;
	assert_true(held < 0.02);
	awake_hold(&a, 0);
	before = awake_cpu_s(&a);
	sleep_ms(1000);
	assert_true(awake_cpu_s(&a) - before > 0.001);
	awake_stop(&a);
	assert_int_equal(a.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wanted),
	    cmocka_unit_test(test_hold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
