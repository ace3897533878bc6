/* SPDX-License-Identifier: MIT */
/*
 * sbx-init: PID 1 of a process-provider sandbox once the workload runs.
 *
 * sbx's init (providers/process.c) builds the sandbox's filesystem view,
 * forks the workload and then execs this program through a descriptor it
 * opened before the view changed, so that what stays resident for the
 * sandbox's life is a few pages instead of a copy-on-write image of all of
 * sbx. It only forwards signals to the workload, reaps every zombie of the
 * pid namespace, and writes the workload's wait status to sbx's pipe.
 *
 *   sbx-init STATUS_FD WORKLOAD_PID
 *
 * The signals it forwards arrive blocked (the mask survives exec), so none
 * is lost between the exec and the handlers. Exit 0 once the status is
 * written, 125 when it cannot be (sbx then reads the init's own status) or
 * when started by anything but sbx's init.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
static volatile pid_t workload;

static void forward_signal(int sig)
{
	kill(workload, sig);
}

/* a positive decimal that fits an int, nothing else */
static int parse_uint(const char *s)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 0x7fffffff / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v <= 0x7fffffff ? (int)v : -1;
}

static void forward_signals(void)
{
	struct sigaction sa = { .sa_handler = forward_signal };
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) {
		sigaction(forwarded[i], &sa, NULL);
		sigaddset(&set, forwarded[i]);
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int main(int argc, char **argv)
{
	int fd, status = 0;
	pid_t pid;

	/* no /proc/1/exe, mem or fd for anything in the sandbox; and the
	 * name that an exec by descriptor does not give ("3", the fd) */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_NAME, "sbx-init", 0, 0, 0);
	if (argc != 3 || getpid() != 1 || (fd = parse_uint(argv[1])) < 0 ||
	    (pid = parse_uint(argv[2])) <= 1) {
		static const char msg[] = "sbx-init: started by sbx as PID 1 of a sandbox only\n";
		ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);

		(void)n;
		return 125;
	}
	workload = pid;
	forward_signals();
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, 0);

		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			break;
		if (p == pid) {
			status = st;
			break;
		}
	}
	if (write(fd, &status, sizeof(status)) != sizeof(status))
		_exit(125);
	_exit(0);
}
