/* SPDX-License-Identifier: MIT */
/*
 * libsbx - the C client library of sbxd, the sbx daemon
 *
 * SYNOPSIS
 *	#include <sbx/libsbx.h>
 *	cc prog.c $(pkg-config --cflags --libs libsbx)
 *
 * DESCRIPTION
 *	sbxd serves the varlink interface org.sbx.Manager (docs/api.md) on a
 *	unix socket. This library connects to it, sends calls and hands back
 *	the replies as json-c objects. Every function blocks until the reply
 *	has come (a client, not a server: there is no event loop to join).
 *	The daemon identifies the caller by the socket (SO_PEERCRED): what a
 *	call may do depends on the uid and groups of the calling process.
 *
 *	One struct sbx_client is one connection, used by one thread at a
 *	time. A call that is cut short (a callback that returns non-zero,
 *	a broken connection) closes the connection; the next call opens it
 *	again on the same socket path.
 *
 * RETURN VALUE
 *	Functions that return int return 0 on success and a negative errno
 *	on failure. When the daemon answered with a varlink error, the
 *	return value maps its name (NoSuchSandbox, NoSuchProfile -ENOENT;
 *	NameInUse -EEXIST; NotRunning -ESRCH; IsRunning -EBUSY;
 *	PermissionDenied -EACCES; InvalidParameter -EINVAL; InvalidPolicy
 *	-EBADMSG; Unenforceable -EOPNOTSUPP; Failed -EIO; any other
 *	-EPROTO) and sbx_client_last_error() has the error's name, its
 *	parameters and a sentence for a person. Other failures are those of
 *	the socket (-ECONNREFUSED, -ENOENT when no socket exists, -EPIPE,
 *	-ECONNRESET when the daemon went away during a call, -EBADMSG for a
 *	reply that is not JSON); last_error then has name NULL and the
 *	sentence.
 *
 * THREADS
 *	A client is not locked: use one per thread, or serialise its use.
 *
 * SEE ALSO
 *	docs/libsbx.md, docs/api.md, sbxd(8), sbx(1)
 */
#ifndef SBX_LIBSBX_H
#define SBX_LIBSBX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The socket used when sbx_client_open() is given no path and $SBX_SOCKET
 * is unset or empty. */
#define SBX_SOCKET_DEFAULT "/run/sbx/sbxd.sock"
/* The interface; a method name without a dot is taken to be one of its. */
#define SBX_INTERFACE "org.sbx.Manager"

struct sbx_client;

/* A varlink error answered by the daemon, or a failure of the connection
 * (name NULL). Valid until the next call on the same client. */
struct sbx_error {
	const char *name;		/* "org.sbx.Manager.NoSuchSandbox", or NULL */
	json_object *parameters;	/* the error's parameters (never NULL after an
					 * error answer; borrowed) */
	int error;			/* the negative errno returned */
	char message[1024];		/* e.g. "no sandbox 'web'" */
};

/*
 * sbx_client_open - connect to sbxd
 *	path: the socket; NULL: $SBX_SOCKET, else SBX_SOCKET_DEFAULT.
 *	On success *ret is a client for sbx_client_close(). -ENOENT: no
 *	socket there; -ECONNREFUSED: a socket nobody listens on (a daemon
 *	that died); both mean "sbxd is not running". On failure *ret is
 *	NULL and nothing needs freeing.
 */
int sbx_client_open(const char *path, struct sbx_client **ret);

/* sbx_client_close - close the connection and free the client (NULL is fine). */
void sbx_client_close(struct sbx_client *c);

/* sbx_client_path - the socket path the client connects to. */
const char *sbx_client_path(const struct sbx_client *c);

/* sbx_client_last_error - what the last failed call of c failed with. */
const struct sbx_error *sbx_client_last_error(const struct sbx_client *c);

/*
 * sbx_client_on_interrupt - a function called when a signal interrupts the
 *	wait for a reply (poll(2) returned EINTR), outside the signal handler:
 *	it may make calls on other clients, e.g. forward the signal with
 *	sbx_kill(). It returns 0 to go on waiting, or a negative errno that
 *	ends the call (and closes the connection). NULL: go on waiting.
 */
typedef int (*sbx_interrupt_fn)(struct sbx_client *c, void *userdata);
void sbx_client_on_interrupt(struct sbx_client *c, sbx_interrupt_fn fn, void *userdata);

/* ---- the generic call ------------------------------------------------ */

#define SBX_CALL_MORE	(1u << 0)	/* ask for several replies ("more": true) */

/*
 * sbx_call - call a method and wait for its replies
 *	method: "org.sbx.Manager.List", or "List" for a method of
 *	SBX_INTERFACE. params: the call's parameters (NULL: none); the object
 *	is taken over (put) whether or not the call succeeds. fds: up to 8
 *	descriptors sent with the call (SCM_RIGHTS), e.g. the stdio of Run;
 *	they stay the caller's. cb is called with each reply's parameters
 *	(borrowed: json_object_get() to keep them) and whether more replies
 *	follow; it returns 0 to go on, a positive value to stop waiting (the
 *	call then returns 0 and the connection is closed), or a negative
 *	errno that the call returns. cb may be NULL.
 *	Returns 0 after the last reply, or a negative errno (RETURN VALUE).
 */
typedef int (*sbx_reply_fn)(json_object *parameters, bool continues, void *userdata);
int sbx_call(struct sbx_client *c, const char *method, json_object *params, unsigned flags,
	     const int *fds, size_t n_fds, sbx_reply_fn cb, void *userdata);

/*
 * sbx_call_simple - a call with one reply; *ret (optional) gets its
 *	parameters, owned by the caller (json_object_put()).
 */
int sbx_call_simple(struct sbx_client *c, const char *method, json_object *params,
		    json_object **ret);

/* ---- the methods ------------------------------------------------------
 *
 * Each wraps one method of org.sbx.Manager (docs/api.md). Sandbox objects
 * (*ret_sandbox) are the API's Sandbox type, owned by the caller. Optional
 * arguments are NULL, or negative for numbers, to leave them to the daemon.
 */

/* What a run or start adds to its profile: the sbx run flags of the same
 * names. Limits are strings in policy syntax ("128M", "30s", "0.5").
 * NULL-terminated string arrays; NULL members are left out. */
struct sbx_overrides {
	const char *net;		/* "none", "host", "allow=ADDR,..." */
	const char *const *allow_host;
	const char *const *ro;
	const char *const *rw;
	const char *const *exec;
	const char *cwd;
	const char *timeout;
	const char *memory;
	const char *cpu;
	const char *pids;
};

struct sbx_version {
	char version[64];		/* sbxd's version */
	int64_t abi;			/* the audit and BPF ABI it writes */
	int64_t api;			/* this API's version */
};

/* Version: the daemon's version. */
int sbx_version(struct sbx_client *c, struct sbx_version *ret);

/*
 * sbx_run_command - run argv to completion through the daemon
 *	profile, name, ov: optional. stdio_fds: the workload's stdin, stdout
 *	and stderr (NULL: /dev/null for all three). tty: stdio_fds[0] is a
 *	terminal that the workload gets a pty relayed from. started (optional)
 *	is called once the sandbox runs, with its name. *ret_exit_code gets the
 *	workload's exit status as sbx run reports it (128+N after signal N,
 *	124 timeout, 126, 127); *ret_result (optional) the result object of
 *	sbx run --result. Closing the connection (the process exits) kills the
 *	sandbox.
 */
typedef void (*sbx_started_fn)(const char *name, void *userdata);
int sbx_run_command(struct sbx_client *c, const char *profile, const char *const *argv,
	    const struct sbx_overrides *ov, const char *name, const int stdio_fds[3], bool tty,
	    sbx_started_fn started, void *userdata, int *ret_exit_code, json_object **ret_result);

/* Start: argv detached as sandbox name. restart: "no", "on_failure" or
 * "always" (NULL: no); max_restarts < 0: no cap given. */
int sbx_start(struct sbx_client *c, const char *name, const char *profile,
	      const char *const *argv, const struct sbx_overrides *ov, const char *restart,
	      int64_t max_restarts, json_object **ret_sandbox);

/* Stop: SIGTERM, then SIGKILL after timeout_ms (< 0: the daemon's default). */
int sbx_stop(struct sbx_client *c, const char *name, int64_t timeout_ms, json_object **ret_sandbox);

/* Kill: signal is a name ("HUP", "SIGHUP") or a number as a string; NULL: TERM. */
int sbx_kill(struct sbx_client *c, const char *name, const char *signal);

/* Restart: stop (as sbx_stop) and start again. */
int sbx_restart(struct sbx_client *c, const char *name, int64_t timeout_ms,
		json_object **ret_sandbox);

/* Remove: forget a sandbox that does not run (force: stop it first). */
int sbx_remove(struct sbx_client *c, const char *name, bool force);

/* Status: one sandbox, with its counters. */
int sbx_status(struct sbx_client *c, const char *name, json_object **ret_sandbox);

/* List: *ret_sandboxes is an array of Sandbox objects, owned by the caller. */
int sbx_list(struct sbx_client *c, json_object **ret_sandboxes);

/* Profiles: *ret_profiles is an array of {name, file, provider}. */
int sbx_profiles(struct sbx_client *c, json_object **ret_profiles);

/* Pools: *ret_pools is an array of Pool objects (docs/api.md, "Warm
 * pools": profile, size, ready, hits, misses, failures, reason). */
int sbx_pools(struct sbx_client *c, json_object **ret_pools);

/* Metrics: the Prometheus text exposition (docs/monitoring.md) of what the
 * caller may see; *ret_text is NUL-terminated, the caller frees it. */
int sbx_metrics(struct sbx_client *c, char **ret_text);

/*
 * sbx_logs - the workload's output
 *	tail < 0: all that is kept. cb gets each chunk of data (not
 *	NUL-terminated: len bytes) and returns 0 to go on, non-zero to stop.
 *	With follow the call goes on with what the workload writes next,
 *	until cb stops it, the sandbox is removed or the connection closes.
 */
typedef int (*sbx_data_fn)(const char *data, size_t len, void *userdata);
int sbx_logs(struct sbx_client *c, const char *name, int64_t tail, bool follow,
	     sbx_data_fn cb, void *userdata);

/* Update: change a running sandbox. NULL leaves a limit as it is; the arrays
 * are NULL-terminated (NULL: none). */
struct sbx_update {
	const char *memory;
	const char *pids;
	const char *cpu;
	const char *const *allow;
	const char *const *deny;
	const char *const *deny_path;
	const char *const *ro;
	const char *const *rw;
};
int sbx_update(struct sbx_client *c, const char *name, const struct sbx_update *u,
	       json_object **ret_sandbox);

/* Reload: re-read the policy directory; running: move running sandboxes to
 * the new version of their profile. *ret (optional): {profiles, moved}. */
int sbx_reload(struct sbx_client *c, bool running, json_object **ret);

/* Subscribe: audit events of sandbox name (NULL: all the caller may see),
 * one object per call of cb, until cb returns non-zero (or the daemon goes
 * away). */
typedef int (*sbx_event_fn)(json_object *event, void *userdata);
int sbx_subscribe(struct sbx_client *c, const char *name, sbx_event_fn cb, void *userdata);

#ifdef __cplusplus
}
#endif

#endif /* SBX_LIBSBX_H */
