#include "analysis/metric.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const struct metric_def metric_defs[M_COUNT] = {
    [M_PLAYED_SHARE] = {"played_share", "share"},
    [M_CONTINUITY] = {"continuity_index", "share"},
    [M_VERIFIED] = {"verified_share", "share"},
    [M_STARTUP_P50] = {"startup_delay_s.p50", "s"},
    [M_STARTUP_P95] = {"startup_delay_s.p95", "s"},
    [M_S2E_P50] = {"source_to_end_delay_ms.p50", "ms"},
    [M_S2E_P95] = {"source_to_end_delay_ms.p95", "ms"},
    [M_LAG_P50] = {"playback_lag_s.p50", "s"},
    [M_STRETCH_P50] = {"stretch.p50", ""},
    [M_STRETCH_P95] = {"stretch.p95", ""},
    [M_HEIGHT_MEAN] = {"tree_height.mean", "hops"},
    [M_HEIGHT_MAX] = {"tree_height.max", "hops"},
    [M_OVERHEAD_BYTES] = {"control_overhead.bytes_share", "share"},
    [M_CRASHES] = {"crashes", ""},
    [M_UTILIZATION] = {"resource_utilization.used", "share"},
    [M_PROBE_SHARE] = {"control_overhead.probing.media_share", "share"},
    [M_OUTLIVE_MAX] = {"children.outlive_s.max", "s"},
    [M_FAILOVER_P50] = {"failover_s.p50", "s"},
    [M_KEYNODE_MISMATCH] = {"children.keynode_mismatch_s", "s"},
    [M_EMULATION_VALID] = {"emulation.valid", ""},
};

int metric_probing(const struct run_metrics *m, struct probing *pr)
{
	double peer_minutes = 0;
	for (int i = 0; i < m->npeers; i++)
		peer_minutes += m->p[i].up_seconds / 60;
	const struct overhead_count *probe = &m->overhead.type[WIRE_PROBE];
	const struct overhead_count *media = &m->overhead.type[WIRE_SEG_DATA];
	if (!m->have_overhead || peer_minutes <= 0 || !media->bytes)
		return -1;
	pr->messages_per_peer_minute = (double)probe->packets / peer_minutes;
	pr->bytes_per_peer_minute = (double)probe->bytes / peer_minutes;
	pr->media_share = (double)probe->bytes / (double)media->bytes;
	return 0;
}

int metric_find(const char *name)
{
	for (int i = 0; i < M_COUNT; i++)
		if (!strcmp(metric_defs[i].name, name))
			return i;
	return -1;
}

void metric_values(const struct run_metrics *m, double out[M_COUNT])
{
	for (int i = 0; i < M_COUNT; i++)
		out[i] = NAN;
	const struct metrics_group *g = m->ngroups ? &m->g[0] : NULL;
	struct group_peers gp;
	if (!g || group_gather(m, g, &gp)) {
		if (g)
			group_release(&gp);
		return;
	}
	size_t played = (size_t)gp.played;
	out[M_PLAYED_SHARE] = gp.peers ? (double)gp.played / gp.peers : NAN;
	out[M_CRASHES] = gp.crashes;
	if (gp.due) {
		out[M_CONTINUITY] = (double)gp.on_time / (double)gp.due;
		out[M_VERIFIED] = (double)gp.verified / (double)gp.due;
	}
	if (played) {
		out[M_STARTUP_P50] = quantile_sorted(gp.startup, played, 0.5);
		out[M_STARTUP_P95] = quantile_sorted(gp.startup, played, 0.95);
		out[M_LAG_P50] = quantile_sorted(gp.lag, played, 0.5);
	}
	double used = gp.up_pull + gp.up_push + gp.up_relay;
	if (gp.up_capacity > 0)
		out[M_UTILIZATION] = used / gp.up_capacity;
	group_release(&gp);
	if (g->delay.n) {
		out[M_S2E_P50] = hist_quantile(&g->delay, 0.5) / 1000;
		out[M_S2E_P95] = hist_quantile(&g->delay, 0.95) / 1000;
	}
	if (m->have_delays && g->stretch.n) {
		out[M_STRETCH_P50] = hist_quantile(&g->stretch, 0.5) / 1000;
		out[M_STRETCH_P95] = hist_quantile(&g->stretch, 0.95) / 1000;
	}
	if (g->hops_n) {
		out[M_HEIGHT_MEAN] = (double)g->hops_sum / (double)g->hops_n;
		out[M_HEIGHT_MAX] = g->hops_max;
	}
	if (m->have_overhead) {
		out[M_OVERHEAD_BYTES] = overhead_control_fraction(&m->overhead);
		struct probing pr;
		if (metric_probing(m, &pr) == 0)
			out[M_PROBE_SHARE] = pr.media_share;
	}
	if (m->have_emulation)
		out[M_EMULATION_VALID] = m->emu_valid;
	if (m->have_paths) {
		/* No child outlived its peer: 0, the best value, not unknown. */
		out[M_OUTLIVE_MAX] = m->ps.outlive_max_s;
		if (m->ps.failovers)
			out[M_FAILOVER_P50] = m->ps.failover_p50_s;
		int mismatch = 0;
		for (int i = 0; i < m->npeers; i++)
			mismatch += m->p[i].keynode_mismatch_s;
		out[M_KEYNODE_MISMATCH] = mismatch;
	}
}
