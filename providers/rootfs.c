/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <limits.h>

#include "privs.h"
#include "rootfs.h"
#include "util/util.h"

#define RO_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV)

/* What every program needs, bound read-only when present on the host. */
static const char *const sys_dirs[] = { "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
					"/libx32", NULL };
static const char *const etc_files[] = {
	"/etc/passwd", "/etc/group", "/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf",
	"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
	"/etc/ssl", "/etc/ca-certificates", "/etc/alternatives", "/etc/host.conf",
	"/etc/gai.conf", "/etc/mime.types", NULL,
};
static const char *const dev_nodes[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random",
					 "/dev/urandom", "/dev/tty", NULL };

static int fail(char *why, size_t len, const char *what, const char *path)
{
	int e = errno;

	snprintf(why, len, "%s %s: %s", what, path, strerror(e));
	return -e;
}

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

/* Binds src at root/dst; read-only unless rw, noexec when asked. */
static int bind_at(const char *root, const char *src, const char *dst, unsigned long extra,
		   char *why, size_t len)
{
	char target[4096];
	int r;

	snprintf(target, sizeof(target), "%s%s", root, dst);
	r = make_point(src, target);
	if (r < 0) {
		errno = -r;
		return fail(why, len, "mount point for", dst);
	}
	if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) < 0)
		return fail(why, len, "bind", src);
	if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | extra, NULL) < 0)
		return fail(why, len, "remount", dst);
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

static int bind_system(const char *root, char *why, size_t len)
{
	struct stat st;
	int r;

	for (size_t i = 0; sys_dirs[i]; i++) {
		if (lstat(sys_dirs[i], &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode))
			r = copy_link(root, sys_dirs[i]);
		else
			r = bind_at(root, sys_dirs[i], sys_dirs[i], RO_FLAGS, why, len);
		if (r < 0) {
			if (!why[0])
				snprintf(why, len, "%s: %s", sys_dirs[i], strerror(-r));
			return r;
		}
	}
	for (size_t i = 0; etc_files[i]; i++) {
		if (access(etc_files[i], F_OK) < 0)
			continue;
		r = bind_at(root, etc_files[i], etc_files[i], RO_FLAGS | MS_NOEXEC, why, len);
		if (r < 0)
			return r;
	}
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
		return fail(why, len, "bind", "/");
	if (setattr_tree(root, (rw ? 0 : MOUNT_ATTR_RDONLY) | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0)
		return fail(why, len, "make read-only", "/");
	return 0;
}

static int mount_tmpfs(const char *root, const char *dst, const char *opts, unsigned long flags,
		       char *why, size_t len)
{
	char target[4096];

	snprintf(target, sizeof(target), "%s%s", root, dst);
	if (sbx_mkdir_p(target, 0755) < 0)
		return fail(why, len, "mkdir", dst);
	if (mount("tmpfs", target, "tmpfs", flags | MS_NOSUID | MS_NODEV, opts) < 0)
		return fail(why, len, "tmpfs on", dst);
	return 0;
}

static int setup_dev(const char *root, char *why, size_t len)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "/dev/fd" }, { "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" }, { "/proc/self/fd/2", "/dev/stderr" },
	};
	char at[4096];
	int r;

	r = mount_tmpfs(root, "/dev", "mode=0755,size=64k", MS_NOEXEC, why, len);
	for (size_t i = 0; !r && dev_nodes[i]; i++)
		if (access(dev_nodes[i], F_OK) == 0)
			r = bind_at(root, dev_nodes[i], dev_nodes[i], MS_NOSUID | MS_NOEXEC, why, len);
	for (size_t i = 0; !r && i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(at, sizeof(at), "%s%s", root, links[i][1]);
		if (symlink(links[i][0], at) < 0)
			r = fail(why, len, "symlink", links[i][1]);
	}
	if (!r)
		r = mount_tmpfs(root, "/dev/shm", "mode=1777", MS_NOEXEC, why, len);
	return r;
}

/* A new /proc for the new pid namespace, with the kernel knobs read-only. */
static int setup_proc(const char *root, char *why, size_t len)
{
	char target[4096];

	snprintf(target, sizeof(target), "%s/proc", root);
	if (sbx_mkdir_p(target, 0755) < 0)
		return fail(why, len, "mkdir", "/proc");
	if (mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return fail(why, len, "mount", "/proc");
	snprintf(target, sizeof(target), "%s/proc/sys", root);
	if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0 ||
	    setattr_tree(target, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0)
		return fail(why, len, "make read-only", "/proc/sys");
	snprintf(target, sizeof(target), "%s/proc/sysrq-trigger", root);
	if (mount("/dev/null", target, NULL, MS_BIND, NULL) < 0 && errno != ENOENT)
		return fail(why, len, "mask", "/proc/sysrq-trigger");
	return 0;
}

/* Hides a path inside the view: an empty read-only tmpfs over a directory,
 * /dev/null over a file. */
static int mask_path(const char *root, const char *path, char *why, size_t len)
{
	char target[4096];
	struct stat st;

	snprintf(target, sizeof(target), "%s%s", root, path);
	if (lstat(target, &st) < 0)
		return 0;	/* not visible anyway */
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "size=4k,mode=0000") < 0)
			return fail(why, len, "mask", path);
		return 0;
	}
	if (mount("/dev/null", target, NULL, MS_BIND, NULL) < 0)
		return fail(why, len, "mask", path);
	return 0;
}

static int by_length(const void *a, const void *b, void *arg)
{
	const struct sbx_profile *p = arg;
	size_t x = strlen(p->fs.rules[*(const size_t *)a].path);
	size_t y = strlen(p->fs.rules[*(const size_t *)b].path);

	return x < y ? -1 : x > y;
}

static int apply_rule(const struct sbx_fs_rule *ru, const char *root, char *why, size_t len)
{
	unsigned long flags = MS_NOSUID | MS_NODEV;
	char path[4096];

	snprintf(path, sizeof(path), "%s", ru->path);
	if (ru->dir && strlen(path) > 1)
		path[strlen(path) - 1] = 0;	/* "/etc/ssl/" -> "/etc/ssl" */
	if (ru->access == 0)
		return mask_path(root, path, why, len);
	if (access(path, F_OK) < 0)
		return 0;	/* nothing to bind; a later create cannot escape */
	if (!(ru->access & SBX_ACC_W))
		flags |= MS_RDONLY;
	if (!(ru->access & SBX_ACC_X))
		flags |= MS_NOEXEC;
	return bind_at(root, path, path, flags, why, len);
}

/* The profile's fs rules as binds of the host path at the same place,
 * shortest path first, so that a more specific rule is mounted over its
 * parent's and wins whatever the order in the file. */
static int apply_rules(const struct sbx_profile *p, const char *root, char *why, size_t len)
{
	size_t order[SBX_MAX_PATH_RULES > 4096 ? 4096 : SBX_MAX_PATH_RULES];
	size_t n = p->fs.n_rules < sizeof(order) / sizeof(order[0]) ? p->fs.n_rules :
		   sizeof(order) / sizeof(order[0]);
	int r = 0;

	if (n < p->fs.n_rules) {
		snprintf(why, len, "more than %zu fs rules for the mount view", n);
		return -E2BIG;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(order[0]), by_length, (void *)p);
	for (size_t i = 0; i < n && !r; i++)
		r = apply_rule(&p->fs.rules[order[i]], root, why, len);
	return r;
}

/* pivot_root(".", ".") stacks the old root on top of the new one, so no
 * directory is needed for it (the new root may be read-only), and detaching
 * the top of the stack leaves the new root. */
static int enter_root(const char *root, char *why, size_t len)
{
	if (chdir(root) < 0)
		return fail(why, len, "chdir", root);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail(why, len, "pivot_root to", root);
	if (umount2(".", MNT_DETACH) < 0)
		return fail(why, len, "detach", "old root");
	if (chdir("/") < 0)
		return fail(why, len, "chdir", "/");
	return 0;
}

/* ---- what the view lets a workload run (for "auto", provider.h can_run) ---- */

static bool under_tree(const char *path, const char *tree)
{
	size_t n = strlen(tree);

	return !strncmp(path, tree, n) && (path[n] == '/' || path[n] == 0);
}

/* The longest fs rule covering path, as apply_rules stacks them; NULL: none. */
static const struct sbx_fs_rule *deciding_rule(const struct sbx_profile *p, const char *path)
{
	const struct sbx_fs_rule *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < p->fs.n_rules; i++) {
		const struct sbx_fs_rule *ru = &p->fs.rules[i];
		size_t n = strlen(ru->path);
		bool covers = ru->dir ? !strncmp(path, ru->path, n) ||
					(n > 1 && !strncmp(path, ru->path, n - 1) && !path[n - 1]) :
				  !strcmp(path, ru->path);

		if (covers && n > best_len) {
			best = ru;
			best_len = n;
		}
	}
	return best;
}

/* Is the host file at path in the view, on a mount that allows exec? */
static bool view_executes(const struct sbx_profile *p, const char *path)
{
	const struct sbx_fs_rule *ru;

	if (p->fs.mode == SBX_FS_FULL)
		return true;
	ru = deciding_rule(p, path);
	if (ru)
		return ru->access & SBX_ACC_X;
	if (under_tree(path, "/tmp"))
		return false;	/* a private tmpfs replaces it */
	if (p->fs.mode != SBX_FS_NONE)
		return true;	/* the host root, nosuid but exec */
	for (size_t i = 0; sys_dirs[i]; i++)
		if (under_tree(path, sys_dirs[i]))
			return true;
	return false;
}

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

int sbx_rootfs_can_run(const struct sbx_profile *p, const char *prog, char *why, size_t len)
{
	char found[PATH_MAX], real[PATH_MAX];

	if (!prog || !*prog) {
		snprintf(why, len, "no command");
		return -EINVAL;
	}
	if (find_on_host(prog, sbx_env_path(p), found, sizeof(found)) < 0) {
		snprintf(why, len, "%s: not found in the workload's PATH (%s)", prog, sbx_env_path(p));
		return -ENOENT;
	}
	/* relative names resolve against sbx's cwd here, the sandbox's there */
	if (found[0] != '/')
		return 0;
	if (!view_executes(p, found) || !realpath(found, real) || !view_executes(p, real)) {
		snprintf(why, len, "%s is not visible or not executable in the sandbox's view "
			 "(fs.mode %s and the fs rules)", found, sbx_fs_mode_name(p->fs.mode));
		return -ENOENT;
	}
	return 0;
}

int sbx_rootfs_setup(const struct sbx_profile *p, const char *root, const char *hostname,
		     char *why, size_t len)
{
	bool host_root = p->fs.mode != SBX_FS_NONE;
	int r;

	why[0] = 0;
	/* nothing we mount may propagate back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail(why, len, "make private", "/");
	if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
		return fail(why, len, "tmpfs on", root);
	if (host_root)
		r = bind_host_root(root, p->fs.mode != SBX_FS_READ_ONLY, why, len);
	else
		r = bind_system(root, why, len);
	if (!r)
		r = setup_proc(root, why, len);
	if (!r)
		r = setup_dev(root, why, len);
	if (!r && p->fs.mode != SBX_FS_FULL)
		r = mount_tmpfs(root, "/tmp", "mode=1777", 0, why, len);
	if (!r && p->fs.mode != SBX_FS_FULL)
		r = apply_rules(p, root, why, len);
	if (!r)
		r = enter_root(root, why, len);
	/* the view's own skeleton (mount points) is not writable */
	if (!r && !host_root && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID |
				      MS_NODEV, NULL) < 0)
		r = fail(why, len, "make read-only", "/");
	if (!r && hostname && sethostname(hostname, strlen(hostname)) < 0)
		r = fail(why, len, "sethostname", hostname);
	return r;
}
