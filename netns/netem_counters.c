/* The netem backend's kernel counters: what each qdisc and class of netem.h's layout
 * counted, what its drops mean under the plan that made it, and the one line that
 * carries the sums to the harness. */
#include "netns/netem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/route/class.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include "lib/util.h"

enum cause { CAUSE_NONE, CAUSE_LOSS, CAUSE_UPLOAD, CAUSE_DOWNLOAD, CAUSE_PARTITION };

static int slot_cmp(const void *pa, const void *pb)
{
	const struct netem_group *a = pa, *b = pb;
	return (a->slot > b->slot) - (a->slot < b->slot);
}

/* The group whose class is classid, or NULL. */
static const struct netem_group *group_of_class(const struct netem_plan *p, uint32_t classid)
{
	uint32_t minor = classid & 0xffffu;
	if ((classid & 0xffff0000u) != NETEM_UP_INNER || minor < NETEM_GROUP_MINOR)
		return NULL;
	struct netem_group key = {.slot = minor - NETEM_GROUP_MINOR};
	return bsearch(&key, p->group, p->ngroups, sizeof(*p->group), slot_cmp);
}

/* The leaves that hold packets: each group's netem qdisc and the default class (whose
 * pfifo the kernel creates unlisted, so its class speaks for it) on eth0, the bfifo on
 * the hub end. */
static enum cause leaf_cause(const struct netem_plan *p, const struct netem_tc_count *c)
{
	if (c->side == NETEM_ON_HUB)
		return !c->is_class && c->parent == NETEM_DOWN_LINK ? CAUSE_DOWNLOAD : CAUSE_NONE;
	if (c->is_class)
		return c->handle == NETEM_UP_DEFAULT ? CAUSE_UPLOAD : CAUSE_NONE;
	const struct netem_group *g = group_of_class(p, c->parent);
	if (!g)
		return CAUSE_NONE;
	if (g->blocked)
		return CAUSE_PARTITION;
	return g->loss ? CAUSE_LOSS : CAUSE_UPLOAD;
}

void netem_counters_add(const struct netem_plan *p, const struct netem_tc_count *c,
                        struct netem_counters *sum)
{
	if (c->is_class)
		sum->overlimits += c->overlimits;
	enum cause why = leaf_cause(p, c);
	if (why == CAUSE_NONE)
		return;
	sum->qlen += c->qlen;
	sum->backlog += c->backlog;
	if (why != CAUSE_DOWNLOAD) {
		sum->packets += c->packets;
		sum->bytes += c->bytes;
	}
	if (why == CAUSE_LOSS)
		sum->loss_packets += c->packets;
	uint64_t *drops[] = {
	    [CAUSE_LOSS] = &sum->drop_loss,
	    [CAUSE_UPLOAD] = &sum->drop_upload,
	    [CAUSE_DOWNLOAD] = &sum->drop_download,
	    [CAUSE_PARTITION] = &sum->drop_partition,
	};
	*drops[why] += c->drops;
}

/* The one definition of the line's keys, for writing and reading it. */
static const struct {
	const char *key;
	size_t off;
} counter_keys[] = {
#define KEY(f) #f, offsetof(struct netem_counters, f)
    {KEY(packets)},     {KEY(bytes)},         {KEY(loss_packets)},   {KEY(drop_loss)},
    {KEY(drop_upload)}, {KEY(drop_download)}, {KEY(drop_partition)}, {KEY(overlimits)},
    {KEY(qlen)},        {KEY(backlog)},
#undef KEY
};

void netem_counters_format(const struct netem_counters *c, char *buf, size_t len)
{
	size_t used = 0;
	if (len)
		*buf = 0;
	for (size_t k = 0; k < ARRAY_LEN(counter_keys) && used < len; k++) {
		const uint64_t *v = (const uint64_t *)((const char *)c + counter_keys[k].off);
		int n = snprintf(buf + used, len - used, "%s%s=%llu", k ? " " : "",
		                 counter_keys[k].key, (unsigned long long)*v);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

int netem_counters_parse(const char *line, struct netem_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t k = 0; k < ARRAY_LEN(counter_keys); k++) {
		char want[32];
		snprintf(want, sizeof(want), " %s=", counter_keys[k].key);
		size_t kl = strlen(want);
		/* The key at the start of the line or after a space. */
		const char *p = strstr(line, want);
		if (!strncmp(line, want + 1, kl - 1))
			p = line + kl - 1;
		else if (p)
			p += kl;
		else
			return -1;
		char *end;
		errno = 0;
		unsigned long long v = strtoull(p, &end, 10);
		if (errno || end == p || (*end && *end != ' ' && *end != '\n'))
			return -1;
		*(uint64_t *)((char *)out + counter_keys[k].off) = v;
	}
	return 0;
}

/* ---- reading the kernel ------------------------------------------------- */

struct gather {
	enum netem_side side;
	int ifindex;
	int is_class;
	struct netem_tc_count *v;
	size_t n, cap;
	int oom;
};

static void gather_one(struct nl_object *obj, void *arg)
{
	struct gather *g = arg;
	struct rtnl_tc *tc = (struct rtnl_tc *)obj;
	if (rtnl_tc_get_ifindex(tc) != g->ifindex || g->oom)
		return;
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;
		struct netem_tc_count *v = realloc(g->v, cap * sizeof(*v));
		if (!v) {
			g->oom = 1;
			return;
		}
		g->v = v;
		g->cap = cap;
	}
	g->v[g->n++] = (struct netem_tc_count){
	    .side = g->side,
	    .is_class = g->is_class,
	    .parent = rtnl_tc_get_parent(tc),
	    .handle = rtnl_tc_get_handle(tc),
	    .packets = rtnl_tc_get_stat(tc, RTNL_TC_PACKETS),
	    .bytes = rtnl_tc_get_stat(tc, RTNL_TC_BYTES),
	    .drops = rtnl_tc_get_stat(tc, RTNL_TC_DROPS),
	    .overlimits = rtnl_tc_get_stat(tc, RTNL_TC_OVERLIMITS),
	    .qlen = rtnl_tc_get_stat(tc, RTNL_TC_QLEN),
	    .backlog = rtnl_tc_get_stat(tc, RTNL_TC_BACKLOG),
	};
}

int netem_tc_read(struct nl_sock *sk, enum netem_side side, int ifindex, struct nl_cache *qdiscs,
                  struct netem_tc_count **out, size_t *n, char *err, size_t errlen)
{
	struct gather g = {.side = side, .ifindex = ifindex};
	struct nl_cache *own = NULL, *classes = NULL;
	const char *what = "qdiscs";
	int e = qdiscs ? 0 : rtnl_qdisc_alloc_cache(sk, &own);
	if (e >= 0) {
		nl_cache_foreach(qdiscs ? qdiscs : own, gather_one, &g);
		what = "classes";
		e = rtnl_class_alloc_cache(sk, ifindex, &classes);
	}
	if (e >= 0) {
		g.is_class = 1;
		nl_cache_foreach(classes, gather_one, &g);
	}
	nl_cache_free(own);
	nl_cache_free(classes);
	if (e < 0 || g.oom) {
		free(g.v);
		return err_set(err, errlen, "read the %s of interface %d: %s", what, ifindex,
		               e < 0 ? nl_geterror(e) : strerror(ENOMEM));
	}
	*out = g.v;
	*n = g.n;
	return 0;
}
