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

/* Reads PARENT/sweep.csv and draws PARENT/plots/sweep_*.{svg,png}; names
 * gets the pictures drawn. Returns -1 with the reason in err. */
int sweep_plot(const char *parent, char *names, size_t nameslen, char *err, size_t errlen);

#endif
