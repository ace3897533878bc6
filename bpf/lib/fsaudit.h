/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Audit of file syscalls refused by a backend other than BPF LSM (Landlock,
 * which reports nothing to BPF itself): the path and the access asked for
 * are captured at sys_enter and reported at sys_exit when the call failed
 * with EACCES or EPERM (docs/landlock.md, "Audit").
 *
 *   sys_enter (every task on the host): the syscall number is compared
 *     first, so tasks that make no file syscall pay a few compares; then the
 *     task must be in a sandbox whose fs policy is neither mode full nor
 *     enforced by BPF LSM (sbx_fscfg flags). Only then the call is recorded
 *     in the task's local storage (one entry per thread, freed with it):
 *     nr, op, access, and the path argument as the task passed it
 *     (bpf_probe_read_user_str, at most SBX_MAX_PATH_LEN bytes).
 *   sys_exit (sbx_sys_exit in syscalls.bpf.c, for sandboxed tasks whose call
 *     failed with -EPERM/-EACCES): sbx_fsaudit_exit() finds the entry of the
 *     same syscall, disarms it and emits SBX_EV_FILE (backend landlock, rule
 *     SBX_RULE_NONE: user space can find the deciding rule with
 *     sbx_fspolicy_decide() when the path is absolute).
 *
 * An entry of a call that succeeded stays armed until the thread's next
 * file syscall overwrites it; the syscall number check at exit keeps such
 * an entry from being reported for another call. Limits: relative paths
 * are reported as given (the cwd or dirfd they are relative to is not
 * resolved), symlinks are not followed, and a refusal by DAC permissions
 * looks the same as one by Landlock (user space tells them apart with
 * sbx_fspolicy_decide for absolute paths). Syscall numbers and argument
 * registers come from lib/arch.h (x86_64 and arm64).
 */
#ifndef SBX_BPF_FSAUDIT_H
#define SBX_BPF_FSAUDIT_H

#include "common.h"
#include "arch.h"

/* how the access is found */
enum { SBX_FSA_FIXED = 0, SBX_FSA_OPEN_FLAGS, SBX_FSA_OPENAT2, SBX_FSA_UNLINKAT };

/* One observed file syscall: its operation, which argument holds the path,
 * and how the access asked for is found (fixed, or from a flags argument). */
struct sbx_fsa_call {
	int path_arg;
	int flags_arg;
	int how;
	__u32 access;
	__u16 op;
};

static __always_inline __u64 sbx_fsa_arg(struct pt_regs *regs, int i)
{
	switch (i) {
	case 0: return SBX_SC_ARG0(regs);
	case 1: return SBX_SC_ARG1(regs);
	case 2: return SBX_SC_ARG2(regs);
	default: return SBX_SC_ARG3(regs);
	}
}

static __always_inline __u32 sbx_fsa_open_access(__u64 flags)
{
	__u32 acc = 0;

	if (flags & SBX_O_PATH)
		return 0;
	if ((flags & SBX_O_ACCMODE) != SBX_O_WRONLY)
		acc |= SBX_FACC_R;
	if (flags & (SBX_O_WRONLY | SBX_O_RDWR | SBX_O_CREAT | SBX_O_TRUNC))
		acc |= SBX_FACC_W;
	return acc;
}

/* The file syscalls observed; false for every other number. The access is
 * W unless the case says otherwise. */
static __always_inline bool sbx_fsa_classify(long id, struct sbx_fsa_call *k)
{
	k->how = SBX_FSA_FIXED;
	k->flags_arg = 0;
	k->access = SBX_FACC_W;
	switch (id) {
#if SBX_ARCH_LEGACY_FS_CALLS
	case SBX_NR_open:	k->path_arg = 0; k->op = SBX_FOP_OPEN; k->how = SBX_FSA_OPEN_FLAGS; k->flags_arg = 1; break;
	case SBX_NR_creat:	k->path_arg = 0; k->op = SBX_FOP_CREATE; break;
	case SBX_NR_mkdir:	k->path_arg = 0; k->op = SBX_FOP_MKDIR; break;
	case SBX_NR_mknod:	k->path_arg = 0; k->op = SBX_FOP_MKNOD; break;
	case SBX_NR_unlink:	k->path_arg = 0; k->op = SBX_FOP_UNLINK; break;
	case SBX_NR_rmdir:	k->path_arg = 0; k->op = SBX_FOP_RMDIR; break;
	case SBX_NR_rename:	k->path_arg = 0; k->op = SBX_FOP_RENAME; break;	/* the source */
	case SBX_NR_link:	k->path_arg = 1; k->op = SBX_FOP_LINK; break;		/* the new name */
	case SBX_NR_symlink:	k->path_arg = 1; k->op = SBX_FOP_SYMLINK; break;	/* the link, not its target */
	case SBX_NR_chmod:	k->path_arg = 0; k->op = SBX_FOP_CHMOD; break;
	case SBX_NR_chown:
	case SBX_NR_lchown:	k->path_arg = 0; k->op = SBX_FOP_CHOWN; break;
#endif
	case SBX_NR_openat:	k->path_arg = 1; k->op = SBX_FOP_OPEN; k->how = SBX_FSA_OPEN_FLAGS; k->flags_arg = 2; break;
	case SBX_NR_openat2:	k->path_arg = 1; k->op = SBX_FOP_OPEN; k->how = SBX_FSA_OPENAT2; k->flags_arg = 2; break;
	case SBX_NR_execve:	k->path_arg = 0; k->op = SBX_FOP_EXEC; k->access = SBX_FACC_X; break;
	case SBX_NR_execveat:	k->path_arg = 1; k->op = SBX_FOP_EXEC; k->access = SBX_FACC_X; break;
	case SBX_NR_mkdirat:	k->path_arg = 1; k->op = SBX_FOP_MKDIR; break;
	case SBX_NR_mknodat:	k->path_arg = 1; k->op = SBX_FOP_MKNOD; break;
	case SBX_NR_unlinkat:	k->path_arg = 1; k->op = SBX_FOP_UNLINK; k->how = SBX_FSA_UNLINKAT; k->flags_arg = 2; break;
	case SBX_NR_renameat:
	case SBX_NR_renameat2:	k->path_arg = 1; k->op = SBX_FOP_RENAME; break;
	case SBX_NR_linkat:	k->path_arg = 3; k->op = SBX_FOP_LINK; break;
	case SBX_NR_symlinkat:	k->path_arg = 2; k->op = SBX_FOP_SYMLINK; break;
	case SBX_NR_truncate:	k->path_arg = 0; k->op = SBX_FOP_TRUNCATE; break;
	case SBX_NR_fchmodat:
	case SBX_NR_fchmodat2:	k->path_arg = 1; k->op = SBX_FOP_CHMOD; break;
	case SBX_NR_fchownat:	k->path_arg = 1; k->op = SBX_FOP_CHOWN; break;
	default:
		return false;
	}
	return true;
}

/* The access asked for, from the call's flags where they say it. */
static __always_inline void sbx_fsa_access(struct pt_regs *regs, struct sbx_fsa_call *k)
{
	if (k->how == SBX_FSA_OPEN_FLAGS) {
		k->access = sbx_fsa_open_access(sbx_fsa_arg(regs, k->flags_arg));
	} else if (k->how == SBX_FSA_OPENAT2) {
		__u64 flags = 0;	/* struct open_how starts with __u64 flags */

		bpf_probe_read_user(&flags, sizeof(flags), (void *)sbx_fsa_arg(regs, k->flags_arg));
		k->access = sbx_fsa_open_access(flags);
	} else if (k->how == SBX_FSA_UNLINKAT && (sbx_fsa_arg(regs, k->flags_arg) & SBX_AT_REMOVEDIR)) {
		k->op = SBX_FOP_RMDIR;
	}
}

/* Observe mode under Landlock (sbx run --observe): no ruleset is applied, so
 * the path the workload passed is judged here, at sys_enter, against the
 * same fs rules the LSM hooks use (sbx_paths, sbx_execs, sbx_fs_grant's
 * rule), and a refusal is reported as a would-denial (backend landlock) while
 * the call goes on. Only absolute paths can be judged: a relative one (to
 * the cwd or a dirfd) is not reported, nor are symlinks followed
 * (docs/learn.md lists what is missed). */
static __always_inline void sbx_fsobserve(struct sbx_ctx *c, struct sbx_fs_cfg *fc,
					  struct pt_regs *regs, struct sbx_fsa_call *k)
{
	struct sbx_path_rule *r, *x;
	struct sbx_lsm_scratch *s;
	struct sbx_fsa_entry *e;
	__u32 zero = 0, allowed, rule;
	__u64 gen;
	long n;

	s = bpf_map_lookup_elem(&sbx_lsm_scratch, &zero);
	if (!s)
		return;
	gen = ++s->gen;
	n = bpf_probe_read_user_str(s->key.path, sizeof(s->key.path),
				    (void *)sbx_fsa_arg(regs, k->path_arg));
	if (n < 2 || n >= (long)sizeof(s->key.path) || s->key.path[0] != '/')
		return;
	sbx_fsa_access(regs, k);
	s->key.prefixlen = 32 + 8 * (__u32)n;	/* the path and its NUL */
	s->key.policy_id = bpf_htonl(c->policy_id);
	r = bpf_map_lookup_elem(&sbx_paths, &s->key);
	allowed = r ? r->access : fc->mode_access;
	rule = r ? r->rule : SBX_RULE_DEFAULT;
	if (fc->flags & SBX_FSF_EXEC_LIST) {
		x = bpf_map_lookup_elem(&sbx_execs, &s->key);
		allowed &= ~SBX_FACC_X;
		if (x)
			allowed |= SBX_FACC_X;
		if (x && !r && (k->access & SBX_FACC_X))
			rule = x->rule;
	}
	if (!(k->access & ~allowed) || s->gen != gen)
		return;
	__u8 verdict = sbx_observe(c, SBX_VERDICT_DENY);

	e = bpf_task_storage_get(&sbx_fsaudit, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!e || !sbx_audit_wants(c, verdict))
		return;
	e->armed = 0;
	bpf_probe_read_kernel_str(e->ev.path, sizeof(e->ev.path), s->key.path);
	if (s->gen != gen)
		return;	/* scratch reused under us: the path is not ours */
	sbx_hdr_fill(&e->ev.hdr, c, SBX_EV_FILE, sizeof(e->ev));
	e->ev.verdict = verdict;
	e->ev.backend = SBX_FSB_LANDLOCK;
	e->ev.op = k->op;
	e->ev.access = k->access;
	e->ev.rule = rule;
	e->ev.error = SBX_EACCES;	/* what Landlock would have returned */
	sbx_emit(c, &e->ev, sizeof(e->ev));
}

/* sys_enter: records file syscall id, which sbx_fsa_classify() filled k
 * for (sys_enter compares the number before anything else: it runs for
 * every syscall of every task), of a sandboxed task whose fs policy another
 * backend enforces. */
static __always_inline void sbx_fsaudit_enter(struct pt_regs *regs, long id, struct sbx_fsa_call *call)
{
	struct sbx_fsa_call k = *call;
	struct sbx_fsa_entry *e;
	struct sbx_fs_cfg *fc;
	struct sbx_ctx c;

	if (!sbx_ctx_current(&c))
		return;
	fc = bpf_map_lookup_elem(&sbx_fscfg, &c.policy_id);
	if (!fc || (fc->flags & (SBX_FSF_ENFORCE | SBX_FSF_FULL)))
		return;	/* BPF LSM reports its own decisions; mode full refuses nothing */
	if (sbx_observing(&c)) {
		/* the workload's calls only: sbx's own setup is not judged */
		if (sbx_task_is_workload())
			sbx_fsobserve(&c, fc, regs, &k);
		return;
	}
	e = bpf_task_storage_get(&sbx_fsaudit, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!e)
		return;
	sbx_fsa_access(regs, &k);
	e->nr = (__u32)id;
	e->ev.op = k.op;
	e->ev.access = k.access;
	if (bpf_probe_read_user_str(e->ev.path, sizeof(e->ev.path),
				    (void *)sbx_fsa_arg(regs, k.path_arg)) < 0)
		e->ev.path[0] = 0;
	e->armed = 1;
}

/* Called at sys_exit for sandboxed tasks whose syscall failed with -EPERM or
 * -EACCES; returns true when it reported the failure (as SBX_EV_FILE), or
 * when it was a file syscall refused with audit level "none". */
static __always_inline bool sbx_fsaudit_exit(struct sbx_ctx *c, struct pt_regs *regs, long ret)
{
	struct sbx_syscall_set *set;
	struct sbx_fsa_entry *e;
	__u64 nr;

	e = bpf_task_storage_get(&sbx_fsaudit, bpf_get_current_task_btf(), 0, 0);
	if (!e || !e->armed)
		return false;
	e->armed = 0;
	nr = SBX_SC_NR(regs);
	if (e->nr != nr)
		return false;
	/* a call the seccomp filter refuses is the syscall audit's (EPERM) */
	if (ret == -SBX_EPERM) {
		set = bpf_map_lookup_elem(&sbx_syscalls, &c->policy_id);
		if (set && nr < SBX_SYSCALL_WORDS * 64 &&
		    (set->bits[(nr / 64) & (SBX_SYSCALL_WORDS - 1)] & (1ULL << (nr % 64))))
			return false;
	}
	if (!sbx_audit_wants(c, SBX_VERDICT_DENY))
		return true;
	sbx_hdr_fill(&e->ev.hdr, c, SBX_EV_FILE, sizeof(e->ev));
	e->ev.verdict = SBX_VERDICT_DENY;
	e->ev.backend = SBX_FSB_LANDLOCK;
	e->ev.rule = SBX_RULE_NONE;
	e->ev.error = (__s32)-ret;
	sbx_emit(c, &e->ev, sizeof(e->ev));
	return true;
}

/*
 * The exec guard of sandboxes whose fs policy Landlock enforces. Landlock
 * judges a file by its place in the hierarchy, and files of the kernel's
 * internal mounts have none: a memfd, SysV or shared anonymous memory, a
 * hugetlbfs memfd. It lets them be executed whatever the rules say. Where the
 * policy restricts exec (an exec list, or a mode without x), the seccomp
 * filter refuses making such files and executing by descriptor
 * (user/kernel/seccomp.c, sbx_exec_guard_needed()); what remains (a memfd
 * received over a unix socket or inherited, run through /proc/self/fd) is
 * caught here. So is the ELF interpreter run as a program ("ld.so FILE"):
 * Landlock must let it be executed, as the kernel opens it for every dynamic
 * program, and then it maps and runs any file it can read, which Landlock
 * does not check (mmap(PROT_EXEC)). User space names the interpreters of the
 * policy by inode in sbx_loaders (user/core/sandbox.c); an exec whose main
 * file (bprm->file) is one of them is refused, whatever path, symlink or hard
 * link reached it, while a dynamic program, whose interpreter binfmt_elf maps
 * beside it, runs. sched_process_exec runs after the point of no return,
 * before the new program's first instruction: SIGKILL is delivered on the
 * way back to user space, so the program never runs. BPF LSM refuses the
 * same execs before they start, and judges what ld.so maps (bpf/lib/lsm.h),
 * so its sandboxes are left to it. One SBX_EV_FILE (op exec, access x, error
 * EACCES, rule SBX_RULE_EXEC_GUARD, path ".../memfd:<name>" or the
 * interpreter's path) records the refusal.
 */
static __always_inline void sbx_exec_guard_kill(struct sbx_ctx *c, struct dentry *d,
						struct sbx_loader *l)
{
	struct sbx_fsa_entry *e;
	char *p;

	bpf_send_signal(SBX_SIGKILL);
	e = bpf_task_storage_get(&sbx_fsaudit, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!e || !sbx_audit_wants(c, SBX_VERDICT_DENY))
		return;
	e->armed = 0;
	sbx_hdr_fill(&e->ev.hdr, c, SBX_EV_FILE, sizeof(e->ev));
	e->ev.verdict = SBX_VERDICT_DENY;
	e->ev.backend = SBX_FSB_LANDLOCK;
	e->ev.op = SBX_FOP_EXEC;
	e->ev.access = SBX_FACC_X;
	e->ev.rule = SBX_RULE_EXEC_GUARD;
	e->ev.error = SBX_EACCES;
	p = e->ev.path;
	if (l) {
		bpf_probe_read_kernel_str(p, sizeof(e->ev.path), l->path);
	} else {
		p[0] = '.'; p[1] = '.'; p[2] = '.'; p[3] = '/';
		bpf_probe_read_kernel_str(p + 4, sizeof(e->ev.path) - 4, BPF_CORE_READ(d, d_name.name));
	}
	sbx_emit(c, &e->ev, sizeof(e->ev));
}

/* The entry of sbx_loaders naming f for the sandbox's policy, or NULL. */
static __always_inline struct sbx_loader *sbx_exec_loader(struct sbx_ctx *c, struct file *f)
{
	struct sbx_loader_key k = { .policy_id = c->policy_id };
	struct inode *i = BPF_CORE_READ(f, f_inode);

	k.dev = BPF_CORE_READ(i, i_sb, s_dev);
	k.ino = BPF_CORE_READ(i, i_ino);
	return bpf_map_lookup_elem(&sbx_loaders, &k);
}

static __always_inline int sbx_exec_guard(struct linux_binprm *bprm)
{
	struct sbx_loader *l = NULL;
	struct sbx_fs_cfg *fc;
	struct dentry *d;
	struct sbx_ctx c;
	struct file *f;

	if (!sbx_ctx_current(&c) || !sbx_task_is_workload())
		return 0;
	fc = bpf_map_lookup_elem(&sbx_fscfg, &c.policy_id);
	if (!fc || (fc->flags & (SBX_FSF_ENFORCE | SBX_FSF_FULL)))
		return 0;
	if (!(fc->flags & SBX_FSF_EXEC_LIST) && (fc->mode_access & SBX_FACC_X))
		return 0;
	if (sbx_observing(&c))
		return 0;	/* observe: no Landlock ruleset, nothing to guard */
	f = BPF_CORE_READ(bprm, file);
	d = BPF_CORE_READ(f, f_path.dentry);
	if (!d)
		return 0;
	if (!(BPF_CORE_READ(d, d_sb, s_flags) & SBX_SB_KERNMOUNT) && !(l = sbx_exec_loader(&c, f)))
		return 0;
	sbx_exec_guard_kill(&c, d, l);
	return 0;
}

#endif
