#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/loop.h"
#include "lib/util.h"

#define MS 1000u

/* A broken loop would hang the suite: let SIGALRM kill it instead. */
static int arm_watchdog(void **state)
{
	(void)state;
	alarm(20);
	return 0;
}

static int disarm_watchdog(void **state)
{
	(void)state;
	alarm(0);
	return 0;
}

struct fired {
	int order[16];
	uint64_t at[16];
	int n;
};

struct tmr {
	struct fired *log;
	int tag;
	uint64_t due;  /* earliest time it may fire */
	uint64_t next; /* what it returns */
	int stop;      /* calls loop_stop when it fires */
	int calls;
	int max_calls;  /* repeating: return 0 after this many */
	uint64_t kill;  /* timer id deleted when this one fires */
	uint64_t added; /* when loop_add_timer was called */
	uint64_t self;  /* own id, for self-deletion */
};

static uint64_t on_timer(struct loop *l, void *arg)
{
	struct tmr *t = arg;
	uint64_t now = mono_us();
	if (t->log && t->log->n < 16) {
		t->log->order[t->log->n] = t->tag;
		t->log->at[t->log->n] = now;
		t->log->n++;
	}
	t->calls++;
	if (now < t->due)
		fail_msg("timer %d fired %llu us early", t->tag,
		         (unsigned long long)(t->due - now));
	if (t->kill)
		loop_del_timer(l, t->kill);
	if (t->self)
		loop_del_timer(l, t->self);
	if (t->stop)
		loop_stop(l);
	if (t->max_calls && t->calls >= t->max_calls)
		return 0;
	if (t->next)
		t->due += t->next;
	return t->next;
}

static uint64_t add(struct loop *l, struct tmr *t, uint64_t after_us)
{
	t->added = mono_us();
	t->due = t->added + after_us;
	uint64_t id = loop_add_timer(l, after_us, on_timer, t);
	assert_true(id > 0);
	return id;
}

static void test_timers_in_order(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	assert_non_null(l);
	struct fired log = {0};
	struct tmr a = {.log = &log, .tag = 30, .stop = 1}, b = {.log = &log, .tag = 10},
	           c = {.log = &log, .tag = 20}, d = {.log = &log, .tag = 0};
	add(l, &a, 30 * MS);
	add(l, &b, 10 * MS);
	add(l, &c, 20 * MS);
	add(l, &d, 0);
	loop_run(l, NULL, NULL);

	assert_int_equal(log.n, 4);
	assert_int_equal(log.order[0], 0);
	assert_int_equal(log.order[1], 10);
	assert_int_equal(log.order[2], 20);
	assert_int_equal(log.order[3], 30);
	loop_free(l);
}

static void test_overdue_timers_in_order(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	assert_non_null(l);
	struct fired log = {0};
	struct tmr a = {.log = &log, .tag = 3, .stop = 1}, b = {.log = &log, .tag = 1},
	           c = {.log = &log, .tag = 2};
	add(l, &a, 3 * MS);
	add(l, &b, 1 * MS);
	add(l, &c, 2 * MS);
	/* A late loop finds all three due at once and must still run them by
	 * due time, not in the order they were added. */
	usleep(20 * MS);
	loop_run(l, NULL, NULL);

	assert_int_equal(log.n, 3);
	assert_int_equal(log.order[0], 1);
	assert_int_equal(log.order[1], 2);
	assert_int_equal(log.order[2], 3);
	loop_free(l);
}

static void test_zero_removes_interval_repeats(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	assert_non_null(l);
	struct fired log = {0};
	struct tmr once = {.tag = 1}, rep = {.log = &log, .tag = 2, .next = 5 * MS, .max_calls = 5},
	           end = {.tag = 3, .stop = 1};
	add(l, &once, 1 * MS);
	add(l, &rep, 2 * MS);
	add(l, &end, 60 * MS);
	loop_run(l, NULL, NULL);

	assert_int_equal(once.calls, 1);
	assert_int_equal(end.calls, 1);
	/* Returned 5 ms four times, then 0: five runs, none before its due time
	 * (on_timer checks), so the last no sooner than 2 + 4 * 5 ms. */
	assert_int_equal(rep.calls, 5);
	assert_true(log.at[4] >= rep.added + 2 * MS + 4 * 5 * MS);
	loop_free(l);
}

static void test_del_timer_from_callback(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	assert_non_null(l);
	struct tmr victim = {.tag = 1}, killer = {.tag = 2}, selfish = {.tag = 3, .next = 1 * MS},
	           end = {.tag = 4, .stop = 1};
	killer.kill = add(l, &victim, 30 * MS);
	add(l, &killer, 5 * MS);
	/* Deleting itself wins over the interval it returns. */
	selfish.self = add(l, &selfish, 5 * MS);
	add(l, &end, 60 * MS);
	loop_run(l, NULL, NULL);

	assert_int_equal(killer.calls, 1);
	assert_int_equal(victim.calls, 0);
	assert_int_equal(selfish.calls, 1);
	assert_int_equal(end.calls, 1);
	loop_free(l);
}

struct pipe_io {
	int fds[2];
	int reads;
	uint32_t events;
	char got;
	int del_after_read;
	int stop_after_read;
};

static void on_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct pipe_io *p = arg;
	assert_int_equal(fd, p->fds[0]);
	p->events = events;
	assert_int_equal(read(fd, &p->got, 1), 1);
	p->reads++;
	if (p->del_after_read)
		loop_del_fd(l, fd);
	if (p->stop_after_read)
		loop_stop(l);
}

static uint64_t write_byte(struct loop *l, void *arg)
{
	struct pipe_io *p = arg;
	assert_int_equal(write(p->fds[1], "x", 1), 1);
	return 0;
}

static void test_fd_readiness(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	assert_non_null(l);
	struct pipe_io p = {.stop_after_read = 1};
	assert_int_equal(pipe(p.fds), 0);
	assert_int_equal(loop_add_fd(l, p.fds[0], EPOLLIN, on_readable, &p), 0);
	uint64_t t0 = mono_us();
	assert_true(loop_add_timer(l, 10 * MS, write_byte, &p) > 0);
	loop_run(l, NULL, NULL);

	assert_int_equal(p.reads, 1);
	assert_true(p.events & EPOLLIN);
	assert_int_equal(p.got, 'x');
	/* Nothing was readable before the timer wrote. */
	assert_true(mono_us() - t0 >= 10 * MS);
	close(p.fds[0]);
	close(p.fds[1]);
	loop_free(l);
}

static void test_fd_removed(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	assert_non_null(l);
	struct pipe_io p = {.del_after_read = 1};
	struct tmr end = {.tag = 1, .stop = 1};
	assert_int_equal(pipe(p.fds), 0);
	assert_int_equal(loop_add_fd(l, p.fds[0], EPOLLIN, on_readable, &p), 0);
	loop_add_timer(l, 5 * MS, write_byte, &p);
	loop_add_timer(l, 20 * MS, write_byte, &p);
	add(l, &end, 40 * MS);
	loop_run(l, NULL, NULL);

	/* The second byte arrives after loop_del_fd: nobody is called for it. */
	assert_int_equal(p.reads, 1);
	char c;
	assert_int_equal(read(p.fds[0], &c, 1), 1);
	close(p.fds[0]);
	close(p.fds[1]);
	loop_free(l);
}

static void on_other(struct loop *l, int fd, uint32_t events, void *arg)
{
	int *calls = arg;
	char c;
	assert_int_equal(read(fd, &c, 1), 1);
	++*calls;
	loop_stop(l);
}

static void test_fd_number_reused(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	assert_non_null(l);
	struct pipe_io p = {.stop_after_read = 1};
	int other = 0, fds[2];
	assert_int_equal(pipe(p.fds), 0);
	assert_int_equal(loop_add_fd(l, p.fds[0], EPOLLIN, on_readable, &p), 0);
	loop_del_fd(l, p.fds[0]);
	close(p.fds[0]);
	close(p.fds[1]);

	/* The kernel hands out the lowest free numbers: the same ones again. */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fds[0], p.fds[0]);
	assert_int_equal(loop_add_fd(l, fds[0], EPOLLIN, on_other, &other), 0);
	assert_int_equal(write(fds[1], "y", 1), 1);
	loop_run(l, NULL, NULL);
	assert_int_equal(other, 1);
	assert_int_equal(p.reads, 0);
	close(fds[0]);
	close(fds[1]);
	loop_free(l);
}

static void test_stop_skips_later_work(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	assert_non_null(l);
	struct tmr stopper = {.tag = 1, .stop = 1, .next = 1 * MS}, due = {.tag = 2},
	           later = {.tag = 3};
	add(l, &stopper, 1 * MS);
	add(l, &due, 2 * MS);
	add(l, &later, 30 * MS);
	/* Both of the first two are overdue when the loop starts: stopping in
	 * the first must keep the second from running. */
	usleep(10 * MS);
	loop_run(l, NULL, NULL);
	assert_int_equal(stopper.calls, 1);
	assert_int_equal(due.calls, 0);
	assert_int_equal(later.calls, 0);
	loop_free(l);
}

struct sig {
	int seen;
	int last;
};

static int on_signal(struct loop *l, int signo, void *arg)
{
	struct sig *s = arg;
	s->last = signo;
	/* The first signal is absorbed (as a leave announcement would be). */
	return ++s->seen > 1;
}

static uint64_t raise_term(struct loop *l, void *arg)
{
	raise(SIGTERM);
	return 5 * MS;
}

static void test_signal_hook(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	assert_non_null(l);
	struct sig s = {0};
	assert_true(loop_add_timer(l, 1 * MS, raise_term, NULL) > 0);
	loop_run(l, on_signal, &s);
	assert_int_equal(s.seen, 2);
	assert_int_equal(s.last, SIGTERM);
	loop_free(l);
}

struct lateness {
	int calls;
	uint64_t late_us;
};

static void on_late(void *arg, uint64_t late_us)
{
	struct lateness *z = arg;
	z->calls++;
	z->late_us = late_us;
}

/* A process that did not run (here: a timer's callback blocking for
 * 150 ms) shows as the next round's lateness, reported once for the
 * round, with the largest; on-time rounds report nothing. */
static uint64_t block_150ms(struct loop *l, void *arg)
{
	(void)l;
	(void)arg;
	usleep(150 * MS);
	return 0;
}

static void test_late_rounds_reported(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	assert_non_null(l);
	struct lateness z = {0};
	loop_on_late(l, 100 * MS, on_late, &z);
	struct fired log = {0};
	struct tmr a = {.log = &log, .tag = 1}, b = {.log = &log, .tag = 2},
	           c = {.log = &log, .tag = 3, .stop = 1};
	add(l, &a, 5 * MS);
	add(l, &b, 20 * MS);
	assert_true(loop_add_timer(l, 10 * MS, block_150ms, NULL) > 0);
	add(l, &c, 30 * MS);
	loop_run(l, NULL, NULL);
	assert_int_equal(log.n, 3);
	/* b was due 10 ms after the blocking timer, c 20 ms: b waited about
	 * 140 ms, c 130 ms; one report, with b's. */
	assert_int_equal(z.calls, 1);
	assert_true(z.late_us >= 130 * MS && z.late_us < 2000 * MS);
	loop_free(l);
}

/* A timer with slack waits for a round the loop has anyway: here one due
 * at 10 ms, with 40 ms of slack, runs in the round of another due at 25 ms,
 * not in a wakeup of its own at 10 ms; still first, by due time. */
static void test_slack_joins_another_round(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	assert_non_null(l);
	struct fired log = {0};
	struct tmr a = {.log = &log, .tag = 1}, b = {.log = &log, .tag = 2, .stop = 1};
	loop_set_slack(l, add(l, &a, 10 * MS), 40 * MS);
	add(l, &b, 25 * MS);
	loop_run(l, NULL, NULL);
	assert_int_equal(log.n, 2);
	assert_int_equal(log.order[0], 1);
	assert_int_equal(log.order[1], 2);
	assert_true(log.at[0] >= b.added + 25 * MS);
	loop_free(l);
}

/* I/O is a round too: a byte readable after the timer's due time runs the
 * timer then, long before its slack ends. */
static void test_slack_joins_io(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	assert_non_null(l);
	struct pipe_io p = {0};
	assert_int_equal(pipe(p.fds), 0);
	assert_int_equal(loop_add_fd(l, p.fds[0], EPOLLIN, on_readable, &p), 0);
	struct fired log = {0};
	struct tmr a = {.log = &log, .tag = 1, .stop = 1};
	loop_set_slack(l, add(l, &a, 5 * MS), 5000 * MS);
	usleep(10 * MS);
	assert_int_equal(write(p.fds[1], "x", 1), 1);
	loop_run(l, NULL, NULL);
	assert_int_equal(p.reads, 1);
	assert_int_equal(log.n, 1);
	assert_true(log.at[0] - a.added < 2000 * MS);
	close(p.fds[0]);
	close(p.fds[1]);
	loop_free(l);
}

/* With nothing else to wake for, the loop sleeps to the end of the slack,
 * and a timer run within its slack is not late. */
static void test_slack_not_late(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	assert_non_null(l);
	struct lateness z = {0};
	/* Counted from the due time, it would be 60 ms late; the threshold
	 * leaves the machine 50 ms of its own delay. */
	loop_on_late(l, 50 * MS, on_late, &z);
	struct fired log = {0};
	struct tmr a = {.log = &log, .tag = 1, .stop = 1};
	loop_set_slack(l, add(l, &a, 10 * MS), 60 * MS);
	loop_run(l, NULL, NULL);
	assert_int_equal(log.n, 1);
	assert_true(log.at[0] >= a.added + 70 * MS);
	assert_int_equal(z.calls, 0);
	loop_free(l);
}

#define T(f) cmocka_unit_test_setup_teardown(f, arm_watchdog, disarm_watchdog)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_timers_in_order),
	    T(test_overdue_timers_in_order),
	    T(test_zero_removes_interval_repeats),
	    T(test_del_timer_from_callback),
	    T(test_fd_readiness),
	    T(test_fd_removed),
	    T(test_fd_number_reused),
	    T(test_stop_skips_later_work),
	    T(test_signal_hook),
	    T(test_late_rounds_reported),
	    T(test_slack_joins_another_round),
	    T(test_slack_joins_io),
	    T(test_slack_not_late),
	};
	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
