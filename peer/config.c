#include "peer/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "peer/mesh.h"
#include "lib/util.h"

#define ALL (ROLE_RP | ROLE_SOURCE | ROLE_PEER | ROLE_MONITOR)

enum kind { K_STR, K_ADDR, K_U32, K_INT, K_RATE, K_DUR, K_MODE, K_U64 };

struct opt {
	const char *name;
	enum kind kind;
	unsigned roles;
	size_t off, size;
	const char *help;
};

#define F(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)
static const struct opt opts[] = {
    {"id", K_U32, ALL, F(id), "node id, unique in the network (default: from the address)"},
    {"listen", K_ADDR, ALL, F(listen), "ip:port to bind (default 0.0.0.0:" ADDR_PEER_PORT_STR ")"},
    {"rp", K_ADDR, ROLE_SOURCE | ROLE_PEER, F(rp), "rendezvous point ip:port"},
    {"monitor", K_ADDR, ROLE_SOURCE | ROLE_PEER, F(monitor), "monitor ip:port for reports"},
    {"seed", K_U64, ALL, F(seed), "seed of every random choice"},
    {"log-dir", K_STR, ALL, F(log_dir), "directory for events.log and segments.bin"},
    {"stream", K_STR, ROLE_SOURCE, F(stream), "name of the stream to broadcast"},
    {"rate", K_RATE, ROLE_SOURCE, F(rate_bps), "stream bit rate (default 300kbit)"},
    {"ingest", K_STR, ROLE_SOURCE, F(ingest), "synthetic (default), a file, or - for stdin"},
    {"watch", K_STR, ROLE_PEER, F(watch), "name of the stream to watch"},
    {"mode", K_MODE, ROLE_PEER, F(mode), "anysee (default) or coolstreaming"},
    {"buffer", K_DUR, ROLE_PEER, F(buffer_us), "buffer length (default 40s, 120s coolstreaming)"},
    {"startup", K_DUR, ROLE_PEER, F(startup_us), "media buffered before playback (default 2s)"},
    {"partners", K_INT, ROLE_PEER, F(partners), "partners to look for (default 4)"},
    {"max-partners", K_INT, ROLE_SOURCE | ROLE_PEER, F(max_partners),
     "partners accepted (default 8)"},
    {"http", K_INT, ROLE_PEER, F(http_port), "HTTP port for /stream and /status (0 = off)"},
    {"http-bind", K_STR, ROLE_PEER, F(http_bind), "address the HTTP server binds (127.0.0.1)"},
    {"upload", K_RATE, ROLE_SOURCE | ROLE_PEER, F(upload_bps), "upload capacity (default 10mbit)"},
};

void config_defaults(struct config *c, enum role role)
{
	memset(c, 0, sizeof(*c));
	c->role = role;
	snprintf(c->listen, sizeof(c->listen), "0.0.0.0:%d", ADDR_PEER_PORT);
	c->rate_bps = 300000;
	snprintf(c->ingest, sizeof(c->ingest), "synthetic");
	c->mode = MODE_ANYSEE;
	c->startup_us = 2000000;
	snprintf(c->http_bind, sizeof(c->http_bind), "127.0.0.1");
	c->partners = 4;
	c->neighbours = 5;
	c->max_partners = 8;
	c->upload_bps = 10000000;
	c->seed = 1;
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
	const struct opt *o = NULL;
	for (size_t i = 0; i < ARRAY_LEN(opts); i++)
		if (strcmp(opts[i].name, name) == 0)
			o = &opts[i];
	if (!o || !(o->roles & c->role)) {
		snprintf(err, errlen, "unknown option '%s' for this role", name);
		return -1;
	}
	void *f = (char *)c + o->off;
	long l;
	uint64_t u;
	uint32_t ip;
	uint16_t port;
	switch (o->kind) {
	case K_STR:
	case K_ADDR:
		if (strlen(value) >= o->size || !*value) {
			snprintf(err, errlen, "--%s: value must be 1..%zu characters", name,
			         o->size - 1);
			return -1;
		}
		if (o->kind == K_ADDR && parse_ipport(value, &ip, &port)) {
			snprintf(err, errlen, "--%s: '%s' is not an IPv4 ip:port", name, value);
			return -1;
		}
		memcpy(f, value, strlen(value) + 1);
		break;
	case K_U32:
		if (parse_long(value, 0, UINT32_MAX, &l))
			goto bad;
		*(uint32_t *)f = (uint32_t)l;
		break;
	case K_INT:
		if (parse_long(value, 0, 1000000, &l))
			goto bad;
		*(int *)f = (int)l;
		break;
	case K_U64: {
		char *end;
		errno = 0;
		u = strtoull(value, &end, 10);
		/* strtoull takes a sign and wraps "-1" to 2^64 - 1: digits only. */
		if (*value < '0' || *value > '9' || *end || errno)
			goto bad;
		*(uint64_t *)f = u;
		break;
	}
	case K_RATE:
		if (parse_rate(value, &u) || u == 0)
			goto bad;
		*(uint64_t *)f = u;
		break;
	case K_DUR:
		if (parse_duration(value, &u))
			goto bad;
		*(uint64_t *)f = u;
		if (strcmp(name, "buffer") == 0)
			c->buffer_set = 1;
		break;
	case K_MODE:
		if (strcmp(value, "anysee") == 0)
			c->mode = MODE_ANYSEE;
		else if (strcmp(value, "coolstreaming") == 0)
			c->mode = MODE_COOLSTREAMING;
		else
			goto bad;
		break;
	}
	return 0;
bad:
	snprintf(err, errlen, "--%s: invalid value '%s'", name, value);
	return -1;
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
	if (!f) {
		snprintf(err, errlen, "open config %s: %m", path);
		return -1;
	}
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
			snprintf(err, errlen, "%s:%d: expected 'name = value'", path, lineno);
			rc = -1;
			break;
		}
		*eq = 0;
		if (config_set(c, trim(s), trim(eq + 1), e, sizeof(e))) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, e);
			rc = -1;
			break;
		}
	}
	fclose(f);
	return rc;
}

int config_parse_args(struct config *c, int argc, char **argv, char *err, size_t errlen)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return 1;
		if (strncmp(a, "--", 2)) {
			snprintf(err, errlen, "unexpected argument '%s' (options are --name value)",
			         a);
			return -1;
		}
		const char *name = a + 2, *eq = strchr(name, '='), *value;
		char nbuf[64];
		if (eq) {
			snprintf(nbuf, sizeof(nbuf), "%.*s", (int)(eq - name), name);
			name = nbuf;
			value = eq + 1;
		} else {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "option --%s needs a value", name);
				return -1;
			}
			value = argv[++i];
		}
		int rc = strcmp(name, "config") == 0 ? config_load(c, value, err, errlen)
		                                     : config_set(c, name, value, err, errlen);
		if (rc)
			return -1;
	}
	return 0;
}

int config_finish(struct config *c, char *err, size_t errlen)
{
	if (c->role == ROLE_PEER && !c->buffer_set)
		c->buffer_us = c->mode == MODE_COOLSTREAMING ? 120000000u : 40000000u;
	if (c->role == ROLE_SOURCE && !c->buffer_us)
		c->buffer_us = 40000000u;
	if ((c->role & (ROLE_SOURCE | ROLE_PEER)) && !*c->rp) {
		snprintf(err, errlen, "--rp ip:port is required");
		return -1;
	}
	if (c->role == ROLE_SOURCE && !*c->stream) {
		snprintf(err, errlen, "--stream NAME is required");
		return -1;
	}
	if (c->role == ROLE_PEER && !*c->watch) {
		snprintf(err, errlen, "--watch NAME is required");
		return -1;
	}
	if (c->http_port > 65535) {
		snprintf(err, errlen, "--http must be a port number 1..65535 (0 = off)");
		return -1;
	}
	if (c->max_partners < 1 || c->max_partners > 32) {
		snprintf(err, errlen, "--max-partners must be 1..32");
		return -1;
	}
	if (c->neighbours < 1 || c->neighbours > MESH_MAX - 2) {
		snprintf(err, errlen, "--neighbours must be 1..%d", MESH_MAX - 2);
		return -1;
	}
	if (c->partners < 1 || c->partners > c->max_partners) {
		snprintf(err, errlen, "--partners must be 1..max-partners (%d)", c->max_partners);
		return -1;
	}
	return 0;
}

void config_usage(enum role role, const char *prog)
{
	static const char *const names[] = {[ROLE_RP] = "rp",
	                                    [ROLE_SOURCE] = "source",
	                                    [ROLE_PEER] = "peer",
	                                    [ROLE_MONITOR] = "monitor"};
	printf("usage: %s %s [--config FILE] [--name value]...\n", prog, names[role]);
	for (size_t i = 0; i < ARRAY_LEN(opts); i++)
		if (opts[i].roles & role)
			printf("  --%-14s %s\n", opts[i].name, opts[i].help);
	printf("  --%-14s %s\n", "config", "read options from FILE (name = value lines)");
}
