#include "analysis/compare.h"

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

static int line(FILE *out, const char *name, double a, double b, const char *unit, int worse,
                const char *limit)
{
	double rel = a != 0 ? 100.0 * (b - a) / a : 0;
	fprintf(out, "%-22s %12.4f %12.4f %8s %+8.1f%%  %s\n", name, a, b, unit, rel,
	        worse ? limit : "ok");
	return worse;
}

int compare_runs(const struct run_summary *a, const struct run_summary *b,
                 const struct tolerance *t, FILE *out)
{
	char lim[64];
	int bad = 0;
	double pa = a->peers ? (double)a->played / a->peers : 0;
	double pb = b->peers ? (double)b->played / b->peers : 0;
	fprintf(out, "%-22s %12s %12s %8s %9s  %s\n", "metric", "A", "B", "unit", "change",
	        "verdict");
	snprintf(lim, sizeof(lim), "REGRESSION (> %.3f lower)", t->played);
	bad += line(out, "peers played", pa, pb, "share", pb < pa - t->played - 1e-9, lim);
	snprintf(lim, sizeof(lim), "REGRESSION (> %.3f lower)", t->continuity);
	bad += line(out, "continuity", a->continuity, b->continuity, "",
	            b->continuity < a->continuity - t->continuity - 1e-9, lim);
	snprintf(lim, sizeof(lim), "REGRESSION (> %.0f%% higher)", 100 * t->startup);
	bad += line(out, "startup median", a->startup_median_s, b->startup_median_s, "s",
	            b->startup_median_s > a->startup_median_s * (1 + t->startup) + 1e-9, lim);
	snprintf(lim, sizeof(lim), "REGRESSION (> %.0f%% higher)", 100 * t->delay);
	bad += line(out, "delay median", a->delay_median_ms, b->delay_median_ms, "ms",
	            b->delay_median_ms > a->delay_median_ms * (1 + t->delay) + 1e-9, lim);
	if (a->control_overhead >= 0 && b->control_overhead >= 0)
		line(out, "control overhead", a->control_overhead, b->control_overhead, "share", 0,
		     "");
	fprintf(out, "verdict: %s\n", bad ? "REGRESSION" : "no regression");
	return bad;
}
