/* SPDX-License-Identifier: MIT */
/*
 * Network entries as the kernel maps hold them. Address groups ("private",
 * "public") become the prefixes of their ranges. Where sbx's DNS resolver
 * reaches the workload (dns_aware: core/dnsrun.h), host names are enforced by
 * it and by connect-time pins; only what /etc/hosts says of an exact name
 * ("localhost") is added here as addresses. Where no resolver can (a microVM
 * guest has its own), the enforcement table (core/enforce.h) refuses host
 * names under enforcement "strict"; under "best-effort" exact names are
 * resolved once at start and enforced as the addresses found, wildcards not
 * at all, and both are reported unenforced. Each entry remembers which
 * profile entry it came from, for results and audit.
 */
#ifndef SBX_RESOLVE_H
#define SBX_RESOLVE_H

#include <stddef.h>

#include "policy.h"

#define SBX_HOSTS_FILE "/etc/hosts"

struct sbx_resolved {
	struct sbx_net_entry *entries;	/* all SBX_NET_ENTRY_ADDR; host/text borrowed */
	size_t *src;			/* index of the profile entry each came from */
	size_t n;
	char **unenforced;		/* "*.example.org (policy.toml:7:12): wildcard ..." */
	size_t n_unenforced;
};

/*
 * The prefixes of one family (AF_INET or AF_INET6) that none of the n
 * cidrs of that family covers, fewest possible, appended to *v (grown with
 * realloc; *n counts them). Cidrs of the other family are ignored. Returns 0
 * or -ENOMEM (*v then holds what was appended so far; the caller frees it).
 */
int sbx_cidr_complement(const struct sbx_group_cidr *cidrs, size_t n, int family,
			struct sbx_group_cidr **v, size_t *n_v);

/* The prefixes of an address group (enum sbx_addr_group) in both families:
 * netgroup.c's ranges, and for "public" the complement of every non-public
 * range and of ::ffff:0:0/96 (IPv4-mapped addresses are judged as IPv4).
 * Returns 0 or -ENOMEM; free *ret. */
int sbx_group_prefixes(int group, struct sbx_group_cidr **ret, size_t *n_ret);

/* Returns 0, -ENOMEM, or -EHOSTUNREACH/-EOPNOTSUPP with err naming the entry
 * as "FILE:LINE:COL: error: MESSAGE", the form of policy errors. */
int sbx_resolve(const struct sbx_profile *p, bool dns_aware, struct sbx_resolved *ret, char *err,
		size_t errlen);
void sbx_resolved_free(struct sbx_resolved *r);

#endif
