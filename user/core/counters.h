/* SPDX-License-Identifier: MIT */
/*
 * The live counters of a running sandbox that only its monitor (`sbx run`)
 * knows: audit events read from the ring, lines a sink lost, and denials by
 * kind. The BPF maps hold what the kernel counts (sbx_stats, sbx_drops);
 * these are counted in user space as the events are decoded, so the
 * monitor publishes them for sbxd's metrics and `sbx stats`.
 *
 * Why a file and not a BPF map: the numbers are written by user space and
 * read by user space; a file beside the slot's registry file
 * (/run/<instance>/slots/<slot>.counters, root-only like it) needs no change
 * to the BPF object or its pins, is replaced atomically (rename), can be
 * read with cat, and goes with the slot. It names the sandbox id it belongs
 * to: a reader never takes the numbers of an earlier sandbox in the slot.
 * docs/audit.md (appendix) documents the format.
 */
#ifndef SBX_CORE_COUNTERS_H
#define SBX_CORE_COUNTERS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/instance.h"

struct sbx_run_result;
struct sbx_sandbox;

struct sbx_monitor_counters {
	char id[32];			/* the sandbox they belong to */
	uint64_t events;		/* audit events read from the ring buffer */
	uint64_t unwritten;		/* audit lines a sink lost (consumer drops) */
	uint64_t net_denials;		/* network denials seen as events */
	uint64_t file_denials;		/* SBX_EV_FILE denials, execs aside */
	uint64_t exec_denials;		/* exec and mmap(PROT_EXEC) denials */
	uint64_t syscall_denials;	/* SBX_EV_SYSCALL_DENIED */
};

/* What the monitor last published, and when. */
struct sbx_counters_pub {
	uint64_t last_ns;		/* CLOCK_MONOTONIC of the last write */
	struct sbx_monitor_counters last;
	bool written;
};

/* Publishes no more often than this while the numbers change (a flood of
 * events costs one small file write per period, not one per batch). */
#define SBX_COUNTERS_PERIOD_MS 250

/* The counters of res for sandbox id (the denials folded by kind). */
void sbx_counters_from_result(const struct sbx_run_result *res, const char *id,
			      struct sbx_monitor_counters *ret);

/* Writes sb's counters file when they changed and the period is over.
 * Failures are ignored: the metrics lag, the sandbox goes on. */
void sbx_counters_publish(struct sbx_counters_pub *p, const struct sbx_sandbox *sb,
			  const struct sbx_run_result *res);

/* Reads the counters of slot; -ESTALE when the file belongs to another
 * sandbox than id, -ENOENT when there is none (yet). */
int sbx_counters_read(const struct sbx_instance *in, uint32_t slot, const char *id,
		      struct sbx_monitor_counters *ret);

/* Removes slot's counters file (the slot is released). */
void sbx_counters_remove(const struct sbx_instance *in, uint32_t slot);

#endif
