/* Shaping backends behind the testbed: each realizes the link model in its
 * own way, in its own file (backend_netem.c, backend_userspace.c,
 * backend_bridge.c) behind one table of operations, as Redis keeps one file
 * per event-loop backend. testbed.c calls the backend_* functions below;
 * nothing else should. */
#ifndef ANYSEE_BACKEND_H
#define ANYSEE_BACKEND_H

#include <stddef.h>

#include "netns/testbed.h"

struct nl_sock;

/* A NULL operation means the backend has nothing to do at that step. */
struct backend_ops {
	/* 1 when usable in this kernel; else 0 with the reason in err. */
	int (*available)(char *err, size_t errlen);
	/* Called in the hub namespace, through hub_sk, before any host exists;
	 * may set *master to the ifindex every hub port is enslaved to. */
	int (*prepare_hub)(struct nl_sock *hub_sk, int *master, char *err, size_t errlen);
	/* Called once every host exists; realizes the current model. On failure
	 * everything it made is released again. */
	int (*start)(struct testbed *tb, void **state, char *err, size_t errlen);
	/* Realize the model again after a change. */
	int (*apply)(struct testbed *tb, void *state, char *err, size_t errlen);
	/* One line of counters: the switch's (switch_stats_format) or the kernel's
	 * (netem_counters_format). */
	void (*stats)(void *state, char *buf, size_t len);
	void (*stop)(void *state);
};

/* The kernel bridge br0 in the hub, for backends whose hub is a plain
 * bridge (bridge, netem): a prepare_hub operation. */
int backend_hub_bridge(struct nl_sock *hub_sk, int *master, char *err, size_t errlen);

extern const struct backend_ops backend_netem_ops;
extern const struct backend_ops backend_userspace_ops;
extern const struct backend_ops backend_bridge_ops;

/* A selected backend and, once started, its state. */
struct backend {
	enum testbed_backend kind;
	const struct backend_ops *ops;
	void *state;
};

/* Select the backend want names (TESTBED_AUTO: netem where the kernel has
 * it, else userspace); -1 with the reason in err when it cannot run here. */
int backend_select(enum testbed_backend want, struct backend *be, char *err, size_t errlen);
int backend_prepare_hub(struct backend *be, struct nl_sock *hub_sk, int *master, char *err,
                        size_t errlen);
int backend_start(struct backend *be, struct testbed *tb, char *err, size_t errlen);
int backend_apply(struct backend *be, struct testbed *tb, char *err, size_t errlen);
/* One line of backend counters (the switch's, or netem's kernel counters), or -1
 * when there are none. */
int backend_stats(const struct backend *be, char *buf, size_t len);
/* Safe on a backend never selected or never started. */
void backend_stop(struct backend *be);

#endif
