#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "peer/wire.h"

/* Byte offsets the malformed-datagram tests patch. */
#define OFF_LEN 4
#define OFF_BODY WIRE_HDR_LEN
#define OFF_BOOT_NPEERS (OFF_BODY + 0)
#define OFF_BOOT_NSTREAMS (OFF_BODY + 1)
#define OFF_MAP_NBITS (OFF_BODY + 4)
#define OFF_MAP_BITS (OFF_BODY + 8)
#define OFF_REQ_COUNT (OFF_BODY + 0)
#define OFF_SEG_FLAGS (OFF_BODY + 13)
#define OFF_SEG_LEN (OFF_BODY + 18)
#define OFF_SEG_PAYLOAD (OFF_BODY + 20)
#define OFF_PROBE_TTL (OFF_BODY + 30)
#define OFF_PROBE_HALF (OFF_BODY + 31)
#define OFF_PROBE_NHOPS (OFF_BODY + 32)
#define OFF_PATH_SHARE (OFF_BODY + 8)
#define OFF_PATH_NHOPS (OFF_BODY + 9)
#define OFF_HL_COUNT (OFF_BODY + 4)

/* Room for datagrams grown past the limit to test count checks in isolation. */
#define BIG 2048

enum variant { V_MIN, V_MID, V_MAX, V_COUNT };

static uint8_t payload_pattern[WIRE_SEG_PAYLOAD_MAX];

/* Field values: all zeros, seeded random, or all ones, so that every width
 * and byte order mistake shows in at least one variant. */
struct filler {
	struct rng r;
	enum variant v;
};

static uint64_t f64(struct filler *f)
{
	if (f->v == V_MIN)
		return 0;
	if (f->v == V_MAX)
		return UINT64_MAX;
	return rng_next(&f->r);
}

static uint32_t f32(struct filler *f)
{
	return (uint32_t)f64(f);
}
static uint16_t f16(struct filler *f)
{
	return (uint16_t)f64(f);
}
static uint8_t f8(struct filler *f)
{
	return (uint8_t)f64(f);
}

static void fill_addr(struct filler *f, struct wire_addr *a)
{
	a->id = f32(f);
	a->ip = f32(f);
	a->port = f16(f);
}

static void fill_bytes(struct filler *f, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = f8(f);
}

static void fill_name(struct filler *f, char *name)
{
	size_t len = f->v == V_MIN   ? 0
	             : f->v == V_MAX ? WIRE_STREAM_NAME - 1
	                             : 1 + rng_below(&f->r, 15);

	memset(name, 0, WIRE_STREAM_NAME);
	for (size_t i = 0; i < len; i++)
		name[i] = (char)('a' + (f->v == V_MAX ? i : rng_below(&f->r, 26)));
}

static void sample(int type, enum variant v, struct wire_msg *m)
{
	/* The fullest bootstrap: every stream, and the peers that fit beside. */
	const unsigned npeers[] = {0, 3, wire_bootstrap_peer_room(WIRE_MAX_STREAMS)};
	static const unsigned nhashes[] = {1, 29, WIRE_MAX_HASHES};
	static const unsigned nstreams[] = {0, 2, WIRE_MAX_STREAMS};
	static const unsigned nbits[] = {0, 13, WIRE_MAX_MAP_BITS};
	static const unsigned nreq[] = {1, 5, WIRE_MAX_REQ};
	static const unsigned seglen[] = {0, 100, WIRE_SEG_PAYLOAD_MAX};
	static const unsigned ttl[] = {0, 5, 7};
	static const unsigned probe_hops[] = {0, 3, WIRE_MAX_HOPS};
	static const unsigned path_hops[] = {2, 4, WIRE_MAX_HOPS};
	struct filler f = {.v = v};

	rng_seed(&f.r, (uint64_t)type * 31 + v);
	memset(m, 0, sizeof(*m));
	m->hdr.type = (uint8_t)type;
	m->hdr.stream = f16(&f);
	m->hdr.sender = f32(&f);

	switch (type) {
	case WIRE_REGISTER: {
		struct wire_register *b = &m->u.reg;

		b->role = f8(&f);
		b->mode = f8(&f);
		b->port = f16(&f);
		b->ip = f32(&f);
		b->upload_slots = f16(&f);
		b->rate_bps =
		    WIRE_RATE_MIN_BPS + f32(&f) % (WIRE_RATE_MAX_BPS - WIRE_RATE_MIN_BPS + 1);
		fill_name(&f, b->name);
		fill_bytes(&f, b->key, WIRE_KEY_LEN);
		break;
	}
	case WIRE_BOOTSTRAP: {
		struct wire_bootstrap *b = &m->u.boot;

		b->npeers = (uint8_t)npeers[v];
		b->nstreams = (uint8_t)nstreams[v];
		for (unsigned i = 0; i < b->npeers; i++) {
			fill_addr(&f, &b->peers[i].addr);
			b->peers[i].stream = f16(&f);
			b->peers[i].role = f8(&f);
		}
		for (unsigned i = 0; i < b->nstreams; i++) {
			b->streams[i].id = f16(&f);
			b->streams[i].rate_bps =
			    WIRE_RATE_MIN_BPS +
			    f32(&f) % (WIRE_RATE_MAX_BPS - WIRE_RATE_MIN_BPS + 1);
			fill_addr(&f, &b->streams[i].source);
			fill_name(&f, b->streams[i].name);
			fill_bytes(&f, b->streams[i].key, WIRE_KEY_LEN);
		}
		break;
	}
	case WIRE_HASH_LIST: {
		struct wire_hash_list *b = &m->u.hl;

		b->first = f32(&f);
		b->count = (uint8_t)nhashes[v];
		for (unsigned i = 0; i < b->count; i++)
			fill_bytes(&f, b->hash[i], WIRE_HASH_LEN);
		fill_bytes(&f, b->sig, WIRE_SIG_LEN);
		break;
	}
	case WIRE_DETECTOR: {
		struct wire_detector *b = &m->u.det;

		b->msg_id = f32(&f);
		b->ttl = f8(&f);
		fill_addr(&f, &b->src);
		b->src_ts_us = f64(&f);
		fill_addr(&f, &b->direct);
		b->direct_ts_us = f64(&f);
		break;
	}
	case WIRE_BUFFER_MAP: {
		struct wire_buffer_map *b = &m->u.map;

		b->base_seq = f32(&f);
		b->nbits = (uint16_t)nbits[v];
		b->upload_free = f16(&f);
		for (uint32_t i = 0; i < b->nbits; i++)
			if (f8(&f) & 1)
				wire_map_set(b, b->base_seq + i);
		break;
	}
	case WIRE_SEG_REQUEST: {
		struct wire_seg_request *b = &m->u.req;

		b->count = (uint16_t)nreq[v];
		for (unsigned i = 0; i < b->count; i++)
			b->seqs[i] = f32(&f);
		break;
	}
	case WIRE_SEG_DATA: {
		struct wire_seg_data *b = &m->u.seg;

		b->seq = f32(&f);
		b->origin_us = f64(&f);
		b->hops = f8(&f);
		b->flags = f8(&f) & WIRE_SEG_PUSHED;
		b->len = (uint16_t)seglen[v];
		b->payload = b->len ? payload_pattern : NULL;
		b->checksum = wire_checksum(payload_pattern, b->len);
		break;
	}
	case WIRE_PROBE: {
		struct wire_probe *b = &m->u.probe;

		b->seq = f32(&f);
		fill_addr(&f, &b->peer0);
		b->ts0_us = f64(&f);
		b->source_id = f32(&f);
		b->last_delay_us = f32(&f);
		b->ttl = (uint8_t)ttl[v];
		b->half = (uint8_t)(v == V_MAX);
		b->nhops = (uint8_t)probe_hops[v];
		for (unsigned i = 0; i < b->nhops; i++) {
			fill_addr(&f, &b->hops[i].addr);
			b->hops[i].arrival_us = f64(&f);
		}
		break;
	}
	case WIRE_PATH_SETUP: {
		struct wire_path_setup *b = &m->u.path;

		b->seq = f32(&f);
		b->delay_us = f32(&f);
		b->share = (uint8_t)(v == V_MAX ? WIRE_SHARE_ODD : v);
		b->nhops = (uint8_t)path_hops[v];
		for (unsigned i = 0; i < b->nhops; i++)
			fill_addr(&f, &b->hops[i]);
		break;
	}
	case WIRE_REPORT: {
		struct wire_report *b = &m->u.report;

		b->t_us = f64(&f);
		b->partners = f16(&f);
		b->neighbours = f16(&f);
		b->received = f32(&f);
		b->due = f32(&f);
		b->on_time = f32(&f);
		b->last_delay_us = f32(&f);
		b->state = f8(&f);
		break;
	}
	case WIRE_COOKIE:
	case WIRE_COOKIE_ECHO:
		fill_bytes(&f, m->u.cookie.cookie, WIRE_COOKIE_LEN);
		break;
	default:
		m->u.simple.seq = f32(&f);
		m->u.simple.reason = f8(&f);
		m->u.simple.watch = f16(&f);
		break;
	}
}

/* The body layout spelled out independently of the codec. */
static size_t body_len(const struct wire_msg *m)
{
	switch (m->hdr.type) {
	case WIRE_REGISTER:
		return 62;
	case WIRE_BOOTSTRAP:
		return 2 + 13u * m->u.boot.npeers + 64u * m->u.boot.nstreams;
	case WIRE_HASH_LIST:
		return 5 + 16u * m->u.hl.count + 64;
	case WIRE_DETECTOR:
		return 41;
	case WIRE_BUFFER_MAP:
		return 8 + (m->u.map.nbits + 7u) / 8;
	case WIRE_SEG_REQUEST:
		return 2 + 4u * m->u.req.count;
	case WIRE_SEG_DATA:
		return 20 + (size_t)m->u.seg.len;
	case WIRE_PROBE:
		return 33 + 18u * m->u.probe.nhops;
	case WIRE_PATH_SETUP:
		return 10 + 10u * m->u.path.nhops;
	case WIRE_REPORT:
		return 29;
	case WIRE_COOKIE:
	case WIRE_COOKIE_ECHO:
		return 6;
	default:
		return 7;
	}
}

static void assert_addr_equal(const struct wire_addr *a, const struct wire_addr *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->ip, b->ip);
	assert_int_equal(a->port, b->port);
}

static void assert_name_equal(const char *a, const char *b)
{
	assert_memory_equal(a, b, WIRE_STREAM_NAME);
}

static void assert_msg_equal(const struct wire_msg *want, const struct wire_msg *got)
{
	assert_int_equal(want->hdr.type, got->hdr.type);
	assert_int_equal(want->hdr.stream, got->hdr.stream);
	assert_int_equal(want->hdr.sender, got->hdr.sender);
	assert_int_equal(body_len(want), got->hdr.length);

	switch (want->hdr.type) {
	case WIRE_REGISTER: {
		const struct wire_register *a = &want->u.reg, *b = &got->u.reg;

		assert_int_equal(a->role, b->role);
		assert_int_equal(a->mode, b->mode);
		assert_int_equal(a->port, b->port);
		assert_int_equal(a->ip, b->ip);
		assert_int_equal(a->upload_slots, b->upload_slots);
		assert_int_equal(a->rate_bps, b->rate_bps);
		assert_name_equal(a->name, b->name);
		assert_memory_equal(a->key, b->key, WIRE_KEY_LEN);
		break;
	}
	case WIRE_HASH_LIST: {
		const struct wire_hash_list *a = &want->u.hl, *b = &got->u.hl;

		assert_int_equal(a->first, b->first);
		assert_int_equal(a->count, b->count);
		assert_memory_equal(a->hash, b->hash, (size_t)a->count * WIRE_HASH_LEN);
		assert_memory_equal(a->sig, b->sig, WIRE_SIG_LEN);
		break;
	}
	case WIRE_BOOTSTRAP: {
		const struct wire_bootstrap *a = &want->u.boot, *b = &got->u.boot;

		assert_int_equal(a->npeers, b->npeers);
		assert_int_equal(a->nstreams, b->nstreams);
		for (unsigned i = 0; i < a->npeers; i++) {
			assert_addr_equal(&a->peers[i].addr, &b->peers[i].addr);
			assert_int_equal(a->peers[i].stream, b->peers[i].stream);
			assert_int_equal(a->peers[i].role, b->peers[i].role);
		}
		for (unsigned i = 0; i < a->nstreams; i++) {
			assert_int_equal(a->streams[i].id, b->streams[i].id);
			assert_int_equal(a->streams[i].rate_bps, b->streams[i].rate_bps);
			assert_addr_equal(&a->streams[i].source, &b->streams[i].source);
			assert_name_equal(a->streams[i].name, b->streams[i].name);
			assert_memory_equal(a->streams[i].key, b->streams[i].key, WIRE_KEY_LEN);
		}
		break;
	}
	case WIRE_DETECTOR: {
		const struct wire_detector *a = &want->u.det, *b = &got->u.det;

		assert_int_equal(a->msg_id, b->msg_id);
		assert_int_equal(a->ttl, b->ttl);
		assert_addr_equal(&a->src, &b->src);
		assert_int_equal(a->src_ts_us, b->src_ts_us);
		assert_addr_equal(&a->direct, &b->direct);
		assert_int_equal(a->direct_ts_us, b->direct_ts_us);
		break;
	}
	case WIRE_BUFFER_MAP: {
		const struct wire_buffer_map *a = &want->u.map, *b = &got->u.map;

		assert_int_equal(a->base_seq, b->base_seq);
		assert_int_equal(a->nbits, b->nbits);
		assert_int_equal(a->upload_free, b->upload_free);
		for (uint32_t i = 0; i < a->nbits; i++)
			assert_int_equal(wire_map_get(a, a->base_seq + i),
			                 wire_map_get(b, b->base_seq + i));
		break;
	}
	case WIRE_SEG_REQUEST: {
		const struct wire_seg_request *a = &want->u.req, *b = &got->u.req;

		assert_int_equal(a->count, b->count);
		assert_memory_equal(a->seqs, b->seqs, a->count * sizeof(a->seqs[0]));
		break;
	}
	case WIRE_SEG_DATA: {
		const struct wire_seg_data *a = &want->u.seg, *b = &got->u.seg;

		assert_int_equal(a->seq, b->seq);
		assert_int_equal(a->origin_us, b->origin_us);
		assert_int_equal(a->hops, b->hops);
		assert_int_equal(a->flags, b->flags);
		assert_int_equal(a->checksum, b->checksum);
		assert_int_equal(a->len, b->len);
		if (a->len)
			assert_memory_equal(a->payload, b->payload, a->len);
		break;
	}
	case WIRE_PROBE: {
		const struct wire_probe *a = &want->u.probe, *b = &got->u.probe;

		assert_int_equal(a->seq, b->seq);
		assert_addr_equal(&a->peer0, &b->peer0);
		assert_int_equal(a->ts0_us, b->ts0_us);
		assert_int_equal(a->source_id, b->source_id);
		assert_int_equal(a->last_delay_us, b->last_delay_us);
		assert_int_equal(a->ttl, b->ttl);
		assert_int_equal(a->half, b->half);
		assert_int_equal(a->nhops, b->nhops);
		for (unsigned i = 0; i < a->nhops; i++) {
			assert_addr_equal(&a->hops[i].addr, &b->hops[i].addr);
			assert_int_equal(a->hops[i].arrival_us, b->hops[i].arrival_us);
		}
		break;
	}
	case WIRE_PATH_SETUP: {
		const struct wire_path_setup *a = &want->u.path, *b = &got->u.path;

		assert_int_equal(a->seq, b->seq);
		assert_int_equal(a->delay_us, b->delay_us);
		assert_int_equal(a->share, b->share);
		assert_int_equal(a->nhops, b->nhops);
		for (unsigned i = 0; i < a->nhops; i++)
			assert_addr_equal(&a->hops[i], &b->hops[i]);
		break;
	}
	case WIRE_REPORT: {
		const struct wire_report *a = &want->u.report, *b = &got->u.report;

		assert_int_equal(a->t_us, b->t_us);
		assert_int_equal(a->partners, b->partners);
		assert_int_equal(a->neighbours, b->neighbours);
		assert_int_equal(a->received, b->received);
		assert_int_equal(a->due, b->due);
		assert_int_equal(a->on_time, b->on_time);
		assert_int_equal(a->last_delay_us, b->last_delay_us);
		assert_int_equal(a->state, b->state);
		break;
	}
	case WIRE_COOKIE:
	case WIRE_COOKIE_ECHO:
		assert_memory_equal(want->u.cookie.cookie, got->u.cookie.cookie, WIRE_COOKIE_LEN);
		break;
	default:
		assert_int_equal(want->u.simple.seq, got->u.simple.seq);
		assert_int_equal(want->u.simple.reason, got->u.simple.reason);
		assert_int_equal(want->u.simple.watch, got->u.simple.watch);
		break;
	}
}

/* Decodes from an exact-size heap copy, so ASan sees any over-read, into a
 * message fenced by canaries, so any write outside *out shows. */
static int decode_checked(const uint8_t *buf, size_t len, struct wire_msg *out)
{
	struct {
		uint8_t before[64];
		struct wire_msg m;
		uint8_t after[64];
	} g;
	uint8_t fence[64];
	uint8_t *copy = malloc(len);

	assert_true(copy || !len);
	if (len)
		memcpy(copy, buf, len);
	memset(fence, 0x5a, sizeof(fence));
	memset(&g, 0x5a, sizeof(g));

	int rc = wire_decode(copy, len, &g.m);

	assert_memory_equal(g.before, fence, sizeof(fence));
	assert_memory_equal(g.after, fence, sizeof(fence));
	assert_memory_equal(copy, buf, len);
	*out = g.m;
	/* The payload must point into the input; re-aim it at the caller's copy. */
	if (rc == WIRE_OK && out->hdr.type == WIRE_SEG_DATA && out->u.seg.len) {
		assert_ptr_equal(out->u.seg.payload, copy + OFF_SEG_PAYLOAD);
		out->u.seg.payload = buf + OFF_SEG_PAYLOAD;
	}
	free(copy);
	return rc;
}

static size_t encode_ok(const struct wire_msg *m, uint8_t *buf, size_t cap)
{
	int n = wire_encode(m, buf, cap);

	assert_true(n >= (int)WIRE_HDR_LEN);
	return (size_t)n;
}

static void set_body_len(uint8_t *buf, size_t body)
{
	buf[OFF_LEN] = (uint8_t)(body >> 8);
	buf[OFF_LEN + 1] = (uint8_t)body;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Resizes the body to body bytes (zero-filling growth) with a matching
 * header, so that only the field under test is wrong. */
static size_t resize_body(uint8_t *buf, size_t n, size_t body)
{
	size_t want = WIRE_HDR_LEN + body;

	assert_true(want <= BIG);
	if (want > n)
		memset(buf + n, 0, want - n);
	set_body_len(buf, body);
	return want;
}

static void expect_decode(const uint8_t *buf, size_t n, int want)
{
	struct wire_msg m;

	assert_int_equal(decode_checked(buf, n, &m), want);
}

static size_t encode_sample(int type, enum variant v, uint8_t *buf)
{
	struct wire_msg m;

	sample(type, v, &m);
	return encode_ok(&m, buf, BIG);
}

#define BYTES(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

struct golden {
	struct wire_msg msg;
	const uint8_t *bytes;
	size_t len;
};

/* Byte-exact datagrams written by hand from the header's layout, one row per
 * field group: round trips alone cannot catch a symmetric byte-order or
 * field-order mistake. */
/* clang-format off */
static const struct golden goldens[] = {
	{.msg = {.hdr = {.type = WIRE_REGISTER, .stream = 0x0102, .sender = 0x0a0b0c0d},
		 .u.reg = {.role = WIRE_ROLE_SOURCE, .port = 8080, .ip = 0x0a000001,
			   .upload_slots = 33, .rate_bps = 300000, .name = "tv1",
			   .key = {[0] = 0xaa, [31] = 0xbb}}},
	 BYTES(0xa5, 0x5e, 0x05, 0x01, 0x00, 0x3e, 0x01, 0x02, 0x0a, 0x0b, 0x0c, 0x0d,
	       0x01, 0x00, 0x1f, 0x90,
	       0x0a, 0x00, 0x00, 0x01,
	       0x00, 0x21,
	       0x00, 0x04, 0x93, 0xe0,
	       't', 'v', '1', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	       0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	       0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbb)},
	{.msg = {.hdr = {.type = WIRE_BOOTSTRAP, .sender = 1},
		 .u.boot = {.npeers = 1, .nstreams = 1,
			    .peers = {{.addr = {0x11223344, 0x0a000002, 5000}, .stream = 2}},
			    .streams = {{.id = 2, .rate_bps = 300000,
					 .source = {5, 0x0a000003, 5001}, .name = "cam",
					 .key = {[0] = 0x01, [31] = 0xff}}}}},
	 BYTES(0xa5, 0x5e, 0x05, 0x02, 0x00, 0x4f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	       0x01, 0x01,
	       0x11, 0x22, 0x33, 0x44, 0x0a, 0x00, 0x00, 0x02, 0x13, 0x88, 0x00, 0x02, 0x00,
	       0x00, 0x02, 0x00, 0x04, 0x93, 0xe0,
	       0x00, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x03, 0x13, 0x89,
	       'c', 'a', 'm', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	       0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	       0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff)},
	{.msg = {.hdr = {.type = WIRE_NEIGH_CUT, .stream = 3, .sender = 0xfffffffe},
		 .u.simple = {.seq = 0x01020304, .reason = 9, .watch = 0x0a0b}},
	 BYTES(0xa5, 0x5e, 0x05, 0x05, 0x00, 0x07, 0x00, 0x03, 0xff, 0xff, 0xff, 0xfe,
	       0x01, 0x02, 0x03, 0x04, 0x09, 0x0a, 0x0b)},
	{.msg = {.hdr = {.type = WIRE_DETECTOR, .sender = 1},
		 .u.det = {.msg_id = 0xabcd, .ttl = 2,
			   .src = {1, 0x0a000001, 5000}, .src_ts_us = 0x0102030405060708,
			   .direct = {2, 0x0a000002, 5001}, .direct_ts_us = 0x1112131415161718}},
	 BYTES(0xa5, 0x5e, 0x05, 0x06, 0x00, 0x29, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	       0x00, 0x00, 0xab, 0xcd, 0x02,
	       0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01, 0x13, 0x88,
	       0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	       0x00, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x02, 0x13, 0x89,
	       0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18)},
	{.msg = {.hdr = {.type = WIRE_BUFFER_MAP, .stream = 2, .sender = 9},
		 .u.map = {.base_seq = 256, .nbits = 10, .upload_free = 5, .bits = {0xa5, 0x03}}},
	 BYTES(0xa5, 0x5e, 0x05, 0x07, 0x00, 0x0a, 0x00, 0x02, 0x00, 0x00, 0x00, 0x09,
	       0x00, 0x00, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x05,
	       0xa5, 0x03)},
	{.msg = {.hdr = {.type = WIRE_SEG_REQUEST, .stream = 1, .sender = 2},
		 .u.req = {.count = 2, .seqs = {0x10, 0xffffffff}}},
	 BYTES(0xa5, 0x5e, 0x05, 0x08, 0x00, 0x0a, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
	       0x00, 0x02,
	       0x00, 0x00, 0x00, 0x10, 0xff, 0xff, 0xff, 0xff)},
	{.msg = {.hdr = {.type = WIRE_SEG_DATA, .stream = 1, .sender = 7},
		 .u.seg = {.seq = 0x01020304, .origin_us = 0x0001020304050607, .hops = 3,
			   .flags = WIRE_SEG_PUSHED, .checksum = 0xdeadbeef, .len = 3,
			   .payload = (const uint8_t *)"abc"}},
	 BYTES(0xa5, 0x5e, 0x05, 0x09, 0x00, 0x17, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07,
	       0x01, 0x02, 0x03, 0x04,
	       0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	       0x03, 0x01,
	       0xde, 0xad, 0xbe, 0xef,
	       0x00, 0x03,
	       'a', 'b', 'c')},
	{.msg = {.hdr = {.type = WIRE_PROBE, .sender = 1},
		 .u.probe = {.seq = 9, .peer0 = {1, 0x0a000004, 5000},
			     .ts0_us = 0x1122334455667788, .source_id = 3,
			     .last_delay_us = 200000, .ttl = 7, .half = 1, .nhops = 1,
			     .hops = {{{2, 0x0a000005, 5001}, 0x0102030405060708}}}},
	 BYTES(0xa5, 0x5e, 0x05, 0x0a, 0x00, 0x33, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	       0x00, 0x00, 0x00, 0x09,
	       0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x04, 0x13, 0x88,
	       0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
	       0x00, 0x00, 0x00, 0x03,
	       0x00, 0x03, 0x0d, 0x40,
	       0x07, 0x01, 0x01,
	       0x00, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x05, 0x13, 0x89,
	       0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08)},
	{.msg = {.hdr = {.type = WIRE_PATH_SETUP, .stream = 2, .sender = 3},
		 .u.path = {.seq = 1, .delay_us = 26000, .share = WIRE_SHARE_ODD, .nhops = 2,
			    .hops = {{3, 0x0a000003, 5000}, {1, 0x0a000004, 5001}}}},
	 BYTES(0xa5, 0x5e, 0x05, 0x0b, 0x00, 0x1e, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03,
	       0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x65, 0x90, 0x02, 0x02,
	       0x00, 0x00, 0x00, 0x03, 0x0a, 0x00, 0x00, 0x03, 0x13, 0x88,
	       0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x04, 0x13, 0x89)},
	{.msg = {.hdr = {.type = WIRE_REPORT, .stream = 1, .sender = 4},
		 .u.report = {.t_us = 0x0102030405060708, .partners = 4, .neighbours = 6,
			      .received = 100, .due = 120, .on_time = 99,
			      .last_delay_us = 150000, .state = 1}},
	 BYTES(0xa5, 0x5e, 0x05, 0x0f, 0x00, 0x1d, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04,
	       0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	       0x00, 0x04, 0x00, 0x06,
	       0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x78, 0x00, 0x00, 0x00, 0x63,
	       0x00, 0x02, 0x49, 0xf0,
	       0x01)},
	{.msg = {.hdr = {.type = WIRE_HASH_LIST, .stream = 1, .sender = 3},
		 .u.hl = {.first = 0x01020304, .count = 2,
			  .hash = {{[0] = 0x11, [15] = 0x1f}, {[0] = 0x21, [15] = 0x2f}},
			  .sig = {[0] = 0x51, [63] = 0x5f}}},
	 BYTES(0xa5, 0x5e, 0x05, 0x11, 0x00, 0x65, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03,
	       0x01, 0x02, 0x03, 0x04, 0x02,
	       0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1f,
	       0x21, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2f,
	       0x51, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	       0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	       0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	       0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x5f)},
	{.msg = {.hdr = {.type = WIRE_HASH_REQ, .stream = 1, .sender = 4},
		 .u.simple = {.seq = 0x0a0b0c0d}},
	 BYTES(0xa5, 0x5e, 0x05, 0x12, 0x00, 0x07, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04,
	       0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x00, 0x00)},
	{.msg = {.hdr = {.type = WIRE_COOKIE, .sender = 4},
		 .u.cookie = {.cookie = {1, 2, 3, 4, 5, 6}}},
	 BYTES(0xa5, 0x5e, 0x05, 0x13, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04,
	       0x01, 0x02, 0x03, 0x04, 0x05, 0x06)},
	{.msg = {.hdr = {.type = WIRE_COOKIE_ECHO, .sender = 9},
		 .u.cookie = {.cookie = {0xff, 0, 0, 0, 0, 0x11}}},
	 BYTES(0xa5, 0x5e, 0x05, 0x14, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
	       0xff, 0x00, 0x00, 0x00, 0x00, 0x11)},
};
/* clang-format on */

static void test_golden_bytes(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(goldens); i++) {
		const struct golden *g = &goldens[i];
		uint8_t buf[BIG];
		struct wire_msg got;

		assert_int_equal(encode_ok(&g->msg, buf, sizeof(buf)), g->len);
		assert_memory_equal(buf, g->bytes, g->len);
		assert_int_equal(decode_checked(g->bytes, g->len, &got), WIRE_OK);
		assert_msg_equal(&g->msg, &got);
	}
}

static void test_golden_map_bits(void **state)
{
	const struct wire_buffer_map *map = &goldens[4].msg.u.map;
	static const uint32_t set[] = {256, 258, 261, 263, 264, 265};
	uint32_t want = 0;

	(void)state;
	assert_int_equal(goldens[4].msg.hdr.type, WIRE_BUFFER_MAP);

	for (uint32_t seq = 250; seq < 270; seq++) {
		int on = want < ARRAY_LEN(set) && set[want] == seq;

		assert_int_equal(wire_map_get(map, seq), on);
		want += (unsigned)on;
	}
}

/* Serial-number order (RFC 1982) across the 2^32 wrap. */
static void test_seq_serial_order(void **state)
{
	(void)state;
	assert_true(seq_lt(1, 2));
	assert_false(seq_lt(2, 2));
	assert_true(seq_le(2, 2));
	assert_true(seq_lt(UINT32_MAX, 0));
	assert_false(seq_lt(0, UINT32_MAX));
	assert_true(seq_lt(0xFFFFFF00u, 5));
	assert_true(seq_lt(5, 5 + 0x7FFFFFFFu));
	assert_false(seq_lt(5, 5 + 0x80000001u));
	assert_int_equal(seq_max(UINT32_MAX - 1, 3), 3);
	assert_int_equal(seq_max(3, UINT32_MAX - 1), 3);
}

/* A map across the wrap holds what it says on both sides of it. */
static void test_map_across_wrap(void **state)
{
	(void)state;
	struct wire_buffer_map m = {.base_seq = UINT32_MAX - 7, .nbits = 16};
	wire_map_set(&m, UINT32_MAX);
	wire_map_set(&m, 0);
	wire_map_set(&m, 7);
	wire_map_set(&m, 8); /* past the end: ignored */
	assert_true(wire_map_get(&m, UINT32_MAX));
	assert_true(wire_map_get(&m, 0));
	assert_true(wire_map_get(&m, 7));
	assert_false(wire_map_get(&m, 8));
	assert_false(wire_map_get(&m, 1));
	assert_false(wire_map_get(&m, UINT32_MAX - 8));
}

static void test_roundtrip_every_type(void **state)
{
	(void)state;
	for (int t = 1; t < WIRE_TYPE_MAX; t++) {
		for (enum variant v = V_MIN; v < V_COUNT; v++) {
			struct wire_msg m, got;
			uint8_t buf[BIG], again[BIG];

			sample(t, v, &m);
			size_t n = encode_ok(&m, buf, sizeof(buf));

			assert_int_equal(n, WIRE_HDR_LEN + body_len(&m));
			assert_int_equal(decode_checked(buf, n, &got), WIRE_OK);
			assert_msg_equal(&m, &got);
			assert_int_equal(encode_ok(&got, again, sizeof(again)), n);
			assert_memory_equal(buf, again, n);
		}
	}
}

static void test_maxima_fit_one_datagram(void **state)
{
	size_t largest = 0;

	(void)state;
	for (int t = 1; t < WIRE_TYPE_MAX; t++) {
		uint8_t buf[WIRE_MAX_DATAGRAM];
		struct wire_msg m;

		sample(t, V_MAX, &m);
		size_t n = encode_ok(&m, buf, sizeof(buf));

		assert_true(n <= WIRE_MAX_DATAGRAM);
		if (n > largest)
			largest = n;
	}
	/* A bootstrap with every stream and the peers that fit is the largest
	 * message. */
	assert_int_equal(largest, WIRE_HDR_LEN + 2 +
	                              13 * wire_bootstrap_peer_room(WIRE_MAX_STREAMS) +
	                              64 * WIRE_MAX_STREAMS);
	assert_int_equal(wire_bootstrap_peer_room(0), WIRE_MAX_PEERS);
	assert_int_equal(wire_bootstrap_peer_room(WIRE_MAX_STREAMS), 33);
}

/* A node answers a stranger with a cookie and nothing else: no datagram
 * that can draw one is shorter than the cookie (a bootstrap comes from the
 * rendezvous point alone, which no node challenges). */
static void test_cookie_no_larger_than_any_request(void **state)
{
	(void)state;
	uint8_t buf[BIG];
	size_t cookie = encode_sample(WIRE_COOKIE, V_MAX, buf);
	for (int t = 1; t < WIRE_TYPE_MAX; t++)
		for (enum variant v = V_MIN; v < V_COUNT && t != WIRE_BOOTSTRAP; v++)
			assert_true(encode_sample(t, v, buf) >= cookie);
}

static void test_decode_bad_header(void **state)
{
	uint8_t buf[BIG];
	size_t n = encode_sample(WIRE_REPORT, V_MID, buf);

	(void)state;
	for (size_t len = 0; len < WIRE_HDR_LEN; len++)
		expect_decode(buf, len, WIRE_ESHORT);

	buf[0] ^= 0x01;
	expect_decode(buf, n, WIRE_EMAGIC);
	buf[0] ^= 0x01;
	buf[1] ^= 0x80;
	expect_decode(buf, n, WIRE_EMAGIC);
	buf[1] ^= 0x80;

	static const uint8_t versions[] = {0, 1, 2, 3, 4, 6, 0xff};
	for (size_t i = 0; i < ARRAY_LEN(versions); i++) {
		buf[2] = versions[i];
		expect_decode(buf, n, WIRE_EVERSION);
	}
	buf[2] = WIRE_VERSION;

	static const uint8_t types[] = {0, WIRE_TYPE_MAX, 0x80, 0xff};
	for (size_t i = 0; i < ARRAY_LEN(types); i++) {
		buf[3] = types[i];
		expect_decode(buf, n, WIRE_ETYPE);
	}
	buf[3] = WIRE_REPORT;
	expect_decode(buf, n, WIRE_OK);
}

static void test_decode_header_length_mismatch(void **state)
{
	(void)state;
	for (int t = 1; t < WIRE_TYPE_MAX; t++) {
		uint8_t buf[BIG];
		size_t n = encode_sample(t, V_MID, buf);
		size_t body = n - WIRE_HDR_LEN;

		set_body_len(buf, body + 1);
		expect_decode(buf, n, WIRE_ESHORT);
		set_body_len(buf, 0xffff);
		expect_decode(buf, n, WIRE_ESHORT);
		set_body_len(buf, body - 1);
		expect_decode(buf, n, WIRE_ELENGTH);
		set_body_len(buf, 0);
		expect_decode(buf, n, WIRE_ELENGTH);
		/* A trailing byte past a correctly declared body. */
		set_body_len(buf, body);
		buf[n] = 0;
		expect_decode(buf, n + 1, WIRE_ELENGTH);
	}
}

static void test_decode_body_size_for_type(void **state)
{
	(void)state;
	for (int t = 1; t < WIRE_TYPE_MAX; t++) {
		for (enum variant v = V_MIN; v < V_COUNT; v++) {
			uint8_t buf[BIG];
			size_t n = encode_sample(t, v, buf);
			size_t body = n - WIRE_HDR_LEN;

			for (size_t b = 0; b < body; b++) {
				size_t len = resize_body(buf, n, b);

				expect_decode(buf, len, WIRE_ELENGTH);
			}
			for (size_t extra = 1; extra <= 4; extra++) {
				size_t len = resize_body(buf, n, body + extra);

				expect_decode(buf, len, WIRE_ELENGTH);
			}
		}
	}
}

static void test_truncation_at_every_length(void **state)
{
	(void)state;
	for (int t = 1; t < WIRE_TYPE_MAX; t++) {
		for (enum variant v = V_MIN; v < V_COUNT; v++) {
			uint8_t buf[BIG];
			size_t n = encode_sample(t, v, buf);

			for (size_t len = 0; len < n; len++)
				expect_decode(buf, len, WIRE_ESHORT);
			expect_decode(buf, n, WIRE_OK);
		}
	}
}

/* Sets a count field to value and, where a 16-bit body length can hold it,
 * sizes the body to what that count would need, so the count is the only
 * thing wrong. */
struct bad_count {
	int type;
	enum variant v;
	size_t off;
	int width; /* bytes */
	unsigned value;
	size_t body; /* 0: keep the sample's body */
};

static void test_decode_counts_out_of_range(void **state)
{
	static const struct bad_count cases[] = {
	    {WIRE_BOOTSTRAP, V_MAX, OFF_BOOT_NPEERS, 1, 0xff, 0},
	    {WIRE_BOOTSTRAP, V_MIN, OFF_BOOT_NSTREAMS, 1, 0xff, 0},
	    {WIRE_BUFFER_MAP, V_MAX, OFF_MAP_NBITS, 2, WIRE_MAX_MAP_BITS + 1,
	     8 + WIRE_MAX_MAP_BITS / 8 + 1},
	    {WIRE_BUFFER_MAP, V_MAX, OFF_MAP_NBITS, 2, 0xffff, 0},
	    {WIRE_SEG_REQUEST, V_MIN, OFF_REQ_COUNT, 2, 0, 2},
	    {WIRE_SEG_REQUEST, V_MAX, OFF_REQ_COUNT, 2, WIRE_MAX_REQ + 1,
	     2 + 4 * (WIRE_MAX_REQ + 1)},
	    {WIRE_SEG_REQUEST, V_MAX, OFF_REQ_COUNT, 2, 0xffff, 0},
	    {WIRE_SEG_DATA, V_MAX, OFF_SEG_LEN, 2, WIRE_SEG_PAYLOAD_MAX + 1,
	     20 + WIRE_SEG_PAYLOAD_MAX + 1},
	    {WIRE_SEG_DATA, V_MID, OFF_SEG_FLAGS, 1, 2, 0},
	    {WIRE_SEG_DATA, V_MID, OFF_SEG_LEN, 2, 0xffff, 0},
	    {WIRE_PROBE, V_MAX, OFF_PROBE_TTL, 1, 8, 0},
	    {WIRE_PROBE, V_MIN, OFF_PROBE_TTL, 1, 0xff, 0},
	    {WIRE_PROBE, V_MIN, OFF_PROBE_HALF, 1, 2, 0},
	    {WIRE_PROBE, V_MAX, OFF_PROBE_HALF, 1, 0xff, 0},
	    {WIRE_PROBE, V_MAX, OFF_PROBE_NHOPS, 1, WIRE_MAX_HOPS + 1,
	     33 + 18 * (WIRE_MAX_HOPS + 1)},
	    {WIRE_PROBE, V_MAX, OFF_PROBE_NHOPS, 1, 0xff, 0},
	    {WIRE_PATH_SETUP, V_MIN, OFF_PATH_SHARE, 1, WIRE_SHARE_MAX, 0},
	    {WIRE_PATH_SETUP, V_MAX, OFF_PATH_SHARE, 1, 0xff, 0},
	    {WIRE_PATH_SETUP, V_MIN, OFF_PATH_NHOPS, 1, 0, 10},
	    {WIRE_PATH_SETUP, V_MIN, OFF_PATH_NHOPS, 1, 1, 10 + 10},
	    {WIRE_PATH_SETUP, V_MAX, OFF_PATH_NHOPS, 1, WIRE_MAX_HOPS + 1,
	     10 + 10 * (WIRE_MAX_HOPS + 1)},
	    {WIRE_PATH_SETUP, V_MAX, OFF_PATH_NHOPS, 1, 0xff, 0},
	    {WIRE_HASH_LIST, V_MIN, OFF_HL_COUNT, 1, 0, 5 + 64},
	    {WIRE_HASH_LIST, V_MAX, OFF_HL_COUNT, 1, WIRE_MAX_HASHES + 1,
	     5 + 16 * (WIRE_MAX_HASHES + 1) + 64},
	    {WIRE_HASH_LIST, V_MAX, OFF_HL_COUNT, 1, 0xff, 0},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct bad_count *c = &cases[i];
		uint8_t buf[BIG];
		size_t n = encode_sample(c->type, c->v, buf);

		if (c->body)
			n = resize_body(buf, n, c->body);
		if (c->width == 1)
			buf[c->off] = (uint8_t)c->value;
		else
			put_be16(buf + c->off, (uint16_t)c->value);
		expect_decode(buf, n, WIRE_ERANGE);
	}
}

/* One full list and the other empty: the zero entry grown onto the full one
 * parses cleanly, so only its count can be what is refused. */
static void expect_encode(const struct wire_msg *m, int want);

static void test_decode_bootstrap_counts(void **state)
{
	struct wire_msg m;
	uint8_t buf[BIG];
	size_t n;

	(void)state;
	sample(WIRE_BOOTSTRAP, V_MAX, &m);
	m.u.boot.nstreams = 0;
	n = encode_ok(&m, buf, sizeof(buf));
	n = resize_body(buf, n, 2 + 13 * (WIRE_MAX_PEERS + 1));
	buf[OFF_BOOT_NPEERS] = WIRE_MAX_PEERS + 1;
	expect_decode(buf, n, WIRE_ERANGE);

	sample(WIRE_BOOTSTRAP, V_MAX, &m);
	m.u.boot.npeers = 0;
	n = encode_ok(&m, buf, sizeof(buf));
	n = resize_body(buf, n, 2 + 64 * (WIRE_MAX_STREAMS + 1));
	buf[OFF_BOOT_NSTREAMS] = WIRE_MAX_STREAMS + 1;
	expect_decode(buf, n, WIRE_ERANGE);

	/* Every stream and one peer more than fits beside them: one datagram
	 * could not carry it, so neither side takes it. */
	sample(WIRE_BOOTSTRAP, V_MAX, &m);
	m.u.boot.npeers++;
	expect_encode(&m, WIRE_ERANGE);
	m.u.boot.npeers--;
	n = encode_ok(&m, buf, sizeof(buf));
	n = resize_body(buf, n, n - WIRE_HDR_LEN + 13);
	buf[OFF_BOOT_NPEERS]++;
	expect_decode(buf, n, WIRE_ERANGE);
}

static void test_decode_map_pad_bits(void **state)
{
	uint8_t buf[BIG];
	size_t n = encode_sample(WIRE_BUFFER_MAP, V_MID, buf);
	size_t last = OFF_MAP_BITS + 1; /* 13 bits: 5 used in byte 1 */
	struct wire_msg m;

	(void)state;
	assert_int_equal(n, last + 1);
	expect_decode(buf, n, WIRE_OK);
	for (int bit = 5; bit < 8; bit++) {
		buf[last] ^= (uint8_t)(1u << bit);
		expect_decode(buf, n, WIRE_ERANGE);
		buf[last] ^= (uint8_t)(1u << bit);
	}
	buf[last] ^= 0x1f;
	assert_int_equal(decode_checked(buf, n, &m), WIRE_OK);
	for (size_t i = 2; i < sizeof(m.u.map.bits); i++)
		assert_int_equal(m.u.map.bits[i], 0);
}

static void test_decode_names(void **state)
{
	static const int types[] = {WIRE_REGISTER, WIRE_BOOTSTRAP};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(types); i++) {
		uint8_t buf[BIG];
		size_t n = encode_sample(types[i], V_MID, buf);
		/* names end both bodies, before the key */
		uint8_t *name = buf + n - WIRE_KEY_LEN - WIRE_STREAM_NAME;
		struct wire_msg m;

		memset(name, 'x', WIRE_STREAM_NAME);
		expect_decode(buf, n, WIRE_ERANGE);
		name[WIRE_STREAM_NAME - 1] = 0;
		assert_int_equal(decode_checked(buf, n, &m), WIRE_OK);
		const char *got = types[i] == WIRE_REGISTER
		                      ? m.u.reg.name
		                      : m.u.boot.streams[m.u.boot.nstreams - 1].name;

		assert_int_equal(strlen(got), WIRE_STREAM_NAME - 1);
		/* Bytes after the terminator must be padding. */
		memset(name, 0, WIRE_STREAM_NAME);
		name[0] = 'a';
		name[WIRE_STREAM_NAME - 1] = 'z';
		expect_decode(buf, n, WIRE_ERANGE);
		name[WIRE_STREAM_NAME - 1] = 0;
		expect_decode(buf, n, WIRE_OK);
	}
}

static void test_decode_seg_len_must_match(void **state)
{
	uint8_t buf[BIG];
	size_t n = encode_sample(WIRE_SEG_DATA, V_MID, buf);
	struct wire_msg m;

	(void)state;
	put_be16(buf + OFF_SEG_LEN, 101);
	expect_decode(buf, n, WIRE_ELENGTH);
	put_be16(buf + OFF_SEG_LEN, 99);
	expect_decode(buf, n, WIRE_ELENGTH);
	put_be16(buf + OFF_SEG_LEN, 0);
	expect_decode(buf, n, WIRE_ELENGTH);
	put_be16(buf + OFF_SEG_LEN, 100);
	/* The checksum is the receiver's to verify, not the codec's. */
	buf[OFF_SEG_PAYLOAD] ^= 0xff;
	assert_int_equal(decode_checked(buf, n, &m), WIRE_OK);
	assert_int_not_equal(m.u.seg.checksum, wire_checksum(m.u.seg.payload, m.u.seg.len));
	assert_ptr_equal(m.u.seg.payload, buf + OFF_SEG_PAYLOAD);
}

static void expect_encode(const struct wire_msg *m, int want)
{
	uint8_t buf[BIG];

	assert_int_equal(wire_encode(m, buf, sizeof(buf)), want);
}

static void test_encode_rejects_out_of_range(void **state)
{
	struct wire_msg m;

	(void)state;
	sample(WIRE_BOOTSTRAP, V_MAX, &m);
	m.u.boot.npeers = WIRE_MAX_PEERS + 1;
	expect_encode(&m, WIRE_ERANGE);
	sample(WIRE_BOOTSTRAP, V_MAX, &m);
	m.u.boot.nstreams = WIRE_MAX_STREAMS + 1;
	expect_encode(&m, WIRE_ERANGE);
	sample(WIRE_BOOTSTRAP, V_MAX, &m);
	memset(m.u.boot.streams[WIRE_MAX_STREAMS - 1].name, 'x', WIRE_STREAM_NAME);
	expect_encode(&m, WIRE_ERANGE);

	sample(WIRE_REGISTER, V_MID, &m);
	memset(m.u.reg.name, 'x', WIRE_STREAM_NAME);
	expect_encode(&m, WIRE_ERANGE);

	sample(WIRE_BUFFER_MAP, V_MAX, &m);
	m.u.map.nbits = WIRE_MAX_MAP_BITS + 1;
	expect_encode(&m, WIRE_ERANGE);

	sample(WIRE_SEG_REQUEST, V_MAX, &m);
	m.u.req.count = WIRE_MAX_REQ + 1;
	expect_encode(&m, WIRE_ERANGE);
	m.u.req.count = 0;
	expect_encode(&m, WIRE_ERANGE);

	sample(WIRE_SEG_DATA, V_MAX, &m);
	m.u.seg.len = WIRE_SEG_PAYLOAD_MAX + 1;
	expect_encode(&m, WIRE_ERANGE);
	m.u.seg.len = 5;
	m.u.seg.payload = NULL;
	expect_encode(&m, WIRE_ERANGE);

	sample(WIRE_PROBE, V_MAX, &m);
	m.u.probe.ttl = 8;
	expect_encode(&m, WIRE_ERANGE);
	sample(WIRE_PROBE, V_MAX, &m);
	m.u.probe.nhops = WIRE_MAX_HOPS + 1;
	expect_encode(&m, WIRE_ERANGE);
	sample(WIRE_PROBE, V_MAX, &m);
	m.u.probe.half = 2;
	expect_encode(&m, WIRE_ERANGE);

	sample(WIRE_PATH_SETUP, V_MAX, &m);
	static const uint8_t bad_hops[] = {0, 1, WIRE_MAX_HOPS + 1};
	for (size_t i = 0; i < ARRAY_LEN(bad_hops); i++) {
		m.u.path.nhops = bad_hops[i];
		expect_encode(&m, WIRE_ERANGE);
	}
	sample(WIRE_PATH_SETUP, V_MAX, &m);
	m.u.path.share = WIRE_SHARE_MAX;
	expect_encode(&m, WIRE_ERANGE);

	static const uint8_t bad_types[] = {0, WIRE_TYPE_MAX, 0xff};
	for (size_t i = 0; i < ARRAY_LEN(bad_types); i++) {
		sample(WIRE_REPORT, V_MID, &m);
		m.hdr.type = bad_types[i];
		expect_encode(&m, WIRE_ETYPE);
	}
}

static void test_encode_short_buffer(void **state)
{
	(void)state;
	for (int t = 1; t < WIRE_TYPE_MAX; t++) {
		for (enum variant v = V_MIN; v < V_COUNT; v++) {
			struct wire_msg m;
			uint8_t buf[BIG], fence[BIG];

			sample(t, v, &m);
			size_t n = encode_ok(&m, buf, sizeof(buf));

			memset(fence, 0xcc, sizeof(fence));
			for (size_t cap = 0; cap < n; cap++) {
				memset(buf, 0xcc, sizeof(buf));
				assert_int_equal(wire_encode(&m, buf, cap), WIRE_ENOSPACE);
				assert_memory_equal(buf + cap, fence, sizeof(buf) - cap);
			}
			assert_int_equal(wire_encode(&m, buf, n), (int)n);
		}
	}
}

static void test_encode_is_canonical(void **state)
{
	struct wire_msg m, clean;
	uint8_t a[BIG], b[BIG];

	(void)state;
	sample(WIRE_REGISTER, V_MID, &clean);
	memset(clean.u.reg.name, 0, WIRE_STREAM_NAME);
	strcpy(clean.u.reg.name, "tv1");
	m = clean;
	m.hdr.length = 0xbeef;
	m.u.reg.name[5] = 'q';
	size_t n = encode_ok(&clean, a, sizeof(a));

	assert_int_equal(encode_ok(&m, b, sizeof(b)), n);
	assert_memory_equal(a, b, n);

	/* Stray bits past nbits must not reach the wire. */
	sample(WIRE_BUFFER_MAP, V_MID, &clean);
	m = clean;
	m.u.map.bits[1] |= 0xe0;
	m.u.map.bits[2] = 0xff;
	n = encode_ok(&clean, a, sizeof(a));
	assert_int_equal(encode_ok(&m, b, sizeof(b)), n);
	assert_memory_equal(a, b, n);
}

/* Datagrams of four kinds: pure noise, noise behind a plausible header, and
 * valid encodings with a few bytes flipped or the body resized. */
static size_t random_datagram(struct rng *r, uint8_t (*valid)[BIG], const size_t *valid_len,
                              size_t nvalid, uint8_t *buf)
{
	size_t n;

	switch (rng_below(r, 4)) {
	case 0:
		n = rng_below(r, WIRE_MAX_DATAGRAM + 64);
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)rng_next(r);
		return n;
	case 1:
		n = WIRE_HDR_LEN + rng_below(r, 200);
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)rng_next(r);
		put_be16(buf, WIRE_MAGIC);
		buf[2] = WIRE_VERSION;
		buf[3] = (uint8_t)rng_below(r, WIRE_TYPE_MAX + 1);
		set_body_len(buf, n - WIRE_HDR_LEN);
		return n;
	default: {
		size_t k = rng_below(r, nvalid);

		n = valid_len[k];
		memcpy(buf, valid[k], n);
		if (rng_below(r, 2)) {
			for (uint64_t flips = 1 + rng_below(r, 4); flips--;)
				buf[rng_below(r, n)] ^= (uint8_t)(1 + rng_below(r, 255));
		} else {
			n = resize_body(buf, n, rng_below(r, n + 8 - WIRE_HDR_LEN));
		}
		return n;
	}
	}
}

static void test_random_datagrams(void **state)
{
	enum { ROUNDS = 100000, NVALID = (WIRE_TYPE_MAX - 1) * V_COUNT };
	static uint8_t valid[NVALID][BIG];
	size_t valid_len[NVALID];
	unsigned accepted[WIRE_TYPE_MAX] = {0}, rejected[8] = {0};
	struct rng r;

	(void)state;
	for (int t = 1; t < WIRE_TYPE_MAX; t++)
		for (enum variant v = V_MIN; v < V_COUNT; v++) {
			size_t k = (size_t)(t - 1) * V_COUNT + v;

			valid_len[k] = encode_sample(t, v, valid[k]);
		}

	rng_seed(&r, 0x5eed);
	for (int i = 0; i < ROUNDS; i++) {
		uint8_t buf[BIG], again[BIG];
		struct wire_msg m;
		size_t n = random_datagram(&r, valid, valid_len, NVALID, buf);
		int rc = decode_checked(buf, n, &m);

		if (rc != WIRE_OK) {
			assert_true(rc >= WIRE_ERANGE && rc <= WIRE_ESHORT);
			rejected[-rc]++;
			continue;
		}
		accepted[m.hdr.type]++;
		assert_int_equal(wire_encode(&m, again, WIRE_MAX_DATAGRAM), (int)n);
		assert_memory_equal(buf, again, n);
	}

	for (int t = 1; t < WIRE_TYPE_MAX; t++)
		assert_true(accepted[t] > 0);
	for (int e = -WIRE_ESHORT; e <= -WIRE_ERANGE; e++)
		assert_true(rejected[e] > 0);
}

static void test_checksum_fnv1a(void **state)
{
	(void)state;
	assert_int_equal(wire_checksum(NULL, 0), 0x811c9dc5);
	assert_int_equal(wire_checksum((const uint8_t *)"a", 1), 0xe40c292c);
	assert_int_equal(wire_checksum((const uint8_t *)"foobar", 6), 0xbf9cf968);
}

static void test_strings(void **state)
{
	(void)state;
	assert_string_equal(wire_type_name(WIRE_SEG_DATA), "segment data");
	assert_string_equal(wire_type_name(WIRE_BUFFER_MAP), "buffer map");
	assert_string_equal(wire_type_name(0), "unknown");
	assert_string_equal(wire_type_name(WIRE_TYPE_MAX), "unknown");
	assert_string_equal(wire_type_name(-1), "unknown");
	for (int t = 1; t < WIRE_TYPE_MAX; t++) {
		assert_string_not_equal(wire_type_name(t), "unknown");
		for (int u = 1; u < t; u++)
			assert_string_not_equal(wire_type_name(t), wire_type_name(u));
	}
	for (int e = WIRE_ENOSPACE; e < WIRE_OK; e++) {
		assert_string_not_equal(wire_strerror(e), "unknown");
		for (int f = WIRE_ENOSPACE; f < e; f++)
			assert_string_not_equal(wire_strerror(e), wire_strerror(f));
	}
	assert_string_equal(wire_strerror(WIRE_ENOSPACE - 1), "unknown");
	assert_string_equal(wire_strerror(1), "unknown");
}

static void test_map_helpers(void **state)
{
	struct wire_buffer_map m = {.base_seq = 1000, .nbits = 20};

	(void)state;
	wire_map_set(&m, 999);
	wire_map_set(&m, 1020);
	assert_int_equal(m.bits[0] | m.bits[1] | m.bits[2] | m.bits[3], 0);
	wire_map_set(&m, 1000);
	wire_map_set(&m, 1019);
	assert_int_equal(m.bits[0], 0x01);
	assert_int_equal(m.bits[2], 0x08);
	assert_true(wire_map_get(&m, 1000));
	assert_true(wire_map_get(&m, 1019));
	assert_false(wire_map_get(&m, 1001));
	assert_false(wire_map_get(&m, 999));
	assert_false(wire_map_get(&m, 1020));
}

/* The header builder leaves nothing from an earlier message behind, and
 * a simple message encodes as any other. */
static void test_msg_builders(void **state)
{
	struct wire_msg m;
	memset(&m, 0xab, sizeof(m));
	wire_msg_init(&m, WIRE_BUFFER_MAP, 7, 0x01020304);
	assert_int_equal(m.hdr.type, WIRE_BUFFER_MAP);
	assert_int_equal(m.hdr.stream, 7);
	assert_int_equal(m.hdr.sender, 0x01020304);
	assert_int_equal(m.hdr.length, 0);

	wire_msg_simple(&m, WIRE_RELAY_REFUSE, 5, 9, 42, WIRE_REFUSE_NO_SLOT);
	uint8_t buf[WIRE_MAX_DATAGRAM];
	int len = wire_encode(&m, buf, sizeof(buf));
	assert_true(len > 0);
	struct wire_msg d;
	assert_int_equal(wire_decode(buf, (size_t)len, &d), WIRE_OK);
	assert_int_equal(d.hdr.type, WIRE_RELAY_REFUSE);
	assert_int_equal(d.hdr.stream, 5);
	assert_int_equal(d.hdr.sender, 9);
	assert_int_equal(d.u.simple.seq, 42);
	assert_int_equal(d.u.simple.reason, WIRE_REFUSE_NO_SLOT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden_bytes),
	    cmocka_unit_test(test_msg_builders),
	    cmocka_unit_test(test_golden_map_bits),
	    cmocka_unit_test(test_seq_serial_order),
	    cmocka_unit_test(test_map_across_wrap),
	    cmocka_unit_test(test_roundtrip_every_type),
	    cmocka_unit_test(test_maxima_fit_one_datagram),
	    cmocka_unit_test(test_cookie_no_larger_than_any_request),
	    cmocka_unit_test(test_decode_bad_header),
	    cmocka_unit_test(test_decode_header_length_mismatch),
	    cmocka_unit_test(test_decode_body_size_for_type),
	    cmocka_unit_test(test_truncation_at_every_length),
	    cmocka_unit_test(test_decode_counts_out_of_range),
	    cmocka_unit_test(test_decode_bootstrap_counts),
	    cmocka_unit_test(test_decode_map_pad_bits),
	    cmocka_unit_test(test_decode_names),
	    cmocka_unit_test(test_decode_seg_len_must_match),
	    cmocka_unit_test(test_encode_rejects_out_of_range),
	    cmocka_unit_test(test_encode_short_buffer),
	    cmocka_unit_test(test_encode_is_canonical),
	    cmocka_unit_test(test_random_datagrams),
	    cmocka_unit_test(test_checksum_fnv1a),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_map_helpers),
	};

	for (size_t i = 0; i < ARRAY_LEN(payload_pattern); i++)
		payload_pattern[i] = (uint8_t)(i * 7 + 3);
	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
