/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <linux/securebits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernel/landlock.h"
#include "privs.h"
#include "util/util.h"

#define NOBODY 65534

static int parse_id(const char *s, unsigned long *ret)
{
	char *end;

	errno = 0;
	*ret = strtoul(s, &end, 10);
	return !errno && *s && !*end && *ret < 0xffffffffUL ? 0 : -EINVAL;
}

/* user = "caller": who ran sbx. Under sudo that is SUDO_UID/SUDO_GID (sudo
 * sets them, and only root can run sbx's providers, so only sudo's root or
 * root itself chooses them); otherwise the real ids. */
static int caller_ids(uid_t *ret_uid, gid_t *ret_gid, char *why, size_t len)
{
	const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
	unsigned long u, g;

	if (!su) {
		*ret_uid = getuid();
		*ret_gid = getgid();
		return 0;
	}
	if (parse_id(su, &u) < 0 || (sg && parse_id(sg, &g) < 0))
		return sbx_fail(why, len, -EINVAL, "user = \"caller\": SUDO_UID/SUDO_GID ('%s'/'%s') "
				"are not numeric ids", su, sg ? sg : "");
	*ret_uid = (uid_t)u;
	*ret_gid = sg ? (gid_t)g : (gid_t)u;
	return 0;
}

/* "caller" stands for a user: root (sbx run from a root shell, cron or a
 * service, or SUDO_UID=0) would make the workload the owner of every root
 * file in its view (/etc/shadow, root-only sockets) without a word; a
 * profile that means it says user = "0". */
static int caller_not_root(uid_t uid, gid_t gid, char *why, size_t len)
{
	if (uid != 0 && gid != 0)
		return 0;
	return sbx_fail(why, len, -EPERM, "user = \"caller\": the caller is %s 0 (%s), and sbx runs "
			"no workload as root on its behalf; run sbx through sudo from the user "
			"meant, or set user = \"0\" if root is meant", uid == 0 ? "uid" : "gid",
			getenv("SUDO_UID") ? "SUDO_UID/SUDO_GID" : "sbx's real ids, no SUDO_UID");
}

int sbx_ids_resolve(const struct sbx_profile *p, uid_t own, struct sbx_ids *ret, char *why,
		    size_t len)
{
	struct sbx_ids ids = { .uid = own ? own : NOBODY, .gid = own ? own : NOBODY };
	struct passwd *pw = NULL;
	bool caller = p->user && !strcmp(p->user, "caller");
	unsigned long v;
	int r;

	snprintf(ids.home, sizeof(ids.home), "/tmp");
	if (caller) {
		r = caller_ids(&ids.uid, &ids.gid, why, len);
		if (r >= 0)
			r = caller_not_root(ids.uid, ids.gid, why, len);
		if (r < 0)
			return r;
		pw = getpwuid(ids.uid);
	} else if (p->user && parse_id(p->user, &v) == 0) {
		ids.uid = (uid_t)v;
		pw = getpwuid(ids.uid);
	} else if (p->user) {
		pw = getpwnam(p->user);
		if (!pw)
			return sbx_fail(why, len, -ENOENT, "user '%s' does not exist on this host",
					p->user);
		ids.uid = pw->pw_uid;
	}
	if (pw && !caller)
		ids.gid = pw->pw_gid;
	if (pw) {
		if (pw->pw_dir && pw->pw_dir[0] == '/' && strcmp(pw->pw_dir, "/nonexistent"))
			snprintf(ids.home, sizeof(ids.home), "%s", pw->pw_dir);
	}
	if (p->group && parse_id(p->group, &v) == 0) {
		ids.gid = (gid_t)v;
	} else if (p->group) {
		struct group *gr = getgrnam(p->group);

		if (!gr)
			return sbx_fail(why, len, -ENOENT, "group '%s' does not exist on this host",
					p->group);
		ids.gid = gr->gr_gid;
	}
	*ret = ids;
	return 0;
}

static bool env_has(const struct sbx_profile *p, const char *name)
{
	for (size_t i = 0; i < p->n_env; i++)
		if (!strcmp(p->env[i].name, name))
			return true;
	return false;
}

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"

const char *sbx_env_path(const struct sbx_profile *p)
{
	for (size_t i = 0; i < p->n_env; i++)
		if (!strcmp(p->env[i].name, "PATH"))
			return p->env[i].value;
	return DEFAULT_PATH;
}

int sbx_env_build(const struct sbx_profile *p, const struct sbx_ids *ids, char ***ret)
{
	char **env = calloc(p->n_env + 4, sizeof(*env));
	size_t n = 0;
	int r = 0;

	if (!env)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_env && !r; i++)
		r = asprintf(&env[n++], "%s=%s", p->env[i].name, p->env[i].value) < 0 ? -ENOMEM : 0;
	if (!r && !env_has(p, "PATH"))
		r = asprintf(&env[n++], "PATH=" DEFAULT_PATH) < 0 ? -ENOMEM : 0;
	if (!r && !env_has(p, "HOME"))
		r = asprintf(&env[n++], "HOME=%s", ids->home) < 0 ? -ENOMEM : 0;
	if (!r && !env_has(p, "TERM"))
		r = asprintf(&env[n++], "TERM=%s", getenv("TERM") ? getenv("TERM") : "dumb") < 0 ? -ENOMEM : 0;
	if (r) {
		env[n - 1] = NULL;
		sbx_env_free(env);
		return r;
	}
	*ret = env;
	return 0;
}

void sbx_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

static int capset_empty(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { 0 };

	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

int sbx_drop_privileges(const struct sbx_ids *ids)
{
	/* root keeps no special powers, and nothing can bring them back */
	unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
			     SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
			     SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;

	if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
		return -errno;
	/* EINVAL marks the first capability this kernel does not have */
	for (int cap = 0; cap <= 63; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL)
			break;
		return -errno;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	if (setgroups(0, NULL) < 0 || setresgid(ids->gid, ids->gid, ids->gid) < 0 ||
	    setresuid(ids->uid, ids->uid, ids->uid) < 0)
		return -errno;
	if (capset_empty() < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

/* Scoping alone (no filesystem rights handled), for sandboxes whose fs policy
 * another backend enforces: the same ruleset code as the fs rules
 * (user/kernel/landlock.c), so a workload gets one Landlock domain, never two.
 * Where the fs policy is Landlock's, call sbx_landlock_apply() with the
 * profile's plan instead: it carries the scoping too. */
int sbx_landlock_scope(void)
{
	struct sbx_landlock_plan pl;
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	char why[64];
	int r;

	if (abi < 6)
		return 0;
	r = sbx_landlock_plan(NULL, (int)abi, &pl, why, sizeof(why), NULL, NULL);
	if (r < 0)
		return r;
	r = sbx_landlock_apply(&pl);
	sbx_landlock_plan_free(&pl);
	return r;
}

int sbx_apply_rlimits(const struct sbx_profile *p)
{
	struct rlimit core = { 0, 0 }, cur;

	if (setrlimit(RLIMIT_CORE, &core) < 0)
		return -errno;
	/* only a raise here, which needs the privileges dropped next; a
	 * lowering waits for sbx_apply_nofile, after the Landlock ruleset
	 * was built: its rules open paths, and sbx's own descriptors (its
	 * maps and links, closed at exec) can fill every number below a
	 * small nofile */
	if (p->nofile && getrlimit(RLIMIT_NOFILE, &cur) == 0 && p->nofile > cur.rlim_max) {
		struct rlimit rl = { p->nofile, p->nofile };

		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return -errno;
	}
	if (p->fsize) {
		struct rlimit rl = { p->fsize, p->fsize };

		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			return -errno;
	}
	return 0;
}

int sbx_apply_nofile(const struct sbx_profile *p)
{
	struct rlimit rl = { p->nofile, p->nofile };

	if (p->nofile && setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	return 0;
}
