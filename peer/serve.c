#include "peer/serve.h"

int serve_budget(struct bucket *b, uint64_t period_us, int asked, uint64_t now_us)
{
	double per_s = 1e6 / (double)(period_us ? period_us : 1);
	double level = bucket_level(b, SERVE_RATE_FACTOR * per_s, SERVE_BURST_S * per_s, now_us);
	int n = asked < (int)level ? asked : (int)level;
	if (n < 0)
		n = 0;
	b->tokens -= n;
	return n;
}
