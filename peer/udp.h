/* The UDP endpoint every role speaks the wire protocol through: the node,
 * the rendezvous point and the monitor open, receive and send the same way.
 * Datagrams that do not decode are counted and dropped here, so handlers
 * only ever see whole messages. */
#ifndef ANYSEE_UDP_H
#define ANYSEE_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "peer/wire.h"

struct loop;

/* from is the sender's address with the id its header claims. */
typedef void (*udp_msg_fn)(void *arg, const struct wire_msg *m, const struct wire_addr *from);

struct udp {
	int fd;
	uint32_t ip;          /* the bound address, host byte order */
	uint16_t port;        /* the bound port (the kernel's pick for port 0) */
	uint64_t bad;         /* datagrams that did not decode */
	uint64_t send_errors; /* datagrams the kernel did not take */
	udp_msg_fn on_msg;
	void *arg;
};

/* Bind a non-blocking socket to ip:port. buf_bytes, when not 0, sizes both
 * socket buffers (a busy peer must not drop bursts the default would). */
int udp_open(struct udp *u, uint32_t ip, uint16_t port, int buf_bytes, char *err, size_t errlen);
/* Decode what arrives while l runs and hand each message to fn. Returns -1
 * with errno set when l cannot watch the socket. */
int udp_attach(struct udp *u, struct loop *l, udp_msg_fn fn, void *arg);
/* Encode and send m. Returns 0, or -1 when it cannot be encoded (reported
 * on stderr: a bug) or the kernel refused it (counted). */
int udp_send(struct udp *u, uint32_t ip, uint16_t port, const struct wire_msg *m);
/* Send an encoded datagram (counted when the kernel refuses it). */
int udp_send_bytes(struct udp *u, uint32_t ip, uint16_t port, const uint8_t *buf, size_t len);
void udp_close(struct udp *u);

#endif
