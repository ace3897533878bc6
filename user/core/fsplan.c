/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/landlock.h>
#include <stdarg.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsplan.h"
#include "util/util.h"

#define R_ SBX_FACC_R
#define RW_ (SBX_FACC_R | SBX_FACC_W)
#define RX_ (SBX_FACC_R | SBX_FACC_X)
#define RWX_ (SBX_FACC_R | SBX_FACC_W | SBX_FACC_X)

/*
 * What every sandbox sees. A program must be able to run: the system
 * directories (read, execute), the few /etc files programs read, a new /proc,
 * the harmless device nodes and private, non-executable /tmp and /dev/shm.
 * Under fs.mode none these are the only paths there are (and the BPF LSM and
 * Landlock rules of that mode); in the other modes the host's root is under
 * them and the view keeps only its private /proc, /dev and /tmp. The order is
 * the mount order: /dev's nodes before /dev/shm.
 */
static const struct sbx_fsbase base_table[] = {
	{ "/usr/", RX_, SBX_FSBASE_HOST }, { "/bin/", RX_, SBX_FSBASE_HOST },
	{ "/sbin/", RX_, SBX_FSBASE_HOST }, { "/lib/", RX_, SBX_FSBASE_HOST },
	{ "/lib32/", RX_, SBX_FSBASE_HOST }, { "/lib64/", RX_, SBX_FSBASE_HOST },
	{ "/libx32/", RX_, SBX_FSBASE_HOST },
	{ "/etc/passwd", R_, SBX_FSBASE_HOST }, { "/etc/group", R_, SBX_FSBASE_HOST },
	{ "/etc/hosts", R_, SBX_FSBASE_HOST }, { "/etc/resolv.conf", R_, SBX_FSBASE_HOST },
	{ "/etc/nsswitch.conf", R_, SBX_FSBASE_HOST }, { "/etc/ld.so.cache", R_, SBX_FSBASE_HOST },
	{ "/etc/ld.so.conf", R_, SBX_FSBASE_HOST }, { "/etc/ld.so.conf.d/", R_, SBX_FSBASE_HOST },
	{ "/etc/localtime", R_, SBX_FSBASE_HOST }, { "/etc/ssl/", R_, SBX_FSBASE_HOST },
	{ "/etc/ca-certificates/", R_, SBX_FSBASE_HOST },
	{ "/etc/alternatives/", R_, SBX_FSBASE_HOST }, { "/etc/host.conf", R_, SBX_FSBASE_HOST },
	{ "/etc/gai.conf", R_, SBX_FSBASE_HOST }, { "/etc/mime.types", R_, SBX_FSBASE_HOST },
	{ "/proc/", R_, SBX_FSBASE_PROC },
	{ "/dev/null", RW_, SBX_FSBASE_DEVICE }, { "/dev/zero", R_, SBX_FSBASE_DEVICE },
	{ "/dev/full", RW_, SBX_FSBASE_DEVICE }, { "/dev/random", R_, SBX_FSBASE_DEVICE },
	{ "/dev/urandom", R_, SBX_FSBASE_DEVICE }, { "/dev/tty", RW_, SBX_FSBASE_DEVICE },
	{ "/dev/shm/", RW_, SBX_FSBASE_TMPFS },
	{ "/tmp/", RW_, SBX_FSBASE_TMPFS },
};

#define N_BASE (sizeof(base_table) / sizeof(base_table[0]))

_Static_assert(N_BASE <= sizeof(((struct sbx_fsplan *)0)->view) / sizeof(const void *),
	       "the plan's view holds the whole base table");

const struct sbx_fsbase *sbx_fsbase_table(size_t *ret_n)
{
	*ret_n = N_BASE;
	return base_table;
}

static uint32_t mode_access(enum sbx_fs_mode m)
{
	switch (m) {
	case SBX_FS_READ_ONLY: return RX_;
	case SBX_FS_READ_WRITE:
	case SBX_FS_FULL: return RWX_;
	default: return 0;
	}
}

/* ---- the normalised rules ------------------------------------------------ */

static void set_rule(struct sbx_fsplan_rule *r, const char *path, uint32_t access, uint32_t idx,
		     enum sbx_fsplan_origin origin)
{
	size_t len = strlen(path);

	memset(r, 0, sizeof(*r));
	if (len >= sizeof(r->path))
		len = sizeof(r->path) - 1;	/* validation refuses these earlier */
	memcpy(r->path, path, len);
	r->len = (uint16_t)len;
	r->dir = len > 0 && path[len - 1] == '/';
	r->access = access;
	r->rule = idx;
	r->origin = origin;
	r->flags = origin == SBX_FSPLAN_EXEC ? SBX_PRF_EXEC_LIST : 0;
	r->cover = -1;
}

static bool is_exec(const struct sbx_fsplan_rule *r)
{
	return r->flags & SBX_PRF_EXEC_LIST;
}

/* Rules before exec entries; shorter paths first (a mount view binds in this
 * order, so the longer rule is mounted over the shorter and wins); the
 * profile's own rule before a base entry of the same path. */
static int cmp_rule(const void *a, const void *b)
{
	const struct sbx_fsplan_rule *x = a, *y = b;
	int c;

	if (is_exec(x) != is_exec(y))
		return is_exec(x) ? 1 : -1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	c = strcmp(x->path, y->path);
	if (c)
		return c;
	return x->origin < y->origin ? -1 : x->origin > y->origin;
}

static bool matches(const struct sbx_fsplan_rule *r, const char *path)
{
	if (r->dir)
		return !strncmp(path, r->path, r->len);
	return !strcmp(path, r->path);
}

/* The longest rule matching path among the exec entries or the others, of
 * fewer than max_len bytes; -1: none. The one longest match of sbx: the
 * decision, the covers and the view's checks all come from here. A file rule
 * counts one byte more, like its NUL in the LPM key. */
static int longest(const struct sbx_fsplan *pl, const char *path, bool exec_list, size_t max_len)
{
	int best = -1;

	for (size_t i = 0; i < pl->n; i++) {
		const struct sbx_fsplan_rule *r = &pl->rules[i];

		if (is_exec(r) != exec_list || r->len >= max_len || !matches(r, path))
			continue;
		if (best < 0 || r->len + !r->dir > pl->rules[best].len + !pl->rules[best].dir)
			best = (int)i;
	}
	return best;
}

/* The covers are what longest() finds, without asking it for every rule
 * (quadratic: 2.4 G instructions at 10,000 rules). Only a directory rule
 * covers another path, and only at a '/' of it, so each rule looks up its
 * own prefixes, longest first, among the directory rules sorted by path. */
struct dir_index {
	const struct sbx_fsplan_rule *rules;
	size_t *v;			/* indexes of the directory rules, by path */
	size_t n;
};

static int cmp_dir_index(const void *a, const void *b, void *ctx)
{
	const struct sbx_fsplan_rule *rules = ctx;

	return strcmp(rules[*(const size_t *)a].path, rules[*(const size_t *)b].path);
}

/* The directory rule whose path is exactly path[0..len), or -1. */
static int dir_find(const struct dir_index *d, const char *path, size_t len)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct sbx_fsplan_rule *r = &d->rules[d->v[mid]];
		int c = strncmp(r->path, path, len);

		if (!c)
			c = r->len > len;
		if (!c)
			return (int)d->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* longest(pl, r->path, false, r->len) for a rule; for an exec entry
 * longest(pl, r->path, false, SIZE_MAX), where a file rule of the same path
 * (one byte longer by its NUL) comes first. */
static int find_cover(const struct dir_index *d, const struct dir_index *files,
		      const struct sbx_fsplan_rule *r)
{
	size_t k = r->len;
	int c;

	if (is_exec(r)) {
		if (!r->dir && (c = dir_find(files, r->path, r->len)) >= 0)
			return c;
		if (r->dir && (c = dir_find(d, r->path, r->len)) >= 0)
			return c;
	}
	while (k > 0) {
		do
			k--;
		while (k > 0 && r->path[k - 1] != '/');
		if (k && (c = dir_find(d, r->path, k)) >= 0)
			return c;
	}
	return -1;
}

static int index_rules(const struct sbx_fsplan *pl, bool dir, struct dir_index *ret)
{
	ret->rules = pl->rules;
	ret->n = 0;
	ret->v = malloc((pl->n ? pl->n : 1) * sizeof(*ret->v));
	if (!ret->v)
		return -ENOMEM;
	for (size_t i = 0; i < pl->n; i++)
		if (!is_exec(&pl->rules[i]) && pl->rules[i].dir == dir)
			ret->v[ret->n++] = i;
	qsort_r(ret->v, ret->n, sizeof(*ret->v), cmp_dir_index, (void *)pl->rules);
	return 0;
}

static void covers_slow(struct sbx_fsplan *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		struct sbx_fsplan_rule *r = &pl->rules[i];

		r->cover = is_exec(r) ? longest(pl, r->path, false, SIZE_MAX)
				      : longest(pl, r->path, false, r->len);
	}
}

static void fill_covers(struct sbx_fsplan *pl)
{
	struct dir_index d, f;

	if (index_rules(pl, true, &d) < 0)
		return covers_slow(pl);	/* no memory for the index: the same, slowly */
	if (index_rules(pl, false, &f) < 0) {
		free(d.v);
		return covers_slow(pl);
	}
	for (size_t i = 0; i < pl->n; i++)
		pl->rules[i].cover = find_cover(&d, &f, &pl->rules[i]);
	free(d.v);
	free(f.v);
}

void sbx_fsplan_normalise(struct sbx_fsplan *pl)
{
	size_t n = 0;

	if (pl->n)
		qsort(pl->rules, pl->n, sizeof(pl->rules[0]), cmp_rule);
	for (size_t i = 0; i < pl->n; i++) {
		if (n && is_exec(&pl->rules[n - 1]) == is_exec(&pl->rules[i]) &&
		    !strcmp(pl->rules[n - 1].path, pl->rules[i].path))
			continue;	/* the same path once: the first (the profile's) stays */
		pl->rules[n++] = pl->rules[i];
	}
	pl->n = n;
	pl->n_rules = 0;
	for (size_t i = 0; i < n; i++)
		pl->n_rules += !is_exec(&pl->rules[i]);
	fill_covers(pl);
}

static bool profile_names(const struct sbx_profile *p, const char *path)
{
	for (size_t i = 0; i < p->fs.n_rules; i++)
		if (!strcmp(p->fs.rules[i].path, path))
			return true;
	return false;
}

/* Whether the base entry b is part of the rules: all of it under mode none;
 * what a provider's view makes itself in the other modes but full. */
static bool base_is_rule(const struct sbx_profile *p, bool view, const struct sbx_fsbase *b)
{
	if (profile_names(p, b->path))
		return false;	/* the profile's rule replaces it */
	if (p->fs.mode == SBX_FS_NONE)
		return true;
	if (view)
		return p->fs.mode != SBX_FS_FULL && b->kind != SBX_FSBASE_HOST;
	/* the host's own /dev under read-only (host provider): /dev/null,
	 * /dev/full and /dev/tty stay writable, as in every view */
	return p->fs.mode == SBX_FS_READ_ONLY && b->kind == SBX_FSBASE_DEVICE;
}

static int collect(struct sbx_fsplan *pl, const struct sbx_profile *p, bool view,
		   const uint8_t *exists)
{
	size_t n = p->fs.n_rules + p->fs.n_exec + N_BASE;

	pl->mode = p->fs.mode;
	pl->cfg.mode_access = mode_access(p->fs.mode);
	if (p->fs.mode == SBX_FS_FULL)
		pl->cfg.flags |= SBX_FSF_FULL;
	if (p->fs.n_exec)
		pl->cfg.flags |= SBX_FSF_EXEC_LIST;
	pl->rules = calloc(n, sizeof(*pl->rules));
	if (!pl->rules)
		return -ENOMEM;
	for (size_t i = 0; i < p->fs.n_rules; i++) {
		set_rule(&pl->rules[pl->n], p->fs.rules[i].path, p->fs.rules[i].access, (uint32_t)i,
			 SBX_FSPLAN_PROFILE);
		pl->rules[pl->n].host = exists[i];
		pl->rules[pl->n++].src = &p->fs.rules[i];
	}
	for (size_t i = 0; i < p->fs.n_exec; i++)
		set_rule(&pl->rules[pl->n++], p->fs.exec[i], RX_, (uint32_t)(p->fs.n_rules + i),
			 SBX_FSPLAN_EXEC);
	/* without a view the base entries sit on the host's tree: they add to
	 * the mode's access (Landlock cannot take any away below '/') */
	for (size_t i = 0; i < N_BASE; i++)
		if (base_is_rule(p, view, &base_table[i]))
			set_rule(&pl->rules[pl->n++], base_table[i].path,
				 base_table[i].access | (view ? 0 : pl->cfg.mode_access),
				 SBX_RULE_BASE, SBX_FSPLAN_BASE);
	sbx_fsplan_normalise(pl);
	return 0;
}

/* What a provider's view makes of the base table for this mode. */
static void collect_view(struct sbx_fsplan *pl)
{
	for (size_t i = 0; i < N_BASE; i++) {
		const struct sbx_fsbase *b = &base_table[i];

		if (b->kind == SBX_FSBASE_HOST && pl->mode != SBX_FS_NONE)
			continue;	/* the host's root is there */
		if (!strcmp(b->path, "/tmp/") && pl->mode == SBX_FS_FULL)
			continue;	/* full: the host's /tmp, as everything else */
		pl->view[pl->n_view++] = b;
	}
}

/* ---- refusals and degraded items ----------------------------------------- */

static int degrade(struct sbx_fsplan *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int degrade(struct sbx_fsplan *pl, const char *fmt, ...)
{
	char **nv = realloc(pl->degraded, (pl->n_degraded + 1) * sizeof(*nv));
	va_list ap;
	int r;

	if (!nv)
		return -ENOMEM;
	pl->degraded = nv;
	va_start(ap, fmt);
	r = vasprintf(&nv[pl->n_degraded], fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	pl->n_degraded++;
	return 0;
}

static bool strict(const struct sbx_profile *p)
{
	return p->enforcement == SBX_ENFORCE_STRICT;
}

/* BPF LSM where it works functionally, else Landlock, else the provider's
 * view (docs/security.md). */
enum sbx_fsplan_backend sbx_fsplan_backend(const struct sbx_profile *p,
					   const struct sbx_fsplan_features *ft)
{
	if (p->fs.mode == SBX_FS_FULL && !p->fs.n_rules && !p->fs.n_exec)
		return SBX_FSPLAN_NONE;
	if (ft->bpf_lsm)
		return SBX_FSPLAN_BPF_LSM;
	if (ft->landlock_abi > 0)
		return SBX_FSPLAN_LANDLOCK;
	return ft->view ? SBX_FSPLAN_VIEW : SBX_FSPLAN_UNENFORCED;
}

/* A rule that takes access away from what covers it (the mode or a profile
 * directory rule above it) is enforced by a provider's mount view only for a
 * path that exists when the sandbox starts and whose parents are not
 * writable: else the workload can create it, or rename a parent away and make
 * it again. (It looks at the host: whether the path exists.) */
static bool is_view_gap(const struct sbx_fsplan *pl, const struct sbx_fsplan_rule *r)
{
	const struct sbx_fsplan_rule *c = r;
	uint32_t cover = pl->cfg.mode_access;

	while (c->cover >= 0) {
		c = &pl->rules[c->cover];
		if (c->origin == SBX_FSPLAN_PROFILE) {
			cover = c->access;
			break;
		}
	}
	if (!(cover & ~r->access))
		return false;	/* grants only: Landlock expresses it */
	if (cover & SBX_FACC_W)
		return true;
	/* the view masks it, nothing can recreate it: it must exist (as the
	 * symlink check saw it, else asked now) */
	if (r->host)
		return r->host == SBX_FSPLAN_HOST_MISSING;
	return access(r->path, F_OK) < 0;
}

/* The first rule of the file the view cannot enforce, or NULL. */
static const struct sbx_fsplan_rule *view_gap(const struct sbx_fsplan *pl)
{
	const struct sbx_fsplan_rule *first = NULL;

	for (size_t i = 0; i < pl->n_rules; i++) {
		const struct sbx_fsplan_rule *r = &pl->rules[i];

		if (r->origin == SBX_FSPLAN_PROFILE && (!first || r->rule < first->rule) &&
		    is_view_gap(pl, r))
			first = r;
	}
	return first;
}

static int check_view_gap(struct sbx_fsplan *pl, const struct sbx_profile *p, char *why, size_t len)
{
	const struct sbx_fsplan_rule *g = view_gap(pl);
	const struct sbx_srcpos *pos;

	if (!g)
		return 0;
	pos = &g->src->pos;
	if (strict(p))
		return sbx_fail(why, len, -EOPNOTSUPP,
				"profile '%s': fs rule '%s' (%s:%u:%u) takes access away below a "
				"writable or missing path: Landlock can only add access and the mount view "
				"cannot hold it (BPF LSM can); enforcement = \"best-effort\" would run "
				"without it", p->name, g->path, pos->file, pos->line, pos->col);
	return degrade(pl, "fs rule '%s' (%s:%u:%u): enforced by the mount view only while the path "
		       "exists and its parents stay in place", g->path, pos->file, pos->line, pos->col);
}

/* ---- writable and executable memory under Landlock ------------------------ */

/*
 * Landlock judges exec, not mmap(PROT_EXEC): a listed dynamic program loads
 * whatever its loader is told to (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT,
 * GCONV_PATH, a plugin path), and nothing stops it from mapping a file the
 * workload wrote. So while exec is restricted, a path the workload can
 * write must be mounted noexec (the kernel then refuses the mapping). A
 * provider's view does that for every writable rule and tmpfs, but not for
 * the host's root under fs.mode read-write or full; the host provider has
 * no mounts of its own. The first such path, or NULL.
 */
static const char *mappable_writable(const struct sbx_fsplan *pl, bool view)
{
	if (pl->cfg.mode_access & SBX_FACC_W)
		return "/";
	if (view)
		return NULL;
	for (size_t i = 0; i < pl->n_rules; i++) {
		uint32_t a = pl->rules[i].access;

		if ((a & SBX_FACC_W) && !(a & SBX_FACC_X))
			return pl->rules[i].path;
	}
	return NULL;
}

static int check_exec_mappable(struct sbx_fsplan *pl, const struct sbx_profile *p,
			       const struct sbx_fsplan_features *ft, char *why, size_t len)
{
	const char *w;

	if (!(pl->cfg.flags & SBX_FSF_EXEC_LIST) && p->fs.mode != SBX_FS_NONE)
		return 0;	/* exec is not restricted */
	w = mappable_writable(pl, ft->view);
	if (!w)
		return 0;
	if (strict(p)) {
		snprintf(why, len, "profile '%s': the exec restriction (fs.exec or fs.mode none) "
			 "with '%s' writable under provider %s: Landlock does not check what a "
			 "program maps executable, so a listed program can load code written there "
			 "(LD_PRELOAD); it needs BPF LSM, or a provider's mount view that makes "
			 "writable paths noexec (process with fs.mode read-only or none); "
			 "enforcement = \"best-effort\" would run without it",
			 p->name, w, ft->provider ? ft->provider : "?");
		return -EOPNOTSUPP;
	}
	return degrade(pl, "fs.exec: '%s' is writable and not noexec: a listed program can map "
		       "code written there (Landlock does not check mmap)", w);
}

/* ---- the Landlock ruleset ------------------------------------------------ */

/* The order of the file: fs.rules, fs.exec, then the base view. */
static int cmp_file_order(const void *a, const void *b, void *ctx)
{
	const struct sbx_fsplan *pl = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	uint32_t rx = pl->rules[x].rule, ry = pl->rules[y].rule;

	if (rx != ry)
		return rx < ry ? -1 : 1;
	return x < y ? -1 : x > y;
}

static void landlock_rule(const struct sbx_fsplan_rule *r, int cover, struct sbx_landlock_rule *ret)
{
	*ret = (struct sbx_landlock_rule){ .path = r->path, .access = r->access, .rule = r->rule,
					   .exec_list = is_exec(r), .cover = cover };
	if (r->src) {
		ret->file = r->src->pos.file;
		ret->line = r->src->pos.line;
		ret->col = r->src->pos.col;
	}
}

/* In the order of the file, so that a refusal names the first rule written
 * that Landlock cannot express (the covers follow the reordering). */
int sbx_fsplan_to_landlock(const struct sbx_fsplan *pl, struct sbx_landlock_policy *ret)
{
	size_t n = pl->n ? pl->n : 1;
	struct sbx_landlock_rule *v = calloc(n, sizeof(*v));
	size_t *order = calloc(n, sizeof(*order)), *at = calloc(n, sizeof(*at));

	if (!v || !order || !at) {
		free(v);
		free(order);
		free(at);
		return -ENOMEM;
	}
	for (size_t i = 0; i < pl->n; i++)
		order[i] = i;
	qsort_r(order, pl->n, sizeof(*order), cmp_file_order, (void *)pl);
	for (size_t k = 0; k < pl->n; k++)
		at[order[k]] = k;
	for (size_t k = 0; k < pl->n; k++) {
		const struct sbx_fsplan_rule *r = &pl->rules[order[k]];

		landlock_rule(r, r->cover < 0 ? -1 : (int)at[r->cover], &v[k]);
	}
	free(order);
	free(at);
	*ret = (struct sbx_landlock_policy){ .mode_access = pl->cfg.mode_access,
					     .full = pl->cfg.flags & SBX_FSF_FULL,
					     .exec_list = pl->cfg.flags & SBX_FSF_EXEC_LIST,
					     .rules = v, .n = pl->n };
	return 0;
}

/* The workload's ruleset: the fs policy when Landlock is the backend,
 * scoping always. A provider's mount view already enforces what Landlock
 * cannot express (masks, read-only and noexec binds), so with a view only the
 * grants matter (and what the view cannot hold, view_gap); without one an
 * inexpressible rule is refused under strict and listed under best-effort. */
static int plan_landlock(struct sbx_fsplan *pl, const struct sbx_profile *p,
			 const struct sbx_fsplan_features *ft, char *why, size_t len)
{
	bool best_effort = ft->view || !strict(p);
	struct sbx_landlock_policy f;
	char **un = NULL, lwhy[1024] = "";
	size_t n = 0;
	int r;

	if (pl->backend != SBX_FSPLAN_LANDLOCK)
		return sbx_landlock_plan(NULL, ft->landlock_abi, &pl->ll, why, len, NULL, NULL);
	if (ft->view && (r = check_view_gap(pl, p, why, len)) < 0)
		return r;
	if ((r = check_exec_mappable(pl, p, ft, why, len)) < 0)
		return r;
	r = sbx_fsplan_to_landlock(pl, &f);
	if (r < 0)
		return r;
	r = sbx_landlock_plan(&f, ft->landlock_abi, &pl->ll, lwhy, sizeof(lwhy),
			      best_effort ? &un : NULL, &n);
	free((void *)f.rules);
	if (r < 0)
		return sbx_fail(why, len, r, "profile '%s': %s", p->name, lwhy);
	for (size_t i = 0; i < n && !ft->view && r == 0; i++)
		r = degrade(pl, "%s", un[i]);
	sbx_landlock_strv_free(un, n);
	/* listing directories from "/" down: Landlock's READ_DIR covers the
	 * tree, and in the view only what it holds is there to list */
	if (ft->view && r == 0 && p->fs.mode != SBX_FS_FULL)
		r = sbx_landlock_plan_grant_rights(&pl->ll, "/", LANDLOCK_ACCESS_FS_READ_DIR);
	return r;
}

/* ---- rules a view cannot take --------------------------------------------- */

/* What a provider's view makes itself, never the host's: a rule granting
 * access at or below them would bind the host's procfs (every host
 * process), its devices or sysfs over the private ones (or into a view
 * without them). /tmp/ and /dev/shm/ themselves name the private tmpfs: such
 * a rule gives its access (sbx_fsplan_provided). A host directory named
 * below /tmp ("/tmp/build/") is bound into the private /tmp: it shares that
 * directory alone, which the profile names. A deny is a mask in the view. */
static const char *const provided_trees[] = { "/proc", "/dev", "/sys" };

static bool at_or_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == 0);
}

static const char *provided_tree(const struct sbx_fs_rule *r)
{
	if (!r->access || !strcmp(r->path, "/tmp/") || !strcmp(r->path, "/dev/shm/"))
		return NULL;
	for (size_t i = 0; i < sizeof(provided_trees) / sizeof(provided_trees[0]); i++)
		if (at_or_below(r->path, provided_trees[i]))
			return provided_trees[i];
	return NULL;
}

/* The leading directories of the previous path that exist on the host and
 * are no symlinks: rules share them ("/srv/app/a", "/srv/app/b/"), and one
 * lstat of each per rule was 60,000 system calls at 10,000 rules. */
struct symlink_memo {
	char dir[SBX_MAX_PATH_LEN];	/* "/srv/app" */
	size_t len;
};

/* How much of path memo vouches for: a prefix ending where path has a '/'. */
static size_t memo_covers(const struct symlink_memo *m, const char *path)
{
	size_t k = 0;

	while (k < m->len && path[k] == m->dir[k])
		k++;
	while (k > 0 && !(path[k] == '/' && (k == m->len || m->dir[k] == '/')))
		k--;
	return k;
}

/* The first symlink along path on the host, as "/var/run -> /run" in link,
 * and path as the kernel resolves it in resolved (the part that does not
 * exist yet kept as written). false: no symlink (or nothing resolvable). */
static bool crosses_symlink(const char *path, struct symlink_memo *m, bool *ret_exists,
			    char *link, size_t llen, char *resolved, size_t rlen)
{
	char prefix[SBX_MAX_PATH_LEN], real[PATH_MAX], target[PATH_MAX];
	size_t known = memo_covers(m, path);
	const char *rest = known ? path + known : NULL;
	bool found = false;
	struct stat st;
	ssize_t n;

	m->len = known;
	for (const char *s = path + known + 1; *s; s++) {
		size_t k = strcspn(s, "/");

		snprintf(prefix, sizeof(prefix), "%.*s", (int)(s + k - path), path);
		if (lstat(prefix, &st) < 0)
			break;	/* does not exist (yet): nothing to follow */
		if (S_ISLNK(st.st_mode) && !found) {
			n = readlink(prefix, target, sizeof(target) - 1);
			target[n > 0 ? n : 0] = 0;
			snprintf(link, llen, "%s -> %s", prefix, target);
			found = true;
		}
		if (!found && S_ISDIR(st.st_mode) && s[k] == '/') {
			memcpy(m->dir, path, (size_t)(s + k - path));
			m->len = (size_t)(s + k - path);
		}
		rest = s + k;
		s += k;
		if (!*s)
			break;
	}
	/* (the path itself was looked up: "/" always exists) */
	*ret_exists = !path[1] || (rest && !*rest) || (rest && !strcmp(rest, "/"));
	if (!found || !rest)
		return false;
	snprintf(prefix, sizeof(prefix), "%.*s", (int)(rest - path), path);
	if (!realpath(prefix, real))
		return false;
	snprintf(resolved, rlen, "%s%s", strcmp(real, "/") ? real : "", rest);
	return true;
}

/* The loop of sbx_fsplan_rule_refusal; exists (optional, one per fs rule)
 * records what it saw of each rule's path: SBX_FSPLAN_HOST_*. */
static int rule_refusal(const struct sbx_profile *p, bool view, size_t *i, char *why, size_t len,
			uint8_t *exists)
{
	char link[2 * PATH_MAX + 8], resolved[PATH_MAX + SBX_MAX_PATH_LEN];
	struct symlink_memo memo = { .len = 0 };
	bool there;

	for (; *i < p->fs.n_rules; (*i)++) {
		const struct sbx_fs_rule *r = &p->fs.rules[*i];
		const char *tree = view ? provided_tree(r) : NULL;

		if (p->fs.mode == SBX_FS_FULL)
			return -ENOENT;	/* rules are ignored */
		if (tree) {
			snprintf(why, len, "profile '%s': fs rule '%s' (%s:%u:%u) grants access in %s, "
				 "which the sandbox's view provides itself (never the host's): only "
				 "a deny (a mask) is possible there", p->name, r->path, r->pos.file,
				 r->pos.line, r->pos.col, tree);
			return 0;
		}
		if (crosses_symlink(r->path, &memo, &there, link, sizeof(link), resolved,
				    sizeof(resolved))) {
			snprintf(why, len, "profile '%s': fs rule '%s' (%s:%u:%u) crosses a symlink "
				 "(%s): rules name paths as the kernel resolves them; write '%s'",
				 p->name, r->path, r->pos.file, r->pos.line, r->pos.col, link, resolved);
			return 0;
		}
		if (exists)
			exists[*i] = there ? SBX_FSPLAN_HOST_EXISTS : SBX_FSPLAN_HOST_MISSING;
	}
	return -ENOENT;
}

int sbx_fsplan_rule_refusal(const struct sbx_profile *p, bool view, size_t *i, char *why,
			    size_t len)
{
	return rule_refusal(p, view, i, why, len, NULL);
}

static int check_rules(const struct sbx_profile *p, bool view, char *why, size_t len,
		       uint8_t *exists)
{
	size_t i = 0;

	return rule_refusal(p, view, &i, why, len, exists) == 0 ? -EOPNOTSUPP : 0;
}

/* ---- the plan -------------------------------------------------------------- */

int sbx_fsplan_make(const struct sbx_profile *p, const struct sbx_fsplan_features *ft,
		    struct sbx_fsplan *ret, char *why, size_t len)
{
	struct sbx_fsplan pl = { 0 };
	uint8_t *exists = calloc(p->fs.n_rules ? p->fs.n_rules : 1, 1);
	int r;

	if (len)
		why[0] = 0;
	if (!exists)
		return -ENOMEM;
	r = check_rules(p, ft->view, why, len, exists);
	if (r < 0) {
		free(exists);
		return r;
	}
	r = collect(&pl, p, ft->view, exists);
	free(exists);
	pl.backend = sbx_fsplan_backend(p, ft);
	if (pl.backend == SBX_FSPLAN_BPF_LSM)
		pl.cfg.flags |= SBX_FSF_ENFORCE;
	if (!r)
		r = plan_landlock(&pl, p, ft, why, len);
	if (r < 0) {
		if (len && !why[0])
			snprintf(why, len, "filesystem plan: %s", strerror(-r));
		sbx_fsplan_free(&pl);
		return r;
	}
	collect_view(&pl);
	*ret = pl;
	return 0;
}

void sbx_fsplan_free(struct sbx_fsplan *pl)
{
	if (!pl)
		return;
	free(pl->rules);
	sbx_landlock_strv_free(pl->degraded, pl->n_degraded);
	sbx_landlock_plan_free(&pl->ll);
	*pl = (struct sbx_fsplan){ 0 };
}

int sbx_fsplan_copy(const struct sbx_fsplan *src, struct sbx_fsplan *ret)
{
	struct sbx_fsplan c = *src;

	c.rules = calloc(src->n + 1, sizeof(*c.rules));
	if (!c.rules)
		return -ENOMEM;
	if (src->n)
		memcpy(c.rules, src->rules, src->n * sizeof(*c.rules));
	c.degraded = NULL;
	c.n_degraded = 0;
	c.ll = (struct sbx_landlock_plan){ 0 };
	*ret = c;
	return 0;
}

int sbx_fsplan_add_grant(struct sbx_fsplan *pl, const char *path, uint32_t access)
{
	struct sbx_fsplan_rule *nv;
	size_t len = strlen(path);

	if (!len || path[0] != '/' || len >= SBX_MAX_PATH_LEN)
		return -EINVAL;
	nv = realloc(pl->rules, (pl->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	pl->rules = nv;
	set_rule(&nv[pl->n++], path, access, SBX_RULE_NONE, SBX_FSPLAN_PROVIDER);
	sbx_fsplan_normalise(pl);
	return 0;
}

void sbx_fsplan_mount_path(const char *path, char *out, size_t len)
{
	size_t n;

	snprintf(out, len, "%s", path);
	n = strlen(out);
	if (n > 1 && out[n - 1] == '/')
		out[n - 1] = 0;
}

static bool under(const char *path, const char *dir, size_t n)
{
	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == 0);
}

bool sbx_fsplan_view_allows(const struct sbx_fsplan *pl, const char *path, uint32_t access)
{
	int r;

	if (pl->mode == SBX_FS_FULL)
		return true;
	r = longest(pl, path, false, SIZE_MAX);
	return ((r >= 0 ? pl->rules[r].access : pl->cfg.mode_access) & access) == access;
}

bool sbx_fsplan_view_shows(const struct sbx_fsplan *pl, const char *path)
{
	if (pl->mode == SBX_FS_FULL)
		return true;
	if (pl->mode != SBX_FS_NONE)
		return !under(path, "/tmp", 4) && !under(path, "/proc", 5) && !under(path, "/dev", 4);
	for (size_t i = 0; i < pl->n_view; i++) {
		const struct sbx_fsbase *b = pl->view[i];
		size_t n = strlen(b->path);

		if (b->kind != SBX_FSBASE_HOST)
			continue;
		if (b->path[n - 1] == '/' ? under(path, b->path, n - 1) : !strcmp(path, b->path))
			return true;
	}
	return false;
}

const struct sbx_fsplan_rule *sbx_fsplan_next_grant(const struct sbx_fsplan *pl,
						    const struct sbx_fsplan_rule *prev,
						    uint32_t access)
{
	size_t i = prev ? (size_t)(prev - pl->rules) + 1 : 0;

	for (; i < pl->n_rules; i++)
		if (pl->rules[i].origin == SBX_FSPLAN_PROFILE && (pl->rules[i].access & access))
			return &pl->rules[i];
	return NULL;
}

/* ---- the BPF LSM side: map keys, and the decision it makes ----------------- */

void sbx_fsplan_key(const struct sbx_fsplan_rule *r, uint32_t policy_id, struct sbx_path_key *ret)
{
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->path, r->path, r->len);
	/* a file rule includes its NUL, so "/etc/passwd" does not match "/etc/passwdx" */
	ret->prefixlen = 32 + 8 * (uint32_t)(r->len + (r->dir ? 0 : 1));
	ret->policy_id = htonl(policy_id);
}

bool sbx_fsplan_decide(const struct sbx_fsplan *pl, const char *path, uint32_t access,
		       uint32_t *ret_rule)
{
	int r, x;
	uint32_t allowed;

	*ret_rule = SBX_RULE_DEFAULT;
	if (pl->cfg.flags & SBX_FSF_FULL)
		return true;
	r = longest(pl, path, false, SIZE_MAX);
	allowed = r >= 0 ? pl->rules[r].access : pl->cfg.mode_access;
	if (r >= 0)
		*ret_rule = pl->rules[r].rule;
	if ((access & SBX_FACC_X) && (pl->cfg.flags & SBX_FSF_EXEC_LIST)) {
		x = longest(pl, path, true, SIZE_MAX);
		if (x < 0)
			return false;
		/* the exec list grants execution; reading the file still follows the rules */
		allowed |= SBX_FACC_X;
		if (r < 0)
			*ret_rule = pl->rules[x].rule;
	}
	return (access & ~allowed) == 0;
}

bool sbx_fsplan_provided(const struct sbx_fsplan *pl, const char *path)
{
	for (size_t i = 0; i < pl->n_view; i++)
		if (pl->view[i]->kind != SBX_FSBASE_HOST && !strcmp(pl->view[i]->path, path))
			return true;
	return false;
}

/* (the private tmpfs mounts are never executable, whatever a rule says:
 * docs/policy.md) */
uint32_t sbx_fsplan_provided_access(const struct sbx_fsplan *pl, const struct sbx_fsbase *b)
{
	for (size_t i = 0; i < pl->n_rules; i++)
		if (pl->rules[i].origin == SBX_FSPLAN_PROFILE && !strcmp(pl->rules[i].path, b->path))
			return pl->rules[i].access & ~(uint32_t)(b->kind == SBX_FSBASE_TMPFS ? SBX_FACC_X : 0);
	return b->access;
}
