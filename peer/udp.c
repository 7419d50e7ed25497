#include "peer/udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/loop.h"
#include "lib/util.h"

/* Datagrams taken per wakeup, so one flooded socket cannot starve timers. */
#define UDP_BATCH 256

int udp_open(struct udp *u, uint32_t ip, uint16_t port, int buf_bytes, char *err, size_t errlen)
{
	memset(u, 0, sizeof(*u));
	u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0)
		return err_set(err, errlen, "create UDP socket: %s", strerror(errno));
	if (buf_bytes) {
		setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &buf_bytes, sizeof(buf_bytes));
		setsockopt(u->fd, SOL_SOCKET, SO_SNDBUF, &buf_bytes, sizeof(buf_bytes));
	}
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
	if (bind(u->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		char ipstr[16];
		addr_ip_str(ip, ipstr);
		err_set(err, errlen, "bind UDP socket to %s:%u: %s", ipstr, port, strerror(errno));
		udp_close(u);
		return -1;
	}
	socklen_t sl = sizeof(sa);
	getsockname(u->fd, (struct sockaddr *)&sa, &sl);
	u->ip = ip;
	u->port = ntohs(sa.sin_port);
	return 0;
}

static void on_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct udp *u = arg;
	uint8_t buf[2048];
	for (int i = 0; i < UDP_BATCH; i++) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&sa, &sl);
		if (r < 0)
			return;
		if (sl != sizeof(sa) || sa.sin_family != AF_INET)
			continue;
		struct wire_msg m;
		if (wire_decode(buf, (size_t)r, &m)) {
			u->bad++;
			continue;
		}
		struct wire_addr from = {m.hdr.sender, ntohl(sa.sin_addr.s_addr),
		                         ntohs(sa.sin_port)};
		u->on_msg(u->arg, &m, &from);
	}
}

int udp_attach(struct udp *u, struct loop *l, udp_msg_fn fn, void *arg)
{
	u->on_msg = fn;
	u->arg = arg;
	return loop_add_fd(l, u->fd, EPOLLIN, on_readable, u);
}

int udp_send(struct udp *u, uint32_t ip, uint16_t port, const struct wire_msg *m)
{
	uint8_t buf[WIRE_MAX_DATAGRAM];
	int len = wire_encode(m, buf, sizeof(buf));
	if (len < 0) {
		err_msg("encode %s: %s", wire_type_name(m->hdr.type), wire_strerror(len));
		return -1;
	}
	return udp_send_bytes(u, ip, port, buf, (size_t)len);
}

int udp_send_bytes(struct udp *u, uint32_t ip, uint16_t port, const uint8_t *buf, size_t len)
{
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
	if (sendto(u->fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		u->send_errors++;
		return -1;
	}
	return 0;
}

void udp_close(struct udp *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
}
