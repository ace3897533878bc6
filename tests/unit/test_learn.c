/* SPDX-License-Identifier: MIT */
/* Unit tests for sbx learn (user/core/learn.h): directory generalisation,
 * the reading of audit lines (names from dns.query, bad input, sandboxes)
 * and the base profile's answers that --base filters with. */
#include <errno.h>
#include <stdbool.h>

#include "testutil.h"
#include "core/learn.h"

#define R SBX_ACC_R
#define W SBX_ACC_W
#define X SBX_ACC_X

static struct sbx_learn_file F(const char *path, uint32_t acc)
{
	return (struct sbx_learn_file){ .path = (char *)path, .access = acc, .events = 1 };
}

/* The rule for path, or NULL. */
static const struct sbx_learn_rule *rule(const struct sbx_learn_rule *v, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].path, path))
			return &v[i];
	return NULL;
}

static void test_many_files_fold_into_their_directory(void **state)
{
	struct sbx_learn_file f[] = { F("/usr/lib/py/a.py", R), F("/usr/lib/py/b.py", R),
				      F("/usr/lib/py/c.py", R), F("/usr/lib/py/d.py", R),
				      F("/etc/hosts", R) };
	struct sbx_learn_rule *v;
	size_t n;

	assert_int_equal(sbx_learn_generalise(f, 5, 0, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_non_null(rule(v, n, "/usr/lib/py/"));
	assert_int_equal(rule(v, n, "/usr/lib/py/")->files, 4);
	assert_int_equal(rule(v, n, "/usr/lib/py/")->access, R);
	assert_non_null(rule(v, n, "/etc/hosts"));	/* alone: stays a file rule */
	sbx_learn_rules_free(v, n);
}

static void test_generalising_goes_up_from_the_deepest(void **state)
{
	struct sbx_learn_file f[] = {
		F("/usr/lib/py/a/1", R), F("/usr/lib/py/a/2", R), F("/usr/lib/py/a/3", R),
		F("/usr/lib/py/b/1", R), F("/usr/lib/py/b/2", R), F("/usr/lib/py/b/3", R),
		F("/usr/lib/py/c/1", R), F("/usr/lib/py/c/2", R), F("/usr/lib/py/c/3", R),
	};
	struct sbx_learn_rule *v;
	size_t n;

	assert_int_equal(sbx_learn_generalise(f, 9, 0, &v, &n), 0);
	/* a/, b/, c/ first, then their three directories into py/; /usr/lib/
	 * holds one rule only */
	assert_int_equal(n, 1);
	assert_string_equal(v[0].path, "/usr/lib/py/");
	assert_int_equal(v[0].files, 9);
	sbx_learn_rules_free(v, n);
}

static void test_never_above_the_second_level(void **state)
{
	struct sbx_learn_file f[] = { F("/usr/a", R), F("/usr/b", R), F("/usr/c", R), F("/usr/d", R) };
	struct sbx_learn_rule *v;
	size_t n;

	assert_int_equal(sbx_learn_generalise(f, 4, 0, &v, &n), 0);
	assert_int_equal(n, 4);
	assert_null(rule(v, n, "/usr/"));
	sbx_learn_rules_free(v, n);
}

static void test_reads_and_writes_stay_apart(void **state)
{
	struct sbx_learn_file f[] = { F("/srv/d/1", R), F("/srv/d/2", R), F("/srv/d/3", R),
				      F("/srv/d/out", W), F("/srv/e/log", R | W) };
	struct sbx_learn_rule *v;
	size_t n;

	assert_int_equal(sbx_learn_generalise(f, 5, 0, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(rule(v, n, "/srv/d/")->access, R);
	assert_int_equal(rule(v, n, "/srv/d/")->files, 3);
	/* the write is not folded into the read rule, and keeps its read */
	assert_non_null(rule(v, n, "/srv/d/out"));
	assert_int_equal(rule(v, n, "/srv/d/out")->access, R | W);
	assert_int_equal(rule(v, n, "/srv/e/log")->access, R | W);
	sbx_learn_rules_free(v, n);
}

static void test_a_covering_write_rule_is_kept_by_deeper_read_rules(void **state)
{
	struct sbx_learn_file f[] = { F("/srv/w/x", W), F("/srv/w/y", W), F("/srv/w/z", W),
				      F("/srv/w/sub/1", R), F("/srv/w/sub/2", R), F("/srv/w/sub/3", R) };
	struct sbx_learn_rule *v;
	size_t n;

	assert_int_equal(sbx_learn_generalise(f, 6, 0, &v, &n), 0);
	/* /srv/w/ rw-class and /srv/w/sub/ r-class: the longer one decides
	 * below it, so it must keep the write the shorter one grants */
	assert_int_equal(rule(v, n, "/srv/w/")->access, W);
	assert_int_equal(rule(v, n, "/srv/w/sub/")->access, R | W);
	sbx_learn_rules_free(v, n);
}

static void test_made_directories_are_directory_rules(void **state)
{
	struct sbx_learn_file f[] = { { .path = "/srv/out", .access = W, .dir = true, .events = 2 },
				      F("/srv/out/a", W) };
	struct sbx_learn_rule *v;
	size_t n;

	assert_int_equal(sbx_learn_generalise(f, 2, 0, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].path, "/srv/out/");
	assert_int_equal(v[0].files, 2);
	assert_int_equal(v[0].events, 3);
	sbx_learn_rules_free(v, n);
}

static char why[512];

static int feed(struct sbx_learn *l, const char *const *lines)
{
	int r = 0;

	for (; *lines && !r; lines++)
		r = sbx_learn_line(l, *lines, why, sizeof(why));
	return r;
}

static void test_addresses_become_the_names_that_resolved_to_them(void **state)
{
	const char *lines[] = {
		"{\"sandbox\":\"sbx-1\",\"event\":\"dns.query\",\"name\":\"api.test\",\"answers\":[\"192.0.2.10\",\"192.0.2.11\"]}",
		"{\"sandbox\":\"sbx-1\",\"event\":\"net.connect\",\"verdict\":\"would_deny\",\"addr\":\"192.0.2.11\",\"port\":443,\"proto\":\"tcp\"}",
		"{\"sandbox\":\"sbx-1\",\"event\":\"net.connect\",\"verdict\":\"would_deny\",\"addr\":\"::1\",\"port\":80,\"proto\":\"tcp\"}",
		"{\"sandbox\":\"sbx-1\",\"event\":\"net.bind\",\"verdict\":\"would_deny\",\"addr\":\"0.0.0.0\",\"port\":8080,\"proto\":\"udp\"}",
		"{\"sandbox\":\"sbx-1\",\"event\":\"file\",\"verdict\":\"would_deny\",\"op\":\"mkdir\",\"path\":\"/srv//out/./new/\",\"access\":\"w\"}",
		"{\"sandbox\":\"sbx-1\",\"event\":\"file\",\"verdict\":\"would_deny\",\"op\":\"open\",\"path\":\"rel/x\",\"access\":\"r\"}",
		NULL,
	};
	struct sbx_learn l;

	sbx_learn_init(&l, NULL);
	assert_int_equal(feed(&l, lines), 0);
	assert_int_equal(l.net.n, 2);
	assert_string_equal(l.net.v[0].text, "api.test:443/tcp");
	assert_string_equal(l.net.v[1].text, "[::1]:80/tcp");
	assert_string_equal(l.listen.v[0].text, "8080/udp");
	/* a new name: a rule on its directory, normalised */
	assert_int_equal(l.n_files, 1);
	assert_string_equal(l.files[0].path, "/srv/out");
	assert_true(l.files[0].dir);
	assert_int_equal(l.notes.n, 1);	/* the relative path */
	assert_int_equal(l.would_deny, 5);
	sbx_learn_free(&l);
}

static void test_bad_lines_and_second_sandboxes_are_errors(void **state)
{
	const char *bad[] = { "{\"sandbox\":\"sbx-1\"}", "{\"sandbox\": ", NULL };
	const char *arr[] = { "[1, 2]", NULL };
	const char *two[] = { "{\"sandbox\":\"sbx-1\",\"event\":\"sandbox.start\"}",
			      "{\"sandbox\":\"sbx-2\",\"event\":\"sandbox.start\"}", NULL };
	struct sbx_learn l;

	sbx_learn_init(&l, NULL);
	assert_int_equal(feed(&l, bad), -EINVAL);
	assert_non_null(strstr(why, "line 2"));
	sbx_learn_free(&l);
	sbx_learn_init(&l, NULL);
	assert_int_equal(feed(&l, arr), -EINVAL);
	sbx_learn_free(&l);
	sbx_learn_init(&l, NULL);
	assert_int_equal(feed(&l, two), -EINVAL);
	assert_non_null(strstr(why, "--sandbox"));
	sbx_learn_free(&l);
	sbx_learn_init(&l, "2");	/* a prefix without "sbx-" */
	assert_int_equal(feed(&l, two), 0);
	assert_string_equal(l.sandbox, "sbx-2");
	assert_int_equal(l.other, 1);
	sbx_learn_free(&l);
}

static const char base_toml[] =
	"version = 1\n"
	"[profile.b]\n"
	"[profile.b.network]\n"
	"mode = \"allow\"\n"
	"allow = [\"192.0.2.0/24:443/tcp\", \"*.example.org:443\"]\n"
	"deny = [\"192.0.2.7\"]\n"
	"[profile.b.fs]\n"
	"mode = \"read-only\"\n"
	"rules = [{ path = \"/srv/\", access = \"rw\" }, { path = \"/srv/ro/\", access = \"r\" }]\n"
	"exec = [\"/usr/bin/\"]\n";

static void test_base_answers_as_the_policy_decides(void **state)
{
	struct sbx_policy *pol = NULL;
	struct sbx_diags d = { 0 };
	struct sbx_net_entry e = { 0 };
	const struct sbx_profile *p;

	assert_int_equal(sbx_policy_load_buffer("b.toml", base_toml, strlen(base_toml), NULL, &pol, &d), 0);
	p = &pol->profiles[0];
	assert_int_equal(sbx_learn_fs_grant(p, "/srv/a"), R | W);
	assert_int_equal(sbx_learn_fs_grant(p, "/srv/ro/a"), R);
	assert_int_equal(sbx_learn_fs_grant(p, "/etc/hosts"), R);	/* x only from the list */
	assert_int_equal(sbx_learn_fs_grant(p, "/usr/bin/git"), R | X);
	assert_int_equal(sbx_parse_net_entry("192.0.2.9:443/tcp", &e, why, sizeof(why)), 0);
	assert_true(sbx_learn_net_allows(p, &e));
	sbx_net_entry_clear(&e);
	/* the more specific deny wins */
	assert_int_equal(sbx_parse_net_entry("192.0.2.7:443/tcp", &e, why, sizeof(why)), 0);
	assert_false(sbx_learn_net_allows(p, &e));
	sbx_net_entry_clear(&e);
	assert_int_equal(sbx_parse_net_entry("api.example.org:443/tcp", &e, why, sizeof(why)), 0);
	assert_true(sbx_learn_net_allows(p, &e));
	sbx_net_entry_clear(&e);
	assert_int_equal(sbx_parse_net_entry("198.51.100.1:443/tcp", &e, why, sizeof(why)), 0);
	assert_false(sbx_learn_net_allows(p, &e));
	sbx_net_entry_clear(&e);
	sbx_diags_free(&d);
	sbx_policy_free(pol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_files_fold_into_their_directory),
		cmocka_unit_test(test_generalising_goes_up_from_the_deepest),
		cmocka_unit_test(test_never_above_the_second_level),
		cmocka_unit_test(test_reads_and_writes_stay_apart),
		cmocka_unit_test(test_a_covering_write_rule_is_kept_by_deeper_read_rules),
		cmocka_unit_test(test_made_directories_are_directory_rules),
		cmocka_unit_test(test_addresses_become_the_names_that_resolved_to_them),
		cmocka_unit_test(test_bad_lines_and_second_sandboxes_are_errors),
		cmocka_unit_test(test_base_answers_as_the_policy_decides),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
