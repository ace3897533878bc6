/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsplan.h"

static uint32_t mode_access(enum sbx_fs_mode m)
{
	switch (m) {
	case SBX_FS_READ_ONLY: return SBX_FACC_R | SBX_FACC_X;
	case SBX_FS_READ_WRITE:
	case SBX_FS_FULL: return SBX_FACC_R | SBX_FACC_W | SBX_FACC_X;
	default: return 0;
	}
}

static void set_rule(struct sbx_fsrule *r, const char *path, uint32_t access, uint32_t idx,
		     uint32_t flags)
{
	size_t len = strlen(path);

	if (len >= sizeof(r->path))
		len = sizeof(r->path) - 1;	/* validation refuses these earlier */
	memcpy(r->path, path, len);
	r->path[len] = 0;
	r->len = (uint16_t)len;
	r->dir = len > 0 && path[len - 1] == '/';
	r->access = access;
	r->rule = idx;
	r->flags = flags;
}

/* fs mode "none" still lets a program run: it may read and execute the
 * system directories and read the few /etc files the process provider's view
 * holds, and use /tmp, /dev/shm, the harmless device nodes and /proc. The
 * profile's own rules on the same paths take precedence. */
static const struct {
	const char *path;
	uint32_t access;
} base_view[] = {
	{ "/usr/", SBX_FACC_R | SBX_FACC_X }, { "/bin/", SBX_FACC_R | SBX_FACC_X },
	{ "/sbin/", SBX_FACC_R | SBX_FACC_X }, { "/lib/", SBX_FACC_R | SBX_FACC_X },
	{ "/lib32/", SBX_FACC_R | SBX_FACC_X }, { "/lib64/", SBX_FACC_R | SBX_FACC_X },
	{ "/libx32/", SBX_FACC_R | SBX_FACC_X },
	{ "/etc/passwd", SBX_FACC_R }, { "/etc/group", SBX_FACC_R }, { "/etc/hosts", SBX_FACC_R },
	{ "/etc/resolv.conf", SBX_FACC_R }, { "/etc/nsswitch.conf", SBX_FACC_R },
	{ "/etc/ld.so.cache", SBX_FACC_R }, { "/etc/ld.so.conf", SBX_FACC_R },
	{ "/etc/ld.so.conf.d/", SBX_FACC_R }, { "/etc/localtime", SBX_FACC_R },
	{ "/etc/ssl/", SBX_FACC_R }, { "/etc/ca-certificates/", SBX_FACC_R },
	{ "/etc/alternatives/", SBX_FACC_R }, { "/etc/host.conf", SBX_FACC_R },
	{ "/etc/gai.conf", SBX_FACC_R }, { "/etc/mime.types", SBX_FACC_R },
	{ "/tmp/", SBX_FACC_R | SBX_FACC_W }, { "/dev/shm/", SBX_FACC_R | SBX_FACC_W },
	{ "/dev/null", SBX_FACC_R | SBX_FACC_W }, { "/dev/zero", SBX_FACC_R },
	{ "/dev/full", SBX_FACC_R | SBX_FACC_W }, { "/dev/random", SBX_FACC_R },
	{ "/dev/urandom", SBX_FACC_R }, { "/dev/tty", SBX_FACC_R | SBX_FACC_W },
	{ "/proc/", SBX_FACC_R },
};

#define N_BASE (sizeof(base_view) / sizeof(base_view[0]))

static bool has_rule_for(const struct sbx_profile *p, const char *path)
{
	for (size_t i = 0; i < p->fs.n_rules; i++)
		if (!strcmp(p->fs.rules[i].path, path))
			return true;
	return false;
}

/* What a provider's own mount view always provides (a private /tmp and
 * /dev/shm, the device nodes, a new /proc), granted whatever the mode,
 * except full. (Listing "/" itself is not: a rule "/" would cover the whole
 * tree; under Landlock the provider grants READ_DIR alone.) */
static const struct sbx_fsgrant view_grants[] = {
	{ "/tmp/", SBX_FACC_R | SBX_FACC_W },
	{ "/dev/shm/", SBX_FACC_R | SBX_FACC_W }, { "/dev/null", SBX_FACC_R | SBX_FACC_W },
	{ "/dev/zero", SBX_FACC_R }, { "/dev/full", SBX_FACC_R | SBX_FACC_W },
	{ "/dev/random", SBX_FACC_R }, { "/dev/urandom", SBX_FACC_R },
	{ "/dev/tty", SBX_FACC_R | SBX_FACC_W }, { "/proc/", SBX_FACC_R },
};

const struct sbx_fsgrant *sbx_fspolicy_view_grants(size_t *ret_n)
{
	*ret_n = sizeof(view_grants) / sizeof(view_grants[0]);
	return view_grants;
}

int sbx_fspolicy_add_view(struct sbx_fspolicy *f)
{
	size_t n = sizeof(view_grants) / sizeof(view_grants[0]);
	struct sbx_fsrule *nr;

	if (f->cfg.flags & SBX_FSF_FULL)
		return 0;
	nr = realloc(f->rules, (f->n + n) * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	f->rules = nr;
	for (size_t i = 0; i < n; i++) {
		bool dup = false;

		for (size_t j = 0; j < f->n && !dup; j++)
			dup = !(f->rules[j].flags & SBX_PRF_EXEC_LIST) &&
			      !strcmp(f->rules[j].path, view_grants[i].path);
		if (!dup)
			set_rule(&f->rules[f->n++], view_grants[i].path, view_grants[i].access,
				 SBX_RULE_BASE, 0);
	}
	return 0;
}

int sbx_fspolicy_compile(const struct sbx_profile *p, struct sbx_fspolicy *ret)
{
	struct sbx_fspolicy f = { 0 };
	size_t n = p->fs.n_rules + p->fs.n_exec + N_BASE;

	f.cfg.mode_access = mode_access(p->fs.mode);
	if (p->fs.mode == SBX_FS_FULL)
		f.cfg.flags |= SBX_FSF_FULL;
	if (p->fs.n_exec)
		f.cfg.flags |= SBX_FSF_EXEC_LIST;
	if (n && !(f.rules = calloc(n, sizeof(*f.rules))))
		return -ENOMEM;
	for (size_t i = 0; i < p->fs.n_rules; i++)
		set_rule(&f.rules[f.n++], p->fs.rules[i].path, p->fs.rules[i].access, (uint32_t)i, 0);
	for (size_t i = 0; i < p->fs.n_exec; i++)
		set_rule(&f.rules[f.n++], p->fs.exec[i], SBX_FACC_R | SBX_FACC_X,
			 (uint32_t)(p->fs.n_rules + i), SBX_PRF_EXEC_LIST);
	for (size_t i = 0; p->fs.mode == SBX_FS_NONE && i < N_BASE; i++)
		if (!has_rule_for(p, base_view[i].path))
			set_rule(&f.rules[f.n++], base_view[i].path, base_view[i].access,
				 SBX_RULE_BASE, 0);
	*ret = f;
	return 0;
}

void sbx_fspolicy_free(struct sbx_fspolicy *f)
{
	free(f->rules);
	f->rules = NULL;
	f->n = 0;
}

void sbx_fsrule_key(const struct sbx_fsrule *r, uint32_t policy_id, struct sbx_path_key *ret)
{
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->path, r->path, r->len);
	/* a file rule includes its NUL, so "/etc/passwd" does not match "/etc/passwdx" */
	ret->prefixlen = 32 + 8 * (uint32_t)(r->len + (r->dir ? 0 : 1));
	ret->policy_id = htonl(policy_id);
}

static bool matches(const struct sbx_fsrule *r, const char *path)
{
	if (r->dir)
		return !strncmp(path, r->path, r->len);
	return !strcmp(path, r->path);
}

/* Longest matching rule among those with (or without) the exec-list flag. */
static const struct sbx_fsrule *longest(const struct sbx_fspolicy *f, const char *path, bool exec_list)
{
	const struct sbx_fsrule *best = NULL;

	for (size_t i = 0; i < f->n; i++) {
		const struct sbx_fsrule *r = &f->rules[i];

		if (!!(r->flags & SBX_PRF_EXEC_LIST) != exec_list || !matches(r, path))
			continue;
		if (!best || r->len + !r->dir > best->len + !best->dir)
			best = r;
	}
	return best;
}

bool sbx_fspolicy_decide(const struct sbx_fspolicy *f, const char *path, uint32_t access,
			 uint32_t *ret_rule)
{
	const struct sbx_fsrule *r;
	uint32_t allowed;

	*ret_rule = SBX_RULE_DEFAULT;
	if (f->cfg.flags & SBX_FSF_FULL)
		return true;
	r = longest(f, path, false);
	allowed = r ? r->access : f->cfg.mode_access;
	if (r)
		*ret_rule = r->rule;
	if ((access & SBX_FACC_X) && (f->cfg.flags & SBX_FSF_EXEC_LIST)) {
		const struct sbx_fsrule *x = longest(f, path, true);

		if (!x)
			return false;
		/* the exec list grants execution; reading the file still follows the rules */
		allowed |= SBX_FACC_X;
		if (!r)
			*ret_rule = x->rule;
	}
	return (access & ~allowed) == 0;
}
