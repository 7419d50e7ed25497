#include "netns/testbed.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/veth.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "lib/addr.h"
#include "lib/util.h"
#include "netns/backend.h"

#define NETNS_RUN_DIR "/run/netns"

static void kill_ns_procs(char (*paths)[160], size_t n);

struct testbed {
	char prefix[64];
	uint32_t n;
	char log_path[1024];
	char (*ns)[96]; /* n host namespace names */
	char hub[96];
	uint8_t *made; /* made[i]: host i's namespace exists */
	int hub_made;
	struct linkmodel *model;
	size_t model_len;
	struct backend be;
};

static const char *const backend_names[] = {
    [TESTBED_AUTO] = "auto",
    [TESTBED_NETEM] = "netem",
    [TESTBED_USERSPACE] = "userspace",
    [TESTBED_BRIDGE] = "bridge",
};

const char *testbed_backend_name(enum testbed_backend b)
{
	return (unsigned)b < ARRAY_LEN(backend_names) ? backend_names[b] : "unknown";
}

int testbed_backend_parse(const char *s, enum testbed_backend *out)
{
	for (size_t i = 0; i < ARRAY_LEN(backend_names); i++) {
		if (strcmp(s, backend_names[i]) == 0) {
			*out = (enum testbed_backend)i;
			return 0;
		}
	}
	return -1;
}

enum testbed_backend testbed_backend(const struct testbed *tb)
{
	return tb->be.kind;
}
uint32_t testbed_nhosts(const struct testbed *tb)
{
	return tb->n;
}
const char *testbed_host_ns(const struct testbed *tb, uint32_t i)
{
	return tb->ns[i];
}
const char *testbed_hub_ns(const struct testbed *tb)
{
	return tb->hub;
}
struct linkmodel *testbed_model(struct testbed *tb)
{
	return tb->model;
}

static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return 0;
	struct dirent *de;
	int empty = 1;
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

/* As `ip netns add` does: the run directory must be a shared mount so that
 * namespace bind mounts made here propagate to every mount namespace. */
static int prepare_run_dir(char *err, size_t errlen)
{
	if (mkdir(NETNS_RUN_DIR, 0755) && errno != EEXIST)
		return err_set(err, errlen, "create %s: %s", NETNS_RUN_DIR, strerror(errno));
	/* Where /run is not a tmpfs, every namespace file costs a disk inode
	 * allocation (a quarter of the time to create a host); an empty run
	 * directory gets a tmpfs of its own, which `ip netns` reads the same. */
	struct statfs fs;
	if (statfs(NETNS_RUN_DIR, &fs) == 0 && fs.f_type != TMPFS_MAGIC &&
	    dir_is_empty(NETNS_RUN_DIR) &&
	    mount("anysee-netns", NETNS_RUN_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	          "mode=755"))
		return err_set(err, errlen, "mount a tmpfs on %s: %s", NETNS_RUN_DIR,
		               strerror(errno));
	for (int tries = 0; tries < 2; tries++) {
		if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
			return 0;
		if (errno != EINVAL || tries)
			return err_set(err, errlen, "make %s a shared mount: %s", NETNS_RUN_DIR,
			               strerror(errno));
		/* Not a mount point yet: bind it onto itself, then retry. */
		if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL))
			return err_set(err, errlen, "bind-mount %s onto itself: %s", NETNS_RUN_DIR,
			               strerror(errno));
	}
	return 0;
}

static void ns_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", NETNS_RUN_DIR, name);
}

/* Create a named namespace and leave the calling thread inside it. */
static int ns_create_enter(const char *name, char *err, size_t errlen)
{
	char path[160];
	ns_path(path, sizeof(path), name);
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return err_set(err, errlen, "create namespace file %s: %s", path, strerror(errno));
	close(fd);
	if (unshare(CLONE_NEWNET)) {
		err_set(err, errlen, "unshare network namespace for %s: %s", name, strerror(errno));
		unlink(path);
		return -1;
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL)) {
		err_set(err, errlen, "bind-mount namespace %s: %s", name, strerror(errno));
		unlink(path);
		return -1;
	}
	/* Hosts speak IPv4 only; IPv6 autoconfiguration would add multicast
	 * chatter to every capture. The sysctl applies to the namespace the
	 * writer is in, and "default" to the eth0 created next. */
	int s = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY | O_CLOEXEC);
	if (s >= 0) {
		/* Kernels without IPv6 simply have nothing to quiet. */
		if (write(s, "1", 1) < 0)
			(void)0;
		close(s);
	}
	return 0;
}

static void ns_remove(const char *name)
{
	char path[160];
	ns_path(path, sizeof(path), name);
	umount2(path, MNT_DETACH);
	unlink(path);
}

int testbed_ns_open(const char *ns_name, char *err, size_t errlen)
{
	char path[160];
	ns_path(path, sizeof(path), ns_name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errlen, "open namespace %s: %s", path, strerror(errno));
	return fd;
}

int testbed_enter_ns(const char *ns_name, char *err, size_t errlen)
{
	int fd = testbed_ns_open(ns_name, err, errlen);
	if (fd < 0)
		return -1;
	int rc = setns(fd, CLONE_NEWNET);
	if (rc)
		err_set(err, errlen, "enter namespace %s: %s", ns_name, strerror(errno));
	close(fd);
	return rc;
}

static struct nl_sock *nl_open(const char *where, char *err, size_t errlen)
{
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk) {
		err_set(err, errlen, "allocate netlink socket in %s: out of memory", where);
		return NULL;
	}
	int rc = nl_connect(sk, NETLINK_ROUTE);
	if (rc < 0) {
		err_set(err, errlen, "connect netlink socket in %s: %s", where, nl_geterror(rc));
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

static int link_set_up(struct nl_sock *sk, int ifindex, const char *what, char *err, size_t errlen)
{
	struct rtnl_link *orig = rtnl_link_alloc(), *chg = rtnl_link_alloc();
	int rc = -NLE_NOMEM;
	if (orig && chg) {
		rtnl_link_set_ifindex(orig, ifindex);
		rtnl_link_set_flags(chg, IFF_UP);
		rc = rtnl_link_change(sk, orig, chg, 0);
	}
	if (rc < 0)
		err_set(err, errlen, "set %s up: %s", what, nl_geterror(rc));
	rtnl_link_put(orig);
	rtnl_link_put(chg);
	return rc < 0 ? -1 : 0;
}

static int addr_add(struct nl_sock *sk, int ifindex, uint32_t ip, int plen, const char *what,
                    char *err, size_t errlen)
{
	uint32_t be = htonl(ip);
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = nl_addr_build(AF_INET, &be, sizeof(be));
	int rc = -NLE_NOMEM;
	if (a && local) {
		nl_addr_set_prefixlen(local, plen);
		rtnl_addr_set_ifindex(a, ifindex);
		rtnl_addr_set_local(a, local);
		rc = rtnl_addr_add(sk, a, 0);
	}
	if (rc < 0) {
		char ipbuf[16];
		addr_ip_str(ip, ipbuf);
		err_set(err, errlen, "add address %s/%d to %s: %s", ipbuf, plen, what,
		        nl_geterror(rc));
	}
	nl_addr_put(local);
	rtnl_addr_put(a);
	return rc < 0 ? -1 : 0;
}

/* One RTM_NEWLINK creates both ends: the hub end (name, master) here and
 * the host end already inside the host namespace, up, with its fixed
 * ifindex and MAC. libnl's veth object cannot place the peer in another
 * namespace, so the request is built with libnl's message API.
 *
 * The host end gets gso_max_segs 1, so the host's TCP builds one segment
 * per packet and every frame that meets the link model is one wire frame:
 * netem and the switch each draw loss once per packet they see, and a
 * 64 KB GSO frame would lose or keep its 44 segments together. Capping the
 * segments at creation is one attribute of the request already sent; the
 * ethtool route (GSO and TSO off) needs an ioctl per host from inside its
 * namespace, and segmenting in the switch would leave the netem backend
 * drawing per GSO frame. A veth does no GRO unless asked, so the hub end
 * passes the frames on as sent. UDP_SEGMENT senders still build GSO
 * packets, which eth0 splits only after its qdiscs (the switch sees wire
 * frames, netem one packet); the peer does not use UDP_SEGMENT. */
static int veth_add(struct nl_sock *sk, const char *hubif, int master, int host_fd, uint32_t host)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	/* The host end comes up later, from its namespace: the kernel refuses to
	 * open a veth end before its peer is linked (ENOTCONN). */
	struct ifinfomsg peer_ifi = {.ifi_family = AF_UNSPEC, .ifi_index = TESTBED_HOST_IFINDEX};
	uint8_t mac[6];
	addr_host_mac(host, mac);
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	if (!msg)
		return -NLE_NOMEM;
	struct nlattr *info, *data, *peer;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, IFLA_IFNAME, hubif) < 0 ||
	    nla_put_u32(msg, IFLA_TXQLEN, 1000) < 0 ||
	    (master > 0 && nla_put_u32(msg, IFLA_MASTER, (uint32_t)master) < 0) ||
	    !(info = nla_nest_start(msg, IFLA_LINKINFO)) ||
	    nla_put_string(msg, IFLA_INFO_KIND, "veth") < 0 ||
	    !(data = nla_nest_start(msg, IFLA_INFO_DATA)) ||
	    !(peer = nla_nest_start(msg, VETH_INFO_PEER)) ||
	    nlmsg_append(msg, &peer_ifi, sizeof(peer_ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, IFLA_IFNAME, "eth0") < 0 ||
	    nla_put(msg, IFLA_ADDRESS, 6, mac) < 0 || nla_put_u32(msg, IFLA_GSO_MAX_SEGS, 1) < 0 ||
	    nla_put_u32(msg, IFLA_NET_NS_FD, (uint32_t)host_fd) < 0) {
		nlmsg_free(msg);
		return -NLE_NOMEM;
	}
	nla_nest_end(msg, peer);
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	return nl_send_sync(sk, msg);
}

/* Host i's fresh namespace with lo up, its fd and a netlink socket inside
 * it. Called with the thread in the hub namespace; returns there. */
static int host_ns_open(struct testbed *tb, uint32_t i, int hub_fd, int *host_fd,
                        struct nl_sock **sk, char *err, size_t errlen)
{
	int rc = -1;
	if (ns_create_enter(tb->ns[i], err, errlen))
		goto out;
	tb->made[i] = 1;
	*host_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*host_fd < 0) {
		err_set(err, errlen, "open namespace fd: %s", strerror(errno));
		goto out;
	}
	if (!(*sk = nl_open(tb->ns[i], err, errlen)) || link_set_up(*sk, 1, "lo", err, errlen))
		goto out;
	rc = 0;
out:
	if (setns(hub_fd, CLONE_NEWNET) && !rc)
		rc = err_set(err, errlen, "return to hub namespace: %s", strerror(errno));
	return rc;
}

/* Host i's veth eth0 <-> p<i>, the hub end created (through hub_sk)
 * directly in the hub, and eth0's address (through sk, in the host). */
static int host_link(uint32_t i, struct nl_sock *hub_sk, int master, int host_fd,
                     struct nl_sock *sk, char *err, size_t errlen)
{
	char hubif[IFNAMSIZ];
	snprintf(hubif, sizeof(hubif), "p%u", i);
	int nrc = veth_add(hub_sk, hubif, master, host_fd, i);
	if (nrc < 0)
		return err_set(err, errlen, "create veth eth0<->%s: %s", hubif, nl_geterror(nrc));
	if (link_set_up(sk, TESTBED_HOST_IFINDEX, "eth0", err, errlen))
		return -1;
	return addr_add(sk, TESTBED_HOST_IFINDEX, addr_host_ip(i), ADDR_PREFIX_LEN, "eth0", err,
	                errlen);
}

/* Build host i. Called with the thread in the hub namespace; returns there. */
static int host_create(struct testbed *tb, uint32_t i, struct nl_sock *hub_sk, int hub_fd,
                       int master, char *err, size_t errlen)
{
	char e[256] = "";
	struct nl_sock *sk = NULL;
	int host_fd = -1;
	int rc = host_ns_open(tb, i, hub_fd, &host_fd, &sk, e, sizeof(e));
	if (rc == 0)
		rc = host_link(i, hub_sk, master, host_fd, sk, e, sizeof(e));
	if (sk)
		nl_socket_free(sk);
	if (host_fd >= 0)
		close(host_fd);
	if (rc)
		err_set(err, errlen, "host %u (%s): %s", i, tb->ns[i], e);
	return rc;
}

/* Hosts are built by one worker per CPU (at most WORKERS): namespace
 * creation runs in parallel in the kernel, and each worker keeps its own
 * netlink socket in the hub and its own thread-local namespace. */
#define WORKERS 4

struct worker {
	struct testbed *tb;
	uint32_t first, step;
	int hub_fd, master;
	struct nl_sock *hub_sk; /* worker 0 uses the caller's */
	volatile int *failed;
	char err[384];
	int rc;
};

static void *create_worker(void *arg)
{
	struct worker *w = arg;
	struct nl_sock *sk = w->hub_sk;
	if (setns(w->hub_fd, CLONE_NEWNET)) {
		err_set(w->err, sizeof(w->err), "worker enters the hub: %s", strerror(errno));
		w->rc = -1;
		*w->failed = 1;
		return NULL;
	}
	if (!sk && !(sk = nl_open("hub", w->err, sizeof(w->err)))) {
		w->rc = -1;
		*w->failed = 1;
		return NULL;
	}
	for (uint32_t i = w->first; i < w->tb->n && !*w->failed; i += w->step) {
		if (host_create(w->tb, i, sk, w->hub_fd, w->master, w->err, sizeof(w->err))) {
			w->rc = -1;
			*w->failed = 1;
		}
	}
	if (sk != w->hub_sk)
		nl_socket_free(sk);
	return NULL;
}

static int create_hosts(struct testbed *tb, struct nl_sock *hub_sk, int hub_fd, int master,
                        char *err, size_t errlen)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t nw = cpus > 1 ? (uint32_t)(cpus < WORKERS ? cpus : WORKERS) : 1;
	if (nw > tb->n)
		nw = tb->n;
	volatile int failed = 0;
	struct worker w[WORKERS];
	pthread_t th[WORKERS];
	int started[WORKERS] = {0};
	for (uint32_t k = 0; k < nw; k++) {
		w[k] = (struct worker){.tb = tb,
		                       .first = k,
		                       .step = nw,
		                       .hub_fd = hub_fd,
		                       .master = master,
		                       .hub_sk = k == 0 ? hub_sk : NULL,
		                       .failed = &failed};
		if (k > 0)
			started[k] = pthread_create(&th[k], NULL, create_worker, &w[k]) == 0;
	}
	/* Worker 0 runs on this thread: the caller is in the hub already. */
	create_worker(&w[0]);
	int rc = w[0].rc;
	const char *why = w[0].err;
	for (uint32_t k = 1; k < nw; k++) {
		if (!started[k]) {
			/* Its share was never built: do it here. */
			w[k].hub_sk = hub_sk;
			create_worker(&w[k]);
		} else {
			pthread_join(th[k], NULL);
		}
		if (w[k].rc && !rc) {
			rc = w[k].rc;
			why = w[k].err;
		}
	}
	if (rc)
		err_set(err, errlen, "%s", why);
	return rc;
}

static int name_ok(const char *s)
{
	if (!*s || strlen(s) > 40)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_'))
			return 0;
	return 1;
}

/* Hundreds of hosts mean hundreds of descriptors in the harness and in the
 * switch; raise the soft limit to the hard one. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Every namespace's neighbour (ARP) entries count against one kernel-wide
 * table whose limits only the initial namespace sets: with the defaults
 * (gc_thresh3 1024) a few dozen chatty hosts fill it and later hosts can no
 * longer resolve anyone. Raise the limits to what n hosts need; they stay
 * raised, since another run may be using them. */
static void raise_neigh_limits(uint32_t n)
{
	static const char *const knob[] = {"/proc/sys/net/ipv4/neigh/default/gc_thresh1",
	                                   "/proc/sys/net/ipv4/neigh/default/gc_thresh2",
	                                   "/proc/sys/net/ipv4/neigh/default/gc_thresh3"};
	/* A peer talks to at most a hundred or so others (partners, mesh,
	 * probes, paths, pulls). */
	uint64_t want[] = {32ull * n, 64ull * n, 128ull * n};
	for (size_t i = 0; i < ARRAY_LEN(knob); i++) {
		FILE *f = fopen(knob[i], "r+e");
		unsigned long long cur = 0;
		if (!f)
			continue;
		if (fscanf(f, "%llu", &cur) == 1 && cur < want[i]) {
			rewind(f);
			fprintf(f, "%llu\n", (unsigned long long)want[i]);
		}
		fclose(f);
	}
}

static int config_check(const struct testbed_config *cfg, char *err, size_t errlen)
{
	if (strncmp(cfg->prefix, TESTBED_PREFIX, strlen(TESTBED_PREFIX)) ||
	    strlen(cfg->prefix) >= sizeof(((struct testbed *)0)->prefix))
		return err_set(err, errlen, "testbed prefix '%s' must start with '%s' and be short",
		               cfg->prefix, TESTBED_PREFIX);
	if (cfg->nhosts == 0 || cfg->nhosts > TESTBED_MAX_HOSTS)
		return err_set(err, errlen, "testbed host count %u is outside 1..%u", cfg->nhosts,
		               TESTBED_MAX_HOSTS);
	if (geteuid() != 0)
		return err_set(err, errlen,
		               "creating network namespaces needs root (running as uid %u)",
		               (unsigned)geteuid());
	return 0;
}

/* Names, host table and link model: everything before the first namespace. */
static int testbed_init(struct testbed *tb, const struct testbed_config *cfg, char *err,
                        size_t errlen)
{
	tb->n = cfg->nhosts;
	if (!(tb->ns = calloc(tb->n, sizeof(*tb->ns))) ||
	    !(tb->made = calloc(tb->n, sizeof(*tb->made))))
		return err_set(err, errlen, "allocate testbed of %u hosts: out of memory", tb->n);
	snprintf(tb->prefix, sizeof(tb->prefix), "%s", cfg->prefix);
	if (cfg->log_path)
		snprintf(tb->log_path, sizeof(tb->log_path), "%s", cfg->log_path);
	for (uint32_t i = 0; i < tb->n; i++) {
		const char *nm = cfg->names ? cfg->names[i] : NULL;
		if (nm && !name_ok(nm))
			return err_set(err, errlen, "host %u: name '%s' must be 1-40 of [a-z0-9_-]",
			               i, nm);
		if (nm)
			snprintf(tb->ns[i], sizeof(tb->ns[i]), "%s-%s", tb->prefix, nm);
		else
			snprintf(tb->ns[i], sizeof(tb->ns[i]), "%s-h%u", tb->prefix, i);
	}
	snprintf(tb->hub, sizeof(tb->hub), "%s-hub", tb->prefix);

	/* The model sits in shared memory so a forked switch sees live changes. */
	tb->model_len = linkmodel_size(tb->n);
	void *mem =
	    mmap(NULL, tb->model_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return err_set(err, errlen, "map link model for %u hosts: %s", tb->n,
		               strerror(errno));
	tb->model = linkmodel_init(mem, tb->n);
	return 0;
}

/* The hub, then every host. The calling thread enters the namespaces it
 * builds and always ends back in its own. */
static int build_network(struct testbed *tb, char *err, size_t errlen)
{
	int orig_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig_fd < 0)
		return err_set(err, errlen, "open own network namespace: %s", strerror(errno));
	int hub_fd = -1, master = 0, rc = -1;
	struct nl_sock *hub_sk = NULL;
	if (prepare_run_dir(err, errlen) || ns_create_enter(tb->hub, err, errlen))
		goto out;
	tb->hub_made = 1;
	hub_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (hub_fd < 0) {
		err_set(err, errlen, "open hub namespace fd: %s", strerror(errno));
		goto out;
	}
	if (!(hub_sk = nl_open(tb->hub, err, errlen)) ||
	    link_set_up(hub_sk, 1, "hub lo", err, errlen) ||
	    backend_prepare_hub(&tb->be, hub_sk, &master, err, errlen) ||
	    create_hosts(tb, hub_sk, hub_fd, master, err, errlen))
		goto out;
	rc = 0;
out:
	if (setns(orig_fd, CLONE_NEWNET) && !rc)
		rc = err_set(err, errlen, "return to the original namespace: %s", strerror(errno));
	if (hub_sk)
		nl_socket_free(hub_sk);
	if (hub_fd >= 0)
		close(hub_fd);
	close(orig_fd);
	return rc;
}

int testbed_create(const struct testbed_config *cfg, struct testbed **out, char *err, size_t errlen)
{
	*out = NULL;
	struct backend be;
	if (config_check(cfg, err, errlen) || backend_select(cfg->backend, &be, err, errlen))
		return -1;
	struct testbed *tb = calloc(1, sizeof(*tb));
	if (!tb)
		return err_set(err, errlen, "allocate testbed of %u hosts: out of memory",
		               cfg->nhosts);
	tb->be = be;
	char e[384] = "";
	int rc = testbed_init(tb, cfg, err, errlen);
	if (rc == 0) {
		raise_nofile();
		raise_neigh_limits(tb->n);
		rc = build_network(tb, e, sizeof(e));
		if (rc == 0)
			rc = backend_start(&tb->be, tb, e, sizeof(e));
		if (rc)
			err_set(err, errlen, "testbed %s (%s backend): %s", tb->prefix,
			        testbed_backend_name(be.kind), e);
	}
	if (rc)
		testbed_destroy(tb);
	else
		*out = tb;
	return rc;
}

int testbed_stats(struct testbed *tb, char *buf, size_t len)
{
	return backend_stats(&tb->be, buf, len);
}

int testbed_apply(struct testbed *tb, char *err, size_t errlen)
{
	tb->model->generation++;
	return backend_apply(&tb->be, tb, err, errlen);
}

/* Each unmount waits for an RCU grace period; several threads let those
 * waits overlap instead of adding up. */
#define REMOVERS 8

struct remover {
	struct testbed *tb;
	uint32_t first, step;
};

static void *remove_worker(void *arg)
{
	struct remover *r = arg;
	for (uint32_t i = r->first; i < r->tb->n; i += r->step)
		if (r->tb->made[i])
			ns_remove(r->tb->ns[i]);
	return NULL;
}

static void remove_hosts(struct testbed *tb)
{
	if (!tb->made)
		return;
	struct remover r[REMOVERS];
	pthread_t th[REMOVERS];
	int started[REMOVERS] = {0};
	uint32_t nr = tb->n < REMOVERS ? tb->n : REMOVERS;
	for (uint32_t k = 0; k < nr; k++) {
		r[k] = (struct remover){tb, k, nr};
		if (k > 0)
			started[k] = pthread_create(&th[k], NULL, remove_worker, &r[k]) == 0;
	}
	remove_worker(&r[0]);
	for (uint32_t k = 1; k < nr; k++) {
		if (started[k])
			pthread_join(th[k], NULL);
		else
			remove_worker(&r[k]);
	}
}

void testbed_destroy(struct testbed *tb)
{
	if (!tb)
		return;
	backend_stop(&tb->be);
	char(*paths)[160] = calloc(tb->n + 1, sizeof(*paths));
	uint32_t k = 0;
	if (paths && tb->made) {
		for (uint32_t i = 0; i < tb->n; i++)
			if (tb->made[i])
				ns_path(paths[k++], sizeof(paths[0]), tb->ns[i]);
		kill_ns_procs(paths, k);
	}
	free(paths);
	remove_hosts(tb);
	if (tb->hub_made)
		ns_remove(tb->hub);
	if (tb->model)
		munmap(tb->model, tb->model_len);
	free(tb->ns);
	free(tb->made);
	free(tb);
}

static int cmp_ino(const void *a, const void *b)
{
	ino_t x = *(const ino_t *)a, y = *(const ino_t *)b;
	return x < y ? -1 : x > y;
}

/* Kill every process living in one of the namespaces bound at paths: one
 * pass over /proc whatever the number of namespaces. */
static void kill_ns_procs(char (*paths)[160], size_t n)
{
	ino_t *inos = calloc(n ? n : 1, sizeof(*inos));
	size_t k = 0;
	struct stat st;
	dev_t dev = 0;
	for (size_t i = 0; inos && i < n; i++) {
		if (stat(paths[i], &st) == 0) {
			inos[k++] = st.st_ino;
			dev = st.st_dev;
		}
	}
	DIR *d = k ? opendir("/proc") : NULL;
	if (d) {
		qsort(inos, k, sizeof(*inos), cmp_ino);
		struct dirent *de;
		char p[64];
		while ((de = readdir(d))) {
			char *end;
			long pid = strtol(de->d_name, &end, 10);
			if (*end || pid <= 1 || pid == getpid())
				continue;
			snprintf(p, sizeof(p), "/proc/%ld/ns/net", pid);
			if (stat(p, &st) == 0 && st.st_dev == dev &&
			    bsearch(&st.st_ino, inos, k, sizeof(*inos), cmp_ino))
				kill((pid_t)pid, SIGKILL);
		}
		closedir(d);
	}
	free(inos);
}

/* A run's namespaces are named TESTBED_PREFIX<pid in hex>-...: is the
 * harness of that pid still running? */
static int owner_alive(const char *name)
{
	const char *p = name + strlen(TESTBED_PREFIX);
	char *end;
	unsigned long pid = strtoul(p, &end, 16);
	if (end == p || *end != '-' || pid == 0 || pid > INT32_MAX)
		return 0;
	char path[64], comm[32] = "";
	snprintf(path, sizeof(path), "/proc/%lu/comm", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	int ok = fgets(comm, sizeof(comm), f) != NULL;
	fclose(f);
	return ok && !strncmp(comm, "anysee-harness", 14);
}

int testbed_clean(const char *prefix, int force, int *kept, char *err, size_t errlen)
{
	*kept = 0;
	if (!prefix)
		prefix = TESTBED_PREFIX;
	if (strncmp(prefix, TESTBED_PREFIX, strlen(TESTBED_PREFIX)))
		return err_set(err, errlen, "refusing to clean namespaces not starting with '%s'",
		               TESTBED_PREFIX);
	DIR *d = opendir(NETNS_RUN_DIR);
	if (!d)
		return errno == ENOENT
		           ? 0
		           : (err_set(err, errlen, "open %s: %s", NETNS_RUN_DIR, strerror(errno)),
		              -1);
	char(*paths)[160] = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		if (!force && owner_alive(de->d_name)) {
			++*kept;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			void *np = realloc(paths, cap * sizeof(*paths));
			if (!np)
				break;
			paths = np;
		}
		ns_path(paths[n++], sizeof(paths[0]), de->d_name);
	}
	kill_ns_procs(paths, n);
	int removed = 0;
	for (size_t i = 0; i < n; i++) {
		umount2(paths[i], MNT_DETACH);
		if (unlink(paths[i]) == 0)
			removed++;
	}
	free(paths);
	closedir(d);
	return removed;
}

const char *testbed_log_path(const struct testbed *tb)
{
	return *tb->log_path ? tb->log_path : NULL;
}
