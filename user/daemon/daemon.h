/* SPDX-License-Identifier: MIT */
/*
 * sbxd's state: its settings, the loaded policy, the registry of sandboxes
 * and the varlink server, all driven by one epoll loop (main.c).
 *
 * Each sandbox runs under a monitor: the sbx binary, executed as
 *   sbx run --policy STATE/sandboxes/NAME/profile.toml --profile P
 *           --result STATE/sandboxes/NAME/result.json --log .../output.log -- CMD
 * in a session of its own. The monitor is today's direct-mode `sbx run`:
 * it builds and enforces the sandbox, and writes its result when the
 * workload ends. It does not need sbxd, so the workloads and their
 * enforcement survive a kill -9 of the daemon; the daemon watches each
 * monitor through a pidfd, and a restarted daemon adopts the monitors
 * recorded in its state directory (sandbox.c).
 */
#ifndef SBXD_DAEMON_H
#define SBXD_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/policy_source.h"
#include "core/journal.h"
#include "core/auditlog.h"
#include "daemon/config.h"
#include "varlink/server.h"
#include "varlink/varlink.h"

#define SBXD_API_VERSION 1
#define SBXD_NAME_MAX 63

enum sbxd_state { SBXD_CREATED, SBXD_RUNNING, SBXD_EXITED, SBXD_RESTARTING };
enum sbxd_restart { SBXD_RESTART_NO, SBXD_RESTART_ON_FAILURE, SBXD_RESTART_ALWAYS };

struct sbxd;

struct sbxd_sandbox {
	struct sbxd *d;
	struct sbxd_sandbox *next;
	char name[SBXD_NAME_MAX + 1];
	char dir[4096];			/* STATE/sandboxes/NAME */
	uid_t owner;
	gid_t owner_gid;
	char *profile;			/* the profile's name */
	char *provider;
	char **argv;			/* the command */
	json_object *overrides;		/* as the caller gave them (for a restart) */
	enum sbxd_state state;
	enum sbxd_restart restart;
	uint32_t max_restarts, restarts;
	uint32_t policy_version;	/* bumped by each Update and moving Reload */
	pid_t monitor;			/* the sbx run process, 0 = none */
	uint64_t monitor_start;		/* its start time, against pid reuse */
	struct ev_io pidfd;		/* the monitor's pidfd (fd -1 = none) */
	bool child;			/* our child (waitable), not adopted */
	char id[32];			/* sbx's sandbox id of the current run */
	uint64_t started_us;		/* CLOCK_REALTIME */
	bool has_exit;
	int exit_code;			/* sbx run's exit status */
	int signal;			/* the workload's signal, 0 = none */
	bool stopping;			/* Stop/Remove asked: no restart */
	struct ev_io timer;		/* stop escalation or restart backoff */
	struct vl_call *run_call;	/* Run waiting for the exit */
	struct vl_call *start_call;	/* Start waiting for the sandbox to run */
	struct vl_call **waiters;	/* Stop/Restart waiting for the exit */
	size_t n_waiters;
	bool ephemeral;			/* from Run: forgotten after it ends */
	bool tty;			/* Run with a pty (sbx run -t) */
	bool remove_on_exit;
	bool restart_after_stop;	/* Restart: spawn again once stopped */
	int run_fds[3];			/* the Run caller's stdio until spawn */
	uint64_t start_req_us;		/* CLOCK_MONOTONIC of the Start/Run/restart; 0 = none */
	bool start_pending;		/* spawned, not yet seen running (metrics.c) */
	bool pooled;			/* its monitor came from a warm pool (pool.c) */
	/* A pooled monitor's go socket after the go: its SBX_POOL_DONE byte
	 * says the workload's result is written before the teardown (fd -1 = none). */
	struct ev_io done;
};

/* A warm pool (pool.c): pool.PROFILE = N in sbxd.toml or --pool. */
struct sbxd_pool_entry;
struct sbxd_reap;
struct sbxd_pool {
	struct sbxd *d;
	char profile[128];		/* the profile's name */
	uint32_t size;			/* N */
	char *toml;			/* the key: the profile as written; NULL = not pooled (why) */
	size_t toml_len;
	char *run_name;			/* its name in the file (--profile) */
	char file[4200];		/* STATE/pool/PROFILE.toml, which the entries load */
	char why[256];			/* why this profile has no pool */
	struct sbxd_pool_entry *entries;
	uint32_t n_entries, n_ready;	/* building or ready, not draining */
	uint64_t hits, misses, failures;
	uint32_t streak;		/* entries in a row that failed before ready */
	bool backing_off;
	struct ev_io timer;		/* the backoff, or a Run's deferred refill */
};

/* Daemon-wide series of the metrics (metrics.c): since sbxd started. */
#define SBXD_LATENCY_BUCKETS 12
struct sbxd_metrics {
	uint64_t started;		/* spawns seen running */
	uint64_t failed;		/* spawns that failed, or whose sbx failed before running */
	uint64_t latency[SBXD_LATENCY_BUCKETS + 1];	/* start latency, per bucket (+Inf last) */
	double latency_sum;		/* seconds */
	/* The last full text (the endpoint's, an admin's): a scrape costs
	 * sbxd's only thread some 1 ms per sandbox, and anyone on the host
	 * can scrape in a loop, so within SBXD_METRICS_CACHE_MS and while the
	 * registry did not change (fingerprint) the text is served again. */
	char *cache;
	size_t cache_len;
	uint64_t cache_us, cache_fp;
};

struct sbxd_http;

/* api.denied lines are rate limited: every refused call of any local user
 * used to write one, unbounded (tens of thousands a second from one user:
 * the size-bounded log rotated the sandboxes' events away within a minute). */
#define SBXD_DENY_UIDS		64	/* callers tracked; the least recently limited one makes room */
#define SBXD_DENY_RATE		20	/* lines a second per caller uid */
#define SBXD_DENY_BURST		200
#define SBXD_DENY_RATE_ALL	100	/* lines a second of all callers together */
#define SBXD_DENY_BURST_ALL	1000

struct sbxd {
	struct sbxd_config cfg;
	int epfd;
	struct vl_server *server;
	struct cli_policy pol;		/* loaded from cfg.policy_dir */
	bool have_pol;
	char policy_error[512];
	struct sbxd_sandbox *sandboxes;
	size_t n_sandboxes;
	uint64_t run_counter;
	bool quit, reload;
	char sbx_path[4096];
	char cgroup_root[4096];		/* exported to monitors as SBX_CGROUP_ROOT ("" = none) */
	struct follower *followers;	/* Logs --follow and Subscribe calls */
	struct ev_io follow_timer;
	struct sbx_auditlog audit;	/* audit.jsonl for api.denied (core/auditlog.h) */
	struct sbxd_deny_bucket {	/* api.denied rate limit of one caller uid (perms.c) */
		uint32_t uid;
		uint64_t tat;		/* GCRA: theoretical arrival time, CLOCK_MONOTONIC ns */
	} deny_rl[SBXD_DENY_UIDS];
	uint64_t deny_tat_all;		/* the same for all callers together */
	uint64_t deny_pending;		/* api.denied lines kept out since the last one written */
	uint64_t deny_suppressed;	/* and since sbxd started */
	struct sbx_journal journal;	/* audit_journal: api.denied to journald too */
	int lock_fd;			/* STATE/lock, flock()ed while sbxd runs */
	struct rlimit nofile;		/* sbxd's own soft limit is raised; monitors get this */
	char audit_path[4096];
	struct sbxd_metrics metrics;
	struct sbxd_http *http;		/* metrics_listen's server, NULL = off */
	struct sbxd_pool *pools;	/* warm pools (pool.c) */
	size_t n_pools;
	struct sbxd_reap *reaps;	/* monitors tearing down after their Run's answer (pool.c) */
};

/* ---- sandbox.c: the registry ---- */
int sbxd_registry_open(struct sbxd *d, char *why, size_t len);	/* adopts what runs */
struct sbxd_sandbox *sbxd_find(struct sbxd *d, const char *name);
int sbxd_sandbox_new(struct sbxd *d, const char *name, uid_t owner, gid_t gid,
		     struct sbxd_sandbox **ret, char *why, size_t len);
/* Replaces STATE/sandboxes/NAME/profile.toml (atomically) with p: the
 * profile the monitor runs, and a restart runs. */
int sbxd_sandbox_write_profile(struct sbxd_sandbox *sb, const struct sbx_profile *p);
/* Writes profile.toml from p (the effective profile) and spawns the monitor. */
int sbxd_sandbox_spawn(struct sbxd_sandbox *sb, const struct sbx_profile *p, char *why, size_t len);
int sbxd_sandbox_signal(struct sbxd_sandbox *sb, int sig);
/* Stop: TERM now, KILL after timeout_ms. */
int sbxd_sandbox_stop(struct sbxd_sandbox *sb, uint64_t timeout_ms);
void sbxd_sandbox_forget(struct sbxd_sandbox *sb);	/* removes its state and frees it */
int sbxd_sandbox_save(struct sbxd_sandbox *sb);
/* sb's entry in sbx's own registry (id, slot, workload pid, cgroup), found
 * by its monitor's pid; sets sb->id. sbxd_sandbox_match looks in a list
 * the caller read once (sbx_sandbox_list) and returns NULL when sb is not
 * there; sbxd_sandbox_locate reads the registry: -ESRCH when not running. */
struct sbx_sandbox_info;
const struct sbx_sandbox_info *sbxd_sandbox_match(struct sbxd_sandbox *sb,
						const struct sbx_sandbox_info *v, size_t n);
int sbxd_sandbox_locate(struct sbxd_sandbox *sb, struct sbx_sandbox_info *ret);
/* The Sandbox object of the API; _at with sb's registry entry already
 * found (NULL: not registered). */
json_object *sbxd_sandbox_json(struct sbxd_sandbox *sb, bool counters);
json_object *sbxd_sandbox_json_at(struct sbxd_sandbox *sb, bool counters,
				  const struct sbx_sandbox_info *info);
const char *sbxd_state_name(enum sbxd_state s);
const char *sbxd_restart_name(enum sbxd_restart r);
int sbxd_restart_parse(const char *s, enum sbxd_restart *ret);
void sbxd_sandbox_wake(struct sbxd_sandbox *sb);	/* answers waiters after an exit */
/* sb's monitor is pid (sbxd's child), watched through pidfd: running now. */
void sbxd_sandbox_attach(struct sbxd_sandbox *sb, pid_t pid, int pidfd);
/* A pooled sb's go socket, on which its monitor says its result is written. */
void sbxd_sandbox_watch_done(struct sbxd_sandbox *sb, int fd);
/* In a child: becomes a monitor with argv, as sb's. Never returns. */
void sbxd_monitor_exec(struct sbxd_sandbox *sb, char **argv) __attribute__((noreturn));

/* ---- pool.c: warm pools ---- */
int sbxd_pool_init(struct sbxd *d, char *why, size_t len);
/* After a policy (re)load: a changed profile drains its pool; refills. */
void sbxd_pool_reconcile(struct sbxd *d);
/* sb's start from a pool entry when prof is the pool's key and the caller
 * root: 0 (sb runs, adopted), -EAGAIN (a miss: start cold), -ENOENT (no
 * pool for this start). */
int sbxd_pool_take(struct sbxd_sandbox *sb, const struct sbx_profile *prof);
/* A monitor that answered its Run and tears down: reaped when it ends
 * (the sandbox's record is gone already); takes pidfd. */
void sbxd_reap(struct sbxd *d, pid_t pid, int pidfd);
/* The Pool objects of the API (org.sbx.Manager.varlink), a new array. */
json_object *sbxd_pool_json(struct sbxd *d, bool reasons);
/* A pooled Run was answered: its pool gets its replacement now. */
void sbxd_pool_refill(struct sbxd *d);
/* sbxd stops: every entry tears down, waited for, and so do the reaps. */
void sbxd_pool_stop(struct sbxd *d);

/* ---- methods.c: org.sbx.Manager ---- */
const struct vl_interface *sbxd_manager_interface(struct sbxd *d);
int sbxd_policy_load(struct sbxd *d, struct cli_policy *ret, char *why, size_t len,
		     json_object **ret_err);
/* The Overrides object as sbx run's flags (strings point into ov). */
struct adhoc_args;
int sbxd_overrides_args(json_object *ov, struct adhoc_args *a);
/* Update (update.c): applies params to the running sandbox; answers c. */
int sbxd_update(struct sbxd *d, struct vl_call *c, struct sbxd_sandbox *sb, json_object *params);
/* Reload --running: moves running sandboxes to their profile's new
 * version; returns the names moved (a JSON array). */
json_object *sbxd_move_running(struct sbxd *d, bool running);
int sbxd_restart_profile(struct sbxd_sandbox *sb);

/* ---- follow.c: Logs and Subscribe ---- */
int sbxd_logs(struct sbxd *d, struct vl_call *c, struct sbxd_sandbox *sb, int64_t tail, bool follow);
int sbxd_subscribe(struct sbxd *d, struct vl_call *c, struct sbxd_sandbox *only);
/* The periodic tick (follow.c) also answers Start once its sandbox runs
 * (sbxd_start_check); it runs while anything waits for it. */
int sbxd_tick_on(struct sbxd *d);
void sbxd_start_check(struct sbxd *d);
/* A sandbox is forgotten: its followers end. */
void sbxd_followers_drop(struct sbxd *d, struct sbxd_sandbox *sb);

/* ---- metrics.c: the Prometheus series (docs/monitoring.md) ---- */
void sbxd_metrics_spawned(struct sbxd_sandbox *sb);
void sbxd_metrics_failed(struct sbxd_sandbox *sb);
void sbxd_metrics_exited(struct sbxd_sandbox *sb);	/* after its result is read */
void sbxd_metrics_check(struct sbxd *d);		/* from the tick: seen running? */
/* The exposition text (util/prom.h) of what peer may see: NULL (the HTTP
 * endpoint) is everything. *ret is NUL-terminated; the caller frees it. */
int sbxd_metrics_text(struct sbxd *d, const struct vl_peer *peer, char **ret, size_t *ret_len);
void sbxd_metrics_free(struct sbxd *d);
/* http.c: metrics_listen (libmicrohttpd on sbxd's epoll loop) */
int sbxd_http_start(struct sbxd *d, char *why, size_t len);
void sbxd_http_stop(struct sbxd *d);

/* ---- perms.c: who may do what ---- */
bool sbxd_is_admin(const struct sbxd *d, const struct vl_peer *peer);
/* Whether peer may run profile p: root; allow_users (name or uid);
 * allow_groups (a group of the peer's, primary or supplementary). */
bool sbxd_may_run(const struct sbxd *d, const struct vl_peer *peer, const struct sbx_profile *p);
bool sbxd_may_see(const struct sbxd *d, const struct vl_peer *peer, const struct sbxd_sandbox *sb);
/* Refuses a call: an api.denied audit line and a PermissionDenied error. */
int sbxd_deny(struct sbxd *d, struct vl_call *c, const char *reason, const char *parameter);

/* Resolves the paths of a non-root caller's overrides (ro, rw, exec, cwd)
 * as that caller and puts the real paths in their place. -errno of the
 * path that failed (-EACCES: the caller may not reach it), with why. */
int sbxd_caller_paths(const struct vl_peer *peer, json_object *ov, char *why, size_t len);
void sbxd_audit_line(struct sbxd *d, json_object *ev);

#endif
