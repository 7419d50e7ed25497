/* A/B comparison of two runs and the regression verdict: run B (a new peer
 * build, or the other mode) against run A on the summary metrics. */
#ifndef ANYSEE_COMPARE_H
#define ANYSEE_COMPARE_H

#include <stdio.h>

#include "analysis/analysis.h"

/* How much worse B may be than A before it counts as a regression. */
struct tolerance {
	double continuity; /* absolute drop, e.g. 0.01 */
	double startup;    /* relative rise, e.g. 0.2 for 20% */
	double delay;      /* relative rise of the median source-to-end delay */
	double played;     /* absolute drop of the share of peers that played */
};

void compare_default_tolerance(struct tolerance *t);
/* "continuity=0.01,startup=20%,delay=20%,played=0" */
int compare_parse_tolerance(const char *s, struct tolerance *t, char *err, size_t errlen);
/* Print the comparison; returns the number of regressions. */
int compare_runs(const struct run_summary *a, const struct run_summary *b,
                 const struct tolerance *t, FILE *out);

#endif
