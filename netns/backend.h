/* Shaping backends behind the testbed: each realizes the link model in its
 * own way. testbed.c calls these; nothing else should. */
#ifndef ANYSEE_BACKEND_H
#define ANYSEE_BACKEND_H

#include <stddef.h>

#include "netns/testbed.h"

struct backend_state;

/* netem where the kernel has it, else userspace. */
enum testbed_backend backend_auto(void);
/* 1 when usable here; else 0 with the reason in err. */
int backend_available(enum testbed_backend b, char *err, size_t errlen);
/* Called once every host exists; realizes the current model. */
int backend_start(struct testbed *tb, struct backend_state **st, char *err, size_t errlen);
/* Realize the model again after a change. */
int backend_apply(struct testbed *tb, struct backend_state *st, char *err, size_t errlen);
/* One line of backend counters (the switch's), or -1 when there are none. */
int backend_stats(struct testbed *tb, struct backend_state *st, char *buf, size_t len);
void backend_stop(struct testbed *tb, struct backend_state *st);

#endif
