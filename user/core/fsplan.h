/* SPDX-License-Identifier: MIT */
/*
 * The profile's [fs] policy in the one normalised form both backends use:
 * BPF LSM (LPM entries of sbx_abi.h struct sbx_path_key) and Landlock
 * (path-beneath rules). Pure: no syscalls, unit tested.
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
#ifndef SBX_FSPOLICY_H
#define SBX_FSPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "sbx_abi.h"

struct sbx_fsrule {
	char path[SBX_MAX_PATH_LEN];	/* "/etc/ssl/" (dir) or "/etc/passwd" */
	uint16_t len;			/* strlen(path) */
	bool dir;
	uint32_t access;		/* SBX_FACC_*; 0 = deny */
	uint32_t rule;			/* index: fs.rules first, then fs.exec entries */
	uint32_t flags;			/* SBX_PRF_EXEC_LIST for fs.exec entries */
};

struct sbx_fspolicy {
	struct sbx_fs_cfg cfg;
	struct sbx_fsrule *rules;	/* fs.rules then fs.exec, in file order */
	size_t n;
};

int sbx_fspolicy_compile(const struct sbx_profile *p, struct sbx_fspolicy *ret);
void sbx_fspolicy_free(struct sbx_fspolicy *f);

struct sbx_fsgrant {
	const char *path;
	uint32_t access;		/* SBX_FACC_* */
};

/* The grants of a provider's own mount view (the list sbx_fspolicy_add_view
 * adds), for backends that take grants rather than rules (Landlock). */
const struct sbx_fsgrant *sbx_fspolicy_view_grants(size_t *ret_n);

/* Adds what a provider's own mount view provides (private /tmp and /dev/shm,
 * device nodes, /proc) unless the profile has rules for them. */
int sbx_fspolicy_add_view(struct sbx_fspolicy *f);

/* The LPM key of a rule for a policy id (prefixlen per sbx_abi.h). */
void sbx_fsrule_key(const struct sbx_fsrule *r, uint32_t policy_id, struct sbx_path_key *ret);

/* The decision for a path and requested access, as the BPF side makes it.
 * A directory is looked up as its path with a trailing '/' ("/etc/ssl/"),
 * so a directory rule covers the directory itself as well as its subtree;
 * the BPF side does this for every directory inode (open, mkdir, rmdir,
 * rename, chmod). Paths are as the sandbox sees them, with symlinks, ".."
 * and mounts already resolved (reference for tests and for the audit of
 * Landlock refusals): returns true when allowed; *ret_rule is the deciding
 * rule or SBX_RULE_DEFAULT. */
bool sbx_fspolicy_decide(const struct sbx_fspolicy *f, const char *path, uint32_t access,
			 uint32_t *ret_rule);

#endif
