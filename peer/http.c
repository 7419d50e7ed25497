#include "peer/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/loop.h"
#include "lib/util.h"

/* Request line and headers; players send a few hundred bytes. */
#define REQ_MAX 8192
/* With the queue limit this bounds the memory players can take. */
#define MAX_CLIENTS 64
/* Connections one client address may hold, so one program cannot take
 * every slot (players on one machine share its address). */
#define MAX_PER_ADDR HTTP_MAX_PER_ADDR
#define BLOCK 65536
/* Blocks per sendmsg; q_flush repeats until the socket is full. */
#define FLUSH_BLOCKS 16
#define ACCEPT_BATCH 64
/* How long accept stays off after running out of descriptors, so a full
 * backlog does not spin the loop. */
#define ACCEPT_PAUSE_US 100000
#define CONTENT_TYPE_MAX 127

/* Queued bytes live in a chain of blocks, freed as they are sent, so a
 * client that keeps up holds almost nothing. */
struct block {
	struct block *next;
	size_t len;
	uint8_t data[BLOCK];
};

enum state {
	ST_REQUEST, /* reading the request head */
	ST_STREAM,  /* forwarding media until the client goes */
	ST_REPLY,   /* sending a finite reply */
	ST_DRAIN,   /* reply sent, our side shut: waiting for the client's EOF */
};

enum method { M_GET, M_HEAD, M_OTHER };
enum route { R_NONE, R_STREAM, R_STATUS };

struct client {
	struct http_server *h;
	struct client *prev, *next;
	int fd;
	enum state st;
	uint32_t events;
	uint64_t timer;
	char addr[INET6_ADDRSTRLEN + 8];
	uint8_t ip[16]; /* the client's address, for the per-address limit */
	/* Outgoing bytes: qlen of them, from qoff in the first block. */
	struct block *qfirst, *qlast;
	size_t qoff, qlen;
	enum method method;
	enum route route;
	bool have_reqline;
	size_t parsed; /* start of the first line not parsed yet */
	size_t reqlen;
	char req[REQ_MAX];
};

struct http_server {
	struct loop *l;
	int fd;
	int port;
	http_status_fn status;
	void *arg;
	char content_type[CONTENT_TYPE_MAX + 1];
	size_t queue_max;
	uint64_t timeout_us;
	uint64_t pause_timer;
	struct client *clients;
	size_t nclients, nstream;
};

static const char *reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Internal Server Error";
	}
}

/* Nothing to do now; level-triggered epoll calls again when there is. */
static bool would_block(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* --- outgoing queue ------------------------------------------------------ */

static int q_push(struct client *c, const void *data, size_t len)
{
	if (c->qlen + len > c->h->queue_max)
		return -1;
	const uint8_t *p = data;
	while (len) {
		struct block *b = c->qlast;
		if (!b || b->len == BLOCK) {
			b = malloc(sizeof(*b));
			if (!b)
				return -1;
			b->next = NULL;
			b->len = 0;
			if (c->qlast)
				c->qlast->next = b;
			else
				c->qfirst = b;
			c->qlast = b;
		}
		size_t n = len < BLOCK - b->len ? len : BLOCK - b->len;
		memcpy(b->data + b->len, p, n);
		b->len += n;
		c->qlen += n;
		p += n;
		len -= n;
	}
	return 0;
}

/* Send what the socket takes; -1 when the connection is gone. */
static int q_flush(struct client *c)
{
	while (c->qfirst) {
		struct iovec iov[FLUSH_BLOCKS];
		int niov = 0;
		size_t off = c->qoff;
		for (struct block *b = c->qfirst; b && niov < FLUSH_BLOCKS; b = b->next, off = 0)
			iov[niov++] = (struct iovec){b->data + off, b->len - off};
		struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)niov};
		ssize_t n = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return would_block() ? 0 : -1;
		c->qlen -= (size_t)n;
		size_t done = c->qoff + (size_t)n;
		while (c->qfirst && done >= c->qfirst->len) {
			struct block *b = c->qfirst;
			done -= b->len;
			c->qfirst = b->next;
			free(b);
		}
		if (!c->qfirst)
			c->qlast = NULL;
		c->qoff = done;
	}
	return 0;
}

static void q_free(struct client *c)
{
	while (c->qfirst) {
		struct block *b = c->qfirst;
		c->qfirst = b->next;
		free(b);
	}
}

/* --- connection state ---------------------------------------------------- */

static void client_close(struct client *c)
{
	struct http_server *h = c->h;
	loop_del_fd(h->l, c->fd);
	close(c->fd);
	if (c->timer)
		loop_del_timer(h->l, c->timer);
	if (c->prev)
		c->prev->next = c->next;
	else
		h->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->nclients--;
	if (c->st == ST_STREAM)
		h->nstream--;
	q_free(c);
	free(c);
}

static int set_events(struct client *c)
{
	uint32_t want = c->st == ST_REPLY ? 0 : EPOLLIN;
	if (c->qlen)
		want |= EPOLLOUT;
	if (want == c->events)
		return 0;
	if (loop_mod_fd(c->h->l, c->fd, want))
		return -1;
	c->events = want;
	return 0;
}

/* Flush, finish a reply once it is out, and poll for what comes next. */
static int advance(struct client *c)
{
	if (q_flush(c))
		return -1;
	if (c->st == ST_REPLY && !c->qlen) {
		/* Closing with request bytes unread would reset the connection and
		 * could destroy the reply still in flight, so shut only our side
		 * and wait for the client to close (bounded by the timeout). */
		shutdown(c->fd, SHUT_WR);
		c->st = ST_DRAIN;
	}
	return set_events(c);
}

/* --- request parsing ----------------------------------------------------- */

static bool is_tchar(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static bool is_digit(unsigned char ch)
{
	return ch >= '0' && ch <= '9';
}

static enum route route_of(const struct http_server *h, const char *t, size_t n)
{
	/* Absolute form, which proxies send and servers must accept. */
	if (n >= 7 && !strncasecmp(t, "http://", 7)) {
		const char *slash = memchr(t + 7, '/', n - 7);
		if (!slash)
			return R_NONE;
		n -= (size_t)(slash - t);
		t = slash;
	}
	const char *query = memchr(t, '?', n);
	if (query)
		n = (size_t)(query - t);
	if (n == 7 && !memcmp(t, "/stream", 7))
		return R_STREAM;
	if (n == 7 && !memcmp(t, "/status", 7) && h->status)
		return R_STATUS;
	return R_NONE;
}

/* "METHOD SP target SP HTTP/d.d"; returns 200 when well formed. */
static int parse_request_line(struct client *c, const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n && is_tchar(s[i]))
		i++;
	if (!i || i == n || s[i] != ' ')
		return 400;
	if (i == 3 && !memcmp(s, "GET", 3))
		c->method = M_GET;
	else if (i == 4 && !memcmp(s, "HEAD", 4))
		c->method = M_HEAD;
	else
		c->method = M_OTHER;
	size_t t = ++i;
	while (i < n && s[i] > ' ' && s[i] < 0x7f)
		i++;
	if (i == t || i == n || s[i] != ' ')
		return 400;
	c->route = route_of(c->h, (const char *)s + t, i - t);
	const unsigned char *v = s + i + 1;
	if (n - i - 1 != 8 || memcmp(v, "HTTP/", 5) || !is_digit(v[5]) || v[6] != '.' ||
	    !is_digit(v[7]))
		return 400;
	return v[5] == '1' ? 200 : 505;
}

/* "name: value" with a token name and no control bytes; line folding is
 * obsolete and refused. */
static bool header_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n && is_tchar(s[i]))
		i++;
	if (!i || i == n || s[i] != ':')
		return false;
	for (i++; i < n; i++)
		if ((s[i] < ' ' && s[i] != '\t') || s[i] == 0x7f)
			return false;
	return true;
}

/* Parse the complete lines received so far. Returns 0 while the head is
 * incomplete, else the status to answer with (200 when the head is fine),
 * so garbage is refused as soon as its first line ends. */
static int parse_head(struct client *c)
{
	for (;;) {
		const unsigned char *s = (const unsigned char *)c->req + c->parsed;
		const unsigned char *nl = memchr(s, '\n', c->reqlen - c->parsed);
		if (!nl)
			return c->reqlen == sizeof(c->req) ? 431 : 0;
		size_t n = (size_t)(nl - s);
		c->parsed += n + 1;
		/* Bare LF ends lines too, as RFC 9112 lets servers accept. */
		if (n && s[n - 1] == '\r')
			n--;
		if (!c->have_reqline) {
			/* Empty lines before the request line are allowed (RFC 9112 2.2). */
			if (!n)
				continue;
			int code = parse_request_line(c, s, n);
			if (code != 200)
				return code;
			c->have_reqline = true;
		} else if (!n) {
			return 200;
		} else if (!header_ok(s, n)) {
			return 400;
		}
	}
}

/* --- replies ------------------------------------------------------------- */

static int reply_error(struct client *c, int code)
{
	char head[256], body[64];
	int blen = snprintf(body, sizeof(body), "%d %s\n", code, reason(code));
	int n = snprintf(head, sizeof(head),
	                 "HTTP/1.1 %d %s\r\n"
	                 "Content-Type: text/plain\r\n"
	                 "Content-Length: %d\r\n"
	                 "%s"
	                 "Connection: close\r\n\r\n",
	                 code, reason(code), blen, code == 405 ? "Allow: GET, HEAD\r\n" : "");
	c->st = ST_REPLY;
	if (q_push(c, head, (size_t)n))
		return -1;
	return c->method == M_HEAD ? 0 : q_push(c, body, (size_t)blen);
}

static int reply_stream(struct client *c)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf),
	                 "HTTP/1.1 200 OK\r\n"
	                 "Content-Type: %s\r\n"
	                 "Cache-Control: no-cache, no-store\r\n"
	                 "Connection: close\r\n\r\n",
	                 c->h->content_type);
	if (c->method == M_HEAD) {
		c->st = ST_REPLY;
		return q_push(c, buf, (size_t)n);
	}
	/* Media flows from now on, for as long as the player keeps up. */
	loop_del_timer(c->h->l, c->timer);
	c->timer = 0;
	c->st = ST_STREAM;
	c->h->nstream++;
	return q_push(c, buf, (size_t)n);
}

static int reply_status(struct client *c)
{
	char *doc = c->h->status(c->h->arg);
	if (!doc)
		return reply_error(c, 500);
	size_t len = strlen(doc);
	char buf[256];
	int n = snprintf(buf, sizeof(buf),
	                 "HTTP/1.1 200 OK\r\n"
	                 "Content-Type: application/json\r\n"
	                 "Content-Length: %zu\r\n"
	                 "Cache-Control: no-cache, no-store\r\n"
	                 "Connection: close\r\n\r\n",
	                 len);
	c->st = ST_REPLY;
	int r = q_push(c, buf, (size_t)n);
	if (!r && c->method != M_HEAD)
		r = q_push(c, doc, len);
	free(doc);
	return r;
}

static int respond(struct client *c, int code)
{
	if (code == 200 && c->route == R_NONE)
		code = 404;
	else if (code == 200 && c->method == M_OTHER)
		code = 405;
	if (code != 200)
		return reply_error(c, code);
	return c->route == R_STREAM ? reply_stream(c) : reply_status(c);
}

/* --- events -------------------------------------------------------------- */

static int on_input(struct client *c)
{
	if (c->st == ST_REQUEST) {
		ssize_t n = recv(c->fd, c->req + c->reqlen, sizeof(c->req) - c->reqlen, 0);
		if (n < 0 && would_block())
			return 0;
		if (n <= 0)
			return -1;
		c->reqlen += (size_t)n;
		int code = parse_head(c);
		if (!code)
			return 0;
		if (respond(c, code))
			return -1;
		return advance(c);
	}
	/* Players have nothing more to say; read only to notice them leave. */
	char sink[4096];
	ssize_t n = recv(c->fd, sink, sizeof(sink), 0);
	if (n < 0 && would_block())
		return 0;
	return n > 0 ? 0 : -1;
}

static void on_client(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct client *c = arg;
	int r = 0;
	/* Events may be stale (a closed descriptor's number reused within one
	 * batch), so each handler checks what the socket really says. */
	if (c->st != ST_REPLY && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		r = on_input(c);
	if (!r && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		r = advance(c);
	if (r)
		client_close(c);
}

static uint64_t on_timeout(struct loop *l, void *arg)
{
	struct client *c = arg;
	c->timer = 0;
	client_close(c);
	return 0;
}

/* The address as 16 bytes (IPv4 mapped into IPv6). */
static void addr_key(const struct sockaddr_storage *ss, uint8_t ip[16])
{
	memset(ip, 0, 16);
	if (ss->ss_family == AF_INET6) {
		memcpy(ip, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	} else {
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
}

static size_t clients_from(const struct http_server *h, const uint8_t ip[16])
{
	size_t n = 0;
	for (const struct client *c = h->clients; c; c = c->next)
		n += !memcmp(c->ip, ip, 16);
	return n;
}

static void add_client(struct http_server *h, int fd, const struct sockaddr_storage *ss)
{
	uint8_t ip[16];
	addr_key(ss, ip);
	if (h->nclients >= MAX_CLIENTS || clients_from(h, ip) >= MAX_PER_ADDR) {
		static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
		                           "Content-Length: 0\r\n"
		                           "Connection: close\r\n\r\n";
		send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	struct client *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->h = h;
	c->fd = fd;
	memcpy(c->ip, ip, 16);
	c->st = ST_REQUEST;
	c->events = EPOLLIN;
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		char ip[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(c->addr, sizeof(c->addr), "[%s]:%u", ip, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(c->addr, sizeof(c->addr), "%s:%u", ip, ntohs(a->sin_port));
	}
	c->timer = loop_add_timer(h->l, h->timeout_us, on_timeout, c);
	if (!c->timer || loop_add_fd(h->l, fd, EPOLLIN, on_client, c)) {
		if (c->timer)
			loop_del_timer(h->l, c->timer);
		close(fd);
		free(c);
		return;
	}
	c->next = h->clients;
	if (h->clients)
		h->clients->prev = c;
	h->clients = c;
	h->nclients++;
}

static uint64_t resume_accept(struct loop *l, void *arg)
{
	struct http_server *h = arg;
	h->pause_timer = 0;
	loop_mod_fd(l, h->fd, EPOLLIN);
	return 0;
}

static void on_accept(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct http_server *h = arg;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0) {
			add_client(h, cfd, &ss);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			err_errno("accept HTTP client on port %d (pausing %d ms)", h->port,
			          ACCEPT_PAUSE_US / 1000);
			if (!h->pause_timer) {
				h->pause_timer =
				    loop_add_timer(l, ACCEPT_PAUSE_US, resume_accept, h);
				if (h->pause_timer)
					loop_mod_fd(l, fd, 0);
			}
			return;
		}
		/* Anything else is the failed connection's own error (accept(2)):
		 * move on to the next one. */
	}
}

/* --- API ----------------------------------------------------------------- */

void http_stream_write(struct http_server *h, const uint8_t *data, size_t len)
{
	struct client *next;
	for (struct client *c = h->clients; c && len; c = next) {
		next = c->next;
		if (c->st != ST_STREAM)
			continue;
		size_t off = 0;
		/* Nothing queued: hand the bytes straight to the socket, copying
		 * only what it does not take. */
		if (!c->qlen) {
			ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && !would_block()) {
				client_close(c);
				continue;
			}
			if (n > 0)
				off = (size_t)n;
		}
		if (q_push(c, data + off, len - off)) {
			err_msg("drop HTTP /stream client %s: more than %zu bytes behind", c->addr,
			        h->queue_max);
			client_close(c);
			continue;
		}
		if (set_events(c))
			client_close(c);
	}
}

static bool content_type_ok(const char *ct, size_t len)
{
	bool ok = len && len <= CONTENT_TYPE_MAX;
	for (size_t i = 0; i < len; i++)
		ok = ok && ct[i] >= ' ' && ct[i] < 0x7f;
	return ok;
}

/* A listening socket on bind_ip:port; *bound_port is the port it got. */
static int listen_on(const char *bind_ip, int port, int *bound_port, char *err, size_t errlen)
{
	char portstr[8];
	snprintf(portstr, sizeof(portstr), "%d", port);
	struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV,
	                         .ai_socktype = SOCK_STREAM};
	struct addrinfo *ai;
	int gai = getaddrinfo(bind_ip, portstr, &hints, &ai);
	if (gai)
		return err_set(err, errlen, "HTTP address %s: %s", bind_ip,
		               gai == EAI_NONAME ? "not a numeric IP address" : gai_strerror(gai));
	const char *step;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int one = 1;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		step = "create socket for";
		goto fail;
	}
	/* A restarted peer must get its port back despite old TIME_WAIT sockets. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen)) {
		step = "bind";
		goto fail;
	}
	if (listen(fd, SOMAXCONN)) {
		step = "listen on";
		goto fail;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		step = "read the address of";
		goto fail;
	}
	freeaddrinfo(ai);
	*bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                             : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;

fail:
	err_set(err, errlen, "%s HTTP address %s port %d: %s", step, bind_ip, port,
	        strerror(errno));
	freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
	return -1;
}

struct http_server *http_new(struct loop *l, const char *bind_ip, int port, http_status_fn status,
                             void *arg, const char *content_type, char *err, size_t errlen)
{
	if (!bind_ip)
		bind_ip = "0.0.0.0";
	if (!content_type)
		content_type = "application/octet-stream";
	if (port < 0 || port > 65535) {
		err_set(err, errlen, "HTTP port %d: out of range", port);
		return NULL;
	}
	size_t ctlen = strlen(content_type);
	if (!content_type_ok(content_type, ctlen)) {
		err_set(err, errlen,
		        "HTTP Content-Type '%s': not 1 to %d printable ASCII characters",
		        content_type, CONTENT_TYPE_MAX);
		return NULL;
	}
	struct http_server *h = calloc(1, sizeof(*h));
	if (!h) {
		err_set(err, errlen, "allocate HTTP server: out of memory");
		return NULL;
	}
	h->fd = listen_on(bind_ip, port, &h->port, err, errlen);
	if (h->fd < 0) {
		free(h);
		return NULL;
	}
	if (loop_add_fd(l, h->fd, EPOLLIN, on_accept, h)) {
		err_set(err, errlen, "watch HTTP address %s port %d: %s", bind_ip, port,
		        strerror(errno));
		close(h->fd);
		free(h);
		return NULL;
	}
	h->l = l;
	h->status = status;
	h->arg = arg;
	memcpy(h->content_type, content_type, ctlen + 1);
	h->queue_max = HTTP_QUEUE_MAX_DEFAULT;
	h->timeout_us = HTTP_TIMEOUT_US_DEFAULT;
	return h;
}

void http_set_limits(struct http_server *h, size_t queue_max, uint64_t timeout_us)
{
	h->queue_max = queue_max;
	h->timeout_us = timeout_us;
}

int http_port(const struct http_server *h)
{
	return h->port;
}

size_t http_clients(const struct http_server *h)
{
	return h->nstream;
}

void http_free(struct http_server *h)
{
	if (!h)
		return;
	while (h->clients)
		client_close(h->clients);
	if (h->pause_timer)
		loop_del_timer(h->l, h->pause_timer);
	loop_del_fd(h->l, h->fd);
	close(h->fd);
	free(h);
}
