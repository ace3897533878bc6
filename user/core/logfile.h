/* SPDX-License-Identifier: MIT */
/*
 * The workload's output log (sbx run --log FILE): raw bytes of its stdout and
 * stderr, appended to FILE, which is rotated before it would pass max_size:
 * FILE -> FILE.1 -> ... -> FILE.keep, the oldest dropped. Every file holds
 * at most max_size bytes, so the log takes at most (keep + 1) * max_size.
 *
 * Rotation falls between two lines when the line fits in a file: the write
 * that would pass the bound is cut after its last newline that fits, and
 * the rest begins the next file; a single line longer than the room of an
 * empty file is cut at the bound. No byte is lost or written twice: the
 * concatenation FILE.keep ... FILE.1 FILE is the output's suffix.
 *
 * Files are made 0640 (root's, as sbx runs), opened O_NOFOLLOW|O_CLOEXEC;
 * a symbolic link, a file with other hard links or anything but a regular
 * file is refused, by the writer and the readers alike (the readers run as
 * root for a caller that may not read what a planted link names).
 *
 * Readers: sbx_logfile_tail() prints the last lines across the rotated
 * files; struct sbx_logfollow forwards what is added, for an epoll loop
 * (sbxd's Logs with follow), and survives rotations under it.
 */
#ifndef SBX_LOGFILE_H
#define SBX_LOGFILE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* 1 MiB and 3 rotated files: at most 4 MiB a sandbox, so that a host with
 * hundreds of sandboxes under sbxd bounds its state directory in a few GB,
 * while one file still holds thousands of lines for `sbx logs --tail`. */
#define SBX_LOG_MAX_SIZE_DEFAULT	(1ull << 20)
#define SBX_LOG_KEEP_DEFAULT		3u
/* Below a page, rotation would churn the directory; the rotated names
 * FILE.1 .. FILE.999 need at most 4 more characters. */
#define SBX_LOG_MAX_SIZE_MIN		4096ull
#define SBX_LOG_MAX_SIZE_MAX		(1ull << 40)
#define SBX_LOG_KEEP_MAX		999u

struct sbx_logfile {
	int fd;			/* FILE, O_APPEND; -1 when closed */
	int dirfd;		/* its directory: rotation renames inside it */
	char name[NAME_MAX + 1];
	uint64_t size;		/* bytes in FILE */
	uint64_t max_size;
	unsigned keep;
	uint64_t written;	/* bytes appended since open */
	uint64_t unwritten;	/* bytes a failed write or rotation lost */
};

/* Opens (appends to) or creates path. 0 or -errno with a sentence in why;
 * -ELOOP: a symbolic link, -EMLINK: other hard links, -EINVAL: bad bounds
 * or not a regular file. */
int sbx_logfile_open(struct sbx_logfile *lf, const char *path, uint64_t max_size, unsigned keep,
		     char *why, size_t len);
/* Appends buf, rotating as needed. 0, or the -errno of a write or rotation
 * that failed: the bytes not written are counted in lf->unwritten and the
 * next append tries again (a full disk loses output, never the sandbox). */
int sbx_logfile_append(struct sbx_logfile *lf, const void *buf, size_t len);
void sbx_logfile_close(struct sbx_logfile *lf);

/* Where the readers put what they read: 0 when emit took all of buf, else
 * -errno (the reader stops, and a follower offers those bytes again on its
 * next read). sbx_log_emit_fd writes to the descriptor *(int *)ctx. */
typedef int (*sbx_log_emit_fn)(void *ctx, const void *buf, size_t len);
int sbx_log_emit_fd(void *ctx, const void *buf, size_t len);

/* Writes the last tail_lines lines (all of them when < 0) of the log at path
 * and of its rotated files FILE.1 .. FILE.keep to out_fd, oldest first. A
 * last line without its newline counts as a line. 0 or -errno; no log at
 * all is -ENOENT. out_fd is written in blocking fashion (-EAGAIN otherwise);
 * a reader gone is -EPIPE, and SIGPIPE is the caller's to ignore. */
int sbx_logfile_tail(const char *path, unsigned keep, long tail_lines, int out_fd);
/* The same, handing the bytes to emit in chunks of at most 64 KiB (e.g.
 * into the replies of an API call). */
int sbx_logfile_tail_emit(const char *path, unsigned keep, long tail_lines, sbx_log_emit_fn emit,
			  void *ctx);

/*
 * Following a log: open prints the tail (as sbx_logfile_tail) and remembers
 * where it stopped in FILE; each sbx_logfollow_read() then forwards what was
 * added. Poll inotify_fd (readable when anything in the log's directory
 * changed) and call sbx_logfollow_read() when it is; a last call after the
 * writer has ended picks up the rest. When FILE was rotated meanwhile, the
 * rest of the old file is forwarded first, then any rotated file newer than
 * it, then the new FILE from its first byte: nothing is skipped or repeated
 * unless more than keep rotations passed between two reads (the files in
 * between are gone then).
 */
struct sbx_logfollow {
	int inotify_fd;
	int dirfd;
	int fd;			/* the FILE being read (maybe renamed since); -1 none yet */
	dev_t dev;
	ino_t ino;
	uint64_t off;		/* next byte of fd to forward */
	unsigned keep;
	char name[NAME_MAX + 1];
};

int sbx_logfollow_open(struct sbx_logfollow *f, const char *path, unsigned keep, long tail_lines,
		       int out_fd, char *why, size_t len);
/* Forwards to out_fd what was added since the last call. 0 or -errno. */
int sbx_logfollow_read(struct sbx_logfollow *f, int out_fd);
/* The same two with emit instead of a descriptor. */
int sbx_logfollow_start(struct sbx_logfollow *f, const char *path, unsigned keep, long tail_lines,
			sbx_log_emit_fn emit, void *ctx, char *why, size_t len);
int sbx_logfollow_pump(struct sbx_logfollow *f, sbx_log_emit_fn emit, void *ctx);
void sbx_logfollow_close(struct sbx_logfollow *f);

#endif
