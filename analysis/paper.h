/* The paper's claims judged against the testbed's own sweeps: a claims
 * file (this module owns its format) names, per claim, the experiment (a
 * sweep directory under the runs directory) and a test on its metrics;
 * the verdict weighs each difference against the noise over repeats.
 *
 * Claims file: one claim per line, fields separated by '|':
 *   ID | FIGURE | EXPERIMENT | TEST | CLAIM | NOTE
 * TEST is one of
 *   above A B METRIC        A's metric exceeds B's (at no point below it)
 *   below A B METRIC        A's metric is under B's (at no point above it)
 *   rises MODES METRIC      from the first point to the last, for each mode
 *   falls MODES METRIC
 *   moves_more A B METRIC   A's change first to last exceeds B's (absolute)
 *   gap_shrinks A B METRIC  A - B is larger at the first point than the last
 *   max MODES METRIC BOUND  at every point, at most BOUND
 *   min MODES METRIC BOUND  at every point, at least BOUND
 * MODES is a comma-separated list; METRIC a metrics.json summary name.
 * NOTE is printed beside a claim that does not hold (why, in a sentence).
 * '#' starts a comment line. */
#ifndef ANYSEE_PAPER_H
#define ANYSEE_PAPER_H

#include <stdio.h>

struct paper_opts {
	const char *runs;   /* the experiments' sweep directories are under it */
	const char *claims; /* the claims file */
	const char *out;    /* the report directory (created): README.md, pictures */
	const char *setup;  /* a Markdown file describing the runs, included; may be NULL */
};

enum paper_verdict { PV_HOLDS, PV_FAILS, PV_NOISE, PV_MISSING };

/* One parsed claim; test fields as in the file. */
struct paper_claim {
	char id[32], figure[16], experiment[64], claim[256], note[256];
	char kind[16], a[96], b[32], metric[64];
	double bound;
	int line;
};

int paper_parse_claim(char *line, struct paper_claim *c, char *err, size_t errlen);

/* Judges every claim, writes out/README.md and the pictures, and prints
 * the claims table to f. Returns -1 with the reason in err when the
 * claims file or the report cannot be read or written; a claim whose
 * experiment is missing is reported as such, not an error. */
int paper_report(const struct paper_opts *o, FILE *f, char *err, size_t errlen);

#endif
