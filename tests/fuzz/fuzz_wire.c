/* libFuzzer target for the wire codec: decoding arbitrary bytes must never
 * misbehave, and whatever it accepts must re-encode to the very same bytes
 * (the codec has one encoding per message, so accepting a second spelling
 * would be a bug). */
#include <stdlib.h>
#include <string.h>

#include "peer/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_msg m;
	uint8_t out[WIRE_MAX_DATAGRAM];

	if (wire_decode(data, size, &m) != WIRE_OK)
		return 0;
	int n = wire_encode(&m, out, sizeof(out));

	if (n < 0 || (size_t)n != size || memcmp(out, data, size))
		abort();
	return 0;
}
