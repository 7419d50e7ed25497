#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "peer/bindtab.h"

struct ent {
	struct bind_key k;
	int payload;
};

static int gone_calls, gone_last;

static void gone(void *arg, void *entry)
{
	(void)arg;
	gone_calls++;
	gone_last = ((struct ent *)entry)->payload;
}

static void test_bind_refuse_evict_expire(void **state)
{
	(void)state;
	struct bindtab t;
	assert_int_equal(bindtab_init(&t, sizeof(struct ent), 4, 2), 0);
	t.gone = gone;
	int i, ev;
	struct wire_addr a = {1, 100, 7000}, b = {2, 100, 7001}, c = {3, 100, 7002};
	assert_int_equal(bindtab_check(&t, &a, &i), BIND_NEW);
	i = bindtab_insert(&t, &a, 10, &ev);
	((struct ent *)bindtab_at(&t, i))->payload = 1;
	assert_int_equal(bindtab_check(&t, &a, &i), BIND_KNOWN);
	assert_int_equal(((struct ent *)bindtab_at(&t, i))->payload, 1);
	/* The same id from another port or address is not the same remote. */
	struct wire_addr spoof = {1, 100, 9};
	assert_int_equal(bindtab_check(&t, &spoof, &i), BIND_REFUSED_ID);
	i = bindtab_insert(&t, &b, 20, &ev);
	((struct ent *)bindtab_at(&t, i))->payload = 2;
	/* Two entries for address 100: a third id from it is refused. */
	assert_int_equal(bindtab_check(&t, &c, &i), BIND_REFUSED_ADDR);
	for (uint32_t k = 0; k < 2; k++) {
		struct wire_addr o = {10 + k, 200 + k, 7000};
		i = bindtab_insert(&t, &o, 30 + k, &ev);
		((struct ent *)bindtab_at(&t, i))->payload = 10 + (int)k;
		assert_int_equal(ev, 0);
	}
	/* Full: the entry refreshed longest ago (a, at 10) goes. */
	struct wire_addr d = {4, 300, 7000};
	i = bindtab_insert(&t, &d, 40, &ev);
	assert_int_equal(ev, 1);
	assert_int_equal(gone_calls, 1);
	assert_int_equal(gone_last, 1);
	assert_int_equal(bindtab_check(&t, &a, &i), BIND_NEW);
	/* At 45, entries not refreshed for 20 (b, at 20) expire. */
	assert_int_equal(bindtab_expire(&t, 45, 20), 1);
	assert_int_equal(gone_last, 2);
	assert_int_equal(t.n, 3);
	/* Loopback is one machine's own processes: no per-address limit. */
	for (uint32_t k = 0; k < 3; k++) {
		struct wire_addr l = {50 + k, 0x7f000001, (uint16_t)(7000 + k)};
		assert_int_equal(bindtab_check(&t, &l, &i), BIND_NEW);
		bindtab_insert(&t, &l, 50, &ev);
	}
	bindtab_free(&t);
}

/* The table as a plain array scanned end to end, as it was before its hash
 * indexes: each verdict and each eviction must agree with it. */
struct model {
	struct bind_key k[64];
	int n;
};

static enum bind_verdict model_check(const struct model *m, const struct wire_addr *a, int per_addr)
{
	int same_ip = 0;
	for (int i = 0; i < m->n; i++) {
		if (m->k[i].addr.id == a->id)
			return m->k[i].addr.ip == a->ip && m->k[i].addr.port == a->port
			           ? BIND_KNOWN
			           : BIND_REFUSED_ID;
		same_ip += m->k[i].addr.ip == a->ip;
	}
	return same_ip >= per_addr ? BIND_REFUSED_ADDR : BIND_NEW;
}

static int model_find(const struct model *m, uint32_t id)
{
	for (int i = 0; i < m->n; i++)
		if (m->k[i].addr.id == id)
			return i;
	return -1;
}

static void model_remove(struct model *m, int i)
{
	m->k[i] = m->k[--m->n];
}

static void model_insert(struct model *m, const struct wire_addr *a, uint64_t now, int cap)
{
	if (m->n == cap) {
		int o = 0;
		for (int i = 1; i < m->n; i++)
			if (m->k[i].last_us < m->k[o].last_us)
				o = i;
		model_remove(m, o);
	}
	m->k[m->n++] = (struct bind_key){*a, now};
}

/* One random step on both: a datagram from a remote (refreshing or
 * binding it), a removal, or an expiry. */
static void step(struct bindtab *t, struct model *m, uint64_t now, int cap)
{
	struct wire_addr a = {(uint32_t)(rand() % 96), (uint32_t)(rand() % 12),
	                      (uint16_t)(rand() % 2)};
	int i = -1, ev;
	enum bind_verdict v = bindtab_check(t, &a, &i);
	assert_int_equal(v, model_check(m, &a, 3));
	int r = rand() % 10;
	if (v == BIND_KNOWN && r < 7) {
		bindtab_touch(t, i, now);
		m->k[model_find(m, a.id)].last_us = now;
	} else if (v == BIND_KNOWN && r < 9) {
		bindtab_remove(t, i);
		model_remove(m, model_find(m, a.id));
	} else if (v == BIND_NEW) {
		bindtab_insert(t, &a, now, &ev);
		assert_int_equal(ev, m->n == cap);
		model_insert(m, &a, now, cap);
	} else if (r == 9) {
		int k = 0;
		for (int j = m->n - 1; j >= 0; j--)
			if (now - m->k[j].last_us > 300) {
				model_remove(m, j);
				k++;
			}
		assert_int_equal(bindtab_expire(t, now, 300), k);
	}
}

static void test_same_verdicts_as_a_scan(void **state)
{
	(void)state;
	enum { CAP = 40 };
	struct bindtab t;
	struct model m = {.n = 0};
	srand(7);
	assert_int_equal(bindtab_init(&t, sizeof(struct ent), CAP, 3), 0);
	for (uint64_t now = 1; now < 20000; now++) {
		step(&t, &m, now, CAP);
		assert_int_equal(t.n, m.n);
		for (int i = 0; i < t.n; i++) {
			const struct bind_key *k = bindtab_at(&t, i);
			int j = model_find(&m, k->addr.id);
			assert_true(j >= 0);
			assert_int_equal(k->last_us, m.k[j].last_us);
			assert_int_equal(bindtab_find(&t, k->addr.id), i);
		}
	}
	bindtab_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bind_refuse_evict_expire),
	    cmocka_unit_test(test_same_verdicts_as_a_scan),
	};
	return cmocka_run_group_tests_name("bindtab", tests, NULL, NULL);
}
