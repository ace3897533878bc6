/* SPDX-License-Identifier: MIT */
/*
 * The bandwidth rate of a veth pair (netrate.h, docs/limits.md). fq is the
 * root qdisc of each limited end: it holds every packet until the departure
 * time the tc program wrote into it. The program sits on the clsact egress
 * hook, which runs before the root qdisc's enqueue.
 */
#include <errno.h>
#include <stdint.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_sched.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>
#include <netlink/socket.h>

#include "kernel/netns.h"
#include "kernel/libnl.h"
#include "kernel/netrate.h"
#include "util/util.h"

#define NSEC_PER_SEC	1000000000ull
#define MIN_BURST	(64ull * 1024)

uint64_t sbx_netrate_default_burst(uint64_t bps)
{
	uint64_t ten_ms = bps / 8 / 100;

	return ten_ms > MIN_BURST ? ten_ms : MIN_BURST;
}

void sbx_netrate_state(uint64_t bps, uint64_t burst, struct sbx_rate_state *ret)
{
	uint64_t bytes = bps / 8;

	*ret = (struct sbx_rate_state){ .bytes_per_sec = bytes };
	if (!bytes)
		return;
	if (!burst)
		burst = sbx_netrate_default_burst(bps);
	ret->burst_ns = burst * NSEC_PER_SEC / bytes;	/* burst <= 1 GiB: no overflow */
}

/* The root qdisc of ifindex: fq (EDT: it holds each packet until the time
 * the program stamped), or where the kernel has no sch_fq, tbf with the same
 * rate and burst and a queue of 200 ms at the rate (the program only counts
 * then). fq keeps its defaults (flow_limit 100 packets, horizon 10 s: the
 * program drops at 2 s already). */
static int qdisc_add(struct nl_sock *sk, int ifindex, const char *kind,
		     const struct sbx_rate_state *st)
{
	struct rtnl_qdisc *q = libnl.rtnl_qdisc_alloc();
	uint64_t rate = st->bytes_per_sec, burst = st->burst_ns * rate / NSEC_PER_SEC;
	int r;

	if (!q)
		return -NLE_NOMEM;
	libnl.rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	libnl.rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	libnl.rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(0x8000, 0));
	r = libnl.rtnl_tc_set_kind(TC_CAST(q), kind);
	if (r == 0 && !strcmp(kind, "tbf")) {
		/* libnl's tbf takes an int: at most 2 GB/s (17 Gbit) */
		libnl.rtnl_qdisc_tbf_set_rate(q, (int)(rate > INT32_MAX ? INT32_MAX : rate),
					(int)(burst > INT32_MAX ? INT32_MAX : burst), 0);
		libnl.rtnl_qdisc_tbf_set_limit(q, (int)((burst + rate / 5) > INT32_MAX ? INT32_MAX
								 : burst + rate / 5));
	}
	if (r == 0)
		r = libnl.rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	libnl.rtnl_qdisc_put(q);
	return r;
}

static int shaper_add(int ifindex, struct sbx_rate_state *st, char *why, size_t len)
{
	struct nl_sock *sk;
	int r = sbx_libnl_load(why, len);

	if (r < 0)
		return r;
	sk = libnl.nl_socket_alloc();
	r = -NLE_NOMEM;
	if (sk && (r = libnl.nl_connect(sk, NETLINK_ROUTE)) == 0) {
		r = qdisc_add(sk, ifindex, "fq", st);
		st->flags &= ~SBX_RATEF_TBF;
		/* "Specified qdisc kind is unknown": ENOENT from the kernel */
		if (r == -NLE_OBJ_NOTFOUND) {
			st->flags |= SBX_RATEF_TBF;
			r = qdisc_add(sk, ifindex, "tbf", st);
		}
	}
	if (sk)
		libnl.nl_socket_free(sk);
	if (r < 0)
		return sbx_fail(why, len, -EIO, "add the %s qdisc on ifindex %d: %s",
				st->flags & SBX_RATEF_TBF ? "tbf" : "fq", ifindex, libnl.nl_geterror(r));
	return 0;
}

/* clsact and the program on its egress hook (libbpf's tc netlink calls). */
static int tc_attach(int ifindex, int prog_fd, char *why, size_t len)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = 1, .priority = 1);
	int r;

	r = bpf_tc_hook_create(&hook);
	if (r < 0 && r != -EEXIST)
		return sbx_fail(why, len, r, "add clsact on ifindex %d: %s", ifindex, strerror(-r));
	r = bpf_tc_attach(&hook, &opts);
	if (r < 0)
		return sbx_fail(why, len, r, "attach the rate program on ifindex %d: %s", ifindex,
				strerror(-r));
	return 0;
}

/* The shaper, then the slot's entry with the backend it got, then the
 * program (which finds the entry from its first packet on). */
static int limit_device(const struct sbx_netrate *nr, uint32_t slot, struct sbx_rate *rate,
			int dir, int ifindex, int prog_fd, char *why, size_t len)
{
	int r = shaper_add(ifindex, &rate->dir[dir], why, len);

	if (r == 0 && bpf_map_update_elem(nr->rates_fd, &slot, rate, 0) < 0)
		r = sbx_fail(why, len, -errno, "write sbx_rates[%u]: %s", slot, strerror(errno));
	return r < 0 ? r : tc_attach(ifindex, prog_fd, why, len);
}

struct inside {
	const struct sbx_netrate *nr;
	uint32_t slot;
	struct sbx_rate *rate;
};

/* In the sandbox's namespace. */
static int limit_sandbox_end(void *arg, char *why, size_t len)
{
	const struct inside *in = arg;

	return limit_device(in->nr, in->slot, in->rate, SBX_RATE_EGRESS,
			    sbx_netrate_sandbox_ifindex(in->slot), in->nr->prog_sandbox_fd, why, len);
}

static int write_entries(const struct sbx_netrate *nr, const struct sbx_veth *v, uint32_t slot,
			 struct sbx_rate *rate, char *why, size_t len)
{
	__u32 ifindex = (__u32)v->host_ifindex;

	sbx_netrate_state(nr->egress_bps, nr->burst, &rate->dir[SBX_RATE_EGRESS]);
	sbx_netrate_state(nr->ingress_bps, nr->burst, &rate->dir[SBX_RATE_INGRESS]);
	if (bpf_map_update_elem(nr->rates_fd, &slot, rate, 0) < 0)
		return sbx_fail(why, len, -errno, "write sbx_rates[%u]: %s", slot, strerror(errno));
	if (nr->ingress_bps && bpf_map_update_elem(nr->rate_ifs_fd, &ifindex, &slot, 0) < 0)
		return sbx_fail(why, len, -errno, "write sbx_rate_ifs: %s", strerror(errno));
	return 0;
}

int sbx_netrate_apply(const struct sbx_netrate *nr, const struct sbx_veth *v, uint32_t slot,
		      pid_t child, char *why, size_t len)
{
	struct sbx_rate rate = { 0 };
	struct inside in = { .nr = nr, .slot = slot, .rate = &rate };
	char step[256] = "";
	int r;

	if (slot >= SBX_MAX_SANDBOXES || v->host_ifindex <= 0)
		return sbx_fail(why, len, -EINVAL, "rate: no veth pair for slot %u", slot);
	r = write_entries(nr, v, slot, &rate, why, len);
	if (r < 0)
		return r;
	if (nr->egress_bps) {
		r = sbx_netns_call(child, limit_sandbox_end, &in, step, sizeof(step));
		if (r < 0)
			return sbx_fail(why, len, r, "egress_rate on the sandbox end: %s", step);
	}
	if (nr->ingress_bps) {
		r = limit_device(nr, slot, &rate, SBX_RATE_INGRESS, v->host_ifindex,
				 nr->prog_host_fd, step, sizeof(step));
		if (r < 0)
			return sbx_fail(why, len, r, "ingress_rate on %s: %s", v->host_if, step);
	}
	return 0;
}

void sbx_netrate_release(const struct sbx_netrate *nr, const struct sbx_veth *v)
{
	__u32 ifindex;

	if (!nr || !v || v->host_ifindex <= 0)
		return;
	/* sbx_rates[slot] stays for the result's accounting; the slot's next
	 * sandbox with a rate rewrites it */
	ifindex = (__u32)v->host_ifindex;
	bpf_map_delete_elem(nr->rate_ifs_fd, &ifindex);
}
