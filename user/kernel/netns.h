/* SPDX-License-Identifier: MIT */
/*
 * Network namespaces of the process provider. A private namespace has only
 * loopback, brought up by the child itself. With a network mode other than
 * "none" it may get a veth pair to the host, made with libnl-route in the
 * parent: the host end is named "sbx" + 8 hex digits of the sandbox id (fits
 * IFNAMSIZ), the sandbox end "eth0"; both get addresses from the profile
 * (network.veth_host / veth_sandbox) or from sbx's pool 10.200.0.0/16 by slot
 * (a /30 per slot), and the sandbox gets a default route via the host end.
 * The sandbox end has ifindex sbx_netrate_sandbox_ifindex(slot) (a namespace
 * of its own has no other device but lo), which the rate program keys on.
 * The host end is removed with the sandbox. sbx does not set up NAT or
 * forwarding: that is the operator's routing policy.
 */
#ifndef SBX_NETNS_H
#define SBX_NETNS_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/types.h>

#include "policy.h"

/* In the child, inside its new network namespace: sets lo up. */
int sbx_netns_loopback_up(void);

struct sbx_veth {
	char host_if[16];		/* "sbx1a2b3c4d" */
	char host_cidr[48];		/* "10.200.0.1/30" */
	char sandbox_cidr[48];		/* "10.200.0.2/30" */
	int host_ifindex;
	bool created;
};

/* In the parent, once the child exists (its netns is /proc/PID/ns/net): creates
 * the pair with the sandbox end directly in the child's namespace, sets
 * addresses, links up and the default route inside (from a short-lived thread;
 * the calling process never changes namespace). id is "sbx-" + 8 hex digits;
 * slot picks the pool /30 when the profile (may be NULL) sets no addresses.
 * Returns 0, or -errno with why set (-EINVAL, -ERANGE: slot outside the pool,
 * -EEXIST, -ENOENT: no such child, ...); on failure nothing is left on the
 * host and *v is untouched. */
int sbx_veth_create(struct sbx_veth *v, const char *id, uint32_t slot, pid_t child,
		    const struct sbx_profile *p, char *why, size_t len);

/* The IPv4 address the host end of slot's veth pair gets (the profile's
 * veth_host, or the pool's): sbx's DNS resolver for the sandbox listens
 * there. Returns 0 or -errno with why set. */
int sbx_veth_host_addr(uint32_t slot, const struct sbx_profile *p, struct in_addr *ret,
		       char *why, size_t len);

/* Runs fn(arg, why, len) in a short-lived thread inside the network namespace
 * of child (the calling thread never changes namespace); returns what fn
 * returned, or -errno with why set when the namespace cannot be entered. */
int sbx_netns_call(pid_t child, int (*fn)(void *arg, char *why, size_t len), void *arg,
		   char *why, size_t len);

/* Deletes the host end (the peer goes with it). Idempotent. */
void sbx_veth_destroy(struct sbx_veth *v);

#endif
