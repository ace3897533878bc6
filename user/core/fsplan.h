/* SPDX-License-Identifier: MIT */
/*
 * The filesystem plan: every decision about a profile's [fs] policy, made
 * once, in one place. sbx_fsplan_make() takes the profile and what the kernel
 * and the provider offer, and returns
 *   - the backend that enforces the policy (BPF LSM, Landlock, the provider's
 *     mount view, or none);
 *   - the normalised rules, each path exactly once, sorted (shortest path
 *     first, so a mount view that binds them in order lets the longer rule
 *     win), deny as access 0, with the base view merged in; the BPF LSM map
 *     entries (sbx_fsplan_key) and the Landlock ruleset are both made from
 *     them, and sbx_fsplan_decide() is the decision both reproduce;
 *   - what the backend cannot express of the rules: refused (the call fails
 *     with the reason, naming the rule, its position and the missing
 *     feature) under strict, listed as degraded under best-effort (a policy
 *     that no backend of the provider enforces at all is the enforcement
 *     table's to refuse, core/enforce.h, from sbx_fsplan_backend());
 *   - the base view: what every sandbox sees, the same for every provider
 *     that builds a view (process via rootfs.c, gvisor, wasm).
 *
 * Semantics (docs/policy.md): fs.mode gives the access of paths no rule
 * matches (none: nothing; read-only: read and execute; read-write: read,
 * write and execute; full: unrestricted, rules ignored). A rule names a
 * file, or a directory ("/etc/ssl/") covering its subtree, with access
 * r/w/x combinations or deny; the longest matching rule decides. With a
 * non-empty fs.exec list, executing (execve, and PROT_EXEC mappings of files)
 * is allowed only for the listed files and directories, whatever the rules
 * and the mode say.
 */
#ifndef SBX_FSPLAN_H
#define SBX_FSPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/landlock.h"
#include "policy.h"
#include "sbx_abi.h"

enum sbx_fsplan_backend {
	SBX_FSPLAN_NONE = 0,		/* nothing to enforce: fs.mode full, no exec list */
	SBX_FSPLAN_BPF_LSM,		/* the LSM programs, from the map entries */
	SBX_FSPLAN_LANDLOCK,		/* the workload's Landlock ruleset (with the view, if any) */
	SBX_FSPLAN_VIEW,		/* the provider's mount view alone */
	/* Nothing here can enforce it (no BPF LSM, no Landlock, no view): the
	 * enforcement table (core/enforce.c) refuses it under strict and lists
	 * it as degraded under best-effort, with the other per-provider gaps. */
	SBX_FSPLAN_UNENFORCED,
};

/* What the host and the provider offer. */
struct sbx_fsplan_features {
	bool bpf_lsm;			/* LSM programs load and run (probed) */
	int landlock_abi;		/* 0: no Landlock */
	bool view;			/* the provider builds its own mount view */
	const char *provider;		/* its name, for messages */
};

/* The base view: what a sandbox sees without any rule. */
enum sbx_fsbase_kind {
	SBX_FSBASE_HOST,		/* the host's path, bound (fs.mode none only) */
	SBX_FSBASE_PROC,		/* a new proc */
	SBX_FSBASE_DEVICE,		/* the host's device node, bound into a private /dev */
	SBX_FSBASE_TMPFS,		/* a private, empty tmpfs */
};

struct sbx_fsbase {
	const char *path;		/* "/usr/" (a directory) or "/etc/passwd" */
	uint32_t access;		/* SBX_FACC_*: read-only without w, noexec without x */
	enum sbx_fsbase_kind kind;
};

enum sbx_fsplan_origin {
	SBX_FSPLAN_PROFILE,		/* a rule of fs.rules */
	SBX_FSPLAN_EXEC,		/* an entry of fs.exec */
	SBX_FSPLAN_BASE,		/* an entry of the base view */
	SBX_FSPLAN_PROVIDER,		/* added by a provider (sbx_fsplan_add_grant) */
};

struct sbx_fsplan_rule {
	char path[SBX_MAX_PATH_LEN];	/* "/etc/ssl/" (dir) or "/etc/passwd" */
	uint16_t len;			/* strlen(path) */
	bool dir;
	uint32_t access;		/* SBX_FACC_*; 0 = deny */
	uint32_t rule;			/* reported: fs.rules index, then fs.exec; SBX_RULE_BASE */
	uint32_t flags;			/* SBX_PRF_EXEC_LIST for fs.exec entries */
	enum sbx_fsplan_origin origin;
	/* For a rule: the nearest directory rule above it (its own cover is the
	 * next one up); for an exec entry: the rule deciding its path. -1: the
	 * mode. Index into rules. */
	int cover;
	const struct sbx_fs_rule *src;	/* the profile's rule (positions); NULL otherwise */
	uint8_t host;			/* SBX_FSPLAN_HOST_*: the path on the host when planned */
};

enum {
	SBX_FSPLAN_HOST_UNKNOWN = 0,	/* not looked at */
	SBX_FSPLAN_HOST_MISSING,
	SBX_FSPLAN_HOST_EXISTS,		/* (with no symlink on the way: the plan refuses those) */
};

struct sbx_fsplan {
	enum sbx_fsplan_backend backend;
	enum sbx_fs_mode mode;
	struct sbx_fs_cfg cfg;		/* the BPF map value (SBX_FSF_ENFORCE: BPF LSM enforces) */
	struct sbx_fsplan_rule *rules;	/* fs rules and base view first, then the exec entries */
	size_t n;
	size_t n_rules;			/* how many of them are not exec entries */
	const struct sbx_fsbase *view[32]; /* what the provider's view makes, in mount order */
	size_t n_view;
	char **degraded;		/* under best-effort: what is not enforced, and why */
	size_t n_degraded;
	struct sbx_landlock_plan ll;	/* the workload's ruleset: fs grants if Landlock, scoping */
};

/* The next fs rule of p from *i on that no plan takes: one granting access
 * in what a view provides itself (/proc, /dev, /sys, below /tmp; view: the
 * provider builds one), or one whose path crosses a symlink on the host
 * (its resolved path is named). Returns 0 with the refusal in why and *i at
 * the rule, or -ENOENT when there is none. sbx_fsplan_make refuses the
 * first; `sbx policy check` lists them all. */
int sbx_fsplan_rule_refusal(const struct sbx_profile *p, bool view, size_t *i, char *why,
			    size_t len);

/* Whether path ("/tmp/") is a mount the view makes itself (a private tmpfs,
 * /proc): a rule naming it sets its access and is never bound from the
 * host. */
bool sbx_fsplan_provided(const struct sbx_fsplan *pl, const char *path);

/* The access of such a private mount: the profile's rule of the same path
 * (without x for a tmpfs), else the base table's. */
uint32_t sbx_fsplan_provided_access(const struct sbx_fsplan *pl, const struct sbx_fsbase *b);

/* The backend sbx_fsplan_make picks (no side effects). */
enum sbx_fsplan_backend sbx_fsplan_backend(const struct sbx_profile *p,
					   const struct sbx_fsplan_features *ft);

/* The plan for p on a host and provider with features ft. Returns 0, or
 * -EOPNOTSUPP with the refusal in why ("profile 'x': fs rule '/a' ... needs
 * ..."), -ENOMEM. *ret is untouched on failure. */
int sbx_fsplan_make(const struct sbx_profile *p, const struct sbx_fsplan_features *ft,
		    struct sbx_fsplan *ret, char *why, size_t len);
void sbx_fsplan_free(struct sbx_fsplan *pl);

/* A copy of a plan's view (rules, base view; no degraded list, no Landlock
 * ruleset), e.g. for a provider that adds grants of its own. */
int sbx_fsplan_copy(const struct sbx_fsplan *src, struct sbx_fsplan *ret);

/* Adds a rule the provider makes (e.g. a runtime binary it must show). The
 * plan stays normalised. -EINVAL for a bad path, -ENOMEM. */
int sbx_fsplan_add_grant(struct sbx_fsplan *pl, const char *path, uint32_t access);

/* Sorts rules, drops repeated paths and fills cover: what sbx_fsplan_make
 * does with the rules it collects (for tests that build rules by hand). */
void sbx_fsplan_normalise(struct sbx_fsplan *pl);

/* The plan's rules as the Landlock planner (kernel/landlock.h) takes them,
 * pointing into pl; free((void *)ret->rules) when done. -ENOMEM. */
int sbx_fsplan_to_landlock(const struct sbx_fsplan *pl, struct sbx_landlock_policy *ret);

/* A rule's or base entry's path as a mount takes it: without the trailing
 * '/' of a directory ("/etc/ssl/" -> "/etc/ssl"; "/" stays). */
void sbx_fsplan_mount_path(const char *path, char *out, size_t len);

/* The base-view table (every entry, whatever the mode). */
const struct sbx_fsbase *sbx_fsbase_table(size_t *ret_n);

/* Whether a provider's mount view (the base view and the rules as the view
 * mounts them; not the kernel backends) lets path be used for access, e.g.
 * SBX_FACC_X: on a mount that allows exec. */
bool sbx_fsplan_view_allows(const struct sbx_fsplan *pl, const char *path, uint32_t access);

/* Whether a provider's view shows host path path without any rule. */
bool sbx_fsplan_view_shows(const struct sbx_fsplan *pl, const char *path);

/* The profile's rules that grant some of access, in plan order: NULL first,
 * then the previous result. With SBX_FACC_W these are the read-write grants a
 * provider without a view of the host tree (microvm) must share or refuse. */
const struct sbx_fsplan_rule *sbx_fsplan_next_grant(const struct sbx_fsplan *pl,
						    const struct sbx_fsplan_rule *prev,
						    uint32_t access);

/* The LPM key of a rule for a policy id (prefixlen per sbx_abi.h). */
void sbx_fsplan_key(const struct sbx_fsplan_rule *r, uint32_t policy_id, struct sbx_path_key *ret);

/* The decision for a path and requested access, as the BPF side makes it.
 * A directory is looked up as its path with a trailing '/' ("/etc/ssl/"),
 * so a directory rule covers the directory itself as well as its subtree;
 * the BPF side does this for every directory inode (open, mkdir, rmdir,
 * rename, chmod). Paths are as the sandbox sees them, with symlinks, ".."
 * and mounts already resolved (reference for tests and for the audit of
 * Landlock refusals): returns true when allowed; *ret_rule is the deciding
 * rule or SBX_RULE_DEFAULT. */
bool sbx_fsplan_decide(const struct sbx_fsplan *pl, const char *path, uint32_t access,
		       uint32_t *ret_rule);

#endif
