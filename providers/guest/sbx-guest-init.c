/* SPDX-License-Identifier: MIT */
/*
 * sbx-guest-init: PID 1 of the microvm provider's guest (providers/microvm.c).
 * Built static (gcc -static) into the initramfs by providers/guest/mkguest.sh.
 *
 * 1. mounts proc, sysfs, devtmpfs, tmpfs /tmp and /run; loads the kernel
 *    modules listed in /lib/modules/sbx.order (virtio-mmio, virtio-console,
 *    virtio-net, vsock: Debian builds them as modules);
 * 2. opens its three channels to sbx: "ctl" (the command in, the exit status
 *    out, signals in), "out" (the workload's stdout) and "err" (its stderr).
 *    With qemu they are virtio-serial ports named sbx.ctl, sbx.out, sbx.err;
 *    with Firecracker (sbx.transport=vsock on the kernel command line) they
 *    are vsock connections to the host (CID 2) ports 10240, 10241, 10242;
 * 3. reads the command from ctl: records "<type><text>\0", ended by "Z\0":
 *      A argument (argv in order)   E NAME=VALUE   C cwd   U uid   G gid
 *      H hostname   N 1 = bring up eth0 for qemu user-mode networking;
 *      L nofile=N / L fsize=N: rlimits of the command (soft = hard = N;
 *        RLIMIT_CORE is always 0). An init that does not know a record
 *        type refuses the command, so an old initramfs fails closed;
 * 4. runs it in its own session, stdin /dev/null, stdout/stderr on the
 *    channels, relays "S<signo>\n" lines from ctl to it, reaps everything;
 * 5. when it has exited, kills what is left, and writes one line to ctl:
 *      SBX-EXIT:<wait status>        (decimal, as waitpid() returned it)
 *    preceded where relevant by "SBX-EXEC:<errno>" (the exec failed) or
 *    "SBX-ERROR:<message>" (the guest could not run the command), and
 *    powers the VM off.
 * Kernel messages and the init's own diagnostics go to /dev/console, which
 * sbx keeps in a log file and shows only when the guest fails.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 4096
#define MAX_ENV 4096
#define VSOCK_PORT_BASE 10240

enum { CH_CTL, CH_OUT, CH_ERR, CH_N };
static const char *const port_names[CH_N] = { "sbx.ctl", "sbx.out", "sbx.err" };
static int ch[CH_N] = { -1, -1, -1 };
static bool vsock;	/* Firecracker: no ACPI power-off, it ends the VM on reboot */

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	int n;

	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "sbx-guest-init: ");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(fd, buf, (size_t)n) < 0)
		n = 0;
	close(fd);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void ctl_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ctl_line(const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (ch[CH_CTL] < 0 || write_all(ch[CH_CTL], buf, (size_t)n) < 0)
		logmsg("cannot report to sbx: %.*s", n - 1, buf);
}

static void power_off(void) __attribute__((noreturn));
static void power_off(void)
{
	for (int i = 0; i < CH_N; i++)
		if (ch[i] >= 0)
			close(ch[i]);
	sync();
	if (!vsock)
		reboot(RB_POWER_OFF);
	/* without ACPI power-off: qemu runs with -no-reboot, Firecracker ends
	 * on the reboot (reboot=k) */
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

/* A failure of the guest itself: report it (when ctl is open) and stop. */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	logmsg("%s", buf);
	if (ch[CH_CTL] >= 0) {
		ctl_line("SBX-ERROR:%s", buf);
		ctl_line("SBX-EXIT:%d", 125 << 8);
	}
	power_off();
}

static void mount_fs(void)
{
	static const struct { const char *src, *dst, *type; unsigned long fl; const char *opt; } m[] = {
		{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
		{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
		{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
		{ "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
		{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" },
		{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666" },
		{ "tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		mkdir(m[i].dst, 0755);
		if (mount(m[i].src, m[i].dst, m[i].type, m[i].fl, m[i].opt) < 0 && errno != EBUSY)
			logmsg("mount %s: %s", m[i].dst, strerror(errno));
	}
}

/* /lib/modules/sbx.order: "<group> <file>" lines, in load order; groups are
 * base (virtio-mmio, virtio-console), net (virtio-net) and vsock. */
static void load_modules(const char *group)
{
	char line[256];
	FILE *f = fopen("/lib/modules/sbx.order", "re");
	size_t gl = strlen(group);

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char path[320];
		int fd;

		line[strcspn(line, "\r\n")] = 0;
		if (strncmp(line, group, gl) || line[gl] != ' ')
			continue;
		snprintf(path, sizeof(path), "/lib/modules/%s", line + gl + 1);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			logmsg("module %s: %s", path, strerror(errno));
			continue;
		}
		if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
			logmsg("loading %s: %s", path, strerror(errno));
		close(fd);
	}
	fclose(f);
}

static bool cmdline_has(const char *word)
{
	char buf[4096];
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	size_t wl = strlen(word);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	for (char *p = buf; (p = strstr(p, word)); p += wl)
		if ((p == buf || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == '\n' || !p[wl]))
			return true;
	return false;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* virtio-serial: /sys/class/virtio-ports/vportXpY/name holds the port name
 * given by qemu (-device virtserialport,name=...), devtmpfs the node. */
static int open_ports(void)
{
	double deadline = now_s() + 20;

	for (;;) {
		DIR *d = opendir("/sys/class/virtio-ports");
		struct dirent *e;
		int found = 0;

		while (d && (e = readdir(d))) {
			char path[300], name[64] = "";
			ssize_t n;
			int fd;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			n = fd < 0 ? -1 : read(fd, name, sizeof(name) - 1);
			if (fd >= 0)
				close(fd);
			if (n <= 0)
				continue;
			name[n] = 0;
			name[strcspn(name, "\n")] = 0;
			for (int i = 0; i < CH_N; i++) {
				if (strcmp(name, port_names[i]) || ch[i] >= 0)
					continue;
				snprintf(path, sizeof(path), "/dev/%s", e->d_name);
				ch[i] = open(path, (i == CH_CTL ? O_RDWR : O_WRONLY) | O_CLOEXEC);
				if (ch[i] < 0)
					logmsg("open %s (%s): %s", path, name, strerror(errno));
			}
		}
		if (d)
			closedir(d);
		for (int i = 0; i < CH_N; i++)
			found += ch[i] >= 0;
		if (found == CH_N)
			return 0;
		if (now_s() > deadline)
			return -1;
		usleep(5000);
	}
}

/* Firecracker: vsock connections to the host; Firecracker turns a guest
 * connection to port P into a unix-socket connection to <uds_path>_P. */
static int open_vsock(void)
{
	for (int i = 0; i < CH_N; i++) {
		struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST,
					 .svm_port = VSOCK_PORT_BASE + (unsigned)i };
		double deadline = now_s() + 20;

		for (;;) {
			ch[i] = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (ch[i] >= 0 && connect(ch[i], (struct sockaddr *)&a, sizeof(a)) == 0)
				break;
			logmsg("vsock port %u: %s", a.svm_port, strerror(errno));
			if (ch[i] >= 0)
				close(ch[i]);
			ch[i] = -1;
			if (now_s() > deadline)
				return -1;
			usleep(50000);
		}
	}
	return 0;
}

struct cmd {
	char *argv[MAX_ARGS + 1];
	int argc;
	char *envp[MAX_ENV + 1];
	int envc;
	char *cwd;
	long uid, gid;
	bool net;
	struct rlimit nofile, fsize;	/* RLIM_INFINITY: not set (inherit) */
};

/* "nofile=N" or "fsize=N" into the command; anything else is refused. */
static int parse_rlimit(struct cmd *c, const char *text)
{
	struct rlimit *rl = !strncmp(text, "nofile=", 7) ? &c->nofile :
			    !strncmp(text, "fsize=", 6) ? &c->fsize : NULL;
	const char *num = rl ? strchr(text, '=') + 1 : NULL;
	char *end;
	unsigned long long v;

	if (!rl || !*num)
		return -EINVAL;
	errno = 0;
	v = strtoull(num, &end, 10);
	if (errno || *end || v == 0)
		return -EINVAL;
	rl->rlim_cur = rl->rlim_max = (rlim_t)v;
	return 0;
}

/* One record other than "Z" into the command; an unknown type is refused
 * (EINVAL), so that an old init fails closed on a newer sbx's command. */
static int take_record(struct cmd *c, char type, char *text)
{
	switch (type) {
	case 'A':
		if (c->argc >= MAX_ARGS)
			return -E2BIG;
		c->argv[c->argc++] = text;
		return 0;
	case 'E':
		if (c->envc >= MAX_ENV)
			return -E2BIG;
		c->envp[c->envc++] = text;
		return 0;
	case 'C':
		c->cwd = text;
		return 0;
	case 'U':
		c->uid = atol(text);
		return 0;
	case 'G':
		c->gid = atol(text);
		return 0;
	case 'H':
		if (sethostname(text, strlen(text)) < 0)
			logmsg("sethostname: %s", strerror(errno));
		return 0;
	case 'N':
		c->net = text[0] == '1';
		return 0;
	case 'L':
		return parse_rlimit(c, text);
	default:
		return -EINVAL;
	}
}

/* "Z": the command is complete; what followed it is kept in rest. */
static int end_command(struct cmd *c, const char *after, size_t more, char *rest,
		       size_t rest_cap, size_t *ret_rest)
{
	c->argv[c->argc] = NULL;
	c->envp[c->envc] = NULL;
	*ret_rest = more < rest_cap ? more : rest_cap;
	memcpy(rest, after, *ret_rest);
	return c->argc ? 0 : -EINVAL;
}

/* Reads records until "Z" into a buffer that is never freed; what came
 * after them (signal lines) is copied to rest. */
static int read_command(struct cmd *c, char *rest, size_t rest_cap, size_t *ret_rest)
{
	size_t cap = 1 << 20, len = 0, start = 0;
	char *buf = malloc(cap);

	c->uid = c->gid = -1;
	c->nofile.rlim_cur = c->nofile.rlim_max = RLIM_INFINITY;
	c->fsize = c->nofile;
	if (!buf)
		return -ENOMEM;
	for (;;) {
		char *nul;
		ssize_t n;
		int r;

		while ((nul = memchr(buf + start, 0, len - start))) {
			if (nul == buf + start)
				return -EINVAL;
			if (buf[start] == 'Z')
				return end_command(c, nul + 1, len - (size_t)(nul + 1 - buf), rest,
						   rest_cap, ret_rest);
			r = take_record(c, buf[start], buf + start + 1);
			if (r < 0)
				return r;
			start = (size_t)(nul - buf) + 1;
		}
		if (len == cap)		/* records point into buf: sbx keeps below the cap */
			return -E2BIG;
		n = read(ch[CH_CTL], buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		len += (size_t)n;
	}
}

static int ifreq_ioctl(int fd, unsigned long req, const char *dev, struct ifreq *ifr)
{
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", dev);
	return ioctl(fd, req, ifr);
}

static int set_addr(int fd, unsigned long req, const char *dev, const char *a)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	sin->sin_family = AF_INET;
	inet_pton(AF_INET, a, &sin->sin_addr);
	return ifreq_ioctl(fd, req, dev, &ifr);
}

static int link_up(int fd, const char *dev)
{
	struct ifreq ifr = { 0 };

	if (ifreq_ioctl(fd, SIOCGIFFLAGS, dev, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ifreq_ioctl(fd, SIOCSIFFLAGS, dev, &ifr);
}

/* lo always; eth0 with qemu's user-mode network defaults when asked:
 * 10.0.2.15/24, gateway (and the host's loopback) 10.0.2.2, DNS 10.0.2.3. */
static void setup_net(bool eth0)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct rtentry rt = { 0 };
	double deadline = now_s() + 10;

	if (fd < 0)
		return;
	if (link_up(fd, "lo") < 0)
		logmsg("lo up: %s", strerror(errno));
	if (!eth0) {
		close(fd);
		return;
	}
	while (if_nametoindex("eth0") == 0 && now_s() < deadline)
		usleep(5000);
	if (set_addr(fd, SIOCSIFADDR, "eth0", "10.0.2.15") < 0 ||
	    set_addr(fd, SIOCSIFNETMASK, "eth0", "255.255.255.0") < 0 || link_up(fd, "eth0") < 0) {
		logmsg("eth0: %s", strerror(errno));
		close(fd);
		return;
	}
	((struct sockaddr_in *)&rt.rt_dst)->sin_family = AF_INET;
	((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
	((struct sockaddr_in *)&rt.rt_gateway)->sin_family = AF_INET;
	inet_pton(AF_INET, "10.0.2.2", &((struct sockaddr_in *)&rt.rt_gateway)->sin_addr);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	if (ioctl(fd, SIOCADDRT, &rt) < 0)
		logmsg("default route: %s", strerror(errno));
	close(fd);
	fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write_all(fd, "nameserver 10.0.2.3\n", 20) < 0)
			logmsg("resolv.conf: %s", strerror(errno));
		close(fd);
	}
}

/* The profile's nofile and fsize, and no core dumps, like every provider.
 * A command running as the guest's root could raise a hard limit again with
 * CAP_SYS_RESOURCE: when a limit is set, that capability leaves the bounding
 * set, so nothing the command execs holds it. */
static int apply_rlimits(const struct cmd *c)
{
	struct rlimit zero = { 0, 0 };
	bool set = c->nofile.rlim_max != RLIM_INFINITY || c->fsize.rlim_max != RLIM_INFINITY;

	if (setrlimit(RLIMIT_CORE, &zero) < 0)
		return -1;
	if (c->nofile.rlim_max != RLIM_INFINITY && setrlimit(RLIMIT_NOFILE, &c->nofile) < 0)
		return -1;
	if (c->fsize.rlim_max != RLIM_INFINITY && setrlimit(RLIMIT_FSIZE, &c->fsize) < 0)
		return -1;
	if (set && prctl(PR_CAPBSET_DROP, CAP_SYS_RESOURCE, 0, 0, 0) < 0)
		return -1;
	return 0;
}

/* The workload's child side; reports a failed exec's errno over errfd. */
static void run_child(const struct cmd *c, int errfd) __attribute__((noreturn));
static void run_child(const struct cmd *c, int errfd)
{
	sigset_t none;
	int in = open("/dev/null", O_RDONLY);
	int e;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (in < 0 || dup2(in, 0) < 0 || dup2(ch[CH_OUT], 1) < 0 || dup2(ch[CH_ERR], 2) < 0) {
		e = errno;
		goto fail;
	}
	if (in > 2)
		close(in);
	if (chdir(c->cwd ? c->cwd : "/") < 0) {
		e = errno;
		dprintf(2, "sbx-guest-init: cwd %s: %s\n", c->cwd, strerror(e));
		goto fail;
	}
	if (apply_rlimits(c) < 0) {
		e = errno;
		dprintf(2, "sbx-guest-init: rlimits (nofile/fsize) of the profile: %s\n", strerror(e));
		goto fail;
	}
	if ((c->gid >= 0 && (setgroups(0, NULL) < 0 || setgid((gid_t)c->gid) < 0)) ||
	    (c->uid >= 0 && setuid((uid_t)c->uid) < 0)) {
		e = errno;
		goto fail;
	}
	environ = (char **)c->envp;
	execvp(c->argv[0], c->argv);
	e = errno;
	if (write(errfd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(e == ENOENT ? 127 : 126);
fail:
	e = -e;		/* negative: a setup failure, not an exec failure */
	if (write(errfd, &e, sizeof(e)) < 0)
		_exit(125);
	_exit(125);
}

/* Steps 1 and 2: the guest's file systems, modules and channels to sbx. */
static void boot(void)
{
	mount_fs();
	/* ports and sockets closed by sbx must not kill the init */
	signal(SIGPIPE, SIG_IGN);
	vsock = cmdline_has("sbx.transport=vsock");
	/* sbx's KVM test boot: the guest came up, that is all it asks */
	if (cmdline_has("sbx.probe"))
		power_off();
	load_modules("base");
	if (vsock)
		load_modules("vsock");
	if ((vsock ? open_vsock() : open_ports()) < 0)
		die("the sbx channels did not appear (%s)", vsock ? "vsock" : "virtio-serial ports");
}

/* The child's report on errfd: EOF when the exec succeeded (close-on-exec),
 * else its errno (exec failed) or minus it (setup failed). */
static void report_exec(int errfd)
{
	int e = 0;
	ssize_t n;

	do
		n = read(errfd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(errfd);
	if (n == sizeof(e) && e > 0)
		ctl_line("SBX-EXEC:%d", e);
	else if (n == sizeof(e) && e < 0)
		ctl_line("SBX-ERROR:setting up the command: %s", strerror(-e));
}

/* Step 4: starts the command with SIGCHLD blocked and readable on the
 * returned signalfd. */
static pid_t start_command(const struct cmd *c, int *ret_sfd)
{
	int pfd[2];
	sigset_t set;
	pid_t pid;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	*ret_sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (*ret_sfd < 0 || pipe2(pfd, O_CLOEXEC) < 0)
		die("signalfd/pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0)
		run_child(c, pfd[1]);
	close(pfd[1]);
	report_exec(pfd[0]);
	return pid;
}

/* What arrived on ctl after the command: "S<signo>" lines. */
struct relay {
	pid_t pid;
	int sfd, ctlfd;
	char buf[64];
	size_t len;
};

/* Sends the complete "S<signo>" lines to the workload's session. */
static void relay_signals(struct relay *rl)
{
	char *nl;

	while ((nl = memchr(rl->buf, '\n', rl->len))) {
		*nl = 0;
		if (rl->buf[0] == 'S')
			kill(-rl->pid, atoi(rl->buf + 1));
		rl->len -= (size_t)(nl + 1 - rl->buf);
		memmove(rl->buf, nl + 1, rl->len);
	}
	if (rl->len == sizeof(rl->buf) - 1)	/* a line too long: dropped */
		rl->len = 0;
}

/* Waits for ctl input or SIGCHLD; false when poll fails. */
static bool relay_wait(struct relay *rl)
{
	struct pollfd p[2] = { { .fd = rl->sfd, .events = POLLIN },
			       { .fd = rl->ctlfd, .events = POLLIN } };

	if (poll(p, 2, -1) < 0 && errno != EINTR)
		return false;
	if (p[1].revents & POLLIN) {
		ssize_t n = read(ch[CH_CTL], rl->buf + rl->len, sizeof(rl->buf) - 1 - rl->len);

		if (n > 0)
			rl->len += (size_t)n;
	}
	if (p[1].revents & (POLLHUP | POLLERR | POLLNVAL))
		rl->ctlfd = -1;	/* sbx went away: nothing more to relay */
	if (p[0].revents & POLLIN) {
		struct signalfd_siginfo si;

		while (read(rl->sfd, &si, sizeof(si)) == sizeof(si))
			;
	}
	return true;
}

/* Reaps every exited child (PID 1 inherits orphans); true once the
 * command itself has exited, with its wait status. */
static bool reap(pid_t pid, int *status)
{
	bool done = false;
	pid_t w;
	int st;

	while ((w = waitpid(-1, &st, WNOHANG)) > 0)
		if (w == pid) {
			*status = st;
			done = true;
		}
	return done;
}

/* Relays signals until the command exits; its wait status (0 when poll
 * failed first). */
static int relay_until_exit(struct relay *rl)
{
	int status = 0;

	for (;;) {
		relay_signals(rl);
		if (!relay_wait(rl))
			return status;
		if (reap(rl->pid, &status))
			return status;
	}
}

/* Step 5: like a container, the sandbox ends with its command. */
static void finish(int status) __attribute__((noreturn));
static void finish(int status)
{
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
	close(ch[CH_OUT]);
	close(ch[CH_ERR]);
	ch[CH_OUT] = ch[CH_ERR] = -1;
	ctl_line("SBX-EXIT:%d", status);
	power_off();
}

int main(void)
{
	struct cmd *c = calloc(1, sizeof(*c));
	struct relay rl = { .ctlfd = -1 };
	int r;

	if (getpid() != 1 || !c) {
		fprintf(stderr, "sbx-guest-init: must run as PID 1 of the sbx microvm guest\n");
		return 2;
	}
	boot();
	r = read_command(c, rl.buf, sizeof(rl.buf) - 1, &rl.len);
	if (r < 0)
		die("reading the command from sbx: %s", strerror(-r));
	if (c->net)
		load_modules("net");
	setup_net(c->net);
	rl.pid = start_command(c, &rl.sfd);
	rl.ctlfd = ch[CH_CTL];
	finish(relay_until_exit(&rl));
}
