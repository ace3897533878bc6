/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "disk.h"
#include "grants.h"
#include "privs.h"
#include "rootfs.h"
#include "util/util.h"
#include "provider.h"

/* Device nodes need dev; what they may be opened for is the fs policy's
 * (the base table's access) under BPF LSM and Landlock. */
#define DEV_FLAGS (MS_NOSUID | MS_NOEXEC)

/* Creates the mount point for src at dst: a directory or an empty file. */
static int make_point(const char *src, char *dst)
{
	struct stat st;
	char *slash;
	int fd;

	if (stat(src, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return sbx_mkdir_p(dst, 0755);
	slash = strrchr(dst, '/');
	*slash = 0;
	fd = sbx_mkdir_p(dst, 0755);
	*slash = '/';
	if (fd < 0)
		return fd;
	fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0 && errno != EISDIR)
		return -errno;
	if (fd >= 0)
		close(fd);
	return 0;
}

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x1
#define MOUNT_ATTR_NOSUID 0x2
#define MOUNT_ATTR_NODEV 0x4
#define MOUNT_ATTR_NOEXEC 0x8
struct mount_attr {
	unsigned long long attr_set, attr_clr, propagation, userns_fd;
};
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x4
#define MOVE_MOUNT_T_EMPTY_PATH 0x40
#endif

/*
 * dst inside the view at root, as an O_PATH descriptor: symlinks resolve as
 * the workload will resolve them, inside the view. A mount on the plain
 * string root/dst follows an absolute symlink (or enough "..") out of the
 * view onto the host's tree, where it hides or restricts nothing the
 * workload sees. ret: the descriptor's /proc/self/fd name, for mount(2).
 */
static int open_in_view(const char *root, const char *dst, char *ret, size_t len)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	_cleanup_close_ int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd;

	if (rfd < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, rfd, dst, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	if (ret)
		snprintf(ret, len, "/proc/self/fd/%d", fd);
	return fd;
}

/* MS_* flags of a bind as mount_setattr's attributes. */
static unsigned long long mount_attrs(unsigned long ms)
{
	return (ms & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0) | (ms & MS_NOSUID ? MOUNT_ATTR_NOSUID : 0) |
	       (ms & MS_NODEV ? MOUNT_ATTR_NODEV : 0) | (ms & MS_NOEXEC ? MOUNT_ATTR_NOEXEC : 0);
}

/* Binds src at root/dst; read-only unless rw, noexec when asked. The flags
 * hold for the whole bound tree: a mount below src (a tmpfs, a USB stick)
 * is as read-only and noexec as src itself, where a remount would have
 * changed only the top and left the submounts writable and executable. */
static int bind_at(const char *root, const char *src, const char *dst, unsigned long extra,
		   char *why, size_t len)
{
	struct mount_attr a = { .attr_set = mount_attrs(extra) };
	_cleanup_close_ int tree = -1, to = -1;
	char target[4096];
	int r;

	snprintf(target, sizeof(target), "%s%s", root, dst);
	r = make_point(src, target);
	if (r < 0) {
		errno = -r;
		return sbx_fail(why, len, -errno, "mount point for %s: %m", dst);
	}
	to = open_in_view(root, dst, NULL, 0);
	if (to < 0) {
		errno = -to;
		return sbx_fail(why, len, -errno, "mount point for %s: %m", dst);
	}
	tree = (int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE);
	if (tree < 0)
		return sbx_fail(why, len, -errno, "bind %s: %m", src);
	if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
		return sbx_fail(why, len, -errno, "set the mount flags of %s: %m", dst);
	if (syscall(SYS_move_mount, tree, "", to, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return sbx_fail(why, len, -errno, "bind %s: %m", src);
	return 0;
}

/* Replicates a host symlink (merged-/usr systems: /bin -> usr/bin). */
static int copy_link(const char *root, const char *path)
{
	char target[4096], at[4096];
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	if (n < 0)
		return -errno;
	target[n] = 0;
	snprintf(at, sizeof(at), "%s%s", root, path);
	if (symlink(target, at) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Mount flags for sbx access bits: read-only without w, noexec without x. */
static unsigned long access_flags(uint32_t access)
{
	unsigned long f = MS_NOSUID | MS_NODEV;

	if (!(access & SBX_FACC_W))
		f |= MS_RDONLY;
	if (!(access & SBX_FACC_X))
		f |= MS_NOEXEC;
	return f;
}

/* A host path of the base view, bound when present on the host. */
static int bind_host(const char *root, const struct sbx_fsbase *b, char *why, size_t len)
{
	char path[PATH_MAX];
	struct stat st;
	int r;

	sbx_fsplan_mount_path(b->path, path, sizeof(path));
	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISLNK(st.st_mode))
		return bind_at(root, path, path, access_flags(b->access), why, len);
	r = copy_link(root, path);
	if (r < 0 && !why[0])
		return sbx_fail(why, len, r, "%s: %s", path, strerror(-r));
	return r;
}

/* Read-only for a whole bound tree: a plain remount only changes the top. */
static int setattr_tree(const char *target, unsigned long long attrs)
{
	struct mount_attr a = { .attr_set = attrs };

	if (syscall(SYS_mount_setattr, AT_FDCWD, target, AT_RECURSIVE, &a, sizeof(a)) < 0)
		return -errno;
	return 0;
}

/* fs.mode read-only / read-write: the host's root under everything else. */
static int bind_host_root(const char *root, bool rw, char *why, size_t len)
{
	if (mount("/", root, NULL, MS_BIND | MS_REC, NULL) < 0)
		return sbx_fail(why, len, -errno, "bind /: %m");
	if (setattr_tree(root, (rw ? 0 : MOUNT_ATTR_RDONLY) | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0)
		return sbx_fail(why, len, -errno, "make read-only /: %m");
	return 0;
}

static int mount_tmpfs(const char *root, const char *dst, const char *opts, unsigned long flags,
		       char *why, size_t len)
{
	char target[4096];

	snprintf(target, sizeof(target), "%s%s", root, dst);
	if (sbx_mkdir_p(target, 0755) < 0)
		return sbx_fail(why, len, -errno, "mkdir %s: %m", dst);
	if (mount("tmpfs", target, "tmpfs", flags | MS_NOSUID | MS_NODEV, opts) < 0)
		return sbx_fail(why, len, -errno, "tmpfs on %s: %m", dst);
	return 0;
}

/* The private /dev the device nodes are bound into. */
static int setup_dev(const char *root, char *why, size_t len)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "/dev/fd" }, { "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" }, { "/proc/self/fd/2", "/dev/stderr" },
	};
	char at[4096];
	int r;

	r = mount_tmpfs(root, "/dev", "mode=0755,size=64k", MS_NOEXEC, why, len);
	for (size_t i = 0; !r && i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(at, sizeof(at), "%s%s", root, links[i][1]);
		if (symlink(links[i][0], at) < 0)
			r = sbx_fail(why, len, -errno, "symlink %s: %m", links[i][1]);
	}
	return r;
}

/* A new /proc for the new pid namespace, with the kernel knobs read-only. */
static int setup_proc(const char *root, char *why, size_t len)
{
	char target[4096];

	snprintf(target, sizeof(target), "%s/proc", root);
	if (sbx_mkdir_p(target, 0755) < 0)
		return sbx_fail(why, len, -errno, "mkdir /proc: %m");
	if (mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return sbx_fail(why, len, -errno, "mount /proc: %m");
	snprintf(target, sizeof(target), "%s/proc/sys", root);
	if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0 ||
	    setattr_tree(target, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0)
		return sbx_fail(why, len, -errno, "make read-only /proc/sys: %m");
	snprintf(target, sizeof(target), "%s/proc/sysrq-trigger", root);
	if (mount("/dev/null", target, NULL, MS_BIND, NULL) < 0 && errno != ENOENT)
		return sbx_fail(why, len, -errno, "mask /proc/sysrq-trigger: %m");
	return 0;
}

/* Hides a path inside the view: an empty read-only tmpfs over a directory,
 * /dev/null over a file. A symlink is hidden where it leads in the view
 * (open_in_view), as Landlock and the workload resolve it. */
static int mask_path(const char *root, const char *path, char *why, size_t len)
{
	_cleanup_close_ int fd = -1;
	char at[64];
	struct stat st;

	fd = open_in_view(root, path, at, sizeof(at));
	if (fd == -ENOENT)
		return 0;	/* not visible anyway */
	if (fd < 0 || fstat(fd, &st) < 0) {
		errno = fd < 0 ? -fd : errno;
		return sbx_fail(why, len, -errno, "mask %s: %m", path);
	}
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", at, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "size=4k,mode=0000") < 0)
			return sbx_fail(why, len, -errno, "mask %s: %m", path);
		return 0;
	}
	if (mount("/dev/null", at, NULL, MS_BIND, NULL) < 0)
		return sbx_fail(why, len, -errno, "mask %s: %m", path);
	return 0;
}

/* A grant's mount (grants.h), prepared with its flags by the parent from
 * the path it checked (real), attached at the rule's path in the view. */
static int attach_at(const char *root, const char *path, const char *real, int mount_fd,
		     char *why, size_t len)
{
	_cleanup_close_ int to = -1;
	char target[4096];
	int r;

	snprintf(target, sizeof(target), "%s%s", root, path);
	/* the rule's path as the view resolves it (open_in_view: where the
	 * workload and Landlock look for it), made only if it is not there */
	r = to = open_in_view(root, path, NULL, 0);
	if (r == -ENOENT) {
		r = make_point(real, target);
		if (!r)
			r = to = open_in_view(root, path, NULL, 0);
	}
	if (r >= 0)
		r = sbx_grants_attach(mount_fd, to);
	if (r < 0) {
		errno = -r;
		return sbx_fail(why, len, -errno, "attach the checked mount of %s: %m", path);
	}
	return 0;
}

static int apply_rule(const struct sbx_fsplan *pl, const struct sbx_fsplan_rule *ru,
		      const struct sbx_grants *g, size_t i,
		      const char *root, char *why, size_t len)
{
	char path[PATH_MAX];

	sbx_fsplan_mount_path(ru->path, path, sizeof(path));
	if (ru->access == 0)
		return mask_path(root, path, why, len);
	if (sbx_fsplan_provided(pl, ru->path))
		return 0;	/* the private mount, with the rule's access (apply_base) */
	/* only what the parent resolved, checked and cloned: a path that
	 * appeared or changed since is not bound */
	if (g)
		return g->mount_fd[i] >= 0 ?
		       attach_at(root, path, g->real[i], g->mount_fd[i], why, len) : 0;
	if (access(path, F_OK) < 0)
		return 0;	/* nothing to bind; a later create cannot escape */
	return bind_at(root, path, path, access_flags(ru->access), why, len);
}

/* The plan's rules in its order, shortest path first, so that a more
 * specific rule is mounted over its parent's and wins whatever the order in
 * the file. The base view is already there; the exec list is not a view. */
static int apply_rules(const struct sbx_fsplan *pl, const struct sbx_grants *g, const char *root,
		       char *why, size_t len)
{
	int r = 0;

	for (size_t i = 0; i < pl->n_rules && !r; i++)
		if (pl->rules[i].origin != SBX_FSPLAN_BASE)
			r = apply_rule(pl, &pl->rules[i], g, i, root, why, len);
	return r;
}

/* A private tmpfs of the base view: its own mount, or with a disk quota
 * the disk's directory for it (/tmp and /dev/shm share the quota). */
static int base_tmpfs(const char *root, const char *path, unsigned long flags,
		      const struct sbx_rootfs_disk *disk, char *why, size_t len)
{
	char src[PATH_MAX], target[PATH_MAX];

	if (!disk)
		return mount_tmpfs(root, path, "mode=1777", flags, why, len);
	snprintf(src, sizeof(src), "%s/%s", disk->stage,
		 strcmp(path, "/dev/shm") ? SBX_DISK_TMP : SBX_DISK_SHM);
	snprintf(target, sizeof(target), "%s%s", root, path);
	if (sbx_mkdir_p(target, 0755) < 0)
		return sbx_fail(why, len, -errno, "mkdir %s: %m", path);
	if (mount(src, target, NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags | MS_NOSUID | MS_NODEV, NULL) < 0)
		return sbx_fail(why, len, -errno, "disk: bind on %s: %m", path);
	return 0;
}

/* The base view of the plan, in its order. */
static int apply_base(const struct sbx_fsplan *pl, const char *root,
		      const struct sbx_rootfs_disk *disk, char *why, size_t len)
{
	bool have_dev = false;
	int r = 0;

	for (size_t i = 0; i < pl->n_view && !r; i++) {
		const struct sbx_fsbase *b = pl->view[i];
		char path[PATH_MAX];

		sbx_fsplan_mount_path(b->path, path, sizeof(path));
		if (!have_dev && !strncmp(b->path, "/dev/", 5)) {
			r = setup_dev(root, why, len);
			have_dev = true;
			if (r)
				break;
		}
		if (b->kind == SBX_FSBASE_HOST)
			r = bind_host(root, b, why, len);
		else if (b->kind == SBX_FSBASE_PROC)
			r = setup_proc(root, why, len);
		else if (b->kind == SBX_FSBASE_DEVICE && access(path, F_OK) == 0)
			r = bind_at(root, path, path, DEV_FLAGS, why, len);
		else if (b->kind == SBX_FSBASE_TMPFS)
			r = base_tmpfs(root, path, access_flags(sbx_fsplan_provided_access(pl, b)),
				       disk, why, len);
	}
	return r;
}

/* Whatever the fs mode or the rules say, the host's sysfs in the view is
 * read-only down to its last submount, and bpffs is hidden under an empty
 * read-only tmpfs: a workload running as uid 0 still owns root-owned files
 * with no capability at all (cgroup.procs, pids.max, sysfs knobs, sbx's
 * pins), and the mount flags are what it cannot undo without CAP_SYS_ADMIN. */
static int lock_sysfs(const char *root, char *why, size_t len)
{
	static const char *const hidden[] = { "/sys/fs/bpf" };
	char target[PATH_MAX];
	struct stat st;

	snprintf(target, sizeof(target), "%s/sys", root);
	if (lstat(target, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;		/* no /sys in this view */
	/* bound onto itself, so that the attributes apply from a mount's root
	 * even where the host has no sysfs mounted there */
	if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
		return sbx_fail(why, len, -errno, "bind /sys in the view: %m");
	if (setattr_tree(target, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			 MOUNT_ATTR_NOEXEC) < 0)
		return sbx_fail(why, len, -errno, "make read-only /sys: %m");
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		snprintf(target, sizeof(target), "%s%s", root, hidden[i]);
		if (lstat(target, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "mode=0555,size=4k") < 0)
			return sbx_fail(why, len, -errno, "hide %s: %m", hidden[i]);
	}
	return 0;
}

/* The view is built at <run_dir>/root (process.c): the instance's run
 * directory, which holds the slots' registry and counters files that sbx
 * and sbxd read, is hidden in it under an empty read-only tmpfs, or a
 * root workload of fs.mode "full" could rewrite them or leave FIFOs there. */
static int hide_run_dir(const char *root, char *why, size_t len)
{
	char run[PATH_MAX], target[PATH_MAX * 2];
	char *slash;
	struct stat st;

	snprintf(run, sizeof(run), "%s", root);
	slash = strrchr(run, '/');
	if (!slash || slash == run || strcmp(slash, "/root"))
		return 0;	/* not a view of a run directory */
	*slash = 0;
	snprintf(target, sizeof(target), "%s%s", root, run);
	if (lstat(target, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;	/* not in this view */
	if (mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0555,size=4k") < 0)
		return sbx_fail(why, len, -errno, "hide %s: %m", run);
	return 0;
}

/* Each of hide that the view shows (a host directory bound in) is covered
 * by an empty read-only tmpfs: sbx's own directories for a root workload,
 * which could otherwise forge or delete audit lines or sbxd's state. */
static int hide_dirs(const char *root, const char *const *hide, char *why, size_t len)
{
	char target[PATH_MAX * 2];
	struct stat st;

	for (size_t i = 0; hide && hide[i]; i++) {
		snprintf(target, sizeof(target), "%s%s", root, hide[i]);
		if (lstat(target, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;	/* not in this view */
		if (mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "mode=0555,size=4k") < 0)
			return sbx_fail(why, len, -errno, "hide %s: %m", hide[i]);
	}
	return 0;
}

/* pivot_root(".", ".") stacks the old root on top of the new one, so no
 * directory is needed for it (the new root may be read-only), and detaching
 * the top of the stack leaves the new root. */
static int enter_root(const char *root, char *why, size_t len)
{
	if (chdir(root) < 0)
		return sbx_fail(why, len, -errno, "chdir %s: %m", root);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return sbx_fail(why, len, -errno, "pivot_root to %s: %m", root);
	if (umount2(".", MNT_DETACH) < 0)
		return sbx_fail(why, len, -errno, "detach old root: %m");
	if (chdir("/") < 0)
		return sbx_fail(why, len, -errno, "chdir /: %m");
	return 0;
}

/* ---- what the view lets a workload run (for "auto", provider.h can_run) ---- */

/* The file the workload's execvp would pick: argv0 itself when it has a '/',
 * else the first executable regular file along the workload's PATH. */
static int find_on_host(const char *argv0, const char *path, char *ret, size_t len)
{
	struct stat st;

	if (strchr(argv0, '/')) {
		snprintf(ret, len, "%s", argv0);
		return stat(ret, &st) == 0 ? 0 : -ENOENT;
	}
	while (*path) {
		size_t n = strcspn(path, ":");

		if (n && path[0] == '/' && (size_t)snprintf(ret, len, "%.*s/%s", (int)n, path, argv0) < len &&
		    stat(ret, &st) == 0 && S_ISREG(st.st_mode) && access(ret, X_OK) == 0)
			return 0;
		path += n + (path[n] == ':');
	}
	return -ENOENT;
}

/* Whether the view of p would show path on a mount that allows exec: the
 * same plan the view is built from (a provider with a view, no kernel
 * backend asked for). */
static int view_executes(const struct sbx_profile *p, const char *path, const char *real,
			 bool *ret)
{
	struct sbx_fsplan_features ft = { .view = true, .provider = "process" };
	struct sbx_fsplan pl;
	char why[256];
	int r = sbx_fsplan_make(p, &ft, &pl, why, sizeof(why));

	if (r < 0)
		return r;
	*ret = sbx_fsplan_view_allows(&pl, path, SBX_FACC_X) &&
	       sbx_fsplan_view_allows(&pl, real, SBX_FACC_X);
	sbx_fsplan_free(&pl);
	return 0;
}

int sbx_rootfs_can_run(const struct sbx_profile *p, const char *prog, char *why, size_t len)
{
	char found[PATH_MAX], real[PATH_MAX];
	bool ok = false;
	int r;

	if (!prog || !*prog)
		return sbx_fail(why, len, -EINVAL, "no command");
	if (find_on_host(prog, sbx_env_path(p), found, sizeof(found)) < 0)
		return sbx_fail(why, len, -ENOENT, "%s: not found in the workload's PATH (%s)",
				prog, sbx_env_path(p));
	/* relative names resolve against sbx's cwd here, the sandbox's there */
	if (found[0] != '/')
		return 0;
	r = realpath(found, real) ? view_executes(p, found, real, &ok) : 0;
	if (r < 0)
		return sbx_fail(why, len, r, "the filesystem plan: %s", strerror(-r));
	if (!ok)
		return sbx_fail(why, len, -ENOENT,
				"%s is not visible or not executable in the sandbox's view "
				"(fs.mode %s and the fs rules)", found,
				sbx_fs_mode_name(p->fs.mode));
	return 0;
}

/* -t: the pty's slave at its own name (/dev/pts/N) in the view, so that
 * ttyname() (tty, ssh, sudo, ...) finds the terminal on fd. */
static int bind_tty(const char *root, int fd, char *why, size_t len)
{
	char name[64];

	/* (the fd's own mount is the parent namespace's: bind its copy here,
	 * which ttyname_r checked is the same file) */
	if (ttyname_r(fd, name, sizeof(name)) != 0 || strncmp(name, "/dev/", 5))
		return 0;	/* not a terminal under /dev: nothing to name */
	return bind_at(root, name, name, DEV_FLAGS, why, len);
}

int sbx_rootfs_setup(const struct sbx_fsplan *pl, const struct sbx_grants *g, const char *root,
		     const char *hostname, int tty_fd, const struct sbx_rootfs_disk *disk,
		     const char *const *hide, char *why, size_t len)
{
	bool host_root = pl->mode != SBX_FS_NONE;
	int r = 0;

	why[0] = 0;
	/* nothing we mount may propagate back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return sbx_fail(why, len, -errno, "make private /: %m");
	if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
		return sbx_fail(why, len, -errno, "tmpfs on %s: %m", root);
	if (host_root)
		r = bind_host_root(root, pl->mode != SBX_FS_READ_ONLY, why, len);
	if (!r && disk)
		r = sbx_disk_stage(disk->fd, disk->stage, why, len);
	if (!r)
		r = apply_base(pl, root, disk, why, len);
	if (!r && disk)
		r = sbx_disk_unstage(disk->stage, why, len);
	if (!r && pl->mode != SBX_FS_FULL)
		r = apply_rules(pl, g, root, why, len);
	if (!r)
		r = lock_sysfs(root, why, len);
	if (!r)
		r = hide_run_dir(root, why, len);
	if (!r)
		r = hide_dirs(root, hide, why, len);
	if (!r && tty_fd >= 0)
		r = bind_tty(root, tty_fd, why, len);
	if (!r)
		r = enter_root(root, why, len);
	/* the view's own skeleton (mount points) is not writable */
	if (!r && !host_root && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID |
				      MS_NODEV, NULL) < 0)
		r = sbx_fail(why, len, -errno, "make read-only /: %m");
	if (!r && hostname && sethostname(hostname, strlen(hostname)) < 0)
		r = sbx_fail(why, len, -errno, "sethostname %s: %m", hostname);
	return r;
}
