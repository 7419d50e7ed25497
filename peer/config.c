#include "peer/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/opt.h"
#include "lib/util.h"
#include "peer/attack.h"
#include "peer/inter.h"
#include "peer/mesh.h"
#include "peer/overlay.h"
#include "peer/policy.h"
#include "peer/wire.h"

#define SRC_PEER (ROLE_SOURCE | ROLE_PEER)
/* Roles that join a stream through the rendezvous point. */
#define JOINS (ROLE_SOURCE | ROLE_PEER | ROLE_ATTACK)

static int check_addr(void *obj, const char *value, char *err, size_t errlen)
{
	uint32_t ip;
	uint16_t port;
	if (parse_ipport(value, &ip, &port))
		return err_set(err, errlen, "'%s' is not an IPv4 ip:port", value);
	return 0;
}

static int set_mode(void *obj, const char *value, char *err, size_t errlen)
{
	struct config *c = obj;
	if (!strcmp(value, "anysee"))
		c->mode = MODE_ANYSEE;
	else if (!strcmp(value, "coolstreaming"))
		c->mode = MODE_COOLSTREAMING;
	else if (!strcmp(value, "anysee-intra"))
		c->mode = MODE_ANYSEE_INTRA;
	else
		return err_set(err, errlen, "'%s' is not anysee, anysee-intra or coolstreaming",
		               value);
	return 0;
}

static int set_ltm_rule(void *obj, const char *value, char *err, size_t errlen)
{
	struct config *c = obj;
	if (!strcmp(value, "slowest"))
		c->ltm_rule = LTM_RULE_SLOWEST;
	else if (!strcmp(value, "path"))
		c->ltm_rule = LTM_RULE_PATH;
	else
		return err_set(err, errlen, "'%s' is not slowest or path", value);
	return 0;
}

static int set_attack_kind(void *obj, const char *value, char *err, size_t errlen)
{
	struct config *c = obj;
	if (attack_kind_parse(value) < 0)
		return err_set(err, errlen, "'%s' is not one of %s", value, ATTACK_KIND_LIST);
	snprintf(c->attack_kind, sizeof(c->attack_kind), "%s", value);
	return 0;
}

/* An explicit --buffer overrides the mode's default whatever the order. */
static int set_buffer(void *obj, const char *value, char *err, size_t errlen)
{
	struct config *c = obj;
	if (parse_duration(value, &c->buffer_us))
		return err_set(err, errlen, "'%s' is not a duration such as 40s", value);
	c->buffer_set = 1;
	return 0;
}

static int load_file(void *obj, const char *value, char *err, size_t errlen)
{
	return config_load(obj, value, err, errlen);
}

#define F(field) OPT_AT(struct config, field)
static const struct opt opts[] = {
    {"config", OPT_CALL, 0, 0, "FILE", .help = "read options from FILE (name = value lines)",
     .fn = load_file},
    {"id", OPT_LONG, F(id), "N",
     .help = "node id, unique in the network (default: from the address)", .max = UINT32_MAX},
    {"listen", OPT_STR, F(listen), "IP:PORT",
     .help = "ip:port to bind (default 0.0.0.0:" ADDR_PEER_PORT_STR ")", .fn = check_addr},
    {"rp", OPT_STR, F(rp), "IP:PORT", .help = "rendezvous point ip:port", .fn = check_addr,
     .only = JOINS},
    {"monitor", OPT_STR, F(monitor), "IP:PORT", .help = "monitor ip:port for reports",
     .fn = check_addr, .only = SRC_PEER},
    {"seed", OPT_U64, F(seed), "N", .help = "seed of every random choice"},
    {"log-dir", OPT_STR, F(log_dir), "DIR", .help = "directory for events.log and segments.bin"},
    {"stream", OPT_STR, F(stream), "NAME", .help = "name of the stream to broadcast",
     .only = ROLE_SOURCE},
    {"rate", OPT_RATE, F(rate_bps), "RATE", .help = "stream bit rate (default 300kbit)",
     .min = WIRE_RATE_MIN_BPS, .max = WIRE_RATE_MAX_BPS, .only = ROLE_SOURCE},
    {"ingest", OPT_STR, F(ingest), "SRC", .help = "synthetic (default), a file, or - for stdin",
     .only = ROLE_SOURCE},
    {"key", OPT_STR, F(key), "FILE",
     .help = "signing key: a file with its 32-byte seed in hex (default: a new key)",
     .only = ROLE_SOURCE},
    {"watch", OPT_STR, F(watch), "NAME", .help = "name of the stream to watch",
     .only = ROLE_PEER | ROLE_ATTACK},
    {"mode", OPT_CALL, 0, 0, "MODE", .help = "anysee (default), anysee-intra or coolstreaming",
     .fn = set_mode, .only = ROLE_PEER},
    {"buffer", OPT_CALL, 0, 0, "TIME", .help = "buffer length (default 40s, 120s coolstreaming)",
     .fn = set_buffer, .only = ROLE_PEER},
    {"startup", OPT_DURATION, F(startup_us), "TIME",
     .help = "media buffered before playback (default: the mode's start rule)", .only = ROLE_PEER},
    {"partners", OPT_LONG, F(partners), "N", .help = "partners to look for (default 4)", .min = 1,
     .max = 32, .only = ROLE_PEER},
    {"max-partners", OPT_LONG, F(max_partners), "N",
     .help = "partners accepted (default 8; a source: upload / rate)", .min = 1,
     .max = OVERLAY_MAX_PARTNERS, .only = SRC_PEER},
    {"neighbours", OPT_LONG, F(neighbours), "M",
     .help = "mesh neighbours kept in anysee mode (default 5)", .min = 1, .max = MESH_MAX - 2,
     .only = SRC_PEER},
    {"ltm-rule", OPT_CALL, 0, 0, "RULE",
     .help = "LTM cut rule: slowest (default: the slowest link of a triangle) or path (the "
             "paper's: the direct path against the two hops)",
     .fn = set_ltm_rule, .only = SRC_PEER},
    {"probe-share", OPT_DOUBLE, F(probe_share), "SHARE",
     .help = "others' ProbMs sent on within this share (0 to 1) of the stream's rate "
             "(default 0.01)",
     .max = 1, .only = SRC_PEER},
    {"http", OPT_LONG, F(http_port), "PORT", .help = "HTTP port for /stream and /status (0 = off)",
     .max = 65535, .only = ROLE_PEER},
    {"http-bind", OPT_STR, F(http_bind), "IP", .help = "address the HTTP server binds (127.0.0.1)",
     .only = ROLE_PEER},
    {"upload", OPT_RATE, F(upload_bps), "RATE", .help = "upload capacity (default 10mbit)",
     .min = 1, .only = SRC_PEER},
    {"debug-forward-delay", OPT_DURATION, F(fault_delay_us), "TIME",
     .help = "testing only: hold every segment this node sends on for TIME", .only = SRC_PEER},
    {"debug-forward-drop", OPT_DOUBLE, F(fault_drop), "SHARE",
     .help = "testing only: drop this share (0 to 1) of the segments it sends", .max = 1,
     .only = SRC_PEER},
    {"debug-no-auth", OPT_LONG, F(no_auth), "0|1",
     .help = "testing only: 1 sends media unsigned and stores it unchecked (a cost baseline)",
     .max = 1, .only = SRC_PEER},
    {"kind", OPT_CALL, 0, 0, "KIND", .help = "the attack: " ATTACK_KIND_LIST, .fn = set_attack_kind,
     .only = ROLE_ATTACK},
    {"target", OPT_STR, F(target), "IP:PORT", .help = "the victim", .fn = check_addr,
     .only = ROLE_ATTACK},
    {"pps", OPT_LONG, F(pps), "N", .help = "crafted datagrams a second (default 50)", .min = 1,
     .max = 100000, .only = ROLE_ATTACK},
};

static const char *const role_names[] = {[ROLE_RP] = "rp",
                                         [ROLE_SOURCE] = "source",
                                         [ROLE_PEER] = "peer",
                                         [ROLE_MONITOR] = "monitor",
                                         [ROLE_ATTACK] = "attack"};

static struct opt_cmd role_cmd(enum role role)
{
	return (struct opt_cmd){.name = role_names[role],
	                        .synopsis = "[--config FILE] [--name value]...",
	                        .opts = opts,
	                        .nopts = ARRAY_LEN(opts),
	                        .mask = role};
}

void config_defaults(struct config *c, enum role role)
{
	memset(c, 0, sizeof(*c));
	c->role = role;
	snprintf(c->listen, sizeof(c->listen), "0.0.0.0:%d", ADDR_PEER_PORT);
	c->rate_bps = 300000;
	snprintf(c->ingest, sizeof(c->ingest), "synthetic");
	c->mode = MODE_ANYSEE;
	snprintf(c->http_bind, sizeof(c->http_bind), "127.0.0.1");
	c->partners = 4;
	c->neighbours = 5;
	c->probe_share = INTER_PROBE_SHARE;
	/* A source's partners take what its uplink carries (config_finish,
	 * and peer/inter.h for why); a peer keeps DONet's few partners. */
	c->max_partners = role == ROLE_SOURCE ? 0 : 8;
	c->upload_bps = 10000000;
	c->seed = 1;
	c->pps = 50;
}

int parse_ipport(const char *s, uint32_t *ip, uint16_t *port)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	long p;
	if (!colon || (size_t)(colon - s) >= sizeof(host) || parse_long(colon + 1, 1, 65535, &p))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	struct in_addr a;
	if (inet_pton(AF_INET, host, &a) != 1)
		return -1;
	*ip = ntohl(a.s_addr);
	*port = (uint16_t)p;
	return 0;
}

int config_set(struct config *c, const char *name, const char *value, char *err, size_t errlen)
{
	struct opt_cmd cmd = role_cmd(c->role);
	/* Config files do not include one another. */
	if (!strcmp(name, "config"))
		return err_set(err, errlen, "unknown option '%s'", name);
	return opt_set(&cmd, c, name, value, err, errlen);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

int config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return err_set(err, errlen, "open config %s: %s", path, strerror(errno));
	char line[2048], e[256];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		char *s = trim(line);
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = err_set(err, errlen, "%s:%d: expected 'name = value'", path, lineno);
			break;
		}
		*eq = 0;
		if (config_set(c, trim(s), trim(eq + 1), e, sizeof(e))) {
			rc = err_set(err, errlen, "%s:%d: %s", path, lineno, e);
			break;
		}
	}
	fclose(f);
	return rc;
}

int config_parse_args(struct config *c, int argc, char **argv, int *status)
{
	struct opt_cmd cmd = role_cmd(c->role);
	int n = opt_cli(&cmd, c, argc, argv, status);
	if (n > 0) {
		*status = opt_fail(cmd.name, "unexpected argument '%s' (options are --name value)",
		                   argv[1]);
		return -1;
	}
	return n;
}

int config_finish(struct config *c, char *err, size_t errlen)
{
	if (c->role == ROLE_PEER && !c->buffer_set)
		c->buffer_us = policy_for(c->mode)->buffer_us;
	if (c->role == ROLE_SOURCE && !c->buffer_us)
		c->buffer_us = 40000000u;
	if (c->role == ROLE_SOURCE && !c->max_partners) {
		uint64_t n = c->upload_bps / c->rate_bps;
		c->max_partners = n < 1                      ? 1
		                  : n > OVERLAY_MAX_PARTNERS ? OVERLAY_MAX_PARTNERS
		                                             : (int)n;
	}
	if ((c->role & JOINS) && !*c->rp)
		return err_set(err, errlen, "--rp ip:port is required");
	if (c->role == ROLE_ATTACK && (!*c->attack_kind || !*c->target || !*c->watch))
		return err_set(err, errlen, "--kind, --target and --watch are required");
	if (c->role == ROLE_SOURCE && !*c->stream)
		return err_set(err, errlen, "--stream NAME is required");
	if (c->role == ROLE_PEER && !*c->watch)
		return err_set(err, errlen, "--watch NAME is required");
	/* The table bounds each field; only this check spans two. */
	if (c->role == ROLE_PEER && c->partners > c->max_partners)
		return err_set(err, errlen, "--partners must be 1..max-partners (%d)",
		               c->max_partners);
	return 0;
}
