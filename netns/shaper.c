#include "netns/shaper.h"

#include <math.h>
#include <stdlib.h>

#include "lib/util.h"

struct shaper {
	uint32_t n;
	struct rng rng;
	uint64_t *up_busy;   /* when each uplink has serialised its backlog */
	uint64_t *down_busy; /* likewise for downlinks */
	uint64_t *pair_last; /* n*n: latest downlink arrival per pair, for FIFO */
};

struct shaper *shaper_new(uint32_t n, uint64_t seed)
{
	struct shaper *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->n = n;
	rng_seed(&s->rng, seed);
	s->up_busy = calloc(n, sizeof(*s->up_busy));
	s->down_busy = calloc(n, sizeof(*s->down_busy));
	/* Large callocs come from fresh zero pages, so only pairs that carry
	 * traffic cost memory. */
	s->pair_last = calloc((size_t)n * n, sizeof(*s->pair_last));
	if (!s->up_busy || !s->down_busy || !s->pair_last) {
		shaper_free(s);
		return NULL;
	}
	return s;
}

void shaper_free(struct shaper *s)
{
	if (!s)
		return;
	free(s->up_busy);
	free(s->down_busy);
	free(s->pair_last);
	free(s);
}

/* Queue wire bytes on a link idle from *busy on, arriving at `at`. */
static enum shaper_verdict link_enqueue(uint64_t *busy, const struct link_access *h, uint64_t bps,
                                        uint32_t wire, uint64_t at, uint64_t *done)
{
	if (!bps) {
		*done = at;
		return SHAPER_PASS;
	}
	uint64_t start = *busy > at ? *busy : at;
	uint64_t backlog_ns = start - at;
	uint64_t tx_ns = link_tx_ns(bps, wire);
	uint32_t limit = h->queue_bytes ? h->queue_bytes : LINKMODEL_DEFAULT_QUEUE_BYTES;
	/* Compared in time rather than bytes: bps * ns would overflow 64 bits. */
	if (backlog_ns && backlog_ns + tx_ns > link_tx_ns(bps, limit))
		return SHAPER_DROP_QUEUE;
	*busy = start + tx_ns;
	*done = *busy;
	return SHAPER_PASS;
}

static double std_normal(struct rng *r)
{
	/* Box-Muller; 1 - u keeps the log argument in (0, 1]. */
	double u = 1.0 - rng_unit(r), v = rng_unit(r);
	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

static uint64_t path_delay_ns(struct rng *r, const struct link_path *p)
{
	double d = (double)p->delay_us * 1e3;
	if (p->jitter_us)
		d += (double)p->jitter_us * 1e3 * std_normal(r);
	return d > 0 ? (uint64_t)llround(d) : 0;
}

enum shaper_verdict shaper_ingress(struct shaper *s, const struct linkmodel *m, uint32_t src,
                                   uint32_t dst, uint32_t wire, uint64_t now_ns, uint64_t *due_ns)
{
	const struct link_access *h = &m->host[src];
	uint64_t sent;
	if (link_enqueue(&s->up_busy[src], h, h->up_bps, wire, now_ns, &sent) != SHAPER_PASS)
		return SHAPER_DROP_QUEUE;

	struct link_path p;
	linkmodel_path(m, src, dst, &p);
	if (p.blocked)
		return SHAPER_DROP_PARTITION;
	if (p.loss > 0 && rng_unit(&s->rng) < p.loss)
		return SHAPER_DROP_LOSS;

	uint64_t due = sent + path_delay_ns(&s->rng, &p);
	/* Also keeps order when the harness shortens a delay mid-flow. */
	uint64_t *last = &s->pair_last[(size_t)src * s->n + dst];
	if (due < *last)
		due = *last;
	*last = due;
	*due_ns = due;
	return SHAPER_PASS;
}

enum shaper_verdict shaper_egress(struct shaper *s, const struct linkmodel *m, uint32_t dst,
                                  uint32_t wire, uint64_t at_ns, uint64_t *depart_ns)
{
	const struct link_access *h = &m->host[dst];
	return link_enqueue(&s->down_busy[dst], h, h->down_bps, wire, at_ns, depart_ns);
}

uint32_t shaper_wire_bytes(uint32_t len, uint32_t gso_size, uint32_t hdr_len)
{
	if (!gso_size || hdr_len >= len)
		return len;
	uint32_t segs = (len - hdr_len + gso_size - 1) / gso_size;
	return len + (segs - 1) * hdr_len;
}

struct dueq_item {
	uint64_t due_ns;
	uint64_t seq; /* push order, breaks ties */
	uint32_t id;
};

struct dueq {
	struct dueq_item *a;
	uint32_t len, cap;
	uint64_t seq;
};

struct dueq *dueq_new(uint32_t cap)
{
	struct dueq *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->a = calloc(cap ? cap : 1, sizeof(*q->a));
	if (!q->a) {
		free(q);
		return NULL;
	}
	q->cap = cap;
	return q;
}

void dueq_free(struct dueq *q)
{
	if (!q)
		return;
	free(q->a);
	free(q);
}

static int before(const struct dueq_item *x, const struct dueq_item *y)
{
	return x->due_ns < y->due_ns || (x->due_ns == y->due_ns && x->seq < y->seq);
}

int dueq_push(struct dueq *q, uint64_t due_ns, uint32_t id)
{
	if (q->len == q->cap)
		return -1;
	struct dueq_item it = {due_ns, q->seq++, id};
	uint32_t i = q->len++;
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!before(&it, &q->a[parent]))
			break;
		q->a[i] = q->a[parent];
		i = parent;
	}
	q->a[i] = it;
	return 0;
}

int dueq_peek(const struct dueq *q, uint64_t *due_ns)
{
	if (!q->len)
		return 0;
	*due_ns = q->a[0].due_ns;
	return 1;
}

uint32_t dueq_pop(struct dueq *q, uint64_t *due_ns)
{
	struct dueq_item top = q->a[0];
	struct dueq_item last = q->a[--q->len];
	uint32_t i = 0;
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= q->len)
			break;
		if (c + 1 < q->len && before(&q->a[c + 1], &q->a[c]))
			c++;
		if (!before(&q->a[c], &last))
			break;
		q->a[i] = q->a[c];
		i = c;
	}
	if (q->len)
		q->a[i] = last;
	*due_ns = top.due_ns;
	return top.id;
}

uint32_t dueq_len(const struct dueq *q)
{
	return q->len;
}
