/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <sys/socket.h>

#include "netgroup.h"

#define V4(g, a, b, c, d, len) { g, AF_INET, len, { a, b, c, d } }
#define V6(g, len, ...) { g, AF_INET6, len, { __VA_ARGS__ } }

/* Most specific first within each family: the first range that holds an
 * address gives its group. */
const struct sbx_group_cidr sbx_group_cidrs[] = {
	V4(SBX_GROUP_METADATA, 169, 254, 169, 254, 32),
	V4(SBX_GROUP_LINK_LOCAL, 169, 254, 0, 0, 16),
	V4(SBX_GROUP_LOOPBACK, 127, 0, 0, 0, 8),
	V4(SBX_GROUP_PRIVATE, 10, 0, 0, 0, 8),
	V4(SBX_GROUP_PRIVATE, 172, 16, 0, 0, 12),
	V4(SBX_GROUP_PRIVATE, 192, 168, 0, 0, 16),
	V4(SBX_GROUP_PRIVATE, 100, 64, 0, 0, 10),
	V4(SBX_GROUP_SPECIAL, 0, 0, 0, 0, 8),
	V4(SBX_GROUP_SPECIAL, 224, 0, 0, 0, 3),		/* multicast 224/4 and reserved 240/4 */
	V6(SBX_GROUP_METADATA, 128, 0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54),
	V6(SBX_GROUP_LOOPBACK, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
	V6(SBX_GROUP_SPECIAL, 128, 0),				/* :: */
	V6(SBX_GROUP_LINK_LOCAL, 10, 0xfe, 0x80),
	V6(SBX_GROUP_PRIVATE, 7, 0xfc),
	V6(SBX_GROUP_SPECIAL, 8, 0xff),				/* multicast */
};
const size_t sbx_n_group_cidrs = sizeof(sbx_group_cidrs) / sizeof(sbx_group_cidrs[0]);

static const char *const names[SBX_GROUP_COUNT] = {
	[SBX_GROUP_PUBLIC] = "public",
	[SBX_GROUP_PRIVATE] = "private",
	[SBX_GROUP_LOOPBACK] = "loopback",
	[SBX_GROUP_LINK_LOCAL] = "link-local",
	[SBX_GROUP_METADATA] = "metadata",
};

const char *sbx_group_name(enum sbx_addr_group g)
{
	return (unsigned)g < SBX_GROUP_COUNT ? names[g] : NULL;
}

int sbx_group_from_name(const char *s)
{
	for (int g = 0; g < SBX_GROUP_COUNT; g++)
		if (names[g] && !strcmp(names[g], s))
			return g;
	return -1;
}

bool sbx_cidr_contains(const struct sbx_group_cidr *c, int family, const uint8_t addr[16],
		       unsigned len)
{
	unsigned bytes = c->prefix_len / 8, bits = c->prefix_len % 8;

	if (c->family != family || len < c->prefix_len)
		return false;
	if (memcmp(c->addr, addr, bytes))
		return false;
	if (bits) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));

		if ((c->addr[bytes] & mask) != (addr[bytes] & mask))
			return false;
	}
	return true;
}

enum sbx_addr_group sbx_addr_group(int family, const uint8_t addr[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	uint8_t a4[16] = { 0 };

	if (family == AF_INET6 && !memcmp(addr, mapped, sizeof(mapped))) {
		memcpy(a4, addr + 12, 4);
		family = AF_INET;
		addr = a4;
	}
	for (size_t i = 0; i < sbx_n_group_cidrs; i++)
		if (sbx_cidr_contains(&sbx_group_cidrs[i], family, addr,
				      family == AF_INET ? 32 : 128))
			return sbx_group_cidrs[i].group;
	return SBX_GROUP_PUBLIC;
}
