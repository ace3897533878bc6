/* SPDX-License-Identifier: MIT */
/*
 * Compiles a resolved profile into the BPF map entries of sbx_abi.h: the
 * policy record and the LPM trie entries of its network rules. Pure: no
 * syscalls, so it is unit tested without privileges.
 *
 * Each distinct address prefix becomes one LPM entry whose value lists the
 * rules of that prefix and of every shorter prefix that covers it, ordered
 * by the policy's decision rule: longer prefix first, then narrower port
 * range, then deny before allow, then file order. The BPF side takes the
 * first rule whose ports and protocol match, so one lookup decides.
 */
#ifndef SBX_COMPILE_H
#define SBX_COMPILE_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "sbx_abi.h"

struct sbx_lpm4 {
	struct sbx_net4_key key;
	struct sbx_net_value val;
};

struct sbx_lpm6 {
	struct sbx_net6_key key;
	struct sbx_net_value val;
};

struct sbx_compiled {
	struct sbx_policy_cfg cfg;
	struct sbx_lpm4 *v4;
	size_t n_v4;
	struct sbx_lpm6 *v6;
	size_t n_v6;
};

/* entries: the profile's network entries with host names already resolved
 * (every entry of kind SBX_NET_ENTRY_ADDR; others are skipped). Rule indexes
 * in the output are indexes into entries. Returns 0, -ENOMEM, or -E2BIG when
 * one prefix is covered by more than SBX_NET_VALUE_RULES rules (err says which). */
int sbx_compile(const struct sbx_profile *p, const struct sbx_net_entry *entries, size_t n,
		uint32_t policy_id, struct sbx_compiled *ret, char *err, size_t errlen);
void sbx_compiled_free(struct sbx_compiled *c);

#endif
