#include "peer/fault.h"

#include <stdlib.h>

#include "lib/loop.h"

struct fault_held {
	struct fault *f;
	struct fault_held *next, *prev;
	uint32_t ip;
	uint16_t port;
	size_t len;
	uint8_t buf[WIRE_MAX_DATAGRAM];
};

void fault_init(struct fault *f, uint64_t delay_us, double drop, uint64_t seed, struct loop *l,
                struct udp *u)
{
	*f = (struct fault){.delay_us = delay_us, .drop = drop, .loop = l, .udp = u};
	rng_seed(&f->rng, seed ^ 0xfa017fa017ull);
}

int fault_active(const struct fault *f)
{
	return f->delay_us || f->drop > 0;
}

static void unlink_held(struct fault_held *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		h->f->held = h->next;
	if (h->next)
		h->next->prev = h->prev;
}

static uint64_t release(struct loop *l, void *arg)
{
	struct fault_held *h = arg;
	udp_send_bytes(h->f->udp, h->ip, h->port, h->buf, h->len);
	unlink_held(h);
	free(h);
	return 0;
}

int fault_forward(struct fault *f, uint32_t ip, uint16_t port, const struct wire_msg *m)
{
	if (!fault_active(f) || m->hdr.type != WIRE_SEG_DATA)
		return 0;
	if (f->drop > 0 && rng_unit(&f->rng) < f->drop) {
		f->dropped++;
		return 1;
	}
	if (!f->delay_us)
		return 0;
	struct fault_held *h = malloc(sizeof(*h));
	int len = h ? wire_encode(m, h->buf, sizeof(h->buf)) : -1;
	if (len < 0) {
		free(h);
		return 0;
	}
	h->f = f;
	h->ip = ip;
	h->port = port;
	h->len = (size_t)len;
	if (!loop_add_timer(f->loop, f->delay_us, release, h)) {
		free(h);
		return 0;
	}
	h->prev = NULL;
	h->next = f->held;
	if (f->held)
		f->held->prev = h;
	f->held = h;
	f->delayed++;
	return 1;
}

void fault_free(struct fault *f)
{
	while (f->held) {
		struct fault_held *h = f->held;
		f->held = h->next;
		free(h);
	}
}
