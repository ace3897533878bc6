/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for sbx-oci's state directory (user/oci/state.c) and hooks
 * (user/oci/hooks.c): runc's id rule, the state document round trip, the
 * live status (a dead or reused pid is stopped; exec.fifo means created),
 * a refused state root, and hooks in order with the state on stdin, a
 * failing hook's output in the sentence, a hook killed at its timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "oci/hooks.h"
#include "oci/oci.h"
#include "oci/state.h"

static char root[64];

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/oci-state-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	return chmod(root, 0700);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_id_rule(void **state)
{
	(void)state;
	assert_true(oci_id_valid("abc"));
	assert_true(oci_id_valid("a.b-c_d+e"));
	assert_true(oci_id_valid("a,b"));	/* runc's class: "+-." is a range holding ',' */
	assert_true(oci_id_valid("..."));
	assert_false(oci_id_valid(""));
	assert_false(oci_id_valid("."));
	assert_false(oci_id_valid(".."));
	assert_false(oci_id_valid("a/b"));
	assert_false(oci_id_valid("a b"));
	assert_false(oci_id_valid("a\nb"));
	assert_false(oci_id_valid("\xc3\xa9"));
}

static void test_round_trip_and_status(void **state)
{
	struct oci_state st = { 0 }, back;
	char why[512], dir[256], fifo[300];
	uint64_t start;

	(void)state;
	assert_int_equal(oci_state_mkdir(root, "c1", dir, sizeof(dir), why, sizeof(why)), 0);
	assert_int_equal(oci_state_mkdir(root, "c1", dir, sizeof(dir), why, sizeof(why)), -EEXIST);
	assert_non_null(strstr(why, "exists: c1"));
	snprintf(st.id, sizeof(st.id), "c1");
	snprintf(st.dir, sizeof(st.dir), "%s", dir);
	snprintf(st.bundle, sizeof(st.bundle), "/b");
	st.pid = getpid();
	assert_int_equal(oci_proc_stat(st.pid, NULL, &start), 0);
	st.start_time = start;
	st.annotations_json = strdup("{\"k\":\"v\"}");
	assert_int_equal(oci_state_write(&st, why, sizeof(why)), 0);
	assert_int_equal(oci_state_read(root, "c1", &back, why, sizeof(why)), 0);
	assert_string_equal(back.bundle, "/b");
	assert_int_equal(back.pid, st.pid);
	assert_string_equal(oci_state_status(&back), "running");
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_string_equal(oci_state_status(&back), "created");
	char *j = oci_state_json(&back, "created");
	json_object *o = json_tokener_parse(j);
	assert_non_null(o);
	json_object *v;
	assert_true(json_object_object_get_ex(o, "annotations", &v));
	assert_string_equal(json_object_get_string(json_object_object_get(v, "k")), "v");
	assert_true(json_object_object_get_ex(o, "ociVersion", &v));
	json_object_put(o);
	free(j);
	/* the same pid with another start time: reused, so stopped */
	back.start_time++;
	assert_string_equal(oci_state_status(&back), "stopped");
	oci_state_clear(&back);
	oci_state_clear(&st);
	assert_int_equal(oci_state_read(root, "nope", &back, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "does not exist"));
	assert_int_equal(oci_state_remove(dir), 0);
	assert_int_equal(access(dir, F_OK), -1);
}

static void test_root_refused(void **state)
{
	char why[512], link[128], sub[128];

	(void)state;
	assert_int_equal(oci_root_check(root, false, why, sizeof(why)), 0);
	snprintf(link, sizeof(link), "%s/link", root);
	assert_int_equal(symlink(root, link), 0);
	assert_int_equal(oci_root_check(link, false, why, sizeof(why)), -ELOOP);
	snprintf(sub, sizeof(sub), "%s/open", root);
	assert_int_equal(mkdir(sub, 0777), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	assert_int_equal(oci_root_check(sub, false, why, sizeof(why)), -EPERM);
	assert_int_equal(oci_root_check("relative", true, why, sizeof(why)), -EINVAL);
}

static void test_hooks(void **state)
{
	struct oci_spec s = { 0 };
	struct oci_hook h[3] = { 0 };
	char why[1024], log[128], cmd0[256], cmd1[256];

	(void)state;
	snprintf(log, sizeof(log), "%s/log", root);
	snprintf(cmd0, sizeof(cmd0), "cat >%s; echo >>%s; echo first >>%s", log, log, log);
	snprintf(cmd1, sizeof(cmd1), "echo second $X >>%s", log);
	char *a0[] = { "sh", "-c", cmd0, NULL }, *a1[] = { "sh", "-c", cmd1, NULL };
	char *env1[] = { "X=envok", NULL };
	h[0] = (struct oci_hook){ .path = "/bin/sh", .args = a0 };
	h[1] = (struct oci_hook){ .path = "/bin/sh", .args = a1, .env = env1 };
	s.hooks[OCI_HOOK_CREATE_RUNTIME] = h;
	s.n_hooks[OCI_HOOK_CREATE_RUNTIME] = 2;
	assert_int_equal(oci_hooks_run(&s, OCI_HOOK_CREATE_RUNTIME, "{\"status\":\"creating\"}", why,
				       sizeof(why)), 0);
	char *data = NULL;
	size_t n;
	FILE *f = fopen(log, "r");
	assert_non_null(f);
	data = calloc(1, 4096);
	n = fread(data, 1, 4095, f);
	fclose(f);
	assert_true(n > 0);
	assert_string_equal(data, "{\"status\":\"creating\"}\nfirst\nsecond envok\n");
	free(data);
	/* a failing one: its output and status in the sentence; the next does not run */
	char *af[] = { "sh", "-c", "echo broken >&2; exit 3", NULL };
	h[0] = (struct oci_hook){ .path = "/bin/sh", .args = af };
	assert_int_equal(oci_hooks_run(&s, OCI_HOOK_CREATE_RUNTIME, "{}", why, sizeof(why)), -ECHILD);
	assert_non_null(strstr(why, "hooks.createRuntime[0]"));
	assert_non_null(strstr(why, "exit status 3"));
	assert_non_null(strstr(why, "broken"));
	/* the timeout kills it, even when a child keeps its output open */
	char *at[] = { "sh", "-c", "sleep 30 & sleep 30", NULL };
	h[2] = (struct oci_hook){ .path = "/bin/sh", .args = at, .timeout = 1 };
	s.hooks[OCI_HOOK_POSTSTOP] = &h[2];
	s.n_hooks[OCI_HOOK_POSTSTOP] = 1;
	time_t t0 = time(NULL);
	assert_int_equal(oci_hooks_run(&s, OCI_HOOK_POSTSTOP, "{}", why, sizeof(why)), -ETIMEDOUT);
	assert_true(time(NULL) - t0 < 5);
	assert_non_null(strstr(why, "timed out"));
	/* a hook that exits while its child holds the output: no hang */
	char *ab[] = { "sh", "-c", "sleep 3 & exit 0", NULL };
	h[2] = (struct oci_hook){ .path = "/bin/sh", .args = ab };
	t0 = time(NULL);
	assert_int_equal(oci_hooks_run(&s, OCI_HOOK_POSTSTOP, "{}", why, sizeof(why)), 0);
	assert_true(time(NULL) - t0 < 2);
	/* not executable */
	h[2] = (struct oci_hook){ .path = "/nonexistent/hook" };
	assert_int_equal(oci_hooks_run(&s, OCI_HOOK_POSTSTOP, "{}", why, sizeof(why)), -ECHILD);
	assert_non_null(strstr(why, "exit status 127"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_rule),
		cmocka_unit_test_setup_teardown(test_round_trip_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hooks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
