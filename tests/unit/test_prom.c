/* SPDX-License-Identifier: MIT */
/* Unit tests for the Prometheus text exposition writer (user/util/prom.c). */
#include <math.h>

#include "testutil.h"
#include "util/prom.h"

struct capture {
	FILE *f;
	char *buf;
	size_t len;
};

static FILE *cap_open(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	return c->f;
}

/* Closes the stream, compares, frees. */
static void cap_check(struct capture *c, const char *want)
{
	assert_int_equal(fclose(c->f), 0);
	assert_string_equal(c->buf, want);
	free(c->buf);
}

static void test_family_help_and_type(void **state)
{
	struct capture c;

	prom_family(cap_open(&c), "sbx_x_total", "counter", "Things counted.");
	cap_check(&c, "# HELP sbx_x_total Things counted.\n# TYPE sbx_x_total counter\n");
}

static void test_help_escapes_backslash_and_newline(void **state)
{
	struct capture c;

	prom_family(cap_open(&c), "m", "gauge", "a\\b\nc \"q\"");
	/* a quote needs no escape in HELP */
	cap_check(&c, "# HELP m a\\\\b\\nc \"q\"\n# TYPE m gauge\n");
}

static void test_sample_without_labels(void **state)
{
	struct capture c;

	prom_sample_u64(cap_open(&c), "sbx_sandboxes_running", NULL, 0, 3);
	cap_check(&c, "sbx_sandboxes_running 3\n");
}

static void test_sample_u64_max(void **state)
{
	struct capture c;
	const struct prom_label l[] = { { "sandbox", "a" } };

	prom_sample_u64(cap_open(&c), "m", l, 1, UINT64_MAX);
	cap_check(&c, "m{sandbox=\"a\"} 18446744073709551615\n");
}

static void test_label_values_escaped(void **state)
{
	struct capture c;
	const struct prom_label l[] = {
		{ "sandbox", "we\"ird" }, { "profile", "back\\slash" }, { "provider", "new\nline" },
	};

	prom_sample_u64(cap_open(&c), "m", l, 3, 1);
	cap_check(&c, "m{sandbox=\"we\\\"ird\",profile=\"back\\\\slash\",provider=\"new\\nline\"} 1\n");
}

/* A value that tries to close the label and start another: stays one value. */
static void test_label_injection_stays_inside(void **state)
{
	struct capture c;
	const struct prom_label l[] = { { "sandbox", "x\"} 1\nevil{a=\"" } };

	prom_sample_u64(cap_open(&c), "m", l, 1, 7);
	cap_check(&c, "m{sandbox=\"x\\\"} 1\\nevil{a=\\\"\"} 7\n");
}

static void test_null_label_value_is_empty(void **state)
{
	struct capture c;
	const struct prom_label l[] = { { "profile", NULL } };

	prom_sample_u64(cap_open(&c), "m", l, 1, 0);
	cap_check(&c, "m{profile=\"\"} 0\n");
}

static void test_doubles(void **state)
{
	struct capture c;
	FILE *f = cap_open(&c);

	prom_sample_double(f, "a", NULL, 0, 0.711779);
	prom_sample_double(f, "b", NULL, 0, 0.1 + 0.2);	/* needs 17 digits to read back */
	prom_sample_double(f, "c", NULL, 0, 2.0);
	prom_sample_double(f, "d", NULL, 0, INFINITY);
	prom_sample_double(f, "e", NULL, 0, -INFINITY);
	prom_sample_double(f, "f", NULL, 0, NAN);
	cap_check(&c, "a 0.711779\nb 0.30000000000000004\nc 2\nd +Inf\ne -Inf\nf NaN\n");
}

/* Buckets are cumulative, +Inf equals _count, _sum as given. */
static void test_histogram_buckets_cumulative(void **state)
{
	struct capture c;
	const double bounds[] = { 0.1, 0.5, 2.5 };
	const uint64_t counts[] = { 1, 0, 2, 3 };	/* 3 above the last bound */

	prom_histogram(cap_open(&c), "sbx_lat_seconds", NULL, 0, bounds, counts, 3, 12.25);
	cap_check(&c,
		  "sbx_lat_seconds_bucket{le=\"0.1\"} 1\n"
		  "sbx_lat_seconds_bucket{le=\"0.5\"} 1\n"
		  "sbx_lat_seconds_bucket{le=\"2.5\"} 3\n"
		  "sbx_lat_seconds_bucket{le=\"+Inf\"} 6\n"
		  "sbx_lat_seconds_sum 12.25\n"
		  "sbx_lat_seconds_count 6\n");
}

static void test_histogram_with_labels_puts_le_last(void **state)
{
	struct capture c;
	const double bounds[] = { 1 };
	const uint64_t counts[] = { 0, 0 };
	const struct prom_label l[] = { { "sandbox", "a\"b" } };

	prom_histogram(cap_open(&c), "h", l, 1, bounds, counts, 1, 0);
	cap_check(&c,
		  "h_bucket{sandbox=\"a\\\"b\",le=\"1\"} 0\n"
		  "h_bucket{sandbox=\"a\\\"b\",le=\"+Inf\"} 0\n"
		  "h_sum{sandbox=\"a\\\"b\"} 0\n"
		  "h_count{sandbox=\"a\\\"b\"} 0\n");
}

static void test_empty_histogram(void **state)
{
	struct capture c;
	const uint64_t counts[] = { 0 };

	prom_histogram(cap_open(&c), "h", NULL, 0, NULL, counts, 0, 0);
	cap_check(&c, "h_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_help_and_type),
		cmocka_unit_test(test_help_escapes_backslash_and_newline),
		cmocka_unit_test(test_sample_without_labels),
		cmocka_unit_test(test_sample_u64_max),
		cmocka_unit_test(test_label_values_escaped),
		cmocka_unit_test(test_label_injection_stays_inside),
		cmocka_unit_test(test_null_label_value_is_empty),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_histogram_buckets_cumulative),
		cmocka_unit_test(test_histogram_with_labels_puts_le_last),
		cmocka_unit_test(test_empty_histogram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
