/* Who is who: a remote's id is bound to the address it speaks from, so a
 * datagram that claims an id from any other address is dropped and counted.
 *
 * The rendezvous point's bootstrap lists are authoritative (it binds ids
 * to the address they registered from, bindtab.h): an id it names is bound
 * (or rebound) to the address it gives. An id no list has named yet is
 * bound to the first address it speaks from. A remote silent for
 * IDENT_EXPIRE_US is forgotten, so a peer that rejoins from elsewhere is
 * heard again once the rendezvous point names it. Nothing may claim the
 * node's own id. */
#ifndef ANYSEE_IDENTITY_H
#define ANYSEE_IDENTITY_H

#include <stdint.h>

#include "peer/bindtab.h"
#include "peer/wire.h"

#define IDENT_MAX 4096
#define IDENT_PER_ADDR 8
#define IDENT_EXPIRE_US 120000000u

struct identity {
	struct bindtab t;
	uint32_t self_id;
	uint64_t refused; /* datagrams whose claimed id is bound elsewhere */
};

int identity_init(struct identity *d, uint32_t self_id);
void identity_free(struct identity *d);
/* May a datagram from `from` (claimed id, real address) be handled? */
int identity_admit(struct identity *d, const struct wire_addr *from, uint64_t now_us);
/* The rendezvous point says id lives at addr. */
void identity_learn(struct identity *d, const struct wire_addr *addr, uint64_t now_us);
void identity_expire(struct identity *d, uint64_t now_us);

#endif
