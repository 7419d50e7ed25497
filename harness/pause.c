#include "harness/pause.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

struct arg {
	struct pause_probe *p;
	int cpu;
};

static void record(struct pause_probe *p, int cpu, uint64_t late_us)
{
	unsigned i = atomic_fetch_add(&p->next, 1);
	if (i < PAUSE_MAX_EVENTS)
		p->ev[i] =
		    (struct rundir_pause){.end_us = real_us(), .late_us = late_us, .cpu = cpu};
}

static void *probe(void *v)
{
	struct pause_probe *p = ((struct arg *)v)->p;
	int cpu = ((struct arg *)v)->cpu;
	free(v);
	uint64_t due = mono_us();
	while (!atomic_load_explicit(&p->stop, memory_order_relaxed)) {
		due += PAUSE_PERIOD_US;
		struct timespec ts = {.tv_sec = (time_t)(due / 1000000u),
		                      .tv_nsec = (long)(due % 1000000u) * 1000};
		int rc;
		while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
			;
		/* Never loop without sleeping at this priority: the CPU would be
		 * the probe's alone. */
		if (rc)
			break;
		uint64_t now = mono_us();
		if (now > due && now - due >= PAUSE_MIN_US) {
			record(p, cpu, now - due);
			/* Start over from now: the missed periods are one pause,
			 * not a burst of wakeups that each look late. */
			due = now;
		}
	}
	return NULL;
}

/* A thread pinned to cpu at the highest SCHED_FIFO priority, set in its
 * attributes so that creating it fails when that is not allowed. */
static int start_one(struct pause_probe *p, int cpu)
{
	pthread_attr_t at;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	struct sched_param sp = {.sched_priority = sched_get_priority_max(SCHED_FIFO)};
	struct arg *a = malloc(sizeof(*a));
	if (!a)
		return ENOMEM;
	*a = (struct arg){.p = p, .cpu = cpu};
	int rc = pthread_attr_init(&at);
	if (!rc)
		rc = pthread_attr_setaffinity_np(&at, sizeof(set), &set);
	if (!rc)
		rc = pthread_attr_setinheritsched(&at, PTHREAD_EXPLICIT_SCHED);
	if (!rc)
		rc = pthread_attr_setschedpolicy(&at, SCHED_FIFO);
	if (!rc)
		rc = pthread_attr_setschedparam(&at, &sp);
	if (!rc)
		rc = pthread_create(&p->th[p->n], &at, probe, a);
	pthread_attr_destroy(&at);
	if (rc) {
		free(a);
		return rc;
	}
	p->cpu[p->n++] = cpu;
	return 0;
}

int pause_start(struct pause_probe *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	atomic_init(&p->stop, 0);
	atomic_init(&p->next, 0);
	p->ev = calloc(PAUSE_MAX_EVENTS, sizeof(*p->ev));
	if (!p->ev)
		return err_set(err, errlen, "start the pause probe: out of memory");
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu > PAUSE_MAX_CPUS)
		ncpu = PAUSE_MAX_CPUS;
	for (int cpu = 0; cpu < ncpu; cpu++) {
		int rc = start_one(p, cpu);
		if (rc) {
			pause_stop(p);
			pause_free(p);
			return err_set(err, errlen, "start a SCHED_FIFO pause probe on CPU %d: %s",
			               cpu, strerror(rc));
		}
	}
	return 0;
}

void pause_stop(struct pause_probe *p)
{
	atomic_store(&p->stop, 1);
	for (int i = 0; i < p->n; i++)
		pthread_join(p->th[i], NULL);
	p->n = 0;
}

const struct rundir_pause *pause_events(const struct pause_probe *p, size_t *n, size_t *seen)
{
	unsigned k = atomic_load(&p->next);
	*seen = k;
	*n = k < PAUSE_MAX_EVENTS ? k : PAUSE_MAX_EVENTS;
	return p->ev;
}

void pause_free(struct pause_probe *p)
{
	free(p->ev);
	p->ev = NULL;
}
