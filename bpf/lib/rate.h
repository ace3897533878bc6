/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Earliest departure time (EDT) of a sandbox's packets: the bandwidth rate
 * (sbx_abi.h struct sbx_rate has a worked example). The fq qdisc on the same
 * device holds each packet until skb->tstamp. Whatever the sending socket
 * put there (SO_TXTIME, TCP's own pacing) is overwritten: the departure time
 * comes from the sandbox's own virtual clock only.
 */
#ifndef SBX_BPF_RATE_H
#define SBX_BPF_RATE_H

#include "maps.h"

#define SBX_TC_ACT_OK		0
#define SBX_TC_ACT_SHOT		2
#define SBX_TC_PRIO_CONTROL	7
#define SBX_TC_PRIO_MAX		15
#define SBX_NSEC_PER_SEC	1000000000ull

/* Under the entry's lock: the departure time of len bytes sent at now, or 0
 * when the packet is to be dropped (beyond the horizon). */
static __always_inline __u64 sbx_rate_advance(struct sbx_rate_state *d, __u64 now, __u64 delay)
{
	__u64 next = d->next_ns;

	/* an idle sandbox earns at most the burst */
	if (now > d->burst_ns && next < now - d->burst_ns)
		next = now - d->burst_ns;
	if (next > now + SBX_RATE_HORIZON_NS) {
		d->drops++;
		return 0;
	}
	d->next_ns = next + delay;
	d->packets++;
	return next > now ? next : now;
}

static __always_inline int sbx_rate_stamp(struct __sk_buff *skb, __u32 slot, int dir)
{
	struct sbx_rate *r = bpf_map_lookup_elem(&sbx_rates, &slot);
	struct sbx_rate_state *d;
	__u64 now, len = skb->len, rate, when;

	/* attached only for a slot with a rate: anything else fails closed */
	if (!r)
		return SBX_TC_ACT_SHOT;
	d = dir == SBX_RATE_INGRESS ? &r->dir[SBX_RATE_INGRESS] : &r->dir[SBX_RATE_EGRESS];
	rate = d->bytes_per_sec;
	if (!rate)
		return SBX_TC_ACT_OK;
	now = bpf_ktime_get_ns();
	bpf_spin_lock(&r->lock);
	if (d->flags & SBX_RATEF_TBF) {
		d->bytes += len;
		d->packets++;
		bpf_spin_unlock(&r->lock);
		return SBX_TC_ACT_OK;
	}
	when = sbx_rate_advance(d, now, len * SBX_NSEC_PER_SEC / rate);
	if (when)
		d->bytes += len;
	bpf_spin_unlock(&r->lock);
	if (!when)
		return SBX_TC_ACT_SHOT;
	skb->tstamp = when;
	/* fq sends TC_PRIO_CONTROL packets from an unpaced internal queue */
	if ((skb->priority & SBX_TC_PRIO_MAX) == SBX_TC_PRIO_CONTROL)
		skb->priority = 0;
	return SBX_TC_ACT_OK;
}

#endif /* SBX_BPF_RATE_H */
