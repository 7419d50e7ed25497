#include "lib/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char *progname = "anysee";

static uint64_t clock_us(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t mono_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}
uint64_t real_us(void)
{
	return clock_us(CLOCK_REALTIME);
}

void util_set_progname(const char *name)
{
	const char *slash = strrchr(name, '/');
	progname = slash ? slash + 1 : name;
}

const char *util_progname(void)
{
	return progname;
}

static void vmsg(const char *fmt, va_list ap, int errnum)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "%s: ", progname);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	if (m > 0)
		n += m;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	if (errnum)
		snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", strerror(errnum));
	fprintf(stderr, "%s\n", buf);
}

void err_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
}

void err_errno(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap, e);
	va_end(ap);
}

int err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Parse a non-negative decimal number followed by a unit from table. */
struct unit {
	const char *name;
	double scale;
};

/* Length of the plain decimal number at the start of s: an optional sign,
 * digits with at most one point, an optional exponent. strtod alone would
 * also take "0x10", "inf", "nan" and leading blanks, which no value here
 * means. */
static size_t decimal_span(const char *s)
{
	size_t i = (*s == '+' || *s == '-'), digits = 0;
	for (; s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (s[i] == '.')
		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	if (!digits)
		return 0;
	if (s[i] == 'e' || s[i] == 'E') {
		size_t j = i + 1 + (s[i + 1] == '+' || s[i + 1] == '-');
		if (s[j] >= '0' && s[j] <= '9') {
			while (s[j] >= '0' && s[j] <= '9')
				j++;
			i = j;
		}
	}
	return i;
}

/* The decimal number at the start of s and where it ends. */
static int read_decimal(const char *s, double *out, const char **end)
{
	char buf[64];
	size_t n = s ? decimal_span(s) : 0;
	if (!n || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	errno = 0;
	double v = strtod(buf, NULL);
	if (errno || !isfinite(v))
		return -1;
	*out = v;
	*end = s + n;
	return 0;
}

int parse_decimal(const char *s, double *out)
{
	const char *end;
	double v;
	if (read_decimal(s, &v, &end) || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_scaled(const char *s, const struct unit *units, size_t nunits, double *out)
{
	const char *end;
	double v;
	if (read_decimal(s, &v, &end) || v < 0)
		return -1;
	for (size_t i = 0; i < nunits; i++) {
		if (strcasecmp(end, units[i].name) == 0) {
			*out = v * units[i].scale;
			return 0;
		}
	}
	return -1;
}

int parse_rate(const char *s, uint64_t *bps)
{
	static const struct unit u[] = {
	    {"", 1}, {"bit", 1}, {"bps", 1}, {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9},
	};
	double v;
	if (parse_scaled(s, u, ARRAY_LEN(u), &v) || v > 1e12)
		return -1;
	*bps = (uint64_t)llround(v);
	return 0;
}

int parse_duration(const char *s, uint64_t *us)
{
	static const struct unit u[] = {
	    {"", 1e6}, {"s", 1e6}, {"ms", 1e3}, {"us", 1}, {"min", 60e6},
	};
	double v;
	if (parse_scaled(s, u, ARRAY_LEN(u), &v) || v > 1e15)
		return -1;
	*us = (uint64_t)llround(v);
	return 0;
}

int parse_long(const char *s, long min, long max, long *out)
{
	/* strtol would skip blanks and take a '+'. */
	if (!s || !((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')))
		return -1;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	if (n == 0)
		return 0;
	/* Rejection keeps the draw unbiased. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;
	do
		x = rng_next(r);
	while (x >= limit);
	return x % n;
}

double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

double bucket_level(struct bucket *b, double rate, double cap, uint64_t now_us)
{
	if (!b->at_us) {
		b->tokens = cap;
		b->at_us = now_us;
	} else if (now_us > b->at_us) {
		b->tokens += rate * (double)(now_us - b->at_us) / 1e6;
		b->at_us = now_us;
	}
	if (b->tokens > cap)
		b->tokens = cap;
	return b->tokens;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
