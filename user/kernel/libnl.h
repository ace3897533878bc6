/* SPDX-License-Identifier: MIT */
/*
 * libnl-route-3 (and libnl-3 under it), loaded at the first use (util.h,
 * sbx_dl_open) instead of with sbx: only a veth pair (network namespace
 * "private" with a network allowed) and its bandwidth rate need it, and
 * mapping it, relocating it and running its constructors cost every start
 * about 0.25 ms. netns.c and netrate.c call it through the table below
 * (libnl.rtnl_link_alloc(...)); the headers give each pointer its type.
 */
#ifndef SBX_LIBNL_H
#define SBX_LIBNL_H

#include <stddef.h>

#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/route.h>
#include <netlink/route/tc.h>
#include <netlink/socket.h>

#define SBX_LIBNL_FUNCS(X) \
	X(nl_addr_build) \
	X(nl_addr_put) \
	X(nl_addr_set_prefixlen) \
	X(nl_connect) \
	X(nl_geterror) \
	X(nl_socket_alloc) \
	X(nl_socket_free) \
	X(rtnl_addr_add) \
	X(rtnl_addr_alloc) \
	X(rtnl_addr_put) \
	X(rtnl_addr_set_family) \
	X(rtnl_addr_set_flags) \
	X(rtnl_addr_set_ifindex) \
	X(rtnl_addr_set_local) \
	X(rtnl_addr_set_prefixlen) \
	X(rtnl_link_add) \
	X(rtnl_link_alloc) \
	X(rtnl_link_change) \
	X(rtnl_link_delete) \
	X(rtnl_link_get_ifindex) \
	X(rtnl_link_get_kernel) \
	X(rtnl_link_put) \
	X(rtnl_link_set_flags) \
	X(rtnl_link_set_ifindex) \
	X(rtnl_link_set_name) \
	X(rtnl_link_set_ns_fd) \
	X(rtnl_link_veth_alloc) \
	X(rtnl_link_veth_get_peer) \
	X(rtnl_link_veth_release) \
	X(rtnl_qdisc_add) \
	X(rtnl_qdisc_alloc) \
	X(rtnl_qdisc_put) \
	X(rtnl_qdisc_tbf_set_limit) \
	X(rtnl_qdisc_tbf_set_rate) \
	X(rtnl_route_add) \
	X(rtnl_route_add_nexthop) \
	X(rtnl_route_alloc) \
	X(rtnl_route_nh_alloc) \
	X(rtnl_route_nh_free) \
	X(rtnl_route_nh_set_gateway) \
	X(rtnl_route_nh_set_ifindex) \
	X(rtnl_route_put) \
	X(rtnl_route_set_dst) \
	X(rtnl_route_set_family) \
	X(rtnl_route_set_protocol) \
	X(rtnl_route_set_scope) \
	X(rtnl_route_set_table) \
	X(rtnl_route_set_type) \
	X(rtnl_tc_set_handle) \
	X(rtnl_tc_set_ifindex) \
	X(rtnl_tc_set_kind) \
	X(rtnl_tc_set_parent)

struct sbx_libnl {
#define SBX_LIBNL_FIELD(f) typeof(f) *f;
	SBX_LIBNL_FUNCS(SBX_LIBNL_FIELD)
#undef SBX_LIBNL_FIELD
};

extern struct sbx_libnl libnl;

/* Loads the library and fills libnl once; 0, or a negative errno and why
 * (the library is missing or lacks a function) in why (may be NULL). */
int sbx_libnl_load(char *why, size_t len);

#endif
