#include "peer/inter.h"

#include <stdlib.h>
#include <string.h>

#include "peer/serve.h"

#define PROBE_TTL 7
#define PROBE_INTERVAL_US 5000000u
/* A peer whose push path failed and that has no other traces again after
 * 1 s, then 2, 4, ... up to the ADL's period, until a path pushes: the
 * paper drives the optimization frequency by delay feedback, and a peer
 * left with pull only is the strongest such signal. Each trace finds a
 * path only through nodes with room (could_take), so one may find none. */
#define PROBE_RETRY_MIN_US 1000000u
#define COLLECT_US 300000u /* the source waits this long for more traces */
#define SETUP_TIMEOUT_US 3000000u
/* An active path that pushed nothing for eight segment intervals, and at
 * least half a second, failed. The paper leaves detection open; the
 * assumption: a parent pushes every segment it gets, so a run of eight
 * missing ones is no loss burst on a working path (at 5% loss, 4e-11),
 * and checking between ticks (inter_watch) lets a backup take over well
 * within a second of a crash, while the mesh's pull covers the gap. */
#define PATH_SILENT_MIN_US 500000u
#define PATH_SILENT_SEGMENTS 8
/* A relay's parent is judged by the same rule over the gaps it measured
 * (it knows no other stream's rate); before two segments came, by this
 * window, in which even the lowest accepted rate (a segment every 1.3 s)
 * sends a few. */
#define RELAY_SILENT_US 5000000u
/* Eq. 1 shortfall: a path pushing under 9 in 10 of the stream's new
 * segments for 3 ticks, measured over at least 8 segments a tick. */
#define SHORT_SHARE 0.9
#define SHORT_TICKS 3
#define SHORT_MIN_SEGMENTS 8
#define MU_D_US 25000000u
/* A parent whose path failed is avoided this long: a trace that went
 * through it before it failed can still come back as an offer (the source
 * collects for 300 ms, a peer probes every 5 s), while a peer that only
 * hiccuped is usable again a little later. */
#define FAILED_MEMORY_US 10000000u
/* A backup replaces a working path when it is faster by a fifth of the
 * path's delay and by 10 ms at least. The paper asks for the better path
 * without a figure; the assumption: a margin the delays' own jitter (a few
 * ms on these links) does not cross, so paths do not flap, while the
 * gains the paper is about (tens of ms, figure 1) are taken. */
#define REPLACE_GAIN_MIN_US 10000u
#define REPLACE_GAIN_DIV 5

/* The silence that fails a path whose segments come every seg_us. */
static uint64_t silence_us(uint64_t seg_us)
{
	uint64_t us = PATH_SILENT_SEGMENTS * seg_us;
	return us > PATH_SILENT_MIN_US ? us : PATH_SILENT_MIN_US;
}

/* A relay's parent stopped pushing: the relay cannot deliver. */
static int relay_silent(const struct relay *r, uint64_t now_us)
{
	uint64_t window = r->gap_us ? silence_us(r->gap_us) : RELAY_SILENT_US;
	return now_us - r->last_rx_us > window;
}

static void send_msg(struct inter *in, const struct wire_addr *to, enum wire_type type,
                     uint16_t stream, const void *body, size_t len)
{
	struct wire_msg m;
	wire_msg_init(&m, type, stream, in->self.id);
	memcpy(&m.u, body, len);
	in->io.send(in->io.ctx, to, &m);
}

static void send_simple(struct inter *in, const struct wire_addr *to, enum wire_type type,
                        uint16_t stream, uint32_t seq, uint8_t reason)
{
	struct wire_msg m;
	wire_msg_simple(&m, type, stream, in->self.id, seq, reason);
	in->io.send(in->io.ctx, to, &m);
}

void inter_init(struct inter *in, const struct wire_addr *self, struct evlog *log,
                const struct inter_io *io, struct rng *rng, int enabled, uint64_t upload_bps)
{
	memset(in, 0, sizeof(*in));
	in->self = *self;
	in->log = log;
	in->io = *io;
	in->rng = rng;
	in->enabled = enabled;
	in->mu_d_us = MU_D_US;
	in->next_seq = 1;
	in->upload_bps = upload_bps;
	in->probe_share = INTER_PROBE_SHARE;
	/* Until the stream's rate is known, size the slots for 300 kbit/s. */
	inter_set_stream(in, 0, 0, 300000, 0);
}

void inter_set_stream(struct inter *in, uint16_t stream, uint32_t source_id, uint64_t rate_bps,
                      int is_source)
{
	in->stream = stream;
	in->source_id = source_id;
	in->is_source = is_source;
	if (rate_bps) {
		uint64_t n = in->upload_bps / rate_bps;
		in->conns = n < 1 ? 1 : n > 4096 ? 4096 : (int)n;
		in->rate_bps = rate_bps;
		keynode_init(&in->kn, in->conns, 1.0 / 60.0, 4);
	}
}

static int find_child(const struct push_child *c, int n, uint32_t id)
{
	for (int i = 0; i < n; i++)
		if (c[i].addr.id == id)
			return i;
	return -1;
}

/* Sends the segment to each child whose share holds it; returns how many
 * got it. */
static int push_to(struct inter *in, const struct push_child *c, int n, uint16_t stream,
                   const struct wire_seg_data *sd)
{
	struct wire_seg_data fwd = *sd;
	fwd.hops = (uint8_t)(sd->hops < 255 ? sd->hops + 1 : 255);
	fwd.flags = WIRE_SEG_PUSHED;
	int sent = 0;
	for (int i = 0; i < n; i++)
		if (wire_share_has(c[i].share, sd->seq)) {
			send_msg(in, &c[i].addr, WIRE_SEG_DATA, stream, &fwd, sizeof(fwd));
			sent++;
		}
	return sent;
}

int inter_push(struct inter *in, uint16_t stream, const struct wire_seg_data *sd)
{
	if (stream != in->stream || !in->nchild)
		return 0;
	int sent = push_to(in, in->child, in->nchild, stream, sd);
	in->push_bytes += (uint64_t)sent * sd->len;
	return sent;
}

static struct relay *find_relay(struct inter *in, uint16_t stream)
{
	for (int i = 0; i < in->nrelay; i++)
		if (in->relay[i].stream == stream)
			return &in->relay[i];
	return NULL;
}

static void send_list(struct inter *in, const struct push_child *c, int n, uint16_t stream,
                      const struct wire_hash_list *hl)
{
	for (int i = 0; i < n; i++)
		send_msg(in, &c[i].addr, WIRE_HASH_LIST, stream, hl, sizeof(*hl));
}

void inter_push_list(struct inter *in, uint16_t stream, const struct wire_hash_list *hl)
{
	if (stream == in->stream)
		send_list(in, in->child, in->nchild, stream, hl);
}

/* The stream's pace from a verified segment: the source's creation stamps
 * are under the hash it signed, so unlike arrival gaps, which segments
 * bunched on the way shorten, they give the pace the source made the
 * stream at from the second segment on. A segment later in sequence than
 * the anchor but made before it means the source started over: it is the
 * new anchor. */
static void relay_pace(struct relay *r, const struct wire_seg_data *sd)
{
	if (r->anchored && !seq_lt(r->anchor_seq, sd->seq))
		return; /* the anchor, or one before it: no span */
	if (!r->anchored || sd->origin_us < r->anchor_origin_us) {
		r->anchored = 1;
		r->anchor_seq = sd->seq;
		r->anchor_origin_us = sd->origin_us;
		r->pace_us = 0;
		return;
	}
	uint64_t pace = (sd->origin_us - r->anchor_origin_us) / (uint32_t)(sd->seq - r->anchor_seq);
	r->pace_us = pace > UINT32_MAX ? UINT32_MAX : (uint32_t)pace;
}

/* A verified segment goes on to the relay's children, once. */
static void relay_forward(struct inter *in, struct relay *r, const struct wire_seg_data *sd)
{
	relay_pace(r, sd);
	r->seen[r->seen_next] = sd->seq;
	r->seen_next = (r->seen_next + 1) % INTER_RELAY_SEEN;
	if (r->nseen < INTER_RELAY_SEEN)
		r->nseen++;
	in->relay_bytes += (uint64_t)push_to(in, r->child, r->nchild, r->stream, sd) * sd->len;
	r->forwarded++;
}

struct relay_release {
	struct inter *in;
	struct relay *r;
};

static void relay_released(void *arg, const struct wire_seg_data *sd, const struct wire_addr *from)
{
	struct relay_release *x = arg;
	relay_forward(x->in, x->r, sd);
}

/* Forward the pending segments a list now covers; drop those that do not
 * match it or waited too long (auth_release counts them). */
static void relay_release(struct inter *in, struct relay *r, uint64_t now_us)
{
	struct relay_release x = {in, r};
	if (r->auth && r->auth->nheld)
		auth_release(r->auth, now_us, relay_released, &x);
}

/* Into the pending area: 0 (held, or held already), -1 when it is full. */
static int relay_hold(struct relay *r, const struct wire_seg_data *sd, const struct wire_addr *from,
                      uint64_t now_us)
{
	size_t bytes = sd->len;
	for (int i = 0; i < r->auth->nheld; i++) {
		if (r->auth->held[i].sd.seq == sd->seq)
			return 0;
		bytes += r->auth->held[i].sd.len;
	}
	if (r->auth->nheld >= (int)INTER_RELAY_HOLD || bytes > INTER_RELAY_HOLD_BYTES ||
	    auth_hold(r->auth, sd, from, now_us)) {
		r->hold_full++;
		return -1;
	}
	r->held++;
	return 0;
}

int inter_on_relay_list(struct inter *in, uint16_t stream, const struct wire_hash_list *hl,
                        const struct wire_addr *from, uint64_t now_us)
{
	struct relay *r = find_relay(in, stream);
	if (!r)
		return 0;
	if (from->id != r->parent.id || !r->auth || auth_on_list(r->auth, hl) != AUTH_OK)
		return 1;
	/* The list first: a child checks the segments with it. */
	send_list(in, r->child, r->nchild, stream, hl);
	relay_release(in, r, now_us);
	return 1;
}

/* The pace a relay serves its children's list requests at: the source's
 * (relay_pace), but never shorter than a full segment of the fastest
 * stream the wire admits, which is also the pace before the relay has
 * verified two segments. */
static uint64_t relay_period_us(const struct relay *r)
{
	const uint64_t fastest = wire_seg_period_us(WIRE_RATE_MAX_BPS);
	return r->pace_us > fastest ? r->pace_us : fastest;
}

void inter_on_relay_hash_req(struct inter *in, uint16_t stream, uint32_t seq,
                             const struct wire_addr *from, uint64_t now_us)
{
	struct relay *r = find_relay(in, stream);
	int k = r && r->auth ? find_child(r->child, r->nchild, from->id) : -1;
	if (k < 0)
		return;
	const struct wire_hash_list *hl = auth_find(r->auth, seq);
	if (!hl)
		return;
	if (!serve_budget(&r->child[k].serve, relay_period_us(r), 1, now_us)) {
		in->lists_over++;
		return;
	}
	send_msg(in, from, WIRE_HASH_LIST, stream, hl, sizeof(*hl));
}

/* The parent of a path: the hop before its end. */
static const struct wire_addr *parent_addr(const struct inter_path *p)
{
	return &p->hops[p->nhops - 2];
}

static uint32_t parent_of(const struct inter_path *p)
{
	return parent_addr(p)->id;
}

int inter_is_parent(const struct inter *in, uint32_t id)
{
	return (in->have_active && parent_of(&in->active) == id) ||
	       (in->second.have && parent_of(&in->second.path) == id);
}

struct bucket *inter_child_budget(struct inter *in, uint32_t id)
{
	int k = find_child(in->child, in->nchild, id);
	return k >= 0 ? &in->child[k].serve : NULL;
}

/* What a new relay checks the stream's media with: NULL when media is not
 * signed, or when the stream's key is unknown or memory ran out. */
static struct auth *relay_auth(struct inter *in, uint16_t stream)
{
	uint8_t key[WIRE_KEY_LEN];
	if (!in->io.stream_key || in->io.stream_key(in->io.ctx, stream, key))
		return NULL;
	struct auth *a = malloc(sizeof(*a));
	if (a && auth_init(a, stream, key, 0)) {
		free(a);
		a = NULL;
	}
	return a;
}

static void drop_relay(struct inter *in, struct relay *r, const char *why)
{
	/* Tell both sides: the children lose this hop, the parent a child. */
	for (int i = 0; i < r->nchild; i++) {
		send_simple(in, &r->child[i].addr, WIRE_NEIGH_CUT, r->stream, 0, WIRE_CUT_PATH);
		keynode_release(&in->kn, r->child[i].cls);
		evlog_event(in->log, LOGEV_CHILD_DEL,
		            LOGK_ID "=%u " LOGK_STREAM "=%u children=0 reason=relay",
		            r->child[i].addr.id, r->stream);
	}
	if (r->have_pending)
		send_simple(in, &r->pending_child, WIRE_RELAY_REFUSE, r->stream, r->setup_seq,
		            WIRE_REFUSE_UPSTREAM);
	send_simple(in, &r->parent, WIRE_NEIGH_CUT, r->stream, 0, WIRE_CUT_PATH);
	if (r->moving)
		send_simple(in, &r->new_up[r->new_nup - 2], WIRE_NEIGH_CUT, r->stream, 0,
		            WIRE_CUT_PATH);
	/* Held: segments that waited for their list; of those, released went
	 * on and expired and mismatched did not; hold_full found no room. */
	const struct auth *a = r->auth;
	evlog_event(
	    in->log, "relay_del",
	    "stream=%u parent=%u children=%d forwarded=%llu unverified=%llu held=%llu "
	    "released=%llu expired=%llu mismatched=%llu hold_full=%llu moves=%llu reason=%s",
	    r->stream, r->parent.id, r->nchild, (unsigned long long)r->forwarded,
	    (unsigned long long)r->unverified, (unsigned long long)r->held,
	    (unsigned long long)(a ? a->released : 0), (unsigned long long)(a ? a->expired : 0),
	    (unsigned long long)(a ? a->mismatched : 0), (unsigned long long)r->hold_full,
	    (unsigned long long)r->moves, why);
	if (r->auth) {
		auth_free(r->auth);
		free(r->auth);
	}
	*r = in->relay[--in->nrelay];
}

int inter_on_relay_segment(struct inter *in, uint16_t stream, const struct wire_seg_data *sd,
                           const struct wire_addr *from, uint64_t now_us)
{
	struct relay *r = find_relay(in, stream);
	if (!r)
		return 0;
	if (from->id != r->parent.id || !(sd->flags & WIRE_SEG_PUSHED))
		return 1;
	r->last_rx_us = now_us;
	for (int i = 0; i < r->nseen; i++)
		if (r->seen[i] == sd->seq)
			return 1;
	if (r->new_rx_us) {
		uint64_t gap = now_us - r->new_rx_us;
		if (gap > RELAY_SILENT_US)
			gap = RELAY_SILENT_US;
		r->gap_us = r->gap_us ? (uint32_t)((7 * (uint64_t)r->gap_us + gap) / 8)
		                      : (uint32_t)(gap ? gap : 1);
	}
	r->new_rx_us = now_us;
	/* Those that waited too long make room first. */
	relay_release(in, r, now_us);
	enum auth_verdict v = r->auth ? auth_check(r->auth, sd) : AUTH_OK;
	if (v == AUTH_UNKNOWN && now_us - r->asked_us >= AUTH_ASK_US) {
		r->asked_us = now_us;
		send_simple(in, &r->parent, WIRE_HASH_REQ, stream, sd->seq, 0);
	}
	if (v == AUTH_UNKNOWN && relay_hold(r, sd, from, now_us) == 0)
		return 1;
	if (v != AUTH_OK) {
		r->unverified++;
		return 1;
	}
	relay_forward(in, r, sd);
	return 1;
}

static int recently_failed(const struct inter *in, uint32_t id, uint64_t now_us)
{
	for (int i = 0; i < INTER_MAX_FAILED; i++)
		if (in->failed[i].at_us && in->failed[i].id == id &&
		    now_us - in->failed[i].at_us < FAILED_MEMORY_US)
			return 1;
	return 0;
}

static int on_path(const struct inter_path *p, uint32_t id)
{
	for (int h = 0; h < p->nhops; h++)
		if (p->hops[h].id == id)
			return 1;
	return 0;
}

/* The same nodes in the same order. */
static int same_ids(const struct wire_addr *a, int na, const struct wire_addr *b, int nb)
{
	if (na != nb)
		return 0;
	for (int h = 0; h < na; h++)
		if (a[h].id != b[h].id)
			return 0;
	return 1;
}

/* A hop failed (its path was cut, or it left): remember it, and drop every
 * backup through it, which would fail the same way. */
static void hop_failed(struct inter *in, uint32_t id, uint64_t now_us)
{
	in->failed[in->failed_next] = (struct inter_failed){id, now_us ? now_us : 1};
	in->failed_next = (in->failed_next + 1) % INTER_MAX_FAILED;
	for (int b = in->nbackup - 1; b >= 0; b--)
		if (on_path(&in->backup[b], id))
			in->backup[b] = in->backup[--in->nbackup];
}

/* The second path goes: failed (its parent is remembered as failed, and
 * backups through it go), or no longer needed (a whole path is up). */
static void drop_second(struct inter *in, const char *why, int failed, int tell, uint64_t now_us)
{
	struct inter_second *s = &in->second;
	struct wire_addr parent = *parent_addr(&s->path);
	evlog_event(in->log, "second_cut", LOGK_PARENT "=%u reason=%s", parent.id, why);
	if (tell)
		send_simple(in, &parent, WIRE_NEIGH_CUT, in->stream, 0, WIRE_CUT_PATH);
	s->have = s->ok = s->up = 0;
	if (failed) {
		in->paths_cut++;
		hop_failed(in, parent.id, now_us);
	}
}

/* The other half of share. */
static uint8_t other_half(uint8_t share)
{
	return share == WIRE_SHARE_ODD ? WIRE_SHARE_EVEN : WIRE_SHARE_ODD;
}

/* The active path failed while the second pushes: the second becomes the
 * active path at once, with no set-up to wait for, and the half it does
 * not carry is the next second's to find. */
static void promote_second(struct inter *in)
{
	struct inter_second *s = &in->second;
	in->active = s->path;
	in->have_active = in->active_ok = 1;
	in->active_up = s->up;
	in->active_since_us = s->since_us;
	in->active_ok_us = s->ok_us;
	in->active_rx_us = s->rx_us;
	in->active_seq = s->seq;
	in->active_measured_us = in->active_first_us = in->active_delay_min_us = 0;
	in->short_ticks = in->window_full = 0;
	in->window_pushed = 0;
	s->have = s->ok = s->up = 0;
	in->seconds_promoted++;
	evlog_event(in->log, "second_promoted", LOGK_PARENT "=%u share=%u", parent_of(&in->active),
	            in->active.share);
	if (in->active_up)
		evlog_event(in->log, LOGEV_PATH_UP, LOGK_PARENT "=%u " LOGK_HOPS "=%u share=%u",
		            parent_of(&in->active), in->active.nhops - 1, in->active.share);
}

/* The active path failed: only its last link goes (tell says whether the
 * parent must hear it); backups through the parent go too. */
static void path_failed(struct inter *in, const char *why, int tell, uint64_t now_us)
{
	struct wire_addr parent = *parent_addr(&in->active);
	evlog_event(in->log, LOGEV_PATH_CUT, LOGK_PARENT "=%u reason=%s", parent.id, why);
	if (tell)
		send_simple(in, &parent, WIRE_NEIGH_CUT, in->stream, 0, WIRE_CUT_PATH);
	in->have_active = in->active_up = in->active_ok = 0;
	in->paths_cut++;
	hop_failed(in, parent.id, now_us);
	if (in->replacing) {
		/* The faster path failed before it pushed: the one it was to
		 * replace still does, with a fresh silence window. */
		in->replacing = 0;
		in->active = in->prev_active;
		in->have_active = in->active_up = in->active_ok = 1;
		in->active_rx_us = now_us;
		return;
	}
	/* A trace bounded by the lost path's delay would find nothing: the
	 * paths left are all slower, or that one would not have been active.
	 * The LastDelay this tick was given predates the loss, too. */
	if (in->io.path_lost)
		in->io.path_lost(in->io.ctx);
	in->delay_lost = 1;
	if (in->second.have && in->second.ok) {
		promote_second(in);
		return;
	}
	/* Without a backup left, trace at once rather than at the next period,
	 * and again soon if that finds nothing. */
	in->probe_now = 1;
	in->retry_us = PROBE_RETRY_MIN_US;
}

/* A full segment's interval at the stream's rate (0 before it is known). */
static uint64_t seg_interval_us(const struct inter *in)
{
	return wire_seg_period_us(in->rate_bps);
}

static uint64_t path_silent_us(const struct inter *in)
{
	return silence_us(seg_interval_us(in));
}

static void keep_backup(struct inter *in, const struct inter_path *p, uint64_t now_us);

/* A segment the second path's parent pushed. */
static void on_second_segment(struct inter *in, const struct wire_seg_data *sd, uint32_t delay_us,
                              uint64_t now_us)
{
	struct inter_second *s = &in->second;
	s->pushed++;
	if (s->rx_us && !seq_lt(s->seq, sd->seq))
		return;
	s->seq = sd->seq;
	s->rx_us = now_us;
	if (!s->up) {
		s->up = 1;
		evlog_event(in->log, "second_up", LOGK_PARENT "=%u " LOGK_HOPS "=%u share=%u",
		            parent_of(&s->path), s->path.nhops - 1, s->path.share);
	}
	if (delay_us > in->mu_d_us)
		drop_second(in, "delay", 1, 1, now_us);
}

void inter_on_own_segment(struct inter *in, const struct wire_addr *from,
                          const struct wire_seg_data *sd, uint32_t delay_us, uint64_t now_us)
{
	if (!in->have_newest || seq_lt(in->newest_seen, sd->seq)) {
		in->newest_seen = sd->seq;
		if (!in->have_newest)
			in->window_seq = sd->seq;
		in->have_newest = 1;
	}
	if (in->second.have && from->id == parent_of(&in->second.path) &&
	    (sd->flags & WIRE_SEG_PUSHED)) {
		on_second_segment(in, sd, delay_us, now_us);
		return;
	}
	if (!in->have_active || in->active.nhops < 2)
		return;
	const struct wire_addr *parent = parent_addr(&in->active);
	if (from->id != parent->id || !(sd->flags & WIRE_SEG_PUSHED))
		return;
	/* A parent pushes each segment once, as it gets it: one that pulls
	 * pushes out of order or behind the live edge, and each counts to the
	 * path's rate (how far behind is its delay, judged apart). */
	in->window_pushed++;
	if (in->active_rx_us && !seq_lt(in->active_seq, sd->seq))
		return;
	in->active_seq = sd->seq;
	if (!in->active_delay_min_us || delay_us < in->active_delay_min_us)
		in->active_delay_min_us = delay_us ? delay_us : 1;
	if (!in->active_up && in->replacing) {
		/* The faster path is up: the old one goes. */
		const struct wire_addr *old = parent_addr(&in->prev_active);
		if (old->id != parent->id)
			send_simple(in, old, WIRE_NEIGH_CUT, in->stream, 0, WIRE_CUT_PATH);
		in->replacing = 0;
		in->paths_replaced++;
		/* A path replaced for a faster one worked: it joins the backup
		 * set (the paper's sets hold active and backup paths; a path
		 * leaving the one is a candidate for the other), unless it
		 * shares the new parent. A trace finds a path only through
		 * nodes with room, and most find none, so it is often the only
		 * backup a peer could have. Its hops' slots are released with
		 * the cut; promotion asks again. */
		if (in->keep_replaced)
			keep_backup(in, &in->prev_active, now_us);
	}
	if (!in->active_up) {
		in->active_up = 1;
		in->retry_us = 0;
		evlog_event(in->log, LOGEV_PATH_UP, LOGK_PARENT "=%u " LOGK_HOPS "=%u share=%u",
		            parent->id, in->active.nhops - 1, in->active.share);
		/* A whole path carries what the second did. */
		if (in->second.have && in->active.share == WIRE_SHARE_WHOLE)
			drop_second(in, "whole path up", 0, 1, now_us);
	}
	in->active_rx_us = now_us;
	if (delay_us > in->mu_d_us) {
		/* Invalid path: only its last link goes. */
		evlog_event(in->log, "path_slow", "parent=%u delay_us=%u", parent->id, delay_us);
		path_failed(in, "delay", 1, now_us);
	}
}

/* ---- reverse tracing ---- */

static int in_trace(const struct wire_probe *p, uint32_t id)
{
	if (p->peer0.id == id)
		return 1;
	for (int i = 0; i < p->nhops; i++)
		if (p->hops[i].addr.id == id)
			return 1;
	return 0;
}

/* Sends p to up to max (j, or fewer within the forwarding budget) random
 * mesh neighbours not already on the trace; returns how many got it. */
static int forward_probe(struct inter *in, const struct wire_probe *p, int max)
{
	struct wire_addr nb[32];
	int n = in->io.neighbours ? in->io.neighbours(in->io.ctx, nb, 32) : 0;
	int sent = 0;
	for (int tries = 0; sent < max && n > 0 && tries < 4 * n; tries++) {
		int k = (int)rng_below(in->rng, (uint64_t)n);
		if (in_trace(p, nb[k].id)) {
			nb[k] = nb[--n];
			continue;
		}
		send_msg(in, &nb[k], WIRE_PROBE, 0, p, sizeof(*p));
		nb[k] = nb[--n];
		sent++;
	}
	return sent;
}

/* A probe's datagram length, as the codec writes it. */
static size_t probe_len(const struct wire_probe *p)
{
	struct wire_msg m;
	uint8_t buf[WIRE_MAX_DATAGRAM];
	wire_msg_init(&m, WIRE_PROBE, 0, 0);
	m.u.probe = *p;
	int n = wire_encode(&m, buf, sizeof(buf));
	return n > 0 ? (size_t)n : WIRE_MAX_DATAGRAM;
}

/* The forwarding budget's bucket now, in bytes (probe_share): it fills at
 * the share of the stream's rate and holds INTER_PROBE_BURST_S seconds of
 * it, or one full flood step; *cap is that capacity. */
static double probe_level(struct inter *in, double *cap, uint64_t now_us)
{
	double fill = (double)in->rate_bps / 8 * in->probe_share; /* bytes a second */
	static size_t full_len; /* a probe of WIRE_MAX_HOPS hops: the codec's constant */
	if (!full_len)
		full_len = probe_len(&(struct wire_probe){.nhops = WIRE_MAX_HOPS});
	*cap = fill * INTER_PROBE_BURST_S;
	double step = (double)INTER_PROBE_J * (double)full_len;
	if (*cap < step)
		*cap = step;
	return bucket_level(&in->probe_budget, fill, *cap, now_us);
}

/* The use windows moved on to now: a window past is the one before, two
 * past are forgotten. */
static void probe_use_roll(struct inter *in, uint64_t now_us)
{
	const uint64_t w = (uint64_t)INTER_PROBE_BURST_S * 1000000;
	if (!in->probe_window_us)
		in->probe_window_us = now_us;
	if (now_us - in->probe_window_us < w)
		return;
	int two = now_us - in->probe_window_us >= 2 * w;
	in->probe_use_prev = two ? 0 : in->probe_use_cur;
	in->probe_use_cur = 0;
	for (int i = 0; i < INTER_PROBE_SENDERS; i++) {
		in->probe_use[i].prev = two ? 0 : in->probe_use[i].cur;
		in->probe_use[i].cur = 0;
	}
	in->probe_window_us = now_us - (now_us - in->probe_window_us) % w;
}

/* Use over the last minute (after probe_use_roll): the current window and
 * the part of the one before that the minute still covers. */
static double probe_use_recent(const struct inter *in, uint64_t cur, uint64_t prev, uint64_t now_us)
{
	const double w = (double)INTER_PROBE_BURST_S * 1e6;
	double into = (double)(now_us - in->probe_window_us);
	return (double)cur + (double)prev * (into < w ? (w - into) / w : 0);
}

/* The sender at ip's entry, or a new one in place of the least active
 * (the one that asked longest ago among the idle) when it has none. */
static struct probe_use *probe_user(struct inter *in, uint32_t ip, uint64_t now_us)
{
	struct probe_use *least = NULL;
	double least_use = 0;
	for (int i = 0; i < INTER_PROBE_SENDERS; i++) {
		struct probe_use *u = &in->probe_use[i];
		if (u->ip == ip)
			return u;
		double use = probe_use_recent(in, u->cur, u->prev, now_us);
		if (!least || use < least_use ||
		    (use == least_use && u->asked_us < least->asked_us))
			least = u, least_use = use;
	}
	*least = (struct probe_use){.ip = ip};
	return least;
}

/* The sender at ip asks for the bucket now: its entry, made if new, so a
 * sender whose every probe found the bucket spent by others still counts
 * among those asking. */
static struct probe_use *probe_asker(struct inter *in, uint32_t ip, uint64_t now_us)
{
	probe_use_roll(in, now_us);
	struct probe_use *u = probe_user(in, ip, now_us);
	u->asked_us = now_us;
	return u;
}

/* Whether sender u may spend the bucket when it is under half full
 * (INTER_PROBE_SENDERS' rule): only if it had at most 1/k of what was sent
 * on over the last minute, k the senders that asked in it, at least 2. */
static int probe_fair(const struct inter *in, const struct probe_use *u, uint64_t now_us)
{
	const uint64_t w = (uint64_t)INTER_PROBE_BURST_S * 1000000;
	int k = 0;
	for (int i = 0; i < INTER_PROBE_SENDERS; i++) {
		const struct probe_use *o = &in->probe_use[i];
		k += o->asked_us && now_us - o->asked_us < w;
	}
	if (k < 2)
		k = 2;
	return (double)k * probe_use_recent(in, u->cur, u->prev, now_us) <=
	       probe_use_recent(in, in->probe_use_cur, in->probe_use_prev, now_us);
}

/* What one copy of a probe of len codec bytes costs the budget: the
 * bytes the network carries, its IP and UDP headers with it, since the
 * share bounds ProbM on the wire and a probe's headers are a third of it. */
static uint64_t probe_cost(size_t len)
{
	return (uint64_t)len + WIRE_IP_UDP_LEN;
}

static void probe_spent(struct inter *in, int sent, size_t len, struct probe_use *u)
{
	uint64_t cost = (uint64_t)sent * probe_cost(len);
	in->probe_budget.tokens -= (double)cost;
	in->probes_forwarded += (uint64_t)sent;
	in->probe_fwd_bytes += (uint64_t)sent * len;
	u->cur += cost;
	in->probe_use_cur += cost;
}

static void collect(struct inter *in, const struct wire_probe *p, uint64_t now_real_us,
                    uint64_t now_us)
{
	uint32_t d = (uint32_t)(now_real_us > p->ts0_us ? now_real_us - p->ts0_us : 0);
	struct inter_collect *c = NULL, *free_slot = NULL;
	for (int i = 0; i < INTER_MAX_COLLECT; i++) {
		if (in->col[i].used && in->col[i].peer0 == p->peer0.id && in->col[i].seq == p->seq)
			c = &in->col[i];
		else if (!in->col[i].used && !free_slot)
			free_slot = &in->col[i];
	}
	if (!c) {
		if (!free_slot)
			return;
		c = free_slot;
		*c = (struct inter_collect){
		    .peer0 = p->peer0.id, .seq = p->seq, .first_us = now_us, .used = 1};
	}
	if (c->n == INTER_COLLECT_KEEP) {
		if (c->delay_us[c->n - 1] <= d)
			return;
		c->n--; /* the slowest kept makes room */
	}
	int i = c->n++;
	for (; i > 0 && c->delay_us[i - 1] > d; i--) {
		c->delay_us[i] = c->delay_us[i - 1];
		c->trace[i] = c->trace[i - 1];
	}
	c->delay_us[i] = d;
	c->trace[i] = *p;
}

/* Halves of a connection a child of this share holds. */
static int share_halves(uint8_t share)
{
	return share == WIRE_SHARE_WHOLE ? 2 : 1;
}

/* Room for one more push or relay child of class cls and share: the
 * halves of a connection the children and the partners' pulls leave, and
 * the key node's room. */
static int has_room(const struct inter *in, int cls, uint8_t share)
{
	return inter_halves_free(in) >= share_halves(share) && keynode_has_room(&in->kn, cls);
}

/* The admission rules of a push child, one set for the path set-up, which
 * then takes the slot (admit_child, start_relay), and for the trace,
 * which only asks (could_take): why this node would refuse `child` on a
 * stream that is its own (own; carries: it plays or serves it) or that
 * it relays through r (NULL: no relay for it yet), or 0 to take it. */
static int refusal(const struct inter *in, int own, int carries, const struct relay *r,
                   uint32_t child, uint8_t share, uint64_t now_us)
{
	if (own && carries) {
		if ((in->have_active && on_path(&in->active, child)) ||
		    (in->second.have && on_path(&in->second.path, child)))
			return WIRE_REFUSE_LOOP; /* it is upstream of us */
		return find_child(in->child, in->nchild, child) >= 0 ||
		               has_room(in, KEYNODE_WATCH, share)
		           ? 0
		           : WIRE_REFUSE_NO_SLOT;
	}
	if (r && r->active) {
		if (r->parent.id == child)
			return WIRE_REFUSE_LOOP;
		if (relay_silent(r, now_us))
			return WIRE_REFUSE_UPSTREAM; /* watch_relays drops it soon */
		if (r->share != WIRE_SHARE_WHOLE && share != r->share)
			return WIRE_REFUSE_UPSTREAM; /* it is pushed the other half */
		return find_child(r->child, r->nchild, child) >= 0 ||
		               has_room(in, KEYNODE_RELAY, share)
		           ? 0
		           : WIRE_REFUSE_NO_SLOT;
	}
	/* Our own stream is served once we play it, never relayed; in
	 * anysee-intra mode no other stream is relayed either; a relay being
	 * set up takes no second child. */
	if (own || r || in->nrelay == INTER_MAX_RELAYS || in->own_only)
		return WIRE_REFUSE_CANNOT_RELAY;
	return has_room(in, KEYNODE_RELAY, share) ? 0 : WIRE_REFUSE_NO_SLOT;
}

/* The relay this node runs for the stream from source_id, if any. */
static const struct relay *relay_for(const struct inter *in, uint32_t source_id)
{
	for (int i = 0; i < in->nrelay; i++)
		if (in->relay[i].up[0].id == source_id)
			return &in->relay[i];
	return NULL;
}

/* Could this node take `from`, the probe's last hop, as its push child on
 * the path the probe would trace? The path set-up asks exactly that of
 * every hop (inter_on_path_setup), and a hop that would refuse it makes
 * the whole trace worthless: the peer would build the path, be refused,
 * and wait a probe period for the next. The paper leaves open when key
 * node admission is consulted; here it is also at trace time, read-only
 * (no arrival counted, no slot taken), so a trace goes only through nodes
 * with room, and a full node does not spread the flood. */
/* Returns 2 when it could take the whole stream, 1 when half a connection
 * is all it has (the trace is then for a half-rate path, eq. 1 with two
 * active paths), 0 when it could take neither. A relay pushed one half
 * takes part in no trace: the peer picks its half at set-up, after. */
static int could_take(const struct inter *in, const struct wire_probe *p,
                      const struct wire_addr *from, int have_stream, uint64_t now_us)
{
	int own = in->stream && p->source_id == in->source_id;
	const struct relay *r = own ? NULL : relay_for(in, p->source_id);
	if (r && r->share != WIRE_SHARE_WHOLE)
		return 0;
	if (!refusal(in, own, have_stream, r, from->id, WIRE_SHARE_WHOLE, now_us))
		return 2;
	return !refusal(in, own, have_stream, r, from->id, WIRE_SHARE_EVEN, now_us);
}

/* The parent that pushes this node the stream from source_id: its active
 * path's, once that pushes, or its relay's; NULL when it has none (it
 * pulls the stream, or does not carry it). */
static const struct wire_addr *pushed_by(const struct inter *in, uint32_t source_id,
                                         int have_stream)
{
	if (in->stream && source_id == in->source_id)
		return have_stream && in->have_active && in->active_up && in->active.nhops >= 2
		           ? parent_addr(&in->active)
		           : NULL;
	const struct relay *r = relay_for(in, source_id);
	return r && r->active ? &r->parent : NULL;
}

void inter_on_probe(struct inter *in, const struct wire_probe *p, const struct wire_addr *from,
                    int have_stream, uint64_t now_real_us, uint64_t now_us)
{
	if (!in->enabled || p->peer0.id == in->self.id || in_trace(p, in->self.id) ||
	    p->nhops >= WIRE_MAX_HOPS - 1)
		return;
	/* What no peer sends: a probe without a bound (probe() sends none), a
	 * stamp from the future, a trace whose last hop (or Peer_0, on the
	 * first) is not who sent it. The sender's id is verified (node.c's
	 * admitted), so the trace's claim to it is checked against that. */
	uint32_t last = p->nhops ? p->hops[p->nhops - 1].addr.id : p->peer0.id;
	if (!p->last_delay_us || p->ts0_us > now_real_us + INTER_PROBE_SKEW_US ||
	    last != from->id) {
		in->probes_refused++;
		return;
	}
	int can = could_take(in, p, from, have_stream || in->is_source, now_us);
	if (!can) {
		in->probes_declined++;
		return;
	}
	struct wire_probe q = *p;
	if (can == 1)
		q.half = 1;
	q.hops[q.nhops++] = (struct wire_hop){in->self, now_real_us};
	if (in->is_source && in->source_id == p->source_id) {
		collect(in, &q, now_real_us, now_us);
		return;
	}
	uint64_t key = (uint64_t)p->peer0.id << 32 | p->seq;
	for (int i = 0; i < 256; i++)
		if (in->probe_seen[i] == key)
			return;
	in->probe_seen[in->probe_seen_next] = key;
	in->probe_seen_next = (in->probe_seen_next + 1) % 256;
	/* Stop when the trace is already slower than what Peer_0 has. */
	uint64_t so_far = now_real_us > p->ts0_us ? now_real_us - p->ts0_us : 0;
	if (so_far > p->last_delay_us || q.ttl == 0)
		return;
	q.ttl--;
	/* A node the stream is pushed to ends every path through it: the
	 * set-up admits the child there and asks no one upstream
	 * (inter_on_path_setup). Past it lies its own path from the source, so
	 * the trace follows that path, one message a hop, and measures the
	 * delay the peer would get; a flood on would trace routes no set-up
	 * uses, and cost up to j messages at every node it reaches. */
	const struct wire_addr *up = pushed_by(in, p->source_id, have_stream);
	if (up && in_trace(&q, up->id))
		return;
	double cap, level = probe_level(in, &cap, now_us);
	struct probe_use *asker = probe_asker(in, from->ip, now_us);
	if (2 * level < cap && !probe_fair(in, asker, now_us)) {
		in->probes_over_budget++;
		in->probes_over_share++;
		return;
	}
	/* The copies the budget affords, at most those wanted. */
	size_t len = probe_len(&q);
	int want = up ? 1 : INTER_PROBE_J;
	double afford = level / (double)probe_cost(len); /* below 0 after own probes */
	int n = afford <= 0 ? 0 : afford < want ? (int)afford : want;
	if (n < want)
		in->probes_over_budget++;
	if (!n)
		return;
	if (up) {
		send_msg(in, up, WIRE_PROBE, 0, &q, sizeof(q));
		in->probes_followed++;
		probe_spent(in, 1, len, asker);
		return;
	}
	probe_spent(in, forward_probe(in, &q, n), len, asker);
}

/* The trace ran Peer_0 -> h1 -> ... -> source; the path is its reverse. */
static void offer(struct inter *in, uint32_t seq, const struct wire_probe *t, uint32_t delay_us)
{
	struct wire_path_setup ps = {
	    .seq = seq,
	    .delay_us = delay_us,
	    .share = t->half ? WIRE_SHARE_EVEN : WIRE_SHARE_WHOLE,
	};
	ps.hops[ps.nhops++] = in->self;
	for (int h = t->nhops - 2; h >= 0; h--)
		ps.hops[ps.nhops++] = t->hops[h].addr;
	ps.hops[ps.nhops++] = t->peer0;
	send_msg(in, &t->peer0, WIRE_PATH_SETUP, in->stream, &ps, sizeof(ps));
	evlog_event(in->log, "path_offer", "peer0=%u seq=%u hops=%u delay_us=%u half=%u",
	            t->peer0.id, seq, ps.nhops - 1, delay_us, t->half);
}

/* The trace to offer beside the fastest, best: the fastest that avoids
 * best's first hop from Peer_0 altogether, or, where that hop is this
 * source (best came straight here), that enters Peer_0 elsewhere. -1 if
 * none was kept. */
static int second_trace(const struct inter *in, const struct inter_collect *c)
{
	uint32_t entry = c->trace[0].hops[0].addr.id;
	for (int i = 1; i < c->n; i++) {
		const struct wire_probe *t = &c->trace[i];
		if (t->hops[0].addr.id != entry && (entry == in->self.id || !in_trace(t, entry)))
			return i;
	}
	return -1;
}

/* Source side: offer the fastest trace of each finished collection, and
 * the fastest of those that do not go through its first hop. The paper
 * offers the best; the second is an assumption: a peer asks its own
 * parent too, and the best trace is then most often the path it already
 * has, while one avoiding that hop is the backup that outlives it. */
static void offer_paths(struct inter *in, uint64_t now_us)
{
	for (int i = 0; i < INTER_MAX_COLLECT; i++) {
		struct inter_collect *c = &in->col[i];
		if (!c->used || now_us - c->first_us < COLLECT_US)
			continue;
		offer(in, c->seq, &c->trace[0], c->delay_us[0]);
		int k = second_trace(in, c);
		if (k > 0)
			offer(in, c->seq, &c->trace[k], c->delay_us[k]);
		c->used = 0;
	}
}

/* ---- building paths ---- */

static int position(const struct wire_path_setup *ps, uint32_t id)
{
	for (int i = 0; i < ps->nhops; i++)
		if (ps->hops[i].id == id)
			return i;
	return -1;
}

/* Ask p's parent to push us p->share of the stream. */
static void send_setup(struct inter *in, const struct inter_path *p, const char *event)
{
	struct wire_path_setup ps = {
	    .seq = p->seq, .delay_us = p->delay_us, .share = p->share, .nhops = p->nhops};
	memcpy(ps.hops, p->hops, sizeof(ps.hops[0]) * p->nhops);
	send_msg(in, parent_addr(p), WIRE_PATH_SETUP, in->stream, &ps, sizeof(ps));
	evlog_event(in->log, event, "seq=%u parent=%u hops=%u share=%u", p->seq, parent_of(p),
	            p->nhops - 1, p->share);
}

/* A path traced through a hop with half a connection spare carries half
 * the stream: the half the second path does not, if there is one. */
static void build_active(struct inter *in, const struct inter_path *p, uint64_t now_us)
{
	in->active = *p;
	if (p->share != WIRE_SHARE_WHOLE)
		in->active.share =
		    in->second.have ? other_half(in->second.path.share) : WIRE_SHARE_EVEN;
	in->have_active = 1;
	in->active_up = in->active_ok = 0;
	in->active_since_us = now_us;
	in->active_rx_us = 0;
	in->active_measured_us = in->active_first_us = 0;
	in->short_ticks = in->window_full = 0;
	send_setup(in, &in->active, "path_setup");
}

/* Eq. 1 with two paths: the second carries the half the active path does
 * not, whatever its trace could carry. */
static void build_second(struct inter *in, const struct inter_path *p, uint64_t now_us)
{
	struct inter_second *s = &in->second;
	*s = (struct inter_second){.have = 1, .path = *p, .since_us = now_us};
	s->path.share = other_half(in->active.share);
	in->seconds_built++;
	send_setup(in, &s->path, "second_setup");
}

/* Halves of a connection the push and relay children hold. */
static int halves_used(const struct inter *in)
{
	int h = 0;
	for (int i = 0; i < in->nchild; i++)
		h += share_halves(in->child[i].share);
	for (int r = 0; r < in->nrelay; r++)
		for (int i = 0; i < in->relay[r].nchild; i++)
			h += share_halves(in->relay[r].child[i].share);
	return h;
}

int inter_conns_free(const struct inter *in, int held)
{
	int h = 2 * (in->conns - held) - halves_used(in);
	return h >= 0 ? h / 2 : -((1 - h) / 2);
}

/* The partners' measured pull in halves of a connection, rounded up. */
static int pull_halves(const struct inter *in)
{
	uint64_t most = 0;
	for (int i = 0; i < INTER_PULL_WINDOW; i++)
		if (in->pull_bytes[i] > most)
			most = in->pull_bytes[i];
	if (!in->rate_bps)
		return 0;
	uint64_t half_bytes = in->rate_bps / 16 ? in->rate_bps / 16 : 1;
	uint64_t held = (most + half_bytes - 1) / half_bytes;
	return held > 2 * (uint64_t)in->conns ? 2 * in->conns : (int)held;
}

int inter_pull_held(const struct inter *in)
{
	return (pull_halves(in) + 1) / 2;
}

int inter_halves_free(const struct inter *in)
{
	return 2 * in->conns - pull_halves(in) - halves_used(in);
}

void inter_note_pull(struct inter *in, uint64_t bytes)
{
	in->pull_bytes[in->pull_next] = bytes;
	in->pull_next = (in->pull_next + 1) % INTER_PULL_WINDOW;
}

static int admit_child(struct inter *in, struct push_child *list, int *n, const struct wire_addr *a,
                       int cls, uint8_t share, uint64_t now_us)
{
	int i = find_child(list, *n, a->id);
	if (i >= 0) {
		/* Asked again for another share: room for the difference. */
		if (inter_halves_free(in) + share_halves(list[i].share) < share_halves(share))
			return 0;
		list[i].share = share;
		list[i].renewed_us = now_us;
		return 1;
	}
	if (*n >= INTER_MAX_CHILDREN || !keynode_admit(&in->kn, cls, now_us))
		return 0;
	/* The key node counted the request either way: its arrival rates are
	 * the demand, whether or not partners left a connection for it. */
	if (inter_halves_free(in) < share_halves(share)) {
		keynode_release(&in->kn, cls);
		return 0;
	}
	list[(*n)++] = (struct push_child){*a, (uint8_t)cls, share, now_us, {0, 0}};
	return 1;
}

/* A path is worth building when no hop on it failed lately and none is our
 * own push child, which would then be upstream and downstream of us: a
 * push loop. */
static int path_usable(const struct inter *in, const struct inter_path *p, uint64_t now_us)
{
	for (int h = 0; h < p->nhops - 1; h++)
		if (recently_failed(in, p->hops[h].id, now_us) ||
		    find_child(in->child, in->nchild, p->hops[h].id) >= 0)
			return 0;
	return 1;
}

/* What a replacement must gain on a path measured at measured_us. */
static uint32_t replace_gain_us(uint32_t measured_us)
{
	uint32_t gain = measured_us / REPLACE_GAIN_DIV;
	return gain > REPLACE_GAIN_MIN_US ? gain : REPLACE_GAIN_MIN_US;
}

/* delay_us beats a path measured at measured_us by that margin. */
static int clearly_faster(uint32_t delay_us, uint32_t measured_us)
{
	return (uint64_t)delay_us + replace_gain_us(measured_us) <= measured_us;
}

/* What a path must clearly beat to replace the active one, measured as
 * the source measures an offer: the active path's delay as traced, so
 * that trace meets trace, plus what its delivered delay has grown since
 * it came up (a path that got slower is judged slower). A trace, one
 * small datagram, misses what each hop adds when it pushes a full
 * segment behind copies for its other children: delivered delays ran a
 * median 1.35 times the trace that found them, so a trace judged against
 * a delivered delay looked faster than it was, and peers flapped between
 * two paths, each replacing the other a second after it came up. */
static uint32_t active_ref_us(const struct inter *in, uint32_t measured_us)
{
	uint32_t traced = in->active.delay_us;
	if (!traced || !in->active_first_us)
		return traced ? traced : measured_us;
	return traced + (measured_us > in->active_first_us ? measured_us - in->active_first_us : 0);
}

/* p would fail with a's parent: it goes through it, or, where that
 * parent is the source (on every path), it is pushed straight from the
 * source as a is. */
static int fails_with(const struct inter_path *a, const struct inter_path *p)
{
	uint32_t parent = parent_of(a);
	if (a->nhops > 2)
		return on_path(p, parent);
	return parent_of(p) == parent;
}

/* p would fail with the active path's parent. */
static int shares_parent(const struct inter *in, const struct inter_path *p)
{
	return in->have_active && fails_with(&in->active, p);
}

/* Keep an offer as a backup; a full set gives up its slowest path for a
 * faster one. A path that shares the active path's parent is none: that
 * parent's failure, the case a backup is for, would take both. It is
 * kept only when clearly faster than the active path delivers, as the
 * optimization's candidate (take_faster_backup builds it at the next
 * tick): the same parent by a faster upstream, to which the parent then
 * moves (inter_on_path_setup). */
static void keep_backup(struct inter *in, const struct inter_path *p, uint64_t now_us)
{
	if (!path_usable(in, p, now_us))
		return;
	/* As a backup a path is what it could carry, not the half it did. */
	struct inter_path q = *p;
	q.share = p->share == WIRE_SHARE_WHOLE ? WIRE_SHARE_WHOLE : WIRE_SHARE_EVEN;
	p = &q;
	if (shares_parent(in, p)) {
		uint32_t ref = active_ref_us(in, in->active_measured_us);
		if (!ref || !clearly_faster(p->delay_us, ref))
			return;
	}
	/* A path offered again takes its old place with its new delay: the
	 * set holds distinct paths, each as lately traced. */
	int slot = -1;
	for (int b = 0; b < in->nbackup; b++)
		if (same_ids(in->backup[b].hops, in->backup[b].nhops, p->hops, p->nhops))
			slot = b;
	if (slot < 0 && in->nbackup < INTER_MAX_BACKUP)
		slot = in->nbackup++;
	if (slot < 0) {
		slot = 0;
		for (int b = 1; b < in->nbackup; b++)
			if (in->backup[b].delay_us > in->backup[slot].delay_us)
				slot = b;
		if (in->backup[slot].delay_us <= p->delay_us)
			return;
	}
	in->backup[slot] = *p;
	evlog_event(in->log, "path_backup", "seq=%u hops=%u delay_us=%u", p->seq, p->nhops - 1,
	            p->delay_us);
}

/* The backup to promote: the fastest usable one that would not fail with
 * the other active path (the second's, or for the second the active
 * one's), or -1. */
static int best_backup_beside(const struct inter *in, const struct inter_path *other,
                              uint64_t now_us)
{
	int best = -1;
	for (int b = 0; b < in->nbackup; b++)
		if (path_usable(in, &in->backup[b], now_us) &&
		    !(other && fails_with(other, &in->backup[b])) &&
		    (best < 0 || in->backup[b].delay_us < in->backup[best].delay_us))
			best = b;
	return best;
}

static int best_backup(const struct inter *in, uint64_t now_us)
{
	return best_backup_beside(in, in->second.have ? &in->second.path : NULL, now_us);
}

/* Our parent's current path with us at its end. A path on which we are
 * also upstream of ourselves is a push loop: our link to the parent goes.
 * Returns 1 when ps was that, from our parent. */
static int on_ancestry(struct inter *in, uint16_t stream, const struct wire_path_setup *ps,
                       const struct wire_addr *from, uint64_t now_us)
{
	int last = ps->nhops - 1;
	if (ps->nhops < 2 || ps->hops[last].id != in->self.id || ps->hops[last - 1].id != from->id)
		return 0;
	int loop = position(ps, in->self.id) < last;
	struct relay *r = stream == in->stream ? NULL : find_relay(in, stream);
	if (stream == in->stream && in->have_active && in->active_ok &&
	    parent_of(&in->active) == from->id) {
		if (loop)
			path_failed(in, "loop", 1, now_us);
		else
			memcpy(in->active.hops, ps->hops,
			       sizeof(ps->hops[0]) * (in->active.nhops = ps->nhops));
		return 1;
	}
	struct inter_second *s = &in->second;
	if (stream == in->stream && s->have && s->ok && parent_of(&s->path) == from->id) {
		if (loop)
			drop_second(in, "loop", 1, 1, now_us);
		else
			memcpy(s->path.hops, ps->hops,
			       sizeof(ps->hops[0]) * (s->path.nhops = ps->nhops));
		return 1;
	}
	if (r && r->active && r->parent.id == from->id) {
		if (loop) {
			drop_relay(in, r, "loop");
		} else {
			memcpy(r->up, ps->hops, sizeof(ps->hops[0]) * ps->nhops);
			r->nup = ps->nhops;
		}
		return 1;
	}
	return 0;
}

/* Each child hears our current path from the source with it at the end,
 * with sequence 0, which no offer has. */
static void tell_paths(struct inter *in, const struct wire_addr *up, int nup, uint16_t stream,
                       const struct push_child *c, int n)
{
	if (nup < 1 || nup >= (int)WIRE_MAX_HOPS)
		return;
	struct wire_path_setup ps = {.nhops = (uint8_t)(nup + 1)};
	memcpy(ps.hops, up, sizeof(up[0]) * (size_t)nup);
	for (int i = 0; i < n; i++) {
		ps.hops[nup] = c[i].addr;
		send_msg(in, &c[i].addr, WIRE_PATH_SETUP, stream, &ps, sizeof(ps));
	}
}

static void send_ancestry(struct inter *in)
{
	if (in->is_source)
		tell_paths(in, &in->self, 1, in->stream, in->child, in->nchild);
	else if (in->have_active && in->active_ok)
		tell_paths(in, in->active.hops, in->active.nhops, in->stream, in->child,
		           in->nchild);
	for (int r = 0; r < in->nrelay; r++)
		if (in->relay[r].active)
			tell_paths(in, in->relay[r].up, in->relay[r].nup, in->relay[r].stream,
			           in->relay[r].child, in->relay[r].nchild);
}

/* Hop k of ps asks its own parent, hop k - 1, for the path cut at itself,
 * to be pushed share of the stream. */
static void setup_upstream(struct inter *in, uint16_t stream, const struct wire_path_setup *ps,
                           int k, uint8_t share)
{
	struct wire_path_setup up = *ps;
	up.nhops = (uint8_t)(k + 1);
	up.share = share;
	send_msg(in, &ps->hops[k - 1], WIRE_PATH_SETUP, stream, &up, sizeof(up));
}

/* Not carrying the stream: become a relay for the child at hop k + 1,
 * asking our own parent at hop k - 1. */
static void start_relay(struct inter *in, uint16_t stream, const struct wire_path_setup *ps, int k,
                        const struct wire_addr *child, uint64_t now_us)
{
	struct auth *auth = relay_auth(in, stream);
	if (in->io.stream_key && !auth) {
		send_simple(in, child, WIRE_RELAY_REFUSE, stream, ps->seq,
		            WIRE_REFUSE_CANNOT_RELAY);
		return;
	}
	struct relay *r = &in->relay[in->nrelay++];
	memset(r, 0, sizeof(*r));
	r->auth = auth;
	r->stream = stream;
	r->parent = ps->hops[k - 1];
	r->setup_seq = ps->seq;
	memcpy(r->up, ps->hops, sizeof(r->up[0]) * (size_t)(k + 1));
	r->nup = (uint8_t)(k + 1);
	/* Pushed what its first child asked for: a half relay serves that
	 * half only (refusal). */
	r->share = ps->share;
	r->pending_child = *child;
	r->have_pending = 1;
	r->last_rx_us = now_us;
	setup_upstream(in, stream, ps, k, r->share);
	evlog_event(in->log, "relay_setup", "stream=%u parent=%u child=%u", stream, r->parent.id,
	            child->id);
}

/* A child we push to asks again, by another upstream to us than ours: it
 * built that path for being clearly faster than what we deliver (it sends
 * a set-up through its parent for nothing else, keep_backup), so the
 * source traced a faster way here than the one we take. A peer judges it
 * as its own offer (its delay is the child's, which bounds ours from
 * above); a relay, which traces nothing itself, moves to it, make before
 * break. The child's word is all there is: the cost of a false one is a
 * set-up towards the named parent, and a path that then delivers worse is
 * replaced as any. */
static void child_asks_upstream(struct inter *in, struct relay *r, const struct wire_path_setup *ps,
                                int k, uint64_t now_us)
{
	for (int h = 0; h < k; h++)
		if (find_child(r ? r->child : in->child, r ? r->nchild : in->nchild,
		               ps->hops[h].id) >= 0)
			return; /* through our own child: a loop */
	if (!r) {
		if (in->is_source || !in->have_active ||
		    same_ids(ps->hops, k + 1, in->active.hops, in->active.nhops))
			return;
		struct inter_path p = {.seq = ps->seq,
		                       .nhops = (uint8_t)(k + 1),
		                       .share = ps->share,
		                       .delay_us = ps->delay_us};
		memcpy(p.hops, ps->hops, sizeof(p.hops[0]) * (size_t)(k + 1));
		keep_backup(in, &p, now_us);
		return;
	}
	if (r->moving || same_ids(ps->hops, k + 1, r->up, r->nup))
		return;
	r->moving = 1;
	r->new_nup = (uint8_t)(k + 1);
	memcpy(r->new_up, ps->hops, sizeof(r->new_up[0]) * (size_t)(k + 1));
	r->new_seq = ps->seq;
	r->move_since_us = now_us;
	setup_upstream(in, r->stream, ps, k, r->share);
	evlog_event(in->log, "relay_move", "stream=%u parent=%u new_parent=%u", r->stream,
	            r->parent.id, ps->hops[k - 1].id);
}

void inter_on_path_setup(struct inter *in, uint16_t stream, const struct wire_path_setup *ps,
                         const struct wire_addr *from, int have_stream, uint64_t now_us)
{
	if (in->enabled && stream && on_ancestry(in, stream, ps, from, now_us))
		return;
	int k = position(ps, in->self.id);
	if (!in->enabled || k < 0 || ps->nhops < 2 || !stream) {
		if (k > 0 || ps->nhops >= 2)
			send_simple(in, from, WIRE_RELAY_REFUSE, stream, ps->seq,
			            WIRE_REFUSE_NOT_ON_PATH);
		return;
	}
	if (k == ps->nhops - 1) {
		/* An offer from the source for our own stream: a backup path.
		 * Sequence 0 is a parent's ancestry update (tell_paths) that
		 * on_ancestry did not take: the source's, in flight when we left
		 * it for a faster path. Offers carry their probe's seq, from 1. */
		if (stream != in->stream || from->id != in->source_id ||
		    ps->hops[0].id != from->id || ps->seq == 0)
			return;
		struct inter_path p = {.seq = ps->seq,
		                       .nhops = ps->nhops,
		                       .share = ps->share,
		                       .delay_us = ps->delay_us};
		memcpy(p.hops, ps->hops, sizeof(p.hops[0]) * ps->nhops);
		keep_backup(in, &p, now_us);
		return;
	}
	/* A request from our child on the path. It is pushed to at the address
	 * it asked from, never at one written in the body: a forged set-up must
	 * not turn this node into a reflector towards a third party. */
	if (from->id != ps->hops[k + 1].id)
		return;
	const struct wire_addr *child = from;
	int own = stream == in->stream;
	int carries = own && (have_stream || in->is_source);
	struct relay *r = own ? NULL : find_relay(in, stream);
	/* k == 0 names us the source of a stream we do not carry. */
	int why = k == 0 && !carries ? WIRE_REFUSE_CANNOT_RELAY
	                             : refusal(in, own, carries, r, child->id, ps->share, now_us);
	if (why) {
		send_simple(in, child, WIRE_RELAY_REFUSE, stream, ps->seq, (uint8_t)why);
		return;
	}
	if (!carries && !r) {
		start_relay(in, stream, ps, k, child, now_us);
		return;
	}
	struct push_child *list = r ? r->child : in->child;
	int *n = r ? &r->nchild : &in->nchild;
	if (find_child(list, *n, child->id) >= 0)
		child_asks_upstream(in, r, ps, k, now_us);
	if (admit_child(in, list, n, child, r ? KEYNODE_RELAY : KEYNODE_WATCH, ps->share, now_us)) {
		send_simple(in, child, WIRE_RELAY_ACCEPT, stream, ps->seq, 0);
		evlog_event(in->log, LOGEV_CHILD_ADD, LOGK_ID "=%u " LOGK_STREAM "=%u children=%d",
		            child->id, stream, *n);
	} else {
		send_simple(in, child, WIRE_RELAY_REFUSE, stream, ps->seq, WIRE_REFUSE_NO_SLOT);
	}
}

/* The new parent a relay is moving to answered: the old one goes. */
static void relay_moved(struct inter *in, struct relay *r, int accepted, uint64_t now_us)
{
	r->moving = 0;
	struct wire_addr to = r->new_up[r->new_nup - 2];
	evlog_event(in->log, "relay_moved", "stream=%u parent=%u new_parent=%u accepted=%d",
	            r->stream, r->parent.id, to.id, accepted);
	if (!accepted)
		return;
	send_simple(in, &r->parent, WIRE_NEIGH_CUT, r->stream, 0, WIRE_CUT_PATH);
	r->parent = to;
	memcpy(r->up, r->new_up, sizeof(r->up[0]) * r->new_nup);
	r->nup = r->new_nup;
	r->setup_seq = r->new_seq;
	r->last_rx_us = now_us;
	r->moves++;
}

void inter_on_relay_answer(struct inter *in, uint16_t stream, int accepted, uint32_t seq,
                           const struct wire_addr *from, uint64_t now_us)
{
	struct relay *r = find_relay(in, stream);
	if (r && r->moving && r->new_seq == seq && from->id == r->new_up[r->new_nup - 2].id) {
		relay_moved(in, r, accepted, now_us);
		return;
	}
	if (r && r->have_pending && r->setup_seq == seq && from->id == r->parent.id) {
		r->have_pending = 0;
		if (!accepted || !admit_child(in, r->child, &r->nchild, &r->pending_child,
		                              KEYNODE_RELAY, r->share, now_us)) {
			send_simple(in, &r->pending_child, WIRE_RELAY_REFUSE, stream, seq,
			            WIRE_REFUSE_UPSTREAM);
			r->nchild = 0;
			drop_relay(in, r, "refused");
			return;
		}
		r->active = 1;
		r->last_rx_us = now_us;
		send_simple(in, &r->pending_child, WIRE_RELAY_ACCEPT, stream, seq, 0);
		evlog_event(in->log, "relay_add", "stream=%u parent=%u child=%u", stream,
		            r->parent.id, r->pending_child.id);
		evlog_event(in->log, LOGEV_CHILD_ADD, LOGK_ID "=%u " LOGK_STREAM "=%u children=%d",
		            r->pending_child.id, stream, r->nchild);
		return;
	}
	struct inter_second *s = &in->second;
	if (stream == in->stream && s->have && !s->ok && s->path.seq == seq &&
	    from->id == parent_of(&s->path)) {
		if (accepted) {
			s->ok = 1;
			s->ok_us = now_us;
			evlog_event(in->log, "second_accept", "seq=%u parent=%u", seq, from->id);
		} else {
			drop_second(in, "refused", 1, 0, now_us);
		}
		return;
	}
	if (stream != in->stream || !in->have_active || in->active.seq != seq ||
	    from->id != parent_of(&in->active))
		return;
	if (accepted) {
		in->paths_built++;
		in->active_ok = 1;
		in->active_ok_us = now_us;
		evlog_event(in->log, "path_accept", "seq=%u parent=%u", seq, from->id);
	} else {
		evlog_event(in->log, "path_refused", "seq=%u parent=%u", seq, from->id);
		in->have_active = 0;
		hop_failed(in, from->id, now_us);
	}
}

/* Eq. 1: the active paths carry the whole stream, one path or two
 * halves. */
static int rate_covered(const struct inter *in)
{
	return in->have_active && (in->active.share == WIRE_SHARE_WHOLE || in->second.have);
}

/* The active set and, with the paper's delta_b = 1, a backup (see
 * below). */
static int sets_full(const struct inter *in)
{
	return rate_covered(in) && in->nbackup > 0;
}

/* How often a peer traces. The paper calls the optimization when the
 * backup set is short of delta_b (eq. 2 asks the backups' rates to sum to
 * p times the active rate: with p = 1, the paper's, and one active path,
 * one backup), sets its frequency by the ADL, and drives probing by delay
 * feedback. So a peer short of a path or a backup traces at the ADL's
 * period. One with both still traces, for a faster path: a full set would
 * otherwise end the optimization, and a path traced while the mesh was
 * still forming, or before a faster relay came up, would bound the
 * peer's delay for good. That trace is not the paper's trigger, so it
 * runs at the slow period (ADL_SLOW), whatever the ADL, unless delay
 * feedback calls for it: the active path delivers clearly slower than
 * when it came up. At the ADL's period these traces were half of the
 * probe messages under churn (the 200-peer, 4-overlay run with mean
 * lifetime 100 s), where every peer's contacts leave and its ADL stays
 * above the threshold. */
static uint64_t probe_interval_us(const struct inter *in)
{
	int slower = in->active_first_us && in->active_measured_us &&
	             clearly_faster(in->active_first_us, in->active_measured_us);
	if (!sets_full(in) || slower)
		return adl_probe_interval_us(&in->adl, PROBE_INTERVAL_US);
	return ADL_SLOW * (uint64_t)PROBE_INTERVAL_US;
}

/* Probing waits for a LastDelay: without one a trace has no bound. A
 * trace for a faster path is bounded by the delay a replacement must
 * beat, which keeps its flood small. */
static void probe(struct inter *in, uint32_t last_delay_us, uint64_t now_real_us, uint64_t now_us)
{
	uint64_t interval = probe_interval_us(in);
	int retrying = in->retry_us && !in->have_active;
	if (retrying && in->retry_us < interval)
		interval = in->retry_us;
	if (in->delay_lost) {
		/* The next call's LastDelay is the one left without the lost
		 * path; probe_now holds until there is one. */
		in->delay_lost = 0;
		return;
	}
	/* With a path and its backup, a trace is for a faster path only: one
	 * that is not clearly faster than the active path (active_ref_us, or
	 * LastDelay before the path delivered) would not be taken, so it need
	 * not be traced, and a peer that close to the source traces not. */
	uint32_t bound = last_delay_us;
	if (sets_full(in)) {
		uint32_t ref = in->active_measured_us ? active_ref_us(in, in->active_measured_us)
		                                      : last_delay_us;
		if (ref > last_delay_us)
			ref = last_delay_us;
		uint32_t gain = replace_gain_us(ref);
		bound = ref > gain ? ref - gain : 0;
	}
	if (!bound || (!in->probe_now && now_us - in->last_probe_us < interval))
		return;
	if (retrying && !in->probe_now)
		in->retry_us *= 2;
	in->probe_now = 0;
	struct wire_probe p = {
	    .seq = in->next_seq++,
	    .peer0 = in->self,
	    .ts0_us = now_real_us,
	    .source_id = in->source_id,
	    .last_delay_us = bound,
	    .ttl = PROBE_TTL,
	};
	in->last_probe_us = now_us;
	in->probes_sent++;
	/* Its parent too, if drawn: a faster way to the source through the
	 * same parent is the optimization's to find (offer_paths). */
	int sent = forward_probe(in, &p, INTER_PROBE_J);
	/* Charged to the forwarding budget, never held back by it: the bound
	 * is on all the ProbM a node sends, and its own are paced already.
	 * The bucket is brought to now first, or a first use would fill it
	 * to the cap over the charge. */
	double cap;
	probe_level(in, &cap, now_us);
	in->probe_budget.tokens -= (double)sent * (double)probe_cost(probe_len(&p));
	evlog_event(in->log, "probe", "seq=%u last_delay_us=%u bound_us=%u", p.seq, last_delay_us,
	            bound);
}

void inter_on_cut(struct inter *in, uint16_t stream, uint32_t id, uint64_t now_us)
{
	int i = find_child(in->child, in->nchild, id);
	if (i >= 0 && (stream == 0 || stream == in->stream)) {
		keynode_release(&in->kn, in->child[i].cls);
		in->child[i] = in->child[--in->nchild];
		evlog_event(in->log, LOGEV_CHILD_DEL, LOGK_ID "=%u " LOGK_STREAM "=%u children=%d",
		            id, in->stream, in->nchild);
	}
	for (int r = in->nrelay - 1; r >= 0; r--) {
		struct relay *rl = &in->relay[r];
		if (stream && stream != rl->stream)
			continue;
		if (rl->parent.id == id) {
			drop_relay(in, rl, "parent gone");
			continue;
		}
		if (rl->moving && rl->new_up[rl->new_nup - 2].id == id)
			relay_moved(in, rl, 0, now_us);
		int c = find_child(rl->child, rl->nchild, id);
		if (c >= 0) {
			keynode_release(&in->kn, rl->child[c].cls);
			rl->child[c] = rl->child[--rl->nchild];
			evlog_event(in->log, LOGEV_CHILD_DEL,
			            LOGK_ID "=%u " LOGK_STREAM "=%u children=%d", id, rl->stream,
			            rl->nchild);
			if (!rl->nchild && !rl->have_pending)
				drop_relay(in, rl, "no children");
		}
	}
	if (stream == 0)
		adl_leave(&in->adl, id);
	if (in->second.have && (stream == 0 || stream == in->stream) &&
	    parent_of(&in->second.path) == id)
		drop_second(in, "parent", 1, 0, now_us);
	if (in->have_active && (stream == 0 || stream == in->stream) &&
	    parent_of(&in->active) == id)
		path_failed(in, "parent", 0, now_us);
	/* Backup paths through a peer that left are void. */
	if (stream == 0)
		hop_failed(in, id, now_us);
}

static int expire_list(struct inter *in, struct push_child *list, int *n, uint16_t stream,
                       uint64_t now_us)
{
	int k = 0;
	for (int i = *n - 1; i >= 0; i--) {
		if (now_us - list[i].renewed_us <= INTER_LEASE_US)
			continue;
		struct push_child c = list[i];
		list[i] = list[--*n];
		keynode_release(&in->kn, c.cls);
		/* Alive but unheard (lost renewals): it learns now, not after 3 s. */
		send_simple(in, &c.addr, WIRE_NEIGH_CUT, stream, 0, WIRE_CUT_PATH);
		evlog_event(in->log, LOGEV_CHILD_DEL,
		            LOGK_ID "=%u " LOGK_STREAM "=%u children=%d reason=lease", c.addr.id,
		            stream, *n);
		in->leases_expired++;
		k++;
	}
	return k;
}

/* Children whose lease ran out go, with their slots; a relay left with
 * none goes too. */
static void expire_leases(struct inter *in, uint64_t now_us)
{
	expire_list(in, in->child, &in->nchild, in->stream, now_us);
	for (int r = in->nrelay - 1; r >= 0; r--) {
		struct relay *rl = &in->relay[r];
		if (expire_list(in, rl->child, &rl->nchild, rl->stream, now_us) && !rl->nchild &&
		    !rl->have_pending)
			drop_relay(in, rl, "children expired");
	}
}

/* Our own leases: with the active path's parent once it accepted, and with
 * the parent of every relay. */
static void renew_leases(struct inter *in)
{
	for (int r = 0; r < in->nrelay; r++)
		if (in->relay[r].active)
			send_simple(in, &in->relay[r].parent, WIRE_RENEW, in->relay[r].stream,
			            in->relay[r].setup_seq, 0);
	if (in->have_active && in->active_ok)
		send_simple(in, parent_addr(&in->active), WIRE_RENEW, in->stream, in->active.seq,
		            0);
	if (in->replacing)
		send_simple(in, parent_addr(&in->prev_active), WIRE_RENEW, in->stream,
		            in->prev_active.seq, 0);
	if (in->second.have && in->second.ok)
		send_simple(in, parent_addr(&in->second.path), WIRE_RENEW, in->stream,
		            in->second.path.seq, 0);
}

/* Backup b leaves the set to become the active path. */
static struct inter_path take_backup(struct inter *in, int b)
{
	struct inter_path p = in->backup[b];
	in->backup[b] = in->backup[--in->nbackup];
	return p;
}

/* Make before break: backup b becomes the active path; the one it
 * replaces keeps pushing until b does (inter_on_own_segment). */
static void replace_active(struct inter *in, int b, int keep, uint64_t now_us)
{
	struct inter_path p = take_backup(in, b);
	in->prev_active = in->active;
	in->replacing = 1;
	in->keep_replaced = keep;
	build_active(in, &p, now_us);
}

/* The optimization the paper is named for: a usable backup clearly faster
 * than the active path (active_ref_us) replaces it, make before break. */
static void take_faster_backup(struct inter *in, uint64_t now_us)
{
	uint32_t measured = in->active_delay_min_us;
	in->active_delay_min_us = 0;
	if (measured) {
		in->active_measured_us = measured;
		if (!in->active_first_us)
			in->active_first_us = measured;
	}
	if (!in->have_active || !in->active_up || in->replacing || !measured)
		return;
	uint32_t ref = active_ref_us(in, measured);
	int b = best_backup(in, now_us);
	if (b < 0 || !clearly_faster(in->backup[b].delay_us, ref))
		return;
	evlog_event(in->log, "path_faster",
	            "parent=%u delay_us=%u measured_us=%u new_parent=%u new_delay_us=%u",
	            parent_of(&in->active), ref, measured, parent_of(&in->backup[b]),
	            in->backup[b].delay_us);
	/* As a backup it is judged by the same figure. */
	in->active.delay_us = ref;
	replace_active(in, b, 1, now_us);
}

/* The share of what a path of this share should have pushed. */
static double delivered(uint32_t pushed, uint32_t advance, uint8_t share)
{
	double want = share == WIRE_SHARE_WHOLE ? advance : advance / 2.0;
	return pushed >= want ? 1.0 : pushed / want;
}

/* The second path is judged by the same rule as the active one below, on
 * its half: short of it, it goes, and another is built or traced for. */
static void check_second_rate(struct inter *in, uint32_t advance, int enough, uint64_t now_us)
{
	struct inter_second *s = &in->second;
	uint32_t pushed = s->pushed;
	int full = s->window_full;
	s->pushed = 0;
	s->window_full = s->up;
	if (!s->have || !s->up || !full || !enough)
		return;
	double got = delivered(pushed, advance, s->path.share);
	s->short_ticks = got < SHORT_SHARE ? s->short_ticks + 1 : 0;
	if (s->short_ticks >= SHORT_TICKS) {
		evlog_event(in->log, "path_short", "parent=%u share=%.3f rate_bps=%llu second=1",
		            parent_of(&s->path), got,
		            (unsigned long long)(got * (double)in->rate_bps / 2));
		in->paths_short++;
		drop_second(in, "short", 1, 1, now_us);
	}
}

/* Eq. 1: the active paths carry at least rate(S). A path's rate is the
 * share of the stream's new segments it pushed in a tick, times rate(S):
 * counted in segments, it holds for any stream rate and for media whose
 * rate varies. A path built for half the stream is judged on its half.
 * The paper activates a better path when the active rate falls short;
 * here a path short by more than a tenth for SHORT_TICKS ticks in a row
 * (a loss burst is not a shortfall) is replaced by the best backup, make
 * before break, or a trace goes out for one. Two active paths, each of
 * half the rate, are built when a trace could find only half a connection
 * at some hop (could_take): a congested or lossy path is replaced, as the
 * paper answers a path short of its rate with a better one. */
static void check_path_rate(struct inter *in, uint64_t now_us)
{
	uint32_t advance = in->newest_seen - in->window_seq;
	uint32_t pushed = in->window_pushed;
	int enough = advance >= SHORT_MIN_SEGMENTS;
	int measured = in->active_up && in->window_full && enough;
	in->window_seq = in->newest_seen;
	in->window_pushed = 0;
	in->window_full = in->active_up;
	check_second_rate(in, advance, enough, now_us);
	if (!measured)
		return;
	in->active_share = delivered(pushed, advance, in->active.share);
	in->short_ticks = in->active_share < SHORT_SHARE ? in->short_ticks + 1 : 0;
	if (in->short_ticks < SHORT_TICKS || in->replacing)
		return;
	in->short_ticks = 0;
	in->paths_short++;
	evlog_event(in->log, "path_short", "parent=%u share=%.3f rate_bps=%llu second=0",
	            parent_of(&in->active), in->active_share,
	            (unsigned long long)(in->active_share * (double)in->rate_bps *
	                                 share_halves(in->active.share) / 2));
	int b = best_backup(in, now_us);
	if (b >= 0)
		replace_active(in, b, 0, now_us);
	else
		in->probe_now = 1;
}

void inter_on_renew(struct inter *in, uint16_t stream, const struct wire_addr *from,
                    uint64_t now_us)
{
	struct push_child *list = in->child;
	int n = in->nchild;
	if (stream != in->stream) {
		struct relay *r = find_relay(in, stream);
		list = r ? r->child : NULL;
		n = r ? r->nchild : 0;
	}
	int i = list ? find_child(list, n, from->id) : -1;
	if (i >= 0) {
		list[i].renewed_us = now_us;
		return;
	}
	/* Not a child (any more): it must look for another parent now. */
	if (in->enabled && stream)
		send_simple(in, from, WIRE_NEIGH_CUT, stream, 0, WIRE_CUT_PATH);
}

int inter_slots_used(const struct inter *in)
{
	int n = 0;
	for (int j = 0; j < KEYNODE_CLASSES; j++)
		n += in->kn.used[j];
	return n;
}

int inter_children(const struct inter *in)
{
	int n = in->nchild;
	for (int r = 0; r < in->nrelay; r++)
		n += in->relay[r].nchild;
	return n;
}

/* The contacts whose leaving ADL counts: partners and mesh neighbours. */
static void sample_adl(struct inter *in, uint32_t last_delay_us, uint64_t now_us)
{
	struct wire_addr nb[32];
	int contacts = in->io.neighbours ? in->io.neighbours(in->io.ctx, nb, 32) : 0;
	contacts += in->io.partners ? in->io.partners(in->io.ctx) : 0;
	if (adl_sample(&in->adl, contacts, last_delay_us, now_us))
		evlog_event(in->log, "adl", "value=%.3f probe_interval_us=%llu", in->adl.value,
		            (unsigned long long)adl_probe_interval_us(&in->adl, PROBE_INTERVAL_US));
}

/* A relay whose parent fell silent goes, and tells its children, which
 * then promote their backups: a relay kept for seconds after its parent
 * crashed also admits new children it cannot serve. */
static void watch_relays(struct inter *in, uint64_t now_us)
{
	for (int r = in->nrelay - 1; r >= 0; r--)
		if (relay_silent(&in->relay[r], now_us))
			drop_relay(in, &in->relay[r], "silent");
}

void inter_tick(struct inter *in, uint32_t last_delay_us, uint64_t now_real_us, uint64_t now_us)
{
	if (!in->enabled)
		return;
	if (in->is_source)
		offer_paths(in, now_us);
	expire_leases(in, now_us);
	/* A source relays other streams like any mesh node. */
	watch_relays(in, now_us);
	for (int r = in->nrelay - 1; r >= 0; r--) {
		struct relay *rl = &in->relay[r];
		/* An unanswered move is given up; the new parent, if it took us
		 * late, lets our lease run out. */
		if (rl->moving && now_us - rl->move_since_us > SETUP_TIMEOUT_US)
			relay_moved(in, rl, 0, now_us);
	}
	renew_leases(in);
	send_ancestry(in);
	if (!in->stream || in->is_source)
		return;
	sample_adl(in, last_delay_us, now_us);
	if (in->have_active && !in->active_rx_us && now_us - in->active_since_us > SETUP_TIMEOUT_US)
		path_failed(in, "setup timeout", 1, now_us);
	if (in->second.have && !in->second.rx_us && now_us - in->second.since_us > SETUP_TIMEOUT_US)
		drop_second(in, "setup timeout", 1, 1, now_us);
	take_faster_backup(in, now_us);
	check_path_rate(in, now_us);
	inter_watch(in, last_delay_us, now_real_us, now_us);
}

/* The second path, judged as the active one (inter_watch) on a half
 * stream: its segments come every other interval. */
static void watch_second(struct inter *in, uint64_t now_us)
{
	struct inter_second *s = &in->second;
	if (!s->have)
		return;
	uint64_t heard_us = s->rx_us ? s->rx_us : s->ok ? s->ok_us : 0;
	if (heard_us && now_us - heard_us > silence_us(2 * seg_interval_us(in)))
		drop_second(in, s->rx_us ? "silent" : "silent after accept", 1, 1, now_us);
}

void inter_watch(struct inter *in, uint32_t last_delay_us, uint64_t now_real_us, uint64_t now_us)
{
	if (!in->enabled)
		return;
	watch_relays(in, now_us);
	if (in->is_source) {
		offer_paths(in, now_us);
		return;
	}
	if (!in->stream)
		return;
	/* Silent since its last push, or, once accepted, since the accept: a
	 * parent that accepted pushes the next segment it gets, and one that
	 * does not (its own feed died unnoticed) is no better than a crashed
	 * one, and must not hold the peer for the set-up timeout. */
	uint64_t heard_us = in->active_rx_us ? in->active_rx_us
	                    : in->active_ok  ? in->active_ok_us
	                                     : 0;
	if (in->have_active && heard_us && now_us - heard_us > path_silent_us(in))
		path_failed(in, in->active_rx_us ? "silent" : "silent after accept", 1, now_us);
	watch_second(in, now_us);
	int b = in->have_active ? -1 : best_backup(in, now_us);
	if (b >= 0) {
		struct inter_path p = take_backup(in, b);
		build_active(in, &p, now_us);
	}
	/* Eq. 1: an active path of half the rate needs a second. Without a
	 * backup for it the peer is short of its sets, and traces at the
	 * ADL's period (probe_interval_us). */
	b = in->have_active && !rate_covered(in) ? best_backup_beside(in, &in->active, now_us) : -1;
	if (b >= 0) {
		struct inter_path p = take_backup(in, b);
		build_second(in, &p, now_us);
	}
	probe(in, last_delay_us, now_real_us, now_us);
}

void inter_leave(struct inter *in)
{
	while (in->nrelay)
		drop_relay(in, &in->relay[0], "leave");
	/* Own push children hear it now, not after the silence timeout, and
	 * can promote a backup path at once. */
	while (in->nchild) {
		struct push_child *c = &in->child[--in->nchild];
		send_simple(in, &c->addr, WIRE_NEIGH_CUT, in->stream, 0, WIRE_CUT_PATH);
		keynode_release(&in->kn, c->cls);
		evlog_event(in->log, LOGEV_CHILD_DEL,
		            LOGK_ID "=%u " LOGK_STREAM "=%u children=%d reason=leave", c->addr.id,
		            in->stream, in->nchild);
	}
	if (in->have_active)
		send_simple(in, parent_addr(&in->active), WIRE_NEIGH_CUT, in->stream, 0,
		            WIRE_CUT_PATH);
	if (in->replacing)
		send_simple(in, parent_addr(&in->prev_active), WIRE_NEIGH_CUT, in->stream, 0,
		            WIRE_CUT_PATH);
	if (in->second.have)
		send_simple(in, parent_addr(&in->second.path), WIRE_NEIGH_CUT, in->stream, 0,
		            WIRE_CUT_PATH);
	in->have_active = in->active_ok = in->replacing = in->second.have = 0;
}
