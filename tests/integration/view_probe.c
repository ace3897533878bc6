// SPDX-License-Identifier: MIT
/*
 * view_probe: what a workload sees of its rlimits, securebits and the
 * process provider's view, for tests/integration/test_process_view.sh and
 * test_rlimits.sh. One command per run; each prints one line.
 *
 *   view_probe nofile               opens /dev/null until it fails; prints
 *                                   "soft=S hard=H opened=N maxfd=F errno=NAME"
 *   view_probe fsize PATH BYTES [ignore]
 *                                   writes BYTES bytes to PATH in 4 KiB
 *                                   chunks; with "ignore", SIGXFSZ is ignored
 *                                   first. Prints "soft=S wrote=W errno=NAME"
 *                                   (or dies of SIGXFSZ, printing only
 *                                   "soft=S" before the first write)
 *   view_probe securebits           prints prctl(PR_GET_SECUREBITS) in hex
 *   view_probe write PATH TEXT      open(O_WRONLY) + write: "ok" or errno name
 *   view_probe abstract NAME        connect(2) to the abstract unix stream
 *                                   socket "\0NAME": "ok" or errno name
 *   view_probe ptrace_wait PATH      ptrace(PTRACE_TRACEME, 4242, 0x1000) (args the
 *                                   audit test recognises), prints "ok" or the
 *                                   errno name, then waits until PATH exists
 *   view_probe listen_abstract NAME listens on "\0NAME", prints "ready",
 *                                   accepts one connection, prints
 *                                   "accepted" (host side of the scoping case)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static const char *ename(int e)
{
	return e ? (strerrorname_np(e) ? strerrorname_np(e) : "EUNKNOWN") : "none";
}

static int result(long r)
{
	if (r >= 0) {
		printf("ok\n");
		return 0;
	}
	printf("%s\n", ename(errno));
	return 1;
}

static int nofile(void)
{
	struct rlimit rl;
	int opened = 0, maxfd = -1, fd;

	getrlimit(RLIMIT_NOFILE, &rl);
	while ((fd = open("/dev/null", O_RDONLY)) >= 0) {
		opened++;
		maxfd = fd > maxfd ? fd : maxfd;
		if (opened > 1 << 20)
			break;
	}
	printf("soft=%llu hard=%llu opened=%d maxfd=%d errno=%s\n",
	       (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
	       opened, maxfd, ename(fd < 0 ? errno : 0));
	return 0;
}

static int fsize(const char *path, long bytes, int ignore)
{
	static char buf[4096];
	struct rlimit rl;
	long wrote = 0;
	int fd, err = 0;

	getrlimit(RLIMIT_FSIZE, &rl);
	printf("soft=%llu", (unsigned long long)rl.rlim_cur);
	fflush(stdout);
	if (ignore)
		signal(SIGXFSZ, SIG_IGN);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		printf(" open=%s\n", ename(errno));
		return 2;
	}
	memset(buf, 'x', sizeof(buf));
	while (wrote < bytes) {
		size_t n = bytes - wrote < (long)sizeof(buf) ? (size_t)(bytes - wrote) : sizeof(buf);
		ssize_t w = write(fd, buf, n);

		if (w < 0) {
			err = errno;
			break;
		}
		wrote += w;
	}
	printf(" wrote=%ld errno=%s\n", wrote, ename(err));
	return 0;
}

static int abstract_addr(const char *name, struct sockaddr_un *a)
{
	size_t n = strlen(name);

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (n + 1 > sizeof(a->sun_path))
		return -1;
	memcpy(a->sun_path + 1, name, n);
	return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}

static int abstract(const char *name, int listen_too)
{
	struct sockaddr_un a;
	int len = abstract_addr(name, &a);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), c;

	if (len < 0 || s < 0)
		return result(-1);
	if (!listen_too)
		return result(connect(s, (struct sockaddr *)&a, len));
	if (bind(s, (struct sockaddr *)&a, len) || listen(s, 4))
		return result(-1);
	printf("ready\n");
	fflush(stdout);
	c = accept(s, NULL, NULL);
	if (c < 0)
		return result(-1);
	printf("accepted\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "nofile"))
		return nofile();
	if (!strcmp(cmd, "fsize") && argc > 3)
		return fsize(argv[2], atol(argv[3]), argc > 4 && !strcmp(argv[4], "ignore"));
	if (!strcmp(cmd, "securebits")) {
		int b = prctl(PR_GET_SECUREBITS);

		if (b < 0)
			return result(-1);
		printf("0x%x\n", b);
		return 0;
	}
	if (!strcmp(cmd, "write") && argc > 3) {
		int fd = open(argv[2], O_WRONLY | O_CLOEXEC);

		if (fd < 0)
			return result(-1);
		return result(write(fd, argv[3], strlen(argv[3])));
	}
	if (!strcmp(cmd, "ptrace_wait") && argc > 2) {
		struct stat st;

		result(syscall(SYS_ptrace, PTRACE_TRACEME, 4242, 0x1000, 0));
		while (stat(argv[2], &st) < 0)
			usleep(20000);
		return 0;
	}
	if (!strcmp(cmd, "abstract") && argc > 2)
		return abstract(argv[2], 0);
	if (!strcmp(cmd, "listen_abstract") && argc > 2)
		return abstract(argv[2], 1);
	fprintf(stderr, "usage: view_probe CMD [ARGS] (see the source)\n");
	return 2;
}
