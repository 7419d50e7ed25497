#include "peer/media.h"

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t pattern_seed(uint16_t stream, uint32_t seq, uint64_t origin_us)
{
	uint32_t x = seq * 2654435761u ^ (uint32_t)stream << 16 ^ (uint32_t)origin_us;
	return x ? x : 1;
}

static uint8_t next_byte(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return (uint8_t)*x;
}

static void synth_hdr(uint16_t stream, uint32_t seq, uint64_t origin_us, uint8_t *hdr)
{
	put_be(hdr, stream, 2);
	put_be(hdr + 2, seq, 4);
	put_be(hdr + 6, origin_us, 8);
}

void media_synth_fill(uint16_t stream, uint32_t seq, uint64_t origin_us, uint8_t *buf, size_t len)
{
	uint8_t hdr[MEDIA_SYNTH_HDR];
	synth_hdr(stream, seq, origin_us, hdr);
	uint32_t x = pattern_seed(stream, seq, origin_us);
	for (size_t i = 0; i < len; i++)
		buf[i] = i < MEDIA_SYNTH_HDR ? hdr[i] : next_byte(&x);
}

int media_synth_verify(uint16_t stream, uint32_t seq, uint64_t origin_us, const uint8_t *buf,
                       size_t len)
{
	if (len < MEDIA_SYNTH_HDR)
		return 0;
	uint8_t hdr[MEDIA_SYNTH_HDR];
	synth_hdr(stream, seq, origin_us, hdr);
	uint32_t x = pattern_seed(stream, seq, origin_us);
	for (size_t i = 0; i < len; i++)
		if (buf[i] != (i < MEDIA_SYNTH_HDR ? hdr[i] : next_byte(&x)))
			return 0;
	return 1;
}

int media_synth_header(const uint8_t *buf, size_t len, uint16_t *stream, uint32_t *seq,
                       uint64_t *origin_us)
{
	if (len < MEDIA_SYNTH_HDR)
		return -1;
	*stream = (uint16_t)get_be(buf, 2);
	*seq = (uint32_t)get_be(buf + 2, 4);
	*origin_us = get_be(buf + 6, 8);
	return 0;
}
