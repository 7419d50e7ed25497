#include "analysis/sweep.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis/plot.h"
#include "lib/rundir.h"
#include "lib/util.h"

#define SWEEP_HEADER                                                                               \
	"point,seed,peers,played,startup_median_s,delay_median_ms,continuity,verified,"            \
	"control_overhead,valid,run_dir"

FILE *sweep_csv_open(const char *parent, char *err, size_t errlen)
{
	char path[1200];
	if (rundir_path(path, sizeof(path), parent, RUNDIR_SWEEP_CSV)) {
		err_set(err, errlen, "%s/%s: path too long", parent, RUNDIR_SWEEP_CSV);
		return NULL;
	}
	FILE *f = rundir_fopen(path, "w");
	if (!f)
		err_set(err, errlen, "create %s: %s", path, strerror(errno));
	else
		fprintf(f, SWEEP_HEADER "\n");
	return f;
}

void sweep_csv_row(FILE *f, const char *point, uint64_t seed, const struct run_summary *s,
                   const char *run_dir)
{
	/* valid: 1 or 0 as the emulation was judged, empty when it was not. */
	fprintf(f, "\"%s\",%llu,%d,%d,%.3f,%.1f,%.5f,%.5f,%.5f,%s,%s\n", point,
	        (unsigned long long)seed, s->peers, s->played, s->startup_median_s,
	        s->delay_median_ms, s->continuity, s->verified, s->control_overhead,
	        s->valid < 0 ? ""
	        : s->valid   ? "1"
	                     : "0",
	        run_dir);
	fflush(f);
}

enum { SW_PLAYED, SW_STARTUP, SW_DELAY, SW_CONTINUITY, SW_METRICS };

static const struct {
	const char *file, *title, *ylabel;
} sw_metrics[SW_METRICS] = {
    [SW_PLAYED] = {"sweep_played", "Peers that played", "share of peers"},
    [SW_STARTUP] = {"sweep_startup", "Startup delay (median over peers)", "s"},
    [SW_DELAY] = {"sweep_delay", "Source-to-end delay (median over peers)", "ms"},
    [SW_CONTINUITY] = {"sweep_continuity", "Continuity index", "continuity"},
};

struct sw_row {
	char x[64];    /* the swept value other than the mode, or the point */
	char mode[32]; /* the mode of the point, or "all" */
	double v[SW_METRICS];
};

/* Splits a point "a=1,mode=anysee" into its mode and the rest. */
static void split_point(const char *point, struct sw_row *r)
{
	snprintf(r->mode, sizeof(r->mode), "all");
	*r->x = 0;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", point);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strncmp(t, "mode=", 5)) {
			snprintf(r->mode, sizeof(r->mode), "%s", t + 5);
		} else {
			size_t l = strlen(r->x);
			snprintf(r->x + l, sizeof(r->x) - l, "%s%s", l ? "," : "", t);
		}
	}
	if (!*r->x)
		snprintf(r->x, sizeof(r->x), "%s", *point ? point : "-");
}

static int parse_row(char *line, struct sw_row *r)
{
	if (*line != '"')
		return -1;
	char *end = strchr(line + 1, '"');
	if (!end || end[1] != ',')
		return -1;
	*end = 0;
	split_point(line + 1, r);
	unsigned long long seed;
	int peers, played;
	double startup, delay, cont;
	if (sscanf(end + 2, "%llu,%d,%d,%lf,%lf,%lf", &seed, &peers, &played, &startup, &delay,
	           &cont) != 6)
		return -1;
	r->v[SW_PLAYED] = peers ? (double)played / peers : 0;
	r->v[SW_STARTUP] = startup;
	r->v[SW_DELAY] = delay;
	r->v[SW_CONTINUITY] = cont;
	return 0;
}

static int read_rows(const char *parent, struct sw_row **rows, int *n, char *err, size_t errlen)
{
	char path[1200], line[2048];
	*rows = NULL;
	*n = 0;
	if (rundir_path(path, sizeof(path), parent, RUNDIR_SWEEP_CSV))
		return err_set(err, errlen, "%s/%s: path too long", parent, RUNDIR_SWEEP_CSV);
	FILE *f = rundir_fopen(path, "r");
	if (!f)
		return err_set(err, errlen, "open %s: %s", path, strerror(errno));
	int cap = 0, lineno = 0, rc = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		if (++lineno == 1)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 32;
			struct sw_row *nr = realloc(*rows, (size_t)cap * sizeof(*nr));
			if (!nr) {
				rc = err_set(err, errlen, "read %s: out of memory", path);
				break;
			}
			*rows = nr;
		}
		if (parse_row(line, &(*rows)[*n]))
			rc = err_set(err, errlen, "%s:%d: not a sweep row", path, lineno);
		else
			(*n)++;
	}
	fclose(f);
	if (!rc && !*n)
		rc = err_set(err, errlen, "%s: no runs", path);
	return rc;
}

/* The distinct x values in first-seen order, as the plots' categories. */
static int x_index(const struct sw_row *rows, int i)
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

/* One block per mode: "index x mean min max", one line per x. */
static void write_metric(FILE *f, const struct sw_row *rows, int n, int m, const char *mode)
{
	fprintf(f, "# %s\n", mode);
	for (int i = 0; i < n; i++) {
		if (strcmp(rows[i].mode, mode))
			continue;
		int first = 1;
		for (int j = 0; j < i && first; j++)
			first = strcmp(rows[j].mode, mode) || strcmp(rows[j].x, rows[i].x);
		if (!first)
			continue;
		double sum = 0, lo = INFINITY, hi = -INFINITY;
		int k = 0;
		for (int j = i; j < n; j++) {
			if (strcmp(rows[j].mode, mode) || strcmp(rows[j].x, rows[i].x))
				continue;
			double v = rows[j].v[m];
			sum += v;
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
			k++;
		}
		fprintf(f, "%d \"%s\" %.6f %.6f %.6f\n", x_index(rows, i), rows[i].x, sum / k, lo,
		        hi);
	}
	fprintf(f, "\n\n");
}

static int write_files(const char *pdir, const struct sw_row *rows, int n, char *names,
                       size_t nameslen, char *err, size_t errlen)
{
	char path[1400];
	rundir_path(path, sizeof(path), pdir, "plots.gp");
	FILE *gp = rundir_fopen(path, "w");
	if (!gp)
		return err_set(err, errlen, "write %s: %s", path, strerror(errno));
	fprintf(gp, "# Drawn by anysee-analyze; run again with: gnuplot plots.gp\n"
	            "do for [ext in 'svg png'] {\n"
	            "if (ext eq 'svg') { set terminal svg size 800,500 dynamic } "
	            "else { set terminal pngcairo size 800,500 }\nset grid\nset key outside\n"
	            "set xlabel 'sweep point'\nset offsets 0.3, 0.3, 0, 0\n");
	*names = 0;
	for (int m = 0; m < SW_METRICS; m++) {
		snprintf(path, sizeof(path), "%s/%s.dat", pdir, sw_metrics[m].file);
		FILE *f = rundir_fopen(path, "w");
		if (!f) {
			fclose(gp);
			return err_set(err, errlen, "write %s: %s", path, strerror(errno));
		}
		fprintf(gp, "set output '%s.'.ext\nset title '%s'\nset ylabel '%s'\nplot ",
		        sw_metrics[m].file, sw_metrics[m].title, sw_metrics[m].ylabel);
		int blocks = 0;
		for (int i = 0; i < n; i++) {
			int seen = 0;
			for (int j = 0; j < i && !seen; j++)
				seen = !strcmp(rows[j].mode, rows[i].mode);
			if (seen)
				continue;
			write_metric(f, rows, n, m, rows[i].mode);
			fprintf(gp,
			        "%s'%s.dat' index %d using 1:3:4:5:xtic(2) with yerrorlines lw 2 "
			        "title '%s'",
			        blocks ? ", " : "", sw_metrics[m].file, blocks, rows[i].mode);
			blocks++;
		}
		fprintf(gp, "\n");
		fclose(f);
		size_t l = strlen(names);
		snprintf(names + l, nameslen - l, "%s%s", l ? " " : "", sw_metrics[m].file);
	}
	fprintf(gp, "}\n");
	return fclose(gp);
}

int sweep_plot(const char *parent, char *names, size_t nameslen, char *err, size_t errlen)
{
	*names = 0;
	struct sw_row *rows = NULL;
	int n;
	if (read_rows(parent, &rows, &n, err, errlen)) {
		free(rows);
		return -1;
	}
	char pdir[1200];
	int rc = -1;
	if (strchr(parent, '\''))
		err_set(err, errlen, "sweep directory %s: a quote in the path", parent);
	else if (rundir_path(pdir, sizeof(pdir), parent, PLOT_DIR))
		err_set(err, errlen, "%s/%s: path too long", parent, PLOT_DIR);
	else if (mkdir(pdir, 0755) && errno != EEXIST)
		err_set(err, errlen, "create %s: %s", pdir, strerror(errno));
	else if (!write_files(pdir, rows, n, names, nameslen, err, errlen))
		rc = plot_gnuplot(pdir, err, errlen);
	if (rc)
		*names = 0;
	free(rows);
	return rc;
}
