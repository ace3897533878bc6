/* SPDX-License-Identifier: MIT */
/*
 * Out of the box: the built-in "default" profile and where `sbx policy show`
 * (and `sbx run`, which shares cli/policy_source.c) finds a policy when no
 * PATH is named: $SBX_POLICY, else $SBX_POLICY_DIR, else the built-in.
 * $SBX_POLICY_DIR points into a temporary directory, never at /etc/sbx.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "cli/cli.h"
#include "cli/policy_source.h"
#include "policy.h"

static char dir[] = "/tmp/sbx-test-policy-source-XXXXXX";
static char empty[PATH_MAX], pdir[PATH_MAX];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	char path[PATH_MAX + 16];

	if (!mkdtemp(dir))
		return -1;
	snprintf(empty, sizeof(empty), "%s/empty", dir);
	snprintf(pdir, sizeof(pdir), "%s/policy.d", dir);
	if (mkdir(empty, 0755) < 0 || mkdir(pdir, 0755) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/web.toml", pdir);
	write_file(path, "[profile.web]\nprovider = \"host\"\nmin_isolation = \"none\"\n");
	snprintf(path, sizeof(path), "%s/README", pdir);	/* not a *.toml: ignored */
	write_file(path, "not a policy\n");
	unsetenv("SBX_POLICY");
	unsetenv("SBX_ENV");
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

struct run {
	int rc;
	char out[16384], err[4096];
};

/* Runs sbx_main() with args, stdout and stderr captured. */
static void run_sbx(struct run *res, const char *const *args)
{
	FILE *out = tmpfile(), *err = tmpfile();
	int argc = 0, save_out = dup(1), save_err = dup(2);
	char *argv[32];
	size_t n;

	assert_non_null(out);
	assert_non_null(err);
	argv[argc++] = "sbx";
	for (; *args; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	dup2(fileno(out), 1);
	dup2(fileno(err), 2);
	res->rc = sbx_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(save_out, 1);
	dup2(save_err, 2);
	close(save_out);
	close(save_err);
	rewind(out);
	rewind(err);
	n = fread(res->out, 1, sizeof(res->out) - 1, out);
	res->out[n] = 0;
	n = fread(res->err, 1, sizeof(res->err) - 1, err);
	res->err[n] = 0;
	fclose(out);
	fclose(err);
}

#define SBX(res, ...) run_sbx(res, (const char *const[]){ __VA_ARGS__, NULL })

#define assert_contains(hay, needle) do {					\
	if (!strstr((hay), (needle)))						\
		fail_msg("expected \"%s\" in:\n%s", (needle), (hay));		\
} while (0)

static void test_builtin_policy_has_default_profile(void **state)
{
	struct sbx_diags d = { 0 };
	struct sbx_policy *pol = NULL;
	const struct sbx_profile *p;

	assert_int_equal(sbx_policy_load_builtin(&pol, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(pol->n_profiles, 1);
	p = sbx_policy_find(pol, SBX_DEFAULT_PROFILE);
	assert_non_null(p);
	assert_string_equal(p->provider, "process");
	assert_int_equal(p->net.mode, SBX_NET_NONE);
	assert_int_equal(p->fs.mode, SBX_FS_READ_ONLY);
	assert_int_equal(p->timeout_ms, 600000);
	assert_int_equal(p->memory_bytes, 1ull << 30);
	assert_int_equal(p->cpu_milli, 1000);
	assert_int_equal(p->pids, 256);
	assert_int_equal(p->nofile, 1024);
	assert_int_equal(p->enforcement, SBX_ENFORCE_STRICT);
	sbx_policy_free(pol);
}

static void test_policy_dir_is_overridable(void **state)
{
	unsetenv("SBX_POLICY_DIR");
	assert_string_equal(cli_policy_dir(), "/etc/sbx/policy.d");
	setenv("SBX_POLICY_DIR", pdir, 1);
	assert_string_equal(cli_policy_dir(), pdir);
}

static void test_show_default_without_path_is_builtin(void **state)
{
	struct run r;

	setenv("SBX_POLICY_DIR", empty, 1);
	SBX(&r, "policy", "show", "--json", "--profile", "default");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "\"files\":[\"<built-in>\"]");
	assert_contains(r.out, "\"name\":\"default\",\"source\":\"<built-in>:");
	assert_contains(r.out, "\"provider\":\"process\"");
	assert_contains(r.out, "\"network\":{\"mode\":\"none\"");
	assert_contains(r.out, "\"filesystem\":{\"mode\":\"read-only\"");

	setenv("SBX_POLICY_DIR", "/nonexistent/sbx/policy.d", 1);
	SBX(&r, "policy", "show", "--profile", "default");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "profile default  (<built-in>:");
}

static void test_show_without_path_reads_policy_dir(void **state)
{
	struct run r;

	setenv("SBX_POLICY_DIR", pdir, 1);
	SBX(&r, "policy", "show", "--json");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "/policy.d/web.toml\"]");
	assert_contains(r.out, "{\"name\":\"web\",");
	assert_contains(r.out, "{\"name\":\"default\",\"source\":\"<built-in>:");
	/* a named PATH shows only its own profiles */
	SBX(&r, "policy", "show", "--json", pdir);
	assert_int_equal(r.rc, 0);
	if (strstr(r.out, "\"name\":\"default\""))
		fail_msg("built-in default listed with a PATH:\n%s", r.out);
	/* --profile default finds the built-in beside any PATH */
	SBX(&r, "policy", "show", "--json", "--profile", "default", pdir);
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "\"source\":\"<built-in>:");
}

static void test_policy_dir_default_replaces_builtin(void **state)
{
	char path[PATH_MAX + 16];
	struct run r;

	snprintf(path, sizeof(path), "%s/own", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/own/default.toml", dir);
	write_file(path, "[profile.default]\nprovider = \"host\"\nmin_isolation = \"none\"\n");
	path[strlen(path) - strlen("/default.toml")] = 0;
	setenv("SBX_POLICY_DIR", path, 1);
	SBX(&r, "policy", "show", "--json");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "/own/default.toml:1:");
	assert_contains(r.out, "\"provider\":\"host\"");
	if (strstr(r.out, "<built-in>"))
		fail_msg("built-in listed although the directory defines default:\n%s", r.out);
}

static void test_sbx_policy_wins_over_policy_dir(void **state)
{
	char path[PATH_MAX + 16];
	struct run r;

	snprintf(path, sizeof(path), "%s/env.toml", dir);
	write_file(path, "[profile.from-env]\n");
	setenv("SBX_POLICY_DIR", pdir, 1);
	setenv("SBX_POLICY", path, 1);
	SBX(&r, "policy", "show", "--json");
	unsetenv("SBX_POLICY");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "{\"name\":\"from-env\",");
	if (strstr(r.out, "\"name\":\"web\""))
		fail_msg("the policy directory was read although $SBX_POLICY is set:\n%s", r.out);
}

static void test_invalid_policy_dir_is_an_error(void **state)
{
	char path[PATH_MAX + 16];
	struct run r;

	snprintf(path, sizeof(path), "%s/bad", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/bad/x.toml", dir);
	write_file(path, "[profile.x]\nmemroy = \"1G\"\n");
	path[strlen(path) - strlen("/x.toml")] = 0;
	setenv("SBX_POLICY_DIR", path, 1);
	SBX(&r, "policy", "show", "--profile", "default");
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "/bad/x.toml:2:1: error: ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_policy_has_default_profile),
		cmocka_unit_test(test_policy_dir_is_overridable),
		cmocka_unit_test(test_show_default_without_path_is_builtin),
		cmocka_unit_test(test_show_without_path_reads_policy_dir),
		cmocka_unit_test(test_policy_dir_default_replaces_builtin),
		cmocka_unit_test(test_sbx_policy_wins_over_policy_dir),
		cmocka_unit_test(test_invalid_policy_dir_is_an_error),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
