/* SPDX-License-Identifier: MIT */
/*
 * The runtime-spec hooks (config.json "hooks"): each one fork+exec'd with
 * its path, args and env, the container's state JSON on its stdin, killed
 * after its timeout.
 */
#ifndef SBX_OCI_HOOKS_H
#define SBX_OCI_HOOKS_H

#include <stddef.h>

#include "oci.h"

/* The name of a kind as config.json spells it ("createRuntime"). */
const char *oci_hook_kind_name(enum oci_hook_kind kind);
/* Runs the hooks of one kind in order; stops at the first that fails
 * (exit status not 0, killed, timed out, not executable): -errno with
 * "hooks.createRuntime[1] (/path): exit status 3: <its output>" in why. */
int oci_hooks_run(const struct oci_spec *s, enum oci_hook_kind kind, const char *state_json,
		  char *why, size_t len);

#endif
