/* SPDX-License-Identifier: MIT */
/* org.sbx.Manager: the methods of docs/api.md. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/adhoc.h"
#include "cli/cli.h"
#include "core/bpfload.h"
#include "core/instance.h"
#include "core/sandbox.h"
#include "daemon/daemon.h"
#include "kernel/limits.h"
#include "sbx_abi.h"
#include "util/util.h"

#define IFACE "org.sbx.Manager."

static const char manager_description[] =
#include "org.sbx.Manager.varlink.inc"
	;

/* ---- replies ---- */

static json_object *obj(void)
{
	return json_object_new_object();
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static int err_name(struct vl_call *c, const char *error, const char *key, const char *val)
{
	json_object *p = obj();

	if (p)
		add_str(p, key, val);
	return vl_call_error(c, error, p);
}

static int err_invalid(struct vl_call *c, const char *parameter, const char *reason)
{
	json_object *p = obj();

	if (p) {
		add_str(p, "parameter", parameter);
		add_str(p, "reason", reason);
	}
	return vl_call_error(c, IFACE "InvalidParameter", p);
}

static int err_failed(struct vl_call *c, const char *reason)
{
	return err_name(c, IFACE "Failed", "reason", reason);
}

static int reply_sandbox(struct vl_call *c, struct sbxd_sandbox *sb)
{
	json_object *p = obj();

	if (p)
		json_object_object_add(p, "sandbox", sbxd_sandbox_json(sb, true));
	return vl_call_reply(c, p);
}

/* A sandbox the caller may see, or an error answered: NoSuchSandbox for one
 * that does not exist and for another caller's (which is not revealed, but
 * audited as api.denied). */
static struct sbxd_sandbox *lookup(struct sbxd *d, struct vl_call *c, json_object *params)
{
	const char *name = NULL;
	struct sbxd_sandbox *sb;

	if (vl_get_string(params, "name", &name) < 0) {
		err_invalid(c, "name", "a sandbox name (string) is required");
		return NULL;
	}
	sb = sbxd_find(d, name);
	if (sb && !sbxd_may_see(d, vl_call_peer(c), sb)) {
		json_object *ev = obj();

		if (ev) {
			add_str(ev, "event", "api.denied");
			json_object_object_add(ev, "uid", json_object_new_int64(vl_call_peer(c)->uid));
			json_object_object_add(ev, "pid", json_object_new_int64(vl_call_peer(c)->pid));
			add_str(ev, "method", vl_call_method(c));
			add_str(ev, "reason", "the sandbox belongs to another user");
			add_str(ev, "parameter", "name");
			add_str(ev, "name", name);
			sbxd_audit_line(d, ev);
		}
		sb = NULL;
	}
	if (!sb)
		err_name(c, IFACE "NoSuchSandbox", "name", name);
	return sb;
}

/* ---- the profile a call runs ---- */

static int take_list(json_object *ov, const char *key, struct adhoc_list *l, const char **bad)
{
	const char **v = NULL;
	size_t n = 0;
	int r = vl_get_strv(ov, key, &v, &n);

	if (r == -ENOENT)
		return 0;
	if (r < 0 || n > ADHOC_MAX_ARGS) {
		free(v);
		*bad = key;
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		l->v[l->n++] = v[i];
	free(v);
	return 0;
}

static const char *const override_keys[] = {
	"net", "allow_host", "ro", "rw", "exec", "cwd", "timeout", "memory", "cpu", "pids", NULL
};

/* Overrides as sbx run's flags; strings point into ov. */
static int overrides_args(json_object *ov, struct adhoc_args *a, const char **bad);

int sbxd_overrides_args(json_object *ov, struct adhoc_args *a)
{
	const char *bad;

	return overrides_args(ov, a, &bad);
}

static int overrides_args(json_object *ov, struct adhoc_args *a, const char **bad)
{
	const char **strs[] = { &a->net.v[0], NULL, NULL, NULL, NULL, &a->cwd, &a->timeout,
				&a->memory, &a->cpu, &a->pids };

	memset(a, 0, sizeof(*a));
	if (!ov)
		return 0;
	if (!json_object_is_type(ov, json_type_object)) {
		*bad = "overrides";
		return -EINVAL;
	}
	json_object_object_foreach(ov, key, val) {
		size_t i;

		(void)val;
		for (i = 0; override_keys[i] && strcmp(override_keys[i], key); i++)
			;
		if (!override_keys[i]) {
			*bad = key;
			return -ENOENT;
		}
	}
	if (take_list(ov, "allow_host", &a->allow_host, bad) < 0 || take_list(ov, "ro", &a->ro, bad) < 0 ||
	    take_list(ov, "rw", &a->rw, bad) < 0 || take_list(ov, "exec", &a->exec, bad) < 0)
		return -EINVAL;
	for (size_t i = 0; override_keys[i]; i++) {
		int r;

		if (!strs[i])
			continue;
		r = vl_get_string(ov, override_keys[i], strs[i]);
		if (r == -EINVAL) {
			*bad = override_keys[i];
			return r;
		}
	}
	if (a->net.v[0])
		a->net.n = 1;
	return 0;
}

/* Resolves profile name and overrides into the effective profile, checking
 * that the caller may run it and, unless root, only tightens it. Answers
 * the call on failure (returns -1 then). */
static int effective(struct sbxd *d, struct vl_call *c, const char *name, json_object *ov,
		     const struct sbx_profile **ret_base, struct adhoc_profile *ap)
{
	const struct vl_peer *peer = vl_call_peer(c);
	const struct sbx_profile *base;
	struct adhoc_args a;
	const char *bad = NULL;
	char msg[512];
	int r;

	if (!d->have_pol)
		return err_failed(c, d->policy_error), -1;
	base = cli_policy_find(&d->pol, name);
	if (!base)
		return err_name(c, IFACE "NoSuchProfile", "profile", name), -1;
	if (!sbxd_may_run(d, peer, base))
		return sbxd_deny(d, c, "the profile's allow_users and allow_groups do not name the caller",
				 "profile"), -1;
	r = sbxd_caller_paths(peer, ov, msg, sizeof(msg));
	if (r == -EACCES || r == -EPERM)
		return sbxd_deny(d, c, msg, "overrides"), -1;
	if (r < 0)
		return err_invalid(c, "overrides", msg), -1;
	r = overrides_args(ov, &a, &bad);
	if (r == -ENOENT) {
		snprintf(msg, sizeof(msg), "unknown override '%s'", bad);
		return err_invalid(c, "overrides", msg), -1;
	}
	if (r < 0) {
		snprintf(msg, sizeof(msg), "overrides.%s has the wrong type or too many entries", bad);
		return err_invalid(c, "overrides", msg), -1;
	}
	cli_log_capture(msg, sizeof(msg));
	r = adhoc_build(&a, base, peer->uid == 0, ap);
	cli_log_capture(NULL, 0);
	if (r < 0) {
		if (peer->uid != 0 && strstr(msg, "only tighten"))
			return sbxd_deny(d, c, msg, "overrides"), -1;
		return err_invalid(c, "overrides", msg[0] ? msg : strerror(-r)), -1;
	}
	*ret_base = base;
	return 0;
}

static int command_of(struct vl_call *c, json_object *params, char ***ret)
{
	const char **v = NULL;
	size_t n = 0;
	char **out;
	int r = vl_get_strv(params, "command", &v, &n);

	if (r < 0 || n == 0 || n > 4096) {
		free(v);
		return err_invalid(c, "command", "a non-empty array of strings is required"), -1;
	}
	out = calloc(n + 1, sizeof(*out));
	for (size_t i = 0; out && i < n; i++)
		if (!(out[i] = strdup(v[i]))) {
			for (size_t j = 0; j < i; j++)
				free(out[j]);
			free(out);
			out = NULL;
		}
	free(v);
	if (!out)
		return err_failed(c, strerror(ENOMEM)), -1;
	*ret = out;
	return 0;
}

/* max_sandboxes_per_user: one user (root aside) cannot fill the registry
 * that every other user shares. Exited sandboxes count until removed. */
static bool over_user_cap(const struct sbxd *d, uid_t uid)
{
	uint32_t n = 0;

	if (uid == 0)
		return false;
	for (const struct sbxd_sandbox *sb = d->sandboxes; sb; sb = sb->next)
		if (sb->owner == uid && ++n >= d->cfg.max_per_user)
			return true;
	return false;
}

/* Creates and spawns a sandbox for Run and Start; answers errors. */
static struct sbxd_sandbox *create(struct sbxd *d, struct vl_call *c, json_object *params,
				   const char *name, bool ephemeral, bool tty)
{
	const struct vl_peer *peer = vl_call_peer(c);
	const char *profile = SBX_DEFAULT_PROFILE;
	const struct sbx_profile *base;
	json_object *ov = NULL;
	struct adhoc_profile ap = { 0 };
	struct sbxd_sandbox *sb;
	char **argv, why[512];
	struct timespec t0;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);	/* the start latency runs from here */
	if (vl_get_string(params, "profile", &profile) == -EINVAL)
		return err_invalid(c, "profile", "must be a string"), NULL;
	if (command_of(c, params, &argv) < 0)
		return NULL;
	json_object_object_get_ex(params, "overrides", &ov);
	if (over_user_cap(d, peer->uid)) {
		snprintf(why, sizeof(why), "the caller has max_sandboxes_per_user = %u sandboxes "
			 "(Remove the ended ones)", d->cfg.max_per_user);
		sbxd_deny(d, c, why, NULL);
		r = -1;
	} else {
		r = effective(d, c, profile, ov, &base, &ap);
	}
	if (r < 0) {
		for (char **a = argv; *a; a++)
			free(*a);
		free(argv);
		return NULL;
	}
	r = sbxd_sandbox_new(d, name, peer->uid, peer->gid, &sb, why, sizeof(why));
	if (r < 0) {
		adhoc_profile_free(&ap);
		for (char **a = argv; *a; a++)
			free(*a);
		free(argv);
		if (r == -EEXIST)
			return err_name(c, IFACE "NameInUse", "name", name), NULL;
		return err_invalid(c, "name", why), NULL;
	}
	sb->argv = argv;
	sb->start_req_us = (uint64_t)t0.tv_sec * 1000000 + (uint64_t)t0.tv_nsec / 1000;
	sb->profile = strdup(base->name);
	sb->provider = strdup(ap.p->provider ? ap.p->provider : "auto");
	sb->overrides = ov ? json_object_get(ov) : NULL;
	sb->ephemeral = ephemeral;
	sb->tty = tty;
	if (ephemeral)
		vl_call_take_fds(c, sb->run_fds, 3);
	r = sb->profile && sb->provider ? sbxd_sandbox_spawn(sb, ap.p, why, sizeof(why)) : -ENOMEM;
	adhoc_profile_free(&ap);
	if (r < 0) {
		sbxd_sandbox_forget(sb);
		return err_failed(c, r == -ENOMEM ? strerror(ENOMEM) : why), NULL;
	}
	return sb;
}

/* ---- methods ---- */

static int m_version(struct vl_call *c, json_object *params, void *data)
{
	json_object *p = obj();

	if (!p)
		return -ENOMEM;
	add_str(p, "version", SBX_VERSION);
	json_object_object_add(p, "abi", json_object_new_int(SBX_ABI_VERSION));
	json_object_object_add(p, "api", json_object_new_int(SBXD_API_VERSION));
	return vl_call_reply(c, p);
}

static json_object *result_of(struct sbxd_sandbox *sb)
{
	char path[4200];
	json_object *o;

	snprintf(path, sizeof(path), "%s/result.json", sb->dir);
	o = json_object_from_file(path);
	return o ? o : json_object_new_object();
}

/* A Run's caller went away: the sandbox goes too. */
static void run_cancel(struct vl_call *c, void *data)
{
	struct sbxd_sandbox *sb = data;

	sb->run_call = NULL;
	sbxd_sandbox_stop(sb, sb->d->cfg.stop_timeout_ms);
}

static int m_run(struct vl_call *c, json_object *params, void *data)
{
	struct sbxd *d = data;
	const char *name = NULL;
	char gen[32];
	bool tty = false;
	struct sbxd_sandbox *sb;
	json_object *p;

	if (vl_get_string(params, "name", &name) == -EINVAL)
		return err_invalid(c, "name", "must be a string");
	if (vl_get_bool(params, "tty", &tty) == -EINVAL)
		return err_invalid(c, "tty", "must be a boolean");
	if (!name) {
		snprintf(gen, sizeof(gen), "run-%llu-%llu", (unsigned long long)getpid(),
			 (unsigned long long)++d->run_counter);
		name = gen;
	}
	sb = create(d, c, params, name, true, tty);
	if (!sb)
		return 0;
	sb->run_call = c;
	vl_call_defer(c, run_cancel, sb);
	if (vl_call_more(c) && (p = obj())) {
		add_str(p, "name", sb->name);
		json_object_object_add(p, "started", json_object_new_boolean(1));
		vl_call_notify(c, p);
	}
	return 0;
}

static void start_cancel(struct vl_call *c, void *data)
{
	struct sbxd_sandbox *sb = data;

	sb->start_call = NULL;	/* the sandbox goes on; the caller left */
}

static int m_start(struct vl_call *c, json_object *params, void *data)
{
	struct sbxd *d = data;
	const char *name = NULL, *restart = "no";
	enum sbxd_restart rp;
	int64_t max = 0;
	struct sbxd_sandbox *sb;

	if (vl_get_string(params, "name", &name) < 0)
		return err_invalid(c, "name", "a sandbox name (string) is required");
	if (vl_get_string(params, "restart", &restart) == -EINVAL || sbxd_restart_parse(restart, &rp) < 0)
		return err_invalid(c, "restart", "must be no, on_failure or always");
	if (vl_get_int(params, "max_restarts", &max) == -EINVAL || max < 0 || max > 1000000)
		return err_invalid(c, "max_restarts", "must be an integer from 0 (no cap) to 1000000");
	sb = create(d, c, params, name, false, false);
	if (!sb)
		return 0;
	sb->restart = rp;
	sb->max_restarts = (uint32_t)max;
	sbxd_sandbox_save(sb);
	/* the reply waits until the sandbox runs, or says why it did not */
	if (sbxd_tick_on(d) < 0)
		return reply_sandbox(c, sb);
	sb->start_call = c;
	vl_call_defer(c, start_cancel, sb);
	return 0;
}

/* Start's answer once the monitor registered the sandbox. */
void sbxd_start_check(struct sbxd *d)
{
	for (struct sbxd_sandbox *sb = d->sandboxes; sb; sb = sb->next) {
		struct vl_call *c = sb->start_call;

		if (c && sb->state == SBXD_RUNNING && sbxd_sandbox_locate(sb, NULL) == 0) {
			sb->start_call = NULL;
			reply_sandbox(c, sb);
		}
	}
}

static int add_waiter(struct sbxd_sandbox *sb, struct vl_call *c);

static int m_stop(struct vl_call *c, json_object *params, void *data)
{
	struct sbxd *d = data;
	struct sbxd_sandbox *sb = lookup(d, c, params);
	int64_t ms = (int64_t)d->cfg.stop_timeout_ms;

	if (!sb)
		return 0;
	if (vl_get_int(params, "timeout_ms", &ms) == -EINVAL || ms < 0 || ms > 86400000)
		return err_invalid(c, "timeout_ms", "must be an integer from 0 to 86400000");
	if (sb->state != SBXD_RUNNING) {
		sbxd_sandbox_stop(sb, 0);	/* a pending restart is cancelled */
		return reply_sandbox(c, sb);
	}
	if (add_waiter(sb, c) < 0)
		return -ENOMEM;
	return sbxd_sandbox_stop(sb, (uint64_t)ms) < 0 ? 0 : 0;
}

static int parse_signal(const char *s)
{
	static const struct { const char *n; int v; } t[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "CONT", SIGCONT },
		{ "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "ALRM", SIGALRM }, { "WINCH", SIGWINCH },
		{ "PIPE", SIGPIPE }, { "ABRT", SIGABRT },
	};
	char *end;
	long n;

	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcasecmp(s, t[i].n))
			return t[i].v;
	n = strtol(s, &end, 10);
	if (end == s || *end || n < 1 || n > SIGRTMAX)
		return -EINVAL;
	return (int)n;
}

static int m_kill(struct vl_call *c, json_object *params, void *data)
{
	struct sbxd_sandbox *sb = lookup(data, c, params);
	const char *s = "TERM";
	int sig, r;

	if (!sb)
		return 0;
	if (vl_get_string(params, "signal", &s) == -EINVAL || (sig = parse_signal(s)) < 0)
		return err_invalid(c, "signal", "a signal name (HUP, TERM, KILL, ...) or number");
	r = sbxd_sandbox_signal(sb, sig);
	if (r == -ESRCH)
		return err_name(c, IFACE "NotRunning", "name", sb->name);
	if (r < 0)
		return err_failed(c, strerror(-r));
	return vl_call_reply(c, NULL);
}

static int m_restart(struct vl_call *c, json_object *params, void *data)
{
	struct sbxd *d = data;
	struct sbxd_sandbox *sb = lookup(d, c, params);
	int64_t ms = (int64_t)d->cfg.stop_timeout_ms;
	char why[512];

	if (!sb)
		return 0;
	if (vl_get_int(params, "timeout_ms", &ms) == -EINVAL || ms < 0 || ms > 86400000)
		return err_invalid(c, "timeout_ms", "must be an integer from 0 to 86400000");
	if (sb->ephemeral)
		return err_invalid(c, "name", "a sandbox of Run cannot be restarted");
	if (sb->state == SBXD_RUNNING) {
		sb->restart_after_stop = true;
		if (add_waiter(sb, c) < 0)
			return -ENOMEM;
		sbxd_sandbox_stop(sb, (uint64_t)ms);
		return 0;
	}
	sbxd_sandbox_stop(sb, 0);	/* cancels a pending restart */
	sb->stopping = false;
	if (sbxd_sandbox_spawn(sb, NULL, why, sizeof(why)) < 0)
		return err_failed(c, why);
	return reply_sandbox(c, sb);
}

static int m_remove(struct vl_call *c, json_object *params, void *data)
{
	struct sbxd_sandbox *sb = lookup(data, c, params);
	bool force = false;

	if (!sb)
		return 0;
	if (vl_get_bool(params, "force", &force) == -EINVAL)
		return err_invalid(c, "force", "must be a boolean");
	if (sb->state == SBXD_RUNNING) {
		if (!force)
			return err_name(c, IFACE "IsRunning", "name", sb->name);
		sb->remove_on_exit = true;
		if (add_waiter(sb, c) < 0)
			return -ENOMEM;
		sbxd_sandbox_stop(sb, sb->d->cfg.stop_timeout_ms);
		return 0;
	}
	if (sb->run_call)
		return err_invalid(c, "name", "a Run still waits for this sandbox");
	sbxd_sandbox_forget(sb);
	return vl_call_reply(c, NULL);
}

static int m_status(struct vl_call *c, json_object *params, void *data)
{
	struct sbxd_sandbox *sb = lookup(data, c, params);

	return sb ? reply_sandbox(c, sb) : 0;
}

static int m_list(struct vl_call *c, json_object *params, void *data)
{
	struct sbxd *d = data;
	json_object *p = obj(), *a = json_object_new_array();
	struct sbx_sandbox_info *reg = NULL;
	struct sbx_instance in;
	size_t n = 0;

	if (!p || !a) {
		json_object_put(p);
		json_object_put(a);
		return -ENOMEM;
	}
	/* sbx's registry is read once for all, not once per sandbox */
	if (sbx_instance_get(&in) < 0 || sbx_sandbox_list(&in, &reg, &n) < 0)
		n = 0;
	for (struct sbxd_sandbox *sb = d->sandboxes; sb; sb = sb->next)
		if (sbxd_may_see(d, vl_call_peer(c), sb))
			json_object_array_add(a, sbxd_sandbox_json_at(sb, false, sbxd_sandbox_match(sb, reg, n)));
	free(reg);
	json_object_object_add(p, "sandboxes", a);
	return vl_call_reply(c, p);
}

static int m_profiles(struct vl_call *c, json_object *params, void *data)
{
	struct sbxd *d = data;
	json_object *p = obj(), *a = json_object_new_array();
	const struct sbx_policy *srcs[2] = { d->have_pol ? d->pol.pol : NULL,
					     d->have_pol ? d->pol.builtin : NULL };

	if (!p || !a) {
		json_object_put(p);
		json_object_put(a);
		return -ENOMEM;
	}
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; srcs[k] && i < srcs[k]->n_profiles; i++) {
			const struct sbx_profile *pr = &srcs[k]->profiles[i];
			json_object *e;

			if (cli_policy_find(&d->pol, pr->name) != pr || !sbxd_may_run(d, vl_call_peer(c), pr))
				continue;
			e = obj();
			if (!e)
				continue;
			add_str(e, "name", pr->name);
			add_str(e, "file", pr->pos.file);
			add_str(e, "provider", pr->provider ? pr->provider : "auto");
			json_object_array_add(a, e);
		}
	json_object_object_add(p, "profiles", a);
	return vl_call_reply(c, p);
}

/* ---- waiting for exits ---- */

static void waiter_cancel(struct vl_call *c, void *data)
{
	struct sbxd_sandbox *sb = data;

	for (size_t i = 0; i < sb->n_waiters; i++)
		if (sb->waiters[i] == c) {
			sb->waiters[i] = sb->waiters[--sb->n_waiters];
			return;
		}
}

static int add_waiter(struct sbxd_sandbox *sb, struct vl_call *c)
{
	struct vl_call **v = realloc(sb->waiters, (sb->n_waiters + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	sb->waiters = v;
	v[sb->n_waiters++] = c;
	vl_call_defer(c, waiter_cancel, sb);
	return 0;
}

void sbxd_sandbox_wake(struct sbxd_sandbox *sb)
{
	bool forget = sb->remove_on_exit || (sb->ephemeral && sb->state != SBXD_RUNNING);
	struct vl_call *run = sb->run_call, **waiters = sb->waiters;
	size_t n = sb->n_waiters;
	json_object *p = NULL;
	char why[512];

	sb->run_call = NULL;
	if (sb->start_call && sb->exit_code != 125 && sb->exit_code != 126 && sb->exit_code != 127) {
		/* it ran, and already ended: its exit code is the workload's */
		struct vl_call *c = sb->start_call;

		sb->start_call = NULL;
		reply_sandbox(c, sb);
	}
	if (sb->start_call) {
		struct vl_call *c = sb->start_call;
		json_object *e = sbxd_sandbox_json(sb, false), *err = NULL;
		char msg[2300];

		sb->start_call = NULL;
		if (e && json_object_object_get_ex(e, "error", &err))
			snprintf(msg, sizeof(msg), "%s", json_object_get_string(err));
		else
			snprintf(msg, sizeof(msg), "the sandbox ended (exit code %d) before it ran",
				 sb->exit_code);
		json_object_put(e);
		err_failed(c, msg);
	}
	if (run && (p = obj())) {
		add_str(p, "name", sb->name);
		json_object_object_add(p, "exit_code", json_object_new_int(sb->exit_code));
		json_object_object_add(p, "result", result_of(sb));
	}
	if (forget) {
		/* the state is gone before anyone hears the sandbox ended */
		sb->waiters = NULL;
		sb->n_waiters = 0;
		sbxd_sandbox_forget(sb);
		if (run)
			vl_call_reply(run, p);
		while (n)
			vl_call_reply(waiters[--n], NULL);
		free(waiters);
		return;
	}
	if (run)
		vl_call_reply(run, p);
	if (sb->restart_after_stop) {
		sb->restart_after_stop = false;
		sb->stopping = false;
		if (sbxd_sandbox_spawn(sb, NULL, why, sizeof(why)) < 0) {
			while (sb->n_waiters)
				err_failed(sb->waiters[--sb->n_waiters], why);
		}
	}
	while (sb->n_waiters)
		reply_sandbox(sb->waiters[--sb->n_waiters], sb);
}

/* ---- logs and audit events ---- */

static int m_logs(struct vl_call *c, json_object *params, void *data)
{
	struct sbxd *d = data;
	struct sbxd_sandbox *sb = lookup(d, c, params);
	int64_t tail = -1;
	bool follow = false;

	if (!sb)
		return 0;
	if (vl_get_int(params, "tail", &tail) == -EINVAL || tail < -1 || tail > 10000000)
		return err_invalid(c, "tail", "must be an integer from 0 to 10000000");
	if (vl_get_bool(params, "follow", &follow) == -EINVAL)
		return err_invalid(c, "follow", "must be a boolean");
	if (follow && !vl_call_more(c))
		return vl_call_error(c, "org.varlink.service.ExpectedMore", NULL);
	return sbxd_logs(d, c, sb, tail, follow);
}

static int m_subscribe(struct vl_call *c, json_object *params, void *data)
{
	struct sbxd *d = data;
	struct sbxd_sandbox *sb = NULL;

	if (!vl_call_more(c))
		return vl_call_error(c, "org.varlink.service.ExpectedMore", NULL);
	if (json_object_object_get_ex(params, "name", NULL)) {
		sb = lookup(d, c, params);
		if (!sb)
			return 0;
	}
	return sbxd_subscribe(d, c, sb);
}

/* ---- policy ---- */

int sbxd_policy_load(struct sbxd *d, struct cli_policy *ret, char *why, size_t len,
		     json_object **ret_err)
{
	struct sbx_diags diags = { 0 };
	int r;

	setenv("SBX_POLICY_DIR", d->cfg.policy_dir, 1);
	unsetenv("SBX_POLICY");
	memset(ret, 0, sizeof(*ret));
	r = cli_policy_load(NULL, 0, NULL, ret, &diags);
	if (r < 0) {
		const struct sbx_diag *g = diags.n ? &diags.v[0] : NULL;

		if (g)
			snprintf(why, len, "%s:%u:%u: %s", g->file ? g->file : d->cfg.policy_dir,
				 g->line, g->col, g->msg);
		else
			snprintf(why, len, "%s: %s", d->cfg.policy_dir, strerror(-r));
		if (ret_err && (*ret_err = obj())) {
			add_str(*ret_err, "file", g && g->file ? g->file : d->cfg.policy_dir);
			json_object_object_add(*ret_err, "line", json_object_new_int(g ? (int)g->line : 0));
			json_object_object_add(*ret_err, "column", json_object_new_int(g ? (int)g->col : 0));
			add_str(*ret_err, "message", g ? g->msg : strerror(-r));
		}
		sbx_diags_free(&diags);
		return r;
	}
	sbx_diags_free(&diags);
	return 0;
}

static int m_reload(struct vl_call *c, json_object *params, void *data)
{
	struct sbxd *d = data;
	struct cli_policy np;
	json_object *err = NULL, *p, *a;
	bool running = false;
	char why[512];

	if (vl_get_bool(params, "running", &running) == -EINVAL)
		return err_invalid(c, "running", "must be a boolean");
	if (vl_call_peer(c)->uid != 0 && !sbxd_is_admin(d, vl_call_peer(c)))
		return sbxd_deny(d, c, "only root and admin_groups may reload the policy", NULL);
	if (running && vl_call_peer(c)->uid != 0)
		return sbxd_deny(d, c, "moving running sandboxes to a new policy is for root", "running");
	if (sbxd_policy_load(d, &np, why, sizeof(why), &err) < 0)
		return vl_call_error(c, IFACE "InvalidPolicy", err);
	p = obj();
	a = json_object_new_array();
	if (!p || !a) {
		json_object_put(p);
		json_object_put(a);
		cli_policy_free(&np);
		return -ENOMEM;
	}
	if (d->have_pol)
		cli_policy_free(&d->pol);
	d->pol = np;
	d->have_pol = true;
	d->policy_error[0] = '\0';
	for (size_t i = 0; d->pol.pol && i < d->pol.pol->n_profiles; i++)
		json_object_array_add(a, json_object_new_string(d->pol.pol->profiles[i].name));
	json_object_object_add(p, "profiles", a);
	json_object_object_add(p, "moved", sbxd_move_running(d, running));
	sbxd_pool_reconcile(d);
	return vl_call_reply(c, p);
}

static int m_update(struct vl_call *c, json_object *params, void *data)
{
	struct sbxd *d = data;
	struct sbxd_sandbox *sb = lookup(d, c, params);

	if (!sb)
		return 0;
	if (sb->state != SBXD_RUNNING)
		return err_name(c, IFACE "NotRunning", "name", sb->name);
	return sbxd_update(d, c, sb, params);
}

/* The text of docs/monitoring.md: all of it for root and admin_groups,
 * else the caller's own sandboxes and the daemon-wide counts (metrics.c). */
static int m_metrics(struct vl_call *c, json_object *params, void *data)
{
	struct sbxd *d = data;
	const struct vl_peer *peer = vl_call_peer(c);
	json_object *p;
	char *text = NULL;
	size_t len = 0;
	int r;

	r = sbxd_metrics_text(d, sbxd_is_admin(d, peer) ? NULL : peer, &text, &len);
	if (r < 0)
		return r;
	p = obj();
	if (!p) {
		free(text);
		return -ENOMEM;
	}
	json_object_object_add(p, "text", json_object_new_string_len(text, (int)len));
	free(text);
	return vl_call_reply(c, p);
}

/* Every caller sees the pools' figures; only an administrator their
 * reasons, which name policy files and errors (as Metrics and Logs keep
 * the daemon's own lines for them). */
static int m_pools(struct vl_call *c, json_object *params, void *data)
{
	json_object *p = obj(), *a = sbxd_pool_json(data, sbxd_is_admin(data, vl_call_peer(c)));

	if (!p || !a) {
		json_object_put(p);
		json_object_put(a);
		return -ENOMEM;
	}
	json_object_object_add(p, "pools", a);
	return vl_call_reply(c, p);
}

static const struct vl_method manager_methods[] = {
	{ "Version", m_version },	{ "Run", m_run },	{ "Start", m_start },
	{ "Stop", m_stop },		{ "Kill", m_kill },	{ "Restart", m_restart },
	{ "Remove", m_remove },		{ "Status", m_status },	{ "List", m_list },
	{ "Profiles", m_profiles },	{ "Logs", m_logs },	{ "Update", m_update },
	{ "Reload", m_reload },		{ "Subscribe", m_subscribe },
	{ "Metrics", m_metrics },	{ "Pools", m_pools },
	{ NULL, NULL }
};

const struct vl_interface *sbxd_manager_interface(struct sbxd *d)
{
	static struct vl_interface iface = {
		.name = "org.sbx.Manager",
		.description = manager_description,
		.methods = manager_methods,
	};

	iface.userdata = d;
	return &iface;
}
