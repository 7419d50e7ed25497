/* Broadcaster ingest: cuts a synthetic stream, a media file or standard
 * input into segments at the stream's bit rate, stamps each with its
 * sequence number and origin time, and stores it for serving.
 *
 * With signed media (peer/auth.h) every segment waits one batch interval
 * in the source's queue: the batch it belongs to is signed and its hash
 * list sent when the batch closes, before any of its segments leaves. */
#ifndef ANYSEE_SOURCE_H
#define ANYSEE_SOURCE_H

#include <stdint.h>

#include "peer/wire.h"

struct node;
struct loop;

struct source_seg {
	struct wire_seg_data sd; /* payload points at data */
	uint8_t data[WIRE_SEG_PAYLOAD_MAX];
	uint64_t release_us; /* monotonic */
};

/* Made segments waiting for their release, oldest first, and the batch
 * being hashed. */
struct source_queue {
	struct source_seg *s;
	int cap, head, n;
	struct wire_hash_list batch;
	uint64_t batch_open_us;
	uint64_t lists;
	int ended; /* the ingest ended: only the queue is left to send */
};

int source_start(struct node *n);
uint64_t source_timer(struct loop *l, void *arg);
void source_stop(struct node *n);

#endif
