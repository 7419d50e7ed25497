/* What the analysis writes: the text report, metrics.json and peers.csv.
 * Every figure is named with what it is and its unit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/metric.h"
#include "analysis/plot.h"
#include "lib/json.h"
#include "lib/rundir.h"
#include "lib/util.h"
#include "peer/log.h"

static int in_group(const struct metrics_group *g, const struct peer_metrics *p)
{
	if (!strcmp(g->kind, "mode"))
		return !strcmp(g->name, p->mode);
	if (!strcmp(g->kind, "stream"))
		return !strcmp(g->name, p->stream);
	return 1;
}

int group_gather(const struct run_metrics *m, const struct metrics_group *g, struct group_peers *gp)
{
	memset(gp, 0, sizeof(*gp));
	size_t n = (size_t)m->npeers + 1;
	gp->startup = calloc(n, sizeof(double));
	gp->lag = calloc(n, sizeof(double));
	gp->delay_med = calloc(n, sizeof(double));
	if (!gp->startup || !gp->lag || !gp->delay_med)
		return -1;
	for (int i = 0; i < m->npeers; i++) {
		const struct peer_metrics *p = &m->p[i];
		if (!in_group(g, p))
			continue;
		gp->peers++;
		gp->due += p->due;
		gp->on_time += p->on_time;
		gp->verified += p->verified_due;
		gp->steady += p->steady;
		gp->backlog += p->backlog;
		gp->joins += p->joins;
		gp->leaves += p->leaves;
		gp->crashes += p->crashes;
		gp->up_capacity += p->up_capacity;
		gp->up_pull += p->up_pull;
		gp->up_push += p->up_push;
		gp->up_relay += p->up_relay;
		gp->push_paths += p->push_paths;
		gp->push_hops_sum += p->push_hops_sum;
		if (p->push_hops_max > gp->push_hops_max)
			gp->push_hops_max = p->push_hops_max;
		if (p->mesh_first_ms > 0) {
			gp->mesh_first += p->mesh_first_ms;
			gp->mesh_last += p->mesh_last_ms;
			gp->nmesh++;
		}
		if (!p->started)
			continue;
		gp->startup[gp->played] = p->startup_s;
		gp->lag[gp->played] = p->lag_s;
		gp->delay_med[gp->played] = p->delay_med_ms;
		gp->played++;
	}
	sort_doubles(gp->startup, (size_t)gp->played);
	sort_doubles(gp->lag, (size_t)gp->played);
	sort_doubles(gp->delay_med, (size_t)gp->played);
	return 0;
}

void group_release(struct group_peers *gp)
{
	free(gp->startup);
	free(gp->lag);
	free(gp->delay_med);
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0;
}

/* The median of sorted per-peer values, the mean of the middle two when
 * their number is even (as the summary always reported). */
static double median(const double *v, int n)
{
	if (!n)
		return 0;
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void analysis_summary(const struct run_metrics *m, struct run_summary *out)
{
	memset(out, 0, sizeof(*out));
	out->valid = m->have_emulation ? m->emu_valid : -1;
	metric_values(m, out->metric);
	struct group_peers gp;
	out->control_overhead = m->have_overhead ? overhead_control_fraction(&m->overhead) : -1;
	if (!m->ngroups || group_gather(m, &m->g[0], &gp)) {
		if (m->ngroups)
			group_release(&gp);
		out->peers = m->npeers;
		return;
	}
	out->peers = gp.peers;
	out->played = gp.played;
	out->startup_median_s = median(gp.startup, gp.played);
	out->delay_median_ms = median(gp.delay_med, gp.played);
	out->continuity = ratio(gp.on_time, gp.due);
	out->verified = ratio(gp.verified, gp.due);
	if (gp.nmesh) {
		out->mesh_first_ms = gp.mesh_first / gp.nmesh;
		out->mesh_last_ms = gp.mesh_last / gp.nmesh;
	}
	group_release(&gp);
}

static void overhead_summary_json(struct json *j, const struct run_metrics *m)
{
	const struct overhead *o = &m->overhead;
	uint64_t data_msgs = o->type[WIRE_SEG_DATA].packets;
	json_key(j, "control_overhead");
	json_obj_begin(j);
	json_kdouble(j, "bytes_share", overhead_control_fraction(o), 6);
	json_kdouble(j, "messages_share", ratio(o->anysee.packets - data_msgs, o->anysee.packets),
	             6);
	struct probing pr;
	if (metric_probing(m, &pr) == 0) {
		json_key(j, "probing");
		json_obj_begin(j);
		json_kdouble(j, "messages_per_peer_minute", pr.messages_per_peer_minute, 3);
		json_kdouble(j, "bytes_per_peer_minute", pr.bytes_per_peer_minute, 1);
		json_kdouble(j, "media_share", pr.media_share, 6);
		json_obj_end(j);
	}
	json_obj_end(j);
}

static int keynode_mismatch(const struct run_metrics *m)
{
	int s = 0;
	for (int i = 0; i < m->npeers; i++)
		s += m->p[i].keynode_mismatch_s;
	return s;
}

/* Others' probes the peers sent on, held back for the forwarding budget
 * and refused as forged (peer/inter.h), summed over the run's peers. */
static struct evlog_probes probes_sum(const struct run_metrics *m)
{
	struct evlog_probes s = {0};
	for (int i = 0; i < m->npeers; i++) {
		s.forwarded += m->p[i].probes.forwarded;
		s.forwarded_bytes += m->p[i].probes.forwarded_bytes;
		s.over_budget += m->p[i].probes.over_budget;
		s.over_share += m->p[i].probes.over_share;
		s.refused += m->p[i].probes.refused;
	}
	return s;
}

static void probe_forwarding_json(struct json *j, const struct run_metrics *m)
{
	struct evlog_probes s = probes_sum(m);
	json_key(j, "probe_forwarding");
	json_obj_begin(j);
	json_ku64(j, "messages", s.forwarded);
	json_ku64(j, "bytes", s.forwarded_bytes);
	json_ku64(j, "over_budget", s.over_budget);
	json_ku64(j, "over_share", s.over_share);
	json_ku64(j, "refused", s.refused);
	json_obj_end(j);
}

/* Children kept after their peer ended and failovers after a parent's
 * crash (analysis/paths.h): the leases' and the backup paths' worth. */
static void paths_json(struct json *j, const struct run_metrics *m)
{
	const struct paths_summary *p = &m->ps;
	json_key(j, "children");
	json_obj_begin(j);
	json_ki64(j, "outlived", p->outlived);
	json_key(j, "outlive_s");
	json_obj_begin(j);
	json_kdouble(j, "p50", p->outlive_p50_s, 3);
	json_kdouble(j, "max", p->outlive_max_s, 3);
	json_obj_end(j);
	json_ki64(j, "over_two_leases", p->over_two_leases);
	json_ki64(j, "keynode_mismatch_s", keynode_mismatch(m));
	json_obj_end(j);
	json_key(j, "failover_s");
	json_obj_begin(j);
	json_ki64(j, "n", p->failovers);
	json_ki64(j, "unrecovered", p->unrecovered);
	json_kdouble(j, "p50", p->failover_p50_s, 3);
	json_kdouble(j, "p95", p->failover_p95_s, 3);
	json_kdouble(j, "detect_p50", p->detect_p50_s, 3);
	json_obj_end(j);
}

static void report_paths(const struct run_metrics *m, FILE *out)
{
	const struct paths_summary *p = &m->ps;
	if (!m->have_paths || (!p->outlived && !p->failovers && !keynode_mismatch(m)))
		return;
	fprintf(out,
	        "children: %d kept after their peer ended, by p50 %.2f s, max %.2f s (%d beyond "
	        "two leases); key-node slots unlike children in %d peer-seconds\n",
	        p->outlived, p->outlive_p50_s, p->outlive_max_s, p->over_two_leases,
	        keynode_mismatch(m));
	if (p->failovers || p->unrecovered)
		fprintf(out,
		        "failover: %d push paths whose parent crashed came back after p50 %.2f s, "
		        "p95 %.2f s (cut after p50 %.2f s); %d never did\n",
		        p->failovers, p->failover_p50_s, p->failover_p95_s, p->detect_p50_s,
		        p->unrecovered);
}

/* The paper's optimization index, ADL = leaving percentage / average delay
 * x 100 (section V). The paper does not give the units; here the leaving
 * percentage is the share of sessions that ended (left or crashed) before
 * the run was stopped, and the average delay the mean steady-state
 * source-to-end delay in milliseconds. So values are comparable between
 * runs, not with the paper's Table II. */
static void adl_json(struct json *j, const struct metrics_group *g, const struct group_peers *gp)
{
	double leaving = ratio((uint64_t)(gp->leaves + gp->crashes), (uint64_t)gp->joins);
	double mean_ms = g->delay.n ? (double)g->delay.sum / (double)g->delay.n / 1000 : 0;
	json_key(j, "adl");
	json_obj_begin(j);
	json_kdouble(j, "leaving_share", leaving, 4);
	json_kdouble(j, "mean_delay_ms", mean_ms, 3);
	json_key(j, "value");
	if (mean_ms > 0)
		json_double(j, 100 * leaving / mean_ms, 4);
	else
		json_null(j);
	json_obj_end(j);
}

/* {"mean": .., "max": ..} in cores. */
static void cpu_json(struct json *j, const char *key, double mean, double max)
{
	json_key(j, key);
	json_obj_begin(j);
	json_kdouble(j, "mean", mean, 4);
	json_kdouble(j, "max", max, 4);
	json_obj_end(j);
}

/* The switch's figures; null where the backend has no switch. */
static void emulation_switch_json(struct json *j, const struct run_metrics *m)
{
	const struct rundir_emulation *e = &m->emu;
	if (!e->have_switch) {
		json_key(j, "switch_cpu");
		json_null(j);
		json_key(j, "lateness_ms");
		json_null(j);
		json_key(j, "drops");
		json_null(j);
		return;
	}
	cpu_json(j, "switch_cpu", e->switch_cpu_mean, e->switch_cpu_max);
	json_key(j, "lateness_ms");
	json_obj_begin(j);
	json_kdouble(j, "p50", e->late_p50_us / 1000, 4);
	json_kdouble(j, "p99", e->late_p99_us / 1000, 4);
	json_kdouble(j, "max", e->late_max_us / 1000, 4);
	json_kdouble(j, "bound", analysis_lateness_bound_us(m->min_path_us) / 1000, 4);
	json_obj_end(j);
	json_ku64(j, "frames", e->frames);
	json_key(j, "drops");
	json_obj_begin(j);
	json_ku64(j, "queue", e->drop_queue);
	json_ku64(j, "random_loss", e->drop_loss);
	json_ku64(j, "partition", e->drop_partition);
	json_ku64(j, "kernel_send", e->drop_send);
	json_ku64(j, "kernel_receive", e->drop_receive);
	json_ku64(j, "switch_buffers", e->drop_nobuf);
	json_obj_end(j);
}

/* Random-loss drops over the packets the lossy paths' leaves saw, or -1. */
static double kernel_loss_share(const struct rundir_emulation *e)
{
	uint64_t seen = e->kernel_drop_loss + e->kernel_loss_packets;
	return seen ? (double)e->kernel_drop_loss / (double)seen : -1;
}

/* The kernel's qdisc counters (netem backend), labelled as such; null
 * where the backend has none. */
static void emulation_kernel_json(struct json *j, const struct rundir_emulation *e)
{
	json_key(j, "kernel");
	if (!e->have_kernel) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_kstr(j, "source", "qdisc counters (netem backend)");
	json_ku64(j, "packets", e->kernel_packets);
	json_ku64(j, "loss_path_packets", e->kernel_loss_packets);
	json_key(j, "drops");
	json_obj_begin(j);
	json_ku64(j, "random_loss", e->kernel_drop_loss);
	json_ku64(j, "upload_queue", e->kernel_drop_upload);
	json_ku64(j, "download_queue", e->kernel_drop_download);
	json_ku64(j, "partition", e->kernel_drop_partition);
	json_obj_end(j);
	json_key(j, "random_loss_share");
	if (kernel_loss_share(e) < 0)
		json_null(j);
	else
		json_double(j, kernel_loss_share(e), 5);
	json_ku64(j, "overlimits", e->kernel_overlimits);
	json_obj_end(j);
}

static void emulation_json(struct json *j, const struct run_metrics *m)
{
	json_key(j, "emulation");
	json_obj_begin(j);
	json_kbool(j, "valid", m->emu_valid);
	json_kstr(j, "reason", m->emu_reason);
	json_kdouble(j, "cpu_idle_mean", m->emu.cpu_idle_mean, 4);
	json_kdouble(j, "cpu_idle_min", m->emu.cpu_idle_min, 4);
	json_ku64(j, "samples", m->emu.samples);
	/* cpu.txt summed up: null for a run without it. */
	json_key(j, "cpu_by_second");
	if (m->cpu.have) {
		json_obj_begin(j);
		json_kdouble(j, "lowest_at_s", m->cpu.low_at_s, 0);
		json_ku64(j, "short_seconds", m->cpu.short_n);
		json_kdouble(j, "short_bound", EMU_IDLE_SECOND_MIN, 2);
		if (m->cpu.short_n) {
			json_kdouble(j, "short_first_s", m->cpu.short_first_s, 0);
			json_kdouble(j, "short_last_s", m->cpu.short_last_s, 0);
		}
		json_obj_end(j);
	} else {
		json_null(j);
	}
	cpu_json(j, "hosts_cpu", m->emu.hosts_cpu_mean, m->emu.hosts_cpu_max);
	json_ku64(j, "hosts_cpu_smeared_s", m->emu.hosts_cpu_smeared);
	json_key(j, "host_stalls");
	json_obj_begin(j);
	json_ki64(j, "count", m->stalls.n);
	json_kdouble(j, "max_ms", m->stalls.max_us / 1000, 1);
	json_kstr(j, "host", m->stall_host);
	json_kdouble(j, "bound_ms", EMU_STALL_MAX_US / 1000, 1);
	/* Which stalls the machine's own pauses explain: null without a probe. */
	json_key(j, "during_machine_pause");
	if (m->pauses.have)
		json_i64(j, m->stalls.paused);
	else
		json_null(j);
	json_obj_end(j);
	json_key(j, "machine_pauses");
	if (m->emu.have_pauses) {
		json_obj_begin(j);
		json_ku64(j, "count", m->emu.pauses);
		json_kdouble(j, "max_ms", m->emu.pause_max_us / 1000, 1);
		json_kdouble(j, "min_ms", RUNDIR_PAUSE_MIN_US / 1000.0, 1);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	emulation_switch_json(j, m);
	emulation_kernel_json(j, &m->emu);
	json_obj_end(j);
}

/* Tree height: overlay hops of every delivery, and of the push paths that
 * came up (hops from the source along the path). */
static void tree_json(struct json *j, const struct metrics_group *g, const struct group_peers *gp)
{
	json_key(j, "tree_height");
	json_obj_begin(j);
	json_kdouble(j, "mean", g->hops_n ? (double)g->hops_sum / (double)g->hops_n : 0, 3);
	json_ki64(j, "max", g->hops_max);
	json_key(j, "push_paths");
	json_obj_begin(j);
	json_ki64(j, "n", gp->push_paths);
	json_kdouble(j, "mean",
	             gp->push_paths ? (double)gp->push_hops_sum / (double)gp->push_paths : 0, 3);
	json_ki64(j, "max", gp->push_hops_max);
	json_obj_end(j);
	json_obj_end(j);
}

/* Resource utilization: upload used over upload available, the paper's
 * used connections over its N (each connection carries the stream rate),
 * and the share of the capacity each way of sending used. */
static void util_json(struct json *j, const struct group_peers *gp)
{
	double c = gp->up_capacity;
	json_key(j, "resource_utilization");
	if (c <= 0) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_kdouble(j, "used", (gp->up_pull + gp->up_push + gp->up_relay) / c, 4);
	json_kdouble(j, "pull", gp->up_pull / c, 4);
	json_kdouble(j, "push", gp->up_push / c, 4);
	json_kdouble(j, "relay", gp->up_relay / c, 4);
	json_obj_end(j);
}

static void group_json(struct json *j, const struct run_metrics *m, const struct metrics_group *g)
{
	struct group_peers gp;
	json_obj_begin(j);
	if (group_gather(m, g, &gp) == 0) {
		json_ki64(j, "peers", gp.peers);
		json_ki64(j, "played", gp.played);
		json_kdouble(j, "played_share", ratio((uint64_t)gp.played, (uint64_t)gp.peers), 4);
		json_key(j, "startup_delay_s");
		json_dist_sorted(j, gp.startup, (size_t)gp.played, 1, 3);
		json_key(j, "source_to_end_delay_ms");
		json_dist_hist(j, &g->delay, 1e-3, 3);
		json_key(j, "startup_backlog");
		json_obj_begin(j);
		json_ku64(j, "segments", g->backlog.n);
		json_kdouble(j, "delay_ms_p50", hist_quantile(&g->backlog, 0.5) / 1000, 3);
		json_obj_end(j);
		json_key(j, "playback_lag_s");
		json_dist_sorted(j, gp.lag, (size_t)gp.played, 1, 3);
		json_kdouble(j, "continuity_index", ratio(gp.on_time, gp.due), 6);
		json_kdouble(j, "verified_share", ratio(gp.verified, gp.due), 6);
		json_key(j, "stretch");
		if (m->have_delays)
			json_dist_hist(j, &g->stretch, 1e-3, 3);
		else
			json_null(j);
		tree_json(j, g, &gp);
		json_ki64(j, "joins", gp.joins);
		json_ki64(j, "leaves", gp.leaves);
		json_ki64(j, "crashes", gp.crashes);
		adl_json(j, g, &gp);
		util_json(j, &gp);
		json_key(j, "mesh_neighbour_delay_ms");
		json_obj_begin(j);
		json_kdouble(j, "first_round", gp.nmesh ? gp.mesh_first / gp.nmesh : 0, 3);
		json_kdouble(j, "last_round", gp.nmesh ? gp.mesh_last / gp.nmesh : 0, 3);
		json_obj_end(j);
		if (g == &m->g[0] && m->have_overhead)
			overhead_summary_json(j, m);
		if (g == &m->g[0])
			probe_forwarding_json(j, m);
		if (g == &m->g[0] && m->have_emulation)
			emulation_json(j, m);
		if (g == &m->g[0] && m->have_paths)
			paths_json(j, m);
	}
	group_release(&gp);
	json_obj_end(j);
}

static void peer_json(struct json *j, const struct peer_metrics *p)
{
	json_obj_begin(j);
	json_kstr(j, "name", p->name);
	json_kstr(j, "mode", p->mode);
	json_kstr(j, "stream", p->stream);
	json_kbool(j, "started", p->started);
	json_kdouble(j, "startup_delay_s", p->startup_s, 6);
	json_kdouble(j, "playback_lag_s", p->lag_s, 6);
	json_kdouble(j, "source_to_end_delay_ms_p50", p->delay_med_ms, 3);
	json_kdouble(j, "source_to_end_delay_ms_p95", p->delay_p95_ms, 3);
	json_kdouble(j, "source_to_end_delay_ms_max", p->delay_max_ms, 3);
	json_ku64(j, "steady_segments", p->steady);
	json_ku64(j, "backlog_segments", p->backlog);
	json_kdouble(j, "backlog_delay_ms_p50", p->backlog_med_ms, 3);
	json_kdouble(j, "stretch_p50", p->stretch_med, 3);
	json_kdouble(j, "stretch_p95", p->stretch_p95, 3);
	json_ku64(j, "due", p->due);
	json_ku64(j, "on_time", p->on_time);
	json_kdouble(j, "continuity", p->continuity, 6);
	json_ku64(j, "stored", p->stored);
	json_ku64(j, "verified_due", p->verified_due);
	json_kdouble(j, "verified_fraction", p->verified_fraction, 6);
	json_ku64(j, "corrupt", p->corrupt);
	json_ku64(j, "probes_forwarded_bytes", p->probes.forwarded_bytes);
	json_ku64(j, "probes_over_budget", p->probes.over_budget);
	json_ku64(j, "probes_over_share", p->probes.over_share);
	json_ku64(j, "probes_refused", p->probes.refused);
	json_ki64(j, "max_hops", p->max_hops);
	json_kdouble(j, "mean_hops", p->mean_hops, 3);
	json_kdouble(j, "mesh_first_ms", p->mesh_first_ms, 3);
	json_kdouble(j, "mesh_last_ms", p->mesh_last_ms, 3);
	json_ki64(j, "joins", p->joins);
	json_ki64(j, "leaves", p->leaves);
	json_ki64(j, "crashes", p->crashes);
	json_ku64(j, "bad_log_lines", p->bad_lines);
	if (*p->missing)
		json_kstr(j, "missing", p->missing);
	json_obj_end(j);
}

static void groups_json(struct json *j, const struct run_metrics *m, const char *kind)
{
	json_obj_begin(j);
	for (int i = 0; i < m->ngroups; i++) {
		if (strcmp(m->g[i].kind, kind))
			continue;
		json_key(j, m->g[i].name);
		group_json(j, m, &m->g[i]);
	}
	json_obj_end(j);
}

int analysis_write_json(const struct run_metrics *m, const char *path)
{
	struct json j;
	json_init(&j, true);
	json_obj_begin(&j);
	if (m->ngroups) {
		json_key(&j, "summary");
		group_json(&j, m, &m->g[0]);
	}
	json_key(&j, "by_mode");
	groups_json(&j, m, "mode");
	json_key(&j, "by_stream");
	groups_json(&j, m, "stream");
	json_key(&j, "peers");
	json_arr_begin(&j);
	for (int i = 0; i < m->npeers; i++)
		peer_json(&j, &m->p[i]);
	json_arr_end(&j);
	if (m->have_overhead) {
		json_key(&j, "overhead");
		overhead_write_json(&m->overhead, &j);
	}
	json_obj_end(&j);
	return json_write_file(&j, path);
}

int analysis_write_csv(const struct run_metrics *m, const char *path)
{
	FILE *csv = rundir_fopen(path, "w");
	if (!csv)
		return -1;
	fprintf(csv, "peer,mode,stream,started,startup_delay_s,source_to_end_delay_ms_p50,"
	             "source_to_end_delay_ms_p95,backlog_segments,due,on_time,continuity,"
	             "verified_fraction,max_hops,stretch_p50,joins,leaves,crashes\n");
	for (int i = 0; i < m->npeers; i++) {
		const struct peer_metrics *p = &m->p[i];
		fprintf(csv,
		        "%s,%s,%s,%d,%.3f,%.3f,%.3f,%llu,%llu,%llu,%.6f,%.6f,%d,%.3f,%d,%d,%d\n",
		        p->name, p->mode, p->stream, p->started, p->startup_s, p->delay_med_ms,
		        p->delay_p95_ms, (unsigned long long)p->backlog, (unsigned long long)p->due,
		        (unsigned long long)p->on_time, p->continuity, p->verified_fraction,
		        p->max_hops, p->stretch_med, p->joins, p->leaves, p->crashes);
	}
	return fclose(csv);
}

static void report_peers(const struct run_metrics *m, FILE *out)
{
	fprintf(out, "%-12s %-13s %9s %11s %11s %8s %10s %9s %5s\n", "peer", "mode", "startup_s",
	        "s2e_p50_ms", "s2e_p95_ms", "backlog", "continuity", "verified", "hops");
	for (int i = 0; i < m->npeers; i++) {
		const struct peer_metrics *p = &m->p[i];
		if (!p->started) {
			fprintf(out, "%-12s %-13s %9s%s%s\n", p->name, p->mode, "never",
			        *p->missing ? "  missing: " : "", p->missing);
			continue;
		}
		fprintf(out, "%-12s %-13s %9.2f %11.1f %11.1f %8llu %10.4f %8.1f%% %5d%s%s\n",
		        p->name, p->mode, p->startup_s, p->delay_med_ms, p->delay_p95_ms,
		        (unsigned long long)p->backlog, p->continuity, 100 * p->verified_fraction,
		        p->max_hops, *p->missing ? "  incomplete: " : "", p->missing);
	}
}

static void report_group(const struct run_metrics *m, const struct metrics_group *g, FILE *out)
{
	struct group_peers gp;
	if (group_gather(m, g, &gp) == 0 && gp.played) {
		fprintf(out,
		        "%s%s%s: %d/%d peers played; startup delay p50 %.2f s, p95 %.2f s; "
		        "source-to-end delay (steady state) p50 %.1f ms, p95 %.1f ms; continuity "
		        "index %.4f\n",
		        g == &m->g[0] ? "summary" : g->kind, g == &m->g[0] ? "" : " ", g->name,
		        gp.played, gp.peers, quantile_sorted(gp.startup, (size_t)gp.played, 0.5),
		        quantile_sorted(gp.startup, (size_t)gp.played, 0.95),
		        hist_quantile(&g->delay, 0.5) / 1000, hist_quantile(&g->delay, 0.95) / 1000,
		        ratio(gp.on_time, gp.due));
	} else if (g == &m->g[0]) {
		fprintf(out, "summary: no peer started playback\n");
	}
	group_release(&gp);
}

static void report_util(const struct run_metrics *m, FILE *out)
{
	struct group_peers gp;
	if (group_gather(m, &m->g[0], &gp) == 0 && gp.up_capacity > 0)
		fprintf(
		    out,
		    "resource utilization: %.1f%% of the peers' upload (pull %.1f%%, push %.1f%%, "
		    "relay %.1f%%)\n",
		    100 * (gp.up_pull + gp.up_push + gp.up_relay) / gp.up_capacity,
		    100 * gp.up_pull / gp.up_capacity, 100 * gp.up_push / gp.up_capacity,
		    100 * gp.up_relay / gp.up_capacity);
	group_release(&gp);
}

static void report_details(const struct run_metrics *m, const struct run_summary *s, FILE *out)
{
	const struct metrics_group *g = &m->g[0];
	if (g->backlog.n)
		fprintf(out,
		        "start-up backlog: %llu segments made before their peer played, delay p50 "
		        "%.1f ms (not in the source-to-end figures)\n",
		        (unsigned long long)g->backlog.n, hist_quantile(&g->backlog, 0.5) / 1000);
	if (m->have_delays && g->stretch.n)
		fprintf(out,
		        "stretch (over the shortest path from the source): p50 %.2f, p95 %.2f\n",
		        hist_quantile(&g->stretch, 0.5) / 1000,
		        hist_quantile(&g->stretch, 0.95) / 1000);
	report_util(m, out);
	if (g->hops_n)
		fprintf(out, "tree height (overlay hops of deliveries): mean %.2f, max %d\n",
		        (double)g->hops_sum / (double)g->hops_n, g->hops_max);
	if (s->mesh_first_ms > 0)
		fprintf(out,
		        "mesh (LTM): mean neighbour delay %.1f ms at the first round, %.1f ms at "
		        "the end\n",
		        s->mesh_first_ms, s->mesh_last_ms);
	report_paths(m, out);
}

/* The last lines name the pictures, each drawn as .svg and .png. */
static void report_pictures(const struct run_metrics *m, FILE *out)
{
	if (*m->plot_error) {
		fprintf(out, "pictures: not drawn: %s\n", m->plot_error);
		return;
	}
	if (!*m->pictures)
		return;
	fprintf(out, "pictures (.svg and .png):");
	char names[sizeof(m->pictures)];
	snprintf(names, sizeof(names), "%s", m->pictures);
	for (char *save = NULL, *t = strtok_r(names, " ", &save); t; t = strtok_r(NULL, " ", &save))
		fprintf(out, " %s/%s", PLOT_DIR, t);
	fprintf(out, "\n");
}

/* The kernel's qdisc counters, with the netem backend. */
static void report_kernel(const struct rundir_emulation *e, FILE *out)
{
	if (!e->have_kernel)
		return;
	double share = kernel_loss_share(e);
	fprintf(
	    out,
	    "emulation: kernel qdisc counters (netem): %llu packets sent; dropped: random loss "
	    "%llu (%.2f%% of %llu on lossy paths, their queue overflow included), upload "
	    "queue %llu, download queue %llu, partition %llu; HTB overlimits %llu\n",
	    (unsigned long long)e->kernel_packets, (unsigned long long)e->kernel_drop_loss,
	    100 * (share < 0 ? 0 : share),
	    (unsigned long long)(e->kernel_loss_packets + e->kernel_drop_loss),
	    (unsigned long long)e->kernel_drop_upload, (unsigned long long)e->kernel_drop_download,
	    (unsigned long long)e->kernel_drop_partition, (unsigned long long)e->kernel_overlimits);
}

/* The emulation's verdict, and what the hosts and the switch used and did. */
static void report_emulation(const struct run_metrics *m, FILE *out)
{
	const struct rundir_emulation *e = &m->emu;
	fprintf(out, "emulation: %s: %s\n",
	        m->emu_valid ? "valid" : "NOT VALID, not a protocol result", m->emu_reason);
	if (m->stalls.n) {
		fprintf(
		    out,
		    "emulation: host event loops stalled %d times for %u ms or more, the longest "
		    "%.0f ms (%s)",
		    m->stalls.n, EVLOG_STALL_US / 1000, m->stalls.max_us / 1000, m->stall_host);
		if (m->pauses.have)
			fprintf(out, "; %d of them while the machine itself paused",
			        m->stalls.paused);
		fputc('\n', out);
	}
	if (e->have_pauses && e->pauses)
		fprintf(out,
		        "emulation: the machine itself paused %llu time%s for %u ms or more, the "
		        "longest %.0f ms (a real-time probe on a CPU ran that late)\n",
		        (unsigned long long)e->pauses, e->pauses == 1 ? "" : "s",
		        RUNDIR_PAUSE_MIN_US / 1000, e->pause_max_us / 1000);
	else if (e->have_pauses)
		fprintf(
		    out,
		    "emulation: the machine itself never paused %u ms or more (a real-time probe "
		    "on each CPU)\n",
		    RUNDIR_PAUSE_MIN_US / 1000);
	const struct cpu_seconds *c = &m->cpu;
	if (c->have) {
		fprintf(out, "emulation: CPU idle by second (%s): lowest %.1f%% at %.0f s; ",
		        RUNDIR_CPU, 100 * c->low, c->low_at_s);
		if (c->short_n)
			fprintf(out, "under %.0f%% in %zu of %zu seconds, from %.0f s to %.0f s\n",
			        100 * EMU_IDLE_SECOND_MIN, c->short_n, c->n, c->short_first_s,
			        c->short_last_s);
		else
			fprintf(out, "never under %.0f%% in %zu seconds\n",
			        100 * EMU_IDLE_SECOND_MIN, c->n);
	}
	fprintf(out, "emulation: hosts %.2f cores on average (busiest second %.2f",
	        e->hosts_cpu_mean, e->hosts_cpu_max);
	if (e->hosts_cpu_smeared)
		fprintf(out, "; %llu s left out, their /proc readings too slow to time",
		        (unsigned long long)e->hosts_cpu_smeared);
	fprintf(out, ")");
	if (!e->have_switch) {
		fprintf(out, "; the backend has no shaping switch\n");
		report_kernel(e, out);
		return;
	}
	fprintf(out,
	        ", switch %.2f (%.2f); release lateness p50 %.3f ms, p99 %.3f ms, max %.3f ms; "
	        "%llu frames, dropped: queue %llu, random loss %llu, partition %llu, kernel send "
	        "%llu, kernel receive %llu, switch buffers %llu\n",
	        e->switch_cpu_mean, e->switch_cpu_max, e->late_p50_us / 1000, e->late_p99_us / 1000,
	        e->late_max_us / 1000, (unsigned long long)e->frames,
	        (unsigned long long)e->drop_queue, (unsigned long long)e->drop_loss,
	        (unsigned long long)e->drop_partition, (unsigned long long)e->drop_send,
	        (unsigned long long)e->drop_receive, (unsigned long long)e->drop_nobuf);
}

void analysis_report(const struct run_metrics *m, FILE *out)
{
	/* First, so that nobody reads the figures below as the protocol's. */
	if (m->have_emulation && !m->emu_valid)
		fprintf(out,
		        "WARNING: emulation NOT VALID (%s): the figures below measure the "
		        "machine, not the protocol\n",
		        m->emu_reason);
	fprintf(out, "run %s: %d peers\n", m->dir, m->npeers);
	report_peers(m, out);
	if (!m->ngroups)
		return;
	struct run_summary s;
	analysis_summary(m, &s);
	/* A mode or stream line only where there is more than one of its kind:
	 * else it repeats the summary. */
	int nmode = 0, nstream = 0;
	for (int i = 0; i < m->ngroups; i++) {
		nmode += !strcmp(m->g[i].kind, "mode");
		nstream += !strcmp(m->g[i].kind, "stream");
	}
	for (int i = 0; i < m->ngroups; i++) {
		const char *k = m->g[i].kind;
		if (i == 0 || (!strcmp(k, "mode") && nmode > 1) ||
		    (!strcmp(k, "stream") && nstream > 1))
			report_group(m, &m->g[i], out);
	}
	report_details(m, &s, out);
	if (m->have_emulation)
		report_emulation(m, out);
	struct probing pr;
	if (m->have_overhead)
		overhead_print(&m->overhead, out);
	if (m->have_overhead && metric_probing(m, &pr) == 0)
		fprintf(out,
		        "probing (ProbM): %.2f messages and %.0f bytes a peer a minute, %.3f%% of "
		        "the media bytes\n",
		        pr.messages_per_peer_minute, pr.bytes_per_peer_minute,
		        100 * pr.media_share);
	else if (*m->overhead_error)
		fprintf(out, "control overhead: not measured: %s\n", m->overhead_error);
	struct evlog_probes ps = probes_sum(m);
	if (ps.forwarded || ps.over_budget || ps.refused)
		fprintf(
		    out,
		    "probe forwarding: %llu probes (%llu bytes) sent on for other peers; %llu not "
		    "sent on, or to fewer neighbours, for the forwarding budget (%llu of them from "
		    "a sender past its share); %llu refused as forged\n",
		    (unsigned long long)ps.forwarded, (unsigned long long)ps.forwarded_bytes,
		    (unsigned long long)ps.over_budget, (unsigned long long)ps.over_share,
		    (unsigned long long)ps.refused);
	uint64_t bad = 0;
	for (int i = 0; i < m->npeers; i++)
		bad += m->p[i].bad_lines;
	if (bad)
		fprintf(out, "warning: %llu event log lines were unreadable or lacked a key\n",
		        (unsigned long long)bad);
	report_pictures(m, out);
}

int analysis_run(const char *dir, FILE *out, struct run_summary *sum, char *err, size_t errlen)
{
	struct run_metrics m;
	if (analysis_load(dir, &m, err, errlen))
		return -1;
	if (sum)
		analysis_summary(&m, sum);
	char path[1200];
	const char *failed = NULL;
	if (rundir_path(path, sizeof(path), dir, RUNDIR_METRICS) || analysis_write_json(&m, path))
		failed = RUNDIR_METRICS;
	else if (rundir_path(path, sizeof(path), dir, RUNDIR_PEERS_CSV) ||
	         analysis_write_csv(&m, path))
		failed = RUNDIR_PEERS_CSV;
	if (!failed)
		plot_run(&m, m.pictures, sizeof(m.pictures), m.plot_error, sizeof(m.plot_error));
	FILE *f = NULL;
	if (!failed &&
	    (rundir_path(path, sizeof(path), dir, RUNDIR_REPORT) || !(f = rundir_fopen(path, "w"))))
		failed = RUNDIR_REPORT;
	if (f) {
		analysis_report(&m, f);
		if (fclose(f))
			failed = RUNDIR_REPORT;
	}
	if (failed)
		err_set(err, errlen, "write %s into %s: %s", failed, dir, strerror(errno));
	else if (out)
		analysis_report(&m, out);
	analysis_free(&m);
	return failed ? -1 : 0;
}
