#include "harness/evqueue.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static int reserve(struct evqueue *q, int cap, char *err, size_t errlen)
{
	if (cap <= q->cap)
		return 0;
	struct sched_event *n = realloc(q->ev, (size_t)cap * sizeof(*n));
	if (!n)
		return err_set(err, errlen, "queue %d scheduled events: out of memory", cap);
	q->ev = n;
	q->cap = cap;
	return 0;
}

int evqueue_init(struct evqueue *q, const struct sched_event *sched, int n, char *err,
                 size_t errlen)
{
	memset(q, 0, sizeof(*q));
	if (reserve(q, n + 16, err, errlen))
		return -1;
	memcpy(q->ev, sched, (size_t)n * sizeof(*sched));
	q->n = n;
	return 0;
}

void evqueue_free(struct evqueue *q)
{
	free(q->ev);
	memset(q, 0, sizeof(*q));
}

const struct sched_event *evqueue_peek(const struct evqueue *q)
{
	return q->head < q->n ? &q->ev[q->head] : NULL;
}

int evqueue_pop(struct evqueue *q, struct sched_event *e)
{
	if (q->head >= q->n)
		return -1;
	*e = q->ev[q->head++];
	return 0;
}

int evqueue_push(struct evqueue *q, struct sched_event e, char *err, size_t errlen)
{
	if (q->n == q->cap && q->head > 0) {
		/* Fired events are not needed any more: reuse their room. */
		memmove(q->ev, &q->ev[q->head], (size_t)(q->n - q->head) * sizeof(*q->ev));
		q->n -= q->head;
		q->head = 0;
	}
	if (q->n == q->cap && reserve(q, 2 * q->cap, err, errlen))
		return -1;
	int k = q->n;
	while (k > q->head && q->ev[k - 1].t > e.t)
		k--;
	memmove(&q->ev[k + 1], &q->ev[k], (size_t)(q->n - k) * sizeof(*q->ev));
	q->ev[k] = e;
	q->n++;
	return 0;
}
