#include "peer/adl.h"

double adl_index(uint32_t leaves, double mean_contacts, double mean_delay_s)
{
	if (!leaves)
		return 0;
	double share = leaves / (mean_contacts > leaves ? mean_contacts : leaves);
	/* Leaves with no delay measured: as high as an index goes. */
	if (!(mean_delay_s > 0))
		return 1e9;
	return share / mean_delay_s * 100;
}

void adl_leave(struct adl *a, uint32_t id)
{
	for (int i = 0; i < ADL_RECENT; i++)
		if (id && a->recent[i] == id)
			return;
	a->recent[a->recent_next] = id;
	a->recent_next = (a->recent_next + 1) % ADL_RECENT;
	a->leaves++;
}

int adl_sample(struct adl *a, int contacts, uint32_t last_delay_us, uint64_t now_us)
{
	if (!a->window_start_us)
		a->window_start_us = now_us;
	a->contacts_sum += contacts > 0 ? contacts : 0;
	a->samples++;
	if (last_delay_us) {
		a->delay_sum_s += last_delay_us / 1e6;
		a->delay_samples++;
	}
	if (now_us - a->window_start_us < ADL_WINDOW_US)
		return 0;
	double delay = a->delay_samples ? a->delay_sum_s / a->delay_samples : 0;
	a->value = adl_index(a->leaves, a->contacts_sum / a->samples, delay);
	a->known = 1;
	a->window_start_us = now_us;
	a->contacts_sum = a->delay_sum_s = 0;
	a->samples = a->delay_samples = a->leaves = 0;
	return 1;
}

uint64_t adl_probe_interval_us(const struct adl *a, uint64_t base_us)
{
	return !a->known || a->value >= ADL_THRESHOLD ? base_us : ADL_SLOW * base_us;
}
