/* SPDX-License-Identifier: MIT */
/*
 * The registry: one directory per sandbox under STATE/sandboxes, holding
 * meta.json (what sbxd knows: owner, command, restart policy, monitor pid
 * and start time, state, exit), profile.toml (the effective profile the
 * monitor runs), result.json (written by the monitor) and output.log*.
 * meta.json is replaced atomically (rename) on every change of state, so a
 * daemon killed at any point finds either the old or the new record.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/instance.h"
#include "core/sandbox.h"
#include "core/poolgo.h"
#include "daemon/daemon.h"
#include "kernel/cgroup.h"
#include "util/util.h"

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	30000

static const char *const state_names[] = { "created", "running", "exited", "restarting" };
static const char *const restart_names[] = { "no", "on_failure", "always" };

const char *sbxd_state_name(enum sbxd_state s) { return state_names[s]; }
const char *sbxd_restart_name(enum sbxd_restart r) { return restart_names[r]; }

int sbxd_restart_parse(const char *s, enum sbxd_restart *ret)
{
	for (size_t i = 0; i < 3; i++)
		if (!strcmp(s, restart_names[i])) {
			*ret = (enum sbxd_restart)i;
			return 0;
		}
	if (!strcmp(s, "on-failure")) {
		*ret = SBXD_RESTART_ON_FAILURE;
		return 0;
	}
	return -EINVAL;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

struct sbxd_sandbox *sbxd_find(struct sbxd *d, const char *name)
{
	for (struct sbxd_sandbox *sb = d->sandboxes; sb; sb = sb->next)
		if (!strcmp(sb->name, name))
			return sb;
	return NULL;
}

static void sandbox_free(struct sbxd_sandbox *sb)
{
	if (sb->pidfd.fd >= 0) {
		ev_del(sb->d->epfd, &sb->pidfd);
		close(sb->pidfd.fd);
	}
	if (sb->timer.fd >= 0) {
		ev_del(sb->d->epfd, &sb->timer);
		close(sb->timer.fd);
	}
	if (sb->done.fd >= 0) {
		ev_del(sb->d->epfd, &sb->done);
		close(sb->done.fd);
	}
	for (int i = 0; i < 3; i++)
		if (sb->run_fds[i] >= 0)
			close(sb->run_fds[i]);
	for (char **a = sb->argv; a && *a; a++)
		free(*a);
	free(sb->argv);
	free(sb->profile);
	free(sb->provider);
	free(sb->waiters);
	json_object_put(sb->overrides);
	free(sb);
}

static void pidfd_event(struct ev_io *io, uint32_t events);
static void timer_event(struct ev_io *io, uint32_t events);
static void done_event(struct ev_io *io, uint32_t events);

static struct sbxd_sandbox *sandbox_alloc(struct sbxd *d, const char *name)
{
	struct sbxd_sandbox *sb = calloc(1, sizeof(*sb));

	if (!sb)
		return NULL;
	sb->d = d;
	snprintf(sb->name, sizeof(sb->name), "%s", name);
	snprintf(sb->dir, sizeof(sb->dir), "%s/sandboxes/%s", d->cfg.state_dir, name);
	sb->pidfd.fd = sb->timer.fd = sb->done.fd = -1;
	sb->pidfd.fn = pidfd_event;
	sb->done.fn = done_event;
	sb->timer.fn = timer_event;
	sb->run_fds[0] = sb->run_fds[1] = sb->run_fds[2] = -1;
	return sb;
}

/* Names: what a directory and a cgroup-free label may be. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SBXD_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

int sbxd_sandbox_new(struct sbxd *d, const char *name, uid_t owner, gid_t gid,
		     struct sbxd_sandbox **ret, char *why, size_t len)
{
	struct sbxd_sandbox *sb;

	if (!valid_name(name))
		return sbx_fail(why, len, -EINVAL, "name '%.80s' is not 1 to %d letters, digits, "
				"'-', '_' or '.' (not first)", name, SBXD_NAME_MAX);
	if (sbxd_find(d, name))
		return sbx_fail(why, len, -EEXIST, "a sandbox named '%s' exists", name);
	if (d->n_sandboxes >= d->cfg.max_sandboxes)
		return sbx_fail(why, len, -EUSERS, "sbxd already manages max_sandboxes = %u sandboxes",
				d->cfg.max_sandboxes);
	sb = sandbox_alloc(d, name);
	if (!sb)
		return -ENOMEM;
	sb->owner = owner;
	sb->owner_gid = gid;
	if (mkdir(sb->dir, 0700) < 0 && errno != EEXIST) {
		int r = -errno;

		sandbox_free(sb);
		return sbx_fail(why, len, r, "mkdir %s: %s", sb->dir, strerror(-r));
	}
	sb->next = d->sandboxes;
	d->sandboxes = sb;
	d->n_sandboxes++;
	*ret = sb;
	return 0;
}

static void rm_dir(const char *dir)
{
	_cleanup_closedir_ DIR *dp = opendir(dir);
	struct dirent *de;

	while (dp && (de = readdir(dp))) {
		if (de->d_name[0] == '.')
			continue;
		unlinkat(dirfd(dp), de->d_name, 0);
	}
	rmdir(dir);
}

void sbxd_sandbox_forget(struct sbxd_sandbox *sb)
{
	struct sbxd *d = sb->d;

	sbxd_followers_drop(d, sb);	/* Logs --follow and Subscribe of it end */
	for (struct sbxd_sandbox **p = &d->sandboxes; *p; p = &(*p)->next)
		if (*p == sb) {
			*p = sb->next;
			d->n_sandboxes--;
			break;
		}
	rm_dir(sb->dir);
	sandbox_free(sb);
}

/* ---- persistence ---- */

static json_object *strv_json(char **v)
{
	json_object *a = json_object_new_array();

	for (; a && v && *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

int sbxd_sandbox_save(struct sbxd_sandbox *sb)
{
	json_object *o = json_object_new_object();
	char path[4200], tmp[4200];
	const char *s;
	int fd, r = 0;

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "name", json_object_new_string(sb->name));
	json_object_object_add(o, "owner", json_object_new_int64(sb->owner));
	json_object_object_add(o, "owner_gid", json_object_new_int64(sb->owner_gid));
	json_object_object_add(o, "profile", json_object_new_string(sb->profile ? sb->profile : ""));
	json_object_object_add(o, "provider", json_object_new_string(sb->provider ? sb->provider : ""));
	json_object_object_add(o, "command", strv_json(sb->argv));
	if (sb->overrides)
		json_object_object_add(o, "overrides", json_object_get(sb->overrides));
	json_object_object_add(o, "state", json_object_new_string(sbxd_state_name(sb->state)));
	json_object_object_add(o, "restart", json_object_new_string(sbxd_restart_name(sb->restart)));
	json_object_object_add(o, "max_restarts", json_object_new_int64(sb->max_restarts));
	json_object_object_add(o, "restarts", json_object_new_int64(sb->restarts));
	json_object_object_add(o, "policy_version", json_object_new_int64(sb->policy_version));
	json_object_object_add(o, "monitor", json_object_new_int64(sb->monitor));
	json_object_object_add(o, "monitor_start", json_object_new_int64((int64_t)sb->monitor_start));
	json_object_object_add(o, "started_us", json_object_new_int64((int64_t)sb->started_us));
	json_object_object_add(o, "id", json_object_new_string(sb->id));
	json_object_object_add(o, "stopping", json_object_new_boolean(sb->stopping));
	json_object_object_add(o, "ephemeral", json_object_new_boolean(sb->ephemeral));
	if (sb->has_exit) {
		json_object_object_add(o, "exit_code", json_object_new_int(sb->exit_code));
		json_object_object_add(o, "signal", json_object_new_int(sb->signal));
	}
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	snprintf(path, sizeof(path), "%s/meta.json", sb->dir);
	snprintf(tmp, sizeof(tmp), "%s/.meta.json.tmp", sb->dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		r = -errno;
	else {
		size_t n = strlen(s);

		/* a Run's sandbox is not synced: nothing of it outlives a
		 * crash of the machine, and its Run waited for the disk (some
		 * 10 ms of a 15 ms pooled Run); the rename keeps it whole
		 * for an sbxd that restarts */
		if (write(fd, s, n) != (ssize_t)n || (!sb->ephemeral && fsync(fd) < 0))
			r = -EIO;
		close(fd);
		if (r == 0 && rename(tmp, path) < 0)
			r = -errno;
	}
	json_object_put(o);
	return r;
}

static char **strv_from_json(json_object *a)
{
	size_t n = a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
	char **v = calloc(n + 1, sizeof(*v));

	for (size_t i = 0; v && i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);

		v[i] = strdup(e && json_object_is_type(e, json_type_string) ? json_object_get_string(e) : "");
		if (!v[i]) {
			for (size_t j = 0; j < i; j++)
				free(v[j]);
			free(v);
			return NULL;
		}
	}
	return v;
}

static int64_t jint(json_object *o, const char *k)
{
	int64_t x = 0;

	vl_get_int(o, k, &x);
	return x;
}

static const char *jstr(json_object *o, const char *k)
{
	const char *s = "";

	vl_get_string(o, k, &s);
	return s;
}

static int load_meta(struct sbxd *d, const char *name, struct sbxd_sandbox **ret)
{
	char path[4200];
	json_object *o, *v;
	struct sbxd_sandbox *sb;
	enum sbxd_restart rp = SBXD_RESTART_NO;
	bool b = false;

	snprintf(path, sizeof(path), "%s/sandboxes/%s/meta.json", d->cfg.state_dir, name);
	o = json_object_from_file(path);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EBADMSG;
	}
	sb = sandbox_alloc(d, name);
	if (!sb) {
		json_object_put(o);
		return -ENOMEM;
	}
	sb->owner = (uid_t)jint(o, "owner");
	sb->owner_gid = (gid_t)jint(o, "owner_gid");
	sb->profile = strdup(jstr(o, "profile"));
	sb->provider = strdup(jstr(o, "provider"));
	sb->argv = strv_from_json(json_object_object_get_ex(o, "command", &v) ? v : NULL);
	if (json_object_object_get_ex(o, "overrides", &v) && v)
		sb->overrides = json_object_get(v);
	sbxd_restart_parse(jstr(o, "restart"), &rp);
	sb->restart = rp;
	sb->max_restarts = (uint32_t)jint(o, "max_restarts");
	sb->restarts = (uint32_t)jint(o, "restarts");
	sb->policy_version = (uint32_t)jint(o, "policy_version");
	sb->monitor = (pid_t)jint(o, "monitor");
	sb->monitor_start = (uint64_t)jint(o, "monitor_start");
	sb->started_us = (uint64_t)jint(o, "started_us");
	snprintf(sb->id, sizeof(sb->id), "%s", jstr(o, "id"));
	if (vl_get_bool(o, "stopping", &b) == 0)
		sb->stopping = b;
	if (vl_get_bool(o, "ephemeral", &b) == 0)
		sb->ephemeral = b;
	if (json_object_object_get_ex(o, "exit_code", &v)) {
		sb->has_exit = true;
		sb->exit_code = (int)jint(o, "exit_code");
		sb->signal = (int)jint(o, "signal");
	}
	sb->state = strcmp(jstr(o, "state"), "running") == 0 ? SBXD_RUNNING :
		    strcmp(jstr(o, "state"), "restarting") == 0 ? SBXD_RESTARTING : SBXD_EXITED;
	json_object_put(o);
	if (!sb->profile || !sb->provider || !sb->argv) {
		sandbox_free(sb);
		return -ENOMEM;
	}
	*ret = sb;
	return 0;
}

/* ---- the monitor ---- */

int sbxd_sandbox_write_profile(struct sbxd_sandbox *sb, const struct sbx_profile *p)
{
	char path[4200], tmp[4200];
	FILE *f;
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/profile.toml", sb->dir);
	snprintf(tmp, sizeof(tmp), "%s/.profile.toml.tmp", sb->dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -errno;
	}
	r = sbx_profile_write_toml(p, f);
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	return r;
}

/* The monitor's command line: sbx run with the sandbox's files. */
static char **monitor_argv(struct sbxd_sandbox *sb, const char *toml_profile)
{
	const struct sbxd_config *c = &sb->d->cfg;
	size_t n = 0, k = 0;
	char **v;

	while (sb->argv[n])
		n++;
	v = calloc(n + 24, sizeof(*v));
	if (!v)
		return NULL;
#define ADD(...) do { if (asprintf(&v[k++], __VA_ARGS__) < 0) goto fail; } while (0)
	ADD("%s", sb->d->sbx_path);
	ADD("run");
	ADD("--policy");
	ADD("%s/profile.toml", sb->dir);
	ADD("--profile");
	ADD("%s", toml_profile);
	ADD("--result");
	ADD("%s/result.json", sb->dir);
	if (c->audit_journal)
		ADD("--audit-journal");
	if (sb->ephemeral) {
		/* Run: the output goes to the caller's own stdout and stderr */
		if (sb->tty)
			ADD("--tty");
	} else {
		ADD("--log");
		ADD("%s/output.log", sb->dir);
		ADD("--log-max-size");
		ADD("%llu", (unsigned long long)c->log_max_size);
		ADD("--log-keep");
		ADD("%u", c->log_keep);
	}
	ADD("--");
	for (size_t i = 0; i < n; i++)
		ADD("%s", sb->argv[i]);
#undef ADD
	return v;
fail:
	for (size_t i = 0; i < k; i++)
		free(v[i]);
	free(v);
	return NULL;
}

static void free_strv(char **v)
{
	for (char **a = v; a && *a; a++)
		free(*a);
	free(v);
}

/* In the child: its own session, the caller's stdio (or /dev/null), the
 * signals sbxd blocked unblocked, then sbx. Never returns. */
void sbxd_monitor_exec(struct sbxd_sandbox *sb, char **argv)
{
	sigset_t all;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* sbxd ignores SIGPIPE; an ignored signal survives exec, and the
	 * workload must get the default (a pipeline's writer dies of it) */
	signal(SIGPIPE, SIG_DFL);
	if (sb->d->nofile.rlim_max)
		setrlimit(RLIMIT_NOFILE, &sb->d->nofile);	/* as sbxd was started */
	setsid();
	for (int i = 0; i < 3; i++) {
		int fd = sb->run_fds[i] >= 0 ? sb->run_fds[i] : null;

		/* a detached sandbox's monitor says why it failed in monitor.log
		 * (Status shows its last line); Run's caller reads it itself */
		if (i == 2 && !sb->ephemeral) {
			char path[4200];

			snprintf(path, sizeof(path), "%s/monitor.log", sb->dir);
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd < 0)
				fd = null;
		}
		if (fd < 0 || dup2(fd, i) < 0)
			_exit(125);
	}
	if (sb->d->cgroup_root[0])
		setenv("SBX_CGROUP_ROOT", sb->d->cgroup_root, 1);
	if (sb->d->cfg.audit_dir[0])
		setenv("SBX_LOG_DIR", sb->d->cfg.audit_dir, 1);
	/* a root workload may not write sbxd's state (run.c own_dirs) */
	setenv("SBX_STATE_DIR", sb->d->cfg.state_dir, 1);
	{
		/* the monitor rotates the shared audit.jsonl as sbxd does */
		char v[32];

		snprintf(v, sizeof(v), "%llu", (unsigned long long)sb->d->cfg.audit_max_size);
		setenv("SBX_AUDIT_MAX_SIZE", v, 1);
		snprintf(v, sizeof(v), "%u", (unsigned)sb->d->cfg.audit_keep);
		setenv("SBX_AUDIT_KEEP", v, 1);
	}
	unsetenv("SBX_POLICY");
	unsetenv("SBX_AUDIT_JOURNAL");	/* audit_journal decides (--audit-journal above) */
	/* user = "caller" means the API's caller (providers/privs.c reads it
	 * as sudo's); root's sandboxes have no other caller */
	if (sb->owner != 0) {
		char id[32];

		snprintf(id, sizeof(id), "%u", (unsigned)sb->owner);
		setenv("SUDO_UID", id, 1);
		snprintf(id, sizeof(id), "%u", (unsigned)sb->owner_gid);
		setenv("SUDO_GID", id, 1);
	} else {
		unsetenv("SUDO_UID");
		unsetenv("SUDO_GID");
	}
	unsetenv("NOTIFY_SOCKET");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	execv(argv[0], argv);
	_exit(127);
}

static int toml_profile_name(struct sbxd_sandbox *sb, char *buf, size_t len)
{
	char path[4200];
	json_object *o;

	snprintf(path, sizeof(path), "%s/run.json", sb->dir);
	o = json_object_from_file(path);
	if (!o)
		return -ENOENT;
	snprintf(buf, len, "%s", jstr(o, "profile"));
	json_object_put(o);
	return buf[0] ? 0 : -EBADMSG;
}

static int save_run_profile(struct sbxd_sandbox *sb, const char *name)
{
	char path[4200];
	json_object *o = json_object_new_object();
	int r;

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "profile", json_object_new_string(name));
	snprintf(path, sizeof(path), "%s/run.json", sb->dir);
	r = json_object_to_file(path, o) < 0 ? -EIO : 0;
	json_object_put(o);
	return r;
}

static void close_run_fds(struct sbxd_sandbox *sb)
{
	for (int i = 0; i < 3; i++)
		if (sb->run_fds[i] >= 0) {
			close(sb->run_fds[i]);
			sb->run_fds[i] = -1;
		}
}

static int spawn(struct sbxd_sandbox *sb, const struct sbx_profile *p, char *why, size_t len)
{
	char name[256], path[4200], **argv;
	pid_t pid;
	int fd, r;

	if (p) {
		r = sbxd_sandbox_write_profile(sb, p);
		if (r == 0)
			r = save_run_profile(sb, p->name);
		if (r < 0)
			return sbx_fail(why, len, r, "cannot write the profile of '%s': %s", sb->name,
					strerror(-r));
	} else {
		r = sbxd_restart_profile(sb);
		if (r < 0)
			return sbx_fail(why, len, r, "cannot bring the profile of '%s' up to date: %s",
					sb->name, strerror(-r));
	}
	r = toml_profile_name(sb, name, sizeof(name));
	if (r < 0)
		return sbx_fail(why, len, r, "the state of '%s' has no profile", sb->name);
	snprintf(path, sizeof(path), "%s/result.json", sb->dir);
	unlink(path);
	/* a new start with its profile (not a restart): a warm pool's entry
	 * when the profile and the caller are the pool's key (pool.c) */
	if (p && sbxd_pool_take(sb, p) == 0) {
		close_run_fds(sb);
		return 0;
	}
	argv = monitor_argv(sb, name);
	if (!argv)
		return -ENOMEM;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		free_strv(argv);
		return sbx_fail(why, len, r, "fork: %s", strerror(-r));
	}
	if (pid == 0)
		sbxd_monitor_exec(sb, argv);
	free_strv(argv);
	close_run_fds(sb);
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0) {
		r = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return sbx_fail(why, len, r, "pidfd_open: %s", strerror(-r));
	}
	sb->pooled = false;
	sbxd_sandbox_attach(sb, pid, fd);
	return 0;
}

void sbxd_sandbox_attach(struct sbxd_sandbox *sb, pid_t pid, int pidfd)
{
	sb->pidfd.fd = pidfd;
	ev_add(sb->d->epfd, &sb->pidfd, EPOLLIN);
	sb->child = true;
	sb->monitor = pid;
	sb->monitor_start = sbx_proc_start_time(pid);
	sb->state = SBXD_RUNNING;
	sb->started_us = now_us();
	sb->has_exit = false;
	sb->id[0] = '\0';
	sbxd_sandbox_save(sb);
}

/* Each spawn is a start the metrics count: started once it runs, failed
 * when it cannot be spawned or sbx fails to set it up (metrics.c). */
int sbxd_sandbox_spawn(struct sbxd_sandbox *sb, const struct sbx_profile *p, char *why, size_t len)
{
	int r = spawn(sb, p, why, len);

	if (r < 0)
		sbxd_metrics_failed(sb);
	else
		sbxd_metrics_spawned(sb);
	return r;
}

const struct sbx_sandbox_info *sbxd_sandbox_match(struct sbxd_sandbox *sb,
						const struct sbx_sandbox_info *v, size_t n)
{
	if (sb->state != SBXD_RUNNING || !sb->monitor)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (v[i].owner_pid == sb->monitor) {
			snprintf(sb->id, sizeof(sb->id), "%s", v[i].id);
			return &v[i];
		}
	return NULL;
}

int sbxd_sandbox_locate(struct sbxd_sandbox *sb, struct sbx_sandbox_info *ret)
{
	struct sbx_instance in;
	struct sbx_sandbox_info *v = NULL;
	const struct sbx_sandbox_info *m;
	size_t n = 0;

	if (sb->state != SBXD_RUNNING || !sb->monitor)
		return -ESRCH;
	if (sbx_instance_get(&in) < 0 || sbx_sandbox_list(&in, &v, &n) < 0)
		return -ESRCH;
	m = sbxd_sandbox_match(sb, v, n);
	if (m && ret)
		*ret = *m;
	free(v);
	return m ? 0 : -ESRCH;
}

/* The monitor forwards TERM INT HUP QUIT USR1 USR2 to the workload (and
 * keeps its duties); other signals go to the workload's processes through
 * its cgroup, KILL as cgroup.kill. */
int sbxd_sandbox_signal(struct sbxd_sandbox *sb, int sig)
{
	struct sbx_sandbox_info info;
	int r;

	if (sb->state != SBXD_RUNNING || !sb->monitor)
		return -ESRCH;
	switch (sig) {
	case SIGTERM: case SIGINT: case SIGHUP: case SIGQUIT: case SIGUSR1: case SIGUSR2:
	case SIGWINCH:	/* sbx run -t copies the size to the pty */
		if (sb->pidfd.fd >= 0 && syscall(SYS_pidfd_send_signal, sb->pidfd.fd, sig, NULL, 0) == 0)
			return 0;
		return -errno;
	}
	r = sbxd_sandbox_locate(sb, &info);
	if (r < 0)
		return r;
	return sig == SIGKILL ? sbx_cgroup_kill(info.cgroup) : sbx_cgroup_signal(info.cgroup, sig);
}

static int arm_timer(struct sbxd_sandbox *sb, uint64_t ms)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 },
	};

	if (sb->timer.fd < 0) {
		sb->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (sb->timer.fd < 0)
			return -errno;
		if (ev_add(sb->d->epfd, &sb->timer, EPOLLIN) < 0) {
			close(sb->timer.fd);
			sb->timer.fd = -1;
			return -errno;
		}
	}
	if (ms == 0)
		its.it_value.tv_nsec = 1;
	return timerfd_settime(sb->timer.fd, 0, &its, NULL) < 0 ? -errno : 0;
}

static void disarm_timer(struct sbxd_sandbox *sb)
{
	struct itimerspec its = { 0 };

	if (sb->timer.fd >= 0)
		timerfd_settime(sb->timer.fd, 0, &its, NULL);
}

int sbxd_sandbox_stop(struct sbxd_sandbox *sb, uint64_t timeout_ms)
{
	sb->stopping = true;
	if (sb->state == SBXD_RESTARTING) {
		disarm_timer(sb);
		sb->state = SBXD_EXITED;
		sbxd_sandbox_save(sb);
		return 0;
	}
	if (sb->state != SBXD_RUNNING)
		return -ESRCH;
	sbxd_sandbox_save(sb);
	sbxd_sandbox_signal(sb, SIGTERM);
	return arm_timer(sb, timeout_ms);
}

/* The monitor's result: its exit code, and the workload's signal. */
static void read_result(struct sbxd_sandbox *sb, int status, bool have_status)
{
	char path[4200];
	json_object *o;

	snprintf(path, sizeof(path), "%s/result.json", sb->dir);
	o = json_object_from_file(path);
	sb->has_exit = true;
	sb->signal = 0;
	if (o) {
		int64_t x;

		sb->exit_code = (int)jint(o, "exit_code");
		if (vl_get_int(o, "signal", &x) == 0)
			sb->signal = (int)x;
		json_object_put(o);
	} else if (have_status) {
		sb->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	} else {
		sb->exit_code = 125;	/* the monitor died without a result */
	}
}

static void respawn_later(struct sbxd_sandbox *sb)
{
	uint64_t ms = BACKOFF_MIN_MS;

	for (uint32_t i = 0; i < sb->restarts && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	sb->state = SBXD_RESTARTING;
	if (arm_timer(sb, ms) < 0)
		sb->state = SBXD_EXITED;
}

static bool wants_restart(const struct sbxd_sandbox *sb)
{
	if (sb->stopping || sb->ephemeral || sb->restart == SBXD_RESTART_NO)
		return false;
	if (sb->restart == SBXD_RESTART_ON_FAILURE && sb->exit_code == 0)
		return false;
	return sb->max_restarts == 0 || sb->restarts < sb->max_restarts;
}

/* The monitor ended (or was found gone at adoption). */
static void monitor_gone(struct sbxd_sandbox *sb, int status, bool have_status)
{
	if (sb->pidfd.fd >= 0) {
		ev_del(sb->d->epfd, &sb->pidfd);
		close(sb->pidfd.fd);
		sb->pidfd.fd = -1;
	}
	disarm_timer(sb);
	read_result(sb, status, have_status);
	sbxd_metrics_exited(sb);
	sb->monitor = 0;
	sb->monitor_start = 0;
	sb->state = SBXD_EXITED;
	if (wants_restart(sb))
		respawn_later(sb);
	/* (the state of one that is forgotten now is removed, not saved) */
	if (!sb->ephemeral && !sb->remove_on_exit)
		sbxd_sandbox_save(sb);
	sbxd_sandbox_wake(sb);
}

static void close_done(struct sbxd_sandbox *sb)
{
	if (sb->done.fd < 0)
		return;
	ev_del(sb->d->epfd, &sb->done);
	close(sb->done.fd);
	sb->done.fd = -1;
}

void sbxd_sandbox_watch_done(struct sbxd_sandbox *sb, int fd)
{
	close_done(sb);
	sb->done.fd = fd;
	if (ev_add(sb->d->epfd, &sb->done, EPOLLIN) < 0) {
		close(fd);
		sb->done.fd = -1;	/* the answer waits for the monitor's exit */
	}
}

/*
 * A pooled Run's monitor wrote its result and is about to tear the sandbox
 * down: the Run is answered now and the teardown goes on behind it. The
 * workload and everything it started are gone (the init's exit ended its
 * pid namespace, and the cgroup was killed), its audit events and its
 * result are written; what is left (cgroup, slot, maps, mounts) is the
 * sandbox's own, which no other start can get before the teardown
 * released it. The monitor is reaped when it ends (pool.c). Anything else
 * (EOF, a Start's sandbox) waits for the monitor's exit as before.
 */
static void done_event(struct ev_io *io, uint32_t events)
{
	struct sbxd_sandbox *sb = (struct sbxd_sandbox *)((char *)io - offsetof(struct sbxd_sandbox, done));
	struct sbxd *d = sb->d;
	char c = 0;
	ssize_t n = recv(io->fd, &c, 1, MSG_DONTWAIT);

	if (n < 0 && errno == EAGAIN)
		return;
	close_done(sb);
	if (n != 1 || c != SBX_POOL_DONE || !sb->ephemeral || sb->state != SBXD_RUNNING ||
	    !sb->child || sb->pidfd.fd < 0)
		return;
	ev_del(d->epfd, &sb->pidfd);
	sbxd_reap(d, sb->monitor, sb->pidfd.fd);
	sb->pidfd.fd = -1;
	monitor_gone(sb, 0, false);	/* answers the Run; sb is gone */
	sbxd_pool_refill(d);
}

static void pidfd_event(struct ev_io *io, uint32_t events)
{
	struct sbxd_sandbox *sb = (struct sbxd_sandbox *)((char *)io - offsetof(struct sbxd_sandbox, pidfd));
	struct sbxd *d = sb->d;
	bool pooled;
	siginfo_t si = { 0 };
	int status = 0;
	bool have = false;

	if (sb->child && waitid(P_PIDFD, (id_t)io->fd, &si, WEXITED | WNOHANG) == 0 && si.si_pid) {
		have = true;
		status = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 : si.si_status & 0x7f;
	}
	pooled = sb->pooled && sb->ephemeral;
	monitor_gone(sb, status, have);	/* a Run's sb is gone after it */
	if (pooled)
		sbxd_pool_refill(d);	/* a pooled Run's deferred refill (pool.c) */
}

static void timer_event(struct ev_io *io, uint32_t events)
{
	struct sbxd_sandbox *sb = (struct sbxd_sandbox *)((char *)io - offsetof(struct sbxd_sandbox, timer));
	uint64_t n;
	char why[512];

	if (read(io->fd, &n, sizeof(n)) < 0)
		return;
	if (sb->state == SBXD_RUNNING && sb->stopping) {
		sbxd_sandbox_signal(sb, SIGKILL);	/* the grace period is over */
		return;
	}
	if (sb->state == SBXD_RESTARTING) {
		sb->restarts++;
		if (sbxd_sandbox_spawn(sb, NULL, why, sizeof(why)) < 0) {
			sb->state = SBXD_EXITED;
			sbxd_sandbox_save(sb);
		}
	}
}

/* ---- adoption ---- */

static void adopt(struct sbxd_sandbox *sb)
{
	int fd = -1;

	if (sb->state == SBXD_RUNNING && sb->monitor > 0 &&
	    sbx_proc_start_time(sb->monitor) == sb->monitor_start)
		fd = (int)syscall(SYS_pidfd_open, sb->monitor, 0);
	/* the start time again: the pid may have been reused before pidfd_open */
	if (fd >= 0 && sbx_proc_start_time(sb->monitor) != sb->monitor_start) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0) {
		sb->pidfd.fd = fd;
		sb->child = false;
		ev_add(sb->d->epfd, &sb->pidfd, EPOLLIN);
		/* a stop in its grace period when the last sbxd died, or a Run
		 * whose caller went with it: the KILL after the grace period was
		 * that daemon's timer, and is this one's now */
		if (sb->stopping || sb->ephemeral)
			sbxd_sandbox_stop(sb, sb->d->cfg.stop_timeout_ms);
		return;
	}
	if (sb->state == SBXD_RUNNING) {
		monitor_gone(sb, 0, false);	/* ended while sbxd was down */
		return;
	}
	if (sb->state == SBXD_RESTARTING)
		respawn_later(sb);
}

int sbxd_registry_open(struct sbxd *d, char *why, size_t len)
{
	char dir[4200];
	_cleanup_closedir_ DIR *dp = NULL;
	struct dirent *de;
	int r;

	snprintf(dir, sizeof(dir), "%s/sandboxes", d->cfg.state_dir);
	r = sbx_mkdir_p(dir, 0700);
	if (r < 0)
		return sbx_fail(why, len, r, "cannot create %s: %s", dir, strerror(-r));
	chmod(d->cfg.state_dir, 0700);
	dp = opendir(dir);
	if (!dp)
		return sbx_fail(why, len, -errno, "%s: %m", dir);
	while ((de = readdir(dp))) {
		struct sbxd_sandbox *sb;

		if (de->d_name[0] == '.' || !valid_name(de->d_name))
			continue;
		if (load_meta(d, de->d_name, &sb) < 0)
			continue;	/* no record: a start that never got that far */
		sb->next = d->sandboxes;
		d->sandboxes = sb;
		d->n_sandboxes++;
		if (sb->ephemeral && sb->state != SBXD_RUNNING) {
			sbxd_sandbox_forget(sb);	/* a Run whose caller is gone */
			continue;
		}
		adopt(sb);
	}
	return 0;
}
