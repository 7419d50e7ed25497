#include "harness/argv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void argv_init(struct argv *a)
{
	memset(a, 0, sizeof(*a));
}

/* Takes ownership of arg, which may be NULL after a failed allocation. */
static void push(struct argv *a, char *arg)
{
	if (!arg || a->failed) {
		a->failed = 1;
		free(arg);
		return;
	}
	if (a->n + 2 > a->cap) {
		int cap = a->cap ? 2 * a->cap : 16;
		char **v = realloc(a->v, (size_t)cap * sizeof(*v));
		if (!v) {
			a->failed = 1;
			free(arg);
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = arg;
	a->v[a->n] = NULL;
}

void argv_add(struct argv *a, const char *arg)
{
	push(a, strdup(arg));
}

void argv_addf(struct argv *a, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	push(a, s);
}

void argv_opt(struct argv *a, const char *name, const char *value)
{
	argv_add(a, name);
	argv_add(a, value);
}

void argv_free(struct argv *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}
