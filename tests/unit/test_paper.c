#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/paper.h"
#include "analysis/sweep.h"

static char dir[] = "/tmp/anysee-paper-XXXXXX";

/* One run of the experiment "exp": its point, seed, verdict and values. */
static void row(FILE *f, const char *point, int seed, int valid, double cont, double util,
                double height)
{
	struct run_summary s;
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < M_COUNT; i++)
		s.metric[i] = NAN;
	s.peers = 10;
	s.valid = valid;
	s.metric[M_CONTINUITY] = cont;
	s.metric[M_UTILIZATION] = util;
	s.metric[M_HEIGHT_MEAN] = height;
	sweep_csv_row(f, point, (uint64_t)seed, &s, "runs/x");
}

/* Two points (rate 200, 800) of two modes, two seeds each, and one run
 * judged invalid whose absurd values must not count. */
static void make_experiment(void)
{
	char sub[128], err[256];
	snprintf(sub, sizeof(sub), "%s/exp", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	FILE *f = sweep_csv_open(sub, err, sizeof(err));
	assert_non_null(f);
	row(f, "rate=200,mode=a", 1, 1, 0.99, 0.30, 2.0);
	row(f, "rate=200,mode=a", 2, 1, 0.98, 0.31, 2.2);
	row(f, "rate=200,mode=b", 1, 1, 0.985, 0.20, 3.0);
	row(f, "rate=200,mode=b", 2, 1, 0.975, 0.21, 3.1);
	row(f, "rate=800,mode=a", 1, 1, 0.97, 0.40, 2.5);
	row(f, "rate=800,mode=a", 2, 1, 0.96, 0.42, 2.7);
	row(f, "rate=800,mode=b", 1, 1, 0.80, 0.20, 3.3);
	row(f, "rate=800,mode=b", 2, 1, 0.82, 0.22, 3.5);
	row(f, "rate=800,mode=b", 3, 0, 0.00, 9.99, 99);
	fclose(f);
}

/* An experiment of one point whose runs are all valid or all not. */
static void make_small(const char *name, int valid)
{
	char sub[128], err[256];
	snprintf(sub, sizeof(sub), "%s/%s", dir, name);
	assert_int_equal(mkdir(sub, 0755), 0);
	FILE *f = sweep_csv_open(sub, err, sizeof(err));
	assert_non_null(f);
	row(f, "mode=a", 1, valid, 0.99, 0.30, 2.0);
	fclose(f);
}

static char *report(const char *claims)
{
	char cpath[160], out[160], err[512];
	snprintf(cpath, sizeof(cpath), "%s/claims.txt", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	FILE *c = fopen(cpath, "w");
	fputs(claims, c);
	fclose(c);
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	struct paper_opts o = {.runs = dir, .claims = cpath, .out = out};
	int rc = paper_report(&o, m, err, sizeof(err));
	fclose(m);
	if (rc) {
		free(text);
		return strdup(err);
	}
	return text;
}

/* The verdict printed on claim id's row. */
static void assert_verdict(const char *text, const char *id, const char *verdict)
{
	char key[64];
	snprintf(key, sizeof(key), "| %s |", id);
	const char *r = strstr(text, key);
	assert_non_null(r);
	const char *eol = strchr(r, '\n');
	char want[64];
	snprintf(want, sizeof(want), "**%s** |", verdict);
	const char *v = strstr(r, want);
	if (!v || v > eol)
		fail_msg("claim %s: want '%s' in: %.*s", id, verdict, (int)(eol - r), r);
}

static void test_verdicts(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/anysee-paper-XXXXXX");
	assert_non_null(mkdtemp(dir));
	make_experiment();
	make_small("side", 1);
	make_small("dead", 0);
	char *t =
	    report("# claims\n"
	           "up | 8 | exp | above a b resource_utilization.used | a uses more | \n"
	           "cont | 7 | exp | above a b continuity_index | a plays better | \n"
	           "close | 7 | exp | below a b continuity_index | a plays worse | because\n"
	           "fall | 7 | exp | falls b continuity_index | b degrades | \n"
	           "rise | 7 | exp | rises a continuity_index | a improves | a does not improve\n"
	           "more | 8 | exp | moves_more b a continuity_index | b moves more | \n"
	           "gap | 9 | exp | gap_shrinks a b continuity_index | shrinks | \n"
	           "hmax | 13 | exp | max a,b tree_height.mean 7 | below 7 | \n"
	           "hmin | 13 | exp | min a tree_height.mean 2.4 | above 2.4 | \n"
	           "gone | 13 | nothing | max a tree_height.mean 7 | no runs | \n"
	           "dead | 13 | dead | max a tree_height.mean 7 | all invalid | \n");
	/* 0.30/0.31 against 0.20/0.21 is far beyond two standard errors. */
	assert_verdict(t, "up", "holds");
	/* At 200 the gap (0.005) is within the noise, at 800 (0.155) not. */
	assert_verdict(t, "cont", "holds");
	assert_verdict(t, "close", "does not hold");
	assert_verdict(t, "fall", "holds");
	assert_verdict(t, "rise", "does not hold");
	assert_verdict(t, "more", "holds");
	/* a - b: 0.005 at 200, 0.155 at 800: it grows, not shrinks. */
	assert_verdict(t, "gap", "does not hold");
	/* The invalid run's height of 99 is left out. */
	assert_verdict(t, "hmax", "holds");
	/* 2.1 and 2.6 against 2.4: one point on each side. */
	assert_verdict(t, "hmin", "does not hold");
	assert_verdict(t, "gone", "not measured");
	assert_non_null(strstr(t, "**rise** (does not hold): a does not improve"));
	assert_verdict(t, "dead", "not measured");
	free(t);

	char readme[200];
	snprintf(readme, sizeof(readme), "%s/out/README.md", dir);
	assert_int_equal(access(readme, R_OK), 0);
	/* The README says why a claim went unmeasured, and reports the
	 * experiment no claim tests. */
	FILE *rf = fopen(readme, "r");
	assert_non_null(rf);
	static char body[65536];
	body[fread(body, 1, sizeof(body) - 1, rf)] = 0;
	fclose(rf);
	assert_non_null(
	    strstr(body, "**dead** (not measured): every run of the experiment was left out"));
	assert_non_null(strstr(body, "## Experiment `side`"));
	/* An experiment's table gives the mean over the valid runs, and their
	 * range when there are more than one: the invalid run's utilization
	 * of 9.99 is not in b's at 800. */
	assert_non_null(strstr(body, "| rate=200 | a | 2 | - | 0.985 [0.98, 0.99] |"));
	assert_non_null(strstr(body, "| rate=800 | b | 2 | - | 0.81 [0.8, 0.82] |"));
	assert_non_null(strstr(body, "| all | a | 1 | - | 0.99 |"));
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_claim_errors(void **state)
{
	(void)state;
	struct paper_claim c;
	char err[256];
	char ok[] = "id | 7 | rate | max anysee tree_height.mean 7 | claim | note";
	assert_int_equal(paper_parse_claim(ok, &c, err, sizeof(err)), 0);
	assert_string_equal(c.experiment, "rate");
	assert_true(c.bound == 7);
	const char *bad[][2] = {
	    {"id | 7 | rate | above a continuity_index | c | n", "wants 4 words"},
	    {"id | 7 | rate | sideways a b continuity_index | c | n", "unknown kind"},
	    {"id | 7 | rate | above a b nonsense | c | n", "no metric 'nonsense'"},
	    {"id | 7 | rate | max a continuity_index x | c | n", "not a number"},
	    {"id | 7 | ../etc | rises a continuity_index | c | n", "a name, not a path"},
	    {"id | 7 | rate | rises a continuity_index", "want 6 fields"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[256];
		snprintf(line, sizeof(line), "%s", bad[i][0]);
		assert_int_equal(paper_parse_claim(line, &c, err, sizeof(err)), -1);
		if (!strstr(err, bad[i][1]))
			fail_msg("'%s': error '%s' does not say '%s'", bad[i][0], err, bad[i][1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verdicts),
	    cmocka_unit_test(test_claim_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
