#include "netns/backend.h"

#include <stdio.h>

int backend_available(enum testbed_backend b, char *err, size_t errlen)
{
	switch (b) {
	case TESTBED_BRIDGE:
		return 1;
	default:
		snprintf(err, errlen, "the %s backend is not available in this build",
		         testbed_backend_name(b));
		return 0;
	}
}

enum testbed_backend backend_auto(void)
{
	return TESTBED_BRIDGE;
}

int backend_start(struct testbed *tb, struct backend_state **st, char *err, size_t errlen)
{
	*st = NULL;
	return 0;
}

int backend_apply(struct testbed *tb, struct backend_state *st, char *err, size_t errlen)
{
	return 0;
}

void backend_stop(struct testbed *tb, struct backend_state *st) {}
