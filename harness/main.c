/* anysee-harness: runs scenarios on the emulated network. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analysis/analysis.h"
#include "harness/net.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "lib/rundir.h"
#include "lib/util.h"
#include "netns/testbed.h"

static void default_peer_bin(char *buf, size_t len)
{
	char self[1024];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		snprintf(buf, len, "anysee");
		return;
	}
	self[n] = 0;
	snprintf(buf, len, "%s/anysee", dirname(self));
}

/* Options shared by run and sweep. */
struct cli {
	const char *path;
	uint64_t seed;
	char peer_bin[1100];
	struct run_options o;
	char **sets;
	int nsets;
	char **grids; /* sweep: "name=v1,v2,..." */
	int ngrids;
	long repeat;
};

static int parse_cli(const char *cmd, int argc, char **argv, struct cli *c)
{
	memset(c, 0, sizeof(*c));
	c->seed = 1;
	c->repeat = 1;
	default_peer_bin(c->peer_bin, sizeof(c->peer_bin));
	c->o.peer_bin = c->peer_bin;
	c->sets = calloc((size_t)argc + 1, sizeof(*c->sets));
	c->grids = calloc((size_t)argc + 1, sizeof(*c->grids));
	if (!c->sets || !c->grids)
		return -1;
	int sweep = !strcmp(cmd, "sweep");
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = !strcmp(a, "--seed") || !strcmp(a, "--out") || !strcmp(a, "--set") ||
		            !strcmp(a, "--peer-bin") || !strcmp(a, "--backend") ||
		            (sweep && (!strcmp(a, "--grid") || !strcmp(a, "--repeat")));
		if (takes && !v) {
			err_msg("%s: option %s needs a value", cmd, a);
			return -1;
		}
		if (!strcmp(a, "--seed")) {
			char *end;
			c->seed = strtoull(v, &end, 10);
			if (*v < '0' || *v > '9' || *end) {
				err_msg("%s: --seed '%s' is not a non-negative integer", cmd, v);
				return -1;
			}
		} else if (!strcmp(a, "--out")) {
			c->o.out_dir = v;
		} else if (!strcmp(a, "--set")) {
			c->sets[c->nsets++] = (char *)v;
		} else if (!strcmp(a, "--peer-bin")) {
			snprintf(c->peer_bin, sizeof(c->peer_bin), "%s", v);
		} else if (!strcmp(a, "--backend")) {
			if (testbed_backend_parse(v, &c->o.backend)) {
				err_msg("%s: --backend must be auto, netem, userspace or bridge, "
				        "got '%s'",
				        cmd, v);
				return -1;
			}
			c->o.backend_forced = 1;
		} else if (sweep && !strcmp(a, "--grid")) {
			const char *eq = strchr(v, '=');
			if (!eq || eq == v || !eq[1]) {
				err_msg("sweep: --grid '%s': expected name=v1,v2,...", v);
				return -1;
			}
			c->grids[c->ngrids++] = (char *)v;
		} else if (sweep && !strcmp(a, "--repeat")) {
			if (parse_long(v, 1, 1000, &c->repeat)) {
				err_msg("sweep: --repeat '%s' must be 1..1000", v);
				return -1;
			}
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			c->o.quiet = 1;
			continue;
		} else if (!sweep && !strcmp(a, "--dry-run")) {
			c->o.dry_run = 1;
			continue;
		} else if (a[0] == '-') {
			err_msg("%s: unknown option '%s'", cmd, a);
			return -1;
		} else if (!c->path) {
			c->path = a;
			continue;
		} else {
			err_msg("%s: unexpected argument '%s'", cmd, a);
			return -1;
		}
		i++;
	}
	if (!c->path) {
		err_msg("%s: which scenario? usage: anysee-harness %s SCENARIO.lua [options]", cmd,
		        cmd);
		return -1;
	}
	return 0;
}

static void free_cli(struct cli *c)
{
	free(c->sets);
	free(c->grids);
}

/* Load and run the scenario once. Returns 0 (run done, maybe interrupted),
 * 1 on an error already reported. */
static int run_once(const struct cli *c, uint64_t seed, char **sets, int nsets, const char *out,
                    char *dir, size_t dirlen, int *interrupted)
{
	struct scenario s;
	char err[2048];
	struct run_options o = c->o;
	o.out_dir = out;
	o.sets = sets;
	o.nsets = nsets;
	*dir = 0;
	if (scenario_load(&s, c->path, seed, sets, nsets, err, sizeof(err))) {
		err_msg("%s", err);
		scenario_free(&s);
		return 1;
	}
	int rc = runner_run(&s, &o, dir, dirlen, interrupted, err, sizeof(err));
	scenario_free(&s);
	if (rc) {
		err_msg("%s", err);
		if (*dir)
			err_msg("partial run directory: %s", dir);
		return 1;
	}
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct cli c;
	if (parse_cli("run", argc, argv, &c)) {
		free_cli(&c);
		return 2;
	}
	char dir[1024], err[1024];
	int interrupted = 0;
	int rc = run_once(&c, c.seed, c.sets, c.nsets, c.o.out_dir, dir, sizeof(dir), &interrupted);
	int quiet = c.o.quiet;
	struct run_options ro = c.o;
	free_cli(&c);
	c.o = ro;
	if (rc)
		return 1;
	if (c.o.dry_run) {
		printf("dry run: resolved schedule and network in %s\n", dir);
		return 0;
	}
	if (interrupted && !quiet)
		fprintf(stderr, "interrupted: everything torn down; partial results below\n");
	if (analysis_run(dir, stdout, err, sizeof(err))) {
		err_msg("analyse %s: %s", dir, err);
		return 1;
	}
	printf("run directory: %s\n", dir);
	return interrupted ? 130 : 0;
}

/* One point of the grid: the k-th combination of the values. */
static int grid_point(struct cli *c, long k, char **sets, char (*buf)[256], char *label,
                      size_t labellen)
{
	int n = c->nsets;
	memcpy(sets, c->sets, sizeof(*sets) * (size_t)c->nsets);
	*label = 0;
	for (int g = 0; g < c->ngrids; g++) {
		const char *eq = strchr(c->grids[g], '=');
		int nvals = 1;
		for (const char *p = eq + 1; *p; p++)
			nvals += *p == ',';
		long pick = k % nvals;
		k /= nvals;
		const char *v = eq + 1;
		for (long i = 0; i < pick; i++)
			v = strchr(v, ',') + 1;
		size_t vl = strcspn(v, ",");
		snprintf(buf[g], sizeof(buf[g]), "%.*s=%.*s", (int)(eq - c->grids[g]), c->grids[g],
		         (int)vl, v);
		sets[n++] = buf[g];
		snprintf(label + strlen(label), labellen - strlen(label), "%s%s", g ? "," : "",
		         buf[g]);
	}
	return n;
}

static long grid_size(const struct cli *c)
{
	long total = 1;
	for (int g = 0; g < c->ngrids; g++) {
		int nvals = 1;
		for (const char *p = strchr(c->grids[g], '=') + 1; *p; p++)
			nvals += *p == ',';
		total *= nvals;
	}
	return total;
}

static int cmd_sweep(int argc, char **argv)
{
	struct cli c;
	if (parse_cli("sweep", argc, argv, &c)) {
		free_cli(&c);
		return 2;
	}
	char parent[1024];
	if (c.o.out_dir) {
		snprintf(parent, sizeof(parent), "%s", c.o.out_dir);
	} else {
		char ts[32];
		time_t now = time(NULL);
		strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", localtime(&now));
		const char *base = strrchr(c.path, '/');
		snprintf(parent, sizeof(parent), "runs/sweep-%.*s-%s",
		         (int)strcspn(base ? base + 1 : c.path, "."), base ? base + 1 : c.path, ts);
	}
	char **sets = calloc((size_t)(c.nsets + c.ngrids + 1), sizeof(*sets));
	char(*buf)[256] = calloc((size_t)c.ngrids + 1, sizeof(*buf));
	char csv[1100];
	snprintf(csv, sizeof(csv), "%s/" RUNDIR_SWEEP_CSV, parent);
	FILE *f = NULL;
	int rc = 0;
	if (!sets || !buf || (mkdir(parent, 0755) && errno != EEXIST) || !(f = fopen(csv, "we"))) {
		err_msg("sweep: create %s: %s", csv, strerror(errno));
		rc = 1;
		goto out;
	}
	fprintf(f, "point,seed,peers,played,startup_median_s,delay_median_ms,continuity,verified,"
	           "control_overhead,run_dir\n");
	long points = grid_size(&c);
	for (long k = 0; k < points && !rc; k++) {
		for (long rep = 0; rep < c.repeat; rep++) {
			char label[512], out[1700], dir[1024], err[1024];
			int n = grid_point(&c, k, sets, buf, label, sizeof(label));
			uint64_t seed = c.seed + (uint64_t)rep;
			snprintf(out, sizeof(out), "%s/%s%sseed%llu", parent, label,
			         *label ? "-" : "", (unsigned long long)seed);
			fprintf(stderr, "sweep: [%ld/%ld] %s seed %llu\n", k * c.repeat + rep + 1,
			        points * c.repeat, *label ? label : "(no grid)",
			        (unsigned long long)seed);
			int interrupted = 0;
			if (run_once(&c, seed, sets, n, out, dir, sizeof(dir), &interrupted)) {
				rc = 1;
				break;
			}
			struct run_metrics m;
			struct run_summary sum;
			if (analysis_load(dir, &m, err, sizeof(err))) {
				err_msg("sweep: analyse %s: %s", dir, err);
				rc = 1;
				break;
			}
			analysis_run(dir, c.o.quiet ? NULL : stderr, err, sizeof(err));
			analysis_summary(&m, &sum);
			analysis_free(&m);
			fprintf(f, "\"%s\",%llu,%d,%d,%.3f,%.1f,%.5f,%.5f,%.5f,%s\n", label,
			        (unsigned long long)seed, sum.peers, sum.played,
			        sum.startup_median_s, sum.delay_median_ms, sum.continuity,
			        sum.verified, sum.control_overhead, dir);
			fflush(f);
			if (interrupted) {
				rc = 130;
				break;
			}
		}
	}
	printf("sweep: %s\n", csv);
out:
	if (f)
		fclose(f);
	free(sets);
	free(buf);
	free_cli(&c);
	return rc;
}

static int cmd_clean(int argc, char **argv)
{
	if (argc > 1) {
		err_msg("clean: usage: anysee-harness clean [PREFIX]");
		return 2;
	}
	char err[512];
	int n = testbed_clean(argc ? argv[0] : NULL, err, sizeof(err));
	if (n < 0) {
		err_msg("clean: %s", err);
		return 1;
	}
	printf("removed %d leftover namespace%s\n", n, n == 1 ? "" : "s");
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
    {"run", cmd_run,
     "SCENARIO.lua [--seed N] [--out DIR] [--set k=v]... [--peer-bin PATH] "
     "[--backend auto|netem|userspace|bridge] [-q] [--dry-run]"},
    {"sweep", cmd_sweep,
     "SCENARIO.lua --grid name=v1,v2,... [--grid ...] [--repeat K] [run options]\n"
     "        runs every grid point K times (seeds --seed, --seed+1, ...) into one\n"
     "        directory with sweep.csv"},
    {"net", cmd_net,
     "N [--backend B] [--delay D] [--rate R] [--loss P] [--jitter J] [--waxman ROUTERS]\n"
     "        [--matrix FILE] [-- COMMAND...]  a bare testbed of N hosts, for experiments"},
    {"clean", cmd_clean,
     "[PREFIX]  remove namespaces (and their processes) a crashed run left;\n"
     "        PREFIX defaults to '" TESTBED_PREFIX "', i.e. every run's leftovers"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: %s COMMAND ...\n", util_progname());
	for (size_t i = 0; i < ARRAY_LEN(cmds); i++)
		fprintf(f, "  %s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv)
{
	util_set_progname(argv[0]);
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < ARRAY_LEN(cmds); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 2, argv + 2);
	err_msg("unknown command '%s'", argv[1]);
	usage(stderr);
	return 2;
}
