/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
/* journal entries name the event, not the line of sbx that sent them */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "kernel/cgroup.h"
#include "kernel/systemd.h"
#include "util/util.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define JOB_TIMEOUT_US (30ULL * 1000 * 1000)
#define ENTER_TRIES 5

/*
 * libsystemd is loaded at its first use (util.h, sbx_dl_open): a run on a
 * host without systemd, or one that needs no scope, never maps it nor the
 * libraries it pulls in (libgcrypt, liblzma, libzstd, liblz4, libcap),
 * which took about 0.8 ms of every sbx start.
 */
#define SD_LIB "libsystemd.so.0"
#define SD_FUNCS(X) \
	X(sd_bus_new) \
	X(sd_bus_set_address) \
	X(sd_bus_start) \
	X(sd_bus_unref) \
	X(sd_bus_open_system) \
	X(sd_bus_message_read) \
	X(sd_bus_process) \
	X(sd_bus_wait) \
	X(sd_bus_message_open_container) \
	X(sd_bus_message_append) \
	X(sd_bus_message_close_container) \
	X(sd_bus_match_signal) \
	X(sd_bus_call_method) \
	X(sd_bus_message_new_method_call) \
	X(sd_bus_call) \
	X(sd_bus_message_unref) \
	X(sd_bus_error_has_name) \
	X(sd_bus_error_free) \
	X(sd_bus_slot_unref) \
	X(sd_bus_flush_close_unref) \
	X(sd_notify) \
	X(sd_listen_fds) \
	X(sd_is_socket_unix) \
	X(sd_journal_sendv)

static struct {
#define SD_FIELD(f) typeof(f) *f;
	SD_FUNCS(SD_FIELD)
} sd;

static int sd_loaded;		/* 1 loaded, < 0 failed, 0 not tried */
static char sd_why[256];

static int sd_load(char *why, size_t len)
{
	void *lib;
	int r = 0;

	if (sd_loaded == 0) {
		lib = sbx_dl_open(SD_LIB, sd_why, sizeof(sd_why));
		r = lib ? 0 : -ELIBACC;
#define SD_LOAD(f) \
		if (r == 0 && !(sd.f = (typeof(f) *)sbx_dl_sym(lib, SD_LIB, #f, sd_why, sizeof(sd_why)))) \
			r = -ELIBBAD;
		SD_FUNCS(SD_LOAD)
		sd_loaded = r < 0 ? r : 1;
	}
	if (sd_loaded < 0 && why)
		snprintf(why, len, "%s", sd_why);
	return sd_loaded < 0 ? sd_loaded : 0;
}

/* the scope this process entered, relative to the cgroup2 mount */
static char entered[PATH_MAX];

bool sbx_systemd_booted(void)
{
	return access("/run/systemd/system/", F_OK) == 0;
}

const char *sbx_systemd_scope_cgroup(void)
{
	return entered[0] ? entered : NULL;
}

int sbx_systemd_scope_name(const char *instance, char *buf, size_t len)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";

	if (!*instance || instance[strspn(instance, ok)])
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "sbx-%s.scope", instance) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* --- cgroup2 steps ------------------------------------------------------- */

/* Moves this process into dir/supervisor (made when missing). */
static int enter_leaf(const char *dir)
{
	char leaf[PATH_MAX], pid[24];
	int r;

	if ((size_t)snprintf(leaf, sizeof(leaf), "%s/" SBX_SYSTEMD_LEAF, dir) >= sizeof(leaf))
		return -ENAMETOOLONG;
	if (mkdir(leaf, 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(pid, sizeof(pid), "%d\n", getpid());
	r = sbx_write_at(leaf, "cgroup.procs", pid);
	return r;
}

/* Enables for dir's children every controller dir has, one by one: a
 * controller that cannot be enabled is left to kernel/limits.c, which
 * names it when a profile needs it. */
static void enable_controllers(const char *dir)
{
	char path[PATH_MAX + 32], list[1024], op[80], *tok, *save = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(list, sizeof(list), f))
		list[0] = 0;
	fclose(f);
	for (tok = strtok_r(list, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		snprintf(op, sizeof(op), "+%s", tok);
		sbx_write_at(dir, "cgroup.subtree_control", op);
	}
}

/* The absolute directory of cgroup (relative to the cgroup2 mount). */
static int cgroup_dir(const char *cgroup, char *buf, size_t len)
{
	char mnt[PATH_MAX];
	int r = sbx_cgroup2_mount(mnt, sizeof(mnt));

	if (r < 0)
		return r;
	if ((size_t)snprintf(buf, len, "%s%s", mnt, cgroup) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Strips a trailing "/supervisor" from cg: the unit's own cgroup. */
static void strip_leaf(char *cg)
{
	size_t n = strlen(cg), l = strlen("/" SBX_SYSTEMD_LEAF);

	if (n > l && !strcmp(cg + n - l, "/" SBX_SYSTEMD_LEAF))
		cg[n - l] = 0;
}

/* --- D-Bus ---------------------------------------------------------------- */

/* systemd's private socket needs no bus daemon (which a booting system or a
 * minimal one may lack); the system bus is for callers it refuses. */
static int bus_open(sd_bus **ret)
{
	sd_bus *b = NULL;
	int r;

	if (geteuid() == 0 && access("/run/systemd/private", F_OK) == 0) {
		r = sd.sd_bus_new(&b);
		if (r >= 0)
			r = sd.sd_bus_set_address(b, "unix:path=/run/systemd/private");
		if (r >= 0)
			r = sd.sd_bus_start(b);
		if (r >= 0) {
			*ret = b;
			return 0;
		}
		sd.sd_bus_unref(b);
	}
	return sd.sd_bus_open_system(ret);
}

struct job_wait {
	char path[256];		/* the job's object path, empty until known */
	char result[32];	/* "done", "failed", ... once removed */
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *err)
{
	struct job_wait *w = userdata;
	const char *path, *unit, *result;
	uint32_t id;

	if (sd.sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	if (w->path[0] && !strcmp(path, w->path))
		snprintf(w->result, sizeof(w->result), "%s", result);
	return 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int wait_job(sd_bus *bus, struct job_wait *w)
{
	uint64_t deadline = now_us() + JOB_TIMEOUT_US, t;
	int r;

	while (!w->result[0]) {
		r = sd.sd_bus_process(bus, NULL);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		t = now_us();
		if (t >= deadline)
			return -ETIMEDOUT;
		r = sd.sd_bus_wait(bus, deadline - t);
		if (r < 0)
			return r;
	}
	return 0;
}

static int append_props(sd_bus_message *m, const char *instance, bool oom_policy)
{
	char desc[128];
	int r;

	snprintf(desc, sizeof(desc), "sbx sandboxes of instance %s (direct mode)", instance);
	r = sd.sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0)
		r = sd.sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)", "Description", "s", desc,
					  "Slice", "s", SBX_SYSTEMD_SLICE, "Delegate", "b", 1,
					  "PIDs", "au", 1, (uint32_t)getpid(),
					  "CollectMode", "s", "inactive-or-failed");
	/* a sandbox's OOM kill must not stop the scope and the sbx process in it
	 * (systemd >= 253 applies OOMPolicy= to scopes, default "stop") */
	if (r >= 0 && oom_policy)
		r = sd.sd_bus_message_append(m, "(sv)", "OOMPolicy", "s", "continue");
	if (r >= 0)
		r = sd.sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd.sd_bus_message_append(m, "a(sa(sv))", 0);
	return r;
}

/* StartTransientUnit of the scope with this process in it, and the wait for
 * its job. -EEXIST when the scope exists already. */
static int start_scope(sd_bus *bus, const char *name, const char *instance, char *why, size_t wlen)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	struct job_wait w = { .path = "" };
	sd_bus_slot *slot = NULL;
	const char *job;
	bool oom = true;
	int r;

	r = sd.sd_bus_match_signal(bus, &slot, NULL, SD_PATH, SD_MANAGER, "JobRemoved",
				on_job_removed, &w);
	if (r < 0)
		return sbx_fail(why, wlen, r, "watch systemd's jobs: %s", strerror(-r));
	sd.sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", NULL, NULL, "");
retry:
	r = sd.sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER,
					   "StartTransientUnit");
	if (r >= 0)
		r = sd.sd_bus_message_append(m, "ss", name, "fail");
	if (r >= 0)
		r = append_props(m, instance, oom);
	if (r >= 0)
		r = sd.sd_bus_call(bus, m, 0, &err, &reply);
	m = sd.sd_bus_message_unref(m);
	if (r < 0 && oom && sd.sd_bus_error_has_name(&err, SD_BUS_ERROR_PROPERTY_READ_ONLY)) {
		oom = false;	/* systemd < 253: scopes have no OOMPolicy, and need none */
		sd.sd_bus_error_free(&err);
		goto retry;
	}
	if (r < 0 && sd.sd_bus_error_has_name(&err, "org.freedesktop.systemd1.UnitExists"))
		r = -EEXIST;
	else if (r < 0)
		sbx_fail(why, wlen, r, "StartTransientUnit %s: %s", name,
			 err.message ? err.message : strerror(-r));
	if (r >= 0)
		r = sd.sd_bus_message_read(reply, "o", &job);
	if (r >= 0) {
		snprintf(w.path, sizeof(w.path), "%s", job);
		r = wait_job(bus, &w);
		if (r < 0)
			sbx_fail(why, wlen, r, "waiting for systemd to start %s: %s", name,
				 strerror(-r));
		else if (strcmp(w.result, "done"))
			r = sbx_fail(why, wlen, -EIO, "systemd's job starting %s ended '%s'", name,
				     w.result);
	}
	sd.sd_bus_message_unref(reply);
	sd.sd_bus_error_free(&err);
	sd.sd_bus_slot_unref(slot);
	return r;
}

/* Moves this process into the supervisor leaf of the running scope name,
 * through systemd (which checks that the scope is live and delegated).
 * -ENOENT when the scope went away meanwhile. */
static int join_scope(sd_bus *bus, const char *name, const char *cgroup, char *why, size_t wlen)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	char dir[PATH_MAX], leaf[PATH_MAX + 16];
	int r;

	r = cgroup_dir(cgroup, dir, sizeof(dir));
	if (r < 0)
		return sbx_fail(why, wlen, r, "cgroup2 mount: %s", strerror(-r));
	snprintf(leaf, sizeof(leaf), "%s/" SBX_SYSTEMD_LEAF, dir);
	/* no scope cgroup (ENOENT): systemd says why below (inactive, masked) */
	if (mkdir(leaf, 0755) < 0 && errno != EEXIST && errno != ENOENT)
		return sbx_fail(why, wlen, -errno, "mkdir %s: %m", leaf);
	r = sd.sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "AttachProcessesToUnit", &err,
			       NULL, "ssau", name, "/" SBX_SYSTEMD_LEAF, 1, (uint32_t)getpid());
	if (r < 0 && (sd.sd_bus_error_has_name(&err, "org.freedesktop.systemd1.NoSuchUnit") ||
		      sd.sd_bus_error_has_name(&err, "org.freedesktop.systemd1.UnitInactive")))
		r = -ENOENT;
	else if (r < 0)
		sbx_fail(why, wlen, r, "AttachProcessesToUnit %s: %s", name,
			 err.message ? err.message : strerror(-r));
	sd.sd_bus_error_free(&err);
	return r;
}

int sbx_systemd_enter_scope(const char *instance, char *why, size_t wlen)
{
	char name[128], cgroup[PATH_MAX], dir[PATH_MAX], self[PATH_MAX];
	sd_bus *bus = NULL;
	int r;

	r = sbx_systemd_scope_name(instance, name, sizeof(name));
	if (r < 0)
		return sbx_fail(why, wlen, r, "instance '%s' cannot name a systemd unit", instance);
	/* sbx.slice has no '-': its cgroup is /sbx.slice */
	snprintf(cgroup, sizeof(cgroup), "/" SBX_SYSTEMD_SLICE "/%s", name);
	r = sd_load(why, wlen);
	if (r < 0)
		return r;
	r = bus_open(&bus);
	if (r < 0)
		return sbx_fail(why, wlen, r, "connect to systemd over D-Bus: %s", strerror(-r));
	/* created by the first run of the instance, joined by the others; a
	 * scope whose last process just left is gone or going: start anew */
	r = -ENOENT;
	for (int i = 0; i < ENTER_TRIES && (r == -ENOENT || r == -EEXIST); i++) {
		r = start_scope(bus, name, instance, why, wlen);
		if (r == -EEXIST)
			r = join_scope(bus, name, cgroup, why, wlen);
	}
	sd.sd_bus_flush_close_unref(bus);
	if (r == -ENOENT || r == -EEXIST)
		return sbx_fail(why, wlen, -EAGAIN, "%s kept going away while sbx joined it (%d tries)",
				name, ENTER_TRIES);
	if (r < 0)
		return r;
	r = sbx_cgroup2_self(self, sizeof(self));
	if (r < 0)
		return sbx_fail(why, wlen, r, "read /proc/self/cgroup: %s", strerror(-r));
	strip_leaf(self);
	if (strcmp(self, cgroup))
		return sbx_fail(why, wlen, -EIO, "systemd put sbx in %s, not in %s", self, cgroup);
	r = cgroup_dir(cgroup, dir, sizeof(dir));
	if (r >= 0)
		r = enter_leaf(dir);
	if (r < 0)
		return sbx_fail(why, wlen, r, "move into %s/" SBX_SYSTEMD_LEAF ": %s", cgroup,
				strerror(-r));
	enable_controllers(dir);
	snprintf(entered, sizeof(entered), "%s", cgroup);
	return 0;
}

void sbx_systemd_notify(const char *state)
{
	/* without a notify socket there is no one to tell: nothing to load */
	if (getenv("NOTIFY_SOCKET") && sd_load(NULL, 0) == 0)
		sd.sd_notify(0, state);
}

int sbx_systemd_listen_fd(void)
{
	int n;

	if (!getenv("LISTEN_FDS"))
		return -ENOENT;	/* not socket-activated */
	n = sd_load(NULL, 0);
	if (n < 0)
		return n;
	n = sd.sd_listen_fds(1);

	if (n < 0)
		return n;
	if (n == 0)
		return -ENOENT;
	if (sd.sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) <= 0)
		return -EBADF;
	return SD_LISTEN_FDS_START;
}

int sbx_systemd_journal_sendv(const struct iovec *iov, int n)
{
	int r = sd_load(NULL, 0);

	return r < 0 ? r : sd.sd_journal_sendv(iov, n);
}
