/* SPDX-License-Identifier: MIT */
/* Streaming JSON writer; the contract is in json.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

void json_init(struct json_writer *w, FILE *f, bool pretty)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->pretty = pretty;
}

void json_init_buf(struct json_writer *w, struct json_buf *b, bool pretty)
{
	json_init(w, NULL, pretty);
	w->buf = b;
}

void json_buf_clear(struct json_buf *b)
{
	b->len = 0;
}

void json_buf_free(struct json_buf *b)
{
	free(b->data);
	*b = (struct json_buf){ 0 };
}

/* Records the first error; every later call returns it. */
static int fail(struct json_writer *w, int r)
{
	if (!w->err)
		w->err = r;
	return w->err;
}

/* Room for len more bytes: doubling, so that a batch costs a few reallocs
 * the first time and none after (the buffer is kept between batches). */
static int buf_reserve(struct json_writer *w, size_t len)
{
	struct json_buf *b = w->buf;
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (len > SIZE_MAX / 4 - b->len)
		return fail(w, -ENOMEM);
	while (cap - b->len < len)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return fail(w, -ENOMEM);
	b->data = p;
	b->cap = cap;
	return 0;
}

static int emit(struct json_writer *w, const char *s, size_t len)
{
	struct json_buf *b = w->buf;

	if (w->err)
		return w->err;
	if (!len)
		return 0;
	if (b) {
		if (len > b->cap - b->len && buf_reserve(w, len))
			return w->err;
		memcpy(b->data + b->len, s, len);
		b->len += len;
		return 0;
	}
	if (fwrite(s, 1, len, w->f) != len)
		return fail(w, errno > 0 ? -errno : -EIO);
	return 0;
}

static int emits(struct json_writer *w, const char *s)
{
	return emit(w, s, strlen(s));
}

static int newline_indent(struct json_writer *w)
{
	static const char spaces[] = "                                ";
	unsigned n = w->depth * 2;

	emit(w, "\n", 1);
	while (n > 0) {
		unsigned k = n < sizeof(spaces) - 1 ? n : (unsigned)sizeof(spaces) - 1;

		emit(w, spaces, k);
		n -= k;
	}
	return w->err;
}

static char top(const struct json_writer *w)
{
	return w->depth ? w->stack[w->depth - 1] : 0;
}

/* Separator before a value: nothing after a key, a comma between array items. */
static int begin_value(struct json_writer *w)
{
	if (w->err)
		return w->err;
	if (top(w) == '{' && !w->after_key)
		return fail(w, -EINVAL);	/* object members need a key first */
	if (top(w) == '[') {
		if (w->need_comma)
			emit(w, ",", 1);
		if (w->pretty)
			newline_indent(w);
	}
	return w->err;
}

/* A value is complete: top-level values end their line (JSON lines). */
static int end_value(struct json_writer *w)
{
	w->after_key = false;
	w->need_comma = true;
	if (w->depth == 0)
		emit(w, "\n", 1);
	return w->err;
}

/*
 * Length of the valid UTF-8 sequence starting at s (1..4), or 0 when s[0]
 * does not begin one. Rejects overlong forms, surrogates and > U+10FFFF by
 * narrowing the allowed range of the second byte (RFC 3629 table).
 */
size_t json_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* The escape for one ASCII byte, or NULL when it is written as is. */
static const char *ascii_escape(unsigned char c, char buf[7])
{
	switch (c) {
	case '"': return "\\\"";
	case '\\': return "\\\\";
	case '\b': return "\\b";
	case '\f': return "\\f";
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	}
	if (c < 0x20 || c == 0x7f) {
		snprintf(buf, 7, "\\u%04x", c);
		return buf;
	}
	return NULL;
}

/* Printable ASCII but '"' and '\\': written as is without a look further. */
static bool plain_ascii(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static int emit_escaped(struct json_writer *w, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;	/* s[run..i) is pending verbatim output */
	char buf[7];

	emit(w, "\"", 1);
	while (i < len && !w->err) {
		size_t n;
		const char *esc = NULL;

		if (plain_ascii(s[i])) {	/* the fast path: names, paths, keys */
			i++;
			continue;
		}
		n = json_utf8_len(s + i, len - i);

		if (n == 1)
			esc = ascii_escape(s[i], buf);
		else if (n == 0)
			esc = "\xef\xbf\xbd";	/* U+FFFD for this one byte */
		else if (n == 3 && s[i] == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] & 0xfe) == 0xa8)
			esc = s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
		if (!esc) {
			i += n;
			continue;
		}
		emit(w, (const char *)s + run, i - run);
		emits(w, esc);
		i += n ? n : 1;
		run = i;
	}
	emit(w, (const char *)s + run, i - run);
	return emit(w, "\"", 1);
}

static int begin_container(struct json_writer *w, char c)
{
	if (begin_value(w))
		return w->err;
	if (w->depth >= JSON_MAX_DEPTH)
		return fail(w, -E2BIG);
	w->stack[w->depth++] = c;
	w->need_comma = false;
	w->after_key = false;
	return emit(w, c == '{' ? "{" : "[", 1);
}

static int end_container(struct json_writer *w, char c)
{
	if (w->err)
		return w->err;
	if (top(w) != c || w->after_key)
		return fail(w, -EINVAL);
	w->depth--;
	if (w->pretty && w->need_comma)	/* non-empty: close on its own line */
		newline_indent(w);
	emit(w, c == '{' ? "}" : "]", 1);
	return end_value(w);
}

int json_begin_object(struct json_writer *w) { return begin_container(w, '{'); }
int json_end_object(struct json_writer *w) { return end_container(w, '{'); }
int json_begin_array(struct json_writer *w) { return begin_container(w, '['); }
int json_end_array(struct json_writer *w) { return end_container(w, '['); }

int json_key(struct json_writer *w, const char *key)
{
	if (w->err)
		return w->err;
	if (top(w) != '{' || w->after_key || !key)
		return fail(w, -EINVAL);
	if (w->need_comma)
		emit(w, ",", 1);
	if (w->pretty)
		newline_indent(w);
	emit_escaped(w, key, strlen(key));
	emits(w, w->pretty ? ": " : ":");
	w->after_key = true;
	return w->err;
}

int json_string_len(struct json_writer *w, const char *s, size_t len)
{
	if (begin_value(w))
		return w->err;
	if (!s)
		emits(w, "null");
	else
		emit_escaped(w, s, len);
	return end_value(w);
}

int json_string(struct json_writer *w, const char *s)
{
	return json_string_len(w, s, s ? strlen(s) : 0);
}

int json_stringf(struct json_writer *w, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	if (w->err)
		return w->err;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return fail(w, -ENOMEM);
	json_string_len(w, s, (size_t)n);
	free(s);
	return w->err;
}

/* Writes an already formatted number or literal. */
static int raw_value_len(struct json_writer *w, const char *text, size_t len)
{
	if (begin_value(w))
		return w->err;
	emit(w, text, len);
	return end_value(w);
}

static int raw_value(struct json_writer *w, const char *text)
{
	return raw_value_len(w, text, strlen(text));
}

/* The decimal digits of v, ending at end (exclusive); returns their start.
 * What printf's %llu writes, without printf (a few per audit event). */
static char *format_u64(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

int json_int(struct json_writer *w, int64_t v)
{
	char buf[24], *end = buf + sizeof(buf), *p;

	/* the magnitude in unsigned arithmetic: -INT64_MIN does not fit */
	p = format_u64(end, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
	if (v < 0)
		*--p = '-';
	return raw_value_len(w, p, (size_t)(end - p));
}

int json_uint(struct json_writer *w, uint64_t v)
{
	char buf[24], *end = buf + sizeof(buf), *p = format_u64(end, v);

	return raw_value_len(w, p, (size_t)(end - p));
}

/* Shortest of %.15g..%.17g that reads back as the same double. */
int json_double(struct json_writer *w, double v)
{
	char buf[32];

	if (!isfinite(v))
		return raw_value(w, "null");
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return raw_value(w, buf);
}

int json_boolean(struct json_writer *w, bool v) { return raw_value(w, v ? "true" : "false"); }
int json_null(struct json_writer *w) { return raw_value(w, "null"); }

int json_kv_string(struct json_writer *w, const char *key, const char *s)
{
	return json_key(w, key) ?: json_string(w, s);
}

int json_kv_int(struct json_writer *w, const char *key, int64_t v)
{
	return json_key(w, key) ?: json_int(w, v);
}

int json_kv_uint(struct json_writer *w, const char *key, uint64_t v)
{
	return json_key(w, key) ?: json_uint(w, v);
}

int json_kv_double(struct json_writer *w, const char *key, double v)
{
	return json_key(w, key) ?: json_double(w, v);
}

int json_kv_bool(struct json_writer *w, const char *key, bool v)
{
	return json_key(w, key) ?: json_boolean(w, v);
}

int json_kv_null(struct json_writer *w, const char *key)
{
	return json_key(w, key) ?: json_null(w);
}

int json_finish(struct json_writer *w)
{
	if (w->err)
		return w->err;
	if (w->depth || w->after_key)
		return fail(w, -EINVAL);
	if (w->buf)
		return 0;
	if (fflush(w->f) == EOF || ferror(w->f))
		return fail(w, errno > 0 ? -errno : -EIO);
	return 0;
}
