/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel <-> user ABI of sbx: map keys and values, and the audit events
 * written to the ring buffers. This header is a contract with consumers that
 * sbx does not ship (see docs/audit.md):
 *   - enum values are explicit and never renumbered; new ones are appended;
 *   - structs only grow at the end; every event starts with sbx_event_hdr and
 *     hdr.size gives the full size, so old readers can skip what they do not know;
 *   - all fields are fixed width, in host byte order except where a comment
 *     says network byte order (addresses, and policy ids inside LPM keys).
 *
 * Worked example: a sandbox whose policy (id 7) allows 192.0.2.0/24:443/tcp.
 * User space stores key {prefixlen = 32 + 24, policy_id = 7, addr = 192.0.2.0}
 * in sbx_net4 with value {n = 1, r[0] = {443, 443, TCP, ALLOW, rule 0}}.
 * connect(192.0.2.9:443) from the sandbox looks up {32 + 32, 7, 192.0.2.9},
 * finds that entry, r[0] matches, the connect proceeds and, with audit level
 * "all", one SBX_EV_NET_CONNECT event with verdict ALLOW and rule 0 is emitted.
 */
#ifndef SBX_ABI_H
#define SBX_ABI_H

#ifdef __BPF__
/* vmlinux.h provides the __u* types */
#else
#include <linux/types.h>
#endif

#include "sbx_limits.h"

#define SBX_ABI_VERSION		11

/* Rules kept in one LPM value: the entries of that prefix plus those of every
 * shorter prefix that covers it, most specific first. */
#define SBX_NET_VALUE_RULES	16
#define SBX_RULE_DEFAULT	0xffffffffu	/* decision came from the mode default */
#define SBX_RULE_NONE		0xfffffffeu	/* no rule involved (e.g. quota) */
#define SBX_RULE_BASE		0xfffffffdu	/* fs: the base view of fs mode none */
#define SBX_RULE_EXEC_GUARD	0xfffffffcu	/* fs: killed by the exec guard of a Landlock
						 * sandbox (memfd, ELF interpreter run as a
						 * program), a file Landlock allowed */
#define SBX_RULE_UNJUDGED	0xfffffffbu	/* net: the egress safety net cannot judge
						 * the packet (a protocol with ports other
						 * than TCP/UDP/UDP-Lite, or headers it cannot
						 * parse) and drops it */
#define SBX_RULE_DNS		0xfffffffau	/* net: a port-53 destination sent to the
						 * sandbox's own resolver (docs/network.md) */

enum sbx_verdict {
	SBX_VERDICT_ALLOW = 1,
	SBX_VERDICT_DENY = 2,
	SBX_VERDICT_WOULD_DENY = 3,	/* observe mode (SBX_POLF_OBSERVE): the policy
					 * refuses this, but it was let through */
};

enum sbx_net_mode_abi {
	SBX_NETM_NONE = 0,
	SBX_NETM_ALLOW = 1,
	SBX_NETM_DENY = 2,
	SBX_NETM_FULL = 3,
};

enum sbx_audit_abi {
	SBX_AUDITL_DENY = 0,	/* emit denials only */
	SBX_AUDITL_ALL = 1,	/* emit every decision */
	SBX_AUDITL_NONE = 2,	/* emit nothing from BPF */
};

/* sbx_policy_cfg.flags */
#define SBX_POLF_RAW_SOCKETS	0x1u	/* raw and packet sockets allowed */
#define SBX_POLF_NETNS_PRIVATE	0x2u	/* mode none in a private network namespace
					 * holding only loopback: nothing can leave,
					 * so loopback use inside it is not refused */
#define SBX_POLF_UNIX_ANY	0x4u	/* network.unix = ["*"]: every unix address */
#define SBX_POLF_OWN_NETNS	0x8u	/* a network namespace of its own (any mode):
					 * abstract unix addresses stay inside it */
#define SBX_POLF_OBSERVE	0x10u	/* observe mode (sbx run --observe): nothing is
					 * refused; every refusal is reported with
					 * SBX_VERDICT_WOULD_DENY and let through */

/* sbx_slot.flags */
#define SBX_SLOTF_ACTIVE	0x1u
#define SBX_SLOTF_UPDATED	0x2u	/* a live update (core/update.h) flipped policy_id:
					 * the entries of both ids are the updater's, not
					 * those the sandbox's manager wrote at start */
#define SBX_SLOTF_TRACE		0x4u	/* the sandbox needs the syscall tracepoints: they
					 * stay attached while an active slot has this
					 * (user/core/trace.h); no program reads it */

/* Map: sbx_policies, array indexed by policy id. */
struct sbx_listen_range {
	__u16 lo;		/* host byte order, inclusive */
	__u16 hi;
	__u8 proto;		/* 0 any, 6 tcp, 17 udp */
	__u8 pad[3];
};

struct sbx_policy_cfg {
	__u8 net_mode;		/* enum sbx_net_mode_abi */
	__u8 audit;		/* enum sbx_audit_abi */
	__u8 pad[2];
	__u32 flags;		/* SBX_POLF_* */
	__u64 net_bytes_quota;	/* 0 = no quota; egress + ingress bytes */
	__u32 n_listen;
	__u32 pad2;
	struct sbx_listen_range listen[SBX_MAX_LISTEN];
	/* audit rate limits (bpf/lib/common.h), one token bucket per sandbox
	 * for allow events and one for denials: at most burst events at once,
	 * then one every interval ns. interval 0 = no limit (sbx never sets it). */
	__u64 audit_allow_ns;		/* 1e9 / audit_rate */
	__u64 audit_deny_ns;		/* 1e9 / audit_deny_rate */
	__u32 audit_allow_burst;	/* audit_burst */
	__u32 audit_deny_burst;		/* audit_deny_burst */
	/* network.unix: the host pathname unix sockets the sandbox may connect
	 * or send to, NUL-terminated, compared byte for byte with the address
	 * the workload passed (cgroup/connect_unix, cgroup/sendmsg_unix) */
	__u32 n_unix;
	__u32 pad3;
	char unix_path[SBX_MAX_UNIX][SBX_UNIX_PATH_LEN];
};

/* Maps: sbx_net4 / sbx_net6, LPM tries keyed by policy id then address. */
struct sbx_net4_key {
	__u32 prefixlen;	/* 32 (policy id) + address prefix */
	__u32 policy_id;	/* big endian so that it forms the key's leading bits */
	__u8 addr[4];		/* network byte order */
};

struct sbx_net6_key {
	__u32 prefixlen;	/* 32 + address prefix */
	__u32 policy_id;	/* big endian */
	__u8 addr[16];
};

struct sbx_net_rule {
	__u16 port_lo;		/* host byte order, inclusive; 0-65535 = any */
	__u16 port_hi;
	__u8 proto;		/* 0 any, 6 tcp, 17 udp */
	__u8 verdict;		/* enum sbx_verdict */
	__u16 pad;
	__u32 rule;		/* index of the entry in the profile's network list (allow
				 * and deny entries in file order, as sbx policy show lists them) */
};

struct sbx_net_value {
	__u32 n;
	__u32 pad;
	struct sbx_net_rule r[SBX_NET_VALUE_RULES];
};

/*
 * Host names (docs/network.md). A sandbox whose profile has host-name entries
 * gets its own resolver, run by sbx. Map sbx_dns (array by slot) says where it
 * listens: connect4/6 and sendmsg4/6 send every TCP and UDP port-53
 * destination there, and recvmsg4/6 and getpeername4/6 show the workload the
 * address it asked for. Before the resolver answers an allowed name, it pins
 * each address of the answer in sbx_pins for the slot: the connect hooks allow
 * an address an allow entry covers, or one pinned for an allowed name whose
 * ports match, until the pin expires; a pin of a denied name refuses.
 *
 * Worked example: slot 3 allows "api.example.com:443/tcp" (entry 0). The
 * workload asks 8.8.8.8:53 for api.example.com; connect4 rewrites the
 * destination to 127.0.0.1:<port4>; the resolver forwards the query, gets
 * 192.0.2.10 with TTL 60 and stores key {3, 4, 192.0.2.10} with value
 * {n = 1, e[0] = {{443, 443, TCP, ALLOW, rule 0}, now + max(60, floor) + grace}}
 * before it replies; connect(192.0.2.10:443) is then allowed by rule 0.
 */
#define SBX_DNSF_REDIRECT	0x1u	/* port-53 destinations go to the resolver */
#define SBX_DNSF_PINS		0x2u	/* consult sbx_pins for this slot */
#define SBX_DNSF_OBSERVED	0x4u	/* a resolver only because of observe mode: the
					 * server a query was sent to is judged too,
					 * and reported would_deny where refused */

struct sbx_dns_slot {
	__u32 flags;		/* SBX_DNSF_* */
	__u32 addr4;		/* the resolver's IPv4 address, network byte order */
	__u16 port4;		/* its port there, host byte order; 0 = the resolver
				 * is gone for good: port-53 destinations are refused */
	__u16 port6;		/* its port on addr6; 0 = none: IPv6 port-53
				 * destinations are refused */
	__u32 pad;
	__u8 addr6[16];
};

#define SBX_PIN_RULES		8	/* names of one address, per sandbox */

struct sbx_pin_key {
	__u32 slot;
	__u8 family;		/* 4 or 6 (an IPv4-mapped address is 4) */
	__u8 pad[3];
	__u8 addr[16];		/* network byte order; IPv4 in the first 4 bytes */
};

struct sbx_pin_rule {
	struct sbx_net_rule r;	/* ports, protocol, verdict and entry of the name */
	__u64 expires_ns;	/* CLOCK_BOOTTIME (bpf_ktime_get_boot_ns); 0 = unused */
};

struct sbx_pin_value {
	__u32 n;
	__u32 pad;
	struct sbx_pin_rule e[SBX_PIN_RULES];
};

/* Map: sbx_dns_ports, hash: a resolver's address and port -> its slot. A
 * sandbox's connect or send to another sandbox's resolver is refused (it
 * could spend that sandbox's pins); its own is reached through port 53. */
struct sbx_dns_port_key {
	__u8 family;		/* 4 or 6 */
	__u8 pad;
	__u16 port;		/* host byte order */
	__u8 addr[16];		/* network byte order; IPv4 in the first 4 bytes */
};

/* Map: sbx_dns_orig, socket storage: the port-53 destination a socket asked
 * for before it was sent to the resolver (freed with the socket). */
struct sbx_dns_orig {
	__u8 family;		/* 4 or 6: as the socket wrote it */
	__u8 pad;
	__u16 port;		/* network byte order */
	__u32 pad2;
	__u8 addr[16];		/* IPv4 in the first 4 bytes */
	__u8 to[16];		/* where it was sent instead (IPv4 in the first 4) */
	__u16 to_port;		/* network byte order */
	__u16 pad3[3];
};

/* Map: sbx_config, one element: what the loaded instance was built for, so
 * that a later sbx adopting the pins can check it talks to the same setup. */
struct sbx_config {
	__u32 abi_version;	/* SBX_ABI_VERSION */
	__u32 sandbox_level;	/* cgroup2 level of sandbox cgroups */
	__u64 root_cgroup_id;	/* the sbx cgroup root the programs are attached to */
	__u32 ring_size;	/* bytes of each per-sandbox ring buffer */
	__u32 events_size;	/* bytes of the global ring buffer */
	__u32 flags;		/* SBX_CFGF_* */
	__u32 observers;	/* sandboxes in observe mode now (changed by the
				 * sbx_emit_user program at their start and exit):
				 * while 0, sys_enter skips the syscall observer */
};
#define SBX_CFGF_BPF_LSM	0x1u	/* the BPF LSM programs are loaded and attached */
#define SBX_CFGF_UNIX_HOOKS	0x2u	/* cgroup/connect_unix and sendmsg_unix attached
					 * (Linux 6.7 and later) */

/* Map: sbx_cgroups, hash from a sandbox's cgroup id to its slot. */
/* Map: sbx_slots, array indexed by slot. */
struct sbx_slot {
	__u32 flags;		/* SBX_SLOTF_* */
	__u32 policy_id;	/* index into sbx_policies; flipped atomically on policy swap */
	__u64 cgroup_id;
	__u64 owner_pid;	/* the sbx process that runs the sandbox */
	__u64 owner_start;	/* its start time (jiffies since boot), against pid reuse */
};

/* Map: sbx_stats, array indexed by slot; updated atomically by every program. */
struct sbx_stats {
	__u64 seq;			/* last sequence number handed out */
	__u64 connect_allowed;
	__u64 connect_denied;
	__u64 send_allowed;
	__u64 send_denied;
	__u64 bind_allowed;
	__u64 bind_denied;
	__u64 sock_denied;
	__u64 bytes_in;
	__u64 bytes_out;
	__u64 packets_in;
	__u64 packets_out;
	__u64 packets_dropped;		/* dropped by the quota (either way) or the safety net */
	__u64 quota_hits;		/* times the quota was found exceeded */
	__u64 quota_reported;		/* 1 once the quota event was emitted */
	/* audit rate limits: each bucket is the theoretical arrival time (ns,
	 * bpf_ktime_get_ns) of its next event, GCRA style; 0 = full */
	__u64 audit_tat_allow;
	__u64 audit_tat_deny;
	__u64 suppressed_allow;		/* allow events not written (rate limit or ring reserve) */
	__u64 suppressed_deny;		/* denials not written (rate limit) */
	__u64 reported_allow;		/* suppressed_allow in the last SBX_EV_AUDIT_SUPPRESSED */
	__u64 reported_deny;		/* suppressed_deny in the last SBX_EV_AUDIT_SUPPRESSED */
	__u64 would_deny;		/* observe mode: refusals reported and let through
					 * (also counted in the *_denied counters) */
	__u64 quota_used;		/* bytes (in + out) taken from net_bytes: reserved
					 * atomically per packet, so it never passes the quota */
};

/* Map: sbx_drops, per-CPU array indexed by slot. */
struct sbx_drops {
	__u64 ring;		/* events lost because the sandbox's ring buffer was full */
	__u64 global;		/* copies lost because the pinned global ring was full */
};

/* ---- audit events ------------------------------------------------------ */

enum sbx_event_type {
	SBX_EV_SANDBOX_START = 1,	/* emitted by user space through sbx_emit */
	SBX_EV_SANDBOX_EXIT = 2,	/* emitted by user space through sbx_emit */
	SBX_EV_NET_CONNECT = 3,		/* connect(2), TCP or UDP */
	SBX_EV_NET_SEND = 4,		/* sendto/sendmsg with an address (unconnected UDP) */
	SBX_EV_NET_BIND = 5,		/* bind(2) to a port not in listen */
	SBX_EV_SOCK_CREATE = 6,		/* raw/packet socket refused */
	SBX_EV_NET_QUOTA = 7,		/* net_bytes quota exceeded; egress now dropped */
	SBX_EV_NET_PACKET = 8,		/* egress packet dropped by the safety net */
	SBX_EV_SYSCALL_DENIED = 9,	/* a syscall the sandbox's seccomp filter refuses failed */
	SBX_EV_FILE = 10,		/* a filesystem or exec decision (bpf-lsm or landlock) */
	SBX_EV_NET_SOCKOPT = 11,	/* a socket option that reroutes packets, refused */
	SBX_EV_NET_UNIX = 12,		/* connect/sendmsg to a unix address not in network.unix */
	SBX_EV_AUDIT_SUPPRESSED = 13,	/* events not written by the rate limits; user space
					 * asks for it through sbx_emit (at most 1/s, and at exit) */
	SBX_EV_LIMIT_DISK = 14,		/* the sandbox's disk quota is full (ENOSPC inside);
					 * emitted by user space through sbx_emit, once */
	SBX_EV_DNS_QUERY = 15,		/* the sandbox's resolver answered a query (verdict
					 * allow: emitted at audit level "all") */
	SBX_EV_DNS_DENIED = 16,		/* the resolver refused a query or an answer */
	SBX_EV_DNS_RESOLVER = 17,	/* the resolver started, died, was restarted or
					 * gave up (verdict deny when it is down) */
};

/* Every decision event (all types but SANDBOX_START, SANDBOX_EXIT and
 * AUDIT_SUPPRESSED) goes through the sandbox's rate limits, which need its
 * verdict: SYSCALL_DENIED and NET_QUOTA are denials; every other type has
 * `__u8 verdict` as the first byte after its header. A suppressed event has
 * used its sequence number: seq gaps are suppressed or dropped events. */

struct sbx_event_hdr {
	__u16 type;		/* enum sbx_event_type */
	__u16 size;		/* of the whole event, header included */
	__u32 slot;		/* sandbox slot */
	__u64 seq;		/* per sandbox, from 1, no gaps unless events were dropped */
	__u64 ts_ns;		/* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u32 pid;		/* thread id */
	__u32 tgid;		/* process id */
	__u64 cgroup_id;	/* cgroup of the task (may be below the sandbox cgroup) */
	char comm[16];
};

/* SBX_EV_NET_CONNECT, SBX_EV_NET_SEND, SBX_EV_NET_BIND, SBX_EV_NET_PACKET */
struct sbx_ev_net {
	struct sbx_event_hdr hdr;
	__u8 verdict;		/* enum sbx_verdict */
	__u8 family;		/* 4 or 6: the family the decision used (mapped v6 -> 4) */
	__u8 proto;		/* 6 tcp, 17 udp, 1 icmp, 58 icmpv6, ... */
	__u8 mapped;		/* 1 when the address was an IPv4-mapped IPv6 address */
	__u16 port;		/* host byte order */
	__u8 form;		/* enum sbx_addr_form: how the caller wrote addr */
	__u8 pad;
	__u32 rule;		/* profile entry index, SBX_RULE_DEFAULT or SBX_RULE_NONE */
	__u32 policy_id;
	__u8 addr[16];		/* network byte order; IPv4 in the first 4 bytes */
};

/* How the caller wrote the destination of a sbx_ev_net. The kernel sends the
 * special forms elsewhere than they read, so the hooks judge (and report in
 * addr) where the packet goes:
 *   0.0.0.0, ::ffff:0.0.0.0 -> 127.0.0.1, and also the socket's IPv4 source
 *                              when it has one (routing uses it as destination)
 *   ::                       -> ::1 (127.0.0.1 when the socket's source is
 *                              IPv4-mapped)
 *   ::a.b.c.d (IPv4-compatible, a.b.c.d outside 0.0.0.0/8) -> a.b.c.d, and
 *                              also the IPv6 address itself; either one
 *                              denying denies */
enum sbx_addr_form {
	SBX_ADDR_LITERAL = 0,		/* addr is what the caller passed */
	SBX_ADDR_UNSPECIFIED = 1,	/* the caller passed the any-address */
	SBX_ADDR_V4COMPAT = 2,		/* the caller passed ::a.b.c.d */
};

/* SBX_EV_SOCK_CREATE */
struct sbx_ev_sock {
	struct sbx_event_hdr hdr;
	__u8 verdict;
	__u8 pad[3];
	__u32 family;		/* AF_* */
	__u32 type;		/* SOCK_* */
	__u32 protocol;
};

/* SBX_EV_NET_SOCKOPT: setsockopt(2) of an option that sends packets somewhere
 * other than the judged destination (routing headers, IPv4 source routes) */
struct sbx_ev_sockopt {
	struct sbx_event_hdr hdr;
	__u8 verdict;
	__u8 pad[3];
	__u32 family;		/* AF_* of the socket */
	__s32 level;		/* SOL_IP, SOL_IPV6 */
	__s32 optname;
};

/* SBX_EV_NET_UNIX */
struct sbx_ev_unix {
	struct sbx_event_hdr hdr;
	__u8 verdict;		/* enum sbx_verdict */
	__u8 abstract;		/* 1: an abstract address (path[0] is its first name byte) */
	__u8 send;		/* 0 connect, 1 sendmsg with an address */
	__u8 name_len;		/* abstract: the bytes of path that are the name (any byte,
				 * NUL too), at most SBX_UNIX_PATH_LEN - 1; else 0 */
	__u32 policy_id;
	char path[SBX_UNIX_PATH_LEN];	/* NUL-terminated (abstract: name bytes after the NUL) */
};

/* SBX_EV_NET_QUOTA */
struct sbx_ev_quota {
	struct sbx_event_hdr hdr;
	__u64 bytes;		/* bytes in + out including the packet that exceeded the quota */
	__u64 quota;
};

/* SBX_EV_SANDBOX_START / SBX_EV_SANDBOX_EXIT: the context of the sbx_emit
 * syscall program, filled by user space, copied into the event. In these
 * events hdr.pid and hdr.tgid are the workload's pid and hdr.cgroup_id is the
 * sandbox cgroup's id (not the manager's), so a consumer of the global ring
 * can tell which sandbox a slot held at that time. */
/* EXIT flags: the exit status is not known (sbx-oci's manager is not the
 * container init's parent): exit_code and signal are 0 and mean nothing. */
#define SBX_LIFE_NO_STATUS 2

struct sbx_ev_life {
	struct sbx_event_hdr hdr;
	__u32 workload_pid;
	__s32 exit_code;	/* EXIT: exit status, -1 if killed by a signal */
	__s32 signal;		/* EXIT: terminating signal or 0 */
	__u32 flags;		/* EXIT: 1 = timed out, SBX_LIFE_NO_STATUS */
	__u64 suppressed_allow;	/* EXIT: allow events suppressed in the sandbox's life */
	__u64 suppressed_deny;	/* EXIT: denials suppressed in the sandbox's life */
};

/* SBX_EV_LIMIT_DISK: the filesystem that bounds the sandbox's writes (disk =
 * ...) has no block or no inode left, so writes fail with ENOSPC inside.
 * hdr.pid, hdr.tgid and hdr.cgroup_id are as in sbx_ev_life. */
#define SBX_DISK_MOUNT_LEN 32
struct sbx_ev_disk {
	struct sbx_event_hdr hdr;
	__u64 used_bytes;	/* in use on that filesystem */
	__u64 limit_bytes;	/* its size: the profile's disk */
	__u64 inodes_used;
	__u64 inodes_limit;
	char mount[SBX_DISK_MOUNT_LEN];	/* where the sandbox sees it, e.g. "/tmp"; NUL-terminated */
};

/* SBX_EV_DNS_QUERY and SBX_EV_DNS_DENIED: one query of the workload, as the
 * sandbox's resolver decided it. hdr.pid/tgid are 0 and hdr.comm is "sbx-dns":
 * the resolver cannot tell which process asked. */
enum sbx_dns_reason_abi {
	SBX_DNS_REASON_NONE = 0,		/* answered */
	SBX_DNS_REASON_DENY_RULE = 1,		/* a deny entry matches the name */
	SBX_DNS_REASON_NO_ALLOW_RULE = 2,	/* mode allow and no allow entry matches it */
	SBX_DNS_REASON_REBINDING = 3,		/* an allowed name answered with a non-public
					 * address that no entry allows (addrs[0]) */
	SBX_DNS_REASON_BAD_QUERY = 4,		/* not a query sbx can read */
	SBX_DNS_REASON_UPSTREAM = 5,		/* no upstream server answered (SERVFAIL) */
	SBX_DNS_REASON_PIN_FAILED = 6,	/* the answer could not be pinned (SERVFAIL) */
};

#define SBX_DNS_EV_ADDRS	8
#define SBX_DNS_NAME_LEN	256

struct sbx_dns_ev_addr {
	__u8 family;		/* 4 or 6 */
	__u8 pad[3];
	__u32 ttl;		/* as the answer gave it */
	__u8 addr[16];
};

struct sbx_ev_dns {
	struct sbx_event_hdr hdr;
	__u8 verdict;		/* allow (DNS_QUERY); deny or would_deny (DNS_DENIED) */
	__u8 reason;		/* enum sbx_dns_reason_abi */
	__u8 rcode;		/* the RCODE the workload got */
	__u8 proto;		/* 6 or 17: how the workload asked */
	__u16 qtype;
	__u8 n_addrs;		/* addrs[] filled (answer addresses, or the refused one) */
	__u8 more_addrs;	/* 1 when the answer had more than SBX_DNS_EV_ADDRS */
	__u32 rule;		/* the entry that decided, or SBX_RULE_DEFAULT */
	__u32 pin_s;		/* seconds the addresses stay pinned (0: none) */
	char name[SBX_DNS_NAME_LEN];	/* lower case, no trailing dot; NUL-terminated */
	struct sbx_dns_ev_addr addrs[SBX_DNS_EV_ADDRS];
};

/* SBX_EV_DNS_RESOLVER */
enum sbx_dns_state_abi {
	SBX_DNSS_STARTED = 1,
	SBX_DNSS_DIED = 2,		/* its pins were flushed: name connects are refused */
	SBX_DNSS_RESTARTED = 3,
	SBX_DNSS_GAVE_UP = 4,		/* died too often: names stay refused for the run */
};

struct sbx_ev_dns_resolver {
	struct sbx_event_hdr hdr;
	__u8 verdict;		/* allow when it runs, deny when it is down */
	__u8 state;		/* enum sbx_dns_state_abi */
	__u16 pad;
	__u32 pid;		/* the resolver's process */
	__s32 status;		/* DIED: its wait status */
	__u32 pins_flushed;	/* DIED: pins removed */
	__u32 restarts;		/* restarts so far */
	__u32 pad2;
};

#define SBX_DNS_EV_MAX		(sizeof(struct sbx_ev_dns) - sizeof(struct sbx_event_hdr))

/* SBX_EV_AUDIT_SUPPRESSED: what the rate limits kept out of the rings since
 * the previous such event of the sandbox (emitted only when that is not
 * zero). hdr.pid, hdr.tgid and hdr.cgroup_id are as in sbx_ev_life. */
struct sbx_ev_suppressed {
	struct sbx_event_hdr hdr;
	__u64 allow;		/* allow events suppressed since the previous summary */
	__u64 deny;		/* denials suppressed since the previous summary */
	__u64 allow_total;	/* since the sandbox started */
	__u64 deny_total;
};

/* SBX_EV_SYSCALL_DENIED: seen at syscall exit (tp_btf/sys_exit) when a call
 * in the policy's refused set returned -EPERM, or killed-by-seccomp is not
 * observable there (action "kill" shows as the exit signal SIGSYS instead). */
struct sbx_ev_syscall {
	struct sbx_event_hdr hdr;
	__u32 nr;		/* native syscall number */
	__s32 ret;		/* -EPERM */
	__u64 args[3];		/* first three arguments, raw */
	__u8 verdict;		/* SBX_VERDICT_DENY, or SBX_VERDICT_WOULD_DENY in observe
				 * mode: seen at sys_enter, ret 0, and the call runs */
	__u8 pad[7];
};

/* Map: sbx_syscalls, array indexed by policy id: the native syscall numbers
 * the sandbox's seccomp filter refuses (bit nr of bits[nr / 64]). */
#define SBX_SYSCALL_WORDS 16
struct sbx_syscall_set {
	__u64 bits[SBX_SYSCALL_WORDS];
	__u32 flags;		/* SBX_SYSF_* */
	__u32 pad;
};
#define SBX_SYSF_PACKET_REFUSED	0x1u	/* socket(AF_PACKET) refused: report as net.socket */
#define SBX_SYSF_FAMILY_REFUSED	0x2u	/* socket() of a family outside unix/inet/inet6
					 * failing with EPERM was refused by the family
					 * allow-list (network.families): net.socket */

/* ---- filesystem and exec policy (issue: BPF LSM / Landlock) ------------ */

/* sbx_ev_file.op */
enum sbx_file_op {
	SBX_FOP_OPEN = 1, SBX_FOP_EXEC = 2, SBX_FOP_MMAP_EXEC = 3, SBX_FOP_CREATE = 4,
	SBX_FOP_UNLINK = 5, SBX_FOP_RENAME = 6, SBX_FOP_LINK = 7, SBX_FOP_SYMLINK = 8,
	SBX_FOP_MKNOD = 9, SBX_FOP_MKDIR = 10, SBX_FOP_RMDIR = 11, SBX_FOP_TRUNCATE = 12,
	SBX_FOP_CHMOD = 13, SBX_FOP_CHOWN = 14, SBX_FOP_MOUNT = 15,
};

/* sbx_ev_file.backend */
enum sbx_fs_backend_abi { SBX_FSB_BPF_LSM = 1, SBX_FSB_LANDLOCK = 2 };

/* access bits (same values as policy.h SBX_ACC_*) */
#define SBX_FACC_R	0x1u
#define SBX_FACC_W	0x2u
#define SBX_FACC_X	0x4u

/* Maps: sbx_paths (fs.rules) and sbx_execs (fs.exec list), LPM tries keyed by
 * policy id then path bytes, both with struct sbx_path_rule values. A directory
 * rule "/etc/ssl/" is stored without a terminating NUL and so covers every
 * path below it; a file rule "/etc/passwd" is stored with its NUL and so
 * matches that path only. Lookups use the full path plus its NUL; the
 * longest match decides. Worked example: rules "/etc/" r and "/etc/shadow"
 * deny; open("/etc/shadow") finds the file rule (deny), open("/etc/hosts")
 * the directory rule (r). */
struct sbx_path_key {
	__u32 prefixlen;		/* 32 + 8 * bytes of path that must match */
	__u32 policy_id;		/* big endian */
	char path[SBX_MAX_PATH_LEN];
};

struct sbx_path_rule {
	__u32 access;			/* SBX_FACC_* allowed; 0 = deny */
	__u32 rule;			/* index in the profile's fs rules (exec list after them) */
	__u32 flags;			/* SBX_PRF_* */
	__u32 pad;
};
#define SBX_PRF_EXEC_LIST	0x1u	/* from fs.exec: the path may be executed */

/* sbx_policy_cfg fields for fs policy live in sbx_fs_cfg (map sbx_fscfg,
 * array indexed by policy id). */
struct sbx_fs_cfg {
	__u32 mode_access;		/* access when no rule matches: none 0, read-only R|X,
					 * read-write R|W|X; full = SBX_FSF_FULL */
	__u32 flags;			/* SBX_FSF_* */
};
#define SBX_FSF_ENFORCE		0x1u	/* BPF LSM enforces this policy */
#define SBX_FSF_FULL		0x2u	/* mode full: no fs restrictions */
#define SBX_FSF_EXEC_LIST	0x4u	/* exec restricted to the fs.exec list */

/* Map: sbx_loaders, hash from (policy id, file) to the ELF interpreters
 * ("ld.so") the sandbox can reach, for the exec guard of policies whose exec
 * restriction Landlock enforces (bpf/lib/fsaudit.h). Landlock must let the
 * interpreter of every allowed dynamic program be executed (the kernel opens
 * it for exec), and it does not check mmap(PROT_EXEC); run as a program, the
 * interpreter maps and runs any file it can read ("ld.so FILE"). An exec
 * whose main file (bprm->file) is one of these is killed before its first
 * instruction. A file is named as the kernel knows it: dev is the superblock's
 * s_dev in the kernel's encoding, major << 20 | minor, the "major:minor" of
 * its mount in /proc/self/mountinfo (not stat's st_dev, which differs on
 * btrfs subvolumes); ino is i_ino. Worked example: policy 7 on a host whose
 * loader /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 is inode 332383 of
 * the ext4 mount 254:0 holds key {7, 0, 254 << 20 | 0, 332383} with value
 * {path "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", flags PATH|INTERP}.
 * execve("/lib64/ld-linux-x86-64.so.2", ...) (a symlink: the same inode) in
 * that sandbox is killed; execve("/bin/sh") maps the same loader as sh's
 * interpreter, but bprm->file is sh, so it runs. */
#define SBX_MAX_LOADERS		16	/* entries of one policy id */
struct sbx_loader_key {
	__u32 policy_id;		/* host byte order */
	__u32 pad;
	__u64 dev;			/* super_block.s_dev: major << 20 | minor */
	__u64 ino;			/* inode.i_ino */
};

struct sbx_loader {
	char path[SBX_MAX_PATH_LEN];	/* where user space found it (resolved), for the event */
	__u32 flags;			/* SBX_LDRF_*: why it is known as a loader */
};
#define SBX_LDRF_PATH		0x1u	/* at a loader's well-known path (/lib64/ld-linux-*.so.*, ...) */
#define SBX_LDRF_INTERP		0x2u	/* the PT_INTERP of a program (/bin/sh, an exec-listed file) */

/* SBX_EV_FILE */
struct sbx_ev_file {
	struct sbx_event_hdr hdr;
	__u8 verdict;			/* enum sbx_verdict */
	__u8 backend;			/* enum sbx_fs_backend_abi */
	__u16 op;			/* enum sbx_file_op */
	__u32 access;			/* SBX_FACC_* asked for */
	__u32 rule;			/* rule index, SBX_RULE_DEFAULT (mode) or SBX_RULE_NONE */
	__s32 error;			/* errno returned to the workload (EACCES/EPERM), 0 if allowed */
	char path[SBX_MAX_PATH_LEN];	/* as the sandbox sees it; NUL-terminated, may be truncated */
};

struct sbx_emit_ctx {
	__u32 slot;
	__u16 type;		/* SBX_EV_SANDBOX_START, SBX_EV_SANDBOX_EXIT,
				 * SBX_EV_AUDIT_SUPPRESSED or SBX_EV_LIMIT_DISK */
	__u16 pad;
	__u32 workload_pid;
	__s32 exit_code;
	__s32 signal;
	__u32 flags;
	__s64 ret_seq;		/* out: the sequence number given, 0 when no event was
				 * due (AUDIT_SUPPRESSED with nothing new), or -errno */
	/* LIMIT_DISK only: copied into struct sbx_ev_disk */
	__u64 used_bytes, limit_bytes, inodes_used, inodes_limit;
	char mount[SBX_DISK_MOUNT_LEN];
	/* DNS_QUERY, DNS_DENIED and DNS_RESOLVER: the event after its header,
	 * copied as it is (the emitter fills the header and applies the audit
	 * level and rate limits by its verdict) */
	__u8 dns[SBX_DNS_EV_MAX];
};

/*
 * Bandwidth rate of a sandbox with its own veth pair (profile egress_rate,
 * ingress_rate, rate_burst; docs/limits.md). One sbx_rates entry per slot;
 * the tc programs of bpf/tc.bpf.c stamp each packet's departure time (EDT)
 * and the fq qdisc on the same device holds it until then. The sandbox end
 * of the pair has ifindex SBX_RATE_IFINDEX_BASE + slot inside its own
 * namespace, so its program finds the slot without a lookup; the host end's
 * ifindex maps to the slot through sbx_rate_ifs.
 *
 * Worked example: egress_rate = "10Mbit", rate_burst = "64K" on slot 3:
 * sbx_rates[3].dir[SBX_RATE_EGRESS] = {bytes_per_sec = 1250000,
 * burst_ns = 65536 * 1e9 / 1250000 = 52428800}. A 1500-byte packet at time t
 * with next_ns <= t - burst_ns departs at t, and next_ns becomes
 * t - burst_ns + 1.2 ms: about 64K more leave at once, after that one packet
 * per 1.2 ms. A packet whose departure would lie more than
 * SBX_RATE_HORIZON_NS ahead is dropped (and counted) instead of queued.
 */
#define SBX_RATE_IFINDEX_BASE	0x100000u
#define SBX_RATE_HORIZON_NS	2000000000ull

enum sbx_rate_dir {
	SBX_RATE_EGRESS = 0,		/* sent by the sandbox (its end of the pair) */
	SBX_RATE_INGRESS = 1,		/* sent to the sandbox (the host end's egress) */
};

struct sbx_rate_state {
	__u64 bytes_per_sec;		/* 0 = not limited */
	__u64 burst_ns;			/* the burst, as time at the rate */
	__u64 next_ns;			/* CLOCK_MONOTONIC: when all sent so far is paid for */
	__u64 bytes;			/* passed (and stamped) */
	__u64 packets;
	__u64 drops;			/* beyond the horizon */
	__u64 flags;			/* SBX_RATEF_* */
};

/* The device has no fq (a kernel without sch_fq): a tbf qdisc shapes, and
 * the program only counts (docs/limits.md). */
#define SBX_RATEF_TBF		0x1ull

struct sbx_rate {
#ifdef __BPF__
	struct bpf_spin_lock lock;
#else
	__u32 lock;			/* struct bpf_spin_lock; never written by user space */
#endif
	__u32 pad;
	struct sbx_rate_state dir[2];	/* by enum sbx_rate_dir */
};

#endif /* SBX_ABI_H */
