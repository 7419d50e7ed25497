#include "lib/json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void json_init(struct json *j, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->pretty = pretty;
}

void json_free(struct json *j)
{
	free(j->buf);
	j->buf = NULL;
	j->len = j->cap = 0;
}

static void put(struct json *j, const char *s, size_t n)
{
	if (j->failed)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 256;
		while (j->len + n + 1 > cap)
			cap *= 2;
		char *b = realloc(j->buf, cap);
		if (!b) {
			j->failed = true;
			return;
		}
		j->buf = b;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = 0;
}

static void puts_(struct json *j, const char *s)
{
	put(j, s, strlen(s));
}

static void putf(struct json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct json *j, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		j->failed = true;
	else
		put(j, tmp, (size_t)n);
}

static void newline(struct json *j)
{
	if (!j->pretty)
		return;
	put(j, "\n", 1);
	for (int i = 0; i < j->depth; i++)
		put(j, "  ", 2);
}

/* Separator before a value: nothing after a key, a comma between items. */
static void before_value(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (j->has_items[j->depth - 1])
			put(j, ",", 1);
		j->has_items[j->depth - 1] = true;
		newline(j);
	}
}

static void open_(struct json *j, char c)
{
	before_value(j);
	if (j->depth >= JSON_MAX_DEPTH) {
		j->failed = true;
		return;
	}
	put(j, &c, 1);
	j->has_items[j->depth++] = false;
}

static void close_(struct json *j, char c)
{
	if (j->depth <= 0 || j->after_key) {
		j->failed = true;
		return;
	}
	bool items = j->has_items[--j->depth];
	if (items)
		newline(j);
	put(j, &c, 1);
}

void json_obj_begin(struct json *j)
{
	open_(j, '{');
}

void json_obj_end(struct json *j)
{
	close_(j, '}');
}

void json_arr_begin(struct json *j)
{
	open_(j, '[');
}

void json_arr_end(struct json *j)
{
	close_(j, ']');
}

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static void escaped(struct json *j, const char *s)
{
	put(j, "\"", 1);
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned char c = *p;
		const char *esc = NULL;
		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		default:
			break;
		}
		if (esc) {
			puts_(j, esc);
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			putf(j, "\\u%04x", c);
			p++;
		} else {
			size_t n = utf8_len(p);
			if (n) {
				put(j, (const char *)p, n);
				p += n;
			} else {
				puts_(j, "\\ufffd");
				p++;
			}
		}
	}
	put(j, "\"", 1);
}

void json_key(struct json *j, const char *key)
{
	if (j->depth <= 0 || j->after_key) {
		j->failed = true;
		return;
	}
	before_value(j);
	escaped(j, key);
	puts_(j, j->pretty ? ": " : ":");
	j->after_key = true;
}

void json_str(struct json *j, const char *s)
{
	before_value(j);
	if (s)
		escaped(j, s);
	else
		puts_(j, "null");
}

void json_u64(struct json *j, uint64_t v)
{
	before_value(j);
	putf(j, "%" PRIu64, v);
}

void json_i64(struct json *j, int64_t v)
{
	before_value(j);
	putf(j, "%" PRId64, v);
}

void json_double(struct json *j, double v, int decimals)
{
	before_value(j);
	if (!isfinite(v))
		puts_(j, "null");
	else
		putf(j, "%.*f", decimals < 0 ? 0 : decimals > 17 ? 17 : decimals, v);
}

void json_bool(struct json *j, bool v)
{
	before_value(j);
	puts_(j, v ? "true" : "false");
}

void json_null(struct json *j)
{
	before_value(j);
	puts_(j, "null");
}

void json_kstr(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void json_ku64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_u64(j, v);
}

void json_ki64(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_i64(j, v);
}

void json_kdouble(struct json *j, const char *key, double v, int decimals)
{
	json_key(j, key);
	json_double(j, v, decimals);
}

void json_kbool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

char *json_finish(struct json *j)
{
	put(j, "\n", 1);
	if (j->failed || j->depth != 0 || j->after_key) {
		json_free(j);
		json_init(j, j->pretty);
		return NULL;
	}
	char *out = j->buf;
	bool pretty = j->pretty;
	json_init(j, pretty);
	return out;
}

int json_write_file(struct json *j, const char *path)
{
	char *text = json_finish(j);
	if (!text) {
		errno = ENOMEM;
		return -1;
	}
	FILE *f = fopen(path, "we");
	if (!f) {
		int e = errno;
		free(text);
		errno = e;
		return -1;
	}
	size_t n = strlen(text);
	int rc = fwrite(text, 1, n, f) == n ? 0 : -1;
	int e = errno;
	if (fclose(f) && !rc) {
		rc = -1;
		e = errno;
	}
	free(text);
	errno = e;
	return rc;
}
