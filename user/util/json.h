/* SPDX-License-Identifier: MIT */
/*
 * A streaming JSON writer over a FILE* or a memory buffer (struct json_buf).
 * One writer produces one or more top-level values; each top-level value is
 * terminated by a newline, so the same writer serves single documents
 * (`sbx policy show --json`) and JSON lines (audit streams).
 *
 * Commas, colons and (optionally) indentation are inserted automatically.
 * Misuse (a value where a key is expected, mismatched end, nesting deeper
 * than JSON_MAX_DEPTH) and I/O errors are sticky: the call returns a negative
 * errno, nothing more is written, and every later call returns the same
 * error. The document is then incomplete; callers report the error instead.
 *
 * Strings are always emitted as valid UTF-8 JSON:
 *   - '"' and '\\' are escaped; \b \f \n \r \t use their short escapes;
 *   - every other byte below 0x20, and DEL (0x7f), becomes \u00XX;
 *   - U+2028 and U+2029 become \u2028 / \u2029 (valid JSON, but they end
 *     lines in JavaScript and in some log viewers);
 *   - valid UTF-8 passes through unchanged;
 *   - each byte that does not begin a valid UTF-8 sequence (stray
 *     continuation bytes, truncated sequences, overlong forms, surrogates,
 *     code points above U+10FFFF) is replaced by one U+FFFD.
 * Doubles that are not finite (NaN, +-Inf) are written as null. Numbers are
 * formatted in the C locale's shortest round-trip form ("0.5", "1e+20").
 */
#ifndef SBX_JSON_H
#define SBX_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32	/* nesting of objects and arrays */

/* A memory sink: the writer appends to data[0..len), growing it. The audit
 * writer (core/run.c) formats a whole ring drain into one and writes it with
 * one write() per sink: no stdio on its hot path. */
struct json_buf {
	char *data;
	size_t len;
	size_t cap;
};

struct json_writer {
	FILE *f;
	struct json_buf *buf;	/* the sink when not NULL (f is NULL then) */
	bool pretty;		/* two-space indentation, "key": value */
	int err;		/* sticky: 0 or a negative errno */
	unsigned depth;
	bool need_comma;	/* a value was already written in the current container */
	bool after_key;		/* a key was written; its value must come next */
	char stack[JSON_MAX_DEPTH]; /* '{' or '[' per open container */
};

/* Prepares w to write to f. Never fails. */
void json_init(struct json_writer *w, FILE *f, bool pretty);
/* Prepares w to append to b (which may be empty: {0}). Never fails; a
 * buffer that cannot grow is the writer's sticky -ENOMEM. */
void json_init_buf(struct json_writer *w, struct json_buf *b, bool pretty);
/* Empties b, keeping its memory for the next batch. */
void json_buf_clear(struct json_buf *b);
/* Frees b's memory; b is empty after and may be used again. */
void json_buf_free(struct json_buf *b);

/* Each returns 0 or the writer's (sticky) negative errno:
 * -EINVAL misuse, -E2BIG nesting too deep, -EIO or the stream's errno. */
int json_begin_object(struct json_writer *w);
int json_end_object(struct json_writer *w);
int json_begin_array(struct json_writer *w);
int json_end_array(struct json_writer *w);
int json_key(struct json_writer *w, const char *key);

int json_string(struct json_writer *w, const char *s);	/* NULL writes null */
int json_string_len(struct json_writer *w, const char *s, size_t len); /* may hold NULs */
/* length of the valid UTF-8 sequence at s (1..4), 0 if none; json_string
 * writes U+FFFD for each byte of an invalid one */
size_t json_utf8_len(const unsigned char *s, size_t n);
/* The most json_escape_into() writes for len bytes: each as \u00XX, quoted. */
#define JSON_ESCAPED_MAX(len) (6 * (len) + 2)
/* s quoted and escaped as json_string writes it, into out, which has room
 * for JSON_ESCAPED_MAX(len); returns the length written. For formatters
 * that build members by hand (json_members_raw). */
size_t json_escape_into(char *out, const char *s, size_t len);
/* Appends members already formatted ("a":1,"b":"x", without a leading
 * comma; may be empty) to the open object of a compact writer: the comma
 * before them, if one is due, is the writer's. -EINVAL outside an object,
 * after a key, or on a pretty writer. */
int json_members_raw(struct json_writer *w, const char *text, size_t len);
/* The decimal digits of v (what printf's %llu writes), ending at end
 * (exclusive; up to 20 bytes before it); returns their start. */
char *json_format_u64(char *end, uint64_t v);
int json_stringf(struct json_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int json_int(struct json_writer *w, int64_t v);
int json_uint(struct json_writer *w, uint64_t v);
int json_double(struct json_writer *w, double v);
int json_boolean(struct json_writer *w, bool v);
int json_null(struct json_writer *w);

/* "key": value shorthands for object members. */
int json_kv_string(struct json_writer *w, const char *key, const char *s);
int json_kv_int(struct json_writer *w, const char *key, int64_t v);
int json_kv_uint(struct json_writer *w, const char *key, uint64_t v);
int json_kv_double(struct json_writer *w, const char *key, double v);
int json_kv_bool(struct json_writer *w, const char *key, bool v);
int json_kv_null(struct json_writer *w, const char *key);

/* Flushes the stream (a buffer needs none). Returns 0 when every value was completed and written,
 * -EINVAL when a container or key is still open, or the sticky error. */
int json_finish(struct json_writer *w);

#endif /* SBX_JSON_H */
