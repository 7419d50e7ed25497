/* Analysis of a run directory: per-peer startup delay, source-to-end delay
 * and continuity from the event logs (format in peer/log.h). */
#ifndef ANYSEE_ANALYSIS_H
#define ANYSEE_ANALYSIS_H

#include <stdint.h>
#include <stdio.h>

#include "analysis/overhead.h"

struct peer_metrics {
	char name[32];
	char mode[16];
	int started;                       /* playback started */
	double startup_s;                  /* join to playback start */
	double delay_med_ms, delay_p95_ms; /* source-to-end, segments stored */
	uint64_t due, on_time;
	double continuity;     /* on_time / due */
	uint64_t stored;       /* segments stored in the buffer */
	uint64_t verified_due; /* due segments received with verified content */
	double verified_fraction;
	uint64_t corrupt; /* checksum mismatches */
	int max_hops;
	/* Mean one-way delay to mesh neighbours (anysee mode): at the first
	 * round where any was measured, and at the last one. 0 when none. */
	double mesh_first_ms, mesh_last_ms;
	uint64_t bad_lines; /* event lines unreadable or missing a key */
};

struct run_metrics {
	char dir[1024];
	int npeers;
	struct peer_metrics *p;
	int have_overhead; /* the run has a capture.pcap */
	struct overhead overhead;
	char overhead_error[512]; /* why a capture.pcap present could not be read */
};

struct run_summary {
	int peers, played;
	double startup_median_s;
	double delay_median_ms;             /* median over peers of their median delay */
	double continuity;                  /* all on-time segments over all due ones */
	double verified;                    /* likewise for verified segments */
	double control_overhead;            /* -1 without a capture */
	double mesh_first_ms, mesh_last_ms; /* means over peers with mesh rounds */
};

void analysis_summary(const struct run_metrics *m, struct run_summary *out);

/* Read a run directory. Returns 0, or -1 with a one-line reason in err. */
int analysis_load(const char *dir, struct run_metrics *m, char *err, size_t errlen);
void analysis_free(struct run_metrics *m);
void analysis_report(const struct run_metrics *m, FILE *out);
int analysis_write_json(const struct run_metrics *m, const char *path);
/* Load, print the report to out, write report.txt and metrics.json. */
int analysis_run(const char *dir, FILE *out, char *err, size_t errlen);

#endif
