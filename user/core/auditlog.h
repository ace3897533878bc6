/* SPDX-License-Identifier: MIT */
/*
 * The shared JSON-lines audit log (/var/log/<instance>/audit.jsonl): many
 * writer processes (every `sbx run`, direct or as sbxd's monitor, and sbxd
 * itself), each with its own O_APPEND descriptor, and rotation by size:
 * FILE -> FILE.1 -> ... -> FILE.keep, the oldest dropped.
 *
 * Every batch is written under an exclusive flock(2) of FILE.lock, beside
 * the log:
 *
 *     lock -> does FILE still name my descriptor's file? (else reopen: another
 *     writer or logrotate renamed it) -> one write() of the batch -> if FILE
 *     has reached max_size: rename the chain, create a new FILE 0600 -> unlock
 *
 * so a batch lands whole in one file, never split across two, never lost to
 * a rename and never written twice; and no writer appends to a file once it
 * is renamed by a rotation (readers may treat a rotated file as complete).
 * A write the disk refuses in part is cut back (ftruncate) to where it began:
 * the batch is lost whole and the caller counts it, the next line stays whole.
 * A lock held longer than SBX_AUDIT_LOCK_WAIT_MS is not waited for: the
 * batch is appended without it and without rotation (see below).
 * Cost per batch: flock, fstatat, write, flock.
 *
 * Files are made 0600 (the events name the files and hosts of every sandbox).
 * FILE, FILE.lock and the rotated names are opened O_NOFOLLOW: a symbolic
 * link or anything but a regular file there is refused.
 *
 * A file ends with the first batch that reaches max_size, so it holds at most
 * max_size plus one batch. max_size 0 never rotates (an external logrotate
 * does it then). Writers of one log should share the settings: whichever
 * writer finds the file full rotates it with its own.
 */
#ifndef SBX_AUDITLOG_H
#define SBX_AUDITLOG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* 64 MiB holds about 200 000 events (~300 bytes each); with 5 rotated files
 * the log takes at most 384 MiB of /var/log and keeps about a million
 * events of history, enough to answer "what did this sandbox do today" on a
 * busy host, while a rotation (renames only) stays rare even at 1M events/s
 * (one every ~0.2 s at most; at normal rates hours apart). */
#define SBX_AUDIT_MAX_SIZE_DEFAULT	(64ull << 20)
#define SBX_AUDIT_KEEP_DEFAULT		5u
#define SBX_AUDIT_MAX_SIZE_MIN		4096ull
#define SBX_AUDIT_MAX_SIZE_MAX		(1ull << 40)
#define SBX_AUDIT_KEEP_MAX		999u

struct sbx_auditlog {
	int dirfd;		/* the log's directory (O_PATH): renames happen inside it */
	int lockfd;		/* FILE.lock */
	int fd;			/* FILE as last opened, O_APPEND; -1 = open at the next write */
	dev_t dev;
	ino_t ino;
	char name[NAME_MAX + 1];
	uint64_t max_size;	/* 0 = no rotation */
	unsigned keep;
	uint64_t rotations;	/* rotations this writer made */
	uint64_t reopens;	/* FILE was another file than fd's (rotated by someone else) */
	uint64_t unlocked;	/* batches written without the lock (held too long by another) */
	int lock_stuck;		/* the last wait for the lock timed out: do not wait again */
};

/* How long a writer waits for FILE.lock before it writes its batch without
 * it. A writer holds the lock for one write and a few renames; longer means
 * a holder that never lets go (anyone who can open FILE.lock, even read
 * only, can flock it: a root workload with a read-only view of the host),
 * and waiting for it would stop the monitor: its timeout, its signals and
 * its ring (drops). */
#define SBX_AUDIT_LOCK_WAIT_MS		500u

/* Opens (appends to) or creates path, 0600, and its lock file. The
 * directory must exist. 0 or -errno with a sentence in why: -ELOOP a
 * symbolic link, -EINVAL bad bounds or not a regular file. */
int sbx_auditlog_open(struct sbx_auditlog *l, const char *path, uint64_t max_size, unsigned keep,
		      char *why, size_t len);
/* Appends the batch (whole lines) as one write, rotating as needed. 0, or
 * -errno when the batch was not written (none of it is in the log). When
 * the lock is not had within SBX_AUDIT_LOCK_WAIT_MS, the batch is appended
 * without it and without rotation (counted in unlocked); while the lock
 * stays held, later batches do not wait for it again. */
int sbx_auditlog_write(struct sbx_auditlog *l, const void *buf, size_t len);
/* Drops the descriptor; the next write opens FILE anew (SIGHUP). */
void sbx_auditlog_reopen(struct sbx_auditlog *l);
void sbx_auditlog_close(struct sbx_auditlog *l);

/*
 * Following the log (sbxd's Subscribe, sbx audit --follow): start
 * remembers where FILE ends and which files of the log exist; each pump
 * hands the whole lines appended since to emit. When FILE was rotated
 * meanwhile, the rest of the old file goes first, then every rotated FILE.N
 * not seen before (oldest first), then any other file of the log not seen
 * before (FILE-SUFFIX: logrotate renamed it before this follower opened it),
 * then the new FILE: nothing is skipped or repeated across any number of
 * rotations between two pumps, unless files went past keep before they were
 * read. The file before the current one stays open and is read on each
 * pump, for a writer that checked the name just before logrotate renamed
 * it. Files are told apart by device and inode.
 */
struct sbx_auditfollow {
	int dirfd;
	char name[NAME_MAX + 1];
	int fd;			/* the file being read; -1 = none yet */
	uint64_t off;
	int prev_fd;		/* the file before, for late writes; -1 = none */
	uint64_t prev_off;
	struct sbx_auditfollow_file {
		dev_t dev;
		ino_t ino;
		unsigned misses;	/* directory readings that did not find it */
	} *seen;		/* files read or older than the start: not to be read again */
	size_t n_seen;
};

int sbx_auditfollow_start(struct sbx_auditfollow *f, const char *path, char *why, size_t len);
/* emit returns 0 when it took the bytes, -errno to stop (the same bytes
 * are offered again by the next pump). 0 or -errno. */
int sbx_auditfollow_pump(struct sbx_auditfollow *f, int (*emit)(void *ctx, const void *buf, size_t len),
			 void *ctx);
void sbx_auditfollow_close(struct sbx_auditfollow *f);

/* The settings of the instance's log for direct `sbx run`: from
 * $SBX_AUDIT_MAX_SIZE (a size: 64M, 0 = no rotation) and $SBX_AUDIT_KEEP
 * (0..999), else the defaults. -EINVAL with why for a bad value. */
int sbx_auditlog_env(uint64_t *ret_max_size, unsigned *ret_keep, char *why, size_t len);

/* A size bound as the settings take it: 0 or SBX_AUDIT_MAX_SIZE_MIN..MAX. */
int sbx_auditlog_parse_size(const char *s, uint64_t *ret);
int sbx_auditlog_parse_keep(const char *s, unsigned *ret);

#endif
