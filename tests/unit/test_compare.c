#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/compare.h"
#include "lib/util.h"

static char text[8192];

/* compare_runs with its report captured in text. */
static int compare_ci(const struct run_summary *a, const struct run_summary *b,
                      const struct tolerance *t, const struct compare_ci *ci)
{
	FILE *f = tmpfile();
	assert_non_null(f);
	int bad = compare_runs(a, b, t, ci, f);
	rewind(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = 0;
	fclose(f);
	return bad;
}

static int compare(const struct run_summary *a, const struct run_summary *b,
                   const struct tolerance *t)
{
	return compare_ci(a, b, t, NULL);
}

/* The report line of one metric. */
static const char *metric_line(const char *name)
{
	static char line[256];
	for (const char *p = text; *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (!strncmp(p, name, strlen(name)) && p[strlen(name)] == ' ') {
			snprintf(line, sizeof(line), "%.*s", (int)len, p);
			return line;
		}
		p += len + (end != NULL);
	}
	fail_msg("no line for %s in:\n%s", name, text);
	return NULL;
}

static int flagged(const char *name)
{
	return strstr(metric_line(name), "REGRESSION") != NULL;
}

#define NMETRICS 4
static const char *const metrics[NMETRICS] = {"peers played", "continuity", "startup median",
                                              "delay median"};

static struct run_summary base(void)
{
	return (struct run_summary){.peers = 20,
	                            .played = 18,
	                            .startup_median_s = 10,
	                            .delay_median_ms = 150,
	                            .continuity = 0.95,
	                            .verified = 0.95,
	                            .control_overhead = 0.03};
}

static struct tolerance tol(double continuity, double startup, double delay, double played)
{
	return (struct tolerance){continuity, startup, delay, played};
}

/* ---- tolerance parsing ---- */

static void test_default_tolerance(void **state)
{
	struct tolerance t;
	compare_default_tolerance(&t);
	assert_true(t.continuity == 0.01);
	assert_true(t.startup == 0.20);
	assert_true(t.delay == 0.20);
	assert_true(t.played == 0);
}

static void test_parse_values(void **state)
{
	char err[128] = "";
	struct tolerance t;
	compare_default_tolerance(&t);
	assert_int_equal(compare_parse_tolerance("continuity=0.02,startup=30%,delay=0.5,played=5%",
	                                         &t, err, sizeof(err)),
	                 0);
	assert_true(t.continuity == 0.02);
	assert_true(t.startup == 0.30);
	assert_true(t.delay == 0.5);
	assert_true(t.played == 0.05);

	/* Names left out keep their value; a name given twice takes the last. */
	assert_int_equal(compare_parse_tolerance("delay=10%,delay=0", &t, err, sizeof(err)), 0);
	assert_true(t.delay == 0);
	assert_true(t.startup == 0.30);
	assert_int_equal(compare_parse_tolerance("continuity=1.5%", &t, err, sizeof(err)), 0);
	assert_true(fabs(t.continuity - 0.015) < 1e-15);
	assert_int_equal(compare_parse_tolerance("", &t, err, sizeof(err)), 0);
	assert_true(t.played == 0.05);
	assert_string_equal(err, "");
}

static void check_rejected(const char *spec, const char *mention)
{
	char err[128] = "";
	struct tolerance t;
	compare_default_tolerance(&t);
	if (compare_parse_tolerance(spec, &t, err, sizeof(err)) != -1)
		fail_msg("tolerance '%s' was accepted", spec);
	if (!strstr(err, mention))
		fail_msg("tolerance '%s': error '%s' does not mention '%s'", spec, err, mention);
}

static void test_parse_errors(void **state)
{
	check_rejected("latency=0.1", "latency");
	check_rejected("continuity=0.01,jitter=5%", "jitter");
	check_rejected("startup", "startup");
	check_rejected("startup=", "startup");
	check_rejected("startup=abc", "abc");
	check_rejected("startup=-5%", "-5%");
	check_rejected("delay=5%%", "5%%");
	check_rejected("delay=5ms", "5ms");
	check_rejected("delay=0.1 ", "delay");
	check_rejected("played=nan", "nan");
	check_rejected("played=-nan", "nan");
}

static void test_parse_error_fits(void **state)
{
	char err[8];
	memset(err, 'x', sizeof(err));
	struct tolerance t;
	compare_default_tolerance(&t);
	assert_int_equal(compare_parse_tolerance("averyveryverylongname=1", &t, err, sizeof(err)),
	                 -1);
	assert_int_equal(strlen(err), sizeof(err) - 1);
}

/* ---- verdicts ---- */

static void test_equal_runs(void **state)
{
	struct run_summary a = base();
	struct tolerance zero = tol(0, 0, 0, 0);
	assert_int_equal(compare(&a, &a, &zero), 0);
	assert_non_null(strstr(text, "verdict: no regression\n"));
	for (int i = 0; i < NMETRICS; i++)
		assert_false(flagged(metrics[i]));
}

static void test_better_runs(void **state)
{
	struct run_summary a = base(), b = base();
	b.played = 20;
	b.continuity = 0.99;
	b.startup_median_s = 4;
	b.delay_median_ms = 90;
	b.control_overhead = 0.5;
	struct tolerance zero = tol(0, 0, 0, 0);
	assert_int_equal(compare(&a, &b, &zero), 0);
	assert_non_null(strstr(text, "verdict: no regression\n"));
	/* A run without a capture is compared on the rest alike. */
	b.control_overhead = -1;
	assert_int_equal(compare(&a, &b, &zero), 0);
}

/* B worse than A in one metric only, by factor over its tolerance. */
static struct run_summary worse_in(int metric, const struct tolerance *t, double over)
{
	struct run_summary a = base(), b = base();
	switch (metric) {
	case 0:
		b.played = (int)floor(b.peers * ((double)a.played / a.peers - t->played * over));
		break;
	case 1:
		b.continuity = a.continuity - t->continuity * over;
		break;
	case 2:
		b.startup_median_s = a.startup_median_s * (1 + t->startup * over);
		break;
	default:
		b.delay_median_ms = a.delay_median_ms * (1 + t->delay * over);
		break;
	}
	return b;
}

static void test_each_metric_counts_once(void **state)
{
	struct run_summary a = base();
	struct tolerance t = tol(0.01, 0.2, 0.2, 0.1);
	for (int m = 0; m < NMETRICS; m++) {
		struct run_summary b = worse_in(m, &t, 3);
		assert_int_equal(compare(&a, &b, &t), 1);
		assert_non_null(strstr(text, "verdict: REGRESSION\n"));
		for (int i = 0; i < NMETRICS; i++)
			assert_int_equal(flagged(metrics[i]), i == m);
	}

	struct run_summary b = base();
	b.played = 10;
	b.continuity = 0.5;
	b.startup_median_s = 60;
	b.delay_median_ms = 900;
	assert_int_equal(compare(&a, &b, &t), 4);
}

/* Boundaries as a user writes them, in decimal: B exactly at A plus (or
 * minus) the tolerance is not a regression, whatever the binary rounding
 * of A * (1 + t) or A - t. */
static void test_decimal_boundaries(void **state)
{
	static const struct {
		double a, b, t;
	} rise[] = {{10, 12, 0.2},     {150, 180, 0.2},      {0.7, 0.77, 0.1},
	            {3, 3.3, 0.1},     {2.5, 3.5, 0.4},      {3.3, 3.96, 0.2},
	            {45, 51.75, 0.15}, {101.3, 121.56, 0.2}, {40, 40, 0}},
	  drop[] = {{0.95, 0.94, 0.01}, {0.3, 0.2, 0.1},   {0.7, 0.6, 0.1},
	            {0.9, 0.8, 0.1},    {1, 0.99, 0.01},   {0.93, 0.83, 0.1},
	            {0.8, 0.7, 0.1},    {0.33, 0.3, 0.03}, {0.83, 0.83, 0}};
	struct run_summary a = base(), b;
	for (size_t i = 0; i < sizeof(rise) / sizeof(rise[0]); i++) {
		struct tolerance t = tol(0, rise[i].t, rise[i].t, 0);
		a.startup_median_s = a.delay_median_ms = rise[i].a;
		b = a;
		b.startup_median_s = b.delay_median_ms = rise[i].b;
		assert_int_equal(compare(&a, &b, &t), 0);
		b.startup_median_s = b.delay_median_ms = rise[i].b + 0.001;
		assert_int_equal(compare(&a, &b, &t), 2);
	}
	a = base();
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
		struct tolerance t = tol(drop[i].t, 0, 0, 0);
		a.continuity = drop[i].a;
		b = a;
		b.continuity = drop[i].b;
		assert_int_equal(compare(&a, &b, &t), 0);
		b.continuity = drop[i].b - 0.0001;
		assert_int_equal(compare(&a, &b, &t), 1);
	}
}

/* Exactly at the tolerance is still fine; just beyond it is not. */
static void test_boundaries(void **state)
{
	struct run_summary a = base(), b;
	static const double values[] = {0.3, 0.95, 1.0, 7.3, 10, 149.9, 2500};
	static const double tols[] = {0, 0.01, 0.1, 0.2, 0.25, 1.0 / 3};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		for (size_t j = 0; j < sizeof(tols) / sizeof(tols[0]); j++) {
			struct tolerance t = tol(tols[j], tols[j], tols[j], 0);
			a.startup_median_s = values[i];
			a.delay_median_ms = values[i] * 3;
			a.continuity = values[i] <= 1 ? values[i] : 0.9;

			b = a;
			b.startup_median_s = a.startup_median_s * (1 + t.startup);
			b.delay_median_ms = a.delay_median_ms * (1 + t.delay);
			b.continuity = a.continuity - t.continuity;
			assert_int_equal(compare(&a, &b, &t), 0);

			b.startup_median_s = a.startup_median_s * (1 + t.startup) + 1e-6;
			assert_int_equal(compare(&a, &b, &t), 1);
			assert_true(flagged("startup median"));
			b = a;
			b.delay_median_ms = a.delay_median_ms * (1 + t.delay) + 1e-6;
			assert_int_equal(compare(&a, &b, &t), 1);
			assert_true(flagged("delay median"));
			b = a;
			b.continuity = a.continuity - t.continuity - 1e-6;
			assert_int_equal(compare(&a, &b, &t), 1);
			assert_true(flagged("continuity"));
		}
}

static void test_played_share(void **state)
{
	struct run_summary a = base(), b = base();
	struct tolerance t = tol(0, 0, 0, 0);
	a.peers = 10;
	a.played = 10;
	/* Shares, not counts: a bigger run with the same share is no worse. */
	b.peers = 20;
	b.played = 20;
	assert_int_equal(compare(&a, &b, &t), 0);
	b.played = 19;
	assert_int_equal(compare(&a, &b, &t), 1);
	assert_true(flagged("peers played"));

	t.played = 0.1;
	b.peers = 10;
	b.played = 9;
	assert_int_equal(compare(&a, &b, &t), 0);
	b.played = 8;
	assert_int_equal(compare(&a, &b, &t), 1);
	/* 0.8 - 0.1 rounds above 0.7: still exactly at the tolerance. */
	a.played = 8;
	b.played = 7;
	assert_int_equal(compare(&a, &b, &t), 0);
	a.played = 10;

	/* A run where nobody played is worse than any run where someone did. */
	b.peers = 0;
	b.played = 0;
	assert_int_equal(compare(&a, &b, &t), 1);
	a.peers = a.played = 0;
	assert_int_equal(compare(&a, &b, &t), 0);
}

static void test_report_lines(void **state)
{
	struct run_summary a = base(), b = base();
	struct tolerance t = tol(0.01, 0.2, 0.2, 0);
	b.control_overhead = 0.25;
	assert_int_equal(compare(&a, &b, &t), 0);
	/* Overhead is shown, never judged. */
	assert_null(strstr(metric_line("control overhead"), "REGRESSION"));
	b.control_overhead = -1;
	compare(&a, &b, &t);
	assert_null(strstr(text, "control overhead"));

	b = worse_in(2, &t, 2);
	compare(&a, &b, &t);
	assert_non_null(strstr(metric_line("startup median"), "REGRESSION (> 20% higher)"));
	b = worse_in(1, &t, 2);
	compare(&a, &b, &t);
	assert_non_null(strstr(metric_line("continuity"), "REGRESSION (> 0.010 lower)"));
	assert_non_null(strstr(metric_line("startup median"), " ok"));
}

/* ---- bootstrap over peers ---- */

/* n peers that all played, with startup and delay spread by noise around
 * their centres, and continuity cont. */
static void make_sample(struct compare_sample *s, int n, double startup, double delay, double noise,
                        double cont, uint64_t seed)
{
	struct rng r;
	rng_seed(&r, seed);
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < n; i++) {
		struct compare_unit u = {
		    .weight = 1,
		    .played = 1,
		    .due = 1000,
		    .on_time = 1000 * cont,
		    .startup_s = startup * (1 + noise * (2 * rng_unit(&r) - 1)),
		    .delay_ms = delay * (1 + noise * (2 * rng_unit(&r) - 1)),
		};
		assert_int_equal(compare_sample_add(s, &u), 0);
	}
}

static void test_bootstrap_identical(void **state)
{
	struct compare_sample a, b;
	make_sample(&a, 20, 2, 50, 0, 1, 1);
	make_sample(&b, 20, 2, 50, 0, 1, 2);
	struct compare_ci ci;
	assert_int_equal(compare_bootstrap(&a, &b, 500, 7, &ci), 0);
	for (int k = 0; k < CMP_METRICS; k++) {
		assert_true(ci.lo[k] == 0);
		assert_true(ci.hi[k] == 0);
	}
	compare_sample_free(&a);
	compare_sample_free(&b);
}

/* A delay 50% higher is a regression when the peers agree, and within the
 * noise when they scatter over +-90%: the point estimate alone would call
 * both regressions. */
static void test_bootstrap_separates_noise(void **state)
{
	struct tolerance t;
	compare_default_tolerance(&t);
	struct compare_sample a, b;
	struct compare_ci ci;
	struct run_summary sa, sb;

	make_sample(&a, 20, 2, 50, 0.02, 1, 1);
	make_sample(&b, 20, 2, 75, 0.02, 1, 2);
	assert_int_equal(compare_bootstrap(&a, &b, 1000, 7, &ci), 0);
	assert_true(ci.lo[CMP_DELAY] > 15 && ci.hi[CMP_DELAY] < 35);
	compare_summary(&a, &sa);
	compare_summary(&b, &sb);
	assert_int_equal(compare_ci(&sa, &sb, &t, &ci), 1);
	assert_non_null(strstr(metric_line("delay median"), "REGRESSION"));
	compare_sample_free(&a);
	compare_sample_free(&b);

	/* Seven peers each, scattered from 10 to 140 ms: B's median is 29%
	 * higher, but resampling the same peers often reverses the order. */
	static const double da[] = {10, 30, 50, 70, 90, 110, 130};
	static const double db[] = {20, 40, 80, 90, 100, 120, 140};
	make_sample(&a, 7, 2, 50, 0, 1, 3);
	make_sample(&b, 7, 2, 50, 0, 1, 4);
	for (int i = 0; i < 7; i++) {
		a.u[i].delay_ms = da[i];
		b.u[i].delay_ms = db[i];
	}
	assert_int_equal(compare_bootstrap(&a, &b, 1000, 7, &ci), 0);
	compare_summary(&a, &sa);
	compare_summary(&b, &sb);
	assert_true(sa.delay_median_ms == 70 && sb.delay_median_ms == 90);
	assert_true(ci.lo[CMP_DELAY] < 0 && ci.hi[CMP_DELAY] > 0);
	assert_int_equal(compare_ci(&sa, &sb, &t, &ci), 0);
	assert_non_null(strstr(metric_line("delay median"), "within noise"));
	/* Without the interval the point estimates alone call it a regression. */
	assert_int_equal(compare(&sa, &sb, &t), 1);
	compare_sample_free(&a);
	compare_sample_free(&b);
}

/* The same inputs and seed give the same interval. */
static void test_bootstrap_deterministic(void **state)
{
	struct compare_sample a, b;
	make_sample(&a, 15, 2, 50, 0.3, 0.98, 1);
	make_sample(&b, 15, 2, 60, 0.3, 0.99, 2);
	struct compare_ci c1, c2;
	assert_int_equal(compare_bootstrap(&a, &b, 300, 11, &c1), 0);
	assert_int_equal(compare_bootstrap(&a, &b, 300, 11, &c2), 0);
	assert_memory_equal(&c1, &c2, sizeof(c1));
	compare_sample_free(&a);
	compare_sample_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_tolerance),
	    cmocka_unit_test(test_parse_values),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_parse_error_fits),
	    cmocka_unit_test(test_equal_runs),
	    cmocka_unit_test(test_better_runs),
	    cmocka_unit_test(test_each_metric_counts_once),
	    cmocka_unit_test(test_decimal_boundaries),
	    cmocka_unit_test(test_boundaries),
	    cmocka_unit_test(test_played_share),
	    cmocka_unit_test(test_report_lines),
	    cmocka_unit_test(test_bootstrap_identical),
	    cmocka_unit_test(test_bootstrap_separates_noise),
	    cmocka_unit_test(test_bootstrap_deterministic),
	};
	return cmocka_run_group_tests_name("compare", tests, NULL, NULL);
}
