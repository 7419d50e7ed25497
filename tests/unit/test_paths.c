#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/paths.h"

#define S(x) ((uint64_t)((x)*1e6))

static int near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

/* Parent P (peer 0, id 100) holds children 200 and 300; 200 crashes at
 * 10 s and P drops it at 13.5 s, 300 crashes at 20 s and P still holds it
 * when the run stops at 30 s. Peer 2's push parent was 200: its path is
 * cut at 13 s and up again at 13.8 s. Peer 3's parent left gracefully:
 * that is no failover. Peer 6 pushed from 800 when it tried a path
 * through 300 after 300 crashed: that set-up timed out while 800 still
 * pushed, which is no failover either. */
static void test_outlive_and_failover(void **state)
{
	(void)state;
	struct path_log l = {0};
	paths_add(&l, S(0), 0, 100, PE_START);
	paths_add(&l, S(1), 0, 200, PE_CHILD_ADD);
	paths_add(&l, S(2), 0, 300, PE_CHILD_ADD);
	/* 200 sets its path up again: still one child, gone at its del. */
	paths_add(&l, S(5), 0, 200, PE_CHILD_ADD);
	paths_add(&l, S(13.5), 0, 200, PE_CHILD_DEL);
	paths_add(&l, S(0.5), 1, 200, PE_START);
	paths_add(&l, S(10), 1, 200, PE_CRASH);
	paths_add(&l, S(0.7), 4, 300, PE_START);
	paths_add(&l, S(20), 4, 300, PE_CRASH);
	paths_add(&l, S(0.2), 2, 400, PE_START);
	paths_add(&l, S(1.5), 2, 200, PE_UP);
	paths_add(&l, S(13), 2, 200, PE_CUT);
	paths_add(&l, S(13.8), 2, 500, PE_UP);
	paths_add(&l, S(0.3), 3, 600, PE_START);
	paths_add(&l, S(5), 5, 700, PE_END);
	paths_add(&l, S(5.01), 3, 700, PE_CUT);
	paths_add(&l, S(6), 3, 800, PE_UP);
	paths_add(&l, S(0.4), 6, 900, PE_START);
	paths_add(&l, S(2), 6, 800, PE_UP);
	paths_add(&l, S(24), 6, 300, PE_CUT);
	paths_add(&l, S(27), 6, 1000, PE_UP);
	/* A child that ended before it was added (an id seen again) is no
	 * sample. */
	paths_add(&l, S(25), 0, 700, PE_CHILD_ADD);
	struct paths_summary s;
	assert_int_equal(paths_summarize(&l, S(30), &s), 0);
	assert_int_equal(s.outlived, 2);
	assert_true(near(s.outlive_max_s, 10));
	/* Nearest rank of two: the upper one. */
	assert_true(near(s.outlive_p50_s, 10));
	assert_int_equal(s.over_two_leases, 1);
	assert_int_equal(s.failovers, 1);
	assert_int_equal(s.unrecovered, 0);
	assert_true(near(s.failover_p50_s, 3.8));
	assert_true(near(s.detect_p50_s, 3));
	paths_free(&l);
}

/* A parent that ends first holds its dead child only until its own end;
 * a cut after a crash with no path since is unrecovered. */
static void test_parent_ends_first(void **state)
{
	(void)state;
	struct path_log l = {0};
	paths_add(&l, S(0), 0, 100, PE_START);
	paths_add(&l, S(1), 0, 200, PE_CHILD_ADD);
	paths_add(&l, S(4), 0, 100, PE_END);
	paths_add(&l, S(0), 1, 200, PE_START);
	paths_add(&l, S(3), 1, 200, PE_CRASH);
	paths_add(&l, S(0), 2, 300, PE_START);
	paths_add(&l, S(1), 2, 200, PE_UP);
	paths_add(&l, S(6), 2, 200, PE_CUT);
	struct paths_summary s;
	assert_int_equal(paths_summarize(&l, S(30), &s), 0);
	assert_int_equal(s.outlived, 1);
	assert_true(near(s.outlive_max_s, 1));
	assert_int_equal(s.failovers, 0);
	assert_int_equal(s.unrecovered, 1);
	paths_free(&l);
}

/* Peer `peer`'s log lines, folded into l. */
static void fold(struct path_log *l, uint32_t peer, const char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct evlog_line e;
		assert_int_equal(evlog_parse(lines[i], &e), 0);
		paths_fold(l, peer, &e);
	}
}

/* Lines of a peer's log become events with the right ids. */
static void test_fold(void **state)
{
	(void)state;
	struct path_log l = {0};
	const char *lines[] = {
	    "1000 " LOGEV_CHILD_ADD " " LOGK_ID "=7 stream=1 children=1\n",
	    "2000 " LOGEV_PATH_CUT " " LOGK_PARENT "=9 reason=silent\n",
	    "3000 " LOGEV_PATH_UP " " LOGK_PARENT "=11 " LOGK_HOPS "=2\n",
	    "4000 tick due=1 on_time=1\n",
	};
	fold(&l, 3, lines, sizeof(lines) / sizeof(lines[0]));
	assert_int_equal(l.n, 3);
	assert_int_equal(l.v[0].kind, PE_CHILD_ADD);
	assert_int_equal(l.v[0].id, 7);
	assert_int_equal(l.v[1].kind, PE_CUT);
	assert_int_equal(l.v[1].id, 9);
	assert_int_equal(l.v[2].kind, PE_UP);
	assert_int_equal(l.v[2].id, 11);
	assert_int_equal(l.v[2].peer, 3);
	paths_free(&l);
}

/* A parent that pushes its stream to a node and relays another to it has
 * two children there: the end of one is not the end of the other. Peer 0
 * drops 200's stream-2 child at 5 s, 200 crashes at 10 s, and its stream-1
 * child goes at 11 s: it outlived its peer by 1 s. */
static void test_child_per_stream(void **state)
{
	(void)state;
	struct path_log l = {0};
	const char *lines[] = {
	    "1000000 " LOGEV_CHILD_ADD " " LOGK_ID "=200 " LOGK_STREAM "=1 children=1\n",
	    "2000000 " LOGEV_CHILD_ADD " " LOGK_ID "=200 " LOGK_STREAM "=2 children=1\n",
	    "5000000 " LOGEV_CHILD_DEL " " LOGK_ID "=200 " LOGK_STREAM "=2 children=0\n",
	    "11000000 " LOGEV_CHILD_DEL " " LOGK_ID "=200 " LOGK_STREAM "=1 children=0\n",
	};
	paths_add(&l, S(0), 0, 100, PE_START);
	fold(&l, 0, lines, sizeof(lines) / sizeof(lines[0]));
	paths_add(&l, S(0.5), 1, 200, PE_START);
	paths_add(&l, S(10), 1, 200, PE_CRASH);
	struct paths_summary s;
	assert_int_equal(paths_summarize(&l, S(30), &s), 0);
	assert_int_equal(s.outlived, 1);
	assert_true(near(s.outlive_max_s, 1));
	paths_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_outlive_and_failover),
	    cmocka_unit_test(test_parent_ends_first),
	    cmocka_unit_test(test_fold),
	    cmocka_unit_test(test_child_per_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
