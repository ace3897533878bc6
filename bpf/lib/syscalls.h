/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The logic behind syscalls.bpf.c: syscalls refused by the sandbox's seccomp
 * filter leave no trace of their own, so they are caught on the way out
 * (tp_btf/sys_exit) and reported as SBX_EV_SYSCALL_DENIED, after the file
 * syscall audit (fsaudit.h) had its say; and user space's own events
 * (sandbox start and exit) enter the same streams through a syscall program.
 */
#ifndef SBX_BPF_SYSCALLS_H
#define SBX_BPF_SYSCALLS_H

#include "common.h"
#include "arch.h"
#include "fsaudit.h"
#include "net.h"

#define SBX_SOCK_PACKET		10	/* obsolete packet socket type */

static __always_inline void sbx_emit_packet_socket(struct sbx_ctx *c, struct pt_regs *regs)
{
	struct sbx_ev_sock ev = {};

	__sync_fetch_and_add(&c->st->sock_denied, 1);
	sbx_hdr_fill(&ev.hdr, c, SBX_EV_SOCK_CREATE, sizeof(ev));
	ev.verdict = SBX_VERDICT_DENY;
	ev.family = (__u32)SBX_SC_ARG0(regs);
	ev.type = (__u32)SBX_SC_ARG1(regs);
	ev.protocol = (__u32)SBX_SC_ARG2(regs);
	sbx_emit(c, &ev, sizeof(ev));
}

static __always_inline void sbx_emit_syscall(struct sbx_ctx *c, struct pt_regs *regs, __u64 nr,
					     long ret, __u8 verdict)
{
	struct sbx_ev_syscall ev = {};

	sbx_hdr_fill(&ev.hdr, c, SBX_EV_SYSCALL_DENIED, sizeof(ev));
	ev.nr = (__u32)nr;
	ev.ret = (__s32)ret;
	ev.verdict = verdict;
	ev.args[0] = SBX_SC_ARG0(regs);
	ev.args[1] = SBX_SC_ARG1(regs);
	ev.args[2] = SBX_SC_ARG2(regs);
	sbx_emit(c, &ev, sizeof(ev));
}

static __always_inline bool sbx_syscall_in_set(struct sbx_syscall_set *set, __u64 nr)
{
	return nr < SBX_SYSCALL_WORDS * 64 &&
	       (set->bits[(nr / 64) & (SBX_SYSCALL_WORDS - 1)] & (1ULL << (nr % 64)));
}

/* sys_exit of any task: only -EPERM and -EACCES of sandboxed tasks go on. */
static __always_inline void sbx_syscall_exit(struct pt_regs *regs, long ret)
{
	struct sbx_syscall_set *set;
	struct sbx_ctx c;
	__u64 nr;

	if (ret != -SBX_EPERM && ret != -SBX_EACCES)
		return;
	if (!sbx_ctx_current(&c))
		return;
	if (sbx_fsaudit_exit(&c, regs, ret) || ret != -SBX_EPERM)
		return;
	set = bpf_map_lookup_elem(&sbx_syscalls, &c.policy_id);
	nr = SBX_SC_NR(regs);
	if (!set || !sbx_audit_wants(&c, SBX_VERDICT_DENY))
		return;
	/* inet sockets were judged (and audited) by sock_create already; raw,
	 * packet and SOCK_PACKET sockets the workload may not open fail earlier,
	 * in the kernel's own CAP_NET_RAW check or in seccomp: report them here
	 * (socketpair creates its sockets through the same family code) */
	if (nr == SBX_NR_socket || nr == SBX_NR_socketpair) {
		__u64 fam = SBX_SC_ARG0(regs), type = SBX_SC_ARG1(regs) & 0xf;

		bool other = (__u32)fam != AF_INET && (__u32)fam != AF_INET6 && (__u32)fam != AF_UNIX;

		if ((fam == AF_PACKET || type == SOCK_RAW || type == SBX_SOCK_PACKET) &&
		    (set->flags & SBX_SYSF_PACKET_REFUSED))
			sbx_emit_packet_socket(&c, regs);
		else if (other && (set->flags & SBX_SYSF_FAMILY_REFUSED))
			sbx_emit_packet_socket(&c, regs);
		return;
	}
	if (!sbx_syscall_in_set(set, nr))
		return;
	sbx_emit_syscall(&c, regs, nr, ret, SBX_VERDICT_DENY);
}

/* Whether any sandbox observes now (sbx_config.observers): one array
 * lookup, which the verifier inlines. */
static __always_inline bool sbx_any_observer(void)
{
	struct sbx_config *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&sbx_config, &zero);
	return cfg && cfg->observers;
}

/* Observe mode (SBX_POLF_OBSERVE): the seccomp filter is not installed, so
 * a call the profile's filter would refuse is reported at sys_enter as a
 * would-denial (syscall.denied, ret 0) and then runs. Every task on the host
 * may pass here: sys_enter calls it only while some sandbox observes
 * (sbx_any_observer). Argument-level refusals of the filter (the exec
 * guard's memfd flags, socket families) are not judged here
 * (docs/learn.md). */
static __always_inline void sbx_syscall_observe(struct pt_regs *regs, long id)
{
	struct sbx_syscall_set *set;
	struct sbx_ctx c;
	__u8 verdict;

	if (id < 0)
		return;
	/* the workload only: sbx's own setup runs before the filter would be */
	if (!sbx_ctx_current(&c) || !sbx_observing(&c) || !sbx_task_is_workload())
		return;
	set = bpf_map_lookup_elem(&sbx_syscalls, &c.policy_id);
	if (!set || !sbx_syscall_in_set(set, id))
		return;
	verdict = sbx_observe(&c, SBX_VERDICT_DENY);
	if (sbx_audit_wants(&c, verdict))
		sbx_emit_syscall(&c, regs, id, 0, verdict);
}

/* sbx_config.observers follows the sandboxes in observe mode: one more at
 * their start event, one less at their exit event. */
static __always_inline void sbx_observers_count(struct sbx_ctx *c, __u16 type)
{
	struct sbx_policy_cfg *pol = bpf_map_lookup_elem(&sbx_policies, &c->policy_id);
	struct sbx_config *cfg;
	__u32 zero = 0;

	if (!pol || !(pol->flags & SBX_POLF_OBSERVE))
		return;
	cfg = bpf_map_lookup_elem(&sbx_config, &zero);
	if (!cfg)
		return;
	if (type == SBX_EV_SANDBOX_START)
		__sync_fetch_and_add(&cfg->observers, 1);
	else if (cfg->observers)
		__sync_fetch_and_add(&cfg->observers, -1);
}

/* The suppression summary: what the rate limits held back since the last
 * one. Only the sandbox's own sbx run asks for it, so reported_* has one
 * writer; nothing new means no event (ret_seq 0). */
static __always_inline void sbx_emit_suppressed(struct sbx_emit_ctx *uctx, struct sbx_ctx *c,
						struct sbx_slot *s)
{
	struct sbx_ev_suppressed ev = {};

	ev.allow_total = c->st->suppressed_allow;
	ev.deny_total = c->st->suppressed_deny;
	ev.allow = ev.allow_total - c->st->reported_allow;
	ev.deny = ev.deny_total - c->st->reported_deny;
	uctx->ret_seq = 0;
	if (!ev.allow && !ev.deny)
		return;
	c->st->reported_allow = ev.allow_total;
	c->st->reported_deny = ev.deny_total;
	sbx_hdr_fill(&ev.hdr, c, SBX_EV_AUDIT_SUPPRESSED, sizeof(ev));
	ev.hdr.pid = ev.hdr.tgid = uctx->workload_pid;
	ev.hdr.cgroup_id = s->cgroup_id;
	sbx_emit(c, &ev, sizeof(ev));
	uctx->ret_seq = ev.hdr.seq;
}

/* A sandbox start or exit event, or a suppression summary, from user space
 * (BPF_PROG_TEST_RUN), with its sequence number from the sandbox's counter;
 * -EINVAL in ret_seq for a slot that is not active or another event type. */
static __always_inline void sbx_emit_disk(struct sbx_emit_ctx *uctx, struct sbx_ctx *c,
					  struct sbx_slot *s)
{
	struct sbx_ev_disk ev = {};

	sbx_hdr_fill(&ev.hdr, c, SBX_EV_LIMIT_DISK, sizeof(ev));
	ev.hdr.pid = ev.hdr.tgid = uctx->workload_pid;
	ev.hdr.cgroup_id = s->cgroup_id;
	ev.used_bytes = uctx->used_bytes;
	ev.limit_bytes = uctx->limit_bytes;
	ev.inodes_used = uctx->inodes_used;
	ev.inodes_limit = uctx->inodes_limit;
	__builtin_memcpy(ev.mount, uctx->mount, sizeof(ev.mount));
	ev.mount[sizeof(ev.mount) - 1] = 0;
	sbx_emit(c, &ev, sizeof(ev));
	uctx->ret_seq = ev.hdr.seq;
}

/* A DNS event of the sandbox's resolver: user space gives what follows the
 * header; it goes through the audit level and the rate limits of the
 * sandbox's policy like the hooks' events (an allowed query is written at
 * level "all" only). */
static __always_inline void sbx_emit_dns(struct sbx_emit_ctx *uctx, struct sbx_ctx *c,
					 struct sbx_slot *s)
{
	__u32 zero = 0, size = uctx->type == SBX_EV_DNS_RESOLVER ?
			       sizeof(struct sbx_ev_dns_resolver) : sizeof(struct sbx_ev_dns);
	struct sbx_ev_dns *ev = bpf_map_lookup_elem(&sbx_dns_scratch, &zero);
	__u32 policy_id = s->policy_id;

	uctx->ret_seq = 0;
	c->pol = bpf_map_lookup_elem(&sbx_policies, &policy_id);
	if (!ev || !c->pol)
		return;
	__builtin_memcpy((__u8 *)ev + sizeof(ev->hdr), uctx->dns, SBX_DNS_EV_MAX);
	/* the resolver's own life is reported at every level but "none", as
	 * start and exit are; queries follow the level by their verdict */
	if (uctx->type == SBX_EV_DNS_RESOLVER ? c->pol->audit == SBX_AUDITL_NONE :
	    !sbx_audit_wants(c, ev->verdict == SBX_VERDICT_ALLOW ? SBX_VERDICT_ALLOW :
								   SBX_VERDICT_DENY))
		return;
	sbx_hdr_fill(&ev->hdr, c, uctx->type, size);
	ev->hdr.pid = ev->hdr.tgid = 0;
	ev->hdr.cgroup_id = s->cgroup_id;
	__builtin_memcpy(ev->hdr.comm, "sbx-dns", 8);
	sbx_emit(c, ev, size);
	uctx->ret_seq = ev->hdr.seq;
}

static __always_inline void sbx_emit_life(struct sbx_emit_ctx *uctx)
{
	struct sbx_ev_life ev = {};
	struct sbx_ctx c = {};
	__u32 slot = uctx->slot;
	struct sbx_slot *s;

	c.slot = slot;
	c.st = bpf_map_lookup_elem(&sbx_stats, &slot);
	s = bpf_map_lookup_elem(&sbx_slots, &slot);
	if (!c.st || !s || !(s->flags & SBX_SLOTF_ACTIVE) ||
	    (uctx->type != SBX_EV_SANDBOX_START && uctx->type != SBX_EV_SANDBOX_EXIT &&
	     uctx->type != SBX_EV_AUDIT_SUPPRESSED && uctx->type != SBX_EV_LIMIT_DISK &&
	     uctx->type != SBX_EV_DNS_QUERY && uctx->type != SBX_EV_DNS_DENIED &&
	     uctx->type != SBX_EV_DNS_RESOLVER)) {
		uctx->ret_seq = -SBX_EINVAL;
		return;
	}
	if (uctx->type == SBX_EV_AUDIT_SUPPRESSED) {
		sbx_emit_suppressed(uctx, &c, s);
		return;
	}
	if (uctx->type == SBX_EV_LIMIT_DISK) {
		sbx_emit_disk(uctx, &c, s);
		return;
	}
	if (uctx->type >= SBX_EV_DNS_QUERY) {
		sbx_emit_dns(uctx, &c, s);
		return;
	}
	c.policy_id = s->policy_id;
	sbx_observers_count(&c, uctx->type);
	sbx_hdr_fill(&ev.hdr, &c, uctx->type, sizeof(ev));
	ev.hdr.pid = ev.hdr.tgid = uctx->workload_pid;
	ev.hdr.cgroup_id = s->cgroup_id;
	ev.workload_pid = uctx->workload_pid;
	ev.exit_code = uctx->exit_code;
	ev.signal = uctx->signal;
	ev.flags = uctx->flags;
	ev.suppressed_allow = c.st->suppressed_allow;
	ev.suppressed_deny = c.st->suppressed_deny;
	sbx_emit(&c, &ev, sizeof(ev));
	uctx->ret_seq = ev.hdr.seq;
}

#endif
