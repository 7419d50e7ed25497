/* Rendezvous point: peers and sources register and refresh; each register
 * is answered with the stream list and a random sample of live peers,
 * those watching the same stream first. Silent entries are forgotten. */
#include "peer/rp.h"

#include <stdlib.h>
#include <string.h>

#include "lib/loop.h"
#include "lib/util.h"
#include "peer/log.h"
#include "peer/udp.h"
#include "peer/wire.h"

#define RP_MAX_ENTRIES 8192
#define RP_EXPIRE_US 15000000u
#define RP_SAME_STREAM 40 /* of WIRE_MAX_PEERS bootstrap entries */

struct rp_entry {
	struct wire_addr addr;
	uint16_t stream;
	uint8_t role;
	uint64_t last_us;
};

struct rp {
	struct config *cfg;
	struct udp udp;
	struct rng rng;
	struct evlog log;
	struct rp_entry *e;
	int n;
	struct wire_stream_desc streams[WIRE_MAX_STREAMS];
	int nstreams;
	uint32_t self_id;
};

static struct rp_entry *find(struct rp *r, uint32_t id)
{
	for (int i = 0; i < r->n; i++)
		if (r->e[i].addr.id == id)
			return &r->e[i];
	return NULL;
}

static void forget(struct rp *r, struct rp_entry *e, const char *why)
{
	evlog_event(&r->log, "forget", "id=%u reason=%s", e->addr.id, why);
	*e = r->e[--r->n];
}

static int stream_by_name(struct rp *r, const char *name)
{
	for (int i = 0; i < r->nstreams; i++)
		if (strcmp(r->streams[i].name, name) == 0)
			return i;
	return -1;
}

static void reply(struct rp *r, const struct rp_entry *to)
{
	struct wire_msg m;
	wire_msg_init(&m, WIRE_BOOTSTRAP, 0, r->self_id);
	struct wire_bootstrap *b = &m.u.boot;
	b->nstreams = (uint8_t)r->nstreams;
	memcpy(b->streams, r->streams, sizeof(b->streams[0]) * (size_t)r->nstreams);
	/* Two passes over a random rotation: same stream first, then others
	 * (the mesh spans all streams). */
	b->npeers = 0;
	int start = r->n ? (int)rng_below(&r->rng, (uint64_t)r->n) : 0;
	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < r->n && b->npeers < WIRE_MAX_PEERS; k++) {
			const struct rp_entry *e = &r->e[(start + k) % r->n];
			int same = e->stream == to->stream;
			if (e == to || same != (pass == 0))
				continue;
			if (pass == 0 && b->npeers >= RP_SAME_STREAM)
				break;
			b->peers[b->npeers++] =
			    (struct wire_peer_entry){e->addr, e->stream, e->role};
		}
	}
	udp_send(&r->udp, to->addr.ip, to->addr.port, &m);
}

static void on_register(struct rp *r, const struct wire_msg *m, const struct wire_addr *from)
{
	const struct wire_register *g = &m->u.reg;
	struct rp_entry *e = find(r, from->id);
	if (!e) {
		if (r->n == RP_MAX_ENTRIES)
			return;
		e = &r->e[r->n++];
		memset(e, 0, sizeof(*e));
		evlog_event(&r->log, "register", "id=%u role=%u name=%s", from->id, g->role,
		            g->name);
	}
	e->addr = *from;
	e->role = g->role;
	e->last_us = mono_us();
	int s = stream_by_name(r, g->name);
	if (g->role == WIRE_ROLE_SOURCE) {
		if (s < 0 && r->nstreams < (int)WIRE_MAX_STREAMS) {
			s = r->nstreams++;
			memset(&r->streams[s], 0, sizeof(r->streams[s]));
			r->streams[s].id = (uint16_t)(s + 1);
			memcpy(r->streams[s].name, g->name, sizeof(g->name));
			evlog_event(&r->log, "stream", "id=%d name=%s rate=%u source=%u", s + 1,
			            g->name, g->rate_bps, from->id);
		}
		if (s >= 0) {
			r->streams[s].rate_bps = g->rate_bps;
			r->streams[s].source = *from;
		}
	}
	e->stream = s >= 0 ? r->streams[s].id : 0;
	reply(r, e);
}

static void on_msg(void *arg, const struct wire_msg *m, const struct wire_addr *from)
{
	struct rp *r = arg;
	if (m->hdr.type == WIRE_REGISTER) {
		on_register(r, m, from);
	} else if (m->hdr.type == WIRE_LEAVE) {
		struct rp_entry *e = find(r, from->id);
		if (e)
			forget(r, e, "leave");
	}
}

static uint64_t expire_timer(struct loop *l, void *arg)
{
	struct rp *r = arg;
	uint64_t now = mono_us();
	for (int i = r->n - 1; i >= 0; i--)
		if (now - r->e[i].last_us > RP_EXPIRE_US)
			forget(r, &r->e[i], "silent");
	evlog_flush(&r->log);
	return 1000000u;
}

int rp_run(struct config *cfg)
{
	struct rp r = {.cfg = cfg, .udp.fd = -1};
	int rc = 1;
	uint32_t ip;
	uint16_t port;
	parse_ipport(cfg->listen, &ip, &port);
	r.self_id = cfg->id ? cfg->id : ip;
	rng_seed(&r.rng, cfg->seed);
	struct loop *l = NULL;
	r.e = calloc(RP_MAX_ENTRIES, sizeof(*r.e));
	if (!r.e) {
		err_msg("allocate rendezvous table: out of memory");
		return 1;
	}
	if (evlog_open(&r.log, *cfg->log_dir ? cfg->log_dir : NULL)) {
		err_errno("open event log in %s", cfg->log_dir);
		goto out;
	}
	char e[256];
	if (udp_open(&r.udp, ip, port, 0, e, sizeof(e))) {
		err_msg("start rendezvous point: %s", e);
		goto out;
	}
	evlog_event(&r.log, "start", "role=rp id=%u", r.self_id);
	l = loop_new();
	if (!l || udp_attach(&r.udp, l, on_msg, &r)) {
		err_errno("set up event loop");
		goto out;
	}
	loop_add_timer(l, 1000000u, expire_timer, &r);
	loop_run(l, NULL, NULL);
	evlog_event(&r.log, "leave", "entries=%d streams=%d bad=%llu", r.n, r.nstreams,
	            (unsigned long long)r.udp.bad);
	rc = 0;
out:
	loop_free(l);
	evlog_close(&r.log);
	udp_close(&r.udp);
	free(r.e);
	return rc;
}
