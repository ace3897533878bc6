// SPDX-License-Identifier: MIT
/*
 * The console socket (console.h). The peer of the pty is opened with
 * TIOCGPTPEER from the master's fd, not by its /dev/pts name, so that
 * nothing in the container's /dev can substitute another file for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "../util/util.h"
#include "console.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int oci_console_connect(const char *path, char *why, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path))
		return sbx_fail(why, len, -ENAMETOOLONG, "--console-socket %s: path too long", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sbx_fail(why, len, -errno, "--console-socket: socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return sbx_fail(why, len, -e, "--console-socket %s: connect: %s", path, strerror(e));
	}
	return fd;
}

static int send_fd(int sock, int fd)
{
	char payload[] = "/dev/ptmx";
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { payload, sizeof(payload) - 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int oci_console_setup(int sock, uint32_t rows, uint32_t cols, char *why, size_t len)
{
	int unlock = 0, r;

	_cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return sbx_fail(why, len, -errno, "console: open /dev/ptmx in the container: %s",
				strerror(errno));
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return sbx_fail(why, len, -errno, "console: unlock the pty: %s", strerror(errno));
	_cleanup_close_ int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (peer < 0)
		return sbx_fail(why, len, -errno, "console: open the pty's peer: %s", strerror(errno));
	if (rows || cols) {
		struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
		if (ioctl(peer, TIOCSWINSZ, &ws) < 0)
			return sbx_fail(why, len, -errno, "console: set its size: %s", strerror(errno));
	}
	r = send_fd(sock, master);
	if (r < 0)
		return sbx_fail(why, len, r, "console: send the pty to --console-socket: %s",
				strerror(-r));
	if (setsid() < 0 && errno != EPERM)
		return sbx_fail(why, len, -errno, "console: setsid: %s", strerror(errno));
	if (ioctl(peer, TIOCSCTTY, 0) < 0)
		return sbx_fail(why, len, -errno, "console: make the pty the controlling terminal: %s",
				strerror(errno));
	for (int i = 0; i < 3; i++)
		if (dup2(peer, i) < 0)
			return sbx_fail(why, len, -errno, "console: dup2: %s", strerror(errno));
	return 0;
}
