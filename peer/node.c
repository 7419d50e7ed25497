/* The streaming node: an end peer or a source. Owns the UDP socket and the
 * timers, decodes datagrams and hands them to the overlay and buffer
 * managers; it decides nothing the managers can decide. */
#include "peer/node.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer/http.h"
#include "peer/media.h"
#include "peer/source.h"

#define REGISTER_RETRY_US 1000000u
#define REGISTER_REFRESH_US 5000000u
#define MAINTAIN_US 1000000u
#define MAP_US 500000u
#define SCHED_US 200000u
#define PLAY_US 20000u
#define TICK_US 1000000u
#define REPORT_US 5000000u
#define PARTNER_TIMEOUT_US 6000000u
#define RETRY_REQ_US 1000000u
#define MESH_ROUND_US 3000000u
#define MESH_TIMEOUT_US 12000000u

static void sendto_addr(struct node *n, uint32_t ip, uint16_t port, const struct wire_msg *m)
{
	uint8_t buf[WIRE_MAX_DATAGRAM];
	int len = wire_encode(m, buf, sizeof(buf));
	if (len < 0) {
		err_msg("encode %s: %s", wire_type_name(m->hdr.type), wire_strerror(len));
		return;
	}
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
	if (sendto(n->fd, buf, (size_t)len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		n->send_errors++;
}

static void send_to(struct node *n, const struct wire_addr *a, const struct wire_msg *m)
{
	sendto_addr(n, a->ip, a->port, m);
}

static void msg_init(struct node *n, struct wire_msg *m, int type, uint16_t stream)
{
	memset(&m->hdr, 0, sizeof(m->hdr));
	m->hdr.type = (uint8_t)type;
	m->hdr.stream = stream;
	m->hdr.sender = n->self.id;
}

static void send_simple(struct node *n, const struct wire_addr *a, int type, uint16_t stream,
                        uint8_t reason)
{
	struct wire_msg m;
	msg_init(n, &m, type, stream);
	m.u.simple = (struct wire_simple){0, reason};
	send_to(n, a, &m);
}

static void send_register(struct node *n)
{
	struct wire_msg m;
	msg_init(n, &m, WIRE_REGISTER, n->have_stream ? n->ov.stream : 0);
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
	sendto_addr(n, n->rp_ip, n->rp_port, &m);
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

static void on_bootstrap(struct node *n, const struct wire_bootstrap *b)
{
	if (n->cfg->role == ROLE_PEER && !n->have_stream) {
		for (int i = 0; i < b->nstreams; i++) {
			const struct wire_stream_desc *s = &b->streams[i];
			if (strcmp(s->name, n->cfg->watch))
				continue;
			if (stream_setup(n, s->id, s->name, s->rate_bps, &s->source))
				return;
			inter_set_stream(&n->inter, s->id, s->source.id, s->rate_bps, 0);
			evlog_event(&n->log, "join", "stream=%u name=%s rate=%u", s->id, s->name,
			            s->rate_bps);
		}
	}
	if (n->cfg->role == ROLE_SOURCE && !n->ov.stream) {
		for (int i = 0; i < b->nstreams; i++)
			if (b->streams[i].source.id == n->self.id)
				n->ov.stream = b->streams[i].id;
		if (n->ov.stream)
			inter_set_stream(&n->inter, n->ov.stream, n->self.id, n->cfg->rate_bps, 1);
	}
	n->ncand = 0;
	for (int i = 0; i < b->npeers; i++)
		if (b->peers[i].addr.id != n->self.id)
			n->cand[n->ncand++] = b->peers[i];
	if (!n->bootstrapped)
		evlog_event(&n->log, "bootstrap", "peers=%d streams=%d", b->npeers, b->nstreams);
	n->bootstrapped = n->have_stream;
}

/* ---- mesh-based overlay manager: I/O side of mesh.c ---- */

static uint16_t cand_stream(const struct node *n, uint32_t id)
{
	for (int i = 0; i < n->ncand; i++)
		if (n->cand[i].addr.id == id)
			return n->cand[i].stream;
	return 0;
}

static void mesh_drop(struct node *n, uint32_t id, const char *why)
{
	if (!mesh_find(&n->mesh, id))
		return;
	mesh_del(&n->mesh, id);
	evlog_event(&n->log, "mesh_del", "id=%u reason=%s n=%d", id, why, n->mesh.n);
}

static void mesh_added(struct node *n, const struct wire_addr *a)
{
	struct mesh_nb *nb = mesh_find(&n->mesh, a->id);
	if (nb)
		return;
	nb = mesh_add(&n->mesh, a, cand_stream(n, a->id), mono_us());
	if (nb)
		evlog_event(&n->log, "mesh_add", "id=%u n=%d", a->id, n->mesh.n);
}

static void on_mesh_req(struct node *n, const struct wire_addr *from)
{
	if (!n->use_mesh || n->leaving ||
	    (!mesh_find(&n->mesh, from->id) && n->mesh.n >= n->mesh.max)) {
		send_simple(n, from, WIRE_NEIGH_CUT, 0, 2);
		return;
	}
	mesh_added(n, from);
	send_simple(n, from, WIRE_NEIGH_ACCEPT, 0, 0);
}

static void on_mesh_accept(struct node *n, const struct wire_addr *from)
{
	if (!n->use_mesh)
		return;
	if (!mesh_find(&n->mesh, from->id) && n->mesh.n >= n->mesh.max) {
		send_simple(n, from, WIRE_NEIGH_CUT, 0, 2);
		return;
	}
	mesh_added(n, from);
	/* An LTM replacement brought a nearer neighbour: shed the farthest. */
	if (n->mesh.n > n->mesh.target) {
		struct mesh_nb *far = NULL;
		for (int i = 0; i < n->mesh.n; i++)
			if (n->mesh.nb[i].have_delay &&
			    (!far || n->mesh.nb[i].delay_us > far->delay_us))
				far = &n->mesh.nb[i];
		if (far && far->addr.id != from->id) {
			struct wire_addr a = far->addr;
			evlog_event(&n->log, "ltm_replace", "drop=%u delay_us=%u by=%u", a.id,
			            far->delay_us, from->id);
			send_simple(n, &a, WIRE_NEIGH_CUT, 0, 3);
			mesh_drop(n, a.id, "ltm");
		}
	}
}

static void send_detector(struct node *n, const struct wire_addr *to, const struct wire_detector *d)
{
	struct wire_msg m;
	msg_init(n, &m, WIRE_DETECTOR, 0);
	m.u.det = *d;
	send_to(n, to, &m);
}

/* One LTM change per peer and round: every change makes the other end look
 * for a new neighbour, so unthrottled changes keep the mesh churning
 * instead of settling. */
static int ltm_may_change(struct node *n)
{
	uint64_t now = mono_us();
	if (n->ltm_last_us && now - n->ltm_last_us < MESH_ROUND_US)
		return 0;
	n->ltm_last_us = now;
	return 1;
}

static void on_detector(struct node *n, const struct wire_detector *d, const struct wire_addr *from)
{
	if (!n->use_mesh || d->src.id == n->self.id)
		return;
	uint64_t now = real_us();
	uint32_t age = now > d->src_ts_us ? (uint32_t)(now - d->src_ts_us) : 0;
	if (d->ttl == 0) {
		if (d->direct.id == 0) {
			/* A direct probe: answer with our own timestamp. */
			struct wire_detector r = {
			    .ttl = 0, .src = n->self, .src_ts_us = now, .direct = d->src};
			send_detector(n, from, &r);
			return;
		}
		struct mesh_pending pd;
		if (d->direct.id != n->self.id || !mesh_pending_take(&n->mesh, d->src.id, &pd))
			return;
		if (mesh_ltm_decide(0, pd.d_np_us, 0, 1, age) == LTM_REPLACE_N &&
		    ltm_may_change(n) && !mesh_find(&n->mesh, d->src.id)) {
			evlog_event(&n->log, "ltm_probe", "s=%u d_sp_us=%u n=%u d_np_us=%u",
			            d->src.id, age, pd.n_id, pd.d_np_us);
			send_simple(n, &pd.s, WIRE_NEIGH_REQ, 0, 0);
		}
		return;
	}
	struct mesh_nb *via = mesh_find(&n->mesh, from->id);
	if (!via)
		return;
	via->last_heard_us = mono_us();
	if (d->ttl >= 2) {
		/* One hop from S: measure S -> us and pass it on, stamped. */
		via->delay_us = age;
		via->have_delay = 1;
		if (!mesh_first_seen(&n->mesh, d->src.id, d->msg_id))
			return;
		struct wire_detector f = *d;
		f.ttl = (uint8_t)(d->ttl - 1);
		f.direct = n->self;
		f.direct_ts_us = now;
		for (int i = 0; i < n->mesh.n; i++)
			if (n->mesh.nb[i].addr.id != d->src.id)
				send_detector(n, &n->mesh.nb[i].addr, &f);
		return;
	}
	/* Two hops: S -> N (= from) -> us. */
	if (d->direct.id != from->id || d->direct_ts_us < d->src_ts_us)
		return;
	uint32_t d_sn = (uint32_t)(d->direct_ts_us - d->src_ts_us);
	uint32_t d_np = now > d->direct_ts_us ? (uint32_t)(now - d->direct_ts_us) : 0;
	struct mesh_nb *s = mesh_find(&n->mesh, d->src.id);
	enum ltm_verdict v =
	    mesh_ltm_decide(d_sn, d_np, s != NULL, s && s->have_delay, s ? s->delay_us : 0);
	if (v == LTM_CUT_NP && n->mesh.n > 2 && ltm_may_change(n)) {
		evlog_event(&n->log, "ltm_cut", "n=%u d_np_us=%u s=%u d_sn_us=%u d_sp_us=%u",
		            from->id, d_np, d->src.id, d_sn, s->delay_us);
		send_simple(n, from, WIRE_NEIGH_CUT, 0, 3);
		mesh_drop(n, from->id, "ltm");
	} else if (v == LTM_PROBE_S) {
		mesh_pending_add(&n->mesh, &d->src, from->id, d_np, mono_us());
		struct wire_detector p = {.ttl = 0, .src = n->self, .src_ts_us = now};
		send_detector(n, &d->src, &p);
	}
}

static uint64_t mesh_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	if (n->leaving)
		return 0;
	uint64_t now = mono_us();
	for (int i = n->mesh.n - 1; i >= 0; i--)
		if (now - n->mesh.nb[i].last_heard_us > MESH_TIMEOUT_US)
			mesh_drop(n, n->mesh.nb[i].addr.id, "timeout");
	for (int tries = 0, want = n->mesh.target - n->mesh.n; want > 0 && tries < 2 * n->ncand;
	     tries++) {
		const struct wire_peer_entry *c = &n->cand[rng_below(&n->rng, (uint64_t)n->ncand)];
		if (mesh_find(&n->mesh, c->addr.id))
			continue;
		send_simple(n, &c->addr, WIRE_NEIGH_REQ, 0, 0);
		want--;
	}
	struct wire_detector d = {
	    .msg_id = n->mesh.next_msg_id++, .ttl = 2, .src = n->self, .src_ts_us = real_us()};
	for (int i = 0; i < n->mesh.n; i++)
		send_detector(n, &n->mesh.nb[i].addr, &d);
	int k;
	double mean = mesh_mean_delay_us(&n->mesh, &k);
	evlog_event(&n->log, "mesh", "n=%d measured=%d mean_delay_us=%.0f", n->mesh.n, k, mean);
	/* Spread rounds so peers started together do not flood in lockstep. */
	return MESH_ROUND_US - MESH_ROUND_US / 10 + rng_below(&n->rng, MESH_ROUND_US / 5);
}

/* A partner request, accept, map or request from a sender of our stream. */
static int same_stream(const struct node *n, const struct wire_msg *m)
{
	return n->have_stream && n->ov.stream && m->hdr.stream == n->ov.stream;
}

static void on_neigh_req(struct node *n, const struct wire_msg *m, const struct wire_addr *from)
{
	if (m->hdr.stream == 0) {
		on_mesh_req(n, from);
		return;
	}
	if (!same_stream(n, m) || n->leaving) {
		send_simple(n, from, WIRE_NEIGH_CUT, m->hdr.stream, 1);
		return;
	}
	struct partner *p = overlay_partner(&n->ov, from->id);
	if (!p && n->ov.np >= n->cfg->max_partners) {
		send_simple(n, from, WIRE_NEIGH_CUT, m->hdr.stream, 2);
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
		on_mesh_accept(n, from);
		return;
	}
	if (!same_stream(n, m))
		return;
	int was = overlay_partner(&n->ov, from->id) != NULL;
	if (!was && n->ov.np >= n->cfg->max_partners) {
		send_simple(n, from, WIRE_NEIGH_CUT, m->hdr.stream, 2);
		return;
	}
	struct partner *p = overlay_partner_add(&n->ov, from, mono_us());
	if (p && !was)
		partner_added(n, p);
}

static void on_map(struct node *n, const struct wire_msg *m, const struct wire_addr *from)
{
	struct partner *p = same_stream(n, m) ? overlay_partner(&n->ov, from->id) : NULL;
	if (!p)
		return;
	p->map = m->u.map;
	p->have_map = 1;
	p->last_heard_us = mono_us();
}

static void on_seg_request(struct node *n, const struct wire_msg *m, const struct wire_addr *from)
{
	if (!same_stream(n, m))
		return;
	struct wire_msg d;
	msg_init(n, &d, WIRE_SEG_DATA, n->ov.stream);
	for (int i = 0; i < m->u.req.count; i++) {
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
	}
}

static void on_seg_data(struct node *n, const struct wire_msg *m, const struct wire_addr *from)
{
	if (!same_stream(n, m)) {
		inter_on_relay_segment(&n->inter, m->hdr.stream, &m->u.seg, from, mono_us());
		return;
	}
	if (n->cfg->role != ROLE_PEER)
		return;
	const struct wire_seg_data *sd = &m->u.seg;
	uint64_t now = real_us();
	uint32_t delay = now > sd->origin_us ? (uint32_t)(now - sd->origin_us) : 0;
	uint8_t flags = 0;
	if (wire_checksum(sd->payload, sd->len) == sd->checksum)
		flags |= SEG_CHECKSUM_OK;
	if (n->synthetic &&
	    media_synth_verify(m->hdr.stream, sd->seq, sd->origin_us, sd->payload, sd->len))
		flags |= SEG_CONTENT_OK;
	/* A corrupted segment is logged but never stored or relayed. */
	if ((flags & SEG_CHECKSUM_OK) && buffer_put(&n->ov.buf, sd, mono_us()))
		flags |= SEG_STORED;
	if (flags & SEG_STORED) {
		overlay_note_delay(&n->ov, delay);
		inter_push(&n->inter, n->ov.stream, sd);
	}
	inter_on_own_segment(&n->inter, from, delay, mono_us());
	evlog_segment(&n->log, n->ov.stream, sd->seq, delay, sd->hops, flags);
	struct partner *p = overlay_partner(&n->ov, from->id);
	if (p)
		p->last_heard_us = mono_us();
}

static void on_leave(struct node *n, const struct wire_msg *m, const struct wire_addr *from,
                     const char *why)
{
	/* A cut names one relation (stream partner, or mesh link when the
	 * stream is 0); a leave ends them all. */
	int leave = m->hdr.type == WIRE_LEAVE;
	if (leave || m->u.simple.reason == INTER_REASON_PATH)
		inter_on_cut(&n->inter, leave ? 0 : m->hdr.stream, from->id, mono_us());
	if (!leave && m->u.simple.reason == INTER_REASON_PATH)
		return;
	if (leave || m->hdr.stream == 0)
		mesh_drop(n, from->id, why);
	if (!leave && m->hdr.stream == 0)
		return;
	drop_partner(n, from->id, why);
	for (int i = 0; i < n->ncand; i++)
		if (n->cand[i].addr.id == from->id)
			n->cand[i] = n->cand[--n->ncand];
}

static void on_datagram(struct node *n, const uint8_t *buf, size_t len,
                        const struct sockaddr_in *sa)
{
	struct wire_msg m;
	int rc = wire_decode(buf, len, &m);
	if (rc) {
		n->bad_datagrams++;
		return;
	}
	struct wire_addr from = {m.hdr.sender, ntohl(sa->sin_addr.s_addr), ntohs(sa->sin_port)};
	switch (m.hdr.type) {
	case WIRE_BOOTSTRAP:
		if (from.ip == n->rp_ip && from.port == n->rp_port)
			on_bootstrap(n, &m.u.boot);
		break;
	case WIRE_NEIGH_REQ:
		on_neigh_req(n, &m, &from);
		break;
	case WIRE_NEIGH_ACCEPT:
		on_neigh_accept(n, &m, &from);
		break;
	case WIRE_NEIGH_CUT:
		on_leave(n, &m, &from, "cut");
		break;
	case WIRE_LEAVE:
		on_leave(n, &m, &from, "leave");
		break;
	case WIRE_DETECTOR:
		on_detector(n, &m.u.det, &from);
		break;
	case WIRE_BUFFER_MAP:
		on_map(n, &m, &from);
		break;
	case WIRE_SEG_REQUEST:
		on_seg_request(n, &m, &from);
		break;
	case WIRE_SEG_DATA:
		on_seg_data(n, &m, &from);
		break;
	case WIRE_PROBE:
		inter_on_probe(&n->inter, &m.u.probe, &from, real_us(), mono_us());
		break;
	case WIRE_PATH_SETUP:
		inter_on_path_setup(&n->inter, m.hdr.stream, &m.u.path, &from,
		                    same_stream(n, &m) &&
		                        (n->cfg->role == ROLE_SOURCE || n->ov.buf.playing),
		                    mono_us());
		break;
	case WIRE_RELAY_ACCEPT:
	case WIRE_RELAY_REFUSE:
		inter_on_relay_answer(&n->inter, m.hdr.stream, m.hdr.type == WIRE_RELAY_ACCEPT,
		                      m.u.simple.seq, &from, mono_us());
		break;
	default:
		break;
	}
}

static void on_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct node *n = arg;
	uint8_t buf[2048];
	for (int i = 0; i < 256; i++) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&sa, &sl);
		if (r < 0)
			return;
		if (sl == sizeof(sa) && sa.sin_family == AF_INET)
			on_datagram(n, buf, (size_t)r, &sa);
	}
}

static uint64_t maintain_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	if (!n->have_stream || n->leaving)
		return MAINTAIN_US;
	uint64_t now = mono_us();
	inter_tick(&n->inter, n->ov.last_delay_us, real_us(), now);
	for (int i = n->ov.np - 1; i >= 0; i--)
		if (now - n->ov.p[i].last_heard_us > PARTNER_TIMEOUT_US)
			drop_partner(n, n->ov.p[i].addr.id, "timeout");
	if (n->cfg->role != ROLE_PEER)
		return MAINTAIN_US;
	int want = n->cfg->partners - n->ov.np;
	/* anysee: the nearest mesh neighbours watching our stream first, as
	 * LTM keeps them close; then (and in coolstreaming mode only) random
	 * bootstrap peers of the stream and its source, the DONet way. */
	while (n->use_mesh && want > 0) {
		const struct mesh_nb *best = NULL;
		for (int i = 0; i < n->mesh.n; i++) {
			const struct mesh_nb *nb = &n->mesh.nb[i];
			if (nb->stream != n->ov.stream || overlay_partner(&n->ov, nb->addr.id) ||
			    n->asked[i] == nb->addr.id)
				continue;
			if (!best || (nb->have_delay &&
			              (!best->have_delay || nb->delay_us < best->delay_us)))
				best = nb;
		}
		if (!best)
			break;
		n->asked[best - n->mesh.nb] = best->addr.id;
		send_simple(n, &best->addr, WIRE_NEIGH_REQ, n->ov.stream, 0);
		want--;
	}
	for (int tries = 0; want > 0 && tries < 2 * n->ncand; tries++) {
		const struct wire_peer_entry *c = &n->cand[rng_below(&n->rng, (uint64_t)n->ncand)];
		if (c->stream != n->ov.stream || overlay_partner(&n->ov, c->addr.id))
			continue;
		send_simple(n, &c->addr, WIRE_NEIGH_REQ, n->ov.stream, 0);
		want--;
	}
	memset(n->asked, 0, sizeof(n->asked));
	return MAINTAIN_US;
}

static uint64_t map_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	if (!n->have_stream || !n->ov.np || n->leaving)
		return MAP_US;
	struct wire_msg m;
	msg_init(n, &m, WIRE_BUFFER_MAP, n->ov.stream);
	buffer_fill_map(&n->ov.buf, &m.u.map);
	int free_slots = n->cfg->max_partners - n->ov.np;
	m.u.map.upload_free = (uint16_t)(free_slots > 0 ? free_slots : 0);
	for (int i = 0; i < n->ov.np; i++)
		send_to(n, &n->ov.p[i].addr, &m);
	return MAP_US;
}

static uint64_t sched_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	if (!n->have_stream || !n->ov.np || n->leaving)
		return SCHED_US;
	int ok;
	uint32_t newest = overlay_newest_known(&n->ov, &ok);
	if (!ok)
		return SCHED_US;
	struct buffer *b = &n->ov.buf;
	uint32_t startup = (uint32_t)(n->cfg->startup_us / b->period_us);
	if (!startup)
		startup = 1;
	if (!n->start_chosen) {
		n->start_seq = newest >= startup ? newest - startup + 1 : 0;
		n->start_chosen = 1;
	}
	/* Before playback, never wait for a segment no partner offers (a
	 * partner that joined later than the chosen start lacks it): move the
	 * start to the first one we hold or can fetch. */
	while (!b->playing && n->start_seq < newest && !buffer_has(b, n->start_seq) &&
	       !overlay_holders(&n->ov, n->start_seq))
		n->start_seq++;
	uint32_t from = b->playing ? b->next_due : n->start_seq;
	/* Ask each partner for about two rounds' worth of media: enough to catch
	 * up, not so much that one slow partner holds the window. */
	uint32_t per_round = (uint32_t)(SCHED_US / b->period_us) + 1;
	uint32_t budget[OVERLAY_MAX_PARTNERS];
	for (int i = 0; i < n->ov.np; i++)
		budget[i] = 2 * per_round + 4;
	struct sched_choice ch[512];
	uint64_t now = mono_us();
	size_t k =
	    overlay_schedule(&n->ov, from, newest, budget, now, RETRY_REQ_US, ch, ARRAY_LEN(ch));
	for (int i = 0; i < n->ov.np; i++) {
		struct wire_msg m;
		msg_init(n, &m, WIRE_SEG_REQUEST, n->ov.stream);
		m.u.req.count = 0;
		for (size_t j = 0; j < k; j++) {
			if (ch[j].partner != i)
				continue;
			m.u.req.seqs[m.u.req.count++] = ch[j].seq;
			overlay_mark_requested(&n->ov, ch[j].seq, now);
			if (m.u.req.count == WIRE_MAX_REQ) {
				send_to(n, &n->ov.p[i].addr, &m);
				m.u.req.count = 0;
			}
		}
		if (m.u.req.count)
			send_to(n, &n->ov.p[i].addr, &m);
	}
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

/* GET /status: the peer's live state. */
static char *status_json(void *arg)
{
	struct node *n = arg;
	size_t cap = 4096 + 160 * (size_t)(n->ov.np + n->mesh.n);
	char *j = malloc(cap);
	if (!j)
		return NULL;
	const struct buffer *b = &n->ov.buf;
	int len = snprintf(
	    j, cap,
	    "{\"id\": %u, \"role\": \"%s\", \"mode\": \"%s\", \"stream\": \"%s\", \"stream_id\": "
	    "%u, "
	    "\"state\": \"%s\", \"buffer\": {\"capacity\": %u, \"newest\": %u, \"next_due\": %u, "
	    "\"held_ahead\": %u}, \"received\": %llu, \"due\": %llu, \"on_time\": %llu, "
	    "\"continuity\": %.6f, \"last_delay_us\": %u, \"http_clients\": %zu, \"partners\": [",
	    n->self.id, n->cfg->role == ROLE_SOURCE ? "source" : "peer",
	    n->cfg->mode == MODE_COOLSTREAMING ? "coolstreaming" : "anysee", n->ov.name,
	    n->ov.stream,
	    n->leaving       ? "leaving"
	    : b->playing     ? "playing"
	    : n->have_stream ? "buffering"
	                     : "joining",
	    b->capacity, b->newest, b->next_due, b->playing ? buffer_run_from(b, b->next_due) : 0,
	    (unsigned long long)b->st.received, (unsigned long long)b->st.due,
	    (unsigned long long)b->st.on_time,
	    b->st.due ? (double)b->st.on_time / (double)b->st.due : 0.0, n->ov.last_delay_us,
	    http_clients(n->http));
	for (int i = 0; i < n->ov.np && len > 0 && (size_t)len < cap; i++) {
		char ip[16];
		uint32_t a = n->ov.p[i].addr.ip;
		snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		         a & 255);
		len += snprintf(j + len, cap - (size_t)len,
		                "%s{\"id\": %u, \"ip\": \"%s\", \"source\": %s}", i ? ", " : "",
		                n->ov.p[i].addr.id, ip, n->ov.p[i].is_source ? "true" : "false");
	}
	if (len > 0 && (size_t)len < cap)
		len += snprintf(j + len, cap - (size_t)len, "], \"neighbours\": [");
	for (int i = 0; i < n->mesh.n && len > 0 && (size_t)len < cap; i++)
		len += snprintf(j + len, cap - (size_t)len, "%s{\"id\": %u, \"delay_us\": %u}",
		                i ? ", " : "", n->mesh.nb[i].addr.id, n->mesh.nb[i].delay_us);
	if (len > 0 && (size_t)len < cap)
		snprintf(j + len, cap - (size_t)len, "]}\n");
	return j;
}

static uint64_t play_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	if (!n->have_stream || !n->start_chosen)
		return PLAY_US;
	struct buffer *b = &n->ov.buf;
	uint64_t now = mono_us();
	if (!b->playing) {
		uint32_t need = (uint32_t)(n->cfg->startup_us / b->period_us);
		if (buffer_run_from(b, n->start_seq) < (need ? need : 1))
			return PLAY_US;
		buffer_start_playback(b, n->start_seq, now);
		const struct segment *s = buffer_get(b, n->start_seq);
		evlog_event(&n->log, "play_start", "seq=%u startup_us=%llu lag_us=%llu",
		            n->start_seq, (unsigned long long)(now - n->join_mono_us),
		            (unsigned long long)(real_us() - s->origin_us));
		return PLAY_US;
	}
	buffer_advance(b, now, playout, n);
	return PLAY_US;
}

static uint64_t tick_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	if (n->have_stream && n->ov.buf.playing) {
		struct buffer_stats *s = &n->ov.buf.st, *p = &n->last_tick;
		evlog_event(
		    &n->log, "tick",
		    "due=%llu on_time=%llu recv=%llu late=%llu dup=%llu np=%d last_delay_us=%u",
		    (unsigned long long)(s->due - p->due),
		    (unsigned long long)(s->on_time - p->on_time),
		    (unsigned long long)(s->received - p->received),
		    (unsigned long long)(s->late - p->late),
		    (unsigned long long)(s->duplicates - p->duplicates), n->ov.np,
		    n->ov.last_delay_us);
		*p = *s;
	}
	evlog_flush(&n->log);
	return TICK_US;
}

static uint64_t report_timer(struct loop *l, void *arg)
{
	struct node *n = arg;
	if (!n->have_stream)
		return REPORT_US;
	struct wire_msg m;
	msg_init(n, &m, WIRE_REPORT, n->ov.stream);
	m.u.report = (struct wire_report){
	    .t_us = real_us(),
	    .partners = (uint16_t)n->ov.np,
	    .neighbours = (uint16_t)n->mesh.n,
	    .received = (uint32_t)n->ov.buf.st.received,
	    .due = (uint32_t)n->ov.buf.st.due,
	    .on_time = (uint32_t)n->ov.buf.st.on_time,
	    .last_delay_us = n->ov.last_delay_us,
	    .state = (uint8_t)(n->leaving ? 2 : n->ov.buf.playing),
	};
	sendto_addr(n, n->mon_ip, n->mon_port, &m);
	return REPORT_US;
}

static void announce_leave(struct node *n)
{
	struct wire_addr rp = {0, n->rp_ip, n->rp_port};
	send_simple(n, &rp, WIRE_LEAVE, 0, 0);
	for (int i = 0; i < n->ov.np; i++)
		send_simple(n, &n->ov.p[i].addr, WIRE_LEAVE, n->ov.stream, 0);
	for (int i = 0; i < n->mesh.n; i++)
		send_simple(n, &n->mesh.nb[i].addr, WIRE_LEAVE, 0, 0);
}

static int on_signal(struct loop *l, int sig, void *arg)
{
	struct node *n = arg;
	n->leaving = 1;
	inter_leave(&n->inter);
	announce_leave(n);
	return 1;
}

static int open_socket(struct node *n)
{
	uint32_t ip;
	uint16_t port;
	parse_ipport(n->cfg->listen, &ip, &port);
	n->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		err_errno("create UDP socket");
		return -1;
	}
	int sz = 1 << 20;
	setsockopt(n->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(n->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
	if (bind(n->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err_errno("bind UDP socket to %s", n->cfg->listen);
		return -1;
	}
	n->self.ip = ip;
	n->self.port = port;
	return 0;
}

static void inter_send(void *ctx, const struct wire_addr *to, const struct wire_msg *m)
{
	send_to(ctx, to, m);
}

static int inter_neighbours(void *ctx, struct wire_addr *out, int max)
{
	struct node *n = ctx;
	int k = 0;
	for (int i = 0; i < n->mesh.n && k < max; i++)
		out[k++] = n->mesh.nb[i].addr;
	return k;
}

int node_run(struct config *cfg)
{
	struct node *n = calloc(1, sizeof(*n));
	if (!n) {
		err_msg("allocate node: out of memory");
		return 1;
	}
	int rc = 1;
	n->cfg = cfg;
	n->fd = -1;
	rng_seed(&n->rng, cfg->seed ^ ((uint64_t)cfg->id << 32));
	parse_ipport(cfg->rp, &n->rp_ip, &n->rp_port);
	if (*cfg->monitor)
		parse_ipport(cfg->monitor, &n->mon_ip, &n->mon_port);
	if (open_socket(n))
		goto out;
	n->self.id = cfg->id ? cfg->id : n->self.ip;
	if (evlog_open(&n->log, *cfg->log_dir ? cfg->log_dir : NULL)) {
		err_errno("open event log in %s", cfg->log_dir);
		goto out;
	}
	n->join_mono_us = mono_us();
	evlog_event(&n->log, "start", "role=%s id=%u mode=%s stream=%s rate=%llu buffer_us=%llu",
	            cfg->role == ROLE_SOURCE ? "source" : "peer", n->self.id,
	            cfg->mode == MODE_COOLSTREAMING ? "coolstreaming" : "anysee",
	            cfg->role == ROLE_SOURCE ? cfg->stream : cfg->watch,
	            (unsigned long long)cfg->rate_bps, (unsigned long long)cfg->buffer_us);
	n->synthetic = 1;
	n->use_mesh = cfg->role == ROLE_SOURCE || cfg->mode == MODE_ANYSEE;
	struct inter_io io = {n, inter_send, inter_neighbours};
	inter_init(&n->inter, &n->self, &n->log, &io, &n->rng, n->use_mesh, cfg->upload_bps);
	mesh_init(&n->mesh, cfg->neighbours, cfg->neighbours + 3);
	if (cfg->role == ROLE_SOURCE) {
		if (stream_setup(n, 0, cfg->stream, cfg->rate_bps, &n->self))
			goto out;
		if (source_start(n))
			goto out;
	}
	n->loop = loop_new();
	if (!n->loop || loop_add_fd(n->loop, n->fd, EPOLLIN, on_readable, n)) {
		err_errno("set up event loop");
		goto out;
	}
	loop_add_timer(n->loop, 0, register_timer, n);
	loop_add_timer(n->loop, MAINTAIN_US / 4, maintain_timer, n);
	loop_add_timer(n->loop, MAP_US, map_timer, n);
	loop_add_timer(n->loop, TICK_US, tick_timer, n);
	if (cfg->role == ROLE_PEER) {
		loop_add_timer(n->loop, SCHED_US, sched_timer, n);
		loop_add_timer(n->loop, PLAY_US, play_timer, n);
	} else {
		loop_add_timer(n->loop, 0, source_timer, n);
	}
	if (*cfg->monitor)
		loop_add_timer(n->loop, REPORT_US, report_timer, n);
	if (n->use_mesh)
		loop_add_timer(n->loop, MAINTAIN_US / 2, mesh_timer, n);
	if (cfg->http_port) {
		char e[256];
		n->http = http_new(n->loop, cfg->http_bind, cfg->http_port, status_json, n,
		                   "video/mp2t", e, sizeof(e));
		if (!n->http) {
			err_msg("start HTTP server on %s:%d: %s", cfg->http_bind, cfg->http_port,
			        e);
			goto out;
		}
		evlog_event(&n->log, "http", "bind=%s port=%d", cfg->http_bind, http_port(n->http));
	}
	loop_run(n->loop, on_signal, n);
	evlog_event(
	    &n->log, "inter", "probes=%llu paths_built=%llu paths_cut=%llu children=%d relays=%d",
	    (unsigned long long)n->inter.probes_sent, (unsigned long long)n->inter.paths_built,
	    (unsigned long long)n->inter.paths_cut, n->inter.nchild, n->inter.nrelay);
	evlog_event(&n->log, "leave",
	            "received=%llu due=%llu on_time=%llu served=%llu bad=%llu late=%llu",
	            (unsigned long long)n->ov.buf.st.received, (unsigned long long)n->ov.buf.st.due,
	            (unsigned long long)n->ov.buf.st.on_time, (unsigned long long)n->served,
	            (unsigned long long)n->bad_datagrams, (unsigned long long)n->ov.buf.st.late);
	rc = 0;
out:
	source_stop(n);
	http_free(n->http);
	evlog_close(&n->log);
	if (n->have_stream)
		overlay_free(&n->ov);
	loop_free(n->loop);
	if (n->fd >= 0)
		close(n->fd);
	free(n);
	return rc;
}
