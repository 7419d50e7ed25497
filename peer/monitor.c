/* The monitor keeps the latest report of each peer and writes one line per
 * peer that reported, once a period: what reaches the disk is bounded by
 * the peers it knows, not by the datagrams anyone sends. */
#include "peer/monitor.h"

#include <stdio.h>
#include <sys/stat.h>

#include "lib/loop.h"
#include "lib/util.h"
#include "peer/bindtab.h"
#include "peer/udp.h"
#include "peer/wire.h"

/* Peers report every 5 s; a peer silent for 6 periods is forgotten. */
#define MONITOR_PERIOD_US 5000000u
#define MONITOR_EXPIRE_US 30000000u
#define MONITOR_MAX 8192
#define MONITOR_PER_ADDR 8

struct mon_entry {
	struct bind_key k;
	uint16_t stream;
	int fresh; /* reported since the last line */
	struct wire_report rep;
};

struct monitor {
	FILE *out;
	struct bindtab t;
	uint64_t refused;
};

static void on_msg(void *arg, const struct wire_msg *m, const struct wire_addr *from)
{
	struct monitor *mon = arg;
	if (m->hdr.type != WIRE_REPORT)
		return;
	int i, evicted;
	enum bind_verdict v = bindtab_check(&mon->t, from, &i);
	if (v == BIND_REFUSED_ID || v == BIND_REFUSED_ADDR) {
		mon->refused++;
		return;
	}
	if (v == BIND_NEW)
		i = bindtab_insert(&mon->t, from, mono_us(), &evicted);
	bindtab_touch(&mon->t, i, mono_us());
	struct mon_entry *e = bindtab_at(&mon->t, i);
	e->stream = m->hdr.stream;
	e->rep = m->u.report;
	e->fresh = 1;
}

static uint64_t period_timer(struct loop *l, void *arg)
{
	struct monitor *mon = arg;
	for (int i = 0; i < mon->t.n; i++) {
		struct mon_entry *e = bindtab_at(&mon->t, i);
		if (!e->fresh)
			continue;
		const struct wire_report *r = &e->rep;
		fprintf(mon->out,
		        "%llu id=%u stream=%u state=%u partners=%u received=%u due=%u on_time=%u "
		        "last_delay_us=%u\n",
		        (unsigned long long)r->t_us, e->k.addr.id, e->stream, r->state, r->partners,
		        r->received, r->due, r->on_time, r->last_delay_us);
		e->fresh = 0;
	}
	bindtab_expire(&mon->t, mono_us(), MONITOR_EXPIRE_US);
	fflush(mon->out);
	return MONITOR_PERIOD_US;
}

static int open_out(const struct config *cfg, FILE **out)
{
	*out = stdout;
	if (!*cfg->log_dir)
		return 0;
	char path[1100];
	mkdir(cfg->log_dir, 0755);
	snprintf(path, sizeof(path), "%s/reports.log", cfg->log_dir);
	if (!(*out = fopen(path, "we"))) {
		err_errno("open report log %s", path);
		return -1;
	}
	return 0;
}

int monitor_run(struct config *cfg)
{
	struct monitor mon = {0};
	uint32_t ip;
	uint16_t port;
	parse_ipport(cfg->listen, &ip, &port);
	if (open_out(cfg, &mon.out))
		return 1;
	struct udp udp = {.fd = -1};
	struct loop *l = NULL;
	int rc = 1;
	char e[256];
	if (bindtab_init(&mon.t, sizeof(struct mon_entry), MONITOR_MAX, MONITOR_PER_ADDR)) {
		err_msg("start monitor: out of memory");
		goto out;
	}
	if (udp_open(&udp, ip, port, 0, e, sizeof(e))) {
		err_msg("start monitor: %s", e);
		goto out;
	}
	l = loop_new();
	if (!l || udp_attach(&udp, l, on_msg, &mon)) {
		err_errno("set up event loop");
		goto out;
	}
	loop_add_timer(l, MONITOR_PERIOD_US, period_timer, &mon);
	loop_run(l, NULL, NULL);
	period_timer(l, &mon);
	fprintf(mon.out, "# refused %llu reports (id bound elsewhere or address full)\n",
	        (unsigned long long)mon.refused);
	rc = 0;
out:
	loop_free(l);
	udp_close(&udp);
	bindtab_free(&mon.t);
	if (mon.out != stdout)
		fclose(mon.out);
	return rc;
}
