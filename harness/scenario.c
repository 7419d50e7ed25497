#include "harness/scenario.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/rundir.h"
#include "lib/util.h"
#include "peer/config.h"

#define MAX_HOSTS 4096
#define MAX_EVENTS 200000
/* Any time a scenario gives (a start, a duration, a period): a week. */
#define TIME_MAX_S (7 * 86400.0)
/* Longest file read_file() returns. */
#define READ_FILE_MAX (16u << 20)

/* Registry key of the hooks a running callback acts through. */
static const char hooks_key;

static struct scenario *get_s(lua_State *L)
{
	return *(struct scenario **)lua_getextraspace(L);
}

/* file:line of the innermost scenario-file frame, skipping the built-in
 * prelude (churn{}, trace{}), so errors point at the user's line. */
static void where(lua_State *L, char *buf, size_t len)
{
	lua_Debug ar;
	for (int level = 0; lua_getstack(L, level, &ar); level++) {
		if (lua_getinfo(L, "Sl", &ar) && ar.source[0] == '@' && ar.currentline > 0) {
			snprintf(buf, len, "%s:%d", ar.source + 1, ar.currentline);
			return;
		}
	}
	snprintf(buf, len, "?");
}

/* luaL_error with the scenario file's position. */
static int serr(lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int serr(lua_State *L, const char *fmt, ...)
{
	char pos[200], msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	where(L, pos, sizeof(pos));
	lua_pushfstring(L, "%s: %s", pos, msg);
	return lua_error(L);
}

/* Reject keys a declaration does not know: a typo must not pass silently. */
static void check_fields(lua_State *L, int idx, const char *what, const char *const *allowed)
{
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			serr(L, "%s{}: field names must be strings", what);
		const char *k = lua_tostring(L, -1);
		int ok = 0;
		for (const char *const *a = allowed; *a; a++)
			ok |= strcmp(*a, k) == 0;
		if (!ok) {
			char list[512] = "";
			for (const char *const *a = allowed; *a; a++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				         a == allowed ? "" : ", ", *a);
			serr(L, "%s{}: unknown field '%s' (known: %s)", what, k, list);
		}
	}
}

static int field(lua_State *L, int idx, const char *k)
{
	lua_getfield(L, idx, k);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return 0;
	}
	return 1;
}

static void get_str(lua_State *L, int idx, const char *what, const char *k, char *out, size_t len,
                    const char *def)
{
	if (!field(L, idx, k)) {
		snprintf(out, len, "%s", def);
		return;
	}
	if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
		serr(L, "%s{}: field '%s' must be a string", what, k);
	const char *v = lua_tostring(L, -1);
	if (strlen(v) >= len)
		serr(L, "%s{}: field '%s' is longer than %d characters", what, k, (int)len - 1);
	snprintf(out, len, "%s", v);
	lua_pop(L, 1);
}

/* Seconds in [0, max_s] from a number or a string such as "500ms" or
 * "2min". */
static double to_seconds_max(lua_State *L, int idx, const char *what, const char *k, double max_s)
{
	double v;
	uint64_t us;
	if (lua_type(L, idx) == LUA_TNUMBER) {
		v = lua_tonumber(L, idx);
		if (!isfinite(v) || v < 0)
			serr(L, "%s: %s must be a non-negative time, got %g", what, k, v);
	} else if (lua_type(L, idx) == LUA_TSTRING && !parse_duration(lua_tostring(L, idx), &us)) {
		v = (double)us / 1e6;
	} else {
		serr(L, "%s: %s must be a time such as 10, \"10s\" or \"250ms\", got '%s'", what, k,
		     luaL_tolstring(L, idx, NULL));
		return 0;
	}
	if (v > max_s)
		serr(L, "%s: %s is %g s, more than the most allowed, %g s", what, k, v, max_s);
	return v;
}

static double to_seconds(lua_State *L, int idx, const char *what, const char *k)
{
	return to_seconds_max(L, idx, what, k, TIME_MAX_S);
}

static double get_time_max(lua_State *L, int idx, const char *what, const char *k, double def,
                           double max_s)
{
	if (!field(L, idx, k))
		return def;
	double v = to_seconds_max(L, -1, what, k, max_s);
	lua_pop(L, 1);
	return v;
}

static double get_time(lua_State *L, int idx, const char *what, const char *k, double def)
{
	return get_time_max(L, idx, what, k, def, TIME_MAX_S);
}

static uint64_t get_rate(lua_State *L, int idx, const char *what, const char *k, uint64_t def)
{
	if (!field(L, idx, k))
		return def;
	uint64_t bps;
	const char *v = lua_tostring(L, -1);
	if (!v || parse_rate(v, &bps) || bps == 0)
		serr(L, "%s{}: %s must be a positive rate such as \"300kbit\", got '%s'", what, k,
		     v ? v : luaL_typename(L, -1));
	lua_pop(L, 1);
	return bps;
}

static double get_prob(lua_State *L, int idx, const char *what, const char *k, double def)
{
	if (!field(L, idx, k))
		return def;
	int isnum;
	double v = lua_tonumberx(L, -1, &isnum);
	if (!isnum || !(v >= 0 && v <= 1))
		serr(L, "%s{}: %s must be a probability in [0, 1]", what, k);
	lua_pop(L, 1);
	return v;
}

static const char *const access_fields[] = {"up", "down", "delay", "jitter", "loss", "queue", NULL};

static void read_access(lua_State *L, int idx, const char *what, struct link_access *a,
                        uint32_t *delay_us)
{
	check_fields(L, idx, what, access_fields);
	a->up_bps = get_rate(L, idx, what, "up", a->up_bps);
	a->down_bps = get_rate(L, idx, what, "down", a->down_bps);
	const double max_s = LINK_DELAY_MAX_US / 1e6;
	if (delay_us)
		*delay_us = (uint32_t)llround(
		    get_time_max(L, idx, what, "delay", *delay_us / 1e6, max_s) * 1e6);
	a->jitter_us = (uint32_t)llround(
	    get_time_max(L, idx, what, "jitter", a->jitter_us / 1e6, max_s) * 1e6);
	a->loss = get_prob(L, idx, what, "loss", a->loss);
	if (field(L, idx, "queue")) {
		lua_Integer q = lua_tointeger(L, -1);
		if (q <= 0 || q > (1 << 30))
			serr(L, "%s{}: queue must be a byte count in 1..2^30", what);
		a->queue_bytes = (uint32_t)q;
		lua_pop(L, 1);
	}
}

int scenario_resolve(const struct scenario *s, const char *file, char *out, size_t len)
{
	const char *slash = strrchr(s->path, '/');
	int n;
	if (file[0] == '/' || !slash)
		n = snprintf(out, len, "%s", file);
	else
		n = snprintf(out, len, "%.*s/%s", (int)(slash - s->path), s->path, file);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Resolve field k's path in place (beside the scenario unless absolute) and
 * check that it names a readable regular file. */
static void check_file(lua_State *L, const char *what, const char *k, char *file, size_t len)
{
	char path[1024];
	struct stat st;
	if (scenario_resolve(get_s(L), file, path, sizeof(path)) || strlen(path) >= len)
		serr(L, "%s{}: %s '%s' makes a path longer than %zu characters", what, k, file,
		     len - 1);
	if (stat(path, &st))
		serr(L, "%s{}: %s '%s': %s", what, k, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		serr(L, "%s{}: %s '%s' is not a regular file", what, k, path);
	if (access(path, R_OK))
		serr(L, "%s{}: %s '%s': %s", what, k, path, strerror(errno));
	snprintf(file, len, "%s", path);
}

/* read_file(path): the text of a file beside the scenario (or at an
 * absolute path), the one way a sandboxed scenario reads data. */
static int l_read_file(lua_State *L)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s", luaL_checkstring(L, 1));
	check_file(L, "read_file", "path", path, sizeof(path));
	FILE *f = fopen(path, "re");
	if (!f)
		serr(L, "read_file: %s: %s", path, strerror(errno));
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	size_t total = 0, n;
	char chunk[4096];
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && total <= READ_FILE_MAX) {
		luaL_addlstring(&b, chunk, n);
		total += n;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad)
		serr(L, "read_file: %s: read error", path);
	if (total > READ_FILE_MAX)
		serr(L, "read_file: %s is larger than %u MiB", path, READ_FILE_MAX >> 20);
	luaL_pushresult(&b);
	return 1;
}

/* waxman{}, ba{}, gml{}, matrix{}: a topology description network{} takes. */
static int topo_decl(lua_State *L, enum topo_kind kind, const char *what, const char *const *fields)
{
	check_fields(L, 1, what, fields);
	struct topo_spec *t = lua_newuserdatauv(L, sizeof(*t), 0);
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	where(L, t->where, sizeof(t->where));
	if (kind == TOPO_GEN_WAXMAN || kind == TOPO_GEN_BA) {
		lua_Integer r = field(L, 1, "routers") ? lua_tointeger(L, -1) : 1000;
		if (r < 2 || r > 100000)
			serr(L, "%s{}: routers must be an integer in 2..100000", what);
		t->routers = (uint32_t)r;
		t->degree = field(L, 1, "degree") ? lua_tonumber(L, -1) : 4;
		if (!(t->degree >= 2 && t->degree <= 64))
			serr(L, "%s{}: degree must be in 2..64", what);
		t->alpha = field(L, 1, "alpha") ? lua_tonumber(L, -1) : 0.15;
		t->beta = field(L, 1, "beta") ? lua_tonumber(L, -1) : 0.2;
		if (!(t->alpha > 0 && t->alpha <= 1 && t->beta > 0 && t->beta <= 1))
			serr(L, "%s{}: alpha and beta must be in (0, 1]", what);
		lua_settop(L, 2);
	} else {
		get_str(L, 1, what, "file", t->file, sizeof(t->file), "");
		if (!*t->file)
			serr(L, "%s{}: file = \"path\" is required", what);
		check_file(L, what, "file", t->file, sizeof(t->file));
	}
	luaL_setmetatable(L, "anysee.topology");
	return 1;
}

static int l_waxman(lua_State *L)
{
	static const char *const f[] = {"routers", "degree", "alpha", "beta", NULL};
	return topo_decl(L, TOPO_GEN_WAXMAN, "waxman", f);
}

static int l_ba(lua_State *L)
{
	static const char *const f[] = {"routers", "degree", NULL};
	return topo_decl(L, TOPO_GEN_BA, "ba", f);
}

static int l_gml(lua_State *L)
{
	static const char *const f[] = {"file", NULL};
	return topo_decl(L, TOPO_FILE_GML, "gml", f);
}

static int l_matrix(lua_State *L)
{
	static const char *const f[] = {"file", NULL};
	return topo_decl(L, TOPO_FILE_MATRIX, "matrix", f);
}

static int l_network(lua_State *L)
{
	struct scenario *s = get_s(L);
	static const char *const f[] = {"backend", "access", "topology", "attach", NULL};
	check_fields(L, 1, "network", f);
	if (s->nh)
		serr(L, "network{} must come before any host is declared");
	char b[32];
	get_str(L, 1, "network", "backend", b, sizeof(b), testbed_backend_name(s->backend));
	if (testbed_backend_parse(b, &s->backend))
		luaL_error(
		    L, "network{}: backend must be auto, netem, userspace or bridge, got '%s'", b);
	if (field(L, 1, "access")) {
		read_access(L, lua_gettop(L), "network.access", &s->access, &s->access_delay_us);
		lua_pop(L, 1);
	}
	if (field(L, 1, "topology")) {
		const struct topo_spec *t = luaL_testudata(L, -1, "anysee.topology");
		if (!t)
			luaL_error(L,
			           "network{}: topology must be waxman{}, ba{}, gml{} or matrix{}");
		s->topo = *t;
		lua_pop(L, 1);
	}
	char attach[16];
	get_str(L, 1, "network", "attach", attach, sizeof(attach), "uniform");
	if (strcmp(attach, "uniform") && strcmp(attach, "stub"))
		serr(L, "network{}: attach must be \"uniform\" or \"stub\", got '%s'", attach);
	s->topo.stub = !strcmp(attach, "stub");
	return 0;
}

static void push_handle(lua_State *L, int idx)
{
	struct scenario *s = get_s(L);
	lua_createtable(L, 0, 3);
	lua_pushinteger(L, idx);
	lua_setfield(L, -2, "index");
	lua_pushstring(L, s->h[idx].name);
	lua_setfield(L, -2, "name");
	char ip[16];
	addr_ip_str(addr_host_ip((uint32_t)idx), ip);
	lua_pushstring(L, ip);
	lua_setfield(L, -2, "ip");
	luaL_setmetatable(L, "anysee.host");
}

static int handle_index(lua_State *L, int arg)
{
	struct scenario *s = get_s(L);
	if (lua_type(L, arg) != LUA_TTABLE || !lua_getmetatable(L, arg))
		luaL_argerror(L, arg, "expected a host returned by peer{}, source{}, ...");
	luaL_getmetatable(L, "anysee.host");
	int same = lua_rawequal(L, -1, -2);
	lua_pop(L, 2);
	if (!same)
		luaL_argerror(L, arg, "expected a host returned by peer{}, source{}, ...");
	lua_getfield(L, arg, "index");
	int i = (int)lua_tointeger(L, -1);
	lua_pop(L, 1);
	if (i < 0 || i >= s->nh)
		luaL_argerror(L, arg, "unknown host");
	return i;
}

static void add_event(lua_State *L, double t, enum event_kind kind, int host, int ref,
                      double period)
{
	struct scenario *s = get_s(L);
	if (s->nsched == MAX_EVENTS)
		serr(L, "more than %d scheduled events", MAX_EVENTS);
	if (s->nsched % 256 == 0) {
		struct sched_event *n = realloc(s->sched, (size_t)(s->nsched + 256) * sizeof(*n));
		if (!n)
			serr(L, "out of memory");
		s->sched = n;
	}
	s->sched[s->nsched++] = (struct sched_event){t, kind, host, ref, period, s->next_order++};
}

/* A blank host at the end of the list, with the network's access link; it
 * counts once declare() is through with it. */
static struct host_decl *new_host(lua_State *L, enum host_role role, const char *what)
{
	struct scenario *s = get_s(L);
	if (s->ran)
		serr(L, "%s{}: hosts must be declared before run{}", what);
	if (s->nh == MAX_HOSTS)
		serr(L, "%s{}: more than %d hosts", what, MAX_HOSTS);
	if (s->nh % 64 == 0) {
		struct host_decl *n = realloc(s->h, (size_t)(s->nh + 64) * sizeof(*n));
		if (!n)
			serr(L, "out of memory");
		s->h = n;
	}
	struct host_decl *h = &s->h[s->nh];
	memset(h, 0, sizeof(*h));
	h->role = role;
	h->access = s->access;
	where(L, h->where, sizeof(h->where));
	return h;
}

/* Host names become namespace and directory names: the hub's namespace and
 * the run directory's own entries are taken. */
static const char *const reserved_names[] = {"hub", "plots", NULL};

static void read_name(lua_State *L, struct host_decl *h, const char *what)
{
	struct scenario *s = get_s(L);
	char defname[32], e[160];
	snprintf(defname, sizeof(defname), "%s%d", scenario_role_name(h->role), s->nh);
	get_str(L, 1, what, "name", h->name, sizeof(h->name), defname);
	if (rundir_name_check("host name", h->name, sizeof(h->name) - 1, e, sizeof(e)))
		serr(L, "%s{}: %s", what, e);
	for (const char *const *r = reserved_names; *r; r++)
		if (!strcmp(h->name, *r))
			serr(L, "%s{}: host name '%s' is reserved", what, h->name);
	for (int i = 0; i < s->nh; i++)
		if (strcmp(s->h[i].name, h->name) == 0)
			serr(L, "%s{}: host name '%s' is already used at %s", what, h->name,
			     s->h[i].where);
}

static void read_times(lua_State *L, struct host_decl *h, const char *what)
{
	h->start_s = get_time(L, 1, what, "at", 0);
	h->leave_s =
	    field(L, 1, "leave_at") ? (lua_pop(L, 1), get_time(L, 1, what, "leave_at", 0)) : -1;
	h->crash_s =
	    field(L, 1, "crash_at") ? (lua_pop(L, 1), get_time(L, 1, what, "crash_at", 0)) : -1;
	if (h->crash_s >= 0 && h->crash_s < h->start_s)
		serr(L, "%s{}: crash_at (%g) is before at (%g)", what, h->crash_s, h->start_s);
	if (h->leave_s >= 0 && h->leave_s < h->start_s)
		serr(L, "%s{}: leave_at (%g) is before at (%g)", what, h->leave_s, h->start_s);
}

/* Options the harness sets itself, from the run or a declaration's fields. */
static const char *const harness_opts[] = {
    "config", "id",    "listen", "rp",     "monitor", "seed",    "log-dir", "stream",
    "rate",   "watch", "mode",   "ingest", "buffer",  "startup", "upload",  NULL};

/* A value the peer takes as --k, checked by the peer's own option table
 * for the host's role, so a typo or a bad value fails here with file:line
 * and not in a peer's stderr after the network is up. */
static void check_peer_opt(lua_State *L, const struct host_decl *h, const char *what, const char *k,
                           const char *v)
{
	static const enum role roles[] = {[HOST_RP] = ROLE_RP,
	                                  [HOST_SOURCE] = ROLE_SOURCE,
	                                  [HOST_PEER] = ROLE_PEER,
	                                  [HOST_MONITOR] = ROLE_MONITOR,
	                                  [HOST_ATTACKER] = ROLE_ATTACK};
	struct config c;
	char e[256];
	config_defaults(&c, roles[h->role]);
	if (config_set(&c, k, v, e, sizeof(e)))
		serr(L, "%s{}: %s", what, e);
}

static void check_arg(lua_State *L, const struct host_decl *h, const char *what, const char *k,
                      const char *v)
{
	for (const char *const *o = harness_opts; *o; o++)
		if (!strcmp(k, *o))
			serr(L,
			     "%s{}: args: '%s' is set by the harness (from the run or the "
			     "declaration's own fields)",
			     what, k);
	check_peer_opt(L, h, what, k, v);
}

static void read_source(lua_State *L, struct host_decl *h, const char *what)
{
	struct scenario *s = get_s(L);
	char e[160];
	get_str(L, 1, what, "stream", h->stream, sizeof(h->stream), "");
	if (!*h->stream)
		serr(L, "source{}: stream = \"name\" is required");
	if (rundir_name_check("stream name", h->stream, sizeof(h->stream) - 1, e, sizeof(e)))
		serr(L, "source{}: %s", e);
	uint64_t r = get_rate(L, 1, what, "rate", 300000);
	snprintf(h->rate, sizeof(h->rate), "%llu", (unsigned long long)r);
	check_peer_opt(L, h, what, "rate", h->rate);
	get_str(L, 1, what, "ingest", h->ingest, sizeof(h->ingest), "synthetic");
	if (strcmp(h->ingest, "synthetic"))
		check_file(L, what, "ingest", h->ingest, sizeof(h->ingest));
	for (int i = 0; i < s->nh; i++)
		if (s->h[i].role == HOST_SOURCE && !strcmp(s->h[i].stream, h->stream))
			serr(L, "source{}: stream '%s' already has a source at %s", h->stream,
			     s->h[i].where);
}

static void read_peer(lua_State *L, struct host_decl *h, const char *what)
{
	get_str(L, 1, what, "watch", h->stream, sizeof(h->stream), "");
	if (!*h->stream)
		serr(L, "peer{}: watch = \"stream\" is required");
	get_str(L, 1, what, "mode", h->mode, sizeof(h->mode), "anysee");
	check_peer_opt(L, h, what, "mode", h->mode);
	uint64_t us;
	get_str(L, 1, what, "buffer", h->buffer, sizeof(h->buffer), "");
	if (*h->buffer && (parse_duration(h->buffer, &us) || !us))
		serr(L, "peer{}: buffer must be a time such as \"40s\"");
	get_str(L, 1, what, "startup", h->startup, sizeof(h->startup), "");
	if (*h->startup && parse_duration(h->startup, &us))
		serr(L, "peer{}: startup must be a time such as \"2s\"");
}

/* args = { name = value }: "--name", "value" pairs for the peer. */
static void read_args(lua_State *L, struct host_decl *h, const char *what)
{
	if (!field(L, 1, "args"))
		return;
	int t = lua_gettop(L);
	luaL_checktype(L, t, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, t)) {
		if (lua_type(L, -2) != LUA_TSTRING ||
		    (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER))
			serr(L, "%s{}: args must map option names to values", what);
		check_arg(L, h, what, lua_tostring(L, -2), lua_tostring(L, -1));
		char **n = realloc(h->args, (size_t)(h->nargs + 2) * sizeof(*n));
		if (!n)
			serr(L, "out of memory");
		h->args = n;
		size_t kl = strlen(lua_tostring(L, -2)) + 3;
		h->args[h->nargs] = malloc(kl);
		h->args[h->nargs + 1] = strdup(lua_tostring(L, -1));
		if (h->args[h->nargs])
			snprintf(h->args[h->nargs], kl, "--%s", lua_tostring(L, -2));
		h->nargs += 2;
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

static void read_attacker(lua_State *L, struct host_decl *h, const char *what)
{
	get_str(L, 1, what, "kind", h->kind, sizeof(h->kind), "");
	if (!*h->kind)
		serr(L, "attacker{}: kind = \"...\" is required (anysee attack --help lists them)");
	check_peer_opt(L, h, what, "kind", h->kind);
	if (!field(L, 1, "target"))
		serr(L, "attacker{}: target = a host declared before is required");
	h->target = handle_index(L, lua_gettop(L));
	lua_pop(L, 1);
	get_str(L, 1, what, "watch", h->stream, sizeof(h->stream), "");
	if (!*h->stream && get_s(L)->h[h->target].role != HOST_RP)
		snprintf(h->stream, sizeof(h->stream), "%s", get_s(L)->h[h->target].stream);
	if (!*h->stream)
		serr(L, "attacker{}: watch = \"stream\" is required when the target has none");
	h->pps = 50;
	if (field(L, 1, "pps")) {
		lua_Integer v = lua_tointeger(L, -1);
		if (v < 1 || v > 100000)
			serr(L, "attacker{}: pps must be an integer in 1..100000");
		h->pps = (long)v;
		lua_pop(L, 1);
	}
}

static int declare(lua_State *L, enum host_role role, const char *what, const char *const *fields)
{
	struct scenario *s = get_s(L);
	if (lua_isnoneornil(L, 1))
		lua_newtable(L);
	check_fields(L, 1, what, fields);
	struct host_decl *h = new_host(L, role, what);
	read_name(L, h, what);
	read_times(L, h, what);
	if (role == HOST_SOURCE)
		read_source(L, h, what);
	if (role == HOST_PEER)
		read_peer(L, h, what);
	if (role == HOST_ATTACKER)
		read_attacker(L, h, what);
	if (field(L, 1, "access")) {
		read_access(L, lua_gettop(L), "access", &h->access, NULL);
		lua_pop(L, 1);
	}
	read_args(L, h, what);
	int idx = s->nh++;
	add_event(L, h->start_s, EV_START, idx, LUA_NOREF, 0);
	if (h->leave_s >= 0)
		add_event(L, h->leave_s, EV_LEAVE, idx, LUA_NOREF, 0);
	if (h->crash_s >= 0)
		add_event(L, h->crash_s, EV_CRASH, idx, LUA_NOREF, 0);
	push_handle(L, idx);
	return 1;
}

#define HOST_FIELDS(...)                                                                           \
	{                                                                                          \
		"name", "at", "leave_at", "crash_at", "access", "args", __VA_ARGS__ NULL           \
	}

static int l_rendezvous(lua_State *L)
{
	static const char *const f[] = HOST_FIELDS();
	for (int i = 0; i < get_s(L)->nh; i++)
		if (get_s(L)->h[i].role == HOST_RP)
			serr(L, "rendezvous(): only one rendezvous point per scenario");
	return declare(L, HOST_RP, "rendezvous", f);
}

static int l_source(lua_State *L)
{
	static const char *const f[] = HOST_FIELDS("stream", "rate", "ingest", );
	return declare(L, HOST_SOURCE, "source", f);
}

static int l_peer(lua_State *L)
{
	static const char *const f[] = HOST_FIELDS("watch", "mode", "buffer", "startup", );
	return declare(L, HOST_PEER, "peer", f);
}

static int l_monitor(lua_State *L)
{
	static const char *const f[] = HOST_FIELDS();
	return declare(L, HOST_MONITOR, "monitor", f);
}

static int l_attacker(lua_State *L)
{
	static const char *const f[] = HOST_FIELDS("kind", "target", "watch", "pps", );
	return declare(L, HOST_ATTACKER, "attacker", f);
}

static int l_at(lua_State *L)
{
	double t = to_seconds(L, 1, "at()", "time");
	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_pushvalue(L, 2);
	int ref = luaL_ref(L, LUA_REGISTRYINDEX);
	add_event(L, t, EV_CALL, -1, ref, 0);
	return 0;
}

static int l_every(lua_State *L)
{
	double dt = to_seconds(L, 1, "every()", "period");
	if (dt < 0.001)
		serr(L, "every(): period must be at least 1 ms");
	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_pushvalue(L, 2);
	int ref = luaL_ref(L, LUA_REGISTRYINDEX);
	add_event(L, dt, EV_EVERY, -1, ref, dt);
	return 0;
}

static int l_param(lua_State *L)
{
	struct scenario *s = get_s(L);
	const char *name = luaL_checkstring(L, 1);
	for (int i = 0; i < s->nparams; i++) {
		if (strcmp(s->params[i].name, name))
			continue;
		s->params[i].used = 1;
		if (lua_type(L, 2) == LUA_TNUMBER) {
			double v;
			if (parse_decimal(s->params[i].value, &v))
				serr(L, "param '%s': --set value '%s' is not a decimal number",
				     name, s->params[i].value);
			/* A whole number is a Lua integer, as the literal would be:
			 * "tv" .. 4 names tv4, never tv4.0. */
			if (v == floor(v) && fabs(v) < 9007199254740992.0)
				lua_pushinteger(L, (lua_Integer)v);
			else
				lua_pushnumber(L, v);
		} else {
			lua_pushstring(L, s->params[i].value);
		}
		return 1;
	}
	lua_settop(L, 2);
	return 1;
}

static int l_run(lua_State *L)
{
	struct scenario *s = get_s(L);
	static const char *const f[] = {"duration", "capture", "snaplen", "capture_max", NULL};
	check_fields(L, 1, "run", f);
	if (s->ran)
		serr(L, "run{} may be called once");
	if (!field(L, 1, "duration"))
		serr(L, "run{}: duration is required");
	lua_pop(L, 1);
	s->duration = get_time(L, 1, "run", "duration", 0);
	if (s->duration <= 0)
		serr(L, "run{}: duration must be positive");
	if (field(L, 1, "capture")) {
		s->capture = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	if (field(L, 1, "snaplen")) {
		lua_Integer v = lua_tointeger(L, -1);
		if (v < 64 || v > 65535)
			serr(L, "run{}: snaplen must be 64..65535");
		s->snaplen = (int)v;
		lua_pop(L, 1);
	}
	if (field(L, 1, "capture_max")) {
		lua_Integer v = lua_tointeger(L, -1);
		if (v < 4096)
			serr(L, "run{}: capture_max must be a byte count of at least 4096");
		s->capture_max = (uint64_t)v;
		lua_pop(L, 1);
	}
	s->ran = 1;
	return 0;
}

/* The hooks of the scenario_call() under way, NULL outside one. */
static const struct scenario_hooks *get_hooks(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &hooks_key);
	const struct scenario_hooks *h = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return h;
}

static void set_hooks(lua_State *L, const struct scenario_hooks *h)
{
	if (h)
		lua_pushlightuserdata(L, (void *)h);
	else
		lua_pushnil(L);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &hooks_key);
}

static int act(lua_State *L, enum event_kind kind)
{
	const struct scenario_hooks *hk = get_hooks(L);
	int i = handle_index(L, 1);
	if (!hk)
		serr(L, "host actions run only inside at()/every() callbacks");
	char err[256];
	if (hk->host(hk->ctx, i, kind, err, sizeof(err)))
		serr(L, "%s", err);
	return 0;
}

/* Draws from the run's own seeded stream: the same seed gives the same
 * schedule whatever else the scenario does with math.random. */
static double positive(lua_State *L, int arg, const char *what)
{
	double v = luaL_checknumber(L, arg);
	if (!(v > 0) || !isfinite(v))
		serr(L, "%s: argument %d must be a positive number", what, arg);
	return v;
}

static int l_exponential(lua_State *L)
{
	double mean = positive(L, 1, "exponential(mean)");
	lua_pushnumber(L, -mean * log(1.0 - rng_unit(&get_s(L)->rng)));
	return 1;
}

static int l_uniform(lua_State *L)
{
	double a = luaL_checknumber(L, 1), b = luaL_checknumber(L, 2);
	if (!(b >= a))
		serr(L, "uniform(a, b): b must be >= a");
	lua_pushnumber(L, a + (b - a) * rng_unit(&get_s(L)->rng));
	return 1;
}

static int l_normal(lua_State *L)
{
	double mu = luaL_checknumber(L, 1), sd = luaL_checknumber(L, 2);
	if (!(sd >= 0))
		serr(L, "normal(mean, sd): sd must be >= 0");
	struct rng *r = &get_s(L)->rng;
	/* Box-Muller; 1 - u keeps the logarithm finite. */
	double u1 = 1.0 - rng_unit(r), u2 = rng_unit(r);
	lua_pushnumber(L, mu + sd * sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
	return 1;
}

static int l_pareto(lua_State *L)
{
	double xm = positive(L, 1, "pareto(xm, alpha)"), a = positive(L, 2, "pareto(xm, alpha)");
	lua_pushnumber(L, xm / pow(1.0 - rng_unit(&get_s(L)->rng), 1.0 / a));
	return 1;
}

static int m_set_link(lua_State *L)
{
	struct scenario *s = get_s(L);
	const struct scenario_hooks *hk = get_hooks(L);
	int i = handle_index(L, 1);
	if (!hk)
		serr(L, "set_link: link changes run only inside at()/every() callbacks");
	struct link_change c = {.access = s->h[i].access, .delay_us = -1};
	uint32_t d = 0;
	int has_delay = field(L, 2, "delay");
	if (has_delay)
		lua_pop(L, 1);
	read_access(L, 2, "set_link", &c.access, &d);
	if (has_delay)
		c.delay_us = (int64_t)d;
	char err[256];
	if (hk->link(hk->ctx, i, &c, err, sizeof(err)))
		serr(L, "set_link: %s", err);
	s->h[i].access = c.access;
	return 0;
}

/* partition({h1, h2}, {h3}, ...): hosts talk only inside their group;
 * hosts in no group keep label 0. heal() gives everyone label 0. */
static int l_partition(lua_State *L)
{
	struct scenario *s = get_s(L);
	const struct scenario_hooks *hk = get_hooks(L);
	if (!hk)
		serr(L, "partition: runs only inside at()/every() callbacks");
	int groups = lua_gettop(L);
	uint32_t *label = lua_newuserdatauv(L, sizeof(*label) * (size_t)(s->nh + 1), 0);
	memset(label, 0, sizeof(*label) * (size_t)(s->nh + 1));
	for (int g = 1; g <= groups; g++) {
		if (lua_type(L, g) != LUA_TTABLE)
			serr(L, "partition: argument %d must be a list of hosts", g);
		lua_Integer len = luaL_len(L, g);
		for (lua_Integer k = 1; k <= len; k++) {
			lua_geti(L, g, k);
			lua_getfield(L, -1, "index");
			if (lua_type(L, -2) != LUA_TTABLE || !lua_isinteger(L, -1))
				serr(L, "partition: group %d item %d is not a host", g, (int)k);
			int i = (int)lua_tointeger(L, -1);
			lua_pop(L, 2);
			if (i >= 0 && i < s->nh)
				label[i] = (uint32_t)g;
		}
	}
	char err[256];
	if (hk->partition(hk->ctx, label, err, sizeof(err)))
		serr(L, "partition: %s", err);
	return 0;
}

static int l_heal(lua_State *L)
{
	lua_settop(L, 0);
	return l_partition(L);
}

/* h:push_parent(): the host h's push path comes from, or nil (none yet,
 * pull only, or the parent is not running). For experiments that crash a
 * parent on purpose. */
static int m_push_parent(lua_State *L)
{
	const struct scenario_hooks *hk = get_hooks(L);
	int i = handle_index(L, 1);
	if (!hk)
		serr(L, "push_parent: runs only inside at()/every() callbacks");
	int p = hk->push_parent ? hk->push_parent(hk->ctx, i) : -1;
	if (p < 0)
		lua_pushnil(L);
	else
		push_handle(L, p);
	return 1;
}

static int m_start(lua_State *L)
{
	return act(L, EV_START);
}
static int m_leave(lua_State *L)
{
	return act(L, EV_LEAVE);
}
static int m_crash(lua_State *L)
{
	return act(L, EV_CRASH);
}

static int msg_handler(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (!msg)
		msg = luaL_tolstring(L, 1, NULL);
	luaL_traceback(L, L, msg, 1);
	return 1;
}

/* Keep the first line (file:line: message) and the Lua frames of the
 * traceback, in one message. */
static void pcall_error(lua_State *L, char *err, size_t errlen)
{
	err_set(err, errlen, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
	lua_pop(L, 1);
}

static const luaL_Reg api[] = {
    {"network", l_network},
    {"rendezvous", l_rendezvous},
    {"source", l_source},
    {"peer", l_peer},
    {"monitor", l_monitor},
    {"at", l_at},
    {"every", l_every},
    {"param", l_param},
    {"run", l_run},
    {"waxman", l_waxman},
    {"ba", l_ba},
    {"gml", l_gml},
    {"matrix", l_matrix},
    {"exponential", l_exponential},
    {"uniform", l_uniform},
    {"normal", l_normal},
    {"pareto", l_pareto},
    {"partition", l_partition},
    {"heal", l_heal},
    {"read_file", l_read_file},
    {"attacker", l_attacker},
    {NULL, NULL},
};

/* Churn generators written in Lua over the primitives above: they only
 * declare peers with start, leave and crash times drawn from the seed. */
static const char prelude[] =
    "local function check(t, what, known)\n"
    "  if type(t) ~= 'table' then error(what .. '{}: expected a table', 3) end\n"
    "  for k in pairs(t) do\n"
    "    if not known[k] then error(what .. \"{}: unknown field '\" .. tostring(k) .. \"'\", 3) "
    "end\n"
    "  end\n"
    "end\n"
    "local function peer_fields(t, name, at, leave, crash)\n"
    "  return { name = name, watch = t.watch, mode = t.mode, at = at, leave_at = leave,\n"
    "           crash_at = crash, buffer = t.buffer, startup = t.startup, args = t.args,\n"
    "           access = t.access }\n"
    "end\n"
    "function churn(t)\n"
    "  check(t, 'churn', { watch = 1, count = 1, arrivals = 1, rate = 1, start = 1, within = 1,\n"
    "    lifetime = 1, crash = 1, mode = 1, prefix = 1, buffer = 1, startup = 1, args = 1,\n"
    "    access = 1 })\n"
    "  local n = t.count or error('churn{}: count = N is required', 2)\n"
    "  local kind, start = t.arrivals or 'poisson', t.start or 0\n"
    "  if kind == 'poisson' and not t.rate then error('churn{}: poisson arrivals need rate = joins "
    "per second', 2) end\n"
    "  if kind ~= 'poisson' and kind ~= 'flash' then error(\"churn{}: arrivals must be 'poisson' "
    "or 'flash'\", 2) end\n"
    "  local hosts, at = {}, start\n"
    "  for i = 1, n do\n"
    "    if kind == 'poisson' then at = at + exponential(1 / t.rate) else at = start + uniform(0, "
    "t.within or 10) end\n"
    "    local leave, crash\n"
    "    if t.lifetime then\n"
    "      local stop = at + exponential(t.lifetime)\n"
    "      if t.crash and uniform(0, 1) < t.crash then crash = stop else leave = stop end\n"
    "    end\n"
    "    hosts[i] = peer(peer_fields(t, (t.prefix or 'churn') .. i, at, leave, crash))\n"
    "  end\n"
    "  return hosts\n"
    "end\n"
    "function trace(t)\n"
    "  check(t, 'trace', { file = 1, watch = 1, mode = 1, buffer = 1, startup = 1, args = 1, "
    "access = 1 })\n"
    "  local path = t.file or error('trace{}: file = \"path\" is required', 2)\n"
    "  local text = read_file(path)\n"
    "  local first, later, order, n = {}, {}, {}, 0\n"
    "  for line in text:gmatch('([^\\n]*)\\n?') do\n"
    "    n = n + 1\n"
    "    local s = line:gsub('#.*', '')\n"
    "    if s:match('%S') then\n"
    "      local time, what, name = s:match('^%s*([%d.]+)%s+(%a+)%s+([%w-]+)%s*$')\n"
    "      time = tonumber(time)\n"
    "      if not time or (what ~= 'join' and what ~= 'leave' and what ~= 'crash') then\n"
    "        error(path .. ':' .. n .. ': expected \"<seconds> join|leave|crash <name>\"', 2)\n"
    "      end\n"
    "      if not first[name] then\n"
    "        if what ~= 'join' then error(path .. ':' .. n .. ': ' .. name .. ' ' .. "
    "what .. ' before it joins', 2) end\n"
    "        first[name] = time; order[#order + 1] = name; later[name] = {}\n"
    "      else\n"
    "        table.insert(later[name], { time, what })\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  local hosts = {}\n"
    "  for _, name in ipairs(order) do\n"
    "    local h = peer(peer_fields(t, name, first[name]))\n"
    "    hosts[name] = h\n"
    "    for _, ev in ipairs(later[name]) do\n"
    "      local time, what = ev[1], ev[2]\n"
    "      at(time, function() if what == 'join' then h:start() elseif what == 'leave' then "
    "h:leave() else h:crash() end end)\n"
    "    end\n"
    "  end\n"
    "  return hosts\n"
    "end\n";

const char *scenario_role_name(enum host_role r)
{
	static const char *const n[] = {"rp", "source", "peer", "monitor", "attack"};
	return n[r];
}

static int validate_hosts(const struct scenario *s, char *err, size_t errlen)
{
	int rps = 0;
	for (int i = 0; i < s->nh; i++)
		rps += s->h[i].role == HOST_RP;
	for (int i = 0; i < s->nh; i++) {
		const struct host_decl *h = &s->h[i];
		if (h->role != HOST_RP && h->role != HOST_MONITOR && !rps)
			return err_set(err, errlen, "%s: %s needs a rendezvous() in the scenario",
			               h->where, h->name);
		if (h->role != HOST_PEER && h->role != HOST_ATTACKER)
			continue;
		int found = 0;
		for (int j = 0; j < s->nh; j++)
			found |= s->h[j].role == HOST_SOURCE && !strcmp(s->h[j].stream, h->stream);
		if (!found)
			return err_set(err, errlen, "%s: peer %s watches unknown stream '%s'",
			               h->where, h->name, h->stream);
	}
	return 0;
}

static int validate(const struct scenario *s, char *err, size_t errlen)
{
	if (validate_hosts(s, err, errlen))
		return -1;
	for (int i = 0; i < s->nparams; i++)
		if (!s->params[i].used)
			return err_set(err, errlen,
			               "%s: --set %s: the scenario has no param(\"%s\")", s->path,
			               s->params[i].name, s->params[i].name);
	if (!s->ran)
		return err_set(err, errlen, "%s: the scenario never calls run{ duration = ... }",
		               s->path);
	if (!s->nh)
		return err_set(err, errlen, "%s: the scenario declares no host", s->path);
	return 0;
}

static int read_overrides(struct scenario *s, char *const *overrides, int noverrides, char *err,
                          size_t errlen)
{
	s->params = calloc((size_t)noverrides + 1, sizeof(*s->params));
	if (!s->params)
		return err_set(err, errlen, "load %s: out of memory", s->path);
	for (int i = 0; i < noverrides; i++) {
		const char *eq = strchr(overrides[i], '=');
		struct param *p = &s->params[i];
		if (!eq || eq == overrides[i] || (size_t)(eq - overrides[i]) >= sizeof(p->name))
			return err_set(err, errlen, "--set '%s': expected name=value",
			               overrides[i]);
		if (strlen(eq + 1) >= sizeof(p->value))
			return err_set(
			    err, errlen, "--set %.*s: the value is longer than %zu characters",
			    (int)(eq - overrides[i]), overrides[i], sizeof(p->value) - 1);
		snprintf(p->name, sizeof(p->name), "%.*s", (int)(eq - overrides[i]), overrides[i]);
		snprintf(p->value, sizeof(p->value), "%s", eq + 1);
		for (int j = 0; j < i; j++)
			if (!strcmp(s->params[j].name, p->name))
				return err_set(err, errlen,
				               "--set %s is given twice ('%s' and '%s')", p->name,
				               s->params[j].value, p->value);
		s->nparams++;
	}
	return 0;
}

/* Counts VM instructions (every 1000) against SCENARIO_INSN_LIMIT. */
static void insn_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	struct scenario *s = get_s(L);
	s->insns += 1000;
	if (s->insns > SCENARIO_INSN_LIMIT)
		serr(L,
		     "the script ran %llu million Lua instructions without returning (an endless "
		     "loop?)",
		     SCENARIO_INSN_LIMIT / 1000000);
}

/* The libraries of a sandboxed scenario: no io, os, package or debug, and
 * no loading of code from files or binary chunks. */
static void open_sandbox(lua_State *L)
{
	static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},
	                                {LUA_STRLIBNAME, luaopen_string},
	                                {LUA_TABLIBNAME, luaopen_table},
	                                {LUA_MATHLIBNAME, luaopen_math}};
	for (size_t i = 0; i < ARRAY_LEN(libs); i++) {
		luaL_requiref(L, libs[i].name, libs[i].func, 1);
		lua_pop(L, 1);
	}
	static const char *const removed[] = {"dofile", "loadfile", "load"};
	for (size_t i = 0; i < ARRAY_LEN(removed); i++) {
		lua_pushnil(L);
		lua_setglobal(L, removed[i]);
	}
}

/* The API, the host methods, SEED, a seeded math.random and the prelude. */
static int open_state(struct scenario *s, char *err, size_t errlen)
{
	lua_State *L = s->L = luaL_newstate();
	if (!L)
		return err_set(err, errlen, "create Lua state: out of memory");
	*(struct scenario **)lua_getextraspace(L) = s;
	if (s->unsafe_lua)
		luaL_openlibs(L);
	else
		open_sandbox(L);
	lua_sethook(L, insn_hook, LUA_MASKCOUNT, 1000);
	luaL_newmetatable(L, "anysee.topology");
	lua_pop(L, 1);
	luaL_newmetatable(L, "anysee.host");
	static const luaL_Reg methods[] = {{"start", m_start},
	                                   {"leave", m_leave},
	                                   {"crash", m_crash},
	                                   {"set_link", m_set_link},
	                                   {"push_parent", m_push_parent},
	                                   {NULL, NULL}};
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	for (const luaL_Reg *r = api; r->name; r++) {
		lua_pushcfunction(L, r->func);
		lua_setglobal(L, r->name);
	}
	lua_pushinteger(L, (lua_Integer)s->seed);
	lua_setglobal(L, "SEED");
	/* The scenario's own randomness follows the seed too. */
	char seedcall[64];
	snprintf(seedcall, sizeof(seedcall), "math.randomseed(%llu)", (unsigned long long)s->seed);
	if (luaL_dostring(L, seedcall) != LUA_OK)
		lua_pop(L, 1);
	if (luaL_loadbufferx(L, prelude, sizeof(prelude) - 1, "=prelude", "t") != LUA_OK ||
	    lua_pcall(L, 0, 0, 0) != LUA_OK)
		return err_set(err, errlen, "scenario prelude: %s", lua_tostring(L, -1));
	return 0;
}

static int ev_cmp(const void *a, const void *b)
{
	const struct sched_event *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

int scenario_load(struct scenario *s, const char *path, const struct scenario_args *a, char *err,
                  size_t errlen)
{
	uint64_t seed = a->seed;
	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", path);
	const char *base = strrchr(path, '/');
	snprintf(s->name, sizeof(s->name), "%s", base ? base + 1 : path);
	char *dot = strrchr(s->name, '.');
	if (dot)
		*dot = 0;
	s->seed = seed;
	rng_seed(&s->rng, seed ^ 0x5ce4a210u);
	s->snaplen = 128;
	s->capture_max = 1ull << 30;
	s->unsafe_lua = a->unsafe_lua;
	if (read_overrides(s, a->sets, a->nsets, err, errlen) || open_state(s, err, errlen))
		return -1;
	lua_State *L = s->L;
	lua_pushcfunction(L, msg_handler);
	int rc = luaL_loadfile(L, path);
	if (rc == LUA_OK)
		rc = lua_pcall(L, 0, 0, -2);
	if (rc != LUA_OK) {
		pcall_error(L, err, errlen);
		return -1;
	}
	lua_pop(L, 1);
	if (validate(s, err, errlen))
		return -1;
	qsort(s->sched, (size_t)s->nsched, sizeof(*s->sched), ev_cmp);
	return 0;
}

int scenario_call(struct scenario *s, int ref, const struct scenario_hooks *hooks, char *err,
                  size_t errlen)
{
	lua_State *L = s->L;
	s->insns = 0;
	set_hooks(L, hooks);
	lua_pushcfunction(L, msg_handler);
	lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
	int rc = 0;
	if (lua_pcall(L, 0, 0, -2) != LUA_OK) {
		pcall_error(L, err, errlen);
		rc = -1;
	}
	lua_pop(L, 1);
	set_hooks(L, NULL);
	return rc;
}

int scenario_write_schedule(const struct scenario *s, const char *path)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -1;
	static const char *const kinds[] = {"start", "leave", "crash", "call", "every"};
	fprintf(f, "# time_s event host\n");
	for (int i = 0; i < s->nsched; i++) {
		const struct sched_event *e = &s->sched[i];
		if (e->host >= 0)
			fprintf(f, "%.3f %s %s\n", e->t, kinds[e->kind], s->h[e->host].name);
		else if (e->kind == EV_EVERY)
			fprintf(f, "%.3f every %.3f\n", e->t, e->period);
		else
			fprintf(f, "%.3f call\n", e->t);
	}
	return fclose(f);
}

void scenario_free(struct scenario *s)
{
	if (s->L)
		lua_close(s->L);
	for (int i = 0; i < s->nh; i++) {
		for (int j = 0; j < s->h[i].nargs; j++)
			free(s->h[i].args[j]);
		free(s->h[i].args);
	}
	free(s->h);
	free(s->sched);
	free(s->params);
	memset(s, 0, sizeof(*s));
}
