/* SPDX-License-Identifier: MIT */
/*
 * The syscall tracepoints (tp_btf/sys_enter and sys_exit, bpf/syscalls.bpf.c)
 * are global: while they are attached, every system call of every task on the
 * host takes the kernel's traced path and runs sbx's programs. So their links
 * exist only while a sandbox of the instance needs them.
 *
 * The rule (sbx_trace_policy_needs), read from the maps as the programs read
 * them for the sandbox's policy id:
 *   - observe mode (SBX_POLF_OBSERVE): always (would-denials and their count);
 *   - else nothing when the audit level is "none" (the programs emit nothing);
 *   - else when the seccomp filter refuses something (sbx_syscalls not
 *     empty: syscall.denied, and net.socket for refused socket families), or
 *     when the fs policy is neither enforced by BPF LSM nor mode full
 *     (sbx_fscfg: Landlock's refusals become file events).
 * A live update that raises the audit level re-applies the rule (core/update.c).
 *
 * The count across processes (every `sbx run`, sbxd's monitors, updaters) is
 * the slot map itself, under the instance lock (run_dir/lock): a sandbox
 * that needs the tracepoints has SBX_SLOTF_TRACE in its sbx_slots entry.
 *   acquire  sets the flag; if link_sys_enter/link_sys_exit are not pinned,
 *            attaches the pinned programs (prog_sys_enter/exit) and pins the
 *            links. `sbx run` does it before the provider spawns the
 *            workload: a sandbox that needs them never runs without them.
 *   sweep    unpins the links when no active slot has the flag. Run under
 *            the lock wherever a flagged slot is cleared: the sandbox's end,
 *            and the reclaim of a dead manager's slot (the next start, `sbx
 *            ps`/`sbx unload`'s reap). A manager killed with SIGKILL leaves its
 *            slot active and flagged, so its sandbox stays audited until the
 *            slot is reclaimed (its cgroup killed), and the links go then.
 * Each sandbox also holds an fd of both links while it runs (a link lives
 * while a pin or an fd refers to it): a workload or an operator that unlinks
 * the pins does not take the audit away from a running sandbox. It closes
 * them under the lock after the sweep, so no second link can be attached
 * beside one that is about to go.
 */
#ifndef SBX_TRACE_H
#define SBX_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bpfload.h"

#define SBX_PIN_PROG_SYS_ENTER	"prog_sys_enter"
#define SBX_PIN_PROG_SYS_EXIT	"prog_sys_exit"
#define SBX_PIN_LINK_SYS_ENTER	"link_sys_enter"
#define SBX_PIN_LINK_SYS_EXIT	"link_sys_exit"

/* True for the pin names of the tracepoints' links. */
bool sbx_trace_pin(const char *name);

/* 1 when a sandbox on policy_id needs the tracepoints, 0 when not, -errno. */
int sbx_trace_policy_needs(const struct sbx_bpf *b, uint32_t policy_id);

/* Under the instance lock: flags the slot and attaches the links if they are
 * not. ret_fds (may be NULL) receives an fd of each link for the caller to
 * hold (and close with sbx_trace_close). On failure *why names the feature. */
int sbx_trace_acquire_locked(const struct sbx_bpf *b, uint32_t slot, int ret_fds[2],
			     char *why, size_t len);

/* Under the instance lock, with every slot as read just now (SBX_MAX_SANDBOXES
 * entries): unpins the links when no active slot has SBX_SLOTF_TRACE. */
void sbx_trace_sweep(const struct sbx_bpf *b, const struct sbx_slot *all);

void sbx_trace_close(int fds[2]);

/* Whether the links are pinned in the instance now. */
bool sbx_trace_attached(const struct sbx_instance *p);

#endif
