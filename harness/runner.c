#include "harness/runner.h"

#include <errno.h>
#include <fcntl.h>
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

#include "harness/capture.h"
#include "harness/netplan.h"
#include "lib/addr.h"
#include "lib/loop.h"
#include "lib/rundir.h"
#include "lib/util.h"
#include "peer/log.h"

#define STOP_GRACE_US 3000000u

enum hstate { H_IDLE, H_RUNNING, H_LEAVING, H_LEFT, H_CRASHED, H_DIED };

struct runner {
	struct scenario *s;
	const struct run_options *o;
	struct testbed *tb;
	struct loop *loop;
	char dir[1024];
	FILE *hlog;
	pid_t *pid;
	enum hstate *st;
	uint64_t t0;
	int next_ev;
	int sigfd;
	int interrupted;
	int error;
	char errmsg[512];
	int rp, monitor;
	int joins, leaves, crashes, died;
	uint32_t *access_us; /* each host's access delay, part of its matrix row and column */
	struct capture *cap;
	/* Progress read from the peers' event logs as they grow. */
	long *log_off;
	char *playing;
	uint64_t due, on_time;
	int tty;
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

static void host_addr(uint32_t i, char *buf, size_t len)
{
	char ip[16];
	addr_ip_str(addr_host_ip(i), ip);
	snprintf(buf, len, "%s:%d", ip, ADDR_PEER_PORT);
}

/* argv of host i: the peer binary, its role and flags. */
static char **host_argv(struct runner *r, int i)
{
	const struct scenario *s = r->s;
	const struct host_decl *h = &s->h[i];
	static char buf[32][1200];
	char **argv = calloc((size_t)(32 + h->nargs), sizeof(*argv));
	if (!argv)
		return NULL;
	int n = 0, b = 0;
#define ARG(...) (snprintf(buf[b], sizeof(buf[b]), __VA_ARGS__), argv[n++] = buf[b++])
	argv[n++] = (char *)r->o->peer_bin;
	argv[n++] = (char *)scenario_role_name(h->role);
	ARG("--listen");
	host_addr((uint32_t)i, buf[b], sizeof(buf[b]));
	argv[n++] = buf[b++];
	ARG("--id");
	ARG("%d", i + 1);
	ARG("--seed");
	ARG("%llu", (unsigned long long)(s->seed * 1000003u + (uint64_t)i));
	ARG("--log-dir");
	ARG("%s/hosts/%s", r->dir, h->name);
	if (h->role == HOST_SOURCE || h->role == HOST_PEER) {
		ARG("--rp");
		host_addr((uint32_t)r->rp, buf[b], sizeof(buf[b]));
		argv[n++] = buf[b++];
		if (r->monitor >= 0) {
			ARG("--monitor");
			host_addr((uint32_t)r->monitor, buf[b], sizeof(buf[b]));
			argv[n++] = buf[b++];
		}
	}
	if ((h->role == HOST_SOURCE || h->role == HOST_PEER) && h->access.up_bps) {
		/* The peer sizes its push slots on the uplink it really has. */
		ARG("--upload");
		ARG("%llu", (unsigned long long)h->access.up_bps);
	}
	if (h->role == HOST_SOURCE) {
		ARG("--stream");
		ARG("%s", h->stream);
		ARG("--rate");
		ARG("%s", h->rate);
		ARG("--ingest");
		ARG("%s", h->ingest);
	}
	if (h->role == HOST_PEER) {
		ARG("--watch");
		ARG("%s", h->stream);
		ARG("--mode");
		ARG("%s", h->mode);
		if (*h->buffer) {
			ARG("--buffer");
			ARG("%s", h->buffer);
		}
	}
#undef ARG
	if (h->role == HOST_PEER && *h->startup) {
		argv[n++] = "--startup";
		argv[n++] = (char *)h->startup;
	}
	for (int k = 0; k < h->nargs; k++)
		argv[n++] = h->args[k];
	argv[n] = NULL;
	return argv;
}

static int start_host(struct runner *r, int i, char *err, size_t errlen)
{
	const struct host_decl *h = &r->s->h[i];
	if (r->st[i] == H_RUNNING || r->st[i] == H_LEAVING) {
		snprintf(err, errlen, "host %s is already running", h->name);
		return -1;
	}
	char hdir[1200];
	snprintf(hdir, sizeof(hdir), "%s/hosts/%s", r->dir, h->name);
	if (mkdirs(hdir)) {
		snprintf(err, errlen, "create host directory %s: %s", hdir, strerror(errno));
		return -1;
	}
	char **argv = host_argv(r, i);
	if (!argv) {
		snprintf(err, errlen, "start %s: out of memory", h->name);
		return -1;
	}
	const char *ns = testbed_host_ns(r->tb, (uint32_t)i);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork for host %s: %s", h->name, strerror(errno));
		free(argv);
		return -1;
	}
	if (pid == 0) {
		/* A harness that dies must not leave peers running. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		char path[1300], e[256];
		snprintf(path, sizeof(path), "%s/stdout.log", hdir);
		int fo = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		snprintf(path, sizeof(path), "%s/" RUNDIR_HOST_STDERR, hdir);
		int fe = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fo >= 0)
			dup2(fo, 1);
		if (fe >= 0)
			dup2(fe, 2);
		int fn = open("/dev/null", O_RDONLY);
		if (fn >= 0)
			dup2(fn, 0);
		if (testbed_enter_ns(ns, e, sizeof(e))) {
			fprintf(stderr, "anysee-harness: %s\n", e);
			_exit(126);
		}
		execv(argv[0], argv);
		fprintf(stderr, "anysee-harness: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	free(argv);
	r->pid[i] = pid;
	r->st[i] = H_RUNNING;
	if (h->role == HOST_PEER)
		r->joins++;
	hlog(r, "start %s role=%s pid=%d", h->name, scenario_role_name(h->role), (int)pid);
	return 0;
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
		kill(r->pid[i], SIGKILL);
		r->st[i] = H_CRASHED;
		r->crashes++;
		hlog(r, "crash %s pid=%d", h->name, (int)r->pid[i]);
	}
	return 0;
}

static int apply_model(struct runner *r, char *err, size_t errlen)
{
	return testbed_apply(r->tb, err, errlen);
}

static int link_action(void *arg, int i, const struct link_change *c, char *err, size_t errlen)
{
	struct runner *r = arg;
	struct linkmodel *m = testbed_model(r->tb);
	m->host[i] = c->access;
	if (c->delay_us >= 0) {
		/* The access delay is on every path to and from the host. */
		int64_t diff = c->delay_us - (int64_t)r->access_us[i];
		for (uint32_t j = 0; j < m->n; j++) {
			if (j == (uint32_t)i)
				continue;
			uint32_t *out = &m->delay_us[(size_t)i * m->n + j];
			uint32_t *in = &m->delay_us[(size_t)j * m->n + i];
			*out = (uint32_t)((int64_t)*out + diff);
			*in = (uint32_t)((int64_t)*in + diff);
		}
		r->access_us[i] = (uint32_t)c->delay_us;
	}
	hlog(r, "link %s: up=%llu down=%llu loss=%g jitter_us=%u access_delay_us=%u",
	     r->s->h[i].name, (unsigned long long)c->access.up_bps,
	     (unsigned long long)c->access.down_bps, c->access.loss, c->access.jitter_us,
	     r->access_us[i]);
	return apply_model(r, err, errlen);
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
	return apply_model(r, err, errlen);
}

static void insert_event(struct scenario *s, struct sched_event e)
{
	struct sched_event *n = realloc(s->ev, (size_t)(s->nev + 1) * sizeof(*n));
	if (!n)
		return;
	s->ev = n;
	int k = s->nev;
	while (k > 0 && s->ev[k - 1].t > e.t)
		k--;
	memmove(&s->ev[k + 1], &s->ev[k], (size_t)(s->nev - k) * sizeof(*s->ev));
	s->ev[k] = e;
	s->nev++;
}

static uint64_t events_timer(struct loop *l, void *arg)
{
	struct runner *r = arg;
	struct scenario *s = r->s;
	char err[1024];
	while (r->next_ev < s->nev && s->ev[r->next_ev].t <= elapsed(r) + 0.0005) {
		struct sched_event e = s->ev[r->next_ev++];
		if (e.t > s->duration)
			break;
		int rc = 0;
		if (e.kind == EV_CALL || e.kind == EV_EVERY) {
			rc = scenario_call(s, e.ref, err, sizeof(err));
			if (e.kind == EV_EVERY && e.t + e.period <= s->duration) {
				e.t += e.period;
				insert_event(s, e);
			}
		} else {
			rc = host_action(r, e.host, e.kind, err, sizeof(err));
		}
		if (rc) {
			snprintf(r->errmsg, sizeof(r->errmsg), "%s", err);
			r->error = 1;
			hlog(r, "error: %s", err);
			loop_stop(l);
			return 0;
		}
	}
	if (r->next_ev >= s->nev || s->ev[r->next_ev].t > s->duration)
		return 0;
	double dt = s->ev[r->next_ev].t - elapsed(r);
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
	char line[256], cont[32] = "-";
	if (r->due)
		snprintf(cont, sizeof(cont), "%.4f", (double)r->on_time / (double)r->due);
	snprintf(line, sizeof(line),
	         "[%6.1f/%.0f s] hosts up %d/%d, playing %d, joins %d, leaves %d, crashes %d, "
	         "died %d, continuity %s",
	         elapsed(r), r->s->duration, count_state(r, H_RUNNING), r->s->nh, playing, r->joins,
	         r->leaves, r->crashes, r->died, cont);
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
			snprintf(how + hl, sizeof(how) - (size_t)hl, " cpu_s=%.3f maxrss_kb=%ld",
			         (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
			             (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
			         ru.ru_maxrss);
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

static void set_model(struct runner *r, const uint32_t *delay_us)
{
	struct linkmodel *m = testbed_model(r->tb);
	const struct scenario *s = r->s;
	for (int i = 0; i < s->nh; i++)
		m->host[i] = s->h[i].access;
	memcpy(m->delay_us, delay_us, sizeof(*delay_us) * (size_t)m->n * m->n);
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
	if (mkdirs(r->dir)) {
		snprintf(err, errlen, "create run directory %s: %s", r->dir, strerror(errno));
		return -1;
	}
	char path[1200];
	snprintf(path, sizeof(path), "%s/" RUNDIR_HARNESS_LOG, r->dir);
	r->hlog = fopen(path, "we");
	if (!r->hlog || copy_file(s->path, r->dir, RUNDIR_SCENARIO)) {
		snprintf(err, errlen, "write run directory %s: %s", r->dir, strerror(errno));
		return -1;
	}
	write_file(r->dir, RUNDIR_SEED, "%llu\n", (unsigned long long)s->seed);
	char sets[4096] = "";
	for (int i = 0; i < r->o->nsets; i++)
		snprintf(sets + strlen(sets), sizeof(sets) - strlen(sets), "%s\n", r->o->sets[i]);
	write_file(r->dir, RUNDIR_PARAMS, "%s", sets);
	snprintf(path, sizeof(path), "%s/" RUNDIR_SCHEDULE, r->dir);
	scenario_write_schedule(s, path);
	return write_hosts(r->dir, s, err, errlen);
}

int runner_run(struct scenario *s, const struct run_options *o, char *rundir, size_t rundirlen,
               int *interrupted, char *err, size_t errlen)
{
	struct runner r = {.s = s, .o = o, .sigfd = -1, .rp = -1, .monitor = -1};
	uint32_t *delays = NULL;
	*interrupted = 0;
	int rc = -1;
	r.tty = isatty(2);
	r.pid = calloc((size_t)s->nh, sizeof(*r.pid));
	r.access_us = calloc((size_t)s->nh, sizeof(*r.access_us));
	r.log_off = calloc((size_t)s->nh, sizeof(*r.log_off));
	r.playing = calloc((size_t)s->nh, sizeof(*r.playing));
	r.st = calloc((size_t)s->nh, sizeof(*r.st));
	if (!r.pid || !r.st || !r.access_us || !r.log_off || !r.playing) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (int i = 0; i < s->nh; i++) {
		r.access_us[i] = s->access_delay_us;
		if (s->h[i].role == HOST_RP)
			r.rp = i;
		if (s->h[i].role == HOST_MONITOR)
			r.monitor = i;
	}
	if (access(o->peer_bin, X_OK)) {
		snprintf(err, errlen, "peer binary %s: %s", o->peer_bin, strerror(errno));
		goto out;
	}
	if (prepare_dir(&r, err, errlen))
		goto out;
	snprintf(rundir, rundirlen, "%s", r.dir);

	/* Signals are blocked from here so an interrupt during set-up is seen by
	 * the loop and still leads to a full teardown. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	delays = malloc(sizeof(*delays) * (size_t)s->nh * (size_t)s->nh);
	if (!delays) {
		snprintf(err, errlen, "allocate the %dx%d delay matrix: out of memory", s->nh,
		         s->nh);
		goto out;
	}
	if (netplan_delays(s, delays, r.dir, err, errlen))
		goto out;
	if (o->dry_run) {
		hlog(&r, "dry run: topology and schedule resolved, nothing started");
		rc = 0;
		goto out;
	}

	char prefix[64];
	snprintf(prefix, sizeof(prefix), "%s%x", TESTBED_PREFIX, (unsigned)getpid());
	const char **names = calloc((size_t)s->nh, sizeof(*names));
	if (!names) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (int i = 0; i < s->nh; i++)
		names[i] = s->h[i].name;
	char swlog[1100];
	snprintf(swlog, sizeof(swlog), "%s/" RUNDIR_SWITCH_LOG, r.dir);
	struct testbed_config tc = {
	    .log_path = swlog,
	    .prefix = prefix,
	    .nhosts = (uint32_t)s->nh,
	    .names = names,
	    .backend = o->backend_forced ? o->backend : s->backend,
	};
	hlog(&r, "creating %d hosts, prefix %s", s->nh, prefix);
	uint64_t c0 = mono_us();
	int trc = testbed_create(&tc, &r.tb, err, errlen);
	free(names);
	if (trc)
		goto out;
	set_model(&r, delays);
	if (testbed_apply(r.tb, err, errlen))
		goto out;
	hlog(&r, "testbed up in %.3f s, backend %s", (double)(mono_us() - c0) / 1e6,
	     testbed_backend_name(testbed_backend(r.tb)));
	write_file(r.dir, RUNDIR_BACKEND, "%s\n", testbed_backend_name(testbed_backend(r.tb)));

	if (s->capture) {
		char cpath[1100];
		snprintf(cpath, sizeof(cpath), "%s/" RUNDIR_CAPTURE, r.dir);
		r.cap = capture_start(testbed_hub_ns(r.tb), cpath, s->snaplen, NULL, s->capture_max,
		                      err, errlen);
		if (!r.cap)
			goto out;
		hlog(&r, "capture on, snap length %d, cap %llu bytes", s->snaplen,
		     (unsigned long long)s->capture_max);
	}

	r.loop = loop_new();
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	r.sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (!r.loop || r.sigfd < 0 || loop_add_fd(r.loop, r.sigfd, EPOLLIN, on_sigchld, &r)) {
		snprintf(err, errlen, "set up harness event loop: %s", strerror(errno));
		goto out;
	}
	s->runner = &r;
	s->host_action = host_action;
	s->link_action = link_action;
	s->partition_action = partition_action;
	r.t0 = mono_us();
	hlog(&r, "run starts, duration %.3f s", s->duration);
	loop_add_timer(r.loop, 0, events_timer, &r);
	loop_add_timer(r.loop, (uint64_t)(s->duration * 1e6), end_timer, &r);
	loop_add_timer(r.loop, 1000000u, progress_timer, &r);
	loop_run(r.loop, on_signal, &r);
	if (!o->quiet && r.tty)
		fputc('\n', stderr);
	if (r.error) {
		snprintf(err, errlen, "%s", r.errmsg);
		goto out;
	}
	*interrupted = r.interrupted;
	rc = 0;
out:
	if (r.pid && r.st && r.s)
		stop_all(&r);
	s->host_action = NULL;
	s->link_action = NULL;
	s->partition_action = NULL;
	if (r.cap) {
		struct capture_stats cs;
		char cerr[256] = "";
		int crc = capture_stop(r.cap, &cs, cerr, sizeof(cerr));
		hlog(&r,
		     "capture: %llu packets, %llu bytes, %llu dropped by the kernel, %llu over the "
		     "size cap%s%s",
		     (unsigned long long)cs.packets, (unsigned long long)cs.bytes,
		     (unsigned long long)cs.kernel_drops, (unsigned long long)cs.capped,
		     crc ? "; " : "", cerr);
	}
	if (r.tb) {
		char stats[512];
		if (testbed_stats(r.tb, stats, sizeof(stats)) == 0)
			hlog(&r, "switch: %s", stats);
		uint64_t d0 = mono_us();
		testbed_destroy(r.tb);
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		             (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
		hlog(&r, "harness CPU %.2f s over %.1f s (%.2f%% of a core)", cpu, elapsed(&r),
		     r.t0 ? 100.0 * cpu / elapsed(&r) : 0.0);
		hlog(&r, "testbed removed in %.3f s; joins %d, leaves %d, crashes %d, died %d",
		     (double)(mono_us() - d0) / 1e6, r.joins, r.leaves, r.crashes, r.died);
	}
	if (r.sigfd >= 0)
		close(r.sigfd);
	loop_free(r.loop);
	if (r.hlog)
		fclose(r.hlog);
	free(r.pid);
	free(r.st);
	free(r.access_us);
	free(r.log_off);
	free(r.playing);
	free(delays);
	return rc;
}
