/* SPDX-License-Identifier: MIT */
/* The policy loader: keys, defaults, merging, overlays, errors with positions, files. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "policy.h"

#define ANY_POS 0xffffffffu

static void dump_diags(const struct sbx_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		print_message("  %s:%u:%u: error: %s\n", d->v[i].file, d->v[i].line, d->v[i].col, d->v[i].msg);
}

static struct sbx_policy *load_ok(const char *src, const char *env)
{
	struct sbx_policy *p = NULL;
	struct sbx_diags d = { 0 };
	int r = sbx_policy_load_buffer("t.toml", src, strlen(src), env, &p, &d);

	if (r != 0 || d.n) {
		dump_diags(&d);
		sbx_diags_free(&d);
		fail_msg("load failed (%d)", r);
	}
	assert_non_null(p);
	return p;
}

/* The diagnostic at line:col containing frag, or NULL. */
static const struct sbx_diag *find_diag(const struct sbx_diags *d, unsigned line, unsigned col, const char *frag)
{
	for (size_t i = 0; i < d->n; i++)
		if ((line == ANY_POS || (d->v[i].line == line && d->v[i].col == col)) && strstr(d->v[i].msg, frag))
			return &d->v[i];
	return NULL;
}

/* Loads src, expects failure with a diagnostic at line:col containing frag;
 * returns the number of diagnostics. */
static size_t expect_diag_env(const char *src, const char *env, unsigned line, unsigned col, const char *frag)
{
	struct sbx_policy *p = (struct sbx_policy *)0x1;
	struct sbx_diags d = { 0 };
	size_t n;
	int r = sbx_policy_load_buffer("t.toml", src, strlen(src), env, &p, &d);

	assert_int_equal(r, -EINVAL);
	assert_ptr_equal(p, (struct sbx_policy *)0x1);	/* all-or-nothing: untouched */
	if (!find_diag(&d, line, col, frag)) {
		dump_diags(&d);
		sbx_diags_free(&d);
		fail_msg("no diagnostic at %u:%u containing \"%s\"", line, col, frag);
	}
	for (size_t i = 0; i < d.n; i++)
		if (strcmp(d.v[i].file, "<policy>") != 0)	/* problems of the selected env have no file */
			assert_string_equal(d.v[i].file, "t.toml");
	n = d.n;
	sbx_diags_free(&d);
	return n;
}

static size_t expect_diag(const char *src, unsigned line, unsigned col, const char *frag)
{
	return expect_diag_env(src, NULL, line, col, frag);
}

/* ---- defaults and every key --------------------------------------------- */

static void unspecified_profile_gets_documented_defaults(void **state)
{
	struct sbx_policy *p = load_ok("[profile.\"a\"]\n", NULL);
	const struct sbx_profile *a = &p->profiles[0];

	(void)state;
	assert_int_equal(p->n_profiles, 1);
	assert_string_equal(a->name, "a");
	assert_string_equal(a->provider, "auto");
	assert_int_equal(a->min_isolation, SBX_ISO_PROCESS);
	assert_int_equal(a->timeout_ms, 0);
	assert_int_equal(a->memory_bytes, 0);
	assert_int_equal(a->cpu_milli, 0);
	assert_int_equal(a->pids, 0);
	assert_int_equal(a->nofile, 0);
	assert_int_equal(a->net_bytes, 0);
	assert_int_equal(a->n_env, 0);
	assert_null(a->cwd);
	assert_null(a->user);
	assert_null(a->group);
	assert_int_equal(a->audit, SBX_AUDIT_DENY);
	assert_int_equal(a->audit_rate, 100);
	assert_int_equal(a->audit_burst, 200);
	assert_int_equal(a->audit_deny_rate, 200);
	assert_int_equal(a->audit_deny_burst, 500);
	assert_int_equal(a->enforcement, SBX_ENFORCE_STRICT);
	assert_int_equal(a->n_allow_users, 0);
	assert_int_equal(a->n_allow_groups, 0);
	assert_int_equal(a->net.mode, SBX_NET_NONE);
	assert_int_equal(a->net.n_entries, 0);
	assert_int_equal(a->net.n_listen, 0);
	assert_false(a->net.raw_sockets);
	assert_int_equal(a->fs.mode, SBX_FS_NONE);
	assert_int_equal(a->fs.n_rules, 0);
	assert_int_equal(a->fs.n_exec, 0);
	assert_int_equal(a->fsize, 0);
	assert_int_equal(a->seccomp.preset, SBX_SECCOMP_DEFAULT);
	assert_int_equal(a->seccomp.action, SBX_SECCOMP_ERRNO);
	assert_int_equal(a->seccomp.n_deny, 0);
	assert_int_equal(a->seccomp.n_allow, 0);
	assert_int_equal(a->net.namespace, SBX_NETNS_AUTO);
	assert_null(a->net.veth_host);
	assert_null(a->net.veth_sandbox);
	assert_int_equal(a->mock.exit_code, 0);
	assert_null(a->mock.stdout_text);
	assert_null(a->mock.stderr_text);
	assert_int_equal(a->mock.duration_ms, 0);
	assert_null(a->mock.fail);
	assert_null(a->gvisor.platform);		/* NULL: the provider's default, systrap */
	assert_null(a->gvisor.runsc);
	assert_null(a->wasm.runtime);			/* auto */
	assert_null(a->microvm.backend);		/* qemu */
	assert_null(a->microvm.kernel);
	assert_null(a->microvm.initrd);
	assert_null(a->microvm.firecracker);
	assert_null(a->microvm.jailer);
	assert_string_equal(a->pos.file, "t.toml");
	assert_int_equal(a->pos.line, 1);
	assert_null(p->env);
	assert_int_equal(p->n_files, 1);
	assert_string_equal(p->files[0], "t.toml");
	sbx_policy_free(p);
}

static const char every_key_src[] =
	"version = 1\n"
	"[profile.\"x\"]\n"
	"provider = \"gvisor\"\n"
	"min_isolation = \"gvisor\"\n"
	"timeout = \"1m30s\"\n"
	"memory = \"64M\"\n"
	"cpu = 0.5\n"
	"pids = 100\n"
	"nofile = 1024\n"
	"net_bytes = \"1G\"\n"
	"env = { LANG = \"C\", _X1 = \"a=b\" }\n"
	"cwd = \"/srv/app\"\n"
	"user = \"nobody\"\n"
	"group = 65534\n"
	"audit = \"all\"\n"
	"enforcement = \"best-effort\"\n"
	"allow_users = [\"alice\", 1000]\n"
	"allow_groups = [\"ops\"]\n"
	"[profile.\"x\".network]\n"
	"mode = \"allow\"\n"
	"allow = [\"192.0.2.0/24:80-443/tcp\", { to = \"2001:db8::/32\", ports = \"80-443\", proto = \"tcp\" },\n"
	"         { to = \"api.example.org\", ports = 443 }, \"*.example.net\"]\n"
	"deny = [\"192.0.2.7\"]\n"
	"listen = [\"8080\", \"9000-9010/udp\", 7000]\n"
	"raw_sockets = true\n"
	"[profile.\"x\".fs]\n"
	"mode = \"read-write\"\n"
	"rules = [{ path = \"/etc/ssl/\", access = \"r\" }, { path = \"/etc/shadow\", access = \"deny\" },\n"
	"         { path = \"/opt/tool\", access = \"rx\" }]\n"
	"exec = [\"/usr/bin/\", \"/opt/tool\"]\n";

static void every_profile_key_is_parsed(void **state)
{
	struct sbx_policy *p = load_ok(every_key_src, NULL);
	const struct sbx_profile *x = sbx_policy_find(p, "x");

	(void)state;
	assert_non_null(x);
	assert_string_equal(x->provider, "gvisor");
	assert_int_equal(x->min_isolation, SBX_ISO_GVISOR);
	assert_int_equal(x->timeout_ms, 90000);
	assert_int_equal(x->memory_bytes, 64ull << 20);
	assert_int_equal(x->cpu_milli, 500);
	assert_int_equal(x->pids, 100);
	assert_int_equal(x->nofile, 1024);
	assert_int_equal(x->net_bytes, 1ull << 30);
	assert_int_equal(x->n_env, 2);
	assert_string_equal(x->env[0].name, "LANG");
	assert_string_equal(x->env[0].value, "C");
	assert_string_equal(x->env[1].name, "_X1");
	assert_string_equal(x->env[1].value, "a=b");
	assert_string_equal(x->cwd, "/srv/app");
	assert_string_equal(x->user, "nobody");
	assert_string_equal(x->group, "65534");
	assert_int_equal(x->audit, SBX_AUDIT_ALL);
	assert_int_equal(x->enforcement, SBX_ENFORCE_BEST_EFFORT);
	assert_int_equal(x->n_allow_users, 2);
	assert_string_equal(x->allow_users[0], "alice");
	assert_string_equal(x->allow_users[1], "1000");
	assert_int_equal(x->n_allow_groups, 1);
	assert_string_equal(x->allow_groups[0], "ops");
	sbx_policy_free(p);
}

static void network_section_is_parsed(void **state)
{
	struct sbx_policy *p = load_ok(every_key_src, NULL);
	const struct sbx_profile *x = sbx_policy_find(p, "x");
	const struct sbx_net_entry *e = x->net.entries;

	(void)state;
	assert_int_equal(x->net.mode, SBX_NET_ALLOW);
	assert_int_equal(x->net.n_entries, 5);
	assert_string_equal(e[0].text, "192.0.2.0/24:80-443/tcp");
	assert_false(e[0].deny);
	assert_int_equal(e[0].pos.line, 21);
	assert_int_equal(e[0].pos.col, 10);
	assert_string_equal(e[0].pos.file, "t.toml");
	assert_string_equal(e[1].text, "[2001:db8::]/32:80-443/tcp");
	assert_int_equal(e[1].family, AF_INET6);
	assert_string_equal(e[2].text, "api.example.org:443");
	assert_int_equal(e[2].kind, SBX_NET_ENTRY_HOST);
	assert_string_equal(e[3].text, "*.example.net");
	assert_int_equal(e[3].kind, SBX_NET_ENTRY_WILDCARD);
	assert_string_equal(e[4].text, "192.0.2.7");
	assert_true(e[4].deny);
	assert_int_equal(x->net.n_listen, 3);
	assert_int_equal(x->net.listen[0].lo, 8080);
	assert_int_equal(x->net.listen[1].lo, 9000);
	assert_int_equal(x->net.listen[1].hi, 9010);
	assert_int_equal(x->net.listen[1].proto, SBX_PROTO_UDP);
	assert_int_equal(x->net.listen[2].lo, 7000);
	assert_int_equal(x->net.listen[2].pos.line, 24);
	assert_true(x->net.raw_sockets);
	sbx_policy_free(p);
}

static void fs_section_is_parsed(void **state)
{
	struct sbx_policy *p = load_ok(every_key_src, NULL);
	const struct sbx_profile *x = sbx_policy_find(p, "x");

	(void)state;
	assert_int_equal(x->fs.mode, SBX_FS_READ_WRITE);
	assert_int_equal(x->fs.n_rules, 3);
	assert_string_equal(x->fs.rules[0].path, "/etc/ssl/");
	assert_true(x->fs.rules[0].dir);
	assert_int_equal(x->fs.rules[0].access, SBX_ACC_R);
	assert_string_equal(x->fs.rules[1].path, "/etc/shadow");
	assert_false(x->fs.rules[1].dir);
	assert_int_equal(x->fs.rules[1].access, 0);
	assert_int_equal(x->fs.rules[2].access, SBX_ACC_R | SBX_ACC_X);
	assert_int_equal(x->fs.rules[2].pos.line, 29);
	assert_int_equal(x->fs.n_exec, 2);
	assert_string_equal(x->fs.exec[0], "/usr/bin/");
	assert_string_equal(x->fs.exec[1], "/opt/tool");
	sbx_policy_free(p);
}

static void value_forms_cpu_timeout_size(void **state)
{
	struct sbx_policy *p = load_ok("[profile.a]\ncpu = 2\ntimeout = 45\nmemory = 2097152\n"
				       "[profile.b]\ncpu = \"0.25\"\ntimeout = \"250ms\"\nmemory = \"2MiB\"\n"
				       "net_bytes = 0\n"
				       "[profile.c]\ncpu = \"500m\"\ntimeout = \"2h\"\nmemory = \"1G\"\nnet_bytes = 4096\n",
				       NULL);

	(void)state;
	assert_int_equal(p->profiles[0].cpu_milli, 2000);
	assert_int_equal(p->profiles[0].timeout_ms, 45000);
	assert_int_equal(p->profiles[0].memory_bytes, 2097152);
	assert_int_equal(p->profiles[1].cpu_milli, 250);
	assert_int_equal(p->profiles[1].timeout_ms, 250);
	assert_int_equal(p->profiles[1].memory_bytes, 2ull << 20);
	assert_int_equal(p->profiles[1].net_bytes, 0);
	assert_int_equal(p->profiles[2].cpu_milli, 500);
	assert_int_equal(p->profiles[2].timeout_ms, 7200000);
	assert_int_equal(p->profiles[2].memory_bytes, 1ull << 30);
	assert_int_equal(p->profiles[2].net_bytes, 4096);
	sbx_policy_free(p);
}

static void access_forms_and_enums(void **state)
{
	struct sbx_policy *p = load_ok("[profile.a]\nmin_isolation = \"none\"\nprovider = \"mock\"\naudit = \"none\"\n"
				       "fs = { mode = \"full\", rules = [{ path = \"/a/\", access = \"rwx\" },\n"
				       "  { path = \"/b\", access = \"w\" }, { path = \"/c\", access = \"wx\" },\n"
				       "  { path = \"/d\", access = \"x\" }, { path = \"/e\", access = \"rw\" }] }\n"
				       "network = { mode = \"deny\" }\n"
				       "[profile.b]\nmin_isolation = \"microvm\"\nfs.mode = \"read-only\"\n"
				       "network.mode = \"full\"\n"
				       "[profile.c]\nmin_isolation = \"wasm\"\nprovider = \"wasm\"\n",
				       NULL);
	const struct sbx_profile *a = &p->profiles[0];

	(void)state;
	assert_int_equal(a->min_isolation, SBX_ISO_NONE);
	assert_int_equal(a->audit, SBX_AUDIT_NONE);
	assert_int_equal(a->fs.mode, SBX_FS_FULL);
	assert_int_equal(a->fs.rules[0].access, SBX_ACC_R | SBX_ACC_W | SBX_ACC_X);
	assert_int_equal(a->fs.rules[1].access, SBX_ACC_W);
	assert_int_equal(a->fs.rules[2].access, SBX_ACC_W | SBX_ACC_X);
	assert_int_equal(a->fs.rules[3].access, SBX_ACC_X);
	assert_int_equal(a->fs.rules[4].access, SBX_ACC_R | SBX_ACC_W);
	assert_int_equal(a->net.mode, SBX_NET_DENY);
	assert_int_equal(p->profiles[1].min_isolation, SBX_ISO_MICROVM);
	assert_int_equal(p->profiles[1].fs.mode, SBX_FS_READ_ONLY);
	assert_int_equal(p->profiles[1].net.mode, SBX_NET_FULL);
	assert_int_equal(p->profiles[2].min_isolation, SBX_ISO_WASM);
	sbx_policy_free(p);
}

static void profiles_are_sorted_and_found(void **state)
{
	struct sbx_policy *p = load_ok("[profile.zeta]\n[profile.\"ccos.network.http-fetch\"]\n[profile.alpha]\n", NULL);

	(void)state;
	assert_int_equal(p->n_profiles, 3);
	assert_string_equal(p->profiles[0].name, "alpha");
	assert_string_equal(p->profiles[1].name, "ccos.network.http-fetch");
	assert_string_equal(p->profiles[2].name, "zeta");
	assert_ptr_equal(sbx_policy_find(p, "zeta"), &p->profiles[2]);
	assert_ptr_equal(sbx_policy_find(p, "ccos.network.http-fetch"), &p->profiles[1]);
	assert_null(sbx_policy_find(p, "beta"));
	assert_null(sbx_policy_find(NULL, "beta"));
	sbx_policy_free(p);
	assert_null(sbx_policy_free(NULL));
}

/* ---- merging ------------------------------------------------------------ */

static void defaults_merge_tables_and_replace_arrays(void **state)
{
	struct sbx_policy *p = load_ok("[defaults]\nmemory = \"256M\"\ntimeout = \"1m\"\nenv = { A = \"1\", B = \"2\" }\n"
				       "network = { mode = \"allow\", allow = [\"192.0.2.1\", \"192.0.2.2\"] }\n"
				       "fs = { exec = [\"/bin/\"] }\n"
				       "[profile.a]\nmemory = \"64M\"\nenv = { B = \"b\", C = \"3\" }\n"
				       "network = { allow = [\"198.51.100.1\"] }\n"
				       "[profile.b]\n",
				       NULL);
	const struct sbx_profile *a = sbx_policy_find(p, "a"), *b = sbx_policy_find(p, "b");

	(void)state;
	assert_int_equal(a->memory_bytes, 64ull << 20);		/* profile replaces */
	assert_int_equal(a->timeout_ms, 60000);			/* default kept */
	assert_int_equal(a->n_env, 3);				/* tables merge key by key */
	assert_string_equal(a->env[0].name, "A");
	assert_string_equal(a->env[1].value, "b");
	assert_string_equal(a->env[2].name, "C");
	assert_int_equal(a->net.mode, SBX_NET_ALLOW);		/* network table merged */
	assert_int_equal(a->net.n_entries, 1);			/* arrays replace */
	assert_string_equal(a->net.entries[0].text, "198.51.100.1");
	assert_int_equal(a->fs.n_exec, 1);
	assert_int_equal(b->memory_bytes, 256ull << 20);
	assert_int_equal(b->net.n_entries, 2);
	sbx_policy_free(p);
}

static void empty_array_in_profile_clears_default_list(void **state)
{
	struct sbx_policy *p = load_ok("[defaults]\nnetwork = { mode = \"allow\", allow = [\"192.0.2.1\"], deny = [\"192.0.2.2\"] }\n"
				       "[profile.a]\nnetwork = { allow = [] }\n",
				       NULL);

	(void)state;
	assert_int_equal(p->profiles[0].net.n_entries, 1);
	assert_true(p->profiles[0].net.entries[0].deny);
	sbx_policy_free(p);
}

static const char layers_src[] =
	"[defaults]\n"
	"timeout = \"1s\"\npids = 1\nnofile = 1\nmemory = \"1M\"\n"
	"[profile.x]\n"
	"pids = 2\nnofile = 2\nmemory = \"2M\"\n"
	"env = { A = \"profile\", B = \"profile\" }\n"
	"[profile.y]\n"
	"[env.prod.defaults]\n"
	"nofile = 3\nmemory = \"3M\"\n"
	"[env.prod.profile.x]\n"
	"memory = \"4M\"\nenv = { B = \"overlay\" }\n"
	"[env.dev]\n";

static void overlay_layers_apply_in_documented_order(void **state)
{
	struct sbx_policy *p = load_ok(layers_src, "prod");
	const struct sbx_profile *x = sbx_policy_find(p, "x"), *y = sbx_policy_find(p, "y");

	(void)state;
	assert_string_equal(p->env, "prod");
	assert_int_equal(x->timeout_ms, 1000);			/* [defaults] */
	assert_int_equal(x->pids, 2);				/* profile over defaults */
	assert_int_equal(x->nofile, 3);				/* env defaults over profile */
	assert_int_equal(x->memory_bytes, 4ull << 20);		/* env overlay over all */
	assert_int_equal(x->n_env, 2);
	assert_string_equal(x->env[0].value, "profile");
	assert_string_equal(x->env[1].value, "overlay");
	assert_int_equal(y->nofile, 3);				/* env defaults reach every profile */
	assert_int_equal(y->memory_bytes, 3ull << 20);
	sbx_policy_free(p);
}

static void overlays_ignored_without_env_and_empty_env_is_valid(void **state)
{
	struct sbx_policy *p = load_ok(layers_src, NULL);

	(void)state;
	assert_null(p->env);
	assert_int_equal(sbx_policy_find(p, "x")->memory_bytes, 2ull << 20);
	sbx_policy_free(p);
	p = load_ok(layers_src, "dev");
	assert_int_equal(sbx_policy_find(p, "x")->memory_bytes, 2ull << 20);
	assert_string_equal(p->env, "dev");
	sbx_policy_free(p);
}

static void unknown_env_lists_known_ones(void **state)
{
	(void)state;
	expect_diag_env(layers_src, "prd", 0, 0, "unknown environment 'prd' (did you mean 'prod'?); defined: dev, prod");
	expect_diag_env("[profile.a]\n", "prod", 0, 0, "unknown environment 'prod': the policy defines no [env.*] tables");
}

static void overlay_of_unknown_profile_is_an_error(void **state)
{
	(void)state;
	/* Checked whichever environment is selected. */
	expect_diag("[profile.web]\n[env.prod.profile.wbe]\nmemory = \"1G\"\n", 2, 19,
		    "env 'prod' overlays unknown profile 'wbe' (did you mean 'web'?)");
}

static void errors_in_unselected_overlays_are_reported(void **state)
{
	(void)state;
	expect_diag_env("[profile.a]\n[env.prod.profile.a]\nmemroy = \"1G\"\n[env.dev]\n", "dev", 3, 1,
			"unknown key 'memroy' in env 'prod' overlay of profile 'a' (did you mean 'memory'?)");
	expect_diag("[profile.a]\n[env.prod.defaults]\ncpu = true\n", 3, 7,
		    "'cpu' in [env.prod.defaults] must be a string, an integer or a float, not a boolean");
	expect_diag("[profile.a]\n[env.prod]\nprofiles = {}\n", 3, 1,
		    "unknown key 'profiles' in [env.prod] (did you mean 'profile'?)");
}

static void merged_limits_are_checked_after_overlay(void **state)
{
	(void)state;
	/* Each layer alone is fine; only the selected combination is not. */
	expect_diag_env("[profile.a]\nprovider = \"process\"\n[env.prod.profile.a]\nmin_isolation = \"gvisor\"\n",
			"prod", 1, 10, "provider 'process' (isolation 'process') does not meet min_isolation 'gvisor'");
	expect_diag_env("[profile.a]\nnetwork.allow = [\"192.0.2.1\"]\n[env.prod.profile.a]\nnetwork.deny = [\"192.0.2.1\"]\n"
			"network.mode = \"allow\"\n",
			"prod", 4, 17, "'192.0.2.1' is both allowed and denied (the other is at t.toml:2:18)");
}

/* ---- structure errors --------------------------------------------------- */

static void unknown_keys_get_suggestions(void **state)
{
	(void)state;
	expect_diag("[profile.x]\nmemroy = \"1G\"\n", 2, 1, "unknown key 'memroy' in profile 'x' (did you mean 'memory'?)");
	expect_diag("[profile.x]\nnetwork = { mdoe = \"allow\" }\n", 2, 13,
		    "unknown key 'mdoe' in the network table of profile 'x' (did you mean 'mode'?)");
	expect_diag("[profile.x]\nfs.rulez = []\n", 2, 4, "unknown key 'rulez' in the fs table of profile 'x' (did you mean 'rules'?)");
	expect_diag("[profile.x]\nzzzzzz = 1\n", 2, 1, "unknown key 'zzzzzz' in profile 'x'");
	expect_diag("[profil.x]\n", ANY_POS, 0, "unknown key 'profil' in the top level (did you mean 'profile'?)");
	expect_diag("[default]\n[profile.a]\n", ANY_POS, 0, "unknown key 'default' in the top level (did you mean 'defaults'?)");
	expect_diag("[defaults]\ntimeuot = 1\n[profile.a]\n", 2, 1, "unknown key 'timeuot' in [defaults] (did you mean 'timeout'?)");
	expect_diag("[profile.ccos.network.http-fetch]\n", ANY_POS, 0, "profile names that contain dots must be quoted");
}

static void top_level_version_and_shapes(void **state)
{
	struct sbx_policy *p = load_ok("version = 1\n[profile.a]\n", NULL);

	(void)state;
	sbx_policy_free(p);
	expect_diag("version = 2\n[profile.a]\n", 1, 11, "unsupported policy version 2 (this sbx reads version 1)");
	expect_diag("version = \"1\"\n[profile.a]\n", 1, 11, "'version' must be an integer (1)");
	expect_diag("profile = 1\n", 1, 11, "profile must be a table, not an integer");
	expect_diag("[profile]\na = 1\n", 2, 5, "profile 'a' must be a table, not an integer");
	expect_diag("[profile.\"bad name\"]\n", ANY_POS, 0, "invalid profile name 'bad name'");
	expect_diag("[profile.\"\"]\n", ANY_POS, 0, "invalid profile name ''");
	expect_diag("[profile.a]\n[env.\"p/rod\"]\n", ANY_POS, 0, "invalid environment name 'p/rod'");
	expect_diag("", 0, 0, "no profiles defined");
	expect_diag("[defaults]\nmemory = \"1G\"\n", 0, 0, "no profiles defined");
}

static void wrong_types_name_expected_and_actual(void **state)
{
	(void)state;
	expect_diag("[profile.x]\ntimeout = true\n", 2, 11, "'timeout' in profile 'x' must be a string or an integer, not a boolean");
	expect_diag("[profile.x]\npids = \"5\"\n", 2, 8, "'pids' in profile 'x' must be an integer, not a string");
	expect_diag("[profile.x]\nenv = [\"A=1\"]\n", 2, 7, "'env' in profile 'x' must be a table, not an array");
	expect_diag("[profile.x]\nnetwork.raw_sockets = 1\n", 2, 23, "must be a boolean, not an integer");
	expect_diag("[profile.x]\nnetwork = { mode = \"allow\", allow = [1] }\n", 2, 38,
		    "a network entry must be a string or a table, not an integer");
	expect_diag("[profile.x]\nfs.rules = [\"/etc/\"]\n", 2, 13, "an fs rule");
	expect_diag("[profile.x]\nenv = { A = 1 }\n", 2, 13, "environment variable 'A' must be a string, not an integer");
	expect_diag("[profile.x]\nfs.exec = [1]\n", 2, 12, "an exec entry must be a string, not an integer");
	expect_diag("[profile.x]\nnetwork = { mode = \"deny\", listen = [true] }\n", 2, 38,
		    "a listen port must be a string or an integer, not a boolean");
}

static void several_errors_are_reported_in_one_load_sorted(void **state)
{
	struct sbx_policy *p = NULL;
	struct sbx_diags d = { 0 };
	const char *src = "[profile.a]\nmemory = \"1MB\"\npids = -1\ncpu = 2000\n[profile.b]\nfoo = 1\n";

	(void)state;
	assert_int_equal(sbx_policy_load_buffer("t.toml", src, strlen(src), NULL, &p, &d), -EINVAL);
	assert_null(p);
	assert_int_equal(d.n, 4);
	assert_int_equal(d.v[0].line, 2);
	assert_non_null(strstr(d.v[0].msg, "invalid size '1MB' for 'memory'"));
	assert_int_equal(d.v[1].line, 3);
	assert_non_null(strstr(d.v[1].msg, "pids -1 out of range"));
	assert_int_equal(d.v[2].line, 4);
	assert_non_null(strstr(d.v[2].msg, "cpu must be 0 (unlimited) or between 0.001 and 1024 CPUs"));
	assert_int_equal(d.v[3].line, 6);
	/* Diagnostics are appended: a second load adds to the list. */
	assert_int_equal(sbx_policy_load_buffer("t.toml", src, strlen(src), NULL, &p, &d), -EINVAL);
	assert_int_equal(d.n, 8);
	sbx_diags_free(&d);
	assert_int_equal(d.n, 0);
	sbx_diags_free(NULL);
}

static void errors_of_other_profiles_are_still_checked(void **state)
{
	struct sbx_policy *p = NULL;
	struct sbx_diags d = { 0 };
	const char *src = "[profile.a]\nmemroy = 1\nnetwork.allow = [\"192.0.2.1\"]\n"
			  "[profile.b]\nnetwork.allow = [\"192.0.2.1\"]\n";

	(void)state;
	assert_int_equal(sbx_policy_load_buffer("t.toml", src, strlen(src), NULL, &p, &d), -EINVAL);
	/* a: only its own key error (its resolved checks would repeat it); b: the mode check. */
	assert_int_equal(d.n, 2);
	assert_non_null(find_diag(&d, 2, 1, "unknown key 'memroy'"));
	assert_non_null(find_diag(&d, 5, 18, "'allow' entries are ignored in mode 'none'"));
	sbx_diags_free(&d);
}

static void syntax_error_is_one_diag_with_position(void **state)
{
	struct sbx_policy *p = NULL;
	struct sbx_diags d = { 0 };
	const char *src = "[profile.a]\nmemory = \n";

	(void)state;
	assert_int_equal(sbx_policy_load_buffer("t.toml", src, strlen(src), NULL, &p, &d), -EINVAL);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 2);
	assert_true(d.v[0].col > 0);
	sbx_diags_free(&d);
}

/* ---- values ------------------------------------------------------------- */

/* egress_rate/ingress_rate are bits per second (k/M/G decimal), rate_burst a
 * size; all three are written back as they were meant. */
static void rates_parse_and_round_trip(void **state)
{
	struct sbx_policy *p = load_ok("[profile.x]\negress_rate = \"10Mbit\"\n"
				       "ingress_rate = 512000\nrate_burst = \"128K\"\n"
				       "[profile.y]\negress_rate = \"1G\"\ningress_rate = \"8kbit\"\n", NULL);
	const struct sbx_profile *x = sbx_policy_find(p, "x"), *y = sbx_policy_find(p, "y");
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(x->egress_rate, 10000000);
	assert_int_equal(x->ingress_rate, 512000);
	assert_int_equal(x->rate_burst, 128 * 1024);
	assert_int_equal(y->egress_rate, 1000000000);
	assert_int_equal(y->ingress_rate, 8000);
	assert_int_equal(y->rate_burst, 0);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(sbx_profile_write_toml(x, f), 0);
	fclose(f);
	if (!strstr(text, "egress_rate = \"10Mbit\"\n") || !strstr(text, "ingress_rate = \"512kbit\"\n") ||
	    !strstr(text, "rate_burst = \"128K\"\n"))
		fail_msg("%s", text);
	free(text);
	sbx_policy_free(p);
}

static void rate_errors_are_positioned(void **state)
{
	(void)state;
	expect_diag("[profile.x]\negress_rate = \"10MB\"\n", 2, 15, "invalid rate '10MB' for 'egress_rate'");
	expect_diag("[profile.x]\negress_rate = \"fast\"\n", 2, 15, "expected bits per second");
	expect_diag("[profile.x]\ningress_rate = \"1kbit\"\n", 2, 16,
		    "ingress_rate must be 0 (no rate) or between 8kbit and 400Gbit");
	expect_diag("[profile.x]\ningress_rate = \"401G\"\n", 2, 16, "between 8kbit and 400Gbit");
	expect_diag("[profile.x]\negress_rate = -1\n", 2, 15, "'egress_rate' must not be negative");
	expect_diag("[profile.x]\negress_rate = \"99999999999999999999G\"\n", 2, 15, "invalid rate");
	expect_diag("[profile.x]\nrate_burst = \"2G\"\n", 2, 14, "rate_burst must be at most 1G");
}

static void out_of_range_values(void **state)
{
	(void)state;
	expect_diag("[profile.x]\nmemory = \"512K\"\n", 2, 10, "memory must be 0 (unlimited) or between 1M and 64T");
	expect_diag("[profile.x]\nmemory = \"65T\"\n", 2, 10, "memory must be 0 (unlimited) or between 1M and 64T");
	expect_diag("[profile.x]\nmemory = -1\n", 2, 10, "'memory' must not be negative");
	expect_diag("[profile.x]\nnet_bytes = \"1 G\"\n", 2, 13, "invalid size '1 G' for 'net_bytes'");
	expect_diag("[profile.x]\ncpu = 0.0001\n", 2, 7, "cpu 0.0001 is finer than 0.001 CPU");
	expect_diag("[profile.x]\ncpu = 1024.5\n", 2, 7, "between 0.001 and 1024 CPUs");
	expect_diag("[profile.x]\ncpu = -1\n", 2, 7, "between 0.001 and 1024 CPUs");
	expect_diag("[profile.x]\ncpu = \"half\"\n", 2, 7, "invalid cpu 'half'");
	expect_diag("[profile.x]\ncpu = nan\n", 2, 7, "between 0.001 and 1024 CPUs");
	expect_diag("[profile.x]\ntimeout = \"40d\"\n", 2, 11, "timeout '40d' out of range (0 to 31 days)");
	expect_diag("[profile.x]\ntimeout = -5\n", 2, 11, "timeout -5 out of range");
	expect_diag("[profile.x]\ntimeout = \"5 s\"\n", 2, 11, "invalid duration '5 s' for 'timeout'");
	expect_diag("[profile.x]\npids = 4194305\n", 2, 8, "pids 4194305 out of range (0 = unlimited, or 1 to 4194304)");
	expect_diag("[profile.x]\nnofile = 1048577\n", 2, 10, "nofile 1048577 out of range (0 = inherit, or 1 to 1048576)");
	expect_diag("[profile.x]\nuser = 4294967295\n", 2, 8, "user id 4294967295 out of range");
	expect_diag("[profile.x]\ngroup = \"99999999999\"\n", 2, 9, "invalid group name");
	expect_diag("[profile.x]\nuser = \"bad user\"\n", 2, 8, "invalid user name 'bad user'");
	expect_diag("[profile.x]\nuser = \"$\"\n", 2, 8, "invalid user name '$'");
	expect_diag("[profile.x]\nuser = \"\"\n", 2, 8, "invalid user name ''");
	expect_diag("[profile.x]\nallow_users = [\"ok\", \"-no\"]\n", 2, 22, "invalid user name '-no'");
	expect_diag("[profile.x]\ncwd = \"srv\"\n", 2, 7, "cwd: path 'srv' is not absolute");
	expect_diag("[profile.x]\ncwd = \"/srv/\"\n", 2, 7, "must not end with '/'");
	expect_diag("[profile.x]\nenv = { \"1A\" = \"x\" }\n", 2, 9, "invalid environment variable name '1A'");
	expect_diag("[profile.x]\nenv = { \"A=B\" = \"x\" }\n", 2, 9, "invalid environment variable name 'A=B'");
	expect_diag("[profile.x]\nenv = { A = \"a\\u0000b\" }\n", 2, 13, "environment variable 'A' contains a NUL character");
}

/* The audit rate limits have no "unlimited": 0 is refused like a value above
 * the largest, and the error names the key with its place in the file. */
static void audit_limits_are_checked(void **state)
{
	struct sbx_policy *p;

	(void)state;
	expect_diag("[profile.x]\naudit_rate = 0\n", 2, 14,
		    "audit_rate 0 out of range (1 to 10000000 events per second)");
	expect_diag("[profile.x]\naudit_rate = 10000001\n", 2, 14, "audit_rate 10000001 out of range");
	expect_diag("[profile.x]\naudit_burst = -1\n", 2, 15, "audit_burst -1 out of range (1 to 1000000 events)");
	expect_diag("[profile.x]\naudit_deny_rate = 0\n", 2, 19,
		    "audit_deny_rate 0 out of range (1 to 10000000 events per second)");
	expect_diag("[profile.x]\naudit_deny_burst = 1000001\n", 2, 20,
		    "audit_deny_burst 1000001 out of range (1 to 1000000 events)");
	expect_diag("[profile.x]\naudit_rate = \"10/s\"\n", 2, 14, "audit_rate");
	expect_diag("[profile.x]\naudit_rat = 10\n", 2, 1, "audit_rat");
	p = load_ok("[profile.x]\naudit_rate = 7\naudit_burst = 70\naudit_deny_rate = 9\naudit_deny_burst = 90\n",
		    NULL);
	assert_int_equal(p->profiles[0].audit_rate, 7);
	assert_int_equal(p->profiles[0].audit_burst, 70);
	assert_int_equal(p->profiles[0].audit_deny_rate, 9);
	assert_int_equal(p->profiles[0].audit_deny_burst, 90);
	sbx_policy_free(p);
	/* the largest values are accepted, and merge key by key from [defaults] */
	p = load_ok("[defaults]\naudit_rate = 10000000\naudit_deny_burst = 1000000\n"
		    "[profile.x]\naudit_burst = 1\n", NULL);
	assert_int_equal(p->profiles[0].audit_rate, 10000000);
	assert_int_equal(p->profiles[0].audit_burst, 1);
	assert_int_equal(p->profiles[0].audit_deny_rate, 200);
	assert_int_equal(p->profiles[0].audit_deny_burst, 1000000);
	sbx_policy_free(p);
}

/* [profile.X.unikernel] and the unikernel and tee levels (issue 16). */
static void unikernel_and_tee_levels(void **state)
{
	struct sbx_policy *p = load_ok("[profile.u]\nprovider = \"unikernel\"\n"
				       "min_isolation = \"unikernel\"\n"
				       "[profile.u.unikernel]\nimage = \"/srv/app.elf\"\n"
				       "qemu = \"/usr/bin/qemu-system-x86_64\"\nmachine = \"q35\"\n"
				       "cmdline = \"netdev.ip=10.0.2.15/24 --\"\n"
				       "[profile.t]\nmin_isolation = \"tee\"\n"
				       "[profile.v]\nprovider = \"tee\"\nmin_isolation = \"microvm\"\n", NULL);
	const struct sbx_profile *u = sbx_policy_find(p, "u");
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	assert_int_equal(u->min_isolation, SBX_ISO_UNIKERNEL);
	assert_string_equal(u->unikernel.image, "/srv/app.elf");
	assert_string_equal(u->unikernel.qemu, "/usr/bin/qemu-system-x86_64");
	assert_string_equal(u->unikernel.machine, "q35");
	assert_string_equal(u->unikernel.cmdline, "netdev.ip=10.0.2.15/24 --");
	assert_int_equal(sbx_policy_find(p, "t")->min_isolation, SBX_ISO_TEE);
	/* written back as they were read */
	assert_int_equal(sbx_profile_write_toml(u, f), 0);
	fclose(f);
	assert_non_null(strstr(out, "[profile.\"u\".unikernel]\nimage = \"/srv/app.elf\"\n"
				    "qemu = \"/usr/bin/qemu-system-x86_64\"\nmachine = \"q35\"\n"
				    "cmdline = \"netdev.ip=10.0.2.15/24 --\"\n"));
	assert_non_null(strstr(out, "min_isolation = \"unikernel\"\n"));
	free(out);
	sbx_policy_free(p);

	expect_diag("[profile.x.unikernel]\nmachine = \"pc\"\n", 2, 11,
		    "unknown unikernel machine 'pc' (expected one of: microvm, q35)");
	expect_diag("[profile.x.unikernel]\nimage = \"app.elf\"\n", 2, 9, "image:");
	expect_diag("[profile.x.unikernel]\ncmdline = \"a\\tb\"\n", 2, 11,
		    "cmdline: byte 0x09 at offset 1 is not printable ASCII");
	expect_diag("[profile.x.unikernel]\nkernel = \"/k\"\n", 2, 1, "kernel");
	/* the order: gvisor < unikernel < microvm < tee */
	expect_diag("[profile.x]\nprovider = \"unikernel\"\nmin_isolation = \"microvm\"\n", 1, 10,
		    "provider 'unikernel' (isolation 'unikernel') does not meet min_isolation 'microvm'");
	expect_diag("[profile.x]\nprovider = \"gvisor\"\nmin_isolation = \"unikernel\"\n", 1, 10,
		    "does not meet min_isolation 'unikernel'");
	expect_diag("[profile.x]\nprovider = \"microvm\"\nmin_isolation = \"tee\"\n", 1, 10,
		    "provider 'microvm' (isolation 'microvm') does not meet min_isolation 'tee'");
}

static void enums_reject_unknown_names_with_hints(void **state)
{
	(void)state;
	expect_diag("[profile.x]\nprovider = \"gviser\"\n", 2, 12, "unknown provider 'gviser' (did you mean 'gvisor'?)");
	expect_diag("[profile.x]\nprovider = \"docker\"\n", 2, 12,
		    "unknown provider 'docker' (expected one of: auto, process, host, gvisor, microvm, wasm, mock, unikernel, tee)");
	expect_diag("[profile.x]\nmin_isolation = \"vm\"\n", 2, 17, "unknown isolation level 'vm'");
	expect_diag("[profile.x]\naudit = \"denied\"\n", 2, 9, "unknown audit level 'denied' (expected one of: deny, all, none)");
	expect_diag("[profile.x]\naudit = \"dney\"\n", 2, 9, "unknown audit level 'dney' (did you mean 'deny'?)");
	expect_diag("[profile.x]\nenforcement = \"besteffort\"\n", 2, 15, "(did you mean 'best-effort'?)");
	expect_diag("[profile.x]\nnetwork.mode = \"allowed\"\n", 2, 16, "unknown network mode 'allowed' (did you mean 'allow'?)");
	expect_diag("[profile.x]\nfs.mode = \"readonly\"\n", 2, 11, "unknown filesystem mode 'readonly' (did you mean 'read-only'?)");
	expect_diag("[profile.x]\nprovider = \"mock\"\nmin_isolation = \"process\"\n", 1, 10,
		    "provider 'mock' (isolation 'none') does not meet min_isolation 'process'");
	expect_diag("[profile.x]\nprovider = \"process\"\nmin_isolation = \"wasm\"\n", 1, 10, "does not meet min_isolation 'wasm'");
}

static void network_entry_errors_have_positions(void **state)
{
	(void)state;
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [\"192.0.2.1/24\"]\n", 3, 18,
		    "192.0.2.1/24 has host bits set; did you mean 192.0.2.0/24?");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [\"10.0.0.1\", \"1.2.3\"]\n", 3, 30,
		    "invalid IPv4 address '1.2.3'");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [\"192.0.2.1:0\"]\n", 3, 18, "port 0 out of range");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [\"192.0.2.1:70000\"]\n", 3, 18,
		    "port 70000 out of range");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [\"192.0.2.1:9-1\"]\n", 3, 18, "empty port range 9-1");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [{ ports = 80 }]\n", 3, 18,
		    "network entry table is missing 'to'");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [{ to = \"192.0.2.1\", port = 80 }]\n", 3, 38,
		    "unknown key 'port' in a network entry (did you mean 'ports'?)");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [{ to = \"192.0.2.1:80\", ports = 80 }]\n", 3, 18,
		    "'to' already has a port");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [{ to = \"192.0.2.1/tcp\", proto = \"udp\" }]\n",
		    3, 18, "'to' already has a protocol");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [{ to = \"192.0.2.1\", proto = \"icmp\" }]\n",
		    3, 18, "unknown protocol 'icmp' (expected tcp or udp)");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [{ to = \"192.0.2.1\", ports = 0 }]\n", 3, 18,
		    "port 0 out of range");
	expect_diag("[profile.x]\nnetwork.mode = \"deny\"\nnetwork.listen = [\"0\"]\n", 3, 19, "port 0 out of range");
	expect_diag("[profile.x]\nnetwork.mode = \"deny\"\nnetwork.listen = [70000]\n", 3, 19, "port 70000 out of range (1-65535)");
}

static void network_mode_consistency(void **state)
{
	(void)state;
	expect_diag("[profile.x]\nnetwork.mode = \"full\"\nnetwork.allow = [\"192.0.2.1\"]\n", 3, 18,
		    "'allow' entries are ignored in mode 'full'");
	expect_diag("[profile.x]\nnetwork.deny = [\"192.0.2.1\"]\n", 2, 17, "'deny' entries are ignored in mode 'none'");
	expect_diag("[profile.x]\nnetwork.listen = [\"80\"]\n", 2, 19, "'listen' is ignored in mode 'none'");
	expect_diag("[profile.x]\nnetwork.raw_sockets = true\n", 1, 10, "raw_sockets = true needs network access");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [\"192.0.2.1:443\"]\nnetwork.deny = [\"192.0.2.1:443\"]\n",
		    4, 17, "'192.0.2.1:443' is both allowed and denied (the other is at t.toml:3:18)");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [\"::ffff:192.0.2.1\", \"192.0.2.1\"]\n", 3, 38,
		    "duplicate entry '192.0.2.1' (first at t.toml:3:18)");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [\"Example.org\", \"example.org.\"]\n", 3, 33,
		    "duplicate entry 'example.org'");
}

/* Issue 14: groups are entries like any other, wildcards stop above a
 * top-level domain, names are ASCII. Errors at the entry's position. */
static void network_groups_wildcards_and_idns(void **state)
{
	struct sbx_policy *p = load_ok("[profile.x.network]\nmode = \"allow\"\n"
				       "allow = [\"Private:443/tcp\", { to = \"metadata\", ports = 80 }, \"public\"]\n"
				       "deny = [\"link-local\", \"loopback/udp\"]\n", NULL);
	const struct sbx_profile *x = sbx_policy_find(p, "x");

	(void)state;
	assert_int_equal(x->net.n_entries, 5);
	assert_string_equal(x->net.entries[0].text, "private:443/tcp");
	assert_int_equal(x->net.entries[0].kind, SBX_NET_ENTRY_GROUP);
	assert_int_equal(x->net.entries[0].group, SBX_GROUP_PRIVATE);
	assert_string_equal(x->net.entries[1].text, "metadata:80");
	assert_int_equal(x->net.entries[1].pos.line, 3);
	assert_int_equal(x->net.entries[1].pos.col, 29);
	assert_string_equal(x->net.entries[2].text, "public");
	assert_string_equal(x->net.entries[3].text, "link-local");
	assert_true(x->net.entries[3].deny);
	assert_string_equal(x->net.entries[4].text, "loopback/udp");
	sbx_policy_free(p);
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [\"private\"]\nnetwork.deny = [\"PRIVATE\"]\n",
		    4, 17, "'private' is both allowed and denied (the other is at t.toml:3:18)");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [\"metadata:80\", { to = \"metadata\", ports = 80 }]\n",
		    3, 33, "duplicate entry 'metadata:80' (first at t.toml:3:18)");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [\"private/8\"]\n", 3, 18,
		    "the address group 'private' cannot have a prefix length");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [\"a.example\", \"*.com:443\"]\n", 3, 31,
		    "wildcard '*.com' covers a whole top-level domain");
	expect_diag("[profile.x]\nnetwork.mode = \"deny\"\nnetwork.deny = [{ to = \"*.org\" }]\n", 3, 17,
		    "wildcard '*.org' covers a whole top-level domain");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [\"b\u00fccher.example\"]\n", 3, 18,
		    "host name 'b\xc3\xbc" "cher.example' is not ASCII: write it in punycode, 'xn--bcher-kva.example'");
	expect_diag("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [\"xn--bcher-kv.example\"]\n", 3, 18,
		    "label 'xn--bcher-kv' is not valid punycode");
}

/* [network.dns]: defaults, every key, errors at their positions, and the
 * table written back by sbx_profile_write_toml loads to the same settings. */
static void network_dns_defaults_and_keys(void **state)
{
	struct sbx_policy *p = load_ok("[defaults.network.dns]\nrefuse = \"nxdomain\"\n"
				       "[profile.a.network]\nmode = \"allow\"\n"
				       "[profile.b.network]\nmode = \"deny\"\n"
				       "[profile.b.network.dns]\n"
				       "upstream = [\"192.0.2.53\", \"[2001:db8::53]:5353\", \"127.0.0.1:5353\"]\n"
				       "ttl_floor = \"0s\"\ngrace = 90\nrefuse = \"refused\"\n", NULL);
	const struct sbx_profile *a = sbx_policy_find(p, "a"), *b = sbx_policy_find(p, "b");
	struct sbx_policy *p2 = load_ok("[profile.c.network]\nmode = \"allow\"\n", NULL);
	const struct sbx_profile *c = sbx_policy_find(p2, "c");

	(void)state;
	assert_int_equal(c->net.dns.n_upstream, 0);
	assert_int_equal(c->net.dns.ttl_floor_s, 30);
	assert_int_equal(c->net.dns.grace_s, 300);
	assert_false(c->net.dns.nxdomain);
	assert_false(c->net.dns.set);
	assert_true(a->net.dns.nxdomain);		/* from [defaults] */
	assert_int_equal(a->net.dns.ttl_floor_s, 30);
	assert_false(b->net.dns.nxdomain);		/* the profile's own value wins */
	assert_int_equal(b->net.dns.n_upstream, 3);
	assert_int_equal(b->net.dns.upstream[1].family, AF_INET6);
	assert_int_equal(b->net.dns.upstream[1].port, 5353);
	assert_int_equal(b->net.dns.upstream[0].port, 53);
	assert_int_equal(b->net.dns.upstream[2].pos.line, 8);
	assert_int_equal(b->net.dns.upstream[2].pos.col, 50);
	assert_int_equal(b->net.dns.ttl_floor_s, 0);
	assert_int_equal(b->net.dns.grace_s, 90);
	sbx_policy_free(p2);
	sbx_policy_free(p);
}

static void network_dns_round_trips(void **state)
{
	struct sbx_policy *p = load_ok("[profile.b.network]\nmode = \"deny\"\n"
				       "[profile.b.network.dns]\n"
				       "upstream = [\"192.0.2.53\", \"[2001:db8::53]:5353\"]\n"
				       "ttl_floor = \"0s\"\ngrace = \"1h\"\nrefuse = \"nxdomain\"\n", NULL), *q;
	const struct sbx_profile *b = sbx_policy_find(p, "b"), *b2;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	assert_int_equal(sbx_profile_write_toml(b, f), 0);
	fclose(f);
	if (!strstr(text, "[profile.\"b\".network.dns]\nupstream = [\"192.0.2.53\", \"[2001:db8::53]:5353\"]\n"
			  "ttl_floor = \"0s\"\ngrace = \"3600s\"\nrefuse = \"nxdomain\"\n"))
		fail_msg("%s", text);
	q = load_ok(text, NULL);
	b2 = sbx_policy_find(q, "b");
	assert_int_equal(b2->net.dns.n_upstream, 2);
	assert_memory_equal(b2->net.dns.upstream[1].addr, b->net.dns.upstream[1].addr, 16);
	assert_int_equal(b2->net.dns.upstream[1].port, 5353);
	assert_int_equal(b2->net.dns.ttl_floor_s, 0);
	assert_int_equal(b2->net.dns.grace_s, 3600);
	assert_true(b2->net.dns.nxdomain);
	free(text);
	sbx_policy_free(q);
	sbx_policy_free(p);
}

static void network_dns_errors_have_positions(void **state)
{
	(void)state;
	expect_diag("[profile.x.network]\nmode = \"allow\"\ndns.upstream = [\"1.1.1.1\", \"dns.google\"]\n", 3, 28,
		    "DNS server 'dns.google' is not an address");
	expect_diag("[profile.x.network]\nmode = \"allow\"\n[profile.x.network.dns]\n"
		    "upstream = [\"192.0.2.1\", \"192.0.2.2\", \"192.0.2.3\", \"192.0.2.4\", \"192.0.2.5\"]\n",
		    4, 12, "too many DNS servers in 'upstream' (5; at most 4)");
	expect_diag("[profile.x.network]\nmode = \"allow\"\ndns.upstream = [53]\n", 3, 17,
		    "a DNS server must be a string, not an integer");
	expect_diag("[profile.x.network]\nmode = \"allow\"\ndns.ttl_floor = \"250ms\"\n", 3, 17,
		    "network.dns.ttl_floor must be whole seconds");
	expect_diag("[profile.x.network]\nmode = \"allow\"\ndns.grace = \"2d\"\n", 3, 13,
		    "network.dns.grace out of range (0s to 1d)");
	expect_diag("[profile.x.network]\nmode = \"allow\"\ndns.grace = -1\n", 3, 13, "out of range");
	expect_diag("[profile.x.network]\nmode = \"allow\"\ndns.refuse = \"nxdomian\"\n", 3, 14,
		    "unknown DNS refusal 'nxdomian' (did you mean 'nxdomain'?)");
	expect_diag("[profile.x.network]\nmode = \"allow\"\ndns.upstrem = []\n", 3, 5,
		    "unknown key 'upstrem' in the dns table of the network table of profile 'x' (did you mean 'upstream'?)");
	expect_diag("[profile.x.network]\nmode = \"allow\"\ndns = 1\n", 3, 7, "must be a table");
	expect_diag("[profile.x.network]\nmode = \"full\"\n[profile.x.network.dns]\nrefuse = \"nxdomain\"\n", 4, 10,
		    "network.dns has no effect in mode 'full'");
	expect_diag("[profile.x.network.dns]\nttl_floor = \"1s\"\n", 2, 13, "network.dns has no effect in mode 'none'");
}

static void allow_mode_with_empty_list_is_accepted(void **state)
{
	struct sbx_policy *p = load_ok("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = []\n"
				       "[profile.y]\nnetwork = { mode = \"full\", listen = [\"8080/tcp\"], raw_sockets = true }\n",
				       NULL);

	(void)state;
	assert_int_equal(p->profiles[0].net.n_entries, 0);
	assert_int_equal(p->profiles[1].net.n_listen, 1);
	sbx_policy_free(p);
}

static void fs_rule_errors(void **state)
{
	(void)state;
	expect_diag("[profile.x]\nfs.rules = [{ path = \"etc/\", access = \"r\" }]\n", 2, 13, "path 'etc/' is not absolute");
	expect_diag("[profile.x]\nfs.rules = [{ path = \"/etc/../root/\", access = \"r\" }]\n", 2, 13,
		    "path '/etc/../root/' contains a '..' component");
	expect_diag("[profile.x]\nfs.rules = [{ path = \"/etc/./x\", access = \"r\" }]\n", 2, 13, "contains a '.' component");
	expect_diag("[profile.x]\nfs.rules = [{ path = \"/etc//x\", access = \"r\" }]\n", 2, 13, "contains '//'");
	expect_diag("[profile.x]\nfs.rules = [{ path = \"/etc/\", access = \"wr\" }]\n", 2, 13,
		    "invalid access 'wr' (expected r, rw, rx, rwx, w, wx, x or deny)");
	expect_diag("[profile.x]\nfs.rules = [{ path = \"/etc/\" }]\n", 2, 13, "fs rule is missing 'access'");
	expect_diag("[profile.x]\nfs.rules = [{ access = \"r\" }]\n", 2, 13, "fs rule is missing 'path'");
	expect_diag("[profile.x]\nfs.rules = [{ path = \"/etc/\", acess = \"r\" }]\n", 2, 31,
		    "unknown key 'acess' in an fs rule (did you mean 'access'?)");
	expect_diag("[profile.x]\nfs.rules = [{ path = \"/a/\", access = \"r\" }, { path = \"/a/\", access = \"deny\" }]\n", 2, 45,
		    "path '/a/' is both allowed and denied (the other rule is at t.toml:2:13)");
	expect_diag("[profile.x]\nfs.rules = [{ path = \"/a\", access = \"r\" }, { path = \"/a\", access = \"rw\" }]\n", 2, 44,
		    "duplicate rule for path '/a' (first at t.toml:2:13)");
	expect_diag("[profile.x]\nfs.exec = [\"/bin/sh\", \"/bin/sh\"]\n", 2, 23, "duplicate exec entry '/bin/sh' (first at 2:12)");
	expect_diag("[profile.x]\nfs.exec = [\"sh\"]\n", 2, 12, "path 'sh' is not absolute");
}

/* ---- limits ------------------------------------------------------------- */

/* Writes item i of a generated list into buf. */
typedef int (*item_fn)(char *buf, size_t len, size_t i);

static int item_addr(char *buf, size_t len, size_t i)
{
	return snprintf(buf, len, "\"10.%zu.%zu.%zu\",\n", i >> 16, (i >> 8) & 255, i & 255);
}

static int item_port(char *buf, size_t len, size_t i)
{
	return snprintf(buf, len, "\"%zu\",\n", 1000 + i);
}

static int item_exec(char *buf, size_t len, size_t i)
{
	return snprintf(buf, len, "\"/bin/t%zu\",\n", i);
}

static int item_env(char *buf, size_t len, size_t i)
{
	return snprintf(buf, len, "V%zu = \"x\"\n", i);
}

static int item_rule(char *buf, size_t len, size_t i)
{
	return snprintf(buf, len, "{ path = \"/d/%zu\", access = \"r\" },\n", i);
}

static char *repeat_src(const char *head, item_fn item, size_t n, const char *tail)
{
	size_t cap = strlen(head) + strlen(tail) + n * 64 + 1, o;
	char *s = malloc(cap);

	assert_non_null(s);
	o = (size_t)snprintf(s, cap, "%s", head);
	for (size_t i = 0; i < n; i++)
		o += (size_t)item(s + o, cap - o, i);
	snprintf(s + o, cap - o, "%s", tail);
	return s;
}

static void net_rule_limit_is_enforced(void **state)
{
	char *ok, *bad;
	struct sbx_policy *p;

	(void)state;
	ok = repeat_src("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [\n", item_addr,
			SBX_MAX_NET_RULES, "]\n");
	p = load_ok(ok, NULL);
	assert_int_equal(p->profiles[0].net.n_entries, SBX_MAX_NET_RULES);
	sbx_policy_free(p);
	bad = repeat_src("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.allow = [\n", item_addr,
			 SBX_MAX_NET_RULES + 1, "]\n");
	expect_diag(bad, 3, 17, "too many entries in 'allow' (16385; the limit is 16384)");
	free(ok);
	free(bad);
	/* allow + deny together over the limit */
	bad = repeat_src("[profile.x]\nnetwork.mode = \"allow\"\nnetwork.deny = [\"192.0.2.1\"]\nnetwork.allow = [\n",
			 item_addr, SBX_MAX_NET_RULES, "]\n");
	expect_diag(bad, 1, 10, "profile 'x' has 16385 network entries (the limit is 16384)");
	free(bad);
}

static void other_limits_are_enforced(void **state)
{
	char *bad;

	(void)state;
	bad = repeat_src("[profile.x]\nnetwork.mode = \"deny\"\nnetwork.listen = [\n", item_port, SBX_MAX_LISTEN + 1, "]\n");
	expect_diag(bad, 3, 18, "too many entries in 'listen' (65; the limit is 64)");
	free(bad);
	bad = repeat_src("[profile.x]\nfs.exec = [\n", item_exec, SBX_MAX_EXEC + 1, "]\n");
	expect_diag(bad, 2, 11, "too many exec entries (1025; the limit is 1024)");
	free(bad);
	bad = repeat_src("[profile.x.env]\n", item_env, SBX_MAX_ENV + 1, "");
	expect_diag(bad, 258, 1, "too many environment variables (the limit is 256)");
	free(bad);
	/* Over the limit only once [defaults] and the profile are merged. */
	bad = repeat_src("[defaults.env]\nD1 = \"x\"\n[profile.x.env]\n", item_env, SBX_MAX_ENV, "");
	expect_diag(bad, 259, 1, "too many environment variables (the limit is 256)");
	free(bad);
	bad = repeat_src("[profile.x]\nfs.rules = [\n", item_rule,
			 SBX_MAX_PATH_RULES + 1, "]\n");
	expect_diag(bad, 2, 12, "too many fs rules (16385; the limit is 16384)");
	free(bad);
}

static void path_length_limit_is_enforced(void **state)
{
	char path[SBX_MAX_PATH_LEN + 2], src[SBX_MAX_PATH_LEN + 128];
	struct sbx_policy *p;

	(void)state;
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[SBX_MAX_PATH_LEN - 1] = '\0';	/* 255 bytes: fits with its NUL */
	snprintf(src, sizeof(src), "[profile.x]\nfs.rules = [{ path = \"%s\", access = \"r\" }]\n", path);
	p = load_ok(src, NULL);
	sbx_policy_free(p);
	path[SBX_MAX_PATH_LEN - 1] = 'a';
	path[SBX_MAX_PATH_LEN] = '\0';
	snprintf(src, sizeof(src), "[profile.x]\nfs.rules = [{ path = \"%s\", access = \"r\" }]\n", path);
	expect_diag(src, 2, 13, "is too long (252 bytes; the limit is 251)");
}

/* ---- fsize, seccomp, network namespace ----------------------------------- */

static void fsize_takes_sizes_and_bytes(void **state)
{
	struct sbx_policy *p = load_ok("[profile.a]\nfsize = \"10M\"\n[profile.b]\nfsize = 4096\n"
				       "[profile.c]\nfsize = 0\n[profile.d]\nfsize = \"2GiB\"\n", NULL);

	(void)state;
	assert_int_equal(p->profiles[0].fsize, 10ull << 20);
	assert_int_equal(p->profiles[1].fsize, 4096);
	assert_int_equal(p->profiles[2].fsize, 0);
	assert_int_equal(p->profiles[3].fsize, 2ull << 30);
	sbx_policy_free(p);
}

static void fsize_errors(void **state)
{
	(void)state;
	expect_diag("[profile.x]\nfsize = \"10MB\"\n", 2, 9, "invalid size '10MB' for 'fsize'");
	expect_diag("[profile.x]\nfsize = -1\n", 2, 9, "'fsize' must not be negative");
	expect_diag("[profile.x]\nfsize = \"8388608T\"\n", 2, 9,
		    "fsize must be 0 (inherit) or less than 8 EiB (the largest file size)");
	expect_diag("[profile.x]\nfsize = \"99999999999T\"\n", 2, 9, "invalid size '99999999999T' for 'fsize'");
	expect_diag("[profile.x]\nfsize = true\n", 2, 9, "'fsize' in profile 'x' must be a string or an integer, not a boolean");
	expect_diag("[profile.x]\nfsise = 1\n", 2, 1, "unknown key 'fsise' in profile 'x' (did you mean 'fsize'?)");
}

static void fsize_merges_through_defaults_and_overlays(void **state)
{
	struct sbx_policy *p;
	const char *src = "[defaults]\nfsize = \"1M\"\n[profile.a]\n[profile.b]\nfsize = \"2M\"\n"
			  "[env.prod.profile.b]\nfsize = 0\n";

	(void)state;
	p = load_ok(src, NULL);
	assert_int_equal(sbx_policy_find(p, "a")->fsize, 1ull << 20);
	assert_int_equal(sbx_policy_find(p, "b")->fsize, 2ull << 20);
	sbx_policy_free(p);
	p = load_ok(src, "prod");
	assert_int_equal(sbx_policy_find(p, "a")->fsize, 1ull << 20);
	assert_int_equal(sbx_policy_find(p, "b")->fsize, 0);		/* an overlay lifts the limit */
	sbx_policy_free(p);
}

/* ---- cpus, cpu_weight, disk (issue 16) ------------------------------------- */

static void cpus_weight_disk_are_parsed(void **state)
{
	struct sbx_policy *p = load_ok("[profile.a]\ncpus = \"4,0-1\"\ncpu_weight = 250\ndisk = \"1G\"\n"
				       "[profile.b]\ncpus = \"3\"\ncpu_weight = 1\ndisk = 0\n"
				       "[profile.c]\ncpus = \"0-2,2-5,1023\"\ncpu_weight = 10000\n", NULL);
	const struct sbx_profile *a = &p->profiles[0], *b = &p->profiles[1], *c = &p->profiles[2];
	char buf[64];

	(void)state;
	sbx_cpus_format(a->cpus, buf, sizeof(buf));
	assert_string_equal(buf, "0-1,4");
	assert_true(sbx_cpus_has(a->cpus, 4) && !sbx_cpus_has(a->cpus, 2));
	assert_int_equal(a->cpu_weight, 250);
	assert_int_equal(a->disk_bytes, 1ull << 30);
	sbx_cpus_format(b->cpus, buf, sizeof(buf));
	assert_string_equal(buf, "3");
	assert_int_equal(b->cpu_weight, 1);
	assert_int_equal(b->disk_bytes, 0);
	sbx_cpus_format(c->cpus, buf, sizeof(buf));
	assert_string_equal(buf, "0-5,1023");
	assert_int_equal(c->cpu_weight, 10000);
	sbx_policy_free(p);
}

static void cpus_weight_disk_errors(void **state)
{
	(void)state;
	expect_diag("[profile.x]\ncpus = \"2-1\"\n", 2, 8, "invalid cpus '2-1' (expected a cpuset list");
	expect_diag("[profile.x]\ncpus = \"0,,1\"\n", 2, 8, "invalid cpus '0,,1'");
	expect_diag("[profile.x]\ncpus = \"a\"\n", 2, 8, "invalid cpus 'a'");
	expect_diag("[profile.x]\ncpus = \"1 \"\n", 2, 8, "invalid cpus '1 '");
	expect_diag("[profile.x]\ncpus = \"0\\n\"\n", 2, 8, "invalid cpus");
	expect_diag("[profile.x]\ncpus = \"1024\"\n", 2, 8, "cpus '1024': CPU numbers go up to 1023");
	expect_diag("[profile.x]\ncpus = 1\n", 2, 8, "must be a string");
	expect_diag("[profile.x]\ncpu_weight = 10001\n", 2, 14, "cpu_weight 10001 out of range");
	expect_diag("[profile.x]\ncpu_weight = -1\n", 2, 14, "cpu_weight -1 out of range");
	expect_diag("[profile.x]\ndisk = \"512K\"\n", 2, 8, "disk must be 0 (no bound) or between 1M and 16T");
	expect_diag("[profile.x]\ndisk = \"17T\"\n", 2, 8, "disk must be 0 (no bound) or between 1M and 16T");
	expect_diag("[profile.x]\ndisk = \"1GB\"\n", 2, 8, "invalid size '1GB' for 'disk'");
	expect_diag("[profile.x]\ncpu_wieght = 1\n", 2, 1, "did you mean 'cpu_weight'?");
}

static void cpus_weight_disk_write_back(void **state)
{
	struct sbx_policy *p = load_ok("[profile.a]\ncpus = \"0-1,4\"\ncpu_weight = 300\ndisk = \"64M\"\n",
				       NULL), *q;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(sbx_profile_write_toml(&p->profiles[0], f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "cpus = \"0-1,4\"\n"));
	assert_non_null(strstr(buf, "cpu_weight = 300\n"));
	assert_non_null(strstr(buf, "disk = \"64M\"\n"));
	q = load_ok(buf, NULL);
	assert_memory_equal(q->profiles[0].cpus, p->profiles[0].cpus, sizeof(p->profiles[0].cpus));
	assert_int_equal(q->profiles[0].cpu_weight, 300);
	assert_int_equal(q->profiles[0].disk_bytes, 64ull << 20);
	sbx_policy_free(q);
	sbx_policy_free(p);
	free(buf);
}

static void seccomp_table_is_parsed(void **state)
{
	struct sbx_policy *p = load_ok("[profile.a.seccomp]\npreset = \"strict\"\naction = \"kill\"\n"
				       "deny = [\"ptrace\", \"io_uring_setup\", \"clock_settime64\"]\nallow = [\"personality\"]\n"
				       "[profile.b]\nseccomp = { preset = \"default\", action = \"errno\", deny = [] }\n"
				       "[profile.c]\nseccomp.allow = [\"userfaultfd\"]\n", NULL);
	const struct sbx_profile *a = &p->profiles[0], *b = &p->profiles[1], *c = &p->profiles[2];

	(void)state;
	assert_int_equal(a->seccomp.preset, SBX_SECCOMP_STRICT);
	assert_int_equal(a->seccomp.action, SBX_SECCOMP_KILL);
	assert_int_equal(a->seccomp.n_deny, 3);
	assert_string_equal(a->seccomp.deny[0], "ptrace");
	assert_string_equal(a->seccomp.deny[1], "io_uring_setup");
	assert_string_equal(a->seccomp.deny[2], "clock_settime64");
	assert_int_equal(a->seccomp.n_allow, 1);
	assert_string_equal(a->seccomp.allow[0], "personality");
	assert_int_equal(b->seccomp.preset, SBX_SECCOMP_DEFAULT);
	assert_int_equal(b->seccomp.action, SBX_SECCOMP_ERRNO);
	assert_int_equal(b->seccomp.n_deny, 0);
	assert_int_equal(c->seccomp.preset, SBX_SECCOMP_DEFAULT);	/* the other keys keep their defaults */
	assert_int_equal(c->seccomp.n_allow, 1);
	sbx_policy_free(p);
}

static int item_syscall(char *buf, size_t len, size_t i)
{
	return snprintf(buf, len, "\"sys_%zu\",\n", i);
}

static void seccomp_errors(void **state)
{
	char name[80], src[256], *s;
	struct sbx_policy *p;

	(void)state;
	expect_diag("[profile.x]\nseccomp.preset = \"stict\"\n", 2, 18, "unknown seccomp preset 'stict' (did you mean 'strict'?)");
	expect_diag("[profile.x]\nseccomp.preset = \"paranoid\"\n", 2, 18,
		    "unknown seccomp preset 'paranoid' (expected one of: default, strict)");
	expect_diag("[profile.x]\nseccomp.action = \"eperm\"\n", 2, 18,
		    "unknown seccomp action 'eperm' (expected one of: errno, kill)");
	expect_diag("[profile.x]\nseccomp.action = \"kil\"\n", 2, 18, "unknown seccomp action 'kil' (did you mean 'kill'?)");
	expect_diag("[profile.x]\nseccomp.deny = [\"ptrace\", \"Open\"]\n", 2, 27,
		    "invalid syscall name 'Open' in 'deny' (lower-case letters, digits and '_', at most 64 characters)");
	expect_diag("[profile.x]\nseccomp.allow = [\"a-b\"]\n", 2, 18, "invalid syscall name 'a-b' in 'allow'");
	expect_diag("[profile.x]\nseccomp.allow = [\"\"]\n", 2, 18, "invalid syscall name '' in 'allow'");
	expect_diag("[profile.x]\nseccomp.deny = [\"a\\u0000b\"]\n", 2, 17, "a syscall name in 'deny' contains a NUL character");
	expect_diag("[profile.x]\nseccomp.deny = [1]\n", 2, 17, "a syscall name in 'deny' must be a string, not an integer");
	expect_diag("[profile.x]\nseccomp.deny = \"ptrace\"\n", 2, 16,
		    "'deny' in the seccomp table of profile 'x' must be an array, not a string");
	expect_diag("[profile.x]\nseccomp = \"strict\"\n", 2, 11, "'seccomp' in profile 'x' must be a table, not a string");
	expect_diag("[profile.x]\nseccomp.dney = []\n", 2, 9,
		    "unknown key 'dney' in the seccomp table of profile 'x' (did you mean 'deny'?)");
	expect_diag("[profile.x]\nseccomp.deny = [\"ptrace\", \"bpf\", \"ptrace\"]\n", 2, 34,
		    "duplicate syscall 'ptrace' in 'deny' (first at 2:17)");
	expect_diag("[profile.x.seccomp]\ndeny = [\"ptrace\", \"bpf\"]\nallow = [\"bpf\"]\n", 3, 10,
		    "syscall 'bpf' is both denied and allowed (the other is at 2:19)");
	/* 64 characters are fine, 65 are not */
	memset(name, 'a', sizeof(name));
	name[64] = '\0';
	snprintf(src, sizeof(src), "[profile.x]\nseccomp.deny = [\"%s\"]\n", name);
	p = load_ok(src, NULL);
	assert_int_equal(strlen(p->profiles[0].seccomp.deny[0]), 64);
	sbx_policy_free(p);
	name[64] = 'a';
	name[65] = '\0';
	snprintf(src, sizeof(src), "[profile.x]\nseccomp.deny = [\"%s\"]\n", name);
	expect_diag(src, 2, 17, "invalid syscall name");
	/* at most 512 names in each list */
	s = repeat_src("[profile.x]\nseccomp.deny = [\n", item_syscall, 512, "]\nseccomp.allow = [\n");
	s = realloc(s, strlen(s) + 512 * 64 + 4);
	assert_non_null(s);
	for (size_t i = 0; i < 512; i++)
		sprintf(s + strlen(s), "\"other_%zu\",\n", i);
	strcat(s, "]\n");
	p = load_ok(s, NULL);
	assert_int_equal(p->profiles[0].seccomp.n_deny, 512);
	assert_int_equal(p->profiles[0].seccomp.n_allow, 512);
	sbx_policy_free(p);
	free(s);
	s = repeat_src("[profile.x]\nseccomp.allow = [\n", item_syscall, 513, "]\n");
	expect_diag(s, 2, 17, "too many syscalls in 'allow' (513; the limit is 512)");
	free(s);
}

static void seccomp_merges_key_by_key_and_lists_replace(void **state)
{
	const char *src = "[defaults.seccomp]\npreset = \"strict\"\ndeny = [\"ptrace\", \"bpf\"]\n"
			  "[profile.a.seccomp]\nallow = [\"personality\"]\n"
			  "[profile.b.seccomp]\ndeny = [\"mount\"]\n"
			  "[profile.c]\n"
			  "[env.prod.defaults.seccomp]\naction = \"kill\"\n"
			  "[env.prod.profile.a.seccomp]\ndeny = []\npreset = \"default\"\n";
	const struct sbx_profile *a, *b, *c;
	struct sbx_policy *p = load_ok(src, NULL);

	(void)state;
	a = sbx_policy_find(p, "a");
	b = sbx_policy_find(p, "b");
	c = sbx_policy_find(p, "c");
	assert_int_equal(a->seccomp.preset, SBX_SECCOMP_STRICT);	/* the table merges... */
	assert_int_equal(a->seccomp.n_deny, 2);				/* ...key by key */
	assert_int_equal(a->seccomp.n_allow, 1);
	assert_int_equal(b->seccomp.n_deny, 1);				/* arrays replace */
	assert_string_equal(b->seccomp.deny[0], "mount");
	assert_int_equal(c->seccomp.n_deny, 2);
	assert_int_equal(c->seccomp.action, SBX_SECCOMP_ERRNO);
	sbx_policy_free(p);
	p = load_ok(src, "prod");
	a = sbx_policy_find(p, "a");
	c = sbx_policy_find(p, "c");
	assert_int_equal(a->seccomp.action, SBX_SECCOMP_KILL);		/* env defaults */
	assert_int_equal(a->seccomp.preset, SBX_SECCOMP_DEFAULT);	/* env overlay */
	assert_int_equal(a->seccomp.n_deny, 0);				/* cleared by the overlay */
	assert_int_equal(a->seccomp.n_allow, 1);
	assert_int_equal(c->seccomp.action, SBX_SECCOMP_KILL);
	assert_int_equal(c->seccomp.preset, SBX_SECCOMP_STRICT);
	sbx_policy_free(p);
}

static void seccomp_conflict_across_layers_is_checked_after_merging(void **state)
{
	struct sbx_policy *p;

	(void)state;
	expect_diag("[defaults]\nseccomp.deny = [\"ptrace\", \"bpf\"]\n[profile.x]\nseccomp.allow = [\"bpf\"]\n", 3, 10,
		    "profile 'x': syscall 'bpf' is both in seccomp.deny and seccomp.allow (after merging [defaults] and overlays)");
	expect_diag_env("[profile.x]\nseccomp.allow = [\"ptrace\"]\n[env.prod.profile.x]\nseccomp.deny = [\"ptrace\"]\n",
			"prod", 1, 10, "syscall 'ptrace' is both in seccomp.deny and seccomp.allow");
	/* Not a conflict once the later layer replaces the list. */
	p = load_ok("[defaults]\nseccomp.deny = [\"ptrace\"]\n[profile.x]\nseccomp = { allow = [\"ptrace\"], deny = [] }\n", NULL);
	assert_int_equal(p->profiles[0].seccomp.n_deny, 0);
	sbx_policy_free(p);
	/* ...and without the overlay the conflict does not exist. */
	p = load_ok("[profile.x]\nseccomp.allow = [\"ptrace\"]\n[env.prod.profile.x]\nseccomp.deny = [\"ptrace\"]\n", NULL);
	sbx_policy_free(p);
}

/* ---- provider tables: mock, gvisor, wasm, microvm ------------------------- */

static void mock_table_is_parsed(void **state)
{
	struct sbx_policy *p = load_ok("[profile.a]\nprovider = \"mock\"\nmin_isolation = \"none\"\n"
				       "[profile.a.mock]\nexit_code = 255\nstdout = \"hello\\n\"\nstderr = \"\"\n"
				       "duration = \"1m250ms\"\nfail = \"timeout\"\n"
				       "[profile.b]\nmock = { exit_code = 0, duration = 2, fail = \"oom\" }\n"
				       "[profile.c]\nmock.fail = \"none\"\nmock.stderr = \"w\\u00e4rn\"\n"
				       "[profile.d.mock]\nfail = \"spawn\"\n[profile.e.mock]\nfail = \"crash\"\n", NULL);
	const struct sbx_profile *a = &p->profiles[0], *b = &p->profiles[1], *c = &p->profiles[2];

	(void)state;
	assert_int_equal(a->mock.exit_code, 255);
	assert_string_equal(a->mock.stdout_text, "hello\n");
	assert_string_equal(a->mock.stderr_text, "");	/* kept as written */
	assert_int_equal(a->mock.duration_ms, 60250);
	assert_string_equal(a->mock.fail, "timeout");
	assert_int_equal(b->mock.exit_code, 0);
	assert_null(b->mock.stdout_text);
	assert_int_equal(b->mock.duration_ms, 2000);	/* an integer is seconds */
	assert_string_equal(b->mock.fail, "oom");
	assert_null(c->mock.fail);			/* "none" is the default */
	assert_string_equal(c->mock.stderr_text, "w\xc3\xa4rn");
	assert_int_equal(c->mock.duration_ms, 0);
	assert_string_equal(p->profiles[3].mock.fail, "spawn");
	assert_string_equal(p->profiles[4].mock.fail, "crash");
	sbx_policy_free(p);
}

/* [profile.x.mock] with KEY = "<n bytes of 'a'>" */
static char *mock_output_src(const char *key, size_t n)
{
	size_t len = 64 + n;
	char *s = malloc(len);
	int o;

	assert_non_null(s);
	o = snprintf(s, len, "[profile.x.mock]\n%s = \"", key);
	memset(s + o, 'a', n);
	strcpy(s + o + n, "\"\n");
	return s;
}

static void mock_errors(void **state)
{
	struct sbx_policy *p;
	char *s;

	(void)state;
	expect_diag("[profile.x.mock]\nexit_code = 256\n", 2, 13, "exit_code 256 out of range (0 to 255)");
	expect_diag("[profile.x.mock]\nexit_code = -1\n", 2, 13, "exit_code -1 out of range (0 to 255)");
	expect_diag("[profile.x.mock]\nexit_code = \"3\"\n", 2, 13,
		    "'exit_code' in the mock table of profile 'x' must be an integer, not a string");
	expect_diag("[profile.x.mock]\nstdout = 1\n", 2, 10,
		    "'stdout' in the mock table of profile 'x' must be a string, not an integer");
	expect_diag("[profile.x.mock]\nstdout = \"a\\u0000b\"\n", 2, 10, "'stdout' contains a NUL character");
	expect_diag("[profile.x.mock]\nstderr = [\"a\"]\n", 2, 10,
		    "'stderr' in the mock table of profile 'x' must be a string, not an array");
	expect_diag("[profile.x.mock]\nduration = \"1.5s\"\n", 2, 12,
		    "invalid duration '1.5s' for 'duration' (expected e.g. \"30s\", \"1m30s\", \"250ms\", \"2h\")");
	expect_diag("[profile.x.mock]\nduration = \"32d\"\n", 2, 12, "duration '32d' out of range (0 to 31 days)");
	expect_diag("[profile.x.mock]\nduration = -1\n", 2, 12, "duration -1 out of range (0 to 31 days)");
	expect_diag("[profile.x.mock]\nduration = true\n", 2, 12,
		    "'duration' in the mock table of profile 'x' must be a string or an integer, not a boolean");
	expect_diag("[profile.x.mock]\nfail = \"crahs\"\n", 2, 8, "unknown mock failure 'crahs' (did you mean 'crash'?)");
	expect_diag("[profile.x.mock]\nfail = \"segv\"\n", 2, 8,
		    "unknown mock failure 'segv' (expected one of: none, spawn, timeout, crash, oom)");
	expect_diag("[profile.x.mock]\nfail = false\n", 2, 8,
		    "'fail' in the mock table of profile 'x' must be a string, not a boolean");
	expect_diag("[profile.x.mock]\nexitcode = 1\n", 2, 1,
		    "unknown key 'exitcode' in the mock table of profile 'x' (did you mean 'exit_code'?)");
	expect_diag("[profile.x]\nmock.sdtout = \"\"\n", 2, 6,
		    "unknown key 'sdtout' in the mock table of profile 'x' (did you mean 'stdout'?)");
	expect_diag("[profile.x]\nmock = \"crash\"\n", 2, 8, "'mock' in profile 'x' must be a table, not a string");
	expect_diag("[profile.x]\nmokc.fail = \"oom\"\n", 2, 1, "unknown key 'mokc' in profile 'x' (did you mean 'mock'?)");
	/* 1 MiB of output is fine, one byte more is not */
	s = mock_output_src("stdout", 1u << 20);
	p = load_ok(s, NULL);
	assert_int_equal(strlen(p->profiles[0].mock.stdout_text), 1u << 20);
	sbx_policy_free(p);
	free(s);
	s = mock_output_src("stderr", (1u << 20) + 1);
	expect_diag(s, 2, 10, "'stderr' is longer than 1048576 bytes (1 MiB)");
	free(s);
}

static void gvisor_wasm_microvm_tables_are_parsed(void **state)
{
	struct sbx_policy *p = load_ok("[profile.g]\nprovider = \"gvisor\"\n"
				       "[profile.g.gvisor]\nplatform = \"kvm\"\nrunsc = \"/usr/local/bin/runsc\"\n"
				       "[profile.m]\nprovider = \"microvm\"\n"
				       "[profile.m.microvm]\nbackend = \"firecracker\"\nkernel = \"/var/lib/sbx/vmlinux\"\n"
				       "initrd = \"/var/lib/sbx/initrd.img\"\nfirecracker = \"/opt/fc/firecracker\"\n"
				       "jailer = \"/opt/fc/jailer\"\n"
				       "[profile.w]\nprovider = \"wasm\"\nwasm.runtime = \"wasmtime\"\n"
				       "[profile.x]\ngvisor = { platform = \"ptrace\" }\nwasm = { runtime = \"node\" }\n"
				       "microvm = { backend = \"qemu\" }\n", NULL);
	const struct sbx_profile *g = sbx_policy_find(p, "g"), *m = sbx_policy_find(p, "m");
	const struct sbx_profile *w = sbx_policy_find(p, "w"), *x = sbx_policy_find(p, "x");

	(void)state;
	assert_string_equal(g->gvisor.platform, "kvm");
	assert_string_equal(g->gvisor.runsc, "/usr/local/bin/runsc");
	assert_null(g->wasm.runtime);
	assert_string_equal(m->microvm.backend, "firecracker");
	assert_string_equal(m->microvm.kernel, "/var/lib/sbx/vmlinux");
	assert_string_equal(m->microvm.initrd, "/var/lib/sbx/initrd.img");
	assert_string_equal(m->microvm.firecracker, "/opt/fc/firecracker");
	assert_string_equal(m->microvm.jailer, "/opt/fc/jailer");
	assert_string_equal(w->wasm.runtime, "wasmtime");
	assert_string_equal(x->gvisor.platform, "ptrace");
	assert_null(x->gvisor.runsc);
	assert_string_equal(x->wasm.runtime, "node");
	assert_string_equal(x->microvm.backend, "qemu");
	assert_null(x->microvm.kernel);
	sbx_policy_free(p);
	/* every name of each list */
	p = load_ok("[profile.a]\ngvisor.platform = \"systrap\"\nwasm.runtime = \"auto\"\n"
		    "[profile.b]\nwasm.runtime = \"wasmer\"\n[profile.c]\nwasm.runtime = \"iwasm\"\n"
		    "[profile.d]\nwasm.runtime = \"wasmedge\"\n", NULL);
	assert_string_equal(p->profiles[0].gvisor.platform, "systrap");
	assert_string_equal(p->profiles[0].wasm.runtime, "auto");
	assert_string_equal(p->profiles[1].wasm.runtime, "wasmer");
	assert_string_equal(p->profiles[2].wasm.runtime, "iwasm");
	assert_string_equal(p->profiles[3].wasm.runtime, "wasmedge");
	sbx_policy_free(p);
}

static void gvisor_wasm_microvm_errors(void **state)
{
	char path[4200], src[4300];
	struct sbx_policy *p;

	(void)state;
	/* gvisor */
	expect_diag("[profile.x.gvisor]\nplatform = \"systrp\"\n", 2, 12,
		    "unknown gvisor platform 'systrp' (did you mean 'systrap'?)");
	expect_diag("[profile.x.gvisor]\nplatform = \"xen\"\n", 2, 12,
		    "unknown gvisor platform 'xen' (expected one of: systrap, ptrace, kvm)");
	expect_diag("[profile.x.gvisor]\nplatform = 1\n", 2, 12,
		    "'platform' in the gvisor table of profile 'x' must be a string, not an integer");
	expect_diag("[profile.x.gvisor]\nrunsc = \"runsc\"\n", 2, 9, "runsc: path 'runsc' is not absolute");
	expect_diag("[profile.x.gvisor]\nrunsc = \"/usr/bin/\"\n", 2, 9, "runsc: path '/usr/bin/' must not end with '/'");
	expect_diag("[profile.x.gvisor]\nrunsc = \"/usr/../bin/runsc\"\n", 2, 9,
		    "runsc: path '/usr/../bin/runsc' contains a '..' component");
	expect_diag("[profile.x.gvisor]\nrunsc = \"/\"\n", 2, 9, "runsc: path '/' is a directory, not a file");
	expect_diag("[profile.x.gvisor]\nrunsc = \"/a\\u0000b\"\n", 2, 9, "'runsc' contains a NUL character");
	expect_diag("[profile.x.gvisor]\nplatfrom = \"kvm\"\n", 2, 1,
		    "unknown key 'platfrom' in the gvisor table of profile 'x' (did you mean 'platform'?)");
	expect_diag("[profile.x]\ngviser.platform = \"kvm\"\n", 2, 1,
		    "unknown key 'gviser' in profile 'x' (did you mean 'gvisor'?)");
	expect_diag("[profile.x]\ngvisor = [\"kvm\"]\n", 2, 10, "'gvisor' in profile 'x' must be a table, not an array");
	/* wasm */
	expect_diag("[profile.x.wasm]\nruntime = \"wasmtim\"\n", 2, 11,
		    "unknown wasm runtime 'wasmtim' (did you mean 'wasmtime'?)");
	expect_diag("[profile.x.wasm]\nruntime = \"v8\"\n", 2, 11,
		    "unknown wasm runtime 'v8' (expected one of: auto, wasmtime, wasmer, iwasm, wasmedge, node)");
	expect_diag("[profile.x.wasm]\nruntime = [\"node\"]\n", 2, 11,
		    "'runtime' in the wasm table of profile 'x' must be a string, not an array");
	expect_diag("[profile.x.wasm]\nruntim = \"node\"\n", 2, 1,
		    "unknown key 'runtim' in the wasm table of profile 'x' (did you mean 'runtime'?)");
	/* microvm */
	expect_diag("[profile.x.microvm]\nbackend = \"qemu-system\"\n", 2, 11,
		    "unknown microvm backend 'qemu-system' (expected one of: qemu, firecracker)");
	expect_diag("[profile.x.microvm]\nbackend = \"firecraker\"\n", 2, 11,
		    "unknown microvm backend 'firecraker' (did you mean 'firecracker'?)");
	expect_diag("[profile.x.microvm]\nkernel = \"vmlinux\"\n", 2, 10, "kernel: path 'vmlinux' is not absolute");
	expect_diag("[profile.x.microvm]\ninitrd = \"/boot//initrd.img\"\n", 2, 10,
		    "initrd: path '/boot//initrd.img' contains '//'");
	expect_diag("[profile.x.microvm]\nfirecracker = 7\n", 2, 15,
		    "'firecracker' in the microvm table of profile 'x' must be a string, not an integer");
	expect_diag("[profile.x.microvm]\nfirecracker = \"firecracker\"\n", 2, 15,
		    "firecracker: path 'firecracker' is not absolute");
	expect_diag("[profile.x.microvm]\njailer = \"./jailer\"\n", 2, 10, "jailer: path './jailer' is not absolute");
	expect_diag("[profile.x.microvm]\njailr = \"/usr/bin/jailer\"\n", 2, 1,
		    "unknown key 'jailr' in the microvm table of profile 'x' (did you mean 'jailer'?)");
	expect_diag("[profile.x.microvm]\nkernel = \"/boot/\\u0001\"\n", 2, 10, "contains a control character");
	/* paths: shorter than 4096 bytes (PATH_MAX with its NUL) */
	memset(path, 'k', sizeof(path));
	path[0] = '/';
	path[4095] = '\0';
	snprintf(src, sizeof(src), "[profile.x.microvm]\nkernel = \"%s\"\n", path);
	p = load_ok(src, NULL);
	assert_int_equal(strlen(p->profiles[0].microvm.kernel), 4095);
	sbx_policy_free(p);
	path[4095] = 'k';
	path[4096] = '\0';
	snprintf(src, sizeof(src), "[profile.x.microvm]\nkernel = \"%s\"\n", path);
	expect_diag(src, 2, 10, "is too long (4096 bytes; the limit is 4095)");
	/* a table is validated wherever it is, also in an environment not selected */
	expect_diag("[profile.x]\n[env.dev.profile.x.wasm]\nruntime = \"wasmr\"\n", 3, 11,
		    "unknown wasm runtime 'wasmr' (did you mean 'wasmer'?)");
	expect_diag("[defaults.microvm]\nbackend = \"kvm\"\n[profile.x]\n", 2, 11, "unknown microvm backend 'kvm'");
}

static void provider_tables_merge_through_defaults_and_overlays(void **state)
{
	const char *src = "[defaults.mock]\nexit_code = 3\nstdout = \"hi\\n\"\n"
			  "[defaults.gvisor]\nplatform = \"ptrace\"\n"
			  "[defaults.microvm]\nbackend = \"firecracker\"\nkernel = \"/var/lib/sbx/vmlinux\"\n"
			  "[profile.a]\nprovider = \"mock\"\nmin_isolation = \"none\"\n"
			  "[profile.a.mock]\nstderr = \"oops\"\n"
			  "[profile.b]\nprovider = \"gvisor\"\ngvisor.runsc = \"/opt/runsc\"\n"
			  "[profile.c]\nprovider = \"microvm\"\nmicrovm.backend = \"qemu\"\n"
			  "[env.prod.defaults.mock]\nfail = \"oom\"\n"
			  "[env.prod.defaults.wasm]\nruntime = \"wasmtime\"\n"
			  "[env.prod.profile.a.mock]\nexit_code = 0\nfail = \"none\"\n"
			  "[env.prod.profile.b]\ngvisor = { platform = \"kvm\" }\n"
			  "[env.prod.profile.c.microvm]\njailer = \"/usr/bin/jailer\"\n";
	const struct sbx_profile *a, *b, *c;
	struct sbx_policy *p = load_ok(src, NULL);

	(void)state;
	a = sbx_policy_find(p, "a");
	b = sbx_policy_find(p, "b");
	c = sbx_policy_find(p, "c");
	assert_int_equal(a->mock.exit_code, 3);			/* the table merges key by key */
	assert_string_equal(a->mock.stdout_text, "hi\n");
	assert_string_equal(a->mock.stderr_text, "oops");
	assert_null(a->mock.fail);
	assert_string_equal(b->gvisor.platform, "ptrace");
	assert_string_equal(b->gvisor.runsc, "/opt/runsc");
	assert_int_equal(b->mock.exit_code, 3);			/* carried for another provider: harmless */
	assert_string_equal(c->microvm.backend, "qemu");	/* a scalar replaces */
	assert_string_equal(c->microvm.kernel, "/var/lib/sbx/vmlinux");
	assert_null(c->microvm.jailer);
	assert_null(c->wasm.runtime);
	sbx_policy_free(p);

	p = load_ok(src, "prod");
	a = sbx_policy_find(p, "a");
	b = sbx_policy_find(p, "b");
	c = sbx_policy_find(p, "c");
	assert_int_equal(a->mock.exit_code, 0);			/* env overlay */
	assert_null(a->mock.fail);				/* env defaults' "oom", undone by "none" */
	assert_string_equal(a->mock.stdout_text, "hi\n");
	assert_string_equal(a->mock.stderr_text, "oops");
	assert_string_equal(b->mock.fail, "oom");		/* env defaults */
	assert_string_equal(b->gvisor.platform, "kvm");	/* an inline table merges too */
	assert_string_equal(b->gvisor.runsc, "/opt/runsc");
	assert_string_equal(c->microvm.backend, "qemu");
	assert_string_equal(c->microvm.kernel, "/var/lib/sbx/vmlinux");
	assert_string_equal(c->microvm.jailer, "/usr/bin/jailer");
	assert_string_equal(c->wasm.runtime, "wasmtime");
	sbx_policy_free(p);
}

/* [defaults] may carry several providers' settings, and a profile may keep a
 * table its provider does not read: that is accepted, not an error. */
static void provider_table_of_another_provider_is_accepted(void **state)
{
	struct sbx_policy *p = load_ok("[defaults]\nmock.exit_code = 1\ngvisor.platform = \"kvm\"\n"
				       "wasm.runtime = \"node\"\nmicrovm.backend = \"firecracker\"\n"
				       "[profile.proc]\nprovider = \"process\"\n"
				       "[profile.proc.microvm]\nkernel = \"/boot/vmlinuz\"\n"
				       "[profile.host]\nprovider = \"host\"\nmin_isolation = \"none\"\n"
				       "gvisor.runsc = \"/usr/bin/runsc\"\n", NULL);
	const struct sbx_profile *proc = sbx_policy_find(p, "proc"), *host = sbx_policy_find(p, "host");

	(void)state;
	assert_string_equal(proc->provider, "process");
	assert_int_equal(proc->mock.exit_code, 1);
	assert_string_equal(proc->gvisor.platform, "kvm");
	assert_string_equal(proc->wasm.runtime, "node");
	assert_string_equal(proc->microvm.backend, "firecracker");
	assert_string_equal(proc->microvm.kernel, "/boot/vmlinuz");
	assert_string_equal(host->gvisor.runsc, "/usr/bin/runsc");
	sbx_policy_free(p);
}

static void network_namespace_and_veth_are_parsed(void **state)
{
	struct sbx_policy *p = load_ok("[profile.a]\nnetwork.namespace = \"host\"\n"
				       "[profile.b]\nnetwork = { namespace = \"private\" }\n"
				       "[profile.c.network]\nmode = \"allow\"\nnamespace = \"private\"\n"
				       "veth_host = \"10.200.0.1/30\"\nveth_sandbox = \"10.200.0.2/30\"\n"
				       "[profile.d.network]\nmode = \"full\"\nnamespace = \"private\"\n"
				       "veth_host = \"192.168.7.4/31\"\nveth_sandbox = \"192.168.7.5/31\"\n"
				       "[profile.e]\nnetwork = { mode = \"deny\", namespace = \"private\","
				       " veth_host = \"172.16.0.1/24\", veth_sandbox = \"172.16.0.200/24\" }\n", NULL);
	const struct sbx_profile *pr = p->profiles;

	(void)state;
	assert_int_equal(pr[0].net.namespace, SBX_NETNS_HOST);
	assert_null(pr[0].net.veth_host);
	assert_int_equal(pr[1].net.namespace, SBX_NETNS_PRIVATE);
	assert_int_equal(pr[1].net.mode, SBX_NET_NONE);
	assert_int_equal(pr[2].net.namespace, SBX_NETNS_PRIVATE);
	assert_string_equal(pr[2].net.veth_host, "10.200.0.1/30");
	assert_string_equal(pr[2].net.veth_sandbox, "10.200.0.2/30");
	assert_string_equal(pr[3].net.veth_host, "192.168.7.4/31");	/* a /31 has no network address */
	assert_string_equal(pr[3].net.veth_sandbox, "192.168.7.5/31");
	assert_string_equal(pr[4].net.veth_sandbox, "172.16.0.200/24");
	sbx_policy_free(p);
}

static void veth_address_errors_have_positions(void **state)
{
	(void)state;
	expect_diag("[profile.x]\nnetwork.namespace = \"privat\"\n", 2, 21,
		    "unknown network namespace 'privat' (did you mean 'private'?)");
	expect_diag("[profile.x]\nnetwork.namespace = \"none\"\n", 2, 21,
		    "unknown network namespace 'none' (expected one of: auto, host, private)");
	expect_diag("[profile.x]\nnetwork.veth_host = \"10.200.0.1\"\n", 2, 21,
		    "veth_host: '10.200.0.1' has no prefix length (expected an address with its prefix, e.g. 10.200.0.1/30)");
	expect_diag("[profile.x]\nnetwork.veth_sandbox = \"10.200.0.2/32\"\n", 2, 24,
		    "veth_sandbox: prefix length /32 out of range for an interface address (1-31)");
	expect_diag("[profile.x]\nnetwork.veth_host = \"10.200.0.1/0\"\n", 2, 21, "prefix length /0 out of range");
	expect_diag("[profile.x]\nnetwork.veth_host = \"10.200.0.1/33\"\n", 2, 21, "prefix length /33 out of range for IPv4");
	expect_diag("[profile.x]\nnetwork.veth_host = \"10.200.0.1/030\"\n", 2, 21, "invalid prefix length '/030'");
	expect_diag("[profile.x]\nnetwork.veth_host = \"10.200.0.0/30\"\n", 2, 21,
		    "veth_host: 10.200.0.0/30 is the network address of its subnet; use a host address");
	expect_diag("[profile.x]\nnetwork.veth_host = \"10.200.0.3/30\"\n", 2, 21,
		    "10.200.0.3/30 is the broadcast address of its subnet");
	expect_diag("[profile.x]\nnetwork.veth_host = \"127.0.0.1/8\"\n", 2, 21,
		    "127.0.0.1/8 is not a usable unicast address: loopback (127.0.0.0/8)");
	expect_diag("[profile.x]\nnetwork.veth_host = \"224.0.0.1/30\"\n", 2, 21, "multicast");
	expect_diag("[profile.x]\nnetwork.veth_host = \"0.0.0.1/30\"\n", 2, 21, "'this network'");
	expect_diag("[profile.x]\nnetwork.veth_host = \"010.200.0.1/30\"\n", 2, 21,
		    "leading zeros in an IPv4 address are ambiguous");
	expect_diag("[profile.x]\nnetwork.veth_host = \"fd00::1/64\"\n", 2, 21, "invalid IPv4 address 'fd00::1'");
	expect_diag("[profile.x]\nnetwork.veth_host = \"10.200.0.1 /30\"\n", 2, 21, "contains a space");
	expect_diag("[profile.x]\nnetwork.veth_host = \"\"\n", 2, 21, "veth_host: empty address");
	expect_diag("[profile.x]\nnetwork.veth_host = 1\n", 2, 21,
		    "'veth_host' in the network table of profile 'x' must be a string, not an integer");
	expect_diag("[profile.x]\nnetwork.veth_hots = \"10.200.0.1/30\"\n", 2, 9,
		    "unknown key 'veth_hots' in the network table of profile 'x' (did you mean 'veth_host'?)");
}

static void veth_needs_a_private_namespace_a_network_and_one_subnet(void **state)
{
	(void)state;
	expect_diag("[profile.x.network]\nmode = \"allow\"\nnamespace = \"private\"\nveth_host = \"10.200.0.1/30\"\n", 1, 10,
		    "profile 'x': network.veth_host is set but network.veth_sandbox is not (set both or neither)");
	expect_diag("[profile.x.network]\nmode = \"allow\"\nnamespace = \"private\"\nveth_sandbox = \"10.200.0.2/30\"\n", 1, 10,
		    "network.veth_sandbox is set but network.veth_host is not");
	expect_diag("[profile.x.network]\nnamespace = \"private\"\nveth_host = \"10.200.0.1/30\"\n"
		    "veth_sandbox = \"10.200.0.2/30\"\n", 1, 10,
		    "profile 'x': network.veth_host and veth_sandbox need a network mode other than 'none' "
		    "(in mode 'none' the sandbox has only loopback)");
	expect_diag("[profile.x.network]\nmode = \"allow\"\nveth_host = \"10.200.0.1/30\"\nveth_sandbox = \"10.200.0.2/30\"\n",
		    1, 10, "need namespace = \"private\" (namespace 'auto' is the host's in mode 'allow')");
	expect_diag("[profile.x.network]\nmode = \"full\"\nnamespace = \"host\"\nveth_host = \"10.200.0.1/30\"\n"
		    "veth_sandbox = \"10.200.0.2/30\"\n", 1, 10, "need namespace = \"private\" (the namespace is 'host')");
	expect_diag("[profile.x.network]\nmode = \"allow\"\nnamespace = \"private\"\nveth_host = \"10.200.0.1/30\"\n"
		    "veth_sandbox = \"10.200.0.6/29\"\n", 1, 10,
		    "profile 'x': veth_host 10.200.0.1/30 and veth_sandbox 10.200.0.6/29 have different prefix lengths");
	expect_diag("[profile.x.network]\nmode = \"allow\"\nnamespace = \"private\"\nveth_host = \"10.200.0.1/30\"\n"
		    "veth_sandbox = \"10.200.0.5/30\"\n", 1, 10,
		    "profile 'x': veth_host 10.200.0.1/30 and veth_sandbox 10.200.0.5/30 are not in the same subnet");
	expect_diag("[profile.x.network]\nmode = \"allow\"\nnamespace = \"private\"\nveth_host = \"10.200.0.1/30\"\n"
		    "veth_sandbox = \"10.200.0.1/30\"\n", 1, 10,
		    "profile 'x': veth_host and veth_sandbox are the same address 10.200.0.1/30");
}

static void network_namespace_merges_through_defaults_and_overlays(void **state)
{
	const char *src = "[defaults.network]\nnamespace = \"private\"\n"
			  "veth_host = \"10.200.0.1/30\"\nveth_sandbox = \"10.200.0.2/30\"\n"
			  "[profile.a]\nnetwork.mode = \"allow\"\n"
			  "[profile.b.network]\nmode = \"deny\"\nveth_sandbox = \"10.200.0.2/30\"\n"
			  "[env.dev.profile.a]\nnetwork.veth_sandbox = \"10.200.0.3/29\"\nnetwork.veth_host = \"10.200.0.4/29\"\n"
			  "[env.prod.profile.b]\nnetwork.mode = \"none\"\n";
	const struct sbx_profile *a, *b;
	struct sbx_policy *p = load_ok(src, NULL);

	(void)state;
	a = sbx_policy_find(p, "a");
	b = sbx_policy_find(p, "b");
	assert_int_equal(a->net.namespace, SBX_NETNS_PRIVATE);		/* from [defaults] */
	assert_int_equal(a->net.mode, SBX_NET_ALLOW);
	assert_string_equal(a->net.veth_host, "10.200.0.1/30");
	assert_string_equal(b->net.veth_host, "10.200.0.1/30");
	sbx_policy_free(p);
	p = load_ok(src, "dev");
	a = sbx_policy_find(p, "a");
	assert_string_equal(a->net.veth_host, "10.200.0.4/29");
	assert_string_equal(a->net.veth_sandbox, "10.200.0.3/29");
	sbx_policy_free(p);
	/* The prod overlay takes b's network away: the inherited veth pair is now an error. */
	expect_diag_env(src, "prod", 7, 10, "profile 'b': network.veth_host and veth_sandbox need a network mode other than 'none'");
	/* Errors in an overlay's veth keys are found whichever environment is selected. */
	expect_diag("[profile.a]\n[env.prod.profile.a]\nnetwork.veth_host = \"10.200.0.1\"\n", 3, 21,
		    "veth_host: '10.200.0.1' has no prefix length");
}

/* ---- files and directories ---------------------------------------------- */

struct tmpdir {
	char path[64];
};

static void tmp_write(const struct tmpdir *t, const char *name, const char *content)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", t->path, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void tmp_make(struct tmpdir *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/sbx-policy-test-XXXXXX");
	assert_non_null(mkdtemp(t->path));
}

static void tmp_remove(struct tmpdir *t)
{
	DIR *d = opendir(t->path);
	struct dirent *de;
	char p[512];

	assert_non_null(d);
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", t->path, de->d_name);
		if (unlink(p) < 0)
			assert_int_equal(rmdir(p), 0);
	}
	closedir(d);
	assert_int_equal(rmdir(t->path), 0);
}

static int load_paths(const char *const *paths, size_t n, const char *env, struct sbx_policy **p,
		      struct sbx_diags *d)
{
	*p = NULL;
	memset(d, 0, sizeof(*d));
	return sbx_policy_load(paths, n, env, p, d);
}

static void directory_loads_toml_files_in_name_order(void **state)
{
	struct tmpdir t;
	struct sbx_policy *p;
	struct sbx_diags d;
	char sub[128];
	const char *paths[1];

	(void)state;
	tmp_make(&t);
	tmp_write(&t, "b.toml", "[profile.b]\n[env.prod.profile.a]\nmemory = \"2M\"\n");
	tmp_write(&t, "a.toml", "[defaults]\npids = 7\n[profile.a]\n[env.prod]\n");
	tmp_write(&t, "notes.txt", "not a policy");
	tmp_write(&t, ".hidden.toml", "garbage = [");
	snprintf(sub, sizeof(sub), "%s/dir.toml", t.path);
	assert_int_equal(mkdir(sub, 0700), 0);
	paths[0] = t.path;
	assert_int_equal(load_paths(paths, 1, "prod", &p, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(p->n_files, 2);
	assert_non_null(strstr(p->files[0], "/a.toml"));
	assert_non_null(strstr(p->files[1], "/b.toml"));
	assert_int_equal(sbx_policy_find(p, "a")->pids, 7);	/* a.toml's defaults */
	assert_int_equal(sbx_policy_find(p, "b")->pids, 0);	/* ...not b.toml's */
	assert_int_equal(sbx_policy_find(p, "a")->memory_bytes, 2ull << 20); /* overlay from b.toml */
	assert_ptr_equal(sbx_policy_find(p, "b")->pos.file, p->files[1]);
	sbx_policy_free(p);
	tmp_remove(&t);
}

static void duplicate_profiles_across_files_name_both(void **state)
{
	struct tmpdir t;
	struct sbx_policy *p;
	struct sbx_diags d;
	char a[128], b[128], want[300];
	const char *paths[2] = { a, b };

	(void)state;
	tmp_make(&t);
	tmp_write(&t, "one.toml", "# first\n[profile.web]\n[env.prod.profile.web]\n");
	tmp_write(&t, "two.toml", "[profile.api]\n\n[profile.web]\n[env.prod.profile.web]\n");
	snprintf(a, sizeof(a), "%s/one.toml", t.path);
	snprintf(b, sizeof(b), "%s/two.toml", t.path);
	assert_int_equal(load_paths(paths, 2, NULL, &p, &d), -EINVAL);
	assert_null(p);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.v[0].file, b);
	assert_int_equal(d.v[0].line, 3);
	snprintf(want, sizeof(want), "profile 'web' is already defined at %s:2:", a);
	assert_non_null(strstr(d.v[0].msg, want));
	assert_int_equal(d.v[1].line, 4);
	snprintf(want, sizeof(want), "env 'prod' overlay of profile 'web' is already defined at %s:3:", a);
	assert_non_null(strstr(d.v[1].msg, want));
	sbx_diags_free(&d);
	tmp_remove(&t);
}

static void path_errors_are_reported(void **state)
{
	struct tmpdir t;
	struct sbx_policy *p;
	struct sbx_diags d;
	char bad[128], big[128];
	const char *paths[3] = { "/nonexistent/sbx/policy.toml", NULL, NULL };
	int fd;

	(void)state;
	tmp_make(&t);
	paths[1] = t.path;	/* empty directory */
	snprintf(big, sizeof(big), "%s.big", t.path);
	fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (16 << 20) + 1), 0);
	close(fd);
	paths[2] = big;
	assert_int_equal(load_paths(paths, 3, NULL, &p, &d), -EINVAL);
	assert_null(p);
	assert_int_equal(d.n, 3);
	assert_non_null(find_diag(&d, 0, 0, "cannot open: No such file or directory"));
	assert_non_null(find_diag(&d, 0, 0, "no *.toml files in this directory"));
	assert_non_null(find_diag(&d, 0, 0, "file is too large (16777217 bytes; the limit is 16777216)"));
	sbx_diags_free(&d);
	unlink(big);
	snprintf(bad, sizeof(bad), "%s/bad.toml", t.path);
	tmp_write(&t, "bad.toml", "[profile.a]\nmemory = \n");
	tmp_write(&t, "ok.toml", "[profile.b]\nmemroy = 1\n");
	paths[0] = t.path;
	assert_int_equal(load_paths(paths, 1, NULL, &p, &d), -EINVAL);
	assert_int_equal(d.n, 1);	/* a broken file stops before validation */
	assert_string_equal(d.v[0].file, bad);
	assert_int_equal(d.v[0].line, 2);
	sbx_diags_free(&d);
	assert_int_equal(load_paths(paths, 0, NULL, &p, &d), -EINVAL);
	assert_non_null(find_diag(&d, 0, 0, "no policy files given"));
	sbx_diags_free(&d);
	tmp_remove(&t);
}

/* ---- examples ----------------------------------------------------------- */

static void load_example(const char *path, const char *env)
{
	struct sbx_policy *p = NULL;
	struct sbx_diags d = { 0 };
	const char *paths[1] = { path };

	if (sbx_policy_load(paths, 1, env, &p, &d) != 0) {
		dump_diags(&d);
		sbx_diags_free(&d);
		fail_msg("%s (env %s) does not load", path, env ? env : "none");
	}
	assert_true(p->n_profiles > 0);
	sbx_policy_free(p);
}

static void examples_load_cleanly(void **state)
{
	static const char *const envs[] = { "dev", "test", "prod", "staging" };
	char dir[512], path[1024];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	(void)state;
	test_srcpath(dir, sizeof(dir), "policy/examples");
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!strstr(de->d_name, ".toml"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		load_example(path, NULL);
		n++;
	}
	closedir(d);
	assert_true(n >= 6);
	load_example(dir, NULL);
	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++)
		load_example(dir, envs[i]);
}

static void examples_have_the_documented_profiles(void **state)
{
	struct sbx_policy *p = NULL;
	struct sbx_diags d = { 0 };
	char dir[512];
	const char *paths[1] = { test_srcpath(dir, sizeof(dir), "policy/examples") };
	const struct sbx_profile *demo, *fetch, *ci;

	(void)state;
	assert_int_equal(sbx_policy_load(paths, 1, "prod", &p, &d), 0);
	demo = sbx_policy_find(p, "ccos.demo.loopback");
	assert_non_null(demo);
	assert_int_equal(demo->net.mode, SBX_NET_ALLOW);
	assert_string_equal(demo->net.entries[0].text, "127.0.0.1:8080/tcp");
	fetch = sbx_policy_find(p, "ccos.network.http-fetch");
	assert_non_null(fetch);
	assert_int_equal(fetch->fs.mode, SBX_FS_READ_ONLY);
	ci = sbx_policy_find(p, "ccos.ci.test-runner");
	assert_non_null(ci);
	assert_int_equal(ci->min_isolation, SBX_ISO_GVISOR);
	assert_int_equal(ci->memory_bytes, 256ull << 20);
	sbx_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unspecified_profile_gets_documented_defaults),
		cmocka_unit_test(every_profile_key_is_parsed),
		cmocka_unit_test(audit_limits_are_checked),
		cmocka_unit_test(network_section_is_parsed),
		cmocka_unit_test(fs_section_is_parsed),
		cmocka_unit_test(value_forms_cpu_timeout_size),
		cmocka_unit_test(access_forms_and_enums),
		cmocka_unit_test(profiles_are_sorted_and_found),
		cmocka_unit_test(defaults_merge_tables_and_replace_arrays),
		cmocka_unit_test(empty_array_in_profile_clears_default_list),
		cmocka_unit_test(overlay_layers_apply_in_documented_order),
		cmocka_unit_test(overlays_ignored_without_env_and_empty_env_is_valid),
		cmocka_unit_test(unknown_env_lists_known_ones),
		cmocka_unit_test(overlay_of_unknown_profile_is_an_error),
		cmocka_unit_test(errors_in_unselected_overlays_are_reported),
		cmocka_unit_test(merged_limits_are_checked_after_overlay),
		cmocka_unit_test(unknown_keys_get_suggestions),
		cmocka_unit_test(top_level_version_and_shapes),
		cmocka_unit_test(wrong_types_name_expected_and_actual),
		cmocka_unit_test(several_errors_are_reported_in_one_load_sorted),
		cmocka_unit_test(errors_of_other_profiles_are_still_checked),
		cmocka_unit_test(syntax_error_is_one_diag_with_position),
		cmocka_unit_test(out_of_range_values),
		cmocka_unit_test(rates_parse_and_round_trip),
		cmocka_unit_test(rate_errors_are_positioned),
		cmocka_unit_test(enums_reject_unknown_names_with_hints),
		cmocka_unit_test(unikernel_and_tee_levels),
		cmocka_unit_test(network_entry_errors_have_positions),
		cmocka_unit_test(network_mode_consistency),
		cmocka_unit_test(network_groups_wildcards_and_idns),
		cmocka_unit_test(network_dns_defaults_and_keys),
		cmocka_unit_test(network_dns_round_trips),
		cmocka_unit_test(network_dns_errors_have_positions),
		cmocka_unit_test(allow_mode_with_empty_list_is_accepted),
		cmocka_unit_test(fs_rule_errors),
		cmocka_unit_test(fsize_takes_sizes_and_bytes),
		cmocka_unit_test(fsize_errors),
		cmocka_unit_test(cpus_weight_disk_are_parsed),
		cmocka_unit_test(cpus_weight_disk_errors),
		cmocka_unit_test(cpus_weight_disk_write_back),
		cmocka_unit_test(fsize_merges_through_defaults_and_overlays),
		cmocka_unit_test(seccomp_table_is_parsed),
		cmocka_unit_test(seccomp_errors),
		cmocka_unit_test(seccomp_merges_key_by_key_and_lists_replace),
		cmocka_unit_test(seccomp_conflict_across_layers_is_checked_after_merging),
		cmocka_unit_test(mock_table_is_parsed),
		cmocka_unit_test(mock_errors),
		cmocka_unit_test(gvisor_wasm_microvm_tables_are_parsed),
		cmocka_unit_test(gvisor_wasm_microvm_errors),
		cmocka_unit_test(provider_tables_merge_through_defaults_and_overlays),
		cmocka_unit_test(provider_table_of_another_provider_is_accepted),
		cmocka_unit_test(network_namespace_and_veth_are_parsed),
		cmocka_unit_test(veth_address_errors_have_positions),
		cmocka_unit_test(veth_needs_a_private_namespace_a_network_and_one_subnet),
		cmocka_unit_test(network_namespace_merges_through_defaults_and_overlays),
		cmocka_unit_test(net_rule_limit_is_enforced),
		cmocka_unit_test(other_limits_are_enforced),
		cmocka_unit_test(path_length_limit_is_enforced),
		cmocka_unit_test(directory_loads_toml_files_in_name_order),
		cmocka_unit_test(duplicate_profiles_across_files_name_both),
		cmocka_unit_test(path_errors_are_reported),
		cmocka_unit_test(examples_load_cleanly),
		cmocka_unit_test(examples_have_the_documented_profiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
