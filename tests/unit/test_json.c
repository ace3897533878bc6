/* SPDX-License-Identifier: MIT */
/* Unit tests for the streaming JSON writer (user/util/json.c). */
#include <errno.h>
#include <math.h>
#include <unistd.h>

#include "testutil.h"
#include "util/json.h"

/* A writer over a memory stream; out() flushes and returns what was written. */
struct capture {
	struct json_writer w;
	FILE *f;
	char *buf;
	size_t len;
};

static void cap_open(struct capture *c, bool pretty)
{
	memset(c, 0, sizeof(*c));
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	json_init(&c->w, c->f, pretty);
}

static const char *cap_out(struct capture *c)
{
	fflush(c->f);
	return c->buf;
}

static void cap_close(struct capture *c)
{
	fclose(c->f);
	free(c->buf);
}

/* Writes one top-level string and compares the whole line. */
static void check_string(const char *in, size_t len, const char *expect)
{
	struct capture c;
	char *want;

	cap_open(&c, false);
	assert_int_equal(json_string_len(&c.w, in, len), 0);
	assert_int_equal(json_finish(&c.w), 0);
	assert_int_not_equal(asprintf(&want, "\"%s\"\n", expect), -1);
	assert_string_equal(cap_out(&c), want);
	free(want);
	cap_close(&c);
}

static void test_escapes_every_control_char(void **state)
{
	static const char *const named[32] = {
		['\b'] = "\\b", ['\f'] = "\\f", ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t",
	};
	char in[1], want[8];

	for (int c = 0; c < 0x20; c++) {
		in[0] = (char)c;
		if (named[c])
			snprintf(want, sizeof(want), "%s", named[c]);
		else
			snprintf(want, sizeof(want), "\\u%04x", c);
		check_string(in, 1, want);
	}
	check_string("\x7f", 1, "\\u007f");
}

static void test_escapes_quote_and_backslash(void **state)
{
	check_string("a\"b\\c/d", 7, "a\\\"b\\\\c/d");
}

static void test_embedded_nul_is_escaped(void **state)
{
	check_string("a\0b", 3, "a\\u0000b");
}

static void test_valid_utf8_passes_through(void **state)
{
	const char *s = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e \xef\xbf\xbf \xf4\x8f\xbf\xbf";

	check_string(s, strlen(s), s);
}

static void test_line_separators_are_escaped(void **state)
{
	check_string("a\xe2\x80\xa8" "b\xe2\x80\xa9", 8, "a\\u2028b\\u2029");
}

#define FFFD "\xef\xbf\xbd"

static void test_invalid_utf8_becomes_replacement_per_byte(void **state)
{
	check_string("\xff", 1, FFFD);
	check_string("a\x80z", 3, "a" FFFD "z");			/* stray continuation */
	check_string("a\xc0\xafz", 4, "a" FFFD FFFD "z");		/* overlong '/' */
	check_string("\xe0\x80\xaf", 3, FFFD FFFD FFFD);		/* overlong 3-byte */
	check_string("\xed\xa0\x80", 3, FFFD FFFD FFFD);		/* UTF-16 surrogate */
	check_string("\xf4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD);	/* > U+10FFFF */
	check_string("\xf5\x80", 2, FFFD FFFD);
	check_string("x\xe2\x82", 3, "x" FFFD FFFD);			/* truncated at end */
	check_string("\xe2\x82" "A", 3, FFFD FFFD "A");		/* truncated before ASCII */
	check_string("\xc3\"", 2, FFFD "\\\"");			/* escape after bad byte */
}

static void test_null_string_is_null(void **state)
{
	struct capture c;

	cap_open(&c, false);
	assert_int_equal(json_string(&c.w, NULL), 0);
	assert_string_equal(cap_out(&c), "null\n");
	cap_close(&c);
}

static void test_nesting_and_commas_compact(void **state)
{
	struct capture c;
	struct json_writer *w = &c.w;

	cap_open(&c, false);
	json_begin_object(w);
	json_key(w, "a");
	json_begin_array(w);
	json_int(w, 1);
	json_int(w, 2);
	json_begin_object(w);
	json_kv_null(w, "b");
	json_end_object(w);
	json_begin_array(w);
	json_end_array(w);
	json_end_array(w);
	json_key(w, "c");
	json_begin_object(w);
	json_end_object(w);
	json_kv_bool(w, "d", true);
	json_kv_bool(w, "e", false);
	json_kv_string(w, "k\"ey", "v");
	json_end_object(w);
	assert_int_equal(json_finish(w), 0);
	assert_string_equal(cap_out(&c),
		"{\"a\":[1,2,{\"b\":null},[]],\"c\":{},\"d\":true,\"e\":false,\"k\\\"ey\":\"v\"}\n");
	cap_close(&c);
}

static void test_pretty_printing_indents(void **state)
{
	struct capture c;
	struct json_writer *w = &c.w;

	cap_open(&c, true);
	json_begin_object(w);
	json_key(w, "a");
	json_begin_array(w);
	json_int(w, 1);
	json_begin_object(w);
	json_end_object(w);
	json_end_array(w);
	json_kv_string(w, "b", "x");
	json_end_object(w);
	assert_int_equal(json_finish(w), 0);
	assert_string_equal(cap_out(&c),
		"{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": \"x\"\n}\n");
	cap_close(&c);
}

static void test_top_level_values_are_json_lines(void **state)
{
	struct capture c;

	cap_open(&c, false);
	json_begin_object(&c.w);
	json_kv_uint(&c.w, "seq", 1);
	json_end_object(&c.w);
	json_begin_object(&c.w);
	json_kv_uint(&c.w, "seq", 2);
	json_end_object(&c.w);
	json_int(&c.w, 3);
	assert_int_equal(json_finish(&c.w), 0);
	assert_string_equal(cap_out(&c), "{\"seq\":1}\n{\"seq\":2}\n3\n");
	cap_close(&c);
}

static void test_int64_extremes(void **state)
{
	struct capture c;

	cap_open(&c, false);
	json_begin_array(&c.w);
	json_int(&c.w, INT64_MIN);
	json_int(&c.w, INT64_MAX);
	json_int(&c.w, 0);
	json_int(&c.w, -1);
	json_uint(&c.w, UINT64_MAX);
	json_end_array(&c.w);
	assert_int_equal(json_finish(&c.w), 0);
	assert_string_equal(cap_out(&c),
		"[-9223372036854775808,9223372036854775807,0,-1,18446744073709551615]\n");
	cap_close(&c);
}

static void test_doubles_shortest_and_nonfinite_null(void **state)
{
	struct capture c;

	cap_open(&c, false);
	json_begin_array(&c.w);
	json_double(&c.w, 0.5);
	json_double(&c.w, 0.1);
	json_double(&c.w, 2.0);
	json_double(&c.w, 1e20);
	json_double(&c.w, -1.25e-7);
	json_double(&c.w, NAN);
	json_double(&c.w, INFINITY);
	json_double(&c.w, -INFINITY);
	json_end_array(&c.w);
	assert_int_equal(json_finish(&c.w), 0);
	assert_string_equal(cap_out(&c),
		"[0.5,0.1,2,1e+20,-1.25e-07,null,null,null]\n");
	cap_close(&c);
}

static void test_double_round_trips(void **state)
{
	const double v[] = { 1.0 / 3.0, 2.0 / 3.0, 0.1 + 0.2, 1e-300, 1.7976931348623157e308 };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct capture c;

		cap_open(&c, false);
		assert_int_equal(json_double(&c.w, v[i]), 0);
		assert_true(strtod(cap_out(&c), NULL) == v[i]);
		cap_close(&c);
	}
}

static void test_depth_overflow_is_sticky_error(void **state)
{
	struct capture c;

	cap_open(&c, false);
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		assert_int_equal(json_begin_array(&c.w), 0);
	assert_int_equal(json_begin_array(&c.w), -E2BIG);
	assert_int_equal(json_int(&c.w, 1), -E2BIG);
	assert_int_equal(json_end_array(&c.w), -E2BIG);
	assert_int_equal(json_finish(&c.w), -E2BIG);
	cap_close(&c);
}

static void test_value_without_key_in_object_is_einval(void **state)
{
	struct capture c;

	cap_open(&c, false);
	json_begin_object(&c.w);
	assert_int_equal(json_int(&c.w, 1), -EINVAL);
	cap_close(&c);
}

static void test_key_in_array_is_einval(void **state)
{
	struct capture c;

	cap_open(&c, false);
	json_begin_array(&c.w);
	assert_int_equal(json_key(&c.w, "k"), -EINVAL);
	cap_close(&c);
}

static void test_mismatched_end_is_einval(void **state)
{
	struct capture c;

	cap_open(&c, false);
	json_begin_object(&c.w);
	assert_int_equal(json_end_array(&c.w), -EINVAL);
	cap_close(&c);

	cap_open(&c, false);
	assert_int_equal(json_end_object(&c.w), -EINVAL);	/* nothing open */
	cap_close(&c);

	cap_open(&c, false);
	json_begin_object(&c.w);
	json_key(&c.w, "dangling");
	assert_int_equal(json_end_object(&c.w), -EINVAL);
	cap_close(&c);
}

static void test_finish_with_open_container_is_einval(void **state)
{
	struct capture c;

	cap_open(&c, false);
	json_begin_object(&c.w);
	assert_int_equal(json_finish(&c.w), -EINVAL);
	cap_close(&c);
}

/* Members written by hand join the writer's own with one comma each way,
 * and are refused where a member cannot stand. */
static void test_members_raw_join_the_writers_members(void **state)
{
	struct json_buf b = { 0 };
	struct json_writer w;
	struct capture c;

	json_init_buf(&w, &b, false);
	json_begin_object(&w);
	assert_int_equal(json_members_raw(&w, "\"a\":1", 5), 0);
	json_kv_int(&w, "b", 2);
	assert_int_equal(json_members_raw(&w, "", 0), 0);	/* nothing, not a comma */
	assert_int_equal(json_members_raw(&w, "\"c\":3,\"d\":4", 11), 0);
	json_end_object(&w);
	assert_int_equal(json_finish(&w), 0);
	assert_int_equal(b.len, strlen("{\"a\":1,\"b\":2,\"c\":3,\"d\":4}\n"));
	assert_memory_equal(b.data, "{\"a\":1,\"b\":2,\"c\":3,\"d\":4}\n", b.len);
	json_buf_free(&b);

	cap_open(&c, false);	/* a stream takes them too */
	json_begin_object(&c.w);
	json_kv_int(&c.w, "x", 0);
	assert_int_equal(json_members_raw(&c.w, "\"y\":1", 5), 0);
	json_end_object(&c.w);
	assert_string_equal(cap_out(&c), "{\"x\":0,\"y\":1}\n");
	cap_close(&c);

	cap_open(&c, false);	/* after a key: its value must come first */
	json_begin_object(&c.w);
	json_key(&c.w, "k");
	assert_int_equal(json_members_raw(&c.w, "\"y\":1", 5), -EINVAL);
	cap_close(&c);

	cap_open(&c, false);	/* in an array */
	json_begin_array(&c.w);
	assert_int_equal(json_members_raw(&c.w, "\"y\":1", 5), -EINVAL);
	cap_close(&c);

	cap_open(&c, true);	/* a pretty writer would get them unindented */
	json_begin_object(&c.w);
	assert_int_equal(json_members_raw(&c.w, "\"y\":1", 5), -EINVAL);
	cap_close(&c);
}

static void test_stringf_formats(void **state)
{
	struct capture c;

	cap_open(&c, false);
	assert_int_equal(json_stringf(&c.w, "%s:%u:%u", "a\tb.toml", 3u, 14u), 0);
	assert_string_equal(cap_out(&c), "\"a\\tb.toml:3:14\"\n");
	cap_close(&c);
}

static void test_write_error_is_reported(void **state)
{
	struct json_writer w;
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		SKIP_BECAUSE("/dev/full cannot be opened: %m");
	setvbuf(f, NULL, _IONBF, 0);
	json_init(&w, f, false);
	json_begin_array(&w);
	json_string(&w, "x");
	json_end_array(&w);
	assert_int_equal(json_finish(&w), -ENOSPC);
	fclose(f);
}

/* Every byte value and random byte strings must yield JSON that python parses. */
static void test_arbitrary_bytes_yield_valid_json(void **state)
{
	char path[] = "/tmp/sbx-test-json-XXXXXX", cmd[256], bytes[256];
	struct json_writer w;
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	assert_non_null(f);
	json_init(&w, f, false);
	json_begin_array(&w);
	for (int i = 0; i < 256; i++)
		bytes[i] = (char)i;
	json_string_len(&w, bytes, sizeof(bytes));
	srand(42);
	for (int n = 0; n < 500; n++) {
		size_t len = (size_t)(rand() % 16);

		for (size_t i = 0; i < len; i++)
			bytes[i] = (char)(rand() % 256);
		json_string_len(&w, bytes, len);
	}
	json_end_array(&w);
	assert_int_equal(json_finish(&w), 0);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 -c 'import json,sys; "
		 "json.load(open(sys.argv[1], encoding=\"utf-8\", errors=\"strict\"))' %s", path);
	assert_int_equal(system(cmd), 0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes_every_control_char),
		cmocka_unit_test(test_escapes_quote_and_backslash),
		cmocka_unit_test(test_embedded_nul_is_escaped),
		cmocka_unit_test(test_valid_utf8_passes_through),
		cmocka_unit_test(test_line_separators_are_escaped),
		cmocka_unit_test(test_invalid_utf8_becomes_replacement_per_byte),
		cmocka_unit_test(test_null_string_is_null),
		cmocka_unit_test(test_nesting_and_commas_compact),
		cmocka_unit_test(test_pretty_printing_indents),
		cmocka_unit_test(test_top_level_values_are_json_lines),
		cmocka_unit_test(test_int64_extremes),
		cmocka_unit_test(test_doubles_shortest_and_nonfinite_null),
		cmocka_unit_test(test_double_round_trips),
		cmocka_unit_test(test_depth_overflow_is_sticky_error),
		cmocka_unit_test(test_value_without_key_in_object_is_einval),
		cmocka_unit_test(test_key_in_array_is_einval),
		cmocka_unit_test(test_mismatched_end_is_einval),
		cmocka_unit_test(test_finish_with_open_container_is_einval),
		cmocka_unit_test(test_members_raw_join_the_writers_members),
		cmocka_unit_test(test_stringf_formats),
		cmocka_unit_test(test_write_error_is_reported),
		cmocka_unit_test(test_arbitrary_bytes_yield_valid_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
