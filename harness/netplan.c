#include "harness/netplan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/rundir.h"
#include "lib/util.h"
#include "netns/topology.h"

static int from_matrix(const struct scenario *s, uint32_t *delay_us, const char *rundir, char *err,
                       size_t errlen)
{
	const struct topo_spec *t = &s->topo;
	char path[1200], e[512];
	uint32_t *m = NULL, n = 0;
	/* The file was resolved and checked when the scenario declared it. */
	if (topo_matrix_load(t->file, &m, &n, e, sizeof(e)))
		return err_set(err, errlen, "%s: matrix{}: %s", t->where, e);
	if (n != (uint32_t)s->nh) {
		free(m);
		return err_set(err, errlen,
		               "%s: matrix{}: %s is %ux%u but the scenario has %d hosts", t->where,
		               t->file, n, n, s->nh);
	}
	memcpy(delay_us, m, sizeof(*m) * (size_t)n * n);
	free(m);
	if (rundir) {
		snprintf(path, sizeof(path), "%s/" RUNDIR_DELAYS, rundir);
		topo_matrix_write(path, delay_us, n, e, sizeof(e));
	}
	return 0;
}

/* The routers of the declared topology, read from its file or generated
 * from the seed. */
static int load_routers(const struct scenario *s, struct topo **topo, char *err, size_t errlen)
{
	const struct topo_spec *t = &s->topo;
	char e[512];
	if (t->kind == TOPO_FILE_GML) {
		struct topo_gml_opts o;
		topo_gml_defaults(&o);
		if (topo_gml_load(t->file, &o, topo, e, sizeof(e)))
			return err_set(err, errlen, "%s: gml{}: %s", t->where, e);
		return 0;
	}
	struct topo_gen g;
	topo_gen_defaults(&g);
	g.model = t->kind == TOPO_GEN_BA ? TOPO_BA : TOPO_WAXMAN;
	g.nrouters = t->routers;
	g.avg_degree = t->degree;
	g.alpha = t->alpha;
	g.beta = t->beta;
	g.seed = s->seed;
	if (topo_generate(&g, topo, e, sizeof(e)))
		return err_set(err, errlen, "%s: %s", t->where, e);
	return 0;
}

/* Hosts on routers of a physical topology, each behind its access delay. */
static int from_topology(const struct scenario *s, const struct netplan *p, const char *rundir,
                         char *err, size_t errlen)
{
	const struct topo_spec *t = &s->topo;
	struct topo *topo = NULL;
	if (load_routers(s, &topo, err, errlen))
		return -1;
	char e[512], path[1200];
	int rc = -1;
	/* Hosts draw their routers from their own stream of the seed so the
	 * attachment does not shift when the generator changes. */
	if (topo_hosts_attach(topo, p->n, t->stub ? TOPO_ATTACH_STUB : TOPO_ATTACH_UNIFORM,
	                      s->access_delay_us, s->seed ^ 0x5eed0a77ac4ull, e, sizeof(e)) ||
	    topo_host_delays(topo, p->delay_us, e, sizeof(e))) {
		err_set(err, errlen, "%s: %s", t->where, e);
		goto out;
	}
	if (rundir) {
		snprintf(path, sizeof(path), "%s/" RUNDIR_TOPOLOGY, rundir);
		topo_gml_write(topo, path, e, sizeof(e));
		snprintf(path, sizeof(path), "%s/" RUNDIR_DELAYS, rundir);
		topo_matrix_write(path, p->delay_us, p->n, e, sizeof(e));
	}
	rc = 0;
out:
	topo_free(topo);
	return rc;
}

/* No core: a host-to-host delay is the two access delays. */
static void star(const struct netplan *p)
{
	for (uint32_t a = 0; a < p->n; a++)
		for (uint32_t b = 0; b < p->n; b++)
			p->delay_us[(size_t)a * p->n + b] =
			    a == b ? 0 : p->access_us[a] + p->access_us[b];
}

int netplan_build(struct netplan *p, const struct scenario *s, const char *rundir, char *err,
                  size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->n = (uint32_t)s->nh;
	p->delay_us = malloc(sizeof(*p->delay_us) * (size_t)p->n * p->n);
	p->access_us = malloc(sizeof(*p->access_us) * (size_t)(p->n ? p->n : 1));
	if (!p->delay_us || !p->access_us) {
		netplan_free(p);
		return err_set(err, errlen, "allocate the %ux%u delay matrix: out of memory", p->n,
		               p->n);
	}
	for (uint32_t i = 0; i < p->n; i++)
		p->access_us[i] = s->access_delay_us;
	int rc = 0;
	if (s->topo.kind == TOPO_STAR)
		star(p);
	else if (s->topo.kind == TOPO_FILE_MATRIX)
		rc = from_matrix(s, p->delay_us, rundir, err, errlen);
	else
		rc = from_topology(s, p, rundir, err, errlen);
	if (rc)
		netplan_free(p);
	return rc;
}

void netplan_free(struct netplan *p)
{
	free(p->delay_us);
	free(p->access_us);
	memset(p, 0, sizeof(*p));
}

void netplan_fill_model(const struct netplan *p, const struct scenario *s, struct linkmodel *m)
{
	for (int i = 0; i < s->nh; i++)
		m->host[i] = s->h[i].access;
	memcpy(m->delay_us, p->delay_us, sizeof(*p->delay_us) * (size_t)p->n * p->n);
}

static void shift_paths(uint32_t *delay_us, uint32_t n, uint32_t host, int64_t diff)
{
	for (uint32_t j = 0; j < n; j++) {
		if (j == host)
			continue;
		uint32_t *out = &delay_us[(size_t)host * n + j];
		uint32_t *in = &delay_us[(size_t)j * n + host];
		*out = (uint32_t)((int64_t)*out + diff);
		*in = (uint32_t)((int64_t)*in + diff);
	}
}

void netplan_set_access_delay(struct netplan *p, struct linkmodel *m, uint32_t host,
                              uint32_t access_us)
{
	int64_t diff = (int64_t)access_us - (int64_t)p->access_us[host];
	shift_paths(p->delay_us, p->n, host, diff);
	shift_paths(m->delay_us, m->n, host, diff);
	p->access_us[host] = access_us;
}
