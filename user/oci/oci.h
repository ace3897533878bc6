/* SPDX-License-Identifier: MIT */
/*
 * sbx-oci: sbx as an OCI runtime (docs/oci.md). A runc-compatible command
 * line (user/oci/main.c) over four parts, each in its own file:
 *
 *   spec.c      config.json (runtime-spec 1.x) -> struct oci_spec, every
 *               error naming the field's path ("linux.namespaces[2].type");
 *               the features document.
 *   rootfs.c    in the container's new mount namespace: the mounts, the
 *               devices, masked and read-only paths, pivot_root (or
 *               MS_MOVE+chroot with --no-pivot), sysctl, hostname.
 *   proc.c      the container process's last steps: rlimits, identity,
 *               capabilities, no_new_privs, the spec's seccomp filter
 *               (seccomp.c), cwd, env, exec.
 *   enforce.c   sbx's policy: the profile an annotation names, the sandbox
 *               (slot, cgroup, maps, limits from linux.resources, audit) kept
 *               by a manager process that outlives `create`.
 *   main.c, state.c, hooks.c, console.c: the verbs, the state directory,
 *               the hooks, the console socket.
 *
 * Ownership of strings: everything in an oci_spec is heap memory that
 * oci_spec_free releases.
 */
#ifndef SBX_OCI_H
#define SBX_OCI_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define OCI_VERSION "1.0.2"		/* the runtime-spec version sbx-oci implements */

/* ---- config.json ------------------------------------------------------- */

struct oci_mount {
	char *destination;		/* absolute, inside the container */
	char *type;			/* NULL: none given (a bind mount) */
	char *source;			/* NULL: none given */
	unsigned long flags;		/* MS_* from the options (MS_RDONLY, MS_NOSUID, ...) */
	unsigned long clear_flags;	/* MS_* options turned off ("rw", "suid", ...) */
	unsigned long propagation;	/* MS_PRIVATE|MS_SLAVE|MS_SHARED|MS_UNBINDABLE (|MS_REC), 0: none */
	bool bind, rbind;		/* "bind" / "rbind" (flags holds MS_BIND[|MS_REC] too) */
	char *data;			/* the other options joined by ',' (fs data), or NULL */
};

struct oci_idmap {
	uint32_t container_id, host_id, size;
};

struct oci_rlimit {
	int resource;			/* RLIMIT_* */
	uint64_t soft, hard;
};

struct oci_namespace {
	int type;			/* CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC,
					 * CLONE_NEWUTS, CLONE_NEWUSER, CLONE_NEWCGROUP, CLONE_NEWTIME */
	char *path;			/* join this one; NULL: a new one */
};

struct oci_device {
	char *path;			/* absolute, inside the container */
	char type;			/* 'c', 'b', 'u' (= 'c'), 'p' */
	int64_t major, minor;
	uint32_t mode;			/* permission bits; has_mode false: 0666 */
	bool has_mode;
	uint32_t uid, gid;
	bool has_uid, has_gid;
};

/* linux.resources.devices: the device cgroup rules. */
struct oci_device_rule {
	bool allow;
	char type;			/* 'a', 'c', 'b' */
	int64_t major, minor;		/* -1: any */
	char access[4];			/* "rwm" or a subset */
};

struct oci_caps {
	uint64_t bounding, effective, inheritable, permitted, ambient;	/* bit n = capability n */
};

struct oci_user {
	uint32_t uid, gid;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	uint32_t umask;
	bool has_umask;
};

struct oci_process {
	bool terminal;
	uint32_t console_height, console_width;	/* consoleSize; 0: not given */
	char *cwd;			/* absolute */
	char **args;			/* NULL-terminated, at least one */
	char **env;			/* NULL-terminated "K=V" */
	struct oci_user user;
	struct oci_caps caps;
	bool has_caps;			/* capabilities given (else: none at all) */
	struct oci_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	int oom_score_adj;
	bool has_oom_score_adj;
	char *apparmor_profile;		/* ignored with a warning (docs/oci.md) */
	char *selinux_label;		/* refused when non-empty */
};

struct oci_hook {
	char *path;			/* absolute */
	char **args;			/* NULL-terminated; NULL: { path } */
	char **env;			/* NULL-terminated; NULL: empty */
	int timeout;			/* seconds; 0: none */
};

enum oci_hook_kind {
	OCI_HOOK_PRESTART,		/* deprecated; run with createRuntime */
	OCI_HOOK_CREATE_RUNTIME,
	OCI_HOOK_CREATE_CONTAINER,
	OCI_HOOK_START_CONTAINER,
	OCI_HOOK_POSTSTART,
	OCI_HOOK_POSTSTOP,
	OCI_HOOK_KINDS
};

struct oci_seccomp_arg {
	unsigned index;			/* 0..5 */
	uint64_t value, value2;
	int op;				/* enum scmp_compare (SCMP_CMP_EQ, ...) */
};

struct oci_seccomp_rule {
	char **names;			/* NULL-terminated; names unknown to libseccomp are skipped, as runc does */
	uint32_t action;		/* SCMP_ACT_* (SCMP_ACT_ERRNO(n) carries errnoRet, default EPERM) */
	struct oci_seccomp_arg *args;
	size_t n_args;
};

struct oci_seccomp {
	uint32_t default_action;	/* SCMP_ACT_* */
	uint32_t *arches;		/* SCMP_ARCH_* */
	size_t n_arches;
	uint32_t flags;			/* SECCOMP_FILTER_FLAG_* named in "flags" */
	struct oci_seccomp_rule *rules;
	size_t n_rules;
};

/* linux.resources.hugepageLimits[i] */
struct oci_hugepage_limit {
	uint64_t page_kib;		/* pageSize ("2MB", "1GB", "64KB") in KiB */
	uint64_t limit;			/* bytes */
};

/* linux.resources; has_* false = not given. */
struct oci_resources {
	int64_t memory_limit, memory_reservation, memory_swap;
	bool has_memory_limit, has_memory_reservation, has_memory_swap;
	bool disable_oom_killer;
	int64_t pids_limit;		/* <= 0: unlimited */
	bool has_pids_limit;
	uint64_t cpu_shares, cpu_period;
	int64_t cpu_quota;
	bool has_cpu_shares, has_cpu_quota, has_cpu_period;
	char *cpuset_cpus, *cpuset_mems;
	uint16_t blkio_weight;		/* 0: not given */
	struct oci_device_rule *devices;
	size_t n_devices;
	/* sbx sets no hugetlb limit: enforce.c accepts one only where the host
	 * has no pool of that page size (none can be had, whatever the limit) */
	struct oci_hugepage_limit *hugepages;
	size_t n_hugepages;
};

struct oci_sysctl {
	char *key, *value;
};

struct oci_annotation {
	char *key, *value;
};

struct oci_spec {
	char *oci_version;
	char *root_path;		/* absolute (made so against the bundle) */
	bool root_readonly;
	char *hostname, *domainname;	/* NULL: not given */
	struct oci_mount *mounts;
	size_t n_mounts;
	struct oci_process process;
	bool has_process;		/* create needs it */
	struct oci_hook *hooks[OCI_HOOK_KINDS];
	size_t n_hooks[OCI_HOOK_KINDS];
	struct oci_annotation *annotations;
	size_t n_annotations;
	/* linux */
	struct oci_namespace namespaces[8];
	size_t n_namespaces;
	struct oci_idmap *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	char **masked_paths, **readonly_paths;	/* NULL-terminated, or NULL */
	struct oci_sysctl *sysctl;
	size_t n_sysctl;
	struct oci_device *devices;
	size_t n_devices;
	struct oci_resources resources;
	char *cgroups_path;		/* NULL: not given */
	unsigned long rootfs_propagation;	/* MS_* (|MS_REC); 0: not given (MS_PRIVATE|MS_REC) */
	struct oci_seccomp *seccomp;	/* NULL: none */
	char *mount_label;		/* refused when non-empty */
	/* Warnings for what is accepted but not applied (apparmorProfile):
	 * NULL-terminated sentences naming the field, printed by create. */
	char **warnings;
};

/* Reads BUNDLE/config.json. Errors name the file and field:
 * "config.json: linux.namespaces[2].type: unknown namespace \"foo\"". What
 * sbx-oci cannot honour is refused the same way, never ignored (fields the
 * runtime-spec defines that do not apply on Linux, unknown fields, and
 * values it does not implement). 0 or -errno (-EINVAL: bad input). */
int oci_spec_load(const char *bundle, struct oci_spec *ret, char *why, size_t len);
/* The same from memory; root_path is made absolute against bundle. */
int oci_spec_parse(const char *json, size_t n, const char *bundle, struct oci_spec *ret,
		   char *why, size_t len);
/* `exec --process FILE`: one process object ("process" of config.json). */
int oci_process_load(const char *path, struct oci_process *ret, char *why, size_t len);
int oci_process_parse(const char *json, size_t n, struct oci_process *ret, char *why, size_t len);
void oci_spec_free(struct oci_spec *s);
void oci_process_free(struct oci_process *p);
/* The value of an annotation, or NULL. */
const char *oci_annotation(const struct oci_spec *s, const char *key);
/* Whether the spec asks for a namespace of this CLONE_NEW* type (new or joined). */
const struct oci_namespace *oci_namespace_of(const struct oci_spec *s, int type);
/* `features`: the runtime-spec features document (features.md), as JSON
 * with a final newline. Returns a heap string. */
char *oci_features_json(void);

/* ---- inside the container (rootfs.c, proc.c, seccomp.c) ---------------- */

/* In the new mount namespace (and user namespace, when the spec has one,
 * with its maps written), before the process steps: makes the root
 * private/slave per rootfsPropagation, bind-mounts root_path on itself,
 * mounts every entry of mounts in order (destinations resolved inside
 * the rootfs without following a symlink out of it, created when missing),
 * creates the devices (mknod, or bind mounts of the host's when mknod is
 * not permitted) and the default ones (/dev/null, zero, full, random,
 * urandom, tty, the /dev/fd links, /dev/pts/ptmx), then pivot_root (or
 * no_pivot: MS_MOVE + chroot), masks masked_paths, remounts readonly_paths
 * and, with root_readonly, the root read-only; writes sysctl and the
 * hostname/domainname (when the spec has its own UTS namespace). 0 or
 * -errno with the field in why ("mounts[3].destination: ..."). */
int oci_rootfs_setup(const struct oci_spec *s, bool no_pivot, char *why, size_t len);

/* The spec's seccomp filter, loaded with libseccomp (flags as given). */
int oci_seccomp_load(const struct oci_seccomp *sc, char *why, size_t len);

/* The last steps of a container process (the init or an exec'd one), after
 * oci_rootfs_setup (or after setns into a running container): umask,
 * rlimits, oom_score_adj, groups/gid/uid (keeping the capabilities across
 * the change), capabilities (all five sets; ambient last), no_new_privs,
 * cwd, then the seccomp filter, and execvpe of args[0] with env (PATH from
 * env). sbx_filter (NULL: none) is sbx's own filter (oci_enforce_families),
 * installed before anything drops a privilege and before the spec's filter,
 * which might refuse seccomp(2) itself. before_exec (NULL: none) runs
 * last, with the process's identity and filters: the init's startContainer
 * hooks. Returns only on failure: -errno with
 * why. exec_errno (non-NULL) says that the failure was the exec itself. */
/* Installs sbx's family filter (oci_enforce_families) in the calling
 * process, which must hold CAP_SYS_ADMIN in its user namespace or have
 * no_new_privs. */
int oci_sbx_filter_install(const struct sock_fprog *f, char *why, size_t len);
int oci_process_exec(const struct oci_process *p, const struct oci_seccomp *sc,
		     const struct sock_fprog *sbx_filter, int (*before_exec)(void *ctx, char *why, size_t len),
		     void *ctx, char *why, size_t len, int *exec_errno);

/* ---- sbx's enforcement (enforce.c) ------------------------------------- */

/* Annotations that choose sbx's policy for a container (docs/oci.md). */
#define OCI_ANNOT_PROFILE "org.sbx.profile"	/* a profile of the policy directory, or of sbxd */
#define OCI_ANNOT_POLICY "org.sbx.policy"	/* a policy file in a trusted directory */
#define OCI_ANNOT_POLICY_PROFILE "org.sbx.policy.profile"	/* which profile of that file */

struct oci_enforce;	/* opaque: the manager process and its channel */

/* create: chooses the profile (the annotations, else the configured default;
 * "none" = no policy rules, audit only), checks that this host can enforce
 * it (strict: refused with the rule and the missing kernel feature), starts
 * the manager: a process of its own (setsid, not a child the caller waits
 * for) that creates the sbx sandbox (slot, cgroup under sbx's root with
 * linux.resources applied, policy maps, audit ring) and keeps it until the
 * container has exited. Returns with the container's cgroup as an
 * O_DIRECTORY fd (for CLONE_INTO_CGROUP) and the sandbox id. state_dir:
 * the container's state directory (the manager logs there when --log is
 * not given). *ret is heap memory freed by oci_enforce_done/abort. It forks:
 * call it before the caller starts a thread. */
int oci_enforce_begin(const struct oci_spec *s, const char *container_id, const char *state_dir,
		      struct oci_enforce **ret, int *ret_cgroup_fd, char *sandbox_id, size_t id_len,
		      char *why, size_t len);
/* The container's init exists (in the cgroup, not yet exec'd, and not yet
 * forked: on a hybrid host the manager moves it into the v1 cgroups of the
 * limits, memory and pids, which only its later children inherit): the
 * manager registers it, emits sandbox.start and watches it (a pidfd; it is
 * not its parent) until the cgroup is empty, then emits sandbox.exit and
 * removes the sandbox. Returns once the manager has acknowledged. Frees e. */
int oci_enforce_done(struct oci_enforce *e, pid_t init_pid, char *why, size_t len);
/* create failed: the manager removes everything it made and exits. Frees e. */
void oci_enforce_abort(struct oci_enforce *e);
/* sbx's socket family filter for the container's processes
 * (sbx_seccomp_build_families, stacked on linux.seccomp): true when the
 * profile has one (every profile but "none"), with its network.families.
 * oci_enforce_state_families reads the same back from the state directory
 * for `exec` (a state without the record: the default families). */
bool oci_enforce_families(const struct oci_enforce *e, uint64_t *families);
int oci_enforce_state_families(const char *state_dir, bool *on, uint64_t *families, char *why, size_t len);
/* delete: waits (bounded) until the manager of a container whose processes
 * are gone has removed its sandbox; processes that outlived the init (no pid
 * namespace) are killed first (SIGTERM to the manager). 0, or -ETIMEDOUT. */
int oci_enforce_wait_gone(const char *state_dir, char *why, size_t len);
/* exec: -EPERM when p holds, without a user namespace of the container's
 * own, a capability that undoes sbx's enforcement (CAP_SYS_ADMIN, ...,
 * CAP_NET_RAW) that s's process.capabilities does not (create judged
 * those against the profile). Call before the process is cloned. */
int oci_enforce_exec_check(const struct oci_spec *s, const struct oci_process *p, char *why,
			   size_t len);

#endif
