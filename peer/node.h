/* A streaming node (end peer or source): state shared by node.c and the
 * broadcaster's ingest in source.c. */
#ifndef ANYSEE_NODE_H
#define ANYSEE_NODE_H

#include <stdint.h>
#include <stdio.h>

#include "peer/config.h"
#include "peer/inter.h"
#include "peer/log.h"
#include "lib/loop.h"
#include "peer/mesh.h"
#include "peer/overlay.h"
#include "lib/util.h"
#include "peer/wire.h"

struct node {
	struct config *cfg;
	struct loop *loop;
	int fd;
	struct wire_addr self;
	uint32_t rp_ip, mon_ip;
	uint16_t rp_port, mon_port;
	struct evlog log;
	struct rng rng;
	uint64_t join_mono_us;
	int bootstrapped;
	int leaving;
	int synthetic; /* payloads follow media_synth_fill() */

	int use_mesh; /* anysee mode (and every source): keep LTM mesh neighbours */
	struct mesh mesh;
	uint32_t asked[MESH_MAX]; /* neighbours asked to partner this round */
	uint64_t ltm_last_us;     /* last LTM cut or replacement */

	int have_stream;
	struct overlay ov;
	struct wire_peer_entry cand[WIRE_MAX_PEERS];
	int ncand;
	int start_chosen;
	uint32_t start_seq;
	struct buffer_stats last_tick;

	/* source */
	uint32_t next_seq;
	uint64_t gen_t0_us;
	FILE *ingest;

	struct inter inter;
	struct http_server *http;
	uint64_t served, bad_datagrams, send_errors;
};

int node_run(struct config *cfg);

#endif
