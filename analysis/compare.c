#include "analysis/compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

void compare_default_tolerance(struct tolerance *t)
{
	t->continuity = 0.01;
	t->startup = 0.20;
	t->delay = 0.20;
	t->played = 0;
}

int compare_parse_tolerance(const char *s, struct tolerance *t, char *err, size_t errlen)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			err_set(err, errlen, "tolerance '%s': expected name=value", tok);
			return -1;
		}
		*eq = 0;
		char *end;
		double v = strtod(eq + 1, &end);
		if (end == eq + 1 || (*end && strcmp(end, "%")) || !(v >= 0)) {
			err_set(err, errlen, "tolerance %s: '%s' is not a non-negative number", tok,
			        eq + 1);
			return -1;
		}
		if (*end == '%')
			v /= 100;
		if (!strcmp(tok, "continuity"))
			t->continuity = v;
		else if (!strcmp(tok, "startup"))
			t->startup = v;
		else if (!strcmp(tok, "delay"))
			t->delay = v;
		else if (!strcmp(tok, "played"))
			t->played = v;
		else {
			err_set(err, errlen,
			        "tolerance '%s': known are continuity, startup, delay, played",
			        tok);
			return -1;
		}
	}
	return 0;
}

/* One metric's line. With a confidence interval of B - A, a difference
 * beyond the tolerance is a regression only when the interval lies wholly
 * on the worse side (sign: +1 when higher is worse): otherwise it is within
 * the noise of the runs. */
static int line(FILE *out, const char *name, double a, double b, const char *unit, int worse,
                const char *limit, const struct compare_ci *ci, int metric, int sign)
{
	double rel = a != 0 ? 100.0 * (b - a) / a : 0;
	fprintf(out, "%-22s %12.4f %12.4f %8s %+8.1f%%", name, a, b, unit, rel);
	if (ci) {
		double lo = ci->lo[metric], hi = ci->hi[metric];
		fprintf(out, "  [%+.4f, %+.4f]", lo, hi);
		int beyond_noise = sign > 0 ? lo > 0 : hi < 0;
		if (worse && !beyond_noise) {
			fprintf(out, "  within noise\n");
			return 0;
		}
	}
	fprintf(out, "  %s\n", worse ? limit : "ok");
	return worse;
}

int compare_runs(const struct run_summary *a, const struct run_summary *b,
                 const struct tolerance *t, const struct compare_ci *ci, FILE *out)
{
	char lim[64];
	int bad = 0;
	double pa = a->peers ? (double)a->played / a->peers : 0;
	double pb = b->peers ? (double)b->played / b->peers : 0;
	fprintf(out, "%-22s %12s %12s %8s %9s  %s%s\n", "metric", "A", "B", "unit", "change",
	        ci ? "95% interval of B - A  " : "", "verdict");
	snprintf(lim, sizeof(lim), "REGRESSION (> %.3f lower)", t->played);
	bad += line(out, "peers played", pa, pb, "share", pb < pa - t->played - 1e-9, lim, ci,
	            CMP_PLAYED, -1);
	snprintf(lim, sizeof(lim), "REGRESSION (> %.3f lower)", t->continuity);
	bad +=
	    line(out, "continuity", a->continuity, b->continuity, "",
	         b->continuity < a->continuity - t->continuity - 1e-9, lim, ci, CMP_CONTINUITY, -1);
	snprintf(lim, sizeof(lim), "REGRESSION (> %.0f%% higher)", 100 * t->startup);
	bad += line(out, "startup median", a->startup_median_s, b->startup_median_s, "s",
	            b->startup_median_s > a->startup_median_s * (1 + t->startup) + 1e-9, lim, ci,
	            CMP_STARTUP, 1);
	snprintf(lim, sizeof(lim), "REGRESSION (> %.0f%% higher)", 100 * t->delay);
	bad += line(out, "delay median", a->delay_median_ms, b->delay_median_ms, "ms",
	            b->delay_median_ms > a->delay_median_ms * (1 + t->delay) + 1e-9, lim, ci,
	            CMP_DELAY, 1);
	if (a->control_overhead >= 0 && b->control_overhead >= 0)
		line(out, "control overhead", a->control_overhead, b->control_overhead, "share", 0,
		     "", NULL, 0, 0);
	fprintf(out, "verdict: %s\n", bad ? "REGRESSION" : "no regression");
	return bad;
}

int compare_sample_add(struct compare_sample *s, const struct compare_unit *u)
{
	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 16;
		struct compare_unit *nu = realloc(s->u, (size_t)cap * sizeof(*nu));
		if (!nu)
			return -1;
		s->u = nu;
		s->cap = cap;
	}
	s->u[s->n++] = *u;
	return 0;
}

void compare_sample_free(struct compare_sample *s)
{
	free(s->u);
	memset(s, 0, sizeof(*s));
}

int compare_sample_peers(const struct run_metrics *m, struct compare_sample *s)
{
	for (int i = 0; i < m->npeers; i++) {
		const struct peer_metrics *p = &m->p[i];
		struct compare_unit u = {
		    .weight = 1,
		    .played = p->started,
		    .due = (double)p->due,
		    .on_time = (double)p->on_time,
		    .startup_s = p->started ? p->startup_s : NAN,
		    .delay_ms = p->started && p->steady ? p->delay_med_ms : NAN,
		};
		if (compare_sample_add(s, &u))
			return -1;
	}
	return 0;
}

int compare_unit_of_run(const struct run_metrics *m, struct compare_unit *u)
{
	struct run_summary s;
	analysis_summary(m, &s);
	uint64_t due = 0, on = 0;
	for (int i = 0; i < m->npeers; i++) {
		due += m->p[i].due;
		on += m->p[i].on_time;
	}
	*u = (struct compare_unit){
	    .weight = s.peers,
	    .played = s.played,
	    .due = (double)due,
	    .on_time = (double)on,
	    .startup_s = s.played ? s.startup_median_s : NAN,
	    .delay_ms = s.played ? s.delay_median_ms : NAN,
	};
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The median of the defined values (the mean of the middle two when even,
 * as the run summary takes it); 0 when none. */
static double median_of(double *v, int n)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		if (!isnan(v[i]))
			v[k++] = v[i];
	if (!k)
		return 0;
	qsort(v, (size_t)k, sizeof(*v), cmp_double);
	return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

/* The sample's summary over the units picked (all of them when pick is NULL). */
static void sample_stats(const struct compare_sample *s, const int *pick, double *scratch,
                         double out[CMP_METRICS], struct run_summary *sum)
{
	double w = 0, played = 0, due = 0, on = 0;
	for (int i = 0; i < s->n; i++) {
		const struct compare_unit *u = &s->u[pick ? pick[i] : i];
		w += u->weight;
		played += u->played;
		due += u->due;
		on += u->on_time;
	}
	out[CMP_PLAYED] = w ? played / w : 0;
	out[CMP_CONTINUITY] = due ? on / due : 0;
	for (int i = 0; i < s->n; i++)
		scratch[i] = s->u[pick ? pick[i] : i].startup_s;
	out[CMP_STARTUP] = median_of(scratch, s->n);
	for (int i = 0; i < s->n; i++)
		scratch[i] = s->u[pick ? pick[i] : i].delay_ms;
	out[CMP_DELAY] = median_of(scratch, s->n);
	if (sum) {
		memset(sum, 0, sizeof(*sum));
		sum->peers = (int)w;
		sum->played = (int)played;
		sum->continuity = out[CMP_CONTINUITY];
		sum->startup_median_s = out[CMP_STARTUP];
		sum->delay_median_ms = out[CMP_DELAY];
		sum->control_overhead = -1;
	}
}

void compare_summary(const struct compare_sample *s, struct run_summary *out)
{
	double *scratch = calloc((size_t)s->n + 1, sizeof(*scratch)), v[CMP_METRICS];
	if (!scratch) {
		memset(out, 0, sizeof(*out));
		return;
	}
	sample_stats(s, NULL, scratch, v, out);
	free(scratch);
}

int compare_bootstrap(const struct compare_sample *a, const struct compare_sample *b, int iters,
                      uint64_t seed, struct compare_ci *ci)
{
	int n = a->n > b->n ? a->n : b->n;
	int *pick = calloc((size_t)n + 1, sizeof(*pick));
	double *scratch = calloc((size_t)n + 1, sizeof(*scratch));
	double *diff = calloc((size_t)iters * CMP_METRICS + 1, sizeof(*diff));
	if (!pick || !scratch || !diff || iters < 1) {
		free(pick);
		free(scratch);
		free(diff);
		return -1;
	}
	struct rng r;
	rng_seed(&r, seed);
	for (int it = 0; it < iters; it++) {
		double va[CMP_METRICS], vb[CMP_METRICS];
		for (int i = 0; i < a->n; i++)
			pick[i] = (int)rng_below(&r, (uint64_t)a->n);
		sample_stats(a, pick, scratch, va, NULL);
		for (int i = 0; i < b->n; i++)
			pick[i] = (int)rng_below(&r, (uint64_t)b->n);
		sample_stats(b, pick, scratch, vb, NULL);
		for (int k = 0; k < CMP_METRICS; k++)
			diff[(size_t)k * (size_t)iters + (size_t)it] = vb[k] - va[k];
	}
	for (int k = 0; k < CMP_METRICS; k++) {
		double *d = diff + (size_t)k * (size_t)iters;
		qsort(d, (size_t)iters, sizeof(*d), cmp_double);
		ci->lo[k] = d[(int)(0.025 * (iters - 1) + 0.5)];
		ci->hi[k] = d[(int)(0.975 * (iters - 1) + 0.5)];
	}
	free(pick);
	free(scratch);
	free(diff);
	return 0;
}
