/* Push paths and children across the peers' lives, from their event logs:
 * how long a parent kept a child after the child's process ended (a crash
 * or a leave), and how long a child's push took to come back after its
 * parent crashed. The protocol promises under two leases for the first
 * (peer/inter.h); the second is the backup paths' worth. */
#ifndef ANYSEE_PATHS_H
#define ANYSEE_PATHS_H

#include <stddef.h>
#include <stdint.h>

#include "peer/log.h"

enum path_ev_kind { PE_START, PE_END, PE_CRASH, PE_CHILD_ADD, PE_CHILD_DEL, PE_CUT, PE_UP };

/* One event of one peer: id is the peer's own (START, END, CRASH), the
 * child's (CHILD_*) or the parent's (CUT, UP); stream, a child's stream
 * (a peer may push one stream to a node and relay it another: two
 * children), 0 for the others. */
struct path_ev {
	uint64_t ts_us;
	uint32_t peer, id, order;
	uint16_t stream;
	uint8_t kind;
};

struct path_log {
	struct path_ev *v;
	size_t n, cap;
	int oom; /* an event could not be kept: the figures are incomplete */
};

void paths_add(struct path_log *l, uint64_t ts_us, uint32_t peer, uint32_t id, int kind);
/* The events of a peer's log line that matter here; the rest is ignored. */
void paths_fold(struct path_log *l, uint32_t peer, const struct evlog_line *e);
void paths_free(struct path_log *l);

struct paths_summary {
	/* Children kept after their peer ended, by how long (seconds), and how
	 * many beyond two leases; a parent that ended first counts to its end. */
	int outlived, over_two_leases;
	double outlive_p50_s, outlive_max_s;
	/* Push paths whose parent crashed: to the next push path up, and to
	 * the cut (detection), medians; failover p95. */
	int failovers, unrecovered;
	double failover_p50_s, failover_p95_s, detect_p50_s;
};

/* stop_us: when the harness stopped the run (children still held then by
 * a parent that ran to the end count until it). Sorts l. Returns -1 when
 * out of memory. */
int paths_summarize(struct path_log *l, uint64_t stop_us, struct paths_summary *s);

#endif
