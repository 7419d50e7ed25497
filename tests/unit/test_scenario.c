#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/scenario.h"
#include "lib/util.h"

static char dir[] = "/tmp/anysee-test-scenario-XXXXXX";

static int make_dir(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	(void)state;
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	return rmdir(dir);
}

/* Write name into the temp dir; path receives its full path. */
static void write_file(const char *name, const char *text, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int load(struct scenario *s, const char *path, uint64_t seed, char *const *sets, int nsets,
                char *err, size_t errlen)
{
	struct scenario_args a = {.seed = seed, .sets = sets, .nsets = nsets};
	return scenario_load(s, path, &a, err, errlen);
}

static const char valid[] =
    "-- every kind of declaration\n"
    "network { access = { up = \"10mbit\", down = \"10mbit\", delay = \"10ms\", loss = 0.01 } }\n"
    "rendezvous { name = \"rp\" }\n"
    "source { name = \"src\", stream = \"tv1\", rate = \"500kbit\" }\n"
    "peer { name = \"late\", watch = \"tv1\", at = \"5s\", leave_at = 20,\n"
    "       mode = \"coolstreaming\" }\n"
    "peer { name = \"early\", watch = \"tv1\", at = 2, buffer = \"30s\",\n"
    "       access = { up = \"1mbit\" } }\n"
    "monitor { name = \"mon\" }\n"
    "at(3, function() end)\n"
    "every(\"500ms\", function() end)\n"
    "peer { name = param(\"pname\", \"p3\"), watch = \"tv1\", at = param(\"t3\", 1) }\n"
    "peer { name = \"s\" .. SEED, watch = \"tv1\", at = 4 }\n"
    "peer { name = \"n\" .. param(\"k\", 1), watch = \"tv1\", at = 4 }\n"
    "run { duration = param(\"duration\", 60) }\n";

static int host(const struct scenario *s, const char *name)
{
	for (int i = 0; i < s->nh; i++)
		if (!strcmp(s->h[i].name, name))
			return i;
	fail_msg("no host '%s'", name);
	return -1;
}

/* Event i is kind at t, for host (NULL for callbacks). */
static void assert_event(const struct scenario *s, int i, double t, enum event_kind kind,
                         const char *name)
{
	assert_true(i < s->nsched);
	const struct sched_event *e = &s->sched[i];
	if (e->t != t || e->kind != kind || (name ? e->host != host(s, name) : e->host >= 0))
		fail_msg("event %d is (%g, %d, %s), want (%g, %d, %s)", i, e->t, e->kind,
		         e->host >= 0 ? s->h[e->host].name : "-", t, kind, name ? name : "-");
}

static void test_valid(void **state)
{
	(void)state;
	char path[256], err[1024] = "", where[300];
	struct scenario s;
	write_file("valid.lua", valid, path, sizeof(path));
	if (load(&s, path, 42, NULL, 0, err, sizeof(err)))
		fail_msg("load: %s", err);

	assert_string_equal(s.name, "valid");
	assert_int_equal(s.seed, 42);
	assert_true(s.duration == 60);
	assert_int_equal(s.access_delay_us, 10000);
	assert_int_equal(s.access.up_bps, 10000000);
	assert_true(s.access.loss == 0.01);

	assert_int_equal(s.nh, 8);
	const struct host_decl *h = &s.h[host(&s, "rp")];
	assert_int_equal(h->role, HOST_RP);
	snprintf(where, sizeof(where), "%s:3", path);
	assert_string_equal(h->where, where);

	h = &s.h[host(&s, "src")];
	assert_int_equal(h->role, HOST_SOURCE);
	assert_string_equal(h->stream, "tv1");
	assert_string_equal(h->rate, "500000");
	assert_string_equal(h->ingest, "synthetic");

	h = &s.h[host(&s, "late")];
	assert_int_equal(h->role, HOST_PEER);
	assert_string_equal(h->stream, "tv1");
	assert_string_equal(h->mode, "coolstreaming");
	assert_true(h->start_s == 5 && h->leave_s == 20);

	h = &s.h[host(&s, "early")];
	assert_string_equal(h->mode, "anysee");
	assert_string_equal(h->buffer, "30s");
	assert_true(h->start_s == 2 && h->leave_s < 0);
	/* Its own up link, the network's down link. */
	assert_int_equal(h->access.up_bps, 1000000);
	assert_int_equal(h->access.down_bps, 10000000);

	assert_int_equal(s.h[host(&s, "mon")].role, HOST_MONITOR);
	assert_true(s.h[host(&s, "p3")].start_s == 1);
	/* SEED is the --seed the scenario was loaded with. */
	assert_true(s.h[host(&s, "s42")].start_s == 4);

	/* Sorted by time; ties (the three at 0) in declaration order. */
	assert_int_equal(s.nsched, 11);
	assert_event(&s, 0, 0, EV_START, "rp");
	assert_event(&s, 1, 0, EV_START, "src");
	assert_event(&s, 2, 0, EV_START, "mon");
	assert_event(&s, 3, 0.5, EV_EVERY, NULL);
	assert_true(s.sched[3].period == 0.5);
	assert_event(&s, 4, 1, EV_START, "p3");
	assert_event(&s, 5, 2, EV_START, "early");
	assert_event(&s, 6, 3, EV_CALL, NULL);
	assert_event(&s, 7, 4, EV_START, "s42");
	assert_event(&s, 8, 4, EV_START, "n1");
	assert_event(&s, 9, 5, EV_START, "late");
	assert_event(&s, 10, 20, EV_LEAVE, "late");

	assert_int_equal(scenario_call(&s, s.sched[6].ref, NULL, err, sizeof(err)), 0);
	scenario_free(&s);
}

static void test_set_overrides(void **state)
{
	(void)state;
	char path[256], err[1024] = "";
	struct scenario s;
	write_file("valid.lua", valid, path, sizeof(path));
	char *sets[] = {"t3=2", "pname=zed", "duration=30", "k=2"};
	if (load(&s, path, 7, sets, 4, err, sizeof(err)))
		fail_msg("load: %s", err);

	assert_true(s.duration == 30);
	assert_int_equal(s.nh, 8);
	host(&s, "zed");
	host(&s, "s7");
	/* A whole number from --set is an integer, as its literal: n2, not n2.0. */
	host(&s, "n2");
	/* zed now starts with early, after it in declaration order. */
	assert_event(&s, 4, 2, EV_START, "early");
	assert_event(&s, 5, 2, EV_START, "zed");
	assert_event(&s, 6, 3, EV_CALL, NULL);
	scenario_free(&s);
}

/* Loading fails with an error that starts with the file (and line, when
 * line > 0; neither when line < 0) and contains what. */
static void load_fails(const char *text, char *const *sets, int nsets, int line, const char *what)
{
	char path[256], err[1024] = "", want[300];
	struct scenario s;
	write_file("bad.lua", text, path, sizeof(path));
	int rc = load(&s, path, 1, sets, nsets, err, sizeof(err));
	scenario_free(&s);
	if (rc == 0)
		fail_msg("loaded, expected an error with '%s'", what);
	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d:", path, line);
	else if (line == 0)
		snprintf(want, sizeof(want), "%s:", path);
	else
		want[0] = 0; /* a command-line error: no file position */
	if (strncmp(err, want, strlen(want)) || !strstr(err, what))
		fail_msg("error '%s', want '%s' ... '%s'", err, want, what);
}

#define HEAD "rendezvous {}\nsource { stream = \"tv1\" }\n"

static void test_lua_syntax_error(void **state)
{
	(void)state;
	load_fails(HEAD "peer { watch = \"tv1\", at = }\nrun { duration = 10 }\n", NULL, 0, 3,
	           "unexpected symbol");
	load_fails(HEAD "error(\"boom\")\nrun { duration = 10 }\n", NULL, 0, 3, "boom");
}

static void test_unknown_field(void **state)
{
	(void)state;
	load_fails(HEAD "peer { watch = \"tv1\", wach = \"tv1\" }\nrun { duration = 10 }\n", NULL,
	           0, 3, "unknown field 'wach'");
	load_fails(HEAD "run { duration = 10, capture = true, snap = 1 }\n", NULL, 0, 3,
	           "unknown field 'snap'");
}

static void test_bad_rate(void **state)
{
	(void)state;
	load_fails("rendezvous {}\nsource { stream = \"tv1\", rate = \"-300kbit\" }\n"
	           "run { duration = 10 }\n",
	           NULL, 0, 2, "rate must be a positive rate");
	load_fails("rendezvous {}\nsource { stream = \"tv1\", rate = \"fast\" }\n"
	           "run { duration = 10 }\n",
	           NULL, 0, 2, "'fast'");
	load_fails("rendezvous {}\nsource { stream = \"tv1\", rate = 0 }\nrun { duration = 10 }\n",
	           NULL, 0, 2, "rate");
	load_fails("network { access = { up = \"-1mbit\" } }\n" HEAD "run { duration = 10 }\n",
	           NULL, 0, 1, "up must be a positive rate");
}

static void test_unknown_stream(void **state)
{
	(void)state;
	load_fails(HEAD "peer { name = \"ok\", watch = \"tv1\" }\n"
	                "peer { name = \"lost\", watch = \"tv2\" }\nrun { duration = 10 }\n",
	           NULL, 0, 4, "lost watches unknown stream 'tv2'");
}

static void test_duplicates(void **state)
{
	(void)state;
	char path[256], want[300];
	snprintf(path, sizeof(path), "%s/bad.lua", dir);
	snprintf(want, sizeof(want), "'a' is already used at %s:3", path);
	load_fails(HEAD "peer { name = \"a\", watch = \"tv1\" }\n"
	                "monitor { name = \"a\" }\nrun { duration = 10 }\n",
	           NULL, 0, 4, want);
	snprintf(want, sizeof(want), "stream 'tv1' already has a source at %s:2", path);
	load_fails(HEAD "source { name = \"backup\", stream = \"tv1\" }\nrun { duration = 10 }\n",
	           NULL, 0, 3, want);
}

static void test_run_required(void **state)
{
	(void)state;
	load_fails(HEAD "peer { watch = \"tv1\" }\n", NULL, 0, 0, "never calls run");
	load_fails(HEAD "run { capture = true }\n", NULL, 0, 3, "duration is required");
	load_fails(HEAD "run { duration = 0 }\n", NULL, 0, 3, "duration must be positive");
	load_fails(HEAD "run { duration = 10 }\nrun { duration = 10 }\n", NULL, 0, 4, "once");
}

static void test_set_checks(void **state)
{
	(void)state;
	static const char text[] = HEAD "run { duration = param(\"duration\", 10) }\n";
	char *typo[] = {"duraton=5"};
	load_fails(text, typo, 1, 0, "--set duraton: the scenario has no param(\"duraton\")");
	char *nan[] = {"duration=soon"};
	load_fails(text, nan, 1, 3, "'soon' is not a decimal number");
	char *hex[] = {"duration=0x10"};
	load_fails(text, hex, 1, 3, "'0x10' is not a decimal number");
	char *notanumber[] = {"duration=nan"};
	load_fails(text, notanumber, 1, 3, "'nan' is not a decimal number");
	char *twice[] = {"duration=5", "duration=6"};
	load_fails(text, twice, 2, -1, "--set duration is given twice ('5' and '6')");
	char longval[300] = "duration=";
	memset(longval + 9, '1', 280);
	char *toolong[] = {longval};
	load_fails(text, toolong, 1, -1, "longer than 255 characters");

	char path[256], err[512] = "";
	struct scenario s;
	write_file("set.lua", text, path, sizeof(path));
	char *malformed[] = {"duration"};
	assert_int_equal(load(&s, path, 1, malformed, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "expected name=value"));
	scenario_free(&s);
}

static void test_bad_declarations(void **state)
{
	(void)state;
	load_fails(HEAD "peer { watch = \"tv1\", mode = \"bittorrent\" }\nrun { duration = 10 }\n",
	           NULL, 0, 3, "'bittorrent' is not anysee, anysee-intra or coolstreaming");
	load_fails(HEAD "peer { watch = \"tv1\", at = 10, leave_at = 5 }\nrun { duration = 10 }\n",
	           NULL, 0, 3, "leave_at (5");
	load_fails(HEAD "peer { watch = \"tv1\", at = -1 }\nrun { duration = 10 }\n", NULL, 0, 3,
	           "non-negative time");
	load_fails(HEAD
	           "peer { watch = \"tv1\", access = { loss = 1.5 } }\nrun { duration = 10 }\n",
	           NULL, 0, 3, "loss must be a probability in [0, 1]");
	load_fails("network { access = { loss = -0.1 } }\n" HEAD "run { duration = 10 }\n", NULL, 0,
	           1, "loss must be a probability in [0, 1]");
	load_fails("source { stream = \"tv1\" }\nrun { duration = 10 }\n", NULL, 0, 1,
	           "needs a rendezvous()");
}

static void test_missing_file(void **state)
{
	(void)state;
	char path[256], err[512] = "";
	struct scenario s;
	snprintf(path, sizeof(path), "%s/absent.lua", dir);
	assert_int_equal(load(&s, path, 1, NULL, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	scenario_free(&s);
}

static const char randomized[] = "rendezvous {}\n"
                                 "source { stream = \"tv1\" }\n"
                                 "for i = 1, 20 do\n"
                                 "  local t = math.random() * 100\n"
                                 "  peer { name = \"p\" .. i, watch = \"tv1\", at = t,\n"
                                 "         leave_at = t + math.random(1, 50) }\n"
                                 "end\n"
                                 "run { duration = 200 }\n";

/* The schedule file of path loaded with seed. */
static void schedule(const char *path, uint64_t seed, char *out, size_t len)
{
	char err[1024] = "", sched[300];
	struct scenario s;
	if (load(&s, path, seed, NULL, 0, err, sizeof(err)))
		fail_msg("load: %s", err);
	snprintf(sched, sizeof(sched), "%s/schedule.txt", dir);
	assert_int_equal(scenario_write_schedule(&s, sched), 0);
	scenario_free(&s);
	FILE *f = fopen(sched, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, len - 1, f);
	assert_true(n < len - 1);
	out[n] = 0;
	fclose(f);
}

static void test_deterministic(void **state)
{
	(void)state;
	static char a[8192], b[8192];
	char path[256];

	write_file("valid.lua", valid, path, sizeof(path));
	schedule(path, 5, a, sizeof(a));
	schedule(path, 5, b, sizeof(b));
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "20.000 leave late\n"));

	write_file("random.lua", randomized, path, sizeof(path));
	schedule(path, 1, a, sizeof(a));
	schedule(path, 1, b, sizeof(b));
	assert_string_equal(a, b);
	/* The header, rendezvous and source, then 20 starts and 20 leaves. */
	int lines = 0;
	for (const char *p = a; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 43);
	schedule(path, 2, b, sizeof(b));
	assert_string_not_equal(a, b);
}

/* What the hooks saw: host actions, the last link change, the last labels. */
struct seen {
	int host[8];
	enum event_kind kind[8];
	int nactions;
	int link_host;
	struct link_change link;
	uint32_t label[8];
	int partitions;
};

static int seen_host(void *ctx, int host, enum event_kind kind, char *err, size_t errlen)
{
	struct seen *v = ctx;
	if (v->nactions == 8)
		return err_set(err, errlen, "too many actions");
	v->host[v->nactions] = host;
	v->kind[v->nactions++] = kind;
	return 0;
}

static int seen_link(void *ctx, int host, const struct link_change *c, char *err, size_t errlen)
{
	struct seen *v = ctx;
	v->link_host = host;
	v->link = *c;
	return 0;
}

static int seen_partition(void *ctx, const uint32_t *label, char *err, size_t errlen)
{
	struct seen *v = ctx;
	memcpy(v->label, label, 4 * sizeof(*label)); /* the four hosts of acting.lua */
	v->partitions++;
	return 0;
}

/* a (host 2) receives its push from b (host 3); b from no one. */
static int seen_parent(void *ctx, int host)
{
	return host == 2 ? 3 : -1;
}

static int refuse_host(void *ctx, int host, enum event_kind kind, char *err, size_t errlen)
{
	return err_set(err, errlen, "no such luck");
}

static const char acting[] =
    "network { access = { up = \"10mbit\", delay = \"10ms\" } }\n"
    "rendezvous { name = \"rp\" }\n"
    "source { name = \"src\", stream = \"tv1\" }\n"
    "local a = peer { name = \"a\", watch = \"tv1\", access = { down = \"2mbit\" } }\n"
    "local b = peer { name = \"b\", watch = \"tv1\" }\n"
    "at(1, function() a:leave(); b:crash(); a:start() end)\n"
    "at(2, function() b:set_link { up = \"1mbit\", delay = \"40ms\" } end)\n"
    "at(3, function() partition({ a }, { b }) end)\n"
    "at(4, function() a:set_link { loss = 0.5 } end)\n"
    "at(5, function() local p = a:push_parent(); if p then p:crash() end\n"
    "  if b:push_parent() then a:crash() end end)\n"
    "run { duration = 10 }\n";

/* The ref of the index-th at() callback in firing order. */
static int call_ref(const struct scenario *s, int index)
{
	for (int i = 0; i < s->nsched; i++)
		if (s->sched[i].kind == EV_CALL && index-- == 0)
			return s->sched[i].ref;
	fail_msg("no callback %d", index);
	return -1;
}

static void test_hooks(void **state)
{
	(void)state;
	char path[256], err[1024] = "";
	struct scenario s;
	write_file("acting.lua", acting, path, sizeof(path));
	if (load(&s, path, 1, NULL, 0, err, sizeof(err)))
		fail_msg("load: %s", err);
	struct seen v = {0};
	const struct scenario_hooks hooks = {&v, seen_host, seen_link, seen_partition, seen_parent};
	int a = host(&s, "a"), b = host(&s, "b");

	assert_int_equal(scenario_call(&s, call_ref(&s, 0), &hooks, err, sizeof(err)), 0);
	assert_int_equal(v.nactions, 3);
	assert_true(v.host[0] == a && v.kind[0] == EV_LEAVE);
	assert_true(v.host[1] == b && v.kind[1] == EV_CRASH);
	assert_true(v.host[2] == a && v.kind[2] == EV_START);

	/* A new delay, and the link as declared with the fields given changed. */
	assert_int_equal(scenario_call(&s, call_ref(&s, 1), &hooks, err, sizeof(err)), 0);
	assert_int_equal(v.link_host, b);
	assert_int_equal(v.link.delay_us, 40000);
	assert_int_equal(v.link.access.up_bps, 1000000);
	assert_int_equal(v.link.access.down_bps, 0);

	assert_int_equal(scenario_call(&s, call_ref(&s, 2), &hooks, err, sizeof(err)), 0);
	assert_int_equal(v.partitions, 1);
	assert_int_equal(v.label[a], 1);
	assert_int_equal(v.label[b], 2);
	assert_int_equal(v.label[host(&s, "rp")], 0);

	/* No delay given: the access delay stays; a's own down link is kept. */
	assert_int_equal(scenario_call(&s, call_ref(&s, 3), &hooks, err, sizeof(err)), 0);
	assert_int_equal(v.link_host, a);
	assert_true(v.link.delay_us < 0);
	assert_true(v.link.access.loss == 0.5);
	assert_int_equal(v.link.access.up_bps, 10000000);
	assert_int_equal(v.link.access.down_bps, 2000000);

	/* a's push parent is b, which is crashed; b has none, so a stays. */
	assert_true(a == 2 && b == 3);
	v.nactions = 0;
	assert_int_equal(scenario_call(&s, call_ref(&s, 4), &hooks, err, sizeof(err)), 0);
	assert_int_equal(v.nactions, 1);
	assert_true(v.host[0] == b && v.kind[0] == EV_CRASH);

	/* Hooks last one call: without them, acting is an error with file:line. */
	assert_int_equal(scenario_call(&s, call_ref(&s, 0), NULL, err, sizeof(err)), -1);
	char want[300];
	snprintf(want, sizeof(want), "%s:6:", path);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "only inside at()/every() callbacks"));

	/* A hook's error reaches the caller with the scenario's line. */
	const struct scenario_hooks refusing = {&v, refuse_host, seen_link, seen_partition,
	                                        seen_parent};
	assert_int_equal(scenario_call(&s, call_ref(&s, 0), &refusing, err, sizeof(err)), -1);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "no such luck"));
	scenario_free(&s);
}

static void test_names(void **state)
{
	(void)state;
	static const struct {
		const char *decl, *what;
	} bad[] = {
	    {"peer { name = \"\", watch = \"tv1\" }", "must be 1 to 31 characters"},
	    {"peer { name = \"hub\", watch = \"tv1\" }", "host name 'hub' is reserved"},
	    {"peer { name = \"plots\", watch = \"tv1\" }", "is reserved"},
	    {"peer { name = \"a b\", watch = \"tv1\" }", "may use only a-z, 0-9 and '-'"},
	    {"peer { name = \"a\\nb\", watch = \"tv1\" }", "may use only"},
	    {"peer { name = \"a\\\"b\", watch = \"tv1\" }", "may use only"},
	    {"peer { name = \"Up\", watch = \"tv1\" }", "may use only"},
	    {"peer { name = \"-x\", watch = \"tv1\" }", "must not start with '-'"},
	    {"peer { name = string.rep(\"a\", 32), watch = \"tv1\" }", "longer than 31"},
	    {"source { stream = \"tv 2\" }", "stream name 'tv 2' may use only"},
	    {"source { stream = \"tv/2\" }", "stream name 'tv/2' may use only"},
	};
	char text[512];
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		snprintf(text, sizeof(text), HEAD "%s\nrun { duration = 10 }\n", bad[i].decl);
		load_fails(text, NULL, 0, 3, bad[i].what);
	}
}

static void test_args_checked(void **state)
{
	(void)state;
	static const struct {
		const char *args, *what;
	} bad[] = {
	    {"{ partnrs = 3 }", "unknown option 'partnrs'"},
	    {"{ partners = 0 }", "partners"},
	    {"{ listen = \"10.0.0.1:7000\" }", "'listen' is set by the harness"},
	    {"{ [\"log-dir\"] = \"/etc\" }", "'log-dir' is set by the harness"},
	    {"{ config = \"/etc/passwd\" }", "'config' is set by the harness"},
	    {"{ stream = \"tv9\" }", "'stream' is set by the harness"},
	    {"{ [\"debug-forward-drop\"] = \"nan\" }", "debug-forward-drop"},
	};
	char text[512];
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		snprintf(text, sizeof(text),
		         HEAD "peer { watch = \"tv1\", args = %s }\n"
		              "run { duration = 10 }\n",
		         bad[i].args);
		load_fails(text, NULL, 0, 3, bad[i].what);
	}
	char path[256], err[1024] = "";
	struct scenario s;
	write_file("args.lua",
	           HEAD "peer { name = \"p\", watch = \"tv1\", args = { partners = 3 } }\n"
	                "run { duration = 10 }\n",
	           path, sizeof(path));
	if (load(&s, path, 1, NULL, 0, err, sizeof(err)))
		fail_msg("load: %s", err);
	const struct host_decl *h = &s.h[host(&s, "p")];
	assert_int_equal(h->nargs, 2);
	assert_string_equal(h->args[0], "--partners");
	assert_string_equal(h->args[1], "3");
	scenario_free(&s);
}

static void test_number_ranges(void **state)
{
	(void)state;
	load_fails("network { access = { delay = \"5000s\" } }\n" HEAD "run { duration = 10 }\n",
	           NULL, 0, 1, "delay is 5000 s, more than the most allowed, 10 s");
	load_fails(HEAD
	           "peer { watch = \"tv1\", access = { jitter = 11 } }\nrun { duration = 10 }\n",
	           NULL, 0, 3, "jitter is 11 s");
	load_fails(HEAD "run { duration = 1e300 }\n", NULL, 0, 3, "duration is 1e+300 s");
	load_fails(HEAD "run { duration = 0/0 }\n", NULL, 0, 3, "non-negative time");
	load_fails(HEAD "peer { watch = \"tv1\", at = \"1e9s\" }\nrun { duration = 10 }\n", NULL, 0,
	           3, "more than the most allowed");
	load_fails(HEAD "every(\"0x10\", function() end)\nrun { duration = 10 }\n", NULL, 0, 3,
	           "must be a time such as");
}

/* A file beside the scenario, by a relative name. */
static void test_files(void **state)
{
	(void)state;
	char path[256], data[256], err[1024] = "";
	struct scenario s;
	write_file("data.txt", "12 34\n", data, sizeof(data));
	write_file("files.lua",
	           HEAD "local t = read_file(\"data.txt\")\n"
	                "local a, b = t:match(\"(%d+) (%d+)\")\n"
	                "peer { name = \"p\", watch = \"tv1\", at = tonumber(a) }\n"
	                "local topo = matrix { file = \"data.txt\" } -- resolved beside it\n"
	                "run { duration = tonumber(b) }\n",
	           path, sizeof(path));
	if (load(&s, path, 1, NULL, 0, err, sizeof(err)))
		fail_msg("load: %s", err);
	assert_true(s.h[host(&s, "p")].start_s == 12 && s.duration == 34);
	scenario_free(&s);

	load_fails(HEAD "read_file(\"absent.txt\")\nrun { duration = 10 }\n", NULL, 0, 3,
	           "absent.txt");
	load_fails(HEAD "read_file(\".\")\nrun { duration = 10 }\n", NULL, 0, 3,
	           "is not a regular file");
	load_fails("network { topology = gml { file = \"absent.gml\" } }\n" HEAD
	           "run { duration = 10 }\n",
	           NULL, 0, 1, "absent.gml");
	load_fails(HEAD
	           "source { stream = \"tv2\", ingest = \"absent.ts\" }\nrun { duration = 10 }\n",
	           NULL, 0, 3, "absent.ts");
}

static void test_sandbox(void **state)
{
	(void)state;
	load_fails(HEAD "os.execute(\"true\")\nrun { duration = 10 }\n", NULL, 0, 3, "os");
	load_fails(HEAD "io.open(\"/etc/hostname\")\nrun { duration = 10 }\n", NULL, 0, 3, "io");
	load_fails(HEAD "load(\"return 1\")\nrun { duration = 10 }\n", NULL, 0, 3, "load");
	load_fails(HEAD "dofile(\"/etc/hostname\")\nrun { duration = 10 }\n", NULL, 0, 3, "dofile");
	load_fails(HEAD "require(\"os\")\nrun { duration = 10 }\n", NULL, 0, 3, "require");
	load_fails(HEAD "debug.sethook()\nrun { duration = 10 }\n", NULL, 0, 3, "debug");

	/* --unsafe-lua: every library. */
	char path[256], err[1024] = "";
	struct scenario s;
	write_file("unsafe.lua", HEAD "run { duration = os.time() > 0 and 10 or 20 }\n", path,
	           sizeof(path));
	struct scenario_args a = {.seed = 1, .unsafe_lua = 1};
	if (scenario_load(&s, path, &a, err, sizeof(err)))
		fail_msg("load: %s", err);
	assert_true(s.duration == 10);
	scenario_free(&s);
}

/* An endless loop fails with file:line, at load and in a callback. */
static void test_instruction_limit(void **state)
{
	(void)state;
	load_fails(HEAD "local x = 0\nwhile true do x = x + 1 end\nrun { duration = 10 }\n", NULL,
	           0, 4, "without returning");
	char path[256], err[1024] = "", want[300];
	struct scenario s;
	write_file("loop.lua",
	           HEAD "at(1, function()\n  while true do end\nend)\nrun { duration = 10 }\n",
	           path, sizeof(path));
	if (load(&s, path, 1, NULL, 0, err, sizeof(err)))
		fail_msg("load: %s", err);
	assert_int_equal(scenario_call(&s, s.sched[s.nsched - 1].ref, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:4:", path);
	if (strncmp(err, want, strlen(want)) || !strstr(err, "without returning"))
		fail_msg("error '%s', want '%s' ... without returning", err, want);
	/* The state is usable again: the budget is per call. */
	assert_int_equal(scenario_call(&s, s.sched[s.nsched - 1].ref, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "without returning"));
	scenario_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_set_overrides),
	    cmocka_unit_test(test_lua_syntax_error),
	    cmocka_unit_test(test_unknown_field),
	    cmocka_unit_test(test_bad_rate),
	    cmocka_unit_test(test_unknown_stream),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_run_required),
	    cmocka_unit_test(test_set_checks),
	    cmocka_unit_test(test_bad_declarations),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_deterministic),
	    cmocka_unit_test(test_hooks),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_args_checked),
	    cmocka_unit_test(test_number_ranges),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_sandbox),
	    cmocka_unit_test(test_instruction_limit),
	};
	return cmocka_run_group_tests_name("scenario", tests, make_dir, remove_dir);
}
