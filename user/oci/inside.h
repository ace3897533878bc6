/* SPDX-License-Identifier: MIT */
/*
 * The helpers of the code that runs inside a new container (rootfs.c,
 * inroot.c, seccomp.c, proc.c), declared here for those files and for their
 * unit tests (tests/unit/test_oci_rootfs.c). The interface of the parts is
 * oci.h; nothing here reads config.json.
 */
#ifndef SBX_OCI_INSIDE_H
#define SBX_OCI_INSIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "oci/oci.h"

/* ---- inroot.c: paths resolved inside the container's root -------------- */

#define OCI_INROOT_MKDIR 0x1	/* missing components are made as directories (0755) */
#define OCI_INROOT_MKFILE 0x2	/* with MKDIR: a missing last component is made an empty file */

/*
 * Opens path (absolute or not: both are taken from the root) inside the
 * directory rootfd as the container will see it, one component at a time
 * with O_PATH|O_NOFOLLOW: a symlink is followed by hand, an absolute target
 * from rootfd, a relative one from the link's directory, so that no link
 * leads out of the root. A ".." that would climb above the root (in path or
 * in a link's target) is refused with -EXDEV, more than 40 links with
 * -ELOOP; the kernel would have stopped such a ".." at the container's root,
 * but a hostile mount target is an error here, not a guess. Returns an
 * O_PATH descriptor (mount it through /proc/self/fd/N) and, in ret_path
 * (may be NULL), the path inside the root that it names, without links or
 * dots ("/" for the root itself).
 */
int oci_inroot_open(int rootfd, const char *path, int flags, char *ret_path, size_t ret_len);

/* The words for oci_inroot_open's own refusals, else strerror(-err). */
const char *oci_inroot_error(int err);

/* ---- rootfs.c ----------------------------------------------------------- */

/* A bind mount: "bind"/"rbind" in its options (MS_BIND), or type "bind"
 * (which runc takes as one too). */
bool oci_mount_is_bind(const struct oci_mount *m);

/* Whether the spec asks for a namespace of this CLONE_NEW* type (rootfs.c
 * does not call spec.c). */
bool oci_has_namespace(const struct oci_spec *s, int type);

/* Whether linux.sysctl's key may be written in the container's namespaces
 * (the runtime-spec's and runc's rules, rootfs.c); 0 or -EINVAL with why. */
int oci_sysctl_check(const struct oci_spec *s, const char *key, char *why, size_t len);

/* The MS_* flags of statfs's f_flags (ST_*) that a bind remount must keep
 * (nosuid, nodev, noexec, rdonly and the atime ones). */
unsigned long oci_statfs_mount_flags(unsigned long f_flags);

/* Whether a mount may go to dest (a path inside the root without links or
 * dots, as oci_inroot_open gives it): below /proc only proc at /proc itself
 * and binds over the few files that lxcfs-style tools replace. */
bool oci_proc_dest_allowed(const char *dest, const char *type, bool bind);

/* ---- devices.c ---------------------------------------------------------- */

/* Before the pivot, unless a bind mount provides /dev: linux.devices and the
 * default ones (null, zero, full, random, urandom, tty; a spec device of the
 * same path wins), mknod'ed, or where mknod is not permitted (a user
 * namespace) an empty file with the host's node bound on it; then the
 * /dev/fd, stdin, stdout, stderr links and /dev/ptmx -> pts/ptmx. */
int oci_rootfs_devices(const struct oci_spec *s, int rootfd, char *why, size_t len);

/* ---- seccomp.c ---------------------------------------------------------- */

/* runc's rule for a syscall's args: when two args name the same index,
 * each arg becomes a rule of its own (they are ORed); else all args are one
 * rule (ANDed). True for the first case. */
bool oci_seccomp_args_split(const struct oci_seccomp_arg *args, size_t n);

/* ---- proc.c ------------------------------------------------------------- */

/* The value of NAME in a NULL-terminated "K=V" list, or NULL. */
const char *oci_env_get(char *const *env, const char *name);

#endif
