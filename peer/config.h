/* Options of every role, one table (lib/opt.h): the command line
 * (--name value, --name=value) and a config file (--config FILE; lines
 * "name = value", '#' comments) set the same fields. */
#ifndef ANYSEE_CONFIG_H
#define ANYSEE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

enum role { ROLE_RP = 1, ROLE_SOURCE = 2, ROLE_PEER = 4, ROLE_MONITOR = 8, ROLE_ATTACK = 16 };
enum mode { MODE_ANYSEE = 0, MODE_COOLSTREAMING = 1, MODE_ANYSEE_INTRA = 2 };

struct config {
	enum role role;
	uint32_t id;
	char listen[64]; /* ip:port to bind */
	char rp[64];     /* rendezvous point ip:port */
	char monitor[64];
	uint64_t seed;
	char log_dir[1024];
	/* source */
	char stream[16];
	uint64_t rate_bps;
	char ingest[1024]; /* "synthetic", a file path, or "-" for stdin */
	char key[1024];    /* file with the signing key's seed; "" = a new key */
	/* peer */
	char watch[16];
	enum mode mode;
	uint64_t buffer_us;
	uint64_t startup_us; /* 0: the mode's start rule (policy_startup_us) */
	int max_partners;
	int partners;
	int neighbours;     /* M: mesh neighbours kept (anysee mode) */
	int ltm_rule;       /* enum ltm_rule (peer/mesh.h) */
	double probe_share; /* others' probes sent on, a share of the stream's rate */
	int http_port;
	char http_bind[64];
	uint64_t upload_bps;
	int buffer_set; /* --buffer given: the mode default does not apply */
	/* Deliberate faults (peer/fault.h), for testing the regression gate. */
	uint64_t fault_delay_us;
	double fault_drop;
	int no_auth; /* testing only: media unsigned and unchecked (peer/auth.h) */
	/* attack (peer/attack.h): the testbed's own adversary */
	char attack_kind[16];
	char target[64]; /* ip:port of the victim */
	long pps;        /* crafted datagrams a second */
};

void config_defaults(struct config *c, enum role role);
/* Set one option by long name. Returns 0, or -1 with a one-line reason. */
int config_set(struct config *c, const char *name, const char *value, char *err, size_t errlen);
int config_load(struct config *c, const char *path, char *err, size_t errlen);
/* Parse the role's command line (argv[0] is the role's name). Returns 0, or
 * -1 when the program should exit with *status: 0 after --help or
 * --version, 2 after a usage error (reported on stderr). */
int config_parse_args(struct config *c, int argc, char **argv, int *status);
/* Complete derived defaults (mode-dependent buffer) and check consistency. */
int config_finish(struct config *c, char *err, size_t errlen);

/* "a.b.c.d:port" -> host-order ip and port. */
int parse_ipport(const char *s, uint32_t *ip, uint16_t *port);

#endif
