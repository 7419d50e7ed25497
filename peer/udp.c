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

static void deliver(struct udp *u, const uint8_t *buf, size_t len, const struct sockaddr_in *sa,
                    socklen_t sl)
{
	if (sl != sizeof(*sa) || sa->sin_family != AF_INET)
		return;
	struct wire_msg m;
	if (wire_decode(buf, len, &m)) {
		u->bad++;
		return;
	}
	struct wire_addr from = {m.hdr.sender, ntohl(sa->sin_addr.s_addr), ntohs(sa->sin_port)};
	u->on_msg(u->arg, &m, &from);
}

/* Datagrams per recvmmsg: a call that returns fewer found the socket empty,
 * so a wakeup costs one receive call rather than one per datagram plus one
 * that finds nothing. */
#define UDP_RECV_VEC 16

static void on_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct udp *u = arg;
	static uint8_t buf[UDP_RECV_VEC][2048];
	struct sockaddr_in sa[UDP_RECV_VEC];
	struct iovec iov[UDP_RECV_VEC];
	struct mmsghdr mh[UDP_RECV_VEC];
	for (int got = 0; got < UDP_BATCH;) {
		for (int i = 0; i < UDP_RECV_VEC; i++) {
			iov[i] = (struct iovec){buf[i], sizeof(buf[i])};
			mh[i].msg_hdr = (struct msghdr){.msg_name = &sa[i],
			                                .msg_namelen = sizeof(sa[i]),
			                                .msg_iov = &iov[i],
			                                .msg_iovlen = 1};
		}
		int r = recvmmsg(fd, mh, UDP_RECV_VEC, MSG_DONTWAIT, NULL);
		if (r <= 0)
			return;
		for (int i = 0; i < r; i++)
			deliver(u, buf[i], mh[i].msg_len, &sa[i], mh[i].msg_hdr.msg_namelen);
		if (r < UDP_RECV_VEC)
			return;
		got += r;
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
