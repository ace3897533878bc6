/* SPDX-License-Identifier: MIT */
/*
 * Functional kernel feature probes (docs/features.md). Nothing here trusts
 * a list: "bpf" in /sys/kernel/security/lsm does not mean LSM programs load,
 * so each probe loads, attaches, clones or unshares and, where cheap, watches
 * the hook fire. Probes clean up everything they create (cgroups, children,
 * BPF objects) and keep libbpf quiet while they run.
 *
 * Two layers:
 *   sbx_features_probe()      everything, for `sbx features` (slow: ~50 ms)
 *   sbx_*_supported()         one feature, probed once per process and cached;
 *                             later code picks backends with these, e.g. BPF
 *                             LSM else Landlock.
 *
 * Worked example (this project's machines):
 *   sbx_bpf_lsm_supported()  -> false: "bpf" is an active LSM but loading
 *                               lsm/file_open fails with EPERM
 *   sbx_tp_btf_supported()   -> true:  tp_btf/sys_enter fired for this process
 *   sbx_landlock_abi()       -> 7
 *
 * (Not called features.h: with -Iuser that name would shadow glibc's own
 * <features.h>, which every libc header includes.)
 */
#ifndef SBX_SBX_FEATURES_H
#define SBX_SBX_FEATURES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define SBX_FEATURE_NAME_MAX	32
#define SBX_FEATURE_DETAIL_MAX	400
#define SBX_FEATURES_MAX	32

/* One row of the report. name is stable (scripts match on it). */
struct sbx_feature {
	char name[SBX_FEATURE_NAME_MAX];
	bool available;
	char detail[SBX_FEATURE_DETAIL_MAX];	/* what was found, or why not */
};

/* Bits of sbx_features.seccomp_actions. */
enum {
	SBX_SECCOMP_ACT_KILL_PROCESS = 1u << 0,
	SBX_SECCOMP_ACT_ERRNO = 1u << 1,
	SBX_SECCOMP_ACT_LOG = 1u << 2,
	SBX_SECCOMP_ACT_USER_NOTIF = 1u << 3,
};

struct sbx_features {
	char kernel[65];			/* uname -r */
	char machine[65];			/* uname -m */
	struct sbx_feature items[SBX_FEATURES_MAX];
	size_t n;

	/* The same results, typed, for code that picks backends. */
	bool cgroup2;
	bool cgroup2_hybrid;			/* v1 hierarchies are mounted too */
	char cgroup2_mount[PATH_MAX];
	char cgroup2_controllers[256];		/* of the mount root, space separated */
	bool clone_into_cgroup;
	bool prog_cgroup_sock_addr, prog_cgroup_sock, prog_cgroup_skb;
	bool prog_tracing, prog_lsm, prog_syscall;	/* libbpf load probes */
	bool map_ringbuf, map_lpm_trie, map_array_of_maps;
	bool bpf_lsm;				/* an LSM program loads, attaches and fires */
	bool bpf_lsm_listed;			/* "bpf" is among the active LSMs */
	bool tp_btf;				/* a tp_btf program fires */
	bool fentry;				/* an fentry program loads and attaches */
	int landlock_abi;			/* 0 when Landlock is unavailable */
	bool seccomp;				/* a filter can be installed */
	unsigned seccomp_actions;		/* SBX_SECCOMP_ACT_* */
	bool userns;
	bool bpffs, btf_vmlinux;
	char lockdown[16];			/* "none", "integrity", "confidentiality", "" */
};

/* Runs every probe. Fails (-errno) only when probing itself cannot run
 * (uname fails); an unavailable feature is a result, not an error. */
int sbx_features_probe(struct sbx_features *ret);

/* The row called name, or NULL. */
const struct sbx_feature *sbx_features_find(const struct sbx_features *f, const char *name);

/* Backend for filesystem/exec policy: "bpf-lsm", "landlock" or "none". */
const char *sbx_features_fs_backend(const struct sbx_features *f);

/* "<cgroup2 mount><own cgroup>/sbx-probe-<pid>": the only cgroup the probes
 * create (and remove). */
int sbx_features_probe_dir(char *buf, size_t len);

/* Single probes, uncached. why (may be NULL) receives the detail text.
 * Return 0 when the feature works, else a negative errno (-ENOTSUP when the
 * kernel accepted everything but the hook never fired). */
int sbx_probe_bpf_lsm(char *why, size_t len);
int sbx_probe_tp_btf(char *why, size_t len);
int sbx_probe_clone_into_cgroup(char *why, size_t len);
int sbx_probe_userns(char *why, size_t len);
/* Returns the Landlock ABI version (>= 1) or a negative errno. */
int sbx_probe_landlock(char *why, size_t len);

/* Cached once per process; the first call probes. */
bool sbx_bpf_lsm_supported(void);
bool sbx_tp_btf_supported(void);
bool sbx_clone_into_cgroup_supported(void);
bool sbx_userns_supported(void);
bool sbx_ringbuf_supported(void);
/* cgroup/connect_unix and cgroup/sendmsg_unix (Linux 6.7); the attach types'
 * numbers, which the system's headers may predate */
bool sbx_unix_hooks_supported(void);
#define SBX_BPF_CGROUP_UNIX_CONNECT	49
#define SBX_BPF_CGROUP_UNIX_SENDMSG	50
int sbx_landlock_abi(void);			/* 0 when unavailable */

#endif /* SBX_SBX_FEATURES_H */
