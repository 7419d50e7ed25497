#include "peer/bindtab.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static struct bind_key *key(const struct bindtab *t, int i)
{
	return bindtab_at(t, i);
}

static uint32_t slot_of(const struct bindtab *t, uint32_t k)
{
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, (const uint8_t *)&k, sizeof(k), t->seed);
	uint32_t v;
	memcpy(&v, h, sizeof(v));
	return v & t->mask;
}

/* Linear probing: the slot holding k, or the free slot where it goes. At
 * most half the slots are taken, so a free one always ends the probe. */
static uint32_t probe(const struct bindtab *t, const struct bind_slot *tab, uint32_t k)
{
	uint32_t s = slot_of(t, k);
	while (tab[s].val && tab[s].key != k)
		s = (s + 1) & t->mask;
	return s;
}

/* Empty slot s, moving later slots of its probe run back so that no probe
 * stops short of its key (no tombstones). */
static void slot_clear(const struct bindtab *t, struct bind_slot *tab, uint32_t s)
{
	uint32_t j = s;
	for (;;) {
		j = (j + 1) & t->mask;
		if (!tab[j].val)
			break;
		uint32_t home = slot_of(t, tab[j].key);
		/* It stays when its home lies cyclically in (s, j]. */
		if (s <= j ? (s < home && home <= j) : (s < home || home <= j))
			continue;
		tab[s] = tab[j];
		s = j;
	}
	tab[s].val = 0;
}

int bindtab_init(struct bindtab *t, size_t esize, int cap, int per_addr)
{
	memset(t, 0, sizeof(*t));
	uint32_t slots = 2;
	while (slots < 2u * (uint32_t)cap)
		slots <<= 1;
	t->e = calloc((size_t)cap, esize);
	t->by_id = calloc(slots, sizeof(*t->by_id));
	t->by_ip = calloc(slots, sizeof(*t->by_ip));
	t->prev = calloc((size_t)cap, sizeof(int));
	t->next = calloc((size_t)cap, sizeof(int));
	t->mask = slots - 1;
	t->esize = esize;
	t->cap = cap;
	t->per_addr = per_addr;
	t->oldest = t->newest = -1;
	if (sodium_init() < 0 || !t->e || !t->by_id || !t->by_ip || !t->prev || !t->next) {
		bindtab_free(t);
		return -1;
	}
	randombytes_buf(t->seed, sizeof(t->seed));
	return 0;
}

void bindtab_free(struct bindtab *t)
{
	free(t->e);
	free(t->by_id);
	free(t->by_ip);
	free(t->prev);
	free(t->next);
	t->e = NULL;
	t->by_id = t->by_ip = NULL;
	t->prev = t->next = NULL;
	t->n = 0;
}

int bindtab_find(const struct bindtab *t, uint32_t id)
{
	return t->by_id[probe(t, t->by_id, id)].val - 1;
}

enum bind_verdict bindtab_check(const struct bindtab *t, const struct wire_addr *from, int *idx)
{
	int i = bindtab_find(t, from->id);
	if (i >= 0) {
		const struct wire_addr *a = &key(t, i)->addr;
		if (a->ip != from->ip || a->port != from->port)
			return BIND_REFUSED_ID;
		*idx = i;
		return BIND_KNOWN;
	}
	/* Loopback is one machine's own processes (a whole swarm on 127.0.0.1
	 * for a trial): not a stranger to limit. */
	if ((from->ip >> 24) == 127)
		return BIND_NEW;
	int same_ip = t->by_ip[probe(t, t->by_ip, from->ip)].val;
	return same_ip >= t->per_addr ? BIND_REFUSED_ADDR : BIND_NEW;
}

static void unlink_entry(struct bindtab *t, int i)
{
	if (t->prev[i] >= 0)
		t->next[t->prev[i]] = t->next[i];
	else
		t->oldest = t->next[i];
	if (t->next[i] >= 0)
		t->prev[t->next[i]] = t->prev[i];
	else
		t->newest = t->prev[i];
}

/* Into the refresh order by last_us: at the newest end, unless a clock
 * that went back says otherwise. */
static void link_entry(struct bindtab *t, int i)
{
	int p = t->newest;
	while (p >= 0 && key(t, p)->last_us > key(t, i)->last_us)
		p = t->prev[p];
	t->prev[i] = p;
	t->next[i] = p >= 0 ? t->next[p] : t->oldest;
	if (t->next[i] >= 0)
		t->prev[t->next[i]] = i;
	else
		t->newest = i;
	if (p >= 0)
		t->next[p] = i;
	else
		t->oldest = i;
}

/* The last entry takes index i: its links and its id slot follow. */
static void move_last_to(struct bindtab *t, int i)
{
	int last = t->n - 1;
	memcpy(bindtab_at(t, i), bindtab_at(t, last), t->esize);
	t->prev[i] = t->prev[last];
	t->next[i] = t->next[last];
	if (t->prev[i] >= 0)
		t->next[t->prev[i]] = i;
	else
		t->oldest = i;
	if (t->next[i] >= 0)
		t->prev[t->next[i]] = i;
	else
		t->newest = i;
	t->by_id[probe(t, t->by_id, key(t, i)->addr.id)].val = i + 1;
}

void bindtab_remove(struct bindtab *t, int i)
{
	if (t->gone)
		t->gone(t->arg, bindtab_at(t, i));
	const struct wire_addr *a = &key(t, i)->addr;
	slot_clear(t, t->by_id, probe(t, t->by_id, a->id));
	uint32_t s = probe(t, t->by_ip, a->ip);
	if (--t->by_ip[s].val == 0)
		slot_clear(t, t->by_ip, s);
	unlink_entry(t, i);
	if (i != t->n - 1)
		move_last_to(t, i);
	t->n--;
}

int bindtab_insert(struct bindtab *t, const struct wire_addr *from, uint64_t now_us, int *evicted)
{
	*evicted = 0;
	if (t->n == t->cap) {
		bindtab_remove(t, t->oldest);
		*evicted = 1;
	}
	int i = t->n++;
	memset(bindtab_at(t, i), 0, t->esize);
	key(t, i)->addr = *from;
	key(t, i)->last_us = now_us;
	struct bind_slot *id = &t->by_id[probe(t, t->by_id, from->id)];
	*id = (struct bind_slot){from->id, i + 1};
	struct bind_slot *ip = &t->by_ip[probe(t, t->by_ip, from->ip)];
	ip->key = from->ip;
	ip->val++;
	link_entry(t, i);
	return i;
}

void bindtab_touch(struct bindtab *t, int i, uint64_t now_us)
{
	key(t, i)->last_us = now_us;
	unlink_entry(t, i);
	link_entry(t, i);
}

int bindtab_expire(struct bindtab *t, uint64_t now_us, uint64_t max_age_us)
{
	int k = 0;
	while (t->oldest >= 0 && now_us - key(t, t->oldest)->last_us > max_age_us) {
		bindtab_remove(t, t->oldest);
		k++;
	}
	return k;
}
