/* Shared helpers: the one clock, the one error/log convention, and the one
 * option-value parser used by every binary of the project. */
#ifndef ANYSEE_UTIL_H
#define ANYSEE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Monotonic clock for timers and intervals. */
uint64_t mono_us(void);
/* Real-time clock for timestamps that cross hosts (all namespaces share one
 * kernel clock: it plays the role of the paper's NTP). */
uint64_t real_us(void);

/* Program name shown in front of every message (set once in main). */
void util_set_progname(const char *name);
const char *util_progname(void);

/* "prog: message" on stderr. The message should say what was attempted, on
 * what, and why. err_errno appends ": strerror(errno)". */
void err_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void err_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Format a one-line reason into err (the convention of every function that
 * takes char *err, size_t errlen). Returns -1, so `return err_set(...)`. */
int err_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Parse values such as "300kbit", "10mbit", "1.5mbit" into bits per second. */
int parse_rate(const char *s, uint64_t *bps);
/* Parse "25ms", "1.5s", "200us", "30" (seconds) into microseconds. */
int parse_duration(const char *s, uint64_t *us);
/* Parse a plain decimal number ("12", "-0.5", "1e3"); refuses hex, inf,
 * nan, blanks and anything after the number. */
int parse_decimal(const char *s, double *out);
/* Parse a whole decimal integer in [min, max]. */
int parse_long(const char *s, long min, long max, long *out);

/* Deterministic PRNG (xoshiro256**) so every seeded choice is reproducible. */
struct rng {
	uint64_t s[4];
};
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, n). */
uint64_t rng_below(struct rng *r, uint64_t n);
/* Uniform in [0, 1). */
double rng_unit(struct rng *r);

/* A token bucket, the one budget of replies and forwards: refilled at rate
 * tokens a second up to cap, and full when first used (at_us 0). */
struct bucket {
	double tokens;
	uint64_t at_us;
};
/* Refills b to now_us (a clock that went back adds nothing) and returns the
 * tokens it holds; a user takes n with b->tokens -= n. */
double bucket_level(struct bucket *b, double rate, double cap, uint64_t now_us);

/* Write all of buf or fail; retries on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
