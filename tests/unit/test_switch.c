#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "netns/switch.h"

/* The counters' line, read back in another process, gives the same
 * numbers, lateness as quantiles of the histogram. */
static void test_stats_line_round_trip(void **state)
{
	(void)state;
	static struct switch_stats st;
	memset(&st, 0, sizeof(st));
	st.rx = 1200;
	st.forwarded = 1000;
	st.arp_replies = 4;
	st.drop_loss = 150;
	st.drop_queue = 40;
	st.drop_partition = 3;
	st.tx_errors = 2;
	st.drop_kernel = 1;
	st.cpu_ns = 2500000000u;
	st.cpu_at_ns = 7123456789u;
	for (int i = 0; i < 1000; i++)
		hist_add(&st.late_ns, i < 995 ? 10000 : 2000000);
	char line[512];
	switch_stats_format(&st, line, sizeof(line));
	assert_non_null(strstr(line, "drop_loss=150 drop_queue=40 drop_partition=3"));
	struct switch_summary s;
	assert_int_equal(switch_stats_parse(line, &s), 0);
	assert_int_equal(s.rx, 1200);
	assert_int_equal(s.drop_loss, 150);
	assert_int_equal(s.drop_queue, 40);
	assert_int_equal(s.tx_errors, 2);
	assert_int_equal(s.drop_kernel, 1);
	assert_int_equal(s.cpu_ms, 2500);
	assert_int_equal(s.cpu_at_us, 7123456);
	assert_int_equal(s.late_n, 1000);
	assert_true(s.late_p50_ns >= 9900 && s.late_p50_ns <= 10100);
	assert_true(s.late_p99_ns >= 9900 && s.late_p99_ns <= 10100);
	assert_int_equal(s.late_max_ns, 2000000);
	/* A key that only ends another (rx in tx_...) is not the key. */
	assert_int_equal(switch_stats_parse("tx_errors=1 forwarded=2", &s), -1);
	assert_int_equal(switch_stats_parse("htb classes=3 drops=4", &s), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stats_line_round_trip),
	};
	return cmocka_run_group_tests_name("switch", tests, NULL, NULL);
}
