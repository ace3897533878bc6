/* SPDX-License-Identifier: MIT */
/* Unit tests for the shared toolbox: cleanup helpers and sbx_fail
 * (user/util/util.h), mkdir -p, the mountinfo parser and the cgroup subtree
 * walk (which works on any directory tree, so no cgroup is needed). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "kernel/cgroup.h"
#include "kernel/mountinfo.h"
#include "util/util.h"

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* ---- cleanup ----------------------------------------------------------- */

static int opened_fd;

static void scope_with_fd(void)
{
	_cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	opened_fd = fd;
}

static void test_cleanup_close_closes_at_scope_end(void **state)
{
	scope_with_fd();
	assert_false(fd_is_open(opened_fd));
}

static int take_fd_out(void)
{
	_cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	return TAKE_FD(fd);
}

static void test_take_fd_keeps_it_open_and_leaves_minus_one(void **state)
{
	int fd = take_fd_out(), copy = fd, taken;

	assert_true(fd_is_open(fd));
	taken = TAKE_FD(copy);
	assert_int_equal(taken, fd);
	assert_int_equal(copy, -1);
	close(fd);
}

static char *take_ptr_out(void)
{
	_cleanup_free_ char *s = strdup("kept");

	assert_non_null(s);
	return TAKE_PTR(s);	/* ASan reports a use-after-free if this freed it */
}

static void test_take_ptr_hands_ownership_on(void **state)
{
	char *s = take_ptr_out();

	assert_string_equal(s, "kept");
	free(s);
}

static void test_destructors_accept_empty_values(void **state)
{
	_cleanup_free_ char *p = NULL;
	_cleanup_close_ int fd = -1;
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_closedir_ DIR *d = NULL;

	errno = EXDEV;
	{
		_cleanup_close_ int inner = -1;
		(void)inner;
	}
	assert_int_equal(errno, EXDEV);	/* destructors keep errno */
	(void)p, (void)fd, (void)f, (void)d;
}

static void test_fclose_and_closedir_release(void **state)
{
	int before = open("/dev/null", O_RDONLY | O_CLOEXEC), after;

	close(before);
	{
		_cleanup_fclose_ FILE *f = fopen("/dev/null", "re");
		_cleanup_closedir_ DIR *d = opendir("/");

		assert_non_null(f);
		assert_non_null(d);
	}
	/* both descriptors were released: the lowest free one is free again */
	after = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_equal(after, before);
	close(after);
}

/* ---- sbx_fail ---------------------------------------------------------- */

static int fails_with(char *why, size_t len)
{
	return sbx_fail(why, len, -EINVAL, "veth address '%s' is not %s", "10.0.0.300", "IPv4");
}

static void test_fail_fills_why_and_returns_err(void **state)
{
	char why[64] = "old";

	assert_int_equal(fails_with(why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "veth address '10.0.0.300' is not IPv4");
}

static void test_fail_accepts_null_why(void **state)
{
	char why[4] = "old";

	assert_int_equal(fails_with(NULL, 64), -EINVAL);
	assert_int_equal(fails_with(why, 0), -EINVAL);
	assert_string_equal(why, "old");
}

static void test_fail_truncates_to_len(void **state)
{
	char why[8];

	assert_int_equal(sbx_fail(why, sizeof(why), -ENOENT, "%s", "0123456789"), -ENOENT);
	assert_string_equal(why, "0123456");
}

static void test_fail_keeps_errno(void **state)
{
	char why[32];

	errno = EACCES;
	sbx_fail(why, sizeof(why), -EPERM, "open %s: %s", "x", strerror(errno));
	assert_int_equal(errno, EACCES);
	assert_string_equal(why, "open x: Permission denied");
}

/* ---- mkdir -p ---------------------------------------------------------- */

struct tmp {
	char dir[64];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	snprintf(t->dir, sizeof(t->dir), "/tmp/sbx-test-util-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	*state = t;
	return 0;
}

static int rm_rf(const char *path)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	return system(cmd);
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;

	rm_rf(t->dir);
	free(t);
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_mkdir_p_makes_missing_parents(void **state)
{
	struct tmp *t = *state;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/a/b//c/", t->dir);
	assert_int_equal(sbx_mkdir_p(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/a/b/c", t->dir);
	assert_true(is_dir(path));
	assert_int_equal(sbx_mkdir_p(path, 0700), 0);	/* again: nothing to do */
}

static void test_mkdir_p_reports_a_file_in_the_way(void **state)
{
	struct tmp *t = *state;
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/file", t->dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/file/sub/dir", t->dir);
	assert_int_equal(sbx_mkdir_p(path, 0700), -ENOTDIR);
	assert_int_equal(errno, ENOTDIR);
}

static void test_mkdir_p_refuses_empty_and_too_long(void **state)
{
	char *path = malloc(PATH_MAX + 2);

	assert_int_equal(sbx_mkdir_p("", 0700), -EINVAL);
	memset(path, 'a', PATH_MAX + 1);
	path[0] = '/';
	path[PATH_MAX + 1] = 0;
	assert_int_equal(sbx_mkdir_p(path, 0700), -ENAMETOOLONG);
	free(path);
}

/* ---- mountinfo --------------------------------------------------------- */

static void test_mountinfo_parses_fields_after_optional_ones(void **state)
{
	char line[] = "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:7 - ext3 /dev/root "
		      "rw,errors=continue\n";
	struct sbx_mount m;

	assert_int_equal(sbx_mountinfo_parse(line, &m), 0);
	assert_int_equal(m.id, 36);
	assert_int_equal(m.major, 98);
	assert_int_equal(m.minor, 0);
	assert_string_equal(m.root, "/mnt1");
	assert_string_equal(m.point, "/mnt2");
	assert_string_equal(m.fstype, "ext3");
	assert_string_equal(m.source, "/dev/root");
	assert_string_equal(m.super_opts, "rw,errors=continue");
}

static void test_mountinfo_decodes_octal_escapes(void **state)
{
	char line[] = "40 25 0:35 / /sys/fs/cgroup/my\\040cpu rw - cgroup cgroup rw,cpu,cpuacct";
	struct sbx_mount m;

	assert_int_equal(sbx_mountinfo_parse(line, &m), 0);
	assert_string_equal(m.point, "/sys/fs/cgroup/my cpu");
	assert_string_equal(m.fstype, "cgroup");
	assert_string_equal(m.super_opts, "rw,cpu,cpuacct");
}

static void test_mountinfo_rejects_malformed_lines(void **state)
{
	char no_sep[] = "36 35 98:0 / /mnt rw ext3 /dev/root rw";
	char short_line[] = "36 35 98:0 /";
	char no_opts[] = "36 35 98:0 / /mnt rw - ext3 /dev/root";
	char empty[] = "\n";
	char bad_dev[] = "36 35 98 / /mnt rw - ext3 /dev/root rw";
	struct sbx_mount m;

	assert_int_equal(sbx_mountinfo_parse(no_sep, &m), -EINVAL);
	assert_int_equal(sbx_mountinfo_parse(short_line, &m), -EINVAL);
	assert_int_equal(sbx_mountinfo_parse(no_opts, &m), -EINVAL);
	assert_int_equal(sbx_mountinfo_parse(empty, &m), -EINVAL);
	assert_int_equal(sbx_mountinfo_parse(bad_dev, &m), -EINVAL);
}

static int find_proc(const struct sbx_mount *m, void *arg)
{
	return !strcmp(m->point, "/proc") && !strcmp(m->fstype, "proc");
}

static void test_mountinfo_each_finds_proc_and_stops(void **state)
{
	/* /proc is mounted: the table is readable through it */
	assert_int_equal(sbx_mountinfo_each(find_proc, NULL), 1);
}

/* ---- cgroup subtree walk ----------------------------------------------- */

struct visits {
	char seen[8][PATH_MAX];
	int n;
	int fail_at;	/* 1-based visit that fails with -EIO, 0: none */
};

static int record(int dirfd, const char *name, void *arg)
{
	struct visits *v = arg;
	char link[64], dir[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	n = readlink(link, dir, sizeof(dir) - 1);
	assert_true(n > 0);
	dir[n] = 0;
	if (v->n < 8)
		snprintf(v->seen[v->n], PATH_MAX, "%s/%s", strcmp(dir, "/") ? dir : "", name);
	return ++v->n == v->fail_at ? -EIO : 1;
}

static int rmdir_counted(int dirfd, const char *name, void *arg)
{
	(*(int *)arg)++;
	return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

static int index_of(const struct visits *v, const char *dir, const char *rel)
{
	char want[PATH_MAX];

	snprintf(want, sizeof(want), "%s%s", dir, rel);
	for (int i = 0; i < v->n; i++)
		if (!strcmp(v->seen[i], want))
			return i;
	return -1;
}

static void make_tree(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/a/a1", dir);
	assert_int_equal(sbx_mkdir_p(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/b", dir);
	assert_int_equal(sbx_mkdir_p(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/file", dir);
	close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
}

static void test_walk_visits_children_before_parents(void **state)
{
	struct tmp *t = *state;
	struct visits v = {};

	make_tree(t->dir);
	assert_int_equal(sbx_cgroup_walk(t->dir, record, &v), 4);	/* sum of fn's results */
	assert_int_equal(v.n, 4);	/* dir, a, a/a1, b: not the file */
	assert_true(index_of(&v, t->dir, "/a/a1") < index_of(&v, t->dir, "/a"));
	assert_true(index_of(&v, t->dir, "/a") >= 0 && index_of(&v, t->dir, "/b") >= 0);
	assert_int_equal(index_of(&v, t->dir, ""), 3);
}

static void test_walk_visits_all_and_returns_the_first_error(void **state)
{
	struct tmp *t = *state;
	struct visits v = { .fail_at = 1 };

	make_tree(t->dir);
	assert_int_equal(sbx_cgroup_walk(t->dir, record, &v), -EIO);
	assert_int_equal(v.n, 4);
}

static void test_walk_of_a_missing_tree_is_empty(void **state)
{
	struct tmp *t = *state;
	struct visits v = {};
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/gone", t->dir);
	assert_int_equal(sbx_cgroup_walk(path, record, &v), 0);
	assert_int_equal(v.n, 0);
}

/* A workload's sub-cgroups: deeper than any fixed limit, with a path longer
 * than PATH_MAX, and names starting with '.': all visited, all removable. */
static void test_walk_has_no_depth_or_path_limit(void **state)
{
	struct tmp *t = *state;
	char name[201];
	int fd, next, n = 0, depth = 300;

	memset(name, 'd', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	fd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	for (int i = 0; i < depth; i++) {
		const char *sub = i % 2 ? ".hidden" : name;

		assert_int_equal(mkdirat(fd, sub, 0700), 0);
		next = openat(fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(next >= 0);
		close(fd);
		fd = next;
	}
	close(fd);
	assert_int_equal(sbx_cgroup_walk(t->dir, rmdir_counted, &n), 0);
	assert_int_equal(n, depth + 1);
	assert_int_equal(access(t->dir, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(mkdir(t->dir, 0700), 0);	/* for the fixture's teardown */
}

/* A zombie is dead for the owner checks (a manager reparented to a
 * subreaper that has not reaped it yet must not keep its slot). */
static void test_proc_start_time_of_live_zombie_and_reaped(void **state)
{
	int pfd[2];
	pid_t pid;
	char c;

	(void)state;
	assert_true(sbx_proc_start_time(getpid()) > 0);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		_exit(0);
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &c, 1), 0);	/* EOF: the child is gone */
	close(pfd[0]);
	for (int i = 0; i < 1000 && sbx_proc_start_time(pid); i++)
		usleep(1000);		/* exit_notify may trail the EOF a little */
	assert_int_equal(sbx_proc_start_time(pid), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(sbx_proc_start_time(pid), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cleanup_close_closes_at_scope_end),
		cmocka_unit_test(test_proc_start_time_of_live_zombie_and_reaped),
		cmocka_unit_test(test_take_fd_keeps_it_open_and_leaves_minus_one),
		cmocka_unit_test(test_take_ptr_hands_ownership_on),
		cmocka_unit_test(test_destructors_accept_empty_values),
		cmocka_unit_test(test_fclose_and_closedir_release),
		cmocka_unit_test(test_fail_fills_why_and_returns_err),
		cmocka_unit_test(test_fail_accepts_null_why),
		cmocka_unit_test(test_fail_truncates_to_len),
		cmocka_unit_test(test_fail_keeps_errno),
		cmocka_unit_test_setup_teardown(test_mkdir_p_makes_missing_parents, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p_reports_a_file_in_the_way, tmp_setup,
						tmp_teardown),
		cmocka_unit_test(test_mkdir_p_refuses_empty_and_too_long),
		cmocka_unit_test(test_mountinfo_parses_fields_after_optional_ones),
		cmocka_unit_test(test_mountinfo_decodes_octal_escapes),
		cmocka_unit_test(test_mountinfo_rejects_malformed_lines),
		cmocka_unit_test(test_mountinfo_each_finds_proc_and_stops),
		cmocka_unit_test_setup_teardown(test_walk_visits_children_before_parents, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_walk_visits_all_and_returns_the_first_error,
						tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_walk_has_no_depth_or_path_limit, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_walk_of_a_missing_tree_is_empty, tmp_setup,
						tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
