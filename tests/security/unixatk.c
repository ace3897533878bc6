// SPDX-License-Identifier: MIT
/*
 * unixatk: the socket-creating and unix-connecting routes that the family
 * filter and network.unix must cover (tests/security/test_unix_attacks.sh).
 * Each command prints "ok" or the errno name.
 *   pair FAMILY TYPE         socketpair(2)
 *   usock FAMILY TYPE        io_uring IORING_OP_SOCKET
 *   opath PATH               connect to /proc/self/fd/N of an O_PATH fd of PATH
 *   seq PATH                 connect a SOCK_SEQPACKET socket to PATH
 *   raw64 FAMILY             socket(2) with garbage above the family's 32 bits
 *   connfd FD PATH           connect the socket FD (inherited) to PATH; prints
 *                            "fd7 RESULT" (the label the test expects)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static int result(long r)
{
	if (r >= 0) {
		printf("ok\n");
		return 0;
	}
	printf("%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "EUNKNOWN");
	return 1;
}

static int unix_connect(int type, const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0 || n >= sizeof(un.sun_path))
		return result(-1);
	memcpy(un.sun_path, path, n);
	return result(connect(fd, (struct sockaddr *)&un, offsetof(struct sockaddr_un, sun_path) + n + 1));
}

static int opath(const char *path)
{
	char name[64];
	int fd = open(path, O_PATH);

	if (fd < 0)
		return result(-1);
	snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
	return unix_connect(SOCK_STREAM, name);
}

/* One IORING_OP_SOCKET through a one-entry ring. */
static int usock(int family, int type)
{
	struct io_uring_params p;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	char *sq, *cq;
	int fd;

	memset(&p, 0, sizeof(p));
	fd = (int)syscall(__NR_io_uring_setup, 1, &p);
	if (fd < 0)
		return result(-1);
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
		  MAP_SHARED, fd, IORING_OFF_SQ_RING);
	sqe = mmap(NULL, p.sq_entries * sizeof(*sqe), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   IORING_OFF_SQES);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(*cqe), PROT_READ | PROT_WRITE,
		  MAP_SHARED, fd, IORING_OFF_CQ_RING);
	if (sq == MAP_FAILED || sqe == MAP_FAILED || cq == MAP_FAILED)
		return result(-1);
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_SOCKET;
	sqe->fd = family;
	sqe->off = type;
	((unsigned *)(sq + p.sq_off.array))[0] = 0;
	__atomic_store_n((unsigned *)(sq + p.sq_off.tail), 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return result(-1);
	cqe = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	errno = cqe->res < 0 ? -cqe->res : 0;
	return result(cqe->res);
}

int main(int argc, char **argv)
{
	int sv[2];

	if (argc >= 4 && !strcmp(argv[1], "pair"))
		return result(socketpair(atoi(argv[2]), atoi(argv[3]), 0, sv));
	if (argc >= 4 && !strcmp(argv[1], "usock"))
		return usock(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 3 && !strcmp(argv[1], "opath"))
		return opath(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "seq"))
		return unix_connect(SOCK_SEQPACKET, argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "raw64"))
		return result(syscall(SYS_socket, (1UL << 32) | strtoul(argv[2], NULL, 0), SOCK_STREAM, 0));
	if (argc >= 4 && !strcmp(argv[1], "connfd")) {
		struct sockaddr_un un = { .sun_family = AF_UNIX };

		printf("fd%s ", argv[2]);
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", argv[3]);
		return result(connect(atoi(argv[2]), (struct sockaddr *)&un, sizeof(un)));
	}
	fprintf(stderr, "usage: unixatk pair|usock FAMILY TYPE | opath|seq PATH | raw64 FAMILY | connfd FD PATH\n");
	return 2;
}
