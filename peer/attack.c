#include "peer/attack.h"

#include <stdlib.h>

#include "lib/loop.h"
#include "lib/util.h"
#include "peer/log.h"
#include "peer/udp.h"
#include "peer/wire.h"

#define LEARN_US 1000000u
#define STATS_US 1000000u
/* Sequence numbers the forged segments run ahead of live. */
#define FORGE_AHEAD 64u
/* Sequences behind live whose hash lists the hash flood asks for: the
 * last two seconds or so, which the target holds. */
#define LISTS_BACK 64u

struct attack {
	struct config *cfg;
	enum attack_kind kind;
	struct loop *l;
	struct udp udp, witness;
	struct evlog log;
	struct rng rng;
	struct wire_addr self, rp, target;
	uint16_t stream;
	struct wire_addr source;
	struct wire_peer_entry cand[WIRE_MAX_PEERS];
	int ncand;
	uint32_t newest; /* newest sequence seen in a buffer map */
	int have_seq;
	uint32_t next_id; /* rp-flood: the next invented id */
	uint64_t n;       /* datagrams crafted so far */
	uint64_t n_teacher;
	struct wire_addr asked; /* the teacher last asked to be a partner */
	uint64_t map_us;        /* when the last buffer map came */
	uint64_t sent, sent_bytes, from_target, from_target_bytes, witness_n, witness_bytes;
	/* What only a partner gets: an accept, maps, segments, requests. The
	 * attacker registers under its own id, so the target may also ask it to
	 * be a partner or probe it as any candidate; that is no answer. */
	uint64_t partner_msgs;
	uint64_t lists; /* hash lists from the target */
	/* Crafted messages the encoder refused: a fault of the attacker's own,
	 * which would make an attack look held off when it never left. */
	uint64_t unencodable;
};

/* A received message's datagram length: the decoder keeps its body length. */
static size_t msg_len(const struct wire_msg *m)
{
	return WIRE_HDR_LEN + m->hdr.length;
}

static void send_to(struct attack *a, const struct wire_addr *to, const struct wire_msg *m)
{
	uint8_t buf[WIRE_MAX_DATAGRAM];
	int n = wire_encode(m, buf, sizeof(buf));
	if (n <= 0) {
		a->unencodable++;
		return;
	}
	if (udp_send_bytes(&a->udp, to->ip, to->port, buf, (size_t)n) == 0) {
		a->sent++;
		a->sent_bytes += (size_t)n;
	}
}

static void learn_map(struct attack *a, const struct wire_buffer_map *b)
{
	for (int i = b->nbits - 1; i >= 0; i--)
		if (b->bits[i / 8] & (1u << (i % 8))) {
			a->newest = b->base_seq + (uint32_t)i;
			a->have_seq = 1;
			a->map_us = mono_us();
			return;
		}
}

static void on_msg(void *arg, const struct wire_msg *m, const struct wire_addr *from)
{
	struct attack *a = arg;
	if (from->ip == a->target.ip && from->port == a->target.port) {
		a->from_target++;
		a->from_target_bytes += msg_len(m);
		switch (m->hdr.type) {
		case WIRE_HASH_LIST:
			a->lists++;
			/* fall through */
		case WIRE_NEIGH_ACCEPT:
		case WIRE_BUFFER_MAP:
		case WIRE_SEG_DATA:
		case WIRE_SEG_REQUEST:
			a->partner_msgs++;
			break;
		default:
			break;
		}
	}
	/* The attacker receives at its address, so it passes the
	 * return-routability check under its own id as any peer would. */
	if (m->hdr.type == WIRE_COOKIE) {
		struct wire_msg r;
		wire_msg_echo(&r, a->self.id, &m->u.cookie);
		udp_send(&a->udp, from->ip, from->port, &r);
		/* The teacher dropped the request that drew the cookie: ask it
		 * again now, bound, as a peer's next partner round would, rather
		 * than a whole round of teachers later. */
		if (a->stream && from->ip == a->asked.ip && from->port == a->asked.port) {
			wire_msg_simple(&r, WIRE_NEIGH_REQ, a->stream, a->self.id, 0, 0);
			udp_send(&a->udp, from->ip, from->port, &r);
		}
	}
	if (m->hdr.type == WIRE_BOOTSTRAP && from->ip == a->rp.ip && from->port == a->rp.port) {
		const struct wire_bootstrap *b = &m->u.boot;
		for (int i = 0; i < b->nstreams; i++)
			if (!strncmp(b->streams[i].name, a->cfg->watch, WIRE_STREAM_NAME)) {
				a->stream = b->streams[i].id;
				a->source = b->streams[i].source;
			}
		a->ncand = b->npeers;
		memcpy(a->cand, b->peers, sizeof(b->peers[0]) * b->npeers);
		for (int i = 0; i < b->npeers; i++)
			if (b->peers[i].addr.ip == a->target.ip &&
			    b->peers[i].addr.port == a->target.port)
				a->target.id = b->peers[i].addr.id;
	} else if (m->hdr.type == WIRE_BUFFER_MAP) {
		learn_map(a, &m->u.map);
	}
}

static void on_witness(void *arg, const struct wire_msg *m, const struct wire_addr *from)
{
	struct attack *a = arg;
	a->witness_n++;
	a->witness_bytes += msg_len(m);
}

/* The partner it learns the live sequence from: the source and then each
 * peer it knows in turn (one may be full), never the target. */
static const struct wire_addr *teacher(struct attack *a)
{
	for (int tries = 0; tries <= a->ncand; tries++) {
		int k = (int)(a->n_teacher++ % (uint64_t)(a->ncand + 1));
		const struct wire_addr *t = k == a->ncand ? &a->source : &a->cand[k].addr;
		if (t->id && t->id != a->self.id &&
		    (t->ip != a->target.ip || t->port != a->target.port))
			return t;
	}
	return NULL;
}

static uint64_t learn_timer(struct loop *l, void *arg)
{
	struct attack *a = arg;
	struct wire_msg m;
	wire_msg_init(&m, WIRE_REGISTER, 0, a->self.id);
	m.u.reg =
	    (struct wire_register){.role = WIRE_ROLE_PEER, .ip = a->self.ip, .port = a->self.port};
	memcpy(m.u.reg.name, a->cfg->watch, sizeof(a->cfg->watch));
	udp_send(&a->udp, a->rp.ip, a->rp.port, &m);
	/* Only the kinds that aim at live sequences learn them (a partner slot
	 * taken for nothing would disturb the swarm); they ask again whenever
	 * the maps stopped (partners time out). */
	int learns = a->kind == ATTACK_FORGE_SEGMENT || a->kind == ATTACK_AMPLIFY;
	const struct wire_addr *t =
	    learns && mono_us() - a->map_us > 2 * LEARN_US ? teacher(a) : NULL;
	if (a->stream && t) {
		wire_msg_simple(&m, WIRE_NEIGH_REQ, a->stream, a->self.id, 0, 0);
		udp_send(&a->udp, t->ip, t->port, &m);
		a->asked = *t;
	}
	/* Detectors count only from a mesh neighbour (stream 0, as LTM's
	 * rounds ask), hash lists are answered only for a partner: ask the
	 * target, and again each second (a partner slot also keeps the
	 * target's maps coming, which tell the live sequence). */
	int asks = a->kind == ATTACK_DETECTOR_SPOOF || (a->kind == ATTACK_HASH_FLOOD && a->stream);
	if (asks && a->target.id) {
		wire_msg_simple(&m, WIRE_NEIGH_REQ, a->kind == ATTACK_HASH_FLOOD ? a->stream : 0,
		                a->self.id, 0, 0);
		udp_send(&a->udp, a->target.ip, a->target.port, &m);
	}
	return LEARN_US;
}

/* Half claim the source's id (the identity check refuses them), half the
 * attacker's own, which a victim admits: only the source's signature over
 * the segment hashes (peer/auth.h) keeps those out. */
static void forge_segment(struct attack *a, struct wire_msg *m)
{
	static uint8_t payload[WIRE_SEG_PAYLOAD_MAX];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)rng_next(&a->rng);
	wire_msg_init(m, WIRE_SEG_DATA, a->stream, a->n % 2 ? a->self.id : a->source.id);
	/* Every eighth one far beyond any window, a quarter at sequences the
	 * source has signed already, the rest just ahead of live, where a peer
	 * would store them and play them. */
	uint32_t seq = a->newest + 1 + (uint32_t)(a->n % FORGE_AHEAD);
	if (a->n % 8 == 0)
		seq = 0xFFFFFF00u;
	else if (a->n % 4 == 1)
		seq = a->newest - (uint32_t)(a->n % FORGE_AHEAD);
	m->u.seg = (struct wire_seg_data){.seq = seq,
	                                  .origin_us = real_us(),
	                                  .hops = 1,
	                                  .checksum = wire_checksum(payload, sizeof(payload)),
	                                  .len = sizeof(payload),
	                                  .payload = payload};
}

/* Odd ones as the first hop from a source at the witness, even ones as
 * passed on by the attacker from such a source; each a new source, so
 * none is "seen" or pending at the target already. */
static void reflect_detector(struct attack *a, struct wire_msg *m)
{
	uint64_t now = real_us();
	struct wire_addr src = {a->self.id + 2000000u + (uint32_t)(a->n % 100000), a->witness.ip,
	                        a->witness.port};
	wire_msg_init(m, WIRE_DETECTOR, 0, a->self.id);
	m->u.det = (struct wire_detector){
	    .msg_id = (uint32_t)a->n, .ttl = 2, .src = src, .src_ts_us = now - 1000};
	if (a->n % 2 == 0) {
		m->u.det.ttl = 1;
		m->u.det.direct = a->self;
		m->u.det.direct_ts_us = now;
	}
}

/* One crafted datagram of the attack's kind; 0 when it has nothing to send
 * yet (the stream or the live sequence is not known). */
static int craft(struct attack *a, struct wire_msg *m, struct wire_addr *to)
{
	*to = a->target;
	switch (a->kind) {
	case ATTACK_FORGE_SEGMENT:
		if (!a->have_seq)
			return 0;
		forge_segment(a, m);
		return 1;
	case ATTACK_FORGE_LEAVE: {
		int k = (int)(a->n % (uint64_t)(a->ncand + 1));
		uint32_t id = k == a->ncand ? a->source.id : a->cand[k].addr.id;
		wire_msg_simple(m, WIRE_LEAVE, a->stream, id, 0, 0);
		return a->stream != 0;
	}
	case ATTACK_HIJACK:
		wire_msg_simple(m, WIRE_NEIGH_REQ, a->stream, a->source.id, 0, 0);
		return a->stream != 0;
	case ATTACK_BAD_BUFFERMAP:
		wire_msg_init(m, WIRE_BUFFER_MAP, a->stream, a->source.id);
		m->u.map = (struct wire_buffer_map){.base_seq = 0xFFFFF000u, .nbits = 256};
		memset(m->u.map.bits, 0xff, 32);
		return a->stream != 0;
	case ATTACK_PROBE_TTL:
		wire_msg_init(m, WIRE_DETECTOR, 0, a->self.id);
		m->u.det = (struct wire_detector){
		    .msg_id = (uint32_t)a->n, .ttl = 200, .src = a->self, .src_ts_us = real_us()};
		return 1;
	case ATTACK_PROBE_FLOOD:
		/* A probe as Peer_0 sends it, so every check but the budget
		 * passes; a minute's bound, where a peer's is its LastDelay. */
		wire_msg_init(m, WIRE_PROBE, 0, a->self.id);
		m->u.probe = (struct wire_probe){.seq = (uint32_t)a->n,
		                                 .peer0 = a->self,
		                                 .ts0_us = real_us(),
		                                 .source_id = a->source.id,
		                                 .last_delay_us = 60000000u,
		                                 .ttl = 7};
		return a->stream != 0;
	case ATTACK_DETECTOR_SPOOF:
		reflect_detector(a, m);
		return 1;
	case ATTACK_REFLECT:
		/* Sent as the child it names, at the witness's address. */
		wire_msg_init(m, WIRE_PATH_SETUP, a->stream, a->self.id + 1000000u);
		/* Every field set: wire_msg_init leaves the body as it was, and a
		 * stale share is out of range, so the encoder refuses it. */
		m->u.path = (struct wire_path_setup){.seq = (uint32_t)a->n, .nhops = 3};
		m->u.path.hops[0] = a->self;
		m->u.path.hops[1] = a->target;
		m->u.path.hops[2] =
		    (struct wire_addr){a->self.id + 1000000u, a->witness.ip, a->witness.port};
		return a->stream != 0;
	case ATTACK_AMPLIFY:
		if (!a->have_seq)
			return 0;
		wire_msg_init(m, WIRE_SEG_REQUEST, a->stream, a->self.id);
		m->u.req.count = WIRE_MAX_REQ;
		for (unsigned i = 0; i < WIRE_MAX_REQ; i++)
			m->u.req.seqs[i] = a->newest - i;
		return 1;
	case ATTACK_HASH_FLOOD:
		if (!a->have_seq)
			return 0;
		wire_msg_simple(m, WIRE_HASH_REQ, a->stream, a->self.id,
		                a->newest - (uint32_t)(a->n % LISTS_BACK), 0);
		return 1;
	case ATTACK_RP_FLOOD:
		wire_msg_init(m, WIRE_REGISTER, 0, a->next_id++);
		m->u.reg = (struct wire_register){.role = WIRE_ROLE_PEER};
		memcpy(m->u.reg.name, a->cfg->watch, sizeof(a->cfg->watch));
		return 1;
	default:
		return 0;
	}
}

static uint64_t attack_timer(struct loop *l, void *arg)
{
	struct attack *a = arg;
	/* Above 1000 a second, several a tick. */
	long per_tick = a->cfg->pps > 1000 ? a->cfg->pps / 1000 : 1;
	for (long i = 0; i < per_tick; i++) {
		struct wire_msg m;
		struct wire_addr to;
		if (!craft(a, &m, &to))
			break;
		send_to(a, &to, &m);
		a->n++;
	}
	return a->cfg->pps > 1000 ? 1000u : 1000000u / (uint64_t)a->cfg->pps;
}

static void log_stats(struct attack *a)
{
	evlog_event(&a->log, "attack",
	            "kind=%s sent=%llu sent_bytes=%llu from_target=%llu from_target_bytes=%llu "
	            "partner_msgs=%llu lists=%llu witness=%llu witness_bytes=%llu stream=%u "
	            "newest=%u unencodable=%llu send_errors=%llu",
	            a->cfg->attack_kind, (unsigned long long)a->sent,
	            (unsigned long long)a->sent_bytes, (unsigned long long)a->from_target,
	            (unsigned long long)a->from_target_bytes, (unsigned long long)a->partner_msgs,
	            (unsigned long long)a->lists, (unsigned long long)a->witness_n,
	            (unsigned long long)a->witness_bytes, a->stream, a->newest,
	            (unsigned long long)a->unencodable, (unsigned long long)a->udp.send_errors);
	evlog_flush(&a->log);
}

static uint64_t stats_timer(struct loop *l, void *arg)
{
	log_stats(arg);
	return STATS_US;
}

static int attack_open(struct attack *a, struct config *cfg)
{
	char e[256];
	uint32_t ip;
	uint16_t port;
	a->cfg = cfg;
	a->kind = (enum attack_kind)attack_kind_parse(cfg->attack_kind);
	rng_seed(&a->rng, cfg->seed);
	parse_ipport(cfg->listen, &ip, &port);
	parse_ipport(cfg->rp, &a->rp.ip, &a->rp.port);
	parse_ipport(cfg->target, &a->target.ip, &a->target.port);
	a->next_id = 0x40000000u + (uint32_t)rng_below(&a->rng, 1u << 20);
	/* The witness listens on the next port: what a reflector sends it was
	 * never asked for. */
	if (udp_open(&a->udp, ip, port, 0, e, sizeof(e)) ||
	    udp_open(&a->witness, ip, (uint16_t)(port + 1), 0, e, sizeof(e))) {
		err_msg("start attack: %s", e);
		return -1;
	}
	a->self = (struct wire_addr){cfg->id ? cfg->id : ip, ip, port};
	if (evlog_open(&a->log, *cfg->log_dir ? cfg->log_dir : NULL)) {
		err_errno("open event log in %s", cfg->log_dir);
		return -1;
	}
	evlog_event(&a->log, "start", "role=attack id=%u kind=%s target=%s pps=%ld", a->self.id,
	            cfg->attack_kind, cfg->target, cfg->pps);
	a->l = loop_new();
	if (!a->l || udp_attach(&a->udp, a->l, on_msg, a) ||
	    udp_attach(&a->witness, a->l, on_witness, a)) {
		err_errno("set up event loop");
		return -1;
	}
	loop_on_late(a->l, EVLOG_STALL_US, evlog_stall, &a->log);
	return 0;
}

int attack_run(struct config *cfg)
{
	struct attack *a = calloc(1, sizeof(*a));
	if (!a) {
		err_msg("allocate attack: out of memory");
		return 1;
	}
	a->udp.fd = a->witness.fd = -1;
	int rc = 1;
	if (!attack_open(a, cfg)) {
		loop_add_timer(a->l, 0, learn_timer, a);
		loop_add_timer(a->l, 1000, attack_timer, a);
		loop_add_timer(a->l, STATS_US, stats_timer, a);
		loop_run(a->l, NULL, NULL);
		log_stats(a);
		rc = 0;
	}
	evlog_close(&a->log);
	loop_free(a->l);
	udp_close(&a->udp);
	udp_close(&a->witness);
	free(a);
	return rc;
}
