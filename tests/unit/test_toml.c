/* SPDX-License-Identifier: MIT */
/* Unit tests for the TOML 1.0 reader: exact values for every form the
 * specification defines, exact positions for errors, and the limits. */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "testutil.h"
#include "toml.h"

/* ---- helpers ------------------------------------------------------------ */

static struct toml_value *parse_ok_n(const char *doc, size_t len)
{
	struct toml_value *root = NULL;
	struct toml_error err;
	int r = toml_parse(doc, len, &root, &err);

	if (r != 0)
		print_error("unexpected error %d at %u:%u: %s\n", r, err.pos.line, err.pos.col,
			    err.msg);
	assert_int_equal(r, 0);
	assert_non_null(root);
	assert_int_equal(root->type, TOML_TABLE);
	return root;
}

static struct toml_value *parse_ok(const char *doc)
{
	return parse_ok_n(doc, strlen(doc));
}

/* The parse must fail at line:col with a message containing msg, and leave
 * *ret_root alone. */
static void check_error_n(const char *doc, size_t len, uint32_t line, uint32_t col,
			  const char *msg)
{
	struct toml_value sentinel, *root = &sentinel;
	struct toml_error err;
	int r = toml_parse(doc, len, &root, &err);

	assert_int_equal(r, -EINVAL);
	assert_ptr_equal(root, &sentinel);
	if (!strstr(err.msg, msg))
		fail_msg("message '%s' does not contain '%s'", err.msg, msg);
	if (err.pos.line != line || err.pos.col != col)
		fail_msg("'%s' reported at %u:%u, expected %u:%u", err.msg, err.pos.line,
			 err.pos.col, line, col);
}

static void check_error(const char *doc, uint32_t line, uint32_t col, const char *msg)
{
	check_error_n(doc, strlen(doc), line, col, msg);
}

/* Looks up a dotted path of bare keys ("a.b.c"). */
static const struct toml_value *get(const struct toml_value *t, const char *path)
{
	char buf[256], *save = NULL, *part;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part && t; part = strtok_r(NULL, ".", &save))
		t = toml_get(t, part);
	return t;
}

static const struct toml_value *get_type(const struct toml_value *t, const char *path,
					 enum toml_type type)
{
	const struct toml_value *v = get(t, path);

	if (!v)
		fail_msg("no value at '%s'", path);
	if (v->type != type)
		fail_msg("'%s' is %s, expected %s", path, toml_type_name(v->type),
			 toml_type_name(type));
	return v;
}

static void check_str(const struct toml_value *t, const char *path, const char *want, size_t len)
{
	const struct toml_value *v = get_type(t, path, TOML_STRING);

	assert_int_equal(v->u.str.len, len);
	assert_memory_equal(v->u.str.ptr, want, len);
	assert_int_equal(v->u.str.ptr[len], '\0');
}

#define CHECK_STR(t, path, lit) check_str(t, path, lit, sizeof(lit) - 1)

static int64_t int_at(const struct toml_value *t, const char *path)
{
	return get_type(t, path, TOML_INTEGER)->u.integer;
}

static double float_at(const struct toml_value *t, const char *path)
{
	return get_type(t, path, TOML_FLOAT)->u.fp;
}

static void check_dt(const struct toml_value *t, const char *path, enum toml_type type,
		     const struct toml_datetime *want)
{
	const struct toml_datetime *dt = &get_type(t, path, type)->u.dt;

	assert_int_equal(dt->year, want->year);
	assert_int_equal(dt->month, want->month);
	assert_int_equal(dt->day, want->day);
	assert_int_equal(dt->hour, want->hour);
	assert_int_equal(dt->minute, want->minute);
	assert_int_equal(dt->second, want->second);
	assert_int_equal(dt->nanosecond, want->nanosecond);
	assert_int_equal(dt->offset_minutes, want->offset_minutes);
}

/* CPU time of this process, not wall time: other load on the machine does
 * not count. The bounds below are generous ceilings that only a superlinear
 * algorithm (minutes here) reaches; the figures themselves belong in bench/. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- strings ------------------------------------------------------------- */

static void test_basic_string_escapes_decode_to_exact_bytes(void **state)
{
	struct toml_value *root = parse_ok(
		"s = \"a\\b\\t\\n\\f\\r\\\"\\\\z\"\n"
		"e = \"caf\\u00E9\"\n"
		"emoji = \"\\U0001F600\"\n"
		"max = \"\\U0010FFFF\"\n"
		"tab = \"a\tb\"\n"
		"raw = \"é中\"\n");

	CHECK_STR(root, "s", "a\b\t\n\f\r\"\\z");
	CHECK_STR(root, "e", "caf\xC3\xA9");
	CHECK_STR(root, "emoji", "\xF0\x9F\x98\x80");
	CHECK_STR(root, "max", "\xF4\x8F\xBF\xBF");
	CHECK_STR(root, "tab", "a\tb");
	CHECK_STR(root, "raw", "\xC3\xA9\xE4\xB8\xAD");
	toml_free(root);
}

static void test_escaped_nul_is_kept_with_length(void **state)
{
	struct toml_value *root = parse_ok("s = \"a\\u0000b\"\n\"k\\u0000\" = 1\n");

	CHECK_STR(root, "s", "a\0b");
	/* toml_get() takes a C string, so the key is only reachable by index */
	assert_null(toml_get(root, "k"));
	assert_int_equal(root->u.tab.kvs[1].key_len, 2);
	assert_memory_equal(root->u.tab.kvs[1].key, "k\0", 3);
	toml_free(root);
}

static void test_multiline_basic_trims_first_newline_and_backslash_lines(void **state)
{
	struct toml_value *root = parse_ok(
		"a = \"\"\"\nRoses\nViolets\"\"\"\n"
		"b = \"\"\"The quick \\\n\n\n   brown \\   \n  fox.\\\n   \"\"\"\n"
		"c = \"\"\"no trim\"\"\"\n"
		"d = \"\"\"\n\nkeeps second\"\"\"\n"
		"e = \"\"\"esc \\t \\u00e9\"\"\"\n");

	CHECK_STR(root, "a", "Roses\nViolets");
	CHECK_STR(root, "b", "The quick brown fox.");
	CHECK_STR(root, "c", "no trim");
	CHECK_STR(root, "d", "\nkeeps second");
	CHECK_STR(root, "e", "esc \t \xC3\xA9");
	toml_free(root);
}

static void test_multiline_quotes_beside_delimiters_are_content(void **state)
{
	struct toml_value *root = parse_ok(
		"a = \"\"\"Here are two quotation marks: \"\". Simple.\"\"\"\n"
		"b = \"\"\"\"one\"\"\"\"\n"
		"c = \"\"\"\"\"two\"\"\"\"\"\n"
		"d = ''''one''''\n"
		"e = '''''two'''''\n"
		"f = \"\"\"\"\"\"\n"
		"g = \"\"\"\"\"\"\"\n");

	CHECK_STR(root, "a", "Here are two quotation marks: \"\". Simple.");
	CHECK_STR(root, "b", "\"one\"");
	CHECK_STR(root, "c", "\"\"two\"\"");
	CHECK_STR(root, "d", "'one'");
	CHECK_STR(root, "e", "''two''");
	CHECK_STR(root, "f", "");
	CHECK_STR(root, "g", "\"");
	toml_free(root);
}

static void test_literal_strings_take_no_escapes(void **state)
{
	struct toml_value *root = parse_ok(
		"win = 'C:\\Users\\nodejs\\templates'\n"
		"quoted = 'Tom \"Dubs\" Preston-Werner'\n"
		"regex = '''I [dw]on't need \\d{2} apples'''\n"
		"lines = '''\nThe first newline is\ntrimmed in raw strings.\n'''\n"
		"empty = ''\n");

	CHECK_STR(root, "win", "C:\\Users\\nodejs\\templates");
	CHECK_STR(root, "quoted", "Tom \"Dubs\" Preston-Werner");
	CHECK_STR(root, "regex", "I [dw]on't need \\d{2} apples");
	CHECK_STR(root, "lines", "The first newline is\ntrimmed in raw strings.\n");
	CHECK_STR(root, "empty", "");
	toml_free(root);
}

static void test_crlf_line_endings_are_newlines_and_read_as_lf(void **state)
{
	struct toml_value *root = parse_ok("a = 1\r\nb = \"\"\"\r\nx\r\ny\\\r\n  z\"\"\"\r\n# c\r\n");

	assert_int_equal(int_at(root, "a"), 1);
	/* newlines inside multi-line strings are normalised to LF */
	CHECK_STR(root, "b", "x\nyz");
	assert_int_equal(get(root, "b")->pos.line, 2);
	toml_free(root);
}

/* ---- numbers, booleans, dates ----------------------------------------------- */

static void test_integers_in_every_base_with_underscores(void **state)
{
	struct toml_value *root = parse_ok(
		"a = +99\nb = 42\nc = 0\nd = -17\ne = 1_000\nf = 5_349_221\ng = 1_2_3_4_5\n"
		"h = 0xDEADBEEF\ni = 0xdead_beef\nj = 0o01234567\nk = 0o755\nl = 0b11010110\n"
		"m = -0\nn = +0\no = 0x00ff\n");

	assert_int_equal(int_at(root, "a"), 99);
	assert_int_equal(int_at(root, "b"), 42);
	assert_int_equal(int_at(root, "c"), 0);
	assert_int_equal(int_at(root, "d"), -17);
	assert_int_equal(int_at(root, "e"), 1000);
	assert_int_equal(int_at(root, "f"), 5349221);
	assert_int_equal(int_at(root, "g"), 12345);
	assert_int_equal(int_at(root, "h"), 0xDEADBEEF);
	assert_int_equal(int_at(root, "i"), 0xDEADBEEF);
	assert_int_equal(int_at(root, "j"), 01234567);
	assert_int_equal(int_at(root, "k"), 0755);
	assert_int_equal(int_at(root, "l"), 0xD6);
	assert_int_equal(int_at(root, "m"), 0);
	assert_int_equal(int_at(root, "n"), 0);
	assert_int_equal(int_at(root, "o"), 255);
	toml_free(root);
}

static void test_integer_limits_are_exact(void **state)
{
	struct toml_value *root = parse_ok(
		"max = 9223372036854775807\nmin = -9223372036854775808\n"
		"hex = 0x7FFFFFFFFFFFFFFF\noct = 0o777777777777777777777\n"
		"bin = 0b111111111111111111111111111111111111111111111111111111111111111\n");

	assert_true(int_at(root, "max") == INT64_MAX);
	assert_true(int_at(root, "min") == INT64_MIN);
	assert_true(int_at(root, "hex") == INT64_MAX);
	assert_true(int_at(root, "oct") == INT64_MAX);
	assert_true(int_at(root, "bin") == INT64_MAX);
	toml_free(root);
}

static void test_floats_fractions_exponents_and_specials(void **state)
{
	struct toml_value *root = parse_ok(
		"a = +1.0\nb = 3.1415\nc = -0.01\nd = 5e+22\ne = 1e06\nf = -2E-2\n"
		"g = 6.626e-34\nh = 224_617.445_991\ni = 1e1_0\nj = -0.0\nk = +0.0\n"
		"l = inf\nm = +inf\nn = -inf\no = nan\np = +nan\nq = -nan\nr = 0e0\n");

	assert_true(float_at(root, "a") == 1.0);
	assert_true(float_at(root, "b") == 3.1415);
	assert_true(float_at(root, "c") == -0.01);
	assert_true(float_at(root, "d") == 5e22);
	assert_true(float_at(root, "e") == 1e6);
	assert_true(float_at(root, "f") == -2e-2);
	assert_true(float_at(root, "g") == 6.626e-34);
	assert_true(float_at(root, "h") == 224617.445991);
	assert_true(float_at(root, "i") == 1e10);
	assert_true(float_at(root, "j") == 0.0 && signbit(float_at(root, "j")));
	assert_true(float_at(root, "k") == 0.0 && !signbit(float_at(root, "k")));
	assert_true(isinf(float_at(root, "l")) && float_at(root, "l") > 0);
	assert_true(isinf(float_at(root, "m")) && float_at(root, "m") > 0);
	assert_true(isinf(float_at(root, "n")) && float_at(root, "n") < 0);
	assert_true(isnan(float_at(root, "o")));
	assert_true(isnan(float_at(root, "p")));
	assert_true(isnan(float_at(root, "q")));
	assert_true(float_at(root, "r") == 0.0);
	toml_free(root);
}

static void test_booleans(void **state)
{
	struct toml_value *root = parse_ok("t = true\nf = false\n");

	assert_true(get_type(root, "t", TOML_BOOL)->u.boolean);
	assert_false(get_type(root, "f", TOML_BOOL)->u.boolean);
	toml_free(root);
}

static void test_offset_datetimes_with_offsets_and_fractions(void **state)
{
	struct toml_value *root = parse_ok(
		"a = 1979-05-27T07:32:00Z\nb = 1979-05-27T00:32:00-07:00\n"
		"c = 1979-05-27T00:32:00.999999+05:30\nd = 1979-05-27 07:32:00z\n"
		"e = 1979-05-27t07:32:00.1234567891Z\nf = 2016-12-31T23:59:60Z\n");

	check_dt(root, "a", TOML_DATETIME, &(struct toml_datetime){ 1979, 5, 27, 7, 32, 0, 0, 0 });
	check_dt(root, "b", TOML_DATETIME,
		 &(struct toml_datetime){ 1979, 5, 27, 0, 32, 0, 0, -7 * 60 });
	check_dt(root, "c", TOML_DATETIME,
		 &(struct toml_datetime){ 1979, 5, 27, 0, 32, 0, 999999000, 330 });
	check_dt(root, "d", TOML_DATETIME, &(struct toml_datetime){ 1979, 5, 27, 7, 32, 0, 0, 0 });
	/* digits past nanoseconds are truncated, not rounded */
	check_dt(root, "e", TOML_DATETIME,
		 &(struct toml_datetime){ 1979, 5, 27, 7, 32, 0, 123456789, 0 });
	/* RFC 3339 allows a leap second */
	check_dt(root, "f", TOML_DATETIME, &(struct toml_datetime){ 2016, 12, 31, 23, 59, 60, 0, 0 });
	toml_free(root);
}

static void test_local_datetime_date_and_time(void **state)
{
	struct toml_value *root = parse_ok(
		"ldt = 1979-05-27T07:32:00\nldt2 = 1979-05-27 00:32:00.5\n"
		"ld = 1979-05-27\nlt = 07:32:00\nlt2 = 00:32:00.999999\n"
		"leap = 2000-02-29\nleap2 = 2024-02-29\n");

	check_dt(root, "ldt", TOML_DATETIME_LOCAL,
		 &(struct toml_datetime){ 1979, 5, 27, 7, 32, 0, 0, 0 });
	check_dt(root, "ldt2", TOML_DATETIME_LOCAL,
		 &(struct toml_datetime){ 1979, 5, 27, 0, 32, 0, 500000000, 0 });
	check_dt(root, "ld", TOML_DATE_LOCAL, &(struct toml_datetime){ 1979, 5, 27, 0, 0, 0, 0, 0 });
	check_dt(root, "lt", TOML_TIME_LOCAL, &(struct toml_datetime){ 0, 0, 0, 7, 32, 0, 0, 0 });
	check_dt(root, "lt2", TOML_TIME_LOCAL,
		 &(struct toml_datetime){ 0, 0, 0, 0, 32, 0, 999999000, 0 });
	check_dt(root, "leap", TOML_DATE_LOCAL, &(struct toml_datetime){ 2000, 2, 29, 0, 0, 0, 0, 0 });
	check_dt(root, "leap2", TOML_DATE_LOCAL,
		 &(struct toml_datetime){ 2024, 2, 29, 0, 0, 0, 0, 0 });
	toml_free(root);
}

static void test_date_followed_by_space_and_comment_stays_a_date(void **state)
{
	struct toml_value *root = parse_ok("d = 1979-05-27 # birthday\na = [1979-05-27 , 1]\n");

	get_type(root, "d", TOML_DATE_LOCAL);
	assert_int_equal(get(root, "a")->u.arr.n, 2);
	assert_int_equal(get(root, "a")->u.arr.items[0]->type, TOML_DATE_LOCAL);
	toml_free(root);
}

/* ---- arrays and tables ---------------------------------------------------------- */

static void test_arrays_nested_mixed_multiline_with_comments(void **state)
{
	struct toml_value *root = parse_ok(
		"a = [ [ 1, 2 ], [\"a\", 'b'], [ ] ]\n"
		"b = [ # comment\n  1, # one\n\n  \"two\", 3.0, { x = 1 }, [true],\n  # end\n]\n"
		"c = [1,]\nd = []\n");
	const struct toml_value *a = get_type(root, "a", TOML_ARRAY);
	const struct toml_value *b = get_type(root, "b", TOML_ARRAY);

	assert_int_equal(a->u.arr.n, 3);
	assert_int_equal(a->u.arr.items[0]->u.arr.n, 2);
	assert_int_equal(a->u.arr.items[0]->u.arr.items[1]->u.integer, 2);
	assert_string_equal(a->u.arr.items[1]->u.arr.items[1]->u.str.ptr, "b");
	assert_int_equal(a->u.arr.items[2]->u.arr.n, 0);
	assert_int_equal(b->u.arr.n, 5);
	assert_int_equal(b->u.arr.items[0]->type, TOML_INTEGER);
	assert_int_equal(b->u.arr.items[1]->type, TOML_STRING);
	assert_int_equal(b->u.arr.items[2]->type, TOML_FLOAT);
	assert_int_equal(int_at(b->u.arr.items[3], "x"), 1);
	assert_true(b->u.arr.items[4]->u.arr.items[0]->u.boolean);
	assert_int_equal(get(root, "c")->u.arr.n, 1);
	assert_int_equal(get(root, "d")->u.arr.n, 0);
	toml_free(root);
}

static void test_inline_tables_nested_and_dotted(void **state)
{
	struct toml_value *root = parse_ok(
		"name = { first = \"Tom\", last = \"Preston-Werner\" }\n"
		"point = {x=1,y=2}\nempty = {}\n"
		"animal = { type.name = \"pug\", type.size = 'small' }\n"
		"nest = { a = { b = { c = [1, {d = 2}] } } }\n"
		"multi = { list = [\n 1,\n 2\n] }\n");

	CHECK_STR(root, "name.first", "Tom");
	CHECK_STR(root, "name.last", "Preston-Werner");
	assert_int_equal(int_at(root, "point.y"), 2);
	assert_int_equal(get_type(root, "empty", TOML_TABLE)->u.tab.n, 0);
	CHECK_STR(root, "animal.type.name", "pug");
	CHECK_STR(root, "animal.type.size", "small");
	assert_int_equal(int_at(get(root, "nest.a.b.c")->u.arr.items[1], "d"), 2);
	assert_int_equal(get(root, "multi.list")->u.arr.n, 2);
	toml_free(root);
}

static void test_dotted_keys_create_tables_and_headers_may_add_subtables(void **state)
{
	struct toml_value *root = parse_ok(
		"site.\"google.com\" = true\n"
		"a . b . c = 1\n"
		"a.b.d = 2\n"
		"[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n"
		"[fruit.apple.texture]\nsmooth = true\n");
	const struct toml_value *site = get_type(root, "site", TOML_TABLE);

	assert_int_equal(site->u.tab.n, 1);
	assert_true(toml_get(site, "google.com")->u.boolean);
	assert_int_equal(int_at(root, "a.b.c"), 1);
	assert_int_equal(int_at(root, "a.b.d"), 2);
	CHECK_STR(root, "fruit.apple.color", "red");
	assert_true(get(root, "fruit.apple.taste.sweet")->u.boolean);
	assert_true(get(root, "fruit.apple.texture.smooth")->u.boolean);
	toml_free(root);
}

static void test_quoted_and_bare_keys(void **state)
{
	struct toml_value *root = parse_ok(
		"bare_key-1 = 1\n1234 = 2\n\"127.0.0.1\" = 3\n\"ʎǝʞ\" = 4\n'quoted \"v\"' = 5\n"
		"\"\" = 6\n\"esc\\u00e9\" = 7\n3.14159 = 8\n");

	assert_int_equal(int_at(root, "bare_key-1"), 1);
	assert_int_equal(int_at(root, "1234"), 2);
	assert_int_equal(toml_get(root, "127.0.0.1")->u.integer, 3);
	assert_int_equal(toml_get(root, "ʎǝʞ")->u.integer, 4);
	assert_int_equal(toml_get(root, "quoted \"v\"")->u.integer, 5);
	assert_int_equal(toml_get(root, "")->u.integer, 6);
	assert_int_equal(toml_get(root, "esc\xC3\xA9")->u.integer, 7);
	/* bare keys split at dots: 3.14159 is table "3", key "14159" */
	assert_int_equal(int_at(root, "3.14159"), 8);
	toml_free(root);
}

static void test_arrays_of_tables_with_subtables(void **state)
{
	struct toml_value *root = parse_ok(
		"[[fruits]]\nname = \"apple\"\n"
		"[fruits.physical]\ncolor = \"red\"\n"
		"[[fruits.varieties]]\nname = \"red delicious\"\n"
		"[[fruits.varieties]]\nname = \"granny smith\"\n"
		"[[fruits]]\nname = \"banana\"\n"
		"[[fruits.varieties]]\nname = \"plantain\"\n"
		"[[empty]]\n[[empty]]\n");
	const struct toml_value *f = get_type(root, "fruits", TOML_ARRAY);

	assert_int_equal(f->u.arr.n, 2);
	CHECK_STR(f->u.arr.items[0], "name", "apple");
	CHECK_STR(f->u.arr.items[0], "physical.color", "red");
	assert_int_equal(get(f->u.arr.items[0], "varieties")->u.arr.n, 2);
	CHECK_STR(get(f->u.arr.items[0], "varieties")->u.arr.items[1], "name", "granny smith");
	CHECK_STR(f->u.arr.items[1], "name", "banana");
	CHECK_STR(get(f->u.arr.items[1], "varieties")->u.arr.items[0], "name", "plantain");
	assert_int_equal(get(root, "empty")->u.arr.n, 2);
	assert_int_equal(get(root, "empty")->u.arr.items[1]->u.tab.n, 0);
	toml_free(root);
}

static void test_super_table_may_follow_sub_table(void **state)
{
	struct toml_value *root = parse_ok(
		"[x.y.z.w]\na = 1\n[x]\nb = 2\n[x.y]\nc = 3\n"
		"[[p.q]]\nd = 4\n[p]\ne = 5\n");

	assert_int_equal(int_at(root, "x.y.z.w.a"), 1);
	assert_int_equal(int_at(root, "x.b"), 2);
	assert_int_equal(int_at(root, "x.y.c"), 3);
	assert_int_equal(int_at(get(root, "p.q")->u.arr.items[0], "d"), 4);
	assert_int_equal(int_at(root, "p.e"), 5);
	toml_free(root);
}

static void test_keys_stay_in_document_order(void **state)
{
	struct toml_value *root = parse_ok("z = 1\na = 2\n[m]\n[b]\n");

	assert_int_equal(root->u.tab.n, 4);
	assert_string_equal(root->u.tab.kvs[0].key, "z");
	assert_string_equal(root->u.tab.kvs[1].key, "a");
	assert_string_equal(root->u.tab.kvs[2].key, "m");
	assert_string_equal(root->u.tab.kvs[3].key, "b");
	toml_free(root);
}

static void test_positions_of_keys_values_and_headers(void **state)
{
	struct toml_value *root = parse_ok(
		"# head\n  key = \"é\"  \nnext = [ 1,\n  2 ]\n\n[t.u]\nv = 1\n[t]\n");
	const struct toml_kv *kv = toml_get_kv(root, "key");

	assert_int_equal(kv->key_pos.line, 2);
	assert_int_equal(kv->key_pos.col, 3);
	assert_int_equal(kv->val->pos.line, 2);
	assert_int_equal(kv->val->pos.col, 9);
	assert_int_equal(get(root, "next")->u.arr.items[1]->pos.line, 4);
	assert_int_equal(get(root, "next")->u.arr.items[1]->pos.col, 3);
	assert_int_equal(get(root, "t.u")->pos.line, 6);
	assert_int_equal(get(root, "t.u")->pos.col, 1);
	/* [t] made explicit later: its position is its own header */
	assert_int_equal(get(root, "t")->pos.line, 8);
	assert_int_equal(toml_get_kv(root, "t")->key_pos.line, 8);
	assert_int_equal(toml_get_kv(root, "t")->key_pos.col, 2);
	toml_free(root);
}

static void test_empty_and_comment_only_documents(void **state)
{
	struct toml_value *root = parse_ok("");

	assert_int_equal(root->u.tab.n, 0);
	toml_free(root);
	root = parse_ok("# only a comment\n\n   \t\n# another");
	assert_int_equal(root->u.tab.n, 0);
	toml_free(root);
	root = parse_ok("a = 1 # no newline at end");
	assert_int_equal(int_at(root, "a"), 1);
	toml_free(root);
}

static void test_lookup_helpers_reject_non_tables_and_misses(void **state)
{
	struct toml_value *root = parse_ok("a = 1\n");

	assert_null(toml_get(root, "missing"));
	assert_null(toml_get(get(root, "a"), "x"));
	assert_null(toml_get(NULL, "a"));
	assert_null(toml_get_kv(root, NULL));
	assert_null(toml_free(root));
	assert_null(toml_free(NULL));
}

static void test_type_names(void **state)
{
	assert_string_equal(toml_type_name(TOML_TABLE), "table");
	assert_string_equal(toml_type_name(TOML_ARRAY), "array");
	assert_string_equal(toml_type_name(TOML_STRING), "string");
	assert_string_equal(toml_type_name(TOML_INTEGER), "integer");
	assert_string_equal(toml_type_name(TOML_FLOAT), "float");
	assert_string_equal(toml_type_name(TOML_BOOL), "boolean");
	assert_string_equal(toml_type_name(TOML_DATETIME), "offset date-time");
	assert_string_equal(toml_type_name(TOML_DATETIME_LOCAL), "local date-time");
	assert_string_equal(toml_type_name(TOML_DATE_LOCAL), "local date");
	assert_string_equal(toml_type_name(TOML_TIME_LOCAL), "local time");
}

/* ---- errors: structure -------------------------------------------------------- */

static void test_error_duplicate_key(void **state)
{
	check_error("a = 1\nb = 2\na = 3\n", 3, 1, "duplicate key 'a' (first defined at line 1)");
	check_error("x = { y = 1, y = 2 }", 1, 14, "duplicate key 'y' (first defined at line 1)");
	check_error("a.b = 1\na = 2\n", 2, 1, "duplicate key 'a' (first defined at line 1)");
	check_error("\"a\" = 1\n'a' = 2\n", 2, 1, "duplicate key 'a'");
	check_error("[t]\nk = 1\n\n\nk = 2\n", 5, 1, "duplicate key 'k' (first defined at line 2)");
}

static void test_error_table_redefinition(void **state)
{
	check_error("[a]\nx = 1\n[a]\n", 3, 2, "table 'a' already defined at line 1");
	check_error("[a.b]\n[a]\n[a.b]\n", 3, 4, "table 'a.b' already defined at line 1");
	check_error("[a]\nb = 1\n[a.b]\n", 3, 4, "key 'a.b' is an integer (defined at line 2), not a table");
	check_error("[fruit]\napple.color = 1\n[fruit.apple]\n", 3, 8,
		    "table 'fruit.apple' already defined by dotted keys at line 2");
	check_error("[a.b.c]\n[a]\nb.c.d = 1\n", 3, 3,
		    "cannot add to table 'b.c' with dotted keys: it has a [header] at line 1");
	check_error("[[a]]\n[a]\n", 2, 2, "'a' is an array of tables (defined at line 1), not a table");
	check_error("[a]\n[[a]]\n", 2, 3, "'a' is a table (defined at line 1), not an array of tables");
}

static void test_error_inline_table_cannot_be_extended(void **state)
{
	check_error("a = {b = 1}\n[a.c]\n", 2, 2, "cannot extend inline table 'a' (defined at line 1)");
	check_error("a = {b = 1}\na.c = 2\n", 2, 1, "cannot extend inline table 'a'");
	check_error("a = {b = 1}\n[a]\n", 2, 2, "cannot redefine inline table 'a'");
	check_error("a = {b = {c = 1}, b.d = 2}\n", 1, 19, "cannot extend inline table 'b'");
}

static void test_error_static_array_cannot_be_appended(void **state)
{
	check_error("a = []\n[[a]]\n", 2, 3, "cannot append to static array 'a' (defined at line 1)");
	check_error("a = [{}]\n[a.b]\n", 2, 2, "cannot extend static array 'a' (defined at line 1)");
	check_error("[[a.b]]\n[a]\nb.y = 2\n", 3, 1, "key 'b' is an array of tables");
}

static void test_error_missing_value_and_trailing_garbage(void **state)
{
	check_error("a =\n", 1, 4, "expected a value, found newline");
	check_error("a = # c\n", 1, 5, "expected a value, found '#'");
	check_error("a = ", 1, 5, "expected a value, found end of file");
	check_error("a = 1 x\n", 1, 7, "expected newline after value, found 'x'");
	check_error("a = 1 b = 2\n", 1, 7, "expected newline after value, found 'b'");
	check_error("[a] x\n", 1, 5, "expected newline after table header, found 'x'");
	check_error("a = \"x\"y\n", 1, 8, "expected newline after value, found 'y'");
	check_error("a = hello\n", 1, 5, "invalid value 'hello'");
	check_error("a\n= 1\n", 1, 2, "expected '=' after key, found newline");
	check_error("= 1\n", 1, 1, "expected a key, found '='");
	check_error("[a\n", 1, 3, "expected ']' to close the table header, found newline");
	check_error("[[a]\n", 1, 4, "expected ']]' to close the table header");
	check_error("[]\n", 1, 2, "expected a key, found ']'");
}

static void test_error_array_and_inline_table_syntax(void **state)
{
	check_error("a = [1 2]\n", 1, 8, "expected ',' or ']' in array, found '2'");
	check_error("a = [,]\n", 1, 6, "expected a value, found ','");
	check_error("a = [1,,2]\n", 1, 8, "expected a value, found ','");
	check_error("a = [1\n", 2, 1, "expected ',' or ']' in array, found end of file");
	check_error("a = {b = 1,}\n", 1, 12, "trailing comma not allowed in inline table");
	check_error("a = {b = 1\n}\n", 1, 11, "newline not allowed in inline table");
	check_error("a = {\nb = 1}\n", 1, 6, "newline not allowed in inline table");
	check_error("a = {b = 1 c = 2}\n", 1, 12, "expected ',' or '}' in inline table, found 'c'");
}

/* ---- errors: strings and encoding ---------------------------------------------- */

static void test_error_bad_escapes(void **state)
{
	check_error("s = \"ab\\qc\"\n", 1, 8, "invalid escape '\\q' in string");
	check_error("s = \"\\x41\"\n", 1, 6, "invalid escape '\\x' in string");
	check_error("s = \"\\e\"\n", 1, 6, "invalid escape '\\e' in string");
	check_error("s = \"\"\"\n\\ x\"\"\"\n", 2, 1, "invalid escape '\\ ' in string");
	check_error("s = \"\\u12\"\n", 1, 6, "invalid escape '\\u': expected 4 hex digits");
	check_error("s = \"\\uD800\"\n", 1, 6, "U+D800 is not a unicode scalar value");
	check_error("s = \"\\U00110000\"\n", 1, 6, "U+110000 is not a unicode scalar value");
	check_error("s = \"é\\é\"\n", 1, 7, "invalid escape in string: backslash followed by U+00E9");
}

static void test_error_unterminated_and_multiline_strings(void **state)
{
	check_error("s = \"abc\n", 1, 9, "newline in single-line string");
	check_error("s = 'abc\n", 1, 9, "newline in single-line string");
	check_error("s = \"abc", 1, 5, "unterminated string");
	check_error("s = \"\"\"abc\n\n", 1, 5, "unterminated multi-line string");
	check_error("s = '''abc\n", 1, 5, "unterminated multi-line string");
	check_error("s = \"\"\"a\"\"\"\"\"\"\n", 1, 9, "too many quotes");
	check_error("\"\"\"k\"\"\" = 1\n", 1, 1, "multi-line strings cannot be used as keys");
}

static void test_error_invalid_utf8_anywhere(void **state)
{
	/* columns count characters: each é is one column */
	check_error("s = \"éé\xff\"\n", 1, 8, "invalid UTF-8 (invalid byte)");
	check_error("# \xC0\x80\n", 1, 3, "invalid UTF-8 (overlong encoding)");
	check_error("a = 1\ns = '\xE0\x80\xAF'\n", 2, 6, "invalid UTF-8 (overlong encoding)");
	check_error("s = \"\xED\xA0\x80\"\n", 1, 6, "invalid UTF-8 (encoded surrogate)");
	check_error("s = \"\xF4\x90\x80\x80\"\n", 1, 6, "invalid UTF-8 (code point above U+10FFFF)");
	check_error("s = \"\xE4\xB8\"\n", 1, 6, "invalid UTF-8 (truncated sequence)");
	check_error("k\x80 = 1\n", 1, 2, "invalid UTF-8 (unexpected continuation byte)");
	check_error("s = 1 \xE4", 1, 7, "invalid UTF-8 (truncated sequence)");
}

static void test_error_control_characters_nul_and_bare_cr(void **state)
{
	static const char nul_doc[] = "a = 1\0\n";
	static const char nul_str[] = "s = \"a\0b\"\n";

	check_error("# abc\x01\n", 1, 6, "control character U+0001 is not allowed");
	check_error("s = \"a\x1f\"\n", 1, 7, "control character U+001F is not allowed");
	check_error("s = '''\x7f'''\n", 1, 8, "control character U+007F is not allowed");
	check_error("a = 1 # \x0b\n", 1, 9, "control character U+000B");
	check_error_n(nul_doc, sizeof(nul_doc) - 1, 1, 6, "NUL byte");
	check_error_n(nul_str, sizeof(nul_str) - 1, 1, 7, "NUL byte");
	check_error("a = 1\rb = 2\n", 1, 6, "carriage return not followed by a line feed");
	check_error("a = 1\n# x\r", 2, 4, "carriage return not followed by a line feed");
}

/* ---- errors: numbers and dates ---------------------------------------------------- */

static void test_error_integer_overflow(void **state)
{
	check_error("i = 9223372036854775808\n", 1, 5, "integer 9223372036854775808 overflows 64 bits");
	check_error("i = -9223372036854775809\n", 1, 5, "integer -9223372036854775809 overflows 64 bits");
	check_error("i = 0x8000000000000000\n", 1, 5, "integer 0x8000000000000000 overflows 64 bits");
	check_error("i = 0b1111111111111111111111111111111111111111111111111111111111111111\n", 1, 5,
		    "overflows 64 bits");
	check_error("i = 99999999999999999999999999\n", 1, 5, "overflows 64 bits");
}

static void test_error_leading_zeros(void **state)
{
	check_error("a = 01\n", 1, 5, "invalid number '01': leading zeros are not allowed");
	check_error("a = -01\n", 1, 5, "leading zeros are not allowed");
	check_error("a = 00.5\n", 1, 5, "leading zeros are not allowed");
	check_error("a = 0_1\n", 1, 5, "leading zeros are not allowed");
}

static void test_error_underscores_not_between_digits(void **state)
{
	check_error("a = 1_\n", 1, 5, "underscores must be between digits");
	check_error("a = 1__2\n", 1, 5, "underscores must be between digits");
	check_error("a = 0x_1\n", 1, 5, "underscores must be between digits");
	check_error("a = 1_.5\n", 1, 5, "underscores must be between digits");
	check_error("a = 1._5\n", 1, 5, "underscores must be between digits");
	check_error("a = 1e_5\n", 1, 5, "underscores must be between digits");
	check_error("a = _1\n", 1, 5, "invalid value '_1'");
}

static void test_error_malformed_numbers(void **state)
{
	check_error("a = 1.\n", 1, 5, "invalid number '1.'");
	check_error("a = .5\n", 1, 5, "invalid number '.5'");
	check_error("a = 1.e5\n", 1, 5, "invalid number '1.e5'");
	check_error("a = 1e\n", 1, 5, "invalid number '1e'");
	check_error("a = +0x1\n", 1, 5, "only decimal integers take a sign");
	check_error("a = 0X1\n", 1, 5, "invalid number '0X1'");
	check_error("a = 0b102\n", 1, 5, "invalid number '0b102'");
	check_error("a = infinity\n", 1, 5, "invalid number 'infinity'");
	check_error("a = NaN\n", 1, 5, "invalid value 'NaN'");
	check_error("a = ++1\n", 1, 5, "invalid number '++1'");
	check_error("a = tru\n", 1, 5, "invalid value 'tru'");
}

static void test_error_invalid_dates_and_times(void **state)
{
	check_error("d = 2021-02-29\n", 1, 5, "invalid date-time '2021-02-29': day out of range");
	check_error("d = 1900-02-29\n", 1, 5, "day out of range");
	check_error("d = 2021-04-31\n", 1, 5, "day out of range");
	check_error("d = 2021-13-01\n", 1, 5, "month out of range");
	check_error("d = 2021-00-01\n", 1, 5, "month out of range");
	check_error("t = 24:00:00\n", 1, 5, "time out of range");
	check_error("t = 12:60:00\n", 1, 5, "time out of range");
	check_error("t = 12:00:61\n", 1, 5, "time out of range");
	check_error("t = 12:00\n", 1, 5, "expected HH:MM:SS");
	check_error("d = 1979-05-27T07:32:00+24:00\n", 1, 5, "offset out of range");
	check_error("d = 1979-05-27T07:32:00+0700\n", 1, 5, "expected Z or an offset");
	check_error("d = 1979-05-27T07:32:00.Z\n", 1, 5, "expected digits after '.'");
	check_error("d = 1979-5-27\n", 1, 5, "expected YYYY-MM-DD");
	check_error("t = 07:32:00Z\n", 1, 5, "unexpected characters after the time");
	check_error("d = 1979-05-27X07:32:00\n", 1, 5, "expected 'T' or a space");
}

/* ---- limits and scale -------------------------------------------------------------- */

static char *repeat_doc(const char *head, const char *open, size_t n, const char *close,
			const char *tail)
{
	size_t lo = strlen(open), lc = strlen(close), lh = strlen(head);
	char *doc = malloc(lh + n * (lo + lc) + strlen(tail) + 1), *p = doc;
	size_t i;

	assert_non_null(doc);
	p = (char *)memcpy(p, head, lh) + lh;
	for (i = 0; i < n; i++)
		p = (char *)memcpy(p, open, lo) + lo;
	for (i = 0; i < n; i++)
		p = (char *)memcpy(p, close, lc) + lc;
	strcpy(p, tail);
	return doc;
}

static void test_depth_128_accepted_and_129_rejected(void **state)
{
	struct toml_value *root;
	const struct toml_value *v;
	char *doc;
	int i;

	doc = repeat_doc("a = ", "[", 128, "]", "\n");
	root = parse_ok(doc);
	for (v = get(root, "a"), i = 1; v->u.arr.n; v = v->u.arr.items[0])
		i++;
	assert_int_equal(i, 128);
	toml_free(root);
	free(doc);
	doc = repeat_doc("a = ", "[", 129, "]", "\n");
	check_error(doc, 1, 4 + 129, "nesting too deep (limit 128)");
	free(doc);
	doc = repeat_doc("a = ", "{b=", 129, "}", "\n");
	check_error(doc, 1, 5 + 128 * 3, "nesting too deep (limit 128)");
	free(doc);
	/* the limit counts tables from headers and dotted keys too */
	doc = repeat_doc("[x", ".x", 128, "", "]\n");
	check_error(doc, 1, 2 + 128 * 2, "nesting too deep (limit 128)");
	free(doc);
}

static void test_deep_nesting_in_10mb_is_rejected_quickly(void **state)
{
	size_t n = 10 << 20;
	char *doc = repeat_doc("a = ", "[", n / 2, "]", "\n");
	double t0 = now();

	check_error(doc, 1, 133, "nesting too deep");
	free(doc);
	doc = repeat_doc("", "a.", n / 2, "", "= 1\n");
	check_error(doc, 1, 257, "nesting too deep");
	free(doc);
	assert_true(now() - t0 < 20.0);
}

static void test_10mb_table_with_500k_keys_parses_in_linear_time(void **state)
{
	size_t n = 500000, cap = n * 24, len = 0, last = 0, i;
	char *doc = malloc(cap), key[32];
	struct toml_value *root;
	double t0;

	assert_non_null(doc);
	for (i = 0; i < n; i++) {
		last = len;
		len += (size_t)snprintf(doc + len, cap - len, "key%07zu = %zu\n", i, i * 3);
	}
	t0 = now();
	root = parse_ok_n(doc, len);
	/* hashed: a linear lookup per key would take minutes here */
	assert_true(now() - t0 < 30.0);
	assert_int_equal(root->u.tab.n, n);
	for (i = 0; i < n; i += 997) {
		snprintf(key, sizeof(key), "key%07zu", i);
		assert_int_equal(int_at(root, key), (int64_t)(i * 3));
	}
	assert_null(toml_get(root, "key9999999"));
	toml_free(root);
	memcpy(doc + last, "key0000000", 10);	/* duplicate at the very end */
	check_error_n(doc, len, (uint32_t)n, 1, "duplicate key 'key0000000' (first defined at line 1)");
	free(doc);
}

static void test_10mb_string_parses_quickly(void **state)
{
	size_t n = 10 << 20, i;
	char *doc = malloc(n + 16);
	struct toml_value *root;
	const struct toml_value *s;
	double t0;

	assert_non_null(doc);
	memcpy(doc, "s = \"", 5);
	for (i = 0; i < n; i++)
		doc[5 + i] = (char)('a' + i % 26);
	memcpy(doc + 5 + n, "\"\n", 3);
	t0 = now();
	root = parse_ok(doc);
	assert_true(now() - t0 < 20.0);
	s = get_type(root, "s", TOML_STRING);
	assert_int_equal(s->u.str.len, n);
	assert_memory_equal(s->u.str.ptr, doc + 5, n);
	toml_free(root);
	free(doc);
}

static void test_many_arrays_of_tables_and_headers(void **state)
{
	size_t n = 100000, cap = n * 32, len = 0, i;
	char *doc = malloc(cap);
	struct toml_value *root;

	assert_non_null(doc);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(doc + len, cap - len, "[[a]]\nb.c = %zu\n[t%zu.x]\n", i, i);
	root = parse_ok_n(doc, len);
	assert_int_equal(get(root, "a")->u.arr.n, n);
	assert_int_equal(int_at(get(root, "a")->u.arr.items[n - 1], "b.c"), (int64_t)(n - 1));
	assert_int_equal(root->u.tab.n, n + 1);
	toml_free(root);
	free(doc);
}

static void test_null_error_pointer_is_allowed(void **state)
{
	struct toml_value *root = NULL;

	assert_int_equal(toml_parse("a = ", 4, &root, NULL), -EINVAL);
	assert_null(root);
	assert_int_equal(toml_parse(NULL, 0, &root, NULL), 0);
	assert_int_equal(root->u.tab.n, 0);
	toml_free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_string_escapes_decode_to_exact_bytes),
		cmocka_unit_test(test_escaped_nul_is_kept_with_length),
		cmocka_unit_test(test_multiline_basic_trims_first_newline_and_backslash_lines),
		cmocka_unit_test(test_multiline_quotes_beside_delimiters_are_content),
		cmocka_unit_test(test_literal_strings_take_no_escapes),
		cmocka_unit_test(test_crlf_line_endings_are_newlines_and_read_as_lf),
		cmocka_unit_test(test_integers_in_every_base_with_underscores),
		cmocka_unit_test(test_integer_limits_are_exact),
		cmocka_unit_test(test_floats_fractions_exponents_and_specials),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_offset_datetimes_with_offsets_and_fractions),
		cmocka_unit_test(test_local_datetime_date_and_time),
		cmocka_unit_test(test_date_followed_by_space_and_comment_stays_a_date),
		cmocka_unit_test(test_arrays_nested_mixed_multiline_with_comments),
		cmocka_unit_test(test_inline_tables_nested_and_dotted),
		cmocka_unit_test(test_dotted_keys_create_tables_and_headers_may_add_subtables),
		cmocka_unit_test(test_quoted_and_bare_keys),
		cmocka_unit_test(test_arrays_of_tables_with_subtables),
		cmocka_unit_test(test_super_table_may_follow_sub_table),
		cmocka_unit_test(test_keys_stay_in_document_order),
		cmocka_unit_test(test_positions_of_keys_values_and_headers),
		cmocka_unit_test(test_empty_and_comment_only_documents),
		cmocka_unit_test(test_lookup_helpers_reject_non_tables_and_misses),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_error_duplicate_key),
		cmocka_unit_test(test_error_table_redefinition),
		cmocka_unit_test(test_error_inline_table_cannot_be_extended),
		cmocka_unit_test(test_error_static_array_cannot_be_appended),
		cmocka_unit_test(test_error_missing_value_and_trailing_garbage),
		cmocka_unit_test(test_error_array_and_inline_table_syntax),
		cmocka_unit_test(test_error_bad_escapes),
		cmocka_unit_test(test_error_unterminated_and_multiline_strings),
		cmocka_unit_test(test_error_invalid_utf8_anywhere),
		cmocka_unit_test(test_error_control_characters_nul_and_bare_cr),
		cmocka_unit_test(test_error_integer_overflow),
		cmocka_unit_test(test_error_leading_zeros),
		cmocka_unit_test(test_error_underscores_not_between_digits),
		cmocka_unit_test(test_error_malformed_numbers),
		cmocka_unit_test(test_error_invalid_dates_and_times),
		cmocka_unit_test(test_depth_128_accepted_and_129_rejected),
		cmocka_unit_test(test_deep_nesting_in_10mb_is_rejected_quickly),
		cmocka_unit_test(test_10mb_table_with_500k_keys_parses_in_linear_time),
		cmocka_unit_test(test_10mb_string_parses_quickly),
		cmocka_unit_test(test_many_arrays_of_tables_and_headers),
		cmocka_unit_test(test_null_error_pointer_is_allowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
