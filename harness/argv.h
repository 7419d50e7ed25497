/* A NULL-terminated argument vector built one argument at a time, each
 * argument its own allocation, for exec'ing a process. */
#ifndef ANYSEE_ARGV_H
#define ANYSEE_ARGV_H

struct argv {
	char **v; /* NULL-terminated once anything was added */
	int n, cap;
	int failed; /* an allocation failed: the vector is incomplete */
};

void argv_init(struct argv *a);
void argv_add(struct argv *a, const char *arg);
void argv_addf(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append "--name value". */
void argv_opt(struct argv *a, const char *name, const char *value);
void argv_free(struct argv *a);

#endif
