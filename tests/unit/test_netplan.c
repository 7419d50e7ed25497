#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/netplan.h"
#include "netns/linkmodel.h"

static char dir[] = "/tmp/anysee-test-netplan-XXXXXX";

static int make_dir(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	(void)state;
	static const char *const names[] = {"s.lua", "m.txt", "delays.txt", "topology.gml"};
	char path[300];
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	return rmdir(dir);
}

static void write_file(const char *name, const char *text)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Load a scenario of an rp, a source and two peers on network. */
static void load(struct scenario *s, const char *network)
{
	char text[1024], path[300], err[1024] = "";
	snprintf(text, sizeof(text),
	         "network { %s }\n"
	         "rendezvous {}\nsource { stream = \"tv1\", access = { up = \"2mbit\" } }\n"
	         "peer { watch = \"tv1\" }\npeer { watch = \"tv1\" }\nrun { duration = 10 }\n",
	         network);
	write_file("s.lua", text);
	snprintf(path, sizeof(path), "%s/s.lua", dir);
	if (scenario_load(s, path, &(struct scenario_args){.seed = 3}, err, sizeof(err)))
		fail_msg("load: %s", err);
}

static uint32_t at(const uint32_t *d, uint32_t n, uint32_t a, uint32_t b)
{
	return d[(size_t)a * n + b];
}

static struct linkmodel *new_model(uint32_t n)
{
	struct linkmodel *m = linkmodel_init(calloc(1, linkmodel_size(n)), n);
	assert_non_null(m);
	return m;
}

/* No core: each path is the two access delays. */
static void test_star(void **state)
{
	(void)state;
	struct scenario s;
	struct netplan p;
	char err[512];
	load(&s, "access = { delay = \"10ms\", up = \"5mbit\" }");
	assert_int_equal(netplan_build(&p, &s, NULL, err, sizeof(err)), 0);
	assert_int_equal(p.n, 4);
	for (uint32_t a = 0; a < 4; a++) {
		assert_int_equal(p.access_us[a], 10000);
		for (uint32_t b = 0; b < 4; b++)
			assert_int_equal(at(p.delay_us, 4, a, b), a == b ? 0 : 20000);
	}
	struct linkmodel *m = new_model(4);
	netplan_fill_model(&p, &s, m);
	assert_int_equal(m->host[0].up_bps, 5000000);
	assert_int_equal(m->host[1].up_bps, 2000000);
	assert_memory_equal(m->delay_us, p.delay_us, 16 * sizeof(uint32_t));
	free(m);
	netplan_free(&p);
	scenario_free(&s);
}

/* A new access delay moves every path to and from the host, in the plan
 * and in the model, and setting the old one back restores both. */
static void test_set_access_delay(void **state)
{
	(void)state;
	struct scenario s;
	struct netplan p;
	char err[512];
	load(&s, "access = { delay = \"10ms\" }, topology = waxman { routers = 50 }");
	assert_int_equal(netplan_build(&p, &s, NULL, err, sizeof(err)), 0);
	uint32_t before[16];
	memcpy(before, p.delay_us, sizeof(before));
	struct linkmodel *m = new_model(4);
	netplan_fill_model(&p, &s, m);

	netplan_set_access_delay(&p, m, 2, 25000);
	assert_int_equal(p.access_us[2], 25000);
	for (uint32_t a = 0; a < 4; a++) {
		for (uint32_t b = 0; b < 4; b++) {
			uint32_t want = at(before, 4, a, b);
			if (a != b && (a == 2 || b == 2))
				want += 15000;
			assert_int_equal(at(p.delay_us, 4, a, b), want);
			assert_int_equal(at(m->delay_us, 4, a, b), want);
		}
	}
	netplan_set_access_delay(&p, m, 2, 10000);
	assert_memory_equal(p.delay_us, before, sizeof(before));
	assert_memory_equal(m->delay_us, before, sizeof(before));
	free(m);
	netplan_free(&p);
	scenario_free(&s);
}

/* Through a topology, both access delays are on every path, and the same
 * seed gives the same matrix, written into the run directory. */
static void test_topology(void **state)
{
	(void)state;
	struct scenario s;
	struct netplan p, q;
	char err[512], path[300];
	load(&s, "access = { delay = \"7ms\" }, topology = waxman { routers = 50 }");
	assert_int_equal(netplan_build(&p, &s, dir, err, sizeof(err)), 0);
	assert_int_equal(netplan_build(&q, &s, NULL, err, sizeof(err)), 0);
	assert_memory_equal(p.delay_us, q.delay_us, 16 * sizeof(uint32_t));
	for (uint32_t a = 0; a < 4; a++)
		for (uint32_t b = 0; b < 4; b++)
			assert_true(a == b ? at(p.delay_us, 4, a, b) == 0
			                   : at(p.delay_us, 4, a, b) >= 14000);
	snprintf(path, sizeof(path), "%s/delays.txt", dir);
	assert_int_equal(access(path, R_OK), 0);
	snprintf(path, sizeof(path), "%s/topology.gml", dir);
	assert_int_equal(access(path, R_OK), 0);
	netplan_free(&p);
	netplan_free(&q);
	scenario_free(&s);
}

/* A matrix file is taken as given, and must have one row per host. */
static void test_matrix(void **state)
{
	(void)state;
	struct scenario s;
	struct netplan p;
	char err[512];
	write_file("m.txt", "0 1 2 3\n1 0 4 5\n2 4 0 6\n3 5 6 0\n");
	load(&s, "access = { delay = \"10ms\" }, topology = matrix { file = \"m.txt\" }");
	assert_int_equal(netplan_build(&p, &s, NULL, err, sizeof(err)), 0);
	assert_int_equal(at(p.delay_us, 4, 1, 3), 5000);
	assert_int_equal(at(p.delay_us, 4, 3, 2), 6000);
	assert_int_equal(p.access_us[1], 10000);
	netplan_free(&p);
	scenario_free(&s);

	write_file("m.txt", "0 1\n1 0\n");
	load(&s, "topology = matrix { file = \"m.txt\" }");
	assert_int_equal(netplan_build(&p, &s, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "s.lua:1: matrix{}:"));
	assert_non_null(strstr(err, "is 2x2 but the scenario has 4 hosts"));
	assert_null(p.delay_us);
	scenario_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_star),
	    cmocka_unit_test(test_set_access_delay),
	    cmocka_unit_test(test_topology),
	    cmocka_unit_test(test_matrix),
	};
	return cmocka_run_group_tests_name("netplan", tests, make_dir, remove_dir);
}
