/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Everything the BPF programs know about the target architecture: syscall
 * numbers, where a syscall's number and arguments sit in struct pt_regs at
 * tp_btf/sys_enter and sys_exit, and the errno and flag values they compare
 * against. Nothing else under bpf/ may name a register or a syscall number.
 * The build passes -D__TARGET_ARCH_<arch> and vmlinux/<arch>/vmlinux.h
 * (`make bpf-arm64` compiles and links the arm64 programs on any host).
 *
 * Syscall numbers are the native ones (what seccomp and user space's
 * sbx_syscall_set bitmap use). arm64 has the asm-generic table, which lacks
 * the pre-*at calls (open, mkdir, unlink, ...): SBX_ARCH_LEGACY_FS_CALLS
 * says whether they exist. Worked example: openat is 257 on x86_64 and 56
 * on arm64; its path is argument 1 on both.
 */
#ifndef SBX_BPF_ARCH_H
#define SBX_BPF_ARCH_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#if defined(__TARGET_ARCH_x86)

#define SBX_ARCH_LEGACY_FS_CALLS	1
#define SBX_NR_open		2
#define SBX_NR_socket		41
#define SBX_NR_socketpair	53
#define SBX_NR_execve		59
#define SBX_NR_truncate		76
#define SBX_NR_rename		82
#define SBX_NR_mkdir		83
#define SBX_NR_rmdir		84
#define SBX_NR_creat		85
#define SBX_NR_link		86
#define SBX_NR_unlink		87
#define SBX_NR_symlink		88
#define SBX_NR_chmod		90
#define SBX_NR_chown		92
#define SBX_NR_lchown		94
#define SBX_NR_mknod		133
#define SBX_NR_openat		257
#define SBX_NR_mkdirat		258
#define SBX_NR_mknodat		259
#define SBX_NR_fchownat		260
#define SBX_NR_unlinkat		263
#define SBX_NR_renameat		264
#define SBX_NR_linkat		265
#define SBX_NR_symlinkat	266
#define SBX_NR_fchmodat		268
#define SBX_NR_renameat2	316
#define SBX_NR_execveat		322

/* The syscall number survives in orig_ax; ax holds the return value at exit. */
#define SBX_SC_NR(regs)		BPF_CORE_READ(regs, orig_ax)

#elif defined(__TARGET_ARCH_arm64)

#define SBX_ARCH_LEGACY_FS_CALLS	0
#define SBX_NR_mknodat		33
#define SBX_NR_mkdirat		34
#define SBX_NR_unlinkat		35
#define SBX_NR_symlinkat	36
#define SBX_NR_linkat		37
#define SBX_NR_renameat		38
#define SBX_NR_truncate		45
#define SBX_NR_fchmodat		53
#define SBX_NR_fchownat		54
#define SBX_NR_openat		56
#define SBX_NR_socket		198
#define SBX_NR_socketpair	199
#define SBX_NR_execve		221
#define SBX_NR_renameat2	276
#define SBX_NR_execveat		281

#define SBX_SC_NR(regs)		BPF_CORE_READ(regs, syscallno)

#else
#error "sbx BPF: define __TARGET_ARCH_x86 or __TARGET_ARCH_arm64 (see bpf/lib/arch.h)"
#endif

/* Numbers given to every architecture since Linux 5.1 (unified table). */
#define SBX_NR_openat2		437
#define SBX_NR_fchmodat2	452

/* Syscall argument n (0-based) of the current syscall, valid at sys_enter and
 * at sys_exit: libbpf's *_SYSCALL accessors read x86_64's 4th argument from
 * r10 (not cx) and arm64's 1st from orig_x0 (x0 holds the return value at
 * exit). */
#define SBX_SC_ARG0(regs)	((__u64)PT_REGS_PARM1_CORE_SYSCALL(regs))
#define SBX_SC_ARG1(regs)	((__u64)PT_REGS_PARM2_CORE_SYSCALL(regs))
#define SBX_SC_ARG2(regs)	((__u64)PT_REGS_PARM3_CORE_SYSCALL(regs))
#define SBX_SC_ARG3(regs)	((__u64)PT_REGS_PARM4_CORE_SYSCALL(regs))

/* errno values (asm-generic; x86 and arm64 share them) */
#define SBX_EPERM		1
#define SBX_EAGAIN		11
#define SBX_EACCES		13
#define SBX_EINVAL		22
#define SBX_ENAMETOOLONG	36

#define SBX_SIGKILL		9	/* the same on every architecture sbx builds for */

/* open(2) and *at(2) flags: asm-generic values, which x86 and arm64 share
 * for these (arm64 differs in O_DIRECTORY and friends, not used here). */
#define SBX_O_ACCMODE		00000003
#define SBX_O_WRONLY		00000001
#define SBX_O_RDWR		00000002
#define SBX_O_CREAT		00000100
#define SBX_O_TRUNC		00001000
#define SBX_O_PATH		010000000
#define SBX_AT_REMOVEDIR	0x200

#endif
