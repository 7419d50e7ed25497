/* Runs the userspace switch with one uniform link model, for the smoke test
 * and for measuring it by hand. Start it inside the hub namespace:
 *
 *   switch_driver --port p0:0 --port p1:1 [--delay 25ms] [--jitter 1ms]
 *                 [--rate 10mbit] [--loss 0.01] [--queue BYTES] [--seed N]
 *
 * Every pair gets the one-way delay; every host the rate both ways. --loss
 * and --jitter are those of a path, split over its two access links. It says
 * "ready" on stderr once it reads the ports. SIGTERM or SIGINT stops it; it
 * then prints the counters and the CPU time it used.
 */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "lib/util.h"
#include "netns/linkmodel.h"
#include "netns/switch.h"

#define MAX_HOST 65534 /* MACs and addresses of the testbed plan */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_ready(void *arg)
{
	(void)arg;
	err_msg("ready");
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: %s --port IFNAME:HOST... [--delay DUR] [--jitter DUR] "
	        "[--rate RATE] [--loss P] [--queue BYTES] [--seed N]\n",
	        util_progname());
	exit(2);
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
	util_set_progname(argv[0]);
	static const struct option longopts[] = {
	    {"port", required_argument, NULL, 'p'},   {"delay", required_argument, NULL, 'd'},
	    {"jitter", required_argument, NULL, 'j'}, {"rate", required_argument, NULL, 'r'},
	    {"loss", required_argument, NULL, 'l'},   {"queue", required_argument, NULL, 'q'},
	    {"seed", required_argument, NULL, 's'},   {NULL, 0, NULL, 0},
	};
	/* No more ports than arguments. */
	struct switch_port *ports = calloc((size_t)argc, sizeof(*ports));
	if (!ports) {
		err_msg("allocating %d ports: out of memory", argc);
		return 1;
	}
	uint32_t nports = 0, nhosts = 0;
	uint64_t delay_us = 0, jitter_us = 0, rate = 0;
	long queue = 0, seed = 1;
	double loss = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *colon, *end;
		long host;
		switch (c) {
		case 'p':
			colon = strchr(optarg, ':');
			if (!colon || parse_long(colon + 1, 0, MAX_HOST, &host) < 0) {
				err_msg("bad --port %s: want IFNAME:HOST, HOST <= %d", optarg,
				        MAX_HOST);
				return 2;
			}
			*colon = '\0';
			ports[nports++] = (struct switch_port){optarg, (uint32_t)host};
			if ((uint32_t)host >= nhosts)
				nhosts = (uint32_t)host + 1;
			break;
		case 'd':
			if (parse_duration(optarg, &delay_us) < 0 || delay_us > UINT32_MAX) {
				err_msg("bad --delay %s: want a duration such as 25ms", optarg);
				return 2;
			}
			break;
		case 'j':
			if (parse_duration(optarg, &jitter_us) < 0 || jitter_us > UINT32_MAX) {
				err_msg("bad --jitter %s: want a duration such as 2ms", optarg);
				return 2;
			}
			break;
		case 'r':
			if (parse_rate(optarg, &rate) < 0) {
				err_msg("bad --rate %s: want a rate such as 10mbit", optarg);
				return 2;
			}
			break;
		case 'l':
			loss = strtod(optarg, &end);
			if (*end || !(loss >= 0 && loss <= 1)) {
				err_msg("bad --loss %s: want a probability in [0,1]", optarg);
				return 2;
			}
			break;
		case 'q':
			if (parse_long(optarg, 1, UINT32_MAX, &queue) < 0) {
				err_msg("bad --queue %s: want bytes", optarg);
				return 2;
			}
			break;
		case 's':
			if (parse_long(optarg, 0, LONG_MAX, &seed) < 0) {
				err_msg("bad --seed %s: want a whole number", optarg);
				return 2;
			}
			break;
		default:
			usage();
		}
	}
	if (!nports || optind != argc)
		usage();

	void *mem = calloc(1, linkmodel_size(nhosts));
	if (!mem) {
		err_msg("allocating a model of %u hosts: out of memory", nhosts);
		return 1;
	}
	struct linkmodel *m = linkmodel_init(mem, nhosts);
	/* The path combines both access links: losses as 1 - (1 - a)^2,
	 * jitter in variance. */
	double access_loss = 1.0 - sqrt(1.0 - loss);
	for (uint32_t i = 0; i < nhosts; i++) {
		m->host[i] = (struct link_access){
		    .up_bps = rate,
		    .down_bps = rate,
		    .jitter_us = (uint32_t)lround((double)jitter_us / sqrt(2.0)),
		    .queue_bytes = (uint32_t)queue,
		    .loss = access_loss,
		};
		for (uint32_t j = 0; j < nhosts; j++)
			m->delay_us[(size_t)i * nhosts + j] = (uint32_t)delay_us;
	}

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	struct switch_config cfg = {
	    .ports = ports,
	    .nports = nports,
	    .model = m,
	    .seed = (uint64_t)seed,
	    .ready = on_ready,
	};
	char err[256];
	uint64_t t0 = mono_us();
	int ret = switch_run(&cfg, &stop, err, sizeof(err));
	if (ret < 0)
		err_msg("%s", err);
	double wall = (double)(mono_us() - t0) / 1e6;
	err_msg("wall=%.3fs cpu=%.3fs", wall, cpu_seconds());
	free(mem);
	free(ports);
	return ret < 0 ? 1 : 0;
}
