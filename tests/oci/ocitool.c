// SPDX-License-Identifier: MIT
/*
 * ocitool: what the OCI tests (tests/integration/test_oci_*.sh) run inside a
 * container where busybox has no applet for it. Static (musl), copied into
 * the test rootfs by tests/oci/mkrootfs.sh; one operation per run, results
 * on stdout as words a shell test can compare.
 *
 *   ocitool connect IP PORT   TCP connect(2) to IPv4 IP:PORT: prints "ok" or
 *                             the errno's name (EPERM, ECONNREFUSED, ...)
 *   ocitool alloc MIB         allocates and touches MIB MiB, 1 MiB at a time,
 *                             printing "allocated N" every 16 MiB; "done" at
 *                             the end (a memory limit kills it before)
 *   ocitool forks N           forks up to N children that sleep; prints
 *                             "forked K" (K < N: fork failed, with the errno's
 *                             name after it), then kills and reaps them
 *   ocitool exewrite PID      opens /proc/PID/exe for writing (no O_TRUNC, no
 *                             write): prints "ok" or the errno's name
 *   ocitool segv              dies of SIGSEGV (a fault: the kernel delivers it
 *                             even to a PID namespace's init)
 *   ocitool cgmem             the memory limit this process's cgroup has
 *                             (v1 memory.limit_in_bytes or v2 memory.max,
 *                             through /proc/self/cgroup and /sys/fs/cgroup)
 *                             in bytes, or "max", or "unknown"
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ENETUNREACH: return "ENETUNREACH";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case ETXTBSY: return "ETXTBSY";
	case ENOENT: return "ENOENT";
	case EROFS: return "EROFS";
	case ESRCH: return "ESRCH";
	default: return "EOTHER";
	}
}

static int do_connect(const char *ip, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	int fd;

	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
		fprintf(stderr, "ocitool: not an IPv4 address: %s\n", ip);
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		printf("socket-%s\n", errname(errno));
		return 0;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		printf("%s\n", errname(errno));
	else
		printf("ok\n");
	close(fd);
	return 0;
}

static int do_alloc(const char *mib)
{
	long n = atol(mib), i;

	setvbuf(stdout, NULL, _IONBF, 0);
	for (i = 1; i <= n; i++) {
		char *p = malloc(1 << 20);

		if (!p) {
			printf("malloc failed at %ld\n", i);
			return 1;
		}
		memset(p, 0x5a, 1 << 20);
		if (i % 16 == 0)
			printf("allocated %ld\n", i);
	}
	printf("done\n");
	return 0;
}

static int do_forks(const char *count)
{
	long n = atol(count), k;
	pid_t *pids = calloc((size_t)n + 1, sizeof(*pids));
	int err = 0;

	if (!pids)
		return 1;
	for (k = 0; k < n; k++) {
		pid_t p = fork();

		if (p < 0) {
			err = errno;
			break;
		}
		if (p == 0) {
			pause();
			_exit(0);
		}
		pids[k] = p;
	}
	if (err)
		printf("forked %ld %s\n", k, errname(err));
	else
		printf("forked %ld\n", k);
	fflush(stdout);
	for (long i = 0; i < k; i++)
		kill(pids[i], SIGKILL);
	for (long i = 0; i < k; i++)
		waitpid(pids[i], NULL, 0);
	free(pids);
	return 0;
}

static int do_exewrite(const char *pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/exe", pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("%s\n", errname(errno));
		return 0;
	}
	printf("ok\n");
	close(fd);
	return 0;
}

/* The path of this process's cgroup in hierarchy "memory" (v1) or "" (v2). */
static int cgroup_path(const char *want, char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[512];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c2 = 0;
		line[strcspn(line, "\n")] = 0;
		c2[1 + strcspn(c2 + 1, "\n")] = 0;
		if ((*want == 0 && c1[1] == 0 && line[0] == '0') ||
		    (*want && strstr(c1 + 1, want))) {
			snprintf(buf, len, "%s", c2 + 1);
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -1;
}

static int print_file(const char *path)
{
	char v[64];
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	if (!fgets(v, sizeof(v), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	fputs(v, stdout);
	return 0;
}

static int do_cgmem(void)
{
	char cg[400], path[512];
	const char *v1[] = { "/sys/fs/cgroup/memory", NULL };

	/* a cgroup namespace shows "/" for the container's own cgroup, and
	 * /sys/fs/cgroup mounted in the container is that cgroup */
	if (cgroup_path("memory", cg, sizeof(cg)) == 0) {
		snprintf(path, sizeof(path), "%s%s/memory.limit_in_bytes", v1[0], cg);
		if (print_file(path) == 0)
			return 0;
		if (print_file("/sys/fs/cgroup/memory/memory.limit_in_bytes") == 0)
			return 0;
	}
	if (cgroup_path("", cg, sizeof(cg)) == 0) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.max", cg);
		if (print_file(path) == 0)
			return 0;
		if (print_file("/sys/fs/cgroup/memory.max") == 0)
			return 0;
	}
	printf("unknown\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "connect"))
		return do_connect(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "alloc"))
		return do_alloc(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "forks"))
		return do_forks(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "exewrite"))
		return do_exewrite(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "segv"))
		return *(volatile int *)(uintptr_t)(argc - 2);
	if (argc == 2 && !strcmp(argv[1], "cgmem"))
		return do_cgmem();
	fprintf(stderr, "usage: ocitool connect IP PORT | alloc MIB | forks N | exewrite PID | segv | cgmem\n");
	return 2;
}
