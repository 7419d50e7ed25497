/* A streaming node (end peer or source): state shared by node.c, the
 * broadcaster's ingest in source.c and the /status document. */
#ifndef ANYSEE_NODE_H
#define ANYSEE_NODE_H

#include <stdint.h>
#include <stdio.h>

#include "lib/loop.h"
#include "lib/util.h"
#include "peer/auth.h"
#include "peer/config.h"
#include "peer/fault.h"
#include "peer/identity.h"
#include "peer/inter.h"
#include "peer/log.h"
#include "peer/mesh.h"
#include "peer/overlay.h"
#include "peer/policy.h"
#include "peer/source.h"
#include "peer/udp.h"
#include "peer/wire.h"

struct node {
	struct config *cfg;
	const struct policy *policy;
	struct loop *loop;
	struct udp udp;
	struct wire_addr self;
	uint32_t rp_ip, mon_ip;
	uint16_t rp_port, mon_port;
	struct evlog log;
	struct rng rng;
	uint64_t join_mono_us;
	int bootstrapped;
	uint64_t rp_cookie_us; /* when an rp cookie last made us register again */
	int heard_rp;          /* a bootstrap came: until then strangers are not heard */
	int leaving;
	int synthetic; /* payloads follow media_synth_fill() */

	struct mesh mesh;
	struct identity ids; /* ids bound to addresses */

	int have_stream;
	struct overlay ov;
	struct wire_peer_entry cand[WIRE_MAX_PEERS]; /* the last bootstrap list */
	int ncand;
	/* When a cookie from the candidate at each index last made this node
	 * ask it again: at most once a round, so cookies forged in a
	 * candidate's name draw no more than one request a second to it. */
	uint64_t cand_reask_us[WIRE_MAX_PEERS];
	struct wire_stream_desc streams[WIRE_MAX_STREAMS]; /* ... and its streams */
	int nstreams;
	struct buffer_stats last_tick;

	/* source */
	uint64_t generated; /* segments made; the sequence is its low 32 bits */
	uint64_t gen_t0_us;
	FILE *ingest;
	struct auth_key key;    /* the signing key pair */
	struct source_queue sq; /* segments waiting for their batch's list */

	/* Signed media (peer/auth.h): the own stream's verified hash lists
	 * (the source's own, at the source) and the segments held for them. */
	struct auth auth;
	int auth_ready;    /* the stream and its key are known */
	uint64_t hreq_us;  /* the last hash request ... */
	uint32_t hreq_seq; /* ... and the segment it was for */

	struct inter inter;
	uint64_t pull_bytes;         /* segment payload served to pulling partners */
	struct evlog_util last_util; /* the counters at the last util event */
	struct fault fault;
	struct http_server *http;
	uint64_t served;
	uint64_t refused_requests;          /* segments asked by strangers or over budget */
	uint64_t lists_served, lists_over;  /* hash lists asked for: sent, over budget */
	uint64_t seg_corrupt, seg_rejected; /* segments not stored (evlog_leave) */
};

int node_run(struct config *cfg);
/* Send a hash list of the own stream to every partner but except_id (0:
 * all) and to every push child. */
void node_spread_list(struct node *n, const struct wire_hash_list *hl, uint32_t except_id);

#endif
