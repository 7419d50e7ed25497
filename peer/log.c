#include "peer/log.h"

#include <errno.h>
#include <stdarg.h>
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
	l->epoch_us = real_us();
	if (!dir)
		return 0;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -1;
	l->ev = open_in(dir, "events.log", "ae");
	l->seg = open_in(dir, "segments.bin", "a+e");
	if (!l->ev || !l->seg) {
		evlog_close(l);
		return -1;
	}
	uint8_t hdr[16];
	rewind(l->seg);
	if (fread(hdr, 1, sizeof(hdr), l->seg) == sizeof(hdr) && !memcmp(hdr, SEGLOG_MAGIC, 8)) {
		l->epoch_us = 0;
		for (int i = 0; i < 8; i++)
			l->epoch_us |= (uint64_t)hdr[8 + i] << (8 * i);
		return 0;
	}
	memcpy(hdr, SEGLOG_MAGIC, 8);
	for (int i = 0; i < 8; i++)
		hdr[8 + i] = (uint8_t)(l->epoch_us >> (8 * i));
	fwrite(hdr, 1, sizeof(hdr), l->seg);
	return 0;
}

void evlog_event(struct evlog *l, const char *event, const char *fmt, ...)
{
	if (!l->ev)
		return;
	fprintf(l->ev, "%llu %s", (unsigned long long)real_us(), event);
	if (fmt && *fmt) {
		fputc(' ', l->ev);
		va_list ap;
		va_start(ap, fmt);
		vfprintf(l->ev, fmt, ap);
		va_end(ap);
	}
	fputc('\n', l->ev);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void evlog_segment(struct evlog *l, uint16_t stream, uint32_t seq, uint32_t delay_us, uint8_t hops,
                   uint8_t flags)
{
	if (!l->seg)
		return;
	uint8_t r[16];
	put32(r, seq);
	put32(r + 4, delay_us);
	put32(r + 8, (uint32_t)((real_us() - l->epoch_us) / 1000u));
	r[12] = hops;
	r[13] = flags;
	r[14] = (uint8_t)stream;
	r[15] = (uint8_t)(stream >> 8);
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
