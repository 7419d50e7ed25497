/* Control overhead from a capture file: AnySee messages on the wire counted
 * by type (DESIGN.md section 6). Only the headers are read, so a capture
 * snapped after the AnySee header is enough.
 *
 * Bytes are wire bytes: each frame as it was on its veth, an Ethernet frame,
 * whatever the capture's link type (the cooked header's length is replaced
 * by Ethernet's 14), and at its original length even when the capture kept
 * only a prefix.
 */
#ifndef ANYSEE_OVERHEAD_H
#define ANYSEE_OVERHEAD_H

#include <stdint.h>
#include <stdio.h>

#include "lib/json.h"
#include "peer/wire.h"

struct overhead_count {
	uint64_t packets;
	uint64_t bytes;
};

struct overhead {
	int linktype; /* DLT_* of the file */
	uint64_t frames;
	struct overhead_count anysee;              /* every AnySee message */
	struct overhead_count type[WIRE_TYPE_MAX]; /* by enum wire_type; [0] unused */
	/* Frames that are not AnySee messages: other protocols, other UDP. */
	struct overhead_count other;
	/* Frames cut before the headers that classify them, or whose AnySee
	 * header contradicts the packet (version, type, length). */
	struct overhead_count malformed;
	int truncated; /* the file ends inside a record: counts stop there */
};

/* Read a pcap file (Ethernet, Linux cooked v1 or v2). Returns 0, or -1 with
 * a one-line reason in err when the file cannot be read at all. */
int overhead_load(const char *path, struct overhead *o, char *err, size_t errlen);

/* Control bytes (every type but segment data) over all AnySee bytes; 0 when
 * there were none. */
double overhead_control_fraction(const struct overhead *o);

void overhead_print(const struct overhead *o, FILE *out);

/* A message type's name as a key: the snake_case of metrics.json
 * ("buffer_map"), written into buf. */
const char *overhead_type_key(int type, char *buf, size_t len);

/* Write the numbers as one JSON object value, to embed in a larger document. */
void overhead_write_json(const struct overhead *o, struct json *j);

#endif
