/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The maps of the sbx object: their types, and extern declarations for the
 * programs and helpers that use them. Each map is defined once, in
 * bpf/maps.bpf.c, as `struct <name>_map <name> SEC(".maps")`; the programs
 * in net.bpf.c, lsm.bpf.c and syscalls.bpf.c refer to the same map through
 * these declarations, and `bpftool gen object` (libbpf's static linker)
 * resolves them. The linker compares every extern with the definition (map
 * type, key, value, max_entries, flags) and fails the build on a difference,
 * so one named type per map keeps the two in step. The declarations need
 * SEC(".maps") too: without it clang describes the key and value types of an
 * extern as forward declarations, and the linker refuses the map ("can't
 * determine value size"). These are declarations, not definitions: the
 * helpers in lib/ use the maps, so they are declared here, below them.
 *
 * Names are what bpftool shows (15 chars at most) and what the pins under
 * /sys/fs/bpf/<instance>/ are called (user/core/bpfload.c, docs/bpftool.md).
 */
#ifndef SBX_BPF_MAPS_H
#define SBX_BPF_MAPS_H

#include "sbx_abi.h"

#define SBX_MAX_POLICIES	(2 * SBX_MAX_SANDBOXES)	/* two per slot: swap = flip */
#define SBX_NET_LPM_ENTRIES	(8 * SBX_MAX_NET_RULES)

struct sbx_config_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sbx_config);
};
extern struct sbx_config_map sbx_config SEC(".maps");

struct sbx_cgroups_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SBX_MAX_SANDBOXES);
	__type(key, __u64);			/* cgroup id */
	__type(value, __u32);			/* slot */
};
extern struct sbx_cgroups_map sbx_cgroups SEC(".maps");

struct sbx_slots_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SBX_MAX_SANDBOXES);
	__type(key, __u32);
	__type(value, struct sbx_slot);
};
extern struct sbx_slots_map sbx_slots SEC(".maps");

struct sbx_stats_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SBX_MAX_SANDBOXES);
	__type(key, __u32);
	__type(value, struct sbx_stats);
};
extern struct sbx_stats_map sbx_stats SEC(".maps");

struct sbx_drops_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SBX_MAX_SANDBOXES);
	__type(key, __u32);
	__type(value, struct sbx_drops);
};
extern struct sbx_drops_map sbx_drops SEC(".maps");

struct sbx_policies_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SBX_MAX_POLICIES);
	__type(key, __u32);
	__type(value, struct sbx_policy_cfg);
};
extern struct sbx_policies_map sbx_policies SEC(".maps");

struct sbx_syscalls_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SBX_MAX_POLICIES);
	__type(key, __u32);
	__type(value, struct sbx_syscall_set);
};
extern struct sbx_syscalls_map sbx_syscalls SEC(".maps");

struct sbx_net4_map {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SBX_NET_LPM_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sbx_net4_key);
	__type(value, struct sbx_net_value);
};
extern struct sbx_net4_map sbx_net4 SEC(".maps");

struct sbx_net6_map {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SBX_NET_LPM_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sbx_net6_key);
	__type(value, struct sbx_net_value);
};
extern struct sbx_net6_map sbx_net6 SEC(".maps");

/* Host names: where each slot's resolver listens, the addresses it pinned,
 * and the destinations sent to it (sbx_abi.h, docs/network.md). */
#define SBX_MAX_PINS		262144	/* all sandboxes (64 at their cap); sbx caps each one at 4096 */

struct sbx_dns_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SBX_MAX_SANDBOXES);
	__type(key, __u32);
	__type(value, struct sbx_dns_slot);
};
extern struct sbx_dns_map sbx_dns SEC(".maps");

struct sbx_pins_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SBX_MAX_PINS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sbx_pin_key);
	__type(value, struct sbx_pin_value);
};
extern struct sbx_pins_map sbx_pins SEC(".maps");

struct sbx_dns_ports_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * SBX_MAX_SANDBOXES);
	__type(key, struct sbx_dns_port_key);
	__type(value, __u32);			/* slot */
};
extern struct sbx_dns_ports_map sbx_dns_ports SEC(".maps");

struct sbx_dns_orig_map {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sbx_dns_orig);	/* per socket: freed with it */
};
extern struct sbx_dns_orig_map sbx_dns_orig SEC(".maps");

#define SBX_PATH_LPM_ENTRIES	(4 * SBX_MAX_PATH_RULES)

struct sbx_paths_map {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SBX_PATH_LPM_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sbx_path_key);
	__type(value, struct sbx_path_rule);
};
extern struct sbx_paths_map sbx_paths SEC(".maps");

struct sbx_execs_map {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SBX_PATH_LPM_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sbx_path_key);
	__type(value, struct sbx_path_rule);
};
extern struct sbx_execs_map sbx_execs SEC(".maps");

struct sbx_fscfg_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SBX_MAX_POLICIES);
	__type(key, __u32);
	__type(value, struct sbx_fs_cfg);
};
extern struct sbx_fscfg_map sbx_fscfg SEC(".maps");

/* ELF interpreters per policy id: the exec guard's (lib/fsaudit.h). */
struct sbx_loaders_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SBX_MAX_POLICIES * SBX_MAX_LOADERS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sbx_loader_key);
	__type(value, struct sbx_loader);
};
extern struct sbx_loaders_map sbx_loaders SEC(".maps");

/* Per-sandbox ring buffers, one consumer each (the sbx run of that sandbox). */
struct sbx_ring_inner {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);	/* set by the loader */
};

struct sbx_rings_map {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SBX_MAX_SANDBOXES);
	__type(key, __u32);
	__array(values, struct sbx_ring_inner);
};
extern struct sbx_rings_map sbx_rings SEC(".maps");

/* Every event is also copied here: the pinned stream for outside consumers. */
struct sbx_events_map {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);	/* set by the loader */
};
extern struct sbx_events_map sbx_events SEC(".maps");

/* ---- maps private to one part, not pinned -------------------------------- */

/* Bounds indexes into an LPM path key for the verifier (SBX_MAX_PATH_LEN need
 * not be a power of two); real lengths are checked against SBX_MAX_PATH_LEN. */
#define SBX_PATH_MASK		255

/* BPF LSM per-CPU scratch (lib/lsm.h): the LPM key with room behind it for
 * bounded writes, and the event. Non-sleepable programs only disable
 * migration, so a preempted program may find its scratch reused on the same
 * CPU: gen, bumped by every user, is checked after the lookup and a change
 * fails closed. */
struct sbx_lsm_scratch {
	__u64 gen;
	struct sbx_path_key key;
	char slack[2 * (SBX_PATH_MASK + 1)];	/* masked index + masked size */
	struct sbx_ev_file ev;
};

struct sbx_lsm_scratch_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sbx_lsm_scratch);
};
extern struct sbx_lsm_scratch_map sbx_lsm_scratch SEC(".maps");

/* The DNS event user space hands the emitter (lib/syscalls.h): too big
 * for the stack. */
struct sbx_dns_scratch_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sbx_ev_dns);
};
extern struct sbx_dns_scratch_map sbx_dns_scratch SEC(".maps");

/* The file syscall in flight of a sandboxed thread (lib/fsaudit.h). */
struct sbx_fsa_entry {
	__u32 nr;			/* syscall recorded */
	__u32 armed;			/* 1 from sys_enter until its sys_exit was seen */
	struct sbx_ev_file ev;		/* op, access and path filled at sys_enter */
};

struct sbx_fsaudit_map {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sbx_fsa_entry);
};
extern struct sbx_fsaudit_map sbx_fsaudit SEC(".maps");

/* Listening sockets on a port outside the profile's listen list whose
 * refusal was reported (lib/net.h): one audit event per socket, not one per
 * SYN a peer retransmits. */
struct sbx_listen_seen_map {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u8);
};
extern struct sbx_listen_seen_map sbx_listen_seen SEC(".maps");

/* Bandwidth rates by slot, and the host ends of the veth pairs (ifindex ->
 * slot); written by user/kernel/netrate.c. */
struct sbx_rates_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SBX_MAX_SANDBOXES);
	__type(key, __u32);
	__type(value, struct sbx_rate);
};
extern struct sbx_rates_map sbx_rates SEC(".maps");

struct sbx_rate_ifs_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SBX_MAX_SANDBOXES);
	__type(key, __u32);			/* host-end ifindex */
	__type(value, __u32);			/* slot */
};
extern struct sbx_rate_ifs_map sbx_rate_ifs SEC(".maps");

/* Level of sandbox cgroups in the cgroup2 hierarchy (sbx root level + 1),
 * set through the skeleton's rodata before load. */
extern const volatile __u32 sandbox_level;
/* The id of the sbx cgroup root (sandbox_level - 1), set the same way: the
 * syscall tracepoints let every other task go on this compare alone. */
extern const volatile __u64 root_cgroup_id;

#endif
