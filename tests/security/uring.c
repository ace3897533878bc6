// SPDX-License-Identifier: MIT
/*
 * uring: io_uring_setup(2) with one entry, as a workload that wants io_uring
 * would start. Prints "ok" or the errno name; exit 0 on success, 1 on EPERM,
 * 2 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	struct io_uring_params p;
	long fd;

	memset(&p, 0, sizeof(p));
	fd = syscall(__NR_io_uring_setup, 1, &p);
	if (fd < 0) {
		printf("%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "EUNKNOWN");
		return errno == EPERM ? 1 : 2;
	}
	close((int)fd);
	printf("ok\n");
	return 0;
}
