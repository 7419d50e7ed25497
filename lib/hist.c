#include "lib/hist.h"

/* Values below HIST_SUB get a bucket each; above, a power of two [2^e,
 * 2^(e+1)) is split into HIST_SUB equal buckets. */
static uint32_t bucket_of(uint64_t v)
{
	if (v < HIST_SUB)
		return (uint32_t)v;
	int e = 63 - __builtin_clzll(v); /* e >= 7 */
	uint64_t sub = (v >> (e - 7)) - HIST_SUB;
	uint64_t i = (uint64_t)(e - 6) * HIST_SUB + sub;
	return i < HIST_BUCKETS ? (uint32_t)i : HIST_BUCKETS - 1;
}

static double bucket_mid(uint32_t i)
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
	for (uint32_t i = 0; i < HIST_BUCKETS; i++)
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
	/* Nearest rank, as quantile_sorted in analysis/stats.h. A histogram
	 * read while another process adds to it may count fewer values in
	 * its buckets than in n; the maximum stands in then. */
	uint64_t rank = (uint64_t)(q * (double)(h->n - 1) + 0.5), seen = 0;
	for (uint32_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > rank) {
			double mid = bucket_mid(i);
			return mid > (double)h->max ? (double)h->max : mid;
		}
	}
	return (double)h->max;
}
