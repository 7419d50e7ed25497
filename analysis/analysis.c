#include "analysis/analysis.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/rundir.h"
#include "lib/util.h"
#include "peer/log.h"

/* One run of the peer process: a peer that leaves and rejoins has several. */
struct session {
	uint64_t start_us, play_us; /* real-time clock of its start and playback */
	uint64_t last_us;           /* its last event */
	uint32_t start_seq;
	uint32_t id; /* the process's own id */
	uint64_t due, on_time;
	uint64_t tick_due, tick_on;
	int played, closed;
};

#define MAX_SESSIONS 64

struct sessions {
	struct session s[MAX_SESSIONS];
	int n;
};

/* The second of the run that ts falls in, or NULL (before the run, or out
 * of memory). A week bounds the array against a wild timestamp. */
static struct timeline_sec *tl_at(struct timeline *tl, uint64_t ts)
{
	if (ts < tl->t0_us || ts - tl->t0_us > 7 * 86400 * 1000000ull)
		return NULL;
	size_t i = (size_t)((ts - tl->t0_us) / 1000000u);
	if (i >= tl->n) {
		size_t n = i + 64;
		struct timeline_sec *ns = realloc(tl->s, n * sizeof(*ns));
		if (!ns)
			return NULL;
		memset(ns + tl->n, 0, (n - tl->n) * sizeof(*ns));
		tl->s = ns;
		tl->n = n;
	}
	return &tl->s[i];
}

static void close_session(struct session *s, struct timeline *tl)
{
	/* Playing from its playback start to its last event, whole seconds. */
	for (uint64_t t = s->play_us; s->played && t <= s->last_us; t += 1000000u) {
		struct timeline_sec *sec = tl_at(tl, t);
		if (sec)
			sec->playing++;
	}
	/* A crashed process never wrote its totals: its per-second ticks stand in. */
	if (!s->closed) {
		s->due = s->tick_due;
		s->on_time = s->tick_on;
		struct timeline_sec *sec = tl_at(tl, s->last_us);
		if (sec && s->last_us < tl->stop_us)
			sec->crashes++;
	}
}

/* One second of upload: capacity and what was sent, by how. */
static int fold_util(const struct evlog_line *e, struct peer_metrics *p)
{
	uint64_t up, pull, push, relay;
	if (evlog_get_u64(e, LOGK_UPLOAD_BPS, &up) || evlog_get_u64(e, LOGK_PULL_BYTES, &pull) ||
	    evlog_get_u64(e, LOGK_PUSH_BYTES, &push) || evlog_get_u64(e, LOGK_RELAY_BYTES, &relay))
		return -1;
	p->up_capacity += (double)up;
	p->up_seconds += 1;
	uint64_t children, used;
	if (!evlog_get_u64(e, LOGK_CHILDREN, &children) &&
	    !evlog_get_u64(e, LOGK_KEYNODE_USED, &used) && children != used)
		p->keynode_mismatch_s++;
	p->up_pull += 8.0 * (double)pull;
	p->up_push += 8.0 * (double)push;
	p->up_relay += 8.0 * (double)relay;
	return 0;
}

/* How much of [from_us, to_us] the machine spent paused, in us: the
 * pauses' union (both CPUs often stop at once) cut to the interval. */
static double pause_overlap(const struct pause_list *pl, uint64_t from_us, uint64_t to_us)
{
	uint64_t covered = 0, done = from_us; /* counted up to done */
	for (size_t i = 0; i < pl->n; i++) {
		const struct rundir_pause *p = &pl->p[i];
		uint64_t start = rundir_pause_start_us(p);
		if (start >= to_us)
			break; /* ordered by start: none later can overlap */
		uint64_t a = start > done ? start : done, b = p->end_us < to_us ? p->end_us : to_us;
		if (b > a) {
			covered += b - a;
			done = b;
		}
	}
	return (double)covered;
}

/* One stall of an event loop that ran a timer late_us late at end_us. */
static void count_stall(struct stalls *s, const struct pause_list *pl, uint64_t end_us,
                        uint64_t late_us)
{
	double pause = pause_overlap(pl, end_us > late_us ? end_us - late_us : 0, end_us);
	s->n++;
	s->paused += pause > 0;
	if ((double)late_us > s->max_us) {
		s->max_us = (double)late_us;
		s->max_pause_us = pause;
	}
}

/* Folds one event line into the peer's metrics and its current session.
 * Returns 0, or -1 when an event the analysis needs lacks a key. */
static int fold_event(const struct evlog_line *e, struct peer_metrics *p, struct session *cur,
                      struct timeline *tl, const struct pause_list *pl)
{
	uint64_t a, b;
	struct timeline_sec *sec = tl_at(tl, e->ts_us);
	cur->last_us = e->ts_us;
	if (!strcmp(e->event, LOGEV_PLAY_START)) {
		if (evlog_get_u64(e, LOGK_STARTUP_US, &a) || evlog_get_u64(e, LOGK_SEQ, &b))
			return -1;
		/* Startup delay and lag are those of the first join. */
		if (!p->started) {
			p->startup_s = (double)a / 1e6;
			uint64_t lag;
			if (!evlog_get_u64(e, LOGK_LAG_US, &lag))
				p->lag_s = (double)lag / 1e6;
		}
		p->started = 1;
		cur->played = 1;
		cur->play_us = e->ts_us;
		cur->start_seq = (uint32_t)b;
	} else if (!strcmp(e->event, LOGEV_MESH)) {
		if (evlog_get_u64(e, LOGK_MEAN_DELAY_US, &a))
			return -1;
		double d = (double)a / 1000.0;
		if (d > 0 && !p->mesh_first_ms)
			p->mesh_first_ms = d;
		if (d > 0)
			p->mesh_last_ms = d;
	} else if (!strcmp(e->event, LOGEV_TICK)) {
		if (evlog_get_u64(e, LOGK_DUE, &a) || evlog_get_u64(e, LOGK_ON_TIME, &b))
			return -1;
		cur->tick_due += a;
		cur->tick_on += b;
		if (sec) {
			sec->due += a;
			sec->on_time += b;
		}
	} else if (!strcmp(e->event, LOGEV_PATH_UP)) {
		if (evlog_get_u64(e, LOGK_HOPS, &a))
			return -1;
		p->push_paths++;
		p->push_hops_sum += (int)a;
		if ((int)a > p->push_hops_max)
			p->push_hops_max = (int)a;
	} else if (!strcmp(e->event, LOGEV_UTIL)) {
		return fold_util(e, p);
	} else if (!strcmp(e->event, LOGEV_PROBES)) {
		uint64_t c, d;
		if (evlog_get_u64(e, LOGK_FORWARDED, &a) ||
		    evlog_get_u64(e, LOGK_FORWARDED_BYTES, &b) ||
		    evlog_get_u64(e, LOGK_OVER_BUDGET, &c) || evlog_get_u64(e, LOGK_REFUSED, &d))
			return -1;
		p->probes.forwarded += a;
		p->probes.forwarded_bytes += b;
		p->probes.over_budget += c;
		p->probes.refused += d;
		/* Logs from before the per-sender half have no over_share. */
		if (!evlog_get_u64(e, LOGK_OVER_SHARE, &c))
			p->probes.over_share += c;
	} else if (!strcmp(e->event, LOGEV_STALL)) {
		if (evlog_get_u64(e, LOGK_LATE_US, &a))
			return -1;
		count_stall(&p->stalls, pl, e->ts_us, a);
	} else if (!strcmp(e->event, LOGEV_LEAVE)) {
		if (evlog_get_u64(e, LOGK_DUE, &a) || evlog_get_u64(e, LOGK_ON_TIME, &b))
			return -1;
		cur->due = a;
		cur->on_time = b;
		cur->closed = 1;
		/* Logs before the count have the corrupt records instead. */
		if (!evlog_get_u64(e, LOGK_CORRUPT, &a))
			p->corrupt += a;
		if (sec && e->ts_us < tl->stop_us)
			sec->leaves++;
	}
	return 0;
}

static struct session *new_session(struct sessions *ss, struct peer_metrics *p,
                                   const struct evlog_line *e, struct timeline *tl,
                                   struct path_log *pl, uint32_t peer)
{
	uint64_t id = 0;
	evlog_get_u64(e, LOGK_ID, &id);
	paths_add(pl, e->ts_us, peer, (uint32_t)id, PE_START);
	if (evlog_get_str(e, LOGK_MODE, p->mode, sizeof(p->mode)))
		p->bad_lines++;
	struct timeline_sec *sec = tl_at(tl, e->ts_us);
	if (sec)
		sec->joins++;
	if (ss->n)
		close_session(&ss->s[ss->n - 1], tl);
	if (ss->n == MAX_SESSIONS)
		return NULL;
	struct session *cur = &ss->s[ss->n++];
	memset(cur, 0, sizeof(*cur));
	cur->start_us = cur->last_us = e->ts_us;
	cur->id = (uint32_t)id;
	return cur;
}

static int load_events(const char *hdir, struct peer_metrics *p, struct sessions *ss,
                       struct timeline *tl, struct path_log *pl, const struct pause_list *pauses,
                       uint32_t peer, char *err, size_t errlen)
{
	char path[1200];
	if (rundir_path(path, sizeof(path), hdir, EVLOG_FILE))
		return err_set(err, errlen, "%s/%s: path too long", hdir, EVLOG_FILE);
	FILE *f = rundir_fopen(path, "r");
	if (!f)
		return err_set(err, errlen, "%s: %s", EVLOG_FILE, strerror(errno));
	char line[1024];
	struct session *cur = NULL;
	while (fgets(line, sizeof(line), f)) {
		struct evlog_line e;
		if (evlog_parse(line, &e))
			p->bad_lines++;
		else if (!strcmp(e.event, LOGEV_START))
			cur = new_session(ss, p, &e, tl, pl, peer);
		else if (cur && fold_event(&e, p, cur, tl, pauses))
			p->bad_lines++;
		else if (cur)
			paths_fold(pl, peer, &e);
	}
	fclose(f);
	if (ss->n)
		close_session(&ss->s[ss->n - 1], tl);
	for (int i = 0; i < ss->n; i++) {
		const struct session *s = &ss->s[i];
		p->due += s->due;
		p->on_time += s->on_time;
		/* Ended by the harness stopping the run: neither a leave nor a crash. */
		if (s->last_us >= tl->stop_us)
			continue;
		paths_add(pl, s->last_us, peer, s->id, s->closed ? PE_END : PE_CRASH);
		p->leaves += s->closed;
		p->crashes += !s->closed;
	}
	p->joins = ss->n;
	/* Started by the harness (its log exists) but killed before it wrote
	 * a line: one session that crashed. */
	if (!ss->n && !p->bad_lines) {
		p->joins = 1;
		p->crashes = 1;
	}
	p->continuity = p->due ? (double)p->on_time / (double)p->due : 0;
	return 0;
}

static int due_in_session(const struct sessions *ss, uint32_t seq)
{
	for (int i = 0; i < ss->n; i++) {
		const struct session *s = &ss->s[i];
		if (s->played && seq >= s->start_seq && seq - s->start_seq < s->due)
			return 1;
	}
	return 0;
}

/* A segment is steady-state when it was made after playback of the
 * session it arrived in began. */
static int is_steady(const struct sessions *ss, uint64_t arrival_us, uint64_t origin_us)
{
	const struct session *in = NULL;
	for (int i = 0; i < ss->n && ss->s[i].start_us <= arrival_us; i++)
		in = &ss->s[i];
	return in && in->played && origin_us >= in->play_us;
}

/* What one peer's segments add to its groups. */
struct seg_sink {
	struct metrics_group *g[3];
	int ng;
	double path_us; /* shortest-path delay from the stream's source; 0 unknown */
	struct samples steady, backlog, stretch;
	uint64_t hops_sum;
};

static void sink_segment(struct seg_sink *k, const struct seglog_rec *r, int steady)
{
	for (int i = 0; i < k->ng; i++) {
		struct metrics_group *g = k->g[i];
		g->hops_sum += r->hops;
		g->hops_n++;
		if (r->hops > g->hops_max)
			g->hops_max = r->hops;
		hist_add(steady ? &g->delay : &g->backlog, r->delay_us);
		if (steady && k->path_us > 0)
			hist_add(&g->stretch, (uint64_t)(1000.0 * r->delay_us / k->path_us + 0.5));
	}
	k->hops_sum += r->hops;
	samples_push(steady ? &k->steady : &k->backlog, r->delay_us);
	if (steady && k->path_us > 0)
		samples_push(&k->stretch, r->delay_us / k->path_us);
}

static void sink_finish(struct seg_sink *k, struct peer_metrics *p)
{
	sort_doubles(k->steady.v, k->steady.n);
	sort_doubles(k->backlog.v, k->backlog.n);
	sort_doubles(k->stretch.v, k->stretch.n);
	p->steady = k->steady.n;
	p->backlog = k->backlog.n;
	p->delay_med_ms = quantile_sorted(k->steady.v, k->steady.n, 0.5) / 1000.0;
	p->delay_p95_ms = quantile_sorted(k->steady.v, k->steady.n, 0.95) / 1000.0;
	p->delay_max_ms = quantile_sorted(k->steady.v, k->steady.n, 1) / 1000.0;
	p->backlog_med_ms = quantile_sorted(k->backlog.v, k->backlog.n, 0.5) / 1000.0;
	p->stretch_med = quantile_sorted(k->stretch.v, k->stretch.n, 0.5);
	p->stretch_p95 = quantile_sorted(k->stretch.v, k->stretch.n, 0.95);
	p->mean_hops = p->stored ? (double)k->hops_sum / (double)p->stored : 0;
	free(k->steady.v);
	free(k->backlog.v);
	free(k->stretch.v);
}

static int load_segments(const char *hdir, struct peer_metrics *p, const struct sessions *ss,
                         struct seg_sink *k, char *err, size_t errlen)
{
	char path[1200];
	if (rundir_path(path, sizeof(path), hdir, SEGLOG_FILE))
		return err_set(err, errlen, "%s/%s: path too long", hdir, SEGLOG_FILE);
	FILE *f = rundir_fopen(path, "rb");
	if (!f)
		return err_set(err, errlen, "%s: %s", SEGLOG_FILE, strerror(errno));
	uint8_t hdr[SEGLOG_HDR_LEN], r[SEGLOG_REC_LEN];
	uint64_t epoch;
	if (fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr) || seglog_hdr_decode(hdr, &epoch)) {
		fclose(f);
		return err_set(err, errlen, "%s: not a segment log (bad header)", SEGLOG_FILE);
	}
	size_t got;
	while ((got = fread(r, 1, sizeof(r), f)) == sizeof(r)) {
		struct seglog_rec rec;
		seglog_rec_decode(r, &rec);
		if (!(rec.flags & SEG_CHECKSUM_OK))
			p->corrupt++;
		if (!(rec.flags & SEG_STORED))
			continue;
		p->stored++;
		if (rec.hops > p->max_hops)
			p->max_hops = rec.hops;
		if ((rec.flags & SEG_CONTENT_OK) && due_in_session(ss, rec.seq))
			p->verified_due++;
		uint64_t arrival = epoch + (uint64_t)rec.t_ms * 1000u;
		sink_segment(k, &rec, is_steady(ss, arrival, arrival - rec.delay_us));
	}
	int cut = got > 0 || ferror(f);
	fclose(f);
	p->verified_fraction = p->due ? (double)p->verified_due / (double)p->due : 0;
	if (cut)
		return err_set(err, errlen, "%s: truncated or unreadable after %llu records",
		               SEGLOG_FILE, (unsigned long long)p->stored);
	return 0;
}

/* The index of a group, added when new; -1 when out of memory. Adding may
 * move the array: take pointers into it only after the last call. */
static int group(struct run_metrics *m, const char *kind, const char *name)
{
	for (int i = 0; i < m->ngroups; i++)
		if (!strcmp(m->g[i].kind, kind) && !strcmp(m->g[i].name, name))
			return i;
	struct metrics_group *ng = realloc(m->g, (size_t)(m->ngroups + 1) * sizeof(*ng));
	if (!ng)
		return -1;
	m->g = ng;
	struct metrics_group *g = &m->g[m->ngroups];
	memset(g, 0, sizeof(*g));
	snprintf(g->kind, sizeof(g->kind), "%s", kind);
	snprintf(g->name, sizeof(g->name), "%s", name);
	return m->ngroups++;
}

/* The run's delays.txt as a row-major matrix in microseconds, or NULL. */
static double *load_delays(const char *dir, int n)
{
	char path[1200];
	if (rundir_path(path, sizeof(path), dir, RUNDIR_DELAYS))
		return NULL;
	FILE *f = rundir_fopen(path, "r");
	if (!f)
		return NULL;
	double *d = malloc((size_t)n * (size_t)n * sizeof(*d));
	int c;
	while (d && (c = fgetc(f)) == '#')
		while ((c = fgetc(f)) != EOF && c != '\n')
			;
	if (d && c != EOF)
		ungetc(c, f);
	for (long i = 0; d && i < (long)n * n; i++) {
		if (fscanf(f, "%lf", &d[i]) != 1) {
			free(d);
			d = NULL;
		} else {
			d[i] *= 1000.0;
		}
	}
	fclose(f);
	return d;
}

/* The smallest delay between two distinct hosts of an n x n matrix, or -1
 * without one. */
static double min_path_us(const double *delays, int n)
{
	double min = -1;
	for (int i = 0; delays && i < n; i++)
		for (int j = 0; j < n; j++)
			if (i != j && (min < 0 || delays[(size_t)i * (size_t)n + (size_t)j] < min))
				min = delays[(size_t)i * (size_t)n + (size_t)j];
	return min;
}

static double source_path_us(const struct rundir_host *h, int nh, const double *delays, int peer)
{
	if (!delays)
		return 0;
	for (int i = 0; i < nh; i++)
		if (!strcmp(h[i].role, "source") && !strcmp(h[i].stream, h[peer].stream))
			return delays[(size_t)i * (size_t)nh + (size_t)peer];
	return 0;
}

static void load_peer(struct run_metrics *m, const struct rundir_host *h, int nh,
                      const double *delays, int host)
{
	struct peer_metrics *p = &m->p[m->npeers++];
	snprintf(p->name, sizeof(p->name), "%s", h[host].name);
	snprintf(p->stream, sizeof(p->stream), "%s", h[host].stream);
	p->host = host;
	char hdir[1200], e[256];
	struct sessions *ss = calloc(1, sizeof(*ss));
	if (!ss || rundir_host_path(hdir, sizeof(hdir), m->dir, h[host].name, NULL)) {
		snprintf(p->missing, sizeof(p->missing), "out of memory or path too long");
		free(ss);
		return;
	}
	/* A peer that never ran (scheduled after an interrupt) has no logs. */
	if (load_events(hdir, p, ss, &m->tl, &m->paths, &m->pauses, (uint32_t)(m->npeers - 1), e,
	                sizeof(e))) {
		snprintf(p->missing, sizeof(p->missing), "%s", e);
		free(ss);
		return;
	}
	struct seg_sink k = {.path_us = source_path_us(h, nh, delays, host)};
	const char *names[3][2] = {{"all", ""}, {"mode", p->mode}, {"stream", p->stream}};
	int gi[3];
	for (int i = 0; i < 3; i++)
		gi[i] = *names[i][1] || i == 0 ? group(m, names[i][0], names[i][1]) : -1;
	for (int i = 0; i < 3; i++)
		if (gi[i] >= 0)
			k.g[k.ng++] = &m->g[gi[i]];
	if (load_segments(hdir, p, ss, &k, e, sizeof(e)))
		snprintf(p->missing, sizeof(p->missing), "%s", e);
	sink_finish(&k, p);
	free(ss);
}

/* When the harness stopped the run, or UINT64_MAX for a run directory
 * that does not say (every leave then counts as a departure). */
static uint64_t read_stop(const char *dir)
{
	char path[1200];
	unsigned long long v;
	uint64_t stop = UINT64_MAX;
	if (rundir_path(path, sizeof(path), dir, RUNDIR_STOPPED))
		return stop;
	FILE *f = rundir_fopen(path, "r");
	if (f && fscanf(f, "%llu", &v) == 1)
		stop = v;
	if (f)
		fclose(f);
	return stop;
}

static void add_stalls(struct run_metrics *m, const char *host, const struct stalls *s)
{
	m->stalls.n += s->n;
	m->stalls.paused += s->paused;
	if (s->max_us > m->stalls.max_us) {
		m->stalls.max_us = s->max_us;
		m->stalls.max_pause_us = s->max_pause_us;
		snprintf(m->stall_host, sizeof(m->stall_host), "%s", host);
	}
}

/* A host that is no peer (source, rendezvous point, attacker) stalls the
 * run as much: its log is read for its stalls only. A host without a log
 * ran nothing to stall. */
static void scan_stalls(struct run_metrics *m, const char *host)
{
	char path[1200], line[1024];
	if (rundir_host_path(path, sizeof(path), m->dir, host, EVLOG_FILE))
		return;
	FILE *f = rundir_fopen(path, "r");
	if (!f)
		return;
	struct stalls s = {0};
	while (fgets(line, sizeof(line), f)) {
		struct evlog_line e;
		uint64_t late;
		if (!evlog_parse(line, &e) && !strcmp(e.event, LOGEV_STALL) &&
		    !evlog_get_u64(&e, LOGK_LATE_US, &late))
			count_stall(&s, &m->pauses, e.ts_us, late);
	}
	fclose(f);
	add_stalls(m, host, &s);
}

/* cpu.txt into the timeline and its summary (m->cpu); a run without it
 * (an older harness) or with a damaged one has none. A sample covers the
 * second before it was taken. */
static void load_cpu(struct run_metrics *m, const char *dir)
{
	struct rundir_cpu *c;
	size_t n;
	char err[256];
	if (rundir_cpu_read(dir, &c, &n, err, sizeof(err)))
		return;
	struct cpu_seconds *cs = &m->cpu;
	cs->have = n > 0;
	cs->n = n;
	for (size_t i = 0; i < n; i++) {
		uint64_t at = c[i].ts_us > 1000000u ? c[i].ts_us - 1000000u : 0;
		/* The timeline's second, as timeline.dat numbers it. */
		double t = at > m->tl.t0_us ? (double)((at - m->tl.t0_us) / 1000000u) : 0;
		if (!i || c[i].idle < cs->low)
			cs->low = c[i].idle, cs->low_at_s = t;
		if (c[i].idle < EMU_IDLE_SECOND_MIN) {
			if (!cs->short_n++)
				cs->short_first_s = t;
			cs->short_last_s = t;
		}
		struct timeline_sec *sec = tl_at(&m->tl, at);
		if (sec && (!sec->have_idle || c[i].idle < sec->idle)) {
			sec->idle = (float)c[i].idle;
			sec->have_idle = 1;
		}
	}
	free(c);
}

/* The earliest first event over the peers' logs: where the timeline starts. */
static uint64_t first_start(const char *dir, const struct rundir_host *h, int nh)
{
	uint64_t t0 = UINT64_MAX;
	for (int i = 0; i < nh; i++) {
		char path[1200], line[512];
		struct evlog_line e;
		if (strcmp(h[i].role, "peer") ||
		    rundir_host_path(path, sizeof(path), dir, h[i].name, EVLOG_FILE))
			continue;
		FILE *f = rundir_fopen(path, "r");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f) && !evlog_parse(line, &e) && e.ts_us < t0)
			t0 = e.ts_us;
		fclose(f);
	}
	return t0 == UINT64_MAX ? 0 : t0;
}

int analysis_load(const char *dir, struct run_metrics *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->dir, sizeof(m->dir), "%s", dir);
	struct rundir_host *h;
	int nh;
	if (rundir_hosts_read(dir, &h, &nh, err, errlen))
		return -1;
	m->p = calloc((size_t)nh + 1, sizeof(*m->p));
	if (!m->p || group(m, "all", "") < 0) {
		free(h);
		analysis_free(m);
		return err_set(err, errlen, "load %s: out of memory", dir);
	}
	m->tl.t0_us = first_start(dir, h, nh);
	m->tl.stop_us = read_stop(dir);
	/* Before the logs: each stall is held against the pauses as it is read. A
	 * run without the file (no probe, an older harness) or with a damaged
	 * one has no pauses to tell. */
	char perr[256];
	m->pauses.have =
	    rundir_pauses_read(dir, &m->pauses.p, &m->pauses.n, perr, sizeof(perr)) == 0;
	load_cpu(m, dir);
	double *delays = load_delays(dir, nh);
	m->have_delays = delays != NULL;
	m->min_path_us = min_path_us(delays, nh);
	for (int i = 0; i < nh; i++)
		if (!strcmp(h[i].role, "peer"))
			load_peer(m, h, nh, delays, i);
		else
			scan_stalls(m, h[i].name);
	for (int i = 0; i < m->npeers; i++)
		add_stalls(m, m->p[i].name, &m->p[i].stalls);
	free(delays);
	free(h);
	/* The path events are kept only until summed up. */
	m->have_paths = paths_summarize(&m->paths, m->tl.stop_us, &m->ps) == 0 && !m->paths.oom;
	paths_free(&m->paths);
	char path[1200], e[256];
	if (rundir_emulation_read(dir, &m->emu, e, sizeof(e)) == 0) {
		m->have_emulation = 1;
		m->emu_valid =
		    analysis_emulation_valid(&m->emu, m->min_path_us, &m->stalls, m->stall_host,
		                             m->emu_reason, sizeof(m->emu_reason));
	}
	if (rundir_path(path, sizeof(path), dir, RUNDIR_CAPTURE) == 0 && access(path, R_OK) == 0) {
		/* A damaged capture costs the overhead figures, not the report. */
		if (overhead_load(path, &m->overhead, m->overhead_error, sizeof(m->overhead_error)))
			memset(&m->overhead, 0, sizeof(m->overhead));
		else
			m->have_overhead = 1;
	}
	return 0;
}

void analysis_free(struct run_metrics *m)
{
	free(m->p);
	free(m->g);
	free(m->tl.s);
	free(m->pauses.p);
	m->pauses.p = NULL;
	m->pauses.n = 0;
	paths_free(&m->paths);
	m->p = NULL;
	m->g = NULL;
	m->tl.s = NULL;
	m->tl.n = 0;
	m->npeers = m->ngroups = 0;
}

double analysis_lateness_bound_us(double min_path_us)
{
	double share = min_path_us > 0 ? EMU_LATE_PATH_SHARE * min_path_us : 0;
	return share > EMU_LATE_MIN_US ? share : EMU_LATE_MIN_US;
}

/* Why the longest stall happened, as far as the machine's pauses tell. */
static void stall_why(const struct rundir_emulation *emu, const struct stalls *st, char *buf,
                      size_t len)
{
	double paused_s = st->max_pause_us / 1e6;
	/* Nearly all of it paused: the rest is the probe's own 10 ms period
	 * and the wakeup after the pause. */
	if (st->max_pause_us >= 0.9 * st->max_us)
		snprintf(
		    buf, len,
		    "the machine itself did not run (a real-time probe ran late over %.2f s of "
		    "it: its hypervisor paused it)",
		    paused_s);
	else if (st->max_pause_us > 0)
		snprintf(
		    buf, len,
		    "the machine itself paused for %.2f s of it (a real-time probe ran that late "
		    "too), and for the rest the host did not run while the machine did",
		    paused_s);
	else if (emu->have_pauses)
		snprintf(buf, len,
		         "the host did not run while the machine did (CPU starved, or blocked on a "
		         "stalled disk)");
	else
		snprintf(buf, len,
		         "the host did not run (CPU starved, or blocked on a stalled disk)");
}

int analysis_emulation_valid(const struct rundir_emulation *emu, double min_path_us,
                             const struct stalls *st, const char *stall_host, char *reason,
                             size_t len)
{
	double bound = analysis_lateness_bound_us(min_path_us);
	double stall_max_us = st ? st->max_us : 0;
	if (stall_max_us >= EMU_STALL_MAX_US) {
		char why[256];
		stall_why(emu, st, why, sizeof(why));
		snprintf(reason, len, "%s's event loop ran a timer %.2f s late (bound %.1f s): %s",
		         stall_host, stall_max_us / 1e6, EMU_STALL_MAX_US / 1e6, why);
		return 0;
	}
	if (emu->cpu_idle_mean < EMU_IDLE_MEAN_MIN) {
		snprintf(reason, len, "the machine was %.1f%% idle on average (needs %.0f%%)",
		         100 * emu->cpu_idle_mean, 100 * EMU_IDLE_MEAN_MIN);
		return 0;
	}
	if (emu->cpu_idle_min < EMU_IDLE_SECOND_MIN) {
		snprintf(reason, len,
		         "in its busiest second the machine was %.1f%% idle (needs %.0f%%)",
		         100 * emu->cpu_idle_min, 100 * EMU_IDLE_SECOND_MIN);
		return 0;
	}
	if (emu->have_switch && emu->late_p99_us > bound) {
		snprintf(reason, len,
		         "the switch released 1%% of frames over %.2f ms late (bound %.2f ms)",
		         emu->late_p99_us / 1000, bound / 1000);
		return 0;
	}
	int n = snprintf(reason, len, "CPU idle %.1f%% on average, %.1f%% in the busiest second",
	                 100 * emu->cpu_idle_mean, 100 * emu->cpu_idle_min);
	if (emu->have_switch && n >= 0 && (size_t)n < len)
		n += snprintf(reason + n, len - (size_t)n,
		              "; release lateness p99 %.3f ms (bound %.2f ms)",
		              emu->late_p99_us / 1000, bound / 1000);
	if (stall_max_us > 0 && n >= 0 && (size_t)n < len)
		snprintf(reason + n, len - (size_t)n,
		         "; longest host stall %.0f ms (%s, bound %.0f ms%s)", stall_max_us / 1000,
		         stall_host, EMU_STALL_MAX_US / 1000,
		         st->max_pause_us > 0 ? ", the machine itself paused then" : "");
	return 1;
}
