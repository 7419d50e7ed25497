#include "lib/rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
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

/* dir/name opened for writing into *f, its path in path; -1 with the
 * reason in err. */
static int open_to_write(const char *dir, const char *name, char *path, size_t len, FILE **f,
                         char *err, size_t errlen)
{
	if (rundir_path(path, len, dir, name))
		return err_set(err, errlen, "write %s/%s: path too long", dir, name);
	*f = rundir_fopen(path, "w");
	if (!*f)
		return err_set(err, errlen, "write %s: %s", path, strerror(errno));
	return 0;
}

/* A file of dir of one record a line, each parsed by parse into size
 * bytes, into *out (the caller frees it); lines starting with '#' and
 * blank ones are skipped. -1 with the reason in err when the file is
 * missing or a line is not one (expect says what one is). */
static int read_records(const char *dir, const char *name, size_t size,
                        int (*parse)(char *line, void *rec), const char *expect, void **out,
                        size_t *n, char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	char path[4096];
	if (rundir_path(path, sizeof(path), dir, name))
		return err_set(err, errlen, "read %s/%s: path too long", dir, name);
	FILE *f = rundir_fopen(path, "r");
	if (!f)
		return err_set(err, errlen, "open %s: %s (is %s a run directory?)", path,
		               strerror(errno), dir);
	char line[512];
	size_t cap = 0;
	int lineno = 0, rc = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == 0)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			void *grown = realloc(*out, cap * size);
			if (!grown) {
				rc = err_set(err, errlen, "read %s: out of memory", path);
				break;
			}
			*out = grown;
		}
		if (parse(line, (char *)*out + *n * size))
			rc = err_set(err, errlen, "%s:%d: expected %s", path, lineno, expect);
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

int rundir_hosts_write(const char *dir, const struct rundir_host *h, int n, char *err,
                       size_t errlen)
{
	char path[4096];
	FILE *f;
	if (open_to_write(dir, RUNDIR_HOSTS, path, sizeof(path), &f, err, errlen))
		return -1;
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

static int parse_host(char *line, void *rec)
{
	struct rundir_host *h = rec;
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
	size_t got;
	int rc = read_records(dir, RUNDIR_HOSTS, sizeof(**out), parse_host,
	                      "'name role ip stream', the name of a-z, 0-9 and '-'", (void **)out,
	                      &got, err, errlen);
	*n = (int)got;
	return rc;
}

/* The one definition of emulation.txt's keys. Required keys come first;
 * switch keys are written only with a switch, kernel keys only with the
 * kernel's counters, and their presence on reading is what have_switch and
 * have_kernel say. */
enum emu_kind { EMU_DOUBLE, EMU_U64 };
enum emu_need { EMU_REQUIRED, EMU_OPTIONAL, EMU_SWITCH, EMU_KERNEL, EMU_PAUSES };
static const struct {
	const char *key;
	size_t off;
	enum emu_kind kind;
	enum emu_need need;
} emu_keys[] = {
#define EMU_FIELD(f) #f, offsetof(struct rundir_emulation, f)
    {EMU_FIELD(cpu_idle_mean), EMU_DOUBLE, EMU_REQUIRED},
    {EMU_FIELD(cpu_idle_min), EMU_DOUBLE, EMU_REQUIRED},
    {EMU_FIELD(samples), EMU_U64, EMU_REQUIRED},
    {EMU_FIELD(hosts_cpu_mean), EMU_DOUBLE, EMU_OPTIONAL},
    {EMU_FIELD(hosts_cpu_max), EMU_DOUBLE, EMU_OPTIONAL},
    {EMU_FIELD(hosts_cpu_smeared), EMU_U64, EMU_OPTIONAL},
    {EMU_FIELD(switch_cpu_mean), EMU_DOUBLE, EMU_SWITCH},
    {EMU_FIELD(switch_cpu_max), EMU_DOUBLE, EMU_SWITCH},
    {EMU_FIELD(late_p50_us), EMU_DOUBLE, EMU_SWITCH},
    {EMU_FIELD(late_p99_us), EMU_DOUBLE, EMU_SWITCH},
    {EMU_FIELD(late_max_us), EMU_DOUBLE, EMU_SWITCH},
    {EMU_FIELD(frames), EMU_U64, EMU_SWITCH},
    {EMU_FIELD(drop_queue), EMU_U64, EMU_SWITCH},
    {EMU_FIELD(drop_loss), EMU_U64, EMU_SWITCH},
    {EMU_FIELD(drop_partition), EMU_U64, EMU_SWITCH},
    {EMU_FIELD(drop_send), EMU_U64, EMU_SWITCH},
    {EMU_FIELD(drop_receive), EMU_U64, EMU_SWITCH},
    {EMU_FIELD(drop_nobuf), EMU_U64, EMU_SWITCH},
    {EMU_FIELD(kernel_packets), EMU_U64, EMU_KERNEL},
    {EMU_FIELD(kernel_loss_packets), EMU_U64, EMU_KERNEL},
    {EMU_FIELD(kernel_drop_loss), EMU_U64, EMU_KERNEL},
    {EMU_FIELD(kernel_drop_upload), EMU_U64, EMU_KERNEL},
    {EMU_FIELD(kernel_drop_download), EMU_U64, EMU_KERNEL},
    {EMU_FIELD(kernel_drop_partition), EMU_U64, EMU_KERNEL},
    {EMU_FIELD(kernel_overlimits), EMU_U64, EMU_KERNEL},
    {EMU_FIELD(pauses), EMU_U64, EMU_PAUSES},
    {EMU_FIELD(pause_max_us), EMU_DOUBLE, EMU_PAUSES},
#undef EMU_FIELD
};

int rundir_emulation_write(const char *dir, const struct rundir_emulation *e, char *err,
                           size_t errlen)
{
	char path[4096];
	FILE *f;
	if (open_to_write(dir, RUNDIR_EMULATION, path, sizeof(path), &f, err, errlen))
		return -1;
	for (size_t k = 0; k < ARRAY_LEN(emu_keys); k++) {
		const void *v = (const char *)e + emu_keys[k].off;
		if ((emu_keys[k].need == EMU_SWITCH && !e->have_switch) ||
		    (emu_keys[k].need == EMU_KERNEL && !e->have_kernel) ||
		    (emu_keys[k].need == EMU_PAUSES && !e->have_pauses))
			continue;
		if (emu_keys[k].kind == EMU_DOUBLE)
			fprintf(f, "%s=%.6g\n", emu_keys[k].key, *(const double *)v);
		else
			fprintf(f, "%s=%llu\n", emu_keys[k].key,
			        (unsigned long long)*(const uint64_t *)v);
	}
	if (ferror(f) | fclose(f))
		return err_set(err, errlen, "write %s: %s", path, strerror(errno));
	return 0;
}

/* One "key=value" line into e; returns the key's index, or -1 when the key
 * is unknown (a newer harness's) or the value unreadable. */
static int emu_line(char *line, struct rundir_emulation *e)
{
	char *eq = strchr(line, '=');
	if (!eq)
		return -1;
	*eq = 0;
	for (size_t k = 0; k < ARRAY_LEN(emu_keys); k++) {
		if (strcmp(line, emu_keys[k].key))
			continue;
		void *v = (char *)e + emu_keys[k].off;
		char *end;
		errno = 0;
		if (emu_keys[k].kind == EMU_DOUBLE)
			*(double *)v = strtod(eq + 1, &end);
		else
			*(uint64_t *)v = strtoull(eq + 1, &end, 10);
		return errno || end == eq + 1 || (*end && *end != '\n') ? -1 : (int)k;
	}
	return -1;
}

int rundir_emulation_read(const char *dir, struct rundir_emulation *e, char *err, size_t errlen)
{
	memset(e, 0, sizeof(*e));
	char path[4096];
	if (rundir_path(path, sizeof(path), dir, RUNDIR_EMULATION))
		return err_set(err, errlen, "%s/%s: path too long", dir, RUNDIR_EMULATION);
	FILE *f = rundir_fopen(path, "r");
	if (!f)
		return err_set(err, errlen, "open %s: %s", path, strerror(errno));
	char line[256], seen[ARRAY_LEN(emu_keys)] = {0};
	while (fgets(line, sizeof(line), f)) {
		int k = emu_line(line, e);
		if (k >= 0)
			seen[k] = 1;
	}
	fclose(f);
	e->have_switch = e->have_kernel = e->have_pauses = 1;
	for (size_t k = 0; k < ARRAY_LEN(emu_keys); k++) {
		if (seen[k])
			continue;
		if (emu_keys[k].need == EMU_REQUIRED)
			return err_set(err, errlen, "%s: no %s", path, emu_keys[k].key);
		if (emu_keys[k].need == EMU_SWITCH)
			e->have_switch = 0;
		if (emu_keys[k].need == EMU_KERNEL)
			e->have_kernel = 0;
		if (emu_keys[k].need == EMU_PAUSES)
			e->have_pauses = 0;
	}
	return 0;
}

int rundir_pauses_write(const char *dir, const struct rundir_pause *p, size_t n, char *err,
                        size_t errlen)
{
	char path[4096];
	FILE *f;
	if (open_to_write(dir, RUNDIR_PAUSES, path, sizeof(path), &f, err, errlen))
		return -1;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%llu %d %llu\n", (unsigned long long)p[i].end_us, p[i].cpu,
		        (unsigned long long)p[i].late_us);
	if (ferror(f) | fclose(f))
		return err_set(err, errlen, "write %s: %s", path, strerror(errno));
	return 0;
}

uint64_t rundir_pause_start_us(const struct rundir_pause *p)
{
	return p->end_us > p->late_us ? p->end_us - p->late_us : 0;
}

static int by_start(const void *a, const void *b)
{
	uint64_t x = rundir_pause_start_us(a), y = rundir_pause_start_us(b);
	return (x > y) - (x < y);
}

/* One line of pauses.txt. No sign anywhere: sscanf would take "-1" as a
 * huge unsigned. */
static int pause_line(char *line, void *rec)
{
	unsigned long long end, late;
	int cpu, used = 0;
	if (strchr(line, '-') || sscanf(line, "%llu %d %llu%n", &end, &cpu, &late, &used) != 3 ||
	    line[used + strspn(line + used, " \r\n")] != 0)
		return -1;
	*(struct rundir_pause *)rec =
	    (struct rundir_pause){.end_us = end, .late_us = late, .cpu = cpu};
	return 0;
}

int rundir_pauses_read(const char *dir, struct rundir_pause **out, size_t *n, char *err,
                       size_t errlen)
{
	if (read_records(dir, RUNDIR_PAUSES, sizeof(**out), pause_line, "'END_US CPU LATE_US'",
	                 (void **)out, n, err, errlen))
		return -1;
	qsort(*out, *n, sizeof(**out), by_start);
	return 0;
}

/* Cores as cpu.txt writes them: "-" when not known (negative). */
static void put_cores(FILE *f, double cores)
{
	if (cores < 0)
		fputs(" -", f);
	else
		fprintf(f, " %.3f", cores);
}

/* A cores field: "-" reads as -1, anything else a number not negative. */
static int get_cores(const char *s, double *cores)
{
	*cores = -1;
	return strcmp(s, "-") && (parse_decimal(s, cores) || *cores < 0) ? -1 : 0;
}

int rundir_cpu_write(const char *dir, const struct rundir_cpu *c, size_t n, char *err,
                     size_t errlen)
{
	char path[4096];
	FILE *f;
	if (open_to_write(dir, RUNDIR_CPU, path, sizeof(path), &f, err, errlen))
		return -1;
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%llu %.4f", (unsigned long long)c[i].ts_us, c[i].idle);
		put_cores(f, c[i].hosts);
		put_cores(f, c[i].sw);
		fputc('\n', f);
	}
	if (ferror(f) | fclose(f))
		return err_set(err, errlen, "write %s: %s", path, strerror(errno));
	return 0;
}

/* One line of cpu.txt: four fields, an idle share of 0 to 1, cores not
 * negative or "-" when not known. */
static int cpu_line(char *line, void *rec)
{
	struct rundir_cpu *c = rec;
	char *save = NULL, *f[5];
	int k = 0;
	for (char *t = strtok_r(line, " \t\r\n", &save); t && k < 5;
	     t = strtok_r(NULL, " \t\r\n", &save))
		f[k++] = t;
	long ts;
	if (k != 4 || parse_long(f[0], 0, LONG_MAX, &ts) || parse_decimal(f[1], &c->idle) ||
	    c->idle < 0 || c->idle > 1 || get_cores(f[2], &c->hosts) || get_cores(f[3], &c->sw))
		return -1;
	c->ts_us = (uint64_t)ts;
	return 0;
}

int rundir_cpu_read(const char *dir, struct rundir_cpu **out, size_t *n, char *err, size_t errlen)
{
	return read_records(dir, RUNDIR_CPU, sizeof(**out), cpu_line,
	                    "'TS_US IDLE HOSTS SWITCH' (idle 0 to 1, cores not negative or "
	                    "'-' when not known)",
	                    (void **)out, n, err, errlen);
}
