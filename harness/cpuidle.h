/* The machine's CPU headroom during a run, sampled once a second from
 * /proc/stat: a run whose cores were saturated is not a protocol result
 * (Mininet-HiFi judged its runs by the same headroom). Also what given
 * processes used, from /proc/PID/stat, so a report can say who took it. */
#ifndef ANYSEE_CPUIDLE_H
#define ANYSEE_CPUIDLE_H

#include <stdint.h>
#include <sys/types.h>

struct cpuidle {
	uint64_t last_idle, last_total; /* the previous /proc/stat reading */
	int have_last;
	double sum, min; /* over the samples: idle share of all cores */
	double last;     /* the latest sample */
	uint64_t samples;
	/* Jiffies so far that count as idle though /proc/stat says busy: the
	 * SCHED_IDLE spinners' (awake.h), which anything else could have had. */
	uint64_t extra_idle;
};

/* CPU seconds of a process or a group, turned into cores used. A group's
 * reading is a sum over many /proc files read one after another, so it is
 * taken over a span of time, not at an instant: under load the reader can
 * be preempted half way, and a timer that ran late makes the next interval
 * short. Each reading counts at the middle of its span, and an interval
 * goes towards the busiest one only when the spans at its two ends are
 * small against it (CPUUSE_SPAN_SHARE). Stamped at their start, such
 * readings gave more cores than the machine has (test_cpuidle.c). */
#define CPUUSE_SPAN_SHARE 0.05
struct cpuuse {
	double first_s, last_s;     /* CPU seconds at the first and latest sample */
	uint64_t first_us, last_us; /* when they were taken (mid-span), monotonic */
	uint64_t last_span_us;      /* how long the latest reading took */
	double max;                 /* the busiest interval counted, in cores */
	uint64_t smeared;           /* intervals not counted towards max */
	int last_smeared;           /* the latest interval was one of those */
	int have;
};

/* The aggregate "cpu" line of /proc/stat into idle (idle + iowait) and
 * total jiffies. Returns -1 when the line is not one. */
int cpuidle_parse(const char *line, uint64_t *idle, uint64_t *total);
/* Adds the share idle since the previous reading (the first only starts). */
void cpuidle_add(struct cpuidle *c, uint64_t idle, uint64_t total);
/* Reads /proc/stat and adds a sample; -1 when it cannot be read. */
int cpuidle_sample(struct cpuidle *c);

/* utime + stime of a /proc/PID/stat line, in clock ticks; -1 when it is
 * not one. */
int cpuidle_parse_proc(const char *line, uint64_t *ticks);
/* CPU seconds used so far by process pid; -1 when it cannot be read (it
 * is gone). */
int cpuidle_proc_seconds(pid_t pid, double *cpu_s);
/* Adds a reading: cpu_s CPU seconds in total, read between from_us and
 * to_us (equal for a reading taken at once). */
void cpuuse_add(struct cpuuse *u, double cpu_s, uint64_t from_us, uint64_t to_us);
/* Cores used between the first and latest reading; 0 before two. */
double cpuuse_mean(const struct cpuuse *u);

#endif
