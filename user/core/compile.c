/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compile.h"
#include "util/util.h"

struct cctx {
	const struct sbx_net_entry *e;
	size_t *idx;		/* entries of one family sorted by (prefix, addr) */
	size_t n;
	size_t alen;		/* 4 or 16 */
	/* the prefix lengths some entry has: build_value looks up only these
	 * (a /24 among 10,000 entries: 2 searches, not 25) */
	bool has_len[129];
};

static int cmp_prefix(const struct sbx_net_entry *a, const struct sbx_net_entry *b, size_t alen)
{
	if (a->prefix_len != b->prefix_len)
		return a->prefix_len < b->prefix_len ? -1 : 1;
	return memcmp(a->addr, b->addr, alen);
}

static int cmp_idx(const void *x, const void *y, void *arg)
{
	const struct cctx *cc = arg;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int c = cmp_prefix(&cc->e[a], &cc->e[b], cc->alen);

	return c ? c : (a < b ? -1 : a > b);
}

/* The decision order of docs/policy.md: most specific first, deny wins ties. */
static int cmp_rule(const void *x, const void *y, void *arg)
{
	const struct sbx_net_entry *e = ((const struct cctx *)arg)->e;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	unsigned wa = e[a].port_hi - e[a].port_lo, wb = e[b].port_hi - e[b].port_lo;

	if (e[a].prefix_len != e[b].prefix_len)
		return e[a].prefix_len > e[b].prefix_len ? -1 : 1;
	if (wa != wb)
		return wa < wb ? -1 : 1;
	if (e[a].deny != e[b].deny)
		return e[a].deny ? -1 : 1;
	return a < b ? -1 : a > b;
}

static void mask_addr(uint8_t *out, const uint8_t *in, size_t alen, unsigned bits)
{
	for (size_t i = 0; i < alen; i++) {
		unsigned keep = bits >= 8 ? 8 : bits;

		out[i] = keep ? in[i] & (uint8_t)(0xff << (8 - keep)) : 0;
		bits -= keep;
	}
}

/* First position in the sorted index with this (prefix, addr), or -1. */
static long find_prefix(const struct cctx *c, unsigned len, const uint8_t *addr)
{
	struct sbx_net_entry probe = { .prefix_len = (uint8_t)len };
	size_t lo = 0, hi = c->n;

	memcpy(probe.addr, addr, c->alen);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cmp_prefix(&c->e[c->idx[mid]], &probe, c->alen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->n && cmp_prefix(&c->e[c->idx[lo]], &probe, c->alen) == 0)
		return (long)lo;
	return -1;
}

/* Collects the rules for the prefix at sorted position pos into val. */
static int build_value(const struct cctx *c, size_t pos, struct sbx_net_value *val,
		       char *err, size_t errlen)
{
	const struct sbx_net_entry *p = &c->e[c->idx[pos]];
	size_t cand[SBX_NET_VALUE_RULES + 1], n = 0;
	uint8_t masked[16];

	for (int len = p->prefix_len; len >= 0; len--) {
		const struct sbx_net_entry *first;
		long at;

		if (!c->has_len[len])
			continue;
		mask_addr(masked, p->addr, c->alen, (unsigned)len);
		at = find_prefix(c, (unsigned)len, masked);
		if (at < 0)
			continue;
		first = &c->e[c->idx[at]];
		for (size_t k = (size_t)at; k < c->n && !cmp_prefix(&c->e[c->idx[k]], first, c->alen); k++) {
			if (n == SBX_NET_VALUE_RULES)
				return sbx_fail(err, errlen, -E2BIG,
						"%s:%u:%u: more than %d network entries apply to "
						"%s (the kernel map holds at most that many per prefix)",
						p->pos.file ? p->pos.file : "?", p->pos.line,
						p->pos.col, SBX_NET_VALUE_RULES,
						p->text ? p->text : "?");
			cand[n++] = c->idx[k];
		}
	}
	qsort_r(cand, n, sizeof(cand[0]), cmp_rule, (void *)c);
	memset(val, 0, sizeof(*val));
	val->n = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		const struct sbx_net_entry *e = &c->e[cand[i]];

		val->r[i] = (struct sbx_net_rule){
			.port_lo = e->port_lo, .port_hi = e->port_hi, .proto = e->proto,
			.verdict = e->deny ? SBX_VERDICT_DENY : SBX_VERDICT_ALLOW,
			.rule = (uint32_t)cand[i],
		};
	}
	return 0;
}

/* Emits one LPM entry per distinct prefix of one family. */
static int compile_family(struct cctx *c, uint32_t policy_id, void **ret, size_t *ret_n,
			  char *err, size_t errlen)
{
	size_t esz = c->alen == 4 ? sizeof(struct sbx_lpm4) : sizeof(struct sbx_lpm6);
	uint8_t *out = NULL;
	size_t n_out = 0;

	if (c->n && !(out = calloc(c->n, esz)))
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		const struct sbx_net_entry *e = &c->e[c->idx[i]];
		struct sbx_net_value *val;
		int r;

		if (i && !cmp_prefix(&c->e[c->idx[i - 1]], e, c->alen))
			continue;
		if (c->alen == 4) {
			struct sbx_lpm4 *l = (struct sbx_lpm4 *)(out + n_out * esz);

			l->key.prefixlen = 32 + e->prefix_len;
			l->key.policy_id = htonl(policy_id);
			memcpy(l->key.addr, e->addr, 4);
			val = &l->val;
		} else {
			struct sbx_lpm6 *l = (struct sbx_lpm6 *)(out + n_out * esz);

			l->key.prefixlen = 32 + e->prefix_len;
			l->key.policy_id = htonl(policy_id);
			memcpy(l->key.addr, e->addr, 16);
			val = &l->val;
		}
		r = build_value(c, i, val, err, errlen);
		if (r < 0) {
			free(out);
			return r;
		}
		n_out++;
	}
	*ret = out;
	*ret_n = n_out;
	return 0;
}

static int compile_net(const struct sbx_net_entry *entries, size_t n, uint32_t policy_id,
		       struct sbx_compiled *c, char *err, size_t errlen)
{
	size_t *idx = calloc(n ? n : 1, sizeof(*idx));
	struct cctx cc = { .e = entries, .idx = idx };
	void *out;
	int r = 0;

	if (!idx)
		return -ENOMEM;
	for (int fam = 4; fam <= 6 && !r; fam += 2) {
		cc.alen = fam == 4 ? 4 : 16;
		cc.n = 0;
		memset(cc.has_len, 0, sizeof(cc.has_len));
		for (size_t i = 0; i < n; i++)
			if (entries[i].kind == SBX_NET_ENTRY_ADDR &&
			    entries[i].family == (fam == 4 ? AF_INET : AF_INET6)) {
				idx[cc.n++] = i;
				cc.has_len[entries[i].prefix_len <= 128 ? entries[i].prefix_len : 128] = true;
			}
		qsort_r(idx, cc.n, sizeof(*idx), cmp_idx, &cc);
		r = compile_family(&cc, policy_id, &out, fam == 4 ? &c->n_v4 : &c->n_v6, err, errlen);
		if (!r && fam == 4)
			c->v4 = out;
		else if (!r)
			c->v6 = out;
	}
	free(idx);
	return r;
}

static void compile_cfg(const struct sbx_profile *p, struct sbx_policy_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->net_mode = (uint8_t)p->net.mode;	/* enum values equal by design */
	cfg->audit = (uint8_t)p->audit;
	/* the policy checker keeps the rates at 1 or more */
	cfg->audit_allow_ns = p->audit_rate ? 1000000000ull / p->audit_rate : 0;
	cfg->audit_deny_ns = p->audit_deny_rate ? 1000000000ull / p->audit_deny_rate : 0;
	cfg->audit_allow_burst = p->audit_burst;
	cfg->audit_deny_burst = p->audit_deny_burst;
	cfg->flags = p->net.raw_sockets ? SBX_POLF_RAW_SOCKETS : 0;
	if (p->observe)
		cfg->flags |= SBX_POLF_OBSERVE;
	cfg->net_bytes_quota = p->net_bytes;
	for (size_t i = 0; i < p->net.n_unix && i < SBX_MAX_UNIX; i++) {
		if (!strcmp(p->net.unix_paths[i], "*"))
			cfg->flags |= SBX_POLF_UNIX_ANY;
		else
			snprintf(cfg->unix_path[cfg->n_unix++], SBX_UNIX_PATH_LEN, "%s",
				 p->net.unix_paths[i]);
	}
	for (size_t i = 0; i < p->net.n_listen && i < SBX_MAX_LISTEN; i++) {
		cfg->listen[i].lo = p->net.listen[i].lo;
		cfg->listen[i].hi = p->net.listen[i].hi;
		cfg->listen[i].proto = p->net.listen[i].proto;
		cfg->n_listen++;
	}
}

int sbx_compile(const struct sbx_profile *p, const struct sbx_net_entry *entries, size_t n,
		uint32_t policy_id, struct sbx_compiled *ret, char *err, size_t errlen)
{
	struct sbx_compiled c = {};
	int r = 0;

	compile_cfg(p, &c.cfg);
	if (p->net.mode == SBX_NET_ALLOW || p->net.mode == SBX_NET_DENY)
		r = compile_net(entries, n, policy_id, &c, err, errlen);
	if (r < 0) {
		sbx_compiled_free(&c);
		return r;
	}
	*ret = c;
	return 0;
}

void sbx_compiled_free(struct sbx_compiled *c)
{
	free(c->v4);
	free(c->v6);
	c->v4 = NULL;
	c->v6 = NULL;
	c->n_v4 = c->n_v6 = 0;
}
