/* SPDX-License-Identifier: MIT */
/*
 * Address groups: the named address ranges a network entry may use
 * ("private", "loopback", "link-local", "metadata", "public") and the
 * classification of one address into them, which sbx's DNS resolver uses to
 * refuse answers that point a name into a non-public range (DNS rebinding).
 * One table (netgroup.c) serves both, so the two cannot disagree.
 */
#ifndef SBX_NETGROUP_H
#define SBX_NETGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sbx_addr_group {
	SBX_GROUP_PUBLIC = 0,	/* none of the ranges below */
	SBX_GROUP_PRIVATE,	/* RFC 1918, shared address space (RFC 6598), IPv6 ULA */
	SBX_GROUP_LOOPBACK,	/* 127.0.0.0/8, ::1 */
	SBX_GROUP_LINK_LOCAL,	/* 169.254.0.0/16, fe80::/10 */
	SBX_GROUP_METADATA,	/* 169.254.169.254, fd00:ec2::254: cloud instance metadata */
	SBX_GROUP_SPECIAL,	/* this network, multicast, reserved: never public, no name */
	SBX_GROUP_COUNT
};

struct sbx_group_cidr {
	enum sbx_addr_group group;
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t prefix_len;
	uint8_t addr[16];	/* network byte order; IPv4 in the first 4 bytes */
};

/* The ranges of every group but public, most specific first within a family. */
extern const struct sbx_group_cidr sbx_group_cidrs[];
extern const size_t sbx_n_group_cidrs;

/* "private", "loopback", "link-local", "metadata", "public"; NULL for SPECIAL. */
const char *sbx_group_name(enum sbx_addr_group g);

/* The group named s (exact, lower case), or -1. */
int sbx_group_from_name(const char *s);

/* The most specific group holding addr (metadata before link-local and
 * private); an IPv4-mapped IPv6 address is classified as its IPv4 address. */
enum sbx_addr_group sbx_addr_group(int family, const uint8_t addr[16]);

/* Whether the prefix addr/len lies inside the cidr c. */
bool sbx_cidr_contains(const struct sbx_group_cidr *c, int family, const uint8_t addr[16],
		       unsigned len);

#endif
