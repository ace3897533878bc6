/* SPDX-License-Identifier: MIT */
/*
 * user/core/fsplan.c: sbx_fsplan_decide() (the reference the BPF LSM programs
 * reproduce), the normalised rules (sorted, once, covers), the plan
 * (backend, refusals, degraded items, base view) and the map keys.
 */
#include "testutil.h"

#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsplan.h"
#include "policy.h"

static struct sbx_fsplan_rule R(const char *path, uint32_t access, uint32_t idx, uint32_t flags)
{
	struct sbx_fsplan_rule r = { .access = access, .rule = idx, .flags = flags, .cover = -1 };
	size_t len = strlen(path);

	memcpy(r.path, path, len);
	r.len = (uint16_t)len;
	r.dir = path[len - 1] == '/';
	return r;
}

#define RX (SBX_FACC_R | SBX_FACC_X)
#define RW (SBX_FACC_R | SBX_FACC_W)

/* mode read-only; "/etc/" r, "/etc/shadow" deny, "/etc/ssl/" rw, "/data/" rw */
static struct sbx_fsplan_rule rules[] = {
	[3] = { .len = 0 },
};

static struct sbx_fsplan pol(uint32_t mode, uint32_t flags, size_t n)
{
	struct sbx_fsplan f = { .cfg = { .mode_access = mode, .flags = flags }, .rules = rules, .n = n };

	rules[0] = R("/etc/", SBX_FACC_R, 0, 0);
	rules[1] = R("/etc/shadow", 0, 1, 0);
	rules[2] = R("/etc/ssl/", RW, 2, 0);
	rules[3] = R("/data/", RW, 3, 0);
	return f;
}

static void decide_longest_rule_wins(void **state)
{
	struct sbx_fsplan f = pol(RX, 0, 4);
	uint32_t rule;

	(void)state;
	assert_true(sbx_fsplan_decide(&f, "/etc/hosts", SBX_FACC_R, &rule));
	assert_int_equal(rule, 0);
	assert_false(sbx_fsplan_decide(&f, "/etc/shadow", SBX_FACC_R, &rule));
	assert_int_equal(rule, 1);
	assert_false(sbx_fsplan_decide(&f, "/etc/hosts", SBX_FACC_W, &rule));
	assert_true(sbx_fsplan_decide(&f, "/etc/ssl/certs/x.pem", SBX_FACC_W, &rule));
	assert_int_equal(rule, 2);
}

static void decide_file_rule_is_exact(void **state)
{
	struct sbx_fsplan f = pol(RX, 0, 4);
	uint32_t rule;

	(void)state;
	/* "/etc/shadow" must not cover "/etc/shadowx" nor "/etc/shadow/" */
	assert_true(sbx_fsplan_decide(&f, "/etc/shadowx", SBX_FACC_R, &rule));
	assert_int_equal(rule, 0);
	assert_true(sbx_fsplan_decide(&f, "/etc/shadow.bak", SBX_FACC_R, &rule));
	assert_int_equal(rule, 0);
}

static void decide_directory_with_trailing_slash(void **state)
{
	struct sbx_fsplan f = pol(0, 0, 4);
	uint32_t rule;

	(void)state;
	/* the directory itself, looked up as "/etc/ssl/", is covered by its rule */
	assert_true(sbx_fsplan_decide(&f, "/etc/ssl/", SBX_FACC_W, &rule));
	assert_int_equal(rule, 2);
	/* without the slash it is a name in /etc/ */
	assert_false(sbx_fsplan_decide(&f, "/etc/ssl", SBX_FACC_W, &rule));
	assert_int_equal(rule, 0);
	/* "/data/" covers "/data/" but not a sibling "/database" */
	assert_true(sbx_fsplan_decide(&f, "/data/", SBX_FACC_R, &rule));
	assert_false(sbx_fsplan_decide(&f, "/database", SBX_FACC_R, &rule));
	assert_int_equal(rule, SBX_RULE_DEFAULT);
	/* the root directory is "/" */
	assert_false(sbx_fsplan_decide(&f, "/", SBX_FACC_R, &rule));
	assert_int_equal(rule, SBX_RULE_DEFAULT);
}

static void decide_mode_default_and_full(void **state)
{
	struct sbx_fsplan f = pol(RX, 0, 4), full = pol(0, SBX_FSF_FULL, 4);
	uint32_t rule;

	(void)state;
	assert_true(sbx_fsplan_decide(&f, "/usr/bin/true", RX, &rule));
	assert_int_equal(rule, SBX_RULE_DEFAULT);
	assert_false(sbx_fsplan_decide(&f, "/tmp/x", SBX_FACC_W, &rule));
	assert_true(sbx_fsplan_decide(&full, "/etc/shadow", RW, &rule));
}

static void decide_exec_list(void **state)
{
	static struct sbx_fsplan_rule xr[6];
	struct sbx_fsplan f = pol(RX, SBX_FSF_EXEC_LIST, 4);
	uint32_t rule;

	(void)state;
	memcpy(xr, rules, sizeof(rules));
	xr[4] = R("/usr/", RX, 4, SBX_PRF_EXEC_LIST);
	xr[5] = R("/data/tool", RX, 5, SBX_PRF_EXEC_LIST);
	f.rules = xr;
	f.n = 6;
	/* listed: allowed, the rule that decided is the list entry (no fs rule) */
	assert_true(sbx_fsplan_decide(&f, "/usr/bin/true", RX, &rule));
	assert_int_equal(rule, 4);
	/* not listed: refused although the mode grants x */
	assert_false(sbx_fsplan_decide(&f, "/opt/bin/x", SBX_FACC_X, &rule));
	assert_int_equal(rule, SBX_RULE_DEFAULT);
	/* rw rule without x, listed file: the list grants x, the rule r */
	assert_true(sbx_fsplan_decide(&f, "/data/tool", RX, &rule));
	assert_int_equal(rule, 3);
	assert_false(sbx_fsplan_decide(&f, "/data/other", SBX_FACC_X, &rule));
	assert_int_equal(rule, 3);
	/* reading still follows the rules */
	assert_false(sbx_fsplan_decide(&f, "/etc/shadow", SBX_FACC_R, &rule));
}

static void rule_keys(void **state)
{
	struct sbx_fsplan_rule d = R("/etc/ssl/", SBX_FACC_R, 0, 0), fr = R("/etc/passwd", 0, 1, 0);
	struct sbx_path_key k;

	(void)state;
	/* a directory rule is a prefix without NUL; a file rule includes it */
	sbx_fsplan_key(&d, 7, &k);
	assert_int_equal(k.prefixlen, 32 + 8 * 9);
	assert_int_equal(k.policy_id, htonl(7));
	assert_memory_equal(k.path, "/etc/ssl/", 9);
	sbx_fsplan_key(&fr, 7, &k);
	assert_int_equal(k.prefixlen, 32 + 8 * 12);
	assert_int_equal(k.path[11], 0);
}


/* ---- the normalised rules ------------------------------------------------ */

static void normalise_sorts_dedups_and_covers(void **state)
{
	struct sbx_fsplan_rule v[] = {
		R("/a/b/", 0, 0, 0), R("/a/", RX, 1, 0), R("/a/b/c", SBX_FACC_R, 2, 0),
		R("/a/b/c", RX, 3, SBX_PRF_EXEC_LIST), R("/a/", SBX_FACC_R, SBX_RULE_BASE, 0),
	};
	struct sbx_fsplan f = { .rules = v, .n = 5 };

	(void)state;
	v[4].origin = SBX_FSPLAN_BASE;
	sbx_fsplan_normalise(&f);
	/* shortest first, exec entries last, "/a/" once: the profile's */
	assert_int_equal(f.n, 4);
	assert_int_equal(f.n_rules, 3);
	assert_string_equal(f.rules[0].path, "/a/");
	assert_int_equal(f.rules[0].rule, 1);
	assert_string_equal(f.rules[1].path, "/a/b/");
	assert_string_equal(f.rules[2].path, "/a/b/c");
	assert_true(f.rules[3].flags & SBX_PRF_EXEC_LIST);
	/* covers: the nearest directory rule above; for an exec entry, the decider */
	assert_int_equal(f.rules[0].cover, -1);
	assert_int_equal(f.rules[1].cover, 0);
	assert_int_equal(f.rules[2].cover, 1);
	assert_int_equal(f.rules[3].cover, 2);
}

/* The cover by its definition: among the rules that are not exec entries,
 * the longest matching one (a file rule one byte longer, like its NUL in
 * the LPM key), shorter than the rule itself unless it is an exec entry. */
static int cover_by_definition(const struct sbx_fsplan *f, const struct sbx_fsplan_rule *r)
{
	bool exec = r->flags & SBX_PRF_EXEC_LIST;
	int best = -1;

	for (size_t i = 0; i < f->n; i++) {
		const struct sbx_fsplan_rule *c = &f->rules[i];
		bool m = c->dir ? !strncmp(r->path, c->path, c->len) : !strcmp(r->path, c->path);

		if ((c->flags & SBX_PRF_EXEC_LIST) || !m || (!exec && c->len >= r->len))
			continue;
		if (best < 0 || c->len + !c->dir > f->rules[best].len + !f->rules[best].dir)
			best = (int)i;
	}
	return best;
}

/* Random trees of rules and exec entries: siblings sharing a prefix
 * ("/a/b" and "/a/bc/"), files and directories of the same name, rules
 * below missing directories. */
static void normalise_covers_match_definition(void **state)
{
	static const char *const part[] = { "a", "b", "bc", "b-", "a.b", "z" };
	struct sbx_fsplan_rule v[300];
	unsigned seed = 15;

	(void)state;
	for (int round = 0; round < 200; round++) {
		struct sbx_fsplan f = { .rules = v };
		size_t n = 1 + (size_t)(rand_r(&seed) % 300);

		for (size_t i = 0; i < n; i++) {
			char path[64] = "/";
			int depth = rand_r(&seed) % 4;

			for (int k = 0; k < depth; k++) {
				strcat(path, part[rand_r(&seed) % 6]);
				strcat(path, "/");
			}
			if (depth && rand_r(&seed) % 2)
				path[strlen(path) - 1] = 0;	/* a file */
			v[i] = R(path, (uint32_t)(rand_r(&seed) % 8), (uint32_t)i,
				 rand_r(&seed) % 5 ? 0 : SBX_PRF_EXEC_LIST);
		}
		f.n = n;
		sbx_fsplan_normalise(&f);
		for (size_t i = 0; i < f.n; i++)
			if (f.rules[i].cover != cover_by_definition(&f, &f.rules[i]))
				fail_msg("round %d: cover of %s%s: %d, by definition %d", round,
					 f.rules[i].path, f.rules[i].flags ? " (exec)" : "",
					 f.rules[i].cover, cover_by_definition(&f, &f.rules[i]));
	}
}

static struct sbx_policy *load(const char *src)
{
	struct sbx_policy *p = NULL;
	struct sbx_diags d = { 0 };

	if (sbx_policy_load_buffer("t.toml", src, strlen(src), NULL, &p, &d) != 0) {
		for (size_t i = 0; i < d.n; i++)
			print_message("%u:%u: %s\n", d.v[i].line, d.v[i].col, d.v[i].msg);
		fail_msg("policy did not load");
	}
	return p;
}

static const struct sbx_fsplan_rule *find(const struct sbx_fsplan *pl, const char *path)
{
	const struct sbx_fsplan_rule *r = NULL;

	for (size_t i = 0; i < pl->n; i++) {
		if (strcmp(pl->rules[i].path, path))
			continue;
		if (r)
			fail_msg("%s is in the plan twice", path);
		r = &pl->rules[i];
	}
	return r;
}

static bool in_view(const struct sbx_fsplan *pl, const char *path)
{
	for (size_t i = 0; i < pl->n_view; i++)
		if (!strcmp(pl->view[i]->path, path))
			return true;
	return false;
}

#define PROFILE(mode, extra)                                                                \
	"version = 1\n[profile.p]\nprovider = \"process\"\n" extra "[profile.p.fs]\nmode = \"" mode \
	"\"\n"

static void plan_base_view_once_profile_replaces(void **state)
{
	struct sbx_policy *pol = load(PROFILE("none", "") "rules = [{ path = \"/tmp/\", access = \"rwx\" }]\n");
	struct sbx_fsplan_features ft = { .view = true, .provider = "process" };
	const struct sbx_fsplan_rule *r;
	struct sbx_fsplan pl;
	char why[512];

	(void)state;
	assert_int_equal(sbx_fsplan_make(&pol->profiles[0], &ft, &pl, why, sizeof(why)), 0);
	r = find(&pl, "/tmp/");
	assert_non_null(r);
	assert_int_equal(r->origin, SBX_FSPLAN_PROFILE);
	assert_int_equal(r->access, SBX_FACC_R | SBX_FACC_W | SBX_FACC_X);
	assert_int_equal(find(&pl, "/usr/")->origin, SBX_FSPLAN_BASE);
	assert_int_equal(find(&pl, "/usr/")->rule, SBX_RULE_BASE);
	assert_non_null(find(&pl, "/proc/"));
	/* mode none: the view binds the system directories, private /tmp, /proc */
	assert_true(in_view(&pl, "/usr/") && in_view(&pl, "/tmp/") && in_view(&pl, "/proc/"));
	assert_int_equal(pl.backend, SBX_FSPLAN_VIEW);
	sbx_fsplan_free(&pl);
	sbx_policy_free(pol);
}

/* One base table: /tmp is rw without x everywhere (the views mount it
 * noexec), read-only modes keep the private mounts and not the host binds. */
static void plan_view_per_mode(void **state)
{
	struct sbx_policy *ro = load(PROFILE("read-only", "")), *full = load(PROFILE("full", ""));
	struct sbx_fsplan_features ft = { .view = true, .landlock_abi = 7, .provider = "process" };
	const struct sbx_fsbase *t;
	struct sbx_fsplan pl;
	size_t n;
	char why[512];

	(void)state;
	t = sbx_fsbase_table(&n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].path, "/tmp/"))
			assert_int_equal(t[i].access, SBX_FACC_R | SBX_FACC_W);
	assert_int_equal(sbx_fsplan_make(&ro->profiles[0], &ft, &pl, why, sizeof(why)), 0);
	assert_int_equal(pl.backend, SBX_FSPLAN_LANDLOCK);
	assert_false(in_view(&pl, "/usr/"));
	assert_true(in_view(&pl, "/tmp/") && in_view(&pl, "/dev/null"));
	assert_int_equal(find(&pl, "/tmp/")->access, SBX_FACC_R | SBX_FACC_W);
	assert_null(find(&pl, "/usr/"));
	assert_true(sbx_fsplan_view_shows(&pl, "/usr/bin/node"));
	assert_false(sbx_fsplan_view_shows(&pl, "/tmp/x"));
	sbx_fsplan_free(&pl);
	assert_int_equal(sbx_fsplan_make(&full->profiles[0], &ft, &pl, why, sizeof(why)), 0);
	assert_int_equal(pl.backend, SBX_FSPLAN_NONE);
	assert_false(in_view(&pl, "/tmp/"));
	assert_true(in_view(&pl, "/proc/"));
	assert_int_equal(pl.n, 0);
	sbx_fsplan_free(&pl);
	sbx_policy_free(ro);
	sbx_policy_free(full);
}

static void plan_backend_choice(void **state)
{
	struct sbx_policy *s = load(PROFILE("none", "")), *b = load(PROFILE("none", "enforcement = \"best-effort\"\n"));
	struct sbx_fsplan_features ft = { .provider = "host" };
	struct sbx_fsplan pl;
	char why[512];

	(void)state;
	ft.bpf_lsm = true;
	assert_int_equal(sbx_fsplan_make(&s->profiles[0], &ft, &pl, why, sizeof(why)), 0);
	assert_int_equal(pl.backend, SBX_FSPLAN_BPF_LSM);
	assert_true(pl.cfg.flags & SBX_FSF_ENFORCE);
	sbx_fsplan_free(&pl);
	ft.bpf_lsm = false;
	ft.landlock_abi = 3;
	/* mode none restricts exec, and without a view the host's /tmp is
	 * writable and not noexec: Landlock cannot stop a listed program from
	 * mapping a library written there, so strict refuses */
	assert_int_equal(sbx_fsplan_make(&s->profiles[0], &ft, &pl, why, sizeof(why)), -EOPNOTSUPP);
	assert_non_null(strstr(why, "Landlock does not check what a program maps executable"));
	assert_non_null(strstr(why, "/tmp/"));
	assert_int_equal(sbx_fsplan_make(&b->profiles[0], &ft, &pl, why, sizeof(why)), 0);
	assert_int_equal(pl.backend, SBX_FSPLAN_LANDLOCK);
	assert_false(pl.cfg.flags & SBX_FSF_ENFORCE);
	assert_true(pl.ll.handled_fs != 0);
	assert_int_equal(pl.n_degraded, 1);
	assert_non_null(strstr(pl.degraded[0], "a listed program can map code written there"));
	sbx_fsplan_free(&pl);
	/* a provider's view mounts them noexec: nothing to refuse */
	ft.view = true;
	assert_int_equal(sbx_fsplan_make(&s->profiles[0], &ft, &pl, why, sizeof(why)), 0);
	assert_int_equal(pl.n_degraded, 0);
	sbx_fsplan_free(&pl);
	ft.view = false;
	/* no backend and no view: unenforced (core/enforce.c refuses or lists it) */
	ft.landlock_abi = 0;
	assert_int_equal(sbx_fsplan_backend(&s->profiles[0], &ft), SBX_FSPLAN_UNENFORCED);
	assert_int_equal(sbx_fsplan_make(&b->profiles[0], &ft, &pl, why, sizeof(why)), 0);
	assert_int_equal(pl.backend, SBX_FSPLAN_UNENFORCED);
	assert_int_equal(pl.n_degraded, 0);
	assert_int_equal(pl.ll.handled_fs, 0);
	sbx_fsplan_free(&pl);
	/* with a view, the view */
	ft.view = true;
	assert_int_equal(sbx_fsplan_backend(&s->profiles[0], &ft), SBX_FSPLAN_VIEW);
	sbx_policy_free(s);
	sbx_policy_free(b);
}

/* Landlock with a view: a rule that takes access away below a writable or
 * missing path is more than the view can hold; named with its position. */
static void plan_view_gap_refused_or_degraded(void **state)
{
#define GAP_RULES "rules = [{ path = \"/nonexistent-sbx/x\", access = \"deny\" },\n" \
		  "         { path = \"/var/\", access = \"rwx\" }]\n"
	struct sbx_policy *s = load(PROFILE("read-write", "") GAP_RULES);
	struct sbx_policy *b = load(PROFILE("read-write", "enforcement = \"best-effort\"\n") GAP_RULES);
	struct sbx_fsplan_features ft = { .view = true, .landlock_abi = 7, .provider = "process" };
	const struct sbx_fsplan_rule *g = NULL;
	struct sbx_fsplan pl;
	char why[512];

	(void)state;
	assert_int_equal(sbx_fsplan_make(&s->profiles[0], &ft, &pl, why, sizeof(why)), -EOPNOTSUPP);
	if (!strstr(why, "fs rule '/nonexistent-sbx/x' (t.toml:6:"))
		fail_msg("%s", why);
	assert_non_null(strstr(why, "BPF LSM can"));
	assert_int_equal(sbx_fsplan_make(&b->profiles[0], &ft, &pl, why, sizeof(why)), 0);
	assert_int_equal(pl.n_degraded, 1);
	assert_non_null(strstr(pl.degraded[0], "enforced by the mount view only"));
	/* what a provider without a view of the host must share read-write */
	g = sbx_fsplan_next_grant(&pl, NULL, SBX_FACC_W);
	assert_non_null(g);
	assert_string_equal(g->path, "/var/");
	assert_null(sbx_fsplan_next_grant(&pl, g, SBX_FACC_W));
	sbx_fsplan_free(&pl);
	/* BPF LSM holds it */
	ft.bpf_lsm = true;
	assert_int_equal(sbx_fsplan_make(&s->profiles[0], &ft, &pl, why, sizeof(why)), 0);
	sbx_fsplan_free(&pl);
	sbx_policy_free(s);
	sbx_policy_free(b);
}

/* Grants in what a view provides are refused with a view, not without;
 * denies and /tmp/ itself are fine. */
static void plan_refuses_grants_in_provided_paths(void **state)
{
	static const char *const refused[] = { "/proc/", "/proc/1/", "/dev/", "/dev/sda",
					       "/dev/shm/x/", "/sys/", "/sys/fs/cgroup/" };
	static const char *const fine[] = { "/tmp/", "/dev/shm/", "/procx/", "/system/" };
	struct sbx_fsplan_features view = { .view = true, .landlock_abi = 7, .provider = "process" };
	char src[512], why[1024];
	struct sbx_fsplan pl;
	size_t at;

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct sbx_policy *pol;

		snprintf(src, sizeof(src), PROFILE("read-only", "") "rules = [{ path = \"%s\", access = \"r\" }]\n",
			 refused[i]);
		pol = load(src);
		assert_int_equal(sbx_fsplan_make(&pol->profiles[0], &view, &pl, why, sizeof(why)), -EOPNOTSUPP);
		assert_non_null(strstr(why, "which the sandbox's view provides itself"));
		at = 0;	/* without a view the rule names the host's path */
		assert_int_equal(sbx_fsplan_rule_refusal(&pol->profiles[0], false, &at, why, sizeof(why)), -ENOENT);
		sbx_policy_free(pol);
		snprintf(src, sizeof(src), PROFILE("read-only", "") "rules = [{ path = \"%s\", access = \"deny\" }]\n",
			 refused[i]);
		pol = load(src);
		at = 0;	/* a deny is a mask in the view */
		assert_int_equal(sbx_fsplan_rule_refusal(&pol->profiles[0], true, &at, why, sizeof(why)), -ENOENT);
		sbx_policy_free(pol);
	}
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		struct sbx_policy *pol;

		at = 0;
		snprintf(src, sizeof(src), PROFILE("read-only", "") "rules = [{ path = \"%s\", access = \"rw\" }]\n",
			 fine[i]);
		pol = load(src);
		assert_int_equal(sbx_fsplan_rule_refusal(&pol->profiles[0], true, &at, why, sizeof(why)), -ENOENT);
		sbx_policy_free(pol);
	}
}

/* A rule through a symlink names the link and the resolved path, also below
 * or beside directories that earlier rules share (looked up once). */
static void plan_refuses_rules_through_symlinks(void **state)
{
	char dir[] = "/tmp/sbx-test-fsplan-XXXXXX", src[2048], why[1024], want[PATH_MAX + 64], real[PATH_MAX];
	char link[PATH_MAX], target[PATH_MAX], in[PATH_MAX];
	struct sbx_policy *pol;
	size_t at = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_non_null(realpath(dir, real));
	snprintf(target, sizeof(target), "%s/real", real);
	snprintf(link, sizeof(link), "%s/link", real);
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(symlink(target, link), 0);
	snprintf(src, sizeof(src), PROFILE("read-only", "")
		 "rules = [{ path = \"%s/ok/\", access = \"r\" }, { path = \"%s/link/f\", access = \"deny\" }]\n",
		 real, real);
	pol = load(src);
	assert_int_equal(sbx_fsplan_rule_refusal(&pol->profiles[0], false, &at, why, sizeof(why)), 0);
	assert_int_equal(at, 1);
	snprintf(want, sizeof(want), "(%s -> %s)", link, target);
	assert_non_null(strstr(why, want));
	snprintf(want, sizeof(want), "write '%s/f'", target);
	assert_non_null(strstr(why, want));
	at++;
	assert_int_equal(sbx_fsplan_rule_refusal(&pol->profiles[0], false, &at, why, sizeof(why)), -ENOENT);
	sbx_policy_free(pol);
	/* rules sharing leading directories (looked up once) still find a
	 * symlink below them, and one beside them after a shared prefix */
	snprintf(in, sizeof(in), "%s/in", target);
	assert_int_equal(symlink(target, in), 0);
	snprintf(src, sizeof(src), PROFILE("read-only", "")
		 "rules = [{ path = \"%s/x/\", access = \"r\" }, { path = \"%s/in/y\", access = \"deny\" },"
		 " { path = \"%s/z\", access = \"r\" }, { path = \"%s/f\", access = \"deny\" }]\n",
		 target, target, target, link);
	pol = load(src);
	at = 0;
	assert_int_equal(sbx_fsplan_rule_refusal(&pol->profiles[0], false, &at, why, sizeof(why)), 0);
	assert_int_equal(at, 1);
	snprintf(want, sizeof(want), "(%s -> %s)", in, target);
	assert_non_null(strstr(why, want));
	at++;
	assert_int_equal(sbx_fsplan_rule_refusal(&pol->profiles[0], false, &at, why, sizeof(why)), 0);
	assert_int_equal(at, 3);
	snprintf(want, sizeof(want), "(%s -> %s)", link, target);
	assert_non_null(strstr(why, want));
	sbx_policy_free(pol);
	unlink(in);
	unlink(link);
	rmdir(target);
	rmdir(dir);
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
		cmocka_unit_test(normalise_sorts_dedups_and_covers),
		cmocka_unit_test(normalise_covers_match_definition),
		cmocka_unit_test(plan_base_view_once_profile_replaces),
		cmocka_unit_test(plan_refuses_grants_in_provided_paths),
		cmocka_unit_test(plan_refuses_rules_through_symlinks),
		cmocka_unit_test(plan_view_per_mode),
		cmocka_unit_test(plan_backend_choice),
		cmocka_unit_test(plan_view_gap_refused_or_degraded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
