#include "harness/awake.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

static void *spin(void *arg)
{
	struct awake *a = arg;
	/* glibc's thread attributes take no SCHED_IDLE: set it from inside
	 * (pid 0 is the calling thread). Should it fail, stop rather than spin
	 * at normal priority. */
	struct sched_param sp = {0};
	if (sched_setscheduler(0, SCHED_IDLE, &sp))
		return NULL;
	while (!atomic_load_explicit(&a->stop, memory_order_relaxed)) {
		if (atomic_load_explicit(&a->hold, memory_order_relaxed)) {
			struct timespec ts = {.tv_nsec = AWAKE_HOLD_NS};
			nanosleep(&ts, NULL);
			continue;
		}
		__asm__ __volatile__("" ::: "memory");
	}
	return NULL;
}

int awake_wanted(double busy_share)
{
	return busy_share < AWAKE_BUSY_MAX;
}

void awake_hold(struct awake *a, int hold)
{
	atomic_store(&a->hold, hold);
}

/* A thread pinned to cpu (it makes itself SCHED_IDLE). */
static int start_one(struct awake *a, int cpu)
{
	pthread_attr_t at;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	int rc = pthread_attr_init(&at);
	if (!rc)
		rc = pthread_attr_setaffinity_np(&at, sizeof(set), &set);
	if (!rc)
		rc = pthread_create(&a->th[a->n], &at, spin, a);
	pthread_attr_destroy(&at);
	if (!rc)
		a->n++;
	return rc;
}

int awake_start(struct awake *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	atomic_init(&a->stop, 0);
	atomic_init(&a->hold, 0);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu > AWAKE_MAX_CPUS)
		ncpu = AWAKE_MAX_CPUS;
	for (int cpu = 0; cpu < ncpu; cpu++) {
		int rc = start_one(a, cpu);
		if (rc) {
			awake_stop(a);
			return err_set(err, errlen, "start a SCHED_IDLE thread on CPU %d: %s", cpu,
			               strerror(rc));
		}
	}
	return 0;
}

double awake_cpu_s(const struct awake *a)
{
	double s = 0;
	for (int i = 0; i < a->n; i++) {
		clockid_t clk;
		struct timespec ts;
		if (!pthread_getcpuclockid(a->th[i], &clk) && !clock_gettime(clk, &ts))
			s += (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	}
	return s;
}

void awake_stop(struct awake *a)
{
	atomic_store(&a->stop, 1);
	for (int i = 0; i < a->n; i++)
		pthread_join(a->th[i], NULL);
	a->n = 0;
}
