#include "peer/overlay.h"

#include "peer/serve.h"

#include <stdlib.h>
#include <string.h>

int overlay_init(struct overlay *o, uint16_t stream, const char *name, uint64_t rate_bps,
                 uint64_t buffer_us)
{
	memset(o, 0, sizeof(*o));
	o->stream = stream;
	strncpy(o->name, name, sizeof(o->name) - 1);
	o->rate_bps = rate_bps;
	if (buffer_init(&o->buf, rate_bps, buffer_us))
		return -1;
	o->requested_us = calloc(o->buf.capacity, sizeof(*o->requested_us));
	o->requested_seq = calloc(o->buf.capacity, sizeof(*o->requested_seq));
	if (!o->requested_us || !o->requested_seq) {
		overlay_free(o);
		return -1;
	}
	return 0;
}

void overlay_free(struct overlay *o)
{
	buffer_free(&o->buf);
	free(o->requested_us);
	free(o->requested_seq);
	o->requested_us = NULL;
	o->requested_seq = NULL;
}

struct partner *overlay_partner(struct overlay *o, uint32_t id)
{
	for (int i = 0; i < o->np; i++)
		if (o->p[i].addr.id == id)
			return &o->p[i];
	return NULL;
}

struct partner *overlay_partner_add(struct overlay *o, const struct wire_addr *a, uint64_t now_us)
{
	struct partner *p = overlay_partner(o, a->id);
	if (!p) {
		if (o->np == OVERLAY_MAX_PARTNERS)
			return NULL;
		p = &o->p[o->np++];
		memset(p, 0, sizeof(*p));
	}
	p->addr = *a;
	p->last_heard_us = now_us;
	p->is_source = a->id == o->source.id && o->source.id != 0;
	return p;
}

void overlay_partner_del(struct overlay *o, uint32_t id)
{
	struct partner *p = overlay_partner(o, id);
	if (p)
		*p = o->p[--o->np];
}

uint32_t overlay_newest_known(const struct overlay *o, int *ok)
{
	uint32_t best = 0;
	*ok = 0;
	for (int i = 0; i < o->np; i++) {
		const struct wire_buffer_map *m = &o->p[i].map;
		if (!o->p[i].have_map || !m->nbits)
			continue;
		for (uint32_t b = m->nbits; b-- > 0;) {
			if (wire_map_get(m, m->base_seq + b)) {
				if (!*ok || seq_lt(best, m->base_seq + b))
					best = m->base_seq + b;
				*ok = 1;
				break;
			}
		}
	}
	return best;
}

int overlay_holders(const struct overlay *o, uint32_t seq)
{
	int h = 0;
	for (int i = 0; i < o->np; i++)
		h += o->p[i].have_map && wire_map_get(&o->p[i].map, seq);
	return h;
}

void overlay_note_delay(struct overlay *o, uint64_t origin_us, uint64_t now_real_us)
{
	if (origin_us > now_real_us) {
		o->future_stamps++;
		return;
	}
	uint64_t d = now_real_us - origin_us;
	uint32_t delay = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
	uint64_t sec = now_real_us / 1000000u + 1;
	int i = (int)(sec % OVERLAY_DELAY_WINDOW);
	if (o->delay_sec[i] != sec || delay < o->delay_min[i]) {
		o->delay_min[i] = delay;
		o->delay_sec[i] = sec;
	}
}

uint32_t overlay_last_delay(const struct overlay *o, uint64_t now_real_us)
{
	uint64_t sec = now_real_us / 1000000u + 1;
	uint32_t best = 0;
	int have = 0;
	for (int i = 0; i < OVERLAY_DELAY_WINDOW; i++) {
		uint64_t s = o->delay_sec[i];
		if (!s || s > sec || sec - s >= OVERLAY_DELAY_WINDOW)
			continue;
		if (!have || o->delay_min[i] < best)
			best = o->delay_min[i];
		have = 1;
	}
	return best;
}

void overlay_forget_delay(struct overlay *o)
{
	memset(o->delay_sec, 0, sizeof(o->delay_sec));
}

/* Where the stream stands for this node: the next segment due when
 * playing (it moves with the clock even when nothing arrives), else the
 * newest held. 0 when nothing is held yet. */
static int stream_position(const struct overlay *o, uint32_t *pos)
{
	const struct buffer *b = &o->buf;
	if (b->playing)
		*pos = b->have_any ? seq_max(b->newest, b->next_due) : b->next_due;
	else if (b->have_any)
		*pos = b->newest;
	else
		return 0;
	return 1;
}

int overlay_on_map(struct overlay *o, struct partner *p, const struct wire_buffer_map *m,
                   uint64_t now_us)
{
	uint32_t pos;
	if (m->nbits && stream_position(o, &pos)) {
		uint32_t top = m->base_seq + m->nbits - 1;
		uint32_t far = top - pos < UINT32_MAX / 2 ? top - pos : pos - top;
		if (far > o->buf.capacity) {
			o->maps_dropped++;
			return 0;
		}
	}
	p->map = *m;
	p->have_map = 1;
	p->last_heard_us = now_us;
	return 1;
}

int overlay_store(struct overlay *o, const struct wire_seg_data *sd, uint64_t now_us)
{
	if (!o->start_chosen) {
		o->buf.st.out_of_window++;
		return 0;
	}
	int stored = buffer_put(&o->buf, sd, now_us);
	if (stored && sd->hops && (!o->layer || sd->hops < o->layer))
		o->layer = sd->hops;
	return stored;
}

/* A map covers what partners may still ask for. Peers start by one rule,
 * startup before the newest offer, so a partner plays about as far behind
 * the newest as this node does; a peer's map reaches back twice its own
 * lag behind the newest (its playback point, or its chosen start), which
 * serves partners lagging up to that much more, and no further: a peer's
 * control overhead follows the protocol's lag, not its buffer's length,
 * which differs between the modes. A source plays nothing and has no lag:
 * it offers its whole buffer (at most one map), which a joining peer's
 * start may need and which is the same in every mode. */
void overlay_fill_map(const struct overlay *o, struct wire_buffer_map *m)
{
	const struct buffer *b = &o->buf;
	uint32_t from = buffer_oldest(b);
	if (o->start_chosen) {
		uint32_t play = b->playing ? b->next_due : o->start_seq;
		uint32_t lag = seq_lt(play, b->newest) ? b->newest - play : 0;
		from = play - (lag < b->capacity ? lag : b->capacity);
	}
	buffer_fill_map(b, from, m);
}

static int pending(const struct overlay *o, uint32_t seq, uint64_t now_us, uint64_t retry_us)
{
	uint32_t i = seq % o->buf.capacity;
	return o->requested_seq[i] == seq && o->requested_us[i] &&
	       now_us - o->requested_us[i] < retry_us;
}

void overlay_mark_requested(struct overlay *o, uint32_t seq, uint64_t now_us)
{
	uint32_t i = seq % o->buf.capacity;
	o->requested_seq[i] = seq;
	o->requested_us[i] = now_us ? now_us : 1;
}

struct cand {
	uint32_t seq;
	uint32_t holders;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->holders != y->holders)
		return x->holders < y->holders ? -1 : 1;
	return seq_lt(x->seq, y->seq) ? -1 : x->seq != y->seq;
}

size_t overlay_schedule(const struct overlay *o, uint32_t from, uint32_t to, const uint32_t *budget,
                        uint64_t now_us, uint64_t retry_us, struct sched_choice *out, size_t max)
{
	if (seq_lt(to, from) || !o->np || !max)
		return 0;
	uint32_t span = to - from + 1;
	if (span > o->buf.capacity)
		span = o->buf.capacity;
	struct cand *c = malloc(span * sizeof(*c));
	uint32_t left[OVERLAY_MAX_PARTNERS];
	if (!c)
		return 0;
	memcpy(left, budget, (size_t)o->np * sizeof(*left));
	size_t nc = 0;
	for (uint32_t k = 0; k < span; k++) {
		uint32_t seq = from + k;
		if (buffer_has(&o->buf, seq) || pending(o, seq, now_us, retry_us))
			continue;
		uint32_t h = (uint32_t)overlay_holders(o, seq);
		if (h)
			c[nc++] = (struct cand){seq, h};
	}
	qsort(c, nc, sizeof(*c), cand_cmp);
	size_t n = 0;
	for (size_t k = 0; k < nc && n < max; k++) {
		int best = -1;
		for (int i = 0; i < o->np; i++) {
			if (!left[i] || !o->p[i].have_map || !wire_map_get(&o->p[i].map, c[k].seq))
				continue;
			if (best < 0 || left[i] > left[best])
				best = i;
		}
		if (best < 0)
			continue;
		left[best]--;
		out[n++] = (struct sched_choice){c[k].seq, best};
	}
	free(c);
	return n;
}

uint32_t overlay_startup_segments(const struct overlay *o, uint64_t startup_us)
{
	uint32_t n = (uint32_t)(startup_us / o->buf.period_us);
	return n ? n : 1;
}

/* The oldest segment any partner's map covers, when every partner has sent
 * a map that covers something: below it nobody offers anything. */
static int maps_floor(const struct overlay *o, uint32_t *floor)
{
	int have = 0;
	for (int i = 0; i < o->np; i++) {
		const struct wire_buffer_map *m = &o->p[i].map;
		if (!o->p[i].have_map || !m->nbits)
			return 0;
		if (!have || seq_lt(m->base_seq, *floor))
			*floor = m->base_seq;
		have = 1;
	}
	return have;
}

uint32_t overlay_window_from(struct overlay *o, uint32_t newest, uint64_t startup_us)
{
	struct buffer *b = &o->buf;
	if (b->playing)
		return b->next_due;
	if (o->start_chosen &&
	    (seq_lt(newest, o->start_seq) || newest - o->start_seq >= b->capacity))
		o->start_chosen = 0;
	uint32_t want = overlay_startup_segments(o, startup_us);
	if (!o->start_chosen) {
		/* A stream younger than the startup starts at its first segment:
		 * the start moves past the ones before it, which nobody offers. */
		o->start_seq = newest - want + 1;
		o->start_span = want;
		o->start_chosen = 1;
	} else if (want < o->start_span) {
		/* The rule asks for less than when the start was chosen (a
		 * layer-aware buffer learns its layer from the first segments
		 * stored): the start moves up by the difference, once, so the
		 * peer plays holding what its rule asks, not what it assumed. */
		o->start_seq += o->start_span - want;
		o->start_span = want;
	}
	/* A hole in the run the start waits for, older than every partner's
	 * map, is one no partner can offer any more (a pull that did not come
	 * back before the partners moved on): waiting for it would hold
	 * playback until the start left the buffer. The start moves past it. */
	uint32_t floor;
	if (maps_floor(o, &floor))
		for (uint32_t s = o->start_seq; seq_lt(s, floor) && seq_lt(s, newest); s++)
			if (!buffer_has(b, s))
				o->start_seq = s + 1;
	while (seq_lt(o->start_seq, newest) && !buffer_has(b, o->start_seq) &&
	       !overlay_holders(o, o->start_seq))
		o->start_seq++;
	buffer_anchor(b, o->start_seq);
	return o->start_seq;
}

int overlay_try_play(struct overlay *o, uint64_t startup_us, uint64_t now_us)
{
	if (!o->start_chosen || o->buf.playing ||
	    buffer_run_from(&o->buf, o->start_seq) < overlay_startup_segments(o, startup_us))
		return 0;
	buffer_start_playback(&o->buf, o->start_seq, now_us);
	return 1;
}

size_t overlay_pull_round(struct overlay *o, uint64_t startup_us, uint64_t round_us,
                          uint64_t retry_us, uint64_t now_us, struct sched_choice *out, size_t max)
{
	int ok;
	uint32_t newest = overlay_newest_known(o, &ok);
	if (!ok)
		return 0;
	uint32_t from = overlay_window_from(o, newest, startup_us);
	/* Per partner, what its serve budget gives a requester in a round
	 * (peer/serve.h): twice the stream's rate, enough to catch up. Asking
	 * for more only had the rest refused unanswered and pulled again after
	 * retry_us: in coolstreaming mode under churn at 200 peers, catching
	 * up a 60 s backlog, one request in seven. */
	uint32_t per_round =
	    (uint32_t)(SERVE_RATE_FACTOR * (double)round_us / (double)o->buf.period_us);
	uint32_t budget[OVERLAY_MAX_PARTNERS];
	for (int i = 0; i < o->np; i++)
		budget[i] = per_round ? per_round : 1;
	size_t k = overlay_schedule(o, from, newest, budget, now_us, retry_us, out, max);
	for (size_t j = 0; j < k; j++)
		overlay_mark_requested(o, out[j].seq, now_us);
	return k;
}

static int is_partner(const struct overlay *o, uint32_t id)
{
	for (int i = 0; i < o->np; i++)
		if (o->p[i].addr.id == id)
			return 1;
	return 0;
}

/* The nearest mesh neighbour watching the stream, not a partner and not
 * asked yet; one with a known delay beats one without. */
static const struct mesh_nb *nearest_watcher(const struct overlay *o, const struct mesh *m,
                                             const uint32_t *asked)
{
	const struct mesh_nb *best = NULL;
	for (int i = 0; i < m->n; i++) {
		const struct mesh_nb *nb = &m->nb[i];
		if (nb->stream != o->stream || is_partner(o, nb->addr.id) ||
		    asked[i] == nb->addr.id)
			continue;
		if (!best ||
		    (nb->have_delay && (!best->have_delay || nb->delay_us < best->delay_us)))
			best = nb;
	}
	return best;
}

int overlay_pick_partners(const struct overlay *o, const struct mesh *m, int prefer_mesh,
                          const struct wire_peer_entry *cand, int ncand, struct rng *rng, int want,
                          struct wire_addr *out)
{
	uint32_t asked[MESH_MAX] = {0};
	int k = 0;
	while (prefer_mesh && want > 0) {
		const struct mesh_nb *best = nearest_watcher(o, m, asked);
		if (!best)
			break;
		asked[best - m->nb] = best->addr.id;
		out[k++] = best->addr;
		want--;
	}
	for (int tries = 0; want > 0 && tries < 2 * ncand; tries++) {
		const struct wire_peer_entry *c = &cand[rng_below(rng, (uint64_t)ncand)];
		if (c->stream != o->stream || is_partner(o, c->addr.id))
			continue;
		out[k++] = c->addr;
		want--;
	}
	return k;
}
