/* SPDX-License-Identifier: MIT */
/*
 * A hostile container workload for tests/security/test_oci_attack.sh (static,
 * runs as the container's init or an exec'd process). Each mode prints lines
 * "KEY RESULT" (RESULT: ok or the errno's name) for the test to judge:
 *
 *   connect PORT         connect to 127.0.0.1:PORT         (connect4)
 *   mapped PORT          connect to [::ffff:127.0.0.1]:PORT (connect6, v4-mapped)
 *   udp PORT             sendto 127.0.0.1:PORT              (sendmsg4)
 *   v6 PORT              connect to [::1]:PORT, and sendto [::ffff:127.0.0.1]:PORT
 *                        from an AF_INET6 UDP socket       (connect6, sendmsg6)
 *   cgmove REL PORT      mount cgroup2 on /tmp/cg, write its own pid into
 *                        /tmp/cg/REL/cgroup.procs (a cgroup outside sbx's),
 *                        then connect to 127.0.0.1:PORT
 *   cgwrite PORT         write its own pid into /sys/fs/cgroup/../cgroup.procs
 *                        (the read-only bind of its own cgroup's parent)
 *   raw                  socket(AF_INET, SOCK_RAW) and socket(AF_PACKET, SOCK_RAW)
 *   families             socket() of vsock, tipc, alg, key, netlink (audit and
 *                        route), inet, unix; socketpair() of vsock and unix
 *   uring PORT           IORING_OP_CONNECT to 127.0.0.1:PORT (io_uring, raw syscalls)
 *   procfs               open for writing /proc/sysrq-trigger and
 *                        /proc/sys/vm/drop_caches (nothing is written), read
 *                        /proc/kcore (masked: 0 bytes)
 *   flood PORT N         N connects to 127.0.0.1:PORT; prints how many were EPERM
 *   mknod MAJ MIN        mknod /tmp/blk (block MAJ:MIN), then open it read-only
 *                        (nothing is read)
 *   peek PID             open /proc/PID/exe for writing, /proc/PID/mem for
 *                        reading and /proc/PID/root/ (the manager's), write nothing
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
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

/* One socket() per family (raw syscalls: libc may not know them): sbx's
 * family filter answers EPERM before the kernel looks at the family. */
static void do_families(void)
{
	static const struct { const char *key; int fam, type, proto; } f[] = {
		{ "vsock", 40, SOCK_STREAM, 0 },	/* AF_VSOCK */
		{ "tipc", 30, SOCK_RDM, 0 },		/* AF_TIPC */
		{ "alg", 38, SOCK_SEQPACKET, 0 },	/* AF_ALG */
		{ "key", 15, SOCK_RAW, 2 },		/* AF_KEY, PF_KEY_V2 */
		{ "netlink_audit", AF_NETLINK, SOCK_RAW, 9 },
		{ "netlink_route", AF_NETLINK, SOCK_RAW, 0 },
		{ "inet", AF_INET, SOCK_STREAM, 0 },
		{ "unix", AF_UNIX, SOCK_STREAM, 0 },
	};
	int sv[2], fd;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		fd = (int)syscall(SYS_socket, f[i].fam, f[i].type | SOCK_CLOEXEC, f[i].proto);
		printf("%s %s\n", f[i].key, res(fd));
		if (fd >= 0)
			close(fd);
	}
	fd = (int)syscall(SYS_socketpair, 40, SOCK_STREAM, 0, sv);
	printf("socketpair_vsock %s\n", res(fd));
	fd = (int)syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv);
	printf("socketpair_unix %s\n", res(fd));
}

static void do_uring(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct io_uring_params p;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	unsigned *sq_tail, *sq_array, *cq_head, *cq_tail;
	char *sq, *cq;
	int ring, fd = socket(AF_INET, SOCK_STREAM, 0);
	long r;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	memset(&p, 0, sizeof(p));
	ring = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (ring < 0 || fd < 0) {
		printf("uring setup-%s\n", res(-1));
		return;
	}
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
		  MAP_SHARED, ring, IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		    MAP_SHARED, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) {
		printf("uring mmap-%s\n", res(-1));
		return;
	}
	sq_tail = (unsigned *)(sq + p.sq_off.tail);
	sq_array = (unsigned *)(sq + p.sq_off.array);
	cq_head = (unsigned *)(cq + p.cq_off.head);
	cq_tail = (unsigned *)(cq + p.cq_off.tail);
	cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	memset(&sqes[0], 0, sizeof(sqes[0]));
	sqes[0].opcode = IORING_OP_CONNECT;
	sqes[0].fd = fd;
	sqes[0].addr = (unsigned long)&a;
	sqes[0].off = sizeof(a);
	sq_array[*sq_tail & (p.sq_entries - 1)] = 0;
	__atomic_store_n(sq_tail, *sq_tail + 1, __ATOMIC_RELEASE);
	r = syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0);
	if (r < 0 || __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) == *cq_head) {
		printf("uring enter-%s\n", res(-1));
		return;
	}
	errno = -cqes[*cq_head & (p.cq_entries - 1)].res;
	printf("uring %s\n", errno ? res(-1) : "ok");
}

static void do_procfs(void)
{
	char buf[64];
	int fd = open("/proc/sysrq-trigger", O_WRONLY);

	printf("sysrq %s\n", res(fd));
	if (fd >= 0)
		close(fd);
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	printf("sysvm %s\n", res(fd));
	if (fd >= 0)
		close(fd);
	fd = open("/proc/kcore", O_RDONLY);
	if (fd < 0) {
		printf("kcore %s\n", res(fd));
		return;
	}
	printf("kcore %s\n", read(fd, buf, sizeof(buf)) > 0 ? "readable" : "empty");
	close(fd);
}

static void do_flood(int port, int n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int denied = 0;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			break;
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno == EPERM)
			denied++;
		close(fd);
	}
	printf("flood %d\n", denied);
}

static void do_mknod(int maj, int min)
{
	int fd;

	unlink("/tmp/blk");
	printf("mknod %s\n", res(mknod("/tmp/blk", S_IFBLK | 0600, makedev(maj, min))));
	fd = open("/tmp/blk", O_RDONLY);
	printf("open %s\n", res(fd));
	if (fd >= 0)
		close(fd);
	unlink("/tmp/blk");
}

static void do_peek(const char *pid)
{
	static const struct {
		const char *key, *file;
		int flags;
	} t[] = { { "exe", "exe", O_WRONLY }, { "mem", "mem", O_RDONLY },
		  { "root", "root/", O_RDONLY | O_DIRECTORY }, { "environ", "environ", O_RDONLY } };
	char path[64];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int fd;
		snprintf(path, sizeof(path), "/proc/%s/%s", pid, t[i].file);
		fd = open(path, t[i].flags);
		printf("peek-%s %s\n", t[i].key, res(fd));
		if (fd >= 0)
			close(fd);
	}
}

static void do_v6(int port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	inet_pton(AF_INET6, "::1", &a.sin6_addr);
	printf("v6 %s\n", fd < 0 ? res(fd) : res(connect(fd, (struct sockaddr *)&a, sizeof(a))));
	if (fd >= 0)
		close(fd);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.sin6_addr);
	printf("udp6m %s\n", fd < 0 ? res(fd) :
	       res((int)sendto(fd, "x", 1, 0, (struct sockaddr *)&a, sizeof(a))));
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
	else if (!strcmp(argv[1], "uring") && argc == 3)
		do_uring(atoi(argv[2]));
	else if (!strcmp(argv[1], "procfs"))
		do_procfs();
	else if (!strcmp(argv[1], "flood") && argc == 4)
		do_flood(atoi(argv[2]), atoi(argv[3]));
	else if (!strcmp(argv[1], "mknod") && argc == 4)
		do_mknod(atoi(argv[2]), atoi(argv[3]));
	else if (!strcmp(argv[1], "peek") && argc == 3)
		do_peek(argv[2]);
	else if (!strcmp(argv[1], "v6") && argc == 3)
		do_v6(atoi(argv[2]));
	else if (!strcmp(argv[1], "families"))
		do_families();
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
