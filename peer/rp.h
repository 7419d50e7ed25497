#ifndef ANYSEE_RP_H
#define ANYSEE_RP_H

#include <stdint.h>

#include "peer/bindtab.h"
#include "peer/config.h"
#include "peer/identity.h"
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

/* Before a register is answered, its address must have shown it receives
 * there: a register is a small datagram and the bootstrap it draws a large
 * one, so a register sent under a victim's address would make the
 * rendezvous point an amplifier towards it. A datagram from an (id,
 * address) not bound yet draws a cookie no larger than itself
 * (peer/identity.h, the peers' own return-routability check); the echo
 * binds the pair, and the register that follows it is answered. A peer
 * registers again at once when it echoes the rendezvous point's cookie
 * (peer/node.c), so a join costs one round trip more. */
enum rp_action {
	RP_DROP,   /* nothing to do (an echo, or a claim bound elsewhere) */
	RP_COOKIE, /* answer with identity_cookie() for from */
	RP_HANDLE, /* from is bound: handle the message */
};
enum rp_action rp_admit(struct identity *ids, const struct wire_msg *m,
                        const struct wire_addr *from, uint64_t now_us);

/* Run the rendezvous point until SIGINT/SIGTERM. Returns the exit code. */
int rp_run(struct config *cfg);

#endif
