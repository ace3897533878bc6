/* SPDX-License-Identifier: MIT */
/*
 * Network entries: "ADDR[/PREFIX][:PORTS][/PROTO]", "[IPV6][/PREFIX][:PORTS][/PROTO]",
 * "HOST[:PORTS][/PROTO]", "*.DOMAIN[:PORTS][/PROTO]" and "GROUP[:PORTS][/PROTO]"
 * (grammar in docs/policy.md). Addresses go through inet_pton; every entry gets a
 * canonical text form so that equal entries compare equal as strings.
 * Also the interface addresses of the veth pair ("10.200.0.1/30").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netgroup.h"
#include "policy-internal.h"
#include "punycode.h"
#include "util/util.h"

#define ENTRY_MAX 320	/* longest entry text: a 253-byte host name plus suffixes */

/* Parses a decimal number of at most maxdigits digits, the whole of s. */
static int parse_uint(const char *s, unsigned maxdigits, unsigned long *ret)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > maxdigits || strspn(s, "0123456789") != n)
		return -EINVAL;
	for (; *s; s++)
		v = v * 10 + (unsigned long)(*s - '0');
	*ret = v;
	return 0;
}

static int parse_port(const char *s, uint16_t *ret, char *errbuf, size_t errlen)
{
	unsigned long v;

	if (parse_uint(s, 10, &v) < 0)
		return sbx_fail(errbuf, errlen, -EINVAL,
				"invalid port '%s' (expected a number 1-65535)", s);
	if (v == 0 || v > 65535)
		return sbx_fail(errbuf, errlen, -EINVAL, "port %s out of range (1-65535)", s);
	*ret = (uint16_t)v;
	return 0;
}

/* "443" or "80-443". */
static int parse_ports(char *s, uint16_t *lo, uint16_t *hi, char *errbuf, size_t errlen)
{
	char *dash = strchr(s, '-');
	int r;

	if (!*s)
		return sbx_fail(errbuf, errlen, -EINVAL, "missing port after ':'");
	if (dash)
		*dash = '\0';
	r = parse_port(s, lo, errbuf, errlen);
	if (r < 0)
		return r;
	if (!dash) {
		*hi = *lo;
		return 0;
	}
	r = parse_port(dash + 1, hi, errbuf, errlen);
	if (r < 0)
		return r;
	if (*lo > *hi)
		return sbx_fail(errbuf, errlen, -EINVAL,
				"empty port range %u-%u (the first port must not exceed the last)",
				*lo, *hi);
	return 0;
}

static int parse_proto(const char *s, uint8_t *ret, char *errbuf, size_t errlen)
{
	if (strcmp(s, "tcp") == 0)
		*ret = SBX_PROTO_TCP;
	else if (strcmp(s, "udp") == 0)
		*ret = SBX_PROTO_UDP;
	else
		return sbx_fail(errbuf, errlen, -EINVAL,
				"unknown protocol '%s' (expected tcp or udp)", s);
	return 0;
}

/* Strips a trailing "/tcp" or "/udp"; a '/' followed by digits is a prefix length. */
static int split_proto(char *buf, uint8_t *proto, char *errbuf, size_t errlen)
{
	char *slash = strrchr(buf, '/');

	if (!slash || (slash[1] >= '0' && slash[1] <= '9'))
		return 0;
	*slash = '\0';
	if (!slash[1])
		return sbx_fail(errbuf, errlen, -EINVAL,
				"missing protocol or prefix length after '/'");
	return parse_proto(slash + 1, proto, errbuf, errlen);
}

/* Pieces of an entry before the values are checked. */
struct parts {
	char *addr;	/* address or host name */
	char *prefix;	/* after '/', or NULL */
	char *ports;	/* after ':', or NULL */
	bool bracketed;
};

static int split_bracketed(char *buf, struct parts *p, char *errbuf, size_t errlen)
{
	char *close = strchr(buf, ']'), *rest;

	if (!close)
		return sbx_fail(errbuf, errlen, -EINVAL, "missing ']' after the IPv6 address");
	*close = '\0';
	p->addr = buf + 1;
	p->bracketed = true;
	if (strchr(p->addr, '/'))
		return sbx_fail(errbuf, errlen, -EINVAL,
				"put the prefix length after the bracket: [%.*s]/%s",
				(int)(strchr(p->addr, '/') - p->addr), p->addr,
				strchr(p->addr, '/') + 1);
	rest = close + 1;
	if (*rest == '/') {
		p->prefix = rest + 1;
		rest = p->prefix + strcspn(p->prefix, ":");
	}
	if (*rest == ':') {
		*rest = '\0';
		p->ports = rest + 1;
	} else if (*rest) {
		return sbx_fail(errbuf, errlen, -EINVAL, "unexpected '%s' after ']'", rest);
	}
	return 0;
}

static int split_entry(char *buf, struct parts *p, char *errbuf, size_t errlen)
{
	char *colon, *slash;

	if (buf[0] == '[')
		return split_bracketed(buf, p, errbuf, errlen);
	if (strchr(buf, ']'))
		return sbx_fail(errbuf, errlen, -EINVAL, "unexpected ']'");
	colon = strchr(buf, ':');
	/* One colon separates a port; more make an IPv6 address, which then
	 * cannot carry a port without brackets. */
	if (colon && !strchr(colon + 1, ':')) {
		*colon = '\0';
		p->ports = colon + 1;
	}
	p->addr = buf;
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		p->prefix = slash + 1;
	}
	if (!*p->addr)
		return sbx_fail(errbuf, errlen, -EINVAL, "missing address or host name");
	return 0;
}

static int parse_prefix(const char *s, unsigned max, uint8_t *ret, char *errbuf, size_t errlen)
{
	unsigned long v;

	if (parse_uint(s, 3, &v) < 0 || (s[0] == '0' && s[1]))
		return sbx_fail(errbuf, errlen, -EINVAL, "invalid prefix length '/%s'", s);
	if (v > max)
		return sbx_fail(errbuf, errlen, -EINVAL,
				"prefix length /%lu out of range for IPv%c (0-%u)", v,
				max == 32 ? '4' : '6', max);
	*ret = (uint8_t)v;
	return 0;
}

/* IPv4 must be a dotted quad of decimal octets without leading zeros, which
 * some parsers read as octal ("010" = 8). */
static int parse_ipv4(const char *s, uint8_t addr[16], char *errbuf, size_t errlen)
{
	const char *p = s;
	int dots = 0;

	for (; *p; p++) {
		if (*p == '.')
			dots++;
		if ((p == s || p[-1] == '.') && p[0] == '0' && p[1] >= '0' && p[1] <= '9')
			return sbx_fail(errbuf, errlen, -EINVAL,
					"'%s': leading zeros in an IPv4 address are ambiguous", s);
	}
	if (dots != 3 || inet_pton(AF_INET, s, addr) != 1)
		return sbx_fail(errbuf, errlen, -EINVAL,
				"invalid IPv4 address '%s' (expected a dotted quad like 192.0.2.1)",
				s);
	return 0;
}

static bool is_v4_mapped(const uint8_t a[16])
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, pfx, sizeof(pfx)) == 0;
}

static bool host_bits_set(const uint8_t *a, unsigned bits, unsigned prefix)
{
	for (unsigned i = prefix; i < bits; i++)
		if (a[i / 8] & (0x80 >> (i % 8)))
			return true;
	return false;
}

static void clear_host_bits(uint8_t *a, unsigned bits, unsigned prefix)
{
	for (unsigned i = prefix; i < bits; i++)
		a[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

static int parse_addr(const struct parts *p, struct sbx_net_entry *e, char *errbuf, size_t errlen)
{
	unsigned bits;
	int r;

	if (strchr(p->addr, ':')) {
		if (inet_pton(AF_INET6, p->addr, e->addr) != 1)
			return sbx_fail(errbuf, errlen, -EINVAL, "invalid IPv6 address '%s'",
					p->addr);
		e->family = AF_INET6;
		bits = 128;
	} else {
		if (p->bracketed)
			return sbx_fail(errbuf, errlen, -EINVAL,
					"brackets are only for IPv6 addresses ('%s')", p->addr);
		r = parse_ipv4(p->addr, e->addr, errbuf, errlen);
		if (r < 0)
			return r;
		e->family = AF_INET;
		bits = 32;
	}
	e->prefix_len = (uint8_t)bits;
	if (p->prefix) {
		r = parse_prefix(p->prefix, bits, &e->prefix_len, errbuf, errlen);
		if (r < 0)
			return r;
	}
	/* ::ffff:a.b.c.d is how an IPv4 peer looks on a dual-stack socket; store
	 * it as IPv4 so one rule covers both. */
	if (e->family == AF_INET6 && is_v4_mapped(e->addr) && e->prefix_len >= 96) {
		memmove(e->addr, e->addr + 12, 4);
		memset(e->addr + 4, 0, 12);
		e->family = AF_INET;
		e->prefix_len -= 96;
		bits = 32;
	}
	if (host_bits_set(e->addr, bits, e->prefix_len)) {
		char net[INET6_ADDRSTRLEN];

		clear_host_bits(e->addr, bits, e->prefix_len);
		inet_ntop(e->family, e->addr, net, sizeof(net));
		return sbx_fail(errbuf, errlen, -EINVAL,
				"%s/%s has host bits set; did you mean %s/%u?", p->addr, p->prefix,
				net, e->prefix_len);
	}
	return 0;
}

static int check_label(const char *l, size_t n, const char *host, char *errbuf, size_t errlen)
{
	if (n == 0)
		return sbx_fail(errbuf, errlen, -EINVAL, "host name '%s' has an empty label", host);
	if (n > 63)
		return sbx_fail(errbuf, errlen, -EINVAL,
				"host name '%s' has a label longer than 63 characters", host);
	if (l[0] == '-' || l[n - 1] == '-')
		return sbx_fail(errbuf, errlen, -EINVAL,
				"host name '%s': a label may not start or end with '-'", host);
	for (size_t i = 0; i < n; i++) {
		if (l[i] == '*')
			return sbx_fail(errbuf, errlen, -EINVAL,
					"host name '%s': '*' is only allowed as the whole first label "
					"('*.example.org')", host);
		if (!((l[i] >= 'a' && l[i] <= 'z') || (l[i] >= '0' && l[i] <= '9') || l[i] == '-'))
			return sbx_fail(errbuf, errlen, -EINVAL,
					"host name '%s' contains an invalid character '%c'", host,
					l[i]);
	}
	if (n >= 4 && !strncmp(l, "xn--", 4) && sbx_punycode_label_valid(l, n) < 0)
		return sbx_fail(errbuf, errlen, -EINVAL, "host name '%s': label '%.*s' is not valid "
				"punycode", host, (int)n, l);
	return 0;
}

/* inet_aton, which getaddrinfo tries before DNS, reads "0x7f.1", "0177.1",
 * "127.1" and "2130706433" as 127.0.0.1: such a "host name" would be an
 * address in a form that the address grammar refuses. */
static int refuse_numeric_host(const char *name, char *errbuf, size_t errlen)
{
	struct in_addr a;
	char quad[INET_ADDRSTRLEN];

	if (inet_aton(name, &a) == 0)
		return 0;
	inet_ntop(AF_INET, &a, quad, sizeof(quad));
	return sbx_fail(errbuf, errlen, -EINVAL,
			"'%s' is an IPv4 address in hex, octal or short form (resolvers read it as "
			"%s); hex and octal forms are refused: write the dotted quad", name, quad);
}

/* RFC 1123 names, lower-cased; an optional leading "*." makes a wildcard. */
static int parse_host(const struct parts *p, struct sbx_net_entry *e, char *errbuf, size_t errlen)
{
	char name[ENTRY_MAX];
	const char *l;
	size_t n = strlen(p->addr);
	int r;

	if (p->prefix)
		return sbx_fail(errbuf, errlen, -EINVAL,
				"a host name cannot have a prefix length ('%s/%s')", p->addr,
				p->prefix);
	if (n >= sizeof(name))
		return sbx_fail(errbuf, errlen, -EINVAL, "host name is too long");
	for (size_t i = 0; i <= n; i++)
		name[i] = (p->addr[i] >= 'A' && p->addr[i] <= 'Z') ? (char)(p->addr[i] + 32) : p->addr[i];
	if (n > 1 && name[n - 1] == '.')
		name[--n] = '\0';	/* "example.org." is the same name */
	r = refuse_numeric_host(name, errbuf, errlen);
	if (r < 0)
		return r;
	l = name;
	e->kind = SBX_NET_ENTRY_HOST;
	if (strncmp(name, "*.", 2) == 0) {
		e->kind = SBX_NET_ENTRY_WILDCARD;
		l += 2;
	}
	if (strlen(l) > 253)
		return sbx_fail(errbuf, errlen, -EINVAL, "host name is longer than 253 characters");
	for (;;) {
		size_t len = strcspn(l, ".");

		r = check_label(l, len, name, errbuf, errlen);
		if (r < 0)
			return r;
		if (!l[len])
			break;
		l += len + 1;
	}
	/* "*.com" would let the workload reach any name under a top-level
	 * domain: no policy means that. */
	if (e->kind == SBX_NET_ENTRY_WILDCARD && !strchr(name + 2, '.'))
		return sbx_fail(errbuf, errlen, -EINVAL, "wildcard '%s' covers a whole top-level "
				"domain", name);
	e->host = strdup(name);
	return e->host ? 0 : -ENOMEM;
}

/* The words of the address groups are reserved: "private" is the group, not
 * a host of that name (any case, as host names are case-insensitive). */
static int parse_group(const struct parts *p, struct sbx_net_entry *e, char *errbuf, size_t errlen)
{
	char word[16];
	size_t n = strlen(p->addr);
	int g;

	if (n >= sizeof(word))
		return 0;
	for (size_t i = 0; i <= n; i++)
		word[i] = (p->addr[i] >= 'A' && p->addr[i] <= 'Z') ? (char)(p->addr[i] + 32) : p->addr[i];
	g = sbx_group_from_name(word);
	if (g < 0)
		return 0;
	if (p->prefix)
		return sbx_fail(errbuf, errlen, -EINVAL,
				"the address group '%s' cannot have a prefix length ('%s/%s')",
				word, p->addr, p->prefix);
	e->kind = SBX_NET_ENTRY_GROUP;
	e->group = (uint8_t)g;
	return 1;
}

static bool looks_like_ipv4(const char *s)
{
	return strspn(s, "0123456789.") == strlen(s);
}

/* The canonical text is made for every entry (10,000 in a large profile):
 * by hand, not through stdio, which was a third of loading such a file. */
static char *put_str(char *o, const char *s)
{
	size_t n = strlen(s);

	memcpy(o, s, n);
	return o + n;
}

static char *put_uint(char *o, unsigned v)
{
	char t[10];
	int n = 0;

	do
		t[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		*o++ = t[--n];
	return o;
}

/* "192.0.2.1": what inet_ntop makes of an IPv4 address. */
static void format_addr(const struct sbx_net_entry *e, char *a, size_t len)
{
	const uint8_t *b = e->addr;
	char *o = a;

	if (e->family != AF_INET) {
		inet_ntop(e->family, e->addr, a, (socklen_t)len);
		return;
	}
	for (int i = 0; i < 4; i++) {
		if (i)
			*o++ = '.';
		o = put_uint(o, b[i]);
	}
	*o = 0;
}

static int format_entry(struct sbx_net_entry *e)
{
	char a[INET6_ADDRSTRLEN] = "";
	bool brackets = false;
	const char *target = e->host;
	char *o;

	if (e->kind == SBX_NET_ENTRY_GROUP)
		target = sbx_group_name(e->group);
	if (e->kind == SBX_NET_ENTRY_ADDR) {
		format_addr(e, a, sizeof(a));
		target = a;
	}
	if (!target)
		return -EINVAL;	/* no kind without a name */
	if (e->port_lo != 0 || e->port_hi != 65535)
		brackets = e->kind == SBX_NET_ENTRY_ADDR && e->family == AF_INET6;
	free(e->text);
	/* brackets, "/128", ":65535-65535", "/" and a protocol name: under 64 */
	e->text = malloc(strlen(target) + 64);
	if (!e->text)
		return -ENOMEM;
	o = e->text;
	if (brackets)
		*o++ = '[';
	o = put_str(o, target);
	if (brackets)
		*o++ = ']';
	if (e->kind == SBX_NET_ENTRY_ADDR && e->prefix_len != (e->family == AF_INET ? 32 : 128)) {
		*o++ = '/';
		o = put_uint(o, e->prefix_len);
	}
	if (e->port_lo != 0 || e->port_hi != 65535) {
		*o++ = ':';
		o = put_uint(o, e->port_lo);
		if (e->port_lo != e->port_hi) {
			*o++ = '-';
			o = put_uint(o, e->port_hi);
		}
	}
	if (e->proto != SBX_PROTO_ANY) {
		*o++ = '/';
		o = put_str(o, sbx_proto_name(e->proto));
	}
	*o = 0;
	return 0;
}

static int parse_entry(char *buf, struct sbx_net_entry *e, char *errbuf, size_t errlen)
{
	struct parts p = { 0 };
	int r;

	r = split_proto(buf, &e->proto, errbuf, errlen);
	if (r < 0)
		return r;
	r = split_entry(buf, &p, errbuf, errlen);
	if (r < 0)
		return r;
	if (p.ports) {
		r = parse_ports(p.ports, &e->port_lo, &e->port_hi, errbuf, errlen);
		if (r < 0)
			return r;
	}
	if (strcmp(p.addr, "*") == 0)
		return sbx_fail(errbuf, errlen, -EINVAL,
				"'*' alone is not an entry; use 0.0.0.0/0 and ::/0, or mode 'full'");
	if (p.bracketed || strchr(p.addr, ':') || looks_like_ipv4(p.addr)) {
		e->kind = SBX_NET_ENTRY_ADDR;
		r = parse_addr(&p, e, errbuf, errlen);
	} else {
		r = parse_group(&p, e, errbuf, errlen);
		if (r == 0)
			r = parse_host(&p, e, errbuf, errlen);
	}
	if (r < 0)
		return r;
	return format_entry(e);
}

/* Names are matched as the resolver sees them, in ASCII: an internationalised
 * name must be written in punycode. The hint converts the name as written
 * (ports and protocol kept), without IDNA's mapping. */
static int refuse_idn(const char *s, char *errbuf, size_t errlen)
{
	char name[ENTRY_MAX], ascii[ENTRY_MAX];
	size_t n = strcspn(s, ":/");

	bool wide = false;

	for (size_t i = 0; i < n; i++)
		wide |= (unsigned char)s[i] >= 0x80;
	if (n >= sizeof(name) || s[0] == '[' || !wide)
		n = 0;
	memcpy(name, s, n);
	name[n] = '\0';
	if (n > 1 && name[n - 1] == '.')
		name[n - 1] = '\0';
	if (n == 0 || sbx_idn_to_ascii(name, ascii, sizeof(ascii)) < 0)
		return sbx_fail(errbuf, errlen, -EINVAL, "network entry contains a non-ASCII "
				"character (write internationalised host names in punycode, "
				"'xn--...')");
	return sbx_fail(errbuf, errlen, -EINVAL, "host name '%s' is not ASCII: write it in "
			"punycode, '%s%s'", name, ascii, s + n);
}

int sbx_parse_net_entry(const char *s, struct sbx_net_entry *ret, char *errbuf, size_t errlen)
{
	struct sbx_net_entry e = { .port_lo = 0, .port_hi = 65535 };
	char buf[ENTRY_MAX];
	size_t n = s ? strlen(s) : 0;
	int r;

	if (n == 0)
		return sbx_fail(errbuf, errlen, -EINVAL, "empty network entry");
	if (n >= sizeof(buf))
		return sbx_fail(errbuf, errlen, -EINVAL, "network entry is too long (%zu bytes)",
				n);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] == 0x7f)
			return sbx_fail(errbuf, errlen, -EINVAL,
					"network entry contains a space or a non-ASCII character");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return refuse_idn(s, errbuf, errlen);
	memcpy(buf, s, n + 1);
	r = parse_entry(buf, &e, errbuf, errlen);
	if (r < 0) {
		sbx_net_entry_clear(&e);
		return r;
	}
	*ret = e;
	return 0;
}

void sbx_net_entry_clear(struct sbx_net_entry *e)
{
	if (!e)
		return;
	free(e->host);
	free(e->text);
	e->host = e->text = NULL;
}

int sbx_net_entry_from_parts(const char *to, const char *ports, const char *proto,
			     struct sbx_net_entry *ret, char *errbuf, size_t errlen)
{
	struct sbx_net_entry e;
	char buf[16];
	int r;

	r = sbx_parse_net_entry(to, &e, errbuf, errlen);
	if (r < 0)
		return r;
	if (ports && (e.port_lo != 0 || e.port_hi != 65535))
		r = sbx_fail(errbuf, errlen, -EINVAL,
			     "'to' already has a port; drop 'ports' or the ':port' suffix");
	else if (proto && e.proto != SBX_PROTO_ANY)
		r = sbx_fail(errbuf, errlen, -EINVAL,
			     "'to' already has a protocol; drop 'proto' or the '/proto' suffix");
	else if (ports && strlen(ports) >= sizeof(buf))
		r = sbx_fail(errbuf, errlen, -EINVAL, "invalid port range '%s'", ports);
	if (r == 0 && ports) {
		memcpy(buf, ports, strlen(ports) + 1);
		r = parse_ports(buf, &e.port_lo, &e.port_hi, errbuf, errlen);
	}
	if (r == 0 && proto)
		r = parse_proto(proto, &e.proto, errbuf, errlen);
	if (r == 0)
		r = format_entry(&e);
	if (r < 0) {
		sbx_net_entry_clear(&e);
		return r;
	}
	*ret = e;
	return 0;
}

/* No space, control character or byte beyond ASCII. */
static bool printable_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* What makes an IPv4 address unusable on an interface, or NULL. */
static const char *special_ipv4(uint32_t a)
{
	if ((a >> 24) == 0)
		return "'this network' (0.0.0.0/8)";
	if ((a >> 24) == 127)
		return "loopback (127.0.0.0/8)";
	if ((a >> 28) == 0xe)
		return "multicast (224.0.0.0/4)";
	if ((a >> 28) == 0xf)
		return "reserved (240.0.0.0/4)";
	return NULL;
}

int sbx_parse_ifaddr4(const char *s, uint32_t *addr, uint8_t *prefix, char *errbuf, size_t errlen)
{
	uint8_t a[16] = { 0 }, pfx;
	char buf[32];
	const char *why;
	uint32_t v, host;
	char *slash;
	size_t n = s ? strlen(s) : 0;
	int r;

	if (n == 0)
		return sbx_fail(errbuf, errlen, -EINVAL,
				"empty address (expected e.g. 10.200.0.1/30)");
	if (n >= sizeof(buf))
		return sbx_fail(errbuf, errlen, -EINVAL,
				"invalid address (too long; expected e.g. 10.200.0.1/30)");
	if (!printable_ascii(s, n))
		return sbx_fail(errbuf, errlen, -EINVAL,
				"address contains a space or a non-ASCII character");
	memcpy(buf, s, n + 1);
	slash = strchr(buf, '/');
	if (!slash)
		return sbx_fail(errbuf, errlen, -EINVAL,
				"'%s' has no prefix length (expected an address with its prefix, "
				"e.g. 10.200.0.1/30)", buf);
	*slash = '\0';
	r = parse_ipv4(buf, a, errbuf, errlen);
	if (r == 0)
		r = parse_prefix(slash + 1, 32, &pfx, errbuf, errlen);
	if (r < 0)
		return r;
	*slash = '/';
	if (pfx < 1 || pfx > 31)
		return sbx_fail(errbuf, errlen, -EINVAL,
				"prefix length /%u out of range for an interface address (1-31)",
				pfx);
	v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	why = special_ipv4(v);
	if (why)
		return sbx_fail(errbuf, errlen, -EINVAL, "%s is not a usable unicast address: %s",
				buf, why);
	/* A /31 has no network or broadcast address (RFC 3021). */
	host = v & (UINT32_MAX >> pfx);
	if (pfx < 31 && (host == 0 || host == (UINT32_MAX >> pfx)))
		return sbx_fail(errbuf, errlen, -EINVAL,
				"%s is the %s address of its subnet; use a host address", buf,
				host ? "broadcast" : "network");
	*addr = v;
	*prefix = pfx;
	return 0;
}

int sbx_parse_port_range(const char *s, struct sbx_port_range *ret, char *errbuf, size_t errlen)
{
	struct sbx_port_range pr = { .proto = SBX_PROTO_ANY };
	char buf[32];
	size_t n = s ? strlen(s) : 0;
	int r;

	if (n == 0)
		return sbx_fail(errbuf, errlen, -EINVAL, "empty port range");
	if (n >= sizeof(buf))
		return sbx_fail(errbuf, errlen, -EINVAL, "invalid port range (too long)");
	memcpy(buf, s, n + 1);
	r = split_proto(buf, &pr.proto, errbuf, errlen);
	if (r < 0)
		return r;
	if (strchr(buf, '/') || strchr(buf, ':'))
		return sbx_fail(errbuf, errlen, -EINVAL,
				"invalid port range '%s' (expected e.g. 8080 or 9000-9010/udp)", s);
	r = parse_ports(buf, &pr.lo, &pr.hi, errbuf, errlen);
	if (r < 0)
		return r;
	*ret = pr;
	return 0;
}

/* A DNS server is an address, never a name: sbx's resolver could not look
 * the name up without a server to ask. */
static int split_dns_server(char *buf, char **addr, char **port, char *errbuf, size_t errlen)
{
	char *close, *colon;

	*port = NULL;
	if (buf[0] == '[') {
		close = strchr(buf, ']');
		if (!close)
			return sbx_fail(errbuf, errlen, -EINVAL, "missing ']' after the IPv6 address");
		*close = '\0';
		*addr = buf + 1;
		if (close[1] == ':')
			*port = close + 2;
		else if (close[1])
			return sbx_fail(errbuf, errlen, -EINVAL, "unexpected '%s' after ']'", close + 1);
		if (!strchr(*addr, ':'))
			return sbx_fail(errbuf, errlen, -EINVAL,
					"brackets are only for IPv6 addresses ('%s')", *addr);
		return 0;
	}
	*addr = buf;
	colon = strchr(buf, ':');
	if (colon && !strchr(colon + 1, ':')) {
		*colon = '\0';
		*port = colon + 1;
	}
	return 0;
}

int sbx_parse_dns_server(const char *s, struct sbx_dns_server *ret, char *errbuf, size_t errlen)
{
	struct sbx_dns_server d = { .port = 53 };
	char buf[INET6_ADDRSTRLEN + 16], *addr = NULL, *port = NULL;
	size_t n = s ? strlen(s) : 0;
	int r;

	if (n == 0)
		return sbx_fail(errbuf, errlen, -EINVAL, "empty DNS server address");
	if (n >= sizeof(buf))
		return sbx_fail(errbuf, errlen, -EINVAL, "DNS server address is too long");
	if (!printable_ascii(s, n))
		return sbx_fail(errbuf, errlen, -EINVAL,
				"DNS server address contains a space or a non-ASCII character");
	memcpy(buf, s, n + 1);
	r = split_dns_server(buf, &addr, &port, errbuf, errlen);
	if (r < 0)
		return r;
	if (port) {
		r = parse_port(port, &d.port, errbuf, errlen);
		if (r < 0)
			return r;
	}
	if (strchr(addr, '/'))
		return sbx_fail(errbuf, errlen, -EINVAL,
				"a DNS server is one address, not a prefix ('%s')", s);
	if (strchr(addr, ':')) {
		if (inet_pton(AF_INET6, addr, d.addr) != 1)
			return sbx_fail(errbuf, errlen, -EINVAL, "invalid IPv6 address '%s'", addr);
		d.family = AF_INET6;
	} else if (looks_like_ipv4(addr)) {
		r = parse_ipv4(addr, d.addr, errbuf, errlen);
		if (r < 0)
			return r;
		d.family = AF_INET;
	} else {
		return sbx_fail(errbuf, errlen, -EINVAL, "DNS server '%s' is not an address (host "
				"names are not allowed here: the resolver could not look them up)", s);
	}
	*ret = d;
	return 0;
}

void sbx_dns_server_format(const struct sbx_dns_server *d, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	bool v6 = d->family == AF_INET6;

	inet_ntop(v6 ? AF_INET6 : AF_INET, d->addr, a, sizeof(a));
	if (d->port == 53)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s%s%s:%u", v6 ? "[" : "", a, v6 ? "]" : "", d->port);
}
