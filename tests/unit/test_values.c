/* SPDX-License-Identifier: MIT */
/* Value parsers of the policy model: durations, sizes, CPUs, network entries, names. */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "testutil.h"
#include "policy.h"
#include "policy-internal.h"	/* sbx_parse_ifaddr4, sbx_net_entry_from_parts */

static void duration_accepts_units_and_bare_seconds(void **state)
{
	static const struct {
		const char *s;
		uint64_t ms;
	} ok[] = {
		{ "30s", 30000 }, { "1m30s", 90000 }, { "250ms", 250 }, { "2h", 7200000 }, { "1d", 86400000 },
		{ "0", 0 }, { "0s", 0 }, { "45", 45000 }, { "1h2m3s4ms", 3723004 }, { "90m", 5400000 },
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 12345;
		assert_int_equal(sbx_parse_duration_ms(ok[i].s, &v), 0);
		assert_int_equal(v, ok[i].ms);
	}
}

static void duration_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"", "s", "1x", "-1s", "1.5s", " 1s", "1s ", "1s1m", "1m1m", "1ms1s", "1S", "18446744073709551616",
		"18446744073709551615s", "213503982335d", NULL,
	};
	uint64_t v = 777;

	(void)state;
	for (size_t i = 0; bad[i]; i++) {
		assert_int_equal(sbx_parse_duration_ms(bad[i], &v), -EINVAL);
		assert_int_equal(v, 777);
	}
	assert_int_equal(sbx_parse_duration_ms(NULL, &v), -EINVAL);
}

static void size_units_are_binary(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
		{ "4096", 4096 }, { "0", 0 }, { "64M", 64ull << 20 }, { "1G", 1ull << 30 }, { "512KiB", 512ull << 10 },
		{ "512K", 512ull << 10 }, { "2GiB", 2ull << 30 }, { "1T", 1ull << 40 }, { "3MiB", 3ull << 20 },
		{ "10B", 10 }, { "8m", 8ull << 20 }, { "1k", 1024 }, { "16777215T", 16777215ull << 40 },
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(sbx_parse_size(ok[i].s, &v), 0);
		assert_int_equal(v, ok[i].v);
	}
}

static void size_rejects_ambiguous_and_overflow(void **state)
{
	static const char *const bad[] = {
		"", "M", "1MB", "1GB", "1.5G", "-1", "1 M", "1Mi", "16777216T", "18446744073709551616", "0x10", NULL,
	};
	uint64_t v = 5;

	(void)state;
	for (size_t i = 0; bad[i]; i++)
		assert_int_equal(sbx_parse_size(bad[i], &v), -EINVAL);
	assert_int_equal(v, 5);
}

static void cpu_parses_fractions_and_millicores(void **state)
{
	uint32_t v;

	(void)state;
	assert_int_equal(sbx_parse_cpu_milli("0.5", &v), 0);
	assert_int_equal(v, 500);
	assert_int_equal(sbx_parse_cpu_milli("2", &v), 0);
	assert_int_equal(v, 2000);
	assert_int_equal(sbx_parse_cpu_milli("0.001", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(sbx_parse_cpu_milli("1.25", &v), 0);
	assert_int_equal(v, 1250);
	assert_int_equal(sbx_parse_cpu_milli("250m", &v), 0);
	assert_int_equal(v, 250);
	assert_int_equal(sbx_parse_cpu_milli("1024", &v), 0);
	assert_int_equal(v, 1024000);
	assert_int_equal(sbx_parse_cpu_milli("0", &v), 0);
	assert_int_equal(v, 0);
}

static void cpu_rejects_out_of_range_and_precision(void **state)
{
	static const char *const bad[] = {
		"", "1025", "1024.001", "0.0001", ".5", "1.", "-1", "1e3", "abc", "0.5 ", "99999999999999999999", NULL,
	};
	uint32_t v = 9;

	(void)state;
	for (size_t i = 0; bad[i]; i++)
		assert_int_equal(sbx_parse_cpu_milli(bad[i], &v), -EINVAL);
	assert_int_equal(v, 9);
}

/* Parses s and checks the canonical text; returns the entry for more checks. */
static struct sbx_net_entry parse_ok(const char *s, const char *canon)
{
	struct sbx_net_entry e;
	char err[256] = "";

	if (sbx_parse_net_entry(s, &e, err, sizeof(err)) != 0)
		fail_msg("'%s' was refused: %s", s, err);
	assert_string_equal(e.text, canon);
	return e;
}

static void net_entry_ipv4_forms(void **state)
{
	struct sbx_net_entry e;

	(void)state;
	e = parse_ok("10.0.0.0/8", "10.0.0.0/8");
	assert_int_equal(e.kind, SBX_NET_ENTRY_ADDR);
	assert_int_equal(e.family, AF_INET);
	assert_int_equal(e.prefix_len, 8);
	assert_int_equal(e.addr[0], 10);
	assert_int_equal(e.port_lo, 0);
	assert_int_equal(e.port_hi, 65535);
	assert_int_equal(e.proto, SBX_PROTO_ANY);
	sbx_net_entry_clear(&e);

	e = parse_ok("192.0.2.1:443", "192.0.2.1:443");
	assert_int_equal(e.prefix_len, 32);
	assert_int_equal(e.port_lo, 443);
	assert_int_equal(e.port_hi, 443);
	sbx_net_entry_clear(&e);

	e = parse_ok("192.0.2.0/24:80-443/tcp", "192.0.2.0/24:80-443/tcp");
	assert_int_equal(e.port_lo, 80);
	assert_int_equal(e.port_hi, 443);
	assert_int_equal(e.proto, SBX_PROTO_TCP);
	sbx_net_entry_clear(&e);

	e = parse_ok("198.51.100.7/32", "198.51.100.7");
	sbx_net_entry_clear(&e);
	e = parse_ok("0.0.0.0/0/udp", "0.0.0.0/0/udp");
	assert_int_equal(e.proto, SBX_PROTO_UDP);
	assert_int_equal(e.prefix_len, 0);
	sbx_net_entry_clear(&e);
	e = parse_ok("127.0.0.1:8080/tcp", "127.0.0.1:8080/tcp");
	sbx_net_entry_clear(&e);
}

static void net_entry_ipv6_forms(void **state)
{
	struct sbx_net_entry e;

	(void)state;
	e = parse_ok("::1", "::1");
	assert_int_equal(e.family, AF_INET6);
	assert_int_equal(e.prefix_len, 128);
	assert_int_equal(e.addr[15], 1);
	sbx_net_entry_clear(&e);

	e = parse_ok("[2001:db8::]/32:443/udp", "[2001:db8::]/32:443/udp");
	assert_int_equal(e.prefix_len, 32);
	assert_int_equal(e.port_lo, 443);
	assert_int_equal(e.proto, SBX_PROTO_UDP);
	sbx_net_entry_clear(&e);

	e = parse_ok("[::1]:8080", "[::1]:8080");
	assert_int_equal(e.port_lo, 8080);
	sbx_net_entry_clear(&e);

	e = parse_ok("2001:db8::/32", "2001:db8::/32");
	sbx_net_entry_clear(&e);
	e = parse_ok("2001:DB8:0:0::/64", "2001:db8::/64");
	sbx_net_entry_clear(&e);
	e = parse_ok("[2001:db8::1]", "2001:db8::1");
	sbx_net_entry_clear(&e);
	e = parse_ok("::/0/tcp", "::/0/tcp");
	sbx_net_entry_clear(&e);
	e = parse_ok("[2001:db8::]/48:1-1024", "[2001:db8::]/48:1-1024");
	sbx_net_entry_clear(&e);
}

static void net_entry_ipv4_mapped_becomes_ipv4(void **state)
{
	struct sbx_net_entry e;

	(void)state;
	e = parse_ok("::ffff:192.0.2.1", "192.0.2.1");
	assert_int_equal(e.family, AF_INET);
	assert_int_equal(e.prefix_len, 32);
	assert_memory_equal(e.addr, "\xc0\x00\x02\x01", 4);
	sbx_net_entry_clear(&e);
	e = parse_ok("[::ffff:192.0.2.0]/120:53/udp", "192.0.2.0/24:53/udp");
	assert_int_equal(e.prefix_len, 24);
	sbx_net_entry_clear(&e);
	e = parse_ok("::ffff:0.0.0.0/96", "0.0.0.0/0");
	sbx_net_entry_clear(&e);
}

static void expect_bad(const char *s, const char *fragment);

static void net_entry_ipv4_mapped_short_prefix_is_ipv6(void **state)
{
	(void)state;
	/* Shorter than /96 reaches beyond the mapped range and stays IPv6. */
	expect_bad("::ffff:0.0.0.0/80", "did you mean ::/80?");
}

/* getaddrinfo reads these as 127.0.0.1 through inet_aton (issue 20 item 9). */
static void net_entry_numeric_host_forms_refused(void **state)
{
	(void)state;
	expect_bad("0x7f.1", "'0x7f.1' is an IPv4 address in hex, octal or short form "
			     "(resolvers read it as 127.0.0.1)");
	expect_bad("0X7F.1:80/tcp", "'0x7f.1' is an IPv4 address");
	expect_bad("0x7f000001", "resolvers read it as 127.0.0.1");
	expect_bad("0x7f.0.0.1.", "'0x7f.0.0.1' is an IPv4 address");
	expect_bad("0177.0x0.0.1", "resolvers read it as 127.0.0.1");
	expect_bad("1.0xff", "resolvers read it as 1.0.0.255");
	/* Decimal short forms never reach the host grammar. */
	expect_bad("127.1", "invalid IPv4 address '127.1'");
	expect_bad("2130706433", "invalid IPv4 address");
}

static void net_entry_host_names(void **state)
{
	struct sbx_net_entry e;

	(void)state;
	e = parse_ok("api.github.com:443", "api.github.com:443");
	assert_int_equal(e.kind, SBX_NET_ENTRY_HOST);
	assert_string_equal(e.host, "api.github.com");
	sbx_net_entry_clear(&e);

	e = parse_ok("*.Example.ORG", "*.example.org");
	assert_int_equal(e.kind, SBX_NET_ENTRY_WILDCARD);
	assert_string_equal(e.host, "*.example.org");
	sbx_net_entry_clear(&e);

	e = parse_ok("example.org.:80-81/tcp", "example.org:80-81/tcp");
	sbx_net_entry_clear(&e);
	e = parse_ok("localhost", "localhost");
	sbx_net_entry_clear(&e);
	e = parse_ok("3com.example", "3com.example");
	sbx_net_entry_clear(&e);
}

static void expect_bad(const char *s, const char *fragment)
{
	struct sbx_net_entry e = { .text = (char *)"untouched" };
	char err[256] = "";

	if (sbx_parse_net_entry(s, &e, err, sizeof(err)) != -EINVAL)
		fail_msg("'%s' was accepted as '%s'", s, e.text);
	if (!strstr(err, fragment))
		fail_msg("'%s': message '%s' lacks '%s'", s, err, fragment);
	assert_string_equal(e.text, "untouched");
}

static void net_entry_rejects_malformed(void **state)
{
	(void)state;
	expect_bad("", "empty network entry");
	expect_bad("1.2.3", "invalid IPv4 address '1.2.3'");
	expect_bad("01.2.3.4", "leading zeros");
	expect_bad("1.2.3.04", "leading zeros");
	expect_bad("256.1.1.1", "invalid IPv4 address");
	expect_bad("192.0.2.1/24", "192.0.2.1/24 has host bits set; did you mean 192.0.2.0/24?");
	expect_bad("2001:db8::1/32", "has host bits set; did you mean 2001:db8::/32?");
	expect_bad("10.0.0.0/33", "prefix length /33 out of range for IPv4 (0-32)");
	expect_bad("::/129", "prefix length /129 out of range for IPv6 (0-128)");
	expect_bad("10.0.0.0/08", "invalid prefix length");
	expect_bad("10.0.0.0/", "missing protocol or prefix length");
	expect_bad("192.0.2.1:0", "port 0 out of range (1-65535)");
	expect_bad("192.0.2.1:65536", "port 65536 out of range");
	expect_bad("192.0.2.1:99999999999999", "invalid port");
	expect_bad("192.0.2.1:443-80", "empty port range 443-80");
	expect_bad("192.0.2.1:", "missing port after ':'");
	expect_bad("192.0.2.1:80-", "invalid port");
	expect_bad("192.0.2.1:http", "invalid port 'http'");
	expect_bad("192.0.2.1/sctp", "unknown protocol 'sctp' (expected tcp or udp)");
	expect_bad("192.0.2.1:80/TCP", "unknown protocol 'TCP'");
	expect_bad("[2001:db8::/32]:443", "put the prefix length after the bracket: [2001:db8::]/32");
	expect_bad("[::1", "missing ']'");
	expect_bad("::1]", "unexpected ']'");
	expect_bad("[::1]x", "unexpected 'x' after ']'");
	expect_bad("[192.0.2.1]:80", "brackets are only for IPv6");
	expect_bad("[example.org]:80", "brackets are only for IPv6 addresses");
	expect_bad("fe80::1%eth0", "invalid IPv6 address");
	expect_bad("example.org/24", "a host name cannot have a prefix length");
	expect_bad("exa_mple.org", "invalid character '_'");
	expect_bad("-bad.example", "may not start or end with '-'");
	expect_bad("a..b", "empty label");
	expect_bad("foo.*.example.org", "only allowed as the whole first label");
	expect_bad("*example.org", "only allowed as the whole first label");
	expect_bad("*", "'*' alone is not an entry");
	expect_bad(":443", "missing address or host name");
	expect_bad("a b", "space");
	expect_bad("\xc3\xa9xample.org", "host name '\xc3\xa9xample.org' is not ASCII: write it in punycode, "
		   "'xn--xample-9ua.org'");
	expect_bad("\xffxample.org", "non-ASCII character (write internationalised host names in punycode");
	expect_bad("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org", "longer than 63");
}

static void net_entry_rejects_overlong_names(void **state)
{
	char name[400];

	(void)state;
	memset(name, 0, sizeof(name));
	for (size_t i = 0; i < 260; i += 2)
		memcpy(name + i, "a.", 2);
	memcpy(name + 260, "org", 3);
	expect_bad(name, "longer than 253");
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	expect_bad(name, "too long");
}

static void port_range_parses_listen_forms(void **state)
{
	struct sbx_port_range pr;
	char err[128];

	(void)state;
	assert_int_equal(sbx_parse_port_range("8080", &pr, err, sizeof(err)), 0);
	assert_int_equal(pr.lo, 8080);
	assert_int_equal(pr.hi, 8080);
	assert_int_equal(pr.proto, SBX_PROTO_ANY);
	assert_int_equal(sbx_parse_port_range("9000-9010/udp", &pr, err, sizeof(err)), 0);
	assert_int_equal(pr.lo, 9000);
	assert_int_equal(pr.hi, 9010);
	assert_int_equal(pr.proto, SBX_PROTO_UDP);
	assert_int_equal(sbx_parse_port_range("0", &pr, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "port 0 out of range"));
	assert_int_equal(sbx_parse_port_range("10-9", &pr, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty port range 10-9"));
	assert_int_equal(sbx_parse_port_range("1.2.3.4:80", &pr, err, sizeof(err)), -EINVAL);
	assert_int_equal(sbx_parse_port_range("", &pr, err, sizeof(err)), -EINVAL);
	assert_int_equal(sbx_parse_port_range("80/icmp", &pr, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown protocol 'icmp'"));
}

static void expect_bad_ifaddr(const char *s, const char *fragment)
{
	char err[256] = "";
	uint32_t addr = 0x01020304;
	uint8_t prefix = 7;

	assert_int_equal(sbx_parse_ifaddr4(s, &addr, &prefix, err, sizeof(err)), -EINVAL);
	if (!strstr(err, fragment))
		fail_msg("'%s': expected \"%s\" in \"%s\"", s, fragment, err);
	assert_int_equal(addr, 0x01020304);	/* untouched on error */
	assert_int_equal(prefix, 7);
}

static void ifaddr_keeps_host_bits_and_checks_the_subnet(void **state)
{
	uint32_t addr;
	uint8_t prefix;

	(void)state;
	assert_int_equal(sbx_parse_ifaddr4("10.200.0.1/30", &addr, &prefix, NULL, 0), 0);
	assert_int_equal(addr, 0x0ac80001);
	assert_int_equal(prefix, 30);
	assert_int_equal(sbx_parse_ifaddr4("10.200.0.2/30", &addr, &prefix, NULL, 0), 0);
	assert_int_equal(addr, 0x0ac80002);
	assert_int_equal(sbx_parse_ifaddr4("192.168.1.0/31", &addr, &prefix, NULL, 0), 0);	/* RFC 3021 */
	assert_int_equal(prefix, 31);
	assert_int_equal(sbx_parse_ifaddr4("192.168.1.1/31", &addr, &prefix, NULL, 0), 0);
	assert_int_equal(sbx_parse_ifaddr4("100.64.5.9/10", &addr, &prefix, NULL, 0), 0);
	assert_int_equal(prefix, 10);
	assert_int_equal(sbx_parse_ifaddr4("128.0.0.1/1", &addr, &prefix, NULL, 0), 0);
	expect_bad_ifaddr("10.200.0.1", "has no prefix length");
	expect_bad_ifaddr("10.200.0.1/", "invalid prefix length '/'");
	expect_bad_ifaddr("10.200.0.1/32", "prefix length /32 out of range for an interface address (1-31)");
	expect_bad_ifaddr("10.200.0.1/0", "out of range");
	expect_bad_ifaddr("10.200.0.0/30", "10.200.0.0/30 is the network address of its subnet");
	expect_bad_ifaddr("10.200.0.3/30", "10.200.0.3/30 is the broadcast address of its subnet");
	expect_bad_ifaddr("10.255.255.255/8", "broadcast");
	expect_bad_ifaddr("127.0.0.2/8", "loopback");
	expect_bad_ifaddr("0.1.2.3/8", "'this network'");
	expect_bad_ifaddr("239.1.1.1/24", "multicast");
	expect_bad_ifaddr("255.255.255.254/31", "reserved");
	expect_bad_ifaddr("10.200.0.01/30", "leading zeros");
	expect_bad_ifaddr("10.200.1/30", "invalid IPv4 address '10.200.1'");
	expect_bad_ifaddr("10.200.0.1/30/30", "invalid prefix length");
	expect_bad_ifaddr("::1/64", "invalid IPv4 address");
	expect_bad_ifaddr("10.200.0.1\n/30", "contains a space or a non-ASCII character");
	expect_bad_ifaddr("", "empty address");
	expect_bad_ifaddr("100.100.100.100/30.0000000000000000", "too long");
	assert_int_equal(sbx_parse_ifaddr4(NULL, &addr, &prefix, NULL, 0), -EINVAL);
}

static void enum_names_match_policy_spelling(void **state)
{
	char buf[8];

	(void)state;
	assert_string_equal(sbx_isolation_name(SBX_ISO_NONE), "none");
	assert_string_equal(sbx_isolation_name(SBX_ISO_PROCESS), "process");
	assert_string_equal(sbx_isolation_name(SBX_ISO_GVISOR), "gvisor");
	assert_string_equal(sbx_isolation_name(SBX_ISO_MICROVM), "microvm");
	assert_string_equal(sbx_isolation_name(SBX_ISO_WASM), "wasm");
	assert_string_equal(sbx_isolation_name(SBX_ISO_UNIKERNEL), "unikernel");
	assert_string_equal(sbx_isolation_name(SBX_ISO_TEE), "tee");
	/* the guide's order: a unikernel between gVisor and a microVM, a TEE above all */
	assert_true(SBX_ISO_GVISOR < SBX_ISO_UNIKERNEL && SBX_ISO_UNIKERNEL < SBX_ISO_MICROVM);
	assert_true(SBX_ISO_MICROVM < SBX_ISO_TEE && SBX_ISO_TEE < SBX_ISO_WASM);
	assert_string_equal(sbx_isolation_name((enum sbx_isolation)99), "unknown");
	assert_string_equal(sbx_net_mode_name(SBX_NET_ALLOW), "allow");
	assert_string_equal(sbx_net_mode_name(SBX_NET_FULL), "full");
	assert_string_equal(sbx_fs_mode_name(SBX_FS_READ_ONLY), "read-only");
	assert_string_equal(sbx_fs_mode_name(SBX_FS_READ_WRITE), "read-write");
	assert_string_equal(sbx_audit_name(SBX_AUDIT_DENY), "deny");
	assert_string_equal(sbx_audit_name(SBX_AUDIT_ALL), "all");
	assert_string_equal(sbx_audit_name(SBX_AUDIT_NONE), "none");
	assert_string_equal(sbx_enforcement_name(SBX_ENFORCE_STRICT), "strict");
	assert_string_equal(sbx_enforcement_name(SBX_ENFORCE_BEST_EFFORT), "best-effort");
	assert_string_equal(sbx_seccomp_preset_name(SBX_SECCOMP_DEFAULT), "default");
	assert_string_equal(sbx_seccomp_preset_name(SBX_SECCOMP_STRICT), "strict");
	assert_string_equal(sbx_seccomp_preset_name((enum sbx_seccomp_preset)7), "unknown");
	assert_string_equal(sbx_seccomp_action_name(SBX_SECCOMP_ERRNO), "errno");
	assert_string_equal(sbx_seccomp_action_name(SBX_SECCOMP_KILL), "kill");
	assert_string_equal(sbx_seccomp_action_name((enum sbx_seccomp_action)99), "unknown");
	assert_string_equal(sbx_netns_name(SBX_NETNS_AUTO), "auto");
	assert_string_equal(sbx_netns_name(SBX_NETNS_HOST), "host");
	assert_string_equal(sbx_netns_name(SBX_NETNS_PRIVATE), "private");
	assert_string_equal(sbx_netns_name((enum sbx_netns)3), "unknown");
	assert_string_equal(sbx_proto_name(SBX_PROTO_ANY), "any");
	assert_string_equal(sbx_proto_name(SBX_PROTO_TCP), "tcp");
	assert_string_equal(sbx_proto_name(SBX_PROTO_UDP), "udp");
	assert_string_equal(sbx_proto_name(1), "unknown");
	sbx_access_str(0, buf);
	assert_string_equal(buf, "deny");
	sbx_access_str(SBX_ACC_R, buf);
	assert_string_equal(buf, "r");
	sbx_access_str(SBX_ACC_R | SBX_ACC_X, buf);
	assert_string_equal(buf, "rx");
	sbx_access_str(SBX_ACC_R | SBX_ACC_W | SBX_ACC_X, buf);
	assert_string_equal(buf, "rwx");
}

/* ---- issue 14: IDNs, wildcards, groups, DNS servers ------------------- */

static void non_ascii_names_get_their_punycode(void **state)
{
	(void)state;
	expect_bad("b\xc3\xbc" "cher.example", "host name 'b\xc3\xbc" "cher.example' is not ASCII: write it in "
		   "punycode, 'xn--bcher-kva.example'");
	expect_bad("B\xc3\xbc" "cher.example:443/tcp", "write it in punycode, 'xn--bcher-kva.example:443/tcp'");
	expect_bad("*.b\xc3\xbc" "cher.example.", "punycode, '*.xn--bcher-kva.example'");
	expect_bad("192.0.2.1:44\xc3\xbc", "non-ASCII character (write internationalised host names");
}

static void xn_labels_must_be_valid_punycode(void **state)
{
	struct sbx_net_entry e;

	(void)state;
	e = parse_ok("XN--BCHER-KVA.example:443", "xn--bcher-kva.example:443");
	assert_int_equal(e.kind, SBX_NET_ENTRY_HOST);
	sbx_net_entry_clear(&e);
	e = parse_ok("*.xn--bcher-kva.example", "*.xn--bcher-kva.example");
	sbx_net_entry_clear(&e);
	expect_bad("xn--bcher-kv.example", "host name 'xn--bcher-kv.example': label 'xn--bcher-kv' is not "
		   "valid punycode");
	expect_bad("www.xn--bcher-kva9.example", "label 'xn--bcher-kva9' is not valid punycode");
	expect_bad("xn--bcher-kva-x.example", "label 'xn--bcher-kva-x' is not valid punycode");
}

static void wildcards_are_names_below_a_domain(void **state)
{
	struct sbx_net_entry e;

	(void)state;
	e = parse_ok("*.Example.COM.:443", "*.example.com:443");
	assert_int_equal(e.kind, SBX_NET_ENTRY_WILDCARD);
	assert_string_equal(e.host, "*.example.com");
	sbx_net_entry_clear(&e);
	expect_bad("*.com", "wildcard '*.com' covers a whole top-level domain");
	expect_bad("*.ORG.", "wildcard '*.org' covers a whole top-level domain");
	expect_bad("*.localhost:80", "wildcard '*.localhost' covers a whole top-level domain");
	expect_bad("*.*.example.com", "'*' is only allowed as the whole first label");
	expect_bad("a*.example.com", "'*' is only allowed as the whole first label");
	expect_bad("www.*", "'*' is only allowed as the whole first label");
}

static void group_words_are_entries(void **state)
{
	static const struct {
		const char *in, *text;
		enum sbx_addr_group g;
	} ok[] = {
		{ "private", "private", SBX_GROUP_PRIVATE },
		{ "Private:443/tcp", "private:443/tcp", SBX_GROUP_PRIVATE },
		{ "loopback/udp", "loopback/udp", SBX_GROUP_LOOPBACK },
		{ "link-local:1-1024", "link-local:1-1024", SBX_GROUP_LINK_LOCAL },
		{ "metadata:80", "metadata:80", SBX_GROUP_METADATA },
		{ "PUBLIC", "public", SBX_GROUP_PUBLIC },
	};
	struct sbx_net_entry e;
	char err[320];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		e = parse_ok(ok[i].in, ok[i].text);
		assert_int_equal(e.kind, SBX_NET_ENTRY_GROUP);
		assert_int_equal(e.group, ok[i].g);
		assert_null(e.host);
		sbx_net_entry_clear(&e);
	}
	/* a name with more labels is a host name as before */
	e = parse_ok("private.example", "private.example");
	assert_int_equal(e.kind, SBX_NET_ENTRY_HOST);
	sbx_net_entry_clear(&e);
	assert_int_equal(sbx_net_entry_from_parts("metadata", "80", "tcp", &e, err, sizeof(err)), 0);
	assert_string_equal(e.text, "metadata:80/tcp");
	assert_int_equal(e.kind, SBX_NET_ENTRY_GROUP);
	sbx_net_entry_clear(&e);
	expect_bad("private/8", "the address group 'private' cannot have a prefix length ('private/8')");
	expect_bad("[private]", "brackets are only for IPv6 addresses ('private')");
}

static void dns_servers_are_addresses(void **state)
{
	static const struct {
		const char *in, *text;
		int family;
		uint16_t port;
	} ok[] = {
		{ "192.0.2.53", "192.0.2.53", AF_INET, 53 },
		{ "127.0.0.1:5353", "127.0.0.1:5353", AF_INET, 5353 },
		{ "2001:db8::53", "2001:db8::53", AF_INET6, 53 },
		{ "[2001:DB8::53]:5353", "[2001:db8::53]:5353", AF_INET6, 5353 },
		{ "[::1]:53", "::1", AF_INET6, 53 },
	};
	static const struct {
		const char *in, *msg;
	} bad[] = {
		{ "", "empty DNS server address" },
		{ "dns.example", "DNS server 'dns.example' is not an address (host names are not allowed here" },
		{ "192.0.2.0/24", "a DNS server is one address, not a prefix ('192.0.2.0/24')" },
		{ "192.0.2.53:0", "port 0 out of range (1-65535)" },
		{ "192.0.2.53:dns", "invalid port 'dns'" },
		{ "010.0.0.1", "leading zeros in an IPv4 address are ambiguous" },
		{ "[192.0.2.53]:53", "brackets are only for IPv6 addresses ('192.0.2.53')" },
		{ "[::1", "missing ']'" },
		{ "[::1]x", "unexpected 'x' after ']'" },
		{ "2001:db8::zz", "invalid IPv6 address '2001:db8::zz'" },
		{ "192.0.2.53 ", "contains a space" },
	};
	struct sbx_dns_server d;
	char err[256], text[64];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (sbx_parse_dns_server(ok[i].in, &d, err, sizeof(err)) < 0)
			fail_msg("'%s' refused: %s", ok[i].in, err);
		assert_int_equal(d.family, ok[i].family);
		assert_int_equal(d.port, ok[i].port);
		sbx_dns_server_format(&d, text, sizeof(text));
		assert_string_equal(text, ok[i].text);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(sbx_parse_dns_server(bad[i].in, &d, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].msg))
			fail_msg("'%s': message '%s' lacks '%s'", bad[i].in, err, bad[i].msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(duration_accepts_units_and_bare_seconds),
		cmocka_unit_test(duration_rejects_malformed),
		cmocka_unit_test(size_units_are_binary),
		cmocka_unit_test(size_rejects_ambiguous_and_overflow),
		cmocka_unit_test(cpu_parses_fractions_and_millicores),
		cmocka_unit_test(cpu_rejects_out_of_range_and_precision),
		cmocka_unit_test(net_entry_ipv4_forms),
		cmocka_unit_test(net_entry_ipv6_forms),
		cmocka_unit_test(net_entry_ipv4_mapped_becomes_ipv4),
		cmocka_unit_test(net_entry_ipv4_mapped_short_prefix_is_ipv6),
		cmocka_unit_test(net_entry_numeric_host_forms_refused),
		cmocka_unit_test(net_entry_host_names),
		cmocka_unit_test(net_entry_rejects_malformed),
		cmocka_unit_test(non_ascii_names_get_their_punycode),
		cmocka_unit_test(xn_labels_must_be_valid_punycode),
		cmocka_unit_test(wildcards_are_names_below_a_domain),
		cmocka_unit_test(group_words_are_entries),
		cmocka_unit_test(dns_servers_are_addresses),
		cmocka_unit_test(net_entry_rejects_overlong_names),
		cmocka_unit_test(port_range_parses_listen_forms),
		cmocka_unit_test(ifaddr_keeps_host_bits_and_checks_the_subnet),
		cmocka_unit_test(enum_names_match_policy_spelling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
