// SPDX-License-Identifier: MIT
/*
 * The runtime-spec hooks (hooks.h). The state JSON goes to the hook's stdin
 * through a memfd (no pipe that a hook that never reads could block); its
 * stdout and stderr come back through a pipe, the first 1 KiB kept for the
 * error message; a pidfd tells when it exits, so that a hook that leaves a
 * background child holding the pipe does not hang create.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../util/util.h"
#include "hooks.h"

static const char *const kind_names[OCI_HOOK_KINDS] = {
	[OCI_HOOK_PRESTART] = "prestart",
	[OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
	[OCI_HOOK_CREATE_CONTAINER] = "createContainer",
	[OCI_HOOK_START_CONTAINER] = "startContainer",
	[OCI_HOOK_POSTSTART] = "poststart",
	[OCI_HOOK_POSTSTOP] = "poststop",
};

const char *oci_hook_kind_name(enum oci_hook_kind kind)
{
	return kind < OCI_HOOK_KINDS ? kind_names[kind] : "?";
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void __attribute__((noreturn)) hook_child(const struct oci_hook *h, int in_fd, int out_fd)
{
	char *const default_args[] = { h->path, NULL };
	char *const empty_env[] = { NULL };

	/* a group of its own: a timeout kills what it started too */
	setpgid(0, 0);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		_exit(126);
	syscall(SYS_close_range, 3U, ~0U, 0U);
	signal(SIGPIPE, SIG_DFL);
	execve(h->path, h->args ? h->args : default_args, h->env ? h->env : empty_env);
	dprintf(2, "exec %s: %s", h->path, strerror(errno));
	_exit(127);
}

/* Keeps up to cap-1 bytes of what fd has now; false at EOF or error. */
static bool read_some(int fd, char *buf, size_t cap, size_t *got)
{
	char tmp[512];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN);
	size_t k = (size_t)n < cap - 1 - *got ? (size_t)n : cap - 1 - *got;
	memcpy(buf + *got, tmp, k);
	*got += k;
	return true;
}

/* Reads the hook's output until it exits (then what is already in the
 * pipe) or the deadline passes. */
static int wait_hook(pid_t pid, int pidfd, int out, int timeout, char *buf, size_t cap, size_t *got,
		     int *ret_status)
{
	int64_t deadline = timeout > 0 ? now_ms() + (int64_t)timeout * 1000 : -1;

	for (;;) {
		struct pollfd p[2] = { { pidfd, POLLIN, 0 }, { out, POLLIN, 0 } };
		int wait_ms = deadline < 0 ? -1 : (int)(deadline - now_ms());
		if (deadline >= 0 && wait_ms <= 0)
			return -ETIMEDOUT;
		int r = poll(p, out >= 0 ? 2 : 1, wait_ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (out >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !read_some(out, buf, cap, got))
			out = -1;
		if (p[0].revents & POLLIN) {
			if (waitpid(pid, ret_status, 0) != pid)
				return -errno;
			/* what the hook wrote before it exited */
			while (out >= 0) {
				struct pollfd q = { out, POLLIN, 0 };
				if (poll(&q, 1, 0) <= 0 || !read_some(out, buf, cap, got))
					break;
			}
			return 0;
		}
	}
}

static int run_one(const struct oci_hook *h, const char *name, size_t i, const char *state_json,
		   char *why, size_t len)
{
	char out[1024];
	size_t got = 0;
	int status = 0, r;
	int pipefd[2];

	_cleanup_close_ int in = memfd_create("oci-hook-state", MFD_CLOEXEC);
	if (in < 0)
		return sbx_fail(why, len, -errno, "hooks.%s[%zu]: memfd: %s", name, i, strerror(errno));
	if (sbx_write_all(in, state_json, strlen(state_json)) != strlen(state_json) ||
	    lseek(in, 0, SEEK_SET) < 0)
		return sbx_fail(why, len, -errno, "hooks.%s[%zu]: state: %s", name, i, strerror(errno));
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return sbx_fail(why, len, -errno, "hooks.%s[%zu]: pipe: %s", name, i, strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		r = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return sbx_fail(why, len, r, "hooks.%s[%zu]: fork: %s", name, i, strerror(-r));
	}
	if (pid == 0)
		hook_child(h, in, pipefd[1]);
	close(pipefd[1]);
	_cleanup_close_ int rd = pipefd[0];
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return sbx_fail(why, len, -errno, "hooks.%s[%zu]: pidfd_open: %s", name, i,
				strerror(errno));
	}
	r = wait_hook(pid, pidfd, rd, h->timeout, out, sizeof(out), &got, &status);
	if (r < 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (r == -ETIMEDOUT)
			return sbx_fail(why, len, r, "hooks.%s[%zu] (%s): timed out after %d s: killed",
					name, i, h->path, h->timeout);
		return sbx_fail(why, len, r, "hooks.%s[%zu] (%s): %s", name, i, h->path, strerror(-r));
	}
	out[got] = '\0';
	while (got && (out[got - 1] == '\n' || out[got - 1] == ' '))
		out[--got] = '\0';
	if (WIFSIGNALED(status))
		return sbx_fail(why, len, -ECHILD, "hooks.%s[%zu] (%s): killed by signal %d%s%s", name,
				i, h->path, WTERMSIG(status), got ? ": " : "", out);
	if (WEXITSTATUS(status) != 0)
		return sbx_fail(why, len, -ECHILD, "hooks.%s[%zu] (%s): exit status %d%s%s", name, i,
				h->path, WEXITSTATUS(status), got ? ": " : "", out);
	return 0;
}

int oci_hooks_run(const struct oci_spec *s, enum oci_hook_kind kind, const char *state_json,
		  char *why, size_t len)
{
	for (size_t i = 0; i < s->n_hooks[kind]; i++) {
		int r = run_one(&s->hooks[kind][i], oci_hook_kind_name(kind), i, state_json, why, len);
		if (r < 0)
			return r;
	}
	return 0;
}
