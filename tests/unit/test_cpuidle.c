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
#include "harness/cpuidle.h"
#include "lib/rundir.h"
#include "lib/util.h"
#include "peer/log.h"

static void test_parse(void **state)
{
	(void)state;
	uint64_t idle, total;
	assert_int_equal(cpuidle_parse("cpu  100 5 50 800 45 0 0 0 0 0\n", &idle, &total), 0);
	assert_int_equal(idle, 845);
	assert_int_equal(total, 1000);
	assert_int_equal(cpuidle_parse("cpu0 100 5 50 800 45 0 0 0\n", &idle, &total), -1);
	assert_int_equal(cpuidle_parse("cpu 1 2\n", &idle, &total), -1);
	assert_int_equal(cpuidle_parse("intr 5\n", &idle, &total), -1);
}

/* Shares between readings: the first reading only starts the count. */
static void test_samples(void **state)
{
	(void)state;
	struct cpuidle c = {0};
	cpuidle_add(&c, 0, 0);
	assert_int_equal(c.samples, 0);
	cpuidle_add(&c, 80, 100); /* 80% idle */
	cpuidle_add(&c, 90, 200); /* 10% idle */
	cpuidle_add(&c, 90, 200); /* no time passed: no sample */
	assert_int_equal(c.samples, 2);
	assert_true(fabs(c.sum / (double)c.samples - 0.45) < 1e-9);
	assert_true(fabs(c.min - 0.10) < 1e-9);
	assert_int_equal(cpuidle_sample(&c), 0); /* this machine's /proc/stat reads */
}

static void test_record_and_verdict(void **state)
{
	(void)state;
	char dir[] = "/tmp/anysee-emu-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct rundir_emulation e = {.cpu_idle_mean = 0.55, .cpu_idle_min = 0.3, .samples = 60},
	                        back;
	char err[256] = "", why[256];
	assert_int_equal(rundir_emulation_read(dir, &back, err, sizeof(err)), -1);
	assert_int_equal(rundir_emulation_write(dir, &e, err, sizeof(err)), 0);
	assert_int_equal(rundir_emulation_read(dir, &back, err, sizeof(err)), 0);
	assert_true(fabs(back.cpu_idle_mean - 0.55) < 1e-4 && back.samples == 60);
	assert_int_equal(back.have_switch, 0); /* a kernel backend's record */
	assert_int_equal(back.have_kernel, 0); /* without the kernel's counters */
	/* The netem backend's: the kernel's counters, no switch. */
	e.have_kernel = 1;
	e.kernel_packets = 9500;
	e.kernel_loss_packets = 950;
	e.kernel_drop_loss = 50;
	e.kernel_drop_download = 7;
	e.kernel_drop_partition = 3;
	e.kernel_overlimits = 12;
	assert_int_equal(rundir_emulation_write(dir, &e, err, sizeof(err)), 0);
	assert_int_equal(rundir_emulation_read(dir, &back, err, sizeof(err)), 0);
	assert_true(back.have_kernel && !back.have_switch);
	assert_true(back.kernel_packets == 9500 && back.kernel_loss_packets == 950 &&
	            back.kernel_drop_loss == 50 && back.kernel_drop_upload == 0 &&
	            back.kernel_drop_download == 7 && back.kernel_drop_partition == 3 &&
	            back.kernel_overlimits == 12);
	assert_int_equal(analysis_emulation_valid(&back, -1, 0, "", why, sizeof(why)), 1);
	back.cpu_idle_min = 0.01;
	assert_int_equal(analysis_emulation_valid(&back, -1, 0, "", why, sizeof(why)), 0);
	assert_non_null(strstr(why, "busiest second"));
	back.cpu_idle_mean = 0.05;
	assert_int_equal(analysis_emulation_valid(&back, -1, 0, "", why, sizeof(why)), 0);
	assert_non_null(strstr(why, "on average"));
	char path[64];
	snprintf(path, sizeof(path), "%s/%s", dir, RUNDIR_EMULATION);
	unlink(path);
	rmdir(dir);
}

static void test_proc(void **state)
{
	(void)state;
	uint64_t t;
	/* A command name with a space and a parenthesis. */
	assert_int_equal(cpuidle_parse_proc("42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 "
	                                    "250 31 0 0 20 0 1 0 5 1000 10\n",
	                                    &t),
	                 0);
	assert_int_equal(t, 281);
	assert_int_equal(cpuidle_parse_proc("42 (x) S 1 2\n", &t), -1);
	double cpu;
	assert_int_equal(cpuidle_proc_seconds(getpid(), &cpu), 0);
	assert_true(cpu >= 0);
	assert_int_equal(cpuidle_proc_seconds(-1, &cpu), -1);
}

/* Cores used: the mean over the whole span and the busiest interval. */
static void test_cpuuse(void **state)
{
	(void)state;
	struct cpuuse u = {0};
	assert_true(cpuuse_mean(&u) == 0);
	cpuuse_add(&u, 10.0, 1000000, 1000000);
	cpuuse_add(&u, 10.5, 2000000, 2000000); /* half a core */
	cpuuse_add(&u, 12.0, 3000000, 3000000); /* 1.5 cores */
	cpuuse_add(&u, 12.0, 3000000, 3000000); /* no time passed */
	assert_true(fabs(cpuuse_mean(&u) - 1.0) < 1e-9);
	assert_true(fabs(u.max - 1.5) < 1e-9);
	assert_int_equal(u.smeared, 0);
}

/* A reading summed over many /proc files while the reader was preempted:
 * 2 cores busy throughout, readings every second; the one at 4 s reads
 * half the hosts at once and half 0.9 s later. Stamped at their start, as
 * the harness once did, the interval into it held 2.9 cores of 2. */
static void test_cpuuse_smeared_reading(void **state)
{
	(void)state;
	/* Start and end of each reading (s) and the CPU seconds summed. */
	static const struct {
		double from, to, cpu;
	} r[] = {{1.0, 1.001, 2.0},           {2.0, 2.001, 4.0},  {3.0, 3.001, 6.0},
	         {4.0, 4.9, (8.0 + 9.8) / 2}, {5.0, 5.001, 10.0}, {6.0, 6.001, 12.0}};
	/* Which intervals cpu.txt writes as not known: into it and out of it. */
	static const int smeared[] = {0, 0, 0, 1, 1, 0};
	struct cpuuse u = {0}, naive = {0};
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		cpuuse_add(&u, r[i].cpu, (uint64_t)(r[i].from * 1e6), (uint64_t)(r[i].to * 1e6));
		assert_int_equal(u.last_smeared, smeared[i]);
		cpuuse_add(&naive, r[i].cpu, (uint64_t)(r[i].from * 1e6),
		           (uint64_t)(r[i].from * 1e6));
	}
	assert_true(naive.max > 2.8);
	assert_true(fabs(u.max - 2.0) < 1e-2);
	/* The intervals into the smeared reading and out of it. */
	assert_int_equal(u.smeared, 2);
	/* The mean over the whole span stays right: the ends are sharp. */
	assert_true(fabs(cpuuse_mean(&u) - 2.0) < 1e-2);
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void remove_files(const char *dir, const char *const *names, size_t n)
{
	char path[256];
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* The analysis of run directory dir into m, which must succeed. */
static void load_run(const char *dir, struct run_metrics *m)
{
	char err[256];
	memset(m, 0, sizeof(*m));
	assert_int_equal(analysis_load(dir, m, err, sizeof(err)), 0);
}

/* The switch's figures survive the record, and the lateness bound comes
 * from the smallest delay between two hosts in the run's delays.txt:
 * max(0.5 ms, 2% of it). */
static void test_lateness_rule(void **state)
{
	(void)state;
	char dir[] = "/tmp/anysee-emu-XXXXXX";
	assert_non_null(mkdtemp(dir));
	write_text(dir, RUNDIR_HOSTS,
	           "rp rp 10.77.0.1 -\nsrc source 10.77.0.2 tv1\n"
	           "mon monitor 10.77.0.3 -\n");
	/* Smallest path 40 ms (2 -> 1); the zero diagonal is no path. */
	write_text(dir, RUNDIR_DELAYS, "# ms\n0 45 60\n50 0 70\n55 40 0\n");
	struct rundir_emulation e = {.cpu_idle_mean = 0.9,
	                             .cpu_idle_min = 0.8,
	                             .samples = 30,
	                             .have_switch = 1,
	                             .switch_cpu_mean = 0.05,
	                             .late_p50_us = 30,
	                             .late_p99_us = 700,
	                             .late_max_us = 3000,
	                             .frames = 1000,
	                             .drop_loss = 100,
	                             .drop_queue = 7};
	char err[256];
	assert_int_equal(rundir_emulation_write(dir, &e, err, sizeof(err)), 0);
	struct run_metrics m;
	load_run(dir, &m);
	assert_int_equal(m.emu.have_switch, 1);
	assert_true(m.emu.frames == 1000 && m.emu.drop_loss == 100 && m.emu.drop_queue == 7);
	assert_true(fabs(m.min_path_us - 40000) < 1e-6);
	assert_true(fabs(analysis_lateness_bound_us(m.min_path_us) - 800) < 1e-6);
	assert_int_equal(m.emu_valid, 1); /* 0.7 ms within 0.8 ms */
	analysis_free(&m);

	e.late_p99_us = 900;
	assert_int_equal(rundir_emulation_write(dir, &e, err, sizeof(err)), 0);
	load_run(dir, &m);
	assert_int_equal(m.emu_valid, 0);
	assert_non_null(strstr(m.emu_reason, "late"));
	analysis_free(&m);

	/* With a 10 ms path the floor of 0.5 ms holds: 0.7 ms is too late. */
	write_text(dir, RUNDIR_DELAYS, "0 10 60\n50 0 70\n55 40 0\n");
	e.late_p99_us = 700;
	assert_int_equal(rundir_emulation_write(dir, &e, err, sizeof(err)), 0);
	load_run(dir, &m);
	assert_true(fabs(analysis_lateness_bound_us(m.min_path_us) - 500) < 1e-6);
	assert_int_equal(m.emu_valid, 0);
	analysis_free(&m);
	/* No switch (kernel backend): lateness is not judged. */
	e.have_switch = 0;
	assert_int_equal(rundir_emulation_write(dir, &e, err, sizeof(err)), 0);
	load_run(dir, &m);
	assert_int_equal(m.emu.have_switch, 0);
	assert_int_equal(m.emu_valid, 1);
	analysis_free(&m);

	static const char *const files[] = {RUNDIR_HOSTS, RUNDIR_DELAYS, RUNDIR_EMULATION};
	remove_files(dir, files, ARRAY_LEN(files));
}

/* A run directory in dir (a mkdtemp template) whose only logged host is
 * the source: hosts/ and hosts/src made, their paths in hosts and src. */
static void source_only_run(char *dir, char *hosts, char *src)
{
	assert_non_null(mkdtemp(dir));
	write_text(dir, RUNDIR_HOSTS, "rp rp 10.77.0.1 -\nsrc source 10.77.0.2 tv1\n");
	snprintf(hosts, 64, "%s/%s", dir, RUNDIR_HOSTS_DIR);
	snprintf(src, 96, "%s/src", hosts);
	assert_int_equal(mkdir(hosts, 0700), 0);
	assert_int_equal(mkdir(src, 0700), 0);
}

static void remove_source_only_run(const char *dir, const char *hosts, const char *src,
                                   const char *const *files, size_t n)
{
	char log[128];
	snprintf(log, sizeof(log), "%s/%s", src, EVLOG_FILE);
	unlink(log);
	rmdir(src);
	rmdir(hosts);
	remove_files(dir, files, n);
}

/* A host whose event loop stalled half a second or more (here the source,
 * whose log is read for its stalls alone) makes the run not valid, named;
 * shorter stalls are counted and reported. */
static void test_stall_rule(void **state)
{
	(void)state;
	char dir[] = "/tmp/anysee-emu-XXXXXX", hosts[64], src[96];
	source_only_run(dir, hosts, src);
	struct rundir_emulation e = {.cpu_idle_mean = 0.9, .cpu_idle_min = 0.8, .samples = 30};
	char err[256];
	assert_int_equal(rundir_emulation_write(dir, &e, err, sizeof(err)), 0);
	write_text(src, EVLOG_FILE,
	           "1000 start role=source id=2\n2000 stall late_us=120000\n"
	           "3000 stall late_us=180000\n");
	struct run_metrics m;
	load_run(dir, &m);
	assert_int_equal(m.stalls.n, 2);
	assert_true(fabs(m.stalls.max_us - 180000) < 1e-6);
	assert_string_equal(m.stall_host, "src");
	assert_int_equal(m.emu_valid, 1);
	assert_non_null(strstr(m.emu_reason, "longest host stall 180 ms (src, bound 500 ms)"));
	assert_int_equal(m.pauses.have, 0); /* no probe: nothing to tell */
	analysis_free(&m);

	write_text(src, EVLOG_FILE, "1000 start role=source id=2\n2000 stall late_us=650000\n");
	load_run(dir, &m);
	assert_int_equal(m.emu_valid, 0);
	assert_non_null(strstr(m.emu_reason, "src's event loop ran a timer 0.65 s late"));
	assert_non_null(strstr(m.emu_reason, "the host did not run (CPU starved"));
	analysis_free(&m);

	static const char *const files[] = {RUNDIR_HOSTS, RUNDIR_EMULATION};
	remove_source_only_run(dir, hosts, src, files, ARRAY_LEN(files));
}

/* A host's probe counters (LOGEV_PROBES, one line a session) are summed
 * over its sessions; a line without one of its keys is a bad line. */
static void test_probe_counters(void **state)
{
	(void)state;
	char dir[] = "/tmp/anysee-emu-XXXXXX", hosts[64], peer[96];
	assert_non_null(mkdtemp(dir));
	write_text(dir, RUNDIR_HOSTS, "rp rp 10.77.0.1 -\np1 peer 10.77.0.3 tv1\n");
	snprintf(hosts, sizeof(hosts), "%s/%s", dir, RUNDIR_HOSTS_DIR);
	snprintf(peer, sizeof(peer), "%s/p1", hosts);
	assert_int_equal(mkdir(hosts, 0700), 0);
	assert_int_equal(mkdir(peer, 0700), 0);
	write_text(peer, EVLOG_FILE,
	           "1000 start role=peer id=3 mode=anysee\n"
	           "2000 " LOGEV_PROBES " " LOGK_FORWARDED "=3 " LOGK_FORWARDED_BYTES
	           "=243 " LOGK_OVER_BUDGET "=7 " LOGK_REFUSED "=1\n"
	           "3000 start role=peer id=3 mode=anysee\n"
	           "4000 " LOGEV_PROBES " " LOGK_FORWARDED "=2 " LOGK_FORWARDED_BYTES
	           "=162 " LOGK_OVER_BUDGET "=5 " LOGK_OVER_SHARE "=4 " LOGK_REFUSED "=4\n"
	           "5000 " LOGEV_PROBES " " LOGK_FORWARDED "=2\n");
	struct run_metrics m;
	load_run(dir, &m);
	assert_int_equal(m.npeers, 1);
	assert_int_equal(m.p[0].probes.forwarded, 5);
	assert_int_equal(m.p[0].probes.forwarded_bytes, 405);
	/* The first line is a log from before over_share: none counted. */
	assert_int_equal(m.p[0].probes.over_budget, 12);
	assert_int_equal(m.p[0].probes.over_share, 4);
	assert_int_equal(m.p[0].probes.refused, 5);
	assert_int_equal(m.p[0].bad_lines, 1);
	analysis_free(&m);
	static const char *const files[] = {RUNDIR_HOSTS};
	remove_source_only_run(dir, hosts, peer, files, ARRAY_LEN(files));
}

/* The machine's own pauses (pauses.txt) tell which stalls the hosts made
 * and which the machine did: a stall overlapping a pause counts as the
 * machine's, and a stall that makes the run not valid says which it was. */
static void test_stalls_against_pauses(void **state)
{
	(void)state;
	char dir[] = "/tmp/anysee-emu-XXXXXX", hosts[64], src[96];
	source_only_run(dir, hosts, src);
	struct rundir_emulation e = {.cpu_idle_mean = 0.9,
	                             .cpu_idle_min = 0.8,
	                             .samples = 30,
	                             .have_pauses = 1,
	                             .pauses = 2,
	                             .pause_max_us = 90000};
	char err[256];
	assert_int_equal(rundir_emulation_write(dir, &e, err, sizeof(err)), 0);
	/* Stalls over [10.88, 11.00] s and [12.82, 13.00] s; pauses over
	 * [10.89, 10.95] s (the first stall's), [14.00, 14.09] s (none's) and
	 * [20.00, 20.60] s on both CPUs, written out of order: the reader
	 * orders them by start. */
	struct rundir_pause p[] = {{.end_us = 14090000, .late_us = 90000, .cpu = 1},
	                           {.end_us = 10950000, .late_us = 60000, .cpu = 0},
	                           {.end_us = 20600000, .late_us = 600000, .cpu = 0},
	                           {.end_us = 20600100, .late_us = 600050, .cpu = 1}};
	assert_int_equal(rundir_pauses_write(dir, p, 4, err, sizeof(err)), 0);
	struct rundir_pause *back;
	size_t n;
	assert_int_equal(rundir_pauses_read(dir, &back, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 4);
	assert_true(back[0].end_us == 10950000 && back[0].cpu == 0 && back[1].late_us == 90000);
	free(back);
	write_text(src, EVLOG_FILE,
	           "10000000 start role=source id=2\n11000000 stall late_us=120000\n"
	           "13000000 stall late_us=180000\n");
	struct run_metrics m;
	load_run(dir, &m);
	assert_int_equal(m.pauses.have, 1);
	assert_int_equal(m.stalls.n, 2);
	assert_int_equal(m.stalls.paused, 1);
	assert_true(m.stalls.max_pause_us == 0); /* the longest stall was the host's */
	assert_int_equal(m.emu_valid, 1);
	analysis_free(&m);

	/* Not valid either way; the reason says whose the stall was: here the
	 * machine's for 0.09 s of 0.65, the host's for the rest. */
	write_text(src, EVLOG_FILE,
	           "10000000 start role=source id=2\n14100000 stall late_us=650000\n");
	load_run(dir, &m);
	assert_int_equal(m.emu_valid, 0);
	assert_true(fabs(m.stalls.max_pause_us - 90000) < 1e-6);
	assert_non_null(strstr(m.emu_reason, "the machine itself paused for 0.09 s of it"));
	analysis_free(&m);
	/* Here the machine's all along: both CPUs' pauses count once. */
	write_text(src, EVLOG_FILE,
	           "10000000 start role=source id=2\n20600200 stall late_us=550000\n");
	load_run(dir, &m);
	assert_int_equal(m.emu_valid, 0);
	assert_true(fabs(m.stalls.max_pause_us - 549900) < 1e-6);
	assert_non_null(strstr(m.emu_reason,
	                       "the machine itself did not run (a real-time probe ran "
	                       "late over 0.55 s of it"));
	analysis_free(&m);
	write_text(src, EVLOG_FILE,
	           "10000000 start role=source id=2\n16000000 stall late_us=650000\n");
	load_run(dir, &m);
	assert_int_equal(m.emu_valid, 0);
	assert_non_null(strstr(m.emu_reason, "the host did not run while the machine did"));
	analysis_free(&m);

	/* A damaged pauses.txt is refused, named by line, and a sign is no
	 * number; the analysis then has no pauses to tell. */
	write_text(dir, RUNDIR_PAUSES, "10950000 0 60000\n10950000 0 -5\n");
	assert_int_equal(rundir_pauses_read(dir, &back, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "pauses.txt:2: expected"));
	assert_null(back);
	load_run(dir, &m);
	assert_int_equal(m.pauses.have, 0);
	analysis_free(&m);

	static const char *const files[] = {RUNDIR_HOSTS, RUNDIR_EMULATION, RUNDIR_PAUSES};
	remove_source_only_run(dir, hosts, src, files, ARRAY_LEN(files));
}

/* cpu.txt: written and read back, each sample in the timeline's second
 * before it was taken, the seconds under the busiest second's bound
 * counted with the first and last; a damaged file is refused by line, and
 * the analysis then has no load by second. */
static void test_cpu_by_second(void **state)
{
	(void)state;
	char dir[] = "/tmp/anysee-emu-XXXXXX", hosts[64], src[96];
	source_only_run(dir, hosts, src);
	struct rundir_emulation e = {.cpu_idle_mean = 0.2, .cpu_idle_min = 0.01, .samples = 4};
	char err[256];
	assert_int_equal(rundir_emulation_write(dir, &e, err, sizeof(err)), 0);
	write_text(src, EVLOG_FILE, "1000000 start role=source id=2\n");
	struct rundir_cpu c[] = {{2000000, 0.5, 0.8, 0.3},
	                         {3000000, 0.01, 1.6, 0.4},
	                         {4000000, 0.3, -1, -1},
	                         {5500000, 0.015, 1.5, 0.5}};
	assert_int_equal(rundir_cpu_write(dir, c, ARRAY_LEN(c), err, sizeof(err)), 0);
	struct rundir_cpu *back;
	size_t n;
	assert_int_equal(rundir_cpu_read(dir, &back, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 4);
	assert_true(back[1].ts_us == 3000000 && fabs(back[1].idle - 0.01) < 1e-9 &&
	            fabs(back[1].hosts - 1.6) < 1e-9 && fabs(back[1].sw - 0.4) < 1e-9);
	assert_true(back[2].hosts < 0 && back[2].sw < 0); /* "-": not known */
	free(back);

	struct run_metrics m;
	load_run(dir, &m); /* no peers: the timeline starts at 0 */
	assert_int_equal(m.cpu.have, 1);
	assert_int_equal(m.cpu.n, 4);
	assert_int_equal(m.cpu.short_n, 2);
	assert_true(m.cpu.short_first_s == 2 && m.cpu.short_last_s == 4);
	assert_true(fabs(m.cpu.low - 0.01) < 1e-9 && m.cpu.low_at_s == 2);
	assert_true(m.tl.n > 4 && !m.tl.s[0].have_idle && m.tl.s[1].have_idle);
	assert_true(fabs(m.tl.s[2].idle - 0.01) < 1e-6 && fabs(m.tl.s[4].idle - 0.015) < 1e-6);
	analysis_free(&m);

	static const char *const bad[] = {
	    "2000000 1.5 0.8 0.3\n",  /* idle over 1 */
	    "2000000 0.5 -0.8 0.3\n", /* negative cores */
	    "2000000 0.5 0.8\n",      /* a field short */
	    "2000000 0.5 0.8 x\n",    /* the switch neither cores nor "-" */
	    "2000000 0.5 x 0.3\n",    /* the hosts neither cores nor "-" */
	    "-2000000 0.5 0.8 -\n",   /* a time before the epoch */
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char text[128];
		snprintf(text, sizeof(text), "1000000 0.5 0.8 -\n%s", bad[i]);
		write_text(dir, RUNDIR_CPU, text);
		assert_int_equal(rundir_cpu_read(dir, &back, &n, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "cpu.txt:2: expected"));
		assert_null(back);
	}
	load_run(dir, &m);
	assert_int_equal(m.cpu.have, 0);
	analysis_free(&m);

	static const char *const files[] = {RUNDIR_HOSTS, RUNDIR_EMULATION, RUNDIR_CPU};
	remove_source_only_run(dir, hosts, src, files, ARRAY_LEN(files));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_samples),
	    cmocka_unit_test(test_record_and_verdict),
	    cmocka_unit_test(test_proc),
	    cmocka_unit_test(test_cpuuse),
	    cmocka_unit_test(test_cpuuse_smeared_reading),
	    cmocka_unit_test(test_lateness_rule),
	    cmocka_unit_test(test_stall_rule),
	    cmocka_unit_test(test_probe_counters),
	    cmocka_unit_test(test_stalls_against_pauses),
	    cmocka_unit_test(test_cpu_by_second),
	};
	return cmocka_run_group_tests_name("cpuidle", tests, NULL, NULL);
}
