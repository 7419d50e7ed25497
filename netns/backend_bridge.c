/* The bridge backend: a kernel bridge in the hub joins the hosts without
 * any shaping, as a reference to measure the other backends against. The
 * netem backend joins its hosts with the same bridge and shapes on the
 * veth ends instead. */
#include "netns/backend.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>

#include "lib/util.h"

/* The bridge exists before the hosts, so that each hub port is created
 * enslaved to it. It lives in the hub namespace and goes with it: every
 * path that removes the hub (teardown, a failed start, `clean`) removes
 * the bridge. */
int backend_hub_bridge(struct nl_sock *sk, int *ifindex, char *err, size_t errlen)
{
	struct rtnl_link *br = rtnl_link_bridge_alloc();
	if (!br)
		return err_set(err, errlen, "allocate bridge: out of memory");
	rtnl_link_set_name(br, "br0");
	rtnl_link_set_flags(br, IFF_UP);
	int rc = rtnl_link_add(sk, br, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(br);
	if (rc < 0)
		return err_set(err, errlen, "create bridge br0 in hub: %s", nl_geterror(rc));
	*ifindex = (int)if_nametoindex("br0");
	if (*ifindex <= 0)
		return err_set(err, errlen, "look up bridge br0 in hub: %s", strerror(errno));
	return 0;
}

const struct backend_ops backend_bridge_ops = {
    .prepare_hub = backend_hub_bridge,
};
