/* The one option parser of every binary: a command describes its options in
 * a table, getopt_long reads the command line by GNU conventions (--name
 * value, --name=value, -q, --help, --version, -- ends the options), and the
 * same table sets options by name (a config file's "name = value" lines),
 * checks their values and writes --help.
 *
 * Each entry names a field of the object being filled (OPT_AT) and how its
 * value is read. A usage error says which option, which value and why:
 * "--seed: '12x' is not an integer in [0, 18446744073709551615]". */
#ifndef ANYSEE_OPT_H
#define ANYSEE_OPT_H

#include <stddef.h>
#include <stdio.h>

enum opt_kind {
	OPT_FLAG,     /* no value: the int field becomes 1 */
	OPT_STR,      /* copied into a char array field, 1..size-1 characters */
	OPT_ARG,      /* a const char * field pointing at the argument itself */
	OPT_LONG,     /* integer in [min, max], into a 4- or 8-byte integer field */
	OPT_U64,      /* any unsigned 64-bit integer (digits only) */
	OPT_DOUBLE,   /* real number in [min, max], into a double */
	OPT_RATE,     /* parse_rate, bit/s into a uint64_t, at least min */
	OPT_DURATION, /* parse_duration, µs into a uint64_t */
	OPT_LIST,     /* repeatable: every value appended to a struct opt_list */
	OPT_CALL,     /* fn reads the value (and may set several fields) */
};

/* Reads or checks a value for the object being filled; on a bad value
 * returns err_set(err, errlen, reason), the reason quoting the value. */
typedef int (*opt_fn)(void *obj, const char *value, char *err, size_t errlen);

struct opt {
	const char *name; /* long name, without the dashes */
	enum opt_kind kind;
	size_t off, size; /* the field (OPT_AT); unused by OPT_CALL */
	const char *arg;  /* the value's name in --help ("N", "RATE"); NULL for a flag */
	const char *help;
	long min,
	    max; /* OPT_LONG, OPT_DOUBLE; OPT_RATE: max 0 = none; OPT_DURATION: max µs, 0 = none */
	opt_fn fn;      /* OPT_CALL: reads the value; any other kind: checks it first */
	int short_name; /* a one-letter alias such as 'q', or 0 */
	unsigned only;  /* 0: in every command; else in commands whose mask shares a bit */
};

#define OPT_AT(type, field) offsetof(type, field), sizeof(((type *)0)->field)

/* The values of a repeatable option, in command-line order; the strings
 * are the arguments themselves. */
struct opt_list {
	char **v;
	int n;
};
void opt_list_free(struct opt_list *l);

struct opt_cmd {
	const char *name;     /* "run": messages read "anysee-harness run: ..."; NULL: none */
	const char *synopsis; /* the usage line after the command's name */
	const char *about;    /* printed by --help before the options, or NULL */
	const struct opt *opts;
	size_t nopts;
	unsigned mask; /* which entries apply (struct opt.only) */
};

enum { OPT_ERROR = -1, OPT_HELP = -2, OPT_VERSION = -3 };

/* Parse the arguments after the command's name (argv[0] is that name and is
 * not read). Returns the number of operands n, moved in their order to
 * argv[1..n] (then NULL, as main's argv ends, so they can be exec'd); OPT_HELP or OPT_VERSION when
 * asked for (nothing printed); or OPT_ERROR with the reason in err. Options are applied in order.
 */
int opt_parse(const struct opt_cmd *cmd, void *obj, int argc, char **argv, char *err,
              size_t errlen);

/* opt_parse, and what every binary does with its outcome: prints --help to
 * stdout, --version, or a usage error to stderr. Returns the number of
 * operands, or -1 when the program should exit with *status (0 after --help
 * or --version, 2 after a usage error). */
int opt_cli(const struct opt_cmd *cmd, void *obj, int argc, char **argv, int *status);

/* Set one option by its long name, as from a "name = value" line. */
int opt_set(const struct opt_cmd *cmd, void *obj, const char *name, const char *value, char *err,
            size_t errlen);

/* Print the usage line, the about text and the options (with --help and
 * --version). */
void opt_help(const struct opt_cmd *cmd, FILE *f);

/* The first word of a program whose commands are words (anysee ROLE,
 * anysee-harness COMMAND): --help, -h, --version or nothing. Returns -1
 * when the program should exit with *status (usage printed for no word or
 * --help), else 0: argv[1] names a command. */
int opt_command_word(int argc, char **argv, void (*usage)(FILE *f), int *status);

/* Report a usage error of command name (NULL: the program itself) on
 * stderr, as "anysee-harness run: MESSAGE" and where --help is. Returns 2,
 * the exit status of usage errors. */
int opt_fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
