#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "peer/identity.h"

/* A stranger is answered with a cookie, and bound once it echoes it from
 * the address the cookie went to. */
static int bind_by_echo(struct identity *d, const struct wire_addr *a, uint64_t now)
{
	uint8_t c[WIRE_COOKIE_LEN];
	if (identity_admit(d, a, now) != IDENT_STRANGER)
		return 0;
	identity_cookie(d, a, now, c);
	return identity_on_echo(d, a, c, now + 1000);
}

static void test_bound_after_echo(void **state)
{
	(void)state;
	struct identity d;
	assert_int_equal(identity_init(&d, 7), 0);
	struct wire_addr a = {3, 0x0a000003, 7000};
	assert_true(bind_by_echo(&d, &a, 1));
	assert_int_equal(identity_admit(&d, &a, 2), IDENT_OK);
	/* Another port or address claiming id 3 is dropped and counted. */
	struct wire_addr spoof = {3, 0x0a000009, 7000}, port = {3, 0x0a000003, 41000};
	assert_int_equal(identity_admit(&d, &spoof, 3), IDENT_REFUSED);
	assert_int_equal(identity_admit(&d, &port, 3), IDENT_REFUSED);
	/* Nobody is the node itself. */
	struct wire_addr self = {7, 0x0a000009, 7000};
	assert_int_equal(identity_admit(&d, &self, 3), IDENT_REFUSED);
	assert_int_equal(d.refused, 3);
	identity_free(&d);
}

/* A blind spoofer's first contact, never echoed, binds nothing: the id's
 * real owner, who echoes its cookie, is bound after it. */
static void test_spoofed_first_contact_does_not_bind(void **state)
{
	(void)state;
	struct identity d;
	assert_int_equal(identity_init(&d, 7), 0);
	struct wire_addr spoof = {5, 0x0a0000ee, 7000}, owner = {5, 0x0a000005, 7000};
	for (uint64_t t = 1; t < 50; t++)
		assert_int_equal(identity_admit(&d, &spoof, t), IDENT_STRANGER);
	assert_int_equal(d.t.n, 0);
	assert_int_equal(d.strangers, 49);
	assert_true(bind_by_echo(&d, &owner, 60));
	assert_int_equal(identity_admit(&d, &owner, 61), IDENT_OK);
	assert_int_equal(identity_admit(&d, &spoof, 61), IDENT_REFUSED);
	identity_free(&d);
}

/* A cookie is good for its id and address, in its epoch and the next. */
static void test_wrong_or_old_cookie_refused(void **state)
{
	(void)state;
	struct identity d;
	assert_int_equal(identity_init(&d, 7), 0);
	struct wire_addr a = {5, 0x0a000005, 7000};
	uint64_t t0 = 3 * IDENT_COOKIE_EPOCH_US + 5;
	uint8_t c[WIRE_COOKIE_LEN], guess[WIRE_COOKIE_LEN] = {0};
	identity_cookie(&d, &a, t0, c);
	/* A guess, a cookie with one bit changed, the cookie echoed from
	 * another address or for another id. */
	guess[0] = c[0];
	assert_false(identity_on_echo(&d, &a, guess, t0));
	c[WIRE_COOKIE_LEN - 1] ^= 1;
	assert_false(identity_on_echo(&d, &a, c, t0));
	c[WIRE_COOKIE_LEN - 1] ^= 1;
	struct wire_addr port = {5, 0x0a000005, 7001}, other = {6, 0x0a000005, 7000};
	assert_false(identity_on_echo(&d, &port, c, t0));
	assert_false(identity_on_echo(&d, &other, c, t0));
	/* Two epochs on it is stale; one epoch on it still binds. */
	assert_false(identity_on_echo(&d, &a, c, t0 + 2 * IDENT_COOKIE_EPOCH_US));
	assert_int_equal(d.echoes_bad, 5);
	assert_int_equal(d.t.n, 0);
	assert_true(identity_on_echo(&d, &a, c, t0 + IDENT_COOKIE_EPOCH_US));
	assert_int_equal(identity_admit(&d, &a, t0 + IDENT_COOKIE_EPOCH_US), IDENT_OK);
	/* Another node's secret makes other cookies. */
	struct identity e;
	assert_int_equal(identity_init(&e, 8), 0);
	identity_cookie(&e, &other, t0, c);
	assert_false(identity_on_echo(&d, &other, c, t0));
	identity_free(&e);
	identity_free(&d);
}

/* A cookie is echoed unless its sender claims an id bound elsewhere. */
static void test_may_echo(void **state)
{
	(void)state;
	struct identity d;
	assert_int_equal(identity_init(&d, 7), 0);
	struct wire_addr src = {1, 0x0a000002, 7000}, evil = {1, 0x0a0000ee, 7000};
	struct wire_addr stranger = {9, 0x0a000009, 7000}, self = {7, 0x0a000009, 7000};
	identity_learn(&d, &src, 1);
	assert_true(identity_may_echo(&d, &src));
	assert_true(identity_may_echo(&d, &stranger));
	assert_false(identity_may_echo(&d, &evil));
	assert_false(identity_may_echo(&d, &self));
	identity_free(&d);
}

/* The rendezvous point's list binds ahead of any datagram, and rebinds. */
static void test_rendezvous_point_is_authoritative(void **state)
{
	(void)state;
	struct identity d;
	assert_int_equal(identity_init(&d, 7), 0);
	struct wire_addr src = {1, 0x0a000002, 7000}, evil = {1, 0x0a0000ee, 7000};
	identity_learn(&d, &src, 1);
	assert_int_equal(identity_admit(&d, &evil, 2), IDENT_REFUSED);
	assert_int_equal(identity_admit(&d, &src, 2), IDENT_OK);
	/* First come, but the rendezvous point knows better. */
	struct wire_addr p = {5, 0x0a000005, 7000}, squat = {5, 0x0a0000ee, 7001};
	assert_true(bind_by_echo(&d, &squat, 3));
	identity_learn(&d, &p, 4);
	assert_int_equal(identity_admit(&d, &squat, 5), IDENT_REFUSED);
	assert_int_equal(identity_admit(&d, &p, 5), IDENT_OK);
	identity_free(&d);
}

/* One address cannot claim many ids, and silence frees a binding. */
static void test_per_address_and_expiry(void **state)
{
	(void)state;
	struct identity d;
	assert_int_equal(identity_init(&d, 7), 0);
	int bound = 0;
	for (uint32_t id = 100; id < 200; id++) {
		struct wire_addr a = {id, 0x0a0000ee, (uint16_t)id};
		bound += bind_by_echo(&d, &a, 1);
	}
	assert_int_equal(bound, IDENT_PER_ADDR);
	/* Past the limit the address gets no cookie at all. */
	struct wire_addr more = {300, 0x0a0000ee, 300};
	assert_int_equal(identity_admit(&d, &more, 2), IDENT_REFUSED);
	struct wire_addr a = {100, 0x0a0000ee, 100}, moved = {100, 0x0a000064, 7000};
	assert_int_equal(identity_admit(&d, &moved, 2), IDENT_REFUSED);
	/* Bound at 1 ms (the echo's time). */
	identity_expire(&d, 1002 + IDENT_EXPIRE_US);
	assert_true(bind_by_echo(&d, &moved, 1003 + IDENT_EXPIRE_US));
	assert_int_equal(identity_admit(&d, &a, 3000 + IDENT_EXPIRE_US), IDENT_REFUSED);
	identity_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bound_after_echo),
	    cmocka_unit_test(test_spoofed_first_contact_does_not_bind),
	    cmocka_unit_test(test_wrong_or_old_cookie_refused),
	    cmocka_unit_test(test_may_echo),
	    cmocka_unit_test(test_rendezvous_point_is_authoritative),
	    cmocka_unit_test(test_per_address_and_expiry),
	};
	return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
