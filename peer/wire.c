/* Wire codec. Writers and readers never step outside their buffers: a writer
 * past cap only counts bytes, a reader past the body yields zeros and flags
 * the shortfall, so each body codec is a straight list of fields and the
 * length verdict is taken once at the end. */
#include "peer/wire.h"

#include <stdbool.h>
#include <string.h>

struct writer {
	uint8_t *p;
	size_t cap;
	size_t n;
};

struct reader {
	const uint8_t *p;
	size_t left;
	bool overrun;
};

static void put8(struct writer *w, uint8_t v)
{
	if (w->n < w->cap)
		w->p[w->n] = v;
	w->n++;
}

static void put16(struct writer *w, uint16_t v)
{
	put8(w, (uint8_t)(v >> 8));
	put8(w, (uint8_t)v);
}

static void put32(struct writer *w, uint32_t v)
{
	put16(w, (uint16_t)(v >> 16));
	put16(w, (uint16_t)v);
}

static void put64(struct writer *w, uint64_t v)
{
	put32(w, (uint32_t)(v >> 32));
	put32(w, (uint32_t)v);
}

static void put_bytes(struct writer *w, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		put8(w, p[i]);
}

static void put_addr(struct writer *w, const struct wire_addr *a)
{
	put32(w, a->id);
	put32(w, a->ip);
	put16(w, a->port);
}

/* Bytes after the terminator go out as zeros whatever the caller left there,
 * so equal names always make equal datagrams. */
static int put_name(struct writer *w, const char *name)
{
	size_t len = strnlen(name, WIRE_STREAM_NAME);

	if (len == WIRE_STREAM_NAME)
		return WIRE_ERANGE;
	put_bytes(w, (const uint8_t *)name, len);
	for (; len < WIRE_STREAM_NAME; len++)
		put8(w, 0);
	return WIRE_OK;
}

static uint8_t get8(struct reader *r)
{
	if (!r->left) {
		r->overrun = true;
		return 0;
	}
	r->left--;
	return *r->p++;
}

static uint16_t get16(struct reader *r)
{
	uint16_t hi = get8(r);

	return (uint16_t)(hi << 8 | get8(r));
}

static uint32_t get32(struct reader *r)
{
	uint32_t hi = get16(r);

	return hi << 16 | get16(r);
}

static uint64_t get64(struct reader *r)
{
	uint64_t hi = get32(r);

	return hi << 32 | get32(r);
}

static void get_bytes(struct reader *r, uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = get8(r);
}

static void get_addr(struct reader *r, struct wire_addr *a)
{
	a->id = get32(r);
	a->ip = get32(r);
	a->port = get16(r);
}

/* Only the canonical form (a terminator, then zeros) is accepted, so that a
 * decoded message re-encodes to the very same bytes. */
static int get_name(struct reader *r, char *name)
{
	get_bytes(r, (uint8_t *)name, WIRE_STREAM_NAME);
	size_t len = strnlen(name, WIRE_STREAM_NAME);

	if (len == WIRE_STREAM_NAME)
		return WIRE_ERANGE;
	for (size_t i = len; i < WIRE_STREAM_NAME; i++)
		if (name[i])
			return WIRE_ERANGE;
	return WIRE_OK;
}

static size_t map_bytes(uint16_t nbits)
{
	return ((size_t)nbits + 7) / 8;
}

/* Mask of the meaningful bits in the last map byte (0 = all eight). */
static uint8_t map_tail_mask(uint16_t nbits)
{
	return (uint8_t)((1u << (nbits & 7)) - 1);
}

static int rate_ok(uint32_t bps)
{
	return bps >= WIRE_RATE_MIN_BPS && bps <= WIRE_RATE_MAX_BPS;
}

static int enc_register(struct writer *w, const struct wire_register *b)
{
	if (b->role == WIRE_ROLE_SOURCE && !rate_ok(b->rate_bps))
		return WIRE_ERANGE;
	put8(w, b->role);
	put8(w, b->mode);
	put16(w, b->port);
	put32(w, b->ip);
	put16(w, b->upload_slots);
	put32(w, b->rate_bps);
	if (put_name(w, b->name))
		return WIRE_ERANGE;
	put_bytes(w, b->key, WIRE_KEY_LEN);
	return WIRE_OK;
}

static int dec_register(struct reader *r, struct wire_register *b)
{
	b->role = get8(r);
	b->mode = get8(r);
	b->port = get16(r);
	b->ip = get32(r);
	b->upload_slots = get16(r);
	b->rate_bps = get32(r);
	if (b->role == WIRE_ROLE_SOURCE && !rate_ok(b->rate_bps))
		return WIRE_ERANGE;
	if (get_name(r, b->name))
		return WIRE_ERANGE;
	get_bytes(r, b->key, WIRE_KEY_LEN);
	return WIRE_OK;
}

/* Header, counts, then per entry: address, stream, role; per description:
 * id, rate, address, name, key. */
#define BOOT_PEER_LEN 13u
#define BOOT_STREAM_LEN (16u + WIRE_STREAM_NAME + WIRE_KEY_LEN)

unsigned wire_bootstrap_peer_room(unsigned nstreams)
{
	size_t used = WIRE_HDR_LEN + 2 + (size_t)nstreams * BOOT_STREAM_LEN;
	size_t room = used < WIRE_MAX_DATAGRAM ? (WIRE_MAX_DATAGRAM - used) / BOOT_PEER_LEN : 0;
	return room < WIRE_MAX_PEERS ? (unsigned)room : WIRE_MAX_PEERS;
}

/* A list longer than fits one datagram beside the descriptions is refused
 * both ways: the rendezvous point trims its sample to the room. */
static int boot_counts_ok(const struct wire_bootstrap *b)
{
	return b->nstreams <= WIRE_MAX_STREAMS &&
	       b->npeers <= wire_bootstrap_peer_room(b->nstreams);
}

static int enc_bootstrap(struct writer *w, const struct wire_bootstrap *b)
{
	if (!boot_counts_ok(b))
		return WIRE_ERANGE;
	put8(w, b->npeers);
	put8(w, b->nstreams);
	for (unsigned i = 0; i < b->npeers; i++) {
		put_addr(w, &b->peers[i].addr);
		put16(w, b->peers[i].stream);
		put8(w, b->peers[i].role);
	}
	for (unsigned i = 0; i < b->nstreams; i++) {
		const struct wire_stream_desc *s = &b->streams[i];

		if (!rate_ok(s->rate_bps))
			return WIRE_ERANGE;
		put16(w, s->id);
		put32(w, s->rate_bps);
		put_addr(w, &s->source);
		if (put_name(w, s->name))
			return WIRE_ERANGE;
		put_bytes(w, s->key, WIRE_KEY_LEN);
	}
	return WIRE_OK;
}

static int dec_bootstrap(struct reader *r, struct wire_bootstrap *b)
{
	b->npeers = get8(r);
	b->nstreams = get8(r);
	if (!boot_counts_ok(b))
		return WIRE_ERANGE;
	for (unsigned i = 0; i < b->npeers; i++) {
		get_addr(r, &b->peers[i].addr);
		b->peers[i].stream = get16(r);
		b->peers[i].role = get8(r);
	}
	for (unsigned i = 0; i < b->nstreams; i++) {
		struct wire_stream_desc *s = &b->streams[i];

		s->id = get16(r);
		s->rate_bps = get32(r);
		if (!rate_ok(s->rate_bps))
			return WIRE_ERANGE;
		get_addr(r, &s->source);
		if (get_name(r, s->name))
			return WIRE_ERANGE;
		get_bytes(r, s->key, WIRE_KEY_LEN);
	}
	return WIRE_OK;
}

static int enc_simple(struct writer *w, const struct wire_simple *b)
{
	put32(w, b->seq);
	put8(w, b->reason);
	put16(w, b->watch);
	return WIRE_OK;
}

static int dec_simple(struct reader *r, struct wire_simple *b)
{
	b->seq = get32(r);
	b->reason = get8(r);
	b->watch = get16(r);
	return WIRE_OK;
}

static int enc_detector(struct writer *w, const struct wire_detector *b)
{
	put32(w, b->msg_id);
	put8(w, b->ttl);
	put_addr(w, &b->src);
	put64(w, b->src_ts_us);
	put_addr(w, &b->direct);
	put64(w, b->direct_ts_us);
	return WIRE_OK;
}

static int dec_detector(struct reader *r, struct wire_detector *b)
{
	b->msg_id = get32(r);
	b->ttl = get8(r);
	get_addr(r, &b->src);
	b->src_ts_us = get64(r);
	get_addr(r, &b->direct);
	b->direct_ts_us = get64(r);
	return WIRE_OK;
}

/* Stray bits past nbits carry no meaning (wire_map_get ignores them), so
 * they are cleared rather than refused. */
static int enc_buffer_map(struct writer *w, const struct wire_buffer_map *b)
{
	if (b->nbits > WIRE_MAX_MAP_BITS)
		return WIRE_ERANGE;
	put32(w, b->base_seq);
	put16(w, b->nbits);
	put16(w, b->upload_free);
	size_t n = map_bytes(b->nbits);

	if (!n)
		return WIRE_OK;
	put_bytes(w, b->bits, n - 1);
	uint8_t mask = map_tail_mask(b->nbits);

	put8(w, mask ? b->bits[n - 1] & mask : b->bits[n - 1]);
	return WIRE_OK;
}

static int dec_buffer_map(struct reader *r, struct wire_buffer_map *b)
{
	b->base_seq = get32(r);
	b->nbits = get16(r);
	b->upload_free = get16(r);
	if (b->nbits > WIRE_MAX_MAP_BITS)
		return WIRE_ERANGE;
	size_t n = map_bytes(b->nbits);

	get_bytes(r, b->bits, n);
	uint8_t mask = map_tail_mask(b->nbits);

	if (n && mask && (b->bits[n - 1] & ~mask))
		return WIRE_ERANGE;
	return WIRE_OK;
}

static int enc_seg_request(struct writer *w, const struct wire_seg_request *b)
{
	if (b->count == 0 || b->count > WIRE_MAX_REQ)
		return WIRE_ERANGE;
	put16(w, b->count);
	for (unsigned i = 0; i < b->count; i++)
		put32(w, b->seqs[i]);
	return WIRE_OK;
}

static int dec_seg_request(struct reader *r, struct wire_seg_request *b)
{
	b->count = get16(r);
	if (b->count == 0 || b->count > WIRE_MAX_REQ)
		return WIRE_ERANGE;
	for (unsigned i = 0; i < b->count; i++)
		b->seqs[i] = get32(r);
	return WIRE_OK;
}

static int enc_seg_data(struct writer *w, const struct wire_seg_data *b)
{
	if (b->len > WIRE_SEG_PAYLOAD_MAX || (b->len && !b->payload) ||
	    (b->flags & ~WIRE_SEG_PUSHED))
		return WIRE_ERANGE;
	put32(w, b->seq);
	put64(w, b->origin_us);
	put8(w, b->hops);
	put8(w, b->flags);
	put32(w, b->checksum);
	put16(w, b->len);
	put_bytes(w, b->payload, b->len);
	return WIRE_OK;
}

static int dec_seg_data(struct reader *r, struct wire_seg_data *b)
{
	b->seq = get32(r);
	b->origin_us = get64(r);
	b->hops = get8(r);
	b->flags = get8(r);
	b->checksum = get32(r);
	b->len = get16(r);
	if (b->len > WIRE_SEG_PAYLOAD_MAX || (b->flags & ~WIRE_SEG_PUSHED))
		return WIRE_ERANGE;
	if (b->len != r->left)
		return WIRE_ELENGTH;
	b->payload = r->p;
	r->p += b->len;
	r->left = 0;
	return WIRE_OK;
}

static int enc_probe(struct writer *w, const struct wire_probe *b)
{
	if (b->ttl > 7 || b->half > 1 || b->nhops > WIRE_MAX_HOPS)
		return WIRE_ERANGE;
	put32(w, b->seq);
	put_addr(w, &b->peer0);
	put64(w, b->ts0_us);
	put32(w, b->source_id);
	put32(w, b->last_delay_us);
	put8(w, b->ttl);
	put8(w, b->half);
	put8(w, b->nhops);
	for (unsigned i = 0; i < b->nhops; i++) {
		put_addr(w, &b->hops[i].addr);
		put64(w, b->hops[i].arrival_us);
	}
	return WIRE_OK;
}

static int dec_probe(struct reader *r, struct wire_probe *b)
{
	b->seq = get32(r);
	get_addr(r, &b->peer0);
	b->ts0_us = get64(r);
	b->source_id = get32(r);
	b->last_delay_us = get32(r);
	b->ttl = get8(r);
	b->half = get8(r);
	b->nhops = get8(r);
	if (b->ttl > 7 || b->half > 1 || b->nhops > WIRE_MAX_HOPS)
		return WIRE_ERANGE;
	for (unsigned i = 0; i < b->nhops; i++) {
		get_addr(r, &b->hops[i].addr);
		b->hops[i].arrival_us = get64(r);
	}
	return WIRE_OK;
}

static int enc_path_setup(struct writer *w, const struct wire_path_setup *b)
{
	if (b->share >= WIRE_SHARE_MAX || b->nhops < 2 || b->nhops > WIRE_MAX_HOPS)
		return WIRE_ERANGE;
	put32(w, b->seq);
	put32(w, b->delay_us);
	put8(w, b->share);
	put8(w, b->nhops);
	for (unsigned i = 0; i < b->nhops; i++)
		put_addr(w, &b->hops[i]);
	return WIRE_OK;
}

static int dec_path_setup(struct reader *r, struct wire_path_setup *b)
{
	b->seq = get32(r);
	b->delay_us = get32(r);
	b->share = get8(r);
	b->nhops = get8(r);
	if (b->share >= WIRE_SHARE_MAX || b->nhops < 2 || b->nhops > WIRE_MAX_HOPS)
		return WIRE_ERANGE;
	for (unsigned i = 0; i < b->nhops; i++)
		get_addr(r, &b->hops[i]);
	return WIRE_OK;
}

static int enc_hash_list(struct writer *w, const struct wire_hash_list *b)
{
	if (b->count == 0 || b->count > WIRE_MAX_HASHES)
		return WIRE_ERANGE;
	put32(w, b->first);
	put8(w, b->count);
	for (unsigned i = 0; i < b->count; i++)
		put_bytes(w, b->hash[i], WIRE_HASH_LEN);
	put_bytes(w, b->sig, WIRE_SIG_LEN);
	return WIRE_OK;
}

static int dec_hash_list(struct reader *r, struct wire_hash_list *b)
{
	b->first = get32(r);
	b->count = get8(r);
	if (b->count == 0 || b->count > WIRE_MAX_HASHES)
		return WIRE_ERANGE;
	for (unsigned i = 0; i < b->count; i++)
		get_bytes(r, b->hash[i], WIRE_HASH_LEN);
	get_bytes(r, b->sig, WIRE_SIG_LEN);
	return WIRE_OK;
}

static int enc_cookie(struct writer *w, const struct wire_cookie *b)
{
	put_bytes(w, b->cookie, WIRE_COOKIE_LEN);
	return WIRE_OK;
}

static int dec_cookie(struct reader *r, struct wire_cookie *b)
{
	get_bytes(r, b->cookie, WIRE_COOKIE_LEN);
	return WIRE_OK;
}

static int enc_report(struct writer *w, const struct wire_report *b)
{
	put64(w, b->t_us);
	put16(w, b->partners);
	put16(w, b->neighbours);
	put32(w, b->received);
	put32(w, b->due);
	put32(w, b->on_time);
	put32(w, b->last_delay_us);
	put8(w, b->state);
	return WIRE_OK;
}

static int dec_report(struct reader *r, struct wire_report *b)
{
	b->t_us = get64(r);
	b->partners = get16(r);
	b->neighbours = get16(r);
	b->received = get32(r);
	b->due = get32(r);
	b->on_time = get32(r);
	b->last_delay_us = get32(r);
	b->state = get8(r);
	return WIRE_OK;
}

static int enc_body(struct writer *w, const struct wire_msg *m)
{
	switch (m->hdr.type) {
	case WIRE_REGISTER:
		return enc_register(w, &m->u.reg);
	case WIRE_BOOTSTRAP:
		return enc_bootstrap(w, &m->u.boot);
	case WIRE_NEIGH_REQ:
	case WIRE_NEIGH_ACCEPT:
	case WIRE_NEIGH_CUT:
	case WIRE_LEAVE:
	case WIRE_RELAY_ACCEPT:
	case WIRE_RELAY_REFUSE:
	case WIRE_RENEW:
	case WIRE_HASH_REQ:
		return enc_simple(w, &m->u.simple);
	case WIRE_DETECTOR:
		return enc_detector(w, &m->u.det);
	case WIRE_BUFFER_MAP:
		return enc_buffer_map(w, &m->u.map);
	case WIRE_SEG_REQUEST:
		return enc_seg_request(w, &m->u.req);
	case WIRE_SEG_DATA:
		return enc_seg_data(w, &m->u.seg);
	case WIRE_PROBE:
		return enc_probe(w, &m->u.probe);
	case WIRE_PATH_SETUP:
		return enc_path_setup(w, &m->u.path);
	case WIRE_REPORT:
		return enc_report(w, &m->u.report);
	case WIRE_HASH_LIST:
		return enc_hash_list(w, &m->u.hl);
	case WIRE_COOKIE:
	case WIRE_COOKIE_ECHO:
		return enc_cookie(w, &m->u.cookie);
	}
	return WIRE_ETYPE;
}

static int dec_body(struct reader *r, struct wire_msg *m)
{
	switch (m->hdr.type) {
	case WIRE_REGISTER:
		return dec_register(r, &m->u.reg);
	case WIRE_BOOTSTRAP:
		return dec_bootstrap(r, &m->u.boot);
	case WIRE_NEIGH_REQ:
	case WIRE_NEIGH_ACCEPT:
	case WIRE_NEIGH_CUT:
	case WIRE_LEAVE:
	case WIRE_RELAY_ACCEPT:
	case WIRE_RELAY_REFUSE:
	case WIRE_RENEW:
	case WIRE_HASH_REQ:
		return dec_simple(r, &m->u.simple);
	case WIRE_DETECTOR:
		return dec_detector(r, &m->u.det);
	case WIRE_BUFFER_MAP:
		return dec_buffer_map(r, &m->u.map);
	case WIRE_SEG_REQUEST:
		return dec_seg_request(r, &m->u.req);
	case WIRE_SEG_DATA:
		return dec_seg_data(r, &m->u.seg);
	case WIRE_PROBE:
		return dec_probe(r, &m->u.probe);
	case WIRE_PATH_SETUP:
		return dec_path_setup(r, &m->u.path);
	case WIRE_REPORT:
		return dec_report(r, &m->u.report);
	case WIRE_HASH_LIST:
		return dec_hash_list(r, &m->u.hl);
	case WIRE_COOKIE:
	case WIRE_COOKIE_ECHO:
		return dec_cookie(r, &m->u.cookie);
	}
	return WIRE_ETYPE;
}

int wire_encode(const struct wire_msg *m, uint8_t *buf, size_t cap)
{
	struct writer w = {.p = buf, .cap = cap};

	put16(&w, WIRE_MAGIC);
	put8(&w, WIRE_VERSION);
	put8(&w, m->hdr.type);
	put16(&w, 0); /* body length, patched below */
	put16(&w, m->hdr.stream);
	put32(&w, m->hdr.sender);

	int err = enc_body(&w, m);

	if (err)
		return err;
	if (w.n > cap)
		return WIRE_ENOSPACE;
	size_t body = w.n - WIRE_HDR_LEN;

	buf[4] = (uint8_t)(body >> 8);
	buf[5] = (uint8_t)body;
	return (int)w.n;
}

int wire_decode(const uint8_t *buf, size_t len, struct wire_msg *out)
{
	if (len < WIRE_HDR_LEN)
		return WIRE_ESHORT;

	struct reader r = {.p = buf, .left = len};

	/* Callers may grow a decoded map or list in place: what was not sent must
	 * read as zero, not as their stale data. */
	memset(out, 0, sizeof(*out));
	if (get16(&r) != WIRE_MAGIC)
		return WIRE_EMAGIC;
	if (get8(&r) != WIRE_VERSION)
		return WIRE_EVERSION;
	out->hdr.type = get8(&r);
	if (out->hdr.type == 0 || out->hdr.type >= WIRE_TYPE_MAX)
		return WIRE_ETYPE;
	out->hdr.length = get16(&r);
	out->hdr.stream = get16(&r);
	out->hdr.sender = get32(&r);
	if (out->hdr.length > r.left)
		return WIRE_ESHORT;
	if (out->hdr.length < r.left)
		return WIRE_ELENGTH;

	int err = dec_body(&r, out);

	/* A field read past the body is garbage; the shortfall is the real error. */
	if (r.overrun)
		return WIRE_ELENGTH;
	if (err)
		return err;
	return r.left ? WIRE_ELENGTH : WIRE_OK;
}

void wire_msg_init(struct wire_msg *m, enum wire_type type, uint16_t stream, uint32_t sender)
{
	memset(&m->hdr, 0, sizeof(m->hdr));
	m->hdr.type = (uint8_t)type;
	m->hdr.stream = stream;
	m->hdr.sender = sender;
}

void wire_msg_simple(struct wire_msg *m, enum wire_type type, uint16_t stream, uint32_t sender,
                     uint32_t seq, uint8_t reason)
{
	wire_msg_init(m, type, stream, sender);
	m->u.simple = (struct wire_simple){.seq = seq, .reason = reason};
}

void wire_msg_echo(struct wire_msg *m, uint32_t sender, const struct wire_cookie *c)
{
	wire_msg_init(m, WIRE_COOKIE_ECHO, 0, sender);
	m->u.cookie = *c;
}

const char *wire_strerror(int err)
{
	switch (err) {
	case WIRE_OK:
		return "ok";
	case WIRE_ESHORT:
		return "datagram truncated";
	case WIRE_EMAGIC:
		return "bad magic";
	case WIRE_EVERSION:
		return "unsupported protocol version";
	case WIRE_ETYPE:
		return "unknown message type";
	case WIRE_ELENGTH:
		return "body length mismatch";
	case WIRE_ERANGE:
		return "field out of range";
	case WIRE_ENOSPACE:
		return "output buffer too small";
	}
	return "unknown";
}

const char *wire_type_name(int type)
{
	static const char *const names[WIRE_TYPE_MAX] = {
	    [WIRE_REGISTER] = "register",
	    [WIRE_BOOTSTRAP] = "bootstrap",
	    [WIRE_NEIGH_REQ] = "neighbour request",
	    [WIRE_NEIGH_ACCEPT] = "neighbour accept",
	    [WIRE_NEIGH_CUT] = "neighbour cut",
	    [WIRE_DETECTOR] = "detector",
	    [WIRE_BUFFER_MAP] = "buffer map",
	    [WIRE_SEG_REQUEST] = "segment request",
	    [WIRE_SEG_DATA] = "segment data",
	    [WIRE_PROBE] = "probe",
	    [WIRE_PATH_SETUP] = "path setup",
	    [WIRE_RELAY_ACCEPT] = "relay accept",
	    [WIRE_RELAY_REFUSE] = "relay refuse",
	    [WIRE_LEAVE] = "leave",
	    [WIRE_REPORT] = "report",
	    [WIRE_RENEW] = "renew",
	    [WIRE_HASH_LIST] = "hash list",
	    [WIRE_HASH_REQ] = "hash request",
	    [WIRE_COOKIE] = "cookie",
	    [WIRE_COOKIE_ECHO] = "cookie echo",
	};

	if (type <= 0 || type >= WIRE_TYPE_MAX)
		return "unknown";
	return names[type];
}

uint32_t wire_checksum(const uint8_t *p, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}
