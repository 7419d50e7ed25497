/* The rendezvous point's table rules: what a stranger on the network can
 * and cannot do to it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "peer/rp.h"

struct fixture {
	struct rp_table t;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_int_equal(rp_table_init(&f->t, 32), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rp_table_free(&f->t);
	free(f);
	return 0;
}

static const struct wire_register src_reg = {
    .role = WIRE_ROLE_SOURCE, .rate_bps = 300000, .name = "tv1", .key = {1, 2, 3}};
static const struct wire_register peer_reg = {.role = WIRE_ROLE_PEER, .name = "tv1"};

static struct wire_addr at(uint32_t id, uint32_t ip, uint16_t port)
{
	return (struct wire_addr){id, ip, port};
}

static enum rp_verdict reg(struct rp_table *t, const struct wire_register *g, struct wire_addr a,
                           uint64_t now)
{
	struct rp_entry *e = NULL;
	enum rp_verdict v = rp_table_register(t, g, &a, now, &e);
	if (v < RP_REFUSED_ID_BOUND)
		assert_non_null(e);
	return v;
}

static void test_register_and_refresh(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(reg(&f->t, &src_reg, at(1, 0x0a000001, 7000), 10), RP_OK_NEW);
	assert_int_equal(reg(&f->t, &peer_reg, at(2, 0x0a000002, 7000), 20), RP_OK_NEW);
	assert_int_equal(reg(&f->t, &peer_reg, at(2, 0x0a000002, 7000), 30), RP_OK);
	assert_int_equal(f->t.b.n, 2);
	assert_int_equal(f->t.nstreams, 1);
	assert_int_equal(f->t.streams[0].source.id, 1);
	assert_int_equal(rp_table_at(&f->t, 1)->stream, f->t.streams[0].id);
	assert_int_equal(rp_table_at(&f->t, 1)->k.last_us, 30);
}

/* A registration claiming someone's id from another address changes
 * nothing: the source's entry and its stream stay its own. */
static void test_id_bound_to_address(void **state)
{
	struct fixture *f = *state;
	reg(&f->t, &src_reg, at(1, 0x0a000001, 7000), 10);
	struct wire_register evil = src_reg;
	evil.rate_bps = WIRE_RATE_MIN_BPS;
	assert_int_equal(reg(&f->t, &evil, at(1, 0x0a0000ff, 7000), 20), RP_REFUSED_ID_BOUND);
	assert_int_equal(reg(&f->t, &evil, at(1, 0x0a000001, 7001), 20), RP_REFUSED_ID_BOUND);
	assert_int_equal(f->t.streams[0].rate_bps, 300000);
	assert_int_equal(f->t.streams[0].source.ip, 0x0a000001);
	assert_int_equal(f->t.b.n, 1);
}

/* Another source cannot take a stream name its source holds, under any id. */
static void test_stream_owned(void **state)
{
	struct fixture *f = *state;
	reg(&f->t, &src_reg, at(1, 0x0a000001, 7000), 10);
	struct wire_register evil = src_reg;
	evil.rate_bps = WIRE_RATE_MAX_BPS;
	assert_int_equal(reg(&f->t, &evil, at(66, 0x0a0000ff, 7000), 20), RP_REFUSED_STREAM_OWNED);
	assert_int_equal(f->t.streams[0].source.id, 1);
	assert_int_equal(f->t.streams[0].rate_bps, 300000);
	/* Once the source is gone, the name is free for the next source. */
	assert_int_equal(rp_table_leave(&f->t, &(struct wire_addr){1, 0x0a000001, 7000}), 0);
	assert_int_equal(reg(&f->t, &evil, at(66, 0x0a0000ff, 7000), 30), RP_OK_NEW);
	assert_int_equal(f->t.streams[0].source.id, 66);
}

/* The stream is bound to its first source's key too: the same source
 * registering another key (a stranger who spoofs its address, or a source
 * restarted with a new key) is refused and refreshes nothing, so peers keep
 * verifying against the key they were given; the key binds again once the
 * source's entry is gone. */
static void test_stream_key_bound(void **state)
{
	struct fixture *f = *state;
	struct wire_addr src = at(1, 0x0a000001, 7000);
	assert_int_equal(reg(&f->t, &src_reg, src, 10), RP_OK_NEW);
	assert_memory_equal(f->t.streams[0].key, src_reg.key, WIRE_KEY_LEN);
	struct wire_register other = src_reg;
	other.key[0] ^= 0x80;
	assert_int_equal(reg(&f->t, &other, src, 20), RP_REFUSED_STREAM_KEY);
	assert_memory_equal(f->t.streams[0].key, src_reg.key, WIRE_KEY_LEN);
	assert_int_equal(rp_table_at(&f->t, 0)->k.last_us, 10);
	assert_int_equal(reg(&f->t, &src_reg, src, 30), RP_OK);
	assert_int_equal(rp_table_leave(&f->t, &src), 0);
	assert_int_equal(reg(&f->t, &other, src, 40), RP_OK_NEW);
	assert_memory_equal(f->t.streams[0].key, other.key, WIRE_KEY_LEN);
}

/* A LEAVE is taken only from the address of the entry it names. */
static void test_leave_from_owner_only(void **state)
{
	struct fixture *f = *state;
	reg(&f->t, &peer_reg, at(2, 0x0a000002, 7000), 10);
	assert_int_equal(rp_table_leave(&f->t, &(struct wire_addr){2, 0x0a0000ff, 7000}), -1);
	assert_int_equal(rp_table_leave(&f->t, &(struct wire_addr){2, 0x0a000002, 9}), -1);
	assert_int_equal(f->t.b.n, 1);
	assert_int_equal(rp_table_leave(&f->t, &(struct wire_addr){2, 0x0a000002, 7000}), 0);
	assert_int_equal(f->t.b.n, 0);
}

/* One address holds at most RP_PER_ADDR entries, whatever ids it claims;
 * others still register. */
static void test_per_address_limit(void **state)
{
	struct fixture *f = *state;
	for (uint32_t i = 0; i < 1000; i++) {
		enum rp_verdict v = reg(&f->t, &peer_reg, at(100 + i, 0x0a0000ff, (uint16_t)i), i);
		assert_int_equal(v, i < RP_PER_ADDR ? RP_OK_NEW : RP_REFUSED_ADDR_FULL);
	}
	assert_int_equal(f->t.b.n, RP_PER_ADDR);
	assert_int_equal(reg(&f->t, &peer_reg, at(5, 0x0a000005, 7000), 2000), RP_OK_NEW);
}

/* A full table gives up the entry refreshed longest ago, so a new peer is
 * always bootstrapped. */
static void test_full_table_evicts_oldest(void **state)
{
	struct fixture *f = *state;
	for (uint32_t i = 0; i < (uint32_t)f->t.b.cap; i++)
		reg(&f->t, &peer_reg, at(10 + i, 0x0a010000 + i, 7000), 100 + i);
	/* The first one refreshes: the second is now the oldest. */
	reg(&f->t, &peer_reg, at(10, 0x0a010000, 7000), 1000);
	assert_int_equal(reg(&f->t, &peer_reg, at(999, 0x0a020000, 7000), 1001), RP_OK_EVICTED);
	assert_int_equal(f->t.b.n, f->t.b.cap);
	int have10 = 0, have11 = 0, have999 = 0;
	for (int i = 0; i < f->t.b.n; i++) {
		have10 |= rp_table_at(&f->t, i)->k.addr.id == 10;
		have11 |= rp_table_at(&f->t, i)->k.addr.id == 11;
		have999 |= rp_table_at(&f->t, i)->k.addr.id == 999;
	}
	assert_true(have10 && !have11 && have999);
}

static int encoded_len(const struct wire_msg *m)
{
	uint8_t buf[WIRE_MAX_DATAGRAM];
	int n = wire_encode(m, buf, sizeof(buf));
	assert_true(n > 0);
	return n;
}

/* A register is answered only once its address echoed the rendezvous
 * point's cookie: before that it draws the cookie, no larger than itself,
 * so a register under a victim's address amplifies nothing. */
static void test_register_needs_cookie(void **state)
{
	(void)state;
	struct identity ids;
	assert_int_equal(identity_init(&ids, 1), 0);
	struct wire_addr a = at(10, 0x0a000002, 7000), b = at(10, 0x0a000003, 7000);
	struct wire_msg m, echo, cookie, leave;
	wire_msg_init(&m, WIRE_REGISTER, 0, 10);
	m.u.reg = peer_reg;
	uint64_t now = 5000000;
	assert_int_equal(rp_admit(&ids, &m, &a, now), RP_COOKIE);
	wire_msg_init(&cookie, WIRE_COOKIE, 0, 1);
	identity_cookie(&ids, &a, now, cookie.u.cookie.cookie);
	assert_true(encoded_len(&cookie) <= encoded_len(&m));

	/* A wrong echo binds nothing; one from elsewhere neither. */
	wire_msg_init(&echo, WIRE_COOKIE_ECHO, 0, 10);
	memset(echo.u.cookie.cookie, 0x5a, sizeof(echo.u.cookie.cookie));
	assert_int_equal(rp_admit(&ids, &echo, &a, now), RP_DROP);
	echo.u.cookie = cookie.u.cookie;
	assert_int_equal(rp_admit(&ids, &echo, &b, now), RP_DROP);
	assert_int_equal(rp_admit(&ids, &m, &a, now), RP_COOKIE);

	assert_int_equal(rp_admit(&ids, &echo, &a, now + 1000), RP_DROP);
	assert_int_equal(rp_admit(&ids, &m, &a, now + 2000), RP_HANDLE);
	/* The id is bound to a now: claimed from b, no answer at all. */
	assert_int_equal(rp_admit(&ids, &m, &b, now + 2000), RP_DROP);
	/* A LEAVE draws nothing; the table checks its address. */
	wire_msg_simple(&leave, WIRE_LEAVE, 0, 11, 0, 0);
	struct wire_addr c = at(11, 0x0a000004, 7000);
	assert_int_equal(rp_admit(&ids, &leave, &c, now), RP_HANDLE);
	identity_free(&ids);
}

/* Rates outside the accepted range never get past the codec. */
static void test_rate_range_on_the_wire(void **state)
{
	(void)state;
	struct wire_msg m, out;
	uint8_t buf[WIRE_MAX_DATAGRAM];
	wire_msg_init(&m, WIRE_REGISTER, 0, 1);
	m.u.reg = src_reg;
	m.u.reg.rate_bps = 0;
	assert_true(wire_encode(&m, buf, sizeof(buf)) < 0);
	m.u.reg.rate_bps = 300000;
	int n = wire_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(wire_decode(buf, (size_t)n, &out), WIRE_OK);
	/* Patch the rate field to 0 in the datagram: the decoder refuses it. */
	for (int i = 0; i + 4 <= n; i++)
		if (buf[i] == 0x00 && buf[i + 1] == 0x04 && buf[i + 2] == 0x93 &&
		    buf[i + 3] == 0xe0)
			memset(buf + i, 0, 4);
	assert_true(wire_decode(buf, (size_t)n, &out) != WIRE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_register_and_refresh, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_id_bound_to_address, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stream_owned, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stream_key_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_leave_from_owner_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_per_address_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_table_evicts_oldest, setup, teardown),
	    cmocka_unit_test(test_register_needs_cookie),
	    cmocka_unit_test(test_rate_range_on_the_wire),
	};
	return cmocka_run_group_tests_name("rp", tests, NULL, NULL);
}
