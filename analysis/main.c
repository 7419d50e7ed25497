/* anysee-analyze: metrics and a report from a run directory, and the A/B
 * comparison with a regression verdict. */
#include <stdio.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/compare.h"
#include "lib/util.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: %s RUN_DIR\n"
	        "       %s compare RUN_A RUN_B [--tolerance continuity=0.01,startup=20%%,"
	        "delay=20%%,played=0]\n"
	        "The first prints per-peer startup delay, source-to-end delay (median, p95) and\n"
	        "continuity, and writes RUN_DIR/metrics.json, peers.csv and report.txt. compare\n"
	        "prints both runs' summaries side by side and exits 1 when B regressed beyond\n"
	        "the tolerance (a regression gate for a new peer build, or AnySee against the\n"
	        "baseline).\n",
	        util_progname(), util_progname());
}

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
	compare_default_tolerance(&t);
	const char *dirs[2];
	int nd = 0;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--tolerance")) {
			char err[256];
			if (i + 1 >= argc ||
			    compare_parse_tolerance(argv[++i], &t, err, sizeof(err))) {
				err_msg("compare: %s",
				        i < argc ? err : "--tolerance needs a value");
				return 2;
			}
		} else if (nd < 2 && argv[i][0] != '-') {
			dirs[nd++] = argv[i];
		} else {
			err_msg("compare: unexpected argument '%s'", argv[i]);
			return 2;
		}
	}
	if (nd != 2) {
		usage(stderr);
		return 2;
	}
	struct run_summary a, b;
	if (load_summary(dirs[0], &a) || load_summary(dirs[1], &b))
		return 2;
	printf("A: %s\nB: %s\n", dirs[0], dirs[1]);
	return compare_runs(&a, &b, &t, NULL, stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	util_set_progname(argv[0]);
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "compare"))
		return cmd_compare(argc - 2, argv + 2);
	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	char err[1024];
	if (analysis_run(argv[1], stdout, err, sizeof(err))) {
		err_msg("%s", err);
		return 1;
	}
	return 0;
}
