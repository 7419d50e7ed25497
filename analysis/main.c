/* anysee-analyze: metrics and a report from a run directory. */
#include <stdio.h>
#include <string.h>

#include "analysis/analysis.h"
#include "peer/util.h"

int main(int argc, char **argv)
{
	util_set_progname(argv[0]);
	if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fprintf(argc == 2 ? stdout : stderr,
		        "usage: %s RUN_DIR\n"
		        "Prints per-peer startup delay, source-to-end delay (median, p95) and\n"
		        "continuity; writes RUN_DIR/metrics.json and RUN_DIR/report.txt.\n",
		        util_progname());
		return argc == 2 ? 0 : 2;
	}
	char err[1024];
	if (analysis_run(argv[1], stdout, err, sizeof(err))) {
		err_msg("%s", err);
		return 1;
	}
	return 0;
}
