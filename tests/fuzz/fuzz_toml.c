/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the TOML reader: parse, then walk the whole tree so
 * that every value is read (ASan sees any dangling or short allocation) and
 * check the invariants callers rely on, then free it (LSan sees leaks).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

static void check(bool ok)
{
	if (!ok)
		abort();
}

/* Keys are unique, so a lookup by any NUL-free key must find that very pair. */
static void check_table(const struct toml_value *t)
{
	size_t i;

	for (i = 0; i < t->u.tab.n; i++) {
		const struct toml_kv *kv = &t->u.tab.kvs[i];

		check(kv->key[kv->key_len] == '\0' && kv->key_pos.line >= 1 && kv->key_pos.col >= 1);
		if (strlen(kv->key) == kv->key_len)
			check(toml_get_kv(t, kv->key) == kv && toml_get(t, kv->key) == kv->val);
	}
}

static void walk(const struct toml_value *v, unsigned depth)
{
	size_t i;

	check(depth <= TOML_MAX_DEPTH + 1 && v->pos.line >= 1 && v->pos.col >= 1);
	sink += (uint64_t)v->type + toml_type_name(v->type)[0];
	switch (v->type) {
	case TOML_TABLE:
		check_table(v);
		for (i = 0; i < v->u.tab.n; i++)
			walk(v->u.tab.kvs[i].val, depth + 1);
		break;
	case TOML_ARRAY:
		for (i = 0; i < v->u.arr.n; i++)
			walk(v->u.arr.items[i], depth + 1);
		break;
	case TOML_STRING:
		check(v->u.str.ptr[v->u.str.len] == '\0');
		for (i = 0; i < v->u.str.len; i++)
			sink += (unsigned char)v->u.str.ptr[i];
		break;
	case TOML_INTEGER:
		sink += (uint64_t)v->u.integer;
		break;
	case TOML_FLOAT:
		sink += v->u.fp == v->u.fp;
		break;
	case TOML_BOOL:
		sink += v->u.boolean;
		break;
	default:
		check(v->u.dt.nanosecond < 1000000000u && v->u.dt.second <= 60);
		sink += (uint64_t)v->u.dt.year + (uint64_t)v->u.dt.offset_minutes;
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_value *root = NULL;
	struct toml_error err;
	int r = toml_parse((const char *)data, size, &root, &err);

	if (r < 0) {
		check(root == NULL && (r == -EINVAL || r == -ENOMEM));
		check(memchr(err.msg, '\0', sizeof(err.msg)) != NULL && err.msg[0] != '\0');
		check(r != -EINVAL || (err.pos.line >= 1 && err.pos.col >= 1));
		return 0;
	}
	walk(root, 0);
	toml_free(root);
	return 0;
}
