#include "peer/keynode.h"

#include <math.h>
#include <string.h>

/* Stationary p_K of M/M/m/K by the birth-death recursion p_n / p_{n-1} =
 * lambda / (min(n, m) mu), rescaled on the way so that heavy load cannot
 * overflow. */
double keynode_block(double lambda, double mu, int m, int K)
{
	if (m < 1 || K < m || !(mu > 0) || !(lambda >= 0))
		return 1;
	double term = 1, sum = 1;
	for (int n = 1; n <= K; n++) {
		term *= lambda / ((n < m ? n : m) * mu);
		sum += term;
		if (sum > 1e250) {
			term /= sum;
			sum = 1;
		}
	}
	return term / sum;
}

double keynode_util(double lambda, double mu, int m, int K)
{
	return lambda / (m * mu) * (1 - keynode_block(lambda, mu, m, K));
}

double keynode_busy(double lambda, double mu, int m, int K)
{
	return lambda / mu * (1 - keynode_block(lambda, mu, m, K));
}

static double total(const double *lambda, int M, double mu, int k, const int *alloc)
{
	double t = 0;
	for (int j = 0; j < M; j++)
		t += keynode_busy(lambda[j], mu, alloc[j], alloc[j] * k);
	return t;
}

/* Every composition of N into M positive parts, in lexicographic order. */
static void enumerate(const double *lambda, int M, int left, double mu, int k, int j, int *cur,
                      int *best, double *best_v)
{
	if (j == M - 1) {
		cur[j] = left;
		double v = total(lambda, M, mu, k, cur);
		if (v > *best_v + 1e-12) {
			*best_v = v;
			memcpy(best, cur, sizeof(*cur) * (size_t)M);
		}
		return;
	}
	for (int m = 1; m <= left - (M - 1 - j); m++) {
		cur[j] = m;
		enumerate(lambda, M, left - m, mu, k, j + 1, cur, best, best_v);
	}
}

double keynode_allocate_enum(const double *lambda, int M, int N, double mu, int k, int *alloc)
{
	if (M < 1 || M > KEYNODE_MAX_QUEUES || N < M)
		return -1;
	int cur[KEYNODE_MAX_QUEUES];
	double best = -1;
	enumerate(lambda, M, N, mu, k, 0, cur, alloc, &best);
	return best;
}

double keynode_allocate_greedy(const double *lambda, int M, int N, double mu, int k, int *alloc)
{
	if (M < 1 || M > KEYNODE_MAX_QUEUES || N < M)
		return -1;
	for (int j = 0; j < M; j++)
		alloc[j] = 1;
	for (int left = N - M; left > 0; left--) {
		int pick = 0;
		double gain = -1;
		for (int j = 0; j < M; j++) {
			double g = keynode_busy(lambda[j], mu, alloc[j] + 1, (alloc[j] + 1) * k) -
			           keynode_busy(lambda[j], mu, alloc[j], alloc[j] * k);
			if (g > gain + 1e-12) {
				gain = g;
				pick = j;
			}
		}
		alloc[pick]++;
	}
	return total(lambda, M, mu, k, alloc);
}

#define WINDOW_US 10000000u

static void reallocate(struct keynode *kn)
{
	if (kn->n < KEYNODE_CLASSES) {
		/* Too few connections to give every class one: first come. */
		kn->alloc[KEYNODE_WATCH] = kn->n;
		kn->alloc[KEYNODE_RELAY] = kn->n;
		return;
	}
	keynode_allocate_greedy(kn->lambda, KEYNODE_CLASSES, kn->n, kn->mu, kn->k, kn->alloc);
}

void keynode_init(struct keynode *kn, int n, double mu, int k)
{
	memset(kn, 0, sizeof(*kn));
	kn->n = n;
	kn->mu = mu;
	kn->k = k;
	/* Until requests are seen, assume equal demand. */
	for (int j = 0; j < KEYNODE_CLASSES; j++)
		kn->lambda[j] = mu;
	reallocate(kn);
}

int keynode_admit(struct keynode *kn, int cls, uint64_t now_us)
{
	if (cls < 0 || cls >= KEYNODE_CLASSES)
		return 0;
	if (!kn->window_start_us)
		kn->window_start_us = now_us;
	kn->arrivals[cls]++;
	if (now_us - kn->window_start_us >= WINDOW_US) {
		double secs = (double)(now_us - kn->window_start_us) / 1e6;
		for (int j = 0; j < KEYNODE_CLASSES; j++) {
			/* Smoothed, and never zero: an idle class keeps one connection's
			 * worth of demand so it is not starved when it wakes. */
			kn->lambda[j] = 0.5 * kn->lambda[j] + 0.5 * (kn->arrivals[j] / secs);
			if (kn->lambda[j] < 0.01)
				kn->lambda[j] = 0.01;
			kn->arrivals[j] = 0;
		}
		kn->window_start_us = now_us;
		reallocate(kn);
	}
	if (!keynode_has_room(kn, cls))
		return 0;
	kn->used[cls]++;
	return 1;
}

int keynode_has_room(const struct keynode *kn, int cls)
{
	if (cls < 0 || cls >= KEYNODE_CLASSES)
		return 0;
	int total_used = 0;
	for (int j = 0; j < KEYNODE_CLASSES; j++)
		total_used += kn->used[j];
	return total_used < kn->n && kn->used[cls] < kn->alloc[cls];
}

void keynode_release(struct keynode *kn, int cls)
{
	if (cls >= 0 && cls < KEYNODE_CLASSES && kn->used[cls] > 0)
		kn->used[cls]--;
}
