#include "netns/backend.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netlink/netlink.h>

#include "netns/netem.h"
#include "netns/switch.h"
#include "lib/util.h"

#define HOST_IFINDEX 2 /* eth0, see testbed.c */
#define SWITCH_STOP_MS 2000

struct backend_state {
	/* userspace */
	pid_t switch_pid;
	struct switch_stats *stats; /* shared with the switch process */
	/* netem */
	struct nl_sock *hub_sk;
	struct nl_sock **host_sk;
	struct netem_host **hosts;
	uint32_t n;
};

static int netem_probe_cached(char *reason, size_t len)
{
	static int known = -2;
	static char why[256];
	if (known == -2)
		known = netem_kernel_probe(why, sizeof(why));
	snprintf(reason, len, "%s", why);
	return known;
}

int backend_available(enum testbed_backend b, char *err, size_t errlen)
{
	char why[256];
	switch (b) {
	case TESTBED_BRIDGE:
	case TESTBED_USERSPACE:
		return 1;
	case TESTBED_NETEM:
		if (netem_probe_cached(why, sizeof(why)) == 1)
			return 1;
		snprintf(err, errlen, "the netem backend needs sch_netem: %s", why);
		return 0;
	default:
		snprintf(err, errlen, "backend %d is not a concrete backend", (int)b);
		return 0;
	}
}

enum testbed_backend backend_auto(void)
{
	char why[256];
	return netem_probe_cached(why, sizeof(why)) == 1 ? TESTBED_NETEM : TESTBED_USERSPACE;
}

static volatile sig_atomic_t switch_stop;

static void close_ready(void *arg)
{
	int *fd = arg;
	close(*fd);
	*fd = -1;
}

static void on_term(int sig)
{
	switch_stop = 1;
}

/* The switch runs in a child in the hub namespace: a crash there cannot
 * take the harness down, and the harness keeps its own namespace. */
static int userspace_start(struct testbed *tb, struct backend_state *st, char *err, size_t errlen)
{
	st->stats = mmap(NULL, sizeof(*st->stats), PROT_READ | PROT_WRITE,
	                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st->stats == MAP_FAILED) {
		st->stats = NULL;
		snprintf(err, errlen, "map switch counters: %s", strerror(errno));
		return -1;
	}
	int ready[2];
	if (pipe2(ready, O_CLOEXEC)) {
		snprintf(err, errlen, "create switch start pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork the shaping switch: %s", strerror(errno));
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	if (pid == 0) {
		close(ready[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* So that top and ps tell the switch from the harness. */
		prctl(PR_SET_NAME, "anysee-switch");
		/* The switch is the network: when peers compete for the cores it
		 * must not queue frames behind them, or the delays it emulates
		 * grow. Real-time priority where allowed, else a high nice. */
		struct sched_param sp = {.sched_priority = 10};
		if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0)
			(void)setpriority(PRIO_PROCESS, 0, -10);
		struct sigaction sa = {.sa_handler = on_term};
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		char e[512] = "";
		const char *log = testbed_log_path(tb);
		int lfd = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
		if (lfd >= 0)
			dup2(lfd, 2);
		uint32_t n = testbed_nhosts(tb);
		struct switch_port *ports = calloc(n, sizeof(*ports));
		char(*names)[IFNAMSIZ] = calloc(n, sizeof(*names));
		if (!ports || !names || testbed_enter_ns(testbed_hub_ns(tb), e, sizeof(e))) {
			if (!*e)
				snprintf(e, sizeof(e), "out of memory");
			if (write(ready[1], e, strlen(e)) < 0)
				_exit(1);
			_exit(1);
		}
		for (uint32_t i = 0; i < n; i++) {
			snprintf(names[i], sizeof(names[i]), "p%u", i);
			ports[i] = (struct switch_port){names[i], i};
		}
		struct switch_config cfg = {
		    .ports = ports,
		    .nports = n,
		    .model = testbed_model(tb),
		    .seed = 0x5717c4u,
		    .stats = st->stats,
		};
		/* The switch reports readiness by closing the pipe empty, once its
		 * socket is bound (frames sent earlier would be lost); an error is
		 * written into it instead. */
		cfg.ready = close_ready;
		cfg.ready_arg = &ready[1];
		int rc = switch_run(&cfg, &switch_stop, e, sizeof(e));
		if (rc) {
			if (ready[1] >= 0 && write(ready[1], e, strlen(e)) < 0)
				_exit(1);
			fprintf(stderr, "anysee shaping switch: %s\n", e);
		}
		_exit(rc ? 1 : 0);
	}
	close(ready[1]);
	char e[512] = "";
	ssize_t got = read(ready[0], e, sizeof(e) - 1);
	close(ready[0]);
	st->switch_pid = pid;
	if (got > 0) {
		e[got] = 0;
		snprintf(err, errlen, "start the shaping switch: %s", e);
		return -1;
	}
	return 0;
}

static void userspace_stop(struct backend_state *st)
{
	if (st->switch_pid > 0) {
		kill(st->switch_pid, SIGTERM);
		int status;
		for (int i = 0; i < SWITCH_STOP_MS / 10; i++) {
			if (waitpid(st->switch_pid, &status, WNOHANG) == st->switch_pid) {
				st->switch_pid = 0;
				break;
			}
			usleep(10000);
		}
		if (st->switch_pid > 0) {
			kill(st->switch_pid, SIGKILL);
			waitpid(st->switch_pid, NULL, 0);
		}
	}
	if (st->stats)
		munmap(st->stats, sizeof(*st->stats));
}

/* A netlink socket bound in namespace ns (sockets keep the namespace they
 * were created in). */
static struct nl_sock *nl_in_ns(const char *ns, int back_fd, char *err, size_t errlen)
{
	if (testbed_enter_ns(ns, err, errlen))
		return NULL;
	struct nl_sock *sk = nl_socket_alloc();
	int rc = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
	if (rc < 0) {
		snprintf(err, errlen, "netlink socket in %s: %s", ns, nl_geterror(rc));
		nl_socket_free(sk);
		sk = NULL;
	}
	if (setns(back_fd, CLONE_NEWNET) && sk) {
		snprintf(err, errlen, "return from %s: %s", ns, strerror(errno));
		nl_socket_free(sk);
		sk = NULL;
	}
	return sk;
}

static int netem_start(struct testbed *tb, struct backend_state *st, char *err, size_t errlen)
{
	uint32_t n = testbed_nhosts(tb);
	st->n = n;
	st->host_sk = calloc(n, sizeof(*st->host_sk));
	st->hosts = calloc(n, sizeof(*st->hosts));
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (!st->host_sk || !st->hosts || self < 0) {
		snprintf(err, errlen, "netem backend set-up: %s", strerror(errno ? errno : ENOMEM));
		if (self >= 0)
			close(self);
		return -1;
	}
	int rc = -1;
	if (!(st->hub_sk = nl_in_ns(testbed_hub_ns(tb), self, err, errlen)))
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		if (!(st->host_sk[i] = nl_in_ns(testbed_host_ns(tb, i), self, err, errlen)))
			goto out;
		/* The hub end's ifindex, looked up from inside the hub. */
		char ifn[IFNAMSIZ];
		snprintf(ifn, sizeof(ifn), "p%u", i);
		if (testbed_enter_ns(testbed_hub_ns(tb), err, errlen))
			goto out;
		int hub_ifindex = (int)if_nametoindex(ifn);
		if (setns(self, CLONE_NEWNET) || hub_ifindex <= 0) {
			snprintf(err, errlen, "look up %s in the hub: %s", ifn, strerror(errno));
			goto out;
		}
		st->hosts[i] = netem_host_new(i, st->host_sk[i], HOST_IFINDEX, st->hub_sk,
		                              hub_ifindex, err, errlen);
		if (!st->hosts[i])
			goto out;
	}
	rc = 0;
out:
	close(self);
	return rc;
}

static int netem_apply(struct testbed *tb, struct backend_state *st, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < st->n; i++)
		if (netem_host_apply(st->hosts[i], testbed_model(tb), err, errlen))
			return -1;
	return 0;
}

static void netem_stop(struct backend_state *st)
{
	for (uint32_t i = 0; i < st->n; i++) {
		if (st->hosts)
			netem_host_free(st->hosts[i]);
		if (st->host_sk)
			nl_socket_free(st->host_sk[i]);
	}
	free(st->hosts);
	free(st->host_sk);
	nl_socket_free(st->hub_sk);
}

int backend_start(struct testbed *tb, struct backend_state **out, char *err, size_t errlen)
{
	struct backend_state *st = calloc(1, sizeof(*st));
	*out = st;
	if (!st) {
		snprintf(err, errlen, "allocate backend state: out of memory");
		return -1;
	}
	switch (testbed_backend(tb)) {
	case TESTBED_USERSPACE:
		return userspace_start(tb, st, err, errlen);
	case TESTBED_NETEM:
		return netem_start(tb, st, err, errlen);
	default:
		return 0;
	}
}

int backend_apply(struct testbed *tb, struct backend_state *st, char *err, size_t errlen)
{
	/* The switch reads the shared model for every frame: nothing to push. */
	if (st && testbed_backend(tb) == TESTBED_NETEM)
		return netem_apply(tb, st, err, errlen);
	return 0;
}

int backend_stats(struct testbed *tb, struct backend_state *st, char *buf, size_t len)
{
	if (!st || !st->stats)
		return -1;
	switch_stats_format(st->stats, buf, len);
	return 0;
}

void backend_stop(struct testbed *tb, struct backend_state *st)
{
	if (!st)
		return;
	if (testbed_backend(tb) == TESTBED_USERSPACE)
		userspace_stop(st);
	else if (testbed_backend(tb) == TESTBED_NETEM)
		netem_stop(st);
	free(st);
}
