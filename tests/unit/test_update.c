/* SPDX-License-Identifier: MIT */
/* sbx_profile_tightens: which profile changes only tighten a running
 * sandbox (its owner may ask for them) and which loosen it (root only), with
 * the first loosening field named; and sbx_update_changeable: what cannot
 * change live at all. Profiles come from policy text, as the daemon loads them. */
#include <errno.h>

#include "testutil.h"
#include "core/update.h"

static const char base[] =
	"version = 1\n"
	"[profile.cur]\n"
	"provider = \"host\"\nmin_isolation = \"none\"\n"
	"memory = \"256M\"\n"
	"pids = 100\n"
	"cpu = \"1\"\n"
	"timeout = \"1h\"\n"
	"audit = \"deny\"\n"
	"[profile.cur.network]\n"
	"mode = \"allow\"\n"
	"allow = [\"10.0.0.0/8:443/tcp\", \"192.0.2.1:80/tcp\"]\n"
	"deny = [\"10.1.0.0/16\"]\n"
	"listen = [\"8000-8100/tcp\"]\n"
	"[profile.cur.fs]\n"
	"mode = \"read-only\"\n"
	"rules = [{ path = \"/srv/\", access = \"rw\" }, { path = \"/srv/secret/\", access = \"deny\" }]\n";

struct pair {
	struct sbx_policy *pol;
	const struct sbx_profile *cur, *next;
};

/* Loads base plus [profile.next] (next_body: its keys, sub-tables included). */
static void load(struct pair *p, const char *next_body)
{
	char text[4096];
	struct sbx_diags d = {};
	int r;

	snprintf(text, sizeof(text), "%s[profile.next]\n%s", base, next_body);
	r = sbx_policy_load_buffer("test.toml", text, strlen(text), NULL, &p->pol, &d);
	for (size_t i = 0; i < d.n; i++)
		print_message("%s:%u:%u: %s\n", d.v[i].file, d.v[i].line, d.v[i].col, d.v[i].msg);
	assert_int_equal(r, 0);
	sbx_diags_free(&d);
	p->cur = sbx_policy_find(p->pol, "cur");
	p->next = sbx_policy_find(p->pol, "next");
	assert_non_null(p->cur);
	assert_non_null(p->next);
}

/* The same keys as cur, so that each case changes one thing. */
#define SAME_LIMITS "provider = \"host\"\nmin_isolation = \"none\"\nmemory = \"256M\"\npids = 100\ncpu = \"1\"\n" \
	"timeout = \"1h\"\naudit = \"deny\"\n"
#define SAME_NET "[profile.next.network]\nmode = \"allow\"\n" \
	"allow = [\"10.0.0.0/8:443/tcp\", \"192.0.2.1:80/tcp\"]\ndeny = [\"10.1.0.0/16\"]\n" \
	"listen = [\"8000-8100/tcp\"]\n"
#define SAME_FS "[profile.next.fs]\nmode = \"read-only\"\n" \
	"rules = [{ path = \"/srv/\", access = \"rw\" }, { path = \"/srv/secret/\", access = \"deny\" }]\n"

static void expect(const char *next_body, int want, const char *field)
{
	struct pair p = {};
	char why[512] = "";

	load(&p, next_body);
	assert_int_equal(sbx_profile_tightens(p.cur, p.next, why, sizeof(why)), want);
	if (field) {
		print_message("why: %s\n", why);
		assert_non_null(strstr(why, field));
		assert_int_equal(strncmp(why, field, strlen(field)), 0);
	}
	sbx_policy_free(p.pol);
}

static void identical_profile_tightens(void **state)
{
	expect(SAME_LIMITS SAME_NET SAME_FS, 1, NULL);
}

static void lower_limits_tighten(void **state)
{
	expect("provider = \"host\"\nmin_isolation = \"none\"\nmemory = \"128M\"\npids = 10\ncpu = \"0.5\"\n"
	       "timeout = \"10m\"\naudit = \"deny\"\n" SAME_NET SAME_FS, 1, NULL);
}

static void higher_memory_loosens(void **state)
{
	expect("provider = \"host\"\nmin_isolation = \"none\"\nmemory = \"512M\"\npids = 100\ncpu = \"1\"\n"
	       "timeout = \"1h\"\naudit = \"deny\"\n" SAME_NET SAME_FS, 0, "memory: the new profile raises it from 268435456 to 536870912");
}

static void lifted_pids_limit_loosens(void **state)
{
	/* no pids key: unlimited */
	expect("provider = \"host\"\nmin_isolation = \"none\"\nmemory = \"256M\"\ncpu = \"1\"\ntimeout = \"1h\"\n"
	       "audit = \"deny\"\n" SAME_NET SAME_FS, 0, "pids: the new profile lifts the limit of 100");
}

static void higher_cpu_loosens(void **state)
{
	expect("provider = \"host\"\nmin_isolation = \"none\"\nmemory = \"256M\"\npids = 100\ncpu = \"2\"\n"
	       "timeout = \"1h\"\naudit = \"deny\"\n" SAME_NET SAME_FS, 0, "cpu");
}

static void new_limit_on_unlimited_tightens(void **state)
{
	/* cur has no net_bytes quota: adding one only tightens */
	expect(SAME_LIMITS "net_bytes = \"1M\"\n" SAME_NET SAME_FS, 1, NULL);
}

static void removed_allow_entry_tightens(void **state)
{
	expect(SAME_LIMITS "[profile.next.network]\nmode = \"allow\"\n"
	       "allow = [\"10.0.0.0/8:443/tcp\"]\ndeny = [\"10.1.0.0/16\"]\n"
	       "listen = [\"8000-8100/tcp\"]\n" SAME_FS, 1, NULL);
}

static void added_deny_entry_tightens(void **state)
{
	expect(SAME_LIMITS "[profile.next.network]\nmode = \"allow\"\n"
	       "allow = [\"10.0.0.0/8:443/tcp\", \"192.0.2.1:80/tcp\"]\n"
	       "deny = [\"10.1.0.0/16\", \"10.2.0.0/16\"]\nlisten = [\"8000-8100/tcp\"]\n" SAME_FS,
	       1, NULL);
}

static void new_allow_entry_loosens(void **state)
{
	expect(SAME_LIMITS "[profile.next.network]\nmode = \"allow\"\n"
	       "allow = [\"10.0.0.0/8:443/tcp\", \"192.0.2.1:80/tcp\", \"198.51.100.7:22/tcp\"]\n"
	       "deny = [\"10.1.0.0/16\"]\nlisten = [\"8000-8100/tcp\"]\n" SAME_FS,
	       0, "network.allow: the new profile allows more at 198.51.100.7:22/tcp");
}

static void removed_deny_entry_loosens(void **state)
{
	expect(SAME_LIMITS "[profile.next.network]\nmode = \"allow\"\n"
	       "allow = [\"10.0.0.0/8:443/tcp\", \"192.0.2.1:80/tcp\"]\n"
	       "listen = [\"8000-8100/tcp\"]\n" SAME_FS, 0,
	       "network.deny: the new profile drops 10.1.0.0/16");
}

static void mode_none_tightens(void **state)
{
	expect(SAME_LIMITS "[profile.next.network]\nmode = \"none\"\n" SAME_FS, 1, NULL);
}

static void mode_full_loosens(void **state)
{
	expect(SAME_LIMITS "[profile.next.network]\nmode = \"full\"\n" SAME_FS, 0, "network.mode");
}

static void wider_listen_loosens(void **state)
{
	expect(SAME_LIMITS "[profile.next.network]\nmode = \"allow\"\n"
	       "allow = [\"10.0.0.0/8:443/tcp\", \"192.0.2.1:80/tcp\"]\ndeny = [\"10.1.0.0/16\"]\n"
	       "listen = [\"8000-9000/tcp\"]\n" SAME_FS, 0, "network.listen");
}

static void narrower_listen_tightens(void **state)
{
	expect(SAME_LIMITS "[profile.next.network]\nmode = \"allow\"\n"
	       "allow = [\"10.0.0.0/8:443/tcp\", \"192.0.2.1:80/tcp\"]\ndeny = [\"10.1.0.0/16\"]\n"
	       "listen = [\"8080/tcp\"]\n" SAME_FS, 1, NULL);
}

static void raw_sockets_loosen(void **state)
{
	expect(SAME_LIMITS SAME_NET "raw_sockets = true\n" SAME_FS, 0, "network.raw_sockets");
}

static void fs_mode_read_write_loosens(void **state)
{
	expect(SAME_LIMITS SAME_NET "[profile.next.fs]\nmode = \"read-write\"\n"
	       "rules = [{ path = \"/srv/\", access = \"rw\" }, { path = \"/srv/secret/\", access = \"deny\" }]\n",
	       0, "fs.mode");
}

static void fs_rule_narrowed_tightens(void **state)
{
	/* /srv/ read only, and a new deny below it */
	expect(SAME_LIMITS SAME_NET "[profile.next.fs]\nmode = \"read-only\"\n"
	       "rules = [{ path = \"/srv/\", access = \"r\" }, { path = \"/srv/secret/\", access = \"deny\" },"
	       " { path = \"/srv/tmp/\", access = \"deny\" }]\n", 1, NULL);
}

static void fs_deny_removed_loosens(void **state)
{
	/* /srv/secret/ now falls to /srv/ (rw) */
	expect(SAME_LIMITS SAME_NET "[profile.next.fs]\nmode = \"read-only\"\n"
	       "rules = [{ path = \"/srv/\", access = \"rw\" }]\n", 0,
	       "fs.rules: the new profile allows more at /srv/secret/");
}

static void fs_new_grant_loosens(void **state)
{
	expect(SAME_LIMITS SAME_NET "[profile.next.fs]\nmode = \"read-only\"\n"
	       "rules = [{ path = \"/srv/\", access = \"rw\" }, { path = \"/srv/secret/\", access = \"deny\" },"
	       " { path = \"/var/\", access = \"rw\" }]\n", 0, "fs.rules");
}

static void fs_exec_list_added_tightens(void **state)
{
	expect(SAME_LIMITS SAME_NET SAME_FS "exec = [\"/usr/bin/\"]\n", 1, NULL);
}

static void less_audit_loosens(void **state)
{
	expect("provider = \"host\"\nmin_isolation = \"none\"\nmemory = \"256M\"\npids = 100\ncpu = \"1\"\n"
	       "timeout = \"1h\"\naudit = \"none\"\n" SAME_NET SAME_FS, 0, "audit");
}

static void other_provider_is_not_a_tightening(void **state)
{
	expect("provider = \"process\"\nmin_isolation = \"none\"\nmemory = \"256M\"\npids = 100\ncpu = \"1\"\n"
	       "timeout = \"1h\"\naudit = \"deny\"\n" SAME_NET SAME_FS, 0, "provider");
}

static void changeable(const char *next_body, int want, const char *field)
{
	struct pair p = {};
	char why[512] = "";

	load(&p, next_body);
	assert_int_equal(sbx_update_changeable(p.cur, p.next, why, sizeof(why)), want);
	if (field) {
		print_message("why: %s\n", why);
		assert_int_equal(strncmp(why, field, strlen(field)), 0);
	}
	sbx_policy_free(p.pol);
}

static void limits_and_rules_change_live(void **state)
{
	changeable("provider = \"host\"\nmin_isolation = \"none\"\nmemory = \"64M\"\npids = 5\ncpu = \"0.2\"\n"
		   "timeout = \"1h\"\naudit = \"all\"\n"
		   "[profile.next.network]\nmode = \"deny\"\ndeny = [\"10.0.0.0/8\"]\n"
		   "[profile.next.fs]\nmode = \"none\"\n", 0, NULL);
}

static void timeout_does_not_change_live(void **state)
{
	changeable("provider = \"host\"\nmin_isolation = \"none\"\nmemory = \"256M\"\npids = 100\ncpu = \"1\"\n"
		   "timeout = \"1m\"\naudit = \"deny\"\n" SAME_NET SAME_FS, -EOPNOTSUPP, "timeout");
}

static void env_does_not_change_live(void **state)
{
	changeable(SAME_LIMITS "env = { A = \"1\" }\n" SAME_NET SAME_FS, -EOPNOTSUPP, "env");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(identical_profile_tightens),
		cmocka_unit_test(lower_limits_tighten),
		cmocka_unit_test(higher_memory_loosens),
		cmocka_unit_test(lifted_pids_limit_loosens),
		cmocka_unit_test(higher_cpu_loosens),
		cmocka_unit_test(new_limit_on_unlimited_tightens),
		cmocka_unit_test(removed_allow_entry_tightens),
		cmocka_unit_test(added_deny_entry_tightens),
		cmocka_unit_test(new_allow_entry_loosens),
		cmocka_unit_test(removed_deny_entry_loosens),
		cmocka_unit_test(mode_none_tightens),
		cmocka_unit_test(mode_full_loosens),
		cmocka_unit_test(wider_listen_loosens),
		cmocka_unit_test(narrower_listen_tightens),
		cmocka_unit_test(raw_sockets_loosen),
		cmocka_unit_test(fs_mode_read_write_loosens),
		cmocka_unit_test(fs_rule_narrowed_tightens),
		cmocka_unit_test(fs_deny_removed_loosens),
		cmocka_unit_test(fs_new_grant_loosens),
		cmocka_unit_test(fs_exec_list_added_tightens),
		cmocka_unit_test(less_audit_loosens),
		cmocka_unit_test(other_provider_is_not_a_tightening),
		cmocka_unit_test(limits_and_rules_change_live),
		cmocka_unit_test(timeout_does_not_change_live),
		cmocka_unit_test(env_does_not_change_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
