/* Identity lookups (peer/bindtab.h) at a full table: every datagram a peer
 * takes is checked against its table of remotes (IDENT_MAX entries). The
 * hash-indexed table against a scan of the same entries end to end, the way
 * the table was searched before it had indexes, measured in the same run on
 * the same queries. Prints the median nanoseconds per lookup of each over
 * ROUNDS rounds. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "peer/bindtab.h"

#define ENTRIES 4096
#define QUERIES 4096
#define ROUNDS 15

static enum bind_verdict scan_check(const struct bindtab *t, const struct wire_addr *from, int *idx)
{
	int same_ip = 0;
	for (int i = 0; i < t->n; i++) {
		const struct wire_addr *a = &((const struct bind_key *)bindtab_at(t, i))->addr;
		if (a->id == from->id) {
			if (a->ip != from->ip || a->port != from->port)
				return BIND_REFUSED_ID;
			*idx = i;
			return BIND_KNOWN;
		}
		same_ip += a->ip == from->ip;
	}
	return same_ip >= t->per_addr ? BIND_REFUSED_ADDR : BIND_NEW;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* ns per lookup of one round; sink keeps the lookups from being dropped. */
static double round_ns(const struct bindtab *t, const struct wire_addr *q, int scan, long *sink)
{
	double t0 = now_ns();
	for (int i = 0; i < QUERIES; i++) {
		int idx = -1;
		*sink += scan ? scan_check(t, &q[i], &idx) : bindtab_check(t, &q[i], &idx);
		*sink += idx;
	}
	return (now_ns() - t0) / QUERIES;
}

int main(void)
{
	static struct wire_addr q[QUERIES];
	struct bindtab t;
	if (bindtab_init(&t, sizeof(struct bind_key), ENTRIES, 8)) {
		fprintf(stderr, "bindtab bench: allocate a table of %d entries: out of memory\n",
		        ENTRIES);
		return 1;
	}
	srand(1);
	for (int i = 0; i < ENTRIES; i++) {
		struct wire_addr a = {(uint32_t)rand(), 0x0a000000u + (uint32_t)i, 7000};
		int ev, idx;
		if (bindtab_check(&t, &a, &idx) == BIND_NEW)
			bindtab_insert(&t, &a, (uint64_t)i, &ev);
	}
	/* Half known remotes, half strangers (a stranger costs a scan its
	 * whole length). */
	for (int i = 0; i < QUERIES; i++)
		q[i] = i % 2
		           ? ((struct bind_key *)bindtab_at(&t, rand() % t.n))->addr
		           : (struct wire_addr){(uint32_t)rand(), 0x0b000000u + (uint32_t)i, 7000};
	double h[ROUNDS], s[ROUNDS];
	long sink = 0;
	for (int r = 0; r < ROUNDS; r++) {
		h[r] = round_ns(&t, q, 0, &sink);
		s[r] = round_ns(&t, q, 1, &sink);
	}
	qsort(h, ROUNDS, sizeof(double), cmp);
	qsort(s, ROUNDS, sizeof(double), cmp);
	printf("%d %.1f %.1f %ld\n", t.n, h[ROUNDS / 2], s[ROUNDS / 2], sink & 1);
	bindtab_free(&t);
	return 0;
}
