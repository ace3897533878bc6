// SPDX-License-Identifier: MIT
/*
 * open() and execve() cost probe for bench/enforce.sh.
 *   fs_loop open PATH COUNT     COUNT x (open O_RDONLY, close); prints ns per iteration
 *   fs_loop open-cpu PATH COUNT the same, in CPU time of the process (user + system):
 *                               on a machine that others load, the time spent waiting
 *                               for a CPU is left out, the work of each call stays in
 *   fs_loop exec PROG COUNT     COUNT x (vfork, execve PROG, wait); prints ns per iteration
 *   fs_loop landlock N DIR CMD...
 *                               restricts itself with a Landlock ruleset handling
 *                               read/write/execute, granting everything beneath "/"
 *                               plus N rules on DIR/d0 .. DIR/dN-1 (created if
 *                               missing), then runs CMD (another fs_loop mode).
 *                               Measures the kernel's Landlock cost at N rules,
 *                               the mechanism of sbx's Landlock fallback.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void)
{
	struct timespec ts;

	clock_gettime(clock_id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int do_open(const char *path, long count)
{
	double t0 = now();

	for (long i = 0; i < count; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			perror(path);
			return 1;
		}
		close(fd);
	}
	printf("%.1f\n", (now() - t0) / (double)count);
	return 0;
}

static int do_exec(const char *prog, long count)
{
	char *const argv[] = { (char *)prog, NULL }, *const envp[] = { NULL };
	double t0 = now();

	for (long i = 0; i < count; i++) {
		int st;
		pid_t pid = vfork();

		if (pid == 0) {
			execve(prog, argv, envp);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "exec %s failed\n", prog);
			return 1;
		}
	}
	printf("%.1f\n", (now() - t0) / (double)count);
	return 0;
}

#define LL_FS (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	       LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

static int add_rule(int rs, const char *path, uint64_t access)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = access };
	int r;

	pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0)
		return -1;
	r = (int)syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(pb.parent_fd);
	return r;
}

static int do_landlock(long n, const char *dir)
{
	struct landlock_ruleset_attr attr = { .handled_access_fs = LL_FS };
	char path[4096];
	int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);

	if (rs < 0) {
		perror("landlock_create_ruleset");
		return -1;
	}
	if (add_rule(rs, "/", LL_FS) < 0) {
		perror("landlock rule /");
		return -1;
	}
	mkdir(dir, 0755);
	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/d%ld", dir, i);
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			perror(path);
			return -1;
		}
		/* alternate the rights so that rules cannot merge */
		if (add_rule(rs, path, i % 2 ? LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR
					      : LL_FS) < 0) {
			perror(path);
			return -1;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall(SYS_landlock_restrict_self, rs, 0) < 0) {
		perror("landlock_restrict_self");
		return -1;
	}
	close(rs);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: fs_loop open PATH COUNT | exec PROG COUNT | landlock N DIR MODE ARGS...\n");
	return 2;
}

int main(int argc, char **argv)
{
	while (argc >= 5 && !strcmp(argv[1], "landlock")) {
		if (do_landlock(atol(argv[2]), argv[3]) < 0)
			return 1;
		argv += 3;
		argc -= 3;
	}
	if (argc == 4 && !strcmp(argv[1], "open-cpu")) {
		clock_id = CLOCK_PROCESS_CPUTIME_ID;
		return do_open(argv[2], atol(argv[3]));
	}
	if (argc == 4 && !strcmp(argv[1], "open"))
		return do_open(argv[2], atol(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "exec"))
		return do_exec(argv[2], atol(argv[3]));
	return usage();
}
