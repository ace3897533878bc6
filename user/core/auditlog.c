/* SPDX-License-Identifier: MIT */
/* The shared audit log with rotation by size (core/auditlog.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
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

/* FILE -> FILE.0 and a new FILE first, then FILE.(keep-1) -> FILE.keep,
 * ..., FILE.1 -> FILE.2 (each rename replacing the older file, so the
 * oldest goes) and FILE.0 -> FILE.1. Called under the lock: no writer
 * appends to FILE after its rename. Taking FILE out of the way first means
 * that a logrotate renaming it meanwhile stops the rotation before the
 * chain moves (instead of leaving FILE.1 missing), and FILE is missing only
 * for a moment. A FILE.0 left by a rotation that failed half way is never
 * replaced: rotation stops until it is gone (the log grows meanwhile). */
static int rotate(struct sbx_auditlog *l)
{
	char from[NAME_MAX + 8], to[NAME_MAX + 8], zero[NAME_MAX + 8];
	struct stat st;
	int r;

	/* renamed by logrotate since the check: nothing to rotate */
	if (fstatat(l->dirfd, l->name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    st.st_dev != l->dev || st.st_ino != l->ino)
		return open_current(l, &st);
	if (!l->keep) {
		if (unlinkat(l->dirfd, l->name, 0) < 0 && errno != ENOENT)
			return -errno;
		l->rotations++;
		return open_current(l, &st);
	}
	rotated_name(zero, sizeof(zero), l->name, 0);
	if (renameat2(l->dirfd, l->name, l->dirfd, zero, RENAME_NOREPLACE) < 0)
		return errno == ENOENT ? open_current(l, &st) : -errno;
	r = open_current(l, &st);
	for (unsigned i = l->keep; i > 1; i--) {
		rotated_name(from, sizeof(from), l->name, i - 1);
		rotated_name(to, sizeof(to), l->name, i);
		if (renameat(l->dirfd, from, l->dirfd, to) < 0 && errno != ENOENT)
			return -errno;
	}
	rotated_name(to, sizeof(to), l->name, 1);
	if (renameat(l->dirfd, zero, l->dirfd, to) < 0)
		return -errno;
	l->rotations++;
	return r;
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

/* The lock within SBX_AUDIT_LOCK_WAIT_MS, or at once after a wait that
 * timed out (until it is had again): -EWOULDBLOCK when it is not had. */
static int lock_bounded(struct sbx_auditlog *l)
{
	unsigned waited_us = 0, step_us = 100;
	int r;

	for (;;) {
		r = lock(l->lockfd, LOCK_EX | LOCK_NB);
		if (r == 0) {
			l->lock_stuck = 0;
			return 0;
		}
		if (r != -EWOULDBLOCK)
			return r;
		if (l->lock_stuck || waited_us >= SBX_AUDIT_LOCK_WAIT_MS * 1000u) {
			l->lock_stuck = 1;
			return -EWOULDBLOCK;
		}
		usleep(step_us);
		waited_us += step_us;
		if (step_us < 10000)
			step_us *= 2;
	}
}

/* Without the lock: a lost batch is worse than a file over its size bound
 * or a rotated file that gets one more batch, so no rotation, and one
 * O_APPEND write (whole, among other writers' whole batches). Nothing is cut
 * back: the size seen before may no longer be the end of the file. */
static int write_unlocked(struct sbx_auditlog *l, const void *buf, size_t len)
{
	struct stat st;
	size_t w;
	int r = check_current(l, &st);

	if (r < 0)
		return r;
	errno = 0;
	w = sbx_write_all(l->fd, buf, len);
	if (w < len) {
		r = errno ? -errno : -ENOSPC;
		if (w && ((const char *)buf)[w - 1] != '\n' && sbx_write_all(l->fd, "\n", 1) != 1) {
			/* the disk is full: the next batch begins after a cut line */
		}
		return r;
	}
	l->unlocked++;
	return 0;
}

int sbx_auditlog_write(struct sbx_auditlog *l, const void *buf, size_t len)
{
	int r;

	if (!len)
		return 0;
	r = lock_bounded(l);
	if (r == -EWOULDBLOCK)
		return write_unlocked(l, buf, len);
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

/* ---- following ----------------------------------------------------------- */

typedef int (*emit_fn)(void *ctx, const void *buf, size_t len);

/* The whole lines of fd from *off on, to emit; *off follows what it took.
 * A read may see part of a batch being written (the file grows page by
 * page): the line it ends in waits for the next pump. */
static int forward(int fd, uint64_t *off, emit_fn emit, void *ctx)
{
	char buf[65536];

	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), (off_t)*off);
		size_t k;
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (k = (size_t)n; k > 0 && buf[k - 1] != '\n'; k--)
			;
		if (k == 0 && (size_t)n == sizeof(buf))
			k = sizeof(buf);	/* a line longer than buf: in pieces */
		if (k == 0)
			return 0;
		r = emit(ctx, buf, k);
		if (r < 0)
			return r;
		*off += k;
	}
}

/* A rotated file is complete: all of it, a last line without newline too. */
static int forward_all(int fd, uint64_t *off, emit_fn emit, void *ctx)
{
	int r = forward(fd, off, emit, ctx);
	char buf[65536];
	ssize_t n;

	if (r < 0)
		return r;
	n = pread(fd, buf, sizeof(buf), (off_t)*off);
	if (n <= 0)
		return n < 0 ? -errno : 0;
	r = emit(ctx, buf, (size_t)n);
	if (r == 0)
		*off += (uint64_t)n;
	return r;
}

static bool seen(const struct sbx_auditfollow *f, const struct stat *st)
{
	for (size_t i = 0; i < f->n_seen; i++)
		if (f->seen[i].dev == st->st_dev && f->seen[i].ino == st->st_ino)
			return true;
	return false;
}

static int mark_seen(struct sbx_auditfollow *f, const struct stat *st)
{
	struct sbx_auditfollow_file *n;

	if (seen(f, st))
		return 0;
	n = realloc(f->seen, (f->n_seen + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	f->seen = n;
	f->seen[f->n_seen++] = (struct sbx_auditfollow_file){ .dev = st->st_dev, .ino = st->st_ino };
	return 0;
}

/* Names missing in a row that end the rotated files: a rotation renames
 * from the top down, so one name at a time is missing while it runs; and a
 * logrotate rename between a writer's check and its rotation leaves one
 * missing for good (it moves up with every rotation), so a few may be
 * missing in a row after many such races. */
#define MISSING_IN_A_ROW 32

/* The highest N of the rotated files FILE.N there now. */
static unsigned count_rotated(const struct sbx_auditfollow *f)
{
	char name[NAME_MAX + 8];
	struct stat st;
	unsigned n = 0, missing = 0;

	for (unsigned i = 1; i <= SBX_AUDIT_KEEP_MAX && missing < MISSING_IN_A_ROW; i++) {
		rotated_name(name, sizeof(name), f->name, i);
		if (fstatat(f->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			missing++;
			continue;
		}
		missing = 0;
		n = i;
	}
	return n;
}

/* The files of the log beside FILE: FILE.N (this module's rotation) and
 * FILE-SUFFIX without a dot in SUFFIX (logrotate's dateext names, before
 * compression adds ".gz"). */
static bool log_name(const char *base, const char *name)
{
	size_t n = strlen(base);

	if (strncmp(name, base, n))
		return false;
	name += n;
	if (name[0] == '.')
		return name[1] && strspn(name + 1, "0123456789") == strlen(name + 1);
	return name[0] == '-' && name[1] && !strchr(name, '.');
}

typedef int (*each_fn)(struct sbx_auditfollow *f, int dfd, const char *name, const struct stat *st,
		       void *ctx);

/* fn for every file of the log but FILE (readdir order). */
static int each_file(struct sbx_auditfollow *f, each_fn fn, void *ctx)
{
	int dfd = openat(f->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r = 0;

	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -ENOMEM;
	}
	while (r >= 0 && (de = readdir(d)))
		if (log_name(f->name, de->d_name) &&
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			r = fn(f, dfd, de->d_name, &st, ctx);
	closedir(d);
	return r;
}

static int mark_one(struct sbx_auditfollow *f, int dfd, const char *name, const struct stat *st,
		    void *ctx)
{
	return mark_seen(f, st);
}

struct read_ctx {
	emit_fn emit;
	void *ctx;
};

/* A file of the log not read yet: one that logrotate renamed before this
 * follower had opened it, or one a pass skipped. */
static int read_unseen(struct sbx_auditfollow *f, int dfd, const char *name, const struct stat *st,
		       void *ctx)
{
	struct read_ctx *rc = ctx;
	struct stat fst;
	uint64_t off = 0;
	int fd, r = 0;

	for (size_t i = 0; i < f->n_seen; i++)
		if (f->seen[i].dev == st->st_dev && f->seen[i].ino == st->st_ino) {
			f->seen[i].misses = 0;
			return 0;
		}
	fd = open_regular(dfd, name, O_RDONLY, &fst);
	if (fd < 0)
		return 0;	/* gone meanwhile */
	if (!seen(f, &fst)) {
		r = forward_all(fd, &off, rc->emit, rc->ctx);
		if (r == 0)
			r = mark_seen(f, &fst);
	}
	close(fd);
	return r;
}

static void found(struct sbx_auditfollow *f, const struct stat *st)
{
	for (size_t i = 0; i < f->n_seen; i++)
		if (f->seen[i].dev == st->st_dev && f->seen[i].ino == st->st_ino)
			f->seen[i].misses = 0;
}

/* The seen set shrinks to the files that are still there, so that it stays
 * as small as the log and an inode number reused by a later file is not
 * taken for an old one. A file renamed while the directory is read may be
 * missed by one reading: only two misses in a row drop it; the files held
 * open are never dropped. */
static void prune_seen(struct sbx_auditfollow *f)
{
	char name[NAME_MAX + 8];
	unsigned missing = 0;
	struct stat st;
	size_t k = 0;

	/* readdir may miss a file that a rotation renames meanwhile; the
	 * numbered ones are looked up by name too, upwards, which finds a
	 * file moved up by a rotation at its next name */
	if (f->fd >= 0 && fstat(f->fd, &st) == 0)
		found(f, &st);
	if (f->prev_fd >= 0 && fstat(f->prev_fd, &st) == 0)
		found(f, &st);
	for (unsigned j = 1; j <= SBX_AUDIT_KEEP_MAX && missing < MISSING_IN_A_ROW; j++) {
		rotated_name(name, sizeof(name), f->name, j);
		if (fstatat(f->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			missing++;
			continue;
		}
		missing = 0;
		found(f, &st);
	}
	for (size_t i = 0; i < f->n_seen; i++)
		if (f->seen[i].misses < 2)
			f->seen[k++] = f->seen[i];
	f->n_seen = k;
}

/* FILE as it is now, kept open from its start (it is new to us). */
static int open_new_current(struct sbx_auditfollow *f)
{
	struct stat st;
	int fd = open_regular(f->dirfd, f->name, O_RDONLY, &st), r;

	if (fd == -ENOENT)
		return 0;	/* between a rename and the new file: the next pump */
	if (fd < 0)
		return fd;
	r = mark_seen(f, &st);
	if (r < 0) {
		close(fd);
		return r;
	}
	if (f->prev_fd >= 0)
		close(f->prev_fd);
	f->prev_fd = f->fd;
	f->prev_off = f->off;
	f->fd = fd;
	f->off = 0;
	return 0;
}

/* FILE is another file than f->fd: the rotated files not read yet, oldest
 * (highest number) first. The new FILE is opened and marked first, so that
 * a rotation during the scan cannot make it be read twice. */
static int catch_up(struct sbx_auditfollow *f, emit_fn emit, void *ctx)
{
	char name[NAME_MAX + 8];
	unsigned n;
	int r;

	if (f->fd >= 0) {
		r = forward(f->fd, &f->off, emit, ctx);
		if (r < 0)
			return r;
	}
	r = open_new_current(f);
	if (r < 0)
		return r;
	/* a rotation during a pass shifts the files under it, which may skip
	 * one: passes go on until one finds nothing new */
	for (bool found = true; found;) {
		found = false;
		n = count_rotated(f);
		for (unsigned i = n; i >= 1; i--) {
			struct stat st;
			uint64_t off = 0;
			int fd;

			rotated_name(name, sizeof(name), f->name, i);
			fd = open_regular(f->dirfd, name, O_RDONLY, &st);
			if (fd < 0)
				continue;
			if (!seen(f, &st)) {
				found = true;
				r = forward_all(fd, &off, emit, ctx);
				if (r == 0)
					r = mark_seen(f, &st);
			}
			close(fd);
			if (r < 0)
				return r;
		}
	}
	/* then what only a look at the whole directory finds */
	{
		struct read_ctx rc = { .emit = emit, .ctx = ctx };

		for (size_t i = 0; i < f->n_seen; i++)
			f->seen[i].misses++;
		r = each_file(f, read_unseen, &rc);
		if (r < 0)
			return r;
	}
	prune_seen(f);
	return 0;
}

int sbx_auditfollow_pump(struct sbx_auditfollow *f, emit_fn emit, void *ctx)
{
	struct stat st;
	int r;

	/* a writer that checked the name just before logrotate renamed it */
	if (f->prev_fd >= 0) {
		r = forward(f->prev_fd, &f->prev_off, emit, ctx);
		if (r < 0)
			return r;
	}
	/* rotating faster than this reads: the next pump goes on */
	for (int tries = 0; tries < 4; tries++) {
		if (f->fd >= 0) {
			r = forward(f->fd, &f->off, emit, ctx);
			if (r < 0)
				return r;
		}
		if (fstatat(f->dirfd, f->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				return -errno;
			if (f->fd < 0)
				return 0;	/* no log yet */
		} else if (f->fd >= 0 && seen(f, &st)) {
			return 0;	/* still the same file */
		}
		r = catch_up(f, emit, ctx);
		if (r < 0 || f->fd < 0)
			return r;
	}
	return 0;
}

int sbx_auditfollow_start(struct sbx_auditfollow *f, const char *path, char *why, size_t len)
{
	struct sbx_auditlog l = { .dirfd = -1 };
	struct stat st;
	int fd, r = 0;

	*f = (struct sbx_auditfollow){ .dirfd = -1, .fd = -1, .prev_fd = -1 };
	r = split_path(&l, path, why, len);
	if (r < 0)
		return r;
	f->dirfd = l.dirfd;
	snprintf(f->name, sizeof(f->name), "%s", l.name);
	/* FILE first: it is read from its end; the rotated files are older */
	fd = open_regular(f->dirfd, f->name, O_RDONLY, &st);
	if (fd >= 0) {
		f->fd = fd;
		f->off = (uint64_t)st.st_size;
		r = mark_seen(f, &st);
	} else if (fd != -ENOENT) {
		r = fd;
	}
	if (r >= 0)
		r = each_file(f, mark_one, NULL);
	if (r < 0) {
		sbx_auditfollow_close(f);
		return sbx_fail(why, len, r, "%s: %s", path, open_error(r));
	}
	return 0;
}

void sbx_auditfollow_close(struct sbx_auditfollow *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->prev_fd >= 0)
		close(f->prev_fd);
	if (f->dirfd >= 0)
		close(f->dirfd);
	free(f->seen);
	*f = (struct sbx_auditfollow){ .dirfd = -1, .fd = -1, .prev_fd = -1 };
}
