/* Builds a testbed and changes its link model at run time, as the harness's
 * set_link and partition do (the model's fields, then testbed_apply), for
 * testing a backend with ping and iperf3 between the changes:
 *
 *   testbed_driver N [BACKEND]
 *
 * It prints "ready PREFIX BACKEND" once the hosts are up, then reads one
 * command a line on stdin and answers "ok" or "error: why" on stdout:
 *
 *   host I [up=RATE] [down=RATE] [jitter=DUR] [loss=P] [queue=BYTES]
 *   delay A B DUR          one-way delay both ways between hosts A and B
 *   partition I LABEL      hosts talk only within one label
 *   apply                  realize the model
 *   stats                  answers "ok LINE": the backend's counters
 *
 * At the end of its input it removes the testbed. Fields not given keep
 * their value; every path starts unlimited with no delay.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "netns/testbed.h"

static int set_field(struct link_access *a, const char *kv, char *err, size_t errlen)
{
	const char *v = strchr(kv, '=');
	uint64_t u;
	long l;
	char *end;
	if (!v)
		return err_set(err, errlen, "'%s' is not name=value", kv);
	v++;
	if (!strncmp(kv, "up=", 3) && parse_rate(v, &u) == 0)
		a->up_bps = u;
	else if (!strncmp(kv, "down=", 5) && parse_rate(v, &u) == 0)
		a->down_bps = u;
	else if (!strncmp(kv, "jitter=", 7) && parse_duration(v, &u) == 0 && u <= UINT32_MAX)
		a->jitter_us = (uint32_t)u;
	else if (!strncmp(kv, "queue=", 6) && parse_long(v, 0, UINT32_MAX, &l) == 0)
		a->queue_bytes = (uint32_t)l;
	else if (!strncmp(kv, "loss=", 5) && (a->loss = strtod(v, &end), !*end) && a->loss >= 0 &&
	         a->loss <= 1)
		;
	else
		return err_set(err, errlen, "bad field '%s'", kv);
	return 0;
}

static int host_index(struct testbed *tb, const char *s, uint32_t *i, char *err, size_t errlen)
{
	long l;
	if (!s || parse_long(s, 0, (long)testbed_nhosts(tb) - 1, &l))
		return err_set(err, errlen, "'%s' is not a host index", s ? s : "");
	*i = (uint32_t)l;
	return 0;
}

static int command(struct testbed *tb, char *line, char *reply, size_t rlen, char *err,
                   size_t errlen)
{
	struct linkmodel *m = testbed_model(tb);
	char *save, *verb = strtok_r(line, " \t\n", &save);
	uint32_t a, b;
	uint64_t us;
	long label;
	if (!verb)
		return err_set(err, errlen, "empty command");
	if (!strcmp(verb, "apply"))
		return testbed_apply(tb, err, errlen);
	if (!strcmp(verb, "stats")) {
		*reply = ' ';
		if (testbed_stats(tb, reply + 1, rlen - 1))
			return err_set(err, errlen, "the backend keeps no counters");
		return 0;
	}
	if (host_index(tb, strtok_r(NULL, " \t\n", &save), &a, err, errlen))
		return -1;
	if (!strcmp(verb, "host")) {
		for (char *kv; (kv = strtok_r(NULL, " \t\n", &save));)
			if (set_field(&m->host[a], kv, err, errlen))
				return -1;
		return 0;
	}
	if (!strcmp(verb, "partition")) {
		const char *s = strtok_r(NULL, " \t\n", &save);
		if (!s || parse_long(s, 0, UINT32_MAX, &label))
			return err_set(err, errlen, "partition %u: want a label", a);
		m->host[a].partition = (uint32_t)label;
		return 0;
	}
	if (!strcmp(verb, "delay")) {
		if (host_index(tb, strtok_r(NULL, " \t\n", &save), &b, err, errlen))
			return -1;
		const char *s = strtok_r(NULL, " \t\n", &save);
		if (!s || parse_duration(s, &us) || us > UINT32_MAX)
			return err_set(err, errlen, "delay %u %u: want a duration", a, b);
		m->delay_us[(size_t)a * m->n + b] = m->delay_us[(size_t)b * m->n + a] =
		    (uint32_t)us;
		return 0;
	}
	return err_set(err, errlen, "unknown command '%s'", verb);
}

int main(int argc, char **argv)
{
	util_set_progname(argv[0]);
	long n;
	enum testbed_backend be = TESTBED_AUTO;
	if (argc < 2 || argc > 3 || parse_long(argv[1], 2, 250, &n) ||
	    (argc == 3 && testbed_backend_parse(argv[2], &be))) {
		fprintf(stderr, "usage: %s N [auto|netem|userspace|bridge]\n", argv[0]);
		return 2;
	}
	/* A test that dies takes its driver's input with it: EOF, not SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	char prefix[64], err[512];
	snprintf(prefix, sizeof(prefix), "%stbd%x", TESTBED_PREFIX, (unsigned)getpid());
	struct testbed_config cfg = {.prefix = prefix, .nhosts = (uint32_t)n, .backend = be};
	struct testbed *tb;
	if (testbed_create(&cfg, &tb, err, sizeof(err)) || testbed_apply(tb, err, sizeof(err))) {
		err_msg("%s", err);
		return 1;
	}
	printf("ready %s %s\n", prefix, testbed_backend_name(testbed_backend(tb)));
	fflush(stdout);
	char line[512], reply[512];
	while (fgets(line, sizeof(line), stdin)) {
		*reply = 0;
		if (command(tb, line, reply, sizeof(reply), err, sizeof(err)))
			printf("error: %s\n", err);
		else
			printf("ok%s\n", reply);
		fflush(stdout);
	}
	testbed_destroy(tb);
	return 0;
}
