/* SPDX-License-Identifier: MIT */
/*
 * The small toolbox every layer shares.
 *
 * Cleanup: a variable declared `_cleanup_free_ char *s = NULL;` is freed when
 * it goes out of scope, whichever return leaves the block; TAKE_PTR(s) hands
 * the pointer on (to a ret_* parameter, a struct) and leaves NULL behind so
 * that nothing is freed twice. The destructors accept NULL / -1, and keep
 * errno, so that `return -errno;` after a failed call still sees the failure.
 *
 * Failures: functions return 0 or a negative errno and explain a failure in
 * a caller's `why` buffer. sbx_fail() does both in one line:
 *     return sbx_fail(why, len, -EINVAL, "veth address '%s' is not IPv4", s);
 */
#ifndef SBX_UTIL_H
#define SBX_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void sbx_freep(void *p)
{
	free(*(void **)p);
}

static inline void sbx_closep(int *fd)
{
	int e = errno;

	if (*fd >= 0)
		close(*fd);
	errno = e;
}

static inline void sbx_fclosep(FILE **f)
{
	int e = errno;

	if (*f)
		fclose(*f);
	errno = e;
}

static inline void sbx_closedirp(DIR **d)
{
	int e = errno;

	if (*d)
		closedir(*d);
	errno = e;
}

#define _cleanup_free_ _cleanup_(sbx_freep)
#define _cleanup_close_ _cleanup_(sbx_closep)
#define _cleanup_fclose_ _cleanup_(sbx_fclosep)
#define _cleanup_closedir_ _cleanup_(sbx_closedirp)

/* The value of p, which is left NULL: ownership moves to the caller. */
#define TAKE_PTR(p) ({ __typeof__(p) _sbx_p = (p); (p) = NULL; _sbx_p; })
/* The value of fd, which is left -1. */
#define TAKE_FD(fd) ({ int _sbx_fd = (fd); (fd) = -1; _sbx_fd; })

/* Writes the message into why (when why is not NULL and len > 0; truncated
 * to fit) and returns err, a negative errno, unchanged. errno is kept. */
int sbx_fail(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* mkdir -p: makes path and its missing parents with mode. Whatever already
 * exists at a component counts as done (a file in the way shows up as
 * ENOTDIR below it, or when the caller uses path). On failure the -errno is
 * returned and also left in errno. */
int sbx_mkdir_p(const char *path, mode_t mode);

/* Opens a file that sbx, as root, writes for its caller (--result,
 * --audit): open(path, flags | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, mode). A
 * symbolic link as the last component is refused (-ELOOP), and so is a
 * regular file with more than one link (-EMLINK): in a world-writable
 * directory either could have been planted by a local user or an earlier
 * workload to make root write into a file of its choice, on hosts where
 * fs.protected_symlinks and fs.protected_hardlinks are 0. */
int sbx_open_output(const char *path, int flags, mode_t mode);

/* The words for sbx_open_output()'s own refusals, else strerror(-err). */
const char *sbx_open_output_error(int err);

/* The start time of a process (field 22 of /proc/PID/stat, clock ticks since
 * boot): with the pid, it names one process across pid reuse. 0 when the
 * process does not exist or is a zombie (dead, not yet reaped). */
uint64_t sbx_proc_start_time(pid_t pid);

/* Writes the string to DIR/FILE (one write, no O_CREAT: cgroup and proc
 * control files). 0 or -errno. */
int sbx_write_at(const char *dir, const char *file, const char *val);

/* Writes all of buf to fd, retrying after EINTR and short writes; returns
 * the bytes written (fewer than len: errno says why, 0 when write said 0). */
size_t sbx_write_all(int fd, const void *buf, size_t len);

/* Reads a whole file of at most max bytes into a NUL-terminated buffer
 * (*ret_len without the NUL). -EFBIG when it is longer. */
int sbx_read_file(const char *path, char **ret, size_t *ret_len, size_t max);

/* On the definition of a function the monitor of a sandbox runs while its
 * workload idles (the wait loop's once-a-second tick: audit summary, disk,
 * drops, counters): GCC puts such functions in .text.hot, which the linker
 * lays out together, so that the code the idle tick maps back in after
 * sbx_trim_memory is a page or two, not one in every part of the binary. */
#define SBX_IDLE_PATH __attribute__((hot))

/* memset(p, 0, len) that writes only the pages holding a non-zero byte: a
 * struct in fresh anonymous memory (the monitor's run state) stays on the
 * kernel's shared zero page, not in the process's memory, until used. */
void sbx_zero(void *p, size_t len);

/* For a process that stays resident after a heavy setup (the monitor of a
 * sandbox): gives the heap's free pages and the stack's pages below the
 * caller's frame (less a margin for the calls still to come) back to the
 * kernel; the pages fault in again, zeroed, if ever used. file_pages: also
 * unmaps the clean pages of its read-only file mappings (text, rodata of
 * the binary and its libraries), which map back from the page cache when
 * next run; it reads /proc/self/smaps (~0.3-0.6 ms), so not on a start's
 * path. */
void sbx_trim_memory(bool file_pages);

/* fopen(path, "re") of a regular file only, never following a final
 * symlink nor blocking (a FIFO); NULL and errno (EINVAL: not a regular
 * file) on failure. */
FILE *sbx_fopen_regular(const char *path);

/* Libraries that only some runs need (libnl for a veth pair, libsystemd
 * for a systemd host) are loaded at their first use instead of by the
 * dynamic loader at every start (docs/performance.md). sbx_dl_open()
 * dlopen()s soname; sbx_dl_sym() finds one function in it. Both return NULL
 * and say why in why (the library missing: install it). */
void *sbx_dl_open(const char *soname, char *why, size_t len);
void *sbx_dl_sym(void *lib, const char *soname, const char *name, char *why, size_t len);

/* SBX_TRACE=1 (docs/cli.md): sbx_trace("step") prints the time since the
 * previous step (or since the first call, which starts the clock) and since
 * the start to stderr, one line per step, and nothing without it. */
void sbx_trace(const char *step);

#endif
