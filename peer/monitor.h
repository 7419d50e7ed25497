#ifndef ANYSEE_MONITOR_H
#define ANYSEE_MONITOR_H

#include "peer/config.h"

/* Collect peers' periodic reports into <log-dir>/reports.log, until
 * SIGINT/SIGTERM: every 5 s, one line for each peer that reported since
 * (its latest report). Each peer id is bound to the address it first
 * reported from (bindtab.h). Returns the exit code. */
int monitor_run(struct config *cfg);

#endif
