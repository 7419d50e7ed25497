/* Keeping the CPUs awake during a run.
 *
 * On a virtual machine whose idle CPUs halt, the hypervisor can take
 * milliseconds to wake one: a switch sleeping until a frame's release time
 * then releases it milliseconds late (measured here: release lateness p99
 * 1 to 3 ms on an idle machine, 0.05 ms on a busy one). So during a run one
 * thread a CPU spins at SCHED_IDLE: it runs only when nothing else wants
 * that CPU, gives way at once to any other thread, and keeps the CPU from
 * halting. Its CPU time is idle time for the emulation's judgement
 * (cpuidle.h), since anything else could have had it.
 *
 * Only while the machine is nearly idle, though. A guest whose CPUs all
 * look busy to its host is paused by it now and then, the whole guest for
 * up to 100 ms (harness/pause.h saw both CPUs stop at the same instant),
 * and busy CPUs do not halt long anyway. So the runner holds the spinners
 * whenever the last second was AWAKE_BUSY_MAX busy or more
 * (awake_wanted): an assumption between two measured loads, which the
 * README gives with the runs behind them. */
#ifndef ANYSEE_AWAKE_H
#define ANYSEE_AWAKE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define AWAKE_MAX_CPUS 64

#define AWAKE_BUSY_MAX 0.10

struct awake {
	int n;
	pthread_t th[AWAKE_MAX_CPUS];
	atomic_int stop;
	atomic_int hold; /* the spinners sleep instead */
};

/* One spinner per online CPU (at most AWAKE_MAX_CPUS). Returns 0, or -1
 * with the reason in err (nothing left running). */
int awake_start(struct awake *a, char *err, size_t errlen);
/* Whether the spinners should run after a second whose CPU was busy_share
 * busy without them (0 to 1). */
int awake_wanted(double busy_share);
/* Holds the spinners (they sleep, waking every AWAKE_HOLD_NS to look) or
 * lets them spin again. */
#define AWAKE_HOLD_NS 20000000L
void awake_hold(struct awake *a, int hold);
/* CPU seconds the spinners used so far. */
double awake_cpu_s(const struct awake *a);
void awake_stop(struct awake *a);

#endif
