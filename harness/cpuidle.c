#include "harness/cpuidle.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cpuidle_parse(const char *line, uint64_t *idle, uint64_t *total)
{
	uint64_t v[8] = {0};
	if (strncmp(line, "cpu ", 4) ||
	    sscanf(line + 4,
	           "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
	           " %" SCNu64 " %" SCNu64,
	           &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 4)
		return -1;
	*idle = v[3] + v[4];
	*total = 0;
	for (int i = 0; i < 8; i++)
		*total += v[i];
	return 0;
}

void cpuidle_add(struct cpuidle *c, uint64_t idle, uint64_t total)
{
	if (c->have_last && total > c->last_total && idle >= c->last_idle) {
		double share = (double)(idle - c->last_idle) / (double)(total - c->last_total);
		if (share > 1)
			share = 1;
		c->sum += share;
		c->last = share;
		if (!c->samples || share < c->min)
			c->min = share;
		c->samples++;
	}
	c->last_idle = idle;
	c->last_total = total;
	c->have_last = 1;
}

int cpuidle_sample(struct cpuidle *c)
{
	FILE *f = fopen("/proc/stat", "re");
	char line[512];
	uint64_t idle, total;
	int ok = f && fgets(line, sizeof(line), f) && cpuidle_parse(line, &idle, &total) == 0;
	if (f)
		fclose(f);
	if (!ok)
		return -1;
	cpuidle_add(c, idle + c->extra_idle, total);
	return 0;
}

int cpuidle_parse_proc(const char *line, uint64_t *ticks)
{
	/* The command name may hold spaces and parentheses; the fields
	 * after the last ')' are fixed: state is the 3rd field of the line,
	 * utime and stime the 14th and 15th. */
	const char *p = strrchr(line, ')');
	uint64_t ut, st;
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %" SCNu64 " %" SCNu64,
	                 &ut, &st) != 2)
		return -1;
	*ticks = ut + st;
	return 0;
}

int cpuidle_proc_seconds(pid_t pid, double *cpu_s)
{
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	uint64_t ticks;
	int ok = f && fgets(line, sizeof(line), f) && cpuidle_parse_proc(line, &ticks) == 0;
	if (f)
		fclose(f);
	if (!ok)
		return -1;
	static long hz;
	if (!hz)
		hz = sysconf(_SC_CLK_TCK);
	*cpu_s = (double)ticks / (double)(hz > 0 ? hz : 100);
	return 0;
}

void cpuuse_add(struct cpuuse *u, double cpu_s, uint64_t from_us, uint64_t to_us)
{
	uint64_t span = to_us > from_us ? to_us - from_us : 0;
	uint64_t at = from_us + span / 2;
	if (!u->have) {
		*u = (struct cpuuse){.first_s = cpu_s,
		                     .last_s = cpu_s,
		                     .first_us = at,
		                     .last_us = at,
		                     .last_span_us = span,
		                     .have = 1};
		return;
	}
	if (at <= u->last_us)
		return;
	uint64_t dt = at - u->last_us;
	if ((double)(u->last_span_us + span) <= CPUUSE_SPAN_SHARE * (double)dt) {
		double cores = (cpu_s - u->last_s) / ((double)dt / 1e6);
		if (cores > u->max)
			u->max = cores;
		u->last_smeared = 0;
	} else {
		u->smeared++;
		u->last_smeared = 1;
	}
	u->last_s = cpu_s;
	u->last_us = at;
	u->last_span_us = span;
}

double cpuuse_mean(const struct cpuuse *u)
{
	if (!u->have || u->last_us <= u->first_us)
		return 0;
	return (u->last_s - u->first_s) / ((double)(u->last_us - u->first_us) / 1e6);
}
