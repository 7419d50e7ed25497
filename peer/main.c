/* anysee: the AnySee peer daemon. The role is a subcommand. */
#include <stdio.h>
#include <string.h>

#include "peer/config.h"
#include "peer/monitor.h"
#include "peer/node.h"
#include "peer/rp.h"
#include "lib/util.h"

static const struct {
	const char *name;
	enum role role;
	int (*run)(struct config *cfg);
	const char *help;
} roles[] = {
    {"rp", ROLE_RP, rp_run, "rendezvous point: bootstrap peers and stream list"},
    {"source", ROLE_SOURCE, node_run, "broadcaster: ingest and serve one stream"},
    {"peer", ROLE_PEER, node_run, "end peer: watch one stream"},
    {"monitor", ROLE_MONITOR, monitor_run, "collect peers' periodic reports"},
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s ROLE [--config FILE] [--name value]...\nroles:\n", prog);
	for (size_t i = 0; i < ARRAY_LEN(roles); i++)
		fprintf(f, "  %-8s %s\n", roles[i].name, roles[i].help);
	fprintf(f, "'%s ROLE --help' lists the options of a role.\n", prog);
}

int main(int argc, char **argv)
{
	util_set_progname(argv[0]);
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout, util_progname());
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < ARRAY_LEN(roles); i++) {
		if (strcmp(argv[1], roles[i].name))
			continue;
		struct config cfg;
		char err[512];
		config_defaults(&cfg, roles[i].role);
		int rc = config_parse_args(&cfg, argc - 2, argv + 2, err, sizeof(err));
		if (rc == 1) {
			config_usage(roles[i].role, util_progname());
			return 0;
		}
		if (rc || config_finish(&cfg, err, sizeof(err))) {
			err_msg("%s: %s", roles[i].name, err);
			return 2;
		}
		return roles[i].run(&cfg);
	}
	err_msg("unknown role '%s' (rp, source, peer, monitor)", argv[1]);
	return 2;
}
