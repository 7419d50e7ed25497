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
#include "analysis/sweep.h"
#include "harness/net.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "lib/opt.h"
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
	struct opt_list sets;
	struct opt_list grids; /* sweep: "name=v1,v2,..." */
	long repeat;
	int unsafe_lua;
};

enum { CLI_RUN = 1, CLI_SWEEP = 2 };

static int set_backend(void *obj, const char *value, char *err, size_t errlen)
{
	struct cli *c = obj;
	if (testbed_backend_parse(value, &c->o.backend))
		return err_set(err, errlen, "'%s' is not auto, netem, userspace or bridge", value);
	c->o.backend_forced = 1;
	return 0;
}

static int check_grid(void *obj, const char *value, char *err, size_t errlen)
{
	const char *eq = strchr(value, '=');
	if (!eq || eq == value || !eq[1])
		return err_set(err, errlen, "'%s' is not name=v1,v2,...", value);
	/* Each point becomes a --set name=value of at most 255 characters. */
	for (const char *v = eq + 1;; v += strcspn(v, ",") + 1) {
		size_t n = strcspn(v, ",");
		if (!n)
			return err_set(err, errlen, "'%s' has an empty value", value);
		if ((size_t)(eq - value) + 1 + n > 255)
			return err_set(err, errlen,
			               "'%s': name=value is longer than 255 characters", value);
		if (!v[n])
			break;
	}
	return 0;
}

/* The run directory's longest entry (host directory and file name) must
 * still fit the 1024-byte paths every part uses. */
#define OUT_MAX 900

static int check_out(void *obj, const char *value, char *err, size_t errlen)
{
	(void)obj;
	if (!*value)
		return err_set(err, errlen, "the directory name is empty");
	if (strlen(value) > OUT_MAX)
		return err_set(err, errlen, "the directory name is longer than %d characters",
		               OUT_MAX);
	return 0;
}

#define C(field) OPT_AT(struct cli, field)
static const struct opt cli_opts[] = {
    {"seed", OPT_U64, C(seed), "N", .help = "seed of the run (sweep: of the first repeat; 1)"},
    {"out", OPT_ARG, C(o.out_dir), "DIR",
     .help = "run directory (sweep: the parent; default under runs/)", .fn = check_out},
    {"set", OPT_LIST, C(sets), "NAME=VALUE", .help = "a scenario parameter (param); repeatable"},
    {"peer-bin", OPT_STR, C(peer_bin), "PATH",
     .help = "the anysee binary to run (default: beside this one)"},
    {"backend", OPT_CALL, 0, 0, "B",
     .help = "auto, netem, userspace or bridge (over the scenario's)", .fn = set_backend},
    {"grid", OPT_LIST, C(grids), "NAME=V1,...",
     .help = "the values of a parameter to sweep; repeatable", .fn = check_grid, .only = CLI_SWEEP},
    {"repeat", OPT_LONG, C(repeat), "K",
     .help = "runs of each grid point, seeds N, N+1, ... (default 1)", .min = 1, .max = 1000,
     .only = CLI_SWEEP},
    {"quiet", OPT_FLAG, C(o.quiet), .help = "no live status line", .short_name = 'q'},
    {"let-cpus-idle", OPT_FLAG, C(o.let_cpus_idle),
     .help = "no idle-priority spinners keeping the CPUs from halting during the run"},
    {"unsafe-lua", OPT_FLAG, C(unsafe_lua),
     .help = "give the scenario every Lua library (io, os, ...); it runs as root"},
    {"dry-run", OPT_FLAG, C(o.dry_run),
     .help = "write the resolved network and schedule; start nothing", .only = CLI_RUN},
};

static const struct opt_cmd run_cmd = {
    .name = "run",
    .synopsis = "SCENARIO.lua [options]",
    .about = "Runs the scenario once on the emulated network and prints the report.\n",
    .opts = cli_opts,
    .nopts = ARRAY_LEN(cli_opts),
    .mask = CLI_RUN,
};

static const struct opt_cmd sweep_cmd = {
    .name = "sweep",
    .synopsis = "SCENARIO.lua --grid NAME=V1,V2,... [options]",
    .about = "Runs every grid point K times (seeds --seed, --seed+1, ...) into one directory\n"
             "with sweep.csv.\n",
    .opts = cli_opts,
    .nopts = ARRAY_LEN(cli_opts),
    .mask = CLI_SWEEP,
};

static void free_cli(struct cli *c)
{
	opt_list_free(&c->sets);
	opt_list_free(&c->grids);
}

/* Returns 0, or -1 when the program should exit with *status. */
static int parse_cli(const struct opt_cmd *cmd, int argc, char **argv, struct cli *c, int *status)
{
	memset(c, 0, sizeof(*c));
	c->seed = 1;
	c->repeat = 1;
	default_peer_bin(c->peer_bin, sizeof(c->peer_bin));
	c->o.peer_bin = c->peer_bin;
	int n = opt_cli(cmd, c, argc, argv, status);
	if (n == 1) {
		c->path = argv[1];
		return 0;
	}
	if (n == 0)
		*status = opt_fail(cmd->name, "which scenario? (SCENARIO.lua)");
	else if (n > 1)
		*status = opt_fail(cmd->name, "unexpected argument '%s'", argv[2]);
	free_cli(c);
	return -1;
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
	struct scenario_args a = {
	    .seed = seed, .sets = sets, .nsets = nsets, .unsafe_lua = c->unsafe_lua};
	if (scenario_load(&s, c->path, &a, err, sizeof(err))) {
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
	int status;
	if (parse_cli(&run_cmd, argc, argv, &c, &status))
		return status;
	char dir[1024], err[1024];
	int interrupted = 0;
	int rc =
	    run_once(&c, c.seed, c.sets.v, c.sets.n, c.o.out_dir, dir, sizeof(dir), &interrupted);
	free_cli(&c);
	if (rc)
		return 1;
	if (c.o.dry_run) {
		printf("dry run: resolved schedule and network in %s\n", dir);
		return 0;
	}
	if (interrupted && !c.o.quiet)
		fprintf(stderr, "interrupted: everything torn down; partial results below\n");
	if (analysis_run(dir, stdout, NULL, err, sizeof(err))) {
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
	int n = 0;
	for (; n < c->sets.n; n++)
		sets[n] = c->sets.v[n];
	*label = 0;
	for (int g = 0; g < c->grids.n; g++) {
		const char *eq = strchr(c->grids.v[g], '=');
		int nvals = 1;
		for (const char *p = eq + 1; *p; p++)
			nvals += *p == ',';
		long pick = k % nvals;
		k /= nvals;
		const char *v = eq + 1;
		for (long i = 0; i < pick; i++)
			v = strchr(v, ',') + 1;
		size_t vl = strcspn(v, ",");
		snprintf(buf[g], sizeof(buf[g]), "%.*s=%.*s", (int)(eq - c->grids.v[g]),
		         c->grids.v[g], (int)vl, v);
		sets[n++] = buf[g];
		snprintf(label + strlen(label), labellen - strlen(label), "%s%s", g ? "," : "",
		         buf[g]);
	}
	return n;
}

static long grid_size(const struct cli *c)
{
	long total = 1;
	for (int g = 0; g < c->grids.n; g++) {
		int nvals = 1;
		for (const char *p = strchr(c->grids.v[g], '=') + 1; *p; p++)
			nvals += *p == ',';
		total *= nvals;
	}
	return total;
}

/* The sweep's directory: --out, or runs/sweep-<scenario>-<time>. */
static void sweep_parent(const struct cli *c, char *parent, size_t len)
{
	if (c->o.out_dir) {
		snprintf(parent, len, "%s", c->o.out_dir);
		return;
	}
	char ts[32];
	time_t now = time(NULL);
	strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", localtime(&now));
	const char *base = strrchr(c->path, '/');
	snprintf(parent, len, "runs/sweep-%.*s-%s", (int)strcspn(base ? base + 1 : c->path, "."),
	         base ? base + 1 : c->path, ts);
}

/* One run of a grid point, analysed and added to sweep.csv. Returns 0, 1 on
 * an error, 130 when interrupted. */
static int sweep_one(struct cli *c, const char *parent, long k, long rep, char **sets,
                     char (*buf)[256], FILE *csv)
{
	char label[512], out[1700], dir[1024], err[1024];
	long points = grid_size(c);
	int n = grid_point(c, k, sets, buf, label, sizeof(label));
	uint64_t seed = c->seed + (uint64_t)rep;
	snprintf(out, sizeof(out), "%s/%s%sseed%llu", parent, label, *label ? "-" : "",
	         (unsigned long long)seed);
	fprintf(stderr, "sweep: [%ld/%ld] %s seed %llu\n", k * c->repeat + rep + 1,
	        points * c->repeat, *label ? label : "(no grid)", (unsigned long long)seed);
	int interrupted = 0;
	if (run_once(c, seed, sets, n, out, dir, sizeof(dir), &interrupted))
		return 1;
	struct run_summary sum;
	if (analysis_run(dir, c->o.quiet ? NULL : stderr, &sum, err, sizeof(err))) {
		err_msg("sweep: analyse %s: %s", dir, err);
		return 1;
	}
	sweep_csv_row(csv, label, seed, &sum, dir);
	return interrupted ? 130 : 0;
}

/* The sweep's directory and its sweep.csv. Returns 0, or 1 on an error
 * already reported. */
static int sweep_open(const char *parent, FILE **f)
{
	char err[1024];
	if (mkdir(parent, 0755) && errno != EEXIST) {
		err_msg("sweep: create %s: %s", parent, strerror(errno));
		return 1;
	}
	if (!(*f = sweep_csv_open(parent, err, sizeof(err)))) {
		err_msg("sweep: %s", err);
		return 1;
	}
	return 0;
}

/* Load the scenario at every grid point before the first run, so a bad
 * value fails the sweep at once and not hours into it. */
static int sweep_check(struct cli *c, char **sets, char (*buf)[256])
{
	char label[512], err[2048];
	for (long k = 0; k < grid_size(c); k++) {
		int n = grid_point(c, k, sets, buf, label, sizeof(label));
		struct scenario s;
		struct scenario_args a = {
		    .seed = c->seed, .sets = sets, .nsets = n, .unsafe_lua = c->unsafe_lua};
		int rc = scenario_load(&s, c->path, &a, err, sizeof(err));
		scenario_free(&s);
		if (rc) {
			err_msg("sweep: grid point %s: %s", label, err);
			return 1;
		}
	}
	return 0;
}

static int cmd_sweep(int argc, char **argv)
{
	struct cli c;
	int status;
	if (parse_cli(&sweep_cmd, argc, argv, &c, &status))
		return status;
	char parent[1024], err[1024];
	sweep_parent(&c, parent, sizeof(parent));
	char **sets = calloc((size_t)(c.sets.n + c.grids.n + 1), sizeof(*sets));
	char(*buf)[256] = calloc((size_t)c.grids.n + 1, sizeof(*buf));
	FILE *f = NULL;
	int rc = 1;
	if (!sets || !buf)
		err_msg("sweep: out of memory");
	else if (!sweep_check(&c, sets, buf))
		rc = sweep_open(parent, &f);
	long points = grid_size(&c);
	for (long k = 0; f && k < points && !rc; k++)
		for (long rep = 0; rep < c.repeat && !rc; rep++)
			rc = sweep_one(&c, parent, k, rep, sets, buf, f);
	if (f) {
		fclose(f);
		printf("sweep: %s/%s\n", parent, RUNDIR_SWEEP_CSV);
	}
	char names[256];
	if (f && !rc && sweep_plot(parent, names, sizeof(names), err, sizeof(err)))
		printf("sweep: pictures not drawn: %s\n", err);
	else if (f && !rc)
		printf("sweep: pictures (.svg and .png) in %s/plots: %s\n", parent, names);
	free(sets);
	free(buf);
	free_cli(&c);
	return rc;
}

struct clean_opts {
	int force;
};

static const struct opt clean_opts[] = {
    {"force", OPT_FLAG, OPT_AT(struct clean_opts, force),
     .help = "also remove the namespaces of harnesses still running"},
};

static const struct opt_cmd clean_cmd = {
    .name = "clean",
    .synopsis = "[PREFIX] [--force]",
    .about = "Removes the namespaces (and their processes) a crashed run left: those whose\n"
             "name starts with PREFIX, by default '" TESTBED_PREFIX "' (every run's leftovers).\n"
             "The namespaces of a harness that is still running are left to it.\n",
    .opts = clean_opts,
    .nopts = ARRAY_LEN(clean_opts),
};

static int cmd_clean(int argc, char **argv)
{
	struct clean_opts o = {0};
	int status, kept;
	int n = opt_cli(&clean_cmd, &o, argc, argv, &status);
	if (n < 0)
		return status;
	if (n > 1)
		return opt_fail(clean_cmd.name, "unexpected argument '%s'", argv[2]);
	char err[512];
	int removed = testbed_clean(n ? argv[1] : NULL, o.force, &kept, err, sizeof(err));
	if (removed < 0) {
		err_msg("clean: %s", err);
		return 1;
	}
	printf("removed %d leftover namespace%s\n", removed, removed == 1 ? "" : "s");
	if (kept)
		printf("kept %d namespace%s of running harnesses (--force removes them)\n", kept,
		       kept == 1 ? "" : "s");
	return 0;
}

/* argv[0] of each command is its name. */
static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
    {"run", cmd_run, "SCENARIO.lua [options]     run a scenario and report"},
    {"sweep", cmd_sweep, "SCENARIO.lua --grid ...    run every point of a parameter grid"},
    {"net", cmd_net, "N [options] [-- COMMAND]   a bare testbed of N hosts, for experiments"},
    {"clean", cmd_clean, "[PREFIX]                   remove what a crashed run left"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: %s COMMAND ...\n", util_progname());
	for (size_t i = 0; i < ARRAY_LEN(cmds); i++)
		fprintf(f, "  %-5s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "'%s COMMAND --help' lists the options of a command.\n", util_progname());
}

int main(int argc, char **argv)
{
	int status;
	util_set_progname(argv[0]);
	if (opt_command_word(argc, argv, usage, &status))
		return status;
	for (size_t i = 0; i < ARRAY_LEN(cmds); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	return opt_fail(NULL, "unknown command '%s'", argv[1]);
}
