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

/* The histogram's quantiles stay within 1/HIST_SUB of the exact ones over
 * the range the metrics use (microseconds to minutes). */
static void test_hist_matches_exact_quantiles(void **state)
{
	(void)state;
	struct rng r;
	rng_seed(&r, 7);
	static struct hist h;
	memset(&h, 0, sizeof(h));
	size_t n = 20000;
	double *v = malloc(n * sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		/* Log-uniform between 1 us and 100 s. */
		uint64_t x = (uint64_t)exp(rng_unit(&r) * log(1e8));
		v[i] = (double)x;
		hist_add(&h, x);
	}
	sort_doubles(v, n);
	static const double qs[] = {0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1};
	for (size_t k = 0; k < ARRAY_LEN(qs); k++) {
		double exact = quantile_sorted(v, n, qs[k]), approx = hist_quantile(&h, qs[k]);
		if (fabs(approx - exact) > exact / HIST_SUB + 0.5)
			fail_msg("q%.2f: histogram %.1f, exact %.1f", qs[k], approx, exact);
	}
	assert_int_equal(h.n, n);
	assert_true(hist_quantile(&h, 1) == v[n - 1]);
	free(v);
}

static void test_hist_small_values_exact(void **state)
{
	(void)state;
	static struct hist h;
	memset(&h, 0, sizeof(h));
	for (uint64_t x = 0; x < 100; x++)
		hist_add(&h, x);
	assert_true(hist_quantile(&h, 0.5) == 50);
	assert_true(hist_quantile(&h, 0) == 0);
	static struct hist empty;
	assert_true(hist_quantile(&empty, 0.5) == 0);
	static struct hist a, b;
	hist_add(&a, 10);
	hist_add(&b, 1000000);
	hist_merge(&a, &b);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.max, 1000000);
}

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
	    cmocka_unit_test(test_hist_matches_exact_quantiles),
	    cmocka_unit_test(test_hist_small_values_exact),
	    cmocka_unit_test(test_quantile_sorted),
	    cmocka_unit_test(test_dist_json),
	};
	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
