/* Rendezvous point: peers and sources register and refresh; each register
 * is answered with the stream list and a random sample of live peers,
 * those watching the same stream first. Silent entries are forgotten.
 *
 * Nothing a stranger sends may take the table over: an id is bound to the
 * address it registered from, a stream name to the source and the public
 * key that registered it first (peers verify the stream's media against
 * that key, peer/auth.h), an address holds a bounded number of entries,
 * and a LEAVE is taken only from the address it speaks for. Nothing is
 * answered before its address echoed a cookie (rp_admit, rp.h). */
#include "peer/rp.h"

#include <stdlib.h>
#include <string.h>

#include "lib/loop.h"
#include "lib/util.h"
#include "peer/log.h"
#include "peer/udp.h"

/* Of WIRE_MAX_PEERS bootstrap entries, those watching the asker's stream;
 * scaled down with the room left beside the stream descriptions. */
#define RP_SAME_STREAM 40

static int same_addr(const struct wire_addr *a, const struct wire_addr *b)
{
	return a->id == b->id && a->ip == b->ip && a->port == b->port;
}

static int stream_by_name(const struct rp_table *t, const char *name)
{
	for (int i = 0; i < t->nstreams; i++)
		if (strncmp(t->streams[i].name, name, WIRE_STREAM_NAME) == 0)
			return i;
	return -1;
}

/* A stream whose source is gone may be taken by the next source that
 * registers its name. */
static void entry_gone(void *arg, void *entry)
{
	struct rp_table *t = arg;
	const struct rp_entry *e = entry;
	if (e->role != WIRE_ROLE_SOURCE)
		return;
	for (int s = 0; s < t->nstreams; s++)
		if (same_addr(&t->streams[s].source, &e->k.addr))
			memset(&t->streams[s].source, 0, sizeof(t->streams[s].source));
}

int rp_table_init(struct rp_table *t, int cap)
{
	memset(t, 0, sizeof(*t));
	if (bindtab_init(&t->b, sizeof(struct rp_entry), cap, RP_PER_ADDR))
		return -1;
	t->b.gone = entry_gone;
	t->b.arg = t;
	return 0;
}

void rp_table_free(struct rp_table *t)
{
	bindtab_free(&t->b);
}

/* The stream a source registers (*s, its index or -1 when new): bound to
 * it, or the verdict why not. */
static enum rp_verdict source_stream(struct rp_table *t, const struct wire_register *g,
                                     const struct wire_addr *from, int *s)
{
	if (*s < 0) {
		if (t->nstreams == (int)WIRE_MAX_STREAMS)
			return RP_REFUSED_STREAMS;
		*s = t->nstreams++;
		memset(&t->streams[*s], 0, sizeof(t->streams[*s]));
		t->streams[*s].id = (uint16_t)(*s + 1);
		memcpy(t->streams[*s].name, g->name, sizeof(g->name));
	}
	struct wire_stream_desc *d = &t->streams[*s];
	/* The binding holds while its source is registered; a source that
	 * comes back with another key waits until its old entry expires. */
	if (d->source.id && !same_addr(&d->source, from))
		return RP_REFUSED_STREAM_OWNED;
	if (d->source.id && memcmp(d->key, g->key, WIRE_KEY_LEN))
		return RP_REFUSED_STREAM_KEY;
	d->rate_bps = g->rate_bps;
	d->source = *from;
	memcpy(d->key, g->key, WIRE_KEY_LEN);
	return RP_OK;
}

enum rp_verdict rp_table_register(struct rp_table *t, const struct wire_register *g,
                                  const struct wire_addr *from, uint64_t now_us,
                                  struct rp_entry **out)
{
	int i = -1;
	enum bind_verdict b = bindtab_check(&t->b, from, &i);
	if (b == BIND_REFUSED_ID)
		return RP_REFUSED_ID_BOUND;
	if (b == BIND_REFUSED_ADDR)
		return RP_REFUSED_ADDR_FULL;
	int s = stream_by_name(t, g->name);
	if (g->role == WIRE_ROLE_SOURCE) {
		enum rp_verdict v = source_stream(t, g, from, &s);
		if (v != RP_OK)
			return v;
	}
	enum rp_verdict v = RP_OK;
	if (b == BIND_NEW) {
		int evicted;
		i = bindtab_insert(&t->b, from, now_us, &evicted);
		v = evicted ? RP_OK_EVICTED : RP_OK_NEW;
	}
	bindtab_touch(&t->b, i, now_us);
	struct rp_entry *e = rp_table_at(t, i);
	e->role = g->role;
	e->stream = s >= 0 ? t->streams[s].id : 0;
	*out = e;
	return v;
}

int rp_table_leave(struct rp_table *t, const struct wire_addr *from)
{
	int i;
	if (bindtab_check(&t->b, from, &i) != BIND_KNOWN)
		return -1;
	bindtab_remove(&t->b, i);
	return 0;
}

enum rp_action rp_admit(struct identity *ids, const struct wire_msg *m,
                        const struct wire_addr *from, uint64_t now_us)
{
	if (m->hdr.type == WIRE_COOKIE_ECHO) {
		identity_on_echo(ids, from, m->u.cookie.cookie, now_us);
		return RP_DROP;
	}
	switch (identity_admit(ids, from, now_us)) {
	case IDENT_OK:
		return RP_HANDLE;
	case IDENT_STRANGER:
		/* A LEAVE draws nothing, so it needs no cookie either; it is
		 * taken only from its entry's address (rp_table_leave). */
		return m->hdr.type == WIRE_LEAVE ? RP_HANDLE : RP_COOKIE;
	default:
		return RP_DROP;
	}
}

struct rp {
	struct config *cfg;
	struct udp udp;
	struct rng rng;
	struct evlog log;
	struct rp_table t;
	struct identity ids;
	uint32_t self_id;
	uint64_t refused[RP_VERDICTS];
	uint64_t bad_leaves;
};

static void reply(struct rp *r, const struct rp_entry *to)
{
	const struct rp_table *t = &r->t;
	struct wire_msg m;
	wire_msg_init(&m, WIRE_BOOTSTRAP, 0, r->self_id);
	struct wire_bootstrap *b = &m.u.boot;
	/* A stream whose source left keeps its slot until a source takes it;
	 * peers are told only of streams with a source. */
	b->nstreams = 0;
	for (int s = 0; s < t->nstreams; s++)
		if (t->streams[s].source.id)
			b->streams[b->nstreams++] = t->streams[s];
	/* Two passes over a random rotation: same stream first, then others
	 * (the mesh spans all streams). */
	b->npeers = 0;
	int room = (int)wire_bootstrap_peer_room(b->nstreams);
	int same_max = RP_SAME_STREAM * room / (int)WIRE_MAX_PEERS;
	int n = t->b.n;
	int start = n ? (int)rng_below(&r->rng, (uint64_t)n) : 0;
	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < n && b->npeers < room; k++) {
			const struct rp_entry *e = rp_table_at(t, (start + k) % n);
			int same = e->stream == to->stream;
			if (e == to || same != (pass == 0))
				continue;
			if (pass == 0 && b->npeers >= same_max)
				break;
			b->peers[b->npeers++] =
			    (struct wire_peer_entry){e->k.addr, e->stream, e->role};
		}
	}
	udp_send(&r->udp, to->k.addr.ip, to->k.addr.port, &m);
}

static const char *const verdict_names[RP_VERDICTS] = {
    [RP_REFUSED_ID_BOUND] = "id_bound",         [RP_REFUSED_ADDR_FULL] = "addr_full",
    [RP_REFUSED_STREAM_OWNED] = "stream_owned", [RP_REFUSED_STREAM_KEY] = "stream_key",
    [RP_REFUSED_STREAMS] = "streams_full",
};

static void on_register(struct rp *r, const struct wire_msg *m, const struct wire_addr *from)
{
	const struct wire_register *g = &m->u.reg;
	struct rp_entry *e;
	enum rp_verdict v = rp_table_register(&r->t, g, from, mono_us(), &e);
	if (v >= RP_REFUSED_ID_BOUND) {
		/* Counted, not logged one line each: a flood must not fill the disk. */
		r->refused[v]++;
		return;
	}
	if (v == RP_OK_NEW || v == RP_OK_EVICTED)
		evlog_event(&r->log, "register", "id=%u role=%u name=%.*s%s", from->id, g->role,
		            (int)WIRE_STREAM_NAME, g->name, v == RP_OK_EVICTED ? " evicted=1" : "");
	reply(r, e);
}

static void on_msg(void *arg, const struct wire_msg *m, const struct wire_addr *from)
{
	struct rp *r = arg;
	uint64_t now = mono_us();
	enum rp_action a = rp_admit(&r->ids, m, from, now);
	if (a == RP_COOKIE) {
		struct wire_msg c;
		identity_cookie_msg(&r->ids, from, now, &c);
		udp_send(&r->udp, from->ip, from->port, &c);
	}
	if (a != RP_HANDLE)
		return;
	if (m->hdr.type == WIRE_REGISTER) {
		on_register(r, m, from);
	} else if (m->hdr.type == WIRE_LEAVE) {
		if (rp_table_leave(&r->t, from))
			r->bad_leaves++;
		else
			evlog_event(&r->log, "forget", "id=%u reason=leave", from->id);
	}
}

static uint64_t expire_timer(struct loop *l, void *arg)
{
	struct rp *r = arg;
	uint64_t now = mono_us();
	for (int i = r->t.b.n - 1; i >= 0; i--) {
		const struct rp_entry *e = rp_table_at(&r->t, i);
		if (now - e->k.last_us <= RP_EXPIRE_US)
			continue;
		evlog_event(&r->log, "forget", "id=%u reason=silent", e->k.addr.id);
		bindtab_remove(&r->t.b, i);
	}
	identity_expire(&r->ids, now);
	evlog_flush(&r->log);
	return 1000000u;
}

static void log_end(struct rp *r)
{
	char refused[256] = "";
	size_t k = 0;
	for (int v = RP_REFUSED_ID_BOUND; v < RP_VERDICTS; v++)
		k += (size_t)snprintf(refused + k, sizeof(refused) - k, " refused_%s=%llu",
		                      verdict_names[v], (unsigned long long)r->refused[v]);
	evlog_event(&r->log, "leave",
	            "entries=%d streams=%d bad=%llu bad_leaves=%llu cookies=%llu echoes_bad=%llu "
	            "refused_ident=%llu%s",
	            r->t.b.n, r->t.nstreams, (unsigned long long)r->udp.bad,
	            (unsigned long long)r->bad_leaves, (unsigned long long)r->ids.strangers,
	            (unsigned long long)r->ids.echoes_bad, (unsigned long long)r->ids.refused,
	            refused);
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
	if (rp_table_init(&r.t, RP_MAX_ENTRIES)) {
		err_msg("allocate rendezvous table: out of memory");
		return 1;
	}
	if (identity_init(&r.ids, r.self_id)) {
		err_msg("set up the rendezvous point's cookies: out of memory or no randomness");
		rp_table_free(&r.t);
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
	loop_on_late(l, EVLOG_STALL_US, evlog_stall, &r.log);
	loop_add_timer(l, 1000000u, expire_timer, &r);
	loop_run(l, NULL, NULL);
	log_end(&r);
	rc = 0;
out:
	loop_free(l);
	evlog_close(&r.log);
	udp_close(&r.udp);
	rp_table_free(&r.t);
	identity_free(&r.ids);
	return rc;
}
