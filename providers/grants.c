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

	snprintf(buf, len, "%s (%u:%u)", pw ? pw->pw_name : "?", (unsigned)ids->uid,
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
	for (int i = 0; i < 1000 && !r; i++) {
		struct stat self, child;

		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		if (stat("/proc/self/ns/user", &self) < 0 || stat(path, &child) < 0)
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

/* A detached copy of path's mount tree, idmapped through userns_fd, with
 * the grant's mount flags. -EINVAL (or -EOPNOTSUPP): the filesystem refuses. */
static int idmapped_clone(const char *path, int userns_fd, uint32_t access)
{
	struct grant_mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID |
					   MOUNT_ATTR_NODEV, .userns_fd = (unsigned)userns_fd };
	_cleanup_close_ int fd = -1;

	if (!(access & SBX_FACC_W))
		a.attr_set |= MOUNT_ATTR_RDONLY;
	if (!(access & SBX_FACC_X))
		a.attr_set |= MOUNT_ATTR_NOEXEC;
	fd = syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int sbx_grants_attach(int mount_fd, int target_fd)
{
	if (syscall(SYS_move_mount, mount_fd, "", target_fd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/* The group the owner's files get in the idmapped mount: the path's, else
 * the owner's own; never root's (setgid-root files on the host). */
static gid_t map_group(const struct stat *st)
{
	struct passwd *pw;

	if (st->st_gid != 0)
		return st->st_gid;
	pw = getpwuid(st->st_uid);
	return pw && pw->pw_gid != 0 ? pw->pw_gid : (gid_t)-1;
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
static int idmap_rule(const char *path, const struct stat *st, const struct sbx_ids *ids,
		      uint32_t access, char *why, size_t len)
{
	gid_t g = map_group(st);
	_cleanup_close_ int ns = -1;
	char type[32];
	int fd;

	if (g == (gid_t)-1)
		return sbx_fail(why, len, -EPERM, "sbx maps no sandbox group onto group root");
	ns = make_userns(st->st_uid, ids->uid, g, ids->gid);
	if (ns < 0)
		return sbx_fail(why, len, ns, "a user namespace for the idmapped mount: %s",
				strerror(-ns));
	fd = idmapped_clone(path, ns, access);
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

static int check_rule(const struct grant_ctx *c, const struct sbx_fsplan_rule *ru, int *ret_fd)
{
	char path[PATH_MAX], owner[160], parent[PATH_MAX], why[256];
	unsigned need;
	bool plain_ok, wants_idmap;
	struct stat st, pst;

	sbx_fsplan_mount_path(ru->path, path, sizeof(path));
	if (stat(path, &st) < 0)
		return 0;	/* the view binds nothing there */
	need = need_bits(ru->access, S_ISDIR(st.st_mode));
	id_names(&st, owner, sizeof(owner));
	if (c->s->fs->mode != SBX_FS_NONE &&
	    unsearchable_parent(path, c->ids, parent, sizeof(parent), &pst) < 0) {
		id_names(&pst, owner, sizeof(owner));
		return report(c, ru, "cannot reach it: its parent %s is %s", parent, owner);
	}
	plain_ok = (class_bits(&st, c->ids->uid, c->ids->gid, false) & need) == need;
	/* rw grants are idmapped even where the mode would let the user in, so
	 * that what the workload creates belongs to the path's owner */
	wants_idmap = !c->s->profile->user && st.st_uid != 0 && st.st_uid != c->ids->uid &&
		      (!plain_ok || (ru->access & SBX_FACC_W));
	if (wants_idmap && c->idmap) {
		int fd = idmap_rule(path, &st, c->ids, ru->access, why, sizeof(why));

		if (fd >= 0 && (class_bits(&st, 0, 0, true) & need) == need) {
			*ret_fd = fd;
			return 0;
		}
		if (fd >= 0) {
			close(fd);
			snprintf(why, sizeof(why), "not even its owner may");
		}
		if (plain_ok)
			return 0;
		return report(c, ru, "cannot %s it: %s is %s, and it cannot be mapped to the owner: %s",
			      ru->access & SBX_FACC_W ? "write" : "read", path, owner, why);
	}
	/* a provider without idmapped mounts: the enforcement table has
	 * refused or degraded this grant already (core/enforce.c fs.rules) */
	if (plain_ok || wants_idmap)
		return 0;
	return report(c, ru, "cannot %s it: %s is %s%s", ru->access & SBX_FACC_W ? "write" : "read",
		      path, owner, !c->s->profile->user && st.st_uid == 0 ?
		      " (sbx maps no sandbox user onto root)" : "");
}

int sbx_grants_prepare(const struct sbx_spawn *s, const struct sbx_ids *ids, bool idmap,
		       struct sbx_grants *ret, char *why, size_t len)
{
	struct grant_ctx c = { .s = s, .ids = ids, .idmap = idmap };
	const struct sbx_fsplan *pl = s->fs;
	int r = 0;

	ret->n = 0;
	ret->mount_fd = calloc(pl->n_rules ? pl->n_rules : 1, sizeof(int));
	if (!ret->mount_fd)
		return -ENOMEM;
	ret->n = pl->n_rules;
	for (size_t i = 0; i < ret->n; i++)
		ret->mount_fd[i] = -1;
	if (pl->mode == SBX_FS_FULL)
		return 0;	/* the host root is writable and the rules are not applied */
	user_name(ids, c.user, sizeof(c.user));
	for (size_t i = 0; i < pl->n_rules && !r; i++)
		if (pl->rules[i].origin == SBX_FSPLAN_PROFILE && pl->rules[i].access)
			r = check_rule(&c, &pl->rules[i], &ret->mount_fd[i]);
	if (r < 0)
		return sbx_fail(why, len, r, "a granted path is not usable by the sandbox user");
	return r;
}

void sbx_grants_free(struct sbx_grants *g)
{
	for (size_t i = 0; g->mount_fd && i < g->n; i++)
		if (g->mount_fd[i] >= 0)
			close(g->mount_fd[i]);
	free(g->mount_fd);
	g->mount_fd = NULL;
	g->n = 0;
}
