#include "harness/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/argv.h"
#include "harness/awake.h"
#include "harness/capture.h"
#include "harness/cpuidle.h"
#include "harness/evqueue.h"
#include "harness/netplan.h"
#include "harness/pause.h"
#include "lib/addr.h"
#include "lib/loop.h"
#include "lib/rundir.h"
#include "lib/util.h"
#include "netns/netem.h"
#include "netns/switch.h"
#include "peer/log.h"

#define STOP_GRACE_US 3000000u

enum hstate { H_IDLE, H_RUNNING, H_LEAVING, H_LEFT, H_CRASHED, H_DIED };

struct runner {
	struct scenario *s;
	const struct run_options *o;
	struct scenario_hooks hooks; /* what the scenario's callbacks act through */
	struct netplan plan;
	struct testbed *tb;
	struct loop *loop;
	struct evqueue queue;
	char dir[1024];
	FILE *hlog;
	pid_t *pid;
	enum hstate *st;
	uint64_t t0;
	int sigfd;
	struct awake awake;       /* the CPUs kept from halting during the loop */
	double awake_s;           /* CPU seconds the spinners used, not the harness's work */
	int awake_held;           /* the CPUs were busy enough: the spinners sleep */
	struct pause_probe pause; /* the machine's own pauses during the loop */
	int probed;               /* pause ran for the whole loop */
	sigset_t oldmask;         /* restored after teardown: Ctrl-C then works at once */
	int masked;
	int interrupted;
	int error;
	char errmsg[512];
	int rp, monitor;
	int joins, leaves, crashes, died;
	struct capture *cap;
	/* Progress read from the peers' event logs as they grow. */
	long *log_off;
	char *playing;
	uint64_t due, on_time;
	int tty;
	/* For emulation validity: the machine's headroom, what the hosts'
	 * processes and the switch used, and the switch's counters. */
	struct cpuidle cpu;
	struct cpuuse hosts_cpu, switch_cpu;
	double exited_cpu_s; /* CPU of the host processes reaped so far */
	struct switch_summary sw;
	int have_sw;
	struct netem_counters kern; /* the kernel's, with the netem backend */
	int have_kern;
	/* cpu.txt: each second's sample, and the readings it was taken from. */
	struct rundir_cpu *cpus;
	size_t ncpus, cpus_cap;
	struct cpuuse hosts_was, switch_was;
};

static double elapsed(const struct runner *r)
{
	return (double)(mono_us() - r->t0) / 1e6;
}

static void hlog(struct runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hlog(struct runner *r, const char *fmt, ...)
{
	if (!r->hlog)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(r->hlog, "%9.3f ", r->t0 ? elapsed(r) : 0.0);
	vfprintf(r->hlog, fmt, ap);
	fputc('\n', r->hlog);
	va_end(ap);
	fflush(r->hlog);
}

static int mkdirs(const char *path)
{
	char tmp[1024];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

static int write_file(const char *dir, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int write_file(const char *dir, const char *name, const char *fmt, ...)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "we");
	if (!f)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	return fclose(f);
}

static int copy_file(const char *from, const char *dir, const char *name)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *in = fopen(from, "re"), *out = fopen(path, "we");
	int rc = in && out ? 0 : -1;
	char buf[8192];
	size_t n;
	while (!rc && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	if (in)
		fclose(in);
	if (out && fclose(out))
		rc = -1;
	return rc;
}

/* "--name ip:port" of host i. */
static void host_addr_opt(struct argv *a, const char *name, int i)
{
	char ip[16];
	addr_ip_str(addr_host_ip((uint32_t)i), ip);
	argv_add(a, name);
	argv_addf(a, "%s:%d", ip, ADDR_PEER_PORT);
}

/* argv of host i: the peer binary, its role and flags. */
static void host_argv(const struct runner *r, int i, struct argv *a)
{
	const struct scenario *s = r->s;
	const struct host_decl *h = &s->h[i];
	int streams = h->role == HOST_SOURCE || h->role == HOST_PEER;
	argv_add(a, r->o->peer_bin);
	argv_add(a, scenario_role_name(h->role));
	host_addr_opt(a, "--listen", i);
	argv_add(a, "--id");
	argv_addf(a, "%d", i + 1);
	argv_add(a, "--seed");
	argv_addf(a, "%llu", (unsigned long long)(s->seed * 1000003u + (uint64_t)i));
	char hdir[1200];
	argv_add(a, "--log-dir");
	if (rundir_host_path(hdir, sizeof(hdir), r->dir, h->name, NULL))
		a->failed = 1;
	else
		argv_add(a, hdir);
	if (streams) {
		host_addr_opt(a, "--rp", r->rp);
		if (r->monitor >= 0)
			host_addr_opt(a, "--monitor", r->monitor);
	}
	if (streams && h->access.up_bps) {
		/* The peer sizes its push slots on the uplink it really has. */
		argv_add(a, "--upload");
		argv_addf(a, "%llu", (unsigned long long)h->access.up_bps);
	}
	if (h->role == HOST_SOURCE) {
		argv_opt(a, "--stream", h->stream);
		argv_opt(a, "--rate", h->rate);
		argv_opt(a, "--ingest", h->ingest);
	}
	if (h->role == HOST_ATTACKER) {
		host_addr_opt(a, "--rp", r->rp);
		argv_opt(a, "--watch", h->stream);
		argv_opt(a, "--kind", h->kind);
		host_addr_opt(a, "--target", h->target);
		argv_add(a, "--pps");
		argv_addf(a, "%ld", h->pps);
	}
	if (h->role == HOST_PEER) {
		argv_opt(a, "--watch", h->stream);
		argv_opt(a, "--mode", h->mode);
		if (*h->buffer)
			argv_opt(a, "--buffer", h->buffer);
		if (*h->startup)
			argv_opt(a, "--startup", h->startup);
	}
	for (int k = 0; k < h->nargs; k++)
		argv_add(a, h->args[k]);
}

/* What a forked child needs, all opened by the parent (close-on-exec) so
 * that the child makes only async-signal-safe calls before exec. */
struct child_fds {
	int out, err, null, ns;
};

static void close_child_fds(struct child_fds *c)
{
	int *fds[] = {&c->out, &c->err, &c->null, &c->ns};
	for (size_t i = 0; i < ARRAY_LEN(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
}

static int open_child_fds(const char *hdir, const char *ns, struct child_fds *c, char *err,
                          size_t errlen)
{
	char path[1300];
	*c = (struct child_fds){-1, -1, -1, -1};
	snprintf(path, sizeof(path), "%s/stdout.log", hdir);
	c->out = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (c->out >= 0) {
		snprintf(path, sizeof(path), "%s/" RUNDIR_HOST_STDERR, hdir);
		c->err = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	}
	if (c->err >= 0)
		c->null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (c->null < 0) {
		int e = errno;
		close_child_fds(c);
		return err_set(err, errlen, "open %s: %s", path, strerror(e));
	}
	c->ns = testbed_ns_open(ns, err, errlen);
	if (c->ns < 0) {
		close_child_fds(c);
		return -1;
	}
	return 0;
}

/* "anysee-harness: <what> <name> (errno N)" on stderr with write(2) only:
 * safe in a forked child. */
static void child_fail(const char *what, const char *name, int e)
{
	char num[16];
	int k = sizeof(num);
	num[--k] = 0;
	do
		num[--k] = (char)('0' + e % 10);
	while ((e /= 10) && k > 0);
	const char *parts[] = {"anysee-harness: ", what, " ", name, " (errno ", num + k, ")\n"};
	for (size_t i = 0; i < ARRAY_LEN(parts); i++) {
		ssize_t n = write(2, parts[i], strlen(parts[i]));
		(void)n;
	}
}

/* In the forked child: the host's log files as output, its namespace, the
 * peer binary. dup2 leaves the copies without close-on-exec. */
static void exec_host(const struct child_fds *c, char **argv) __attribute__((noreturn));
static void exec_host(const struct child_fds *c, char **argv)
{
	/* A harness that dies must not leave peers running. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(c->out, 1) < 0 || dup2(c->err, 2) < 0 || dup2(c->null, 0) < 0)
		_exit(126);
	if (setns(c->ns, CLONE_NEWNET)) {
		child_fail("enter the network namespace of", argv[0], errno);
		_exit(126);
	}
	/* Whatever a library opened without close-on-exec (libpcap's socket,
	 * a dump file) stays with the harness. */
	close_range(3, ~0u, 0);
	execv(argv[0], argv);
	child_fail("exec", argv[0], errno);
	_exit(127);
}

static int start_host(struct runner *r, int i, char *err, size_t errlen)
{
	const struct host_decl *h = &r->s->h[i];
	if (r->st[i] == H_RUNNING || r->st[i] == H_LEAVING)
		return err_set(err, errlen, "host %s is already running", h->name);
	char hdir[1200], e[512];
	if (rundir_host_path(hdir, sizeof(hdir), r->dir, h->name, NULL))
		return err_set(err, errlen, "host directory of %s under %s: path too long", h->name,
		               r->dir);
	if (mkdirs(hdir))
		return err_set(err, errlen, "create host directory %s: %s", hdir, strerror(errno));
	struct child_fds fds;
	if (open_child_fds(hdir, testbed_host_ns(r->tb, (uint32_t)i), &fds, e, sizeof(e)))
		return err_set(err, errlen, "start host %s: %s", h->name, e);
	struct argv a;
	argv_init(&a);
	host_argv(r, i, &a);
	pid_t pid = a.failed ? -1 : fork();
	if (pid == 0)
		exec_host(&fds, a.v);
	int fork_errno = a.failed ? ENOMEM : errno;
	argv_free(&a);
	close_child_fds(&fds);
	if (pid < 0)
		return err_set(err, errlen, "start host %s: %s", h->name, strerror(fork_errno));
	r->pid[i] = pid;
	r->st[i] = H_RUNNING;
	if (h->role == HOST_PEER)
		r->joins++;
	hlog(r, "start %s role=%s pid=%d", h->name, scenario_role_name(h->role), (int)pid);
	return 0;
}

/* The peer's log as flushed so far (once a second): the parent of its
 * last path_up, unless a path_cut came after. Ids are host index + 1. */
static int push_parent_action(void *arg, int i)
{
	struct runner *r = arg;
	char path[1200];
	if (rundir_host_path(path, sizeof(path), r->dir, r->s->h[i].name, EVLOG_FILE))
		return -1;
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[1024];
	uint64_t parent = 0;
	struct evlog_line e;
	while (fgets(line, sizeof(line), f)) {
		if (evlog_parse(line, &e))
			continue;
		if (!strcmp(e.event, LOGEV_PATH_UP) && evlog_get_u64(&e, LOGK_PARENT, &parent))
			parent = 0;
		else if (!strcmp(e.event, LOGEV_PATH_CUT))
			parent = 0;
	}
	fclose(f);
	int p = (int)parent - 1;
	return parent && p < r->s->nh && r->st[p] == H_RUNNING ? p : -1;
}

static int host_action(void *arg, int i, enum event_kind kind, char *err, size_t errlen)
{
	struct runner *r = arg;
	const struct host_decl *h = &r->s->h[i];
	if (kind == EV_START)
		return start_host(r, i, err, errlen);
	if (r->st[i] != H_RUNNING) {
		hlog(r, "%s %s: not running, ignored", kind == EV_LEAVE ? "leave" : "crash",
		     h->name);
		return 0;
	}
	if (kind == EV_LEAVE) {
		kill(r->pid[i], SIGTERM);
		r->st[i] = H_LEAVING;
		r->leaves++;
		hlog(r, "leave %s pid=%d", h->name, (int)r->pid[i]);
	} else {
		uint64_t t = real_us();
		kill(r->pid[i], SIGKILL);
		r->st[i] = H_CRASHED;
		r->crashes++;
		hlog(r, "crash %s pid=%d", h->name, (int)r->pid[i]);
		/* The analysis times the failover from here. */
		char hdir[1200];
		if (rundir_host_path(hdir, sizeof(hdir), r->dir, h->name, NULL) ||
		    evlog_append_killed(hdir, t))
			hlog(r, "crash %s: the kill not noted in its log: %s", h->name,
			     strerror(errno));
	}
	return 0;
}

static int link_action(void *arg, int i, const struct link_change *c, char *err, size_t errlen)
{
	struct runner *r = arg;
	struct linkmodel *m = testbed_model(r->tb);
	m->host[i] = c->access;
	if (c->delay_us >= 0)
		netplan_set_access_delay(&r->plan, m, (uint32_t)i, (uint32_t)c->delay_us);
	hlog(r, "link %s: up=%llu down=%llu loss=%g jitter_us=%u access_delay_us=%u",
	     r->s->h[i].name, (unsigned long long)c->access.up_bps,
	     (unsigned long long)c->access.down_bps, c->access.loss, c->access.jitter_us,
	     r->plan.access_us[i]);
	return testbed_apply(r->tb, err, errlen);
}

static int partition_action(void *arg, const uint32_t *label, char *err, size_t errlen)
{
	struct runner *r = arg;
	struct linkmodel *m = testbed_model(r->tb);
	int groups = 0;
	for (int i = 0; i < r->s->nh; i++) {
		m->host[i].partition = label[i];
		if ((int)label[i] > groups)
			groups = (int)label[i];
	}
	hlog(r, groups ? "partition into %d groups" : "partition healed", groups);
	return testbed_apply(r->tb, err, errlen);
}

/* Fire one event; an every() callback is queued again one period later. */
static int fire(struct runner *r, struct sched_event e, char *err, size_t errlen)
{
	struct scenario *s = r->s;
	if (e.kind != EV_CALL && e.kind != EV_EVERY)
		return host_action(r, e.host, e.kind, err, errlen);
	int rc = scenario_call(s, e.ref, &r->hooks, err, errlen);
	if (e.kind == EV_EVERY && e.t + e.period <= s->duration) {
		e.t += e.period;
		if (evqueue_push(&r->queue, e, err, errlen))
			return -1;
	}
	return rc;
}

static uint64_t events_timer(struct loop *l, void *arg)
{
	struct runner *r = arg;
	struct scenario *s = r->s;
	char err[1024];
	const struct sched_event *next;
	while ((next = evqueue_peek(&r->queue)) && next->t <= elapsed(r) + 0.0005) {
		struct sched_event e;
		evqueue_pop(&r->queue, &e);
		if (e.t > s->duration)
			break;
		if (fire(r, e, err, sizeof(err))) {
			snprintf(r->errmsg, sizeof(r->errmsg), "%s", err);
			r->error = 1;
			hlog(r, "error: %s", err);
			loop_stop(l);
			return 0;
		}
	}
	next = evqueue_peek(&r->queue);
	if (!next || next->t > s->duration)
		return 0;
	double dt = next->t - elapsed(r);
	return dt > 0 ? (uint64_t)(dt * 1e6) + 1 : 1;
}

static uint64_t end_timer(struct loop *l, void *arg)
{
	struct runner *r = arg;
	hlog(r, "duration %.3f s reached", r->s->duration);
	loop_stop(l);
	return 0;
}

static int count_state(const struct runner *r, enum hstate st)
{
	int n = 0;
	for (int i = 0; i < r->s->nh; i++)
		n += r->st[i] == st;
	return n;
}

/* Read what the peers appended to their event logs since the last look:
 * who plays, and continuity so far. */
/* Live progress from the peers' event logs: who plays, and the on-time
 * share so far. Reads only whole lines, from where the last scan ended. */
static void scan_logs(struct runner *r)
{
	char path[1200], line[512];
	for (int i = 0; i < r->s->nh; i++) {
		if (r->s->h[i].role != HOST_PEER || r->st[i] == H_IDLE)
			continue;
		if (rundir_host_path(path, sizeof(path), r->dir, r->s->h[i].name, EVLOG_FILE))
			continue;
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		if (fseek(f, r->log_off[i], SEEK_SET) == 0) {
			while (fgets(line, sizeof(line), f)) {
				size_t len = strlen(line);
				if (!len || line[len - 1] != '\n')
					break; /* a line still being written: read it next time */
				r->log_off[i] += (long)len;
				struct evlog_line e;
				uint64_t due, on;
				if (evlog_parse(line, &e))
					continue;
				if (!strcmp(e.event, LOGEV_START)) {
					r->playing[i] = 0;
				} else if (!strcmp(e.event, LOGEV_PLAY_START)) {
					r->playing[i] = 1;
				} else if (!strcmp(e.event, LOGEV_TICK) &&
				           !evlog_get_u64(&e, LOGK_DUE, &due) &&
				           !evlog_get_u64(&e, LOGK_ON_TIME, &on)) {
					r->due += due;
					r->on_time += on;
				}
			}
		}
		fclose(f);
	}
}

static uint64_t progress_timer(struct loop *l, void *arg)
{
	struct runner *r = arg;
	if (r->o->quiet)
		return 0;
	scan_logs(r);
	int playing = 0;
	for (int i = 0; i < r->s->nh; i++)
		playing += r->playing[i] && r->st[i] == H_RUNNING;
	char line[320], cont[32] = "-", late[32] = "-", idle[32] = "-";
	if (r->due)
		snprintf(cont, sizeof(cont), "%.4f", (double)r->on_time / (double)r->due);
	if (r->have_sw && r->sw.late_n)
		snprintf(late, sizeof(late), "%.2f ms", (double)r->sw.late_p99_ns / 1e6);
	if (r->cpu.samples)
		snprintf(idle, sizeof(idle), "%.0f%%", 100 * r->cpu.last);
	snprintf(line, sizeof(line),
	         "[%6.1f/%.0f s] hosts up %d/%d, playing %d, joins %d, leaves %d, crashes %d, "
	         "died %d, continuity %s, lateness p99 %s, idle %s",
	         elapsed(r), r->s->duration, count_state(r, H_RUNNING), r->s->nh, playing, r->joins,
	         r->leaves, r->crashes, r->died, cont, late, idle);
	if (r->tty)
		fprintf(stderr, "\r%s\033[K", line);
	else
		fprintf(stderr, "%s\n", line);
	return r->tty ? 1000000u : 10000000u;
}

static void reap(struct runner *r)
{
	int status;
	pid_t pid;
	struct rusage ru;
	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
		for (int i = 0; i < r->s->nh; i++) {
			if (r->pid[i] != pid)
				continue;
			const char *name = r->s->h[i].name;
			char how[128];
			int hl;
			if (WIFEXITED(status))
				hl = snprintf(how, sizeof(how), "exit %d", WEXITSTATUS(status));
			else
				hl = snprintf(how, sizeof(how), "signal %d", WTERMSIG(status));
			/* What the process cost, for the per-peer CPU and memory figures. */
			double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
			             (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
			r->exited_cpu_s += cpu;
			snprintf(how + hl, sizeof(how) - (size_t)hl, " cpu_s=%.3f maxrss_kb=%ld",
			         cpu, ru.ru_maxrss);
			if (r->st[i] == H_RUNNING) {
				/* Unexpected: recorded, never fatal to the run. */
				r->st[i] = H_DIED;
				r->died++;
				hlog(r, "died %s pid=%d %s (see hosts/%s/stderr.log)", name,
				     (int)pid, how, name);
			} else {
				if (r->st[i] == H_LEAVING)
					r->st[i] = H_LEFT;
				hlog(r, "exited %s pid=%d %s", name, (int)pid, how);
			}
			r->pid[i] = 0;
		}
	}
}

static void on_sigchld(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == sizeof(si))
		;
	reap(arg);
}

static int on_signal(struct loop *l, int sig, void *arg)
{
	struct runner *r = arg;
	r->interrupted = 1;
	hlog(r, "interrupted by signal %d", sig);
	return 1;
}

/* SIGTERM everything, give it a grace period, SIGKILL the rest, reap. */
static void stop_all(struct runner *r)
{
	int live = 0;
	if (*r->dir)
		write_file(r->dir, RUNDIR_STOPPED, "%llu\n", (unsigned long long)real_us());
	for (int i = 0; i < r->s->nh; i++) {
		if (r->pid[i] > 0) {
			kill(r->pid[i], SIGTERM);
			if (r->st[i] == H_RUNNING)
				r->st[i] = H_LEAVING;
			live++;
		}
	}
	uint64_t until = mono_us() + STOP_GRACE_US;
	while (live && mono_us() < until) {
		usleep(10000);
		reap(r);
		live = 0;
		for (int i = 0; i < r->s->nh; i++)
			live += r->pid[i] > 0;
	}
	for (int i = 0; i < r->s->nh; i++) {
		if (r->pid[i] > 0) {
			hlog(r, "kill %s pid=%d after %u ms grace", r->s->h[i].name, (int)r->pid[i],
			     STOP_GRACE_US / 1000);
			kill(r->pid[i], SIGKILL);
			waitpid(r->pid[i], NULL, 0);
			r->pid[i] = 0;
		}
	}
}

static int write_hosts(const char *dir, const struct scenario *s, char *err, size_t errlen)
{
	struct rundir_host *h = calloc((size_t)s->nh + 1, sizeof(*h));
	if (!h)
		return err_set(err, errlen, "write %s/%s: out of memory", dir, RUNDIR_HOSTS);
	for (int i = 0; i < s->nh; i++) {
		snprintf(h[i].name, sizeof(h[i].name), "%s", s->h[i].name);
		snprintf(h[i].role, sizeof(h[i].role), "%s", scenario_role_name(s->h[i].role));
		addr_ip_str(addr_host_ip((uint32_t)i), h[i].ip);
		snprintf(h[i].stream, sizeof(h[i].stream), "%s", s->h[i].stream);
	}
	int rc = rundir_hosts_write(dir, h, s->nh, err, errlen);
	free(h);
	return rc;
}

static int prepare_dir(struct runner *r, char *err, size_t errlen)
{
	const struct scenario *s = r->s;
	if (r->o->out_dir) {
		snprintf(r->dir, sizeof(r->dir), "%s", r->o->out_dir);
	} else {
		char ts[32];
		time_t now = time(NULL);
		strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", localtime(&now));
		snprintf(r->dir, sizeof(r->dir), "runs/%s-%s", s->name, ts);
	}
	/* A run into a directory that holds one would mix the two: a host's
	 * logs are appended to (a peer that rejoins keeps its logs), so the
	 * analysis would read both runs as one, and the earlier run's files
	 * would be lost under the new ones. */
	char held[1200];
	snprintf(held, sizeof(held), "%s/" RUNDIR_HARNESS_LOG, r->dir);
	if (access(held, F_OK) == 0)
		return err_set(err, errlen,
		               "run directory %s already holds a run (%s): remove it or give "
		               "another with --out",
		               r->dir, RUNDIR_HARNESS_LOG);
	if (mkdirs(r->dir))
		return err_set(err, errlen, "create run directory %s: %s", r->dir, strerror(errno));
	char path[1200];
	snprintf(path, sizeof(path), "%s/" RUNDIR_HARNESS_LOG, r->dir);
	r->hlog = fopen(path, "we");
	if (!r->hlog || copy_file(s->path, r->dir, RUNDIR_SCENARIO))
		return err_set(err, errlen, "write run directory %s: %s", r->dir, strerror(errno));
	write_file(r->dir, RUNDIR_SEED, "%llu\n", (unsigned long long)s->seed);
	char sets[4096] = "";
	for (int i = 0; i < r->o->nsets; i++)
		snprintf(sets + strlen(sets), sizeof(sets) - strlen(sets), "%s\n", r->o->sets[i]);
	write_file(r->dir, RUNDIR_PARAMS, "%s", sets);
	snprintf(path, sizeof(path), "%s/" RUNDIR_SCHEDULE, r->dir);
	scenario_write_schedule(s, path);
	return write_hosts(r->dir, s, err, errlen);
}

/* Everything a dry run does too: the host tables, the run directory, the
 * event queue and the network plan. */
static int prepare(struct runner *r, char *rundir, size_t rundirlen, char *err, size_t errlen)
{
	const struct scenario *s = r->s;
	r->tty = isatty(2);
	r->pid = calloc((size_t)s->nh, sizeof(*r->pid));
	r->log_off = calloc((size_t)s->nh, sizeof(*r->log_off));
	r->playing = calloc((size_t)s->nh, sizeof(*r->playing));
	r->st = calloc((size_t)s->nh, sizeof(*r->st));
	if (!r->pid || !r->st || !r->log_off || !r->playing)
		return err_set(err, errlen, "allocate the state of %d hosts: out of memory", s->nh);
	for (int i = 0; i < s->nh; i++) {
		if (s->h[i].role == HOST_RP)
			r->rp = i;
		if (s->h[i].role == HOST_MONITOR)
			r->monitor = i;
	}
	if (access(r->o->peer_bin, X_OK))
		return err_set(err, errlen, "peer binary %s: %s", r->o->peer_bin, strerror(errno));
	if (prepare_dir(r, err, errlen))
		return -1;
	snprintf(rundir, rundirlen, "%s", r->dir);

	/* Signals are blocked from here so an interrupt during set-up is seen by
	 * the loop and still leads to a full teardown. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, &r->oldmask);
	r->masked = 1;

	if (evqueue_init(&r->queue, s->sched, s->nsched, err, errlen))
		return -1;
	return netplan_build(&r->plan, s, r->dir, err, errlen);
}

static int create_testbed(struct runner *r, char *err, size_t errlen)
{
	const struct scenario *s = r->s;
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "%s%x", TESTBED_PREFIX, (unsigned)getpid());
	const char **names = calloc((size_t)s->nh, sizeof(*names));
	if (!names)
		return err_set(err, errlen, "create the testbed of %d hosts: out of memory", s->nh);
	for (int i = 0; i < s->nh; i++)
		names[i] = s->h[i].name;
	char swlog[1100];
	snprintf(swlog, sizeof(swlog), "%s/" RUNDIR_SWITCH_LOG, r->dir);
	struct testbed_config tc = {
	    .log_path = swlog,
	    .prefix = prefix,
	    .nhosts = (uint32_t)s->nh,
	    .names = names,
	    .backend = r->o->backend_forced ? r->o->backend : s->backend,
	};
	hlog(r, "creating %d hosts, prefix %s", s->nh, prefix);
	uint64_t c0 = mono_us();
	int rc = testbed_create(&tc, &r->tb, err, errlen);
	free(names);
	if (rc)
		return -1;
	netplan_fill_model(&r->plan, s, testbed_model(r->tb));
	if (testbed_apply(r->tb, err, errlen))
		return -1;
	hlog(r, "testbed up in %.3f s, backend %s", (double)(mono_us() - c0) / 1e6,
	     testbed_backend_name(testbed_backend(r->tb)));
	write_file(r->dir, RUNDIR_BACKEND, "%s\n", testbed_backend_name(testbed_backend(r->tb)));
	return 0;
}

static int start_capture(struct runner *r, char *err, size_t errlen)
{
	const struct scenario *s = r->s;
	char cpath[1100];
	snprintf(cpath, sizeof(cpath), "%s/" RUNDIR_CAPTURE, r->dir);
	r->cap = capture_start(testbed_hub_ns(r->tb), cpath, s->snaplen, NULL, s->capture_max, err,
	                       errlen);
	if (!r->cap)
		return -1;
	hlog(r, "capture on, snap length %d, cap %llu bytes", s->snaplen,
	     (unsigned long long)s->capture_max);
	return 0;
}

static int open_loop(struct runner *r, char *err, size_t errlen)
{
	r->loop = loop_new();
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	r->sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (!r->loop || r->sigfd < 0 || loop_add_fd(r->loop, r->sigfd, EPOLLIN, on_sigchld, r))
		return err_set(err, errlen, "set up harness event loop: %s", strerror(errno));
	return 0;
}

static int set_up(struct runner *r, char *rundir, size_t rundirlen, char *err, size_t errlen)
{
	if (prepare(r, rundir, rundirlen, err, errlen))
		return -1;
	if (r->o->dry_run) {
		hlog(r, "dry run: topology and schedule resolved, nothing started");
		return 0;
	}
	if (create_testbed(r, err, errlen))
		return -1;
	if (r->s->capture && start_capture(r, err, errlen))
		return -1;
	return open_loop(r, err, errlen);
}

/* What the hosts' processes (running ones from /proc, reaped ones from
 * wait4) and the switch have used so far, and the backend's counters (its
 * one line of key=value pairs: the switch's, or netem's kernel counters).
 * The kernel's cost a netlink dump per namespace, so they are read only
 * when final; the switch's every time, for its CPU. */
static void sample_procs(struct runner *r, int final)
{
	uint64_t from = mono_us();
	double hosts = r->exited_cpu_s, s;
	for (int i = 0; i < r->s->nh; i++)
		if (r->pid[i] > 0 && cpuidle_proc_seconds(r->pid[i], &s) == 0)
			hosts += s;
	cpuuse_add(&r->hosts_cpu, hosts, from, mono_us());
	if (!final && testbed_backend(r->tb) == TESTBED_NETEM)
		return;
	char line[512];
	int have = testbed_stats(r->tb, line, sizeof(line)) == 0;
	r->have_sw = have && switch_stats_parse(line, &r->sw) == 0;
	r->have_kern = have && !r->have_sw && netem_counters_parse(line, &r->kern) == 0;
	/* The switch publishes its CPU time when it wakes, every 10 ms at
	 * most, stamped with when it read it: that stamp times the figure
	 * (none yet before its loop's first turn). */
	if (r->have_sw && r->sw.cpu_at_us)
		cpuuse_add(&r->switch_cpu, (double)r->sw.cpu_ms / 1e3, r->sw.cpu_at_us,
		           r->sw.cpu_at_us);
}

/* The spinners' CPU time so far, as /proc/stat jiffies. */
static uint64_t awake_jiffies(const struct runner *r)
{
	return r->awake.n ? (uint64_t)(awake_cpu_s(&r->awake) * (double)sysconf(_SC_CLK_TCK)) : 0;
}

/* Cores used between two readings of a group; -1 (not known) without a
 * new reading, or when it took too long to time the interval (what the
 * busiest interval leaves out, cpuuse_add). */
static double cores_between(const struct cpuuse *was, const struct cpuuse *now)
{
	if (!was->have || !now->have || now->last_us <= was->last_us || now->last_smeared)
		return -1;
	return (now->last_s - was->last_s) / ((double)(now->last_us - was->last_us) / 1e6);
}

/* This second's line of cpu.txt (RUNDIR_CPU), for the idle share read at
 * `at` (wall clock). */
static void keep_cpu_sample(struct runner *r, uint64_t at)
{
	if (r->ncpus == r->cpus_cap) {
		size_t cap = r->cpus_cap ? 2 * r->cpus_cap : 128;
		struct rundir_cpu *c = realloc(r->cpus, cap * sizeof(*c));
		if (!c)
			return; /* the timeline has a gap; the run goes on */
		r->cpus = c;
		r->cpus_cap = cap;
	}
	r->cpus[r->ncpus++] = (struct rundir_cpu){
	    .ts_us = at,
	    .idle = r->cpu.last,
	    .hosts = cores_between(&r->hosts_was, &r->hosts_cpu),
	    .sw = r->have_sw ? cores_between(&r->switch_was, &r->switch_cpu) : -1,
	};
}

static uint64_t cpu_timer(struct loop *l, void *arg)
{
	struct runner *r = arg;
	uint64_t samples = r->cpu.samples, at = real_us();
	r->cpu.extra_idle = awake_jiffies(r);
	if (cpuidle_sample(&r->cpu) == 0 && r->cpu.samples && r->awake.n) {
		int want = awake_wanted(1 - r->cpu.last);
		if (want == r->awake_held) {
			awake_hold(&r->awake, !want);
			r->awake_held = !want;
			hlog(r, "%s the SCHED_IDLE spinners: the CPUs were %.0f%% busy",
			     want ? "restart" : "hold", 100 * (1 - r->cpu.last));
		}
	}
	r->hosts_was = r->hosts_cpu;
	r->switch_was = r->switch_cpu;
	sample_procs(r, 0);
	if (r->cpu.samples > samples)
		keep_cpu_sample(r, at);
	return 1000000u;
}

/* The switch's part of the record: CPU, lateness and drops by cause. */
static void emulation_switch(const struct runner *r, struct rundir_emulation *e)
{
	const struct switch_summary *w = &r->sw;
	e->have_switch = r->have_sw;
	if (!r->have_sw)
		return;
	e->switch_cpu_mean = cpuuse_mean(&r->switch_cpu);
	e->switch_cpu_max = r->switch_cpu.max;
	e->late_p50_us = (double)w->late_p50_ns / 1e3;
	e->late_p99_us = (double)w->late_p99_ns / 1e3;
	e->late_max_us = (double)w->late_max_ns / 1e3;
	/* ARP is answered outside the model; unknown destinations never
	 * enter it. */
	e->frames = w->rx - w->arp_replies - w->drop_unknown;
	e->drop_queue = w->drop_queue;
	e->drop_loss = w->drop_loss;
	e->drop_partition = w->drop_partition;
	e->drop_send = w->tx_errors;
	e->drop_receive = w->drop_kernel;
	e->drop_nobuf = w->drop_nobuf;
}

/* The kernel's qdisc counters, with the netem backend. */
static void emulation_kernel(const struct runner *r, struct rundir_emulation *e)
{
	const struct netem_counters *k = &r->kern;
	e->have_kernel = r->have_kern;
	e->kernel_packets = k->packets;
	e->kernel_loss_packets = k->loss_packets;
	e->kernel_drop_loss = k->drop_loss;
	e->kernel_drop_upload = k->drop_upload;
	e->kernel_drop_download = k->drop_download;
	e->kernel_drop_partition = k->drop_partition;
	e->kernel_overlimits = k->overlimits;
}

/* What the emulation's own load was, for the analysis to judge. */
static void write_emulation(struct runner *r)
{
	if (!r->cpu.samples)
		return;
	sample_procs(r, 1);
	struct rundir_emulation e = {
	    .cpu_idle_mean = r->cpu.sum / (double)r->cpu.samples,
	    .cpu_idle_min = r->cpu.min,
	    .samples = r->cpu.samples,
	    .hosts_cpu_mean = cpuuse_mean(&r->hosts_cpu),
	    .hosts_cpu_max = r->hosts_cpu.max,
	    .hosts_cpu_smeared = r->hosts_cpu.smeared,
	};
	emulation_switch(r, &e);
	emulation_kernel(r, &e);
	char err[512];
	if (rundir_cpu_write(r->dir, r->cpus, r->ncpus, err, sizeof(err)))
		hlog(r, "the machine's load by second not written: %s", err);
	if (r->probed) {
		size_t n, seen;
		const struct rundir_pause *ev = pause_events(&r->pause, &n, &seen);
		e.have_pauses = 1;
		e.pauses = seen;
		for (size_t i = 0; i < n; i++)
			if ((double)ev[i].late_us > e.pause_max_us)
				e.pause_max_us = (double)ev[i].late_us;
		if (rundir_pauses_write(r->dir, ev, n, err, sizeof(err)))
			hlog(r, "machine pauses not written: %s", err);
		else if (seen)
			hlog(
			    r,
			    "the machine paused %zu times for %u ms or more, the longest %.0f ms%s",
			    seen, PAUSE_MIN_US / 1000, e.pause_max_us / 1000,
			    seen > n ? " (only the first ones listed)" : "");
	}
	if (rundir_emulation_write(r->dir, &e, err, sizeof(err)))
		hlog(r, "emulation record not written: %s", err);
	else
		hlog(r,
		     "CPU idle over the run: mean %.1f%%, lowest second %.1f%%; hosts %.2f cores, "
		     "switch %.2f cores",
		     100 * e.cpu_idle_mean, 100 * e.cpu_idle_min, e.hosts_cpu_mean,
		     e.switch_cpu_mean);
}

/* Fire the schedule in real time until the duration, an interrupt or a
 * scenario error. */
static int run_loop(struct runner *r, char *err, size_t errlen)
{
	r->hooks = (struct scenario_hooks){.ctx = r,
	                                   .host = host_action,
	                                   .link = link_action,
	                                   .partition = partition_action,
	                                   .push_parent = push_parent_action};
	r->t0 = mono_us();
	hlog(r, "run starts, duration %.3f s", r->s->duration);
	loop_add_timer(r->loop, 0, events_timer, r);
	loop_add_timer(r->loop, (uint64_t)(r->s->duration * 1e6), end_timer, r);
	loop_add_timer(r->loop, 1000000u, progress_timer, r);
	char e[256];
	if (!r->o->let_cpus_idle && awake_start(&r->awake, e, sizeof(e)))
		hlog(r, "CPUs may halt between frames: %s", e);
	else if (!r->o->let_cpus_idle)
		hlog(r, "%d SCHED_IDLE spinners keep the CPUs awake", r->awake.n);
	if (pause_start(&r->pause, e, sizeof(e)))
		hlog(r, "the machine's own pauses are not told from the hosts' stalls: %s", e);
	else
		r->probed = 1;
	cpuidle_sample(&r->cpu);
	sample_procs(r, 0);
	loop_add_timer(r->loop, 1000000u, cpu_timer, r);
	loop_run(r->loop, on_signal, r);
	pause_stop(&r->pause);
	write_emulation(r);
	if (!r->o->quiet && r->tty)
		fputc('\n', stderr);
	if (r->error)
		return err_set(err, errlen, "%s", r->errmsg);
	return 0;
}

static void stop_capture(struct runner *r)
{
	struct capture_stats cs;
	char cerr[256] = "";
	int crc = capture_stop(r->cap, &cs, cerr, sizeof(cerr));
	r->cap = NULL;
	hlog(r,
	     "capture: %llu packets, %llu bytes, %llu dropped by the kernel, %llu over the "
	     "size cap%s%s",
	     (unsigned long long)cs.packets, (unsigned long long)cs.bytes,
	     (unsigned long long)cs.kernel_drops, (unsigned long long)cs.capped, crc ? "; " : "",
	     cerr);
}

static void destroy_testbed(struct runner *r)
{
	char stats[512];
	if (testbed_stats(r->tb, stats, sizeof(stats)) == 0)
		hlog(r, "%s: %s",
		     testbed_backend(r->tb) == TESTBED_NETEM ? "kernel qdiscs" : "switch", stats);
	uint64_t d0 = mono_us();
	testbed_destroy(r->tb);
	r->tb = NULL;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	             (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6 - r->awake_s;
	hlog(r, "harness CPU %.2f s over %.1f s (%.2f%% of a core)", cpu, elapsed(r),
	     r->t0 ? 100.0 * cpu / elapsed(r) : 0.0);
	hlog(r, "testbed removed in %.3f s; joins %d, leaves %d, crashes %d, died %d",
	     (double)(mono_us() - d0) / 1e6, r->joins, r->leaves, r->crashes, r->died);
}

/* Whatever set_up got to, undone: processes, capture, testbed, files. */
static void tear_down(struct runner *r)
{
	if (r->awake.n) {
		r->awake_s = awake_cpu_s(&r->awake);
		awake_stop(&r->awake);
	}
	pause_stop(&r->pause);
	pause_free(&r->pause);
	if (r->pid && r->st)
		stop_all(r);
	if (r->cap)
		stop_capture(r);
	if (r->tb)
		destroy_testbed(r);
	if (r->sigfd >= 0)
		close(r->sigfd);
	loop_free(r->loop);
	if (r->hlog)
		fclose(r->hlog);
	if (r->masked)
		sigprocmask(SIG_SETMASK, &r->oldmask, NULL);
	free(r->pid);
	free(r->st);
	free(r->log_off);
	free(r->playing);
	free(r->cpus);
	evqueue_free(&r->queue);
	netplan_free(&r->plan);
}

int runner_run(struct scenario *s, const struct run_options *o, char *rundir, size_t rundirlen,
               int *interrupted, char *err, size_t errlen)
{
	struct runner r = {.s = s, .o = o, .sigfd = -1, .rp = -1, .monitor = -1};
	int rc = set_up(&r, rundir, rundirlen, err, errlen);
	if (rc == 0 && !o->dry_run)
		rc = run_loop(&r, err, errlen);
	*interrupted = rc == 0 && r.interrupted;
	tear_down(&r);
	return rc;
}
