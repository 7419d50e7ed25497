#ifndef ANYSEE_MONITOR_H
#define ANYSEE_MONITOR_H

#include "peer/config.h"

/* Collect peers' periodic reports into <log-dir>/reports.log, one line per
 * report, until SIGINT/SIGTERM. Returns the exit code. */
int monitor_run(struct config *cfg);

#endif
