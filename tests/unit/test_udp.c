#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/loop.h"
#include "lib/util.h"
#include "peer/udp.h"

#define LOCALHOST 0x7f000001u

struct got {
	struct loop *l;
	struct wire_msg m;
	struct wire_addr from;
	int n;
};

static void on_msg(void *arg, const struct wire_msg *m, const struct wire_addr *from)
{
	struct got *g = arg;
	g->m = *m;
	g->from = *from;
	g->n++;
	loop_stop(g->l);
}

/* Ends a loop that would otherwise wait for a datagram that never comes. */
static uint64_t give_up(struct loop *l, void *arg)
{
	loop_stop(l);
	return 0;
}

static void test_send_receive(void **state)
{
	struct udp a, b;
	char err[256];
	assert_int_equal(udp_open(&a, LOCALHOST, 0, 0, err, sizeof(err)), 0);
	assert_int_equal(udp_open(&b, LOCALHOST, 0, 1 << 16, err, sizeof(err)), 0);
	assert_int_not_equal(b.port, 0);
	struct got g = {.l = loop_new()};
	assert_non_null(g.l);
	assert_int_equal(udp_attach(&b, g.l, on_msg, &g), 0);
	loop_add_timer(g.l, 2000000u, give_up, NULL);

	/* Garbage is counted and dropped; the message after it arrives. */
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(b.port), .sin_addr.s_addr = htonl(LOCALHOST)};
	assert_int_equal(sendto(a.fd, "junk", 4, 0, (struct sockaddr *)&sa, sizeof(sa)), 4);
	struct wire_msg m;
	wire_msg_simple(&m, WIRE_NEIGH_CUT, 3, 77, 0, WIRE_CUT_LTM);
	assert_int_equal(udp_send(&a, LOCALHOST, b.port, &m), 0);
	loop_run(g.l, NULL, NULL);

	assert_int_equal(g.n, 1);
	assert_int_equal(b.bad, 1);
	assert_int_equal(g.m.hdr.type, WIRE_NEIGH_CUT);
	assert_int_equal(g.m.hdr.stream, 3);
	assert_int_equal(g.m.u.simple.reason, WIRE_CUT_LTM);
	assert_int_equal(g.from.id, 77);
	assert_int_equal(g.from.ip, LOCALHOST);
	assert_int_equal(g.from.port, a.port);
	loop_free(g.l);
	udp_close(&a);
	udp_close(&b);
	assert_int_equal(b.fd, -1);
}

static void test_bind_error_says_where(void **state)
{
	struct udp a, b;
	char err[256];
	assert_int_equal(udp_open(&a, LOCALHOST, 0, 0, err, sizeof(err)), 0);
	assert_int_equal(udp_open(&b, LOCALHOST, a.port, 0, err, sizeof(err)), -1);
	char want[64];
	snprintf(want, sizeof(want), "bind UDP socket to 127.0.0.1:%u: ", a.port);
	assert_non_null(strstr(err, want));
	assert_int_equal(b.fd, -1);
	udp_close(&a);
}

/* A message that cannot be encoded is not sent. */
static void test_unencodable_not_sent(void **state)
{
	struct udp a;
	char err[256];
	assert_int_equal(udp_open(&a, LOCALHOST, 0, 0, err, sizeof(err)), 0);
	struct wire_msg m;
	wire_msg_init(&m, WIRE_SEG_REQUEST, 1, 1);
	m.u.req.count = WIRE_MAX_REQ + 1;
	assert_int_equal(udp_send(&a, LOCALHOST, a.port, &m), -1);
	assert_int_equal(a.send_errors, 0);
	udp_close(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_send_receive),
	    cmocka_unit_test(test_bind_error_says_where),
	    cmocka_unit_test(test_unencodable_not_sent),
	};
	return cmocka_run_group_tests_name("udp", tests, NULL, NULL);
}
