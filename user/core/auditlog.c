/* SPDX-License-Identifier: MIT */
/* The shared audit log with rotation by size (core/auditlog.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/auditlog.h"
#include "policy.h"
#include "util/util.h"

/* A regular file at name, opened without following a link; a FIFO planted
 * there must not hang the open (O_NONBLOCK, which regular files ignore). */
static int open_regular(int dirfd, const char *name, int flags, struct stat *st)
{
	struct stat lst;
	int fd;

	errno = 0;
	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | O_NONBLOCK, 0600);
	/* with O_CREAT, some kernels answer a link with EACCES, not ELOOP */
	if (fd < 0 && errno == EACCES && fstatat(dirfd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(lst.st_mode))
		errno = ELOOP;
	if (fd < 0)
		return errno == ENXIO ? -EINVAL : -errno;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		int e = errno ? -errno : -EINVAL;

		close(fd);
		return e;
	}
	return fd;
}

/* FILE as it is now (another writer or logrotate may have renamed the one
 * fd has, or the new one may not exist yet: it is created then). */
static int open_current(struct sbx_auditlog *l, struct stat *st)
{
	int fd = open_regular(l->dirfd, l->name, O_WRONLY | O_APPEND | O_CREAT, st);

	if (fd < 0)
		return fd;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = fd;
	l->dev = st->st_dev;
	l->ino = st->st_ino;
	return 0;
}

static void rotated_name(char *buf, size_t len, const char *name, unsigned i)
{
	snprintf(buf, len, "%s.%u", name, i);
}

/* FILE.(keep-1) -> FILE.keep, ..., FILE -> FILE.1, each rename replacing the
 * older file (so the oldest goes), then a new FILE. Called under the lock:
 * no writer appends to FILE after its rename. */
static int rotate(struct sbx_auditlog *l)
{
	char from[NAME_MAX + 8], to[NAME_MAX + 8];
	struct stat st;

	for (unsigned i = l->keep; i > 1; i--) {
		rotated_name(from, sizeof(from), l->name, i - 1);
		rotated_name(to, sizeof(to), l->name, i);
		if (renameat(l->dirfd, from, l->dirfd, to) < 0 && errno != ENOENT)
			return -errno;
	}
	rotated_name(to, sizeof(to), l->name, 1);
	if (l->keep ? renameat(l->dirfd, l->name, l->dirfd, to) : unlinkat(l->dirfd, l->name, 0))
		if (errno != ENOENT)
			return -errno;
	l->rotations++;
	return open_current(l, &st);
}

/* Makes l->fd the file FILE names, and says how big it is. */
static int check_current(struct sbx_auditlog *l, struct stat *st)
{
	if (fstatat(l->dirfd, l->name, st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			return -errno;
	} else if (!S_ISREG(st->st_mode)) {
		return S_ISLNK(st->st_mode) ? -ELOOP : -EINVAL;
	} else if (l->fd >= 0 && st->st_dev == l->dev && st->st_ino == l->ino) {
		return 0;
	}
	if (l->fd >= 0)
		l->reopens++;
	return open_current(l, st);
}

static int lock(int fd, int op)
{
	while (flock(fd, op) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* Under the lock: rotate a full file, write, rotate when now full. */
static int write_locked(struct sbx_auditlog *l, const void *buf, size_t len)
{
	struct stat st;
	uint64_t size;
	size_t w;
	int r = check_current(l, &st);

	if (r < 0)
		return r;
	size = (uint64_t)st.st_size;
	if (l->max_size && size >= l->max_size) {
		r = rotate(l);
		if (r < 0)
			return r;
		size = 0;
	}
	errno = 0;
	w = sbx_write_all(l->fd, buf, len);
	if (w < len) {
		r = errno ? -errno : -ENOSPC;
		/* no half line stays behind to swallow the next writer's */
		if (w && ftruncate(l->fd, (off_t)size) < 0) {
			/* cannot happen on a file we could write; nothing better to do */
		}
		return r;
	}
	/* a failed rotation here is retried before the next write */
	if (l->max_size && size + len >= l->max_size)
		rotate(l);
	return 0;
}

int sbx_auditlog_write(struct sbx_auditlog *l, const void *buf, size_t len)
{
	int r;

	if (!len)
		return 0;
	r = lock(l->lockfd, LOCK_EX);
	if (r < 0)
		return r;
	r = write_locked(l, buf, len);
	lock(l->lockfd, LOCK_UN);
	return r;
}

void sbx_auditlog_reopen(struct sbx_auditlog *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

void sbx_auditlog_close(struct sbx_auditlog *l)
{
	if (l->fd >= 0)
		close(l->fd);
	if (l->lockfd >= 0)
		close(l->lockfd);
	if (l->dirfd >= 0)
		close(l->dirfd);
	l->fd = l->lockfd = l->dirfd = -1;
}

/* "dir/name" into an O_PATH descriptor of dir and name. */
static int split_path(struct sbx_auditlog *l, const char *path, char *why, size_t len)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char dir[PATH_MAX];

	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return sbx_fail(why, len, -EINVAL, "%s: names no file", path);
	if (strlen(base) + 5 > NAME_MAX)	/* ".lock", ".999" */
		return sbx_fail(why, len, -ENAMETOOLONG, "%s: the name is too long to rotate", path);
	if ((size_t)(slash ? slash - path : 0) >= sizeof(dir))
		return sbx_fail(why, len, -ENAMETOOLONG, "%s: path too long", path);
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	l->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd < 0)
		return sbx_fail(why, len, -errno, "%s: directory %s: %s", path, dir, strerror(errno));
	snprintf(l->name, sizeof(l->name), "%s", base);
	return 0;
}

static const char *open_error(int err)
{
	return err == -EINVAL ? "not a regular file" : sbx_open_output_error(err);
}

int sbx_auditlog_open(struct sbx_auditlog *l, const char *path, uint64_t max_size, unsigned keep,
		      char *why, size_t len)
{
	char lockname[NAME_MAX + 8];
	struct stat st;
	int r;

	*l = (struct sbx_auditlog){ .dirfd = -1, .lockfd = -1, .fd = -1, .max_size = max_size,
				    .keep = keep };
	if (max_size && (max_size < SBX_AUDIT_MAX_SIZE_MIN || max_size > SBX_AUDIT_MAX_SIZE_MAX))
		return sbx_fail(why, len, -EINVAL, "%s: the size bound must be 0 or from 4K to 1T", path);
	if (keep > SBX_AUDIT_KEEP_MAX)
		return sbx_fail(why, len, -EINVAL, "%s: at most %u rotated files are kept", path,
				SBX_AUDIT_KEEP_MAX);
	r = split_path(l, path, why, len);
	if (r < 0)
		return r;
	snprintf(lockname, sizeof(lockname), "%s.lock", l->name);
	r = open_regular(l->dirfd, lockname, O_RDONLY | O_CREAT, &st);
	if (r < 0) {
		sbx_auditlog_close(l);
		return sbx_fail(why, len, r, "%s.lock: %s", path, open_error(r));
	}
	l->lockfd = r;
	r = open_current(l, &st);
	if (r < 0) {
		sbx_auditlog_close(l);
		return sbx_fail(why, len, r, "%s: %s", path, open_error(r));
	}
	return 0;
}

int sbx_auditlog_parse_size(const char *s, uint64_t *ret)
{
	uint64_t v;

	if (!strcmp(s, "0")) {
		*ret = 0;
		return 0;
	}
	if (sbx_parse_size(s, &v) < 0 || v < SBX_AUDIT_MAX_SIZE_MIN || v > SBX_AUDIT_MAX_SIZE_MAX)
		return -EINVAL;
	*ret = v;
	return 0;
}

int sbx_auditlog_parse_keep(const char *s, unsigned *ret)
{
	unsigned long k;
	char *end;

	errno = 0;
	k = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || s[0] == '+' || k > SBX_AUDIT_KEEP_MAX)
		return -EINVAL;
	*ret = (unsigned)k;
	return 0;
}

int sbx_auditlog_env(uint64_t *ret_max_size, unsigned *ret_keep, char *why, size_t len)
{
	const char *size = getenv("SBX_AUDIT_MAX_SIZE"), *keep = getenv("SBX_AUDIT_KEEP");
	uint64_t m = SBX_AUDIT_MAX_SIZE_DEFAULT;
	unsigned k = SBX_AUDIT_KEEP_DEFAULT;

	if (size && *size && sbx_auditlog_parse_size(size, &m) < 0)
		return sbx_fail(why, len, -EINVAL,
				"SBX_AUDIT_MAX_SIZE='%s': expected 0 (no rotation) or a size from 4K to 1T",
				size);
	if (keep && *keep && sbx_auditlog_parse_keep(keep, &k) < 0)
		return sbx_fail(why, len, -EINVAL,
				"SBX_AUDIT_KEEP='%s': expected a number of rotated files from 0 to %u", keep,
				SBX_AUDIT_KEEP_MAX);
	*ret_max_size = m;
	*ret_keep = k;
	return 0;
}
