/* SPDX-License-Identifier: MIT */
/*
 * Running one workload in a sandbox, start to finish: resolve, load or adopt
 * the BPF programs, create the sandbox, spawn through the provider, relay
 * signals, enforce the timeout, stream audit events, collect the result and
 * remove everything again. Exit codes: EXIT STATUS in docs/man/sbx-run.1.
 */
#ifndef SBX_RUN_H
#define SBX_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"
#include "provider.h"
#include "sbx_abi.h"

struct sbx_run_result;

struct sbx_run_opts {
	const struct sbx_profile *profile;
	/* The policy file profile was loaded from (by its name), read again
	 * after a live update of the sandbox (core/update.h) so that audit
	 * events name the entries of the new policy; NULL = none. */
	const char *policy_file;
	const struct sbx_provider *provider;
	char *const *argv;
	const char *audit_path;		/* "-" = stderr, NULL = none (the log still gets them) */
	const char *result_path;	/* "-" = stderr, NULL = none (written by the caller) */
	uint32_t ring_size;		/* when sbx loads the programs; 0 = default */
	bool tty;			/* -t: a pty of sbx's for the workload (core/tty.h) */
	/* --log: the workload's stdout and stderr into this file, rotated
	 * (core/logfile.h); NULL = they pass through. 0 = the defaults. */
	const char *log_path;
	uint64_t log_max_size;
	unsigned log_keep;
	bool log_keep_set;		/* log_keep 0 is a choice, not the default */
	bool audit_journal;		/* also send audit events to journald (core/journal.h) */
	/* sbxd's warm pools (docs/api.md, "Warm pools"): called once the
	 * sandbox is built and its provider prepared, before anything that
	 * varies per start is used (argv, stdio, tty, log, policy_file). It
	 * blocks until sbxd hands the sandbox out, then fills those in; it
	 * also returns when a signal is pending on sigfd. < 0: nothing runs
	 * and everything is torn down (a drained pool entry). With a held
	 * provider (providers/provider.h go) the sandbox's init exists
	 * already: childfd is its pidfd, and its end returns too (the entry
	 * failed before it was handed out: sbxd replaces it). NULL = cold. */
	int (*wait_go)(void *ctx, int sigfd, int childfd);
	void *wait_go_ctx;
	/* Called once the workload and everything it started are gone and res
	 * is complete (its log closed, its audit events written), before the
	 * teardown; not when sbx failed. sbxd's pooled monitor writes its
	 * result and tells sbxd there, which answers the Run. NULL = none. */
	void (*finished)(void *ctx, const struct sbx_run_result *res);
	void *finished_ctx;
	/* sbx-oci: the OCI container's id, the member "container" of every
	 * audit line of the sandbox (docs/audit.md); NULL = none. */
	const char *container_id;
	/* What the caller knows is not enforced (sbx-oci: config.json fields
	 * under best-effort), listed first in the degraded list; NULL-terminated
	 * or NULL. */
	const char *const *degraded;
};

struct sbx_run_result {
	char id[32];
	int exit_code;			/* what sbx exits with */
	bool failed;			/* sbx failed (exit_code 125 is sbx's, not the workload's) */
	int status_code;		/* workload exit status, -1 if signalled */
	int signal;
	bool timed_out;
	bool exec_failed;
	bool oom_killed;
	uint64_t cpu_user_us, cpu_system_us;
	uint64_t wall_ns, cpu_us, peak_rss_kib;
	struct sbx_stats st;
	struct sbx_drops drops;
	struct sbx_rate rate;		/* bandwidth rate and its counters; 0 = none */
	uint64_t events, seq_gaps;
	uint64_t unwritten;		/* audit lines a sink did not take (a full disk), over all sinks */
	uint64_t denials[16];		/* by event type; SBX_EV_FILE without execs */
	uint64_t exec_denials;		/* SBX_EV_FILE denials of exec and mmap(PROT_EXEC) */
	uint64_t would_deny;		/* observe mode: would_deny events, not in denials */
	char **degraded;		/* what was not enforced, and why */
	size_t n_degraded;
	bool has_disk;			/* disk = ...: the provider bounds the writes */
	struct sbx_disk_usage disk;	/* its use when the sandbox ended */
	bool disk_full;			/* it was full at some check (limit.disk emitted) */
	bool has_log;			/* --log */
	uint64_t log_bytes;		/* output written to the log */
	uint64_t log_unwritten;		/* output a failed write lost (a full disk) */
	bool has_journal;		/* audit_journal */
	uint64_t journal_sent;		/* entries journald took */
	uint64_t journal_unwritten;	/* entries lost (in unwritten too): no journald, a failed send */
};

/* Returns the exit status for sbx (workload's, 124, 125, 126, 127, 128+N).
 * Errors are written to err_out as "sbx: error: ..." lines. */
int sbx_run(const struct sbx_run_opts *o, struct sbx_run_result *res, FILE *err_out);
void sbx_run_result_free(struct sbx_run_result *r);

/* Audit log of an instance: /var/log/<instance>/audit.jsonl ($SBX_LOG_DIR overrides the dir). */
int sbx_audit_log_path(char *buf, size_t len);

#endif
