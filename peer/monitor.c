#include "peer/monitor.h"

#include <stdio.h>
#include <sys/stat.h>

#include "lib/loop.h"
#include "lib/util.h"
#include "peer/udp.h"
#include "peer/wire.h"

static void on_msg(void *arg, const struct wire_msg *m, const struct wire_addr *from)
{
	FILE *out = arg;
	if (m->hdr.type != WIRE_REPORT)
		return;
	const struct wire_report *r = &m->u.report;
	fprintf(out,
	        "%llu id=%u stream=%u state=%u partners=%u received=%u due=%u on_time=%u "
	        "last_delay_us=%u\n",
	        (unsigned long long)r->t_us, m->hdr.sender, m->hdr.stream, r->state, r->partners,
	        r->received, r->due, r->on_time, r->last_delay_us);
}

static uint64_t flush_timer(struct loop *l, void *arg)
{
	fflush(arg);
	return 1000000u;
}

int monitor_run(struct config *cfg)
{
	FILE *out = stdout;
	uint32_t ip;
	uint16_t port;
	parse_ipport(cfg->listen, &ip, &port);
	if (*cfg->log_dir) {
		char path[1100];
		mkdir(cfg->log_dir, 0755);
		snprintf(path, sizeof(path), "%s/reports.log", cfg->log_dir);
		if (!(out = fopen(path, "we"))) {
			err_errno("open report log %s", path);
			return 1;
		}
	}
	struct udp udp = {.fd = -1};
	struct loop *l = NULL;
	int rc = 1;
	char e[256];
	if (udp_open(&udp, ip, port, 0, e, sizeof(e))) {
		err_msg("start monitor: %s", e);
		goto out;
	}
	l = loop_new();
	if (!l || udp_attach(&udp, l, on_msg, out)) {
		err_errno("set up event loop");
		goto out;
	}
	loop_add_timer(l, 1000000u, flush_timer, out);
	loop_run(l, NULL, NULL);
	rc = 0;
out:
	loop_free(l);
	udp_close(&udp);
	if (out != stdout)
		fclose(out);
	return rc;
}
