/* anysee-analyze: metrics and a report from a run directory, and the A/B
 * comparison with a regression verdict. */
#include <stdio.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/compare.h"
#include "lib/opt.h"
#include "lib/util.h"

static const struct opt_cmd report_cmd = {
    .synopsis = "RUN_DIR\n"
                "       anysee-analyze compare RUN_A RUN_B [--tolerance NAME=VALUE,...]",
    .about = "The first prints per-peer startup delay, source-to-end delay (median, p95) and\n"
             "continuity, and writes RUN_DIR/metrics.json, peers.csv and report.txt. compare\n"
             "prints both runs' summaries side by side and exits 1 when B regressed beyond\n"
             "the tolerance (a regression gate for a new peer build, or AnySee against the\n"
             "baseline); 'anysee-analyze compare --help' lists its option.\n",
};

static int set_tolerance(void *obj, const char *value, char *err, size_t errlen)
{
	return compare_parse_tolerance(value, obj, err, errlen);
}

static const struct opt compare_opts[] = {
    {"tolerance", OPT_CALL, 0, 0, "NAME=VALUE,...", .help = "how much worse B may be than A",
     .fn = set_tolerance},
};

static const struct opt_cmd compare_cmd = {
    .name = "compare",
    .synopsis = "RUN_A RUN_B [--tolerance NAME=VALUE,...]",
    .about = "Prints both runs' summaries side by side and exits 1 when B is worse than A\n"
             "beyond the tolerance, by default continuity=0.01,startup=20%,delay=20%,played=0\n"
             "(an absolute drop of continuity and of the share of peers that played, a\n"
             "relative rise of startup and median delay).\n",
    .opts = compare_opts,
    .nopts = ARRAY_LEN(compare_opts),
};

static int load_summary(const char *dir, struct run_summary *s)
{
	struct run_metrics m;
	char err[1024];
	if (analysis_load(dir, &m, err, sizeof(err))) {
		err_msg("compare: %s", err);
		return -1;
	}
	analysis_summary(&m, s);
	analysis_free(&m);
	return 0;
}

static int cmd_compare(int argc, char **argv)
{
	struct tolerance t;
	int status;
	compare_default_tolerance(&t);
	int n = opt_cli(&compare_cmd, &t, argc, argv, &status);
	if (n < 0)
		return status;
	if (n != 2)
		return opt_fail(compare_cmd.name, "expected two run directories, got %d", n);
	struct run_summary a, b;
	if (load_summary(argv[1], &a) || load_summary(argv[2], &b))
		return 2;
	printf("A: %s\nB: %s\n", argv[1], argv[2]);
	return compare_runs(&a, &b, &t, NULL, stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	util_set_progname(argv[0]);
	if (argc > 1 && !strcmp(argv[1], "compare"))
		return cmd_compare(argc - 1, argv + 1);
	int status;
	int n = opt_cli(&report_cmd, NULL, argc, argv, &status);
	if (n < 0)
		return status;
	if (n != 1)
		return opt_fail(NULL, "expected one run directory, got %d", n);
	char err[1024];
	if (analysis_run(argv[1], stdout, err, sizeof(err))) {
		err_msg("%s", err);
		return 1;
	}
	return 0;
}
