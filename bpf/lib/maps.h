/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The maps of sbx.bpf.c. Names are what bpftool shows (15 chars at most) and
 * what the pins under /sys/fs/bpf/sbx/ are called. */
#ifndef SBX_BPF_MAPS_H
#define SBX_BPF_MAPS_H

#include "sbx_abi.h"

#define SBX_MAX_POLICIES	(2 * SBX_MAX_SANDBOXES)	/* two per slot: swap = flip */
#define SBX_NET_LPM_ENTRIES	(8 * SBX_MAX_NET_RULES)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sbx_config);
} sbx_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SBX_MAX_SANDBOXES);
	__type(key, __u64);			/* cgroup id */
	__type(value, __u32);			/* slot */
} sbx_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SBX_MAX_SANDBOXES);
	__type(key, __u32);
	__type(value, struct sbx_slot);
} sbx_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SBX_MAX_SANDBOXES);
	__type(key, __u32);
	__type(value, struct sbx_stats);
} sbx_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SBX_MAX_SANDBOXES);
	__type(key, __u32);
	__type(value, struct sbx_drops);
} sbx_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SBX_MAX_POLICIES);
	__type(key, __u32);
	__type(value, struct sbx_policy_cfg);
} sbx_policies SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SBX_MAX_POLICIES);
	__type(key, __u32);
	__type(value, struct sbx_syscall_set);
} sbx_syscalls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SBX_NET_LPM_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sbx_net4_key);
	__type(value, struct sbx_net_value);
} sbx_net4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SBX_NET_LPM_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sbx_net6_key);
	__type(value, struct sbx_net_value);
} sbx_net6 SEC(".maps");

#define SBX_PATH_LPM_ENTRIES	(4 * SBX_MAX_PATH_RULES)

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SBX_PATH_LPM_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sbx_path_key);
	__type(value, struct sbx_path_rule);
} sbx_paths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SBX_PATH_LPM_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sbx_path_key);
	__type(value, struct sbx_path_rule);
} sbx_execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SBX_MAX_POLICIES);
	__type(key, __u32);
	__type(value, struct sbx_fs_cfg);
} sbx_fscfg SEC(".maps");

/* Per-sandbox ring buffers, one consumer each (the sbx run of that sandbox). */
struct sbx_ring_inner {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);	/* set by the loader */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SBX_MAX_SANDBOXES);
	__type(key, __u32);
	__array(values, struct sbx_ring_inner);
} sbx_rings SEC(".maps");

/* Every event is also copied here: the pinned stream for outside consumers. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);	/* set by the loader */
} sbx_events SEC(".maps");

#endif
