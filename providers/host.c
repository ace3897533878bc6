/* SPDX-License-Identifier: MIT */
/*
 * The "host" provider (isolation level none): the workload runs as a plain
 * process of the host, confined only by sbx's eBPF programs through its
 * cgroup. Useful as lightweight network confinement and as the base the
 * namespaced providers build on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <seccomp.h>

#include "kernel/landlock.h"
#include "privs.h"
#include "provider.h"

static int host_probe(char *why, size_t len)
{
	(void)why;
	(void)len;
	return 0;
}

/* Packet sockets never reach the cgroup sock_create hook (only inet sockets
 * do), and a host workload may hold CAP_NET_RAW: refuse them with seccomp
 * unless the profile allows raw sockets. */
static int host_prepare(const struct sbx_spawn *s, void **ret_state, char *why, size_t len)
{
	scmp_filter_ctx ctx;
	int r;

	*ret_state = NULL;
	if (s->profile->net.raw_sockets)
		return 0;
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
			     SCMP_A0(SCMP_CMP_EQ, AF_PACKET));
	if (r < 0) {
		snprintf(why, len, "seccomp rule for packet sockets: %s", strerror(-r));
		seccomp_release(ctx);
		return r;
	}
	if (s->refused)
		s->refused->flags |= SBX_SYSF_PACKET_REFUSED;
	*ret_state = ctx;
	return 0;
}

/* Runs in the child: apply the profile's cwd, env and rlimits, then exec. */
/* A host workload keeps its user, but not the capabilities that would let it
 * undo its confinement: detach or load BPF programs, enter other namespaces,
 * mount, reconfigure the network, open packet or SOCK_PACKET sockets (unless
 * raw_sockets), trace other processes, or load modules. (A workload running
 * as uid 0 can still write its pid into another cgroup's cgroup.procs, which
 * root owns: docs/providers.md says to use the process provider then.) */
static int host_drop_caps(const struct sbx_profile *p)
{
	static const int caps[] = {
		CAP_SYS_ADMIN, CAP_NET_ADMIN, 39 /* CAP_BPF */, 38 /* CAP_PERFMON */,
		CAP_SYS_PTRACE, CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_MAC_ADMIN, CAP_MAC_OVERRIDE,
		CAP_SYS_BOOT, CAP_SYS_TIME, CAP_NET_RAW,
	};
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		int c = caps[i];

		if (c == CAP_NET_RAW && p->net.raw_sockets)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
		d[c / 32].effective &= ~(1u << (c % 32));
		d[c / 32].permitted &= ~(1u << (c % 32));
		d[c / 32].inheritable &= ~(1u << (c % 32));
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static int host_child(const struct sbx_spawn *s, void *arg)
{
	const struct sbx_profile *p = s->profile;
	int r;

	if ((r = host_drop_caps(p)) < 0)
		sbx_child_fail(-r, true, "dropping capabilities failed");
	/* no_new_privs marks the workload for the kernel side: the LSM programs
	 * judge only tasks that carry it (a process sandbox's init, which builds
	 * the mounts, does not), and setuid binaries do not elevate */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (arg && (r = seccomp_load(arg)) < 0)
		return r;
	/* failures here are sbx's (125) and name the setting, not the command */
	if (p->cwd && chdir(p->cwd) < 0)
		sbx_child_fail(errno, true, "cwd: cannot change to the profile's directory");
	for (size_t i = 0; i < p->n_env; i++)
		if (setenv(p->env[i].name, p->env[i].value, 1) < 0)
			sbx_child_fail(errno, true, "env: cannot set a variable of the profile");
	if ((r = sbx_apply_rlimits(p)) < 0)	/* nofile, fsize, core 0 */
		sbx_child_fail(-r, true, "nofile/fsize: setrlimit refused the profile's value");
	if (s->landlock && (r = sbx_landlock_apply(s->landlock)) < 0)
		sbx_child_fail(-r, true, "applying the Landlock ruleset failed");
	execvp(s->argv[0], s->argv);
	return -errno;
}

static int host_spawn(void *state, const struct sbx_spawn *s, struct sbx_child *ret,
		      char *why, size_t len)
{
	return sbx_clone_into_cgroup(s, host_child, state, ret, why, len);
}

static int host_signal(void *state, struct sbx_child *c, int sig)
{
	return sbx_child_signal(c, sig);
}

static int host_wait(void *state, struct sbx_child *c, int *ret_status)
{
	return sbx_child_wait(c, ret_status);
}

static void host_cleanup(void *state)
{
	if (state)
		seccomp_release(state);
}

const struct sbx_provider sbx_provider_host = {
	.name = "host",
	.level = SBX_ISO_NONE,
	.summary = "plain host process confined by sbx's eBPF programs only (no namespaces)",
	.probe = host_probe,
	.prepare = host_prepare,
	.spawn = host_spawn,
	.signal = host_signal,
	.wait = host_wait,
	.cleanup = host_cleanup,
};
