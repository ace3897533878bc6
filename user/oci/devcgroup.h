/* SPDX-License-Identifier: MIT */
/*
 * linux.resources.devices as a v1 devices cgroup of the container's own
 * (user/oci/devcgroup.c), where the host has that hierarchy.
 */
#ifndef SBX_OCI_DEVCGROUP_H
#define SBX_OCI_DEVCGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "oci/oci.h"

/* Whether this host has a v1 devices hierarchy sbx-oci can use. */
bool oci_devices_supported(void);
/* The container's devices cgroup (sandbox_id NULL: sbx-oci's parent of them). */
int oci_devices_path(const char *sandbox_id, char *buf, size_t len);
/* Makes it with every device denied, then the rules in order. */
int oci_devices_create(const char *sandbox_id, const struct oci_device_rule *rules, size_t n,
		       const struct oci_device *devs, size_t n_devs, char *ret_path, size_t path_len,
		       char *why, size_t len);
/* Moves pid (the init, before it forks) into it. 0 or -errno. */
int oci_devices_attach(const char *path, pid_t pid);
/* Moves the calling process into every v1 cgroup of pid (the container's
 * init) that it is not in already: the memory, pids and devices limits of a
 * hybrid host, which CLONE_INTO_CGROUP (cgroup2 only) does not reach. For
 * `sbx-oci exec`, in the child before it joins the container's mount
 * namespace (the v1 hierarchies are the host's mounts). 0 or -errno with
 * why set. */
int oci_cgroups_v1_join(pid_t pid, char *why, size_t len);
/* Removes it (empty by then), and sbx-oci's parent when it was the last. */
void oci_devices_remove(const char *path);

#endif
