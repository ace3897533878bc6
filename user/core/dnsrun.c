/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "core/dnsrun.h"
#include "kernel/features.h"
#include "kernel/landlock.h"
#include "util/util.h"

#define RESOLV_CONF "/etc/resolv.conf"

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool sbx_dnsrun_needed(const struct sbx_profile *p, bool observe)
{
	/* observe mode learns the names the workload asks for, whatever it
	 * may reach (docs/learn.md) */
	if (observe && p->net.mode != SBX_NET_FULL)
		return true;
	if (p->net.mode != SBX_NET_ALLOW && p->net.mode != SBX_NET_DENY)
		return false;
	for (size_t i = 0; i < p->net.n_entries; i++)
		if (p->net.entries[i].kind == SBX_NET_ENTRY_HOST ||
		    p->net.entries[i].kind == SBX_NET_ENTRY_WILDCARD)
			return true;
	return false;
}

/* ---- the profile's [network.dns] ------------------------------------------- */

static void sbx_dns_profile_settings(const struct sbx_profile *p, uint32_t *floor_s,
				     uint32_t *grace_s, bool *nxdomain)
{
	*floor_s = p->net.dns.ttl_floor_s;
	*grace_s = p->net.dns.grace_s;
	*nxdomain = p->net.dns.nxdomain;
}

static int sbx_dns_profile_upstreams(const struct sbx_profile *p, struct sockaddr_storage *ret,
				     socklen_t *ret_len, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < p->net.dns.n_upstream && n < max; i++, n++) {
		const struct sbx_dns_server *u = &p->net.dns.upstream[i];

		memset(&ret[n], 0, sizeof(ret[n]));
		if (u->family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ret[n];

			a->sin_family = AF_INET;
			a->sin_port = htons(u->port);
			memcpy(&a->sin_addr, u->addr, 4);
			ret_len[n] = sizeof(*a);
		} else {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ret[n];

			a->sin6_family = AF_INET6;
			a->sin6_port = htons(u->port);
			memcpy(&a->sin6_addr, u->addr, 16);
			ret_len[n] = sizeof(*a);
		}
	}
	return (int)n;
}

/* ---- pins ---------------------------------------------------------------- */

/* The resolver's addresses and ports in sbx_dns_ports (keyed as the hooks
 * judge a destination): other sandboxes may not reach them. */
static int ports_key(const struct sbx_dns_slot *w, int v6, struct sbx_dns_port_key *k)
{
	memset(k, 0, sizeof(*k));
	if (!v6) {
		k->family = 4;
		k->port = w->port4;
		memcpy(k->addr, &w->addr4, 4);
		return w->port4 ? 0 : -ENOENT;
	}
	k->family = 6;
	k->port = w->port6;
	memcpy(k->addr, w->addr6, 16);
	return w->port6 ? 0 : -ENOENT;
}

int sbx_dns_ports_set(int ports_fd, const struct sbx_dns_slot *w, uint32_t slot, bool add)
{
	struct sbx_dns_port_key k;
	int r = 0;

	for (int v6 = 0; v6 < 2; v6++) {
		if (ports_key(w, v6, &k) < 0)
			continue;
		if (add && bpf_map_update_elem(ports_fd, &k, &slot, BPF_ANY) < 0)
			r = -errno;
		if (!add)
			bpf_map_delete_elem(ports_fd, &k);
	}
	return r;
}

int sbx_dns_flush_pins(int pins_fd, uint32_t slot)
{
	struct sbx_pin_key k, next, *mine = NULL;
	size_t n = 0, cap = 0;
	int r = 0, gone = 0;
	void *prev = NULL;

	/* collect first: deleting while walking a hash restarts the walk */
	while (bpf_map_get_next_key(pins_fd, prev, &next) == 0) {
		if (next.slot == slot) {
			if (n == cap) {
				struct sbx_pin_key *m = realloc(mine, (cap ? 2 * cap : 64) * sizeof(*m));

				if (!m) {
					r = -ENOMEM;
					break;
				}
				mine = m;
				cap = cap ? 2 * cap : 64;
			}
			mine[n++] = next;
		}
		k = next;
		prev = &k;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(pins_fd, &mine[i]) == 0)
			gone++;
	free(mine);
	return r < 0 ? r : gone;
}

static void pin_key(struct sbx_pin_key *k, uint32_t slot, const struct sbx_dns_addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(k, 0, sizeof(*k));
	k->slot = slot;
	if (a->family == AF_INET) {
		k->family = 4;
		memcpy(k->addr, a->addr, 4);
	} else if (!memcmp(a->addr, mapped, sizeof(mapped))) {
		k->family = 4;
		memcpy(k->addr, a->addr + 12, 4);
	} else {
		k->family = 6;
		memcpy(k->addr, a->addr, 16);
	}
}

/* The addresses the resolver pinned, with the latest expiry it wrote for
 * each: only the resolver process writes pins of its slot (and the manager
 * the denied ones, which never expire, before it starts), so this list is
 * exact, and the sweep at the cap walks it instead of the map that all
 * sandboxes share (262144 entries: a walk per query at the cap would cost a
 * hostile workload nothing and its resolver a second of CPU). A restart
 * starts from a flush and an empty list. */
struct own_pin {
	struct sbx_pin_key k;
	uint64_t expires_ns;
};
static struct own_pin *own;
static size_t pinned;

static void own_forget_all(void)
{
	pinned = 0;
}

/* Drops the expired addresses of the list from the map and the list. */
static void sweep_expired(const struct sbx_dnsrun *d)
{
	uint64_t now = clock_ns(CLOCK_BOOTTIME);

	for (size_t i = 0; i < pinned;) {
		if (own[i].expires_ns > now) {
			i++;
			continue;
		}
		if (bpf_map_delete_elem(d->bpf->pins_fd, &own[i].k) < 0 && errno != ENOENT) {
			i++;
			continue;
		}
		own[i] = own[--pinned];
	}
}

static void own_note(const struct sbx_pin_key *k, uint64_t expires_ns, bool fresh)
{
	if (fresh) {
		own[pinned++] = (struct own_pin){ .k = *k, .expires_ns = expires_ns };
		return;
	}
	for (size_t i = 0; i < pinned; i++)
		if (!memcmp(&own[i].k, k, sizeof(*k))) {
			if (own[i].expires_ns < expires_ns)
				own[i].expires_ns = expires_ns;
			return;
		}
}

static int pin_cb(void *ctx, const struct sbx_dns_addr *a, const struct sbx_dns_rule *r,
		  uint64_t expires_ns)
{
	const struct sbx_dnsrun *d = ctx;
	uint64_t now = clock_ns(CLOCK_BOOTTIME);
	uint8_t verdict = r->deny ? SBX_VERDICT_DENY : SBX_VERDICT_ALLOW;
	struct sbx_pin_value v = { 0 };
	struct sbx_pin_key k;
	unsigned at = SBX_PIN_RULES;
	bool fresh;

	if (!own && !(own = calloc(SBX_DNSRUN_MAX_PINS, sizeof(*own))))
		return -ENOMEM;
	pin_key(&k, d->slot, a);
	fresh = bpf_map_lookup_elem(d->bpf->pins_fd, &k, &v) < 0;
	if (fresh) {
		if (pinned >= SBX_DNSRUN_MAX_PINS)
			sweep_expired(d);
		if (pinned >= SBX_DNSRUN_MAX_PINS)
			return -ENOSPC;
		memset(&v, 0, sizeof(v));
	}
	if (v.n > SBX_PIN_RULES)
		v.n = SBX_PIN_RULES;
	for (unsigned i = 0; i < v.n && at == SBX_PIN_RULES; i++)
		if (v.e[i].r.rule == r->rule && v.e[i].r.verdict == verdict)
			at = i;
	if (at < SBX_PIN_RULES) {
		if (v.e[at].expires_ns < expires_ns)
			v.e[at].expires_ns = expires_ns;
	} else {
		for (unsigned i = 0; i < v.n && at == SBX_PIN_RULES; i++)
			if (v.e[i].expires_ns <= now)
				at = i;
		if (at == SBX_PIN_RULES && v.n < SBX_PIN_RULES)
			at = v.n++;
		if (at == SBX_PIN_RULES)
			return -ENOSPC;	/* eight live names on one address already */
		v.e[at] = (struct sbx_pin_rule){ .r = { .port_lo = r->port_lo, .port_hi = r->port_hi,
							.proto = r->proto, .verdict = verdict,
							.rule = r->rule },
						 .expires_ns = expires_ns };
	}
	if (bpf_map_update_elem(d->bpf->pins_fd, &k, &v, BPF_ANY) < 0)
		return -errno;
	own_note(&k, expires_ns, fresh);
	return 0;
}

/* Whether an entry of the sandbox's current policy allows addr on some port:
 * the rebinding check lets a name point into a range the policy opened. */
static bool range_allowed_cb(void *ctx, int family, const uint8_t addr[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const struct sbx_dnsrun *d = ctx;
	struct sbx_net_value v;
	struct sbx_slot s;
	uint32_t slot = d->slot;
	int r;

	if (bpf_map_lookup_elem(d->bpf->slots_fd, &slot, &s) < 0)
		return false;
	if (family == AF_INET6 && !memcmp(addr, mapped, sizeof(mapped))) {
		family = AF_INET;
		addr += 12;
	}
	if (family == AF_INET) {
		struct sbx_net4_key k = { .prefixlen = 64, .policy_id = htonl(s.policy_id) };

		memcpy(k.addr, addr, 4);
		r = bpf_map_lookup_elem(d->bpf->net4_fd, &k, &v);
	} else {
		struct sbx_net6_key k = { .prefixlen = 160, .policy_id = htonl(s.policy_id) };

		memcpy(k.addr, addr, 16);
		r = bpf_map_lookup_elem(d->bpf->net6_fd, &k, &v);
	}
	if (r < 0)
		return false;
	for (unsigned i = 0; i < v.n && i < SBX_NET_VALUE_RULES; i++)
		if (v.r[i].verdict == SBX_VERDICT_ALLOW)
			return true;
	return false;
}

/* ---- events ---------------------------------------------------------------- */

static void emit(const struct sbx_dnsrun *d, uint16_t type, const void *body, size_t size)
{
	struct sbx_emit_ctx c = { .slot = d->slot, .type = type };

	memcpy(c.dns, body, size < sizeof(c.dns) ? size : sizeof(c.dns));
	sbx_bpf_emit(d->bpf, &c, NULL);
}

static void event_cb(void *ctx, const struct sbx_dns_event *ev)
{
	const struct sbx_dnsrun *d = ctx;
	struct sbx_ev_dns e = { 0 };
	uint16_t type = ev->verdict == SBX_DNSV_ALLOW ? SBX_EV_DNS_QUERY : SBX_EV_DNS_DENIED;

	/* an answered query is written at audit level "all" only: below it the
	 * emitter would drop it, after a system call per query */
	if (ev->verdict == SBX_DNSV_ALLOW && d->p->audit != SBX_AUDIT_ALL)
		return;

	e.verdict = ev->verdict == SBX_DNSV_ALLOW ? SBX_VERDICT_ALLOW :
		    ev->verdict == SBX_DNSV_WOULD_DENY ? 3 : SBX_VERDICT_DENY;
	e.reason = (uint8_t)ev->reason;
	e.rcode = ev->rcode;
	e.proto = ev->proto;
	e.qtype = ev->qtype;
	e.rule = ev->rule;
	snprintf(e.name, sizeof(e.name), "%s", ev->name ? ev->name : "");
	for (size_t i = 0; i < ev->n_addrs; i++) {
		struct sbx_pin_key k;

		if (i == SBX_DNS_EV_ADDRS) {
			e.more_addrs = 1;
			break;
		}
		pin_key(&k, 0, &ev->addrs[i]);
		e.addrs[i].family = k.family;
		e.addrs[i].ttl = ev->addrs[i].ttl;
		memcpy(e.addrs[i].addr, k.addr, 16);
		e.n_addrs = (uint8_t)(i + 1);
		if (ev->verdict == SBX_DNSV_ALLOW && ev->rule != SBX_RULE_DEFAULT) {
			uint32_t t = ev->addrs[i].ttl;

			if (t < d->ttl_floor_s)
				t = d->ttl_floor_s;
			if (t + d->grace_s > e.pin_s)
				e.pin_s = t + d->grace_s;
		}
	}
	emit(d, type, (const uint8_t *)&e + sizeof(e.hdr), sizeof(e) - sizeof(e.hdr));
}

static void emit_state(struct sbx_dnsrun *d, uint8_t state, int status, int flushed)
{
	struct sbx_ev_dns_resolver e = {
		.verdict = state == SBX_DNSS_STARTED || state == SBX_DNSS_RESTARTED ?
			   SBX_VERDICT_ALLOW : SBX_VERDICT_DENY,
		.state = state, .pid = (uint32_t)d->pid, .status = status,
		.pins_flushed = flushed > 0 ? (uint32_t)flushed : 0, .restarts = d->restarts,
	};

	emit(d, SBX_EV_DNS_RESOLVER, (const uint8_t *)&e + sizeof(e.hdr), sizeof(e) - sizeof(e.hdr));
}

/* ---- sockets --------------------------------------------------------------- */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int sock_for(int family, int type, bool freebind)
{
	int one = 1, fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if ((family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) ||
	    (freebind && setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) < 0)) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* A UDP and a TCP socket on one port of addr (the redirect names one port
 * for both): the kernel picks the UDP port; a TCP socket holding it already
 * makes another try. */
static int bind_pair(int family, const void *addr, bool freebind, int *udp, int *tcp,
		     uint16_t *ret_port)
{
	int r = -EADDRINUSE;

	for (int tries = 0; tries < 16 && r == -EADDRINUSE; tries++) {
		struct sockaddr_storage ss = { 0 };
		socklen_t sl = family == AF_INET ? sizeof(struct sockaddr_in) :
						   sizeof(struct sockaddr_in6);
		uint16_t port;

		ss.ss_family = (sa_family_t)family;
		if (family == AF_INET)
			memcpy(&((struct sockaddr_in *)&ss)->sin_addr, addr, 4);
		else
			memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, addr, 16);
		*udp = sock_for(family, SOCK_DGRAM, freebind);
		if (*udp < 0)
			return *udp;
		if (bind(*udp, (struct sockaddr *)&ss, sl) < 0 ||
		    getsockname(*udp, (struct sockaddr *)&ss, &sl) < 0) {
			r = -errno;
			close_fd(udp);
			return r;
		}
		port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
						 ((struct sockaddr_in6 *)&ss)->sin6_port);
		*tcp = sock_for(family, SOCK_STREAM, freebind);
		if (*tcp < 0) {
			r = *tcp;
			close_fd(udp);
			return r;
		}
		r = bind(*tcp, (struct sockaddr *)&ss, sl) < 0 ? -errno : 0;
		if (r == 0) {
			*ret_port = port;
			return 0;
		}
		close_fd(udp);
		close_fd(tcp);
	}
	return r;
}

static int open_sockets(struct sbx_dnsrun *d, const struct in_addr *listen4, char *why,
			size_t len)
{
	struct in_addr lo4 = { htonl(INADDR_LOOPBACK) };
	const struct in_addr *a4 = listen4 ? listen4 : &lo4;
	char a[INET_ADDRSTRLEN];
	int r;

	r = bind_pair(AF_INET, a4, listen4 != NULL, &d->udp_fd[0], &d->tcp_fd[0], &d->where.port4);
	if (r < 0)
		return sbx_fail(why, len, r, "bind the DNS resolver's sockets on %s: %s",
				inet_ntop(AF_INET, a4, a, sizeof(a)), strerror(-r));
	d->where.addr4 = a4->s_addr;
	/* IPv6 only where the workload shares the host's loopback; without it
	 * IPv6 port-53 destinations are refused (a dual-stack socket's
	 * ::ffff:a.b.c.d goes to the IPv4 socket) */
	if (!listen4 && bind_pair(AF_INET6, &in6addr_loopback, false, &d->udp_fd[1], &d->tcp_fd[1],
				  &d->where.port6) == 0)
		memcpy(d->where.addr6, &in6addr_loopback, 16);
	return 0;
}

/* ---- upstream servers and rules -------------------------------------------- */

static int plan_rules(struct sbx_dnsrun *d)
{
	const struct sbx_profile *p = d->p;

	d->rules = calloc(p->net.n_entries ? p->net.n_entries : 1, sizeof(*d->rules));
	if (!d->rules)
		return -ENOMEM;
	for (size_t i = 0; i < p->net.n_entries; i++) {
		const struct sbx_net_entry *e = &p->net.entries[i];

		if (e->kind != SBX_NET_ENTRY_HOST && e->kind != SBX_NET_ENTRY_WILDCARD)
			continue;
		d->rules[d->n_rules++] = (struct sbx_dns_rule){
			.pattern = e->host, .port_lo = e->port_lo, .port_hi = e->port_hi,
			.proto = e->proto, .deny = e->deny, .rule = (uint32_t)i };
	}
	return 0;
}

static int plan_upstream(struct sbx_dnsrun *d, char *why, size_t len)
{
	int n = sbx_dns_profile_upstreams(d->p, d->upstream, d->upstream_len, 4);

	if (n == 0)
		n = sbx_resolver_upstreams_from(RESOLV_CONF, d->upstream, d->upstream_len, 4);
	if (n < 0)
		return sbx_fail(why, len, n, "DNS upstream servers: %s: %s", RESOLV_CONF,
				strerror(-n));
	if (n == 0)
		return sbx_fail(why, len, -ENOENT, "no DNS upstream server: %s names no nameserver "
				"and the profile sets no [network.dns] upstream", RESOLV_CONF);
	d->n_upstream = (size_t)n;
	return 0;
}

/* ---- exact denied names ------------------------------------------------------ */

/* A query for name of type qtype in wire format into buf; its length, or 0
 * when the name does not fit. */
static size_t build_query(const char *name, uint16_t qtype, uint16_t id, uint8_t *buf,
			  size_t len)
{
	size_t o = 12;

	if (len < 12 + 256 + 4)
		return 0;
	memset(buf, 0, 12);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[2] = 0x01;		/* RD */
	buf[5] = 1;		/* QDCOUNT */
	for (const char *l = name; *l;) {
		const char *dot = strchr(l, '.');
		size_t n = dot ? (size_t)(dot - l) : strlen(l);

		if (n == 0 || n > 63 || o + 1 + n + 5 > 12 + 256)
			return 0;
		buf[o++] = (uint8_t)n;
		memcpy(buf + o, l, n);
		o += n;
		l += n + (dot ? 1 : 0);
	}
	buf[o++] = 0;
	buf[o++] = (uint8_t)(qtype >> 8);
	buf[o++] = (uint8_t)qtype;
	buf[o++] = 0;
	buf[o++] = 1;		/* IN */
	return o;
}

/* One answer to a UDP query from the first upstream server that gives one
 * within timeout_ms each. */
static int ask(const struct sbx_dnsrun *d, const uint8_t *q, size_t qlen,
	       struct sbx_dns_reply *ret, int timeout_ms)
{
	uint8_t buf[4096];
	char why[128];

	for (size_t i = 0; i < d->n_upstream; i++) {
		int fd = socket(d->upstream[i].ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (fd < 0)
			continue;
		if (connect(fd, (const struct sockaddr *)&d->upstream[i], d->upstream_len[i]) < 0 ||
		    send(fd, q, qlen, 0) < 0 || poll(&p, 1, timeout_ms) <= 0 ||
		    (n = recv(fd, buf, sizeof(buf), 0)) < 12 || memcmp(buf, q, 2) ||
		    sbx_dns_parse_reply(buf, (size_t)n, ret, why, sizeof(why)) < 0) {
			close(fd);
			continue;
		}
		close(fd);
		return 0;
	}
	return -ETIMEDOUT;
}

/* Keeps one address of an exact denied name, to pin it again after a flush. */
static void keep_denied(struct sbx_dnsrun *d, const struct sbx_dns_addr *a, const struct sbx_dns_rule *r)
{
	struct sbx_dnsrun_denied *m = realloc(d->denied, (d->n_denied + 1) * sizeof(*m));

	if (!m)
		return;	/* pinned now all the same; only a restart would lose it */
	d->denied = m;
	d->denied[d->n_denied++] = (struct sbx_dnsrun_denied){ .a = *a, .r = r };
}

/* After the flush of a resolver's death: the denied addresses are the whole
 * run's, not the dead resolver's, and come back at once (a workload that
 * crashed or outlasted its resolver must not reach them). */
static void repin_denied(struct sbx_dnsrun *d)
{
	own_forget_all();	/* the flush emptied the slot */
	for (size_t i = 0; i < d->n_denied; i++)
		pin_cb(d, &d->denied[i].a, d->denied[i].r, UINT64_MAX);
}

/* The addresses an exact denied name has now (A and AAAA, from the upstream
 * servers) are pinned as denied for the whole run, so that a workload that
 * knows them cannot connect by address; a name that does not resolve is
 * refused by the resolver all the same. */
static void pin_denied(struct sbx_dnsrun *d)
{
	static const uint16_t types[] = { SBX_DNS_T_A, SBX_DNS_T_AAAA };
	uint8_t q[512];

	for (size_t i = 0; i < d->n_rules; i++) {
		const struct sbx_dns_rule *r = &d->rules[i];

		if (!r->deny || r->pattern[0] == '*')
			continue;
		for (size_t t = 0; t < 2; t++) {
			struct sbx_dns_reply rep;
			uint16_t id = (uint16_t)(clock_ns(CLOCK_MONOTONIC) ^ (i << 4) ^ t);
			size_t qlen = build_query(r->pattern, types[t], id, q, sizeof(q));

			if (!qlen || ask(d, q, qlen, &rep, 1000) < 0 || rep.rcode)
				continue;
			for (size_t a = 0; a < rep.n_addrs; a++)
				if (pin_cb(d, &rep.addrs[a], r, UINT64_MAX) == 0)
					keep_denied(d, &rep.addrs[a], r);
		}
	}
}

/* ---- the resolver process -------------------------------------------------- */

/* The resolver reads packets a hostile workload writes: it keeps only what
 * it needs. Every capability but CAP_BPF goes (its map and program fds are
 * open already), with no_new_privs, and Landlock takes every file away: a
 * resolver taken over could not write the host's files (it stays uid 0 so
 * that no workload uid can signal it). */
#define CAP_BPF_BIT	39

static int drop_privileges(int landlock_abi)
{
	struct { uint32_t version; int pid; } h = { 0x20080522, 0 };	/* _LINUX_CAPABILITY_VERSION_3 */
	struct { uint32_t effective, permitted, inheritable; } caps[2] = { { 0 } };

	for (int c = 0; c < 64; c++)
		if (c != CAP_BPF_BIT && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (sbx_landlock_no_files(landlock_abi) < 0)
		return -errno;
	caps[CAP_BPF_BIT / 32].effective = caps[CAP_BPF_BIT / 32].permitted = 1u << (CAP_BPF_BIT % 32);
	return syscall(SYS_capset, &h, caps) < 0 ? -errno : 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* A fork of the manager holds every fd of it: the audit log, the result
 * file, the sandbox's cgroup, every BPF map. Landlock does not take away
 * what is open already, so the resolver closes all but what it uses; its
 * standard streams become /dev/null. Returns 0 or -errno. */
static int keep_only_own_fds(const struct sbx_dnsrun *d, int stop_rd)
{
	int keep[] = { d->udp_fd[0], d->udp_fd[1], d->tcp_fd[0], d->tcp_fd[1], stop_rd,
		       d->bpf->pins_fd, d->bpf->slots_fd, d->bpf->net4_fd, d->bpf->net6_fd,
		       d->bpf->emit_fd, 0, 1, 2 };
	size_t n = sizeof(keep) / sizeof(keep[0]);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	unsigned next = 0;

	if (null < 0)
		return -errno;
	for (int i = 0; i < 3; i++)
		if (dup2(null, i) < 0)
			return -errno;
	qsort(keep, n, sizeof(keep[0]), cmp_int);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 0 || (unsigned)keep[i] < next)
			continue;
		if ((unsigned)keep[i] > next && close_range(next, (unsigned)keep[i] - 1, 0) < 0)
			return -errno;
		next = (unsigned)keep[i] + 1;
	}
	return close_range(next, ~0u, 0) < 0 ? -errno : 0;
}

static __attribute__((noreturn)) void resolver_main(struct sbx_dnsrun *d, int stop_rd)
{
	struct sbx_resolver_cfg cfg = {
		.udp_fd = { d->udp_fd[0], d->udp_fd[1] }, .tcp_fd = { d->tcp_fd[0], d->tcp_fd[1] },
		.n_upstream = d->n_upstream, .rules = d->rules, .n_rules = d->n_rules,
		.allow_mode = d->p->net.mode != SBX_NET_DENY, .nxdomain = d->nxdomain,
		.observe = d->observe, .ttl_floor_s = d->ttl_floor_s, .grace_s = d->grace_s,
		.timeout_ms = 2000, .pin = pin_cb, .range_allowed = range_allowed_cb,
		.event = event_cb, .ctx = d, .stop_fd = stop_rd,
	};
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "sbx-dns");
	if (keep_only_own_fds(d, stop_rd) < 0 || drop_privileges(d->landlock_abi) < 0)
		_exit(2);
	memcpy(cfg.upstream, d->upstream, sizeof(cfg.upstream));
	memcpy(cfg.upstream_len, d->upstream_len, sizeof(cfg.upstream_len));
	own_forget_all();
	_exit(sbx_resolver_run(&cfg) < 0 ? 1 : 0);
}

static int spawn(struct sbx_dnsrun *d, char *why, size_t len)
{
	int pipefd[2], r;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return sbx_fail(why, len, -errno, "DNS resolver: pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return sbx_fail(why, len, r, "DNS resolver: fork: %s", strerror(-r));
	}
	if (pid == 0) {
		close(pipefd[1]);
		if (getppid() == 1)
			_exit(1);
		resolver_main(d, pipefd[0]);
	}
	close(pipefd[0]);
	d->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (d->pidfd < 0) {
		r = -errno;
		close(pipefd[1]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return sbx_fail(why, len, r, "DNS resolver: pidfd_open: %s", strerror(-r));
	}
	d->pid = pid;
	d->stop_wr = pipefd[1];
	return 0;
}

int sbx_dnsrun_start(struct sbx_dnsrun *d, const struct sbx_bpf *b, uint32_t slot,
		     const struct sbx_profile *p, const struct in_addr *listen4, bool observe,
		     char *why, size_t len)
{
	uint32_t key = slot;
	int r;

	*d = (struct sbx_dnsrun){ .bpf = b, .p = p, .slot = slot, .observe = observe,
				  .udp_fd = { -1, -1 }, .tcp_fd = { -1, -1 }, .pidfd = -1,
				  .stop_wr = -1 };
	sbx_dns_profile_settings(p, &d->ttl_floor_s, &d->grace_s, &d->nxdomain);
	d->landlock_abi = sbx_landlock_abi();
	r = plan_rules(d);
	if (r < 0)
		return sbx_fail(why, len, r, "DNS resolver: %s", strerror(-r));
	r = plan_upstream(d, why, len);
	if (r == 0)
		r = open_sockets(d, listen4, why, len);
	if (r < 0) {
		sbx_dnsrun_stop(d);
		return r;
	}
	r = sbx_dns_flush_pins(b->pins_fd, slot);
	d->where.flags = SBX_DNSF_REDIRECT | SBX_DNSF_PINS |
			 (observe && !sbx_dnsrun_needed(p, false) ? SBX_DNSF_OBSERVED : 0);
	if (r >= 0)
		r = sbx_dns_ports_set(b->dns_ports_fd, &d->where, slot, true);
	if (r >= 0 && bpf_map_update_elem(b->dns_fd, &key, &d->where, BPF_ANY) < 0)
		r = -errno;
	if (r < 0) {
		sbx_dnsrun_stop(d);
		return sbx_fail(why, len, r, "DNS resolver: sbx_dns/sbx_pins: %s", strerror(-r));
	}
	d->active = true;
	pin_denied(d);
	r = spawn(d, why, len);
	if (r < 0) {
		sbx_dnsrun_stop(d);
		return r;
	}
	return 0;
}

int sbx_dnsrun_fd(const struct sbx_dnsrun *d)
{
	return d->pidfd;
}

static void reap(struct sbx_dnsrun *d, int *ret_status)
{
	int status = 0;

	if (d->pid > 0)
		while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
			;
	close_fd(&d->pidfd);
	close_fd(&d->stop_wr);
	if (ret_status)
		*ret_status = status;
}

/* No resolver any more: the sockets close, and port-53 destinations are
 * refused (a port of 0 in sbx_dns) rather than sent to the old port, which
 * any process could bind once it is free and read the queries from. */
static void give_up(struct sbx_dnsrun *d)
{
	uint32_t key = d->slot;

	d->gave_up = true;
	d->pid = 0;
	d->where.port4 = 0;
	d->where.port6 = 0;
	/* the map cannot say so: the sockets stay bound, so that the port stays
	 * ours (queries then time out instead of being refused) */
	if (bpf_map_update_elem(d->bpf->dns_fd, &key, &d->where, BPF_ANY) < 0)
		return;
	for (int i = 0; i < 2; i++) {
		close_fd(&d->udp_fd[i]);
		close_fd(&d->tcp_fd[i]);
	}
}

void sbx_dnsrun_reap(struct sbx_dnsrun *d)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	char why[256];
	int status, flushed;

	if (d->pidfd < 0)
		return;
	reap(d, &status);
	/* its pins go at once: until it answers again, names are refused */
	flushed = sbx_dns_flush_pins(d->bpf->pins_fd, d->slot);
	repin_denied(d);
	if (!d->window_start_ns || now - d->window_start_ns > SBX_DNSRUN_WINDOW_S * 1000000000ull) {
		d->window_start_ns = now;
		d->window_restarts = 0;
	}
	if (d->window_restarts >= SBX_DNSRUN_RESTARTS) {
		emit_state(d, SBX_DNSS_GAVE_UP, status, flushed);
		give_up(d);
		return;
	}
	emit_state(d, SBX_DNSS_DIED, status, flushed);
	d->window_restarts++;
	d->restarts++;
	if (spawn(d, why, sizeof(why)) < 0) {
		emit_state(d, SBX_DNSS_GAVE_UP, 0, 0);
		give_up(d);
		return;
	}
	emit_state(d, SBX_DNSS_RESTARTED, 0, 0);
}

void sbx_dnsrun_stop(struct sbx_dnsrun *d)
{
	uint32_t key = d->slot;

	if (d->pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, d->pidfd, SIGKILL, NULL, 0);
		reap(d, NULL);
	}
	d->pid = 0;
	if (d->where.port4 || d->where.port6)
		sbx_dns_ports_set(d->bpf->dns_ports_fd, &d->where, d->slot, false);
	if (d->active) {
		struct sbx_dns_slot off = { 0 };

		bpf_map_update_elem(d->bpf->dns_fd, &key, &off, BPF_ANY);
		sbx_dns_flush_pins(d->bpf->pins_fd, d->slot);
		d->active = false;
	}
	for (int i = 0; i < 2; i++) {
		close_fd(&d->udp_fd[i]);
		close_fd(&d->tcp_fd[i]);
	}
	close_fd(&d->stop_wr);
	free(d->rules);
	d->rules = NULL;
	d->n_rules = 0;
	free(d->denied);
	d->denied = NULL;
	d->n_denied = 0;
}

/* the engine's reasons are the ABI's, copied as they are into the events */
_Static_assert((int)SBX_DNSR_NONE == (int)SBX_DNS_REASON_NONE &&
	       (int)SBX_DNSR_DENY_RULE == (int)SBX_DNS_REASON_DENY_RULE &&
	       (int)SBX_DNSR_NO_ALLOW_RULE == (int)SBX_DNS_REASON_NO_ALLOW_RULE &&
	       (int)SBX_DNSR_REBINDING == (int)SBX_DNS_REASON_REBINDING &&
	       (int)SBX_DNSR_BAD_QUERY == (int)SBX_DNS_REASON_BAD_QUERY &&
	       (int)SBX_DNSR_UPSTREAM == (int)SBX_DNS_REASON_UPSTREAM &&
	       (int)SBX_DNSR_PIN_FAILED == (int)SBX_DNS_REASON_PIN_FAILED,
	       "dns/resolver.h reasons are the ABI's");
