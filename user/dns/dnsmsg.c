/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dns/dnsmsg.h"
#include "util/util.h"

#define F_QR 0x8000
#define F_OPCODE 0x7800
#define F_AA 0x0400
#define F_TC 0x0200
#define F_RD 0x0100
#define F_RA 0x0080
#define F_RCODE 0x000f
#define LABEL_MAX 63
#define NAME_TEXT_MAX 253
/* Each pointer jump goes strictly backwards, so a name ends after at most
 * len jumps; this bound only keeps a hostile packet's cost small. */
#define MAX_JUMPS 64

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool host_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Appends one label to the presentation form in out (size SBX_DNS_NAME_MAX). */
static int put_label(const uint8_t *l, size_t n, char *out, size_t *olen, bool strict, char *why, size_t whylen)
{
	size_t need = *olen + (*olen ? 1 : 0) + n;

	if (need > NAME_TEXT_MAX)
		return sbx_fail(why, whylen, -EINVAL, "name is longer than %d characters", NAME_TEXT_MAX);
	if (*olen)
		out[(*olen)++] = '.';
	for (size_t i = 0; i < n; i++) {
		uint8_t c = l[i];

		if (strict && !host_byte(c))
			return sbx_fail(why, whylen, -EINVAL, "name has a byte that no host name has (0x%02x)", c);
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		out[(*olen)++] = (char)c;
	}
	out[*olen] = '\0';
	return 0;
}

/*
 * Reads the name at *off. out gets its presentation form (lower case; with
 * strict, host-name bytes only); *off moves past the name as it sits at
 * *off (a pointer counts 2 bytes). A pointer must point before the label
 * run it ends, which makes loops and forward pointers impossible, and past
 * the header.
 */
static int read_name(const uint8_t *pkt, size_t len, size_t *off, char *out, bool strict, char *why, size_t whylen)
{
	size_t p = *off, run = *off, olen = 0, end = 0;
	unsigned jumps = 0;
	int r;

	out[0] = '\0';
	for (;;) {
		if (p >= len)
			return sbx_fail(why, whylen, -EINVAL, "name runs past the end of the message");
		uint8_t b = pkt[p];

		if (b == 0) {
			if (!end)
				end = p + 1;
			break;
		}
		if ((b & 0xc0) == 0xc0) {
			if (p + 1 >= len)
				return sbx_fail(why, whylen, -EINVAL, "compression pointer cut at the end of the message");
			size_t target = (size_t)(get16(pkt + p) & 0x3fff);

			if (target >= run)
				return sbx_fail(why, whylen, -EINVAL,
						"compression pointer at offset %zu does not point backwards", p);
			/* the header is no name, and the resolver rewrites its id
			 * before forwarding: a name read from it would not be the
			 * name upstream reads */
			if (target < SBX_DNS_HEADER_LEN)
				return sbx_fail(why, whylen, -EINVAL,
						"compression pointer at offset %zu points into the header", p);
			if (++jumps > MAX_JUMPS)
				return sbx_fail(why, whylen, -EINVAL, "too many compression pointers");
			if (!end)
				end = p + 2;
			p = run = target;
			continue;
		}
		if (b & 0xc0)
			return sbx_fail(why, whylen, -EINVAL, "label type 0x%02x at offset %zu is not supported", b, p);
		if (p + 1 + b > len)
			return sbx_fail(why, whylen, -EINVAL, "label runs past the end of the message");
		r = put_label(pkt + p + 1, b, out, &olen, strict, why, whylen);
		if (r < 0)
			return r;
		p += 1 + (size_t)b;
	}
	*off = end;
	return 0;
}

/* Header and question, shared by queries and replies. */
static int parse_question(const uint8_t *pkt, size_t len, struct sbx_dns_question *q, char *why, size_t whylen)
{
	size_t off = SBX_DNS_HEADER_LEN;
	int r;

	if (len < SBX_DNS_HEADER_LEN)
		return sbx_fail(why, whylen, -EINVAL, "message of %zu bytes is shorter than a DNS header", len);
	q->id = get16(pkt);
	q->flags = get16(pkt + 2);
	if ((q->flags & F_OPCODE) != 0)
		return sbx_fail(why, whylen, -EINVAL, "opcode %u is not QUERY", (q->flags & F_OPCODE) >> 11);
	if (get16(pkt + 4) != 1)
		return sbx_fail(why, whylen, -EINVAL, "message has %u questions, not 1", get16(pkt + 4));
	r = read_name(pkt, len, &off, q->name, true, why, whylen);
	if (r < 0)
		return r;
	if (off + 4 > len)
		return sbx_fail(why, whylen, -EINVAL, "question is cut before its type and class");
	q->qtype = get16(pkt + off);
	q->qclass = get16(pkt + off + 2);
	q->end = off + 4;
	return 0;
}

int sbx_dns_parse_query(const uint8_t *pkt, size_t len, struct sbx_dns_question *q, char *why, size_t whylen)
{
	int r = parse_question(pkt, len, q, why, whylen);

	if (r < 0)
		return r;
	if (q->flags & F_QR)
		return sbx_fail(why, whylen, -EINVAL, "message is a response (QR set), not a query");
	if (get16(pkt + 6) || get16(pkt + 8))
		return sbx_fail(why, whylen, -EINVAL, "query carries answer or authority records");
	return 0;
}

/* Adds name to r's chain unless it is the question's or there already. */
static void chain_add(struct sbx_dns_reply *r, const char *name)
{
	if (!strcmp(name, r->q.name))
		return;
	for (size_t i = 0; i < r->n_chain; i++)
		if (!strcmp(r->chain[i], name))
			return;
	if (r->n_chain == SBX_DNS_MAX_CHAIN) {
		r->chain_truncated = true;
		return;
	}
	snprintf(r->chain[r->n_chain++], SBX_DNS_NAME_MAX, "%s", name);
}

/* One resource record at *off: keeps its owner name, a CNAME's target, and
 * its address when it is A/AAAA of class IN. Returns 1 when the record is cut
 * short (for TC replies), 0 or -EINVAL. */
static int parse_rr(const uint8_t *pkt, size_t len, size_t *off, struct sbx_dns_reply *r, char *why, size_t whylen)
{
	char owner[SBX_DNS_NAME_MAX];
	size_t p = *off;
	uint16_t type, class, rdlen;
	uint32_t ttl;
	int e;

	e = read_name(pkt, len, &p, owner, false, why, whylen);
	if (e < 0)
		return e;
	if (p + 10 > len)
		return 1;
	type = get16(pkt + p);
	class = get16(pkt + p + 2);
	ttl = get32(pkt + p + 4);
	rdlen = get16(pkt + p + 8);
	p += 10;
	if (p + rdlen > len)
		return 1;
	*off = p + rdlen;
	chain_add(r, owner);
	if (class == SBX_DNS_CLASS_IN && type == SBX_DNS_T_CNAME) {
		size_t t = p;

		/* the target ends inside the record: read it from a copy that ends there */
		e = read_name(pkt, p + rdlen, &t, owner, false, why, whylen);
		if (e < 0)
			return e;
		chain_add(r, owner);
		return 0;
	}
	if (class != SBX_DNS_CLASS_IN || (type != SBX_DNS_T_A && type != SBX_DNS_T_AAAA))
		return 0;
	if (rdlen != (type == SBX_DNS_T_A ? 4 : 16))
		return sbx_fail(why, whylen, -EINVAL, "%s record of %u bytes", sbx_dns_type_name(type), rdlen);
	if (r->n_addrs == SBX_DNS_MAX_ADDRS) {
		r->addrs_truncated = true;
		return 0;
	}
	struct sbx_dns_addr *a = &r->addrs[r->n_addrs++];

	memset(a, 0, sizeof(*a));
	a->family = type == SBX_DNS_T_A ? AF_INET : AF_INET6;
	memcpy(a->addr, pkt + p, rdlen);
	a->ttl = ttl & 0x80000000u ? 0 : ttl;
	if (r->n_addrs == 1 || a->ttl < r->min_ttl)
		r->min_ttl = a->ttl;
	return 0;
}

int sbx_dns_parse_reply(const uint8_t *pkt, size_t len, struct sbx_dns_reply *r, char *why, size_t whylen)
{
	size_t off;
	unsigned an;
	int e;

	memset(r, 0, sizeof(*r));
	e = parse_question(pkt, len, &r->q, why, whylen);
	if (e < 0)
		return e;
	if (!(r->q.flags & F_QR))
		return sbx_fail(why, whylen, -EINVAL, "message is a query (QR clear), not a response");
	r->rcode = r->q.flags & F_RCODE;
	r->tc = r->q.flags & F_TC;
	an = get16(pkt + 6);
	off = r->q.end;
	for (unsigned i = 0; i < an; i++) {
		e = parse_rr(pkt, len, &off, r, why, whylen);
		if (e < 0)
			return e;
		if (e > 0) {
			if (r->tc)
				break;
			return sbx_fail(why, whylen, -EINVAL, "answer record %u runs past the end of the message", i + 1);
		}
	}
	return 0;
}

/* q->name in wire form, uncompressed; returns its length. */
static size_t encode_name(const char *name, uint8_t *out)
{
	size_t n = 0;

	while (*name) {
		size_t l = strcspn(name, ".");

		out[n++] = (uint8_t)l;
		memcpy(out + n, name, l);
		n += l;
		name += l + (name[l] == '.');
	}
	out[n++] = 0;
	return n;
}

ssize_t sbx_dns_error_reply(const uint8_t *query, size_t qlen, const struct sbx_dns_question *q, uint8_t rc,
			    uint8_t *out, size_t outlen)
{
	size_t wire = q->name[0] ? strlen(q->name) + 2 : 1, len = SBX_DNS_HEADER_LEN + wire + 4;
	uint16_t flags;

	if (q->end > qlen || q->end < SBX_DNS_HEADER_LEN + 5 || len > outlen)
		return -ENOSPC;
	if (q->end == len) {
		/* no compression pointer: the question as the client wrote it (its case) */
		memcpy(out, query, len);
	} else {
		/* a pointer may point into the header, which changes here: write the name out */
		memcpy(out, query, SBX_DNS_HEADER_LEN);
		encode_name(q->name, out + SBX_DNS_HEADER_LEN);
		memcpy(out + SBX_DNS_HEADER_LEN + wire, query + q->end - 4, 4);
	}
	flags = F_QR | (q->flags & (F_OPCODE | F_RD)) | F_RA | (rc & F_RCODE);
	out[0] = (uint8_t)(q->id >> 8);
	out[1] = (uint8_t)q->id;
	out[2] = (uint8_t)(flags >> 8);
	out[3] = (uint8_t)flags;
	memset(out + 4, 0, 8);
	out[5] = 1;	/* QDCOUNT */
	return (ssize_t)len;
}

static unsigned count_labels(const char *s)
{
	unsigned n = *s ? 1 : 0;

	for (; *s; s++)
		n += *s == '.';
	return n;
}

unsigned sbx_dns_name_match(const char *pattern, const char *name)
{
	size_t pl, nl;

	if (!pattern || !name)
		return 0;
	if (pattern[0] == '*' && pattern[1] == '.' && pattern[2]) {
		const char *base = pattern + 2;

		pl = strlen(base);
		nl = strlen(name);
		/* at least one label below the base, and a whole-label boundary */
		if (nl < pl + 2 || name[nl - pl - 1] != '.' || strcasecmp(name + nl - pl, base) != 0)
			return 0;
		return count_labels(base) * 2;
	}
	if (!pattern[0] || strchr(pattern, '*') || strcasecmp(pattern, name) != 0)
		return 0;
	return count_labels(pattern) * 2 + 1;
}

const char *sbx_dns_type_name(uint16_t qtype)
{
	static const struct {
		uint16_t t;
		const char *s;
	} names[] = {
		{ 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" }, { 12, "PTR" }, { 13, "HINFO" },
		{ 15, "MX" }, { 16, "TXT" }, { 28, "AAAA" }, { 33, "SRV" }, { 35, "NAPTR" }, { 39, "DNAME" },
		{ 41, "OPT" }, { 43, "DS" }, { 46, "RRSIG" }, { 47, "NSEC" }, { 48, "DNSKEY" }, { 50, "NSEC3" },
		{ 52, "TLSA" }, { 64, "SVCB" }, { 65, "HTTPS" }, { 99, "SPF" }, { 252, "AXFR" }, { 255, "ANY" },
		{ 257, "CAA" },
	};
	static __thread char buf[16];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].t == qtype)
			return names[i].s;
	snprintf(buf, sizeof(buf), "TYPE%u", qtype);
	return buf;
}
