#include "netns/linkmodel.h"

#include <math.h>

static size_t align8(size_t x)
{
	return (x + 7) & ~(size_t)7;
}

size_t linkmodel_size(uint32_t n)
{
	return align8(sizeof(struct linkmodel)) + align8(sizeof(struct link_access) * n) +
	       sizeof(uint32_t) * (size_t)n * n;
}

struct linkmodel *linkmodel_init(void *mem, uint32_t n)
{
	char *p = mem;
	struct linkmodel *m = mem;
	m->n = n;
	m->generation = 0;
	m->host = (struct link_access *)(p + align8(sizeof(*m)));
	m->delay_us = (uint32_t *)((char *)m->host + align8(sizeof(struct link_access) * n));
	return m;
}

void linkmodel_path(const struct linkmodel *m, uint32_t a, uint32_t b, struct link_path *out)
{
	const struct link_access *ha = &m->host[a], *hb = &m->host[b];
	out->delay_us = m->delay_us[(size_t)a * m->n + b];
	/* Independent jitter on the two access links adds in variance. */
	double ja = ha->jitter_us, jb = hb->jitter_us;
	out->jitter_us = (uint32_t)lround(sqrt(ja * ja + jb * jb));
	out->loss = 1.0 - (1.0 - ha->loss) * (1.0 - hb->loss);
	out->blocked = ha->partition != hb->partition;
}

uint64_t link_tx_ns(uint64_t bps, uint32_t len)
{
	if (!bps)
		return 0;
	return ((uint64_t)len * 8u * 1000000000u) / bps;
}
