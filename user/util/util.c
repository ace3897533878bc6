/* SPDX-License-Identifier: MIT */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

int sbx_fail(char *why, size_t len, int err, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	errno = e;
	return err;
}

static int mkdir_one(const char *path, mode_t mode)
{
	return mkdir(path, mode) == 0 || errno == EEXIST ? 0 : -errno;
}

int sbx_mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	int r;

	if (!path || !*path)
		return -(errno = EINVAL);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s", path) >= sizeof(tmp))
		return -(errno = ENAMETOOLONG);
	/* usually only the last component is missing: try that first */
	r = mkdir_one(tmp, mode);
	if (r != -ENOENT)
		return r;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = 0;
		r = mkdir_one(tmp, mode);
		*p = '/';
		if (r < 0)
			return r;
	}
	return mkdir_one(tmp, mode);
}

uint64_t sbx_proc_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	char state = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	/* after "pid (comm)": state is field 3, starttime field 22 */
	if (!p || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
			 "%*d %*d %*d %*d %llu", &state, &start) != 2)
		return 0;
	/* a zombie is dead: a manager whose parent (a subreaper such as
	 * conmon) has not reaped it yet owns nothing any more */
	return state == 'Z' || state == 'X' ? 0 : start;
}

int sbx_write_at(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX + 32];
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		r = -errno;
	close(fd);
	return r;
}

int sbx_open_output(const char *path, int flags, mode_t mode)
{
	struct stat st;
	int fd, e;

	fd = open(path, flags | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, mode);
	/* with O_CREAT, some kernels answer a link with EACCES, not ELOOP */
	if (fd < 0 && errno == EACCES && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		errno = ELOOP;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		e = -errno;
		close(fd);
		return -(errno = -e);
	}
	if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
		close(fd);
		return -(errno = EMLINK);
	}
	return fd;
}

const char *sbx_open_output_error(int err)
{
	if (err == -ELOOP)
		return "is a symbolic link (sbx runs as root and does not follow one here; name the file itself)";
	if (err == -EMLINK)
		return "has other hard links (sbx runs as root and does not write through one)";
	return strerror(-err);
}

int sbx_read_file(const char *path, char **ret, size_t *ret_len, size_t max)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *p;

			if (cap > max + 1)
				return -EFBIG;
			cap = cap ? cap * 2 : 4096;
			p = realloc(buf, cap);
			if (!p)
				return -ENOMEM;
			buf = p;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max)
			return -EFBIG;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

size_t sbx_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	return off;
}

/* A file another party could have replaced (a root workload, a stale
 * slot): a FIFO would block the reader in open() and a device or a
 * symlink would read something else, so only a regular file opens. */
FILE *sbx_fopen_regular(const char *path)
{
	struct stat st;
	FILE *f;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

static int trace_on = -1;	/* -1: $SBX_TRACE not read yet */
static uint64_t trace_first, trace_last;

static uint64_t trace_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sbx_trace(const char *step)
{
	const char *env;
	uint64_t now;

	if (trace_on < 0) {
		env = getenv("SBX_TRACE");
		trace_on = env && !strcmp(env, "1");
	}
	if (!trace_on)
		return;
	now = trace_now_ns();
	if (!trace_first)
		trace_first = trace_last = now;
	fprintf(stderr, "sbx: trace: %-30s %8.3f ms  (at %8.3f ms)\n", step,
		(double)(now - trace_last) / 1e6, (double)(now - trace_first) / 1e6);
	trace_last = now;
}

void *sbx_dl_open(const char *soname, char *why, size_t len)
{
	void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (!lib)
		snprintf(why, len, "cannot load %s (is it installed?): %s", soname, dlerror());
	return lib;
}

void *sbx_dl_sym(void *lib, const char *soname, const char *name, char *why, size_t len)
{
	void *fn = dlsym(lib, name);

	if (!fn)
		snprintf(why, len, "%s has no %s (too old a version?)", soname, name);
	return fn;
}

static bool all_zero(const unsigned char *c, size_t n)
{
	return !n || (!c[0] && !memcmp(c, c + 1, n - 1));
}

void sbx_zero(void *p, size_t len)
{
	const uintptr_t page = 4096;
	unsigned char *c = p;

	while (len) {
		size_t n = page - ((uintptr_t)c & (page - 1));

		if (n > len)
			n = len;
		if (!all_zero(c, n))
			memset(c, 0, n);
		c += n;
		len -= n;
	}
}

/* the [stack] mapping's start, from /proc/self/maps; 0 if not found */
SBX_IDLE_PATH static uintptr_t stack_start(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	unsigned long lo = 0, hi;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			break;
		else
			lo = 0;
	fclose(f);
	return lo;
}

/* The clean file mappings' ranges (see unmap_clean_file_pages); fixed room:
 * a process with more read-only file mappings keeps the rest mapped. */
#define TRIM_MAX_RANGES 256

struct trim_range {
	uintptr_t lo, hi;
};

/* smaps' header line "lo-hi perms offset dev inode path": true, and *r and
 * *cand set, when it is one; cand: a private, read-only mapping of a file,
 * the only kind whose untouched pages are the file's own */
SBX_IDLE_PATH static bool smaps_header(const char *line, struct trim_range *r, bool *cand)
{
	unsigned long lo, hi, ino;
	char perms[8], path[8] = "";

	if (sscanf(line, "%lx-%lx %7s %*s %*s %lu %7s", &lo, &hi, perms, &ino, path) < 4 ||
	    strlen(perms) != 4)
		return false;
	r->lo = lo;
	r->hi = hi;
	*cand = perms[0] == 'r' && perms[1] != 'w' && perms[3] == 'p' && ino && path[0] == '/';
	return true;
}

/* Lists the private read-only file mappings (text, rodata) holding no
 * copied-on-write page, in memory or swapped out: smaps' Anonymous: 0 and
 * then Swap: 0. A relocated RELRO segment (GOT, .data.rel.ro) has such
 * pages and is left alone; MADV_DONTNEED on a swapped-out one would free
 * its swap entry and map the file's unrelocated bytes back. Returns how
 * many went into r. */
SBX_IDLE_PATH static size_t clean_file_maps(struct trim_range *r, size_t max)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	struct trim_range cur = { 0, 0 };
	unsigned long anon, swap;
	bool cand = false;
	size_t n = 0;

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		if (smaps_header(line, &cur, &cand))
			continue;
		if (!cand)
			continue;
		if (sscanf(line, "Anonymous: %lu", &anon) == 1)
			cand = !anon;
		else if (sscanf(line, "Swap: %lu", &swap) == 1) {
			if (!swap)
				r[n++] = cur;
			cand = false;
		}
	}
	fclose(f);
	return n;
}

/* Drops the page-table entries of the read-only file mappings that hold
 * only the file's own pages: the binary's and the libraries' text and
 * rodata, mapped by this process alone for the whole run, counted whole in
 * its Pss. What reclaim does to clean file pages at any time: the pages
 * stay in the page cache (shared, reclaimable) and a later access maps
 * them again (a minor fault); nothing this process wrote is touched. */
SBX_IDLE_PATH static void unmap_clean_file_pages(void)
{
	struct trim_range r[TRIM_MAX_RANGES];
	size_t n = clean_file_maps(r, TRIM_MAX_RANGES);

	for (size_t i = 0; i < n; i++)
		madvise((void *)r[i].lo, r[i].hi - r[i].lo, MADV_DONTNEED);
}

SBX_IDLE_PATH void sbx_trim_memory(bool file_pages)
{
	/* room for madvise's own frame below this one; the deeper frames of
	 * the poll loop (audit formatting, libbpf's ring callback) fault in
	 * again, zeroed, when next used */
	const uintptr_t margin = 8 * 1024;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), here = (uintptr_t)__builtin_frame_address(0);
	uintptr_t lo = stack_start(), hi = (here - margin) & ~(page - 1);

	/* in this order: reading smaps allocates stdio buffers (malloc_trim
	 * gives them back) and uses stack (the last madvise gives it back) */
	if (file_pages)
		unmap_clean_file_pages();
	malloc_trim(0);
	if (lo && hi > lo)
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
}
