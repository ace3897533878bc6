/* SPDX-License-Identifier: MIT */
/* The pty of `sbx run -t` and its relay (core/tty.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/tty.h"
#include "util/util.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* A private open file description of the terminal behind fd, so that
 * O_NONBLOCK does not change the caller's (its shell shares stdin's). Only
 * for terminals and pipes: a regular file reopened would lose its offset. */
static int reopen_nonblock(int fd, int flags, bool *ret_own)
{
	char path[32];
	struct stat st;
	int r;

	*ret_own = false;
	if (fstat(fd, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)))
		return fd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = open(path, flags | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (r < 0)
		return fd;	/* e.g. /proc missing: the shared one, read after POLLIN only */
	*ret_own = true;
	return r;
}

static void copy_winsize(int from, int to)
{
	struct winsize ws;

	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

static int open_pty(struct sbx_tty *t, char *why, size_t len)
{
	char name[64];

	t->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t->master < 0)
		return sbx_fail(why, len, -errno, "-t: posix_openpt: %s", strerror(errno));
	if (grantpt(t->master) < 0 || unlockpt(t->master) < 0 ||
	    ptsname_r(t->master, name, sizeof(name)) != 0)
		return sbx_fail(why, len, -errno, "-t: preparing the pty: %s", strerror(errno));
	t->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t->slave < 0)
		return sbx_fail(why, len, -errno, "-t: open %s: %s", name, strerror(errno));
	if (fcntl(t->master, F_SETFL, O_NONBLOCK) < 0)
		return sbx_fail(why, len, -errno, "-t: pty master: %s", strerror(errno));
	return 0;
}

int sbx_tty_open(struct sbx_tty *t, char *why, size_t len)
{
	bool own_in;
	int r;

	*t = (struct sbx_tty){ .master = -1, .slave = -1, .in = -1, .out = -1 };
	if (!isatty(STDIN_FILENO))
		return sbx_fail(why, len, -ENOTTY, "-t: stdin is not a terminal (use -i alone to pass "
				"stdin without a terminal)");
	if (tcgetattr(STDIN_FILENO, &t->saved) < 0)
		return sbx_fail(why, len, -errno, "-t: reading stdin's terminal modes: %s", strerror(errno));
	r = open_pty(t, why, len);
	if (r < 0) {
		sbx_tty_close(t);
		return r;
	}
	/* the workload starts with the caller's modes (erase key, ...) and size */
	tcsetattr(t->slave, TCSANOW, &t->saved);
	copy_winsize(STDIN_FILENO, t->master);
	t->in = reopen_nonblock(STDIN_FILENO, O_RDONLY, &own_in);
	if (!own_in)
		t->in = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	t->out = reopen_nonblock(STDOUT_FILENO, O_WRONLY, &t->own_out);
	if (t->in < 0) {
		r = sbx_fail(why, len, -errno, "-t: stdin: %s", strerror(errno));
		sbx_tty_close(t);
	}
	return r;
}

/* tcsetattr from a background process group would stop sbx with SIGTTOU;
 * putting the caller's modes back must happen whatever sbx's group. */
static void set_modes(int fd, const struct termios *tio)
{
	sigset_t ttou, old;

	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &old);
	while (tcsetattr(fd, TCSANOW, tio) < 0 && errno == EINTR)
		;
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int sbx_tty_make_raw(struct sbx_tty *t, char *why, size_t len)
{
	struct termios raw = t->saved;

	/* no echo, no line editing, no signals from keys, no output
	 * processing: the pty's own line discipline does all of it */
	cfmakeraw(&raw);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(t->in, TCSANOW, &raw) < 0)
		return sbx_fail(why, len, -errno, "-t: raw mode on the terminal: %s", strerror(errno));
	t->raw = true;
	return 0;
}

void sbx_tty_resize(struct sbx_tty *t)
{
	if (t->master >= 0 && t->in >= 0)
		copy_winsize(t->in, t->master);
}

int sbx_tty_pollfds(struct sbx_tty *t, struct pollfd *p)
{
	p[0] = (struct pollfd){ .fd = -1 };
	p[1] = (struct pollfd){ .fd = -1 };
	p[2] = (struct pollfd){ .fd = -1 };
	if (!t->in_eof && t->to_master.len < SBX_TTY_BUF && t->master >= 0)
		p[0] = (struct pollfd){ .fd = t->in, .events = POLLIN };
	if (t->master >= 0)
		p[1] = (struct pollfd){ .fd = t->master, .events = (t->to_out.len < SBX_TTY_BUF ? POLLIN : 0) |
							     (t->to_master.len ? POLLOUT : 0) };
	if (t->to_out.len && t->out >= 0)
		p[2] = (struct pollfd){ .fd = t->out, .events = POLLOUT };
	return SBX_TTY_NFDS;
}

/* A read into b; 0 at EOF, -EAGAIN when nothing is there, or -errno. */
static ssize_t fill(int fd, struct sbx_tty_buf *b)
{
	ssize_t n;

	do
		n = read(fd, b->data + b->len, SBX_TTY_BUF - b->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	b->len += (size_t)n;
	return n;
}

/* A write of what b holds; a broken pipe (SIGPIPE is blocked while the
 * relay runs, see run.c) takes its pending signal and drops the data. */
static int flush(int fd, struct sbx_tty_buf *b)
{
	static const struct timespec zero;
	ssize_t n;

	do
		n = write(fd, b->data, b->len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n < 0) {
		int e = errno;
		sigset_t pipe;

		sigemptyset(&pipe);
		sigaddset(&pipe, SIGPIPE);
		if (e == EPIPE)
			sigtimedwait(&pipe, NULL, &zero);
		b->len = 0;
		return -e;
	}
	memmove(b->data, b->data + n, b->len - (size_t)n);
	b->len -= (size_t)n;
	return 0;
}

void sbx_tty_relay(struct sbx_tty *t, const struct pollfd *p, int n)
{
	ssize_t r;

	if (n < SBX_TTY_NFDS)
		return;
	if (p[0].fd >= 0 && p[0].revents) {
		r = fill(t->in, &t->to_master);
		if (r == 0 || (r < 0 && r != -EAGAIN))
			t->in_eof = true;	/* the caller's terminal hung up */
	}
	if (p[1].fd >= 0 && (p[1].revents & POLLOUT) && flush(t->master, &t->to_master) < 0)
		t->to_master.len = 0;
	/* EIO: no slave is open any more; stop polling the master, whose
	 * POLLHUP would wake the loop for ever */
	if (p[1].fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
		r = fill(t->master, &t->to_out);
		if (r == 0 || (r < 0 && r != -EAGAIN))
			close_fd(&t->master);
	}
	if (p[2].fd >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP)) && flush(t->out, &t->to_out) < 0)
		t->out = t->own_out ? (close(t->out), -1) : -1;
}

/* Waits (at most a second) until out takes more. */
static bool out_ready(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	return poll(&p, 1, 1000) == 1;
}

void sbx_tty_drain(struct sbx_tty *t)
{
	while (t->out >= 0 && (t->to_out.len || t->master >= 0)) {
		ssize_t r = 0;

		if (t->master >= 0 && t->to_out.len < SBX_TTY_BUF) {
			r = fill(t->master, &t->to_out);
			if (r <= 0)
				close_fd(&t->master);	/* EAGAIN: all there was; EIO: no writer */
		}
		if (!t->to_out.len)
			continue;
		if (!out_ready(t->out) || flush(t->out, &t->to_out) < 0)
			break;
	}
}

void sbx_tty_restore(struct sbx_tty *t)
{
	if (!t->raw)
		return;
	set_modes(t->in, &t->saved);
	t->raw = false;
}

void sbx_tty_close(struct sbx_tty *t)
{
	sbx_tty_restore(t);
	close_fd(&t->master);
	close_fd(&t->slave);
	close_fd(&t->in);
	if (t->own_out)
		close_fd(&t->out);
	t->out = -1;
}

void sbx_tty_modes_save(struct sbx_tty_modes *m)
{
	for (int fd = 0; fd < 3; fd++)
		m->saved[fd] = tcgetattr(fd, &m->tio[fd]) == 0;
}

void sbx_tty_modes_restore(const struct sbx_tty_modes *m)
{
	for (int fd = 0; fd < 3; fd++)
		if (m->saved[fd])
			set_modes(fd, &m->tio[fd]);
}
