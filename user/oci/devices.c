/* SPDX-License-Identifier: MIT */
/*
 * The container's device nodes (inside.h, oci_rootfs_devices): made in the
 * rootfs before the pivot, each in its directory as oci_inroot_open resolves
 * it inside the root.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "oci/inside.h"
#include "oci/oci.h"
#include "util/util.h"

static const struct oci_device defaults[] = {
	{ .path = "/dev/null", .type = 'c', .major = 1, .minor = 3 },
	{ .path = "/dev/zero", .type = 'c', .major = 1, .minor = 5 },
	{ .path = "/dev/full", .type = 'c', .major = 1, .minor = 7 },
	{ .path = "/dev/random", .type = 'c', .major = 1, .minor = 8 },
	{ .path = "/dev/urandom", .type = 'c', .major = 1, .minor = 9 },
	{ .path = "/dev/tty", .type = 'c', .major = 5, .minor = 0 },
};

/* A bind mount on /dev is the caller's /dev, left as it is (runc). */
static bool dev_is_bound(const struct oci_spec *s)
{
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct oci_mount *m = &s->mounts[i];
		const char *d = m->destination;
		size_t n = d ? strlen(d) : 0;

		while (n > 1 && d[n - 1] == '/')
			n--;
		if (oci_mount_is_bind(m) && n == 4 && !strncmp(d, "/dev", 4))
			return true;
	}
	return false;
}

/* Where mknod is not permitted: the host's node, bound on an empty file. */
static int bind_host_node(int dirfd, const char *name, const char *host)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	char proc[32];

	if (fd < 0)
		return -errno;
	close(fd);
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return mount(host, proc, NULL, MS_BIND, NULL) < 0 ? -errno : 0;
}

static int make_node(int dirfd, const char *name, const struct oci_device *d)
{
	mode_t perm = d->has_mode ? d->mode & 07777 : 0666;
	mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	dev_t dev = d->type == 'p' ? 0 : makedev((unsigned)d->major, (unsigned)d->minor);

	/* the mode exactly, without a chmod that would follow a symlink put
	 * in the node's place */
	mode_t mask = umask(0);
	int r = mknodat(dirfd, name, type | perm, dev) < 0 ? -errno : 0;

	umask(mask);
	if (r == -EEXIST)
		return 0;	/* the image's own: left alone (runc) */
	if (r == -EPERM && d->type != 'p')
		return bind_host_node(dirfd, name, d->path);
	if (r < 0)
		return r;
	if (fchownat(dirfd, name, d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0,
		     AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

static int make_device(int rootfd, const struct oci_device *d, const char *field, char *why,
		       size_t len)
{
	char dir[PATH_MAX], *name;
	_cleanup_close_ int dirfd = -1;
	int r;

	if (!d->path || d->path[0] != '/' ||
	    (size_t)snprintf(dir, sizeof(dir), "%s", d->path) >= sizeof(dir))
		return sbx_fail(why, len, -EINVAL, "%s.path: not an absolute path", field);
	name = strrchr(dir, '/');
	*name++ = 0;
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return sbx_fail(why, len, -EINVAL, "%s.path \"%s\": names no file", field, d->path);
	dirfd = oci_inroot_open(rootfd, dir[0] ? dir : "/", OCI_INROOT_MKDIR, NULL, 0);
	if (dirfd < 0)
		return sbx_fail(why, len, dirfd, "%s.path \"%s\": %s", field, d->path,
				oci_inroot_error(dirfd));
	r = make_node(dirfd, name, d);
	if (r < 0)
		return sbx_fail(why, len, r, "%s \"%s\": %s", field, d->path, strerror(-r));
	return 0;
}

static bool in_spec(const struct oci_spec *s, const char *path)
{
	for (size_t i = 0; i < s->n_devices; i++)
		if (s->devices[i].path && !strcmp(s->devices[i].path, path))
			return true;
	return false;
}

static int dev_links(int rootfd, char *why, size_t len)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
	};
	_cleanup_close_ int dev = oci_inroot_open(rootfd, "/dev", OCI_INROOT_MKDIR, NULL, 0);

	if (dev < 0)
		return sbx_fail(why, len, dev, "/dev: %s", oci_inroot_error(dev));
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
			return sbx_fail(why, len, -errno, "symlink /dev/%s: %m", links[i][1]);
	/* the ptmx of the container's devpts instance, not the host's */
	if (unlinkat(dev, "ptmx", 0) < 0 && errno != ENOENT)
		return sbx_fail(why, len, -errno, "remove /dev/ptmx: %m");
	if (symlinkat("pts/ptmx", dev, "ptmx") < 0)
		return sbx_fail(why, len, -errno, "symlink /dev/ptmx: %m");
	return 0;
}

int oci_rootfs_devices(const struct oci_spec *s, int rootfd, char *why, size_t len)
{
	char field[48];
	int r = 0;

	if (dev_is_bound(s))
		return 0;
	for (size_t i = 0; !r && i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (!in_spec(s, defaults[i].path))
			r = make_device(rootfd, &defaults[i], "the default device", why, len);
	for (size_t i = 0; !r && i < s->n_devices; i++) {
		snprintf(field, sizeof(field), "linux.devices[%zu]", i);
		r = make_device(rootfd, &s->devices[i], field, why, len);
	}
	return r ? r : dev_links(rootfd, why, len);
}
