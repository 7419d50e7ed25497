#include "analysis/plot.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "lib/rundir.h"
#include "lib/util.h"

extern char **environ;

/* Quantile points drawn for a histogram's CDF. */
#define CDF_STEPS 200

static FILE *open_data(const char *pdir, const char *name, char *err, size_t errlen)
{
	char path[1400];
	if (rundir_path(path, sizeof(path), pdir, name)) {
		err_set(err, errlen, "%s/%s: path too long", pdir, name);
		return NULL;
	}
	FILE *f = rundir_fopen(path, "w");
	if (!f)
		err_set(err, errlen, "write %s: %s", path, strerror(errno));
	return f;
}

/* One block per mode ("# mode" then "value share" lines), blocks apart by
 * two blank lines so gnuplot's index selects them. */
static void startup_data(FILE *f, const struct run_metrics *m, const struct metrics_group *g)
{
	double *v = calloc((size_t)m->npeers + 1, sizeof(*v));
	size_t n = 0;
	for (int i = 0; v && i < m->npeers; i++)
		if (m->p[i].started && !strcmp(m->p[i].mode, g->name))
			v[n++] = m->p[i].startup_s;
	sort_doubles(v, n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%.4f %.4f\n", v[i], (double)(i + 1) / (double)n);
	free(v);
}

static void hist_data(FILE *f, const struct hist *h, double scale)
{
	for (int k = 0; h->n && k <= CDF_STEPS; k++) {
		double q = (double)k / CDF_STEPS;
		fprintf(f, "%.4f %.4f\n", hist_quantile(h, q) * scale, q);
	}
}

enum cdf_kind { CDF_STARTUP, CDF_DELAY, CDF_STRETCH };

static int write_cdf(const char *pdir, const char *name, const struct run_metrics *m,
                     enum cdf_kind kind, char *err, size_t errlen)
{
	FILE *f = open_data(pdir, name, err, errlen);
	if (!f)
		return -1;
	for (int i = 0; i < m->ngroups; i++) {
		const struct metrics_group *g = &m->g[i];
		if (strcmp(g->kind, "mode"))
			continue;
		fprintf(f, "# %s\n", g->name);
		if (kind == CDF_STARTUP)
			startup_data(f, m, g);
		else
			hist_data(f, kind == CDF_DELAY ? &g->delay : &g->stretch, 1e-3);
		fprintf(f, "\n\n");
	}
	return fclose(f);
}

static int write_timeline(const char *pdir, const struct run_metrics *m, char *err, size_t errlen)
{
	FILE *f = open_data(pdir, "timeline.dat", err, errlen);
	if (!f)
		return -1;
	fprintf(f, "# second continuity playing joins leaves crashes idle\n");
	size_t last = 0;
	for (size_t i = 0; i < m->tl.n; i++)
		if (m->tl.s[i].due || m->tl.s[i].joins || m->tl.s[i].leaves || m->tl.s[i].crashes)
			last = i + 1;
	for (size_t i = 0; i < last; i++) {
		const struct timeline_sec *s = &m->tl.s[i];
		if (s->due)
			fprintf(f, "%zu %.5f", i, (double)s->on_time / (double)s->due);
		else
			fprintf(f, "%zu NaN", i);
		fprintf(f, " %u %u %u %u", s->playing, s->joins, s->leaves, s->crashes);
		if (s->have_idle)
			fprintf(f, " %.4f\n", s->idle);
		else
			fprintf(f, " NaN\n");
	}
	return fclose(f);
}

static int write_overhead(const char *pdir, const struct overhead *o, char *err, size_t errlen)
{
	FILE *f = open_data(pdir, "overhead.dat", err, errlen);
	if (!f)
		return -1;
	fprintf(f, "# type bytes messages\n");
	for (int t = 1; t < WIRE_TYPE_MAX; t++) {
		char key[32];
		overhead_type_key(t, key, sizeof(key));
		fprintf(f, "%s %llu %llu\n", key, (unsigned long long)o->type[t].bytes,
		        (unsigned long long)o->type[t].packets);
	}
	return fclose(f);
}

/* The plot command for a CDF file: one line per mode block. */
static void cdf_plot(FILE *f, const struct run_metrics *m, const char *file)
{
	int k = 0;
	fprintf(f, "plot ");
	for (int i = 0; i < m->ngroups; i++) {
		if (strcmp(m->g[i].kind, "mode"))
			continue;
		fprintf(f, "%s'%s' index %d using 1:2 with steps lw 2 title '%s'", k ? ", " : "",
		        file, k, m->g[i].name);
		k++;
	}
	fprintf(f, "\n");
}

static void script_cdf(FILE *f, const struct run_metrics *m, const char *name, const char *xlabel,
                       int logx)
{
	fprintf(f,
	        "set output '%s.'.ext\nset title '%s'\nset xlabel '%s'\nset ylabel 'share of "
	        "%s'\nset yrange [0:1]\n%sset key bottom right\n",
	        name, xlabel, xlabel, strcmp(name, "startup_cdf") ? "segments" : "peers",
	        logx ? "set logscale x\n" : "unset logscale x\n");
	char file[64];
	snprintf(file, sizeof(file), "%s.dat", name);
	cdf_plot(f, m, file);
	fprintf(f, "unset logscale x\nset yrange [*:*]\n");
}

static void script_timeline(FILE *f)
{
	fprintf(
	    f,
	    "set output 'timeline.'.ext\nset title 'Continuity, peers and the machine over time'\n"
	    "set xlabel 'time since the first peer started (s)'\n"
	    "set ylabel 'continuity index; idle share (per second)'\nset y2label 'peers'\n"
	    "set y2tics\nset ytics nomirror\nset yrange [0:1.05]\nset key bottom left\n"
	    "plot 'timeline.dat' using 1:2 with lines lw 2 title 'continuity', "
	    "'' using 1:7 with lines dt 2 title 'machine idle (share of the CPUs)', "
	    "'' using 1:3 axes x1y2 with lines title 'peers playing', "
	    "'' using 1:($4 > 0 ? $4 : 1/0) axes x1y2 with impulses title 'joins', "
	    "'' using 1:($5 > 0 ? $5 : 1/0) axes x1y2 with points pt 6 title 'leaves', "
	    "'' using 1:($6 > 0 ? $6 : 1/0) axes x1y2 with points pt 2 title 'crashes'\n"
	    "unset y2tics\nunset y2label\nset ytics mirror\nset yrange [*:*]\n");
}

static void script_overhead(FILE *f)
{
	fprintf(f, "set output 'overhead.'.ext\nset title 'Bytes on the wire by message type'\n"
	           "set xlabel ''\nset ylabel 'bytes'\nset logscale y\nset style fill solid 0.6\n"
	           "set boxwidth 0.7\nset xtics rotate by -45\nunset key\n"
	           "plot 'overhead.dat' using 0:($2 > 0 ? $2 : 1/0):xtic(1) with boxes\n"
	           "unset logscale y\nset xtics norotate\nset key\n");
}

/* The script draws everything once per terminal, so SVG and PNG agree. */
static int write_script(const char *pdir, const struct run_metrics *m, char *names, size_t nameslen,
                        char *err, size_t errlen)
{
	FILE *f = open_data(pdir, "plots.gp", err, errlen);
	if (!f)
		return -1;
	snprintf(names, nameslen, "startup_cdf delay_cdf%s timeline%s",
	         m->have_delays ? " stretch_cdf" : "", m->have_overhead ? " overhead" : "");
	fprintf(f, "# Drawn by anysee-analyze; run again with: gnuplot plots.gp\n"
	           "do for [ext in 'svg png'] {\n"
	           "if (ext eq 'svg') { set terminal svg size 800,500 dynamic } "
	           "else { set terminal pngcairo size 800,500 }\nset grid\n");
	script_cdf(f, m, "startup_cdf", "startup delay (s)", 0);
	script_cdf(f, m, "delay_cdf", "source-to-end delay, steady state (ms)", 1);
	if (m->have_delays)
		script_cdf(f, m, "stretch_cdf", "stretch (delay over the shortest path)", 1);
	script_timeline(f);
	if (m->have_overhead)
		script_overhead(f);
	fprintf(f, "}\n");
	return fclose(f);
}

int plot_gnuplot(const char *pdir, char *err, size_t errlen)
{
	char script[1400];
	if (rundir_path(script, sizeof(script), pdir, "plots.gp"))
		return err_set(err, errlen, "%s/plots.gp: path too long", pdir);
	char cmd[1600];
	snprintf(cmd, sizeof(cmd), "cd '%s' && gnuplot plots.gp 2> gnuplot.log", pdir);
	char *argv[] = {"sh", "-c", cmd, NULL};
	pid_t pid;
	int rc = posix_spawnp(&pid, "sh", NULL, NULL, argv, environ);
	if (rc)
		return err_set(err, errlen, "run gnuplot: %s", strerror(rc));
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_set(err, errlen, "wait for gnuplot: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return err_set(err, errlen, "gnuplot %s/plots.gp failed (exit %d, see gnuplot.log)",
		               pdir, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}

int plot_run(const struct run_metrics *m, char *names, size_t nameslen, char *err, size_t errlen)
{
	*names = 0;
	char pdir[1200];
	if (strchr(m->dir, '\''))
		return err_set(err, errlen, "run directory %s: a quote in the path", m->dir);
	if (rundir_path(pdir, sizeof(pdir), m->dir, PLOT_DIR))
		return err_set(err, errlen, "%s/%s: path too long", m->dir, PLOT_DIR);
	if (mkdir(pdir, 0755) && errno != EEXIST)
		return err_set(err, errlen, "create %s: %s", pdir, strerror(errno));
	if (write_cdf(pdir, "startup_cdf.dat", m, CDF_STARTUP, err, errlen) ||
	    write_cdf(pdir, "delay_cdf.dat", m, CDF_DELAY, err, errlen) ||
	    (m->have_delays && write_cdf(pdir, "stretch_cdf.dat", m, CDF_STRETCH, err, errlen)) ||
	    write_timeline(pdir, m, err, errlen) ||
	    (m->have_overhead && write_overhead(pdir, &m->overhead, err, errlen)) ||
	    write_script(pdir, m, names, nameslen, err, errlen))
		return -1;
	if (plot_gnuplot(pdir, err, errlen)) {
		*names = 0;
		return -1;
	}
	return 0;
}
