/* The run's summary metrics by name, with their units: what `check`
 * bounds and what metrics.json's summary holds. */
#ifndef ANYSEE_METRIC_H
#define ANYSEE_METRIC_H

#include "analysis/analysis.h"

struct metric_def {
	const char *name; /* the key path under metrics.json's summary */
	const char *unit;
};

extern const struct metric_def metric_defs[M_COUNT];

/* The inter-overlay probes (ProbM, the reverse-tracing messages) from the
 * capture: per peer per minute present, and their bytes over the media
 * bytes. -1 without a capture or a minute of peers. */
struct probing {
	double messages_per_peer_minute, bytes_per_peer_minute, media_share;
};
int metric_probing(const struct run_metrics *m, struct probing *pr);

/* The metric named name, or -1. */
int metric_find(const char *name);
/* The whole run's values; NaN where the run cannot tell (no capture for the
 * overhead, no delays.txt for the stretch, no peer that played). */
void metric_values(const struct run_metrics *m, double out[M_COUNT]);

#endif
