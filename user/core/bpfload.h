/* SPDX-License-Identifier: MIT */
/*
 * Loading, pinning and adopting sbx's BPF programs and maps. The first sbx
 * that needs them loads the sbx object (bpf/net, lsm, syscalls and
 * maps.bpf.c linked into one), attaches every program once at the sbx
 * cgroup root with pinned links (so enforcement outlives the manager: fail
 * closed) and pins every map; later ones adopt the pins. An instance name
 * ($SBX_INSTANCE, default "sbx") keeps independent setups apart:
 *   /sys/fs/bpf/<instance>/   pins         /run/<instance>/   lock and state
 *   <cgroup2><own cgroup>/<instance>/     cgroup root
 */
#ifndef SBX_BPFLOAD_H
#define SBX_BPFLOAD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/instance.h"
#include "kernel/cgroup.h"
#include "sbx_abi.h"

#define SBX_DEFAULT_RING_SIZE	(256u * 1024)
#define SBX_DEFAULT_EVENTS_SIZE	(1024u * 1024)

#define SBX_BPF_MAX_LINKS 64

struct sbx_bpf {
	struct sbx_instance paths;
	struct sbx_cgroot root;
	struct sbx_config cfg;
	bool loaded_now;	/* this process loaded the programs (else adopted) */
	int config_fd, cgroups_fd, slots_fd, stats_fd, drops_fd, policies_fd;
	int net4_fd, net6_fd, rings_fd, events_fd, syscalls_fd, emit_fd;
	int paths_fd, execs_fd, fscfg_fd, loaders_fd, rates_fd, rate_ifs_fd;
	int dns_fd, pins_fd, dns_orig_fd, dns_ports_fd;	/* host names (core/dnsrun.h) */
	/* Every link_* pin, held open for the manager's lifetime: a link lives
	 * while any fd or pin refers to it, so a workload that unlinks the
	 * pins does not detach the programs while a sandbox runs. */
	int link_fds[SBX_BPF_MAX_LINKS];
	size_t n_links;
};

/* Adopts the pinned programs, or loads, attaches and pins them. ring_size and
 * events_size apply only when loading (0 = default; powers of two >= 4096).
 * On failure, *why says what went wrong in words. */
int sbx_bpf_open(struct sbx_bpf *b, uint32_t ring_size, uint32_t events_size,
		 char *why, size_t whylen);
/* Only adopts: -ENOENT when nothing is pinned (nothing is loaded then). */
int sbx_bpf_adopt(struct sbx_bpf *b, char *why, size_t whylen);
void sbx_bpf_close(struct sbx_bpf *b);

/* True when the instance's pins exist. */
bool sbx_bpf_pinned(const struct sbx_instance *p);

/* Removes every pin of the instance (detaching the programs) and the cgroup
 * root when empty. Returns the number of pins removed or -errno. */
int sbx_bpf_unload(const struct sbx_instance *p, char *why, size_t whylen);

/* Opens the pinned tc programs of the bandwidth rate (sandbox end, host
 * end); the caller closes both. */
int sbx_bpf_rate_progs(const struct sbx_bpf *b, int *ret_sandbox_fd, int *ret_host_fd,
		       char *why, size_t whylen);

/* bpf_map_lookup_elem as a bare bpf(2) call (the monitor's idle tick):
 * 0 or -errno. */
int sbx_bpf_lookup(int map_fd, const void *key, void *value);

/* Puts a start/exit event into the sandbox's streams (sbx_emit_user). */
int sbx_bpf_emit(const struct sbx_bpf *b, const struct sbx_emit_ctx *ctx, uint64_t *ret_seq);

#endif
