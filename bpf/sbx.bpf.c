// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sbx's cgroup programs. They are attached once at the sbx cgroup root and
 * inherited by every sandbox cgroup below it; a task outside any sandbox is
 * never affected (every program returns "allow" when the lookup misses).
 * Returning 0 from a sock_addr or sock_create program makes the syscall fail
 * with EPERM; from a cgroup_skb program it drops the packet.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "net.h"
#include "lsm.h"		/* BPF LSM filesystem and exec policy */
#include "fsaudit.h"	/* file syscall refusals of other backends (Landlock) */

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD

static __always_inline int sbx_connect(struct bpf_sock_addr *ctx, __u16 type, const bool v6)
{
	struct sbx_net_query q = {};
	struct sbx_ctx c;
	__u32 rule;
	__u8 verdict;

	if (!sbx_ctx_current(&c))
		return 1;
	sbx_query_from_sa(ctx, &q, v6);
	verdict = sbx_net_decide(&c, &q, &rule);
	if (type == SBX_EV_NET_CONNECT)
		__sync_fetch_and_add(verdict == SBX_VERDICT_ALLOW ? &c.st->connect_allowed
								 : &c.st->connect_denied, 1);
	else
		__sync_fetch_and_add(verdict == SBX_VERDICT_ALLOW ? &c.st->send_allowed
								 : &c.st->send_denied, 1);
	if (sbx_audit_wants(&c, verdict))
		sbx_emit_net(&c, type, verdict, &q, rule);
	return verdict == SBX_VERDICT_ALLOW;
}

SEC("cgroup/connect4")
int sbx_connect4(struct bpf_sock_addr *ctx) { return sbx_connect(ctx, SBX_EV_NET_CONNECT, false); }

SEC("cgroup/connect6")
int sbx_connect6(struct bpf_sock_addr *ctx) { return sbx_connect(ctx, SBX_EV_NET_CONNECT, true); }

SEC("cgroup/sendmsg4")
int sbx_sendmsg4(struct bpf_sock_addr *ctx) { return sbx_connect(ctx, SBX_EV_NET_SEND, false); }

SEC("cgroup/sendmsg6")
int sbx_sendmsg6(struct bpf_sock_addr *ctx) { return sbx_connect(ctx, SBX_EV_NET_SEND, true); }

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
		if (q->port >= l->lo && q->port <= l->hi && (!l->proto || l->proto == q->proto))
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
	sbx_query_from_sa(ctx, &q, v6);
	verdict = sbx_bind_decide(&c, &q);
	__sync_fetch_and_add(verdict == SBX_VERDICT_ALLOW ? &c.st->bind_allowed
							 : &c.st->bind_denied, 1);
	if (sbx_audit_wants(&c, verdict))
		sbx_emit_net(&c, SBX_EV_NET_BIND, verdict, &q, SBX_RULE_NONE);
	return verdict == SBX_VERDICT_ALLOW;
}

SEC("cgroup/bind4")
int sbx_bind4(struct bpf_sock_addr *ctx) { return sbx_bind(ctx, false); }

SEC("cgroup/bind6")
int sbx_bind6(struct bpf_sock_addr *ctx) { return sbx_bind(ctx, true); }

/* Raw and packet sockets bypass the sockaddr hooks: refuse them unless the
 * profile allows them. Mode "none" refuses every inet socket. */
SEC("cgroup/sock_create")
int sbx_sock_create(struct bpf_sock *sk)
{
	struct sbx_ev_sock ev = {};
	struct sbx_ctx c;
	bool raw, inet;

	if (!sbx_ctx_current(&c))
		return 1;
	raw = sk->type == SOCK_RAW || sk->family == AF_PACKET;
	inet = sk->family == AF_INET || sk->family == AF_INET6;
	if (!(raw && !(c.pol->flags & SBX_POLF_RAW_SOCKETS)) &&
	    !(inet && sbx_eff_mode(&c) == SBX_NETM_NONE))
		return 1;
	__sync_fetch_and_add(&c.st->sock_denied, 1);
	if (sbx_audit_wants(&c, SBX_VERDICT_DENY)) {
		sbx_hdr_fill(&ev.hdr, &c, SBX_EV_SOCK_CREATE, sizeof(ev));
		ev.verdict = SBX_VERDICT_DENY;
		ev.family = sk->family;
		ev.type = sk->type;
		ev.protocol = sk->protocol;
		sbx_emit(c.slot, &ev, sizeof(ev));
	}
	return 0;
}

static __always_inline bool sbx_ctx_skb(struct sbx_ctx *c, struct __sk_buff *skb)
{
	bool found = sbx_ctx_from_cgroup(c, bpf_skb_cgroup_id(skb));

	if (!found && sandbox_level)
		found = sbx_ctx_from_cgroup(c, bpf_skb_ancestor_cgroup_id(skb, sandbox_level));
	c->no_task = true;
	return found;
}

SEC("cgroup_skb/ingress")
int sbx_skb_ingress(struct __sk_buff *skb)
{
	struct sbx_ctx c;

	if (!sbx_ctx_skb(&c, skb))
		return 1;
	__sync_fetch_and_add(&c.st->bytes_in, skb->len);
	__sync_fetch_and_add(&c.st->packets_in, 1);
	return 1;
}

static __always_inline bool sbx_quota_exceeded(struct sbx_ctx *c, struct __sk_buff *skb)
{
	struct sbx_ev_quota ev = {};
	__u64 used, quota = c->pol->net_bytes_quota;

	if (!quota)
		return false;
	used = c->st->bytes_in + c->st->bytes_out;
	if (used + skb->len <= quota)
		return false;
	__sync_fetch_and_add(&c->st->quota_hits, 1);
	if (__sync_val_compare_and_swap(&c->st->quota_reported, 0, 1) == 0 &&
	    sbx_audit_wants(c, SBX_VERDICT_DENY)) {
		sbx_hdr_fill(&ev.hdr, c, SBX_EV_NET_QUOTA, sizeof(ev));
		ev.bytes = used + skb->len;
		ev.quota = quota;
		sbx_emit(c->slot, &ev, sizeof(ev));
	}
	return true;
}

/* The upper-layer protocol behind up to four IPv6 extension headers
 * (hop-by-hop, routing, fragment, destination options); 255 when it cannot be told. */
static __always_inline __u8 sbx_ipv6_upper(struct __sk_buff *skb, __u8 next)
{
	__u32 off = sizeof(struct ipv6hdr);

	for (int i = 0; i < 4; i++) {
		__u8 ext[2];

		if (next != 0 && next != 43 && next != 44 && next != 60)
			return next;
		if (bpf_skb_load_bytes(skb, off, ext, sizeof(ext)))
			return 255;
		next = ext[0];
		off += (ext[1] + 1) * 8;
	}
	return 255;
}

/* Safety net for traffic that no sockaddr hook saw, such as ICMP echo sockets
 * sending with sendto(). TCP and UDP were judged at connect/sendmsg time (and
 * replies of accepted connections must pass), so only other protocols are
 * judged here, as port-less destinations. */
static __always_inline bool sbx_skb_refused(struct sbx_ctx *c, struct __sk_buff *skb,
					    struct sbx_net_query *q)
{
	__u32 rule;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return false;
		q->family = 4;
		q->proto = ip.protocol;
		__builtin_memcpy(q->addr, &ip.daddr, 4);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return false;
		q->family = 6;
		q->proto = sbx_ipv6_upper(skb, ip6.nexthdr);
		__builtin_memcpy(q->addr, &ip6.daddr, 16);
	} else {
		return false;
	}
	if (q->proto == IPPROTO_TCP || q->proto == IPPROTO_UDP)
		return false;
	if (sbx_net_decide(c, q, &rule) == SBX_VERDICT_ALLOW)
		return false;
	if (sbx_audit_wants(c, SBX_VERDICT_DENY))
		sbx_emit_net(c, SBX_EV_NET_PACKET, SBX_VERDICT_DENY, q, rule);
	return true;
}

SEC("cgroup_skb/egress")
int sbx_skb_egress(struct __sk_buff *skb)
{
	struct sbx_net_query q = {};
	struct sbx_ctx c;

	if (!sbx_ctx_skb(&c, skb))
		return 1;
	if (sbx_quota_exceeded(&c, skb) || sbx_skb_refused(&c, skb, &q)) {
		__sync_fetch_and_add(&c.st->packets_dropped, 1);
		return 0;
	}
	__sync_fetch_and_add(&c.st->bytes_out, skb->len);
	__sync_fetch_and_add(&c.st->packets_out, 1);
	return 1;
}

#define EPERM		1
#define EACCES		13
#define NR_socket	41	/* x86_64 */

static __always_inline void sbx_emit_packet_socket(struct sbx_ctx *c, struct pt_regs *regs)
{
	struct sbx_ev_sock ev = {};

	__sync_fetch_and_add(&c->st->sock_denied, 1);
	sbx_hdr_fill(&ev.hdr, c, SBX_EV_SOCK_CREATE, sizeof(ev));
	ev.verdict = SBX_VERDICT_DENY;
	ev.family = (__u32)BPF_CORE_READ(regs, di);
	ev.type = (__u32)BPF_CORE_READ(regs, si);
	ev.protocol = (__u32)BPF_CORE_READ(regs, dx);
	sbx_emit(c->slot, &ev, sizeof(ev));
}

/* Syscalls refused by the sandbox's seccomp filter leave no trace of their
 * own: catch them on the way out. Every other process pays one compare. */
SEC("tp_btf/sys_exit")
int BPF_PROG(sbx_sys_exit, struct pt_regs *regs, long ret)
{
	struct sbx_ev_syscall ev = {};
	struct sbx_syscall_set *set;
	struct sbx_ctx c;
	__u64 nr;

	if (ret != -EPERM && ret != -EACCES)
		return 0;
	if (!sbx_ctx_current(&c))
		return 0;
	if (sbx_fsaudit_exit(&c, regs, ret) || ret != -EPERM)
		return 0;
	set = bpf_map_lookup_elem(&sbx_syscalls, &c.policy_id);
	nr = BPF_CORE_READ(regs, orig_ax);
	if (!set || !sbx_audit_wants(&c, SBX_VERDICT_DENY))
		return 0;
	/* inet sockets were judged (and audited) by sock_create already */
	/* inet sockets were judged (and audited) by sock_create already; raw,
	 * packet and SOCK_PACKET sockets the workload may not open fail earlier,
	 * in the kernel's own CAP_NET_RAW check or in seccomp: report them here */
	if (nr == NR_socket) {
		__u64 fam = BPF_CORE_READ(regs, di), type = BPF_CORE_READ(regs, si) & 0xf;

		if ((fam == AF_PACKET || type == SOCK_RAW || type == 10 /* SOCK_PACKET */) &&
		    (set->flags & SBX_SYSF_PACKET_REFUSED))
			sbx_emit_packet_socket(&c, regs);
		return 0;
	}
	if (nr >= SBX_SYSCALL_WORDS * 64 ||
	    !(set->bits[(nr / 64) & (SBX_SYSCALL_WORDS - 1)] & (1ULL << (nr % 64))))
		return 0;
	sbx_hdr_fill(&ev.hdr, &c, SBX_EV_SYSCALL_DENIED, sizeof(ev));
	ev.nr = (__u32)nr;
	ev.ret = (__s32)ret;
	ev.args[0] = BPF_CORE_READ(regs, di);
	ev.args[1] = BPF_CORE_READ(regs, si);
	ev.args[2] = BPF_CORE_READ(regs, dx);
	sbx_emit(c.slot, &ev, sizeof(ev));
	return 0;
}

/* Landlock's blind spot: executables with no place in the hierarchy
 * (bpf/lib/fsaudit.h). Runs once per exec on the host. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(sbx_exec_guard_prog, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return sbx_exec_guard(bprm);
}

/* Lets user space put sandbox start/exit events into the same streams, with
 * sequence numbers from the same counter (run with BPF_PROG_TEST_RUN). */
SEC("syscall")
int sbx_emit_user(struct sbx_emit_ctx *uctx)
{
	struct sbx_ev_life ev = {};
	struct sbx_ctx c = {};
	__u32 slot = uctx->slot;
	struct sbx_slot *s;

	c.slot = slot;
	c.st = bpf_map_lookup_elem(&sbx_stats, &slot);
	s = bpf_map_lookup_elem(&sbx_slots, &slot);
	if (!c.st || !s || !(s->flags & SBX_SLOTF_ACTIVE) ||
	    (uctx->type != SBX_EV_SANDBOX_START && uctx->type != SBX_EV_SANDBOX_EXIT)) {
		uctx->ret_seq = -22;
		return 0;
	}
	sbx_hdr_fill(&ev.hdr, &c, uctx->type, sizeof(ev));
	ev.hdr.pid = ev.hdr.tgid = uctx->workload_pid;
	ev.hdr.cgroup_id = s->cgroup_id;
	ev.workload_pid = uctx->workload_pid;
	ev.exit_code = uctx->exit_code;
	ev.signal = uctx->signal;
	ev.flags = uctx->flags;
	sbx_emit(slot, &ev, sizeof(ev));
	uctx->ret_seq = ev.hdr.seq;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
