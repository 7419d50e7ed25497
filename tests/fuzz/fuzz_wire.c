/* libFuzzer target for the wire codec and for the checks that read what a
 * stranger sends first. Decoding arbitrary bytes must never misbehave, and
 * whatever it accepts must re-encode to the very same bytes (the codec has
 * one encoding per message, so accepting a second spelling would be a bug).
 * Then, by message type:
 * - a cookie or its echo (peer/identity.h): an echoed cookie binds its
 *   sender exactly when it is the one made for that id and address in this
 *   epoch or the last, and the one made for it always does;
 * - a hash list (peer/auth.h): as it came, its signature is refused (only
 *   the key's holder signs); signed with the stream's key it is kept, found
 *   for every sequence it covers and no other, and a second copy is a
 *   duplicate;
 * - a segment: under a list signed with the key its hash checks out, and
 *   with one payload bit changed it does not;
 * - a hash request: looked up in the kept lists. */
#include <stdlib.h>
#include <string.h>

#include "peer/auth.h"
#include "peer/identity.h"
#include "peer/wire.h"

#define NOW_US (50ull * IDENT_COOKIE_EPOCH_US + 1234)

static struct identity ids;
static struct auth lists;
static struct auth_key key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char e[256];
	static const uint8_t no_key[WIRE_KEY_LEN];
	if (identity_init(&ids, 0) || auth_keypair(&key, NULL, e, sizeof(e)) ||
	    auth_init(&lists, 1, no_key))
		abort();
	memcpy(lists.pk, key.pk, WIRE_KEY_LEN);
	return 0;
}

/* The verdict on an echo from an empty table, which is then emptied again. */
static int echo_binds(const struct wire_addr *from, const uint8_t *cookie)
{
	int bound = identity_on_echo(&ids, from, cookie, NOW_US);
	int i = bindtab_find(&ids.t, from->id);
	if (i >= 0)
		bindtab_remove(&ids.t, i);
	return bound;
}

static void cookie(const struct wire_msg *m)
{
	struct wire_addr from = {m->hdr.sender, 0x0a000000u + m->hdr.stream, 7000};
	uint8_t now[WIRE_COOKIE_LEN], last[WIRE_COOKIE_LEN];
	identity_cookie(&ids, &from, NOW_US, now);
	identity_cookie(&ids, &from, NOW_US - IDENT_COOKIE_EPOCH_US, last);
	int good = !memcmp(now, m->u.cookie.cookie, WIRE_COOKIE_LEN) ||
	           !memcmp(last, m->u.cookie.cookie, WIRE_COOKIE_LEN);
	int self = from.id == ids.self_id;
	if (identity_admit(&ids, &from, NOW_US) != (self ? IDENT_REFUSED : IDENT_STRANGER))
		abort();
	if (echo_binds(&from, m->u.cookie.cookie) != (good && !self))
		abort();
	if (echo_binds(&from, now) != !self || echo_binds(&from, last) != !self)
		abort();
}

static void hash_list(const struct wire_msg *m)
{
	struct wire_hash_list hl = m->u.hl;
	lists.nlist = lists.next = 0;
	if (auth_on_list(&lists, &hl) != AUTH_BAD)
		abort();
	auth_sign(&key, lists.stream, &hl);
	if (auth_on_list(&lists, &hl) != AUTH_OK || auth_on_list(&lists, &hl) != AUTH_DUP)
		abort();
	for (uint32_t i = 0; i < hl.count; i++)
		if (auth_find(&lists, hl.first + i) != &lists.list[0])
			abort();
	if (auth_find(&lists, hl.first + hl.count) || auth_find(&lists, hl.first - 1))
		abort();
}

static void segment(const struct wire_msg *m)
{
	static uint8_t payload[WIRE_SEG_PAYLOAD_MAX];
	struct wire_seg_data sd = m->u.seg;
	struct wire_hash_list hl = {.first = sd.seq, .count = 1};
	lists.nlist = lists.next = 0;
	auth_seg_hash(lists.stream, &sd, hl.hash[0]);
	auth_sign(&key, lists.stream, &hl);
	if (auth_on_list(&lists, &hl) != AUTH_OK || auth_check(&lists, &sd) != AUTH_OK)
		abort();
	if (!sd.len)
		return;
	memcpy(payload, sd.payload, sd.len);
	payload[sd.seq % sd.len] ^= 1;
	sd.payload = payload;
	if (auth_check(&lists, &sd) != AUTH_BAD)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_msg m;
	uint8_t out[WIRE_MAX_DATAGRAM];

	if (wire_decode(data, size, &m) != WIRE_OK)
		return 0;
	int n = wire_encode(&m, out, sizeof(out));

	if (n < 0 || (size_t)n != size || memcmp(out, data, size))
		abort();
	switch (m.hdr.type) {
	case WIRE_COOKIE:
	case WIRE_COOKIE_ECHO:
		cookie(&m);
		break;
	case WIRE_HASH_LIST:
		hash_list(&m);
		break;
	case WIRE_SEG_DATA:
		segment(&m);
		break;
	case WIRE_HASH_REQ:
		(void)auth_find(&lists, m.u.simple.seq);
		break;
	default:
		break;
	}
	return 0;
}
