// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sbx's cgroup programs. They are attached once at the sbx cgroup root and
 * inherited by every sandbox cgroup below it; a task outside any sandbox is
 * never affected (every program returns "allow" when the lookup misses).
 * Returning 0 from a sock_addr or sock_create program makes the syscall fail
 * with EPERM; from a cgroup_skb program it drops the packet. One BPF LSM
 * program (socket_listen) is global, like those of lsm.bpf.c. The decisions
 * are in lib/net.h; the maps in maps.bpf.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "net.h"

SEC("cgroup/connect4")
int sbx_connect4(struct bpf_sock_addr *ctx) { return sbx_connect(ctx, SBX_EV_NET_CONNECT, false); }

SEC("cgroup/connect6")
int sbx_connect6(struct bpf_sock_addr *ctx) { return sbx_connect(ctx, SBX_EV_NET_CONNECT, true); }

SEC("cgroup/sendmsg4")
int sbx_sendmsg4(struct bpf_sock_addr *ctx) { return sbx_connect(ctx, SBX_EV_NET_SEND, false); }

SEC("cgroup/sendmsg6")
int sbx_sendmsg6(struct bpf_sock_addr *ctx) { return sbx_connect(ctx, SBX_EV_NET_SEND, true); }

SEC("cgroup/recvmsg4")
int sbx_recvmsg4(struct bpf_sock_addr *ctx) { return sbx_dns_restore(ctx, false); }

SEC("cgroup/recvmsg6")
int sbx_recvmsg6(struct bpf_sock_addr *ctx) { return sbx_dns_restore(ctx, true); }

SEC("cgroup/getpeername4")
int sbx_getpeername4(struct bpf_sock_addr *ctx) { return sbx_dns_restore(ctx, false); }

SEC("cgroup/getpeername6")
int sbx_getpeername6(struct bpf_sock_addr *ctx) { return sbx_dns_restore(ctx, true); }

SEC("cgroup/bind4")
int sbx_bind4(struct bpf_sock_addr *ctx) { return sbx_bind(ctx, false); }

SEC("cgroup/bind6")
int sbx_bind6(struct bpf_sock_addr *ctx) { return sbx_bind(ctx, true); }

SEC("cgroup/sock_create")
int sbx_sock_create(struct bpf_sock *sk) { return sbx_sock_create_allowed(sk); }

/* Loaded only where BPF LSM works (user/core/bpfload.c). */
SEC("lsm/socket_listen")
int BPF_PROG(sbx_socket_listen, struct socket *sock, int backlog, int ret)
{
	if (ret)
		return ret;
	return sbx_lsm_listen(sock);
}

SEC("cgroup/setsockopt")
int sbx_setsockopt(struct bpf_sockopt *ctx) { return sbx_setsockopt_judge(ctx); }
/* Unix addresses (Linux 6.7 and later). libbpf 1.1 does not know the
 * "cgroup/connect_unix" section: these are loaded as sock_addr programs with
 * their real attach types set by user/core/bpfload.c, or not at all. */
SEC("cgroup/connect4")
int sbx_connect_unix(struct bpf_sock_addr *ctx) { return sbx_unix_addr(ctx, false); }

SEC("cgroup/sendmsg4")
int sbx_sendmsg_unix(struct bpf_sock_addr *ctx) { return sbx_unix_addr(ctx, true); }

/* The same policy judged on the peer, under BPF LSM (user/core/bpfload.c
 * loads these only where it works): kernels older than 6.7 have no unix
 * cgroup hooks. An earlier LSM's refusal stands. */
SEC("lsm/unix_stream_connect")
int BPF_PROG(sbx_lsm_unix_connect, struct sock *sock, struct sock *other, struct sock *newsk, int ret)
{
	return ret ? ret : sbx_unix_peer(other, false);
}

SEC("lsm/unix_may_send")
int BPF_PROG(sbx_lsm_unix_send, struct socket *sock, struct socket *other, int ret)
{
	return ret ? ret : sbx_unix_peer(BPF_CORE_READ(other, sk), true);
}

SEC("cgroup_skb/ingress")
int sbx_skb_ingress(struct __sk_buff *skb) { return sbx_skb_in(skb); }

SEC("cgroup_skb/egress")
int sbx_skb_egress(struct __sk_buff *skb) { return sbx_skb_out(skb); }

char LICENSE[] SEC("license") = "Dual BSD/GPL";
