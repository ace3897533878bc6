/* SPDX-License-Identifier: MIT */
/*
 * The JSON side of the config.json reader: the document parsed strictly
 * (malformed input is reported at its line:column), the field path that
 * every error sentence names, and typed getters that refuse a wrong JSON
 * type, a value out of range, an embedded NUL and any member an object
 * may not hold.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/spec_int.h"

static size_t sc_append(struct spec_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t sc_append(struct spec_ctx *c, const char *fmt, ...)
{
	size_t mark = c->plen;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->path + c->plen, sizeof(c->path) - c->plen, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->plen += (size_t)n < sizeof(c->path) - c->plen ? (size_t)n : sizeof(c->path) - c->plen - 1;
	return mark;
}

size_t sc_push(struct spec_ctx *c, const char *name)
{
	return sc_append(c, c->plen ? ".%s" : "%s", name);
}

size_t sc_push_index(struct spec_ctx *c, size_t i)
{
	return sc_append(c, "[%zu]", i);
}

/* Keys of free-form maps are quoted, printable bytes only. */
size_t sc_push_key(struct spec_ctx *c, const char *key)
{
	size_t mark = sc_append(c, "[\"");

	for (const unsigned char *k = (const unsigned char *)key; *k && k - (const unsigned char *)key < 64; k++) {
		if (*k < 0x20 || *k == 0x7f || *k == '"' || *k == '\\')
			sc_append(c, "\\x%02x", *k);
		else
			sc_append(c, "%c", *k);
	}
	if (strlen(key) > 64)
		sc_append(c, "...");
	sc_append(c, "\"]");
	return mark;
}

void sc_pop(struct spec_ctx *c, size_t mark)
{
	c->plen = mark;
	c->path[mark] = 0;
}

int sc_fail(struct spec_ctx *c, const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;
	int k;

	if (!c->len)
		return -EINVAL;
	k = snprintf(c->why, c->len, "%s: %s: ", c->file, c->plen ? c->path : "(top level)");
	if (k > 0)
		n = (size_t)k < c->len ? (size_t)k : c->len - 1;
	va_start(ap, fmt);
	vsnprintf(c->why + n, c->len - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int sc_unsupported(struct spec_ctx *c, const char *what)
{
	return sc_fail(c, "%s not supported by sbx-oci (it refuses what it cannot honour)", what);
}

int sc_warn(struct spec_ctx *c, const char *fmt, ...)
{
	char msg[512], *line, **v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (asprintf(&line, "%s: %s", c->path, msg) < 0)
		return -ENOMEM;
	v = realloc(c->warnings, (c->n_warnings + 2) * sizeof(*v));
	if (!v) {
		free(line);
		return -ENOMEM;
	}
	v[c->n_warnings++] = line;
	v[c->n_warnings] = NULL;
	c->warnings = v;
	return 0;
}

bool sc_unset(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return true;
	case json_type_boolean:
		return !json_object_get_boolean(v);
	case json_type_int:
		return json_object_get_int64(v) == 0 && json_object_get_uint64(v) == 0;
	case json_type_double:
		return json_object_get_double(v) == 0;
	case json_type_string:
		return json_object_get_string_len(v) == 0;
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (!sc_unset(json_object_array_get_idx(v, i)))
				return false;
		return true;
	case json_type_object: {
		json_object_object_foreach(v, k, m) {
			(void)k;
			if (!sc_unset(m))
				return false;
		}
		return true;
	}
	}
	return false;
}

static const char *type_name(json_type t)
{
	switch (t) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a fractional number";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "?";
}

static int sc_type(struct spec_ctx *c, json_object *v, json_type t)
{
	if (json_object_get_type(v) != t)
		return sc_fail(c, "must be %s, not %s", type_name(t), type_name(json_object_get_type(v)));
	return 0;
}

static bool plain_name(const char *k)
{
	if (!*k || strlen(k) > 64)
		return false;
	for (; *k; k++)
		if (!(*k >= 'a' && *k <= 'z') && !(*k >= 'A' && *k <= 'Z') && !(*k >= '0' && *k <= '9') && *k != '_')
			return false;
	return true;
}

int sc_object(struct spec_ctx *c, json_object *o, const struct sc_field *fields)
{
	int r = sc_type(c, o, json_type_object);

	if (r < 0)
		return r;
	json_object_object_foreach(o, k, v) {
		const struct sc_field *f = fields;
		size_t mark;

		while (f->name && strcmp(f->name, k))
			f++;
		if (!f->name) {
			mark = plain_name(k) ? sc_push(c, k) : sc_push_key(c, k);
			r = sc_fail(c, "unknown field; sbx-oci refuses what it does not implement");
			sc_pop(c, mark);
			return r;
		}
		mark = sc_push(c, k);
		if (f->kind == SC_REFUSE && !sc_unset(v))
			r = sc_unsupported(c, "this setting is");
		sc_pop(c, mark);
		if (r < 0)
			return r;
	}
	return 0;
}

int sc_get(struct spec_ctx *c, json_object *o, const char *name, json_type t, bool required,
	   json_object **ret)
{
	json_object *v = NULL;
	size_t mark;
	int r = 0;

	*ret = NULL;
	mark = sc_push(c, name);
	if (!json_object_object_get_ex(o, name, &v) || json_object_is_type(v, json_type_null)) {
		if (required)
			r = sc_fail(c, "missing; the runtime-spec requires it");
	} else if ((r = sc_type(c, v, t)) == 0)
		*ret = v;
	sc_pop(c, mark);
	return r;
}

int sc_node_str(struct spec_ctx *c, json_object *v, char **ret)
{
	const char *s;
	int r = sc_type(c, v, json_type_string);

	if (r < 0)
		return r;
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return sc_fail(c, "contains a NUL byte");
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

/* json-c keeps integers as int64 or, above INT64_MAX, uint64; a number
 * written with a fraction or exponent is a double and refused. */
static int node_is_negative(json_object *v)
{
	return json_object_get_int64(v) < 0;
}

int sc_node_int(struct spec_ctx *c, json_object *v, int64_t min, int64_t max, int64_t *ret)
{
	int64_t x;
	int r = sc_type(c, v, json_type_int);

	if (r < 0)
		return r;
	x = json_object_get_int64(v);
	if (x == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX)
		return sc_fail(c, "%" PRIu64 " is out of range (%" PRId64 "..%" PRId64 ")",
			       json_object_get_uint64(v), min, max);
	if (x < min || x > max)
		return sc_fail(c, "%" PRId64 " is out of range (%" PRId64 "..%" PRId64 ")", x, min, max);
	*ret = x;
	return 0;
}

int sc_node_u64(struct spec_ctx *c, json_object *v, uint64_t *ret)
{
	int r = sc_type(c, v, json_type_int);

	if (r < 0)
		return r;
	if (node_is_negative(v))
		return sc_fail(c, "%" PRId64 " is negative", json_object_get_int64(v));
	*ret = json_object_get_uint64(v);
	return 0;
}

int sc_str(struct spec_ctx *c, json_object *o, const char *name, bool required, char **ret)
{
	json_object *v;
	size_t mark;
	int r = sc_get(c, o, name, json_type_string, required, &v);

	if (r < 0 || !v)
		return r;
	mark = sc_push(c, name);
	r = sc_node_str(c, v, ret);
	sc_pop(c, mark);
	return r;
}

int sc_bool(struct spec_ctx *c, json_object *o, const char *name, bool *ret, bool *has)
{
	json_object *v;
	int r = sc_get(c, o, name, json_type_boolean, false, &v);

	if (r < 0)
		return r;
	if (has)
		*has = v != NULL;
	if (v)
		*ret = json_object_get_boolean(v);
	return 0;
}

int sc_int(struct spec_ctx *c, json_object *o, const char *name, int64_t min, int64_t max,
	   int64_t *ret, bool *has)
{
	json_object *v;
	size_t mark;
	int r = sc_get(c, o, name, json_type_int, false, &v);

	if (has)
		*has = false;
	if (r < 0 || !v)
		return r;
	mark = sc_push(c, name);
	r = sc_node_int(c, v, min, max, ret);
	sc_pop(c, mark);
	if (r == 0 && has)
		*has = true;
	return r;
}

int sc_u64(struct spec_ctx *c, json_object *o, const char *name, uint64_t *ret, bool *has)
{
	json_object *v;
	size_t mark;
	int r = sc_get(c, o, name, json_type_int, false, &v);

	if (has)
		*has = false;
	if (r < 0 || !v)
		return r;
	mark = sc_push(c, name);
	r = sc_node_u64(c, v, ret);
	sc_pop(c, mark);
	if (r == 0 && has)
		*has = true;
	return r;
}

int sc_u32(struct spec_ctx *c, json_object *o, const char *name, bool required, uint32_t *ret,
	   bool *has)
{
	json_object *v;
	int64_t x;
	size_t mark;
	int r = sc_get(c, o, name, json_type_int, required, &v);

	if (has)
		*has = false;
	if (r < 0 || !v)
		return r;
	mark = sc_push(c, name);
	r = sc_node_int(c, v, 0, UINT32_MAX, &x);
	sc_pop(c, mark);
	if (r < 0)
		return r;
	*ret = (uint32_t)x;
	if (has)
		*has = true;
	return 0;
}

int sc_check_abs(struct spec_ctx *c, const char *p)
{
	if (p[0] != '/')
		return sc_fail(c, "\"%s\" is not an absolute path", p);
	return 0;
}

bool sc_has_dotdot(const char *p)
{
	for (const char *q = p; (q = strstr(q, "..")); q += 2)
		if ((q == p || q[-1] == '/') && (q[2] == 0 || q[2] == '/'))
			return true;
	return false;
}

int sc_check_container_path(struct spec_ctx *c, const char *p)
{
	int r = sc_check_abs(c, p);

	if (r == 0 && sc_has_dotdot(p))
		r = sc_fail(c, "\"%s\" has a \"..\" part (a path inside the container may not climb)", p);
	return r;
}

void sc_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

int sc_strv(struct spec_ctx *c, json_object *o, const char *name, bool abs_paths, char ***ret)
{
	json_object *a;
	size_t n, mark;
	char **v;
	int r = sc_get(c, o, name, json_type_array, false, &a);

	*ret = NULL;
	if (r < 0 || !a)
		return r;
	n = json_object_array_length(a);
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	mark = sc_push(c, name);
	for (size_t i = 0; i < n && r == 0; i++) {
		size_t m = sc_push_index(c, i);

		r = sc_node_str(c, json_object_array_get_idx(a, i), &v[i]);
		if (r == 0 && abs_paths)
			r = sc_check_container_path(c, v[i]);
		sc_pop(c, m);
	}
	sc_pop(c, mark);
	if (r < 0) {
		sc_strv_free(v);
		return r;
	}
	*ret = v;
	return 0;
}

/* json-c clamps an integer beyond 64 bits and keeps the last of two equal
 * keys: both would let config.json say something other than what sbx-oci
 * reads. This second pass over the text (json-c has accepted it, and its
 * depth limit bounds the recursion) refuses such numbers at their
 * line:column and counts each object's members in document order, so that
 * a key given twice shows as an object json-c holds fewer members of. */
struct scan {
	const char *s;
	size_t n, i;
	size_t *counts, n_counts, cap;
	size_t bad_number;		/* offset + 1 of a number out of range */
	size_t bad_key;			/* offset + 1 of a key with a NUL */
};

static void scan_ws(struct scan *sc)
{
	while (sc->i < sc->n && strchr(" \t\r\n", sc->s[sc->i]) && sc->s[sc->i])
		sc->i++;
}

static int scan_string(struct scan *sc)
{
	char q = sc->s[sc->i++];

	while (sc->i < sc->n && sc->s[sc->i] != q)
		sc->i += sc->s[sc->i] == '\\' ? 2 : 1;
	if (sc->i >= sc->n)
		return -EINVAL;
	sc->i++;
	return 0;
}

/* Whether the digits (no sign, no leading zeros beyond one) exceed max. */
static bool digits_above(const char *d, size_t len, const char *max)
{
	while (len > 1 && *d == '0')
		d++, len--;
	if (len != strlen(max))
		return len > strlen(max);
	return memcmp(d, max, len) > 0;
}

static void scan_number(struct scan *sc)
{
	size_t start = sc->i, len;
	bool neg = sc->s[sc->i] == '-', integer = true;

	while (sc->i < sc->n && strchr("+-.eE0123456789", sc->s[sc->i]) && sc->s[sc->i]) {
		if (strchr(".eE", sc->s[sc->i]))
			integer = false;
		sc->i++;
	}
	len = sc->i - start - neg;
	if (integer && !sc->bad_number &&
	    digits_above(sc->s + start + neg, len, neg ? "9223372036854775808" : "18446744073709551615"))
		sc->bad_number = start + 1;
}

static int scan_value(struct scan *sc);

static int scan_object(struct scan *sc)
{
	size_t k = sc->n_counts, key;
	int r;

	if (sc->n_counts == sc->cap) {
		size_t *v = realloc(sc->counts, (sc->cap ? sc->cap * 2 : 64) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		sc->counts = v;
		sc->cap = sc->cap ? sc->cap * 2 : 64;
	}
	sc->counts[sc->n_counts++] = 0;
	sc->i++;
	for (;;) {
		scan_ws(sc);
		if (sc->i < sc->n && sc->s[sc->i] == '}')
			break;
		key = sc->i;
		if (sc->i >= sc->n || (sc->s[sc->i] != '"' && sc->s[sc->i] != '\'') || scan_string(sc) < 0)
			return -EINVAL;
		/* json-c would cut the key there: "org.sbx.profile\u0000x" */
		if (!sc->bad_key && memmem(sc->s + key, sc->i - key, "\\u0000", 6))
			sc->bad_key = key + 1;
		scan_ws(sc);
		if (sc->i >= sc->n || sc->s[sc->i++] != ':')
			return -EINVAL;
		if ((r = scan_value(sc)) < 0)
			return r;
		sc->counts[k]++;
		scan_ws(sc);
		if (sc->i < sc->n && sc->s[sc->i] == ',')
			sc->i++;
	}
	sc->i++;
	return 0;
}

static int scan_value(struct scan *sc)
{
	int r;

	scan_ws(sc);
	if (sc->i >= sc->n)
		return -EINVAL;
	switch (sc->s[sc->i]) {
	case '{':
		return scan_object(sc);
	case '[':
		sc->i++;
		for (;;) {
			scan_ws(sc);
			if (sc->i < sc->n && sc->s[sc->i] == ']')
				break;
			if ((r = scan_value(sc)) < 0)
				return r;
			scan_ws(sc);
			if (sc->i < sc->n && sc->s[sc->i] == ',')
				sc->i++;
			else if (sc->i >= sc->n || sc->s[sc->i] != ']')
				return -EINVAL;
		}
		sc->i++;
		return 0;
	case '"':
	case '\'':
		return scan_string(sc);
	default:
		if (sc->s[sc->i] == '-' || (sc->s[sc->i] >= '0' && sc->s[sc->i] <= '9')) {
			scan_number(sc);
			return 0;
		}
		if (!((sc->s[sc->i] >= 'a' && sc->s[sc->i] <= 'z') || (sc->s[sc->i] >= 'A' && sc->s[sc->i] <= 'Z')))
			return -EINVAL;
		while (sc->i < sc->n && ((sc->s[sc->i] >= 'a' && sc->s[sc->i] <= 'z') ||
					 (sc->s[sc->i] >= 'A' && sc->s[sc->i] <= 'Z')))
			sc->i++;
		return 0;
	}
}

/* The tree in the same order as the counts; the first object with fewer
 * members than the text gave it holds a key twice. */
static int check_counts(struct spec_ctx *c, json_object *o, const struct scan *sc, size_t *k)
{
	int r = 0;

	if (json_object_is_type(o, json_type_object)) {
		if (*k >= sc->n_counts || (size_t)json_object_object_length(o) != sc->counts[*k])
			return sc_fail(c, "a key is given twice; sbx-oci refuses it (JSON parsers disagree "
				       "on which one counts)");
		(*k)++;
		json_object_object_foreach(o, key, v) {
			size_t mark = plain_name(key) ? sc_push(c, key) : sc_push_key(c, key);

			r = check_counts(c, v, sc, k);
			sc_pop(c, mark);
			if (r < 0)
				return r;
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o) && r == 0; i++) {
			size_t mark = sc_push_index(c, i);

			r = check_counts(c, json_object_array_get_idx(o, i), sc, k);
			sc_pop(c, mark);
		}
	}
	return r;
}

static void line_col(const char *json, size_t off, unsigned *line, unsigned *col);

static int check_text(struct spec_ctx *c, const char *json, size_t n, json_object *o)
{
	struct scan sc = { .s = json, .n = n };
	unsigned line, col;
	size_t k = 0;
	int r = scan_value(&sc);

	if (r == 0 && (sc.bad_number || sc.bad_key)) {
		size_t at = sc.bad_number && (!sc.bad_key || sc.bad_number < sc.bad_key) ? sc.bad_number : sc.bad_key;

		line_col(json, at - 1, &line, &col);
		snprintf(c->why, c->len, "%s:%u:%u: %s", c->file, line, col,
			 at == sc.bad_number ? "a number beyond 64 bits" : "a key holds a NUL byte");
		r = -EINVAL;
	} else if (r == -EINVAL) {
		snprintf(c->why, c->len, "%s: malformed JSON", c->file);
	} else if (r == 0) {
		r = check_counts(c, o, &sc, &k);
	}
	free(sc.counts);
	return r;
}

/* The byte offset where the tokener stopped, as line:column (1-based). */
static void line_col(const char *json, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (json[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

int spec_parse_root(const char *json, size_t n, struct spec_ctx *c,
		    json_object **ret)
{
	json_tokener *tok;
	json_object *o;
	unsigned line, col;
	size_t end;
	int r = 0;

	*ret = NULL;
	if (n > 16u << 20)
		return snprintf(c->why, c->len, "%s: larger than 16 MiB", c->file), -EFBIG;
	tok = json_tokener_new_ex(64);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, json, (int)n);
	end = json_tokener_get_parse_end(tok);
	if (!o) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		line_col(json, end < n ? end : n, &line, &col);
		if (e == json_tokener_continue)
			snprintf(c->why, c->len, "%s:%u:%u: malformed JSON: the document ends too early",
				 c->file, line, col);
		else
			snprintf(c->why, c->len, "%s:%u:%u: malformed JSON: %s", c->file, line, col,
				 json_tokener_error_desc(e));
		r = -EINVAL;
	} else {
		/* only white space may follow the value */
		while (end < n && (json[end] == ' ' || json[end] == '\t' || json[end] == '\n' || json[end] == '\r'))
			end++;
		if (end < n) {
			line_col(json, end, &line, &col);
			snprintf(c->why, c->len, "%s:%u:%u: malformed JSON: data after the document", c->file,
				 line, col);
			json_object_put(o);
			o = NULL;
			r = -EINVAL;
		} else if (!json_object_is_type(o, json_type_object)) {
			snprintf(c->why, c->len, "%s: must hold a JSON object, not %s", c->file,
				 type_name(json_object_get_type(o)));
			json_object_put(o);
			o = NULL;
			r = -EINVAL;
		}
	}
	json_tokener_free(tok);
	if (r == 0 && (r = check_text(c, json, n, o)) < 0) {
		json_object_put(o);
		o = NULL;
	}
	*ret = o;
	return r;
}
