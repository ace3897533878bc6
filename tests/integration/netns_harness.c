// SPDX-License-Identifier: MIT
/*
 * netns_harness: runs one command the way the process provider runs a
 * sandbox with a private network namespace and a veth pair, using
 * user/kernel/netns.c and nothing else of sbx.
 *
 *   netns_harness [-i ID] [-s SLOT] [-H HOST/LEN -S SANDBOX/LEN] [-k] -- CMD [ARG...]
 *
 * A child unshares its network namespace and waits; the harness creates the
 * pair for it (sbx_veth_create), prints one line
 *   veth HOST_IF HOST_CIDR SANDBOX_CIDR
 * on stdout and lets the child go: it sets lo up (sbx_netns_loopback_up) and
 * execs CMD with SBX_VETH_IF, SBX_VETH_HOST and SBX_VETH_SANDBOX (addresses
 * without prefix) in its environment. When CMD ends the harness deletes the
 * pair (sbx_veth_destroy; not with -k, to see the kernel do it when the
 * namespace dies) and exits with CMD's status (128+N for signal N).
 * Errors: "error: ..." on stderr, exit 125. Defaults: -i sbx-7e570000, -s 16360.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/netns.h"

struct opts {
	const char *id;
	uint32_t slot;
	struct sbx_profile prof;
	bool keep;
	char **cmd;
};

static int usage(void)
{
	fprintf(stderr, "usage: netns_harness [-i ID] [-s SLOT] [-H CIDR -S CIDR] [-k] -- CMD...\n");
	return 125;
}

static int parse(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ .id = "sbx-7e570000", .slot = 16360 };
	while ((c = getopt(argc, argv, "+i:s:H:S:k")) != -1) {
		switch (c) {
		case 'i': o->id = optarg; break;
		case 's': o->slot = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'H': o->prof.net.veth_host = optarg; break;
		case 'S': o->prof.net.veth_sandbox = optarg; break;
		case 'k': o->keep = true; break;
		default: return -EINVAL;
		}
	}
	if (optind >= argc)
		return -EINVAL;
	o->cmd = argv + optind;
	return 0;
}

/* "10.200.0.1/30" -> SBX_VETH_HOST=10.200.0.1 */
static void export_addr(const char *name, const char *cidr)
{
	char a[48];

	snprintf(a, sizeof(a), "%.*s", (int)strcspn(cidr, "/"), cidr);
	setenv(name, a, 1);
}

/* The sandbox: its own netns, then held until the pair exists. */
static void child(int ready, int go, char **cmd)
{
	struct sbx_veth v;
	int r = unshare(CLONE_NEWNET) < 0 ? errno : 0;

	if (write(ready, &r, sizeof(r)) != sizeof(r) || r)
		_exit(125);
	if (read(go, &v, sizeof(v)) != sizeof(v))
		_exit(125);		/* the harness gave up */
	r = sbx_netns_loopback_up();
	if (r < 0) {
		fprintf(stderr, "error: lo up: %s\n", strerror(-r));
		_exit(125);
	}
	setenv("SBX_VETH_IF", v.host_if, 1);
	export_addr("SBX_VETH_HOST", v.host_cidr);
	export_addr("SBX_VETH_SANDBOX", v.sandbox_cidr);
	execvp(cmd[0], cmd);
	fprintf(stderr, "error: exec %s: %s\n", cmd[0], strerror(errno));
	_exit(127);
}

static int start(const struct opts *o, pid_t *ret_pid, int *ret_go)
{
	int rp[2], gp[2], r = 0;
	pid_t pid;

	if (pipe2(rp, O_CLOEXEC) < 0 || pipe2(gp, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(rp[0]);
		close(gp[1]);
		child(rp[1], gp[0], o->cmd);
	}
	close(rp[1]);
	close(gp[0]);
	if (read(rp[0], &r, sizeof(r)) != sizeof(r))
		r = ECHILD;
	close(rp[0]);
	*ret_pid = pid;
	*ret_go = gp[1];
	return -r;
}

static int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 125;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	struct sbx_veth v = {};
	struct opts o;
	char why[512];
	pid_t pid = 0;
	int go = -1, r, st;

	if (parse(argc, argv, &o) < 0)
		return usage();
	r = start(&o, &pid, &go);
	if (r < 0) {
		fprintf(stderr, "error: sandbox child: %s\n", strerror(-r));
		if (pid > 0)
			wait_status(pid);
		return 125;
	}
	r = sbx_veth_create(&v, o.id, o.slot, pid, &o.prof, why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "error: %s (%s)\n", why, strerror(-r));
		close(go);		/* EOF: the child exits */
		wait_status(pid);
		return 125;
	}
	printf("veth %s %s %s\n", v.host_if, v.host_cidr, v.sandbox_cidr);
	fflush(stdout);
	if (write(go, &v, sizeof(v)) != sizeof(v))
		fprintf(stderr, "error: releasing the child: %s\n", strerror(errno));
	close(go);
	st = wait_status(pid);
	if (!o.keep)
		sbx_veth_destroy(&v);
	return st;
}
