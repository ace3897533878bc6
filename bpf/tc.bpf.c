// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The bandwidth rate programs (lib/rate.h). They are not attached at load:
 * user/kernel/netrate.c puts them on the egress (clsact) hook of each end of
 * a rate-limited sandbox's veth pair, under an fq root qdisc. The sandbox end
 * lives in the sandbox's network namespace, where the workload has no
 * CAP_NET_ADMIN to remove either; the host end's egress is the sandbox's
 * ingress.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "rate.h"

SEC("tc")
int sbx_tc_sandbox(struct __sk_buff *skb)
{
	return sbx_rate_stamp(skb, skb->ifindex - SBX_RATE_IFINDEX_BASE, SBX_RATE_EGRESS);
}

SEC("tc")
int sbx_tc_host(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex, *slot = bpf_map_lookup_elem(&sbx_rate_ifs, &ifindex);

	return slot ? sbx_rate_stamp(skb, *slot, SBX_RATE_INGRESS) : SBX_TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
