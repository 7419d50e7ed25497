#include "harness/cpuidle.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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
	cpuidle_add(c, idle, total);
	return 0;
}
