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
/* The judged metrics, in the order they are printed. */
enum { CMP_PLAYED, CMP_CONTINUITY, CMP_STARTUP, CMP_DELAY, CMP_METRICS };

/* 95% bootstrap interval of B - A for each judged metric. */
struct compare_ci {
	double lo[CMP_METRICS], hi[CMP_METRICS];
};

/* Print the comparison; returns the number of regressions. A difference
 * beyond the tolerance is a regression; with ci (may be NULL), only when
 * the interval also lies wholly on the worse side, else "within noise". */
int compare_runs(const struct run_summary *a, const struct run_summary *b,
                 const struct tolerance *t, const struct compare_ci *ci, FILE *out);

/* The units a bootstrap resamples: the peers of one run, or the runs of a
 * sweep point repeated with several seeds. played and weight are 0/1 for a
 * peer; for a run, its peers that played and its peers. */
struct compare_unit {
	double weight, played;
	double due, on_time;
	double startup_s, delay_ms; /* NaN when the unit never played */
};

struct compare_sample {
	struct compare_unit *u;
	int n, cap;
};

int compare_sample_add(struct compare_sample *s, const struct compare_unit *u);
void compare_sample_free(struct compare_sample *s);
/* One unit per peer of m. */
int compare_sample_peers(const struct run_metrics *m, struct compare_sample *s);
/* The unit standing for a whole run. */
int compare_unit_of_run(const struct run_metrics *m, struct compare_unit *u);
/* The summary the comparison prints for a sample (equal to the run's own
 * summary for one run's peers). */
void compare_summary(const struct compare_sample *s, struct run_summary *out);
/* Resample both sides iters times (seeded: the same inputs give the same
 * interval). Returns -1 when out of memory. */
int compare_bootstrap(const struct compare_sample *a, const struct compare_sample *b, int iters,
                      uint64_t seed, struct compare_ci *ci);

#endif
