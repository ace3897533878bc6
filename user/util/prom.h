/* SPDX-License-Identifier: MIT */
/*
 * A writer of the Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/):
 *
 *   # HELP sbx_sandboxes_running Sandboxes whose workload runs now.
 *   # TYPE sbx_sandboxes_running gauge
 *   sbx_sandboxes_running 2
 *   sbx_sandbox_memory_bytes{sandbox="web",profile="default",provider="host"} 1.2e+07
 *
 * Label values are user input (sandbox and profile names): a backslash, a
 * double quote and a newline in them are written \\, \" and \n, so no value
 * can end its label or its line. HELP text escapes backslash and newline.
 * The caller writes each family's samples together, after its prom_family().
 */
#ifndef SBX_UTIL_PROM_H
#define SBX_UTIL_PROM_H

#include <stdint.h>
#include <stdio.h>

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct prom_label {
	const char *name;
	const char *value;
};

/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
void prom_family(FILE *f, const char *name, const char *type, const char *help);

/* One sample: name{labels} value. n labels (0: no braces). */
void prom_sample_u64(FILE *f, const char *name, const struct prom_label *l, size_t n, uint64_t v);
void prom_sample_double(FILE *f, const char *name, const struct prom_label *l, size_t n, double v);

/* A histogram's samples: name_bucket{labels,le="B"} for each of the n_bounds
 * upper bounds (ascending) and le="+Inf", then name_sum and name_count.
 * counts[i] is the number of observations in bucket i alone (not cumulative;
 * counts[n_bounds] those above the last bound): the writer adds them up. */
void prom_histogram(FILE *f, const char *name, const struct prom_label *l, size_t n,
		    const double *bounds, const uint64_t *counts, size_t n_bounds, double sum);

/* Writes v escaped as a label value (without the quotes). */
void prom_escape_label(FILE *f, const char *v);

#endif
