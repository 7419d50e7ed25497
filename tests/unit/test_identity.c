#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "peer/identity.h"

static void test_bound_to_first_address(void **state)
{
	(void)state;
	struct identity d;
	assert_int_equal(identity_init(&d, 7), 0);
	struct wire_addr a = {3, 0x0a000003, 7000};
	assert_true(identity_admit(&d, &a, 1));
	assert_true(identity_admit(&d, &a, 2));
	/* Another port or address claiming id 3 is dropped and counted. */
	struct wire_addr spoof = {3, 0x0a000009, 7000}, port = {3, 0x0a000003, 41000};
	assert_false(identity_admit(&d, &spoof, 3));
	assert_false(identity_admit(&d, &port, 3));
	/* Nobody is the node itself. */
	struct wire_addr self = {7, 0x0a000009, 7000};
	assert_false(identity_admit(&d, &self, 3));
	assert_int_equal(d.refused, 3);
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
	assert_false(identity_admit(&d, &evil, 2));
	assert_true(identity_admit(&d, &src, 2));
	/* First come, but the rendezvous point knows better. */
	struct wire_addr p = {5, 0x0a000005, 7000}, squat = {5, 0x0a0000ee, 7001};
	assert_true(identity_admit(&d, &squat, 3));
	identity_learn(&d, &p, 4);
	assert_false(identity_admit(&d, &squat, 5));
	assert_true(identity_admit(&d, &p, 5));
	identity_free(&d);
}

/* One address cannot claim many ids, and silence frees a binding. */
static void test_per_address_and_expiry(void **state)
{
	(void)state;
	struct identity d;
	assert_int_equal(identity_init(&d, 7), 0);
	int admitted = 0;
	for (uint32_t id = 100; id < 200; id++) {
		struct wire_addr a = {id, 0x0a0000ee, (uint16_t)id};
		admitted += identity_admit(&d, &a, 1);
	}
	assert_int_equal(admitted, IDENT_PER_ADDR);
	struct wire_addr a = {100, 0x0a0000ee, 100}, moved = {100, 0x0a000064, 7000};
	assert_false(identity_admit(&d, &moved, 2));
	identity_expire(&d, 2 + IDENT_EXPIRE_US);
	assert_true(identity_admit(&d, &moved, 3 + IDENT_EXPIRE_US));
	assert_false(identity_admit(&d, &a, 4 + IDENT_EXPIRE_US));
	identity_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bound_to_first_address),
	    cmocka_unit_test(test_rendezvous_point_is_authoritative),
	    cmocka_unit_test(test_per_address_and_expiry),
	};
	return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
