/* cmocka.h needs these included before it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "lib/addr.h"
#include "netns/backend.h"
#include "netns/netem.h"
#include "netns/switch.h"
#include "netns/testbed.h"

static void test_select_concrete(void **state)
{
	struct backend be;
	char err[256] = "";
	assert_int_equal(backend_select(TESTBED_BRIDGE, &be, err, sizeof(err)), 0);
	assert_int_equal(be.kind, TESTBED_BRIDGE);
	assert_ptr_equal(be.ops, &backend_bridge_ops);
	assert_null(be.state);
	assert_int_equal(backend_select(TESTBED_USERSPACE, &be, err, sizeof(err)), 0);
	assert_int_equal(be.kind, TESTBED_USERSPACE);
	assert_ptr_equal(be.ops, &backend_userspace_ops);
}

static void test_select_unknown(void **state)
{
	struct backend be;
	char err[256] = "";
	assert_int_equal(backend_select((enum testbed_backend)42, &be, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "backend 42 is not a concrete backend"));
	assert_null(be.ops);
	/* Stopping what was never selected is a no-op. */
	backend_stop(&be);
}

/* auto means netem exactly where the netem backend can run. */
static void test_select_auto_follows_netem(void **state)
{
	struct backend be, ne;
	char err[256] = "", why[256] = "";
	assert_int_equal(backend_select(TESTBED_AUTO, &be, err, sizeof(err)), 0);
	int netem = netem_kernel_probe(why, sizeof(why)) == 1;
	assert_int_equal(be.kind, netem ? TESTBED_NETEM : TESTBED_USERSPACE);
	assert_ptr_equal(be.ops, netem ? &backend_netem_ops : &backend_userspace_ops);
	int rc = backend_select(TESTBED_NETEM, &ne, err, sizeof(err));
	assert_int_equal(rc, netem ? 0 : -1);
	if (!netem)
		assert_non_null(strstr(err, "the netem backend needs sch_netem: "));
}

/* Before start there is no state: nothing to apply, no counters. */
static void test_dispatch_without_state(void **state)
{
	struct backend be;
	char err[256] = "", buf[256] = "";
	assert_int_equal(backend_select(TESTBED_USERSPACE, &be, err, sizeof(err)), 0);
	assert_int_equal(backend_apply(&be, NULL, err, sizeof(err)), 0);
	assert_int_equal(backend_stats(&be, buf, sizeof(buf)), -1);
	backend_stop(&be);
	/* The bridge has nothing to start: its work is in the hub beforehand. */
	assert_int_equal(backend_select(TESTBED_BRIDGE, &be, err, sizeof(err)), 0);
	assert_int_equal(backend_start(&be, NULL, err, sizeof(err)), 0);
	assert_null(be.state);
	assert_int_equal(backend_stats(&be, buf, sizeof(buf)), -1);
	backend_stop(&be);
}

static void test_backend_names(void **state)
{
	enum testbed_backend b;
	for (int i = TESTBED_AUTO; i <= TESTBED_BRIDGE; i++) {
		assert_int_equal(testbed_backend_parse(testbed_backend_name(i), &b), 0);
		assert_int_equal(b, i);
	}
	assert_int_equal(testbed_backend_parse("kernel", &b), -1);
	assert_string_equal(testbed_backend_name((enum testbed_backend)9), "unknown");
}

/* Configuration errors come back before any namespace exists. */
static void test_create_rejects_config(void **state)
{
	struct testbed *tb = (struct testbed *)1;
	char err[256] = "";
	struct testbed_config cfg = {.prefix = "other-1", .nhosts = 2, .backend = TESTBED_BRIDGE};
	assert_int_equal(testbed_create(&cfg, &tb, err, sizeof(err)), -1);
	assert_null(tb);
	assert_non_null(strstr(err, "testbed prefix 'other-1' must start with 'anysee-'"));
	cfg.prefix = "anysee-unit";
	cfg.nhosts = 0;
	assert_int_equal(testbed_create(&cfg, &tb, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "testbed host count 0 is outside 1..65000"));
}

/* A bad host name fails after the testbed is allocated: the one cleanup
 * path releases it (the sanitizer build would report a leak). */
static void test_create_rejects_name(void **state)
{
	if (geteuid() != 0) {
		print_message("skipped: testbed_create checks names only as root\n");
		skip();
	}
	static const char *const names[] = {"ok", "Not OK"};
	struct testbed_config cfg = {
	    .prefix = "anysee-unit", .nhosts = 2, .names = names, .backend = TESTBED_BRIDGE};
	struct testbed *tb = NULL;
	char err[256] = "";
	assert_int_equal(testbed_create(&cfg, &tb, err, sizeof(err)), -1);
	assert_null(tb);
	assert_string_equal(err, "host 1: name 'Not OK' must be 1-40 of [a-z0-9_-]");
	assert_int_equal(access("/run/netns/anysee-unit-hub", F_OK), -1);
}

/* A TCP socket in host i's namespace (sockets keep the namespace they were made in):
 * listening on, or connected to, host 1's address. */
static int tcp_in(struct testbed *tb, uint32_t i, int listening, int self)
{
	char err[256];
	assert_int_equal(testbed_enter_ns(testbed_host_ns(tb, i), err, sizeof(err)), 0);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5001)};
	a.sin_addr.s_addr = htonl(addr_host_ip(1));
	assert_true(fd >= 0);
	if (listening)
		assert_true(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 1) == 0);
	else
		assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(setns(self, CLONE_NEWNET), 0);
	return fd;
}

/* Host 0's eth0 caps GSO at one segment. */
static void check_gso_cap(struct testbed *tb, int self)
{
	char err[256];
	assert_int_equal(testbed_enter_ns(testbed_host_ns(tb, 0), err, sizeof(err)), 0);
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = NULL;
	uint32_t segs = 0;
	assert_true(sk && nl_connect(sk, NETLINK_ROUTE) == 0);
	assert_int_equal(rtnl_link_get_kernel(sk, TESTBED_HOST_IFINDEX, NULL, &link), 0);
	assert_int_equal(rtnl_link_get_gso_max_segs(link, &segs), 0);
	assert_int_equal(segs, 1);
	rtnl_link_put(link);
	nl_socket_free(sk);
	assert_int_equal(setns(self, CLONE_NEWNET), 0);
}

/* Send n bytes from out to in, reading as they come. */
static void pump(int out, int in, size_t n)
{
	static char buf[65536];
	size_t sent = 0, got = 0;
	while (got < n) {
		struct pollfd p[2] = {{in, POLLIN, 0}, {out, sent < n ? POLLOUT : 0, 0}};
		assert_true(poll(p, 2, 5000) > 0);
		if (p[1].revents & POLLOUT) {
			size_t k = n - sent < sizeof(buf) ? n - sent : sizeof(buf);
			ssize_t w = send(out, buf, k, MSG_DONTWAIT);
			assert_true(w > 0);
			sent += (size_t)w;
		}
		if (p[0].revents & POLLIN) {
			ssize_t r = recv(in, buf, sizeof(buf), MSG_DONTWAIT);
			assert_true(r > 0);
			got += (size_t)r;
		}
	}
}

static uint64_t switch_rx(struct testbed *tb)
{
	char line[512];
	struct switch_summary s;
	/* The switch publishes its counters as frames pass. */
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	assert_int_equal(testbed_stats(tb, line, sizeof(line)), 0);
	assert_int_equal(switch_stats_parse(line, &s), 0);
	return s.rx;
}

/* What the TCP test made, released by its teardown also when an assert fails. */
static struct tcp_test {
	struct testbed *tb;
	int self, ls, cs, as;
} tt = {NULL, -1, -1, -1, -1};

static int tcp_test_down(void **state)
{
	(void)state;
	/* An assert may have left this thread in a host's namespace. */
	if (tt.self >= 0)
		setns(tt.self, CLONE_NEWNET);
	int *fds[] = {&tt.self, &tt.ls, &tt.cs, &tt.as};
	for (size_t i = 0; i < sizeof(fds) / sizeof(*fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	testbed_destroy(tt.tb);
	tt.tb = NULL;
	return 0;
}

/* Every frame the link model meets is one wire frame: a megabyte of TCP reaches the
 * switch as at least one frame per 1448-byte segment, where GSO would hand it 64 KB
 * frames (one loss draw for 44 segments). */
static void test_one_frame_per_segment(void **state)
{
	if (geteuid() != 0) {
		print_message("skipped: creating a testbed needs root\n");
		skip();
	}
	char prefix[64], err[512] = "";
	snprintf(prefix, sizeof(prefix), "%sunitgso%x", TESTBED_PREFIX, (unsigned)getpid());
	struct testbed_config cfg = {.prefix = prefix, .nhosts = 2, .backend = TESTBED_USERSPACE};
	if (testbed_create(&cfg, &tt.tb, err, sizeof(err)) ||
	    testbed_apply(tt.tb, err, sizeof(err)))
		fail_msg("testbed: %s", err);
	tt.self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(tt.self >= 0);
	tt.ls = tcp_in(tt.tb, 1, 1, tt.self);
	tt.cs = tcp_in(tt.tb, 0, 0, tt.self);
	tt.as = accept(tt.ls, NULL, NULL);
	assert_true(tt.as >= 0);
	uint64_t rx0 = switch_rx(tt.tb);
	const size_t n = 1 << 20;
	pump(tt.cs, tt.as, n);
	uint64_t frames = switch_rx(tt.tb) - rx0;
	print_message("1 MB of TCP: %llu frames through the switch\n", (unsigned long long)frames);
	assert_true(frames >= n / 1448);
	check_gso_cap(tt.tb, tt.self);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_select_concrete),
	    cmocka_unit_test(test_select_unknown),
	    cmocka_unit_test(test_select_auto_follows_netem),
	    cmocka_unit_test(test_dispatch_without_state),
	    cmocka_unit_test(test_backend_names),
	    cmocka_unit_test(test_create_rejects_config),
	    cmocka_unit_test(test_create_rejects_name),
	    cmocka_unit_test_teardown(test_one_frame_per_segment, tcp_test_down),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
