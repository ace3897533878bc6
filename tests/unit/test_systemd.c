/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for user/kernel/systemd.c without systemd: the scope's unit
 * name from the instance, socket activation (sbx_systemd_listen_fd: the fd
 * of LISTEN_FDS, checked to be a listening unix stream socket, the
 * variables unset afterwards) and a cgroup id that is removed
 * (kernel/cgroup.c sbx_cgroup_id_exists, which tells a pinned setup whose
 * systemd scope went away). The scope itself is tested with systemd as
 * PID 1 in tests/vm/test_systemd.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "testutil.h"
#include "kernel/cgroup.h"
#include "kernel/systemd.h"

static void test_scope_name_from_instance(void **state)
{
	char buf[64];

	assert_int_equal(sbx_systemd_scope_name("sbx", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sbx-sbx.scope");
	assert_int_equal(sbx_systemd_scope_name("a.b_c-1", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sbx-a.b_c-1.scope");
	assert_int_equal(sbx_systemd_scope_name("a/b", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sbx_systemd_scope_name("", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(sbx_systemd_scope_name("long-instance", buf, 8), -ENAMETOOLONG);
}

/* Puts fd at 3 (SD_LISTEN_FDS_START) with LISTEN_PID/LISTEN_FDS for us. */
static void pass_fd(int fd)
{
	char pid[16];

	if (fd != 3) {
		assert_true(dup2(fd, 3) == 3);
		close(fd);
	}
	snprintf(pid, sizeof(pid), "%d", getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
}

static void test_listen_fd_inherited_socket(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	/* abstract name: nothing to clean up on disk */
	snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "sbx-unit-listen-%d", getpid());
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	pass_fd(fd);
	assert_int_equal(sbx_systemd_listen_fd(), 3);
	/* unset for children: a second look finds nothing */
	assert_null(getenv("LISTEN_FDS"));
	assert_int_equal(sbx_systemd_listen_fd(), -ENOENT);
	close(3);
}

static void test_listen_fd_not_a_listening_socket(void **state)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	pass_fd(fd);
	assert_int_equal(sbx_systemd_listen_fd(), -EBADF);
	close(3);
}

static void test_listen_fd_none_passed(void **state)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	assert_int_equal(sbx_systemd_listen_fd(), -ENOENT);
}

static void test_cgroup_id_exists_until_removed(void **state)
{
	char mnt[PATH_MAX], self[PATH_MAX], dir[PATH_MAX * 2 + 64];
	uint64_t id;

	if (geteuid() != 0 || sbx_cgroup2_mount(mnt, sizeof(mnt)) < 0 ||
	    sbx_cgroup2_self(self, sizeof(self)) < 0)
		SKIP_BECAUSE("needs root and a cgroup2 mount");
	/* beneath the cgroup this test runs in: nobody else's */
	snprintf(dir, sizeof(dir), "%s%s/sbx-unit-idtest-%d", mnt, strcmp(self, "/") ? self : "",
		 getpid());
	if (mkdir(dir, 0755) < 0)
		SKIP_BECAUSE("cannot make a cgroup in %s: %s", mnt, strerror(errno));
	assert_int_equal(sbx_cgroup_id(dir, &id), 0);
	assert_int_equal(sbx_cgroup_id_exists(id), 1);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(sbx_cgroup_id_exists(id), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scope_name_from_instance),
		cmocka_unit_test(test_listen_fd_inherited_socket),
		cmocka_unit_test(test_listen_fd_not_a_listening_socket),
		cmocka_unit_test(test_listen_fd_none_passed),
		cmocka_unit_test(test_cgroup_id_exists_until_removed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
