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

#include "analysis/analysis.h"
#include "harness/cpuidle.h"
#include "lib/rundir.h"

static void test_parse(void **state)
{
	(void)state;
	uint64_t idle, total;
	assert_int_equal(cpuidle_parse("cpu  100 5 50 800 45 0 0 0 0 0\n", &idle, &total), 0);
	assert_int_equal(idle, 845);
	assert_int_equal(total, 1000);
	assert_int_equal(cpuidle_parse("cpu0 100 5 50 800 45 0 0 0\n", &idle, &total), -1);
	assert_int_equal(cpuidle_parse("cpu 1 2\n", &idle, &total), -1);
	assert_int_equal(cpuidle_parse("intr 5\n", &idle, &total), -1);
}

/* Shares between readings: the first reading only starts the count. */
static void test_samples(void **state)
{
	(void)state;
	struct cpuidle c = {0};
	cpuidle_add(&c, 0, 0);
	assert_int_equal(c.samples, 0);
	cpuidle_add(&c, 80, 100); /* 80% idle */
	cpuidle_add(&c, 90, 200); /* 10% idle */
	cpuidle_add(&c, 90, 200); /* no time passed: no sample */
	assert_int_equal(c.samples, 2);
	assert_true(fabs(c.sum / (double)c.samples - 0.45) < 1e-9);
	assert_true(fabs(c.min - 0.10) < 1e-9);
	assert_int_equal(cpuidle_sample(&c), 0); /* this machine's /proc/stat reads */
}

static void test_record_and_verdict(void **state)
{
	(void)state;
	char dir[] = "/tmp/anysee-emu-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct rundir_emulation e = {.cpu_idle_mean = 0.55, .cpu_idle_min = 0.3, .samples = 60},
	                        back;
	char err[256] = "", why[160];
	assert_int_equal(rundir_emulation_read(dir, &back, err, sizeof(err)), -1);
	assert_int_equal(rundir_emulation_write(dir, &e, err, sizeof(err)), 0);
	assert_int_equal(rundir_emulation_read(dir, &back, err, sizeof(err)), 0);
	assert_true(fabs(back.cpu_idle_mean - 0.55) < 1e-4 && back.samples == 60);
	assert_int_equal(analysis_emulation_valid(&back, why, sizeof(why)), 1);
	back.cpu_idle_min = 0.01;
	assert_int_equal(analysis_emulation_valid(&back, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "busiest second"));
	back.cpu_idle_mean = 0.05;
	assert_int_equal(analysis_emulation_valid(&back, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "on average"));
	char path[64];
	snprintf(path, sizeof(path), "%s/%s", dir, RUNDIR_EMULATION);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_samples),
	    cmocka_unit_test(test_record_and_verdict),
	};
	return cmocka_run_group_tests_name("cpuidle", tests, NULL, NULL);
}
