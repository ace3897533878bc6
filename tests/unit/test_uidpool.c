/* SPDX-License-Identifier: MIT */
/* Unit tests for the sandbox uids (user/core/uidpool.h): the range, its
 * checks against the host's files, and the leases, in a temporary directory
 * instead of /run/sbx-uids. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "core/uidpool.h"
#include "util/util.h"

static char tmp[PATH_MAX];
static char why[512];

static int tmp_setup(void **state)
{
	snprintf(tmp, sizeof(tmp), "/tmp/sbx-uidpool.XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int tmp_teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *write_tmp(const char *name, const char *text)
{
	static char path[4][PATH_MAX];
	static int i;
	char *p = path[i++ % 4];
	FILE *f;

	snprintf(p, PATH_MAX, "%s/%s", tmp, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static const struct sbx_uid_lease me = { .instance = "t", .slot = 3, .cgroup = "/cg" };

static struct sbx_uid_lease own_lease(void)
{
	struct sbx_uid_lease l = me;

	l.owner_pid = getpid();
	l.owner_start = sbx_proc_start_time(getpid());
	return l;
}

/* ---- the range ------------------------------------------------------------ */

static void test_range_parse_accepts_first_last(void **state)
{
	struct sbx_uid_range r;

	assert_int_equal(sbx_uid_range_parse("200000-200009", &r, why, sizeof(why)), 0);
	assert_int_equal(r.first, 200000);
	assert_int_equal(r.last, 200009);
	assert_int_equal(sbx_uid_range_parse("7-7", &r, why, sizeof(why)), 0);
	assert_int_equal(r.first, 7);
}

static void test_range_parse_refuses_malformed(void **state)
{
	static const char *const bad[] = { "", "5", "5-", "-5", "9-5", "a-b", "1-2x", " 1-2",
					   "1-4294967295", "1--2", "0x10-0x20" };
	struct sbx_uid_range r = { 1, 2 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = 0;
		assert_int_equal(sbx_uid_range_parse(bad[i], &r, why, sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, "SBX_UID_RANGE"));
	}
	assert_int_equal(r.first, 1);	/* untouched on failure */
}

static void test_default_range_avoids_reserved_and_container_ranges(void **state)
{
	struct sbx_uid_range r = { SBX_UID_FIRST, SBX_UID_LAST };

	assert_int_equal(sbx_uid_range_check(&r, NULL, NULL, NULL, NULL, why, sizeof(why)), 0);
	/* above nspawn's container ranges and useradd's subuid default, below
	 * systemd's foreign range and 2^31 */
	assert_true(SBX_UID_FIRST > 1879048191u && SBX_UID_FIRST > 600165535u);
	assert_true(SBX_UID_LAST < 2147352576u);
	assert_true(SBX_UID_LAST - SBX_UID_FIRST + 1 >= 8192);
}

static void test_range_check_refuses_reserved_ids(void **state)
{
	static const struct sbx_uid_range bad[] = {
		{ 0, 10 }, { 61184, 61184 }, { 65000, 65600 }, { 65519, 65519 }, { 65534, 65534 },
		{ 65535, 70000 },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sbx_uid_range_check(&bad[i], NULL, NULL, NULL, NULL, why,
						     sizeof(why)), -EEXIST);
	assert_non_null(strstr(why, "65535"));
}

static void test_range_check_refuses_passwd_and_group_entries(void **state)
{
	const char *pw = write_tmp("passwd", "root:x:0:0::/root:/bin/sh\n"
				   "alice:x:300005:300005::/home/alice:/bin/sh\n");
	const char *gr = write_tmp("group", "root:x:0:\nstaff:x:300020:alice\n");
	struct sbx_uid_range r = { 300000, 300010 };

	assert_int_equal(sbx_uid_range_check(&r, pw, gr, NULL, NULL, why, sizeof(why)), -EEXIST);
	assert_non_null(strstr(why, "'alice' (300005)"));
	r = (struct sbx_uid_range){ 300011, 300030 };
	assert_int_equal(sbx_uid_range_check(&r, pw, gr, NULL, NULL, why, sizeof(why)), -EEXIST);
	assert_non_null(strstr(why, "'staff' (300020)"));
	r = (struct sbx_uid_range){ 300021, 300030 };
	assert_int_equal(sbx_uid_range_check(&r, pw, gr, NULL, NULL, why, sizeof(why)), 0);
}

static void test_range_check_refuses_subuid_overlap(void **state)
{
	const char *su = write_tmp("subuid", "alice:100000:65536\n# junk\nbob:165536:65536\n");
	const char *sg = write_tmp("subgid", "carol:400000:10\n");
	struct sbx_uid_range r = { 231000, 231071 };

	/* bob's 165536..231071 ends inside */
	assert_int_equal(sbx_uid_range_check(&r, NULL, NULL, su, sg, why, sizeof(why)), -EEXIST);
	assert_non_null(strstr(why, "bob's range 165536-231071"));
	r = (struct sbx_uid_range){ 231072, 399999 };
	assert_int_equal(sbx_uid_range_check(&r, NULL, NULL, su, sg, why, sizeof(why)), 0);
	r = (struct sbx_uid_range){ 231072, 400000 };
	assert_int_equal(sbx_uid_range_check(&r, NULL, NULL, su, sg, why, sizeof(why)), -EEXIST);
	assert_non_null(strstr(why, "carol"));
}

static void test_range_check_of_missing_files_passes(void **state)
{
	struct sbx_uid_range r = { 300000, 300010 };

	assert_int_equal(sbx_uid_range_check(&r, "/nonexistent/passwd", "/nonexistent/group",
					     "/nonexistent/subuid", NULL, why, sizeof(why)), 0);
}

/* ---- leases ---------------------------------------------------------------- */

/* Leases of uids that no process of this host has: sbx_uid_alloc skips the
 * ids of living processes, and sandboxes of the default range may run here. */
#define T_UID_FIRST 3900000000u

static void test_alloc_gives_distinct_uids_and_reuses_released(void **state)
{
	struct sbx_uid_range r = { T_UID_FIRST, T_UID_FIRST + 2 };
	struct sbx_uid_lease l = own_lease();
	uid_t a, b, c, d;
	char path[PATH_MAX + 16];
	struct stat st;

	assert_int_equal(sbx_uid_alloc(tmp, &r, &l, &a, why, sizeof(why)), 0);
	assert_int_equal(sbx_uid_alloc(tmp, &r, &l, &b, why, sizeof(why)), 0);
	assert_int_equal(sbx_uid_alloc(tmp, &r, &l, &c, why, sizeof(why)), 0);
	assert_int_equal(a, T_UID_FIRST);
	assert_int_equal(b, T_UID_FIRST + 1);
	assert_int_equal(c, T_UID_FIRST + 2);
	/* a live owner's leases are never taken back */
	assert_int_equal(sbx_uid_alloc(tmp, &r, &l, &d, why, sizeof(why)), -ENOSPC);
	assert_non_null(strstr(why, "SBX_UID_RANGE"));
	snprintf(path, sizeof(path), "%s/%u", tmp, (unsigned)b);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	sbx_uid_release(tmp, b, getpid() + 1);	/* not its owner: kept */
	assert_int_equal(stat(path, &st), 0);
	sbx_uid_release(tmp, b, getpid());
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(sbx_uid_alloc(tmp, &r, &l, &d, why, sizeof(why)), 0);
	assert_int_equal(d, b);
}

static void test_lease_records_owner_and_sandbox(void **state)
{
	struct sbx_uid_range r = { T_UID_FIRST + 5, T_UID_FIRST + 5 };
	struct sbx_uid_lease l = own_lease();
	char path[PATH_MAX + 16], text[512] = "", want[128];
	uid_t u;
	FILE *f;

	assert_int_equal(sbx_uid_alloc(tmp, &r, &l, &u, why, sizeof(why)), 0);
	snprintf(path, sizeof(path), "%s/%u", tmp, (unsigned)u);
	f = fopen(path, "r");
	assert_non_null(f);
	fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	snprintf(want, sizeof(want), "instance=t\nslot=3\ncgroup=/cg\npid=%d\n", (int)getpid());
	assert_non_null(strstr(text, want));
}

static void write_lease(uid_t uid, pid_t pid)
{
	char name[32], text[64];

	snprintf(name, sizeof(name), "%u", (unsigned)uid);
	snprintf(text, sizeof(text), "instance=x\nslot=0\npid=%d\nstart=1\n", (int)pid);
	write_tmp(name, text);
}

/* A dead owner's lease comes back once the range is full and no process of
 * its uid is left. */
static void test_dead_owners_unused_uid_is_taken_back(void **state)
{
	struct sbx_uid_range r = { T_UID_FIRST + 7, T_UID_FIRST + 7 };
	struct sbx_uid_lease l = own_lease();
	uid_t u;

	write_lease(T_UID_FIRST + 7, 0x3ffffff0);	/* no such pid */
	assert_false(sbx_uid_in_use(T_UID_FIRST + 7));
	assert_int_equal(sbx_uid_alloc(tmp, &r, &l, &u, why, sizeof(why)), 0);
	assert_int_equal(u, T_UID_FIRST + 7);
}

/* ... but not while a process of that uid lives (here: this test's own). */
static void test_dead_owners_uid_with_a_process_is_kept(void **state)
{
	struct sbx_uid_range r = { getuid(), getuid() };
	struct sbx_uid_lease l = own_lease();
	uid_t u;

	write_lease(getuid(), 0x3ffffff0);
	assert_true(sbx_uid_in_use(getuid()));
	assert_int_equal(sbx_uid_alloc(tmp, &r, &l, &u, why, sizeof(why)), -ENOSPC);
}

/* A uid that names an account or a group is skipped (one added after the
 * range was checked). */
static void test_alloc_skips_uids_with_an_account(void **state)
{
	struct sbx_uid_range r = { 0, 1 };	/* root and daemon/bin on every host */
	struct sbx_uid_lease l = own_lease();
	uid_t u;

	assert_int_equal(sbx_uid_alloc(tmp, &r, &l, &u, why, sizeof(why)), -ENOSPC);
}

static void test_leases_outside_the_range_are_ignored(void **state)
{
	struct sbx_uid_range r = { T_UID_FIRST + 9, T_UID_FIRST + 9 };
	struct sbx_uid_lease l = own_lease();
	uid_t u;

	write_lease(T_UID_FIRST + 8, getpid());
	write_tmp("junk", "x");
	assert_int_equal(sbx_uid_alloc(tmp, &r, &l, &u, why, sizeof(why)), 0);
	assert_int_equal(u, T_UID_FIRST + 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_parse_accepts_first_last),
		cmocka_unit_test(test_range_parse_refuses_malformed),
		cmocka_unit_test(test_default_range_avoids_reserved_and_container_ranges),
		cmocka_unit_test(test_range_check_refuses_reserved_ids),
		cmocka_unit_test_setup_teardown(test_range_check_refuses_passwd_and_group_entries,
						tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_range_check_refuses_subuid_overlap, tmp_setup,
						tmp_teardown),
		cmocka_unit_test(test_range_check_of_missing_files_passes),
		cmocka_unit_test_setup_teardown(test_alloc_gives_distinct_uids_and_reuses_released,
						tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_lease_records_owner_and_sandbox, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_dead_owners_unused_uid_is_taken_back, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_dead_owners_uid_with_a_process_is_kept, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_alloc_skips_uids_with_an_account, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_leases_outside_the_range_are_ignored, tmp_setup,
						tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
