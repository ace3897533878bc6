/* SPDX-License-Identifier: MIT */
/*
 * Bandwidth rate of a sandbox with a veth pair (profile egress_rate,
 * ingress_rate, rate_burst; docs/limits.md): an fq root qdisc, set up with
 * libnl-route, and a tc program on the clsact egress hook of each end
 * (bpf/tc.bpf.c) that stamps every packet's earliest departure time. The
 * sandbox end sits in the sandbox's network namespace, where the workload
 * has no CAP_NET_ADMIN; the host end's egress is the sandbox's ingress. The
 * rate state lives in sbx_rates[slot] (sbx_abi.h struct sbx_rate).
 */
#ifndef SBX_NETRATE_H
#define SBX_NETRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sbx_abi.h"

struct sbx_veth;

struct sbx_netrate {
	uint64_t egress_bps, ingress_bps;	/* bits per second; 0 = not limited */
	uint64_t burst;				/* bytes; 0 = sbx_netrate_default_burst() */
	int prog_sandbox_fd, prog_host_fd;	/* sbx_tc_sandbox, sbx_tc_host */
	int rates_fd, rate_ifs_fd;		/* sbx_rates, sbx_rate_ifs */
};

/* The ifindex the sandbox end gets in its own namespace: the sandbox's tc
 * program derives the slot from it. */
static inline int sbx_netrate_sandbox_ifindex(uint32_t slot)
{
	return (int)(SBX_RATE_IFINDEX_BASE + slot);
}

/* 64 KiB (one TSO/GSO packet) or 10 ms at the rate, whichever is larger. */
uint64_t sbx_netrate_default_burst(uint64_t bps);

/* The map entry of a rate: bytes per second and the burst as time. */
void sbx_netrate_state(uint64_t bps, uint64_t burst, struct sbx_rate_state *ret);

/* In the parent, after sbx_veth_create(v) for child: writes the slot's rate
 * entry, then puts fq and the program on each end that has a rate. Returns 0
 * or -errno with why set; the caller destroys the pair (and with it qdiscs
 * and filters) and calls sbx_netrate_release on failure. */
int sbx_netrate_apply(const struct sbx_netrate *nr, const struct sbx_veth *v, uint32_t slot,
		      pid_t child, char *why, size_t len);

/* Forgets the host end's ifindex (the slot's entry stays for accounting). */
void sbx_netrate_release(const struct sbx_netrate *nr, const struct sbx_veth *v);

#endif
