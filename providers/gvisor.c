/* SPDX-License-Identifier: MIT */
/*
 * The "gvisor" provider (isolation level gvisor): the workload runs on
 * gVisor's user-space kernel through `runsc run`, started as root with an OCI
 * bundle that sbx writes from the profile. The runsc process is cloned into
 * the sandbox cgroup like every provider's first process, and runsc is told
 * to leave cgroups alone (--ignore-cgroups), so its gofer and sandbox
 * (sentry) processes stay in that cgroup: the cgroup limits apply to them,
 * and with host networking the eBPF hooks see (and refuse) the sentry's
 * connections made on the workload's behalf.
 *
 * Per sandbox, everything lives in one directory, removed by cleanup:
 *   /run/<instance>/gvisor/<sandbox id>/
 *       owner        "<sbx pid> <its start time>": who owns the directory
 *       config.json  the OCI runtime spec (1.0)
 *       rootfs/      the read-only root: empty mount points and the /bin,
 *                    /lib*, /sbin links of merged-/usr hosts
 *       state/       runsc --root (container state, lock files)
 * A directory whose owner died (sbx was SIGKILLed) is removed by the next
 * gvisor sandbox of the instance (prepare), after the core has reclaimed the
 * dead sandbox's slot and killed what was left in its cgroup.
 *
 * The view is the process provider's (rootfs.c), both made from the same
 * filesystem plan (core/fsplan.h): its base view (fs mode none: read-only
 * binds of /usr, /bin, /sbin, /lib*, a minimal /etc; always a new /proc and a
 * private, non-executable /tmp; gVisor supplies /dev), then the plan's rules,
 * shortest path first (deny: a mask); read-only and read-write = the host
 * root underneath; full = the host root writable.
 * Network mode none = runsc --network=none (a private loopback-only netstack
 * in the sentry); other modes = --network=host, enforced by the eBPF hooks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/json.h"
#include "grants.h"
#include "privs.h"
#include "probecache.h"
#include "provider.h"
#include "rootfs.h"
#include "util/util.h"

#define RUNSC_MISSING "runsc not installed (apt-get install runsc)"
#define STALE_NO_OWNER_S 60	/* a directory without owner file older than this is debris */

extern char **environ;

/* Exported for the unit tests (tests/unit/test_mock.c); not part of the
 * provider interface. Writes the OCI config.json for a sandbox to f and
 * creates the mount points under rootfs (a directory: the bundle's root). */
int sbx_gvisor_config(FILE *f, const struct sbx_profile *p, const struct sbx_fsplan *pl,
		      const char *id, char *const *argv, const char *rootfs, char *why, size_t len);

/* In the bundle directory: runsc's error log, Go's crash output of its
 * processes, and the pid file that exists once the container does. */
#define RUNSC_LOG "runsc.log"
#define RUNSC_PANIC_LOG "panic.log"
#define RUNSC_PID_FILE "runsc.pid"

/* Measured with runsc 2022-12 (ptrace platform, 2 CPUs): at 96 the start of
 * a small pipeline failed 3 times in 5, at 128 never. */
#define GVISOR_MIN_PIDS 128

struct gvisor_state {
	char dir[PATH_MAX];		/* /run/<instance>/gvisor/<id> */
	char state_dir[PATH_MAX + 8];	/* dir/state: runsc --root */
	char runsc[PATH_MAX];
	char platform[16];
	char id[32];
	char **envp;			/* the workload's environment (PATH lookup) */
	char *args[24];			/* runsc's command line */
	char argbuf[4][PATH_MAX + 32];	/* --platform, --log, --panic-log, --pid-file */
	bool spawned;
	bool appending[3];		/* O_APPEND set by us on stdout/stderr */
};

/* ---- helpers ---------------------------------------------------------- */

static bool executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Looks name up in a PATH-style list; 0 and the path in out, or -ENOENT. */
static int path_lookup(const char *name, const char *path, char *out, size_t len)
{
	char dir[PATH_MAX];

	if (strchr(name, '/')) {
		snprintf(out, len, "%s", name);
		return executable(out) ? 0 : -ENOENT;
	}
	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(dir, sizeof(dir), "%.*s", (int)n, n ? path : ".");
		snprintf(out, len, "%s/%s", dir, name);
		if (executable(out))
			return 0;
		path += n + (path[n] == ':');
	}
	return -ENOENT;
}

/* Runs argv quietly (stdin and stderr /dev/null, stdout into out when given)
 * with default signal handling; returns the wait status or -errno. */
static int run_quiet(char *const argv[], char *out, size_t outlen)
{
	static char *const env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				     NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int pfd[2] = { -1, -1 }, st = 0, r;
	sigset_t none, all;
	size_t got = 0;
	pid_t pid;

	if (out && pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out)
		posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(&pid, argv[0], &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (out)
		close(pfd[1]);
	if (r) {
		if (out)
			close(pfd[0]);
		return -r;
	}
	if (out) {
		ssize_t n;

		while ((n = read(pfd[0], out + got, outlen - 1 - got)) > 0 || (n < 0 && errno == EINTR))
			if (n > 0 && (got += (size_t)n) == outlen - 1)
				break;
		out[got] = 0;
		close(pfd[0]);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return st;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* rm -rf without following symlinks or crossing into other file systems. */
static void rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	rmdir(path);
}

/* ---- probe ------------------------------------------------------------ */

static char found_runsc[PATH_MAX];

/* Does path run as a runsc? Asks `runsc --version` once per binary: the
 * answer is cached (probecache.h), so choosing a provider starts no runsc. */
static int runsc_works(const char *path, char *why, size_t len)
{
	char out[256];
	int st;

	if (sbx_probe_cache_get("runsc", path, out, sizeof(out)) == 0) {
		if (!strcmp(out, "ok"))
			return 0;
		return sbx_fail(why, len, -ENOEXEC, "%s --version failed: %s", path, out);
	}
	st = run_quiet((char *const[]){ (char *)path, "--version", NULL }, out, sizeof(out));
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || strncmp(out, "runsc version", 13)) {
		const char *what = st < 0 ? strerror(-st) : "not a working runsc";

		/* a spawn failure may be passing (EAGAIN...): not remembered */
		if (st >= 0)
			sbx_probe_cache_put("runsc", path, what);
		return sbx_fail(why, len, -ENOEXEC, "%s --version failed: %s", path, what);
	}
	sbx_probe_cache_put("runsc", path, "ok");
	return 0;
}

static int gvisor_probe(char *why, size_t len)
{
	char path[PATH_MAX];
	int r;

	if (path_lookup("runsc", getenv("PATH") ? getenv("PATH") : "/usr/sbin:/usr/bin:/sbin:/bin",
			path, sizeof(path)) < 0 &&
	    path_lookup("runsc", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", path,
			sizeof(path)) < 0) {
		return sbx_fail(why, len, -ENOENT, RUNSC_MISSING);
	}
	if (geteuid() != 0)
		return sbx_fail(why, len, -EPERM,
				"needs root (sbx starts runsc run as root; rootless runsc is not used)");
	r = runsc_works(path, why, len);
	if (r < 0)
		return r;
	snprintf(found_runsc, sizeof(found_runsc), "%s", path);
	return 0;
}

/* ---- platform ------------------------------------------------------------ */

/* A new file only root may read (the bundle holds the profile's env). */
static FILE *fopen_private(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (!f) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return f;
}

/* systrap where this runsc knows it (gVisor's default since 2023), else
 * ptrace. Asking costs one runsc start: the answer is kept per runsc binary
 * in /run/<instance>/gvisor/platform ("dev ino mtime size name"). */
static void default_platform(const char *base, const char *runsc, char *out, size_t len)
{
	char cache[PATH_MAX + 16], key[128], line[192], *nl;
	struct stat st;
	FILE *f;
	int r;

	snprintf(out, len, "ptrace");
	if (stat(runsc, &st) < 0)
		return;
	snprintf(key, sizeof(key), "%llu %llu %lld %lld", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino, (long long)st.st_mtime, (long long)st.st_size);
	snprintf(cache, sizeof(cache), "%s/platform", base);
	f = fopen(cache, "re");
	if (f) {
		if (fgets(line, sizeof(line), f) && (nl = strrchr(line, ' ')) &&
		    !strncmp(line, key, strlen(key)) && line[strlen(key)] == ' ') {
			nl[strcspn(nl, "\n")] = 0;
			fclose(f);
			if (!strcmp(nl + 1, "systrap") || !strcmp(nl + 1, "ptrace")) {
				snprintf(out, len, "%s", nl + 1);
				return;
			}
		} else {
			fclose(f);
		}
	}
	r = run_quiet((char *const[]){ (char *)runsc, "--platform=systrap", "flags", NULL }, NULL, 0);
	if (r >= 0 && WIFEXITED(r) && WEXITSTATUS(r) == 0)
		snprintf(out, len, "systrap");
	snprintf(line, sizeof(line), "%s.%d", cache, (int)getpid());
	f = fopen_private(line);
	if (f) {
		fprintf(f, "%s %s\n", key, out);
		if (fclose(f) == 0 && rename(line, cache) == 0)
			return;
		unlink(line);
	}
}

/* ---- the per-sandbox directory ------------------------------------------- */

static bool owner_dead(const char *dir)
{
	char path[PATH_MAX + 8];
	unsigned long long start;
	struct stat st;
	FILE *f;
	int pid;

	snprintf(path, sizeof(path), "%s/owner", dir);
	f = fopen(path, "re");
	if (!f)	/* made a moment ago, or half made long ago */
		return stat(dir, &st) == 0 && st.st_mtime + STALE_NO_OWNER_S < time(NULL);
	if (fscanf(f, "%d %llu", &pid, &start) != 2 || pid <= 0) {
		fclose(f);
		return true;
	}
	fclose(f);
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	return sbx_proc_start_time(pid) != start;
}

/* Removes the directories of gvisor sandboxes whose manager died. Only names
 * of the form sbx-XXXXXXXX are considered; nothing else is touched. */
static void remove_stale(const char *base, const char *mine)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(base);

	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "sbx-", 4) || strlen(e->d_name) != 12 ||
		    strspn(e->d_name + 4, "0123456789abcdef") != 8 || !strcmp(e->d_name, mine))
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
		if (owner_dead(path))
			rm_tree(path);
	}
	if (d)
		closedir(d);
}

/* Written whole under another name and renamed: another sbx's
 * remove_stale must never read a half-written owner (an empty file read
 * as "owner dead" removed a starting sandbox's directory). */
static int write_owner(const char *dir)
{
	char path[PATH_MAX + 8], tmp[PATH_MAX + 16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/owner", dir);
	snprintf(tmp, sizeof(tmp), "%s/owner.tmp", dir);
	f = fopen_private(tmp);
	if (!f)
		return -errno;
	fprintf(f, "%d %llu\n", (int)getpid(), (unsigned long long)sbx_proc_start_time(getpid()));
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		return -e;
	}
	return 0;
}

/* ---- config.json -------------------------------------------------------- */


/* The mount point of host path src at rootfs/dst: a directory or empty file.
 * A path below an existing symlink of the skeleton (/lib/... on merged-/usr
 * hosts) needs none: it resolves into a bound directory inside the sandbox. */
static int make_point(const char *rootfs, const char *src, const char *dst, bool dir)
{
	char at[PATH_MAX * 2], *slash;
	struct stat st;
	int fd, r;

	if (!rootfs)
		return 0;
	for (const char *p = strchr(dst + 1, '/'); p; p = strchr(p + 1, '/')) {
		snprintf(at, sizeof(at), "%s%.*s", rootfs, (int)(p - dst), dst);
		if (lstat(at, &st) == 0 && S_ISLNK(st.st_mode))
			return 0;
	}
	snprintf(at, sizeof(at), "%s%s", rootfs, dst);
	if (dir || (src && stat(src, &st) == 0 && S_ISDIR(st.st_mode)))
		return sbx_mkdir_p(at, 0755);
	slash = strrchr(at, '/');
	*slash = 0;
	r = sbx_mkdir_p(at, 0755);
	*slash = '/';
	if (r < 0)
		return r;
	fd = open(at, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 && errno != EISDIR)
		return -errno;
	if (fd >= 0)
		close(fd);
	return 0;
}

struct view {
	struct json_writer *w;
	const char *rootfs;		/* NULL: the host root is the sandbox's root */
	char *visible[64];		/* host trees bound so far (copies) */
	size_t n_visible;
	int err;
	char *why;
	size_t len;
};

static void mount_entry(struct view *v, const char *dst, const char *type, const char *src,
			const char *const *opts)
{
	json_begin_object(v->w);
	json_kv_string(v->w, "destination", dst);
	json_kv_string(v->w, "type", type);
	json_kv_string(v->w, "source", src);
	json_key(v->w, "options");
	json_begin_array(v->w);
	for (size_t i = 0; opts && opts[i]; i++)
		json_string(v->w, opts[i]);
	json_end_array(v->w);
	json_end_object(v->w);
}

static void remember(struct view *v, const char *path)
{
	if (v->n_visible < sizeof(v->visible) / sizeof(v->visible[0]) &&
	    (v->visible[v->n_visible] = strdup(path)))
		v->n_visible++;
}

/* A bind of the host path, read-only without w, noexec without x. */
static void add_bind(struct view *v, const char *path, uint32_t access)
{
	const char *opts[] = { "rbind", access & SBX_FACC_W ? "rw" : "ro", "nosuid", "nodev",
			       access & SBX_FACC_X ? NULL : "noexec", NULL };
	int r;

	if (v->err)
		return;
	r = make_point(v->rootfs, path, path, false);
	if (r < 0) {
		snprintf(v->why, v->len, "mount point for %s: %s", path, strerror(-r));
		v->err = r;
		return;
	}
	mount_entry(v, path, "bind", path, opts);
	remember(v, path);
}

static bool under(const char *path, const char *tree)
{
	size_t n = strlen(tree);

	return !strncmp(path, tree, n) && (path[n] == '/' || path[n] == 0);
}

/* Would the path be visible in the view (so that a deny rule must hide it)? */
static bool visible(const struct view *v, const char *path)
{
	if (access(path, F_OK) < 0)
		return false;
	if (!v->rootfs)
		return true;
	for (size_t i = 0; i < v->n_visible; i++)
		if (under(path, v->visible[i]))
			return true;
	return false;
}

/* Hides a path: an empty read-only tmpfs over a directory, /dev/null over a file. */
static void mask(struct view *v, const char *path)
{
	static const char *const dir_opts[] = { "ro", "nosuid", "nodev", "noexec", "mode=000", NULL };
	static const char *const file_opts[] = { "rbind", "ro", "nosuid", "nodev", "noexec", NULL };
	struct stat st;

	if (v->err || !visible(v, path) || stat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode))
		mount_entry(v, path, "tmpfs", "tmpfs", dir_opts);
	else
		mount_entry(v, path, "bind", "/dev/null", file_opts);
}

/* A host symlink of the base view (merged /usr: /bin -> usr/bin) copied into
 * the skeleton root. */
static void copy_link(struct view *v, const char *path)
{
	char link[PATH_MAX], at[PATH_MAX * 2];
	ssize_t n = readlink(path, link, sizeof(link) - 1);

	if (n < 0)
		return;
	link[n] = 0;
	snprintf(at, sizeof(at), "%s%s", v->rootfs, path);
	if (symlink(link, at) < 0 && errno != EEXIST) {
		v->err = -errno;
		snprintf(v->why, v->len, "symlink %s: %s", at, strerror(errno));
		return;
	}
	remember(v, path);	/* /lib/x is /usr/lib/x: visible too */
}

/* A private mount of the base view (proc, tmpfs): noexec without x. */
static void private_mount(struct view *v, const struct sbx_fsbase *b, const char *path)
{
	const char *opts[5] = { "nosuid", "nodev" };
	bool tmpfs = b->kind == SBX_FSBASE_TMPFS;
	size_t n = 2;
	int r;

	if (v->err)
		return;
	if (!(b->access & SBX_FACC_X))
		opts[n++] = "noexec";
	if (tmpfs)
		opts[n++] = "mode=1777";
	r = make_point(v->rootfs, NULL, path, true);
	if (r < 0) {
		snprintf(v->why, v->len, "mount point for %s: %s", path, strerror(-r));
		v->err = r;
		return;
	}
	mount_entry(v, path, tmpfs ? "tmpfs" : "proc", tmpfs ? "tmpfs" : "proc", opts);
}

/* The plan's base view. gVisor makes its own /dev (with the same nodes), so
 * the entries under /dev are left to it. */
static void base_view(struct view *v, const struct sbx_fsplan *pl)
{
	for (size_t i = 0; i < pl->n_view && !v->err; i++) {
		const struct sbx_fsbase *b = pl->view[i];
		char path[PATH_MAX];
		struct stat st;

		sbx_fsplan_mount_path(b->path, path, sizeof(path));
		if (!strncmp(path, "/dev/", 5))
			continue;
		if (b->kind != SBX_FSBASE_HOST)
			private_mount(v, b, path);
		else if (lstat(path, &st) < 0)
			continue;
		else if (S_ISLNK(st.st_mode))
			copy_link(v, path);
		else
			add_bind(v, path, b->access);
	}
}

/* The plan's rules in its order, shortest path first: a longer rule is
 * mounted over a shorter one and wins, whatever the order in the file. */
static void fs_rules(struct view *v, const struct sbx_fsplan *pl)
{
	for (size_t i = 0; i < pl->n_rules && !v->err; i++) {
		const struct sbx_fsplan_rule *ru = &pl->rules[i];
		char path[PATH_MAX];

		if (ru->origin == SBX_FSPLAN_BASE)
			continue;
		sbx_fsplan_mount_path(ru->path, path, sizeof(path));
		if (!ru->access)
			mask(v, path);
		else if (sbx_fsplan_provided(pl, ru->path))
			continue;	/* the private mount (base_view), never the host's */
		else if (access(path, F_OK) == 0)	/* nothing to bind otherwise */
			add_bind(v, path, ru->access);
	}
}

static void rlimit_entry(struct json_writer *w, const char *type, uint64_t v)
{
	json_begin_object(w);
	json_kv_string(w, "type", type);
	json_kv_uint(w, "hard", v);
	json_kv_uint(w, "soft", v);
	json_end_object(w);
}

static bool private_net(const struct sbx_profile *p)
{
	return p->net.namespace == SBX_NETNS_PRIVATE ||
	       (p->net.namespace == SBX_NETNS_AUTO && p->net.mode == SBX_NET_NONE);
}

static void oci_process(struct json_writer *w, const struct sbx_profile *p,
			const struct sbx_ids *ids, char *const *argv, char *const *env)
{
	static const char *const caps[] = { "bounding", "effective", "inheritable", "permitted",
					    "ambient", NULL };

	json_key(w, "process");
	json_begin_object(w);
	json_kv_bool(w, "terminal", false);
	json_key(w, "user");
	json_begin_object(w);
	json_kv_uint(w, "uid", ids->uid);
	json_kv_uint(w, "gid", ids->gid);
	json_end_object(w);
	json_key(w, "args");
	json_begin_array(w);
	for (size_t i = 0; argv[i]; i++)
		json_string(w, argv[i]);
	json_end_array(w);
	json_key(w, "env");
	json_begin_array(w);
	for (size_t i = 0; env[i]; i++)
		json_string(w, env[i]);
	json_end_array(w);
	json_kv_string(w, "cwd", p->cwd ? p->cwd : "/");
	json_key(w, "capabilities");
	json_begin_object(w);
	for (size_t i = 0; caps[i]; i++) {
		json_key(w, caps[i]);
		json_begin_array(w);
		json_end_array(w);
	}
	json_end_object(w);
	json_key(w, "rlimits");
	json_begin_array(w);
	rlimit_entry(w, "RLIMIT_CORE", 0);
	if (p->nofile)
		rlimit_entry(w, "RLIMIT_NOFILE", p->nofile);
	if (p->fsize)
		rlimit_entry(w, "RLIMIT_FSIZE", p->fsize);
	json_end_array(w);
	json_kv_bool(w, "noNewPrivileges", true);
	json_end_object(w);
}

/* "root" and "mounts": the plan's view. */
static void oci_view(struct view *v, const struct sbx_fsplan *pl, const char *rootfs)
{
	bool host_root = pl->mode != SBX_FS_NONE;

	v->rootfs = host_root ? NULL : rootfs;
	json_key(v->w, "root");
	json_begin_object(v->w);
	json_kv_string(v->w, "path", host_root ? "/" : rootfs);
	json_kv_bool(v->w, "readonly", pl->mode == SBX_FS_NONE || pl->mode == SBX_FS_READ_ONLY);
	json_end_object(v->w);
	json_key(v->w, "mounts");
	json_begin_array(v->w);
	/* gVisor's own /dev needs a mount point in the skeleton */
	v->err = make_point(v->rootfs, NULL, "/dev", true);
	if (v->err)
		snprintf(v->why, v->len, "mount point /dev in %s: %s", rootfs, strerror(-v->err));
	base_view(v, pl);
	if (pl->mode != SBX_FS_FULL)
		fs_rules(v, pl);
	json_end_array(v->w);
}

static void oci_linux(struct json_writer *w, const struct sbx_profile *p)
{
	static const char *const ns[] = { "pid", "mount", "ipc", "uts", NULL };

	json_key(w, "linux");
	json_begin_object(w);
	json_key(w, "namespaces");
	json_begin_array(w);
	for (size_t i = 0; ns[i]; i++) {
		json_begin_object(w);
		json_kv_string(w, "type", ns[i]);
		json_end_object(w);
	}
	if (private_net(p)) {
		json_begin_object(w);
		json_kv_string(w, "type", "network");
		json_end_object(w);
	}
	json_end_array(w);
	json_end_object(w);
}

int sbx_gvisor_config(FILE *f, const struct sbx_profile *p, const struct sbx_fsplan *pl,
		      const char *id, char *const *argv, const char *rootfs, char *why, size_t len)
{
	struct json_writer w;
	struct view v = { .w = &w, .why = why, .len = len };
	struct sbx_ids ids;
	char **env = NULL;
	int r;

	why[0] = 0;
	if (!argv || !argv[0] || !pl)
		return sbx_fail(why, len, -EINVAL, !pl ? "no filesystem plan given" : "no command");
	r = sbx_ids_resolve(p, 0, &ids, why, len);
	if (r < 0)
		return r;
	r = sbx_env_build(p, &ids, &env);
	if (r < 0)
		return sbx_fail(why, len, r, "environment: %s", strerror(-r));
	json_init(&w, f, true);
	json_begin_object(&w);
	json_kv_string(&w, "ociVersion", "1.0.2");
	oci_process(&w, p, &ids, argv, env);
	json_kv_string(&w, "hostname", id);
	oci_view(&v, pl, rootfs);
	oci_linux(&w, p);
	json_end_object(&w);

	for (size_t i = 0; i < v.n_visible; i++)
		free(v.visible[i]);
	sbx_env_free(env);
	r = json_finish(&w);
	if (v.err)
		return v.err;
	if (r < 0)
		return sbx_fail(why, len, r, "write config.json: %s", strerror(-r));
	return 0;
}

/* ---- provider ----------------------------------------------------------- */

/*
 * The sentry writes to a regular file given as stdout/stderr at its own
 * offset, starting at 0 (pwrite), not at the shared file offset: with
 * `{ echo a; sbx run ...; echo b; } >log` it would overwrite "a", and "b" would
 * overwrite its output. For the run, such a file is switched to O_APPEND
 * (pwrite then appends); afterwards the shared offset is moved to the end
 * and the flag cleared again.
 */
static void stdio_append(struct gvisor_state *st)
{
	struct stat sb;

	for (int fd = 1; fd <= 2; fd++) {
		int fl = fcntl(fd, F_GETFL);

		if (fl >= 0 && !(fl & O_APPEND) && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    fcntl(fd, F_SETFL, fl | O_APPEND) == 0)
			st->appending[fd] = true;
	}
}

static void stdio_restore(struct gvisor_state *st)
{
	for (int fd = 1; fd <= 2; fd++) {
		int fl = fcntl(fd, F_GETFL);

		if (!st->appending[fd])
			continue;
		st->appending[fd] = false;
		lseek(fd, 0, SEEK_END);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl & ~O_APPEND);
	}
}

static void gvisor_cleanup(void *state)
{
	struct gvisor_state *st = state;

	if (!st)
		return;
	stdio_restore(st);
	/* runsc removes the container's state when run ends by itself. After a
	 * kill, `runsc delete --force` would have nothing left to stop (every
	 * process runsc started is in the sandbox cgroup, which the core kills
	 * with cgroup.kill) and costs ~0.8 s: the state goes with the directory. */
	if (st->dir[0])
		rm_tree(st->dir);
	sbx_env_free(st->envp);
	free(st);
}

static int make_dirs(struct gvisor_state *st, const struct sbx_spawn *s, char *base, size_t blen,
		     char *why, size_t len)
{

	if (!s->run_dir)
		return sbx_fail(why, len, -EINVAL, "no run directory given");
	snprintf(base, blen, "%s/gvisor", s->run_dir);
	/* private to root: config.json holds the profile's environment, and
	 * the runtime (root, or its gofer with CAP_DAC_OVERRIDE) is the only
	 * reader; chmod: a directory an older sbx made 0711 */
	if ((mkdir(s->run_dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(base, 0700) < 0 && errno != EEXIST) || chmod(base, 0700) < 0) {
		return sbx_fail(why, len, -errno, "mkdir %s: %s", base, strerror(errno));
	}
	snprintf(st->dir, sizeof(st->dir), "%s/%s", base, s->id);
	if (mkdir(st->dir, 0700) < 0) {
		int e = errno;

		snprintf(why, len, "mkdir %s: %s", st->dir, strerror(e));
		st->dir[0] = 0;	/* not ours: never removed */
		return -e;
	}
	if (write_owner(st->dir) < 0)
		return sbx_fail(why, len, -errno, "%s/owner: %s", st->dir, strerror(errno));
	snprintf(st->state_dir, sizeof(st->state_dir), "%s/state", st->dir);
	return 0;
}

static int write_bundle(struct gvisor_state *st, const struct sbx_spawn *s, char *why, size_t len)
{
	char path[PATH_MAX + 16], rootfs[PATH_MAX + 16];
	FILE *f;
	int r;

	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", st->dir);
	if (mkdir(rootfs, 0755) < 0)
		return sbx_fail(why, len, -errno, "mkdir %s: %s", rootfs, strerror(errno));
	snprintf(path, sizeof(path), "%s/config.json", st->dir);
	f = fopen_private(path);
	if (!f)
		return sbx_fail(why, len, -errno, "%s: %s", path, strerror(errno));
	r = sbx_gvisor_config(f, s->profile, s->fs, s->id, s->argv, rootfs, why, len);
	if (fclose(f) && !r) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		r = -errno;
	}
	/* the skeleton is not writable, even by root in the gofer */
	if (!r && chmod(rootfs, 0555) < 0)
		r = -errno;
	return r;
}

static void build_args(struct gvisor_state *st, const struct sbx_profile *p)
{
	size_t n = 0;

	st->args[n++] = st->runsc;
	st->args[n++] = "--root";
	st->args[n++] = st->state_dir;
	snprintf(st->argbuf[0], sizeof(st->argbuf[0]), "--platform=%s", st->platform);
	st->args[n++] = st->argbuf[0];
	/* how runsc's own failures are told from the container's status */
	snprintf(st->argbuf[1], sizeof(st->argbuf[1]), "--log=%s/" RUNSC_LOG, st->dir);
	st->args[n++] = st->argbuf[1];
	snprintf(st->argbuf[2], sizeof(st->argbuf[2]), "--panic-log=%s/" RUNSC_PANIC_LOG, st->dir);
	st->args[n++] = st->argbuf[2];
	st->args[n++] = private_net(p) ? "--network=none" : "--network=host";
	/* runsc must not move itself or the sandbox out of sbx's cgroup */
	st->args[n++] = "--ignore-cgroups";
	/* the host root may change under the sandbox: no exclusive caching */
	if (p->fs.mode != SBX_FS_NONE)
		st->args[n++] = "--file-access=shared";
	if (p->net.raw_sockets)
		st->args[n++] = "--net-raw";
	st->args[n++] = "run";
	snprintf(st->argbuf[3], sizeof(st->argbuf[3]), "--pid-file=%s/" RUNSC_PID_FILE, st->dir);
	st->args[n++] = st->argbuf[3];
	st->args[n++] = "--bundle";
	st->args[n++] = st->dir;
	st->args[n++] = st->id;
	st->args[n] = NULL;
}

/* What gVisor cannot run at all, whatever the enforcement mode. */
static int check_profile(const struct sbx_profile *p, char *why, size_t len)
{
	if (p->net.namespace == SBX_NETNS_PRIVATE && p->net.mode != SBX_NET_NONE)
		return sbx_fail(why, len, -EOPNOTSUPP,
				"[network] namespace = \"private\" with mode \"%s\" (a veth pair) is "
				"not supported by the gvisor provider; use mode \"none\" or the host's "
				"namespace", sbx_net_mode_name(p->net.mode));
	/* runsc, its gofer and its sentry run in the sandbox cgroup, so their
	 * threads count against pids too: below this, starting them fails in
	 * ways runsc reports as I/O errors or crashes */
	if (p->pids && p->pids < GVISOR_MIN_PIDS)
		return sbx_fail(why, len, -EINVAL,
				"pids = %u is too low for the gvisor provider, which needs at least %d: "
				"the threads of runsc, its gofer and its sentry count against the "
				"limit, besides the workload's processes", p->pids, GVISOR_MIN_PIDS);
	return 0;
}

/* The profile's [gvisor] runsc, else the one the probe found. */
static int find_runsc(struct gvisor_state *st, const struct sbx_profile *p, char *why, size_t len)
{
	if (p->gvisor.runsc)
		snprintf(st->runsc, sizeof(st->runsc), "%s", p->gvisor.runsc);
	else if (found_runsc[0] || gvisor_probe(why, len) == 0)
		snprintf(st->runsc, sizeof(st->runsc), "%s", found_runsc);
	if (executable(st->runsc))
		return 0;
	if (p->gvisor.runsc)
		return sbx_fail(why, len, -ENOENT, "[gvisor] runsc %s is not an executable file",
				p->gvisor.runsc);
	return why[0] ? -ENOENT : sbx_fail(why, len, -ENOENT, RUNSC_MISSING);
}

static int pick_platform(struct gvisor_state *st, const struct sbx_profile *p, const char *base,
			 char *why, size_t len)
{
	if (!p->gvisor.platform) {
		default_platform(base, st->runsc, st->platform, sizeof(st->platform));
		return 0;
	}
	snprintf(st->platform, sizeof(st->platform), "%s", p->gvisor.platform);
	if (!strcmp(st->platform, "kvm") && access("/dev/kvm", R_OK | W_OK) < 0)
		return sbx_fail(why, len, -ENODEV, "[gvisor] platform \"kvm\" needs /dev/kvm: %s",
				strerror(errno));
	return 0;
}

/* For "auto": a profile gVisor cannot run is passed over like a program it
 * cannot find. */
static int gvisor_can_run(const struct sbx_profile *p, const char *prog, char *why, size_t len)
{
	int r = check_profile(p, why, len);

	return r < 0 ? r : sbx_rootfs_can_run(p, prog, why, len);
}

static int gvisor_prepare(const struct sbx_spawn *s, void **ret_state, char *why, size_t len)
{
	const struct sbx_profile *p = s->profile;
	struct gvisor_state *st;
	char base[PATH_MAX];
	struct sbx_ids ids;
	int r;

	/* the runtime's own unix sockets are its business: the workload runs
	 * behind it and reaches no host unix socket (docs/policy.md) */
	if (s->policy_flags)
		*s->policy_flags |= SBX_POLF_UNIX_ANY;

	*ret_state = NULL;
	r = check_profile(p, why, len);
	if (r < 0)
		return r;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	snprintf(st->id, sizeof(st->id), "%s", s->id);
	r = find_runsc(st, p, why, len);
	if (r < 0) {
		free(st);
		return r;
	}
	r = make_dirs(st, s, base, sizeof(base), why, len);
	if (!r) {
		remove_stale(base, s->id);
		r = pick_platform(st, p, base, why, len);
	}
	if (!r)
		r = write_bundle(st, s, why, len);
	if (!r)
		r = sbx_ids_resolve(p, 0, &ids, why, len);
	if (!r) {
		struct sbx_grants g = { 0 };

		/* no idmapped mounts here: only the check of what ids may use */
		r = sbx_grants_prepare(s, &ids, false, &g, why, len);
		sbx_grants_free(&g);
	}
	if (!r)
		r = sbx_env_build(p, &ids, &st->envp);
	if (r < 0) {
		if (!why[0])
			snprintf(why, len, "prepare: %s", strerror(-r));
		gvisor_cleanup(st);
		return r;
	}
	build_args(st, p);
	*ret_state = st;
	return 0;
}

/* Runs in the child, in the sandbox cgroup: report a missing command the way
 * every provider does (127), then become runsc. */
static int gvisor_child(const struct sbx_spawn *s, void *arg)
{
	struct gvisor_state *st = arg;
	static char *const env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				     NULL };
	const char *path = NULL;
	char found[PATH_MAX];

	for (size_t i = 0; st->envp[i]; i++)
		if (!strncmp(st->envp[i], "PATH=", 5))
			path = st->envp[i] + 5;
	/* the view holds host paths at the same places, so a command missing
	 * on the host is missing inside too (a relative path is relative to
	 * the sandbox's cwd: runsc decides) */
	if ((s->argv[0][0] == '/' || !strchr(s->argv[0], '/')) &&
	    path_lookup(s->argv[0], path ? path : "/usr/bin:/bin", found, sizeof(found)) < 0)
		return -ENOENT;
	execve(st->runsc, st->args, env);
	sbx_child_fail(errno, true, "exec of runsc failed");
}

static int gvisor_spawn(void *state, const struct sbx_spawn *s, struct sbx_child *ret,
			char *why, size_t len)
{
	struct gvisor_state *st = state;
	int r;

	fflush(stdout);
	fflush(stderr);
	stdio_append(st);
	r = sbx_clone_into_cgroup(s, gvisor_child, st, ret, why, len);
	st->spawned = ret->pidfd >= 0;
	if (!st->spawned)
		stdio_restore(st);
	return r;
}

/* `runsc run` does not forward signals (it dies of them, and the sandbox
 * with it): deliver them to the container's init through `runsc kill`; if
 * that fails (not started yet, already gone), to runsc itself. */
static int gvisor_signal(void *state, struct sbx_child *c, int sig)
{
	struct gvisor_state *st = state;
	char num[16];
	int r;

	snprintf(num, sizeof(num), "%d", sig);
	r = run_quiet((char *const[]){ st->runsc, "--root", st->state_dir, "kill", st->id, num, NULL },
		      NULL, 0);
	if (r >= 0 && WIFEXITED(r) && WEXITSTATUS(r) == 0)
		return 0;
	return sbx_child_signal(c, sig);
}

/* The first line of path (at most len - 1 bytes), "" when it is empty or
 * missing. */
static void first_line(const char *dir, const char *name, char *out, size_t len)
{
	char path[PATH_MAX + 32];
	_cleanup_fclose_ FILE *f = NULL;

	out[0] = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (f && fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = 0;
}

/* The "msg" of runsc's first JSON error line ({"msg":"...","level":"error",
 * ...}), or the line itself when it has none. */
static void error_message(char *line)
{
	char *m = strstr(line, "\"msg\":\""), *out = line;

	if (!m)
		return;
	for (m += 7; *m && *m != '"'; m++) {
		if (*m == '\\' && m[1])
			m++;	/* \" and \\ as themselves; others keep their letter */
		*out++ = *m;
	}
	*out = 0;
}

/*
 * runsc run exits with the container's status, 128+N after a signal N. When
 * runsc fails itself it exits 128 too (and a crashed sentry's or gofer's
 * status is passed on as if it were the container's), so the status alone
 * cannot tell. These can: runsc writes its fatal errors as JSON lines to the
 * --log file; Go's runtime writes a crash of the sandbox or gofer process to
 * the --panic-log file; the --pid-file exists once the container does. 0
 * when runsc ran the container to its end; else -EIO and the reason in why:
 * sbx failed (exit 125), not the workload.
 */
static int runsc_failure(const struct gvisor_state *st, char *why, size_t len)
{
	char path[PATH_MAX + 32];

	first_line(st->dir, RUNSC_LOG, why, len);
	if (why[0]) {
		error_message(why);
		return -EIO;
	}
	first_line(st->dir, RUNSC_PANIC_LOG, why, len);
	if (why[0])
		return -EIO;
	snprintf(path, sizeof(path), "%s/" RUNSC_PID_FILE, st->dir);
	if (access(path, F_OK) < 0)
		return sbx_fail(why, len, -EIO, "runsc ended before it created the container");
	return 0;
}

/* A status that runsc killed by a signal stands for itself (sbx's timeout or
 * kill, an OOM kill); the logs are read only when runsc exited. */
static int gvisor_wait(void *state, struct sbx_child *c, int *ret_status)
{
	struct gvisor_state *st = state;
	char why[512];
	int r = sbx_child_wait(c, ret_status);

	/* runsc is gone; the sandbox's last writes are done once the core has
	 * killed the cgroup, but the sentry flushes before runsc exits */
	stdio_restore(st);
	if (r < 0 || !WIFEXITED(*ret_status))
		return r;
	r = runsc_failure(st, why, sizeof(why));
	if (r < 0)
		fprintf(stderr, "sbx: error: provider gvisor: runsc failed (exit status %d): %s\n",
			WEXITSTATUS(*ret_status), why);
	return r;
}

const struct sbx_provider sbx_provider_gvisor = {
	.name = "gvisor",
	.dns_names = true,
	.level = SBX_ISO_GVISOR,
	.summary = "gVisor user-space kernel (runsc run as root, OCI bundle from the profile)",
	/* not yet: with "terminal": true on sbx's pty, Ctrl-C reaches runsc's
	 * process group, not the sentry's foreground job (docs/cli.md) */
	.tty = false,
	.probe = gvisor_probe,
	.can_run = gvisor_can_run,
	.prepare = gvisor_prepare,
	.spawn = gvisor_spawn,
	.signal = gvisor_signal,
	.wait = gvisor_wait,
	.cleanup = gvisor_cleanup,
};
