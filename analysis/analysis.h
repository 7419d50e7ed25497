/* Analysis of a run directory (layout in lib/rundir.h, the peers' logs in
 * peer/log.h): the metrics of DESIGN.md section 6 per peer, and per group
 * (the whole run, each mode, each stream).
 *
 * Source-to-end delay is reported over the steady state: segments made
 * after the peer started playing. Segments made before (the start-up
 * backlog it pulls to fill its buffer) are counted apart, since their delay
 * says how old the backlog was, not how fast the overlay delivers. */
#ifndef ANYSEE_ANALYSIS_H
#define ANYSEE_ANALYSIS_H

#include <stdint.h>
#include <stdio.h>

#include "analysis/overhead.h"
#include "analysis/paths.h"
#include "analysis/stats.h"
#include "lib/rundir.h"
#include "peer/log.h"

/* Event-loop stalls (LOGEV_STALL): how many, the longest, and which the
 * machine's own pauses explain (pauses.txt, harness/pause.h): stalls that
 * overlapped one, and how much of the longest stall the machine spent
 * paused (0: none of it, or the run had no probe). */
struct stalls {
	int n, paused;
	double max_us, max_pause_us;
};

/* The machine's pauses, ordered by start, when the harness probed them. */
struct pause_list {
	int have;
	struct rundir_pause *p;
	size_t n;
};

struct peer_metrics {
	char name[32];
	char mode[16];
	char stream[32];
	int host;                          /* row in hosts.txt (and delays.txt) */
	int started;                       /* playback started */
	double startup_s;                  /* join to playback start, first session */
	double lag_s;                      /* how far behind live playback began */
	double delay_med_ms, delay_p95_ms; /* source-to-end, steady state */
	double delay_max_ms;
	uint64_t steady, backlog;        /* stored segments made after / before playback */
	double backlog_med_ms;           /* source-to-end delay of the backlog */
	double stretch_med, stretch_p95; /* over the shortest path; 0 without one */
	uint64_t due, on_time;
	double continuity;     /* on_time / due */
	uint64_t stored;       /* segments stored in the buffer */
	uint64_t verified_due; /* due segments received with verified content */
	double verified_fraction;
	uint64_t corrupt; /* checksum mismatches */
	int max_hops;     /* overlay hops of the deliveries stored */
	int push_paths;   /* push paths that came up, and their hops summed */
	int push_hops_sum, push_hops_max;
	double mean_hops;
	/* Mean one-way delay to mesh neighbours (anysee mode): at the first
	 * round where any was measured, and at the last one. 0 when none. */
	double mesh_first_ms, mesh_last_ms;
	/* Sessions, and those that ended before the harness stopped the run:
	 * with a leave, or without one (crashed). */
	int joins, leaves, crashes;
	uint64_t bad_lines; /* event lines unreadable or missing a key */
	/* Upload over the seconds logged: capacity, and what was sent by pull
	 * (served to partners), push (to own children) and relay, in bits. */
	double up_capacity, up_pull, up_push, up_relay;
	double up_seconds;      /* seconds with an upload line: the peer's time present */
	int keynode_mismatch_s; /* of those, seconds whose key-node slots in use were
	                         * not its push and relay children */
	struct stalls stalls;   /* its event loop's (LOGEV_STALL) */
	/* Others' probes sent on, held back by the budget, refused
	 * (LOGEV_PROBES, summed over its sessions). */
	struct evlog_probes probes;
	char missing[160]; /* logs that could not be read, and why */
};

/* Per-segment distributions of a group of peers. */
struct metrics_group {
	char kind[8]; /* "all", "mode" or "stream" */
	char name[32];
	struct hist delay;   /* steady-state source-to-end delay, us */
	struct hist backlog; /* start-up backlog delay, us */
	struct hist stretch; /* stretch x 1000 */
	uint64_t hops_sum, hops_n;
	int hops_max;
};

/* The run second by second, from the peers' event logs. */
struct timeline_sec {
	uint64_t due, on_time; /* summed over the peers' ticks */
	uint32_t playing;      /* peers playing at some time in that second */
	uint32_t joins, leaves, crashes;
	float idle;        /* the machine's idle share, the lowest sample in it */
	uint8_t have_idle; /* cpu.txt had a sample in it */
};

struct timeline {
	uint64_t t0_us;   /* the earliest peer start */
	uint64_t stop_us; /* when the harness stopped the run (UINT64_MAX unknown) */
	size_t n;
	struct timeline_sec *s;
};

struct run_metrics {
	char dir[1024];
	int npeers;
	struct peer_metrics *p;
	int ngroups;
	struct metrics_group *g; /* [0] is the whole run */
	struct timeline tl;
	struct path_log paths;   /* while loading */
	struct paths_summary ps; /* children outliving their peer, failovers */
	int have_paths;          /* ps is complete */
	int have_delays;         /* delays.txt was read: stretch is known */
	int have_overhead;       /* the run has a readable capture.pcap */
	struct overhead overhead;
	char overhead_error[512]; /* why a capture.pcap present could not be read */
	/* The emulation's own load, when the harness recorded it, and the
	 * verdict on it: a run without headroom is not a protocol result. */
	int have_emulation;
	struct rundir_emulation emu;
	double min_path_us; /* the smallest delay between two hosts in delays.txt; -1 unknown */
	int emu_valid;
	char emu_reason[256];
	/* Every host's event-loop stalls (any role), and whose was the
	 * longest; the machine's pauses they are held against. */
	struct stalls stalls;
	char stall_host[32];
	struct pause_list pauses;
	/* The machine's load by second (cpu.txt), summed up: how many seconds,
	 * how many under the busiest second's bound (EMU_IDLE_SECOND_MIN) and
	 * when the first and last of them were, and the lowest; seconds since
	 * the timeline's start. */
	struct cpu_seconds {
		int have;
		size_t n, short_n;
		double short_first_s, short_last_s;
		double low, low_at_s;
	} cpu;
	char pictures[256]; /* drawn by analysis_run, or why not (plot_error) */
	char plot_error[512];
};

/* The run's summary metrics, named in metric.h (metric_defs). */
enum metric_id {
	M_PLAYED_SHARE,
	M_CONTINUITY,
	M_VERIFIED,
	M_STARTUP_P50,
	M_STARTUP_P95,
	M_S2E_P50,
	M_S2E_P95,
	M_LAG_P50,
	M_STRETCH_P50,
	M_STRETCH_P95,
	M_HEIGHT_MEAN,
	M_HEIGHT_MAX,
	M_OVERHEAD_BYTES,
	M_CRASHES,
	M_UTILIZATION,
	M_PROBE_SHARE,
	M_OUTLIVE_MAX,
	M_FAILOVER_P50,
	M_KEYNODE_MISMATCH,
	M_EMULATION_VALID,
	M_COUNT
};

struct run_summary {
	int peers, played;
	double startup_median_s;
	double delay_median_ms;             /* median over peers of their steady median */
	double continuity;                  /* all on-time segments over all due ones */
	double verified;                    /* likewise for verified segments */
	double control_overhead;            /* -1 without a capture */
	double mesh_first_ms, mesh_last_ms; /* means over peers with mesh rounds */
	int valid;                          /* the emulation verdict; -1 not judged */
	double metric[M_COUNT];             /* metric_values: NaN where unknown */
};

/* Per-peer figures of a group (peers of its mode or stream, or all),
 * summed, and sorted where quantiles are taken. */
struct group_peers {
	int peers, played;
	double *startup, *lag, *delay_med;
	uint64_t due, on_time, verified, steady, backlog;
	int joins, leaves, crashes;
	double up_capacity, up_pull, up_push, up_relay;
	int push_paths, push_hops_sum, push_hops_max;
	double mesh_first, mesh_last;
	int nmesh;
};

/* Returns -1 when out of memory; group_release either way. */
int group_gather(const struct run_metrics *m, const struct metrics_group *g,
                 struct group_peers *gp);
void group_release(struct group_peers *gp);

void analysis_summary(const struct run_metrics *m, struct run_summary *out);

/* The headroom a run needs to count as a protocol result: the machine at
 * least this idle on average, and in every second. An assumption (no
 * published figure fits a 2-core box): below it, timers fire late and the
 * shaping switch queues frames, so delays measure the machine, not the
 * overlay. The figures are reported either way. */
#define EMU_IDLE_MEAN_MIN 0.10
#define EMU_IDLE_SECOND_MIN 0.02
/* The shaping switch must release 99% of frames within the larger of these
 * of their due time: the delay bar the testbed is held to (a delay within
 * max(0.5 ms, 2%) of the model's, as tests/bench/netns.sh checks it),
 * applied to the smallest path delay in use, where lateness weighs most. */
#define EMU_LATE_MIN_US 500.0
#define EMU_LATE_PATH_SHARE 0.02
/* No host's event loop may have run a timer this late: a process that did
 * not run for half a second (starved, blocked on a stalled disk) misses
 * what fell due meanwhile, and the protocol's shortest timeout (a silent
 * push path) is this long, so the run would measure the machine. */
#define EMU_STALL_MAX_US 500000.0
/* The lateness bound for a run whose smallest path delay is min_path_us
 * (-1 unknown: EMU_LATE_MIN_US). */
double analysis_lateness_bound_us(double min_path_us);
/* Judges emu and the hosts' stalls (the longest stall_host's; NULL for
 * none); reason says why when not valid, or what was measured, and whether
 * the machine itself paused then. The lateness rule applies only where a
 * switch measured it. Returns 1 when valid. */
int analysis_emulation_valid(const struct rundir_emulation *emu, double min_path_us,
                             const struct stalls *st, const char *stall_host, char *reason,
                             size_t len);

/* Read a run directory. A host whose logs are missing or damaged is
 * reported in its peer_metrics (missing) and the rest goes on; only a
 * directory without hosts.txt fails, with a one-line reason in err. */
int analysis_load(const char *dir, struct run_metrics *m, char *err, size_t errlen);
void analysis_free(struct run_metrics *m);
void analysis_report(const struct run_metrics *m, FILE *out);
int analysis_write_json(const struct run_metrics *m, const char *path);
int analysis_write_csv(const struct run_metrics *m, const char *path);
/* Load, print the report to out (may be NULL), write report.txt, peers.csv,
 * metrics.json and the pictures; sum (may be NULL) gets the run's summary. */
int analysis_run(const char *dir, FILE *out, struct run_summary *sum, char *err, size_t errlen);

#endif
