/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the resolver's wire format (user/dns/dnsmsg.c): the
 * input is parsed as a query and as a reply, and what each says it found is
 * checked against the rules that the engine relies on: names are bounded,
 * lower case host names; offsets stay inside the message; an error reply
 * parses back as a reply to the same question; every name pattern built
 * from the name matches it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void check_name(const char *name)
{
	size_t n = strnlen(name, SBX_DNS_NAME_MAX);

	check(n <= 253);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		check((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.');
	}
}

static void check_query(const uint8_t *data, size_t size, const struct sbx_dns_question *q)
{
	uint8_t out[512];
	struct sbx_dns_reply r;
	ssize_t n;
	const char *dot;

	check_name(q->name);
	check(q->end > 12 && q->end <= size);
	n = sbx_dns_error_reply(data, size, q, SBX_DNS_RC_REFUSED, out, sizeof(out));
	check(n > 12);
	check(sbx_dns_parse_reply(out, (size_t)n, &r, NULL, 0) == 0);
	check(r.rcode == SBX_DNS_RC_REFUSED && r.q.id == q->id && r.q.qtype == q->qtype &&
	      strcmp(r.q.name, q->name) == 0 && r.n_addrs == 0);
	if (!q->name[0])
		return;
	check(sbx_dns_name_match(q->name, q->name) > 0);
	dot = strchr(q->name, '.');
	if (dot) {
		char pat[SBX_DNS_NAME_MAX + 2] = "*";

		strcat(pat, dot);
		check(sbx_dns_name_match(pat, q->name) > 0 && sbx_dns_name_match(pat, dot + 1) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbx_dns_question q;
	struct sbx_dns_reply *r = malloc(sizeof(*r));
	char why[128];

	if (!r)
		return 0;
	if (sbx_dns_parse_query(data, size, &q, why, sizeof(why)) == 0)
		check_query(data, size, &q);
	else
		check(why[0] != '\0');
	if (sbx_dns_parse_reply(data, size, r, why, sizeof(why)) == 0) {
		check_name(r->q.name);
		check(r->n_addrs <= SBX_DNS_MAX_ADDRS && (!r->addrs_truncated || r->n_addrs == SBX_DNS_MAX_ADDRS));
		for (size_t i = 0; i < r->n_addrs; i++) {
			check(r->addrs[i].family == AF_INET || r->addrs[i].family == AF_INET6);
			check(r->addrs[i].ttl >= r->min_ttl && r->addrs[i].ttl < 0x80000000u);
		}
	}
	(void)sbx_dns_type_name((uint16_t)size);
	free(r);
	return 0;
}
