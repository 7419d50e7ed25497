#include "harness/netplan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/rundir.h"
#include "netns/topology.h"

/* A relative path is tried as given, then beside the scenario file. */
static void resolve(const struct scenario *s, const char *file, char *out, size_t len)
{
	snprintf(out, len, "%s", file);
	if (file[0] == '/' || access(out, R_OK) == 0)
		return;
	const char *slash = strrchr(s->path, '/');
	if (slash)
		snprintf(out, len, "%.*s/%s", (int)(slash - s->path), s->path, file);
}

static int from_matrix(const struct scenario *s, uint32_t *delay_us, const char *rundir, char *err,
                       size_t errlen)
{
	const struct topo_spec *t = &s->topo;
	char path[1200], e[512];
	resolve(s, t->file, path, sizeof(path));
	uint32_t *m = NULL, n = 0;
	if (topo_matrix_load(path, &m, &n, e, sizeof(e))) {
		snprintf(err, errlen, "%s: matrix{}: %s", t->where, e);
		return -1;
	}
	if (n != (uint32_t)s->nh) {
		snprintf(err, errlen, "%s: matrix{}: %s is %ux%u but the scenario has %d hosts",
		         t->where, path, n, n, s->nh);
		free(m);
		return -1;
	}
	memcpy(delay_us, m, sizeof(*m) * (size_t)n * n);
	free(m);
	if (rundir) {
		snprintf(path, sizeof(path), "%s/" RUNDIR_DELAYS, rundir);
		topo_matrix_write(path, delay_us, n, e, sizeof(e));
	}
	return 0;
}

int netplan_delays(const struct scenario *s, uint32_t *delay_us, const char *rundir, char *err,
                   size_t errlen)
{
	const struct topo_spec *t = &s->topo;
	uint32_t n = (uint32_t)s->nh;
	if (t->kind == TOPO_STAR) {
		for (uint32_t a = 0; a < n; a++)
			for (uint32_t b = 0; b < n; b++)
				delay_us[(size_t)a * n + b] = a == b ? 0 : 2 * s->access_delay_us;
		return 0;
	}
	if (t->kind == TOPO_FILE_MATRIX)
		return from_matrix(s, delay_us, rundir, err, errlen);

	struct topo *topo = NULL;
	char e[512], path[1200];
	int rc = -1;
	if (t->kind == TOPO_FILE_GML) {
		struct topo_gml_opts o;
		topo_gml_defaults(&o);
		resolve(s, t->file, path, sizeof(path));
		if (topo_gml_load(path, &o, &topo, e, sizeof(e))) {
			snprintf(err, errlen, "%s: gml{}: %s", t->where, e);
			return -1;
		}
	} else {
		struct topo_gen g;
		topo_gen_defaults(&g);
		g.model = t->kind == TOPO_GEN_BA ? TOPO_BA : TOPO_WAXMAN;
		g.nrouters = t->routers;
		g.avg_degree = t->degree;
		g.alpha = t->alpha;
		g.beta = t->beta;
		g.seed = s->seed;
		if (topo_generate(&g, &topo, e, sizeof(e))) {
			snprintf(err, errlen, "%s: %s", t->where, e);
			return -1;
		}
	}
	/* Hosts draw their routers from their own stream of the seed so the
	 * attachment does not shift when the generator changes. */
	if (topo_hosts_attach(topo, n, t->stub ? TOPO_ATTACH_STUB : TOPO_ATTACH_UNIFORM,
	                      s->access_delay_us, s->seed ^ 0x5eed0a77ac4ull, e, sizeof(e)) ||
	    topo_host_delays(topo, delay_us, e, sizeof(e))) {
		snprintf(err, errlen, "%s: %s", t->where, e);
		goto out;
	}
	if (rundir) {
		snprintf(path, sizeof(path), "%s/" RUNDIR_TOPOLOGY, rundir);
		topo_gml_write(topo, path, e, sizeof(e));
		snprintf(path, sizeof(path), "%s/" RUNDIR_DELAYS, rundir);
		topo_matrix_write(path, delay_us, n, e, sizeof(e));
	}
	rc = 0;
out:
	topo_free(topo);
	return rc;
}
