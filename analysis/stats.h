/* Distributions for the metrics: exact quantiles of small samples (one
 * value per peer), and the log-linear histogram of lib/hist.h for
 * per-segment values (microseconds, or ratios scaled by 1000), whose memory
 * does not grow with the number of segments. */
#ifndef ANYSEE_STATS_H
#define ANYSEE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/hist.h"
#include "lib/json.h"

/* Quantile q in [0, 1] of n sorted values (nearest rank, as the per-peer
 * figures always were); 0 when n is 0. */
double quantile_sorted(const double *v, size_t n, double q);
void sort_doubles(double *v, size_t n);

/* A growing sample; on allocation failure the values so far stand and
 * oom says some were lost. */
struct samples {
	double *v;
	size_t n, cap;
	int oom;
};
void samples_push(struct samples *s, double x);
void samples_free(struct samples *s);

/* The number of points written by the *_cdf functions. */
#define CDF_POINTS 21

/* {"p50": .., "p95": .., "max": .., "cdf": [[value, share], ...]} with values
 * multiplied by scale, for a sorted sample or a histogram. */
void json_dist_sorted(struct json *j, const double *v, size_t n, double scale, int decimals);
void json_dist_hist(struct json *j, const struct hist *h, double scale, int decimals);

#endif
