/* Writes one valid datagram of every message type into the directory
 * given, as the fuzz target's seed corpus: from random bytes alone the
 * fuzzer rarely gets past the magic and version, and never deep into a
 * body. */
#include <stdio.h>
#include <string.h>

#include "peer/wire.h"

static const uint8_t payload[8] = "abcdefgh";

static void body(struct wire_msg *m)
{
	switch (m->hdr.type) {
	case WIRE_REGISTER:
		m->u.reg = (struct wire_register){
		    .role = WIRE_ROLE_SOURCE, .rate_bps = 300000, .name = "tv1", .key = {1}};
		break;
	case WIRE_BOOTSTRAP:
		m->u.boot.npeers = 1;
		m->u.boot.nstreams = 1;
		m->u.boot.peers[0] = (struct wire_peer_entry){{2, 0x0a000002, 7000}, 1, 0};
		m->u.boot.streams[0] = (struct wire_stream_desc){
		    .id = 1, .rate_bps = 300000, .source = {1, 0x0a000001, 7000}, .name = "tv1"};
		break;
	case WIRE_BUFFER_MAP:
		m->u.map.nbits = 16;
		m->u.map.bits[0] = 0x5a;
		break;
	case WIRE_SEG_REQUEST:
		m->u.req.count = 2;
		m->u.req.seqs[1] = 1;
		break;
	case WIRE_SEG_DATA:
		m->u.seg =
		    (struct wire_seg_data){.seq = 1,
		                           .len = sizeof(payload),
		                           .payload = payload,
		                           .checksum = wire_checksum(payload, sizeof(payload))};
		break;
	case WIRE_PROBE:
		m->u.probe.ttl = 2;
		m->u.probe.nhops = 1;
		break;
	case WIRE_PATH_SETUP:
		m->u.path.nhops = 2;
		break;
	case WIRE_HASH_LIST:
		m->u.hl.count = 3;
		m->u.hl.hash[2][0] = 7;
		break;
	default:
		break;
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: seed_wire DIR\n");
		return 2;
	}
	for (int t = 1; t < WIRE_TYPE_MAX; t++) {
		struct wire_msg m;
		uint8_t buf[WIRE_MAX_DATAGRAM];
		memset(&m, 0, sizeof(m));
		wire_msg_init(&m, (enum wire_type)t, 1, 7);
		body(&m);
		int n = wire_encode(&m, buf, sizeof(buf));
		char path[4096];
		snprintf(path, sizeof(path), "%s/seed-%02d", argv[1], t);
		FILE *f = n > 0 ? fopen(path, "wb") : NULL;
		if (!f || fwrite(buf, 1, (size_t)n, f) != (size_t)n || fclose(f)) {
			fprintf(stderr, "seed_wire: write %s (type %d): failed\n", path, t);
			return 1;
		}
	}
	return 0;
}
