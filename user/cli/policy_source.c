/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/policy_source.h"

const char *cli_policy_dir(void)
{
	const char *d = getenv("SBX_POLICY_DIR");

	return d && *d ? d : SBX_POLICY_DIR_DEFAULT;
}

/* True when dir holds a *.toml file the loader would read. A directory that
 * is missing or has none is no source: a host without /etc/sbx still works. */
static bool dir_has_policy(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		found = de->d_name[0] != '.' && n > 5 && !strcmp(de->d_name + n - 5, ".toml");
	}
	closedir(d);
	return found;
}

/* $SBX_POLICY, else the policy directory if it has policy files, else NULL. */
static const char *default_source(bool *ret_named)
{
	const char *env = getenv("SBX_POLICY");

	*ret_named = env && *env;
	if (*ret_named)
		return env;
	return dir_has_policy(cli_policy_dir()) ? cli_policy_dir() : NULL;
}

int cli_policy_load(const char *const *paths, size_t n, const char *env, struct cli_policy *ret,
		    struct sbx_diags *diags)
{
	struct cli_policy cp = { .named = n > 0 };
	int r;

	if (n == 0) {
		cp.source = default_source(&cp.named);
		if (cp.source) {
			paths = &cp.source;
			n = 1;
		}
	}
	if (n > 0) {
		r = sbx_policy_load(paths, n, env, &cp.pol, diags);
		if (r < 0)
			return r;
	} else if (env) {
		/* no source: only the built-in policy, which has no overlays */
		r = sbx_policy_load_buffer(SBX_BUILTIN_POLICY_NAME, "", 0, env, &cp.pol, diags);
		if (r < 0)
			return r;
		cp.pol = sbx_policy_free(cp.pol);
	}
	r = sbx_policy_load_builtin(&cp.builtin, diags);
	if (r < 0) {
		sbx_policy_free(cp.pol);
		return r;
	}
	*ret = cp;
	return 0;
}

void cli_policy_free(struct cli_policy *cp)
{
	cp->pol = sbx_policy_free(cp->pol);
	cp->builtin = sbx_policy_free(cp->builtin);
}

const struct sbx_profile *cli_policy_find(const struct cli_policy *cp, const char *name)
{
	const struct sbx_profile *p = sbx_policy_find(cp->pol, name);

	if (!p && !strcmp(name, SBX_DEFAULT_PROFILE))
		p = sbx_policy_find(cp->builtin, name);
	return p;
}
