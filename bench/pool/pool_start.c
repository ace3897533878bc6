// SPDX-License-Identifier: MIT
/*
 * Warm-pool start, as a client of sbxd sees it: the time of one Run of
 * /bin/true through libsbx (request to exit status, on a connection opened
 * once), interleaved in the same rounds with a bare fork+exec+wait of
 * /bin/true and of `unshare` with all namespaces, and with a Run of a
 * profile whose pool is empty (pool = 0: the miss path). Before each timed
 * pooled run the pool is waited for (untimed) to be full again, and the
 * hit is checked in the metrics: a pooled run that was not a hit is an
 * error, not a figure.
 *   pool_start SOCKET ROUNDS WARMUP HIT_PROFILE MISS_PROFILE OUTDIR
 * Writes OUTDIR/t.bare, t.unshare, t.sbxd-pool-hit, t.sbxd-pool-miss:
 * microseconds, one a line, in round order (bench/lib.sh paired_ratio).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sbx/libsbx.h>

static const char *const true_argv[] = { "/bin/true", NULL };
static const char *const unshare_argv[] = { "unshare", "--user", "--map-root-user", "--mount", "--uts",
	"--ipc", "--net", "--pid", "--fork", "--cgroup", "--time", "/bin/true", NULL };

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double fork_exec(const char *const *argv)
{
	double t0 = now_us();
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "pool_start: %s failed\n", argv[0]);
		exit(1);
	}
	return now_us() - t0;
}

/* A sample of sbxd's metrics text for the profile, -1 when absent. */
static long metric(struct sbx_client *c, const char *name, const char *profile)
{
	char *text = NULL, key[256];
	const char *p;
	long v = -1;

	if (sbx_metrics(c, &text) < 0)
		return -1;
	snprintf(key, sizeof(key), "\n%s{profile=\"%s\"} ", name, profile);
	p = strstr(text, key);
	if (p)
		v = strtol(p + strlen(key), NULL, 10);
	free(text);
	return v;
}

static void wait_full(struct sbx_client *c, const char *profile)
{
	long size = metric(c, "sbx_pool_size", profile);

	for (int i = 0; i < 6000; i++) {
		if (metric(c, "sbx_pool_ready", profile) >= size)
			return;
		usleep(10000);
	}
	fprintf(stderr, "pool_start: the pool of %s did not fill\n", profile);
	exit(1);
}

static double run(struct sbx_client *c, const char *profile)
{
	int fds[3], code = -1;
	double t0;

	fds[0] = fds[1] = fds[2] = open("/dev/null", O_RDWR | O_CLOEXEC);
	t0 = now_us();
	if (sbx_run_command(c, profile, true_argv, NULL, NULL, fds, false, NULL, NULL, &code, NULL) < 0 ||
	    code != 0) {
		fprintf(stderr, "pool_start: Run of %s failed (exit %d)\n", profile, code);
		exit(1);
	}
	t0 = now_us() - t0;
	close(fds[0]);
	return t0;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "bare", "unshare", "sbxd-pool-hit", "sbxd-pool-miss" };
	struct sbx_client *c;
	FILE *out[4];
	int rounds, warm;

	if (argc != 7) {
		fprintf(stderr, "usage: pool_start SOCKET ROUNDS WARMUP HIT_PROFILE MISS_PROFILE OUTDIR\n");
		return 2;
	}
	rounds = atoi(argv[2]);
	warm = atoi(argv[3]);
	if (sbx_client_open(argv[1], &c) < 0) {
		fprintf(stderr, "pool_start: cannot connect to %s\n", argv[1]);
		return 1;
	}
	for (int i = 0; i < 4; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/t.%s", argv[6], names[i]);
		out[i] = fopen(path, "w");
		if (!out[i])
			return perror(path), 1;
	}
	for (int r = -warm; r < rounds; r++) {
		double v[4];
		long hits;

		v[0] = fork_exec(true_argv);
		v[1] = fork_exec(unshare_argv);
		wait_full(c, argv[4]);
		hits = metric(c, "sbx_pool_hits_total", argv[4]);
		v[2] = run(c, argv[4]);
		if (metric(c, "sbx_pool_hits_total", argv[4]) != hits + 1) {
			fprintf(stderr, "pool_start: a Run of %s was not a pool hit\n", argv[4]);
			return 1;
		}
		v[3] = run(c, argv[5]);
		if (r < 0)
			continue;
		for (int i = 0; i < 4; i++)
			fprintf(out[i], "%.1f\n", v[i]);
	}
	for (int i = 0; i < 4; i++)
		fclose(out[i]);
	sbx_client_close(c);
	return 0;
}
