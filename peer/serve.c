#include "peer/serve.h"

int serve_budget(struct partner *p, uint64_t period_us, int asked, uint64_t now_us)
{
	double per_s = 1e6 / (double)(period_us ? period_us : 1);
	double cap = SERVE_BURST_S * per_s;
	if (!p->serve_us) {
		p->serve_tokens = cap;
	} else if (now_us > p->serve_us) {
		p->serve_tokens += SERVE_RATE_FACTOR * per_s * (double)(now_us - p->serve_us) / 1e6;
		if (p->serve_tokens > cap)
			p->serve_tokens = cap;
	}
	p->serve_us = now_us;
	int n = asked < (int)p->serve_tokens ? asked : (int)p->serve_tokens;
	if (n < 0)
		n = 0;
	p->serve_tokens -= n;
	return n;
}
