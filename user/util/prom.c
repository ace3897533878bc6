/* SPDX-License-Identifier: MIT */
/* The Prometheus text exposition format (util/prom.h). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/prom.h"

void prom_escape_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void escape_help(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

void prom_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	escape_help(f, help);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

/* name{a="x",b="y"  -- the caller closes (with le= perhaps) */
static void open_labels(FILE *f, const char *name, const struct prom_label *l, size_t n)
{
	fputs(name, f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s%s=\"", i ? "," : "{", l[i].name);
		prom_escape_label(f, l[i].value ? l[i].value : "");
		fputc('"', f);
	}
}

static void labels(FILE *f, const char *name, const struct prom_label *l, size_t n)
{
	open_labels(f, name, l, n);
	if (n)
		fputc('}', f);
}

void prom_sample_u64(FILE *f, const char *name, const struct prom_label *l, size_t n, uint64_t v)
{
	labels(f, name, l, n);
	fprintf(f, " %" PRIu64 "\n", v);
}

/* Go's strconv.ParseFloat reads these; NaN and the infinities have names.
 * The shortest of 15 or 17 digits that reads back as v: 0.711779, not
 * 0.71177900000000005. */
static void value(FILE *f, double v)
{
	char buf[64];

	if (isnan(v)) {
		fputs("NaN", f);
	} else if (isinf(v)) {
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	} else {
		snprintf(buf, sizeof(buf), "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, sizeof(buf), "%.17g", v);
		fputs(buf, f);
	}
}

void prom_sample_double(FILE *f, const char *name, const struct prom_label *l, size_t n, double v)
{
	labels(f, name, l, n);
	fputc(' ', f);
	value(f, v);
	fputc('\n', f);
}

static void bucket(FILE *f, const char *name, const struct prom_label *l, size_t n, const char *le,
		   uint64_t cum)
{
	char full[256];

	snprintf(full, sizeof(full), "%s_bucket", name);
	open_labels(f, full, l, n);
	fprintf(f, "%sle=\"%s\"} %" PRIu64 "\n", n ? "," : "{", le, cum);
}

void prom_histogram(FILE *f, const char *name, const struct prom_label *l, size_t n,
		    const double *bounds, const uint64_t *counts, size_t n_bounds, double sum)
{
	char le[64], full[256];
	uint64_t cum = 0;

	for (size_t i = 0; i < n_bounds; i++) {
		cum += counts[i];
		snprintf(le, sizeof(le), "%g", bounds[i]);
		bucket(f, name, l, n, le, cum);
	}
	cum += counts[n_bounds];
	bucket(f, name, l, n, "+Inf", cum);
	snprintf(full, sizeof(full), "%s_sum", name);
	prom_sample_double(f, full, l, n, sum);
	snprintf(full, sizeof(full), "%s_count", name);
	prom_sample_u64(f, full, l, n, cum);
}
