/* anysee-harness: runs scenarios on the emulated network. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/analysis.h"
#include "harness/net.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "netns/testbed.h"
#include "peer/util.h"

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

static int cmd_run(int argc, char **argv)
{
	const char *path = NULL;
	uint64_t seed = 1;
	char peer_bin[1100];
	default_peer_bin(peer_bin, sizeof(peer_bin));
	struct run_options o = {.peer_bin = peer_bin};
	char **sets = calloc((size_t)argc + 1, sizeof(*sets));
	int nsets = 0;
	if (!sets)
		return 1;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = !strcmp(a, "--seed") || !strcmp(a, "--out") || !strcmp(a, "--set") ||
		            !strcmp(a, "--peer-bin") || !strcmp(a, "--backend");
		if (takes && !v) {
			err_msg("run: option %s needs a value", a);
			return 2;
		}
		if (!strcmp(a, "--seed")) {
			char *end;
			seed = strtoull(v, &end, 10);
			if (!*v || *end) {
				err_msg("run: --seed '%s' is not a non-negative integer", v);
				return 2;
			}
		} else if (!strcmp(a, "--out")) {
			o.out_dir = v;
		} else if (!strcmp(a, "--set")) {
			sets[nsets++] = (char *)v;
		} else if (!strcmp(a, "--peer-bin")) {
			snprintf(peer_bin, sizeof(peer_bin), "%s", v);
		} else if (!strcmp(a, "--backend")) {
			if (testbed_backend_parse(v, &o.backend)) {
				err_msg("run: --backend must be auto, netem, userspace or bridge, "
				        "got '%s'",
				        v);
				return 2;
			}
			o.backend_forced = 1;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o.quiet = 1;
			continue;
		} else if (a[0] == '-') {
			err_msg("run: unknown option '%s'", a);
			return 2;
		} else if (!path) {
			path = a;
			continue;
		} else {
			err_msg("run: unexpected argument '%s'", a);
			return 2;
		}
		i++;
	}
	if (!path) {
		err_msg("run: which scenario? usage: anysee-harness run SCENARIO.lua [options]");
		return 2;
	}
	o.sets = sets;
	o.nsets = nsets;
	struct scenario s;
	char err[2048], dir[1024] = "";
	if (scenario_load(&s, path, seed, sets, nsets, err, sizeof(err))) {
		err_msg("%s", err);
		scenario_free(&s);
		free(sets);
		return 1;
	}
	int interrupted = 0;
	int rc = runner_run(&s, &o, dir, sizeof(dir), &interrupted, err, sizeof(err));
	scenario_free(&s);
	free(sets);
	if (rc) {
		err_msg("%s", err);
		if (*dir)
			err_msg("partial run directory: %s", dir);
		return 1;
	}
	if (interrupted && !o.quiet)
		fprintf(stderr, "interrupted: everything torn down; partial results below\n");
	if (analysis_run(dir, stdout, err, sizeof(err))) {
		err_msg("analyse %s: %s", dir, err);
		return 1;
	}
	printf("run directory: %s\n", dir);
	return interrupted ? 130 : 0;
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
     "[--backend auto|netem|userspace|bridge] [-q]"},
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
