/* anysee-analyze: metrics and a report from a run directory, and the A/B
 * comparison with a regression verdict. */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/analysis.h"
#include "analysis/check.h"
#include "analysis/compare.h"
#include "analysis/paper.h"
#include "analysis/playout.h"
#include "analysis/plot.h"
#include "analysis/sweep.h"
#include "lib/opt.h"
#include "lib/rundir.h"
#include "lib/util.h"
#include "peer/wire.h"

static const struct opt_cmd report_cmd = {
    .synopsis = "RUN_DIR|SWEEP_DIR\n"
                "       anysee-analyze compare A B [--tolerance NAME=VALUE,...]\n"
                "       anysee-analyze check RUN_DIR --baseline FILE\n"
                "       anysee-analyze paper RUNS_DIR --claims FILE --out DIR [--setup FILE]\n"
                "       anysee-analyze verify-stream FILE|-",
    .about = "The first prints per-peer and summary metrics (startup delay, steady-state\n"
             "source-to-end delay, continuity, stretch, tree height, overhead) and writes\n"
             "RUN_DIR/metrics.json, peers.csv, report.txt and the pictures in plots/; on a\n"
             "sweep's directory it draws each metric against the swept parameter.\n"
             "compare judges B against A within the noise; check judges a run against\n"
             "committed bounds; paper judges the paper's claims on a set of sweeps;\n"
             "verify-stream checks a recording of a peer's /stream against its source.\n"
             "'anysee-analyze compare --help', 'check --help', 'paper --help' and\n"
             "'verify-stream --help' say more.\n",
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
    .synopsis = "A B [--tolerance NAME=VALUE,...]",
    .about = "A and B are run directories, or sweep points repeated with several seeds\n"
             "(DIR/mode=anysee stands for DIR/mode=anysee-seed1, -seed2, ...). Prints both\n"
             "summaries, the 95% bootstrap interval of B - A (over the peers of single runs,\n"
             "over the runs of repeated points) and exits 1 when B is worse than A beyond the\n"
             "tolerance and beyond the noise. The tolerance defaults to\n"
             "continuity=0.01,startup=20%,delay=20%,played=0 (an absolute drop of continuity\n"
             "and of the share of peers that played, a relative rise of startup and delay).\n",
    .opts = compare_opts,
    .nopts = ARRAY_LEN(compare_opts),
};

/* Bootstrap resamples: enough for a stable 95% interval, seeded so the same
 * runs always give the same verdict. */
#define COMPARE_ITERS 2000
#define COMPARE_SEED 1

static int add_run(const char *dir, struct compare_sample *s, int as_peers)
{
	struct run_metrics m;
	char err[1024];
	if (analysis_load(dir, &m, err, sizeof(err))) {
		err_msg("compare: %s", err);
		return -1;
	}
	struct compare_unit u;
	int rc = as_peers ? compare_sample_peers(&m, s)
	                  : compare_unit_of_run(&m, &u) || compare_sample_add(s, &u);
	analysis_free(&m);
	if (rc)
		err_msg("compare: %s: out of memory", dir);
	return rc;
}

static int is_run_dir(const char *path)
{
	char hosts[1200];
	return rundir_path(hosts, sizeof(hosts), path, RUNDIR_HOSTS) == 0 &&
	       access(hosts, R_OK) == 0;
}

/* A run directory gives one unit per peer; a sweep point, one per run. */
static int load_sample(const char *path, struct compare_sample *s)
{
	if (is_run_dir(path))
		return add_run(path, s, 1);
	char pattern[1200];
	snprintf(pattern, sizeof(pattern), "%s-seed*", path);
	glob_t g;
	if (glob(pattern, 0, NULL, &g) != 0) {
		err_msg("compare: %s is neither a run directory nor a sweep point (no %s)", path,
		        pattern);
		return -1;
	}
	/* Only the run directories among the matches (not their logs beside). */
	size_t runs = 0;
	for (size_t i = 0; i < g.gl_pathc; i++)
		runs += is_run_dir(g.gl_pathv[i]);
	int rc = runs ? 0 : -1;
	if (!runs)
		err_msg("compare: no run directory matches %s", pattern);
	for (size_t i = 0; !rc && i < g.gl_pathc; i++)
		if (is_run_dir(g.gl_pathv[i]))
			rc = add_run(g.gl_pathv[i], s, runs == 1);
	if (!rc)
		printf("%s: %zu runs\n", path, runs);
	globfree(&g);
	return rc;
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
		return opt_fail(compare_cmd.name, "expected two runs or sweep points, got %d", n);
	struct compare_sample a = {0}, b = {0};
	struct compare_ci ci;
	int rc = 2;
	if (load_sample(argv[1], &a) || load_sample(argv[2], &b))
		goto out;
	if (compare_bootstrap(&a, &b, COMPARE_ITERS, COMPARE_SEED, &ci)) {
		err_msg("compare: bootstrap: out of memory");
		goto out;
	}
	struct run_summary sa, sb;
	compare_summary(&a, &sa);
	compare_summary(&b, &sb);
	printf("A: %s\nB: %s\n", argv[1], argv[2]);
	rc = compare_runs(&sa, &sb, &t, &ci, stdout) ? 1 : 0;
out:
	compare_sample_free(&a);
	compare_sample_free(&b);
	return rc;
}

struct check_args {
	const char *baseline;
};

static const struct opt check_opts[] = {
    {"baseline", OPT_ARG, OPT_AT(struct check_args, baseline), "FILE",
     .help = "bounds, one 'metric >= value' or 'metric <= value' a line"},
};

static const struct opt_cmd check_cmd = {
    .name = "check",
    .synopsis = "RUN_DIR --baseline FILE",
    .about = "Judges the run against the bounds in FILE (metric names as under\n"
             "metrics.json's summary, e.g. continuity_index >= 0.99) and exits 1 naming\n"
             "each metric out of bounds; a metric the run cannot tell fails.\n",
    .opts = check_opts,
    .nopts = ARRAY_LEN(check_opts),
};

static int cmd_check(int argc, char **argv)
{
	struct check_args c = {0};
	int status;
	int n = opt_cli(&check_cmd, &c, argc, argv, &status);
	if (n < 0)
		return status;
	if (n != 1 || !c.baseline)
		return opt_fail(check_cmd.name, "expected one run directory and --baseline FILE");
	struct bound *b;
	int nb;
	char err[1024];
	if (check_parse(c.baseline, &b, &nb, err, sizeof(err))) {
		err_msg("check: %s", err);
		return 2;
	}
	struct run_metrics m;
	if (analysis_load(argv[1], &m, err, sizeof(err))) {
		err_msg("check: %s", err);
		free(b);
		return 2;
	}
	double v[M_COUNT];
	metric_values(&m, v);
	printf("check %s against %s\n", argv[1], c.baseline);
	int bad = check_run(v, b, nb, stdout);
	analysis_free(&m);
	free(b);
	return bad ? 1 : 0;
}

static const struct opt paper_opts[] = {
    {"claims", OPT_ARG, OPT_AT(struct paper_opts, claims), "FILE",
     .help = "the claims, one a line (format in analysis/paper.h)"},
    {"out", OPT_ARG, OPT_AT(struct paper_opts, out), "DIR",
     .help = "where README.md and the pictures go"},
    {"setup", OPT_ARG, OPT_AT(struct paper_opts, setup), "FILE",
     .help = "Markdown describing the runs, copied into README.md"},
};

static const struct opt_cmd paper_cmd = {
    .name = "paper",
    .synopsis = "RUNS_DIR --claims FILE --out DIR [--setup FILE]",
    .about = "RUNS_DIR holds one sweep directory per experiment (as `anysee-harness sweep`\n"
             "writes them). Judges each claim of FILE on its experiment's runs, the noise\n"
             "being twice the standard error over repeated runs, leaving out runs whose\n"
             "emulation was not valid; prints the claims table and writes DIR/README.md\n"
             "with it, each experiment's pictures and its points.\n",
    .opts = paper_opts,
    .nopts = ARRAY_LEN(paper_opts),
};

static int cmd_paper(int argc, char **argv)
{
	struct paper_opts o = {0};
	int status;
	int n = opt_cli(&paper_cmd, &o, argc, argv, &status);
	if (n < 0)
		return status;
	if (n != 1 || !o.claims || !o.out)
		return opt_fail(paper_cmd.name, "expected RUNS_DIR, --claims FILE and --out DIR");
	o.runs = argv[1];
	char err[1024];
	if (paper_report(&o, stdout, err, sizeof(err))) {
		err_msg("paper: %s", err);
		return 2;
	}
	printf("paper: %s/README.md\n", o.out);
	return 0;
}

static const struct opt_cmd verify_cmd = {
    .name = "verify-stream",
    .synopsis = "FILE|-",
    .about = "FILE (- for standard input) is what a peer's /stream sent while its source\n"
             "ingested synthetic media (the default), as `curl -s http://PEER:PORT/stream`\n"
             "saves it. Checks that every segment is the source's own bytes, of one\n"
             "stream, in rising sequence, and exits 1 naming the first that is not, or\n"
             "when no whole segment was read.\n",
};

/* A recording is read whole, up to this size (an hour at 300 kbit/s is
 * 135 MB). */
#define VERIFY_MAX_BYTES (1024ul * 1024 * 1024)

/* All of f into *buf (malloc'd), its size in *len; -1 with the reason in err. */
static int read_whole(FILE *f, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
	size_t cap = 1 << 20;
	*len = 0;
	*buf = malloc(cap);
	if (!*buf)
		return err_set(err, errlen, "out of memory");
	for (;;) {
		if (*len == cap) {
			uint8_t *nb = cap < VERIFY_MAX_BYTES ? realloc(*buf, cap * 2) : NULL;
			if (!nb) {
				free(*buf);
				*buf = NULL;
				return err_set(err, errlen,
				               "larger than %lu bytes, or out of memory",
				               VERIFY_MAX_BYTES);
			}
			*buf = nb;
			cap *= 2;
		}
		size_t got = fread(*buf + *len, 1, cap - *len, f);
		*len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(*buf);
		*buf = NULL;
		return err_set(err, errlen, "I/O error");
	}
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	int status;
	int n = opt_cli(&verify_cmd, NULL, argc, argv, &status);
	if (n < 0)
		return status;
	if (n != 1)
		return opt_fail(verify_cmd.name, "expected one file");
	const char *path = argv[1];
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		err_msg("verify-stream: open %s: %s", path, strerror(errno));
		return 2;
	}
	uint8_t *buf;
	size_t len;
	char err[256];
	int rc = read_whole(f, &buf, &len, err, sizeof(err));
	if (f != stdin)
		fclose(f);
	if (rc) {
		err_msg("verify-stream: read %s: %s", path, err);
		return 2;
	}
	struct playout pc;
	playout_check(buf, len, &pc);
	free(buf);
	if (!pc.segments) {
		printf("%s: %zu bytes, not one whole segment (%u bytes)\n", path, len,
		       WIRE_SEG_PAYLOAD_MAX);
		return 1;
	}
	if (pc.have_bad) {
		printf(
		    "%s: segment %zu (byte %zu) is not the source's: %zu of %zu segments not the "
		    "source's bytes, %zu out of order\n",
		    path, pc.first_bad, pc.first_bad * WIRE_SEG_PAYLOAD_MAX, pc.bad, pc.segments,
		    pc.backwards);
		return 1;
	}
	printf("%s: %zu segments of stream %u, sequences %u to %u (%llu skipped), every one the "
	       "source's%s\n",
	       path, pc.segments, pc.stream, pc.first_seq, pc.last_seq,
	       (unsigned long long)pc.missing, pc.trailing ? "; a cut segment at the end" : "");
	return 0;
}

/* A sweep's directory: its pictures, from sweep.csv. */
static int cmd_sweep_plot(const char *dir)
{
	char names[256], err[1024];
	if (sweep_plot(dir, names, sizeof(names), err, sizeof(err))) {
		err_msg("%s", err);
		return 1;
	}
	printf("pictures (.svg and .png) in %s/%s: %s\n", dir, PLOT_DIR, names);
	return 0;
}

int main(int argc, char **argv)
{
	util_set_progname(argv[0]);
	if (argc > 1 && !strcmp(argv[1], "compare"))
		return cmd_compare(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "paper"))
		return cmd_paper(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "verify-stream"))
		return cmd_verify(argc - 1, argv + 1);
	int status;
	int n = opt_cli(&report_cmd, NULL, argc, argv, &status);
	if (n < 0)
		return status;
	if (n != 1)
		return opt_fail(NULL, "expected one run directory, got %d", n);
	char err[1024], path[1200];
	if (rundir_path(path, sizeof(path), argv[1], RUNDIR_SWEEP_CSV) == 0 &&
	    access(path, R_OK) == 0)
		return cmd_sweep_plot(argv[1]);
	if (analysis_run(argv[1], stdout, NULL, err, sizeof(err))) {
		err_msg("%s", err);
		return 1;
	}
	return 0;
}
