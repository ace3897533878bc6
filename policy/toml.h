/* SPDX-License-Identifier: MIT */
/*
 * A TOML 1.0 reader. toml_parse() turns a document into a tree of
 * toml_value nodes or reports the first error with a 1-based line and
 * column (columns count Unicode characters). The tree owns all its memory;
 * toml_free() releases it. Nothing here prints.
 */
#ifndef SBX_TOML_H
#define SBX_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOML_MAX_DEPTH 128 /* nesting of arrays, inline tables and key parts */

enum toml_type {
	TOML_TABLE = 1,
	TOML_ARRAY,
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME,		/* offset date-time: 1979-05-27T07:32:00Z */
	TOML_DATETIME_LOCAL,	/* 1979-05-27T07:32:00 */
	TOML_DATE_LOCAL,	/* 1979-05-27 */
	TOML_TIME_LOCAL,	/* 07:32:00 */
};

struct toml_pos {
	uint32_t line;
	uint32_t col;
};

struct toml_datetime {
	int year, month, day;		/* set for DATETIME*, DATE_LOCAL */
	int hour, minute, second;	/* set for DATETIME*, TIME_LOCAL */
	uint32_t nanosecond;		/* fractional seconds, truncated to ns */
	int offset_minutes;		/* DATETIME only; Z = 0 */
};

struct toml_kv;

struct toml_value {
	enum toml_type type;
	struct toml_pos pos;		/* first character of the value ([header] for tables) */
	union {
		struct {
			char *ptr;	/* NUL-terminated; may also contain NUL (\u0000) */
			size_t len;
		} str;
		int64_t integer;
		double fp;
		bool boolean;
		struct toml_datetime dt;
		struct {
			struct toml_value **items;
			size_t n;
		} arr;
		struct {
			struct toml_kv *kvs;	/* in document order */
			size_t n;
			void *priv;		/* reader's private lookup index */
		} tab;
	} u;
};

struct toml_kv {
	char *key;			/* NUL-terminated; may also contain NUL */
	size_t key_len;
	struct toml_pos key_pos;	/* where the key was (last) written */
	struct toml_value *val;
};

struct toml_error {
	struct toml_pos pos;
	char msg[256];
};

/* Parse len bytes of buf (need not be NUL-terminated). Returns 0 and a TOML_TABLE
 * root in *ret_root, or -EINVAL (syntax or semantic error, *err filled) or
 * -ENOMEM. *ret_root is untouched on failure. */
int toml_parse(const char *buf, size_t len, struct toml_value **ret_root, struct toml_error *err);

/* Frees a tree; accepts NULL; returns NULL. */
struct toml_value *toml_free(struct toml_value *v);

/* Lookup in a TOML_TABLE by NUL-terminated key; NULL if absent or v is not a table. */
const struct toml_value *toml_get(const struct toml_value *table, const char *key);

/* Same, returning the key/value pair (for the key's position). */
const struct toml_kv *toml_get_kv(const struct toml_value *table, const char *key);

/* "table", "array", "string", "integer", "float", "boolean", "offset date-time", ... */
const char *toml_type_name(enum toml_type t);

#endif /* SBX_TOML_H */
