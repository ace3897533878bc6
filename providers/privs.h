/* SPDX-License-Identifier: MIT */
/* Identity, privileges and environment of a sandboxed workload. */
#ifndef SBX_PRIVS_H
#define SBX_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

#include "policy.h"

struct sbx_ids {
	uid_t uid;
	gid_t gid;
	char home[256];
};

/* The profile's user/group (names or numbers), resolved in the parent against
 * the host's databases, as written ("nobody" is the host's shared nobody).
 * Without a user: own:own, the sandbox's own uid (sbx_spawn.uid), or
 * nobody:nogroup (65534) when own is 0 (no uid leased: a runtime whose users
 * live in its own kernel, like gVisor's sentry). */
int sbx_ids_resolve(const struct sbx_profile *p, uid_t own, struct sbx_ids *ret, char *why,
		    size_t len);

/* A scrubbed environment: the profile's env, plus PATH, HOME and TERM unless
 * the profile sets them. NULL-terminated "K=V" strings; free with sbx_env_free. */
int sbx_env_build(const struct sbx_profile *p, const struct sbx_ids *ids, char ***ret);
void sbx_env_free(char **env);
/* The workload's PATH: the profile's, else the one sbx_env_build adds. */
const char *sbx_env_path(const struct sbx_profile *p);

/* In the child: locked securebits, empty bounding/ambient/inheritable/
 * permitted/effective sets, setgroups/setgid/setuid, no_new_privs. */
int sbx_drop_privileges(const struct sbx_ids *ids);

/* In the child: Landlock scoping (ABI >= 6): no signals to processes outside
 * the sandbox's domain, no connecting to abstract unix sockets outside it.
 * Returns the ABI used, 0 when Landlock or scoping is unavailable. */
int sbx_landlock_scope(void);

/* The rlimits of the profile: core 0, fsize, and nofile when it is a raise
 * (which needs privileges: call it before dropping them). */
int sbx_apply_rlimits(const struct sbx_profile *p);
/* nofile, as the last setup step before seccomp (after the Landlock
 * ruleset, which opens its paths): a lowering needs no privilege. */
int sbx_apply_nofile(const struct sbx_profile *p);

#endif
