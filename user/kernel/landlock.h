/* SPDX-License-Identifier: MIT */
/*
 * The [fs] policy and exec allow-list as one Landlock ruleset, for hosts
 * where BPF LSM does not work (docs/landlock.md). Two halves:
 *
 *   sbx_landlock_plan()   in the parent: decide what Landlock can express of
 *                         a policy given as a plain rule array (struct
 *                         sbx_landlock_policy; user/core/fsplan.c fills it from
 *                         its normalised rules) for a given ABI, refuse
 *                         (strict) or list (best-effort) the rest, and produce
 *                         the list of path-beneath grants. Pure: no syscalls,
 *                         unit tested.
 *   sbx_landlock_apply()  in the workload child, right before exec (after
 *                         no_new_privs, in the workload's own mount view):
 *                         one ruleset with the grants and the scoping
 *                         (signals, abstract unix sockets; ABI >= 6), then
 *                         landlock_restrict_self. No allocation.
 *
 * Landlock only adds access: the rights of a path are the union of the
 * grants on it and on every directory above it. sbx's rules are "the longest
 * match decides", so a rule that gives less than a directory rule above it
 * (a deny inside an allowed subtree, "r" inside "rw" or inside fs.mode
 * read-only...) cannot be expressed. Worked example, ABI 7: mode read-only,
 * rules "/tmp/" rw, exec ["/usr/bin/"]:
 *   "/"          READ_FILE|READ_DIR                      (mode; x comes from exec)
 *   "/tmp/"      READ_FILE|READ_DIR|WRITE_FILE|REMOVE_*|MAKE_*|REFER|TRUNCATE|IOCTL_DEV
 *   "/usr/bin/"  EXECUTE
 * while rules "/etc/shadow" deny on top of that would be refused:
 *   fs rule '/etc/shadow' deny (p.toml:9:3) is inside fs.mode read-only ('/' r):
 *   Landlock can only add access ('r' would stay allowed there) ...
 */
#ifndef SBX_LANDLOCK_H
#define SBX_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sbx_abi.h"

/* One rule of the fs policy, as the planner takes it. */
struct sbx_landlock_rule {
	const char *path;		/* "/etc/ssl/" (a directory: its subtree) or "/etc/passwd" */
	uint32_t access;		/* SBX_FACC_*; 0 = deny */
	uint32_t rule;			/* the grant's rule (profile index, SBX_RULE_BASE ...) */
	bool exec_list;			/* an fs.exec entry: grants EXECUTE alone */
	/* Index of the rule whose access Landlock also grants here: for a rule,
	 * the nearest directory rule above it (whose own cover is the next one
	 * up); for an exec entry, the rule that decides its path (longest
	 * match). -1: none, fs.mode's grant on "/". */
	int cover;
	const char *file;		/* where the rule was written, for messages; NULL: unknown */
	uint32_t line, col;
};

/* A whole fs policy: the mode's access plus the rules. */
struct sbx_landlock_policy {
	uint32_t mode_access;		/* SBX_FACC_* of paths no rule matches */
	bool full;			/* fs.mode full: nothing restricted */
	bool exec_list;			/* execution only where exec entries say */
	const struct sbx_landlock_rule *rules;
	size_t n;
};

/* One path-beneath grant. */
struct sbx_landlock_path {
	char path[SBX_MAX_PATH_LEN];	/* as the workload sees it; "/x/" for directories */
	bool dir;			/* a directory grant (covers its subtree) */
	uint64_t access;		/* LANDLOCK_ACCESS_FS_* */
	uint32_t rule;			/* sbx_landlock_rule.rule, or SBX_RULE_DEFAULT for fs.mode's "/" */
};

struct sbx_landlock_plan {
	int abi;			/* the ABI planned for; 0: nothing to apply */
	uint64_t handled_fs;		/* LANDLOCK_ACCESS_FS_* restricted; 0: no fs restriction */
	uint64_t scoped;		/* LANDLOCK_SCOPE_* (ABI >= 6) */
	struct sbx_landlock_path *paths;
	size_t n;
};

/*
 * Plans f (NULL: scoping only) for Landlock ABI abi (0: no Landlock).
 * Strict when ret_unenforced is NULL: the first rule Landlock cannot express
 * fails the call with -EOPNOTSUPP and a sentence in why naming the rule and
 * the missing feature. Best-effort otherwise: every such rule is described
 * in *ret_unenforced (malloc'd strings; free with sbx_landlock_strv_free),
 * the plan keeps the grants Landlock can make, and the call returns 0.
 * Rules are named by path and access, and by position where they carry one
 * ("fs rule '/etc/shadow' deny (policy.toml:12:5)").
 */
int sbx_landlock_plan(const struct sbx_landlock_policy *f, int abi, struct sbx_landlock_plan *ret,
		      char *why, size_t len, char ***ret_unenforced, size_t *n_unenforced);

/* Adds a grant the provider makes on its own (e.g. "/proc/" r in its mount
 * view) with sbx access bits (SBX_FACC_*). Grants only add access: check
 * with sbx_landlock_plan first, then add. No effect on a plan that restricts
 * no fs access. Returns 0, -EINVAL (path too long / not absolute), -ENOMEM. */
int sbx_landlock_plan_grant(struct sbx_landlock_plan *pl, const char *path, uint32_t access);

/* The same with raw LANDLOCK_ACCESS_FS_* rights (e.g. READ_DIR alone). */
int sbx_landlock_plan_grant_rights(struct sbx_landlock_plan *pl, const char *path, uint64_t rights);

void sbx_landlock_plan_free(struct sbx_landlock_plan *pl);
void sbx_landlock_strv_free(char **v, size_t n);

/* The Landlock rights an sbx access (SBX_FACC_*) maps to at an ABI. */
uint64_t sbx_landlock_rights(uint32_t access, int abi);
/* Every filesystem right an ABI knows (the handled set). */
uint64_t sbx_landlock_fs_all(int abi);

/* A copy of in in *ret in which nothing at or below trees ("/sys/",
 * "/proc/": directories with their '/') may be written, created, removed,
 * renamed or truncated, whatever in granted there; the write rights of
 * their ancestors go to the ancestors' other entries, as listed now.
 * -EOPNOTSUPP without Landlock (in->abi 0). Free *ret with
 * sbx_landlock_plan_free. */
int sbx_landlock_plan_protect(const struct sbx_landlock_plan *in, const char *const *trees,
			      size_t n, struct sbx_landlock_plan *ret);

/*
 * In the workload, right before exec: builds the ruleset (fs grants and
 * scoping together), opens each path with O_PATH|O_CLOEXEC (missing or
 * unreachable paths grant nothing and are skipped; so are a directory grant
 * on a non-directory and a file grant on a directory), adds the rules and
 * restricts the calling thread. Needs no_new_privs (or CAP_SYS_ADMIN).
 * Returns the ABI applied, 0 when the plan asks for nothing, or -errno.
 * Async-signal-safe apart from errno; allocates nothing.
 */
int sbx_landlock_apply(const struct sbx_landlock_plan *pl);

/* Takes every file system right away from the calling thread (its open fds
 * stay usable), for sbx's own helpers that read hostile input; needs
 * no_new_privs. Returns the ABI used, 0 without Landlock, or -errno. */
int sbx_landlock_no_files(int abi);

#endif
