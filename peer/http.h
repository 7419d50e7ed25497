/* HTTP server module: GET /stream serves the received media, in order, to
 * any number of local players; GET /status serves the peer's live state as
 * JSON. Non-blocking on the peer's event loop: a slow or stalled player
 * loses data (its bounded queue overflows and it is disconnected), the
 * peer never waits. */
#ifndef ANYSEE_HTTP_H
#define ANYSEE_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Bytes a /stream client may fall behind before it is disconnected: about a
 * minute of a 300 kbit/s stream. */
#define HTTP_QUEUE_MAX_DEFAULT (2u << 20)
/* Time from accept for a request to arrive and any reply but /stream's to be
 * delivered; slow or silent clients (slowloris) are closed after it. */
#define HTTP_TIMEOUT_US_DEFAULT 10000000u
/* Connections one client address may hold at once (of 64 in all); more get
 * 503. */
#define HTTP_MAX_PER_ADDR 16

struct loop;
struct http_server;

/* Returns a malloc'd JSON document (the server frees it), or NULL. */
typedef char *(*http_status_fn)(void *arg);

/* Listen on bind_ip:port (bind_ip NULL = every IPv4 address; port 0 = pick
 * one, see http_port). A NULL status serves no /status. NULL with a one-line
 * reason in err on failure. */
struct http_server *http_new(struct loop *l, const char *bind_ip, int port, http_status_fn status,
                             void *arg, const char *content_type, char *err, size_t errlen);
/* Replace the defaults above; the timeout applies to clients accepted later. */
void http_set_limits(struct http_server *h, size_t queue_max, uint64_t timeout_us);
int http_port(const struct http_server *h);
/* Append media to every /stream client, in order. */
void http_stream_write(struct http_server *h, const uint8_t *data, size_t len);
/* Connected /stream clients. */
size_t http_clients(const struct http_server *h);
void http_free(struct http_server *h);

#endif
