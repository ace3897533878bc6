/* SPDX-License-Identifier: MIT */
/* sbx_fspolicy_decide(): the reference the BPF LSM programs reproduce. */
#include "testutil.h"

#include <arpa/inet.h>

#include "core/fsplan.h"

static struct sbx_fsrule R(const char *path, uint32_t access, uint32_t idx, uint32_t flags)
{
	struct sbx_fsrule r = { .access = access, .rule = idx, .flags = flags };
	size_t len = strlen(path);

	memcpy(r.path, path, len);
	r.len = (uint16_t)len;
	r.dir = path[len - 1] == '/';
	return r;
}

#define RX (SBX_FACC_R | SBX_FACC_X)
#define RW (SBX_FACC_R | SBX_FACC_W)

/* mode read-only; "/etc/" r, "/etc/shadow" deny, "/etc/ssl/" rw, "/data/" rw */
static struct sbx_fsrule rules[] = {
	[3] = { .len = 0 },
};

static struct sbx_fspolicy pol(uint32_t mode, uint32_t flags, size_t n)
{
	struct sbx_fspolicy f = { .cfg = { .mode_access = mode, .flags = flags }, .rules = rules, .n = n };

	rules[0] = R("/etc/", SBX_FACC_R, 0, 0);
	rules[1] = R("/etc/shadow", 0, 1, 0);
	rules[2] = R("/etc/ssl/", RW, 2, 0);
	rules[3] = R("/data/", RW, 3, 0);
	return f;
}

static void decide_longest_rule_wins(void **state)
{
	struct sbx_fspolicy f = pol(RX, 0, 4);
	uint32_t rule;

	(void)state;
	assert_true(sbx_fspolicy_decide(&f, "/etc/hosts", SBX_FACC_R, &rule));
	assert_int_equal(rule, 0);
	assert_false(sbx_fspolicy_decide(&f, "/etc/shadow", SBX_FACC_R, &rule));
	assert_int_equal(rule, 1);
	assert_false(sbx_fspolicy_decide(&f, "/etc/hosts", SBX_FACC_W, &rule));
	assert_true(sbx_fspolicy_decide(&f, "/etc/ssl/certs/x.pem", SBX_FACC_W, &rule));
	assert_int_equal(rule, 2);
}

static void decide_file_rule_is_exact(void **state)
{
	struct sbx_fspolicy f = pol(RX, 0, 4);
	uint32_t rule;

	(void)state;
	/* "/etc/shadow" must not cover "/etc/shadowx" nor "/etc/shadow/" */
	assert_true(sbx_fspolicy_decide(&f, "/etc/shadowx", SBX_FACC_R, &rule));
	assert_int_equal(rule, 0);
	assert_true(sbx_fspolicy_decide(&f, "/etc/shadow.bak", SBX_FACC_R, &rule));
	assert_int_equal(rule, 0);
}

static void decide_directory_with_trailing_slash(void **state)
{
	struct sbx_fspolicy f = pol(0, 0, 4);
	uint32_t rule;

	(void)state;
	/* the directory itself, looked up as "/etc/ssl/", is covered by its rule */
	assert_true(sbx_fspolicy_decide(&f, "/etc/ssl/", SBX_FACC_W, &rule));
	assert_int_equal(rule, 2);
	/* without the slash it is a name in /etc/ */
	assert_false(sbx_fspolicy_decide(&f, "/etc/ssl", SBX_FACC_W, &rule));
	assert_int_equal(rule, 0);
	/* "/data/" covers "/data/" but not a sibling "/database" */
	assert_true(sbx_fspolicy_decide(&f, "/data/", SBX_FACC_R, &rule));
	assert_false(sbx_fspolicy_decide(&f, "/database", SBX_FACC_R, &rule));
	assert_int_equal(rule, SBX_RULE_DEFAULT);
	/* the root directory is "/" */
	assert_false(sbx_fspolicy_decide(&f, "/", SBX_FACC_R, &rule));
	assert_int_equal(rule, SBX_RULE_DEFAULT);
}

static void decide_mode_default_and_full(void **state)
{
	struct sbx_fspolicy f = pol(RX, 0, 4), full = pol(0, SBX_FSF_FULL, 4);
	uint32_t rule;

	(void)state;
	assert_true(sbx_fspolicy_decide(&f, "/usr/bin/true", RX, &rule));
	assert_int_equal(rule, SBX_RULE_DEFAULT);
	assert_false(sbx_fspolicy_decide(&f, "/tmp/x", SBX_FACC_W, &rule));
	assert_true(sbx_fspolicy_decide(&full, "/etc/shadow", RW, &rule));
}

static void decide_exec_list(void **state)
{
	static struct sbx_fsrule xr[6];
	struct sbx_fspolicy f = pol(RX, SBX_FSF_EXEC_LIST, 4);
	uint32_t rule;

	(void)state;
	memcpy(xr, rules, sizeof(rules));
	xr[4] = R("/usr/", RX, 4, SBX_PRF_EXEC_LIST);
	xr[5] = R("/data/tool", RX, 5, SBX_PRF_EXEC_LIST);
	f.rules = xr;
	f.n = 6;
	/* listed: allowed, the rule that decided is the list entry (no fs rule) */
	assert_true(sbx_fspolicy_decide(&f, "/usr/bin/true", RX, &rule));
	assert_int_equal(rule, 4);
	/* not listed: refused although the mode grants x */
	assert_false(sbx_fspolicy_decide(&f, "/opt/bin/x", SBX_FACC_X, &rule));
	assert_int_equal(rule, SBX_RULE_DEFAULT);
	/* rw rule without x, listed file: the list grants x, the rule r */
	assert_true(sbx_fspolicy_decide(&f, "/data/tool", RX, &rule));
	assert_int_equal(rule, 3);
	assert_false(sbx_fspolicy_decide(&f, "/data/other", SBX_FACC_X, &rule));
	assert_int_equal(rule, 3);
	/* reading still follows the rules */
	assert_false(sbx_fspolicy_decide(&f, "/etc/shadow", SBX_FACC_R, &rule));
}

static void rule_keys(void **state)
{
	struct sbx_fsrule d = R("/etc/ssl/", SBX_FACC_R, 0, 0), fr = R("/etc/passwd", 0, 1, 0);
	struct sbx_path_key k;

	(void)state;
	/* a directory rule is a prefix without NUL; a file rule includes it */
	sbx_fsrule_key(&d, 7, &k);
	assert_int_equal(k.prefixlen, 32 + 8 * 9);
	assert_int_equal(k.policy_id, htonl(7));
	assert_memory_equal(k.path, "/etc/ssl/", 9);
	sbx_fsrule_key(&fr, 7, &k);
	assert_int_equal(k.prefixlen, 32 + 8 * 12);
	assert_int_equal(k.path[11], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decide_longest_rule_wins),
		cmocka_unit_test(decide_file_rule_is_exact),
		cmocka_unit_test(decide_directory_with_trailing_slash),
		cmocka_unit_test(decide_mode_default_and_full),
		cmocka_unit_test(decide_exec_list),
		cmocka_unit_test(rule_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
