/* The optimization index ADL (section V.D of the paper) and the probing
 * frequency it drives.
 *
 * ADL = leaving percentage / average delay x 100. "Too many users leaving
 * the overlay is the signal that the overlay is under heavy burden and
 * needs to be optimized", so AnySee sets the optimization frequency by
 * ADL against a threshold. The paper gives neither the units nor the
 * threshold; assumed here, each a peer's own view over ADL_WINDOW_US:
 * - leaving percentage: the contacts (partners and mesh neighbours) that
 *   left or went silent, as a share of the contacts it had on average;
 * - average delay: the mean of its LastDelay samples, in seconds;
 * units under which the paper's Table II comes out at its magnitude (a
 * share of 0.15 over 25 s of delay gives 0.6);
 * - threshold ADL_THRESHOLD = 0.5: the hot periods of Table II average
 *   0.52 to 0.62, so an overlay churning like them is optimized at the
 *   full frequency, and a stable one (nobody leaving, ADL 0) at a quarter
 *   of it (ADL_SLOW).
 * Until the first window closes the index is unknown and the frequency is
 * full: a peer that just joined has paths to find. */
#ifndef ANYSEE_ADL_H
#define ANYSEE_ADL_H

#include <stdint.h>

#define ADL_WINDOW_US 30000000u
#define ADL_THRESHOLD 0.5
#define ADL_RECENT 16
#define ADL_SLOW 4 /* the period below the threshold, in base periods */

struct adl {
	uint64_t window_start_us;
	double contacts_sum; /* contacts summed over the samples */
	double delay_sum_s;  /* LastDelay summed over the samples that had one */
	uint32_t samples, delay_samples, leaves;
	uint32_t recent[ADL_RECENT]; /* leavers counted lately: each counts once */
	int recent_next;
	int known;    /* a window closed: value holds */
	double value; /* ADL of the last closed window */
};

/* The index of one window: leaving share over mean delay in seconds, x
 * 100; 0 when nobody left, and nobody leaving with no delay known. */
double adl_index(uint32_t leaves, double mean_contacts, double mean_delay_s);
/* A contact left or went silent (counted once however often it is told). */
void adl_leave(struct adl *a, uint32_t id);
/* Once a tick: the contacts now and LastDelay (0: none). Closes a window
 * every ADL_WINDOW_US; 1 when this sample closed one. */
int adl_sample(struct adl *a, int contacts, uint32_t last_delay_us, uint64_t now_us);
/* The probing interval: base_us while the index is unknown or at the
 * threshold or above, ADL_SLOW x base_us below it. */
uint64_t adl_probe_interval_us(const struct adl *a, uint64_t base_us);

#endif
