#include "analysis/paths.h"

#include <stdlib.h>
#include <string.h>

#include "analysis/stats.h"
#include "peer/wire.h"

/* A crash whose cut comes later than this is another failure (the child
 * had moved to another parent since): not a failover of that crash. */
#define FAILOVER_MATCH_US 30000000ull

static void add_ev(struct path_log *l, uint64_t ts_us, uint32_t peer, uint32_t id, uint16_t stream,
                   int kind)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 1024;
		struct path_ev *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv) {
			l->oom = 1;
			return;
		}
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n] = (struct path_ev){ts_us, peer, id, (uint32_t)l->n, stream, (uint8_t)kind};
	l->n++;
}

void paths_add(struct path_log *l, uint64_t ts_us, uint32_t peer, uint32_t id, int kind)
{
	add_ev(l, ts_us, peer, id, 0, kind);
}

void paths_fold(struct path_log *l, uint32_t peer, const struct evlog_line *e)
{
	static const struct {
		const char *event, *key;
		int kind;
	} map[] = {
	    {LOGEV_CHILD_ADD, LOGK_ID, PE_CHILD_ADD},
	    {LOGEV_CHILD_DEL, LOGK_ID, PE_CHILD_DEL},
	    {LOGEV_PATH_CUT, LOGK_PARENT, PE_CUT},
	    {LOGEV_PATH_UP, LOGK_PARENT, PE_UP},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		uint64_t id, stream = 0;
		if (strcmp(e->event, map[i].event) || evlog_get_u64(e, map[i].key, &id))
			continue;
		if (map[i].kind == PE_CHILD_ADD || map[i].kind == PE_CHILD_DEL)
			evlog_get_u64(e, LOGK_STREAM, &stream);
		add_ev(l, e->ts_us, peer, (uint32_t)id, (uint16_t)stream, map[i].kind);
	}
}

void paths_free(struct path_log *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int by_peer_time(const void *a, const void *b)
{
	const struct path_ev *x = a, *y = b;
	if (x->peer != y->peer)
		return x->peer < y->peer ? -1 : 1;
	if (x->ts_us != y->ts_us)
		return x->ts_us < y->ts_us ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Ends of peers' processes, by id. */
struct end {
	uint32_t id;
	uint64_t ts_us;
	int crashed;
};

static int by_id(const void *a, const void *b)
{
	const struct end *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static const struct end *end_of(const struct end *e, size_t n, uint32_t id)
{
	struct end key = {.id = id};
	return bsearch(&key, e, n, sizeof(*e), by_id);
}

struct samples_set {
	struct samples outlive, failover, detect;
	int unrecovered;
};

/* Walks one peer's events [i, j): its children against their ends, and its
 * own push path against its parents' crashes. */
struct child {
	uint32_t id;
	uint16_t stream;
	uint64_t since_us;
};

static void close_children(struct child *c, int *nc, const struct end *ends, size_t nends,
                           uint64_t end_us, struct samples_set *s)
{
	for (int k = 0; k < *nc; k++) {
		const struct end *d = end_of(ends, nends, c[k].id);
		if (d && d->ts_us >= c[k].since_us && d->ts_us < end_us)
			samples_push(&s->outlive, (double)(end_us - d->ts_us) / 1e6);
	}
	*nc = 0;
}

static void child_del(struct child *c, int *nc, const struct path_ev *e, const struct end *ends,
                      size_t nends, struct samples_set *s)
{
	for (int k = 0; k < *nc; k++) {
		if (c[k].id != e->id || c[k].stream != e->stream)
			continue;
		const struct end *d = end_of(ends, nends, e->id);
		if (d && d->ts_us >= c[k].since_us && d->ts_us <= e->ts_us)
			samples_push(&s->outlive, (double)(e->ts_us - d->ts_us) / 1e6);
		c[k] = c[--*nc];
		return;
	}
}

#define PATHS_MAX_CHILDREN 256

static int has_child(const struct child *c, int nc, const struct path_ev *e)
{
	for (int k = 0; k < nc; k++)
		if (c[k].id == e->id && c[k].stream == e->stream)
			return 1;
	return 0;
}

static void walk_peer(const struct path_ev *v, size_t i, size_t j, const struct end *ends,
                      size_t nends, uint64_t stop_us, struct samples_set *s)
{
	struct child c[PATHS_MAX_CHILDREN];
	int nc = 0;
	const struct end *crash = NULL; /* the crashed parent of a cut path */
	uint64_t cut_us = 0;
	uint32_t up_parent = 0; /* the parent of the path that came up last */
	for (size_t k = i; k < j; k++) {
		const struct path_ev *e = &v[k];
		const struct end *d;
		switch (e->kind) {
		case PE_START:
			close_children(c, &nc, ends, nends, e->ts_us, s);
			s->unrecovered += crash != NULL;
			crash = NULL;
			up_parent = 0;
			break;
		case PE_END:
		case PE_CRASH:
			close_children(c, &nc, ends, nends, e->ts_us, s);
			break;
		case PE_CHILD_ADD:
			/* A child that sets its path up again is logged again: one
			 * entry, or its single child_del would leave a stale copy. */
			if (nc < PATHS_MAX_CHILDREN && !has_child(c, nc, e))
				c[nc++] = (struct child){e->id, e->stream, e->ts_us};
			break;
		case PE_CHILD_DEL:
			child_del(c, &nc, e, ends, nends, s);
			break;
		case PE_CUT:
			/* Only the path that pushed fails over: one being set up
			 * through a node that had crashed (a stale backup, a faster
			 * path tried) fails by its set-up timeout while the path it
			 * was to replace still pushes. */
			d = end_of(ends, nends, e->id);
			if (d && d->crashed && d->ts_us <= e->ts_us &&
			    e->ts_us - d->ts_us <= FAILOVER_MATCH_US && !crash &&
			    e->id == up_parent) {
				crash = d;
				cut_us = e->ts_us;
			}
			if (e->id == up_parent)
				up_parent = 0;
			break;
		case PE_UP:
			up_parent = e->id;
			if (crash) {
				samples_push(&s->failover, (double)(e->ts_us - crash->ts_us) / 1e6);
				samples_push(&s->detect, (double)(cut_us - crash->ts_us) / 1e6);
				crash = NULL;
			}
			break;
		}
	}
	if (stop_us != UINT64_MAX)
		close_children(c, &nc, ends, nends, stop_us, s);
	s->unrecovered += crash != NULL;
}

static double q(struct samples *x, double p)
{
	sort_doubles(x->v, x->n);
	return quantile_sorted(x->v, x->n, p);
}

int paths_summarize(struct path_log *l, uint64_t stop_us, struct paths_summary *out)
{
	memset(out, 0, sizeof(*out));
	size_t nends = 0;
	struct end *ends = malloc((l->n ? l->n : 1) * sizeof(*ends));
	if (!ends)
		return -1;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].kind == PE_END || l->v[i].kind == PE_CRASH)
			ends[nends++] =
			    (struct end){l->v[i].id, l->v[i].ts_us, l->v[i].kind == PE_CRASH};
	qsort(ends, nends, sizeof(*ends), by_id);
	qsort(l->v, l->n, sizeof(*l->v), by_peer_time);
	struct samples_set s = {0};
	for (size_t i = 0, j; i < l->n; i = j) {
		for (j = i; j < l->n && l->v[j].peer == l->v[i].peer; j++)
			;
		walk_peer(l->v, i, j, ends, nends, stop_us, &s);
	}
	int oom = s.outlive.oom || s.failover.oom || s.detect.oom;
	out->outlived = (int)s.outlive.n;
	for (size_t i = 0; i < s.outlive.n; i++)
		out->over_two_leases += s.outlive.v[i] > 2.0 * WIRE_LEASE_US / 1e6;
	out->outlive_p50_s = q(&s.outlive, 0.5);
	out->outlive_max_s = q(&s.outlive, 1);
	out->failovers = (int)s.failover.n;
	out->unrecovered = s.unrecovered;
	out->failover_p50_s = q(&s.failover, 0.5);
	out->failover_p95_s = q(&s.failover, 0.95);
	out->detect_p50_s = q(&s.detect, 0.5);
	samples_free(&s.outlive);
	samples_free(&s.failover);
	samples_free(&s.detect);
	free(ends);
	return oom ? -1 : 0;
}
