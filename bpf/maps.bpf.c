// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The one definition of every map of the sbx object, and of its load-time
 * constants. The programs (net.bpf.c, lsm.bpf.c, syscalls.bpf.c, tc.bpf.c) declare
 * them extern through lib/maps.h; `bpftool gen object` links the five
 * objects into OUTPUT/bpf/sbx.bpf.o, from which the sbx_sbx skeleton is
 * generated. User space pins the maps under their names (user/core/bpfload.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "maps.h"

const volatile __u32 sandbox_level = 0;
const volatile __u64 root_cgroup_id = 0;

struct sbx_config_map sbx_config SEC(".maps");
struct sbx_cgroups_map sbx_cgroups SEC(".maps");
struct sbx_slots_map sbx_slots SEC(".maps");
struct sbx_stats_map sbx_stats SEC(".maps");
struct sbx_drops_map sbx_drops SEC(".maps");
struct sbx_policies_map sbx_policies SEC(".maps");
struct sbx_syscalls_map sbx_syscalls SEC(".maps");
struct sbx_net4_map sbx_net4 SEC(".maps");
struct sbx_net6_map sbx_net6 SEC(".maps");
struct sbx_paths_map sbx_paths SEC(".maps");
struct sbx_execs_map sbx_execs SEC(".maps");
struct sbx_fscfg_map sbx_fscfg SEC(".maps");
struct sbx_loaders_map sbx_loaders SEC(".maps");
struct sbx_rings_map sbx_rings SEC(".maps");
struct sbx_events_map sbx_events SEC(".maps");
struct sbx_rates_map sbx_rates SEC(".maps");
struct sbx_rate_ifs_map sbx_rate_ifs SEC(".maps");
struct sbx_dns_map sbx_dns SEC(".maps");
struct sbx_pins_map sbx_pins SEC(".maps");
struct sbx_dns_orig_map sbx_dns_orig SEC(".maps");
struct sbx_dns_ports_map sbx_dns_ports SEC(".maps");

/* not pinned: scratch of the LSM hooks, per-thread state of the file audit */
struct sbx_lsm_scratch_map sbx_lsm_scratch SEC(".maps");
struct sbx_fsaudit_map sbx_fsaudit SEC(".maps");
struct sbx_listen_seen_map sbx_listen_seen SEC(".maps");
struct sbx_dns_scratch_map sbx_dns_scratch SEC(".maps");

char LICENSE[] SEC("license") = "Dual BSD/GPL";
