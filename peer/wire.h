/* Wire codec: the AnySee UDP protocol.
 *
 * Every datagram is a 12-byte header followed by one typed body, all in
 * network byte order. Every message fits one datagram under the link MTU
 * (WIRE_MAX_DATAGRAM), so the kernel never fragments. Decoding is
 * bounds-checked and writes nothing but *out; a malformed datagram yields a
 * negative WIRE_E* code and leaves the caller's state untouched.
 *
 * Header: magic u16 | version u8 | type u8 | body length u16 | stream u16 |
 *         sender id u32
 *
 * Bodies pack their struct's fields in order at their fixed widths; a
 * wire_addr is id u32 | ip u32 | port u16; an array follows its count. Names
 * are WIRE_STREAM_NAME bytes: at most 15 characters, then NUL padding. Each
 * message has exactly one encoding, so decode followed by encode reproduces
 * the datagram byte for byte.
 */
#ifndef ANYSEE_WIRE_H
#define ANYSEE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_MAGIC 0xA55Eu
/* 2: lease renewals, a pushed flag on segments, the path delay in a path
 * set-up and the watched stream in the simple body. 3: the source's public
 * key in its register and in the stream description, signed hash lists
 * and their requests. 4: the return-routability cookie and its echo. 5: a
 * probe's half flag and a path set-up's share (half-rate paths). */
#define WIRE_VERSION 5u
#define WIRE_HDR_LEN 12u
/* The IPv4 (20) and UDP (8) headers every datagram carries on the
 * network, on top of what the codec writes. */
#define WIRE_IP_UDP_LEN 28u
/* 1500-byte veth MTU minus those headers. */
#define WIRE_MAX_DATAGRAM (1500u - WIRE_IP_UDP_LEN)
/* Seven 188-byte MPEG-TS packets: the usual UDP TS payload. */
#define WIRE_SEG_PAYLOAD_MAX 1316u
#define WIRE_MAX_PEERS 64u   /* bootstrap list entries */
#define WIRE_MAX_STREAMS 16u /* stream descriptions in a bootstrap */
#define WIRE_MAX_MAP_BITS 4096u
#define WIRE_MAX_REQ 128u /* sequence numbers in one segment request */
#define WIRE_MAX_HOPS 8u  /* probe / path hop records (TTL <= 7 + origin) */
#define WIRE_STREAM_NAME 16u
/* Source-signed media (peer/auth.h): an Ed25519 public key and signature,
 * and one segment hash (BLAKE2b cut to 16 bytes, see auth.h). */
#define WIRE_KEY_LEN 32u
#define WIRE_SIG_LEN 64u
#define WIRE_HASH_LEN 16u
/* Segment hashes in one hash list: a second of a 300 kbit/s stream is 29
 * segments; a faster stream signs more lists a second. 64 keep the list
 * near 1.1 KB, inside one datagram. */
#define WIRE_MAX_HASHES 64u
/* A return-routability cookie (peer/identity.h): a 48-bit keyed hash, so
 * that the 18-byte challenge is no longer than the shortest datagram that
 * can draw it (a segment request for one segment). A blind spoofer guesses
 * one in 2^48 a try. */
#define WIRE_COOKIE_LEN 6u
/* The stream rates a peer accepts, from a source's command line or from the
 * wire: the paper's streams are 100 to 800 kbit/s; the range leaves room on
 * both sides and keeps the segment rate (and a 32-bit sequence number's
 * life, 52 days at the top) sane. A rate of 0 from the wire would divide. */
#define WIRE_RATE_MIN_BPS 8000u
#define WIRE_RATE_MAX_BPS 20000000u

/* A push or relay child's lease: its parent drops it after this long
 * without a WIRE_RENEW (peer/inter.h says why 3 s). */
#define WIRE_LEASE_US 3000000u

enum wire_type {
	WIRE_REGISTER = 1,
	WIRE_BOOTSTRAP,
	WIRE_NEIGH_REQ,
	WIRE_NEIGH_ACCEPT,
	WIRE_NEIGH_CUT,
	WIRE_DETECTOR,
	WIRE_BUFFER_MAP,
	WIRE_SEG_REQUEST,
	WIRE_SEG_DATA,
	WIRE_PROBE,
	WIRE_PATH_SETUP,
	WIRE_RELAY_ACCEPT,
	WIRE_RELAY_REFUSE,
	WIRE_LEAVE,
	WIRE_REPORT,
	WIRE_RENEW,
	WIRE_HASH_LIST,
	WIRE_HASH_REQ,
	WIRE_COOKIE,
	WIRE_COOKIE_ECHO,
	WIRE_TYPE_MAX
};

enum wire_err {
	WIRE_OK = 0,
	WIRE_ESHORT = -1,   /* datagram shorter than a header or its declared body */
	WIRE_EMAGIC = -2,   /* not an AnySee datagram */
	WIRE_EVERSION = -3, /* unsupported protocol version */
	WIRE_ETYPE = -4,    /* unknown message type */
	WIRE_ELENGTH = -5,  /* body length disagrees with the datagram or type */
	WIRE_ERANGE = -6,   /* a count or field is out of its allowed range */
	WIRE_ENOSPACE = -7, /* encode: output buffer too small */
};

enum wire_role {
	WIRE_ROLE_PEER = 0,
	WIRE_ROLE_SOURCE = 1,
	WIRE_ROLE_RP = 2,
	WIRE_ROLE_MONITOR = 3
};

/* A peer's address on the testbed (IPv4, host byte order in memory). */
struct wire_addr {
	uint32_t id;
	uint32_t ip;
	uint16_t port;
};

struct wire_hdr {
	uint8_t type;
	uint16_t length; /* body length; filled by encode */
	uint16_t stream; /* 0 = not about one stream */
	uint32_t sender;
};

struct wire_register {
	uint8_t role;
	uint8_t mode; /* 0 anysee, 1 coolstreaming */
	uint16_t port;
	uint32_t ip;
	uint16_t upload_slots;
	uint32_t rate_bps;           /* sources: the stream's rate */
	char name[WIRE_STREAM_NAME]; /* sources: stream name */
	uint8_t key[WIRE_KEY_LEN];   /* sources: the signing public key; else 0 */
};

struct wire_peer_entry {
	struct wire_addr addr;
	uint16_t stream; /* stream it watches (or serves, for a source) */
	uint8_t role;
};

struct wire_stream_desc {
	uint16_t id;
	uint32_t rate_bps;
	struct wire_addr source;
	char name[WIRE_STREAM_NAME];
	uint8_t key[WIRE_KEY_LEN]; /* the source's public key, bound by the rp */
};

struct wire_bootstrap {
	uint8_t npeers;
	uint8_t nstreams;
	struct wire_peer_entry peers[WIRE_MAX_PEERS];
	struct wire_stream_desc streams[WIRE_MAX_STREAMS];
};

/* Bootstrap entries that fit one datagram beside nstreams descriptions
 * (at most WIRE_MAX_PEERS): with 16 streams and their keys, 33. */
unsigned wire_bootstrap_peer_room(unsigned nstreams);

/* Why a NEIGH_CUT ends a relation. */
enum wire_cut_reason {
	WIRE_CUT_NONE = 0,
	WIRE_CUT_NOT_WATCHING = 1, /* the stream is not ours, or we are leaving */
	WIRE_CUT_FULL = 2,         /* no room for another partner or neighbour */
	WIRE_CUT_LTM = 3,          /* LTM found the link the slowest one */
	WIRE_CUT_PATH = 4,         /* a push-path link (not a partner or mesh link) */
};

/* Why a RELAY_REFUSE turns a path hop down. */
enum wire_refuse_reason {
	WIRE_REFUSE_UPSTREAM = 1,     /* the hop above refused, or the relay ended */
	WIRE_REFUSE_NOT_ON_PATH = 2,  /* not a hop of that path, or push paths are off */
	WIRE_REFUSE_NO_SLOT = 3,      /* key-node admission refused the request */
	WIRE_REFUSE_CANNOT_RELAY = 4, /* already relaying it, the path's end, or full */
	WIRE_REFUSE_LOOP = 5,         /* the asker is upstream of us: a push loop */
};

/* NEIGH_REQ / NEIGH_ACCEPT / NEIGH_CUT / LEAVE / RELAY_* / RENEW /
 * HASH_REQ share this body. RENEW: a push or relay child renews its lease
 * on the stream of the header with its parent (seq = the path's sequence).
 * HASH_REQ: asks for the hash list covering segment seq of the header's
 * stream. */
struct wire_simple {
	uint32_t seq;   /* probe/path sequence for RELAY_* and RENEW, else 0 */
	uint8_t reason; /* enum wire_cut_reason or wire_refuse_reason, 0 = none */
	uint16_t watch; /* mesh NEIGH_REQ / NEIGH_ACCEPT: the stream the sender
	                   watches (or serves), 0 none; else 0 */
};

/* LTM detector dm(id, S, TTL): S's send time and, once forwarded, the first
 * hop's (the "direct" neighbour's) receive time. */
struct wire_detector {
	uint32_t msg_id;
	uint8_t ttl;
	struct wire_addr src;
	uint64_t src_ts_us;
	struct wire_addr direct; /* id 0 until forwarded */
	uint64_t direct_ts_us;
};

struct wire_buffer_map {
	uint32_t base_seq;    /* bit i = segment base_seq + i */
	uint16_t nbits;       /* <= WIRE_MAX_MAP_BITS; (nbits + 7) / 8 bytes sent */
	uint16_t upload_free; /* spare upload slots the sender offers */
	uint8_t bits[WIRE_MAX_MAP_BITS / 8];
};

struct wire_seg_request {
	uint16_t count; /* 1..WIRE_MAX_REQ */
	uint32_t seqs[WIRE_MAX_REQ];
};

/* wire_seg_data.flags */
#define WIRE_SEG_PUSHED 1u /* sent down a push path, not in answer to a request */

struct wire_seg_data {
	uint32_t seq;
	uint64_t origin_us;     /* source's real-time clock at creation */
	uint8_t hops;           /* overlay hops so far; the source sends 1 */
	uint8_t flags;          /* WIRE_SEG_*; other bits are zero */
	uint32_t checksum;      /* wire_checksum() of payload */
	uint16_t len;           /* <= WIRE_SEG_PAYLOAD_MAX */
	const uint8_t *payload; /* decode: points into the input buffer */
};

/* The source's signed commitment to segments first .. first + count - 1
 * of the header's stream: their hashes in order, and an Ed25519 signature
 * over the stream id and this body up to the signature (auth.h). */
struct wire_hash_list {
	uint32_t first;
	uint8_t count; /* 1..WIRE_MAX_HASHES */
	uint8_t hash[WIRE_MAX_HASHES][WIRE_HASH_LEN];
	uint8_t sig[WIRE_SIG_LEN];
};

/* COOKIE: a node's answer to a datagram from an id it has not bound yet,
 * the only one before the sender proves it receives at its address.
 * COOKIE_ECHO: the same cookie sent back, from the address it went to. */
struct wire_cookie {
	uint8_t cookie[WIRE_COOKIE_LEN];
};

struct wire_hop {
	struct wire_addr addr;
	uint64_t arrival_us;
};

/* Reverse-tracing probe ProbM. */
struct wire_probe {
	uint32_t seq;
	struct wire_addr peer0;
	uint64_t ts0_us;
	uint32_t source_id;
	uint32_t last_delay_us;
	uint8_t ttl;  /* <= 7 */
	uint8_t half; /* 1: a hop could take its child at half the rate only */
	uint8_t nhops;
	struct wire_hop hops[WIRE_MAX_HOPS];
};

/* What a push path carries (eq. 1 with two active paths): the whole
 * stream, or the segments of one parity. In the source's offer, HALF_EVEN
 * says the trace can carry half the rate only (a probe's half flag); the
 * peer picks the half it builds. */
enum wire_share { WIRE_SHARE_WHOLE = 0, WIRE_SHARE_EVEN = 1, WIRE_SHARE_ODD = 2, WIRE_SHARE_MAX };

/* Does a path of this share carry segment seq? */
static inline int wire_share_has(uint8_t share, uint32_t seq)
{
	return share == WIRE_SHARE_WHOLE || (seq & 1u) == (uint32_t)(share == WIRE_SHARE_ODD);
}

/* Path chosen by the source, hop 0 = source ... last = Peer_0. */
struct wire_path_setup {
	uint32_t seq;
	uint32_t delay_us; /* the trace's delay as the source measured it */
	uint8_t share;     /* enum wire_share */
	uint8_t nhops;     /* 2..WIRE_MAX_HOPS */
	struct wire_addr hops[WIRE_MAX_HOPS];
};

struct wire_report {
	uint64_t t_us;
	uint16_t partners;
	uint16_t neighbours;
	uint32_t received;
	uint32_t due;
	uint32_t on_time;
	uint32_t last_delay_us;
	uint8_t state; /* 0 joining, 1 playing, 2 leaving */
};

struct wire_msg {
	struct wire_hdr hdr;
	union {
		struct wire_register reg;
		struct wire_bootstrap boot;
		struct wire_simple simple;
		struct wire_detector det;
		struct wire_buffer_map map;
		struct wire_seg_request req;
		struct wire_seg_data seg;
		struct wire_probe probe;
		struct wire_path_setup path;
		struct wire_report report;
		struct wire_hash_list hl;
		struct wire_cookie cookie;
	} u;
};

/* Start a message: the header (length left to encode) and nothing else. */
void wire_msg_init(struct wire_msg *m, enum wire_type type, uint16_t stream, uint32_t sender);
/* A whole message with a wire_simple body (watch 0). */
/* The echo of cookie c, from sender, to the address that sent it. */
void wire_msg_echo(struct wire_msg *m, uint32_t sender, const struct wire_cookie *c);
void wire_msg_simple(struct wire_msg *m, enum wire_type type, uint16_t stream, uint32_t sender,
                     uint32_t seq, uint8_t reason);

/* Encode m into buf (at most cap bytes). Returns the datagram length, or a
 * negative WIRE_E* code (WIRE_ERANGE for counts out of bounds or a name
 * without its NUL, WIRE_ENOSPACE when cap is too small). m->hdr.length is
 * ignored and computed; name bytes after the NUL and map bits past nbits are
 * sent as zeros. */
int wire_encode(const struct wire_msg *m, uint8_t *buf, size_t cap);

/* Decode one datagram. Returns WIRE_OK or a negative WIRE_E* code; on error
 * *out is unspecified but nothing else is touched. A datagram cut short of
 * its declared body is WIRE_ESHORT; one with bytes past it, or a body that
 * does not fit its type and counts, is WIRE_ELENGTH. Non-zero name padding
 * or map bits past nbits are WIRE_ERANGE. The segment checksum is not
 * verified here. Unsent parts of *out (unused slots, map bytes) are zero. */
int wire_decode(const uint8_t *buf, size_t len, struct wire_msg *out);

const char *wire_strerror(int err);
const char *wire_type_name(int type);

/* Checksum of segment payloads: 32-bit FNV-1a. */
uint32_t wire_checksum(const uint8_t *p, size_t len);

/* The interval between full segments of a stream of rate_bps; 0 when the
 * rate is 0 (not known yet). */
static inline uint64_t wire_seg_period_us(uint64_t rate_bps)
{
	return rate_bps ? (uint64_t)WIRE_SEG_PAYLOAD_MAX * 8u * 1000000u / rate_bps : 0;
}

/* Segment sequence numbers are serial numbers (RFC 1982): they wrap at
 * 2^32, and a is before b when b - a, taken modulo 2^32, is below 2^31.
 * Every comparison of two sequence numbers goes through these, so a stream
 * that runs past 2^32 segments keeps its order. */
static inline int seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline int seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? b : a;
}

/* Buffer-map bit helpers. A sequence before base_seq is past the map's end
 * modulo 2^32, so one unsigned distance covers both sides. */
static inline int wire_map_get(const struct wire_buffer_map *m, uint32_t seq)
{
	uint32_t i = seq - m->base_seq;
	if (i >= m->nbits)
		return 0;
	return (m->bits[i >> 3] >> (i & 7)) & 1;
}

static inline void wire_map_set(struct wire_buffer_map *m, uint32_t seq)
{
	uint32_t i = seq - m->base_seq;
	if (i < m->nbits)
		m->bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}

#endif
