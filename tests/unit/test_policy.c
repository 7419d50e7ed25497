#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "peer/mesh.h"
#include "peer/policy.h"

static void test_modes(void **state)
{
	const struct policy *a = policy_for(MODE_ANYSEE), *c = policy_for(MODE_COOLSTREAMING);
	assert_string_equal(a->name, "anysee");
	assert_true(a->mesh && a->mesh_partners && a->push_paths);
	assert_string_equal(c->name, "coolstreaming");
	assert_false(c->mesh || c->mesh_partners || c->push_paths);
	assert_true(c->buffer_us > a->buffer_us);
	/* The ablation: everything of anysee but paths outside the overlay. */
	const struct policy *i = policy_for(MODE_ANYSEE_INTRA);
	assert_string_equal(i->name, "anysee-intra");
	assert_true(i->mesh && i->mesh_partners && i->push_paths && i->intra_only);
	assert_false(a->intra_only);
	assert_true(i->buffer_us == a->buffer_us);
	struct config cfg;
	char err[128];
	config_defaults(&cfg, ROLE_PEER);
	assert_int_equal(config_set(&cfg, "mode", "anysee-intra", err, sizeof(err)), 0);
	assert_int_equal(cfg.mode, MODE_ANYSEE_INTRA);
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

/* The partners a role accepts once its options are complete, with one
 * option name = value set (name NULL: none). */
static int partners_after(enum role role, const char *name, const char *value)
{
	struct config c;
	char err[128];
	config_defaults(&c, role);
	snprintf(c.rp, sizeof(c.rp), "10.0.0.1:7000");
	snprintf(role == ROLE_SOURCE ? c.stream : c.watch, sizeof(c.stream), "tv1");
	if (name)
		assert_int_equal(config_set(&c, name, value, err, sizeof(err)), 0);
	assert_int_equal(config_finish(&c, err, sizeof(err)), 0);
	return c.max_partners;
}

/* A source's partners take what its uplink carries, N = upload / rate, in
 * every mode; --max-partners still caps them. A peer keeps 8. */
static void test_source_partners_from_uplink(void **state)
{
	assert_int_equal(partners_after(ROLE_SOURCE, NULL, NULL), 33); /* 10 Mbit/s / 300 kbit/s */
	assert_int_equal(partners_after(ROLE_SOURCE, "upload", "1mbit"), 3);
	assert_int_equal(partners_after(ROLE_SOURCE, "max-partners", "8"), 8);
	assert_int_equal(partners_after(ROLE_PEER, NULL, NULL), 8);
}

/* The start rule holds half the buffer ahead of playback: 60 s with
 * coolstreaming's 120 s, whatever the layer. */
static void test_start_rule(void **state)
{
	const struct policy *c = policy_for(MODE_COOLSTREAMING);
	assert_int_equal(policy_startup_us(c, c->buffer_us, 0), 60000000u);
	assert_int_equal(policy_startup_us(c, 10000000u, 0), 5000000u);
	assert_int_equal(policy_startup_us(c, c->buffer_us, 3), 60000000u);
	struct config cfg;
	config_defaults(&cfg, ROLE_PEER);
	assert_int_equal(cfg.startup_us, 0); /* unset: the rule applies */
}

/* Eq. 12 with the paper's values, by hand: T_A = 2 * 2 s * (1 - 0.6^m) +
 * m * 20 ms. m = 1: 4 * 0.4 + 0.02 = 1.62 s; m = 2: 4 * 0.64 + 0.04 =
 * 2.6 s; m = 3: 4 * 0.784 + 0.06 = 3.196 s; m = 7: 4 * (1 - 0.0279936) +
 * 0.14 = 4.0280256 s. */
static void test_layer_buffer(void **state)
{
	assert_int_equal(policy_layer_buffer_us(1), 1620000u);
	assert_int_equal(policy_layer_buffer_us(2), 2600000u);
	assert_int_equal(policy_layer_buffer_us(3), 3196000u);
	assert_int_equal(policy_layer_buffer_us(7), 4028026u);
	/* Not known yet: the deepest layer's. */
	assert_int_equal(policy_layer_buffer_us(0), 4028026u);
	/* It rises with the layer towards eps * t_b = 4 s plus transport. */
	for (int m = 1; m < 20; m++)
		assert_true(policy_layer_buffer_us(m + 1) > policy_layer_buffer_us(m));
	/* The anysee modes start on it (it replaces half of their 40 s);
	 * never more than half the buffer. */
	const struct policy *a = policy_for(MODE_ANYSEE), *i = policy_for(MODE_ANYSEE_INTRA);
	assert_true(a->layer_buffer && i->layer_buffer);
	assert_false(policy_for(MODE_COOLSTREAMING)->layer_buffer);
	assert_int_equal(policy_startup_us(a, a->buffer_us, 1), 1620000u);
	assert_int_equal(policy_startup_us(i, i->buffer_us, 2), 2600000u);
	assert_int_equal(policy_startup_us(a, 2000000u, 3), 1000000u);
}

/* --ltm-rule picks the LTM cut rule; the slowest-link rule by default. */
static void test_ltm_rule_option(void **state)
{
	struct config c;
	char err[128];
	config_defaults(&c, ROLE_PEER);
	assert_int_equal(c.ltm_rule, LTM_RULE_SLOWEST);
	assert_int_equal(config_set(&c, "ltm-rule", "path", err, sizeof(err)), 0);
	assert_int_equal(c.ltm_rule, LTM_RULE_PATH);
	assert_int_equal(config_set(&c, "ltm-rule", "slowest", err, sizeof(err)), 0);
	assert_int_equal(c.ltm_rule, LTM_RULE_SLOWEST);
	assert_int_equal(config_set(&c, "ltm-rule", "longest", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longest"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_modes),
	    cmocka_unit_test(test_source_runs_anysee),
	    cmocka_unit_test(test_source_partners_from_uplink),
	    cmocka_unit_test(test_start_rule),
	    cmocka_unit_test(test_layer_buffer),
	    cmocka_unit_test(test_ltm_rule_option),
	};
	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
