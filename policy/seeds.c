/* SPDX-License-Identifier: MIT */
/*
 * The seeds' dialect of policy files (docs/policy.md, "The seeds' dialect"):
 *
 *     default_provider = "process"
 *     [capability_configs."ccos.network.http-fetch"]
 *     memory_limit_mb = 512
 *     timeout_seconds = 30
 *     network_policy = { AllowList = ["api.github.com"] }	# or "Denied"
 *     fs_policy = { ReadOnly = ["/tmp"] }			# or "None", ReadWrite
 *
 * A file in this dialect is translated into the tree of the native form
 * ([profile."NAME"] tables) before the loader scans it. Every generated
 * value carries the position of the seeds' value it came from, so the
 * native validators check it and report their errors where the user wrote
 * it, and the result is the same sbx_profile a native file gives. Only what
 * the native keys cannot say (the variants, the units of memory_limit_mb)
 * is checked here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy-internal.h"

#define MEMORY_MB_MAX	(64ull << 20)		/* 64T, the native memory limit */
#define TIMEOUT_S_MAX	(31ull * 24 * 3600)	/* 31 days, the native timeout limit */

static const char *const seeds_keys[] = { "default_provider", "capability_configs", NULL };
static const char *const native_keys[] = { "version", "profile", "defaults", "env", NULL };
static const char *const cap_keys[] = { "memory_limit_mb", "timeout_seconds", "network_policy", "fs_policy",
					NULL };

struct seeds {
	struct pctx *c;
	const char *file;
	const struct toml_kv *provider;	/* default_provider, when valid */
};

/* Records a diagnostic; returns -EINVAL, or -ENOMEM when it could not. */
static int __attribute__((format(printf, 3, 4)))
fail(struct seeds *S, const struct toml_pos *pos, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = pctx_vdiag(S->c, S->file, pos, fmt, ap);
	va_end(ap);
	return r < 0 ? r : -EINVAL;
}

static bool key_in(const struct toml_kv *kv, const char *const *keys)
{
	for (; *keys; keys++)
		if (kv->key_len == strlen(*keys) && strcmp(kv->key, *keys) == 0)
			return true;
	return false;
}

static bool key_is(const struct toml_kv *kv, const char *name)
{
	return kv->key_len == strlen(name) && strcmp(kv->key, name) == 0;
}

static const char *article(const char *noun)
{
	return strchr("aeiou", noun[0]) ? "an" : "a";
}

/* ---- which dialect ------------------------------------------------------ */

static const struct toml_kv *first_of(const struct toml_value *root, const char *const *keys)
{
	for (size_t i = 0; i < root->u.tab.n; i++)
		if (key_in(&root->u.tab.kvs[i], keys))
			return &root->u.tab.kvs[i];
	return NULL;
}

static bool before(const struct toml_kv *a, const struct toml_kv *b)
{
	return a->key_pos.line < b->key_pos.line ||
	       (a->key_pos.line == b->key_pos.line && a->key_pos.col < b->key_pos.col);
}

int sbx_seeds_dialect(struct pctx *c, const char *file, const struct toml_value *root)
{
	const struct toml_kv *s = first_of(root, seeds_keys), *n = first_of(root, native_keys);
	int r;

	if (!s)
		return SBX_DIALECT_NATIVE;
	if (!n)
		return SBX_DIALECT_SEEDS;
	/* The first key written decides the file's dialect; the other one's
	 * first key is the mistake. */
	if (before(s, n))
		r = pctx_diag(c, file, &n->key_pos,
			      "'%s' is a key of sbx's native policy format, but this file is in the seeds' "
			      "dialect ('%s' at %u:%u); a file uses one format (sbx policy convert prints "
			      "the native form)", n->key, s->key, s->key_pos.line, s->key_pos.col);
	else
		r = pctx_diag(c, file, &s->key_pos,
			      "'%s' is a key of the seeds' dialect, but this file is in sbx's native policy "
			      "format ('%s' at %u:%u); a file uses one format", s->key, n->key,
			      n->key_pos.line, n->key_pos.col);
	return r < 0 ? r : SBX_DIALECT_MIXED;
}

/* ---- building the native tree ------------------------------------------ */

static struct toml_value *node(enum toml_type t, struct toml_pos pos)
{
	struct toml_value *v = calloc(1, sizeof(*v));

	if (v) {
		v->type = t;
		v->pos = pos;
	}
	return v;
}

static struct toml_value *new_str(const char *s, size_t len, struct toml_pos pos)
{
	struct toml_value *v = node(TOML_STRING, pos);

	if (v && !(v->u.str.ptr = malloc(len + 1)))
		v = toml_free(v);
	if (v) {
		memcpy(v->u.str.ptr, s, len);
		v->u.str.ptr[len] = '\0';
		v->u.str.len = len;
	}
	return v;
}

static struct toml_value *new_int(int64_t i, struct toml_pos pos)
{
	struct toml_value *v = node(TOML_INTEGER, pos);

	if (v)
		v->u.integer = i;
	return v;
}

/* Adds key = val to tab; takes val, also on failure (NULL val: -ENOMEM). */
static int put(struct toml_value *tab, const char *key, size_t key_len, struct toml_pos key_pos,
	       struct toml_value *val)
{
	struct toml_kv *kvs;
	char *k;

	if (!val)
		return -ENOMEM;
	kvs = realloc(tab->u.tab.kvs, (tab->u.tab.n + 1) * sizeof(*kvs));
	k = kvs ? malloc(key_len + 1) : NULL;
	if (kvs)
		tab->u.tab.kvs = kvs;
	if (!k) {
		toml_free(val);
		return -ENOMEM;
	}
	memcpy(k, key, key_len);
	k[key_len] = '\0';
	kvs[tab->u.tab.n++] = (struct toml_kv){ .key = k, .key_len = key_len, .key_pos = key_pos, .val = val };
	return 0;
}

static int put_str(struct toml_value *tab, const char *key, struct toml_pos pos, const char *s)
{
	return put(tab, key, strlen(key), pos, new_str(s, strlen(s), pos));
}

/* Appends item to arr; takes item, also on failure. */
static int push(struct toml_value *arr, struct toml_value *item)
{
	struct toml_value **items;

	if (!item)
		return -ENOMEM;
	items = realloc(arr->u.arr.items, (arr->u.arr.n + 1) * sizeof(*items));
	if (!items) {
		toml_free(item);
		return -ENOMEM;
	}
	items[arr->u.arr.n++] = item;
	arr->u.arr.items = items;
	return 0;
}

/* ---- variants: { Name = [...] }, "Name" and 'Name(["a", "b"])' --------- */

struct variant {
	char name[32];
	struct toml_pos pos;		/* of the name */
	struct toml_value *args;	/* TOML_ARRAY of strings, or NULL (a unit variant) */
};

/* The position of byte off of a string value, counting characters from
 * its opening quote; exact for one-line strings without escapes. */
static struct toml_pos pos_in(const struct toml_value *v, const char *s, size_t off)
{
	struct toml_pos p = { v->pos.line, v->pos.col + 1 };

	for (size_t i = 0; i < off; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			p.col++;
	return p;
}

struct scan {
	const struct toml_value *v;
	const char *s;
	size_t i, len;
};

static void skip_ws(struct scan *sc)
{
	while (sc->i < sc->len && (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\t'))
		sc->i++;
}

static int scan_err(struct seeds *S, const struct scan *sc, const char *what, const char *ctx)
{
	struct toml_pos p = pos_in(sc->v, sc->s, sc->i);
	char q[128];

	return fail(S, &p, "%s: %s in '%s'", ctx, what, sbx_printable(sc->s, sc->len, q, sizeof(q)));
}

/* One double-quoted string with \" and \\ as the only escapes. */
static int scan_item(struct seeds *S, struct scan *sc, const char *ctx, struct toml_value *arr)
{
	struct toml_pos start = pos_in(sc->v, sc->s, sc->i);
	char *buf = malloc(sc->len + 1);
	size_t n = 0;
	int r;

	if (!buf)
		return -ENOMEM;
	for (sc->i++; sc->i < sc->len && sc->s[sc->i] != '"'; sc->i++) {
		if (sc->s[sc->i] == '\\' && sc->i + 1 < sc->len && strchr("\"\\", sc->s[sc->i + 1]))
			sc->i++;
		else if (sc->s[sc->i] == '\\' || (unsigned char)sc->s[sc->i] < 0x20) {
			free(buf);
			return scan_err(S, sc, "only \\\" and \\\\ may be escaped, and no control characters", ctx);
		}
		buf[n++] = sc->s[sc->i];
	}
	if (sc->i >= sc->len) {
		free(buf);
		return scan_err(S, sc, "unterminated string", ctx);
	}
	sc->i++;
	r = push(arr, new_str(buf, n, start));
	free(buf);
	return r;
}

/* '["a", "b"]' (a trailing comma is allowed, as in TOML). */
static int scan_array(struct seeds *S, struct scan *sc, const char *ctx, struct toml_value *arr)
{
	int r;

	sc->i++;
	for (;;) {
		skip_ws(sc);
		if (sc->i < sc->len && sc->s[sc->i] == ']')
			break;
		if (sc->i >= sc->len || sc->s[sc->i] != '"')
			return scan_err(S, sc, "expected a double-quoted string or ']'", ctx);
		r = scan_item(S, sc, ctx, arr);
		if (r < 0)
			return r;
		skip_ws(sc);
		if (sc->i < sc->len && sc->s[sc->i] == ',')
			sc->i++;
		else if (sc->i >= sc->len || sc->s[sc->i] != ']')
			return scan_err(S, sc, "expected ',' or ']'", ctx);
	}
	sc->i++;
	return 0;
}

/* "Name" or "Name([...])", strictly: no space around the name. */
static int variant_from_string(struct seeds *S, const struct toml_value *v, const char *ctx, struct variant *var)
{
	struct scan sc = { .v = v, .s = v->u.str.ptr, .len = v->u.str.len };
	int r;

	while (sc.i < sc.len && ((sc.s[sc.i] >= 'A' && sc.s[sc.i] <= 'Z') || (sc.s[sc.i] >= 'a' && sc.s[sc.i] <= 'z')))
		sc.i++;
	if (sc.i == 0)
		return scan_err(S, &sc, "expected a variant name", ctx);
	if (sc.i >= sizeof(var->name)) {
		sc.i = 0;
		return scan_err(S, &sc, "variant name too long", ctx);
	}
	memcpy(var->name, sc.s, sc.i);
	var->name[sc.i] = '\0';
	var->pos = pos_in(v, sc.s, 0);
	if (sc.i == sc.len)
		return 0;
	if (sc.s[sc.i] != '(')
		return scan_err(S, &sc, "expected '(' after the variant name", ctx);
	sc.i++;
	skip_ws(&sc);
	if (sc.i >= sc.len || sc.s[sc.i] != '[')
		return scan_err(S, &sc, "expected '['", ctx);
	var->args = node(TOML_ARRAY, pos_in(v, sc.s, sc.i));
	if (!var->args)
		return -ENOMEM;
	r = scan_array(S, &sc, ctx, var->args);
	if (r < 0)
		return r;
	skip_ws(&sc);
	if (sc.i >= sc.len || sc.s[sc.i] != ')')
		return scan_err(S, &sc, "expected ')'", ctx);
	sc.i++;
	if (sc.i != sc.len)
		return scan_err(S, &sc, "unexpected text after ')'", ctx);
	return 0;
}

/* { Name = ["a", "b"] }: serde's TOML form of a variant with data. */
static int variant_from_table(struct seeds *S, const struct toml_value *v, const char *ctx, struct variant *var)
{
	const struct toml_kv *kv = v->u.tab.n == 1 ? &v->u.tab.kvs[0] : NULL;
	const struct toml_value *a;
	int r;

	if (!kv)
		return fail(S, &v->pos, "%s: a table must hold exactly one variant, not %zu",
				 ctx, v->u.tab.n);
	/* Escaped and cut short: it only appears in messages when unknown. */
	sbx_printable(kv->key, kv->key_len, var->name, sizeof(var->name));
	var->pos = kv->key_pos;
	a = kv->val;
	if (a->type != TOML_ARRAY)
		return fail(S, &a->pos, "%s: '%s' must be an array of strings, not %s %s", ctx,
				 var->name, article(toml_type_name(a->type)), toml_type_name(a->type));
	var->args = node(TOML_ARRAY, a->pos);
	if (!var->args)
		return -ENOMEM;
	for (size_t i = 0; i < a->u.arr.n; i++) {
		const struct toml_value *it = a->u.arr.items[i];

		if (it->type != TOML_STRING)
			return fail(S, &it->pos, "%s: '%s' must hold strings, not %s %s", ctx,
					 var->name, article(toml_type_name(it->type)),
					 toml_type_name(it->type));
		r = push(var->args, new_str(it->u.str.ptr, it->u.str.len, it->pos));
		if (r < 0)
			return r;
	}
	return 0;
}

/* Reads kv's value as a variant; -EINVAL after a diagnostic. */
static int get_variant(struct seeds *S, const struct toml_kv *kv, struct variant *var)
{
	const struct toml_value *v = kv->val;

	*var = (struct variant){ 0 };
	if (v->type == TOML_STRING)
		return variant_from_string(S, v, kv->key, var);
	if (v->type == TOML_TABLE)
		return variant_from_table(S, v, kv->key, var);
	return fail(S, &v->pos, "'%s' must be a string or a table, not %s %s", kv->key,
			 article(toml_type_name(v->type)), toml_type_name(v->type));
}

/* Index of var in names, or -EINVAL after a diagnostic listing them; unit
 * tells which names take no list. */
static int pick_variant(struct seeds *S, const char *key, const struct variant *var, const char *const *names,
			const bool *unit, const char *expected)
{
	const char *hint;
	int i;

	for (i = 0; names[i]; i++)
		if (strcmp(var->name, names[i]) == 0)
			break;
	if (!names[i]) {
		hint = sbx_suggest(var->name, names);
		return fail(S, &var->pos, "unknown %s variant '%s'%s%s%s (expected %s)", key,
				 var->name, hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "",
				 expected);
	}
	if (unit[i] && var->args)
		return fail(S, &var->pos, "%s: '%s' takes no list (write \"%s\")", key,
				 names[i], names[i]);
	if (!unit[i] && !var->args)
		return fail(S, &var->pos, "%s: '%s' needs a list: { %s = [...] }", key,
				 names[i], names[i]);
	return i;
}

/* ---- the keys of one capability ---------------------------------------- */

/* memory_limit_mb = N (MiB) and timeout_seconds = N: integers from 1 to max. */
static int get_count(struct seeds *S, const struct toml_kv *kv, uint64_t max, int64_t *ret)
{
	const struct toml_value *v = kv->val;

	if (v->type != TOML_INTEGER)
		return fail(S, &v->pos, "'%s' must be an integer, not %s %s", kv->key,
				 article(toml_type_name(v->type)), toml_type_name(v->type));
	if (v->u.integer < 1 || (uint64_t)v->u.integer > max)
		return fail(S, &v->pos, "%s %lld out of range (1 to %llu; leave the key out "
				 "for no limit)", kv->key, (long long)v->u.integer,
				 (unsigned long long)max);
	*ret = v->u.integer;
	return 0;
}

static int h_memory(struct seeds *S, const struct toml_kv *kv, struct toml_value *prof)
{
	int64_t mb;
	int r = get_count(S, kv, MEMORY_MB_MAX, &mb);

	return r < 0 ? r : put(prof, "memory", 6, kv->key_pos, new_int(mb << 20, kv->val->pos));
}

static int h_timeout(struct seeds *S, const struct toml_kv *kv, struct toml_value *prof)
{
	int64_t s;
	int r = get_count(S, kv, TIMEOUT_S_MAX, &s);

	return r < 0 ? r : put(prof, "timeout", 7, kv->key_pos, new_int(s, kv->val->pos));
}

/* "Denied" -> mode none; { AllowList = [...] } -> mode allow with those
 * entries, each read by the native entry parser. */
static int h_network(struct seeds *S, const struct toml_kv *kv, struct toml_value *prof)
{
	static const char *const names[] = { "Denied", "AllowList", NULL };
	static const bool unit[] = { true, false };
	struct toml_value *net = NULL;
	struct variant var;
	int i, r;

	r = get_variant(S, kv, &var);
	i = r < 0 ? r : pick_variant(S, kv->key, &var, names, unit, "\"Denied\" or { AllowList = [...] }");
	if (i >= 0 && !(net = node(TOML_TABLE, kv->val->pos)))
		i = -ENOMEM;
	if (i >= 0)
		i = put_str(net, "mode", var.pos, i == 0 ? "none" : "allow");
	if (i >= 0 && var.args) {
		i = put(net, "allow", 5, var.pos, var.args);
		var.args = NULL;
	}
	toml_free(var.args);
	if (i < 0) {
		toml_free(net);
		return i;
	}
	return put(prof, "network", 7, kv->key_pos, net);
}

/* One path of ReadOnly/ReadWrite: a directory rule covering its subtree
 * (the seeds' paths are prefixes), checked by the native path rules. */
static int fs_rule(struct seeds *S, const struct toml_value *path, const char *access, struct toml_value *rules)
{
	const char *s = path->u.str.ptr;
	size_t len = path->u.str.len;
	struct toml_value *rule;
	char err[320], *dir;
	int r;

	if (strlen(s) != len || sbx_check_path(s, SBX_MAX_PATH_LEN, true, err, sizeof(err)) < 0)
		return fail(S, &path->pos, "fs_policy: %s",
				 strlen(s) != len ? "a path must not contain NUL" : err);
	if (asprintf(&dir, "%s%s", s, s[len - 1] == '/' ? "" : "/") < 0)
		return -ENOMEM;
	rule = node(TOML_TABLE, path->pos);
	r = rule ? put_str(rule, "path", path->pos, dir) : -ENOMEM;
	if (r == 0)
		r = put_str(rule, "access", path->pos, access);
	free(dir);
	if (r < 0) {
		toml_free(rule);
		return r;
	}
	return push(rules, rule);
}

/* "None" -> mode none; ReadOnly/ReadWrite(paths) -> mode none (the base
 * view a program needs) with an r or rw rule on each path: the seeds mean
 * "these paths and nothing else", which mode read-only (the whole host
 * tree) would not say. */
static int h_fs(struct seeds *S, const struct toml_kv *kv, struct toml_value *prof)
{
	static const char *const names[] = { "None", "ReadOnly", "ReadWrite", NULL };
	static const bool unit[] = { true, false, false };
	struct toml_value *fs = NULL, *rules = NULL;
	struct variant var;
	int i, r;

	r = get_variant(S, kv, &var);
	i = r < 0 ? r : pick_variant(S, kv->key, &var, names, unit,
				     "\"None\", { ReadOnly = [...] } or { ReadWrite = [...] }");
	if (i >= 0 && !(fs = node(TOML_TABLE, kv->val->pos)))
		i = -ENOMEM;
	if (i >= 0)
		r = put_str(fs, "mode", var.pos, "none");
	if (i > 0 && r == 0 && !(rules = node(TOML_ARRAY, var.args->pos)))
		r = -ENOMEM;
	for (size_t k = 0; i > 0 && r == 0 && k < var.args->u.arr.n; k++)
		r = fs_rule(S, var.args->u.arr.items[k], i == 1 ? "r" : "rw", rules);
	if (rules && r == 0) {
		r = put(fs, "rules", 5, var.pos, rules);
		rules = NULL;
	}
	toml_free(rules);
	toml_free(var.args);
	if (i < 0 || r < 0) {
		toml_free(fs);
		return i < 0 ? i : r;
	}
	return put(prof, "fs", 2, kv->key_pos, fs);
}

static int cap_unknown_key(struct seeds *S, const struct toml_kv *kv, const char *cap)
{
	const char *hint = strlen(kv->key) == kv->key_len ? sbx_suggest(kv->key, cap_keys) : NULL;
	char q[128];

	sbx_printable(kv->key, kv->key_len, q, sizeof(q));
	if (hint)
		return pctx_diag(S->c, S->file, &kv->key_pos,
				 "unknown key '%s' in [capability_configs.\"%s\"] (did you mean '%s'?)", q, cap, hint);
	return pctx_diag(S->c, S->file, &kv->key_pos,
			 "unknown key '%s' in [capability_configs.\"%s\"] (expected memory_limit_mb, "
			 "timeout_seconds, network_policy, fs_policy)", q, cap);
}

/* [capability_configs."NAME"] -> [profile."NAME"]; a key with an error is
 * left out, the others are still translated and validated. */
static int translate_cap(struct seeds *S, const struct toml_kv *ckv, struct toml_value *profiles)
{
	struct toml_value *prof;
	char q[128];
	int r = 0;

	if (ckv->val->type != TOML_TABLE)
		return pctx_diag(S->c, S->file, &ckv->val->pos, "capability '%s' must be a table, not %s %s",
				 sbx_printable(ckv->key, ckv->key_len, q, sizeof(q)),
				 article(toml_type_name(ckv->val->type)), toml_type_name(ckv->val->type));
	prof = node(TOML_TABLE, ckv->val->pos);
	if (!prof)
		return -ENOMEM;
	if (S->provider)
		r = put_str(prof, "provider", S->provider->val->pos, S->provider->val->u.str.ptr);
	for (size_t i = 0; i < ckv->val->u.tab.n && r != -ENOMEM; i++) {
		const struct toml_kv *kv = &ckv->val->u.tab.kvs[i];

		if (key_is(kv, "memory_limit_mb"))
			r = h_memory(S, kv, prof);
		else if (key_is(kv, "timeout_seconds"))
			r = h_timeout(S, kv, prof);
		else if (key_is(kv, "network_policy"))
			r = h_network(S, kv, prof);
		else if (key_is(kv, "fs_policy"))
			r = h_fs(S, kv, prof);
		else
			r = cap_unknown_key(S, kv, sbx_printable(ckv->key, ckv->key_len, q, sizeof(q)));
	}
	if (r == -ENOMEM) {
		toml_free(prof);
		return r;
	}
	return put(profiles, ckv->key, ckv->key_len, ckv->key_pos, prof);
}

/* default_provider is checked once, by the native provider key's own
 * validator, rather than once per capability. */
static int check_provider(struct seeds *S, const struct toml_kv *kv)
{
	const struct toml_value *v = kv->val;
	struct sbx_profile scratch;
	size_t before_n = S->c->n;
	struct toml_value *tab;
	int r;

	if (v->type != TOML_STRING)
		return pctx_diag(S->c, S->file, &v->pos, "'default_provider' must be a string, not %s %s",
				 article(toml_type_name(v->type)), toml_type_name(v->type));
	tab = node(TOML_TABLE, kv->key_pos);
	if (!tab)
		return -ENOMEM;
	r = put(tab, "provider", 8, kv->key_pos, new_str(v->u.str.ptr, v->u.str.len, v->pos));
	if (r == 0) {
		sbx_profile_init(&scratch);
		r = sbx_profile_apply(S->c, &scratch, tab, S->file, "the top level");
		sbx_profile_clear(&scratch);
	}
	toml_free(tab);
	if (r == 0 && S->c->n == before_n)
		S->provider = kv;
	return r;
}

static int translate_caps(struct seeds *S, const struct toml_kv *kv, struct toml_value *profiles)
{
	int r = 0;

	if (kv->val->type != TOML_TABLE)
		return pctx_diag(S->c, S->file, &kv->val->pos, "'capability_configs' must be a table, not %s %s",
				 article(toml_type_name(kv->val->type)), toml_type_name(kv->val->type));
	if (kv->val->u.tab.n == 0)
		return pctx_diag(S->c, S->file, &kv->key_pos,
				 "no capabilities defined (add a [capability_configs.\"NAME\"] table)");
	for (size_t i = 0; i < kv->val->u.tab.n && r != -ENOMEM; i++)
		r = translate_cap(S, &kv->val->u.tab.kvs[i], profiles);
	return r == -ENOMEM ? r : 0;
}

static int top_unknown_key(struct seeds *S, const struct toml_kv *kv)
{
	const char *hint = strlen(kv->key) == kv->key_len ? sbx_suggest(kv->key, seeds_keys) : NULL;
	char q[128];

	sbx_printable(kv->key, kv->key_len, q, sizeof(q));
	return pctx_diag(S->c, S->file, &kv->key_pos, "unknown key '%s' in the top level of a seeds' dialect "
			 "file%s%s%s", q, hint ? " (did you mean '" : " (expected default_provider, "
			 "capability_configs", hint ? hint : "", hint ? "'?)" : ")");
}

int sbx_seeds_translate(struct pctx *c, const char *file, const struct toml_value *root,
			struct toml_value **ret)
{
	struct seeds S = { .c = c, .file = file };
	const struct toml_kv *prov = toml_get_kv(root, "default_provider");
	const struct toml_kv *caps = toml_get_kv(root, "capability_configs");
	struct toml_value *native = node(TOML_TABLE, root->pos);
	struct toml_value *profiles = node(TOML_TABLE, root->pos);
	int r = native && profiles ? 0 : -ENOMEM;

	if (r == 0 && prov)
		r = check_provider(&S, prov);
	for (size_t i = 0; i < root->u.tab.n && r == 0; i++)
		if (!key_in(&root->u.tab.kvs[i], seeds_keys))
			r = top_unknown_key(&S, &root->u.tab.kvs[i]);
	if (r == 0 && caps)
		r = translate_caps(&S, caps, profiles);
	else if (r == 0)
		r = pctx_diag(c, file, NULL, "no capabilities defined (add a [capability_configs.\"NAME\"] table)");
	if (r == 0) {
		r = put(native, "profile", 7, caps ? caps->key_pos : root->pos, profiles);
		profiles = NULL;
	}
	toml_free(profiles);
	if (r < 0) {
		toml_free(native);
		return r;
	}
	*ret = native;
	return 0;
}
