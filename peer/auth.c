/* Source-signed media: libsodium does the cryptography (crypto_sign for
 * Ed25519, crypto_generichash for BLAKE2b); this file decides what is
 * signed and hashed, and keeps the verified lists and the held segments. */
#include "peer/auth.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static size_t be(uint8_t *p, uint64_t v, size_t width)
{
	for (size_t i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
	return width;
}

static int read_seed(const char *path, uint8_t seed[crypto_sign_SEEDBYTES], char *err,
                     size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return err_set(err, errlen, "open key file %s: %m", path);
	char hex[2 * crypto_sign_SEEDBYTES + 2] = "";
	size_t got = fread(hex, 1, sizeof(hex) - 1, f);
	fclose(f);
	while (got && (hex[got - 1] == '\n' || hex[got - 1] == '\r'))
		hex[--got] = 0;
	size_t bin_len = 0;
	if (got != 2 * crypto_sign_SEEDBYTES ||
	    sodium_hex2bin(seed, crypto_sign_SEEDBYTES, hex, got, NULL, &bin_len, NULL) ||
	    bin_len != crypto_sign_SEEDBYTES)
		return err_set(err, errlen, "read key file %s: not %u hex digits on one line", path,
		               2 * crypto_sign_SEEDBYTES);
	return 0;
}

int auth_keypair(struct auth_key *k, const char *path, char *err, size_t errlen)
{
	if (sodium_init() < 0)
		return err_set(err, errlen, "initialise libsodium: failed");
	if (!path || !*path) {
		crypto_sign_keypair(k->pk, k->sk);
		return 0;
	}
	uint8_t seed[crypto_sign_SEEDBYTES];
	if (read_seed(path, seed, err, errlen))
		return -1;
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	sodium_memzero(seed, sizeof(seed));
	return 0;
}

void auth_seg_hash(uint16_t stream, const struct wire_seg_data *sd, uint8_t out[WIRE_HASH_LEN])
{
	uint8_t head[14];
	size_t n = be(head, stream, 2);
	n += be(head + n, sd->seq, 4);
	n += be(head + n, sd->origin_us, 8);
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, WIRE_HASH_LEN);
	crypto_generichash_update(&st, head, n);
	crypto_generichash_update(&st, sd->payload, sd->len);
	crypto_generichash_final(&st, out, WIRE_HASH_LEN);
}

/* What is signed: the stream id, then the list's body up to its signature
 * as it goes on the wire. */
static size_t signed_bytes(uint16_t stream, const struct wire_hash_list *hl, uint8_t *buf)
{
	size_t n = be(buf, stream, 2);
	n += be(buf + n, hl->first, 4);
	n += be(buf + n, hl->count, 1);
	memcpy(buf + n, hl->hash, (size_t)hl->count * WIRE_HASH_LEN);
	return n + (size_t)hl->count * WIRE_HASH_LEN;
}

void auth_sign(const struct auth_key *k, uint16_t stream, struct wire_hash_list *hl)
{
	uint8_t buf[7 + WIRE_MAX_HASHES * WIRE_HASH_LEN];
	size_t n = signed_bytes(stream, hl, buf);
	crypto_sign_detached(hl->sig, NULL, buf, n, k->sk);
}

int auth_list_valid(const uint8_t pk[WIRE_KEY_LEN], uint16_t stream,
                    const struct wire_hash_list *hl)
{
	if (hl->count == 0 || hl->count > WIRE_MAX_HASHES)
		return 0;
	uint8_t buf[7 + WIRE_MAX_HASHES * WIRE_HASH_LEN];
	size_t n = signed_bytes(stream, hl, buf);
	return crypto_sign_verify_detached(hl->sig, buf, n, pk) == 0;
}

int auth_window(uint64_t rate_bps, uint64_t buffer_us)
{
	if (!rate_bps)
		return AUTH_WINDOW;
	uint64_t period_us = wire_seg_period_us(rate_bps);
	uint64_t batch_us = (uint64_t)WIRE_MAX_HASHES * (period_us ? period_us : 1);
	if (batch_us > AUTH_BATCH_US)
		batch_us = AUTH_BATCH_US;
	uint64_t n = (buffer_us + batch_us - 1) / batch_us + 2;
	if (n < AUTH_WINDOW)
		return AUTH_WINDOW;
	return n > AUTH_WINDOW_MAX ? (int)AUTH_WINDOW_MAX : (int)n;
}

int auth_init(struct auth *a, uint16_t stream, const uint8_t pk[WIRE_KEY_LEN], int window)
{
	memset(a, 0, sizeof(*a));
	if (sodium_init() < 0)
		return -1;
	a->window = window > 0 ? window : AUTH_WINDOW;
	a->held = calloc(AUTH_HOLD, sizeof(*a->held));
	a->list = calloc((size_t)a->window, sizeof(*a->list));
	if (!a->held || !a->list) {
		auth_free(a);
		return -1;
	}
	a->stream = stream;
	memcpy(a->pk, pk, WIRE_KEY_LEN);
	return 0;
}

void auth_free(struct auth *a)
{
	free(a->held);
	free(a->list);
	a->held = NULL;
	a->list = NULL;
}

void auth_set_key(struct auth *a, const uint8_t pk[WIRE_KEY_LEN])
{
	if (!memcmp(a->pk, pk, WIRE_KEY_LEN))
		return;
	memcpy(a->pk, pk, WIRE_KEY_LEN);
	a->nlist = a->next = 0;
}

static int covers(const struct wire_hash_list *hl, uint32_t seq)
{
	return seq - hl->first < hl->count;
}

const struct wire_hash_list *auth_find(const struct auth *a, uint32_t seq)
{
	for (int i = 0; i < a->nlist; i++)
		if (covers(&a->list[i], seq))
			return &a->list[i];
	return NULL;
}

static const struct wire_hash_list *find_first(const struct auth *a, uint32_t first)
{
	for (int i = 0; i < a->nlist; i++)
		if (a->list[i].first == first)
			return &a->list[i];
	return NULL;
}

void auth_add_own(struct auth *a, const struct wire_hash_list *hl)
{
	a->list[a->next] = *hl;
	a->next = (a->next + 1) % a->window;
	if (a->nlist < a->window)
		a->nlist++;
}

/* A list seen before is recognised by its bytes, without a second
 * signature check: every partner forwards each list once. */
enum auth_verdict auth_on_list(struct auth *a, const struct wire_hash_list *hl)
{
	const struct wire_hash_list *old = find_first(a, hl->first);
	size_t hashes = (size_t)hl->count * WIRE_HASH_LEN;
	if (old && old->count == hl->count && !memcmp(old->hash, hl->hash, hashes) &&
	    !memcmp(old->sig, hl->sig, WIRE_SIG_LEN)) {
		a->lists_dup++;
		return AUTH_DUP;
	}
	if (!auth_list_valid(a->pk, a->stream, hl)) {
		a->lists_bad++;
		return AUTH_BAD;
	}
	if (old) {
		/* The source signs each range once; a second signed version of
		 * it changes nothing already checked. */
		a->lists_dup++;
		return AUTH_DUP;
	}
	auth_add_own(a, hl);
	a->lists_ok++;
	return AUTH_OK;
}

enum auth_verdict auth_check(const struct auth *a, const struct wire_seg_data *sd)
{
	const struct wire_hash_list *hl = auth_find(a, sd->seq);
	if (!hl)
		return AUTH_UNKNOWN;
	uint8_t h[WIRE_HASH_LEN];
	auth_seg_hash(a->stream, sd, h);
	return sodium_memcmp(h, hl->hash[sd->seq - hl->first], WIRE_HASH_LEN) ? AUTH_BAD : AUTH_OK;
}

int auth_hold(struct auth *a, const struct wire_seg_data *sd, const struct wire_addr *from,
              uint64_t now_us)
{
	for (int i = 0; i < a->nheld; i++)
		if (a->held[i].sd.seq == sd->seq)
			return 0;
	if (a->nheld == AUTH_HOLD) {
		a->hold_full++;
		return -1;
	}
	struct auth_held *h = &a->held[a->nheld++];
	h->sd = *sd;
	memcpy(h->data, sd->payload, sd->len);
	h->sd.payload = h->data;
	h->from = *from;
	h->at_us = now_us;
	a->held_total++;
	return 0;
}

const struct auth_held *auth_first_held(const struct auth *a)
{
	const struct auth_held *first = NULL;
	for (int i = 0; i < a->nheld; i++)
		if (!first || seq_lt(a->held[i].sd.seq, first->sd.seq))
			first = &a->held[i];
	return first;
}

void auth_release(struct auth *a, uint64_t now_us,
                  void (*ok)(void *arg, const struct wire_seg_data *sd,
                             const struct wire_addr *from),
                  void *arg)
{
	for (int i = a->nheld - 1; i >= 0; i--) {
		struct auth_held *h = &a->held[i];
		enum auth_verdict v = auth_check(a, &h->sd);
		if (v == AUTH_UNKNOWN && now_us - h->at_us < AUTH_HOLD_US)
			continue;
		if (v == AUTH_OK) {
			ok(arg, &h->sd, &h->from);
			a->released++;
		} else if (v == AUTH_BAD) {
			a->mismatched++;
		} else {
			a->expired++;
		}
		if (i != a->nheld - 1) {
			*h = a->held[a->nheld - 1];
			h->sd.payload = h->data;
		}
		a->nheld--;
	}
}
