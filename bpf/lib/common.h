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

/* Writes an event to the sandbox's ring and copies it to the global ring.
 * Failures are counted per CPU: a consumer sees them as sequence gaps too. */
static __always_inline void sbx_emit(__u32 slot, void *ev, __u64 size)
{
	struct sbx_drops *d = bpf_map_lookup_elem(&sbx_drops, &slot);
	void *rb = bpf_map_lookup_elem(&sbx_rings, &slot);

	/* atomic: an skb program in softirq may nest on this CPU */
	if (!rb || bpf_ringbuf_output(rb, ev, size, 0)) {
		if (d)
			__sync_fetch_and_add(&d->ring, 1);
	}
	if (bpf_ringbuf_output(&sbx_events, ev, size, 0)) {
		if (d)
			__sync_fetch_and_add(&d->global, 1);
	}
}

static __always_inline bool sbx_audit_wants(struct sbx_ctx *c, __u8 verdict)
{
	if (c->pol->audit == SBX_AUDITL_NONE)
		return false;
	return verdict == SBX_VERDICT_DENY || c->pol->audit == SBX_AUDITL_ALL;
}

#endif
