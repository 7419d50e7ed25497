#include "peer/monitor.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/loop.h"
#include "lib/util.h"
#include "peer/wire.h"

struct monitor {
	FILE *out;
	uint64_t reports, bad;
};

static void on_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct monitor *mon = arg;
	uint8_t buf[2048];
	for (int i = 0; i < 256; i++) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0)
			return;
		struct wire_msg m;
		if (wire_decode(buf, (size_t)len, &m) || m.hdr.type != WIRE_REPORT) {
			mon->bad++;
			continue;
		}
		const struct wire_report *r = &m.u.report;
		fprintf(mon->out,
		        "%llu id=%u stream=%u state=%u partners=%u received=%u due=%u on_time=%u "
		        "last_delay_us=%u\n",
		        (unsigned long long)r->t_us, m.hdr.sender, m.hdr.stream, r->state,
		        r->partners, r->received, r->due, r->on_time, r->last_delay_us);
		mon->reports++;
	}
}

static uint64_t flush_timer(struct loop *l, void *arg)
{
	fflush(((struct monitor *)arg)->out);
	return 1000000u;
}

int monitor_run(struct config *cfg)
{
	struct monitor mon = {.out = stdout};
	uint32_t ip;
	uint16_t port;
	parse_ipport(cfg->listen, &ip, &port);
	if (*cfg->log_dir) {
		char path[1100];
		mkdir(cfg->log_dir, 0755);
		snprintf(path, sizeof(path), "%s/reports.log", cfg->log_dir);
		if (!(mon.out = fopen(path, "we"))) {
			err_errno("open report log %s", path);
			return 1;
		}
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
	struct loop *l = NULL;
	int rc = 1;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err_errno("bind monitor socket to %s", cfg->listen);
		goto out;
	}
	l = loop_new();
	if (!l || loop_add_fd(l, fd, EPOLLIN, on_readable, &mon)) {
		err_errno("set up event loop");
		goto out;
	}
	loop_add_timer(l, 1000000u, flush_timer, &mon);
	loop_run(l, NULL, NULL);
	rc = 0;
out:
	loop_free(l);
	if (fd >= 0)
		close(fd);
	if (mon.out != stdout)
		fclose(mon.out);
	return rc;
}
