/* The one JSON writer: /status, metrics.json and the overhead report all go
 * through it, so every string is escaped the same way.
 *
 * The writer appends to a growing buffer and places commas and (when
 * pretty) newlines itself; callers only say what comes next. Out of memory
 * or mis-nesting is remembered and reported once by json_finish. */
#ifndef ANYSEE_JSON_H
#define ANYSEE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	char *buf;
	size_t len, cap;
	int depth;
	bool failed;
	bool pretty;
	bool after_key;
	bool has_items[JSON_MAX_DEPTH];
};

void json_init(struct json *j, bool pretty);
void json_free(struct json *j);

void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
/* The key of the next value inside an object. */
void json_key(struct json *j, const char *key);

/* Strings are escaped: quote, backslash and control characters, and bytes
 * that are not valid UTF-8 become U+FFFD. NULL writes null. */
void json_str(struct json *j, const char *s);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
/* decimals digits after the point; NaN and infinities write null. */
void json_double(struct json *j, double v, int decimals);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* Key and value in one call, for the common case inside objects. */
void json_kstr(struct json *j, const char *key, const char *s);
void json_ku64(struct json *j, const char *key, uint64_t v);
void json_ki64(struct json *j, const char *key, int64_t v);
void json_kdouble(struct json *j, const char *key, double v, int decimals);
void json_kbool(struct json *j, const char *key, bool v);

/* Ends the document with a newline. Returns the NUL-terminated text, owned
 * by the caller (the writer is left empty), or NULL when the writer failed
 * or the nesting is unbalanced. */
char *json_finish(struct json *j);
/* json_finish, written to path. Returns 0, or -1 with errno set. */
int json_write_file(struct json *j, const char *path);

#endif
