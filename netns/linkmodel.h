/* The link model: what every shaping backend realizes.
 *
 * Hosts 0..n-1 each have an access link (upload and download rate, loss,
 * jitter, queue limit) and a partition label; the path a->b has the one-way
 * delay delay_us[a*n+b] (shortest physical path, access included). The model
 * lives in one contiguous block so the harness can place it in shared memory
 * and change it while a userspace switch reads it; `generation` is bumped
 * after every change so readers can notice and reload cached values.
 */
#ifndef ANYSEE_LINKMODEL_H
#define ANYSEE_LINKMODEL_H

#include <stddef.h>
#include <stdint.h>

struct link_access {
	uint64_t up_bps;      /* 0 = unlimited */
	uint64_t down_bps;    /* 0 = unlimited */
	uint32_t jitter_us;   /* standard deviation of the added delay */
	uint32_t queue_bytes; /* per-direction queue limit; 0 = default */
	double loss;          /* probability in [0,1] on each direction */
	uint32_t partition;   /* hosts talk only within one partition label */
};

struct linkmodel {
	uint32_t n;
	volatile uint32_t generation;
	struct link_access *host; /* n entries */
	uint32_t *delay_us;       /* n*n entries, row = sender */
};

/* What a packet a->b experiences, derived from both access links. */
struct link_path {
	uint32_t delay_us;
	uint32_t jitter_us;
	double loss;
	int blocked; /* different partitions */
};

#define LINKMODEL_DEFAULT_QUEUE_BYTES (256u * 1024u)
/* The longest one-way delay and jitter a link takes, from the command line or
 * a scenario: far above any terrestrial path (a geostationary hop is 0.25 s)
 * and well inside the 32-bit microsecond fields. */
#define LINK_DELAY_MAX_US 10000000u

/* Bytes needed for a model of n hosts (header, hosts, matrix). */
size_t linkmodel_size(uint32_t n);
/* Lay out a model for n hosts in mem (linkmodel_size(n) bytes, zeroed by
 * the caller) and return it. Pointers are into mem, so a MAP_SHARED mem
 * mapped before fork is valid in the child at the same address. */
struct linkmodel *linkmodel_init(void *mem, uint32_t n);

void linkmodel_path(const struct linkmodel *m, uint32_t a, uint32_t b, struct link_path *out);

/* Serialisation time of len bytes at bps, in nanoseconds (0 when bps is 0). */
uint64_t link_tx_ns(uint64_t bps, uint32_t len);

#endif
