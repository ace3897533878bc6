// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sbx's BPF LSM programs: filesystem and exec policy. Global (not per
 * cgroup), attached only where BPF LSM works and each only where the kernel
 * has its hook (user/core/bpfload.c turns their autoload off otherwise).
 * Each hook returns an earlier LSM's refusal first, then decides through
 * lib/lsm.h, which also explains how paths are resolved.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "lsm.h"

SEC("lsm/file_open")
int BPF_PROG(sbx_file_open, struct file *file, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_file_open(file);
}

SEC("lsm/mmap_file")
int BPF_PROG(sbx_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_mmap_file(file, prot);
}

SEC("lsm/file_mprotect")
int BPF_PROG(sbx_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_file_mprotect(vma, prot);
}

SEC("lsm/bprm_check_security")
int BPF_PROG(sbx_bprm_check, struct linux_binprm *bprm, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_bprm_check(bprm);
}

/* Also O_CREAT of a regular file (may_o_create). */
SEC("lsm/path_mknod")
int BPF_PROG(sbx_path_mknod, const struct path *dir, struct dentry *dentry, umode_t mode,
	     unsigned int dev, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_dir_op(dir, dentry, false,
			      (mode & SBX_S_IFMT) == SBX_S_IFREG || !(mode & SBX_S_IFMT) ?
			      SBX_FOP_CREATE : SBX_FOP_MKNOD);
}

SEC("lsm/path_mkdir")
int BPF_PROG(sbx_path_mkdir, const struct path *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_dir_op(dir, dentry, true, SBX_FOP_MKDIR);
}

SEC("lsm/path_rmdir")
int BPF_PROG(sbx_path_rmdir, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_dir_op(dir, dentry, true, SBX_FOP_RMDIR);
}

SEC("lsm/path_unlink")
int BPF_PROG(sbx_path_unlink, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_dir_op(dir, dentry, false, SBX_FOP_UNLINK);
}

SEC("lsm/path_symlink")
int BPF_PROG(sbx_path_symlink, const struct path *dir, struct dentry *dentry,
	     const char *old_name, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_dir_op(dir, dentry, false, SBX_FOP_SYMLINK);
}

SEC("lsm/path_link")
int BPF_PROG(sbx_path_link, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_relink(NULL, old_dentry, new_dir, new_dentry, SBX_FOP_LINK, false);
}

SEC("lsm/path_rename")
int BPF_PROG(sbx_path_rename, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry, unsigned int flags, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_relink(old_dir, old_dentry, new_dir, new_dentry, SBX_FOP_RENAME,
			      flags & SBX_RENAME_EXCHANGE);
}

/* truncate(2) and O_TRUNC; ftruncate(2) needs a file opened for writing. */
SEC("lsm/path_truncate")
int BPF_PROG(sbx_path_truncate, const struct path *path, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_dir_op(path, NULL, false, SBX_FOP_TRUNCATE);
}

SEC("lsm/path_chmod")
int BPF_PROG(sbx_path_chmod, const struct path *path, umode_t mode, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_dir_op(path, NULL, sbx_is_dir(BPF_CORE_READ(path, dentry)), SBX_FOP_CHMOD);
}

SEC("lsm/path_chown")
int BPF_PROG(sbx_path_chown, const struct path *path, long uid, long gid, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_dir_op(path, NULL, sbx_is_dir(BPF_CORE_READ(path, dentry)), SBX_FOP_CHOWN);
}

SEC("lsm/sb_mount")
int BPF_PROG(sbx_sb_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_mount(path, NULL);
}

SEC("lsm/move_mount")
int BPF_PROG(sbx_move_mount, const struct path *from_path, const struct path *to_path, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_mount(to_path, NULL);
}

SEC("lsm/sb_umount")
int BPF_PROG(sbx_sb_umount, struct vfsmount *mnt, int flags, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_mount(NULL, mnt);
}

SEC("lsm/sb_pivotroot")
int BPF_PROG(sbx_sb_pivotroot, const struct path *old_path, const struct path *new_path, int ret)
{
	if (ret)
		return sbx_lsm_prev(ret);
	return sbx_lsm_mount(new_path, NULL);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
