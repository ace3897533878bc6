/* SPDX-License-Identifier: MIT */
/*
 * A hostile container workload for tests/security/test_oci_attack.sh (static,
 * runs as the container's init or an exec'd process). Each mode prints lines
 * "KEY RESULT" (RESULT: ok or the errno's name) for the test to judge:
 *
 *   connect PORT         connect to 127.0.0.1:PORT         (connect4)
 *   mapped PORT          connect to [::ffff:127.0.0.1]:PORT (connect6, v4-mapped)
 *   udp PORT             sendto 127.0.0.1:PORT              (sendmsg4)
 *   cgmove REL PORT      mount cgroup2 on /tmp/cg, write its own pid into
 *                        /tmp/cg/REL/cgroup.procs (a cgroup outside sbx's),
 *                        then connect to 127.0.0.1:PORT
 *   cgwrite PORT         write its own pid into /sys/fs/cgroup/../cgroup.procs
 *                        (the read-only bind of its own cgroup's parent)
 *   raw                  socket(AF_INET, SOCK_RAW) and socket(AF_PACKET, SOCK_RAW)
 *   fds                  every descriptor of pid 1 and of itself, and where
 *                        it leads
 *   kill PID             kill(PID, SIGKILL)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *res(int r)
{
	static char buf[32];

	if (r >= 0)
		return "ok";
	switch (errno) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ENETUNREACH: return "ENETUNREACH";
	case EROFS: return "EROFS";
	case ENOENT: return "ENOENT";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case ESRCH: return "ESRCH";
	default:
		snprintf(buf, sizeof(buf), "errno%d", errno);
		return buf;
	}
}

static void do_connect(const char *key, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	printf("%s %s\n", key, fd < 0 ? res(fd) : res(connect(fd, (struct sockaddr *)&a, sizeof(a))));
	if (fd >= 0)
		close(fd);
}

static void do_mapped(int port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.sin6_addr);
	printf("mapped %s\n", fd < 0 ? res(fd) : res(connect(fd, (struct sockaddr *)&a, sizeof(a))));
}

static void do_udp(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	printf("udp %s\n", fd < 0 ? res(fd) :
	       res((int)sendto(fd, "x", 1, 0, (struct sockaddr *)&a, sizeof(a))));
}

static void do_raw(void)
{
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);

	printf("raw %s\n", res(fd));
	if (fd >= 0)
		close(fd);
	fd = socket(AF_PACKET, SOCK_RAW, htons(0x0003));
	printf("packet %s\n", res(fd));
	if (fd >= 0)
		close(fd);
}

static int write_pid(const char *path)
{
	char buf[32];
	int fd = open(path, O_WRONLY), r;

	if (fd < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%d\n", getpid());
	r = (int)write(fd, buf, strlen(buf));
	close(fd);
	return r < 0 ? -1 : 0;
}

static void do_cgmove(const char *rel, int port)
{
	char path[4096];
	int r;

	mkdir("/tmp/cg", 0755);
	r = mount("cgroup2", "/tmp/cg", "cgroup2", 0, NULL);
	printf("cgmount %s\n", res(r));
	snprintf(path, sizeof(path), "/tmp/cg/%s/cgroup.procs", rel);
	printf("cgmove %s\n", r < 0 ? "skipped" : res(write_pid(path)));
	do_connect("after", port);
}

static void do_cgwrite(int port)
{
	printf("cgwrite %s\n", res(write_pid("/sys/fs/cgroup/cgroup.procs")));
	do_connect("after", port);
}

static void list_fds(const char *pid)
{
	char dir[64], path[320], target[4096];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	d = opendir(dir);
	if (!d) {
		printf("fds %s %s\n", pid, res(-1));
		return;
	}
	while ((e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = 0;
		printf("fd %s %s %s\n", pid, e->d_name, target);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "connect") && argc == 3)
		do_connect("connect", atoi(argv[2]));
	else if (!strcmp(argv[1], "mapped") && argc == 3)
		do_mapped(atoi(argv[2]));
	else if (!strcmp(argv[1], "udp") && argc == 3)
		do_udp(atoi(argv[2]));
	else if (!strcmp(argv[1], "cgmove") && argc == 4)
		do_cgmove(argv[2], atoi(argv[3]));
	else if (!strcmp(argv[1], "cgwrite") && argc == 3)
		do_cgwrite(atoi(argv[2]));
	else if (!strcmp(argv[1], "raw"))
		do_raw();
	else if (!strcmp(argv[1], "fds")) {
		list_fds("1");
		list_fds("self");
	} else if (!strcmp(argv[1], "kill") && argc == 3)
		printf("kill %s\n", res(kill(atoi(argv[2]), SIGKILL)));
	else
		return 2;
	printf("end\n");
	return 0;
}
