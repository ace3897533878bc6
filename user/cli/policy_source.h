/* SPDX-License-Identifier: MIT */
/*
 * Where `sbx run` and `sbx policy show` get their policy when the command
 * line names none, and the built-in "default" profile beside it.
 *
 * Sources, first present wins: --policy PATH..., else $SBX_POLICY, else the
 * policy directory ($SBX_POLICY_DIR, default /etc/sbx/policy.d) when it holds
 * a *.toml file, else none. The built-in policy (policy/builtin.c) is always
 * loaded as well; its profile "default" is found unless a source defines a
 * profile of that name, which then replaces it.
 */
#ifndef SBX_CLI_POLICY_SOURCE_H
#define SBX_CLI_POLICY_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

#define SBX_POLICY_DIR_DEFAULT "/etc/sbx/policy.d"

struct cli_policy {
	struct sbx_policy *pol;		/* the sources, or NULL when there are none */
	struct sbx_policy *builtin;
	bool named;			/* sources named by --policy or $SBX_POLICY */
	const char *source;		/* the default source used, for messages */
};

/* Loads paths (n > 0), or the default sources when n == 0, with overlay env,
 * and the built-in policy. Returns 0, -EINVAL with the problems in *diags,
 * or another -errno. */
int cli_policy_load(const char *const *paths, size_t n, const char *env, struct cli_policy *ret,
		    struct sbx_diags *diags);
void cli_policy_free(struct cli_policy *cp);

/* A profile by name: the sources' first, then the built-in "default". */
const struct sbx_profile *cli_policy_find(const struct cli_policy *cp, const char *name);

/* The policy directory in force: $SBX_POLICY_DIR or SBX_POLICY_DIR_DEFAULT. */
const char *cli_policy_dir(void);

#endif
