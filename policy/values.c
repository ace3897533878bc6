/* SPDX-License-Identifier: MIT */
/*
 * Scalar value parsers shared by the policy loader and the CLI overrides
 * (durations, sizes, CPU shares) and the names of the policy enums.
 * Every parser is strict (no whitespace, no signs, no fractions where
 * none make sense) and overflow-safe: an input that does not fit is an
 * error, never a wrapped value.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"

/* Reads a run of decimal digits into *ret; returns the count or -EINVAL on overflow. */
static int read_digits(const char **s, uint64_t *ret)
{
	const char *p = *s;
	uint64_t v = 0;
	int n = 0;

	while (*p >= '0' && *p <= '9') {
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			return -EINVAL;
		p++;
		n++;
	}
	*s = p;
	*ret = v;
	return n;
}

struct unit {
	const char *name;
	uint64_t mult;
};

/* Units of a duration, largest first: "1m30s" must list them in this order. */
static const struct unit duration_units[] = {
	{ "d", 86400000 }, { "h", 3600000 }, { "ms", 1 }, { "m", 60000 }, { "s", 1000 },
};

/* Rank used to force decreasing units; ms sorts below s although it is tried before m. */
static int duration_rank(uint64_t mult)
{
	return mult == 86400000 ? 5 : mult == 3600000 ? 4 : mult == 60000 ? 3 : mult == 1000 ? 2 : 1;
}

static const struct unit *match_duration_unit(const char **s)
{
	for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
		size_t n = strlen(duration_units[i].name);

		if (strncmp(*s, duration_units[i].name, n) == 0) {
			*s += n;
			return &duration_units[i];
		}
	}
	return NULL;
}

int sbx_parse_duration_ms(const char *s, uint64_t *ret)
{
	uint64_t total = 0, v, part;
	int last_rank = 6;

	if (!s || !*s)
		return -EINVAL;
	/* A bare number is seconds, like an integer timeout in a policy file. */
	if (strspn(s, "0123456789") == strlen(s)) {
		if (read_digits(&s, &v) < 0 || __builtin_mul_overflow(v, 1000, &v))
			return -EINVAL;
		*ret = v;
		return 0;
	}
	while (*s) {
		const struct unit *u;

		if (read_digits(&s, &v) <= 0)
			return -EINVAL;
		u = match_duration_unit(&s);
		if (!u || duration_rank(u->mult) >= last_rank)
			return -EINVAL;
		last_rank = duration_rank(u->mult);
		if (__builtin_mul_overflow(v, u->mult, &part) || __builtin_add_overflow(total, part, &total))
			return -EINVAL;
	}
	*ret = total;
	return 0;
}

/* K/M/G/T are binary (1024-based), like the IEC forms; "MB" and friends are
 * refused because half the world reads them as powers of 1000. */
static const struct unit size_units[] = {
	{ "", 1 }, { "B", 1 },
	{ "K", 1ull << 10 }, { "k", 1ull << 10 }, { "KiB", 1ull << 10 },
	{ "M", 1ull << 20 }, { "m", 1ull << 20 }, { "MiB", 1ull << 20 },
	{ "G", 1ull << 30 }, { "g", 1ull << 30 }, { "GiB", 1ull << 30 },
	{ "T", 1ull << 40 }, { "t", 1ull << 40 }, { "TiB", 1ull << 40 },
};

int sbx_parse_size(const char *s, uint64_t *ret)
{
	uint64_t v;

	if (!s || read_digits(&s, &v) <= 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
		if (strcmp(s, size_units[i].name) != 0)
			continue;
		if (__builtin_mul_overflow(v, size_units[i].mult, &v))
			return -EINVAL;
		*ret = v;
		return 0;
	}
	return -EINVAL;
}

/* Rates are bits per second, decimal like tc's: "10Mbit" = 10,000,000. A
 * bare k/M/G means kbit/Mbit/Gbit; byte rates have no unit on purpose (write
 * "8Mbit" for 1 MB/s), so that "M" never means two things. */
static const struct unit rate_units[] = {
	{ "", 1 }, { "bit", 1 },
	{ "k", 1000 }, { "K", 1000 }, { "kbit", 1000 }, { "Kbit", 1000 },
	{ "M", 1000000 }, { "m", 1000000 }, { "Mbit", 1000000 }, { "mbit", 1000000 },
	{ "G", 1000000000 }, { "g", 1000000000 }, { "Gbit", 1000000000 }, { "gbit", 1000000000 },
};

int sbx_parse_rate_bps(const char *s, uint64_t *ret)
{
	uint64_t v;

	if (!s || read_digits(&s, &v) <= 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(rate_units) / sizeof(rate_units[0]); i++) {
		if (strcmp(s, rate_units[i].name) != 0)
			continue;
		if (__builtin_mul_overflow(v, rate_units[i].mult, &v))
			return -EINVAL;
		*ret = v;
		return 0;
	}
	return -EINVAL;
}

/* "2" -> 2000, "0.5" -> 500, "0.125" -> 125, "500m" -> 500 (millicores). */
int sbx_parse_cpu_milli(const char *s, uint32_t *ret)
{
	uint64_t whole, frac = 0, milli;
	int n;

	if (!s || read_digits(&s, &whole) <= 0)
		return -EINVAL;
	if (strcmp(s, "m") == 0) {
		milli = whole;
	} else {
		if (*s == '.') {
			s++;
			n = read_digits(&s, &frac);
			if (n <= 0 || n > 3)
				return -EINVAL;
			while (n++ < 3)
				frac *= 10;
		}
		if (*s || __builtin_mul_overflow(whole, 1000, &milli) ||
		    __builtin_add_overflow(milli, frac, &milli))
			return -EINVAL;
	}
	if (milli > 1024 * 1000)
		return -EINVAL;
	*ret = (uint32_t)milli;
	return 0;
}

static int cpus_range(const char **s, uint64_t bits[SBX_CPUS_WORDS])
{
	uint64_t lo, hi;

	if (read_digits(s, &lo) <= 0)
		return -EINVAL;
	hi = lo;
	if (**s == '-') {
		(*s)++;
		if (read_digits(s, &hi) <= 0 || hi < lo)
			return -EINVAL;
	}
	if (hi >= SBX_CPUS_MAX)
		return -ERANGE;
	for (uint64_t c = lo; c <= hi; c++)
		bits[c / 64] |= 1ull << (c % 64);
	return 0;
}

int sbx_cpus_parse(const char *s, uint64_t ret[SBX_CPUS_WORDS])
{
	uint64_t bits[SBX_CPUS_WORDS] = { 0 };
	int r;

	if (!s)
		return -EINVAL;
	for (;;) {
		r = cpus_range(&s, bits);
		if (r < 0)
			return r;
		if (*s != ',')
			break;
		s++;
	}
	if (*s == '\n')
		s++;
	if (*s)
		return -EINVAL;
	memcpy(ret, bits, sizeof(bits));
	return 0;
}

bool sbx_cpus_any(const uint64_t cpus[SBX_CPUS_WORDS])
{
	for (int i = 0; i < SBX_CPUS_WORDS; i++)
		if (cpus[i])
			return true;
	return false;
}

void sbx_cpus_format(const uint64_t cpus[SBX_CPUS_WORDS], char *buf, size_t len)
{
	size_t off = 0;

	if (!len)
		return;
	buf[0] = 0;
	for (unsigned c = 0; c < SBX_CPUS_MAX; c++) {
		unsigned hi = c;
		int n;

		if (!sbx_cpus_has(cpus, c))
			continue;
		while (sbx_cpus_has(cpus, hi + 1))
			hi++;
		n = hi == c ? snprintf(buf + off, len - off, "%s%u", off ? "," : "", c) :
			      snprintf(buf + off, len - off, "%s%u-%u", off ? "," : "", c, hi);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
		c = hi;
	}
}

const char *sbx_isolation_name(enum sbx_isolation i)
{
	static const char *const names[] = { "none", "process", "gvisor", "unikernel", "microvm",
					     "tee", "wasm" };

	return (unsigned)i < sizeof(names) / sizeof(names[0]) ? names[i] : "unknown";
}

const char *sbx_net_mode_name(enum sbx_net_mode m)
{
	static const char *const names[] = { "none", "allow", "deny", "full" };

	return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "unknown";
}

const char *sbx_fs_mode_name(enum sbx_fs_mode m)
{
	static const char *const names[] = { "none", "read-only", "read-write", "full" };

	return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "unknown";
}

const char *sbx_audit_name(enum sbx_audit_level a)
{
	static const char *const names[] = { "deny", "all", "none" };

	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "unknown";
}

const char *sbx_enforcement_name(enum sbx_enforcement e)
{
	static const char *const names[] = { "strict", "best-effort" };

	return (unsigned)e < sizeof(names) / sizeof(names[0]) ? names[e] : "unknown";
}

const char *sbx_seccomp_preset_name(enum sbx_seccomp_preset p)
{
	static const char *const names[] = { "default", "strict" };

	return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "unknown";
}

const char *sbx_seccomp_action_name(enum sbx_seccomp_action a)
{
	static const char *const names[] = { "errno", "kill" };

	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "unknown";
}

const char *sbx_netns_name(enum sbx_netns n)
{
	static const char *const names[] = { "auto", "host", "private" };

	return (unsigned)n < sizeof(names) / sizeof(names[0]) ? names[n] : "unknown";
}

/* The kernel's AF_* numbers (include/linux/socket.h). "unix", "inet" and
 * "inet6" are always allowed, "packet" belongs to raw_sockets: none of them
 * can be listed, so they are not here. */
static const char *const family_names[SBX_FAMILY_MAX] = {
	[3] = "ax25", [4] = "ipx", [5] = "appletalk", [6] = "netrom", [7] = "bridge",
	[8] = "atmpvc", [9] = "x25", [11] = "rose", [12] = "decnet", [13] = "netbeui",
	[14] = "security", [15] = "key", [16] = "netlink", [18] = "ash", [19] = "econet",
	[20] = "atmsvc", [21] = "rds", [22] = "sna", [23] = "irda", [24] = "pppox",
	[25] = "wanpipe", [26] = "llc", [27] = "ib", [28] = "mpls", [29] = "can", [30] = "tipc",
	[31] = "bluetooth", [32] = "iucv", [33] = "rxrpc", [34] = "isdn", [35] = "phonet",
	[36] = "ieee802154", [37] = "caif", [38] = "alg", [39] = "nfc", [40] = "vsock",
	[41] = "kcm", [42] = "qipcrtr", [43] = "smc", [44] = "xdp", [45] = "mctp",
};

const char *sbx_family_name(unsigned af)
{
	return af < SBX_FAMILY_MAX ? family_names[af] : NULL;
}

int sbx_family_parse(const char *name)
{
	for (int i = 0; i < SBX_FAMILY_MAX; i++)
		if (family_names[i] && !strcmp(family_names[i], name))
			return i;
	return -1;
}

const char *sbx_proto_name(uint8_t proto)
{
	switch (proto) {
	case SBX_PROTO_ANY:
		return "any";
	case SBX_PROTO_TCP:
		return "tcp";
	case SBX_PROTO_UDP:
		return "udp";
	default:
		return "unknown";
	}
}

void sbx_access_str(uint32_t access, char buf[8])
{
	size_t n = 0;

	if (!(access & (SBX_ACC_R | SBX_ACC_W | SBX_ACC_X))) {
		memcpy(buf, "deny", 5);
		return;
	}
	if (access & SBX_ACC_R)
		buf[n++] = 'r';
	if (access & SBX_ACC_W)
		buf[n++] = 'w';
	if (access & SBX_ACC_X)
		buf[n++] = 'x';
	buf[n] = '\0';
}
