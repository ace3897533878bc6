/* SPDX-License-Identifier: MIT */
/*
 * Checks of a resolved profile that no single key can make: keys that
 * contradict each other (entries in a mode that ignores them, an explicit
 * provider below min_isolation, a veth pair without a private namespace),
 * the same entry or path listed twice, and totals across merged layers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy-internal.h"

static int sdiag(struct pctx *c, const struct sbx_srcpos *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int sdiag(struct pctx *c, const struct sbx_srcpos *at, const char *fmt, ...)
{
	struct toml_pos pos = { .line = at->line, .col = at->col };
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = pctx_vdiag(c, at->file, &pos, fmt, ap);
	va_end(ap);
	return r;
}

static enum sbx_isolation provider_level(const char *provider)
{
	static const struct {
		const char *name;
		enum sbx_isolation level;
	} levels[] = {
		{ "process", SBX_ISO_PROCESS }, { "gvisor", SBX_ISO_GVISOR }, { "microvm", SBX_ISO_MICROVM },
		{ "wasm", SBX_ISO_WASM }, { "unikernel", SBX_ISO_UNIKERNEL }, { "tee", SBX_ISO_TEE },
	};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(provider, levels[i].name) == 0)
			return levels[i].level;
	return SBX_ISO_NONE;	/* host, mock */
}

/* wasm is its own level: it runs inside the process sandbox, so it meets
 * none/process/wasm, and only a wasm provider meets wasm. */
static bool level_meets(enum sbx_isolation have, enum sbx_isolation want)
{
	if (want == SBX_ISO_WASM || have == SBX_ISO_WASM)
		return have == want || (have == SBX_ISO_WASM && want <= SBX_ISO_PROCESS);
	return have >= want;
}

static int check_isolation(struct pctx *c, const struct sbx_profile *p)
{
	enum sbx_isolation have;

	if (!p->provider || strcmp(p->provider, "auto") == 0)
		return 0;
	have = provider_level(p->provider);
	if (level_meets(have, p->min_isolation))
		return 0;
	return sdiag(c, &p->pos, "profile '%s': provider '%s' (isolation '%s') does not meet min_isolation '%s'",
		     p->name, p->provider, sbx_isolation_name(have), sbx_isolation_name(p->min_isolation));
}

static int check_net_mode(struct pctx *c, const struct sbx_profile *p)
{
	const char *mode = sbx_net_mode_name(p->net.mode);
	bool seen[2] = { false, false };
	int r = 0;

	if (p->net.mode == SBX_NET_NONE || p->net.mode == SBX_NET_FULL) {
		for (size_t i = 0; i < p->net.n_entries && r == 0; i++) {
			const struct sbx_net_entry *e = &p->net.entries[i];

			if (seen[e->deny])
				continue;
			seen[e->deny] = true;
			r = sdiag(c, &e->pos, "'%s' entries are ignored in mode '%s' (use mode \"allow\" or \"deny\")",
				  e->deny ? "deny" : "allow", mode);
		}
	}
	/* Binding is governed by listen in every mode that has a network. */
	if (r == 0 && p->net.mode == SBX_NET_NONE && p->net.n_listen)
		r = sdiag(c, &p->net.listen[0].pos, "'listen' is ignored in mode 'none'");
	if (r == 0 && p->net.mode == SBX_NET_NONE && p->net.raw_sockets)
		r = sdiag(c, &p->pos, "profile '%s': raw_sockets = true needs network access, but the network mode is 'none'",
			  p->name);
	/* sbx's resolver serves modes that judge names; elsewhere the table
	 * would be a setting that does nothing. */
	if (r == 0 && p->net.dns.set && (p->net.mode == SBX_NET_NONE || p->net.mode == SBX_NET_FULL))
		r = sdiag(c, &p->net.dns.pos, "network.dns has no effect in mode '%s' (use mode \"allow\" or \"deny\")",
			  mode);
	if (r == 0 && p->net.n_entries > SBX_MAX_NET_RULES)
		r = sdiag(c, &p->pos, "profile '%s' has %zu network entries (the limit is %d)", p->name,
			  p->net.n_entries, SBX_MAX_NET_RULES);
	return r;
}

/* The arrays are sorted as (key, index) pairs: the index is the tiebreak that
 * keeps equal keys in file order, so the first of them is reported first. */
struct keyed {
	const char *key;
	size_t idx;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	return r ? r : (x->idx > y->idx) - (x->idx < y->idx);
}

static int check_net_dups(struct pctx *c, const struct sbx_profile *p)
{
	size_t n = p->net.n_entries;
	struct keyed *k;
	int r = 0;

	if (n < 2)
		return 0;
	k = calloc(n, sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		k[i] = (struct keyed){ p->net.entries[i].text, i };
	qsort(k, n, sizeof(*k), cmp_keyed);
	for (size_t i = 1, first = 0; i < n && r == 0; i++) {
		const struct sbx_net_entry *a, *b;

		if (strcmp(k[i].key, k[first].key) != 0) {
			first = i;
			continue;
		}
		a = &p->net.entries[k[first].idx];
		b = &p->net.entries[k[i].idx];
		if (a->deny != b->deny)
			r = sdiag(c, &b->pos, "'%s' is both allowed and denied (the other is at %s:%u:%u)", b->text,
				  a->pos.file, a->pos.line, a->pos.col);
		else
			r = sdiag(c, &b->pos, "duplicate entry '%s' (first at %s:%u:%u)", b->text, a->pos.file,
				  a->pos.line, a->pos.col);
	}
	free(k);
	return r;
}

static int check_fs_dups(struct pctx *c, const struct sbx_profile *p)
{
	size_t n = p->fs.n_rules;
	struct keyed *k;
	int r = 0;

	if (n < 2)
		return 0;
	k = calloc(n, sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		k[i] = (struct keyed){ p->fs.rules[i].path, i };
	qsort(k, n, sizeof(*k), cmp_keyed);
	for (size_t i = 1, first = 0; i < n && r == 0; i++) {
		const struct sbx_fs_rule *a, *b;

		if (strcmp(k[i].key, k[first].key) != 0) {
			first = i;
			continue;
		}
		a = &p->fs.rules[k[first].idx];
		b = &p->fs.rules[k[i].idx];
		if (!a->access != !b->access)
			r = sdiag(c, &b->pos, "path '%s' is both allowed and denied (the other rule is at %s:%u:%u)",
				  b->path, a->pos.file, a->pos.line, a->pos.col);
		else
			r = sdiag(c, &b->pos, "duplicate rule for path '%s' (first at %s:%u:%u)", b->path,
				  a->pos.file, a->pos.line, a->pos.col);
	}
	free(k);
	return r;
}

/* The veth pair: both ends or neither, only where it can exist (a private
 * namespace with a network), and a usable point-to-point subnet. */
static int check_veth(struct pctx *c, const struct sbx_profile *p)
{
	const char *h = p->net.veth_host, *s = p->net.veth_sandbox;
	uint32_t ha, sa, mask;
	uint8_t hp, sp;
	char err[256];

	if (!h && !s)
		return 0;
	if (!h || !s)
		return sdiag(c, &p->pos, "profile '%s': network.%s is set but network.%s is not (set both or neither)",
			     p->name, h ? "veth_host" : "veth_sandbox", h ? "veth_sandbox" : "veth_host");
	if (p->net.mode == SBX_NET_NONE)
		return sdiag(c, &p->pos,
			     "profile '%s': network.veth_host and veth_sandbox need a network mode other than 'none' "
			     "(in mode 'none' the sandbox has only loopback)", p->name);
	if (p->net.namespace == SBX_NETNS_AUTO)
		return sdiag(c, &p->pos,
			     "profile '%s': network.veth_host and veth_sandbox need namespace = \"private\" "
			     "(namespace 'auto' is the host's in mode '%s')", p->name, sbx_net_mode_name(p->net.mode));
	if (p->net.namespace != SBX_NETNS_PRIVATE)
		return sdiag(c, &p->pos,
			     "profile '%s': network.veth_host and veth_sandbox need namespace = \"private\" "
			     "(the namespace is '%s')", p->name, sbx_netns_name(p->net.namespace));
	/* Both were checked when their layer was applied. */
	if (sbx_parse_ifaddr4(h, &ha, &hp, err, sizeof(err)) < 0 ||
	    sbx_parse_ifaddr4(s, &sa, &sp, err, sizeof(err)) < 0)
		return sdiag(c, &p->pos, "profile '%s': %s", p->name, err);
	if (hp != sp)
		return sdiag(c, &p->pos, "profile '%s': veth_host %s and veth_sandbox %s have different prefix lengths",
			     p->name, h, s);
	mask = ~(UINT32_MAX >> hp);
	if ((ha & mask) != (sa & mask))
		return sdiag(c, &p->pos, "profile '%s': veth_host %s and veth_sandbox %s are not in the same subnet",
			     p->name, h, s);
	if (ha == sa)
		return sdiag(c, &p->pos, "profile '%s': veth_host and veth_sandbox are the same address %s",
			     p->name, h);
	return 0;
}

/* A name both denied and allowed, the lists coming from different layers
 * (within one table this was reported at the name). */
static int check_seccomp(struct pctx *c, const struct sbx_profile *p)
{
	size_t nd = p->seccomp.n_deny, n = nd + p->seccomp.n_allow;
	struct keyed *k;
	int r = 0;

	if (p->seccomp.n_deny == 0 || p->seccomp.n_allow == 0)
		return 0;
	k = calloc(n, sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		k[i] = (struct keyed){ i < nd ? p->seccomp.deny[i] : p->seccomp.allow[i - nd], i };
	qsort(k, n, sizeof(*k), cmp_keyed);
	/* Each list has no duplicates, so equal neighbours are one of each. */
	for (size_t i = 1; i < n && r == 0; i++)
		if (strcmp(k[i].key, k[i - 1].key) == 0)
			r = sdiag(c, &p->pos,
				  "profile '%s': syscall '%s' is both in seccomp.deny and seccomp.allow "
				  "(after merging [defaults] and overlays)", p->name, k[i].key);
	free(k);
	return r;
}

int sbx_profile_check(struct pctx *c, const struct sbx_profile *p)
{
	int (*const steps[])(struct pctx *, const struct sbx_profile *) = {
		check_isolation, check_net_mode, check_net_dups, check_fs_dups, check_veth, check_seccomp,
	};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int r = steps[i](c, p);

		if (r == -ENOMEM)
			return r;
	}
	return 0;
}
