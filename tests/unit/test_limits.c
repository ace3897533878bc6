/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for user/kernel/limits.c on the host's real cgroups (pure cgroup2 or
 * hybrid). As root each test makes a fake sandbox: a cgroup2 directory in
 * the sbx root of the test instance "sbxtest-limits-<pid>" (sbx_cgroot_get),
 * limits for it and a forked child placed in it; it checks the limit files,
 * the usage, the kill, and that every directory made is gone afterwards.
 * Expectations come from the files and from /proc/self/cgroup read here,
 * not from what this project's machines happen to do. Without root the
 * tests that create cgroups are skipped with the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "kernel/cgroup.h"
#include "kernel/limits.h"

#define MIB (1024ULL * 1024)

struct fixture {
	bool root;
	char instance[64];
	struct sbx_cgroot cg;		/* the test instance's sbx cgroup2 root */
	char v2_path[PATH_MAX];		/* the fake sandbox's cgroup2 directory */
	int v2_fd;
	struct sbx_limits l;
	char made[SBX_V1_N][PATH_MAX];	/* v1 directories to be gone at the end */
};

#define SKIP_UNLESS_ROOT(fx)								\
	do {										\
		if (!(fx)->root) {							\
			SKIP_BECAUSE("creating cgroups needs root"); \
		}									\
	} while (0)

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	uint64_t id;

	if (!fx)
		return -1;
	fx->v2_fd = -1;
	snprintf(fx->instance, sizeof(fx->instance), "sbxtest-limits-%d", (int)getpid());
	*state = fx;
	if (geteuid() != 0)
		return 0;
	if (sbx_cgroot_get(&fx->cg, fx->instance, 1) < 0)
		return -1;
	fx->v2_fd = sbx_cgroup_create(&fx->cg, "sb", fx->v2_path, sizeof(fx->v2_path), &id);
	if (fx->v2_fd < 0)
		return -1;
	fx->root = true;
	return 0;
}

/* Everything the test made is gone: v1 directories with their instance
 * directory (kept by destroy for the next sandbox, removed as sbx unload
 * does), the sandbox's cgroup2 directory and the sbx root. */
static int teardown(void **state)
{
	struct fixture *fx = *state;
	int bad = 0;

	sbx_limits_destroy(&fx->l);
	sbx_limits_remove_instance(fx->instance);
	if (fx->root) {
		close(fx->v2_fd);
		sbx_cgroup_destroy(fx->v2_path);
		rmdir(fx->cg.path);
		bad = access(fx->v2_path, F_OK) == 0 || access(fx->cg.path, F_OK) == 0;
	}
	for (int h = 0; h < SBX_V1_N; h++) {
		char *slash;

		if (!fx->made[h][0])
			continue;
		bad |= access(fx->made[h], F_OK) == 0;
		slash = strrchr(fx->made[h], '/');
		*slash = 0;
		bad |= access(fx->made[h], F_OK) == 0;
	}
	free(fx);
	return bad ? -1 : 0;
}

static void remember(struct fixture *fx)
{
	for (int h = 0; h < SBX_V1_N; h++)
		if (fx->l.v1_path[h][0])
			memcpy(fx->made[h], fx->l.v1_path[h], sizeof(fx->made[h]));
}

static int create(struct fixture *fx, const char *v2_path, uint64_t mem, uint32_t milli,
		  uint32_t pids)
{
	struct sbx_profile p = { .memory_bytes = mem, .cpu_milli = milli, .pids = pids };
	char why[1024];
	int r;

	r = sbx_limits_create(&fx->l, fx->instance, "sb", v2_path, &p, why, sizeof(why));
	if (r == -EOPNOTSUPP) {
		SKIP_BECAUSE("%s", why);
	}
	if (r < 0)
		fail_msg("sbx_limits_create: %s (%s)", strerror(-r), why);
	remember(fx);
	return r;
}

static void read_file(const char *dir, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX + 64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	n = read(fd, buf, len - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

static void assert_file(const char *dir, const char *name, const char *want)
{
	char got[256];

	read_file(dir, name, got, sizeof(got));
	if (strcmp(got, want))
		fail_msg("%s/%s holds '%s', expected '%s'", dir, name, got, want);
}

static bool has_file(const char *dir, const char *name)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static bool lists_pid(const char *dir, pid_t pid)
{
	char path[PATH_MAX + 64];
	bool found = false;
	FILE *f;
	int p;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fscanf(f, "%d", &p) == 1)
		found = p == pid;
	fclose(f);
	return found;
}

/* The child: once released (and, with self, attached by itself), touches 8 MiB, burns ~100 ms of CPU, forks
 * `kids` children that pause, reports ready, and pauses. */
static void child_main(const struct sbx_limits *self, int go, int ready, int kids)
{
	struct timespec t0, t;
	volatile char *mem;
	char c;

	if (read(go, &c, 1) != 1)
		_exit(1);
	if (self && sbx_limits_attach_self(self) < 0)
		_exit(2);
	mem = malloc(8 * MIB);
	for (size_t i = 0; mem && i < 8 * MIB; i += 4096)
		mem[i] = 1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	do
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000000000L + t.tv_nsec - t0.tv_nsec < 100000000L);
	for (int i = 0; i < kids; i++)
		if (fork() == 0) {
			setsid();
			for (;;)
				pause();
		}
	if (write(ready, "r", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static void write_pid(const char *dir, pid_t pid)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "we");
	assert_non_null(f);
	fprintf(f, "%d\n", (int)pid);
	assert_int_equal(fclose(f), 0);
}

/* Forks the child held on a pipe, places it like a provider does (cgroup2
 * directory, then sbx_limits_attach, or sbx_limits_attach_self in the child
 * with self), releases it, waits until it is ready. */
static pid_t start_child(struct fixture *fx, const char *v2_path, int kids, bool self)
{
	int go[2], ready[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		child_main(self ? &fx->l : NULL, go[0], ready[1], kids);
	}
	close(go[0]);
	close(ready[1]);
	if (v2_path)
		write_pid(v2_path, pid);
	if (!self)
		assert_int_equal(sbx_limits_attach(&fx->l, pid), 0);
	assert_int_equal(write(go[1], "g", 1), 1);
	if (read(ready[0], &c, 1) != 1)
		fail_msg("the child did not start (attach_self failed?)");
	for (int h = 0; h < SBX_V1_N; h++)
		if (fx->l.v1_path[h][0] && !lists_pid(fx->l.v1_path[h], pid))
			fail_msg("%s/cgroup.procs does not list the attached child", fx->l.v1_path[h]);
	close(go[1]);
	close(ready[0]);
	return pid;
}

static int wait_signal(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) ? WTERMSIG(status) : -1;
}

/* Collects every child, grandchildren included (this process is their
 * subreaper); each must have died of SIGKILL. */
static int reap_all(void)
{
	int status, n = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, 0)) > 0) {
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			fail_msg("process %d ended with status 0x%x, not SIGKILL", (int)pid, status);
		n++;
	}
	assert_int_equal(errno, ECHILD);
	return n;
}

/* --- tests ------------------------------------------------------------------ */

/* Independent view: is ctrl in this process's /proc/self/cgroup (v1)? */
static bool self_in_v1(const char *ctrl)
{
	char line[PATH_MAX + 256];
	bool found = false;
	FILE *f = fopen("/proc/self/cgroup", "re");

	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f)) {
		char *list = strchr(line, ':'), *end;

		if (!list || !(end = strchr(++list, ':')))
			continue;
		*end = 0;
		for (char *tok = strtok(list, ","); tok && !found; tok = strtok(NULL, ","))
			found = !strcmp(tok, ctrl);
	}
	fclose(f);
	return found;
}

static bool has_word(const char *list, const char *word)
{
	char copy[1024];

	snprintf(copy, sizeof(copy), "%s", list);
	for (char *tok = strtok(copy, " \n"); tok; tok = strtok(NULL, " \n"))
		if (!strcmp(tok, word))
			return true;
	return false;
}

static void test_probe_names_every_limit(void **state)
{
	static const char *const keys[SBX_LIMIT_N] = { "memory", "cpu", "pids", "cpuset" };
	char why[2048], own[PATH_MAX], v2[PATH_MAX * 2], avail[1024] = "", key[32], *line;
	bool can[SBX_LIMIT_N];
	size_t n;
	FILE *f;

	(void)state;
	/* the sbx root would be <cgroup2 mount><own cgroup>/<instance> */
	assert_int_equal(sbx_cgroup2_mount(v2, sizeof(v2)), 0);
	f = fopen("/proc/self/cgroup", "re");
	assert_non_null(f);
	while (fgets(own, sizeof(own), f) && strncmp(own, "0::", 3))
		;
	fclose(f);
	own[strcspn(own, "\n")] = 0;
	n = strlen(v2);
	snprintf(v2 + n, sizeof(v2) - n, "%s", strcmp(own + 3, "/") ? own + 3 : "");
	read_file(v2, "cgroup.subtree_control", avail, sizeof(avail));
	n = strlen(v2);
	/* a root that does not exist yet: the probe must not create it */
	snprintf(v2 + n, sizeof(v2) - n, "/sbxtest-limits-probe-%d", (int)getpid());
	assert_int_equal(sbx_limits_probe(v2, can, why, sizeof(why)), 0);
	assert_int_equal(access(v2, F_OK), -1);
	for (int k = 0; k < SBX_LIMIT_N; k++) {
		snprintf(key, sizeof(key), "%s: ", keys[k]);
		line = strstr(why, key);
		if (!line)
			fail_msg("probe does not name %s: %s", keys[k], why);
		/* enforceable iff a v1 hierarchy has it or cgroup2 offers it */
		if (!can[k] && (self_in_v1(keys[k]) || has_word(avail, keys[k])))
			fail_msg("%s: reported unavailable although the host has it: %s", keys[k], why);
		assert_int_equal(!can[k], !strncmp(line + strlen(key), "no ", 3));
	}
}

static void test_invalid_arguments_create_nothing(void **state)
{
	struct fixture *fx = *state;
	struct sbx_profile p = { .memory_bytes = 64 * MIB };
	char why[256];

	assert_int_equal(sbx_limits_create(&fx->l, fx->instance, "a/b", NULL, &p, why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(sbx_limits_create(&fx->l, "", "sb", NULL, &p, why, sizeof(why)), -EINVAL);
	assert_int_equal(sbx_limits_create(&fx->l, fx->instance, "..", NULL, &p, why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(sbx_limits_attach(&fx->l, 0), -EINVAL);
	assert_int_equal(sbx_limits_read(NULL, NULL), -EINVAL);
	sbx_limits_destroy(NULL);
}

static void test_limit_files_hold_the_profile(void **state)
{
	struct fixture *fx = *state;
	const struct sbx_limits *l = &fx->l;
	const char *m = l->v1_path[SBX_V1_MEMORY], *c = l->v1_path[SBX_V1_CPU];

	SKIP_UNLESS_ROOT(fx);
	create(fx, fx->v2_path, 64 * MIB, 500, 16);
	assert_true(l->want[SBX_LIMIT_MEMORY] && l->want[SBX_LIMIT_CPU] && l->want[SBX_LIMIT_PIDS]);
	if (l->on_v2[SBX_LIMIT_MEMORY]) {
		assert_file(fx->v2_path, "memory.max", "67108864");
		if (has_file(fx->v2_path, "memory.swap.max"))
			assert_file(fx->v2_path, "memory.swap.max", "0");
	} else {
		assert_file(m, "memory.limit_in_bytes", "67108864");
		if (has_file(m, "memory.memsw.limit_in_bytes"))
			assert_file(m, "memory.memsw.limit_in_bytes", "67108864");
		assert_file(m, "memory.oom_control", "oom_kill_disable 0");
	}
	if (l->on_v2[SBX_LIMIT_CPU]) {
		assert_file(fx->v2_path, "cpu.max", "50000 100000");
	} else {
		assert_file(c, "cpu.cfs_period_us", "100000");
		assert_file(c, "cpu.cfs_quota_us", "50000");
	}
	assert_file(l->on_v2[SBX_LIMIT_PIDS] ? fx->v2_path : l->v1_path[SBX_V1_PIDS], "pids.max", "16");
}

/* cpus and cpu_weight: cpuset.cpus (v1: with the parent's cpuset.mems) and
 * cpu.weight, or v1 cpu.shares = weight * 1024 / 100. */
static void test_cpuset_and_weight_files(void **state)
{
	struct fixture *fx = *state;
	struct sbx_profile p = { .cpu_weight = 250 };
	const struct sbx_limits *l = &fx->l;
	char why[1024], mems[64];
	int r;

	SKIP_UNLESS_ROOT(fx);
	assert_int_equal(sbx_cpus_parse("0", p.cpus), 0);
	r = sbx_limits_create(&fx->l, fx->instance, "sb", fx->v2_path, &p, why, sizeof(why));
	if (r == -EOPNOTSUPP)
		SKIP_BECAUSE("%s", why);
	if (r < 0)
		fail_msg("sbx_limits_create: %s (%s)", strerror(-r), why);
	remember(fx);
	assert_true(l->want[SBX_LIMIT_CPU] && l->want[SBX_LIMIT_CPUSET] && !l->want[SBX_LIMIT_PIDS]);
	if (l->on_v2[SBX_LIMIT_CPU])
		assert_file(fx->v2_path, "cpu.weight", "250");
	else
		assert_file(l->v1_path[SBX_V1_CPU], "cpu.shares", "2560");
	if (l->on_v2[SBX_LIMIT_CPUSET]) {
		assert_file(fx->v2_path, "cpuset.cpus", "0");
	} else {
		assert_file(l->v1_path[SBX_V1_CPUSET], "cpuset.cpus", "0");
		read_file(l->v1_path[SBX_V1_CPUSET], "cpuset.mems", mems, sizeof(mems));
		assert_true(mems[0] >= '0' && mems[0] <= '9');
	}
	assert_int_equal(sbx_cpu_weight_to_shares(1), 10);
	assert_int_equal(sbx_cpu_weight_to_shares(100), 1024);
	assert_int_equal(sbx_cpu_weight_to_shares(10000), 102400);
}

/* A CPU that is not online is refused with its number; nothing is left. */
static void test_cpus_not_online_refused(void **state)
{
	struct fixture *fx = *state;
	struct sbx_profile p = { 0 };
	char why[1024];

	SKIP_UNLESS_ROOT(fx);
	assert_int_equal(sbx_cpus_parse("1023", p.cpus), 0);
	assert_int_equal(sbx_limits_create(&fx->l, fx->instance, "sb", fx->v2_path, &p, why,
					   sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "cpus: CPU 1023 is not online"));
	for (int h = 0; h < SBX_V1_N; h++)
		assert_string_equal(fx->l.v1_path[h], "");
}

/* Each v1 directory is <own v1 cgroup>/<instance>/<id>: the directory two
 * levels up lists this process (its own cgroup), in every hierarchy. */
static void test_v1_cgroups_are_beneath_own_cgroup(void **state)
{
	struct fixture *fx = *state;
	char own[PATH_MAX], tail[128];
	int used = 0;

	SKIP_UNLESS_ROOT(fx);
	create(fx, fx->v2_path, 64 * MIB, 250, 100);
	snprintf(tail, sizeof(tail), "/%s/sb", fx->instance);
	for (int h = 0; h < SBX_V1_N; h++) {
		const char *p = fx->l.v1_path[h];
		size_t n = strlen(p);

		if (!p[0])
			continue;
		used++;
		assert_true(n > strlen(tail) && !strcmp(p + n - strlen(tail), tail));
		snprintf(own, sizeof(own), "%.*s", (int)(n - strlen(tail)), p);
		if (!lists_pid(own, getpid()))
			fail_msg("%s is not the cgroup this process runs in", own);
	}
	if (!used) {
		SKIP_BECAUSE("no v1 hierarchy in use (pure cgroup2 host)");
	}
}

static void test_attach_read_kill_destroy(void **state)
{
	struct fixture *fx = *state;
	struct sbx_usage u;
	pid_t pid;

	SKIP_UNLESS_ROOT(fx);
	create(fx, fx->v2_path, 256 * MIB, 2000, 64);
	pid = start_child(fx, fx->v2_path, 3, false);
	assert_int_equal(sbx_limits_read(&fx->l, &u), 0);
	assert_false(u.oom_killed);
	if (u.peak_memory_bytes < 8 * MIB)
		fail_msg("peak memory %llu, the child touched 8 MiB",
			 (unsigned long long)u.peak_memory_bytes);
	if (u.cpu_user_us + u.cpu_system_us < 50000)
		fail_msg("CPU time %llu us, the child burned ~100 ms",
			 (unsigned long long)(u.cpu_user_us + u.cpu_system_us));
	assert_int_equal(sbx_limits_kill(&fx->l), 0);
	assert_int_equal(wait_signal(pid), SIGKILL);
	assert_int_equal(reap_all(), 3);
	for (int h = 0; h < SBX_V1_N; h++)
		if (fx->l.v1_path[h][0])
			assert_false(lists_pid(fx->l.v1_path[h], pid));
	sbx_limits_destroy(&fx->l);
	sbx_limits_destroy(&fx->l);	/* idempotent */
	for (int h = 0; h < SBX_V1_N; h++) {
		assert_string_equal(fx->l.v1_path[h], "");
		if (fx->made[h][0])
			assert_int_equal(access(fx->made[h], F_OK), -1);
	}
}

/* Without a cgroup2 directory (no cgroup.kill) the v1 freezer alone must
 * kill every process, and cpuacct must account the CPU time. The child
 * attaches itself (sbx_limits_attach_self). */
static void test_v1_only_freezer_kill_and_cpuacct(void **state)
{
	struct fixture *fx = *state;
	const char *fz = fx->l.v1_path[SBX_V1_FREEZER];
	struct sbx_usage u;

	SKIP_UNLESS_ROOT(fx);
	create(fx, NULL, 0, 0, 64);
	if (!fz[0]) {
		SKIP_BECAUSE("no v1 freezer hierarchy");
	}
	start_child(fx, NULL, 5, true);
	assert_int_equal(sbx_limits_read(&fx->l, &u), 0);
	if (fx->l.v1_path[SBX_V1_CPUACCT][0] && u.cpu_user_us + u.cpu_system_us < 50000)
		fail_msg("cpuacct accounted %llu us, the child burned ~100 ms",
			 (unsigned long long)(u.cpu_user_us + u.cpu_system_us));
	assert_int_equal(sbx_limits_kill(&fx->l), 0);
	assert_file(fz, "freezer.state", "THAWED");
	assert_int_equal(reap_all(), 6);
	for (int h = 0; h < SBX_V1_N; h++)
		if (fx->l.v1_path[h][0])
			assert_file(fx->l.v1_path[h], "cgroup.procs", "");
}

/* No limit asked: nothing is enforced, but memory (peak, OOM) and CPU time
 * are still accounted, and only the hierarchies for that are used. */
static void test_accounting_only_without_limits(void **state)
{
	struct fixture *fx = *state;
	const struct sbx_limits *l = &fx->l;
	struct sbx_usage u;

	SKIP_UNLESS_ROOT(fx);
	create(fx, fx->v2_path, 0, 0, 0);
	for (int k = 0; k < SBX_LIMIT_N; k++)
		assert_false(l->want[k]);
	assert_false(l->on_v2[SBX_LIMIT_CPU] || l->on_v2[SBX_LIMIT_PIDS]);
	assert_string_equal(l->v1_path[SBX_V1_CPU], "");
	assert_string_equal(l->v1_path[SBX_V1_PIDS], "");
	if (!l->on_v2[SBX_LIMIT_MEMORY] && self_in_v1("memory"))
		assert_string_not_equal(l->v1_path[SBX_V1_MEMORY], "");
	start_child(fx, fx->v2_path, 0, false);
	assert_int_equal(sbx_limits_read(l, &u), 0);
	if ((l->on_v2[SBX_LIMIT_MEMORY] && has_file(fx->v2_path, "memory.peak")) ||
	    l->v1_path[SBX_V1_MEMORY][0])
		assert_true(u.peak_memory_bytes >= 8 * MIB);
	assert_true(u.cpu_user_us + u.cpu_system_us >= 50000);
	assert_int_equal(sbx_limits_kill(&fx->l), 0);
	assert_int_equal(reap_all(), 1);
}

/* A limit the kernel refuses (pids.max above PID_MAX_LIMIT) fails the
 * create with the limit named in why, and removes what it made so far. */
static void test_failed_create_leaves_nothing(void **state)
{
	struct fixture *fx = *state;
	struct sbx_profile p = { .memory_bytes = 64 * MIB, .pids = 5000000 };
	char why[1024];

	SKIP_UNLESS_ROOT(fx);
	create(fx, fx->v2_path, 64 * MIB, 0, 1);	/* learns the directories */
	sbx_limits_destroy(&fx->l);
	assert_int_equal(sbx_limits_create(&fx->l, fx->instance, "sb", fx->v2_path, &p, why,
					   sizeof(why)), -EINVAL);
	assert_true(!strncmp(why, "pids: ", 6));
	for (int h = 0; h < SBX_V1_N; h++)
		assert_string_equal(fx->l.v1_path[h], "");
	/* teardown checks that made[] and their instance directories are gone */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_names_every_limit),
		cmocka_unit_test_setup_teardown(test_invalid_arguments_create_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_files_hold_the_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpuset_and_weight_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpus_not_online_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1_cgroups_are_beneath_own_cgroup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_read_kill_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1_only_freezer_kill_and_cpuacct, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounting_only_without_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_create_leaves_nothing, setup, teardown),
	};

	/* orphaned grandchildren come back here to be reaped and checked */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
