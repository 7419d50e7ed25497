#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/overhead.h"
#include "peer/wire.h"

#define SNAP 128u
#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_ARP 0x0806u
#define ARP_BODY 28u
/* Ethernet (14) + IPv4 (20) + UDP (8) in front of every datagram. */
#define WIRE_OVERHEAD 42u

/* Wire sizes of the frames of write_sample(), worked out by hand: a buffer
 * map of 64 bits has a 16-byte body, a full segment a 1336-byte one. */
#define MAP_WIRE (WIRE_OVERHEAD + WIRE_HDR_LEN + 16u)
#define SEG_WIRE (WIRE_OVERHEAD + WIRE_HDR_LEN + 1336u)
#define DNS_PAYLOAD 20u
#define DNS_WIRE (WIRE_OVERHEAD + DNS_PAYLOAD)
#define ARP_WIRE (14u + ARP_BODY)
#define GARBAGE_LEN 10u
#define LYING_BODY 4u
#define LYING_WIRE (WIRE_OVERHEAD + WIRE_HDR_LEN + LYING_BODY)
#define SAMPLE_FRAMES 7u

struct frame {
	uint8_t b[2048];
	uint32_t len;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Link-layer header of linktype carrying ethertype; returns its length. */
static uint32_t put_link(int linktype, uint8_t *b, uint16_t ethertype)
{
	static const uint8_t mac[6] = {0x02, 0xa5, 0xee, 0x00, 0x00, 0x01};
	switch (linktype) {
	case DLT_EN10MB:
		memset(b, 0xff, 6);
		memcpy(b + 6, mac, 6);
		put16(b + 12, ethertype);
		return 14;
	case DLT_LINUX_SLL:
		put16(b, 0);     /* to us */
		put16(b + 2, 1); /* ARPHRD_ETHER */
		put16(b + 4, 6);
		memset(b + 6, 0, 8);
		memcpy(b + 6, mac, 6);
		put16(b + 14, ethertype);
		return 16;
	default:
		put16(b, ethertype);
		put16(b + 2, 0);
		put32(b + 4, 3); /* ifindex of p1 */
		put16(b + 8, 1);
		b[10] = 0;
		b[11] = 6;
		memset(b + 12, 0, 8);
		memcpy(b + 12, mac, 6);
		return 20;
	}
}

static void udp_frame(struct frame *f, int linktype, uint16_t dport, const uint8_t *payload,
                      uint32_t len)
{
	uint32_t off = put_link(linktype, f->b, ETHERTYPE_IPV4);
	uint8_t *ip = f->b + off;
	memset(ip, 0, 28);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(28 + len));
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = 17;
	put32(ip + 12, 0x0a4d0001);
	put32(ip + 16, 0x0a4d0002);
	put16(ip + 20, 7000);
	put16(ip + 22, dport);
	put16(ip + 24, (uint16_t)(8 + len));
	memcpy(ip + 28, payload, len);
	f->len = off + 28 + len;
}

static uint32_t encode(struct wire_msg *m, uint8_t *buf)
{
	int n = wire_encode(m, buf, WIRE_MAX_DATAGRAM);
	assert_true(n > 0);
	return (uint32_t)n;
}

static uint32_t buffer_map(uint8_t *buf)
{
	struct wire_msg m = {.hdr = {.type = WIRE_BUFFER_MAP, .stream = 1, .sender = 7}};
	m.u.map.base_seq = 100;
	m.u.map.nbits = 64;
	m.u.map.upload_free = 2;
	m.u.map.bits[0] = 0x5a;
	return encode(&m, buf);
}

static uint32_t seg_data(uint8_t *buf)
{
	static uint8_t payload[WIRE_SEG_PAYLOAD_MAX];
	memset(payload, 0x47, sizeof(payload));
	struct wire_msg m = {.hdr = {.type = WIRE_SEG_DATA, .stream = 1, .sender = 2}};
	m.u.seg.seq = 100;
	m.u.seg.hops = 1;
	m.u.seg.len = WIRE_SEG_PAYLOAD_MAX;
	m.u.seg.payload = payload;
	m.u.seg.checksum = wire_checksum(payload, sizeof(payload));
	return encode(&m, buf);
}

struct out {
	pcap_t *p;
	pcap_dumper_t *d;
};

static void out_open(struct out *o, int linktype, const char *path)
{
	o->p = pcap_open_dead(linktype, 65535);
	assert_non_null(o->p);
	o->d = pcap_dump_open(o->p, path);
	assert_non_null(o->d);
}

static void out_add(struct out *o, const struct frame *f, uint32_t caplen)
{
	struct pcap_pkthdr h = {.caplen = caplen < f->len ? caplen : f->len, .len = f->len};
	pcap_dump((u_char *)o->d, &h, f->b);
}

static void out_close(struct out *o)
{
	pcap_dump_close(o->d);
	pcap_close(o->p);
}

/* One frame of each kind the accounting tells apart; the last one is cut
 * inside its IPv4 header. */
static void write_sample(int linktype, const char *path)
{
	struct out o;
	struct frame f;
	uint8_t msg[WIRE_MAX_DATAGRAM];
	out_open(&o, linktype, path);

	uint32_t n = buffer_map(msg);
	assert_int_equal(WIRE_OVERHEAD + n, MAP_WIRE);
	udp_frame(&f, linktype, 7000, msg, n);
	out_add(&o, &f, SNAP);

	n = seg_data(msg);
	assert_int_equal(WIRE_OVERHEAD + n, SEG_WIRE);
	udp_frame(&f, linktype, 7000, msg, n);
	out_add(&o, &f, SNAP);

	uint8_t dns[DNS_PAYLOAD] = {0x12, 0x34, 0x01, 0x00};
	udp_frame(&f, linktype, 53, dns, sizeof(dns));
	out_add(&o, &f, SNAP);

	uint32_t off = put_link(linktype, f.b, ETHERTYPE_ARP);
	memset(f.b + off, 0, ARP_BODY);
	f.len = off + ARP_BODY;
	out_add(&o, &f, SNAP);

	memset(f.b, 0xff, GARBAGE_LEN);
	f.len = GARBAGE_LEN;
	out_add(&o, &f, SNAP);

	/* The right magic, but the header claims a longer body than sent. */
	buffer_map(msg);
	put16(msg + 4, 100);
	udp_frame(&f, linktype, 7000, msg, WIRE_HDR_LEN + LYING_BODY);
	out_add(&o, &f, SNAP);

	n = buffer_map(msg);
	udp_frame(&f, linktype, 7000, msg, n);
	out_add(&o, &f, put_link(linktype, f.b, ETHERTYPE_IPV4) + 10);
	out_close(&o);
}

struct ctx {
	char dir[64];
	char path[96];
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	snprintf(c->dir, sizeof(c->dir), "/tmp/test_overhead.XXXXXX");
	if (!mkdtemp(c->dir)) {
		free(c);
		return -1;
	}
	snprintf(c->path, sizeof(c->path), "%s/capture.pcap", c->dir);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	unlink(c->path);
	rmdir(c->dir);
	free(c);
	return 0;
}

static void check_sample(const struct overhead *o)
{
	assert_int_equal(o->frames, SAMPLE_FRAMES);
	assert_int_equal(o->anysee.packets, 2);
	assert_int_equal(o->anysee.bytes, MAP_WIRE + SEG_WIRE);
	assert_int_equal(o->type[WIRE_BUFFER_MAP].packets, 1);
	assert_int_equal(o->type[WIRE_BUFFER_MAP].bytes, MAP_WIRE);
	assert_int_equal(o->type[WIRE_SEG_DATA].packets, 1);
	assert_int_equal(o->type[WIRE_SEG_DATA].bytes, SEG_WIRE);
	for (int t = 0; t < WIRE_TYPE_MAX; t++)
		if (t != WIRE_BUFFER_MAP && t != WIRE_SEG_DATA)
			assert_int_equal(o->type[t].packets, 0);
	assert_int_equal(o->other.packets, 2);
	assert_int_equal(o->other.bytes, DNS_WIRE + ARP_WIRE);
	assert_int_equal(o->malformed.packets, 3);
	assert_int_equal(o->malformed.bytes, GARBAGE_LEN + LYING_WIRE + MAP_WIRE);
	assert_false(o->truncated);
	double want = (double)MAP_WIRE / (double)(MAP_WIRE + SEG_WIRE);
	assert_true(overhead_control_fraction(o) > want - 1e-12);
	assert_true(overhead_control_fraction(o) < want + 1e-12);
}

static void check_linktype(void **state, int linktype)
{
	struct ctx *c = *state;
	write_sample(linktype, c->path);
	struct overhead o;
	char err[256] = "";
	assert_int_equal(overhead_load(c->path, &o, err, sizeof(err)), 0);
	assert_int_equal(o.linktype, linktype);
	check_sample(&o);
}

static void test_ethernet(void **state)
{
	check_linktype(state, DLT_EN10MB);
}

static void test_sll(void **state)
{
	check_linktype(state, DLT_LINUX_SLL);
}

static void test_sll2(void **state)
{
	check_linktype(state, DLT_LINUX_SLL2);
}

/* A harness killed while writing leaves half a record at the end. */
static void test_truncated_file(void **state)
{
	struct ctx *c = *state;
	write_sample(DLT_LINUX_SLL2, c->path);
	FILE *f = fopen(c->path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long size = ftell(f);
	fclose(f);
	assert_int_equal(truncate(c->path, size - 5), 0);

	struct overhead o;
	char err[256] = "";
	assert_int_equal(overhead_load(c->path, &o, err, sizeof(err)), 0);
	assert_true(o.truncated);
	assert_int_equal(o.frames, SAMPLE_FRAMES - 1);
	assert_int_equal(o.anysee.packets, 2);
	assert_int_equal(o.malformed.packets, 2);
}

static void test_empty_capture(void **state)
{
	struct ctx *c = *state;
	struct out w;
	out_open(&w, DLT_LINUX_SLL2, c->path);
	out_close(&w);
	struct overhead o;
	char err[256] = "";
	assert_int_equal(overhead_load(c->path, &o, err, sizeof(err)), 0);
	assert_int_equal(o.frames, 0);
	assert_true(overhead_control_fraction(&o) == 0);
}

static void test_errors(void **state)
{
	struct ctx *c = *state;
	struct overhead o;
	char err[256] = "";
	assert_int_equal(overhead_load(c->path, &o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, c->path));

	struct out w;
	out_open(&w, DLT_RAW, c->path);
	out_close(&w);
	assert_int_equal(overhead_load(c->path, &o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "link type RAW"));
}

static char *render(const struct overhead *o, void (*fn)(const struct overhead *, FILE *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	fn(o, f);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void test_output(void **state)
{
	struct ctx *c = *state;
	write_sample(DLT_EN10MB, c->path);
	struct overhead o;
	char err[256] = "";
	assert_int_equal(overhead_load(c->path, &o, err, sizeof(err)), 0);

	char *text = render(&o, overhead_print);
	assert_non_null(strstr(text, "control overhead: 4.79% of 1460 AnySee bytes in 2 messages"));
	assert_non_null(strstr(text, "buffer map"));
	assert_null(strstr(text, "probe"));
	free(text);

	struct json j;
	json_init(&j, false);
	overhead_write_json(&o, &j);
	text = json_finish(&j);
	assert_non_null(text);
	assert_non_null(strstr(text, "{\"control_fraction\":0.047945,"));
	assert_non_null(strstr(text, "\"buffer_map\":{\"packets\":1,\"bytes\":70}"));
	assert_non_null(strstr(text, "\"segment_data\":{\"packets\":1,\"bytes\":1390}"));
	assert_non_null(strstr(text, "\"malformed\":{\"packets\":3,\"bytes\":138}"));
	assert_string_equal(text + strlen(text) - 2, "}\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ethernet, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sll, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sll2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncated_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_capture, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_output, setup, teardown),
	};
	return cmocka_run_group_tests_name("overhead", tests, NULL, NULL);
}
