/* SPDX-License-Identifier: MIT */
/*
 * ociattack3: socket families created past socket(2), for
 * tests/security/test_oci_attack3.sh. Prints "KEY RESULT" lines.
 *
 *   uringsock    IORING_OP_SOCKET (io_uring, kernel 5.19+) of vsock, alg,
 *                tipc and unix; "uring_setup RESULT" when no ring is made
 *   families     socket() of vsock, alg, tipc, unix; vsock with bits above
 *                the int family ("vsock_hi"); last, socket(vsock) through the
 *                x32 ABI ("x32 try" first: a filter may kill the process)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *res(int e)
{
	static char buf[32];

	switch (e) {
	case 0: return "ok";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOSYS: return "ENOSYS";
	case EINVAL: return "EINVAL";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	default:
		snprintf(buf, sizeof(buf), "errno%d", e);
		return buf;
	}
}

static const struct { const char *key; int fam, type; } fams[] = {
	{ "vsock", 40, SOCK_STREAM },
	{ "alg", 38, SOCK_SEQPACKET },
	{ "tipc", 30, SOCK_RDM },
	{ "unix", AF_UNIX, SOCK_STREAM },
};
#define NFAMS (sizeof(fams) / sizeof(fams[0]))

static void do_families(void)
{
	int fd;

	for (size_t i = 0; i < NFAMS; i++) {
		fd = (int)syscall(SYS_socket, fams[i].fam, fams[i].type | SOCK_CLOEXEC, 0);

		printf("%s %s\n", fams[i].key, res(fd < 0 ? errno : 0));
		if (fd >= 0)
			close(fd);
	}
	fd = (int)syscall(SYS_socket, 40UL | (1UL << 32), SOCK_STREAM, 0UL | (1UL << 40));
	printf("vsock_hi %s\n", res(fd < 0 ? errno : 0));
	printf("x32 try\n");
	fd = (int)syscall(0x40000000 | SYS_socket, 40, SOCK_STREAM, 0);
	printf("x32 %s\n", res(fd < 0 ? errno : 0));
}

static void do_uringsock(void)
{
	struct io_uring_params p;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	unsigned *sq_tail, *sq_array, *cq_head, *cq_tail;
	char *sq, *cq;
	int ring;

	memset(&p, 0, sizeof(p));
	ring = (int)syscall(__NR_io_uring_setup, 8, &p);
	if (ring < 0) {
		printf("uring_setup %s\n", res(errno));
		return;
	}
	printf("uring_setup ok\n");
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
		  MAP_SHARED, ring, IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		    MAP_SHARED, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) {
		printf("uring_mmap %s\n", res(errno));
		return;
	}
	sq_tail = (unsigned *)(sq + p.sq_off.tail);
	sq_array = (unsigned *)(sq + p.sq_off.array);
	cq_head = (unsigned *)(cq + p.cq_off.head);
	cq_tail = (unsigned *)(cq + p.cq_off.tail);
	cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	for (size_t i = 0; i < NFAMS; i++) {
		struct io_uring_cqe *c;
		long r;

		memset(&sqes[0], 0, sizeof(sqes[0]));
		sqes[0].opcode = IORING_OP_SOCKET;
		sqes[0].fd = fams[i].fam;
		sqes[0].off = (unsigned)fams[i].type;
		sqes[0].len = 0;
		sq_array[*sq_tail & (p.sq_entries - 1)] = 0;
		__atomic_store_n(sq_tail, *sq_tail + 1, __ATOMIC_RELEASE);
		r = syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0);
		if (r < 0 || __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) == *cq_head) {
			printf("uring_%s enter-%s\n", fams[i].key, res(errno));
			continue;
		}
		c = &cqes[*cq_head & (p.cq_entries - 1)];
		printf("uring_%s %s\n", fams[i].key, res(c->res < 0 ? -c->res : 0));
		if (c->res >= 0)
			close(c->res);
		__atomic_store_n(cq_head, *cq_head + 1, __ATOMIC_RELEASE);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "uringsock"))
		do_uringsock();
	else if (!strcmp(argv[1], "families"))
		do_families();
	else
		return 2;
	return 0;
}
