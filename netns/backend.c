#include "netns/backend.h"

#include "lib/util.h"

static const struct backend_ops *const backends[] = {
    [TESTBED_NETEM] = &backend_netem_ops,
    [TESTBED_USERSPACE] = &backend_userspace_ops,
    [TESTBED_BRIDGE] = &backend_bridge_ops,
};

int backend_select(enum testbed_backend want, struct backend *be, char *err, size_t errlen)
{
	char why[256];
	*be = (struct backend){0};
	if (want == TESTBED_AUTO)
		want = backend_netem_ops.available(why, sizeof(why)) == 1 ? TESTBED_NETEM
		                                                          : TESTBED_USERSPACE;
	const struct backend_ops *ops =
	    (unsigned)want < ARRAY_LEN(backends) ? backends[want] : NULL;
	if (!ops)
		return err_set(err, errlen, "backend %d is not a concrete backend", (int)want);
	if (ops->available && ops->available(err, errlen) != 1)
		return -1;
	*be = (struct backend){want, ops, NULL};
	return 0;
}

int backend_prepare_hub(struct backend *be, struct nl_sock *hub_sk, int *master, char *err,
                        size_t errlen)
{
	*master = 0;
	return be->ops->prepare_hub ? be->ops->prepare_hub(hub_sk, master, err, errlen) : 0;
}

int backend_start(struct backend *be, struct testbed *tb, char *err, size_t errlen)
{
	return be->ops->start ? be->ops->start(tb, &be->state, err, errlen) : 0;
}

int backend_apply(struct backend *be, struct testbed *tb, char *err, size_t errlen)
{
	return be->state && be->ops->apply ? be->ops->apply(tb, be->state, err, errlen) : 0;
}

int backend_stats(const struct backend *be, char *buf, size_t len)
{
	if (!be->state || !be->ops->stats)
		return -1;
	be->ops->stats(be->state, buf, len);
	return 0;
}

void backend_stop(struct backend *be)
{
	if (be->state && be->ops->stop)
		be->ops->stop(be->state);
	be->state = NULL;
}
