/* SPDX-License-Identifier: MIT */
/*
 * The provider "oci" (providers/oci.h): the workload is an OCI container's
 * init that sbx-oci's `create` starts itself; this provider hands it the
 * sandbox cgroup, takes its pid, and watches it without being its parent.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/cgroup.h"
#include "oci_provider.h"
#include "util/util.h"

/* How long the manager waits for the creator's DONE or ABORT. */
#define OCI_DONE_WAIT_MS 120000

static int chan = -1;
static bool handed;

struct oci_state {
	int pidfd, procfd, events_fd, epfd;
	bool init_gone;
	int status;			/* from /proc while a zombie; -1: not known */
	char cgroup[PATH_MAX];
};

void sbx_oci_set_channel(int fd)
{
	chan = fd;
}

bool sbx_oci_handed_over(void)
{
	return handed;
}

int sbx_oci_send(int sock, const struct sbx_oci_msg *m, int fd_out)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd_out >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd_out, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(*m) ? 0 : -EMSGSIZE;
}

int sbx_oci_recv(int sock, struct sbx_oci_msg *m, int *fd_in, int timeout_ms)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct pollfd p = { .fd = sock, .events = POLLIN };
	struct cmsghdr *c;
	ssize_t n;
	int r;

	if (fd_in)
		*fd_in = -1;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int fd;

			memcpy(&fd, CMSG_DATA(c), sizeof(int));
			if (fd_in && *fd_in < 0)
				*fd_in = fd;
			else
				close(fd);
		}
	if (n == 0)
		return -EPIPE;
	if (n != (ssize_t)sizeof(*m)) {
		if (fd_in && *fd_in >= 0)
			close(*fd_in);
		return -EBADMSG;
	}
	m->text[sizeof(m->text) - 1] = 0;
	m->id[sizeof(m->id) - 1] = 0;
	return 0;
}

static int oci_probe(char *why, size_t len)
{
	(void)why;
	(void)len;
	return 0;
}

static int oci_prepare(const struct sbx_spawn *s, void **ret_state, char *why, size_t len)
{
	struct oci_state *st = calloc(1, sizeof(*st));

	if (!st)
		return sbx_fail(why, len, -ENOMEM, "out of memory");
	/* sbx-oci stacks the family filter on the container's processes
	 * (user/oci/enforce.c) under every profile but "none": its refusals
	 * are reported as net.socket, as the other providers' */
	if (s->refused && s->profile->name && strcmp(s->profile->name, "none")) {
		static const int uring[] = { __NR_io_uring_setup, __NR_io_uring_enter,
					     __NR_io_uring_register };

		s->refused->flags |= SBX_SYSF_FAMILY_REFUSED;
		/* the filter refuses io_uring too: syscall.denied events */
		for (size_t i = 0; i < sizeof(uring) / sizeof(uring[0]); i++)
			s->refused->bits[uring[i] / 64] |= 1ULL << (uring[i] % 64);
	}
	st->pidfd = st->procfd = st->events_fd = st->epfd = -1;
	st->status = -1;
	*ret_state = st;
	return 0;
}

/* The pid's cgroup2 directory ("0::/..." of /proc/PID/cgroup under the
 * cgroup2 mount) must be the sandbox cgroup: the creator cannot hand in
 * another process. */
static int check_cgroup(pid_t pid, const char *cgroup, char *why, size_t len)
{
	char path[64], line[PATH_MAX + 8], mnt[PATH_MAX], full[2 * PATH_MAX + 8];
	bool ok = false;
	FILE *f;

	if (sbx_cgroup2_mount(mnt, sizeof(mnt)) < 0)
		return sbx_fail(why, len, -ENOENT, "no cgroup2 mount");
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return sbx_fail(why, len, -errno, "the container's init (pid %d): %s: %m", (int)pid, path);
	while (!ok && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(full, sizeof(full), "%s%s", mnt, line + 3);
		ok = !strcmp(full, cgroup);
	}
	fclose(f);
	if (!ok)
		return sbx_fail(why, len, -EPERM, "pid %d is not in the container's cgroup %s",
				(int)pid, cgroup);
	return 0;
}

static bool populated(int events_fd)
{
	char buf[256];
	ssize_t n = pread(events_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return false;
	buf[n] = 0;
	return !strstr(buf, "populated 0");
}

static int watch(struct oci_state *st, pid_t pid, char *why, size_t len)
{
	char path[PATH_MAX + 16];
	struct epoll_event ev = { .events = EPOLLIN };

	st->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (st->pidfd < 0)
		return sbx_fail(why, len, -errno, "pidfd_open of the container's init (pid %d): %m",
				(int)pid);
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	st->procfd = open(path, O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/cgroup.events", st->cgroup);
	st->events_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (st->events_fd < 0)
		return sbx_fail(why, len, -errno, "%s: %m", path);
	st->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (st->epfd < 0)
		return sbx_fail(why, len, -errno, "epoll_create1: %m");
	ev.data.fd = st->pidfd;
	if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, st->pidfd, &ev) < 0)
		return sbx_fail(why, len, -errno, "epoll_ctl: %m");
	ev.events = EPOLLPRI;
	ev.data.fd = st->events_fd;
	if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, st->events_fd, &ev) < 0)
		return sbx_fail(why, len, -errno, "epoll_ctl on %s: %m", path);
	/* a cgroup file polls EPOLLPRI from its open until its first read
	 * (kernfs): read it now, or the manager's wait would spin */
	(void)populated(st->events_fd);
	return 0;
}

static void send_error(const char *why)
{
	struct sbx_oci_msg m = { .type = SBX_OCI_ERROR };

	snprintf(m.text, sizeof(m.text), "%s", why);
	sbx_oci_send(chan, &m, -1);
}

static int oci_spawn(void *state, const struct sbx_spawn *s, struct sbx_child *ret, char *why,
		     size_t len)
{
	struct oci_state *st = state;
	struct sbx_oci_msg m = { .type = SBX_OCI_READY };
	int r;

	snprintf(st->cgroup, sizeof(st->cgroup), "%s", s->cgroup_path);
	snprintf(m.id, sizeof(m.id), "%s", s->id);
	snprintf(m.text, sizeof(m.text), "%s", s->cgroup_path);
	r = sbx_oci_send(chan, &m, s->cgroup_fd);
	if (r < 0)
		return sbx_fail(why, len, r, "the creator is gone: %s", strerror(-r));
	handed = true;
	r = sbx_oci_recv(chan, &m, NULL, OCI_DONE_WAIT_MS);
	if (r < 0 || m.type != SBX_OCI_DONE)
		return sbx_fail(why, len, -ECANCELED, "create was aborted before the container's init "
				"existed");
	r = check_cgroup(m.pid, st->cgroup, why, len);
	if (!r)
		r = watch(st, m.pid, why, len);
	if (!r && s->started && s->started(s->started_ctx, m.pid) < 0)
		r = sbx_fail(why, len, -EIO, "sbx could not register the container's init (pid %d): "
			     "see the manager's log", (int)m.pid);
	if (r < 0) {
		send_error(why);
		return r;
	}
	ret->pid = m.pid;
	ret->pidfd = st->epfd;	/* readable when the init exits or the cgroup changes */
	ret->exec_errno = 0;
	m = (struct sbx_oci_msg){ .type = SBX_OCI_ACK };
	sbx_oci_send(chan, &m, -1);	/* a creator gone by now changes nothing */
	return 0;
}

/* The manager's own signals: SIGTERM, SIGINT and SIGQUIT (oci_enforce_wait_gone
 * at delete, an administrator) end the container; the container's own
 * signals are the engine's (`kill`), so the rest (SIGHUP of a closed
 * terminal, SIGUSR1/2) are ignored. */
static int oci_signal(void *state, struct sbx_child *c, int sig)
{
	struct oci_state *st = state;

	(void)c;
	if (sig != SIGTERM && sig != SIGINT && sig != SIGQUIT)
		return 0;
	return st && st->cgroup[0] ? sbx_cgroup_kill(st->cgroup) : 0;
}

/* The wait status of a zombie (field 52 of /proc/PID/stat); -1: the init
 * was reaped already, or the kernel does not say. */
static int zombie_status(int procfd)
{
	char buf[1024], *p;
	int fd = procfd >= 0 ? openat(procfd, "stat", O_RDONLY | O_CLOEXEC) : -1;
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	int field = 2, status = -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] != 'Z')
		return -1;
	for (p++; *p && field < 52; p++)
		if (*p == ' ')
			field++;
	if (field == 52)
		status = atoi(p);
	return status;
}


static int oci_wait(void *state, struct sbx_child *c, int *ret_status)
{
	struct oci_state *st = state;
	struct epoll_event ev[4];
	struct pollfd p = { .fd = st->pidfd, .events = POLLIN };

	epoll_wait(st->epfd, ev, 4, 0);	/* level-triggered: what is still true stays */
	if (!st->init_gone && poll(&p, 1, 0) == 1) {
		st->init_gone = true;
		st->status = zombie_status(st->procfd);
		epoll_ctl(st->epfd, EPOLL_CTL_DEL, st->pidfd, NULL);
	}
	/* processes of a container without a pid namespace of its own may
	 * outlive its init: the sandbox stays until they end, or until delete
	 * (oci_enforce_wait_gone) has the manager kill them */
	/* read cgroup.events each time: that re-arms its EPOLLPRI, which
	 * stays readable after a change (populated, frozen) until a read */
	bool pop = populated(st->events_fd);

	if (!st->init_gone || pop)
		return -EAGAIN;
	c->no_status = st->status < 0;
	*ret_status = st->status < 0 ? 0 : st->status;
	return 0;
}

static void oci_cleanup(void *state)
{
	struct oci_state *st = state;

	if (!st)
		return;
	if (st->epfd >= 0)
		close(st->epfd);
	if (st->pidfd >= 0)
		close(st->pidfd);
	if (st->procfd >= 0)
		close(st->procfd);
	if (st->events_fd >= 0)
		close(st->events_fd);
	free(st);
}

const struct sbx_provider sbx_provider_oci = {
	.name = "oci",
	.level = SBX_ISO_PROCESS,
	.summary = "an OCI container's init, started by sbx-oci create (not by sbx run)",
	.foreign = true,
	.probe = oci_probe,
	.prepare = oci_prepare,
	.spawn = oci_spawn,
	.signal = oci_signal,
	.wait = oci_wait,
	.cleanup = oci_cleanup,
};
