/* SPDX-License-Identifier: MIT */
/*
 * The sbx policy model: profiles read from TOML policy files, with
 * [defaults] and the selected environment overlay already applied, every
 * value validated and normalised (sizes in bytes, durations in ms).
 * Loading is all-or-nothing: any error leaves *ret untouched and every
 * problem found is reported in the diagnostics list as file:line:col.
 */
#ifndef SBX_POLICY_H
#define SBX_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netgroup.h"
#include "sbx_limits.h"

/* Isolation levels, ordered weakest first (docs/providers.md "Isolation
 * levels" says why in this order); wasm is its own level (runs inside
 * "process") and stays last so that no comparison puts it above another. */
enum sbx_isolation {
	SBX_ISO_NONE = 0,
	SBX_ISO_PROCESS = 1,
	SBX_ISO_GVISOR = 2,
	SBX_ISO_UNIKERNEL = 3,
	SBX_ISO_MICROVM = 4,
	SBX_ISO_TEE = 5,
	SBX_ISO_WASM = 6,
};

#define SBX_UNIKERNEL_CMDLINE_MAX 2048	/* [profile.X.unikernel] cmdline */

enum sbx_net_mode { SBX_NET_NONE = 0, SBX_NET_ALLOW, SBX_NET_DENY, SBX_NET_FULL };
enum sbx_fs_mode { SBX_FS_NONE = 0, SBX_FS_READ_ONLY, SBX_FS_READ_WRITE, SBX_FS_FULL };
enum sbx_audit_level { SBX_AUDIT_DENY = 0, SBX_AUDIT_ALL, SBX_AUDIT_NONE };

/* Audit rate limits per sandbox (docs/policy.md, docs/audit.md): defaults and
 * the largest values accepted. */
#define SBX_AUDIT_RATE_DEFAULT		100
#define SBX_AUDIT_BURST_DEFAULT		200
#define SBX_AUDIT_DENY_RATE_DEFAULT	200
#define SBX_AUDIT_DENY_BURST_DEFAULT	500	/* fits the default ring (about 900 file events) */
/* as fast as one sandbox's ring and sbx run's writer carry events
 * (docs/performance.md, section 4): the limit is the log's bound, not a
 * ceiling of its own */
#define SBX_AUDIT_RATE_MAX		10000000
#define SBX_AUDIT_BURST_MAX		1000000
enum sbx_enforcement { SBX_ENFORCE_STRICT = 0, SBX_ENFORCE_BEST_EFFORT };
enum sbx_seccomp_preset { SBX_SECCOMP_DEFAULT = 0, SBX_SECCOMP_STRICT };
enum sbx_seccomp_action { SBX_SECCOMP_ERRNO = 0, SBX_SECCOMP_KILL };
/* Network namespace of the process provider: auto = private for mode "none",
 * the host's otherwise; private with a mode other than none adds a veth pair. */
enum sbx_netns { SBX_NETNS_AUTO = 0, SBX_NETNS_HOST, SBX_NETNS_PRIVATE };

/* IP protocol numbers; ANY matches both. */
enum sbx_proto { SBX_PROTO_ANY = 0, SBX_PROTO_TCP = 6, SBX_PROTO_UDP = 17 };

/* fs access bits; a rule with access 0 is a deny rule. */
#define SBX_ACC_R 0x1u
#define SBX_ACC_W 0x2u
#define SBX_ACC_X 0x4u

/* CPU sets ("0-1,4"): a bitmap of CPUs 0 to SBX_CPUS_MAX - 1. */
#define SBX_CPUS_MAX		1024
#define SBX_CPUS_WORDS		(SBX_CPUS_MAX / 64)
#define SBX_CPU_WEIGHT_MAX	10000	/* cgroup2 cpu.weight: 1..10000, default 100 */

struct sbx_srcpos {
	const char *file;	/* owned by the sbx_policy */
	uint32_t line, col;
};

enum sbx_net_entry_kind {
	SBX_NET_ENTRY_ADDR = 0,	/* address or CIDR */
	SBX_NET_ENTRY_HOST,	/* exact host name, resolved later (not by the loader) */
	SBX_NET_ENTRY_WILDCARD,	/* "*.example.org": any name below, never the apex */
	SBX_NET_ENTRY_GROUP,	/* "private", "public", ...: the ranges of netgroup.h */
};

struct sbx_net_entry {
	enum sbx_net_entry_kind kind;
	bool deny;		/* listed under deny = [...] */
	uint8_t family;		/* AF_INET or AF_INET6 (ADDR only) */
	uint8_t prefix_len;	/* 0..32 / 0..128; host bits are zero */
	uint8_t addr[16];	/* network byte order; IPv4 uses the first 4 bytes */
	uint8_t group;		/* GROUP only: enum sbx_addr_group */
	char *host;		/* HOST/WILDCARD: lower-case name ("*.example.org"); NULL otherwise */
	uint16_t port_lo, port_hi; /* inclusive; 0-65535 when no port was given */
	uint8_t proto;		/* enum sbx_proto */
	char *text;		/* canonical form, e.g. "192.0.2.0/24:80-443/tcp" */
	struct sbx_srcpos pos;
};

/* [network.dns]: sbx's resolver for the sandbox (docs/network.md). */
#define SBX_DNS_UPSTREAM_MAX		4
#define SBX_DNS_TTL_FLOOR_DEFAULT_S	30	/* docs/policy.md says why */
#define SBX_DNS_GRACE_DEFAULT_S		300
#define SBX_DNS_DURATION_MAX_S		86400	/* ttl_floor and grace: at most a day */

struct sbx_dns_server {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network byte order; IPv4 in the first 4 bytes */
	uint16_t port;		/* 53 unless given */
	struct sbx_srcpos pos;
};

struct sbx_port_range {
	uint16_t lo, hi;	/* inclusive, 1..65535 */
	uint8_t proto;		/* enum sbx_proto */
	struct sbx_srcpos pos;
};

struct sbx_fs_rule {
	char *path;		/* absolute, normalised; ends with '/' for directories */
	bool dir;
	uint32_t access;	/* SBX_ACC_* bits; 0 = deny */
	struct sbx_srcpos pos;
};

struct sbx_env_var {
	char *name;
	char *value;
};

struct sbx_profile {
	char *name;
	char *provider;			/* "auto" or a provider name */
	enum sbx_isolation min_isolation;
	uint64_t timeout_ms;		/* 0 = no timeout */
	uint64_t memory_bytes;		/* 0 = unlimited */
	uint32_t cpu_milli;		/* 1000 = one CPU; 0 = unlimited */
	uint32_t pids;			/* 0 = unlimited */
	uint32_t nofile;		/* 0 = inherit */
	uint64_t net_bytes;		/* 0 = no quota */
	uint64_t egress_rate;		/* bits per second; 0 = no rate */
	uint64_t ingress_rate;		/* bits per second; 0 = no rate */
	uint64_t rate_burst;		/* bytes; 0 = default (docs/limits.md) */
	struct sbx_env_var *env;
	size_t n_env;
	char *cwd;			/* NULL = default */
	char *user, *group;		/* NULL = provider default */
	enum sbx_audit_level audit;
	uint32_t audit_rate;		/* allow events per second (token bucket) */
	uint32_t audit_burst;		/* allow events at once */
	uint32_t audit_deny_rate;	/* denials per second (a bucket of their own) */
	uint32_t audit_deny_burst;	/* denials at once */
	enum sbx_enforcement enforcement;
	char **allow_users;
	size_t n_allow_users;
	char **allow_groups;
	size_t n_allow_groups;
	uint64_t fsize;			/* RLIMIT_FSIZE in bytes; 0 = inherit */
	uint64_t cpus[SBX_CPUS_WORDS];	/* cpuset: bit n = CPU n; all 0 = no pinning */
	uint32_t cpu_weight;		/* cgroup2 cpu.weight 1..10000; 0 = the default (100) */
	uint64_t disk_bytes;		/* bound on all the sandbox writes; 0 = none */
	bool observe;			/* sbx run --observe (never from a file): nothing
					 * the profile refuses is refused, every refusal
					 * is reported as would_deny (docs/learn.md) */

	/* Provider-specific settings ([profile.X.mock], .gvisor, .wasm, .microvm). */
	struct {
		int exit_code;			/* mock: exit status to report (0..255) */
		char *stdout_text;		/* mock: written to stdout, or NULL */
		char *stderr_text;		/* mock: written to stderr, or NULL */
		uint64_t duration_ms;		/* mock: how long the run takes */
		char *fail;			/* mock: NULL, "spawn", "timeout", "crash", "oom" */
	} mock;
	struct {
		char *platform;			/* gvisor: runsc --platform (default "systrap") */
		char *runsc;			/* gvisor: path of runsc, or NULL = $PATH */
	} gvisor;
	struct {
		char *runtime;			/* wasm: "auto" | "wasmtime" | "wasmer" | "iwasm" |
						 * "wasmedge" | "node" */
	} wasm;
	struct {
		char *backend;			/* microvm: "qemu" (default) | "firecracker" */
		char *kernel;			/* microvm: guest kernel, or NULL = sbx config */
		char *initrd;			/* microvm: initramfs with sbx's guest init, or NULL */
		char *firecracker;		/* microvm: path of firecracker, or NULL = $PATH */
		char *jailer;			/* microvm: path of jailer when used, or NULL */
	} microvm;
	struct {
		char *image;			/* unikernel: the PVH/multiboot ELF, or NULL = argv[0] */
		char *qemu;			/* unikernel: qemu-system-x86_64 to use, or NULL = $PATH */
		char *machine;			/* unikernel: "microvm" (default) | "q35" */
		char *cmdline;			/* unikernel: words put before the argv, or NULL */
	} unikernel;

	struct {
		enum sbx_seccomp_preset preset;	/* [seccomp] preset = "default"|"strict" */
		enum sbx_seccomp_action action;	/* action = "errno" (EPERM) | "kill" */
		char **deny;			/* syscall names added to the deny list */
		size_t n_deny;
		char **allow;			/* syscall names removed from it */
		size_t n_allow;
		bool written;			/* a key of [seccomp] was written, even
						 * one equal to its default */
	} seccomp;

	struct {
		enum sbx_net_mode mode;
		struct sbx_net_entry *entries;	/* allow and deny entries, in file order */
		size_t n_entries;
		struct sbx_port_range *listen;
		size_t n_listen;
		bool raw_sockets;		/* raw/packet sockets allowed (default false) */
		char **unix_paths;		/* network.unix: host pathname sockets the
						 * sandbox may reach; "*" = every unix address */
		size_t n_unix;
		uint64_t families;		/* bit AF_x: socket family x allowed beyond the
						 * defaults (unix, inet, inet6, netlink route);
						 * the netlink bit allows every netlink protocol */
		enum sbx_netns namespace;	/* [network] namespace = "auto"|"host"|"private" */
		char *veth_host;		/* "10.200.0.1/30" or NULL = from sbx's pool */
		char *veth_sandbox;		/* "10.200.0.2/30" or NULL */
		struct {
			struct sbx_dns_server *upstream; /* none = the host's resolv.conf */
			size_t n_upstream;
			uint32_t ttl_floor_s;	/* pin lifetime = max(TTL, ttl_floor) + grace */
			uint32_t grace_s;
			bool nxdomain;		/* refuse = "nxdomain" (default "refused") */
			bool set;		/* a [network.dns] key was written */
			struct sbx_srcpos pos;	/* the first key written */
		} dns;
	} net;

	struct {
		enum sbx_fs_mode mode;
		struct sbx_fs_rule *rules;
		size_t n_rules;
		char **exec;			/* absolute paths; a trailing '/' names a directory */
		size_t n_exec;
	} fs;

	struct sbx_srcpos pos;			/* the [profile."NAME"] header */
};

struct sbx_policy {
	struct sbx_profile *profiles;		/* sorted by name */
	size_t n_profiles;
	char **files;				/* every file loaded, in load order */
	size_t n_files;
	bool *seeds_dialect;			/* per file: written in the seeds' dialect */
	char *env;				/* overlay applied, or NULL */
};

struct sbx_diag {
	char *file;
	uint32_t line, col;			/* 0 when the problem has no position */
	char *msg;				/* "unknown key 'memroy' (did you mean 'memory'?)" */
};

struct sbx_diags {
	struct sbx_diag *v;
	size_t n;
};

/*
 * Load policy files. Each path is a file or a directory whose *.toml files are
 * loaded in name order. env selects the overlay [env.NAME] (NULL: none; an
 * environment that no loaded file defines is an error). Returns 0, or -EINVAL
 * when any problem was found (all listed in *diags), or -ENOMEM.
 */
int sbx_policy_load(const char *const *paths, size_t n_paths, const char *env,
		    struct sbx_policy **ret, struct sbx_diags *diags);

/* Same, from a memory buffer; name is used as the file name in positions. */
int sbx_policy_load_buffer(const char *name, const char *buf, size_t len, const char *env,
			   struct sbx_policy **ret, struct sbx_diags *diags);

/* The i-th key a [profile.X] table may hold, dotted into its sub-tables
 * ("nofile", "network.mode", "fs.exec"); NULL past the last. The string may
 * be overwritten by the next call. */
const char *sbx_policy_key(size_t i);

/*
 * The built-in policy (policy/builtin.c): one profile, SBX_DEFAULT_PROFILE,
 * with no network, a read-only view of the host and modest limits. Loaded
 * without an overlay; positions name SBX_BUILTIN_POLICY_NAME as the file.
 */
#define SBX_DEFAULT_PROFILE "default"
#define SBX_BUILTIN_POLICY_NAME "<built-in>"
int sbx_policy_load_builtin(struct sbx_policy **ret, struct sbx_diags *diags);

const struct sbx_profile *sbx_policy_find(const struct sbx_policy *p, const char *name);
struct sbx_policy *sbx_policy_free(struct sbx_policy *p);
void sbx_diags_free(struct sbx_diags *d);

/* Value parsers, exposed for the CLI's --timeout/--memory/--cpu overrides.
 * Return 0 or -EINVAL; *ret untouched on error. */
int sbx_parse_duration_ms(const char *s, uint64_t *ret);	/* "1m30s", "250ms", "2h" */
int sbx_parse_size(const char *s, uint64_t *ret);		/* "64M", "1G", "4096", "512KiB" */
int sbx_parse_cpu_milli(const char *s, uint32_t *ret);
int sbx_parse_rate_bps(const char *s, uint64_t *ret);		/* "10Mbit" -> 10000000 */
#define SBX_RATE_MIN_BPS	8000ull			/* 8kbit */
#define SBX_RATE_MAX_BPS	400000000000ull		/* 400Gbit */
#define SBX_RATE_BURST_MAX	(1ull << 30)		/* 1 GiB */		/* "0.5" -> 500, "2" -> 2000 */

/* A cpuset list ("0-1,4", the kernel's format; one trailing newline is
 * accepted, as the kernel's files end with one) into a bitmap. Returns 0,
 * -EINVAL for bad syntax or an empty set, -ERANGE for a CPU at or beyond
 * SBX_CPUS_MAX; ret untouched on error. */
int sbx_cpus_parse(const char *s, uint64_t ret[SBX_CPUS_WORDS]);
/* The canonical list ("0-1,4"); "" for an empty set. Truncated to len. */
void sbx_cpus_format(const uint64_t cpus[SBX_CPUS_WORDS], char *buf, size_t len);
bool sbx_cpus_any(const uint64_t cpus[SBX_CPUS_WORDS]);
static inline bool sbx_cpus_has(const uint64_t cpus[SBX_CPUS_WORDS], unsigned cpu)
{
	return cpu < SBX_CPUS_MAX && (cpus[cpu / 64] >> (cpu % 64) & 1);
}

/* Parses one network entry string ("192.0.2.0/24:80-443/tcp", "[::1]:8080",
 * "*.example.org:443"). On error returns -EINVAL and a message in errbuf. */
int sbx_parse_net_entry(const char *s, struct sbx_net_entry *ret, char *errbuf, size_t errlen);
void sbx_net_entry_clear(struct sbx_net_entry *e);

/* Parses one [network.dns] upstream server: "192.0.2.53", "192.0.2.53:5353",
 * "2001:db8::53", "[2001:db8::53]:5353" (no names, no prefix). Same contract. */
int sbx_parse_dns_server(const char *s, struct sbx_dns_server *ret, char *errbuf, size_t errlen);
/* Its canonical text: "192.0.2.53", "[2001:db8::53]:5353" (port 53 omitted). */
void sbx_dns_server_format(const struct sbx_dns_server *d, char *buf, size_t len);

/* Parses one listen port range ("8080", "9000-9010/udp"); same contract. */
int sbx_parse_port_range(const char *s, struct sbx_port_range *ret, char *errbuf, size_t errlen);

/* Checks a policy path: absolute, normalised (no '.', '..' or '//'
 * components), no control characters, shorter than maxlen; a trailing '/'
 * (a directory) only when allow_dir. Returns 0, or -EINVAL and a message. */
int sbx_check_path(const char *s, size_t maxlen, bool allow_dir, char *errbuf, size_t errlen);

/* Writes p as a policy file (version = 1 and one [profile."NAME"] table with
 * the keys that differ from an empty profile's defaults) that loads back to
 * an equal profile. Returns 0 or a negative errno from writing f. */
int sbx_profile_write_toml(const struct sbx_profile *p, FILE *f);

/* Writes every profile of p the same way, under one version = 1: the
 * native form of a whole policy (sbx policy convert). */
int sbx_policy_write_toml(const struct sbx_policy *p, FILE *f);

/* Names for enums, as written in policy files ("read-only", "best-effort"). */
const char *sbx_seccomp_preset_name(enum sbx_seccomp_preset p);
const char *sbx_seccomp_action_name(enum sbx_seccomp_action a);
const char *sbx_netns_name(enum sbx_netns n);
/* Socket families of network.families: the name of AF_x ("vsock"), NULL for
 * a number without one; the AF_x number of a name, or -1. */
const char *sbx_family_name(unsigned af);
int sbx_family_parse(const char *name);
/* Families every profile may create: unix, inet and inet6 (judged by the
 * network policy) and netlink (protocol NETLINK_ROUTE only, unless listed). */
#define SBX_FAMILIES_DEFAULT	((1ULL << 1) | (1ULL << 2) | (1ULL << 10) | (1ULL << 16))
#define SBX_FAMILY_MAX		46	/* the kernel's AF_MAX: larger numbers fail anyway */
const char *sbx_isolation_name(enum sbx_isolation i);
const char *sbx_net_mode_name(enum sbx_net_mode m);
const char *sbx_fs_mode_name(enum sbx_fs_mode m);
const char *sbx_audit_name(enum sbx_audit_level a);
const char *sbx_enforcement_name(enum sbx_enforcement e);
const char *sbx_proto_name(uint8_t proto);			/* "any", "tcp", "udp" */
void sbx_access_str(uint32_t access, char buf[8]);		/* "rwx", "r", "deny" */

#endif /* SBX_POLICY_H */
