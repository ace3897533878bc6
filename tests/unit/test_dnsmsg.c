/* SPDX-License-Identifier: MIT */
/* The DNS wire format of the resolver (user/dns/dnsmsg.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "testutil.h"
#include "dns/dnsmsg.h"

/* A message under construction. */
struct msg {
	uint8_t b[2048];
	size_t n;
};

static void put(struct msg *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put16(struct msg *m, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(m, b, 2);
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

static void header(struct msg *m, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	m->n = 0;
	put16(m, id);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

/* wire: a name in wire form as a C string ("\3api\4test"), its final zero added */
static void question(struct msg *m, const char *wire, uint16_t qtype)
{
	put(m, wire, strlen(wire) + 1);
	put16(m, qtype);
	put16(m, 1);
}

static void query(struct msg *m, const char *wire, uint16_t qtype)
{
	header(m, 0x1234, 0x0100, 1, 0, 0, 0);
	question(m, wire, qtype);
}

/* A record whose owner is a pointer to the question's name (offset 12). */
static void rr(struct msg *m, uint16_t type, uint16_t class, uint32_t ttl, const void *rdata, uint16_t rdlen)
{
	put16(m, 0xc00c);
	put16(m, type);
	put16(m, class);
	put32(m, ttl);
	put16(m, rdlen);
	put(m, rdata, rdlen);
}

static int parse_q(const struct msg *m, struct sbx_dns_question *q, char *why)
{
	return sbx_dns_parse_query(m->b, m->n, q, why, 128);
}

static void query_good_is_decoded_lower_case(void **state)
{
	struct sbx_dns_question q;
	struct msg m;
	char why[128];

	(void)state;
	query(&m, "\3API\6GitHub\3com", SBX_DNS_T_AAAA);
	assert_int_equal(parse_q(&m, &q, why), 0);
	assert_string_equal(q.name, "api.github.com");
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.flags, 0x0100);
	assert_int_equal(q.qtype, SBX_DNS_T_AAAA);
	assert_int_equal(q.qclass, 1);
	assert_int_equal(q.end, 12 + 16 + 4);

	/* EDNS's OPT in the additional section is allowed */
	header(&m, 1, 0x0100, 1, 0, 0, 1);
	question(&m, "\1a\1b", SBX_DNS_T_A);
	put(&m, "\0\0\51\20\0\0\0\0\0\0\0", 11);
	assert_int_equal(parse_q(&m, &q, why), 0);
	assert_string_equal(q.name, "a.b");
	assert_int_equal(q.end, 12 + 5 + 4);

	/* underscore labels (SRV names) and the root */
	query(&m, "\5_xmpp\4_tcp\7example\3org", 33);
	assert_int_equal(parse_q(&m, &q, why), 0);
	assert_string_equal(q.name, "_xmpp._tcp.example.org");
	query(&m, "", 2);
	assert_int_equal(parse_q(&m, &q, why), 0);
	assert_string_equal(q.name, "");
}

static void query_header_rules(void **state)
{
	struct sbx_dns_question q;
	struct msg m;
	char why[128];

	(void)state;
	header(&m, 1, 0x0100, 2, 0, 0, 0);
	question(&m, "\1a", 1);
	question(&m, "\1b", 1);
	assert_int_equal(parse_q(&m, &q, why), -EINVAL);
	assert_string_equal(why, "message has 2 questions, not 1");

	header(&m, 1, 0x0100, 0, 0, 0, 0);
	assert_int_equal(parse_q(&m, &q, why), -EINVAL);
	assert_string_equal(why, "message has 0 questions, not 1");

	header(&m, 1, 0x2900, 1, 0, 0, 0);	/* opcode 5, UPDATE */
	question(&m, "\1a", 1);
	assert_int_equal(parse_q(&m, &q, why), -EINVAL);
	assert_string_equal(why, "opcode 5 is not QUERY");

	header(&m, 1, 0x8180, 1, 0, 0, 0);
	question(&m, "\1a", 1);
	assert_int_equal(parse_q(&m, &q, why), -EINVAL);
	assert_string_equal(why, "message is a response (QR set), not a query");

	header(&m, 1, 0x0100, 1, 1, 0, 0);
	question(&m, "\1a", 1);
	assert_int_equal(parse_q(&m, &q, why), -EINVAL);
	assert_string_equal(why, "query carries answer or authority records");

	query(&m, "\1a", 1);
	assert_int_equal(sbx_dns_parse_query(m.b, 11, &q, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "message of 11 bytes is shorter than a DNS header");
	assert_int_equal(sbx_dns_parse_query(m.b, m.n - 1, &q, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "question is cut before its type and class");
	assert_int_equal(sbx_dns_parse_query(m.b, 13, &q, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "label runs past the end of the message");
	assert_int_equal(sbx_dns_parse_query(m.b, 14, &q, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "name runs past the end of the message");
}

static void query_name_rules(void **state)
{
	static const struct {
		const char *wire;
		const char *why;
	} bad[] = {
		{ "\3a b\3com", "name has a byte that no host name has (0x20)" },
		{ "\4ab.c\3com", "name has a byte that no host name has (0x2e)" },
		{ "\3a\200b", "name has a byte that no host name has (0x80)" },
		{ "\3a\"b", "name has a byte that no host name has (0x22)" },
		{ "\100xxxx", "label type 0x40 at offset 12 is not supported" },
	};
	struct sbx_dns_question q;
	struct msg m;
	char why[128], wire[400];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		query(&m, bad[i].wire, 1);
		assert_int_equal(parse_q(&m, &q, why), -EINVAL);
		assert_string_equal(why, bad[i].why);
	}

	/* a NUL inside a label */
	header(&m, 1, 0x0100, 1, 0, 0, 0);
	put(&m, "\3a\0b\0\0\1\0\1", 9);
	assert_int_equal(parse_q(&m, &q, why), -EINVAL);
	assert_string_equal(why, "name has a byte that no host name has (0x00)");

	/* 63 bytes a label is the most; a length byte of 64 is no label type */
	memset(wire, 'a', sizeof(wire));
	wire[0] = 63;
	wire[64] = '\0';
	query(&m, wire, 1);
	assert_int_equal(parse_q(&m, &q, why), 0);
	assert_int_equal(strlen(q.name), 63);
	memset(wire, 'a', sizeof(wire));
	wire[0] = 64;
	wire[65] = '\0';
	query(&m, wire, 1);
	assert_int_equal(parse_q(&m, &q, why), -EINVAL);

	/* 253 characters pass, 254 do not: labels of 63, 63, 63 and 61 + 3 dots = 253 */
	size_t n = 0;

	for (int l = 0; l < 4; l++) {
		size_t ll = l < 3 ? 63 : 61;

		wire[n++] = (char)ll;
		memset(wire + n, 'b', ll);
		n += ll;
	}
	wire[n] = '\0';
	query(&m, wire, 1);
	assert_int_equal(parse_q(&m, &q, why), 0);
	assert_int_equal(strlen(q.name), 253);
	wire[n - 62] = 62;
	wire[n++] = 'd';
	wire[n] = '\0';
	query(&m, wire, 1);
	assert_int_equal(parse_q(&m, &q, why), -EINVAL);
	assert_string_equal(why, "name is longer than 253 characters");
}

static void query_compression_pointers(void **state)
{
	struct sbx_dns_question q;
	struct msg m;
	char why[128];

	(void)state;
	/* a pointer to itself */
	header(&m, 1, 0x0100, 1, 0, 0, 0);
	put(&m, "\300\14\0\1\0\1", 6);
	assert_int_equal(parse_q(&m, &q, why), -EINVAL);
	assert_string_equal(why, "compression pointer at offset 12 does not point backwards");

	/* forward, and past the end */
	header(&m, 1, 0x0100, 1, 0, 0, 0);
	put(&m, "\1a\300\20\0\1\0\1", 8);
	assert_int_equal(parse_q(&m, &q, why), -EINVAL);
	assert_string_equal(why, "compression pointer at offset 14 does not point backwards");
	header(&m, 1, 0x0100, 1, 0, 0, 0);
	put(&m, "\1a\377\377\0\1\0\1", 8);
	assert_int_equal(parse_q(&m, &q, why), -EINVAL);

	/* cut in the middle */
	header(&m, 1, 0x0100, 1, 0, 0, 0);
	put(&m, "\1a\300", 3);
	assert_int_equal(parse_q(&m, &q, why), -EINVAL);
	assert_string_equal(why, "compression pointer cut at the end of the message");

	/* a loop of two pointers: 12 -> label a, pointer to 16; 16 -> pointer to 12 */
	header(&m, 1, 0x0100, 1, 0, 0, 0);
	put(&m, "\1a\300\20\300\14", 6);
	assert_int_equal(parse_q(&m, &q, why), -EINVAL);

	/* a backward pointer into the header: the resolver forwards under another
	 * id, so upstream would read another name than the one checked */
	header(&m, 1, 0x0100, 1, 0, 0, 0);
	put(&m, "\1x\300\4\0\1\0\1", 8);
	assert_int_equal(parse_q(&m, &q, why), -EINVAL);
	assert_string_equal(why, "compression pointer at offset 14 points into the header");
	/* id 01 61, flags 01 62: the name "a.b" made of the header alone */
	header(&m, 0x0161, 0x0162, 1, 0, 0, 0);
	put(&m, "\300\0\0\1\0\1", 6);
	assert_int_equal(parse_q(&m, &q, why), -EINVAL);
	assert_string_equal(why, "compression pointer at offset 12 points into the header");
}

static void reply_cname_chain_then_addresses(void **state)
{
	static const uint8_t a1[4] = { 192, 0, 2, 10 }, a2[4] = { 192, 0, 2, 11 };
	uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	struct sbx_dns_reply r;
	struct msg m;
	char why[128];

	(void)state;
	a6[15] = 1;
	header(&m, 0x4242, 0x8180, 1, 5, 0, 0);
	question(&m, "\3www\4test", SBX_DNS_T_A);
	rr(&m, SBX_DNS_T_CNAME, 1, 300, "\3api\300\20", 6);	/* www.test -> api.test */
	rr(&m, SBX_DNS_T_A, 1, 60, a1, 4);
	rr(&m, SBX_DNS_T_A, 1, 0x80000001u, a2, 4);		/* top bit set: 0 */
	rr(&m, SBX_DNS_T_AAAA, 1, 30, a6, 16);
	rr(&m, SBX_DNS_T_A, 3, 10, a1, 4);			/* class CH: not kept */
	assert_int_equal(sbx_dns_parse_reply(m.b, m.n, &r, why, sizeof(why)), 0);
	assert_int_equal(r.q.id, 0x4242);
	assert_string_equal(r.q.name, "www.test");
	assert_int_equal(r.rcode, 0);
	assert_false(r.tc);
	assert_int_equal(r.n_addrs, 3);
	assert_false(r.addrs_truncated);
	assert_int_equal(r.addrs[0].family, AF_INET);
	assert_memory_equal(r.addrs[0].addr, a1, 4);
	assert_int_equal(r.addrs[0].ttl, 60);
	assert_int_equal(r.addrs[1].ttl, 0);
	assert_int_equal(r.addrs[2].family, AF_INET6);
	assert_memory_equal(r.addrs[2].addr, a6, 16);
	assert_int_equal(r.min_ttl, 0);
	/* the chain: the CNAME's target (the owners are all the question's) */
	assert_int_equal(r.n_chain, 1);
	assert_string_equal(r.chain[0], "api.test");
	assert_false(r.chain_truncated);
}

/* Every name of a chain is kept once, past the cap the reply says so. */
static void reply_chain_names_kept_once_and_capped(void **state)
{
	static const uint8_t a1[4] = { 192, 0, 2, 10 };
	struct sbx_dns_reply r;
	struct msg m;
	char why[128];
	char target[16];

	(void)state;
	header(&m, 7, 0x8180, 1, 2, 0, 0);
	question(&m, "\3www\4test", SBX_DNS_T_A);
	rr(&m, SBX_DNS_T_CNAME, 1, 300, "\3Bad\300\20", 6);	/* www.test -> bad.test */
	rr(&m, SBX_DNS_T_CNAME, 1, 300, "\3bad\300\20", 6);	/* the same name again */
	assert_int_equal(sbx_dns_parse_reply(m.b, m.n, &r, why, sizeof(why)), 0);
	assert_int_equal(r.n_chain, 1);
	assert_string_equal(r.chain[0], "bad.test");

	header(&m, 7, 0x8180, 1, SBX_DNS_MAX_CHAIN + 2, 0, 0);
	question(&m, "\3www\4test", SBX_DNS_T_A);
	for (int i = 0; i < SBX_DNS_MAX_CHAIN + 1; i++) {
		snprintf(target, sizeof(target), "\2c%c\300\20", 'a' + i);
		rr(&m, SBX_DNS_T_CNAME, 1, 300, target, 5);
	}
	rr(&m, SBX_DNS_T_A, 1, 60, a1, 4);
	assert_int_equal(sbx_dns_parse_reply(m.b, m.n, &r, why, sizeof(why)), 0);
	assert_int_equal(r.n_chain, SBX_DNS_MAX_CHAIN);
	assert_true(r.chain_truncated);
	assert_int_equal(r.n_addrs, 1);
}

static void reply_rcode_tc_and_limits(void **state)
{
	static const uint8_t a[4] = { 198, 51, 100, 1 };
	struct sbx_dns_reply r;
	struct msg m;
	char why[128];

	(void)state;
	/* NXDOMAIN, no answers */
	header(&m, 7, 0x8183, 1, 0, 0, 0);
	question(&m, "\1x", 1);
	assert_int_equal(sbx_dns_parse_reply(m.b, m.n, &r, why, sizeof(why)), 0);
	assert_int_equal(r.rcode, SBX_DNS_RC_NXDOMAIN);
	assert_int_equal(r.n_addrs, 0);
	assert_int_equal(r.min_ttl, 0);

	/* TC set and the answer section cut: what is there is kept */
	header(&m, 7, 0x8380, 1, 3, 0, 0);
	question(&m, "\1x", 1);
	rr(&m, SBX_DNS_T_A, 1, 5, a, 4);
	put(&m, "\300\14\0\1\0", 5);
	assert_int_equal(sbx_dns_parse_reply(m.b, m.n, &r, why, sizeof(why)), 0);
	assert_true(r.tc);
	assert_int_equal(r.n_addrs, 1);
	assert_int_equal(r.min_ttl, 5);

	/* the same cut without TC is malformed */
	m.b[2] = 0x81;
	assert_int_equal(sbx_dns_parse_reply(m.b, m.n, &r, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "answer record 2 runs past the end of the message");

	/* an A record of 5 bytes */
	header(&m, 7, 0x8180, 1, 1, 0, 0);
	question(&m, "\1x", 1);
	rr(&m, SBX_DNS_T_A, 1, 5, "abcde", 5);
	assert_int_equal(sbx_dns_parse_reply(m.b, m.n, &r, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "A record of 5 bytes");

	/* a query is no reply */
	query(&m, "\1x", 1);
	assert_int_equal(sbx_dns_parse_reply(m.b, m.n, &r, why, sizeof(why)), -EINVAL);

	/* more than SBX_DNS_MAX_ADDRS */
	header(&m, 7, 0x8180, 1, SBX_DNS_MAX_ADDRS + 3, 0, 0);
	question(&m, "\1x", 1);
	for (int i = 0; i < SBX_DNS_MAX_ADDRS + 3; i++)
		rr(&m, SBX_DNS_T_A, 1, 100u + (uint32_t)i, a, 4);
	assert_int_equal(sbx_dns_parse_reply(m.b, m.n, &r, why, sizeof(why)), 0);
	assert_int_equal(r.n_addrs, SBX_DNS_MAX_ADDRS);
	assert_true(r.addrs_truncated);
	assert_int_equal(r.min_ttl, 100);

	/* owner names of records may hold any byte */
	header(&m, 7, 0x8180, 1, 1, 0, 0);
	question(&m, "\1x", 1);
	put(&m, "\3a b\0\0\1\0\1\0\0\0\11\0\4", 15);
	put(&m, a, 4);
	assert_int_equal(sbx_dns_parse_reply(m.b, m.n, &r, why, sizeof(why)), 0);
	assert_int_equal(r.n_addrs, 1);
	assert_int_equal(r.addrs[0].ttl, 9);
}

static void name_match_table(void **state)
{
	static const struct {
		const char *pattern, *name;
		unsigned want;
	} t[] = {
		{ "api.github.com", "api.github.com", 7 },
		{ "api.github.com", "API.GitHub.com", 7 },
		{ "api.github.com", "x.api.github.com", 0 },
		{ "api.github.com", "github.com", 0 },
		{ "*.example.com", "a.example.com", 4 },
		{ "*.example.com", "a.b.c.example.com", 4 },
		{ "*.example.com", "A.Example.COM", 4 },
		{ "*.example.com", "example.com", 0 },
		{ "*.example.com", "badexample.com", 0 },
		{ "*.example.com", ".example.com", 0 },
		{ "*.example.com", "a.example.com.evil", 0 },
		{ "example.com", "badexample.com", 0 },
		{ "example.com", "example.com", 5 },
		{ "*.com", "example.com", 2 },
		{ "*", "example.com", 0 },
		{ "*.", "example.com", 0 },
		{ "", "", 0 },
		{ "a.*.com", "a.b.com", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		unsigned got = sbx_dns_name_match(t[i].pattern, t[i].name);

		if (got != t[i].want)
			fail_msg("%s vs %s: %u, want %u", t[i].pattern, t[i].name, got, t[i].want);
	}
	/* exact beats the wildcard of the same base, a longer base beats a shorter */
	assert_true(sbx_dns_name_match("a.example.com", "a.example.com") >
		    sbx_dns_name_match("*.example.com", "a.example.com"));
	assert_true(sbx_dns_name_match("*.example.com", "a.example.com") >
		    sbx_dns_name_match("*.com", "a.example.com"));
	assert_true(sbx_dns_name_match("*.b.example.com", "a.b.example.com") >
		    sbx_dns_name_match("*.example.com", "a.b.example.com"));
}

static void error_reply_keeps_question(void **state)
{
	struct sbx_dns_question q;
	struct msg m;
	uint8_t out[512];
	char why[128];
	ssize_t n;

	(void)state;
	header(&m, 0xbeef, 0x0110, 1, 0, 0, 1);	/* RD and CD */
	question(&m, "\3bad\4test", 16);
	put(&m, "\0\0\51\20\0\0\0\0\0\0\0", 11);
	assert_int_equal(parse_q(&m, &q, why), 0);
	n = sbx_dns_error_reply(m.b, m.n, &q, SBX_DNS_RC_REFUSED, out, sizeof(out));
	assert_int_equal(n, (ssize_t)q.end);
	assert_int_equal(out[0], 0xbe);
	assert_int_equal(out[1], 0xef);
	assert_int_equal(out[2], 0x81);		/* QR, RD */
	assert_int_equal(out[3], 0x85);		/* RA, REFUSED */
	assert_memory_equal(out + 4, "\0\1\0\0\0\0\0\0", 8);
	assert_memory_equal(out + 12, m.b + 12, q.end - 12);

	/* it parses as a reply to that very question */
	struct sbx_dns_reply r;

	assert_int_equal(sbx_dns_parse_reply(out, (size_t)n, &r, why, sizeof(why)), 0);
	assert_int_equal(r.rcode, SBX_DNS_RC_REFUSED);
	assert_string_equal(r.q.name, "bad.test");
	assert_int_equal(r.q.qtype, 16);

	assert_int_equal(sbx_dns_error_reply(m.b, m.n, &q, 3, out, q.end - 1), -ENOSPC);

	/* a name that points into the header is written out whole: the header changes */
	/* (parse_query refuses such a name; the question is made by hand) */
	header(&m, 0x0161, 0x0100, 1, 0, 0, 0);	/* the pointer to offset 4 reads the root (QDCOUNT) */
	put(&m, "\1x\300\4\0\1\0\1", 8);
	memset(&q, 0, sizeof(q));
	q.id = 0x0161;
	q.flags = 0x0100;
	strcpy(q.name, "x");
	q.qtype = q.qclass = 1;
	q.end = 12 + 4 + 4;
	n = sbx_dns_error_reply(m.b, m.n, &q, SBX_DNS_RC_REFUSED, out, sizeof(out));
	assert_int_equal(n, 12 + 3 + 4);
	assert_memory_equal(out + 12, "\1x\0\0\1\0\1", 7);
	assert_int_equal(sbx_dns_parse_reply(out, (size_t)n, &r, why, sizeof(why)), 0);
	assert_string_equal(r.q.name, "x");
	n = sbx_dns_error_reply(m.b, m.n, &q, SBX_DNS_RC_NXDOMAIN, out, sizeof(out));
	assert_int_equal(out[3] & 0xf, SBX_DNS_RC_NXDOMAIN);
}

static void type_names(void **state)
{
	(void)state;
	assert_string_equal(sbx_dns_type_name(1), "A");
	assert_string_equal(sbx_dns_type_name(28), "AAAA");
	assert_string_equal(sbx_dns_type_name(5), "CNAME");
	assert_string_equal(sbx_dns_type_name(16), "TXT");
	assert_string_equal(sbx_dns_type_name(65), "HTTPS");
	assert_string_equal(sbx_dns_type_name(4242), "TYPE4242");
	assert_string_equal(sbx_dns_type_name(0), "TYPE0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(query_good_is_decoded_lower_case),
		cmocka_unit_test(query_header_rules),
		cmocka_unit_test(query_name_rules),
		cmocka_unit_test(query_compression_pointers),
		cmocka_unit_test(reply_cname_chain_then_addresses),
		cmocka_unit_test(reply_chain_names_kept_once_and_capped),
		cmocka_unit_test(reply_rcode_tc_and_limits),
		cmocka_unit_test(name_match_table),
		cmocka_unit_test(error_reply_keeps_question),
		cmocka_unit_test(type_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
