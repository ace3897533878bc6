/* SPDX-License-Identifier: MIT */
/*
 * Live policy changes: a running sandbox moves from profile cur to profile
 * next without a restart, from any root process of the instance (the daemon,
 * a test tool), not only from the `sbx run` that manages it.
 *
 * Network and fs rules flip atomically. A sandbox's slot owns two policy ids,
 * slot*2 and slot*2+1 (sbx_abi.h struct sbx_slot); every program reads
 * slot.policy_id once per hook and makes every lookup of that hook with it
 * (bpf/lib/common.h, sbx_ctx). An update writes next's entries under the id
 * not in use, flips slot.policy_id with one map update, waits until no
 * program can still run with the old id, and then removes the old entries.
 * Each connect, open or exec is judged by the old policy or the new one,
 * never by a mix.
 *
 * Worked example: sandbox sbx-1a2b3c4d in slot 3 runs on policy id 6 with
 * network.mode "allow" and 127.0.0.1:8080 allowed. next allows nothing:
 *   1. compile next into policy id 7, with the flags its provider added at
 *      start (read from id 6's config);
 *   2. copy what does not change (syscall audit set, fs rules, loaders) from
 *      6 to 7;
 *   3. apply changed limits (memory.max, ...);
 *   4. write slot 3 = {ACTIVE|UPDATED, policy_id 7, ...}: the flip;
 *   5. wait one RCU grace period, then remove every entry of id 6.
 * A failure in 1-4 removes id 7's entries and restores the limits: the
 * sandbox stays exactly on its old policy.
 *
 * Limits change through the sandbox's cgroups (cgroup2, or the v1
 * hierarchies of hybrid hosts): memory, cpu quota, pids. A memory limit
 * below what the sandbox uses now is refused (-EBUSY): an update does not
 * kill; cgroup2 would OOM-kill at once and v1 would fail after reclaim, so
 * the check makes both layouts behave the same.
 *
 * Fs rules change only where BPF LSM enforces them (sbx_fs_cfg has
 * SBX_FSF_ENFORCE) and the sandbox sees the host's filesystem (provider
 * host): a Landlock ruleset is fixed once the workload has it, and a mount
 * view is built at start. Everything else that a profile sets at start
 * (provider, user, environment, seccomp, rlimits, timeout, ...) cannot
 * change in a running sandbox; asking for it is refused, naming the field.
 */
#ifndef SBX_UPDATE_H
#define SBX_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/instance.h"
#include "kernel/limits.h"
#include "policy.h"

struct sbx_update_report {
	char id[32];			/* the sandbox's full id */
	uint32_t slot;
	uint32_t old_policy_id;		/* in force before */
	uint32_t new_policy_id;		/* in force after (equal: no flip was needed) */
	bool net_changed, fs_changed, limits_changed;
	struct sbx_limit_values limits_before, limits_after;
};

/* Moves the running sandbox sandbox_id (a full id or a unique prefix) of
 * instance in from cur (the profile it runs) to next. Takes the instance
 * lock. Returns 0 with rep filled, or -errno with why in words and the
 * sandbox untouched: -ENOENT no such sandbox, -EOPNOTSUPP a change that
 * cannot be made live (why names it), -EBUSY memory below usage, other
 * errors from the kernel. */
int sbx_live_update(const struct sbx_instance *in, const char *sandbox_id,
		    const struct sbx_profile *cur, const struct sbx_profile *next,
		    struct sbx_update_report *rep, char *why, size_t len);

/* 1 when next only tightens cur: no limit raised or lifted, no new network
 * or fs grant, deny lists only grow, nothing a sandbox may do under next
 * that it may not do under cur. 0 with why naming the first field that
 * loosens (or changes in a way that is not a tightening). Pure. */
int sbx_profile_tightens(const struct sbx_profile *cur, const struct sbx_profile *next,
			 char *why, size_t len);

/* 0 when every field of next that differs from cur can change in a running
 * sandbox (limits memory/cpu/pids, network rules, audit, fs rules), else
 * -EOPNOTSUPP with why naming the first that cannot. Pure. */
int sbx_update_changeable(const struct sbx_profile *cur, const struct sbx_profile *next,
			  char *why, size_t len);

/* Whether the network or fs part of the profiles differ. Pure. */
bool sbx_update_net_differs(const struct sbx_profile *a, const struct sbx_profile *b);
bool sbx_update_fs_differs(const struct sbx_profile *a, const struct sbx_profile *b);

#endif
