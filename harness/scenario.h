/* Scenario: a Lua script that declares the network, the hosts and their
 * roles, and the schedule. Loading runs the script top to bottom under a
 * traceback handler; every declaration is checked as it is made, so a bad
 * script fails with file:line before any host exists. Callbacks given to
 * at()/every() stay in the Lua state and run later, from the runner. */
#ifndef ANYSEE_SCENARIO_H
#define ANYSEE_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "netns/linkmodel.h"
#include "netns/testbed.h"

struct lua_State;

enum host_role { HOST_RP, HOST_SOURCE, HOST_PEER, HOST_MONITOR, HOST_ATTACKER };

struct host_decl {
	char name[32];
	enum host_role role;
	char stream[16]; /* source: stream served; peer: stream watched */
	char rate[32];
	char mode[16];
	char ingest[512];
	char buffer[32];
	char startup[32];
	char kind[16]; /* attacker: the attack (peer/attack.h) */
	int target;    /* attacker: the victim host */
	long pps;      /* attacker: crafted datagrams a second */
	char **args;   /* extra "--name", "value" pairs passed to the peer */
	int nargs;
	double start_s; /* < 0: started only by a callback */
	double leave_s; /* < 0: stays until the end */
	double crash_s; /* < 0: never killed */
	struct link_access access;
	char where[160]; /* file:line of the declaration */
};

enum topo_kind { TOPO_STAR, TOPO_GEN_WAXMAN, TOPO_GEN_BA, TOPO_FILE_GML, TOPO_FILE_MATRIX };

/* The physical network the delay matrix comes from. TOPO_STAR: no core,
 * a host-to-host delay is the two access delays. */
struct topo_spec {
	enum topo_kind kind;
	uint32_t routers;
	double degree;
	double alpha, beta;
	char file[1024];
	int stub; /* attach hosts to low-degree routers only */
	char where[160];
};

enum event_kind { EV_START, EV_LEAVE, EV_CRASH, EV_CALL, EV_EVERY };

struct sched_event {
	double t;
	enum event_kind kind;
	int host;       /* EV_START/LEAVE/CRASH */
	int ref;        /* EV_CALL/EV_EVERY: Lua registry reference */
	double period;  /* EV_EVERY */
	uint64_t order; /* declaration order: ties fire in it */
};

/* A link change from set_link{}: the new access link, and the new access
 * delay (added to every path of the host) unless delay_us < 0. */
struct link_change {
	struct link_access access;
	int64_t delay_us;
};

struct param {
	char name[64];
	char value[256];
	int used;
};

struct scenario {
	char path[1024];
	char name[64]; /* file name without directory and .lua */
	struct lua_State *L;
	uint64_t seed;
	double duration;
	int capture;
	int snaplen;
	uint64_t capture_max; /* bytes; 0 = no cap */
	enum testbed_backend backend;
	struct topo_spec topo;
	struct link_access access; /* default access link of every host */
	uint32_t access_delay_us;  /* declared one-way delay of each access link */
	struct host_decl *h;
	int nh;
	/* The declared schedule, sorted by time then declaration order. The
	 * runner fires it from a queue of its own; it is not changed after
	 * loading. */
	struct sched_event *sched;
	int nsched;
	uint64_t next_order;
	struct param *params;
	int nparams;
	int ran; /* run{} was called */
	int unsafe_lua;
	uint64_t insns; /* Lua instructions since load or the callback began */
	struct rng rng; /* the scenario's distributions */
};

/* What callbacks act on: live hosts, links and partitions. Given to
 * scenario_call() for the duration of one callback; outside a call, host
 * methods, set_link, partition and heal fail with file:line. */
struct scenario_hooks {
	void *ctx;
	int (*host)(void *ctx, int host, enum event_kind kind, char *err, size_t errlen);
	int (*link)(void *ctx, int host, const struct link_change *c, char *err, size_t errlen);
	int (*partition)(void *ctx, const uint32_t *label, char *err, size_t errlen);
	/* The running host whose push the host's active path receives (its
	 * log's last path_up not cut since), or -1. */
	int (*push_parent)(void *ctx, int host);
};

/* How a scenario is loaded. */
struct scenario_args {
	uint64_t seed;
	char *const *sets; /* "name=value" strings from --set */
	int nsets;
	/* A scenario is code run as root: by default it gets Lua's base (without
	 * dofile, loadfile and load), string, table and math libraries, the
	 * testbed's API and read_file() for files beside it. unsafe_lua opens
	 * every library (io, os, package, debug). */
	int unsafe_lua;
};

/* Longest a script may run without returning to the harness, at load and in
 * each callback, in Lua VM instructions: an endless loop fails the run with
 * file:line instead of hanging it. A declaration made through the API costs
 * a handful, so even a 4096-host churn stays far below. */
#define SCENARIO_INSN_LIMIT 100000000ull

int scenario_load(struct scenario *s, const char *path, const struct scenario_args *a, char *err,
                  size_t errlen);
void scenario_free(struct scenario *s);
/* Call a stored Lua callback (EV_CALL/EV_EVERY) with hooks to act on the
 * run. Errors carry file:line. */
int scenario_call(struct scenario *s, int ref, const struct scenario_hooks *hooks, char *err,
                  size_t errlen);
const char *scenario_role_name(enum host_role r);
/* file as the scenario means it: an absolute path as is, a relative one
 * beside the scenario. -1 when it does not fit in len. */
int scenario_resolve(const struct scenario *s, const char *file, char *out, size_t len);
/* Write the resolved schedule, one event per line, in firing order. */
int scenario_write_schedule(const struct scenario *s, const char *path);

#endif
