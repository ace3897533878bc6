/* SPDX-License-Identifier: MIT */
/*
 * Ad-hoc sandboxes: `sbx run` flags that build the profile of one run on top
 * of the profile it selected (docs/cli.md, "Ad-hoc sandboxes").
 *
 *	--net none|host|allow=ADDR[,ADDR...]   --allow-host NAME[:PORT]
 *	--ro PATH   --rw PATH   --exec PATH   --cwd DIR
 *	--timeout D   --memory S   --cpu N   --pids N   --print-profile
 *
 * On the built-in profile "default" the flags may set anything: the result
 * is the caller's own profile, named "adhoc". On a profile from a policy
 * file they may only tighten it, unless the caller is root (real uid 0), who
 * could write any policy file anyway; root widening such a profile gets a
 * warning. --cwd sets where the workload starts, not what it may do, and
 * is accepted on any profile. When a network, path, exec or --cwd flag is given (or --print-profile),
 * the result is written as a policy file (policy/emit.c) and loaded back
 * through the policy loader, so that the profile that runs is exactly the
 * one --print-profile shows and has passed the same validation as a file.
 */
#ifndef SBX_CLI_ADHOC_H
#define SBX_CLI_ADHOC_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

enum {
	ADHOC_OPT_NET = 100, ADHOC_OPT_ALLOW_HOST, ADHOC_OPT_RO, ADHOC_OPT_RW, ADHOC_OPT_EXEC,
	ADHOC_OPT_TIMEOUT, ADHOC_OPT_MEMORY, ADHOC_OPT_CPU, ADHOC_OPT_PIDS, ADHOC_OPT_PRINT,
	ADHOC_OPT_CWD,
};

/* The entries of `struct cli_option` for these flags, for the tables of sbx
 * run and sbx start; --print-profile (ADHOC_OPT_PRINT) is sbx run's alone. */
#define ADHOC_CLI_OPTIONS							\
	{ "net", 0, true, ADHOC_OPT_NET, CLI_ARG_NONE },			\
	{ "allow-host", 0, true, ADHOC_OPT_ALLOW_HOST, CLI_ARG_NONE },		\
	{ "ro", 0, true, ADHOC_OPT_RO, CLI_ARG_FILE },				\
	{ "rw", 0, true, ADHOC_OPT_RW, CLI_ARG_FILE },				\
	{ "exec", 0, true, ADHOC_OPT_EXEC, CLI_ARG_FILE },			\
	{ "timeout", 0, true, ADHOC_OPT_TIMEOUT, CLI_ARG_NONE },		\
	{ "memory", 0, true, ADHOC_OPT_MEMORY, CLI_ARG_NONE },			\
	{ "cpu", 0, true, ADHOC_OPT_CPU, CLI_ARG_NONE },			\
	{ "pids", 0, true, ADHOC_OPT_PIDS, CLI_ARG_NONE },			\
	{ "cwd", 0, true, ADHOC_OPT_CWD, CLI_ARG_FILE }

#define ADHOC_MAX_ARGS 64	/* of each repeatable flag */

struct adhoc_list {
	const char *v[ADHOC_MAX_ARGS];
	size_t n;
};

/* The flags as given; the strings point into argv. */
struct adhoc_args {
	struct adhoc_list net, allow_host, ro, rw, exec;
	const char *timeout, *memory, *cpu, *pids;
	const char *cwd;		/* the workload's working directory */
	const char *provider;		/* sbx run's --provider, recorded in the profile */
	bool print_profile;
};

/* Records option id (ADHOC_OPT_*) with its argument. Returns 1 when id is
 * one of these flags, 0 when it is not, -EINVAL (logged) when a repeatable
 * flag was given more than ADHOC_MAX_ARGS times. */
int adhoc_take(struct adhoc_args *a, int id, const char *arg);

/* The effective profile of a run. */
struct adhoc_profile {
	struct sbx_profile copy;	/* the base with the limit flags applied */
	struct sbx_policy *pol;		/* the rebuilt profile, when one was built */
	struct sbx_profile *p;		/* the effective profile: &copy or pol's */
};

/*
 * Builds the effective profile from base (which stays untouched and must
 * outlive *ret). widen: the flags may loosen base (see above). Returns 0,
 * or -EINVAL after logging an error that names the flag, or -ENOMEM.
 */
int adhoc_build(const struct adhoc_args *a, const struct sbx_profile *base, bool widen,
		struct adhoc_profile *ret);
void adhoc_profile_free(struct adhoc_profile *ap);

/* Whether flags may widen base: it is the built-in "default", or the caller is root. */
bool adhoc_may_widen(const struct sbx_profile *base);

#endif /* SBX_CLI_ADHOC_H */
