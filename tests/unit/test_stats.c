#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/stats.h"
#include "lib/util.h"

static void test_quantile_sorted(void **state)
{
	(void)state;
	double v[] = {5, 1, 4, 2, 3};
	sort_doubles(v, 5);
	assert_true(quantile_sorted(v, 5, 0.5) == 3);
	assert_true(quantile_sorted(v, 5, 0.95) == 5);
	assert_true(quantile_sorted(v, 5, 0) == 1);
	assert_true(quantile_sorted(v, 0, 0.5) == 0);
}

static void test_dist_json(void **state)
{
	(void)state;
	double v[] = {1, 2, 3, 4};
	struct json j;
	json_init(&j, false);
	json_dist_sorted(&j, v, 4, 1000, 0);
	char *s = json_finish(&j);
	assert_non_null(s);
	assert_non_null(
	    strstr(s, "\"p50\":3000,\"p95\":4000,\"max\":4000,\"n\":4,\"cdf\":[[1000,0.00]"));
	assert_non_null(strstr(s, "[4000,1.00]]}"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quantile_sorted),
	    cmocka_unit_test(test_dist_json),
	};
	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
