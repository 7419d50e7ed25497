/* From a scenario's network declaration to the delay matrix the testbed
 * realizes: build or load the physical topology, attach the hosts, take
 * shortest paths. Done before any host exists, so a bad topology file
 * fails the run early.
 *
 * A host's access delay is part of every path to and from it. This is the
 * one place that adds it to the matrix, and the one place that changes it
 * there when a link changes during the run. */
#ifndef ANYSEE_NETPLAN_H
#define ANYSEE_NETPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "harness/scenario.h"
#include "netns/linkmodel.h"

struct netplan {
	uint32_t n;
	uint32_t *delay_us;  /* n x n, row = sender, both ends' access delays included */
	uint32_t *access_us; /* each host's access delay, as included in delay_us */
};

/* Resolve the scenario's network into p. When rundir is not NULL, the
 * resolved topology (topology.gml) and matrix (delays.txt, ms) are written
 * there. Returns 0 or -1 with the declaration's file:line in err. A matrix
 * file's delays are taken as given: they are assumed to include the
 * declared access delay. */
int netplan_build(struct netplan *p, const struct scenario *s, const char *rundir, char *err,
                  size_t errlen);
void netplan_free(struct netplan *p);

/* Give the model the declared access links and the plan's delays. */
void netplan_fill_model(const struct netplan *p, const struct scenario *s, struct linkmodel *m);

/* Change host's access delay in p and in the model m it filled: every path
 * to and from the host moves by the difference. */
void netplan_set_access_delay(struct netplan *p, struct linkmodel *m, uint32_t host,
                              uint32_t access_us);

#endif
