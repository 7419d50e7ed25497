#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "analysis/playout.h"
#include "peer/media.h"
#include "peer/wire.h"

#define SEG WIRE_SEG_PAYLOAD_MAX
#define ORIGIN 1700000000000000ull

static uint8_t buf[8 * SEG + 100];

/* Segment i of buf holds what the source made for seq on stream 3. */
static void put(int i, uint32_t seq)
{
	media_synth_fill(3, seq, ORIGIN + seq * 35000ull, buf + (size_t)i * SEG, SEG);
}

static void test_source_bytes_pass(void **state)
{
	(void)state;
	put(0, 10);
	put(1, 11);
	put(2, 13); /* 12 was never played: a gap, not a fault */
	put(3, 14);
	struct playout pc;
	playout_check(buf, 4 * SEG + 7, &pc);
	assert_int_equal(pc.segments, 4);
	assert_false(pc.have_bad);
	assert_int_equal(pc.stream, 3);
	assert_int_equal(pc.first_seq, 10);
	assert_int_equal(pc.last_seq, 14);
	assert_int_equal(pc.missing, 1);
	assert_int_equal(pc.trailing, 7);
}

/* A forged segment keeps a real header and a valid-looking body: one byte
 * off in its pattern is enough to show. */
static void test_forged_segment_found(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++)
		put(i, 20 + (uint32_t)i);
	buf[2 * SEG + 500] ^= 1;
	struct playout pc;
	playout_check(buf, 4 * SEG, &pc);
	assert_true(pc.have_bad);
	assert_int_equal(pc.first_bad, 2);
	assert_int_equal(pc.bad, 1);
	/* Its header alone is not trusted either. */
	put(2, 22);
	buf[2 * SEG + 3] ^= 0x40; /* the claimed sequence */
	playout_check(buf, 4 * SEG, &pc);
	assert_int_equal(pc.bad, 1);
	assert_int_equal(pc.first_bad, 2);
}

static void test_order_and_stream(void **state)
{
	(void)state;
	put(0, 30);
	put(1, 32);
	put(2, 31); /* played after a later one */
	struct playout pc;
	playout_check(buf, 3 * SEG, &pc);
	assert_true(pc.have_bad);
	assert_int_equal(pc.backwards, 1);
	assert_int_equal(pc.first_bad, 2);
	/* The source's bytes of another stream are not this stream's. */
	put(2, 33);
	media_synth_fill(4, 34, ORIGIN, buf + 3 * SEG, SEG);
	playout_check(buf, 4 * SEG, &pc);
	assert_int_equal(pc.bad, 1);
	assert_int_equal(pc.first_bad, 3);
}

static void test_too_short(void **state)
{
	(void)state;
	struct playout pc;
	put(0, 1);
	playout_check(buf, SEG - 1, &pc);
	assert_int_equal(pc.segments, 0);
	assert_false(pc.have_bad);
	assert_int_equal(pc.trailing, SEG - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_source_bytes_pass),
	    cmocka_unit_test(test_forged_segment_found),
	    cmocka_unit_test(test_order_and_stream),
	    cmocka_unit_test(test_too_short),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
