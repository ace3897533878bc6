/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int sbx_resolve_refusal(const struct sbx_profile *p, bool dns_aware, size_t *i, char *msg,
			size_t len)
{
	if (dns_aware || (p->net.mode != SBX_NET_ALLOW && p->net.mode != SBX_NET_DENY))
		return -ENOENT;
	for (; *i < p->net.n_entries; (*i)++) {
		const struct sbx_net_entry *e = &p->net.entries[*i];

		if (e->kind != SBX_NET_ENTRY_WILDCARD && e->kind != SBX_NET_ENTRY_HOST)
			continue;
		if (p->enforcement != SBX_ENFORCE_STRICT) {
			snprintf(msg, len, e->kind == SBX_NET_ENTRY_WILDCARD ?
				 "no sbx resolver reaches this provider's workload: wildcard names "
				 "are not enforced" :
				 "no sbx resolver reaches this provider's workload: the name is "
				 "resolved once at start and its addresses enforced");
			return 0;
		}
		return sbx_fail(msg, len, -EOPNOTSUPP, "host-name entry '%s' cannot be enforced: "
				"no sbx resolver reaches this provider's workload (names need the "
				"process, host or gvisor provider); refusing under enforcement = "
				"\"strict\" (\"best-effort\" runs degraded)", e->text);
	}
	return -ENOENT;
}

static int resolve_one(const struct sbx_profile *p, bool dns_aware, struct sbx_resolved *r,
		       size_t i, char *err, size_t errlen)
{
	const struct sbx_net_entry *e = &p->net.entries[i];
	bool strict = p->enforcement == SBX_ENFORCE_STRICT;
	const char *gai = NULL;
	char why[512];
	size_t at = i;
	int rc;

	if (e->kind == SBX_NET_ENTRY_ADDR)
		return push(r, e, i);
	if (dns_aware) {
		/* the resolver enforces names; an exact denied name is also
		 * refused by its addresses of now, if it has any */
		if (e->kind != SBX_NET_ENTRY_HOST || !e->deny)
			return 0;
		resolve_host(r, e, i, &gai);
		return 0;
	}
	rc = sbx_resolve_refusal(p, false, &at, why, sizeof(why));
	if (rc < 0 && rc != -ENOENT)
		return sbx_fail(err, errlen, rc, "%s:%u:%u: error: %s",
				e->pos.file ? e->pos.file : "?", e->pos.line, e->pos.col, why);
	if (e->kind == SBX_NET_ENTRY_WILDCARD)
		return note_unenforced(r, e, why);
	rc = resolve_host(r, e, i, &gai);
	if (rc != -EHOSTUNREACH)
		return rc == 0 ? note_unenforced(r, e, why) : rc;
	if (!strict) {
		snprintf(why, sizeof(why), "cannot resolve '%s': %s", e->host, gai);
		return note_unenforced(r, e, why);
	}
	return sbx_fail(err, errlen, rc, "%s:%u:%u: error: network entry '%s': cannot resolve "
			"'%s': %s; refusing under enforcement = \"strict\"",
			e->pos.file ? e->pos.file : "?", e->pos.line, e->pos.col, e->text, e->host,
			gai);
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
