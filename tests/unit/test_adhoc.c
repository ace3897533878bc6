/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for ad-hoc sandboxes (user/cli/adhoc.c) and for writing a
 * profile back as TOML (policy/emit.c): every flag's errors name the flag,
 * the tightening rule for each flag on a profile from a file, and that a
 * written profile loads back to an equal profile (a fixed point).
 * The error messages go to stderr, which these tests capture.
 */
#include <errno.h>
#include <unistd.h>

#include "testutil.h"
#include "cli/adhoc.h"
#include "cli/cli.h"

/* ---- helpers ------------------------------------------------------------- */

static struct sbx_policy *load(const char *name, const char *toml)
{
	struct sbx_diags d = { 0 };
	struct sbx_policy *pol = NULL;
	int r = sbx_policy_load_buffer(name, toml, strlen(toml), NULL, &pol, &d);

	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s:%u:%u: %s\n", d.v[i].file, d.v[i].line, d.v[i].col, d.v[i].msg);
	sbx_diags_free(&d);
	assert_int_equal(r, 0);
	return pol;
}

static char *to_toml(const struct sbx_profile *p)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(sbx_profile_write_toml(p, f), 0);
	fclose(f);
	return text;
}

/* adhoc_build() with stderr captured into err (a static buffer). */
static char err[4096];

static int build(const struct adhoc_args *a, const struct sbx_profile *base, bool widen,
		 struct adhoc_profile *ap)
{
	FILE *tmp = tmpfile();
	int save = dup(2), r;
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	r = adhoc_build(a, base, widen, ap);
	fflush(stderr);
	dup2(save, 2);
	close(save);
	rewind(tmp);
	n = fread(err, 1, sizeof(err) - 1, tmp);
	err[n] = '\0';
	fclose(tmp);
	return r;
}

#define assert_contains(hay, needle) do {					\
	if (!strstr((hay), (needle)))						\
		fail_msg("expected \"%s\" in:\n%s", (needle), (hay));		\
} while (0)

#define ARGS(field, ...) .field = { .v = { __VA_ARGS__ }, .n = sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *) }

static struct sbx_policy *builtin(void)
{
	struct sbx_diags d = { 0 };
	struct sbx_policy *pol = NULL;

	assert_int_equal(sbx_policy_load_builtin(&pol, &d), 0);
	return pol;
}

/* A profile from a file: flags may only tighten it (widen = false). */
static const char agent_toml[] =
	"[profile.agent]\n"
	"provider = \"process\"\n"
	"timeout = \"5m\"\n"
	"[profile.agent.network]\n"
	"mode = \"allow\"\n"
	"allow = [\"127.0.0.0/8:8000-9000/tcp\", \"api.example.org:443\", \"*.example.net\"]\n"
	"deny = [\"127.0.0.1:8500\"]\n"
	"[profile.agent.fs]\n"
	"mode = \"read-only\"\n"
	"rules = [{ path = \"/tmp/\", access = \"rw\" }, { path = \"/etc/shadow\", access = \"deny\" }]\n"
	"exec = [\"/usr/\"]\n";

/* Expects base + args to be refused (widen false) with msg, and accepted when widen. */
static void expect_widens(const struct adhoc_args *a, const char *msg)
{
	struct sbx_policy *pol = load("agent.toml", agent_toml);
	struct adhoc_profile ap;

	assert_int_equal(build(a, &pol->profiles[0], false, &ap), -EINVAL);
	assert_contains(err, msg);
	assert_contains(err, "would widen profile 'agent'");
	assert_int_equal(build(a, &pol->profiles[0], true, &ap), 0);
	assert_contains(err, "warning:");
	adhoc_profile_free(&ap);
	sbx_policy_free(pol);
}

static void expect_tightens(const struct adhoc_args *a)
{
	struct sbx_policy *pol = load("agent.toml", agent_toml);
	struct adhoc_profile ap;

	if (build(a, &pol->profiles[0], false, &ap) != 0)
		fail_msg("refused: %s", err);
	assert_string_equal(err, "");
	assert_string_equal(ap.p->name, "agent");
	adhoc_profile_free(&ap);
	sbx_policy_free(pol);
}

/* Expects the flags on the built-in default to fail with msg. */
static void expect_error(const struct adhoc_args *a, const char *msg)
{
	struct sbx_policy *pol = builtin();
	struct adhoc_profile ap;

	assert_int_equal(build(a, &pol->profiles[0], true, &ap), -EINVAL);
	assert_contains(err, msg);
	sbx_policy_free(pol);
}

/* ---- writing TOML ------------------------------------------------------------ */

/* Every key of a profile, with values that are not the defaults. */
static const char rich_toml[] =
	"[profile.\"ccos.rich-one_2\"]\n"
	"provider = \"gvisor\"\n"
	"min_isolation = \"gvisor\"\n"
	"timeout = \"1d2h3m4s5ms\"\n"
	"memory = 1048577\n"
	"cpu = 0.25\n"
	"pids = 7\n"
	"nofile = 100\n"
	"net_bytes = \"3G\"\n"
	"fsize = \"10M\"\n"
	"cwd = \"/srv\"\n"
	"user = 1000\n"
	"group = \"staff\"\n"
	"audit = \"all\"\n"
	"enforcement = \"best-effort\"\n"
	"allow_users = [\"alice\", \"1001\"]\n"
	"allow_groups = [\"wheel\"]\n"
	"env = { A = \"x \\\"quoted\\\" \\\\ \\n\\t\\u0001 é\", B_2 = \"\" }\n"
	"[profile.\"ccos.rich-one_2\".network]\n"
	"mode = \"deny\"\n"
	"allow = [\"[2001:db8::]/32:443/udp\"]\n"
	"deny = [\"10.0.0.0/8\", \"example.org:80-90/tcp\", \"*.example.net\", \"metadata:80/tcp\"]\n"
	"listen = [\"8080\", \"9000-9010/udp\"]\n"
	"raw_sockets = true\n"
	"namespace = \"private\"\n"
	"veth_host = \"10.200.9.1/30\"\n"
	"veth_sandbox = \"10.200.9.2/30\"\n"
	"dns = { upstream = [\"[2001:db8::53]:5353\"], ttl_floor = 0, refuse = \"nxdomain\" }\n"
	"[profile.\"ccos.rich-one_2\".fs]\n"
	"mode = \"read-write\"\n"
	"rules = [{ path = \"/etc/\", access = \"r\" }, { path = \"/x y\", access = \"deny\" }]\n"
	"exec = [\"/usr/bin/\"]\n"
	"[profile.\"ccos.rich-one_2\".seccomp]\n"
	"preset = \"strict\"\n"
	"action = \"kill\"\n"
	"deny = [\"ptrace\"]\n"
	"allow = [\"mount\"]\n"
	"[profile.\"ccos.rich-one_2\".mock]\n"
	"exit_code = 3\n"
	"stdout = \"out\\n\"\n"
	"stderr = \"err\"\n"
	"duration = \"2s\"\n"
	"fail = \"crash\"\n"
	"[profile.\"ccos.rich-one_2\".gvisor]\n"
	"platform = \"ptrace\"\n"
	"runsc = \"/usr/bin/runsc\"\n"
	"[profile.\"ccos.rich-one_2\".wasm]\n"
	"runtime = \"node\"\n"
	"[profile.\"ccos.rich-one_2\".microvm]\n"
	"backend = \"firecracker\"\n"
	"kernel = \"/k\"\n"
	"initrd = \"/i\"\n"
	"firecracker = \"/fc\"\n"
	"jailer = \"/j\"\n";

static void test_written_profile_loads_back_equal(void **state)
{
	struct sbx_policy *a = load("rich.toml", rich_toml), *b;
	const struct sbx_profile *p, *q;
	char *t1, *t2;

	p = &a->profiles[0];
	t1 = to_toml(p);
	b = load("written.toml", t1);
	q = &b->profiles[0];
	t2 = to_toml(q);
	assert_string_equal(t1, t2);
	assert_string_equal(q->name, p->name);
	assert_int_equal(q->timeout_ms, p->timeout_ms);
	assert_int_equal(q->memory_bytes, 1048577);
	assert_int_equal(q->cpu_milli, 250);
	assert_int_equal(q->net_bytes, 3ull << 30);
	assert_string_equal(q->env[0].value, p->env[0].value);
	assert_int_equal(q->net.n_entries, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(q->net.entries[i].text, p->net.entries[i].text);
		assert_int_equal(q->net.entries[i].deny, p->net.entries[i].deny);
	}
	assert_int_equal(q->net.entries[4].kind, SBX_NET_ENTRY_GROUP);
	assert_int_equal(q->net.dns.n_upstream, 1);
	assert_int_equal(q->net.dns.upstream[0].port, 5353);
	assert_int_equal(q->net.dns.ttl_floor_s, 0);
	assert_int_equal(q->net.dns.grace_s, SBX_DNS_GRACE_DEFAULT_S);
	assert_true(q->net.dns.nxdomain);
	assert_int_equal(q->net.listen[1].proto, SBX_PROTO_UDP);
	assert_int_equal(q->fs.rules[1].access, 0);
	assert_int_equal(q->seccomp.action, SBX_SECCOMP_KILL);
	assert_string_equal(q->mock.stdout_text, "out\n");
	assert_int_equal(q->mock.duration_ms, 2000);
	assert_string_equal(q->microvm.jailer, "/j");
	assert_int_equal(q->enforcement, SBX_ENFORCE_BEST_EFFORT);
	free(t1);
	free(t2);
	sbx_policy_free(a);
	sbx_policy_free(b);
}

static void test_builtin_default_writes_back_equal(void **state)
{
	struct sbx_policy *a = builtin(), *b;
	char *t1 = to_toml(&a->profiles[0]), *t2;

	b = load("written.toml", t1);
	t2 = to_toml(&b->profiles[0]);
	assert_string_equal(t1, t2);
	assert_contains(t1, "timeout = \"10m\"\nmemory = \"1G\"\n");
	free(t1);
	free(t2);
	sbx_policy_free(a);
	sbx_policy_free(b);
}

/* ---- building on the built-in default -------------------------------------------- */

static void test_flags_on_builtin_make_profile_adhoc(void **state)
{
	struct adhoc_args a = { ARGS(net, "allow=127.0.0.1:8080,[::1]:9000/tcp"),
				ARGS(allow_host, "Example.ORG:443"), ARGS(ro, "/etc"),
				ARGS(exec, "/bin/sh"), .memory = "2G", .timeout = "1h" };
	struct sbx_policy *pol = builtin();
	struct adhoc_profile ap;
	const struct sbx_profile *p;

	assert_int_equal(build(&a, &pol->profiles[0], true, &ap), 0);
	assert_string_equal(err, "");
	p = ap.p;
	assert_string_equal(p->name, "adhoc");
	assert_int_equal(p->net.mode, SBX_NET_ALLOW);
	assert_int_equal(p->net.n_entries, 3);
	assert_string_equal(p->net.entries[1].text, "[::1]:9000/tcp");
	assert_string_equal(p->net.entries[2].text, "example.org:443");
	assert_int_equal(p->fs.n_rules, 1);
	assert_string_equal(p->fs.rules[0].path, "/etc/");
	/* read from --ro, execute kept from the read-only base */
	assert_int_equal(p->fs.rules[0].access, SBX_ACC_R | SBX_ACC_X);
	assert_int_equal(p->fs.n_exec, 1);
	assert_string_equal(p->fs.exec[0], "/usr/bin/dash");	/* the real path */
	/* the built-in default may be loosened: it is the caller's starting point */
	assert_int_equal(p->memory_bytes, 2ull << 30);
	assert_int_equal(p->timeout_ms, 3600000);
	adhoc_profile_free(&ap);
	sbx_policy_free(pol);
}

static void test_cwd_is_a_real_directory_on_any_profile(void **state)
{
	struct sbx_policy *pol = load("agent.toml", agent_toml);
	struct adhoc_profile ap;

	assert_int_equal(build(&(struct adhoc_args){ .cwd = "/usr/bin/.." }, &pol->profiles[0], false, &ap), 0);
	assert_string_equal(ap.p->cwd, "/usr");
	adhoc_profile_free(&ap);
	assert_int_equal(build(&(struct adhoc_args){ .cwd = "/" }, &pol->profiles[0], false, &ap), 0);
	assert_string_equal(ap.p->cwd, "/");
	adhoc_profile_free(&ap);
	sbx_policy_free(pol);
	expect_error(&(struct adhoc_args){ .cwd = "/etc/hostname" }, "--cwd '/etc/hostname': not a directory");
}

static void test_limits_alone_keep_the_profile(void **state)
{
	struct adhoc_args a = { .pids = "10" };
	struct sbx_policy *pol = builtin();
	struct adhoc_profile ap;

	assert_int_equal(build(&a, &pol->profiles[0], true, &ap), 0);
	assert_ptr_equal(ap.p, &ap.copy);
	assert_null(ap.pol);
	assert_string_equal(ap.p->name, "default");
	assert_int_equal(ap.p->pids, 10);
	adhoc_profile_free(&ap);
	sbx_policy_free(pol);
}

static void test_net_host_is_mode_full(void **state)
{
	struct adhoc_args a = { ARGS(net, "host") };
	struct sbx_policy *pol = builtin();
	struct adhoc_profile ap;

	assert_int_equal(build(&a, &pol->profiles[0], true, &ap), 0);
	assert_int_equal(ap.p->net.mode, SBX_NET_FULL);
	assert_int_equal(ap.p->net.namespace, SBX_NETNS_AUTO);	/* auto: the host's in mode full */
	adhoc_profile_free(&ap);
	sbx_policy_free(pol);
}

/* ---- flag errors --------------------------------------------------------------------- */

static void test_net_unknown_mode_suggests(void **state)
{
	expect_error(&(struct adhoc_args){ ARGS(net, "alow=1.2.3.4") },
		     "--net 'alow=1.2.3.4': unknown mode 'alow' (did you mean allow=?)");
	expect_error(&(struct adhoc_args){ ARGS(net, "nnoe") }, "(did you mean none?)");
	expect_error(&(struct adhoc_args){ ARGS(net, "full") }, "mode full is --net host");
	expect_error(&(struct adhoc_args){ ARGS(net, "allow") }, "did you mean allow=ADDR");
	expect_error(&(struct adhoc_args){ ARGS(net, "allow=") }, "no address after allow=");
	expect_error(&(struct adhoc_args){ ARGS(net, "sideways") },
		     "expected none, host or allow=ADDR[,ADDR...]");
}

static void test_net_entry_errors_are_the_policy_messages(void **state)
{
	expect_error(&(struct adhoc_args){ ARGS(net, "allow=10.0.0.1/8") },
		     "--net allow=10.0.0.1/8: 10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?");
	expect_error(&(struct adhoc_args){ ARGS(net, "allow=1.2.3.4:99999") }, "--net allow=1.2.3.4:99999: ");
	expect_error(&(struct adhoc_args){ ARGS(allow_host, "*") }, "--allow-host *: ");
	expect_error(&(struct adhoc_args){ ARGS(allow_host, "192.0.2.1:443") },
		     "is an address, not a host name (use --net allow=192.0.2.1:443)");
	expect_error(&(struct adhoc_args){ ARGS(allow_host, "private") },
		     "--allow-host 'private' is an address group, not a host name (use --net allow=private)");
}

static void test_net_conflicts(void **state)
{
	expect_error(&(struct adhoc_args){ ARGS(net, "none", "host") }, "--net none and --net host conflict");
	expect_error(&(struct adhoc_args){ ARGS(net, "host"), ARGS(allow_host, "a.org") },
		     "--net host conflicts with --allow-host");
	expect_error(&(struct adhoc_args){ ARGS(net, "none", "allow=1.2.3.4") },
		     "--net none conflicts with --net allow=");
}

static void test_path_errors(void **state)
{
	expect_error(&(struct adhoc_args){ ARGS(rw, "/nonexistent/sbx-test") },
		     "--rw '/nonexistent/sbx-test': No such file or directory");
	expect_error(&(struct adhoc_args){ ARGS(exec, "sbx-no-such-program") },
		     "--exec 'sbx-no-such-program': not found in $PATH");
	expect_error(&(struct adhoc_args){ ARGS(rw, "/tmp"), ARGS(ro, "/tmp/") },
		     "--rw and --ro both name '/tmp/'");
}

static void test_limit_errors(void **state)
{
	expect_error(&(struct adhoc_args){ .timeout = "1 minute" }, "--timeout '1 minute': expected a duration");
	expect_error(&(struct adhoc_args){ .memory = "1GB" }, "--memory '1GB': expected a size");
	expect_error(&(struct adhoc_args){ .pids = "-1" }, "--pids '-1': expected a number from 1");
}

/* ---- tightening a profile from a file ------------------------------------------------ */

static void test_net_tightening(void **state)
{
	expect_tightens(&(struct adhoc_args){ ARGS(net, "none") });
	expect_tightens(&(struct adhoc_args){ ARGS(net, "allow=127.0.0.1:8080/tcp,127.0.0.0/16:8000/tcp") });
	expect_tightens(&(struct adhoc_args){ ARGS(allow_host, "api.example.org:443", "a.b.example.net:80") });
	expect_widens(&(struct adhoc_args){ ARGS(net, "host") }, "--net host ");
	/* any protocol is more than tcp */
	expect_widens(&(struct adhoc_args){ ARGS(net, "allow=127.0.0.1:8080") }, "--net allow=127.0.0.1:8080 ");
	expect_widens(&(struct adhoc_args){ ARGS(net, "allow=127.0.0.1:9001/tcp") }, "allow=127.0.0.1:9001/tcp");
	/* the deny entry would lose to the longer allow entry */
	expect_widens(&(struct adhoc_args){ ARGS(net, "allow=127.0.0.1:8500/tcp") }, "8500");
	expect_widens(&(struct adhoc_args){ ARGS(allow_host, "example.net") }, "--allow-host example.net");
	expect_widens(&(struct adhoc_args){ ARGS(allow_host, "api.example.org") }, "api.example.org");
	/* a group lies inside no address or name entry of the profile */
	expect_widens(&(struct adhoc_args){ ARGS(net, "allow=loopback:8080/tcp") }, "allow=loopback:8080/tcp");
}

static void test_net_allow_keeps_the_base_deny_entries(void **state)
{
	struct adhoc_args a = { ARGS(net, "allow=127.0.0.0/8:8000-8999/tcp") };
	struct sbx_policy *pol = load("agent.toml", agent_toml);
	struct adhoc_profile ap;

	assert_int_equal(build(&a, &pol->profiles[0], false, &ap), -EINVAL);	/* overlaps the deny */
	assert_int_equal(build(&a, &pol->profiles[0], true, &ap), 0);
	assert_int_equal(ap.p->net.n_entries, 2);
	assert_true(ap.p->net.entries[1].deny);
	assert_string_equal(ap.p->net.entries[1].text, "127.0.0.1:8500");
	adhoc_profile_free(&ap);
	sbx_policy_free(pol);
}

static void test_fs_tightening(void **state)
{
	struct sbx_policy *pol = load("agent.toml", agent_toml);
	struct adhoc_profile ap;

	expect_tightens(&(struct adhoc_args){ ARGS(ro, "/etc") });
	expect_tightens(&(struct adhoc_args){ ARGS(rw, "/tmp") });
	expect_tightens(&(struct adhoc_args){ ARGS(ro, "/tmp") });
	expect_widens(&(struct adhoc_args){ ARGS(rw, "/etc") },
		      "--rw /etc would widen profile 'agent' (it gives '/etc/' access 'r'; --rw asks 'rw')");
	/* a rule of the base on the same path is replaced, not duplicated */
	assert_int_equal(build(&(struct adhoc_args){ ARGS(ro, "/tmp") }, &pol->profiles[0], false, &ap), 0);
	assert_int_equal(ap.p->fs.n_rules, 2);
	assert_string_equal(ap.p->fs.rules[0].path, "/tmp/");
	assert_int_equal(ap.p->fs.rules[0].access, SBX_ACC_R);
	adhoc_profile_free(&ap);
	sbx_policy_free(pol);
}

/* Mode none's base view (a private /tmp, /usr read-only) is not the host's
 * tree: a rule there binds the host's path, so it widens. */
static void test_fs_base_view_does_not_count(void **state)
{
	struct sbx_policy *pol = load("none.toml", "[profile.bare]\n[profile.bare.fs]\nmode = \"none\"\n");
	struct adhoc_profile ap;

	assert_int_equal(build(&(struct adhoc_args){ ARGS(rw, "/tmp") }, &pol->profiles[0], false, &ap),
			 -EINVAL);
	assert_contains(err, "--rw /tmp would widen profile 'bare' (it gives '/tmp/' access 'deny'");
	assert_int_equal(build(&(struct adhoc_args){ ARGS(ro, "/usr") }, &pol->profiles[0], false, &ap),
			 -EINVAL);
	sbx_policy_free(pol);
}

static void test_exec_tightening(void **state)
{
	expect_tightens(&(struct adhoc_args){ ARGS(exec, "/usr/bin/", "/bin/sh") });
	expect_widens(&(struct adhoc_args){ ARGS(exec, "/etc/") }, "--exec /etc/ ");
}

static void test_limit_tightening(void **state)
{
	expect_tightens(&(struct adhoc_args){ .timeout = "1m", .memory = "1G" });
	expect_widens(&(struct adhoc_args){ .timeout = "10m" }, "--timeout 10m ");
	expect_widens(&(struct adhoc_args){ .timeout = "0" }, "0 is no limit");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written_profile_loads_back_equal),
		cmocka_unit_test(test_builtin_default_writes_back_equal),
		cmocka_unit_test(test_flags_on_builtin_make_profile_adhoc),
		cmocka_unit_test(test_cwd_is_a_real_directory_on_any_profile),
		cmocka_unit_test(test_limits_alone_keep_the_profile),
		cmocka_unit_test(test_net_host_is_mode_full),
		cmocka_unit_test(test_net_unknown_mode_suggests),
		cmocka_unit_test(test_net_entry_errors_are_the_policy_messages),
		cmocka_unit_test(test_net_conflicts),
		cmocka_unit_test(test_path_errors),
		cmocka_unit_test(test_limit_errors),
		cmocka_unit_test(test_net_tightening),
		cmocka_unit_test(test_net_allow_keeps_the_base_deny_entries),
		cmocka_unit_test(test_fs_tightening),
		cmocka_unit_test(test_fs_base_view_does_not_count),
		cmocka_unit_test(test_exec_tightening),
		cmocka_unit_test(test_limit_tightening),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
