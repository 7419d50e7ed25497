/* The netem backend: kernel HTB and netem qdiscs on both ends of every
 * host's veth (netns/netem.h has the layout), configured over one netlink
 * socket per host namespace and one in the hub. The hub ends are joined by
 * a kernel bridge, as in the bridge backend: the shaping is all on the
 * veths, so the hub only has to forward. */
#include "netns/backend.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/qdisc.h>

#include "lib/util.h"
#include "netns/netem.h"

struct netem_backend {
	struct nl_sock *hub_sk;
	struct nl_sock **host_sk;
	struct netem_host **hosts;
	uint32_t n;
};

/* The probe creates a namespace: do it once per process. */
static int netem_available(char *err, size_t errlen)
{
	static int known = -2;
	static char why[256];
	if (known == -2)
		known = netem_kernel_probe(why, sizeof(why));
	if (known == 1)
		return 1;
	err_set(err, errlen, "the netem backend needs sch_netem: %s", why);
	return 0;
}

/* A netlink socket bound in namespace ns (sockets keep the namespace they
 * were created in). */
static struct nl_sock *nl_in_ns(const char *ns, int back_fd, char *err, size_t errlen)
{
	if (testbed_enter_ns(ns, err, errlen))
		return NULL;
	struct nl_sock *sk = nl_socket_alloc();
	int rc = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
	if (rc < 0) {
		err_set(err, errlen, "netlink socket in %s: %s", ns, nl_geterror(rc));
		nl_socket_free(sk);
		sk = NULL;
	}
	if (setns(back_fd, CLONE_NEWNET) && sk) {
		err_set(err, errlen, "return from %s: %s", ns, strerror(errno));
		nl_socket_free(sk);
		sk = NULL;
	}
	return sk;
}

/* Host i's shaping, with its hub end's ifindex looked up from inside the
 * hub; returns to the namespace self. */
static int netem_host_open(struct testbed *tb, struct netem_backend *st, uint32_t i, int self,
                           char *err, size_t errlen)
{
	if (!(st->host_sk[i] = nl_in_ns(testbed_host_ns(tb, i), self, err, errlen)))
		return -1;
	char ifn[IFNAMSIZ];
	snprintf(ifn, sizeof(ifn), "p%u", i);
	if (testbed_enter_ns(testbed_hub_ns(tb), err, errlen))
		return -1;
	int hub_ifindex = (int)if_nametoindex(ifn);
	if (setns(self, CLONE_NEWNET) || hub_ifindex <= 0)
		return err_set(err, errlen, "look up %s in the hub: %s", ifn, strerror(errno));
	st->hosts[i] = netem_host_new(i, st->host_sk[i], TESTBED_HOST_IFINDEX, st->hub_sk,
	                              hub_ifindex, err, errlen);
	return st->hosts[i] ? 0 : -1;
}

static void netem_stop(void *state)
{
	struct netem_backend *st = state;
	for (uint32_t i = 0; i < st->n; i++) {
		if (st->hosts)
			netem_host_free(st->hosts[i]);
		if (st->host_sk)
			nl_socket_free(st->host_sk[i]);
	}
	free(st->hosts);
	free(st->host_sk);
	nl_socket_free(st->hub_sk);
	free(st);
}

static int netem_start(struct testbed *tb, void **state, char *err, size_t errlen)
{
	struct netem_backend *st = calloc(1, sizeof(*st));
	if (!st)
		return err_set(err, errlen, "allocate backend state: out of memory");
	uint32_t n = testbed_nhosts(tb);
	st->n = n;
	st->host_sk = calloc(n, sizeof(*st->host_sk));
	st->hosts = calloc(n, sizeof(*st->hosts));
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int rc = -1;
	if (!st->host_sk || !st->hosts || self < 0) {
		err_set(err, errlen, "netem backend set-up: %s", strerror(errno ? errno : ENOMEM));
		goto out;
	}
	if (!(st->hub_sk = nl_in_ns(testbed_hub_ns(tb), self, err, errlen)))
		goto out;
	for (uint32_t i = 0; i < n; i++)
		if (netem_host_open(tb, st, i, self, err, errlen))
			goto out;
	rc = 0;
out:
	if (self >= 0)
		close(self);
	if (rc)
		netem_stop(st);
	else
		*state = st;
	return rc;
}

static int netem_apply(struct testbed *tb, void *state, char *err, size_t errlen)
{
	struct netem_backend *st = state;
	for (uint32_t i = 0; i < st->n; i++)
		if (netem_host_apply(st->hosts[i], testbed_model(tb), err, errlen))
			return -1;
	return 0;
}

/* The kernel's counters of every host's shaping, summed (netns/netem.h says what each
 * drop count can and cannot tell apart). Costs a netlink dump per namespace, so the
 * harness reads it at the end of a run, not every second. */
static void netem_stats(void *state, char *buf, size_t len)
{
	struct netem_backend *st = state;
	struct netem_counters sum = {0};
	struct nl_cache *hub_qdiscs = NULL;
	char err[512];
	int e = rtnl_qdisc_alloc_cache(st->hub_sk, &hub_qdiscs);
	if (e < 0)
		err_set(err, sizeof(err), "read the hub's qdiscs: %s", nl_geterror(e));
	for (uint32_t i = 0; e >= 0 && i < st->n; i++)
		if (netem_host_counters(st->hosts[i], hub_qdiscs, &sum, err, sizeof(err)))
			e = -1;
	nl_cache_free(hub_qdiscs);
	if (e < 0)
		snprintf(buf, len, "kernel counters unreadable: %s", err);
	else
		netem_counters_format(&sum, buf, len);
}

const struct backend_ops backend_netem_ops = {
    .available = netem_available,
    .prepare_hub = backend_hub_bridge,
    .start = netem_start,
    .apply = netem_apply,
    .stats = netem_stats,
    .stop = netem_stop,
};
