/* The streaming node: an end peer or a source. Wires the managers to the
 * UDP endpoint, the timers and the HTTP server: it decodes datagrams and
 * hands them on, and sends what the managers decide. */
#include "peer/node.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer/http.h"
#include "peer/media.h"
#include "peer/serve.h"
#include "peer/source.h"
#include "peer/status.h"

#define REGISTER_RETRY_US 1000000u
#define REGISTER_REFRESH_US 5000000u
#define MAINTAIN_US 1000000u
#define MAP_US 500000u
#define SCHED_US 200000u
#define PLAY_US 20000u
#define WATCH_US 50000u
#define TICK_US 1000000u
#define REPORT_US 5000000u
#define PARTNER_TIMEOUT_US 6000000u
#define RETRY_REQ_US 1000000u
/* Both socket buffers: a busy peer must not drop a burst of segments. */
#define SOCKET_BUF_BYTES (1 << 20)

static void send_to(struct node *n, const struct wire_addr *a, const struct wire_msg *m)
{
	if (fault_forward(&n->fault, a->ip, a->port, m))
		return;
	udp_send(&n->udp, a->ip, a->port, m);
}

static void send_simple(struct node *n, const struct wire_addr *a, enum wire_type type,
                        uint16_t stream, uint8_t reason)
{
	struct wire_msg m;
	wire_msg_simple(&m, type, stream, n->self.id, 0, reason);
	send_to(n, a, &m);
}

static void send_register(struct node *n)
{
	struct wire_msg m;
	wire_msg_init(&m, WIRE_REGISTER, n->have_stream ? n->ov.stream : 0, n->self.id);
	struct wire_register *r = &m.u.reg;
	memset(r, 0, sizeof(*r));
	r->role = n->cfg->role == ROLE_SOURCE ? WIRE_ROLE_SOURCE : WIRE_ROLE_PEER;
	r->mode = (uint8_t)n->cfg->mode;
	r->port = n->self.port;
	r->ip = n->self.ip;
	r->upload_slots = (uint16_t)n->cfg->max_partners;
	r->rate_bps = (uint32_t)n->cfg->rate_bps;
	snprintf(r->name, sizeof(r->name), "%s",
	         n->cfg->role == ROLE_SOURCE ? n->cfg->stream : n->cfg->watch);
	if (n->cfg->role == ROLE_SOURCE)
		memcpy(r->key, n->key.pk, WIRE_KEY_LEN);
	udp_send(&n->udp, n->rp_ip, n->rp_port, &m);
}

static uint64_t register_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	if (n->leaving)
		return 0;
	send_register(n);
	return n->bootstrapped ? REGISTER_REFRESH_US : REGISTER_RETRY_US;
}

static void partner_added(struct node *n, const struct partner *p)
{
	evlog_event(&n->log, "partner_add", "id=%u stream=%u source=%d np=%d", p->addr.id,
	            n->ov.stream, p->is_source, n->ov.np);
}

static void drop_partner(struct node *n, uint32_t id, const char *why)
{
	if (!overlay_partner(&n->ov, id))
		return;
	overlay_partner_del(&n->ov, id);
	evlog_event(&n->log, "partner_del", "id=%u reason=%s np=%d", id, why, n->ov.np);
}

static int stream_setup(struct node *n, uint16_t id, const char *name, uint64_t rate,
                        const struct wire_addr *source)
{
	if (overlay_init(&n->ov, id, name, rate, n->cfg->buffer_us)) {
		err_msg("allocate buffer for stream %s: out of memory", name);
		return -1;
	}
	if (source)
		n->ov.source = *source;
	n->have_stream = 1;
	return 0;
}

/* The stream's key from the rendezvous point: the lists signed with it
 * are the ones a peer takes, as many as cover its buffer on a stream of
 * rate_bps. */
static int auth_setup(struct node *n, uint16_t stream, const uint8_t *key, uint64_t rate_bps)
{
	if (n->auth_ready) {
		auth_set_key(&n->auth, key);
		return 0;
	}
	if (auth_init(&n->auth, stream, key, auth_window(rate_bps, n->cfg->buffer_us))) {
		err_msg("set up media authentication for stream %u: out of memory", stream);
		return -1;
	}
	n->auth_ready = 1;
	return 0;
}

static void on_bootstrap(struct node *n, const struct wire_bootstrap *b)
{
	n->heard_rp = 1;
	for (int i = 0; i < b->nstreams && n->have_stream && n->cfg->role == ROLE_PEER; i++)
		if (b->streams[i].id == n->ov.stream)
			auth_setup(n, n->ov.stream, b->streams[i].key, b->streams[i].rate_bps);
	if (n->cfg->role == ROLE_PEER && !n->have_stream) {
		for (int i = 0; i < b->nstreams; i++) {
			const struct wire_stream_desc *s = &b->streams[i];
			if (strcmp(s->name, n->cfg->watch))
				continue;
			if (auth_setup(n, s->id, s->key, s->rate_bps) ||
			    stream_setup(n, s->id, s->name, s->rate_bps, &s->source))
				return;
			inter_set_stream(&n->inter, s->id, s->source.id, s->rate_bps, 0);
			mesh_set_watch(&n->mesh, s->id);
			evlog_event(&n->log, "join", "stream=%u name=%s rate=%u", s->id, s->name,
			            s->rate_bps);
		}
	}
	if (n->cfg->role == ROLE_SOURCE && !n->ov.stream) {
		for (int i = 0; i < b->nstreams; i++)
			if (b->streams[i].source.id == n->self.id)
				n->ov.stream = b->streams[i].id;
		if (n->ov.stream && auth_setup(n, n->ov.stream, n->key.pk, n->cfg->rate_bps))
			n->ov.stream = 0;
		if (n->ov.stream) {
			inter_set_stream(&n->inter, n->ov.stream, n->self.id, n->cfg->rate_bps, 1);
			mesh_set_watch(&n->mesh, n->ov.stream);
		}
	}
	uint64_t now = mono_us();
	for (int i = 0; i < b->nstreams; i++)
		identity_learn(&n->ids, &b->streams[i].source, now);
	memcpy(n->streams, b->streams, sizeof(b->streams[0]) * b->nstreams);
	n->nstreams = b->nstreams;
	n->ncand = 0;
	for (int i = 0; i < b->npeers; i++) {
		identity_learn(&n->ids, &b->peers[i].addr, now);
		if (b->peers[i].addr.id != n->self.id)
			n->cand[n->ncand++] = b->peers[i];
	}
	if (!n->bootstrapped)
		evlog_event(&n->log, "bootstrap", "peers=%d streams=%d", b->npeers, b->nstreams);
	n->bootstrapped = n->have_stream;
}

/* No new partner: --max-partners reached, or the uplink's connections
 * all taken by partners and push children (inter_conns_free). A peer
 * always keeps room for the --partners it looks for itself: a partnership
 * is also how the peer receives, and on a thin uplink (1 Mbit/s carries 3
 * streams of 300 kbit/s) partners pull only part of the stream each. */
static int partners_full(const struct node *n)
{
	if (n->ov.np >= n->cfg->max_partners)
		return 1;
	if (n->cfg->role == ROLE_PEER && n->ov.np < n->cfg->partners)
		return 0;
	return inter_conns_free(&n->inter, n->ov.np) <= 0;
}

/* A partner request, accept, map or request from a sender of our stream. */
static int same_stream(const struct node *n, const struct wire_msg *m)
{
	return n->have_stream && n->ov.stream && m->hdr.stream == n->ov.stream;
}

static void on_neigh_req(struct node *n, const struct wire_msg *m, const struct wire_addr *from)
{
	if (m->hdr.stream == 0) {
		mesh_on_request(&n->mesh, from, m->u.simple.watch, mono_us());
		return;
	}
	if (!same_stream(n, m) || n->leaving) {
		send_simple(n, from, WIRE_NEIGH_CUT, m->hdr.stream, WIRE_CUT_NOT_WATCHING);
		return;
	}
	struct partner *p = overlay_partner(&n->ov, from->id);
	if (!p && partners_full(n)) {
		send_simple(n, from, WIRE_NEIGH_CUT, m->hdr.stream, WIRE_CUT_FULL);
		return;
	}
	int was = p != NULL;
	p = overlay_partner_add(&n->ov, from, mono_us());
	if (!p)
		return;
	if (!was)
		partner_added(n, p);
	send_simple(n, from, WIRE_NEIGH_ACCEPT, m->hdr.stream, 0);
}

static void on_neigh_accept(struct node *n, const struct wire_msg *m, const struct wire_addr *from)
{
	if (m->hdr.stream == 0) {
		mesh_on_accept(&n->mesh, from, m->u.simple.watch, mono_us());
		return;
	}
	if (!same_stream(n, m))
		return;
	int was = overlay_partner(&n->ov, from->id) != NULL;
	if (!was && partners_full(n)) {
		send_simple(n, from, WIRE_NEIGH_CUT, m->hdr.stream, WIRE_CUT_FULL);
		return;
	}
	struct partner *p = overlay_partner_add(&n->ov, from, mono_us());
	if (p && !was)
		partner_added(n, p);
}

static void on_map(struct node *n, const struct wire_msg *m, const struct wire_addr *from)
{
	struct partner *p = same_stream(n, m) ? overlay_partner(&n->ov, from->id) : NULL;
	if (p)
		overlay_on_map(&n->ov, p, &m->u.map, mono_us());
}

static void on_seg_request(struct node *n, const struct wire_msg *m, const struct wire_addr *from)
{
	if (!same_stream(n, m))
		return;
	struct partner *p = overlay_partner(&n->ov, from->id);
	if (!p) {
		n->refused_requests += m->u.req.count;
		return;
	}
	int budget = serve_budget(&p->serve, n->ov.buf.period_us, m->u.req.count, mono_us());
	n->refused_requests += (uint64_t)(m->u.req.count - budget);
	struct wire_msg d;
	wire_msg_init(&d, WIRE_SEG_DATA, n->ov.stream, n->self.id);
	for (int i = 0; i < budget; i++) {
		const struct segment *s = buffer_get(&n->ov.buf, m->u.req.seqs[i]);
		if (!s)
			continue;
		d.u.seg = (struct wire_seg_data){
		    .seq = s->seq,
		    .origin_us = s->origin_us,
		    .hops = (uint8_t)(s->hops < 255 ? s->hops + 1 : 255),
		    .checksum = s->checksum,
		    .len = s->len,
		    .payload = s->data,
		};
		send_to(n, from, &d);
		n->served++;
		n->pull_bytes += s->len;
	}
}

/* A segment of the own stream whose hash checked out (or, without signed
 * media, whose checksum did): stored, pushed on and logged. Only stored
 * ones get a record on disk; the rest are counted, so a flood cannot fill
 * it. */
static void take_segment(struct node *n, const struct wire_seg_data *sd)
{
	uint64_t now = real_us();
	uint32_t delay = now > sd->origin_us ? (uint32_t)(now - sd->origin_us) : 0;
	uint8_t flags = SEG_CHECKSUM_OK;
	if (n->synthetic &&
	    media_synth_verify(n->ov.stream, sd->seq, sd->origin_us, sd->payload, sd->len))
		flags |= SEG_CONTENT_OK;
	if (!overlay_store(&n->ov, sd, mono_us())) {
		n->seg_rejected++;
		return;
	}
	flags |= SEG_STORED;
	overlay_note_delay(&n->ov, sd->origin_us, now);
	inter_push(&n->inter, n->ov.stream, sd);
	evlog_segment(&n->log, n->ov.stream, sd->seq, delay, sd->hops, flags);
}

static void take_released(void *arg, const struct wire_seg_data *sd, const struct wire_addr *from)
{
	take_segment(arg, sd);
}

/* Ask the sender of a held segment, which took it and so has its list,
 * for the list: the first held segment's, one list at a time (a start-up
 * backlog spans several), again after AUTH_ASK_US if none came. */
static void ask_list(struct node *n, uint64_t now)
{
	const struct auth_held *h = auth_first_held(&n->auth);
	if (!h || (now - n->hreq_us < AUTH_ASK_US && h->sd.seq - n->hreq_seq < WIRE_MAX_HASHES))
		return;
	n->hreq_us = now;
	n->hreq_seq = h->sd.seq;
	struct wire_msg m;
	wire_msg_simple(&m, WIRE_HASH_REQ, n->ov.stream, n->self.id, h->sd.seq, 0);
	send_to(n, &h->from, &m);
}

/* A segment ahead of its hash list waits for it. Only a partner's or the
 * push parent's: a stranger's could fill the hold and crowd them out. */
static void hold_segment(struct node *n, const struct wire_seg_data *sd,
                         const struct wire_addr *from)
{
	uint64_t now = mono_us();
	if (!overlay_partner(&n->ov, from->id) && !inter_is_parent(&n->inter, from->id)) {
		n->seg_rejected++;
		return;
	}
	if (!auth_hold(&n->auth, sd, from, now))
		ask_list(n, now);
}

/* A corrupted or forged segment is never stored or relayed: its checksum,
 * then its hash against the source's signed list (auth.h). */
static void on_seg_data(struct node *n, const struct wire_msg *m, const struct wire_addr *from)
{
	if (!same_stream(n, m)) {
		inter_on_relay_segment(&n->inter, m->hdr.stream, &m->u.seg, from, mono_us());
		return;
	}
	if (n->cfg->role != ROLE_PEER)
		return;
	const struct wire_seg_data *sd = &m->u.seg;
	enum auth_verdict v = AUTH_OK;
	if (wire_checksum(sd->payload, sd->len) != sd->checksum)
		v = AUTH_BAD;
	else if (!n->cfg->no_auth)
		v = auth_check(&n->auth, sd);
	if (v == AUTH_OK)
		take_segment(n, sd);
	else if (v == AUTH_UNKNOWN)
		hold_segment(n, sd, from);
	else
		n->seg_corrupt++;
	if (v == AUTH_BAD)
		return; /* says nothing of a path, but that its sender forges */
	uint64_t now = real_us();
	uint32_t delay = now > sd->origin_us ? (uint32_t)(now - sd->origin_us) : 0;
	inter_on_own_segment(&n->inter, from, sd, delay, mono_us());
	struct partner *p = overlay_partner(&n->ov, from->id);
	if (p)
		p->last_heard_us = mono_us();
}

void node_spread_list(struct node *n, const struct wire_hash_list *hl, uint32_t except_id)
{
	struct wire_msg m;
	wire_msg_init(&m, WIRE_HASH_LIST, n->ov.stream, n->self.id);
	m.u.hl = *hl;
	for (int i = 0; i < n->ov.np; i++)
		if (n->ov.p[i].addr.id != except_id)
			send_to(n, &n->ov.p[i].addr, &m);
	inter_push_list(&n->inter, n->ov.stream, hl);
}

/* A hash list from a partner or the push parent: one signature check, then
 * on to the others once, and the segments held for it go through. Lists
 * from anyone else are not checked, so a stranger cannot make a peer spend
 * its CPU on signatures. */
static void on_hash_list(struct node *n, const struct wire_msg *m, const struct wire_addr *from)
{
	if (!same_stream(n, m)) {
		inter_on_relay_list(&n->inter, m->hdr.stream, &m->u.hl, from, mono_us());
		return;
	}
	if (n->cfg->role != ROLE_PEER || n->cfg->no_auth || !n->auth_ready)
		return;
	if (!overlay_partner(&n->ov, from->id) && !inter_is_parent(&n->inter, from->id))
		return;
	if (auth_on_list(&n->auth, &m->u.hl) != AUTH_OK)
		return;
	node_spread_list(n, &m->u.hl, from->id);
	uint64_t now = mono_us();
	auth_release(&n->auth, now, take_released, n);
	n->hreq_us = 0; /* a list came: the next one may be asked for at once */
	ask_list(n, now);
}

/* Answered for partners and push children only, as a list is larger than
 * the request, and within their serve budget (peer/serve.h), as a
 * requester could ask for the same list over and over. */
static void on_hash_req(struct node *n, const struct wire_msg *m, const struct wire_addr *from)
{
	uint64_t now = mono_us();
	if (!same_stream(n, m)) {
		inter_on_relay_hash_req(&n->inter, m->hdr.stream, m->u.simple.seq, from, now);
		return;
	}
	if (!n->auth_ready)
		return;
	struct partner *p = overlay_partner(&n->ov, from->id);
	struct bucket *budget = p ? &p->serve : inter_child_budget(&n->inter, from->id);
	const struct wire_hash_list *hl = budget ? auth_find(&n->auth, m->u.simple.seq) : NULL;
	if (!hl)
		return;
	if (!serve_budget(budget, n->ov.buf.period_us, 1, now)) {
		n->lists_over++;
		return;
	}
	struct wire_msg r;
	wire_msg_init(&r, WIRE_HASH_LIST, n->ov.stream, n->self.id);
	r.u.hl = *hl;
	send_to(n, from, &r);
	n->lists_served++;
}

static void on_leave(struct node *n, const struct wire_msg *m, const struct wire_addr *from,
                     const char *why)
{
	/* A cut names one relation (stream partner, or mesh link when the
	 * stream is 0); a leave ends them all. */
	int leave = m->hdr.type == WIRE_LEAVE;
	if (leave || m->u.simple.reason == WIRE_CUT_PATH)
		inter_on_cut(&n->inter, leave ? 0 : m->hdr.stream, from->id, mono_us());
	if (!leave && m->u.simple.reason == WIRE_CUT_PATH)
		return;
	if (leave || m->hdr.stream == 0)
		mesh_on_cut(&n->mesh, from->id, why);
	if (!leave && m->hdr.stream == 0)
		return;
	drop_partner(n, from->id, why);
	for (int i = 0; i < n->ncand; i++)
		if (n->cand[i].addr.id == from->id)
			n->cand[i] = n->cand[--n->ncand];
}

/* A remote sent a cookie: the datagram it answered was dropped, so the
 * cookie goes back from here, and a partner request to a candidate, the
 * usual first contact, goes again at once rather than at the next round
 * (once a round at most: the echo is no larger than the cookie, and the
 * request must not make a forged cookie worth more). */
static void on_cookie(struct node *n, const struct wire_msg *m, const struct wire_addr *from)
{
	if (!identity_may_echo(&n->ids, from)) {
		n->ids.refused++;
		return;
	}
	struct wire_msg r;
	wire_msg_echo(&r, n->self.id, &m->u.cookie);
	send_to(n, from, &r);
	if (n->cfg->role != ROLE_PEER || !n->have_stream || n->leaving ||
	    overlay_partner(&n->ov, from->id) || n->ov.np >= n->cfg->partners)
		return;
	uint64_t now = mono_us();
	for (int i = 0; i < n->ncand; i++)
		if (n->cand[i].addr.id == from->id && n->cand[i].addr.ip == from->ip &&
		    n->cand[i].addr.port == from->port &&
		    now - n->cand_reask_us[i] >= MAINTAIN_US) {
			n->cand_reask_us[i] = now;
			send_simple(n, from, WIRE_NEIGH_REQ, n->ov.stream, 0);
		}
}

/* May the message be handled? Only the rendezvous point's bootstrap comes
 * from its own address; anything else must come from where its claimed id
 * is bound, and a stranger gets a cookie to echo (identity.h). */
static int admitted(struct node *n, const struct wire_msg *m, const struct wire_addr *from)
{
	if (from->ip == n->rp_ip && from->port == n->rp_port) {
		if (m->hdr.type != WIRE_COOKIE)
			return 1;
		/* The rendezvous point answers a first register with a cookie
		 * (peer/rp.h): echoed, the register goes again at once, once a
		 * retry period at most, so cookies forged under the rendezvous
		 * point's address draw no stream of registers. */
		struct wire_msg r;
		wire_msg_echo(&r, n->self.id, &m->u.cookie);
		send_to(n, from, &r);
		uint64_t now = mono_us();
		if (!n->leaving && now - n->rp_cookie_us >= REGISTER_RETRY_US) {
			n->rp_cookie_us = now;
			send_register(n);
		}
		return 0;
	}
	/* Before the first bootstrap a node knows no one: a stranger heard
	 * then could bind the id it claims (the source's, say) before the
	 * rendezvous point's list could name its owner. */
	if (!n->heard_rp) {
		n->ids.refused++;
		return 0;
	}
	uint64_t now = mono_us();
	if (m->hdr.type == WIRE_COOKIE) {
		on_cookie(n, m, from);
		return 0;
	}
	if (m->hdr.type == WIRE_COOKIE_ECHO) {
		identity_on_echo(&n->ids, from, m->u.cookie.cookie, now);
		return 0;
	}
	enum ident_verdict v = identity_admit(&n->ids, from, now);
	if (v == IDENT_STRANGER) {
		struct wire_msg r;
		identity_cookie_msg(&n->ids, from, now, &r);
		send_to(n, from, &r);
	}
	return v == IDENT_OK;
}

static void on_msg(void *arg, const struct wire_msg *m, const struct wire_addr *from)
{
	struct node *n = arg;
	if (!admitted(n, m, from))
		return;
	switch (m->hdr.type) {
	case WIRE_BOOTSTRAP:
		if (from->ip == n->rp_ip && from->port == n->rp_port)
			on_bootstrap(n, &m->u.boot);
		break;
	case WIRE_NEIGH_REQ:
		on_neigh_req(n, m, from);
		break;
	case WIRE_NEIGH_ACCEPT:
		on_neigh_accept(n, m, from);
		break;
	case WIRE_NEIGH_CUT:
		on_leave(n, m, from, "cut");
		break;
	case WIRE_LEAVE:
		on_leave(n, m, from, "leave");
		break;
	case WIRE_DETECTOR:
		mesh_on_detector(&n->mesh, &m->u.det, from, real_us(), mono_us());
		break;
	case WIRE_BUFFER_MAP:
		on_map(n, m, from);
		break;
	case WIRE_SEG_REQUEST:
		on_seg_request(n, m, from);
		break;
	case WIRE_SEG_DATA:
		on_seg_data(n, m, from);
		break;
	case WIRE_HASH_LIST:
		on_hash_list(n, m, from);
		break;
	case WIRE_HASH_REQ:
		on_hash_req(n, m, from);
		break;
	case WIRE_PROBE:
		inter_on_probe(&n->inter, &m->u.probe, from,
		               n->cfg->role == ROLE_SOURCE || n->ov.buf.playing, real_us(),
		               mono_us());
		break;
	case WIRE_PATH_SETUP:
		inter_on_path_setup(&n->inter, m->hdr.stream, &m->u.path, from,
		                    same_stream(n, m) &&
		                        (n->cfg->role == ROLE_SOURCE || n->ov.buf.playing),
		                    mono_us());
		break;
	case WIRE_RENEW:
		inter_on_renew(&n->inter, m->hdr.stream, from, mono_us());
		break;
	case WIRE_RELAY_ACCEPT:
	case WIRE_RELAY_REFUSE:
		inter_on_relay_answer(&n->inter, m->hdr.stream, m->hdr.type == WIRE_RELAY_ACCEPT,
		                      m->u.simple.seq, from, mono_us());
		break;
	default:
		break;
	}
}

static void ask_partners(struct node *n)
{
	struct wire_addr ask[OVERLAY_MAX_PARTNERS];
	int k = overlay_pick_partners(&n->ov, &n->mesh, n->policy->mesh_partners, n->cand, n->ncand,
	                              &n->rng, n->cfg->partners - n->ov.np, ask);
	for (int i = 0; i < k; i++)
		send_simple(n, &ask[i], WIRE_NEIGH_REQ, n->ov.stream, 0);
}

static uint64_t maintain_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	if (!n->have_stream || n->leaving)
		return MAINTAIN_US;
	uint64_t now = mono_us();
	identity_expire(&n->ids, now);
	uint64_t real = real_us();
	inter_tick(&n->inter, overlay_last_delay(&n->ov, real), real, now);
	for (int i = n->ov.np - 1; i >= 0; i--) {
		if (now - n->ov.p[i].last_heard_us <= PARTNER_TIMEOUT_US)
			continue;
		/* A partner silent this long is gone: so are its paths. */
		uint32_t id = n->ov.p[i].addr.id;
		drop_partner(n, id, "timeout");
		inter_on_cut(&n->inter, 0, id, now);
	}
	if (n->cfg->role == ROLE_PEER)
		ask_partners(n);
	return MAINTAIN_US;
}

static uint64_t mesh_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	return mesh_round(&n->mesh, real_us(), mono_us());
}

static uint64_t map_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	if (!n->have_stream || !n->ov.np || n->leaving)
		return MAP_US;
	struct wire_msg m;
	wire_msg_init(&m, WIRE_BUFFER_MAP, n->ov.stream, n->self.id);
	overlay_fill_map(&n->ov, &m.u.map);
	int free_slots = n->cfg->max_partners - n->ov.np;
	int conns = inter_conns_free(&n->inter, n->ov.np);
	if (conns < free_slots)
		free_slots = conns;
	m.u.map.upload_free = (uint16_t)(free_slots > 0 ? free_slots : 0);
	for (int i = 0; i < n->ov.np; i++)
		send_to(n, &n->ov.p[i].addr, &m);
	return MAP_US;
}

/* Media to hold before playback: --startup, or the mode's start rule. */
static uint64_t startup_us(const struct node *n)
{
	if (n->cfg->startup_us)
		return n->cfg->startup_us;
	return policy_startup_us(n->policy, n->cfg->buffer_us, n->ov.layer);
}

/* The requests of this round that go to partner i, in datagrams of at
 * most WIRE_MAX_REQ. */
static void send_requests(struct node *n, int i, const struct sched_choice *ch, size_t k)
{
	struct wire_msg m;
	wire_msg_init(&m, WIRE_SEG_REQUEST, n->ov.stream, n->self.id);
	m.u.req.count = 0;
	for (size_t j = 0; j < k; j++) {
		if (ch[j].partner != i)
			continue;
		m.u.req.seqs[m.u.req.count++] = ch[j].seq;
		if (m.u.req.count == WIRE_MAX_REQ) {
			send_to(n, &n->ov.p[i].addr, &m);
			m.u.req.count = 0;
		}
	}
	if (m.u.req.count)
		send_to(n, &n->ov.p[i].addr, &m);
}

static uint64_t sched_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	if (!n->have_stream || !n->ov.np || n->leaving)
		return SCHED_US;
	if (n->auth_ready) {
		auth_release(&n->auth, mono_us(), take_released, n); /* the hold's time limit */
		ask_list(n, mono_us());
	}
	struct sched_choice ch[512];
	size_t k = overlay_pull_round(&n->ov, startup_us(n), SCHED_US, RETRY_REQ_US, mono_us(), ch,
	                              ARRAY_LEN(ch));
	for (int i = 0; i < n->ov.np; i++)
		send_requests(n, i, ch, k);
	return SCHED_US;
}

/* Playout: each segment reaching its deadline goes to the local players,
 * in order; a missing one is a gap in the stream, as on a real player. */
static void playout(void *arg, uint32_t seq, int on_time)
{
	struct node *n = arg;
	if (!n->http || !on_time)
		return;
	const struct segment *s = buffer_get(&n->ov.buf, seq);
	if (s)
		http_stream_write(n->http, s->data, s->len);
}

static char *serve_status(void *arg)
{
	return status_json(arg);
}

/* Push paths between ticks (inter_watch): a peer from its play timer, a
 * source from its own. */
static void watch_paths(struct node *n, uint64_t now)
{
	if (n->leaving)
		return;
	uint64_t real = real_us();
	inter_watch(&n->inter, overlay_last_delay(&n->ov, real), real, now);
}

static uint64_t watch_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	if (n->have_stream)
		watch_paths(n, mono_us());
	return WATCH_US;
}

static uint64_t play_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	if (!n->have_stream)
		return PLAY_US;
	struct buffer *b = &n->ov.buf;
	uint64_t now = mono_us();
	if (b->playing) {
		buffer_advance(b, now, playout, n);
	} else if (overlay_try_play(&n->ov, startup_us(n), now)) {
		const struct segment *s = buffer_get(b, n->ov.start_seq);
		evlog_play_start(&n->log, n->ov.start_seq, now - n->join_mono_us,
		                 real_us() - s->origin_us);
	}
	watch_paths(n, now);
	return PLAY_US;
}

/* What the uplink carried in the last second, for resource utilization
 * and push admission. */
static void log_util(struct node *n)
{
	if (!n->have_stream || !n->inter.rate_bps)
		return;
	struct inter *in = &n->inter;
	struct evlog_util u = {
	    .upload_bps = n->cfg->upload_bps,
	    .rate_bps = in->rate_bps,
	    .pull_bytes = n->pull_bytes - n->last_util.pull_bytes,
	    .push_bytes = in->push_bytes - n->last_util.push_bytes,
	    .relay_bytes = in->relay_bytes - n->last_util.relay_bytes,
	    .children = inter_children(in),
	    .keynode_used = inter_slots_used(in),
	};
	evlog_util(&n->log, &u);
	/* The same second's pull serving tells push admission what the
	 * partners hold (inter_pull_held). */
	inter_note_pull(in, u.pull_bytes);
	n->last_util = (struct evlog_util){.pull_bytes = n->pull_bytes,
	                                   .push_bytes = in->push_bytes,
	                                   .relay_bytes = in->relay_bytes};
}

static uint64_t tick_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	if (n->have_stream && n->ov.buf.playing) {
		struct buffer_stats *s = &n->ov.buf.st, *p = &n->last_tick;
		struct evlog_tick t = {
		    .due = s->due - p->due,
		    .on_time = s->on_time - p->on_time,
		    .recv = s->received - p->received,
		    .late = s->late - p->late,
		    .dup = s->duplicates - p->duplicates,
		    .partners = n->ov.np,
		    .last_delay_us = overlay_last_delay(&n->ov, real_us()),
		};
		evlog_tick(&n->log, &t);
		*p = *s;
	}
	log_util(n);
	evlog_flush(&n->log);
	return TICK_US;
}

static uint64_t report_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	if (!n->have_stream)
		return REPORT_US;
	struct wire_msg m;
	wire_msg_init(&m, WIRE_REPORT, n->ov.stream, n->self.id);
	m.u.report = (struct wire_report){
	    .t_us = real_us(),
	    .partners = (uint16_t)n->ov.np,
	    .neighbours = (uint16_t)n->mesh.n,
	    .received = (uint32_t)n->ov.buf.st.received,
	    .due = (uint32_t)n->ov.buf.st.due,
	    .on_time = (uint32_t)n->ov.buf.st.on_time,
	    .last_delay_us = overlay_last_delay(&n->ov, real_us()),
	    .state = (uint8_t)(n->leaving ? 2 : n->ov.buf.playing),
	};
	udp_send(&n->udp, n->mon_ip, n->mon_port, &m);
	return REPORT_US;
}

static void announce_leave(struct node *n)
{
	struct wire_addr rp = {0, n->rp_ip, n->rp_port};
	send_simple(n, &rp, WIRE_LEAVE, 0, 0);
	for (int i = 0; i < n->ov.np; i++)
		send_simple(n, &n->ov.p[i].addr, WIRE_LEAVE, n->ov.stream, 0);
	mesh_leave(&n->mesh);
}

static int on_signal(struct loop *l, int sig, void *arg)
{
	struct node *n = arg;
	n->leaving = 1;
	/* The key-node connections in use against the live children they
	 * serve, as they stood before leaving cuts them. */
	evlog_event(&n->log, "slots", "used=%d children=%d relays=%d", inter_slots_used(&n->inter),
	            inter_children(&n->inter), n->inter.nrelay);
	inter_leave(&n->inter);
	announce_leave(n);
	return 1;
}

static void io_send(void *ctx, const struct wire_addr *to, const struct wire_msg *m)
{
	send_to(ctx, to, m);
}

/* Where reverse tracing goes: every mesh neighbour, or in anysee-intra
 * mode only those of the own overlay, so no path leaves it. */
static int io_neighbours(void *ctx, struct wire_addr *out, int max)
{
	struct node *n = ctx;
	if (n->policy->intra_only)
		return mesh_neighbours_watching(&n->mesh, n->ov.stream, out, max);
	return mesh_neighbours(&n->mesh, out, max);
}

static int io_partners(void *ctx)
{
	return ((struct node *)ctx)->ov.np;
}

static void io_path_lost(void *ctx)
{
	overlay_forget_delay(&((struct node *)ctx)->ov);
}

/* A mesh neighbour went silent: gone, for the inter-overlay paths too. */
static void io_lost(void *ctx, uint32_t id)
{
	struct node *n = ctx;
	inter_on_cut(&n->inter, 0, id, mono_us());
}

/* The key a relay checks a stream's media with: the rendezvous point's. */
static int io_stream_key(void *ctx, uint16_t stream, uint8_t key[WIRE_KEY_LEN])
{
	struct node *n = ctx;
	for (int i = 0; i < n->nstreams; i++)
		if (n->streams[i].id == stream) {
			memcpy(key, n->streams[i].key, WIRE_KEY_LEN);
			return 0;
		}
	return -1;
}

static int io_candidates(void *ctx, const struct wire_peer_entry **out)
{
	struct node *n = ctx;
	*out = n->cand;
	return n->ncand;
}

/* The socket, the event log and the managers, before the loop runs. */
static int node_open(struct node *n, struct config *cfg)
{
	char e[256];
	uint32_t ip;
	uint16_t port;
	n->cfg = cfg;
	n->policy = policy_of(cfg);
	rng_seed(&n->rng, cfg->seed ^ ((uint64_t)cfg->id << 32));
	parse_ipport(cfg->rp, &n->rp_ip, &n->rp_port);
	if (*cfg->monitor)
		parse_ipport(cfg->monitor, &n->mon_ip, &n->mon_port);
	parse_ipport(cfg->listen, &ip, &port);
	if (udp_open(&n->udp, ip, port, SOCKET_BUF_BYTES, e, sizeof(e))) {
		err_msg("start %s: %s", cfg->role == ROLE_SOURCE ? "source" : "peer", e);
		return -1;
	}
	n->self = (struct wire_addr){cfg->id ? cfg->id : ip, ip, port};
	if (identity_init(&n->ids, n->self.id)) {
		err_msg("allocate the identity table: out of memory");
		return -1;
	}
	if (evlog_open(&n->log, *cfg->log_dir ? cfg->log_dir : NULL)) {
		err_errno("open event log in %s", cfg->log_dir);
		return -1;
	}
	n->join_mono_us = mono_us();
	evlog_start(&n->log, cfg->role == ROLE_SOURCE ? "source" : "peer", n->self.id,
	            n->policy->name, cfg->role == ROLE_SOURCE ? cfg->stream : cfg->watch,
	            cfg->rate_bps, cfg->buffer_us);
	n->synthetic = 1;
	if (cfg->role == ROLE_SOURCE && auth_keypair(&n->key, cfg->key, e, sizeof(e))) {
		err_msg("make the source's signing key: %s", e);
		return -1;
	}
	struct inter_io iio = {
	    n,           io_send, io_neighbours, io_partners, cfg->no_auth ? NULL : io_stream_key,
	    io_path_lost};
	inter_init(&n->inter, &n->self, &n->log, &iio, &n->rng, n->policy->push_paths,
	           cfg->upload_bps);
	n->inter.own_only = n->policy->intra_only;
	n->inter.probe_share = cfg->probe_share;
	struct mesh_io mio = {n, io_send, io_candidates, io_lost};
	mesh_init(&n->mesh, cfg->neighbours, cfg->neighbours + 3);
	n->mesh.rule = cfg->ltm_rule;
	mesh_attach(&n->mesh, &n->self, &n->log, &mio, &n->rng, n->policy->mesh);
	if (cfg->role == ROLE_SOURCE &&
	    (stream_setup(n, 0, cfg->stream, cfg->rate_bps, &n->self) || source_start(n)))
		return -1;
	return 0;
}

/* A peer's timers act on periods of 20 ms or more, so each may wait up to
 * TIMER_SLACK_US for a wakeup the loop has anyway (a peer receives about
 * 90 datagrams a second at 300 kbit/s) instead of waking it: a wakeup is a
 * context switch, the largest cost of hundreds of peers on two cores.
 * Playback does not depend on it: a segment is on time by its arrival, not
 * by when the timer looks (buffer_advance). The source's own timer keeps
 * none: it paces the stream. */
#define TIMER_SLACK_US 20000u

static void add_timer(struct node *n, uint64_t after_us, loop_timer_fn fn)
{
	uint64_t id = loop_add_timer(n->loop, after_us, fn, n);
	if (id)
		loop_set_slack(n->loop, id, TIMER_SLACK_US);
}

static void start_timers(struct node *n)
{
	add_timer(n, 0, register_timer);
	add_timer(n, MAINTAIN_US / 4, maintain_timer);
	add_timer(n, MAP_US, map_timer);
	add_timer(n, TICK_US, tick_timer);
	if (n->cfg->role == ROLE_PEER) {
		add_timer(n, SCHED_US, sched_timer);
		add_timer(n, PLAY_US, play_timer);
	} else {
		loop_add_timer(n->loop, 0, source_timer, n);
		add_timer(n, WATCH_US, watch_timer);
	}
	if (*n->cfg->monitor)
		add_timer(n, REPORT_US, report_timer);
	if (n->policy->mesh)
		add_timer(n, MAINTAIN_US / 2, mesh_timer);
}

/* The loop, its timers and the HTTP server. */
static int node_start(struct node *n)
{
	struct config *cfg = n->cfg;
	n->loop = loop_new();
	if (!n->loop || udp_attach(&n->udp, n->loop, on_msg, n)) {
		err_errno("set up event loop");
		return -1;
	}
	loop_on_late(n->loop, EVLOG_STALL_US, evlog_stall, &n->log);
	start_timers(n);
	fault_init(&n->fault, cfg->fault_delay_us, cfg->fault_drop, cfg->seed, n->loop, &n->udp);
	if (fault_active(&n->fault))
		evlog_event(&n->log, "fault", "forward_delay_us=%llu forward_drop=%.3f",
		            (unsigned long long)cfg->fault_delay_us, cfg->fault_drop);
	if (!cfg->http_port)
		return 0;
	char e[256];
	n->http = http_new(n->loop, cfg->http_bind, cfg->http_port, serve_status, n, "video/mp2t",
	                   e, sizeof(e));
	if (!n->http) {
		err_msg("start HTTP server on %s:%d: %s", cfg->http_bind, cfg->http_port, e);
		return -1;
	}
	evlog_event(&n->log, "http", "bind=%s port=%d", cfg->http_bind, http_port(n->http));
	return 0;
}

static void log_totals(struct node *n)
{
	const struct inter *in = &n->inter;
	const struct buffer_stats *st = &n->ov.buf.st;
	evlog_event(
	    &n->log, "inter",
	    "probes=%llu probes_declined=%llu probes_followed=%llu paths_built=%llu paths_cut=%llu "
	    "paths_replaced=%llu paths_short=%llu seconds_built=%llu seconds_promoted=%llu "
	    "children=%d relays=%d leases_expired=%llu",
	    (unsigned long long)in->probes_sent, (unsigned long long)in->probes_declined,
	    (unsigned long long)in->probes_followed, (unsigned long long)in->paths_built,
	    (unsigned long long)in->paths_cut, (unsigned long long)in->paths_replaced,
	    (unsigned long long)in->paths_short, (unsigned long long)in->seconds_built,
	    (unsigned long long)in->seconds_promoted, in->nchild, in->nrelay,
	    (unsigned long long)in->leases_expired);
	evlog_probes(&n->log, &(struct evlog_probes){in->probes_forwarded, in->probe_fwd_bytes,
	                                             in->probes_over_budget, in->probes_over_share,
	                                             in->probes_refused});
	evlog_event(&n->log, "detectors", "forged=%llu over=%llu",
	            (unsigned long long)n->mesh.detectors_forged,
	            (unsigned long long)n->mesh.detectors_over);
	/* What the sequence window and the clock check turned away. */
	evlog_event(&n->log, "window", "segments=%llu maps=%llu future_stamps=%llu",
	            (unsigned long long)st->out_of_window, (unsigned long long)n->ov.maps_dropped,
	            (unsigned long long)n->ov.future_stamps);
	evlog_event(&n->log, "identity",
	            "refused=%llu known=%d requests_refused=%llu strangers=%llu echoes_bad=%llu",
	            (unsigned long long)n->ids.refused, n->ids.t.n,
	            (unsigned long long)n->refused_requests, (unsigned long long)n->ids.strangers,
	            (unsigned long long)n->ids.echoes_bad);
	const struct auth *a = &n->auth;
	/* lists_served: the own stream's lists sent on request; lists_over:
	 * lists refused for the requester's serve budget, relay children's
	 * included. */
	evlog_event(&n->log, "auth",
	            "lists=%llu lists_bad=%llu lists_dup=%llu lists_signed=%llu held=%llu "
	            "released=%llu mismatched=%llu expired=%llu hold_full=%llu lists_served=%llu "
	            "lists_over=%llu",
	            (unsigned long long)a->lists_ok, (unsigned long long)a->lists_bad,
	            (unsigned long long)a->lists_dup, (unsigned long long)n->sq.lists,
	            (unsigned long long)a->held_total, (unsigned long long)a->released,
	            (unsigned long long)a->mismatched, (unsigned long long)a->expired,
	            (unsigned long long)a->hold_full, (unsigned long long)n->lists_served,
	            (unsigned long long)(n->lists_over + n->inter.lists_over));
	struct evlog_leave lv = {
	    .received = st->received,
	    .due = st->due,
	    .on_time = st->on_time,
	    .served = n->served,
	    .bad = n->udp.bad,
	    .late = st->late,
	    .corrupt = n->seg_corrupt + a->mismatched,
	    .rejected = n->seg_rejected + a->expired + a->hold_full,
	};
	evlog_leave(&n->log, &lv);
}

int node_run(struct config *cfg)
{
	struct node *n = calloc(1, sizeof(*n));
	if (!n) {
		err_msg("allocate node: out of memory");
		return 1;
	}
	n->udp.fd = -1;
	int rc = 1;
	if (!node_open(n, cfg) && !node_start(n)) {
		loop_run(n->loop, on_signal, n);
		log_totals(n);
		rc = 0;
	}
	source_stop(n);
	http_free(n->http);
	evlog_close(&n->log);
	if (n->have_stream)
		overlay_free(&n->ov);
	fault_free(&n->fault);
	identity_free(&n->ids);
	auth_free(&n->auth);
	loop_free(n->loop);
	udp_close(&n->udp);
	free(n);
	return rc;
}
