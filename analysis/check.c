#include "analysis/check.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static int parse_line(char *line, struct bound *b, char *why, size_t whylen)
{
	char name[64], op[4], value[64], extra[2];
	int k = sscanf(line, " %63s %3s %63s %1s", name, op, value, extra);
	if (k != 3)
		return err_set(why, whylen, "expected 'metric >= value' or 'metric <= value'");
	if ((b->metric = metric_find(name)) < 0)
		return err_set(why, whylen, "unknown metric '%s'", name);
	if (strcmp(op, ">=") && strcmp(op, "<="))
		return err_set(why, whylen, "operator '%s': use >= or <=", op);
	b->at_least = op[0] == '>';
	char *end;
	errno = 0;
	b->value = strtod(value, &end);
	if (*end || errno || !isfinite(b->value))
		return err_set(why, whylen, "'%s' is not a finite number", value);
	return 0;
}

int check_parse(const char *path, struct bound **out, int *n, char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	FILE *f = fopen(path, "re");
	if (!f)
		return err_set(err, errlen, "open baseline %s: %s", path, strerror(errno));
	char line[256], why[128];
	int lineno = 0, cap = 0, rc = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = line + strspn(line, " \t");
		if (*s == '#' || *s == '\n' || !*s)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			struct bound *nb = realloc(*out, (size_t)cap * sizeof(*nb));
			if (!nb) {
				rc = err_set(err, errlen, "read %s: out of memory", path);
				break;
			}
			*out = nb;
		}
		struct bound *b = &(*out)[*n];
		if (parse_line(s, b, why, sizeof(why)))
			rc = err_set(err, errlen, "%s:%d: %s", path, lineno, why);
		b->line = lineno;
		(*n)++;
	}
	fclose(f);
	if (!rc && !*n)
		rc = err_set(err, errlen, "%s: no bounds", path);
	if (rc) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int check_run(const double values[M_COUNT], const struct bound *b, int n, FILE *out)
{
	int bad = 0;
	for (int i = 0; i < n; i++) {
		const struct metric_def *d = &metric_defs[b[i].metric];
		double v = values[b[i].metric];
		int ok = !isnan(v) && (b[i].at_least ? v >= b[i].value : v <= b[i].value);
		bad += !ok;
		fprintf(out, "%-30s %12.4f %s %-10g %-6s %s\n", d->name, v,
		        b[i].at_least ? ">=" : "<=", b[i].value, d->unit,
		        ok         ? "ok"
		        : isnan(v) ? "UNKNOWN"
		                   : "OUT OF BOUNDS");
	}
	fprintf(out, "check: %d of %d bounds hold%s\n", n - bad, n, bad ? " (FAILED)" : "");
	return bad;
}
