/* The regression gate: `anysee-analyze check RUN_DIR --baseline FILE`.
 *
 * A baseline is a small text file of bounds, one a line:
 *     # comment
 *     continuity_index >= 0.99
 *     source_to_end_delay_ms.p50 <= 60
 * Names are those of analysis/metric.h (the keys under metrics.json's
 * summary). A metric the run cannot tell (NaN) fails its bound. */
#ifndef ANYSEE_CHECK_H
#define ANYSEE_CHECK_H

#include <stddef.h>
#include <stdio.h>

#include "analysis/metric.h"

struct bound {
	int metric;
	int at_least; /* 1 for >=, 0 for <= */
	double value;
	int line;
};

/* Reads path into a malloc'd array. Errors name the file and line. */
int check_parse(const char *path, struct bound **out, int *n, char *err, size_t errlen);
/* Prints one line per bound; returns how many are out of bounds. */
int check_run(const double values[M_COUNT], const struct bound *b, int n, FILE *out);

#endif
