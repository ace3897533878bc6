/* SPDX-License-Identifier: MIT */
/* Unit tests for the output log (user/core/logfile.h): rotation bounds, no
 * byte lost or repeated, refusal of links, the tail across rotated files and
 * following through rotations. Everything happens in a temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "core/logfile.h"

static char dir[PATH_MAX];
static const char big_line[201] =
	"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
	"012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678\n";
static char logp[PATH_MAX + 16];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/sbx-test-logfile-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(logp, sizeof(logp), "%s/out.log", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* "1\n2\n...n\n" */
static char *seq_text(int n, size_t *ret_len)
{
	size_t cap = (size_t)n * 8 + 1, len = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	for (int i = 1; i <= n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%d\n", i);
	*ret_len = len;
	return s;
}

/* The whole content of a file; NULL when it does not exist. */
static char *slurp(const char *path, size_t *ret_len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*ret_len = (size_t)st.st_size;
	return buf;
}

/* FILE.keep .. FILE.1 FILE, concatenated; each file's size checked. */
static char *kept_text(unsigned keep, uint64_t max, size_t *ret_len)
{
	char *all = malloc(1), path[PATH_MAX + 32];
	size_t len = 0;

	assert_non_null(all);
	for (unsigned i = keep + 1; i-- > 0;) {
		size_t n;
		char *part;

		if (i)
			snprintf(path, sizeof(path), "%s.%u", logp, i);
		else
			snprintf(path, sizeof(path), "%s", logp);
		part = slurp(path, &n);
		if (!part)
			continue;
		assert_true(n <= max);
		all = realloc(all, len + n + 1);
		assert_non_null(all);
		memcpy(all + len, part, n);
		len += n;
		free(part);
	}
	*ret_len = len;
	return all;
}

static bool is_suffix(const char *s, size_t n, const char *whole, size_t wn)
{
	return n <= wn && !memcmp(s, whole + wn - n, n);
}

/* Writes text to a log in chunks of varying sizes, as pipe reads come. */
static void write_chunked(struct sbx_logfile *lf, const char *text, size_t len)
{
	static const size_t sizes[] = { 1, 7, 100, 4095, 513, 9000, 64, 3 };
	size_t off = 0;

	for (size_t k = 0; off < len; k++) {
		size_t n = sizes[k % 8] < len - off ? sizes[k % 8] : len - off;

		assert_int_equal(sbx_logfile_append(lf, text + off, n), 0);
		off += n;
	}
}

static void test_rotation_keeps_files_bounded_and_an_exact_suffix(void **state)
{
	struct sbx_logfile lf;
	char why[256], path[PATH_MAX + 32];
	size_t len, klen;
	char *text = seq_text(20000, &len), *kept;

	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, 2, why, sizeof(why)), 0);
	write_chunked(&lf, text, len);
	assert_int_equal(lf.written, len);
	assert_int_equal(lf.unwritten, 0);
	sbx_logfile_close(&lf);
	kept = kept_text(2, 4096, &klen);
	assert_true(is_suffix(kept, klen, text, len));
	/* three files' worth, all but the current one nearly full */
	assert_true(klen > 2 * 4000);
	snprintf(path, sizeof(path), "%s.3", logp);
	assert_int_equal(access(path, F_OK), -1);
	/* the kept text begins at a line: rotation cuts between lines */
	assert_true(klen < len && text[len - klen - 1] == '\n');
	free(kept);
	free(text);
}

static void test_rotated_files_begin_at_a_line(void **state)
{
	struct sbx_logfile lf;
	char why[256], path[PATH_MAX + 32];
	size_t len, n;
	char *text = seq_text(3000, &len), *part;

	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, 3, why, sizeof(why)), 0);
	write_chunked(&lf, text, len);
	sbx_logfile_close(&lf);
	for (unsigned i = 1; i <= 3; i++) {
		snprintf(path, sizeof(path), "%s.%u", logp, i);
		part = slurp(path, &n);
		assert_non_null(part);
		assert_true(n > 0 && part[n - 1] == '\n');
		free(part);
	}
	free(text);
}

static void test_keep_zero_keeps_only_the_current_file(void **state)
{
	struct sbx_logfile lf;
	char why[256], path[PATH_MAX + 32];
	size_t len, klen;
	char *text = seq_text(5000, &len), *kept;

	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, 0, why, sizeof(why)), 0);
	write_chunked(&lf, text, len);
	sbx_logfile_close(&lf);
	snprintf(path, sizeof(path), "%s.1", logp);
	assert_int_equal(access(path, F_OK), -1);
	kept = kept_text(0, 4096, &klen);
	assert_true(klen > 0 && is_suffix(kept, klen, text, len));
	free(kept);
	free(text);
}

static void test_a_line_longer_than_a_file_is_cut_not_lost(void **state)
{
	struct sbx_logfile lf;
	char why[256], *big = malloc(10000), *kept;
	size_t klen;

	assert_non_null(big);
	for (size_t i = 0; i < 10000; i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, 5, why, sizeof(why)), 0);
	assert_int_equal(sbx_logfile_append(&lf, "head\n", 5), 0);
	assert_int_equal(sbx_logfile_append(&lf, big, 10000), 0);
	sbx_logfile_close(&lf);
	kept = kept_text(5, 4096, &klen);
	assert_int_equal(klen, 10005);
	assert_memory_equal(kept, "head\n", 5);
	assert_memory_equal(kept + 5, big, 10000);
	free(kept);
	free(big);
}

static void test_reopen_appends_and_counts_the_existing_size(void **state)
{
	struct sbx_logfile lf;
	char why[256], *kept;
	size_t klen;

	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, 1, why, sizeof(why)), 0);
	assert_int_equal(sbx_logfile_append(&lf, "first\n", 6), 0);
	sbx_logfile_close(&lf);
	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, 1, why, sizeof(why)), 0);
	assert_int_equal(lf.size, 6);
	assert_int_equal(sbx_logfile_append(&lf, "second\n", 7), 0);
	sbx_logfile_close(&lf);
	kept = kept_text(1, 4096, &klen);
	assert_int_equal(klen, 13);
	assert_memory_equal(kept, "first\nsecond\n", 13);
	free(kept);
}

static void test_new_file_is_0640_whatever_the_umask(void **state)
{
	struct sbx_logfile lf;
	char why[256];
	struct stat st;
	mode_t old = umask(0777);

	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, 1, why, sizeof(why)), 0);
	umask(old);
	assert_int_equal(stat(logp, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* and the file of a rotation */
	for (int i = 0; i < 500; i++)
		assert_int_equal(sbx_logfile_append(&lf, "0123456789\n", 11), 0);
	assert_int_equal(stat(logp, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	sbx_logfile_close(&lf);
}

static void test_symlink_is_refused(void **state)
{
	struct sbx_logfile lf;
	char why[256], target[PATH_MAX + 16];

	snprintf(target, sizeof(target), "%s/target", dir);
	assert_int_equal(symlink(target, logp), 0);
	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, 1, why, sizeof(why)), -ELOOP);
	assert_non_null(strstr(why, "symbolic link"));
	assert_int_equal(access(target, F_OK), -1);	/* nothing made through it */
	assert_int_equal(sbx_logfile_tail(logp, 1, -1, STDOUT_FILENO), -ELOOP);
}

static void test_hard_link_and_fifo_are_refused(void **state)
{
	struct sbx_logfile lf;
	char why[256], other[PATH_MAX + 16];
	int fd;

	snprintf(other, sizeof(other), "%s/other", dir);
	fd = open(other, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(link(other, logp), 0);
	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, 1, why, sizeof(why)), -EMLINK);
	assert_int_equal(unlink(logp), 0);
	assert_int_equal(mkfifo(logp, 0600), 0);
	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, 1, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not a regular file"));
}

/* A write that fails (here the file size limit, as a full disk would) loses
 * that output, counted, and the log goes on once it can. */
static void test_failed_write_is_counted_and_the_log_goes_on(void **state)
{
	struct rlimit old, small = { 100, 100 };
	struct sbx_logfile lf;
	char why[256], *kept;
	void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
	size_t klen;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small.rlim_max = old.rlim_max;
	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, 1, why, sizeof(why)), 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	assert_int_equal(sbx_logfile_append(&lf, "ok\n", 3), 0);
	assert_int_equal(sbx_logfile_append(&lf, big_line, 200), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	/* 97 bytes fit under the limit, 103 did not */
	assert_int_equal(lf.unwritten, 103);
	assert_int_equal(sbx_logfile_append(&lf, "after\n", 6), 0);
	sbx_logfile_close(&lf);
	kept = kept_text(1, 4096, &klen);
	assert_int_equal(klen, 3 + 97 + 6);
	assert_memory_equal(kept + 100, "after\n", 6);
	free(kept);
}

static void test_bad_bounds_are_refused(void **state)
{
	struct sbx_logfile lf;
	char why[256];

	assert_int_equal(sbx_logfile_open(&lf, logp, 100, 1, why, sizeof(why)), -EINVAL);
	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, SBX_LOG_KEEP_MAX + 1, why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(access(logp, F_OK), -1);
}

/* ---- tail ---------------------------------------------------------------- */

static char *tail_of(unsigned keep, long lines, size_t *ret_len, int *ret_r)
{
	int fd = memfd_create("tail", MFD_CLOEXEC);
	char *buf;
	off_t n;

	assert_true(fd >= 0);
	*ret_r = sbx_logfile_tail(logp, keep, lines, fd);
	n = lseek(fd, 0, SEEK_END);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)n, 0), n);
	buf[n] = 0;
	close(fd);
	*ret_len = (size_t)n;
	return buf;
}

static void write_log(const char *text, size_t len, unsigned keep)
{
	struct sbx_logfile lf;
	char why[256];

	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, keep, why, sizeof(why)), 0);
	write_chunked(&lf, text, len);
	sbx_logfile_close(&lf);
}

static void test_tail_spans_rotated_files_in_order(void **state)
{
	size_t len, n;
	char *text = seq_text(20000, &len), *out;
	int r;

	write_log(text, len, 2);
	/* 1000 lines of 6 bytes: more than one file holds */
	out = tail_of(2, 1000, &n, &r);
	assert_int_equal(r, 0);
	assert_true(is_suffix(out, n, text, len));
	assert_string_equal(out, strstr(text, "\n19001\n") + 1);
	free(out);
	out = tail_of(2, 1, &n, &r);
	assert_string_equal(out, "20000\n");
	free(out);
	free(text);
}

static void test_tail_of_more_lines_than_kept_prints_all_kept(void **state)
{
	size_t len, n, klen;
	char *text = seq_text(20000, &len), *out, *kept;
	int r;

	write_log(text, len, 2);
	kept = kept_text(2, 4096, &klen);
	out = tail_of(2, 100000, &n, &r);
	assert_int_equal(r, 0);
	assert_int_equal(n, klen);
	assert_memory_equal(out, kept, n);
	free(out);
	out = tail_of(2, -1, &n, &r);
	assert_int_equal(n, klen);
	free(out);
	free(kept);
	free(text);
}

static void test_tail_counts_a_last_line_without_newline(void **state)
{
	size_t n;
	char *out;
	int r;

	write_log("a\nb\nc", 5, 1);
	out = tail_of(1, 2, &n, &r);
	assert_string_equal(out, "b\nc");
	free(out);
	out = tail_of(1, 0, &n, &r);
	assert_int_equal(n, 0);
	free(out);
}

static void test_tail_of_no_log_is_enoent(void **state)
{
	size_t n;
	int r;

	free(tail_of(3, 10, &n, &r));
	assert_int_equal(r, -ENOENT);
}

/* ---- follow -------------------------------------------------------------- */

static size_t fd_len(int fd)
{
	return (size_t)lseek(fd, 0, SEEK_END);
}

static char *fd_text(int fd, size_t *ret_len)
{
	size_t n = fd_len(fd);
	char *buf = malloc(n + 1);

	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, n, 0), (ssize_t)n);
	buf[n] = 0;
	*ret_len = n;
	return buf;
}

static void test_follow_forwards_new_bytes_after_the_tail(void **state)
{
	struct sbx_logfollow f;
	struct sbx_logfile lf;
	char why[256], *out;
	int fd = memfd_create("follow", MFD_CLOEXEC);
	size_t n;

	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, 2, why, sizeof(why)), 0);
	assert_int_equal(sbx_logfile_append(&lf, "one\ntwo\nthree\n", 14), 0);
	assert_int_equal(sbx_logfollow_open(&f, logp, 2, 1, fd, why, sizeof(why)), 0);
	assert_int_equal(sbx_logfile_append(&lf, "four\n", 5), 0);
	assert_int_equal(sbx_logfollow_read(&f, fd), 0);
	out = fd_text(fd, &n);
	assert_string_equal(out, "three\nfour\n");
	free(out);
	/* nothing new: nothing forwarded */
	assert_int_equal(sbx_logfollow_read(&f, fd), 0);
	assert_int_equal(fd_len(fd), 11);
	sbx_logfollow_close(&f);
	sbx_logfile_close(&lf);
	close(fd);
}

/* Rotations between two reads: the rest of the old file, the rotated ones
 * after it and the new file, each byte once. */
static void follow_through_rotations(unsigned keep, int lines_between)
{
	struct sbx_logfollow f;
	struct sbx_logfile lf;
	char why[256], *out;
	size_t len, n, off = 0;
	char *text = seq_text(60000, &len);
	int fd = memfd_create("follow", MFD_CLOEXEC);

	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, keep, why, sizeof(why)), 0);
	assert_int_equal(sbx_logfollow_open(&f, logp, keep, -1, fd, why, sizeof(why)), 0);
	while (off < len) {
		/* about lines_between lines, then a read */
		size_t n_write = 0;

		for (int l = 0; l < lines_between && off + n_write < len; l++)
			n_write += strcspn(text + off + n_write, "\n") + 1;
		assert_int_equal(sbx_logfile_append(&lf, text + off, n_write), 0);
		off += n_write;
		assert_int_equal(sbx_logfollow_read(&f, fd), 0);
	}
	out = fd_text(fd, &n);
	assert_int_equal(n, len);
	assert_memory_equal(out, text, len);
	free(out);
	sbx_logfollow_close(&f);
	sbx_logfile_close(&lf);
	close(fd);
	free(text);
}

static void test_follow_survives_a_rotation_per_read(void **state)
{
	follow_through_rotations(2, 500);
}

static void test_follow_survives_several_rotations_between_reads(void **state)
{
	/* ~1700 lines fill a 4K file: two or three rotations each time */
	follow_through_rotations(3, 1500);
}

static void test_follow_survives_rotation_with_keep_zero(void **state)
{
	follow_through_rotations(0, 300);
}

static void test_follow_wakes_the_inotify_fd(void **state)
{
	struct sbx_logfollow f;
	struct sbx_logfile lf;
	char why[256];
	int fd = memfd_create("follow", MFD_CLOEXEC);
	char ev[4096];

	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, 1, why, sizeof(why)), 0);
	assert_int_equal(sbx_logfollow_open(&f, logp, 1, 10, fd, why, sizeof(why)), 0);
	assert_true(read(f.inotify_fd, ev, sizeof(ev)) < 0 && errno == EAGAIN);
	assert_int_equal(sbx_logfile_append(&lf, "x\n", 2), 0);
	assert_true(read(f.inotify_fd, ev, sizeof(ev)) > 0);
	sbx_logfollow_close(&f);
	sbx_logfile_close(&lf);
	close(fd);
}

static void test_follow_before_the_log_exists(void **state)
{
	struct sbx_logfollow f;
	struct sbx_logfile lf;
	char why[256], *out;
	int fd = memfd_create("follow", MFD_CLOEXEC);
	size_t n;

	assert_int_equal(sbx_logfollow_open(&f, logp, 1, 10, fd, why, sizeof(why)), 0);
	assert_int_equal(sbx_logfollow_read(&f, fd), 0);
	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, 1, why, sizeof(why)), 0);
	assert_int_equal(sbx_logfile_append(&lf, "late\n", 5), 0);
	assert_int_equal(sbx_logfollow_read(&f, fd), 0);
	out = fd_text(fd, &n);
	assert_string_equal(out, "late\n");
	free(out);
	sbx_logfollow_close(&f);
	sbx_logfile_close(&lf);
	close(fd);
}

/* An emit that takes chunks into a buffer and refuses while busy is set, as
 * a client's queue that is full. */
struct sink {
	char buf[65536];
	size_t len;
	bool busy;
};

static int sink_emit(void *ctx, const void *buf, size_t len)
{
	struct sink *k = ctx;

	if (k->busy)
		return -EAGAIN;
	assert_true(k->len + len <= sizeof(k->buf));
	memcpy(k->buf + k->len, buf, len);
	k->len += len;
	return 0;
}

static void test_follow_offers_refused_bytes_again(void **state)
{
	struct sbx_logfollow f;
	struct sbx_logfile lf;
	struct sink k = { .len = 0 };
	char why[256];

	assert_int_equal(sbx_logfile_open(&lf, logp, 4096, 2, why, sizeof(why)), 0);
	assert_int_equal(sbx_logfile_append(&lf, "a\n", 2), 0);
	assert_int_equal(sbx_logfollow_start(&f, logp, 2, -1, sink_emit, &k, why, sizeof(why)), 0);
	assert_int_equal(sbx_logfile_append(&lf, "b\n", 2), 0);
	k.busy = true;
	assert_int_equal(sbx_logfollow_pump(&f, sink_emit, &k), -EAGAIN);
	k.busy = false;
	assert_int_equal(sbx_logfile_append(&lf, "c\n", 2), 0);
	assert_int_equal(sbx_logfollow_pump(&f, sink_emit, &k), 0);
	assert_int_equal(k.len, 6);
	assert_memory_equal(k.buf, "a\nb\nc\n", 6);
	sbx_logfollow_close(&f);
	sbx_logfile_close(&lf);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rotation_keeps_files_bounded_and_an_exact_suffix),
		T(test_rotated_files_begin_at_a_line),
		T(test_keep_zero_keeps_only_the_current_file),
		T(test_a_line_longer_than_a_file_is_cut_not_lost),
		T(test_reopen_appends_and_counts_the_existing_size),
		T(test_new_file_is_0640_whatever_the_umask),
		T(test_symlink_is_refused),
		T(test_hard_link_and_fifo_are_refused),
		T(test_failed_write_is_counted_and_the_log_goes_on),
		T(test_bad_bounds_are_refused),
		T(test_tail_spans_rotated_files_in_order),
		T(test_tail_of_more_lines_than_kept_prints_all_kept),
		T(test_tail_counts_a_last_line_without_newline),
		T(test_tail_of_no_log_is_enoent),
		T(test_follow_forwards_new_bytes_after_the_tail),
		T(test_follow_survives_a_rotation_per_read),
		T(test_follow_survives_several_rotations_between_reads),
		T(test_follow_survives_rotation_with_keep_zero),
		T(test_follow_wakes_the_inotify_fd),
		T(test_follow_before_the_log_exists),
		T(test_follow_offers_refused_bytes_again),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
