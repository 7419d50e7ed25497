/* Distributions for the metrics: exact quantiles of small samples (one
 * value per peer) and a log-linear histogram for per-segment values, whose
 * memory does not grow with the number of segments. */
#ifndef ANYSEE_STATS_H
#define ANYSEE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"

/* Quantile q in [0, 1] of n sorted values (nearest rank, as the per-peer
 * figures always were); 0 when n is 0. */
double quantile_sorted(const double *v, size_t n, double q);
void sort_doubles(double *v, size_t n);

/* Values are non-negative integers (microseconds, or ratios scaled by
 * 1000). Each power of two is split into HIST_SUB buckets, so a quantile
 * is within 1/HIST_SUB (under 1%) of the exact one. */
#define HIST_SUB 128
#define HIST_BUCKETS (HIST_SUB * 34)

struct hist {
	uint64_t n;
	uint64_t max;
	uint64_t sum;
	uint64_t b[HIST_BUCKETS];
};

void hist_add(struct hist *h, uint64_t v);
void hist_merge(struct hist *into, const struct hist *from);
/* The value at quantile q: the middle of its bucket, or the exact maximum
 * for q = 1. 0 when empty. */
double hist_quantile(const struct hist *h, double q);

/* The number of points written by the *_cdf functions. */
#define CDF_POINTS 21

/* {"p50": .., "p95": .., "max": .., "cdf": [[value, share], ...]} with values
 * multiplied by scale, for a sorted sample or a histogram. */
void json_dist_sorted(struct json *j, const double *v, size_t n, double scale, int decimals);
void json_dist_hist(struct json *j, const struct hist *h, double scale, int decimals);

#endif
