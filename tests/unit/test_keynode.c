#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "lib/util.h"
#include "peer/keynode.h"

#define SEC 1000000u

/* The closed forms of DESIGN.md section 3, evaluated literally in long
 * double: its range (about 1e4932) holds rho^K for every case below, so
 * the reference needs none of the rescaling the code under test does. */
static long double fact(int n)
{
	long double f = 1;
	for (int i = 2; i <= n; i++)
		f *= i;
	return f;
}

static long double mm1k_block(long double rho, int K)
{
	if (rho == 1)
		return 1.0L / (K + 1);
	return (1 - rho) * powl(rho, K) / (1 - powl(rho, K + 1));
}

static long double mmmk_block(long double rho, int m, int K)
{
	long double mr = m * rho, head = 0;
	for (int i = 0; i < m; i++)
		head += powl(mr, i) / fact(i);
	long double tail =
	    rho == 1 ? (long double)(K - m + 1) : (1 - powl(rho, K - m + 1)) / (1 - rho);
	long double p0 = 1 / (head + powl(mr, m) / fact(m) * tail);
	return p0 * powl(m, m) * powl(rho, K) / fact(m);
}

static int close_to(long double got, long double want, long double rel)
{
	return fabsl(got - want) <= rel * fabsl(want) + 1e-300L;
}

static void check_block(double lambda, double mu, int m, int K, long double want)
{
	double got = keynode_block(lambda, mu, m, K);
	if (!isfinite(got) || !close_to(got, want, 1e-9L)) {
		print_error(
		    "keynode_block(lambda=%g, mu=%g, m=%d, K=%d) = %.17g, closed form %.17Lg\n",
		    lambda, mu, m, K, got, want);
		fail();
	}
}

static const double rhos[] = {0.05, 0.3, 0.7, 0.95, 1.0, 1.05, 1.5, 3.0, 10.0};
static const double mus[] = {0.5, 1.0, 1.0 / 60.0, 4.0};

static void test_mm1k_closed_form(void **state)
{
	(void)state;
	static const int Ks[] = {1, 2, 3, 5, 10, 40, 120};
	for (size_t r = 0; r < ARRAY_LEN(rhos); r++)
		for (size_t u = 0; u < ARRAY_LEN(mus); u++)
			for (size_t k = 0; k < ARRAY_LEN(Ks); k++) {
				double lambda = rhos[r] * mus[u];
				long double rho = (long double)lambda / mus[u];
				check_block(lambda, mus[u], 1, Ks[k], mm1k_block(rho, Ks[k]));
			}
	/* rho exactly 1: every state equally likely. */
	for (int K = 1; K <= 64; K++)
		check_block(0.25, 0.25, 1, K, 1.0L / (K + 1));
}

static void test_mmmk_closed_form(void **state)
{
	(void)state;
	static const int ms[] = {2, 3, 5, 8};
	static const int per_conn[] = {1, 2, 4, 10};
	for (size_t r = 0; r < ARRAY_LEN(rhos); r++)
		for (size_t u = 0; u < ARRAY_LEN(mus); u++)
			for (size_t i = 0; i < ARRAY_LEN(ms); i++)
				for (size_t k = 0; k < ARRAY_LEN(per_conn); k++) {
					int m = ms[i], K = m * per_conn[k];
					double lambda = rhos[r] * m * mus[u];
					long double rho =
					    (long double)lambda / (m * (long double)mus[u]);
					check_block(lambda, mus[u], m, K, mmmk_block(rho, m, K));
				}
	/* rho exactly 1 takes the (K - m + 1) branch of p_0. */
	for (int m = 2; m <= 8; m++)
		for (int K = m; K <= 6 * m; K++)
			check_block(m * 0.5, 0.5, m, K, mmmk_block(1, m, K));
}

/* rho^K far beyond double range: the recursion has to rescale, and still
 * agree with the closed form. */
static void test_heavy_load_closed_form(void **state)
{
	(void)state;
	check_block(10, 1, 1, 300, mm1k_block(10, 300));
	check_block(1e3, 1, 1, 200, mm1k_block(1e3, 200));
	check_block(1e6, 1, 4, 400, mmmk_block(1e6L / 4, 4, 400));
	check_block(50, 1, 8, 480, mmmk_block(50.0L / 8, 8, 480));
	check_block(1e4, 1, 32, 128, mmmk_block(1e4L / 32, 32, 128));
}

/* Beyond even long double: with the queue almost always full, p_K tends to
 * 1 - 1/rho and each connection is busy almost all the time. */
static void test_heavy_load_limit(void **state)
{
	(void)state;
	static const int ms[] = {1, 2, 5, 32};
	for (size_t i = 0; i < ARRAY_LEN(ms); i++) {
		int m = ms[i], K = 1000 * m;
		/* Up to rho = 1e8, where 1 - p_K still has digits to compare. */
		for (double lambda = 1e3; lambda <= 1e8 * m; lambda *= 10) {
			double rho = lambda / m;
			double p = keynode_block(lambda, 1, m, K);
			assert_true(p >= 0 && p <= 1);
			assert_true(close_to(1 - p, 1 / rho, 1e-6L));
			assert_true(close_to(keynode_util(lambda, 1, m, K), 1, 1e-6L));
			assert_true(close_to(keynode_busy(lambda, 1, m, K), m, 1e-6L));
		}
		for (double lambda = 1e10; lambda <= 1e50; lambda *= 1e5) {
			double p = keynode_block(lambda, 1, m, K);
			assert_true(isfinite(p) && p >= 0 && p <= 1);
			assert_true(close_to(p, 1, 1e-6L));
		}
	}
}

static void test_light_load(void **state)
{
	(void)state;
	assert_true(keynode_block(0, 1, 1, 4) == 0);
	assert_true(keynode_block(0, 1, 3, 12) == 0);
	assert_true(keynode_util(0, 1, 3, 12) == 0);
	/* Far below capacity almost nothing is refused. */
	double p = keynode_block(1e-6, 1, 2, 8);
	assert_true(p >= 0 && p < 1e-40);
}

static void test_utilization(void **state)
{
	(void)state;
	static const int ms[] = {1, 2, 4, 7};
	for (size_t r = 0; r < ARRAY_LEN(rhos); r++)
		for (size_t i = 0; i < ARRAY_LEN(ms); i++) {
			int m = ms[i], K = 3 * m;
			double mu = 1.0 / 60.0, lambda = rhos[r] * m * mu;
			long double rho = (long double)lambda / (m * (long double)mu);
			long double pk = m == 1 ? mm1k_block(rho, K) : mmmk_block(rho, m, K);
			double u = keynode_util(lambda, mu, m, K);
			double busy = keynode_busy(lambda, mu, m, K);
			assert_true(close_to(u, rho * (1 - pk), 1e-9L));
			assert_true(close_to(busy, m * rho * (1 - pk), 1e-9L));
			/* A connection is never busy more than all the time (to rounding). */
			assert_true(u >= 0 && u <= 1 + 1e-12);
		}
}

static void test_block_rejects_nonsense(void **state)
{
	(void)state;
	/* A queue that cannot exist refuses everything. */
	assert_true(keynode_block(1, 1, 0, 4) == 1);
	assert_true(keynode_block(1, 1, 3, 2) == 1);
	assert_true(keynode_block(1, 0, 1, 4) == 1);
	assert_true(keynode_block(1, -1, 1, 4) == 1);
	assert_true(keynode_block(-1, 1, 1, 4) == 1);
	assert_true(keynode_block(NAN, 1, 1, 4) == 1);
	assert_true(keynode_block(1, NAN, 1, 4) == 1);
}

/* ---- allocation ---- */

/* Every composition of N into M positive parts, checked independently of
 * the code under test on a table of busy connections. */
struct brute {
	int M, N;
	double busy[5][21]; /* busy[j][m]: queue j given m connections */
	double best;
};

static void brute_walk(struct brute *b, int j, int left, double acc)
{
	if (j == b->M - 1) {
		acc += b->busy[j][left];
		if (acc > b->best)
			b->best = acc;
		return;
	}
	for (int m = 1; m <= left - (b->M - 1 - j); m++)
		brute_walk(b, j + 1, left - m, acc + b->busy[j][m]);
}

static double brute_best(const double *lambda, int M, int N, double mu, int k)
{
	struct brute b = {.M = M, .N = N, .best = -1};
	for (int j = 0; j < M; j++)
		for (int m = 1; m <= N; m++)
			b.busy[j][m] = keynode_busy(lambda[j], mu, m, m * k);
	brute_walk(&b, 0, N, 0);
	return b.best;
}

static double alloc_total(const double *lambda, int M, double mu, int k, const int *alloc)
{
	double t = 0;
	for (int j = 0; j < M; j++)
		t += keynode_busy(lambda[j], mu, alloc[j], alloc[j] * k);
	return t;
}

static void check_alloc_valid(const int *alloc, int M, int N)
{
	int sum = 0;
	for (int j = 0; j < M; j++) {
		assert_true(alloc[j] >= 1);
		sum += alloc[j];
	}
	assert_int_equal(sum, N);
}

/* The design's claim: greedy marginal gains reach the enumerated optimum.
 * Arrival rates span light to heavy load, sorted as in the paper
 * (lambda_1 < ... < lambda_M) in half the cases and unsorted in the rest. */
static void test_greedy_equals_enum(void **state)
{
	(void)state;
	struct rng rng;
	rng_seed(&rng, 20060423);
	for (int c = 0; c < 3000; c++) {
		int M = 1 + (int)rng_below(&rng, 5);
		int N = M + (int)rng_below(&rng, (uint64_t)(21 - M));
		int k = 1 + (int)rng_below(&rng, 5);
		double mu = exp(rng_unit(&rng) * 6 - 5);
		double lambda[5];
		for (int j = 0; j < M; j++)
			lambda[j] = mu * exp(rng_unit(&rng) * 9 - 4);
		for (int j = 1; c % 2 && j < M; j++)
			for (int i = j; i > 0 && lambda[i - 1] > lambda[i]; i--) {
				double t = lambda[i];
				lambda[i] = lambda[i - 1];
				lambda[i - 1] = t;
			}

		int ae[KEYNODE_MAX_QUEUES], ag[KEYNODE_MAX_QUEUES];
		double te = keynode_allocate_enum(lambda, M, N, mu, k, ae);
		double tg = keynode_allocate_greedy(lambda, M, N, mu, k, ag);
		double best = brute_best(lambda, M, N, mu, k);
		check_alloc_valid(ae, M, N);
		check_alloc_valid(ag, M, N);
		if (!close_to(te, best, 1e-9L) || !close_to(tg, best, 1e-9L) ||
		    !close_to(te, alloc_total(lambda, M, mu, k, ae), 1e-12L) ||
		    !close_to(tg, alloc_total(lambda, M, mu, k, ag), 1e-12L)) {
			print_error("case %d: M=%d N=%d k=%d mu=%g: enum %.15g greedy %.15g "
			            "optimum %.15g\n",
			            c, M, N, k, mu, te, tg, best);
			fail();
		}
	}
}

static void test_allocation_follows_demand(void **state)
{
	(void)state;
	const double lambda[3] = {0.01, 0.5, 6};
	int a[KEYNODE_MAX_QUEUES];
	assert_true(keynode_allocate_greedy(lambda, 3, 12, 1, 2, a) > 0);
	assert_true(a[0] <= a[1] && a[1] < a[2]);
	assert_true(keynode_allocate_enum(lambda, 3, 12, 1, 2, a) > 0);
	assert_true(a[0] <= a[1] && a[1] < a[2]);

	/* N = M leaves one allocation: one connection each. */
	const double two[2] = {0.1, 50};
	assert_true(keynode_allocate_greedy(two, 2, 2, 1, 4, a) > 0);
	assert_int_equal(a[0], 1);
	assert_int_equal(a[1], 1);
	assert_true(close_to(keynode_allocate_enum(two, 2, 2, 1, 4, a),
	                     keynode_busy(0.1, 1, 1, 4) + keynode_busy(50, 1, 1, 4), 1e-12L));
}

static void test_allocation_rejects(void **state)
{
	(void)state;
	const double lambda[KEYNODE_MAX_QUEUES + 1] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
	int a[KEYNODE_MAX_QUEUES + 1];
	for (int M = 1; M <= 5; M++)
		for (int N = 0; N < M; N++) {
			assert_true(keynode_allocate_enum(lambda, M, N, 1, 2, a) == -1);
			assert_true(keynode_allocate_greedy(lambda, M, N, 1, 2, a) == -1);
		}
	assert_true(keynode_allocate_enum(lambda, 0, 4, 1, 2, a) == -1);
	assert_true(keynode_allocate_greedy(lambda, 0, 4, 1, 2, a) == -1);
	assert_true(keynode_allocate_enum(lambda, KEYNODE_MAX_QUEUES + 1, 20, 1, 2, a) == -1);
	assert_true(keynode_allocate_greedy(lambda, KEYNODE_MAX_QUEUES + 1, 20, 1, 2, a) == -1);
}

/* ---- live admission ---- */

/* Admit up to tries requests of cls at now_us; returns how many got in. */
static int admit_many(struct keynode *kn, int cls, int tries, uint64_t now_us)
{
	int got = 0;
	for (int i = 0; i < tries; i++)
		got += keynode_admit(kn, cls, now_us);
	return got;
}

static void test_admit_equal_demand(void **state)
{
	(void)state;
	struct keynode kn;
	keynode_init(&kn, 6, 1.0 / 60.0, 4);
	/* No requests seen yet: both classes look alike and share evenly. */
	assert_int_equal(kn.alloc[KEYNODE_WATCH], 3);
	assert_int_equal(kn.alloc[KEYNODE_RELAY], 3);
	assert_int_equal(admit_many(&kn, KEYNODE_WATCH, 10, 5 * SEC), 3);
	assert_int_equal(admit_many(&kn, KEYNODE_RELAY, 10, 5 * SEC), 3);
	assert_int_equal(kn.used[KEYNODE_WATCH] + kn.used[KEYNODE_RELAY], 6);

	assert_int_equal(keynode_admit(&kn, -1, 5 * SEC), 0);
	assert_int_equal(keynode_admit(&kn, KEYNODE_CLASSES, 5 * SEC), 0);
}

static void test_release_frees(void **state)
{
	(void)state;
	struct keynode kn;
	keynode_init(&kn, 4, 1.0 / 60.0, 4);
	assert_int_equal(admit_many(&kn, KEYNODE_WATCH, 5, SEC), 2);
	keynode_release(&kn, KEYNODE_WATCH);
	assert_int_equal(kn.used[KEYNODE_WATCH], 1);
	assert_int_equal(keynode_admit(&kn, KEYNODE_WATCH, SEC), 1);
	assert_int_equal(keynode_admit(&kn, KEYNODE_WATCH, SEC), 0);

	/* Releasing what was never taken must not hand out extra slots. */
	keynode_release(&kn, KEYNODE_RELAY);
	keynode_release(&kn, KEYNODE_RELAY);
	keynode_release(&kn, -1);
	keynode_release(&kn, KEYNODE_CLASSES);
	assert_int_equal(kn.used[KEYNODE_RELAY], 0);
	assert_int_equal(admit_many(&kn, KEYNODE_RELAY, 5, SEC), 2);
	assert_int_equal(kn.used[KEYNODE_WATCH], 2);
}

static void test_too_few_connections(void **state)
{
	(void)state;
	struct keynode kn;
	/* One connection: whichever class comes first gets it. */
	keynode_init(&kn, 1, 1.0 / 60.0, 4);
	assert_int_equal(keynode_admit(&kn, KEYNODE_RELAY, SEC), 1);
	assert_int_equal(keynode_admit(&kn, KEYNODE_WATCH, SEC), 0);
	keynode_release(&kn, KEYNODE_RELAY);
	assert_int_equal(keynode_admit(&kn, KEYNODE_WATCH, SEC), 1);
	assert_int_equal(keynode_admit(&kn, KEYNODE_RELAY, SEC), 0);
	/* Still one after a reallocation window. */
	assert_int_equal(keynode_admit(&kn, KEYNODE_RELAY, 20 * SEC), 0);
	keynode_release(&kn, KEYNODE_WATCH);
	assert_int_equal(keynode_admit(&kn, KEYNODE_RELAY, 20 * SEC), 1);

	keynode_init(&kn, 0, 1.0 / 60.0, 4);
	assert_int_equal(keynode_admit(&kn, KEYNODE_WATCH, SEC), 0);
	assert_int_equal(keynode_admit(&kn, KEYNODE_RELAY, SEC), 0);
}

/* Requests held for about a second each (mu = 1): a window of busy relay
 * demand moves connections to relaying, later windows of watch demand move
 * them back, and each new split is the optimum for the measured rates. */
static void check_alloc_optimal(const struct keynode *kn)
{
	int best[KEYNODE_MAX_QUEUES];
	keynode_allocate_enum(kn->lambda, KEYNODE_CLASSES, kn->n, kn->mu, kn->k, best);
	assert_int_equal(kn->alloc[KEYNODE_WATCH], best[KEYNODE_WATCH]);
	assert_int_equal(kn->alloc[KEYNODE_RELAY], best[KEYNODE_RELAY]);
}

static void test_reallocation_follows_demand(void **state)
{
	(void)state;
	struct keynode kn;
	keynode_init(&kn, 10, 1, 4);
	assert_int_equal(kn.alloc[KEYNODE_WATCH], 5);
	assert_int_equal(kn.alloc[KEYNODE_RELAY], 5);

	/* 10 s from the first request: 5 relay and 0.5 watch requests/s. */
	uint64_t t = 100 * SEC;
	for (int i = 0; i < 50; i++, t += SEC / 5) {
		assert_int_equal(keynode_admit(&kn, KEYNODE_RELAY, t), 1);
		keynode_release(&kn, KEYNODE_RELAY);
		if (i % 10 == 0) {
			assert_int_equal(keynode_admit(&kn, KEYNODE_WATCH, t), 1);
			keynode_release(&kn, KEYNODE_WATCH);
		}
	}
	/* Just short of the window nothing moves. */
	assert_int_equal(admit_many(&kn, KEYNODE_RELAY, 10, 110 * SEC - 1), 5);
	for (int i = 0; i < 5; i++)
		keynode_release(&kn, KEYNODE_RELAY);
	assert_int_equal(kn.alloc[KEYNODE_RELAY], 5);

	assert_int_equal(keynode_admit(&kn, KEYNODE_RELAY, 110 * SEC), 1);
	assert_true(kn.alloc[KEYNODE_RELAY] > kn.alloc[KEYNODE_WATCH]);
	assert_int_equal(kn.alloc[KEYNODE_WATCH] + kn.alloc[KEYNODE_RELAY], 10);
	check_alloc_optimal(&kn);
	assert_int_equal(admit_many(&kn, KEYNODE_RELAY, 20, 110 * SEC),
	                 kn.alloc[KEYNODE_RELAY] - 1);
	assert_int_equal(admit_many(&kn, KEYNODE_WATCH, 20, 110 * SEC), kn.alloc[KEYNODE_WATCH]);
	for (int i = 0; i < 10; i++) {
		keynode_release(&kn, KEYNODE_RELAY);
		keynode_release(&kn, KEYNODE_WATCH);
	}

	/* Three windows of 5 watch requests/s and no relaying. */
	for (int i = 0; i < 150; i++) {
		keynode_admit(&kn, KEYNODE_WATCH, 110 * SEC + (uint64_t)i * SEC / 5);
		keynode_release(&kn, KEYNODE_WATCH);
	}
	keynode_admit(&kn, KEYNODE_WATCH, 140 * SEC);
	assert_true(kn.alloc[KEYNODE_WATCH] > kn.alloc[KEYNODE_RELAY]);
	assert_true(kn.alloc[KEYNODE_RELAY] >= 1);
	assert_int_equal(kn.alloc[KEYNODE_WATCH] + kn.alloc[KEYNODE_RELAY], 10);
	check_alloc_optimal(&kn);
}

/* A random walk of requests and releases: never more than n taken, never
 * more than a class's allocation at the moment it is admitted. */
static void test_admission_invariants(void **state)
{
	(void)state;
	struct rng rng;
	rng_seed(&rng, 33);
	for (int n = 0; n <= 12; n++) {
		struct keynode kn;
		keynode_init(&kn, n, 1.0 / 60.0, 4);
		int held[KEYNODE_CLASSES] = {0, 0};
		uint64_t t = SEC;
		for (int step = 0; step < 5000; step++) {
			t += rng_below(&rng, SEC / 2);
			/* Bias the mix so the allocation moves between windows. */
			int cls = rng_below(&rng, 100) < (uint64_t)(step / 50 % 2 ? 85 : 15);
			if (rng_below(&rng, 3) == 0) {
				if (held[cls]) {
					keynode_release(&kn, cls);
					held[cls]--;
				}
				continue;
			}
			int before = kn.used[cls];
			if (keynode_admit(&kn, cls, t)) {
				held[cls]++;
				assert_true(before < kn.alloc[cls]);
			}
			assert_int_equal(kn.used[KEYNODE_WATCH], held[KEYNODE_WATCH]);
			assert_int_equal(kn.used[KEYNODE_RELAY], held[KEYNODE_RELAY]);
			assert_true(held[KEYNODE_WATCH] + held[KEYNODE_RELAY] <= n);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mm1k_closed_form),
	    cmocka_unit_test(test_mmmk_closed_form),
	    cmocka_unit_test(test_heavy_load_closed_form),
	    cmocka_unit_test(test_heavy_load_limit),
	    cmocka_unit_test(test_light_load),
	    cmocka_unit_test(test_utilization),
	    cmocka_unit_test(test_block_rejects_nonsense),
	    cmocka_unit_test(test_greedy_equals_enum),
	    cmocka_unit_test(test_allocation_follows_demand),
	    cmocka_unit_test(test_allocation_rejects),
	    cmocka_unit_test(test_admit_equal_demand),
	    cmocka_unit_test(test_release_frees),
	    cmocka_unit_test(test_too_few_connections),
	    cmocka_unit_test(test_reallocation_follows_demand),
	    cmocka_unit_test(test_admission_invariants),
	};
	return cmocka_run_group_tests_name("keynode", tests, NULL, NULL);
}
