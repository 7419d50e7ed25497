/* The run directory and the peer's logs round-trip: what the peer writes
 * through peer/log.h and the harness through lib/rundir.h is what the
 * analysis reads back, through the same definitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/analysis.h"
#include "analysis/metric.h"
#include "lib/rundir.h"
#include "peer/log.h"

struct ctx {
	char dir[64];
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	snprintf(c->dir, sizeof(c->dir), "/tmp/anysee-log-XXXXXX");
	if (!mkdtemp(c->dir))
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
	int rc = system(cmd);
	free(c);
	return rc;
}

static void write_hosts(const char *dir)
{
	struct rundir_host h[] = {
	    {"rp", "rp", "10.77.0.1", ""},
	    {"src", "source", "10.77.0.2", "tv1"},
	    {"p1", "peer", "10.77.0.3", "tv1"},
	};
	char err[256] = "";
	assert_int_equal(rundir_hosts_write(dir, h, 3, err, sizeof(err)), 0);
}

/* Peer p1: one session that plays from seq 100, four ticks, a mesh round
 * and a clean leave; segments 100..109 stored with known delays. */
static void write_peer_logs(const char *dir)
{
	char hdir[256];
	assert_int_equal(rundir_host_path(hdir, sizeof(hdir), dir, "p1", NULL), 0);
	char hosts[256];
	assert_int_equal(rundir_path(hosts, sizeof(hosts), dir, RUNDIR_HOSTS_DIR), 0);
	assert_int_equal(mkdir(hosts, 0755), 0);
	struct evlog l;
	assert_int_equal(evlog_open(&l, hdir), 0);
	evlog_start(&l, "peer", 7, "anysee", "tv1", 300000, 40000000);
	evlog_mesh(&l, 4, 4, 12500);
	/* The start-up backlog: segments made before playback began. */
	for (uint32_t s = 90; s < 95; s++)
		evlog_segment(&l, 1, s, 900000, 4, SEG_CHECKSUM_OK | SEG_CONTENT_OK | SEG_STORED);
	evlog_play_start(&l, 100, 1500000, 80000);
	/* Later than the largest steady delay below, so each segment was made
	 * after playback began. */
	usleep(60000);
	for (int i = 0; i < 4; i++) {
		struct evlog_tick t = {.due = 10, .on_time = i == 3 ? 9 : 10, .recv = 10};
		evlog_tick(&l, &t);
		/* 1 Mbit/s of upload a second: 50 kbit pulled, 150 pushed, 50 relayed;
		 * two children, and in one second a third key-node slot held. */
		struct evlog_util u = {1000000, 300000, 6250, 18750, 6250, 2, i == 2 ? 3 : 2};
		evlog_util(&l, &u);
	}
	evlog_mesh(&l, 4, 4, 8000);
	for (uint32_t s = 100; s < 110; s++)
		evlog_segment(&l, 1, s, 20000 + 1000 * (s - 100), (uint8_t)(s % 3),
		              SEG_CHECKSUM_OK | SEG_CONTENT_OK | SEG_STORED);
	/* A corrupt one as older peers logged it, and two more counted in the
	 * leave line as peers count them now. */
	evlog_segment(&l, 1, 200, 5000, 1, 0);
	struct evlog_leave lv = {.received = 11, .due = 40, .on_time = 39, .corrupt = 2};
	evlog_leave(&l, &lv);
	evlog_close(&l);
}

static void test_analysis_reads_what_the_peer_writes(void **state)
{
	struct ctx *c = *state;
	write_hosts(c->dir);
	write_peer_logs(c->dir);
	/* The shortest path from the source (row 1) to the peer (column 2) is
	 * 10 ms, so steady delays of 20..29 ms have a stretch of 2.0..2.9. */
	char path[256];
	rundir_path(path, sizeof(path), c->dir, RUNDIR_DELAYS);
	FILE *f = fopen(path, "w");
	fprintf(f, "# one-way delay in milliseconds, row = sender, 3 hosts\n"
	           "0 5 5\n5 0 10.000\n5 10 0\n");
	fclose(f);
	struct run_metrics m;
	char err[512] = "";
	assert_int_equal(analysis_load(c->dir, &m, err, sizeof(err)), 0);
	assert_int_equal(m.npeers, 1);
	const struct peer_metrics *p = &m.p[0];
	assert_string_equal(p->name, "p1");
	assert_string_equal(p->mode, "anysee");
	assert_int_equal(p->started, 1);
	assert_true(p->startup_s > 1.4999 && p->startup_s < 1.5001);
	assert_int_equal(p->due, 40);
	assert_int_equal(p->on_time, 39);
	assert_true(p->mesh_first_ms > 12.49 && p->mesh_first_ms < 12.51);
	assert_true(p->mesh_last_ms > 7.99 && p->mesh_last_ms < 8.01);
	assert_int_equal(p->stored, 15);
	assert_int_equal(p->corrupt, 3);
	assert_int_equal(p->max_hops, 4);
	assert_int_equal(p->verified_due, 10);
	/* The backlog is counted apart; the steady delays are 20..29 ms, whose
	 * median index rounds to 25 ms. */
	assert_int_equal(p->backlog, 5);
	assert_int_equal(p->steady, 10);
	assert_true(p->backlog_med_ms > 899.9 && p->backlog_med_ms < 900.1);
	assert_true(p->delay_med_ms > 24.99 && p->delay_med_ms < 25.01);
	assert_true(p->delay_max_ms > 28.99 && p->delay_max_ms < 29.01);
	assert_true(p->lag_s > 0.0799 && p->lag_s < 0.0801);
	assert_int_equal(p->joins, 1);
	assert_int_equal(p->leaves, 1);
	assert_int_equal(p->crashes, 0);
	/* The run's groups: the whole run, its mode and its stream. */
	assert_int_equal(m.ngroups, 3);
	assert_int_equal(m.g[0].delay.n, 10);
	assert_int_equal(m.g[0].backlog.n, 5);
	assert_int_equal(m.g[0].hops_max, 4);
	assert_int_equal(m.have_delays, 1);
	double v[M_COUNT];
	metric_values(&m, v);
	assert_true(v[M_CONTINUITY] > 0.97499 && v[M_CONTINUITY] < 0.97501);
	assert_true(v[M_PLAYED_SHARE] == 1);
	assert_true(v[M_STARTUP_P50] > 1.4999 && v[M_STARTUP_P50] < 1.5001);
	assert_true(v[M_S2E_P50] > 24.7 && v[M_S2E_P50] < 25.3);
	assert_true(v[M_HEIGHT_MAX] == 4);
	assert_true(isnan(v[M_OVERHEAD_BYTES])); /* no capture */
	assert_true(p->up_capacity == 4e6);
	assert_int_equal(p->keynode_mismatch_s, 1);
	assert_true(v[M_KEYNODE_MISMATCH] == 1);
	assert_true(p->up_push == 4 * 150000.0);
	assert_true(v[M_UTILIZATION] > 0.2499 && v[M_UTILIZATION] < 0.2501);
	assert_true(p->stretch_med > 2.499 && p->stretch_med < 2.501);
	assert_int_equal(m.g[0].stretch.n, 10);
	assert_true(hist_quantile(&m.g[0].stretch, 0.5) > 2480 &&
	            hist_quantile(&m.g[0].stretch, 0.5) < 2520);
	assert_int_equal(p->bad_lines, 0);
	analysis_free(&m);
}

/* A crashed peer never wrote its leave line: its ticks stand in. */
static void test_ticks_stand_in_for_a_missing_leave(void **state)
{
	struct ctx *c = *state;
	write_hosts(c->dir);
	char hdir[256], hosts[256];
	rundir_host_path(hdir, sizeof(hdir), c->dir, "p1", NULL);
	rundir_path(hosts, sizeof(hosts), c->dir, RUNDIR_HOSTS_DIR);
	assert_int_equal(mkdir(hosts, 0755), 0);
	struct evlog l;
	assert_int_equal(evlog_open(&l, hdir), 0);
	evlog_start(&l, "peer", 7, "coolstreaming", "tv1", 300000, 40000000);
	evlog_play_start(&l, 5, 2000000, 0);
	struct evlog_tick t = {.due = 10, .on_time = 7};
	evlog_tick(&l, &t);
	evlog_tick(&l, &t);
	evlog_close(&l);
	struct run_metrics m;
	char err[512] = "";
	assert_int_equal(analysis_load(c->dir, &m, err, sizeof(err)), 0);
	assert_string_equal(m.p[0].mode, "coolstreaming");
	assert_int_equal(m.p[0].due, 20);
	assert_int_equal(m.p[0].on_time, 14);
	assert_int_equal(m.p[0].crashes, 1);
	analysis_free(&m);
}

static void test_event_line_parser(void **state)
{
	(void)state;
	struct evlog_line e;
	assert_int_equal(evlog_parse("1700000000000000 tick due=10 on_time=9 np=3\n", &e), 0);
	assert_string_equal(e.event, LOGEV_TICK);
	assert_true(e.ts_us == 1700000000000000ull);
	uint64_t v;
	assert_int_equal(evlog_get_u64(&e, LOGK_DUE, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(evlog_get_u64(&e, LOGK_ON_TIME, &v), 0);
	assert_int_equal(v, 9);
	/* A key is matched whole: "due" is not found inside "overdue". */
	assert_int_equal(evlog_parse("1 tick overdue=4\n", &e), 0);
	assert_int_equal(evlog_get_u64(&e, LOGK_DUE, &v), -1);
	assert_int_equal(evlog_parse("1 tick due=x\n", &e), 0);
	assert_int_equal(evlog_get_u64(&e, LOGK_DUE, &v), -1);
	assert_int_equal(evlog_parse("garbage\n", &e), -1);
	assert_int_equal(evlog_parse("12\n", &e), -1);
	char mode[16];
	assert_int_equal(evlog_parse("5 start role=peer mode=anysee stream=tv1\n", &e), 0);
	assert_int_equal(evlog_get_str(&e, LOGK_MODE, mode, sizeof(mode)), 0);
	assert_string_equal(mode, "anysee");
}

/* A tick without the keys the analysis needs is counted, never read as 0. */
static void test_missing_key_is_reported(void **state)
{
	struct ctx *c = *state;
	write_hosts(c->dir);
	char hdir[256], hosts[256];
	rundir_host_path(hdir, sizeof(hdir), c->dir, "p1", NULL);
	rundir_path(hosts, sizeof(hosts), c->dir, RUNDIR_HOSTS_DIR);
	assert_int_equal(mkdir(hosts, 0755), 0);
	struct evlog l;
	assert_int_equal(evlog_open(&l, hdir), 0);
	evlog_start(&l, "peer", 7, "anysee", "tv1", 300000, 40000000);
	evlog_event(&l, LOGEV_TICK, "due_count=10 on_time=9");
	evlog_close(&l);
	struct run_metrics m;
	char err[512] = "";
	assert_int_equal(analysis_load(c->dir, &m, err, sizeof(err)), 0);
	assert_int_equal(m.p[0].bad_lines, 1);
	analysis_free(&m);
}

static void test_hosts_file(void **state)
{
	struct ctx *c = *state;
	write_hosts(c->dir);
	struct rundir_host *h;
	int n;
	char err[512] = "";
	assert_int_equal(rundir_hosts_read(c->dir, &h, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(h[1].name, "src");
	assert_string_equal(h[1].role, "source");
	assert_string_equal(h[1].ip, "10.77.0.2");
	assert_string_equal(h[1].stream, "tv1");
	assert_string_equal(h[0].stream, "");
	free(h);

	char path[256];
	rundir_path(path, sizeof(path), c->dir, RUNDIR_HOSTS);
	FILE *f = fopen(path, "a");
	fprintf(f, "broken line\n");
	fclose(f);
	assert_int_equal(rundir_hosts_read(c->dir, &h, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "hosts.txt:5:"));
	assert_null(h);
}

/* A damaged run directory: a cut segment log, an event log that is a
 * symbolic link out of the run directory, a capture that is not one. The
 * analysis says what is wrong per host and reports what it can. */
static void test_damaged_run_directory(void **state)
{
	struct ctx *c = *state;
	write_hosts(c->dir);
	write_peer_logs(c->dir);
	char path[256], src[256];
	rundir_host_path(path, sizeof(path), c->dir, "p1", SEGLOG_FILE);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - SEGLOG_REC_LEN - 3), 0);
	rundir_host_path(src, sizeof(src), c->dir, "src", NULL);
	assert_int_equal(mkdir(src, 0755), 0);
	rundir_host_path(src, sizeof(src), c->dir, "src", EVLOG_FILE);
	assert_int_equal(symlink("/etc/passwd", src), 0);
	rundir_path(path, sizeof(path), c->dir, RUNDIR_CAPTURE);
	FILE *f = fopen(path, "w");
	fputs("not a capture", f);
	fclose(f);

	struct run_metrics m;
	char err[512] = "";
	assert_int_equal(analysis_load(c->dir, &m, err, sizeof(err)), 0);
	assert_int_equal(m.npeers, 1);
	assert_true(m.p[0].started);
	assert_non_null(strstr(m.p[0].missing, "segments.bin: truncated"));
	/* The records before the cut still count. */
	assert_int_equal(m.p[0].stored, 14);
	analysis_free(&m);

	rundir_host_path(path, sizeof(path), c->dir, "p1", EVLOG_FILE);
	unlink(path);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(analysis_load(c->dir, &m, err, sizeof(err)), 0);
	assert_false(m.p[0].started);
	assert_true(*m.p[0].missing);
	analysis_free(&m);

	/* The report still comes out, naming the capture it could not read. */
	char out[8192] = "";
	FILE *mem = fmemopen(out, sizeof(out) - 1, "w");
	assert_int_equal(analysis_run(c->dir, mem, NULL, err, sizeof(err)), 0);
	fclose(mem);
	assert_non_null(strstr(out, "control overhead: not measured"));
	assert_non_null(strstr(out, "p1"));
}

/* A host name that would lead out of the run directory is refused. */
static void test_hosts_file_names(void **state)
{
	struct ctx *c = *state;
	static const char *const bad[] = {"..", "../etc", "a/b", "-x", "Up"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char path[256], err[512] = "";
		rundir_path(path, sizeof(path), c->dir, RUNDIR_HOSTS);
		FILE *f = fopen(path, "w");
		fprintf(f, "%s peer 10.77.0.3 tv1\n", bad[i]);
		fclose(f);
		struct rundir_host *h;
		int n;
		if (rundir_hosts_read(c->dir, &h, &n, err, sizeof(err)) != -1)
			fail_msg("host name '%s' accepted", bad[i]);
		assert_non_null(strstr(err, "hosts.txt:1:"));
	}
}

static void test_segment_record_layout(void **state)
{
	(void)state;
	struct seglog_rec r = {0x01020304, 0x0a0b0c0d, 77, 3, SEG_STORED, 0x1234}, back;
	uint8_t b[SEGLOG_REC_LEN];
	seglog_rec_encode(&r, b);
	/* Little endian, as documented in peer/log.h. */
	assert_int_equal(b[0], 0x04);
	assert_int_equal(b[3], 0x01);
	assert_int_equal(b[12], 3);
	assert_int_equal(b[14], 0x34);
	seglog_rec_decode(b, &back);
	assert_memory_equal(&r, &back, sizeof(r));
	uint8_t h[SEGLOG_HDR_LEN];
	uint64_t epoch = 0;
	seglog_hdr_encode(123456789, h);
	assert_int_equal(seglog_hdr_decode(h, &epoch), 0);
	assert_int_equal(epoch, 123456789);
	h[0] = 'X';
	assert_int_equal(seglog_hdr_decode(h, &epoch), -1);
}

/* The harness's note of a kill lands on a line of its own, even after
 * half a line the process left. */
static void test_killed_line(void **state)
{
	struct ctx *c = *state;
	char path[128], text[256] = "";
	snprintf(path, sizeof(path), "%s/" EVLOG_FILE, c->dir);
	FILE *f = fopen(path, "w");
	fputs("100 tick due=1 on_time=1\n200 tick due=1 on_", f);
	fclose(f);
	assert_int_equal(evlog_append_killed(c->dir, 250), 0);
	f = fopen(path, "r");
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	assert_string_equal(text,
	                    "100 tick due=1 on_time=1\n200 tick due=1 on_\n250 " LOGEV_KILLED "\n");
	assert_int_equal(evlog_append_killed(c->dir, 300), 0);
	f = fopen(path, "r");
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	assert_non_null(strstr(text, "250 " LOGEV_KILLED "\n300 " LOGEV_KILLED "\n"));
}

/* ProbM per peer per minute present, and over the media bytes. */
static void test_probing_overhead(void **state)
{
	(void)state;
	struct peer_metrics p[2];
	memset(p, 0, sizeof(p));
	p[0].up_seconds = 120; /* two minutes */
	p[1].up_seconds = 60;  /* one: three peer-minutes in all */
	struct run_metrics m;
	memset(&m, 0, sizeof(m));
	m.npeers = 2;
	m.p = p;
	struct probing pr;
	assert_int_equal(metric_probing(&m, &pr), -1); /* no capture */
	m.have_overhead = 1;
	m.overhead.type[WIRE_PROBE] = (struct overhead_count){.packets = 30, .bytes = 3000};
	m.overhead.type[WIRE_SEG_DATA] = (struct overhead_count){.packets = 100, .bytes = 600000};
	assert_int_equal(metric_probing(&m, &pr), 0);
	assert_true(pr.messages_per_peer_minute == 10);
	assert_true(pr.bytes_per_peer_minute == 1000);
	assert_true(pr.media_share == 0.005);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_damaged_run_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hosts_file_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_analysis_reads_what_the_peer_writes, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_ticks_stand_in_for_a_missing_leave, setup,
	                                    teardown),
	    cmocka_unit_test(test_event_line_parser),
	    cmocka_unit_test(test_probing_overhead),
	    cmocka_unit_test_setup_teardown(test_killed_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_key_is_reported, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hosts_file, setup, teardown),
	    cmocka_unit_test(test_segment_record_layout),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
