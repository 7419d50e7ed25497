#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/check.h"

static char path[] = "/tmp/anysee-baseline-XXXXXX";

static void write_baseline(const char *text)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int parse(const char *text, struct bound **b, int *n, char *err, size_t errlen)
{
	strcpy(path, "/tmp/anysee-baseline-XXXXXX");
	write_baseline(text);
	int rc = check_parse(path, b, n, err, errlen);
	unlink(path);
	return rc;
}

static void test_parse_and_judge(void **state)
{
	(void)state;
	struct bound *b;
	int n;
	char err[256] = "";
	assert_int_equal(parse("# quickstart\n\ncontinuity_index >= 0.99\n"
	                       "  source_to_end_delay_ms.p50 <= 60\nplayed_share >= 1\n",
	                       &b, &n, err, sizeof(err)),
	                 0);
	assert_int_equal(n, 3);
	assert_int_equal(b[0].metric, M_CONTINUITY);
	assert_int_equal(b[0].at_least, 1);
	assert_int_equal(b[1].metric, M_S2E_P50);
	assert_int_equal(b[1].at_least, 0);
	assert_int_equal(b[1].line, 4);

	double v[M_COUNT];
	for (int i = 0; i < M_COUNT; i++)
		v[i] = NAN;
	v[M_CONTINUITY] = 0.995;
	v[M_S2E_P50] = 60; /* on the bound holds */
	v[M_PLAYED_SHARE] = 1;
	FILE *out = fopen("/dev/null", "w");
	assert_int_equal(check_run(v, b, n, out), 0);
	v[M_CONTINUITY] = 0.98;
	v[M_S2E_P50] = 60.5;
	assert_int_equal(check_run(v, b, n, out), 2);
	/* A metric the run cannot tell fails rather than passes silently. */
	v[M_CONTINUITY] = 0.995;
	v[M_S2E_P50] = 10;
	v[M_PLAYED_SHARE] = NAN;
	assert_int_equal(check_run(v, b, n, out), 1);
	fclose(out);
	free(b);
}

static void test_errors_name_file_and_line(void **state)
{
	(void)state;
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"continuity_index >= 0.99\nlatency <= 3\n", ":2: unknown metric 'latency'"},
	    {"continuity_index > 0.99\n", ":1: operator '>'"},
	    {"continuity_index >= abc\n", ":1: 'abc' is not a finite number"},
	    {"continuity_index >= nan\n", ":1: 'nan' is not a finite number"},
	    {"continuity_index >= 1 2\n", ":1: expected"},
	    {"continuity_index\n", ":1: expected"},
	    {"# nothing\n", "no bounds"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bound *b = (void *)1;
		int n = 5;
		char err[256] = "";
		assert_int_equal(parse(bad[i].text, &b, &n, err, sizeof(err)), -1);
		if (!strstr(err, bad[i].want))
			fail_msg("'%s': error '%s' lacks '%s'", bad[i].text, err, bad[i].want);
		assert_null(b);
		assert_int_equal(n, 0);
	}
	struct bound *b;
	int n;
	char err[256];
	assert_int_equal(check_parse("/nonexistent/baseline", &b, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "open baseline /nonexistent/baseline"));
}

static void test_every_metric_has_a_name(void **state)
{
	(void)state;
	for (int i = 0; i < M_COUNT; i++) {
		assert_non_null(metric_defs[i].name);
		assert_int_equal(metric_find(metric_defs[i].name), i);
	}
	assert_int_equal(metric_find("nope"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_and_judge),
	    cmocka_unit_test(test_errors_name_file_and_line),
	    cmocka_unit_test(test_every_metric_has_a_name),
	};
	return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
