/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the kernel feature probes (user/kernel/features.c) and `sbx
 * features`. Expectations come from independent attempts made here, not
 * from what this project's machines happen to do. Assertions that need root
 * are skipped, with the reason, when the test runs unprivileged.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "testutil.h"
#include "kernel/features.h"

/* One full probe shared by the tests (it takes tens of milliseconds). */
static struct sbx_features feats;

static int setup(void **state)
{
	return sbx_features_probe(&feats);
}

#define SKIP_UNLESS_ROOT(why)							\
	do {									\
		if (geteuid() != 0) {						\
			SKIP_BECAUSE("%s needs root", why); \
		}								\
	} while (0)

static const struct sbx_feature *row(const char *name)
{
	const struct sbx_feature *it = sbx_features_find(&feats, name);

	if (!it)
		fail_msg("no row named %s", name);
	return it;
}

static void test_rows_are_named_unique_and_explained(void **state)
{
	struct utsname u;

	assert_int_equal(uname(&u), 0);
	assert_string_equal(feats.kernel, u.release);
	assert_true(feats.n > 0 && feats.n <= SBX_FEATURES_MAX);
	for (size_t i = 0; i < feats.n; i++) {
		assert_true(feats.items[i].name[0] != '\0');
		assert_true(feats.items[i].detail[0] != '\0');
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(feats.items[i].name, feats.items[j].name);
	}
}

static void test_typed_fields_match_rows(void **state)
{
	assert_int_equal(feats.cgroup2, row("cgroup2")->available);
	assert_int_equal(feats.clone_into_cgroup, row("clone_into_cgroup")->available);
	assert_int_equal(feats.prog_cgroup_sock_addr, row("bpf_prog_cgroup_sock_addr")->available);
	assert_int_equal(feats.prog_cgroup_sock, row("bpf_prog_cgroup_sock")->available);
	assert_int_equal(feats.prog_cgroup_skb, row("bpf_prog_cgroup_skb")->available);
	assert_int_equal(feats.prog_tracing, row("bpf_prog_tracing")->available);
	assert_int_equal(feats.prog_lsm, row("bpf_prog_lsm")->available);
	assert_int_equal(feats.prog_syscall, row("bpf_prog_syscall")->available);
	assert_int_equal(feats.map_ringbuf, row("bpf_map_ringbuf")->available);
	assert_int_equal(feats.map_lpm_trie, row("bpf_map_lpm_trie")->available);
	assert_int_equal(feats.map_array_of_maps, row("bpf_map_array_of_maps")->available);
	assert_int_equal(feats.bpf_lsm, row("bpf_lsm")->available);
	assert_int_equal(feats.tp_btf, row("tp_btf")->available);
	assert_int_equal(feats.fentry, row("fentry")->available);
	assert_int_equal(feats.landlock_abi > 0, row("landlock")->available);
	assert_int_equal(feats.seccomp, row("seccomp")->available);
	assert_int_equal(feats.userns, row("user_namespaces")->available);
	assert_int_equal(feats.bpffs, row("bpffs")->available);
	assert_int_equal(feats.btf_vmlinux, row("btf_vmlinux")->available);
	assert_non_null(row("lockdown"));
}

static void test_cached_probes_agree_with_full_probe(void **state)
{
	assert_int_equal(sbx_bpf_lsm_supported(), feats.bpf_lsm);
	assert_int_equal(sbx_tp_btf_supported(), feats.tp_btf);
	assert_int_equal(sbx_clone_into_cgroup_supported(), feats.clone_into_cgroup);
	assert_int_equal(sbx_userns_supported(), feats.userns);
	assert_int_equal(sbx_ringbuf_supported(), feats.map_ringbuf);
	assert_int_equal(sbx_landlock_abi(), feats.landlock_abi);
}

static void test_landlock_abi_matches_direct_syscall(void **state)
{
	char why[SBX_FEATURE_DETAIL_MAX] = "";
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
			   LANDLOCK_CREATE_RULESET_VERSION);
	int r = sbx_probe_landlock(why, sizeof(why));

	assert_true(why[0] != '\0');
	if (abi > 0) {
		assert_int_equal(r, abi);
		assert_int_equal(feats.landlock_abi, abi);
	} else {
		assert_true(r < 0);
		assert_int_equal(feats.landlock_abi, 0);
	}
}

/* Independent attempt: a do-nothing lsm/file_open loaded with raw bpf(). */
static int lsm_load_errno(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_LSM_MAC);
	struct btf *btf = btf__load_vmlinux_btf();
	int id, fd;

	if (!btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, "bpf_lsm_file_open", BTF_KIND_FUNC);
	btf__free(btf);
	if (id < 0)
		return -ENOENT;
	opts.attach_btf_id = (__u32)id;
	fd = bpf_prog_load(BPF_PROG_TYPE_LSM, NULL, "GPL", insns, 2, &opts);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* 1 if "bpf" is an active LSM, 0 if not, -1 when the kernel cannot say. */
static int lsm_listed(void)
{
	__u64 ids[32];
	__u32 size = sizeof(ids);
	long n = syscall(461 /* lsm_list_modules, Linux 6.8+ */, ids, &size, 0);
	char buf[512] = ",";
	FILE *f;

	if (n < 0) {
		f = fopen("/sys/kernel/security/lsm", "re");
		if (!f)
			return -1;
		if (!fgets(buf + 1, sizeof(buf) - 2, f))
			buf[1] = '\0';
		fclose(f);
		buf[strcspn(buf, "\n")] = '\0';
		strcat(buf, ",");
		return strstr(buf, ",bpf,") != NULL;
	}
	for (long i = 0; i < n; i++)
		if (ids[i] == 109 /* LSM_ID_BPF */)
			return 1;
	return 0;
}

static void test_bpf_lsm_agrees_with_independent_load(void **state)
{
	const struct sbx_feature *it = row("bpf_lsm");
	int e, listed;

	SKIP_UNLESS_ROOT("loading an LSM program");
	e = lsm_load_errno();
	listed = lsm_listed();
	if (e == -ENOENT) {
		assert_false(feats.bpf_lsm);
		SKIP_BECAUSE("no kernel BTF or no bpf_lsm_file_open: no BPF LSM here");
	}
	if (e < 0) {
		/* e.g. this project's machines: listed, but loading fails with EPERM */
		assert_false(feats.bpf_lsm);
		assert_true(strstr(it->detail, strerrorname_np(-e)) ||
			    strstr(it->detail, "not functional"));
		return;
	}
	if (listed < 0) {
		SKIP_BECAUSE("neither lsm_list_modules(2) nor securityfs says if bpf is active");
	}
	assert_int_equal(feats.bpf_lsm, listed == 1);
	assert_int_equal(feats.bpf_lsm_listed, listed == 1);
}

static void test_tp_btf_fires_as_root(void **state)
{
	SKIP_UNLESS_ROOT("loading a tp_btf program");
	assert_true(feats.tp_btf);
	assert_true(sbx_tp_btf_supported());
	assert_non_null(strstr(row("tp_btf")->detail, "fired"));
}

static void assert_gone(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == 0)
		fail_msg("probe cgroup %s was left behind", dir);
	assert_int_equal(errno, ENOENT);
}

static void test_clone_probe_leaves_no_cgroup(void **state)
{
	char dir[PATH_MAX], why[SBX_FEATURE_DETAIL_MAX] = "";
	int r;

	r = sbx_features_probe_dir(dir, sizeof(dir));
	if (r < 0) {
		SKIP_BECAUSE("no cgroup2 directory: %s", strerror(-r));
	}
	assert_gone(dir);		/* after the full probe in setup() */
	r = sbx_probe_clone_into_cgroup(why, sizeof(why));
	assert_true(why[0] != '\0');
	assert_gone(dir);
	if (geteuid() == 0 && r < 0 && r != -ENOSYS && r != -EINVAL)
		fail_msg("clone_into_cgroup failed as root: %s", why);
}

/* Runs cmd through the shell; returns its exit status. */
static int sh(const char *cmd)
{
	int st = system(cmd);

	return st < 0 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static void test_json_output_parses(void **state)
{
	static const char check[] =
		"import json, os, sys\n"
		"d = json.load(sys.stdin)\n"
		"assert isinstance(d['kernel'], str) and d['kernel']\n"
		"names = [f['name'] for f in d['features']]\n"
		"assert len(names) == len(set(names)) > 0\n"
		"for f in d['features']:\n"
		"    assert set(f) == {'name', 'available', 'detail'}, f\n"
		"    assert isinstance(f['available'], bool) and f['detail']\n"
		"assert d['fs_backend'] in ('bpf-lsm', 'landlock', 'none')\n"
		"c = [f for f in d['features'] if f['name'] == 'clone_into_cgroup'][0]\n"
		"for w in c['detail'].split():\n"
		"    if '/sbx-probe-' in w:\n"
		"        assert not os.path.exists(w), w + ' left behind'\n";
	const char *bin = getenv("SBX_BIN");
	char cmd[PATH_MAX + 512];

	if (!bin)
		SKIP_BECAUSE("SBX_BIN (the built sbx) is not set: make unit sets it");
	if (access(bin, X_OK) != 0)
		fail_msg("SBX_BIN=%s is not an executable: %m", bin);
	snprintf(cmd, sizeof(cmd), "'%s' features --json | python3 -c \"$PYCHECK\"", bin);
	assert_int_equal(setenv("PYCHECK", check, 1), 0);
	assert_int_equal(sh(cmd), 0);
	snprintf(cmd, sizeof(cmd), "'%s' features | grep -q '^FEATURE  *AVAILABLE  *DETAIL$'", bin);
	assert_int_equal(sh(cmd), 0);
	snprintf(cmd, sizeof(cmd), "'%s' features no_such_feature 2>/dev/null", bin);
	assert_int_equal(sh(cmd), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_are_named_unique_and_explained),
		cmocka_unit_test(test_typed_fields_match_rows),
		cmocka_unit_test(test_cached_probes_agree_with_full_probe),
		cmocka_unit_test(test_landlock_abi_matches_direct_syscall),
		cmocka_unit_test(test_bpf_lsm_agrees_with_independent_load),
		cmocka_unit_test(test_tp_btf_fires_as_root),
		cmocka_unit_test(test_clone_probe_leaves_no_cgroup),
		cmocka_unit_test(test_json_output_parses),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
