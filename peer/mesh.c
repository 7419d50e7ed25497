#include "peer/mesh.h"

#include <string.h>

/* a is clearly slower than b: by 1 ms and 10%, so that clock and queueing
 * noise cannot make links flap. */
static int clearly_slower(uint32_t a, uint32_t b)
{
	uint32_t margin = b / 10 > 1000 ? b / 10 : 1000;
	return (uint64_t)a > (uint64_t)b + margin;
}

enum ltm_verdict mesh_ltm_decide(uint32_t d_sn, uint32_t d_np, int s_is_neighbour, int have_sp,
                                 uint32_t d_sp)
{
	if (!s_is_neighbour) {
		if (!have_sp)
			return LTM_PROBE_S;
		return clearly_slower(d_np, d_sp) ? LTM_REPLACE_N : LTM_KEEP;
	}
	if (!have_sp)
		return LTM_KEEP;
	/* Cutting N-P keeps P connected to N through S: only the slowest link
	 * of the triangle may go. */
	return clearly_slower(d_np, d_sp) && clearly_slower(d_np, d_sn) ? LTM_CUT_NP : LTM_KEEP;
}

enum ltm_verdict mesh_ltm_decide_path(uint32_t d_sn, uint32_t d_np, int s_is_neighbour, int have_sp,
                                      uint32_t d_sp)
{
	if (!s_is_neighbour && !have_sp)
		return LTM_PROBE_S;
	if (!have_sp)
		return LTM_KEEP;
	uint64_t two_hop = (uint64_t)d_sn + d_np;
	uint32_t path = two_hop > UINT32_MAX ? UINT32_MAX : (uint32_t)two_hop;
	if (!clearly_slower(path, d_sp))
		return LTM_KEEP;
	return s_is_neighbour ? LTM_CUT_NP : LTM_REPLACE_N;
}

/* The verdict of the node's rule. */
static enum ltm_verdict judge(const struct mesh *m, uint32_t d_sn, uint32_t d_np,
                              int s_is_neighbour, int have_sp, uint32_t d_sp)
{
	if (m->rule == LTM_RULE_PATH)
		return mesh_ltm_decide_path(d_sn, d_np, s_is_neighbour, have_sp, d_sp);
	return mesh_ltm_decide(d_sn, d_np, s_is_neighbour, have_sp, d_sp);
}

void mesh_init(struct mesh *m, int target, int max)
{
	memset(m, 0, sizeof(*m));
	m->target = target;
	m->max = max < target ? target : max > MESH_MAX ? MESH_MAX : max;
	m->next_msg_id = 1;
}

struct mesh_nb *mesh_find(struct mesh *m, uint32_t id)
{
	for (int i = 0; i < m->n; i++)
		if (m->nb[i].addr.id == id)
			return &m->nb[i];
	return NULL;
}

struct mesh_nb *mesh_add(struct mesh *m, const struct wire_addr *a, uint16_t stream, uint64_t now)
{
	struct mesh_nb *nb = mesh_find(m, a->id);
	if (!nb) {
		if (m->n >= m->max)
			return NULL;
		nb = &m->nb[m->n++];
		memset(nb, 0, sizeof(*nb));
	}
	nb->addr = *a;
	if (stream)
		nb->stream = stream;
	nb->last_heard_us = now;
	return nb;
}

void mesh_del(struct mesh *m, uint32_t id)
{
	struct mesh_nb *nb = mesh_find(m, id);
	if (nb)
		*nb = m->nb[--m->n];
}

double mesh_mean_delay_us(const struct mesh *m, int *count)
{
	double sum = 0;
	int k = 0;
	for (int i = 0; i < m->n; i++) {
		if (m->nb[i].have_delay) {
			sum += m->nb[i].delay_us;
			k++;
		}
	}
	if (count)
		*count = k;
	return k ? sum / k : 0;
}

int mesh_first_seen(struct mesh *m, uint32_t src, uint32_t msg_id)
{
	uint64_t key = (uint64_t)src << 32 | msg_id;
	for (int i = 0; i < MESH_SEEN; i++)
		if (m->seen[i] == key)
			return 0;
	m->seen[m->seen_next] = key;
	m->seen_next = (m->seen_next + 1) % MESH_SEEN;
	return 1;
}

int mesh_pending_add(struct mesh *m, const struct wire_addr *s, uint32_t n_id, uint32_t d_sn,
                     uint32_t d_np, uint64_t now)
{
	for (int i = 0; i < m->npend; i++) {
		struct mesh_pending *p = &m->pend[i];
		if (p->s.id != s->id)
			continue;
		if (d_np > p->d_np_us) {
			/* Judge S against the slowest N it could replace. */
			p->n_id = n_id;
			p->d_sn_us = d_sn;
			p->d_np_us = d_np;
		}
		if (now - p->sent_us < MESH_ROUND_US)
			return 0;
		p->sent_us = now;
		return 1;
	}
	if (m->npend == MESH_PENDING) {
		memmove(&m->pend[0], &m->pend[1], sizeof(m->pend[0]) * (MESH_PENDING - 1));
		m->npend--;
	}
	m->pend[m->npend++] = (struct mesh_pending){*s, n_id, d_sn, d_np, now};
	return 1;
}

int mesh_pending_take(struct mesh *m, uint32_t s_id, struct mesh_pending *out)
{
	for (int i = 0; i < m->npend; i++) {
		if (m->pend[i].s.id != s_id)
			continue;
		*out = m->pend[i];
		memmove(&m->pend[i], &m->pend[i + 1],
		        sizeof(m->pend[0]) * (size_t)(--m->npend - i));
		return 1;
	}
	return 0;
}

/* ---- the protocol ---- */

#define MESH_TIMEOUT_US 12000000u

void mesh_attach(struct mesh *m, const struct wire_addr *self, struct evlog *log,
                 const struct mesh_io *io, struct rng *rng, int enabled)
{
	m->self = *self;
	m->log = log;
	m->io = *io;
	m->rng = rng;
	m->enabled = enabled;
}

int mesh_neighbours(const struct mesh *m, struct wire_addr *out, int max)
{
	int k = 0;
	for (int i = 0; i < m->n && k < max; i++)
		out[k++] = m->nb[i].addr;
	return k;
}

int mesh_neighbours_watching(const struct mesh *m, uint16_t stream, struct wire_addr *out, int max)
{
	int k = 0;
	for (int i = 0; i < m->n && k < max; i++)
		if (stream && m->nb[i].stream == stream)
			out[k++] = m->nb[i].addr;
	return k;
}

static void send_simple(struct mesh *m, const struct wire_addr *to, enum wire_type type,
                        uint8_t reason)
{
	struct wire_msg msg;
	wire_msg_simple(&msg, type, 0, m->self.id, 0, reason);
	if (type == WIRE_NEIGH_REQ || type == WIRE_NEIGH_ACCEPT)
		msg.u.simple.watch = m->watch;
	m->io.send(m->io.ctx, to, &msg);
}

static void send_detector(struct mesh *m, const struct wire_addr *to, const struct wire_detector *d)
{
	struct wire_msg msg;
	wire_msg_init(&msg, WIRE_DETECTOR, 0, m->self.id);
	msg.u.det = *d;
	m->io.send(m->io.ctx, to, &msg);
}

/* The stream a candidate watches, as the rendezvous point listed it. */
static uint16_t cand_stream(const struct mesh *m, uint32_t id)
{
	const struct wire_peer_entry *c;
	int n = m->io.candidates(m->io.ctx, &c);
	for (int i = 0; i < n; i++)
		if (c[i].addr.id == id)
			return c[i].stream;
	return 0;
}

void mesh_on_cut(struct mesh *m, uint32_t id, const char *why)
{
	if (!mesh_find(m, id))
		return;
	mesh_del(m, id);
	evlog_event(m->log, "mesh_del", "id=%u reason=%s n=%d", id, why, m->n);
}

void mesh_set_watch(struct mesh *m, uint16_t stream)
{
	m->watch = stream;
}

/* An LTM cut or replacement dropped id (MESH_CUT_MEMORY_US). */
static void remember_cut(struct mesh *m, uint32_t id, uint64_t now_us)
{
	m->cut[m->cut_next].id = id;
	m->cut[m->cut_next].until_us = now_us + MESH_CUT_MEMORY_US;
	m->cut_next = (m->cut_next + 1) % MESH_CUT_MEMORY;
}

static int cut_lately(const struct mesh *m, uint32_t id, uint64_t now_us)
{
	for (int i = 0; i < MESH_CUT_MEMORY; i++)
		if (m->cut[i].id == id && now_us < m->cut[i].until_us)
			return 1;
	return 0;
}

/* What the peer says it watches wins over the bootstrap list's word. */
static void added(struct mesh *m, const struct wire_addr *a, uint16_t watch, uint64_t now_us)
{
	struct mesh_nb *nb = mesh_find(m, a->id);
	if (nb) {
		if (watch)
			nb->stream = watch;
		return;
	}
	if (mesh_add(m, a, watch ? watch : cand_stream(m, a->id), now_us))
		evlog_event(m->log, "mesh_add", "id=%u n=%d", a->id, m->n);
}

void mesh_on_request(struct mesh *m, const struct wire_addr *from, uint16_t watch, uint64_t now_us)
{
	if (!m->enabled || m->leaving || (!mesh_find(m, from->id) && m->n >= m->max)) {
		send_simple(m, from, WIRE_NEIGH_CUT, WIRE_CUT_FULL);
		return;
	}
	if (!mesh_find(m, from->id) && cut_lately(m, from->id, now_us)) {
		send_simple(m, from, WIRE_NEIGH_CUT, WIRE_CUT_LTM);
		return;
	}
	added(m, from, watch, now_us);
	send_simple(m, from, WIRE_NEIGH_ACCEPT, 0);
}

void mesh_on_accept(struct mesh *m, const struct wire_addr *from, uint16_t watch, uint64_t now_us)
{
	if (!m->enabled)
		return;
	if (!mesh_find(m, from->id) && m->n >= m->max) {
		send_simple(m, from, WIRE_NEIGH_CUT, WIRE_CUT_FULL);
		return;
	}
	added(m, from, watch, now_us);
	if (m->n <= m->target)
		return;
	/* An LTM replacement brought a nearer neighbour: shed the farthest. */
	struct mesh_nb *far = NULL;
	for (int i = 0; i < m->n; i++)
		if (m->nb[i].have_delay && (!far || m->nb[i].delay_us > far->delay_us))
			far = &m->nb[i];
	if (far && far->addr.id != from->id) {
		struct wire_addr a = far->addr;
		evlog_event(m->log, "ltm_replace", "drop=%u delay_us=%u by=%u", a.id, far->delay_us,
		            from->id);
		send_simple(m, &a, WIRE_NEIGH_CUT, WIRE_CUT_LTM);
		mesh_on_cut(m, a.id, "ltm");
		remember_cut(m, a.id, now_us);
	}
}

/* One LTM change per peer and round: every change makes the other end look
 * for a new neighbour, so unthrottled changes keep the mesh churning
 * instead of settling. */
static int ltm_may_change(struct mesh *m, uint64_t now_us)
{
	if (m->ltm_last_us && now_us - m->ltm_last_us < MESH_ROUND_US)
		return 0;
	m->ltm_last_us = now_us;
	return 1;
}

/* A direct probe (answered with our timestamp), or the answer to ours,
 * which settles a pending replacement. */
static void on_direct(struct mesh *m, const struct wire_detector *d, const struct wire_addr *from,
                      uint32_t age, uint64_t now_real_us, uint64_t now_us)
{
	if (d->direct.id == 0) {
		struct wire_detector r = {
		    .ttl = 0, .src = m->self, .src_ts_us = now_real_us, .direct = d->src};
		send_detector(m, from, &r);
		return;
	}
	struct mesh_pending pd;
	if (d->direct.id != m->self.id || !mesh_pending_take(m, d->src.id, &pd))
		return;
	if (judge(m, pd.d_sn_us, pd.d_np_us, 0, 1, age) == LTM_REPLACE_N &&
	    !mesh_find(m, d->src.id) && !cut_lately(m, d->src.id, now_us) &&
	    ltm_may_change(m, now_us)) {
		evlog_event(m->log, "ltm_probe", "s=%u d_sp_us=%u n=%u d_np_us=%u", d->src.id, age,
		            pd.n_id, pd.d_np_us);
		send_simple(m, &pd.s, WIRE_NEIGH_REQ, 0);
	}
}

/* One hop from S: measure S -> us and pass the detector on, stamped. */
static void on_one_hop(struct mesh *m, const struct wire_detector *d, struct mesh_nb *via,
                       uint32_t age, uint64_t now_real_us)
{
	via->delay_us = age;
	via->have_delay = 1;
	if (!mesh_first_seen(m, d->src.id, d->msg_id))
		return;
	struct wire_detector f = *d;
	f.ttl = (uint8_t)(d->ttl - 1);
	f.direct = m->self;
	f.direct_ts_us = now_real_us;
	for (int i = 0; i < m->n; i++)
		if (m->nb[i].addr.id != d->src.id)
			send_detector(m, &m->nb[i].addr, &f);
}

/* Two hops: S -> N (= from) -> us, the triangle LTM judges. */
static void on_two_hops(struct mesh *m, const struct wire_detector *d, const struct wire_addr *from,
                        uint64_t now_real_us, uint64_t now_us)
{
	if (d->direct.id != from->id || d->direct_ts_us < d->src_ts_us)
		return;
	uint32_t d_sn = (uint32_t)(d->direct_ts_us - d->src_ts_us);
	uint32_t d_np =
	    now_real_us > d->direct_ts_us ? (uint32_t)(now_real_us - d->direct_ts_us) : 0;
	struct mesh_nb *s = mesh_find(m, d->src.id);
	enum ltm_verdict v =
	    judge(m, d_sn, d_np, s != NULL, s && s->have_delay, s ? s->delay_us : 0);
	if (v == LTM_CUT_NP && m->n > 2 && ltm_may_change(m, now_us)) {
		evlog_event(m->log, "ltm_cut", "n=%u d_np_us=%u s=%u d_sn_us=%u d_sp_us=%u",
		            from->id, d_np, d->src.id, d_sn, s->delay_us);
		send_simple(m, from, WIRE_NEIGH_CUT, WIRE_CUT_LTM);
		mesh_on_cut(m, from->id, "ltm");
		remember_cut(m, from->id, now_us);
	} else if (v == LTM_PROBE_S && mesh_pending_add(m, &d->src, from->id, d_sn, d_np, now_us)) {
		struct wire_detector p = {.ttl = 0, .src = m->self, .src_ts_us = now_real_us};
		send_detector(m, &d->src, &p);
	}
}

void mesh_on_detector(struct mesh *m, const struct wire_detector *d, const struct wire_addr *from,
                      uint64_t now_real_us, uint64_t now_us)
{
	if (!m->enabled || d->src.id == m->self.id || d->ttl > MESH_DETECTOR_TTL)
		return;
	uint32_t age = now_real_us > d->src_ts_us ? (uint32_t)(now_real_us - d->src_ts_us) : 0;
	if (d->ttl == 0) {
		on_direct(m, d, from, age, now_real_us, now_us);
		return;
	}
	struct mesh_nb *via = mesh_find(m, from->id);
	if (!via)
		return;
	via->last_heard_us = now_us;
	if (d->ttl >= 2) {
		/* A first hop comes from the source it names (the sender's id
		 * is verified): one naming another address would have every
		 * neighbour probe that address (on_two_hops). */
		if (d->src.id != from->id || d->src.ip != from->ip || d->src.port != from->port) {
			m->detectors_forged++;
			return;
		}
		on_one_hop(m, d, via, age, now_real_us);
		return;
	}
	if (now_us - via->two_hop_since_us >= MESH_ROUND_US) {
		via->two_hop_since_us = now_us;
		via->two_hop_n = 0;
	}
	if (via->two_hop_n >= MESH_TWO_HOP_MAX) {
		m->detectors_over++;
		return;
	}
	via->two_hop_n++;
	on_two_hops(m, d, from, now_real_us, now_us);
}

uint64_t mesh_round(struct mesh *m, uint64_t now_real_us, uint64_t now_us)
{
	if (m->leaving)
		return 0;
	for (int i = m->n - 1; i >= 0; i--) {
		if (now_us - m->nb[i].last_heard_us <= MESH_TIMEOUT_US)
			continue;
		uint32_t id = m->nb[i].addr.id;
		mesh_on_cut(m, id, "timeout");
		if (m->io.lost)
			m->io.lost(m->io.ctx, id);
	}
	const struct wire_peer_entry *cand;
	int ncand = m->io.candidates(m->io.ctx, &cand);
	for (int tries = 0, want = m->target - m->n; want > 0 && tries < 2 * ncand; tries++) {
		const struct wire_peer_entry *c = &cand[rng_below(m->rng, (uint64_t)ncand)];
		if (mesh_find(m, c->addr.id) || cut_lately(m, c->addr.id, now_us))
			continue;
		send_simple(m, &c->addr, WIRE_NEIGH_REQ, 0);
		want--;
	}
	struct wire_detector d = {.msg_id = m->next_msg_id++,
	                          .ttl = MESH_DETECTOR_TTL,
	                          .src = m->self,
	                          .src_ts_us = now_real_us};
	for (int i = 0; i < m->n; i++)
		send_detector(m, &m->nb[i].addr, &d);
	int k;
	double mean = mesh_mean_delay_us(m, &k);
	evlog_mesh(m->log, m->n, k, mean);
	/* Spread rounds so peers started together do not flood in lockstep. */
	return MESH_ROUND_US - MESH_ROUND_US / 10 + rng_below(m->rng, MESH_ROUND_US / 5);
}

void mesh_leave(struct mesh *m)
{
	m->leaving = 1;
	for (int i = 0; i < m->n; i++)
		send_simple(m, &m->nb[i].addr, WIRE_LEAVE, 0);
}
