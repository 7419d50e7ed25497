/* A log-linear histogram of non-negative integers whose memory does not
 * grow with the number of values: the one used for per-segment delays in
 * the analysis and for release lateness in the shaping switch. Fixed size
 * and free of pointers, so it can live in shared memory. */
#ifndef ANYSEE_HIST_H
#define ANYSEE_HIST_H

#include <stdint.h>

/* Each power of two is split into HIST_SUB buckets, so a quantile is
 * within 1/HIST_SUB (under 1%) of the exact one. */
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

#endif
