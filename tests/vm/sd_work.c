// SPDX-License-Identifier: MIT
/*
 * sd_work - workloads for tests/vm/test_systemd.sh, run inside sandboxes:
 *   sd_work mem BYTES   allocate and touch BYTES; print "touched BYTES"
 *   sd_work fork MAX    fork up to MAX sleeping children; print
 *                       "forked N errno NAME" when fork fails (exit 3),
 *                       "forked N" when all were made (exit 0)
 *   sd_work cgroup      print this process's cgroup2 path
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static int mem(unsigned long long bytes)
{
	char *p = malloc(bytes);

	if (!p)
		return 2;
	for (unsigned long long i = 0; i < bytes; i += 4096)
		p[i] = 1;
	printf("touched %llu\n", bytes);
	return 0;
}

static int forks(long max)
{
	long n;

	for (n = 0; n < max; n++) {
		pid_t pid = fork();

		if (pid == 0) {
			/* gone with the parent; the sandbox's end kills stragglers */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			pause();
			_exit(0);
		}
		if (pid < 0) {
			printf("forked %ld errno %s\n", n, errno == EAGAIN ? "EAGAIN" : strerror(errno));
			return 3;
		}
	}
	printf("forked %ld\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	char line[4096];
	FILE *f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "mem"))
		return mem(strtoull(argv[2], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "fork"))
		return forks(strtol(argv[2], NULL, 0));
	if (argc == 2 && !strcmp(argv[1], "cgroup") && (f = fopen("/proc/self/cgroup", "r"))) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "0::", 3))
				fputs(line + 3, stdout);
		fclose(f);
		return 0;
	}
	fprintf(stderr, "usage: sd_work mem BYTES | fork MAX | cgroup\n");
	return 2;
}
