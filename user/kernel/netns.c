/* SPDX-License-Identifier: MIT */
/*
 * Loopback and veth setup of private network namespaces (see netns.h and
 * docs/netns.md). The sandbox end is configured from a short-lived thread
 * that setns()es into the child's namespace: CLONE_NEWNET is per thread, so
 * the sbx process itself never leaves its own namespace.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include "kernel/netns.h"
#include "kernel/libnl.h"
#include "kernel/netrate.h"
#include "util/util.h"

#define SANDBOX_IF	"eth0"
#define POOL_SLOTS	16384u		/* /30s in 10.200.0.0/16 */

/* A parsed "ADDR/LEN". */
struct cidr {
	int family;			/* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned int prefix;
};

#define _cleanup_(f) __attribute__((cleanup(f)))

static void nl_sock_cleanup(struct nl_sock **p)
{
	if (*p)
		libnl.nl_socket_free(*p);
}

static void link_cleanup(struct rtnl_link **p)
{
	if (*p)
		libnl.rtnl_link_put(*p);
}

static void nladdr_cleanup(struct nl_addr **p)
{
	if (*p)
		libnl.nl_addr_put(*p);
}

static void fd_cleanup(int *p)
{
	if (*p >= 0)
		close(*p);
}

/* ---- in the child ------------------------------------------------------ */

int sbx_netns_loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, r = 0;

	/* AF_UNIX: sbx's sock_create hook refuses inet sockets in mode none,
	 * and device ioctls work on any socket */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		r = -errno;
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			r = -errno;
	}
	close(fd);
	return r;
}

/* ---- names and addresses --------------------------------------------- */

/* libnl reports its own codes (NLE_*); the API returns -errno. */
static int nlerr_errno(int nlerr)
{
	switch (abs(nlerr)) {
	case NLE_EXIST: return -EEXIST;
	case NLE_NODEV: return -ENODEV;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_INVAL: return -EINVAL;
	case NLE_RANGE: return -ERANGE;
	case NLE_PERM: return -EPERM;
	case NLE_NOACCESS: return -EACCES;
	case NLE_BUSY: return -EBUSY;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_NOADDR: return -EADDRNOTAVAIL;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
	default: return -EIO;
	}
}

/* "sbx-1a2b3c4d" (or "1a2b3c4d") -> "sbx1a2b3c4d" */
static int host_ifname(const char *id, char *buf, size_t len)
{
	if (!strncmp(id, "sbx-", 4))
		id += 4;
	if (strlen(id) != 8 || strspn(id, "0123456789abcdefABCDEF") != 8)
		return -EINVAL;
	snprintf(buf, len, "sbx%s", id);
	for (char *c = buf; *c; c++)
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c - 'A' + 'a');
	return 0;
}

static int cidr_parse(const char *s, struct cidr *ret)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	struct cidr c = {};
	char *end;
	unsigned long n;

	if (!slash || (size_t)(slash - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(slash - s));
	host[slash - s] = 0;
	if (inet_pton(AF_INET, host, c.addr) == 1)
		c.family = AF_INET;
	else if (inet_pton(AF_INET6, host, c.addr) == 1)
		c.family = AF_INET6;
	else
		return -EINVAL;
	if (!isdigit((unsigned char)slash[1]))
		return -EINVAL;
	errno = 0;
	n = strtoul(slash + 1, &end, 10);
	if (errno || *end || n > (c.family == AF_INET ? 32u : 128u))
		return -EINVAL;
	c.prefix = (unsigned int)n;
	*ret = c;
	return 0;
}

static size_t cidr_addrlen(const struct cidr *c)
{
	return c->family == AF_INET ? 4 : 16;
}

static void cidr_format(const struct cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(c->family, c->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, c->prefix);
}

/* Both ends must share one subnet, else the default route has no gateway. */
static bool cidr_same_subnet(const struct cidr *a, const struct cidr *b)
{
	unsigned int full = a->prefix / 8, rest = a->prefix % 8;

	if (a->family != b->family || a->prefix != b->prefix)
		return false;
	if (!memcmp(a->addr, b->addr, cidr_addrlen(a)))
		return false;
	if (memcmp(a->addr, b->addr, full))
		return false;
	return !rest || !((a->addr[full] ^ b->addr[full]) & (0xff00 >> rest));
}

/* Slot s: network 10.200.0.0 + 4s, host .1 and sandbox .2 of that /30. */
static int pool_cidrs(uint32_t slot, struct cidr *host, struct cidr *sandbox)
{
	uint32_t net = (10u << 24) | (200u << 16) | (slot * 4);

	if (slot >= POOL_SLOTS)
		return -ERANGE;
	for (int i = 0; i < 2; i++) {
		struct cidr *c = i ? sandbox : host;
		uint32_t a = htonl(net + 1 + (uint32_t)i);

		*c = (struct cidr){ .family = AF_INET, .prefix = 30 };
		memcpy(c->addr, &a, 4);
	}
	return 0;
}

static int plan_addresses(uint32_t slot, const struct sbx_profile *p, struct cidr *host,
			  struct cidr *sandbox, char *why, size_t len)
{
	const char *h = p ? p->net.veth_host : NULL, *s = p ? p->net.veth_sandbox : NULL;

	if (!h && !s) {
		if (pool_cidrs(slot, host, sandbox) < 0)
			return sbx_fail(why, len, -ERANGE,
					"slot %u is outside the veth address pool (0-%u)", slot,
					POOL_SLOTS - 1);
		return 0;
	}
	if (!h || !s)
		return sbx_fail(why, len, -EINVAL,
				"network.veth_host and network.veth_sandbox must be set together");
	if (cidr_parse(h, host) < 0 || cidr_parse(s, sandbox) < 0)
		return sbx_fail(why, len, -EINVAL,
				"veth addresses '%s', '%s': expected ADDRESS/PREFIX", h, s);
	if (!cidr_same_subnet(host, sandbox))
		return sbx_fail(why, len, -EINVAL,
				"veth addresses '%s' and '%s' are not two addresses of one subnet",
				h, s);
	return 0;
}

int sbx_veth_host_addr(uint32_t slot, const struct sbx_profile *p, struct in_addr *ret,
		       char *why, size_t len)
{
	struct cidr host, sandbox;
	int r = plan_addresses(slot, p, &host, &sandbox, why, len);

	if (r < 0)
		return r;
	if (host.family != AF_INET)
		return sbx_fail(why, len, -EAFNOSUPPORT, "the veth host end has no IPv4 address");
	memcpy(&ret->s_addr, host.addr, 4);
	return 0;
}

/* ---- netlink steps, usable in either namespace ------------------------- */

static int nl_open(struct nl_sock **ret)
{
	struct nl_sock *sk;
	int r;

	if (sbx_libnl_load(NULL, 0) < 0)
		return -NLE_FAILURE;
	sk = libnl.nl_socket_alloc();
	if (!sk)
		return -NLE_NOMEM;
	r = libnl.nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		libnl.nl_socket_free(sk);
		return r;
	}
	*ret = sk;
	return 0;
}

/* An nl_addr of c, with its prefix length, or a full-length one (a gateway). */
static struct nl_addr *cidr_nladdr(const struct cidr *c, bool full)
{
	struct nl_addr *a = libnl.nl_addr_build(c->family, c->addr, cidr_addrlen(c));

	if (a)
		libnl.nl_addr_set_prefixlen(a, full ? (int)cidr_addrlen(c) * 8 : (int)c->prefix);
	return a;
}

/* The pair, with the sandbox end created directly in the namespace of nsfd:
 * a host "eth0" must never see a transient twin. The sandbox end is the
 * link of the request and the host end its peer, because only the link's
 * own ifindex can be asked for (the peer is made in the caller's namespace). */
static int veth_add(struct nl_sock *sk, const char *host_if, int nsfd, uint32_t slot)
{
	struct rtnl_link *link = libnl.rtnl_link_veth_alloc(), *peer;
	int r;

	if (!link)
		return -NLE_NOMEM;
	peer = libnl.rtnl_link_veth_get_peer(link);
	libnl.rtnl_link_set_name(link, SANDBOX_IF);
	libnl.rtnl_link_set_ifindex(link, sbx_netrate_sandbox_ifindex(slot));
	libnl.rtnl_link_set_ns_fd(link, nsfd);
	libnl.rtnl_link_set_name(peer, host_if);
	r = libnl.rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	libnl.rtnl_link_put(peer);
	libnl.rtnl_link_veth_release(link);
	return r;
}

static int addr_add(struct nl_sock *sk, int ifindex, const struct cidr *c)
{
	_cleanup_(nladdr_cleanup) struct nl_addr *local = cidr_nladdr(c, false);
	struct rtnl_addr *a = libnl.rtnl_addr_alloc();
	int r = -NLE_NOMEM;

	if (local && a) {
		libnl.rtnl_addr_set_ifindex(a, ifindex);
		libnl.rtnl_addr_set_family(a, c->family);
		r = libnl.rtnl_addr_set_local(a, local);
		libnl.rtnl_addr_set_prefixlen(a, (int)c->prefix);
		/* usable at once: no duplicate address detection on a private link */
		if (c->family == AF_INET6)
			libnl.rtnl_addr_set_flags(a, IFA_F_NODAD);
		if (r == 0)
			r = libnl.rtnl_addr_add(sk, a, NLM_F_EXCL);
	}
	if (a)
		libnl.rtnl_addr_put(a);
	return r;
}

static int link_up(struct nl_sock *sk, struct rtnl_link *link)
{
	_cleanup_(link_cleanup) struct rtnl_link *change = libnl.rtnl_link_alloc();

	if (!change)
		return -NLE_NOMEM;
	libnl.rtnl_link_set_flags(change, IFF_UP);
	return libnl.rtnl_link_change(sk, link, change, 0);
}

/* Address, then up: the connected route appears with the link. */
static int link_configure(struct nl_sock *sk, const char *ifname, const struct cidr *c,
			  int *ret_ifindex, char *why, size_t len)
{
	_cleanup_(link_cleanup) struct rtnl_link *link = NULL;
	char text[64];
	int r;

	r = libnl.rtnl_link_get_kernel(sk, 0, ifname, &link);
	if (r < 0)
		return sbx_fail(why, len, r, "find %s: %s", ifname, libnl.nl_geterror(r));
	r = addr_add(sk, libnl.rtnl_link_get_ifindex(link), c);
	if (r < 0) {
		cidr_format(c, text, sizeof(text));
		return sbx_fail(why, len, r, "add address %s to %s: %s", text, ifname,
				libnl.nl_geterror(r));
	}
	r = link_up(sk, link);
	if (r < 0)
		return sbx_fail(why, len, r, "set %s up: %s", ifname, libnl.nl_geterror(r));
	if (ret_ifindex)
		*ret_ifindex = libnl.rtnl_link_get_ifindex(link);
	return 0;
}

static int route_add_default(struct nl_sock *sk, int ifindex, const struct cidr *gw)
{
	static const uint8_t any[16];
	_cleanup_(nladdr_cleanup) struct nl_addr *dst = libnl.nl_addr_build(gw->family, any,
								     cidr_addrlen(gw));
	_cleanup_(nladdr_cleanup) struct nl_addr *via = cidr_nladdr(gw, true);
	struct rtnl_route *route = libnl.rtnl_route_alloc();
	struct rtnl_nexthop *nh = libnl.rtnl_route_nh_alloc();
	int r = -NLE_NOMEM;

	if (dst && via && route && nh) {
		libnl.nl_addr_set_prefixlen(dst, 0);
		libnl.rtnl_route_set_family(route, (uint8_t)gw->family);
		libnl.rtnl_route_set_table(route, RT_TABLE_MAIN);
		libnl.rtnl_route_set_protocol(route, RTPROT_BOOT);
		libnl.rtnl_route_set_scope(route, RT_SCOPE_UNIVERSE);
		libnl.rtnl_route_set_type(route, RTN_UNICAST);
		r = libnl.rtnl_route_set_dst(route, dst);
		libnl.rtnl_route_nh_set_ifindex(nh, ifindex);
		libnl.rtnl_route_nh_set_gateway(nh, via);
		libnl.rtnl_route_add_nexthop(route, nh);
		nh = NULL;		/* owned by route */
		if (r == 0)
			r = libnl.rtnl_route_add(sk, route, NLM_F_EXCL);
	}
	if (nh)
		libnl.rtnl_route_nh_free(nh);
	if (route)
		libnl.rtnl_route_put(route);
	return r;
}

static int link_delete(struct nl_sock *sk, const char *ifname)
{
	_cleanup_(link_cleanup) struct rtnl_link *link = libnl.rtnl_link_alloc();
	int r;

	if (!link)
		return -NLE_NOMEM;
	libnl.rtnl_link_set_name(link, ifname);
	r = libnl.rtnl_link_delete(sk, link);
	return r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND ? 0 : r;
}

/* ---- the sandbox end, from inside the child's namespace ------------------ */

struct inside {
	int nsfd;
	const struct cidr *sandbox, *host;
	int r;				/* 0, -errno */
	char why[256];
};

static void *inside_main(void *arg)
{
	struct inside *in = arg;
	_cleanup_(nl_sock_cleanup) struct nl_sock *sk = NULL;
	int ifindex = 0, r;

	/* this thread only: it exits in the child's namespace */
	if (setns(in->nsfd, CLONE_NEWNET) < 0) {
		in->r = -errno;
		snprintf(in->why, sizeof(in->why), "setns: %s", strerror(errno));
		return NULL;
	}
	r = nl_open(&sk);
	if (r < 0) {
		in->r = nlerr_errno(r);
		snprintf(in->why, sizeof(in->why), "netlink socket: %s", libnl.nl_geterror(r));
		return NULL;
	}
	r = link_configure(sk, SANDBOX_IF, in->sandbox, &ifindex, in->why, sizeof(in->why));
	if (r == 0) {
		r = route_add_default(sk, ifindex, in->host);
		if (r < 0)
			snprintf(in->why, sizeof(in->why), "add default route: %s", libnl.nl_geterror(r));
	}
	in->r = r < 0 ? nlerr_errno(r) : 0;
	return NULL;
}

static int configure_inside(int nsfd, const struct cidr *sandbox, const struct cidr *host,
			    char *why, size_t len)
{
	struct inside in = { .nsfd = nsfd, .sandbox = sandbox, .host = host };
	sigset_t all, old;
	pthread_t t;
	int r;

	/* No signal handler of sbx may run in the sandbox's namespace. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&t, NULL, inside_main, &in);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return sbx_fail(why, len, -r, "thread for the sandbox namespace: %s", strerror(r));
	pthread_join(t, NULL);
	if (in.r < 0)
		return sbx_fail(why, len, in.r, "sandbox end: %s", in.why);
	return 0;
}

/* ---- API -------------------------------------------------------------- */

static int open_netns(pid_t child, int *ret_fd, char *why, size_t len)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)child);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sbx_fail(why, len, -errno, "open %s: %s", path, strerror(errno));
	*ret_fd = fd;
	return 0;
}

/* Steps after the plan; on failure the host end (and so the pair) is gone. */
static int veth_build(struct nl_sock *sk, struct sbx_veth *v, int nsfd, uint32_t slot,
		      const struct cidr *host, const struct cidr *sandbox, char *why, size_t len)
{
	const char *host_if = v->host_if;
	char step[256];
	int r;

	r = veth_add(sk, host_if, nsfd, slot);
	if (r < 0)
		return sbx_fail(why, len, nlerr_errno(r), "create veth %s/%s: %s", host_if,
				SANDBOX_IF, libnl.nl_geterror(r));
	r = link_configure(sk, host_if, host, &v->host_ifindex, step, sizeof(step));
	if (r < 0)
		r = sbx_fail(why, len, nlerr_errno(r), "host end: %s", step);
	else
		r = configure_inside(nsfd, sandbox, host, why, len);
	if (r < 0)
		link_delete(sk, host_if);
	return r;
}

int sbx_veth_create(struct sbx_veth *v, const char *id, uint32_t slot, pid_t child,
		    const struct sbx_profile *p, char *why, size_t len)
{
	_cleanup_(nl_sock_cleanup) struct nl_sock *sk = NULL;
	_cleanup_(fd_cleanup) int nsfd = -1;
	struct sbx_veth out = { .created = true };
	struct cidr host, sandbox;
	int r;

	if (!id || host_ifname(id, out.host_if, sizeof(out.host_if)) < 0)
		return sbx_fail(why, len, -EINVAL,
				"sandbox id '%s' is not \"sbx-\" and 8 hex digits", id ? id : "");
	r = plan_addresses(slot, p, &host, &sandbox, why, len);
	if (r < 0)
		return r;
	cidr_format(&host, out.host_cidr, sizeof(out.host_cidr));
	cidr_format(&sandbox, out.sandbox_cidr, sizeof(out.sandbox_cidr));
	r = sbx_libnl_load(why, len);
	if (r < 0)
		return r;
	r = open_netns(child, &nsfd, why, len);
	if (r < 0)
		return r;
	r = nl_open(&sk);
	if (r < 0)
		return sbx_fail(why, len, nlerr_errno(r), "netlink socket: %s", libnl.nl_geterror(r));
	r = veth_build(sk, &out, nsfd, slot, &host, &sandbox, why, len);
	if (r < 0)
		return r;
	*v = out;
	return 0;
}

struct ns_call {
	int nsfd;
	int (*fn)(void *arg, char *why, size_t len);
	void *arg;
	int r;
	char why[256];
};

static void *ns_call_main(void *arg)
{
	struct ns_call *c = arg;

	/* this thread only: it exits in the child's namespace */
	if (setns(c->nsfd, CLONE_NEWNET) < 0) {
		c->r = -errno;
		snprintf(c->why, sizeof(c->why), "setns: %s", strerror(errno));
		return NULL;
	}
	c->r = c->fn(c->arg, c->why, sizeof(c->why));
	return NULL;
}

int sbx_netns_call(pid_t child, int (*fn)(void *arg, char *why, size_t len), void *arg,
		   char *why, size_t len)
{
	_cleanup_(fd_cleanup) int nsfd = -1;
	struct ns_call c = { .fn = fn, .arg = arg };
	sigset_t all, old;
	pthread_t t;
	int r;

	r = open_netns(child, &nsfd, why, len);
	if (r < 0)
		return r;
	c.nsfd = nsfd;
	/* No signal handler of sbx may run in the sandbox's namespace. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&t, NULL, ns_call_main, &c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return sbx_fail(why, len, -r, "thread for the sandbox namespace: %s", strerror(r));
	pthread_join(t, NULL);
	if (c.r < 0)
		return sbx_fail(why, len, c.r, "%s", c.why);
	return 0;
}

void sbx_veth_destroy(struct sbx_veth *v)
{
	_cleanup_(nl_sock_cleanup) struct nl_sock *sk = NULL;

	if (!v || !v->created)
		return;
	if (nl_open(&sk) < 0)
		return;
	/* the peer goes with it; gone already when the namespace died first */
	if (link_delete(sk, v->host_if) == 0)
		v->created = false;
}
