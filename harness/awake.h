/* Keeping the CPUs awake during a run.
 *
 * On a virtual machine whose idle CPUs halt, the hypervisor can take
 * milliseconds to wake one: a switch sleeping until a frame's release time
 * then releases it milliseconds late (measured here: release lateness p99
 * 1 to 3 ms on an idle machine, 0.05 ms on a busy one). So during a run one
 * thread a CPU spins at SCHED_IDLE: it runs only when nothing else wants
 * that CPU, gives way at once to any other thread, and keeps the CPU from
 * halting. Its CPU time is idle time for the emulation's judgement
 * (cpuidle.h), since anything else could have had it. */
#ifndef ANYSEE_AWAKE_H
#define ANYSEE_AWAKE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define AWAKE_MAX_CPUS 64

struct awake {
	int n;
	pthread_t th[AWAKE_MAX_CPUS];
	atomic_int stop;
};

/* One spinner per online CPU (at most AWAKE_MAX_CPUS). Returns 0, or -1
 * with the reason in err (nothing left running). */
int awake_start(struct awake *a, char *err, size_t errlen);
/* CPU seconds the spinners used so far. */
double awake_cpu_s(const struct awake *a);
void awake_stop(struct awake *a);

#endif
