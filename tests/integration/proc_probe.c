// SPDX-License-Identifier: MIT
/*
 * proc_probe: the system calls the process-provider tests try from inside a
 * sandbox, one per run, printing what the workload got.
 *
 *   proc_probe ptrace                 ptrace(PTRACE_TRACEME)
 *   proc_probe ptrace_attach PID      ptrace(PTRACE_ATTACH, PID)
 *   proc_probe mount                  mount("tmpfs", "/tmp", "tmpfs")
 *   proc_probe umount PATH            umount2(PATH, MNT_DETACH)
 *   proc_probe bpf                    bpf(BPF_MAP_CREATE) of a one-entry array
 *   proc_probe add_key                add_key("user", ...) into the process keyring
 *   proc_probe keyctl                 keyctl(KEYCTL_GET_KEYRING_ID, session keyring)
 *   proc_probe unshare_user           unshare(CLONE_NEWUSER)
 *   proc_probe kill PID [SIG]         kill(PID, SIG) (default SIGKILL)
 *   proc_probe write PATH             open(O_WRONLY|O_CREAT|O_TRUNC) + write(2)
 *   proc_probe read PATH              open(O_RDONLY) + read(2)
 *   proc_probe mkdir PATH             mkdir(2)
 *   proc_probe alloc MIB              malloc and touch MIB MiB, then "ok"
 *   proc_probe spin MS                busy loop for MS ms of wall time
 *   proc_probe forks N                fork N children that sleep 3 s; prints
 *                                     "forked=A failed=B errno=NAME"
 *
 * Output: one line, "ok" (with details) or the errno name ("EPERM").
 * Exit status: 0 on success, 1 on EPERM or EACCES, 2 on any other error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int result(long r)
{
	int e = errno;

	if (r >= 0) {
		printf("ok\n");
		return 0;
	}
	printf("%s\n", strerrorname_np(e) ? strerrorname_np(e) : "EUNKNOWN");
	return e == EPERM || e == EACCES ? 1 : 2;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: proc_probe CMD [ARGS] (see the source)\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	const char *arg = argc > 2 ? argv[2] : NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "ptrace"))
		return result(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
	if (!strcmp(cmd, "ptrace_attach") && arg)
		return result(ptrace(PTRACE_ATTACH, (pid_t)atoi(arg), NULL, NULL));
	if (!strcmp(cmd, "mount"))
		return result(mount("tmpfs", "/tmp", "tmpfs", 0, NULL));
	if (!strcmp(cmd, "umount") && arg)
		return result(umount2(arg, MNT_DETACH));
	if (!strcmp(cmd, "bpf")) {
		union bpf_attr a;

		memset(&a, 0, sizeof(a));
		a.map_type = BPF_MAP_TYPE_ARRAY;
		a.key_size = 4;
		a.value_size = 4;
		a.max_entries = 1;
		return result(syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a)));
	}
	if (!strcmp(cmd, "add_key"))
		return result(syscall(SYS_add_key, "user", "sbxtest", "x", 1,
				      KEY_SPEC_PROCESS_KEYRING));
	if (!strcmp(cmd, "keyctl"))
		return result(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
				      KEY_SPEC_SESSION_KEYRING, 0));
	if (!strcmp(cmd, "unshare_user"))
		return result(unshare(CLONE_NEWUSER));
	if (!strcmp(cmd, "kill") && arg)
		return result(kill((pid_t)atoi(arg), argc > 3 ? atoi(argv[3]) : SIGKILL));
	if (!strcmp(cmd, "write") && arg) {
		int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0)
			return result(-1);
		return result(write(fd, "x\n", 2));
	}
	if (!strcmp(cmd, "read") && arg) {
		char c;
		int fd = open(arg, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return result(-1);
		return result(read(fd, &c, 1));
	}
	if (!strcmp(cmd, "mkdir") && arg)
		return result(mkdir(arg, 0755));
	if (!strcmp(cmd, "alloc") && arg) {
		size_t mib = strtoul(arg, NULL, 10);

		for (size_t i = 0; i < mib; i++) {
			char *p = malloc(1 << 20);

			if (!p)
				return result(-1);
			memset(p, (int)i | 1, 1 << 20);
		}
		printf("ok allocated %zu MiB\n", mib);
		return 0;
	}
	if (!strcmp(cmd, "spin") && arg) {
		double end = now() + atoi(arg) / 1000.0;
		volatile unsigned long n = 0;

		while (now() < end)
			for (int i = 0; i < 100000; i++)
				n++;
		printf("ok\n");
		return 0;
	}
	if (!strcmp(cmd, "forks") && arg) {
		int n = atoi(arg), forked = 0, failed = 0, err = 0;

		for (int i = 0; i < n; i++) {
			pid_t p = fork();

			if (p == 0) {
				sleep(3);
				_exit(0);
			}
			if (p < 0) {
				failed++;
				err = errno;
			} else {
				forked++;
			}
		}
		printf("forked=%d failed=%d errno=%s\n", forked, failed,
		       err ? strerrorname_np(err) : "none");
		while (wait(NULL) > 0)
			;
		return 0;
	}
	return usage();
}
