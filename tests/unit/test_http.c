#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "peer/http.h"
#include "lib/loop.h"
#include "lib/util.h"

#define STATUS_DOC "{\"peer\":7,\"streams\":[1,2],\"note\":\"ok\"}"
#define IO_TIMEOUT_S 5
#define CHUNK 32768

/* The server runs its loop in a second thread, as the peer would; the test
 * thread plays the clients with blocking sockets and asks the loop thread,
 * through a pipe, to write media or report state, so that the server is
 * only ever touched from its own loop. */
enum op { OP_WRITE, OP_CLIENTS, OP_STATUS_FAILS, OP_FREE, OP_STOP };

struct cmd {
	enum op op;
	uint64_t off;
	size_t len;
};

struct srv {
	struct loop *l;
	struct http_server *h;
	int cmd[2], ack[2];
	pthread_t th;
	int port;
	uint64_t written;  /* stream bytes written so far; test thread only */
	bool status_fails; /* loop thread only */
};

/* Byte i of the media: a hash of i, so a lost, repeated or reordered block
 * shows as a mismatch at the first wrong byte. */
static uint8_t media_byte(uint64_t i)
{
	return (uint8_t)((i * 0x9E3779B97F4A7C15u) >> 56);
}

static char *status_doc(void *arg)
{
	struct srv *s = arg;
	return s->status_fails ? NULL : strdup(STATUS_DOC);
}

static void on_cmd(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct srv *s = arg;
	struct cmd c;
	if (read(fd, &c, sizeof(c)) != sizeof(c))
		return;
	uint64_t reply = 0;
	switch (c.op) {
	case OP_WRITE: {
		uint8_t *buf = malloc(c.len);
		for (size_t i = 0; i < c.len; i++)
			buf[i] = media_byte(c.off + i);
		http_stream_write(s->h, buf, c.len);
		free(buf);
		break;
	}
	case OP_CLIENTS:
		reply = http_clients(s->h);
		break;
	case OP_STATUS_FAILS:
		s->status_fails = true;
		break;
	case OP_FREE:
		http_free(s->h);
		s->h = NULL;
		break;
	case OP_STOP:
		loop_stop(l);
		break;
	}
	/* cmocka's asserts may not jump out of this thread. */
	if (write(s->ack[1], &reply, sizeof(reply)) != sizeof(reply))
		abort();
}

static void *loop_thread(void *arg)
{
	struct srv *s = arg;
	loop_run(s->l, NULL, NULL);
	return NULL;
}

static uint64_t call(struct srv *s, enum op op, size_t len)
{
	struct cmd c = {op, s->written, len};
	assert_int_equal(write(s->cmd[1], &c, sizeof(c)), sizeof(c));
	uint64_t reply;
	assert_int_equal(read(s->ack[0], &reply, sizeof(reply)), sizeof(reply));
	if (op == OP_WRITE)
		s->written += len;
	return reply;
}

static struct srv *srv_start(size_t queue_max, uint64_t timeout_us)
{
	struct srv *s = calloc(1, sizeof(*s));
	char err[256] = "";
	s->l = loop_new();
	assert_non_null(s->l);
	s->h = http_new(s->l, "127.0.0.1", 0, status_doc, s, "video/mp2t", err, sizeof(err));
	if (!s->h)
		fail_msg("http_new: %s", err);
	http_set_limits(s->h, queue_max, timeout_us);
	s->port = http_port(s->h);
	assert_true(s->port > 0);
	assert_int_equal(pipe(s->cmd), 0);
	assert_int_equal(pipe(s->ack), 0);
	assert_int_equal(loop_add_fd(s->l, s->cmd[0], EPOLLIN, on_cmd, s), 0);
	assert_int_equal(pthread_create(&s->th, NULL, loop_thread, s), 0);
	return s;
}

static void srv_stop(struct srv *s)
{
	if (s->h)
		call(s, OP_FREE, 0);
	call(s, OP_STOP, 0);
	pthread_join(s->th, NULL);
	loop_del_fd(s->l, s->cmd[0]);
	loop_free(s->l);
	close(s->cmd[0]);
	close(s->cmd[1]);
	close(s->ack[0]);
	close(s->ack[1]);
	free(s);
}

/* --- clients ------------------------------------------------------------- */

static int cl_connect_rcvbuf(int port, int rcvbuf)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct timeval tv = {IO_TIMEOUT_S, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static int cl_connect(int port)
{
	return cl_connect_rcvbuf(port, 0);
}

static void cl_send(int fd, const void *buf, size_t len)
{
	assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void cl_sends(int fd, const char *s)
{
	cl_send(fd, s, strlen(s));
}

/* Read until EOF (or a reset, which a garbage sender may earn); returns the
 * byte count. Fails on the receive timeout: the server must always end. */
static size_t cl_read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	char sink[4096];
	for (;;) {
		char *dst = n < cap ? buf + n : sink;
		size_t room = n < cap ? cap - n : sizeof(sink);
		ssize_t r = recv(fd, dst, room, 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			break;
		if (r < 0)
			fail_msg("recv: %s (server never closed)", strerror(errno));
		n += (size_t)r;
	}
	if (n < cap)
		buf[n] = '\0';
	return n;
}

/* Read up to the end of the response head, one byte at a time so that no
 * media byte after it is consumed. */
static void cl_read_head(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n < 4 || memcmp(buf + n - 4, "\r\n\r\n", 4)) {
		assert_true(n + 1 < cap);
		ssize_t r = recv(fd, buf + n, 1, 0);
		if (r != 1)
			fail_msg("response head cut after %zu bytes: %s", n,
			         r ? strerror(errno) : "EOF");
		n++;
	}
	buf[n] = '\0';
}

/* Read exactly len media bytes and check they are stream bytes off.. */
static void cl_expect_media(int fd, uint64_t off, size_t len)
{
	static uint8_t buf[CHUNK];
	while (len) {
		size_t want = len < sizeof(buf) ? len : sizeof(buf);
		ssize_t r = recv(fd, buf, want, 0);
		if (r <= 0)
			fail_msg("media at offset %llu: %s", (unsigned long long)off,
			         r ? strerror(errno) : "EOF");
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != media_byte(off + (uint64_t)i))
				fail_msg("media byte %llu wrong", (unsigned long long)(off + i));
		off += (uint64_t)r;
		len -= (size_t)r;
	}
}

/* One whole request; returns the response (head and body) in buf. */
static size_t exchange(int port, const char *req, char *buf, size_t cap)
{
	int fd = cl_connect(port);
	cl_sends(fd, req);
	size_t n = cl_read_all(fd, buf, cap);
	close(fd);
	return n;
}

static void expect_status(int port, const char *req, const char *status_line)
{
	char buf[4096];
	exchange(port, req, buf, sizeof(buf));
	if (strncmp(buf, status_line, strlen(status_line)))
		fail_msg("request '%s': got '%.40s', want '%s'", req, buf, status_line);
}

static int stream_client(int port, char *head, size_t cap)
{
	int fd = cl_connect(port);
	cl_sends(fd, "GET /stream HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n");
	cl_read_head(fd, head, cap);
	return fd;
}

/* --- tests --------------------------------------------------------------- */

static void test_status_json(void **state)
{
	struct srv *s = srv_start(HTTP_QUEUE_MAX_DEFAULT, HTTP_TIMEOUT_US_DEFAULT);
	char buf[4096];
	exchange(s->port, "GET /status HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n", buf,
	         sizeof(buf));
	assert_true(!strncmp(buf, "HTTP/1.1 200 OK\r\n", 17));
	assert_non_null(strstr(buf, "\r\nContent-Type: application/json\r\n"));
	char len[64];
	snprintf(len, sizeof(len), "\r\nContent-Length: %zu\r\n", strlen(STATUS_DOC));
	assert_non_null(strstr(buf, len));
	char *body = strstr(buf, "\r\n\r\n");
	assert_non_null(body);
	assert_string_equal(body + 4, STATUS_DOC);

	/* HTTP/1.0, a query string, the absolute form and bare LF lines. */
	expect_status(s->port, "GET /status HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK\r\n");
	expect_status(s->port, "GET /status?pretty=1 HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n");
	expect_status(s->port, "GET http://127.0.0.1/status HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK");
	expect_status(s->port, "\r\nGET /status HTTP/1.1\nHost: a\n\n", "HTTP/1.1 200 OK\r\n");

	/* HEAD: the same head, no body. */
	exchange(s->port, "HEAD /status HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, len));
	body = strstr(buf, "\r\n\r\n");
	assert_non_null(body);
	assert_string_equal(body + 4, "");

	/* No document: the server says so rather than sending an empty one. */
	call(s, OP_STATUS_FAILS, 0);
	expect_status(s->port, "GET /status HTTP/1.1\r\n\r\n",
	              "HTTP/1.1 500 Internal Server Error\r\n");
	srv_stop(s);
}

static void check_stream_clients(size_t nclients)
{
	struct srv *s = srv_start(HTTP_QUEUE_MAX_DEFAULT, HTTP_TIMEOUT_US_DEFAULT);
	/* Media written before a client connects is not for it. */
	call(s, OP_WRITE, 1000);
	int fd[8];
	uint64_t joined[8];
	char head[1024];
	assert_true(nclients <= ARRAY_LEN(fd));
	for (size_t i = 0; i < nclients; i++) {
		fd[i] = stream_client(s->port, head, sizeof(head));
		assert_true(!strncmp(head, "HTTP/1.1 200 OK\r\n", 17));
		assert_non_null(strstr(head, "\r\nContent-Type: video/mp2t\r\n"));
		assert_non_null(strstr(head, "\r\nConnection: close\r\n"));
		assert_null(strcasestr(head, "Content-Length"));
		joined[i] = s->written;
		/* Clients join mid-stream. */
		call(s, OP_WRITE, 777 * (i + 1));
	}
	assert_int_equal(call(s, OP_CLIENTS, 0), nclients);

	/* Odd sizes so that writes straddle every socket and queue boundary;
	 * each round is read before the next so no honest client overflows. */
	struct rng r;
	rng_seed(&r, 42);
	for (int round = 0; round < 40; round++)
		call(s, OP_WRITE, 1 + rng_below(&r, CHUNK));
	for (size_t i = 0; i < nclients; i++)
		cl_expect_media(fd[i], joined[i], s->written - joined[i]);

	/* Exactly those bytes: after the server goes, each client sees EOF. */
	call(s, OP_FREE, 0);
	for (size_t i = 0; i < nclients; i++) {
		char extra[16];
		assert_int_equal(cl_read_all(fd[i], extra, sizeof(extra)), 0);
		close(fd[i]);
	}
	srv_stop(s);
}

static void test_stream_three_clients(void **state)
{
	check_stream_clients(3);
}

static void test_stream_eight_clients(void **state)
{
	check_stream_clients(8);
}

static void test_stream_client_leaves(void **state)
{
	struct srv *s = srv_start(HTTP_QUEUE_MAX_DEFAULT, HTTP_TIMEOUT_US_DEFAULT);
	char head[1024];
	int a = stream_client(s->port, head, sizeof(head));
	int b = stream_client(s->port, head, sizeof(head));
	assert_int_equal(call(s, OP_CLIENTS, 0), 2);
	close(a);
	uint64_t from = s->written;
	/* The server notices the leave by itself, or at the latest when the
	 * next write to the closed socket fails. */
	for (int i = 0; i < 200 && call(s, OP_CLIENTS, 0) != 1; i++) {
		call(s, OP_WRITE, 100);
		usleep(10000);
	}
	assert_int_equal(call(s, OP_CLIENTS, 0), 1);
	call(s, OP_WRITE, 5000);
	cl_expect_media(b, from, s->written - from);
	close(b);
	srv_stop(s);
}

/* Read whatever is there, at most max bytes, checking it is media from off. */
static size_t cl_read_some(int fd, uint64_t off, size_t max)
{
	static uint8_t buf[CHUNK];
	if (max > sizeof(buf))
		max = sizeof(buf);
	ssize_t r = recv(fd, buf, max, 0);
	if (r <= 0)
		fail_msg("media at offset %llu: %s", (unsigned long long)off,
		         r ? strerror(errno) : "EOF");
	for (ssize_t i = 0; i < r; i++)
		if (buf[i] != media_byte(off + (uint64_t)i))
			fail_msg("media byte %llu wrong", (unsigned long long)(off + i));
	return (size_t)r;
}

static void test_slow_reader_keeps_order(void **state)
{
	/* The kernel's send buffer grows to tcp_wmem's maximum (4 MB) on a
	 * flowing connection, so the lag must exceed that for the queue to work. */
	const size_t qmax = 16 << 20, lag_hi = 8 << 20, lag_lo = 4 << 20;
	struct srv *s = srv_start(qmax, HTTP_TIMEOUT_US_DEFAULT);
	char head[1024];
	int fd = cl_connect_rcvbuf(s->port, 4096);
	cl_sends(fd, "GET /stream HTTP/1.1\r\n\r\n");
	cl_read_head(fd, head, sizeof(head));
	/* The reader falls behind, catches up partly, falls behind again: the
	 * server queues megabytes, sends them partly while more media arrives,
	 * and never drops the reader or reorders a byte. */
	uint64_t got = 0;
	struct rng r;
	rng_seed(&r, 3);
	for (int round = 0; round < 1500; round++) {
		call(s, OP_WRITE, 1 + rng_below(&r, 2 * CHUNK));
		if (s->written - got > lag_hi)
			while (s->written - got > lag_lo)
				got += cl_read_some(fd, got, CHUNK);
		else if (rng_below(&r, 2))
			got += cl_read_some(fd, got, 1 + rng_below(&r, 8192));
	}
	assert_int_equal(call(s, OP_CLIENTS, 0), 1);
	cl_expect_media(fd, got, s->written - got);
	close(fd);
	srv_stop(s);
}

static void test_stalled_client_dropped(void **state)
{
	const size_t qmax = 65536;
	struct srv *s = srv_start(qmax, HTTP_TIMEOUT_US_DEFAULT);
	char head[1024];
	/* A small receive buffer so the stall reaches the server quickly. */
	int stalled = cl_connect_rcvbuf(s->port, 4096);
	cl_sends(stalled, "GET /stream HTTP/1.1\r\n\r\n");
	cl_read_head(stalled, head, sizeof(head));
	uint64_t stalled_from = s->written;
	int ok[2];
	for (int i = 0; i < 2; i++)
		ok[i] = stream_client(s->port, head, sizeof(head));
	assert_int_equal(call(s, OP_CLIENTS, 0), 3);

	/* Whatever the kernel buffers, 64 MB is far past them and the queue. */
	int rounds = 0;
	while (call(s, OP_CLIENTS, 0) == 3) {
		assert_true(++rounds < 2048);
		call(s, OP_WRITE, CHUNK);
		for (int i = 0; i < 2; i++)
			cl_expect_media(ok[i], s->written - CHUNK, CHUNK);
	}
	assert_int_equal(call(s, OP_CLIENTS, 0), 2);
	/* The others missed nothing, before or after the drop. */
	for (int round = 0; round < 8; round++)
		call(s, OP_WRITE, CHUNK);
	for (int i = 0; i < 2; i++)
		cl_expect_media(ok[i], s->written - 8 * CHUNK, 8 * CHUNK);

	/* What the stalled client did get is an in-order prefix, then the end. */
	static uint8_t got[8 << 20];
	size_t n = cl_read_all(stalled, (char *)got, sizeof(got));
	assert_true(n < sizeof(got));
	for (size_t i = 0; i < n; i++)
		if (got[i] != media_byte(stalled_from + i))
			fail_msg("stalled client byte %zu wrong", i);
	close(stalled);
	for (int i = 0; i < 2; i++)
		close(ok[i]);
	srv_stop(s);
}

static void test_errors(void **state)
{
	struct srv *s = srv_start(HTTP_QUEUE_MAX_DEFAULT, HTTP_TIMEOUT_US_DEFAULT);
	int p = s->port;
	expect_status(p, "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n");
	expect_status(p, "GET /streamx HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n");
	expect_status(p, "GET http://host HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n");
	expect_status(p, "POST /stream HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
	              "HTTP/1.1 405 Method Not Allowed\r\n");
	expect_status(p, "DELETE /status HTTP/1.1\r\n\r\n", "HTTP/1.1 405 Method Not Allowed\r\n");
	expect_status(p, "get /status HTTP/1.1\r\n\r\n", "HTTP/1.1 405 Method Not Allowed\r\n");
	expect_status(p, "GET /status HTTP/2.0\r\n\r\n", "HTTP/1.1 505 HTTP Version");
	const char *bad[] = {
	    "HELLO\r\n\r\n",
	    "GET /status\r\n\r\n",
	    "GET  /status HTTP/1.1\r\n\r\n",
	    "GET /status HTTP/1.1 \r\n\r\n",
	    "GET /status HTTP/1.10\r\n\r\n",
	    "GET /status http/1.1\r\n\r\n",
	    "GET /st\x01tus HTTP/1.1\r\n\r\n",
	    "G(T /status HTTP/1.1\r\n\r\n",
	    "GET /status HTTP/1.1\r\nno colon\r\n\r\n",
	    "GET /status HTTP/1.1\r\nName : v\r\n\r\n",
	    "GET /status HTTP/1.1\r\n: v\r\n\r\n",
	    "GET /status HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
	    "GET /status HTTP/1.1\r\nA: b\x7f\r\n\r\n",
	    "GET /status HTTP/1.1\r\nA: b\rc\r\n\r\n",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		expect_status(p, bad[i], "HTTP/1.1 400 Bad Request\r\n");

	/* Garbage is refused when its first line ends, not at the timeout. */
	char buf[512];
	int fd = cl_connect(p);
	cl_sends(fd, "\x16\x03\x01 TLS hello?\n");
	assert_true(cl_read_all(fd, buf, sizeof(buf)) > 0);
	assert_true(!strncmp(buf, "HTTP/1.1 400 ", 13));
	close(fd);

	/* HEAD /stream: the head, then the end; no media. */
	exchange(p, "HEAD /stream HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	assert_true(!strncmp(buf, "HTTP/1.1 200 OK\r\n", 17));
	assert_string_equal(strstr(buf, "\r\n\r\n"), "\r\n\r\n");
	assert_int_equal(call(s, OP_CLIENTS, 0), 0);
	srv_stop(s);
}

static void test_oversized_request(void **state)
{
	struct srv *s = srv_start(HTTP_QUEUE_MAX_DEFAULT, HTTP_TIMEOUT_US_DEFAULT);
	static char big[65536];
	memcpy(big, "GET /status HTTP/1.1\r\nX-Pad: ", 29);
	memset(big + 29, 'a', sizeof(big) - 29);
	int fd = cl_connect(s->port);
	/* The server stops reading at its limit, so the rest may not all fit. */
	send(fd, big, sizeof(big), MSG_NOSIGNAL | MSG_DONTWAIT);
	char buf[512];
	cl_read_all(fd, buf, sizeof(buf));
	assert_true(!strncmp(buf, "HTTP/1.1 431 ", 13));
	close(fd);

	/* Many short header lines are as big. */
	fd = cl_connect(s->port);
	cl_sends(fd, "GET /status HTTP/1.1\r\n");
	for (int i = 0; i < 2000; i++)
		send(fd, "A: b\r\n", 6, MSG_NOSIGNAL | MSG_DONTWAIT);
	cl_read_all(fd, buf, sizeof(buf));
	assert_true(!strncmp(buf, "HTTP/1.1 431 ", 13));
	close(fd);
	expect_status(s->port, "GET /status HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n");
	srv_stop(s);
}

static void test_partial_request_times_out(void **state)
{
	const uint64_t timeout = 200000;
	struct srv *s = srv_start(HTTP_QUEUE_MAX_DEFAULT, timeout);
	const char *partial[] = {"", "GET /stat", "GET /status HTTP/1.1\r\nHost: x\r\n"};
	for (size_t i = 0; i < ARRAY_LEN(partial); i++) {
		int fd = cl_connect(s->port);
		uint64_t t0 = mono_us();
		cl_sends(fd, partial[i]);
		char buf[64];
		/* Closed without a reply; cl_read_all fails if it never ends. */
		assert_int_equal(cl_read_all(fd, buf, sizeof(buf)), 0);
		uint64_t took = mono_us() - t0;
		assert_true(took >= timeout / 2);
		assert_true(took < 10 * timeout);
		close(fd);
	}
	/* A stream client is not timed out. */
	char head[512];
	int fd = stream_client(s->port, head, sizeof(head));
	usleep(3 * timeout);
	assert_int_equal(call(s, OP_CLIENTS, 0), 1);
	call(s, OP_WRITE, 10);
	cl_expect_media(fd, s->written - 10, 10);
	close(fd);
	srv_stop(s);
}

/* Nothing, or a well formed reply and the end; only garbage that happened
 * to form a /stream request may stay open. */
static void check_garbage_reply(int fd)
{
	struct timeval tv = {1, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char buf[256];
	size_t n = 0;
	ssize_t r;
	while ((r = recv(fd, buf + n, sizeof(buf) - 1 - n, 0)) > 0 &&
	       n + (size_t)r < sizeof(buf) - 1)
		n += (size_t)r;
	if (r > 0)
		n += (size_t)r;
	buf[n] = '\0';
	if (n)
		assert_true(!strncmp(buf, "HTTP/1.1 ", 9));
	if (r < 0 && errno != ECONNRESET)
		assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\nContent-Type: video/mp2t\r\n"));
}

static void test_random_garbage(void **state)
{
	struct srv *s = srv_start(HTTP_QUEUE_MAX_DEFAULT, 300000);
	char head[512];
	int watcher = stream_client(s->port, head, sizeof(head));
	uint64_t watch_from = s->written;
	static const char *prefixes[] = {"", "GET ", "GET /stream HTTP/1.1\r\n", "HEAD /",
	                                 "GET /status HTTP/1.1\r\nHost: "};
	struct rng r;
	rng_seed(&r, 7);
	static char junk[20000];
	for (int batch = 0; batch < 10; batch++) {
		int fd[32];
		for (size_t i = 0; i < ARRAY_LEN(fd); i++) {
			fd[i] = cl_connect(s->port);
			const char *pre = prefixes[rng_below(&r, ARRAY_LEN(prefixes))];
			size_t n = rng_below(&r, sizeof(junk));
			/* Mostly bytes of the request alphabet, to get past the first
			 * checks, some fully random. */
			for (size_t j = 0; j < n; j++)
				junk[j] = rng_below(&r, 4) ? " :/\r\nGETA1."[rng_below(&r, 11)]
				                           : (char)rng_next(&r);
			cl_send(fd[i], pre, strlen(pre));
			send(fd[i], junk, n, MSG_NOSIGNAL | MSG_DONTWAIT);
			/* Some end their side, some reset, the rest wait. */
			uint64_t how = rng_below(&r, 3);
			if (how == 0) {
				shutdown(fd[i], SHUT_WR);
			} else if (how == 1) {
				struct linger lg = {1, 0};
				setsockopt(fd[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
				close(fd[i]);
				fd[i] = -1;
			}
		}
		call(s, OP_WRITE, 1000);
		for (size_t i = 0; i < ARRAY_LEN(fd); i++) {
			if (fd[i] < 0)
				continue;
			check_garbage_reply(fd[i]);
			close(fd[i]);
		}
	}
	/* The server survived and served everyone else in full. */
	cl_expect_media(watcher, watch_from, s->written - watch_from);
	expect_status(s->port, "GET /status HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n");
	close(watcher);
	srv_stop(s);
}

static void test_client_limit(void **state)
{
	struct srv *s = srv_start(HTTP_QUEUE_MAX_DEFAULT, HTTP_TIMEOUT_US_DEFAULT);
	int fd[64];
	char head[512];
	for (size_t i = 0; i < ARRAY_LEN(fd); i++)
		fd[i] = stream_client(s->port, head, sizeof(head));
	char buf[256];
	exchange(s->port, "GET /status HTTP/1.1\r\n\r\n", buf, sizeof(buf));
	assert_true(!strncmp(buf, "HTTP/1.1 503 ", 13));
	close(fd[0]);
	/* A slot frees once the server has seen the leave. */
	for (int i = 0; i < 200 && call(s, OP_CLIENTS, 0) == ARRAY_LEN(fd); i++)
		usleep(10000);
	expect_status(s->port, "GET /status HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n");
	for (size_t i = 1; i < ARRAY_LEN(fd); i++)
		close(fd[i]);
	srv_stop(s);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", ".." and the directory's own descriptor */
}

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_out_of_descriptors(void **state)
{
	struct srv *s = srv_start(HTTP_QUEUE_MAX_DEFAULT, HTTP_TIMEOUT_US_DEFAULT);
	int fd[4];
	for (size_t i = 0; i < ARRAY_LEN(fd); i++) {
		fd[i] = socket(AF_INET, SOCK_STREAM, 0);
		struct timeval tv = {IO_TIMEOUT_S, 0};
		setsockopt(fd[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	/* No descriptor left for accept: connections wait in the backlog. */
	struct rlimit old, none;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	none = old;
	none.rlim_cur = (rlim_t)open_fds();
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &none), 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (size_t i = 0; i < ARRAY_LEN(fd); i++) {
		assert_int_equal(connect(fd[i], (struct sockaddr *)&a, sizeof(a)), 0);
		cl_sends(fd[i], "GET /status HTTP/1.1\r\n\r\n");
	}
	/* The server pauses accepting instead of spinning on the error. */
	double cpu0 = cpu_seconds();
	usleep(500000);
	double busy = cpu_seconds() - cpu0;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	if (busy > 0.2)
		fail_msg("%.2f s of CPU in 0.5 s without descriptors", busy);
	for (size_t i = 0; i < ARRAY_LEN(fd); i++) {
		char buf[512];
		cl_read_all(fd[i], buf, sizeof(buf));
		assert_true(!strncmp(buf, "HTTP/1.1 200 OK\r\n", 17));
		close(fd[i]);
	}
	srv_stop(s);
}

static void test_new_errors(void **state)
{
	struct loop *l = loop_new();
	char err[256];
	assert_null(http_new(l, "localhost", 0, NULL, NULL, "video/mp2t", err, sizeof(err)));
	assert_non_null(strstr(err, "localhost"));
	assert_null(http_new(l, "127.0.0.1", 70000, NULL, NULL, "video/mp2t", err, sizeof(err)));
	assert_non_null(strstr(err, "70000"));
	assert_null(
	    http_new(l, "127.0.0.1", 0, NULL, NULL, "video/mp2t\r\nX: y", err, sizeof(err)));
	assert_non_null(strstr(err, "Content-Type"));
	struct http_server *h = http_new(l, "127.0.0.1", 0, NULL, NULL, NULL, err, sizeof(err));
	assert_non_null(h);
	assert_null(http_new(l, "127.0.0.1", http_port(h), NULL, NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "bind HTTP address 127.0.0.1 port"));
	assert_non_null(strstr(err, "in use"));
	http_free(h);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_json),
	    cmocka_unit_test(test_stream_three_clients),
	    cmocka_unit_test(test_stream_eight_clients),
	    cmocka_unit_test(test_stream_client_leaves),
	    cmocka_unit_test(test_slow_reader_keeps_order),
	    cmocka_unit_test(test_stalled_client_dropped),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_oversized_request),
	    cmocka_unit_test(test_partial_request_times_out),
	    cmocka_unit_test(test_random_garbage),
	    cmocka_unit_test(test_client_limit),
	    cmocka_unit_test(test_out_of_descriptors),
	    cmocka_unit_test(test_new_errors),
	};
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
