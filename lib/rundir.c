#include "lib/rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"

int rundir_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int rundir_host_path(char *buf, size_t len, const char *dir, const char *host, const char *name)
{
	int n = name ? snprintf(buf, len, "%s/" RUNDIR_HOSTS_DIR "/%s/%s", dir, host, name)
	             : snprintf(buf, len, "%s/" RUNDIR_HOSTS_DIR "/%s", dir, host);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int rundir_hosts_write(const char *dir, const struct rundir_host *h, int n, char *err,
                       size_t errlen)
{
	char path[4096];
	if (rundir_path(path, sizeof(path), dir, RUNDIR_HOSTS))
		return err_set(err, errlen, "write %s/%s: path too long", dir, RUNDIR_HOSTS);
	FILE *f = rundir_fopen(path, "w");
	if (!f)
		return err_set(err, errlen, "write %s: %s", path, strerror(errno));
	fprintf(f, "# name role ip stream\n");
	for (int i = 0; i < n; i++)
		fprintf(f, "%s %s %s %s\n", h[i].name, h[i].role, h[i].ip,
		        *h[i].stream ? h[i].stream : "-");
	if (ferror(f) | fclose(f))
		return err_set(err, errlen, "write %s: %s", path, strerror(errno));
	return 0;
}

/* Copies the next space-separated field of *p into out; -1 if absent or too long. */
static int field(char **p, char *out, size_t len)
{
	char *s = *p + strspn(*p, " \t");
	size_t n = strcspn(s, " \t\r\n");
	if (!n || n >= len)
		return -1;
	memcpy(out, s, n);
	out[n] = 0;
	*p = s + n;
	return 0;
}

int rundir_name_check(const char *kind, const char *name, size_t max, char *err, size_t errlen)
{
	size_t n = strlen(name);
	if (!n || n > max)
		return err_set(err, errlen, "%s '%s' must be 1 to %zu characters long", kind, name,
		               max);
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return err_set(err, errlen, "%s '%s' may use only a-z, 0-9 and '-'", kind,
			               name);
	if (name[0] == '-')
		return err_set(err, errlen, "%s '%s' must not start with '-'", kind, name);
	return 0;
}

FILE *rundir_fopen(const char *path, const char *mode)
{
	int flags = O_CLOEXEC | O_NOFOLLOW;
	flags |= mode[0] == 'w' ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY;
	int fd = open(path, flags, 0644);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, mode);
	if (!f) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return f;
}

static int parse_host(char *line, struct rundir_host *h)
{
	memset(h, 0, sizeof(*h));
	char *p = line;
	if (field(&p, h->name, sizeof(h->name)) || field(&p, h->role, sizeof(h->role)) ||
	    field(&p, h->ip, sizeof(h->ip)) || field(&p, h->stream, sizeof(h->stream)))
		return -1;
	if (!strcmp(h->stream, "-"))
		*h->stream = 0;
	char e[128];
	if (rundir_name_check("host", h->name, sizeof(h->name) - 1, e, sizeof(e)))
		return -1;
	return p[strspn(p, " \t\r\n")] ? -1 : 0;
}

int rundir_hosts_read(const char *dir, struct rundir_host **out, int *n, char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	char path[4096];
	if (rundir_path(path, sizeof(path), dir, RUNDIR_HOSTS))
		return err_set(err, errlen, "read %s/%s: path too long", dir, RUNDIR_HOSTS);
	FILE *f = rundir_fopen(path, "r");
	if (!f)
		return err_set(err, errlen, "open %s: %s (is %s a run directory?)", path,
		               strerror(errno), dir);
	char line[512];
	int cap = 0, lineno = 0, rc = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == 0)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			struct rundir_host *nh = realloc(*out, (size_t)cap * sizeof(*nh));
			if (!nh) {
				rc = err_set(err, errlen, "read %s: out of memory", path);
				break;
			}
			*out = nh;
		}
		if (parse_host(line, &(*out)[*n]))
			rc = err_set(
			    err, errlen,
			    "%s:%d: expected 'name role ip stream', the name of a-z, 0-9 and "
			    "'-'",
			    path, lineno);
		else
			(*n)++;
	}
	fclose(f);
	if (rc) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int rundir_emulation_write(const char *dir, const struct rundir_emulation *e, char *err,
                           size_t errlen)
{
	char path[4096];
	if (rundir_path(path, sizeof(path), dir, RUNDIR_EMULATION))
		return err_set(err, errlen, "write %s/%s: path too long", dir, RUNDIR_EMULATION);
	FILE *f = rundir_fopen(path, "w");
	if (!f)
		return err_set(err, errlen, "write %s: %s", path, strerror(errno));
	fprintf(f, "cpu_idle_mean=%.4f\ncpu_idle_min=%.4f\nsamples=%llu\n", e->cpu_idle_mean,
	        e->cpu_idle_min, (unsigned long long)e->samples);
	if (ferror(f) | fclose(f))
		return err_set(err, errlen, "write %s: %s", path, strerror(errno));
	return 0;
}

int rundir_emulation_read(const char *dir, struct rundir_emulation *e, char *err, size_t errlen)
{
	char path[4096];
	if (rundir_path(path, sizeof(path), dir, RUNDIR_EMULATION))
		return err_set(err, errlen, "%s/%s: path too long", dir, RUNDIR_EMULATION);
	FILE *f = rundir_fopen(path, "r");
	if (!f)
		return err_set(err, errlen, "open %s: %s", path, strerror(errno));
	unsigned long long n = 0;
	int got = fscanf(f, "cpu_idle_mean=%lf cpu_idle_min=%lf samples=%llu", &e->cpu_idle_mean,
	                 &e->cpu_idle_min, &n);
	fclose(f);
	e->samples = n;
	if (got != 3)
		return err_set(err, errlen, "%s: expected cpu_idle_mean, cpu_idle_min, samples",
		               path);
	return 0;
}
