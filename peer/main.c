/* anysee: the AnySee peer daemon. The role is a subcommand. */
#include <stdio.h>
#include <string.h>

#include "lib/opt.h"
#include "lib/util.h"
#include "peer/attack.h"
#include "peer/config.h"
#include "peer/monitor.h"
#include "peer/node.h"
#include "peer/rp.h"

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
    {"attack", ROLE_ATTACK, attack_run, "testing only: send crafted datagrams at a target"},
};

static void usage(FILE *f)
{
	const char *prog = util_progname();
	fprintf(f, "usage: %s ROLE [--config FILE] [--name value]...\nroles:\n", prog);
	for (size_t i = 0; i < ARRAY_LEN(roles); i++)
		fprintf(f, "  %-8s %s\n", roles[i].name, roles[i].help);
	fprintf(f, "'%s ROLE --help' lists the options of a role.\n", prog);
}

int main(int argc, char **argv)
{
	int status;
	util_set_progname(argv[0]);
	if (opt_command_word(argc, argv, usage, &status))
		return status;
	for (size_t i = 0; i < ARRAY_LEN(roles); i++) {
		if (strcmp(argv[1], roles[i].name))
			continue;
		struct config cfg;
		char err[512];
		config_defaults(&cfg, roles[i].role);
		if (config_parse_args(&cfg, argc - 1, argv + 1, &status))
			return status;
		if (config_finish(&cfg, err, sizeof(err)))
			return opt_fail(roles[i].name, "%s", err);
		return roles[i].run(&cfg);
	}
	return opt_fail(NULL, "unknown role '%s' (rp, source, peer, monitor, attack)", argv[1]);
}
