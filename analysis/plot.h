/* Pictures of a run, drawn by gnuplot into RUN_DIR/plots/ as SVG and PNG:
 * CDFs of startup delay, steady-state source-to-end delay and stretch (one
 * line per mode), continuity and peers over time with joins, leaves and
 * crashes marked, and the control overhead by message type. */
#ifndef ANYSEE_PLOT_H
#define ANYSEE_PLOT_H

#include <stddef.h>

#include "analysis/analysis.h"

#define PLOT_DIR "plots"

/* Writes the data and script, runs gnuplot. On success names holds the
 * pictures drawn (space-separated, without extension). Returns 0, or -1
 * with the reason in err (gnuplot missing or failing is one). */
int plot_run(const struct run_metrics *m, char *names, size_t nameslen, char *err, size_t errlen);

/* Runs gnuplot on plots.gp inside pdir. Returns -1 with the reason in err. */
int plot_gnuplot(const char *pdir, char *err, size_t errlen);

#endif
