// SPDX-License-Identifier: MIT
/* The go message of sbxd's warm pools (core/poolgo.h). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/poolgo.h"

int sbx_pool_go_add(char *buf, size_t *len, size_t cap, const char *key, const char *value)
{
	size_t k = strlen(key), v = strlen(value);

	if (*len + k + v + 2 > cap)
		return -E2BIG;
	memcpy(buf + *len, key, k);
	buf[*len + k] = '=';
	memcpy(buf + *len + k + 1, value, v + 1);
	*len += k + v + 2;
	return 0;
}

int sbx_pool_go_send(int sock, const char *msg, size_t len, const int fds[3])
{
	char cbuf[CMSG_SPACE(3 * sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	ssize_t n;

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(3 * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, 3 * sizeof(int));
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

/* The fields of buf[0..len) into g; the last byte is a NUL. */
static int parse(char *buf, size_t len, struct sbx_pool_go *g)
{
	size_t n = 0;

	if (len == 0 || buf[len - 1] != '\0')
		return -EBADMSG;
	for (char *p = buf, *next; p < buf + len; p = next) {
		char *eq = strchr(p, '=');
		const char *v;

		if (!eq)
			return -EBADMSG;
		*eq = '\0';
		v = eq + 1;
		next = eq + 1 + strlen(v) + 1;
		if (!strcmp(p, "arg")) {
			if (n == SBX_POOL_ARGS_MAX)
				return -E2BIG;
			g->argv[n++] = (char *)v;
		} else if (!strcmp(p, "policy")) {
			g->policy = v;
		} else if (!strcmp(p, "result")) {
			g->result = v;
		} else if (!strcmp(p, "log")) {
			g->log = v;
		} else if (!strcmp(p, "log_max_size")) {
			g->log_max_size = v;
		} else if (!strcmp(p, "log_keep")) {
			g->log_keep = v;
		} else if (!strcmp(p, "tty")) {
			g->tty = !strcmp(v, "1");
		} else {
			return -EBADMSG;
		}
	}
	g->argv[n] = NULL;
	return n ? 0 : -EBADMSG;
}

/* One message with exactly three descriptors; they are closed on error. */
static int receive(int sock, struct sbx_pool_go *g)
{
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;
	int r;

	g->buf = malloc(SBX_POOL_MSG_MAX);
	if (!g->buf)
		return -ENOMEM;
	iov = (struct iovec){ .iov_base = g->buf, .iov_len = SBX_POOL_MSG_MAX };
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len != CMSG_LEN(3 * sizeof(int))) {
		/* the wrong number: close what came */
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int fd;

		for (size_t i = 0; i < k; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			close(fd);
		}
		return -EBADMSG;
	}
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	memcpy(g->fds, CMSG_DATA(cm), sizeof(g->fds));
	r = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ? -EMSGSIZE : parse(g->buf, (size_t)n, g);
	if (r < 0) {
		for (int i = 0; i < 3; i++)
			close(g->fds[i]);
		g->fds[0] = g->fds[1] = g->fds[2] = -1;
	}
	return r;
}

int sbx_pool_go_wait(int sock, int sigfd, int childfd, struct sbx_pool_go *ret)
{
	struct sbx_pool_go g = { .fds = { -1, -1, -1 } };
	struct pollfd p[3] = { { .fd = sock, .events = POLLIN }, { .fd = sigfd, .events = POLLIN },
			       { .fd = childfd, .events = POLLIN } };
	char c = SBX_POOL_READY;
	int r;

	if (send(sock, &c, 1, MSG_NOSIGNAL) != 1)
		return errno == EPIPE ? -EPIPE : -errno;
	for (;;) {
		r = poll(p, 3, -1);	/* (a negative fd is ignored) */
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (p[0].revents)
			break;
		if (p[1].revents)
			return -EINTR;
		if (p[2].revents)
			return -ECHILD;
	}
	r = receive(sock, &g);
	if (r < 0) {
		sbx_pool_go_free(&g);
		return r;
	}
	*ret = g;
	return 0;
}

void sbx_pool_go_free(struct sbx_pool_go *g)
{
	free(g->buf);
	g->buf = NULL;
}
