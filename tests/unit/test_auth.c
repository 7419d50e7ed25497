/* Source-signed media: what a peer accepts as the source's, and what it
 * holds, drops and lets through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer/auth.h"

#define STREAM 3
#define NSEG 40

struct fixture {
	struct auth_key key, other;
	struct auth a;
	uint8_t payload[NSEG][100];
	struct wire_seg_data seg[NSEG];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char e[128];
	assert_int_equal(auth_keypair(&f->key, NULL, e, sizeof(e)), 0);
	assert_int_equal(auth_keypair(&f->other, NULL, e, sizeof(e)), 0);
	assert_int_equal(auth_init(&f->a, STREAM, f->key.pk, 0), 0);
	for (int i = 0; i < NSEG; i++) {
		memset(f->payload[i], 'a' + i % 26, sizeof(f->payload[i]));
		f->seg[i] = (struct wire_seg_data){.seq = 1000u + (uint32_t)i,
		                                   .origin_us = 5000000u + (uint64_t)i * 35000u,
		                                   .len = sizeof(f->payload[i]),
		                                   .payload = f->payload[i]};
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	auth_free(&f->a);
	free(f);
	return 0;
}

/* The source's list over segments [from, from + count). */
static struct wire_hash_list make_list(const struct fixture *f, const struct auth_key *k, int from,
                                       int count)
{
	struct wire_hash_list hl = {.first = f->seg[from].seq, .count = (uint8_t)count};
	for (int i = 0; i < count; i++)
		auth_seg_hash(STREAM, &f->seg[from + i], hl.hash[i]);
	auth_sign(k, STREAM, &hl);
	return hl;
}

static void test_sign_and_verify(void **state)
{
	struct fixture *f = *state;
	struct wire_hash_list hl = make_list(f, &f->key, 0, 20);
	assert_true(auth_list_valid(f->key.pk, STREAM, &hl));
	assert_int_equal(auth_on_list(&f->a, &hl), AUTH_OK);
	assert_int_equal(auth_on_list(&f->a, &hl), AUTH_DUP);
	for (int i = 0; i < 20; i++)
		assert_int_equal(auth_check(&f->a, &f->seg[i]), AUTH_OK);
	assert_int_equal(auth_check(&f->a, &f->seg[20]), AUTH_UNKNOWN);
	assert_int_equal(f->a.lists_ok, 1);
}

/* A list signed by another key, for another stream, with a flipped hash or
 * a flipped signature byte is refused and changes nothing. */
static void test_forged_lists_refused(void **state)
{
	struct fixture *f = *state;
	struct wire_hash_list forged = make_list(f, &f->other, 0, 20);
	assert_int_equal(auth_on_list(&f->a, &forged), AUTH_BAD);

	struct wire_hash_list hl = make_list(f, &f->key, 0, 20);
	assert_false(auth_list_valid(f->key.pk, STREAM + 1, &hl));
	struct wire_hash_list bad = hl;
	bad.hash[7][3] ^= 1;
	assert_int_equal(auth_on_list(&f->a, &bad), AUTH_BAD);
	bad = hl;
	bad.sig[10] ^= 0x40;
	assert_int_equal(auth_on_list(&f->a, &bad), AUTH_BAD);
	bad = hl;
	bad.count = 19;
	assert_int_equal(auth_on_list(&f->a, &bad), AUTH_BAD);
	assert_int_equal(f->a.lists_bad, 4);
	assert_int_equal(f->a.nlist, 0);
	assert_int_equal(auth_check(&f->a, &f->seg[0]), AUTH_UNKNOWN);
	/* After the real list, a forged copy of it does not replace it. */
	assert_int_equal(auth_on_list(&f->a, &hl), AUTH_OK);
	assert_int_equal(auth_on_list(&f->a, &forged), AUTH_BAD);
	assert_int_equal(auth_check(&f->a, &f->seg[7]), AUTH_OK);
}

/* A segment whose payload, sequence or origin stamp differs from what was
 * signed fails its one hash. */
static void test_segment_mismatch_refused(void **state)
{
	struct fixture *f = *state;
	struct wire_hash_list hl = make_list(f, &f->key, 0, 20);
	assert_int_equal(auth_on_list(&f->a, &hl), AUTH_OK);
	uint8_t copy[100];
	memcpy(copy, f->payload[5], sizeof(copy));
	copy[99] ^= 0x01;
	struct wire_seg_data s = f->seg[5];
	s.payload = copy;
	assert_int_equal(auth_check(&f->a, &s), AUTH_BAD);
	s = f->seg[5];
	s.origin_us += 1;
	assert_int_equal(auth_check(&f->a, &s), AUTH_BAD);
	s = f->seg[5];
	s.len = 99;
	assert_int_equal(auth_check(&f->a, &s), AUTH_BAD);
	/* Hop count and push flag change on every hop: not covered. */
	s = f->seg[5];
	s.hops = 7;
	s.flags = WIRE_SEG_PUSHED;
	assert_int_equal(auth_check(&f->a, &s), AUTH_OK);
}

struct released {
	uint32_t seq[AUTH_HOLD];
	int n;
	int bytes_ok;
};

static void on_ok(void *arg, const struct wire_seg_data *sd, const struct wire_addr *from)
{
	struct released *r = arg;
	uint8_t want[100];
	memset(want, 'a' + (int)(sd->seq - 1000) % 26, sizeof(want));
	r->bytes_ok += sd->len == sizeof(want) && !memcmp(sd->payload, want, sizeof(want));
	r->seq[r->n++] = sd->seq;
	assert_int_equal(from->id, 9);
}

/* Segments ahead of their list wait, bounded in number and in time; the
 * list lets the matching ones through (a copy of their bytes, not the
 * sender's buffer) and drops a tampered one. */
static void test_hold_window(void **state)
{
	struct fixture *f = *state;
	struct wire_addr from = {9, 0x0a000009, 7000};
	struct released r = {0};
	uint8_t tampered[100];
	memcpy(tampered, f->payload[3], sizeof(tampered));
	tampered[0] ^= 0xff;
	for (int i = 0; i < 10; i++) {
		struct wire_seg_data s = f->seg[i];
		if (i == 3)
			s.payload = tampered;
		assert_int_equal(auth_hold(&f->a, &s, &from, 100), 0);
	}
	memset(f->payload[2], 0, sizeof(f->payload[2])); /* the sender's buffer reused */
	f->payload[2][0] = 1;
	auth_release(&f->a, 200, on_ok, &r);
	assert_int_equal(r.n, 0); /* no list yet */
	assert_int_equal(f->a.nheld, 10);
	assert_int_equal(auth_first_held(&f->a)->sd.seq, 1000); /* whose list to ask for */
	memset(f->payload[2], 'c', sizeof(f->payload[2]));
	struct wire_hash_list hl = make_list(f, &f->key, 0, 20);
	assert_int_equal(auth_on_list(&f->a, &hl), AUTH_OK);
	auth_release(&f->a, 300, on_ok, &r);
	assert_int_equal(r.n, 9);
	assert_int_equal(r.bytes_ok, 9);
	assert_int_equal(f->a.mismatched, 1);
	assert_int_equal(f->a.nheld, 0);
	assert_null(auth_first_held(&f->a));

	/* Bounded in number: the hold refuses past AUTH_HOLD. */
	struct wire_seg_data s = f->seg[30];
	for (uint32_t i = 0; i < AUTH_HOLD + 5; i++) {
		s.seq = 5000 + i;
		assert_int_equal(auth_hold(&f->a, &s, &from, 1000), i < AUTH_HOLD ? 0 : -1);
	}
	assert_int_equal(f->a.hold_full, 5);
	/* ... and in time: nothing is held past AUTH_HOLD_US. */
	auth_release(&f->a, 1000 + AUTH_HOLD_US - 1, on_ok, &r);
	assert_int_equal(f->a.nheld, AUTH_HOLD);
	auth_release(&f->a, 1000 + AUTH_HOLD_US, on_ok, &r);
	assert_int_equal(f->a.nheld, 0);
	assert_int_equal(f->a.expired, AUTH_HOLD);
	assert_int_equal(r.n, 9);
}

/* The window keeps the AUTH_WINDOW newest lists. */
static void test_window_bounded(void **state)
{
	struct fixture *f = *state;
	struct wire_seg_data s = f->seg[0];
	for (int k = 0; k < AUTH_WINDOW + 2; k++) {
		s.seq = 100u * (uint32_t)k;
		struct wire_hash_list hl = {.first = s.seq, .count = 1};
		auth_seg_hash(STREAM, &s, hl.hash[0]);
		auth_sign(&f->key, STREAM, &hl);
		assert_int_equal(auth_on_list(&f->a, &hl), AUTH_OK);
	}
	assert_int_equal(f->a.nlist, AUTH_WINDOW);
	assert_null(auth_find(&f->a, 0));
	assert_null(auth_find(&f->a, 100));
	assert_non_null(auth_find(&f->a, 200));
	s.seq = 100u * (AUTH_WINDOW + 1);
	assert_int_equal(auth_check(&f->a, &s), AUTH_OK);
	/* A new key (the source came back with another) forgets them all. */
	auth_set_key(&f->a, f->other.pk);
	assert_int_equal(auth_check(&f->a, &s), AUTH_UNKNOWN);
}

/* A peer keeps the lists that cover its buffer: one a second, or one every
 * 64 segments when those come sooner, and two more; 32 at least, a full
 * ring's worth at most. Values by hand: at 300 kbit/s a 1316-byte segment
 * every 35093 us, 64 of them 2.25 s, so a list a second; at 2 Mbit/s one
 * every 5264 us, a list every 336896 us, 40 s in 118.7 of them; at
 * 20 Mbit/s 600 s would take 17826, over the 65536 / 64 + 2 = 1026. */
static void test_window_sized(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(auth_window(300000, 120000000), 122);
	assert_int_equal(auth_window(300000, 40000000), 42);
	assert_int_equal(auth_window(300000, 10000000), AUTH_WINDOW);
	assert_int_equal(auth_window(2000000, 40000000), 121);
	assert_int_equal(auth_window(20000000, 600000000), 1026);
	assert_int_equal(auth_window(0, 40000000), AUTH_WINDOW);
	/* A window of 62 (60 s at 300 kbit/s) keeps 62 lists, where the
	 * default kept 32: the 63rd pushes out the first only. */
	struct auth a;
	int w = auth_window(300000, 60000000);
	assert_int_equal(w, 62);
	assert_int_equal(auth_init(&a, STREAM, f->key.pk, w), 0);
	struct wire_seg_data s = f->seg[0];
	for (int k = 0; k <= w; k++) {
		s.seq = 100u * (uint32_t)k;
		struct wire_hash_list hl = {.first = s.seq, .count = 1};
		auth_seg_hash(STREAM, &s, hl.hash[0]);
		auth_sign(&f->key, STREAM, &hl);
		assert_int_equal(auth_on_list(&a, &hl), AUTH_OK);
	}
	assert_int_equal(a.nlist, w);
	assert_null(auth_find(&a, 0));
	assert_non_null(auth_find(&a, 100));
	assert_non_null(auth_find(&a, 100u * (uint32_t)w));
	auth_free(&a);
}

/* --key FILE: the same seed gives the same key pair; a bad file is named. */
static void test_key_file(void **state)
{
	(void)state;
	char path[] = "/tmp/anysee-key-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *seed = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
	assert_int_equal(write(fd, seed, strlen(seed)), (int)strlen(seed));
	close(fd);
	struct auth_key a, b;
	char e[256] = "";
	assert_int_equal(auth_keypair(&a, path, e, sizeof(e)), 0);
	assert_int_equal(auth_keypair(&b, path, e, sizeof(e)), 0);
	assert_memory_equal(a.pk, b.pk, WIRE_KEY_LEN);
	FILE *fp = fopen(path, "w");
	fputs("00zz\n", fp);
	fclose(fp);
	assert_int_equal(auth_keypair(&a, path, e, sizeof(e)), -1);
	assert_non_null(strstr(e, path));
	unlink(path);
	assert_int_equal(auth_keypair(&a, path, e, sizeof(e)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sign_and_verify, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forged_lists_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_segment_mismatch_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hold_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_window_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_window_sized, setup, teardown),
	    cmocka_unit_test(test_key_file),
	};
	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
