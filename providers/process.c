/* SPDX-License-Identifier: MIT */
/*
 * The "process" provider: the workload runs in new pid, mount, ipc, uts,
 * cgroup (and, for network mode none or namespace = "private", network)
 * namespaces created by the one clone3 call that also puts it in its cgroup.
 * The first process is a small init (PID 1 of the sandbox): it builds the
 * filesystem view, forks the workload, then execs the static sbx-init
 * (providers/init/sbx-init.c), which forwards signals to the workload, reaps
 * every zombie, and reports the workload's wait status to sbx over a pipe
 * (where no trusted sbx-init is installed, the fork of sbx does it). When the
 * init dies (also when sbx dies: PDEATHSIG), the kernel kills the whole pid
 * namespace. The workload drops to the profile's user, loses every
 * capability, gets no_new_privs, locked securebits, Landlock scoping, rlimits
 * and the seccomp filter, then execs with a scrubbed environment.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/landlock.h"
#include "kernel/netns.h"
#include "disk.h"
#include "kernel/netrate.h"
#include "grants.h"
#include "privs.h"
#include "provider.h"
#include "rootfs.h"
#include "kernel/seccomp.h"
#include "util/util.h"

struct process_state {
	const struct sbx_profile *p;
	struct sbx_seccomp sc;
	struct sbx_ids ids;
	struct sbx_grants grants;	/* idmapped mounts of granted paths */
	char **envp;
	char root[PATH_MAX];
	char disk_stage[PATH_MAX];	/* where the init attaches the disk */
	int disk_fd;		/* disk = ...: the tmpfs of /tmp and /dev/shm (disk.h), or -1 */
	bool private_net, veth;
	struct sbx_veth vethi;
	const struct sbx_netrate *netrate;	/* the core's; outlives this state */
	uint32_t slot;
	int status_pipe[2];	/* init -> sbx: the workload's wait status */
	int init_fd;		/* O_PATH of the trusted sbx-init, or -1 */
	char hostname[32];
	char why[256];		/* what process_started ran into */
	int (*started)(void *ctx, pid_t pid);
	void *started_ctx;
};

static int process_probe(char *why, size_t len)
{
	struct stat st;

	if (geteuid() != 0)
		return sbx_fail(why, len, -EPERM,
				"needs root (namespaces, mounts and cgroups are set up as root)");
	if (stat("/proc/self/ns/pid", &st) < 0 || stat("/proc/self/ns/mnt", &st) < 0)
		return sbx_fail(why, len, -EOPNOTSUPP, "the kernel lacks pid or mount namespaces");
	return 0;
}

static bool wants_private_net(const struct sbx_profile *p)
{
	if (p->net.namespace == SBX_NETNS_PRIVATE)
		return true;
	return p->net.namespace == SBX_NETNS_AUTO && p->net.mode == SBX_NET_NONE;
}

static int make_root_dir(struct process_state *st, const char *run_dir, char *why, size_t len)
{
	if (!run_dir)
		return sbx_fail(why, len, -EINVAL, "no run directory given");
	/* one empty directory serves every sandbox: each mounts over it in
	 * its own mount namespace, invisible to the others */
	snprintf(st->root, sizeof(st->root), "%s/root", run_dir);
	if ((mkdir(run_dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(st->root, 0700) < 0 && errno != EEXIST)) {
		return sbx_fail(why, len, -errno, "mkdir %s: %s", st->root, strerror(errno));
	}
	return 0;
}

/* disk = ...: the tmpfs that bounds /tmp and /dev/shm, and the empty
 * directory (shared like the root's) each sandbox attaches its own at. */
static int make_disk(struct process_state *st, const char *run_dir, char *why, size_t len)
{
	if (!st->p->disk_bytes)
		return 0;
	snprintf(st->disk_stage, sizeof(st->disk_stage), "%s/disk", run_dir);
	if (mkdir(st->disk_stage, 0700) < 0 && errno != EEXIST)
		return sbx_fail(why, len, -errno, "mkdir %s: %m", st->disk_stage);
	return sbx_disk_create(st->p->disk_bytes, &st->disk_fd, why, len);
}

SBX_IDLE_PATH static int process_disk_usage(void *state, struct sbx_disk_usage *ret)
{
	struct process_state *st = state;

	return st ? sbx_disk_usage(st->disk_fd, ret) : -ENOENT;
}

static void process_cleanup(void *state)
{
	struct process_state *st = state;

	if (!st)
		return;
	sbx_netrate_release(st->netrate, &st->vethi);
	sbx_veth_destroy(&st->vethi);
	sbx_seccomp_free(&st->sc);
	sbx_grants_free(&st->grants);
	sbx_env_free(st->envp);
	if (st->status_pipe[0] >= 0)
		close(st->status_pipe[0]);
	if (st->status_pipe[1] >= 0)
		close(st->status_pipe[1]);
	if (st->disk_fd >= 0)
		close(st->disk_fd);
	if (st->init_fd >= 0)
		close(st->init_fd);
	free(st);
}

/*
 * sbx-init is exec'd by a descriptor opened here, in sbx's own mount view,
 * before the sandbox's view exists: nothing in the sandbox can put another
 * file at its path. It is used only when root owns it and nobody else may
 * write it (the file of a build directory a user owns is not), else the
 * fork of sbx stays the init (more memory, the same behaviour).
 */
static bool init_trusted(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0 &&
	       !(st.st_mode & (S_IWGRP | S_IWOTH)) && (st.st_mode & S_IXUSR);
}

/* The file's own name, not a symlink (which anyone who may write the
 * directory points at any root-owned program: /bin/sh as PID 1 with every
 * capability, reading a script the workload wrote), in a directory of
 * root's that nobody else may write (where another user could rename a
 * root-owned file of theirs into place). */
static int init_open_at(const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	_cleanup_close_ int dfd = -1;
	struct stat st;

	if (!slash)
		return -1;
	*slash = '\0';
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st) < 0 || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -1;
	return openat(dfd, slash + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC);
}

/* beside the binary (OUTPUT/sbx-init), else PREFIX/lib/sbx/sbx-init for
 * PREFIX/bin/sbx and PREFIX/sbin/sbxd */
static int init_open(void)
{
	static const char *const rel[] = { "sbx-init", "../lib/sbx/sbx-init" };
	char exe[PATH_MAX], path[PATH_MAX + 32], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", exe, rel[i]);
		fd = init_open_at(path);
		if (fd < 0)
			continue;
		if (init_trusted(fd))
			return fd;
		close(fd);
	}
	return -1;
}

static int process_prepare(const struct sbx_spawn *s, void **ret_state, char *why, size_t len)
{
	struct process_state *st;
	int r;

	if (!s->fs)
		return sbx_fail(why, len, -EINVAL, "no filesystem plan given");
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->p = s->profile;
	st->status_pipe[0] = st->status_pipe[1] = -1;
	st->disk_fd = -1;
	st->init_fd = init_open();
	st->private_net = wants_private_net(s->profile);
	st->veth = st->private_net && s->profile->net.mode != SBX_NET_NONE;
	if (st->private_net && !st->veth && s->policy_flags)
		*s->policy_flags |= SBX_POLF_NETNS_PRIVATE;
	/* abstract unix names live in the network namespace: its own */
	if (st->private_net && s->policy_flags)
		*s->policy_flags |= SBX_POLF_OWN_NETNS;
	snprintf(st->hostname, sizeof(st->hostname), "%s", s->id);
	r = make_root_dir(st, s->run_dir, why, len);
	if (!r)
		r = make_disk(st, s->run_dir, why, len);
	if (!r)
		r = sbx_ids_resolve(s->profile, s->uid, &st->ids, why, len);
	if (!r)
		r = sbx_grants_prepare(s, &st->ids, true, &st->grants, why, len);
	if (!r)
		r = sbx_env_build(s->profile, &st->ids, &st->envp);
	if (!r)
		r = sbx_seccomp_build(s->profile, sbx_exec_guard_needed(s->profile, s->fs_backend),
				      &st->sc, why, len);
	if (!r && s->refused) {
		memcpy(s->refused->bits, st->sc.denied, sizeof(s->refused->bits));
		if (!s->profile->net.raw_sockets)
			s->refused->flags |= SBX_SYSF_PACKET_REFUSED;
		s->refused->flags |= SBX_SYSF_FAMILY_REFUSED;
	}
	if (!r && pipe2(st->status_pipe, O_CLOEXEC) < 0)
		r = -errno;
	if (r < 0) {
		if (!why[0])
			snprintf(why, len, "prepare: %s", strerror(-r));
		process_cleanup(st);
		return r;
	}
	*ret_state = st;
	return 0;
}

static pid_t workload = -1;
static const int forwarded_sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

static void forward_signal(int sig)
{
	if (workload > 0)
		kill(workload, sig);
}

/* The init blocks the signals it forwards from before the workload's fork
 * until its handlers are in place: a signal with no handler would be
 * dropped (PID 1), a blocked one waits. The mask survives sbx-init's exec. */
static void forwarded_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(forwarded_sigs) / sizeof(forwarded_sigs[0]); i++)
		sigaddset(set, forwarded_sigs[i]);
}

/* The workload: identity, privileges, confinement, exec. Never returns. */
static void workload_main(struct process_state *st, const struct sbx_spawn *s, char **argv)
{
	const char *cwd = st->p->cwd ? st->p->cwd : "/";
	extern char **environ;
	sigset_t none;
	int r;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	close(st->status_pipe[0]);
	close(st->status_pipe[1]);
	if (st->init_fd >= 0)
		close(st->init_fd);
	if ((r = sbx_child_take_tty(s)) < 0)
		sbx_child_fail(-r, true, "making sbx's pty the controlling terminal failed");
	if (chdir(cwd) < 0)
		sbx_child_fail(errno, true, "cwd of the profile does not exist in the sandbox");
	if ((r = sbx_apply_rlimits(st->p)) < 0)
		sbx_child_fail(-r, true, "nofile/fsize: setrlimit refused the profile's value");
	if ((r = sbx_drop_privileges(&st->ids)) < 0)
		sbx_child_fail(-r, true, "dropping privileges failed");
	if ((r = sbx_child_cloexec_inherited(s->keep_fd)) < 0)
		sbx_child_fail(-r, true, "closing the caller's descriptors failed");
	r = s->landlock ? sbx_landlock_apply(s->landlock) : sbx_landlock_scope();
	if (r < 0)
		sbx_child_fail(-r, true, "applying the Landlock ruleset failed");
	/* held (a warm pool's entry): confined as above, it says it is ready
	 * and takes the command and its stdio, the one message it ever reads;
	 * before nofile and the seccomp filter, which could refuse the
	 * descriptors or the calls that reading it needs, and which follow
	 * before anything of the command runs */
	if (s->held)
		argv = sbx_child_await();
	if ((r = sbx_apply_nofile(st->p)) < 0)
		sbx_child_fail(-r, true, "nofile: setrlimit refused the profile's value");
	/* observe: the filter's refusals are reported from sys_enter instead
	 * (bpf/lib/syscalls.h), sbx_syscalls still holds them */
	if (!s->profile->observe && (r = sbx_seccomp_install(&st->sc)) < 0)
		sbx_child_fail(-r, true, "installing the seccomp filter failed");
	environ = st->envp;	/* execvp searches the sandbox's PATH */
	execvp(argv[0], argv);
	sbx_child_fail(errno, false, NULL);
}

/* A held init keeps the entry's stdio (its log) no longer than a cold
 * one keeps the caller's: the workload gets its own at the go. */
static void init_quiet_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	for (int i = 0; fd >= 0 && i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
}

/* Becomes sbx-init (providers/init/sbx-init.c); returns if the exec fails. */
static void exec_small_init(struct process_state *st)
{
	char fd[16], pid[16];
	char *argv[] = { "sbx-init", fd, pid, NULL }, *envp[] = { NULL };

	if (st->init_fd < 0 || fcntl(st->status_pipe[1], F_SETFD, 0) < 0)
		return;
	snprintf(fd, sizeof(fd), "%d", st->status_pipe[1]);
	snprintf(pid, sizeof(pid), "%d", (int)workload);
	syscall(SYS_execveat, st->init_fd, "", argv, envp, AT_EMPTY_PATH);
	fcntl(st->status_pipe[1], F_SETFD, FD_CLOEXEC);
}

/* PID 1 of the sandbox: forward signals, reap everything, report the
 * workload's status, exit (which kills the rest of the pid namespace).
 * sbx-init does the same in a few pages; this loop is its fallback. */
static void init_loop(struct process_state *st)
{
	struct sigaction sa = { .sa_handler = forward_signal };
	sigset_t fwd;
	int status = 0;

	sbx_child_close_report();
	close(st->status_pipe[0]);
	exec_small_init(st);
	forwarded_set(&fwd);
	for (size_t i = 0; i < sizeof(forwarded_sigs) / sizeof(forwarded_sigs[0]); i++)
		sigaction(forwarded_sigs[i], &sa, NULL);
	sigprocmask(SIG_UNBLOCK, &fwd, NULL);
	for (;;) {
		int st_any;
		pid_t pid = waitpid(-1, &st_any, 0);

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			break;
		if (pid == workload) {
			status = st_any;
			break;
		}
	}
	if (write(st->status_pipe[1], &status, sizeof(status)) != sizeof(status))
		_exit(125);
	_exit(0);
}

static int init_main(const struct sbx_spawn *s, void *arg)
{
	struct process_state *st = arg;
	struct sbx_rootfs_disk disk = { st->disk_fd, st->disk_stage };
	char **argv = (char **)s->argv, why[256];	/* NULL when held */
	sigset_t fwd;
	int r;

	prctl(PR_SET_NAME, "sbx-init", 0, 0, 0);
	/* /proc/1/exe is sbx until the exec, then sbx-init: nothing in the
	 * sandbox may open it (the workload has no capabilities; this is
	 * the second lock), nor the init's memory or descriptors */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (st->private_net && (r = sbx_netns_loopback_up()) < 0)
		sbx_child_fail(-r, true, "bringing up loopback failed");
	r = sbx_rootfs_setup(s->fs, &st->grants, st->root, st->hostname,
			     s->tty ? STDIN_FILENO : -1, st->disk_fd >= 0 ? &disk : NULL,
			     st->ids.uid == 0 ? s->own_dirs : NULL, why, sizeof(why));
	if (r < 0)
		sbx_child_fail(-r, true, why);
	forwarded_set(&fwd);
	sigprocmask(SIG_BLOCK, &fwd, NULL);
	workload = fork();
	if (workload < 0)
		sbx_child_fail(errno, true, "fork of the workload failed");
	if (workload == 0)
		workload_main(st, s, argv);
	if (s->held)
		init_quiet_stdio();
	init_loop(st);
	return 0;
}

/* In the parent while the init is held: the veth needs its netns. */
static int process_started(void *ctx, pid_t pid)
{
	struct process_state *st = ctx;
	int r;

	if (st->veth) {
		r = sbx_veth_create(&st->vethi, st->hostname, st->slot, pid, st->p, st->why,
				    sizeof(st->why));
		if (r < 0)
			return r;
		if (st->netrate)
			r = sbx_netrate_apply(st->netrate, &st->vethi, st->slot, pid, st->why,
					      sizeof(st->why));
		if (r < 0)
			return r;
	}
	return st->started ? st->started(st->started_ctx, pid) : 0;
}

static int process_spawn(void *state, const struct sbx_spawn *s, struct sbx_child *ret,
			 char *why, size_t len)
{
	struct process_state *st = state;
	struct sbx_spawn sp = *s;
	uint64_t flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
	int r;

	if (st->private_net)
		flags |= CLONE_NEWNET;
	st->started = s->started;
	st->started_ctx = s->started_ctx;
	st->slot = s->slot;
	st->netrate = s->netrate;
	sp.started = process_started;
	sp.started_ctx = st;
	sp.clone_flags = flags;
	r = sbx_clone_into_cgroup(&sp, init_main, st, ret, why, len);
	if (r < 0 && st->why[0])
		snprintf(why, len, "veth: %s", st->why);
	close(st->status_pipe[1]);
	st->status_pipe[1] = -1;
	return r;
}

static int process_go(void *state, const struct sbx_spawn *s, const int fds[3], struct sbx_child *ret,
		      char *why, size_t len)
{
	return sbx_child_go(ret, s->argv, fds, why, len);
}

static int process_signal(void *state, struct sbx_child *c, int sig)
{
	return sbx_child_signal(c, sig);
}

/* The init's own status says little; the workload's comes over the pipe. */
static int process_wait(void *state, struct sbx_child *c, int *ret_status)
{
	struct process_state *st = state;
	int init_status, status;
	int r = sbx_child_wait(c, &init_status);

	if (r < 0)
		return r;
	if (read(st->status_pipe[0], &status, sizeof(status)) == sizeof(status))
		*ret_status = status;
	else
		*ret_status = init_status;	/* init killed: timeout or sbx kill */
	return 0;
}

const struct sbx_provider sbx_provider_process = {
	.name = "process",
	.dns_names = true,
	.level = SBX_ISO_PROCESS,
	.summary = "namespaces, pivot_root view, no capabilities, seccomp, Landlock scoping, cgroup limits",
	.tty = true,
	.probe = process_probe,
	.can_run = sbx_rootfs_can_run,
	.prepare = process_prepare,
	.spawn = process_spawn,
	.go = process_go,
	.signal = process_signal,
	.wait = process_wait,
	.disk_usage = process_disk_usage,
	.cleanup = process_cleanup,
};
