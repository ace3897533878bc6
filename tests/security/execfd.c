// SPDX-License-Identifier: MIT
/*
 * execfd: tries every way of executing a program that has no path Landlock
 * sees, and of running one through the ELF interpreter (ld.so FILE), which
 * Landlock cannot refuse to execute (docs/security.md, "What an exec list
 * promises"), and prints one line per form:
 *
 *   FORM ok                   the payload ran: the exec list was bypassed
 *   FORM ERRNO STEP           refused: STEP (memfd_create, exec, ...) failed
 *   FORM KILLED SIGNAL        the exec was stopped by killing the process
 *   FORM EXIT N               the exec'd program exited N without running the
 *                             payload (ld.so: 127 when it cannot map FILE)
 *   FORM SKIP why             the form cannot be tried here
 *
 * Usage:
 *   execfd attack DIR [KEY=VALUE...] [FORM...]
 *                                 DIR: a writable directory outside the exec
 *                                 list (for O_TMPFILE and written files);
 *                                 KEY=VALUE: environment (see below)
 *   execfd payload FORM           what a successful exec runs: "FORM ok"
 *   execfd serve SOCKET           outside the sandbox: on each connection,
 *                                 send a memfd holding a copy of this program
 *                                 (SCM_RIGHTS); prints "holder PID FD" (a memfd
 *                                 it keeps open) once listening
 *   execfd stdin-memfd CMD...     run CMD with a memfd copy of this program as
 *                                 its stdin (an inherited fd)
 * Environment (or KEY=VALUE arguments) for attack: EXECFD_SOCK (serve's socket), EXECFD_HOLDER
 * ("PID FD" of serve's memfd). Without them those forms print SKIP.
 * EXECFD_LOADER: the ELF interpreter of the ldso.* forms (default: this
 * arch's glibc one); EXECFD_UNLISTED: the program ldso.unlisted_program
 * runs through it (default /usr/bin/echo).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef SYS_memfd_secret
#define SYS_memfd_secret 447
#endif

static const char *dir;		/* writable, not executable */
static char self[4096];		/* this program's path */

/* A failed step: "FORM ERRNO STEP". */
struct fail {
	int err;
	const char *step;
};

#define FAIL(s) ((struct fail){ errno, (s) })
#define OK ((struct fail){ 0, NULL })

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && write(STDOUT_FILENO, buf, n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1) < 0)
		_exit(3);
}

/* Copies this program into fd and rewinds; sets errno on failure. */
static int fill(int fd)
{
	int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	struct stat st;
	off_t off = 0;

	if (src < 0 || fstat(src, &st) < 0)
		return -1;
	while (off < st.st_size)
		if (sendfile(fd, src, &off, st.st_size - off) <= 0)
			return -1;
	close(src);
	return lseek(fd, 0, SEEK_SET) < 0 ? -1 : 0;
}

static int make_memfd(unsigned flags)
{
	int fd = memfd_create("execfd", flags);

	if (fd >= 0 && fill(fd) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The exec itself; returns only on failure. */
static struct fail run_path(const char *form, const char *path)
{
	char *argv[] = { "execfd", "payload", (char *)form, NULL };

	execve(path, argv, environ);
	return FAIL("exec");
}

static struct fail run_fd(const char *form, int fd)
{
	char *argv[] = { "execfd", "payload", (char *)form, NULL };

	syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
	return FAIL("execveat");
}

static struct fail run_proc_fd(const char *form, const char *fmt, long a, int fd)
{
	char path[64];

	snprintf(path, sizeof(path), fmt, a, fd);
	return run_path(form, path);
}

/* ---- the forms ---------------------------------------------------------------- */

static struct fail memfd_then(const char *form, unsigned flags, int how)
{
	char path[64];
	int fd = make_memfd(flags);

	if (fd < 0)
		return FAIL("memfd_create");
	switch (how) {
	case 0: return run_proc_fd(form, "/proc/self/fd/%.0ld%d", 0, fd);
	case 1: return run_fd(form, fd);
	case 2: return run_proc_fd(form, "/proc/%ld/fd/%d", (long)getpid(), fd);
	case 3:
		if (access("/dev/fd", F_OK) < 0)
			return (struct fail){ -1, "no /dev/fd here" };
		return run_proc_fd(form, "/dev/fd/%.0ld%d", 0, fd);
	case 4: {
		char *argv[] = { "execfd", "payload", (char *)form, NULL };

		fexecve(fd, argv, environ);
		return FAIL("fexecve");
	}
	case 5: {
		char *argv[] = { "execfd", "payload", (char *)form, NULL };

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		syscall(SYS_execveat, AT_FDCWD, path, argv, environ, 0);
		return FAIL("execveat");
	}
	default: {	/* a symlink to the magic link, in a writable directory */
		char link[4096];

		snprintf(path, sizeof(path), "/proc/%d/fd/%d", getpid(), fd);
		snprintf(link, sizeof(link), "%s/execfd-link.%d", dir, getpid());
		unlink(link);
		if (symlink(path, link) < 0)
			return FAIL("symlink");
		struct fail f = run_path(form, link);

		unlink(link);
		return f;
	}
	}
}

static int reopen_ro(int fd)
{
	char path[64];
	int ro;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY);
	close(fd);
	return ro;
}

/* Unlinked files live in the hierarchy: Landlock judges their directory. */
static struct fail tmpfile_then(const char *form, bool fd_exec)
{
	int fd = open(dir, O_TMPFILE | O_RDWR, 0755);

	if (fd < 0)
		return FAIL("open(O_TMPFILE)");
	if (fill(fd) < 0)
		return FAIL("write");
	fd = reopen_ro(fd);	/* exec refuses files open for writing */
	if (fd < 0)
		return FAIL("reopen");
	return fd_exec ? run_fd(form, fd) : run_proc_fd(form, "/proc/self/fd/%.0ld%d", 0, fd);
}

static struct fail written_then(const char *form, int how)
{
	char path[4096];
	int fd, dfd;

	snprintf(path, sizeof(path), "%s/execfd-copy.%d", dir, getpid());
	unlink(path);	/* an earlier sandbox's, maybe of another uid: pids repeat */
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0755);
	if (fd < 0)
		return FAIL("create");
	if (fill(fd) < 0)
		return FAIL("write");
	close(fd);
	fd = open(path, O_RDONLY);
	switch (how) {
	case 0:
		return run_path(form, path);
	case 1:	/* unlinked, still open */
		unlink(path);
		return run_proc_fd(form, "/proc/self/fd/%.0ld%d", 0, fd);
	case 2:	/* execveat on a directory fd and a relative path */
		dfd = open(dir, O_PATH | O_DIRECTORY);
		if (dfd < 0)
			return FAIL("open(dir)");
		{
			char *argv[] = { "execfd", "payload", (char *)form, NULL };

			syscall(SYS_execveat, dfd, strrchr(path, '/') + 1, argv, environ, 0);
		}
		return FAIL("execveat");
	default: {	/* O_PATH descriptor */
		int p = open(path, O_PATH);

		return p < 0 ? FAIL("open(O_PATH)") : run_fd(form, p);
	}
	}
}

#if defined(__x86_64__)
#define LOADER "/lib64/ld-linux-x86-64.so.2"
#elif defined(__aarch64__)
#define LOADER "/lib/ld-linux-aarch64.so.1"
#else
#define LOADER NULL
#endif

/* Writes a copy of src (mode 0755) at dst. */
static int copy_file(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out;
	struct stat st;
	off_t off = 0;

	if (in < 0 || fstat(in, &st) < 0)
		return -1;
	unlink(dst);	/* an earlier sandbox's, maybe of another uid: pids repeat */
	out = open(dst, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0755);
	if (out < 0)
		return -1;
	while (off < st.st_size)
		if (sendfile(out, in, &off, st.st_size - off) <= 0)
			return -1;
	close(in);
	return close(out);
}

/*
 * The ELF interpreter run as a program maps the file it is given and runs it
 * (userland exec): ld.so FILE. how: 0 a file written here, 1 an unlisted
 * program of the host ($EXECFD_UNLISTED, default /usr/bin/echo, which prints
 * "FORM ok"), 2 this (listed) program, 3 the interpreter through
 * /proc/self/fd/N, 4 through a symlink, 5 a hard link to it, 6 a copy of it.
 * The interpreter is $EXECFD_LOADER, default this arch's glibc one.
 */
static struct fail ldso_then(const char *form, int how)
{
	const char *ld = getenv("EXECFD_LOADER") ?: LOADER;
	const char *unlisted = getenv("EXECFD_UNLISTED") ?: "/usr/bin/echo";
	char file[4096], alias[4096], fdpath[64];
	char *argv[] = { "ld.so", file, "payload", (char *)form, NULL };
	int fd;

	if (!ld)
		return (struct fail){ -1, "no known ELF interpreter on this arch" };
	snprintf(file, sizeof(file), "%s/execfd-copy.%d", dir, getpid());
	snprintf(alias, sizeof(alias), "%s/execfd-ld.%d", dir, getpid());
	if (copy_file(self, file) < 0)
		return FAIL("create");
	switch (how) {
	case 1:
		snprintf(file, sizeof(file), "%s", unlisted);
		argv[2] = (char *)form;
		argv[3] = "ok";
		break;
	case 2:
		snprintf(file, sizeof(file), "%s", self);
		break;
	case 3:
		fd = open(ld, O_RDONLY);
		if (fd < 0)
			return FAIL("open(ld.so)");
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
		ld = fdpath;
		break;
	case 4:
		if (symlink(ld, alias) < 0)
			return FAIL("symlink");
		ld = alias;
		break;
	case 5:
		if (link(ld, alias) < 0)
			return FAIL("link");
		ld = alias;
		break;
	case 6:
		if (copy_file(ld, alias) < 0)
			return FAIL("copy(ld.so)");
		ld = alias;
		break;
	}
	execve(ld, argv, environ);
	return FAIL("exec(ld.so)");
}

/* Shared memory without a name: reachable through /proc/self/map_files. */
static struct fail map_files_then(const char *form, bool sysv)
{
	struct stat st;
	char path[128];
	void *p;

	if (stat("/proc/self/exe", &st) < 0)
		return FAIL("stat");
	if (sysv) {
		int id = shmget(IPC_PRIVATE, st.st_size, IPC_CREAT | 0700);

		if (id < 0)
			return FAIL("shmget");
		p = shmat(id, NULL, 0);
		shmctl(id, IPC_RMID, NULL);
		if (p == (void *)-1)
			return FAIL("shmat");
	} else {
		p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return FAIL("mmap");
	}
	{
		int src = open("/proc/self/exe", O_RDONLY);

		if (src < 0 || read(src, p, st.st_size) != st.st_size)
			return FAIL("read");
	}
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)p,
		 (unsigned long)p + ((st.st_size + 4095) & ~4095UL));
	return run_path(form, path);
}

static struct fail secret_then(const char *form)
{
	int fd = syscall(SYS_memfd_secret, 0);

	if (fd < 0)
		return FAIL("memfd_secret");
	if (ftruncate(fd, 1 << 20) < 0)
		return FAIL("ftruncate");
	return run_proc_fd(form, "/proc/self/fd/%.0ld%d", 0, fd);
}

static int recv_fd(const char *sock)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec io = { &c, 1 };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int s = socket(AF_UNIX, SOCK_STREAM, 0), fd;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 || recvmsg(s, &m, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS) {
		errno = EBADMSG;
		return -1;
	}
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

static struct fail received_then(const char *form, bool fd_exec)
{
	const char *sock = getenv("EXECFD_SOCK");
	int fd;

	if (!sock)
		return (struct fail){ -1, "EXECFD_SOCK is not set" };
	fd = recv_fd(sock);
	if (fd < 0)
		return FAIL("recvmsg");
	return fd_exec ? run_fd(form, fd) : run_proc_fd(form, "/proc/self/fd/%.0ld%d", 0, fd);
}

static struct fail holder_then(const char *form)
{
	const char *h = getenv("EXECFD_HOLDER");
	long pid;
	int fd;

	if (!h || sscanf(h, "%ld %d", &pid, &fd) != 2)
		return (struct fail){ -1, "EXECFD_HOLDER is not set" };
	return run_proc_fd(form, "/proc/%ld/fd/%d", pid, fd);
}

static struct fail stdin_then(const char *form)
{
	if (syscall(SYS_fcntl, 0, F_GET_SEALS) < 0)
		return (struct fail){ -1, "stdin is not a memfd" };
	return run_path(form, "/proc/self/fd/0");
}

struct form {
	const char *name;
	struct fail (*fn)(const char *form, long arg);
	long arg;
};

static struct fail f_memfd(const char *n, long how) { return memfd_then(n, 0, (int)how); }
static struct fail f_memfd_exec(const char *n, long how) { return memfd_then(n, MFD_EXEC, (int)how); }
static struct fail f_memfd_sealed(const char *n, long how) { return memfd_then(n, MFD_NOEXEC_SEAL, (int)how); }
static struct fail f_tmpfile(const char *n, long fd_exec) { return tmpfile_then(n, fd_exec); }
static struct fail f_written(const char *n, long how) { return written_then(n, (int)how); }
static struct fail f_map_files(const char *n, long sysv) { return map_files_then(n, sysv); }
static struct fail f_secret(const char *n, long a) { return secret_then(n); }
static struct fail f_received(const char *n, long fd_exec) { return received_then(n, fd_exec); }
static struct fail f_holder(const char *n, long a) { return holder_then(n); }
static struct fail f_stdin(const char *n, long a) { return stdin_then(n); }
static struct fail f_allowed(const char *n, long a) { return run_path(n, self); }
static struct fail f_ldso(const char *n, long how) { return ldso_then(n, (int)how); }

static const struct form forms[] = {
	{ "allowed.execve", f_allowed, 0 },
	{ "memfd.execve_proc_self_fd", f_memfd, 0 },
	{ "memfd.execveat_empty_path", f_memfd, 1 },
	{ "memfd.execve_proc_pid_fd", f_memfd, 2 },
	{ "memfd.execve_dev_fd", f_memfd, 3 },
	{ "memfd.fexecve", f_memfd, 4 },
	{ "memfd.execveat_proc_path", f_memfd, 5 },
	{ "memfd.execve_symlink", f_memfd, 6 },
	{ "memfd_exec_flag.execve_proc_self_fd", f_memfd_exec, 0 },
	{ "memfd_noexec_seal.execve_proc_self_fd", f_memfd_sealed, 0 },
	{ "memfd_secret.execve_proc_self_fd", f_secret, 0 },
	{ "tmpfile.execve_proc_self_fd", f_tmpfile, 0 },
	{ "tmpfile.execveat_empty_path", f_tmpfile, 1 },
	{ "written.execve", f_written, 0 },
	{ "unlinked.execve_proc_self_fd", f_written, 1 },
	{ "written.execveat_dirfd_relative", f_written, 2 },
	{ "written.execveat_opath_empty_path", f_written, 3 },
	{ "shared_anon.execve_map_files", f_map_files, 0 },
	{ "sysv_shm.execve_map_files", f_map_files, 1 },
	{ "received.execve_proc_self_fd", f_received, 0 },
	{ "received.execveat_empty_path", f_received, 1 },
	{ "other_process.execve_proc_pid_fd", f_holder, 0 },
	{ "inherited_stdin.execve_proc_self_fd", f_stdin, 0 },
	{ "ldso.userland_exec", f_ldso, 0 },
	{ "ldso.unlisted_program", f_ldso, 1 },
	{ "ldso.listed_program", f_ldso, 2 },
	{ "ldso.proc_self_fd", f_ldso, 3 },
	{ "ldso.symlink", f_ldso, 4 },
	{ "ldso.hard_link", f_ldso, 5 },
	{ "ldso.copy", f_ldso, 6 },
};

static void attack(const struct form *f)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		say("%s SKIP fork: %s\n", f->name, strerror(errno));
		return;
	}
	if (pid == 0) {
		struct fail r = f->fn(f->name, f->arg);

		if (r.err < 0)
			say("%s SKIP %s\n", f->name, r.step);
		else
			say("%s %s %s\n", f->name, strerrorname_np(r.err) ?: "?", r.step);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return;
	if (WIFSIGNALED(status))
		say("%s KILLED %s\n", f->name, sigabbrev_np(WTERMSIG(status)) ?: "?");
	else if (WEXITSTATUS(status) != 0)
		say("%s EXIT %d\n", f->name, WEXITSTATUS(status));
}

static int attack_main(int argc, char **argv)
{
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0)
		return 2;
	self[n] = 0;
	dir = argv[2];
	/* KEY=VALUE arguments: providers scrub the environment */
	while (argc > 3 && strchr(argv[3], '=')) {
		putenv(argv[3]);
		argv++;
		argc--;
	}
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		bool want = argc == 3;

		for (int j = 3; j < argc && !want; j++)
			want = !strcmp(argv[j], forms[i].name);
		if (want)
			attack(&forms[i]);
	}
	return 0;
}

/* ---- the helpers outside the sandbox ----------------------------------------- */

static int send_fd(int s, int fd)
{
	char c = 'x', cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec io = { &c, 1 };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	return sendmsg(s, &m, 0) == 1 ? 0 : -1;
}

static int serve_main(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0), held = make_memfd(0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	if (s < 0 || held < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    chmod(path, 0777) < 0 || listen(s, 16) < 0) {
		perror("execfd serve");
		return 1;
	}
	printf("holder %d %d\n", getpid(), held);
	fflush(stdout);
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c < 0)
			continue;
		if (send_fd(c, held) < 0)
			perror("execfd serve: sendmsg");
		close(c);
	}
}

static int stdin_memfd_main(char **argv)
{
	int fd = make_memfd(0);

	if (fd < 0 || dup2(fd, 0) < 0) {
		perror("execfd stdin-memfd");
		return 1;
	}
	execvp(argv[0], argv);
	perror(argv[0]);
	return 127;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "payload")) {
		say("%s ok\n", argv[2]);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "attack"))
		return attack_main(argc, argv);
	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve_main(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "stdin-memfd"))
		return stdin_memfd_main(argv + 2);
	fprintf(stderr, "usage: execfd attack DIR [KEY=VALUE...] [FORM...] | payload FORM | serve SOCKET | "
		"stdin-memfd CMD...\n");
	return 2;
}
