/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for providers/mock.c and the OCI bundle of providers/gvisor.c.
 *
 * mock: registration, validation, the simulated spawn failure, the timeout
 * it gives a profile without one, and (as root, with a cgroup2 directory to
 * clone into: the test's own cgroup) real runs of its child: the configured
 * stdout/stderr byte for byte, exit status, duration, crash (SIGSEGV), oom
 * without a limit (SIGKILL), timeout (alive until killed), and the same
 * result twice in a row (determinism).
 *
 * gvisor: config.json from profiles loaded from TOML, written by
 * sbx_gvisor_config into a file and read back by python3's json module
 * (skipped without python3); the skeleton root's mount points; and, as root,
 * prepare/cleanup under a test instance: the bundle directory, the removal
 * of a dead owner's directory and nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "policy.h"
#include "provider.h"

/* providers/gvisor.c, exported for these tests */
int sbx_gvisor_config(FILE *f, const struct sbx_profile *p, const struct sbx_fsplan *pl,
		      const char *id, char *const *argv, const char *rootfs, char *why, size_t len);

/* The plan run.c makes for gVisor on a host without BPF LSM and Landlock. */
static void gvisor_plan(const struct sbx_profile *p, struct sbx_fsplan *ret)
{
	struct sbx_fsplan_features ft = { .view = true, .provider = "gvisor" };
	char why[512];

	if (sbx_fsplan_make(p, &ft, ret, why, sizeof(why)) < 0)
		fail_msg("sbx_fsplan_make: %s", why);
}

static struct sbx_policy *load(const char *src)
{
	struct sbx_policy *p = NULL;
	struct sbx_diags d = { 0 };

	if (sbx_policy_load_buffer("t.toml", src, strlen(src), NULL, &p, &d) != 0) {
		for (size_t i = 0; i < d.n; i++)
			print_message("t.toml:%u: %s\n", d.v[i].line, d.v[i].msg);
		sbx_diags_free(&d);
		return NULL;
	}
	return p;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- mock ----------------------------------------------------------------- */

static void test_mock_registered(void **state)
{
	const struct sbx_provider *pv = sbx_provider_find("mock");
	char why[128] = "";

	(void)state;
	assert_non_null(pv);
	assert_int_equal(pv->level, SBX_ISO_NONE);
	assert_int_equal(pv->probe(why, sizeof(why)), 0);
	assert_non_null(strstr(pv->summary, "NOT isolated"));
}

static void test_mock_prepare_validates_and_sets_timeout(void **state)
{
	const struct sbx_provider *pv = sbx_provider_find("mock");
	struct sbx_profile p = { .name = "m" };
	struct sbx_spawn s = { .id = "sbx-00000001", .profile = &p };
	char why[256] = "";
	void *st = (void *)1;

	(void)state;
	p.mock.fail = "bogus";
	assert_int_equal(pv->prepare(&s, &st, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "bogus"));
	p.mock.fail = NULL;
	p.mock.exit_code = 256;
	assert_int_equal(pv->prepare(&s, &st, why, sizeof(why)), -EINVAL);
	p.mock.exit_code = 3;
	assert_int_equal(pv->prepare(&s, &st, why, sizeof(why)), 0);
	assert_int_equal(p.timeout_ms, 0);	/* only fail = "timeout" adds one */
	pv->cleanup(st);

	p.mock.fail = "timeout";
	assert_int_equal(pv->prepare(&s, &st, why, sizeof(why)), 0);
	assert_int_equal(p.timeout_ms, 1000);	/* the default */
	p.timeout_ms = 0;
	p.mock.duration_ms = 250;
	assert_int_equal(pv->prepare(&s, &st, why, sizeof(why)), 0);
	assert_int_equal(p.timeout_ms, 250);	/* the duration */
	p.timeout_ms = 5000;
	assert_int_equal(pv->prepare(&s, &st, why, sizeof(why)), 0);
	assert_int_equal(p.timeout_ms, 5000);	/* the profile's own stays */
	pv->cleanup(st);
}

static void test_mock_spawn_failure_is_simulated(void **state)
{
	const struct sbx_provider *pv = sbx_provider_find("mock");
	struct sbx_profile p = { .name = "m", .mock.fail = "spawn" };
	struct sbx_spawn s = { .id = "sbx-00000001", .profile = &p, .cgroup_fd = -1 };
	struct sbx_child c = { .pid = -1, .pidfd = -1 };
	char why[256] = "";
	void *st = NULL;

	(void)state;
	assert_int_equal(pv->prepare(&s, &st, why, sizeof(why)), 0);
	assert_true(pv->spawn(st, &s, &c, why, sizeof(why)) < 0);
	assert_non_null(strstr(why, "simulated"));
	assert_non_null(strstr(why, "mock"));
	assert_int_equal(c.pidfd, -1);	/* nothing was started */
	pv->cleanup(st);
}

/* The cgroup2 directory this test runs in (clone3 target), or -1. */
static int own_cgroup2(char *path, size_t len)
{
	char line[PATH_MAX], mnt[PATH_MAX] = "", self[PATH_MAX] = "";
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && fgets(line, sizeof(line), f)) {
		char m[PATH_MAX], fs[64];

		/* "... mountpoint opts ... - cgroup2 cgroup2 rw" */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", m) == 1 && strstr(line, " - cgroup2 ") &&
		    sscanf(strstr(line, " - ") + 3, "%63s", fs) == 1 && !mnt[0])
			snprintf(mnt, sizeof(mnt), "%s", m);
	}
	if (f)
		fclose(f);
	f = fopen("/proc/self/cgroup", "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(self, sizeof(self), "%s", line + 3);
		}
	if (f)
		fclose(f);
	if (!mnt[0] || !self[0])
		return -1;
	snprintf(path, len, "%s%s", mnt, strcmp(self, "/") ? self : "");
	return open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
}

struct mock_run {
	char out[4096], err[4096];
	int status;
	uint64_t ms;
	bool alive_after_200ms;
};

static void drain(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while ((n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = 0;
	close(fd);
}

/* Runs the mock child for profile p; 0, or 1 when it cannot run here. */
static int run_mock(struct sbx_profile *p, struct mock_run *r)
{
	const struct sbx_provider *pv = sbx_provider_find("mock");
	char cg[PATH_MAX], why[256] = "";
	struct sbx_spawn s = { .id = "sbx-00000002", .profile = p };
	struct sbx_child c = { .pid = -1, .pidfd = -1 };
	int o[2], e[2], saved_o, saved_e, rc;
	void *st = NULL;
	uint64_t t0;

	memset(r, 0, sizeof(*r));
	if (geteuid() != 0)
		return 1;
	s.cgroup_fd = own_cgroup2(cg, sizeof(cg));
	s.cgroup_path = cg;
	if (s.cgroup_fd < 0)
		return 1;
	assert_int_equal(pipe2(o, O_CLOEXEC), 0);
	assert_int_equal(pipe2(e, O_CLOEXEC), 0);
	fflush(stdout);
	fflush(stderr);
	saved_o = dup(1);
	saved_e = dup(2);
	dup2(o[1], 1);
	dup2(e[1], 2);
	assert_int_equal(pv->prepare(&s, &st, why, sizeof(why)), 0);
	t0 = now_ms();
	rc = pv->spawn(st, &s, &c, why, sizeof(why));
	dup2(saved_o, 1);
	dup2(saved_e, 2);
	close(saved_o);
	close(saved_e);
	close(o[1]);
	close(e[1]);
	close(s.cgroup_fd);
	if (rc < 0) {
		print_message("skipped: clone3 into %s: %s\n", cg, why);
		close(o[0]);
		close(e[0]);
		return 1;
	}
	assert_int_equal(c.exec_errno, 0);
	if (p->mock.fail && !strcmp(p->mock.fail, "timeout")) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		r->alive_after_200ms = kill(c.pid, 0) == 0 && waitpid(c.pid, NULL, WNOHANG) == 0;
		assert_int_equal(pv->signal(st, &c, SIGTERM), 0);
	}
	drain(o[0], r->out, sizeof(r->out));
	drain(e[0], r->err, sizeof(r->err));
	assert_int_equal(pv->wait(st, &c, &r->status), 0);
	r->ms = now_ms() - t0;
	pv->cleanup(st);
	return 0;
}

#define SKIP_IF_CANNOT(x)                                                             \
	do {                                                                          \
		if (x) {                                                              \
			SKIP_BECAUSE("needs root and a cgroup2 directory"); \
		}                                                                     \
	} while (0)

static void test_mock_child_output_status_duration(void **state)
{
	struct sbx_profile p = { .name = "m" };
	struct mock_run a, b;

	(void)state;
	p.mock.exit_code = 42;
	p.mock.stdout_text = "line one\nline two\n";
	p.mock.stderr_text = "warning: simulated\n";
	p.mock.duration_ms = 150;
	SKIP_IF_CANNOT(run_mock(&p, &a));
	assert_string_equal(a.out, "line one\nline two\n");
	assert_string_equal(a.err, "warning: simulated\n");
	assert_true(WIFEXITED(a.status));
	assert_int_equal(WEXITSTATUS(a.status), 42);
	assert_true(a.ms >= 150);
	/* deterministic: the same profile gives the same result */
	assert_int_equal(run_mock(&p, &b), 0);
	assert_string_equal(a.out, b.out);
	assert_string_equal(a.err, b.err);
	assert_int_equal(a.status, b.status);
	assert_true(b.ms >= 150);
}

static void test_mock_child_nothing_configured(void **state)
{
	struct sbx_profile p = { .name = "m" };
	struct mock_run a;

	(void)state;
	SKIP_IF_CANNOT(run_mock(&p, &a));
	assert_string_equal(a.out, "");
	assert_string_equal(a.err, "");
	assert_true(WIFEXITED(a.status));
	assert_int_equal(WEXITSTATUS(a.status), 0);
}

static void test_mock_child_failure_modes(void **state)
{
	struct sbx_profile p = { .name = "m", .mock.stdout_text = "partial\n" };
	struct mock_run a;

	(void)state;
	p.mock.fail = "crash";
	SKIP_IF_CANNOT(run_mock(&p, &a));
	assert_string_equal(a.out, "partial\n");
	assert_true(WIFSIGNALED(a.status));
	assert_int_equal(WTERMSIG(a.status), SIGSEGV);

	p.mock.fail = "oom";	/* no memory limit: SIGKILL only */
	assert_int_equal(run_mock(&p, &a), 0);
	assert_true(WIFSIGNALED(a.status));
	assert_int_equal(WTERMSIG(a.status), SIGKILL);

	p.mock.fail = "timeout";
	p.timeout_ms = 60000;
	assert_int_equal(run_mock(&p, &a), 0);
	assert_true(a.alive_after_200ms);
	assert_true(WIFSIGNALED(a.status));
	assert_int_equal(WTERMSIG(a.status), SIGTERM);
}

/* ---- gvisor config.json ----------------------------------------------------- */

struct bundle {
	char dir[64];		/* mkdtemp: rootfs/ and config.json inside */
	char rootfs[96];
	char config[96];
	struct sbx_policy *pol;
};

static int write_config(struct bundle *b, const char *toml, char *const *argv)
{
	char why[512] = "";
	struct sbx_fsplan pl;
	FILE *f;
	int r;

	snprintf(b->dir, sizeof(b->dir), "/tmp/sbx-test-gvisor.XXXXXX");
	assert_non_null(mkdtemp(b->dir));
	snprintf(b->rootfs, sizeof(b->rootfs), "%s/rootfs", b->dir);
	snprintf(b->config, sizeof(b->config), "%s/config.json", b->dir);
	assert_int_equal(mkdir(b->rootfs, 0755), 0);
	b->pol = load(toml);
	assert_non_null(b->pol);
	f = fopen(b->config, "we");
	assert_non_null(f);
	gvisor_plan(&b->pol->profiles[0], &pl);
	r = sbx_gvisor_config(f, &b->pol->profiles[0], &pl, "sbx-0badc0de", argv, b->rootfs, why,
			      sizeof(why));
	sbx_fsplan_free(&pl);
	assert_int_equal(fclose(f), 0);
	if (r < 0)
		print_message("sbx_gvisor_config: %s\n", why);
	return r;
}

static void bundle_free(struct bundle *b)
{
	char cmd[160];

	sbx_policy_free(b->pol);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->dir);
	assert_int_equal(system(cmd), 0);
}

static bool have_python(void)
{
	return system("python3 -c 'import json' >/dev/null 2>&1") == 0;
}

/* Runs python3 with c = the parsed config.json; the script asserts. */
static int py_check(const struct bundle *b, const char *script)
{
	char path[128], cmd[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/check.py", b->dir);
	f = fopen(path, "we");
	assert_non_null(f);
	fprintf(f, "import json, sys\nc = json.load(open(sys.argv[1]))\n"
		   "m = {x['destination']: x for x in c['mounts']}\n"
		   "ns = [n['type'] for n in c['linux']['namespaces']]\n%s\n", script);
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "python3 '%s' '%s'", path, b->config);
	return system(cmd);
}

#define NEED_PYTHON()                                                  \
	do {                                                           \
		if (!have_python()) {                                  \
			SKIP_BECAUSE("python3 is missing"); \
		}                                                      \
	} while (0)

static void test_gvisor_config_fs_none(void **state)
{
	static char *const argv[] = { "sh", "-c", "echo \"quoted\" 'x'", NULL };
	struct bundle b;
	char path[160];
	struct stat st;

	(void)state;
	NEED_PYTHON();
	setenv("SBX_TEST_HOST_SECRET", "leak", 1);
	assert_int_equal(write_config(&b,
		"version = 1\n"
		"[profile.g]\nprovider = \"gvisor\"\nmin_isolation = \"gvisor\"\n"
		"nofile = 256\ncwd = \"/tmp\"\nenv = { GREETING = \"hi\" }\n"
		"[profile.g.network]\nmode = \"none\"\n"
		"[profile.g.fs]\nmode = \"none\"\n"
		"rules = [ { path = \"/etc/hostname\", access = \"r\" },\n"
		"          { path = \"/var/tmp/\", access = \"rw\" },\n"
		"          { path = \"/usr/share/\", access = \"deny\" },\n"
		"          { path = \"/srv/not-there-sbx/\", access = \"r\" } ]\n", argv), 0);
	unsetenv("SBX_TEST_HOST_SECRET");
	assert_int_equal(py_check(&b,
		"p = c['process']\n"
		"assert c['ociVersion'].startswith('1.0'), c['ociVersion']\n"
		"assert p['args'] == ['sh', '-c', 'echo \"quoted\" \\'x\\''], p['args']\n"
		"assert p['user'] == {'uid': 65534, 'gid': 65534}, p['user']\n"
		"assert p['cwd'] == '/tmp'\n"
		"assert 'GREETING=hi' in p['env'], p['env']\n"
		"names = sorted(e.split('=')[0] for e in p['env'])\n"
		"assert names == ['GREETING', 'HOME', 'PATH', 'TERM'], names\n"
		"assert p['noNewPrivileges'] is True\n"
		"assert all(v == [] for v in p['capabilities'].values()), p['capabilities']\n"
		"rl = {r['type']: r['hard'] for r in p['rlimits']}\n"
		"assert rl.get('RLIMIT_NOFILE') == 256 and rl.get('RLIMIT_CORE') == 0, rl\n"
		"assert c['root']['readonly'] is True\n"
		"assert c['root']['path'].endswith('/rootfs'), c['root']\n"
		"assert c['hostname'] == 'sbx-0badc0de'\n"
		"assert m['/usr']['type'] == 'bind' and 'ro' in m['/usr']['options'], m['/usr']\n"
		"assert m['/etc/passwd']['source'] == '/etc/passwd' and 'ro' in m['/etc/passwd']['options']\n"
		"assert m['/proc']['type'] == 'proc'\n"
		"assert m['/tmp']['type'] == 'tmpfs'\n"
		"assert 'ro' in m['/etc/hostname']['options'] and 'noexec' in m['/etc/hostname']['options']\n"
		"assert 'rw' in m['/var/tmp']['options'], m['/var/tmp']\n"
		"assert m['/usr/share']['type'] == 'tmpfs' and 'ro' in m['/usr/share']['options']\n"
		"assert '/srv/not-there-sbx' not in m\n"
		"assert '/etc/shadow' not in m and '/home' not in m\n"
		"d = [x['destination'] for x in c['mounts']]\n"
		"assert d.index('/usr') < d.index('/usr/share'), d\n"
		"assert ns == ['pid', 'mount', 'ipc', 'uts', 'network'], ns\n"), 0);
	/* mount points of the skeleton root */
	snprintf(path, sizeof(path), "%s/usr", b.rootfs);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	snprintf(path, sizeof(path), "%s/etc/passwd", b.rootfs);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode) && st.st_size == 0);
	snprintf(path, sizeof(path), "%s/var/tmp", b.rootfs);
	assert_int_equal(stat(path, &st), 0);
	if (lstat("/bin", &st) == 0 && S_ISLNK(st.st_mode)) {
		snprintf(path, sizeof(path), "%s/bin", b.rootfs);
		assert_int_equal(lstat(path, &st), 0);
		assert_true(S_ISLNK(st.st_mode));	/* merged /usr: the link, not a bind */
	}
	bundle_free(&b);
}

static void test_gvisor_config_host_root_modes(void **state)
{
	static char *const argv[] = { "/bin/true", NULL };
	struct bundle b;

	(void)state;
	NEED_PYTHON();
	assert_int_equal(write_config(&b,
		"version = 1\n[profile.g]\nprovider = \"gvisor\"\nuser = \"0\"\ngroup = \"0\"\n"
		"[profile.g.network]\nmode = \"allow\"\nallow = [\"127.0.0.1:80\"]\n"
		"[profile.g.fs]\nmode = \"read-only\"\n"
		"rules = [ { path = \"/etc/shadow\", access = \"deny\" } ]\n", argv), 0);
	assert_int_equal(py_check(&b,
		"assert c['root'] == {'path': '/', 'readonly': True}, c['root']\n"
		"assert c['process']['user'] == {'uid': 0, 'gid': 0}\n"
		"assert 'network' not in ns, ns\n"
		"assert m['/tmp']['type'] == 'tmpfs'\n"
		"assert m['/etc/shadow']['source'] == '/dev/null', m['/etc/shadow']\n"
		"assert '/usr' not in m\n"), 0);
	bundle_free(&b);

	assert_int_equal(write_config(&b,
		"version = 1\n[profile.g]\nprovider = \"gvisor\"\n"
		"[profile.g.network]\nmode = \"full\"\n[profile.g.fs]\nmode = \"full\"\n", argv), 0);
	assert_int_equal(py_check(&b,
		"assert c['root'] == {'path': '/', 'readonly': False}, c['root']\n"
		"assert '/tmp' not in m and list(m) == ['/proc'], list(m)\n"
		"assert 'network' not in ns\n"), 0);
	bundle_free(&b);
}

static void test_gvisor_config_rejects_unknown_user(void **state)
{
	static char *const argv[] = { "/bin/true", NULL };
	struct bundle b;

	(void)state;
	assert_true(write_config(&b, "version = 1\n[profile.g]\nprovider = \"gvisor\"\n"
				 "user = \"no-such-user-sbx\"\n", argv) < 0);
	bundle_free(&b);
}

/* The mounts follow the plan: the rules shortest path first whatever their
 * order in the file (a deny written before the directory around it is still
 * masked, after the directory's bind; a narrower "r" keeps its noexec over
 * the "rx" directory's bind), and /tmp is not executable, as in the process
 * provider's view. Before the plan, the bundle listed the rules in file
 * order and /tmp was executable. */
static void test_gvisor_config_rules_in_path_order(void **state)
{
	static char *const argv[] = { "/bin/true", NULL };
	char tree[64], toml[1024], script[1024], cmd[128];
	struct bundle b;

	(void)state;
	NEED_PYTHON();
	snprintf(tree, sizeof(tree), "/var/tmp/sbx-test-order.XXXXXX");
	assert_non_null(mkdtemp(tree));
	snprintf(cmd, sizeof(cmd), "mkdir %s/secret %s/sub", tree, tree);
	assert_int_equal(system(cmd), 0);
	snprintf(toml, sizeof(toml),
		 "version = 1\n[profile.g]\nprovider = \"gvisor\"\n[profile.g.fs]\nmode = \"none\"\n"
		 "rules = [ { path = \"%s/secret/\", access = \"deny\" },\n"
		 "          { path = \"%s/sub/\", access = \"r\" },\n"
		 "          { path = \"%s/\", access = \"rx\" } ]\n", tree, tree, tree);
	assert_int_equal(write_config(&b, toml, argv), 0);
	snprintf(script, sizeof(script),
		 "t = '%s'\n"
		 "d = [x['destination'] for x in c['mounts']]\n"
		 "assert t + '/secret' in m, d\n"
		 "assert m[t + '/secret']['type'] == 'tmpfs', m[t + '/secret']\n"
		 "assert d.index(t) < d.index(t + '/secret'), d\n"
		 "assert d.index(t) < d.index(t + '/sub'), d\n"
		 "assert 'noexec' in m[t + '/sub']['options'], m[t + '/sub']\n"
		 "assert 'noexec' not in m[t]['options'], m[t]\n"
		 "assert 'noexec' in m['/tmp']['options'], m['/tmp']\n"
		 "assert 'noexec' in m['/proc']['options'], m['/proc']\n", tree);
	assert_int_equal(py_check(&b, script), 0);
	bundle_free(&b);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
	assert_int_equal(system(cmd), 0);
}

/* As root: prepare writes /run/<instance>/gvisor/<id>/{owner,config.json,
 * rootfs,state...}, removes a dead owner's directory and only that, and
 * cleanup removes the sandbox's directory. */
static void test_gvisor_prepare_cleanup_and_stale(void **state)
{
	const struct sbx_provider *pv = sbx_provider_find("gvisor");
	char inst[64], rundir[96], base[128], dead[192], live[192], other[192], mine[192], cmd[256];
	char why[512] = "";
	struct sbx_policy *pol;
	struct sbx_spawn s = { .id = "sbx-1234abcd" };
	struct sbx_fsplan fp;
	static char *const argv[] = { "/bin/true", NULL };
	unsigned long long start = 0;
	void *st = NULL;
	FILE *f;

	(void)state;
	if (geteuid() != 0) {
		SKIP_BECAUSE("/run needs root");
	}
	assert_non_null(pv);
	snprintf(inst, sizeof(inst), "sbxtest-gvisor-%d", (int)getpid());
	setenv("SBX_INSTANCE", inst, 1);
	snprintf(rundir, sizeof(rundir), "/run/%s", inst);
	s.run_dir = rundir;
	snprintf(base, sizeof(base), "/run/%s/gvisor", inst);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", base);
	assert_int_equal(system(cmd), 0);
	snprintf(dead, sizeof(dead), "%s/sbx-deadbeef", base);
	snprintf(live, sizeof(live), "%s/sbx-0000000a", base);
	snprintf(other, sizeof(other), "%s/keep-me", base);
	assert_int_equal(mkdir(dead, 0700), 0);
	assert_int_equal(mkdir(live, 0700), 0);
	assert_int_equal(mkdir(other, 0700), 0);
	snprintf(cmd, sizeof(cmd), "%s/owner", dead);
	f = fopen(cmd, "we");
	fprintf(f, "%d 1\n", 0x3fffffff);	/* no such pid */
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s/state", dead);
	assert_int_equal(mkdir(cmd, 0700), 0);
	/* a live owner: this process, with its real start time */
	f = fopen("/proc/self/stat", "re");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
				"%*d %*d %*d %*d %*d %*d %llu", &start), 1);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s/owner", live);
	f = fopen(cmd, "we");
	fprintf(f, "%d %llu\n", (int)getpid(), start);
	fclose(f);

	/* runsc itself is not started by prepare: any executable will do */
	pol = load("version = 1\n[profile.g]\nprovider = \"gvisor\"\n"
		   "[profile.g.gvisor]\nplatform = \"ptrace\"\nrunsc = \"/bin/true\"\n");
	assert_non_null(pol);
	s.profile = &pol->profiles[0];
	s.argv = argv;
	gvisor_plan(s.profile, &fp);
	s.fs = &fp;
	assert_int_equal(pv->prepare(&s, &st, why, sizeof(why)), 0);
	snprintf(mine, sizeof(mine), "%s/sbx-1234abcd/config.json", base);
	assert_int_equal(access(mine, F_OK), 0);
	snprintf(mine, sizeof(mine), "%s/sbx-1234abcd/owner", base);
	assert_int_equal(access(mine, F_OK), 0);
	assert_int_equal(access(dead, F_OK), -1);	/* dead owner: removed */
	assert_int_equal(access(live, F_OK), 0);	/* live owner: kept */
	assert_int_equal(access(other, F_OK), 0);	/* not a sandbox id: kept */
	pv->cleanup(st);
	snprintf(mine, sizeof(mine), "%s/sbx-1234abcd", base);
	assert_int_equal(access(mine, F_OK), -1);

	/* a missing runsc is named with the package to install */
	sbx_policy_free(pol);
	pol = load("version = 1\n[profile.g]\nprovider = \"gvisor\"\n"
		   "[profile.g.gvisor]\nrunsc = \"/nonexistent/runsc\"\n");
	assert_non_null(pol);
	s.profile = &pol->profiles[0];
	st = NULL;
	assert_int_equal(pv->prepare(&s, &st, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "/nonexistent/runsc"));
	assert_int_equal(access(mine, F_OK), -1);
	sbx_policy_free(pol);
	sbx_fsplan_free(&fp);

	snprintf(cmd, sizeof(cmd), "rm -rf /run/%s", inst);
	assert_int_equal(system(cmd), 0);
	unsetenv("SBX_INSTANCE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mock_registered),
		cmocka_unit_test(test_mock_prepare_validates_and_sets_timeout),
		cmocka_unit_test(test_mock_spawn_failure_is_simulated),
		cmocka_unit_test(test_mock_child_output_status_duration),
		cmocka_unit_test(test_mock_child_nothing_configured),
		cmocka_unit_test(test_mock_child_failure_modes),
		cmocka_unit_test(test_gvisor_config_fs_none),
		cmocka_unit_test(test_gvisor_config_host_root_modes),
		cmocka_unit_test(test_gvisor_config_rejects_unknown_user),
		cmocka_unit_test(test_gvisor_config_rules_in_path_order),
		cmocka_unit_test(test_gvisor_prepare_cleanup_and_stale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
