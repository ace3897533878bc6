// SPDX-License-Identifier: MIT
/*
 * oci_harness: runs one command in a container the way sbx-oci's create
 * will, through oci_rootfs_setup and oci_process_exec (user/oci), with a
 * spec built here by hand (no config.json: the parser is another part).
 *
 *   oci_harness [-u] [-n] CASE ROOTFS HOSTDIR -- CMD [ARG...]
 *
 * A child unshares mount, pid, uts, ipc (and per case network and cgroup;
 * with -u a user namespace too, whose maps the harness writes: 0 ->
 * 100000, 65536 ids), forks the container's PID 1, which sets the root up
 * (-n: --no-pivot) and execs CMD. HOSTDIR holds the host's side: "file"
 * and "data/" are bind sources. Cases:
 *   full        the mounts, devices, masked and read-only paths, sysctl,
 *               names, identity, capabilities, rlimits and seccomp that
 *               tests/integration/test_oci_rootfs.sh checks from inside
 *   minimal     proc and a /dev tmpfs, root, no process settings
 *   shared, slave  minimal with rootfsPropagation rshared / rslave (run
 *               where the host's / is private: nothing reaches the host)
 *   seccomp_early  minimal, uid 1000, no capabilities, the seccomp filter
 *               without noNewPrivileges
 *   escape_abs  a bind and a device through ROOTFS/evil -> /etc
 *   escape_rel  a mount through ROOTFS/evil2 -> ../../../..HOSTDIR/target
 *   escape_dots a destination of ../../../..HOSTDIR/target/y
 *   proc_over   a tmpfs on /proc/sys/kernel
 *   bad_sysctl  kernel.panic
 *   bad_name    a hostname without a uts namespace
 * Exit: CMD's status; 125 with "oci_harness: setup: WHY" when the setup
 * failed; 127 with "oci_harness: exec errno N: WHY" when the exec did.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include "oci/oci.h"

#define USERNS_BASE 100000
#define BIT(c) (1ULL << (c))

static char file_src[4096], data_src[4096], rel_link_dest[4096], dots_dest[4096];

static void add_ns(struct oci_spec *s, int type)
{
	s->namespaces[s->n_namespaces++].type = type;
}

static struct oci_mount base_mounts[] = {
	{ .destination = "/proc", .type = "proc", .source = "proc",
	  .flags = MS_NOSUID | MS_NODEV | MS_NOEXEC },
	{ .destination = "/dev", .type = "tmpfs", .source = "tmpfs",
	  .flags = MS_NOSUID | MS_STRICTATIME, .data = "mode=755,size=65536k" },
	{ .destination = "/dev/pts", .type = "devpts", .source = "devpts",
	  .flags = MS_NOSUID | MS_NOEXEC, .data = "newinstance,ptmxmode=0666,mode=0620,gid=5" },
	{ .destination = "/dev/shm", .type = "tmpfs", .source = "shm",
	  .flags = MS_NOSUID | MS_NOEXEC | MS_NODEV, .data = "mode=1777,size=65536k" },
	{ .destination = "/dev/mqueue", .type = "mqueue", .source = "mqueue",
	  .flags = MS_NOSUID | MS_NOEXEC | MS_NODEV },
	{ .destination = "/sys", .type = "sysfs", .source = "sysfs",
	  .flags = MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY },
	{ .destination = "/sys/fs/cgroup", .type = "cgroup", .source = "cgroup",
	  .flags = MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY },
	{ .destination = "/etc/bound", .type = "none", .source = file_src, .bind = true,
	  .flags = MS_BIND | MS_RDONLY },
	{ .destination = "/mnt/data", .source = data_src, .rbind = true,
	  .flags = MS_BIND | MS_REC | MS_NOSUID | MS_NODEV | MS_RDONLY, .propagation = MS_PRIVATE },
	{ .destination = "/tmp", .type = "tmpfs", .source = "tmpfs",
	  .flags = MS_NOSUID | MS_NODEV, .data = "size=1m" },
};

static struct oci_device full_devices[] = {
	{ .path = "/dev/mydev", .type = 'c', .major = 1, .minor = 3, .mode = 0640, .has_mode = true,
	  .uid = 1, .gid = 2, .has_uid = true, .has_gid = true },
	{ .path = "/dev/full", .type = 'c', .major = 1, .minor = 7, .mode = 0600, .has_mode = true },
};

static char *masked[] = { "/proc/kcore", "/proc/acpi", "/secret", "/secretfile", "/nonexistent", NULL };
static char *readonly[] = { "/proc/sys", "/rodir", "/nonexistent", NULL };
static struct oci_sysctl sysctl_full[] = {
	{ "kernel.shmmax", "12345678" }, { "net.ipv4.ip_forward", "1" },
};
static struct oci_rlimit rlimits[] = { { RLIMIT_NOFILE, 123, 456 } };
static uint32_t groups[] = { 10, 20 };
static char *env[] = { "PATH=/bin", "HOME=/", NULL };

static char *seccomp_names[] = { "mkdir", "mkdirat", "no_such_call_sbx", NULL };
static char *allow_names[] = { "getpid", NULL };
static struct oci_seccomp_rule seccomp_rules[] = {
	{ .names = seccomp_names, .action = SCMP_ACT_ERRNO(1234) },
	{ .names = allow_names, .action = SCMP_ACT_ALLOW },	/* = default: skipped */
};
static uint32_t arches[] = { SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32 };
static struct oci_seccomp seccomp = {
	.default_action = SCMP_ACT_ALLOW, .arches = arches, .n_arches = 3,
	.flags = SECCOMP_FILTER_FLAG_TSYNC, .rules = seccomp_rules, .n_rules = 2,
};

static void base(struct oci_spec *s, const char *root, char **cmd)
{
	s->root_path = (char *)root;
	add_ns(s, CLONE_NEWNS);
	add_ns(s, CLONE_NEWPID);
	add_ns(s, CLONE_NEWUTS);
	add_ns(s, CLONE_NEWIPC);
	s->has_process = true;
	s->process.args = cmd;
	s->process.env = env;
	s->process.cwd = "/";
}

static void full(struct oci_spec *s, bool userns)
{
	struct oci_process *p = &s->process;

	s->mounts = base_mounts;
	s->n_mounts = sizeof(base_mounts) / sizeof(base_mounts[0]);
	/* in a user namespace a node is the host's bound: one the host has */
	s->devices = userns ? &full_devices[1] : full_devices;
	s->n_devices = userns ? 1 : 2;
	s->masked_paths = masked;
	s->readonly_paths = readonly;
	s->root_readonly = true;
	s->hostname = "ocibox";
	s->domainname = "ocidomain";
	s->sysctl = sysctl_full;
	s->n_sysctl = userns ? 1 : 2;
	if (!userns) {
		add_ns(s, CLONE_NEWNET);
		add_ns(s, CLONE_NEWCGROUP);
	}
	p->cwd = "/work/sub";
	p->user = (struct oci_user){ .uid = 1000, .gid = 1000, .additional_gids = groups,
				     .n_additional_gids = 2, .umask = 027, .has_umask = true };
	p->has_caps = true;
	p->caps = (struct oci_caps){
		.bounding = BIT(CAP_CHOWN) | BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_KILL),
		.effective = BIT(CAP_CHOWN) | BIT(CAP_NET_BIND_SERVICE),
		.permitted = BIT(CAP_CHOWN) | BIT(CAP_NET_BIND_SERVICE),
		.inheritable = BIT(CAP_NET_BIND_SERVICE), .ambient = BIT(CAP_NET_BIND_SERVICE) };
	p->rlimits = rlimits;
	p->n_rlimits = 1;
	p->no_new_privileges = true;
	p->oom_score_adj = 500;
	p->has_oom_score_adj = true;
	s->seccomp = &seccomp;
}

static struct oci_mount one_mount[2];
static struct oci_device escape_dev = { .path = "/evil/escape-node", .type = 'c', .major = 1,
					.minor = 3 };
static struct oci_sysctl bad_sysctl = { "kernel.panic", "0" };

/* 0, or -1 for an unknown case */
static int build(const char *name, const char *root, const char *hostdir, char **cmd, bool userns,
		 struct oci_spec *s)
{
	snprintf(file_src, sizeof(file_src), "%s/file", hostdir);
	snprintf(data_src, sizeof(data_src), "%s/data", hostdir);
	snprintf(rel_link_dest, sizeof(rel_link_dest), "/evil2/x");
	snprintf(dots_dest, sizeof(dots_dest), "/../../../../../../..%s/target/y", hostdir);
	base(s, root, cmd);
	s->mounts = base_mounts;
	s->n_mounts = 2;	/* proc, /dev */
	if (userns)
		add_ns(s, CLONE_NEWUSER);
	if (!strcmp(name, "full")) {
		full(s, userns);
		return 0;
	}
	if (!strcmp(name, "minimal"))
		return 0;
	if (!strcmp(name, "shared") || !strcmp(name, "slave")) {
		s->rootfs_propagation = (name[1] == 'h' ? MS_SHARED : MS_SLAVE) | MS_REC;
		return 0;
	}
	if (!strcmp(name, "seccomp_early")) {
		/* no noNewPrivileges: the filter goes in while root has CAP_SYS_ADMIN */
		s->process.user = (struct oci_user){ .uid = 1000, .gid = 1000 };
		s->seccomp = &seccomp;
		return 0;
	}
	one_mount[0] = base_mounts[0];
	s->mounts = one_mount;
	s->n_mounts = 2;
	if (!strcmp(name, "escape_abs")) {
		one_mount[1] = (struct oci_mount){ .destination = "/evil/sbx-oci-escape",
			.source = file_src, .bind = true, .flags = MS_BIND };
		s->devices = &escape_dev;
		s->n_devices = 1;
		return 0;
	}
	one_mount[1] = (struct oci_mount){ .type = "tmpfs", .source = "tmpfs" };
	if (!strcmp(name, "escape_rel"))
		one_mount[1].destination = rel_link_dest;
	else if (!strcmp(name, "escape_dots"))
		one_mount[1].destination = dots_dest;
	else if (!strcmp(name, "proc_over"))
		one_mount[1].destination = "/proc/sys/kernel";
	else if (!strcmp(name, "bad_sysctl"))
		s->sysctl = &bad_sysctl, s->n_sysctl = 1, s->n_mounts = 1;
	else if (!strcmp(name, "bad_name"))
		s->hostname = "x", s->namespaces[2].type = CLONE_NEWCGROUP, s->n_mounts = 1;
	else
		return -1;
	return 0;
}

static int container(const struct oci_spec *s, bool no_pivot)
{
	char why[512] = "";
	int exec_errno = 0;

	if (oci_rootfs_setup(s, no_pivot, why, sizeof(why)) < 0) {
		fprintf(stderr, "oci_harness: setup: %s\n", why);
		return 125;
	}
	oci_process_exec(&s->process, s->seccomp, NULL, NULL, NULL, why, sizeof(why), &exec_errno);
	fprintf(stderr, "oci_harness: exec errno %d: %s\n", exec_errno, why);
	return 127;
}

static int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 125;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* In the new namespaces: (with a user namespace, root of it) PID 1 runs the container. */
static int inside(const struct oci_spec *s, bool no_pivot, bool userns, int go)
{
	unsigned long flags = 0;
	char c;
	pid_t pid;

	for (size_t i = 0; i < s->n_namespaces; i++)
		flags |= (unsigned long)s->namespaces[i].type;
	if (unshare((int)flags) < 0) {
		perror("oci_harness: unshare");
		return 125;
	}
	if (write(go, "u", 1) != 1 || read(go, &c, 1) != 1)
		return 125;
	if (userns && (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0)) {
		perror("oci_harness: become root of the user namespace");
		return 125;
	}
	pid = fork();
	if (pid == 0)
		_exit(container(s, no_pivot));
	return pid < 0 ? 125 : wait_status(pid);
}

/* what the lifecycle writes from outside: /proc/PID/NAME = the line */
static int write_proc(pid_t pid, const char *name, const char *line)
{
	char path[64];
	ssize_t n = (ssize_t)strlen(line);
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, line, (size_t)n) != n) {
		perror(path);
		return -1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct oci_spec s = { 0 };
	bool userns = false, no_pivot = false;
	int sp[2], c;
	char b, map[64], oom[16];
	pid_t pid;

	while ((c = getopt(argc, argv, "+un")) != -1) {
		if (c == 'u')
			userns = true;
		else if (c == 'n')
			no_pivot = true;
		else
			return 125;
	}
	if (argc - optind < 5 || strcmp(argv[optind + 3], "--") ||
	    build(argv[optind], argv[optind + 1], argv[optind + 2], argv + optind + 4, userns, &s) < 0) {
		fprintf(stderr, "usage: oci_harness [-u] [-n] CASE ROOTFS HOSTDIR -- CMD...\n");
		return 125;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return 125;
	pid = fork();
	if (pid == 0) {
		close(sp[0]);
		_exit(inside(&s, no_pivot, userns, sp[1]));
	}
	close(sp[1]);
	if (pid < 0 || read(sp[0], &b, 1) != 1)
		return 125;
	snprintf(map, sizeof(map), "0 %d 65536\n", USERNS_BASE);
	snprintf(oom, sizeof(oom), "%d\n", s.process.oom_score_adj);
	if (userns && (write_proc(pid, "uid_map", map) < 0 || write_proc(pid, "gid_map", map) < 0)) {
		kill(pid, SIGKILL);
		wait_status(pid);
		return 125;
	}
	/* what the lifecycle does: the init's own /proc files are the host
	 * root's once it changed its ids in a user namespace */
	if (userns && s.process.has_oom_score_adj &&
	    write_proc(pid, "oom_score_adj", oom) < 0) {
		kill(pid, SIGKILL);
		wait_status(pid);
		return 125;
	}
	if (write(sp[0], "g", 1) != 1)
		return 125;
	return wait_status(pid);
}
