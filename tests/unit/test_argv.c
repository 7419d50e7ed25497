#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "harness/argv.h"

static void test_build(void **state)
{
	(void)state;
	struct argv a;
	argv_init(&a);
	argv_add(&a, "/bin/peer");
	argv_opt(&a, "--watch", "tv1");
	argv_addf(&a, "%d", 42);
	assert_false(a.failed);
	assert_int_equal(a.n, 4);
	assert_string_equal(a.v[0], "/bin/peer");
	assert_string_equal(a.v[1], "--watch");
	assert_string_equal(a.v[2], "tv1");
	assert_string_equal(a.v[3], "42");
	assert_null(a.v[4]);
	argv_free(&a);
	assert_null(a.v);
}

/* Each argument is a copy: the vector outlives the strings it came from,
 * and it grows past its first allocation. */
static void test_copies_and_grows(void **state)
{
	(void)state;
	struct argv a;
	argv_init(&a);
	char buf[16];
	for (int i = 0; i < 100; i++) {
		snprintf(buf, sizeof(buf), "arg%d", i);
		argv_add(&a, buf);
	}
	strcpy(buf, "changed");
	assert_int_equal(a.n, 100);
	assert_string_equal(a.v[0], "arg0");
	assert_string_equal(a.v[99], "arg99");
	assert_null(a.v[100]);
	argv_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build),
	    cmocka_unit_test(test_copies_and_grows),
	};
	return cmocka_run_group_tests_name("argv", tests, NULL, NULL);
}
