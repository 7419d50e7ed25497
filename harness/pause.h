/* Telling the machine's own pauses from the hosts' stalls.
 *
 * A host whose event loop runs a timer 100 ms late either did not get a
 * CPU while the machine ran (the hosts' own load, a blocked write), or the
 * machine itself did not run: a hypervisor that deschedules a virtual CPU
 * stops whatever was on it. The cures differ (fewer peers, or another
 * machine), so during a run one thread a CPU, pinned and at the highest
 * SCHED_FIFO priority, wakes every PAUSE_PERIOD_US and records each wakeup
 * PAUSE_MIN_US or more late. Nothing in the machine keeps such a thread
 * from its CPU for that long but the CPU not running at all (an idle
 * virtual CPU takes the host tens of milliseconds at worst to wake, and
 * the run keeps them awake anyway; harness/awake.h). The analysis then says
 * which stalls overlapped such a pause. */
#ifndef ANYSEE_PAUSE_H
#define ANYSEE_PAUSE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "lib/rundir.h"

#define PAUSE_MAX_CPUS 64
#define PAUSE_PERIOD_US 10000u /* 100 wakeups a second a CPU */
#define PAUSE_MIN_US RUNDIR_PAUSE_MIN_US
#define PAUSE_MAX_EVENTS 4096 /* beyond these, pauses are only counted */

struct pause_probe {
	int n; /* threads running */
	pthread_t th[PAUSE_MAX_CPUS];
	int cpu[PAUSE_MAX_CPUS];
	atomic_int stop;
	atomic_uint next;        /* slots of ev taken, may pass PAUSE_MAX_EVENTS */
	struct rundir_pause *ev; /* PAUSE_MAX_EVENTS, in the order recorded */
};

/* One probe thread per online CPU (at most PAUSE_MAX_CPUS). Returns 0, or
 * -1 with the reason in err and nothing left running (without the right to
 * SCHED_FIFO, say). */
int pause_start(struct pause_probe *p, char *err, size_t errlen);
/* Stops the threads (at most a period later); the pauses stay readable
 * with pause_events until pause_free. */
void pause_stop(struct pause_probe *p);
/* The pauses recorded, at most PAUSE_MAX_EVENTS; *seen gets how many were
 * seen in all. */
const struct rundir_pause *pause_events(const struct pause_probe *p, size_t *n, size_t *seen);
void pause_free(struct pause_probe *p);

#endif
