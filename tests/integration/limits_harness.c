/* SPDX-License-Identifier: MIT */
/*
 * Drives user/kernel/limits.c the way a provider does, for tests/integration/
 * test_limits.sh: makes the sbx cgroup2 root of an instance and a sandbox
 * directory in it, creates the limits, forks a child held on a pipe, places
 * it (cgroup2 + sbx_limits_attach), lets it exec, waits (optionally killing
 * the sandbox after a delay), reads the usage, destroys everything and prints
 * one JSON object.
 *
 *   limits_harness [-i INSTANCE] [-m BYTES] [-c MILLI] [-p PIDS] [-k KILL_MS] [-s] -- CMD...
 * -s: the child places itself in the v1 cgroups (sbx_limits_attach_self).
 * "kill" in the output is what the final sbx_limits_kill returned and
 * "left_after_kill" how many processes the cgroups still listed after it.
 *   limits_harness work mem BYTES | fork MAX | spin MS | tree N [SECS]
 *
 * The "work" forms are workloads run as CMD (through /proc/self/exe):
 *   mem BYTES   allocate and touch BYTES, print "touched BYTES"
 *   fork MAX    fork children that pause until fork fails; print
 *               "forked N errno NAME" and exit 3 on failure, 0 if MAX reached
 *   spin MS     busy loop for MS of wall time, print "cpu_us N" (its own view)
 *   tree N SECS start N detached (double-forked, setsid) "sleep SECS", then
 *               sleep SECS itself
 */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernel/cgroup.h"
#include "kernel/limits.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int work_mem(uint64_t bytes)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p = malloc(bytes);

	if (!p)
		return 2;
	for (uint64_t i = 0; i < bytes; i += (uint64_t)page)
		p[i] = 1;
	printf("touched %llu\n", (unsigned long long)bytes);
	return 0;
}

static int work_fork(long max)
{
	long n;

	for (n = 0; n < max; n++) {
		pid_t pid = fork();

		if (pid == 0) {
			pause();
			_exit(0);
		}
		if (pid < 0) {
			printf("forked %ld errno %s\n", n, errno == EAGAIN ? "EAGAIN" : strerror(errno));
			fflush(stdout);
			return 3;
		}
	}
	printf("forked %ld errno none\n", n);
	return 0;
}

static int work_spin(uint64_t ms)
{
	volatile uint64_t x = 0;
	uint64_t end = now_ms() + ms;

	struct timespec cpu;

	while (now_ms() < end)
		for (int i = 0; i < 100000; i++)
			x++;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	printf("cpu_us %llu\n", (unsigned long long)cpu.tv_sec * 1000000 +
	       (unsigned long long)cpu.tv_nsec / 1000);
	return 0;
}

static int work_tree(long n, const char *secs)
{
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			setsid();
			if (fork() == 0)
				execlp("sleep", "sleep", secs, (char *)NULL);
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	execlp("sleep", "sleep", secs, (char *)NULL);
	return 2;
}

static int work(int argc, char **argv)
{
	unsigned long long v;

	if (argc < 4)
		return 2;
	v = strtoull(argv[3], NULL, 0);
	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(argv[2], "mem"))
		return work_mem(v);
	if (!strcmp(argv[2], "fork"))
		return work_fork((long)v);
	if (!strcmp(argv[2], "spin"))
		return work_spin(v);
	if (!strcmp(argv[2], "tree"))
		return work_tree((long)v, argc > 4 ? argv[4] : "987");
	return 2;
}

struct opts {
	const char *instance;
	struct sbx_profile prof;
	long kill_ms;
	bool self;		/* -s: the child attaches itself (sbx_limits_attach_self) */
	char **cmd;
};

static int parse(int argc, char **argv, struct opts *o)
{
	int c;

	o->instance = "sbxtest-limits-harness";
	o->kill_ms = -1;
	while ((c = getopt(argc, argv, "i:m:c:p:k:s")) != -1) {
		switch (c) {
		case 'i': o->instance = optarg; break;
		case 'm': o->prof.memory_bytes = strtoull(optarg, NULL, 0); break;
		case 'c': o->prof.cpu_milli = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'p': o->prof.pids = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'k': o->kill_ms = strtol(optarg, NULL, 0); break;
		case 's': o->self = true; break;
		default: return -EINVAL;
		}
	}
	if (optind >= argc)
		return -EINVAL;
	o->cmd = argv + optind;
	return 0;
}

static void json_str(const char *key, const char *s)
{
	printf("\"%s\":\"", key);
	for (; *s; s++)
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	printf("\",");
}

/* Forks the child, holds it until it is in every cgroup, lets it exec. */
static pid_t start(struct sbx_limits *l, const char *v2_path, char **cmd, bool self)
{
	int go[2];
	pid_t pid;
	char c, procs[PATH_MAX + 16];
	FILE *f;

	if (pipe(go) < 0)
		return -errno;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		dup2(STDERR_FILENO, STDOUT_FILENO);	/* stdout carries the JSON */
		if (read(go[0], &c, 1) != 1)
			_exit(125);
		if (self && sbx_limits_attach_self(l) < 0)
			_exit(124);
		if (!strcmp(cmd[0], "work"))
			execv("/proc/self/exe", cmd - 1);
		execvp(cmd[0], cmd);
		_exit(127);
	}
	close(go[0]);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", v2_path);
	f = fopen(procs, "we");
	if (f) {
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
	if ((!self && sbx_limits_attach(l, pid) < 0) || write(go[1], "g", 1) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -EIO;
	}
	close(go[1]);
	return pid;
}

/* Waits for the child (killing the sandbox after kill_ms when that is >= 0),
 * then kills what is left as sbx run does; returns the wait status. */
static int wait_child(struct sbx_limits *l, pid_t pid, long kill_ms, int *ret_kill)
{
	uint64_t deadline = now_ms() + (uint64_t)(kill_ms < 0 ? 0 : kill_ms);
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int status = 0;
	bool done = false;

	while (kill_ms >= 0 && !done && now_ms() < deadline) {
		done = waitpid(pid, &status, WNOHANG) == pid;
		if (!done)
			nanosleep(&ts, NULL);
	}
	if (!done && kill_ms >= 0)
		sbx_limits_kill(l);
	if (!done)
		waitpid(pid, &status, 0);
	*ret_kill = sbx_limits_kill(l);
	return status;
}

static int count_procs(const char *dir)
{
	char path[PATH_MAX + 16];
	int pid, n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fscanf(f, "%d", &pid) == 1)
		n++;
	fclose(f);
	return n;
}

static void print_result(const struct sbx_limits *l, const struct sbx_usage *u, int status,
			 int kill_r, int left, uint64_t ms)
{
	printf("\"exit_code\":%d,\"signal\":%d,\"kill\":%d,\"left_after_kill\":%d,\"wall_ms\":%llu,",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1,
	       WIFSIGNALED(status) ? WTERMSIG(status) : 0, kill_r, left, (unsigned long long)ms);
	printf("\"oom_killed\":%s,\"peak_memory_bytes\":%llu,\"cpu_user_us\":%llu,"
	       "\"cpu_system_us\":%llu,\"on_v2\":[%d,%d,%d],\"v1_paths\":[",
	       u->oom_killed ? "true" : "false", (unsigned long long)u->peak_memory_bytes,
	       (unsigned long long)u->cpu_user_us, (unsigned long long)u->cpu_system_us,
	       l->on_v2[0], l->on_v2[1], l->on_v2[2]);
	for (int h = 0, first = 1; h < SBX_V1_N; h++) {
		if (!l->v1_path[h][0])
			continue;
		printf("%s\"%s\"", first ? "" : ",", l->v1_path[h]);
		first = 0;
	}
	printf("],");
}

/* Runs one sandbox in an existing cgroup2 directory; prints its fields. */
static int run(struct opts *o, const char *v2_path, const char *id)
{
	struct sbx_limits *l = calloc(1, sizeof(*l));
	struct sbx_usage u = {};
	char why[1024] = "";
	int r, status, kill_r, left = 0;
	uint64_t t0 = now_ms();
	pid_t pid;

	if (!l)
		return -ENOMEM;
	r = sbx_limits_create(l, o->instance, id, v2_path, &o->prof, why, sizeof(why));
	json_str("why", why);
	printf("\"create\":%d,", r);
	if (r < 0) {
		free(l);
		return r;
	}
	pid = start(l, v2_path, o->cmd, o->self);
	if (pid < 0) {
		sbx_limits_destroy(l);
		free(l);
		return pid;
	}
	status = wait_child(l, pid, o->kill_ms, &kill_r);
	for (int h = 0; h < SBX_V1_N; h++)
		if (l->v1_path[h][0])
			left += count_procs(l->v1_path[h]);
	left += count_procs(v2_path);
	sbx_limits_read(l, &u);
	print_result(l, &u, status, kill_r, left, now_ms() - t0);
	sbx_limits_destroy(l);
	free(l);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {};
	struct sbx_cgroot root;
	char v2_path[PATH_MAX], id[32];
	uint64_t cgid;
	int fd, r;

	if (argc > 1 && !strcmp(argv[1], "work"))
		return work(argc, argv);
	/* what sbx unload does to the instance's v1 directories */
	if (argc == 3 && !strcmp(argv[1], "unload")) {
		sbx_limits_remove_instance(argv[2]);
		return 0;
	}
	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: %s [-i INSTANCE] [-m BYTES] [-c MILLI] [-p PIDS] "
			"[-k KILL_MS] [-s] -- CMD...\n", argv[0]);
		return 2;
	}
	snprintf(id, sizeof(id), "h%d", (int)getpid());
	r = sbx_cgroot_get(&root, o.instance, 1);
	if (r < 0) {
		printf("{\"error\":\"cgroup2 root: %s\"}\n", strerror(-r));
		return 1;
	}
	fd = sbx_cgroup_create(&root, id, v2_path, sizeof(v2_path), &cgid);
	if (fd < 0) {
		printf("{\"error\":\"cgroup2 dir: %s\"}\n", strerror(-fd));
		rmdir(root.path);
		return 1;
	}
	printf("{");
	json_str("v2_path", v2_path);
	r = run(&o, v2_path, id);
	close(fd);
	sbx_cgroup_destroy(v2_path);
	rmdir(root.path);
	printf("\"result\":%d}\n", r);
	return r < 0;
}
