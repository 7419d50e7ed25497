/* cmocka.h needs these included before it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/class.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/fifo.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/tc.h>
#include <netlink/socket.h>

#include "lib/addr.h"
#include "lib/util.h"
#include "netns/linkmodel.h"
#include "netns/netem.h"
#include "netns/testbed.h"

/* ---- helpers ------------------------------------------------------------ */

static struct linkmodel *model_new(uint32_t n)
{
	void *mem = calloc(1, linkmodel_size(n));
	assert_non_null(mem);
	return linkmodel_init(mem, n);
}

static void set_delay(struct linkmodel *m, uint32_t a, uint32_t b, uint32_t us)
{
	m->delay_us[(size_t)a * m->n + b] = us;
	m->delay_us[(size_t)b * m->n + a] = us;
}

/* Ticks the kernel expects for us microseconds, from /proc/net/psched read here
 * independently of libnl (64 ns per tick on every kernel since 2.6.31). */
static uint32_t expect_ticks(uint32_t us)
{
	unsigned ns_per_us = 1000, ns_per_tick = 64, nom, denom;
	FILE *f = fopen("/proc/net/psched", "r");
	if (f) {
		if (fscanf(f, "%x %x %x %x", &ns_per_us, &ns_per_tick, &nom, &denom) != 4)
			ns_per_us = 1000, ns_per_tick = 64;
		fclose(f);
	}
	return (uint32_t)(us * ((double)ns_per_us / ns_per_tick));
}

static const struct netem_group *group_of(const struct netem_plan *p, uint32_t classid)
{
	for (uint32_t i = 0; i < p->ngroups; i++)
		if (p->group[i].classid == classid)
			return &p->group[i];
	return NULL;
}

static const struct netem_filter *filter_of(const struct netem_plan *p, uint32_t dst)
{
	for (uint32_t i = 0; i < p->nfilters; i++)
		if (p->filter[i].dst == dst)
			return &p->filter[i];
	return NULL;
}

/* Every destination exactly once, in destination order, each pointing at a group of the
 * plan whose parameters are the path's; group counts and handles consistent. */
static void check_plan_invariants(const struct linkmodel *m, const struct netem_plan *p)
{
	assert_int_equal(p->nfilters, m->n - 1);
	uint32_t *seen = calloc(p->ngroups, sizeof(*seen));
	assert_non_null(seen);
	for (uint32_t i = 0; i < p->nfilters; i++) {
		const struct netem_filter *f = &p->filter[i];
		assert_int_equal(f->dst, i < p->host ? i : i + 1);
		assert_int_equal(f->ip, ADDR_NET + f->dst + 1);
		assert_int_equal(f->handle >> 20, NETEM_HT_ID);
		assert_int_equal((f->handle >> 12) & 0xff, f->ip & 0xff);
		assert_int_equal(f->handle & 0xfff, ((f->ip >> 8) & 0xff) + 1);
		for (uint32_t k = 0; k < i; k++)
			assert_int_not_equal(p->filter[k].handle, f->handle);

		const struct netem_group *g = group_of(p, f->classid);
		assert_non_null(g);
		seen[g - p->group]++;
		struct link_path path;
		linkmodel_path(m, p->host, f->dst, &path);
		assert_int_equal(g->blocked, path.blocked);
		if (path.blocked) {
			assert_int_equal(g->loss, UINT32_MAX);
		} else {
			assert_int_equal(g->delay_us, path.delay_us);
			assert_int_equal(g->jitter_us, netem_jitter_us(path.jitter_us));
			assert_int_equal(g->loss, netem_loss_u32(path.loss));
		}
	}
	for (uint32_t i = 0; i < p->ngroups; i++) {
		const struct netem_group *g = &p->group[i];
		assert_int_equal(g->ndst, seen[i]);
		assert_true(g->ndst > 0);
		assert_int_equal(TC_H_MAJ(g->classid), NETEM_UP_INNER);
		assert_int_equal(TC_H_MIN(g->classid), NETEM_GROUP_MINOR + g->slot);
		assert_int_equal(g->leaf, (NETEM_GROUP_MINOR + g->slot) << 16);
		if (i)
			assert_true(p->group[i - 1].slot < g->slot);
	}
	free(seen);
}

/* ---- conversions -------------------------------------------------------- */

static void test_loss_conversion(void **state)
{
	(void)state;
	assert_int_equal(netem_loss_u32(0.0), 0);
	assert_int_equal(netem_loss_u32(0.01), 42949673u);
	assert_int_equal(netem_loss_u32(0.5), 2147483648u);
	assert_int_equal(netem_loss_u32(1.0), UINT32_MAX);
	assert_int_equal(netem_loss_u32(nextafter(1.0, 0.0)), UINT32_MAX);
	assert_int_equal(netem_loss_u32(1.5), UINT32_MAX);
	assert_int_equal(netem_loss_u32(-0.1), 0);
	assert_int_equal(netem_loss_u32(NAN), 0);
}

static void test_jitter_rate_limit_conversion(void **state)
{
	(void)state;
	assert_int_equal(netem_jitter_us(0), 0);
	assert_int_equal(netem_jitter_us(1), 2);
	assert_int_equal(netem_jitter_us(5000), 8660);
	assert_int_equal(netem_jitter_us(10000), 17321);
	assert_int_equal(netem_jitter_us(UINT32_MAX), NETEM_MAX_DELAY_US);

	assert_int_equal(netem_rate(0), 1250000000u);
	assert_int_equal(netem_rate(10000000), 1250000u);
	assert_int_equal(netem_rate(300000), 37500u);
	assert_int_equal(netem_rate(1), 1000u);
	assert_true(netem_rate(UINT64_MAX) == NETEM_MAX_RATE_BPS / 8);
	assert_int_equal(netem_burst(1250000), 1500 + 1250);

	/* 256 KiB queue = 175 packets; 200 ms at 10 Mbit/s = 250000 bytes = 167 more. */
	assert_int_equal(netem_limit_pkts(1250000, 200000, 262144), 175 + 167);
	assert_int_equal(netem_limit_pkts(1250000, 0, 262144), 175);
	assert_int_equal(netem_limit_pkts(1250000, 0, 0), 1);
	assert_int_equal(netem_limit_pkts(UINT64_MAX, NETEM_MAX_DELAY_US, 0), NETEM_MAX_LIMIT);
}

static void test_tick_conversion(void **state)
{
	(void)state;
	/* libnl takes microseconds and converts them; 64 ns ticks make 1 ms 15625. */
	assert_int_equal(nl_us2ticks(0), expect_ticks(0));
	assert_int_equal(nl_us2ticks(1000), expect_ticks(1000));
	assert_int_equal(nl_us2ticks(200000), expect_ticks(200000));
	if (expect_ticks(1000000) == 15625000u)
		assert_int_equal(nl_us2ticks(1000), 15625);
	/* The clamp keeps the largest delay plus jitter inside 32-bit ticks. */
	assert_true((double)expect_ticks(1) * 2 * NETEM_MAX_DELAY_US < 4294967296.0);
}

/* ---- planning ----------------------------------------------------------- */

static void test_plan_grouping(void **state)
{
	(void)state;
	struct linkmodel *m = model_new(8);
	const uint32_t row[8] = {10000, 10000, 20000, 0, 10000, 20000, 10000, 10000};
	for (uint32_t j = 0; j < 8; j++)
		set_delay(m, 3, j, row[j]);
	m->host[5].loss = 0.2;
	m->host[6].partition = 2;
	m->host[7].partition = 2;
	m->host[3].up_bps = 1000000;
	m->host[3].down_bps = 2000000;
	m->host[3].queue_bytes = 15000;

	struct netem_plan p;
	char err[256] = "";
	assert_int_equal(netem_plan_build(m, 3, NULL, &p, err, sizeof(err)), 0);
	check_plan_invariants(m, &p);
	assert_int_equal(p.up_rate, 125000);
	assert_int_equal(p.down_rate, 250000);
	assert_int_equal(p.down_limit, 15000);
	assert_int_equal(p.ngroups, 4);

	/* Sorted by key without a previous plan: 10 ms, 20 ms, 20 ms lossy, blocked. */
	const uint32_t ndst[4] = {3, 1, 1, 2};
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(p.group[i].slot, i);
		assert_int_equal(p.group[i].ndst, ndst[i]);
	}
	assert_int_equal(filter_of(&p, 0)->classid, filter_of(&p, 1)->classid);
	assert_int_equal(filter_of(&p, 0)->classid, filter_of(&p, 4)->classid);
	assert_int_not_equal(filter_of(&p, 2)->classid, filter_of(&p, 5)->classid);
	assert_int_equal(filter_of(&p, 6)->classid, filter_of(&p, 7)->classid);
	const struct netem_group *drop = group_of(&p, filter_of(&p, 6)->classid);
	assert_true(drop->blocked);
	assert_int_equal(drop->loss, UINT32_MAX);
	assert_int_equal(group_of(&p, filter_of(&p, 5)->classid)->loss, netem_loss_u32(0.2));
	assert_null(filter_of(&p, 3));
	/* 10 queue packets + 20 ms at 1 Mbit/s (2500 bytes, 2 packets). */
	assert_int_equal(group_of(&p, filter_of(&p, 2)->classid)->limit, 12);
	netem_plan_free(&p);
	free(m);
}

/* Drops count by where they happened: a lossless path's leaf and the default class can
 * only overflow, a lossy path's leaf loses at random (and may overflow), a blocked
 * group's leaf is the partition, the hub end's bfifo the download queue; HTB qdiscs
 * repeat their children's drops and add nothing. */
static void test_counters_classify(void **state)
{
	(void)state;
	struct linkmodel *m = model_new(8);
	for (uint32_t j = 0; j < 8; j++)
		set_delay(m, 3, j, j == 2 || j == 5 ? 20000 : 10000);
	m->host[5].loss = 0.2;
	m->host[6].partition = 2;
	struct netem_plan p;
	char err[256] = "";
	assert_int_equal(netem_plan_build(m, 3, NULL, &p, err, sizeof(err)), 0);
	uint32_t plain = filter_of(&p, 0)->classid, lossy = filter_of(&p, 5)->classid;
	uint32_t blocked = filter_of(&p, 6)->classid;
	const struct netem_tc_count c[] = {
	    {NETEM_ON_HOST, 0, plain, 0, 100, 150000, 3, 0, 1, 1500},
	    {NETEM_ON_HOST, 0, lossy, 0, 80, 8000, 20, 0, 2, 200},
	    {NETEM_ON_HOST, 0, blocked, 0, 0, 0, 9, 0, 0, 0},
	    {NETEM_ON_HOST, 1, NETEM_UP_INNER, NETEM_UP_DEFAULT, 4, 400, 1, 0, 0, 0},
	    {NETEM_ON_HOST, 1, NETEM_UP_ROOT, NETEM_UP_LINK, 184, 1000, 33, 7, 3, 1700},
	    {NETEM_ON_HOST, 0, NETEM_UP_LINK, NETEM_UP_INNER, 184, 1000, 33, 5, 3, 1700},
	    {NETEM_ON_HUB, 0, NETEM_DOWN_LINK, NETEM_DOWN_FIFO, 50, 5000, 6, 0, 4, 600},
	    {NETEM_ON_HUB, 1, NETEM_DOWN_ROOT, NETEM_DOWN_LINK, 50, 5000, 6, 11, 4, 600},
	};
	struct netem_counters sum = {0};
	for (size_t i = 0; i < ARRAY_LEN(c); i++)
		netem_counters_add(&p, &c[i], &sum);
	assert_int_equal(sum.packets, 184);
	assert_int_equal(sum.bytes, 158400);
	assert_int_equal(sum.loss_packets, 80);
	assert_int_equal(sum.drop_loss, 20);
	assert_int_equal(sum.drop_upload, 4);
	assert_int_equal(sum.drop_partition, 9);
	assert_int_equal(sum.drop_download, 6);
	assert_int_equal(sum.overlimits, 18);
	assert_int_equal(sum.qlen, 7);
	assert_int_equal(sum.backlog, 2300);

	char line[512];
	struct netem_counters back;
	netem_counters_format(&sum, line, sizeof(line));
	assert_int_equal(netem_counters_parse(line, &back), 0);
	assert_memory_equal(&back, &sum, sizeof(sum));
	/* drop_loss is also a key of the switch's line, which lacks the others. */
	assert_int_equal(netem_counters_parse("rx=5 drop_loss=3 drop_queue=1", &back), -1);
	assert_int_equal(netem_counters_parse("kernel counters unreadable: x", &back), -1);
	netem_plan_free(&p);
	free(m);
}

static void test_plan_large_unique(void **state)
{
	(void)state;
	const uint32_t n = 700;
	struct linkmodel *m = model_new(n);
	struct rng r;
	rng_seed(&r, 42);
	for (uint32_t a = 0; a < n; a++) {
		m->host[a].loss = rng_below(&r, 4) * 0.01;
		m->host[a].jitter_us = (uint32_t)rng_below(&r, 3) * 1000;
		m->host[a].partition = rng_below(&r, 20) == 0;
		for (uint32_t b = 0; b < n; b++)
			m->delay_us[(size_t)a * n + b] = (uint32_t)rng_below(&r, 40) * 500;
	}
	struct netem_plan p, q;
	char err[256];
	assert_int_equal(netem_plan_build(m, 517, NULL, &p, err, sizeof(err)), 0);
	check_plan_invariants(m, &p);
	assert_true(p.ngroups > 100);
	for (uint32_t i = 0; i < p.ngroups; i++) {
		assert_int_equal(p.group[i].slot, i);
		for (uint32_t k = 0; k < i; k++)
			assert_int_not_equal(p.group[k].leaf, p.group[i].leaf);
	}

	/* Perturb some paths and replan from p: surviving keys keep their slot, the
	 * slots stay distinct, and new keys fill the lowest free slots. */
	for (uint32_t j = 0; j < n; j += 7)
		m->delay_us[(size_t)517 * n + j] = 123456 + j;
	m->host[3].partition = 5;
	assert_int_equal(netem_plan_build(m, 517, &p, &q, err, sizeof(err)), 0);
	check_plan_invariants(m, &q);
	uint32_t maxslot = 0;
	for (uint32_t i = 0; i < p.ngroups; i++)
		maxslot = p.group[i].slot > maxslot ? p.group[i].slot : maxslot;
	unsigned char *reused = calloc(maxslot + q.ngroups + 1, 1);
	assert_non_null(reused);
	for (uint32_t i = 0; i < q.ngroups; i++) {
		const struct netem_group *g = &q.group[i];
		for (uint32_t k = 0; k < p.ngroups; k++) {
			const struct netem_group *o = &p.group[k];
			if (o->blocked == g->blocked && o->delay_us == g->delay_us &&
			    o->jitter_us == g->jitter_us && o->loss == g->loss) {
				assert_int_equal(o->slot, g->slot);
				reused[g->slot] = 1;
			}
		}
	}
	uint32_t expect_next = 0;
	for (uint32_t i = 0; i < q.ngroups; i++) {
		if (reused[q.group[i].slot])
			continue;
		while (reused[expect_next])
			expect_next++;
		assert_int_equal(q.group[i].slot, expect_next);
		expect_next++;
	}
	free(reused);
	netem_plan_free(&p);
	netem_plan_free(&q);
	free(m);
}

static void test_plan_errors(void **state)
{
	(void)state;
	struct linkmodel *m = model_new(6);
	struct netem_plan p, q;
	char err[256] = "";
	assert_int_equal(netem_plan_build(m, 9, NULL, &p, err, sizeof(err)), -1);
	assert_string_equal(err, "host 9: netem plan: model has only 6 hosts");
	assert_int_equal(netem_plan_build(m, 1, NULL, &p, err, sizeof(err)), 0);
	assert_int_equal(netem_plan_build(m, 2, &p, &q, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "host 2:"));
	netem_plan_free(&p);
	free(m);

	m = model_new(1);
	assert_int_equal(netem_plan_build(m, 0, NULL, &p, err, sizeof(err)), 0);
	assert_int_equal(p.ngroups, 0);
	assert_int_equal(p.nfilters, 0);
	netem_plan_free(&p);
	free(m);
}

/* ---- built messages ----------------------------------------------------- */

/* Host 0 with one destination per interesting netem setting:
 *   1: no delay, no loss      2: 1 ms, 1 % loss     3: 200 ms, jitter, 50 % loss
 *   4: 200 ms, 100 % loss     5: partitioned */
static struct linkmodel *model_a(void)
{
	struct linkmodel *m = model_new(6);
	m->host[0].up_bps = 10000000;
	m->host[0].down_bps = 20000000;
	set_delay(m, 0, 2, 1000);
	set_delay(m, 0, 3, 200000);
	set_delay(m, 0, 4, 200000);
	set_delay(m, 0, 5, 5000);
	m->host[2].loss = 0.01;
	m->host[3].loss = 0.5;
	m->host[3].jitter_us = 5000;
	m->host[4].loss = 1.0;
	m->host[5].partition = 1;
	return m;
}

struct parsed {
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	struct nlattr *tb[TCA_MAX + 1];
	const char *kind;
};

static void parse(const struct netem_req *r, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	p->nlh = nlmsg_hdr(r->msg);
	p->tcm = nlmsg_data(p->nlh);
	assert_int_equal(nlmsg_parse(p->nlh, sizeof(struct tcmsg), p->tb, TCA_MAX, NULL), 0);
	p->kind = p->tb[TCA_KIND] ? nla_get_string(p->tb[TCA_KIND]) : "";
	assert_true(p->nlh->nlmsg_flags & NLM_F_ACK);
	assert_string_equal(p->kind, r->kind);
}

static const int ADD = NLM_F_CREATE | NLM_F_EXCL;

static void expect_head(const struct netem_req *r, struct parsed *p, enum netem_side side, int type,
                        int flags, int ifindex, uint32_t parent, uint32_t handle)
{
	parse(r, p);
	assert_int_equal(r->side, side);
	assert_int_equal(p->nlh->nlmsg_type, type);
	assert_int_equal(p->nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL | NLM_F_REPLACE), flags);
	assert_int_equal(p->tcm->tcm_ifindex, ifindex);
	assert_int_equal(p->tcm->tcm_parent, parent);
	assert_int_equal(p->tcm->tcm_handle, handle);
}

static void expect_htb_qdisc(const struct netem_req *r, enum netem_side side, int ifindex,
                             uint32_t parent, uint32_t handle)
{
	struct parsed p;
	struct nlattr *h[TCA_HTB_MAX + 1];
	expect_head(r, &p, side, RTM_NEWQDISC, ADD, ifindex, parent, handle);
	assert_string_equal(p.kind, "htb");
	assert_int_equal(nla_parse_nested(h, TCA_HTB_MAX, p.tb[TCA_OPTIONS], NULL), 0);
	assert_non_null(h[TCA_HTB_INIT]);
	struct tc_htb_glob *g = nla_data(h[TCA_HTB_INIT]);
	assert_int_equal(g->defcls, 1);
	assert_int_equal(g->version, TC_HTB_PROTOVER);
}

static void expect_htb_class(const struct netem_req *r, enum netem_side side, int flags,
                             int ifindex, uint32_t parent, uint32_t classid, uint64_t rate,
                             uint32_t burst)
{
	struct parsed p;
	struct nlattr *h[TCA_HTB_MAX + 1];
	expect_head(r, &p, side, RTM_NEWTCLASS, flags, ifindex, parent, classid);
	assert_string_equal(p.kind, "htb");
	assert_int_equal(nla_parse_nested(h, TCA_HTB_MAX, p.tb[TCA_OPTIONS], NULL), 0);
	assert_non_null(h[TCA_HTB_PARMS]);
	struct tc_htb_opt *o = nla_data(h[TCA_HTB_PARMS]);
	assert_int_equal(o->rate.rate, rate);
	assert_int_equal(o->ceil.rate, rate);
	assert_int_equal(o->quantum, NETEM_MTU);
	/* buffer is the burst's transmission time in ticks. */
	double us = (double)burst / (double)rate * 1e6;
	assert_true(fabs((double)o->buffer - expect_ticks((uint32_t)us)) <= expect_ticks(1) + 1);
	assert_int_equal(o->cbuffer, o->buffer);
	assert_null(h[TCA_HTB_RATE64]);
}

static void expect_netem(const struct netem_req *r, int flags, int ifindex,
                         const struct netem_group *g, uint32_t delay_us, uint32_t jitter_us,
                         uint32_t loss, uint32_t limit)
{
	struct parsed p;
	expect_head(r, &p, NETEM_ON_HOST, RTM_NEWQDISC, flags, ifindex, g->classid, g->leaf);
	assert_string_equal(p.kind, "netem");
	assert_non_null(p.tb[TCA_OPTIONS]);
	assert_true(nla_len(p.tb[TCA_OPTIONS]) >= (int)sizeof(struct tc_netem_qopt));
	struct tc_netem_qopt *o = nla_data(p.tb[TCA_OPTIONS]);
	assert_int_equal(o->latency, expect_ticks(delay_us));
	assert_int_equal(o->jitter, expect_ticks(jitter_us));
	assert_int_equal(o->loss, loss);
	assert_int_equal(o->limit, limit);
	assert_int_equal(o->duplicate, 0);
	assert_int_equal(o->gap, 0);
}

static void expect_u32_dst(const struct netem_req *r, int flags, int ifindex,
                           const struct netem_filter *f)
{
	struct parsed p;
	struct nlattr *u[TCA_U32_MAX + 1];
	expect_head(r, &p, NETEM_ON_HOST, RTM_NEWTFILTER, flags, ifindex, NETEM_UP_INNER,
	            f->handle);
	assert_int_equal(TC_H_MAJ(p.tcm->tcm_info) >> 16, NETEM_FILTER_PRIO);
	assert_int_equal(ntohs(TC_H_MIN(p.tcm->tcm_info)), ETH_P_IP);
	assert_int_equal(nla_parse_nested(u, TCA_U32_MAX, p.tb[TCA_OPTIONS], NULL), 0);
	assert_int_equal(nla_get_u32(u[TCA_U32_CLASSID]), f->classid);
	assert_int_equal(nla_get_u32(u[TCA_U32_HASH]), f->handle & 0xfffff000u);
	struct tc_u32_sel *sel = nla_data(u[TCA_U32_SEL]);
	assert_int_equal(nla_len(u[TCA_U32_SEL]), sizeof(*sel) + sizeof(sel->keys[0]));
	assert_true(sel->flags & TC_U32_TERMINAL);
	assert_int_equal(sel->nkeys, 1);
	assert_int_equal(sel->keys[0].val, htonl(f->ip));
	assert_int_equal(sel->keys[0].mask, 0xffffffffu);
	assert_int_equal(sel->keys[0].off, 16);
}

static void test_batch_install(void **state)
{
	(void)state;
	struct linkmodel *m = model_a();
	struct netem_plan p;
	struct netem_batch b;
	char err[256] = "";
	assert_int_equal(netem_plan_build(m, 0, NULL, &p, err, sizeof(err)), 0);
	assert_int_equal(p.ngroups, 5);
	assert_int_equal(netem_batch_build(NULL, &p, 7, 9, &b, err, sizeof(err)), 0);
	assert_int_equal(b.n, 7 + 2 * p.ngroups + p.nfilters + 4);

	const struct netem_req *r = b.req;
	struct parsed ps;
	expect_head(r, &ps, NETEM_ON_HOST, RTM_DELQDISC, 0, 7, TC_H_ROOT, 0);
	assert_true(r->absent_ok);
	r++;
	expect_htb_qdisc(r++, NETEM_ON_HOST, 7, TC_H_ROOT, NETEM_UP_ROOT);
	expect_htb_class(r++, NETEM_ON_HOST, ADD, 7, NETEM_UP_ROOT, NETEM_UP_LINK, 1250000,
	                 1500 + 1250);
	expect_htb_qdisc(r++, NETEM_ON_HOST, 7, NETEM_UP_LINK, NETEM_UP_INNER);
	expect_htb_class(r++, NETEM_ON_HOST, ADD, 7, NETEM_UP_INNER, NETEM_UP_DEFAULT, 1250000000,
	                 1500 + 1250000);

	struct nlattr *u[TCA_U32_MAX + 1];
	expect_head(r, &ps, NETEM_ON_HOST, RTM_NEWTFILTER, ADD, 7, NETEM_UP_INNER, 0x00100000);
	assert_int_equal(nla_parse_nested(u, TCA_U32_MAX, ps.tb[TCA_OPTIONS], NULL), 0);
	assert_int_equal(nla_get_u32(u[TCA_U32_DIVISOR]), 256);
	r++;
	expect_head(r, &ps, NETEM_ON_HOST, RTM_NEWTFILTER, ADD, 7, NETEM_UP_INNER, NETEM_LINK_NODE);
	assert_int_equal(ntohs(TC_H_MIN(ps.tcm->tcm_info)), ETH_P_IP);
	assert_int_equal(nla_parse_nested(u, TCA_U32_MAX, ps.tb[TCA_OPTIONS], NULL), 0);
	assert_int_equal(nla_get_u32(u[TCA_U32_LINK]), 0x00100000);
	assert_int_equal(nla_get_u32(u[TCA_U32_HASH]), TC_U32_ROOT);
	struct tc_u32_sel *sel = nla_data(u[TCA_U32_SEL]);
	assert_int_equal(sel->hmask, htonl(0xff));
	assert_int_equal(sel->hoff, 16);
	assert_int_equal(sel->nkeys, 1);
	assert_int_equal(sel->keys[0].val, htonl(0x0a4d0000));
	assert_int_equal(sel->keys[0].mask, htonl(0xffff0000));
	assert_int_equal(sel->keys[0].off, 16);
	r++;

	/* Groups in key order: 0 ms; 1 ms 1 %; 200 ms 100 %; 200 ms jitter 50 %; blocked.
	 * Limits: 175 queue packets plus what 10 Mbit/s carries in delay + jitter. */
	const uint32_t delay[5] = {0, 1000, 200000, 200000, 0};
	const uint32_t jitter[5] = {0, 0, 0, 8660, 0};
	const uint32_t loss[5] = {0, 42949673u, UINT32_MAX, 2147483648u, UINT32_MAX};
	const uint32_t limit[5] = {175, 176, 342, 349, 175};
	const uint32_t dst[5] = {1, 2, 4, 3, 5};
	for (uint32_t i = 0; i < 5; i++) {
		const struct netem_group *g = &p.group[i];
		assert_int_equal(g->classid, TC_HANDLE(2, 0x10 + i));
		assert_int_equal(g->leaf, TC_HANDLE(0x10 + i, 0));
		assert_int_equal(g->blocked, i == 4);
		assert_int_equal(filter_of(&p, dst[i])->classid, g->classid);
		expect_htb_class(r++, NETEM_ON_HOST, ADD, 7, NETEM_UP_INNER, g->classid, 1250000000,
		                 1500 + 1250000);
		expect_netem(r++, ADD, 7, g, delay[i], jitter[i], loss[i], limit[i]);
	}
	assert_string_equal(b.req[10].obj, "netem 11: under class 2:11");
	for (uint32_t i = 0; i < p.nfilters; i++)
		expect_u32_dst(r++, ADD, 7, &p.filter[i]);

	expect_head(r, &ps, NETEM_ON_HUB, RTM_DELQDISC, 0, 9, TC_H_ROOT, 0);
	assert_true(r->absent_ok);
	r++;
	expect_htb_qdisc(r++, NETEM_ON_HUB, 9, TC_H_ROOT, NETEM_DOWN_ROOT);
	expect_htb_class(r++, NETEM_ON_HUB, ADD, 9, NETEM_DOWN_ROOT, NETEM_DOWN_LINK, 2500000,
	                 1500 + 2500);
	expect_head(r, &ps, NETEM_ON_HUB, RTM_NEWQDISC, ADD, 9, NETEM_DOWN_LINK, NETEM_DOWN_FIFO);
	assert_string_equal(ps.kind, "bfifo");
	struct tc_fifo_qopt *fifo = nla_data(ps.tb[TCA_OPTIONS]);
	assert_int_equal(fifo->limit, LINKMODEL_DEFAULT_QUEUE_BYTES);
	r++;
	assert_ptr_equal(r, b.req + b.n);
	for (size_t i = 0; i < b.n; i++)
		assert_int_equal(b.req[i].absent_ok, b.req[i].op[0] == 'd');

	netem_batch_free(&b);
	netem_plan_free(&p);
	free(m);
}

static void test_batch_update_rates(void **state)
{
	(void)state;
	struct linkmodel *m = model_a();
	struct netem_plan p, q;
	struct netem_batch b;
	char err[256];
	assert_int_equal(netem_plan_build(m, 0, NULL, &p, err, sizeof(err)), 0);

	assert_int_equal(netem_plan_build(m, 0, &p, &q, err, sizeof(err)), 0);
	assert_int_equal(netem_batch_build(&p, &q, 7, 9, &b, err, sizeof(err)), 0);
	assert_int_equal(b.n, 0);
	netem_batch_free(&b);
	netem_plan_free(&q);

	/* Twice the upload: class 1:1 changes and every delay line may hold twice as much. */
	m->host[0].up_bps = 20000000;
	m->host[0].down_bps = 1000000;
	assert_int_equal(netem_plan_build(m, 0, &p, &q, err, sizeof(err)), 0);
	assert_int_equal(netem_batch_build(&p, &q, 7, 9, &b, err, sizeof(err)), 0);
	expect_htb_class(&b.req[0], NETEM_ON_HOST, NLM_F_REPLACE, 7, NETEM_UP_ROOT, NETEM_UP_LINK,
	                 2500000, 1500 + 2500);
	/* Groups without delay (and the drop group) keep their limit and are left alone. */
	const uint32_t limit[5] = {175, 177, 509, 523, 175};
	size_t k = 1;
	for (uint32_t i = 0; i < q.ngroups; i++) {
		const struct netem_group *g = &q.group[i];
		assert_int_equal(g->slot, p.group[i].slot);
		assert_int_equal(g->limit, limit[i]);
		if (g->limit != p.group[i].limit)
			expect_netem(&b.req[k++], NLM_F_REPLACE, 7, g, g->delay_us, g->jitter_us,
			             g->loss, limit[i]);
	}
	assert_int_equal(k, 4);
	assert_int_equal(b.n, k + 1);
	expect_htb_class(&b.req[b.n - 1], NETEM_ON_HUB, NLM_F_REPLACE, 9, NETEM_DOWN_ROOT,
	                 NETEM_DOWN_LINK, 125000, 1500 + 125);
	netem_batch_free(&b);
	netem_plan_free(&q);
	netem_plan_free(&p);
	free(m);
}

static void test_batch_update_groups(void **state)
{
	(void)state;
	struct linkmodel *m = model_a();
	struct netem_plan p, q;
	struct netem_batch b;
	char err[256];
	assert_int_equal(netem_plan_build(m, 0, NULL, &p, err, sizeof(err)), 0);

	/* Destination 1 joins destination 2's group, emptying slot 0; destination 5 leaves
	 * the partition with a new delay, emptying slot 4 and taking slot 0. */
	set_delay(m, 0, 1, 1000);
	m->host[1].loss = 0.01;
	m->host[5].partition = 0;
	assert_int_equal(netem_plan_build(m, 0, &p, &q, err, sizeof(err)), 0);
	check_plan_invariants(m, &q);
	assert_int_equal(q.ngroups, 4);
	const uint32_t slots[4] = {0, 1, 2, 3};
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(q.group[i].slot, slots[i]);
	assert_int_equal(q.group[0].delay_us, 5000);
	assert_int_equal(q.group[1].ndst, 2);

	assert_int_equal(netem_batch_build(&p, &q, 7, 9, &b, err, sizeof(err)), 0);
	assert_int_equal(b.n, 4);
	expect_netem(&b.req[0], NLM_F_REPLACE, 7, &q.group[0], 5000, 0, 0, 175 + 5);
	expect_u32_dst(&b.req[1], NLM_F_REPLACE, 7, filter_of(&q, 1));
	assert_int_equal(filter_of(&q, 1)->classid, TC_HANDLE(2, 0x11));
	expect_u32_dst(&b.req[2], NLM_F_REPLACE, 7, filter_of(&q, 5));
	assert_int_equal(filter_of(&q, 5)->classid, TC_HANDLE(2, 0x10));
	struct parsed ps;
	expect_head(&b.req[3], &ps, NETEM_ON_HOST, RTM_DELTCLASS, 0, 7, NETEM_UP_INNER,
	            TC_HANDLE(2, 0x14));
	assert_false(b.req[3].absent_ok);
	assert_string_equal(b.req[3].obj, "class 2:14 (htb)");
	netem_batch_free(&b);

	struct netem_plan other;
	assert_int_equal(netem_plan_build(m, 1, NULL, &other, err, sizeof(err)), 0);
	assert_int_equal(netem_batch_build(&p, &other, 7, 9, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "host 1:"));
	assert_int_equal(b.n, 0);
	netem_plan_free(&other);
	netem_plan_free(&q);
	netem_plan_free(&p);
	free(m);
}

/* ---- kernel ------------------------------------------------------------- */

static void test_kernel_probe(void **state)
{
	(void)state;
	char reason[256] = "";
	int r = netem_kernel_probe(reason, sizeof(reason));
	print_message("netem probe: %d (%s)\n", r, reason);
	assert_true(reason[0]);
	if (r < 0) {
		print_message("cannot probe here: %s\n", reason);
		skip();
	}
	if (r == 0)
		assert_non_null(strstr(reason, "Object not found"));
	else
		assert_non_null(strstr(reason, "present"));
}

/* Kernel scenarios run in a thread of their own: unshare moves only that thread into
 * scratch namespaces, which vanish when it exits, and cmocka's asserts (longjmp) stay
 * in the main thread. */
struct kt {
	int has_netem;
	char skip[256];
	char fail[512];
};

#define KT_CHECK(kt, cond, ...)                                                                    \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			int o_ = snprintf((kt)->fail, sizeof((kt)->fail), "line %d: ", __LINE__);  \
			snprintf((kt)->fail + o_, sizeof((kt)->fail) - o_, __VA_ARGS__);           \
			goto out;                                                                  \
		}                                                                                  \
	} while (0)

struct scratch {
	struct nl_sock *host_sk, *hub_sk;
	int host_if, hub_if;
	int hub_fd;
	int udp;
};

static int link_up(struct nl_sock *sk, int ifindex, unsigned flags)
{
	struct rtnl_link *orig = NULL, *change = rtnl_link_alloc();
	int e = change ? rtnl_link_get_kernel(sk, ifindex, NULL, &orig) : -NLE_NOMEM;
	if (e >= 0) {
		rtnl_link_set_flags(change, flags);
		e = rtnl_link_change(sk, orig, change, 0);
	}
	rtnl_link_put(orig);
	rtnl_link_put(change);
	return e;
}

/* A hub namespace and a host namespace joined by eth0 <-> p0; eth0 is 10.77.0.1/16 and
 * sends without ARP, so datagrams to any 10.77/16 address leave through its qdiscs. */
static int scratch_up(struct scratch *s, struct kt *kt)
{
	struct rtnl_link *veth = NULL, *peer = NULL, *hub = NULL;
	struct rtnl_addr *addr = NULL;
	struct nl_addr *local = NULL;
	int e, rc = -1;
	memset(s, 0, sizeof(*s));
	s->hub_fd = s->udp = -1;
	if (unshare(CLONE_NEWNET) < 0) {
		snprintf(kt->skip, sizeof(kt->skip), "no scratch namespace here: unshare: %s",
		         strerror(errno));
		return -1;
	}
	s->hub_sk = nl_socket_alloc();
	KT_CHECK(kt, s->hub_sk && nl_connect(s->hub_sk, NETLINK_ROUTE) >= 0, "hub socket");
	s->hub_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	KT_CHECK(kt, s->hub_fd >= 0, "hub ns fd: %s", strerror(errno));
	KT_CHECK(kt, unshare(CLONE_NEWNET) == 0, "host unshare: %s", strerror(errno));
	s->host_sk = nl_socket_alloc();
	KT_CHECK(kt, s->host_sk && nl_connect(s->host_sk, NETLINK_ROUTE) >= 0, "host socket");

	veth = rtnl_link_veth_alloc();
	KT_CHECK(kt, veth, "veth alloc");
	peer = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(veth, "eth0");
	rtnl_link_set_name(peer, "p0");
	rtnl_link_set_ns_fd(peer, s->hub_fd);
	e = rtnl_link_add(s->host_sk, veth, NLM_F_CREATE | NLM_F_EXCL);
	KT_CHECK(kt, e >= 0, "veth add: %s", nl_geterror(e));
	s->host_if = (int)if_nametoindex("eth0");
	KT_CHECK(kt, s->host_if > 0, "eth0 index: %s", strerror(errno));
	e = rtnl_link_get_kernel(s->hub_sk, 0, "p0", &hub);
	KT_CHECK(kt, e >= 0, "p0 in hub: %s", nl_geterror(e));
	s->hub_if = rtnl_link_get_ifindex(hub);
	e = link_up(s->host_sk, s->host_if, IFF_UP | IFF_NOARP);
	KT_CHECK(kt, e >= 0, "eth0 up: %s", nl_geterror(e));
	e = link_up(s->hub_sk, s->hub_if, IFF_UP);
	KT_CHECK(kt, e >= 0, "p0 up: %s", nl_geterror(e));

	addr = rtnl_addr_alloc();
	KT_CHECK(kt, addr && nl_addr_parse("10.77.0.1/16", AF_INET, &local) >= 0, "address");
	rtnl_addr_set_ifindex(addr, s->host_if);
	rtnl_addr_set_local(addr, local);
	e = rtnl_addr_add(s->host_sk, addr, 0);
	KT_CHECK(kt, e >= 0, "address add: %s", nl_geterror(e));
	s->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	KT_CHECK(kt, s->udp >= 0, "udp socket: %s", strerror(errno));
	rc = 0;
out:
	nl_addr_put(local);
	rtnl_addr_put(addr);
	rtnl_link_put(hub);
	rtnl_link_put(peer);
	if (veth)
		rtnl_link_veth_release(veth);
	return rc;
}

static void scratch_down(struct scratch *s)
{
	if (s->udp >= 0)
		close(s->udp);
	if (s->hub_fd >= 0)
		close(s->hub_fd);
	nl_socket_free(s->host_sk);
	nl_socket_free(s->hub_sk);
}

static int send_udp(struct scratch *s, uint32_t ip, int count)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
	to.sin_addr.s_addr = htonl(ip);
	for (int i = 0; i < count; i++)
		if (sendto(s->udp, "anysee", 6, 0, (struct sockaddr *)&to, sizeof(to)) != 6)
			return -1;
	return 0;
}

static void settle(void)
{
	struct timespec ts = {0, 50 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

/* Packets a class has sent, or -1 when it does not exist. */
static int64_t class_packets(struct nl_sock *sk, int ifindex, uint32_t classid)
{
	struct nl_cache *cache;
	if (rtnl_class_alloc_cache(sk, ifindex, &cache) < 0)
		return -2;
	struct rtnl_class *cl = rtnl_class_get(cache, ifindex, classid);
	int64_t n = cl ? (int64_t)rtnl_tc_get_stat(TC_CAST(cl), RTNL_TC_PACKETS) : -1;
	rtnl_class_put(cl);
	nl_cache_free(cache);
	return n;
}

static uint64_t class_rate(struct nl_sock *sk, int ifindex, uint32_t classid)
{
	struct nl_cache *cache;
	uint64_t rate = 0;
	if (rtnl_class_alloc_cache(sk, ifindex, &cache) < 0)
		return 0;
	struct rtnl_class *cl = rtnl_class_get(cache, ifindex, classid);
	if (cl)
		rtnl_htb_get_rate64(cl, &rate);
	rtnl_class_put(cl);
	nl_cache_free(cache);
	return rate;
}

/* Every planned u32 node exists and steers to the planned class. */
static int filters_match(struct nl_sock *sk, int ifindex, const struct netem_plan *p, char *why,
                         size_t len)
{
	struct nl_cache *cache;
	int e = rtnl_cls_alloc_cache(sk, ifindex, NETEM_UP_INNER, &cache);
	if (e < 0) {
		snprintf(why, len, "filter dump: %s", nl_geterror(e));
		return -1;
	}
	uint32_t found = 0;
	int rc = 0;
	for (struct nl_object *o = nl_cache_get_first(cache); o && !rc; o = nl_cache_get_next(o)) {
		struct rtnl_cls *cls = (struct rtnl_cls *)o;
		uint32_t classid, handle = rtnl_tc_get_handle(TC_CAST(cls));
		if (rtnl_u32_get_classid(cls, &classid) < 0)
			continue;
		for (uint32_t i = 0; i < p->nfilters; i++) {
			if (p->filter[i].handle != handle)
				continue;
			if (p->filter[i].classid != classid) {
				snprintf(why, len, "filter %x steers to %x, planned %x", handle,
				         classid, p->filter[i].classid);
				rc = -1;
			}
			found++;
		}
	}
	nl_cache_free(cache);
	if (!rc && found != p->nfilters) {
		snprintf(why, len, "%u of %u filters in the kernel", found, p->nfilters);
		rc = -1;
	}
	return rc;
}

/* 300 hosts so destinations 1 (10.77.0.2) and 257 (10.77.1.2) share a hash bucket;
 * delay by destination modulo 3, last host partitioned. */
static struct linkmodel *model_k(void)
{
	struct linkmodel *m = model_new(300);
	m->host[0].up_bps = 10000000;
	m->host[0].down_bps = 5000000;
	for (uint32_t j = 1; j < m->n; j++)
		set_delay(m, 0, j, 1000 * (1 + j % 3));
	m->host[299].partition = 1;
	return m;
}

/* The batch without its netem leaves, for kernels that lack sch_netem: everything else
 * (htb, u32, bfifo, changes and deletes) still runs for real. */
static struct netem_batch without_netem(const struct netem_batch *b)
{
	struct netem_batch v = {b->host, 0, b->n, calloc(b->n ? b->n : 1, sizeof(*v.req))};
	for (size_t i = 0; v.req && i < b->n; i++)
		if (strcmp(b->req[i].kind, "netem"))
			v.req[v.n++] = b->req[i];
	return v;
}

static int send_view(const struct netem_plan *old, const struct netem_plan *new, struct scratch *s,
                     char *err, size_t errlen)
{
	struct netem_batch b;
	if (netem_batch_build(old, new, s->host_if, s->hub_if, &b, err, errlen) < 0)
		return -1;
	struct netem_batch v = without_netem(&b);
	int rc = v.req ? netem_batch_send(&v, s->host_sk, s->hub_sk, err, errlen) : -1;
	free(v.req);
	netem_batch_free(&b);
	return rc;
}

static void kernel_htb_u32(struct kt *kt)
{
	struct scratch s;
	struct linkmodel *m = model_k();
	struct netem_plan p = {0}, q = {0};
	struct netem_host *h = NULL;
	char err[256] = "";
	if (scratch_up(&s, kt) < 0)
		goto out;
	KT_CHECK(kt, netem_plan_build(m, 0, NULL, &p, err, sizeof(err)) == 0, "%s", err);
	KT_CHECK(kt, p.ngroups == 4, "%u groups", p.ngroups);
	KT_CHECK(kt, send_view(NULL, &p, &s, err, sizeof(err)) == 0, "install: %s", err);

	KT_CHECK(kt, class_rate(s.host_sk, s.host_if, NETEM_UP_LINK) == p.up_rate, "up rate");
	KT_CHECK(kt, class_rate(s.hub_sk, s.hub_if, NETEM_DOWN_LINK) == p.down_rate, "down rate");
	KT_CHECK(kt, filters_match(s.host_sk, s.host_if, &p, err, sizeof(err)) == 0, "%s", err);

	uint32_t c1 = filter_of(&p, 1)->classid, c257 = filter_of(&p, 257)->classid;
	uint32_t cdrop = filter_of(&p, 299)->classid;
	KT_CHECK(kt, c1 != c257 && c1 != cdrop && c257 != cdrop, "distinct groups");
	int64_t n1 = class_packets(s.host_sk, s.host_if, c1);
	int64_t n257 = class_packets(s.host_sk, s.host_if, c257);
	int64_t ndrop = class_packets(s.host_sk, s.host_if, cdrop);
	int64_t ndef = class_packets(s.host_sk, s.host_if, NETEM_UP_DEFAULT);
	KT_CHECK(kt, n1 >= 0 && n257 >= 0 && ndrop >= 0 && ndef >= 0, "classes exist");
	KT_CHECK(kt,
	         send_udp(&s, ADDR_NET + 2, 3) == 0 && send_udp(&s, ADDR_NET + 258, 2) == 0 &&
	             send_udp(&s, ADDR_NET + 300, 4) == 0 && send_udp(&s, ADDR_NET + 0x264, 2) == 0,
	         "sendto: %s", strerror(errno));
	settle();
	/* Without netem leaves the drop class forwards, which is what makes it countable. */
	KT_CHECK(kt, class_packets(s.host_sk, s.host_if, c1) - n1 == 3, "host 1 class");
	KT_CHECK(kt, class_packets(s.host_sk, s.host_if, c257) - n257 == 2, "host 257 class");
	KT_CHECK(kt, class_packets(s.host_sk, s.host_if, cdrop) - ndrop == 4, "partition class");
	KT_CHECK(kt, class_packets(s.host_sk, s.host_if, NETEM_UP_DEFAULT) - ndef >= 2,
	         "default class");

	/* Update in place: host 1 and the partitioned host join host 257's group, the drop
	 * class goes away, both rates change. */
	set_delay(m, 0, 1, 3000);
	m->host[299].partition = 0;
	m->host[0].up_bps = 20000000;
	m->host[0].down_bps = 1000000;
	KT_CHECK(kt, netem_plan_build(m, 0, &p, &q, err, sizeof(err)) == 0, "%s", err);
	KT_CHECK(kt, q.ngroups == 3, "%u groups after update", q.ngroups);
	KT_CHECK(kt, send_view(&p, &q, &s, err, sizeof(err)) == 0, "update: %s", err);
	KT_CHECK(kt, class_packets(s.host_sk, s.host_if, cdrop) == -1, "drop class still there");
	KT_CHECK(kt, class_rate(s.host_sk, s.host_if, NETEM_UP_LINK) == q.up_rate, "up rate");
	KT_CHECK(kt, class_rate(s.hub_sk, s.hub_if, NETEM_DOWN_LINK) == q.down_rate, "down rate");
	KT_CHECK(kt, filters_match(s.host_sk, s.host_if, &q, err, sizeof(err)) == 0, "%s", err);
	n257 = class_packets(s.host_sk, s.host_if, c257);
	KT_CHECK(kt, send_udp(&s, ADDR_NET + 2, 1) == 0 && send_udp(&s, ADDR_NET + 300, 2) == 0,
	         "sendto: %s", strerror(errno));
	settle();
	KT_CHECK(kt, class_packets(s.host_sk, s.host_if, c257) - n257 == 3, "re-steered");

	/* The full install includes netem leaves: it works where sch_netem exists and
	 * otherwise names what failed. */
	h = netem_host_new(0, s.host_sk, s.host_if, s.hub_sk, s.hub_if, err, sizeof(err));
	KT_CHECK(kt, h, "%s", err);
	int rc = netem_host_apply(h, m, err, sizeof(err));
	if (kt->has_netem) {
		KT_CHECK(kt, rc == 0, "full install: %s", err);
	} else {
		KT_CHECK(kt, rc == -1, "full install without sch_netem succeeded");
		KT_CHECK(
		    kt,
		    !strcmp(err, "host 0 eth0: add netem 10: under class 2:10: Object not found"),
		    "error line: %s", err);
		KT_CHECK(kt, !netem_host_plan(h), "plan kept after a failed apply");
	}
out:
	netem_host_free(h);
	netem_plan_free(&p);
	netem_plan_free(&q);
	free(m);
	scratch_down(&s);
}

static int leaves_match(struct nl_sock *sk, int ifindex, const struct netem_plan *p, char *why,
                        size_t len)
{
	struct nl_cache *cache;
	int e = rtnl_qdisc_alloc_cache(sk, &cache);
	if (e < 0) {
		snprintf(why, len, "qdisc dump: %s", nl_geterror(e));
		return -1;
	}
	int rc = 0;
	for (uint32_t i = 0; !rc && i < p->ngroups; i++) {
		const struct netem_group *g = &p->group[i];
		struct rtnl_qdisc *q = rtnl_qdisc_get(cache, ifindex, g->leaf);
		if (!q || strcmp(rtnl_tc_get_kind(TC_CAST(q)), "netem") ||
		    rtnl_tc_get_parent(TC_CAST(q)) != g->classid) {
			snprintf(why, len, "leaf %x missing or misplaced", g->leaf);
			rc = -1;
		} else if (abs(rtnl_netem_get_delay(q) - (int)g->delay_us) > 1 ||
		           abs(rtnl_netem_get_jitter(q) - (int)g->jitter_us) > 1 ||
		           (uint32_t)rtnl_netem_get_loss(q) != g->loss ||
		           (uint32_t)rtnl_netem_get_limit(q) != g->limit) {
			snprintf(
			    why, len,
			    "leaf %x: delay %d jitter %d loss %u limit %d, planned %u %u %u %u",
			    g->leaf, rtnl_netem_get_delay(q), rtnl_netem_get_jitter(q),
			    (uint32_t)rtnl_netem_get_loss(q), rtnl_netem_get_limit(q), g->delay_us,
			    g->jitter_us, g->loss, g->limit);
			rc = -1;
		}
		rtnl_qdisc_put(q);
	}
	nl_cache_free(cache);
	return rc;
}

static void kernel_netem(struct kt *kt)
{
	struct scratch s;
	struct linkmodel *m = model_k();
	struct netem_host *h = NULL;
	char err[256] = "";
	if (scratch_up(&s, kt) < 0)
		goto out;
	h = netem_host_new(0, s.host_sk, s.host_if, s.hub_sk, s.hub_if, err, sizeof(err));
	KT_CHECK(kt, h, "%s", err);
	KT_CHECK(kt, netem_host_apply(h, m, err, sizeof(err)) == 0, "install: %s", err);
	const struct netem_plan *p = netem_host_plan(h);
	KT_CHECK(kt, leaves_match(s.host_sk, s.host_if, p, err, sizeof(err)) == 0, "%s", err);
	KT_CHECK(kt, filters_match(s.host_sk, s.host_if, p, err, sizeof(err)) == 0, "%s", err);
	uint32_t cdrop = filter_of(p, 299)->classid;

	set_delay(m, 0, 1, 3000);
	set_delay(m, 0, 2, 7777);
	m->host[299].partition = 0;
	m->host[0].up_bps = 20000000;
	KT_CHECK(kt, netem_host_apply(h, m, err, sizeof(err)) == 0, "update: %s", err);
	p = netem_host_plan(h);
	KT_CHECK(kt, leaves_match(s.host_sk, s.host_if, p, err, sizeof(err)) == 0, "%s", err);
	KT_CHECK(kt, filters_match(s.host_sk, s.host_if, p, err, sizeof(err)) == 0, "%s", err);
	KT_CHECK(kt, group_of(p, cdrop) || class_packets(s.host_sk, s.host_if, cdrop) == -1,
	         "vanished class still there");
	KT_CHECK(kt, class_rate(s.host_sk, s.host_if, NETEM_UP_LINK) == p->up_rate, "up rate");
out:
	netem_host_free(h);
	free(m);
	scratch_down(&s);
}

static int counters_now(struct netem_host *h, struct netem_counters *c, char *err, size_t len)
{
	memset(c, 0, sizeof(*c));
	return netem_host_counters(h, NULL, c, err, len);
}

/* The kernel's counters through updates: a path losing everything, a partition healed
 * (its class deleted) and the lossy path made lossless keep their drops under the plan
 * that made them; what the path sends afterwards counts as sent. */
static void kernel_counters(struct kt *kt)
{
	struct scratch s;
	struct linkmodel *m = model_new(3);
	struct netem_host *h = NULL;
	struct netem_counters c;
	char err[256] = "";
	if (scratch_up(&s, kt) < 0)
		goto out;
	set_delay(m, 0, 1, 1000);
	set_delay(m, 0, 2, 1000);
	m->host[1].loss = 1;
	m->host[2].partition = 1;
	h = netem_host_new(0, s.host_sk, s.host_if, s.hub_sk, s.hub_if, err, sizeof(err));
	KT_CHECK(kt, h, "%s", err);
	KT_CHECK(kt, netem_host_apply(h, m, err, sizeof(err)) == 0, "install: %s", err);
	KT_CHECK(kt,
	         send_udp(&s, addr_host_ip(1), 10) == 0 && send_udp(&s, addr_host_ip(2), 5) == 0,
	         "send: %s", strerror(errno));
	KT_CHECK(kt, counters_now(h, &c, err, sizeof(err)) == 0, "%s", err);
	KT_CHECK(kt, c.drop_loss == 10 && c.drop_partition == 5 && c.drop_upload == 0,
	         "before the update: loss %llu partition %llu upload %llu",
	         (unsigned long long)c.drop_loss, (unsigned long long)c.drop_partition,
	         (unsigned long long)c.drop_upload);

	m->host[1].loss = 0;
	m->host[2].partition = 0;
	KT_CHECK(kt, netem_host_apply(h, m, err, sizeof(err)) == 0, "update: %s", err);
	KT_CHECK(kt, send_udp(&s, addr_host_ip(1), 7) == 0, "send: %s", strerror(errno));
	settle();
	KT_CHECK(kt, counters_now(h, &c, err, sizeof(err)) == 0, "%s", err);
	KT_CHECK(kt,
	         c.drop_loss == 10 && c.drop_partition == 5 && c.drop_upload == 0 &&
	             c.loss_packets == 0 && c.packets >= 7,
	         "after the update: loss %llu partition %llu upload %llu, sent %llu (%llu lossy)",
	         (unsigned long long)c.drop_loss, (unsigned long long)c.drop_partition,
	         (unsigned long long)c.drop_upload, (unsigned long long)c.packets,
	         (unsigned long long)c.loss_packets);
out:
	netem_host_free(h);
	free(m);
	scratch_down(&s);
}

struct kt_run {
	void (*fn)(struct kt *);
	struct kt kt;
};

static void *kt_thread(void *arg)
{
	struct kt_run *run = arg;
	run->fn(&run->kt);
	return NULL;
}

static void run_kernel(void (*fn)(struct kt *), int has_netem)
{
	struct kt_run run = {fn, {has_netem, "", ""}};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, kt_thread, &run), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	if (run.kt.skip[0]) {
		print_message("skipped: %s\n", run.kt.skip);
		skip();
	}
	if (run.kt.fail[0])
		fail_msg("%s", run.kt.fail);
}

static void test_kernel_htb_u32(void **state)
{
	(void)state;
	char reason[256];
	int has = netem_kernel_probe(reason, sizeof(reason));
	if (has < 0) {
		print_message("skipped: %s\n", reason);
		skip();
	}
	run_kernel(kernel_htb_u32, has);
}

static void test_kernel_netem(void **state)
{
	(void)state;
	char reason[256];
	if (netem_kernel_probe(reason, sizeof(reason)) != 1) {
		print_message("skipped: %s (netem_uml.sh runs it in user-mode Linux)\n", reason);
		skip();
	}
	run_kernel(kernel_netem, 1);
}

static void test_kernel_counters(void **state)
{
	(void)state;
	char reason[256];
	if (netem_kernel_probe(reason, sizeof(reason)) != 1) {
		print_message("skipped: %s (netem_uml.sh runs it in user-mode Linux)\n", reason);
		skip();
	}
	run_kernel(kernel_counters, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_loss_conversion),
	    cmocka_unit_test(test_jitter_rate_limit_conversion),
	    cmocka_unit_test(test_tick_conversion),
	    cmocka_unit_test(test_plan_grouping),
	    cmocka_unit_test(test_counters_classify),
	    cmocka_unit_test(test_plan_large_unique),
	    cmocka_unit_test(test_plan_errors),
	    cmocka_unit_test(test_batch_install),
	    cmocka_unit_test(test_batch_update_rates),
	    cmocka_unit_test(test_batch_update_groups),
	    cmocka_unit_test(test_kernel_probe),
	    cmocka_unit_test(test_kernel_htb_u32),
	    cmocka_unit_test(test_kernel_netem),
	    cmocka_unit_test(test_kernel_counters),
	};
	return cmocka_run_group_tests_name("netem", tests, NULL, NULL);
}
