/* SPDX-License-Identifier: MIT */
/* clone3 into the sandbox cgroup, shared by every provider that starts a
 * local process (host, process, gvisor's runsc, qemu, wasm runtimes). */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/seccomp.h"
#include "provider.h"
#include "util/util.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* sbx changes no signal disposition (it blocks and reads a signalfd), so
 * restoring the mask and the few a caller might ignore is enough. */
static void child_reset_signals(void)
{
	static const int sigs[] = { SIGPIPE, SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	sigset_t none;

	sigemptyset(&none);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static int report_fd = -1;
static int cmd_fd = -1;		/* a held child's: where its command comes from */

#define SBX_HELD_MSG_MAX	(128 * 1024)	/* sbxd's go (core/poolgo.h) fits */
#define SBX_HELD_ARGS_MAX	4096

/* What a child tells its parent before it dies: an exec failure (the
 * workload's command is missing: 126/127) or a setup failure (sbx's fault: 125). */
struct child_report {
	int err;
	int setup;
	char msg[240];
};

void sbx_child_fail(int err, bool setup, const char *msg)
{
	struct child_report rep = { .err = err > 0 ? err : EINVAL, .setup = setup };

	if (msg)
		snprintf(rep.msg, sizeof(rep.msg), "%s", msg);
	if (report_fd >= 0 && write(report_fd, &rep, sizeof(rep)) != sizeof(rep))
		_exit(125);
	_exit(setup ? 125 : rep.err == ENOENT ? 127 : 126);
}

void sbx_child_close_report(void)
{
	if (report_fd >= 0)
		close(report_fd);
	report_fd = -1;
	if (cmd_fd >= 0)
		close(cmd_fd);	/* a held workload's, not its init's */
	cmd_fd = -1;
}

/*
 * The sandbox never shares the caller's terminal session: a new session
 * without a controlling terminal (with -t, sbx's pty on stdin, stdout and
 * stderr instead of the caller's files), and the terminal guard
 * (kernel/seccomp.h) against TIOCSTI/TIOCLINUX on whatever terminal it may
 * still hold, e.g. the caller's as stdin. Without CAP_SYS_ADMIN (sbx not
 * root) the filter needs no_new_privs first.
 */
static int child_detach_terminal(const struct sbx_spawn *s)
{
	int r;

	if (setsid() < 0)
		return -errno;
	if (s->tty && (dup2(s->tty_fd, 0) < 0 || dup2(s->tty_fd, 1) < 0 || dup2(s->tty_fd, 2) < 0))
		return -errno;
	if (s->tty && s->tty_fd > 2)
		close(s->tty_fd);
	/* (the originals are close-on-exec: only 1 and 2 reach the workload) */
	if (s->out_fd > 2 && dup2(s->out_fd, STDOUT_FILENO) < 0)
		return -errno;
	if (s->err_fd > 2 && dup2(s->err_fd, STDERR_FILENO) < 0)
		return -errno;
	r = sbx_tty_guard_install(sbx_io_uring_refused(s->profile));
	if (r == -EACCES && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)
		r = sbx_tty_guard_install(sbx_io_uring_refused(s->profile));
	return r;
}

int sbx_child_take_tty(const struct sbx_spawn *s)
{
	if (!s->tty)
		return 0;
	if (getsid(0) != getpid() && setsid() < 0)
		return -errno;
	return ioctl(0, TIOCSCTTY, 0) < 0 ? -errno : 0;
}

/*
 * The caller's session keyring is possessed by every process that inherits
 * it, whatever its uid, and possession is what a key's rights are mostly
 * given to: a workload could read the caller's keys and add or change its
 * own there. Every child starts in an anonymous session keyring of its own
 * (no keyrings in the kernel: nothing to leave).
 */
static int child_leave_keyrings(void)
{
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS)
		return -errno;
	return 0;
}

/* A descriptor that sbx's caller left open would reach into the sandbox
 * past every rule: an unconnected unix socket created outside the sandbox
 * cgroup is judged by none of its hooks (connect it to any host socket), a
 * directory opens paths outside the view. close_range's CLOEXEC flag (5.11)
 * keeps sbx's own report pipe working until exec; older kernels get a loop. */
static int cloexec_range(unsigned first, unsigned last)
{
	struct rlimit rl;

	if (first > last)
		return 0;
	if (syscall(SYS_close_range, first, last, 1U << 2 /* CLOSE_RANGE_CLOEXEC */) == 0)
		return 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	for (rlim_t fd = first; fd <= last && fd < rl.rlim_cur && fd < (1U << 20); fd++)
		if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF)
			return -errno;
	return 0;
}

int sbx_child_cloexec_inherited(int keep)
{
	int r;

	if (keep < 3)
		return cloexec_range(3, ~0U);
	r = cloexec_range(3, (unsigned)keep - 1);
	return r ? r : cloexec_range((unsigned)keep + 1, ~0U);
}

static void child_main(const struct sbx_spawn *s, int (*fn)(const struct sbx_spawn *, void *),
		       void *arg, int errfd, int gofd, pid_t parent)
{
	char go;
	int err;

	child_reset_signals();
	/* The sandbox must not outlive its manager. */
	/* (in a new pid namespace getppid() is 0; the go pipe's EOF tells then) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
	    (!(s->clone_flags & CLONE_NEWPID) && getppid() != parent))
		_exit(125);
	/* Wait for the parent's go (one byte); EOF means it gave up. */
	if (read(gofd, &go, 1) != 1)
		_exit(125);
	close(gofd);
	report_fd = errfd;
	if ((err = child_detach_terminal(s)) < 0)
		sbx_child_fail(-err, true, "detaching from the caller's terminal failed");
	if ((err = child_leave_keyrings()) < 0)
		sbx_child_fail(-err, true, "leaving the caller's session keyring failed");
	if (s->child_setup && (err = s->child_setup(s->child_setup_ctx)) < 0)
		sbx_child_fail(-err, true, "joining the sandbox's v1 cgroups failed");
	/* fn execs, or returns the errno of a failed exec */
	err = -fn(s, arg);
	sbx_child_fail(err, false, NULL);
}

static int release_child(const struct sbx_spawn *s, pid_t pid, int gofd)
{
	int r = s->started ? s->started(s->started_ctx, pid) : 0;

	if (r == 0 && write(gofd, "g", 1) != 1)
		r = -errno;
	close(gofd);
	return r;
}

/* The report pipe's end: EOF means exec succeeded (it was close-on-exec). */
static int read_report(struct sbx_child *c, int fd, int r, char *why, size_t len)
{
	struct child_report rep = { 0 };
	ssize_t n;

	do
		n = read(fd, &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	close(fd);
	c->exec_errno = n == sizeof(rep) && !rep.setup ? rep.err : 0;
	if (r == 0 && n == sizeof(rep) && rep.setup)
		r = sbx_fail(why, len, -rep.err, "sandbox setup: %s%s%s", rep.msg,
			     rep.msg[0] ? ": " : "", strerror(rep.err));
	return r;
}

/* A held child's "ready" byte; EOF when it failed (its report says why). */
static bool held_ready(int fd)
{
	char c;
	ssize_t n;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 && c == 'R';
}

int sbx_clone_into_cgroup(const struct sbx_spawn *s, int (*fn)(const struct sbx_spawn *, void *),
			  void *arg, struct sbx_child *ret, char *why, size_t len)
{
	struct clone_args ca = {};
	pid_t parent = getpid(), pid;
	int pfd[2], gfd[2] = { -1, -1 }, cfd[2] = { -1, -1 }, pidfd = -1, err = 0, r;

	ret->cmd_fd = ret->report_fd = -1;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return sbx_fail(why, len, -errno, "pipe: %s", strerror(errno));
	if (pipe2(gfd, O_CLOEXEC) < 0 ||
	    (s->held && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, cfd) < 0)) {
		err = errno;
		for (int i = 0; i < 2; i++) {
			close(pfd[i]);
			if (gfd[i] >= 0)
				close(gfd[i]);
		}
		return sbx_fail(why, len, -err, "pipe: %s", strerror(err));
	}
	ca.flags = CLONE_INTO_CGROUP | CLONE_PIDFD | s->clone_flags;
	ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
	ca.exit_signal = SIGCHLD;
	ca.cgroup = (uint64_t)s->cgroup_fd;
	pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0) {
		close(pfd[0]);
		close(gfd[1]);
		if (s->held) {
			close(cfd[0]);
			cmd_fd = cfd[1];
		}
		child_main(s, fn, arg, pfd[1], gfd[0], parent);
	}
	err = errno;
	close(pfd[1]);
	close(gfd[0]);
	if (cfd[1] >= 0)
		close(cfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		close(gfd[1]);
		if (cfd[0] >= 0)
			close(cfd[0]);
		return sbx_fail(why, len, -err, "clone3 into cgroup %s: %s", s->cgroup_path,
				strerror(err));
	}
	ret->pid = pid;
	ret->pidfd = pidfd;
	r = release_child(s, pid, gfd[1]);
	if (r < 0)
		snprintf(why, len, "start of sandbox %s: %s", s->id, strerror(-r));
	if (s->held && r == 0 && held_ready(cfd[0])) {
		/* built and waiting: the command comes with sbx_child_go */
		ret->cmd_fd = cfd[0];
		ret->report_fd = pfd[0];
		ret->exec_errno = 0;
		return 0;
	}
	if (cfd[0] >= 0)
		close(cfd[0]);
	r = read_report(ret, pfd[0], r, why, len);
	if (r == 0 && s->held)
		r = sbx_fail(why, len, -EPROTO, "sandbox setup: the held sandbox ended before it was ready");
	return r;
}

/* The command as "arg\0arg\0...", with the three descriptors. */
int sbx_child_go(struct sbx_child *c, char *const argv[], const int fds[3], char *why, size_t len)
{
	char cbuf[CMSG_SPACE(3 * sizeof(int))] = { 0 };
	_cleanup_free_ char *msg = malloc(SBX_HELD_MSG_MAX);
	struct iovec iov = { .iov_base = msg };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	size_t n = 0, k = 0;
	ssize_t sent;
	int r = 0;

	if (c->cmd_fd < 0 || c->report_fd < 0)
		return sbx_fail(why, len, -EINVAL, "the sandbox was not held");
	if (!msg)
		return sbx_fail(why, len, -ENOMEM, "go: %s", strerror(ENOMEM));
	for (; argv[k]; k++) {
		size_t l = strlen(argv[k]) + 1;

		if (n + l > SBX_HELD_MSG_MAX || k >= SBX_HELD_ARGS_MAX)
			return sbx_fail(why, len, -E2BIG, "go: the command is too long for a held sandbox");
		memcpy(msg + n, argv[k], l);
		n += l;
	}
	if (!k)
		return sbx_fail(why, len, -EINVAL, "go: no command");
	iov.iov_len = n;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(3 * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, 3 * sizeof(int));
	do
		sent = sendmsg(c->cmd_fd, &mh, MSG_NOSIGNAL);
	while (sent < 0 && errno == EINTR);
	if (sent < 0)
		r = sbx_fail(why, len, -errno, "go: %s", strerror(errno));
	else if ((size_t)sent != n)
		r = sbx_fail(why, len, -EMSGSIZE, "go: %s", strerror(EMSGSIZE));
	/* one command only: the init reads no second one */
	close(c->cmd_fd);
	c->cmd_fd = -1;
	r = read_report(c, c->report_fd, r, why, len);
	c->report_fd = -1;
	return r;
}

void sbx_child_drop(struct sbx_child *c)
{
	if (c->cmd_fd >= 0)
		close(c->cmd_fd);
	if (c->report_fd >= 0)
		close(c->report_fd);
	c->cmd_fd = c->report_fd = -1;
}

/* Receives one message with exactly three descriptors into buf. */
static int await_msg(char *buf, size_t cap, int fds[3])
{
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;

	do
		n = recvmsg(cmd_fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? -errno : -EPIPE;
	cm = CMSG_FIRSTHDR(&mh);
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || !cm || cm->cmsg_level != SOL_SOCKET ||
	    cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(3 * sizeof(int)) ||
	    buf[n - 1] != '\0')
		return -EBADMSG;
	memcpy(fds, CMSG_DATA(cm), 3 * sizeof(int));
	return (int)n;
}

char **sbx_child_await(void)
{
	char *buf = malloc(SBX_HELD_MSG_MAX), **argv;
	int fds[3], n;
	size_t k = 0;

	if (!buf)
		sbx_child_fail(ENOMEM, true, "waiting for the command");
	if (write(cmd_fd, "R", 1) != 1)
		sbx_child_fail(errno, true, "telling sbx the sandbox is ready");
	n = await_msg(buf, SBX_HELD_MSG_MAX, fds);
	/* one command only: nothing can reach the init after it */
	close(cmd_fd);
	cmd_fd = -1;
	if (n == -EPIPE)
		_exit(125);	/* sbx gave up on it: nothing ran */
	if (n < 0)
		sbx_child_fail(-n, true, "the command of a held sandbox");
	/* 0, 1 and 2 are open (the monitor's): the new ones are above */
	for (int i = 0; i < 3; i++)
		if (fds[i] < 3 || dup2(fds[i], i) < 0)
			sbx_child_fail(fds[i] < 3 ? EBADF : errno, true, "the stdio of a held sandbox");
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	argv = calloc(SBX_HELD_ARGS_MAX + 1, sizeof(*argv));
	if (!argv)
		sbx_child_fail(ENOMEM, true, "the command of a held sandbox");
	for (char *p = buf; p < buf + n && k < SBX_HELD_ARGS_MAX; p += strlen(p) + 1)
		argv[k++] = p;
	return argv;
}

int sbx_child_wait(struct sbx_child *c, int *ret_status)
{
	siginfo_t si = {};

	if (waitid((idtype_t)P_PIDFD, (id_t)c->pidfd, &si, WEXITED) < 0)
		return -errno;
	*ret_status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : si.si_status & 0x7f;
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
	return 0;
}

int sbx_child_signal(struct sbx_child *c, int sig)
{
	if (c->pidfd < 0)
		return -ESRCH;
	if (syscall(SYS_pidfd_send_signal, c->pidfd, sig, NULL, 0) < 0)
		return -errno;
	return 0;
}
