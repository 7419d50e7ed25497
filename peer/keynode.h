/* Key node manager: admission control over a peer's spare upload
 * connections.
 *
 * A peer has N spare connections (about upload rate / stream rate) and
 * requests fall into M queues of different priority and popularity with
 * arrival rates lambda_j, each served at rate mu per connection with k
 * requests buffered per connection. A queue given m connections is an
 * M/M/m/K queue (M/M/1/K when m = 1) with K = m*k. The manager picks the
 * allocation (N_1..N_M), every N_j >= 1, sum N_j = N, that maximizes the
 * total utilization: the expected number of busy connections,
 * sum_j m_j rho_j (1 - p_K,j), rho_j = lambda_j / (m_j mu). Throughput of
 * an M/M/m/K queue is concave in m, so adding connections one at a time
 * where they gain most reaches the same optimum as enumerating all
 * C(N-1, M-1) allocations (tests check this against enumeration).
 */
#ifndef ANYSEE_KEYNODE_H
#define ANYSEE_KEYNODE_H

#include <stdint.h>

#define KEYNODE_MAX_QUEUES 8
/* The two request classes the peer uses. */
enum { KEYNODE_WATCH = 0, KEYNODE_RELAY = 1, KEYNODE_CLASSES = 2 };

/* Blocking probability p_K of an M/M/m/K queue (m = 1 gives M/M/1/K). */
double keynode_block(double lambda, double mu, int m, int K);
/* Utilization rho (1 - p_K) of one connection of that queue. */
double keynode_util(double lambda, double mu, int m, int K);
/* Expected busy connections m rho (1 - p_K). */
double keynode_busy(double lambda, double mu, int m, int K);

/* Best allocation of N connections over M queues (K = m*k per queue):
 * exhaustive enumeration, and the greedy equivalent. Both return the total
 * expected busy connections, or -1 when N < M or M is out of range. */
double keynode_allocate_enum(const double *lambda, int M, int N, double mu, int k, int *alloc);
double keynode_allocate_greedy(const double *lambda, int M, int N, double mu, int k, int *alloc);

/* Live admission over KEYNODE_CLASSES request classes. */
struct keynode {
	int n;     /* spare connections */
	int k;     /* requests buffered per connection */
	double mu; /* service rate per connection (1 / mean holding time) */
	int alloc[KEYNODE_CLASSES];
	int used[KEYNODE_CLASSES];
	double lambda[KEYNODE_CLASSES]; /* smoothed arrivals per second */
	uint32_t arrivals[KEYNODE_CLASSES];
	uint64_t window_start_us;
};

void keynode_init(struct keynode *kn, int n, double mu, int k);
/* A request of class cls arrived; 1 admitted (a connection taken), 0 refused. */
int keynode_admit(struct keynode *kn, int cls, uint64_t now_us);
void keynode_release(struct keynode *kn, int cls);
/* Would a request of class cls be admitted now? Counts no arrival: for a
 * node asking itself whether to offer a slot, not for a request. */
int keynode_has_room(const struct keynode *kn, int cls);

#endif
