/* SPDX-License-Identifier: MIT */
/*
 * A sandbox's kernel state: its slot, cgroup, policy map entries and ring
 * buffer. Creating one costs map updates only (the programs are attached
 * once at the sbx cgroup root). Everything is undone by sbx_sandbox_destroy,
 * and a later sbx reclaims the slot of a manager that died (stale owner).
 *
 * Registry files, one per live slot, let `sbx ps` and `sbx stats` find them:
 *   /run/<instance>/slots/<slot>: id=..., profile=..., cgroup=..., pid=..., uid=...
 */
#ifndef SBX_SANDBOX_H
#define SBX_SANDBOX_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/bpfload.h"
#include "core/compile.h"
#include "core/fsplan.h"
#include "core/resolve.h"
#include "kernel/loaders.h"

struct sbx_sandbox {
	char id[32];
	struct sbx_bpf *bpf;
	uint32_t slot;
	uint32_t policy_id;
	char cgroup_path[PATH_MAX];
	int cgroup_fd;
	uint64_t cgroup_id;
	int ring_fd;
	struct sbx_compiled comp;
	const struct sbx_fsplan *fs;	/* whose map entries are written (the caller's) */
	struct sbx_loader_set *loaders;	/* in sbx_loaders for the exec guard, or NULL */
	uid_t uid;			/* its own uid and gid (core/uidpool.h), 0: none */
	int trace_fds[2];		/* the syscall tracepoints' links, while traced */
	bool traced;			/* one of their users (core/trace.h) */
	bool have_slot, have_policy, have_cgroup, active;
};

struct sbx_sandbox_info {
	uint32_t slot;
	char id[32];
	char profile[256];
	char provider[32];
	char cgroup[PATH_MAX];
	pid_t owner_pid;
	pid_t workload_pid;
	uint64_t started_ns;		/* CLOCK_REALTIME */
	bool exec_done;			/* the workload's command was executed
					 * (registered again after the exec) */
};

/* A profile without a user gets a uid of its own (core/uidpool.h), leased
 * until sbx_sandbox_destroy has killed the sandbox's cgroup. */
int sbx_sandbox_create(struct sbx_bpf *b, const struct sbx_profile *p,
		       const struct sbx_resolved *res, struct sbx_sandbox *ret,
		       char *why, size_t len);
/* What the provider's seccomp filter refuses, for the syscall audit. */
int sbx_sandbox_set_syscalls(struct sbx_sandbox *sb, const struct sbx_syscall_set *set);

/* Writes the fs policy maps from the plan's rules; the BPF LSM programs
 * enforce them when the plan's cfg says SBX_FSF_ENFORCE (else another backend
 * does, and the kernel side only audits). When the plan restricts exec and
 * BPF LSM does not enforce it, the ELF interpreters the exec guard refuses
 * to run as programs go into sbx_loaders first (kernel/loaders.h). pl must
 * outlive the sandbox. */
int sbx_sandbox_set_fs(struct sbx_sandbox *sb, const struct sbx_fsplan *pl, char *why,
		       size_t len);

/* Attaches the syscall tracepoints for the sandbox when its policy (as
 * written to the maps so far: call it once the policy, fs rules, refused
 * syscalls and provider flags are in) needs them (core/trace.h), before the
 * workload starts. 1: attached, 0: not needed, -errno with *why. */
int sbx_sandbox_trace(struct sbx_sandbox *sb, char *why, size_t len);

/* Flags a provider adds to the policy before the workload starts. */
int sbx_sandbox_add_policy_flags(struct sbx_sandbox *sb, uint32_t flags);

/* Removes every map entry of one policy id (net, fs, loaders, syscalls, its
 * config): for a slot whose entries this process did not write. */
void sbx_sandbox_purge_policy(const struct sbx_bpf *b, uint32_t policy_id);

/* The kernel reports the profile's entry index: rewrites the rule indexes
 * of c (indexes into res->entries) as indexes into the profile's entries. */
void sbx_sandbox_remap_rules(struct sbx_compiled *c, const struct sbx_resolved *res);

/* Records the registry file (after spawn, when the workload pid is known),
 * and again with exec_done once the workload's command was executed: a
 * command that cannot run leaves a sandbox that never counts as started. */
int sbx_sandbox_register(struct sbx_sandbox *sb, const char *profile, const char *provider,
			 pid_t workload_pid, bool exec_done);
void sbx_sandbox_destroy(struct sbx_sandbox *sb);

/* The slot's bandwidth rate and its counters (sbx_abi.h struct sbx_rate);
 * bytes_per_sec 0 in a direction = no rate there. */
int sbx_sandbox_rate(const struct sbx_bpf *b, uint32_t slot, struct sbx_rate *ret);
/* Clears what an earlier sandbox of the slot left in sbx_rates. */
int sbx_sandbox_rate_reset(const struct sbx_bpf *b, uint32_t slot);

/* Per-sandbox counters and per-CPU drop counters summed. */
int sbx_sandbox_stats(const struct sbx_bpf *b, uint32_t slot, struct sbx_stats *ret_st,
		      struct sbx_drops *ret_drops);

/* Live sandboxes of the instance (owner alive), sorted by slot. Caller frees. */
int sbx_sandbox_list(const struct sbx_instance *p, struct sbx_sandbox_info **ret, size_t *ret_n);

/* Reclaims the slots of dead managers (killing what is left in their cgroups)
 * and returns how many sandboxes still run, or -errno. */
int sbx_sandbox_reap(const struct sbx_instance *p, char *why, size_t len);

/* Finds one by id, or by a unique id prefix. */
int sbx_sandbox_lookup(const struct sbx_instance *p, const char *id, struct sbx_sandbox_info *ret);

#endif
