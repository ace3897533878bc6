/* SPDX-License-Identifier: MIT */
/*
 * Host names in network entries are resolved once, when a sandbox starts,
 * and enforced as the addresses found. Each resolved entry remembers which
 * profile entry (and so which name) it came from, for results and audit.
 * Wildcards cannot be resolved ahead of time: under enforcement "strict" a
 * profile with one is refused; under "best-effort" it is reported unenforced.
 */
#ifndef SBX_RESOLVE_H
#define SBX_RESOLVE_H

#include <stddef.h>

#include "policy.h"

struct sbx_resolved {
	struct sbx_net_entry *entries;	/* all SBX_NET_ENTRY_ADDR; host/text borrowed */
	size_t *src;			/* index of the profile entry each came from */
	size_t n;
	char **unenforced;		/* "*.example.org (policy.toml:7:12): wildcard ..." */
	size_t n_unenforced;
};

/* Returns 0, -ENOMEM, or -EHOSTUNREACH/-EOPNOTSUPP with err naming the entry. */
int sbx_resolve(const struct sbx_profile *p, struct sbx_resolved *ret, char *err, size_t errlen);
void sbx_resolved_free(struct sbx_resolved *r);

#endif
