/* SPDX-License-Identifier: MIT */
/*
 * The process provider's disk quota (disk = "1G"): one size-limited tmpfs
 * that holds both the sandbox's /tmp and /dev/shm, so that the two together
 * (hard links and renames between them included) stay within the quota.
 * sbx creates it in its own process before the sandbox exists, as a detached
 * mount (fsopen/fsmount), and keeps the mount's fd: the sandbox's init
 * attaches it in its view, and sbx reads the use from the fd at any time,
 * also after the sandbox's mount namespace is gone. Its pages are charged to
 * the memory cgroup of the task that writes them: the sandbox's 'memory'.
 */
#ifndef SBX_PROVIDER_DISK_H
#define SBX_PROVIDER_DISK_H

#include <stddef.h>
#include <stdint.h>

#include "provider.h"

/* The directories of the disk the view binds at /tmp and /dev/shm. */
#define SBX_DISK_TMP "tmp"
#define SBX_DISK_SHM "shm"

/* In sbx: a detached tmpfs of bytes with the two directories (mode 1777);
 * *ret_fd is its close-on-exec mount fd. */
int sbx_disk_create(uint64_t bytes, int *ret_fd, char *why, size_t len);

/* In the sandbox's init, in its own (private) mount namespace: attaches the
 * disk at stage, an empty host directory that every sandbox mounts over in
 * its own namespace, so that binds can take its directories;
 * sbx_disk_unstage detaches the stage when they are done. */
int sbx_disk_stage(int fd, const char *stage, char *why, size_t len);
int sbx_disk_unstage(const char *stage, char *why, size_t len);

/* What the disk holds now, from its mount fd. */
int sbx_disk_usage(int fd, struct sbx_disk_usage *ret);

#endif
