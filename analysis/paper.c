#include "analysis/paper.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/metric.h"
#include "analysis/sweep.h"
#include "lib/rundir.h"
#include "lib/util.h"

#define PAPER_MAX_EXPERIMENTS 16
#define PAPER_MAX_CLAIMS 64

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t l = strlen(s);
	while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\n' || s[l - 1] == '\r'))
		s[--l] = 0;
	return s;
}

static int known_kind(const char *k, int *bounded)
{
	static const char *const two[] = {"above", "below", "moves_more", "gap_shrinks"};
	static const char *const one[] = {"rises", "falls"};
	*bounded = !strcmp(k, "max") || !strcmp(k, "min");
	for (size_t i = 0; i < sizeof(two) / sizeof(two[0]); i++)
		if (!strcmp(k, two[i]))
			return 2;
	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++)
		if (!strcmp(k, one[i]))
			return 1;
	return *bounded ? 1 : 0;
}

static int parse_test(char *t, struct paper_claim *c, char *err, size_t errlen)
{
	char *save = NULL, *w[6];
	int n = 0;
	for (char *p = strtok_r(t, " \t", &save); p && n < 6; p = strtok_r(NULL, " \t", &save))
		w[n++] = p;
	int bounded, modes = n ? known_kind(w[0], &bounded) : 0;
	if (!modes)
		return err_set(err, errlen,
		               "test '%s': unknown kind (above, below, rises, falls, "
		               "moves_more, gap_shrinks, max, min)",
		               n ? w[0] : "");
	int want = 1 + modes + 1 + bounded;
	if (n != want)
		return err_set(err, errlen, "test '%s': wants %d words, has %d", w[0], want, n);
	snprintf(c->kind, sizeof(c->kind), "%s", w[0]);
	snprintf(c->a, sizeof(c->a), "%s", w[1]);
	snprintf(c->b, sizeof(c->b), "%s", modes == 2 ? w[2] : "");
	snprintf(c->metric, sizeof(c->metric), "%s", w[1 + modes]);
	if (metric_find(c->metric) < 0)
		return err_set(err, errlen, "test '%s': no metric '%s'", w[0], c->metric);
	c->bound = NAN;
	if (bounded && parse_decimal(w[n - 1], &c->bound))
		return err_set(err, errlen, "test '%s': bound '%s' is not a number", w[0],
		               w[n - 1]);
	return 0;
}

int paper_parse_claim(char *line, struct paper_claim *c, char *err, size_t errlen)
{
	char *f[6];
	int n = 0;
	memset(c, 0, sizeof(*c));
	for (char *p = line; n < 6; n++) {
		f[n] = p;
		char *bar = strchr(p, '|');
		if (!bar) {
			n++;
			break;
		}
		*bar = 0;
		p = bar + 1;
	}
	if (n != 6)
		return err_set(err, errlen,
		               "want 6 fields (ID | FIGURE | EXPERIMENT | TEST | CLAIM | "
		               "NOTE), have %d",
		               n);
	for (int i = 0; i < 6; i++)
		f[i] = trim(f[i]);
	if (!*f[0] || !*f[2] || !*f[4])
		return err_set(err, errlen, "ID, EXPERIMENT and CLAIM may not be empty");
	if (strlen(f[0]) >= sizeof(c->id) || strlen(f[1]) >= sizeof(c->figure) ||
	    strlen(f[2]) >= sizeof(c->experiment) || strlen(f[4]) >= sizeof(c->claim) ||
	    strlen(f[5]) >= sizeof(c->note))
		return err_set(err, errlen, "a field is too long");
	if (strchr(f[2], '/') || !strcmp(f[2], "..") || !strcmp(f[2], "."))
		return err_set(err, errlen, "experiment '%s': a name, not a path", f[2]);
	strcpy(c->id, f[0]);
	strcpy(c->figure, f[1]);
	strcpy(c->experiment, f[2]);
	strcpy(c->claim, f[4]);
	strcpy(c->note, f[5]);
	return parse_test(f[3], c, err, errlen);
}

static int read_claims(const char *path, struct paper_claim *c, int *n, char *err, size_t errlen)
{
	FILE *f = rundir_fopen(path, "r");
	if (!f)
		return err_set(err, errlen, "open claims file %s: %s", path, strerror(errno));
	char line[1024], why[256];
	int lineno = 0, rc = 0;
	*n = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		char *t = trim(line);
		if (!*t || *t == '#')
			continue;
		if (*n == PAPER_MAX_CLAIMS)
			rc = err_set(err, errlen, "%s:%d: more than %d claims", path, lineno,
			             PAPER_MAX_CLAIMS);
		else if (paper_parse_claim(t, &c[*n], why, sizeof(why)))
			rc = err_set(err, errlen, "%s:%d: %s", path, lineno, why);
		else
			c[(*n)++].line = lineno;
	}
	fclose(f);
	return rc;
}

/* An experiment: its sweep's runs whose emulation was not judged invalid
 * (a run on saturated cores is no protocol result), and the count left out. */
struct experiment {
	char name[64];
	struct sweep_row *rows;
	int n, invalid, loaded;
	char err[512];
};

static struct experiment *experiment_get(struct experiment *e, int *ne, const char *runs,
                                         const char *name)
{
	for (int i = 0; i < *ne; i++)
		if (!strcmp(e[i].name, name))
			return &e[i];
	if (*ne == PAPER_MAX_EXPERIMENTS)
		return NULL;
	struct experiment *x = &e[(*ne)++];
	memset(x, 0, sizeof(*x));
	snprintf(x->name, sizeof(x->name), "%s", name);
	char dir[1200];
	snprintf(dir, sizeof(dir), "%s/%s", runs, name);
	struct sweep_row *all;
	int n;
	if (sweep_read(dir, &all, &n, x->err, sizeof(x->err)))
		return x;
	x->rows = all;
	for (int i = 0; i < n; i++) {
		if (all[i].valid == 0)
			x->invalid++;
		else
			x->rows[x->n++] = all[i];
	}
	x->loaded = 1;
	return x;
}

/* The distinct x values of an experiment, in sweep order. */
static int x_values(const struct experiment *x, const char **xs, int max)
{
	int k = 0;
	for (int i = 0; i < x->n && k < max; i++)
		if (sweep_x_index(x->rows, i) == k)
			xs[k++] = x->rows[i].x;
	return k;
}

/* A claim's outcome: the values it rests on and the noise they carry
 * (twice the standard error of the difference over repeats; 0 and
 * noise_known 0 with one run per point). */
struct judged {
	enum paper_verdict v;
	int favor, against, ties;
	double noise;
	int noise_known;
	char measured[768];
};

static void add_measured(struct judged *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_measured(struct judged *j, const char *fmt, ...)
{
	size_t l = strlen(j->measured);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->measured + l, sizeof(j->measured) - l, fmt, ap);
	va_end(ap);
}

/* Weighs one difference (positive: the claim's way) against its noise;
 * inclusive: a bound met exactly is met. */
static void weigh(struct judged *j, double d, const double *se, int nse, int inclusive)
{
	double var = 0;
	int known = 1;
	for (int i = 0; i < nse; i++) {
		if (isnan(se[i]))
			known = 0;
		else
			var += se[i] * se[i];
	}
	double noise = known ? 2 * sqrt(var) : 0;
	if (known)
		j->noise_known = 1;
	j->noise = noise > j->noise ? noise : j->noise;
	if (d > noise || (inclusive && d >= noise))
		j->favor++;
	else if (d < -noise)
		j->against++;
	else
		j->ties++;
}

static void stats(const struct experiment *x, const char *mode, const char *xv, int m,
                  struct sweep_stats *st)
{
	sweep_point_stats(x->rows, x->n, mode, xv, m, st);
}

/* above / below: A against B at every point. */
static void judge_pairwise(const struct experiment *x, const struct paper_claim *c, int m,
                           struct judged *j)
{
	const char *xs[64];
	int nx = x_values(x, xs, 64), sign = !strcmp(c->kind, "below") ? -1 : 1;
	for (int i = 0; i < nx; i++) {
		struct sweep_stats a, b;
		stats(x, c->a, xs[i], m, &a);
		stats(x, c->b, xs[i], m, &b);
		if (!a.n || !b.n)
			continue;
		weigh(j, sign * (a.mean - b.mean), (double[]){a.se, b.se}, 2, 0);
		add_measured(j, "%s%s: %.4g / %.4g", j->measured[0] ? "; " : "", xs[i], a.mean,
		             b.mean);
	}
}

/* The first and last points of a mode that have the metric. */
static int ends(const struct experiment *x, const char *mode, int m, struct sweep_stats *first,
                struct sweep_stats *last)
{
	const char *xs[64];
	int nx = x_values(x, xs, 64), found = 0;
	for (int i = 0; i < nx; i++) {
		struct sweep_stats st;
		stats(x, mode, xs[i], m, &st);
		if (!st.n)
			continue;
		if (!found++)
			*first = st;
		*last = st;
	}
	return found >= 2;
}

/* rises / falls, for each listed mode. */
static void judge_trend(const struct experiment *x, const struct paper_claim *c, int m,
                        struct judged *j)
{
	char modes[sizeof(c->a)];
	snprintf(modes, sizeof(modes), "%s", c->a);
	int sign = !strcmp(c->kind, "falls") ? -1 : 1;
	for (char *save = NULL, *t = strtok_r(modes, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		struct sweep_stats f, l;
		if (!ends(x, t, m, &f, &l))
			continue;
		weigh(j, sign * (l.mean - f.mean), (double[]){f.se, l.se}, 2, 0);
		add_measured(j, "%s%s: %.4g to %.4g", j->measured[0] ? "; " : "", t, f.mean,
		             l.mean);
	}
}

/* moves_more / gap_shrinks: the two modes' ends together. */
static void judge_ends(const struct experiment *x, const struct paper_claim *c, int m,
                       struct judged *j)
{
	struct sweep_stats a1, a2, b1, b2;
	if (!ends(x, c->a, m, &a1, &a2) || !ends(x, c->b, m, &b1, &b2))
		return;
	double d;
	if (!strcmp(c->kind, "moves_more"))
		d = fabs(a2.mean - a1.mean) - fabs(b2.mean - b1.mean);
	else
		d = (a1.mean - b1.mean) - (a2.mean - b2.mean);
	weigh(j, d, (double[]){a1.se, a2.se, b1.se, b2.se}, 4, 0);
	add_measured(j, "%s: %.4g to %.4g; %s: %.4g to %.4g", c->a, a1.mean, a2.mean, c->b, b1.mean,
	             b2.mean);
}

/* max / min: every point of every listed mode against the bound. */
static void judge_bound(const struct experiment *x, const struct paper_claim *c, int m,
                        struct judged *j)
{
	const char *xs[64];
	int nx = x_values(x, xs, 64), sign = !strcmp(c->kind, "max") ? 1 : -1;
	char modes[sizeof(c->a)];
	snprintf(modes, sizeof(modes), "%s", c->a);
	for (char *save = NULL, *t = strtok_r(modes, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		double worst = NAN;
		for (int i = 0; i < nx; i++) {
			struct sweep_stats st;
			stats(x, t, xs[i], m, &st);
			if (!st.n)
				continue;
			weigh(j, sign * (c->bound - st.mean), &st.se, 1, 1);
			if (isnan(worst) || sign * (st.mean - worst) > 0)
				worst = st.mean;
		}
		if (!isnan(worst))
			add_measured(j, "%s%s: %s %.4g", j->measured[0] ? "; " : "", t,
			             sign > 0 ? "highest" : "lowest", worst);
	}
}

static void judge(const struct experiment *x, const struct paper_claim *c, struct judged *j)
{
	memset(j, 0, sizeof(*j));
	int m = metric_find(c->metric);
	if (!strcmp(c->kind, "above") || !strcmp(c->kind, "below"))
		judge_pairwise(x, c, m, j);
	else if (!strcmp(c->kind, "rises") || !strcmp(c->kind, "falls"))
		judge_trend(x, c, m, j);
	else if (!strcmp(c->kind, "moves_more") || !strcmp(c->kind, "gap_shrinks"))
		judge_ends(x, c, m, j);
	else
		judge_bound(x, c, m, j);
	/* A comparison must go the claim's way beyond the noise somewhere and
	 * nowhere against it; a trend or bound must hold for every mode and
	 * point beyond the noise. */
	if (!j->favor && !j->against && !j->ties)
		j->v = PV_MISSING;
	else if (j->against)
		j->v = PV_FAILS;
	else if (!j->favor)
		j->v = PV_NOISE;
	else if (j->ties && strcmp(c->kind, "above") && strcmp(c->kind, "below"))
		j->v = PV_NOISE;
	else
		j->v = PV_HOLDS;
}

static const char *verdict_name(enum paper_verdict v)
{
	switch (v) {
	case PV_HOLDS:
		return "holds";
	case PV_FAILS:
		return "does not hold";
	case PV_NOISE:
		return "within noise";
	default:
		return "not measured";
	}
}

static void noise_text(const struct judged *j, char *buf, size_t len)
{
	if (j->v == PV_MISSING)
		snprintf(buf, len, "-");
	else if (!j->noise_known)
		snprintf(buf, len, "unknown (one run per point)");
	else
		snprintf(buf, len, "%.3g", j->noise);
}

/* The claims table, in Markdown (also what is printed). */
static void write_table(FILE *f, const struct paper_claim *c, const struct judged *j, int n,
                        struct experiment *e, int ne)
{
	fprintf(f, "| claim | figure | the paper says | test | measured | noise | verdict |\n"
	           "|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < n; i++) {
		char noise[64], bound[32] = "";
		noise_text(&j[i], noise, sizeof(noise));
		if (!isnan(c[i].bound))
			snprintf(bound, sizeof(bound), " %g", c[i].bound);
		/* Without repeats a verdict rests on one run: it says so. */
		fprintf(f, "| %s | %s | %s | `%s %s%s%s %s%s` in %s | %s | %s | **%s**%s |\n",
		        c[i].id, c[i].figure, c[i].claim, c[i].kind, c[i].a, *c[i].b ? " " : "",
		        c[i].b, c[i].metric, bound, c[i].experiment,
		        *j[i].measured ? j[i].measured : "-", noise, verdict_name(j[i].v),
		        j[i].v != PV_MISSING && !j[i].noise_known ? " (one run)" : "");
	}
	int notes = 0;
	for (int i = 0; i < n; i++) {
		if (j[i].v == PV_HOLDS)
			continue;
		if (!notes++)
			fprintf(f,
			        "\nWhere a claim does not hold here, or the runs cannot tell:\n\n");
		const struct experiment *x = NULL;
		for (int k = 0; k < ne; k++)
			if (!strcmp(e[k].name, c[i].experiment))
				x = &e[k];
		/* A claim not measured has no result to explain: say what is missing. */
		const char *why =
		    j[i].v == PV_MISSING && x && !x->loaded ? x->err
		    : j[i].v == PV_MISSING && x && !x->n && x->invalid
		        ? "every run of the experiment was left out: its emulation was not valid "
		          "(see each run's emulation.txt)."
		    : j[i].v == PV_MISSING
		        ? "the experiment has no points this test needs (a trend "
		          "needs two; the quick version sweeps fewer)."
		    : *c[i].note ? c[i].note
		                 : "no note in the claims file.";
		fprintf(f, "- **%s** (%s): %s\n", c[i].id, verdict_name(j[i].v), why);
	}
}

/* One experiment's section: runs, validity, pictures and its points. */
static void write_experiment(FILE *f, const struct paper_opts *o, struct experiment *x)
{
	fprintf(f, "\n## Experiment `%s`\n\n", x->name);
	if (!x->loaded) {
		fprintf(f, "Not measured: %s\n", x->err);
		return;
	}
	fprintf(f, "Runs with a valid emulation: %d%s", x->n, x->invalid ? "; " : ".\n");
	if (x->invalid)
		fprintf(f,
		        "%d left out: their emulation was not valid (see each run's "
		        "emulation.txt).\n",
		        x->invalid);
	char pdir[1200], names[256], err[512];
	snprintf(pdir, sizeof(pdir), "%s/%s", o->out, x->name);
	if (x->n && sweep_draw(x->rows, x->n, pdir, names, sizeof(names), err, sizeof(err)))
		fprintf(f, "\nPictures not drawn: %s\n", err);
	else if (x->n)
		for (char *save = NULL, *t = strtok_r(names, " ", &save); t;
		     t = strtok_r(NULL, " ", &save))
			fprintf(f, "\n![%s](%s/%s.svg)\n", t, x->name, t);
	static const int cols[] = {M_PLAYED_SHARE,   M_CONTINUITY, M_STARTUP_P50, M_STARTUP_P95,
	                           M_S2E_P50,        M_S2E_P95,    M_UTILIZATION, M_HEIGHT_MEAN,
	                           M_OVERHEAD_BYTES, M_PROBE_SHARE};
	const size_t ncols = sizeof(cols) / sizeof(cols[0]);
	/* With repeats the range is shown beside the mean: one seed's tail can
	 * differ from another's by more than the modes do. */
	fprintf(f, "\nEach cell is the mean over the point's valid runs, with the lowest and "
	           "highest in brackets when there are more than one.\n");
	fprintf(f, "\n| point | mode | runs |");
	for (size_t k = 0; k < ncols; k++)
		fprintf(f, " %s |", metric_defs[cols[k]].name);
	fprintf(f, "\n|---|---|---|");
	for (size_t k = 0; k < ncols; k++)
		fprintf(f, "---|");
	fprintf(f, "\n");
	for (int i = 0; i < x->n; i++) {
		int first = 1;
		for (int k = 0; k < i && first; k++)
			first = strcmp(x->rows[k].point, x->rows[i].point) != 0;
		if (!first)
			continue;
		struct sweep_stats st;
		stats(x, x->rows[i].mode, x->rows[i].x, M_CONTINUITY, &st);
		fprintf(f, "| %s | %s | %d |", x->rows[i].x, x->rows[i].mode, st.n);
		for (size_t k = 0; k < ncols; k++) {
			stats(x, x->rows[i].mode, x->rows[i].x, cols[k], &st);
			if (!st.n)
				fprintf(f, " - |");
			else if (st.n == 1)
				fprintf(f, " %.4g |", st.mean);
			else
				fprintf(f, " %.4g [%.4g, %.4g] |", st.mean, st.lo, st.hi);
		}
		fprintf(f, "\n");
	}
}

static int write_readme(const struct paper_opts *o, const struct paper_claim *c,
                        const struct judged *j, int n, struct experiment *e, int ne, char *err,
                        size_t errlen)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/README.md", o->out);
	FILE *f = rundir_fopen(path, "w");
	if (!f)
		return err_set(err, errlen, "create %s: %s", path, strerror(errno));
	fprintf(f,
	        "# The paper's claims on this testbed\n\n"
	        "Each claim of Liao et al. (INFOCOM 2006) judged on the testbed's own runs: "
	        "AnySee (`anysee`), its ablation without inter-overlay relays "
	        "(`anysee-intra`) and the CoolStreaming/DONet baseline (`coolstreaming`), "
	        "same scenarios and seeds. A difference counts only beyond the noise (twice "
	        "the standard error over repeated runs); runs whose emulation was not valid "
	        "are left out. Written by `make paper`; the claims are in `%s`.\n\n",
	        o->claims);
	FILE *s = o->setup ? rundir_fopen(o->setup, "r") : NULL;
	if (s) {
		char line[1024];
		while (fgets(line, sizeof(line), s))
			fputs(line, f);
		fclose(s);
		fputc('\n', f);
	}
	write_table(f, c, j, n, e, ne);
	for (int i = 0; i < ne; i++)
		write_experiment(f, o, &e[i]);
	if (fclose(f))
		return err_set(err, errlen, "write %s: %s", path, strerror(errno));
	return 0;
}

int paper_report(const struct paper_opts *o, FILE *out, char *err, size_t errlen)
{
	static struct paper_claim c[PAPER_MAX_CLAIMS];
	static struct judged j[PAPER_MAX_CLAIMS];
	static struct experiment e[PAPER_MAX_EXPERIMENTS];
	int n, ne = 0, rc = -1;
	if (read_claims(o->claims, c, &n, err, errlen))
		return -1;
	for (int i = 0; i < n; i++) {
		struct experiment *x = experiment_get(e, &ne, o->runs, c[i].experiment);
		if (!x) {
			err_set(err, errlen, "%s:%d: more than %d experiments", o->claims,
			        c[i].line, PAPER_MAX_EXPERIMENTS);
			goto out;
		}
		judge(x, &c[i], &j[i]);
	}
	/* Experiments no claim tests (the modes side by side) are reported too. */
	struct dirent **names;
	int nn = scandir(o->runs, &names, NULL, alphasort);
	for (int i = 0; i < nn; i++) {
		char csv[1200];
		snprintf(csv, sizeof(csv), "%s/%s/sweep.csv", o->runs, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && access(csv, R_OK) == 0)
			experiment_get(e, &ne, o->runs, names[i]->d_name);
		free(names[i]);
	}
	if (nn >= 0)
		free(names);
	if (mkdir(o->out, 0755) && errno != EEXIST) {
		err_set(err, errlen, "create %s: %s", o->out, strerror(errno));
		goto out;
	}
	if (write_readme(o, c, j, n, e, ne, err, errlen))
		goto out;
	write_table(out, c, j, n, e, ne);
	rc = 0;
out:
	for (int i = 0; i < ne; i++)
		free(e[i].rows);
	return rc;
}
