/* sweep.csv, one row per run of a parameter sweep, and its pictures: each
 * metric against the swept parameter, one line per mode, the mean over the
 * repeats with their range as error bars. */
#ifndef ANYSEE_SWEEP_H
#define ANYSEE_SWEEP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis/analysis.h"

/* Opens PARENT/sweep.csv and writes its header. */
FILE *sweep_csv_open(const char *parent, char *err, size_t errlen);
/* One run: its grid point ("peers=50,mode=anysee"), seed and summary. */
void sweep_csv_row(FILE *f, const char *point, uint64_t seed, const struct run_summary *s,
                   const char *run_dir);

/* One row of sweep.csv. */
struct sweep_row {
	char point[256]; /* "rate=200kbit,mode=anysee" */
	char x[128];     /* the point without its mode, or the point */
	char mode[32];   /* the point's mode, or "all" */
	uint64_t seed;
	int peers, valid;  /* valid: the emulation verdict, -1 not judged */
	double v[M_COUNT]; /* the summary metrics; NaN where unknown */
	char run_dir[1024];
};

/* Reads PARENT/sweep.csv, columns found by their names; *rows is
 * malloc'd. Returns -1 with the reason in err. */
int sweep_read(const char *parent, struct sweep_row **rows, int *n, char *err, size_t errlen);

/* The distinct x values, numbered in first-seen order: rows[i]'s. */
int sweep_x_index(const struct sweep_row *rows, int i);

/* A metric over the repeats of one point (mode, x): NaNs left out. */
struct sweep_stats {
	int n;
	double mean, lo, hi, se; /* se: standard error of the mean, NaN below 2 */
};
void sweep_point_stats(const struct sweep_row *rows, int n, const char *mode, const char *x,
                       int metric, struct sweep_stats *st);

/* Draws the sweep's pictures into pdir (created), names as below. */
int sweep_draw(const struct sweep_row *rows, int n, const char *pdir, char *names, size_t nameslen,
               char *err, size_t errlen);

/* Reads PARENT/sweep.csv and draws PARENT/plots/sweep_*.{svg,png}; names
 * gets the pictures drawn. Returns -1 with the reason in err. */
int sweep_plot(const char *parent, char *names, size_t nameslen, char *err, size_t errlen);

#endif
