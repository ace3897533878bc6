/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Network decisions: one LPM lookup per destination. The value found holds the
 * rules of the longest matching prefix and of every shorter prefix covering it,
 * ordered most specific first (user/core/compile.c), so the first rule whose port
 * range and protocol match is the decision of the policy's "most specific
 * entry wins, deny wins ties" rule. */
#ifndef SBX_BPF_NET_H
#define SBX_BPF_NET_H

#include "common.h"
#include "arch.h"

#define AF_UNIX		1
#define AF_INET		2
#define AF_INET6	10
#define AF_PACKET	17
#define SOCK_RAW	3
#define IPPROTO_ICMP	1
#define IPPROTO_TCP	6
#define IPPROTO_UDP	17
#define IPPROTO_ICMPV6	58
#define IPPROTO_DCCP	33
#define IPPROTO_SCTP	132
#define IPPROTO_UDPLITE	136
#define SBX_LOOPBACK4	bpf_htonl(0x7f000001)
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define SOL_IP		0
#define SOL_IPV6	41
#define IP_OPTIONS	4
#define IPV6_2292PKTOPTIONS 6
#define IPV6_RTHDR	57
#define SBX_PAGE_SIZE	4096

struct sbx_net_query {
	__u8 family;		/* 4 or 6 */
	__u8 proto;
	__u8 mapped;
	__u8 form;		/* enum sbx_addr_form */
	__u16 port;		/* host order; 0 for port-less protocols */
	__u8 addr[16];
};

/* UDP-Lite is UDP with a partial checksum: same ports, same sockaddr hooks, so
 * "/udp" entries and listen ports cover it. */
static __always_inline __u8 sbx_rule_proto(__u8 proto)
{
	return proto == IPPROTO_UDPLITE ? IPPROTO_UDP : proto;
}

static __always_inline __u8 sbx_rules_match(struct sbx_net_value *v, struct sbx_net_query *q,
					    __u32 *ret_rule)
{
	__u8 proto = sbx_rule_proto(q->proto);

	for (int i = 0; i < SBX_NET_VALUE_RULES; i++) {
		struct sbx_net_rule *r = &v->r[i];

		if (i >= v->n)
			break;
		if (q->port < r->port_lo || q->port > r->port_hi)
			continue;
		if (r->proto && r->proto != proto)
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

/* ---- host names: the sandbox's resolver and its pins -------------------- */

static __always_inline struct sbx_dns_slot *sbx_dns_of(struct sbx_ctx *c)
{
	__u32 slot = c->slot;

	return bpf_map_lookup_elem(&sbx_dns, &slot);
}

/* What the unexpired pins of q's address whose ports and protocol match say:
 * deny when one is a denied name's, else allow when one is an allowed name's,
 * else 0. */
static __always_inline __u8 sbx_pin_decide(struct sbx_ctx *c, struct sbx_net_query *q,
					   __u32 *ret_rule)
{
	struct sbx_dns_slot *d = sbx_dns_of(c);
	struct sbx_pin_key k = { .slot = c->slot, .family = q->family };
	__u8 proto = sbx_rule_proto(q->proto), verdict = 0;
	struct sbx_pin_value *v;
	__u64 now;

	if (!d || !(d->flags & SBX_DNSF_PINS))
		return 0;
	__builtin_memcpy(k.addr, q->addr, 16);
	v = bpf_map_lookup_elem(&sbx_pins, &k);
	if (!v)
		return 0;
	now = bpf_ktime_get_boot_ns();
	for (int i = 0; i < SBX_PIN_RULES; i++) {
		struct sbx_pin_rule *e = &v->e[i];

		if (i >= v->n)
			break;
		if (e->expires_ns <= now || q->port < e->r.port_lo || q->port > e->r.port_hi)
			continue;
		if (e->r.proto && e->r.proto != proto)
			continue;
		if (e->r.verdict == SBX_VERDICT_DENY) {
			*ret_rule = e->r.rule;
			return SBX_VERDICT_DENY;
		}
		if (!verdict) {
			verdict = SBX_VERDICT_ALLOW;
			*ret_rule = e->r.rule;
		}
	}
	return verdict;
}

/* A denied name's pin refuses; then the address entries' denials; then an
 * allowed name's pin; then the address entries' allows; then the mode
 * (docs/policy.md "Decision rule"). */
static __always_inline __u8 sbx_net_decide(struct sbx_ctx *c, struct sbx_net_query *q,
					   __u32 *ret_rule)
{
	struct sbx_net_value *v;
	__u32 pin_rule = SBX_RULE_DEFAULT;
	__u8 verdict = 0, pin;

	*ret_rule = SBX_RULE_DEFAULT;
	switch (sbx_eff_mode(c)) {
	case SBX_NETM_FULL:
		return SBX_VERDICT_ALLOW;
	case SBX_NETM_NONE:
		return SBX_VERDICT_DENY;
	}
	pin = sbx_pin_decide(c, q, &pin_rule);
	if (pin == SBX_VERDICT_DENY) {
		*ret_rule = pin_rule;
		return pin;
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
	if (verdict == SBX_VERDICT_DENY)
		return verdict;
	if (pin) {
		*ret_rule = pin_rule;
		return pin;
	}
	if (verdict)
		return verdict;
	return c->pol->net_mode == SBX_NETM_ALLOW ? SBX_VERDICT_DENY : SBX_VERDICT_ALLOW;
}

static __always_inline void sbx_query_set4(struct sbx_net_query *q, __u32 a)
{
	q->family = 4;
	__builtin_memset(q->addr, 0, sizeof(q->addr));
	__builtin_memcpy(q->addr, &a, 4);
}

/* IPv4 destination dst, from a socket whose IPv4 source is src. Routing turns
 * the destination 0.0.0.0 into the source (ip_route_output: daddr = saddr),
 * or into 127.0.0.1 when there is none. src is the bound address, which can
 * differ from the routing source (bound to a broadcast address), so both
 * readings are judged: the second goes to *alt. Other 0.0.0.0/8 addresses
 * are not rewritten and are judged as they are. */
static __always_inline bool sbx_query_v4(struct sbx_net_query *q, struct sbx_net_query *alt,
					 __u32 dst, __u32 src)
{
	sbx_query_set4(q, dst);
	if (dst != 0)
		return false;
	q->form = SBX_ADDR_UNSPECIFIED;
	sbx_query_set4(q, SBX_LOOPBACK4);
	if (src == 0 || src == SBX_LOOPBACK4)
		return false;
	*alt = *q;
	sbx_query_set4(alt, src);
	return true;
}

/* IPv6 destination a6. "::" is loopback (tcp_v6_connect, ip6_datagram_connect,
 * udpv6_sendmsg), in the socket's family of addresses; ::ffff:a.b.c.d is judged
 * as IPv4; the IPv4-compatible ::a.b.c.d (a.b.c.d outside 0.0.0.0/8, which a
 * sit tunnel would reach) is judged both ways. */
static __always_inline bool sbx_query_v6(struct sbx_net_query *q, struct sbx_net_query *alt,
					 __u32 a6[4], __u32 src4, bool src_mapped)
{
	q->family = 6;
	__builtin_memcpy(q->addr, a6, 16);
	if (a6[0] != 0 || a6[1] != 0)
		return false;
	if (a6[2] == bpf_htonl(0xffff)) {
		q->mapped = 1;
		return sbx_query_v4(q, alt, a6[3], src4);
	}
	if (a6[2] != 0)
		return false;
	if (a6[3] == 0) {
		q->form = SBX_ADDR_UNSPECIFIED;
		if (src_mapped)
			sbx_query_set4(q, SBX_LOOPBACK4);
		else
			q->addr[15] = 1;
		return false;
	}
	/* ::1 and the rest of ::/104 embed no IPv4 destination a tunnel could reach */
	if ((a6[3] & bpf_htonl(0xff000000)) == 0)
		return false;
	*alt = *q;
	alt->form = SBX_ADDR_V4COMPAT;
	q->form = SBX_ADDR_V4COMPAT;
	sbx_query_set4(q, a6[3]);
	return true;
}

/* Reads a sockaddr hook's destination as the kernel will use it; returns true
 * when *alt holds a second reading that must be judged too. v6 and send must
 * be constants: IPv4 hooks may not even read user_ip6, and only sendmsg4 has
 * msg_src_ip4 (the source after IP_PKTINFO). */
static __always_inline bool sbx_query_from_sa(struct bpf_sock_addr *ctx, struct sbx_net_query *q,
					      struct sbx_net_query *alt, const bool v6,
					      const bool send)
{
	struct bpf_sock *sk = ctx->sk;

	q->proto = ctx->protocol;
	q->port = bpf_ntohs((__u16)ctx->user_port);
	if (!v6) {
		/* udpv6_sendmsg hands ::ffff:a.b.c.d to udp_sendmsg as IPv4 */
		q->mapped = sk->family == AF_INET6;
		return sbx_query_v4(q, alt, ctx->user_ip4, send ? ctx->msg_src_ip4 : sk->src_ip4);
	}

	__u32 a6[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };
	bool src_mapped = sk->src_ip6[0] == 0 && sk->src_ip6[1] == 0 &&
			  sk->src_ip6[2] == bpf_htonl(0xffff);

	return sbx_query_v6(q, alt, a6, sk->src_ip4, src_mapped);
}

/* Bind is judged by port alone; the address is reported as passed. */
static __always_inline void sbx_query_bind(struct bpf_sock_addr *ctx, struct sbx_net_query *q,
					   const bool v6)
{
	q->proto = ctx->protocol;
	q->port = bpf_ntohs((__u16)ctx->user_port);
	if (!v6) {
		sbx_query_set4(q, ctx->user_ip4);
		return;
	}
	__u32 a6[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };

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
	ev.form = q->form;
	ev.rule = rule;
	ev.policy_id = c->policy_id;
	__builtin_memcpy(ev.addr, q->addr, 16);
	sbx_emit(c, &ev, sizeof(ev));
}

/* ---- sockaddr hooks ----------------------------------------------------- */

/* A TCP or UDP port-53 destination of a sandbox with a resolver goes to the
 * resolver, whatever address it names (so a workload cannot pick another
 * server): 1 when redirected (2: by a resolver that only observe mode
 * made), 0 when not a DNS destination, -1 to refuse (an IPv6 destination
 * where the resolver has no IPv6 address, or any when the resolver is gone
 * for good: its port is 0). The destination asked for is kept in the
 * socket's storage, for recvmsg and getpeername. */
static __always_inline int sbx_dns_redirect(struct bpf_sock_addr *ctx, struct sbx_ctx *c,
					    struct sbx_net_query *q, const bool v6)
{
	__u8 proto = sbx_rule_proto(q->proto);
	struct sbx_dns_orig *o;
	struct sbx_dns_slot *d;
	__u32 to[4] = {};

	if (q->port != 53 || (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return 0;
	d = sbx_dns_of(c);
	if (!d || !(d->flags & SBX_DNSF_REDIRECT))
		return 0;
	o = bpf_sk_storage_get(&sbx_dns_orig, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o)
		return -1;	/* nowhere to keep it: refuse rather than confuse */
	__builtin_memset(o, 0, sizeof(*o));
	o->port = bpf_htons(53);
	if (!v6) {
		__u32 a = ctx->user_ip4;

		if (!d->port4)
			return -1;	/* the resolver is gone for good */
		o->family = 4;
		__builtin_memcpy(o->addr, &a, 4);
		__builtin_memcpy(o->to, &d->addr4, 4);
		o->to_port = bpf_htons(d->port4);
		ctx->user_ip4 = d->addr4;
		ctx->user_port = o->to_port;
	} else {
		__u32 a6[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2],
				ctx->user_ip6[3] };

		o->family = 6;
		__builtin_memcpy(o->addr, a6, 16);
		if (d->port6) {
			__builtin_memcpy(to, d->addr6, 16);
			o->to_port = bpf_htons(d->port6);
		} else if (q->mapped && d->port4) {
			to[2] = bpf_htonl(0xffff);
			to[3] = d->addr4;
			o->to_port = bpf_htons(d->port4);
		} else {
			return -1;
		}
		__builtin_memcpy(o->to, to, 16);
		ctx->user_ip6[0] = to[0];
		ctx->user_ip6[1] = to[1];
		ctx->user_ip6[2] = to[2];
		ctx->user_ip6[3] = to[3];
		ctx->user_port = o->to_port;
	}
	return d->flags & SBX_DNSF_OBSERVED ? 2 : 1;
}

/* Whether q is the resolver of another sandbox (sbx_dns_ports). */
static __always_inline bool sbx_dns_foreign(struct sbx_ctx *c, struct sbx_net_query *q)
{
	struct sbx_dns_port_key k = { .family = q->family, .port = q->port };
	__u32 *slot;

	__builtin_memcpy(k.addr, q->addr, 16);
	slot = bpf_map_lookup_elem(&sbx_dns_ports, &k);
	return slot && *slot != c->slot;
}

/* recvmsg4/6 and getpeername4/6: the resolver's replies and a redirected
 * socket's peer show the address the workload asked for. Always 1. */
static __always_inline int sbx_dns_restore(struct bpf_sock_addr *ctx, const bool v6)
{
	struct sbx_dns_orig *o = bpf_sk_storage_get(&sbx_dns_orig, ctx->sk, 0, 0);
	__u32 to[4];

	if (!o || ctx->user_port != o->to_port)
		return 1;
	__builtin_memcpy(to, o->to, 16);
	if (!v6) {
		__u32 a;

		if (ctx->user_ip4 != to[0] || o->family != 4)
			return 1;
		__builtin_memcpy(&a, o->addr, 4);
		ctx->user_ip4 = a;
	} else {
		__u32 a6[4];

		if (ctx->user_ip6[0] != to[0] || ctx->user_ip6[1] != to[1] ||
		    ctx->user_ip6[2] != to[2] || ctx->user_ip6[3] != to[3] || o->family != 6)
			return 1;
		__builtin_memcpy(a6, o->addr, 16);
		ctx->user_ip6[0] = a6[0];
		ctx->user_ip6[1] = a6[1];
		ctx->user_ip6[2] = a6[2];
		ctx->user_ip6[3] = a6[3];
	}
	ctx->user_port = o->port;
	return 1;
}

/* connect4/6 and sendmsg4/6: 1 lets the call proceed, 0 fails it with EPERM.
 * A destination with two readings is refused when either is refused. */
static __always_inline int sbx_connect(struct bpf_sock_addr *ctx, __u16 type, const bool v6)
{
	struct sbx_net_query q = {}, alt = {};
	struct sbx_ctx c;
	__u32 rule, alt_rule;
	__u8 verdict;
	int dns;

	if (!sbx_ctx_current(&c))
		return 1;
	bool two = sbx_query_from_sa(ctx, &q, &alt, v6, type == SBX_EV_NET_SEND && !v6);

	/* a resolver exists only where the policy reads names, or under
	 * observe (which learns them): its slot entry says so */
	dns = sbx_dns_redirect(ctx, &c, &q, v6);
	if (dns == 2) {
		/* observe mode alone made the resolver: what the profile says
		 * of the server asked is what sbx learn needs */
		verdict = sbx_net_decide(&c, &q, &rule);
	} else if (dns) {
		verdict = dns > 0 ? SBX_VERDICT_ALLOW : SBX_VERDICT_DENY;
		rule = SBX_RULE_DNS;
	} else if (sbx_dns_foreign(&c, &q) || (two && sbx_dns_foreign(&c, &alt))) {
		verdict = SBX_VERDICT_DENY;
		rule = SBX_RULE_DNS;
	} else {
		verdict = sbx_net_decide(&c, &q, &rule);
		if (two && verdict == SBX_VERDICT_ALLOW &&
		    sbx_net_decide(&c, &alt, &alt_rule) != SBX_VERDICT_ALLOW) {
			verdict = SBX_VERDICT_DENY;
			rule = alt_rule;
			q = alt;
		}
	}
	if (type == SBX_EV_NET_CONNECT)
		__sync_fetch_and_add(verdict == SBX_VERDICT_ALLOW ? &c.st->connect_allowed
								 : &c.st->connect_denied, 1);
	else
		__sync_fetch_and_add(verdict == SBX_VERDICT_ALLOW ? &c.st->send_allowed
								 : &c.st->send_denied, 1);
	verdict = sbx_observe(&c, verdict);
	if (sbx_audit_wants(&c, verdict))
		sbx_emit_net(&c, type, verdict, &q, rule);
	return verdict != SBX_VERDICT_DENY;
}

/* Port 0 asks the kernel for an ephemeral port and is always allowed; any
 * other port must be listed in the profile's listen, in every mode. */
static __always_inline __u8 sbx_bind_decide(struct sbx_ctx *c, struct sbx_net_query *q)
{
	struct sbx_policy_cfg *p = c->pol;

	if (q->port == 0)
		return SBX_VERDICT_ALLOW;
	if (p->net_mode == SBX_NETM_NONE)
		return (p->flags & SBX_POLF_NETNS_PRIVATE) ? SBX_VERDICT_ALLOW : SBX_VERDICT_DENY;
	for (int i = 0; i < SBX_MAX_LISTEN; i++) {
		struct sbx_listen_range *l = &p->listen[i];

		if (i >= p->n_listen)
			break;
		if (q->port >= l->lo && q->port <= l->hi &&
		    (!l->proto || l->proto == sbx_rule_proto(q->proto)))
			return SBX_VERDICT_ALLOW;
	}
	return SBX_VERDICT_DENY;
}

static __always_inline int sbx_bind(struct bpf_sock_addr *ctx, const bool v6)
{
	struct sbx_net_query q = {};
	struct sbx_ctx c;
	__u8 verdict;

	if (!sbx_ctx_current(&c))
		return 1;
	sbx_query_bind(ctx, &q, v6);
	verdict = sbx_bind_decide(&c, &q);
	__sync_fetch_and_add(verdict == SBX_VERDICT_ALLOW ? &c.st->bind_allowed
							 : &c.st->bind_denied, 1);
	verdict = sbx_observe(&c, verdict);
	if (sbx_audit_wants(&c, verdict))
		sbx_emit_net(&c, SBX_EV_NET_BIND, verdict, &q, SBX_RULE_NONE);
	return verdict != SBX_VERDICT_DENY;
}

/* lsm/socket_listen, where BPF LSM works: refuses listen() itself (EPERM)
 * on a port outside the listen list, before the kernel sets the socket
 * listening. An unbound socket (port 0 here) would get an ephemeral port,
 * never one the profile listed: refused, reported with port 0. The ingress
 * check below stays as the net for kernels without BPF LSM. */
static __always_inline int sbx_lsm_listen(struct socket *sock)
{
	struct sbx_net_query q = { .family = 4 };
	struct sock *sk = BPF_CORE_READ(sock, sk);
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	struct sbx_ctx c;
	__u8 verdict;

	if ((fam != AF_INET && fam != AF_INET6) || !sbx_ctx_current(&c))
		return 0;
	q.proto = BPF_CORE_READ(sk, sk_protocol);
	q.port = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (fam == AF_INET6) {
		q.family = 6;
		BPF_CORE_READ_INTO(&q.addr, sk, __sk_common.skc_v6_rcv_saddr);
	} else {
		BPF_CORE_READ_INTO(&q.addr, sk, __sk_common.skc_rcv_saddr);
	}
	verdict = sbx_bind_decide(&c, &q);
	if (q.port == 0 && !(c.pol->net_mode == SBX_NETM_NONE && (c.pol->flags & SBX_POLF_NETNS_PRIVATE)))
		verdict = SBX_VERDICT_DENY;
	if (verdict == SBX_VERDICT_ALLOW)
		return 0;
	__sync_fetch_and_add(&c.st->bind_denied, 1);
	verdict = sbx_observe(&c, verdict);
	if (sbx_audit_wants(&c, verdict))
		sbx_emit_net(&c, SBX_EV_NET_BIND, verdict, &q, SBX_RULE_NONE);
	return verdict == SBX_VERDICT_DENY ? -SBX_EPERM : 0;
}

/* The inet protocols whose every destination passes a sockaddr hook (TCP,
 * UDP) or the egress safety net (UDP-Lite, ICMP echo sockets). SCTP (more
 * addresses per association, peer-announced paths, no hook on its own bind or
 * sendmsg), DCCP and MPTCP (subflows to peer-announced addresses, opened by
 * the kernel outside the workload's context) are not. */
static __always_inline bool sbx_proto_judged(__u32 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE ||
	       proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

/* Raw and packet sockets bypass the sockaddr hooks: refuse them unless the
 * profile allows them. Mode "none" refuses every inet socket; modes "allow"
 * and "deny" refuse inet sockets of protocols the hooks cannot judge. */
static __always_inline bool sbx_sock_refused(struct sbx_ctx *c, struct bpf_sock *sk)
{
	bool raw = sk->type == SOCK_RAW || sk->family == AF_PACKET;
	bool inet = sk->family == AF_INET || sk->family == AF_INET6;
	__u8 mode = sbx_eff_mode(c);

	if (raw && !(c->pol->flags & SBX_POLF_RAW_SOCKETS))
		return true;
	if (!inet || mode == SBX_NETM_FULL)
		return false;
	if (mode == SBX_NETM_NONE)
		return true;
	return !raw && !sbx_proto_judged(sk->protocol);
}

static __always_inline int sbx_sock_create_allowed(struct bpf_sock *sk)
{
	struct sbx_ev_sock ev = {};
	struct sbx_ctx c;
	__u8 verdict;

	/* neither raw nor inet (unix, netlink, ...): allowed whoever asks,
	 * without the sandbox's lookups (sbx_sock_refused says the same) */
	if (sk->type != SOCK_RAW && sk->family != AF_PACKET && sk->family != AF_INET &&
	    sk->family != AF_INET6)
		return 1;
	if (!sbx_ctx_current(&c))
		return 1;
	if (!sbx_sock_refused(&c, sk))
		return 1;
	__sync_fetch_and_add(&c.st->sock_denied, 1);
	verdict = sbx_observe(&c, SBX_VERDICT_DENY);
	if (sbx_audit_wants(&c, verdict)) {
		sbx_hdr_fill(&ev.hdr, &c, SBX_EV_SOCK_CREATE, sizeof(ev));
		ev.verdict = verdict;
		ev.family = sk->family;
		ev.type = sk->type;
		ev.protocol = sk->protocol;
		sbx_emit(&c, &ev, sizeof(ev));
	}
	return verdict != SBX_VERDICT_DENY;
}

/* ---- setsockopt ---------------------------------------------------------- */

/* Options that make the kernel send a socket's packets to an address other
 * than the one connect/sendmsg judged: an IPv6 routing header (the packet
 * leaves for its first segment), the RFC 2292 form (IPV6_2292PKTOPTIONS
 * sets sticky options from a cmsg buffer, routing headers included), and IPv4
 * options, whose LSRR/SSRR send the packet to the first hop. An empty value
 * only clears them and is allowed. As a socket option IPV6_2292RTHDR only asks
 * to receive routing headers; IPV6_HOPOPTS/DSTOPTS/RTHDRDSTOPTS need
 * CAP_NET_RAW and carry no route (their options are read by the hops and the
 * destination, none rewrites the destination). */
static __always_inline bool sbx_sockopt_reroutes(__s32 level, __s32 name, __s32 len)
{
	if (level == SOL_IP)
		return name == IP_OPTIONS && len > 0;
	return level == SOL_IPV6 && (name == IPV6_RTHDR || name == IPV6_2292PKTOPTIONS) && len > 0;
}

/* cgroup/setsockopt: 0 fails the call with EPERM, 1 lets the kernel apply it.
 * Options the programs do not judge pass untouched; optlen 0 tells the kernel
 * to use the caller's own buffer when it is larger than the page the program
 * sees (otherwise 6.1 fails such calls with EFAULT). Cmsgs on sendmsg are not
 * seen here: the egress safety net judges those packets. */
static __always_inline int sbx_setsockopt_judge(struct bpf_sockopt *ctx)
{
	/* each ctx field read once: the verifier refuses a ctx pointer that
	 * the compiler offset to share one load between branches */
	__s32 level = ctx->level, name = ctx->optname, len = ctx->optlen;
	struct sbx_ev_sockopt ev = {};
	struct bpf_sock *sk = ctx->sk;
	struct sbx_ctx c;
	__u8 verdict;

	if (len > SBX_PAGE_SIZE)
		ctx->optlen = 0;
	/* the option first: nearly every setsockopt (TCP_NODELAY, SO_LINGER,
	 * ...) passes whoever makes it, without the sandbox's lookups */
	if (!sbx_sockopt_reroutes(level, name, len))
		return 1;
	if (!sbx_ctx_current(&c) || sbx_eff_mode(&c) == SBX_NETM_FULL)
		return 1;
	__sync_fetch_and_add(&c.st->sock_denied, 1);
	verdict = sbx_observe(&c, SBX_VERDICT_DENY);
	if (sbx_audit_wants(&c, verdict)) {
		sbx_hdr_fill(&ev.hdr, &c, SBX_EV_NET_SOCKOPT, sizeof(ev));
		ev.verdict = verdict;
		ev.family = sk ? sk->family : 0;
		ev.level = level;
		ev.optname = name;
		sbx_emit(&c, &ev, sizeof(ev));
	}
	return verdict != SBX_VERDICT_DENY;
}

/* ---- unix addresses (cgroup/connect_unix, cgroup/sendmsg_unix) ---------- */

/* Kernel functions of Linux 6.3 and later; weak, so that an object holding
 * the unix programs still loads where they are absent (the programs are then
 * not loaded: user/core/bpfload.c). */
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;
extern void *bpf_rdonly_cast(void *obj, __u32 btf_id) __ksym __weak;

static __always_inline bool sbx_unix_listed(struct sbx_policy_cfg *pol, const char *path)
{
	for (int i = 0; i < SBX_MAX_UNIX; i++) {
		bool same = true;

		if (i >= pol->n_unix)
			break;
		for (int j = 0; j < SBX_UNIX_PATH_LEN; j++) {
			if (pol->unix_path[i][j] != path[j]) {
				same = false;
				break;
			}
			if (!path[j])
				break;
		}
		if (same)
			return true;
	}
	return false;
}

/* An opaque bound the verifier keeps, whatever clang knows of v. */
static __always_inline __u64 sbx_unix_len(__s64 v)
{
	__u64 n = v < 0 ? 0 : v;

	asm volatile("" : "+r"(n));
	if (n > SBX_UNIX_PATH_LEN - 1)
		n = SBX_UNIX_PATH_LEN - 1;
	return n;
}

/* An abstract name: the bytes after the leading NUL, len of them in all.
 * Its length goes with it: a name may hold NUL bytes, which the path's
 * terminator would cut (the trail would show "" for "\0\0secret"). */
static __always_inline int sbx_unix_abstract(struct sbx_ev_unix *ev, __u32 len, const char *src)
{
	__u64 n = sbx_unix_len((__s64)len - 1);

	__builtin_memset(ev->path, 0, sizeof(ev->path));
	ev->name_len = (__u8)n;
	return bpf_probe_read_kernel(ev->path, n, src + 1) ? -1 : 0;
}

/* The workload's address, as the kernel will use it: a pathname ends at the
 * first NUL or at the address length; an abstract name starts with a NUL. */
static __always_inline int sbx_unix_read(struct bpf_sock_addr *ctx, struct sbx_ev_unix *ev)
{
	struct bpf_sock_addr_kern *sa = bpf_cast_to_kern_ctx(ctx);
	struct sockaddr_un *un;
	__u32 len;

	un = bpf_rdonly_cast(sa->uaddr, bpf_core_type_id_kernel(struct sockaddr_un));
	len = sa->uaddrlen;
	len = len > 2 ? len - 2 : 0;
	if (len > SBX_UNIX_PATH_LEN - 1)
		len = SBX_UNIX_PATH_LEN - 1;
	if (bpf_probe_read_kernel(ev->path, sbx_unix_len(len), un->sun_path))
		return -1;
	ev->abstract = len > 0 && !ev->path[0];
	if (ev->abstract)
		return sbx_unix_abstract(ev, len, un->sun_path);
	return 0;
}

/* A unix address is allowed when listed, when the profile says "*", or
 * for an abstract name inside a network namespace of the sandbox's own.
 * Everything else is a host socket the profile did not name: refused and
 * reported. */
static __always_inline bool sbx_unix_judge(struct sbx_ctx *c, struct sbx_ev_unix *ev, bool send)
{
	bool ok = ev->abstract ? !!(c->pol->flags & SBX_POLF_OWN_NETNS)
			       : sbx_unix_listed(c->pol, ev->path);
	__u8 verdict;

	if (ok)
		return true;
	__sync_fetch_and_add(&c->st->sock_denied, 1);
	verdict = sbx_observe(c, SBX_VERDICT_DENY);
	if (sbx_audit_wants(c, verdict)) {
		sbx_hdr_fill(&ev->hdr, c, SBX_EV_NET_UNIX, sizeof(*ev));
		ev->verdict = verdict;
		ev->send = send;
		ev->policy_id = c->policy_id;
		sbx_emit(c, ev, sizeof(*ev));
	}
	return verdict != SBX_VERDICT_DENY;
}

/* cgroup/connect_unix, cgroup/sendmsg_unix: the address the workload passed. */
static __always_inline int sbx_unix_addr(struct bpf_sock_addr *ctx, bool send)
{
	struct sbx_ev_unix ev = {};
	struct sbx_ctx c;

	if (!sbx_ctx_current(&c) || (c.pol->flags & SBX_POLF_UNIX_ANY))
		return 1;
	if (sbx_unix_read(ctx, &ev) < 0)
		return 0;
	return sbx_unix_judge(&c, &ev, send);
}

/* lsm/unix_stream_connect, lsm/unix_may_send (BPF LSM, any kernel that has
 * it): the name the peer was bound to. A peer without a name (socketpair)
 * is no host socket. Returns 0 or -EPERM. */
static __always_inline int sbx_unix_peer(struct sock *other, bool send)
{
	struct unix_address *addr = BPF_CORE_READ((struct unix_sock *)other, addr);
	struct sbx_ev_unix ev = {};
	struct sbx_ctx c;
	int len;

	if (!addr || !sbx_ctx_current(&c) || (c.pol->flags & SBX_POLF_UNIX_ANY))
		return 0;
	len = BPF_CORE_READ(addr, len) - 2;
	if (len <= 0)
		return 0;
	if (len > SBX_UNIX_PATH_LEN - 1)
		len = SBX_UNIX_PATH_LEN - 1;
	if (bpf_probe_read_kernel(ev.path, sbx_unix_len(len), addr->name[0].sun_path))
		return -SBX_EPERM;
	ev.abstract = !ev.path[0];
	if (ev.abstract && sbx_unix_abstract(&ev, len, addr->name[0].sun_path) < 0)
		return -SBX_EPERM;
	return sbx_unix_judge(&c, &ev, send) ? 0 : -SBX_EPERM;
}

/* ---- cgroup_skb --------------------------------------------------------- */

static __always_inline bool sbx_ctx_skb(struct sbx_ctx *c, struct __sk_buff *skb)
{
	bool found = sbx_ctx_from_cgroup(c, bpf_skb_cgroup_id(skb));

	if (!found && sandbox_level)
		found = sbx_ctx_from_cgroup(c, bpf_skb_ancestor_cgroup_id(skb, sandbox_level));
	c->no_task = true;
	return found;
}

/* Takes the packet's bytes from the net_bytes quota: false (drop it) when
 * they do not fit. The bytes are reserved with one atomic add on a counter of
 * their own and given back when they overshoot, so packets on two CPUs, or
 * an ACK arriving while data leaves, can never carry the total past the quota
 * between a check and an add. */
static __always_inline bool sbx_quota_take(struct sbx_ctx *c, struct __sk_buff *skb)
{
	struct sbx_ev_quota ev = {};
	__u64 before, quota = c->pol->net_bytes_quota;
	__s64 len = skb->len;

	if (!quota)
		return true;
	before = __sync_fetch_and_add(&c->st->quota_used, len);
	if (before + len <= quota)
		return true;
	__sync_fetch_and_add(&c->st->quota_used, -len);
	__sync_fetch_and_add(&c->st->quota_hits, 1);
	if (__sync_val_compare_and_swap(&c->st->quota_reported, 0, 1) == 0 &&
	    sbx_audit_wants(c, SBX_VERDICT_DENY)) {
		sbx_hdr_fill(&ev.hdr, c, SBX_EV_NET_QUOTA, sizeof(ev));
		ev.bytes = before + len;
		ev.quota = quota;
		sbx_emit(c, &ev, sizeof(ev));
	}
	return false;
}

/* The upper-layer protocol behind up to four IPv6 extension headers
 * (hop-by-hop, routing, fragment, destination options), and its offset;
 * 255 when it cannot be told. *routed is set when a routing header (43) is
 * among them: the packet's daddr is then its first segment, not the address
 * that connect or sendmsg judged. */
static __always_inline __u8 sbx_ipv6_upper(struct __sk_buff *skb, __u8 next, __u32 *ret_off,
					   bool *routed)
{
	__u32 off = sizeof(struct ipv6hdr);

	for (int i = 0; i < 4; i++) {
		__u8 ext[2];

		*ret_off = off;
		if (next != 0 && next != 43 && next != 44 && next != 60)
			return next;
		if (next == 43)
			*routed = true;
		if (bpf_skb_load_bytes(skb, off, ext, sizeof(ext)))
			return 255;
		next = ext[0];
		off += (ext[1] + 1) * 8;
	}
	return 255;
}

/* Whether an egress packet comes from a raw socket: its TCP or UDP header
 * was written by the workload and passed no sockaddr hook. */
static __always_inline bool sbx_skb_raw(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return false;
	sk = bpf_sk_fullsock(sk);
	return sk && sk->type == SOCK_RAW;
}

/* Reads the destination, upper protocol and (UDP-Lite, or TCP and UDP that
 * are rerouted or come from a raw socket) destination port of an egress
 * packet; false when the headers cannot be read. *routed: the packet carries
 * a route of its own (an IPv6 routing header, or IPv4 options, where
 * LSRR/SSRR live), so its daddr on the wire is a hop that no sockaddr hook
 * saw. */
static __always_inline bool sbx_skb_query(struct __sk_buff *skb, struct sbx_net_query *q,
					  bool *routed, bool raw)
{
	__u32 l4 = 0;
	__be16 ports[2];

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return false;
		sbx_query_set4(q, ip.daddr);
		q->proto = ip.protocol;
		l4 = ip.ihl * 4;
		*routed = ip.ihl > 5;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return false;
		q->family = 6;
		q->proto = sbx_ipv6_upper(skb, ip6.nexthdr, &l4, routed);
		__builtin_memcpy(q->addr, &ip6.daddr, 16);
		if (q->proto == 255)
			return false;
	} else {
		return false;
	}
	if (q->proto != IPPROTO_UDPLITE &&
	    !((*routed || raw) && (q->proto == IPPROTO_TCP || q->proto == IPPROTO_UDP)))
		return true;
	if (bpf_skb_load_bytes(skb, l4, ports, sizeof(ports)))
		return false;
	q->port = bpf_ntohs(ports[1]);
	return true;
}

/* A port-53 packet that reached the egress without going to the sandbox's
 * resolver (the sockaddr hooks send every TCP and UDP one there): UDP-Lite
 * after connect(), which runs no hook, a raw socket's, or a rerouted one. */
static __always_inline bool sbx_skb_dns_bypass(struct sbx_ctx *c, struct sbx_net_query *q)
{
	struct sbx_dns_slot *d;
	__u8 proto = sbx_rule_proto(q->proto);

	if (q->port != 53 || (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return false;
	d = sbx_dns_of(c);
	return d && (d->flags & SBX_DNSF_REDIRECT);
}

/* Safety net for traffic that no sockaddr hook saw, such as ICMP echo sockets
 * sending with sendto(). TCP and UDP were judged at connect/sendmsg time (and
 * replies of accepted connections must pass), unless the packet carries its
 * own route: a routing header or IPv4 source route (set with a cmsg, which
 * the setsockopt hook cannot see) sends it to a first hop that nobody judged,
 * so its wire daddr and port are judged here like a connect; so are the TCP
 * and UDP packets of a raw socket (raw_sockets = true), whose headers the
 * workload wrote. UDP-Lite has no connect hook (udplite_prot has no
 * pre_connect), so every UDP-Lite packet is judged here with its port, as
 * UDP. Any of these to port 53 of a sandbox with a resolver is dropped
 * (SBX_RULE_DNS): port 53 is the resolver's, and only the sockaddr hooks can
 * send a packet there. Other protocols are judged as port-less
 * destinations. It fails closed: a packet whose headers it cannot read, or of
 * another protocol with ports (SCTP, DCCP: port rules cannot be applied to a
 * port-less lookup), is dropped under modes "allow" and "deny" with rule
 * SBX_RULE_UNJUDGED. */
static __always_inline bool sbx_skb_refused(struct sbx_ctx *c, struct __sk_buff *skb,
					    struct sbx_net_query *q)
{
	__u32 rule = SBX_RULE_UNJUDGED;
	bool routed = false, raw;

	if (sbx_eff_mode(c) == SBX_NETM_FULL)
		return false;
	raw = sbx_skb_raw(skb);
	if (sbx_skb_query(skb, q, &routed, raw)) {
		if (!routed && !raw && (q->proto == IPPROTO_TCP || q->proto == IPPROTO_UDP))
			return false;
		if (sbx_skb_dns_bypass(c, q))
			rule = SBX_RULE_DNS;
		else if (q->proto != IPPROTO_SCTP && q->proto != IPPROTO_DCCP &&
			 sbx_net_decide(c, q, &rule) == SBX_VERDICT_ALLOW)
			return false;
	}
	__u8 verdict = sbx_observe(c, SBX_VERDICT_DENY);

	if (sbx_audit_wants(c, verdict))
		sbx_emit_net(c, SBX_EV_NET_PACKET, verdict, q, rule);
	return verdict == SBX_VERDICT_DENY;
}

/* The listen list at the listener. The bind hooks judge only the port that
 * bind() asks for: bind to port 0, and listen() on an unbound socket (which
 * picks a port in inet_csk_listen_start and runs no bind hook), give a
 * listener on a port nobody judged. Every packet for a listener passes its
 * socket filter (tcp_filter, before the SYN or a cookie ACK is processed), so
 * dropping them there means no connection is ever set up on such a port: the
 * peer's SYN goes unanswered. Reported once per socket, as a net.bind denial
 * with the port the kernel picked and the listener's address. */
static __always_inline bool sbx_listener_refused(struct sbx_ctx *c, struct __sk_buff *skb)
{
	struct sbx_net_query q = {};
	struct bpf_sock *sk = skb->sk;
	__u8 *seen;

	if (!sk || sk->state != BPF_TCP_LISTEN)
		return false;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return true;	/* a listener is a full socket: fail closed */
	q.proto = sk->protocol;
	q.port = sk->src_port;
	if (sbx_bind_decide(c, &q) == SBX_VERDICT_ALLOW)
		return false;
	seen = bpf_sk_storage_get(&sbx_listen_seen, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (seen && *seen)	/* reported already, and counted once */
		return !sbx_observing(c);
	if (seen)
		*seen = 1;
	__u8 verdict = sbx_observe(c, SBX_VERDICT_DENY);

	/* every field read once, unconditionally: the verifier refuses
	 * arithmetic on the socket pointer that a branch would make clang emit */
	__u32 fam = sk->family, a4 = sk->src_ip4;
	__u32 a6[4] = { sk->src_ip6[0], sk->src_ip6[1], sk->src_ip6[2], sk->src_ip6[3] };

	barrier_var(a4);
	if (fam == AF_INET) {
		sbx_query_set4(&q, a4);
	} else {
		q.family = 6;
		__builtin_memcpy(q.addr, a6, 16);
	}
	__sync_fetch_and_add(&c->st->bind_denied, 1);
	if (sbx_audit_wants(c, verdict))
		sbx_emit_net(c, SBX_EV_NET_BIND, verdict, &q, SBX_RULE_NONE);
	return verdict == SBX_VERDICT_DENY;
}

/* Ingress counts bytes and packets, and drops (0) what reaches a listener on
 * a port outside the listen list, and what does not fit in the quota. */
static __always_inline int sbx_skb_in(struct __sk_buff *skb)
{
	struct sbx_ctx c;

	if (!sbx_ctx_skb(&c, skb))
		return 1;
	if (sbx_listener_refused(&c, skb) || !sbx_quota_take(&c, skb)) {
		__sync_fetch_and_add(&c.st->packets_dropped, 1);
		return 0;
	}
	__sync_fetch_and_add(&c.st->bytes_in, skb->len);
	__sync_fetch_and_add(&c.st->packets_in, 1);
	return 1;
}

/* Egress counts, and drops (0) past the byte quota or by the safety net. */
static __always_inline int sbx_skb_out(struct __sk_buff *skb)
{
	struct sbx_net_query q = {};
	struct sbx_ctx c;

	if (!sbx_ctx_skb(&c, skb))
		return 1;
	if (sbx_skb_refused(&c, skb, &q) || !sbx_quota_take(&c, skb)) {
		__sync_fetch_and_add(&c.st->packets_dropped, 1);
		return 0;
	}
	__sync_fetch_and_add(&c.st->bytes_out, skb->len);
	__sync_fetch_and_add(&c.st->packets_out, 1);
	return 1;
}

#endif
