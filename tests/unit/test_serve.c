#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "peer/serve.h"

/* 10 segments a second: a new partner may pull 4 s at once, then twice the
 * stream's rate, and never more than it asks. */
static void test_budget(void **state)
{
	(void)state;
	struct bucket b = {0};
	const uint64_t period = 100000;
	assert_int_equal(serve_budget(&b, period, 128, 1000000), 40);
	assert_int_equal(serve_budget(&b, period, 128, 1000000), 0);
	/* Half a second later: 10 more. */
	assert_int_equal(serve_budget(&b, period, 128, 1500000), 10);
	assert_int_equal(serve_budget(&b, period, 3, 2000000), 3);
	/* A long pause refills to the burst, not beyond. */
	assert_int_equal(serve_budget(&b, period, 1000, 100000000), 40);
	/* A clock that went back takes nothing and adds nothing. */
	assert_int_equal(serve_budget(&b, period, 1, 50000000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_budget)};
	return cmocka_run_group_tests_name("serve", tests, NULL, NULL);
}
