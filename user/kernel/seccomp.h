/* SPDX-License-Identifier: MIT */
/*
 * The sandbox's seccomp filter. Built with libseccomp in the parent (which may
 * allocate and fail cleanly) and exported to a classic BPF program, so the
 * child only has to call seccomp(2) between fork and exec.
 *
 * The default preset refuses, in the spirit of container runtimes: kernel
 * modules, kexec, keyrings, bpf, perf_event_open, ptrace, mount/umount/
 * pivot_root/move_mount/fsopen..., unshare/setns/clone with CLONE_NEWUSER,
 * open_by_handle_at, userfaultfd, io_uring, reboot, clock setting, swap, acct,
 * and every foreign ABI (x32, i386 on x86_64). The strict preset also refuses
 * what ordinary programs rarely need. Profile additions: deny adds names,
 * allow removes them. Refused calls fail with EPERM, or kill the process when
 * action = "kill".
 */
#ifndef SBX_SECCOMP_H
#define SBX_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>

#include "policy.h"

#define SBX_SYSCALL_BITMAP_WORDS 16	/* 1024 native syscall numbers */

struct sbx_seccomp {
	struct sock_fprog prog;		/* exported filter (owned) */
	/* native syscall numbers the filter refuses, for the audit trail */
	uint64_t denied[SBX_SYSCALL_BITMAP_WORDS];
};

/*
 * The exec guard. Landlock judges an executable by its place in the file
 * hierarchy; files of the kernel's internal mounts (memfd, SysV and shared
 * anonymous memory, hugetlbfs memfds) have none, and Landlock lets them run.
 * While a Landlock-enforced policy restricts exec (an fs.exec list, or
 * fs.mode "none"), the filter also refuses:
 *   memfd_create   unless MFD_NOEXEC_SEAL is set (and MFD_EXEC is not): the
 *                  only way for the workload to make such a file executable;
 *   memfd_secret   secret memory has no business being executed;
 *   execveat       with AT_EMPTY_PATH: exec by descriptor (fexecve).
 * Seccomp sees registers, not paths: execve("/proc/self/fd/N") of a memfd
 * that came from elsewhere (a unix socket, an inherited descriptor) looks
 * like any execve. The BPF tracepoint sched_process_exec kills such an exec
 * before the program runs (bpf/lib/fsaudit.h, sbx_exec_guard). BPF LSM
 * refuses all of these by itself, so its sandboxes get no guard.
 */
bool sbx_exec_guard_needed(const struct sbx_profile *p, int fs_backend);

/* Adds the guard's rules to a libseccomp filter (scmp_filter_ctx) with the
 * action act; marks the calls in denied (SBX_SYSCALL_BITMAP_WORDS words, or
 * NULL). For providers with filters of their own. */
int sbx_seccomp_add_exec_guard(void *ctx, uint32_t act, uint64_t *denied);

/* The socket family allow-list of network.families (ctx: a libseccomp
 * filter). socket() of a family outside SBX_FAMILIES_DEFAULT | families
 * fails with EPERM, whatever the profile's action (a refused family is an
 * answer, not an attack), and so does a netlink socket of any protocol but
 * NETLINK_ROUTE unless "netlink" is listed. AF_PACKET is raw_sockets' (its
 * own rule or CAP_NET_RAW). The cgroup sock_create hook sees inet sockets
 * only, so this is where every other family is judged. */
int sbx_seccomp_add_families(void *ctx, uint64_t families);

/* A filter of the family allow-list alone (and no foreign ABI: a process of
 * another ABI is killed), for a workload whose own filter sbx does not make:
 * sbx-oci stacks it on the container's linux.seccomp. io_uring_setup,
 * _enter and _register fail with EPERM: IORING_OP_SOCKET would make any
 * family past the allow-list. */
int sbx_seccomp_build_families(uint64_t families, struct sbx_seccomp *ret, char *why, size_t len);

/*
 * The cgroup guard. clone3(CLONE_INTO_CGROUP) starts a child in any cgroup2
 * directory the caller can open, and the kernel checks only that the
 * caller may write that cgroup's (and the common ancestor's) cgroup.procs
 * by the inode's owner and mode: no mount flag (a read-only /sys does not
 * stop it), no Landlock right, and the cgroup namespace only where cgroup2
 * is mounted with nsdelegate. A root workload owns every cgroup.procs, so it
 * could start a child outside the sandbox's cgroup, where no program of
 * sbx's applies, with no limit. seccomp cannot read clone3's flags (they are
 * in memory), so every host and process workload gets clone3 refused with
 * ENOSYS (libc falls back to clone, which has no cgroup argument), and no
 * seccomp.allow lifts it. Adds the rule to a libseccomp filter
 * (scmp_filter_ctx); sbx_seccomp_build() keeps it by itself.
 */
int sbx_seccomp_add_cgroup_guard(void *ctx);

/* The set-id guard, in every workload's filter: chmod, fchmod, fchmodat,
 * fchmodat2, mknod, mknodat, creat, open and openat with S_ISUID or S_ISGID
 * in their mode fail with act's errno (the chmod and mknod calls are marked
 * in denied for the audit trail; open's EPERM is the file audit's), and
 * openat2 with ENOSYS. A set-id program that a sandbox leaves on the host
 * (its /tmp, a writable grant) would let whoever runs it later act as the
 * sandbox's uid, or as the grant's owner, outside any sandbox, and share that
 * uid with its next holder. */
int sbx_seccomp_add_suid_guard(void *ctx, uint32_t act, uint64_t *denied);

/* Builds the filter for a profile, with the exec guard when exec_guard is
 * set. An unknown syscall name in deny/allow is an error naming it
 * (-EINVAL). */
int sbx_seccomp_build(const struct sbx_profile *p, bool exec_guard, struct sbx_seccomp *ret,
		      char *why, size_t len);

/* In the child, after no_new_privs: installs the filter (async-signal-safe). */
int sbx_seccomp_install(const struct sbx_seccomp *s);

/* Observe mode (docs/learn.md) reports refusals by syscall number alone:
 * clears from denied the calls the filter refuses only for some arguments
 * (the exec guard's memfd_create and execveat, the set-id mode guard, the
 * tty guard's ioctl), unless p's own deny list names them. */
void sbx_seccomp_observe_unmark(uint64_t *denied, const struct sbx_profile *p);

void sbx_seccomp_free(struct sbx_seccomp *s);

/*
 * The terminal guard: ioctl(TIOCSTI) pushes bytes into a terminal's input
 * queue, which the caller's shell reads as typed once sbx exits (the class
 * of bubblewrap's CVE-2017-5226); ioctl(TIOCLINUX) can paste a virtual
 * console's selection into it. Every sandbox refuses both, on any fd, with
 * EPERM, whatever its profile says: the filter is installed by the child of
 * sbx_clone_into_cgroup() (providers/spawn.c) for every provider, before the
 * provider's own filter, and every process of the sandbox inherits it. The
 * request is compared in its low 32 bits, the part the kernel reads; native
 * and compat ABIs (i386, x32; arm) are covered. Hand-written classic BPF, so
 * installing it allocates nothing (async-signal-safe, after fork). Without
 * CAP_SYS_ADMIN the kernel wants no_new_privs first: the caller's business.
 *
 * With io_uring true the same filter refuses io_uring_setup, io_uring_enter
 * and io_uring_register (EPERM, every ABI): io_uring runs operations that no
 * seccomp filter and no syscall audit sees, and a provider that installs no
 * filter of its own from the profile (host without a [seccomp] table) would
 * otherwise leave it open although the default preset refuses it.
 */
int sbx_tty_guard_install(bool io_uring);

/* Whether the guard refuses io_uring for profile p: unless its [seccomp]
 * allow list names io_uring_setup (without which no ring exists; the
 * profile's own filter still judges _enter and _register). */
bool sbx_io_uring_refused(const struct sbx_profile *p);

/* Marks ioctl, and with io_uring the three io_uring calls, in denied
 * (SBX_SYSCALL_BITMAP_WORDS words) for the audit trail. */
void sbx_tty_guard_mark(uint64_t *denied, bool io_uring);

/* Names of the syscalls each preset refuses (for docs and tests); NULL-terminated. */
const char *const *sbx_seccomp_preset_list(enum sbx_seccomp_preset p);

#endif
