// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sbx's syscall and process observers and its user-space event emitter.
 * The syscall observers are global tp_btf programs: while they are attached
 * every task on the host runs them, so each first asks whether the task sits
 * below sbx's cgroup root at all (one helper call and a compare, no map
 * lookup). User space attaches them only while a sandbox needs them
 * (user/core/trace.h); the exec guard stays attached. They audit what the enforcing backends do not report
 * themselves: seccomp refusals (lib/syscalls.h) and file syscalls refused by
 * Landlock (lib/fsaudit.h); and at sched_process_exec they stop the
 * fd-only executables Landlock cannot see (lib/fsaudit.h, sbx_exec_guard).
 * Syscall numbers and registers: lib/arch.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "syscalls.h"

/* Whether the current task is below sbx's cgroup root: every sandboxed task
 * is (sbx_ctx_current finds nothing elsewhere), and the ancestor at a fixed
 * level is an array read in the kernel, where a miss in sbx_cgroups costs a
 * hash of the id and a bucket walk, twice. */
static __always_inline bool sbx_below_root(void)
{
	return !root_cgroup_id || !sandbox_level ||
	       bpf_get_current_ancestor_cgroup_id(sandbox_level - 1) == root_cgroup_id;
}

/* What needs no helper call comes first: most syscalls of the host are no
 * file syscall, and no sandbox observes, so they leave after a switch on
 * the number and an inlined array read, before the cgroup helper (which
 * takes the RCU read lock and walks the task's cgroup). */
SEC("tp_btf/sys_enter")
int BPF_PROG(sbx_sys_enter, struct pt_regs *regs, long id)
{
	struct sbx_fsa_call k;
	bool file = sbx_fsa_classify(id, &k), observe = sbx_any_observer();

	if ((!file && !observe) || !sbx_below_root())
		return 0;
	if (file)
		sbx_fsaudit_enter(regs, id, &k);
	if (observe)
		sbx_syscall_observe(regs, id);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sbx_sys_exit, struct pt_regs *regs, long ret)
{
	/* most calls succeed: the compare of ret comes first */
	if ((ret != -SBX_EPERM && ret != -SBX_EACCES) || !sbx_below_root())
		return 0;
	sbx_syscall_exit(regs, ret);
	return 0;
}

/* Landlock's blind spot: executables with no place in the hierarchy
 * (bpf/lib/fsaudit.h). Runs once per exec on the host. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(sbx_exec_guard_prog, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return sbx_exec_guard(bprm);
}

/* Lets user space put sandbox start/exit events into the same streams, with
 * sequence numbers from the same counter (run with BPF_PROG_TEST_RUN). */
SEC("syscall")
int sbx_emit_user(struct sbx_emit_ctx *uctx)
{
	sbx_emit_life(uctx);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
