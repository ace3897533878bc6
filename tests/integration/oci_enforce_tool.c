/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/test_oci_enforce.sh's stand-in for sbx-oci's create and
 * its caller: the main process plays the engine (a subreaper, as conmon and
 * the shims are), a child plays `create`: oci_enforce_begin with a spec
 * built here, clone3(CLONE_INTO_CGROUP) of an "init" into the cgroup,
 * oci_enforce_done, exit. The init, once released, connects to 127.0.0.1
 * ports and prints what happened, waits for a file, exits with a code. The
 * engine reaps it (after a delay, so that the manager can read the status of
 * the zombie) and calls oci_enforce_wait_gone.
 *
 * oci_enforce_tool STATE_DIR ID [-a KEY=VALUE]... [-m MEMORY] [-p PIDS]
 *   [-s SWAP] [-b BLKIO_WEIGHT] [-q QUOTA -P PERIOD] [-S SHARES] [-c CPUS]
 *   [-d DENIED_PORT] [-l] [-w FILE] [-x CODE] [-r REAP_DELAY_MS] [-A] [-k]
 * -l: a listener of the engine's on 127.0.0.1, which the init connects to.
 * -D [+|-]TYPE:MAJOR:MINOR:ACCESS: a linux.resources.devices rule (allow/deny,
 * -1 = any); -o PATH: the init opens PATH and prints "open PATH RESULT".
 * -k: the init leaves a child behind (sleep 120), as in a container without
 * a pid namespace, which oci_enforce_wait_gone has the manager kill.
 * -A: abort after begin. Output lines: "sandbox ID", "init PID",
 * "denied RESULT", "allowed RESULT", "init-exit STATUS", "gone RC", or
 * "begin-error WHY" / "done-error WHY".
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "oci/oci.h"

struct opts {
	const char *state, *id, *wait_file;
	int denied_port, allowed_port, exit_code, reap_ms;
	bool listen, abort, leftover;
	const char *open_paths[4];
	int n_open;
};

static const char *try_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0)
		return strerrorname_np(errno);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	return r == 0 ? "ok" : strerrorname_np(errno);
}

static __attribute__((noreturn)) void init_main(const struct opts *o, int go)
{
	char c;

	if (read(go, &c, 1) != 1)
		_exit(120);
	if (o->denied_port)
		printf("denied %s\n", try_connect(o->denied_port));
	if (o->allowed_port)
		printf("allowed %s\n", try_connect(o->allowed_port));
	for (int i = 0; i < o->n_open; i++) {
		int fd = open(o->open_paths[i], O_RDONLY | O_CLOEXEC);

		printf("open %s %s\n", o->open_paths[i], fd >= 0 ? "ok" : strerrorname_np(errno));
		if (fd >= 0)
			close(fd);
	}
	if (o->leftover && fork() == 0) {
		/* a process of a container without a pid namespace that
		 * outlives its init; stdout closed: no EOF is held */
		close(STDOUT_FILENO);
		close(STDERR_FILENO);
		sleep(120);
		_exit(0);
	}
	printf("init-ran\n");
	fflush(stdout);
	while (o->wait_file && access(o->wait_file, F_OK) < 0)
		usleep(20000);
	_exit(o->exit_code);
}

static pid_t clone_into(int cgroup_fd)
{
	struct clone_args a = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
				.cgroup = (uint64_t)cgroup_fd };

	return (pid_t)syscall(SYS_clone3, &a, sizeof(a));
}

/* The `create` child: 0, or 2/3 after printing the error. */
static int create(const struct opts *o, const struct oci_spec *spec, int report)
{
	struct oci_enforce *e;
	char id[64], why[4096] = "";
	int cg, go[2], r;
	pid_t pid;

	r = oci_enforce_begin(spec, o->id, o->state, &e, &cg, id, sizeof(id), why, sizeof(why));
	if (r < 0) {
		printf("begin-error %s\n", why);
		return 2;
	}
	printf("sandbox %s\n", id);
	fflush(stdout);
	if (o->abort) {
		close(cg);
		oci_enforce_abort(e);
		printf("aborted\n");
		return 0;
	}
	if (pipe2(go, O_CLOEXEC) < 0)
		return 3;
	pid = clone_into(cg);
	if (pid == 0) {
		close(go[1]);
		init_main(o, go[0]);
	}
	close(cg);
	if (pid < 0) {
		printf("done-error clone3: %s\n", strerror(errno));
		oci_enforce_abort(e);
		return 3;
	}
	r = oci_enforce_done(e, pid, why, sizeof(why));
	if (r < 0) {
		printf("done-error %s\n", why);
		kill(pid, SIGKILL);
		return 3;
	}
	printf("init %d\n", (int)pid);
	fflush(stdout);
	if (write(report, &pid, sizeof(pid)) != sizeof(pid) || write(go[1], "g", 1) != 1)
		return 3;
	return 0;
}

static int listener(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t n = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &n) < 0)
		return -1;
	return ntohs(a.sin_port);
}

static void parse(int argc, char **argv, struct opts *o, struct oci_spec *s)
{
	static struct oci_annotation an[8];
	static struct oci_device_rule dev[8];
	static struct oci_hugepage_limit huge[4];
	int c;

	while ((c = getopt(argc, argv, "a:m:p:s:b:q:P:S:c:d:lw:x:r:AkD:o:H:")) != -1) {
		char *eq;

		switch (c) {
		case 'a':
			eq = strchr(optarg, '=');
			if (!eq || s->n_annotations == 8)
				exit(64);
			*eq = 0;
			an[s->n_annotations++] = (struct oci_annotation){ optarg, eq + 1 };
			s->annotations = an;
			break;
		case 'm': s->resources.memory_limit = atoll(optarg); s->resources.has_memory_limit = true; break;
		case 'p': s->resources.pids_limit = atoll(optarg); s->resources.has_pids_limit = true; break;
		case 's': s->resources.memory_swap = atoll(optarg); s->resources.has_memory_swap = true; break;
		case 'b': s->resources.blkio_weight = (uint16_t)atoi(optarg); break;
		case 'q': s->resources.cpu_quota = atoll(optarg); s->resources.has_cpu_quota = true; break;
		case 'P': s->resources.cpu_period = strtoull(optarg, NULL, 10); s->resources.has_cpu_period = true; break;
		case 'S': s->resources.cpu_shares = strtoull(optarg, NULL, 10); s->resources.has_cpu_shares = true; break;
		case 'c': s->resources.cpuset_cpus = optarg; break;
		case 'd': o->denied_port = atoi(optarg); break;
		case 'l': o->listen = true; break;
		case 'w': o->wait_file = optarg; break;
		case 'x': o->exit_code = atoi(optarg); break;
		case 'r': o->reap_ms = atoi(optarg); break;
		case 'A': o->abort = true; break;
		case 'k': o->leftover = true; break;
		case 'D': {	/* [+|-]TYPE:MAJOR:MINOR:ACCESS, -1 = any */
			struct oci_device_rule *d = &dev[s->resources.n_devices];
			long long maj, min;
			char acc[4] = "";

			if (s->resources.n_devices == 8 || sscanf(optarg + 1, "%c:%lld:%lld:%3s", &d->type,
								 &maj, &min, acc) != 4)
				exit(64);
			d->allow = optarg[0] == '+';
			d->major = maj;
			d->minor = min;
			memcpy(d->access, acc, sizeof(acc));
			s->resources.devices = dev;
			s->resources.n_devices++;
			break;
		}
		case 'H': {	/* PAGE_KIB:LIMIT, a hugepageLimits entry */
			struct oci_hugepage_limit *h = &huge[s->resources.n_hugepages];
			unsigned long long kib, lim;

			if (s->resources.n_hugepages == 4 || sscanf(optarg, "%llu:%llu", &kib, &lim) != 2)
				exit(64);
			h->page_kib = kib;
			h->limit = lim;
			s->resources.hugepages = huge;
			s->resources.n_hugepages++;
			break;
		}
		case 'o':
			if (o->n_open == 4)
				exit(64);
			o->open_paths[o->n_open++] = optarg;
			break;
		default: exit(64);
		}
	}
	if (argc - optind != 2)
		exit(64);
	o->state = argv[optind];
	o->id = argv[optind + 1];
}

int main(int argc, char **argv)
{
	struct oci_spec spec = { .cgroups_path = (char *)"/machine/test" };
	struct opts o = { 0 };
	char why[1024] = "";
	int st, report[2];
	pid_t cr, init = 0;

	parse(argc, argv, &o, &spec);
	setvbuf(stdout, NULL, _IOLBF, 0);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (o.listen && (o.allowed_port = listener()) < 0)
		return 4;
	if (pipe2(report, O_CLOEXEC) < 0)
		return 4;
	cr = fork();
	if (cr == 0) {
		close(report[0]);
		setpgid(0, 0);	/* the engine may kill create's process group */
		_exit(create(&o, &spec, report[1]));
	}
	close(report[1]);
	if (read(report[0], &init, sizeof(init)) != sizeof(init))
		init = 0;
	waitpid(cr, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return WIFEXITED(st) ? WEXITSTATUS(st) : 5;
	if (init > 0) {
		siginfo_t si;

		/* the zombie stays a while: the manager reads its status */
		waitid(P_PID, (id_t)init, &si, WEXITED | WNOWAIT);
		usleep((useconds_t)o.reap_ms * 1000);
		waitpid(init, &st, 0);
		printf("init-exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	st = oci_enforce_wait_gone(o.state, why, sizeof(why));
	/* an engine reaps every child it inherits, the manager too (a zombie
	 * manager still owns its slot for sbx's reclaim) */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	printf(why[0] ? "gone %d %s\n" : "gone %d\n", st, why);
	return 0;
}
