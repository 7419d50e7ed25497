/* cmocka.h needs these included before it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "netns/backend.h"
#include "netns/netem.h"
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
