#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "peer/inter.h"

#define STREAM 5
#define OTHER 9
#define SRC 1 /* source of STREAM */
#define P0 10 /* the peer that probes */
#define SEC 1000000ull
#define MS 1000ull
/* Clocks at the start of each test: monotonic for timers, real for the
 * timestamps probes and segments carry across hosts. */
#define T0 (1000 * SEC)
#define REAL0 1700000000000000ull
#define MU_D (25 * SEC)

struct sent {
	struct wire_addr to;
	struct wire_msg m;
};

/* The node around the inter-overlay manager: what it sent, and its mesh. */
static struct fx {
	struct inter in;
	struct evlog log;
	struct rng rng;
	struct sent out[256];
	int nout;
	struct wire_addr nb[32];
	int nnb;
	int partners; /* pull partners the node serves */
	int lost;     /* path_lost calls */
} fx;

static struct wire_addr addr(uint32_t id)
{
	return (struct wire_addr){.id = id, .ip = 0x0a000000u + id, .port = 7000};
}

static void fake_send(void *ctx, const struct wire_addr *to, const struct wire_msg *m)
{
	struct fx *f = ctx;
	assert_true(f->nout < (int)ARRAY_LEN(f->out));
	f->out[f->nout++] = (struct sent){*to, *m};
}

static int fake_neighbours(void *ctx, struct wire_addr *out, int max)
{
	struct fx *f = ctx;
	int n = f->nnb < max ? f->nnb : max;
	memcpy(out, f->nb, sizeof(*out) * (size_t)n);
	return n;
}

static int fake_partners(void *ctx)
{
	return ((struct fx *)ctx)->partners;
}

static void fake_path_lost(void *ctx)
{
	((struct fx *)ctx)->lost++;
}

static int setup(void **state)
{
	memset(&fx, 0, sizeof(fx));
	rng_seed(&fx.rng, 2006);
	return evlog_open(&fx.log, NULL);
}

static int teardown(void **state)
{
	evlog_close(&fx.log);
	return 0;
}

/* Peer id with 3 Mbit/s upload, watching (or serving) STREAM at 300 kbit/s:
 * 9 push slots. */
static void start(uint32_t id, int enabled, int is_source)
{
	struct inter_io io = {&fx, fake_send, fake_neighbours, fake_partners, NULL, fake_path_lost};
	struct wire_addr self = addr(id);
	inter_init(&fx.in, &self, &fx.log, &io, &fx.rng, enabled, 3000000);
	inter_set_stream(&fx.in, STREAM, SRC, 300000, is_source);
}

static void set_neighbours(const uint32_t *ids, int n)
{
	fx.nnb = n;
	for (int i = 0; i < n; i++)
		fx.nb[i] = addr(ids[i]);
}
#define NEIGHBOURS(...)                                                                            \
	set_neighbours((const uint32_t[]){__VA_ARGS__},                                            \
	               (int)(sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t)))

static struct wire_path_setup mkpath(uint32_t seq, const uint32_t *ids, int n)
{
	struct wire_path_setup ps = {.seq = seq, .nhops = (uint8_t)n};
	for (int i = 0; i < n; i++)
		ps.hops[i] = addr(ids[i]);
	return ps;
}
#define PATH(seq, ...)                                                                             \
	mkpath(seq, (const uint32_t[]){__VA_ARGS__},                                               \
	       (int)(sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t)))

/* A bound on a probe's delay that no trace here reaches. */
#define WIDE (10 * SEC)

/* A probe of P0 for SRC that went through ids, 10 ms per hop. */
static struct wire_probe mkprobe(uint32_t seq, const uint32_t *ids, int n, uint8_t ttl,
                                 uint32_t last_delay_us)
{
	struct wire_probe p = {.seq = seq,
	                       .peer0 = addr(P0),
	                       .ts0_us = REAL0,
	                       .source_id = SRC,
	                       .last_delay_us = last_delay_us,
	                       .ttl = ttl};
	for (int i = 0; i < n; i++)
		p.hops[p.nhops++] =
		    (struct wire_hop){addr(ids[i]), REAL0 + (uint64_t)(i + 1) * 10 * MS};
	return p;
}
#define PROBE(seq, ttl, last_delay, ...)                                                           \
	mkprobe(seq, (const uint32_t[]){__VA_ARGS__},                                              \
	        (int)(sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t)), ttl,            \
	        last_delay)

static int count(int type)
{
	int n = 0;
	for (int i = 0; i < fx.nout; i++)
		n += fx.out[i].m.hdr.type == type;
	return n;
}

static const struct sent *find(int type, uint32_t to)
{
	for (int i = 0; i < fx.nout; i++)
		if (fx.out[i].m.hdr.type == type && fx.out[i].to.id == to)
			return &fx.out[i];
	return NULL;
}

/* The one message of type sent to `to`, checked for stream and sender. */
static const struct sent *only(int type, uint32_t to, uint16_t stream)
{
	int n = 0;
	for (int i = 0; i < fx.nout; i++)
		n += fx.out[i].m.hdr.type == type && fx.out[i].to.id == to;
	assert_int_equal(n, 1);
	const struct sent *s = find(type, to);
	assert_int_equal(s->m.hdr.stream, stream);
	assert_int_equal(s->m.hdr.sender, fx.in.self.id);
	assert_int_equal(s->to.ip, addr(to).ip);
	assert_int_equal(s->to.port, addr(to).port);
	return s;
}

static void check_cut(uint32_t to, uint16_t stream)
{
	assert_int_equal(only(WIRE_NEIGH_CUT, to, stream)->m.u.simple.reason, WIRE_CUT_PATH);
}

static void check_path(const struct wire_path_setup *got, uint32_t seq, const uint32_t *ids, int n)
{
	assert_int_equal(got->seq, seq);
	assert_int_equal(got->nhops, n);
	for (int i = 0; i < n; i++)
		assert_int_equal(got->hops[i].id, ids[i]);
}
#define CHECK_PATH(got, seq, ...)                                                                  \
	check_path(got, seq, (const uint32_t[]){__VA_ARGS__},                                      \
	           (int)(sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t)))

static void clear(void)
{
	fx.nout = 0;
}

/* The partners pulled `streams` whole streams in every second of the
 * window (the tests' stream is 300 kbit/s). */
static void pulled(double streams)
{
	for (int i = 0; i < INTER_PULL_WINDOW; i++)
		inter_note_pull(&fx.in, (uint64_t)(streams * 300000 / 8));
}

static struct wire_seg_data seg(uint32_t seq, uint8_t hops)
{
	return (struct wire_seg_data){.seq = seq,
	                              .origin_us = REAL0,
	                              .hops = hops,
	                              .flags = WIRE_SEG_PUSHED,
	                              .checksum = seq};
}

/* The parent from pushed the next segment, delay_us after its origin. */
static void pushed_from(const struct wire_addr *from, uint32_t delay_us, uint64_t now)
{
	static uint32_t next_seq;
	struct wire_seg_data sd = seg(++next_seq, 2);
	sd.flags = WIRE_SEG_PUSHED;
	inter_on_own_segment(&fx.in, from, &sd, delay_us, now);
}

/* A child asks this hop (at index 1 of [SRC, self, child]) for STREAM. */
static void ask(uint32_t self, uint32_t child, uint32_t seq, int have_stream, uint64_t now)
{
	struct wire_path_setup ps = PATH(seq, SRC, self, child);
	struct wire_addr from = addr(child);
	inter_on_path_setup(&fx.in, STREAM, &ps, &from, have_stream, now);
}

/* The source offers Peer_0 the path [SRC, parent, P0], traced at
 * delay_us. */
static void offered(uint32_t seq, uint32_t parent, uint32_t delay_us, uint64_t now)
{
	struct wire_path_setup offer = PATH(seq, SRC, parent, P0);
	offer.delay_us = delay_us;
	struct wire_addr src = addr(SRC);
	inter_on_path_setup(&fx.in, STREAM, &offer, &src, 0, now);
}

/* Peer_0 holding an offer [SRC, parent, P0], traced at delay_us, as its
 * active path. */
static void active_traced(uint32_t parent, uint32_t seq, uint32_t delay_us, uint64_t now)
{
	struct wire_addr par = addr(parent);
	offered(seq, parent, delay_us, now);
	inter_tick(&fx.in, 0, REAL0, now);
	assert_true(fx.in.have_active);
	inter_on_relay_answer(&fx.in, STREAM, 1, seq, &par, now);
	clear();
}

static void active_via(uint32_t parent, uint32_t seq, uint64_t now)
{
	active_traced(parent, seq, 0, now);
}

/* Hop 40 watches OTHER and relays STREAM from 30 to its children. */
static void relay_for(const uint32_t *children, int n, uint64_t now)
{
	inter_set_stream(&fx.in, OTHER, 2, 300000, 0);
	for (int i = 0; i < n; i++) {
		struct wire_path_setup ps = PATH(7, SRC, 30, 40, children[i]);
		struct wire_addr child = addr(children[i]), parent = addr(30);
		inter_on_path_setup(&fx.in, STREAM, &ps, &child, 0, now);
		if (i == 0)
			inter_on_relay_answer(&fx.in, STREAM, 1, 7, &parent, now);
		assert_non_null(find(WIRE_RELAY_ACCEPT, children[i]));
	}
	assert_int_equal(fx.in.nrelay, 1);
	assert_int_equal(fx.in.relay[0].nchild, n);
	clear();
}

/* ---- pushing ---- */

static void test_push_own_stream(void **state)
{
	start(30, 1, 0);
	ask(30, 100, 1, 1, T0);
	ask(30, 101, 2, 1, T0);
	clear();

	struct wire_seg_data sd = seg(42, 3);
	assert_int_equal(inter_push(&fx.in, STREAM, &sd), 2);
	assert_int_equal(fx.nout, 2);
	for (uint32_t c = 100; c <= 101; c++) {
		const struct wire_seg_data *got = &only(WIRE_SEG_DATA, c, STREAM)->m.u.seg;
		assert_int_equal(got->seq, 42);
		assert_int_equal(got->hops, 4);
		assert_int_equal(got->origin_us, REAL0);
		assert_int_equal(got->checksum, 42);
	}
	/* The caller's segment is not changed on the way. */
	assert_int_equal(sd.hops, 3);

	clear();
	sd = seg(43, 255);
	assert_int_equal(inter_push(&fx.in, STREAM, &sd), 2);
	assert_int_equal(find(WIRE_SEG_DATA, 100)->m.u.seg.hops, 255);

	clear();
	assert_int_equal(inter_push(&fx.in, OTHER, &sd), 0);
	assert_int_equal(fx.nout, 0);
}

/* A leaving peer tells its own push children, so they do not wait out the
 * silence timeout, and gives their key-node slots back. */
static void test_leave_tells_push_children(void **state)
{
	start(30, 1, 0);
	ask(30, 100, 1, 1, T0);
	ask(30, 101, 2, 1, T0);
	assert_int_equal(fx.in.nchild, 2);
	clear();
	inter_leave(&fx.in);
	check_cut(100, STREAM);
	check_cut(101, STREAM);
	assert_int_equal(fx.in.nchild, 0);
	for (int c = 0; c < KEYNODE_CLASSES; c++)
		assert_int_equal(fx.in.kn.used[c], 0);
}

static void test_push_without_children(void **state)
{
	start(30, 1, 0);
	struct wire_seg_data sd = seg(1, 1);
	assert_int_equal(inter_push(&fx.in, STREAM, &sd), 0);
	assert_int_equal(fx.nout, 0);
}

/* ---- reverse tracing ---- */

static void test_peer0_probes(void **state)
{
	start(P0, 1, 0);
	NEIGHBOURS(20, 21, 22, 23, 24, 25, 26, 27, 28, 29);
	inter_tick(&fx.in, 40000, REAL0, T0);
	assert_int_equal(fx.nout, INTER_PROBE_J);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
	for (int i = 0; i < fx.nout; i++) {
		const struct sent *s = &fx.out[i];
		assert_true(s->to.id >= 20 && s->to.id <= 29);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(fx.out[j].to.id, s->to.id);
		assert_int_equal(s->m.hdr.stream, 0);
		assert_int_equal(s->m.hdr.sender, P0);
		const struct wire_probe *p = &s->m.u.probe;
		assert_int_equal(p->seq, 1);
		assert_int_equal(p->peer0.id, P0);
		assert_int_equal(p->peer0.ip, addr(P0).ip);
		assert_int_equal(p->ts0_us, REAL0);
		assert_int_equal(p->source_id, SRC);
		assert_int_equal(p->last_delay_us, 40000);
		assert_true(p->ttl > 0 && p->ttl <= 7);
		assert_int_equal(p->nhops, 0);
	}
	assert_int_equal(fx.in.probes_sent, 1);

	/* Not every tick: probing is paced. */
	clear();
	inter_tick(&fx.in, 40000, REAL0 + SEC, T0 + SEC);
	assert_int_equal(fx.nout, 0);
	inter_tick(&fx.in, 40000, REAL0 + 10 * SEC, T0 + 10 * SEC);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
	assert_int_equal(fx.out[0].m.u.probe.seq, 2);

	/* Fewer neighbours than j: each gets one. */
	clear();
	NEIGHBOURS(20, 21);
	inter_tick(&fx.in, 40000, REAL0 + 20 * SEC, T0 + 20 * SEC);
	assert_int_equal(count(WIRE_PROBE), 2);
	assert_non_null(find(WIRE_PROBE, 20));
	assert_non_null(find(WIRE_PROBE, 21));
}

/* ADL sets how often a peer short of backups probes: once a window (30 s)
 * shows none of its contacts leaving it probes every 20 s, and one whose
 * contacts leave keeps probing every 5 s. */
static void test_adl_paces_probes(void **state)
{
	uint64_t probes[2];
	for (int churn = 0; churn <= 1; churn++) {
		start(P0, 1, 0);
		NEIGHBOURS(20, 21, 22, 23, 24, 25, 26, 27, 28, 29);
		fx.partners = 4;
		for (uint64_t t = 0; t <= 31; t++) {
			if (churn && t == 10)
				inter_on_cut(&fx.in, 0, 29, T0 + t * SEC);
			inter_tick(&fx.in, 40000, REAL0 + t * SEC, T0 + t * SEC);
			clear();
		}
		assert_true(fx.in.adl.known);
		uint64_t before = fx.in.probes_sent;
		for (uint64_t t = 32; t <= 51; t++) {
			inter_tick(&fx.in, 40000, REAL0 + t * SEC, T0 + t * SEC);
			clear();
		}
		probes[churn] = fx.in.probes_sent - before;
	}
	assert_int_equal(probes[0], 1); /* at 45 s, 20 s after the last */
	assert_int_equal(probes[1], 4); /* at 35, 40, 45, 50 s */
}

/* A full backup set does not stop the optimization: a faster path is
 * still traced, at the slow period while the path delivers as it did when
 * it came up, at the ADL's once it delivers clearly slower (delay
 * feedback) or the backup set runs short (the paper's trigger). */
static void test_probe_with_backup(void **state)
{
	start(P0, 1, 0);
	NEIGHBOURS(20, 21, 22, 23);
	active_via(40, 7, T0);
	struct wire_addr par = addr(40);
	offered(8, 50, 25000, T0); /* no faster than the active path */
	assert_int_equal(fx.in.nbackup, 1);
	pushed_from(&par, 20000, T0 + 4 * SEC);
	inter_tick(&fx.in, 40000, REAL0 + 4 * SEC, T0 + 4 * SEC);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
	/* Not at the ADL's period (5 s, unknown yet) but at ADL_SLOW x 5 s. */
	for (uint64_t t = 9; t <= 23; t += 7) {
		clear();
		pushed_from(&par, 20000, T0 + t * SEC);
		inter_tick(&fx.in, 40000, REAL0 + t * SEC, T0 + t * SEC);
		assert_int_equal(count(WIRE_PROBE), 0);
	}
	pushed_from(&par, 20000, T0 + 24 * SEC);
	inter_tick(&fx.in, 40000, REAL0 + 24 * SEC, T0 + 24 * SEC);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
	assert_int_equal(fx.in.nbackup, 1);
	/* Bounded by the delay a replacement must beat: the 20 ms the path
	 * delivers (its offer carried no trace delay) less 10, not LastDelay. */
	for (int i = 0; i < fx.nout; i++)
		if (fx.out[i].m.hdr.type == WIRE_PROBE)
			assert_int_equal(fx.out[i].m.u.probe.last_delay_us, 10000);
	/* The backup's hop left: the set is short, the ADL's period holds. */
	clear();
	inter_on_cut(&fx.in, 0, 50, T0 + 28 * SEC);
	assert_int_equal(fx.in.nbackup, 0);
	pushed_from(&par, 20000, T0 + 29 * SEC);
	inter_tick(&fx.in, 40000, REAL0 + 29 * SEC, T0 + 29 * SEC);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
	/* A backup again, and the path delivers 40 ms, clearly slower than
	 * the 20 it came up with: traced at the ADL's period too. */
	offered(9, 51, 35000, T0 + 30 * SEC); /* no clear gain on 40 ms */
	assert_int_equal(fx.in.nbackup, 1);
	clear();
	pushed_from(&par, 40000, T0 + 34 * SEC);
	inter_tick(&fx.in, 40000, REAL0 + 34 * SEC, T0 + 34 * SEC);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
	assert_false(fx.in.replacing);
	/* Within the margin of nothing, there is nothing to trace for. */
	clear();
	pushed_from(&par, 40000, T0 + 39 * SEC);
	inter_tick(&fx.in, 9000, REAL0 + 39 * SEC, T0 + 39 * SEC);
	assert_int_equal(count(WIRE_PROBE), 0);
}

static void test_no_probe_without_last_delay(void **state)
{
	start(P0, 1, 0);
	NEIGHBOURS(20, 21, 22, 23);
	/* Without a LastDelay a trace would have no bound: wait for one. */
	inter_tick(&fx.in, 0, REAL0, T0);
	assert_int_equal(fx.nout, 0);
	inter_tick(&fx.in, 30000, REAL0 + 10 * MS, T0 + 10 * MS);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
}

/* A peer with a path traces for a backup: its parent, through which no
 * backup may go, is not asked. */
/* Peer_0 asks its own parent too: a faster way through it is the
 * optimization's to find. */
static void test_probe_asks_parent(void **state)
{
	start(P0, 1, 0);
	NEIGHBOURS(40, 41, 42);
	active_via(40, 7, T0);
	struct wire_addr par = addr(40);
	pushed_from(&par, 20000, T0 + 5 * SEC - 10 * MS);
	clear();
	inter_tick(&fx.in, 30000, REAL0 + 5 * SEC, T0 + 5 * SEC);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
	assert_non_null(find(WIRE_PROBE, 40));
}

static void test_probe_forwarded_once(void **state)
{
	start(20, 1, 0);
	NEIGHBOURS(40, 41, 42, 43);
	struct wire_probe p = PROBE(7, 5, WIDE, 30);
	struct wire_addr from = addr(30);
	inter_on_probe(&fx.in, &p, &from, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
	/* A later copy of the same probe, by another way, goes no further. */
	clear();
	struct wire_probe q = PROBE(7, 5, WIDE, 31);
	struct wire_addr from2 = addr(31);
	inter_on_probe(&fx.in, &q, &from2, 1, REAL0 + 30 * MS, T0);
	assert_int_equal(fx.nout, 0);
	/* Another probe of the same peer does. */
	struct wire_probe r = PROBE(8, 5, WIDE, 31);
	inter_on_probe(&fx.in, &r, &from2, 1, REAL0 + 30 * MS, T0);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
}

static void test_probe_forwarded(void **state)
{
	start(20, 1, 0);
	/* P0 and 30 are on the trace already. */
	NEIGHBOURS(P0, 30, 40, 41, 42, 43);
	int chosen[4] = {0};
	for (int round = 0; round < 50; round++) {
		clear();
		struct wire_probe p = PROBE(7, 5, WIDE, 30);
		p.seq = 100 + (uint32_t)round; /* each probe is forwarded once */
		struct wire_addr from = addr(30);
		/* A second apart: within the forwarding budget. */
		inter_on_probe(&fx.in, &p, &from, 1, REAL0 + 25 * MS, T0 + (uint64_t)round * SEC);
		assert_int_equal(fx.nout, INTER_PROBE_J);
		for (int i = 0; i < fx.nout; i++) {
			const struct sent *s = &fx.out[i];
			assert_int_equal(s->m.hdr.type, WIRE_PROBE);
			assert_true(s->to.id >= 40 && s->to.id <= 43);
			for (int j = 0; j < i; j++)
				assert_int_not_equal(fx.out[j].to.id, s->to.id);
			chosen[s->to.id - 40]++;
			const struct wire_probe *q = &s->m.u.probe;
			assert_int_equal(q->seq, 100 + (uint32_t)round);
			assert_int_equal(q->peer0.id, P0);
			assert_int_equal(q->ts0_us, REAL0);
			assert_int_equal(q->source_id, SRC);
			assert_int_equal(q->ttl, 4);
			assert_int_equal(q->nhops, 2);
			assert_int_equal(q->hops[0].addr.id, 30);
			assert_int_equal(q->hops[0].arrival_us, REAL0 + 10 * MS);
			assert_int_equal(q->hops[1].addr.id, 20);
			assert_int_equal(q->hops[1].addr.ip, addr(20).ip);
			assert_int_equal(q->hops[1].arrival_us, REAL0 + 25 * MS);
		}
	}
	/* j random neighbours, not always the same ones. */
	for (int i = 0; i < 4; i++)
		assert_true(chosen[i] > 0);

	/* Only one neighbour is off the trace. */
	clear();
	NEIGHBOURS(P0, 30, 40);
	struct wire_probe p = PROBE(8, 5, WIDE, 30);
	struct wire_addr from = addr(30);
	inter_on_probe(&fx.in, &p, &from, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(fx.nout, 1);
	assert_non_null(find(WIRE_PROBE, 40));

	clear();
	NEIGHBOURS(P0, 30);
	p.seq = 9;
	inter_on_probe(&fx.in, &p, &from, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(fx.nout, 0);
}

/* A node forwards a trace only where the path set-up it leads to would be
 * admitted: it could take the probe's last hop as its push child. */
static void test_probe_needs_room(void **state)
{
	start(20, 1, 0); /* watches STREAM, 10 connections */
	NEIGHBOURS(40, 41, 42, 43);
	struct wire_addr from = addr(30);
	uint32_t seq = 1;
	struct wire_probe p = PROBE(seq, 5, WIDE, 30);
	/* The partners' pulls hold every connection: no room for a child. */
	pulled(10);
	inter_on_probe(&fx.in, &p, &from, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(fx.nout, 0);
	assert_int_equal(fx.in.probes_declined, 1);
	/* One connection free: forwarded. */
	pulled(9);
	p.seq = ++seq;
	inter_on_probe(&fx.in, &p, &from, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
	/* Not playing yet: it could push nothing. */
	clear();
	p.seq = ++seq;
	inter_on_probe(&fx.in, &p, &from, 0, REAL0 + 25 * MS, T0);
	assert_int_equal(fx.nout, 0);
	/* Full, but 30 is already its push child: no new slot needed. */
	pulled(0);
	ask(20, 30, 90, 1, T0);
	assert_int_equal(fx.in.nchild, 1);
	pulled(10);
	clear();
	p.seq = ++seq;
	inter_on_probe(&fx.in, &p, &from, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);

	/* Another stream's trace, at a node that relays none (anysee-intra). */
	pulled(0);
	fx.in.own_only = 1;
	clear();
	p.seq = ++seq;
	p.source_id = 77;
	inter_on_probe(&fx.in, &p, &from, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(fx.nout, 0);
	fx.in.own_only = 0;
	p.seq = ++seq;
	inter_on_probe(&fx.in, &p, &from, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
}

/* A node the stream is pushed to sends a trace up its own path, not on
 * to j neighbours: the set-up would stop there anyway. */
static void test_probe_follows_push_path(void **state)
{
	start(P0, 1, 0);
	NEIGHBOURS(40, 41, 42, 43);
	active_via(25, 3, T0);
	struct wire_addr from = addr(30), parent = addr(25);
	struct wire_probe p = PROBE(7, 5, WIDE, 30);
	p.peer0 = addr(11);
	/* Accepted but nothing pushed yet: it floods as a pulling node does. */
	inter_on_probe(&fx.in, &p, &from, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
	assert_null(find(WIRE_PROBE, 25));
	pushed_from(&parent, 30 * MS, T0);
	clear();
	p.seq = 8;
	inter_on_probe(&fx.in, &p, &from, 1, REAL0 + 25 * MS, T0);
	const struct wire_probe *q = &only(WIRE_PROBE, 25, 0)->m.u.probe;
	assert_int_equal(fx.nout, 1);
	assert_int_equal(q->nhops, 2);
	assert_int_equal(q->hops[1].addr.id, P0);
	assert_int_equal(q->ttl, 4);
	assert_int_equal(fx.in.probes_followed, 1);
	/* The bound still holds on the way up. */
	clear();
	p.seq = 9;
	p.last_delay_us = 20 * MS;
	inter_on_probe(&fx.in, &p, &from, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(fx.nout, 0);
	/* A trace that already went through the parent loops: it ends. */
	clear();
	p = PROBE(10, 5, WIDE, 25, 30);
	p.peer0 = addr(11);
	inter_on_probe(&fx.in, &p, &from, 1, REAL0 + 35 * MS, T0);
	assert_int_equal(fx.nout, 0);

	/* A relay sends another stream's trace to its parent on that stream. */
	start(40, 1, 0);
	NEIGHBOURS(41, 42, 43, 44);
	relay_for((const uint32_t[]){50}, 1, T0);
	struct wire_probe r = PROBE(11, 5, WIDE, 60);
	struct wire_addr from60 = addr(60);
	inter_on_probe(&fx.in, &r, &from60, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(fx.nout, 1);
	assert_int_equal(only(WIRE_PROBE, 30, 0)->m.u.probe.hops[1].addr.id, 40);
}

/* A full source keeps no trace: it could not push to the path's first hop. */
static void test_full_source_offers_nothing(void **state)
{
	start(SRC, 1, 1);
	pulled(10);
	struct wire_probe p = PROBE(7, 6, WIDE, 20);
	struct wire_addr from = addr(20);
	inter_on_probe(&fx.in, &p, &from, 1, p.ts0_us + 30 * MS, T0);
	inter_tick(&fx.in, 0, REAL0 + SEC, T0 + SEC);
	assert_int_equal(count(WIRE_PATH_SETUP), 0);
	pulled(9);
	p.seq = 8;
	inter_on_probe(&fx.in, &p, &from, 1, p.ts0_us + 30 * MS, T0 + SEC);
	inter_tick(&fx.in, 0, REAL0 + 2 * SEC, T0 + 2 * SEC);
	assert_int_equal(count(WIRE_PATH_SETUP), 1);
}

static int forwards(const struct wire_probe *p, uint64_t now_real)
{
	static uint32_t fresh = 1000;
	clear();
	/* A new sequence each time: a node forwards any one probe only once. */
	struct wire_probe q = *p;
	q.seq = fresh++;
	struct wire_addr from = q.nhops ? q.hops[q.nhops - 1].addr : q.peer0;
	inter_on_probe(&fx.in, &q, &from, 1, now_real, T0);
	return count(WIRE_PROBE);
}

static void test_probe_stops_when_slower(void **state)
{
	start(20, 1, 0);
	NEIGHBOURS(40, 41, 42, 43);
	struct wire_probe p = PROBE(7, 5, 50000, 30);
	assert_int_equal(forwards(&p, REAL0 + 50001), 0);
	assert_int_equal(forwards(&p, REAL0 + 50000), INTER_PROBE_J);
	assert_int_equal(forwards(&p, REAL0 + 20000), INTER_PROBE_J);
	/* No peer sends a probe without a bound (it waits for a LastDelay):
	 * one would flood to its TTL. */
	p.last_delay_us = 0;
	assert_int_equal(forwards(&p, REAL0 + 10 * MS), 0);
	assert_int_equal(fx.in.probes_refused, 1);
}

/* Probe seq from peer id after one hop (id), made at t and here 25 ms
 * later: the copies this node sent on. */
static int probe_at(uint32_t id, uint32_t seq, uint64_t t)
{
	struct wire_addr from = addr(id);
	struct wire_probe p = PROBE(seq, 5, WIDE, id);
	p.ts0_us = REAL0 + t;
	clear();
	inter_on_probe(&fx.in, &p, &from, 1, REAL0 + t + 25 * MS, T0 + t);
	return count(WIRE_PROBE);
}

/* Probes 1 to n after one hop, all at once, from senders that take turns
 * (or from 30 alone): the copies this node sent on. */
static int probes_sent_on(uint32_t n, int nsenders)
{
	int sent = 0;
	for (uint32_t seq = 1; seq <= n; seq++) {
		clear();
		uint32_t id = 30 + seq % (uint32_t)nsenders;
		struct wire_addr from = addr(id);
		struct wire_probe p = PROBE(seq, 5, WIDE, id);
		inter_on_probe(&fx.in, &p, &from, 1, REAL0 + 25 * MS, T0);
		sent += count(WIRE_PROBE);
	}
	return sent;
}

/* Others' probes go on within INTER_PROBE_SHARE of the stream's rate: at
 * 300 kbit/s the budget fills at 375 bytes a second and holds 22,500 (a
 * minute). A probe that reached this node after one hop goes on with two,
 * 81 bytes a copy and 109 on the network (IP and UDP headers), 327 to
 * j = 3 neighbours: from two senders in turn, 68 probes go on to three,
 * the 69th to the two that the 264 bytes left afford, and the 31 after it
 * to none. */
static void test_probe_budget(void **state)
{
	start(20, 1, 0);
	NEIGHBOURS(40, 41, 42, 43);
	assert_int_equal(probes_sent_on(100, 2), 68 * 3 + 2);
	assert_int_equal(fx.in.probes_forwarded, 206);
	/* The log counts the codec's bytes, as the capture's datagrams. */
	assert_int_equal(fx.in.probe_fwd_bytes, 206 * 81);
	assert_int_equal(fx.in.probes_over_budget, 32);
	/* Taking turns, neither sender had more than half while there were
	 * bytes left; of the 31 after, 31's fifteen (it sent the 69th on,
	 * 11,336 bytes of 22,454) are counted as over its half. */
	assert_int_equal(fx.in.probes_over_share, 15);
	/* 46 + 741 bytes 1.975 s later: 30 sent on less than half (11,118
	 * bytes of 22,454), so its probe goes on to three; then it had more
	 * than half (11,445 of 22,781), and its next is held back though the
	 * bucket affords four copies (460 bytes). */
	assert_int_equal(probe_at(30, 101, 2 * SEC - 25 * MS), 3);
	assert_int_equal(probe_at(30, 102, 2 * SEC - 25 * MS), 0);
	assert_int_equal(fx.in.probes_over_budget, 33);
	assert_int_equal(fx.in.probes_over_share, 16);
	/* A flood of 100 probes a second from 30 for 10 s gets nothing while
	 * the bucket is under half full, and the refill (3,750 bytes) is left
	 * for the others: 31's trace goes on. */
	uint64_t before = fx.in.probe_fwd_bytes;
	for (uint32_t i = 0; i < 1000; i++)
		probe_at(30, 200 + i, 20 * SEC + (uint64_t)i * 10 * MS);
	assert_int_equal(fx.in.probe_fwd_bytes, before);
	assert_int_equal(fx.in.probes_over_share, 1016);
	assert_int_equal(probe_at(31, 2000, 30 * SEC), 3);
	/* The node's own probes are paced by the probing interval, not by
	 * the budget others' probes used up, and are charged to it: three
	 * copies of a probe with no hop yet, 45 bytes and 73 on the network. */
	double left = fx.in.probe_budget.tokens;
	clear();
	inter_tick(&fx.in, 40000, REAL0 + 30 * SEC, T0 + 30 * SEC);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
	assert_true(left - fx.in.probe_budget.tokens == 3 * 73);
}

/* One sender alone spends the bucket down to half: the 35th probe finds
 * 11,382 bytes of 22,500 and goes on, the 36th finds 11,055 and does
 * not; a minute later the bucket is full again and its probes go on. */
static void test_probe_budget_one_sender(void **state)
{
	start(20, 1, 0);
	NEIGHBOURS(40, 41, 42, 43);
	assert_int_equal(probes_sent_on(100, 1), 35 * 3);
	assert_int_equal(fx.in.probes_over_share, 65);
	assert_int_equal(probe_at(30, 101, 60 * SEC), 3);
	assert_int_equal(fx.in.probes_over_share, 65);
}

/* A node that has just traced sends on less of others': its own three
 * copies took 219 bytes, so the 35th probe of one sender finds 11,163
 * bytes of 22,500, under half, and is held back where without them it
 * would go on (above). */
static void test_probe_budget_own_probes(void **state)
{
	start(20, 1, 0);
	NEIGHBOURS(40, 41, 42, 43);
	clear();
	inter_tick(&fx.in, 40000, REAL0, T0);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
	assert_int_equal(probes_sent_on(100, 1), 34 * 3);
}

/* Two senders flooding together, by turns, while a third asks now and
 * then: below half of the bucket each of the three may have a third of
 * what was sent on, and the two have spent more than the third has, so
 * the half left goes to the third's traces, not to the flood. (With the
 * half of test_probe_budget as the share, the two would empty the
 * bucket.) */
static void test_probe_budget_colluders(void **state)
{
	start(20, 1, 0);
	NEIGHBOURS(40, 41, 42, 43);
	assert_int_equal(probe_at(32, 1, 0), 3);
	int flood = 0;
	for (uint32_t i = 0; i < 200; i++)
		flood += probe_at(30 + i % 2, 100 + i, 0);
	/* The flood got down to half of the bucket and stopped there. */
	assert_true(flood * 109 <= 22500 / 2 + 3 * 109);
	assert_true(fx.in.probes_over_share >= 150);
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(probe_at(32, 2 + i, (uint64_t)i * SEC), 3);
}

/* A peer told a larger share (--probe-share 0.1) holds ten times the
 * budget, 225,000 bytes: the hundred probes of which the default sends 277
 * copies (above) all go on to j neighbours. */
static void test_probe_share_set(void **state)
{
	start(20, 1, 0);
	fx.in.probe_share = 0.1;
	NEIGHBOURS(40, 41, 42, 43);
	assert_int_equal(probes_sent_on(100, 1), 300);
	assert_int_equal(fx.in.probes_over_budget, 0);
}

/* Probes no peer sends are refused: the trace must end in its sender (the
 * sender's id is verified by the node), Peer_0 must be the sender of a
 * trace with no hops yet, and the stamp must not come from the future. */
static void test_probe_forgeries_refused(void **state)
{
	start(20, 1, 0);
	NEIGHBOURS(40, 41, 42, 43);
	struct wire_probe p = PROBE(1, 5, WIDE, 30);
	struct wire_addr other = addr(31);
	inter_on_probe(&fx.in, &p, &other, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(fx.nout, 0);
	struct wire_probe first = PROBE(2, 7, WIDE);
	inter_on_probe(&fx.in, &first, &other, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(fx.nout, 0);
	struct wire_probe ahead = PROBE(3, 5, WIDE, 30);
	ahead.ts0_us = REAL0 + 25 * MS + INTER_PROBE_SKEW_US + 1;
	struct wire_addr from = addr(30);
	inter_on_probe(&fx.in, &ahead, &from, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(fx.nout, 0);
	assert_int_equal(fx.in.probes_refused, 3);
	/* The same probes as peers send them go on. */
	struct wire_addr p0 = addr(P0);
	inter_on_probe(&fx.in, &first, &p0, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
	clear();
	ahead.ts0_us = REAL0 + 25 * MS + INTER_PROBE_SKEW_US;
	inter_on_probe(&fx.in, &ahead, &from, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
	assert_int_equal(fx.in.probes_refused, 3);
}

static void test_probe_stops_at_ttl(void **state)
{
	start(20, 1, 0);
	NEIGHBOURS(40, 41, 42, 43);
	struct wire_probe p = PROBE(7, 0, WIDE, 30);
	assert_int_equal(forwards(&p, REAL0 + 20 * MS), 0);
	p.ttl = 1;
	assert_int_equal(forwards(&p, REAL0 + 20 * MS), INTER_PROBE_J);
	assert_int_equal(fx.out[0].m.u.probe.ttl, 0);
}

static void test_probe_stops_when_trace_full(void **state)
{
	start(20, 1, 0);
	NEIGHBOURS(40, 41, 42, 43);
	/* One slot left: it is kept for the source's own stamp. */
	struct wire_probe p = PROBE(7, 7, WIDE, 31, 32, 33, 34, 35, 36, 37);
	assert_int_equal(p.nhops, WIRE_MAX_HOPS - 1);
	assert_int_equal(forwards(&p, REAL0 + 90 * MS), 0);
	p = PROBE(7, 7, WIDE, 31, 32, 33, 34, 35, 36);
	assert_int_equal(forwards(&p, REAL0 + 90 * MS), INTER_PROBE_J);
	assert_int_equal(fx.out[0].m.u.probe.nhops, WIRE_MAX_HOPS - 1);
	assert_int_equal(fx.out[0].m.u.probe.hops[WIRE_MAX_HOPS - 2].addr.id, 20);
}

static void test_probe_loops_ignored(void **state)
{
	start(20, 1, 0);
	NEIGHBOURS(40, 41, 42, 43);
	struct wire_probe p = PROBE(7, 5, WIDE, 30, 20, 31);
	assert_int_equal(forwards(&p, REAL0 + 50 * MS), 0);

	/* Peer_0's own probe coming back. */
	start(P0, 1, 0);
	p = PROBE(7, 5, WIDE, 30, 31);
	assert_int_equal(forwards(&p, REAL0 + 50 * MS), 0);
}

/* ---- the source's choice ---- */

static void deliver_to_source(struct wire_probe *p, uint64_t delay_us)
{
	struct wire_addr from = p->hops[p->nhops - 1].addr;
	inter_on_probe(&fx.in, p, &from, 1, p->ts0_us + delay_us, T0 + delay_us);
}

static void test_source_offers_fastest(void **state)
{
	start(SRC, 1, 1);
	NEIGHBOURS(20, 30, 40, 50);
	struct wire_probe fast = PROBE(7, 4, WIDE, 50, 60, 70);
	struct wire_probe mid = PROBE(7, 6, WIDE, 20);
	struct wire_probe slow = PROBE(7, 5, WIDE, 30, 40);
	deliver_to_source(&fast, 30 * MS);
	deliver_to_source(&mid, 50 * MS);
	deliver_to_source(&slow, 80 * MS);
	/* The source collects; it never forwards. */
	assert_int_equal(fx.nout, 0);

	inter_tick(&fx.in, 0, REAL0 + 329 * MS, T0 + 30 * MS + 299999);
	assert_int_equal(fx.nout, 0);
	inter_tick(&fx.in, 0, REAL0 + 330 * MS, T0 + 30 * MS + 300000);
	/* The fastest, and the fastest through another neighbour of P0 (20,
	 * not 30: 50 ms against 80). */
	assert_int_equal(fx.nout, 2);
	assert_int_equal(count(WIRE_PATH_SETUP), 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(fx.out[i].to.ip, addr(P0).ip);
	CHECK_PATH(&fx.out[0].m.u.path, 7, SRC, 70, 60, 50, P0);
	assert_int_equal(fx.out[0].m.u.path.delay_us, 30 * MS);
	CHECK_PATH(&fx.out[1].m.u.path, 7, SRC, 20, P0);
	assert_int_equal(fx.out[1].m.u.path.delay_us, 50 * MS);

	/* One offer per collection. */
	clear();
	inter_tick(&fx.in, 0, REAL0 + 2 * SEC, T0 + 2 * SEC);
	assert_int_equal(fx.nout, 0);
}

/* The second offer avoids the first one's hop next to P0, in whatever
 * order the traces arrive. */
static void test_source_second_offer_other_entry(void **state)
{
	start(SRC, 1, 1);
	struct wire_probe a = PROBE(7, 6, WIDE, 20, 21);
	struct wire_probe b = PROBE(7, 6, WIDE, 20);
	struct wire_probe via = PROBE(7, 6, WIDE, 22, 20);
	deliver_to_source(&a, 60 * MS);
	deliver_to_source(&b, 40 * MS);
	deliver_to_source(&via, 50 * MS);
	inter_tick(&fx.in, 0, REAL0 + SEC, T0 + SEC);
	/* All through 20, one of them entering P0 elsewhere: one offer. */
	assert_int_equal(count(WIRE_PATH_SETUP), 1);
	CHECK_PATH(&fx.out[0].m.u.path, 7, SRC, 20, P0);

	clear();
	struct wire_probe c = PROBE(8, 6, WIDE, 30);
	struct wire_probe d = PROBE(8, 6, WIDE, 20, 21);
	struct wire_probe e = PROBE(8, 6, WIDE, 20);
	deliver_to_source(&c, 50 * MS); /* best, then second when e comes */
	deliver_to_source(&d, 45 * MS); /* best through 20 */
	deliver_to_source(&e, 30 * MS); /* best through 20 again */
	inter_tick(&fx.in, 0, REAL0 + 2 * SEC, T0 + 2 * SEC);
	assert_int_equal(count(WIRE_PATH_SETUP), 2);
	CHECK_PATH(&fx.out[0].m.u.path, 8, SRC, 20, P0);
	CHECK_PATH(&fx.out[1].m.u.path, 8, SRC, 30, P0);
}

static void test_source_collections_apart(void **state)
{
	start(SRC, 1, 1);
	struct wire_probe a = PROBE(7, 6, WIDE, 20);
	struct wire_probe b = PROBE(7, 6, WIDE, 30);
	struct wire_probe c = PROBE(8, 6, WIDE, 40);
	b.peer0 = addr(11);
	deliver_to_source(&a, 40 * MS);
	deliver_to_source(&b, 20 * MS);
	deliver_to_source(&c, 10 * MS);
	/* A probe for another source passes on like anywhere else. */
	NEIGHBOURS(60);
	struct wire_probe other = PROBE(9, 6, WIDE, 50);
	other.source_id = 2;
	deliver_to_source(&other, 10 * MS);
	assert_int_equal(count(WIRE_PROBE), 1);

	clear();
	inter_tick(&fx.in, 0, REAL0 + SEC, T0 + SEC);
	assert_int_equal(count(WIRE_PATH_SETUP), 3);
	int seen7 = 0, seen8 = 0;
	for (int i = 0; i < fx.nout; i++) {
		const struct wire_path_setup *ps = &fx.out[i].m.u.path;
		assert_int_equal(ps->hops[ps->nhops - 1].id, fx.out[i].to.id);
		if (fx.out[i].to.id == 11) {
			CHECK_PATH(ps, 7, SRC, 30, 11);
		} else if (ps->seq == 7) {
			CHECK_PATH(ps, 7, SRC, 20, P0);
			seen7 = 1;
		} else {
			CHECK_PATH(ps, 8, SRC, 40, P0);
			seen8 = 1;
		}
	}
	assert_true(seen7 && seen8);
	assert_non_null(find(WIRE_PATH_SETUP, 11));
}

/* ---- building a path at Peer_0 ---- */

static void test_peer0_backup_promoted(void **state)
{
	start(P0, 1, 0);
	struct wire_path_setup offer = PATH(7, SRC, 70, 60, P0);
	struct wire_addr src = addr(SRC), stranger = addr(99);
	inter_on_path_setup(&fx.in, STREAM, &offer, &src, 0, T0);
	assert_int_equal(fx.nout, 0);
	assert_int_equal(fx.in.nbackup, 1);
	assert_false(fx.in.have_active);

	/* Offers not from our stream's source are not taken. */
	inter_on_path_setup(&fx.in, STREAM, &offer, &stranger, 0, T0);
	inter_on_path_setup(&fx.in, OTHER, &offer, &src, 0, T0);
	struct wire_path_setup forged = PATH(8, 99, 70, P0);
	inter_on_path_setup(&fx.in, STREAM, &forged, &src, 0, T0);
	inter_on_path_setup(&fx.in, STREAM, &forged, &stranger, 0, T0);
	assert_int_equal(fx.in.nbackup, 1);

	inter_tick(&fx.in, 0, REAL0 + 10 * MS, T0 + 10 * MS);
	assert_int_equal(count(WIRE_PATH_SETUP), 1);
	const struct sent *s = only(WIRE_PATH_SETUP, 60, STREAM);
	CHECK_PATH(&s->m.u.path, 7, SRC, 70, 60, P0);
	assert_true(fx.in.have_active);
	assert_int_equal(fx.in.nbackup, 0);

	/* Only the next hop's answer to this setup counts. */
	struct wire_addr hop = addr(60), far = addr(70);
	inter_on_relay_answer(&fx.in, STREAM, 1, 7, &far, T0 + 20 * MS);
	inter_on_relay_answer(&fx.in, STREAM, 1, 6, &hop, T0 + 20 * MS);
	assert_int_equal(fx.in.paths_built, 0);
	inter_on_relay_answer(&fx.in, STREAM, 1, 7, &hop, T0 + 20 * MS);
	assert_int_equal(fx.in.paths_built, 1);

	pushed_from(&far, 20000, T0 + 30 * MS);
	assert_false(fx.in.active_up);
	pushed_from(&hop, 20000, T0 + 30 * MS);
	assert_true(fx.in.active_up);
}

static void test_peer0_refused(void **state)
{
	start(P0, 1, 0);
	struct wire_path_setup offer = PATH(7, SRC, 60, P0);
	struct wire_addr src = addr(SRC), hop = addr(60);
	inter_on_path_setup(&fx.in, STREAM, &offer, &src, 0, T0);
	inter_tick(&fx.in, 0, REAL0, T0);
	inter_on_relay_answer(&fx.in, STREAM, 0, 7, &hop, T0 + 20 * MS);
	assert_false(fx.in.have_active);
	assert_int_equal(fx.in.paths_built, 0);
}

/* ---- admission at a hop that has the stream ---- */

static void test_hop_admits_within_limits(void **state)
{
	start(30, 1, 0);
	int limit = fx.in.kn.alloc[KEYNODE_WATCH];
	assert_true(limit >= 1 && limit <= fx.in.kn.n);
	for (int i = 0; i < limit; i++) {
		clear();
		ask(30, 100 + (uint32_t)i, 50 + (uint32_t)i, 1, T0);
		assert_int_equal(fx.nout, 1);
		assert_int_equal(only(WIRE_RELAY_ACCEPT, 100 + (uint32_t)i, STREAM)->m.u.simple.seq,
		                 50 + (uint32_t)i);
	}
	for (int i = 0; i < 3; i++) {
		clear();
		ask(30, 200 + (uint32_t)i, 60 + (uint32_t)i, 1, T0);
		assert_int_equal(fx.nout, 1);
		const struct wire_msg *r = &only(WIRE_RELAY_REFUSE, 200 + (uint32_t)i, STREAM)->m;
		assert_int_equal(r->u.simple.seq, 60 + (uint32_t)i);
		assert_int_equal(r->u.simple.reason, WIRE_REFUSE_NO_SLOT);
	}
	assert_int_equal(fx.in.nchild, limit);

	/* A child asking again keeps its slot without taking another. */
	clear();
	ask(30, 100, 70, 1, T0);
	assert_non_null(find(WIRE_RELAY_ACCEPT, 100));
	assert_int_equal(fx.in.nchild, limit);

	/* A child that cuts frees its slot for the next. */
	inter_on_cut(&fx.in, STREAM, 100, T0);
	assert_int_equal(fx.in.nchild, limit - 1);
	clear();
	ask(30, 200, 71, 1, T0);
	assert_non_null(find(WIRE_RELAY_ACCEPT, 200));
	/* And one that leaves altogether. */
	inter_on_cut(&fx.in, 0, 200, T0);
	clear();
	ask(30, 201, 72, 1, T0);
	assert_non_null(find(WIRE_RELAY_ACCEPT, 201));

	struct wire_seg_data sd = seg(5, 2);
	assert_int_equal(inter_push(&fx.in, STREAM, &sd), limit);
}

static void test_hop_checks_sender(void **state)
{
	start(30, 1, 0);
	/* Only the child named after us on the path may ask. */
	struct wire_path_setup ps = PATH(3, SRC, 30, 31, P0);
	struct wire_addr from = addr(P0);
	inter_on_path_setup(&fx.in, STREAM, &ps, &from, 1, T0);
	assert_int_equal(fx.nout, 0);
	from = addr(31);
	inter_on_path_setup(&fx.in, STREAM, &ps, &from, 1, T0);
	only(WIRE_RELAY_ACCEPT, 31, STREAM);
	assert_int_equal(fx.in.nchild, 1);
}

static void test_source_admits(void **state)
{
	start(SRC, 1, 1);
	struct wire_path_setup ps = PATH(3, SRC, 20);
	struct wire_addr from = addr(20);
	inter_on_path_setup(&fx.in, STREAM, &ps, &from, 0, T0);
	assert_int_equal(only(WIRE_RELAY_ACCEPT, 20, STREAM)->m.u.simple.seq, 3);
}

/* The uplink carries N = upload / rate streams, shared by the pull
 * partners served and the push children: a source of 300 kbit/s with
 * 3 Mbit/s (N = 10) whose partners pulled 8 streams' worth pushes to 2
 * children, whatever mode its peers run, and a child that goes frees its
 * connection. */
static void test_source_upload_shared(void **state)
{
	start(SRC, 1, 1);
	pulled(8);
	assert_int_equal(fx.in.conns, 10);
	assert_int_equal(inter_conns_free(&fx.in, inter_pull_held(&fx.in)), 2);
	for (uint32_t c = 20; c < 26; c++) {
		struct wire_path_setup ps = PATH(c, SRC, c);
		struct wire_addr from = addr(c);
		inter_on_path_setup(&fx.in, STREAM, &ps, &from, 0, T0);
	}
	assert_int_equal(fx.in.nchild, 2);
	assert_int_equal(count(WIRE_RELAY_ACCEPT), 2);
	assert_int_equal(count(WIRE_RELAY_REFUSE), 4);
	assert_int_equal(inter_conns_free(&fx.in, inter_pull_held(&fx.in)), 0);
	/* A stream's worth less pulled: one more child. */
	pulled(7);
	clear();
	struct wire_path_setup ps = PATH(30, SRC, 30);
	struct wire_addr from = addr(30);
	inter_on_path_setup(&fx.in, STREAM, &ps, &from, 0, T0);
	only(WIRE_RELAY_ACCEPT, 30, STREAM);
	assert_int_equal(inter_conns_free(&fx.in, inter_pull_held(&fx.in)), 0);
	inter_on_cut(&fx.in, STREAM, 30, T0);
	assert_int_equal(inter_conns_free(&fx.in, inter_pull_held(&fx.in)), 1);
}

/* Partners hold the connections their pulls used, not one each: the
 * busiest second of the window, rounded up to whole streams, so a burst
 * counts until it leaves the window and a trickle holds one. */
static void test_pull_held_measured(void **state)
{
	start(P0, 1, 0); /* 10 connections */
	assert_int_equal(inter_pull_held(&fx.in), 0);
	inter_note_pull(&fx.in, 1); /* one byte: a connection */
	assert_int_equal(inter_pull_held(&fx.in), 1);
	inter_note_pull(&fx.in, (uint64_t)(2.5 * 300000 / 8));
	assert_int_equal(inter_pull_held(&fx.in), 3);
	for (int i = 0; i < INTER_PULL_WINDOW - 1; i++)
		inter_note_pull(&fx.in, 300000 / 8);
	assert_int_equal(inter_pull_held(&fx.in), 3); /* still in the window */
	inter_note_pull(&fx.in, 300000 / 8);
	assert_int_equal(inter_pull_held(&fx.in), 1); /* the burst left */
	pulled(50);
	assert_int_equal(inter_pull_held(&fx.in), 10); /* never over N */
	/* Ten partners that pull a stream between them leave 9 for children:
	 * the fifth child is taken where one per partner would have refused. */
	pulled(1);
	fx.partners = 10;
	for (uint32_t c = 20; c < 25; c++)
		ask(P0, c, 90, 1, T0);
	assert_int_equal(fx.in.nchild, 5);
}

/* ---- relaying a stream this hop does not watch ---- */

static void test_relay_built(void **state)
{
	start(40, 1, 0);
	inter_set_stream(&fx.in, OTHER, 2, 300000, 0);
	struct wire_path_setup ps = PATH(7, SRC, 30, 40, P0);
	struct wire_addr child = addr(P0), parent = addr(30), stranger = addr(31);
	inter_on_path_setup(&fx.in, STREAM, &ps, &child, 0, T0);
	/* The setup goes upstream cut at this hop; the child waits. */
	assert_int_equal(fx.nout, 1);
	CHECK_PATH(&only(WIRE_PATH_SETUP, 30, STREAM)->m.u.path, 7, SRC, 30, 40);
	assert_int_equal(fx.in.nrelay, 1);

	/* Meanwhile another child is refused rather than queued. */
	clear();
	struct wire_path_setup ps2 = PATH(8, SRC, 30, 40, 11);
	struct wire_addr child2 = addr(11);
	inter_on_path_setup(&fx.in, STREAM, &ps2, &child2, 0, T0);
	assert_int_equal(only(WIRE_RELAY_REFUSE, 11, STREAM)->m.u.simple.seq, 8);
	assert_int_equal(find(WIRE_RELAY_REFUSE, 11)->m.u.simple.reason, WIRE_REFUSE_CANNOT_RELAY);

	/* Answers that are not the parent's to this setup change nothing. */
	clear();
	inter_on_relay_answer(&fx.in, STREAM, 1, 7, &stranger, T0);
	inter_on_relay_answer(&fx.in, STREAM, 1, 8, &parent, T0);
	assert_int_equal(fx.nout, 0);

	inter_on_relay_answer(&fx.in, STREAM, 1, 7, &parent, T0 + 10 * MS);
	assert_int_equal(fx.nout, 1);
	assert_int_equal(only(WIRE_RELAY_ACCEPT, P0, STREAM)->m.u.simple.seq, 7);
	assert_int_equal(fx.in.kn.used[KEYNODE_RELAY], 1);

	/* Once the relay runs, further children join without asking upstream. */
	clear();
	inter_on_path_setup(&fx.in, STREAM, &ps2, &child2, 0, T0 + 20 * MS);
	assert_int_equal(fx.nout, 1);
	assert_int_equal(only(WIRE_RELAY_ACCEPT, 11, STREAM)->m.u.simple.seq, 8);
	assert_int_equal(fx.in.relay[0].nchild, 2);
	assert_int_equal(fx.in.kn.used[KEYNODE_RELAY], 2);
}

static void test_relay_refused_upstream(void **state)
{
	start(40, 1, 0);
	inter_set_stream(&fx.in, OTHER, 2, 300000, 0);
	struct wire_path_setup ps = PATH(7, SRC, 30, 40, P0);
	struct wire_addr child = addr(P0), parent = addr(30);
	inter_on_path_setup(&fx.in, STREAM, &ps, &child, 0, T0);
	clear();
	inter_on_relay_answer(&fx.in, STREAM, 0, 7, &parent, T0 + 10 * MS);
	assert_int_equal(only(WIRE_RELAY_REFUSE, P0, STREAM)->m.u.simple.seq, 7);
	assert_int_equal(find(WIRE_RELAY_REFUSE, P0)->m.u.simple.reason, WIRE_REFUSE_UPSTREAM);
	assert_int_equal(fx.in.nrelay, 0);
	assert_int_equal(fx.in.kn.used[KEYNODE_RELAY], 0);
}

/* anysee-intra: a peer relays no stream it does not watch. */
static void test_relay_refused_in_intra_mode(void **state)
{
	start(40, 1, 0);
	fx.in.own_only = 1;
	inter_set_stream(&fx.in, OTHER, 2, 300000, 0);
	struct wire_path_setup ps = PATH(7, SRC, 30, 40, P0);
	struct wire_addr child = addr(P0);
	inter_on_path_setup(&fx.in, STREAM, &ps, &child, 0, T0);
	assert_int_equal(only(WIRE_RELAY_REFUSE, P0, STREAM)->m.u.simple.reason,
	                 WIRE_REFUSE_CANNOT_RELAY);
	assert_int_equal(fx.in.nrelay, 0);
}

static void test_relay_not_at_path_head(void **state)
{
	/* Named as the path's first hop without carrying the stream. */
	start(40, 1, 0);
	inter_set_stream(&fx.in, OTHER, 2, 300000, 0);
	struct wire_path_setup ps = PATH(7, 40, P0);
	struct wire_addr child = addr(P0);
	inter_on_path_setup(&fx.in, STREAM, &ps, &child, 0, T0);
	assert_int_equal(only(WIRE_RELAY_REFUSE, P0, STREAM)->m.u.simple.reason,
	                 WIRE_REFUSE_CANNOT_RELAY);
	assert_int_equal(fx.in.nrelay, 0);
}

static struct auth_key relay_key;

static int fake_stream_key(void *ctx, uint16_t stream, uint8_t key[WIRE_KEY_LEN])
{
	if (stream != STREAM)
		return -1;
	memcpy(key, relay_key.pk, WIRE_KEY_LEN);
	return 0;
}

/* A node relaying signed STREAM from parent 30 to children P0 and 11. */
static void start_signed_relay(void)
{
	start(40, 1, 0);
	fx.in.io.stream_key = fake_stream_key;
	relay_for((const uint32_t[]){P0, 11}, 2, T0);
}

/* With signed media a relay forwards its parent's hash list once it
 * verified it, and then only segments whose hash the list holds: one ahead
 * of its list waits for it and goes on after it; one with other bytes and
 * a list under another key stop there. */
static void test_relay_verifies(void **state)
{
	char e[128];
	struct auth_key other;
	assert_int_equal(auth_keypair(&relay_key, NULL, e, sizeof(e)), 0);
	assert_int_equal(auth_keypair(&other, NULL, e, sizeof(e)), 0);
	start_signed_relay();
	struct wire_addr parent = addr(30), stranger = addr(31);
	uint8_t bytes[2][64];
	memset(bytes, 'x', sizeof(bytes));
	struct wire_seg_data sd[2] = {seg(100, 2), seg(101, 2)};
	sd[1].origin_us += 100000; /* a stream of 10 segments a second */
	struct wire_hash_list hl = {.first = 100, .count = 2}, forged;
	for (int i = 0; i < 2; i++) {
		sd[i].payload = bytes[i];
		sd[i].len = sizeof(bytes[i]);
		auth_seg_hash(STREAM, &sd[i], hl.hash[i]);
	}
	forged = hl;
	auth_sign(&other, STREAM, &forged);
	auth_sign(&relay_key, STREAM, &hl);

	assert_int_equal(inter_on_relay_segment(&fx.in, STREAM, &sd[0], &parent, T0), 1);
	/* Ahead of its list: held, and the parent is asked for it, once a
	 * while. */
	assert_int_equal(only(WIRE_HASH_REQ, 30, STREAM)->m.u.simple.seq, 100);
	assert_int_equal(inter_on_relay_segment(&fx.in, STREAM, &sd[0], &parent, T0 + MS), 1);
	assert_int_equal(count(WIRE_HASH_REQ), 1);
	assert_int_equal(fx.in.relay[0].held, 1);
	clear();
	assert_int_equal(inter_on_relay_list(&fx.in, STREAM, &hl, &stranger, T0 + MS), 1);
	assert_int_equal(inter_on_relay_list(&fx.in, STREAM, &forged, &parent, T0 + MS), 1);
	assert_int_equal(fx.nout, 0);
	/* The list goes on, then the segment that waited for it. */
	assert_int_equal(inter_on_relay_list(&fx.in, STREAM, &hl, &parent, T0 + MS), 1);
	assert_int_equal(fx.nout, 4);
	assert_int_equal(fx.out[0].m.hdr.type, WIRE_HASH_LIST);
	assert_int_equal(fx.out[1].m.hdr.type, WIRE_HASH_LIST);
	assert_int_equal(count(WIRE_SEG_DATA), 2);
	assert_int_equal(inter_on_relay_list(&fx.in, STREAM, &hl, &parent, T0 + MS), 1);
	assert_int_equal(fx.nout, 4);
	clear();
	assert_int_equal(inter_on_relay_segment(&fx.in, STREAM, &sd[0], &parent, T0), 1);
	assert_int_equal(fx.nout, 0);
	bytes[1][5] ^= 1;
	assert_int_equal(inter_on_relay_segment(&fx.in, STREAM, &sd[1], &parent, T0), 1);
	assert_int_equal(fx.nout, 0);
	assert_int_equal(fx.in.relay[0].unverified, 1);
	assert_int_equal(fx.in.relay[0].forwarded, 1);
	/* A child that lacks the list gets it from the relay, a stranger not;
	 * asked over and over, within the child's serve budget at the pace
	 * the source's stamps give once the relay verified two segments (10
	 * segments a second, however close together they came): 40 tokens,
	 * a list a token. */
	bytes[1][5] ^= 1;
	assert_int_equal(inter_on_relay_segment(&fx.in, STREAM, &sd[1], &parent, T0), 1);
	assert_int_equal(fx.in.relay[0].forwarded, 2);
	assert_int_equal(fx.in.relay[0].pace_us, 100000);
	clear();
	struct wire_addr child = addr(11);
	inter_on_relay_hash_req(&fx.in, STREAM, 101, &stranger, T0 + MS);
	assert_int_equal(fx.nout, 0);
	inter_on_relay_hash_req(&fx.in, STREAM, 101, &child, T0 + MS);
	assert_int_equal(only(WIRE_HASH_LIST, 11, STREAM)->m.u.hl.first, 100);
	clear();
	for (int i = 0; i < 100; i++)
		inter_on_relay_hash_req(&fx.in, STREAM, 101, &child, T0 + MS);
	assert_int_equal(count(WIRE_HASH_LIST), 39);
	assert_int_equal(fx.in.lists_over, 61);
	/* A pace of 1 us (a source's stamps that close), or none yet, counts
	 * as a full segment of the fastest stream the wire admits, one every
	 * 526 us: 4 s of it is 7,604 lists, not millions. */
	struct wire_addr other_child = addr(P0);
	for (uint32_t pace = 0; pace <= 1; pace++) {
		fx.in.relay[0].pace_us = pace;
		fx.in.relay[0].child[pace].serve = (struct bucket){0};
		int sent = 0;
		for (int i = 0; i < 10000; i++) {
			clear();
			inter_on_relay_hash_req(&fx.in, STREAM, 101, pace ? &child : &other_child,
			                        T0 + MS);
			sent += count(WIRE_HASH_LIST);
		}
		assert_int_equal(sent, 7604);
	}
	inter_leave(&fx.in);
}

/* The segments for one signed list, payload len bytes each. */
/* origin: each segment's creation stamp (NULL: all REAL0). */
static void relay_batch(struct wire_seg_data *sd, uint8_t (*bytes)[WIRE_SEG_PAYLOAD_MAX], int n,
                        uint16_t len, const uint64_t *origin, struct wire_hash_list *hl)
{
	*hl = (struct wire_hash_list){.first = 100, .count = (uint8_t)n};
	for (int i = 0; i < n; i++) {
		sd[i] = seg(100 + (uint32_t)i, 2);
		if (origin)
			sd[i].origin_us = origin[i];
		memset(bytes[i], i, len);
		sd[i].payload = bytes[i];
		sd[i].len = len;
		auth_seg_hash(STREAM, &sd[i], hl->hash[i]);
	}
	auth_sign(&relay_key, STREAM, hl);
}

/* A relay's pending area holds a list's worth of segments ahead of their
 * list, or fewer when they are large, and every one that waited is
 * forwarded when the list comes; those without room are dropped and
 * counted. */
static void test_relay_pending_bounded(void **state)
{
	char e[128];
	static struct wire_seg_data sd[WIRE_MAX_HASHES];
	static uint8_t bytes[WIRE_MAX_HASHES][WIRE_SEG_PAYLOAD_MAX];
	struct wire_hash_list hl;
	struct wire_addr parent = addr(30);
	assert_int_equal(auth_keypair(&relay_key, NULL, e, sizeof(e)), 0);
	static const uint16_t len[] = {64, WIRE_SEG_PAYLOAD_MAX};
	static const int room[] = {INTER_RELAY_HOLD, INTER_RELAY_HOLD_BYTES / WIRE_SEG_PAYLOAD_MAX};
	for (int k = 0; k < 2; k++) {
		start_signed_relay();
		relay_batch(sd, bytes, WIRE_MAX_HASHES, len[k], NULL, &hl);
		/* One more than fits, where the list has one more. */
		int n = room[k] < (int)WIRE_MAX_HASHES ? room[k] + 1 : room[k];
		for (int i = 0; i < n; i++)
			inter_on_relay_segment(&fx.in, STREAM, &sd[i], &parent,
			                       T0 + (uint64_t)i * MS);
		/* A copy of one held is held once. */
		inter_on_relay_segment(&fx.in, STREAM, &sd[0], &parent, T0 + 100 * MS);
		struct relay *r = &fx.in.relay[0];
		assert_int_equal(r->held, room[k]);
		assert_int_equal(r->hold_full, n - room[k]);
		assert_int_equal(r->unverified, n - room[k]);
		assert_int_equal(count(WIRE_SEG_DATA), 0);
		clear();
		inter_on_relay_list(&fx.in, STREAM, &hl, &parent, T0 + 200 * MS);
		assert_int_equal(count(WIRE_SEG_DATA), 2 * room[k]);
		assert_int_equal(r->forwarded, room[k]);
		assert_int_equal(r->auth->nheld, 0);
		inter_leave(&fx.in);
		clear();
	}
}

/* A segment that waited longer than AUTH_HOLD_US is dropped and counted;
 * a list that comes later does not bring it back. */
static void test_relay_pending_expires(void **state)
{
	char e[128];
	static struct wire_seg_data sd[2];
	static uint8_t bytes[2][WIRE_SEG_PAYLOAD_MAX];
	struct wire_hash_list hl;
	struct wire_addr parent = addr(30);
	assert_int_equal(auth_keypair(&relay_key, NULL, e, sizeof(e)), 0);
	start_signed_relay();
	relay_batch(sd, bytes, 2, 100, NULL, &hl);
	inter_on_relay_segment(&fx.in, STREAM, &sd[0], &parent, T0);
	inter_on_relay_segment(&fx.in, STREAM, &sd[1], &parent, T0 + AUTH_HOLD_US);
	clear();
	inter_on_relay_list(&fx.in, STREAM, &hl, &parent, T0 + AUTH_HOLD_US + MS);
	struct relay *r = &fx.in.relay[0];
	assert_int_equal(r->auth->expired, 1);
	assert_int_equal(r->forwarded, 1);
	assert_int_equal(only(WIRE_SEG_DATA, 11, STREAM)->m.u.seg.seq, 101);
	inter_leave(&fx.in);
}

/* The pace a relay serves lists at is the source's, from the stamps of
 * the segments it verified, whenever they arrive: before a second one,
 * and after the source started over (a later sequence made earlier), it
 * is the fastest the wire admits until the next. */
static void test_relay_pace(void **state)
{
	char e[128];
	static struct wire_seg_data sd[5];
	static uint8_t bytes[5][WIRE_SEG_PAYLOAD_MAX];
	/* 50 segments a second; the fourth after a restart 1 s earlier. */
	static const uint64_t origin[5] = {REAL0, REAL0 + 20000, REAL0 + 40000, REAL0 - 1000000,
	                                   REAL0 - 980000};
	struct wire_hash_list hl;
	struct wire_addr parent = addr(30);
	assert_int_equal(auth_keypair(&relay_key, NULL, e, sizeof(e)), 0);
	start_signed_relay();
	relay_batch(sd, bytes, 5, 64, origin, &hl);
	inter_on_relay_list(&fx.in, STREAM, &hl, &parent, T0);
	struct relay *r = &fx.in.relay[0];
	/* All at one instant, so arrival gaps say nothing; the second one
	 * comes before the first in sequence, which gives no span. */
	static const int order[5] = {1, 0, 2, 3, 4};
	static const uint32_t want[5] = {0, 0, 20000, 0, 20000};
	for (int i = 0; i < 5; i++) {
		inter_on_relay_segment(&fx.in, STREAM, &sd[order[i]], &parent, T0);
		assert_int_equal(r->forwarded, i + 1);
		assert_int_equal(r->pace_us, want[i]);
	}
	/* At 50 segments a second a child's budget holds 4 s of them: 200
	 * lists. */
	struct wire_addr child = addr(11);
	clear();
	for (int i = 0; i < 1000; i++)
		inter_on_relay_hash_req(&fx.in, STREAM, 101, &child, T0 + MS);
	assert_int_equal(count(WIRE_HASH_LIST), 200);
	inter_leave(&fx.in);
}

static void test_relay_forwards_once(void **state)
{
	start(40, 1, 0);
	relay_for((const uint32_t[]){P0, 11}, 2, T0);
	struct wire_addr parent = addr(30), stranger = addr(31);

	struct wire_seg_data sd = seg(100, 2);
	assert_int_equal(inter_on_relay_segment(&fx.in, STREAM, &sd, &parent, T0), 1);
	assert_int_equal(fx.nout, 2);
	static const uint32_t children[] = {P0, 11};
	for (size_t i = 0; i < ARRAY_LEN(children); i++) {
		const struct wire_seg_data *got =
		    &only(WIRE_SEG_DATA, children[i], STREAM)->m.u.seg;
		assert_int_equal(got->seq, 100);
		assert_int_equal(got->hops, 3);
	}
	assert_int_equal(fx.in.relay[0].forwarded, 1);

	clear();
	assert_int_equal(inter_on_relay_segment(&fx.in, STREAM, &sd, &parent, T0), 1);
	assert_int_equal(fx.nout, 0);
	/* Not from the parent: ours to drop. */
	sd = seg(101, 2);
	assert_int_equal(inter_on_relay_segment(&fx.in, STREAM, &sd, &stranger, T0), 1);
	assert_int_equal(fx.nout, 0);
	assert_int_equal(inter_on_relay_segment(&fx.in, STREAM, &sd, &parent, T0), 1);
	assert_int_equal(fx.nout, 2);
	sd = seg(0, 2);
	assert_int_equal(inter_on_relay_segment(&fx.in, STREAM, &sd, &parent, T0), 1);
	assert_int_equal(fx.nout, 4);

	/* A stream we do not relay is the caller's business. */
	clear();
	assert_int_equal(inter_on_relay_segment(&fx.in, 12, &sd, &parent, T0), 0);
	assert_int_equal(fx.nout, 0);
	assert_int_equal(fx.in.relay[0].forwarded, 3);
}

static void test_relay_last_child_cuts(void **state)
{
	start(40, 1, 0);
	relay_for((const uint32_t[]){P0, 11}, 2, T0);
	inter_on_cut(&fx.in, OTHER, P0, T0);
	assert_int_equal(fx.in.relay[0].nchild, 2);
	inter_on_cut(&fx.in, STREAM, P0, T0);
	assert_int_equal(fx.nout, 0);
	assert_int_equal(fx.in.nrelay, 1);
	assert_int_equal(fx.in.kn.used[KEYNODE_RELAY], 1);

	inter_on_cut(&fx.in, STREAM, 11, T0);
	assert_int_equal(fx.nout, 1);
	check_cut(30, STREAM);
	assert_int_equal(fx.in.nrelay, 0);
	assert_int_equal(fx.in.kn.used[KEYNODE_RELAY], 0);
}

static void test_relay_parent_cuts(void **state)
{
	start(40, 1, 0);
	relay_for((const uint32_t[]){P0, 11}, 2, T0);
	inter_on_cut(&fx.in, STREAM, 30, T0);
	check_cut(P0, STREAM);
	check_cut(11, STREAM);
	assert_int_equal(fx.in.nrelay, 0);
	assert_int_equal(fx.in.kn.used[KEYNODE_RELAY], 0);

	/* The parent leaving altogether ends the relay as well. */
	clear();
	relay_for((const uint32_t[]){P0}, 1, T0);
	inter_on_cut(&fx.in, 0, 30, T0);
	check_cut(P0, STREAM);
	assert_int_equal(fx.in.nrelay, 0);
}

static void test_relay_silent_dropped(void **state)
{
	start(40, 1, 0);
	relay_for((const uint32_t[]){P0}, 1, T0);
	struct wire_addr parent = addr(30);
	struct wire_addr child = addr(P0);
	for (uint64_t t = T0; t <= T0 + 20 * SEC; t += SEC) {
		struct wire_seg_data sd = seg((uint32_t)(t / SEC), 2);
		inter_on_relay_segment(&fx.in, STREAM, &sd, &parent, t);
		inter_on_renew(&fx.in, STREAM, &child, t);
		inter_tick(&fx.in, 0, REAL0 + t - T0, t);
	}
	assert_int_equal(fx.in.nrelay, 1);
	clear();
	inter_tick(&fx.in, 0, REAL0 + 60 * SEC, T0 + 60 * SEC);
	assert_int_equal(fx.in.nrelay, 0);
	check_cut(30, STREAM);
	check_cut(P0, STREAM);
}

/* A relay measures the gap between its parent's segments and, by the
 * same rule as a peer's path (eight gaps, half a second at least), drops a
 * parent gone silent between ticks: its children hear it at once. Until
 * then a new child is refused rather than admitted to a relay that cannot
 * serve it. */
static void test_relay_silence_measured(void **state)
{
	start(40, 1, 0);
	relay_for((const uint32_t[]){P0}, 1, T0);
	struct wire_addr parent = addr(30), child = addr(P0);
	uint64_t t = T0;
	for (uint32_t q = 1; q <= 40; q++, t += 35 * MS) {
		struct wire_seg_data sd = seg(q, 2);
		inter_on_relay_segment(&fx.in, STREAM, &sd, &parent, t);
	}
	uint64_t last = t - 35 * MS;
	inter_on_renew(&fx.in, STREAM, &child, last);
	clear();
	inter_watch(&fx.in, 0, REAL0, last + 500 * MS);
	assert_int_equal(fx.in.nrelay, 1);
	struct wire_path_setup ps = PATH(8, SRC, 30, 40, 11);
	struct wire_addr late = addr(11);
	inter_on_path_setup(&fx.in, STREAM, &ps, &late, 0, last + 500 * MS + 1);
	assert_int_equal(only(WIRE_RELAY_REFUSE, 11, STREAM)->m.u.simple.reason,
	                 WIRE_REFUSE_UPSTREAM);
	assert_int_equal(fx.in.relay[0].nchild, 1);
	/* A trace asks what the set-up asks: it does not go on through it. */
	NEIGHBOURS(50, 51, 52);
	clear();
	struct wire_probe p = PROBE(3, 5, WIDE, 11);
	inter_on_probe(&fx.in, &p, &late, 0, REAL0 + 25 * MS, last + 500 * MS + 1);
	assert_int_equal(fx.nout, 0);
	assert_int_equal(fx.in.probes_declined, 1);
	clear();
	inter_watch(&fx.in, 0, REAL0, last + 500 * MS + 1);
	assert_int_equal(fx.in.nrelay, 0);
	check_cut(P0, STREAM);
	check_cut(30, STREAM);
	assert_int_equal(fx.in.kn.used[KEYNODE_RELAY], 0);
}

/* A source is a mesh node like any other and may relay another stream;
 * a silent parent must free that relay there too. */
static void test_source_relay_silent_dropped(void **state)
{
	start(2, 1, 1);
	inter_set_stream(&fx.in, OTHER, 2, 300000, 1);
	struct wire_path_setup ps = PATH(7, SRC, 30, 2, P0);
	struct wire_addr child = addr(P0), parent = addr(30);
	inter_on_path_setup(&fx.in, STREAM, &ps, &child, 0, T0);
	inter_on_relay_answer(&fx.in, STREAM, 1, 7, &parent, T0);
	assert_non_null(find(WIRE_RELAY_ACCEPT, P0));
	assert_int_equal(fx.in.nrelay, 1);
	clear();
	inter_tick(&fx.in, 0, REAL0 + 60 * SEC, T0 + 60 * SEC);
	assert_int_equal(fx.in.nrelay, 0);
	check_cut(30, STREAM);
	assert_int_equal(fx.in.kn.used[KEYNODE_RELAY], 0);
}

/* ---- failures on Peer_0's active path ---- */

/* After the parent cut the link, the fastest backup that avoids it is
 * promoted: not the newest offer, and not one through the failed parent. */
static void test_parent_cut_promotes_backup(void **state)
{
	start(P0, 1, 0);
	active_via(40, 7, T0);
	struct wire_path_setup fast = PATH(8, SRC, 45, P0), newer = PATH(9, SRC, 50, P0),
	                       via_failed = PATH(10, SRC, 40, 41, P0);
	fast.delay_us = 20000;
	newer.delay_us = 60000;
	via_failed.delay_us = 5000;
	struct wire_addr src = addr(SRC), par = addr(40);
	inter_on_path_setup(&fx.in, STREAM, &fast, &src, 0, T0);
	inter_on_path_setup(&fx.in, STREAM, &newer, &src, 0, T0 + 50 * MS);
	inter_on_path_setup(&fx.in, STREAM, &via_failed, &src, 0, T0 + 60 * MS);
	pushed_from(&par, 20000, T0 + 100 * MS);
	/* The path through the active parent is no backup for its failure. */
	assert_int_equal(fx.in.nbackup, 2);

	/* A cut of another stream, or by another peer, is not ours. */
	inter_on_cut(&fx.in, OTHER, 40, T0 + SEC);
	inter_on_cut(&fx.in, STREAM, 50, T0 + SEC);
	assert_true(fx.in.have_active);

	inter_on_cut(&fx.in, STREAM, 40, T0 + SEC);
	assert_false(fx.in.have_active);
	assert_int_equal(fx.in.paths_cut, 1);
	/* The parent cut the link: nothing to tell it. */
	assert_int_equal(fx.nout, 0);
	assert_int_equal(fx.in.nbackup, 2);

	inter_tick(&fx.in, 0, REAL0 + SEC, T0 + SEC);
	assert_true(fx.in.have_active);
	assert_int_equal(count(WIRE_PATH_SETUP), 1);
	CHECK_PATH(&only(WIRE_PATH_SETUP, 45, STREAM)->m.u.path, 8, SRC, 45, P0);
	assert_int_equal(fx.in.nbackup, 1);
	assert_int_equal(fx.in.backup[0].seq, 9);

	/* An offer through the failed hop that comes in after the failure (a
	 * trace from before it) is not kept. */
	offered(11, 40, 1000, T0 + 2 * SEC);
	assert_int_equal(fx.in.nbackup, 1);
}

/* Peer_0 on a 100 ms path gets offers: 85 ms is no clear gain (under a
 * fifth), 26 ms is; the new path is built while the old one pushes. */
static void start_replacing(void)
{
	start(P0, 1, 0);
	active_via(40, 7, T0);
	struct wire_addr src = addr(SRC), par = addr(40);
	pushed_from(&par, 100000, T0 + 900 * MS);
	struct wire_path_setup near = PATH(8, SRC, 44, P0), quick = PATH(9, SRC, 45, P0);
	near.delay_us = 85000;
	quick.delay_us = 26000;
	inter_on_path_setup(&fx.in, STREAM, &near, &src, 0, T0 + 950 * MS);
	clear();
	inter_tick(&fx.in, 0, REAL0 + SEC, T0 + SEC);
	assert_int_equal(count(WIRE_PATH_SETUP), 0);
	assert_int_equal(fx.in.active.hops[fx.in.active.nhops - 2].id, 40);

	pushed_from(&par, 100000, T0 + 1900 * MS);
	inter_on_path_setup(&fx.in, STREAM, &quick, &src, 0, T0 + 1950 * MS);
	clear();
	inter_tick(&fx.in, 0, REAL0 + 2 * SEC, T0 + 2 * SEC);
	CHECK_PATH(&only(WIRE_PATH_SETUP, 45, STREAM)->m.u.path, 9, SRC, 45, P0);
	assert_int_equal(count(WIRE_NEIGH_CUT), 0);
	assert_true(fx.in.replacing);
	/* Until the new path pushes, the old parent keeps our lease. */
	clear();
	inter_tick(&fx.in, 0, REAL0 + 3 * SEC, T0 + 3 * SEC);
	assert_non_null(find(WIRE_RENEW, 40));
	assert_int_equal(count(WIRE_NEIGH_CUT), 0);
	clear();
}

static void test_faster_backup_replaces_path(void **state)
{
	start_replacing();
	struct wire_addr fast = addr(45);
	inter_on_relay_answer(&fx.in, STREAM, 1, 9, &fast, T0 + 3050 * MS);
	pushed_from(&fast, 26000, T0 + 3100 * MS);
	check_cut(40, STREAM);
	assert_int_equal(fx.in.paths_replaced, 1);
	assert_false(fx.in.replacing);
	assert_int_equal(fx.in.active.hops[fx.in.active.nhops - 2].id, 45);
	/* The path it replaced worked: a backup now, at the 100 ms it
	 * delivered, beside the 85 ms offer. */
	assert_int_equal(fx.in.nbackup, 2);
	int old = fx.in.backup[0].hops[1].id == 40 ? 0 : 1;
	assert_int_equal(fx.in.backup[old].hops[1].id, 40);
	assert_int_equal(fx.in.backup[old].delay_us, 100000);
	assert_int_equal(fx.in.backup[1 - old].hops[1].id, 44);
	/* The 85 ms offer stays a backup: no clear gain over 26 ms either. */
	clear();
	pushed_from(&fast, 26000, T0 + 3950 * MS);
	inter_tick(&fx.in, 0, REAL0 + 4 * SEC, T0 + 4 * SEC);
	assert_int_equal(count(WIRE_PATH_SETUP), 0);
}

/* A backup's delay is a trace's, and is judged against the active path's
 * trace, plus what the active path's delivered delay has grown since it
 * came up: a trace misses what each hop adds pushing full segments, so
 * against a delivered delay every trace looked faster. */
static void test_faster_judged_trace_to_trace(void **state)
{
	start(P0, 1, 0);
	NEIGHBOURS(20, 21, 22, 23);
	active_traced(40, 7, 30000, T0);
	struct wire_addr par = addr(40);
	/* Traced at 30 ms, it delivers at 45. */
	pushed_from(&par, 45000, T0 + 900 * MS);
	inter_tick(&fx.in, 45000, REAL0 + SEC, T0 + SEC);
	offered(8, 50, 33000, T0 + SEC);
	assert_int_equal(fx.in.nbackup, 1);
	/* 33 ms traced is no gain on 30 ms traced, though it is on 45. */
	clear();
	pushed_from(&par, 45000, T0 + 1900 * MS);
	inter_tick(&fx.in, 45000, REAL0 + 2 * SEC, T0 + 2 * SEC);
	assert_int_equal(count(WIRE_PATH_SETUP), 0);
	assert_false(fx.in.replacing);
	/* A trace for a replacement is bounded by the 30 ms less the margin
	 * (at the slow period: the path delivers as it came up). */
	clear();
	pushed_from(&par, 45000, T0 + 20900 * MS);
	inter_tick(&fx.in, 45000, REAL0 + 21 * SEC, T0 + 21 * SEC);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
	for (int i = 0; i < fx.nout; i++)
		if (fx.out[i].m.hdr.type == WIRE_PROBE)
			assert_int_equal(fx.out[i].m.u.probe.last_delay_us, 20000);
	/* The path got slower: delivered 80 ms, 35 more than when it came up,
	 * so it counts as 65 ms, and the backup is clearly faster. */
	clear();
	pushed_from(&par, 80000, T0 + 21900 * MS);
	inter_tick(&fx.in, 80000, REAL0 + 22 * SEC, T0 + 22 * SEC);
	CHECK_PATH(&only(WIRE_PATH_SETUP, 50, STREAM)->m.u.path, 8, SRC, 50, P0);
	assert_true(fx.in.replacing);
}

/* The faster path never comes up: the old one is the active path again. */
static void test_failed_replacement_keeps_old_path(void **state)
{
	start_replacing();
	inter_tick(&fx.in, 0, REAL0 + 5 * SEC, T0 + 5100 * MS);
	check_cut(45, STREAM);
	assert_true(fx.in.have_active);
	assert_false(fx.in.replacing);
	assert_int_equal(fx.in.active.hops[fx.in.active.nhops - 2].id, 40);
	assert_int_equal(fx.in.paths_replaced, 0);
	/* The path that set LastDelay still pushes. */
	assert_int_equal(fx.lost, 0);
}

/* One tick of the stream at 28 segments a second: the parent pushes
 * every `every`-th segment and a partner delivers the others by pull.
 * Then the tick at t. */
static void stream_tick(const struct wire_addr *parent, int every, uint64_t t)
{
	static uint32_t seq = 5000;
	struct wire_addr partner = addr(90);
	for (int i = 0; i < 28; i++) {
		struct wire_seg_data sd = seg(++seq, 2);
		sd.flags = i % every == 0 ? WIRE_SEG_PUSHED : 0;
		inter_on_own_segment(&fx.in, i % every == 0 ? parent : &partner, &sd, 30000,
		                     t - SEC + (uint64_t)i * 35 * MS);
	}
	inter_tick(&fx.in, 30000, REAL0 + t - T0, t);
}

/* Eq. 1: a path that pushes only half the stream for three ticks in a row
 * is short of rate(S), and the best backup replaces it, make before break
 * (here one not faster than it: the rate decides, not the delay). */
static void test_short_path_replaced(void **state)
{
	start(P0, 1, 0);
	active_via(40, 7, T0);
	struct wire_addr par = addr(40);
	offered(8, 44, 90000, T0);
	assert_int_equal(fx.in.nbackup, 1);
	/* The first tick's window was partial; then two short ones. */
	for (int k = 1; k <= 3; k++) {
		clear();
		stream_tick(&par, 2, T0 + (uint64_t)k * SEC);
		assert_int_equal(count(WIRE_PATH_SETUP), 0);
	}
	assert_true(fx.in.active_share > 0.45 && fx.in.active_share < 0.55);
	clear();
	stream_tick(&par, 2, T0 + 4 * SEC);
	CHECK_PATH(&only(WIRE_PATH_SETUP, 44, STREAM)->m.u.path, 8, SRC, 44, P0);
	assert_int_equal(fx.in.paths_short, 1);
	assert_true(fx.in.replacing);
	assert_int_equal(count(WIRE_NEIGH_CUT), 0);
	/* A path replaced for falling short is no backup. */
	struct wire_addr spare_par = addr(44);
	pushed_from(&spare_par, 90000, T0 + 4100 * MS);
	check_cut(40, STREAM);
	assert_false(fx.in.replacing);
	assert_int_equal(fx.in.nbackup, 0);
}

/* A path that pushes the whole stream is never short; one short of it
 * with no backup traces for one at once. */
static void test_full_path_not_short(void **state)
{
	start(P0, 1, 0);
	NEIGHBOURS(41, 42, 43);
	active_via(40, 7, T0);
	struct wire_addr par = addr(40);
	for (int k = 1; k <= 10; k++)
		stream_tick(&par, 1, T0 + (uint64_t)k * SEC);
	assert_int_equal(fx.in.paths_short, 0);
	assert_true(fx.in.active_share > 0.99);
	/* Probes of the period went out at 1, 6 and 11.5 s; the next is due
	 * at 16.5 s, but three short ticks bring it forward to 13.5 s. */
	for (int k = 11; k <= 12; k++)
		stream_tick(&par, 3, T0 + (uint64_t)k * SEC + 500 * MS);
	uint64_t before = fx.in.probes_sent;
	clear();
	stream_tick(&par, 3, T0 + 13 * SEC + 500 * MS);
	assert_int_equal(fx.in.paths_short, 1);
	assert_int_equal(fx.in.probes_sent, before + 1);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
}

/* A backup through the active parent is refused (its failure would take
 * both); after a silence cut the other is promoted. */
static void test_silence_promotes_backup_avoiding_parent(void **state)
{
	start(P0, 1, 0);
	active_via(40, 7, T0);
	struct wire_path_setup through = PATH(8, SRC, 40, 42, P0), other = PATH(9, SRC, 60, P0);
	through.delay_us = 1000;
	other.delay_us = 90000;
	struct wire_addr src = addr(SRC), par = addr(40);
	pushed_from(&par, 20000, T0);
	inter_on_path_setup(&fx.in, STREAM, &through, &src, 0, T0);
	inter_on_path_setup(&fx.in, STREAM, &other, &src, 0, T0);
	inter_tick(&fx.in, 0, REAL0 + 4 * SEC, T0 + 4 * SEC);
	check_cut(40, STREAM);
	assert_true(fx.in.have_active);
	CHECK_PATH(&only(WIRE_PATH_SETUP, 60, STREAM)->m.u.path, 9, SRC, 60, P0);
	assert_int_equal(fx.in.nbackup, 0);
}

/* Pushed by the source itself, a peer still keeps a backup: every path
 * goes through the source (the figure-1 network: d's direct link to s1
 * first, then the faster way through s2). */
static void test_backup_when_parent_is_source(void **state)
{
	start(P0, 1, 0);
	struct wire_path_setup direct = PATH(7, SRC, P0), via = PATH(8, SRC, 44, P0);
	struct wire_addr src = addr(SRC);
	inter_on_path_setup(&fx.in, STREAM, &direct, &src, 0, T0);
	inter_tick(&fx.in, 0, REAL0, T0);
	assert_true(fx.in.have_active);
	inter_on_relay_answer(&fx.in, STREAM, 1, 7, &src, T0);
	inter_on_path_setup(&fx.in, STREAM, &via, &src, 0, T0);
	assert_int_equal(fx.in.nbackup, 1);
	/* The source's ancestry update to a child it no longer pushes to (we
	 * left it for a faster path) is no offer. */
	struct wire_path_setup ancestry = PATH(0, SRC, P0);
	inter_on_path_setup(&fx.in, STREAM, &ancestry, &src, 0, T0);
	assert_int_equal(fx.in.nbackup, 1);
}

/* An offer through the parent is no backup, unless clearly faster than
 * the path delivers: then it is the way to the same parent by a faster
 * upstream, and it is built at the next tick. */
static void test_faster_way_through_parent(void **state)
{
	start(P0, 1, 0);
	struct wire_path_setup first = PATH(7, SRC, 41, 40, P0);
	struct wire_addr src = addr(SRC), par = addr(40);
	inter_on_path_setup(&fx.in, STREAM, &first, &src, 0, T0);
	inter_tick(&fx.in, 0, REAL0, T0);
	inter_on_relay_answer(&fx.in, STREAM, 1, 7, &par, T0);
	pushed_from(&par, 100000, T0 + 900 * MS);
	inter_tick(&fx.in, 0, REAL0 + SEC, T0 + SEC);
	assert_int_equal(fx.in.active_measured_us, 100000);
	/* A way through the parent hardly faster is not kept. */
	offered(9, 40, 85000, T0 + SEC);
	assert_int_equal(fx.in.nbackup, 0);
	offered(10, 40, 30000, T0 + SEC);
	assert_int_equal(fx.in.nbackup, 1);
	clear();
	pushed_from(&par, 100000, T0 + 1900 * MS);
	inter_tick(&fx.in, 0, REAL0 + 2 * SEC, T0 + 2 * SEC);
	CHECK_PATH(&only(WIRE_PATH_SETUP, 40, STREAM)->m.u.path, 10, SRC, 40, P0);
	assert_true(fx.in.replacing);
	/* The same parent pushes on: the replacement is up, nobody is cut. */
	inter_on_relay_answer(&fx.in, STREAM, 1, 10, &par, T0 + 2050 * MS);
	pushed_from(&par, 30000, T0 + 2100 * MS);
	assert_false(fx.in.replacing);
	assert_int_equal(count(WIRE_NEIGH_CUT), 0);
}

/* Where the parent is the source, the path straight from it is the one
 * we have. */
static void test_source_parent_offered_again(void **state)
{
	start(P0, 1, 0);
	struct wire_path_setup direct = PATH(7, SRC, P0);
	struct wire_addr src = addr(SRC);
	direct.delay_us = 20000;
	inter_on_path_setup(&fx.in, STREAM, &direct, &src, 0, T0);
	inter_tick(&fx.in, 0, REAL0, T0);
	inter_on_relay_answer(&fx.in, STREAM, 1, 7, &src, T0);
	struct wire_path_setup again = PATH(8, SRC, P0);
	again.delay_us = 20000;
	inter_on_path_setup(&fx.in, STREAM, &again, &src, 0, T0);
	assert_int_equal(fx.in.nbackup, 0);
}

/* A relay child asks again by a shorter upstream (it found that clearly
 * faster): the relay moves there once the new parent accepts, and only
 * then cuts the old one. */
static void test_relay_moves_upstream(void **state)
{
	start(40, 1, 0);
	relay_for((const uint32_t[]){P0, 11}, 2, T0);
	struct wire_addr child = addr(P0), src = addr(SRC), old = addr(30);
	struct wire_path_setup ps = PATH(9, SRC, 40, P0);
	inter_on_path_setup(&fx.in, STREAM, &ps, &child, 0, T0 + SEC);
	assert_int_equal(only(WIRE_RELAY_ACCEPT, P0, STREAM)->m.u.simple.seq, 9);
	CHECK_PATH(&only(WIRE_PATH_SETUP, SRC, STREAM)->m.u.path, 9, SRC, 40);
	assert_int_equal(count(WIRE_NEIGH_CUT), 0);
	/* Until the new parent accepts, the old one is the parent. */
	clear();
	struct wire_seg_data sd = seg(100, 1);
	inter_on_relay_segment(&fx.in, STREAM, &sd, &src, T0 + SEC);
	assert_int_equal(fx.nout, 0);
	sd = seg(100, 2);
	inter_on_relay_segment(&fx.in, STREAM, &sd, &old, T0 + SEC);
	assert_int_equal(count(WIRE_SEG_DATA), 2);
	/* A second ask while moving sends nothing upstream. */
	clear();
	inter_on_path_setup(&fx.in, STREAM, &ps, &child, 0, T0 + SEC);
	assert_int_equal(count(WIRE_PATH_SETUP), 0);

	clear();
	inter_on_relay_answer(&fx.in, STREAM, 1, 9, &src, T0 + 1100 * MS);
	check_cut(30, STREAM);
	assert_int_equal(fx.in.relay[0].parent.id, SRC);
	assert_int_equal(fx.in.relay[0].nup, 2);
	assert_int_equal(fx.in.relay[0].nchild, 2);
	clear();
	sd = seg(101, 1);
	inter_on_relay_segment(&fx.in, STREAM, &sd, &src, T0 + 1200 * MS);
	assert_int_equal(count(WIRE_SEG_DATA), 2);
	sd = seg(100, 1);
	inter_on_relay_segment(&fx.in, STREAM, &sd, &src, T0 + 1200 * MS);
	assert_int_equal(count(WIRE_SEG_DATA), 2); /* 100 went on already */
	/* Children hear the new path at the next tick. */
	clear();
	inter_tick(&fx.in, 0, REAL0 + 2 * SEC, T0 + 2 * SEC);
	CHECK_PATH(&only(WIRE_PATH_SETUP, P0, STREAM)->m.u.path, 0, SRC, 40, P0);
}

static void test_relay_move_refused_or_late(void **state)
{
	start(40, 1, 0);
	relay_for((const uint32_t[]){P0}, 1, T0);
	struct wire_addr child = addr(P0), src = addr(SRC), c11 = addr(11);
	/* A new child naming another upstream joins the relay as it is. */
	struct wire_path_setup other = PATH(8, SRC, 40, 11);
	inter_on_path_setup(&fx.in, STREAM, &other, &c11, 0, T0);
	assert_int_equal(count(WIRE_PATH_SETUP), 0);
	assert_int_equal(fx.in.relay[0].nchild, 2);
	/* Through a child of ours: a loop, not asked. */
	struct wire_path_setup loop = PATH(8, SRC, 11, 40, P0);
	inter_on_path_setup(&fx.in, STREAM, &loop, &child, 0, T0);
	assert_int_equal(count(WIRE_PATH_SETUP), 0);

	struct wire_path_setup ps = PATH(9, SRC, 40, P0);
	inter_on_path_setup(&fx.in, STREAM, &ps, &child, 0, T0);
	clear();
	inter_on_relay_answer(&fx.in, STREAM, 0, 9, &src, T0 + 100 * MS);
	assert_int_equal(count(WIRE_NEIGH_CUT), 0);
	assert_int_equal(fx.in.relay[0].parent.id, 30);
	assert_int_equal(fx.in.relay[0].nchild, 2);

	/* Unanswered, the move is given up after the set-up timeout. */
	inter_on_path_setup(&fx.in, STREAM, &ps, &child, 0, T0 + SEC);
	struct wire_addr old = addr(30);
	for (int t = 2; t <= 5; t++) {
		struct wire_seg_data sd = seg(200 + t, 2);
		inter_on_relay_segment(&fx.in, STREAM, &sd, &old, T0 + t * SEC - MS);
		inter_on_renew(&fx.in, STREAM, &child, T0 + t * SEC - MS);
		inter_on_renew(&fx.in, STREAM, &c11, T0 + t * SEC - MS);
		inter_tick(&fx.in, 0, REAL0 + t * SEC, T0 + t * SEC);
	}
	assert_int_equal(fx.in.nrelay, 1);
	assert_false(fx.in.relay[0].moving);
	clear();
	inter_on_relay_answer(&fx.in, STREAM, 1, 9, &src, T0 + 5 * SEC);
	assert_int_equal(count(WIRE_NEIGH_CUT), 0);
	assert_int_equal(fx.in.relay[0].parent.id, 30);
}

/* A watching parent whose child asks by a faster upstream judges it as
 * its own offer. */
static void test_parent_takes_child_upstream(void **state)
{
	start(40, 1, 0);
	struct wire_path_setup mine = PATH(7, SRC, 30, 40);
	struct wire_addr src = addr(SRC), par = addr(30), child = addr(P0);
	inter_on_path_setup(&fx.in, STREAM, &mine, &src, 0, T0);
	inter_tick(&fx.in, 0, REAL0, T0);
	inter_on_relay_answer(&fx.in, STREAM, 1, 7, &par, T0);
	struct wire_path_setup req = PATH(8, SRC, 30, 40, P0);
	inter_on_path_setup(&fx.in, STREAM, &req, &child, 1, T0);
	assert_int_equal(fx.in.nchild, 1);
	pushed_from(&par, 100000, T0 + 900 * MS);
	inter_tick(&fx.in, 0, REAL0 + SEC, T0 + SEC);
	/* The same way again changes nothing; a faster one is our backup. */
	inter_on_path_setup(&fx.in, STREAM, &req, &child, 1, T0 + SEC);
	assert_int_equal(fx.in.nbackup, 0);
	struct wire_path_setup faster = PATH(9, SRC, 40, P0);
	faster.delay_us = 30000;
	inter_on_path_setup(&fx.in, STREAM, &faster, &child, 1, T0 + SEC);
	assert_int_equal(fx.in.nbackup, 1);
	clear();
	pushed_from(&par, 100000, T0 + 1900 * MS);
	inter_tick(&fx.in, 0, REAL0 + 2 * SEC, T0 + 2 * SEC);
	CHECK_PATH(&only(WIRE_PATH_SETUP, SRC, STREAM)->m.u.path, 9, SRC, 40);
}

/* A full backup set trades its slowest path for a faster offer. */
static void test_backup_set_keeps_fastest(void **state)
{
	start(P0, 1, 0);
	active_via(40, 7, T0);
	struct wire_addr src = addr(SRC);
	for (uint32_t i = 0; i < INTER_MAX_BACKUP + 2; i++) {
		struct wire_path_setup ps = PATH(20 + i, SRC, 50 + i, P0);
		ps.delay_us = (i % 2 ? 10000 : 80000) + i;
		inter_on_path_setup(&fx.in, STREAM, &ps, &src, 0, T0);
	}
	assert_int_equal(fx.in.nbackup, INTER_MAX_BACKUP);
	/* A path offered again is the same backup, with its new delay. */
	offered(40, 51, 9000, T0);
	assert_int_equal(fx.in.nbackup, INTER_MAX_BACKUP);
	int n51 = 0;
	for (int b = 0; b < fx.in.nbackup; b++)
		if (fx.in.backup[b].hops[1].id == 51) {
			n51++;
			assert_int_equal(fx.in.backup[b].delay_us, 9000);
		}
	assert_int_equal(n51, 1);
	int slow = 0;
	for (int b = 0; b < fx.in.nbackup; b++)
		slow += fx.in.backup[b].delay_us >= 80000;
	/* Three fast offers and the fastest of the three slow ones. */
	assert_int_equal(slow, 1);
}

static void test_backup_through_leaver_dropped(void **state)
{
	start(P0, 1, 0);
	active_via(40, 7, T0);
	struct wire_path_setup offer = PATH(8, SRC, 50, 51, P0);
	struct wire_addr src = addr(SRC);
	inter_on_path_setup(&fx.in, STREAM, &offer, &src, 0, T0);
	inter_on_cut(&fx.in, 0, 50, T0);
	assert_int_equal(fx.in.nbackup, 0);
	assert_true(fx.in.have_active);
}

static void test_silent_path_cut(void **state)
{
	start(P0, 1, 0);
	active_via(40, 7, T0);
	struct wire_addr par = addr(40);
	uint64_t t = T0;
	for (int i = 0; i < 10; i++, t += SEC) {
		pushed_from(&par, 30000, t);
		inter_tick(&fx.in, 0, REAL0 + t - T0, t);
	}
	assert_int_equal(count(WIRE_NEIGH_CUT), 0);

	/* The last segment came at t - 1 s; at 300 kbit/s eight segment
	 * intervals are 281 ms, so the half-second floor holds, and the check
	 * runs between ticks. */
	uint64_t last = t - SEC;
	/* A trace just went out (the backup set is short)... */
	NEIGHBOURS(41, 42);
	inter_watch(&fx.in, 20000, REAL0 + t - T0, last + 100 * MS);
	assert_true(count(WIRE_PROBE) > 0);
	clear();
	inter_watch(&fx.in, 0, REAL0 + t - T0, last + 500 * MS);
	assert_int_equal(count(WIRE_NEIGH_CUT), 0);
	clear();
	assert_true(fx.in.have_active);
	/* The LastDelay of this check is the lost path's: no trace by it. */
	inter_watch(&fx.in, 20000, REAL0 + t - T0, last + 500 * MS + 1);
	check_cut(40, STREAM);
	assert_int_equal(count(WIRE_PROBE), 0);
	assert_false(fx.in.have_active);
	assert_int_equal(fx.in.paths_cut, 1);
	/* The LastDelay the path set goes with it. */
	assert_int_equal(fx.lost, 1);
	/* ...yet with no backup left, the next check traces again at once,
	 * not 5 s after the last. */
	clear();
	inter_watch(&fx.in, 20000, REAL0 + t - T0, last + 600 * MS);
	assert_int_equal(count(WIRE_PROBE) > 0, 1);
	/* While nothing pushes, it traces again after 1 s, then 2 s, 4 s. */
	uint64_t sent = fx.in.probes_sent, at = last + 600 * MS;
	uint64_t gaps[] = {1 * SEC, 2 * SEC, 4 * SEC};
	for (int g = 0; g < 3; g++) {
		inter_watch(&fx.in, 20000, REAL0 + t - T0, at + gaps[g] - 1);
		assert_int_equal(fx.in.probes_sent, sent);
		at += gaps[g];
		inter_watch(&fx.in, 20000, REAL0 + t - T0, at);
		assert_int_equal(fx.in.probes_sent, ++sent);
	}
}

/* At a low rate a gap of half a second is normal: the limit is eight
 * segment intervals (1316-byte segments at 16 kbit/s: 658 ms each). */
static void test_silence_follows_rate(void **state)
{
	start(P0, 1, 0);
	inter_set_stream(&fx.in, STREAM, SRC, 16000, 0);
	active_via(40, 7, T0);
	struct wire_addr par = addr(40);
	pushed_from(&par, 30000, T0 + SEC);
	inter_watch(&fx.in, 0, REAL0 + SEC, T0 + SEC + 5 * SEC);
	assert_true(fx.in.have_active);
	inter_watch(&fx.in, 0, REAL0 + SEC, T0 + SEC + 5264 * MS + 1);
	assert_false(fx.in.have_active);
}

/* A set-up the parent never answered is given up after 3 s. */
static void test_setup_timeout(void **state)
{
	start(P0, 1, 0);
	struct wire_path_setup offer = PATH(7, SRC, 40, P0);
	struct wire_addr src = addr(SRC);
	inter_on_path_setup(&fx.in, STREAM, &offer, &src, 0, T0);
	inter_tick(&fx.in, 0, REAL0, T0);
	assert_true(fx.in.have_active);
	clear();
	inter_tick(&fx.in, 0, REAL0 + 2 * SEC, T0 + 2 * SEC);
	assert_true(fx.in.have_active);
	inter_tick(&fx.in, 0, REAL0 + 4 * SEC, T0 + 4 * SEC);
	check_cut(40, STREAM);
	assert_false(fx.in.have_active);
}

/* A parent that accepted and then pushes nothing (its own feed died
 * unnoticed: a relay whose parent crashed) fails by the silence rule,
 * counted from the accept, not after the set-up timeout; the next backup
 * is built at once. */
static void test_accepted_silent(void **state)
{
	start(P0, 1, 0);
	active_via(40, 7, T0);
	struct wire_path_setup b = PATH(9, SRC, 41, P0);
	struct wire_addr src = addr(SRC);
	inter_on_path_setup(&fx.in, STREAM, &b, &src, 0, T0);
	assert_int_equal(fx.in.nbackup, 1);
	inter_watch(&fx.in, 0, REAL0, T0 + 500 * MS);
	assert_true(fx.in.have_active);
	assert_int_equal(fx.in.active.hops[1].id, 40);
	inter_watch(&fx.in, 0, REAL0, T0 + 500 * MS + 1);
	check_cut(40, STREAM);
	assert_true(fx.in.have_active);
	assert_int_equal(fx.in.active.hops[1].id, 41);
	assert_non_null(find(WIRE_PATH_SETUP, 41));
	/* A path that pushed once is judged from its last push instead. */
	struct wire_addr par = addr(41);
	clear();
	inter_on_relay_answer(&fx.in, STREAM, 1, 9, &par, T0 + 600 * MS);
	pushed_from(&par, 30000, T0 + 1000 * MS);
	inter_watch(&fx.in, 0, REAL0, T0 + 1400 * MS);
	assert_int_equal(count(WIRE_NEIGH_CUT), 0);
	assert_true(fx.in.active_up);
}

/* A replacement that accepted but pushes nothing gives way to the path it
 * was to replace, which still pushes, after the silence window. */
static void test_accepted_silent_replacement(void **state)
{
	start(P0, 1, 0);
	active_via(40, 7, T0);
	struct wire_addr par = addr(40), src = addr(SRC), fast = addr(41);
	struct wire_path_setup b = PATH(9, SRC, 41, P0);
	b.delay_us = 20000;
	for (uint64_t t = T0 + 100 * MS; t < T0 + 2 * SEC; t += 100 * MS) {
		pushed_from(&par, 80000, t);
		if (t == T0 + SEC) {
			inter_tick(&fx.in, 0, REAL0, t);
			inter_on_path_setup(&fx.in, STREAM, &b, &src, 0, t);
		}
	}
	inter_tick(&fx.in, 0, REAL0, T0 + 2 * SEC);
	assert_true(fx.in.replacing);
	inter_on_relay_answer(&fx.in, STREAM, 1, 9, &fast, T0 + 2 * SEC);
	clear();
	for (uint64_t t = T0 + 2 * SEC; t <= T0 + 2500 * MS; t += 100 * MS) {
		pushed_from(&par, 80000, t);
		inter_watch(&fx.in, 0, REAL0, t);
	}
	assert_true(fx.in.replacing);
	inter_watch(&fx.in, 0, REAL0, T0 + 2500 * MS + 1);
	check_cut(41, STREAM);
	assert_false(fx.in.replacing);
	assert_true(fx.in.have_active);
	assert_int_equal(fx.in.active.hops[1].id, 40);
}

static void test_slow_path_cut(void **state)
{
	start(P0, 1, 0);
	active_via(40, 7, T0);
	struct wire_addr par = addr(40), other = addr(41);
	pushed_from(&par, MU_D, T0 + SEC);
	/* Pulled from a partner: not the path's business. */
	pushed_from(&other, MU_D + 1, T0 + SEC);
	assert_int_equal(fx.nout, 0);
	assert_true(fx.in.have_active);

	pushed_from(&par, MU_D + 1, T0 + 2 * SEC);
	check_cut(40, STREAM);
	assert_false(fx.in.have_active);
	assert_int_equal(fx.in.paths_cut, 1);
}

static void test_leave_cuts_everything(void **state)
{
	start(40, 1, 0);
	relay_for((const uint32_t[]){P0}, 1, T0);
	/* Hop 40 also has a path of its own for OTHER, from 2 via 50. */
	struct wire_path_setup offer = PATH(7, 2, 50, 40);
	struct wire_addr src = addr(2);
	inter_on_path_setup(&fx.in, OTHER, &offer, &src, 0, T0);
	inter_tick(&fx.in, 0, REAL0, T0);
	assert_true(fx.in.have_active);
	clear();

	inter_leave(&fx.in);
	check_cut(P0, STREAM);
	check_cut(30, STREAM);
	check_cut(50, OTHER);
	assert_int_equal(fx.in.nrelay, 0);
	assert_false(fx.in.have_active);
}

/* ---- CoolStreaming mode ---- */

static void test_disabled(void **state)
{
	start(20, 0, 0);
	NEIGHBOURS(40, 41, 42, 43);
	struct wire_probe p = PROBE(7, 5, WIDE, 30);
	assert_int_equal(forwards(&p, REAL0 + 20 * MS), 0);
	inter_tick(&fx.in, 0, REAL0 + 10 * SEC, T0 + 10 * SEC);
	assert_int_equal(fx.nout, 0);
	assert_int_equal(fx.in.probes_sent, 0);

	/* Neither as a hop with the stream nor as a relay. */
	ask(20, 100, 3, 1, T0);
	assert_int_equal(only(WIRE_RELAY_REFUSE, 100, STREAM)->m.u.simple.seq, 3);
	assert_int_equal(find(WIRE_RELAY_REFUSE, 100)->m.u.simple.reason, WIRE_REFUSE_NOT_ON_PATH);
	clear();
	struct wire_path_setup ps = PATH(4, SRC, 30, 20, 101);
	struct wire_addr child = addr(101), src = addr(SRC);
	inter_on_path_setup(&fx.in, STREAM, &ps, &child, 0, T0);
	assert_int_equal(only(WIRE_RELAY_REFUSE, 101, STREAM)->m.u.simple.seq, 4);
	assert_int_equal(find(WIRE_RELAY_REFUSE, 101)->m.u.simple.reason, WIRE_REFUSE_NOT_ON_PATH);
	assert_int_equal(fx.in.nchild, 0);
	assert_int_equal(fx.in.nrelay, 0);

	/* No backup from an offer either. */
	clear();
	struct wire_path_setup offer = PATH(5, SRC, 30, 20);
	inter_on_path_setup(&fx.in, STREAM, &offer, &src, 0, T0);
	assert_int_equal(fx.in.nbackup, 0);
	inter_tick(&fx.in, 0, REAL0 + 20 * SEC, T0 + 20 * SEC);
	assert_false(fx.in.have_active);
	assert_int_equal(count(WIRE_PATH_SETUP), 0);
}

/* ---- leases ---- */

/* A push child that stops renewing (crashed) loses its slot within two
 * lease periods; one that renews keeps it. Slots in use equal the live
 * children throughout. */
static void test_lease_expires_push_child(void **state)
{
	start(30, 1, 0);
	ask(30, 100, 1, 1, T0);
	ask(30, 101, 2, 1, T0);
	assert_int_equal(inter_slots_used(&fx.in), 2);
	clear();
	struct wire_addr alive = addr(100);
	uint64_t t = T0;
	for (; t <= T0 + 2 * INTER_LEASE_US; t += SEC) {
		inter_on_renew(&fx.in, STREAM, &alive, t);
		inter_tick(&fx.in, 0, REAL0 + t - T0, t);
		assert_int_equal(inter_slots_used(&fx.in), inter_children(&fx.in));
	}
	assert_int_equal(fx.in.nchild, 1);
	assert_int_equal(fx.in.child[0].addr.id, 100);
	assert_int_equal(fx.in.kn.used[KEYNODE_WATCH], 1);
	assert_int_equal(fx.in.leases_expired, 1);
	check_cut(101, STREAM);
	/* No more push to the dead child. */
	clear();
	struct wire_seg_data sd = seg(5, 1);
	assert_int_equal(inter_push(&fx.in, STREAM, &sd), 1);
	assert_null(find(WIRE_SEG_DATA, 101));
}

/* A relay whose children all stopped renewing is dropped, and its parent
 * told. */
static void test_lease_relay_children_expired(void **state)
{
	start(40, 1, 0);
	relay_for((const uint32_t[]){P0, 11}, 2, T0);
	struct wire_addr parent = addr(30);
	for (uint64_t t = T0; t <= T0 + 2 * INTER_LEASE_US; t += SEC) {
		struct wire_seg_data sd = seg((uint32_t)(t / SEC), 2);
		inter_on_relay_segment(&fx.in, STREAM, &sd, &parent, t);
		inter_tick(&fx.in, 0, REAL0 + t - T0, t);
	}
	assert_int_equal(fx.in.nrelay, 0);
	assert_int_equal(inter_slots_used(&fx.in), 0);
	check_cut(30, STREAM);
	check_cut(P0, STREAM);
	check_cut(11, STREAM);
}

/* The child renews: Peer_0 with its parent once the path is accepted, a
 * relay with its own parent. */
static void test_children_renew(void **state)
{
	start(P0, 1, 0);
	struct wire_path_setup offer = PATH(7, SRC, 40, P0);
	struct wire_addr src = addr(SRC), par = addr(40);
	inter_on_path_setup(&fx.in, STREAM, &offer, &src, 0, T0);
	inter_tick(&fx.in, 0, REAL0, T0);
	clear();
	inter_tick(&fx.in, 0, REAL0, T0 + 500 * MS);
	assert_int_equal(count(WIRE_RENEW), 0);
	inter_on_relay_answer(&fx.in, STREAM, 1, 7, &par, T0 + 600 * MS);
	inter_tick(&fx.in, 0, REAL0 + SEC, T0 + SEC);
	assert_int_equal(only(WIRE_RENEW, 40, STREAM)->m.u.simple.seq, 7);

	start(40, 1, 0);
	relay_for((const uint32_t[]){P0}, 1, T0);
	inter_tick(&fx.in, 0, REAL0 + SEC, T0 + SEC);
	assert_int_equal(only(WIRE_RENEW, 30, STREAM)->m.u.simple.seq, 7);
}

/* A renewal from a peer that is not a child (its lease ran out) is
 * answered with a cut, so it looks for another parent at once. */
static void test_renew_from_stranger(void **state)
{
	start(30, 1, 0);
	struct wire_addr stranger = addr(77);
	inter_on_renew(&fx.in, STREAM, &stranger, T0);
	check_cut(77, STREAM);
	assert_int_equal(fx.in.nchild, 0);
	assert_int_equal(inter_slots_used(&fx.in), 0);
}

/* ---- what keeps a path alive ---- */

/* A parent that stopped pushing but still answers pulls, or repeats old
 * segments, is silent as far as the path goes. */
static void test_only_new_pushes_refresh(void **state)
{
	start(P0, 1, 0);
	active_via(40, 7, T0);
	struct wire_addr par = addr(40);
	struct wire_seg_data sd = seg(100, 2);
	inter_on_own_segment(&fx.in, &par, &sd, 20000, T0);
	assert_true(fx.in.active_up);
	for (uint64_t t = T0 + SEC; t <= T0 + 4 * SEC; t += SEC) {
		struct wire_seg_data pulled = seg((uint32_t)(100 + t / SEC), 2);
		pulled.flags = 0;
		inter_on_own_segment(&fx.in, &par, &pulled, 20000, t);
		inter_on_own_segment(&fx.in, &par, &sd, 20000, t); /* a repeat */
		inter_tick(&fx.in, 0, REAL0 + t - T0, t);
	}
	assert_false(fx.in.have_active);
	check_cut(40, STREAM);
}

/* ---- push loops ---- */

/* A hop refuses a child that is upstream of it on its own path. */
static void test_loop_refused_upstream_child(void **state)
{
	start(30, 1, 0);
	inter_set_stream(&fx.in, STREAM, SRC, 300000, 0);
	struct wire_path_setup offer = PATH(7, SRC, 40, 30);
	struct wire_addr src = addr(SRC), par = addr(40);
	inter_on_path_setup(&fx.in, STREAM, &offer, &src, 0, T0);
	inter_tick(&fx.in, 0, REAL0, T0);
	inter_on_relay_answer(&fx.in, STREAM, 1, 7, &par, T0);
	clear();
	/* 40, our parent, asks us to push to it: B's parent A, A's parent B. */
	struct wire_path_setup ps = PATH(9, SRC, 30, 40);
	inter_on_path_setup(&fx.in, STREAM, &ps, &par, 1, T0 + SEC);
	assert_int_equal(only(WIRE_RELAY_REFUSE, 40, STREAM)->m.u.simple.reason, WIRE_REFUSE_LOOP);
	assert_int_equal(fx.in.nchild, 0);
	/* Another peer is welcome. */
	ask(30, 100, 10, 1, T0 + SEC);
	assert_int_equal(fx.in.nchild, 1);
}

/* A peer never takes a path through its own push child: that child would
 * be upstream and downstream of it. */
static void test_loop_offer_through_child(void **state)
{
	start(P0, 1, 0);
	struct wire_path_setup req = PATH(3, SRC, P0, 70);
	struct wire_addr child = addr(70), src = addr(SRC);
	inter_on_path_setup(&fx.in, STREAM, &req, &child, 1, T0);
	assert_int_equal(fx.in.nchild, 1);
	struct wire_path_setup offer = PATH(7, SRC, 70, P0);
	inter_on_path_setup(&fx.in, STREAM, &offer, &src, 0, T0);
	assert_int_equal(fx.in.nbackup, 0);
	struct wire_path_setup longer = PATH(8, SRC, 71, 70, P0);
	inter_on_path_setup(&fx.in, STREAM, &longer, &src, 0, T0);
	assert_int_equal(fx.in.nbackup, 0);
}

/* A relay refuses its own parent as a child. */
static void test_loop_relay_parent(void **state)
{
	start(40, 1, 0);
	relay_for((const uint32_t[]){P0}, 1, T0);
	struct wire_path_setup ps = PATH(9, SRC, 40, 30);
	struct wire_addr parent = addr(30);
	inter_on_path_setup(&fx.in, STREAM, &ps, &parent, 0, T0);
	assert_int_equal(only(WIRE_RELAY_REFUSE, 30, STREAM)->m.u.simple.reason, WIRE_REFUSE_LOOP);
	assert_int_equal(fx.in.relay[0].nchild, 1);
}

/* Every tick a parent tells each child its current path from the source,
 * the child at its end. */
static void test_ancestry_sent(void **state)
{
	start(30, 1, 0);
	struct wire_path_setup offer = PATH(7, SRC, 40, 30);
	struct wire_addr src = addr(SRC), par = addr(40);
	inter_on_path_setup(&fx.in, STREAM, &offer, &src, 0, T0);
	inter_tick(&fx.in, 0, REAL0, T0);
	inter_on_relay_answer(&fx.in, STREAM, 1, 7, &par, T0);
	ask(30, 100, 9, 1, T0);
	clear();
	inter_tick(&fx.in, 0, REAL0 + SEC, T0 + SEC);
	CHECK_PATH(&only(WIRE_PATH_SETUP, 100, STREAM)->m.u.path, 0, SRC, 40, 30, 100);

	/* A source's children hear the one-hop path. */
	start(SRC, 1, 1);
	struct wire_path_setup req = PATH(9, SRC, 100);
	struct wire_addr child = addr(100);
	inter_on_path_setup(&fx.in, STREAM, &req, &child, 0, T0);
	assert_int_equal(fx.in.nchild, 1);
	clear();
	inter_tick(&fx.in, 0, REAL0 + SEC, T0 + SEC);
	CHECK_PATH(&only(WIRE_PATH_SETUP, 100, STREAM)->m.u.path, 0, SRC, 100);
}

/* The child keeps its parent's word as its path: loop checks at admission
 * then see the path as it is now, not as it was traced. */
static void test_ancestry_updates_path(void **state)
{
	start(P0, 1, 0);
	active_via(40, 7, T0);
	struct wire_path_setup now = PATH(0, SRC, 45, 40, P0);
	struct wire_addr par = addr(40), other = addr(41);
	inter_on_path_setup(&fx.in, STREAM, &now, &other, 0, T0 + SEC);
	assert_int_equal(fx.in.active.nhops, 3);
	inter_on_path_setup(&fx.in, STREAM, &now, &par, 0, T0 + SEC);
	assert_int_equal(fx.nout, 0);
	assert_int_equal(fx.in.active.nhops, 4);
	assert_int_equal(fx.in.active.hops[1].id, 45);
	assert_int_equal(fx.in.nbackup, 0);
}

/* A loop of any length: the path the parent reports has us upstream of
 * ourselves. The link to the parent goes; a relay in a loop goes. */
static void test_longer_loop_cut(void **state)
{
	start(P0, 1, 0);
	active_via(40, 7, T0);
	struct wire_path_setup loop = PATH(0, SRC, 50, P0, 60, 40, P0);
	struct wire_addr par = addr(40);
	inter_on_path_setup(&fx.in, STREAM, &loop, &par, 0, T0 + SEC);
	assert_false(fx.in.have_active);
	check_cut(40, STREAM);

	start(40, 1, 0);
	relay_for((const uint32_t[]){P0}, 1, T0);
	struct wire_path_setup rloop = PATH(0, SRC, 40, 55, 30, 40);
	struct wire_addr rpar = addr(30);
	inter_on_path_setup(&fx.in, STREAM, &rloop, &rpar, 0, T0 + SEC);
	assert_int_equal(fx.in.nrelay, 0);
	check_cut(30, STREAM);
	check_cut(P0, STREAM);
}

/* ---- half-rate paths (eq. 1 with two active paths) ---- */

/* A child asks hop self ([SRC, self, child]) for share of STREAM. */
static void ask_share(uint32_t self, uint32_t child, uint32_t seq, uint8_t share, uint64_t now)
{
	struct wire_path_setup ps = PATH(seq, SRC, self, child);
	ps.share = share;
	struct wire_addr from = addr(child);
	inter_on_path_setup(&fx.in, STREAM, &ps, &from, 1, now);
}

/* Half a connection spare takes a half-rate child, not a whole one, and
 * the child is pushed its half only. */
static void test_half_child_admitted_and_pushed_half(void **state)
{
	start(30, 1, 0); /* 10 connections */
	pulled(9.5);
	assert_int_equal(inter_halves_free(&fx.in), 1);
	assert_int_equal(inter_conns_free(&fx.in, inter_pull_held(&fx.in)), 0);
	ask_share(30, 100, 1, WIRE_SHARE_WHOLE, T0);
	assert_int_equal(only(WIRE_RELAY_REFUSE, 100, STREAM)->m.u.simple.reason,
	                 WIRE_REFUSE_NO_SLOT);
	clear();
	ask_share(30, 101, 2, WIRE_SHARE_ODD, T0);
	only(WIRE_RELAY_ACCEPT, 101, STREAM);
	assert_int_equal(inter_halves_free(&fx.in), 0);
	/* No room left for another half. */
	clear();
	ask_share(30, 102, 3, WIRE_SHARE_EVEN, T0);
	only(WIRE_RELAY_REFUSE, 102, STREAM);

	/* A whole child beside it, once the partners pull less. */
	pulled(8);
	clear();
	ask_share(30, 103, 4, WIRE_SHARE_WHOLE, T0);
	only(WIRE_RELAY_ACCEPT, 103, STREAM);
	/* 16 halves less 3 held: the partner rule sees 6 whole connections. */
	assert_int_equal(inter_halves_free(&fx.in), 1);
	assert_int_equal(inter_conns_free(&fx.in, 3), 5);
	clear();
	for (uint32_t q = 10; q < 14; q++) {
		struct wire_seg_data sd = seg(q, 1);
		inter_push(&fx.in, STREAM, &sd);
	}
	assert_int_equal(count(WIRE_SEG_DATA), 6);
	for (int i = 0; i < fx.nout; i++)
		if (fx.out[i].to.id == 101)
			assert_int_equal(fx.out[i].m.u.seg.seq % 2, 1);

	/* Asked again for the whole stream: room for the other half. */
	clear();
	ask_share(30, 101, 5, WIRE_SHARE_WHOLE, T0);
	only(WIRE_RELAY_ACCEPT, 101, STREAM);
	assert_int_equal(inter_halves_free(&fx.in), 0);
	clear();
	ask_share(30, 103, 6, WIRE_SHARE_EVEN, T0);
	only(WIRE_RELAY_ACCEPT, 103, STREAM);
	assert_int_equal(inter_halves_free(&fx.in), 1);
}

/* A node with half a connection spare forwards a trace marked half; with
 * a whole one it leaves the mark as it came; a relay pushed one half
 * declines traces. The source offers a marked trace as half-rate. */
static void test_probe_marks_half(void **state)
{
	start(20, 1, 0);
	NEIGHBOURS(40, 41, 42);
	struct wire_addr from = addr(30);
	struct wire_probe p = PROBE(1, 5, WIDE, 30);
	pulled(9.5);
	inter_on_probe(&fx.in, &p, &from, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
	for (int i = 0; i < fx.nout; i++)
		assert_int_equal(fx.out[i].m.u.probe.half, 1);
	pulled(9);
	clear();
	p.seq = 2;
	inter_on_probe(&fx.in, &p, &from, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(count(WIRE_PROBE), INTER_PROBE_J);
	for (int i = 0; i < fx.nout; i++)
		assert_int_equal(fx.out[i].m.u.probe.half, 0);
	pulled(10);
	clear();
	p.seq = 3;
	inter_on_probe(&fx.in, &p, &from, 1, REAL0 + 25 * MS, T0);
	assert_int_equal(fx.nout, 0);

	/* A relay of STREAM pushed its odd half declines a trace for it. */
	start(40, 1, 0);
	inter_set_stream(&fx.in, OTHER, 2, 300000, 0);
	NEIGHBOURS(41, 42, 43);
	struct wire_path_setup ps = PATH(7, SRC, 30, 40, 50);
	ps.share = WIRE_SHARE_ODD;
	struct wire_addr child = addr(50), parent = addr(30);
	inter_on_path_setup(&fx.in, STREAM, &ps, &child, 0, T0);
	assert_int_equal(only(WIRE_PATH_SETUP, 30, STREAM)->m.u.path.share, WIRE_SHARE_ODD);
	inter_on_relay_answer(&fx.in, STREAM, 1, 7, &parent, T0);
	assert_int_equal(fx.in.relay[0].share, WIRE_SHARE_ODD);
	clear();
	p.seq = 4;
	inter_on_probe(&fx.in, &p, &from, 0, REAL0 + 25 * MS, T0);
	assert_int_equal(fx.nout, 0);
	/* It takes another child for its half only. */
	ps = PATH(8, SRC, 30, 40, 51);
	ps.share = WIRE_SHARE_EVEN;
	child = addr(51);
	inter_on_path_setup(&fx.in, STREAM, &ps, &child, 0, T0);
	assert_int_equal(only(WIRE_RELAY_REFUSE, 51, STREAM)->m.u.simple.reason,
	                 WIRE_REFUSE_UPSTREAM);
	clear();
	ps.share = WIRE_SHARE_ODD;
	inter_on_path_setup(&fx.in, STREAM, &ps, &child, 0, T0);
	only(WIRE_RELAY_ACCEPT, 51, STREAM);

	/* The source: a marked trace is offered as half-rate. */
	start(SRC, 1, 1);
	struct wire_probe t = PROBE(9, 5, WIDE, 60);
	t.half = 1;
	struct wire_addr hop = addr(60);
	inter_on_probe(&fx.in, &t, &hop, 1, REAL0 + 30 * MS, T0);
	inter_tick(&fx.in, 0, REAL0 + SEC, T0 + SEC);
	assert_int_equal(only(WIRE_PATH_SETUP, P0, STREAM)->m.u.path.share, WIRE_SHARE_EVEN);
}

/* A relay pushed the whole stream takes a half-rate child beside a whole
 * one and forwards each what its share holds. */
static void test_relay_pushes_each_its_share(void **state)
{
	start(40, 1, 0);
	relay_for((const uint32_t[]){50}, 1, T0);
	struct wire_path_setup ps = PATH(8, SRC, 30, 40, 51);
	ps.share = WIRE_SHARE_EVEN;
	struct wire_addr child = addr(51), parent = addr(30);
	inter_on_path_setup(&fx.in, STREAM, &ps, &child, 0, T0);
	only(WIRE_RELAY_ACCEPT, 51, STREAM);
	/* No set-up upstream: the relay's own parent pushes it all. */
	assert_int_equal(count(WIRE_PATH_SETUP), 0);
	clear();
	for (uint32_t q = 20; q < 24; q++) {
		struct wire_seg_data sd = seg(q, 2);
		sd.len = 100;
		assert_true(inter_on_relay_segment(&fx.in, STREAM, &sd, &parent, T0 + q * MS));
	}
	int whole = 0, half = 0;
	for (int i = 0; i < fx.nout; i++) {
		assert_int_equal(fx.out[i].m.hdr.type, WIRE_SEG_DATA);
		if (fx.out[i].to.id == 51) {
			assert_int_equal(fx.out[i].m.u.seg.seq % 2, 0);
			half++;
		} else {
			whole++;
		}
	}
	assert_int_equal(whole, 4);
	assert_int_equal(half, 2);
	assert_int_equal(fx.in.relay_bytes, 600);
}

/* The source offers Peer_0 [SRC, parent, P0] as a half-rate path. */
static void offered_half(uint32_t seq, uint32_t parent, uint32_t delay_us, uint64_t now)
{
	struct wire_path_setup offer = PATH(seq, SRC, parent, P0);
	offer.delay_us = delay_us;
	offer.share = WIRE_SHARE_EVEN;
	struct wire_addr src = addr(SRC);
	inter_on_path_setup(&fx.in, STREAM, &offer, &src, 0, now);
}

/* 28 segments in the second before t, the even ones pushed by `even`,
 * the odd ones by `odd` (NULL: pulled), then a tick. */
static void halves_tick(const struct wire_addr *even, const struct wire_addr *odd, uint64_t t)
{
	static uint32_t seq = 9000;
	struct wire_addr partner = addr(90);
	for (int i = 0; i < 28; i++) {
		struct wire_seg_data sd = seg(++seq, 2);
		const struct wire_addr *from = seq % 2 ? odd : even;
		sd.flags = from ? WIRE_SEG_PUSHED : 0;
		inter_on_own_segment(&fx.in, from ? from : &partner, &sd, 30000,
		                     t - SEC + (uint64_t)i * 35 * MS);
	}
	inter_tick(&fx.in, 30000, REAL0 + t - T0, t);
}

/* Peer_0's fastest path could carry half the stream: it is built for the
 * even half, and the next backup, beside it, for the odd half; together
 * they carry rate(S) (eq. 1) and neither is short. */
static void start_halves(void)
{
	start(P0, 1, 0);
	offered_half(7, 60, 20000, T0);
	offered(8, 70, 40000, T0);
	offered(9, 80, 60000, T0);
	inter_tick(&fx.in, 0, REAL0, T0);
	assert_int_equal(only(WIRE_PATH_SETUP, 60, STREAM)->m.u.path.share, WIRE_SHARE_EVEN);
	assert_int_equal(only(WIRE_PATH_SETUP, 70, STREAM)->m.u.path.share, WIRE_SHARE_ODD);
	assert_int_equal(fx.in.active.share, WIRE_SHARE_EVEN);
	assert_true(fx.in.second.have);
	assert_int_equal(fx.in.nbackup, 1);
	struct wire_addr a = addr(60), b = addr(70);
	inter_on_relay_answer(&fx.in, STREAM, 1, 7, &a, T0 + 10 * MS);
	inter_on_relay_answer(&fx.in, STREAM, 1, 8, &b, T0 + 10 * MS);
	assert_true(fx.in.second.ok);
	assert_true(inter_is_parent(&fx.in, 60) && inter_is_parent(&fx.in, 70));
	clear();
}

static void test_half_paths_carry_the_rate(void **state)
{
	start_halves();
	struct wire_addr a = addr(60), b = addr(70);
	for (int k = 1; k <= 5; k++)
		halves_tick(&a, &b, T0 + (uint64_t)k * SEC);
	assert_true(fx.in.active_up && fx.in.second.up);
	assert_int_equal(fx.in.paths_short, 0);
	assert_true(fx.in.active_share > 0.99);
	/* Both parents hold our lease. */
	assert_non_null(find(WIRE_RENEW, 60));
	assert_non_null(find(WIRE_RENEW, 70));
	/* The second falls silent on its half: it goes (told), and the last
	 * backup takes its half. */
	halves_tick(&a, NULL, T0 + 6 * SEC);
	check_cut(70, STREAM);
	assert_int_equal(only(WIRE_PATH_SETUP, 80, STREAM)->m.u.path.share, WIRE_SHARE_ODD);
	assert_true(fx.in.second.have);
	assert_int_equal(fx.in.second.path.hops[1].id, 80);
}

/* The active path's parent fails: the second, pushing, is the active path
 * at once, and a backup is built for the half it does not carry. */
static void test_second_promoted_on_failure(void **state)
{
	start_halves();
	struct wire_addr a = addr(60), b = addr(70);
	halves_tick(&a, &b, T0 + SEC);
	inter_on_cut(&fx.in, STREAM, 60, T0 + 1100 * MS);
	assert_true(fx.in.have_active && fx.in.active_up);
	assert_int_equal(fx.in.active.hops[1].id, 70);
	assert_int_equal(fx.in.active.share, WIRE_SHARE_ODD);
	assert_int_equal(fx.in.seconds_promoted, 1);
	assert_false(fx.in.second.have);
	inter_watch(&fx.in, 30000, REAL0 + 1200 * MS, T0 + 1200 * MS);
	assert_int_equal(only(WIRE_PATH_SETUP, 80, STREAM)->m.u.path.share, WIRE_SHARE_EVEN);
	assert_true(fx.in.second.have);
	/* No set-up went to 70: it pushes as it did. */
	assert_null(find(WIRE_PATH_SETUP, 70));
}

/* A whole path clearly faster replaces the half one; once it pushes, the
 * second is needless and goes. A backup that would fail with the second
 * is not made the active path beside it. */
static void test_whole_path_drops_second(void **state)
{
	start_halves();
	struct wire_addr a = addr(60), b = addr(70), c = addr(85);
	halves_tick(&a, &b, T0 + SEC);
	halves_tick(&a, &b, T0 + 2 * SEC);
	struct wire_path_setup via70 = PATH(10, SRC, 70, 75, P0);
	via70.delay_us = 1000;
	struct wire_addr src = addr(SRC);
	inter_on_path_setup(&fx.in, STREAM, &via70, &src, 0, T0 + 2 * SEC);
	offered(11, 85, 5000, T0 + 2 * SEC);
	clear();
	halves_tick(&a, &b, T0 + 3 * SEC);
	assert_null(find(WIRE_PATH_SETUP, 75));
	assert_int_equal(only(WIRE_PATH_SETUP, 85, STREAM)->m.u.path.share, WIRE_SHARE_WHOLE);
	assert_true(fx.in.replacing);
	inter_on_relay_answer(&fx.in, STREAM, 1, 11, &c, T0 + 3100 * MS);
	clear();
	pushed_from(&c, 5000, T0 + 3200 * MS);
	assert_true(fx.in.active_up);
	assert_int_equal(fx.in.active.share, WIRE_SHARE_WHOLE);
	assert_false(fx.in.second.have);
	check_cut(70, STREAM);
	check_cut(60, STREAM);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_push_own_stream),
	    T(test_leave_tells_push_children),
	    T(test_push_without_children),
	    T(test_peer0_probes),
	    T(test_probe_with_backup),
	    T(test_no_probe_without_last_delay),
	    T(test_probe_forwarded_once),
	    T(test_probe_needs_room),
	    T(test_probe_asks_parent),
	    T(test_probe_follows_push_path),
	    T(test_full_source_offers_nothing),
	    T(test_probe_forwarded),
	    T(test_probe_stops_when_slower),
	    T(test_probe_budget),
	    T(test_probe_budget_one_sender),
	    T(test_probe_budget_colluders),
	    T(test_probe_budget_own_probes),
	    T(test_probe_share_set),
	    T(test_probe_forgeries_refused),
	    T(test_probe_stops_at_ttl),
	    T(test_probe_stops_when_trace_full),
	    T(test_probe_loops_ignored),
	    T(test_source_offers_fastest),
	    T(test_source_second_offer_other_entry),
	    T(test_source_collections_apart),
	    T(test_peer0_backup_promoted),
	    T(test_peer0_refused),
	    T(test_hop_admits_within_limits),
	    T(test_hop_checks_sender),
	    T(test_source_admits),
	    T(test_source_upload_shared),
	    T(test_pull_held_measured),
	    T(test_adl_paces_probes),
	    T(test_relay_built),
	    T(test_relay_refused_upstream),
	    T(test_relay_refused_in_intra_mode),
	    T(test_relay_not_at_path_head),
	    T(test_relay_pending_bounded),
	    T(test_relay_pending_expires),
	    T(test_relay_pace),
	    T(test_relay_forwards_once),
	    T(test_relay_verifies),
	    T(test_relay_last_child_cuts),
	    T(test_relay_parent_cuts),
	    T(test_relay_silent_dropped),
	    T(test_source_relay_silent_dropped),
	    T(test_relay_silence_measured),
	    T(test_parent_cut_promotes_backup),
	    T(test_silence_promotes_backup_avoiding_parent),
	    T(test_lease_expires_push_child),
	    T(test_lease_relay_children_expired),
	    T(test_children_renew),
	    T(test_renew_from_stranger),
	    T(test_only_new_pushes_refresh),
	    T(test_loop_refused_upstream_child),
	    T(test_loop_offer_through_child),
	    T(test_loop_relay_parent),
	    T(test_ancestry_sent),
	    T(test_ancestry_updates_path),
	    T(test_longer_loop_cut),
	    T(test_half_child_admitted_and_pushed_half),
	    T(test_probe_marks_half),
	    T(test_relay_pushes_each_its_share),
	    T(test_half_paths_carry_the_rate),
	    T(test_second_promoted_on_failure),
	    T(test_whole_path_drops_second),
	    T(test_backup_when_parent_is_source),
	    T(test_faster_way_through_parent),
	    T(test_source_parent_offered_again),
	    T(test_relay_moves_upstream),
	    T(test_relay_move_refused_or_late),
	    T(test_parent_takes_child_upstream),
	    T(test_backup_set_keeps_fastest),
	    T(test_backup_through_leaver_dropped),
	    T(test_silent_path_cut),
	    T(test_faster_backup_replaces_path),
	    T(test_faster_judged_trace_to_trace),
	    T(test_failed_replacement_keeps_old_path),
	    T(test_short_path_replaced),
	    T(test_full_path_not_short),
	    T(test_silence_follows_rate),
	    T(test_setup_timeout),
	    T(test_accepted_silent),
	    T(test_accepted_silent_replacement),
	    T(test_slow_path_cut),
	    T(test_leave_cuts_everything),
	    T(test_disabled),
	};
	return cmocka_run_group_tests_name("inter", tests, NULL, NULL);
}
