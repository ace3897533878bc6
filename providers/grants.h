/* SPDX-License-Identifier: MIT */
/*
 * Granted paths that the sandbox's user can really use (docs/policy.md,
 * "Grants and the sandbox user").
 *
 * A rule that grants r, w or x on a host path is useless when the workload's
 * user (the sandbox's own uid by default) may not read, write or search that path by its
 * owner, group and mode. Without an explicit `user`, sbx binds such a path
 * with an idmapped mount (mount_setattr MOUNT_ATTR_IDMAP): inside that mount
 * the path's owner is the sandbox user, so the workload acts as the owner
 * there and nowhere else, and what it creates lands on the host owned by
 * the owner. Never for a path owned by root, and never onto group root.
 *
 * What still cannot work (an explicit user without the rights, a filesystem
 * that refuses idmapped mounts, a parent directory the user cannot search) is
 * reported before the workload starts, through the spawn's unenforced()
 * callback: refused under strict, warned and listed as degraded under
 * best-effort.
 *
 * A rule's path is resolved here following root's symlinks only (others
 * may have been planted by a workload on a writable grant, or by another
 * user), opened without following any, checked through that fd and cloned
 * from it; the sandbox's init attaches the clone at the rule's path inside
 * its view. Only owner's groups are mapped (never root's, never one the
 * owner is not in; a w grant on such a path is refused).
 *
 * Example: /srv/work/ owned by alice (1000:1000, 0755), rule rw, no user,
 * sandbox uid U: the userns gets uid_map "1000 U 1" and gid_map "1000 U 1",
 * the detached clone of /srv/work is idmapped with it, and the sandbox's init
 * moves it to /srv/work in its view; `touch /srv/work/f` as U makes a file
 * that the host sees as alice's.
 */
#ifndef SBX_GRANTS_H
#define SBX_GRANTS_H

#include <stdbool.h>
#include <stddef.h>

#include "privs.h"
#include "provider.h"

struct sbx_grants {
	/* Per rule of the plan (same index): a detached, idmapped mount of the
	 * rule's path with its mount flags set (O_CLOEXEC), for the sandbox's
	 * init to move into its view (a plain clone where no idmapping is
	 * needed, when idmap); -1: nothing to bind. */
	int *mount_fd;
	/* Per rule: the path sbx checked and cloned, its symlinks (root's
	 * only) resolved; NULL: none. */
	char **real;
	size_t n;
};

/* Checks every grant of the plan for the user ids and prepares the idmapped
 * mounts (when idmap is true: a provider whose view can take them). What
 * cannot work goes to s->unenforced; returns its error (strict), or 0,
 * -ENOMEM. ret is filled even on failure; release it with sbx_grants_free. */
int sbx_grants_prepare(const struct sbx_spawn *s, const struct sbx_ids *ids, bool idmap,
		       struct sbx_grants *ret, char *why, size_t len);
void sbx_grants_free(struct sbx_grants *g);

/* In the sandbox's init: attaches a prepared mount on target_fd, an O_PATH
 * descriptor of the rule's path opened inside the view (RESOLVE_IN_ROOT,
 * rootfs.c), never a place outside it. */
int sbx_grants_attach(int mount_fd, int target_fd);

#endif
