/* SPDX-License-Identifier: MIT */
/*
 * A workload that attacks the terminal it was given (tests/security/
 * test_tty_inject.sh): it pushes a command into the terminal's input queue
 * with TIOCSTI on stdin, stdout, stderr and /dev/tty, also with bits above
 * the 32 the kernel reads set in the request, and tries TIOCLINUX (whose
 * paste-selection subcode injects on a virtual console). One line per try:
 *   NAME OK | NAME ERRNO-NAME
 * and "session leader yes|no", "ctty yes|no" for what the workload is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case EIO: return "EIO";
	case ENOTTY: return "ENOTTY";
	case EINVAL: return "EINVAL";
	case EBADF: return "EBADF";
	case ENXIO: return "ENXIO";
	case EACCES: return "EACCES";
	case ENOSYS: return "ENOSYS";
	}
	return "OTHER";
}

/* One TIOCSTI per byte, as the kernel takes them; stops at the first error. */
static void inject(const char *name, int fd, unsigned long req, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (syscall(SYS_ioctl, fd, req, p) < 0) {
			printf("%s %s\n", name, errname(errno));
			return;
		}
	}
	printf("%s OK\n", name);
}

int main(int argc, char **argv)
{
	const char *text = argc > 1 ? argv[1] : "echo INJECTED\n";
	char sel = 3;	/* TIOCL_PASTESEL */
	int tty = open("/dev/tty", O_RDWR | O_NOCTTY);

	printf("session leader %s\n", getsid(0) == getpid() ? "yes" : "no");
	printf("ctty %s\n", tty >= 0 ? "yes" : "no");
	inject("tiocsti.stdin", 0, TIOCSTI, text);
	inject("tiocsti.stdout", 1, TIOCSTI, text);
	inject("tiocsti.stderr", 2, TIOCSTI, text);
	inject("tiocsti.dev_tty", tty, TIOCSTI, text);
	/* the kernel reads the request as an unsigned int */
	inject("tiocsti.high_bits", 0, (unsigned long)TIOCSTI | (1ul << 32), text);
	if (syscall(SYS_ioctl, 0, (unsigned long)TIOCLINUX, &sel) < 0)
		printf("tioclinux.stdin %s\n", errname(errno));
	else
		printf("tioclinux.stdin OK\n");
	fflush(stdout);
	return 0;
}
