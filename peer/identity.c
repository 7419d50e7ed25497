#include "peer/identity.h"

#include <sodium.h>
#include <string.h>

_Static_assert(IDENT_SECRET_LEN == crypto_shorthash_KEYBYTES, "the cookie key is SipHash's");
_Static_assert(WIRE_COOKIE_LEN <= crypto_shorthash_BYTES, "a cookie is a truncated SipHash");

int identity_init(struct identity *d, uint32_t self_id)
{
	memset(d, 0, sizeof(*d));
	d->self_id = self_id;
	if (sodium_init() < 0)
		return -1;
	randombytes_buf(d->secret, sizeof(d->secret));
	return bindtab_init(&d->t, sizeof(struct bind_key), IDENT_MAX, IDENT_PER_ADDR);
}

void identity_free(struct identity *d)
{
	bindtab_free(&d->t);
	sodium_memzero(d->secret, sizeof(d->secret));
}

enum ident_verdict identity_admit(struct identity *d, const struct wire_addr *from, uint64_t now_us)
{
	int i;
	if (from->id == d->self_id) {
		d->refused++;
		return IDENT_REFUSED;
	}
	switch (bindtab_check(&d->t, from, &i)) {
	case BIND_KNOWN:
		bindtab_touch(&d->t, i, now_us);
		return IDENT_OK;
	case BIND_NEW:
		d->strangers++;
		return IDENT_STRANGER;
	default:
		d->refused++;
		return IDENT_REFUSED;
	}
}

/* The cookie of epoch e: the keyed hash of (id, address, epoch). */
static void make(const struct identity *d, const struct wire_addr *a, uint64_t e,
                 uint8_t cookie[WIRE_COOKIE_LEN])
{
	uint8_t in[18], h[crypto_shorthash_BYTES];
	for (int k = 0; k < 4; k++) {
		in[k] = (uint8_t)(a->id >> (8 * k));
		in[4 + k] = (uint8_t)(a->ip >> (8 * k));
	}
	in[8] = (uint8_t)a->port;
	in[9] = (uint8_t)(a->port >> 8);
	for (int k = 0; k < 8; k++)
		in[10 + k] = (uint8_t)(e >> (8 * k));
	crypto_shorthash(h, in, sizeof(in), d->secret);
	memcpy(cookie, h, WIRE_COOKIE_LEN);
}

void identity_cookie(const struct identity *d, const struct wire_addr *to, uint64_t now_us,
                     uint8_t cookie[WIRE_COOKIE_LEN])
{
	make(d, to, now_us / IDENT_COOKIE_EPOCH_US, cookie);
}

void identity_cookie_msg(const struct identity *d, const struct wire_addr *to, uint64_t now_us,
                         struct wire_msg *m)
{
	wire_msg_init(m, WIRE_COOKIE, 0, d->self_id);
	identity_cookie(d, to, now_us, m->u.cookie.cookie);
}

static int cookie_good(const struct identity *d, const struct wire_addr *from,
                       const uint8_t cookie[WIRE_COOKIE_LEN], uint64_t now_us)
{
	uint64_t e = now_us / IDENT_COOKIE_EPOCH_US;
	for (uint64_t k = 0; k <= 1 && k <= e; k++) {
		uint8_t want[WIRE_COOKIE_LEN];
		make(d, from, e - k, want);
		if (sodium_memcmp(want, cookie, WIRE_COOKIE_LEN) == 0)
			return 1;
	}
	return 0;
}

int identity_on_echo(struct identity *d, const struct wire_addr *from,
                     const uint8_t cookie[WIRE_COOKIE_LEN], uint64_t now_us)
{
	int i, evicted;
	if (from->id == d->self_id || !cookie_good(d, from, cookie, now_us)) {
		d->echoes_bad++;
		return 0;
	}
	switch (bindtab_check(&d->t, from, &i)) {
	case BIND_KNOWN:
		bindtab_touch(&d->t, i, now_us);
		return 1;
	case BIND_NEW:
		bindtab_insert(&d->t, from, now_us, &evicted);
		return 1;
	default:
		d->refused++;
		return 0;
	}
}

int identity_may_echo(const struct identity *d, const struct wire_addr *from)
{
	int i;
	if (from->id == d->self_id)
		return 0;
	enum bind_verdict v = bindtab_check(&d->t, from, &i);
	return v == BIND_KNOWN || v == BIND_NEW;
}

void identity_learn(struct identity *d, const struct wire_addr *addr, uint64_t now_us)
{
	int i, evicted;
	if (addr->id == d->self_id)
		return;
	enum bind_verdict v = bindtab_check(&d->t, addr, &i);
	if (v == BIND_KNOWN) {
		bindtab_touch(&d->t, i, now_us);
		return;
	}
	/* Rebind: drop the id's old address first. */
	i = bindtab_find(&d->t, addr->id);
	if (i >= 0)
		bindtab_remove(&d->t, i);
	/* The rendezvous point's word is not limited per address. */
	if (bindtab_check(&d->t, addr, &i) != BIND_KNOWN)
		bindtab_insert(&d->t, addr, now_us, &evicted);
}

void identity_expire(struct identity *d, uint64_t now_us)
{
	bindtab_expire(&d->t, now_us, IDENT_EXPIRE_US);
}
