#include "analysis/analysis.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/rundir.h"
#include "lib/util.h"
#include "peer/log.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static double percentile(const uint32_t *v, size_t n, double q)
{
	if (!n)
		return 0;
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

/* One run of the peer process: a peer that leaves and rejoins has several. */
struct session {
	uint32_t start_seq;
	uint64_t due, on_time;
	uint64_t tick_due, tick_on;
	int played, closed;
};

#define MAX_SESSIONS 64

static void close_session(struct session *s)
{
	/* A crashed process never wrote its totals: its per-second ticks stand in. */
	if (!s->closed) {
		s->due = s->tick_due;
		s->on_time = s->tick_on;
	}
}

/* Folds one event line into the peer's metrics and its current session.
 * Returns 0, or -1 when an event the analysis needs lacks a key. */
static int fold_event(const struct evlog_line *e, struct peer_metrics *p, struct session *cur)
{
	uint64_t a, b;
	if (!strcmp(e->event, LOGEV_PLAY_START)) {
		if (evlog_get_u64(e, LOGK_STARTUP_US, &a) || evlog_get_u64(e, LOGK_SEQ, &b))
			return -1;
		/* Startup delay is that of the first join. */
		if (!p->started)
			p->startup_s = (double)a / 1e6;
		p->started = 1;
		cur->played = 1;
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
	} else if (!strcmp(e->event, LOGEV_LEAVE)) {
		if (evlog_get_u64(e, LOGK_DUE, &a) || evlog_get_u64(e, LOGK_ON_TIME, &b))
			return -1;
		cur->due = a;
		cur->on_time = b;
		cur->closed = 1;
	}
	return 0;
}

static int load_events(const char *hdir, struct peer_metrics *p, struct session *ss, int *nss,
                       char *err, size_t errlen)
{
	char path[1200];
	if (rundir_path(path, sizeof(path), hdir, EVLOG_FILE))
		return err_set(err, errlen, "open %s/%s: path too long", hdir, EVLOG_FILE);
	FILE *f = fopen(path, "re");
	if (!f)
		return err_set(err, errlen, "open %s: %s", path, strerror(errno));
	char line[1024];
	int n = 0;
	struct session *cur = NULL;
	while (fgets(line, sizeof(line), f)) {
		struct evlog_line e;
		if (evlog_parse(line, &e)) {
			p->bad_lines++;
			continue;
		}
		if (!strcmp(e.event, LOGEV_START)) {
			if (evlog_get_str(&e, LOGK_MODE, p->mode, sizeof(p->mode)))
				p->bad_lines++;
			if (cur)
				close_session(cur);
			cur = n < MAX_SESSIONS ? &ss[n++] : NULL;
			if (cur)
				memset(cur, 0, sizeof(*cur));
		} else if (cur && fold_event(&e, p, cur)) {
			p->bad_lines++;
		}
	}
	fclose(f);
	if (cur)
		close_session(cur);
	for (int i = 0; i < n; i++) {
		p->due += ss[i].due;
		p->on_time += ss[i].on_time;
	}
	*nss = n;
	p->continuity = p->due ? (double)p->on_time / (double)p->due : 0;
	return 0;
}

static int due_in_session(const struct session *ss, int nss, uint32_t seq)
{
	for (int i = 0; i < nss; i++)
		if (ss[i].played && seq >= ss[i].start_seq && seq - ss[i].start_seq < ss[i].due)
			return 1;
	return 0;
}

/* Growing array of delays; on allocation failure the samples so far stand. */
struct delays {
	uint32_t *v;
	size_t n, cap;
};

static void delays_add(struct delays *d, uint32_t x)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 4096;
		uint32_t *nv = realloc(d->v, cap * sizeof(*nv));
		if (!nv)
			return;
		d->v = nv;
		d->cap = cap;
	}
	d->v[d->n++] = x;
}

static int load_segments(const char *hdir, struct peer_metrics *p, const struct session *ss,
                         int nss, char *err, size_t errlen)
{
	char path[1200];
	if (rundir_path(path, sizeof(path), hdir, SEGLOG_FILE))
		return err_set(err, errlen, "open %s/%s: path too long", hdir, SEGLOG_FILE);
	FILE *f = fopen(path, "rbe");
	if (!f)
		return err_set(err, errlen, "open %s: %s", path, strerror(errno));
	uint8_t hdr[SEGLOG_HDR_LEN], r[SEGLOG_REC_LEN];
	uint64_t epoch;
	if (fread(hdr, 1, sizeof(hdr), f) != sizeof(hdr) || seglog_hdr_decode(hdr, &epoch)) {
		fclose(f);
		return err_set(err, errlen, "%s: not a segment log (bad header)", path);
	}
	struct delays d = {0};
	while (fread(r, 1, sizeof(r), f) == sizeof(r)) {
		struct seglog_rec rec;
		seglog_rec_decode(r, &rec);
		if (!(rec.flags & SEG_CHECKSUM_OK))
			p->corrupt++;
		if (!(rec.flags & SEG_STORED))
			continue;
		p->stored++;
		if (rec.hops > p->max_hops)
			p->max_hops = rec.hops;
		if ((rec.flags & SEG_CONTENT_OK) && due_in_session(ss, nss, rec.seq))
			p->verified_due++;
		delays_add(&d, rec.delay_us);
	}
	fclose(f);
	if (d.n)
		qsort(d.v, d.n, sizeof(*d.v), cmp_u32);
	p->delay_med_ms = percentile(d.v, d.n, 0.5) / 1000.0;
	p->delay_p95_ms = percentile(d.v, d.n, 0.95) / 1000.0;
	free(d.v);
	p->verified_fraction = p->due ? (double)p->verified_due / (double)p->due : 0;
	return 0;
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
	if (!m->p) {
		free(h);
		return err_set(err, errlen, "load %s: out of memory", dir);
	}
	for (int i = 0; i < nh; i++) {
		if (strcmp(h[i].role, "peer"))
			continue;
		struct peer_metrics *p = &m->p[m->npeers++];
		snprintf(p->name, sizeof(p->name), "%s", h[i].name);
		char hdir[1200];
		if (rundir_host_path(hdir, sizeof(hdir), dir, h[i].name, NULL))
			continue;
		struct session ss[MAX_SESSIONS];
		int nss = 0;
		char e[512];
		/* A peer that never ran (scheduled after an interrupt) has no logs. */
		if (load_events(hdir, p, ss, &nss, e, sizeof(e)) == 0)
			load_segments(hdir, p, ss, nss, e, sizeof(e));
	}
	free(h);
	char path[1200];
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
	m->p = NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	if (!n)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void analysis_summary(const struct run_metrics *m, struct run_summary *out)
{
	memset(out, 0, sizeof(*out));
	out->peers = m->npeers;
	out->control_overhead = m->have_overhead ? overhead_control_fraction(&m->overhead) : -1;
	double *st = calloc((size_t)m->npeers + 1, sizeof(*st));
	double *dl = calloc((size_t)m->npeers + 1, sizeof(*dl));
	uint64_t due = 0, on = 0, ver = 0;
	int nmesh = 0;
	for (int i = 0; st && dl && i < m->npeers; i++) {
		const struct peer_metrics *p = &m->p[i];
		if (p->mesh_first_ms > 0) {
			out->mesh_first_ms += p->mesh_first_ms;
			out->mesh_last_ms += p->mesh_last_ms;
			nmesh++;
		}
		due += p->due;
		on += p->on_time;
		ver += p->verified_due;
		if (!p->started)
			continue;
		st[out->played] = p->startup_s;
		dl[out->played] = p->delay_med_ms;
		out->played++;
	}
	if (st && dl) {
		out->startup_median_s = median(st, out->played);
		out->delay_median_ms = median(dl, out->played);
	}
	if (nmesh) {
		out->mesh_first_ms /= nmesh;
		out->mesh_last_ms /= nmesh;
	}
	out->continuity = due ? (double)on / (double)due : 0;
	out->verified = due ? (double)ver / (double)due : 0;
	free(st);
	free(dl);
}

void analysis_report(const struct run_metrics *m, FILE *out)
{
	fprintf(out, "run %s: %d peers\n", m->dir, m->npeers);
	fprintf(out, "%-12s %-13s %9s %10s %10s %10s %9s %5s\n", "peer", "mode", "startup_s",
	        "delay_med", "delay_p95", "continuity", "verified", "hops");
	for (int i = 0; i < m->npeers; i++) {
		const struct peer_metrics *p = &m->p[i];
		if (!p->started) {
			fprintf(out, "%-12s %-13s %9s\n", p->name, p->mode, "never");
			continue;
		}
		fprintf(out, "%-12s %-13s %9.2f %8.1fms %8.1fms %10.4f %8.1f%% %5d\n", p->name,
		        p->mode, p->startup_s, p->delay_med_ms, p->delay_p95_ms, p->continuity,
		        100 * p->verified_fraction, p->max_hops);
	}
	struct run_summary s;
	analysis_summary(m, &s);
	if (s.played)
		fprintf(out,
		        "summary: %d/%d peers played, startup median %.2f s, delay median %.1f ms, "
		        "continuity %.4f\n",
		        s.played, s.peers, s.startup_median_s, s.delay_median_ms, s.continuity);
	else
		fprintf(out, "summary: no peer started playback\n");
	if (s.mesh_first_ms > 0)
		fprintf(out,
		        "mesh (LTM): mean neighbour delay %.1f ms at the first round, %.1f ms at "
		        "the end\n",
		        s.mesh_first_ms, s.mesh_last_ms);
	if (m->have_overhead)
		overhead_print(&m->overhead, out);
	else if (*m->overhead_error)
		fprintf(out, "control overhead: not measured: %s\n", m->overhead_error);
	uint64_t bad = 0;
	for (int i = 0; i < m->npeers; i++)
		bad += m->p[i].bad_lines;
	if (bad)
		fprintf(out, "warning: %llu event log lines were unreadable or lacked a key\n",
		        (unsigned long long)bad);
}

static void peer_json(struct json *j, const struct peer_metrics *p)
{
	json_obj_begin(j);
	json_kstr(j, "name", p->name);
	json_kstr(j, "mode", p->mode);
	json_kbool(j, "started", p->started);
	json_kdouble(j, "startup_s", p->startup_s, 6);
	json_kdouble(j, "delay_median_ms", p->delay_med_ms, 3);
	json_kdouble(j, "delay_p95_ms", p->delay_p95_ms, 3);
	json_ku64(j, "due", p->due);
	json_ku64(j, "on_time", p->on_time);
	json_kdouble(j, "continuity", p->continuity, 6);
	json_ku64(j, "stored", p->stored);
	json_ku64(j, "verified_due", p->verified_due);
	json_kdouble(j, "verified_fraction", p->verified_fraction, 6);
	json_ku64(j, "corrupt", p->corrupt);
	json_ki64(j, "max_hops", p->max_hops);
	json_kdouble(j, "mesh_first_ms", p->mesh_first_ms, 3);
	json_kdouble(j, "mesh_last_ms", p->mesh_last_ms, 3);
	json_ku64(j, "bad_log_lines", p->bad_lines);
	json_obj_end(j);
}

int analysis_write_json(const struct run_metrics *m, const char *path)
{
	struct json j;
	json_init(&j, true);
	json_obj_begin(&j);
	json_key(&j, "peers");
	json_arr_begin(&j);
	for (int i = 0; i < m->npeers; i++)
		peer_json(&j, &m->p[i]);
	json_arr_end(&j);
	if (m->have_overhead) {
		json_key(&j, "overhead");
		overhead_write_json(&m->overhead, &j);
	}
	json_obj_end(&j);
	return json_write_file(&j, path);
}

int analysis_run(const char *dir, FILE *out, char *err, size_t errlen)
{
	struct run_metrics m;
	if (analysis_load(dir, &m, err, errlen))
		return -1;
	char path[1200];
	int rc = rundir_path(path, sizeof(path), dir, RUNDIR_METRICS);
	rc |= rc ? rc : analysis_write_json(&m, path);
	rc |= rundir_path(path, sizeof(path), dir, RUNDIR_PEERS_CSV);
	FILE *csv = rc ? NULL : fopen(path, "we");
	if (csv) {
		fprintf(csv, "peer,mode,started,startup_s,delay_median_ms,delay_p95_ms,due,on_time,"
		             "continuity,verified_fraction,max_hops\n");
		for (int i = 0; i < m.npeers; i++) {
			const struct peer_metrics *p = &m.p[i];
			fprintf(csv, "%s,%s,%d,%.3f,%.3f,%.3f,%llu,%llu,%.6f,%.6f,%d\n", p->name,
			        p->mode, p->started, p->startup_s, p->delay_med_ms, p->delay_p95_ms,
			        (unsigned long long)p->due, (unsigned long long)p->on_time,
			        p->continuity, p->verified_fraction, p->max_hops);
		}
		rc |= fclose(csv);
	} else {
		rc = -1;
	}
	rc |= rundir_path(path, sizeof(path), dir, RUNDIR_REPORT);
	FILE *f = rc ? NULL : fopen(path, "we");
	if (f) {
		analysis_report(&m, f);
		rc |= fclose(f);
	} else {
		rc = -1;
	}
	if (rc)
		err_set(err, errlen, "write report into %s: %s", dir, strerror(errno));
	else if (out)
		analysis_report(&m, out);
	analysis_free(&m);
	return rc;
}
