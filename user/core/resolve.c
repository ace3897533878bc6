/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/resolve.h"
#include "util/util.h"

static int push(struct sbx_resolved *r, const struct sbx_net_entry *e, size_t src)
{
	struct sbx_net_entry *ne = realloc(r->entries, (r->n + 1) * sizeof(*ne));
	size_t *ns;

	if (!ne)
		return -ENOMEM;
	r->entries = ne;
	ns = realloc(r->src, (r->n + 1) * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	r->src = ns;
	r->entries[r->n] = *e;
	r->src[r->n++] = src;
	return 0;
}

static int note_unenforced(struct sbx_resolved *r, const struct sbx_net_entry *e, const char *why)
{
	char **nu = realloc(r->unenforced, (r->n_unenforced + 1) * sizeof(*nu));

	if (!nu)
		return -ENOMEM;
	r->unenforced = nu;
	if (asprintf(&nu[r->n_unenforced], "%s (%s:%u:%u): %s", e->text ? e->text : e->host,
		     e->pos.file ? e->pos.file : "?", e->pos.line, e->pos.col, why) < 0)
		return -ENOMEM;
	r->n_unenforced++;
	return 0;
}

static int resolve_host(struct sbx_resolved *r, const struct sbx_net_entry *e, size_t src,
			const char **ret_gai)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	size_t before = r->n;
	int g, rc = 0;

	g = getaddrinfo(e->host, NULL, &hints, &res);
	if (g) {
		*ret_gai = gai_strerror(g);
		return -EHOSTUNREACH;
	}
	for (struct addrinfo *ai = res; ai && !rc; ai = ai->ai_next) {
		struct sbx_net_entry ne = *e;
		bool dup = false;

		ne.kind = SBX_NET_ENTRY_ADDR;
		memset(ne.addr, 0, sizeof(ne.addr));
		if (ai->ai_family == AF_INET) {
			ne.family = AF_INET;
			ne.prefix_len = 32;
			memcpy(ne.addr, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			ne.family = AF_INET6;
			ne.prefix_len = 128;
			memcpy(ne.addr, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		for (size_t i = before; i < r->n && !dup; i++)
			dup = r->entries[i].family == ne.family && !memcmp(r->entries[i].addr, ne.addr, 16);
		if (!dup)
			rc = push(r, &ne, src);
	}
	freeaddrinfo(res);
	return rc;
}

/* The addresses /etc/hosts gives e's name, each as an address entry. */
static int hosts_file(struct sbx_resolved *r, const struct sbx_net_entry *e, size_t src,
		      const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, *save, *tok;
	size_t cap = 0;
	int rc = 0;

	if (!f)
		return 0;	/* no hosts file: nothing to add */
	while (!rc && getline(&line, &cap, f) > 0) {
		struct sbx_net_entry ne = *e;
		bool match = false;
		char *hash = strchr(line, '#');

		if (hash)
			*hash = 0;
		tok = strtok_r(line, " \t\r\n", &save);
		if (!tok)
			continue;
		memset(ne.addr, 0, sizeof(ne.addr));
		if (inet_pton(AF_INET, tok, ne.addr) == 1) {
			ne.family = AF_INET;
			ne.prefix_len = 32;
		} else if (inet_pton(AF_INET6, tok, ne.addr) == 1) {
			ne.family = AF_INET6;
			ne.prefix_len = 128;
		} else {
			continue;
		}
		while (!match && (tok = strtok_r(NULL, " \t\r\n", &save))) {
			size_t n = strlen(tok);

			if (n && tok[n - 1] == '.')
				tok[--n] = 0;
			match = !strcasecmp(tok, e->host);
		}
		if (!match)
			continue;
		ne.kind = SBX_NET_ENTRY_ADDR;
		bool dup = false;

		for (size_t k = 0; k < r->n && !dup; k++)
			dup = r->src[k] == src && r->entries[k].family == ne.family &&
			      !memcmp(r->entries[k].addr, ne.addr, 16);
		if (!dup)
			rc = push(r, &ne, src);
	}
	free(line);
	fclose(f);
	return rc;
}

static int push_cidr(struct sbx_group_cidr **v, size_t *n, const struct sbx_group_cidr *c)
{
	struct sbx_group_cidr *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = *c;
	return 0;
}

/* Whether some cidr lies inside the prefix c (or equals it). */
static bool holds_any(const struct sbx_group_cidr *cidrs, size_t n, const struct sbx_group_cidr *c)
{
	for (size_t i = 0; i < n; i++)
		if (sbx_cidr_contains(c, cidrs[i].family, cidrs[i].addr, cidrs[i].prefix_len))
			return true;
	return false;
}

static bool inside_any(const struct sbx_group_cidr *cidrs, size_t n, const struct sbx_group_cidr *c)
{
	for (size_t i = 0; i < n; i++)
		if (sbx_cidr_contains(&cidrs[i], c->family, c->addr, c->prefix_len))
			return true;
	return false;
}

/* The prefix c minus the cidrs: all of it when no cidr touches it, nothing
 * when one covers it, else each half in turn. Depth is at most 128. */
static int complement(const struct sbx_group_cidr *cidrs, size_t n, struct sbx_group_cidr c,
		      struct sbx_group_cidr **v, size_t *n_v)
{
	struct sbx_group_cidr hi;
	int r;

	if (inside_any(cidrs, n, &c))
		return 0;
	if (!holds_any(cidrs, n, &c))
		return push_cidr(v, n_v, &c);
	c.prefix_len++;
	hi = c;
	hi.addr[(c.prefix_len - 1) / 8] |= (uint8_t)(0x80 >> ((c.prefix_len - 1) % 8));
	r = complement(cidrs, n, c, v, n_v);
	return r < 0 ? r : complement(cidrs, n, hi, v, n_v);
}

int sbx_cidr_complement(const struct sbx_group_cidr *cidrs, size_t n, int family,
			struct sbx_group_cidr **v, size_t *n_v)
{
	struct sbx_group_cidr all = { .group = SBX_GROUP_PUBLIC, .family = (uint8_t)family };

	return complement(cidrs, n, all, v, n_v);
}

int sbx_group_prefixes(int group, struct sbx_group_cidr **ret, size_t *n_ret)
{
	static const struct sbx_group_cidr v4_mapped = {
		SBX_GROUP_SPECIAL, AF_INET6, 96, { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff },
	};
	struct sbx_group_cidr *v = NULL, *others = NULL;
	size_t n = 0, n_others = 0;
	int r = 0;

	for (size_t i = 0; i < sbx_n_group_cidrs && !r; i++) {
		const struct sbx_group_cidr *c = &sbx_group_cidrs[i];

		if (group != SBX_GROUP_PUBLIC && (int)c->group == group)
			r = push_cidr(&v, &n, c);
	}
	if (group == SBX_GROUP_PUBLIC) {
		others = malloc((sbx_n_group_cidrs + 1) * sizeof(*others));
		if (!others)
			return -ENOMEM;
		memcpy(others, sbx_group_cidrs, sbx_n_group_cidrs * sizeof(*others));
		others[sbx_n_group_cidrs] = v4_mapped;
		n_others = sbx_n_group_cidrs + 1;
		r = sbx_cidr_complement(others, n_others, AF_INET, &v, &n);
		if (!r)
			r = sbx_cidr_complement(others, n_others, AF_INET6, &v, &n);
		free(others);
	}
	if (r) {
		free(v);
		return r;
	}
	*ret = v;
	*n_ret = n;
	return 0;
}

/* One ADDR entry per prefix of the group, with the entry's ports, protocol
 * and action: they compete with other entries by prefix length as any
 * address entry does. */
static int expand_group(struct sbx_resolved *r, const struct sbx_net_entry *e, size_t src)
{
	struct sbx_group_cidr *v = NULL;
	size_t n = 0;
	int rc = sbx_group_prefixes(e->group, &v, &n);

	for (size_t i = 0; i < n && !rc; i++) {
		struct sbx_net_entry ne = *e;

		ne.kind = SBX_NET_ENTRY_ADDR;
		ne.family = v[i].family;
		ne.prefix_len = v[i].prefix_len;
		memcpy(ne.addr, v[i].addr, sizeof(ne.addr));
		rc = push(r, &ne, src);
	}
	free(v);
	return rc;
}

static int resolve_one(const struct sbx_profile *p, bool dns_aware, struct sbx_resolved *r,
		       size_t i, char *err, size_t errlen)
{
	const struct sbx_net_entry *e = &p->net.entries[i];
	bool strict = p->enforcement == SBX_ENFORCE_STRICT;
	const char *gai = NULL;
	char why[512];
	int rc;

	if (e->kind == SBX_NET_ENTRY_ADDR)
		return push(r, e, i);
	if (e->kind == SBX_NET_ENTRY_GROUP)
		return expand_group(r, e, i);
	if (dns_aware) {
		/* the resolver enforces names (core/dnsrun.h); what the host's
		 * /etc/hosts says of an exact name ("localhost") holds as
		 * addresses, since the workload finds it there without DNS */
		return e->kind == SBX_NET_ENTRY_HOST ? hosts_file(r, e, i, SBX_HOSTS_FILE) : 0;
	}
	/* no resolver reaches the workload (a microVM guest resolves names
	 * itself): the enforcement table (core/enforce.c) refuses the entry
	 * under strict, with the words policy check uses; best-effort enforces
	 * an exact name as its addresses of now, a wildcard not at all */
	if (strict)
		return 0;
	if (e->kind == SBX_NET_ENTRY_WILDCARD)
		return note_unenforced(r, e, "no sbx resolver reaches this provider's workload: "
				       "wildcard names are not enforced");
	rc = resolve_host(r, e, i, &gai);
	if (rc == 0)
		return note_unenforced(r, e, "no sbx resolver reaches this provider's workload: the "
				       "name is resolved once at start and its addresses enforced");
	if (rc != -EHOSTUNREACH)
		return rc;
	snprintf(why, sizeof(why), "cannot resolve '%s': %s", e->host, gai);
	return note_unenforced(r, e, why);
}

int sbx_resolve(const struct sbx_profile *p, bool dns_aware, struct sbx_resolved *ret, char *err,
		size_t errlen)
{
	struct sbx_resolved r = {};
	int rc = 0;

	for (size_t i = 0; i < p->net.n_entries && !rc; i++)
		rc = resolve_one(p, dns_aware, &r, i, err, errlen);
	if (!rc && r.n > SBX_MAX_NET_RULES)
		rc = sbx_fail(err, errlen, -E2BIG, "%s:%u:%u: error: profile '%s': %zu network "
			      "entries after resolving host names; at most %d fit the kernel maps",
			      p->pos.file ? p->pos.file : "?", p->pos.line, p->pos.col, p->name,
			      r.n, SBX_MAX_NET_RULES);
	if (rc) {
		sbx_resolved_free(&r);
		return rc;
	}
	*ret = r;
	return 0;
}

void sbx_resolved_free(struct sbx_resolved *r)
{
	for (size_t i = 0; i < r->n_unenforced; i++)
		free(r->unenforced[i]);
	free(r->unenforced);
	free(r->entries);
	free(r->src);
	memset(r, 0, sizeof(*r));
}
