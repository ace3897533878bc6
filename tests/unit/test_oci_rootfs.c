/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the pure parts of sbx-oci's container setup (user/oci/
 * inside.h): paths resolved inside a root (in a temporary directory, no
 * privilege needed), the sysctl rules, the flags a bind remount keeps, the
 * /proc destinations, runc's seccomp arg rule, the env lookup. The mounts
 * themselves are tested as root by tests/integration/test_oci_rootfs.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <linux/seccomp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "testutil.h"
#include "oci/inside.h"

static char tmp[PATH_MAX];
static int rootfd = -1;

static int tmp_setup(void **state)
{
	char p[PATH_MAX + 32];

	snprintf(tmp, sizeof(tmp), "/tmp/test_oci_rootfs.XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	snprintf(p, sizeof(p), "%s/a", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/a/b", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/f", tmp);
	close(open(p, O_CREAT | O_WRONLY, 0644));
#define LINK(target, name) do { snprintf(p, sizeof(p), "%s/%s", tmp, name); \
		if (symlink(target, p) < 0) return -1; } while (0)
	LINK("/etc", "abs_etc");
	LINK("../../../../etc", "rel_out");
	LINK("a/b", "rel_in");
	LINK("/a/b/../b", "abs_in");
	LINK("loop2", "loop1");
	LINK("loop1", "loop2");
	LINK("/nowhere/file", "a/dangling");
	rootfd = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return rootfd < 0 ? -1 : 0;
}

static int tmp_teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	close(rootfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

/* resolves path; returns the -errno, or 0 with the path inside the root in out */
static int resolve(const char *path, int flags, char *out, size_t len)
{
	int fd = oci_inroot_open(rootfd, path, flags, out, len);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static void test_inroot_plain_paths_and_dots(void **state)
{
	char out[PATH_MAX];

	assert_int_equal(resolve("/a/b", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/a/b");
	assert_int_equal(resolve("a//./b/../b/", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/a/b");
	assert_int_equal(resolve("/", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(resolve("/a/..", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(resolve("/a", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/a");
	assert_int_equal(resolve("/f", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/f");
}

static void test_inroot_dotdot_above_the_root_is_refused(void **state)
{
	char out[PATH_MAX];

	assert_int_equal(resolve("/../../etc", OCI_INROOT_MKDIR, out, sizeof(out)), -EXDEV);
	assert_int_equal(resolve("/a/../../etc/passwd", 0, out, sizeof(out)), -EXDEV);
	assert_string_equal(oci_inroot_error(-EXDEV), "\"..\" leads out of the container's root");
}

static void test_inroot_absolute_link_stays_inside(void **state)
{
	char out[PATH_MAX], p[PATH_MAX + 16];
	struct stat st;

	/* /etc of the container, made in the root: the host's is not touched */
	assert_int_equal(resolve("/abs_etc/sub", OCI_INROOT_MKDIR, out, sizeof(out)), 0);
	assert_string_equal(out, "/etc/sub");
	snprintf(p, sizeof(p), "%s/etc/sub", tmp);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(resolve("/abs_in", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/a/b");
}

static void test_inroot_relative_links(void **state)
{
	char out[PATH_MAX];

	assert_int_equal(resolve("/rel_in/../b", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "/a/b");
	assert_int_equal(resolve("/rel_out/passwd", OCI_INROOT_MKDIR, out, sizeof(out)), -EXDEV);
}

static void test_inroot_link_loops_and_files(void **state)
{
	char out[PATH_MAX];

	assert_int_equal(resolve("/loop1", 0, out, sizeof(out)), -ELOOP);
	assert_int_equal(resolve("/f/x", OCI_INROOT_MKDIR, out, sizeof(out)), -ENOTDIR);
	assert_int_equal(resolve("/missing", 0, out, sizeof(out)), -ENOENT);
}

static void test_inroot_makes_dirs_and_files(void **state)
{
	char out[PATH_MAX], p[PATH_MAX + 32];
	struct stat st;

	assert_int_equal(resolve("/new/dir", OCI_INROOT_MKDIR, out, sizeof(out)), 0);
	snprintf(p, sizeof(p), "%s/new/dir", tmp);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(resolve("/new/file", OCI_INROOT_MKDIR | OCI_INROOT_MKFILE, out, sizeof(out)), 0);
	snprintf(p, sizeof(p), "%s/new/file", tmp);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	/* a dangling absolute link is made where it points, in the root */
	assert_int_equal(resolve("/a/dangling", OCI_INROOT_MKDIR | OCI_INROOT_MKFILE, out,
				 sizeof(out)), 0);
	assert_string_equal(out, "/nowhere/file");
	snprintf(p, sizeof(p), "%s/nowhere/file", tmp);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

static void test_sysctl_needs_the_namespace_that_scopes_it(void **state)
{
	struct oci_spec s = { .n_namespaces = 1, .namespaces = { { .type = CLONE_NEWNS } } };
	char why[256];

	assert_int_equal(oci_sysctl_check(&s, "net.ipv4.ip_forward", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "network namespace"));
	assert_int_equal(oci_sysctl_check(&s, "kernel.shmmax", why, sizeof(why)), -EINVAL);
	assert_int_equal(oci_sysctl_check(&s, "fs.mqueue.msg_max", why, sizeof(why)), -EINVAL);
	assert_int_equal(oci_sysctl_check(&s, "kernel.domainname", why, sizeof(why)), -EINVAL);
	s.namespaces[s.n_namespaces++].type = CLONE_NEWNET;
	s.namespaces[s.n_namespaces++].type = CLONE_NEWIPC;
	s.namespaces[s.n_namespaces++].type = CLONE_NEWUTS;
	assert_int_equal(oci_sysctl_check(&s, "net.ipv4.ip_forward", why, sizeof(why)), 0);
	assert_int_equal(oci_sysctl_check(&s, "kernel.shmmax", why, sizeof(why)), 0);
	assert_int_equal(oci_sysctl_check(&s, "kernel.msgmnb", why, sizeof(why)), 0);
	assert_int_equal(oci_sysctl_check(&s, "fs.mqueue.msg_max", why, sizeof(why)), 0);
	assert_int_equal(oci_sysctl_check(&s, "kernel.domainname", why, sizeof(why)), 0);
	assert_int_equal(oci_sysctl_check(&s, "kernel.hostname", why, sizeof(why)), 0);
	s.hostname = "box";
	assert_int_equal(oci_sysctl_check(&s, "kernel.hostname", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "contradicts"));
}

static void test_sysctl_outside_any_namespace_is_refused(void **state)
{
	struct oci_spec s = { .n_namespaces = 5, .namespaces = { { .type = CLONE_NEWNS },
		{ .type = CLONE_NEWNET }, { .type = CLONE_NEWIPC }, { .type = CLONE_NEWUTS },
		{ .type = CLONE_NEWPID } } };
	char why[256];

	assert_int_equal(oci_sysctl_check(&s, "kernel.panic", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "would change the host"));
	assert_int_equal(oci_sysctl_check(&s, "vm.overcommit_memory", why, sizeof(why)), -EINVAL);
	assert_int_equal(oci_sysctl_check(&s, "kernel.shm", why, sizeof(why)), -EINVAL);
	assert_int_equal(oci_sysctl_check(&s, "net/../../kernel/panic", why, sizeof(why)), -EINVAL);
	assert_int_equal(oci_sysctl_check(&s, "net..x", why, sizeof(why)), -EINVAL);
	assert_int_equal(oci_sysctl_check(&s, "", why, sizeof(why)), -EINVAL);
}

static void test_statfs_flags_kept_by_a_remount(void **state)
{
	assert_int_equal(oci_statfs_mount_flags(0), 0);
	assert_int_equal(oci_statfs_mount_flags(ST_NOSUID | ST_NODEV), MS_NOSUID | MS_NODEV);
	assert_int_equal(oci_statfs_mount_flags(ST_RDONLY | ST_NOEXEC | ST_RELATIME),
			 MS_RDONLY | MS_NOEXEC | MS_RELATIME);
	assert_int_equal(oci_statfs_mount_flags(ST_NOATIME | ST_NODIRATIME), MS_NOATIME | MS_NODIRATIME);
	/* what a remount does not take (mandatory locks, synchronous) is not kept */
	assert_int_equal(oci_statfs_mount_flags(ST_SYNCHRONOUS), 0);
}

static void test_proc_destinations(void **state)
{
	assert_true(oci_proc_dest_allowed("/proc", "proc", false));
	assert_false(oci_proc_dest_allowed("/proc", "tmpfs", false));
	assert_false(oci_proc_dest_allowed("/proc", NULL, true));
	assert_true(oci_proc_dest_allowed("/proc/cpuinfo", NULL, true));
	assert_true(oci_proc_dest_allowed("/proc/meminfo", "none", true));
	assert_false(oci_proc_dest_allowed("/proc/cpuinfo", "tmpfs", false));
	assert_false(oci_proc_dest_allowed("/proc/self/attr", NULL, true));
	assert_false(oci_proc_dest_allowed("/proc/sys", "tmpfs", false));
	assert_true(oci_proc_dest_allowed("/procfoo", "tmpfs", false));
	assert_true(oci_proc_dest_allowed("/dev", "tmpfs", false));
}

static void test_seccomp_args_same_index_split(void **state)
{
	struct oci_seccomp_arg and_args[] = { { .index = 0 }, { .index = 1 }, { .index = 5 } };
	struct oci_seccomp_arg or_args[] = { { .index = 1 }, { .index = 0 }, { .index = 1 } };

	assert_false(oci_seccomp_args_split(and_args, 3));
	assert_false(oci_seccomp_args_split(and_args, 0));
	assert_true(oci_seccomp_args_split(or_args, 3));
	assert_false(oci_seccomp_args_split(or_args, 2));
}

/* In a child with no_new_privs: the load's result, then the errno (0: none)
 * of getpgid(11111), getpgid(22222), getpgid(33333), getpriority(PRIO_PROCESS,
 * 999999) and getpriority(PRIO_PGRP, 999999). */
static void run_filtered(const struct oci_seccomp *sc, int res[6])
{
	int p[2], st;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char why[256];
		int r[6];

		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		r[0] = oci_seccomp_load(sc, why, sizeof(why));
		errno = 0;
		r[1] = getpgid(11111) < 0 ? errno : 0;
		r[2] = getpgid(22222) < 0 ? errno : 0;
		r[3] = getpgid(33333) < 0 ? errno : 0;
		errno = 0;
		getpriority(PRIO_PROCESS, 999999);
		r[4] = errno;
		errno = 0;
		getpriority(PRIO_PGRP, 999999);
		r[5] = errno;
		_exit(write(p[1], r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(p[1]);
	assert_int_equal(read(p[0], res, 6 * sizeof(int)), 6 * sizeof(int));
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
}

static void test_seccomp_rules_with_runc_semantics(void **state)
{
	static char *pgid[] = { "getpgid", "no_such_call_sbx", NULL };
	static char *prio[] = { "getpriority", NULL };
	static char *allow[] = { "getpgid", NULL };
	/* two args on index 0: each its own rule (OR) */
	struct oci_seccomp_arg or_args[] = { { .index = 0, .op = SCMP_CMP_EQ, .value = 11111 },
					     { .index = 0, .op = SCMP_CMP_EQ, .value = 22222 } };
	/* args on different indexes: one rule (AND) */
	struct oci_seccomp_arg and_args[] = { { .index = 0, .op = SCMP_CMP_EQ, .value = PRIO_PROCESS },
					      { .index = 1, .op = SCMP_CMP_EQ, .value = 999999 } };
	struct oci_seccomp_rule rules[] = {
		{ .names = pgid, .action = SCMP_ACT_ERRNO(77), .args = or_args, .n_args = 2 },
		{ .names = prio, .action = SCMP_ACT_ERRNO(78), .args = and_args, .n_args = 2 },
		{ .names = allow, .action = SCMP_ACT_ALLOW },	/* the default: skipped */
	};
	uint32_t arches[] = { SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32 };
	struct oci_seccomp sc = { .default_action = SCMP_ACT_ALLOW, .rules = rules, .n_rules = 3,
				  .arches = arches, .n_arches = 3,
				  .flags = SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG };
	int res[6];

	if (seccomp_arch_native() != SCMP_ARCH_X86_64)
		sc.n_arches = 0;
	run_filtered(&sc, res);
	assert_int_equal(res[0], 0);
	assert_int_equal(res[1], 77);
	assert_int_equal(res[2], 77);
	assert_int_not_equal(res[3], 77);
	assert_int_equal(res[4], 78);
	assert_int_not_equal(res[5], 78);
}

static void test_seccomp_unknown_flag_is_refused(void **state)
{
	struct oci_seccomp sc = { .default_action = SCMP_ACT_ALLOW, .flags = 1u << 30 };
	char why[256];

	assert_int_equal(oci_seccomp_load(&sc, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "linux.seccomp.flags"));
	assert_int_equal(oci_seccomp_load(NULL, why, sizeof(why)), 0);
}

static void test_env_get(void **state)
{
	char *env[] = { "PATHX=no", "PATH=/bin:/usr/bin", "EMPTY=", NULL };

	assert_string_equal(oci_env_get(env, "PATH"), "/bin:/usr/bin");
	assert_string_equal(oci_env_get(env, "EMPTY"), "");
	assert_null(oci_env_get(env, "PATHX="));
	assert_null(oci_env_get(env, "HOME"));
	assert_null(oci_env_get(NULL, "PATH"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_inroot_plain_paths_and_dots, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_inroot_dotdot_above_the_root_is_refused, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_inroot_absolute_link_stays_inside, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_inroot_relative_links, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_inroot_link_loops_and_files, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_inroot_makes_dirs_and_files, tmp_setup, tmp_teardown),
		cmocka_unit_test(test_sysctl_needs_the_namespace_that_scopes_it),
		cmocka_unit_test(test_sysctl_outside_any_namespace_is_refused),
		cmocka_unit_test(test_statfs_flags_kept_by_a_remount),
		cmocka_unit_test(test_proc_destinations),
		cmocka_unit_test(test_seccomp_args_same_index_split),
		cmocka_unit_test(test_seccomp_rules_with_runc_semantics),
		cmocka_unit_test(test_seccomp_unknown_flag_is_refused),
		cmocka_unit_test(test_env_get),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
