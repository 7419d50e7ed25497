#include "lib/opt.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "lib/version.h"

/* getopt_long's value for table entry i; below it, short options and
 * --help ('h'). */
#define VAL_BASE 256

void opt_list_free(struct opt_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int applies(const struct opt_cmd *cmd, const struct opt *o)
{
	return !o->only || (o->only & cmd->mask);
}

static void store_int(void *field, size_t size, long v)
{
	if (size == sizeof(int32_t)) {
		/* The same bits whether the field is an int or a uint32_t. */
		uint32_t u = (uint32_t)v;
		memcpy(field, &u, sizeof(u));
	} else {
		int64_t w = v;
		memcpy(field, &w, sizeof(w));
	}
}

static int read_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	/* strtoull takes a sign and wraps "-1" to 2^64 - 1: digits only. */
	if (*s < '0' || *s > '9' || *end || errno)
		return -1;
	*out = v;
	return 0;
}

static int read_double(const char *s, double min, double max, double *out)
{
	double v;
	if (parse_decimal(s, &v) || !(v >= min && v <= max))
		return -1;
	*out = v;
	return 0;
}

static int list_add(struct opt_list *l, char *value)
{
	char **v = realloc(l->v, sizeof(*v) * ((size_t)l->n + 1));
	if (!v)
		return -1;
	l->v = v;
	l->v[l->n++] = value;
	return 0;
}

/* Read value into o's field, or through o->fn: the reason of a failure
 * quotes the value; the field is left as it was. */
static int read_value(const struct opt *o, void *obj, const char *value, char *err, size_t errlen)
{
	void *field = (char *)obj + o->off;
	long l;
	uint64_t u;
	double d;
	switch (o->kind) {
	case OPT_FLAG:
		*(int *)field = 1;
		break;
	case OPT_STR:
		if (!*value || strlen(value) >= o->size)
			return err_set(err, errlen, "'%s' is not 1 to %zu characters long", value,
			               o->size - 1);
		memcpy(field, value, strlen(value) + 1);
		break;
	case OPT_ARG:
		*(const char **)field = value;
		break;
	case OPT_LONG:
		if (parse_long(value, o->min, o->max, &l))
			return err_set(err, errlen, "'%s' is not an integer in [%ld, %ld]", value,
			               o->min, o->max);
		store_int(field, o->size, l);
		break;
	case OPT_U64:
		if (read_u64(value, &u))
			return err_set(err, errlen, "'%s' is not an integer in [0, %llu]", value,
			               (unsigned long long)UINT64_MAX);
		*(uint64_t *)field = u;
		break;
	case OPT_DOUBLE:
		if (read_double(value, (double)o->min, (double)o->max, &d))
			return err_set(err, errlen, "'%s' is not a number in [%ld, %ld]", value,
			               o->min, o->max);
		*(double *)field = d;
		break;
	case OPT_RATE:
		if (parse_rate(value, &u) || u < (uint64_t)o->min ||
		    (o->max && u > (uint64_t)o->max))
			return err_set(
			    err, errlen,
			    o->max ? "'%s' is not a rate of %ld to %ld bit/s such as 300kbit"
			           : "'%s' is not a rate of at least %ld bit/s such as 300kbit",
			    value, o->min, o->max);
		*(uint64_t *)field = u;
		break;
	case OPT_DURATION:
		if (parse_duration(value, &u))
			return err_set(err, errlen, "'%s' is not a duration such as 2s or 500ms",
			               value);
		if (o->max && u > (uint64_t)o->max)
			return err_set(err, errlen, "'%s' is longer than the most allowed, %g s",
			               value, o->max / 1e6);
		*(uint64_t *)field = u;
		break;
	case OPT_LIST:
		if (list_add(field, (char *)value))
			return err_set(err, errlen, "out of memory");
		break;
	case OPT_CALL:
		return o->fn(obj, value, err, errlen);
	}
	return 0;
}

/* Apply one option to obj; a failure reads "--name: reason". */
static int apply(const struct opt *o, void *obj, const char *value, char *err, size_t errlen)
{
	char why[512];
	int rc = 0;
	if (o->kind == OPT_FLAG && value)
		rc = err_set(why, sizeof(why), "takes no value");
	else if (o->kind != OPT_CALL && o->fn)
		rc = o->fn(obj, value, why, sizeof(why));
	if (!rc)
		rc = read_value(o, obj, value, why, sizeof(why));
	return rc ? err_set(err, errlen, "--%s: %s", o->name, why) : 0;
}

int opt_set(const struct opt_cmd *cmd, void *obj, const char *name, const char *value, char *err,
            size_t errlen)
{
	for (size_t i = 0; i < cmd->nopts; i++)
		if (applies(cmd, &cmd->opts[i]) && !strcmp(cmd->opts[i].name, name))
			return apply(&cmd->opts[i], obj, value, err, errlen);
	return err_set(err, errlen, "unknown option '%s'", name);
}

/* The getopt_long tables of cmd's options, with --help and --version:
 * the long options, and into shorts (2 * nopts + 3 bytes) the short ones. */
static struct option *long_options(const struct opt_cmd *cmd, char *shorts)
{
	struct option *lo = calloc(cmd->nopts + 3, sizeof(*lo));
	if (!lo)
		return NULL;
	size_t n = 0, ns = 0;
	/* A leading ':' makes a missing value ':' rather than '?'. */
	shorts[ns++] = ':';
	shorts[ns++] = 'h';
	for (size_t i = 0; i < cmd->nopts; i++) {
		const struct opt *o = &cmd->opts[i];
		if (!applies(cmd, o))
			continue;
		int has_arg = o->kind == OPT_FLAG ? no_argument : required_argument;
		lo[n++] = (struct option){o->name, has_arg, NULL, VAL_BASE + (int)i};
		if (o->short_name) {
			shorts[ns++] = (char)o->short_name;
			if (has_arg == required_argument)
				shorts[ns++] = ':';
		}
	}
	shorts[ns] = 0;
	lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
	lo[n++] = (struct option){"version", no_argument, NULL, VAL_BASE + (int)cmd->nopts};
	return lo;
}

static const struct opt *by_val(const struct opt_cmd *cmd, int val)
{
	if (val >= VAL_BASE && val < VAL_BASE + (int)cmd->nopts)
		return &cmd->opts[val - VAL_BASE];
	for (size_t i = 0; i < cmd->nopts; i++)
		if (applies(cmd, &cmd->opts[i]) && cmd->opts[i].short_name == val)
			return &cmd->opts[i];
	return NULL;
}

/* Why getopt_long refused arg (c is ':' or '?'); lo are its options. */
static int refused(const struct opt_cmd *cmd, const struct option *lo, int c, const char *arg,
                   char *err, size_t errlen)
{
	const struct opt *o = optopt ? by_val(cmd, optopt) : NULL;
	if (o && c == ':')
		return err_set(err, errlen, "--%s: needs a value", o->name);
	if (o)
		return err_set(err, errlen, "--%s: takes no value", o->name);
	if (optopt)
		return err_set(err, errlen, "unknown option '-%c'", optopt);
	size_t len = strcspn(arg + 2, "="), matches = 0;
	for (; lo->name; lo++)
		matches += !strncmp(lo->name, arg + 2, len);
	if (matches > 1)
		return err_set(err, errlen, "'%.*s' is ambiguous", (int)len + 2, arg);
	return err_set(err, errlen, "unknown option '%.*s'", (int)len + 2, arg);
}

int opt_parse(const struct opt_cmd *cmd, void *obj, int argc, char **argv, char *err, size_t errlen)
{
	char *shorts = malloc(2 * cmd->nopts + 3);
	struct option *lo = shorts ? long_options(cmd, shorts) : NULL;
	if (!lo) {
		free(shorts);
		return err_set(err, errlen, "out of memory");
	}
	int rc = 0;
	/* 0, not 1, so that getopt forgets any earlier parse entirely. */
	optind = 0;
	opterr = 0;
	while (rc == 0) {
		int c = getopt_long(argc, argv, shorts, lo, NULL);
		if (c == -1)
			break;
		else if (c == 'h')
			rc = OPT_HELP;
		else if (c == VAL_BASE + (int)cmd->nopts)
			rc = OPT_VERSION;
		else if (c == ':' || c == '?')
			rc = refused(cmd, lo, c, argv[optind - 1], err, errlen);
		else
			rc = apply(by_val(cmd, c), obj, optarg, err, errlen);
	}
	free(lo);
	free(shorts);
	if (rc)
		return rc;
	/* getopt_long moved the operands to the end, in their order. */
	int n = argc - optind;
	memmove(argv + 1, argv + optind, sizeof(*argv) * (size_t)n);
	/* main's argv[argc] is NULL already: tests may pass shorter arrays. */
	if (n + 1 < argc)
		argv[n + 1] = NULL;
	return n;
}

int opt_fail(const char *name, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *sep = name ? " " : "";
	name = name ? name : "";
	fprintf(stderr, "%s%s%s: %s\n", util_progname(), sep, name, msg);
	fprintf(stderr, "Try '%s%s%s --help' for more information.\n", util_progname(), sep, name);
	return 2;
}

static void print_version(void)
{
	printf("%s %s\n", util_progname(), ANYSEE_VERSION);
}

int opt_command_word(int argc, char **argv, void (*usage)(FILE *f), int *status)
{
	*status = 0;
	if (argc < 2) {
		usage(stderr);
		*status = 2;
	} else if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
	} else if (!strcmp(argv[1], "--version")) {
		print_version();
	} else {
		return 0;
	}
	return -1;
}

int opt_cli(const struct opt_cmd *cmd, void *obj, int argc, char **argv, int *status)
{
	char err[1024];
	int n = opt_parse(cmd, obj, argc, argv, err, sizeof(err));
	*status = 0;
	if (n == OPT_HELP)
		opt_help(cmd, stdout);
	else if (n == OPT_VERSION)
		print_version();
	else if (n == OPT_ERROR)
		*status = opt_fail(cmd->name, "%s", err);
	return n < 0 ? -1 : n;
}

static void help_line(FILE *f, int width, int short_name, const char *name, const char *arg,
                      const char *help)
{
	char left[128];
	snprintf(left, sizeof(left), "%c%c%c --%s%s%s", short_name ? '-' : ' ',
	         short_name ? short_name : ' ', short_name ? ',' : ' ', name, arg ? " " : "",
	         arg ? arg : "");
	fprintf(f, "  %-*s  %s\n", width, left, help);
}

void opt_help(const struct opt_cmd *cmd, FILE *f)
{
	const char *sep = cmd->name ? " " : "";
	fprintf(f, "usage: %s%s%s %s\n", util_progname(), sep, cmd->name ? cmd->name : "",
	        cmd->synopsis);
	if (cmd->about)
		fprintf(f, "%s", cmd->about);
	int width = (int)strlen("    --version");
	for (size_t i = 0; i < cmd->nopts; i++) {
		const struct opt *o = &cmd->opts[i];
		int w = 6 + (int)strlen(o->name) + (o->arg ? 1 + (int)strlen(o->arg) : 0);
		if (applies(cmd, o) && w > width)
			width = w;
	}
	for (size_t i = 0; i < cmd->nopts; i++) {
		const struct opt *o = &cmd->opts[i];
		if (applies(cmd, o))
			help_line(f, width, o->short_name, o->name, o->arg, o->help);
	}
	help_line(f, width, 'h', "help", NULL, "print this help and exit");
	help_line(f, width, 0, "version", NULL, "print the version and exit");
}
