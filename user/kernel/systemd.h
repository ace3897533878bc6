/* SPDX-License-Identifier: MIT */
/*
 * systemd as the owner of the cgroup tree. On a host where systemd is PID 1
 * every cgroup belongs to a unit: a login session's scope, a service. sbx
 * must not make its cgroups there (systemd does not enable controllers for
 * them and may move or remove them), so it asks systemd for a subtree of its
 * own, delegated to it, and keeps the cgroup2 rule that a cgroup with
 * children and enabled controllers holds no process:
 *
 *   <delegated unit cgroup>/               controllers enabled for children
 *       supervisor/                        the sbx process(es): runs, monitors
 *       <instance>/                        sbx's cgroup root (kernel/cgroup.h)
 *           <sandbox id>/ ...
 *
 * Direct mode (`sbx run` without the daemon) gets the delegated unit from a
 * transient scope, "sbx-<instance>.scope" in "sbx.slice", one per instance
 * and shared by the runs of that instance: the first run creates it
 * (StartTransientUnit, Delegate=yes), the others join it while it lives
 * (AttachProcessesToUnit). The scope goes away when its last process exits.
 * sbxd's monitors are such runs: they leave sbxd.service for the scope, so
 * that the daemon's unit can be restarted while they live (architecture.md,
 * "cgroups under systemd").
 *
 * Uses sd-bus over systemd's private socket (root) or the system bus.
 */
#ifndef SBX_SYSTEMD_H
#define SBX_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#define SBX_SYSTEMD_SLICE "sbx.slice"
#define SBX_SYSTEMD_LEAF "supervisor"

/* Whether systemd is PID 1 (as sd_booted(3): /run/systemd/system exists). */
bool sbx_systemd_booted(void);

/* "sbx-<instance>.scope" into buf; -ENAMETOOLONG, or -EINVAL when instance
 * has a character a unit name cannot carry. */
int sbx_systemd_scope_name(const char *instance, char *buf, size_t len);

/* Moves the calling process into the transient delegated scope of instance
 * (creating it or joining it), into its "supervisor" leaf, and enables the
 * scope's controllers for its children. Afterwards sbx_systemd_scope_cgroup()
 * names the scope, and sbx_cgroot_get() puts the instance's root beneath it.
 * Call it before the process forks workers that must share its cgroup, and
 * once. 0, or -errno with why naming what systemd or the kernel refused. */
int sbx_systemd_enter_scope(const char *instance, char *why, size_t wlen);

/* The scope this process entered ("/sbx.slice/sbx-X.scope", relative to the
 * cgroup2 mount), or NULL when it entered none. */
const char *sbx_systemd_scope_cgroup(void);

/* sd_notify(3) of state ("READY=1", "RELOADING=1", "STATUS=..."); does
 * nothing when the process was not started by systemd. */
void sbx_systemd_notify(const char *state);

/* The listening socket systemd passed (socket activation, LISTEN_FDS): its
 * fd, or -ENOENT when none was passed; -EBADF when the first passed fd is
 * not a listening unix stream socket. Unsets LISTEN_* so that children do
 * not inherit them. */
int sbx_systemd_listen_fd(void);

/* sd_journal_sendv(3), from libsystemd loaded at the first call; -ELIBACC
 * when it cannot be loaded. */
int sbx_systemd_journal_sendv(const struct iovec *iov, int n);

#endif
