#include "peer/bindtab.h"

#include <stdlib.h>
#include <string.h>

static struct bind_key *key(const struct bindtab *t, int i)
{
	return bindtab_at(t, i);
}

int bindtab_init(struct bindtab *t, size_t esize, int cap, int per_addr)
{
	memset(t, 0, sizeof(*t));
	t->e = calloc((size_t)cap, esize);
	t->esize = esize;
	t->cap = cap;
	t->per_addr = per_addr;
	return t->e ? 0 : -1;
}

void bindtab_free(struct bindtab *t)
{
	free(t->e);
	t->e = NULL;
	t->n = 0;
}

enum bind_verdict bindtab_check(const struct bindtab *t, const struct wire_addr *from, int *idx)
{
	int same_ip = 0;
	for (int i = 0; i < t->n; i++) {
		const struct wire_addr *a = &key(t, i)->addr;
		if (a->id == from->id) {
			if (a->ip != from->ip || a->port != from->port)
				return BIND_REFUSED_ID;
			*idx = i;
			return BIND_KNOWN;
		}
		same_ip += a->ip == from->ip;
	}
	/* Loopback is one machine's own processes (a whole swarm on 127.0.0.1
	 * for a trial): not a stranger to limit. */
	if ((from->ip >> 24) == 127)
		return BIND_NEW;
	return same_ip >= t->per_addr ? BIND_REFUSED_ADDR : BIND_NEW;
}

void bindtab_remove(struct bindtab *t, int i)
{
	if (t->gone)
		t->gone(t->arg, bindtab_at(t, i));
	if (i != t->n - 1)
		memcpy(bindtab_at(t, i), bindtab_at(t, t->n - 1), t->esize);
	t->n--;
}

int bindtab_insert(struct bindtab *t, const struct wire_addr *from, uint64_t now_us, int *evicted)
{
	*evicted = 0;
	if (t->n == t->cap) {
		int o = 0;
		for (int i = 1; i < t->n; i++)
			if (key(t, i)->last_us < key(t, o)->last_us)
				o = i;
		bindtab_remove(t, o);
		*evicted = 1;
	}
	int i = t->n++;
	memset(bindtab_at(t, i), 0, t->esize);
	key(t, i)->addr = *from;
	key(t, i)->last_us = now_us;
	return i;
}

int bindtab_expire(struct bindtab *t, uint64_t now_us, uint64_t max_age_us)
{
	int k = 0;
	for (int i = t->n - 1; i >= 0; i--)
		if (now_us - key(t, i)->last_us > max_age_us) {
			bindtab_remove(t, i);
			k++;
		}
	return k;
}
