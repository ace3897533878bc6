/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Sandbox lookup and audit event emission shared by every sbx program. */
#ifndef SBX_BPF_COMMON_H
#define SBX_BPF_COMMON_H

#include "maps.h"

struct sbx_ctx {
	__u32 slot;
	__u32 policy_id;
	__u64 cgroup_id;	/* the sandbox's cgroup */
	bool no_task;		/* skb context: no current task to describe */
	struct sbx_stats *st;
	struct sbx_policy_cfg *pol;
};

#define SBX_SB_KERNMOUNT	(1u << 22)	/* internal mounts: memfd, pipes, sockets */

/* Only the workload is judged: every provider gives it no_new_privs before
 * it execs (and no descendant can drop it), while a process sandbox's init,
 * which builds the mounts and the view, never has it. Paths are then those of
 * the workload's final view. */
static __always_inline bool sbx_task_is_workload(void)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return BPF_CORE_READ(t, atomic_flags) & 1;	/* PFA_NO_NEW_PRIVS */
}

/* Fills c from a cgroup id found in sbx_cgroups; false when not a sandbox. */
static __always_inline bool sbx_ctx_from_cgroup(struct sbx_ctx *c, __u64 cg)
{
	struct sbx_slot *s;
	__u32 *slot;

	slot = bpf_map_lookup_elem(&sbx_cgroups, &cg);
	if (!slot)
		return false;
	c->slot = *slot;
	c->cgroup_id = cg;
	c->no_task = false;
	s = bpf_map_lookup_elem(&sbx_slots, &c->slot);
	if (!s || !(s->flags & SBX_SLOTF_ACTIVE))
		return false;
	c->policy_id = s->policy_id;
	c->st = bpf_map_lookup_elem(&sbx_stats, &c->slot);
	c->pol = bpf_map_lookup_elem(&sbx_policies, &c->policy_id);
	return c->st && c->pol;
}

/* The current task's sandbox, also when it sits in a sub-cgroup it made. */
static __always_inline bool sbx_ctx_current(struct sbx_ctx *c)
{
	if (sbx_ctx_from_cgroup(c, bpf_get_current_cgroup_id()))
		return true;
	if (!sandbox_level)
		return false;
	return sbx_ctx_from_cgroup(c, bpf_get_current_ancestor_cgroup_id(sandbox_level));
}

static __always_inline void sbx_hdr_fill(struct sbx_event_hdr *h, struct sbx_ctx *c,
					 __u16 type, __u16 size)
{
	h->type = type;
	h->size = size;
	h->slot = c->slot;
	h->seq = __sync_fetch_and_add(&c->st->seq, 1) + 1;
	h->ts_ns = bpf_ktime_get_ns();
	if (c->no_task) {
		/* cgroup_skb programs may not ask for the current task (6.1
		 * refuses the helpers): describe the sandbox, not a task */
		h->cgroup_id = c->cgroup_id;
		return;
	}
	__u64 id = bpf_get_current_pid_tgid();

	h->pid = (__u32)id;
	h->tgid = id >> 32;
	h->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

/* One token bucket in GCRA form: *tat is the theoretical arrival time of the
 * next event. An event conforms while it would not push tat more than burst
 * intervals ahead of now; each one moves tat one interval on. Lock-free (the
 * hooks run on every CPU, some in softirq, where tracing programs may not take
 * a bpf_spin_lock): a lost compare-and-swap race is retried, and a bucket that
 * stays contended suppresses, which errs on the side of a bounded log. */
static __always_inline bool sbx_bucket_take(__u64 *tat, __u64 now, __u64 interval, __u32 burst)
{
	if (!interval)
		return true;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		__u64 old = *(volatile __u64 *)tat;
		__u64 base = old > now ? old : now;

		if (base + interval - now > (__u64)burst * interval)
			return false;
		if (__sync_val_compare_and_swap(tat, old, base + interval) == old)
			return true;
	}
	return false;
}

/* SBX_VERDICT_* of a decision event, 0 for the events user space asks for
 * (sandbox start and exit, suppression summaries, limit.disk), which are
 * never limited. */
static __always_inline __u8 sbx_event_verdict(const void *ev)
{
	const struct sbx_event_hdr *h = ev;

	switch (h->type) {
	case SBX_EV_SANDBOX_START:
	case SBX_EV_SANDBOX_EXIT:
	case SBX_EV_AUDIT_SUPPRESSED:
	case SBX_EV_LIMIT_DISK:
		return 0;
	case SBX_EV_SYSCALL_DENIED:
	case SBX_EV_NET_QUOTA:
		return SBX_VERDICT_DENY;
	}
	/* sbx_abi.h: the verdict is the first byte after the header; anything
	 * but an allow is budgeted as a denial */
	return *((const __u8 *)ev + sizeof(*h)) == SBX_VERDICT_ALLOW ? SBX_VERDICT_ALLOW :
								       SBX_VERDICT_DENY;
}

/* A ring keeps this fraction of its room for denials: allow events are
 * written only while more than 1/SBX_RING_RESERVE_DIV of it is free. */
#define SBX_RING_RESERVE_DIV	2

static __always_inline bool sbx_ring_has_room_for_allow(void *rb)
{
	__u64 size = bpf_ringbuf_query(rb, BPF_RB_RING_SIZE);
	__u64 used = bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA);

	return used < size - size / SBX_RING_RESERVE_DIV;
}

/* The sandbox's rate limits (sbx_policy_cfg.audit_*) for an event of this
 * verdict (sbx_event_verdict): false when it is to be suppressed, which is
 * counted per kind for the summary events. The limits are those of the
 * policy id the hook read (c->pol), as every other lookup of the hook: a live
 * update (core/update.h) flipping slot.policy_id meanwhile does not mix them. */
static __always_inline bool sbx_audit_admit(struct sbx_ctx *c, __u8 verdict, void *rb)
{
	struct sbx_policy_cfg *pol = c->pol;
	struct sbx_stats *st = c->st;
	__u64 now;

	if (!verdict)
		return true;
	if (!st || !pol)
		return true;	/* not a sandbox's event: nothing to count it in */
	now = bpf_ktime_get_ns();
	if (verdict == SBX_VERDICT_DENY) {
		if (sbx_bucket_take(&st->audit_tat_deny, now, pol->audit_deny_ns, pol->audit_deny_burst))
			return true;
		__sync_fetch_and_add(&st->suppressed_deny, 1);
		return false;
	}
	if ((!rb || sbx_ring_has_room_for_allow(rb)) &&
	    sbx_bucket_take(&st->audit_tat_allow, now, pol->audit_allow_ns, pol->audit_allow_burst))
		return true;
	__sync_fetch_and_add(&st->suppressed_allow, 1);
	return false;
}

/* Writes an event to the sandbox's ring and copies it to the global ring,
 * within the sandbox's audit rate limits. Failures are counted per CPU: a
 * consumer sees them as sequence gaps too. Allow events leave the global
 * ring the same reserve for denials; a copy held back counts as lost. */
static __always_inline void sbx_emit(struct sbx_ctx *c, void *ev, __u64 size)
{
	__u32 slot = c->slot;
	struct sbx_drops *d = bpf_map_lookup_elem(&sbx_drops, &slot);
	void *rb = bpf_map_lookup_elem(&sbx_rings, &slot);
	__u8 verdict = sbx_event_verdict(ev);

	if (!sbx_audit_admit(c, verdict, rb))
		return;
	/* atomic: an skb program in softirq may nest on this CPU */
	if (!rb || bpf_ringbuf_output(rb, ev, size, 0)) {
		if (d)
			__sync_fetch_and_add(&d->ring, 1);
	}
	if ((verdict == SBX_VERDICT_ALLOW && !sbx_ring_has_room_for_allow(&sbx_events)) ||
	    bpf_ringbuf_output(&sbx_events, ev, size, 0)) {
		if (d)
			__sync_fetch_and_add(&d->global, 1);
	}
}

/* Denials and would-denials are emitted under audit level "deny" too. */
static __always_inline bool sbx_audit_wants(struct sbx_ctx *c, __u8 verdict)
{
	if (c->pol->audit == SBX_AUDITL_NONE)
		return false;
	return verdict != SBX_VERDICT_ALLOW || c->pol->audit == SBX_AUDITL_ALL;
}

/* Observe mode (sbx run --observe, SBX_POLF_OBSERVE): every decision point
 * passes the verdict it reached through here before it audits and acts on
 * it, so that in observe mode no hook refuses: a denial becomes a
 * would-denial, which is reported like a denial (sbx_audit_wants, the deny
 * rate limit) and let through. Callers refuse only on SBX_VERDICT_DENY. */
static __always_inline bool sbx_observing(struct sbx_ctx *c)
{
	return c->pol && (c->pol->flags & SBX_POLF_OBSERVE);
}

static __always_inline __u8 sbx_observe(struct sbx_ctx *c, __u8 verdict)
{
	if (verdict != SBX_VERDICT_DENY || !sbx_observing(c))
		return verdict;
	if (c->st)
		__sync_fetch_and_add(&c->st->would_deny, 1);
	return SBX_VERDICT_WOULD_DENY;
}

#endif
