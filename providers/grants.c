/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "grants.h"
#include "kernel/mountinfo.h"
#include "util/util.h"

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x1
#define MOUNT_ATTR_NOSUID 0x2
#define MOUNT_ATTR_NODEV 0x4
#define MOUNT_ATTR_NOEXEC 0x8
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x4
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x40
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef RESOLVE_NO_SYMLINKS
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#endif

/* struct open_how of linux/openat2.h */
struct grant_open_how {
	unsigned long long flags, mode, resolve;
};

/* struct mount_attr of linux/mount.h, which glibc's sys/mount.h clashes with */
struct grant_mount_attr {
	unsigned long long attr_set, attr_clr, propagation, userns_fd;
};

/* ---- who may do what, by owner, group and mode ----------------------------- */

/* The mode bits (r=4, w=2, x=1) a grant needs: a directory is searched too. */
static unsigned need_bits(uint32_t access, bool dir)
{
	unsigned n = (access & SBX_FACC_R ? 4 : 0) | (access & SBX_FACC_W ? 2 : 0) |
		     (access & SBX_FACC_X ? 1 : 0);

	return dir && n ? n | 1 : n;
}

/* The rwx triple that applies to uid/gid (no supplementary groups: the
 * workload has none, and no capability overrides the mode). */
static unsigned class_bits(const struct stat *st, uid_t uid, gid_t gid, bool as_owner)
{
	if (as_owner || st->st_uid == uid)
		return (st->st_mode >> 6) & 7;
	if (st->st_gid == gid)
		return (st->st_mode >> 3) & 7;
	return st->st_mode & 7;
}

/* (for messages only: the user and group databases are read from the
 * files on every call, so never for a rule that is fine) */
static void id_names(const struct stat *st, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(st->st_uid);
	struct group *gr = getgrgid(st->st_gid);
	char u[64], g[64];

	snprintf(u, sizeof(u), "%s", pw ? pw->pw_name : "?");
	snprintf(g, sizeof(g), "%s", gr ? gr->gr_name : "?");
	snprintf(buf, len, "owned by %s:%s (%u:%u), mode %04o", u, g, (unsigned)st->st_uid,
		 (unsigned)st->st_gid, (unsigned)(st->st_mode & 07777));
}

static void user_name(const struct sbx_ids *ids, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(ids->uid);

	/* the sandbox's own uid has no account (core/uidpool.h) */
	snprintf(buf, len, "%s (%u:%u)", pw ? pw->pw_name : "of this sandbox", (unsigned)ids->uid,
		 (unsigned)ids->gid);
}

/* The first parent of path (in a view that shows the host's tree) that the
 * user cannot search; 0 when every one can be searched. */
static int unsearchable_parent(const char *path, const struct sbx_ids *ids, char *ret,
			       size_t len, struct stat *ret_st)
{
	char cur[PATH_MAX];

	snprintf(cur, sizeof(cur), "%s", path);
	for (char *s = strchr(cur + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (s[1] && stat(cur, ret_st) == 0 && !(class_bits(ret_st, ids->uid, ids->gid, false) & 1)) {
			snprintf(ret, len, "%s", cur);
			return -EACCES;
		}
		*s = '/';
	}
	return 0;
}

/* ---- idmapped mounts ------------------------------------------------------- */

static int write_file(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t n = strlen(text);

	if (fd < 0)
		return -errno;
	return write(fd, text, n) == (ssize_t)n ? 0 : -errno;
}

/* A user namespace, held by a helper child just long enough to write its maps
 * and open it: its uid_map shows disk id `owner` as the sandbox's uid. */
static int make_userns(uid_t owner, uid_t uid, gid_t owner_gid, gid_t gid)
{
	char path[64], map[64];
	int go[2], r = 0, fd = -1;
	struct stat self, child;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		char c;

		close(go[1]);
		/* the parent writes the maps once it sees the new namespace */
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	close(go[0]);
	if (pid < 0) {
		close(go[1]);
		return -errno;
	}
	/* unshare is quick; poll for the new namespace rather than add a pipe */
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if (stat("/proc/self/ns/user", &self) < 0)
		r = -errno;
	for (int i = 0; i < 1000 && !r; i++) {
		if (stat(path, &child) < 0)
			r = -errno;
		else if (self.st_ino != child.st_ino)
			break;
		else
			usleep(1000);
	}
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)owner, (unsigned)uid);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	if (!r)
		r = write_file(path, map);
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)owner_gid, (unsigned)gid);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	if (!r)
		r = write_file(path, map);
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if (!r && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		r = -errno;
	close(go[1]);
	waitpid(pid, NULL, 0);
	return r < 0 ? r : fd;
}

/* A detached copy of the mount tree at fd (an O_PATH fd of the path sbx
 * checked, so nothing swapped in since is bound), with the grant's mount
 * flags, idmapped through userns_fd unless it is -1. -EINVAL (or
 * -EOPNOTSUPP) with a userns: the filesystem refuses idmapped mounts. */
static int clone_tree(int fd, int userns_fd, uint32_t access)
{
	struct grant_mount_attr a = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
	_cleanup_close_ int tree = -1;

	if (userns_fd >= 0) {
		a.attr_set |= MOUNT_ATTR_IDMAP;
		a.userns_fd = (unsigned)userns_fd;
	}
	if (!(access & SBX_FACC_W))
		a.attr_set |= MOUNT_ATTR_RDONLY;
	if (!(access & SBX_FACC_X))
		a.attr_set |= MOUNT_ATTR_NOEXEC;
	tree = syscall(SYS_open_tree, fd, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
		       AT_RECURSIVE);
	if (tree < 0)
		return -errno;
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
		return -errno;
	return TAKE_FD(tree);
}

/* An O_PATH fd of path, which must not contain a symlink (it is a path that
 * resolve_path made): one swapped in after the check fails with ELOOP. */
static int open_nofollow(int dirfd, const char *path, int flags)
{
	struct grant_open_how how = { .flags = O_PATH | O_CLOEXEC | flags,
				      .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	int fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

int sbx_grants_attach(int mount_fd, int target_fd)
{
	if (syscall(SYS_move_mount, mount_fd, "", target_fd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/* ---- the path a rule names ------------------------------------------------- */

/* path with its symlinks resolved one by one into ret, following only
 * root's: a symlink below a writable grant may have been planted by an
 * earlier workload (or by the directory's owner) to point a rule, and the
 * owner it is idmapped to, at another user's directory. -ELOOP with the
 * link in bad, -ENOENT when a component does not exist. */
static int resolve_path(const char *path, char *ret, size_t len, char *bad, size_t blen,
			struct stat *ret_st)
{
	char rest[2 * PATH_MAX], tmp[2 * PATH_MAX], link[PATH_MAX], *c, *next;
	int hops = 0;

	snprintf(rest, sizeof(rest), "%s", path);
	ret[0] = 0;
	for (c = rest; c; c = next) {
		size_t n = strlen(ret);
		ssize_t k;

		c += strspn(c, "/");
		next = strchr(c, '/');
		if (next)
			*next++ = 0;
		if (!*c || !strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			*(strrchr(ret, '/') ?: ret) = 0;
			continue;
		}
		if (n + 1 + strlen(c) >= len)
			return -ENAMETOOLONG;
		snprintf(ret + n, len - n, "/%s", c);
		if (lstat(ret, ret_st) < 0)
			return -errno;
		if (!S_ISLNK(ret_st->st_mode))
			continue;
		snprintf(bad, blen, "%s", ret);
		if (ret_st->st_uid != 0)
			return -ELOOP;
		if (++hops > 40 || (k = readlink(ret, link, sizeof(link) - 1)) < 0)
			return -ELOOP;
		link[k] = 0;
		ret[link[0] == '/' ? 0 : n] = 0;
		/* the link's text, then what was left of the path */
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", link, next ? next : "") >= sizeof(tmp))
			return -ENAMETOOLONG;
		snprintf(rest, sizeof(rest), "%s", tmp);
		next = rest;
	}
	if (!ret[0])
		snprintf(ret, len, "/");
	return 0;
}

/* Whether the user pw is in group gid (its primary group or a
 * supplementary one in the group database). */
static bool owner_in_group(const struct passwd *pw, gid_t gid)
{
	gid_t groups[256];
	int n = sizeof(groups) / sizeof(groups[0]);

	if (pw->pw_gid == gid)
		return true;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;	/* more than 256: not worth the doubt */
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* The group the owner's files get in the idmapped mount: the path's when
 * the owner belongs to it, else the owner's own; never root's. The path's
 * group can be one its owner is not in (alice:disk): mapping it would let
 * the workload make setgid-disk files that the owner never could. An owner
 * without an account keeps only a group that has its number. */
static gid_t map_group(const struct stat *st)
{
	struct passwd *pw = getpwuid(st->st_uid);
	gid_t g;

	if (!pw)
		g = st->st_gid == st->st_uid ? st->st_gid : 0;
	else
		g = owner_in_group(pw, st->st_gid) ? st->st_gid : pw->pw_gid;
	return g != 0 ? g : (gid_t)-1;
}

struct fstype_find {
	const char *path;
	size_t best;
	char type[32];
};

static int fstype_match(const struct sbx_mount *m, void *arg)
{
	struct fstype_find *f = arg;
	size_t n = strlen(m->point);

	if (!strcmp(m->point, "/"))
		n = 0;
	if (strncmp(f->path, m->point, n) || (f->path[n] && f->path[n] != '/') || n < f->best)
		return 0;
	f->best = n;
	snprintf(f->type, sizeof(f->type), "%s", m->fstype);
	return 0;
}

/* The type of the filesystem path is on (the last, innermost mount over it). */
static void fstype_of(const char *path, char *ret, size_t len)
{
	struct fstype_find f = { .path = path, .type = "?" };

	sbx_mountinfo_each(fstype_match, &f);
	snprintf(ret, len, "%s", f.type);
}

/* The idmapped mount of a rule's path for ids, or -errno with the reason. */
static int idmap_rule(const char *path, int pfd, const struct stat *st, const struct sbx_ids *ids,
		      uint32_t access, char *why, size_t len)
{
	gid_t g = map_group(st);
	_cleanup_close_ int ns = -1;
	char type[32];
	int fd;

	/* the kernel refuses writes to an inode whose group the mount does not
	 * map (HAS_UNMAPPED_ID): a group sbx will not map leaves no rw grant */
	if (g == (gid_t)-1 || (g != st->st_gid && (access & SBX_FACC_W)))
		return sbx_fail(why, len, -EPERM, "its group (%u) is root or one its owner is not in, "
				"which sbx does not map onto the sandbox's group (the workload could "
				"make setgid files of that group); give it the owner's group",
				(unsigned)st->st_gid);
	ns = make_userns(st->st_uid, ids->uid, g, ids->gid);
	if (ns < 0)
		return sbx_fail(why, len, ns, "a user namespace for the idmapped mount: %s",
				strerror(-ns));
	fd = clone_tree(pfd, ns, access);
	if (fd >= 0)
		return fd;
	fstype_of(path, type, sizeof(type));
	return sbx_fail(why, len, fd, "its filesystem (%s) does not support idmapped mounts (%s)",
			type, strerror(-fd));
}

/* ---- the check ---------------------------------------------------------------- */

struct grant_ctx {
	const struct sbx_spawn *s;
	const struct sbx_ids *ids;
	bool idmap;
	char *why;
	size_t why_len;
	char user[96];
};

static int report(const struct grant_ctx *c, const struct sbx_fsplan_rule *ru, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int report(const struct grant_ctx *c, const struct sbx_fsplan_rule *ru, const char *fmt, ...)
{
	struct sbx_srcpos none = { 0 };
	char detail[640], msg[1024], acc[8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	sbx_access_str(ru->access, acc);
	snprintf(msg, sizeof(msg), "profile '%s': fs rule '%s' grants %s, but the sandbox user %s %s; "
		 "see \"Grants and the sandbox user\" in docs/policy.md", c->s->profile->name, ru->path,
		 acc, c->user, detail);
	if (!c->s->unenforced)
		return -EOPNOTSUPP;
	return c->s->unenforced(c->s->unenforced_ctx, ru->src ? &ru->src->pos : &none, msg);
}

/* The rule's path resolved (its real path in ret->real[i]) and opened
 * without following anything not checked; 0 with *ret_fd -1: nothing there. */
static int open_rule(const struct grant_ctx *c, const struct sbx_fsplan_rule *ru, char **ret_real,
		     int *ret_fd, struct stat *st)
{
	char path[PATH_MAX], real[PATH_MAX], bad[PATH_MAX], owner[160];
	int r;

	sbx_fsplan_mount_path(ru->path, path, sizeof(path));
	r = resolve_path(path, real, sizeof(real), bad, sizeof(bad), st);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;	/* the view binds nothing there */
	if (r == -ELOOP) {
		id_names(st, owner, sizeof(owner));
		return sbx_fail(c->why, c->why_len, -ELOOP, "profile '%s': fs rule '%s': %s is a "
				"symlink %s, not root's; sbx follows only root's symlinks in a rule's "
				"path (a workload or another user may have planted it): name the "
				"real path", c->s->profile->name, ru->path, bad, owner);
	}
	if (r < 0)
		return sbx_fail(c->why, c->why_len, r, "profile '%s': fs rule '%s': %s",
				c->s->profile->name, ru->path, strerror(-r));
	*ret_real = strdup(real);
	if (!*ret_real)
		return -ENOMEM;
	*ret_fd = open_nofollow(AT_FDCWD, real, 0);
	if (*ret_fd < 0 || fstat(*ret_fd, st) < 0)
		return sbx_fail(c->why, c->why_len, *ret_fd < 0 ? *ret_fd : -errno,
				"profile '%s': fs rule '%s': %s changed while sbx checked it",
				c->s->profile->name, ru->path, real);
	return 0;
}

/* Whether the user can use the path (st, opened as pfd), and the mount the
 * view binds it with: idmapped to its owner, or a plain clone. */
static int check_rule(const struct grant_ctx *c, const struct sbx_fsplan_rule *ru,
		      const char *path, int pfd, const struct stat *st, int *ret_fd)
{
	char owner[160], parent[PATH_MAX], why[256];
	unsigned need;
	bool plain_ok, wants_idmap;
	struct stat pst;
	int r = 0;

	need = need_bits(ru->access, S_ISDIR(st->st_mode));
	if (c->s->fs->mode != SBX_FS_NONE &&
	    unsearchable_parent(path, c->ids, parent, sizeof(parent), &pst) < 0) {
		id_names(&pst, owner, sizeof(owner));
		r = report(c, ru, "cannot reach it: its parent %s is %s", parent, owner);
		goto plain;
	}
	plain_ok = (class_bits(st, c->ids->uid, c->ids->gid, false) & need) == need;
	/* rw grants are idmapped even where the mode would let the user in, so
	 * that what the workload creates belongs to the path's owner */
	wants_idmap = !c->s->profile->user && st->st_uid != 0 && st->st_uid != c->ids->uid &&
		      (!plain_ok || (ru->access & SBX_FACC_W));
	if (wants_idmap && c->idmap) {
		int fd = idmap_rule(path, pfd, st, c->ids, ru->access, why, sizeof(why));

		if (fd >= 0 && (class_bits(st, 0, 0, true) & need) == need) {
			*ret_fd = fd;
			return 0;
		}
		if (fd >= 0) {
			close(fd);
			snprintf(why, sizeof(why), "not even its owner may");
		}
		if (!plain_ok) {
			id_names(st, owner, sizeof(owner));
			r = report(c, ru, "cannot %s it: %s is %s, and it cannot be mapped to the "
				   "owner: %s", ru->access & SBX_FACC_W ? "write" : "read", path,
				   owner, why);
		}
	} else if (!plain_ok && !wants_idmap) {
		/* (a provider without idmapped mounts: the enforcement table has
		 * refused or degraded this grant already, core/enforce.c fs.rules) */
		id_names(st, owner, sizeof(owner));
		r = report(c, ru, "cannot %s it: %s is %s%s", ru->access & SBX_FACC_W ? "write" : "read",
			   path, owner, !c->s->profile->user && st->st_uid == 0 ?
			   " (sbx maps no sandbox user onto root)" : "");
	}
plain:
	if (r < 0 || !c->idmap)
		return r;
	*ret_fd = clone_tree(pfd, -1, ru->access);
	if (*ret_fd < 0)
		return sbx_fail(c->why, c->why_len, *ret_fd, "profile '%s': fs rule '%s': bind %s: %s",
				c->s->profile->name, ru->path, path, strerror(-*ret_fd));
	return 0;
}

int sbx_grants_prepare(const struct sbx_spawn *s, const struct sbx_ids *ids, bool idmap,
		       struct sbx_grants *ret, char *why, size_t len)
{
	struct grant_ctx c = { .s = s, .ids = ids, .idmap = idmap, .why = why, .why_len = len };
	const struct sbx_fsplan *pl = s->fs;
	int r = 0;

	why[0] = 0;
	ret->n = 0;
	ret->mount_fd = calloc(pl->n_rules ? pl->n_rules : 1, sizeof(int));
	ret->real = calloc(pl->n_rules ? pl->n_rules : 1, sizeof(char *));
	if (!ret->mount_fd || !ret->real)
		return -ENOMEM;
	ret->n = pl->n_rules;
	for (size_t i = 0; i < ret->n; i++)
		ret->mount_fd[i] = -1;
	if (pl->mode == SBX_FS_FULL)
		return 0;	/* the host root is writable and the rules are not applied */
	user_name(ids, c.user, sizeof(c.user));
	for (size_t i = 0; i < pl->n_rules && !r; i++) {
		const struct sbx_fsplan_rule *ru = &pl->rules[i];
		_cleanup_close_ int pfd = -1;
		struct stat st;

		/* (a provider's grant, e.g. the wasm runtime, is bound the same way) */
		if ((ru->origin != SBX_FSPLAN_PROFILE && ru->origin != SBX_FSPLAN_PROVIDER) ||
		    !ru->access)
			continue;
		r = open_rule(&c, ru, &ret->real[i], &pfd, &st);
		if (!r && pfd >= 0)
			r = check_rule(&c, ru, ret->real[i], pfd, &st, &ret->mount_fd[i]);
	}
	if (r < 0 && !why[0])
		return sbx_fail(why, len, r, "a granted path is not usable by the sandbox user");
	return r;
}

void sbx_grants_free(struct sbx_grants *g)
{
	for (size_t i = 0; g->mount_fd && i < g->n; i++)
		if (g->mount_fd[i] >= 0)
			close(g->mount_fd[i]);
	free(g->mount_fd);
	for (size_t i = 0; g->real && i < g->n; i++)
		free(g->real[i]);
	free(g->real);
	g->real = NULL;
	g->mount_fd = NULL;
	g->n = 0;
}
