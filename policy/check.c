/* SPDX-License-Identifier: MIT */
/*
 * Checks of a resolved profile that no single key can make: keys that
 * contradict each other (entries in a mode that ignores them, an explicit
 * provider below min_isolation), the same entry or path listed twice, and
 * totals across merged layers.
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
		{ "wasm", SBX_ISO_WASM },
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
	if (r == 0 && p->net.n_entries > SBX_MAX_NET_RULES)
		r = sdiag(c, &p->pos, "profile '%s' has %zu network entries (the limit is %d)", p->name,
			  p->net.n_entries, SBX_MAX_NET_RULES);
	return r;
}

/* Sorting context: qsort has no user pointer, and the load is single-threaded
 * per call, so the arrays are compared through indices with a tiebreak. */
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

int sbx_profile_check(struct pctx *c, const struct sbx_profile *p)
{
	int (*const steps[])(struct pctx *, const struct sbx_profile *) = {
		check_isolation, check_net_mode, check_net_dups, check_fs_dups,
	};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int r = steps[i](c, p);

		if (r == -ENOMEM)
			return r;
	}
	return 0;
}
