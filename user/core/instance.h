/* SPDX-License-Identifier: MIT */
/*
 * An sbx instance: the places on the host that one independent sbx setup
 * owns, named after $SBX_INSTANCE (default "sbx"):
 *   /sys/fs/bpf/<instance>/          pinned programs, links and maps
 *   /run/<instance>/lock             serialises load, adopt and unload
 *   /run/<instance>/slots/<slot>     the registry: one file per live sandbox
 *   /run/<instance>/<provider dirs>  what providers build (root/, gvisor/, fc-<id>/)
 *   <cgroup2><own cgroup>/<instance>/ the cgroup root (kernel/cgroup.c)
 * This file is the only one that knows these names; everything else asks it.
 */
#ifndef SBX_INSTANCE_H
#define SBX_INSTANCE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbx_instance {
	char name[64];
	char pin_dir[PATH_MAX];
	char run_dir[PATH_MAX];
};

/* Fills ret from $SBX_INSTANCE (validated: [A-Za-z0-9_.-], <= 48 chars,
 * no leading dot); -EINVAL otherwise. */
int sbx_instance_get(struct sbx_instance *ret);

/* Creates run_dir (0755) if needed. */
int sbx_instance_mkrun(const struct sbx_instance *in);

/* Takes the instance's lock (flock on run_dir/lock); returns the fd. */
int sbx_instance_lock(const struct sbx_instance *in);
void sbx_instance_unlock(int fd);

/* run_dir/slots/<slot>: the registry file of a sandbox. */
int sbx_instance_slot_file(const struct sbx_instance *in, uint32_t slot, char *buf, size_t len);
/* run_dir/slots */
int sbx_instance_slot_dir(const struct sbx_instance *in, char *buf, size_t len);

/* True when a registry file names a live sbx run (its pid= line). */
bool sbx_instance_live(const struct sbx_instance *in);

/* Removes run_dir's own entries (slots/, root/, lock) and run_dir when they
 * are empty; what is still in use stays. */
void sbx_instance_remove_run_dir(const struct sbx_instance *in);

#endif
