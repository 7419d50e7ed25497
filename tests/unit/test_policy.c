#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "peer/policy.h"

static void test_modes(void **state)
{
	const struct policy *a = policy_for(MODE_ANYSEE), *c = policy_for(MODE_COOLSTREAMING);
	assert_string_equal(a->name, "anysee");
	assert_true(a->mesh && a->mesh_partners && a->push_paths);
	assert_string_equal(c->name, "coolstreaming");
	assert_false(c->mesh || c->mesh_partners || c->push_paths);
	assert_true(c->buffer_us > a->buffer_us);
}

/* A source serves peers of every mode: it keeps the mesh and push paths. */
static void test_source_runs_anysee(void **state)
{
	struct config c;
	config_defaults(&c, ROLE_SOURCE);
	c.mode = MODE_COOLSTREAMING;
	assert_ptr_equal(policy_of(&c), policy_for(MODE_ANYSEE));
	config_defaults(&c, ROLE_PEER);
	c.mode = MODE_COOLSTREAMING;
	assert_ptr_equal(policy_of(&c), policy_for(MODE_COOLSTREAMING));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_modes),
	    cmocka_unit_test(test_source_runs_anysee),
	};
	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
