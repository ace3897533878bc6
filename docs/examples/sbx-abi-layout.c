/* SPDX-License-Identifier: MIT */
/*
 * Prints the offset and size of every field of the structs in sbx_abi.h, as
 * the tables of docs/audit.md show them. Build with `make -C docs/examples`
 * and compare: a difference means the header or the compiler disagrees with
 * the documented ABI.
 */
#include <stddef.h>
#include <stdio.h>

#include "sbx_abi.h"

#define SZ(t, f) sizeof(((struct t *)0)->f)
#define F(t, f) printf("| `%s` | %zu | %zu |\n", #f, offsetof(struct t, f), SZ(t, f))
#define S(t) printf("\nstruct %s: %zu bytes\n| field | offset | size |\n|---|---|---|\n", #t, sizeof(struct t))

int main(void)
{
	S(sbx_event_hdr);
	F(sbx_event_hdr, type); F(sbx_event_hdr, size); F(sbx_event_hdr, slot);
	F(sbx_event_hdr, seq); F(sbx_event_hdr, ts_ns); F(sbx_event_hdr, pid);
	F(sbx_event_hdr, tgid); F(sbx_event_hdr, cgroup_id); F(sbx_event_hdr, comm);
	S(sbx_ev_net);
	F(sbx_ev_net, hdr); F(sbx_ev_net, verdict); F(sbx_ev_net, family); F(sbx_ev_net, proto);
	F(sbx_ev_net, mapped); F(sbx_ev_net, port); F(sbx_ev_net, pad); F(sbx_ev_net, rule);
	F(sbx_ev_net, policy_id); F(sbx_ev_net, addr);
	S(sbx_ev_sock);
	F(sbx_ev_sock, hdr); F(sbx_ev_sock, verdict); F(sbx_ev_sock, pad); F(sbx_ev_sock, family);
	F(sbx_ev_sock, type); F(sbx_ev_sock, protocol);
	S(sbx_ev_sockopt);
	F(sbx_ev_sockopt, hdr); F(sbx_ev_sockopt, verdict); F(sbx_ev_sockopt, pad);
	F(sbx_ev_sockopt, family); F(sbx_ev_sockopt, level); F(sbx_ev_sockopt, optname);
	S(sbx_ev_quota);
	F(sbx_ev_quota, hdr); F(sbx_ev_quota, bytes); F(sbx_ev_quota, quota);
	S(sbx_ev_life);
	F(sbx_ev_life, hdr); F(sbx_ev_life, workload_pid); F(sbx_ev_life, exit_code);
	F(sbx_ev_life, signal); F(sbx_ev_life, flags);
	S(sbx_emit_ctx);
	F(sbx_emit_ctx, slot); F(sbx_emit_ctx, type); F(sbx_emit_ctx, pad);
	F(sbx_emit_ctx, workload_pid); F(sbx_emit_ctx, exit_code); F(sbx_emit_ctx, signal);
	F(sbx_emit_ctx, flags); F(sbx_emit_ctx, ret_seq);
	S(sbx_config);
	F(sbx_config, abi_version); F(sbx_config, sandbox_level); F(sbx_config, root_cgroup_id);
	F(sbx_config, ring_size); F(sbx_config, events_size);
	S(sbx_slot);
	F(sbx_slot, flags); F(sbx_slot, policy_id); F(sbx_slot, cgroup_id);
	F(sbx_slot, owner_pid); F(sbx_slot, owner_start);
	S(sbx_stats);
	F(sbx_stats, seq); F(sbx_stats, connect_allowed); F(sbx_stats, connect_denied);
	F(sbx_stats, send_allowed); F(sbx_stats, send_denied); F(sbx_stats, bind_allowed);
	F(sbx_stats, bind_denied); F(sbx_stats, sock_denied); F(sbx_stats, bytes_in);
	F(sbx_stats, bytes_out); F(sbx_stats, packets_in); F(sbx_stats, packets_out);
	F(sbx_stats, packets_dropped); F(sbx_stats, quota_hits); F(sbx_stats, quota_reported);
	S(sbx_drops);
	F(sbx_drops, ring); F(sbx_drops, global);
	S(sbx_policy_cfg);
	F(sbx_policy_cfg, net_mode); F(sbx_policy_cfg, audit); F(sbx_policy_cfg, pad);
	F(sbx_policy_cfg, flags); F(sbx_policy_cfg, net_bytes_quota); F(sbx_policy_cfg, n_listen);
	F(sbx_policy_cfg, pad2); F(sbx_policy_cfg, listen);
	S(sbx_listen_range);
	F(sbx_listen_range, lo); F(sbx_listen_range, hi); F(sbx_listen_range, proto);
	F(sbx_listen_range, pad);
	S(sbx_net4_key);
	F(sbx_net4_key, prefixlen); F(sbx_net4_key, policy_id); F(sbx_net4_key, addr);
	S(sbx_net6_key);
	F(sbx_net6_key, prefixlen); F(sbx_net6_key, policy_id); F(sbx_net6_key, addr);
	S(sbx_net_rule);
	F(sbx_net_rule, port_lo); F(sbx_net_rule, port_hi); F(sbx_net_rule, proto);
	F(sbx_net_rule, verdict); F(sbx_net_rule, pad); F(sbx_net_rule, rule);
	S(sbx_net_value);
	F(sbx_net_value, n); F(sbx_net_value, pad); F(sbx_net_value, r);
	return 0;
}
