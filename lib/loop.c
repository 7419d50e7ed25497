#include "lib/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
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
	loop_timer_fn fn;
	void *arg;
};

struct loop {
	int ep, tfd;
	int stop;
	struct io *io;
	size_t nio, capio;
	struct timer *t;
	size_t nt, capt;
	uint64_t next_id;
	uint64_t armed; /* due time the timerfd is set for, 0 = none */
};

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->ep < 0 || l->tfd < 0) {
		loop_free(l);
		return NULL;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = l->tfd};
	epoll_ctl(l->ep, EPOLL_CTL_ADD, l->tfd, &ev);
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	if (l->ep >= 0)
		close(l->ep);
	if (l->tfd >= 0)
		close(l->tfd);
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

static void rearm(struct loop *l)
{
	uint64_t due = 0;
	for (size_t i = 0; i < l->nt; i++)
		if (!due || l->t[i].due < due)
			due = l->t[i].due;
	if (due == l->armed)
		return;
	l->armed = due;
	struct itimerspec its = {0};
	if (due) {
		/* An absolute time of 0 would disarm; never ask for it. */
		its.it_value.tv_sec = (time_t)(due / 1000000u);
		its.it_value.tv_nsec = (long)(due % 1000000u) * 1000 + 1;
	}
	timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
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
	l->t[l->nt++] = (struct timer){id, mono_us() + after_us, fn, arg};
	rearm(l);
	return id;
}

void loop_del_timer(struct loop *l, uint64_t id)
{
	for (size_t i = 0; i < l->nt; i++) {
		if (l->t[i].id == id) {
			l->t[i] = l->t[--l->nt];
			rearm(l);
			return;
		}
	}
}

static void run_timers(struct loop *l)
{
	uint64_t buf;
	if (read(l->tfd, &buf, sizeof(buf)) < 0 && errno != EAGAIN)
		return;
	l->armed = 0;
	uint64_t now = mono_us();
	/* A callback may add or delete timers, so look each due one up again. */
	for (;;) {
		size_t pick = l->nt;
		for (size_t i = 0; i < l->nt; i++)
			if (l->t[i].due <= now && (pick == l->nt || l->t[i].due < l->t[pick].due))
				pick = i;
		if (pick == l->nt || l->stop)
			break;
		struct timer t = l->t[pick];
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
	rearm(l);
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
		int n = epoll_wait(l->ep, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_errno("wait for events");
			break;
		}
		for (int i = 0; i < n && !l->stop; i++) {
			int fd = evs[i].data.fd;
			if (fd == l->tfd) {
				run_timers(l);
			} else if (fd == sfd) {
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
	}
	if (sfd >= 0)
		close(sfd);
	return 0;
}
