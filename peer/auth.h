/* Source-signed media.
 *
 * The source holds an Ed25519 key pair (libsodium); the rendezvous point
 * binds the stream to its public key and hands the key to every peer in the
 * stream description. As libswift/PPSPP signs Merkle roots, the source signs
 * batches, not segments: about once a second (AUTH_BATCH_US, or sooner when
 * WIRE_MAX_HASHES segments are waiting) it sends a hash list committing to
 * the hashes of the segments it made since the last one. A peer checks one
 * signature per hash list, keeps the verified lists in a window, and then
 * checks each segment with one hash; it stores, forwards and plays only
 * segments whose hash it verified. A segment that comes before its list is
 * held (bounded in number and time) until the list arrives.
 *
 * A segment's hash is BLAKE2b (crypto_generichash) over the stream id, its
 * sequence number, its origin timestamp and its payload, cut to 16 bytes:
 * a forger must find a second preimage of one particular hash, which takes
 * 2^128 work for a 128-bit output (collisions, at 2^64, do not help: only
 * the source chooses what is signed), and 16 bytes keep 64 hashes and the
 * signature in one datagram. The hop count and push flag change on every
 * hop and are not covered.
 *
 * Delay: the source holds each segment for one batch interval before it
 * releases it, signs the batch when it closes (at most one interval after
 * its first segment was made) and sends the hash list then, so the list
 * always leaves before the segments it covers and no peer waits for it.
 * The origin timestamp, from which source-to-end delay is measured, is the
 * release time. The source thus adds one batch interval between capture
 * and release, the same in every mode, so comparisons stay fair. */
#ifndef ANYSEE_AUTH_H
#define ANYSEE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "peer/buffer.h"
#include "peer/wire.h"

#define AUTH_BATCH_US 1000000u
/* Verified hash lists kept, at least: 32 s of a 300 kbit/s stream. A
 * peer keeps as many as cover its buffer (auth_window): the backlog a new
 * peer pulls reaches back as far as its start rule asks (60 s in
 * coolstreaming mode), and a window shorter than that let the live lists
 * its partners spread push out the backlog's, so segments it had pulled
 * waited for lists it had already had, and were pulled again. */
#define AUTH_WINDOW 32
/* At most a full buffer ring of lists of WIRE_MAX_HASHES, and two. */
#define AUTH_WINDOW_MAX (BUFFER_MAX_SEGMENTS / WIRE_MAX_HASHES + 2)
/* Segments held while their hash list is missing, and for how long. */
#define AUTH_HOLD 128
#define AUTH_HOLD_US 3000000u
#define AUTH_SK_LEN 64u
/* A missing hash list is asked for again after this long. */
#define AUTH_ASK_US 100000u

struct auth_key {
	uint8_t pk[WIRE_KEY_LEN];
	uint8_t sk[AUTH_SK_LEN];
};

/* A new random key pair, or with path one derived from the 32-byte seed
 * written in hex in that file. Returns 0 or -1 with the reason in err. */
int auth_keypair(struct auth_key *k, const char *path, char *err, size_t errlen);

void auth_seg_hash(uint16_t stream, const struct wire_seg_data *sd, uint8_t out[WIRE_HASH_LEN]);
/* Sign hl's hashes for stream (fills hl->sig). */
void auth_sign(const struct auth_key *k, uint16_t stream, struct wire_hash_list *hl);
/* 1 when hl's signature is the stream's key's over hl. */
int auth_list_valid(const uint8_t pk[WIRE_KEY_LEN], uint16_t stream,
                    const struct wire_hash_list *hl);

struct auth_held {
	struct wire_seg_data sd; /* payload points at data */
	uint8_t data[WIRE_SEG_PAYLOAD_MAX];
	struct wire_addr from;
	uint64_t at_us;
};

struct auth {
	uint16_t stream;
	uint8_t pk[WIRE_KEY_LEN];
	struct wire_hash_list *list; /* a ring of window lists, the oldest replaced */
	int window, nlist, next;
	struct auth_held *held; /* AUTH_HOLD slots */
	int nheld;
	uint64_t lists_ok, lists_bad, lists_dup;
	uint64_t held_total, released, mismatched, expired, hold_full;
};

enum auth_verdict {
	AUTH_OK,      /* list: new and verified; segment: its hash matches */
	AUTH_DUP,     /* list: already kept */
	AUTH_BAD,     /* list: bad signature; segment: its hash does not match */
	AUTH_UNKNOWN, /* segment: no kept list covers it */
};

/* Lists to keep for a buffer of buffer_us on a stream of rate_bps: one a
 * batch interval, or one every WIRE_MAX_HASHES segments when those come
 * sooner, over the buffer, and two for the batches at its ends; at least
 * AUTH_WINDOW. */
int auth_window(uint64_t rate_bps, uint64_t buffer_us);
/* window lists kept (0: AUTH_WINDOW). */
int auth_init(struct auth *a, uint16_t stream, const uint8_t pk[WIRE_KEY_LEN], int window);
void auth_free(struct auth *a);
/* Another key for the stream (its source came back with a new one): the
 * lists signed by the old one go. */
void auth_set_key(struct auth *a, const uint8_t pk[WIRE_KEY_LEN]);

/* A hash list from the network: verified, then kept. */
enum auth_verdict auth_on_list(struct auth *a, const struct wire_hash_list *hl);
/* The source's own list: kept without a check. */
void auth_add_own(struct auth *a, const struct wire_hash_list *hl);
/* The kept list covering seq, or NULL. */
const struct wire_hash_list *auth_find(const struct auth *a, uint32_t seq);
enum auth_verdict auth_check(const struct auth *a, const struct wire_seg_data *sd);

/* Hold a copy of a segment whose list is missing. 0, or -1 when the hold
 * is full (counted in hold_full). */
int auth_hold(struct auth *a, const struct wire_seg_data *sd, const struct wire_addr *from,
              uint64_t now_us);
/* The held segment first in sequence, whose list to ask for next; NULL
 * when none is held. */
const struct auth_held *auth_first_held(const struct auth *a);
/* Hand each held segment that now checks out to ok (the copy lives until
 * it returns); drop those that fail their hash or waited AUTH_HOLD_US. */
void auth_release(struct auth *a, uint64_t now_us,
                  void (*ok)(void *arg, const struct wire_seg_data *sd,
                             const struct wire_addr *from),
                  void *arg);

#endif
