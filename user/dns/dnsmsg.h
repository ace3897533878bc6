/* SPDX-License-Identifier: MIT */
/*
 * The DNS wire format, as much of it as sbx's resolver (resolver.h) needs:
 * the question of a query, the A/AAAA addresses of a reply, an error reply,
 * and the host-name patterns of network rules. Pure functions over byte
 * buffers: nothing here reads a socket, and no input may crash them
 * (tests/fuzz/fuzz_dns.c).
 *
 * Worked example: the query of `dig api.github.com A` holds the header
 * (id, flags 0x0100: RD), one question 3"api"6"github"3"com"0, type 1, class
 * 1; sbx_dns_parse_query() gives name "api.github.com", qtype SBX_DNS_T_A,
 * end 32 (12 header bytes + 16 name bytes + 4). Its error reply is those 32
 * bytes with QR and RA set and the RCODE asked for.
 */
#ifndef SBX_DNS_DNSMSG_H
#define SBX_DNS_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SBX_DNS_NAME_MAX 254	/* presentation form, lower case, no trailing dot, + NUL */
#define SBX_DNS_MAX_ADDRS 32	/* A/AAAA records kept from one answer */
#define SBX_DNS_MAX_CHAIN 8	/* names of a CNAME chain kept from one answer */
#define SBX_DNS_HEADER_LEN 12
#define SBX_DNS_MSG_MAX 65535	/* the largest message TCP's 2-byte length can frame */

enum { SBX_DNS_T_A = 1, SBX_DNS_T_CNAME = 5, SBX_DNS_T_AAAA = 28 };
enum { SBX_DNS_RC_NOERROR = 0, SBX_DNS_RC_SERVFAIL = 2, SBX_DNS_RC_NXDOMAIN = 3, SBX_DNS_RC_REFUSED = 5 };
#define SBX_DNS_CLASS_IN 1

struct sbx_dns_question {
	uint16_t id;
	uint16_t flags;
	char name[SBX_DNS_NAME_MAX];	/* "" for the root */
	uint16_t qtype, qclass;
	size_t end;			/* offset after the question */
};

struct sbx_dns_addr {
	uint8_t family;		/* AF_INET/AF_INET6 */
	uint8_t addr[16];	/* network byte order; IPv4 in the first 4 bytes */
	uint32_t ttl;		/* seconds; a TTL with the top bit set counts as 0 (RFC 2181 8) */
};

struct sbx_dns_reply {
	struct sbx_dns_question q;
	uint8_t rcode;
	bool tc;
	size_t n_addrs;
	struct sbx_dns_addr addrs[SBX_DNS_MAX_ADDRS];
	bool addrs_truncated;	/* the answer held more than SBX_DNS_MAX_ADDRS */
	uint32_t min_ttl;	/* the smallest TTL of addrs; 0 when there is none */
	/* the names of the answer's CNAME chain: every owner name of an answer
	 * record and every CNAME target, other than the question's, once each;
	 * the resolver refuses an answer that passes through a denied name */
	size_t n_chain;
	char chain[SBX_DNS_MAX_CHAIN][SBX_DNS_NAME_MAX];
	bool chain_truncated;	/* more names than SBX_DNS_MAX_CHAIN */
};

/* A query: exactly one question, opcode QUERY, QR clear, no answer or
 * authority records (additional records such as EDNS's OPT are allowed and
 * left alone). The name is decoded with compression pointers (a pointer
 * must point before the label run that holds it and past the header, so
 * loops, forward pointers and names made of header bytes are refused),
 * lower-cased, made of labels of letters, digits,
 * '-' and '_' only (anything else: "name has a byte that no host name
 * has"), at most 63 bytes a label and 253 characters in all. Returns 0, or
 * -EINVAL with the reason in why. */
int sbx_dns_parse_query(const uint8_t *pkt, size_t len, struct sbx_dns_question *q, char *why, size_t whylen);

/* A reply (QR set, one question, which is decoded as in parse_query): its
 * rcode, TC bit, the address of every A/AAAA record of class IN in the
 * answer section, whatever its owner name, and the names of the CNAME chain
 * that led there (r->chain). The answer section of a reply with TC set may end early: the
 * records it holds are kept. Any other short or malformed record, or an
 * A/AAAA record whose length is not 4/16: -EINVAL. The caller compares
 * r->q with the question it asked. */
int sbx_dns_parse_reply(const uint8_t *pkt, size_t len, struct sbx_dns_reply *r, char *why, size_t whylen);

/* The error reply to a query that sbx_dns_parse_query() accepted as q: its
 * header and question (q->end bytes as the client wrote them; a name with a
 * compression pointer is written out whole instead) with q->id as its id
 * (the query may have been sent upstream under another), QR and RA set, RD
 * copied, AA, TC, AD and CD clear, RCODE rc, no other records. Returns its
 * length or -ENOSPC. */
ssize_t sbx_dns_error_reply(const uint8_t *query, size_t qlen, const struct sbx_dns_question *q, uint8_t rc,
			    uint8_t *out, size_t outlen);

/* Name rules. pattern: "api.github.com" (exact) or "*.example.com" (any
 * depth below, never the apex); both lower case without a trailing dot
 * (letters are compared without case all the same). Returns the
 * specificity, exact = labels * 2 + 1, wildcard = base labels * 2, so an
 * exact name beats a wildcard of the same base and a longer base beats a
 * shorter one; 0 when it does not match. "*.example.com" matches
 * "a.example.com" and "a.b.c.example.com", not "example.com" nor
 * "badexample.com"; a bare "*" matches nothing. */
unsigned sbx_dns_name_match(const char *pattern, const char *name);

/* "A", "AAAA", "CNAME", "TXT", "HTTPS", ... or "TYPE<n>" for a type without
 * a name here (that string lives in a per-thread buffer until the next call). */
const char *sbx_dns_type_name(uint16_t qtype);

#endif
