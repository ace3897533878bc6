/* SPDX-License-Identifier: MIT */
/* Unit tests for the shared audit log (user/core/auditlog.h): the rotation
 * chain, the keep limit, reopening after an external rename, refusal of
 * links, and many writer processes rotating one log with no line lost,
 * repeated or split. Everything happens in a temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "core/auditlog.h"

static char dir[PATH_MAX];
static char logp[PATH_MAX + 16];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/sbx-test-auditlog-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(logp, sizeof(logp), "%s/audit.jsonl", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *path, size_t *ret_len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	assert_int_equal(fstat(fd, &st), 0);
	buf = calloc(1, (size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*ret_len = (size_t)st.st_size;
	return buf;
}

static char *rotated(unsigned i)
{
	static char p[PATH_MAX + 32];

	if (i)
		snprintf(p, sizeof(p), "%s.%u", logp, i);
	else
		snprintf(p, sizeof(p), "%s", logp);
	return p;
}

static bool exists(const char *p)
{
	return access(p, F_OK) == 0;
}

/* A batch of n lines "W-K\n" for writer w, lines k0.. */
static size_t batch(char *buf, size_t cap, int w, int k0, int n)
{
	size_t len = 0;

	for (int k = k0; k < k0 + n; k++)
		len += (size_t)snprintf(buf + len, cap - len, "{\"w\":%d,\"k\":%d,\"pad\":\"%040d\"}\n", w, k, 0);
	return len;
}

static void test_rotation_chain_and_keep_limit(void **state)
{
	struct sbx_auditlog l;
	char why[256], buf[8192];
	size_t len;

	assert_int_equal(sbx_auditlog_open(&l, logp, 4096, 3, why, sizeof(why)), 0);
	/* 4 KiB per batch of ~70-byte lines: every batch fills a file */
	for (int i = 0; i < 6; i++) {
		len = batch(buf, sizeof(buf), 0, i * 70, 70);
		assert_true(len >= 4096);
		assert_int_equal(sbx_auditlog_write(&l, buf, len), 0);
	}
	assert_int_equal(l.rotations, 6);
	/* the current file is new and empty; .1 .. .3 hold the last three */
	struct stat st;
	assert_int_equal(stat(logp, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	for (unsigned i = 1; i <= 3; i++) {
		char *text = slurp(rotated(i), &len), want[64];

		assert_non_null(text);
		/* .1 is the newest: batch 5, .3 batch 3 */
		snprintf(want, sizeof(want), "{\"w\":0,\"k\":%u,", (6 - i) * 70);
		assert_memory_equal(text, want, strlen(want));
		free(text);
	}
	assert_false(exists(rotated(4)));
	sbx_auditlog_close(&l);
}

static void test_rotated_file_ends_with_the_batch_that_fills_it(void **state)
{
	struct sbx_auditlog l;
	char why[256], buf[8192];
	size_t len, total = 0, got;

	assert_int_equal(sbx_auditlog_open(&l, logp, 4096, 5, why, sizeof(why)), 0);
	for (int i = 0; total < 4096; i++) {
		len = batch(buf, sizeof(buf), 0, i * 10, 10);
		assert_int_equal(sbx_auditlog_write(&l, buf, len), 0);
		total += len;
	}
	char *text = slurp(rotated(1), &got);
	assert_non_null(text);
	assert_int_equal(got, total);	/* every batch in one file, not cut at 4096 */
	assert_int_equal(text[got - 1], '\n');
	free(text);
	sbx_auditlog_close(&l);
}

/* A holder of the lock that never lets go (anyone who can open the lock
 * file, read only: a root workload that sees the log) costs one bounded wait,
 * not the writer: the batch goes in without the lock and no rotation; later
 * batches do not wait while it stays held, and the lock is used again once
 * it is free. */
static void test_lock_held_forever_is_not_waited_for(void **state)
{
	struct sbx_auditlog l;
	char why[256], buf[8192], lockp[PATH_MAX + 32];
	size_t len = batch(buf, sizeof(buf), 0, 0, 70), got;
	struct timespec a, b;
	int holder;
	char *text;

	assert_int_equal(sbx_auditlog_open(&l, logp, 4096, 2, why, sizeof(why)), 0);
	snprintf(lockp, sizeof(lockp), "%s.lock", logp);
	holder = open(lockp, O_RDONLY | O_CLOEXEC);	/* another open file: flock conflicts */
	assert_true(holder >= 0);
	assert_int_equal(flock(holder, LOCK_EX), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(sbx_auditlog_write(&l, buf, len), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true(b.tv_sec - a.tv_sec < 3);
	assert_int_equal(l.unlocked, 1);
	assert_false(exists(rotated(1)));	/* no rotation without the lock */
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(sbx_auditlog_write(&l, buf, len), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	/* no second wait */
	assert_true((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < SBX_AUDIT_LOCK_WAIT_MS / 2);
	assert_int_equal(l.unlocked, 2);
	text = slurp(logp, &got);
	assert_non_null(text);
	assert_int_equal(got, 2 * len);
	free(text);
	/* free again: locked writes, and the file over its bound rotates */
	close(holder);
	assert_int_equal(sbx_auditlog_write(&l, buf, len), 0);
	assert_int_equal(l.unlocked, 2);
	assert_true(exists(rotated(1)));
	sbx_auditlog_close(&l);
}

static void test_keep_zero_drops_the_full_file(void **state)
{
	struct sbx_auditlog l;
	char why[256], buf[8192];
	size_t len = batch(buf, sizeof(buf), 0, 0, 70);

	assert_int_equal(sbx_auditlog_open(&l, logp, 4096, 0, why, sizeof(why)), 0);
	assert_int_equal(sbx_auditlog_write(&l, buf, len), 0);
	assert_false(exists(rotated(1)));
	assert_true(exists(logp));
	sbx_auditlog_close(&l);
}

static void test_max_size_zero_never_rotates(void **state)
{
	struct sbx_auditlog l;
	char why[256], buf[8192];
	size_t len = batch(buf, sizeof(buf), 0, 0, 70);

	assert_int_equal(sbx_auditlog_open(&l, logp, 0, 3, why, sizeof(why)), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(sbx_auditlog_write(&l, buf, len), 0);
	assert_false(exists(rotated(1)));
	sbx_auditlog_close(&l);
}

static void test_reopens_after_an_external_rename(void **state)
{
	struct sbx_auditlog l;
	char why[256], moved[PATH_MAX + 32];
	size_t len;
	char *a, *b;

	assert_int_equal(sbx_auditlog_open(&l, logp, 0, 3, why, sizeof(why)), 0);
	assert_int_equal(sbx_auditlog_write(&l, "a\n", 2), 0);
	/* as logrotate does, with a date suffix */
	snprintf(moved, sizeof(moved), "%s-20261207", logp);
	assert_int_equal(rename(logp, moved), 0);
	assert_int_equal(sbx_auditlog_write(&l, "b\n", 2), 0);
	assert_int_equal(l.reopens, 1);
	a = slurp(moved, &len);
	assert_non_null(a);
	assert_int_equal(len, 2);
	assert_memory_equal(a, "a\n", 2);
	b = slurp(logp, &len);
	assert_non_null(b);
	assert_int_equal(len, 2);
	assert_memory_equal(b, "b\n", 2);
	free(a);
	free(b);
	struct stat st;
	assert_int_equal(stat(logp, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	sbx_auditlog_close(&l);
}

static void test_reopen_after_sighup_follows_the_path(void **state)
{
	struct sbx_auditlog l;
	char why[256], moved[PATH_MAX + 32];
	size_t len;
	char *b;

	assert_int_equal(sbx_auditlog_open(&l, logp, 0, 3, why, sizeof(why)), 0);
	snprintf(moved, sizeof(moved), "%s.old", logp);
	assert_int_equal(rename(logp, moved), 0);
	sbx_auditlog_reopen(&l);
	assert_int_equal(sbx_auditlog_write(&l, "c\n", 2), 0);
	b = slurp(logp, &len);
	assert_non_null(b);
	assert_int_equal(len, 2);
	free(b);
	sbx_auditlog_close(&l);
}

static void test_symlinked_log_is_refused(void **state)
{
	struct sbx_auditlog l;
	char why[256], target[PATH_MAX + 16];

	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	assert_int_equal(symlink(target, logp), 0);
	assert_int_equal(sbx_auditlog_open(&l, logp, 4096, 3, why, sizeof(why)), -ELOOP);
	assert_non_null(strstr(why, "audit.jsonl"));
	assert_false(exists(target));
}

static void test_symlink_planted_after_open_is_refused(void **state)
{
	struct sbx_auditlog l;
	char why[256], target[PATH_MAX + 16];

	assert_int_equal(sbx_auditlog_open(&l, logp, 0, 3, why, sizeof(why)), 0);
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	assert_int_equal(unlink(logp), 0);
	assert_int_equal(symlink(target, logp), 0);
	assert_int_equal(sbx_auditlog_write(&l, "x\n", 2), -ELOOP);
	assert_false(exists(target));
	sbx_auditlog_close(&l);
}

static void test_symlinked_lock_file_is_refused(void **state)
{
	struct sbx_auditlog l;
	char why[256], target[PATH_MAX + 16], lockp[PATH_MAX + 32];

	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	snprintf(lockp, sizeof(lockp), "%s.lock", logp);
	assert_int_equal(symlink(target, lockp), 0);
	assert_int_equal(sbx_auditlog_open(&l, logp, 4096, 3, why, sizeof(why)), -ELOOP);
	assert_false(exists(target));
}

static void test_bad_settings_are_refused(void **state)
{
	struct sbx_auditlog l;
	char why[256];
	uint64_t m;
	unsigned k;

	assert_int_equal(sbx_auditlog_open(&l, logp, 100, 3, why, sizeof(why)), -EINVAL);
	assert_int_equal(sbx_auditlog_open(&l, logp, 4096, 1000, why, sizeof(why)), -EINVAL);
	assert_int_equal(sbx_auditlog_parse_size("0", &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(sbx_auditlog_parse_size("64M", &m), 0);
	assert_int_equal(m, 64ull << 20);
	assert_int_equal(sbx_auditlog_parse_size("1K", &m), -EINVAL);
	assert_int_equal(sbx_auditlog_parse_size("lots", &m), -EINVAL);
	assert_int_equal(sbx_auditlog_parse_keep("7", &k), 0);
	assert_int_equal(k, 7);
	assert_int_equal(sbx_auditlog_parse_keep("-1", &k), -EINVAL);
	assert_int_equal(sbx_auditlog_parse_keep("1000", &k), -EINVAL);
	setenv("SBX_AUDIT_MAX_SIZE", "12", 1);
	assert_int_equal(sbx_auditlog_env(&m, &k, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "SBX_AUDIT_MAX_SIZE='12'"));
	setenv("SBX_AUDIT_MAX_SIZE", "8K", 1);
	setenv("SBX_AUDIT_KEEP", "x", 1);
	assert_int_equal(sbx_auditlog_env(&m, &k, why, sizeof(why)), -EINVAL);
	setenv("SBX_AUDIT_KEEP", "12", 1);
	assert_int_equal(sbx_auditlog_env(&m, &k, why, sizeof(why)), 0);
	assert_int_equal(m, 8192);
	assert_int_equal(k, 12);
	unsetenv("SBX_AUDIT_MAX_SIZE");
	unsetenv("SBX_AUDIT_KEEP");
	assert_int_equal(sbx_auditlog_env(&m, &k, why, sizeof(why)), 0);
	assert_int_equal(m, SBX_AUDIT_MAX_SIZE_DEFAULT);
	assert_int_equal(k, SBX_AUDIT_KEEP_DEFAULT);
}

#define WRITERS 4
#define BATCHES 200
#define PER_BATCH 7

static void writer(int w)
{
	struct sbx_auditlog l;
	char why[256], buf[4096];

	if (sbx_auditlog_open(&l, logp, 4096, 999, why, sizeof(why)) < 0)
		_exit(2);
	for (int b = 0; b < BATCHES; b++) {
		size_t len = batch(buf, sizeof(buf), w, b * PER_BATCH, PER_BATCH);

		if (sbx_auditlog_write(&l, buf, len) < 0)
			_exit(3);
	}
	sbx_auditlog_close(&l);
	_exit(0);
}

/* Each line once across all files, every file of whole lines, each writer's
 * lines in order within and across files (oldest file first). */
static void test_concurrent_writers_lose_repeat_and_split_nothing(void **state)
{
	static int next[WRITERS];
	unsigned files = 0;
	pid_t pids[WRITERS];

	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0)
			writer(w);
	}
	for (int w = 0; w < WRITERS; w++) {
		int st;

		assert_int_equal(waitpid(pids[w], &st, 0), pids[w]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	while (exists(rotated(files + 1)))
		files++;
	assert_true(files >= 10);
	memset(next, 0, sizeof(next));
	for (unsigned i = files + 1; i-- > 0;) {
		size_t len;
		char *text = slurp(rotated(i), &len), *line, *save = NULL;

		assert_non_null(text);
		if (len)
			assert_int_equal(text[len - 1], '\n');
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			int w, k;

			assert_int_equal(sscanf(line, "{\"w\":%d,\"k\":%d,", &w, &k), 2);
			assert_true(w >= 0 && w < WRITERS);
			assert_int_equal(k, next[w]);
			next[w]++;
		}
		free(text);
	}
	for (int w = 0; w < WRITERS; w++)
		assert_int_equal(next[w], BATCHES * PER_BATCH);
}

struct sink {
	char buf[4 << 20];
	size_t len;
};

static int sink_emit(void *ctx, const void *buf, size_t len)
{
	struct sink *k = ctx;

	assert_true(k->len + len <= sizeof(k->buf));
	memcpy(k->buf + k->len, buf, len);
	k->len += len;
	return 0;
}

/* The lines of k are exactly w=0, k=from..to-1 in order. */
static void assert_lines(const struct sink *k, int from, int to)
{
	char want[128];
	size_t off = 0;

	for (int i = from; i < to; i++) {
		size_t n = (size_t)snprintf(want, sizeof(want), "{\"w\":0,\"k\":%d,\"pad\":\"%040d\"}\n", i, 0);

		if (off + n > k->len) fprintf(stderr, "line %d: have %zu bytes, off %zu\n", i, k->len, off);
		assert_true(off + n <= k->len);
		assert_memory_equal(k->buf + off, want, n);
		off += n;
	}
	assert_int_equal(off, k->len);
}

static void test_follow_survives_many_rotations_between_pumps(void **state)
{
	static struct sink k;
	struct sbx_auditfollow f;
	struct sbx_auditlog l;
	char why[256], buf[8192];
	int next = 0;

	k.len = 0;
	assert_int_equal(sbx_auditlog_open(&l, logp, 4096, 20, why, sizeof(why)), 0);
	/* lines before the start are not followed */
	assert_int_equal(sbx_auditlog_write(&l, buf, batch(buf, sizeof(buf), 0, 0, 70)), 0);
	next = 70;
	assert_int_equal(sbx_auditfollow_start(&f, logp, why, sizeof(why)), 0);
	for (int round = 0; round < 4; round++) {
		/* 0, 1, 2 and 3 rotations between two pumps, partial files too */
		for (int b = 0; b < round * 3 + 1; b++) {
			assert_int_equal(sbx_auditlog_write(&l, buf, batch(buf, sizeof(buf), 0, next, 23)), 0);
			next += 23;
		}
		assert_int_equal(sbx_auditfollow_pump(&f, sink_emit, &k), 0);
		assert_lines(&k, 70, next);
	}
	assert_true(l.rotations >= 5);
	sbx_auditfollow_close(&f);
	sbx_auditlog_close(&l);
}

static void test_follow_survives_an_external_rename(void **state)
{
	static struct sink k;
	struct sbx_auditfollow f;
	struct sbx_auditlog l;
	char why[256], buf[8192], moved[PATH_MAX + 32];
	size_t n;

	k.len = 0;
	assert_int_equal(sbx_auditfollow_start(&f, logp, why, sizeof(why)), 0);	/* no log yet */
	assert_int_equal(sbx_auditlog_open(&l, logp, 0, 3, why, sizeof(why)), 0);
	n = batch(buf, sizeof(buf), 0, 0, 10);
	assert_int_equal(sbx_auditlog_write(&l, buf, n), 0);
	assert_int_equal(sbx_auditfollow_pump(&f, sink_emit, &k), 0);
	assert_lines(&k, 0, 10);
	/* logrotate with dateext, then more lines: into the new file */
	snprintf(moved, sizeof(moved), "%s-20261207", logp);
	assert_int_equal(rename(logp, moved), 0);
	assert_int_equal(sbx_auditlog_write(&l, buf, batch(buf, sizeof(buf), 0, 10, 10)), 0);
	assert_int_equal(sbx_auditfollow_pump(&f, sink_emit, &k), 0);
	assert_lines(&k, 0, 20);
	/* and the built-in rotation after it: .1 is news, the dateext file is not */
	l.max_size = 4096;
	assert_int_equal(sbx_auditlog_write(&l, buf, batch(buf, sizeof(buf), 0, 20, 70)), 0);
	assert_int_equal(sbx_auditlog_write(&l, buf, batch(buf, sizeof(buf), 0, 90, 5)), 0);
	assert_int_equal(sbx_auditfollow_pump(&f, sink_emit, &k), 0);
	assert_lines(&k, 0, 95);
	sbx_auditfollow_close(&f);
	sbx_auditlog_close(&l);
}

/* Writers rotating, a logrotate renaming to date names meanwhile, and a
 * follower pumping all along: it sees every line once. */
static void test_follow_under_concurrent_writers_and_renames(void **state)
{
	static struct sink k;
	static int next[WRITERS];
	struct sbx_auditfollow f;
	char why[256], moved[PATH_MAX + 32];
	pid_t pids[WRITERS];
	int done = 0, renames = 0, iter = 0;

	k.len = 0;
	assert_int_equal(sbx_auditfollow_start(&f, logp, why, sizeof(why)), 0);
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0)
			writer(w);
	}
	while (done < WRITERS) {
		int st;

		if (waitpid(-1, &st, WNOHANG) > 0)
			done++;
		assert_int_equal(sbx_auditfollow_pump(&f, sink_emit, &k), 0);
		/* now and then a file it has not opened yet goes too */
		if (++iter % 3 == 0 && renames < 60) {
			snprintf(moved, sizeof(moved), "%s-%04d", logp, renames++);
			rename(logp, moved);	/* ENOENT between a rename and the next batch */
		}
		usleep(1000);
	}
	assert_int_equal(sbx_auditfollow_pump(&f, sink_emit, &k), 0);
	/* a writer's batch that went into a renamed file late comes with the next pump */
	assert_int_equal(sbx_auditfollow_pump(&f, sink_emit, &k), 0);
	memset(next, 0, sizeof(next));
	k.buf[k.len] = 0;
	int count[WRITERS][BATCHES * PER_BATCH] = { { 0 } };
	char *save = NULL;
	for (char *line = strtok_r(k.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int w, i;

		assert_int_equal(sscanf(line, "{\"w\":%d,\"k\":%d,", &w, &i), 2);
		count[w][i]++;
	}
	for (int w = 0; w < WRITERS; w++)
		for (int i = 0; i < BATCHES * PER_BATCH; i++)
			if (count[w][i] != 1)
				fail_msg("writer %d line %d seen %d times", w, i, count[w][i]);
	sbx_auditfollow_close(&f);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rotation_chain_and_keep_limit),
		T(test_rotated_file_ends_with_the_batch_that_fills_it),
		T(test_keep_zero_drops_the_full_file),
		T(test_max_size_zero_never_rotates),
		T(test_lock_held_forever_is_not_waited_for),
		T(test_reopens_after_an_external_rename),
		T(test_reopen_after_sighup_follows_the_path),
		T(test_symlinked_log_is_refused),
		T(test_symlink_planted_after_open_is_refused),
		T(test_symlinked_lock_file_is_refused),
		T(test_bad_settings_are_refused),
		T(test_concurrent_writers_lose_repeat_and_split_nothing),
		T(test_follow_survives_many_rotations_between_pumps),
		T(test_follow_survives_an_external_rename),
		T(test_follow_under_concurrent_writers_and_renames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
