/* SPDX-License-Identifier: MIT */
/*
 * Applying one TOML table to a profile. Each key has a handler in a table
 * ({name, accepted types, handler}); the generic code reports unknown keys
 * (with a suggestion) and wrong types, the handler checks the value and
 * replaces the field. The sub-tables env, network, fs, seccomp and the
 * provider tables (mock, gvisor, wasm, microvm) go through the same
 * machinery, which is what makes them merge key by key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy-internal.h"

#define T(x) (1u << (x))
#define STR_OR_INT (T(TOML_STRING) | T(TOML_INTEGER))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define TIMEOUT_MAX_MS (31ull * 86400 * 1000)	/* a month: longer is a mistake */
#define MEMORY_MIN (1ull << 20)			/* less cannot even exec a shell */
#define MEMORY_MAX (64ull << 40)
#define PIDS_MAX 4194304			/* PID_MAX_LIMIT */
#define NOFILE_MAX 1048576			/* the kernel's default nr_open */
#define ENV_VALUE_MAX (128u * 1024)		/* MAX_ARG_STRLEN */
#define ID_MAX 4294967294ll			/* (uid_t)-1 means "no change" */
#define DISK_MIN (1ull << 20)
#define DISK_MAX (16ull << 40)
#define FSIZE_MAX ((1ull << 63) - 1)		/* MAX_LFS_FILESIZE: the largest file */
#define SYSCALL_NAME_MAX 64
#define HOST_PATH_MAX 4096			/* PATH_MAX: cwd and the providers' paths */
#define MOCK_OUTPUT_MAX (1u << 20)		/* mock stdout, stderr: 1 MiB each */

struct layer {
	struct pctx *c;
	const char *file;
	const char *where;	/* "profile 'x'", "[defaults]", ... */
};

typedef int (*key_fn)(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv);

struct key_handler {
	const char *name;
	unsigned types;		/* T(TOML_*) bits */
	key_fn fn;
};

/* Reports a problem; returns -EINVAL (reported) or -ENOMEM. */
__attribute__((format(printf, 3, 4)))
static int ldiag(const struct layer *l, const struct toml_pos *pos, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = pctx_vdiag(l->c, l->file, pos, fmt, ap);
	va_end(ap);
	return r < 0 ? r : -EINVAL;
}

static struct sbx_srcpos srcpos(const struct layer *l, const struct toml_value *v)
{
	return (struct sbx_srcpos){ .file = l->file, .line = v->pos.line, .col = v->pos.col };
}

static const char *article(const char *noun)
{
	return strchr("aeiou", noun[0]) ? "an" : "a";
}

/* "a string or an integer" from a T() mask, scalars first. */
static const char *describe_types(unsigned types, char *buf, size_t len)
{
	static const enum toml_type order[] = { TOML_STRING, TOML_INTEGER, TOML_FLOAT, TOML_BOOL,
						TOML_ARRAY, TOML_TABLE };
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && o < len; i++) {
		const char *name;

		if (!(types & T(order[i])))
			continue;
		name = toml_type_name(order[i]);
		types &= ~T(order[i]);
		o += (size_t)snprintf(buf + o, len - o, "%s%s %s", !o ? "" : types ? ", " : " or ",
				      article(name), name);
	}
	return buf;
}

static int wrong_type(const struct layer *l, const char *what, const struct toml_value *v, unsigned types)
{
	char want[96];
	const char *got = toml_type_name(v->type);

	return ldiag(l, &v->pos, "%s must be %s, not %s %s", what, describe_types(types, want, sizeof(want)),
		     article(got), got);
}

/* Strings with an embedded NUL would be cut short silently further on. */
static int get_str(const struct layer *l, const struct toml_value *v, const char *what, const char **ret)
{
	if (v->type != TOML_STRING)
		return wrong_type(l, what, v, T(TOML_STRING));
	if (strlen(v->u.str.ptr) != v->u.str.len)
		return ldiag(l, &v->pos, "%s contains a NUL character", what);
	*ret = v->u.str.ptr;
	return 0;
}

static bool key_is(const struct toml_kv *kv, const char *name)
{
	return kv->key_len == strlen(name) && memcmp(kv->key, name, kv->key_len) == 0;
}

static int unknown_key(const struct layer *l, const struct toml_kv *kv, const struct key_handler *h, size_t n)
{
	const char *cands[64], *s;	/* more than the keys of any table */
	char q[128];
	size_t i;

	for (i = 0; i < n && i + 1 < ARRAY_SIZE(cands); i++)
		cands[i] = h[i].name;
	cands[i] = NULL;
	sbx_printable(kv->key, kv->key_len, q, sizeof(q));
	s = kv->key_len == strlen(kv->key) ? sbx_suggest(kv->key, cands) : NULL;
	if (s)
		return ldiag(l, &kv->key_pos, "unknown key '%s' in %s (did you mean '%s'?)", q, l->where, s);
	if (kv->val->type == TOML_TABLE)
		return ldiag(l, &kv->key_pos,
			     "unknown key '%s' in %s (profile names that contain dots must be quoted: "
			     "[profile.\"a.b\"])", q, l->where);
	return ldiag(l, &kv->key_pos, "unknown key '%s' in %s", q, l->where);
}

static int apply_table(const struct layer *l, struct sbx_profile *p, const struct toml_value *tab,
		       const struct key_handler *h, size_t n)
{
	for (size_t i = 0; i < tab->u.tab.n; i++) {
		const struct toml_kv *kv = &tab->u.tab.kvs[i];
		const struct key_handler *k = NULL;
		char what[96];
		int r;

		for (size_t j = 0; j < n && !k; j++)
			if (key_is(kv, h[j].name))
				k = &h[j];
		if (!k) {
			r = unknown_key(l, kv, h, n);
		} else if (!(k->types & T(kv->val->type))) {
			snprintf(what, sizeof(what), "'%s' in %s", k->name, l->where);
			r = wrong_type(l, what, kv->val, k->types);
		} else {
			r = k->fn(l, p, kv);
		}
		if (r == -ENOMEM)
			return r;
	}
	return 0;
}

/* Index of s in names (NULL-terminated), or a diagnostic with a suggestion. */
static int lookup_name(const struct layer *l, const struct toml_value *v, const char *what,
		       const char *const *names)
{
	char list[256], q[128];
	const char *s, *hint;
	size_t o = 0;
	int r;

	r = get_str(l, v, what, &s);
	if (r < 0)
		return r;
	for (int i = 0; names[i]; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	sbx_printable(s, strlen(s), q, sizeof(q));
	hint = sbx_suggest(s, names);
	if (hint)
		return ldiag(l, &v->pos, "unknown %s '%s' (did you mean '%s'?)", what, q, hint);
	for (int i = 0; names[i] && o < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", names[i]);
	return ldiag(l, &v->pos, "unknown %s '%s' (expected one of: %s)", what, q, list);
}

static int set_str(char **field, const char *s)
{
	char *d = strdup(s);

	if (!d)
		return -ENOMEM;
	free(*field);
	*field = d;
	return 0;
}

static const char *const provider_names[] = { "auto", "process", "host", "gvisor", "microvm", "wasm",
					      "mock", "unikernel", "tee", NULL };

static int h_provider(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	int i = lookup_name(l, kv->val, "provider", provider_names);

	return i < 0 ? i : set_str(&p->provider, provider_names[i]);
}

#define ENUM_HANDLER(fn, field, type, what, ...)                                              \
	static int fn(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv) \
	{                                                                                     \
		static const char *const names[] = { __VA_ARGS__, NULL };                     \
		int i = lookup_name(l, kv->val, what, names);                                 \
		if (i >= 0)                                                                   \
			p->field = (type)i;                                                   \
		return i < 0 ? i : 0;                                                         \
	}

/* The name lists are in enum order. */
ENUM_HANDLER(h_min_isolation, min_isolation, enum sbx_isolation, "isolation level",
	     "none", "process", "gvisor", "unikernel", "microvm", "tee", "wasm")
ENUM_HANDLER(h_audit, audit, enum sbx_audit_level, "audit level", "deny", "all", "none")
ENUM_HANDLER(h_enforcement, enforcement, enum sbx_enforcement, "enforcement", "strict", "best-effort")
ENUM_HANDLER(h_net_mode, net.mode, enum sbx_net_mode, "network mode", "none", "allow", "deny", "full")
ENUM_HANDLER(h_net_namespace, net.namespace, enum sbx_netns, "network namespace", "auto", "host", "private")
ENUM_HANDLER(h_seccomp_preset, seccomp.preset, enum sbx_seccomp_preset, "seccomp preset", "default", "strict")
ENUM_HANDLER(h_seccomp_action, seccomp.action, enum sbx_seccomp_action, "seccomp action", "errno", "kill")
ENUM_HANDLER(h_fs_mode, fs.mode, enum sbx_fs_mode, "filesystem mode", "none", "read-only", "read-write",
	     "full")

/* A duration as a string ("1m30s") or an integer number of seconds, at most
 * 31 days: timeout and mock.duration. */
static int get_duration(const struct layer *l, const struct toml_kv *kv, uint64_t *ret)
{
	const struct toml_value *v = kv->val;
	char q[128], what[32];
	uint64_t ms;
	const char *s;
	int r;

	if (v->type == TOML_INTEGER) {
		if (v->u.integer < 0 || (uint64_t)v->u.integer > TIMEOUT_MAX_MS / 1000)
			return ldiag(l, &v->pos, "%s %lld out of range (0 to 31 days)", kv->key,
				     (long long)v->u.integer);
		*ret = (uint64_t)v->u.integer * 1000;
		return 0;
	}
	snprintf(what, sizeof(what), "'%s'", kv->key);
	r = get_str(l, v, what, &s);
	if (r < 0)
		return r;
	if (sbx_parse_duration_ms(s, &ms) < 0)
		return ldiag(l, &v->pos,
			     "invalid duration '%s' for '%s' (expected e.g. \"30s\", \"1m30s\", "
			     "\"250ms\", \"2h\")", sbx_printable(s, strlen(s), q, sizeof(q)), kv->key);
	if (ms > TIMEOUT_MAX_MS)
		return ldiag(l, &v->pos, "%s '%s' out of range (0 to 31 days)", kv->key, s);
	*ret = ms;
	return 0;
}

static int h_timeout(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return get_duration(l, kv, &p->timeout_ms);
}

/* A size as a string ("64M") or an integer number of bytes. */
static int get_size(const struct layer *l, const struct toml_kv *kv, uint64_t *ret)
{
	const struct toml_value *v = kv->val;
	const char *s;
	char q[128];
	int r;

	if (v->type == TOML_INTEGER) {
		if (v->u.integer < 0)
			return ldiag(l, &v->pos, "'%s' must not be negative", kv->key);
		*ret = (uint64_t)v->u.integer;
		return 0;
	}
	r = get_str(l, v, kv->key, &s);
	if (r < 0)
		return r;
	if (sbx_parse_size(s, ret) < 0)
		return ldiag(l, &v->pos,
			     "invalid size '%s' for '%s' (expected e.g. \"512K\", \"64M\", \"1G\", \"2GiB\" "
			     "or bytes; K/M/G/T are 1024-based)", sbx_printable(s, strlen(s), q, sizeof(q)),
			     kv->key);
	return 0;
}

static int h_memory(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	uint64_t v;
	int r = get_size(l, kv, &v);

	if (r < 0)
		return r;
	if (v != 0 && (v < MEMORY_MIN || v > MEMORY_MAX))
		return ldiag(l, &kv->val->pos, "memory must be 0 (unlimited) or between 1M and 64T");
	p->memory_bytes = v;
	return 0;
}

static int h_net_bytes(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	uint64_t v;
	int r = get_size(l, kv, &v);

	if (r == 0)
		p->net_bytes = v;
	return r;
}

/* A rate as a string ("10Mbit") or an integer number of bits per second. */
static int get_rate(const struct layer *l, const struct toml_kv *kv, uint64_t *ret)
{
	const struct toml_value *v = kv->val;
	const char *s;
	char q[128];
	uint64_t bps;
	int r;

	if (v->type == TOML_INTEGER) {
		if (v->u.integer < 0)
			return ldiag(l, &v->pos, "'%s' must not be negative", kv->key);
		bps = (uint64_t)v->u.integer;
	} else {
		r = get_str(l, v, kv->key, &s);
		if (r < 0)
			return r;
		if (sbx_parse_rate_bps(s, &bps) < 0)
			return ldiag(l, &v->pos,
				     "invalid rate '%s' for '%s' (expected bits per second, e.g. "
				     "\"512kbit\", \"10Mbit\", \"1Gbit\"; k/M/G are 1000-based)",
				     sbx_printable(s, strlen(s), q, sizeof(q)), kv->key);
	}
	if (bps != 0 && (bps < SBX_RATE_MIN_BPS || bps > SBX_RATE_MAX_BPS))
		return ldiag(l, &v->pos, "%s must be 0 (no rate) or between 8kbit and 400Gbit",
			     kv->key);
	*ret = bps;
	return 0;
}

static int h_egress_rate(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return get_rate(l, kv, &p->egress_rate);
}

static int h_ingress_rate(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return get_rate(l, kv, &p->ingress_rate);
}

static int h_rate_burst(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	uint64_t v;
	int r = get_size(l, kv, &v);

	if (r < 0)
		return r;
	if (v > SBX_RATE_BURST_MAX)
		return ldiag(l, &kv->val->pos, "rate_burst must be at most 1G");
	p->rate_burst = v;
	return 0;
}

static int h_fsize(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	uint64_t v;
	int r = get_size(l, kv, &v);

	if (r < 0)
		return r;
	if (v > FSIZE_MAX)
		return ldiag(l, &kv->val->pos, "fsize must be 0 (inherit) or less than 8 EiB (the largest file size)");
	p->fsize = v;
	return 0;
}

static int h_cpus(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	const char *s;
	char q[128];
	int r = get_str(l, kv->val, "'cpus'", &s);

	if (r < 0)
		return r;
	if (!s[0]) {
		memset(p->cpus, 0, sizeof(p->cpus));	/* "" = no pinning (clears a default) */
		return 0;
	}
	r = sbx_cpus_parse(s, p->cpus);
	if (r == -ERANGE)
		return ldiag(l, &kv->val->pos, "cpus '%s': CPU numbers go up to %d",
			     sbx_printable(s, strlen(s), q, sizeof(q)), SBX_CPUS_MAX - 1);
	if (r < 0 || strchr(s, '\n'))
		return ldiag(l, &kv->val->pos, "invalid cpus '%s' (expected a cpuset list such as "
			     "\"0-1,4\": CPU numbers and ascending ranges, separated by commas)",
			     sbx_printable(s, strlen(s), q, sizeof(q)));
	return 0;
}

static int h_cpu_weight(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	int64_t v = kv->val->u.integer;

	if (v < 0 || v > SBX_CPU_WEIGHT_MAX)
		return ldiag(l, &kv->val->pos, "cpu_weight %lld out of range (0 = the default, "
			     "or 1 to %d, as cgroup2 cpu.weight; 100 is a normal share)",
			     (long long)v, SBX_CPU_WEIGHT_MAX);
	p->cpu_weight = (uint32_t)v;
	return 0;
}

static int h_disk(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	uint64_t v;
	int r = get_size(l, kv, &v);

	if (r < 0)
		return r;
	if (v != 0 && (v < DISK_MIN || v > DISK_MAX))
		return ldiag(l, &kv->val->pos, "disk must be 0 (no bound) or between 1M and 16T");
	p->disk_bytes = v;
	return 0;
}

static int cpu_from_float(const struct layer *l, const struct toml_value *v, uint32_t *ret)
{
	double m = v->u.fp * 1000.0, rounded;

	if (!(v->u.fp >= 0.0 && v->u.fp <= 1024.0))
		return ldiag(l, &v->pos, "cpu must be 0 (unlimited) or between 0.001 and 1024 CPUs");
	rounded = (double)(uint64_t)(m + 0.5);
	if (m - rounded > 1e-6 || rounded - m > 1e-6 || (rounded == 0.0 && m > 0.0))
		return ldiag(l, &v->pos, "cpu %g is finer than 0.001 CPU", v->u.fp);
	*ret = (uint32_t)rounded;
	return 0;
}

static int h_cpu(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	const struct toml_value *v = kv->val;
	uint32_t milli;
	const char *s;
	char q[128];
	int r = 0;

	if (v->type == TOML_FLOAT) {
		r = cpu_from_float(l, v, &milli);
	} else if (v->type == TOML_INTEGER) {
		if (v->u.integer < 0 || v->u.integer > 1024)
			r = ldiag(l, &v->pos, "cpu must be 0 (unlimited) or between 0.001 and 1024 CPUs");
		else
			milli = (uint32_t)v->u.integer * 1000;
	} else {
		r = get_str(l, v, "'cpu'", &s);
		if (r == 0 && sbx_parse_cpu_milli(s, &milli) < 0)
			r = ldiag(l, &v->pos,
				  "invalid cpu '%s' (expected a number of CPUs from 0.001 to 1024, "
				  "e.g. \"0.5\", or millicores like \"500m\")",
				  sbx_printable(s, strlen(s), q, sizeof(q)));
	}
	if (r == 0)
		p->cpu_milli = milli;
	return r;
}

static int get_uint(const struct layer *l, const struct toml_kv *kv, int64_t max, const char *zero,
		    uint32_t *ret)
{
	int64_t v = kv->val->u.integer;

	if (v < 0 || v > max)
		return ldiag(l, &kv->val->pos, "%s %lld out of range (0 %s, or 1 to %lld)", kv->key,
			     (long long)v, zero, (long long)max);
	*ret = (uint32_t)v;
	return 0;
}

static int h_pids(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return get_uint(l, kv, PIDS_MAX, "= unlimited", &p->pids);
}

static int h_nofile(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return get_uint(l, kv, NOFILE_MAX, "= inherit", &p->nofile);
}

/* audit_rate and friends: 1 or more, no "unlimited" (the log on disk and the
 * rings are bounded by them). */
static int get_audit_limit(const struct layer *l, const struct toml_kv *kv, int64_t max, uint32_t *ret)
{
	int64_t v = kv->val->u.integer;

	if (v < 1 || v > max)
		return ldiag(l, &kv->val->pos, "%s %lld out of range (1 to %lld events%s)", kv->key,
			     (long long)v, (long long)max, strstr(kv->key, "rate") ? " per second" : "");
	*ret = (uint32_t)v;
	return 0;
}

static int h_audit_rate(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return get_audit_limit(l, kv, SBX_AUDIT_RATE_MAX, &p->audit_rate);
}

static int h_audit_burst(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return get_audit_limit(l, kv, SBX_AUDIT_BURST_MAX, &p->audit_burst);
}

static int h_audit_deny_rate(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return get_audit_limit(l, kv, SBX_AUDIT_RATE_MAX, &p->audit_deny_rate);
}

static int h_audit_deny_burst(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return get_audit_limit(l, kv, SBX_AUDIT_BURST_MAX, &p->audit_deny_burst);
}

static bool valid_env_name(const char *s, size_t len)
{
	if (len == 0 || len > 255 || strlen(s) != len || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static int set_env_var(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv,
		       const char *value)
{
	struct sbx_env_var *n;
	char *name, *val;

	for (size_t i = 0; i < p->n_env; i++)
		if (strcmp(p->env[i].name, kv->key) == 0)
			return set_str(&p->env[i].value, value);
	if (p->n_env >= SBX_MAX_ENV)
		return ldiag(l, &kv->key_pos, "too many environment variables (the limit is %d)", SBX_MAX_ENV);
	n = realloc(p->env, (p->n_env + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->env = n;
	name = strdup(kv->key);
	val = strdup(value);
	if (!name || !val) {
		free(name);
		free(val);
		return -ENOMEM;
	}
	p->env[p->n_env++] = (struct sbx_env_var){ .name = name, .value = val };
	return 0;
}

/* env is a table, so overlays add and replace variables one by one. */
static int h_env(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	const struct toml_value *tab = kv->val;
	char q[128];
	int r;

	for (size_t i = 0; i < tab->u.tab.n; i++) {
		const struct toml_kv *e = &tab->u.tab.kvs[i];
		const char *val;

		sbx_printable(e->key, e->key_len, q, sizeof(q));
		if (!valid_env_name(e->key, e->key_len)) {
			r = ldiag(l, &e->key_pos,
				  "invalid environment variable name '%s' (letters, digits and '_', "
				  "not starting with a digit)", q);
		} else {
			char what[160];

			snprintf(what, sizeof(what), "environment variable '%s'", q);
			r = get_str(l, e->val, what, &val);
			if (r == 0 && e->val->u.str.len > ENV_VALUE_MAX)
				r = ldiag(l, &e->val->pos, "%s is longer than %u bytes", what, ENV_VALUE_MAX);
			if (r == 0)
				r = set_env_var(l, p, e, val);
		}
		if (r == -ENOMEM)
			return r;
	}
	return 0;
}

static int h_cwd(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	char err[256];
	const char *s;
	int r = get_str(l, kv->val, "'cwd'", &s);

	if (r < 0)
		return r;
	if (sbx_check_path(s, HOST_PATH_MAX, false, err, sizeof(err)) < 0)
		return ldiag(l, &kv->val->pos, "cwd: %s", err);
	return set_str(&p->cwd, s);
}

/* A user or group: a POSIX-style name or a numeric id, kept as text. */
static int get_ident(const struct layer *l, const struct toml_value *v, const char *what, char **ret)
{
	char buf[24], q[128];
	const char *s;
	size_t n;
	int r;

	if (v->type == TOML_INTEGER) {
		if (v->u.integer < 0 || v->u.integer > ID_MAX)
			return ldiag(l, &v->pos, "%s id %lld out of range (0 to %lld)", what,
				     (long long)v->u.integer, ID_MAX);
		snprintf(buf, sizeof(buf), "%lld", (long long)v->u.integer);
		return set_str(ret, buf);
	}
	r = get_str(l, v, what, &s);
	if (r < 0)
		return r;
	n = strlen(s);
	sbx_printable(s, n, q, sizeof(q));
	if (n > 0 && n <= 10 && strspn(s, "0123456789") == n) {
		if (strtoll(s, NULL, 10) > ID_MAX)
			return ldiag(l, &v->pos, "%s id %s out of range (0 to %lld)", what, q, ID_MAX);
		return set_str(ret, s);
	}
	if (n == 0 || n > 32 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_') ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") <
		    n - (s[n - 1] == '$'))
		return ldiag(l, &v->pos, "invalid %s name '%s' (expected a name like 'nobody' or a numeric id)",
			     what, q);
	return set_str(ret, s);
}

static int h_user(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return get_ident(l, kv->val, "user", &p->user);
}

static int h_group(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return get_ident(l, kv->val, "group", &p->group);
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int get_ident_list(const struct layer *l, const struct toml_kv *kv, const char *what,
			  char ***ret, size_t *ret_n)
{
	const struct toml_value *arr = kv->val;
	size_t n = arr->u.arr.n;
	char **v;
	int r = 0, bad = 0;

	if (n > SBX_MAX_PROFILES)
		return ldiag(l, &arr->pos, "too many entries in '%s' (the limit is %d)", kv->key,
			     SBX_MAX_PROFILES);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n && r != -ENOMEM; i++) {
		r = get_ident(l, arr->u.arr.items[i], what, &v[i]);
		bad |= r < 0;
	}
	if (bad) {
		free_strv(v, n);
		return r == -ENOMEM ? r : -EINVAL;
	}
	free_strv(*ret, *ret_n);
	*ret = v;
	*ret_n = n;
	return 0;
}

static int h_allow_users(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return get_ident_list(l, kv, "user", &p->allow_users, &p->n_allow_users);
}

static int h_allow_groups(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return get_ident_list(l, kv, "group", &p->allow_groups, &p->n_allow_groups);
}

/* ---- network ----------------------------------------------------------- */

static const char *const entry_keys[] = { "to", "ports", "proto", NULL };

/* The table form { to = "2001:db8::/32", ports = "80-443", proto = "tcp" }. */
static int entry_from_table(const struct layer *l, const struct toml_value *t, struct sbx_net_entry *e)
{
	const char *to = NULL, *ports = NULL, *proto = NULL;
	char pbuf[24], err[320], q[128];
	int r = 0;

	for (size_t i = 0; i < t->u.tab.n && r != -ENOMEM; i++) {
		const struct toml_kv *kv = &t->u.tab.kvs[i];
		const char *hint;

		if (key_is(kv, "to"))
			r = get_str(l, kv->val, "'to'", &to);
		else if (key_is(kv, "proto"))
			r = get_str(l, kv->val, "'proto'", &proto);
		else if (key_is(kv, "ports") && kv->val->type == TOML_INTEGER) {
			snprintf(pbuf, sizeof(pbuf), "%lld", (long long)kv->val->u.integer);
			ports = pbuf;
		}
		else if (key_is(kv, "ports"))
			r = get_str(l, kv->val, "'ports'", &ports);
		else {
			hint = sbx_suggest(kv->key, entry_keys);	/* only for a key in error */
			r = ldiag(l, &kv->key_pos, "unknown key '%s' in a network entry%s%s%s",
				  sbx_printable(kv->key, kv->key_len, q, sizeof(q)),
				  hint ? " (did you mean '" : " (expected to, ports, proto", hint ? hint : "",
				  hint ? "'?)" : ")");
		}
	}
	if (r < 0)
		return r;
	if (!to)
		return ldiag(l, &t->pos, "network entry table is missing 'to'");
	if (sbx_net_entry_from_parts(to, ports, proto, e, err, sizeof(err)) < 0)
		return ldiag(l, &t->pos, "%s", err);
	return 0;
}

static int parse_entry_item(const struct layer *l, const struct toml_value *v, bool deny,
			    struct sbx_net_entry *e)
{
	char err[320];
	const char *s;
	int r;

	if (v->type == TOML_TABLE) {
		r = entry_from_table(l, v, e);
	} else {
		if (v->type != TOML_STRING)
			return wrong_type(l, "a network entry", v, T(TOML_STRING) | T(TOML_TABLE));
		r = get_str(l, v, "a network entry", &s);
		if (r == 0) {
			r = sbx_parse_net_entry(s, e, err, sizeof(err));
			if (r == -EINVAL)
				return ldiag(l, &v->pos, "%s", err);
		}
	}
	if (r == 0) {
		e->deny = deny;
		e->pos = srcpos(l, v);
	}
	return r;
}

static void free_entries(struct sbx_net_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sbx_net_entry_clear(&v[i]);
	free(v);
}

/* Replaces the entries of one list (allow or deny), keeping the other list. */
static int replace_entries(struct sbx_profile *p, struct sbx_net_entry *v, size_t n, bool deny)
{
	struct sbx_net_entry *all;
	size_t m = 0;

	all = calloc(p->net.n_entries + n + 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < p->net.n_entries; i++) {
		if (p->net.entries[i].deny == deny)
			sbx_net_entry_clear(&p->net.entries[i]);
		else
			all[m++] = p->net.entries[i];
	}
	memcpy(all + m, v, n * sizeof(*v));
	free(p->net.entries);
	p->net.entries = all;
	p->net.n_entries = m + n;
	return 0;
}

static int set_entries(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv, bool deny)
{
	const struct toml_value *arr = kv->val;
	size_t n = arr->u.arr.n, m = 0;
	struct sbx_net_entry *v;
	int r = 0, bad = 0;

	if (n > SBX_MAX_NET_RULES)
		return ldiag(l, &arr->pos, "too many entries in '%s' (%zu; the limit is %d)", kv->key, n,
			     SBX_MAX_NET_RULES);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n && r != -ENOMEM; i++) {
		r = parse_entry_item(l, arr->u.arr.items[i], deny, &v[m]);
		if (r == 0)
			m++;
		bad |= r < 0;
	}
	if (!bad)
		r = replace_entries(p, v, m, deny);
	if (bad || r < 0) {
		free_entries(v, m);
		return r;
	}
	free(v);
	return 0;
}

static int h_allow(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return set_entries(l, p, kv, false);
}

static int h_deny(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return set_entries(l, p, kv, true);
}

static int parse_listen_item(const struct layer *l, const struct toml_value *v, struct sbx_port_range *pr)
{
	char err[256], buf[24];
	const char *s = buf;
	int r;

	if (v->type == TOML_INTEGER) {
		if (v->u.integer < 1 || v->u.integer > 65535)
			return ldiag(l, &v->pos, "port %lld out of range (1-65535)", (long long)v->u.integer);
		snprintf(buf, sizeof(buf), "%lld", (long long)v->u.integer);
	} else {
		if (v->type != TOML_STRING)
			return wrong_type(l, "a listen port", v, T(TOML_STRING) | T(TOML_INTEGER));
		r = get_str(l, v, "a listen port", &s);
		if (r < 0)
			return r;
	}
	if (sbx_parse_port_range(s, pr, err, sizeof(err)) < 0)
		return ldiag(l, &v->pos, "%s", err);
	pr->pos = srcpos(l, v);
	return 0;
}

static int h_listen(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	const struct toml_value *arr = kv->val;
	size_t n = arr->u.arr.n;
	struct sbx_port_range *v;
	int r = 0, bad = 0;

	if (n > SBX_MAX_LISTEN)
		return ldiag(l, &arr->pos, "too many entries in 'listen' (%zu; the limit is %d)", n,
			     SBX_MAX_LISTEN);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n && r != -ENOMEM; i++) {
		r = parse_listen_item(l, arr->u.arr.items[i], &v[i]);
		bad |= r < 0;
	}
	if (bad) {
		free(v);
		return r == -ENOMEM ? r : -EINVAL;
	}
	free(p->net.listen);
	p->net.listen = v;
	p->net.n_listen = n;
	return 0;
}

static int h_raw_sockets(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	(void)l;
	p->net.raw_sockets = kv->val->u.boolean;
	return 0;
}

static int family_item(const struct layer *l, const struct toml_value *v, uint64_t *mask)
{
	const char *s;
	int af, r = get_str(l, v, "a socket family", &s);

	if (r < 0)
		return r;
	if (!strcmp(s, "unix") || !strcmp(s, "inet") || !strcmp(s, "inet6"))
		return ldiag(l, &v->pos, "socket family '%s' is always allowed (the network "
			     "policy judges inet and inet6): do not list it", s);
	if (!strcmp(s, "packet"))
		return ldiag(l, &v->pos, "socket family 'packet' is allowed by raw_sockets = true, "
			     "not by families");
	af = sbx_family_parse(s);
	if (af < 0)
		return ldiag(l, &v->pos, "unknown socket family '%s' (e.g. \"vsock\", \"netlink\", "
			     "\"bluetooth\", \"alg\"; see docs/policy.md)", s);
	*mask |= 1ULL << af;
	return 0;
}

/* network.families: socket families beyond the defaults, by name. */
static int h_families(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	const struct toml_value *arr = kv->val;
	uint64_t mask = 0;
	int r = 0, bad = 0;

	for (size_t i = 0; i < arr->u.arr.n; i++) {
		r = family_item(l, arr->u.arr.items[i], &mask);
		bad |= r < 0;
	}
	if (bad)
		return -EINVAL;
	p->net.families = mask;
	return 0;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

/* One network.unix entry: "*" or an absolute socket path that fits
 * sockaddr_un (the hooks compare the bytes the workload passes). */
static int unix_item(const struct layer *l, const struct toml_value *arr, size_t i, char **ret)
{
	const struct toml_value *v = arr->u.arr.items[i];
	const char *s;
	int r = get_str(l, v, "a unix socket path", &s);

	if (r < 0)
		return r;
	if (strcmp(s, "*") && (s[0] != '/' || s[strlen(s) - 1] == '/' || strstr(s, "/./") ||
			       strstr(s, "/../") || strstr(s, "//") || ends_with(s, "/.") ||
			       ends_with(s, "/..")))
		return ldiag(l, &v->pos, "unix socket '%s' must be \"*\" or an absolute, normalised "
			     "path of a socket file (no trailing '/', '.', '..' or '//')", s);
	if (strlen(s) >= SBX_UNIX_PATH_LEN)
		return ldiag(l, &v->pos, "unix socket path '%s' is longer than a socket address "
			     "holds (%d bytes)", s, SBX_UNIX_PATH_LEN - 1);
	for (size_t j = 0; j < i; j++) {
		const struct toml_value *w = arr->u.arr.items[j];

		if (w->type == TOML_STRING && strcmp(w->u.str.ptr, s) == 0)
			return ldiag(l, &v->pos, "duplicate unix socket '%s'", s);
	}
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int h_unix(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	const struct toml_value *arr = kv->val;
	size_t n = arr->u.arr.n;
	char **v;
	int r = 0, bad = 0;

	if (n > SBX_MAX_UNIX)
		return ldiag(l, &arr->pos, "too many unix sockets (%zu; the limit is %d)", n,
			     SBX_MAX_UNIX);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n && r != -ENOMEM; i++) {
		r = unix_item(l, arr, i, &v[i]);
		bad |= r < 0;
	}
	if (bad) {
		free_strv(v, n);
		return r == -ENOMEM ? r : -EINVAL;
	}
	free_strv(p->net.unix_paths, p->net.n_unix);
	p->net.unix_paths = v;
	p->net.n_unix = n;
	return 0;
}

/* An interface address of the veth pair; whether the pair makes sense (both
 * set, a private namespace, a network mode, one subnet) is a question for the
 * resolved profile: the keys may come from different layers. */
static int set_veth(const struct layer *l, const struct toml_kv *kv, char **field)
{
	char err[256], what[32];
	const char *s;
	uint32_t addr;
	uint8_t prefix;
	int r;

	snprintf(what, sizeof(what), "'%s'", kv->key);
	r = get_str(l, kv->val, what, &s);
	if (r < 0)
		return r;
	if (sbx_parse_ifaddr4(s, &addr, &prefix, err, sizeof(err)) < 0)
		return ldiag(l, &kv->val->pos, "%s: %s", kv->key, err);
	return set_str(field, s);	/* the parser only accepts the canonical form */
}

static int h_veth_host(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return set_veth(l, kv, &p->net.veth_host);
}

static int h_veth_sandbox(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return set_veth(l, kv, &p->net.veth_sandbox);
}

/* ---- network.dns ------------------------------------------------------- */

/* Marks the table as written: check.c refuses it in modes without names. */
static void dns_written(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	p->net.dns.set = true;
	p->net.dns.pos = srcpos(l, kv->val);
}

static int h_dns_upstream(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	const struct toml_value *arr = kv->val;
	struct sbx_dns_server v[SBX_DNS_UPSTREAM_MAX];
	char err[256];
	const char *s;
	int r, bad = 0;

	if (arr->u.arr.n > SBX_DNS_UPSTREAM_MAX)
		return ldiag(l, &arr->pos, "too many DNS servers in 'upstream' (%zu; at most %d)",
			     arr->u.arr.n, SBX_DNS_UPSTREAM_MAX);
	for (size_t i = 0; i < arr->u.arr.n; i++) {
		const struct toml_value *it = arr->u.arr.items[i];

		r = get_str(l, it, "a DNS server", &s);
		if (r == 0 && sbx_parse_dns_server(s, &v[i], err, sizeof(err)) < 0)
			r = ldiag(l, &it->pos, "%s", err);
		if (r == -ENOMEM)
			return r;
		if (r == 0)
			v[i].pos = srcpos(l, it);
		bad |= r < 0;
	}
	if (bad)
		return -EINVAL;
	free(p->net.dns.upstream);
	p->net.dns.upstream = NULL;
	p->net.dns.n_upstream = 0;
	if (arr->u.arr.n) {
		p->net.dns.upstream = malloc(arr->u.arr.n * sizeof(*v));
		if (!p->net.dns.upstream)
			return -ENOMEM;
		memcpy(p->net.dns.upstream, v, arr->u.arr.n * sizeof(*v));
		p->net.dns.n_upstream = arr->u.arr.n;
	}
	dns_written(l, p, kv);
	return 0;
}

/* ttl_floor and grace: whole seconds, at most a day; "0s" is allowed. */
static int get_dns_seconds(const struct layer *l, const struct toml_kv *kv, uint32_t *ret)
{
	uint64_t ms;
	int r = get_duration(l, kv, &ms);

	if (r < 0)
		return r;
	if (ms % 1000)
		return ldiag(l, &kv->val->pos, "network.dns.%s must be whole seconds", kv->key);
	if (ms / 1000 > SBX_DNS_DURATION_MAX_S)
		return ldiag(l, &kv->val->pos, "network.dns.%s out of range (0s to 1d)", kv->key);
	*ret = (uint32_t)(ms / 1000);
	return 0;
}

static int h_dns_ttl_floor(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	int r = get_dns_seconds(l, kv, &p->net.dns.ttl_floor_s);

	if (r == 0)
		dns_written(l, p, kv);
	return r;
}

static int h_dns_grace(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	int r = get_dns_seconds(l, kv, &p->net.dns.grace_s);

	if (r == 0)
		dns_written(l, p, kv);
	return r;
}

static int h_dns_refuse(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	static const char *const names[] = { "refused", "nxdomain", NULL };
	int i = lookup_name(l, kv->val, "DNS refusal", names);

	if (i < 0)
		return i;
	p->net.dns.nxdomain = i == 1;
	dns_written(l, p, kv);
	return 0;
}

static const struct key_handler dns_keys[] = {
	{ "upstream", T(TOML_ARRAY), h_dns_upstream },
	{ "ttl_floor", STR_OR_INT, h_dns_ttl_floor },
	{ "grace", STR_OR_INT, h_dns_grace },
	{ "refuse", T(TOML_STRING), h_dns_refuse },
};

static int apply_sub(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv,
		     const struct key_handler *h, size_t n);

static int h_dns(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return apply_sub(l, p, kv, dns_keys, ARRAY_SIZE(dns_keys));
}

static const struct key_handler net_keys[] = {
	{ "mode", T(TOML_STRING), h_net_mode },
	{ "allow", T(TOML_ARRAY), h_allow },
	{ "deny", T(TOML_ARRAY), h_deny },
	{ "listen", T(TOML_ARRAY), h_listen },
	{ "raw_sockets", T(TOML_BOOL), h_raw_sockets },
	{ "families", T(TOML_ARRAY), h_families },
	{ "unix", T(TOML_ARRAY), h_unix },
	{ "namespace", T(TOML_STRING), h_net_namespace },
	{ "veth_host", T(TOML_STRING), h_veth_host },
	{ "veth_sandbox", T(TOML_STRING), h_veth_sandbox },
	{ "dns", T(TOML_TABLE), h_dns },
};

static int apply_sub(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv,
		     const struct key_handler *h, size_t n)
{
	char where[192];
	struct layer sub = *l;

	snprintf(where, sizeof(where), "the %s table of %s", kv->key, l->where);
	sub.where = where;
	return apply_table(&sub, p, kv->val, h, n);
}

static int h_network(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return apply_sub(l, p, kv, net_keys, ARRAY_SIZE(net_keys));
}

/* ---- seccomp ----------------------------------------------------------- */

/* Only the spelling is checked here: whether the kernel knows the name is up
 * to user/kernel/seccomp.c (libseccomp), which the policy sources must not need. */
static bool valid_syscall_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= SYSCALL_NAME_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static int syscall_item(const struct layer *l, const struct toml_kv *kv, size_t i, char **ret)
{
	const struct toml_value *arr = kv->val, *v = arr->u.arr.items[i];
	char what[64], q[128];
	const char *s;
	int r;

	snprintf(what, sizeof(what), "a syscall name in '%s'", kv->key);
	r = get_str(l, v, what, &s);
	if (r < 0)
		return r;
	if (!valid_syscall_name(s))
		return ldiag(l, &v->pos,
			     "invalid syscall name '%s' in '%s' (lower-case letters, digits and '_', at most %d "
			     "characters)", sbx_printable(s, strlen(s), q, sizeof(q)), kv->key, SYSCALL_NAME_MAX);
	for (size_t j = 0; j < i; j++) {
		const struct toml_value *w = arr->u.arr.items[j];

		if (w->type == TOML_STRING && strcmp(w->u.str.ptr, s) == 0)
			return ldiag(l, &v->pos, "duplicate syscall '%s' in '%s' (first at %u:%u)", s, kv->key,
				     w->pos.line, w->pos.col);
	}
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int set_syscalls(const struct layer *l, const struct toml_kv *kv, char ***field, size_t *n_field)
{
	const struct toml_value *arr = kv->val;
	size_t n = arr->u.arr.n;
	char **v;
	int r = 0, bad = 0;

	if (n > SBX_SECCOMP_NAMES_MAX)
		return ldiag(l, &arr->pos, "too many syscalls in '%s' (%zu; the limit is %d)", kv->key, n,
			     SBX_SECCOMP_NAMES_MAX);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n && r != -ENOMEM; i++) {
		r = syscall_item(l, kv, i, &v[i]);
		bad |= r < 0;
	}
	if (bad) {
		free_strv(v, n);
		return r == -ENOMEM ? r : -EINVAL;
	}
	free_strv(*field, *n_field);
	*field = v;
	*n_field = n;
	return 0;
}

static int h_seccomp_deny(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return set_syscalls(l, kv, &p->seccomp.deny, &p->seccomp.n_deny);
}

static int h_seccomp_allow(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return set_syscalls(l, kv, &p->seccomp.allow, &p->seccomp.n_allow);
}

static const struct key_handler seccomp_keys[] = {
	{ "preset", T(TOML_STRING), h_seccomp_preset },
	{ "action", T(TOML_STRING), h_seccomp_action },
	{ "deny", T(TOML_ARRAY), h_seccomp_deny },
	{ "allow", T(TOML_ARRAY), h_seccomp_allow },
};

static const struct toml_value *find_array(const struct toml_value *tab, const char *key)
{
	for (size_t i = 0; i < tab->u.tab.n; i++)
		if (key_is(&tab->u.tab.kvs[i], key) && tab->u.tab.kvs[i].val->type == TOML_ARRAY)
			return tab->u.tab.kvs[i].val;
	return NULL;
}

/* A name in both lists of one table, reported where it is allowed. Lists
 * from different layers are compared on the resolved profile (check.c). */
static int seccomp_conflicts(const struct layer *l, const struct toml_value *tab)
{
	const struct toml_value *deny = find_array(tab, "deny"), *allow = find_array(tab, "allow");
	int r = 0;

	for (size_t i = 0; deny && allow && i < allow->u.arr.n && r != -ENOMEM; i++) {
		const struct toml_value *a = allow->u.arr.items[i];

		if (a->type != TOML_STRING || !valid_syscall_name(a->u.str.ptr))
			continue;
		for (size_t j = 0; j < deny->u.arr.n; j++) {
			const struct toml_value *d = deny->u.arr.items[j];

			if (d->type == TOML_STRING && strcmp(a->u.str.ptr, d->u.str.ptr) == 0) {
				r = ldiag(l, &a->pos, "syscall '%s' is both denied and allowed (the other is at %u:%u)",
					  a->u.str.ptr, d->pos.line, d->pos.col);
				break;
			}
		}
	}
	return r == -ENOMEM ? r : 0;
}

static int h_seccomp(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	int r = apply_sub(l, p, kv, seccomp_keys, ARRAY_SIZE(seccomp_keys));

	if (r < 0)
		return r;
	/* preset = "default" written out asks for the default filter: the host
	 * provider, which has none unless asked, must not read it as unset */
	if (kv->val->type == TOML_TABLE && kv->val->u.tab.n)
		p->seccomp.written = true;
	return seccomp_conflicts(l, kv->val);
}

/* ---- provider tables --------------------------------------------------- */

/*
 * [profile.X.mock], .gvisor, .wasm and .microvm configure one provider each.
 * A table that does not match the profile's provider is accepted (and
 * ignored by the other providers), so that [defaults] can carry the settings
 * of several providers. Whether a path exists is checked when a sandbox
 * starts, not here: the policy may be checked on another machine.
 */

/* A name out of a fixed list, stored as the list's spelling. */
#define NAME_HANDLER(fn, field, what, ...)                                                    \
	static int fn(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv) \
	{                                                                                     \
		static const char *const names[] = { __VA_ARGS__, NULL };                     \
		int i = lookup_name(l, kv->val, what, names);                                 \
		return i < 0 ? i : set_str(&p->field, names[i]);                              \
	}

NAME_HANDLER(h_gvisor_platform, gvisor.platform, "gvisor platform", "systrap", "ptrace", "kvm")
NAME_HANDLER(h_wasm_runtime, wasm.runtime, "wasm runtime", "auto", "wasmtime", "wasmer", "iwasm", "wasmedge",
	     "node")
NAME_HANDLER(h_microvm_backend, microvm.backend, "microvm backend", "qemu", "firecracker")
NAME_HANDLER(h_unikernel_machine, unikernel.machine, "unikernel machine", "microvm", "q35")

/* An absolute, normalised path of a host file (not a directory). */
static int set_host_path(const struct layer *l, const struct toml_kv *kv, char **field)
{
	char err[320], what[32];
	const char *s;
	int r;

	snprintf(what, sizeof(what), "'%s'", kv->key);
	r = get_str(l, kv->val, what, &s);
	if (r < 0)
		return r;
	if (sbx_check_path(s, HOST_PATH_MAX, false, err, sizeof(err)) < 0)
		return ldiag(l, &kv->val->pos, "%s: %s", kv->key, err);
	if (strcmp(s, "/") == 0)
		return ldiag(l, &kv->val->pos, "%s: path '/' is a directory, not a file", kv->key);
	return set_str(field, s);
}

static int h_mock_exit_code(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	int64_t v = kv->val->u.integer;

	if (v < 0 || v > 255)
		return ldiag(l, &kv->val->pos, "exit_code %lld out of range (0 to 255)", (long long)v);
	p->mock.exit_code = (int)v;
	return 0;
}

/* What the mock writes: any text without NUL, at most 1 MiB. */
static int set_mock_output(const struct layer *l, const struct toml_kv *kv, char **field)
{
	char what[32];
	const char *s;
	int r;

	snprintf(what, sizeof(what), "'%s'", kv->key);
	r = get_str(l, kv->val, what, &s);
	if (r < 0)
		return r;
	if (kv->val->u.str.len > MOCK_OUTPUT_MAX)
		return ldiag(l, &kv->val->pos, "'%s' is longer than %u bytes (1 MiB)", kv->key, MOCK_OUTPUT_MAX);
	return set_str(field, s);
}

static int h_mock_stdout(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return set_mock_output(l, kv, &p->mock.stdout_text);
}

static int h_mock_stderr(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return set_mock_output(l, kv, &p->mock.stderr_text);
}

static int h_mock_duration(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return get_duration(l, kv, &p->mock.duration_ms);
}

/* "none" is the default, spelled out so that an overlay can undo a failure
 * that [defaults] asked for; it is stored as NULL. */
static int h_mock_fail(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	static const char *const names[] = { "none", "spawn", "timeout", "crash", "oom", NULL };
	int i = lookup_name(l, kv->val, "mock failure", names);

	if (i < 0)
		return i;
	if (i == 0) {
		free(p->mock.fail);
		p->mock.fail = NULL;
		return 0;
	}
	return set_str(&p->mock.fail, names[i]);
}

static const struct key_handler mock_keys[] = {
	{ "exit_code", T(TOML_INTEGER), h_mock_exit_code },
	{ "stdout", T(TOML_STRING), h_mock_stdout },
	{ "stderr", T(TOML_STRING), h_mock_stderr },
	{ "duration", T(TOML_STRING) | T(TOML_INTEGER), h_mock_duration },
	{ "fail", T(TOML_STRING), h_mock_fail },
};

static int h_gvisor_runsc(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return set_host_path(l, kv, &p->gvisor.runsc);
}

static const struct key_handler gvisor_keys[] = {
	{ "platform", T(TOML_STRING), h_gvisor_platform },
	{ "runsc", T(TOML_STRING), h_gvisor_runsc },
};

static const struct key_handler wasm_keys[] = {
	{ "runtime", T(TOML_STRING), h_wasm_runtime },
};

static int h_microvm_kernel(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return set_host_path(l, kv, &p->microvm.kernel);
}

static int h_microvm_initrd(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return set_host_path(l, kv, &p->microvm.initrd);
}

static int h_microvm_firecracker(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return set_host_path(l, kv, &p->microvm.firecracker);
}

static int h_microvm_jailer(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return set_host_path(l, kv, &p->microvm.jailer);
}

static const struct key_handler microvm_keys[] = {
	{ "backend", T(TOML_STRING), h_microvm_backend },
	{ "kernel", T(TOML_STRING), h_microvm_kernel },
	{ "initrd", T(TOML_STRING), h_microvm_initrd },
	{ "firecracker", T(TOML_STRING), h_microvm_firecracker },
	{ "jailer", T(TOML_STRING), h_microvm_jailer },
};

static int h_unikernel_image(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return set_host_path(l, kv, &p->unikernel.image);
}

static int h_unikernel_qemu(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return set_host_path(l, kv, &p->unikernel.qemu);
}

/* Words the guest's command line starts with (e.g. Unikraft's "netdev.ip=...
 * --"): printable ASCII only, since the guest parses it as one string. */
static int h_unikernel_cmdline(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	const char *s;
	int r = get_str(l, kv->val, "'cmdline'", &s);

	if (r < 0)
		return r;
	if (strlen(s) > SBX_UNIKERNEL_CMDLINE_MAX)
		return ldiag(l, &kv->val->pos, "cmdline: longer than %d bytes",
			     SBX_UNIKERNEL_CMDLINE_MAX);
	for (const char *c = s; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			return ldiag(l, &kv->val->pos, "cmdline: byte 0x%02x at offset %zu is not "
				     "printable ASCII", (unsigned char)*c, (size_t)(c - s));
	return set_str(&p->unikernel.cmdline, s);
}

static const struct key_handler unikernel_keys[] = {
	{ "image", T(TOML_STRING), h_unikernel_image },
	{ "qemu", T(TOML_STRING), h_unikernel_qemu },
	{ "machine", T(TOML_STRING), h_unikernel_machine },
	{ "cmdline", T(TOML_STRING), h_unikernel_cmdline },
};

static int h_unikernel(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return apply_sub(l, p, kv, unikernel_keys, ARRAY_SIZE(unikernel_keys));
}

static int h_mock(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return apply_sub(l, p, kv, mock_keys, ARRAY_SIZE(mock_keys));
}

static int h_gvisor(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return apply_sub(l, p, kv, gvisor_keys, ARRAY_SIZE(gvisor_keys));
}

static int h_wasm(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return apply_sub(l, p, kv, wasm_keys, ARRAY_SIZE(wasm_keys));
}

static int h_microvm(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return apply_sub(l, p, kv, microvm_keys, ARRAY_SIZE(microvm_keys));
}

/* ---- filesystem -------------------------------------------------------- */

static int parse_access(const char *s, uint32_t *ret)
{
	static const char *const forms[] = { "deny", "r", "w", "rw", "x", "rx", "wx", "rwx" };

	for (uint32_t i = 0; i < ARRAY_SIZE(forms); i++) {
		if (strcmp(s, forms[i]) == 0) {
			*ret = i;	/* the index is the SBX_ACC_* bit set */
			return 0;
		}
	}
	return -EINVAL;
}

static int rule_keys(const struct layer *l, const struct toml_value *t, const char **path, const char **acc)
{
	static const char *const keys[] = { "path", "access", NULL };
	char q[128];
	int r = 0;

	for (size_t i = 0; i < t->u.tab.n && r != -ENOMEM; i++) {
		const struct toml_kv *kv = &t->u.tab.kvs[i];
		const char *hint;

		if (key_is(kv, "path")) {
			r = get_str(l, kv->val, "'path'", path);
			continue;
		}
		if (key_is(kv, "access")) {
			r = get_str(l, kv->val, "'access'", acc);
			continue;
		}
		hint = sbx_suggest(kv->key, keys);	/* only for a key in error */
		r = ldiag(l, &kv->key_pos, "unknown key '%s' in an fs rule%s%s%s",
			  sbx_printable(kv->key, kv->key_len, q, sizeof(q)),
			  hint ? " (did you mean '" : " (expected path, access", hint ? hint : "",
			  hint ? "'?)" : ")");
	}
	if (r == 0 && !*path)
		r = ldiag(l, &t->pos, "fs rule is missing 'path'");
	if (r == 0 && !*acc)
		r = ldiag(l, &t->pos, "fs rule is missing 'access'");
	return r;
}

static int parse_rule(const struct layer *l, const struct toml_value *t, struct sbx_fs_rule *rule)
{
	const char *path = NULL, *acc = NULL;
	char err[320], q[128];
	int r;

	if (t->type != TOML_TABLE)
		return wrong_type(l, "an fs rule ({ path = \"/etc/\", access = \"r\" })", t, T(TOML_TABLE));
	r = rule_keys(l, t, &path, &acc);
	if (r < 0)
		return r;
	if (sbx_check_path(path, SBX_MAX_PATH_LEN, true, err, sizeof(err)) < 0)
		return ldiag(l, &t->pos, "%s", err);
	if (parse_access(acc, &rule->access) < 0)
		return ldiag(l, &t->pos, "invalid access '%s' (expected r, rw, rx, rwx, w, wx, x or deny)",
			     sbx_printable(acc, strlen(acc), q, sizeof(q)));
	rule->path = strdup(path);
	if (!rule->path)
		return -ENOMEM;
	rule->dir = path[strlen(path) - 1] == '/';
	rule->pos = srcpos(l, t);
	return 0;
}

static void free_rules(struct sbx_fs_rule *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

static int h_rules(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	const struct toml_value *arr = kv->val;
	size_t n = arr->u.arr.n;
	struct sbx_fs_rule *v;
	int r = 0, bad = 0;

	if (n > SBX_MAX_PATH_RULES)
		return ldiag(l, &arr->pos, "too many fs rules (%zu; the limit is %d)", n, SBX_MAX_PATH_RULES);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n && r != -ENOMEM; i++) {
		r = parse_rule(l, arr->u.arr.items[i], &v[i]);
		bad |= r < 0;
	}
	if (bad) {
		free_rules(v, n);
		return r == -ENOMEM ? r : -EINVAL;
	}
	free_rules(p->fs.rules, p->fs.n_rules);
	p->fs.rules = v;
	p->fs.n_rules = n;
	return 0;
}

static int exec_item(const struct layer *l, const struct toml_value *arr, size_t i, char **ret)
{
	const struct toml_value *v = arr->u.arr.items[i];
	char err[320];
	const char *s;
	int r = get_str(l, v, "an exec entry", &s);

	if (r < 0)
		return r;
	if (sbx_check_path(s, SBX_MAX_PATH_LEN, true, err, sizeof(err)) < 0)
		return ldiag(l, &v->pos, "%s", err);
	for (size_t j = 0; j < i; j++) {
		const struct toml_value *w = arr->u.arr.items[j];

		if (w->type == TOML_STRING && strcmp(w->u.str.ptr, s) == 0)
			return ldiag(l, &v->pos, "duplicate exec entry '%s' (first at %u:%u)", s, w->pos.line,
				     w->pos.col);
	}
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int h_exec(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	const struct toml_value *arr = kv->val;
	size_t n = arr->u.arr.n;
	char **v;
	int r = 0, bad = 0;

	if (n > SBX_MAX_EXEC)
		return ldiag(l, &arr->pos, "too many exec entries (%zu; the limit is %d)", n, SBX_MAX_EXEC);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n && r != -ENOMEM; i++) {
		r = exec_item(l, arr, i, &v[i]);
		bad |= r < 0;
	}
	if (bad) {
		free_strv(v, n);
		return r == -ENOMEM ? r : -EINVAL;
	}
	free_strv(p->fs.exec, p->fs.n_exec);
	p->fs.exec = v;
	p->fs.n_exec = n;
	return 0;
}

static const struct key_handler fs_keys[] = {
	{ "mode", T(TOML_STRING), h_fs_mode },
	{ "rules", T(TOML_ARRAY), h_rules },
	{ "exec", T(TOML_ARRAY), h_exec },
};

static int h_fs(const struct layer *l, struct sbx_profile *p, const struct toml_kv *kv)
{
	return apply_sub(l, p, kv, fs_keys, ARRAY_SIZE(fs_keys));
}

/* ---- profile ----------------------------------------------------------- */

static const struct key_handler profile_keys[] = {
	{ "provider", T(TOML_STRING), h_provider },
	{ "min_isolation", T(TOML_STRING), h_min_isolation },
	{ "timeout", STR_OR_INT, h_timeout },
	{ "memory", STR_OR_INT, h_memory },
	{ "cpu", STR_OR_INT | T(TOML_FLOAT), h_cpu },
	{ "cpus", T(TOML_STRING), h_cpus },
	{ "cpu_weight", T(TOML_INTEGER), h_cpu_weight },
	{ "pids", T(TOML_INTEGER), h_pids },
	{ "nofile", T(TOML_INTEGER), h_nofile },
	{ "net_bytes", STR_OR_INT, h_net_bytes },
	{ "egress_rate", STR_OR_INT, h_egress_rate },
	{ "ingress_rate", STR_OR_INT, h_ingress_rate },
	{ "rate_burst", STR_OR_INT, h_rate_burst },
	{ "fsize", STR_OR_INT, h_fsize },
	{ "disk", STR_OR_INT, h_disk },
	{ "env", T(TOML_TABLE), h_env },
	{ "cwd", T(TOML_STRING), h_cwd },
	{ "user", STR_OR_INT, h_user },
	{ "group", STR_OR_INT, h_group },
	{ "audit", T(TOML_STRING), h_audit },
	{ "audit_rate", T(TOML_INTEGER), h_audit_rate },
	{ "audit_burst", T(TOML_INTEGER), h_audit_burst },
	{ "audit_deny_rate", T(TOML_INTEGER), h_audit_deny_rate },
	{ "audit_deny_burst", T(TOML_INTEGER), h_audit_deny_burst },
	{ "enforcement", T(TOML_STRING), h_enforcement },
	{ "allow_users", T(TOML_ARRAY), h_allow_users },
	{ "allow_groups", T(TOML_ARRAY), h_allow_groups },
	{ "network", T(TOML_TABLE), h_network },
	{ "fs", T(TOML_TABLE), h_fs },
	{ "seccomp", T(TOML_TABLE), h_seccomp },
	{ "mock", T(TOML_TABLE), h_mock },
	{ "gvisor", T(TOML_TABLE), h_gvisor },
	{ "wasm", T(TOML_TABLE), h_wasm },
	{ "microvm", T(TOML_TABLE), h_microvm },
	{ "unikernel", T(TOML_TABLE), h_unikernel },
};

/* The keys of a [profile.X] table, dotted into their sub-tables; what the
 * enforcement table (user/core/enforce.c) must have a row for. */
static const struct {
	const char *name;
	const struct key_handler *keys;
	size_t n;
} sub_tables[] = {
	{ "network", net_keys, ARRAY_SIZE(net_keys) },
	{ "fs", fs_keys, ARRAY_SIZE(fs_keys) },
	{ "seccomp", seccomp_keys, ARRAY_SIZE(seccomp_keys) },
	{ "mock", mock_keys, ARRAY_SIZE(mock_keys) },
	{ "gvisor", gvisor_keys, ARRAY_SIZE(gvisor_keys) },
	{ "wasm", wasm_keys, ARRAY_SIZE(wasm_keys) },
	{ "microvm", microvm_keys, ARRAY_SIZE(microvm_keys) },
	{ "unikernel", unikernel_keys, ARRAY_SIZE(unikernel_keys) },
};

const char *sbx_policy_key(size_t i)
{
	static char buf[64];

	for (size_t k = 0; k < ARRAY_SIZE(profile_keys); k++) {
		const struct key_handler *sub = NULL;
		size_t n = 1;

		for (size_t t = 0; t < ARRAY_SIZE(sub_tables); t++)
			if (!strcmp(profile_keys[k].name, sub_tables[t].name)) {
				sub = sub_tables[t].keys;
				n = sub_tables[t].n;
			}
		if (i >= n) {
			i -= n;
			continue;
		}
		if (!sub)
			return profile_keys[k].name;
		snprintf(buf, sizeof(buf), "%s.%s", profile_keys[k].name, sub[i].name);
		return buf;
	}
	return NULL;
}

int sbx_profile_apply(struct pctx *c, struct sbx_profile *p, const struct toml_value *tab,
		      const char *file, const char *where)
{
	struct layer l = { .c = c, .file = file, .where = where };

	return apply_table(&l, p, tab, profile_keys, ARRAY_SIZE(profile_keys));
}

void sbx_profile_init(struct sbx_profile *p)
{
	*p = (struct sbx_profile){
		.min_isolation = SBX_ISO_PROCESS,
		.audit = SBX_AUDIT_DENY,
		.audit_rate = SBX_AUDIT_RATE_DEFAULT,
		.audit_burst = SBX_AUDIT_BURST_DEFAULT,
		.audit_deny_rate = SBX_AUDIT_DENY_RATE_DEFAULT,
		.audit_deny_burst = SBX_AUDIT_DENY_BURST_DEFAULT,
		.enforcement = SBX_ENFORCE_STRICT,
		.net.mode = SBX_NET_NONE,
		.net.namespace = SBX_NETNS_AUTO,
		.net.dns.ttl_floor_s = SBX_DNS_TTL_FLOOR_DEFAULT_S,
		.net.dns.grace_s = SBX_DNS_GRACE_DEFAULT_S,
		.seccomp.preset = SBX_SECCOMP_DEFAULT,
		.seccomp.action = SBX_SECCOMP_ERRNO,
		.fs.mode = SBX_FS_NONE,
		/* mock, gvisor, wasm, microvm: 0 and NULL, which stand for the
		 * providers' defaults (platform systrap, runtime auto, backend qemu) */
	};
}

void sbx_profile_clear(struct sbx_profile *p)
{
	free(p->name);
	free(p->provider);
	for (size_t i = 0; i < p->n_env; i++) {
		free(p->env[i].name);
		free(p->env[i].value);
	}
	free(p->env);
	free(p->cwd);
	free(p->user);
	free(p->group);
	free_strv(p->allow_users, p->n_allow_users);
	free_strv(p->allow_groups, p->n_allow_groups);
	free_entries(p->net.entries, p->net.n_entries);
	free(p->net.listen);
	free(p->net.veth_host);
	free(p->net.veth_sandbox);
	free(p->net.dns.upstream);
	free_strv(p->seccomp.deny, p->seccomp.n_deny);
	free_strv(p->seccomp.allow, p->seccomp.n_allow);
	free_rules(p->fs.rules, p->fs.n_rules);
	free_strv(p->fs.exec, p->fs.n_exec);
	free_strv(p->net.unix_paths, p->net.n_unix);
	free(p->mock.stdout_text);
	free(p->mock.stderr_text);
	free(p->mock.fail);
	free(p->gvisor.platform);
	free(p->gvisor.runsc);
	free(p->wasm.runtime);
	free(p->microvm.backend);
	free(p->microvm.kernel);
	free(p->microvm.initrd);
	free(p->microvm.firecracker);
	free(p->microvm.jailer);
	free(p->unikernel.image);
	free(p->unikernel.qemu);
	free(p->unikernel.machine);
	free(p->unikernel.cmdline);
	sbx_profile_init(p);
}
