#include "netns/topology.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"

#define EARTH_RADIUS_KM 6371.0
#define DEG_TO_RAD (M_PI / 180.0)
#define TOPO_MAX_ROUTERS (1u << 24)
#define NONE UINT32_MAX

/* The delay is a copy of the link's, kept here because Dijkstra's inner loop
 * is bound by memory reads. */
struct adj {
	uint32_t to;
	uint32_t delay_us;
	uint32_t link;
};

struct router {
	struct adj *adj;
	uint32_t deg;
	size_t cap;
	/* Plane units, or longitude and latitude in degrees when topo.geo. */
	double x, y;
	int placed;
	char *label;
};

struct host {
	uint32_t router;
	uint32_t access_us;
};

struct topo {
	uint32_t n;
	int geo;
	struct router *r;
	struct topo_link *links;
	size_t nlinks, lcap;
	struct host *hosts;
	uint32_t nhosts;
	size_t hcap;
};

/* The doubling array p of *cap elements, of which len are used, with room
 * for one more: p itself, a new block, or NULL (p still valid) when out of
 * memory. */
static void *grow(void *p, size_t *cap, size_t len, size_t elem)
{
	if (len < *cap)
		return p;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *np = reallocarray(p, ncap, elem);
	if (np)
		*cap = ncap;
	return np;
}

/* --- graph ---------------------------------------------------------------- */

struct topo *topo_new(uint32_t nrouters)
{
	if (nrouters == 0 || nrouters > TOPO_MAX_ROUTERS)
		return NULL;
	struct topo *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->n = nrouters;
	t->r = calloc(nrouters, sizeof(*t->r));
	if (!t->r) {
		free(t);
		return NULL;
	}
	return t;
}

void topo_free(struct topo *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->n; i++) {
		free(t->r[i].adj);
		free(t->r[i].label);
	}
	free(t->r);
	free(t->links);
	free(t->hosts);
	free(t);
}

static int adj_push(struct router *r, uint32_t to, uint32_t delay_us, uint32_t link)
{
	struct adj *adj = grow(r->adj, &r->cap, r->deg, sizeof(*adj));
	if (!adj)
		return -1;
	r->adj = adj;
	r->adj[r->deg++] = (struct adj){to, delay_us, link};
	return 0;
}

static void adj_set_delay(struct router *r, uint32_t link, uint32_t delay_us)
{
	for (uint32_t i = 0; i < r->deg; i++) {
		if (r->adj[i].link == link)
			r->adj[i].delay_us = delay_us;
	}
}

int topo_add_link(struct topo *t, uint32_t a, uint32_t b, uint32_t delay_us, uint64_t bps,
                  char *err, size_t errlen)
{
	if (a >= t->n || b >= t->n)
		return err_set(err, errlen,
		               "cannot link router %u to router %u: the topology has %u routers", a,
		               b, t->n);
	if (a == b)
		return err_set(err, errlen, "cannot link router %u to itself", a);
	if (a > b) {
		uint32_t s = a;
		a = b;
		b = s;
	}
	/* Scan the end with fewer links: hubs of a scale-free graph have many. */
	const struct router *ra = &t->r[a], *rb = &t->r[b];
	const struct router *scan = ra->deg <= rb->deg ? ra : rb;
	uint32_t other = scan == ra ? b : a;
	for (uint32_t i = 0; i < scan->deg; i++) {
		if (scan->adj[i].to != other)
			continue;
		struct topo_link *l = &t->links[scan->adj[i].link];
		if (delay_us < l->delay_us) {
			l->delay_us = delay_us;
			adj_set_delay(&t->r[a], scan->adj[i].link, delay_us);
			adj_set_delay(&t->r[b], scan->adj[i].link, delay_us);
		}
		l->bps = bps > UINT64_MAX - l->bps ? UINT64_MAX : l->bps + bps;
		return 0;
	}
	struct topo_link *links = NULL;
	if (t->nlinks < UINT32_MAX)
		links = grow(t->links, &t->lcap, t->nlinks, sizeof(*links));
	if (!links)
		return err_set(err, errlen, "linking router %u to router %u: out of memory", a, b);
	t->links = links;
	if (adj_push(&t->r[a], b, delay_us, (uint32_t)t->nlinks))
		return err_set(err, errlen, "linking router %u to router %u: out of memory", a, b);
	if (adj_push(&t->r[b], a, delay_us, (uint32_t)t->nlinks)) {
		t->r[a].deg--;
		return err_set(err, errlen, "linking router %u to router %u: out of memory", a, b);
	}
	t->links[t->nlinks++] = (struct topo_link){a, b, delay_us, bps};
	return 0;
}

uint32_t topo_nrouters(const struct topo *t)
{
	return t->n;
}

const struct topo_link *topo_links(const struct topo *t, size_t *n)
{
	*n = t->nlinks;
	return t->links;
}

uint32_t topo_degree(const struct topo *t, uint32_t router)
{
	return router < t->n ? t->r[router].deg : 0;
}

void topo_degree_stats(const struct topo *t, struct topo_degree *out)
{
	uint32_t lo = UINT32_MAX, hi = 0;
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t d = t->r[i].deg;
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	out->min = lo;
	out->max = hi;
	out->mean = 2.0 * (double)t->nlinks / t->n;
}

/* Breadth-first search from src over routers whose mark is 0, setting it to
 * val; the routers reached are left in queue. Returns how many. */
static uint32_t reach(const struct topo *t, uint32_t src, uint8_t *mark, uint8_t val,
                      uint32_t *queue)
{
	uint32_t head = 0, tail = 0;
	mark[src] = val;
	queue[tail++] = src;
	while (head < tail) {
		const struct router *r = &t->r[queue[head++]];
		for (uint32_t i = 0; i < r->deg; i++) {
			uint32_t v = r->adj[i].to;
			if (!mark[v]) {
				mark[v] = val;
				queue[tail++] = v;
			}
		}
	}
	return tail;
}

int topo_connected(const struct topo *t)
{
	uint8_t *mark = calloc(t->n, 1);
	uint32_t *queue = malloc(sizeof(*queue) * t->n);
	int ok = -1;
	if (mark && queue)
		ok = reach(t, 0, mark, 1, queue) == t->n;
	free(mark);
	free(queue);
	return ok;
}

const char *topo_router_label(const struct topo *t, uint32_t router)
{
	return router < t->n ? t->r[router].label : NULL;
}

int topo_router_find(const struct topo *t, const char *label, uint32_t *router)
{
	for (uint32_t i = 0; i < t->n; i++) {
		if (t->r[i].label && strcasecmp(t->r[i].label, label) == 0) {
			*router = i;
			return 0;
		}
	}
	return -1;
}

static int delay_for_km(const struct topo_delay *d, double km, uint32_t *out)
{
	double us = km / d->km_per_s * 1e6 + d->hop_us;
	if (!(us >= 0 && us < UINT32_MAX))
		return -1;
	*out = (uint32_t)llround(us);
	return 0;
}

static double great_circle_km(double lat1, double lon1, double lat2, double lon2)
{
	double p1 = lat1 * DEG_TO_RAD, p2 = lat2 * DEG_TO_RAD;
	double sp = sin((p2 - p1) / 2), sl = sin((lon2 - lon1) * DEG_TO_RAD / 2);
	double h = sp * sp + cos(p1) * cos(p2) * sl * sl;
	return 2 * EARTH_RADIUS_KM * asin(fmin(1.0, sqrt(h)));
}

/* --- generators ------------------------------------------------------------- */

void topo_gen_defaults(struct topo_gen *g)
{
	*g = (struct topo_gen){
	    .model = TOPO_WAXMAN,
	    .nrouters = 5000,
	    .avg_degree = 4,
	    .alpha = 0.15,
	    .beta = 0.2,
	    .plane = 1000,
	    .km_per_unit = 1,
	    .delay = {TOPO_FIBRE_KM_PER_S, TOPO_DEFAULT_HOP_US},
	    .seed = 1,
	};
}

static double plane_dist(const struct topo *t, uint32_t a, uint32_t b)
{
	double dx = t->r[a].x - t->r[b].x, dy = t->r[a].y - t->r[b].y;
	return sqrt(dx * dx + dy * dy);
}

static int link_plane(struct topo *t, const struct topo_gen *g, uint32_t a, uint32_t b, char *err,
                      size_t errlen)
{
	uint32_t d;
	if (delay_for_km(&g->delay, plane_dist(t, a, b) * g->km_per_unit, &d))
		return err_set(err, errlen, "linking router %u to router %u: delay overflows", a,
		               b);
	return topo_add_link(t, a, b, d, 0, err, errlen);
}

/* Links a router joining `existing` others makes: avg_degree / 2 rounded
 * down or up at random so the fractional part averages out. */
static uint32_t links_for(struct rng *rng, double avg_degree, uint32_t existing)
{
	double half = avg_degree / 2;
	uint32_t k = (uint32_t)half;
	if (rng_unit(rng) < half - k)
		k++;
	return k < existing ? k : existing;
}

/* Index of a candidate not yet taken (w >= 0) drawn with probability
 * proportional to w; uniform when every weight underflowed to zero. */
static uint32_t draw_weighted(const double *w, uint32_t n, struct rng *rng)
{
	double total = 0;
	uint32_t open = 0;
	for (uint32_t j = 0; j < n; j++) {
		if (w[j] >= 0) {
			total += w[j];
			open++;
		}
	}
	uint32_t last = 0;
	if (total > 0) {
		double x = rng_unit(rng) * total;
		for (uint32_t j = 0; j < n; j++) {
			if (w[j] <= 0)
				continue;
			last = j;
			x -= w[j];
			if (x < 0)
				return j;
		}
		return last; /* rounding left x a hair above zero */
	}
	uint64_t pick = rng_below(rng, open);
	for (uint32_t j = 0; j < n; j++) {
		if (w[j] >= 0 && pick-- == 0)
			return j;
	}
	return last;
}

static int gen_waxman(struct topo *t, const struct topo_gen *g, struct rng *rng, char *err,
                      size_t errlen)
{
	double scale = g->beta * g->plane * sqrt(2.0);
	double *w = malloc(sizeof(*w) * t->n);
	if (!w)
		return err_set(err, errlen, "generating a Waxman topology: out of memory");
	int rc = 0;
	for (uint32_t i = 1; i < t->n && !rc; i++) {
		uint32_t k = links_for(rng, g->avg_degree, i);
		for (uint32_t j = 0; j < i; j++)
			w[j] = g->alpha * exp(-plane_dist(t, i, j) / scale);
		for (uint32_t c = 0; c < k && !rc; c++) {
			uint32_t j = draw_weighted(w, i, rng);
			w[j] = -1;
			rc = link_plane(t, g, i, j, err, errlen);
		}
	}
	free(w);
	return rc;
}

static int gen_waxman_pairs(struct topo *t, const struct topo_gen *g, struct rng *rng, char *err,
                            size_t errlen)
{
	double scale = g->beta * g->plane * sqrt(2.0);
	for (uint32_t i = 1; i < t->n; i++) {
		for (uint32_t j = 0; j < i; j++) {
			double p = g->alpha * exp(-plane_dist(t, i, j) / scale);
			if (rng_unit(rng) < p && link_plane(t, g, i, j, err, errlen))
				return -1;
		}
	}
	return 0;
}

static int gen_ba(struct topo *t, const struct topo_gen *g, struct rng *rng, char *err,
                  size_t errlen)
{
	/* Every link puts both ends in `ends`, so a uniform draw from it picks
	 * a router with probability proportional to its degree. */
	size_t kmax = (size_t)ceil(g->avg_degree / 2);
	uint32_t *ends = malloc(sizeof(*ends) * 2 * kmax * t->n);
	uint32_t *picked = malloc(sizeof(*picked) * kmax);
	int rc = 0;
	if (!ends || !picked)
		rc = err_set(err, errlen, "generating a Barabasi-Albert topology: out of memory");
	size_t nends = 0;
	for (uint32_t i = 1; i < t->n && !rc; i++) {
		uint32_t k = links_for(rng, g->avg_degree, i), got = 0;
		while (got < k) {
			uint32_t j = k == i ? got : ends[rng_below(rng, nends)];
			uint32_t c = 0;
			while (c < got && picked[c] != j)
				c++;
			if (c == got)
				picked[got++] = j;
		}
		for (uint32_t c = 0; c < k && !rc; c++) {
			rc = link_plane(t, g, i, picked[c], err, errlen);
			ends[nends++] = i;
			ends[nends++] = picked[c];
		}
	}
	free(ends);
	free(picked);
	return rc;
}

/* Join every part the model left apart to the part holding router 0, from a
 * random router of the part to its nearest router already joined. */
static int join_parts(struct topo *t, const struct topo_gen *g, struct rng *rng, char *err,
                      size_t errlen)
{
	enum { JOINED = 1, PART = 2 };
	uint8_t *mark = calloc(t->n, 1);
	uint32_t *members = malloc(sizeof(*members) * t->n);
	int rc = 0;
	if (!mark || !members)
		rc = err_set(err, errlen, "connecting the topology: out of memory");
	else
		reach(t, 0, mark, JOINED, members);
	for (uint32_t s = 0; s < t->n && !rc; s++) {
		if (mark[s])
			continue;
		uint32_t m = reach(t, s, mark, PART, members);
		uint32_t u = members[rng_below(rng, m)], best = 0;
		double best_d = INFINITY;
		for (uint32_t v = 0; v < t->n; v++) {
			double d = mark[v] == JOINED ? plane_dist(t, u, v) : INFINITY;
			if (d < best_d) {
				best_d = d;
				best = v;
			}
		}
		rc = link_plane(t, g, u, best, err, errlen);
		for (uint32_t i = 0; i < m; i++)
			mark[members[i]] = JOINED;
	}
	free(mark);
	free(members);
	return rc;
}

int topo_generate(const struct topo_gen *g, struct topo **out, char *err, size_t errlen)
{
	const char *what = g->model == TOPO_BA ? "Barabasi-Albert" : "Waxman";
	if (g->model != TOPO_WAXMAN && g->model != TOPO_WAXMAN_PAIRS && g->model != TOPO_BA)
		return err_set(err, errlen, "generating a topology: unknown model %d",
		               (int)g->model);
	if (g->nrouters < 2 || g->nrouters > TOPO_MAX_ROUTERS)
		return err_set(err, errlen,
		               "generating a %s topology: %u routers is not in [2, %u]", what,
		               g->nrouters, TOPO_MAX_ROUTERS);
	if (g->model != TOPO_WAXMAN_PAIRS &&
	    !(g->avg_degree >= 2 && g->avg_degree <= g->nrouters - 1))
		return err_set(err, errlen,
		               "generating a %s topology: average degree %g is not in [2, %u]",
		               what, g->avg_degree, g->nrouters - 1);
	if (g->model != TOPO_BA &&
	    !(g->alpha > 0 && g->alpha <= 1 && g->beta > 0 && isfinite(g->beta)))
		return err_set(
		    err, errlen,
		    "generating a Waxman topology: need 0 < alpha <= 1 and beta > 0 (got %g, %g)",
		    g->alpha, g->beta);
	if (!(g->plane > 0 && isfinite(g->plane) && g->km_per_unit >= 0 &&
	      isfinite(g->km_per_unit) && g->delay.km_per_s > 0))
		return err_set(
		    err, errlen,
		    "generating a %s topology: plane size, km per unit and propagation speed "
		    "must be positive (got %g, %g, %g)",
		    what, g->plane, g->km_per_unit, g->delay.km_per_s);

	struct topo *t = topo_new(g->nrouters);
	if (!t)
		return err_set(err, errlen, "generating a %s topology: out of memory", what);
	struct rng rng;
	rng_seed(&rng, g->seed);
	for (uint32_t i = 0; i < t->n; i++) {
		t->r[i].x = rng_unit(&rng) * g->plane;
		t->r[i].y = rng_unit(&rng) * g->plane;
		t->r[i].placed = 1;
	}
	int rc;
	if (g->model == TOPO_WAXMAN)
		rc = gen_waxman(t, g, &rng, err, errlen);
	else if (g->model == TOPO_WAXMAN_PAIRS)
		rc = gen_waxman_pairs(t, g, &rng, err, errlen);
	else
		rc = gen_ba(t, g, &rng, err, errlen);
	if (!rc)
		rc = join_parts(t, g, &rng, err, errlen);
	if (rc) {
		topo_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

/* --- GML ---------------------------------------------------------------------- */

void topo_gml_defaults(struct topo_gml_opts *o)
{
	*o = (struct topo_gml_opts){
	    .delay = {TOPO_FIBRE_KM_PER_S, TOPO_DEFAULT_HOP_US},
	    .default_delay_us = 10000,
	    .unplaced = TOPO_UNPLACED_NEIGHBOUR_MEAN,
	};
}

enum tok_kind { TOK_EOF, TOK_KEY, TOK_NUM, TOK_STR, TOK_OPEN, TOK_CLOSE };

struct tok {
	enum tok_kind kind;
	const char *s; /* without the quotes of a string */
	size_t len;
	unsigned line;
};

struct gml_node {
	long long id;
	unsigned line;
	int has_id, has_lat, has_lon;
	double lat, lon;
	char *label;
};

struct gml_edge {
	long long src, dst;
	unsigned line;
	int has_src, has_dst, has_delay;
	uint32_t delay_us;
	uint64_t bps;
	uint32_t a, b; /* routers, once resolved */
};

struct gml {
	const char *p, *end, *name;
	unsigned line;
	char *err;
	size_t errlen;
	struct gml_node *nodes;
	size_t nn, ncap;
	struct gml_edge *edges;
	size_t ne, ecap;
	unsigned graph_line, graph_close_line;
};

static int gml_err_set(struct gml *g, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int gml_err_set(struct gml *g, unsigned line, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return err_set(g->err, g->errlen, "%s:%u: %s", g->name, line, why);
}

static int lex(struct gml *g, struct tok *t)
{
	for (;;) {
		while (g->p < g->end && isspace((unsigned char)*g->p)) {
			if (*g->p == '\n')
				g->line++;
			g->p++;
		}
		if (g->p == g->end || *g->p != '#')
			break;
		while (g->p < g->end && *g->p != '\n')
			g->p++;
	}
	t->line = g->line;
	t->s = g->p;
	t->len = 0;
	if (g->p == g->end) {
		t->kind = TOK_EOF;
		return 0;
	}
	unsigned char c = (unsigned char)*g->p;
	if (c == '[' || c == ']') {
		t->kind = c == '[' ? TOK_OPEN : TOK_CLOSE;
		t->len = 1;
		g->p++;
		return 0;
	}
	if (c == '"') {
		t->s = ++g->p;
		while (g->p < g->end && *g->p != '"') {
			if (*g->p == '\n')
				g->line++;
			g->p++;
		}
		if (g->p == g->end)
			return gml_err_set(g, t->line, "string is never closed");
		t->kind = TOK_STR;
		t->len = (size_t)(g->p++ - t->s);
		return 0;
	}
	if (isalpha(c) || c == '_') {
		t->kind = TOK_KEY;
		while (g->p < g->end && (isalnum((unsigned char)*g->p) || *g->p == '_'))
			g->p++;
	} else if (isdigit(c) || c == '-' || c == '+' || c == '.') {
		/* Take letters too, so that "12abc" is one bad number rather than
		 * a number followed by a key. */
		t->kind = TOK_NUM;
		while (g->p < g->end &&
		       (isalnum((unsigned char)*g->p) || (*g->p && strchr(".+-", *g->p))))
			g->p++;
	} else {
		return gml_err_set(g, t->line, "unexpected character '%c'", isprint(c) ? c : '?');
	}
	t->len = (size_t)(g->p - t->s);
	return 0;
}

static int tok_is(const struct tok *t, const char *word)
{
	return t->len == strlen(word) && strncasecmp(t->s, word, t->len) == 0;
}

/* How a token reads in a message. */
static const char *tok_what(const struct tok *t)
{
	switch (t->kind) {
	case TOK_EOF:
		return "the end of the file";
	case TOK_OPEN:
		return "'['";
	case TOK_CLOSE:
		return "']'";
	case TOK_STR:
		return "a string";
	case TOK_NUM:
		return "a number";
	case TOK_KEY:
		return "a key";
	}
	return "?";
}

static int tok_copy(const struct tok *t, char *buf, size_t size)
{
	if (t->len >= size)
		return -1;
	memcpy(buf, t->s, t->len);
	buf[t->len] = '\0';
	return 0;
}

static int tok_number(struct gml *g, const struct tok *t, const char *key, double *v)
{
	char buf[64], *end;
	if (t->kind == TOK_NUM && !tok_copy(t, buf, sizeof(buf))) {
		*v = strtod(buf, &end);
		if (end != buf && !*end && isfinite(*v))
			return 0;
	}
	return gml_err_set(g, t->line, "%s '%.*s' is not a number", key,
	                   (int)(t->len > 40 ? 40 : t->len), t->s);
}

static int tok_integer(struct gml *g, const struct tok *t, const char *key, long long *v)
{
	char buf[32], *end;
	if (t->kind == TOK_NUM && !tok_copy(t, buf, sizeof(buf))) {
		errno = 0;
		*v = strtoll(buf, &end, 10);
		if (end != buf && !*end && !errno)
			return 0;
	}
	return gml_err_set(g, t->line, "%s '%.*s' is not an integer", key,
	                   (int)(t->len > 40 ? 40 : t->len), t->s);
}

/* A delay such as "10 ms", "250us", "0.5 s" or a bare number of milliseconds
 * (Shadow's older graphs). */
static int tok_delay(struct gml *g, const struct tok *t, uint32_t *us)
{
	static const struct {
		const char *unit;
		double us;
	} units[] = {{"", 1e3}, {"ms", 1e3}, {"us", 1}, {"ns", 1e-3}, {"s", 1e6}};
	char buf[64], *num_end;
	if (!tok_copy(t, buf, sizeof(buf))) {
		double v = strtod(buf, &num_end);
		char *unit = num_end;
		while (isspace((unsigned char)*unit))
			unit++;
		size_t ulen = strlen(unit);
		while (ulen && isspace((unsigned char)unit[ulen - 1]))
			unit[--ulen] = '\0';
		for (size_t i = 0; num_end != buf && v >= 0 && i < ARRAY_LEN(units); i++) {
			double x = v * units[i].us;
			if (strcasecmp(unit, units[i].unit) == 0 && x <= UINT32_MAX) {
				*us = (uint32_t)llround(x);
				return 0;
			}
		}
	}
	return gml_err_set(g, t->line, "link delay '%.*s' is not a duration (such as \"10 ms\")",
	                   (int)(t->len > 40 ? 40 : t->len), t->s);
}

/* The next key and value of the list opened at open_line: 1, or 0 at its
 * closing ']' (left in key), or -1. */
static int next_pair(struct gml *g, unsigned open_line, struct tok *key, struct tok *val)
{
	if (lex(g, key))
		return -1;
	if (key->kind == TOK_CLOSE)
		return 0;
	if (key->kind == TOK_EOF)
		return gml_err_set(g, open_line, "'[' is never closed");
	if (key->kind != TOK_KEY)
		return gml_err_set(g, key->line, "expected a key, found %s", tok_what(key));
	if (lex(g, val))
		return -1;
	if (val->kind != TOK_NUM && val->kind != TOK_STR && val->kind != TOK_OPEN)
		return gml_err_set(g, key->line, "key '%.*s' has no value (found %s)",
		                   (int)key->len, key->s, tok_what(val));
	return 1;
}

static int skip_list(struct gml *g, unsigned open_line)
{
	struct tok t;
	for (unsigned depth = 1; depth;) {
		if (lex(g, &t))
			return -1;
		if (t.kind == TOK_EOF)
			return gml_err_set(g, open_line, "'[' is never closed");
		if (t.kind == TOK_OPEN)
			depth++;
		else if (t.kind == TOK_CLOSE)
			depth--;
	}
	return 0;
}

/* A nested list inside a node or an edge: skipped, unless it is a node or an
 * edge, which means the enclosing one lacks its ']'. */
static int item_sublist(struct gml *g, const struct tok *key, const char *what, unsigned open_line)
{
	if (tok_is(key, "node") || tok_is(key, "edge"))
		return gml_err_set(g, key->line,
		                   "'%.*s' inside the %s opened at line %u: is its ']' missing?",
		                   (int)key->len, key->s, what, open_line);
	return skip_list(g, key->line);
}

static int parse_node(struct gml *g, unsigned open_line)
{
	struct gml_node nd = {.line = open_line};
	struct tok key, val;
	int rc;
	while ((rc = next_pair(g, open_line, &key, &val)) > 0) {
		if (val.kind == TOK_OPEN) {
			rc = item_sublist(g, &key, "node", open_line);
		} else if (tok_is(&key, "id")) {
			nd.has_id = 1;
			rc = tok_integer(g, &val, "node id", &nd.id);
		} else if (tok_is(&key, "Latitude")) {
			nd.has_lat = 1;
			rc = tok_number(g, &val, "Latitude", &nd.lat);
		} else if (tok_is(&key, "Longitude")) {
			nd.has_lon = 1;
			rc = tok_number(g, &val, "Longitude", &nd.lon);
		} else if (tok_is(&key, "label")) {
			free(nd.label);
			nd.label = strndup(val.s, val.len);
			if (!nd.label)
				rc = gml_err_set(g, key.line, "reading a label: out of memory");
		}
		if (rc < 0)
			break;
	}
	if (rc == 0 && !nd.has_id)
		rc = gml_err_set(g, open_line, "node has no id");
	else if (rc == 0 && nd.has_lat != nd.has_lon)
		rc = gml_err_set(g, open_line, "node %lld has a %s but no %s", nd.id,
		                 nd.has_lat ? "Latitude" : "Longitude",
		                 nd.has_lat ? "Longitude" : "Latitude");
	else if (rc == 0 && nd.has_lat && !(fabs(nd.lat) <= 90 && fabs(nd.lon) <= 180))
		rc = gml_err_set(g, open_line,
		                 "node %lld has Latitude %g, Longitude %g out of range", nd.id,
		                 nd.lat, nd.lon);
	struct gml_node *nodes = rc == 0 ? grow(g->nodes, &g->ncap, g->nn, sizeof(*nodes)) : NULL;
	if (rc == 0 && !nodes)
		rc = gml_err_set(g, open_line, "reading a node: out of memory");
	if (rc < 0) {
		free(nd.label);
		return -1;
	}
	g->nodes = nodes;
	g->nodes[g->nn++] = nd;
	return 0;
}

static int parse_edge(struct gml *g, unsigned open_line)
{
	struct gml_edge e = {.line = open_line};
	struct tok key, val;
	int rc;
	while ((rc = next_pair(g, open_line, &key, &val)) > 0) {
		double bps;
		if (val.kind == TOK_OPEN) {
			rc = item_sublist(g, &key, "edge", open_line);
		} else if (tok_is(&key, "source")) {
			e.has_src = 1;
			rc = tok_integer(g, &val, "edge source", &e.src);
		} else if (tok_is(&key, "target")) {
			e.has_dst = 1;
			rc = tok_integer(g, &val, "edge target", &e.dst);
		} else if (tok_is(&key, "latency") || tok_is(&key, "delay")) {
			e.has_delay = 1;
			rc = tok_delay(g, &val, &e.delay_us);
		} else if (tok_is(&key, "LinkSpeedRaw")) {
			rc = tok_number(g, &val, "LinkSpeedRaw", &bps);
			if (rc == 0 && !(bps >= 0 && bps < 1e19))
				rc = gml_err_set(g, val.line,
				                 "LinkSpeedRaw %g is not a rate in bit/s", bps);
			if (rc == 0)
				e.bps = (uint64_t)bps;
		}
		if (rc < 0)
			break;
	}
	if (rc < 0)
		return -1;
	if (!e.has_src || !e.has_dst)
		return gml_err_set(g, open_line, "edge has no %s", e.has_src ? "target" : "source");
	struct gml_edge *edges = grow(g->edges, &g->ecap, g->ne, sizeof(*edges));
	if (!edges)
		return gml_err_set(g, open_line, "reading an edge: out of memory");
	g->edges = edges;
	g->edges[g->ne++] = e;
	return 0;
}

static int parse_graph(struct gml *g, unsigned open_line)
{
	struct tok key, val;
	int rc;
	while ((rc = next_pair(g, open_line, &key, &val)) > 0) {
		int item = tok_is(&key, "node") || tok_is(&key, "edge");
		if (item && val.kind != TOK_OPEN)
			rc = gml_err_set(g, key.line, "%.*s must be a list [ ... ]", (int)key.len,
			                 key.s);
		else if (tok_is(&key, "node"))
			rc = parse_node(g, key.line);
		else if (tok_is(&key, "edge"))
			rc = parse_edge(g, key.line);
		else if (val.kind == TOK_OPEN)
			rc = skip_list(g, key.line);
		else if (tok_is(&key, "directed") && !(val.len == 1 && val.s[0] == '0'))
			rc = gml_err_set(
			    g, key.line,
			    "directed graphs are not supported: link delays are symmetric");
		if (rc < 0)
			return -1;
	}
	if (rc == 0)
		g->graph_close_line = key.line;
	return rc;
}

static int parse_top(struct gml *g)
{
	struct tok key, val;
	for (;;) {
		if (lex(g, &key))
			return -1;
		if (key.kind == TOK_EOF)
			break;
		if (key.kind == TOK_CLOSE && g->graph_line)
			return gml_err_set(
			    g, g->graph_close_line,
			    "']' closes the graph opened at line %u, yet line %u has "
			    "another ']': one is extra",
			    g->graph_line, key.line);
		if (key.kind == TOK_CLOSE)
			return gml_err_set(g, key.line, "']' without a matching '['");
		if (key.kind != TOK_KEY)
			return gml_err_set(g, key.line, "expected a key, found %s", tok_what(&key));
		if (lex(g, &val))
			return -1;
		if (val.kind != TOK_NUM && val.kind != TOK_STR && val.kind != TOK_OPEN)
			return gml_err_set(g, key.line, "key '%.*s' has no value (found %s)",
			                   (int)key.len, key.s, tok_what(&val));
		int item = tok_is(&key, "node") || tok_is(&key, "edge");
		if (item && g->graph_line)
			return gml_err_set(
			    g, g->graph_close_line,
			    "']' closes the graph opened at line %u, yet a %.*s follows "
			    "at line %u: one ']' is extra",
			    g->graph_line, (int)key.len, key.s, key.line);
		if (item)
			return gml_err_set(g, key.line, "%.*s outside of graph [ ... ]",
			                   (int)key.len, key.s);
		if (tok_is(&key, "graph") && val.kind == TOK_OPEN && g->graph_line)
			return gml_err_set(g, key.line, "second graph (the first is at line %u)",
			                   g->graph_line);
		if (tok_is(&key, "graph") && val.kind == TOK_OPEN) {
			g->graph_line = key.line;
			if (parse_graph(g, key.line))
				return -1;
		} else if (val.kind == TOK_OPEN && skip_list(g, key.line)) {
			return -1;
		}
	}
	if (!g->graph_line)
		return err_set(g->err, g->errlen, "%s: no graph [ ... ] in the file", g->name);
	return 0;
}

struct id_index {
	long long id;
	uint32_t i;
};

static int cmp_id(const void *a, const void *b)
{
	const struct id_index *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int resolve(struct gml *g, const struct id_index *ids, long long id, const char *end,
                   const struct gml_edge *e, uint32_t *router)
{
	struct id_index key = {id, 0};
	size_t lo = 0, hi = g->nn;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ids[mid].id < key.id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == g->nn || ids[lo].id != id)
		return gml_err_set(g, e->line, "edge %s %lld is not the id of any node", end, id);
	*router = ids[lo].i;
	return 0;
}

static void to_vec(double lat, double lon, double v[3])
{
	double p = lat * DEG_TO_RAD, l = lon * DEG_TO_RAD;
	v[0] = cos(p) * cos(l);
	v[1] = cos(p) * sin(l);
	v[2] = sin(p);
}

/* Give nodes without coordinates the mean position of their placed
 * neighbours, a round at a time so that the result does not depend on the
 * order of the file (averaged as vectors, which is right across the
 * antimeridian). */
static int place_unplaced(struct gml *g, struct topo *t)
{
	uint32_t *round = malloc(sizeof(*round) * t->n);
	double(*sum)[3] = malloc(sizeof(*sum) * t->n);
	if (!round || !sum) {
		free(round);
		free(sum);
		return err_set(g->err, g->errlen, "%s: placing nodes: out of memory", g->name);
	}
	for (uint32_t r = 0; r < t->n; r++)
		round[r] = t->r[r].placed ? 0 : NONE;
	for (uint32_t k = 1;; k++) {
		memset(sum, 0, sizeof(*sum) * t->n);
		for (size_t i = 0; i < g->ne; i++) {
			const struct gml_edge *e = &g->edges[i];
			uint32_t ends[2][2] = {{e->a, e->b}, {e->b, e->a}};
			for (int s = 0; s < 2; s++) {
				uint32_t from = ends[s][0], to = ends[s][1];
				if (round[from] >= k || round[to] != NONE)
					continue;
				double v[3];
				to_vec(t->r[from].y, t->r[from].x, v);
				for (int c = 0; c < 3; c++)
					sum[to][c] += v[c];
			}
		}
		int changed = 0;
		for (uint32_t r = 0; r < t->n; r++) {
			double *v = sum[r];
			double norm = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
			if (round[r] != NONE || norm < 1e-9)
				continue;
			t->r[r].y = atan2(v[2], hypot(v[0], v[1])) / DEG_TO_RAD;
			t->r[r].x = atan2(v[1], v[0]) / DEG_TO_RAD;
			t->r[r].placed = 1;
			round[r] = k;
			changed = 1;
		}
		if (!changed)
			break;
	}
	free(round);
	free(sum);
	return 0;
}

static int gml_link(struct gml *g, const struct topo_gml_opts *o, struct topo *t,
                    const struct gml_edge *e)
{
	const struct router *ra = &t->r[e->a], *rb = &t->r[e->b];
	uint32_t d = o->default_delay_us;
	if (e->has_delay)
		d = e->delay_us;
	else if (ra->placed && rb->placed &&
	         delay_for_km(&o->delay, great_circle_km(ra->y, ra->x, rb->y, rb->x), &d))
		return gml_err_set(g, e->line, "link delay overflows 32 bits of microseconds");
	char msg[128];
	if (topo_add_link(t, e->a, e->b, d, e->bps, msg, sizeof(msg)))
		return gml_err_set(g, e->line, "%s", msg);
	return 0;
}

/* Labels have moved from the parsed nodes into the topology by now. */
static void node_name(const struct gml *g, const struct topo *t, uint32_t r, char *buf, size_t size)
{
	if (t->r[r].label)
		snprintf(buf, size, "node %lld (%s)", g->nodes[r].id, t->r[r].label);
	else
		snprintf(buf, size, "node %lld", g->nodes[r].id);
}

static int check_connected(struct gml *g, const struct topo *t)
{
	uint8_t *mark = calloc(t->n, 1);
	uint32_t *queue = malloc(sizeof(*queue) * t->n);
	int rc = 0;
	if (!mark || !queue) {
		rc =
		    err_set(g->err, g->errlen, "%s: checking connectivity: out of memory", g->name);
	} else if (reach(t, 0, mark, 1, queue) < t->n) {
		uint32_t r = 0;
		while (mark[r])
			r++;
		char a[96], b[96];
		node_name(g, t, r, a, sizeof(a));
		node_name(g, t, 0, b, sizeof(b));
		rc = gml_err_set(g, g->nodes[r].line,
		                 "%s cannot be reached from %s: the graph is disconnected", a, b);
	}
	free(mark);
	free(queue);
	return rc;
}

static int gml_build(struct gml *g, const struct topo_gml_opts *o, struct topo **out)
{
	if (g->nn == 0)
		return gml_err_set(g, g->graph_line, "the graph has no nodes");
	if (g->nn > TOPO_MAX_ROUTERS)
		return gml_err_set(g, g->graph_line, "%zu nodes is more than the %u supported",
		                   g->nn, TOPO_MAX_ROUTERS);
	struct id_index *ids = malloc(sizeof(*ids) * g->nn);
	struct topo *t = topo_new((uint32_t)g->nn);
	int rc = 0;
	if (!ids || !t)
		rc =
		    err_set(g->err, g->errlen, "%s: building the topology: out of memory", g->name);
	for (size_t i = 0; i < g->nn && !rc; i++)
		ids[i] = (struct id_index){g->nodes[i].id, (uint32_t)i};
	if (!rc)
		qsort(ids, g->nn, sizeof(*ids), cmp_id);
	for (size_t i = 1; i < g->nn && !rc; i++) {
		if (ids[i].id == ids[i - 1].id)
			rc = gml_err_set(g, g->nodes[ids[i].i].line,
			                 "duplicate node id %lld (also at line %u)", ids[i].id,
			                 g->nodes[ids[i - 1].i].line);
	}
	for (size_t i = 0; i < g->nn && !rc; i++) {
		struct gml_node *nd = &g->nodes[i];
		t->r[i].label = nd->label;
		nd->label = NULL;
		t->r[i].placed = nd->has_lat;
		t->r[i].x = nd->lon;
		t->r[i].y = nd->lat;
	}
	for (size_t i = 0; i < g->ne && !rc; i++) {
		struct gml_edge *e = &g->edges[i];
		rc = resolve(g, ids, e->src, "source", e, &e->a);
		if (!rc)
			rc = resolve(g, ids, e->dst, "target", e, &e->b);
	}
	/* Self-loops carry Shadow's delay within one node; no path uses them. */
	size_t kept = 0;
	for (size_t i = 0; i < g->ne && !rc; i++) {
		if (g->edges[i].a != g->edges[i].b)
			g->edges[kept++] = g->edges[i];
	}
	if (!rc)
		g->ne = kept;
	if (!rc && o->unplaced == TOPO_UNPLACED_NEIGHBOUR_MEAN)
		rc = place_unplaced(g, t);
	for (size_t i = 0; i < g->ne && !rc; i++)
		rc = gml_link(g, o, t, &g->edges[i]);
	if (!rc)
		rc = check_connected(g, t);
	free(ids);
	if (rc) {
		topo_free(t);
		return -1;
	}
	t->geo = 1;
	*out = t;
	return 0;
}

int topo_gml_parse(const char *text, size_t len, const char *name, const struct topo_gml_opts *o,
                   struct topo **out, char *err, size_t errlen)
{
	if (!(o->delay.km_per_s > 0))
		return err_set(err, errlen, "%s: propagation speed must be positive", name);
	if (o->unplaced != TOPO_UNPLACED_NEIGHBOUR_MEAN &&
	    o->unplaced != TOPO_UNPLACED_DEFAULT_DELAY)
		return err_set(err, errlen, "%s: unknown treatment %d of nodes without coordinates",
		               name, (int)o->unplaced);
	struct gml g = {
	    .p = text, .end = text + len, .name = name, .line = 1, .err = err, .errlen = errlen};
	int rc = parse_top(&g);
	if (!rc)
		rc = gml_build(&g, o, out);
	for (size_t i = 0; i < g.nn; i++)
		free(g.nodes[i].label);
	free(g.nodes);
	free(g.edges);
	return rc;
}

static int read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rbe");
	if (!f)
		return err_set(err, errlen, "opening %s: %s", path, strerror(errno));
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	while (buf && !feof(f) && !ferror(f)) {
		if (n == cap) {
			char *nb = cap < SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n += fread(buf + n, 1, cap - n, f);
	}
	int bad = ferror(f), e = errno;
	fclose(f);
	if (!buf || bad) {
		free(buf);
		return err_set(err, errlen, "reading %s: %s", path,
		               buf ? strerror(e) : "out of memory");
	}
	*text = buf;
	*len = n;
	return 0;
}

int topo_gml_load(const char *path, const struct topo_gml_opts *o, struct topo **out, char *err,
                  size_t errlen)
{
	char *text;
	size_t len;
	if (read_file(path, &text, &len, err, errlen))
		return -1;
	int rc = topo_gml_parse(text, len, path, o, out, err, errlen);
	free(text);
	return rc;
}

static int close_written(FILE *f, const char *path, char *err, size_t errlen)
{
	int bad = ferror(f);
	if (fclose(f) || bad)
		return err_set(err, errlen, "writing %s: %s", path, strerror(errno ? errno : EIO));
	return 0;
}

int topo_gml_write(const struct topo *t, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return err_set(err, errlen, "creating %s: %s", path, strerror(errno));
	errno = 0;
	fprintf(f, "# AnySee topology: %u routers, %zu links, %u hosts; delays in microseconds.\n",
	        t->n, t->nlinks, t->nhosts);
	fprintf(f, "graph [\n  directed 0\n");
	for (uint32_t i = 0; i < t->n; i++) {
		const struct router *r = &t->r[i];
		fprintf(f, "  node [\n    id %u\n", i);
		if (r->label)
			fprintf(f, "    label \"%s\"\n", r->label);
		if (r->placed && t->geo)
			fprintf(f, "    Latitude %.6f\n    Longitude %.6f\n", r->y, r->x);
		else if (r->placed)
			fprintf(f, "    x %.3f\n    y %.3f\n", r->x, r->y);
		fprintf(f, "  ]\n");
	}
	for (size_t i = 0; i < t->nlinks; i++) {
		const struct topo_link *l = &t->links[i];
		fprintf(f, "  edge [\n    source %u\n    target %u\n    latency \"%u us\"\n", l->a,
		        l->b, l->delay_us);
		if (l->bps)
			fprintf(f, "    LinkSpeedRaw %llu\n", (unsigned long long)l->bps);
		fprintf(f, "  ]\n");
	}
	for (uint32_t i = 0; i < t->nhosts; i++)
		fprintf(f, "  host [\n    id %u\n    router %u\n    access \"%u us\"\n  ]\n", i,
		        t->hosts[i].router, t->hosts[i].access_us);
	fprintf(f, "]\n");
	return close_written(f, path, err, errlen);
}

/* --- hosts ------------------------------------------------------------------ */

int topo_host_add(struct topo *t, uint32_t router, uint32_t access_us, uint32_t *host, char *err,
                  size_t errlen)
{
	if (router >= t->n)
		return err_set(err, errlen,
		               "attaching a host to router %u: the topology has %u routers", router,
		               t->n);
	struct host *hosts = NULL;
	if (t->nhosts < UINT32_MAX)
		hosts = grow(t->hosts, &t->hcap, t->nhosts, sizeof(*hosts));
	if (!hosts)
		return err_set(err, errlen, "attaching a host to router %u: out of memory", router);
	t->hosts = hosts;
	t->hosts[t->nhosts] = (struct host){router, access_us};
	if (host)
		*host = t->nhosts;
	t->nhosts++;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

int topo_hosts_attach(struct topo *t, uint32_t nhosts, enum topo_attach how, uint32_t access_us,
                      uint64_t seed, char *err, size_t errlen)
{
	if (how != TOPO_ATTACH_UNIFORM && how != TOPO_ATTACH_STUB)
		return err_set(err, errlen, "attaching hosts: unknown placement %d", (int)how);
	uint32_t *cand = malloc(sizeof(*cand) * t->n);
	if (!cand)
		return err_set(err, errlen, "attaching hosts: out of memory");
	uint32_t ncand = 0;
	if (how == TOPO_ATTACH_STUB) {
		for (uint32_t i = 0; i < t->n; i++)
			cand[i] = t->r[i].deg;
		qsort(cand, t->n, sizeof(*cand), cmp_u32);
		uint32_t median = cand[(t->n - 1) / 2];
		for (uint32_t i = 0; i < t->n; i++) {
			if (t->r[i].deg <= median)
				cand[ncand++] = i;
		}
	} else {
		for (uint32_t i = 0; i < t->n; i++)
			cand[ncand++] = i;
	}
	struct rng rng;
	rng_seed(&rng, seed);
	int rc = 0;
	for (uint32_t h = 0; h < nhosts && !rc; h++)
		rc = topo_host_add(t, cand[rng_below(&rng, ncand)], access_us, NULL, err, errlen);
	free(cand);
	return rc;
}

uint32_t topo_nhosts(const struct topo *t)
{
	return t->nhosts;
}

uint32_t topo_host_router(const struct topo *t, uint32_t host)
{
	return host < t->nhosts ? t->hosts[host].router : NONE;
}

uint32_t topo_host_access(const struct topo *t, uint32_t host)
{
	return host < t->nhosts ? t->hosts[host].access_us : 0;
}

/* --- shortest paths ----------------------------------------------------------- */

/* Binary min-heap of routers keyed by distance, with each router's slot in
 * pos (NONE when not queued) so that a shorter distance moves it up in place.
 * Keys live in the entries: sifting then reads one array, not two. */
struct heap_entry {
	uint64_t key;
	uint32_t router;
};

struct heap {
	struct heap_entry *e;
	uint32_t *pos;
	uint32_t len;
};

static void heap_set(struct heap *h, uint32_t i, struct heap_entry x)
{
	h->e[i] = x;
	h->pos[x.router] = i;
}

static void heap_up(struct heap *h, uint32_t i)
{
	struct heap_entry x = h->e[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (h->e[parent].key <= x.key)
			break;
		heap_set(h, i, h->e[parent]);
		i = parent;
	}
	heap_set(h, i, x);
}

static uint32_t heap_pop(struct heap *h)
{
	uint32_t top = h->e[0].router, i = 0;
	struct heap_entry x = h->e[--h->len];
	h->pos[top] = NONE;
	if (h->len == 0)
		return top;
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= h->len)
			break;
		if (c + 1 < h->len && h->e[c + 1].key < h->e[c].key)
			c++;
		if (h->e[c].key >= x.key)
			break;
		heap_set(h, i, h->e[c]);
		i = c;
	}
	heap_set(h, i, x);
	return top;
}

/* Stops early once ntargets routers with target[r] set are settled (0: never),
 * leaving the other distances possibly too large. */
static void dijkstra(const struct topo *t, uint32_t src, uint64_t *dist, uint32_t *prev,
                     struct heap *h, const uint8_t *target, uint32_t ntargets)
{
	for (uint32_t r = 0; r < t->n; r++) {
		dist[r] = TOPO_UNREACHABLE;
		h->pos[r] = NONE;
		if (prev)
			prev[r] = NONE;
	}
	h->len = 0;
	dist[src] = 0;
	if (prev)
		prev[src] = src;
	heap_set(h, h->len++, (struct heap_entry){0, src});
	while (h->len) {
		uint32_t u = heap_pop(h);
		if (target && target[u] && --ntargets == 0)
			return;
		const struct router *r = &t->r[u];
		for (uint32_t i = 0; i < r->deg; i++) {
			uint32_t v = r->adj[i].to;
			uint64_t nd = dist[u] + r->adj[i].delay_us;
			if (nd >= dist[v])
				continue;
			dist[v] = nd;
			if (prev)
				prev[v] = u;
			if (h->pos[v] == NONE)
				heap_set(h, h->len++, (struct heap_entry){nd, v});
			h->e[h->pos[v]].key = nd;
			heap_up(h, h->pos[v]);
		}
	}
}

static int heap_init(struct heap *h, uint32_t n)
{
	h->e = malloc(sizeof(*h->e) * n);
	h->pos = malloc(sizeof(*h->pos) * n);
	if (h->e && h->pos)
		return 0;
	free(h->e);
	free(h->pos);
	h->e = NULL;
	h->pos = NULL;
	return -1;
}

static void heap_release(struct heap *h)
{
	free(h->e);
	free(h->pos);
}

int topo_shortest(const struct topo *t, uint32_t src, uint64_t *dist, uint32_t *prev)
{
	struct heap h;
	if (src >= t->n || heap_init(&h, t->n))
		return -1;
	dijkstra(t, src, dist, prev, &h, NULL, 0);
	heap_release(&h);
	return 0;
}

int topo_host_delays(const struct topo *t, uint32_t *out, char *err, size_t errlen)
{
	uint32_t nh = t->nhosts;
	if (nh == 0)
		return 0;
	/* Hosts grouped by router, so each distinct router runs Dijkstra once. */
	uint8_t *target = calloc(t->n, 1);
	uint32_t *group = malloc(sizeof(*group) * t->n);
	uint32_t *start = calloc((size_t)nh + 1, sizeof(*start));
	uint32_t *order = malloc(sizeof(*order) * nh);
	uint64_t *dist = malloc(sizeof(*dist) * t->n);
	struct heap h = {0};
	int rc = 0;
	if (!target || !group || !start || !order || !dist || heap_init(&h, t->n))
		rc = err_set(err, errlen, "computing host delays: out of memory");
	uint32_t ngroups = 0;
	for (uint32_t a = 0; a < nh && !rc; a++) {
		uint32_t r = t->hosts[a].router;
		if (!target[r]) {
			target[r] = 1;
			group[r] = ngroups++;
		}
		start[group[r] + 1]++;
	}
	for (uint32_t k = 0; k < ngroups && !rc; k++)
		start[k + 1] += start[k];
	for (uint32_t a = 0; a < nh && !rc; a++)
		order[start[group[t->hosts[a].router]]++] = a;
	/* The fill above advanced every start to the next group's start. */
	for (uint32_t k = ngroups; k > 0 && !rc; k--)
		start[k] = start[k - 1];
	if (!rc)
		start[0] = 0;

	for (uint32_t k = 0; k < ngroups && !rc; k++) {
		uint32_t src = t->hosts[order[start[k]]].router;
		dijkstra(t, src, dist, NULL, &h, target, ngroups);
		for (uint32_t i = start[k]; i < start[k + 1] && !rc; i++) {
			uint32_t a = order[i];
			uint32_t *row = out + (size_t)a * nh;
			for (uint32_t b = 0; b < nh && !rc; b++) {
				uint64_t d = dist[t->hosts[b].router];
				uint64_t total = d + t->hosts[a].access_us + t->hosts[b].access_us;
				if (d == TOPO_UNREACHABLE)
					rc = err_set(
					    err, errlen,
					    "host %u (router %u) cannot reach host %u (router "
					    "%u): the topology is disconnected",
					    a, src, b, t->hosts[b].router);
				else if (total > UINT32_MAX)
					rc = err_set(
					    err, errlen,
					    "delay from host %u to host %u overflows 32 bits of "
					    "microseconds",
					    a, b);
				else
					row[b] = a == b ? 0 : (uint32_t)total;
			}
		}
	}
	free(target);
	free(group);
	free(start);
	free(order);
	free(dist);
	heap_release(&h);
	return rc;
}

/* --- explicit matrices ---------------------------------------------------------- */

/* One delay in milliseconds, as microseconds. */
static int parse_ms(const char *tok, size_t len, uint32_t *us)
{
	char buf[64], *end;
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, tok, len);
	buf[len] = '\0';
	double ms = strtod(buf, &end);
	if (end == buf || *end || !(ms >= 0 && ms * 1e3 <= UINT32_MAX))
		return -1;
	*us = (uint32_t)llround(ms * 1e3);
	return 0;
}

/* Append the delays on one line (up to a '#') to *m; *vals gets their count. */
static int matrix_row(const char *p, const char *eol, const char *name, unsigned line, uint32_t **m,
                      size_t *count, size_t *cap, uint32_t *vals, char *err, size_t errlen)
{
	*vals = 0;
	while (p < eol && *p != '#') {
		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		const char *tok = p;
		while (p < eol && *p != '#' && !isspace((unsigned char)*p))
			p++;
		size_t tlen = (size_t)(p - tok);
		uint32_t us;
		if (parse_ms(tok, tlen, &us))
			return err_set(
			    err, errlen,
			    "%s:%u: '%.*s' is not a delay in milliseconds (a number from 0 "
			    "to %u)",
			    name, line, (int)(tlen > 40 ? 40 : tlen), tok, UINT32_MAX / 1000);
		uint32_t *nm = grow(*m, cap, *count, sizeof(*nm));
		if (!nm)
			return err_set(err, errlen, "%s:%u: out of memory", name, line);
		*m = nm;
		nm[(*count)++] = us;
		++*vals;
	}
	return 0;
}

int topo_matrix_parse(const char *text, size_t len, const char *name, uint32_t **out, uint32_t *n,
                      char *err, size_t errlen)
{
	uint32_t *m = NULL;
	size_t count = 0, cap = 0;
	uint32_t cols = 0, rows = 0, vals;
	unsigned line = 1, first_line = 0, last_line = 0;
	const char *p = text, *end = text + len;
	int rc = 0;
	for (; p < end && !rc; line++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		rc = matrix_row(p, eol, name, line, &m, &count, &cap, &vals, err, errlen);
		p = eol < end ? eol + 1 : end;
		if (rc || !vals)
			continue;
		if (!rows) {
			cols = vals;
			first_line = line;
		} else if (vals != cols) {
			rc = err_set(err, errlen,
			             "%s:%u: row has %u values, the first (line %u) has %u", name,
			             line, vals, first_line, cols);
		}
		if (!rc && ++rows > cols)
			rc = err_set(
			    err, errlen,
			    "%s:%u: row %u is one too many: the matrix has %u columns and must "
			    "be square",
			    name, line, rows, cols);
		last_line = line;
	}
	if (!rc && rows == 0)
		rc = err_set(err, errlen, "%s: no delays in the file", name);
	else if (!rc && rows < cols)
		rc =
		    err_set(err, errlen, "%s:%u: %u rows for %u columns: the matrix must be square",
		            name, last_line, rows, cols);
	if (rc) {
		free(m);
		return -1;
	}
	*out = m;
	*n = cols;
	return 0;
}

int topo_matrix_load(const char *path, uint32_t **out, uint32_t *n, char *err, size_t errlen)
{
	char *text;
	size_t len;
	if (read_file(path, &text, &len, err, errlen))
		return -1;
	int rc = topo_matrix_parse(text, len, path, out, n, err, errlen);
	free(text);
	return rc;
}

int topo_matrix_write(const char *path, const uint32_t *m, uint32_t n, char *err, size_t errlen)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return err_set(err, errlen, "creating %s: %s", path, strerror(errno));
	errno = 0;
	fprintf(f, "# one-way delay in milliseconds, row = sender, %u hosts\n", n);
	for (uint32_t a = 0; a < n; a++) {
		for (uint32_t b = 0; b < n; b++) {
			uint32_t us = m[(size_t)a * n + b];
			fprintf(f, "%s%u.%03u", b ? " " : "", us / 1000, us % 1000);
		}
		fputc('\n', f);
	}
	return close_written(f, path, err, errlen);
}
