#include "lib/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

struct io {
	int fd;
	loop_io_fn fn;
	void *arg;
};

struct timer {
	uint64_t id;
	uint64_t due;
	uint64_t slack; /* may run this much after due, with other work */
	loop_timer_fn fn;
	void *arg;
};

/* Timers wake the loop through epoll_pwait2's timeout rather than a
 * timerfd: a timerfd costs two more system calls per expiry (setting it,
 * reading it), which at a peer's 50 timer wakeups a second was a fifth of
 * its system calls. The kernel may add its timer slack to the timeout (50 us
 * by default, for real-time tasks none), far below the millisecond periods of
 * the timers here; a timer still never runs before its due time.
 *
 * A timer's own slack (loop_set_slack) lets it wait for a wakeup the loop
 * has anyway: it runs in the first round at or after its due time, and the
 * loop sleeps past due only until due + slack. A wakeup costs a context
 * switch, which on a paravirtualized guest running hundreds of peers on two
 * cores was the largest single cost in a profile; a peer's playback timer
 * alone woke it 50 times a second, 40% of its wakeups. */
struct loop {
	int ep;
	int stop;
	struct io *io;
	size_t nio, capio;
	struct timer *t;
	size_t nt, capt;
	uint64_t next_id;
	uint64_t late_threshold_us;
	void (*on_late)(void *arg, uint64_t late_us);
	void *late_arg;
};

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0) {
		loop_free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	if (l->ep >= 0)
		close(l->ep);
	free(l->io);
	free(l->t);
	free(l);
}

static struct io *find_io(struct loop *l, int fd)
{
	for (size_t i = 0; i < l->nio; i++)
		if (l->io[i].fd == fd)
			return &l->io[i];
	return NULL;
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *arg)
{
	if (l->nio == l->capio) {
		size_t cap = l->capio ? l->capio * 2 : 8;
		struct io *n = realloc(l->io, cap * sizeof(*n));
		if (!n)
			return -1;
		l->io = n;
		l->capio = cap;
	}
	struct epoll_event ev = {.events = events, .data.fd = fd};
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev))
		return -1;
	l->io[l->nio++] = (struct io){fd, fn, arg};
	return 0;
}

int loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	return epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev);
}

void loop_del_fd(struct loop *l, int fd)
{
	struct io *io = find_io(l, fd);
	if (!io)
		return;
	epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
	*io = l->io[--l->nio];
}

/* The latest a timer may run: due plus its slack, saturating (a running
 * timer is parked at UINT64_MAX). */
static uint64_t latest(const struct timer *t)
{
	return t->due > UINT64_MAX - t->slack ? UINT64_MAX : t->due + t->slack;
}

/* When the loop must wake at the latest for its timers, or 0 when there is
 * no timer. */
static uint64_t next_wake(const struct loop *l)
{
	uint64_t wake = 0;
	for (size_t i = 0; i < l->nt; i++)
		if (!wake || latest(&l->t[i]) < wake)
			wake = latest(&l->t[i]);
	return wake;
}

uint64_t loop_add_timer(struct loop *l, uint64_t after_us, loop_timer_fn fn, void *arg)
{
	if (l->nt == l->capt) {
		size_t cap = l->capt ? l->capt * 2 : 8;
		struct timer *n = realloc(l->t, cap * sizeof(*n));
		if (!n)
			return 0;
		l->t = n;
		l->capt = cap;
	}
	uint64_t id = ++l->next_id;
	l->t[l->nt++] = (struct timer){id, mono_us() + after_us, 0, fn, arg};
	return id;
}

void loop_set_slack(struct loop *l, uint64_t id, uint64_t slack_us)
{
	for (size_t i = 0; i < l->nt; i++)
		if (l->t[i].id == id)
			l->t[i].slack = slack_us;
}

void loop_del_timer(struct loop *l, uint64_t id)
{
	for (size_t i = 0; i < l->nt; i++) {
		if (l->t[i].id == id) {
			l->t[i] = l->t[--l->nt];
			return;
		}
	}
}

static void run_timers(struct loop *l)
{
	uint64_t now = mono_us(), late = 0;
	/* A callback may add or delete timers, so look each due one up again. */
	for (;;) {
		size_t pick = l->nt;
		for (size_t i = 0; i < l->nt; i++)
			if (l->t[i].due <= now && (pick == l->nt || l->t[i].due < l->t[pick].due))
				pick = i;
		if (pick == l->nt || l->stop)
			break;
		struct timer t = l->t[pick];
		/* Late is past the slack: running within it is by design. */
		if (now > latest(&t) && now - latest(&t) > late)
			late = now - latest(&t);
		/* Park the timer in the future while it runs so it is not picked twice. */
		l->t[pick].due = UINT64_MAX;
		uint64_t next = t.fn(l, t.arg);
		for (size_t i = 0; i < l->nt; i++) {
			if (l->t[i].id != t.id)
				continue;
			if (next)
				l->t[i].due = t.due + next > now ? t.due + next : now + next;
			else
				l->t[i] = l->t[--l->nt];
			break;
		}
	}
	if (l->on_late && late >= l->late_threshold_us)
		l->on_late(l->late_arg, late);
}

void loop_on_late(struct loop *l, uint64_t threshold_us, void (*fn)(void *arg, uint64_t late_us),
                  void *arg)
{
	l->late_threshold_us = threshold_us;
	l->on_late = fn;
	l->late_arg = arg;
}

/* How long epoll may wait: until a timer must run, or for ever. */
static const struct timespec *wait_time(const struct loop *l, struct timespec *ts)
{
	uint64_t wake = next_wake(l);
	if (!wake)
		return NULL;
	uint64_t now = mono_us(), left = wake > now ? wake - now : 0;
	ts->tv_sec = (time_t)(left / 1000000u);
	ts->tv_nsec = (long)(left % 1000000u) * 1000;
	return ts;
}

void loop_stop(struct loop *l)
{
	l->stop = 1;
}

int loop_run(struct loop *l, int (*on_signal)(struct loop *l, int sig, void *arg), void *arg)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd >= 0) {
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = sfd};
		epoll_ctl(l->ep, EPOLL_CTL_ADD, sfd, &ev);
	}
	struct epoll_event evs[64];
	while (!l->stop) {
		struct timespec ts;
		int n = epoll_pwait2(l->ep, evs, 64, wait_time(l, &ts), NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_errno("wait for events");
			break;
		}
		for (int i = 0; i < n && !l->stop; i++) {
			int fd = evs[i].data.fd;
			if (fd == sfd) {
				struct signalfd_siginfo si;
				if (read(sfd, &si, sizeof(si)) == sizeof(si) &&
				    (!on_signal || on_signal(l, (int)si.ssi_signo, arg)))
					l->stop = 1;
			} else {
				struct io *io = find_io(l, fd);
				if (io)
					io->fn(l, fd, evs[i].events, io->arg);
			}
		}
		if (!l->stop)
			run_timers(l);
	}
	if (sfd >= 0)
		close(sfd);
	return 0;
}
