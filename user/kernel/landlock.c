/* SPDX-License-Identifier: MIT */
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
	const struct sbx_fspolicy *f;
	const struct sbx_profile *p;	/* for positions; may be NULL */
	int abi;
	bool strict;
	char *why;
	size_t len;
	char **un;
	size_t n_un;
	bool exec_list;
	uint32_t base;			/* fs.mode's access as Landlock grants it on "/" */
	struct sbx_landlock_plan pl;
};

/* The access of a rule as Landlock must grant it: with an exec list, x comes
 * from the list alone, so rules and mode grant no EXECUTE. */
static uint32_t eff(const struct plan_ctx *c, uint32_t access)
{
	return access & (c->exec_list ? (SBX_FACC_R | SBX_FACC_W) : FACC_ALL);
}

static const char *mode_name(uint32_t mode_access)
{
	if ((mode_access & FACC_ALL) == FACC_ALL)
		return "read-write";
	return mode_access ? "read-only" : "none";
}

static void acc_str(uint32_t a, char buf[8])
{
	sbx_access_str(a, buf);
}

/* "fs rule '/etc/shadow' deny (policy.toml:12:5)" / "fs.exec entry '/usr/bin/'" */
static void rule_name(const struct plan_ctx *c, const struct sbx_fsrule *r, char *buf, size_t len)
{
	const struct sbx_fs_rule *src = NULL;
	char a[8];

	if (r->flags & SBX_PRF_EXEC_LIST) {
		snprintf(buf, len, "fs.exec entry '%s'", r->path);
		return;
	}
	if (c->p && r->rule < c->p->fs.n_rules)
		src = &c->p->fs.rules[r->rule];
	acc_str(r->access, a);
	if (src && src->pos.file && src->pos.line)
		snprintf(buf, len, "fs rule '%s' %s (%s:%u:%u)", r->path, a, src->pos.file,
			 src->pos.line, src->pos.col);
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

static bool is_inside(const struct sbx_fsrule *a, const struct sbx_fsrule *r)
{
	/* a directory rule covers r when it is a proper prefix of r's path */
	return a->dir && a->len < r->len && !strncmp(r->path, a->path, a->len);
}

static bool matches(const struct sbx_fsrule *r, const char *path)
{
	if (r->dir)
		return !strncmp(path, r->path, r->len);
	return !strcmp(path, r->path);
}

/* The rule of f.rules (not the exec list) deciding path, or NULL: mode. */
static const struct sbx_fsrule *deciding(const struct sbx_fspolicy *f, const char *path)
{
	const struct sbx_fsrule *best = NULL;

	for (size_t i = 0; i < f->n; i++) {
		const struct sbx_fsrule *r = &f->rules[i];

		if ((r->flags & SBX_PRF_EXEC_LIST) || !matches(r, path))
			continue;
		if (!best || r->len + !r->dir > best->len + !best->dir)
			best = r;
	}
	return best;
}

/* Landlock grants the union of r and every grant above it; the policy means
 * r alone. Fine as long as nothing above gives more than r. */
static int check_narrowing(struct plan_ctx *c, const struct sbx_fsrule *r)
{
	const struct sbx_fsrule *worst = NULL;
	uint32_t mine = eff(c, r->access), lost = 0;
	char name[SBX_MAX_PATH_LEN + 96], a[8], l[8];

	for (size_t i = 0; i < c->f->n; i++) {
		const struct sbx_fsrule *o = &c->f->rules[i];

		if ((o->flags & SBX_PRF_EXEC_LIST) || !is_inside(o, r) || !(eff(c, o->access) & ~mine))
			continue;
		if (!worst || o->len > worst->len)
			worst = o;
	}
	if (worst)
		lost = eff(c, worst->access) & ~mine;
	else if (c->base & ~mine)
		lost = c->base & ~mine;
	if (!lost)
		return 0;
	rule_name(c, r, name, sizeof(name));
	acc_str(lost, l);
	if (worst) {
		acc_str(worst->access, a);
		return issue(c, "%s is inside '%s' %s: Landlock can only add access, so '%s' stays "
			     "allowed there (taking access away below a granted directory needs BPF LSM)",
			     name, worst->path, a, l);
	}
	acc_str(c->f->cfg.mode_access, a);
	return issue(c, "%s is inside fs.mode %s ('/' %s): Landlock can only add access, so '%s' "
		     "stays allowed there (taking access away below a granted directory needs BPF LSM)",
		     name, mode_name(c->f->cfg.mode_access), a, l);
}

/* execve opens the file for reading: Landlock checks READ_FILE with EXECUTE
 * (and EXECUTE on the ELF interpreter). x without r cannot be honoured. */
static int check_exec_needs_read(struct plan_ctx *c, const struct sbx_fsrule *r)
{
	char name[SBX_MAX_PATH_LEN + 96], a[8];

	if (!(r->flags & SBX_PRF_EXEC_LIST)) {
		uint32_t e = eff(c, r->access);

		if (!(e & SBX_FACC_X) || (e & SBX_FACC_R))
			return 0;
		rule_name(c, r, name, sizeof(name));
		return issue(c, "%s allows executing without reading: Landlock checks read access for "
			     "execve too (the kernel opens the file to load it), so nothing there can be "
			     "executed; add 'r' to the rule", name);
	}
	{
		const struct sbx_fsrule *d = deciding(c->f, r->path);
		uint32_t e = d ? eff(c, d->access) : c->base;

		if (e & SBX_FACC_R)
			return 0;
		rule_name(c, r, name, sizeof(name));
		if (d) {
			acc_str(d->access, a);
			return issue(c, "%s cannot be executed under Landlock: execve needs read access "
				     "too (the kernel opens the file to load it) and '%s' %s does not give "
				     "it; add an 'r' rule for it", name, d->path, a);
		}
		return issue(c, "%s cannot be executed under Landlock: execve needs read access too "
			     "(the kernel opens the file to load it) and fs.mode %s does not give it; "
			     "add an 'r' rule for it", name, mode_name(c->f->cfg.mode_access));
	}
}

/* Before ABI 3, truncate(2) and open(O_TRUNC) are not access-checked. */
static int check_truncate(struct plan_ctx *c)
{
	const struct sbx_fsrule *nw = NULL;
	char name[SBX_MAX_PATH_LEN + 96];

	if (c->abi >= 3)
		return 0;
	for (size_t i = 0; i < c->f->n && !nw; i++)
		if (!(c->f->rules[i].flags & SBX_PRF_EXEC_LIST) && !(c->f->rules[i].access & SBX_FACC_W))
			nw = &c->f->rules[i];
	if (!(c->f->cfg.mode_access & SBX_FACC_W))
		snprintf(name, sizeof(name), "fs.mode %s", mode_name(c->f->cfg.mode_access));
	else if (nw)
		rule_name(c, nw, name, sizeof(name));
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

static int plan_fs(struct plan_ctx *c)
{
	const struct sbx_fspolicy *f = c->f;
	int r = 0;

	if (f->cfg.flags & SBX_FSF_FULL)
		return 0;			/* mode full: rules ignored, nothing restricted */
	if (c->abi <= 0)
		return issue(c, "fs.mode %s%s needs a filesystem backend, and this host has neither "
			     "BPF LSM nor Landlock", mode_name(f->cfg.mode_access),
			     f->n ? " and the fs rules" : "");
	c->exec_list = f->cfg.flags & SBX_FSF_EXEC_LIST;
	c->base = eff(c, f->cfg.mode_access);
	/* a rule on "/" itself decides every path: the mode is never used */
	for (size_t i = 0; i < f->n; i++)
		if (!(f->rules[i].flags & SBX_PRF_EXEC_LIST) && !strcmp(f->rules[i].path, "/"))
			c->base = 0;
	for (size_t i = 0; i < f->n && !r; i++) {
		const struct sbx_fsrule *ru = &f->rules[i];

		size_t before = c->n_un;

		if (!(ru->flags & SBX_PRF_EXEC_LIST))
			r = check_narrowing(c, ru);
		/* one problem per rule is enough to name it */
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
		const struct sbx_fsrule *ru = &f->rules[i];
		uint64_t acc = ru->flags & SBX_PRF_EXEC_LIST ? LL_EXECUTE
							     : sbx_landlock_rights(eff(c, ru->access), c->abi);

		r = add_grant(&c->pl, ru->path, ru->dir, acc, ru->rule);
	}
	return r;
}

static int plan_impl(const struct sbx_fspolicy *f, const struct sbx_profile *p, int abi,
		     bool strict, struct sbx_landlock_plan *ret, char *why, size_t len,
		     char ***ret_unenforced, size_t *n_unenforced)
{
	struct plan_ctx c = { .f = f, .p = p, .abi = abi, .strict = strict, .why = why, .len = len };
	int r = 0;

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
	} else {
		sbx_landlock_strv_free(c.un, c.n_un);
	}
	return 0;
}

int sbx_landlock_plan(const struct sbx_fspolicy *f, int abi, struct sbx_landlock_plan *ret,
		      char *why, size_t len, char ***ret_unenforced, size_t *n_unenforced)
{
	if (ret_unenforced) {
		*ret_unenforced = NULL;
		*n_unenforced = 0;
	}
	return plan_impl(f, NULL, abi, !ret_unenforced, ret, why, len, ret_unenforced, n_unenforced);
}

int sbx_landlock_plan_profile(const struct sbx_profile *p, int abi, struct sbx_landlock_plan *ret,
			      char *why, size_t len, char ***ret_unenforced, size_t *n_unenforced)
{
	struct sbx_fspolicy f;
	bool strict = p->enforcement == SBX_ENFORCE_STRICT || !ret_unenforced;
	int r;

	if (ret_unenforced) {
		*ret_unenforced = NULL;
		*n_unenforced = 0;
	}
	r = sbx_fspolicy_compile(p, &f);
	if (r < 0) {
		snprintf(why, len, "compile the fs policy: %s", strerror(-r));
		return r;
	}
	r = plan_impl(&f, p, abi, strict, ret, why, len, strict ? NULL : ret_unenforced,
		      n_unenforced);
	sbx_fspolicy_free(&f);
	return r;
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
