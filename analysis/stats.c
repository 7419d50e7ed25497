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

void samples_push(struct samples *s, double x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4096;
		double *nv = realloc(s->v, cap * sizeof(*nv));
		if (!nv) {
			s->oom = 1;
			return;
		}
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = x;
}

void samples_free(struct samples *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}
