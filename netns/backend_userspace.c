/* The userspace backend: the shaping switch (netns/switch.h) forwards every
 * frame between the hub ends of the veths, in a child process in the hub. */
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
#include <unistd.h>

#include "lib/util.h"
#include "netns/switch.h"

#define SWITCH_STOP_MS 2000
#define SWITCH_SEED 0x5717c4u

struct userspace_backend {
	pid_t pid;
	struct switch_stats *stats; /* shared with the switch process */
};

static volatile sig_atomic_t switch_stop;

static void on_term(int sig)
{
	switch_stop = 1;
}

static void close_ready(void *arg)
{
	int *fd = arg;
	close(*fd);
	*fd = -1;
}

/* The child's process settings, before it enters the hub. */
static void switch_child_setup(const struct testbed *tb)
{
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
	const char *log = testbed_log_path(tb);
	int lfd = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
	if (lfd >= 0)
		dup2(lfd, 2);
}

/* Runs in the child until the switch stops; an error before the switch is
 * ready goes into the start pipe for the parent to report. */
static _Noreturn void switch_child(struct testbed *tb, struct switch_stats *stats, int ready_fd)
{
	switch_child_setup(tb);
	char e[512] = "";
	uint32_t n = testbed_nhosts(tb);
	struct switch_port *ports = calloc(n, sizeof(*ports));
	char(*names)[IFNAMSIZ] = calloc(n, sizeof(*names));
	if (!ports || !names || testbed_enter_ns(testbed_hub_ns(tb), e, sizeof(e))) {
		if (!*e)
			err_set(e, sizeof(e), "out of memory");
		if (write(ready_fd, e, strlen(e)) < 0)
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
	    .seed = SWITCH_SEED,
	    .stats = stats,
	};
	/* The switch reports readiness by closing the pipe empty, once its
	 * socket is bound (frames sent earlier would be lost); an error is
	 * written into it instead. */
	cfg.ready = close_ready;
	cfg.ready_arg = &ready_fd;
	int rc = switch_run(&cfg, &switch_stop, e, sizeof(e));
	if (rc) {
		if (ready_fd >= 0 && write(ready_fd, e, strlen(e)) < 0)
			_exit(1);
		fprintf(stderr, "anysee shaping switch: %s\n", e);
	}
	_exit(rc ? 1 : 0);
}

static void userspace_stop(void *state)
{
	struct userspace_backend *st = state;
	if (st->pid > 0) {
		kill(st->pid, SIGTERM);
		int status;
		for (int i = 0; i < SWITCH_STOP_MS / 10; i++) {
			if (waitpid(st->pid, &status, WNOHANG) == st->pid) {
				st->pid = 0;
				break;
			}
			usleep(10000);
		}
		if (st->pid > 0) {
			kill(st->pid, SIGKILL);
			waitpid(st->pid, NULL, 0);
		}
	}
	if (st->stats)
		munmap(st->stats, sizeof(*st->stats));
	free(st);
}

/* Fork the switch and wait until it reads every port: an empty read of the
 * start pipe. */
static int switch_spawn(struct testbed *tb, struct userspace_backend *st, char *err, size_t errlen)
{
	int ready[2];
	if (pipe2(ready, O_CLOEXEC))
		return err_set(err, errlen, "create switch start pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		err_set(err, errlen, "fork the shaping switch: %s", strerror(errno));
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	if (pid == 0) {
		close(ready[0]);
		switch_child(tb, st->stats, ready[1]);
	}
	close(ready[1]);
	char e[512] = "";
	ssize_t got = read(ready[0], e, sizeof(e) - 1);
	close(ready[0]);
	st->pid = pid;
	if (got > 0) {
		e[got] = 0;
		return err_set(err, errlen, "start the shaping switch: %s", e);
	}
	return 0;
}

/* The switch runs in a child in the hub namespace: a crash there cannot
 * take the harness down, and the harness keeps its own namespace. */
static int userspace_start(struct testbed *tb, void **state, char *err, size_t errlen)
{
	struct userspace_backend *st = calloc(1, sizeof(*st));
	if (!st)
		return err_set(err, errlen, "allocate backend state: out of memory");
	st->stats = mmap(NULL, sizeof(*st->stats), PROT_READ | PROT_WRITE,
	                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st->stats == MAP_FAILED) {
		st->stats = NULL;
		err_set(err, errlen, "map switch counters: %s", strerror(errno));
		userspace_stop(st);
		return -1;
	}
	if (switch_spawn(tb, st, err, errlen)) {
		userspace_stop(st);
		return -1;
	}
	*state = st;
	return 0;
}

static void userspace_stats(void *state, char *buf, size_t len)
{
	struct userspace_backend *st = state;
	switch_stats_format(st->stats, buf, len);
}

const struct backend_ops backend_userspace_ops = {
    .start = userspace_start,
    .stats = userspace_stats,
    .stop = userspace_stop,
};
