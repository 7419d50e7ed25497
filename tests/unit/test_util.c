#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "peer/config.h"
#include "peer/media.h"

static void test_parse_rate(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint64_t bps;
	} good[] = {
	    {"300kbit", 300000},   {"1.5mbit", 1500000}, {"10Mbit", 10000000},
	    {"2gbit", 2000000000}, {"64000", 64000},     {"800bps", 800},
	};
	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		uint64_t v = 0;
		assert_int_equal(parse_rate(good[i].s, &v), 0);
		assert_int_equal(v, good[i].bps);
	}
	static const char *const bad[] = {"",    "-1kbit",  "abc",    "5furlongs", "kbit",
	                                  "nan", "infkbit", "1 mbit", "1.5mbitx",  "2e12"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		uint64_t v;
		if (parse_rate(bad[i], &v) == 0)
			fail_msg("parse_rate accepted '%s'", bad[i]);
	}
}

static void test_parse_duration(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint64_t us;
	} good[] = {
	    {"25ms", 25000},  {"1.5s", 1500000},   {"200us", 200},
	    {"30", 30000000}, {"2min", 120000000}, {"0", 0},
	};
	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		uint64_t v = 1;
		assert_int_equal(parse_duration(good[i].s, &v), 0);
		assert_int_equal(v, good[i].us);
	}
	static const char *const bad[] = {"",       "ms",    "-5s",   "5h",    "5 s",
	                                  "1.5.3s", "10sec", "s10",   "0x10s", " 5s",
	                                  "nans",   "infs",  "1e999", ".s",    "5e3000ms"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		uint64_t v;
		if (parse_duration(bad[i], &v) == 0)
			fail_msg("parse_duration accepted '%s'", bad[i]);
	}
}

static void test_parse_decimal(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		double v;
	} good[] = {{"12", 12},       {"-0.5", -0.5}, {"+3", 3},  {"1e3", 1000},
	            {"2.5E-1", 0.25}, {"7.", 7},      {".5", 0.5}};
	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		double v = -99;
		if (parse_decimal(good[i].s, &v) || v != good[i].v)
			fail_msg("parse_decimal('%s') = %g, want %g", good[i].s, v, good[i].v);
	}
	static const char *const bad[] = {"",   "0x10", "nan", "inf", "-inf",  " 1",   "1 ",
	                                  "1e", "1e+",  ".",   "-",   "1e400", "1..2", "1,5"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		double v;
		if (parse_decimal(bad[i], &v) == 0)
			fail_msg("parse_decimal accepted '%s'", bad[i]);
	}
}

static void test_parse_long(void **state)
{
	(void)state;
	long v = 0;
	assert_int_equal(parse_long("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_long("-10", -10, 10, &v), 0);
	assert_int_equal(v, -10);
	assert_int_equal(parse_long("100", 0, 100, &v), 0);
	assert_int_equal(v, 100);

	assert_int_equal(parse_long("101", 0, 100, &v), -1);
	assert_int_equal(parse_long("-11", -10, 10, &v), -1);
	assert_int_equal(parse_long("-1", 0, 10, &v), -1);
	assert_int_equal(parse_long("", 0, 10, &v), -1);
	assert_int_equal(parse_long("12abc", 0, 100, &v), -1);
	assert_int_equal(parse_long("0x10", 0, 100, &v), -1);
	assert_int_equal(parse_long("1.0", 0, 100, &v), -1);
	assert_int_equal(parse_long(" 12", 0, 100, &v), -1);
	assert_int_equal(parse_long("+12", 0, 100, &v), -1);
	assert_int_equal(parse_long("99999999999999999999", 0, 100, &v), -1);
	assert_int_equal(parse_long("99999999999999999999", LONG_MIN, LONG_MAX, &v), -1);
}

static void test_rng_deterministic(void **state)
{
	(void)state;
	struct rng a, b, c;
	rng_seed(&a, 42);
	rng_seed(&b, 42);
	rng_seed(&c, 43);
	int differs = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t x = rng_next(&a);
		assert_int_equal(x, rng_next(&b));
		differs |= x != rng_next(&c);
	}
	assert_true(differs);

	/* Runs use consecutive seeds: their streams must look unrelated from the
	 * first draw, so each bit of it is set for about half of the seeds. */
	enum { SEEDS = 1000 };
	int ones[64] = {0};
	for (uint64_t seed = 0; seed < SEEDS; seed++) {
		rng_seed(&a, seed);
		uint64_t x = rng_next(&a);
		for (int bit = 0; bit < 64; bit++)
			ones[bit] += (int)(x >> bit & 1);
	}
	for (int bit = 0; bit < 64; bit++)
		if (ones[bit] < 400 || ones[bit] > 600)
			fail_msg("bit %d of the first draw set for %d of %d seeds", bit, ones[bit],
			         SEEDS);
}

static void test_rng_below_range(void **state)
{
	(void)state;
	static const uint64_t ns[] = {1, 2, 3, 7, 1000, (1ull << 63) + 1, UINT64_MAX};
	struct rng r;
	rng_seed(&r, 7);
	for (size_t i = 0; i < ARRAY_LEN(ns); i++)
		for (int k = 0; k < 2000; k++)
			assert_true(rng_below(&r, ns[i]) < ns[i]);
	for (int k = 0; k < 2000; k++) {
		double u = rng_unit(&r);
		assert_true(u >= 0.0 && u < 1.0);
	}
}

static void test_rng_below_uniform(void **state)
{
	(void)state;
	enum { N = 10, DRAWS = 100000 };
	uint32_t count[N] = {0};
	struct rng r;
	rng_seed(&r, 12345);
	for (int k = 0; k < DRAWS; k++)
		count[rng_below(&r, N)]++;
	double expect = (double)DRAWS / N, chi2 = 0;
	for (int i = 0; i < N; i++)
		chi2 += (count[i] - expect) * (count[i] - expect) / expect;
	/* 9 degrees of freedom: p = 0.001 at 27.9. Loose, but a bias shows. */
	if (chi2 > 40)
		fail_msg("rng_below(10) chi-square %.1f over %d draws", chi2, DRAWS);

	/* For n = 1.5 * 2^63 a plain modulo would put 5/8 of the draws below
	 * n / 2; unbiased draws put half there. */
	const uint64_t n = (1ull << 63) + (1ull << 62);
	int low = 0;
	for (int k = 0; k < 10000; k++)
		low += rng_below(&r, n) < n / 2;
	assert_in_range(low, 4700, 5300);
}

static void test_media_round_trip(void **state)
{
	(void)state;
	static uint8_t buf[1316], copy[1316];
	const uint64_t origin = 1700000000123456ull;
	media_synth_fill(3, 77, origin, buf, sizeof(buf));
	assert_true(media_synth_verify(3, 77, origin, buf, sizeof(buf)));

	/* The pattern after the header derives from each part of the identity,
	 * so a body spliced from another segment fails too. */
	media_synth_fill(3, 78, origin, copy, sizeof(copy));
	assert_memory_not_equal(buf + MEDIA_SYNTH_HDR, copy + MEDIA_SYNTH_HDR,
	                        sizeof(buf) - MEDIA_SYNTH_HDR);
	media_synth_fill(4, 77, origin, copy, sizeof(copy));
	assert_memory_not_equal(buf + MEDIA_SYNTH_HDR, copy + MEDIA_SYNTH_HDR,
	                        sizeof(buf) - MEDIA_SYNTH_HDR);
	media_synth_fill(3, 77, origin + 1, copy, sizeof(copy));
	assert_memory_not_equal(buf + MEDIA_SYNTH_HDR, copy + MEDIA_SYNTH_HDR,
	                        sizeof(buf) - MEDIA_SYNTH_HDR);

	assert_false(media_synth_verify(3, 78, origin, buf, sizeof(buf)));
	assert_false(media_synth_verify(4, 77, origin, buf, sizeof(buf)));
	assert_false(media_synth_verify(3, 77, origin + 1, buf, sizeof(buf)));
	assert_false(media_synth_verify(3, 77, origin + (1ull << 40), buf, sizeof(buf)));

	memcpy(copy, buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++) {
		copy[i] ^= 0x01;
		if (media_synth_verify(3, 77, origin, copy, sizeof(copy)))
			fail_msg("flipped byte %zu not detected", i);
		copy[i] ^= 0x81;
		if (media_synth_verify(3, 77, origin, copy, sizeof(copy)))
			fail_msg("flipped byte %zu not detected", i);
		copy[i] = buf[i];
	}
	assert_true(media_synth_verify(3, 77, origin, copy, sizeof(copy)));

	/* Too short to carry the header: nothing to check it against. */
	media_synth_fill(3, 77, origin, copy, MEDIA_SYNTH_HDR - 1);
	assert_false(media_synth_verify(3, 77, origin, copy, MEDIA_SYNTH_HDR - 1));
	media_synth_fill(3, 77, origin, copy, MEDIA_SYNTH_HDR);
	assert_true(media_synth_verify(3, 77, origin, copy, MEDIA_SYNTH_HDR));
}

/* config_set must fail with a reason that names the option. */
static void set_fails(struct config *c, const char *name, const char *value)
{
	char err[256] = "";
	if (config_set(c, name, value, err, sizeof(err)) == 0)
		fail_msg("--%s '%s' accepted", name, value);
	if (!strstr(err, name))
		fail_msg("--%s '%s': error '%s' does not name the option", name, value, err);
}

static void set_ok(struct config *c, const char *name, const char *value)
{
	char err[256] = "";
	if (config_set(c, name, value, err, sizeof(err)))
		fail_msg("--%s '%s' rejected: %s", name, value, err);
}

static void test_config_set_role(void **state)
{
	(void)state;
	struct config c;
	config_defaults(&c, ROLE_PEER);
	set_fails(&c, "rate", "300kbit");
	set_fails(&c, "stream", "tv1");
	set_fails(&c, "frobnicate", "1");
	set_ok(&c, "watch", "tv1");
	assert_string_equal(c.watch, "tv1");

	config_defaults(&c, ROLE_SOURCE);
	set_fails(&c, "watch", "tv1");
	set_fails(&c, "mode", "anysee");
	set_ok(&c, "rate", "1.5mbit");
	assert_int_equal(c.rate_bps, 1500000);

	config_defaults(&c, ROLE_RP);
	set_fails(&c, "rp", "10.0.0.1:7000");
	set_ok(&c, "listen", "10.0.0.1:7001");
	assert_string_equal(c.listen, "10.0.0.1:7001");
}

static void test_config_set_values(void **state)
{
	(void)state;
	struct config c;
	config_defaults(&c, ROLE_PEER);

	set_fails(&c, "upload", "abc");
	set_fails(&c, "upload", "0");
	set_fails(&c, "upload", "-1kbit");
	set_fails(&c, "partners", "-1");
	set_fails(&c, "partners", "many");
	set_fails(&c, "mode", "bittorrent");
	set_fails(&c, "buffer", "forever");
	set_fails(&c, "rp", "10.0.0.1");
	set_fails(&c, "rp", "10.0.0.1:0");
	set_fails(&c, "rp", "300.0.0.1:80");
	set_fails(&c, "id", "4294967296");
	set_fails(&c, "id", "-1");
	set_fails(&c, "seed", "abc");
	set_fails(&c, "seed", "");
	set_fails(&c, "seed", "-1");
	set_fails(&c, "seed", "18446744073709551616");
	set_fails(&c, "watch", "");
	set_fails(&c, "watch", "a-very-long-stream-name");

	/* Failures leave the fields as they were. */
	assert_int_equal(c.upload_bps, 10000000);
	assert_int_equal(c.partners, 4);
	assert_int_equal(c.mode, MODE_ANYSEE);
	assert_int_equal(c.seed, 1);
	assert_false(c.buffer_set);

	set_ok(&c, "id", "4294967295");
	assert_int_equal(c.id, UINT32_MAX);
	set_ok(&c, "seed", "18446744073709551615");
	assert_int_equal(c.seed, UINT64_MAX);
	set_ok(&c, "mode", "coolstreaming");
	assert_int_equal(c.mode, MODE_COOLSTREAMING);
	set_ok(&c, "startup", "500ms");
	assert_int_equal(c.startup_us, 500000);
	set_ok(&c, "watch", "fifteen-chars-x");
	assert_string_equal(c.watch, "fifteen-chars-x");
}

static void test_config_parse_args(void **state)
{
	(void)state;
	struct config c;
	int status = -1;
	config_defaults(&c, ROLE_PEER);
	char *argv[] = {
	    "peer", "--watch=tv1",  "--rp", "10.0.0.1:7000", "--buffer=10s", "--partners",
	    "3",    "--neighbours", "7"};
	assert_int_equal(config_parse_args(&c, 9, argv, &status), 0);
	assert_string_equal(c.watch, "tv1");
	assert_string_equal(c.rp, "10.0.0.1:7000");
	assert_int_equal(c.buffer_us, 10000000);
	assert_true(c.buffer_set);
	assert_int_equal(c.partners, 3);
	assert_int_equal(c.neighbours, 7);

	/* Usage errors exit with status 2. */
	char *missing[] = {"peer", "--rp", "10.0.0.1:7000", "--watch"};
	char *positional[] = {"peer", "tv1"};
	char *badval[] = {"peer", "--mode=fast"};
	char *wrongrole[] = {"peer", "--rate", "300kbit"};
	char *range[] = {"peer", "--neighbours", "15"};
	char **bad[] = {missing, positional, badval, wrongrole, range};
	int nbad[] = {4, 2, 2, 3, 3};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		status = -1;
		assert_int_equal(config_parse_args(&c, nbad[i], bad[i], &status), -1);
		assert_int_equal(status, 2);
	}

	char *help[] = {"peer", "--watch", "tv1", "--help"};
	status = -1;
	assert_int_equal(config_parse_args(&c, 4, help, &status), -1);
	assert_int_equal(status, 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char cfg_path[] = "/tmp/anysee-test-config-XXXXXX";

static int make_config_file(void **state)
{
	(void)state;
	int fd = mkstemp(cfg_path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* Runs even when the test fails half way. */
static int remove_config_file(void **state)
{
	(void)state;
	unlink(cfg_path);
	return 0;
}

static void test_config_load(void **state)
{
	(void)state;
	struct config c;
	char err[512];

	write_file(cfg_path, "# a peer\n"
	                     "\n"
	                     "  watch = tv1   # trailing comment\n"
	                     "rp=10.0.0.1:7000\n"
	                     "\tmode = coolstreaming\r\n"
	                     "partners = 2\n");
	config_defaults(&c, ROLE_PEER);
	assert_int_equal(config_load(&c, cfg_path, err, sizeof(err)), 0);
	assert_string_equal(c.watch, "tv1");
	assert_string_equal(c.rp, "10.0.0.1:7000");
	assert_int_equal(c.mode, MODE_COOLSTREAMING);
	assert_int_equal(c.partners, 2);

	/* Through --config, with later options overriding the file. */
	config_defaults(&c, ROLE_PEER);
	int status;
	char *argv[] = {"peer", "--config", cfg_path, "--partners", "3"};
	assert_int_equal(config_parse_args(&c, 5, argv, &status), 0);
	assert_string_equal(c.watch, "tv1");
	assert_int_equal(c.partners, 3);

	char want[600];
	write_file(cfg_path, "# header\nwatch = tv1\n\npartners = many\nmode = anysee\n");
	config_defaults(&c, ROLE_PEER);
	assert_int_equal(config_load(&c, cfg_path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:4: ", cfg_path);
	if (strncmp(err, want, strlen(want)) || !strstr(err, "partners") || !strstr(err, "many"))
		fail_msg("unexpected error '%s'", err);

	write_file(cfg_path, "watch = tv1\nrate = 300kbit\n");
	config_defaults(&c, ROLE_PEER);
	assert_int_equal(config_load(&c, cfg_path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: ", cfg_path);
	if (strncmp(err, want, strlen(want)) || !strstr(err, "rate"))
		fail_msg("unexpected error '%s'", err);

	write_file(cfg_path, "watch tv1\n");
	assert_int_equal(config_load(&c, cfg_path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:1: ", cfg_path);
	if (strncmp(err, want, strlen(want)))
		fail_msg("unexpected error '%s'", err);

	unlink(cfg_path);
	assert_int_equal(config_load(&c, cfg_path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, cfg_path));
}

static void finish(struct config *c, int argc, char **argv)
{
	char err[256];
	int status;
	assert_int_equal(config_parse_args(c, argc, argv, &status), 0);
	if (config_finish(c, err, sizeof(err)))
		fail_msg("config_finish: %s", err);
}

static void test_config_finish(void **state)
{
	(void)state;
	struct config c;
	char err[256];

	char *anysee[] = {"peer", "--rp", "10.0.0.1:7000", "--watch", "tv1"};
	config_defaults(&c, ROLE_PEER);
	finish(&c, 5, anysee);
	assert_int_equal(c.buffer_us, 40000000);

	char *cool[] = {"peer", "--rp",   "10.0.0.1:7000", "--watch",
	                "tv1",  "--mode", "coolstreaming"};
	config_defaults(&c, ROLE_PEER);
	finish(&c, 7, cool);
	assert_int_equal(c.buffer_us, 120000000);

	/* An explicit --buffer wins whichever order it comes in. */
	char *given[] = {"peer",    "--buffer", "15s",    "--rp",         "10.0.0.1:7000",
	                 "--watch", "tv1",      "--mode", "coolstreaming"};
	config_defaults(&c, ROLE_PEER);
	finish(&c, 9, given);
	assert_int_equal(c.buffer_us, 15000000);

	char *source[] = {"source", "--rp", "10.0.0.1:7000", "--stream", "tv1"};
	config_defaults(&c, ROLE_SOURCE);
	finish(&c, 5, source);
	assert_int_equal(c.buffer_us, 40000000);

	config_defaults(&c, ROLE_PEER);
	set_ok(&c, "watch", "tv1");
	assert_int_equal(config_finish(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--rp"));

	config_defaults(&c, ROLE_PEER);
	set_ok(&c, "rp", "10.0.0.1:7000");
	assert_int_equal(config_finish(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--watch"));

	config_defaults(&c, ROLE_PEER);
	set_ok(&c, "rp", "10.0.0.1:7000");
	set_ok(&c, "watch", "tv1");
	set_ok(&c, "max-partners", "3");
	assert_int_equal(config_finish(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--partners"));

	config_defaults(&c, ROLE_RP);
	assert_int_equal(config_finish(&c, err, sizeof(err)), 0);
}

/* A bucket is full when first used, refills at its rate up to its cap,
 * and a clock that went back adds nothing. */
static void test_bucket(void **state)
{
	(void)state;
	struct bucket b = {0};
	assert_true(bucket_level(&b, 10, 40, 5000000) == 40);
	b.tokens -= 35;
	assert_true(bucket_level(&b, 10, 40, 5500000) == 10);
	assert_true(bucket_level(&b, 10, 40, 5000000) == 10);
	assert_true(bucket_level(&b, 10, 40, 6000000) == 15);
	assert_true(bucket_level(&b, 10, 40, 60000000) == 40);
}

static void test_parse_ipport(void **state)
{
	(void)state;
	uint32_t ip = 0;
	uint16_t port = 0;
	assert_int_equal(parse_ipport("10.0.0.1:7000", &ip, &port), 0);
	assert_int_equal(ip, 0x0a000001);
	assert_int_equal(port, 7000);
	assert_int_equal(parse_ipport("192.168.1.254:65535", &ip, &port), 0);
	assert_int_equal(ip, 0xc0a801fe);
	assert_int_equal(port, 65535);

	static const char *const bad[] = {
	    "10.0.0.1", "10.0.0.1:",   "10.0.0.1:0",  "10.0.0.1:65536", "10.0.0:80",    "host:80",
	    ":80",      "1.2.3.4:80x", "1.2.3.4:-80", "::1:80",         "1.2.3.4.5:80", "",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		if (parse_ipport(bad[i], &ip, &port) == 0)
			fail_msg("parse_ipport accepted '%s'", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_rate),
	    cmocka_unit_test(test_parse_duration),
	    cmocka_unit_test(test_parse_decimal),
	    cmocka_unit_test(test_parse_long),
	    cmocka_unit_test(test_rng_deterministic),
	    cmocka_unit_test(test_rng_below_range),
	    cmocka_unit_test(test_rng_below_uniform),
	    cmocka_unit_test(test_media_round_trip),
	    cmocka_unit_test(test_config_set_role),
	    cmocka_unit_test(test_config_set_values),
	    cmocka_unit_test(test_config_parse_args),
	    cmocka_unit_test_setup_teardown(test_config_load, make_config_file, remove_config_file),
	    cmocka_unit_test(test_config_finish),
	    cmocka_unit_test(test_parse_ipport),
	    cmocka_unit_test(test_bucket),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
