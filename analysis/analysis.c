#include "analysis/analysis.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Value of key=... in an event line, or NULL. */
static const char *kv(const char *line, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = line; (p = strstr(p, key)); p++)
		if ((p == line || p[-1] == ' ') && p[kl] == '=')
			return p + kl + 1;
	return NULL;
}

static uint64_t kv_u64(const char *line, const char *key)
{
	const char *v = kv(line, key);
	return v ? strtoull(v, NULL, 10) : 0;
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

static int load_events(const char *hdir, struct peer_metrics *p, struct session *ss, int *nss,
                       char *err, size_t errlen)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/events.log", hdir);
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	char line[1024];
	int n = 0;
	struct session *cur = NULL;
	while (fgets(line, sizeof(line), f)) {
		char ev[32];
		if (sscanf(line, "%*u %31s", ev) != 1)
			continue;
		if (!strcmp(ev, "start")) {
			const char *m = kv(line, "mode");
			if (m)
				sscanf(m, "%15s", p->mode);
			if (cur)
				close_session(cur);
			cur = n < MAX_SESSIONS ? &ss[n++] : NULL;
			if (cur)
				memset(cur, 0, sizeof(*cur));
		} else if (!cur) {
			continue;
		} else if (!strcmp(ev, "play_start")) {
			/* Startup delay is that of the first join. */
			if (!p->started)
				p->startup_s = (double)kv_u64(line, "startup_us") / 1e6;
			p->started = 1;
			cur->played = 1;
			cur->start_seq = (uint32_t)kv_u64(line, "seq");
		} else if (!strcmp(ev, "mesh")) {
			double d = (double)kv_u64(line, "mean_delay_us") / 1000.0;
			if (d > 0 && !p->mesh_first_ms)
				p->mesh_first_ms = d;
			if (d > 0)
				p->mesh_last_ms = d;
		} else if (!strcmp(ev, "tick")) {
			cur->tick_due += kv_u64(line, "due");
			cur->tick_on += kv_u64(line, "on_time");
		} else if (!strcmp(ev, "leave")) {
			cur->due = kv_u64(line, "due");
			cur->on_time = kv_u64(line, "on_time");
			cur->closed = 1;
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

static uint32_t le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static int load_segments(const char *hdir, struct peer_metrics *p, const struct session *ss,
                         int nss, char *err, size_t errlen)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/segments.bin", hdir);
	FILE *f = fopen(path, "rbe");
	if (!f) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	uint8_t hdr[16], r[16];
	if (fread(hdr, 1, 16, f) != 16 || memcmp(hdr, SEGLOG_MAGIC, 8)) {
		fclose(f);
		snprintf(err, errlen, "%s: not a segment log (bad header)", path);
		return -1;
	}
	size_t cap = 4096, n = 0;
	uint32_t *delays = malloc(cap * sizeof(*delays));
	if (!delays) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (fread(r, 1, 16, f) == 16) {
		uint32_t seq = le32(r), delay = le32(r + 4);
		uint8_t hops = r[12], flags = r[13];
		if (!(flags & SEG_CHECKSUM_OK))
			p->corrupt++;
		if (!(flags & SEG_STORED))
			continue;
		p->stored++;
		if (hops > p->max_hops)
			p->max_hops = hops;
		if ((flags & SEG_CONTENT_OK) && due_in_session(ss, nss, seq))
			p->verified_due++;
		if (n == cap) {
			uint32_t *nd = realloc(delays, 2 * cap * sizeof(*nd));
			if (!nd)
				break;
			delays = nd;
			cap *= 2;
		}
		delays[n++] = delay;
	}
	fclose(f);
	qsort(delays, n, sizeof(*delays), cmp_u32);
	p->delay_med_ms = percentile(delays, n, 0.5) / 1000.0;
	p->delay_p95_ms = percentile(delays, n, 0.95) / 1000.0;
	free(delays);
	p->verified_fraction = p->due ? (double)p->verified_due / (double)p->due : 0;
	return 0;
}

int analysis_load(const char *dir, struct run_metrics *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->dir, sizeof(m->dir), "%s", dir);
	char path[1200];
	snprintf(path, sizeof(path), "%s/hosts.txt", dir);
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "open %s: %s (is %s a run directory?)", path, strerror(errno),
		         dir);
		return -1;
	}
	char line[512];
	int cap = 0;
	while (fgets(line, sizeof(line), f)) {
		char name[32], role[16];
		if (line[0] == '#' || sscanf(line, "%31s %15s", name, role) != 2)
			continue;
		if (strcmp(role, "peer"))
			continue;
		char hdir[1200];
		snprintf(hdir, sizeof(hdir), "%s/hosts/%s", dir, name);
		if (m->npeers == cap) {
			cap = cap ? cap * 2 : 16;
			struct peer_metrics *np = realloc(m->p, (size_t)cap * sizeof(*np));
			if (!np) {
				fclose(f);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			m->p = np;
		}
		struct peer_metrics *p = &m->p[m->npeers];
		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%s", name);
		struct session ss[MAX_SESSIONS];
		int nss = 0;
		char e[512];
		/* A peer that never ran (scheduled after an interrupt) has no logs. */
		if (load_events(hdir, p, ss, &nss, e, sizeof(e)) == 0)
			load_segments(hdir, p, ss, nss, e, sizeof(e));
		m->npeers++;
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/capture.pcap", dir);
	if (access(path, R_OK) == 0) {
		char e[512];
		if (overhead_load(path, &m->overhead, e, sizeof(e))) {
			snprintf(err, errlen, "%s", e);
			return -1;
		}
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
}

int analysis_write_json(const struct run_metrics *m, const char *path)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -1;
	fprintf(f, "{\n  \"peers\": [\n");
	for (int i = 0; i < m->npeers; i++) {
		const struct peer_metrics *p = &m->p[i];
		fprintf(f,
		        "    {\"name\": \"%s\", \"mode\": \"%s\", \"started\": %s, \"startup_s\": "
		        "%.6f, "
		        "\"delay_median_ms\": %.3f, \"delay_p95_ms\": %.3f, \"due\": %" PRIu64
		        ", \"on_time\": %" PRIu64 ", \"continuity\": %.6f, \"stored\": %" PRIu64
		        ", \"verified_due\": %" PRIu64 ", \"verified_fraction\": %.6f, "
		        "\"corrupt\": %" PRIu64 ", \"max_hops\": %d, \"mesh_first_ms\": %.3f, "
		        "\"mesh_last_ms\": %.3f}%s\n",
		        p->name, p->mode, p->started ? "true" : "false", p->startup_s,
		        p->delay_med_ms, p->delay_p95_ms, p->due, p->on_time, p->continuity,
		        p->stored, p->verified_due, p->verified_fraction, p->corrupt, p->max_hops,
		        p->mesh_first_ms, p->mesh_last_ms, i + 1 < m->npeers ? "," : "");
	}
	fprintf(f, "  ]");
	if (m->have_overhead) {
		fprintf(f, ",\n  \"overhead\": ");
		overhead_write_json(&m->overhead, f);
	}
	fprintf(f, "\n}\n");
	return fclose(f);
}

int analysis_run(const char *dir, FILE *out, char *err, size_t errlen)
{
	struct run_metrics m;
	if (analysis_load(dir, &m, err, errlen))
		return -1;
	char path[1200];
	snprintf(path, sizeof(path), "%s/metrics.json", dir);
	int rc = analysis_write_json(&m, path);
	snprintf(path, sizeof(path), "%s/peers.csv", dir);
	FILE *csv = fopen(path, "we");
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
	snprintf(path, sizeof(path), "%s/report.txt", dir);
	FILE *f = fopen(path, "we");
	if (f) {
		analysis_report(&m, f);
		rc |= fclose(f);
	} else {
		rc = -1;
	}
	if (rc)
		snprintf(err, errlen, "write report into %s: %s", dir, strerror(errno));
	else if (out)
		analysis_report(&m, out);
	analysis_free(&m);
	return rc;
}
