#include "peer/identity.h"

#include <string.h>

int identity_init(struct identity *d, uint32_t self_id)
{
	memset(d, 0, sizeof(*d));
	d->self_id = self_id;
	return bindtab_init(&d->t, sizeof(struct bind_key), IDENT_MAX, IDENT_PER_ADDR);
}

void identity_free(struct identity *d)
{
	bindtab_free(&d->t);
}

int identity_admit(struct identity *d, const struct wire_addr *from, uint64_t now_us)
{
	int i, evicted;
	if (from->id == d->self_id) {
		d->refused++;
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
