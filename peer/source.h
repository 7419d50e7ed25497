/* Broadcaster ingest: cuts a synthetic stream, a media file or standard
 * input into segments at the stream's bit rate, stamps each with its
 * sequence number and origin time, and stores it for serving. */
#ifndef ANYSEE_SOURCE_H
#define ANYSEE_SOURCE_H

#include <stdint.h>

struct node;
struct loop;

int source_start(struct node *n);
uint64_t source_timer(struct loop *l, void *arg);
void source_stop(struct node *n);

#endif
