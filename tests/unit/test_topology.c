/* cmocka.h needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "netns/topology.h"

/* The fixture is under tests/data; paths are relative to the repository
 * root, where the tests are run from. */
#define TEST_DATA_DIR "tests/data"
/* Real backbones, used when present; the project must not depend on them. */
#ifndef REAL_TOPOLOGIES
#define REAL_TOPOLOGIES "scenarios/topologies"
#endif

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));               \
	} while (0)

static char err[512];

static struct topo *gml_ok(const char *text)
{
	struct topo_gml_opts o;
	topo_gml_defaults(&o);
	struct topo *t = NULL;
	if (topo_gml_parse(text, strlen(text), "t.gml", &o, &t, err, sizeof(err)))
		fail_msg("parsing failed: %s", err);
	return t;
}

static void gml_bad(const char *text, const char *expect)
{
	struct topo_gml_opts o;
	topo_gml_defaults(&o);
	struct topo *t = (struct topo *)&o; /* must stay untouched on failure */
	err[0] = '\0';
	assert_int_equal(topo_gml_parse(text, strlen(text), "t.gml", &o, &t, err, sizeof(err)), -1);
	assert_ptr_equal(t, (struct topo *)&o);
	assert_contains(err, expect);
}

static struct topo *generate(enum topo_model model, uint32_t n, double avg, uint64_t seed)
{
	struct topo_gen g;
	topo_gen_defaults(&g);
	g.model = model;
	g.nrouters = n;
	g.avg_degree = avg;
	g.seed = seed;
	struct topo *t = NULL;
	if (topo_generate(&g, &t, err, sizeof(err)))
		fail_msg("generating failed: %s", err);
	return t;
}

static const struct topo_link *find_link(const struct topo *t, uint32_t a, uint32_t b)
{
	size_t n;
	const struct topo_link *l = topo_links(t, &n);
	for (size_t i = 0; i < n; i++) {
		if ((l[i].a == a && l[i].b == b) || (l[i].a == b && l[i].b == a))
			return &l[i];
	}
	return NULL;
}

static uint32_t *host_matrix(const struct topo *t)
{
	uint32_t n = topo_nhosts(t);
	uint32_t *m = malloc(sizeof(*m) * n * n);
	assert_non_null(m);
	if (topo_host_delays(t, m, err, sizeof(err)))
		fail_msg("host delays failed: %s", err);
	return m;
}

/* --- graph and shortest paths ------------------------------------------------ */

/*  0 --4-- 1 --1-- 2
 *  |       |       |
 *  8       2       9
 *  |       |       |
 *  3 --1-- 4 --3-- 5     and 6 alone */
static struct topo *hand_graph(void)
{
	static const uint32_t e[][3] = {{0, 1, 4}, {1, 2, 1}, {0, 3, 8}, {1, 4, 2},
	                                {2, 5, 9}, {3, 4, 1}, {4, 5, 3}};
	struct topo *t = topo_new(7);
	assert_non_null(t);
	for (size_t i = 0; i < ARRAY_LEN(e); i++)
		assert_int_equal(topo_add_link(t, e[i][0], e[i][1], e[i][2], 0, err, sizeof(err)),
		                 0);
	return t;
}

static void test_dijkstra_hand(void **state)
{
	(void)state;
	struct topo *t = hand_graph();
	uint64_t dist[7];
	uint32_t prev[7];
	assert_int_equal(topo_shortest(t, 0, dist, prev), 0);
	static const uint64_t want[7] = {0, 4, 5, 7, 6, 9, TOPO_UNREACHABLE};
	for (int i = 0; i < 7; i++)
		assert_int_equal(dist[i], want[i]);
	/* 0 -> 3 goes round through 1 and 4 (7) rather than straight (8). */
	assert_int_equal(prev[3], 4);
	assert_int_equal(prev[4], 1);
	assert_int_equal(prev[1], 0);
	assert_int_equal(prev[0], 0);
	assert_int_equal(prev[5], 4);
	assert_int_equal(prev[6], UINT32_MAX);
	assert_int_equal(topo_shortest(t, 7, dist, prev), -1);
	assert_int_equal(topo_connected(t), 0);
	topo_free(t);
}

static void test_add_link(void **state)
{
	(void)state;
	struct topo *t = topo_new(3);
	assert_int_equal(topo_add_link(t, 2, 1, 500, 100, err, sizeof(err)), 0);
	assert_int_equal(topo_add_link(t, 1, 2, 300, 50, err, sizeof(err)), 0);
	assert_int_equal(topo_add_link(t, 1, 2, 900, 0, err, sizeof(err)), 0);
	size_t n;
	const struct topo_link *l = topo_links(t, &n);
	assert_int_equal(n, 1);
	assert_int_equal(l[0].a, 1);
	assert_int_equal(l[0].b, 2);
	assert_int_equal(l[0].delay_us, 300);
	assert_int_equal(l[0].bps, 150);
	assert_int_equal(topo_degree(t, 1), 1);
	/* The merged delay is the one paths use, from both ends. */
	uint64_t dist[3];
	topo_shortest(t, 2, dist, NULL);
	assert_int_equal(dist[1], 300);
	topo_shortest(t, 1, dist, NULL);
	assert_int_equal(dist[2], 300);

	assert_int_equal(topo_add_link(t, 1, 1, 5, 0, err, sizeof(err)), -1);
	assert_contains(err, "to itself");
	assert_int_equal(topo_add_link(t, 0, 3, 5, 0, err, sizeof(err)), -1);
	assert_contains(err, "has 3 routers");
	assert_null(topo_new(0));
	topo_free(t);
	topo_free(NULL);
}

/* Reference all-pairs distances for random graphs, parallel links and zero
 * delays included, some disconnected. */
static void test_dijkstra_vs_floyd(void **state)
{
	(void)state;
	struct rng rng;
	rng_seed(&rng, 42);
	for (int round = 0; round < 200; round++) {
		uint32_t n = 1 + (uint32_t)rng_below(&rng, 30);
		uint64_t *w = malloc(sizeof(*w) * n * n);
		for (uint32_t i = 0; i < n * n; i++)
			w[i] = i % (n + 1) ? TOPO_UNREACHABLE : 0;
		struct topo *t = topo_new(n);
		uint32_t links = n > 1 ? (uint32_t)rng_below(&rng, 3 * n) : 0;
		for (uint32_t k = 0; k < links; k++) {
			uint32_t a = (uint32_t)rng_below(&rng, n), b = (uint32_t)rng_below(&rng, n);
			uint32_t d = (uint32_t)rng_below(&rng, 1000);
			if (a == b)
				continue;
			assert_int_equal(topo_add_link(t, a, b, d, 0, err, sizeof(err)), 0);
			if (d < w[a * n + b])
				w[a * n + b] = w[b * n + a] = d;
		}
		uint64_t *fw = malloc(sizeof(*fw) * n * n);
		memcpy(fw, w, sizeof(*fw) * n * n);
		for (uint32_t k = 0; k < n; k++)
			for (uint32_t i = 0; i < n; i++)
				for (uint32_t j = 0; j < n; j++)
					if (fw[i * n + k] != TOPO_UNREACHABLE &&
					    fw[k * n + j] != TOPO_UNREACHABLE &&
					    fw[i * n + k] + fw[k * n + j] < fw[i * n + j])
						fw[i * n + j] = fw[i * n + k] + fw[k * n + j];
		uint64_t *dist = malloc(sizeof(*dist) * n);
		uint32_t *prev = malloc(sizeof(*prev) * n);
		for (uint32_t s = 0; s < n; s++) {
			assert_int_equal(topo_shortest(t, s, dist, prev), 0);
			for (uint32_t v = 0; v < n; v++) {
				assert_int_equal(dist[v], fw[s * n + v]);
				if (v == s || dist[v] == TOPO_UNREACHABLE)
					continue;
				/* prev must be the last hop of a shortest path. */
				uint32_t u = prev[v];
				assert_true(u < n);
				assert_int_not_equal(w[u * n + v], TOPO_UNREACHABLE);
				assert_int_equal(dist[u] + w[u * n + v], dist[v]);
			}
		}
		free(dist);
		free(prev);
		free(fw);
		free(w);
		topo_free(t);
	}
}

/* Sums beyond 32 bits stay exact in paths and are refused in the matrix. */
static void test_long_paths(void **state)
{
	(void)state;
	struct topo *t = topo_new(3);
	topo_add_link(t, 0, 1, UINT32_MAX, 0, err, sizeof(err));
	topo_add_link(t, 1, 2, UINT32_MAX, 0, err, sizeof(err));
	uint64_t dist[3];
	topo_shortest(t, 0, dist, NULL);
	assert_int_equal(dist[2], 2 * (uint64_t)UINT32_MAX);
	topo_host_add(t, 0, 0, NULL, err, sizeof(err));
	topo_host_add(t, 2, 0, NULL, err, sizeof(err));
	uint32_t m[4];
	assert_int_equal(topo_host_delays(t, m, err, sizeof(err)), -1);
	assert_contains(err, "overflows");
	topo_free(t);
}

/* --- generators -------------------------------------------------------------------- */

static int same_links(const struct topo *x, const struct topo *y)
{
	size_t nx, ny;
	const struct topo_link *lx = topo_links(x, &nx), *ly = topo_links(y, &ny);
	if (nx != ny)
		return 0;
	for (size_t i = 0; i < nx; i++) {
		if (lx[i].a != ly[i].a || lx[i].b != ly[i].b || lx[i].delay_us != ly[i].delay_us ||
		    lx[i].bps != ly[i].bps)
			return 0;
	}
	return 1;
}

static void test_generate_deterministic(void **state)
{
	(void)state;
	static const enum topo_model models[] = {TOPO_WAXMAN, TOPO_WAXMAN_PAIRS, TOPO_BA};
	for (size_t i = 0; i < ARRAY_LEN(models); i++) {
		struct topo *a = generate(models[i], 400, 5, 7);
		struct topo *b = generate(models[i], 400, 5, 7);
		struct topo *c = generate(models[i], 400, 5, 8);
		assert_true(same_links(a, b));
		assert_false(same_links(a, c));
		struct topo *all[] = {a, b, c};
		uint32_t *m[3];
		for (int k = 0; k < 3; k++) {
			assert_int_equal(topo_hosts_attach(all[k], 50, TOPO_ATTACH_UNIFORM, 1000, 3,
			                                   err, sizeof(err)),
			                 0);
			m[k] = host_matrix(all[k]);
		}
		assert_memory_equal(m[0], m[1], sizeof(uint32_t) * 50 * 50);
		assert_memory_not_equal(m[0], m[2], sizeof(uint32_t) * 50 * 50);
		for (int k = 0; k < 3; k++) {
			free(m[k]);
			topo_free(all[k]);
		}
	}
}

/* The paper's setting: average degree 4 to 10; fractional values average
 * out. Every new router makes at least avg/2 rounded down links. */
static void test_generate_degree(void **state)
{
	(void)state;
	static const enum topo_model models[] = {TOPO_WAXMAN, TOPO_BA};
	for (size_t i = 0; i < ARRAY_LEN(models); i++) {
		for (double avg = 4; avg <= 10; avg += 1.5) {
			struct topo *t = generate(models[i], 1500, avg, 11);
			struct topo_degree d;
			topo_degree_stats(t, &d);
			assert_true(fabs(d.mean - avg) < 0.15);
			assert_true(d.min >= (uint32_t)(avg / 2));
			assert_true(d.max > d.min);
			assert_int_equal(topo_connected(t), 1);
			topo_free(t);
		}
	}
	/* Preferential attachment grows hubs, distance-bound Waxman does not. */
	struct topo *ba = generate(TOPO_BA, 1500, 4, 1), *wx = generate(TOPO_WAXMAN, 1500, 4, 1);
	struct topo_degree dba, dwx;
	topo_degree_stats(ba, &dba);
	topo_degree_stats(wx, &dwx);
	assert_true(dba.max > 2 * dwx.max);
	topo_free(ba);
	topo_free(wx);
}

/* Classic Waxman leaves isolated routers when alpha is small: they must be
 * joined, and alpha must show in the degree. */
static void test_generate_pairs(void **state)
{
	(void)state;
	struct topo_gen g;
	topo_gen_defaults(&g);
	g.model = TOPO_WAXMAN_PAIRS;
	g.nrouters = 600;
	static const double alphas[] = {0.001, 0.02, 0.1, 0.5};
	double last = 0;
	for (size_t i = 0; i < ARRAY_LEN(alphas); i++) {
		g.alpha = alphas[i];
		struct topo *t;
		assert_int_equal(topo_generate(&g, &t, err, sizeof(err)), 0);
		struct topo_degree d;
		topo_degree_stats(t, &d);
		assert_int_equal(topo_connected(t), 1);
		assert_true(d.min >= 1);
		assert_true(d.mean > last);
		last = d.mean;
		topo_free(t);
	}
}

/* Link delays follow distance: never below the hop delay, never above the
 * plane's diagonal at fibre speed; host paths obey the triangle inequality. */
static void test_generate_delays(void **state)
{
	(void)state;
	struct topo_gen g;
	topo_gen_defaults(&g);
	g.nrouters = 2000;
	g.plane = 3000;
	g.km_per_unit = 2;
	g.delay.hop_us = 250;
	struct topo *t;
	assert_int_equal(topo_generate(&g, &t, err, sizeof(err)), 0);
	size_t n;
	const struct topo_link *l = topo_links(t, &n);
	double max_us = 250 + 3000 * sqrt(2) * 2 / 200000 * 1e6;
	uint32_t longest = 0;
	for (size_t i = 0; i < n; i++) {
		assert_true(l[i].delay_us >= 250 && l[i].delay_us <= max_us + 1);
		longest = l[i].delay_us > longest ? l[i].delay_us : longest;
	}
	/* Waxman favours short links: the longest is well under the diagonal. */
	assert_true(longest < max_us);

	assert_int_equal(topo_hosts_attach(t, 40, TOPO_ATTACH_UNIFORM, 700, 5, err, sizeof(err)),
	                 0);
	assert_int_equal(topo_hosts_attach(t, 20, TOPO_ATTACH_STUB, 1500, 6, err, sizeof(err)), 0);
	uint32_t h = topo_nhosts(t);
	assert_int_equal(h, 60);
	uint32_t *m = host_matrix(t);
	uint64_t *dist = malloc(sizeof(*dist) * g.nrouters);
	for (uint32_t a = 0; a < h; a++) {
		assert_int_equal(m[a * h + a], 0);
		topo_shortest(t, topo_host_router(t, a), dist, NULL);
		for (uint32_t b = 0; b < h; b++) {
			assert_int_equal(m[a * h + b], m[b * h + a]);
			if (a != b)
				assert_int_equal(m[a * h + b], topo_host_access(t, a) +
				                                   topo_host_access(t, b) +
				                                   dist[topo_host_router(t, b)]);
			for (uint32_t c = 0; c < h; c++)
				assert_true(m[a * h + c] <= (uint64_t)m[a * h + b] + m[b * h + c]);
		}
	}
	free(dist);
	free(m);
	topo_free(t);
}

static double mean_link_delay(enum topo_model model, double beta)
{
	struct topo_gen g;
	topo_gen_defaults(&g);
	g.model = model;
	g.nrouters = 1500;
	g.beta = beta;
	struct topo *t;
	assert_int_equal(topo_generate(&g, &t, err, sizeof(err)), 0);
	size_t n;
	const struct topo_link *l = topo_links(t, &n);
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += l[i].delay_us;
	topo_free(t);
	return sum / n;
}

/* Waxman prefers near routers, the more so the smaller beta; preferential
 * attachment ignores distance (random points on a 1000 km square are 521 km
 * apart on average: 2.6 ms plus the hop). */
static void test_generate_locality(void **state)
{
	(void)state;
	double near = mean_link_delay(TOPO_WAXMAN, 0.05), mid = mean_link_delay(TOPO_WAXMAN, 0.2);
	double far = mean_link_delay(TOPO_WAXMAN, 1.0), ba = mean_link_delay(TOPO_BA, 0.05);
	assert_true(near < 0.4 * ba);
	assert_true(near < 0.6 * mid);
	assert_true(mid < 0.85 * far);
	assert_true(ba > 2500 && ba < 2900);
}

static void test_generate_errors(void **state)
{
	(void)state;
	struct topo_gen g;
	struct topo *t = NULL;
	topo_gen_defaults(&g);
	g.avg_degree = 1;
	assert_int_equal(topo_generate(&g, &t, err, sizeof(err)), -1);
	assert_contains(err, "average degree 1 is not in [2, 4999]");
	topo_gen_defaults(&g);
	g.beta = 0;
	assert_int_equal(topo_generate(&g, &t, err, sizeof(err)), -1);
	assert_contains(err, "beta");
	topo_gen_defaults(&g);
	g.nrouters = 1;
	assert_int_equal(topo_generate(&g, &t, err, sizeof(err)), -1);
	assert_contains(err, "1 routers");
	topo_gen_defaults(&g);
	g.delay.km_per_s = 0;
	assert_int_equal(topo_generate(&g, &t, err, sizeof(err)), -1);
	assert_contains(err, "propagation speed");
	topo_gen_defaults(&g);
	g.model = (enum topo_model)9;
	assert_int_equal(topo_generate(&g, &t, err, sizeof(err)), -1);
	assert_contains(err, "unknown model");
	assert_null(t);
	/* Average degree 2 needs three routers: a path of two links. */
	topo_gen_defaults(&g);
	g.nrouters = 2;
	g.avg_degree = 2;
	assert_int_equal(topo_generate(&g, &t, err, sizeof(err)), -1);
	assert_contains(err, "average degree 2 is not in [2, 1]");
	g.nrouters = 3;
	assert_int_equal(topo_generate(&g, &t, err, sizeof(err)), 0);
	size_t n;
	topo_links(t, &n);
	assert_int_equal(n, 2);
	assert_int_equal(topo_connected(t), 1);
	topo_free(t);
}

/* --- hosts ------------------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static void test_attach(void **state)
{
	(void)state;
	struct topo *t = generate(TOPO_WAXMAN, 1000, 7, 3);
	uint32_t n = topo_nrouters(t);
	uint32_t *deg = malloc(sizeof(*deg) * n), *sorted = malloc(sizeof(*deg) * n);
	for (uint32_t r = 0; r < n; r++)
		sorted[r] = deg[r] = topo_degree(t, r);
	qsort(sorted, n, sizeof(*sorted), cmp_u32);
	uint32_t median = sorted[(n - 1) / 2];
	assert_int_equal(topo_hosts_attach(t, 300, TOPO_ATTACH_STUB, 1000, 9, err, sizeof(err)), 0);
	for (uint32_t h = 0; h < 300; h++)
		assert_true(deg[topo_host_router(t, h)] <= median);
	assert_int_equal(topo_hosts_attach(t, 300, TOPO_ATTACH_UNIFORM, 2000, 9, err, sizeof(err)),
	                 0);
	uint32_t above = 0;
	for (uint32_t h = 300; h < 600; h++) {
		above += deg[topo_host_router(t, h)] > median;
		assert_int_equal(topo_host_access(t, h), 2000);
	}
	assert_true(above > 60);

	struct topo *u = generate(TOPO_WAXMAN, 1000, 7, 3);
	topo_hosts_attach(u, 300, TOPO_ATTACH_STUB, 1000, 9, err, sizeof(err));
	topo_hosts_attach(u, 300, TOPO_ATTACH_UNIFORM, 2000, 9, err, sizeof(err));
	int differs = 0;
	for (uint32_t h = 0; h < 600; h++)
		assert_int_equal(topo_host_router(u, h), topo_host_router(t, h));
	topo_hosts_attach(u, 50, TOPO_ATTACH_UNIFORM, 2000, 10, err, sizeof(err));
	for (uint32_t h = 0; h < 50; h++)
		differs |= topo_host_router(u, 600 + h) != topo_host_router(t, 300 + h);
	assert_true(differs);

	assert_int_equal(topo_host_add(t, n, 0, NULL, err, sizeof(err)), -1);
	assert_contains(err, "router 1000");
	assert_int_equal(topo_hosts_attach(t, 1, (enum topo_attach)5, 0, 0, err, sizeof(err)), -1);
	assert_int_equal(topo_host_router(t, 100000), UINT32_MAX);
	free(deg);
	free(sorted);
	topo_free(u);
	topo_free(t);
}

/* Hosts on one router are two access links apart; hosts in different parts of
 * a disconnected graph have no delay at all. */
static void test_host_matrix_cases(void **state)
{
	(void)state;
	struct topo *t = hand_graph();
	uint32_t h;
	assert_int_equal(topo_host_add(t, 1, 100, &h, err, sizeof(err)), 0);
	assert_int_equal(h, 0);
	topo_host_add(t, 1, 200, &h, err, sizeof(err));
	topo_host_add(t, 3, 300, &h, err, sizeof(err));
	assert_int_equal(h, 2);
	uint32_t *m = host_matrix(t);
	static const uint32_t want[9] = {0, 300, 403, 300, 0, 503, 403, 503, 0};
	assert_memory_equal(m, want, sizeof(want));
	free(m);
	topo_host_add(t, 6, 0, NULL, err, sizeof(err));
	uint32_t m4[16];
	assert_int_equal(topo_host_delays(t, m4, err, sizeof(err)), -1);
	assert_contains(err, "host 0 (router 1) cannot reach host 3 (router 6)");
	topo_free(t);
	struct topo *e = topo_new(1);
	assert_int_equal(topo_host_delays(e, m4, err, sizeof(err)), 0);
	topo_free(e);
}

/* --- GML ----------------------------------------------------------------------------- */

static void test_gml_fixture(void **state)
{
	(void)state;
	struct topo_gml_opts o;
	topo_gml_defaults(&o);
	struct topo *t;
	if (topo_gml_load(TEST_DATA_DIR "/topo_small.gml", &o, &t, err, sizeof(err)))
		fail_msg("%s (run the tests from the repository root)", err);
	assert_int_equal(topo_nrouters(t), 5);
	assert_string_equal(topo_router_label(t, 0), "West End");
	assert_string_equal(topo_router_label(t, 4), "Peering # not a comment");
	uint32_t r;
	assert_int_equal(topo_router_find(t, "far north", &r), 0);
	assert_int_equal(r, 3);
	assert_int_equal(topo_router_find(t, "Atlantis", &r), -1);

	/* One degree of a great circle is 6371 km * pi / 180 = 111.195 km,
	 * 555.97 us at 200000 km/s, plus the 100 us hop. */
	size_t n;
	topo_links(t, &n);
	assert_int_equal(n, 6); /* parallel link merged, self-loop dropped */
	const struct topo_link *l = find_link(t, 0, 1);
	assert_non_null(l);
	assert_in_range(l->delay_us, 655, 657);
	assert_int_equal(l->bps, 1155000000u);
	assert_int_equal(find_link(t, 1, 2)->delay_us, 10000);
	assert_int_equal(find_link(t, 2, 3)->delay_us, 2500);
	/* A quarter of a great circle: 10007.5 km. */
	assert_in_range(find_link(t, 0, 3)->delay_us, 50137, 50139);
	/* Peering sits at the mean of West End and East Point. */
	assert_in_range(find_link(t, 4, 0)->delay_us, 655, 657);
	assert_in_range(find_link(t, 4, 2)->delay_us, 655, 657);
	assert_null(find_link(t, 1, 3));

	struct topo_degree d;
	topo_degree_stats(t, &d);
	assert_int_equal(d.min, 2);
	assert_int_equal(d.max, 3);
	assert_true(fabs(d.mean - 2.4) < 1e-9);

	/* Mid Town to Far North: through Peering and East Point (4468 us)
	 * beats the explicit 10 ms link and the pole route. */
	topo_host_add(t, 1, TOPO_DEFAULT_ACCESS_US, NULL, err, sizeof(err));
	topo_host_add(t, 3, TOPO_DEFAULT_ACCESS_US, NULL, err, sizeof(err));
	uint32_t *m = host_matrix(t);
	assert_in_range(m[1], 6466, 6470);
	free(m);
	topo_free(t);

	topo_gml_defaults(&o);
	o.unplaced = TOPO_UNPLACED_DEFAULT_DELAY;
	o.default_delay_us = 7777;
	o.delay.hop_us = 0;
	assert_int_equal(topo_gml_load(TEST_DATA_DIR "/topo_small.gml", &o, &t, err, sizeof(err)),
	                 0);
	assert_int_equal(find_link(t, 4, 0)->delay_us, 7777);
	assert_int_equal(find_link(t, 4, 2)->delay_us, 7777);
	assert_in_range(find_link(t, 0, 1)->delay_us, 555, 557);
	topo_free(t);
}

/* Shadow's dialect: explicit latencies with units, self-loops, no
 * coordinates at all. */
static void test_gml_shadow(void **state)
{
	(void)state;
	struct topo *t = gml_ok("graph [\n"
	                        "  directed 0\n"
	                        "  node [ id 0 host_bandwidth_down \"140 Mbit\" ]\n"
	                        "  node [ id 1 host_bandwidth_up \"18 Mbit\" ]\n"
	                        "  node [ id 2 ]\n"
	                        "  node [ id 3 ]\n"
	                        "  edge [ source 0 target 0 latency \"50 ms\" packet_loss 0.0 ]\n"
	                        "  edge [ source 0 target 1 latency \"50 ms\" jitter \"0 ms\" ]\n"
	                        "  edge [ source 1 target 2 latency \"250us\" ]\n"
	                        "  edge [ source 2 target 3 latency \" 1.5 s \" ]\n"
	                        "  edge [ source 3 target 0 latency \"2000 ns\" ]\n"
	                        "]\n");
	assert_int_equal(find_link(t, 0, 1)->delay_us, 50000);
	assert_int_equal(find_link(t, 1, 2)->delay_us, 250);
	assert_int_equal(find_link(t, 2, 3)->delay_us, 1500000);
	assert_int_equal(find_link(t, 0, 3)->delay_us, 2);
	/* Unplaced nodes whose links all carry delays need no default. */
	struct topo_degree d;
	topo_degree_stats(t, &d);
	assert_int_equal(d.min, 2);
	topo_free(t);

	/* No placed neighbour, no position: the default delay. */
	t = gml_ok("graph [ node [ id 1 ] node [ id 2 ] edge [ source 1 target 2 ] ]");
	assert_int_equal(find_link(t, 0, 1)->delay_us, 10000);
	topo_free(t);
	/* 2 lands between 1 and 4, then 3, whose only neighbour is 2, on 2. */
	t = gml_ok(
	    "graph [ node [ id 1 Latitude 0 Longitude 0 ] node [ id 2 ] node [ id 3 ]\n"
	    "node [ id 4 Latitude 0 Longitude 2 ]\n"
	    "edge [ source 1 target 2 ] edge [ source 2 target 3 ] edge [ source 2 target 4 ] ]");
	assert_in_range(find_link(t, 0, 1)->delay_us, 655, 657);
	assert_in_range(find_link(t, 1, 3)->delay_us, 655, 657);
	assert_int_equal(find_link(t, 1, 2)->delay_us, 100);
	topo_free(t);
}

static void test_gml_errors(void **state)
{
	(void)state;
	gml_bad("graph [\n"
	        "  node [ id 1 ]\n"
	        "  node [ id 2 ]\n"
	        "  edge [ source 1 target 3 ]\n"
	        "]\n",
	        "t.gml:4: edge target 3 is not the id of any node");
	gml_bad("graph [\n"
	        "  node [\n"
	        "    id 1\n"
	        "  node [\n"
	        "    id 2\n"
	        "  ]\n"
	        "]\n",
	        "t.gml:4: 'node' inside the node opened at line 2");
	gml_bad("graph [\n"
	        "  node [ id 1 ]\n"
	        "  edge [ source 1 target 1\n",
	        "t.gml:3: '[' is never closed");
	gml_bad("graph [\n"
	        "  node [ id 1 ]\n"
	        "  node [ id 2 graphics [ x 1\n"
	        "]\n",
	        "t.gml:3: '[' is never closed");
	gml_bad("graph [\n"
	        "  node [ id 1 ] ]\n"
	        "  node [ id 2 ]\n"
	        "]\n",
	        "t.gml:2: ']' closes the graph opened at line 1, yet a node follows at line 3");
	gml_bad("graph [\n"
	        "  node [ id 1 ] ]\n"
	        "]\n",
	        "t.gml:2: ']' closes the graph opened at line 1, yet line 3 has another ']'");
	gml_bad("]\n", "t.gml:1: ']' without a matching '['");
	gml_bad("# empty\ngraph [ directed 0 ]\n", "t.gml:2: the graph has no nodes");
	gml_bad("Creator \"x\"\n", "t.gml: no graph [ ... ] in the file");
	gml_bad("", "t.gml: no graph");
	gml_bad("graph [\n"
	        "  node [ id 1 label \"A\" ]\n"
	        "  node [ id 2 label \"B\" ]\n"
	        "  node [ id 3 label \"C\" ]\n"
	        "  edge [ source 1 target 2 delay 1 ]\n"
	        "]\n",
	        "t.gml:4: node 3 (C) cannot be reached from node 1 (A)");
	gml_bad("graph [\n  node [ id 1 label \"abc ]\n]\n", "t.gml:2: string is never closed");
	gml_bad("graph [\n  directed 1\n  node [ id 1 ]\n]\n",
	        "t.gml:2: directed graphs are not supported");
	gml_bad("graph [\n  node [ id 1 ]\n  node [ id 1 ]\n]\n",
	        "t.gml:3: duplicate node id 1 (also at line 2)");
	gml_bad("graph [\n node [ id 1 ]\n node [ id 2 ]\n"
	        " edge [ source 1 target 2\n latency \"fast\" ]\n]\n",
	        "t.gml:5: link delay 'fast' is not a duration");
	gml_bad(
	    "graph [ node [ id 1 ] node [ id 2 ] edge [ source 1 target 2 latency \"-5 ms\" ] ]",
	    "t.gml:1: link delay '-5 ms'");
	gml_bad("graph [ node [ id 1 ] node [ id 2 ] edge [ source 1 target 2 latency \" ms\" ] ]",
	        "link delay ' ms'");
	gml_bad("graph [ node [ id 1 ] node [ id 2 ] edge [ source 1 target 2 delay 5 parsecs ] ]",
	        "key 'parsecs' has no value");
	gml_bad("graph [\n  node [ label \"x\" ]\n]\n", "t.gml:2: node has no id");
	gml_bad("graph [\n  node [ id 1x ]\n]\n", "t.gml:2: node id '1x' is not an integer");
	gml_bad("graph [\n  node [ id 1 Latitude 3 ]\n]\n",
	        "t.gml:2: node 1 has a Latitude but no Longitude");
	gml_bad("graph [\n  node [ id 1 Latitude 91 Longitude 3 ]\n]\n", "t.gml:2: node 1 has");
	gml_bad("graph [\n  node [ id 1 ]\n  edge [ source 1 ]\n]\n",
	        "t.gml:3: edge has no target");
	gml_bad("graph [\n  node [ id ]\n]\n", "t.gml:2: key 'id' has no value");
	gml_bad("graph [\n  node [ id 1 ] @\n]\n", "t.gml:2: unexpected character '@'");
	gml_bad("graph [\n  node 5\n]\n", "t.gml:2: node must be a list");
	gml_bad("graph [ node [ id 1 ] ]\ngraph [ node [ id 1 ] ]\n",
	        "t.gml:2: second graph (the first is at line 1)");
	gml_bad("node [ id 1 ]\n", "t.gml:1: node outside of graph");
	gml_bad("graph [\n  node [ id 1 ]\n  5 5\n]\n", "t.gml:3: expected a key, found a number");
	gml_bad("graph [ node [ id 1 ] node [ id 2 ] edge [ source 1 target 2 LinkSpeedRaw -1 ] ]",
	        "LinkSpeedRaw -1 is not a rate");

	struct topo_gml_opts o;
	topo_gml_defaults(&o);
	struct topo *t;
	assert_int_equal(topo_gml_load("/nonexistent/x.gml", &o, &t, err, sizeof(err)), -1);
	assert_contains(err, "opening /nonexistent/x.gml: No such file or directory");
	o.unplaced = (enum topo_unplaced)4;
	assert_int_equal(topo_gml_parse("", 0, "t.gml", &o, &t, err, sizeof(err)), -1);
	assert_contains(err, "t.gml: unknown treatment 4");
}

static void test_gml_real(void **state)
{
	(void)state;
	if (access(REAL_TOPOLOGIES, R_OK) != 0) {
		print_message("skipped: %s is absent\n", REAL_TOPOLOGIES);
		skip();
	}
	static const struct {
		const char *file;
		uint32_t nodes;
		size_t links; /* the files' parallel links count once */
	} want[] = {{"Cernet.gml", 41, 58}, {"Geant2010.gml", 37, 56}};
	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/%s", REAL_TOPOLOGIES, want[i].file);
		struct topo_gml_opts o;
		topo_gml_defaults(&o);
		struct topo *t;
		if (topo_gml_load(path, &o, &t, err, sizeof(err)))
			fail_msg("%s", err);
		size_t n;
		const struct topo_link *l = topo_links(t, &n);
		assert_int_equal(topo_nrouters(t), want[i].nodes);
		assert_int_equal(n, want[i].links);
		assert_int_equal(topo_connected(t), 1);
		/* Backbone links: a few ms at most. */
		for (size_t k = 0; k < n; k++)
			assert_in_range(l[k].delay_us, 100, 20000);
		topo_free(t);
	}
	char path[256];
	snprintf(path, sizeof(path), "%s/Cernet.gml", REAL_TOPOLOGIES);
	struct topo_gml_opts o;
	topo_gml_defaults(&o);
	struct topo *t;
	assert_int_equal(topo_gml_load(path, &o, &t, err, sizeof(err)), 0);
	uint32_t wuhan, beijing;
	assert_int_equal(topo_router_find(t, "Wuhan", &wuhan), 0);
	assert_int_equal(topo_router_find(t, "Beijing", &beijing), 0);
	uint64_t *dist = malloc(sizeof(*dist) * topo_nrouters(t));
	topo_shortest(t, wuhan, dist, NULL);
	/* Wuhan-Beijing is about 1050 km as the crow flies: over 5 ms. */
	assert_in_range(dist[beijing], 5000, 15000);
	free(dist);
	topo_free(t);
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_topology.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	(void)state;
	char path[128];
	static const char *const files[] = {"t.gml", "m.txt"};
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	return rmdir(tmpdir);
}

static void test_gml_write_roundtrip(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/t.gml", tmpdir);
	struct topo *t = generate(TOPO_WAXMAN, 300, 6, 2);
	topo_hosts_attach(t, 10, TOPO_ATTACH_UNIFORM, 1000, 1, err, sizeof(err));
	assert_int_equal(topo_gml_write(t, path, err, sizeof(err)), 0);
	struct topo_gml_opts o;
	topo_gml_defaults(&o);
	struct topo *u;
	if (topo_gml_load(path, &o, &u, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(topo_nrouters(u), 300);
	assert_true(same_links(t, u));
	topo_free(u);
	topo_free(t);

	/* Geographic coordinates, labels and capacities survive too. */
	assert_int_equal(topo_gml_load(TEST_DATA_DIR "/topo_small.gml", &o, &t, err, sizeof(err)),
	                 0);
	assert_int_equal(topo_gml_write(t, path, err, sizeof(err)), 0);
	assert_int_equal(topo_gml_load(path, &o, &u, err, sizeof(err)), 0);
	assert_true(same_links(t, u));
	assert_string_equal(topo_router_label(u, 4), "Peering # not a comment");
	topo_free(u);
	topo_free(t);

	assert_int_equal(topo_gml_write(t = hand_graph(), "/nonexistent/t.gml", err, sizeof(err)),
	                 -1);
	assert_contains(err, "creating /nonexistent/t.gml");
	topo_free(t);
}

/* --- explicit matrices ----------------------------------------------------------- */

static uint32_t *matrix_ok(const char *text, uint32_t *n)
{
	uint32_t *m = NULL;
	if (topo_matrix_parse(text, strlen(text), "m.txt", &m, n, err, sizeof(err)))
		fail_msg("%s", err);
	return m;
}

static void matrix_bad(const char *text, const char *expect)
{
	uint32_t *m = NULL, n = 77;
	err[0] = '\0';
	assert_int_equal(topo_matrix_parse(text, strlen(text), "m.txt", &m, &n, err, sizeof(err)),
	                 -1);
	assert_null(m);
	assert_int_equal(n, 77);
	assert_contains(err, expect);
}

/* The paper's figure 1 in spirit: peer D reaches source S1 faster through
 * S2, the other overlay's source, than directly. */
static void test_matrix_parse(void **state)
{
	(void)state;
	uint32_t n;
	uint32_t *m = matrix_ok("# S1, S2: sources of two overlays; A, D: peers\n"
	                        "#  S1   S2    A     D\n"
	                        "   0    10    40    60    # S1\n"
	                        "\n"
	                        "   10   0     5     15\n"
	                        "   40   5     0     20.5\n"
	                        "   60   15.25 20.5  0.001 # the diagonal is not checked\n",
	                        &n);
	assert_int_equal(n, 4);
	static const uint32_t want[16] = {0,     10000, 40000, 60000, 10000, 0,     5000,  15000,
	                                  40000, 5000,  0,     20500, 60000, 15250, 20500, 1};
	assert_memory_equal(m, want, sizeof(want));
	assert_true(m[0 * 4 + 3] > m[0 * 4 + 1] + m[1 * 4 + 3]);
	free(m);
	m = matrix_ok("7", &n);
	assert_int_equal(n, 1);
	assert_int_equal(m[0], 7000);
	free(m);
	/* Asymmetric is allowed: rows are senders. */
	m = matrix_ok("0 1\r\n2 0\r\n", &n);
	assert_int_equal(m[1], 1000);
	assert_int_equal(m[2], 2000);
	free(m);
}

static void test_matrix_errors(void **state)
{
	(void)state;
	matrix_bad("0 1\n# c\n1\n", "m.txt:3: row has 1 values, the first (line 1) has 2");
	matrix_bad("0 1\n1 0\n\n2 2\n", "m.txt:4: row 3 is one too many");
	matrix_bad("0 1 2\n1 0 2\n", "m.txt:2: 2 rows for 3 columns");
	matrix_bad("0 -1\n1 0\n", "m.txt:1: '-1' is not a delay in milliseconds");
	matrix_bad("0 1\n1 0ms\n", "m.txt:2: '0ms' is not a delay");
	matrix_bad("0 nan\nnan 0\n", "m.txt:1: 'nan'");
	matrix_bad("0 1e10\n1 0\n", "m.txt:1: '1e10'");
	matrix_bad("# nothing\n\n", "m.txt: no delays in the file");
	matrix_bad("", "m.txt: no delays");
	uint32_t *m, n;
	assert_int_equal(topo_matrix_load("/nonexistent/m.txt", &m, &n, err, sizeof(err)), -1);
	assert_contains(err, "/nonexistent/m.txt");
}

static void test_matrix_write_roundtrip(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/m.txt", tmpdir);
	struct topo *t = generate(TOPO_BA, 500, 4, 5);
	topo_hosts_attach(t, 30, TOPO_ATTACH_UNIFORM, 1234, 5, err, sizeof(err));
	uint32_t *m = host_matrix(t), *back, n;
	assert_int_equal(topo_matrix_write(path, m, 30, err, sizeof(err)), 0);
	if (topo_matrix_load(path, &back, &n, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(n, 30);
	assert_memory_equal(back, m, sizeof(*m) * 30 * 30);
	free(back);
	free(m);
	topo_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dijkstra_hand),
	    cmocka_unit_test(test_add_link),
	    cmocka_unit_test(test_dijkstra_vs_floyd),
	    cmocka_unit_test(test_long_paths),
	    cmocka_unit_test(test_generate_deterministic),
	    cmocka_unit_test(test_generate_degree),
	    cmocka_unit_test(test_generate_pairs),
	    cmocka_unit_test(test_generate_delays),
	    cmocka_unit_test(test_generate_locality),
	    cmocka_unit_test(test_generate_errors),
	    cmocka_unit_test(test_attach),
	    cmocka_unit_test(test_host_matrix_cases),
	    cmocka_unit_test(test_gml_fixture),
	    cmocka_unit_test(test_gml_shadow),
	    cmocka_unit_test(test_gml_errors),
	    cmocka_unit_test(test_gml_real),
	    cmocka_unit_test(test_gml_write_roundtrip),
	    cmocka_unit_test(test_matrix_parse),
	    cmocka_unit_test(test_matrix_errors),
	    cmocka_unit_test(test_matrix_write_roundtrip),
	};
	return cmocka_run_group_tests_name("topology", tests, make_tmpdir, remove_tmpdir);
}
