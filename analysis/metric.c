#include "analysis/metric.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const struct metric_def metric_defs[M_COUNT] = {
    [M_PLAYED_SHARE] = {"played_share", "share", 1},
    [M_CONTINUITY] = {"continuity_index", "share", 1},
    [M_VERIFIED] = {"verified_share", "share", 1},
    [M_STARTUP_P50] = {"startup_delay_s.p50", "s", 0},
    [M_STARTUP_P95] = {"startup_delay_s.p95", "s", 0},
    [M_S2E_P50] = {"source_to_end_delay_ms.p50", "ms", 0},
    [M_S2E_P95] = {"source_to_end_delay_ms.p95", "ms", 0},
    [M_LAG_P50] = {"playback_lag_s.p50", "s", 0},
    [M_STRETCH_P50] = {"stretch.p50", "", 0},
    [M_STRETCH_P95] = {"stretch.p95", "", 0},
    [M_HEIGHT_MEAN] = {"tree_height.mean", "hops", 0},
    [M_HEIGHT_MAX] = {"tree_height.max", "hops", 0},
    [M_OVERHEAD_BYTES] = {"control_overhead.bytes_share", "share", 0},
    [M_CRASHES] = {"crashes", "", 0},
    [M_UTILIZATION] = {"resource_utilization.used", "share", 1},
    [M_EMULATION_VALID] = {"emulation.valid", "", 1},
};

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
	int n = m->npeers, played = 0, crashes = 0;
	uint64_t due = 0, on = 0, ver = 0;
	double *st = calloc((size_t)n + 1, sizeof(*st)), *lag = calloc((size_t)n + 1, sizeof(*lag));
	for (int i = 0; st && lag && i < n; i++) {
		const struct peer_metrics *p = &m->p[i];
		due += p->due;
		on += p->on_time;
		ver += p->verified_due;
		crashes += p->crashes;
		if (p->started) {
			st[played] = p->startup_s;
			lag[played++] = p->lag_s;
		}
	}
	out[M_PLAYED_SHARE] = n ? (double)played / n : NAN;
	out[M_CRASHES] = crashes;
	if (due) {
		out[M_CONTINUITY] = (double)on / (double)due;
		out[M_VERIFIED] = (double)ver / (double)due;
	}
	if (played && st && lag) {
		sort_doubles(st, (size_t)played);
		sort_doubles(lag, (size_t)played);
		out[M_STARTUP_P50] = quantile_sorted(st, (size_t)played, 0.5);
		out[M_STARTUP_P95] = quantile_sorted(st, (size_t)played, 0.95);
		out[M_LAG_P50] = quantile_sorted(lag, (size_t)played, 0.5);
	}
	free(st);
	free(lag);
	const struct metrics_group *g = m->ngroups ? &m->g[0] : NULL;
	if (g && g->delay.n) {
		out[M_S2E_P50] = hist_quantile(&g->delay, 0.5) / 1000;
		out[M_S2E_P95] = hist_quantile(&g->delay, 0.95) / 1000;
	}
	if (g && m->have_delays && g->stretch.n) {
		out[M_STRETCH_P50] = hist_quantile(&g->stretch, 0.5) / 1000;
		out[M_STRETCH_P95] = hist_quantile(&g->stretch, 0.95) / 1000;
	}
	if (g && g->hops_n) {
		out[M_HEIGHT_MEAN] = (double)g->hops_sum / (double)g->hops_n;
		out[M_HEIGHT_MAX] = g->hops_max;
	}
	if (m->have_overhead)
		out[M_OVERHEAD_BYTES] = overhead_control_fraction(&m->overhead);
	double cap = 0, used = 0;
	for (int i = 0; i < n; i++) {
		cap += m->p[i].up_capacity;
		used += m->p[i].up_pull + m->p[i].up_push + m->p[i].up_relay;
	}
	if (cap > 0)
		out[M_UTILIZATION] = used / cap;
	if (m->have_emulation)
		out[M_EMULATION_VALID] = m->emu_valid;
}
