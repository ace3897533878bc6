/* SPDX-License-Identifier: MIT */
/*
 * The container's filesystem, built in its new mount namespace (oci.h,
 * oci_rootfs_setup): root propagation, the rootfs bound on itself, the
 * spec's mounts in order, the devices, pivot_root (or MS_MOVE + chroot),
 * then, from inside, hostname, sysctl, readonlyPaths, maskedPaths and a
 * read-only root. Every mount target is resolved inside the rootfs
 * (inroot.c) and mounted through its descriptor, so that no symlink of the
 * image can point a mount at the host.
 *
 * Decisions (docs/oci.md):
 * - Mount and device targets: a symlink of the image is followed as the
 *   container will see it (an absolute target from the rootfs's root), but
 *   a ".." that would climb above the root, in the destination or in a
 *   link, is an error naming the mount, not silently stopped at the root
 *   as the kernel and runc do. A missing target is made (a directory, or an
 *   empty file for a bind of a file). Nothing is mounted below /proc but
 *   proc on /proc and binds over the files lxcfs replaces (runc's rule).
 * - cgroup mounts ("cgroup" or "cgroup2"): sbx puts a container in a cgroup2
 *   directory (on a hybrid host, under the unified hierarchy). With a cgroup
 *   namespace the destination gets a fresh cgroup2 mount, whose root is the
 *   container's own cgroup; without one, a fresh mount would show the host's
 *   whole tree, so the container's own cgroup directory is bound read-only
 *   instead. v1 hierarchies are never mounted into a container.
 * - sysfs where the kernel refuses a new one (a user namespace without its
 *   own network namespace): the host's /sys is bound recursively, as runc
 *   does (a user namespace cannot leave out the submounts it locked), and
 *   the mount's flags go to every mount of that tree (mount_setattr), not
 *   only to its top as runc's remount does: the host's bpffs, debugfs and
 *   v1 hierarchies below it are read-only, nosuid, nodev, noexec too.
 * - linux.sysctl: only the keys that the container's own namespaces scope
 *   (runc's validator): kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*
 *   with an IPC namespace, net.* with a network namespace, kernel.domainname
 *   and kernel.hostname with a UTS namespace (kernel.hostname not beside the
 *   "hostname" field, which it would contradict). Everything else is
 *   refused before anything is mounted.
 * - Default root propagation: rprivate (runc's is rslave); rootfsPropagation
 *   overrides it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kernel/cgroup.h"
#include "kernel/mountinfo.h"
#include "oci/inside.h"
#include "oci/oci.h"
#include "util/util.h"

/* The MS_* flags that a bind mount takes only from a remount. */
#define BIND_REMOUNT_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | \
			    MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_SYNCHRONOUS | \
			    MS_DIRSYNC | MS_MANDLOCK)
#define PROPAGATION_FLAGS (MS_PRIVATE | MS_SLAVE | MS_SHARED | MS_UNBINDABLE)

bool oci_mount_is_bind(const struct oci_mount *m)
{
	return m->bind || m->rbind || (m->flags & MS_BIND) || (m->type && !strcmp(m->type, "bind"));
}

bool oci_has_namespace(const struct oci_spec *s, int type)
{
	for (size_t i = 0; i < s->n_namespaces; i++)
		if (s->namespaces[i].type == type)
			return true;
	return false;
}

unsigned long oci_statfs_mount_flags(unsigned long f)
{
	static const unsigned long map[][2] = {
		{ ST_RDONLY, MS_RDONLY }, { ST_NOSUID, MS_NOSUID }, { ST_NODEV, MS_NODEV },
		{ ST_NOEXEC, MS_NOEXEC }, { ST_NOATIME, MS_NOATIME },
		{ ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
	};
	unsigned long ms = 0;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (f & map[i][0])
			ms |= map[i][1];
	return ms;
}

bool oci_proc_dest_allowed(const char *dest, const char *type, bool bind)
{
	/* files that lxcfs and similar tools bind over with their own view */
	static const char *const files[] = {
		"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
		"/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev",
	};

	if (strcmp(dest, "/proc") && strncmp(dest, "/proc/", 6))
		return true;
	if (!strcmp(dest, "/proc"))
		return type && !strcmp(type, "proc") && !bind;
	for (size_t i = 0; bind && i < sizeof(files) / sizeof(files[0]); i++)
		if (!strcmp(dest, files[i]))
			return true;
	return false;
}

int oci_sysctl_check(const struct oci_spec *s, const char *key, char *why, size_t len)
{
	static const char *const ipc[] = {
		"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
		"kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
	};
	const char *need = NULL;
	int type = 0;

	if (!*key || strchr(key, '/') || strstr(key, ".."))
		return sbx_fail(why, len, -EINVAL, "linux.sysctl: \"%s\" is not a sysctl name", key);
	for (size_t i = 0; i < sizeof(ipc) / sizeof(ipc[0]); i++)
		if (!strcmp(key, ipc[i]))
			type = CLONE_NEWIPC, need = "ipc";
	if (!strncmp(key, "fs.mqueue.", 10))
		type = CLONE_NEWIPC, need = "ipc";
	else if (!strncmp(key, "net.", 4))
		type = CLONE_NEWNET, need = "network";
	else if (!strcmp(key, "kernel.domainname") || !strcmp(key, "kernel.hostname"))
		type = CLONE_NEWUTS, need = "uts";
	if (!type)
		return sbx_fail(why, len, -EINVAL, "linux.sysctl: \"%s\" is not scoped by a namespace "
				"of the container: it would change the host", key);
	if (!oci_has_namespace(s, type))
		return sbx_fail(why, len, -EINVAL, "linux.sysctl: \"%s\" needs the container's own %s "
				"namespace (linux.namespaces has none)", key, need);
	if (!strcmp(key, "kernel.hostname") && s->hostname)
		return sbx_fail(why, len, -EINVAL, "linux.sysctl: \"kernel.hostname\" contradicts the "
				"\"hostname\" field");
	return 0;
}

/* What is checked before anything is mounted. */
static int check_spec(const struct oci_spec *s, char *why, size_t len)
{
	int r;

	if (!s->root_path || s->root_path[0] != '/')
		return sbx_fail(why, len, -EINVAL, "root.path: not an absolute path");
	if ((s->hostname || s->domainname) && !oci_has_namespace(s, CLONE_NEWUTS))
		return sbx_fail(why, len, -EINVAL, "%s: needs the container's own uts namespace "
				"(linux.namespaces has none)", s->hostname ? "hostname" : "domainname");
	if (!oci_has_namespace(s, CLONE_NEWNS))
		return sbx_fail(why, len, -EINVAL, "linux.namespaces: a container needs its own mount "
				"namespace");
	for (size_t i = 0; i < s->n_sysctl; i++)
		if ((r = oci_sysctl_check(s, s->sysctl[i].key, why, len)) < 0)
			return r;
	return 0;
}

/* ---- mounting through descriptors -------------------------------------- */

struct target {
	int fd;				/* O_PATH of the mount point, or -1 */
	char proc[32];			/* /proc/self/fd/N */
	char path[PATH_MAX];		/* inside the root */
};

static void target_close(struct target *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

static int target_open(int rootfd, const char *dest, int flags, struct target *t)
{
	target_close(t);
	t->fd = oci_inroot_open(rootfd, dest, flags, t->path, sizeof(t->path));
	if (t->fd < 0)
		return t->fd;
	snprintf(t->proc, sizeof(t->proc), "/proc/self/fd/%d", t->fd);
	return 0;
}

/*
 * A bind mount takes its flags from a remount. The flags of the source that
 * a user namespace locks (nosuid, nodev, noexec, ro, atime) are kept, else
 * the remount fails with EPERM; those the spec clears ("rw", "suid", ...)
 * are asked off and fail only where they are locked. target names the new
 * mount itself (not the directory under it).
 */
static int remount_bind(const char *target, unsigned long set, unsigned long clear)
{
	struct statvfs sv;
	unsigned long keep;

	if (statvfs(target, &sv) < 0)
		return -errno;
	keep = oci_statfs_mount_flags(sv.f_flag);
	if (set & (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME))
		keep &= ~(MS_NOATIME | MS_NODIRATIME | MS_RELATIME);
	if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | set | (keep & ~clear), NULL) < 0)
		return -errno;
	return 0;
}

/* The flags of a bound tree on every mount of it (the sysfs fallback). */
static int setattr_tree(const char *target, unsigned long ms)
{
	struct mount_attr a = {
		.attr_set = (ms & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0) |
			    (ms & MS_NOSUID ? MOUNT_ATTR_NOSUID : 0) |
			    (ms & MS_NODEV ? MOUNT_ATTR_NODEV : 0) |
			    (ms & MS_NOEXEC ? MOUNT_ATTR_NOEXEC : 0),
	};

	if (syscall(SYS_mount_setattr, AT_FDCWD, target, AT_RECURSIVE, &a, sizeof(a)) < 0)
		return -errno;
	return 0;
}

/* The container's own cgroup2 directory (no cgroup namespace). */
static int own_cgroup_dir(char *buf, size_t len)
{
	char mnt[PATH_MAX], self[PATH_MAX];
	int r = sbx_cgroup2_mount(mnt, sizeof(mnt));

	if (r >= 0)
		r = sbx_cgroup2_self(self, sizeof(self));
	if (r < 0)
		return r;
	return (size_t)snprintf(buf, len, "%s%s", mnt, self) >= len ? -ENAMETOOLONG : 0;
}

/* The mount itself, onto t (see the decisions at the top). */
static int mount_at(const struct oci_spec *s, const struct oci_mount *m, const struct target *t,
		    bool *ret_bound)
{
	unsigned long flags = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT | PROPAGATION_FLAGS);
	const char *type = m->type;
	char dir[PATH_MAX];
	int r;

	*ret_bound = oci_mount_is_bind(m);
	if (*ret_bound)
		return mount(m->source, t->proc, NULL, MS_BIND | (m->rbind || (m->flags & MS_REC) ?
				     MS_REC : 0), NULL) < 0 ? -errno : 0;
	if (!strcmp(type, "cgroup") || !strcmp(type, "cgroup2")) {
		if (oci_has_namespace(s, CLONE_NEWCGROUP))
			return mount("cgroup2", t->proc, "cgroup2", flags,
				     !strcmp(type, "cgroup2") ? m->data : NULL) < 0 ? -errno : 0;
		*ret_bound = true;
		r = own_cgroup_dir(dir, sizeof(dir));
		if (r < 0)
			return r;
		return mount(dir, t->proc, NULL, MS_BIND, NULL) < 0 ? -errno : 0;
	}
	if (mount(m->source ? m->source : type, t->proc, type, flags, m->data) == 0)
		return 0;
	if (errno != EPERM || strcmp(type, "sysfs"))
		return -errno;
	/* recursive: a user namespace may not bind a tree without the
	 * submounts it locked; they get the mount's flags too (mount_finish) */
	*ret_bound = true;
	return mount("/sys", t->proc, NULL, MS_BIND | MS_REC, NULL) < 0 ? -errno : 0;
}

/* The bind's flags (and a cgroup directory's read-only), then propagation,
 * on the new mount: a fresh descriptor, since the old one names the
 * directory beneath it. */
static int mount_finish(int rootfd, const struct oci_mount *m, bool bound, struct target *t)
{
	unsigned long set = m->flags & BIND_REMOUNT_FLAGS;
	bool own = bound && !oci_mount_is_bind(m);
	bool cgroup_bind = own && !strncmp(m->type, "cgroup", 6);
	bool sysfs_bind = own && !strcmp(m->type, "sysfs");
	int r;

	if (cgroup_bind)
		set |= MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	if ((!bound || !set) && !m->propagation)
		return 0;
	r = target_open(rootfd, t->path, 0, t);
	if (!r && sysfs_bind && set)
		r = setattr_tree(t->proc, set);
	else if (!r && bound && set)
		r = remount_bind(t->proc, set, m->clear_flags);
	if (!r && m->propagation && mount(NULL, t->proc, NULL, m->propagation, NULL) < 0)
		r = -errno;
	return r;
}

/* Creates the mount point as what will be mounted there: a file for a bind
 * of a file, else a directory. */
static int point_flags(const struct oci_mount *m)
{
	struct stat st;

	if (oci_mount_is_bind(m) && m->source &&
	    stat(m->source, &st) == 0 && !S_ISDIR(st.st_mode))
		return OCI_INROOT_MKDIR | OCI_INROOT_MKFILE;
	return OCI_INROOT_MKDIR;
}

static int mount_one(const struct oci_spec *s, size_t i, int rootfd, char *why, size_t len)
{
	const struct oci_mount *m = &s->mounts[i];
	struct target t = { .fd = -1 };
	bool bound = false;
	int r;

	if (!m->destination || m->destination[0] != '/')
		return sbx_fail(why, len, -EINVAL, "mounts[%zu].destination: not an absolute path", i);
	if (!m->type && !oci_mount_is_bind(m))
		return sbx_fail(why, len, -EINVAL, "mounts[%zu]: no type and no bind option", i);
	if (oci_mount_is_bind(m) && !m->source)
		return sbx_fail(why, len, -EINVAL, "mounts[%zu].source: a bind mount needs one", i);
	r = target_open(rootfd, m->destination, point_flags(m), &t);
	if (r < 0)
		return sbx_fail(why, len, r, "mounts[%zu].destination \"%s\": %s", i, m->destination,
				oci_inroot_error(r));
	if (!oci_proc_dest_allowed(t.path, m->type, oci_mount_is_bind(m))) {
		target_close(&t);
		return sbx_fail(why, len, -EPERM, "mounts[%zu].destination \"%s\": %s is kept for "
				"the container's own proc", i, m->destination, t.path);
	}
	r = mount_at(s, m, &t, &bound);
	if (r < 0) {
		target_close(&t);
		return sbx_fail(why, len, r, "mounts[%zu]: mount %s on %s: %s", i,
				m->source ? m->source : m->type, t.path, strerror(-r));
	}
	r = mount_finish(rootfd, m, bound, &t);
	target_close(&t);
	if (r < 0)
		return sbx_fail(why, len, r, "mounts[%zu]: flags of the mount on %s: %s", i, t.path,
				strerror(-r));
	return 0;
}

/* ---- the root ------------------------------------------------------------ */

/* pivot_root refuses a new root whose parent mount is shared, and the bind
 * of the rootfs would propagate to the host: with a shared
 * rootfsPropagation the mount holding the rootfs directory (runc's
 * "parent mount", the rootfs itself when it is a mount point) becomes
 * private, so that the container's own mounts are private too. */
struct parent_find {
	const char *path;
	char best[PATH_MAX];
};

static int parent_match(const struct sbx_mount *mt, void *arg)
{
	struct parent_find *f = arg;
	size_t n = strlen(mt->point);

	if (!strncmp(f->path, mt->point, n) && (f->path[n] == '/' || !f->path[n] || n == 1) &&
	    n >= strlen(f->best))
		snprintf(f->best, sizeof(f->best), "%s", mt->point);
	return 0;
}

static int parent_private(const char *root)
{
	struct parent_find f = { .path = root };
	int r = sbx_mountinfo_each(parent_match, &f);

	if (r < 0)
		return r;
	if (f.best[0] && mount(NULL, f.best, NULL, MS_PRIVATE, NULL) < 0)
		return -errno;
	return 0;
}

static int prepare_root(const struct oci_spec *s, char *why, size_t len)
{
	unsigned long prop = s->rootfs_propagation ? s->rootfs_propagation : MS_PRIVATE | MS_REC;
	int r;

	if (mount(NULL, "/", NULL, prop, NULL) < 0)
		return sbx_fail(why, len, -errno, "linux.rootfsPropagation: on /: %m");
	if ((prop & MS_SHARED) && (r = parent_private(s->root_path)) < 0)
		return sbx_fail(why, len, r, "make private the mount holding %s: %s", s->root_path,
				strerror(-r));
	if (mount(s->root_path, s->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return sbx_fail(why, len, -errno, "root.path: bind %s on itself: %m", s->root_path);
	return 0;
}

/* pivot_root(".", ".") stacks the old root on the new one; made a slave
 * first, its detach does not propagate to the host's mounts. */
static int enter_pivot(int rootfd, char *why, size_t len)
{
	if (fchdir(rootfd) < 0)
		return sbx_fail(why, len, -errno, "chdir to root.path: %m");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return sbx_fail(why, len, -errno, "pivot_root into root.path: %m");
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return sbx_fail(why, len, -errno, "make the old root a slave: %m");
	if (umount2(".", MNT_DETACH) < 0)
		return sbx_fail(why, len, -errno, "detach the old root: %m");
	if (chdir("/") < 0)
		return sbx_fail(why, len, -errno, "chdir /: %m");
	return 0;
}

/* --no-pivot: for a root on a ramfs, where pivot_root is refused. */
static int enter_move(int rootfd, char *why, size_t len)
{
	if (fchdir(rootfd) < 0)
		return sbx_fail(why, len, -errno, "chdir to root.path: %m");
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return sbx_fail(why, len, -errno, "move root.path onto /: %m");
	if (chroot(".") < 0)
		return sbx_fail(why, len, -errno, "chroot into root.path: %m");
	if (chdir("/") < 0)
		return sbx_fail(why, len, -errno, "chdir /: %m");
	return 0;
}

/* ---- after the pivot ----------------------------------------------------- */

static int set_names(const struct oci_spec *s, char *why, size_t len)
{
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return sbx_fail(why, len, -errno, "hostname \"%s\": %m", s->hostname);
	if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return sbx_fail(why, len, -errno, "domainname \"%s\": %m", s->domainname);
	return 0;
}

static int write_sysctl(const struct oci_sysctl *sc, char *why, size_t len)
{
	char path[PATH_MAX];
	size_t n = strlen(sc->value);
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/%s", sc->key);
	for (char *p = path + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sbx_fail(why, len, -errno, "linux.sysctl.%s: open %s: %m", sc->key, path);
	if (sbx_write_all(fd, sc->value, n) != n) {
		int r = errno ? -errno : -EIO;

		close(fd);
		return sbx_fail(why, len, r, "linux.sysctl.%s: write \"%s\": %s", sc->key, sc->value,
				strerror(-r));
	}
	close(fd);
	return 0;
}

static int readonly_path(const char *path, size_t i, char *why, size_t len)
{
	int r;

	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT)
			return 0;
		return sbx_fail(why, len, -errno, "linux.readonlyPaths[%zu] \"%s\": %m", i, path);
	}
	r = remount_bind(path, MS_RDONLY, 0);
	if (r < 0)
		return sbx_fail(why, len, r, "linux.readonlyPaths[%zu] \"%s\": remount read-only: %s",
				i, path, strerror(-r));
	return 0;
}

/* A directory gets an empty read-only tmpfs, anything else /dev/null. */
static int mask_path(const char *path, size_t i, char *why, size_t len)
{
	struct stat st;
	int r = 0;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 :
		       sbx_fail(why, len, -errno, "linux.maskedPaths[%zu] \"%s\": %m", i, path);
	if (S_ISDIR(st.st_mode))
		r = mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "size=4k,mode=0000");
	else
		r = mount("/dev/null", path, NULL, MS_BIND, NULL);
	if (r < 0)
		return sbx_fail(why, len, -errno, "linux.maskedPaths[%zu] \"%s\": %m", i, path);
	return 0;
}

static int finish_inside(const struct oci_spec *s, char *why, size_t len)
{
	int r = set_names(s, why, len);

	for (size_t i = 0; !r && i < s->n_sysctl; i++)
		r = write_sysctl(&s->sysctl[i], why, len);
	for (size_t i = 0; !r && s->readonly_paths && s->readonly_paths[i]; i++)
		r = readonly_path(s->readonly_paths[i], i, why, len);
	for (size_t i = 0; !r && s->masked_paths && s->masked_paths[i]; i++)
		r = mask_path(s->masked_paths[i], i, why, len);
	/* the cwd is made here (runc), while the root may still be written */
	if (!r && s->has_process && s->process.cwd && sbx_mkdir_p(s->process.cwd, 0755) < 0)
		return sbx_fail(why, len, -errno, "process.cwd \"%s\": %m", s->process.cwd);
	if (!r && s->root_readonly && (r = remount_bind("/", MS_RDONLY, 0)) < 0)
		return sbx_fail(why, len, r, "root.readonly: remount / read-only: %s", strerror(-r));
	return r;
}

int oci_rootfs_setup(const struct oci_spec *s, bool no_pivot, char *why, size_t len)
{
	_cleanup_close_ int rootfd = -1;
	int r;

	if (why && len)
		why[0] = 0;
	r = check_spec(s, why, len);
	if (!r)
		r = prepare_root(s, why, len);
	if (r < 0)
		return r;
	rootfd = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return sbx_fail(why, len, -errno, "root.path %s: %m", s->root_path);
	for (size_t i = 0; !r && i < s->n_mounts; i++)
		r = mount_one(s, i, rootfd, why, len);
	if (!r)
		r = oci_rootfs_devices(s, rootfd, why, len);
	if (!r)
		r = no_pivot ? enter_move(rootfd, why, len) : enter_pivot(rootfd, why, len);
	if (!r)
		r = finish_inside(s, why, len);
	return r;
}
