/* SPDX-License-Identifier: MIT */
/*
 * The isolation provider interface (docs/providers.md). A provider starts
 * the workload, or the runtime that hosts it, inside the sandbox cgroup it is
 * given, from the first instruction (clone3 + CLONE_INTO_CGROUP), so the eBPF
 * policy applies to every provider alike. The core owns the cgroup, the maps
 * and the audit stream; a provider owns only what it creates itself.
 *
 * Call order: probe (any time) -> prepare -> spawn -> [signal]* -> wait -> cleanup.
 * Every call returns 0 or a negative errno; on failure it writes a sentence
 * into why (no printing).
 */
#ifndef SBX_PROVIDER_H
#define SBX_PROVIDER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/fsplan.h"
#include "policy.h"
#include "sbx_abi.h"

struct sbx_netrate;

#define SBX_OWN_DIRS_MAX 4

struct sbx_spawn {
	const char *id;			/* sandbox id, e.g. "sbx-1f2e3d4c" */
	const struct sbx_profile *profile;
	char *const *argv;		/* the command; argv[0] is looked up in PATH */
	int cgroup_fd;			/* O_DIRECTORY fd of the sandbox cgroup */
	const char *cgroup_path;
	/* The instance's run directory (core/instance.h): a provider keeps what
	 * it builds below it, in a directory of its own. */
	const char *run_dir;
	/* sbx's other own directories (the audit log's, sbxd's state), NULL
	 * terminated: like run_dir, a root workload may write none of them
	 * (host: Landlock; process: hidden in the view). */
	const char *const *own_dirs;	/* at most SBX_OWN_DIRS_MAX */
	uint32_t slot;			/* sandbox slot (address pools) */
	/* The sandbox's own host uid and gid (core/uidpool.h) when the profile
	 * names no user: the workload, or the runtime process that hosts it on
	 * the host, runs as it (sbx_ids_resolve). 0: none leased. */
	uid_t uid;
	uint64_t clone_flags;		/* extra CLONE_NEW* flags for sbx_clone_into_cgroup */
	/* Filled by prepare: what the provider's seccomp filter refuses, so the
	 * kernel side can audit those refusals (sbx_abi.h sbx_syscall_set). */
	struct sbx_syscall_set *refused;
	/* Filled by prepare: SBX_POLF_* the provider adds to the policy (e.g.
	 * SBX_POLF_NETNS_PRIVATE when it isolates the network itself). */
	uint32_t *policy_flags;
	/* The Landlock ruleset the workload applies right before exec (fs grants
	 * when Landlock is the fs backend, and scoping); NULL: scoping only. */
	const struct sbx_landlock_plan *landlock;
	/* enum sbx_fs_backend_abi enforcing the fs policy, 0 = none needed: a
	 * provider with its own seccomp filter adds the exec guard where
	 * sbx_exec_guard_needed() says (kernel/seccomp.h). */
	int fs_backend;
	/* The filesystem plan (core/fsplan.h): a provider that builds a view
	 * builds it from this, its base view and rules, and nothing else. */
	const struct sbx_fsplan *fs;
	/* With -t: the slave of the pty sbx relays (core/tty.h), which becomes
	 * stdin, stdout and stderr of the child of sbx_clone_into_cgroup; the
	 * provider makes it the workload's controlling terminal with
	 * sbx_child_take_tty(). Without (tty false), the child keeps sbx's
	 * stdio but never the caller's terminal session (spawn.c). */
	bool tty;
	int tty_fd;
	/* --log: the write ends of the pipes sbx reads the workload's output
	 * from, which become stdout and stderr of the child of
	 * sbx_clone_into_cgroup (and so of everything it starts); 0: sbx's own. */
	int out_fd, err_fd;
	/* A descriptor (3 or more) that the workload inherits, e.g. the wasm
	 * provider's module; 0: none. Every other one from 3 up closes at exec. */
	int keep_fd;
	/* Called in the parent once the child exists and before it may run the
	 * workload, so the start event precedes every event of the workload. */
	int (*started)(void *ctx, pid_t pid);
	void *started_ctx;
	/* Called in the child first thing after it was released (e.g. to move
	 * itself into v1 cgroups, which is far cheaper than the parent moving it);
	 * a negative return aborts the sandbox as a setup failure. */
	int (*child_setup)(void *ctx);
	void *child_setup_ctx;
	/* Called by prepare for each part of the profile that it finds it cannot
	 * make work on this host (e.g. a granted path the sandbox user cannot
	 * write: providers/grants.h), with the offending rule's position (file
	 * NULL: none) and a sentence. Returns 0 when the run goes on without it
	 * (best-effort: the core warns and lists it as degraded), or the error
	 * prepare must fail with (strict: the core has reported it already).
	 * NULL: every such finding is refused. */
	int (*unenforced)(void *ctx, const struct sbx_srcpos *pos, const char *msg);
	void *unenforced_ctx;
	/* The profile's bandwidth rate with the programs and maps that apply it
	 * (kernel/netrate.h), NULL when it sets none. A provider that gives
	 * the sandbox a veth pair applies it there; the enforce table refuses
	 * a rate wherever traffic leaves through the host's own devices. */
	const struct sbx_netrate *netrate;
	/* A held start (sbxd's warm pools, docs/api.md): spawn builds the
	 * whole sandbox without the command (argv NULL), its init, its view
	 * and the workload's process confined but for the last steps before
	 * its exec (process: nofile and the seccomp filter), and returns
	 * once that process waits for the command; go hands it over. */
	bool held;
};

/* The use of the filesystem that bounds a sandbox's writes (disk = ...). */
struct sbx_disk_usage {
	uint64_t used_bytes, limit_bytes;
	uint64_t inodes_used, inodes_limit;
	char mount[SBX_DISK_MOUNT_LEN];	/* where the sandbox sees it: "/tmp" */
	bool full;			/* no block or no inode left: writes get ENOSPC */
};

struct sbx_child {
	pid_t pid;			/* the process sbx waits for */
	int pidfd;			/* pollable; readable when pid exited */
	int exec_errno;			/* set by wait: errno of a failed exec, else 0 */
	/* set by wait: the wait status is not known (sbx-oci: the manager is
	 * not the workload's parent); sandbox.exit then has no exit_code or signal */
	bool no_status;
	/* A held child (sbx_spawn.held) until its go: the socket the command
	 * goes to and the report pipe; -1 otherwise. */
	int cmd_fd, report_fd;
};

struct sbx_provider {
	const char *name;
	enum sbx_isolation level;
	const char *summary;		/* one line for `sbx providers` */
	/* Gives the workload a terminal with -t (sbx_spawn.tty): its stdio
	 * reach the workload and it calls sbx_child_take_tty(). */
	bool tty;
	/* Its relay thread copies the workload's output to sbx's own stdout and
	 * stderr (the VMM providers), not the workload itself: --log is refused,
	 * as that thread would block on a full log pipe while sbx waits for it. */
	bool relays_output;
	/* Its workload's sockets are the host kernel's, in the host's network
	 * namespace or behind a veth pair to it, so sbx's DNS resolver and pins
	 * enforce host-name entries (core/dnsrun.h); false: a guest with a
	 * resolver of its own, where names are refused under strict. */
	bool dns_names;
	/* The workload is started by sbx's caller, not by the provider
	 * (sbx-oci): sbx applies nothing inside it (no Landlock, view or
	 * seccomp filter; fs rules need BPF LSM), and a watchdog kills the
	 * sandbox if its manager dies. */
	bool foreign;
	/* 0 when usable here; otherwise -errno and the reason in why. */
	int (*probe)(char *why, size_t len);
	/* For "auto": 0 when prog (argv[0]) is found where the workload will
	 * look for it under p (its PATH, in the provider's view of the files);
	 * -ENOENT and the reason otherwise, or another -errno when the provider
	 * cannot run p at all. NULL: every host program is found. */
	int (*can_run)(const struct sbx_profile *p, const char *prog, char *why, size_t len);
	/* Builds what spawn needs (rootfs, bundle, ...); *ret_state is the provider's. */
	int (*prepare)(const struct sbx_spawn *s, void **ret_state, char *why, size_t len);
	int (*spawn)(void *state, const struct sbx_spawn *s, struct sbx_child *ret,
		     char *why, size_t len);
	/* Delivers sig to the workload (the whole sandbox is the core's job). */
	int (*signal)(void *state, struct sbx_child *c, int sig);
	/* Reaps the child once its pidfd is readable; fills the wait status.
	 * A foreign provider's -EAGAIN: not over yet (the cgroup still has
	 * processes), the run goes on waiting on the pidfd. */
	int (*wait)(void *state, struct sbx_child *c, int *ret_status);
	/* The use of the sandbox's disk quota (disk = ...), any time after
	 * prepare; -ENOENT when it has none. NULL: the provider bounds no disk. */
	int (*disk_usage)(void *state, struct sbx_disk_usage *ret);
	/* Held starts (sbx_spawn.held): hands the command (s->argv) and the
	 * workload's stdin, stdout and stderr to the child that spawn held, and
	 * returns once the workload exec'd (ret->exec_errno as spawn). NULL:
	 * the provider cannot hold a start. */
	int (*go)(void *state, const struct sbx_spawn *s, const int fds[3], struct sbx_child *ret,
		  char *why, size_t len);
	/* Releases what prepare/spawn made; accepts NULL state. */
	void (*cleanup)(void *state);
};

extern const struct sbx_provider sbx_provider_mock;
extern const struct sbx_provider sbx_provider_host;
extern const struct sbx_provider sbx_provider_process;
extern const struct sbx_provider sbx_provider_wasm;
extern const struct sbx_provider sbx_provider_gvisor;
extern const struct sbx_provider sbx_provider_microvm;
extern const struct sbx_provider sbx_provider_unikernel;
extern const struct sbx_provider sbx_provider_tee;

/* All providers (registry.c), NULL-terminated, strongest isolation last. */
extern const struct sbx_provider *const sbx_providers[];

const struct sbx_provider *sbx_provider_find(const char *name);

/* Whether host-name entries can be enforced under the provider named (NULL or
 * "auto": the providers auto picks for a profile with network entries). */
bool sbx_provider_dns_names(const char *name);

/* Shared by providers that fork a local child: clone3 into the cgroup with a
 * pidfd; child_fn runs in the child and must exec or _exit. The exec errno
 * travels back over a close-on-exec pipe and is reported by sbx_child_wait. */
int sbx_clone_into_cgroup(const struct sbx_spawn *s, int (*child_fn)(const struct sbx_spawn *s,
			  void *arg), void *arg, struct sbx_child *ret, char *why, size_t len);
int sbx_child_wait(struct sbx_child *c, int *ret_status);
/* Held starts: sbx_clone_into_cgroup with s->held returns once the child
 * or its child called sbx_child_await (all but the exec done); sbx_child_go sends it argv and
 * fds and waits for the exec as sbx_clone_into_cgroup does. sbx_child_drop
 * closes what a held child that never got its go still holds. */
int sbx_child_go(struct sbx_child *c, char *const argv[], const int fds[3], char *why, size_t len);
void sbx_child_drop(struct sbx_child *c);

/* In a child of sbx_clone_into_cgroup: report a failure to the parent and
 * _exit. setup = sbx could not build the sandbox (the run fails with 125);
 * otherwise err is the errno of the workload's failed exec (126/127). */
void sbx_child_fail(int err, bool setup, const char *msg) __attribute__((noreturn));
/* In such a child: close the report pipe (e.g. in a sandbox init that stays
 * behind while its child execs, so EOF still means "exec succeeded"), and
 * a held child's command socket (its child waits for the command). */
void sbx_child_close_report(void);
/* In a held child (or the child of it that execs the workload, once it is
 * confined): says it is ready, then waits for its one command; the
 * descriptors that came with it become stdin, stdout and stderr. Returns
 * the command (NULL-terminated); fails the child (sbx_child_fail) when the
 * parent gave up or sent something that is not a command. */
char **sbx_child_await(void);
int sbx_child_signal(struct sbx_child *c, int sig);
/* In the process that execs the workload: with s->tty, a session of its own
 * with the pty on stdin as its controlling terminal (job control, Ctrl-C
 * through the line discipline); nothing without. */
int sbx_child_take_tty(const struct sbx_spawn *s);
/* In the child, before exec: every descriptor from 3 up but keep (0: none)
 * closes at exec (what sbx's caller left open must not reach the workload).
 * 0 or -errno. */
int sbx_child_cloexec_inherited(int keep);

#endif
