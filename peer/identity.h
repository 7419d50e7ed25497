/* Who is who: a remote's id is bound to the address it speaks from, so a
 * datagram that claims an id from any other address is dropped and counted.
 *
 * The rendezvous point's bootstrap lists are authoritative (it binds ids
 * to the address they registered from, bindtab.h): an id it names is bound
 * (or rebound) to the address it gives. An id no list has named yet is a
 * stranger: its datagrams are not handled, and it gets a return-routability
 * cookie instead, no larger than the shortest datagram that draws one. The
 * stranger's id is bound to its address once the cookie comes back from
 * there (COOKIE_ECHO), so a blind spoofer, who never sees the cookie, cannot
 * bind an id to an address it does not receive at. The cookie is stateless:
 * a keyed hash (SipHash, a per-node secret) of the claimed id, the address
 * and a time epoch, so a flood of strangers costs no memory. A remote silent
 * for IDENT_EXPIRE_US is forgotten, so a peer that rejoins from elsewhere is
 * heard again once the rendezvous point names it or it echoes a cookie.
 * Nothing may claim the node's own id. */
#ifndef ANYSEE_IDENTITY_H
#define ANYSEE_IDENTITY_H

#include <stdint.h>

#include "peer/bindtab.h"
#include "peer/wire.h"

#define IDENT_MAX 4096
#define IDENT_PER_ADDR 8
#define IDENT_EXPIRE_US 120000000u
/* A cookie is good in the epoch it was made in and the next one: 10 to 20
 * s, far more than any round trip the testbed models (a few hundred ms),
 * and short enough that one seen on the wire soon stops working. The paper
 * has no handshake; the length is this implementation's assumption. */
#define IDENT_COOKIE_EPOCH_US 10000000u
#define IDENT_SECRET_LEN 16

enum ident_verdict {
	IDENT_REFUSED,  /* claimed id bound elsewhere, or too many at the address */
	IDENT_OK,       /* bound to this address: handle it */
	IDENT_STRANGER, /* not bound yet: answer with a cookie only */
};

struct identity {
	struct bindtab t;
	uint32_t self_id;
	uint8_t secret[IDENT_SECRET_LEN]; /* the cookies' key */
	uint64_t refused;                 /* datagrams whose claimed id is bound elsewhere */
	uint64_t strangers;               /* datagrams answered with a cookie */
	uint64_t echoes_bad;              /* echoes of a wrong or stale cookie */
};

int identity_init(struct identity *d, uint32_t self_id);
void identity_free(struct identity *d);
/* May a datagram from `from` (claimed id, real address) be handled? */
enum ident_verdict identity_admit(struct identity *d, const struct wire_addr *from,
                                  uint64_t now_us);
/* The cookie for `to` (its claimed id and its address) at now_us. */
void identity_cookie(const struct identity *d, const struct wire_addr *to, uint64_t now_us,
                     uint8_t cookie[WIRE_COOKIE_LEN]);
/* The COOKIE message for `to`, from this node, at now_us. */
void identity_cookie_msg(const struct identity *d, const struct wire_addr *to, uint64_t now_us,
                         struct wire_msg *m);
/* `from` echoed a cookie: binds it when the cookie is the one made for it
 * in this epoch or the last. Returns 1 when from is bound now. */
int identity_on_echo(struct identity *d, const struct wire_addr *from,
                     const uint8_t cookie[WIRE_COOKIE_LEN], uint64_t now_us);
/* `from` sent a cookie: may it be echoed? Not when its id is bound
 * elsewhere (an echo is no larger than the cookie, so it amplifies
 * nothing, and it binds nothing here). */
int identity_may_echo(const struct identity *d, const struct wire_addr *from);
/* The rendezvous point says id lives at addr. */
void identity_learn(struct identity *d, const struct wire_addr *addr, uint64_t now_us);
void identity_expire(struct identity *d, uint64_t now_us);

#endif
