/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Network decisions: one LPM lookup per destination. The value found holds the
 * rules of the longest matching prefix and of every shorter prefix covering it,
 * ordered most specific first (user/core/compile.c), so the first rule whose port
 * range and protocol match is the decision of the policy's "most specific
 * entry wins, deny wins ties" rule. */
#ifndef SBX_BPF_NET_H
#define SBX_BPF_NET_H

#include "common.h"

#define AF_INET		2
#define AF_INET6	10
#define AF_PACKET	17
#define SOCK_RAW	3
#define IPPROTO_ICMP	1
#define IPPROTO_TCP	6
#define IPPROTO_UDP	17
#define IPPROTO_ICMPV6	58

struct sbx_net_query {
	__u8 family;		/* 4 or 6 */
	__u8 proto;
	__u8 mapped;
	__u16 port;		/* host order; 0 for port-less protocols */
	__u8 addr[16];
};

static __always_inline __u8 sbx_rules_match(struct sbx_net_value *v, struct sbx_net_query *q,
					    __u32 *ret_rule)
{
	for (int i = 0; i < SBX_NET_VALUE_RULES; i++) {
		struct sbx_net_rule *r = &v->r[i];

		if (i >= v->n)
			break;
		if (q->port < r->port_lo || q->port > r->port_hi)
			continue;
		if (r->proto && r->proto != q->proto)
			continue;
		*ret_rule = r->rule;
		return r->verdict;
	}
	return 0;
}

/* The mode the programs apply: "none" in a private loopback-only namespace
 * needs no refusals of its own. */
static __always_inline __u8 sbx_eff_mode(struct sbx_ctx *c)
{
	if (c->pol->net_mode == SBX_NETM_NONE && (c->pol->flags & SBX_POLF_NETNS_PRIVATE))
		return SBX_NETM_FULL;
	return c->pol->net_mode;
}

static __always_inline __u8 sbx_net_decide(struct sbx_ctx *c, struct sbx_net_query *q,
					   __u32 *ret_rule)
{
	struct sbx_net_value *v;
	__u8 verdict = 0;

	*ret_rule = SBX_RULE_DEFAULT;
	switch (sbx_eff_mode(c)) {
	case SBX_NETM_FULL:
		return SBX_VERDICT_ALLOW;
	case SBX_NETM_NONE:
		return SBX_VERDICT_DENY;
	}
	if (q->family == 4) {
		struct sbx_net4_key k = { .prefixlen = 64, .policy_id = bpf_htonl(c->policy_id) };

		__builtin_memcpy(k.addr, q->addr, 4);
		v = bpf_map_lookup_elem(&sbx_net4, &k);
	} else {
		struct sbx_net6_key k = { .prefixlen = 160, .policy_id = bpf_htonl(c->policy_id) };

		__builtin_memcpy(k.addr, q->addr, 16);
		v = bpf_map_lookup_elem(&sbx_net6, &k);
	}
	if (v)
		verdict = sbx_rules_match(v, q, ret_rule);
	if (verdict)
		return verdict;
	return c->pol->net_mode == SBX_NETM_ALLOW ? SBX_VERDICT_DENY : SBX_VERDICT_ALLOW;
}

/* Reads a sockaddr hook's destination; IPv4-mapped IPv6 is judged as IPv4.
 * v6 must be a constant: IPv4 hooks may not even read user_ip6. */
static __always_inline void sbx_query_from_sa(struct bpf_sock_addr *ctx, struct sbx_net_query *q,
					      const bool v6)
{
	q->proto = ctx->protocol;
	q->port = bpf_ntohs((__u16)ctx->user_port);
	q->mapped = 0;
	if (!v6) {
		__u32 a = ctx->user_ip4;

		q->family = 4;
		__builtin_memcpy(q->addr, &a, 4);
		return;
	}
	__u32 a6[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };

	if (a6[0] == 0 && a6[1] == 0 && a6[2] == bpf_htonl(0xffff)) {
		q->family = 4;
		q->mapped = 1;
		__builtin_memcpy(q->addr, &a6[3], 4);
		return;
	}
	q->family = 6;
	__builtin_memcpy(q->addr, a6, 16);
}

static __always_inline void sbx_emit_net(struct sbx_ctx *c, __u16 type, __u8 verdict,
					 struct sbx_net_query *q, __u32 rule)
{
	struct sbx_ev_net ev = {};

	sbx_hdr_fill(&ev.hdr, c, type, sizeof(ev));
	ev.verdict = verdict;
	ev.family = q->family;
	ev.proto = q->proto;
	ev.mapped = q->mapped;
	ev.port = q->port;
	ev.rule = rule;
	ev.policy_id = c->policy_id;
	__builtin_memcpy(ev.addr, q->addr, 16);
	sbx_emit(c->slot, &ev, sizeof(ev));
}

#endif
