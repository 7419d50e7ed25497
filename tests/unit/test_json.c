#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"

/* One string value as the writer encodes it, without the trailing newline. */
static char *encode(const char *s)
{
	struct json j;
	json_init(&j, false);
	json_str(&j, s);
	char *out = json_finish(&j);
	assert_non_null(out);
	out[strlen(out) - 1] = 0;
	return out;
}

static void expect_encoding(const char *in, const char *want)
{
	char *got = encode(in);
	if (strcmp(got, want) != 0)
		fail_msg("'%s' encoded as %s, expected %s", in, got, want);
	free(got);
}

static void test_escapes_quotes_and_backslashes(void **state)
{
	(void)state;
	expect_encoding("tv\"1", "\"tv\\\"1\"");
	expect_encoding("a\\b", "\"a\\\\b\"");
	expect_encoding("\"\\\"", "\"\\\"\\\\\\\"\"");
	expect_encoding("", "\"\"");
}

static void test_escapes_control_characters(void **state)
{
	(void)state;
	expect_encoding("a\nb\tc\rd", "\"a\\nb\\tc\\rd\"");
	expect_encoding("\b\f", "\"\\b\\f\"");
	expect_encoding("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
}

static void test_non_ascii(void **state)
{
	(void)state;
	/* Valid UTF-8 passes through unchanged: 2-, 3- and 4-byte forms. */
	expect_encoding("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	expect_encoding("\xe5\x8c\x97\xe4\xba\xac", "\"\xe5\x8c\x97\xe4\xba\xac\"");
	expect_encoding("\xf0\x9f\x93\xba", "\"\xf0\x9f\x93\xba\"");
	/* Invalid bytes, truncated, overlong and surrogate forms are replaced, so
	 * the output is always valid UTF-8 JSON. */
	expect_encoding("\xff", "\"\\ufffd\"");
	expect_encoding("a\xc3", "\"a\\ufffd\"");
	expect_encoding("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	expect_encoding("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	expect_encoding("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

static void test_document_shape(void **state)
{
	(void)state;
	struct json j;
	json_init(&j, false);
	json_obj_begin(&j);
	json_kstr(&j, "name", "p\"1");
	json_ku64(&j, "due", 18446744073709551615ull);
	json_ki64(&j, "delta", -3);
	json_kdouble(&j, "continuity", 0.5, 3);
	json_kdouble(&j, "nan", NAN, 3);
	json_kbool(&j, "ok", true);
	json_key(&j, "list");
	json_arr_begin(&j);
	json_u64(&j, 1);
	json_obj_begin(&j);
	json_obj_end(&j);
	json_arr_begin(&j);
	json_arr_end(&j);
	json_null(&j);
	json_arr_end(&j);
	json_obj_end(&j);
	char *out = json_finish(&j);
	assert_non_null(out);
	assert_string_equal(out, "{\"name\":\"p\\\"1\",\"due\":18446744073709551615,\"delta\":-3,"
	                         "\"continuity\":0.500,\"nan\":null,\"ok\":true,"
	                         "\"list\":[1,{},[],null]}\n");
	free(out);
}

static void test_pretty_layout(void **state)
{
	(void)state;
	struct json j;
	json_init(&j, true);
	json_obj_begin(&j);
	json_key(&j, "a");
	json_arr_begin(&j);
	json_u64(&j, 1);
	json_u64(&j, 2);
	json_arr_end(&j);
	json_obj_end(&j);
	char *out = json_finish(&j);
	assert_string_equal(out, "{\n  \"a\": [\n    1,\n    2\n  ]\n}\n");
	free(out);
}

static void test_misuse_is_reported(void **state)
{
	(void)state;
	struct json j;
	json_init(&j, false);
	json_obj_begin(&j);
	assert_null(json_finish(&j)); /* unclosed */

	json_obj_begin(&j);
	json_key(&j, "k");
	json_obj_end(&j); /* key without a value */
	assert_null(json_finish(&j));

	json_arr_end(&j); /* closes nothing */
	assert_null(json_finish(&j));

	json_key(&j, "k"); /* a key outside an object */
	assert_null(json_finish(&j));
}

/* What the writer produces parses with jq, the tool the integration tests
 * and users read it with (skipped where jq is missing). */
static void test_jq_reads_it_back(void **state)
{
	(void)state;
	if (system("command -v jq >/dev/null 2>&1") != 0)
		skip();
	char path[] = "/tmp/anysee-json-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct json j;
	json_init(&j, true);
	json_obj_begin(&j);
	json_kstr(&j, "name", "a\"b\\c\n\x01\xe5\x8c\x97\xff");
	json_obj_end(&j);
	assert_int_equal(json_write_file(&j, path), 0);
	char cmd[256];
	snprintf(cmd, sizeof(cmd),
	         "jq -e '.name == \"a\\\"b\\\\c\\n\\u0001\\u5317\\ufffd\"' %s >/dev/null", path);
	int rc = system(cmd);
	unlink(path);
	assert_int_equal(rc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escapes_quotes_and_backslashes),
	    cmocka_unit_test(test_escapes_control_characters),
	    cmocka_unit_test(test_non_ascii),
	    cmocka_unit_test(test_document_shape),
	    cmocka_unit_test(test_pretty_layout),
	    cmocka_unit_test(test_misuse_is_reported),
	    cmocka_unit_test(test_jq_reads_it_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
