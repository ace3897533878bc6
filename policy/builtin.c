/* SPDX-License-Identifier: MIT */
/*
 * The built-in policy: one profile, "default", used by `sbx run -- CMD` when
 * no profile is named and no loaded file defines "default" (docs/policy.md
 * section 11). It is parsed by the same loader as every file, so it cannot
 * hold a value that a file could not.
 *
 * Why these values: the process provider is available wherever sbx runs as
 * root and starts in a few milliseconds, like bwrap; no network and a
 * read-only view of the host are what a program one does not know yet
 * should get; the limits stop a runaway program without getting in the way
 * of an ordinary command.
 */
#include <string.h>

#include "policy.h"

static const char builtin_toml[] =
	"version = 1\n"
	"[profile.default]\n"
	"provider = \"process\"\n"
	"min_isolation = \"process\"\n"
	"timeout = \"10m\"\n"
	"memory = \"1G\"\n"
	"cpu = 1\n"
	"pids = 256\n"
	"nofile = 1024\n"
	"fsize = \"1G\"\n"
	"audit = \"deny\"\n"
	"enforcement = \"strict\"\n"
	"[profile.default.network]\n"
	"mode = \"none\"\n"
	"[profile.default.fs]\n"
	"mode = \"read-only\"\n";

int sbx_policy_load_builtin(struct sbx_policy **ret, struct sbx_diags *diags)
{
	return sbx_policy_load_buffer(SBX_BUILTIN_POLICY_NAME, builtin_toml, strlen(builtin_toml),
				      NULL, ret, diags);
}
