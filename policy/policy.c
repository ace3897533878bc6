/* SPDX-License-Identifier: MIT */
/*
 * Loading policy files: read and parse every file, check the top-level
 * structure, validate every table once on its own (so that an error in an
 * overlay of an environment that is not selected is still found), then
 * resolve each profile as
 *
 *     built-in defaults <- [defaults] <- [profile."X"]
 *                       <- [env.E.defaults] <- [env.E.profile."X"]
 *
 * and check the result. Diagnostics are collected in load order and sorted
 * by file and position; any error means no policy is returned.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy-internal.h"

#define NO_FILE ((size_t)-1)

/* A [profile."X"] or [env.E.profile."X"] table, with the file it came from. */
struct ptab {
	const char *name;		/* profile name */
	const char *env;		/* overlays only */
	const struct toml_value *tab;
	size_t file;
	struct toml_pos pos;		/* where the name was written */
	bool bad;			/* had errors on its own: skip resolving */
};

/* [env.E] of one file. */
struct penv {
	const char *name;
	const struct toml_value *defaults;	/* may be NULL */
	size_t file;
	struct toml_pos pos;
	bool bad;
};

struct loader {
	struct pctx c;
	struct sbx_policy *pol;
	struct toml_value **roots;		/* per file; NULL when unreadable */
	const struct toml_value **defaults;	/* per file; may be NULL */
	bool *bad_defaults;			/* per file */
	struct ptab *profs, *ovls;
	size_t n_profs, n_ovls;
	struct penv *envs;
	size_t n_envs;
	bool broken;				/* a file could not be read or parsed */
	bool no_env;				/* the selected environment is unknown */
	struct file_id *ids;			/* per file: what it is, to load it once */
	size_t stdin_idx;			/* the file read from stdin ("-"), or NO_FILE */
};

/* A file named twice (a PATH and the directory that holds it, "./a.toml" and
 * "a.toml", a symlink and its target) is one file and is loaded once. */
struct file_id {
	dev_t dev;
	ino_t ino;
	bool known;				/* not for buffers */
};

#define STDIN_NAME "<stdin>"

/* ---- diagnostics ------------------------------------------------------- */

static size_t file_index(const struct pctx *c, const char *file)
{
	for (size_t i = 0; i < c->n_files; i++)
		if (c->files[i] == file || (file && strcmp(c->files[i], file) == 0))
			return i;
	return c->n_files;
}

int pctx_vdiag(struct pctx *c, const char *file, const struct toml_pos *pos, const char *fmt, va_list ap)
{
	struct pdiag *d;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;

		d = realloc(c->v, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		c->v = d;
		c->cap = cap;
	}
	d = &c->v[c->n];
	*d = (struct pdiag){ .file_idx = file_index(c, file), .seq = c->n };
	d->d.file = strdup(file ? file : "<policy>");
	if (vasprintf(&d->d.msg, fmt, ap) < 0)
		d->d.msg = NULL;
	if (!d->d.file || !d->d.msg) {
		free(d->d.file);
		free(d->d.msg);
		return -ENOMEM;
	}
	d->d.line = pos ? pos->line : 0;
	d->d.col = pos ? pos->col : 0;
	c->n++;
	return 0;
}

int pctx_diag(struct pctx *c, const char *file, const struct toml_pos *pos, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = pctx_vdiag(c, file, pos, fmt, ap);
	va_end(ap);
	return r;
}

static int cmp_diag(const void *a, const void *b)
{
	const struct pdiag *x = a, *y = b;

	if (x->file_idx != y->file_idx)
		return x->file_idx < y->file_idx ? -1 : 1;
	if (x->d.line != y->d.line)
		return x->d.line < y->d.line ? -1 : 1;
	if (x->d.col != y->d.col)
		return x->d.col < y->d.col ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Hands the diagnostics to the caller, sorted; frees them on -ENOMEM. */
static int flush_diags(struct pctx *c, struct sbx_diags *out)
{
	struct sbx_diag *v = NULL;
	int r = 0;

	if (c->n)
		qsort(c->v, c->n, sizeof(*c->v), cmp_diag);
	if (c->n && out)
		v = realloc(out->v, (out->n + c->n) * sizeof(*v));
	for (size_t i = 0; i < c->n; i++) {
		if (v) {
			v[out->n++] = c->v[i].d;
		} else {
			free(c->v[i].d.file);
			free(c->v[i].d.msg);
			r = -ENOMEM;
		}
	}
	if (v)
		out->v = v;
	free(c->v);
	c->v = NULL;
	c->n = c->cap = 0;
	return out ? r : 0;
}

void sbx_diags_free(struct sbx_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

/* ---- files ------------------------------------------------------------- */

static bool seen_file(const struct loader *L, const struct stat *st)
{
	for (size_t i = 0; st && i < L->pol->n_files; i++)
		if (L->ids[i].known && L->ids[i].dev == st->st_dev && L->ids[i].ino == st->st_ino)
			return true;
	return false;
}

/* st: what name is (NULL for a buffer); a file already added is skipped. */
static int add_file_id(struct loader *L, const char *name, const struct stat *st)
{
	struct sbx_policy *pol = L->pol;
	char **files = realloc(pol->files, (pol->n_files + 1) * sizeof(*files));
	struct toml_value **roots;
	struct file_id *ids;

	if (!files)
		return -ENOMEM;
	pol->files = files;
	roots = realloc(L->roots, (pol->n_files + 1) * sizeof(*roots));
	if (!roots)
		return -ENOMEM;
	L->roots = roots;
	ids = realloc(L->ids, (pol->n_files + 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	L->ids = ids;
	if (seen_file(L, st))
		return 0;
	ids[pol->n_files] = st ? (struct file_id){ st->st_dev, st->st_ino, true } : (struct file_id){ 0 };
	files[pol->n_files] = strdup(name);
	if (!files[pol->n_files])
		return -ENOMEM;
	roots[pol->n_files] = NULL;
	pol->n_files++;
	L->c.files = pol->files;
	L->c.n_files = pol->n_files;
	return 0;
}

static int parse_buffer(struct loader *L, size_t idx, const char *buf, size_t len)
{
	struct toml_error err = { 0 };
	int r;

	if (len > SBX_POLICY_FILE_MAX) {
		L->broken = true;
		return pctx_diag(&L->c, L->pol->files[idx], NULL, "file is too large (%zu bytes; the limit is %u)",
				 len, SBX_POLICY_FILE_MAX);
	}
	r = toml_parse(buf, len, &L->roots[idx], &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		L->broken = true;
		return pctx_diag(&L->c, L->pol->files[idx], &err.pos, "%s", err.msg);
	}
	return 0;
}

/* Reads at most SBX_POLICY_FILE_MAX + 1 bytes, so that a growing or endless
 * file (a FIFO, /dev/zero) still hits the cap. */
static int read_all(int fd, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *n;

	for (;;) {
		ssize_t k;

		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > SBX_POLICY_FILE_MAX + 1)
				cap = SBX_POLICY_FILE_MAX + 1;
			if (len == cap)
				break;
			n = realloc(buf, cap);
			if (!n) {
				free(buf);
				return -ENOMEM;
			}
			buf = n;
		}
		k = read(fd, buf + len, cap - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			free(buf);
			return -errno;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* A file of a directory or a PATH; one that cannot be examined is added
 * anyway, and reading it reports why. */
static int add_file(struct loader *L, const char *name)
{
	struct stat st;

	return add_file_id(L, name, stat(name, &st) == 0 ? &st : NULL);
}

static int load_file(struct loader *L, size_t idx)
{
	const char *name = L->pol->files[idx];
	bool from_stdin = idx == L->stdin_idx;
	size_t len = 0;
	char *buf = NULL;
	int fd, r;

	fd = from_stdin ? STDIN_FILENO : open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		L->broken = true;
		return pctx_diag(&L->c, name, NULL, "cannot open: %s", strerror(-r));
	}
	r = read_all(fd, &buf, &len);
	if (!from_stdin)
		close(fd);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		L->broken = true;
		return pctx_diag(&L->c, name, NULL, "cannot read: %s", strerror(-r));
	}
	r = parse_buffer(L, idx, buf ? buf : "", len);
	free(buf);
	return r;
}

static bool is_toml_name(const char *n)
{
	size_t len = strlen(n);

	return n[0] != '.' && len > 5 && strcmp(n + len - 5, ".toml") == 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int collect_dir(DIR *d, char ***ret, size_t *ret_n)
{
	char **v = NULL, **n;
	size_t cnt = 0;
	struct dirent *de;

	while ((de = readdir(d))) {
		if (!is_toml_name(de->d_name) || de->d_type == DT_DIR)
			continue;
		n = realloc(v, (cnt + 1) * sizeof(*v));
		if (!n || !(n[cnt] = strdup(de->d_name))) {
			v = n ? n : v;
			while (cnt)
				free(v[--cnt]);
			free(v);
			return -ENOMEM;
		}
		v = n;
		cnt++;
	}
	/* Byte order, not the locale's collation: the load order must not
	 * depend on who runs sbx. */
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*ret = v;
	*ret_n = cnt;
	return 0;
}

static int add_dir(struct loader *L, const char *path)
{
	size_t n = 0, plen = strlen(path);
	char **names = NULL, *full;
	DIR *d = opendir(path);
	int r;

	if (!d) {
		L->broken = true;
		return pctx_diag(&L->c, path, NULL, "cannot open directory: %s", strerror(errno));
	}
	r = collect_dir(d, &names, &n);
	closedir(d);
	if (r < 0)
		return r;
	if (n == 0) {
		L->broken = true;
		r = pctx_diag(&L->c, path, NULL, "no *.toml files in this directory");
	}
	for (size_t i = 0; i < n; i++) {
		if (r == 0 && asprintf(&full, "%s%s%s", path, plen && path[plen - 1] == '/' ? "" : "/",
				       names[i]) < 0)
			r = -ENOMEM;
		else if (r == 0) {
			r = add_file(L, full);
			free(full);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

/* "-": the policy text on stdin, named "<stdin>" in diagnostics. */
static int add_stdin(struct loader *L)
{
	struct stat st;
	size_t n = L->pol->n_files;
	int r;

	if (L->stdin_idx != NO_FILE)
		return 0;
	if (fstat(STDIN_FILENO, &st) < 0) {
		L->broken = true;
		return pctx_diag(&L->c, STDIN_NAME, NULL, "cannot read: %s", strerror(errno));
	}
	r = add_file_id(L, STDIN_NAME, &st);
	if (r == 0 && L->pol->n_files > n)
		L->stdin_idx = n;
	return r;
}

static int add_path(struct loader *L, const char *path)
{
	struct stat st;

	if (strcmp(path, "-") == 0)
		return add_stdin(L);
	if (stat(path, &st) < 0) {
		L->broken = true;
		return pctx_diag(&L->c, path, NULL, "cannot open: %s", strerror(errno));
	}
	if (S_ISDIR(st.st_mode))
		return add_dir(L, path);
	return add_file_id(L, path, &st);
}

/* ---- structure --------------------------------------------------------- */

/* Names of profiles and environments end up in pinned map names, JSON and
 * log lines: keep them to a plain alphabet. */
static bool valid_name(const char *s, size_t len)
{
	if (len == 0 || len > SBX_NAME_MAX || strlen(s) != len)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9') ||
	      s[0] == '_'))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

static int check_name(struct loader *L, size_t f, const struct toml_kv *kv, const char *what)
{
	char q[128];

	if (valid_name(kv->key, kv->key_len))
		return 0;
	return pctx_diag(&L->c, L->pol->files[f], &kv->key_pos,
			 "invalid %s name '%s' (1-%d letters, digits, '.', '_' or '-', starting with a letter, "
			 "digit or '_')", what, sbx_printable(kv->key, kv->key_len, q, sizeof(q)), SBX_NAME_MAX);
}

static int want_table(struct loader *L, size_t f, const struct toml_kv *kv, const char *what)
{
	const char *got = toml_type_name(kv->val->type);

	if (kv->val->type == TOML_TABLE)
		return 0;
	return pctx_diag(&L->c, L->pol->files[f], &kv->val->pos, "%s must be a table, not %s %s", what,
			 strchr("aeiou", got[0]) ? "an" : "a", got);
}

static int push_tab(struct ptab **v, size_t *n, struct ptab t)
{
	struct ptab *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = t;
	*v = nv;
	return 0;
}

/* Collects the profile tables of one "profile" table (top level or overlay). */
static int scan_profiles(struct loader *L, size_t f, const struct toml_value *tab, const char *env)
{
	char what[192], q[128];
	int r = 0;

	for (size_t i = 0; i < tab->u.tab.n && r == 0; i++) {
		const struct toml_kv *kv = &tab->u.tab.kvs[i];
		struct ptab t = { .name = kv->key, .env = env, .tab = kv->val, .file = f, .pos = kv->key_pos };

		snprintf(what, sizeof(what), "profile '%s'", sbx_printable(kv->key, kv->key_len, q, sizeof(q)));
		r = check_name(L, f, kv, "profile");
		if (r == 0 && !valid_name(kv->key, kv->key_len))
			continue;
		if (r == 0)
			r = want_table(L, f, kv, what);
		if (r == 0 && kv->val->type == TOML_TABLE)
			r = env ? push_tab(&L->ovls, &L->n_ovls, t) : push_tab(&L->profs, &L->n_profs, t);
	}
	return r;
}

static bool key_eq(const struct toml_kv *kv, const char *name)
{
	return kv->key_len == strlen(name) && strcmp(kv->key, name) == 0;
}

static int unknown_key(struct loader *L, size_t f, const struct toml_kv *kv, const char *where,
		       const char *const *keys)
{
	const char *hint = kv->key_len == strlen(kv->key) ? sbx_suggest(kv->key, keys) : NULL;
	char q[128], list[128];
	size_t o = 0;

	for (size_t i = 0; keys[i] && o < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", keys[i]);
	sbx_printable(kv->key, kv->key_len, q, sizeof(q));
	if (hint)
		return pctx_diag(&L->c, L->pol->files[f], &kv->key_pos, "unknown key '%s' in %s (did you mean '%s'?)",
				 q, where, hint);
	return pctx_diag(&L->c, L->pol->files[f], &kv->key_pos, "unknown key '%s' in %s (expected %s)", q, where,
			 list);
}

static int push_env(struct loader *L, struct penv e)
{
	struct penv *nv = realloc(L->envs, (L->n_envs + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	nv[L->n_envs++] = e;
	L->envs = nv;
	return 0;
}

/* [env.E]: optional defaults and profile overlays; an empty one still defines E. */
static int scan_env(struct loader *L, size_t f, const struct toml_kv *ekv)
{
	static const char *const keys[] = { "defaults", "profile", NULL };
	struct penv e = { .name = ekv->key, .file = f, .pos = ekv->key_pos };
	char where[192], q[128];
	int r = 0;

	snprintf(where, sizeof(where), "[env.%s]", sbx_printable(ekv->key, ekv->key_len, q, sizeof(q)));
	for (size_t i = 0; i < ekv->val->u.tab.n && r == 0; i++) {
		const struct toml_kv *kv = &ekv->val->u.tab.kvs[i];

		if (!key_eq(kv, "defaults") && !key_eq(kv, "profile"))
			r = unknown_key(L, f, kv, where, keys);
		else if ((r = want_table(L, f, kv, kv->key)) < 0 || kv->val->type != TOML_TABLE)
			continue;
		else if (key_eq(kv, "defaults"))
			e.defaults = kv->val;
		else
			r = scan_profiles(L, f, kv->val, ekv->key);
	}
	return r < 0 ? r : push_env(L, e);
}

static int scan_envs(struct loader *L, size_t f, const struct toml_value *tab)
{
	int r = 0;

	for (size_t i = 0; i < tab->u.tab.n && r == 0; i++) {
		const struct toml_kv *kv = &tab->u.tab.kvs[i];

		r = check_name(L, f, kv, "environment");
		if (r == 0 && valid_name(kv->key, kv->key_len))
			r = want_table(L, f, kv, "an environment");
		if (r == 0 && valid_name(kv->key, kv->key_len) && kv->val->type == TOML_TABLE)
			r = scan_env(L, f, kv);
	}
	return r;
}

static int scan_version(struct loader *L, size_t f, const struct toml_value *v)
{
	if (v->type == TOML_INTEGER && v->u.integer == 1)
		return 0;
	if (v->type == TOML_INTEGER)
		return pctx_diag(&L->c, L->pol->files[f], &v->pos,
				 "unsupported policy version %lld (this sbx reads version 1)", (long long)v->u.integer);
	return pctx_diag(&L->c, L->pol->files[f], &v->pos, "'version' must be an integer (1)");
}

static int scan_root(struct loader *L, size_t f)
{
	static const char *const keys[] = { "profile", "defaults", "env", "version", NULL };
	const struct toml_value *root = L->roots[f];
	int r = 0;

	for (size_t i = 0; i < root->u.tab.n && r == 0; i++) {
		const struct toml_kv *kv = &root->u.tab.kvs[i];

		if (key_eq(kv, "version"))
			r = scan_version(L, f, kv->val);
		else if (!key_eq(kv, "profile") && !key_eq(kv, "defaults") && !key_eq(kv, "env"))
			r = unknown_key(L, f, kv, "the top level", keys);
		else if ((r = want_table(L, f, kv, kv->key)) < 0 || kv->val->type != TOML_TABLE)
			continue;
		else if (key_eq(kv, "profile"))
			r = scan_profiles(L, f, kv->val, NULL);
		else if (key_eq(kv, "defaults"))
			L->defaults[f] = kv->val;
		else
			r = scan_envs(L, f, kv->val);
	}
	return r;
}

/* A file in the seeds' dialect is scanned as its native translation; one
 * mixing the two dialects is not scanned further (its keys of the other
 * dialect would only be reported again as unknown). */
static int scan_file(struct loader *L, size_t f)
{
	struct toml_value *native = NULL;
	int d = sbx_seeds_dialect(&L->c, L->pol->files[f], L->roots[f]);

	if (d < 0)
		return d;
	if (d == SBX_DIALECT_MIXED) {
		L->broken = true;
		return 0;
	}
	if (d == SBX_DIALECT_SEEDS) {
		d = sbx_seeds_translate(&L->c, L->pol->files[f], L->roots[f], &native);
		if (d < 0)
			return d;
		toml_free(L->roots[f]);
		L->roots[f] = native;
		L->pol->seeds_dialect[f] = true;
	}
	return scan_root(L, f);
}

/* ---- cross-file checks ------------------------------------------------- */

static int cmp_pos(size_t fa, struct toml_pos a, size_t fb, struct toml_pos b)
{
	if (fa != fb)
		return fa < fb ? -1 : 1;
	if (a.line != b.line)
		return a.line < b.line ? -1 : 1;
	return (a.col > b.col) - (a.col < b.col);
}

/* By environment (overlays), then name, then position: the first definition sorts first. */
static int cmp_ptab(const void *a, const void *b)
{
	const struct ptab *x = a, *y = b;
	int r = strcmp(x->env ? x->env : "", y->env ? y->env : "");

	if (r == 0)
		r = strcmp(x->name, y->name);
	return r ? r : cmp_pos(x->file, x->pos, y->file, y->pos);
}

static int check_unique(struct loader *L, struct ptab *v, size_t n)
{
	int r = 0;

	if (n)
		qsort(v, n, sizeof(*v), cmp_ptab);
	for (size_t i = 1; i < n && r == 0; i++) {
		const struct ptab *a = &v[i - 1], *b = &v[i];

		if (strcmp(a->name, b->name) != 0 || strcmp(a->env ? a->env : "", b->env ? b->env : "") != 0)
			continue;
		if (b->env)
			r = pctx_diag(&L->c, L->pol->files[b->file], &b->pos,
				      "env '%s' overlay of profile '%s' is already defined at %s:%u:%u", b->env,
				      b->name, L->pol->files[a->file], a->pos.line, a->pos.col);
		else
			r = pctx_diag(&L->c, L->pol->files[b->file], &b->pos,
				      "profile '%s' is already defined at %s:%u:%u", b->name,
				      L->pol->files[a->file], a->pos.line, a->pos.col);
	}
	return r;
}

static int cmp_ptab_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ptab *)elem)->name);
}

static const struct ptab *find_prof(const struct loader *L, const char *name)
{
	return L->n_profs ? bsearch(name, L->profs, L->n_profs, sizeof(*L->profs), cmp_ptab_name) : NULL;
}

static int check_overlay_targets(struct loader *L)
{
	const char **names = calloc(L->n_profs + 1, sizeof(*names));
	int r = 0;

	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < L->n_profs; i++)
		names[i] = L->profs[i].name;
	for (size_t i = 0; i < L->n_ovls && r == 0; i++) {
		const struct ptab *o = &L->ovls[i];
		const char *hint;

		if (find_prof(L, o->name))
			continue;
		hint = sbx_suggest(o->name, names);
		r = pctx_diag(&L->c, L->pol->files[o->file], &o->pos,
			      "env '%s' overlays unknown profile '%s'%s%s%s", o->env, o->name,
			      hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
	}
	free(names);
	return r;
}

static int check_structure(struct loader *L)
{
	int r;

	r = check_unique(L, L->profs, L->n_profs);
	if (r == 0)
		r = check_unique(L, L->ovls, L->n_ovls);
	if (r == 0 && L->n_profs > SBX_MAX_PROFILES)
		r = pctx_diag(&L->c, L->pol->files[L->profs[SBX_MAX_PROFILES].file],
			      &L->profs[SBX_MAX_PROFILES].pos, "too many profiles (%zu; the limit is %d)",
			      L->n_profs, SBX_MAX_PROFILES);
	if (r == 0 && L->n_profs == 0 && L->c.n == 0)
		r = pctx_diag(&L->c, L->pol->files[0], NULL,
			      "no profiles defined (add a [profile.\"NAME\"] table)");
	if (r == 0)
		r = check_overlay_targets(L);
	return r;
}

/* The selected environment must be defined by at least one loaded file. */
static int check_env(struct loader *L, const char *env)
{
	const char **names = calloc(L->n_envs + 1, sizeof(*names));
	char list[512] = "";
	size_t n = 0, o = 0;
	const char *hint;
	int r;

	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < L->n_envs; i++) {
		if (strcmp(L->envs[i].name, env) == 0) {
			free(names);
			return 0;
		}
		names[n++] = L->envs[i].name;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n && o < sizeof(list); i++)
		if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "", names[i]);
	hint = sbx_suggest(env, names);
	L->no_env = true;
	if (n)
		r = pctx_diag(&L->c, NULL, NULL, "unknown environment '%s'%s%s%s; defined: %s", env,
			      hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "", list);
	else
		r = pctx_diag(&L->c, NULL, NULL, "unknown environment '%s': the policy defines no [env.*] tables",
			      env);
	free(names);
	return r;
}

/* ---- layers ------------------------------------------------------------ */

static const struct penv *find_env(const struct loader *L, size_t file, const char *env)
{
	for (size_t i = 0; i < L->n_envs; i++)
		if (L->envs[i].file == file && strcmp(L->envs[i].name, env) == 0)
			return &L->envs[i];
	return NULL;
}

static const struct ptab *find_overlay(const struct loader *L, const char *env, const char *name)
{
	for (size_t i = 0; i < L->n_ovls; i++)
		if (strcmp(L->ovls[i].env, env) == 0 && strcmp(L->ovls[i].name, name) == 0)
			return &L->ovls[i];
	return NULL;
}

/* Applies one table to a throw-away profile, for its diagnostics only. */
static int validate_one(struct loader *L, const struct toml_value *tab, size_t file, const char *where,
			bool *bad)
{
	struct sbx_profile scratch;
	size_t before = L->c.n;
	int r;

	sbx_profile_init(&scratch);
	r = sbx_profile_apply(&L->c, &scratch, tab, L->pol->files[file], where);
	sbx_profile_clear(&scratch);
	*bad = L->c.n != before;
	return r;
}

/* Every table of every environment is checked once, whichever is selected. */
static int validate_layers(struct loader *L)
{
	char where[320];
	int r = 0;

	for (size_t f = 0; f < L->pol->n_files && r == 0; f++)
		if (L->defaults[f])
			r = validate_one(L, L->defaults[f], f, "[defaults]", &L->bad_defaults[f]);
	for (size_t i = 0; i < L->n_envs && r == 0; i++) {
		snprintf(where, sizeof(where), "[env.%s.defaults]", L->envs[i].name);
		if (L->envs[i].defaults)
			r = validate_one(L, L->envs[i].defaults, L->envs[i].file, where, &L->envs[i].bad);
	}
	for (size_t i = 0; i < L->n_profs && r == 0; i++) {
		snprintf(where, sizeof(where), "profile '%s'", L->profs[i].name);
		r = validate_one(L, L->profs[i].tab, L->profs[i].file, where, &L->profs[i].bad);
	}
	for (size_t i = 0; i < L->n_ovls && r == 0; i++) {
		snprintf(where, sizeof(where), "env '%s' overlay of profile '%s'", L->ovls[i].env,
			 L->ovls[i].name);
		r = validate_one(L, L->ovls[i].tab, L->ovls[i].file, where, &L->ovls[i].bad);
	}
	return r;
}

/* A profile whose own layers already failed is not resolved: its checks
 * would only repeat those errors or report consequences of them. */
static bool layers_bad(const struct loader *L, const struct ptab *pt, const char *env)
{
	const struct penv *e = env ? find_env(L, pt->file, env) : NULL;
	const struct ptab *o = env ? find_overlay(L, env, pt->name) : NULL;

	return pt->bad || L->bad_defaults[pt->file] || (e && e->bad) || (o && o->bad);
}

static int apply_layers(struct loader *L, const struct ptab *pt, const char *env, struct sbx_profile *p)
{
	const char *file = L->pol->files[pt->file];
	const struct penv *e = env ? find_env(L, pt->file, env) : NULL;
	const struct ptab *o = env ? find_overlay(L, env, pt->name) : NULL;
	char where[320];
	int r = 0;

	if (L->defaults[pt->file])
		r = sbx_profile_apply(&L->c, p, L->defaults[pt->file], file, "[defaults]");
	snprintf(where, sizeof(where), "profile '%s'", pt->name);
	if (r == 0)
		r = sbx_profile_apply(&L->c, p, pt->tab, file, where);
	snprintf(where, sizeof(where), "[env.%s.defaults]", env ? env : "");
	if (r == 0 && e && e->defaults)
		r = sbx_profile_apply(&L->c, p, e->defaults, file, where);
	snprintf(where, sizeof(where), "env '%s' overlay of profile '%s'", env ? env : "", pt->name);
	if (r == 0 && o)
		r = sbx_profile_apply(&L->c, p, o->tab, L->pol->files[o->file], where);
	return r;
}

static int resolve(struct loader *L, const char *env)
{
	struct sbx_policy *pol = L->pol;
	int r = 0;

	/* Skipped profiles stay zeroed, which sbx_profile_clear() accepts; they
	 * only exist when the load fails anyway. */
	pol->profiles = calloc(L->n_profs + 1, sizeof(*pol->profiles));
	if (!pol->profiles)
		return -ENOMEM;
	pol->n_profiles = L->n_profs;
	/* L->profs is sorted by name, so the result is too. */
	for (size_t i = 0; i < L->n_profs && r == 0; i++) {
		const struct ptab *pt = &L->profs[i];
		struct sbx_profile *p = &pol->profiles[i];

		if (layers_bad(L, pt, env))
			continue;
		sbx_profile_init(p);
		p->pos = (struct sbx_srcpos){ pol->files[pt->file], pt->pos.line, pt->pos.col };
		p->name = strdup(pt->name);
		if (!p->name)
			return -ENOMEM;
		r = apply_layers(L, pt, env, p);
		if (r == 0 && !p->provider && !(p->provider = strdup("auto")))
			r = -ENOMEM;
		if (r == 0)
			r = sbx_profile_check(&L->c, p);
	}
	return r;
}

/* ---- entry points ------------------------------------------------------ */

static int scan_all(struct loader *L, const char *env)
{
	int r = 0;

	L->defaults = calloc(L->pol->n_files + 1, sizeof(*L->defaults));
	L->bad_defaults = calloc(L->pol->n_files + 1, sizeof(*L->bad_defaults));
	L->pol->seeds_dialect = calloc(L->pol->n_files + 1, sizeof(*L->pol->seeds_dialect));
	if (!L->defaults || !L->bad_defaults || !L->pol->seeds_dialect)
		return -ENOMEM;
	for (size_t f = 0; f < L->pol->n_files && r == 0; f++)
		if (L->roots[f])
			r = scan_file(L, f);
	if (r < 0 || L->broken)
		return r;
	r = check_structure(L);
	if (r == 0 && env)
		r = check_env(L, env);
	if (r == 0)
		r = validate_layers(L);
	return r;
}

/* Takes the result r of reading the files; frees the loader's state. */
static int finish(struct loader *L, int r, const char *env, struct sbx_policy **ret,
		  struct sbx_diags *diags)
{
	if (r == 0 && !L->broken)
		r = scan_all(L, env);
	if (r == 0 && env && !(L->pol->env = strdup(env)))
		r = -ENOMEM;
	/* Resolve even after errors, to report those of the other profiles too. */
	if (r == 0 && !L->broken && !L->no_env)
		r = resolve(L, env);
	if (r == 0 && L->c.n)
		r = -EINVAL;
	for (size_t f = 0; L->roots && f < L->pol->n_files; f++)
		toml_free(L->roots[f]);
	free(L->roots);
	free(L->defaults);
	free(L->bad_defaults);
	free(L->profs);
	free(L->ovls);
	free(L->envs);
	free(L->ids);
	if (flush_diags(&L->c, diags) < 0)
		r = -ENOMEM;
	if (r < 0) {
		sbx_policy_free(L->pol);
		return r;
	}
	*ret = L->pol;
	return 0;
}

int sbx_policy_load(const char *const *paths, size_t n_paths, const char *env, struct sbx_policy **ret,
		    struct sbx_diags *diags)
{
	struct loader L = { .stdin_idx = NO_FILE };
	int r = 0;

	if (!ret || (n_paths && !paths))
		return -EINVAL;
	L.pol = calloc(1, sizeof(*L.pol));
	if (!L.pol)
		return -ENOMEM;
	if (n_paths == 0) {
		L.broken = true;
		r = pctx_diag(&L.c, NULL, NULL, "no policy files given");
	}
	for (size_t i = 0; i < n_paths && r == 0; i++)
		r = add_path(&L, paths[i]);
	for (size_t f = 0; f < L.pol->n_files && r == 0; f++)
		r = load_file(&L, f);
	return finish(&L, r, env, ret, diags);
}

int sbx_policy_load_buffer(const char *name, const char *buf, size_t len, const char *env,
			   struct sbx_policy **ret, struct sbx_diags *diags)
{
	struct loader L = { .stdin_idx = NO_FILE };
	int r;

	if (!ret || (!buf && len))
		return -EINVAL;
	L.pol = calloc(1, sizeof(*L.pol));
	if (!L.pol)
		return -ENOMEM;
	r = add_file_id(&L, name ? name : "<buffer>", NULL);
	if (r == 0)
		r = parse_buffer(&L, 0, buf ? buf : "", len);
	return finish(&L, r, env, ret, diags);
}

const struct sbx_profile *sbx_policy_find(const struct sbx_policy *p, const char *name)
{
	size_t lo = 0, hi;

	if (!p || !name)
		return NULL;
	for (hi = p->n_profiles; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, p->profiles[mid].name);

		if (c == 0)
			return &p->profiles[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

struct sbx_policy *sbx_policy_free(struct sbx_policy *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n_profiles; i++)
		sbx_profile_clear(&p->profiles[i]);
	free(p->profiles);
	for (size_t i = 0; i < p->n_files; i++)
		free(p->files[i]);
	free(p->files);
	free(p->seeds_dialect);
	free(p->env);
	free(p);
	return NULL;
}
