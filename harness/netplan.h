/* From a scenario's network declaration to the delay matrix the testbed
 * realizes: build or load the physical topology, attach the hosts, take
 * shortest paths. Done before any host exists, so a bad topology file
 * fails the run early. */
#ifndef ANYSEE_NETPLAN_H
#define ANYSEE_NETPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "harness/scenario.h"

/* Fill delay_us (nh x nh, row = sender). When rundir is not NULL, the
 * resolved topology (topology.gml) and matrix (delays.txt, ms) are written
 * there. Returns 0 or -1 with the declaration's file:line in err. */
int netplan_delays(const struct scenario *s, uint32_t *delay_us, const char *rundir, char *err,
                   size_t errlen);

#endif
