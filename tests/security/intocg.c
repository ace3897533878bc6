// SPDX-License-Identifier: MIT
/*
 * Run inside a sandbox by tests/security/test_cgroup_escape.sh: start a child
 * with clone3(CLONE_INTO_CGROUP) in the cgroup2 directory argv[1] (the
 * hierarchy's root: outside the sandbox's cgroup, where none of sbx's
 * programs apply) and exec argv[2..] there. Prints "into_cgroup ok" and
 * the child's cgroup line when the kernel put it there, else
 * "into_cgroup ERRNO-NAME" (ENOSYS: the cgroup guard).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e)
{
	switch (e) {
	case ENOSYS: return "ENOSYS";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	case EROFS: return "EROFS";
	case EBUSY: return "EBUSY";
	default: return strerror(e);
	}
}

int main(int argc, char **argv)
{
	struct clone_args a;
	int fd, st;
	long pid;

	if (argc < 3) {
		fprintf(stderr, "usage: intocg CGROUP2-DIR CMD [ARG]...\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		printf("into_cgroup open:%s\n", ename(errno));
		return 0;
	}
	memset(&a, 0, sizeof(a));
	a.flags = CLONE_INTO_CGROUP;
	a.exit_signal = SIGCHLD;
	a.cgroup = (unsigned long long)fd;
	fflush(stdout);
	pid = syscall(SYS_clone3, &a, sizeof(a));
	if (pid < 0) {
		printf("into_cgroup %s\n", ename(errno));
		return 0;
	}
	if (pid == 0) {
		printf("into_cgroup ok\n");
		fflush(stdout);
		execv(argv[2], argv + 2);
		_exit(127);
	}
	waitpid((pid_t)pid, &st, 0);
	return 0;
}
