#include "analysis/sweep.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis/metric.h"
#include "analysis/plot.h"
#include "lib/rundir.h"
#include "lib/util.h"

/* sweep.csv: the point and seed, the peers, every summary metric under
 * its metrics.json name (metric_defs; empty where the run cannot tell),
 * then the emulation verdict and the run directory. Readers find a column
 * by its name, so metrics can be added without breaking them. */
static int csv_metric(int i)
{
	return i != M_EMULATION_VALID;
}

FILE *sweep_csv_open(const char *parent, char *err, size_t errlen)
{
	char path[1200];
	if (rundir_path(path, sizeof(path), parent, RUNDIR_SWEEP_CSV)) {
		err_set(err, errlen, "%s/%s: path too long", parent, RUNDIR_SWEEP_CSV);
		return NULL;
	}
	FILE *f = rundir_fopen(path, "w");
	if (!f) {
		err_set(err, errlen, "create %s: %s", path, strerror(errno));
		return NULL;
	}
	fprintf(f, "point,seed,peers");
	for (int i = 0; i < M_COUNT; i++)
		if (csv_metric(i))
			fprintf(f, ",%s", metric_defs[i].name);
	fprintf(f, ",valid,run_dir\n");
	return f;
}

void sweep_csv_row(FILE *f, const char *point, uint64_t seed, const struct run_summary *s,
                   const char *run_dir)
{
	fprintf(f, "\"%s\",%llu,%d", point, (unsigned long long)seed, s->peers);
	for (int i = 0; i < M_COUNT; i++) {
		if (!csv_metric(i))
			continue;
		if (isnan(s->metric[i]))
			fprintf(f, ",");
		else
			fprintf(f, ",%.6g", s->metric[i]);
	}
	/* valid: 1 or 0 as the emulation was judged, empty when it was not. */
	fprintf(f, ",%s,%s\n", s->valid < 0 ? "" : s->valid ? "1" : "0", run_dir);
	fflush(f);
}

/* Splits a point "a=1,mode=anysee" into its mode and the rest. */
static void split_point(struct sweep_row *r)
{
	snprintf(r->mode, sizeof(r->mode), "all");
	*r->x = 0;
	char buf[sizeof(r->point)];
	snprintf(buf, sizeof(buf), "%s", r->point);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strncmp(t, "mode=", 5)) {
			snprintf(r->mode, sizeof(r->mode), "%s", t + 5);
		} else {
			size_t l = strlen(r->x);
			snprintf(r->x + l, sizeof(r->x) - l, "%s%s", l ? "," : "", t);
		}
	}
	/* A sweep of the mode alone: every mode at the one point, "all". */
	if (!*r->x)
		snprintf(r->x, sizeof(r->x), "all");
}

/* What each column of the header holds: a metric id, or one of these. */
enum { COL_SEED = -2, COL_PEERS = -3, COL_VALID = -4, COL_RUN_DIR = -5, COL_OTHER = -6 };

static int parse_header(char *line, int *cols, int maxcols)
{
	line[strcspn(line, "\r\n")] = 0;
	int n = 0;
	for (char *save = NULL, *t = strtok_r(line, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		if (n == maxcols)
			return -1;
		int id = metric_find(t);
		cols[n++] = id >= 0                 ? id
		            : !strcmp(t, "seed")    ? COL_SEED
		            : !strcmp(t, "peers")   ? COL_PEERS
		            : !strcmp(t, "valid")   ? COL_VALID
		            : !strcmp(t, "run_dir") ? COL_RUN_DIR
		                                    : COL_OTHER;
	}
	/* The first column is the point, the last the run directory. */
	return n >= 2 && cols[n - 1] == COL_RUN_DIR ? n : -1;
}

static int parse_field(struct sweep_row *r, int col, const char *v)
{
	char *end;
	errno = 0;
	double d = *v ? strtod(v, &end) : NAN;
	if (*v && (*end || errno))
		return col == COL_OTHER ? 0 : -1;
	if (col >= 0)
		r->v[col] = d;
	else if (col == COL_SEED)
		r->seed = isnan(d) ? 0 : (uint64_t)d;
	else if (col == COL_PEERS)
		r->peers = isnan(d) ? 0 : (int)d;
	else if (col == COL_VALID)
		r->valid = isnan(d) ? -1 : d != 0;
	return 0;
}

static int parse_row(char *line, const int *cols, int ncols, struct sweep_row *r)
{
	line[strcspn(line, "\r\n")] = 0;
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < M_COUNT; i++)
		r->v[i] = NAN;
	r->valid = -1;
	char *end = *line == '"' ? strchr(line + 1, '"') : NULL;
	if (!end || end[1] != ',' || (size_t)(end - line - 1) >= sizeof(r->point))
		return -1;
	memcpy(r->point, line + 1, (size_t)(end - line - 1));
	split_point(r);
	char *p = end + 2;
	for (int c = 1; c < ncols; c++) {
		if (c == ncols - 1) {
			snprintf(r->run_dir, sizeof(r->run_dir), "%s", p);
			return 0;
		}
		char *comma = strchr(p, ',');
		if (!comma)
			return -1;
		*comma = 0;
		if (parse_field(r, cols[c], p))
			return -1;
		p = comma + 1;
	}
	return -1;
}

static int grow(struct sweep_row **rows, int n, int *cap)
{
	if (n < *cap)
		return 0;
	int nc = *cap ? 2 * *cap : 32;
	struct sweep_row *nr = realloc(*rows, (size_t)nc * sizeof(*nr));
	if (!nr)
		return -1;
	*rows = nr;
	*cap = nc;
	return 0;
}

int sweep_read(const char *parent, struct sweep_row **rows, int *n, char *err, size_t errlen)
{
	char path[1200], line[4096];
	int cols[64], ncols = -1;
	*rows = NULL;
	*n = 0;
	if (rundir_path(path, sizeof(path), parent, RUNDIR_SWEEP_CSV))
		return err_set(err, errlen, "%s/%s: path too long", parent, RUNDIR_SWEEP_CSV);
	FILE *f = rundir_fopen(path, "r");
	if (!f)
		return err_set(err, errlen, "open %s: %s", path, strerror(errno));
	int cap = 0, lineno = 0, rc = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		if (++lineno == 1) {
			if ((ncols = parse_header(line, cols, 64)) < 0)
				rc = err_set(err, errlen, "%s:1: not a sweep.csv header", path);
		} else if (grow(rows, *n, &cap)) {
			rc = err_set(err, errlen, "read %s: out of memory", path);
		} else if (parse_row(line, cols, ncols, &(*rows)[*n])) {
			rc = err_set(err, errlen, "%s:%d: not a sweep row", path, lineno);
		} else {
			(*n)++;
		}
	}
	fclose(f);
	if (!rc && !*n)
		rc = err_set(err, errlen, "%s: no runs", path);
	if (rc) {
		free(*rows);
		*rows = NULL;
		*n = 0;
	}
	return rc;
}

/* The pictures of a sweep: file, metric, title, unit. */
static const struct {
	const char *file;
	int metric;
	const char *title, *ylabel;
} sw_plots[] = {
    {"sweep_played", M_PLAYED_SHARE, "Peers that played", "share of peers"},
    {"sweep_startup", M_STARTUP_P50, "Startup delay (median over peers)", "s"},
    {"sweep_delay", M_S2E_P50, "Source-to-end delay, steady state (median)", "ms"},
    {"sweep_continuity", M_CONTINUITY, "Continuity index", "continuity"},
    {"sweep_utilization", M_UTILIZATION, "Resource utilization (upload used)", "share"},
    {"sweep_height", M_HEIGHT_MEAN, "Tree height (mean overlay hops)", "hops"},
};
#define SW_PLOTS (int)(sizeof(sw_plots) / sizeof(sw_plots[0]))

int sweep_x_index(const struct sweep_row *rows, int i)
{
	int k = 0;
	for (int j = 0; j < i; j++) {
		int seen = 0;
		for (int l = 0; l < j && !seen; l++)
			seen = !strcmp(rows[l].x, rows[j].x);
		if (!seen) {
			if (!strcmp(rows[j].x, rows[i].x))
				return k;
			k++;
		}
	}
	return k;
}

void sweep_point_stats(const struct sweep_row *rows, int n, const char *mode, const char *x,
                       int metric, struct sweep_stats *st)
{
	double sum = 0, sq = 0;
	st->n = 0;
	st->lo = INFINITY;
	st->hi = -INFINITY;
	for (int j = 0; j < n; j++) {
		double v = rows[j].v[metric];
		if (strcmp(rows[j].mode, mode) || strcmp(rows[j].x, x) || isnan(v))
			continue;
		sum += v;
		sq += v * v;
		st->lo = v < st->lo ? v : st->lo;
		st->hi = v > st->hi ? v : st->hi;
		st->n++;
	}
	st->mean = st->n ? sum / st->n : NAN;
	/* The standard error of the mean over the repeats; unknown for one. */
	double var = st->n > 1 ? (sq - sum * sum / st->n) / (st->n - 1) : NAN;
	st->se = st->n > 1 ? sqrt(var > 0 ? var : 0) / sqrt(st->n) : NAN;
}

/* The x value as the axis shows it: "200kbit" when every point sweeps
 * the one parameter "rate" (then *name is it), else the whole point. */
static const char *x_label(const struct sweep_row *rows, int n, int i, char *name, size_t len)
{
	const char *eq = strchr(rows[0].x, '=');
	size_t l = eq ? (size_t)(eq - rows[0].x) : 0;
	for (int j = 0; j < n && l; j++)
		if (strncmp(rows[j].x, rows[0].x, l + 1) || strchr(rows[j].x, ','))
			l = 0;
	snprintf(name, len, "%.*s", l ? (int)l : 11, l ? rows[0].x : "sweep point");
	return l ? rows[i].x + l + 1 : rows[i].x;
}

/* One block per mode: "index x mean min max", one line per x. */
static void write_metric(FILE *f, const struct sweep_row *rows, int n, int m, const char *mode)
{
	fprintf(f, "# %s\n", mode);
	char name[64];
	for (int i = 0; i < n; i++) {
		int first = !strcmp(rows[i].mode, mode);
		for (int j = 0; j < i && first; j++)
			first = strcmp(rows[j].mode, mode) || strcmp(rows[j].x, rows[i].x);
		struct sweep_stats st;
		if (first)
			sweep_point_stats(rows, n, mode, rows[i].x, m, &st);
		if (first && st.n)
			fprintf(f, "%d \"%s\" %.6f %.6f %.6f\n", sweep_x_index(rows, i),
			        x_label(rows, n, i, name, sizeof(name)), st.mean, st.lo, st.hi);
	}
	fprintf(f, "\n\n");
}

static int write_one(FILE *gp, const char *pdir, int p, const struct sweep_row *rows, int n,
                     char *err, size_t errlen)
{
	char path[1400];
	snprintf(path, sizeof(path), "%s/%s.dat", pdir, sw_plots[p].file);
	FILE *f = rundir_fopen(path, "w");
	if (!f)
		return err_set(err, errlen, "write %s: %s", path, strerror(errno));
	fprintf(gp, "set output '%s.'.ext\nset title '%s'\nset ylabel '%s'\nplot ",
	        sw_plots[p].file, sw_plots[p].title, sw_plots[p].ylabel);
	int blocks = 0;
	for (int i = 0; i < n; i++) {
		int seen = 0;
		for (int j = 0; j < i && !seen; j++)
			seen = !strcmp(rows[j].mode, rows[i].mode);
		if (seen)
			continue;
		write_metric(f, rows, n, sw_plots[p].metric, rows[i].mode);
		fprintf(gp,
		        "%s'%s.dat' index %d using 1:3:4:5:xtic(2) with yerrorlines lw 2 "
		        "title '%s'",
		        blocks ? ", " : "", sw_plots[p].file, blocks, rows[i].mode);
		blocks++;
	}
	fprintf(gp, "\n");
	return fclose(f);
}

static int write_files(const char *pdir, const struct sweep_row *rows, int n, char *names,
                       size_t nameslen, char *err, size_t errlen)
{
	char path[1400], xname[64];
	rundir_path(path, sizeof(path), pdir, "plots.gp");
	FILE *gp = rundir_fopen(path, "w");
	if (!gp)
		return err_set(err, errlen, "write %s: %s", path, strerror(errno));
	x_label(rows, n, 0, xname, sizeof(xname));
	fprintf(gp,
	        "# Drawn by anysee-analyze; run again with: gnuplot plots.gp\n"
	        "do for [ext in 'svg png'] {\n"
	        "if (ext eq 'svg') { set terminal svg size 800,500 dynamic } "
	        "else { set terminal pngcairo size 800,500 }\nset grid\nset key outside\n"
	        "set xlabel '%s'\nset offsets 0.3, 0.3, 0, 0\n",
	        xname);
	*names = 0;
	for (int p = 0; p < SW_PLOTS; p++) {
		if (write_one(gp, pdir, p, rows, n, err, errlen)) {
			fclose(gp);
			return -1;
		}
		size_t l = strlen(names);
		snprintf(names + l, nameslen - l, "%s%s", l ? " " : "", sw_plots[p].file);
	}
	fprintf(gp, "}\n");
	return fclose(gp);
}

int sweep_draw(const struct sweep_row *rows, int n, const char *pdir, char *names, size_t nameslen,
               char *err, size_t errlen)
{
	*names = 0;
	int rc = -1;
	if (strchr(pdir, '\''))
		err_set(err, errlen, "picture directory %s: a quote in the path", pdir);
	else if (mkdir(pdir, 0755) && errno != EEXIST)
		err_set(err, errlen, "create %s: %s", pdir, strerror(errno));
	else if (!write_files(pdir, rows, n, names, nameslen, err, errlen))
		rc = plot_gnuplot(pdir, err, errlen);
	if (rc)
		*names = 0;
	return rc;
}

int sweep_plot(const char *parent, char *names, size_t nameslen, char *err, size_t errlen)
{
	*names = 0;
	struct sweep_row *rows = NULL;
	int n;
	char pdir[1200];
	if (rundir_path(pdir, sizeof(pdir), parent, PLOT_DIR))
		return err_set(err, errlen, "%s/%s: path too long", parent, PLOT_DIR);
	if (sweep_read(parent, &rows, &n, err, errlen))
		return -1;
	int rc = sweep_draw(rows, n, pdir, names, nameslen, err, errlen);
	free(rows);
	return rc;
}
