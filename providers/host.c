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
#include <pwd.h>
#include <seccomp.h>

#include "kernel/landlock.h"
#include "kernel/seccomp.h"
#include "privs.h"
#include "provider.h"
#include "util/util.h"

static int host_probe(char *why, size_t len)
{
	(void)why;
	(void)len;
	return 0;
}

struct host_state {
	scmp_filter_ctx packet;		/* packet sockets only, or NULL */
	struct sbx_seccomp sc;		/* the profile's filter, when it asks for one */
	bool have_sc;
	char **envp;			/* the workload's whole environment */
	struct sbx_ids ids;		/* the profile's user, the sandbox's uid by default */
	struct sbx_landlock_plan ll;	/* uid 0: the fs plan with /sys and /proc unwritable */
	bool have_ll;
};

/* What uid 0 owns on the host without any capability: sbx's pins and the
 * cgroup files under /sys (cgroup.procs, pids.max, memory.max), sysfs and
 * procfs knobs, and the instance's run directory (/run/<instance>: the
 * slots' registry and counters files that sbx and sbxd read, the cgroup
 * they name, the metrics). A root workload may write none of them. */
static const char *const root_protected[] = { "/sys/", "/proc/" };

/* A root workload gets the profile's Landlock plan minus every write below
 * /sys, /proc, the instance's run directory and sbx's other own directories
 * (the audit log's, where it could forge or delete evidence; sbxd's state). Without Landlock the
 * enforcement table has already refused user = "root" under strict
 * (best-effort lists it as degraded). */
static int protect_root(const struct sbx_spawn *s, struct host_state *st, char *why, size_t len)
{
	const char *trees[3 + SBX_OWN_DIRS_MAX] = { root_protected[0], root_protected[1] };
	char own[1 + SBX_OWN_DIRS_MAX][PATH_MAX];
	size_t n = 2, k = 0;
	int r;

	if (st->ids.uid != 0 || !s->landlock || s->landlock->abi <= 0)
		return 0;
	if (s->run_dir && (size_t)snprintf(own[k], PATH_MAX, "%s/", s->run_dir) < PATH_MAX)
		trees[n++] = own[k++];
	for (size_t i = 0; s->own_dirs && s->own_dirs[i] && k < sizeof(own) / sizeof(own[0]); i++)
		if ((size_t)snprintf(own[k], PATH_MAX, "%s/", s->own_dirs[i]) < PATH_MAX)
			trees[n++] = own[k++];
	r = sbx_landlock_plan_protect(s->landlock, trees, n, &st->ll);
	if (r < 0)
		return sbx_fail(why, len, r, "Landlock rules keeping /sys, /proc and sbx's own "
				"directories (%s, the audit log's) unwritable for a root workload: %s",
				s->run_dir ? s->run_dir : "the run directory", strerror(-r));
	st->have_ll = true;
	return 0;
}

/* Whether the profile's [seccomp] table changes anything. A host workload
 * gets no preset by default (it is a plain host process, docs/providers.md);
 * a profile that writes seccomp settings gets its complete filter, as under
 * the process provider, rather than having them ignored. */
static bool wants_seccomp(const struct sbx_profile *p)
{
	return p->seccomp.written || p->seccomp.preset != SBX_SECCOMP_DEFAULT ||
	       p->seccomp.action != SBX_SECCOMP_ERRNO || p->seccomp.n_deny || p->seccomp.n_allow;
}

/* Packet sockets never reach the cgroup sock_create hook (only inet sockets
 * do), and a host workload may hold CAP_NET_RAW: refuse them with seccomp
 * unless the profile allows raw sockets; the same goes for every family
 * outside the allow-list (vsock, netlink but route, ...). The exec guard (kernel/seccomp.h)
 * joins them where the fs policy restricts exec and Landlock enforces it.
 * The profile's own filter, when there is one, has both already. A root
 * workload never gets bpf(2), whatever the profile's filter allows: without
 * CAP_BPF, uid 0 can still open sbx's pinned maps and links by path
 * (BPF_OBJ_GET checks only the file's owner), and no Landlock right covers
 * that lookup. Nor clone3, which could start a child in any cgroup whose
 * cgroup.procs root owns (the cgroup guard, kernel/seccomp.h). */
/* Kernel keyrings are not namespaced: the sandbox's uid's user keyring is
 * possessed by each of its processes (KEY_SPEC_USER_KEYRING), so a host
 * workload of uid 0 would reach root's keys, and sandboxes that are leased
 * the same uid one after the other would share theirs. The process preset
 * refuses these calls for the same reason; so does every host workload
 * unless the profile's own [seccomp] table says otherwise. */
static const int keyring_calls[] = { SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(keyctl) };

static int small_filter(const struct sbx_spawn *s, struct host_state *st, bool guard,
			char *why, size_t len)
{
	bool packet = !s->profile->net.raw_sockets && !st->have_sc;
	bool root = st->ids.uid == 0;
	int r = 0;

	/* The families filter is always needed, unless the profile's own filter
	 * (which has it) is there; root's bpf(2) rule joins either way. */
	guard = guard && !st->have_sc;
	if (st->have_sc && !root)
		return 0;	/* the profile's filter has the cgroup guard */
	st->packet = seccomp_init(SCMP_ACT_ALLOW);
	if (!st->packet)
		return -ENOMEM;
	/* a binary tree of syscall numbers, as the profile's filter (seccomp.c) */
	if ((r = seccomp_attr_set(st->packet, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
		return sbx_fail(why, len, r, "seccomp: binary tree optimization: %s", strerror(-r));
	if (packet && (r = seccomp_rule_add(st->packet, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
					    SCMP_A0(SCMP_CMP_EQ, AF_PACKET))) < 0)
		return sbx_fail(why, len, r, "seccomp rule for packet sockets: %s", strerror(-r));
	if (root && (r = seccomp_rule_add(st->packet, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(bpf), 0)) < 0)
		return sbx_fail(why, len, r, "seccomp rule for bpf(2): %s", strerror(-r));
	if ((r = sbx_seccomp_add_cgroup_guard(st->packet)) < 0)
		return sbx_fail(why, len, r, "seccomp rule for clone3 (cgroup guard): %s", strerror(-r));
	if (guard && (r = sbx_seccomp_add_exec_guard(st->packet, SCMP_ACT_ERRNO(EPERM),
						      s->refused ? (uint64_t *)s->refused->bits : NULL)) < 0)
		return sbx_fail(why, len, r, "seccomp rules of the exec guard: %s", strerror(-r));
	if (!st->have_sc && (r = sbx_seccomp_add_families(st->packet, s->profile->net.families)) < 0)
		return sbx_fail(why, len, r, "seccomp rules for socket families: %s", strerror(-r));
	for (size_t i = 0; !st->have_sc && i < sizeof(keyring_calls) / sizeof(keyring_calls[0]) && r == 0; i++)
		if ((r = seccomp_rule_add(st->packet, SCMP_ACT_ERRNO(EPERM), keyring_calls[i], 0)) < 0)
			return sbx_fail(why, len, r, "seccomp rules for the kernel keyrings: %s",
					strerror(-r));
	if (!st->have_sc && (r = sbx_seccomp_add_suid_guard(st->packet, SCMP_ACT_ERRNO(EPERM),
						       s->refused ? (uint64_t *)s->refused->bits : NULL)) < 0)
		return sbx_fail(why, len, r, "seccomp rules for set-id modes: %s", strerror(-r));
	return r;
}

static void host_cleanup(void *state);

/* The environment is the profile's plus PATH, HOME (the user's) and TERM,
 * like every provider's: nothing of the caller's leaks in. */
static int host_prepare(const struct sbx_spawn *s, void **ret_state, char *why, size_t len)
{
	struct host_state *st = calloc(1, sizeof(*st));
	bool guard = sbx_exec_guard_needed(s->profile, s->fs_backend);
	int r;

	*ret_state = NULL;
	if (!st)
		return -ENOMEM;
	r = sbx_ids_resolve(s->profile, s->uid, &st->ids, why, len);
	if (!r)
		r = protect_root(s, st, why, len);
	if (!r)
		r = sbx_env_build(s->profile, &st->ids, &st->envp);
	if (!r && wants_seccomp(s->profile)) {
		r = sbx_seccomp_build(s->profile, guard, &st->sc, why, len);
		st->have_sc = r == 0;
		if (!r && s->refused)
			memcpy(s->refused->bits, st->sc.denied, sizeof(s->refused->bits));
	}
	if (!r)
		r = small_filter(s, st, guard, why, len);
	if (r < 0) {
		host_cleanup(st);
		return r;
	}
	if (s->refused && !s->profile->net.raw_sockets)
		s->refused->flags |= SBX_SYSF_PACKET_REFUSED;
	if (s->refused)
		s->refused->flags |= SBX_SYSF_FAMILY_REFUSED;
	for (size_t i = 0; s->refused && !st->have_sc && i < sizeof(keyring_calls) / sizeof(keyring_calls[0]); i++)
		s->refused->bits[keyring_calls[i] / 64] |= 1ULL << (keyring_calls[i] % 64);
	*ret_state = st;
	return 0;
}

/* A host workload runs as the profile's user (the sandbox's own uid by
 * default: sbx_spawn.uid), with no
 * capabilities (sbx_drop_privileges). One that runs as root by the profile's
 * explicit choice keeps root's other capabilities, but not those that would
 * let it undo its confinement: detach or load BPF programs, enter other
 * namespaces, mount, reconfigure the network, open packet or SOCK_PACKET
 * sockets (unless raw_sockets), trace other processes, open
 * /proc/PID/map_files, or load modules. What uid 0 owns without capabilities
 * (cgroup.procs, pids.max, sbx's pins) Landlock keeps unwritable
 * (protect_root). */
static int host_drop_caps(const struct sbx_profile *p)
{
	static const int caps[] = {
		CAP_SYS_ADMIN, CAP_NET_ADMIN, 39 /* CAP_BPF */, 38 /* CAP_PERFMON */,
		CAP_SYS_PTRACE, CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_MAC_ADMIN, CAP_MAC_OVERRIDE,
		CAP_SYS_BOOT, CAP_SYS_TIME, CAP_NET_RAW,
		40 /* CAP_CHECKPOINT_RESTORE: opens /proc/PID/map_files, whose
		    * shared memory files Landlock cannot judge */
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
	struct host_state *st = arg;
	extern char **environ;
	int r;

	if ((r = sbx_child_take_tty(s)) < 0)
		sbx_child_fail(-r, true, "making sbx's pty the controlling terminal failed");
	if (st->ids.uid == 0 && (r = host_drop_caps(p)) < 0)
		sbx_child_fail(-r, true, "dropping capabilities failed");
	if (st->ids.uid != 0 && (r = sbx_drop_privileges(&st->ids)) < 0)
		sbx_child_fail(-r, true, "switching to the profile's user and group failed");
	/* no_new_privs marks the workload for the kernel side: the LSM programs
	 * judge only tasks that carry it (a process sandbox's init, which builds
	 * the mounts, does not), and setuid binaries do not elevate */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/* failures here are sbx's (125) and name the setting, not the command */
	if (p->cwd && chdir(p->cwd) < 0)
		sbx_child_fail(errno, true, "cwd: cannot change to the profile's directory");
	if ((r = sbx_apply_rlimits(p)) < 0)	/* fsize, core 0, a nofile raise */
		sbx_child_fail(-r, true, "nofile/fsize: setrlimit refused the profile's value");
	if ((r = sbx_child_cloexec_inherited(s->keep_fd)) < 0)
		sbx_child_fail(-r, true, "closing the caller's descriptors failed");
	if ((st->have_ll || s->landlock) &&
	    (r = sbx_landlock_apply(st->have_ll ? &st->ll : s->landlock)) < 0)
		sbx_child_fail(-r, true, "applying the Landlock ruleset failed");
	if ((r = sbx_apply_nofile(p)) < 0)
		sbx_child_fail(-r, true, "nofile: setrlimit refused the profile's value");
	/* last, so that the filter cannot refuse sbx's own setup calls */
	if (st->packet && (r = seccomp_load(st->packet)) < 0)
		sbx_child_fail(-r, true, "installing the packet-socket and bpf(2) filter failed");
	/* observe: the filter's refusals are reported from sys_enter instead
	 * (bpf/lib/syscalls.h), sbx_syscalls still holds them */
	if (st->have_sc && !s->profile->observe && (r = sbx_seccomp_install(&st->sc)) < 0)
		sbx_child_fail(-r, true, "installing the seccomp filter failed");
	environ = st->envp;	/* execvp searches the profile's PATH */
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
	struct host_state *st = state;

	if (!st)
		return;
	if (st->packet)
		seccomp_release(st->packet);
	if (st->have_sc)
		sbx_seccomp_free(&st->sc);
	sbx_env_free(st->envp);
	if (st->have_ll)
		sbx_landlock_plan_free(&st->ll);
	free(st);
}

const struct sbx_provider sbx_provider_host = {
	.name = "host",
	.dns_names = true,
	.level = SBX_ISO_NONE,
	.summary = "plain host process confined by sbx's eBPF programs only (no namespaces)",
	.tty = true,
	.probe = host_probe,
	.prepare = host_prepare,
	.spawn = host_spawn,
	.signal = host_signal,
	.wait = host_wait,
	.cleanup = host_cleanup,
};
