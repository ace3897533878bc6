/* SPDX-License-Identifier: MIT */
/*
 * Host names and address groups in network entries (issue 14): punycode
 * (RFC 3492's own samples) and the ASCII form of a UTF-8 name, and the
 * expansion of a group into address prefixes by sbx_resolve (public: the
 * exact complement of the others). The entry forms are in test_values.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "testutil.h"
#include "core/resolve.h"
#include "netgroup.h"
#include "policy.h"
#include "punycode.h"

/* RFC 3492 section 7.1, samples (A) to (D), (L), (R) and (S). */
static const struct {
	const char *label;
	uint32_t cp[32];
	size_t n;
	const char *puny;
} rfc3492[] = {
	{ "(A) Arabic", { 0x0644, 0x064A, 0x0647, 0x0645, 0x0627, 0x0628, 0x062A, 0x0643, 0x0644, 0x0645,
			  0x0648, 0x0634, 0x0639, 0x0631, 0x0628, 0x064A, 0x061F }, 17,
	  "egbpdaj6bu4bxfgehfvwxn" },
	{ "(B) Chinese (simplified)", { 0x4ED6, 0x4EEC, 0x4E3A, 0x4EC0, 0x4E48, 0x4E0D, 0x8BF4, 0x4E2D,
					0x6587 }, 9, "ihqwcrb4cv8a8dqg056pqjye" },
	{ "(C) Chinese (traditional)", { 0x4ED6, 0x5011, 0x7232, 0x4EC0, 0x9EBD, 0x4E0D, 0x8AAA, 0x4E2D,
					 0x6587 }, 9, "ihqwctvzc91f659drss3x8bo0yb" },
	{ "(D) Czech", { 0x0050, 0x0072, 0x006F, 0x010D, 0x0070, 0x0072, 0x006F, 0x0073, 0x0074, 0x011B,
			 0x006E, 0x0065, 0x006D, 0x006C, 0x0075, 0x0076, 0x00ED, 0x010D, 0x0065, 0x0073,
			 0x006B, 0x0079 }, 22, "Proprostnemluvesky-uyb24dma41a" },
	{ "(L) 3B", { 0x0033, 0x5E74, 0x0042, 0x7D44, 0x91D1, 0x516B, 0x5148, 0x751F }, 8,
	  "3B-ww4c5e180e575a65lsy2b" },
	{ "(R) sono supiido de", { 0x305D, 0x306E, 0x30B9, 0x30D4, 0x30FC, 0x30C9, 0x3067 }, 7,
	  "d9juau41awczczp" },
	{ "(S) -> $1.00 <-", { 0x2D, 0x3E, 0x20, 0x24, 0x31, 0x2E, 0x30, 0x30, 0x20, 0x3C, 0x2D }, 11,
	  "-> $1.00 <--" },
};

static void punycode_encodes_rfc3492_samples(void **state)
{
	char out[128];

	(void)state;
	for (size_t i = 0; i < sizeof(rfc3492) / sizeof(rfc3492[0]); i++) {
		int r = sbx_punycode_encode(rfc3492[i].cp, rfc3492[i].n, out, sizeof(out));

		if (r < 0 || strcmp(out, rfc3492[i].puny))
			fail_msg("%s: encoded as '%s' (%d), want '%s'", rfc3492[i].label, out, r,
				 rfc3492[i].puny);
		assert_int_equal(r, (int)strlen(rfc3492[i].puny));
	}
	assert_int_equal(sbx_punycode_encode(rfc3492[0].cp, rfc3492[0].n, out, 10), -E2BIG);
	assert_int_equal(sbx_punycode_encode((const uint32_t[]){ 0xd800 }, 1, out, sizeof(out)), -EINVAL);
}

static void punycode_decodes_rfc3492_samples(void **state)
{
	uint32_t cp[64];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(rfc3492) / sizeof(rfc3492[0]); i++) {
		const char *s = rfc3492[i].puny;

		n = 0;
		if (sbx_punycode_decode(s, strlen(s), cp, 64, &n) < 0)
			fail_msg("%s: '%s' does not decode", rfc3492[i].label, s);
		assert_int_equal(n, rfc3492[i].n);
		assert_memory_equal(cp, rfc3492[i].cp, n * sizeof(cp[0]));
	}
	/* digits are case-insensitive (RFC 3492 section 5) */
	assert_int_equal(sbx_punycode_decode("EGBPDAJ6BU4BXFGEHFVWXN", 22, cp, 64, &n), 0);
	assert_memory_equal(cp, rfc3492[0].cp, 17 * sizeof(cp[0]));
	assert_int_equal(sbx_punycode_decode("egbpdaj6bu4bxfgehfvwxn", 22, cp, 16, &n), -E2BIG);
}

static void punycode_refuses_invalid_input(void **state)
{
	static const char *const bad[] = {
		"bcher-kv",	/* truncated number */
		"bcher-kva9",	/* truncated after a digit */
		"99999999",	/* overflows */
		"b\xc3\xbc-kva",/* non-basic code point before the delimiter */
		"bcher-kv_a",	/* not a digit */
		"-",		/* a lone delimiter is no digit */
	};
	uint32_t cp[64];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sbx_punycode_decode(bad[i], strlen(bad[i]), cp, 64, &n) == 0)
			fail_msg("'%s' decoded (%zu code points)", bad[i], n);
}

static void punycode_labels_must_round_trip(void **state)
{
	(void)state;
	assert_int_equal(sbx_punycode_label_valid("xn--bcher-kva", 13), 0);
	assert_int_equal(sbx_punycode_label_valid("XN--BCHER-KVA", 13), 0);
	assert_int_equal(sbx_punycode_label_valid("xn--ls8h", 8), 0);
	/* decodes, but to plain ASCII: not an A-label */
	assert_int_equal(sbx_punycode_label_valid("xn--bcher-", 10), -EINVAL);
	assert_int_equal(sbx_punycode_label_valid("xn--bcher-kva-", 14), -EINVAL);
	assert_int_equal(sbx_punycode_label_valid("xn--bcher-kv", 12), -EINVAL);
	assert_int_equal(sbx_punycode_label_valid("xn--", 4), -EINVAL);
}

static void idn_to_ascii_converts_each_label(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(sbx_idn_to_ascii("b\xc3\xbc" "cher.example", out, sizeof(out)), 0);
	assert_string_equal(out, "xn--bcher-kva.example");
	assert_int_equal(sbx_idn_to_ascii("*.B\xc3\xbc" "cher.Example", out, sizeof(out)), 0);
	assert_string_equal(out, "*.xn--bcher-kva.example");
	assert_int_equal(sbx_idn_to_ascii("\xe2\x98\x82.\xe2\x98\x83.com", out, sizeof(out)), 0);
	assert_string_equal(out, "xn--m3h.xn--n3h.com");
	assert_int_equal(sbx_idn_to_ascii("\xff.example", out, sizeof(out)), -EINVAL);
	assert_int_equal(sbx_idn_to_ascii("\xc0\xaf.example", out, sizeof(out)), -EINVAL); /* overlong */
	assert_int_equal(sbx_idn_to_ascii("\xed\xa0\x80.example", out, sizeof(out)), -EINVAL); /* surrogate */
	assert_int_equal(sbx_idn_to_ascii("a..b", out, sizeof(out)), -EINVAL);
	assert_int_equal(sbx_idn_to_ascii("b\xc3\xbc" "cher.example", out, 8), -E2BIG);
}

/* ---- group expansion ----------------------------------------------------- */

/* How many prefixes of v hold addr (a full-length prefix). */
static int holders(const struct sbx_group_cidr *v, size_t n, int family, const uint8_t addr[16])
{
	int k = 0;

	for (size_t i = 0; i < n; i++)
		k += sbx_cidr_contains(&v[i], family, addr, family == AF_INET ? 32 : 128);
	return k;
}

static void complement_of_nothing_is_everything(void **state)
{
	struct sbx_group_cidr *v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(sbx_cidr_complement(NULL, 0, AF_INET6, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].family, AF_INET6);
	assert_int_equal(v[0].prefix_len, 0);
	free(v);
}

static void complement_of_one_half_is_the_other(void **state)
{
	const struct sbx_group_cidr low = { SBX_GROUP_SPECIAL, AF_INET, 1, { 0 } };
	struct sbx_group_cidr *v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(sbx_cidr_complement(&low, 1, AF_INET, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].prefix_len, 1);
	assert_int_equal(v[0].addr[0], 0x80);
	free(v);
}

/* Every address that stands for a prefix boundary of the table, and its
 * neighbours, is in exactly one of: public's prefixes, the other groups'
 * ranges (counted once, as the most specific range holds it), or
 * ::ffff:0:0/96. The public prefixes never overlap each other. */
static void public_is_the_exact_complement(void **state)
{
	struct sbx_group_cidr *pub = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(sbx_group_prefixes(SBX_GROUP_PUBLIC, &pub, &n), 0);
	assert_true(n > 2 && n < 400);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			if (i != j && sbx_cidr_contains(&pub[i], pub[j].family, pub[j].addr, pub[j].prefix_len))
				fail_msg("public prefixes %zu and %zu overlap", i, j);
	/* probe the first and last address of every range and of every public
	 * prefix, and the addresses just outside them */
	for (int pass = 0; pass < 2; pass++) {
		const struct sbx_group_cidr *set = pass ? pub : sbx_group_cidrs;
		size_t m = pass ? n : sbx_n_group_cidrs;

		for (size_t i = 0; i < m; i++) {
			int fam = set[i].family, bits = fam == AF_INET ? 32 : 128;

			for (int edge = 0; edge < 4; edge++) {
				uint8_t a[16];
				bool top = edge & 1, outside = edge & 2;
				int in_pub, in_other;

				memcpy(a, set[i].addr, 16);
				for (int b = set[i].prefix_len; b < bits && top; b++)
					a[b / 8] |= (uint8_t)(0x80 >> (b % 8));
				if (outside) {	/* one past the top, one before the bottom */
					int carry = top ? 1 : -1;

					for (int k = bits / 8 - 1; k >= 0 && carry; k--) {
						int v = a[k] + carry;

						a[k] = (uint8_t)v;
						carry = v > 255 ? 1 : v < 0 ? -1 : 0;
					}
				}
				in_pub = holders(pub, n, fam, a);
				in_other = sbx_addr_group(fam, a) != SBX_GROUP_PUBLIC ||
					   (fam == AF_INET6 && !memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12));
				if (in_pub + in_other != 1) {
					char s[INET6_ADDRSTRLEN];

					inet_ntop(fam, a, s, sizeof(s));
					fail_msg("%s is in %d public prefixes and %s other range", s,
						 in_pub, in_other ? "an" : "no");
				}
			}
		}
	}
	free(pub);
}

static void group_expands_to_its_ranges(void **state)
{
	struct sbx_group_cidr *v = NULL;
	size_t n = 0, want = 0;

	(void)state;
	for (size_t i = 0; i < sbx_n_group_cidrs; i++)
		want += sbx_group_cidrs[i].group == SBX_GROUP_PRIVATE;
	assert_int_equal(sbx_group_prefixes(SBX_GROUP_PRIVATE, &v, &n), 0);
	assert_int_equal(n, want);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(v[i].group, SBX_GROUP_PRIVATE);
	free(v);
}

/* sbx_resolve turns a group entry into address entries that keep its ports,
 * protocol, action and source index, beside the other entries. */
static void resolve_expands_groups_in_place(void **state)
{
	struct sbx_net_entry ents[3];
	struct sbx_profile p = { .name = (char *)"x", .net.mode = SBX_NET_ALLOW, .net.entries = ents,
				 .net.n_entries = 3 };
	struct sbx_resolved r;
	char err[256];
	size_t n_meta = 0, n_pub = 0, n_addr = 0;

	(void)state;
	assert_int_equal(sbx_parse_net_entry("public:443/tcp", &ents[0], err, sizeof(err)), 0);
	assert_int_equal(sbx_parse_net_entry("metadata", &ents[1], err, sizeof(err)), 0);
	assert_int_equal(sbx_parse_net_entry("192.0.2.1", &ents[2], err, sizeof(err)), 0);
	ents[1].deny = true;
	assert_int_equal(sbx_resolve(&p, true, &r, err, sizeof(err)), 0);
	for (size_t i = 0; i < r.n; i++) {
		const struct sbx_net_entry *e = &r.entries[i];

		assert_int_equal(e->kind, SBX_NET_ENTRY_ADDR);
		if (r.src[i] == 0) {
			n_pub++;
			assert_int_equal(e->port_lo, 443);
			assert_int_equal(e->proto, SBX_PROTO_TCP);
			assert_false(e->deny);
			assert_int_equal(sbx_addr_group(e->family, e->addr), SBX_GROUP_PUBLIC);
		} else if (r.src[i] == 1) {
			n_meta++;
			assert_true(e->deny);
			assert_int_equal(e->prefix_len, e->family == AF_INET ? 32 : 128);
		} else {
			n_addr++;
		}
	}
	assert_int_equal(n_meta, 2);	/* 169.254.169.254 and fd00:ec2::254 */
	assert_int_equal(n_addr, 1);
	assert_true(n_pub > 2);
	sbx_resolved_free(&r);
	for (size_t i = 0; i < 3; i++)
		sbx_net_entry_clear(&ents[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(punycode_encodes_rfc3492_samples),
		cmocka_unit_test(punycode_decodes_rfc3492_samples),
		cmocka_unit_test(punycode_refuses_invalid_input),
		cmocka_unit_test(punycode_labels_must_round_trip),
		cmocka_unit_test(idn_to_ascii_converts_each_label),
		cmocka_unit_test(complement_of_nothing_is_everything),
		cmocka_unit_test(complement_of_one_half_is_the_other),
		cmocka_unit_test(public_is_the_exact_complement),
		cmocka_unit_test(group_expands_to_its_ranges),
		cmocka_unit_test(resolve_expands_groups_in_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
