/* SPDX-License-Identifier: MIT */
/*
 * cgroup2 helpers. sbx only ever creates, uses and removes cgroups beneath
 * its own root: by default "<cgroup2 mount><the cgroup sbx runs in>/<instance>", or
 * $SBX_CGROUP_ROOT. Works on pure cgroup2 hosts and on hybrid v1/v2 layouts
 * (cgroup2 mounted at /sys/fs/cgroup/unified).
 */
#ifndef SBX_CGROUP_H
#define SBX_CGROUP_H

#include <limits.h>
#include <stdint.h>

struct sbx_cgroot {
	char mount[PATH_MAX];	/* cgroup2 mount point */
	char path[PATH_MAX];	/* absolute directory of the sbx root */
	uint32_t level;		/* cgroup2 level of path (mount = 0) */
	uint64_t id;		/* cgroup id of path */
};

/* Finds the cgroup2 mount point. -ENOENT when cgroup2 is not mounted. */
int sbx_cgroup2_mount(char *buf, size_t len);

/* The cgroup2 path of this process ("0::" of /proc/self/cgroup), relative to
 * the mount: "/" or "/user.slice/...". -ENOENT when there is none. */
int sbx_cgroup2_self(char *buf, size_t len);

/* Resolves (and with create, makes) the sbx cgroup root of an instance:
 * $SBX_CGROUP_ROOT, or "<cgroup2 mount><base>/<instance>" where base is the
 * systemd scope this process entered (kernel/systemd.h), else its own
 * cgroup. Without create on a systemd host, the instance's scope
 * (/sbx.slice/sbx-<instance>.scope) when a root exists there. */
int sbx_cgroot_get(struct sbx_cgroot *ret, const char *instance, int create);

/* cgroup id (the directory's inode number) of an absolute cgroup2 path. */
int sbx_cgroup_id(const char *path, uint64_t *ret);

/* Whether a cgroup2 cgroup with this id exists (not removed): 1 or 0, or
 * -errno when that cannot be told (needs CAP_DAC_READ_SEARCH). */
int sbx_cgroup_id_exists(uint64_t id);

/* Creates root/name; returns an O_DIRECTORY fd for CLONE_INTO_CGROUP. */
int sbx_cgroup_create(const struct sbx_cgroot *root, const char *name, char *ret_path,
		      size_t len, uint64_t *ret_id);

/* What sbx_cgroup_walk calls for each directory: the directory is name in
 * the directory dirfd (paths of a workload's tree may exceed PATH_MAX). */
typedef int (*sbx_cgroup_fn)(int dirfd, const char *name, void *arg);

/* Calls fn on path and on every directory below it (at any depth, names
 * starting with '.' included), children before their parent (so that fn may
 * rmdir). Every directory is visited even after a failure; returns the first
 * negative result of fn or of the walk, else the sum of fn's results. A path
 * that does not exist is an empty tree (0). Works on v1 hierarchies as well
 * as on cgroup2. */
int sbx_cgroup_walk(const char *path, sbx_cgroup_fn fn, void *arg);

/* Sends sig to every process in the cgroup and the cgroups below it;
 * returns how many it was sent to, or -errno. */
int sbx_cgroup_signal(const char *path, int sig);

/* SIGKILLs every process in the cgroup (cgroup.kill, or one by one). */
int sbx_cgroup_kill(const char *path);

/* Kills every process in the cgroup and removes it with every cgroup below
 * it, retrying for a few seconds while killed tasks leave. Idempotent. */
int sbx_cgroup_destroy(const char *path);

#endif
