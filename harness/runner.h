/* Runner: turns a loaded scenario into a live testbed, starts the peer
 * binary in each host's namespace, fires the schedule in real time,
 * supervises the processes and always tears everything down. */
#ifndef ANYSEE_RUNNER_H
#define ANYSEE_RUNNER_H

#include "harness/scenario.h"

struct run_options {
	const char *out_dir;  /* NULL: runs/<scenario>-<time> */
	const char *peer_bin; /* the anysee binary to run in the hosts */
	int backend_forced;   /* --backend given: overrides network{backend} */
	enum testbed_backend backend;
	int quiet;
	int dry_run;       /* resolve topology and schedule into the run directory, start nothing */
	int let_cpus_idle; /* no SCHED_IDLE spinners keeping the CPUs awake (awake.h) */
	char *const *sets; /* the --set values, recorded in the run directory */
	int nsets;
};

/* Returns 0 when the run completed (or was interrupted cleanly: *interrupted
 * is set), -1 on a harness error (err says what). rundir receives the path
 * of the run directory. */
int runner_run(struct scenario *s, const struct run_options *o, char *rundir, size_t rundirlen,
               int *interrupted, char *err, size_t errlen);

#endif
