/* SPDX-License-Identifier: MIT */
/*
 * Resource limits and accounting through cgroups: memory (no swap beyond the
 * limit), cpu quota and weight, pids and the CPUs (cpuset), on cgroup2
 * controllers where they are available in the sbx root (memory.max,
 * memory.swap.max, cpu.max, cpu.weight, pids.max, cpuset.cpus) and otherwise
 * on the v1 controllers of hybrid hosts (memory.limit_in_bytes,
 * memory.memsw.limit_in_bytes, cpu.cfs_quota_us, cpu.shares, pids.max,
 * cpuset.cpus + cpuset.mems), chosen at run time.
 * v1 cgroups are created beneath the v1 cgroup sbx itself runs in, under
 * "<instance>/<sandbox id>", and removed by sbx_limits_destroy.
 */
#ifndef SBX_LIMITS_H_USER
#define SBX_LIMITS_H_USER

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"

/* cpu covers both the quota (cpu.max) and the weight (cpu.weight); cpuset
 * is the pinning (cpus). */
enum sbx_limit_kind { SBX_LIMIT_MEMORY = 0, SBX_LIMIT_CPU, SBX_LIMIT_PIDS, SBX_LIMIT_CPUSET,
		      SBX_LIMIT_N };

/* v1 hierarchies sbx may use: one per limit kind (same values), then
 * cpuacct (CPU time when cgroup2 has no cpu controller) and freezer (atomic
 * kill without cgroup.kill). Hierarchies mounted together ("cpu,cpuacct")
 * share one directory. */
enum sbx_v1_hier {
	SBX_V1_MEMORY = SBX_LIMIT_MEMORY,
	SBX_V1_CPU = SBX_LIMIT_CPU,
	SBX_V1_PIDS = SBX_LIMIT_PIDS,
	SBX_V1_CPUSET = SBX_LIMIT_CPUSET,
	SBX_V1_CPUACCT,
	SBX_V1_FREEZER,
	SBX_V1_N
};

struct sbx_limits {
	char v2_path[PATH_MAX];		/* the sandbox's cgroup2 directory */
	char v1_path[SBX_V1_N][PATH_MAX]; /* "" when not used */
	bool on_v2[SBX_LIMIT_N];	/* the limit is enforced by a cgroup2 controller */
	bool want[SBX_LIMIT_N];		/* the profile sets it */
	uint64_t oom_kill_before;	/* memory.events oom_kill at creation (v2) */
	bool emptied;			/* sbx_limits_kill found every cgroup empty */
};

struct sbx_usage {
	bool oom_killed;
	uint64_t oom_kills;		/* processes the OOM killer killed (0 when not counted) */
	uint64_t peak_memory_bytes;	/* 0 when no controller reports it */
	uint64_t cpu_user_us, cpu_system_us;
	uint64_t memory_bytes;		/* in use now */
	uint64_t pids;			/* tasks now */
	bool has_memory, has_cpu, has_pids; /* a controller reported it (else 0 = unknown) */
};

/* Which limits this host can enforce, and how, for `sbx features`/errors:
 * fills why with one "; "-separated item per limit, e.g. "memory: cgroup2
 * memory.max + memory.swap.max", "cpu: cgroup v1 cpu.cfs_quota_us" or
 * "pids: no pids controller (...)". Creates and writes nothing. */
int sbx_limits_probe(const char *v2_root, bool ret_can[SBX_LIMIT_N], char *why, size_t len);

/* The v1 cpu.shares that stands for cgroup2 cpu.weight w: w * 1024 / 100
 * (100, the default weight, is 1024, the default shares; 1 is 10), and
 * never below the kernel's minimum of 2. */
uint64_t sbx_cpu_weight_to_shares(uint32_t w);

/* Checks cpus against the CPUs online (/sys/devices/system/cpu/online):
 * 0, or -EINVAL with why naming the first CPU that is not online. */
int sbx_cpus_check_online(const uint64_t cpus[SBX_CPUS_WORDS], char *why, size_t len);

/* Sets up the limits the profile asks for. A limit no controller can enforce
 * fails with -EOPNOTSUPP and why naming the key (the caller decides strict vs
 * best-effort by calling again with that limit cleared, see want). On
 * success why is empty or holds a note, e.g. that swap is not limited. */
int sbx_limits_create(struct sbx_limits *l, const char *instance, const char *id,
		      const char *v2_path, const struct sbx_profile *p, char *why, size_t len);

/* Places pid in the v1 cgroups (cgroup2 placement is done by clone3). */
int sbx_limits_attach(struct sbx_limits *l, pid_t pid);

/* The same from inside the child, between fork and exec, while it is still
 * single-threaded and privileged: writes "0" to each v1 "tasks" file, which
 * spares the kernel the global threadgroup lock that moving another process
 * takes (measured here: ~40 us instead of 10-17 ms). Async-signal-safe. */
int sbx_limits_attach_self(const struct sbx_limits *l);

/* Kills every process of the sandbox, in v1 cgroups too (freeze, kill, thaw);
 * records in l->emptied whether every cgroup was found empty. */
int sbx_limits_kill(struct sbx_limits *l);

/* OOM kills, peak and current memory, CPU time and tasks, on cgroup2 or v1,
 * read before destroy (or any time, after sbx_limits_open). */
int sbx_limits_read(const struct sbx_limits *l, struct sbx_usage *ret);

/* The limits of a running sandbox of this instance, made by another sbx
 * process, for reading (sbx stats): its cgroup2 directory v2_path and the v1
 * directories sbx_limits_create made for it, found as that process found
 * them (beneath the v1 cgroup sbx runs in). Creates nothing. */
int sbx_limits_open(struct sbx_limits *l, const char *instance, const char *id, const char *v2_path);

/* The changeable limits of a running sandbox; 0 = unlimited. */
struct sbx_limit_values {
	uint64_t memory_bytes;
	uint32_t cpu_milli;
	uint32_t pids;
};

/* Reads the limits in force from the sandbox's cgroups (after
 * sbx_limits_open): cgroup2 files where the controller is enabled on the
 * sandbox's directory, else its v1 directories. A limit with no controller
 * reads as 0. */
int sbx_limits_values(const struct sbx_limits *l, struct sbx_limit_values *ret, char *why,
		      size_t len);

/* Changes one limit kind (memory, cpu quota or pids) of a running sandbox
 * to v (0 = unlimited). -EOPNOTSUPP with why when the sandbox has no
 * cgroup of that controller (it started without the limit on a host where
 * adding one would mean moving its processes: v1). The v1 memory+swap limit
 * follows the memory limit in the order the kernel accepts. */
int sbx_limits_change(const struct sbx_limits *l, enum sbx_limit_kind k,
		      const struct sbx_limit_values *v, char *why, size_t len);

/* Kills and removes the v1 cgroups of sandbox id of an instance whose
 * manager died without cleaning up (sbx_limits_destroy never ran). */
void sbx_limits_reclaim(const char *instance, const char *id);

/* Removes what is left of an instance's v1 cgroups: the empty sandbox
 * directories (of managers and watchdogs that were killed) and the instance
 * directory, in every v1 hierarchy; a cgroup with tasks stays (sbx unload). */
void sbx_limits_remove_instance(const char *instance);

/* Removes the v1 cgroups (killing what is left; after a kill that emptied
 * them, a cgroup is killed again only when it cannot be removed). Idempotent. */
void sbx_limits_destroy(struct sbx_limits *l);

#endif
