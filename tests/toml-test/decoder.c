/* SPDX-License-Identifier: MIT */
/*
 * A toml-test "decoder" for sbx's TOML reader (policy/toml.c): reads one
 * document from stdin (or the file named by argv[1]) and prints it as
 * toml-test's tagged JSON, {"key": {"type": "integer", "value": "1"}, ...},
 * on stdout; exit 0. A document the reader refuses: the error as
 * "LINE:COL: message" on stderr, exit 1. run.py compares the JSON with the
 * corpus's expected files.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

static void put_string(const char *s, size_t len)
{
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* One canonical form, which run.py also gives the expected values. */
static void put_datetime(const struct toml_value *v)
{
	const struct toml_datetime *d = &v->u.dt;
	int off = d->offset_minutes < 0 ? -d->offset_minutes : d->offset_minutes;

	if (v->type != TOML_TIME_LOCAL)
		printf("%04d-%02d-%02d", d->year, d->month, d->day);
	if (v->type != TOML_TIME_LOCAL && v->type != TOML_DATE_LOCAL)
		putchar('T');
	if (v->type != TOML_DATE_LOCAL)
		printf("%02d:%02d:%02d.%09u", d->hour, d->minute, d->second, d->nanosecond);
	if (v->type == TOML_DATETIME)
		printf("%c%02d:%02d", d->offset_minutes < 0 ? '-' : '+', off / 60, off % 60);
}

static void put_scalar(const char *type, const struct toml_value *v)
{
	printf("{\"type\":\"%s\",\"value\":", type);
	switch (v->type) {
	case TOML_STRING:
		put_string(v->u.str.ptr, v->u.str.len);
		break;
	case TOML_INTEGER:
		printf("\"%lld\"", (long long)v->u.integer);
		break;
	case TOML_FLOAT:
		if (isnan(v->u.fp))
			printf("\"nan\"");
		else if (isinf(v->u.fp))
			printf("\"%sinf\"", v->u.fp < 0 ? "-" : "");
		else
			printf("\"%.17g\"", v->u.fp);
		break;
	case TOML_BOOL:
		printf("\"%s\"", v->u.boolean ? "true" : "false");
		break;
	default:
		putchar('"');
		put_datetime(v);
		putchar('"');
	}
	putchar('}');
}

static void put_value(const struct toml_value *v)
{
	static const char *const types[] = {
		[TOML_STRING] = "string", [TOML_INTEGER] = "integer", [TOML_FLOAT] = "float",
		[TOML_BOOL] = "bool", [TOML_DATETIME] = "datetime",
		[TOML_DATETIME_LOCAL] = "datetime-local", [TOML_DATE_LOCAL] = "date-local",
		[TOML_TIME_LOCAL] = "time-local",
	};

	if (v->type == TOML_TABLE) {
		putchar('{');
		for (size_t i = 0; i < v->u.tab.n; i++) {
			if (i)
				putchar(',');
			put_string(v->u.tab.kvs[i].key, v->u.tab.kvs[i].key_len);
			putchar(':');
			put_value(v->u.tab.kvs[i].val);
		}
		putchar('}');
	} else if (v->type == TOML_ARRAY) {
		putchar('[');
		for (size_t i = 0; i < v->u.arr.n; i++) {
			if (i)
				putchar(',');
			put_value(v->u.arr.items[i]);
		}
		putchar(']');
	} else {
		put_scalar(types[v->type], v);
	}
}

static char *read_all(FILE *f, size_t *ret_len)
{
	size_t len = 0, cap = 0, n;
	char *buf = NULL;

	do {
		if (len == cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);

			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	*ret_len = len;
	return buf;
}

int main(int argc, char **argv)
{
	FILE *f = argc > 1 ? fopen(argv[1], "rb") : stdin;
	struct toml_value *root = NULL;
	struct toml_error err = { 0 };
	size_t len = 0;
	char *buf;
	int r;

	if (!f) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	buf = read_all(f, &len);
	if (!buf) {
		fprintf(stderr, "out of memory\n");
		return 2;
	}
	r = toml_parse(buf, len, &root, &err);
	free(buf);
	if (r < 0) {
		fprintf(stderr, "%u:%u: %s\n", err.pos.line, err.pos.col, r == -EINVAL ? err.msg : strerror(-r));
		return r == -EINVAL ? 1 : 2;
	}
	put_value(root);
	putchar('\n');
	toml_free(root);
	return 0;
}
