/* GET /status: the peer's live state as one JSON document. */
#ifndef ANYSEE_STATUS_H
#define ANYSEE_STATUS_H

struct node;

/* The document, malloc'd (the caller frees it), or NULL when out of
 * memory. Keys: id, role, mode, stream, stream_id, state, buffer
 * {capacity, newest, next_due, held_ahead}, received, due, on_time,
 * continuity, last_delay_us, http_clients, partners [{id, ip, source}],
 * neighbours [{id, delay_us}]. */
char *status_json(const struct node *n);

#endif
