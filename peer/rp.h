#ifndef ANYSEE_RP_H
#define ANYSEE_RP_H

#include <stdint.h>

#include "peer/bindtab.h"
#include "peer/config.h"
#include "peer/wire.h"

#define RP_MAX_ENTRIES 8192
#define RP_EXPIRE_US 15000000u
/* Entries one IP address may hold: a few peers behind one NAT, not a flood
 * from one host that fills the table. */
#define RP_PER_ADDR 8

struct rp_entry {
	struct bind_key k; /* id, address, last refresh */
	uint16_t stream;
	uint8_t role;
};

/* The rendezvous point's table, apart from its I/O so its rules can be
 * tested. */
struct rp_table {
	struct bindtab b; /* of struct rp_entry */
	struct wire_stream_desc streams[WIRE_MAX_STREAMS];
	int nstreams;
};

enum rp_verdict {
	RP_OK,                   /* refreshed */
	RP_OK_NEW,               /* a new entry */
	RP_OK_EVICTED,           /* a new entry; the oldest one made room */
	RP_REFUSED_ID_BOUND,     /* the id is registered from another address */
	RP_REFUSED_ADDR_FULL,    /* the address holds RP_PER_ADDR entries */
	RP_REFUSED_STREAM_OWNED, /* the stream has another source */
	RP_REFUSED_STREAM_KEY,   /* its source registers another key */
	RP_REFUSED_STREAMS,      /* WIRE_MAX_STREAMS streams exist */
	RP_VERDICTS
};

int rp_table_init(struct rp_table *t, int cap);
void rp_table_free(struct rp_table *t);
static inline struct rp_entry *rp_table_at(const struct rp_table *t, int i)
{
	return bindtab_at(&t->b, i);
}
/* A REGISTER from `from` (its claimed id, its real address). On RP_OK*,
 * *out is the entry to answer. */
enum rp_verdict rp_table_register(struct rp_table *t, const struct wire_register *g,
                                  const struct wire_addr *from, uint64_t now_us,
                                  struct rp_entry **out);
/* A LEAVE: forgets the entry only when it comes from the entry's address.
 * Returns 0, or -1 when ignored. */
int rp_table_leave(struct rp_table *t, const struct wire_addr *from);

/* Run the rendezvous point until SIGINT/SIGTERM. Returns the exit code. */
int rp_run(struct config *cfg);

#endif
