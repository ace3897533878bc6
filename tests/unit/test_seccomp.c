/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the seccomp filter (user/kernel/seccomp.c). The build tests look
 * at the denied-syscall bitmap; the functional tests fork a child that
 * installs the filter, makes one system call and exits with the errno it saw
 * (0 for success), so the parent can assert what the kernel did. Where the
 * answer depends on privileges, the same call is first made without the
 * filter and the test says so when it cannot tell the two apart.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/keyctl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

#include "testutil.h"
#include "kernel/seccomp.h"
#include "kernel/seccomp_cache.h"
#include "sbx_abi.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit codes of the child besides errno values. */
#define CHILD_NO_NNP	200
#define CHILD_NO_FILTER	201

#define ERR_OF(expr) ((expr) < 0 ? errno : 0)

static struct sbx_profile profile(enum sbx_seccomp_preset preset, enum sbx_seccomp_action action)
{
	struct sbx_profile p = { 0 };

	p.seccomp.preset = preset;
	p.seccomp.action = action;
	return p;
}

static void build_ok(const struct sbx_profile *p, struct sbx_seccomp *s)
{
	char why[256] = "";
	int r = sbx_seccomp_build(p, false, s, why, sizeof(why));

	if (r != 0)
		fail_msg("sbx_seccomp_build: %d: %s", r, why);
	assert_non_null(s->prog.filter);
	assert_true(s->prog.len > 0 && s->prog.len <= BPF_MAXINSNS);
}

static bool denied(const struct sbx_seccomp *s, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr < 0 || nr >= SBX_SYSCALL_BITMAP_WORDS * 64)
		fail_msg("no native number for %s", name);
	return s->denied[nr / 64] & (1ULL << (nr % 64));
}

/* Forks a child that installs s (none when NULL) and returns fn(); returns
 * the wait status. */
static int run_child(const struct sbx_seccomp *s, int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit nocore = { 0, 0 };

		/* cmocka's handlers would catch a fault of fn (int $0x80 without
		 * ia32 emulation is a SIGSEGV) and go on running the rest of the
		 * tests in this child: the signal must end the child instead */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		signal(SIGILL, SIG_DFL);
		signal(SIGFPE, SIG_DFL);
		setrlimit(RLIMIT_CORE, &nocore);	/* SIGSYS would dump core */
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(CHILD_NO_NNP);
		if (s && sbx_seccomp_install(s) < 0)
			_exit(CHILD_NO_FILTER);
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* What the child exited with; fails the test when it died of a signal. */
static int child_result(const struct sbx_seccomp *s, int (*fn)(void))
{
	int status = run_child(s, fn);

	if (!WIFEXITED(status))
		fail_msg("child died of signal %d", WTERMSIG(status));
	assert_int_not_equal(WEXITSTATUS(status), CHILD_NO_NNP);
	assert_int_not_equal(WEXITSTATUS(status), CHILD_NO_FILTER);
	return WEXITSTATUS(status);
}

/* The filter refuses fn's call with EPERM; notes when that is not the
 * filter's doing because the call fails with EPERM anyway. */
static void expect_refused(const struct sbx_seccomp *s, int (*fn)(void), const char *label)
{
	if (child_result(NULL, fn) == EPERM)
		print_message("note: %s fails with EPERM without the filter too\n", label);
	if (child_result(s, fn) != EPERM)
		fail_msg("%s: not refused with EPERM", label);
}

/* The filter leaves fn's call alone: same result as without it. */
static void expect_unfiltered(const struct sbx_seccomp *s, int (*fn)(void), const char *label)
{
	int want = child_result(NULL, fn), got = child_result(s, fn);

	if (got != want)
		fail_msg("%s: %d with the filter, %d without", label, got, want);
}

/* ---- probes: each makes one call and returns the errno it saw ----------- */

static int try_bpf(void)
{
	return ERR_OF(syscall(SYS_bpf, 0, NULL, 0));
}

static int try_mount(void)
{
	return ERR_OF(mount("none", "/nonexistent-sbx-test", "tmpfs", 0, NULL));
}

static int try_keyctl(void)
{
	return ERR_OF(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, (long)KEY_SPEC_SESSION_KEYRING, 0L));
}

static int try_io_uring_setup(void)
{
	return ERR_OF(syscall(SYS_io_uring_setup, 1, NULL));
}

static int try_ptrace(void)
{
	return ERR_OF(ptrace(PTRACE_PEEKUSER, getppid(), NULL, NULL));
}

static int try_process_vm_readv(void)
{
	char src[8] = "sbx", dst[8];
	struct iovec local = { dst, sizeof(dst) }, remote = { src, sizeof(src) };

	return ERR_OF(process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
}

static int try_setns(void)
{
	return ERR_OF(setns(-1, 0));
}

static int try_unshare_user(void)
{
	return ERR_OF(unshare(CLONE_NEWUSER));
}

static int try_unshare_mount_ns(void)
{
	return ERR_OF(unshare(CLONE_NEWNS));
}

/* raw clone: the grandchild, if any, leaves at once */
static int try_clone_user(void)
{
	long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);

	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return errno;
	waitpid(pid, NULL, 0);
	return 0;
}

/* no arguments: EINVAL without the filter, and nothing is created */
static int try_clone3(void)
{
	return ERR_OF(syscall(SYS_clone3, NULL, 0));
}

static int try_fork(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(42);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 42 ? 0 : ECHILD;
}

static void *thread_fn(void *arg)
{
	return arg;
}

static int try_thread(void)
{
	static int token;
	pthread_t t;
	void *out = NULL;
	int r = pthread_create(&t, NULL, thread_fn, &token);

	if (r)
		return r;
	pthread_join(t, &out);
	return out == &token ? 0 : ECHILD;
}

static int try_personality_linux32(void)
{
	return ERR_OF(syscall(SYS_personality, PER_LINUX32));
}

static int try_personality_high_bits(void)
{
	return ERR_OF(syscall(SYS_personality, 0x100000000UL | PER_LINUX32));
}

static int try_personality_query(void)
{
	return ERR_OF(syscall(SYS_personality, 0xffffffffUL));
}

static int try_personality_linux(void)
{
	return ERR_OF(syscall(SYS_personality, PER_LINUX));
}

/* Every persona other than 0 and 0xffffffff: each single bit, each
 * all-but-one, and pseudo-random ones. Returns 0 when all were refused. */
static int try_other_personas(void)
{
	uint32_t x = 2463534242u;

	for (unsigned i = 0; i < 64 + 4096; i++) {
		uint32_t v;

		if (i < 32)
			v = 1u << i;
		else if (i < 64)
			v = ~(1u << (i - 32));
		else {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;	/* xorshift32 */
			v = x;
		}
		if (v == 0 || v == 0xffffffffu)
			continue;
		if (syscall(SYS_personality, (unsigned long)v) >= 0 || errno != EPERM)
			return ECHILD;
	}
	return 0;
}

static int try_chroot(void)
{
	return ERR_OF(chroot("/"));
}

static int try_uname(void)
{
	struct utsname u;

	return ERR_OF(uname(&u));
}

static int try_open_tree_attr(void)
{
	return ERR_OF(syscall(467, -1L, "", 0L, NULL, 0L));
}

static int try_basic_io(void)
{
	int fds[2];
	char c = 'x';

	if (getpid() <= 0 || pipe(fds) < 0)
		return errno ? errno : ECHILD;
	if (write(fds[1], &c, 1) != 1 || read(fds[0], &c, 1) != 1)
		return errno;
	return c == 'x' ? 0 : ECHILD;
}

static int try_exec_true(void)
{
	execl("/bin/true", "true", (char *)NULL);
	return errno;
}

#if defined(__x86_64__)
static int try_x32_getpid(void)
{
	return ERR_OF(syscall(__X32_SYSCALL_BIT | __NR_getpid));
}

/* getpid through the i386 entry point (number 20 there) */
static int try_i386_getpid(void)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory", "r8", "r9", "r10", "r11");
	return ret >= 0 ? 0 : (int)-ret;
}
#endif

/* ---- building ------------------------------------------------------------ */

static void test_default_bitmap_has_dangerous_calls_not_ordinary_ones(void **state)
{
	struct sbx_profile p = profile(SBX_SECCOMP_DEFAULT, SBX_SECCOMP_ERRNO);
	static const char *const refused[] = {
		"bpf", "ptrace", "mount", "umount2", "pivot_root", "keyctl", "add_key", "kexec_load",
		"init_module", "finit_module", "perf_event_open", "io_uring_setup", "userfaultfd",
		"open_by_handle_at", "reboot", "settimeofday", "swapon", "acct", "setns",
		"process_vm_readv", "unshare", "clone", "personality",
	};
	static const char *const ordinary[] = {
		"read", "write", "openat", "execve", "getpid", "mmap", "exit_group", "fork",
		"clone3",	/* ENOSYS, not a refusal */
		"chroot",	/* strict only */
	};
	struct sbx_seccomp s;

	build_ok(&p, &s);
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
		if (!denied(&s, refused[i]))
			fail_msg("default preset does not refuse %s", refused[i]);
	for (size_t i = 0; i < ARRAY_SIZE(ordinary); i++)
		if (denied(&s, ordinary[i]))
			fail_msg("default preset refuses %s", ordinary[i]);
	sbx_seccomp_free(&s);
	assert_null(s.prog.filter);
}

static void test_strict_refuses_all_default_refuses_and_more(void **state)
{
	struct sbx_profile pd = profile(SBX_SECCOMP_DEFAULT, SBX_SECCOMP_ERRNO);
	struct sbx_profile ps = profile(SBX_SECCOMP_STRICT, SBX_SECCOMP_ERRNO);
	struct sbx_seccomp d, s;

	build_ok(&pd, &d);
	build_ok(&ps, &s);
	for (size_t w = 0; w < SBX_SYSCALL_BITMAP_WORDS; w++)
		assert_int_equal(d.denied[w] & ~s.denied[w], 0);
	assert_true(denied(&s, "chroot"));
	assert_true(denied(&s, "sethostname"));
	assert_true(denied(&s, "name_to_handle_at"));
	sbx_seccomp_free(&d);
	sbx_seccomp_free(&s);
}

static size_t list_len(const char *const *l)
{
	size_t n = 0;

	while (l[n])
		n++;
	return n;
}

static void test_preset_lists_are_unique_nested_and_known(void **state)
{
	const char *const *d = sbx_seccomp_preset_list(SBX_SECCOMP_DEFAULT);
	const char *const *s = sbx_seccomp_preset_list(SBX_SECCOMP_STRICT);
	struct sbx_profile p = profile(SBX_SECCOMP_DEFAULT, SBX_SECCOMP_ERRNO);
	struct sbx_seccomp f;

	assert_non_null(d);
	assert_non_null(s);
	assert_true(list_len(s) > list_len(d));
	for (size_t i = 0; s[i]; i++)
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(s[i], s[j]);
	for (size_t i = 0; d[i]; i++) {
		bool in_strict = false;

		for (size_t j = 0; s[j]; j++)
			in_strict |= !strcmp(d[i], s[j]);
		if (!in_strict)
			fail_msg("%s is refused by default but not by strict", d[i]);
	}
	/* every name in the table is one deny accepts: no typos, no unknowns */
	p.seccomp.deny = (char **)s;
	p.seccomp.n_deny = list_len(s);
	build_ok(&p, &f);
	sbx_seccomp_free(&f);
}

static void test_allow_removes_from_preset(void **state)
{
	struct sbx_profile p = profile(SBX_SECCOMP_DEFAULT, SBX_SECCOMP_ERRNO);
	char *allow[] = { "io_uring_setup", "getpid" /* not in the preset: no-op */ };
	struct sbx_seccomp s;

	p.seccomp.allow = allow;
	p.seccomp.n_allow = ARRAY_SIZE(allow);
	build_ok(&p, &s);
	assert_false(denied(&s, "io_uring_setup"));
	assert_true(denied(&s, "io_uring_enter"));
	assert_true(denied(&s, "bpf"));
	sbx_seccomp_free(&s);
}

static void test_deny_adds_and_wins_over_allow(void **state)
{
	struct sbx_profile p = profile(SBX_SECCOMP_DEFAULT, SBX_SECCOMP_ERRNO);
	char *deny[] = { "uname", "bpf" };
	char *allow[] = { "bpf" };
	struct sbx_seccomp s;

	p.seccomp.deny = deny;
	p.seccomp.n_deny = ARRAY_SIZE(deny);
	p.seccomp.allow = allow;
	p.seccomp.n_allow = ARRAY_SIZE(allow);
	build_ok(&p, &s);
	assert_true(denied(&s, "uname"));
	assert_true(denied(&s, "bpf"));
	assert_false(denied(&s, "getpid"));
	sbx_seccomp_free(&s);
}

static void test_unknown_name_is_einval_naming_it(void **state)
{
	struct sbx_profile p = profile(SBX_SECCOMP_DEFAULT, SBX_SECCOMP_ERRNO);
	char *bad[] = { "read", "no_such_syscall" };
	struct sbx_seccomp s = { .prog.len = 77 };
	char why[256] = "";

	p.seccomp.deny = bad;
	p.seccomp.n_deny = ARRAY_SIZE(bad);
	assert_int_equal(sbx_seccomp_build(&p, false, &s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "'no_such_syscall'"));
	assert_non_null(strstr(why, "seccomp.deny"));
	assert_int_equal(s.prog.len, 77);	/* untouched on failure */

	p.seccomp.deny = NULL;
	p.seccomp.n_deny = 0;
	p.seccomp.allow = bad;
	p.seccomp.n_allow = ARRAY_SIZE(bad);
	why[0] = '\0';
	assert_int_equal(sbx_seccomp_build(&p, false, &s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "seccomp.allow: unknown system call 'no_such_syscall'"));
}

static void test_kill_action_builds_same_bitmap(void **state)
{
	struct sbx_profile pe = profile(SBX_SECCOMP_STRICT, SBX_SECCOMP_ERRNO);
	struct sbx_profile pk = profile(SBX_SECCOMP_STRICT, SBX_SECCOMP_KILL);
	struct sbx_seccomp e, k;

	build_ok(&pe, &e);
	build_ok(&pk, &k);
	assert_memory_equal(e.denied, k.denied, sizeof(e.denied));
	sbx_seccomp_free(&e);
	sbx_seccomp_free(&k);
	sbx_seccomp_free(NULL);
}

static void test_install_rejects_empty_filter(void **state)
{
	struct sbx_seccomp s = { 0 };

	assert_int_equal(sbx_seccomp_install(&s), -EINVAL);
	assert_int_equal(sbx_seccomp_install(NULL), -EINVAL);
}

/* ---- the filter in a child ---------------------------------------------- */

static struct sbx_seccomp dflt, strict, kill_dflt;

static int setup(void **state)
{
	struct sbx_profile p = profile(SBX_SECCOMP_DEFAULT, SBX_SECCOMP_ERRNO);
	char why[256];

	if (sbx_seccomp_build(&p, false, &dflt, why, sizeof(why)))
		return -1;
	p = profile(SBX_SECCOMP_STRICT, SBX_SECCOMP_ERRNO);
	if (sbx_seccomp_build(&p, false, &strict, why, sizeof(why)))
		return -1;
	p = profile(SBX_SECCOMP_DEFAULT, SBX_SECCOMP_KILL);
	return sbx_seccomp_build(&p, false, &kill_dflt, why, sizeof(why)) ? -1 : 0;
}

static int teardown(void **state)
{
	sbx_seccomp_free(&dflt);
	sbx_seccomp_free(&strict);
	sbx_seccomp_free(&kill_dflt);
	return 0;
}

static void test_default_refuses_with_eperm(void **state)
{
	expect_refused(&dflt, try_bpf, "bpf");
	expect_refused(&dflt, try_mount, "mount");
	expect_refused(&dflt, try_keyctl, "keyctl");
	expect_refused(&dflt, try_io_uring_setup, "io_uring_setup");
	expect_refused(&dflt, try_ptrace, "ptrace");
	expect_refused(&dflt, try_process_vm_readv, "process_vm_readv");
	expect_refused(&dflt, try_setns, "setns");
	expect_refused(&dflt, try_open_tree_attr, "open_tree_attr (467)");
}

static void test_new_user_namespace_refused_other_namespaces_left_to_kernel(void **state)
{
	expect_refused(&dflt, try_unshare_user, "unshare(CLONE_NEWUSER)");
	expect_refused(&dflt, try_clone_user, "clone(CLONE_NEWUSER)");
	/* default: other namespaces need privileges the sandbox lacks anyway */
	expect_unfiltered(&dflt, try_unshare_mount_ns, "unshare(CLONE_NEWNS), default");
	expect_refused(&strict, try_unshare_mount_ns, "unshare(CLONE_NEWNS), strict");
}

static void test_clone3_is_enosys_and_fork_and_threads_still_work(void **state)
{
	assert_int_equal(child_result(NULL, try_clone3), EINVAL);
	assert_int_equal(child_result(&dflt, try_clone3), ENOSYS);
	assert_int_equal(child_result(&kill_dflt, try_clone3), ENOSYS);
	assert_int_equal(child_result(&dflt, try_fork), 0);
	assert_int_equal(child_result(&strict, try_fork), 0);
	assert_int_equal(child_result(&dflt, try_thread), 0);
	assert_int_equal(child_result(&kill_dflt, try_thread), 0);
}

/* The cgroup guard: allow = ["clone3"] does not lift ENOSYS, or a root
 * workload could clone3(CLONE_INTO_CGROUP) out of its sandbox's cgroup. */
static void test_allow_does_not_lift_the_cgroup_guard(void **state)
{
	struct sbx_profile p = profile(SBX_SECCOMP_DEFAULT, SBX_SECCOMP_ERRNO);
	char *allow[] = { "clone3" };
	struct sbx_seccomp s;

	p.seccomp.allow = allow;
	p.seccomp.n_allow = ARRAY_SIZE(allow);
	build_ok(&p, &s);
	assert_false(denied(&s, "clone3"));	/* ENOSYS, not a refusal */
	assert_int_equal(child_result(&s, try_clone3), ENOSYS);
	assert_int_equal(child_result(&s, try_thread), 0);
	sbx_seccomp_free(&s);
}

static void test_personality_only_linux_and_query(void **state)
{
	expect_refused(&dflt, try_personality_linux32, "personality(PER_LINUX32)");
	expect_refused(&dflt, try_personality_high_bits, "personality(1<<32 | PER_LINUX32)");
	assert_int_equal(child_result(&dflt, try_personality_query), 0);
	assert_int_equal(child_result(&dflt, try_personality_linux), 0);
	assert_int_equal(child_result(&strict, try_personality_query), 0);
	assert_int_equal(child_result(&dflt, try_other_personas), 0);
}

static void test_foreign_abis_refused(void **state)
{
#if defined(__x86_64__)
	int status;

	/* x32: ENOSYS or a pid without the filter, depending on the kernel */
	assert_int_equal(child_result(&dflt, try_x32_getpid), EPERM);
	status = run_child(&kill_dflt, try_x32_getpid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);

	status = run_child(NULL, try_i386_getpid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		SKIP_BECAUSE("no i386 entry point (ia32 emulation off)");
	}
	assert_int_equal(child_result(&dflt, try_i386_getpid), EPERM);
	status = run_child(&kill_dflt, try_i386_getpid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
#else
	SKIP_BECAUSE("foreign ABI checks are written for x86_64");
#endif
}

static void test_kill_action_kills_with_sigsys(void **state)
{
	int status = run_child(&kill_dflt, try_bpf);

	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
	status = run_child(&kill_dflt, try_unshare_user);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
	assert_int_equal(child_result(&kill_dflt, try_basic_io), 0);
}

static void test_ordinary_calls_and_exec_work(void **state)
{
	assert_int_equal(child_result(&dflt, try_basic_io), 0);
	assert_int_equal(child_result(&strict, try_basic_io), 0);
	assert_int_equal(child_result(&dflt, try_exec_true), 0);
	assert_int_equal(child_result(&strict, try_exec_true), 0);
	assert_int_equal(child_result(&kill_dflt, try_exec_true), 0);
	expect_unfiltered(&dflt, try_chroot, "chroot, default");
	expect_refused(&strict, try_chroot, "chroot, strict");
}

static void test_profile_allow_and_deny_take_effect(void **state)
{
	struct sbx_profile p = profile(SBX_SECCOMP_DEFAULT, SBX_SECCOMP_ERRNO);
	char *allow[] = { "io_uring_setup" }, *deny[] = { "uname" };
	struct sbx_seccomp s;

	p.seccomp.allow = allow;
	p.seccomp.n_allow = ARRAY_SIZE(allow);
	p.seccomp.deny = deny;
	p.seccomp.n_deny = ARRAY_SIZE(deny);
	build_ok(&p, &s);
	expect_unfiltered(&s, try_io_uring_setup, "io_uring_setup, allowed");
	expect_refused(&s, try_uname, "uname, denied");
	expect_refused(&s, try_bpf, "bpf, still denied");
	sbx_seccomp_free(&s);
}

/* ---- the exec guard ---------------------------------------------------------- */

static struct sbx_profile exec_list_profile(void)
{
	static char *exec[] = { "/usr/" };
	struct sbx_profile p = profile(SBX_SECCOMP_DEFAULT, SBX_SECCOMP_ERRNO);

	p.fs.mode = SBX_FS_READ_ONLY;
	p.fs.exec = exec;
	p.fs.n_exec = 1;
	return p;
}

static void test_exec_guard_needed_only_where_landlock_restricts_exec(void **state)
{
	struct sbx_profile p = exec_list_profile();

	assert_true(sbx_exec_guard_needed(&p, SBX_FSB_LANDLOCK));
	assert_true(sbx_exec_guard_needed(&p, 0));
	assert_false(sbx_exec_guard_needed(&p, SBX_FSB_BPF_LSM));	/* the LSM refuses them */
	p.fs.n_exec = 0;
	assert_false(sbx_exec_guard_needed(&p, SBX_FSB_LANDLOCK));	/* read-only grants x */
	p.fs.mode = SBX_FS_NONE;
	assert_true(sbx_exec_guard_needed(&p, SBX_FSB_LANDLOCK));	/* x only where rules say */
	p.fs.mode = SBX_FS_FULL;
	p.fs.n_exec = 1;
	assert_false(sbx_exec_guard_needed(&p, SBX_FSB_LANDLOCK));	/* full: rules ignored */
}

static int try_memfd_plain(void)
{
	return ERR_OF(syscall(SYS_memfd_create, "t", 0));
}

static int try_memfd_exec(void)
{
	return ERR_OF(syscall(SYS_memfd_create, "t", 0x0010U /* MFD_EXEC */));
}

/* MFD_NOEXEC_SEAL (Linux 6.3): EINVAL before, allowed by the guard */
static int try_memfd_noexec_seal(void)
{
	return ERR_OF(syscall(SYS_memfd_create, "t", 0x0008U));
}

static int try_execveat_empty_path(void)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };
	int fd = open("/bin/true", O_PATH | O_CLOEXEC);

	syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
	return errno;
}

static int try_execveat_path(void)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };

	syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, envp, 0);
	return errno;
}

static void test_exec_guard_refuses_fd_exec_forms(void **state)
{
	struct sbx_profile p = exec_list_profile();
	struct sbx_seccomp s;
	char why[256] = "";

	assert_int_equal(sbx_seccomp_build(&p, true, &s, why, sizeof(why)), 0);
	assert_true(denied(&s, "memfd_create"));
	assert_true(denied(&s, "execveat"));
	expect_refused(&s, try_memfd_plain, "memfd_create(0)");
	expect_refused(&s, try_memfd_exec, "memfd_create(MFD_EXEC)");
	expect_unfiltered(&s, try_memfd_noexec_seal, "memfd_create(MFD_NOEXEC_SEAL)");
	expect_refused(&s, try_execveat_empty_path, "execveat(AT_EMPTY_PATH)");
	assert_int_equal(child_result(&s, try_execveat_path), 0);	/* a path: Landlock's */
	assert_int_equal(child_result(&s, try_exec_true), 0);
	expect_refused(&s, try_bpf, "bpf, the preset still applies");
	sbx_seccomp_free(&s);
	/* without the guard nothing of it */
	build_ok(&p, &s);
	assert_false(denied(&s, "memfd_create"));
	assert_int_equal(child_result(&s, try_memfd_plain), 0);
	sbx_seccomp_free(&s);
}

/* A profile that denies execveat outright keeps it denied with the guard. */
static void test_exec_guard_with_profile_deny_of_the_same_call(void **state)
{
	struct sbx_profile p = exec_list_profile();
	char *deny[] = { "execveat", "memfd_create" };
	struct sbx_seccomp s;
	char why[256] = "";

	p.seccomp.deny = deny;
	p.seccomp.n_deny = ARRAY_SIZE(deny);
	assert_int_equal(sbx_seccomp_build(&p, true, &s, why, sizeof(why)), 0);
	expect_refused(&s, try_execveat_path, "execveat with a path, denied by the profile");
	expect_refused(&s, try_memfd_noexec_seal, "memfd_create, denied by the profile");
	sbx_seccomp_free(&s);
}

/* ---- the filter cache (kernel/seccomp_cache.h) ------------------------------- */

static void expect_same_filter(const struct sbx_seccomp *a, const struct sbx_seccomp *b)
{
	assert_int_equal(a->prog.len, b->prog.len);
	assert_memory_equal(a->prog.filter, b->prog.filter, a->prog.len * sizeof(*a->prog.filter));
	assert_memory_equal(a->denied, b->denied, sizeof(a->denied));
}

static char *cache_key(const struct sbx_profile *p, bool guard)
{
	char *key = NULL;
	size_t len = 0;

	assert_int_equal(sbx_seccomp_cache_key(p, guard, &key, &len), 0);
	assert_int_equal(strlen(key), len);
	return key;
}

static void test_cached_filter_is_the_compiled_one(void **state)
{
	char dir[] = "/tmp/sbx-unit-scache.XXXXXX", path[PATH_MAX], *deny[] = { "uname" };
	struct sbx_profile p = profile(SBX_SECCOMP_STRICT, SBX_SECCOMP_ERRNO);
	struct sbx_seccomp fresh, stored, loaded;
	char why[256] = "", *key;

	p.seccomp.deny = deny;
	p.seccomp.n_deny = 1;
	assert_non_null(mkdtemp(dir));
	sbx_seccomp_cache_set_dir(NULL);
	build_ok(&p, &fresh);
	sbx_seccomp_cache_set_dir(dir);
	build_ok(&p, &stored);	/* compiled, then written */
	key = cache_key(&p, false);
	assert_int_equal(sbx_seccomp_cache_load(key, strlen(key), &loaded, why, sizeof(why)), 0);
	expect_same_filter(&fresh, &stored);
	expect_same_filter(&fresh, &loaded);
	expect_refused(&loaded, try_uname, "uname, denied by the cached filter");
	/* another input is another file: a miss, not this filter */
	sbx_seccomp_free(&loaded);
	free(key);
	key = cache_key(&p, true);
	assert_int_equal(sbx_seccomp_cache_load(key, strlen(key), &loaded, why, sizeof(why)), -ENOENT);
	sbx_seccomp_cache_set_dir(NULL);
	sbx_seccomp_free(&fresh);
	sbx_seccomp_free(&stored);
	free(key);
	snprintf(path, sizeof(path), "%s/seccomp", dir);
	sbx_seccomp_cache_remove(dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(rmdir(dir), 0);
}

/* Every input of the filter is in its key, and a name cannot pass for the
 * start of another list. */
static void test_cache_key_names_every_input(void **state)
{
	struct sbx_profile p = profile(SBX_SECCOMP_DEFAULT, SBX_SECCOMP_ERRNO), q;
	char *a[] = { "uname" }, *b[] = { "uname\ndeny 1\n5:uname" };
	char *base = cache_key(&p, false), *k;

	q = p;
	q.seccomp.preset = SBX_SECCOMP_STRICT;
	k = cache_key(&q, false);
	assert_string_not_equal(base, k);
	free(k);
	q = p;
	q.seccomp.action = SBX_SECCOMP_KILL;
	k = cache_key(&q, false);
	assert_string_not_equal(base, k);
	free(k);
	k = cache_key(&p, true);
	assert_string_not_equal(base, k);
	free(k);
	q = p;
	q.net.families = 1ULL << 16;
	k = cache_key(&q, false);
	assert_string_not_equal(base, k);
	free(k);
	q = p;
	q.seccomp.allow = a;
	q.seccomp.n_allow = 1;
	k = cache_key(&q, false);
	assert_string_not_equal(base, k);
	free(k);
	q = p;
	q.seccomp.deny = a;
	q.seccomp.n_deny = 1;
	free(base);
	base = cache_key(&q, false);
	q = p;
	q.seccomp.allow = b;
	q.seccomp.n_allow = 1;
	k = cache_key(&q, false);
	assert_string_not_equal(base, k);
	free(k);
	k = cache_key(&p, false);
	free(base);
	base = cache_key(&p, false);
	assert_string_equal(base, k);
	free(k);
	free(base);
}

/* A file or directory open to others, or reached through a symlink, is
 * not loaded. */
static int try_io_uring_enter(void)
{
	return ERR_OF(syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
}

/* sbx-oci's filter of the families alone refuses io_uring too: its
 * IORING_OP_SOCKET makes any family without a socket() call
 * (tests/security/test_oci_attack3.sh, uring_socket_refused). */
static void test_families_filter_refuses_io_uring(void **state)
{
	struct sbx_seccomp s = { 0 };
	char why[256];

	(void)state;
	assert_int_equal(sbx_seccomp_build_families(0, &s, why, sizeof(why)), 0);
	expect_refused(&s, try_io_uring_setup, "io_uring_setup");
	expect_refused(&s, try_io_uring_enter, "io_uring_enter");
	sbx_seccomp_free(&s);
}

static void test_cache_refuses_files_others_could_write(void **state)
{
	char dir[] = "/tmp/sbx-unit-scache.XXXXXX", sub[PATH_MAX], file[PATH_MAX], link_[PATH_MAX + 8];
	struct sbx_profile p = profile(SBX_SECCOMP_DEFAULT, SBX_SECCOMP_ERRNO);
	struct sbx_seccomp s, l;
	char why[256] = "", *key = cache_key(&p, false);
	struct dirent *e;
	DIR *d;

	assert_non_null(mkdtemp(dir));
	sbx_seccomp_cache_set_dir(dir);
	build_ok(&p, &s);
	snprintf(sub, sizeof(sub), "%s/seccomp", dir);
	assert_int_equal(sbx_seccomp_cache_load(key, strlen(key), &l, why, sizeof(why)), 0);
	sbx_seccomp_free(&l);
	/* the one file the build wrote */
	d = opendir(sub);
	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			snprintf(file, sizeof(file), "%s/%s", sub, e->d_name);
	closedir(d);
	assert_int_equal(chmod(file, 0644), 0);
	assert_int_equal(sbx_seccomp_cache_load(key, strlen(key), &l, why, sizeof(why)), -EPERM);
	assert_int_equal(chmod(file, 0600), 0);
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(sbx_seccomp_cache_load(key, strlen(key), &l, why, sizeof(why)), -EPERM);
	assert_int_equal(chmod(sub, 0700), 0);
	snprintf(link_, sizeof(link_), "%s.real", file);
	assert_int_equal(rename(file, link_), 0);
	assert_int_equal(symlink(link_, file), 0);
	assert_int_equal(sbx_seccomp_cache_load(key, strlen(key), &l, why, sizeof(why)), -ELOOP);
	/* the next build replaces the link with a file of its own */
	sbx_seccomp_free(&s);
	build_ok(&p, &s);
	assert_int_equal(sbx_seccomp_cache_load(key, strlen(key), &l, why, sizeof(why)), 0);
	sbx_seccomp_free(&l);
	sbx_seccomp_free(&s);
	unlink(link_);
	sbx_seccomp_cache_remove(dir);
	sbx_seccomp_cache_set_dir(NULL);
	assert_int_equal(rmdir(dir), 0);
	free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_bitmap_has_dangerous_calls_not_ordinary_ones),
		cmocka_unit_test(test_strict_refuses_all_default_refuses_and_more),
		cmocka_unit_test(test_preset_lists_are_unique_nested_and_known),
		cmocka_unit_test(test_allow_removes_from_preset),
		cmocka_unit_test(test_deny_adds_and_wins_over_allow),
		cmocka_unit_test(test_unknown_name_is_einval_naming_it),
		cmocka_unit_test(test_kill_action_builds_same_bitmap),
		cmocka_unit_test(test_install_rejects_empty_filter),
		cmocka_unit_test(test_default_refuses_with_eperm),
		cmocka_unit_test(test_new_user_namespace_refused_other_namespaces_left_to_kernel),
		cmocka_unit_test(test_clone3_is_enosys_and_fork_and_threads_still_work),
		cmocka_unit_test(test_allow_does_not_lift_the_cgroup_guard),
		cmocka_unit_test(test_personality_only_linux_and_query),
		cmocka_unit_test(test_foreign_abis_refused),
		cmocka_unit_test(test_kill_action_kills_with_sigsys),
		cmocka_unit_test(test_ordinary_calls_and_exec_work),
		cmocka_unit_test(test_profile_allow_and_deny_take_effect),
		cmocka_unit_test(test_exec_guard_needed_only_where_landlock_restricts_exec),
		cmocka_unit_test(test_exec_guard_refuses_fd_exec_forms),
		cmocka_unit_test(test_exec_guard_with_profile_deny_of_the_same_call),
		cmocka_unit_test(test_cached_filter_is_the_compiled_one),
		cmocka_unit_test(test_cache_key_names_every_input),
		cmocka_unit_test(test_families_filter_refuses_io_uring),
		cmocka_unit_test(test_cache_refuses_files_others_could_write),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
