#include "peer/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/util.h"

static FILE *open_in(const char *dir, const char *name, const char *mode)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return fopen(path, mode);
}

/* A peer that rejoins appends to its logs: the segment log keeps its first
 * header, whose epoch every record's time is relative to. */
int evlog_open(struct evlog *l, const char *dir)
{
	memset(l, 0, sizeof(*l));
	l->clock = real_us;
	l->epoch_us = real_us();
	if (!dir)
		return 0;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -1;
	l->ev = open_in(dir, EVLOG_FILE, "ae");
	l->seg = open_in(dir, SEGLOG_FILE, "a+e");
	if (!l->ev || !l->seg) {
		evlog_close(l);
		return -1;
	}
	uint8_t hdr[SEGLOG_HDR_LEN];
	rewind(l->seg);
	if (fread(hdr, 1, sizeof(hdr), l->seg) == sizeof(hdr) &&
	    seglog_hdr_decode(hdr, &l->epoch_us) == 0)
		return 0;
	seglog_hdr_encode(l->epoch_us, hdr);
	fwrite(hdr, 1, sizeof(hdr), l->seg);
	/* On disk at once: a peer killed in its first second still leaves a
	 * readable log. */
	fflush(l->seg);
	return 0;
}

int evlog_append_killed(const char *dir, uint64_t ts_us)
{
	FILE *f = open_in(dir, EVLOG_FILE, "a+e");
	if (!f)
		return -1;
	/* The process may have died with half a line written. */
	int partial = 0;
	if (fseek(f, -1, SEEK_END) == 0)
		partial = fgetc(f) != '\n';
	fseek(f, 0, SEEK_END);
	fprintf(f, "%s%llu " LOGEV_KILLED "\n", partial ? "\n" : "", (unsigned long long)ts_us);
	return fclose(f);
}

void evlog_event(struct evlog *l, const char *event, const char *fmt, ...)
{
	if (!l->ev)
		return;
	fprintf(l->ev, "%llu %s", (unsigned long long)l->clock(), event);
	if (fmt && *fmt) {
		fputc(' ', l->ev);
		va_list ap;
		va_start(ap, fmt);
		vfprintf(l->ev, fmt, ap);
		va_end(ap);
	}
	fputc('\n', l->ev);
}

void evlog_stall(void *log, uint64_t late_us)
{
	evlog_event(log, LOGEV_STALL, LOGK_LATE_US "=%llu", (unsigned long long)late_us);
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void seglog_rec_encode(const struct seglog_rec *r, uint8_t out[SEGLOG_REC_LEN])
{
	put_le(out, r->seq, 4);
	put_le(out + 4, r->delay_us, 4);
	put_le(out + 8, r->t_ms, 4);
	out[12] = r->hops;
	out[13] = r->flags;
	put_le(out + 14, r->stream, 2);
}

void seglog_rec_decode(const uint8_t in[SEGLOG_REC_LEN], struct seglog_rec *r)
{
	r->seq = (uint32_t)get_le(in, 4);
	r->delay_us = (uint32_t)get_le(in + 4, 4);
	r->t_ms = (uint32_t)get_le(in + 8, 4);
	r->hops = in[12];
	r->flags = in[13];
	r->stream = (uint16_t)get_le(in + 14, 2);
}

void seglog_hdr_encode(uint64_t epoch_us, uint8_t out[SEGLOG_HDR_LEN])
{
	memcpy(out, SEGLOG_MAGIC, 8);
	put_le(out + 8, epoch_us, 8);
}

int seglog_hdr_decode(const uint8_t in[SEGLOG_HDR_LEN], uint64_t *epoch_us)
{
	if (memcmp(in, SEGLOG_MAGIC, 8))
		return -1;
	*epoch_us = get_le(in + 8, 8);
	return 0;
}

void evlog_segment(struct evlog *l, uint16_t stream, uint32_t seq, uint32_t delay_us, uint8_t hops,
                   uint8_t flags)
{
	if (!l->seg)
		return;
	struct seglog_rec rec = {
	    .seq = seq,
	    .delay_us = delay_us,
	    .t_ms = (uint32_t)((l->clock() - l->epoch_us) / 1000u),
	    .hops = hops,
	    .flags = flags,
	    .stream = stream,
	};
	uint8_t r[SEGLOG_REC_LEN];
	seglog_rec_encode(&rec, r);
	fwrite(r, 1, sizeof(r), l->seg);
}

void evlog_flush(struct evlog *l)
{
	if (l->ev)
		fflush(l->ev);
	if (l->seg)
		fflush(l->seg);
}

void evlog_close(struct evlog *l)
{
	if (l->ev)
		fclose(l->ev);
	if (l->seg)
		fclose(l->seg);
	l->ev = l->seg = NULL;
}

void evlog_start(struct evlog *l, const char *role, uint32_t id, const char *mode,
                 const char *stream, uint64_t rate_bps, uint64_t buffer_us)
{
	evlog_event(l, LOGEV_START,
	            "role=%s " LOGK_ID "=%u " LOGK_MODE "=%s stream=%s rate=%llu buffer_us=%llu",
	            role, id, mode, stream, (unsigned long long)rate_bps,
	            (unsigned long long)buffer_us);
	if (l->ev)
		fflush(l->ev);
}

void evlog_play_start(struct evlog *l, uint32_t seq, uint64_t startup_us, uint64_t lag_us)
{
	evlog_event(l, LOGEV_PLAY_START,
	            LOGK_SEQ "=%u " LOGK_STARTUP_US "=%llu " LOGK_LAG_US "=%llu", seq,
	            (unsigned long long)startup_us, (unsigned long long)lag_us);
}

void evlog_tick(struct evlog *l, const struct evlog_tick *t)
{
	evlog_event(l, LOGEV_TICK,
	            LOGK_DUE "=%llu " LOGK_ON_TIME "=%llu recv=%llu late=%llu dup=%llu np=%d "
	                     "last_delay_us=%u",
	            (unsigned long long)t->due, (unsigned long long)t->on_time,
	            (unsigned long long)t->recv, (unsigned long long)t->late,
	            (unsigned long long)t->dup, t->partners, t->last_delay_us);
}

void evlog_mesh(struct evlog *l, int neighbours, int measured, double mean_delay_us)
{
	evlog_event(l, LOGEV_MESH, "n=%d measured=%d " LOGK_MEAN_DELAY_US "=%.0f", neighbours,
	            measured, mean_delay_us);
}

void evlog_leave(struct evlog *l, const struct evlog_leave *t)
{
	evlog_event(l, LOGEV_LEAVE,
	            "received=%llu " LOGK_DUE "=%llu " LOGK_ON_TIME "=%llu served=%llu bad=%llu "
	            "late=%llu " LOGK_CORRUPT "=%llu " LOGK_REJECTED "=%llu",
	            (unsigned long long)t->received, (unsigned long long)t->due,
	            (unsigned long long)t->on_time, (unsigned long long)t->served,
	            (unsigned long long)t->bad, (unsigned long long)t->late,
	            (unsigned long long)t->corrupt, (unsigned long long)t->rejected);
}

void evlog_probes(struct evlog *l, const struct evlog_probes *p)
{
	evlog_event(l, LOGEV_PROBES,
	            LOGK_FORWARDED "=%llu " LOGK_FORWARDED_BYTES "=%llu " LOGK_OVER_BUDGET
	                           "=%llu " LOGK_OVER_SHARE "=%llu " LOGK_REFUSED "=%llu",
	            (unsigned long long)p->forwarded, (unsigned long long)p->forwarded_bytes,
	            (unsigned long long)p->over_budget, (unsigned long long)p->over_share,
	            (unsigned long long)p->refused);
}

void evlog_util(struct evlog *l, const struct evlog_util *u)
{
	evlog_event(l, LOGEV_UTIL,
	            LOGK_UPLOAD_BPS "=%llu " LOGK_RATE_BPS "=%llu " LOGK_PULL_BYTES
	                            "=%llu " LOGK_PUSH_BYTES "=%llu " LOGK_RELAY_BYTES
	                            "=%llu " LOGK_CHILDREN "=%d " LOGK_KEYNODE_USED "=%d",
	            (unsigned long long)u->upload_bps, (unsigned long long)u->rate_bps,
	            (unsigned long long)u->pull_bytes, (unsigned long long)u->push_bytes,
	            (unsigned long long)u->relay_bytes, u->children, u->keynode_used);
}

int evlog_parse(const char *line, struct evlog_line *e)
{
	char *end;
	errno = 0;
	unsigned long long ts = strtoull(line, &end, 10);
	if (end == line || errno || *end != ' ')
		return -1;
	const char *ev = end + 1;
	size_t n = strcspn(ev, " \r\n");
	if (!n || n >= sizeof(e->event))
		return -1;
	e->ts_us = ts;
	memcpy(e->event, ev, n);
	e->event[n] = 0;
	e->args = ev + n;
	return 0;
}

/* The value of key=... among the arguments, or NULL. */
static const char *arg_value(const struct evlog_line *e, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = e->args; (p = strstr(p, key)); p++)
		if (p > e->args && p[-1] == ' ' && p[kl] == '=')
			return p + kl + 1;
	return NULL;
}

int evlog_get_u64(const struct evlog_line *e, const char *key, uint64_t *v)
{
	const char *s = arg_value(e, key);
	if (!s || *s < '0' || *s > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || (*end && *end != ' ' && *end != '\n' && *end != '\r'))
		return -1;
	*v = x;
	return 0;
}

int evlog_get_str(const struct evlog_line *e, const char *key, char *buf, size_t len)
{
	const char *s = arg_value(e, key);
	if (!s || !len)
		return -1;
	size_t n = strcspn(s, " \r\n");
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = 0;
	return 0;
}
