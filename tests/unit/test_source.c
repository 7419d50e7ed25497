#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "peer/node.h"
#include "peer/source.h"

/* The broadcaster's pacing across the 2^32 wrap of the sequence: it makes
 * the segments due and returns, and the sequence goes on from 0. Before
 * the fix the 32-bit counter wrapped into the schedule and the loop never
 * ended; the alarm turns such a spin into a failure. */
static void test_generate_across_wrap(void **state)
{
	(void)state;
	static struct node n;
	static struct config cfg;
	memset(&n, 0, sizeof(n));
	config_defaults(&cfg, ROLE_SOURCE);
	n.cfg = &cfg;
	n.synthetic = 1;
	assert_int_equal(overlay_init(&n.ov, 3, "tv1", 300000, 40000000u), 0);
	uint64_t period = n.ov.buf.period_us;
	n.generated = (uint64_t)UINT32_MAX - 1;
	/* Started long enough ago for 2^32 + 2 segments to be due. */
	n.gen_t0_us = mono_us() - (n.generated + 3) * period;
	alarm(10);
	assert_true(source_timer(NULL, &n) > 0);
	alarm(0);
	assert_true(n.generated >= (uint64_t)UINT32_MAX + 2);
	assert_true(n.generated < (uint64_t)UINT32_MAX + 10);
	assert_true(buffer_has(&n.ov.buf, UINT32_MAX));
	assert_true(buffer_has(&n.ov.buf, 0));
	assert_true(buffer_has(&n.ov.buf, 1));
	assert_int_equal(n.ov.buf.newest, (uint32_t)(n.generated - 1));
	overlay_free(&n.ov);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_generate_across_wrap),
	};
	return cmocka_run_group_tests_name("source", tests, NULL, NULL);
}
