/* SPDX-License-Identifier: MIT */
/* Unit tests for the monitor's live counters file (user/core/counters.h),
 * in a temporary run directory instead of /run/<instance>. */
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "core/bpfload.h"
#include "core/counters.h"
#include "core/run.h"
#include "core/sandbox.h"
#include "sbx_abi.h"

static char tmp[PATH_MAX];
static struct sbx_bpf *bpf;

static int tmp_setup(void **state)
{
	char slots[PATH_MAX + 8];

	snprintf(tmp, sizeof(tmp), "/tmp/sbx-counters.XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	snprintf(slots, sizeof(slots), "%s/slots", tmp);
	bpf = calloc(1, sizeof(*bpf));
	if (!bpf || mkdir(slots, 0700) < 0)
		return -1;
	snprintf(bpf->paths.name, sizeof(bpf->paths.name), "t");
	snprintf(bpf->paths.run_dir, sizeof(bpf->paths.run_dir), "%s", tmp);
	return 0;
}

static int tmp_teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	free(bpf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static void sandbox_in_slot(struct sbx_sandbox *sb, uint32_t slot, const char *id)
{
	memset(sb, 0, sizeof(*sb));
	sb->bpf = bpf;
	sb->slot = slot;
	sb->have_slot = true;
	snprintf(sb->id, sizeof(sb->id), "%s", id);
}

/* The denials of the result folded by kind, as the metrics show them. */
static void test_from_result_folds_denials(void **state)
{
	struct sbx_run_result res = { 0 };
	struct sbx_monitor_counters c;

	res.events = 40;
	res.unwritten = 3;
	res.denials[SBX_EV_NET_CONNECT] = 2;
	res.denials[SBX_EV_NET_SEND] = 1;
	res.denials[SBX_EV_NET_UNIX] = 1;
	res.denials[SBX_EV_FILE] = 5;
	res.denials[SBX_EV_SYSCALL_DENIED] = 7;
	res.exec_denials = 4;
	sbx_counters_from_result(&res, "sbx-00000001", &c);
	assert_string_equal(c.id, "sbx-00000001");
	assert_int_equal(c.events, 40);
	assert_int_equal(c.unwritten, 3);
	assert_int_equal(c.net_denials, 4);
	assert_int_equal(c.file_denials, 5);
	assert_int_equal(c.exec_denials, 4);
	assert_int_equal(c.syscall_denials, 7);
}

static void test_publish_then_read_back(void **state)
{
	struct sbx_counters_pub pub = { 0 };
	struct sbx_run_result res = { 0 };
	struct sbx_monitor_counters c;
	struct sbx_sandbox sb;
	char tmpfile[PATH_MAX + 32];

	sandbox_in_slot(&sb, 3, "sbx-0000abcd");
	res.events = 12;
	res.unwritten = 1;
	res.denials[SBX_EV_NET_CONNECT] = 1;
	sbx_counters_publish(&pub, &sb, &res);
	assert_int_equal(sbx_counters_read(&bpf->paths, 3, "sbx-0000abcd", &c), 0);
	assert_int_equal(c.events, 12);
	assert_int_equal(c.unwritten, 1);
	assert_int_equal(c.net_denials, 1);
	assert_int_equal(c.file_denials, 0);
	/* no temporary file is left beside it */
	snprintf(tmpfile, sizeof(tmpfile), "%s/slots/3.counters.tmp", tmp);
	assert_int_equal(access(tmpfile, F_OK), -1);
	sbx_counters_remove(&bpf->paths, 3);
	assert_int_equal(sbx_counters_read(&bpf->paths, 3, "sbx-0000abcd", &c), -ENOENT);
}

/* The file of an earlier sandbox of the slot is not this one's. */
static void test_other_id_is_stale(void **state)
{
	struct sbx_counters_pub pub = { 0 };
	struct sbx_run_result res = { .events = 5 };
	struct sbx_monitor_counters c = { .events = 99 };
	struct sbx_sandbox sb;

	sandbox_in_slot(&sb, 4, "sbx-11111111");
	sbx_counters_publish(&pub, &sb, &res);
	assert_int_equal(sbx_counters_read(&bpf->paths, 4, "sbx-22222222", &c), -ESTALE);
	assert_int_equal(c.events, 99);	/* untouched on failure */
	sbx_counters_remove(&bpf->paths, 4);
}

/* Nothing is written for a sandbox without a slot (after destroy). */
static void test_no_slot_no_file(void **state)
{
	struct sbx_counters_pub pub = { 0 };
	struct sbx_run_result res = { .events = 5 };
	struct sbx_monitor_counters c;
	struct sbx_sandbox sb;

	sandbox_in_slot(&sb, 5, "sbx-33333333");
	sb.have_slot = false;
	sbx_counters_publish(&pub, &sb, &res);
	assert_int_equal(sbx_counters_read(&bpf->paths, 5, "sbx-33333333", &c), -ENOENT);
}

/* Unknown keys (a later version's) and garbage lines are skipped. */
static void test_reader_skips_unknown_keys(void **state)
{
	struct sbx_monitor_counters c;
	char path[PATH_MAX + 32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/slots/6.counters", tmp);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("id=sbx-44444444\nnew_key=7\nnonsense\nfile_denials=2\nexec_denials=3\n", f);
	fclose(f);
	assert_int_equal(sbx_counters_read(&bpf->paths, 6, "sbx-44444444", &c), 0);
	assert_int_equal(c.file_denials, 2);
	assert_int_equal(c.exec_denials, 3);
	assert_int_equal(c.events, 0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_result_folds_denials),
		cmocka_unit_test(test_publish_then_read_back),
		cmocka_unit_test(test_other_id_is_stale),
		cmocka_unit_test(test_no_slot_no_file),
		cmocka_unit_test(test_reader_skips_unknown_keys),
	};

	return cmocka_run_group_tests(tests, tmp_setup, tmp_teardown);
}
