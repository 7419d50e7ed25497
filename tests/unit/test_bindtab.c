#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bind_refuse_evict_expire),
	};
	return cmocka_run_group_tests_name("bindtab", tests, NULL, NULL);
}
