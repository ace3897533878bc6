/* SPDX-License-Identifier: MIT */
/*
 * sbx's per-sandbox DNS resolver: the engine behind the sockets that the
 * sandbox's cgroup hooks redirect every port-53 destination to. It decides
 * each query by its name against the network policy's host-name rules,
 * forwards the allowed ones to the upstream servers and pins the addresses
 * of their answers (pin()) before the client sees them, so that the
 * client's first connect() already finds its address allowed.
 *
 * The decision for a query name:
 *  - the matching rule with the highest sbx_dns_name_match() wins; on a tie
 *    a deny rule wins;
 *  - a deny rule: refused (REFUSED, or NXDOMAIN with cfg->nxdomain), never
 *    forwarded; event DENY / DENY_RULE;
 *  - no rule: in allow mode refused the same way (DENY / NO_ALLOW_RULE); in
 *    deny mode forwarded, nothing pinned, event ALLOW / NONE, rule 0xffffffff;
 *  - an allow rule: forwarded, whatever its type (A, AAAA, TXT, MX, HTTPS,
 *    ...). Every A/AAAA record of class IN in the answer section (CNAME
 *    chains are trusted: the queried name decides) is checked, then pinned
 *    with that rule, expiring at CLOCK_BOOTTIME now + max(record TTL,
 *    ttl_floor_s) + grace_s; then the reply goes to the client; then event
 *    ALLOW / NONE with the addresses.
 *  - an address outside the public group (policy/netgroup.h) that
 *    range_allowed() does not allow refuses the whole answer (DNS
 *    rebinding): DENY / REBINDING with that address, nothing pinned.
 *  - pin() failing (e.g. -ENOSPC: the pin map is full): the client gets
 *    SERVFAIL, event DENY / PIN_FAILED with the addresses.
 *  - no usable answer within 5 s (every try timed out; answers that do not
 *    parse or do not match are dropped like spoofed ones), or no room for
 *    one more pending query: the client gets SERVFAIL, event ALLOW /
 *    UPSTREAM (the policy allowed the name; the failure is upstream's; in
 *    observe mode WOULD_DENY when the name would have been refused).
 *  - a message that is not a well-formed query (parse_query's rules,
 *    dnsmsg.h): a header-only REFUSED reply when it has a header and QR is
 *    clear, else nothing; event DENY / BAD_QUERY with name "". Bad queries
 *    are refused in observe mode too: they are not host-name lookups.
 * With cfg->observe nothing is refused for policy reasons: denied names and
 *    rebinding answers are forwarded and passed on, and reported with
 *    verdict WOULD_DENY and the reason (pins still made for allow rules,
 *    also for a rebinding answer; a failed pin passes the answer on too).
 * The rcode of an event is what the client got; upstream's own rcodes
 *    (NXDOMAIN, SERVFAIL...) are passed on unchanged with ALLOW / NONE.
 *
 * Transport: UDP and TCP listeners; TCP uses RFC 1035's 2-byte length
 * framing, with pipelined queries on one connection, answered in the order
 * their answers come. A UDP query goes upstream over UDP, a TCP query over
 * TCP (one upstream connection per query). A reply with TC set is passed on
 * after what it holds is pinned; the client retries over TCP.
 * Upstream: each forwarded query gets a fresh random 16-bit id (getrandom);
 * an answer counts only if it comes from the upstream asked (the UDP
 * socket is connected to it and the source is checked again), carries that
 * id and the very question sent; anything else is dropped. The client's id
 * is restored. A try that gets no answer in timeout_ms moves to the next
 * upstream (round robin) with a fresh id; a try whose send or connect fails,
 * or whose TCP answer is wrong, moves on after 100 ms. The whole query gives
 * up after 5 s. A late answer to an earlier try is dropped.
 *
 * Limits: at most 256 pending UDP queries (a new one beyond that makes the
 * oldest get SERVFAIL); at most 64 TCP clients (a new connection beyond that
 * is closed at once) with at most 16 queries each in flight upstream (the
 * engine reads no more from that client until one is answered); at most 16
 * TCP connections to the upstream servers at once (a TCP query beyond that
 * waits for one, within its 5 s: the host's resolver serves every sandbox);
 * a TCP client with nothing in flight that sends no whole query and takes
 * no reply for 10 s is closed, and so is one that leaves more than 256 KiB of replies
 * unread; a client that shuts its sending side still gets the answers to
 * what it sent; messages of at most 64 KiB; at most SBX_DNS_MAX_ADDRS (32)
 * addresses of one answer are pinned (the rest are passed on unpinned, and
 * the event lists the 32). Every socket is non-blocking: a client never
 * stalls the loop.
 */
#ifndef SBX_DNS_RESOLVER_H
#define SBX_DNS_RESOLVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns/dnsmsg.h"

#define SBX_DNS_NO_RULE 0xffffffffu
#define SBX_DNS_MAX_UPSTREAMS 4
#define SBX_DNS_MAX_PENDING_UDP 256
#define SBX_DNS_MAX_TCP_CLIENTS 64
#define SBX_DNS_TCP_IDLE_MS 10000
#define SBX_DNS_QUERY_TIMEOUT_MS 5000
#define SBX_DNS_TRY_TIMEOUT_MS 2000

struct sbx_dns_rule {
	const char *pattern;	/* sbx_dns_name_match()'s pattern */
	uint16_t port_lo, port_hi;
	uint8_t proto;		/* 0 any, 6, 17 */
	bool deny;
	uint32_t rule;		/* index in the profile's network list */
};

enum sbx_dns_verdict { SBX_DNSV_ALLOW = 1, SBX_DNSV_DENY = 2, SBX_DNSV_WOULD_DENY = 3 };
enum sbx_dns_reason {
	SBX_DNSR_NONE = 0,
	SBX_DNSR_DENY_RULE,
	SBX_DNSR_NO_ALLOW_RULE,
	SBX_DNSR_REBINDING,
	SBX_DNSR_BAD_QUERY,
	SBX_DNSR_UPSTREAM,
	SBX_DNSR_PIN_FAILED,
};

struct sbx_dns_event {
	enum sbx_dns_verdict verdict;
	enum sbx_dns_reason reason;
	const char *name;
	uint16_t qtype;
	uint8_t proto;		/* 6 or 17: how the client asked */
	uint32_t rule;		/* the rule that decided, or SBX_DNS_NO_RULE */
	uint8_t rcode;		/* what the client got */
	size_t n_addrs;
	const struct sbx_dns_addr *addrs; /* answer addresses (allow) or the offending one (rebinding) */
	const struct sockaddr_storage *client;
};

struct sbx_resolver_cfg {
	int udp_fd[2], tcp_fd[2];	/* bound sockets made by the caller (IPv4 and IPv6; -1 = none);
					 * the engine makes them non-blocking and calls listen() on tcp */
	struct sockaddr_storage upstream[SBX_DNS_MAX_UPSTREAMS];
	socklen_t upstream_len[SBX_DNS_MAX_UPSTREAMS];
	size_t n_upstream;
	const struct sbx_dns_rule *rules;
	size_t n_rules;
	bool allow_mode;	/* network mode allow: a name no allow rule matches is refused;
				 * deny mode: only deny rules refuse */
	bool nxdomain;		/* answer refusals with NXDOMAIN instead of REFUSED */
	bool observe;		/* learning mode: refuse nothing, report SBX_DNSV_WOULD_DENY instead,
				 * still pin allowed answers */
	uint32_t ttl_floor_s, grace_s;	/* pin lifetime = max(ttl, floor) + grace */
	uint32_t timeout_ms;	/* per upstream try; 0 = 2000; the whole query 5000 */
	/* returns 0, or -errno (e.g. -ENOSPC: pin map full -> SERVFAIL and PIN_FAILED) */
	int (*pin)(void *ctx, const struct sbx_dns_addr *a, const struct sbx_dns_rule *r,
		   uint64_t expires_boottime_ns);
	/* whether a policy rule allows this non-public address (NULL: none does) */
	bool (*range_allowed)(void *ctx, int family, const uint8_t addr[16]);
	void (*event)(void *ctx, const struct sbx_dns_event *ev);	/* may be NULL */
	void *ctx;
	int stop_fd;		/* readable = return from the loop (-1 = none) */
};

/* Runs until stop_fd is readable or a fatal error; returns 0 or -errno
 * (-EINVAL: no listening socket, no upstream, or more than 4).
 * Single-threaded, epoll, non-blocking everywhere. The caller's fds are
 * left open; everything the engine opened is closed on return. */
int sbx_resolver_run(const struct sbx_resolver_cfg *cfg);

/* The first nameservers of resolv.conf at path (IPv4/IPv6, port 53; an
 * IPv6 zone "%eth0" is honoured), for the default upstream. Returns how
 * many (at most max, possibly 0), or -errno when the file cannot be read. */
int sbx_resolver_upstreams_from(const char *resolv_conf, struct sockaddr_storage *ret, socklen_t *ret_len,
				size_t max);

#endif
