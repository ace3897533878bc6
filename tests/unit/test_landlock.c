/* SPDX-License-Identifier: MIT */
/*
 * The Landlock backend of the fs policy (user/kernel/landlock.c, bpf/lib/fsaudit.h):
 *   - planning: what is expressible per ABI, the refusal messages (strict),
 *     the unenforced lists (best-effort), the grants;
 *   - the behavioural suite: for a table of expressible policies, a forked
 *     child (as root, then as nobody) applies the plan and tries reads,
 *     writes, creates, mkdir, unlink, readdir and exec in a temporary tree;
 *     every result must be what sbx_fsplan_decide() says (the reference
 *     semantics both backends share), refusals as EACCES;
 *   - the audit of refusals: the BPF object's tp_btf/sys_enter and sys_exit
 *     programs, attached with a private set of maps, report the child's
 *     refused calls as SBX_EV_FILE events with backend landlock.
 * The apply and audit tests need root and Landlock; they skip otherwise.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "testutil.h"
#include "kernel/cgroup.h"
#include "core/fsplan.h"
#include "kernel/landlock.h"
#include "policy.h"
#include "sbx.skel.h"

#define R SBX_FACC_R
#define W SBX_FACC_W
#define X SBX_FACC_X
#define MODE_NONE	0u
#define MODE_RO		(R | X)
#define MODE_RW		(R | W | X)

#define LL_ALL_ABI1	0x1fffULL
#define LL_EXEC		LANDLOCK_ACCESS_FS_EXECUTE
#define LL_RF		LANDLOCK_ACCESS_FS_READ_FILE
#define LL_RD		LANDLOCK_ACCESS_FS_READ_DIR
#define LL_WF		LANDLOCK_ACCESS_FS_WRITE_FILE
#define LL_TRUNC	(1ULL << 14)	/* ABI 3; not in older headers */
#define LL_IOCTL	(1ULL << 15)	/* ABI 5 */

struct trule {
	const char *path;	/* "%T" is replaced by the test tree */
	uint32_t access;	/* 0 = deny */
	bool exec;		/* an fs.exec entry */
};

/* Builds f as sbx_fsplan_make would (rules, then exec entries, normalised). */
static void mkpol(struct sbx_fsplan *f, uint32_t mode, bool full, const struct trule *t,
		  const char *tree)
{
	size_t n = 0;

	memset(f, 0, sizeof(*f));
	while (t && t[n].path)
		n++;
	f->cfg.mode_access = mode;
	if (full)
		f->cfg.flags |= SBX_FSF_FULL;
	f->rules = calloc(n ? n : 1, sizeof(*f->rules));
	assert_non_null(f->rules);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			struct sbx_fsplan_rule *r;
			const char *p = t[i].path;
			char buf[SBX_MAX_PATH_LEN];

			if (t[i].exec != (pass == 1))
				continue;
			if (!strncmp(p, "%T", 2))
				snprintf(buf, sizeof(buf), "%s%s", tree ? tree : "", p + 2);
			else
				snprintf(buf, sizeof(buf), "%s", p);
			r = &f->rules[f->n];
			snprintf(r->path, sizeof(r->path), "%s", buf);
			r->len = (uint16_t)strlen(r->path);
			r->dir = r->path[r->len - 1] == '/';
			r->access = t[i].exec ? R | X : t[i].access;
			r->rule = (uint32_t)f->n++;
			if (t[i].exec) {
				r->flags = SBX_PRF_EXEC_LIST;
				r->origin = SBX_FSPLAN_EXEC;
				f->cfg.flags |= SBX_FSF_EXEC_LIST;
			}
		}
	}
	sbx_fsplan_normalise(f);
}

/* sbx_landlock_plan on the plan's rules, as sbx_fsplan_make calls it. */
static int ll_plan(const struct sbx_fsplan *f, int abi, struct sbx_landlock_plan *pl, char *why,
		   size_t len, char ***un, size_t *n)
{
	struct sbx_landlock_policy lp;
	int r;

	assert_int_equal(sbx_fsplan_to_landlock(f, &lp), 0);
	r = sbx_landlock_plan(&lp, abi, pl, why, len, un, n);
	free((void *)lp.rules);
	return r;
}

static const struct sbx_landlock_path *grant(const struct sbx_landlock_plan *pl, const char *path)
{
	for (size_t i = 0; i < pl->n; i++)
		if (!strcmp(pl->paths[i].path, path))
			return &pl->paths[i];
	return NULL;
}

static int plan_strict(uint32_t mode, const struct trule *t, int abi, struct sbx_landlock_plan *pl,
		       char *why, size_t len)
{
	struct sbx_fsplan f;
	int r;

	mkpol(&f, mode, false, t, NULL);
	r = ll_plan(&f, abi, pl, why, len, NULL, NULL);
	sbx_fsplan_free(&f);
	return r;
}

static void expect_refused(uint32_t mode, const struct trule *t, int abi, const char *frag1,
			   const char *frag2)
{
	struct sbx_landlock_plan pl = { 0 };
	char why[512];
	int r = plan_strict(mode, t, abi, &pl, why, sizeof(why));

	if (r != -EOPNOTSUPP || !strstr(why, frag1) || (frag2 && !strstr(why, frag2)))
		fail_msg("expected a refusal with \"%s\" / \"%s\", got %d: %s", frag1,
			 frag2 ? frag2 : "", r, why);
	assert_non_null(strstr(why, "best-effort"));
	assert_null(pl.paths);
}

/* ---- planning -------------------------------------------------------------- */

static void test_handled_access_per_abi(void **state)
{
	(void)state;
	assert_int_equal(sbx_landlock_fs_all(0), 0);
	assert_int_equal(sbx_landlock_fs_all(1), LL_ALL_ABI1);
	assert_int_equal(sbx_landlock_fs_all(2), 0x3fff);
	assert_int_equal(sbx_landlock_fs_all(3), 0x7fff);
	assert_int_equal(sbx_landlock_fs_all(4), 0x7fff);
	assert_int_equal(sbx_landlock_fs_all(5), 0xffff);
	assert_int_equal(sbx_landlock_fs_all(7), 0xffff);
	assert_int_equal(sbx_landlock_rights(R, 7), LL_RF | LL_RD);
	assert_int_equal(sbx_landlock_rights(X, 7), LL_EXEC);
	assert_int_equal(sbx_landlock_rights(R | X, 1), LL_RF | LL_RD | LL_EXEC);
	/* w: the file and everything that makes or removes directory entries */
	assert_int_equal(sbx_landlock_rights(W, 1), LL_ALL_ABI1 & ~(LL_EXEC | LL_RF | LL_RD));
	assert_int_equal(sbx_landlock_rights(W, 7), 0xffff & ~(LL_EXEC | LL_RF | LL_RD));
	assert_int_equal(sbx_landlock_rights(0, 7), 0);
}

static void test_modes_are_grants_on_root(void **state)
{
	struct sbx_landlock_plan pl = { 0 };
	char why[256];

	(void)state;
	assert_int_equal(plan_strict(MODE_RO, NULL, 7, &pl, why, sizeof(why)), 0);
	assert_int_equal(pl.abi, 7);
	assert_int_equal(pl.handled_fs, 0xffff);
	assert_int_equal(pl.scoped, 3);	/* signals and abstract unix sockets */
	assert_int_equal(pl.n, 1);
	assert_string_equal(pl.paths[0].path, "/");
	assert_true(pl.paths[0].dir);
	assert_int_equal(pl.paths[0].access, LL_RF | LL_RD | LL_EXEC);
	assert_int_equal(pl.paths[0].rule, SBX_RULE_DEFAULT);
	sbx_landlock_plan_free(&pl);

	assert_int_equal(plan_strict(MODE_RW, NULL, 7, &pl, why, sizeof(why)), 0);
	assert_int_equal(pl.n, 1);
	assert_int_equal(pl.paths[0].access, 0xffff);
	sbx_landlock_plan_free(&pl);

	/* none: every right handled, nothing granted */
	assert_int_equal(plan_strict(MODE_NONE, NULL, 7, &pl, why, sizeof(why)), 0);
	assert_int_equal(pl.handled_fs, 0xffff);
	assert_int_equal(pl.n, 0);
	sbx_landlock_plan_free(&pl);

	/* scoping needs ABI 6 */
	assert_int_equal(plan_strict(MODE_NONE, NULL, 5, &pl, why, sizeof(why)), 0);
	assert_int_equal(pl.scoped, 0);
	sbx_landlock_plan_free(&pl);
}

static void test_full_and_scope_only(void **state)
{
	struct sbx_landlock_plan pl = { 0 };
	struct sbx_fsplan f;
	const struct trule t[] = { { "/etc/", 0, false }, { "/x", R, false }, { NULL, 0, false } };
	char why[256];

	(void)state;
	mkpol(&f, MODE_RW, true, t, NULL);	/* mode full: rules ignored */
	assert_int_equal(ll_plan(&f, 7, &pl, why, sizeof(why), NULL, NULL), 0);
	assert_int_equal(pl.handled_fs, 0);
	assert_int_equal(pl.n, 0);
	assert_int_equal(pl.scoped, 3);
	sbx_landlock_plan_free(&pl);
	/* no Landlock at all: full needs nothing */
	assert_int_equal(ll_plan(&f, 0, &pl, why, sizeof(why), NULL, NULL), 0);
	assert_int_equal(pl.abi, 0);
	sbx_fsplan_free(&f);
	assert_int_equal(sbx_landlock_apply(&pl), 0);

	assert_int_equal(sbx_landlock_plan(NULL, 6, &pl, why, sizeof(why), NULL, NULL), 0);
	assert_int_equal(pl.handled_fs, 0);
	assert_int_equal(pl.scoped, 3);
	assert_int_equal(sbx_landlock_plan(NULL, 5, &pl, why, sizeof(why), NULL, NULL), 0);
	assert_int_equal(pl.scoped, 0);
	assert_int_equal(sbx_landlock_apply(&pl), 0);	/* nothing to do */
}

static void test_grants_add(void **state)
{
	const struct trule t[] = {
		{ "/tmp/", R | W | X, false }, { "/data/", R | W | X, false }, { "/data/in/", R | W | X, false },
		{ "/etc/ssl/certs/x.pem", R | W | X, false }, { NULL, 0, false },
	};
	const struct trule none[] = {
		{ "/usr/", R | X, false }, { "/etc/", R, false }, { "/etc/passwd", R | W, false }, { "/var/", 0, false },
		{ "/srv/", W, false }, { NULL, 0, false },
	};
	struct sbx_landlock_plan pl = { 0 };
	const struct sbx_landlock_path *g;
	char why[256];

	(void)state;
	assert_int_equal(plan_strict(MODE_RO, t, 7, &pl, why, sizeof(why)), 0);
	assert_int_equal(pl.n, 5);
	g = grant(&pl, "/tmp/");
	assert_non_null(g);
	assert_true(g->dir);
	assert_int_equal(g->access, 0xffff);
	assert_int_equal(g->rule, 0);
	/* a file grant carries file rights only */
	g = grant(&pl, "/etc/ssl/certs/x.pem");
	assert_non_null(g);
	assert_false(g->dir);
	assert_int_equal(g->access, LL_EXEC | LL_RF | LL_WF | LL_TRUNC | LL_IOCTL);
	sbx_landlock_plan_free(&pl);

	/* mode none: a deny or anything narrower with nothing above it is fine */
	assert_int_equal(plan_strict(MODE_NONE, none, 7, &pl, why, sizeof(why)), 0);
	assert_int_equal(pl.n, 4);		/* the deny grants nothing */
	assert_null(grant(&pl, "/var/"));
	assert_int_equal(grant(&pl, "/etc/")->access, LL_RF | LL_RD);
	assert_int_equal(grant(&pl, "/usr/")->access, LL_RF | LL_RD | LL_EXEC);
	assert_int_equal(grant(&pl, "/srv/")->access, sbx_landlock_rights(W, 7));
	sbx_landlock_plan_free(&pl);
}

static void test_deny_inside_granted_is_refused(void **state)
{
	const struct trule a[] = { { "/etc/", R, false }, { "/etc/shadow", 0, false }, { NULL, 0, false } };
	const struct trule b[] = { { "/etc/shadow", 0, false }, { NULL, 0, false } };
	const struct trule c[] = { { "/data/", R | W, false }, { "/data/ro/", R, false }, { NULL, 0, false } };
	const struct trule d[] = { { "/tmp/", R | W, false }, { NULL, 0, false } };
	const struct trule e[] = { { "/a/", R | W, false }, { "/a/b/", R | W, false }, { "/a/b/c/", 0, false }, { NULL, 0, false } };

	(void)state;
	expect_refused(MODE_NONE, a, 7, "fs rule '/etc/shadow' deny is inside '/etc/' r: Landlock can only add access",
		       "'r' stays allowed");
	expect_refused(MODE_RO, b, 7, "fs rule '/etc/shadow' deny is inside fs.mode read-only ('/' rx)",
		       "BPF LSM");
	expect_refused(MODE_NONE, c, 7, "fs rule '/data/ro/' r is inside '/data/' rw", "'w' stays allowed");
	/* rw below read-only (rx) takes x away: not expressible without an exec list */
	expect_refused(MODE_RO, d, 7, "fs rule '/tmp/' rw is inside fs.mode read-only", "'x' stays allowed");
	/* the innermost directory that gives more is named */
	expect_refused(MODE_NONE, e, 7, "'/a/b/c/' deny is inside '/a/b/' rw", NULL);
}

static void test_exec_list_is_expressible(void **state)
{
	const struct trule t[] = {
		{ "/tmp/", R | W, false }, { "/usr/bin/", 0, true }, { "/opt/tool", 0, true }, { NULL, 0, false },
	};
	struct sbx_landlock_plan pl = { 0 };
	char why[256];

	(void)state;
	/* read-only gives rx on "/": the x moves to the exec entries */
	assert_int_equal(plan_strict(MODE_RO, t, 7, &pl, why, sizeof(why)), 0);
	assert_int_equal(grant(&pl, "/")->access, LL_RF | LL_RD);
	assert_int_equal(grant(&pl, "/tmp/")->access, 0xffff & ~LL_EXEC);
	assert_int_equal(grant(&pl, "/usr/bin/")->access, LL_EXEC);
	assert_true(grant(&pl, "/usr/bin/")->dir);
	assert_int_equal(grant(&pl, "/opt/tool")->access, LL_EXEC);
	assert_int_equal(grant(&pl, "/opt/tool")->rule, 2);
	sbx_landlock_plan_free(&pl);
	/* read-write too */
	assert_int_equal(plan_strict(MODE_RW, t, 7, &pl, why, sizeof(why)), 0);
	assert_int_equal(grant(&pl, "/")->access, 0xffff & ~LL_EXEC);
	sbx_landlock_plan_free(&pl);
}

static void test_exec_needs_read(void **state)
{
	const struct trule a[] = { { "/usr/bin/true", 0, true }, { NULL, 0, false } };
	const struct trule b[] = { { "/usr/", R, false }, { "/usr/bin/true", 0, true }, { NULL, 0, false } };
	const struct trule c[] = { { "/opt/tool", X, false }, { NULL, 0, false } };
	const struct trule d[] = { { "/opt/", R | X, false }, { NULL, 0, false } };
	const struct trule e[] = { { "/srv/", W, false }, { "/srv/bin/", 0, true }, { NULL, 0, false } };
	struct sbx_landlock_plan pl = { 0 };
	char why[256];

	(void)state;
	expect_refused(MODE_NONE, a, 7, "fs.exec entry '/usr/bin/true' cannot be executed under Landlock",
		       "fs.mode none does not give it");
	assert_int_equal(plan_strict(MODE_NONE, b, 7, &pl, why, sizeof(why)), 0);
	sbx_landlock_plan_free(&pl);
	expect_refused(MODE_NONE, c, 7, "fs rule '/opt/tool' x allows executing without reading", NULL);
	assert_int_equal(plan_strict(MODE_NONE, d, 7, &pl, why, sizeof(why)), 0);
	sbx_landlock_plan_free(&pl);
	expect_refused(MODE_NONE, e, 7, "fs.exec entry '/srv/bin/'", "'/srv/' w does not give it");
}

static void test_truncate_needs_abi3(void **state)
{
	const struct trule rw[] = { { "/x/", R | W | X, false }, { NULL, 0, false } };
	const struct trule n[] = { { "/x/", R | W | X, false }, { "/y/", R | X, false }, { NULL, 0, false } };
	struct sbx_landlock_plan pl = { 0 };
	char why[256];

	(void)state;
	expect_refused(MODE_RO, NULL, 2, "fs.mode read-only denies writing", "ABI 3");
	expect_refused(MODE_NONE, rw, 1, "fs.mode none denies writing", "Landlock ABI 1");
	assert_int_equal(plan_strict(MODE_RO, NULL, 3, &pl, why, sizeof(why)), 0);
	assert_int_equal(pl.handled_fs, 0x7fff);
	sbx_landlock_plan_free(&pl);
	/* read-write everywhere: nothing to protect from truncation */
	assert_int_equal(plan_strict(MODE_RW, rw, 1, &pl, why, sizeof(why)), 0);
	assert_int_equal(pl.handled_fs, LL_ALL_ABI1);
	sbx_landlock_plan_free(&pl);
	/* a rule without w on top of read-write is refused anyway (narrower) */
	expect_refused(MODE_RW, n, 2, "fs rule '/y/' rx is inside fs.mode read-write", NULL);
}

static void test_no_landlock(void **state)
{
	struct sbx_fsplan f;
	struct sbx_landlock_plan pl = { 0 };
	char why[256], **un = NULL;
	size_t n = 0;

	(void)state;
	expect_refused(MODE_NONE, NULL, 0, "needs a filesystem backend", "neither BPF LSM nor Landlock");
	mkpol(&f, MODE_RO, false, NULL, NULL);
	assert_int_equal(ll_plan(&f, 0, &pl, why, sizeof(why), &un, &n), 0);
	assert_int_equal(n, 1);
	assert_non_null(strstr(un[0], "fs.mode read-only needs a filesystem backend"));
	assert_int_equal(pl.handled_fs, 0);
	assert_int_equal(sbx_landlock_apply(&pl), 0);
	sbx_landlock_strv_free(un, n);
	sbx_fsplan_free(&f);
}

static void test_rule_on_root_replaces_mode(void **state)
{
	const struct trule t[] = { { "/", R, false }, { "/tmp/", R | W, false }, { NULL, 0, false } };
	struct sbx_landlock_plan pl = { 0 };
	char why[256];

	(void)state;
	/* "/" r decides every path: rx of the mode is never used */
	assert_int_equal(plan_strict(MODE_RO, t, 7, &pl, why, sizeof(why)), 0);
	assert_int_equal(pl.n, 2);
	assert_int_equal(grant(&pl, "/")->access, LL_RF | LL_RD);
	assert_int_equal(grant(&pl, "/")->rule, 0);
	sbx_landlock_plan_free(&pl);
}

static void test_best_effort_lists_everything(void **state)
{
	const struct trule t[] = {
		{ "/etc/shadow", 0, false }, { "/root/", 0, false }, { "/tmp/", R | W, false }, { "/opt/", R | X, false },
		{ "/usr/bin/", 0, true }, { NULL, 0, false },
	};
	struct sbx_landlock_plan pl = { 0 };
	struct sbx_fsplan f;
	char why[256], **un = NULL;
	size_t n = 0;

	(void)state;
	mkpol(&f, MODE_RO, false, t, NULL);
	assert_int_equal(ll_plan(&f, 7, &pl, why, sizeof(why), &un, &n), 0);
	assert_int_equal(n, 2);
	assert_non_null(strstr(un[0], "fs rule '/etc/shadow' deny is inside fs.mode read-only"));
	assert_non_null(strstr(un[1], "fs rule '/root/' deny"));
	assert_null(strstr(un[0], "best-effort"));
	/* the plan keeps what Landlock can do */
	assert_non_null(grant(&pl, "/"));
	assert_non_null(grant(&pl, "/tmp/"));
	assert_int_equal(grant(&pl, "/usr/bin/")->access, LL_EXEC);
	assert_null(grant(&pl, "/etc/shadow"));
	sbx_landlock_plan_free(&pl);
	sbx_landlock_strv_free(un, n);
	/* strict: the first one is the error */
	assert_int_equal(ll_plan(&f, 7, &pl, why, sizeof(why), NULL, NULL), -EOPNOTSUPP);
	assert_non_null(strstr(why, "'/etc/shadow'"));
	/* an old ABI adds the truncate problem */
	assert_int_equal(ll_plan(&f, 2, &pl, why, sizeof(why), &un, &n), 0);
	assert_int_equal(n, 3);
	assert_non_null(strstr(un[2], "truncate"));
	sbx_landlock_plan_free(&pl);
	sbx_landlock_strv_free(un, n);
	sbx_fsplan_free(&f);
}

static struct sbx_policy *load(const char *src)
{
	struct sbx_policy *p = NULL;
	struct sbx_diags d = { 0 };

	if (sbx_policy_load_buffer("t.toml", src, strlen(src), NULL, &p, &d) != 0) {
		for (size_t i = 0; i < d.n; i++)
			print_message("%s:%u:%u: %s\n", d.v[i].file, d.v[i].line, d.v[i].col, d.v[i].msg);
		fail_msg("policy did not load");
	}
	return p;
}

static void test_profile_positions_and_enforcement(void **state)
{
	static const char src[] =
		"version = 1\n"
		"[profile.s]\n"
		"provider = \"process\"\n"
		"[profile.s.fs]\n"
		"mode = \"read-only\"\n"
		"rules = [{ path = \"/tmp/\", access = \"rwx\" },\n"
		"         { path = \"/etc/shadow\", access = \"deny\" }]\n"
		"exec = [\"/usr/bin/\"]\n"
		"[profile.b]\n"
		"provider = \"process\"\n"
		"enforcement = \"best-effort\"\n"
		"[profile.b.fs]\n"
		"mode = \"read-only\"\n"
		"rules = [{ path = \"/etc/shadow\", access = \"deny\" }]\n";
	struct sbx_policy *pol = load(src);
	const struct sbx_profile *s = sbx_policy_find(pol, "s"), *b = sbx_policy_find(pol, "b");
	struct sbx_landlock_plan pl = { 0 };
	char why[512], **un = NULL;
	size_t n = 0;

	struct sbx_fsplan_features ft = { .landlock_abi = 7, .provider = "host" };
	struct sbx_fsplan fp;

	(void)state;
	assert_int_equal(sbx_fsplan_make(s, &ft, &fp, why, sizeof(why)), -EOPNOTSUPP);
	if (!strstr(why, "profile 's': fs rule '/etc/shadow' deny (t.toml:7:"))
		fail_msg("no position: %s", why);
	assert_non_null(strstr(why, "is inside fs.mode read-only ('/' rx): Landlock can only add access"));
	assert_int_equal(sbx_fsplan_make(b, &ft, &fp, why, sizeof(why)), 0);
	assert_int_equal(fp.backend, SBX_FSPLAN_LANDLOCK);
	assert_int_equal(fp.n_degraded, 1);
	if (!strstr(fp.degraded[0], "fs rule '/etc/shadow' deny (t.toml:14:"))
		fail_msg("no position: %s", fp.degraded[0]);
	/* best-effort without a list to fill is strict */
	assert_int_equal(ll_plan(&fp, 7, &pl, why, sizeof(why), NULL, NULL), -EOPNOTSUPP);
	(void)un;
	(void)n;
	sbx_fsplan_free(&fp);
	/* without the deny, s is fine: x only in the exec list */
	sbx_policy_free(pol);
}

static void test_plan_grant(void **state)
{
	struct sbx_landlock_plan pl = { 0 };
	char why[256];

	(void)state;
	assert_int_equal(plan_strict(MODE_NONE, NULL, 7, &pl, why, sizeof(why)), 0);
	assert_int_equal(sbx_landlock_plan_grant(&pl, "/proc/", R), 0);
	assert_int_equal(sbx_landlock_plan_grant(&pl, "/dev/null", R | W), 0);
	assert_int_equal(sbx_landlock_plan_grant(&pl, "relative", R), -EINVAL);
	assert_int_equal(pl.n, 2);
	assert_int_equal(grant(&pl, "/proc/")->access, LL_RF | LL_RD);
	assert_false(grant(&pl, "/dev/null")->dir);
	assert_int_equal(grant(&pl, "/dev/null")->access & ~(LL_RF | LL_WF | LL_TRUNC | LL_IOCTL), 0);
	sbx_landlock_plan_free(&pl);
	/* a plan restricting nothing stays so */
	assert_int_equal(sbx_landlock_plan(NULL, 7, &pl, why, sizeof(why), NULL, NULL), 0);
	assert_int_equal(sbx_landlock_plan_grant(&pl, "/proc/", R), 0);
	assert_int_equal(pl.n, 0);
}

/* Root's protected trees: no write right at or below them, the ancestors'
 * write rights handed to their other entries, read rights untouched; a plan
 * that handled nothing (fs mode full) gets the write rights handled. */
static void test_plan_protect(void **state)
{
	static const char *const trees[] = { "/sys/", "/proc/" };
	struct sbx_landlock_plan in = { 0 }, pl;
	char why[256];

	(void)state;
	assert_int_equal(sbx_landlock_plan(NULL, 7, &in, why, sizeof(why), NULL, NULL), 0);
	assert_int_equal(sbx_landlock_plan_protect(&in, trees, 2, &pl), 0);
	assert_true(pl.handled_fs & LL_WF);
	assert_false(pl.handled_fs & LL_RF);		/* reads stay unhandled */
	assert_non_null(grant(&pl, "/usr/"));
	assert_true(grant(&pl, "/usr/")->access & LL_WF);
	assert_null(grant(&pl, "/sys/"));
	assert_null(grant(&pl, "/proc/"));
	assert_int_equal(grant(&pl, "/")->access, 0);	/* handed down */
	sbx_landlock_plan_free(&pl);
	sbx_landlock_plan_free(&in);
	/* a grant inside a tree loses its write rights, keeps the rest */
	assert_int_equal(plan_strict(MODE_NONE, NULL, 7, &in, why, sizeof(why)), 0);
	assert_int_equal(sbx_landlock_plan_grant(&in, "/sys/fs/cgroup/", R | W), 0);
	assert_int_equal(sbx_landlock_plan_protect(&in, trees, 2, &pl), 0);
	assert_int_equal(grant(&pl, "/sys/fs/cgroup/")->access, LL_RF | LL_RD);
	sbx_landlock_plan_free(&pl);
	sbx_landlock_plan_free(&in);
	/* without Landlock: nothing to protect with */
	in = (struct sbx_landlock_plan){ 0 };
	assert_int_equal(sbx_landlock_plan_protect(&in, trees, 2, &pl), -EOPNOTSUPP);
}

/* ---- the behavioural suite --------------------------------------------------- */

static int host_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi > 0 ? (int)abi : 0;
}

/* A static x86-64 program that exits 0 (no interpreter: the exec checks
 * concern this file alone). */
static int write_prog(const char *path)
{
	static const unsigned char code[] = { 0xb8, 0x3c, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05 };
	unsigned char buf[sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + sizeof(code)];
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(*eh));
	int fd;

	memset(buf, 0, sizeof(buf));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0x400000 + sizeof(*eh) + sizeof(*ph);
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 1;
	ph->p_type = PT_LOAD;
	ph->p_flags = PF_R | PF_X;
	ph->p_vaddr = ph->p_paddr = 0x400000;
	ph->p_filesz = ph->p_memsz = sizeof(buf);
	ph->p_align = 0x1000;
	memcpy(buf + sizeof(*eh) + sizeof(*ph), code, sizeof(code));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return chmod(path, 0755);
}

static const char *const tree_dirs[] = { "a", "a/sub", "b", "c", "d", NULL };

/* T/{a,a/sub,b,c,d}/{f,u,prog}: world-writable so that nobody gets no DAC refusal. */
static void make_tree(const char *T)
{
	char p[512];

	for (int i = 0; tree_dirs[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", T, tree_dirs[i]);
		assert_int_equal(mkdir(p, 0777), 0);
		assert_int_equal(chmod(p, 0777), 0);
		snprintf(p, sizeof(p), "%s/%s/f", T, tree_dirs[i]);
		FILE *fp = fopen(p, "w");

		assert_non_null(fp);
		fputs("data\n", fp);
		fclose(fp);
		assert_int_equal(chmod(p, 0666), 0);
		snprintf(p, sizeof(p), "%s/%s/u", T, tree_dirs[i]);
		assert_int_equal(close(open(p, O_WRONLY | O_CREAT, 0666)), 0);
		assert_int_equal(chmod(p, 0666), 0);
		snprintf(p, sizeof(p), "%s/%s/prog", T, tree_dirs[i]);
		assert_int_equal(write_prog(p), 0);
	}
}

static void rm_tree(const char *T)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", T);
	assert_int_equal(system(cmd), 0);
}

enum op { OP_READ, OP_WRITE, OP_CREATE, OP_MKDIR, OP_UNLINK, OP_READDIR, OP_EXEC, OP_N };
static const char *const op_names[] = { "read", "write", "create", "mkdir", "unlink", "readdir", "exec" };

/* What the operation asks of which path, in decide()'s terms; a directory
 * is named as its rules name it ("T/a/"). */
static void op_query(enum op o, const char *T, const char *dir, char *path, size_t len, uint32_t *acc)
{
	static const char *const leaf[] = { "f", "f", "new", "newdir", "u", "", "prog" };

	snprintf(path, len, "%s/%s/%s", T, dir, leaf[o]);
	*acc = o == OP_READ || o == OP_READDIR ? R : o == OP_EXEC ? X : W;
}

/* In the sandboxed child: 0 ok, else the errno. */
static int op_run(enum op o, const char *T, const char *dir)
{
	char path[512];
	uint32_t acc;
	int fd, st;
	pid_t pid;

	op_query(o, T, dir, path, sizeof(path), &acc);
	switch (o) {
	case OP_READ:
	case OP_READDIR:
		fd = open(path, O_RDONLY | O_CLOEXEC | (o == OP_READDIR ? O_DIRECTORY : 0));
		break;
	case OP_WRITE:
		fd = open(path, O_WRONLY | O_CLOEXEC);
		break;
	case OP_CREATE:
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		break;
	case OP_MKDIR:
		return mkdir(path, 0755) < 0 ? errno : 0;
	case OP_UNLINK:
		return unlink(path) < 0 ? errno : 0;
	case OP_EXEC:
		pid = fork();
		if (pid == 0) {
			char *argv[] = { path, NULL }, *envp[] = { NULL, 0, false };

			execve(path, argv, envp);
			_exit(errno == EACCES ? 100 : 101);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid)
			return EIO;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			return 0;
		return WIFEXITED(st) && WEXITSTATUS(st) == 100 ? EACCES : EIO;
	default:
		return EINVAL;
	}
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

struct fscase {
	const char *name;
	uint32_t mode;
	struct trule rules[8];
};

/* Expressible policies over T; every one must plan under strict. */
static const struct fscase cases[] = {
	{ "none, r/rw/rx dirs, a file rule", MODE_NONE,
	  { { "%T/a/", R, false }, { "%T/b/", R | W, false }, { "%T/c/", R | X, false }, { "%T/a/sub/", R | W | X, false },
	    { "%T/d/f", R, false }, { NULL, 0, false } } },
	{ "read-only, rwx dirs", MODE_RO, { { "%T/b/", R | W | X, false }, { "%T/a/sub/", R | W | X, false }, { NULL, 0, false } } },
	{ "read-write", MODE_RW, { { NULL, 0, false } } },
	{ "read-only, exec list dir", MODE_RO,
	  { { "%T/b/", R | W, false }, { "%T/c/", 0, true }, { "%T/a/sub/prog", 0, true }, { NULL, 0, false } } },
	{ "none, exec list in a readable tree", MODE_NONE,
	  { { "%T/", R, false }, { "%T/b/", R | W, false }, { "%T/c/prog", 0, true }, { "%T/a/", 0, true }, { NULL, 0, false } } },
	{ "none, write-only dir", MODE_NONE, { { "%T/b/", W, false }, { "%T/a/", R, false }, { NULL, 0, false } } },
	{ "read-write, exec list", MODE_RW, { { "%T/d/", 0, true }, { NULL, 0, false } } },
};

struct result {
	int err[5][OP_N];	/* per tree_dirs index */
};

static void run_child(const struct sbx_landlock_plan *pl, const char *T, bool nobody, int wfd)
{
	struct result res;

	if (nobody && (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		       setresuid(65534, 65534, 65534) < 0))
		_exit(3);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sbx_landlock_apply(pl) != pl->abi)
		_exit(4);
	for (int d = 0; tree_dirs[d]; d++)
		for (int o = 0; o < OP_N; o++)
			res.err[d][o] = op_run((enum op)o, T, tree_dirs[d]);
	if (write(wfd, &res, sizeof(res)) != sizeof(res))
		_exit(5);
	_exit(0);
}

static void check_case(const struct fscase *c, int abi, bool nobody)
{
	char T[] = "/tmp/sbx-landlock.XXXXXX", why[512];
	struct sbx_landlock_plan pl = { 0 };
	struct sbx_fsplan f;
	struct result res;
	int pfd[2], st, bad = 0, denied = 0, n = 0;
	pid_t pid;

	assert_non_null(mkdtemp(T));
	assert_int_equal(chmod(T, 0755), 0);
	make_tree(T);
	mkpol(&f, c->mode, false, c->rules, T);
	if (ll_plan(&f, abi, &pl, why, sizeof(why), NULL, NULL) != 0)
		fail_msg("case '%s' does not plan: %s", c->name, why);
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		run_child(&pl, T, nobody, pfd[1]);
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &res, sizeof(res)), sizeof(res));
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	for (int d = 0; tree_dirs[d]; d++) {
		for (int o = 0; o < OP_N; o++) {
			char path[512];
			uint32_t acc, rule;
			bool allow;
			int got = res.err[d][o];

			op_query((enum op)o, T, tree_dirs[d], path, sizeof(path), &acc);
			allow = sbx_fsplan_decide(&f, path, acc, &rule);
			n++;
			denied += !allow;
			if ((allow && got == 0) || (!allow && got == EACCES))
				continue;
			print_message("case '%s'%s: %s %s/: decide says %s, got %s\n", c->name,
				      nobody ? " (nobody)" : "", op_names[o], tree_dirs[d],
				      allow ? "allow" : "deny", got ? strerror(got) : "ok");
			bad++;
		}
	}
	sbx_landlock_plan_free(&pl);
	sbx_fsplan_free(&f);
	rm_tree(T);
	print_message("  %-38s%-9s %2d checks, %2d refused\n", c->name, nobody ? " (nobody)" : "",
		      n, denied);
	if (bad)
		fail_msg("%d results differ from sbx_fsplan_decide", bad);
}

static void test_behaviour_matches_decide(void **state)
{
	int abi = host_abi();

	(void)state;
	if (geteuid() != 0 || abi < 3) {
		SKIP_BECAUSE("needs root and Landlock ABI 3 (this kernel: %d)", abi);
		return;
	}
#ifndef __x86_64__
	SKIP_BECAUSE("the cases are written for x86_64");
	return;
#endif
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check_case(&cases[i], abi, false);
		check_case(&cases[i], abi, true);
	}
}

/* A file grant on a directory, a directory grant on a file and a missing
 * path grant nothing; the rest still applies. */
static void test_apply_skips_mismatched_and_missing(void **state)
{
	char T[] = "/tmp/sbx-landlock.XXXXXX", p[600];
	struct sbx_landlock_plan pl = { 0 };
	int st;
	pid_t pid;

	(void)state;
	if (geteuid() != 0 || host_abi() < 3) {
		SKIP_BECAUSE("needs root and Landlock ABI 3 (this kernel: %d)", host_abi());
		return;
	}
	assert_non_null(mkdtemp(T));
	make_tree(T);
	assert_int_equal(plan_strict(MODE_NONE, NULL, host_abi(), &pl, p, sizeof(p)), 0);
	snprintf(p, sizeof(p), "%s/a", T);		/* a file grant naming a directory */
	assert_int_equal(sbx_landlock_plan_grant(&pl, p, R), 0);
	snprintf(p, sizeof(p), "%s/b/f/", T);		/* a directory grant naming a file */
	assert_int_equal(sbx_landlock_plan_grant(&pl, p, R), 0);
	snprintf(p, sizeof(p), "%s/missing/", T);
	assert_int_equal(sbx_landlock_plan_grant(&pl, p, R), 0);
	snprintf(p, sizeof(p), "%s/c/", T);
	assert_int_equal(sbx_landlock_plan_grant(&pl, p, R), 0);
	pid = fork();
	if (pid == 0) {
		int ok;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sbx_landlock_apply(&pl) <= 0)
			_exit(10);
		snprintf(p, sizeof(p), "%s/a/f", T);
		ok = open(p, O_RDONLY) < 0 && errno == EACCES;
		snprintf(p, sizeof(p), "%s/b/f", T);
		ok = ok && open(p, O_RDONLY) < 0 && errno == EACCES;
		snprintf(p, sizeof(p), "%s/c/f", T);
		ok = ok && open(p, O_RDONLY) >= 0;
		/* created after the ruleset: nothing grants it */
		_exit(ok ? 0 : 11);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	sbx_landlock_plan_free(&pl);
	rm_tree(T);
}

/* The scoping of privs.c goes through the same code: a scoped child cannot
 * signal its parent (outside its domain). */
static void test_scope_only_refuses_signals_out(void **state)
{
	struct sbx_landlock_plan pl = { 0 };
	char why[64];
	int st;
	pid_t pid, parent = getpid();

	(void)state;
	if (host_abi() < 6) {
		SKIP_BECAUSE("needs Landlock ABI 6 for scoping (this kernel: %d)", host_abi());
		return;
	}
	assert_int_equal(sbx_landlock_plan(NULL, host_abi(), &pl, why, sizeof(why), NULL, NULL), 0);
	pid = fork();
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sbx_landlock_apply(&pl) <= 0)
			_exit(10);
		_exit(kill(parent, 0) < 0 && errno == EPERM ? 0 : 11);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- the audit of refusals (BPF) ---------------------------------------- */

struct audit_seen {
	struct sbx_ev_file ev[16];
	int n;
};

static int on_ev(void *ctx, void *data, size_t size)
{
	struct audit_seen *s = ctx;
	const struct sbx_event_hdr *h = data;

	if (h->type == SBX_EV_FILE && size >= sizeof(struct sbx_ev_file) && s->n < 16)
		memcpy(&s->ev[s->n++], data, sizeof(struct sbx_ev_file));
	return 0;
}

static const struct sbx_ev_file *find_ev(const struct audit_seen *s, const char *path, uint16_t op)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->ev[i].path, path) && s->ev[i].op == op)
			return &s->ev[i];
	return NULL;
}

static void test_audit_reports_landlock_refusals(void **state)
{
	char T[] = "/tmp/sbx-landlock.XXXXXX", cg[600], cgm[256], p[600], why[256];
	const struct trule rules[] = { { "%T/a/", R, false }, { NULL, 0, false } };
	struct bpf_link *l_enter = NULL, *l_exit = NULL;
	struct sbx_landlock_plan pl = { 0 };
	static struct { struct audit_seen s; } w;
	struct ring_buffer *rb = NULL;
	struct sbx_fsplan f;
	struct sbx_sbx *skel;
	uint64_t cgid;
	uint32_t zero = 0;
	int tmpl, ring, go[2], st, r;
	pid_t pid;

	(void)state;
	if (geteuid() != 0 || host_abi() < 3 || sbx_cgroup2_mount(cgm, sizeof(cgm)) < 0) {
		SKIP_BECAUSE("needs root, Landlock ABI 3 (this kernel: %d) and a cgroup2 mount", host_abi());
		return;
	}
	libbpf_set_print(NULL);
	skel = sbx_sbx__open();
	assert_non_null(skel);
	tmpl = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "t_tmpl", 0, 0, 64 * 1024, NULL);
	assert_true(tmpl >= 0);
	assert_int_equal(bpf_map__set_inner_map_fd(skel->maps.sbx_rings, tmpl), 0);
	assert_int_equal(bpf_map__set_max_entries(skel->maps.sbx_events, 64 * 1024), 0);
	/* only the two tracing programs matter here */
	{
		struct bpf_program *prog;

		bpf_object__for_each_program(prog, skel->obj)
			bpf_program__set_autoload(prog, prog == skel->progs.sbx_sys_enter ||
						  prog == skel->progs.sbx_sys_exit);
	}
	r = sbx_sbx__load(skel);
	if (r) {
		sbx_sbx__destroy(skel);
		close(tmpl);
		fail_msg("sbx's BPF object does not load: %s", strerror(-r));
		return;
	}
	/* a cgroup of our own as the "sandbox", slot 0, policy 0 */
	{
		char self[400] = "";
		FILE *fp = fopen("/proc/self/cgroup", "r");
		char line[512];

		while (fp && fgets(line, sizeof(line), fp))
			if (!strncmp(line, "0::", 3)) {
				snprintf(self, sizeof(self), "%s", line + 3);
				self[strcspn(self, "\n")] = 0;
			}
		if (fp)
			fclose(fp);
		snprintf(cg, sizeof(cg), "%s%s/sbx-landlock-test-%d", cgm, strcmp(self, "/") ? self : "",
			 getpid());
	}
	if (mkdir(cg, 0755) < 0) {
		int e = errno;

		sbx_sbx__destroy(skel);
		close(tmpl);
		fail_msg("mkdir %s: %s", cg, strerror(e));
		return;
	}
	assert_int_equal(sbx_cgroup_id(cg, &cgid), 0);
	ring = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "t_ring", 0, 0, 64 * 1024, NULL);
	assert_true(ring >= 0);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.sbx_rings), &zero, &ring, 0), 0);
	{
		struct sbx_slot slot = { .flags = SBX_SLOTF_ACTIVE, .policy_id = 0, .cgroup_id = cgid };
		struct sbx_policy_cfg pc = { .audit = SBX_AUDITL_DENY };
		struct sbx_fs_cfg fc = { .mode_access = 0, .flags = 0 };	/* not BPF LSM's */

		assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.sbx_slots), &zero, &slot, 0), 0);
		assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.sbx_policies), &zero, &pc, 0), 0);
		assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.sbx_fscfg), &zero, &fc, 0), 0);
		assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.sbx_cgroups), &cgid, &zero, 0), 0);
	}
	l_enter = bpf_program__attach(skel->progs.sbx_sys_enter);
	l_exit = bpf_program__attach(skel->progs.sbx_sys_exit);
	assert_non_null(l_enter);
	assert_non_null(l_exit);
	rb = ring_buffer__new(ring, on_ev, &w.s, NULL);
	assert_non_null(rb);

	assert_non_null(mkdtemp(T));
	assert_int_equal(chmod(T, 0755), 0);
	make_tree(T);
	mkpol(&f, MODE_NONE, false, rules, T);
	assert_int_equal(ll_plan(&f, host_abi(), &pl, why, sizeof(why), NULL, NULL), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	pid = fork();
	if (pid == 0) {
		char c;
		int e1, e2, e3, e4;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(10);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sbx_landlock_apply(&pl) <= 0)
			_exit(11);
		snprintf(p, sizeof(p), "%s/a/f", T);
		e1 = open(p, O_RDONLY) >= 0;				/* allowed: no event */
		snprintf(p, sizeof(p), "%s/b/f", T);
		e2 = open(p, O_RDWR) < 0 && errno == EACCES;		/* rw refused */
		snprintf(p, sizeof(p), "%s/a/newdir", T);
		e3 = mkdir(p, 0755) < 0 && errno == EACCES;		/* w refused */
		snprintf(p, sizeof(p), "%s/a/prog", T);
		e4 = execve(p, (char *[]){ p, NULL }, (char *[]){ NULL, 0, false }) < 0 && errno == EACCES;
		_exit(e1 && e2 && e3 && e4 ? 0 : 12);
	}
	close(go[0]);
	snprintf(p, sizeof(p), "%s/cgroup.procs", cg);
	{
		FILE *fp = fopen(p, "w");

		assert_non_null(fp);
		fprintf(fp, "%d\n", pid);
		assert_int_equal(fclose(fp), 0);
	}
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	ring_buffer__consume(rb);

	bpf_link__destroy(l_enter);
	bpf_link__destroy(l_exit);
	ring_buffer__free(rb);
	rmdir(cg);
	sbx_sbx__destroy(skel);
	close(ring);
	close(tmpl);
	sbx_landlock_plan_free(&pl);
	sbx_fsplan_free(&f);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	{
		const struct sbx_ev_file *e;

		for (int i = 0; i < w.s.n; i++)
			print_message("  event: op %u access %u error %d path %s\n", w.s.ev[i].op,
				      w.s.ev[i].access, w.s.ev[i].error, w.s.ev[i].path);
		snprintf(p, sizeof(p), "%s/a/f", T);
		assert_null(find_ev(&w.s, p, SBX_FOP_OPEN));
		snprintf(p, sizeof(p), "%s/b/f", T);
		e = find_ev(&w.s, p, SBX_FOP_OPEN);
		assert_non_null(e);
		assert_int_equal(e->access, R | W);
		assert_int_equal(e->error, EACCES);
		assert_int_equal(e->backend, SBX_FSB_LANDLOCK);
		assert_int_equal(e->verdict, SBX_VERDICT_DENY);
		assert_int_equal(e->rule, SBX_RULE_NONE);
		assert_int_equal(e->hdr.tgid, pid);
		assert_int_equal(e->hdr.size, sizeof(*e));
		snprintf(p, sizeof(p), "%s/a/newdir", T);
		e = find_ev(&w.s, p, SBX_FOP_MKDIR);
		assert_non_null(e);
		assert_int_equal(e->access, W);
		snprintf(p, sizeof(p), "%s/a/prog", T);
		e = find_ev(&w.s, p, SBX_FOP_EXEC);
		assert_non_null(e);
		assert_int_equal(e->access, X);
		assert_int_equal(w.s.n, 3);
	}
	rm_tree(T);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handled_access_per_abi),
		cmocka_unit_test(test_modes_are_grants_on_root),
		cmocka_unit_test(test_full_and_scope_only),
		cmocka_unit_test(test_grants_add),
		cmocka_unit_test(test_deny_inside_granted_is_refused),
		cmocka_unit_test(test_exec_list_is_expressible),
		cmocka_unit_test(test_exec_needs_read),
		cmocka_unit_test(test_truncate_needs_abi3),
		cmocka_unit_test(test_no_landlock),
		cmocka_unit_test(test_rule_on_root_replaces_mode),
		cmocka_unit_test(test_best_effort_lists_everything),
		cmocka_unit_test(test_profile_positions_and_enforcement),
		cmocka_unit_test(test_plan_grant),
		cmocka_unit_test(test_plan_protect),
		cmocka_unit_test(test_behaviour_matches_decide),
		cmocka_unit_test(test_apply_skips_mismatched_and_missing),
		cmocka_unit_test(test_scope_only_refuses_signals_out),
		cmocka_unit_test(test_audit_reports_landlock_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
