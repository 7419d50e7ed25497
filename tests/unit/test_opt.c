#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/opt.h"
#include "lib/util.h"

struct obj {
	int quiet;
	int dry_run;
	char name[8];
	const char *out;
	long count;
	int small;
	uint32_t id;
	uint64_t seed, rate_bps, delay_us;
	double loss;
	struct opt_list sets;
	int mode;
};

enum { ONLY_RUN = 1, ONLY_SWEEP = 2 };

static int set_mode(void *obj, const char *value, char *err, size_t errlen)
{
	struct obj *o = obj;
	if (!strcmp(value, "fast"))
		o->mode = 1;
	else if (!strcmp(value, "slow"))
		o->mode = 2;
	else
		return err_set(err, errlen, "'%s' is neither fast nor slow", value);
	return 0;
}

static int check_pair(void *obj, const char *value, char *err, size_t errlen)
{
	if (!strchr(value, '='))
		return err_set(err, errlen, "'%s' is not name=value", value);
	return 0;
}

#define O(field) OPT_AT(struct obj, field)
static const struct opt opts[] = {
    {"quiet", OPT_FLAG, O(quiet), .help = "say less", .short_name = 'q'},
    {"dry-run", OPT_FLAG, O(dry_run), .help = "start nothing", .only = ONLY_RUN},
    {"name", OPT_STR, O(name), "NAME", .help = "a short name"},
    {"out", OPT_ARG, O(out), "DIR", .help = "where to write"},
    {"count", OPT_LONG, O(count), "N", .help = "how many", .min = 1, .max = 10},
    {"small", OPT_LONG, O(small), "N", .help = "a signed int", .min = -5, .max = 5},
    {"id", OPT_LONG, O(id), "N", .help = "a uint32_t", .max = UINT32_MAX},
    {"seed", OPT_U64, O(seed), "N", .help = "any 64-bit seed"},
    {"rate", OPT_RATE, O(rate_bps), "RATE", .help = "a rate", .min = 1},
    {"delay", OPT_DURATION, O(delay_us), "TIME", .help = "a duration"},
    {"loss", OPT_DOUBLE, O(loss), "P", .help = "a probability", .max = 1},
    {"set", OPT_LIST, O(sets), "K=V", .help = "repeatable", .fn = check_pair},
    {"mode", OPT_CALL, 0, 0, "MODE", .help = "fast or slow", .fn = set_mode},
    {"grid-only", OPT_FLAG, O(quiet), .help = "only in sweep", .only = ONLY_SWEEP},
};

static const struct opt_cmd cmd = {
    .name = "run",
    .synopsis = "FILE [options]",
    .about = "Runs FILE.\n",
    .opts = opts,
    .nopts = ARRAY_LEN(opts),
    .mask = ONLY_RUN,
};

static char err[512];

/* Parse the arguments after the command's name, up to a NULL. */
static int parse(struct obj *o, ...)
{
	static char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, o);
	argv[argc++] = "run";
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	return opt_parse(&cmd, o, argc, argv, err, sizeof(err));
}
#define PARSE(o, ...) parse((o), __VA_ARGS__, (char *)NULL)

static void expect_error(const char *want, int rc, struct obj *o)
{
	assert_int_equal(rc, OPT_ERROR);
	assert_string_equal(err, want);
	opt_list_free(&o->sets);
}

static void test_name_space_value_and_equals(void **state)
{
	(void)state;
	struct obj o = {0};
	assert_int_equal(PARSE(&o, "--count", "3", "--name=abc", "--out", "-", "-q"), 0);
	assert_int_equal(o.count, 3);
	assert_string_equal(o.name, "abc");
	assert_string_equal(o.out, "-"); /* a value may look like an operand or an option */
	assert_int_equal(o.quiet, 1);

	/* The last of a repeated single value wins; values may contain '='. */
	assert_int_equal(PARSE(&o, "--count=4", "--count", "5", "--set", "a=b=c"), 0);
	assert_int_equal(o.count, 5);
	assert_int_equal(o.sets.n, 1);
	assert_string_equal(o.sets.v[0], "a=b=c");
	opt_list_free(&o.sets);

	/* A unique prefix names an option (GNU convention). */
	assert_int_equal(PARSE(&o, "--cou", "6"), 0);
	assert_int_equal(o.count, 6);
}

static void test_operands(void **state)
{
	(void)state;
	struct obj o = {0};
	char *argv[] = {"run", "a.lua", "--count", "2", "b", "--", "--count", "x", NULL};
	int n = opt_parse(&cmd, &o, 8, argv, err, sizeof(err));
	assert_int_equal(n, 4);
	assert_string_equal(argv[1], "a.lua");
	assert_string_equal(argv[2], "b");
	assert_string_equal(argv[3], "--count"); /* after --, options are operands */
	assert_string_equal(argv[4], "x");
	assert_null(argv[5]);
	assert_int_equal(o.count, 2);

	assert_int_equal(PARSE(&o, "--count", "7"), 0);
}

static void test_unknown_option(void **state)
{
	(void)state;
	struct obj o = {0};
	expect_error("unknown option '--frobnicate'", PARSE(&o, "--frobnicate"), &o);
	expect_error("unknown option '--frobnicate'", PARSE(&o, "--frobnicate=1"), &o);
	expect_error("unknown option '-x'", PARSE(&o, "-x"), &o);
	/* An option of another command (sweep) is unknown here. */
	expect_error("unknown option '--grid-only'", PARSE(&o, "--grid-only"), &o);
	expect_error("'--s' is ambiguous", PARSE(&o, "--s", "1"), &o);
}

static void test_missing_value(void **state)
{
	(void)state;
	struct obj o = {0};
	expect_error("--count: needs a value", PARSE(&o, "--count"), &o);
	expect_error("--seed: needs a value", PARSE(&o, "--quiet", "--seed"), &o);
	expect_error("--quiet: takes no value", PARSE(&o, "--quiet=yes"), &o);
}

static void test_bad_value(void **state)
{
	(void)state;
	struct obj o = {.count = 2, .seed = 9, .mode = 1};
	expect_error("--seed: '12x' is not an integer in [0, 18446744073709551615]",
	             PARSE(&o, "--seed", "12x"), &o);
	expect_error("--seed: '-1' is not an integer in [0, 18446744073709551615]",
	             PARSE(&o, "--seed=-1"), &o);
	expect_error("--count: 'many' is not an integer in [1, 10]", PARSE(&o, "--count", "many"),
	             &o);
	expect_error("--name: 'too-long-name' is not 1 to 7 characters long",
	             PARSE(&o, "--name", "too-long-name"), &o);
	expect_error("--name: '' is not 1 to 7 characters long", PARSE(&o, "--name="), &o);
	expect_error("--rate: 'fast' is not a rate of at least 1 bit/s such as 300kbit",
	             PARSE(&o, "--rate", "fast"), &o);
	expect_error("--delay: 'soon' is not a duration such as 2s or 500ms",
	             PARSE(&o, "--delay", "soon"), &o);
	expect_error("--loss: '0.5x' is not a number in [0, 1]", PARSE(&o, "--loss", "0.5x"), &o);
	expect_error("--mode: 'medium' is neither fast nor slow", PARSE(&o, "--mode", "medium"),
	             &o);
	expect_error("--set: 'novalue' is not name=value", PARSE(&o, "--set", "novalue"), &o);

	/* A refused value leaves the field as it was. */
	assert_int_equal(o.count, 2);
	assert_int_equal(o.seed, 9);
	assert_int_equal(o.mode, 1);
	assert_string_equal(o.name, "");

	/* Options before the bad one are applied, later ones are not. */
	expect_error("--count: '0' is not an integer in [1, 10]",
	             PARSE(&o, "--seed", "4", "--count", "0", "--loss", "1"), &o);
	assert_int_equal(o.seed, 4);
	assert_true(o.loss == 0);
}

static void test_ranges(void **state)
{
	(void)state;
	struct obj o = {0};
	assert_int_equal(PARSE(&o, "--count", "1", "--small", "-5", "--id", "4294967295"), 0);
	assert_int_equal(o.count, 1);
	assert_int_equal(o.small, -5);
	assert_int_equal(o.id, UINT32_MAX);
	assert_int_equal(PARSE(&o, "--count", "10", "--small", "5", "--id", "0"), 0);
	assert_int_equal(o.count, 10);
	assert_int_equal(o.small, 5);
	assert_int_equal(o.id, 0);

	expect_error("--count: '11' is not an integer in [1, 10]", PARSE(&o, "--count", "11"), &o);
	expect_error("--small: '-6' is not an integer in [-5, 5]", PARSE(&o, "--small", "-6"), &o);
	expect_error("--id: '4294967296' is not an integer in [0, 4294967295]",
	             PARSE(&o, "--id", "4294967296"), &o);
	expect_error("--seed: '18446744073709551616' is not an integer in [0, "
	             "18446744073709551615]",
	             PARSE(&o, "--seed", "18446744073709551616"), &o);
	expect_error("--rate: '0' is not a rate of at least 1 bit/s such as 300kbit",
	             PARSE(&o, "--rate", "0"), &o);
	expect_error("--loss: '1.01' is not a number in [0, 1]", PARSE(&o, "--loss", "1.01"), &o);

	assert_int_equal(PARSE(&o, "--seed", "18446744073709551615", "--rate", "1.5mbit", "--delay",
	                       "25ms", "--loss", "1"),
	                 0);
	assert_int_equal(o.seed, UINT64_MAX);
	assert_int_equal(o.rate_bps, 1500000);
	assert_int_equal(o.delay_us, 25000);
	assert_true(o.loss == 1);
}

static void test_repeated(void **state)
{
	(void)state;
	struct obj o = {0};
	assert_int_equal(PARSE(&o, "--set", "a=1", "x.lua", "--set=b=2", "--set", "a=3"), 1);
	assert_int_equal(o.sets.n, 3);
	assert_string_equal(o.sets.v[0], "a=1");
	assert_string_equal(o.sets.v[1], "b=2");
	assert_string_equal(o.sets.v[2], "a=3");
	opt_list_free(&o.sets);
	assert_null(o.sets.v);
	assert_int_equal(o.sets.n, 0);

	/* Flags may repeat too. */
	assert_int_equal(PARSE(&o, "-q", "--quiet", "-q"), 0);
	assert_int_equal(o.quiet, 1);
}

static void test_help_and_version(void **state)
{
	(void)state;
	struct obj o = {0};
	assert_int_equal(PARSE(&o, "--count", "2", "--help"), OPT_HELP);
	assert_int_equal(PARSE(&o, "-h"), OPT_HELP);
	assert_int_equal(PARSE(&o, "--version"), OPT_VERSION);

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	opt_help(&cmd, f);
	fclose(f);
	static const char *const want[] = {
	    "usage: ",       " run FILE [options]\n",
	    "Runs FILE.\n",  "  -q, --quiet ",
	    "--count N ",    "how many\n",
	    "--dry-run ",    "--set K=V ",
	    "  -h, --help ", "      --version ",
	};
	for (size_t i = 0; i < ARRAY_LEN(want); i++)
		if (!strstr(text, want[i]))
			fail_msg("--help lacks '%s':\n%s", want[i], text);
	if (strstr(text, "grid-only"))
		fail_msg("--help lists another command's option:\n%s", text);
	free(text);
}

static void test_set_by_name(void **state)
{
	(void)state;
	struct obj o = {0};
	assert_int_equal(opt_set(&cmd, &o, "count", "8", err, sizeof(err)), 0);
	assert_int_equal(o.count, 8);
	assert_int_equal(opt_set(&cmd, &o, "mode", "slow", err, sizeof(err)), 0);
	assert_int_equal(o.mode, 2);
	assert_int_equal(opt_set(&cmd, &o, "count", "x", err, sizeof(err)), -1);
	assert_string_equal(err, "--count: 'x' is not an integer in [1, 10]");
	assert_int_equal(opt_set(&cmd, &o, "grid-only", "1", err, sizeof(err)), -1);
	assert_string_equal(err, "unknown option 'grid-only'");
	/* A name = value line cannot say whether a flag is on. */
	assert_int_equal(opt_set(&cmd, &o, "quiet", "0", err, sizeof(err)), -1);
	assert_string_equal(err, "--quiet: takes no value");
}

static void test_cli_exit_status(void **state)
{
	(void)state;
	struct obj o = {0};
	int status = -1;
	char *bad[] = {"run", "--count", "0", NULL};
	assert_int_equal(opt_cli(&cmd, &o, 3, bad, &status), -1);
	assert_int_equal(status, 2);
	char *version[] = {"run", "--version", NULL};
	assert_int_equal(opt_cli(&cmd, &o, 2, version, &status), -1);
	assert_int_equal(status, 0);
	char *good[] = {"run", "f.lua", "--count", "3", NULL};
	assert_int_equal(opt_cli(&cmd, &o, 4, good, &status), 1);
	assert_string_equal(good[1], "f.lua");
	assert_int_equal(opt_fail("run", "%s", "a usage error"), 2);
}

int main(void)
{
	util_set_progname("test_opt");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_space_value_and_equals),
	    cmocka_unit_test(test_operands),
	    cmocka_unit_test(test_unknown_option),
	    cmocka_unit_test(test_missing_value),
	    cmocka_unit_test(test_bad_value),
	    cmocka_unit_test(test_ranges),
	    cmocka_unit_test(test_repeated),
	    cmocka_unit_test(test_help_and_version),
	    cmocka_unit_test(test_set_by_name),
	    cmocka_unit_test(test_cli_exit_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
