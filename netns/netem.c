#include "netns/netem.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/class.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/fifo.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/tc.h>
#include <netlink/socket.h>

#include "lib/addr.h"
#include "lib/util.h"
#include "netns/testbed.h"

/* ---- conversions -------------------------------------------------------- */

uint32_t netem_loss_u32(double p)
{
	if (!(p > 0.0))
		return 0;
	if (p >= 1.0)
		return UINT32_MAX;
	/* p < 1 keeps the product at most UINT32_MAX - 0.5 before rounding. */
	return (uint32_t)(p * (double)UINT32_MAX + 0.5);
}

uint32_t netem_jitter_us(uint32_t sd_us)
{
	double half = round(sd_us * sqrt(3.0));
	return half >= NETEM_MAX_DELAY_US ? NETEM_MAX_DELAY_US : (uint32_t)half;
}

uint64_t netem_rate(uint64_t bps)
{
	if (!bps)
		bps = NETEM_UNLIMITED_BPS;
	if (bps < NETEM_MIN_RATE_BPS)
		bps = NETEM_MIN_RATE_BPS;
	if (bps > NETEM_MAX_RATE_BPS)
		bps = NETEM_MAX_RATE_BPS;
	return (bps + 4) / 8;
}

uint32_t netem_burst(uint64_t rate)
{
	return NETEM_MTU + (uint32_t)(rate / 1000);
}

uint32_t netem_limit_pkts(uint64_t rate, uint32_t max_delay_us, uint32_t queue_bytes)
{
	double queued = ceil((double)queue_bytes / NETEM_MTU);
	double inflight = ceil((double)rate * max_delay_us / 1e6 / NETEM_MTU);
	double total = queued + inflight;
	if (total < 1)
		return 1;
	return total >= NETEM_MAX_LIMIT ? NETEM_MAX_LIMIT : (uint32_t)total;
}

/* ---- planning ----------------------------------------------------------- */

struct gkey {
	int blocked;
	uint32_t delay_us, jitter_us, loss;
};

struct dkey {
	struct gkey k;
	uint32_t dst;
};

static int gkey_cmp(const struct gkey *a, const struct gkey *b)
{
	if (a->blocked != b->blocked)
		return a->blocked < b->blocked ? -1 : 1;
	if (a->delay_us != b->delay_us)
		return a->delay_us < b->delay_us ? -1 : 1;
	if (a->jitter_us != b->jitter_us)
		return a->jitter_us < b->jitter_us ? -1 : 1;
	if (a->loss != b->loss)
		return a->loss < b->loss ? -1 : 1;
	return 0;
}

static int dkey_cmp(const void *pa, const void *pb)
{
	const struct dkey *a = pa, *b = pb;
	int c = gkey_cmp(&a->k, &b->k);
	if (c)
		return c;
	return a->dst < b->dst ? -1 : a->dst > b->dst;
}

static struct gkey group_key(const struct netem_group *g)
{
	return (struct gkey){g->blocked, g->delay_us, g->jitter_us, g->loss};
}

static int group_key_cmp(const void *pa, const void *pb)
{
	const struct netem_group *const *a = pa, *const *b = pb;
	struct gkey ka = group_key(*a), kb = group_key(*b);
	return gkey_cmp(&ka, &kb);
}

static int group_slot_cmp(const void *pa, const void *pb)
{
	const struct netem_group *a = pa, *b = pb;
	return a->slot < b->slot ? -1 : a->slot > b->slot;
}

static struct gkey path_key(const struct linkmodel *m, uint32_t a, uint32_t b)
{
	struct link_path p;
	linkmodel_path(m, a, b, &p);
	if (p.blocked)
		return (struct gkey){1, 0, 0, UINT32_MAX};
	return (struct gkey){
	    0,
	    p.delay_us > NETEM_MAX_DELAY_US ? NETEM_MAX_DELAY_US : p.delay_us,
	    netem_jitter_us(p.jitter_us),
	    netem_loss_u32(p.loss),
	};
}

/* Bucket by the last address byte (what the link node hashes), node by the third, so
 * the handle is a pure function of the destination and survives every update. */
static uint32_t filter_handle(uint32_t ip)
{
	return NETEM_HT_ID << 20 | (ip & 0xffu) << 12 | (((ip >> 8) & 0xffu) + 1);
}

/* Give each distinct key (sorted) a slot: its old one when prev had the key, otherwise
 * the lowest slot nobody holds, so vanished groups' classes are recycled first. */
static int assign_slots(const struct gkey *keys, uint32_t nkeys, const struct netem_plan *prev,
                        uint32_t *slot)
{
	uint32_t nprev = prev ? prev->ngroups : 0, maxslot = nkeys;
	for (uint32_t i = 0; i < nprev; i++)
		if (prev->group[i].slot + 1 > maxslot)
			maxslot = prev->group[i].slot + 1;
	unsigned char *taken = calloc(maxslot + 1, 1);
	const struct netem_group **byk = calloc(nprev ? nprev : 1, sizeof(*byk));
	if (!taken || !byk) {
		free(taken);
		free(byk);
		return -1;
	}
	for (uint32_t i = 0; i < nprev; i++)
		byk[i] = &prev->group[i];
	qsort(byk, nprev, sizeof(*byk), group_key_cmp);

	for (uint32_t i = 0; i < nkeys; i++) {
		slot[i] = UINT32_MAX;
		uint32_t lo = 0, hi = nprev;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			struct gkey km = group_key(byk[mid]);
			int c = gkey_cmp(&keys[i], &km);
			if (!c) {
				slot[i] = byk[mid]->slot;
				taken[slot[i]] = 1;
				break;
			}
			if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
	}
	uint32_t next = 0;
	for (uint32_t i = 0; i < nkeys; i++) {
		if (slot[i] != UINT32_MAX)
			continue;
		while (taken[next])
			next++;
		slot[i] = next;
		taken[next] = 1;
	}
	free(taken);
	free(byk);
	return 0;
}

static int plan_check(const struct linkmodel *m, uint32_t host, const struct netem_plan *prev,
                      char *err, size_t errlen)
{
	if (m->n > TESTBED_MAX_HOSTS)
		return err_set(err, errlen, "host %u: netem plan: model has %u hosts, at most %u",
		               host, m->n, TESTBED_MAX_HOSTS);
	if (host >= m->n)
		return err_set(err, errlen, "host %u: netem plan: model has only %u hosts", host,
		               m->n);
	if (prev && (prev->host != host || prev->nhosts != m->n))
		return err_set(err, errlen,
		               "host %u: netem plan: previous plan is for host %u of %u hosts",
		               host, prev->host, prev->nhosts);
	return 0;
}

/* Every destination's key in d (sorted), the distinct keys in keys, and in
 * key_of[i] the index of d[i]'s key; returns how many keys. */
static uint32_t plan_keys(const struct linkmodel *m, uint32_t host, struct dkey *d,
                          struct gkey *keys, uint32_t *key_of)
{
	uint32_t nd = m->n - 1;
	for (uint32_t j = 0, k = 0; j < m->n; j++)
		if (j != host)
			d[k++] = (struct dkey){path_key(m, host, j), j};
	qsort(d, nd, sizeof(*d), dkey_cmp);

	uint32_t nkeys = 0;
	for (uint32_t i = 0; i < nd; i++) {
		if (!nkeys || gkey_cmp(&keys[nkeys - 1], &d[i].k))
			keys[nkeys++] = d[i].k;
		key_of[i] = nkeys - 1;
	}
	return nkeys;
}

static void plan_groups(struct netem_plan *out, const struct gkey *keys, const uint32_t *slot,
                        uint32_t nkeys, uint32_t queue)
{
	for (uint32_t k = 0; k < nkeys; k++) {
		struct netem_group *g = &out->group[k];
		uint32_t minor = NETEM_GROUP_MINOR + slot[k];
		uint32_t max_delay = keys[k].delay_us + keys[k].jitter_us;
		g->slot = slot[k];
		g->classid = TC_HANDLE(NETEM_UP_INNER >> 16, minor);
		g->leaf = TC_HANDLE(minor, 0);
		g->blocked = keys[k].blocked;
		g->delay_us = keys[k].delay_us;
		g->jitter_us = keys[k].jitter_us;
		g->loss = keys[k].loss;
		g->limit = netem_limit_pkts(out->up_rate, max_delay, queue);
	}
}

static void plan_filters(struct netem_plan *out, const struct dkey *d, const uint32_t *key_of,
                         uint32_t nd)
{
	for (uint32_t i = 0; i < nd; i++) {
		uint32_t j = d[i].dst;
		struct netem_filter *f = &out->filter[j < out->host ? j : j - 1];
		struct netem_group *g = &out->group[key_of[i]];
		f->dst = j;
		f->ip = addr_host_ip(j);
		f->handle = filter_handle(f->ip);
		f->classid = g->classid;
		g->ndst++;
	}
}

int netem_plan_build(const struct linkmodel *m, uint32_t host, const struct netem_plan *prev,
                     struct netem_plan *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (plan_check(m, host, prev, err, errlen))
		return -1;

	const struct link_access *a = &m->host[host];
	uint32_t queue = a->queue_bytes ? a->queue_bytes : LINKMODEL_DEFAULT_QUEUE_BYTES;
	out->host = host;
	out->nhosts = m->n;
	out->up_rate = netem_rate(a->up_bps);
	out->up_burst = netem_burst(out->up_rate);
	out->down_rate = netem_rate(a->down_bps);
	out->down_burst = netem_burst(out->down_rate);
	out->down_limit = queue;

	uint32_t nd = m->n - 1;
	struct dkey *d = calloc(nd ? nd : 1, sizeof(*d));
	struct gkey *keys = calloc(nd ? nd : 1, sizeof(*keys));
	uint32_t *slot = calloc(nd ? nd : 1, sizeof(*slot));
	uint32_t *key_of = calloc(nd ? nd : 1, sizeof(*key_of));
	out->group = calloc(nd ? nd : 1, sizeof(*out->group));
	out->filter = calloc(nd ? nd : 1, sizeof(*out->filter));
	int rc = -1;
	if (!d || !keys || !slot || !key_of || !out->group || !out->filter) {
		err_set(err, errlen, "host %u: netem plan for %u destinations: %s", host, nd,
		        strerror(ENOMEM));
		goto out;
	}
	uint32_t nkeys = plan_keys(m, host, d, keys, key_of);
	if (nkeys > NETEM_MAX_GROUPS) {
		err_set(err, errlen, "host %u: netem plan: %u destination groups, at most %u", host,
		        nkeys, NETEM_MAX_GROUPS);
		goto out;
	}
	if (assign_slots(keys, nkeys, prev, slot) < 0) {
		err_set(err, errlen, "host %u: netem plan: assigning %u groups: %s", host, nkeys,
		        strerror(ENOMEM));
		goto out;
	}
	plan_groups(out, keys, slot, nkeys, queue);
	plan_filters(out, d, key_of, nd);
	/* Filters point at classids, so reordering the groups afterwards is safe. */
	out->ngroups = nkeys;
	out->nfilters = nd;
	qsort(out->group, nkeys, sizeof(*out->group), group_slot_cmp);
	rc = 0;
out:
	free(d);
	free(keys);
	free(slot);
	free(key_of);
	if (rc < 0)
		netem_plan_free(out);
	return rc;
}

void netem_plan_free(struct netem_plan *p)
{
	free(p->group);
	free(p->filter);
	memset(p, 0, sizeof(*p));
}

/* ---- building messages -------------------------------------------------- */

struct build {
	struct netem_batch *b;
	int ifindex[2]; /* by enum netem_side */
	char *err;
	size_t errlen;
};

static const char *side_name(enum netem_side side, uint32_t host, char buf[16])
{
	if (side == NETEM_ON_HOST)
		return "eth0";
	snprintf(buf, 16, "hub p%u", host);
	return buf;
}

static const char *handle_str(uint32_t h, char buf[16])
{
	if (TC_H_MIN(h))
		snprintf(buf, 16, "%x:%x", TC_H_MAJ(h) >> 16, TC_H_MIN(h));
	else
		snprintf(buf, 16, "%x:", TC_H_MAJ(h) >> 16);
	return buf;
}

/* Takes ownership of msg (freed when the request cannot be queued). */
static int push(struct build *c, struct nl_msg *msg, enum netem_side side, const char *op,
                const char *kind, int absent_ok, const char *obj)
{
	struct netem_batch *b = c->b;
	char sbuf[16];
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct netem_req *r = realloc(b->req, cap * sizeof(*r));
		if (!r) {
			nlmsg_free(msg);
			return err_set(c->err, c->errlen, "host %u %s: queue %s %s: %s", b->host,
			               side_name(side, b->host, sbuf), op, obj, strerror(ENOMEM));
		}
		b->req = r;
		b->cap = cap;
	}
	/* Ask for the ack explicitly so sending never depends on the socket's auto-ack. */
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	struct netem_req *r = &b->req[b->n++];
	r->msg = msg;
	r->side = side;
	r->op = op;
	r->kind = kind;
	r->absent_ok = absent_ok;
	snprintf(r->obj, sizeof(r->obj), "%s", obj);
	return 0;
}

static int built(struct build *c, int e, struct nl_msg *msg, enum netem_side side, const char *op,
                 const char *kind, int absent_ok, const char *obj)
{
	char sbuf[16];
	if (e < 0)
		return err_set(c->err, c->errlen, "host %u %s: build %s %s: %s", c->b->host,
		               side_name(side, c->b->host, sbuf), op, obj, nl_geterror(e));
	return push(c, msg, side, op, kind, absent_ok, obj);
}

static const char *op_of(int flags)
{
	return flags & NLM_F_CREATE ? "add" : "change";
}

static int tc_init(struct rtnl_tc *tc, int ifindex, uint32_t parent, uint32_t handle,
                   const char *kind)
{
	rtnl_tc_set_ifindex(tc, ifindex);
	rtnl_tc_set_parent(tc, parent);
	rtnl_tc_set_handle(tc, handle);
	return rtnl_tc_set_kind(tc, kind);
}

static int del_root(struct build *c, enum netem_side side)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	struct nl_msg *msg = NULL;
	int e = -NLE_NOMEM;
	if (q) {
		rtnl_tc_set_ifindex(TC_CAST(q), c->ifindex[side]);
		rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
		e = rtnl_qdisc_build_delete_request(q, &msg);
		rtnl_qdisc_put(q);
	}
	return built(c, e, msg, side, "delete", "", 1, "root qdisc");
}

static int htb_qdisc(struct build *c, enum netem_side side, uint32_t parent, uint32_t handle)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	struct nl_msg *msg = NULL;
	char obj[48], hb[16];
	int e = -NLE_NOMEM;
	if (q) {
		e = tc_init(TC_CAST(q), c->ifindex[side], parent, handle, "htb");
		/* Default minor 1 in both htb qdiscs: 1:1 is the access link, 2:1 the
		 * class for traffic no filter claims. */
		if (e >= 0)
			e = rtnl_htb_set_defcls(q, 1);
		if (e >= 0)
			e = rtnl_qdisc_build_add_request(q, NLM_F_CREATE | NLM_F_EXCL, &msg);
		rtnl_qdisc_put(q);
	}
	snprintf(obj, sizeof(obj), "qdisc %s (htb)", handle_str(handle, hb));
	return built(c, e, msg, side, "add", "htb", 0, obj);
}

static int htb_class(struct build *c, enum netem_side side, uint32_t parent, uint32_t classid,
                     uint64_t rate, uint32_t burst, int flags)
{
	struct rtnl_class *cl = rtnl_class_alloc();
	struct nl_msg *msg = NULL;
	char obj[48], hb[16];
	int e = -NLE_NOMEM;
	if (cl) {
		e = tc_init(TC_CAST(cl), c->ifindex[side], parent, classid, "htb");
		if (e >= 0)
			e = rtnl_htb_set_rate64(cl, rate);
		if (e >= 0)
			e = rtnl_htb_set_ceil64(cl, rate);
		if (e >= 0)
			e = rtnl_htb_set_rbuffer(cl, burst);
		if (e >= 0)
			e = rtnl_htb_set_cbuffer(cl, burst);
		/* The kernel derives rate/10 otherwise and logs a warning for every
		 * class whose result falls outside 1000..200000 bytes. */
		if (e >= 0)
			e = rtnl_htb_set_quantum(cl, NETEM_MTU);
		if (e >= 0)
			e = rtnl_class_build_add_request(cl, flags, &msg);
		rtnl_class_put(cl);
	}
	snprintf(obj, sizeof(obj), "class %s (htb)", handle_str(classid, hb));
	return built(c, e, msg, side, op_of(flags), "htb", 0, obj);
}

static int del_class(struct build *c, uint32_t classid)
{
	struct rtnl_class *cl = rtnl_class_alloc();
	struct nl_msg *msg = NULL;
	char obj[48], hb[16];
	int e = -NLE_NOMEM;
	if (cl) {
		rtnl_tc_set_ifindex(TC_CAST(cl), c->ifindex[NETEM_ON_HOST]);
		rtnl_tc_set_parent(TC_CAST(cl), NETEM_UP_INNER);
		rtnl_tc_set_handle(TC_CAST(cl), classid);
		e = rtnl_class_build_delete_request(cl, &msg);
		rtnl_class_put(cl);
	}
	snprintf(obj, sizeof(obj), "class %s (htb)", handle_str(classid, hb));
	return built(c, e, msg, NETEM_ON_HOST, "delete", "", 0, obj);
}

/* libnl's netem setters take int but store the value in a uint32_t field, so the bits
 * of a uint32 above INT_MAX (loss near 100%) must pass through unchanged. */
static int u32_bits(uint32_t v)
{
	int i;
	memcpy(&i, &v, sizeof(i));
	return i;
}

static int netem_leaf(struct build *c, const struct netem_group *g, int flags)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	struct nl_msg *msg = NULL;
	char obj[48], hb[16], cb[16];
	int e = -NLE_NOMEM;
	if (q) {
		e = tc_init(TC_CAST(q), c->ifindex[NETEM_ON_HOST], g->classid, g->leaf, "netem");
		if (e >= 0) {
			/* Microseconds; libnl converts to psched ticks. */
			rtnl_netem_set_delay(q, (int)g->delay_us);
			rtnl_netem_set_jitter(q, (int)g->jitter_us);
			rtnl_netem_set_loss(q, u32_bits(g->loss));
			rtnl_netem_set_limit(q, (int)g->limit);
			e = rtnl_qdisc_build_add_request(q, flags, &msg);
		}
		rtnl_qdisc_put(q);
	}
	snprintf(obj, sizeof(obj), "netem %s under class %s", handle_str(g->leaf, hb),
	         handle_str(g->classid, cb));
	return built(c, e, msg, NETEM_ON_HOST, op_of(flags), "netem", 0, obj);
}

static int bfifo_leaf(struct build *c, uint32_t limit, int flags)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	struct nl_msg *msg = NULL;
	char obj[48], hb[16];
	int e = -NLE_NOMEM;
	if (q) {
		e = tc_init(TC_CAST(q), c->ifindex[NETEM_ON_HUB], NETEM_DOWN_LINK, NETEM_DOWN_FIFO,
		            "bfifo");
		if (e >= 0)
			e = rtnl_qdisc_fifo_set_limit(q, limit > INT_MAX ? INT_MAX : (int)limit);
		if (e >= 0)
			e = rtnl_qdisc_build_add_request(q, flags, &msg);
		rtnl_qdisc_put(q);
	}
	snprintf(obj, sizeof(obj), "qdisc %s (bfifo)", handle_str(NETEM_DOWN_FIFO, hb));
	return built(c, e, msg, NETEM_ON_HUB, op_of(flags), "bfifo", 0, obj);
}

static struct rtnl_cls *u32_alloc(struct build *c, uint32_t handle, int *e)
{
	struct rtnl_cls *cls = rtnl_cls_alloc();
	if (!cls) {
		*e = -NLE_NOMEM;
		return NULL;
	}
	*e = tc_init(TC_CAST(cls), c->ifindex[NETEM_ON_HOST], NETEM_UP_INNER, handle, "u32");
	rtnl_cls_set_prio(cls, NETEM_FILTER_PRIO);
	rtnl_cls_set_protocol(cls, ETH_P_IP);
	return cls;
}

static int u32_table(struct build *c)
{
	struct nl_msg *msg = NULL;
	int e;
	struct rtnl_cls *cls = u32_alloc(c, NETEM_HT_ID << 20, &e);
	if (e >= 0)
		e = rtnl_u32_set_divisor(cls, NETEM_HT_BUCKETS);
	if (e >= 0)
		e = rtnl_cls_build_add_request(cls, NLM_F_CREATE | NLM_F_EXCL, &msg);
	rtnl_cls_put(cls);
	return built(c, e, msg, NETEM_ON_HOST, "add", "u32", 0, "filter hash table 1: (u32)");
}

static int u32_link(struct build *c)
{
	struct nl_msg *msg = NULL;
	int e;
	struct rtnl_cls *cls = u32_alloc(c, NETEM_LINK_NODE, &e);
	if (e >= 0)
		e = rtnl_u32_set_hashtable(cls, TC_U32_ROOT);
	if (e >= 0)
		e = rtnl_u32_set_link(cls, NETEM_HT_ID << 20);
	/* Offset 16 is the destination address in the IPv4 header. */
	if (e >= 0)
		e = rtnl_u32_set_hashmask(cls, NETEM_HT_BUCKETS - 1, 16);
	if (e >= 0)
		e = rtnl_u32_add_key_uint32(cls, ADDR_NET, ADDR_NETMASK, 16, 0);
	if (e >= 0)
		e = rtnl_cls_build_add_request(cls, NLM_F_CREATE | NLM_F_EXCL, &msg);
	rtnl_cls_put(cls);
	return built(c, e, msg, NETEM_ON_HOST, "add", "u32", 0, "filter 800::1 (u32 link)");
}

static int u32_dst(struct build *c, const struct netem_filter *f, int flags)
{
	struct nl_msg *msg = NULL;
	char obj[48], ip[16], cb[16];
	int e;
	struct rtnl_cls *cls = u32_alloc(c, f->handle, &e);
	if (e >= 0)
		e = rtnl_u32_set_hashtable(cls, f->handle & 0xfffff000u);
	if (e >= 0)
		e = rtnl_u32_add_key_uint32(cls, f->ip, 0xffffffffu, 16, 0);
	/* u32 only classifies on nodes flagged terminal; tc sets the flag for flowid. */
	if (e >= 0)
		e = rtnl_u32_set_cls_terminal(cls);
	if (e >= 0)
		e = rtnl_u32_set_classid(cls, f->classid);
	if (e >= 0)
		e = rtnl_cls_build_add_request(cls, flags, &msg);
	rtnl_cls_put(cls);
	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", f->ip >> 24, (f->ip >> 16) & 0xffu,
	         (f->ip >> 8) & 0xffu, f->ip & 0xffu);
	snprintf(obj, sizeof(obj), "filter %x:%x:%x (u32 %s to %s)", f->handle >> 20,
	         (f->handle >> 12) & 0xffu, f->handle & 0xfffu, ip, handle_str(f->classid, cb));
	return built(c, e, msg, NETEM_ON_HOST, op_of(flags), "u32", 0, obj);
}

static const struct netem_group *group_by_slot(const struct netem_plan *p, uint32_t slot)
{
	struct netem_group key = {.slot = slot};
	return bsearch(&key, p->group, p->ngroups, sizeof(*p->group), group_slot_cmp);
}

static int same_leaf(const struct netem_group *a, const struct netem_group *b)
{
	return a->delay_us == b->delay_us && a->jitter_us == b->jitter_us && a->loss == b->loss &&
	       a->limit == b->limit;
}

static int build_upload(struct build *c, const struct netem_plan *old, const struct netem_plan *new)
{
	const int add = NLM_F_CREATE | NLM_F_EXCL, change = NLM_F_REPLACE;
	if (!old) {
		if (del_root(c, NETEM_ON_HOST) < 0 ||
		    htb_qdisc(c, NETEM_ON_HOST, TC_H_ROOT, NETEM_UP_ROOT) < 0 ||
		    htb_class(c, NETEM_ON_HOST, NETEM_UP_ROOT, NETEM_UP_LINK, new->up_rate,
		              new->up_burst, add) < 0 ||
		    htb_qdisc(c, NETEM_ON_HOST, NETEM_UP_LINK, NETEM_UP_INNER) < 0 ||
		    htb_class(c, NETEM_ON_HOST, NETEM_UP_INNER, NETEM_UP_DEFAULT, netem_rate(0),
		              netem_burst(netem_rate(0)), add) < 0 ||
		    u32_table(c) < 0 || u32_link(c) < 0)
			return -1;
	} else if (old->up_rate != new->up_rate || old->up_burst != new->up_burst) {
		if (htb_class(c, NETEM_ON_HOST, NETEM_UP_ROOT, NETEM_UP_LINK, new->up_rate,
		              new->up_burst, change) < 0)
			return -1;
	}

	for (uint32_t i = 0; i < new->ngroups; i++) {
		const struct netem_group *g = &new->group[i];
		const struct netem_group *og = old ? group_by_slot(old, g->slot) : NULL;
		if (!og) {
			if (htb_class(c, NETEM_ON_HOST, NETEM_UP_INNER, g->classid, netem_rate(0),
			              netem_burst(netem_rate(0)), add) < 0 ||
			    netem_leaf(c, g, add) < 0)
				return -1;
		} else if (!same_leaf(og, g) && netem_leaf(c, g, change) < 0) {
			return -1;
		}
	}
	for (uint32_t i = 0; i < new->nfilters; i++) {
		const struct netem_filter *f = &new->filter[i];
		if (!old) {
			if (u32_dst(c, f, add) < 0)
				return -1;
		} else if (old->filter[i].classid != f->classid && u32_dst(c, f, change) < 0) {
			return -1;
		}
	}
	/* Last, so no filter points at a class while it goes away. */
	for (uint32_t i = 0; old && i < old->ngroups; i++)
		if (!group_by_slot(new, old->group[i].slot) &&
		    del_class(c, old->group[i].classid) < 0)
			return -1;
	return 0;
}

static int build_download(struct build *c, const struct netem_plan *old,
                          const struct netem_plan *new)
{
	const int add = NLM_F_CREATE | NLM_F_EXCL, change = NLM_F_REPLACE;
	if (!old) {
		if (del_root(c, NETEM_ON_HUB) < 0 ||
		    htb_qdisc(c, NETEM_ON_HUB, TC_H_ROOT, NETEM_DOWN_ROOT) < 0 ||
		    htb_class(c, NETEM_ON_HUB, NETEM_DOWN_ROOT, NETEM_DOWN_LINK, new->down_rate,
		              new->down_burst, add) < 0 ||
		    bfifo_leaf(c, new->down_limit, add) < 0)
			return -1;
		return 0;
	}
	if ((old->down_rate != new->down_rate || old->down_burst != new->down_burst) &&
	    htb_class(c, NETEM_ON_HUB, NETEM_DOWN_ROOT, NETEM_DOWN_LINK, new->down_rate,
	              new->down_burst, change) < 0)
		return -1;
	if (old->down_limit != new->down_limit && bfifo_leaf(c, new->down_limit, change) < 0)
		return -1;
	return 0;
}

int netem_batch_build(const struct netem_plan *old, const struct netem_plan *new, int host_ifindex,
                      int hub_ifindex, struct netem_batch *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->host = new->host;
	if (old && (old->host != new->host || old->nhosts != new->nhosts))
		return err_set(
		    err, errlen,
		    "host %u: netem update from a plan for host %u of %u hosts to %u hosts",
		    new->host, old->host, old->nhosts, new->nhosts);
	struct build c = {out, {host_ifindex, hub_ifindex}, err, errlen};
	if (build_upload(&c, old, new) < 0 || build_download(&c, old, new) < 0) {
		netem_batch_free(out);
		return -1;
	}
	return 0;
}

void netem_batch_free(struct netem_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		nlmsg_free(b->req[i].msg);
	free(b->req);
	memset(b, 0, sizeof(*b));
}

/* ---- sending ------------------------------------------------------------ */

int netem_batch_send(const struct netem_batch *b, struct nl_sock *host_sk, struct nl_sock *hub_sk,
                     char *err, size_t errlen)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct netem_req *r = &b->req[i];
		struct nl_sock *sk = r->side == NETEM_ON_HOST ? host_sk : hub_sk;
		int e = nl_send_auto(sk, r->msg);
		if (e >= 0)
			e = nl_wait_for_ack(sk);
		if (e == -NLE_OBJ_NOTFOUND && r->absent_ok)
			continue;
		if (e < 0) {
			char sbuf[16];
			return err_set(err, errlen, "host %u %s: %s %s: %s", b->host,
			               side_name(r->side, b->host, sbuf), r->op, r->obj,
			               nl_geterror(e));
		}
	}
	return 0;
}

/* ---- one host ----------------------------------------------------------- */

struct netem_host {
	uint32_t host;
	struct nl_sock *host_sk, *hub_sk;
	int host_ifindex, hub_ifindex;
	int installed;
	struct netem_plan plan;
	/* eth0's counters run from an update that touches eth0 to the next (an epoch), and
	 * count under that epoch's plan: past sums the closed epochs, base holds eth0's
	 * counters when the open one began, sorted by count_key_cmp. The hub end's objects
	 * only change in place and mean the same under every plan, so they need neither. */
	struct netem_counters past;
	struct netem_tc_count *base;
	size_t nbase;
};

/* A class by its handle, a qdisc by its parent (the kernel lists an update's recreated
 * leaf under the same parent). */
static int count_key_cmp(const void *pa, const void *pb)
{
	const struct netem_tc_count *a = pa, *b = pb;
	uint32_t ka = a->is_class ? a->handle : a->parent, kb = b->is_class ? b->handle : b->parent;
	if (a->is_class != b->is_class)
		return a->is_class - b->is_class;
	return (ka > kb) - (ka < kb);
}

static uint64_t since(uint64_t now, uint64_t then)
{
	/* Below its base, the object was made anew and counts from zero. */
	return now >= then ? now - then : now;
}

/* What eth0's objects in cur counted in the open epoch, added to sum under the current
 * plan; held packets (qlen, backlog) only with held. */
static void epoch_add(const struct netem_host *h, const struct netem_tc_count *cur, size_t n,
                      int held, struct netem_counters *sum)
{
	for (size_t i = 0; i < n; i++) {
		struct netem_tc_count d = cur[i];
		const struct netem_tc_count *b =
		    bsearch(&d, h->base, h->nbase, sizeof(*h->base), count_key_cmp);
		if (b) {
			d.packets = since(d.packets, b->packets);
			d.bytes = since(d.bytes, b->bytes);
			d.drops = since(d.drops, b->drops);
			d.overlimits = since(d.overlimits, b->overlimits);
		}
		if (!held)
			d.qlen = d.backlog = 0;
		netem_counters_add(&h->plan, &d, sum);
	}
}

/* Close the open epoch before an update changes what eth0's objects mean or deletes
 * some: a packet counted between this read and the update counts in the next epoch. */
static int epoch_close(struct netem_host *h, char *err, size_t errlen)
{
	struct netem_tc_count *cur;
	size_t n;
	char e[256];
	if (netem_tc_read(h->host_sk, NETEM_ON_HOST, h->host_ifindex, NULL, &cur, &n, e, sizeof(e)))
		return err_set(err, errlen, "host %u: counters before an update: %s", h->host, e);
	epoch_add(h, cur, n, 0, &h->past);
	qsort(cur, n, sizeof(*cur), count_key_cmp);
	free(h->base);
	h->base = cur;
	h->nbase = n;
	return 0;
}

static int touches_host(const struct netem_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->req[i].side == NETEM_ON_HOST)
			return 1;
	return 0;
}

struct netem_host *netem_host_new(uint32_t host, struct nl_sock *host_sk, int host_ifindex,
                                  struct nl_sock *hub_sk, int hub_ifindex, char *err, size_t errlen)
{
	struct netem_host *h = calloc(1, sizeof(*h));
	if (!h) {
		err_set(err, errlen, "host %u: netem state: %s", host, strerror(ENOMEM));
		return NULL;
	}
	h->host = host;
	h->host_sk = host_sk;
	h->host_ifindex = host_ifindex;
	h->hub_sk = hub_sk;
	h->hub_ifindex = hub_ifindex;
	return h;
}

int netem_host_apply(struct netem_host *h, const struct linkmodel *m, char *err, size_t errlen)
{
	const struct netem_plan *prev = h->installed ? &h->plan : NULL;
	struct netem_plan next;
	struct netem_batch b;
	if (netem_plan_build(m, h->host, prev, &next, err, errlen) < 0)
		return -1;
	if (netem_batch_build(prev, &next, h->host_ifindex, h->hub_ifindex, &b, err, errlen) < 0) {
		netem_plan_free(&next);
		return -1;
	}
	int rc = 0;
	if (prev && touches_host(&b))
		rc = epoch_close(h, err, errlen);
	if (!prev) {
		/* An install deletes the old objects, and their counters with them. */
		free(h->base);
		h->base = NULL;
		h->nbase = 0;
	}
	if (rc == 0)
		rc = netem_batch_send(&b, h->host_sk, h->hub_sk, err, errlen);
	netem_batch_free(&b);
	netem_plan_free(&h->plan);
	if (rc < 0) {
		netem_plan_free(&next);
		h->installed = 0;
		return -1;
	}
	h->plan = next;
	h->installed = 1;
	return 0;
}

const struct netem_plan *netem_host_plan(const struct netem_host *h)
{
	return h->installed ? &h->plan : NULL;
}

static void counters_sum(struct netem_counters *to, const struct netem_counters *c)
{
	to->packets += c->packets;
	to->bytes += c->bytes;
	to->loss_packets += c->loss_packets;
	to->drop_loss += c->drop_loss;
	to->drop_upload += c->drop_upload;
	to->drop_download += c->drop_download;
	to->drop_partition += c->drop_partition;
	to->overlimits += c->overlimits;
	to->qlen += c->qlen;
	to->backlog += c->backlog;
}

int netem_host_counters(struct netem_host *h, struct nl_cache *hub_qdiscs,
                        struct netem_counters *sum, char *err, size_t errlen)
{
	counters_sum(sum, &h->past);
	if (!h->installed)
		return 0;
	struct netem_tc_count *cur;
	size_t n;
	char e[256];
	if (netem_tc_read(h->host_sk, NETEM_ON_HOST, h->host_ifindex, NULL, &cur, &n, e, sizeof(e)))
		return err_set(err, errlen, "host %u eth0: %s", h->host, e);
	epoch_add(h, cur, n, 1, sum);
	free(cur);
	if (netem_tc_read(h->hub_sk, NETEM_ON_HUB, h->hub_ifindex, hub_qdiscs, &cur, &n, e,
	                  sizeof(e)))
		return err_set(err, errlen, "host %u hub end: %s", h->host, e);
	for (size_t i = 0; i < n; i++)
		netem_counters_add(&h->plan, &cur[i], sum);
	free(cur);
	return 0;
}

void netem_host_free(struct netem_host *h)
{
	if (!h)
		return;
	free(h->base);
	netem_plan_free(&h->plan);
	free(h);
}

/* ---- kernel probe ------------------------------------------------------- */

struct probe {
	int result;
	char reason[256];
};

static void probe_in_scratch_ns(struct probe *p)
{
	const char *what = "adding a netem qdisc on lo in a scratch namespace";
	if (unshare(CLONE_NEWNET) < 0) {
		p->result = -1;
		snprintf(p->reason, sizeof(p->reason), "cannot tell: unshare(CLONE_NEWNET): %s",
		         strerror(errno));
		return;
	}
	int ifindex = (int)if_nametoindex("lo");
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	int e = !sk || !q ? -NLE_NOMEM : nl_connect(sk, NETLINK_ROUTE);
	if (e >= 0 && !ifindex)
		e = -nl_syserr2nlerr(errno);
	if (e >= 0)
		e = tc_init(TC_CAST(q), ifindex, TC_H_ROOT, TC_HANDLE(1, 0), "netem");
	if (e >= 0) {
		rtnl_netem_set_delay(q, 1000);
		e = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_EXCL);
	}
	if (e >= 0) {
		p->result = 1;
		snprintf(p->reason, sizeof(p->reason), "sch_netem present: %s succeeded", what);
		e = rtnl_qdisc_delete(sk, q);
		if (e < 0)
			snprintf(p->reason, sizeof(p->reason),
			         "sch_netem present; removing the probe qdisc from lo: %s",
			         nl_geterror(e));
	} else if (e == -NLE_OBJ_NOTFOUND) {
		/* The kernel answers ENOENT when no qdisc of that kind is registered
		 * even after trying to load the module. */
		p->result = 0;
		snprintf(p->reason, sizeof(p->reason), "no sch_netem in this kernel: %s: %s", what,
		         nl_geterror(e));
	} else {
		p->result = -1;
		snprintf(p->reason, sizeof(p->reason), "cannot tell: %s: %s", what, nl_geterror(e));
	}
	rtnl_qdisc_put(q);
	nl_socket_free(sk);
}

/* A thread of its own, because unshare moves only the calling thread and the namespace
 * is released when that thread exits; the caller's threads never change namespace. */
static void *probe_thread(void *arg)
{
	probe_in_scratch_ns(arg);
	return NULL;
}

int netem_kernel_probe(char *reason, size_t len)
{
	struct probe p = {-1, ""};
	pthread_t t;
	int e = pthread_create(&t, NULL, probe_thread, &p);
	if (e)
		return err_set(reason, len, "cannot tell: starting the netem probe thread: %s",
		               strerror(e));
	pthread_join(t, NULL);
	snprintf(reason, len, "%s", p.reason);
	return p.result;
}
