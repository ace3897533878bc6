/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernel/landlock.h"
#include "policy.h"
#include "util/util.h"

/* The access rights by value: <linux/landlock.h> of older distributions
 * lacks the later ones, and the values are ABI. */
#define LL_EXECUTE	(1ULL << 0)
#define LL_WRITE_FILE	(1ULL << 1)
#define LL_READ_FILE	(1ULL << 2)
#define LL_READ_DIR	(1ULL << 3)
#define LL_REMOVE_DIR	(1ULL << 4)
#define LL_REMOVE_FILE	(1ULL << 5)
#define LL_MAKE_CHAR	(1ULL << 6)
#define LL_MAKE_DIR	(1ULL << 7)
#define LL_MAKE_REG	(1ULL << 8)
#define LL_MAKE_SOCK	(1ULL << 9)
#define LL_MAKE_FIFO	(1ULL << 10)
#define LL_MAKE_BLOCK	(1ULL << 11)
#define LL_MAKE_SYM	(1ULL << 12)
#define LL_REFER	(1ULL << 13)	/* ABI 2 */
#define LL_TRUNCATE	(1ULL << 14)	/* ABI 3 */
#define LL_IOCTL_DEV	(1ULL << 15)	/* ABI 5 */

#define LL_SCOPE_ABSTRACT_UNIX_SOCKET	(1ULL << 0)	/* ABI 6 */
#define LL_SCOPE_SIGNAL			(1ULL << 1)	/* ABI 6 */

/* What a rule on a non-directory may carry (others are EINVAL there). */
#define LL_FILE_RIGHTS	(LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV)

#define LL_R	(LL_READ_FILE | LL_READ_DIR)
#define LL_W	(LL_WRITE_FILE | LL_REMOVE_DIR | LL_REMOVE_FILE | LL_MAKE_CHAR | LL_MAKE_DIR | \
		 LL_MAKE_REG | LL_MAKE_SOCK | LL_MAKE_FIFO | LL_MAKE_BLOCK | LL_MAKE_SYM | \
		 LL_REFER | LL_TRUNCATE | LL_IOCTL_DEV)
#define LL_X	LL_EXECUTE

#define FACC_ALL (SBX_FACC_R | SBX_FACC_W | SBX_FACC_X)

/* struct landlock_ruleset_attr with every field up to ABI 6 ("scoped"); the
 * kernel accepts a larger struct as long as the fields it lacks are zero. */
struct ll_ruleset_attr {
	__u64 handled_access_fs;
	__u64 handled_access_net;
	__u64 scoped;
};

uint64_t sbx_landlock_fs_all(int abi)
{
	uint64_t m;

	if (abi <= 0)
		return 0;
	m = LL_MAKE_SYM | (LL_MAKE_SYM - 1);		/* ABI 1: bits 0..12 */
	if (abi >= 2)
		m |= LL_REFER;
	if (abi >= 3)
		m |= LL_TRUNCATE;
	if (abi >= 5)
		m |= LL_IOCTL_DEV;
	return m;
}

uint64_t sbx_landlock_rights(uint32_t access, int abi)
{
	uint64_t r = 0;

	if (access & SBX_FACC_R)
		r |= LL_R;
	if (access & SBX_FACC_W)
		r |= LL_W;
	if (access & SBX_FACC_X)
		r |= LL_X;
	return r & sbx_landlock_fs_all(abi);
}

/* ---- planning ---------------------------------------------------------- */

struct plan_ctx {
	const struct sbx_landlock_policy *f;
	int abi;
	bool strict;
	char *why;
	size_t len;
	char **un;
	size_t n_un;
	uint32_t base;			/* fs.mode's access as Landlock grants it on "/" */
	struct sbx_landlock_plan pl;
};

/* The access of a rule as Landlock must grant it: with an exec list, x comes
 * from the list alone, so rules and mode grant no EXECUTE. */
static uint32_t eff(const struct plan_ctx *c, uint32_t access)
{
	return access & (c->f->exec_list ? (SBX_FACC_R | SBX_FACC_W) : FACC_ALL);
}

static const char *mode_name(uint32_t mode_access)
{
	if ((mode_access & FACC_ALL) == FACC_ALL)
		return "read-write";
	return mode_access ? "read-only" : "none";
}

/* "fs rule '/etc/shadow' deny (policy.toml:12:5)" / "fs.exec entry '/usr/bin/'" */
static void rule_name(const struct sbx_landlock_rule *r, char *buf, size_t len)
{
	char a[8];

	if (r->exec_list) {
		snprintf(buf, len, "fs.exec entry '%s'", r->path);
		return;
	}
	sbx_access_str(r->access, a);
	if (r->file && r->line)
		snprintf(buf, len, "fs rule '%s' %s (%s:%u:%u)", r->path, a, r->file, r->line, r->col);
	else
		snprintf(buf, len, "fs rule '%s' %s", r->path, a);
}

static int issue(struct plan_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int issue(struct plan_ctx *c, const char *fmt, ...)
{
	char *s = NULL, **nv;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	if (c->strict) {
		snprintf(c->why, c->len, "%s; enforcement = \"best-effort\" would run without it", s);
		free(s);
		return -EOPNOTSUPP;
	}
	nv = realloc(c->un, (c->n_un + 1) * sizeof(*nv));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	c->un = nv;
	c->un[c->n_un++] = s;
	return 0;
}

static const struct sbx_landlock_rule *cover_of(const struct plan_ctx *c,
						const struct sbx_landlock_rule *r)
{
	return r->cover >= 0 && (size_t)r->cover < c->f->n ? &c->f->rules[r->cover] : NULL;
}

/* Landlock grants the union of r and every grant above it; the policy means
 * r alone. Fine as long as nothing above gives more than r. The covers of a
 * rule, one after the other, are every directory rule above it, nearest
 * first: the first that gives more is the one to name. */
static int check_narrowing(struct plan_ctx *c, const struct sbx_landlock_rule *r)
{
	const struct sbx_landlock_rule *worst = cover_of(c, r);
	uint32_t mine = eff(c, r->access), lost;
	char name[SBX_MAX_PATH_LEN + 96], a[8], l[8];

	for (size_t hops = 0; worst && !(eff(c, worst->access) & ~mine) && hops < c->f->n; hops++)
		worst = cover_of(c, worst);
	lost = (worst ? eff(c, worst->access) : c->base) & ~mine;
	if (!lost)
		return 0;
	rule_name(r, name, sizeof(name));
	sbx_access_str(lost, l);
	if (worst) {
		sbx_access_str(worst->access, a);
		return issue(c, "%s is inside '%s' %s: Landlock can only add access, so '%s' stays "
			     "allowed there (taking access away below a granted directory needs BPF LSM)",
			     name, worst->path, a, l);
	}
	sbx_access_str(c->f->mode_access, a);
	return issue(c, "%s is inside fs.mode %s ('/' %s): Landlock can only add access, so '%s' "
		     "stays allowed there (taking access away below a granted directory needs BPF LSM)",
		     name, mode_name(c->f->mode_access), a, l);
}

/* execve opens the file for reading: Landlock checks READ_FILE with EXECUTE
 * (and EXECUTE on the ELF interpreter). x without r cannot be honoured. */
static int check_exec_needs_read(struct plan_ctx *c, const struct sbx_landlock_rule *r)
{
	const struct sbx_landlock_rule *d = cover_of(c, r);
	char name[SBX_MAX_PATH_LEN + 96], a[8];
	uint32_t e;

	if (!r->exec_list) {
		e = eff(c, r->access);
		if (!(e & SBX_FACC_X) || (e & SBX_FACC_R))
			return 0;
		rule_name(r, name, sizeof(name));
		return issue(c, "%s allows executing without reading: Landlock checks read access for "
			     "execve too (the kernel opens the file to load it), so nothing there can be "
			     "executed; add 'r' to the rule", name);
	}
	e = d ? eff(c, d->access) : c->base;
	if (e & SBX_FACC_R)
		return 0;
	rule_name(r, name, sizeof(name));
	if (d) {
		sbx_access_str(d->access, a);
		return issue(c, "%s cannot be executed under Landlock: execve needs read access "
			     "too (the kernel opens the file to load it) and '%s' %s does not give "
			     "it; add an 'r' rule for it", name, d->path, a);
	}
	return issue(c, "%s cannot be executed under Landlock: execve needs read access too "
		     "(the kernel opens the file to load it) and fs.mode %s does not give it; "
		     "add an 'r' rule for it", name, mode_name(c->f->mode_access));
}

/* Before ABI 3, truncate(2) and open(O_TRUNC) are not access-checked. */
static int check_truncate(struct plan_ctx *c)
{
	const struct sbx_landlock_rule *nw = NULL;
	char name[SBX_MAX_PATH_LEN + 96];

	if (c->abi >= 3)
		return 0;
	for (size_t i = 0; i < c->f->n && !nw; i++)
		if (!c->f->rules[i].exec_list && !(c->f->rules[i].access & SBX_FACC_W))
			nw = &c->f->rules[i];
	if (!(c->f->mode_access & SBX_FACC_W))
		snprintf(name, sizeof(name), "fs.mode %s", mode_name(c->f->mode_access));
	else if (nw)
		rule_name(nw, name, sizeof(name));
	else
		return 0;
	return issue(c, "%s denies writing, but Landlock ABI %d cannot refuse truncate(2) and "
		     "open(O_TRUNC) (LANDLOCK_ACCESS_FS_TRUNCATE needs ABI 3): files that can be "
		     "reached stay truncatable", name, c->abi);
}

static int add_grant(struct sbx_landlock_plan *pl, const char *path, bool dir, uint64_t access,
		     uint32_t rule)
{
	struct sbx_landlock_path *nv, *g;
	size_t len = strlen(path);

	if (!access)
		return 0;
	if (len == 0 || len >= sizeof(g->path) || path[0] != '/')
		return -EINVAL;
	nv = realloc(pl->paths, (pl->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	pl->paths = nv;
	g = &nv[pl->n++];
	memset(g, 0, sizeof(*g));
	memcpy(g->path, path, len + 1);
	g->dir = dir;
	g->access = dir ? access : access & LL_FILE_RIGHTS;
	g->rule = rule;
	return 0;
}

static bool is_dir(const char *path)
{
	size_t n = strlen(path);

	return n && path[n - 1] == '/';
}

/* Every rule checked, one problem per rule named, then the grants. */
static int plan_rules(struct plan_ctx *c)
{
	const struct sbx_landlock_policy *f = c->f;
	int r = 0;

	for (size_t i = 0; i < f->n && !r; i++) {
		const struct sbx_landlock_rule *ru = &f->rules[i];
		size_t before = c->n_un;

		if (!ru->exec_list)
			r = check_narrowing(c, ru);
		if (!r && c->n_un == before)
			r = check_exec_needs_read(c, ru);
	}
	if (!r)
		r = check_truncate(c);
	if (r)
		return r;
	c->pl.handled_fs = sbx_landlock_fs_all(c->abi);
	r = add_grant(&c->pl, "/", true, sbx_landlock_rights(c->base, c->abi), SBX_RULE_DEFAULT);
	for (size_t i = 0; i < f->n && !r; i++) {
		const struct sbx_landlock_rule *ru = &f->rules[i];
		uint64_t acc = ru->exec_list ? LL_EXECUTE : sbx_landlock_rights(eff(c, ru->access), c->abi);

		r = add_grant(&c->pl, ru->path, is_dir(ru->path), acc, ru->rule);
	}
	return r;
}

static int plan_fs(struct plan_ctx *c)
{
	const struct sbx_landlock_policy *f = c->f;

	if (f->full)
		return 0;			/* mode full: rules ignored, nothing restricted */
	if (c->abi <= 0)
		return issue(c, "fs.mode %s%s needs a filesystem backend, and this host has neither "
			     "BPF LSM nor Landlock", mode_name(f->mode_access),
			     f->n ? " and the fs rules" : "");
	c->base = eff(c, f->mode_access);
	/* a rule on "/" itself decides every path: the mode is never used */
	for (size_t i = 0; i < f->n; i++)
		if (!f->rules[i].exec_list && !strcmp(f->rules[i].path, "/"))
			c->base = 0;
	return plan_rules(c);
}

int sbx_landlock_plan(const struct sbx_landlock_policy *f, int abi, struct sbx_landlock_plan *ret,
		      char *why, size_t len, char ***ret_unenforced, size_t *n_unenforced)
{
	struct plan_ctx c = { .f = f, .abi = abi, .strict = !ret_unenforced, .why = why, .len = len };
	int r = 0;

	if (ret_unenforced) {
		*ret_unenforced = NULL;
		*n_unenforced = 0;
	}
	if (len)
		why[0] = 0;
	c.pl.abi = abi > 0 ? abi : 0;
	if (abi >= 6)
		c.pl.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
	if (f)
		r = plan_fs(&c);
	if (r < 0) {
		sbx_landlock_plan_free(&c.pl);
		sbx_landlock_strv_free(c.un, c.n_un);
		if (r == -ENOMEM && len && !why[0])
			snprintf(why, len, "out of memory");
		return r;
	}
	*ret = c.pl;
	if (ret_unenforced) {
		*ret_unenforced = c.un;
		*n_unenforced = c.n_un;
	}
	return 0;
}

int sbx_landlock_plan_grant(struct sbx_landlock_plan *pl, const char *path, uint32_t access)
{
	size_t len = strlen(path);

	if (!len || path[0] != '/' || len >= SBX_MAX_PATH_LEN)
		return -EINVAL;
	if (!pl->handled_fs)
		return 0;
	return add_grant(pl, path, path[len - 1] == '/',
			 sbx_landlock_rights(access, pl->abi) & pl->handled_fs, SBX_RULE_NONE);
}

int sbx_landlock_plan_grant_rights(struct sbx_landlock_plan *pl, const char *path, uint64_t rights)
{
	size_t len = strlen(path);

	if (!len || path[0] != '/' || len >= SBX_MAX_PATH_LEN)
		return -EINVAL;
	if (!pl->handled_fs)
		return 0;
	return add_grant(pl, path, path[len - 1] == '/', rights & pl->handled_fs, SBX_RULE_BASE);
}

/* ---- trees no workload writes --------------------------------------------- */

static bool in_tree(const char *path, const char *tree)
{
	return !strncmp(path, tree, strlen(tree));
}

/* dir ("/x/") is a strict ancestor of one of the trees. */
static bool above_tree(const char *dir, const char *const *trees, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(dir, trees[i]) && in_tree(trees[i], dir))
			return true;
	return false;
}

static bool is_tree(const char *path, const char *const *trees, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (in_tree(path, trees[i]))
			return true;
	return false;
}

/* Grants rights on every entry of dir except the trees: a Landlock grant
 * covers the whole subtree, so an ancestor's write rights are handed down to
 * its children, and the trees' part is dropped. */
static int hand_down(struct sbx_landlock_plan *pl, const char *dir, uint64_t rights,
		     const char *const *trees, size_t n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!r && (de = readdir(d))) {
		char child[SBX_MAX_PATH_LEN];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(child, sizeof(child), "%s%s/", dir, de->d_name) >= sizeof(child))
			continue;
		if (stat(child, &st) < 0 || !S_ISDIR(st.st_mode)) {
			child[strlen(child) - 1] = 0;	/* a file: exactly that path */
			r = add_grant(pl, child, false, rights, SBX_RULE_BASE);
		} else if (above_tree(child, trees, n)) {
			r = hand_down(pl, child, rights, trees, n);
		} else if (!is_tree(child, trees, n)) {
			r = add_grant(pl, child, true, rights, SBX_RULE_BASE);
		}
	}
	closedir(d);
	return r;
}

int sbx_landlock_plan_protect(const struct sbx_landlock_plan *in, const char *const *trees,
			      size_t n, struct sbx_landlock_plan *ret)
{
	struct sbx_landlock_plan pl = *in;
	uint64_t w = LL_W & sbx_landlock_fs_all(in->abi), add = w & ~in->handled_fs;
	size_t orig;
	int r = 0;

	if (in->abi <= 0)
		return -EOPNOTSUPP;
	pl.paths = in->n ? malloc(in->n * sizeof(*pl.paths)) : NULL;
	if (in->n && !pl.paths)
		return -ENOMEM;
	if (in->n)
		memcpy(pl.paths, in->paths, in->n * sizeof(*pl.paths));
	/* rights the plan did not handle were everyone's: "/" had them */
	pl.handled_fs |= add;
	r = add_grant(&pl, "/", true, add, SBX_RULE_BASE);
	orig = pl.n;
	for (size_t i = 0; i < orig && !r; i++) {
		char path[SBX_MAX_PATH_LEN];
		uint64_t rights = pl.paths[i].access & w;

		if (!rights)
			continue;
		memcpy(path, pl.paths[i].path, sizeof(path));
		if (is_tree(path, trees, n)) {
			pl.paths[i].access &= ~w;
		} else if (pl.paths[i].dir && above_tree(path, trees, n)) {
			pl.paths[i].access &= ~w;
			r = hand_down(&pl, path, rights, trees, n);
		}
	}
	if (r < 0) {
		sbx_landlock_plan_free(&pl);
		return r;
	}
	*ret = pl;
	return 0;
}

void sbx_landlock_plan_free(struct sbx_landlock_plan *pl)
{
	if (!pl)
		return;
	free(pl->paths);
	pl->paths = NULL;
	pl->n = 0;
}

void sbx_landlock_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- in the workload ----------------------------------------------------- */

int sbx_landlock_apply(const struct sbx_landlock_plan *pl)
{
	struct ll_ruleset_attr a;
	int fd, r = 0;

	if (!pl || pl->abi <= 0 || (!pl->handled_fs && !pl->scoped))
		return 0;
	a = (struct ll_ruleset_attr){ .handled_access_fs = pl->handled_fs, .scoped = pl->scoped };
	fd = (int)syscall(SYS_landlock_create_ruleset, &a, sizeof(a), 0);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < pl->n && !r; i++) {
		const struct sbx_landlock_path *g = &pl->paths[i];
		struct landlock_path_beneath_attr pb = { 0 };
		struct stat st;
		int pfd = open(g->path, O_PATH | O_CLOEXEC);

		/* A path missing from the workload's view (or unreachable by it)
		 * grants nothing: whatever is created there later gets only what
		 * the directories above it give. */
		if (pfd < 0)
			continue;
		/* "/x/" names a directory, "/x" a file (exactly that path): a
		 * grant of the other kind would mean something else, so none */
		if (fstat(pfd, &st) == 0 && !!S_ISDIR(st.st_mode) == g->dir) {
			pb.allowed_access = g->access & pl->handled_fs;
			if (!g->dir)
				pb.allowed_access &= LL_FILE_RIGHTS;
			pb.parent_fd = pfd;
			if (pb.allowed_access &&
			    syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
				r = -errno;
		}
		close(pfd);
	}
	if (!r && syscall(SYS_landlock_restrict_self, fd, 0) < 0)
		r = -errno;
	close(fd);
	return r < 0 ? r : pl->abi;
}

int sbx_landlock_no_files(int abi)
{
	struct sbx_landlock_plan pl = { .abi = abi, .handled_fs = sbx_landlock_fs_all(abi) };

	return sbx_landlock_apply(&pl);
}
