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

/* Builds the filter for a profile. An unknown syscall name in deny/allow is an
 * error naming it (-EINVAL). */
int sbx_seccomp_build(const struct sbx_profile *p, struct sbx_seccomp *ret, char *why, size_t len);

/* In the child, after no_new_privs: installs the filter (async-signal-safe). */
int sbx_seccomp_install(const struct sbx_seccomp *s);

void sbx_seccomp_free(struct sbx_seccomp *s);

/* Names of the syscalls each preset refuses (for docs and tests); NULL-terminated. */
const char *const *sbx_seccomp_preset_list(enum sbx_seccomp_preset p);

#endif
