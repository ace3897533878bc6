/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* BPF LSM filesystem and exec policy: the logic behind the lsm/ programs of
 * lsm.bpf.c. Loaded only where BPF LSM works (user space disables their
 * autoload otherwise).
 *
 * Every hook: not a sandbox, or its fs policy not enforced here (no
 * SBX_FSF_ENFORCE, or mode full) -> 0. Otherwise the object's path, as the
 * sandbox sees it (resolved against the task's root), is looked up in
 * sbx_paths (and sbx_execs for execution) exactly as sbx_fspolicy_decide()
 * does; a refusal returns -EACCES (-EPERM for mounts) and emits one
 * SBX_EV_FILE. Directories are looked up with a trailing '/', so a rule
 * "/etc/ssl/" covers the directory itself as well as everything below it.
 * docs/security.md has the threat model and the list of closed bypasses.
 *
 * Paths: bpf_d_path() where the kernel allows it (file_open, mmap_file,
 * bprm_check_security: hooks in its sleepable set on 6.1 and 6.12); on the
 * other hooks (path_*, file_mprotect, mounts) sbx_walk() follows d_parent
 * and the mount tree up to the task's root, like d_path() does.
 */
#ifndef SBX_BPF_LSM_H
#define SBX_BPF_LSM_H

#include "common.h"
#include "arch.h"

#define SBX_FMODE_READ		0x1u
#define SBX_FMODE_WRITE		0x2u
#define SBX_FMODE_EXEC		0x20u	/* f_mode FMODE_EXEC, f_flags __FMODE_EXEC */
#define SBX_S_IFMT		0170000
#define SBX_S_IFDIR		0040000
#define SBX_S_IFREG		0100000
#define SBX_PROT_EXEC		0x4u
#define SBX_VM_EXEC		0x4u
#define SBX_RENAME_EXCHANGE	(1u << 1)

/* v & SBX_PATH_MASK, kept even where clang can prove v small: the verifier
 * may not, after clang's 32-bit sign juggling. */
static __always_inline __u64 sbx_idx(__s64 v)
{
	__u64 i = v;

	asm volatile("%[i] &= %[m]" : [i] "+r"(i) : [m] "i"(SBX_PATH_MASK));
	return i;
}

/* Components plus mount crossings followed by sbx_walk(); deeper is "too long". */
#define SBX_WALK_MAX		128

/* One decision in progress. */
struct sbx_fsq {
	struct sbx_ctx c;
	struct sbx_fs_cfg *cfg;
	struct sbx_lsm_scratch *s;
	__u64 gen;
	__s32 len;		/* bytes of the path in s->key.path, < 0: unusable */
	__u32 rule;		/* deciding rule of the last sbx_fs_grant() */
};

/* The sandbox and its enforced fs policy; false = not ours to judge. */
static __always_inline bool sbx_fsq_init(struct sbx_fsq *q)
{
	__u32 zero = 0;

	if (!sbx_ctx_current(&q->c) || !sbx_task_is_workload())
		return false;
	q->cfg = bpf_map_lookup_elem(&sbx_fscfg, &q->c.policy_id);
	if (!q->cfg || !(q->cfg->flags & SBX_FSF_ENFORCE) || (q->cfg->flags & SBX_FSF_FULL))
		return false;
	q->s = bpf_map_lookup_elem(&sbx_lsm_scratch, &zero);
	if (!q->s)
		return false;
	q->gen = ++q->s->gen;
	q->len = -SBX_ENAMETOOLONG;
	return true;
}

static __always_inline bool sbx_is_dir(struct dentry *d)
{
	return (BPF_CORE_READ(d, d_inode, i_mode) & SBX_S_IFMT) == SBX_S_IFDIR;
}

/* Files with no place in any mount tree a task can see: memfd, hugetlbfs
 * memfd, pipes, sockets, anon inodes. */
static __always_inline bool sbx_is_pseudo(struct dentry *d)
{
	return BPF_CORE_READ(d, d_sb, s_flags) & SBX_SB_KERNMOUNT;
}

/* ---- path resolution ---------------------------------------------------- */

struct sbx_walk {
	__u64 d, vm, root_d, root_vm;
	__s32 len;		/* pass 1: bytes counted; pass 2: write position */
	__u32 write;
	__u32 done;
	__s32 err;
};

static __always_inline struct mount *sbx_real_mount(__u64 vm)
{
	return (struct mount *)(vm - bpf_core_field_offset(struct mount, mnt));
}

/* One step from w->d towards the task's root: up a dentry (emitting its
 * name) or across a mount. Returns 1 to stop. */
static long sbx_walk_step(__u32 i, void *ctx)
{
	struct sbx_walk *w = ctx;
	struct dentry *d = (struct dentry *)w->d, *parent;
	struct vfsmount *vm = (struct vfsmount *)w->vm;
	struct mount *m = sbx_real_mount(w->vm);
	struct sbx_lsm_scratch *s;
	const unsigned char *name;
	__u32 zero = 0, n;

	if (w->d == w->root_d && w->vm == w->root_vm)
		goto done;
	if (d == BPF_CORE_READ(vm, mnt_root)) {
		struct mount *p = BPF_CORE_READ(m, mnt_parent);

		if (p == m)
			goto done;	/* root of the namespace: outside the task's root */
		w->d = (__u64)BPF_CORE_READ(m, mnt_mountpoint);
		w->vm = (__u64)p + bpf_core_field_offset(struct mount, mnt);
		return 0;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (!parent || parent == d)
		goto done;	/* disconnected */
	n = BPF_CORE_READ(d, d_name.len);
	name = BPF_CORE_READ(d, d_name.name);
	w->d = (__u64)parent;
	if (!w->write) {
		w->len += n + 1;
		if (w->len > SBX_MAX_PATH_LEN - 1) {
			w->err = -SBX_ENAMETOOLONG;
			return 1;
		}
		return 0;
	}
	w->len -= n + 1;
	s = bpf_map_lookup_elem(&sbx_lsm_scratch, &zero);
	if (!s || w->len < 0 || n > SBX_MAX_PATH_LEN - 1) {
		w->err = -SBX_EAGAIN;	/* the tree changed between the passes */
		return 1;
	}
	s->key.path[sbx_idx(w->len)] = '/';
	bpf_probe_read_kernel(&s->key.path[sbx_idx(w->len + 1)],
			      sbx_idx(n), name);
	return 0;
done:
	w->done = 1;
	return 1;
}

/* The path of (vfsmount, dentry) as the current task sees it, written to
 * q->s->key.path without NUL: two passes, lengths first, then the names
 * right to left. Returns its length (0 for the root) or -errno. */
static __always_inline int sbx_walk(struct sbx_fsq *q, struct vfsmount *vm, struct dentry *d)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct sbx_walk w = {
		.d = (__u64)d, .vm = (__u64)vm,
		.root_d = (__u64)BPF_CORE_READ(t, fs, root.dentry),
		.root_vm = (__u64)BPF_CORE_READ(t, fs, root.mnt),
	};
	__s32 total;

	bpf_loop(SBX_WALK_MAX, sbx_walk_step, &w, 0);
	if (w.err || !w.done)
		return w.err ? w.err : -SBX_ENAMETOOLONG;
	total = w.len;
	w.d = (__u64)d;
	w.vm = (__u64)vm;
	w.len = total;
	w.write = 1;
	w.done = 0;
	bpf_loop(SBX_WALK_MAX, sbx_walk_step, &w, 0);
	if (w.err || !w.done || w.len != 0)
		return -SBX_EAGAIN;
	return total;
}

/* Appends "/" and, when name is set, the name: the child of a directory. */
static __always_inline int sbx_path_append(struct sbx_fsq *q, int len, const struct qstr *name)
{
	__u32 n = name ? BPF_CORE_READ(name, len) : 0;

	if (len < 0)
		return len;
	if (len + 1 + n > SBX_MAX_PATH_LEN - 1)
		return -SBX_ENAMETOOLONG;
	q->s->key.path[sbx_idx(len)] = '/';
	if (n)
		bpf_probe_read_kernel(&q->s->key.path[sbx_idx(len + 1)],
				      sbx_idx(n), BPF_CORE_READ(name, name));
	return len + 1 + n;
}

/* Terminates the path as a lookup key; directories get their trailing '/'
 * (the root already is "/"). */
static __always_inline void sbx_key_finish(struct sbx_fsq *q, int len, bool dir)
{
	if (len >= 0 && dir && !(len == 1 && q->s->key.path[0] == '/')) {
		if (len && q->s->key.path[sbx_idx(len - 1)] == '/')
			;	/* already ends with '/' */
		else
			len = sbx_path_append(q, len, NULL);
	}
	if (len == 0)		/* sbx_walk() of the root */
		len = sbx_path_append(q, 0, NULL);
	if (len > SBX_MAX_PATH_LEN - 1)
		len = -SBX_ENAMETOOLONG;
	q->len = len;
	if (len < 0)
		return;
	q->s->key.path[sbx_idx(len)] = 0;
	q->s->key.prefixlen = 32 + 8 * (len + 1);
	q->s->key.policy_id = bpf_htonl(q->c.policy_id);
}

/* The path an event shows when the real one was unusable: ".../<name>". */
static __always_inline void sbx_key_leaf(struct sbx_fsq *q, struct dentry *d)
{
	char *p = q->s->key.path;

	p[0] = '.'; p[1] = '.'; p[2] = '.'; p[3] = '/'; p[4] = 0;
	if (d)
		bpf_probe_read_kernel_str(p + 4, SBX_MAX_PATH_LEN - 4, BPF_CORE_READ(d, d_name.name));
}

/* Key of a file's path through bpf_d_path (only where the hook allows it). */
static __always_inline void sbx_key_d_path(struct sbx_fsq *q, struct file *f)
{
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	long n = bpf_d_path((struct path *)&f->f_path, q->s->key.path, SBX_MAX_PATH_LEN);

	sbx_key_finish(q, n > 0 ? n - 1 : -SBX_ENAMETOOLONG, sbx_is_dir(d));
	if (q->len < 0)
		sbx_key_leaf(q, d);
}

/* Key of (vm, d) itself, or of its child dentry when child is set. */
static __always_inline void sbx_key_walk(struct sbx_fsq *q, struct vfsmount *vm, struct dentry *d,
					 struct dentry *child, bool dir)
{
	int len = sbx_walk(q, vm, d);

	if (child)
		len = sbx_path_append(q, len, &child->d_name);
	sbx_key_finish(q, len, dir);
	if (q->len < 0)
		sbx_key_leaf(q, child ? child : d);
}

/* ---- decision ----------------------------------------------------------- */

/* What the policy grants the path in the key (SBX_FACC_*), as
 * sbx_fspolicy_decide(): the longest rule or the mode; with an exec list,
 * X only from the list. q->rule gets the deciding rule for `want`. */
static __always_inline __u32 sbx_fs_grant(struct sbx_fsq *q, __u32 want)
{
	struct sbx_path_rule *r, *x = NULL;
	__u32 allowed;

	if (q->len < 0) {
		q->rule = SBX_RULE_NONE;
		return 0;	/* too long or unresolvable: fail closed */
	}
	r = bpf_map_lookup_elem(&sbx_paths, &q->s->key);
	allowed = r ? r->access : q->cfg->mode_access;
	q->rule = r ? r->rule : SBX_RULE_DEFAULT;
	if (q->cfg->flags & SBX_FSF_EXEC_LIST) {
		x = bpf_map_lookup_elem(&sbx_execs, &q->s->key);
		allowed &= ~SBX_FACC_X;
		if (x)
			allowed |= SBX_FACC_X;
		if (x && !r && (want & SBX_FACC_X))
			q->rule = x->rule;
	}
	if (q->s->gen != q->gen) {
		q->rule = SBX_RULE_NONE;
		return 0;	/* scratch reused under us: the key is not ours */
	}
	return allowed;
}

/* Audits a decision (err: the errno of a refusal, 0 for an allow) and
 * returns what the hook returns: -err, or 0 when observe mode lets the
 * refusal through (sbx_observe). */
static __always_inline int sbx_fs_emit(struct sbx_fsq *q, __u16 op, __u32 access, int err)
{
	__u8 verdict = sbx_observe(&q->c, err ? SBX_VERDICT_DENY : SBX_VERDICT_ALLOW);
	struct sbx_ev_file *ev = &q->s->ev;
	/* constants: 6.12's verifier wants LSM returns it can bound */
	int ret = verdict != SBX_VERDICT_DENY ? 0 : err == SBX_EPERM ? -SBX_EPERM : -SBX_EACCES;

	if (!sbx_audit_wants(&q->c, verdict))
		return ret;
	sbx_hdr_fill(&ev->hdr, &q->c, SBX_EV_FILE, sizeof(*ev));
	ev->verdict = verdict;
	ev->backend = SBX_FSB_BPF_LSM;
	ev->op = op;
	ev->access = access;
	ev->rule = q->rule;
	ev->error = err;
	q->s->key.path[SBX_MAX_PATH_LEN - 1] = 0;
	bpf_probe_read_kernel_str(ev->path, sizeof(ev->path), q->s->key.path);
	sbx_emit(&q->c, ev, sizeof(*ev));
	return ret;
}

/* Decides `want` on the path in the key, audits, returns 0 or -EACCES. */
static __always_inline int sbx_fs_check(struct sbx_fsq *q, __u16 op, __u32 want)
{
	__u32 allowed = sbx_fs_grant(q, want);

	return sbx_fs_emit(q, op, want, (want & ~allowed) ? SBX_EACCES : 0);
}

/* Executing something that has no path (memfd, fileless): only without an
 * exec list and when the mode grants execution. */
static __always_inline int sbx_fs_pseudo_exec(struct sbx_fsq *q, struct dentry *d, __u16 op)
{
	bool deny = (q->cfg->flags & SBX_FSF_EXEC_LIST) || !(q->cfg->mode_access & SBX_FACC_X);

	q->rule = (q->cfg->flags & SBX_FSF_EXEC_LIST) ? SBX_RULE_NONE : SBX_RULE_DEFAULT;
	q->len = -SBX_ENAMETOOLONG;
	sbx_key_leaf(q, d);
	return sbx_fs_emit(q, op, SBX_FACC_X, deny ? SBX_EACCES : 0);
}

/* ---- hooks -------------------------------------------------------------- */

/* An earlier BPF LSM program's refusal, returned as it is; the range check
 * only lets the verifier of 6.12 (LSM return values in [-4095, 0]) see it. */
static __always_inline int sbx_lsm_prev(int ret)
{
	if (ret >= -4095 && ret < 0)
		return ret;
	return -SBX_EPERM;
}

static __always_inline int sbx_lsm_file_open(struct file *f)
{
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	__u32 fmode = BPF_CORE_READ(f, f_mode), want = 0;
	bool exec = (fmode & SBX_FMODE_EXEC) || (BPF_CORE_READ(f, f_flags) & SBX_FMODE_EXEC);
	struct sbx_fsq q = {};

	if (!sbx_fsq_init(&q))
		return 0;
	if (fmode & SBX_FMODE_READ)
		want |= SBX_FACC_R;
	if (fmode & SBX_FMODE_WRITE)
		want |= SBX_FACC_W;
	if (exec)
		want |= SBX_FACC_X;
	if (sbx_is_pseudo(d)) {
		/* re-opening a pipe or memfd through /proc/self/fd is no file
		 * access; executing it is judged like any fileless exec */
		return exec ? sbx_fs_pseudo_exec(&q, d, SBX_FOP_EXEC) : 0;
	}
	sbx_key_d_path(&q, f);
	return sbx_fs_check(&q, exec ? SBX_FOP_EXEC : SBX_FOP_OPEN, want);
}

/* PROT_EXEC mappings of files: ld.so loading a program, dlopen of a memfd. */
static __always_inline int sbx_lsm_mmap_file(struct file *f, unsigned long prot)
{
	struct sbx_fsq q = {};
	struct dentry *d;

	if (!f || !(prot & SBX_PROT_EXEC) || !sbx_fsq_init(&q))
		return 0;
	d = BPF_CORE_READ(f, f_path.dentry);
	if (sbx_is_pseudo(d))
		return sbx_fs_pseudo_exec(&q, d, SBX_FOP_MMAP_EXEC);
	sbx_key_d_path(&q, f);
	return sbx_fs_check(&q, SBX_FOP_MMAP_EXEC, SBX_FACC_X);
}

/* Making an existing file mapping executable. */
static __always_inline int sbx_lsm_file_mprotect(struct vm_area_struct *vma, unsigned long prot)
{
	struct file *f = BPF_CORE_READ(vma, vm_file);
	struct sbx_fsq q = {};
	struct dentry *d;

	if (!f || !(prot & SBX_PROT_EXEC) || (BPF_CORE_READ(vma, vm_flags) & SBX_VM_EXEC))
		return 0;
	if (!sbx_fsq_init(&q))
		return 0;
	d = BPF_CORE_READ(f, f_path.dentry);
	if (sbx_is_pseudo(d))
		return sbx_fs_pseudo_exec(&q, d, SBX_FOP_MMAP_EXEC);
	sbx_key_walk(&q, BPF_CORE_READ(f, f_path.mnt), d, NULL, false);
	return sbx_fs_check(&q, SBX_FOP_MMAP_EXEC, SBX_FACC_X);
}

/* Each binfmt round: the program, then a script's interpreter. The open of
 * the file (FMODE_EXEC) was judged by file_open already; this is the exec
 * allow-list itself, on the file the kernel is about to run. */
static __always_inline int sbx_lsm_bprm_check(struct linux_binprm *bprm)
{
	struct file *f = bprm->file;
	struct sbx_fsq q = {};
	struct dentry *d;
	__u32 allowed;

	if (!f || !sbx_fsq_init(&q))
		return 0;
	d = BPF_CORE_READ(f, f_path.dentry);
	if (sbx_is_pseudo(d))
		return sbx_fs_pseudo_exec(&q, d, SBX_FOP_EXEC);
	sbx_key_d_path(&q, f);
	allowed = sbx_fs_grant(&q, SBX_FACC_X);
	if (allowed & SBX_FACC_X) {
		/* allowed: file_open audited it already */
		return 0;
	}
	return sbx_fs_emit(&q, SBX_FOP_EXEC, SBX_FACC_X, SBX_EACCES);
}

/* Creating, deleting, chmod/chown, truncate: W on the object's path. */
static __always_inline int sbx_lsm_dir_op(const struct path *dir, struct dentry *child,
					  bool is_dir, __u16 op)
{
	struct sbx_fsq q = {};

	if (!sbx_fsq_init(&q))
		return 0;
	sbx_key_walk(&q, BPF_CORE_READ(dir, mnt), BPF_CORE_READ(dir, dentry), child, is_dir);
	return sbx_fs_check(&q, op, SBX_FACC_W);
}

/* A new name for an existing inode (link, rename) must not grant more than
 * its old name did, so a denied file cannot be given an allowed path. The
 * source also needs W for rename (it loses a name). Directories are not
 * moved: rules below them would stop applying (docs/security.md). */
static __always_inline int sbx_lsm_relink(const struct path *old_dir, struct dentry *old,
					  const struct path *new_dir, struct dentry *new,
					  __u16 op, bool exchange)
{
	__u32 g_new, g_old, need_old = op == SBX_FOP_RENAME ? SBX_FACC_W : 0;
	struct vfsmount *vm = BPF_CORE_READ(new_dir, mnt);	/* both ends: one mount */
	bool dir = sbx_is_dir(old);
	struct sbx_fsq q = {};

	if (!sbx_fsq_init(&q))
		return 0;
	sbx_key_walk(&q, vm, BPF_CORE_READ(new_dir, dentry), new, dir);
	g_new = sbx_fs_grant(&q, SBX_FACC_W);
	if (!(g_new & SBX_FACC_W))
		return sbx_fs_emit(&q, op, SBX_FACC_W, SBX_EACCES);
	if (old_dir)
		sbx_key_walk(&q, vm, BPF_CORE_READ(old_dir, dentry), old, dir);
	else			/* link: the source lives on the same mount */
		sbx_key_walk(&q, vm, old, NULL, dir);
	g_old = sbx_fs_grant(&q, need_old | g_new);
	if ((need_old & ~g_old) || (g_new & ~g_old) || (exchange && g_old != g_new) || dir) {
		if (dir)
			q.rule = SBX_RULE_NONE;
		return sbx_fs_emit(&q, op, need_old | (g_new & ~g_old) | (dir ? SBX_FACC_W : 0),
				   SBX_EACCES);
	}
	return sbx_fs_emit(&q, op, need_old | g_new, 0);
}

/* Mounts change what paths mean: refused outright (EPERM). */
static __always_inline int sbx_lsm_mount(const struct path *p, struct vfsmount *vm)
{
	struct sbx_fsq q = {};

	if (!sbx_fsq_init(&q))
		return 0;
	if (p)
		sbx_key_walk(&q, BPF_CORE_READ(p, mnt), BPF_CORE_READ(p, dentry), NULL, true);
	else
		sbx_key_walk(&q, vm, BPF_CORE_READ(vm, mnt_root), NULL, true);
	q.rule = SBX_RULE_NONE;
	return sbx_fs_emit(&q, SBX_FOP_MOUNT, SBX_FACC_W, SBX_EPERM);
}

#endif
