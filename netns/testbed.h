/* The emulated network: one network namespace per host, each with a veth to
 * a hub namespace, built through libnl, shaped by one of the backends.
 *
 * Names: every namespace is "<prefix>-<host>" under the netns run directory
 * (so `ip netns exec` works), the hub is "<prefix>-hub". prefix always starts
 * with TESTBED_PREFIX, which is how testbed_clean() finds leftovers.
 * Host i's addresses follow lib/addr.h; its interface is "eth0", the hub
 * end is "p<i>" inside the hub.
 */
#ifndef ANYSEE_TESTBED_H
#define ANYSEE_TESTBED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "netns/linkmodel.h"

#define TESTBED_PREFIX "anysee-"
#define TESTBED_MAX_HOSTS 65000u
/* Every host's eth0: the first interface after lo in a fresh namespace. */
#define TESTBED_HOST_IFINDEX 2

enum testbed_backend {
	TESTBED_AUTO = 0,  /* netem if the kernel has it, else userspace */
	TESTBED_NETEM,     /* kernel HTB + netem per destination group */
	TESTBED_USERSPACE, /* shaping switch process in the hub */
	TESTBED_BRIDGE,    /* kernel bridge, no shaping (reference/baseline) */
};

struct testbed_config {
	const char *prefix; /* e.g. "anysee-1a2b"; must start with TESTBED_PREFIX */
	uint32_t nhosts;
	const char *const *names; /* nhosts short names (ASCII, [a-z0-9-]) */
	enum testbed_backend backend;
	const char *log_path; /* the userspace switch's stderr; NULL = inherit */
};

struct testbed;

/* Build the hub and all hosts. On failure everything made so far is
 * removed and err holds one line naming the host, object and cause. */
int testbed_create(const struct testbed_config *cfg, struct testbed **out, char *err,
                   size_t errlen);

/* Tear everything down (stops the switch, deletes namespaces). Safe on NULL. */
void testbed_destroy(struct testbed *tb);

/* The model the backend realizes. Change fields, then testbed_apply(). */
struct linkmodel *testbed_model(struct testbed *tb);
int testbed_apply(struct testbed *tb, char *err, size_t errlen);

enum testbed_backend testbed_backend(const struct testbed *tb);
/* The backend's counters on one line (the userspace switch's, netem's kernel
 * counters), or -1. */
int testbed_stats(struct testbed *tb, char *buf, size_t len);
const char *testbed_backend_name(enum testbed_backend b);
int testbed_backend_parse(const char *s, enum testbed_backend *out);

uint32_t testbed_nhosts(const struct testbed *tb);
const char *testbed_host_ns(const struct testbed *tb, uint32_t i); /* namespace name */
const char *testbed_hub_ns(const struct testbed *tb);
const char *testbed_log_path(const struct testbed *tb); /* NULL when not set */

/* Enter a namespace by name (this thread). */
int testbed_enter_ns(const char *ns_name, char *err, size_t errlen);
/* A close-on-exec descriptor of a namespace, for setns(fd, CLONE_NEWNET) in a
 * forked child, where only async-signal-safe calls are allowed. */
int testbed_ns_open(const char *ns_name, char *err, size_t errlen);

/* Remove leftovers of crashed runs: kill processes inside any namespace whose
 * name starts with prefix (TESTBED_PREFIX when NULL), then delete those
 * namespaces. A namespace whose harness (the pid in its name) is still
 * running is counted in *kept and left alone unless force. Returns how many
 * namespaces were removed, or -1. */
int testbed_clean(const char *prefix, int force, int *kept, char *err, size_t errlen);

#endif
