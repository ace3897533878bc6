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

static int emit_file(struct json_writer *w, const char *s, size_t len)
{
	if (fwrite(s, 1, len, w->f) != len)
		return fail(w, errno > 0 ? -errno : -EIO);
	return 0;
}

/* Inline: an audit line is some forty of these. */
static inline int emit(struct json_writer *w, const char *s, size_t len)
{
	struct json_buf *b = w->buf;

	if (w->err)
		return w->err;
	if (!len)
		return 0;
	if (!b)
		return emit_file(w, s, len);
	if (len > b->cap - b->len && buf_reserve(w, len))
		return w->err;
	memcpy(b->data + b->len, s, len);
	b->len += len;
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

/* Printable ASCII but '"' (0x22) and '\\' (0x5c): written as is without a
 * look further. A table: one load a byte on the hot path. */
static const bool plain_ascii[256] = {
	[0x20 ... 0x21] = true, [0x23 ... 0x5b] = true, [0x5d ... 0x7e] = true,
};

/* The escape of an ASCII byte that is not plain: the short forms, else
 * \u00XX (lower-case hex). Returns its length. */
static size_t ascii_escape(unsigned char c, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const char *shortform = NULL;

	switch (c) {
	case '"': shortform = "\\\""; break;
	case '\\': shortform = "\\\\"; break;
	case '\b': shortform = "\\b"; break;
	case '\f': shortform = "\\f"; break;
	case '\n': shortform = "\\n"; break;
	case '\r': shortform = "\\r"; break;
	case '\t': shortform = "\\t"; break;
	}
	if (shortform) {
		memcpy(out, shortform, 2);
		return 2;
	}
	memcpy(out, "\\u00", 4);
	out[4] = hex[c >> 4];
	out[5] = hex[c & 0xf];
	return 6;
}

#define ESCAPED_MAX(len) JSON_ESCAPED_MAX(len)

size_t json_escape_into(char *out, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	char *o = out;
	size_t i = 0;

	*o++ = '"';
	while (i < len) {
		size_t n;

		/* the fast path: names, paths, keys; short, so no memcpy call */
		while (i < len && plain_ascii[s[i]])
			*o++ = (char)s[i++];
		if (i == len)
			break;
		n = json_utf8_len(s + i, len - i);
		if (n == 1) {
			o += ascii_escape(s[i], o);
		} else if (n == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);	/* U+FFFD for this one byte */
			o += 3;
			n = 1;
		} else if (n == 3 && s[i] == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] & 0xfe) == 0xa8) {
			memcpy(o, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
			o += 6;
		} else {
			memcpy(o, s + i, n);
			o += n;
		}
		i += n;
	}
	*o++ = '"';
	return (size_t)(o - out);
}

/* Into the buffer directly; through a bounce buffer for a stream. */
static int emit_escaped(struct json_writer *w, const char *str, size_t len)
{
	struct json_buf *b = w->buf;
	char stack[2048], *tmp;
	size_t need;

	if (w->err)
		return w->err;
	if (len > (SIZE_MAX - 2) / 8)
		return fail(w, -ENOMEM);
	need = ESCAPED_MAX(len);
	if (b) {
		if (need > b->cap - b->len && buf_reserve(w, need))
			return w->err;
		b->len += json_escape_into(b->data + b->len, str, len);
		return 0;
	}
	if (need <= sizeof(stack))
		return emit(w, stack, json_escape_into(stack, str, len));
	tmp = malloc(need);
	if (!tmp)
		return fail(w, -ENOMEM);
	emit(w, tmp, json_escape_into(tmp, str, len));
	free(tmp);
	return w->err;
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

/* json_key's compact form into a buffer at one reservation: ,"key": */
static int key_into_buf(struct json_writer *w, const char *key)
{
	struct json_buf *b = w->buf;
	size_t len = strlen(key), need;
	char *p;

	if (len > (SIZE_MAX - 4) / 8)
		return fail(w, -ENOMEM);
	need = ESCAPED_MAX(len) + 2;
	if (need > b->cap - b->len && buf_reserve(w, need))
		return w->err;
	p = b->data + b->len;
	if (w->need_comma)
		*p++ = ',';
	p += json_escape_into(p, key, len);
	*p++ = ':';
	b->len = (size_t)(p - b->data);
	w->after_key = true;
	return 0;
}

int json_key(struct json_writer *w, const char *key)
{
	if (w->err)
		return w->err;
	if (top(w) != '{' || w->after_key || !key)
		return fail(w, -EINVAL);
	if (w->buf && !w->pretty)
		return key_into_buf(w, key);
	if (w->need_comma)
		emit(w, ",", 1);
	if (w->pretty)
		newline_indent(w);
	emit_escaped(w, key, strlen(key));
	emit(w, ": ", w->pretty ? 2 : 1);
	w->after_key = true;
	return w->err;
}

int json_members_raw(struct json_writer *w, const char *text, size_t len)
{
	if (w->err)
		return w->err;
	if (top(w) != '{' || w->after_key || w->pretty)
		return fail(w, -EINVAL);
	if (!len)
		return 0;
	if (w->need_comma)
		emit(w, ",", 1);
	w->need_comma = true;
	return emit(w, text, len);
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

/* "00".."99": two digits a division (a dozen numbers per audit event) */
static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

char *json_format_u64(char *end, uint64_t v)
{
	while (v >= 100) {
		end -= 2;
		memcpy(end, digit_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		end -= 2;
		memcpy(end, digit_pairs + 2 * v, 2);
	} else {
		*--end = (char)('0' + v);
	}
	return end;
}

int json_int(struct json_writer *w, int64_t v)
{
	char buf[24], *end = buf + sizeof(buf), *p;

	/* the magnitude in unsigned arithmetic: -INT64_MIN does not fit */
	p = json_format_u64(end, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
	if (v < 0)
		*--p = '-';
	return raw_value_len(w, p, (size_t)(end - p));
}

int json_uint(struct json_writer *w, uint64_t v)
{
	char buf[24], *end = buf + sizeof(buf), *p = json_format_u64(end, v);

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
