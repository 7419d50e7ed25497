/* What a peer played, checked against its source: a recording of the
 * peer's /stream while the source sent synthetic media (peer/media.h) is
 * cut into the source's segments (WIRE_SEG_PAYLOAD_MAX bytes each, the
 * length the source makes them), and each must be the very bytes the
 * source made, of one stream, in rising sequence. A forged or corrupted
 * segment that got past the peer's checks into its player shows here.
 * `anysee-analyze verify-stream FILE`. */
#ifndef ANYSEE_PLAYOUT_H
#define ANYSEE_PLAYOUT_H

#include <stddef.h>
#include <stdint.h>

struct playout {
	size_t segments;  /* whole segments read */
	size_t bad;       /* not the source's bytes, or of another stream */
	size_t backwards; /* not after the segment before */
	int have_bad;
	size_t first_bad; /* index of the first bad or backwards segment */
	uint16_t stream;  /* the first segment's */
	uint32_t first_seq, last_seq;
	uint64_t missing; /* sequences skipped between segments played */
	size_t trailing;  /* bytes after the last whole segment (a read cut short) */
};

void playout_check(const uint8_t *buf, size_t len, struct playout *pc);

#endif
