/* SPDX-License-Identifier: MIT */
/*
 * The process provider's filesystem view, built by the sandbox's init in its
 * own mount namespace, from the filesystem plan (core/fsplan.h): a tmpfs root
 * holding the plan's base view (read-only binds of /usr and the /bin, /sbin,
 * /lib* links or dirs, a minimal /etc; a new /proc, a minimal /dev, private
 * non-executable /tmp and /dev/shm), then the plan's rules as binds (deny: a
 * mask), shortest path first, then pivot_root. Nothing else of the host is
 * visible.
 *
 * fs.mode decides the base: "none" and "read-only"/"read-write" differ in
 * what the host's root contributes: none = only the system view above;
 * read-only = the whole host root read-only underneath; read-write = the host
 * root writable; full = the host root writable and rules not applied.
 */
#ifndef SBX_ROOTFS_H
#define SBX_ROOTFS_H

#include <stddef.h>

#include "provider.h"

/* Builds the view of plan pl (its base view, then its rules in its order);
 * with g (grants.h), a rule gets the mount the parent prepared for it at the
 * path it resolved, or nothing; without, a plain bind of its path.
 * Runs in the child (as init of the new pid and mount namespaces). root is an
 * existing empty directory of the host (e.g. /run/sbx/root). On failure
 * returns -errno and leaves a short reason in why (a static buffer is fine:
 * the child reports it to the parent and exits). tty_fd >= 0: the -t pty's
 * slave, shown in the view at its own /dev/pts/N name. */
struct sbx_grants;
/* disk (disk.h), or NULL: /tmp and /dev/shm are the two directories of the
 * disk's tmpfs instead of two unbounded tmpfs mounts. */
struct sbx_rootfs_disk {
	int fd;			/* the detached mount of sbx_disk_create */
	const char *stage;	/* an empty host directory to attach it at */
};
/* hide: directories (NULL terminated, or NULL) shown as empty and read-only
 * in the view: sbx's own, for a root workload (struct sbx_spawn own_dirs). */
int sbx_rootfs_setup(const struct sbx_fsplan *pl, const struct sbx_grants *g, const char *root,
		     const char *hostname, int tty_fd, const struct sbx_rootfs_disk *disk,
		     const char *const *hide, char *why, size_t len);

/* 0 when prog (argv[0]), looked up as the workload's execvp will (its PATH), is a
 * host file that the view built for p shows on an exec mount: the process
 * and gVisor views share this base. -ENOENT and the reason otherwise. */
int sbx_rootfs_can_run(const struct sbx_profile *p, const char *prog, char *why, size_t len);

#endif
