/* anysee-harness net: a bare testbed for experiments and benchmarks.
 * Builds N hosts with uniform links (or a topology's delays), runs a
 * command beside them (or waits for Ctrl-C), and removes everything. */
#include "harness/net.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/opt.h"
#include "lib/util.h"
#include "netns/testbed.h"
#include "netns/topology.h"

static volatile sig_atomic_t got_signal;
static void on_signal(int sig)
{
	got_signal = sig;
}

struct net_opts {
	uint32_t n;
	enum testbed_backend backend;
	uint64_t delay_us, jitter_us, rate_bps, seed;
	double loss;
	long queue;
	long waxman;
	const char *matrix, *delays_out;
	char **cmd;
};

static int set_backend(void *obj, const char *value, char *err, size_t errlen)
{
	struct net_opts *o = obj;
	if (testbed_backend_parse(value, &o->backend))
		return err_set(err, errlen, "'%s' is not auto, netem, userspace or bridge", value);
	return 0;
}

#define N(field) OPT_AT(struct net_opts, field)
static const struct opt net_opts[] = {
    {"backend", OPT_CALL, 0, 0, "B", .help = "auto (default), netem, userspace or bridge",
     .fn = set_backend},
    {"delay", OPT_DURATION, N(delay_us), "D", .help = "one-way host-to-host delay (default 0)",
     .max = LINK_DELAY_MAX_US},
    {"jitter", OPT_DURATION, N(jitter_us), "J", .help = "delay jitter of every access link",
     .max = LINK_DELAY_MAX_US},
    {"loss", OPT_DOUBLE, N(loss), "P", .help = "loss probability of every access link", .max = 1},
    {"rate", OPT_RATE, N(rate_bps), "R", .help = "upload and download rate (default unlimited)"},
    {"queue", OPT_LONG, N(queue), "BYTES", .help = "queue limit of every access link", .min = 1,
     .max = 1 << 30},
    {"waxman", OPT_LONG, N(waxman), "ROUTERS",
     .help = "delays over a Waxman topology (--delay: of access)", .min = 2, .max = 100000},
    {"matrix", OPT_ARG, N(matrix), "FILE", .help = "host-to-host delays (ms) from FILE"},
    {"seed", OPT_U64, N(seed), "S", .help = "seed of the Waxman topology (default 1)"},
    {"delays-out", OPT_ARG, N(delays_out), "FILE", .help = "write the delay matrix to FILE"},
};

static const struct opt_cmd net_cmd = {
    .name = "net",
    .synopsis = "N [options] [-- COMMAND ARGS...]",
    .about = "Builds N hosts, runs COMMAND beside them (or waits for Ctrl-C) and removes them.\n"
             "COMMAND runs in the root namespace with ANYSEE_PREFIX and ANYSEE_HUB set;\n"
             "host i is namespace $ANYSEE_PREFIX-h<i> with address 10.77.0.<i+1>.\n",
    .opts = net_opts,
    .nopts = ARRAY_LEN(net_opts),
};

/* Returns 0, or -1 when the program should exit with *status. */
static int parse(int argc, char **argv, struct net_opts *o, int *status)
{
	long hosts;
	o->seed = 1;
	int n = opt_cli(&net_cmd, o, argc, argv, status);
	if (n < 0)
		return -1;
	if (n == 0) {
		*status = opt_fail(net_cmd.name, "how many hosts? (N)");
		return -1;
	}
	if (parse_long(argv[1], 1, TESTBED_MAX_HOSTS, &hosts)) {
		*status = opt_fail(net_cmd.name, "N: '%s' is not a host count in [1, %d]", argv[1],
		                   TESTBED_MAX_HOSTS);
		return -1;
	}
	o->n = (uint32_t)hosts;
	/* The operands after N are the command (after --, by convention). */
	o->cmd = n > 1 ? argv + 2 : NULL;
	return 0;
}

/* Fill the delay matrix from the options: uniform, a generated topology or
 * a matrix file. */
static int delays(const struct net_opts *o, uint32_t *d, char *err, size_t errlen)
{
	uint32_t n = o->n;
	if (o->matrix) {
		uint32_t *m, mn;
		if (topo_matrix_load(o->matrix, &m, &mn, err, errlen))
			return -1;
		if (mn != n) {
			free(m);
			return err_set(err, errlen, "%s is %ux%u, not %ux%u", o->matrix, mn, mn, n,
			               n);
		}
		memcpy(d, m, sizeof(*d) * (size_t)n * n);
		free(m);
	} else if (o->waxman) {
		struct topo_gen g;
		struct topo *t = NULL;
		topo_gen_defaults(&g);
		g.nrouters = (uint32_t)o->waxman;
		g.seed = o->seed;
		int rc = topo_generate(&g, &t, err, errlen) ||
		         topo_hosts_attach(t, n, TOPO_ATTACH_UNIFORM, (uint32_t)o->delay_us,
		                           o->seed, err, errlen) ||
		         topo_host_delays(t, d, err, errlen);
		topo_free(t);
		if (rc)
			return -1;
	} else {
		for (uint32_t a = 0; a < n; a++)
			for (uint32_t b = 0; b < n; b++)
				d[(size_t)a * n + b] = a == b ? 0 : (uint32_t)o->delay_us;
	}
	if (o->delays_out && topo_matrix_write(o->delays_out, d, n, err, errlen))
		return -1;
	return 0;
}

/* Run cmd beside the testbed, or wait for Ctrl-C when there is none.
 * Returns the command's exit status (128 + signal when killed). */
static int run_beside(char **cmd, const char *prefix, const char *hub_ns)
{
	if (!cmd || !*cmd) {
		fprintf(stderr, "net: Ctrl-C removes the testbed\n");
		while (!got_signal)
			pause();
		return 0;
	}
	char hub[128];
	snprintf(hub, sizeof(hub), "%s", hub_ns);
	pid_t pid = fork();
	if (pid == 0) {
		setenv("ANYSEE_PREFIX", prefix, 1);
		setenv("ANYSEE_HUB", hub, 1);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(cmd[0], cmd);
		err_errno("net: run %s", cmd[0]);
		_exit(127);
	}
	int status = 0;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && !got_signal)
		;
	if (got_signal && pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int cmd_net(int argc, char **argv)
{
	struct net_opts o = {0};
	int status;
	if (parse(argc, argv, &o, &status))
		return status;
	char err[1024];
	uint32_t *d = malloc(sizeof(*d) * (size_t)o.n * o.n);
	if (!d || delays(&o, d, err, sizeof(err))) {
		err_msg("net: %s", d ? err : "out of memory");
		free(d);
		return 1;
	}
	/* Interrupts are held until the testbed exists, so that Ctrl-C during
	 * set-up still ends in a full teardown. */
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "%snet%x", TESTBED_PREFIX, (unsigned)getpid());
	struct testbed_config tc = {.prefix = prefix, .nhosts = o.n, .backend = o.backend};
	struct testbed *tb;
	uint64_t t0 = mono_us();
	if (testbed_create(&tc, &tb, err, sizeof(err))) {
		err_msg("net: %s", err);
		free(d);
		return 1;
	}
	uint64_t t1 = mono_us();
	struct linkmodel *m = testbed_model(tb);
	for (uint32_t i = 0; i < o.n; i++) {
		m->host[i] = (struct link_access){.up_bps = o.rate_bps,
		                                  .down_bps = o.rate_bps,
		                                  .jitter_us = (uint32_t)o.jitter_us,
		                                  .queue_bytes = (uint32_t)o.queue,
		                                  .loss = o.loss};
	}
	memcpy(m->delay_us, d, sizeof(*d) * (size_t)o.n * o.n);
	free(d);
	int rc = 0;
	if (testbed_apply(tb, err, sizeof(err))) {
		err_msg("net: %s", err);
		rc = 1;
		goto out;
	}
	fprintf(stderr, "net: %u hosts up in %.3f s (%.0f hosts/s), backend %s, prefix %s\n", o.n,
	        (double)(t1 - t0) / 1e6, o.n / ((double)(t1 - t0) / 1e6),
	        testbed_backend_name(testbed_backend(tb)), prefix);
	rc = run_beside(o.cmd, prefix, testbed_hub_ns(tb));
out:;
	char stats[512];
	if (testbed_stats(tb, stats, sizeof(stats)) == 0)
		fprintf(stderr, "net: %s %s\n",
		        testbed_backend(tb) == TESTBED_NETEM ? "kernel qdiscs" : "switch", stats);
	uint64_t t2 = mono_us();
	testbed_destroy(tb);
	uint64_t t3 = mono_us();
	fprintf(stderr, "net: %u hosts removed in %.3f s (%.0f hosts/s)\n", o.n,
	        (double)(t3 - t2) / 1e6, o.n / ((double)(t3 - t2) / 1e6 + 1e-9));
	return rc;
}
