/* The machine's CPU headroom during a run, sampled once a second from
 * /proc/stat: a run whose cores were saturated is not a protocol result
 * (Mininet-HiFi judged its runs by the same headroom). */
#ifndef ANYSEE_CPUIDLE_H
#define ANYSEE_CPUIDLE_H

#include <stdint.h>

struct cpuidle {
	uint64_t last_idle, last_total; /* the previous /proc/stat reading */
	int have_last;
	double sum, min; /* over the samples: idle share of all cores */
	uint64_t samples;
};

/* The aggregate "cpu" line of /proc/stat into idle (idle + iowait) and
 * total jiffies. Returns -1 when the line is not one. */
int cpuidle_parse(const char *line, uint64_t *idle, uint64_t *total);
/* Adds the share idle since the previous reading (the first only starts). */
void cpuidle_add(struct cpuidle *c, uint64_t idle, uint64_t total);
/* Reads /proc/stat and adds a sample; -1 when it cannot be read. */
int cpuidle_sample(struct cpuidle *c);

#endif
