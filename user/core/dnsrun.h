/* SPDX-License-Identifier: MIT */
/*
 * The DNS resolver of one sandbox (docs/network.md): the sockets it answers
 * on, the sbx_dns entry that sends the workload's port-53 destinations to
 * them, and the resolver process (dns/resolver.h) that refuses names the
 * policy does not allow and pins the answers of those it allows in sbx_pins
 * before it replies. The process is a child of the sandbox's manager (sbx run,
 * or sbxd's monitor), which watches it: when it dies, the slot's pins are
 * flushed at once (connects to names are refused until it answers again), a
 * dns.resolver event says so, and it is started again, at most
 * SBX_DNSRUN_RESTARTS times in SBX_DNSRUN_WINDOW_S seconds; after that names
 * stay refused for the rest of the run (fail closed).
 */
#ifndef SBX_DNSRUN_H
#define SBX_DNSRUN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/bpfload.h"
#include "dns/resolver.h"
#include "policy.h"

#define SBX_DNSRUN_RESTARTS	5
#define SBX_DNSRUN_WINDOW_S	10
#define SBX_DNSRUN_MAX_PINS	4096	/* addresses pinned per sandbox */

struct sbx_dnsrun {
	const struct sbx_bpf *bpf;
	const struct sbx_profile *p;
	uint32_t slot;
	bool observe;
	bool nxdomain;			/* [network.dns] refuse = "nxdomain" */
	uint32_t ttl_floor_s, grace_s;	/* [network.dns] ttl_floor, grace */
	int landlock_abi;		/* the resolver takes every file away from itself */
	int udp_fd[2], tcp_fd[2];	/* IPv4, IPv6; -1 = none */
	struct sbx_dns_slot where;	/* what sbx_dns holds for the slot */
	struct sbx_dns_rule *rules;
	size_t n_rules;
	struct sbx_dnsrun_denied {	/* the addresses of exact denied names, looked up at start */
		struct sbx_dns_addr a;
		const struct sbx_dns_rule *r;
	} *denied;
	size_t n_denied;
	struct sockaddr_storage upstream[4];
	socklen_t upstream_len[4];
	size_t n_upstream;
	pid_t pid;			/* the resolver; 0 = not running */
	int pidfd;			/* -1 = not running */
	int stop_wr;			/* closing it stops the resolver */
	unsigned restarts;
	uint64_t window_start_ns;	/* CLOCK_MONOTONIC of the first restart counted */
	unsigned window_restarts;
	bool gave_up;
	bool active;			/* sbx_dns is written for the slot */
};

/* Whether p needs a resolver: network mode allow or deny with a host-name
 * entry (exact or wildcard); under observe, any mode but full. */
bool sbx_dnsrun_needed(const struct sbx_profile *p, bool observe);

/*
 * Binds the resolver's sockets (on listen4, the veth host end of a sandbox in
 * its own network namespace; NULL = 127.0.0.1 and ::1, for one in the host's),
 * reads the upstream servers (the profile's [network.dns] upstream, or
 * resolv.conf), flushes any pins left for the slot, writes sbx_dns and starts
 * the resolver. Returns 0 or -errno with why set; on failure nothing is left.
 */
int sbx_dnsrun_start(struct sbx_dnsrun *d, const struct sbx_bpf *b, uint32_t slot,
		     const struct sbx_profile *p, const struct in_addr *listen4, bool observe,
		     char *why, size_t len);

/* The resolver's pidfd for poll (readable when it died); -1 when none runs. */
int sbx_dnsrun_fd(const struct sbx_dnsrun *d);

/* After sbx_dnsrun_fd() was readable: reaps the resolver, flushes the slot's
 * pins, reports it, and starts it again unless it died too often. */
void sbx_dnsrun_reap(struct sbx_dnsrun *d);

/* Stops the resolver, removes the slot's sbx_dns entry and pins, closes the
 * sockets. Idempotent; a zeroed struct with fds -1 is fine. */
void sbx_dnsrun_stop(struct sbx_dnsrun *d);

/* Adds (or removes) the resolver's addresses and ports w to sbx_dns_ports
 * for slot. Returns 0 or -errno. */
int sbx_dns_ports_set(int ports_fd, const struct sbx_dns_slot *w, uint32_t slot, bool add);

/* Removes every pin of slot; returns how many, or -errno. */
int sbx_dns_flush_pins(int pins_fd, uint32_t slot);

#endif
