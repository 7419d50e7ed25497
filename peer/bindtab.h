/* A table of remotes, each id bound to the address it first spoke from.
 *
 * The rendezvous point and the monitor keep one entry per remote that
 * datagrams from anyone can create. So that no stranger can take one over
 * or fill it: a message claiming a known id from another address is
 * refused, one IP address holds a bounded number of entries whatever ids it
 * claims, and a full table gives up the entry refreshed longest ago.
 *
 * Every datagram a peer takes goes through bindtab_check, so check, insert,
 * touch and remove take constant time on average: entries are indexed by
 * id and their count by IP address in two open-addressing hash tables
 * (keyed SipHash, so no sender can choose ids that collide), and a list in
 * refresh order makes the oldest entry the first one, for eviction and
 * expiry.
 *
 * Entries are esize bytes each and start with a struct bind_key; the rest
 * is the owner's. Indices change on removal (the last entry moves in). An
 * entry's last_us changes only through bindtab_touch, which keeps the
 * refresh order. */
#ifndef ANYSEE_BINDTAB_H
#define ANYSEE_BINDTAB_H

#include <stddef.h>
#include <stdint.h>

#include "peer/wire.h"

struct bind_key {
	struct wire_addr addr; /* the claimed id and the address it is bound to */
	uint64_t last_us;      /* last refresh */
};

/* A hash table slot: an id and its entry index + 1, or an IP address and
 * its entry count; val 0 is a free slot. */
struct bind_slot {
	uint32_t key;
	int val;
};

struct bindtab {
	char *e;
	size_t esize;
	int n, cap;
	int per_addr; /* entries one IP address may hold (loopback: any) */
	/* Called with an entry about to be removed (evicted or forgotten). */
	void (*gone)(void *arg, void *entry);
	void *arg;
	/* The indexes: entry by id, entries per IP address, and the refresh
	 * order (prev/next by entry index, -1 ends it). */
	struct bind_slot *by_id, *by_ip;
	uint32_t mask; /* both hash tables have mask + 1 slots */
	int *prev, *next;
	int oldest, newest;
	uint8_t seed[16];
};

enum bind_verdict {
	BIND_KNOWN,        /* *idx is its entry */
	BIND_NEW,          /* may be inserted */
	BIND_REFUSED_ID,   /* the id is bound to another address */
	BIND_REFUSED_ADDR, /* the address holds per_addr entries */
};

/* Returns -1 when out of memory. */
int bindtab_init(struct bindtab *t, size_t esize, int cap, int per_addr);
void bindtab_free(struct bindtab *t);
static inline void *bindtab_at(const struct bindtab *t, int i)
{
	return t->e + (size_t)i * t->esize;
}
/* What a message from `from` may do. */
enum bind_verdict bindtab_check(const struct bindtab *t, const struct wire_addr *from, int *idx);
/* The entry bound to id, or -1. */
int bindtab_find(const struct bindtab *t, uint32_t id);
/* Add an entry after BIND_NEW (zeroed but for its key), evicting the entry
 * refreshed longest ago when full (*evicted set). Returns its index. */
int bindtab_insert(struct bindtab *t, const struct wire_addr *from, uint64_t now_us, int *evicted);
/* Entry i was refreshed at now_us. */
void bindtab_touch(struct bindtab *t, int i, uint64_t now_us);
void bindtab_remove(struct bindtab *t, int i);
/* Remove entries not refreshed for max_age_us; returns how many. */
int bindtab_expire(struct bindtab *t, uint64_t now_us, uint64_t max_age_us);

#endif
