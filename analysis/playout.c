#include "analysis/playout.h"

#include <string.h>

#include "peer/media.h"
#include "peer/wire.h"

void playout_check(const uint8_t *buf, size_t len, struct playout *pc)
{
	memset(pc, 0, sizeof(*pc));
	const size_t seg = WIRE_SEG_PAYLOAD_MAX;
	pc->segments = len / seg;
	pc->trailing = len % seg;
	int have_prev = 0;
	for (size_t i = 0; i < pc->segments; i++) {
		const uint8_t *p = buf + i * seg;
		uint16_t stream;
		uint32_t seq;
		uint64_t origin;
		media_synth_header(p, seg, &stream, &seq, &origin);
		int bad = !media_synth_verify(stream, seq, origin, p, seg) ||
		          (have_prev && stream != pc->stream);
		int backwards = !bad && have_prev && !seq_lt(pc->last_seq, seq);
		if ((bad || backwards) && !pc->have_bad) {
			pc->have_bad = 1;
			pc->first_bad = i;
		}
		if (bad) {
			pc->bad++;
			continue;
		}
		if (backwards) {
			pc->backwards++;
			continue;
		}
		if (!have_prev) {
			pc->stream = stream;
			pc->first_seq = seq;
		} else {
			pc->missing += seq - pc->last_seq - 1;
		}
		pc->last_seq = seq;
		have_prev = 1;
	}
}
