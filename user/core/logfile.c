/* SPDX-License-Identifier: MIT */
/* The workload's output log with rotation, and its readers (core/logfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/logfile.h"
#include "util/util.h"

#define COPY_CHUNK 65536

/* "dir/name" into an O_PATH descriptor of dir and name. */
static int split_path(const char *path, int *ret_dirfd, char name[NAME_MAX + 1], char *why, size_t len)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char dir[PATH_MAX];
	int dfd;

	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return sbx_fail(why, len, -EINVAL, "%s: names no file", path);
	/* room for the rotated suffix ".999" */
	if (strlen(base) + 4 > NAME_MAX)
		return sbx_fail(why, len, -ENAMETOOLONG, "%s: the name is too long to rotate", path);
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return sbx_fail(why, len, -ENAMETOOLONG, "%s: path too long", path);
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sbx_fail(why, len, -errno, "%s: directory %s: %s", path, dir, strerror(errno));
	snprintf(name, NAME_MAX + 1, "%s", base);
	*ret_dirfd = dfd;
	return 0;
}

/* The same rule as --result and --audit (sbx_open_output): sbx runs as root
 * and never writes or reads through a link a user may have planted. */
static int check_regular(int fd, struct stat *st)
{
	if (fstat(fd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	if (st->st_nlink > 1)
		return -EMLINK;
	return 0;
}

static int open_checked(int dirfd, const char *name, int flags, mode_t mode, struct stat *st)
{
	struct stat lst;
	int fd, r;

	/* O_NONBLOCK: a FIFO planted in its place must not hang the open */
	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | O_NONBLOCK, mode);
	/* with O_CREAT, some kernels answer a link with EACCES, not ELOOP */
	if (fd < 0 && errno == EACCES && fstatat(dirfd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(lst.st_mode))
		errno = ELOOP;
	if (fd < 0 && errno == ENXIO)
		errno = EINVAL;	/* a FIFO without a reader */
	if (fd < 0)
		return -errno;
	r = check_regular(fd, st);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static const char *open_error(int err)
{
	if (err == -EINVAL)
		return "not a regular file";
	return sbx_open_output_error(err);
}

/* ---- writer -------------------------------------------------------------- */

/* A new FILE; an existing one is appended to (a restarted sandbox's log). */
static int open_current(struct sbx_logfile *lf)
{
	struct stat st;
	int fd;

	fd = open_checked(lf->dirfd, lf->name, O_WRONLY | O_APPEND | O_CREAT | O_EXCL, 0640, &st);
	if (fd >= 0 && fchmod(fd, 0640) < 0) {	/* whatever the umask */
		int e = -errno;

		close(fd);
		return e;
	}
	if (fd == -EEXIST)
		fd = open_checked(lf->dirfd, lf->name, O_WRONLY | O_APPEND, 0, &st);
	if (fd < 0)
		return fd;
	lf->fd = fd;
	lf->size = (uint64_t)st.st_size;
	return 0;
}

int sbx_logfile_open(struct sbx_logfile *lf, const char *path, uint64_t max_size, unsigned keep,
		     char *why, size_t len)
{
	int r;

	*lf = (struct sbx_logfile){ .fd = -1, .dirfd = -1, .max_size = max_size, .keep = keep };
	if (max_size < SBX_LOG_MAX_SIZE_MIN || max_size > SBX_LOG_MAX_SIZE_MAX)
		return sbx_fail(why, len, -EINVAL, "%s: a log's size bound must be from 4K to 1T", path);
	if (keep > SBX_LOG_KEEP_MAX)
		return sbx_fail(why, len, -EINVAL, "%s: at most %u rotated files are kept", path,
				SBX_LOG_KEEP_MAX);
	r = split_path(path, &lf->dirfd, lf->name, why, len);
	if (r < 0)
		return r;
	r = open_current(lf);
	if (r < 0) {
		close(lf->dirfd);
		lf->dirfd = -1;
		return sbx_fail(why, len, r, "%s: %s", path, open_error(r));
	}
	return 0;
}

static void rotated_name(char *buf, size_t len, const char *name, unsigned i)
{
	snprintf(buf, len, "%s.%u", name, i);
}

/* FILE.(keep-1) -> FILE.keep, ..., FILE -> FILE.1 (each rename replaces the
 * older file, so the oldest goes), then a new FILE. Renames never follow a
 * link that stands at a rotated name; they replace it. */
static int rotate(struct sbx_logfile *lf)
{
	char from[NAME_MAX + 8], to[NAME_MAX + 8];

	for (unsigned i = lf->keep; i > 1; i--) {
		rotated_name(from, sizeof(from), lf->name, i - 1);
		rotated_name(to, sizeof(to), lf->name, i);
		if (renameat(lf->dirfd, from, lf->dirfd, to) < 0 && errno != ENOENT)
			return -errno;
	}
	rotated_name(to, sizeof(to), lf->name, 1);
	if (lf->keep ? renameat(lf->dirfd, lf->name, lf->dirfd, to) : unlinkat(lf->dirfd, lf->name, 0))
		if (errno != ENOENT)
			return -errno;
	close(lf->fd);
	lf->fd = -1;
	lf->size = 0;
	return open_current(lf);
}

/* How much of buf goes into the current file before a rotation: all when it
 * fits; else up to its last newline that fits; else (a line that began
 * before) nothing, so that it begins the next file; else (a line longer than
 * an empty file) as much as fits. */
static size_t fitting(const char *buf, size_t len, uint64_t room, bool empty)
{
	if (len <= room)
		return len;
	for (size_t i = (size_t)room; i > 0; i--)
		if (buf[i - 1] == '\n')
			return i;
	return empty ? (size_t)room : 0;
}

int sbx_logfile_append(struct sbx_logfile *lf, const void *data, size_t len)
{
	const char *buf = data;

	while (len) {
		uint64_t room = lf->size < lf->max_size ? lf->max_size - lf->size : 0;
		size_t n, w;
		int r;

		/* a rotation that renamed but could not begin the new file: only
		 * the new file is missing (renaming again would drop a file) */
		if (lf->fd < 0 && (r = open_current(lf)) < 0) {
			lf->unwritten += len;
			return r;
		}
		n = fitting(buf, len, room, lf->size == 0);
		if (n == 0) {
			r = rotate(lf);
			if (r < 0) {
				lf->unwritten += len;
				return r;
			}
			continue;
		}
		errno = 0;
		w = sbx_write_all(lf->fd, buf, n);
		lf->size += w;
		lf->written += w;
		if (w < n) {
			r = errno ? -errno : -ENOSPC;
			lf->unwritten += len - w;
			return r;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

void sbx_logfile_close(struct sbx_logfile *lf)
{
	if (lf->fd >= 0)
		close(lf->fd);
	if (lf->dirfd >= 0)
		close(lf->dirfd);
	lf->fd = lf->dirfd = -1;
}

/* ---- readers ------------------------------------------------------------- */

struct part {
	int fd;
	uint64_t end;		/* its size when opened: later bytes are follow's */
	dev_t dev;
	ino_t ino;
};

static int open_read(int dirfd, const char *name, struct part *ret)
{
	struct stat st;
	int fd = open_checked(dirfd, name, O_RDONLY, 0, &st);

	if (fd < 0)
		return fd;
	*ret = (struct part){ .fd = fd, .end = (uint64_t)st.st_size, .dev = st.st_dev,
			      .ino = st.st_ino };
	return 0;
}

/* FILE, FILE.1, ..., FILE.keep as they are, newest first. Opened in that
 * order, a rotation meanwhile makes a file show up twice (kept once, by its
 * inode) but never skips one. Missing ones are left out. */
static int open_parts(int dirfd, const char *base, unsigned keep, struct part *v, size_t *ret_n,
		      bool *ret_has_current)
{
	char name[NAME_MAX + 8];
	size_t n = 0;
	int r = 0;

	*ret_has_current = false;

	for (unsigned i = 0; i <= keep && r >= 0; i++) {
		struct part p;
		bool dup = false;

		if (i)
			rotated_name(name, sizeof(name), base, i);
		r = open_read(dirfd, i ? name : base, &p);
		if (r == -ENOENT) {
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		for (size_t j = 0; j < n; j++)
			dup |= v[j].dev == p.dev && v[j].ino == p.ino;
		if (dup)
			close(p.fd);
		else
			v[n++] = p;
		*ret_has_current |= i == 0;
	}
	*ret_n = n;
	return r;
}

static void close_parts(struct part *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(v[i].fd);
}

int sbx_log_emit_fd(void *ctx, const void *buf, size_t len)
{
	int fd = *(const int *)ctx;

	errno = 0;
	if (sbx_write_all(fd, buf, len) == len)
		return 0;
	return errno ? -errno : -EIO;
}

/* Hands bytes [*off, end) of fd to emit; *off follows what it took. */
static int forward(int fd, uint64_t *off, uint64_t end, sbx_log_emit_fn emit, void *ctx)
{
	char buf[COPY_CHUNK];

	while (*off < end) {
		size_t want = end - *off < sizeof(buf) ? (size_t)(end - *off) : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)*off);
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;	/* shorter than it was: nothing more there */
		r = emit(ctx, buf, (size_t)n);
		if (r < 0)
			return r;
		*off += (uint64_t)n;
	}
	return 0;
}

/* Where the last lines begin: part index and offset. v is newest first. */
static int find_tail(const struct part *v, size_t n, long lines, size_t *ret_i, uint64_t *ret_off)
{
	char buf[COPY_CHUNK];
	bool last = true;	/* the next byte seen is the log's last one */
	long seen = 0;

	*ret_i = n ? n - 1 : 0;
	*ret_off = 0;
	if (lines < 0)
		return 0;
	if (lines == 0) {
		*ret_i = 0;
		*ret_off = n ? v[0].end : 0;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t pos = v[i].end;

		while (pos > 0) {
			size_t want = pos < sizeof(buf) ? (size_t)pos : sizeof(buf);
			ssize_t got = pread(v[i].fd, buf, want, (off_t)(pos - want));

			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				return -errno;
			if ((size_t)got < want)
				return -EIO;	/* truncated under us */
			for (size_t k = want; k > 0; k--) {
				/* a final newline ends the last line; it starts none */
				if (buf[k - 1] == '\n' && !last && ++seen == lines) {
					*ret_i = i;
					*ret_off = pos - want + k;
					return 0;
				}
				last = false;
			}
			pos -= want;
		}
	}
	return 0;
}

/* Hands the tail of v (newest first) to emit, each part up to its end. */
static int print_tail(struct part *v, size_t n, long lines, sbx_log_emit_fn emit, void *ctx)
{
	size_t start;
	uint64_t off;
	int r;

	if (!n)
		return 0;
	r = find_tail(v, n, lines, &start, &off);
	for (size_t i = start + 1; r >= 0 && i-- > 0;) {
		r = forward(v[i].fd, &off, v[i].end, emit, ctx);
		off = 0;
	}
	return r;
}

int sbx_logfile_tail(const char *path, unsigned keep, long tail_lines, int out_fd)
{
	return sbx_logfile_tail_emit(path, keep, tail_lines, sbx_log_emit_fd, &out_fd);
}

int sbx_logfile_tail_emit(const char *path, unsigned keep, long tail_lines, sbx_log_emit_fn emit,
			  void *ctx)
{
	_cleanup_close_ int dirfd = -1;
	char name[NAME_MAX + 1], why[8];
	bool has_current;
	struct part *v;
	size_t n = 0;
	int r;

	if (keep > SBX_LOG_KEEP_MAX)
		return -EINVAL;
	r = split_path(path, &dirfd, name, why, sizeof(why));
	if (r < 0)
		return r;
	v = calloc(keep + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	r = open_parts(dirfd, name, keep, v, &n, &has_current);
	if (r >= 0 && n == 0)
		r = -ENOENT;
	if (r >= 0)
		r = print_tail(v, n, tail_lines, emit, ctx);
	close_parts(v, n);
	free(v);
	return r;
}

/* ---- follow -------------------------------------------------------------- */

/* Whether FILE is no longer the file f reads (it was rotated). */
static bool rotated_away(const struct sbx_logfollow *f)
{
	struct stat st;

	if (fstatat(f->dirfd, f->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return f->fd >= 0 && errno == ENOENT;	/* keep = 0 unlinks it before the new one */
	return f->fd < 0 || st.st_dev != f->dev || st.st_ino != f->ino;
}

/* The rotated index of the file f reads now: FILE.k; keep + 1 when it is
 * gone (every kept file is newer then). */
static unsigned index_of_old(const struct sbx_logfollow *f)
{
	char name[NAME_MAX + 8];
	struct stat st;

	for (unsigned k = 1; k <= f->keep; k++) {
		rotated_name(name, sizeof(name), f->name, k);
		if (fstatat(f->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == f->dev &&
		    st.st_ino == f->ino)
			return k;
	}
	return f->keep + 1;
}

static int forward_whole(int dirfd, const char *name, sbx_log_emit_fn emit, void *ctx)
{
	struct part p;
	uint64_t off = 0;
	int r = open_read(dirfd, name, &p);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = forward(p.fd, &off, p.end, emit, ctx);
	close(p.fd);
	return r;
}

/* FILE was rotated: the rest of the old file (complete now: the writer
 * renames after its last write), the rotated files newer than it, and then
 * the new FILE from its start. */
static int catch_up(struct sbx_logfollow *f, sbx_log_emit_fn emit, void *ctx)
{
	char name[NAME_MAX + 8];
	struct part p;
	int r = 0;

	if (f->fd >= 0) {
		unsigned k;

		r = forward(f->fd, &f->off, UINT64_MAX, emit, ctx);
		if (r < 0)
			return r;
		k = index_of_old(f);
		for (unsigned i = k - 1; i >= 1 && r >= 0; i--) {
			rotated_name(name, sizeof(name), f->name, i);
			r = forward_whole(f->dirfd, name, emit, ctx);
		}
		if (r < 0)
			return r;
		close(f->fd);
		f->fd = -1;
	}
	r = open_read(f->dirfd, f->name, &p);
	if (r == -ENOENT)
		return 0;	/* between the rename and the new file: the next event */
	if (r < 0)
		return r;
	f->fd = p.fd;
	f->dev = p.dev;
	f->ino = p.ino;
	f->off = 0;
	return 0;
}

int sbx_logfollow_read(struct sbx_logfollow *f, int out_fd)
{
	return sbx_logfollow_pump(f, sbx_log_emit_fd, &out_fd);
}

int sbx_logfollow_pump(struct sbx_logfollow *f, sbx_log_emit_fn emit, void *ctx)
{
	char ev[4096];
	int r;

	while (read(f->inotify_fd, ev, sizeof(ev)) > 0)
		;	/* any change is a reason to look; what changed does not matter */
	for (int tries = 0; tries <= (int)f->keep + 1; tries++) {
		if (f->fd >= 0) {
			r = forward(f->fd, &f->off, UINT64_MAX, emit, ctx);
			if (r < 0)
				return r;
		}
		if (!rotated_away(f))
			return 0;
		r = catch_up(f, emit, ctx);
		if (r < 0 || f->fd < 0)
			return r;
	}
	return 0;	/* rotating faster than we read: the next event goes on */
}

/* Watches the log's directory: rotation renames and creates files there. */
static int watch_dir(struct sbx_logfollow *f)
{
	char proc[64];

	f->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (f->inotify_fd < 0)
		return -errno;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->dirfd);
	if (inotify_add_watch(f->inotify_fd, proc, IN_MODIFY | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO |
			      IN_DELETE | IN_CLOSE_WRITE) < 0)
		return -errno;
	return 0;
}

/* The tail, and FILE (v[0] when it is there) kept open where it stopped. */
static int start_follow(struct sbx_logfollow *f, long tail_lines, sbx_log_emit_fn emit, void *ctx)
{
	struct part *v = calloc(f->keep + 1, sizeof(*v));
	bool has_current;
	size_t n = 0;
	int r;

	if (!v)
		return -ENOMEM;
	r = open_parts(f->dirfd, f->name, f->keep, v, &n, &has_current);
	if (r >= 0)
		r = print_tail(v, n, tail_lines, emit, ctx);
	if (r >= 0 && has_current) {
		f->fd = v[0].fd;
		f->dev = v[0].dev;
		f->ino = v[0].ino;
		f->off = v[0].end;
		v[0].fd = -1;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].fd >= 0)
			close(v[i].fd);
	free(v);
	return r;
}

int sbx_logfollow_open(struct sbx_logfollow *f, const char *path, unsigned keep, long tail_lines,
		       int out_fd, char *why, size_t len)
{
	return sbx_logfollow_start(f, path, keep, tail_lines, sbx_log_emit_fd, &out_fd, why, len);
}

int sbx_logfollow_start(struct sbx_logfollow *f, const char *path, unsigned keep, long tail_lines,
			sbx_log_emit_fn emit, void *ctx, char *why, size_t len)
{
	int r;

	*f = (struct sbx_logfollow){ .inotify_fd = -1, .dirfd = -1, .fd = -1, .keep = keep };
	if (keep > SBX_LOG_KEEP_MAX)
		return sbx_fail(why, len, -EINVAL, "at most %u rotated files are kept", SBX_LOG_KEEP_MAX);
	r = split_path(path, &f->dirfd, f->name, why, len);
	if (r < 0)
		return r;
	r = watch_dir(f);
	if (r < 0) {
		sbx_logfollow_close(f);
		return sbx_fail(why, len, r, "%s: inotify: %s", path, strerror(-r));
	}
	r = start_follow(f, tail_lines, emit, ctx);
	if (r < 0) {
		sbx_logfollow_close(f);
		return sbx_fail(why, len, r, "%s: %s", path, open_error(r));
	}
	return 0;
}

void sbx_logfollow_close(struct sbx_logfollow *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->dirfd >= 0)
		close(f->dirfd);
	if (f->inotify_fd >= 0)
		close(f->inotify_fd);
	f->fd = f->dirfd = f->inotify_fd = -1;
}
