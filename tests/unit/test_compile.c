/* SPDX-License-Identifier: MIT */
/* Policy -> BPF map compilation: the compiled LPM entries must decide every
 * destination exactly as the policy's decision rule says (most specific
 * entry wins: longest prefix, then narrowest port range; deny wins ties;
 * nothing matches -> the mode's default). */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "testutil.h"
#include "core/compile.h"

static struct sbx_net_entry v4(const char *cidr, unsigned len, unsigned lo, unsigned hi,
			       uint8_t proto, bool deny)
{
	struct sbx_net_entry e = { .kind = SBX_NET_ENTRY_ADDR, .family = AF_INET,
				   .prefix_len = (uint8_t)len, .port_lo = (uint16_t)lo,
				   .port_hi = (uint16_t)hi, .proto = proto, .deny = deny,
				   .text = (char *)cidr };

	assert_int_equal(inet_pton(AF_INET, cidr, e.addr), 1);
	return e;
}

/* What the BPF programs do with the compiled maps: longest prefix lookup of
 * (policy, addr), then the first rule whose ports and protocol match. */
static uint8_t bpf_decide(const struct sbx_compiled *c, const uint8_t addr[4], uint16_t port,
			  uint8_t proto, enum sbx_net_mode mode, uint32_t *rule)
{
	const struct sbx_lpm4 *best = NULL;

	for (size_t i = 0; i < c->n_v4; i++) {
		unsigned len = c->v4[i].key.prefixlen - 32;
		uint32_t a, b, m = len ? htonl(~0u << (32 - len)) : 0;

		memcpy(&a, addr, 4);
		memcpy(&b, c->v4[i].key.addr, 4);
		if ((a & m) == (b & m) && (!best || len > best->key.prefixlen - 32))
			best = &c->v4[i];
	}
	for (uint32_t i = 0; best && i < best->val.n; i++) {
		const struct sbx_net_rule *r = &best->val.r[i];

		if (port >= r->port_lo && port <= r->port_hi && (!r->proto || r->proto == proto)) {
			*rule = r->rule;
			return r->verdict;
		}
	}
	*rule = SBX_RULE_DEFAULT;
	return mode == SBX_NET_ALLOW ? SBX_VERDICT_DENY : SBX_VERDICT_ALLOW;
}

/* The decision rule as docs/policy.md states it, by brute force. */
static uint8_t spec_decide(const struct sbx_net_entry *e, size_t n, const uint8_t addr[4],
			   uint16_t port, uint8_t proto, enum sbx_net_mode mode)
{
	long best = -1;

	for (size_t i = 0; i < n; i++) {
		uint32_t a, b, m = e[i].prefix_len ? htonl(~0u << (32 - e[i].prefix_len)) : 0;

		memcpy(&a, addr, 4);
		memcpy(&b, e[i].addr, 4);
		if ((a & m) != (b & m) || port < e[i].port_lo || port > e[i].port_hi ||
		    (e[i].proto && e[i].proto != proto))
			continue;
		if (best < 0 || e[i].prefix_len > e[best].prefix_len)
			best = (long)i;
		else if (e[i].prefix_len == e[best].prefix_len) {
			unsigned wi = e[i].port_hi - e[i].port_lo, wb = e[best].port_hi - e[best].port_lo;

			if (wi < wb || (wi == wb && e[i].deny && !e[best].deny))
				best = (long)i;
		}
	}
	if (best >= 0)
		return e[best].deny ? SBX_VERDICT_DENY : SBX_VERDICT_ALLOW;
	return mode == SBX_NET_ALLOW ? SBX_VERDICT_DENY : SBX_VERDICT_ALLOW;
}

static struct sbx_profile profile(enum sbx_net_mode mode)
{
	struct sbx_profile p = { .name = (char *)"t" };

	p.net.mode = mode;
	return p;
}

static void test_compile_keys_carry_policy_id_big_endian(void **state)
{
	struct sbx_net_entry e[] = { v4("10.0.0.0", 8, 0, 65535, 0, false) };
	struct sbx_profile p = profile(SBX_NET_ALLOW);
	struct sbx_compiled c;
	char err[256];

	assert_int_equal(sbx_compile(&p, e, 1, 0x01020304, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n_v4, 1);
	assert_int_equal(c.n_v6, 0);
	assert_int_equal(c.v4[0].key.prefixlen, 32 + 8);
	assert_memory_equal(&c.v4[0].key.policy_id, "\x01\x02\x03\x04", 4);
	assert_memory_equal(c.v4[0].key.addr, "\x0a\x00\x00\x00", 4);
	assert_int_equal(c.v4[0].val.n, 1);
	assert_int_equal(c.v4[0].val.r[0].verdict, SBX_VERDICT_ALLOW);
	sbx_compiled_free(&c);
}

static void test_compile_inherits_covering_rules_most_specific_first(void **state)
{
	struct sbx_net_entry e[] = {
		v4("10.0.0.0", 8, 0, 65535, 0, false),	/* 0: allow 10/8 */
		v4("10.1.0.0", 16, 443, 443, 6, false),	/* 1: allow 10.1/16:443/tcp */
		v4("10.1.0.0", 16, 0, 65535, 0, true),	/* 2: deny 10.1/16 */
	};
	struct sbx_profile p = profile(SBX_NET_ALLOW);
	struct sbx_compiled c;
	const struct sbx_lpm4 *l16 = NULL;
	char err[256];

	assert_int_equal(sbx_compile(&p, e, 3, 1, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n_v4, 2);
	for (size_t i = 0; i < c.n_v4; i++)
		if (c.v4[i].key.prefixlen == 48)
			l16 = &c.v4[i];
	assert_non_null(l16);
	assert_int_equal(l16->val.n, 3);
	assert_int_equal(l16->val.r[0].rule, 1);	/* /16, one port */
	assert_int_equal(l16->val.r[1].rule, 2);	/* /16, all ports */
	assert_int_equal(l16->val.r[2].rule, 0);	/* /8 inherited */
	sbx_compiled_free(&c);
}

static void test_compile_deny_wins_ties(void **state)
{
	struct sbx_net_entry e[] = {
		v4("192.0.2.0", 24, 80, 443, 0, false),
		v4("192.0.2.0", 24, 80, 443, 0, true),
	};
	struct sbx_profile p = profile(SBX_NET_DENY);
	uint8_t a[4] = { 192, 0, 2, 7 };
	struct sbx_compiled c;
	uint32_t rule;
	char err[256];

	assert_int_equal(sbx_compile(&p, e, 2, 3, &c, err, sizeof(err)), 0);
	assert_int_equal(bpf_decide(&c, a, 80, 6, SBX_NET_DENY, &rule), SBX_VERDICT_DENY);
	assert_int_equal(rule, 1);
	assert_int_equal(bpf_decide(&c, a, 8080, 6, SBX_NET_DENY, &rule), SBX_VERDICT_ALLOW);
	assert_int_equal(rule, SBX_RULE_DEFAULT);
	sbx_compiled_free(&c);
}

static void test_compile_too_many_overlapping_rules_is_refused(void **state)
{
	struct sbx_net_entry e[SBX_NET_VALUE_RULES + 1];
	struct sbx_profile p = profile(SBX_NET_ALLOW);
	struct sbx_compiled c;
	char err[256] = "";

	for (unsigned i = 0; i <= SBX_NET_VALUE_RULES; i++)
		e[i] = v4("10.0.0.0", 8, 1000 + i, 1000 + i, 0, false);
	assert_int_equal(sbx_compile(&p, e, SBX_NET_VALUE_RULES + 1, 1, &c, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "10.0.0.0"));
}

static void test_compile_modes_none_and_full_have_no_entries(void **state)
{
	struct sbx_net_entry e[] = { v4("10.0.0.0", 8, 0, 65535, 0, false) };
	struct sbx_profile p = profile(SBX_NET_FULL);
	struct sbx_compiled c;
	char err[256];

	assert_int_equal(sbx_compile(&p, e, 1, 1, &c, err, sizeof(err)), 0);
	assert_int_equal(c.n_v4 + c.n_v6, 0);
	assert_int_equal(c.cfg.net_mode, SBX_NETM_FULL);
	sbx_compiled_free(&c);
}

static void test_compile_cfg_carries_listen_quota_audit_raw(void **state)
{
	struct sbx_port_range l[] = { { .lo = 8080, .hi = 8080, .proto = 6 }, { .lo = 9000, .hi = 9010 } };
	struct sbx_profile p = profile(SBX_NET_ALLOW);
	struct sbx_compiled c;
	char err[256];

	p.net.listen = l;
	p.net.n_listen = 2;
	p.net.raw_sockets = true;
	p.net_bytes = 12345;
	p.audit = SBX_AUDIT_ALL;
	p.audit_rate = 50;
	p.audit_burst = 60;
	p.audit_deny_rate = 3;
	p.audit_deny_burst = 4;
	assert_int_equal(sbx_compile(&p, NULL, 0, 1, &c, err, sizeof(err)), 0);
	/* the token buckets: one event every 1e9 / rate ns */
	assert_int_equal(c.cfg.audit_allow_ns, 20000000);
	assert_int_equal(c.cfg.audit_allow_burst, 60);
	assert_int_equal(c.cfg.audit_deny_ns, 333333333);
	assert_int_equal(c.cfg.audit_deny_burst, 4);
	assert_int_equal(c.cfg.n_listen, 2);
	assert_int_equal(c.cfg.listen[1].lo, 9000);
	assert_int_equal(c.cfg.listen[1].hi, 9010);
	assert_int_equal(c.cfg.listen[0].proto, 6);
	assert_int_equal(c.cfg.flags & SBX_POLF_RAW_SOCKETS, SBX_POLF_RAW_SOCKETS);
	assert_int_equal(c.cfg.net_bytes_quota, 12345);
	assert_int_equal(c.cfg.audit, SBX_AUDITL_ALL);
	sbx_compiled_free(&c);
}

/* Random policies and destinations: the compiled maps decide exactly as the
 * decision rule does. Deterministic seed, so a failure reproduces. */
static void test_compile_matches_decision_rule_on_random_policies(void **state)
{
	static const unsigned lens[] = { 0, 8, 16, 24, 28, 32 };
	unsigned seed = 12345;

	for (int round = 0; round < 300; round++) {
		struct sbx_net_entry e[12];
		enum sbx_net_mode mode = round % 2 ? SBX_NET_ALLOW : SBX_NET_DENY;
		struct sbx_profile p = profile(mode);
		size_t n = 1 + rand_r(&seed) % 12;
		struct sbx_compiled c;
		char err[256];

		for (size_t i = 0; i < n; i++) {
			unsigned len = lens[rand_r(&seed) % 6], lo = 1 + rand_r(&seed) % 100;
			uint32_t a = htonl(0x0a000000u | (rand_r(&seed) & 0x3ff)), m;

			m = len ? htonl(~0u << (32 - len)) : 0;
			a &= m;
			e[i] = v4("0.0.0.0", 0, 0, 65535, 0, rand_r(&seed) % 2);
			memcpy(e[i].addr, &a, 4);
			e[i].prefix_len = (uint8_t)len;
			if (rand_r(&seed) % 2) {
				e[i].port_lo = (uint16_t)lo;
				e[i].port_hi = (uint16_t)(lo + rand_r(&seed) % 20);
			}
			e[i].proto = rand_r(&seed) % 3 == 0 ? 6 : 0;
		}
		assert_int_equal(sbx_compile(&p, e, n, 9, &c, err, sizeof(err)), 0);
		for (int q = 0; q < 200; q++) {
			uint32_t a = htonl(0x0a000000u | (rand_r(&seed) & 0x3ff));
			uint16_t port = (uint16_t)(rand_r(&seed) % 130);
			uint8_t proto = rand_r(&seed) % 2 ? 6 : 17, addr[4];
			uint32_t rule;

			memcpy(addr, &a, 4);
			assert_int_equal(bpf_decide(&c, addr, port, proto, mode, &rule),
					 spec_decide(e, n, addr, port, proto, mode));
		}
		sbx_compiled_free(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile_keys_carry_policy_id_big_endian),
		cmocka_unit_test(test_compile_inherits_covering_rules_most_specific_first),
		cmocka_unit_test(test_compile_deny_wins_ties),
		cmocka_unit_test(test_compile_too_many_overlapping_rules_is_refused),
		cmocka_unit_test(test_compile_modes_none_and_full_have_no_entries),
		cmocka_unit_test(test_compile_cfg_carries_listen_quota_audit_raw),
		cmocka_unit_test(test_compile_matches_decision_rule_on_random_policies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
