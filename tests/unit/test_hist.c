#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/stats.h"
#include "lib/hist.h"
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

/* Lateness in nanoseconds, as the switch keeps it: a few late frames
 * among many on time move p99 only when they are more than 1%, and a value
 * past the last bucket still gives the exact maximum. */
static void test_hist_lateness_tail(void **state)
{
	(void)state;
	static struct hist h;
	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 990; i++)
		hist_add(&h, 20000); /* 20 us */
	for (int i = 0; i < 10; i++)
		hist_add(&h, 5000000); /* 5 ms */
	assert_true(fabs(hist_quantile(&h, 0.5) - 20000) <= 20000.0 / HIST_SUB);
	assert_true(fabs(hist_quantile(&h, 0.99) - 20000) <= 20000.0 / HIST_SUB);
	hist_add(&h, 5000000);
	assert_true(fabs(hist_quantile(&h, 0.99) - 5e6) <= 5e6 / HIST_SUB);
	uint64_t huge = 1ull << 45; /* beyond the 34 powers of two */
	hist_add(&h, huge);
	assert_true(hist_quantile(&h, 1) == (double)huge);
	assert_true(hist_quantile(&h, 0.999) <= (double)huge);
	assert_int_equal(h.n, 1002);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hist_matches_exact_quantiles),
	    cmocka_unit_test(test_hist_small_values_exact),
	    cmocka_unit_test(test_hist_lateness_tail),
	};
	return cmocka_run_group_tests_name("hist", tests, NULL, NULL);
}
