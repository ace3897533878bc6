// SPDX-License-Identifier: MIT
/*
 * Times whole-process runs of commands, interleaved: for each round, every
 * command once, in order (A B C A B C ...), after warm-up rounds. Prints one
 * JSON line per command: {"name", "runs", "median_us", "p10_us", "p90_us"}.
 *   runloop [-r] ROUNDS WARMUP NAME [+ PRE ARGS...] -- CMD ARGS... ;; NAME -- CMD ARGS... ;; ...
 * Each command's stdout/stderr go to /dev/null (stderr to the file named by
 * $RUNLOOP_ERR, appended, when set); a non-zero exit is an error.
 * -r adds "us": [every timed run, in round order], so that a caller can pair
 * the runs of one round (bench/lib.sh computes per-round ratios from them).
 * "+ PRE ARGS..." before "--" runs PRE, untimed, before every run of CMD
 * (bench/cost.sh: "sbx unload" before timing a cold start).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 16

struct cmd {
	const char *name;
	char **pre;	/* untimed, before each run; may be NULL */
	char **argv;
	double *us;
	double *raw;	/* in round order */
};

static double run_once(char **argv)
{
	struct timespec a, b;
	int st;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	if (pid == 0) {
		const char *err = getenv("RUNLOOP_ERR");
		int fd = open("/dev/null", O_WRONLY);
		int efd = err ? open(err, O_WRONLY | O_APPEND | O_CREAT, 0644) : -1;

		dup2(fd, 1);
		dup2(efd >= 0 ? efd : fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "runloop: %s failed (status %d)\n", argv[0], st);
		exit(1);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
}

static int cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
	struct cmd cmds[MAX_CMDS];
	int n = 0, rounds, warm, raw = 0;

	if (argc > 1 && !strcmp(argv[1], "-r")) {
		raw = 1;
		argv++;
		argc--;
	}
	if (argc < 6) {
		fprintf(stderr, "usage: runloop [-r] ROUNDS WARMUP NAME [+ PRE...] -- CMD... [;; NAME ...]\n");
		return 2;
	}
	rounds = atoi(argv[1]);
	warm = atoi(argv[2]);
	if (rounds < 1 || warm < 0)
		return 2;
	for (int i = 3; i < argc && n < MAX_CMDS; i++) {
		cmds[n].name = argv[i];
		cmds[n].pre = NULL;
		if (i + 2 < argc && !strcmp(argv[i + 1], "+")) {
			cmds[n].pre = &argv[i + 2];
			for (i += 2; i < argc && strcmp(argv[i], "--"); i++)
				;
			if (i >= argc)
				return 2;
			argv[i] = NULL;
			i--;	/* argv[i + 1] is now the (cleared) "--" */
		} else if (i + 2 >= argc || strcmp(argv[i + 1], "--")) {
			return 2;
		}
		cmds[n].argv = &argv[i + 2];
		for (i += 2; i < argc && strcmp(argv[i], ";;"); i++)
			;
		if (i < argc)
			argv[i] = NULL;
		cmds[n].us = calloc((size_t)rounds, sizeof(double));
		cmds[n].raw = calloc((size_t)rounds, sizeof(double));
		if (!cmds[n].us || !cmds[n].raw)
			return 1;
		n++;
	}
	for (int r = -warm; r < rounds; r++)
		for (int c = 0; c < n; c++) {
			double t;

			if (cmds[c].pre)
				run_once(cmds[c].pre);
			t = run_once(cmds[c].argv);
			if (r >= 0)
				cmds[c].us[r] = cmds[c].raw[r] = t;
		}
	for (int c = 0; c < n; c++) {
		qsort(cmds[c].us, (size_t)rounds, sizeof(double), cmp);
		printf("{\"name\":\"%s\",\"runs\":%d,\"median_us\":%.1f,\"p10_us\":%.1f,\"p90_us\":%.1f",
		       cmds[c].name, rounds, cmds[c].us[rounds / 2], cmds[c].us[rounds / 10],
		       cmds[c].us[rounds * 9 / 10]);
		if (raw) {
			printf(",\"us\":[");
			for (int r = 0; r < rounds; r++)
				printf("%s%.1f", r ? "," : "", cmds[c].raw[r]);
			printf("]");
		}
		printf("}\n");
	}
	return 0;
}
