/* SPDX-License-Identifier: MIT */
/*
 * The last steps of a container process (oci.h, oci_process_exec), in
 * runc's order:
 *   umask, rlimits, oom_score_adj, cwd (made when missing, as runc does),
 *   sbx's socket family filter (enforce.c: every profile but "none"; an
 *   exec'd process's here, the init's already before its hooks: main.c),
 *   [the seccomp filter, when noNewPrivileges is off: loading it then needs
 *   CAP_SYS_ADMIN, so it goes in while the process still has it],
 *   the bounding set, then groups, gid and uid with PR_SET_KEEPCAPS, the
 *   effective/permitted/inheritable sets, the ambient ones, no_new_privs,
 *   [the seccomp filter, when noNewPrivileges is on: as late as possible,
 *   so that it need not allow the setup's own calls],
 *   the caller's before_exec (the init's startContainer hooks),
 *   exec of args[0] searched along the PATH of process.env.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "oci/inside.h"
#include "oci/oci.h"
#include "util/util.h"

/* glibc's execvp default, used when process.env has no PATH */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

const char *oci_env_get(char *const *env, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], name, n) && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

/* A process whose credentials changed is not dumpable, and its /proc files
 * then belong to the host's root: in a user namespace it cannot write its
 * own oom_score_adj. The lifecycle writes it from outside
 * (/proc/PID/oom_score_adj) before the init changes its credentials; the
 * value already there is not written again. */
static int set_oom_score_adj(int adj, char *why, size_t len)
{
	char buf[16], cur[16] = "";
	int n = snprintf(buf, sizeof(buf), "%d\n", adj);
	_cleanup_close_ int rfd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int fd = -1;

	if (rfd >= 0 && read(rfd, cur, sizeof(cur) - 1) > 0 && !strcmp(cur, buf))
		return 0;
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || sbx_write_all(fd, buf, (size_t)n) != (size_t)n)
		return sbx_fail(why, len, -errno, "process.oomScoreAdj %d: %m", adj);
	return 0;
}

static int set_limits(const struct oci_process *p, char *why, size_t len)
{
	umask(p->user.has_umask ? p->user.umask & 0777 : 022);
	for (size_t i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = { .rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard };

		if (setrlimit(p->rlimits[i].resource, &rl) < 0)
			return sbx_fail(why, len, -errno, "process.rlimits[%zu]: setrlimit(%llu, %llu): %m",
					i, (unsigned long long)rl.rlim_cur,
					(unsigned long long)rl.rlim_max);
	}
	if (p->has_oom_score_adj)
		return set_oom_score_adj(p->oom_score_adj, why, len);
	return 0;
}

/* The cwd as root, made when missing (runc). Returns 1 when root may not
 * enter it (a directory only its user can search, on a file system that
 * denies root): tried again after the uid change. */
static int enter_cwd(const struct oci_process *p, char *why, size_t len)
{
	const char *cwd = p->cwd ? p->cwd : "/";

	if (chdir(cwd) == 0)
		return 0;
	if (errno == ENOENT && sbx_mkdir_p(cwd, 0755) == 0 && chdir(cwd) == 0)
		return 0;
	if (errno == EACCES || errno == EPERM)
		return 1;
	return sbx_fail(why, len, -errno, "process.cwd \"%s\": %m", cwd);
}

/* The last capability this kernel knows. */
static int last_cap(void)
{
	char buf[16] = "";
	_cleanup_close_ int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	return n > 0 ? atoi(buf) : CAP_LAST_CAP;
}

static int drop_bounding(const struct oci_caps *c, int last, char *why, size_t len)
{
	for (int cap = 0; cap <= last && cap < 64; cap++)
		if (!(c->bounding & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return sbx_fail(why, len, -errno, "process.capabilities.bounding: drop "
					"capability %d: %m", cap);
	return 0;
}

static int set_ids(const struct oci_user *u, char *why, size_t len)
{
	/* (on the heap: a clone3 child may have a small stack) */
	_cleanup_free_ gid_t *groups = calloc(u->n_additional_gids + 1, sizeof(*groups));

	if (!groups)
		return sbx_fail(why, len, -ENOMEM, "process.user.additionalGids: out of memory");
	for (size_t i = 0; i < u->n_additional_gids; i++)
		groups[i] = u->additional_gids[i];
	if (setgroups(u->n_additional_gids, groups) < 0)
		return sbx_fail(why, len, -errno, "process.user.additionalGids: setgroups: %m");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return sbx_fail(why, len, -errno, "process.user.gid %u: setresgid: %m", u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return sbx_fail(why, len, -errno, "process.user.uid %u: setresuid: %m", u->uid);
	return 0;
}

static int set_caps(const struct oci_caps *c, int last, char *why, size_t len)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)c->effective, (uint32_t)c->permitted, (uint32_t)c->inheritable },
		{ (uint32_t)(c->effective >> 32), (uint32_t)(c->permitted >> 32),
		  (uint32_t)(c->inheritable >> 32) },
	};

	if (syscall(SYS_capset, &h, d) < 0)
		return sbx_fail(why, len, -errno, "process.capabilities: capset: %m");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return sbx_fail(why, len, -errno, "process.capabilities.ambient: clear: %m");
	for (int cap = 0; cap <= last && cap < 64; cap++)
		if ((c->ambient & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return sbx_fail(why, len, -errno, "process.capabilities.ambient: capability %d "
					"(it must be permitted and inheritable too): %m", cap);
	return 0;
}

/* groups, gid, uid, then the five capability sets; no "capabilities" in
 * the spec means none at all. */
static int set_identity(const struct oci_process *p, char *why, size_t len)
{
	static const struct oci_caps none;
	const struct oci_caps *c = p->has_caps ? &p->caps : &none;
	int last = last_cap(), r;

	r = drop_bounding(c, last, why, len);
	if (!r && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		r = sbx_fail(why, len, -errno, "prctl(PR_SET_KEEPCAPS): %m");
	if (!r)
		r = set_ids(&p->user, why, len);
	if (!r && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		r = sbx_fail(why, len, -errno, "prctl(PR_SET_KEEPCAPS): %m");
	return r ? r : set_caps(c, last, why, len);
}

/* execvpe with the container's PATH (glibc's would read the runtime's),
 * without its fallback of running a file as a shell script. */
static int exec_args(const struct oci_process *p, int *exec_errno, char *why, size_t len)
{
	static char *const no_env[] = { NULL };
	char *const *env = p->env ? p->env : no_env;
	const char *path = oci_env_get(p->env, "PATH"), *dir;
	char file[PATH_MAX];
	int err = ENOENT;
	bool denied = false;

	if (strchr(p->args[0], '/')) {
		execve(p->args[0], p->args, env);
		err = errno;
	} else {
		for (dir = path ? path : DEFAULT_PATH; ; dir += strcspn(dir, ":") + 1) {
			int n = (int)strcspn(dir, ":");

			if ((size_t)snprintf(file, sizeof(file), "%.*s%s%s", n, dir, n ? "/" : "",
					     p->args[0]) < sizeof(file)) {
				execve(file, p->args, env);
				if (errno == EACCES)
					denied = true;
				else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE) {
					err = errno;
					break;
				}
			}
			if (!dir[n])
				break;
		}
		if (denied && err == ENOENT)
			err = EACCES;
	}
	if (exec_errno)
		*exec_errno = err;
	errno = err;
	return sbx_fail(why, len, -err, "exec process.args[0] \"%s\": %m%s", p->args[0],
			err == ENOENT && !strchr(p->args[0], '/') ? " (searched the PATH of process.env)" : "");
}

int oci_sbx_filter_install(const struct sock_fprog *f, char *why, size_t len)
{
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, f) < 0)
		return sbx_fail(why, len, -errno, "sbx's socket family filter (seccomp): %m");
	return 0;
}

int oci_process_exec(const struct oci_process *p, const struct oci_seccomp *sc,
		     const struct sock_fprog *sbx_filter, int (*before_exec)(void *ctx, char *why, size_t len),
		     void *ctx, char *why, size_t len, int *exec_errno)
{
	int r, later_cwd;

	if (exec_errno)
		*exec_errno = 0;
	if (!p->args || !p->args[0])
		return sbx_fail(why, len, -EINVAL, "process.args: empty");
	r = set_limits(p, why, len);
	if (r < 0)
		return r;
	later_cwd = enter_cwd(p, why, len);
	if (later_cwd < 0)
		return later_cwd;
	/* while the process still has CAP_SYS_ADMIN (in its user namespace),
	 * whatever noNewPrivileges says; its failure is the container's */
	if (sbx_filter && (r = oci_sbx_filter_install(sbx_filter, why, len)) < 0)
		return r;
	if (sc && !p->no_new_privileges && (r = oci_seccomp_load(sc, why, len)) < 0)
		return r;
	r = set_identity(p, why, len);
	if (r < 0)
		return r;
	if (later_cwd && chdir(p->cwd) < 0)
		return sbx_fail(why, len, -errno, "process.cwd \"%s\": %m", p->cwd);
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sbx_fail(why, len, -errno, "process.noNewPrivileges: %m");
	if (sc && p->no_new_privileges && (r = oci_seccomp_load(sc, why, len)) < 0)
		return r;
	/* the startContainer hooks: with the process's identity, capabilities
	 * and filters, as runc runs them (forks of this process) */
	if (before_exec && (r = before_exec(ctx, why, len)) < 0)
		return r;
	return exec_args(p, exec_errno, why, len);
}
