/* SPDX-License-Identifier: MIT */
/* The seeds' dialect (policy/seeds.c): detection, every mapping to the native
 * profile, every error with its position, and the native form it converts to. */
#include <errno.h>

#include "testutil.h"
#include "policy.h"

static struct sbx_diags diags;

static int load(const char *src, struct sbx_policy **ret)
{
	sbx_diags_free(&diags);
	return sbx_policy_load_buffer("s.toml", src, strlen(src), NULL, ret, &diags);
}

static struct sbx_policy *must_load(const char *src)
{
	struct sbx_policy *p = NULL;

	if (load(src, &p) != 0) {
		for (size_t i = 0; i < diags.n; i++)
			print_message("  %u:%u: %s\n", diags.v[i].line, diags.v[i].col, diags.v[i].msg);
		fail_msg("load failed");
	}
	return p;
}

/* src fails to load with a diagnostic at line:col that contains frag. */
static void must_fail_at(const char *src, unsigned line, unsigned col, const char *frag)
{
	struct sbx_policy *p = NULL;

	assert_int_equal(load(src, &p), -EINVAL);
	assert_null(p);
	for (size_t i = 0; i < diags.n; i++)
		if (diags.v[i].line == line && diags.v[i].col == col && strstr(diags.v[i].msg, frag))
			return;
	for (size_t i = 0; i < diags.n; i++)
		print_message("  %u:%u: %s\n", diags.v[i].line, diags.v[i].col, diags.v[i].msg);
	fail_msg("no diagnostic at %u:%u containing \"%s\"", line, col, frag);
}

/* The native text of one profile: two profiles are equal when these are. */
static char *native_text(const struct sbx_profile *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(sbx_profile_write_toml(p, f), 0);
	fclose(f);
	return buf;
}

static int teardown(void **state)
{
	(void)state;
	sbx_diags_free(&diags);
	return 0;
}

/* ---- mappings ------------------------------------------------------------ */

static const char http_fetch[] =
	"default_provider = \"process\"\n"
	"\n"
	"[capability_configs.\"ccos.network.http-fetch\"]\n"
	"memory_limit_mb = 512\n"
	"timeout_seconds = 30\n"
	"network_policy = { AllowList = [\"api.github.com\"] }\n"
	"fs_policy = { ReadOnly = [\"/tmp\"] }\n";

static void issue_example_maps_to_a_profile(void **state)
{
	struct sbx_policy *p = must_load(http_fetch);
	const struct sbx_profile *a;

	(void)state;
	assert_int_equal(p->n_profiles, 1);
	assert_true(p->seeds_dialect[0]);
	a = &p->profiles[0];
	assert_string_equal(a->name, "ccos.network.http-fetch");
	assert_int_equal(a->pos.line, 3);
	assert_string_equal(a->provider, "process");
	assert_int_equal(a->memory_bytes, 512ull << 20);
	assert_int_equal(a->timeout_ms, 30000);
	assert_int_equal(a->net.mode, SBX_NET_ALLOW);
	assert_int_equal(a->net.n_entries, 1);
	assert_int_equal(a->net.entries[0].kind, SBX_NET_ENTRY_HOST);
	assert_string_equal(a->net.entries[0].host, "api.github.com");
	assert_int_equal(a->net.entries[0].port_lo, 0);		/* a bare name: every port */
	assert_int_equal(a->net.entries[0].port_hi, 65535);
	assert_false(a->net.entries[0].deny);
	assert_int_equal(a->net.entries[0].pos.line, 6);
	assert_int_equal(a->net.entries[0].pos.col, 33);
	assert_int_equal(a->fs.mode, SBX_FS_NONE);
	assert_int_equal(a->fs.n_rules, 1);
	assert_string_equal(a->fs.rules[0].path, "/tmp/");
	assert_true(a->fs.rules[0].dir);
	assert_int_equal(a->fs.rules[0].access, SBX_ACC_R);
	sbx_policy_free(p);
}

/* The seeds' file and its native form give the same profile. */
static void seeds_and_native_forms_are_equal(void **state)
{
	struct sbx_policy *s = must_load(http_fetch), *n;
	char *a, *b;

	(void)state;
	n = must_load("version = 1\n"
		      "[profile.\"ccos.network.http-fetch\"]\n"
		      "provider = \"process\"\nmemory = \"512M\"\ntimeout = \"30s\"\n"
		      "network = { mode = \"allow\", allow = [\"api.github.com\"] }\n"
		      "fs = { mode = \"none\", rules = [{ path = \"/tmp/\", access = \"r\" }] }\n");
	assert_false(n->seeds_dialect[0]);
	a = native_text(&s->profiles[0]);
	b = native_text(&n->profiles[0]);
	assert_string_equal(a, b);
	free(a);
	free(b);
	sbx_policy_free(s);
	sbx_policy_free(n);
}

static void denied_and_none_map_to_mode_none(void **state)
{
	struct sbx_policy *p = must_load("default_provider = \"gvisor\"\n"
					 "[capability_configs.c]\n"
					 "network_policy = \"Denied\"\n"
					 "fs_policy = \"None\"\n");
	const struct sbx_profile *c = &p->profiles[0];

	(void)state;
	assert_string_equal(c->provider, "gvisor");
	assert_int_equal(c->net.mode, SBX_NET_NONE);
	assert_int_equal(c->net.n_entries, 0);
	assert_int_equal(c->fs.mode, SBX_FS_NONE);
	assert_int_equal(c->fs.n_rules, 0);
	assert_int_equal(c->memory_bytes, 0);		/* keys left out: the native defaults */
	assert_int_equal(c->timeout_ms, 0);
	sbx_policy_free(p);
}

static void readwrite_maps_to_rw_rules(void **state)
{
	struct sbx_policy *p = must_load("[capability_configs.w]\n"
					 "fs_policy = { ReadWrite = [\"/tmp\", \"/var/tmp/\"] }\n");
	const struct sbx_profile *w = &p->profiles[0];

	(void)state;
	assert_string_equal(w->provider, "auto");	/* no default_provider */
	assert_int_equal(w->fs.mode, SBX_FS_NONE);
	assert_int_equal(w->fs.n_rules, 2);
	assert_string_equal(w->fs.rules[0].path, "/tmp/");
	assert_string_equal(w->fs.rules[1].path, "/var/tmp/");
	assert_int_equal(w->fs.rules[0].access, SBX_ACC_R | SBX_ACC_W);
	assert_int_equal(w->fs.rules[1].access, SBX_ACC_R | SBX_ACC_W);
	assert_int_equal(w->fs.rules[1].pos.col, 36);
	sbx_policy_free(p);
}

/* 'ReadOnly(["/tmp"])' as a string means what { ReadOnly = ["/tmp"] } means,
 * and positions point into the string. */
static void string_form_equals_table_form(void **state)
{
	struct sbx_policy *s = must_load("[capability_configs.x]\n"
					 "network_policy = 'AllowList([\"api.github.com\", \"192.0.2.0/24:443\",])'\n"
					 "fs_policy = 'ReadOnly( [ \"/tmp\" ] )'\n");
	struct sbx_policy *t = must_load("[capability_configs.x]\n"
					 "network_policy = { AllowList = [\"api.github.com\", \"192.0.2.0/24:443\"] }\n"
					 "fs_policy = { ReadOnly = [\"/tmp\"] }\n");
	const struct sbx_profile *x = &s->profiles[0];
	char *a = native_text(x), *b = native_text(&t->profiles[0]);

	(void)state;
	assert_string_equal(a, b);
	assert_int_equal(x->net.n_entries, 2);
	assert_string_equal(x->net.entries[1].text, "192.0.2.0/24:443");
	assert_int_equal(x->net.entries[1].pos.line, 2);
	assert_int_equal(x->net.entries[1].pos.col, 48);	/* its opening quote */
	assert_int_equal(x->fs.rules[0].pos.col, 26);
	free(a);
	free(b);
	sbx_policy_free(s);
	sbx_policy_free(t);
}

static void every_capability_is_a_profile_in_name_order(void **state)
{
	struct sbx_policy *p = must_load("default_provider = \"process\"\n"
					 "[capability_configs.\"b.two\"]\n"
					 "[capability_configs.\"a.one\"]\n"
					 "timeout_seconds = 5\n");

	(void)state;
	assert_int_equal(p->n_profiles, 2);
	assert_string_equal(p->profiles[0].name, "a.one");
	assert_string_equal(p->profiles[1].name, "b.two");
	assert_string_equal(p->profiles[0].provider, "process");
	assert_string_equal(p->profiles[1].provider, "process");
	assert_int_equal(p->profiles[0].timeout_ms, 5000);
	sbx_policy_free(p);
}

/* The fixtures retyped from the issue load and mean what they say. */
static void fixtures_load(void **state)
{
	static const char *const files[] = { "http-fetch.toml", "denied-none.toml", "readwrite.toml" };
	char path[512], rel[128];

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *paths[1] = { path };
		struct sbx_policy *p = NULL;

		snprintf(rel, sizeof(rel), "tests/fixtures/seeds/%s", files[i]);
		test_srcpath(path, sizeof(path), rel);
		sbx_diags_free(&diags);
		assert_int_equal(sbx_policy_load(paths, 1, NULL, &p, &diags), 0);
		assert_true(p->seeds_dialect[0]);
		for (size_t k = 0; k < p->n_profiles; k++)
			assert_string_equal(p->profiles[k].provider, "process");
		sbx_policy_free(p);
	}
}

/* ---- errors ---------------------------------------------------------------- */

static void mixing_dialects_names_the_other_dialects_key(void **state)
{
	(void)state;
	must_fail_at("default_provider = \"process\"\nversion = 1\n[capability_configs.a]\n", 2, 1,
		     "'version' is a key of sbx's native policy format, but this file is in the seeds' dialect "
		     "('default_provider' at 1:1)");
	assert_int_equal(diags.n, 1);
	must_fail_at("version = 1\n[profile.a]\n[capability_configs.a]\n", 3, 2,
		     "'capability_configs' is a key of the seeds' dialect, but this file is in sbx's native "
		     "policy format ('version' at 1:1)");
	assert_int_equal(diags.n, 1);
}

static void unknown_keys_have_positions_and_hints(void **state)
{
	(void)state;
	must_fail_at("default_providr = \"process\"\ncapability_configs = { a = {} }\n", 1, 1,
		     "unknown key 'default_providr' in the top level of a seeds' dialect file (did you mean "
		     "'default_provider'?)");
	must_fail_at("[capability_configs.a]\nmemory_limit_md = 5\n", 2, 1,
		     "unknown key 'memory_limit_md' in [capability_configs.\"a\"] (did you mean 'memory_limit_mb'?)");
	must_fail_at("[capability_configs.a]\nprovider = \"process\"\n", 2, 1,
		     "(expected memory_limit_mb, timeout_seconds, network_policy, fs_policy)");
}

static void provider_is_validated_once_like_the_native_key(void **state)
{
	(void)state;
	must_fail_at("default_provider = \"gviser\"\n[capability_configs.a]\n[capability_configs.b]\n", 1, 20,
		     "unknown provider 'gviser' (did you mean 'gvisor'?)");
	assert_int_equal(diags.n, 1);
	must_fail_at("default_provider = 1\n[capability_configs.a]\n", 1, 20,
		     "'default_provider' must be a string, not an integer");
}

static void memory_and_timeout_are_positive_integers(void **state)
{
	(void)state;
	must_fail_at("[capability_configs.a]\nmemory_limit_mb = 1.5\n", 2, 19,
		     "'memory_limit_mb' must be an integer, not a float");
	must_fail_at("[capability_configs.a]\nmemory_limit_mb = -1\n", 2, 19, "memory_limit_mb -1 out of range");
	must_fail_at("[capability_configs.a]\nmemory_limit_mb = 0\n", 2, 19, "out of range (1 to 67108864");
	must_fail_at("[capability_configs.a]\nmemory_limit_mb = \"512\"\n", 2, 19, "must be an integer, not a string");
	must_fail_at("[capability_configs.a]\ntimeout_seconds = 0\n", 2, 19, "timeout_seconds 0 out of range");
	must_fail_at("[capability_configs.a]\ntimeout_seconds = 2678401\n", 2, 19, "(1 to 2678400");
}

static void unknown_variants_list_the_accepted_ones(void **state)
{
	(void)state;
	must_fail_at("[capability_configs.a]\nnetwork_policy = \"Full\"\n", 2, 19,
		     "unknown network_policy variant 'Full' (expected \"Denied\" or { AllowList = [...] })");
	must_fail_at("[capability_configs.a]\nnetwork_policy = { DenyList = [\"x\"] }\n", 2, 20,
		     "unknown network_policy variant 'DenyList'");
	must_fail_at("[capability_configs.a]\nfs_policy = { ReadOnlY = [] }\n", 2, 15,
		     "unknown fs_policy variant 'ReadOnlY' (did you mean 'ReadOnly'?) (expected \"None\", "
		     "{ ReadOnly = [...] } or { ReadWrite = [...] })");
	must_fail_at("[capability_configs.a]\nnetwork_policy = { Denied = [] }\n", 2, 20,
		     "'Denied' takes no list");
	must_fail_at("[capability_configs.a]\nfs_policy = \"ReadWrite\"\n", 2, 14,
		     "'ReadWrite' needs a list: { ReadWrite = [...] }");
	must_fail_at("[capability_configs.a]\nfs_policy = { ReadOnly = [\"/a\"], ReadWrite = [\"/b\"] }\n", 2, 13,
		     "a table must hold exactly one variant, not 2");
	must_fail_at("[capability_configs.a]\nfs_policy = 3\n", 2, 13, "'fs_policy' must be a string or a table");
	must_fail_at("[capability_configs.a]\nfs_policy = { ReadOnly = \"/tmp\" }\n", 2, 26,
		     "'ReadOnly' must be an array of strings, not a string");
	must_fail_at("[capability_configs.a]\nnetwork_policy = { AllowList = [\"a.org\", 3] }\n", 2, 42,
		     "'AllowList' must hold strings, not an integer");
}

/* Errors inside the string form point at the character. */
static void string_form_errors_point_into_the_string(void **state)
{
	(void)state;
	must_fail_at("[capability_configs.a]\nfs_policy = 'ReadOnly([\"/tmp\" \"/x\"])'\n", 2, 31,
		     "fs_policy: expected ',' or ']' in 'ReadOnly([\"/tmp\" \"/x\"])'");
	must_fail_at("[capability_configs.a]\nfs_policy = 'ReadOnly[\"/tmp\"]'\n", 2, 22,
		     "expected '(' after the variant name");
	must_fail_at("[capability_configs.a]\nfs_policy = 'ReadOnly(\"/tmp\")'\n", 2, 23, "expected '['");
	must_fail_at("[capability_configs.a]\nfs_policy = 'ReadOnly([\"/tmp\"]'\n", 2, 31, "expected ')'");
	must_fail_at("[capability_configs.a]\nfs_policy = 'ReadOnly([\"/tmp\"]) '\n", 2, 32,
		     "unexpected text after ')'");
	must_fail_at("[capability_configs.a]\nfs_policy = 'ReadOnly([\"/tmp])'\n", 2, 31, "unterminated string");
	must_fail_at("[capability_configs.a]\nfs_policy = 'ReadOnly([/tmp])'\n", 2, 24,
		     "expected a double-quoted string or ']'");
	must_fail_at("[capability_configs.a]\nfs_policy = 'ReadOnly([\"/t\\mp\"])'\n", 2, 27,
		     "only \\\" and \\\\ may be escaped");
	must_fail_at("[capability_configs.a]\nfs_policy = ' None'\n", 2, 14, "expected a variant name");
	must_fail_at("[capability_configs.a]\nfs_policy = 'Nothing'\n", 2, 14, "unknown fs_policy variant 'Nothing'");
	must_fail_at("[capability_configs.a]\nfs_policy = 'ReadOnlyReadOnlyReadOnlyReadOnly([])'\n", 2, 14,
		     "fs_policy: variant name too long");
	/* a key with a NUL is quoted, not cut at the NUL */
	must_fail_at("[capability_configs.a]\nnetwork_policy = { \"Allow\\u0000List\" = [] }\n", 2, 20,
		     "unknown network_policy variant 'Allow\\x00List'");
}

/* Values go through the native parsers: same checks, same positions. */
static void native_value_checks_apply_at_the_seeds_positions(void **state)
{
	(void)state;
	must_fail_at("[capability_configs.a]\nfs_policy = { ReadOnly = [\"/tmp\", \"tmp\"] }\n", 2, 35,
		     "fs_policy: path 'tmp' is not absolute");
	must_fail_at("[capability_configs.a]\nfs_policy = { ReadOnly = [\"/a/../b\"] }\n", 2, 27, "fs_policy: ");
	must_fail_at("[capability_configs.a]\nfs_policy = { ReadOnly = [\"/a\", \"/a/\"] }\n", 2, 33, "/a/");
	must_fail_at("[capability_configs.a]\nnetwork_policy = { AllowList = [\"bad host!\"] }\n", 2, 33,
		     "network entry");
	must_fail_at("[capability_configs.a]\nnetwork_policy = 'AllowList([\"10.0.0.0/33\"])'\n", 2, 30, "");
}

static void structure_errors(void **state)
{
	(void)state;
	must_fail_at("default_provider = \"process\"\n", 0, 0,
		     "no capabilities defined (add a [capability_configs.\"NAME\"] table)");
	assert_int_equal(diags.n, 1);
	must_fail_at("[capability_configs]\n", 1, 2, "no capabilities defined");
	assert_int_equal(diags.n, 1);
	must_fail_at("capability_configs = 4\n", 1, 22, "'capability_configs' must be a table, not an integer");
	must_fail_at("[capability_configs]\na = 3\n", 2, 5, "capability 'a' must be a table, not an integer");
	must_fail_at("[capability_configs.\"bad name!\"]\n", 1, 21, "invalid profile name 'bad name!'");
}

/* One capability's error does not hide another's. */
static void errors_of_every_capability_are_reported(void **state)
{
	(void)state;
	must_fail_at("[capability_configs.a]\nmemory_limit_mb = 0\n[capability_configs.b]\ntimeout_seconds = -3\n",
		     4, 19, "timeout_seconds -3");
	assert_int_equal(diags.n, 2);
}

/* ---- the native form -------------------------------------------------------- */

/* sbx_policy_write_toml() of a seeds' policy loads back to equal profiles. */
static void native_form_round_trips(void **state)
{
	struct sbx_policy *s = must_load("default_provider = \"process\"\n"
					 "[capability_configs.one]\nmemory_limit_mb = 100\n"
					 "network_policy = { AllowList = [\"api.github.com\", \"[2001:db8::1]:443\"] }\n"
					 "fs_policy = { ReadWrite = [\"/tmp\"] }\n"
					 "[capability_configs.two]\ntimeout_seconds = 90\n"
					 "network_policy = \"Denied\"\nfs_policy = \"None\"\n");
	struct sbx_policy *n;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	assert_int_equal(sbx_policy_write_toml(s, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "version = 1\n"));
	assert_null(strstr(strstr(buf, "version = 1\n") + 1, "version = 1\n"));	/* once */
	n = must_load(buf);
	assert_false(n->seeds_dialect[0]);
	assert_int_equal(n->n_profiles, 2);
	for (size_t i = 0; i < 2; i++) {
		char *a = native_text(&s->profiles[i]), *b = native_text(&n->profiles[i]);

		assert_string_equal(a, b);
		free(a);
		free(b);
	}
	free(buf);
	sbx_policy_free(s);
	sbx_policy_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(issue_example_maps_to_a_profile, teardown),
		cmocka_unit_test_teardown(seeds_and_native_forms_are_equal, teardown),
		cmocka_unit_test_teardown(denied_and_none_map_to_mode_none, teardown),
		cmocka_unit_test_teardown(readwrite_maps_to_rw_rules, teardown),
		cmocka_unit_test_teardown(string_form_equals_table_form, teardown),
		cmocka_unit_test_teardown(every_capability_is_a_profile_in_name_order, teardown),
		cmocka_unit_test_teardown(fixtures_load, teardown),
		cmocka_unit_test_teardown(mixing_dialects_names_the_other_dialects_key, teardown),
		cmocka_unit_test_teardown(unknown_keys_have_positions_and_hints, teardown),
		cmocka_unit_test_teardown(provider_is_validated_once_like_the_native_key, teardown),
		cmocka_unit_test_teardown(memory_and_timeout_are_positive_integers, teardown),
		cmocka_unit_test_teardown(unknown_variants_list_the_accepted_ones, teardown),
		cmocka_unit_test_teardown(string_form_errors_point_into_the_string, teardown),
		cmocka_unit_test_teardown(native_value_checks_apply_at_the_seeds_positions, teardown),
		cmocka_unit_test_teardown(structure_errors, teardown),
		cmocka_unit_test_teardown(errors_of_every_capability_are_reported, teardown),
		cmocka_unit_test_teardown(native_form_round_trips, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
