#include "analysis/stats.h"

#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void sort_doubles(double *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), cmp_double);
}

double quantile_sorted(const double *v, size_t n, double q)
{
	if (!n)
		return 0;
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

/* Values below HIST_SUB get a bucket each; above, a power of two [2^e,
 * 2^(e+1)) is split into HIST_SUB equal buckets. */
static size_t bucket_of(uint64_t v)
{
	if (v < HIST_SUB)
		return (size_t)v;
	int e = 63 - __builtin_clzll(v); /* e >= 7 */
	uint64_t sub = (v >> (e - 7)) - HIST_SUB;
	size_t i = (size_t)(e - 6) * HIST_SUB + (size_t)sub;
	return i < HIST_BUCKETS ? i : HIST_BUCKETS - 1;
}

static double bucket_mid(size_t i)
{
	if (i < HIST_SUB)
		return (double)i;
	int e = (int)(i / HIST_SUB) + 6;
	double width = (double)(1ull << (e - 7));
	double lo = (double)(1ull << e) + (double)(i % HIST_SUB) * width;
	return lo + width / 2;
}

void hist_add(struct hist *h, uint64_t v)
{
	h->b[bucket_of(v)]++;
	h->n++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

void hist_merge(struct hist *into, const struct hist *from)
{
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		into->b[i] += from->b[i];
	into->n += from->n;
	into->sum += from->sum;
	if (from->max > into->max)
		into->max = from->max;
}

double hist_quantile(const struct hist *h, double q)
{
	if (!h->n)
		return 0;
	if (q >= 1)
		return (double)h->max;
	/* The same nearest rank as quantile_sorted. */
	uint64_t rank = (uint64_t)(q * (double)(h->n - 1) + 0.5), seen = 0;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > rank) {
			double mid = bucket_mid(i);
			return mid > (double)h->max ? (double)h->max : mid;
		}
	}
	return (double)h->max;
}

static void json_cdf_point(struct json *j, double value, double share, int decimals)
{
	json_arr_begin(j);
	json_double(j, value, decimals);
	json_double(j, share, 2);
	json_arr_end(j);
}

void json_dist_sorted(struct json *j, const double *v, size_t n, double scale, int decimals)
{
	json_obj_begin(j);
	json_kdouble(j, "p50", quantile_sorted(v, n, 0.5) * scale, decimals);
	json_kdouble(j, "p95", quantile_sorted(v, n, 0.95) * scale, decimals);
	json_kdouble(j, "max", n ? v[n - 1] * scale : 0, decimals);
	json_ku64(j, "n", n);
	json_key(j, "cdf");
	json_arr_begin(j);
	for (int k = 0; n && k < CDF_POINTS; k++) {
		double q = (double)k / (CDF_POINTS - 1);
		json_cdf_point(j, quantile_sorted(v, n, q) * scale, q, decimals);
	}
	json_arr_end(j);
	json_obj_end(j);
}

void json_dist_hist(struct json *j, const struct hist *h, double scale, int decimals)
{
	json_obj_begin(j);
	json_kdouble(j, "p50", hist_quantile(h, 0.5) * scale, decimals);
	json_kdouble(j, "p95", hist_quantile(h, 0.95) * scale, decimals);
	json_kdouble(j, "max", (double)h->max * scale, decimals);
	json_ku64(j, "n", h->n);
	json_key(j, "cdf");
	json_arr_begin(j);
	for (int k = 0; h->n && k < CDF_POINTS; k++) {
		double q = (double)k / (CDF_POINTS - 1);
		json_cdf_point(j, hist_quantile(h, q) * scale, q, decimals);
	}
	json_arr_end(j);
	json_obj_end(j);
}
