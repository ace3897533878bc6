// SPDX-License-Identifier: MIT
// ocifam: socket families, io_uring and foreign-ABI calls from inside an
// sbx-oci container (tests/security/test_oci_installed_attack.sh). Built
// static and copied into the busybox rootfs as /bin/ocifam.
//   ocifam fams        one line per family: NAME ok|ERRNO (raw syscalls)
//   ocifam hifams      the same with the upper 32 bits of domain/protocol set
//   ocifam forkfams    fams in a child forked after a sleep, and a grandchild
//   ocifam connproto PROTO PORT  socket(AF_INET, SOCK_STREAM, PROTO) and a
//                      connect to 127.0.0.1:PORT: ok|ERRNO
//   ocifam uring       io_uring_setup: ok|ERRNO
//   ocifam int80       socketcall(SOCKET, AF_VSOCK) through int 0x80 in a
//                      child: "signal N" or "ret R"
//   ocifam x32         socket(AF_VSOCK) with the x32 bit: "signal N" / "ret R"
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

static const struct { const char *name; long fam, type, proto; } F[] = {
	{ "vsock", 40, 1, 0 }, { "smc", 43, 1, 0 }, { "packet", 17, 3, 0 }, { "tipc", 30, 4, 0 }, { "alg", 38, 5, 0 },
	{ "key", 15, 3, 2 }, { "nl_audit", 16, 3, 9 }, { "nl_diag", 16, 3, 4 },
	{ "nl_route", 16, 3, 0 }, { "inet", 2, 1, 0 }, { "unix", 1, 1, 0 },
};

static void fams(unsigned long hi, const char *pfx)
{
	for (unsigned i = 0; i < sizeof(F) / sizeof(F[0]); i++) {
		long fd = syscall(SYS_socket, hi | (unsigned long)F[i].fam, F[i].type,
				  hi | (unsigned long)F[i].proto);
		printf("%s%s %s\n", pfx, F[i].name, fd >= 0 ? "ok" : strerrorname_np(errno));
		if (fd >= 0)
			close(fd);
		int sv[2];
		if (F[i].fam == 40 || F[i].fam == 30) {
			long r = syscall(SYS_socketpair, hi | (unsigned long)F[i].fam, 1, 0, sv);
			printf("%spair_%s %s\n", pfx, F[i].name, r == 0 ? "ok" : strerrorname_np(errno));
		}
	}
	fflush(stdout);
}

static int child(void (*fn)(void))
{
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		fn();
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(p, &st, 0);
	if (WIFSIGNALED(st))
		printf("signal %d\n", WTERMSIG(st));
	return 0;
}

static void int80(void)
{
	static unsigned int args[3] = { 40, 1, 0 };
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(102L), "b"(1L), "c"((long)(unsigned long)args) : "memory");
	printf("ret %ld\n", r);
	/* i386 socket (359) directly too */
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(359L), "b"(40L), "c"(1L), "d"(0L) : "memory");
	printf("ret359 %ld\n", r);
}

static void x32(void)
{
	long r = syscall(41 | 0x40000000L, 40L, 1L, 0L);
	printf("ret %ld %s\n", r, r < 0 ? strerrorname_np(errno) : "");
}

static void forked(void)
{
	usleep(200000);
	fams(0, "child_");
	if (fork() == 0) {
		fams(0, "grand_");
		fflush(stdout);
		_exit(0);
	}
	wait(NULL);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "fams"))
		fams(0, "");
	else if (!strcmp(argv[1], "hifams"))
		fams(0xffffffff00000000UL, "");
	else if (!strcmp(argv[1], "forkfams"))
		child(forked);
	else if (argc == 4 && !strcmp(argv[1], "connproto")) {
		/* socket(AF_INET, SOCK_STREAM, PROTO) then connect to
		 * 127.0.0.1:PORT: MPTCP (262), SMC (256) */
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[3])),
					 .sin_addr.s_addr = htonl(0x7f000001) };
		int fd = socket(AF_INET, SOCK_STREAM, atoi(argv[2]));
		if (fd < 0)
			printf("socket %s\n", strerrorname_np(errno));
		else
			printf("%s\n", connect(fd, (void *)&a, sizeof(a)) ? strerrorname_np(errno) : "ok");
	} else if (!strcmp(argv[1], "uring")) {
		unsigned char p[120] = { 0 };
		long r = syscall(425, 4, p);
		printf("uring %s\n", r >= 0 ? "ok" : strerrorname_np(errno));
	} else if (!strcmp(argv[1], "int80"))
		child(int80);
	else if (!strcmp(argv[1], "x32"))
		child(x32);
	else
		return 2;
	fflush(stdout);
	return 0;
}
