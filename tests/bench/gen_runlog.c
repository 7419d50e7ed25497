/* Synthesizes a run directory as a long run would leave it, for the
 * analysis benchmark: hosts.txt, delays.txt and each peer's event and
 * segment logs, written through the same definitions as the real ones.
 *
 *   gen_runlog DIR PEERS SECONDS SEGMENTS_PER_SECOND
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/addr.h"
#include "lib/rundir.h"
#include "lib/util.h"
#include "peer/log.h"

static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return fake_now;
}

static int write_hosts(const char *dir, int peers)
{
	struct rundir_host *h = calloc((size_t)peers + 2, sizeof(*h));
	if (!h)
		return -1;
	snprintf(h[0].name, sizeof(h[0].name), "rp");
	snprintf(h[0].role, sizeof(h[0].role), "rp");
	snprintf(h[1].name, sizeof(h[1].name), "src");
	snprintf(h[1].role, sizeof(h[1].role), "source");
	snprintf(h[1].stream, sizeof(h[1].stream), "tv1");
	for (int i = 0; i < peers + 2; i++) {
		if (i >= 2) {
			snprintf(h[i].name, sizeof(h[i].name), "p%d", i - 1);
			snprintf(h[i].role, sizeof(h[i].role), "peer");
			snprintf(h[i].stream, sizeof(h[i].stream), "tv1");
		}
		addr_ip_str(addr_host_ip((uint32_t)i), h[i].ip);
	}
	char err[256];
	int rc = rundir_hosts_write(dir, h, peers + 2, err, sizeof(err));
	if (rc)
		fprintf(stderr, "gen_runlog: %s\n", err);
	free(h);
	return rc;
}

static int write_delays(const char *dir, int n, struct rng *r)
{
	char path[4096];
	rundir_path(path, sizeof(path), dir, RUNDIR_DELAYS);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "# one-way delay in milliseconds, row = sender, %d hosts\n", n);
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < n; j++)
			fprintf(f, "%s%.3f", j ? " " : "", i == j ? 0 : 5 + 20 * rng_unit(r));
		fputc('\n', f);
	}
	return fclose(f);
}

static int write_peer(const char *dir, int i, int seconds, int rate, struct rng *r)
{
	char hdir[4096], name[32];
	snprintf(name, sizeof(name), "p%d", i);
	rundir_host_path(hdir, sizeof(hdir), dir, name, NULL);
	struct evlog l;
	if (evlog_open(&l, hdir))
		return -1;
	l.clock = fake_clock;
	uint64_t t0 = l.epoch_us + (uint64_t)i * 10000u;
	fake_now = t0;
	evlog_start(&l, "peer", (uint32_t)i, "anysee", "tv1", 300000, 40000000);
	uint64_t period = 1000000u / (uint64_t)rate;
	uint32_t seq = 0;
	for (int s = 0; s < seconds; s++) {
		if (s == 1)
			evlog_play_start(&l, seq, 1000000, 2000000);
		for (int k = 0; k < rate; k++) {
			fake_now = t0 + (uint64_t)s * 1000000u + (uint64_t)k * period;
			uint32_t delay = 15000 + (uint32_t)rng_below(r, 50000);
			evlog_segment(&l, 1, seq++, delay, (uint8_t)(1 + rng_below(r, 4)),
			              SEG_CHECKSUM_OK | SEG_CONTENT_OK | SEG_STORED);
		}
		if (s >= 1) {
			struct evlog_tick t = {.due = (uint64_t)rate, .on_time = (uint64_t)rate};
			evlog_tick(&l, &t);
		}
	}
	struct evlog_leave lv = {.due = (uint64_t)rate * (uint64_t)(seconds - 1)};
	lv.on_time = lv.due;
	evlog_leave(&l, &lv);
	evlog_close(&l);
	return 0;
}

int main(int argc, char **argv)
{
	long peers, seconds, rate;
	if (argc != 5 || parse_long(argv[2], 1, 60000, &peers) ||
	    parse_long(argv[3], 2, 86400, &seconds) || parse_long(argv[4], 1, 1000, &rate)) {
		fprintf(stderr, "usage: gen_runlog DIR PEERS SECONDS SEGMENTS_PER_SECOND\n");
		return 2;
	}
	const char *dir = argv[1];
	char hosts[4096];
	rundir_path(hosts, sizeof(hosts), dir, RUNDIR_HOSTS_DIR);
	if ((mkdir(dir, 0755) && errno != EEXIST) || (mkdir(hosts, 0755) && errno != EEXIST)) {
		perror("gen_runlog: mkdir");
		return 1;
	}
	struct rng r;
	rng_seed(&r, 1);
	if (write_hosts(dir, (int)peers) || write_delays(dir, (int)peers + 2, &r))
		return 1;
	for (int i = 1; i <= peers; i++)
		if (write_peer(dir, i, (int)seconds, (int)rate, &r)) {
			fprintf(stderr, "gen_runlog: peer %d: %s\n", i, strerror(errno));
			return 1;
		}
	return 0;
}
