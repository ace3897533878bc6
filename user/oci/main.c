// SPDX-License-Identifier: MIT
/*
 * sbx-oci: sbx as an OCI runtime, with runc's command line (docs/oci.md,
 * docs/man/sbx-oci.8). The global flags, the verbs (create, start, run,
 * state, kill, delete, exec, pause, resume, ps, list, features), the
 * container's init between clone3 and its exec, and the logging that
 * callers read back (--log, --log-format json as runc's logrus lines).
 *
 * create, in steps (runtime side | container side):
 *   re-exec from a sealed memfd copy of ourselves; mkdir ROOT/ID; load the
 *   spec; oci_enforce_begin (the cgroup); mkfifo exec.fifo; clone3 into the
 *   cgroup with the new namespaces    | wait for the id maps
 *   write uid_map/gid_map, 'M'        | setns the joined ones (user first),
 *                                     | unshare/fork as needed, 'P' pid
 *   oci_enforce_done (before the init | wait for 'H'
 *   forks); state.json; prestart and  |
 *   createRuntime hooks; 'H' + state  | createContainer hooks, rootfs,
 *                                     | console; 'R'; block on exec.fifo
 *   pid-file; exit                    |
 *   start: reads exec.fifo            | startContainer hooks; exec
 * Any failure before 'R' comes back as 'E' + the sentence; the runtime then
 * kills the child, aborts the enforcement and removes ROOT/ID.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "../util/util.h"
#include "console.h"
#include "devcgroup.h"
#include "hooks.h"
#include "oci.h"
#include "oci/config.h"
#include "kernel/seccomp.h"
#include "state.h"

#ifndef SBX_OCI_VERSION
#define SBX_OCI_VERSION "0.1.0"
#endif
#ifndef SBX_OCI_COMMIT
#define SBX_OCI_COMMIT "unknown"
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE _IO(0xb7, 0x3)
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define SEALED_ENV "_SBX_OCI_SEALED"
#define MSG_MAX (256 * 1024)
#define WHY_LEN 2048

extern char **environ;

/* ---- global flags and logging ---------------------------------------------------- */

static struct {
	const char *root;
	const char *log;
	bool log_json;
	bool debug;
	bool systemd_cgroup;
} g = { .root = OCI_DEFAULT_ROOT };

static int log_fd = -1;

static void log_line(const char *level, const char *msg)
{
	char now[64];

	if (log_fd < 0)
		return;
	oci_now_rfc3339(now, sizeof(now));
	json_object *m = json_object_new_string(msg);
	const char *q = json_object_to_json_string_ext(m, JSON_C_TO_STRING_NOSLASHESCAPE);
	if (g.log_json)
		dprintf(log_fd, "{\"level\":\"%s\",\"msg\":%s,\"time\":\"%s\"}\n", level, q, now);
	else
		dprintf(log_fd, "time=\"%s\" level=%s msg=%s\n", now, level, q);
	json_object_put(m);
}

static void __attribute__((format(printf, 2, 3))) logf_(const char *level, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_line(level, buf);
	if (!strcmp(level, "error"))
		fprintf(stderr, "sbx-oci: error: %s\n", buf);
	else if (!strcmp(level, "warning") && log_fd < 0)
		/* with --log, only there: the caller's stderr is the container's */
		fprintf(stderr, "sbx-oci: warning: %s\n", buf);
	else if (g.debug && log_fd < 0)
		fprintf(stderr, "sbx-oci: %s: %s\n", level, buf);
}

#define err(...) err_(__VA_ARGS__)
/* Says the error (stderr, --log) and returns 1, the exit status. */
static int __attribute__((format(printf, 1, 2))) err_(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	logf_("error", "%s", buf);
	return 1;
}

#define warn(...) logf_("warning", __VA_ARGS__)
#define debug(...) \
	do { \
		if (g.debug) \
			logf_("debug", __VA_ARGS__); \
	} while (0)

/* ---- options ---------------------------------------------------------------------- */

enum opt_kind { OPT_FLAG, OPT_STR, OPT_LIST, OPT_IGNORE_ARG, OPT_IGNORE };

struct opt {
	const char *name;
	char short_name;
	enum opt_kind kind;
	void *dst;			/* bool*, const char**, or struct strlist* */
};

struct strlist {
	const char *v[64];
	size_t n;
};

/* Parses the options before the first operand ("--" ends them too), in
 * runc's forms: --name, -name, --name=value, --name value, -n value.
 * Returns the index of the first operand, -1 on error, -2 for --help. */
static int parse_opts(int argc, char **argv, int start, const struct opt *opts, const char *verb)
{
	int i = start;

	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--"))
			return i + 1;
		if (a[0] != '-' || !a[1])
			return i;
		const char *name = a + 1 + (a[1] == '-');
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		if ((nlen == 4 && !strncmp(name, "help", 4)) || (nlen == 1 && name[0] == 'h'))
			return -2;
		const struct opt *o = NULL;
		for (const struct opt *p = opts; p->name; p++)
			if ((strlen(p->name) == nlen && !strncmp(p->name, name, nlen)) ||
			    (nlen == 1 && p->short_name && p->short_name == name[0] && a[1] != '-')) {
				o = p;
				break;
			}
		if (!o) {
			err("%s: unknown option %s (see sbx-oci %s --help)", verb, a, verb);
			return -1;
		}
		const char *val = NULL;
		if (o->kind == OPT_FLAG || o->kind == OPT_IGNORE) {
			if (eq && o->kind == OPT_FLAG)
				*(bool *)o->dst = strcmp(eq + 1, "false") && strcmp(eq + 1, "0");
			else if (o->kind == OPT_FLAG)
				*(bool *)o->dst = true;
			continue;
		}
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			err("%s: option %s needs a value", verb, a);
			return -1;
		}
		if (o->kind == OPT_STR)
			*(const char **)o->dst = val;
		else if (o->kind == OPT_LIST) {
			struct strlist *l = o->dst;
			if (l->n == sizeof(l->v) / sizeof(l->v[0])) {
				err("%s: too many %s options", verb, a);
				return -1;
			}
			l->v[l->n++] = val;
		}
	}
	return i;
}

/* ---- small helpers ---------------------------------------------------------------- */

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

/* A pidfd of the container's init, or -ESRCH when it is gone or the pid was
 * reused (the start time differs). */
static int init_pidfd(const struct oci_state *st)
{
	if (st->pid <= 0)
		return -ESRCH;
	int fd = pidfd_open_(st->pid);
	if (fd < 0)
		return -errno;
	if (!oci_state_alive(st)) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

static bool wait_pidfd(int pidfd, int ms)
{
	struct pollfd p = { pidfd, POLLIN, 0 };

	return poll(&p, 1, ms) == 1;
}

static int write_pid_file(const char *path, pid_t pid, char *why, size_t len)
{
	char buf[32], abs[PATH_MAX];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);

	if (path[0] != '/') {
		if (!getcwd(abs, sizeof(abs) - strlen(path) - 2))
			return sbx_fail(why, len, -errno, "--pid-file: getcwd: %s", strerror(errno));
		strcat(abs, "/");
		strcat(abs, path);
		path = abs;
	}
	return oci_write_atomic(path, buf, (size_t)n, why, len);
}

/* The container's cgroup.procs, as pids; *ret heap. */
static int cgroup_pids(const char *cgroup, pid_t **ret, size_t *ret_n)
{
	char path[PATH_MAX + 16];
	_cleanup_free_ char *data = NULL;
	size_t n, k = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!cgroup[0])
		return 0;
	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
	int r = sbx_read_file(path, &data, &n, 16 << 20);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	pid_t *v = calloc(n / 2 + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (char *p = data; *p;) {
		char *end;
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0)
			v[k++] = (pid_t)pid;
		p = end + (*end == '\n');
	}
	*ret = v;
	*ret_n = k;
	return 0;
}

/* Signals every process of the container's cgroup; SIGKILL through
 * cgroup.kill where the kernel has it. */
static int signal_all(const struct oci_state *st, int sig)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n;
	char path[PATH_MAX + 16];

	if (!st->cgroup[0])
		return -ENOENT;
	if (sig == SIGKILL) {
		snprintf(path, sizeof(path), "%s/cgroup.kill", st->cgroup);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			bool ok = write(fd, "1", 1) == 1;
			close(fd);
			if (ok)
				return 0;
		}
	}
	int r = cgroup_pids(st->cgroup, &pids, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (pids[i] != getpid())
			kill(pids[i], sig);
	return 0;
}

/* Waits (bounded) until the cgroup has no process left. */
static bool cgroup_wait_empty(const char *cgroup, int ms)
{
	for (int t = 0; t <= ms; t += 10) {
		_cleanup_free_ pid_t *pids = NULL;
		size_t n;
		if (cgroup_pids(cgroup, &pids, &n) < 0 || n == 0)
			return true;
		usleep(10000);
	}
	return false;
}

/* ---- the CVE-2019-5736 guard ---------------------------------------------------------- */

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* Before anything enters a container: run from a sealed, anonymous copy of
 * this binary, so that a container process that opens /proc/PID/exe of this
 * process finds a file that no one can write, not the host's sbx-oci. */
static int reexec_sealed(char **argv)
{
	_cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (self < 0)
		return -errno;
	int seals = fcntl(self, F_GET_SEALS);
	if (seals >= 0 && (seals & SEALS) == SEALS) {
		unsetenv(SEALED_ENV);
		return 0;
	}
	if (getenv(SEALED_ENV))
		return -ELOOP;	/* re-exec'd, yet not from a sealed copy */
	if (fstat(self, &st) < 0)
		return -errno;
	_cleanup_close_ int mfd = memfd_create("sbx-oci", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return -errno;
	for (off_t done = 0; done < st.st_size;) {
		ssize_t n = sendfile(mfd, self, NULL, (size_t)(st.st_size - done));
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += n;
	}
	if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
		return -errno;
	if (setenv(SEALED_ENV, "1", 1) < 0)
		return -errno;
	fexecve(mfd, argv, environ);
	return -errno;
}

/* ---- create ------------------------------------------------------------------------- */

struct create_opts {
	const char *bundle, *console_socket, *pid_file, *preserve_fds_s;
	bool no_pivot, no_new_keyring;
	int preserve_fds;
};

/* What the init needs: inherited across clone3 (a copy of the memory). */
struct init_ctx {
	const struct oci_spec *spec;
	const struct create_opts *o;
	int sync;			/* the init's end of the socketpair */
	int console;			/* the console socket, or -1 */
	int fifo;			/* O_PATH exec.fifo */
	int ns_fd[8];			/* joined namespaces, in join order; -1 */
	int ns_type[8];
	size_t n_ns;
	bool user_joined, new_user;
	int unshare_flags;		/* new namespaces made after a joined user ns */
	bool need_fork;
	const struct sock_fprog *sbx_filter;	/* sbx's family filter; NULL: none */
};

static int send_msg(int fd, char type, const char *payload, size_t n)
{
	_cleanup_free_ char *buf = malloc(n + 1);

	if (!buf)
		return -ENOMEM;
	buf[0] = type;
	memcpy(buf + 1, payload, n);
	while (send(fd, buf, n + 1, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* A message into buf (MSG_MAX), NUL-terminated; the type, 0 at EOF, -errno. */
static int recv_msg(int fd, char *buf, size_t *ret_n)
{
	ssize_t n;

	do
		n = recv(fd, buf, MSG_MAX - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	buf[n] = '\0';
	if (ret_n)
		*ret_n = (size_t)n - 1;
	return (unsigned char)buf[0];
}

static void __attribute__((noreturn)) init_fail(struct init_ctx *c, const char *why)
{
	send_msg(c->sync, 'E', why, strlen(why));
	_exit(1);
}

/* The order runc joins namespaces in: user first (it grants the rights to
 * join the others), mnt late (it changes the root). */
static const int join_order[] = { CLONE_NEWUSER, CLONE_NEWIPC,    CLONE_NEWUTS,
				  CLONE_NEWNET,  CLONE_NEWPID,    CLONE_NEWNS,
				  CLONE_NEWCGROUP, CLONE_NEWTIME };

static const char *ns_name(int type)
{
	switch (type) {
	case CLONE_NEWUSER: return "user";
	case CLONE_NEWIPC: return "ipc";
	case CLONE_NEWUTS: return "uts";
	case CLONE_NEWNET: return "network";
	case CLONE_NEWPID: return "pid";
	case CLONE_NEWNS: return "mount";
	case CLONE_NEWCGROUP: return "cgroup";
	case CLONE_NEWTIME: return "time";
	}
	return "?";
}

static const char *ns_proc_name(int type)
{
	switch (type) {
	case CLONE_NEWUSER: return "user";
	case CLONE_NEWIPC: return "ipc";
	case CLONE_NEWUTS: return "uts";
	case CLONE_NEWNET: return "net";
	case CLONE_NEWPID: return "pid";
	case CLONE_NEWNS: return "mnt";
	case CLONE_NEWCGROUP: return "cgroup";
	case CLONE_NEWTIME: return "time";
	}
	return "?";
}

/* setns into the joined namespaces, in join order. */
static int join_all(const int *fds, const int *types, size_t n, char *why, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (setns(fds[i], types[i]) < 0)
			return sbx_fail(why, len, -errno, "join the %s namespace: %s", ns_name(types[i]),
					strerror(errno));
	return 0;
}

/* As runc, create fails when the process's program is not there: args[0]
 * found (a path, or through PATH of process.env) and executable, seen from
 * the container's root and process.cwd. */
static int exec_precheck(const struct oci_process *p, char *why, size_t len)
{
	const char *a0 = p->args[0], *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	char buf[PATH_MAX];

	if (strchr(a0, '/')) {
		if (a0[0] != '/' && p->cwd)
			snprintf(buf, sizeof(buf), "%s/%s", p->cwd, a0);
		else
			snprintf(buf, sizeof(buf), "%s", a0);
		if (access(buf, X_OK) < 0)
			return sbx_fail(why, len, -errno, "exec: \"%s\": %s", a0, strerror(errno));
		return 0;
	}
	for (char **e = p->env; e && *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	for (const char *d = path; *d;) {
		size_t n = strcspn(d, ":");
		struct stat st;
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? d : ".", a0);
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
			return 0;
		d += n + (d[n] == ':');
	}
	return sbx_fail(why, len, -ENOENT, "exec: \"%s\": executable file not found in $PATH", a0);
}

/* The init's namespaces: the id maps (the runtime writes them), the joined
 * ones, those made after a joined user namespace; then the fork into a pid
 * namespace where one is needed (the intermediate reports the init's pid
 * and exits). Says 'P'. */
static int init_namespaces(struct init_ctx *c, char *buf, char *why, size_t len)
{
	char pidbuf[32];

	if (c->new_user) {
		if (recv_msg(c->sync, buf, NULL) != 'M')
			_exit(1);
		/* root of the new user namespace, where 0 is mapped */
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			debug("init: setresuid(0) in the user namespace: %s", strerror(errno));
	}
	if (join_all(c->ns_fd, c->ns_type, c->n_ns, why, len) < 0)
		return -1;
	/* the host's root is not mapped in a joined user namespace: become
	 * its root, as runc, or every mount and file made there fails
	 * (EOVERFLOW) */
	if (c->user_joined && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return sbx_fail(why, len, -errno, "become root of the joined user namespace: %s",
				strerror(errno));
	if (c->user_joined && c->unshare_flags && unshare(c->unshare_flags) < 0)
		return sbx_fail(why, len, -errno,
				"unshare the new namespaces in the joined user namespace: %s", strerror(errno));
	if (!c->need_fork)
		return send_msg(c->sync, 'P', "0", 1);
	/* a joined or unshared pid namespace holds our children only */
	pid_t p = fork();
	if (p < 0)
		return sbx_fail(why, len, -errno, "fork into the pid namespace: %s", strerror(errno));
	if (p > 0) {
		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)p);
		send_msg(c->sync, 'P', pidbuf, strlen(pidbuf));
		_exit(0);
	}
	/* no PDEATHSIG here: our parent, the intermediate, exits now */
	return 0;
}

/* createContainer hooks, the root file system, the console, the checks
 * that runc makes before it reports the container created. */
static int init_prepare(struct init_ctx *c, const char *state_json, const char *fifo_path, char *why,
			size_t len)
{
	const struct oci_process *p = &c->spec->process;
	int r;

	if (c->console < 0 && setsid() < 0 && errno != EPERM)
		return sbx_fail(why, len, -errno, "setsid: %s", strerror(errno));
	/* sbx's family filter before anything of the container's runs: the
	 * createContainer and startContainer hooks are forks of the init (the
	 * process itself gets no second copy: init_run) */
	if (c->sbx_filter && (r = oci_sbx_filter_install(c->sbx_filter, why, len)) < 0)
		return r;
	r = oci_hooks_run(c->spec, OCI_HOOK_CREATE_CONTAINER, state_json, why, len);
	if (r == 0)
		r = oci_rootfs_setup(c->spec, c->o->no_pivot, why, len);
	if (r == 0 && c->console >= 0) {
		r = oci_console_setup(c->console, p->console_height, p->console_width, why, len);
		close(c->console);
	}
	if (r == 0)
		r = exec_precheck(p, why, len);
	if (r < 0)
		return r;
	int probe = open(fifo_path, O_PATH | O_CLOEXEC);
	if (probe < 0)
		return sbx_fail(why, len, -errno,
				"the container cannot reach its exec.fifo through %s (no /proc mount?): %s",
				fifo_path, strerror(errno));
	close(probe);
	return 0;
}

/* After 'R': waits for `start`, then startContainer hooks and the exec.
 * The sync socket is closed: errors go to the container's stderr. */
struct start_hooks {
	const struct oci_spec *spec;
	const char *state_json;
};

/* oci_process_exec's before_exec for the init: a failing hook fails it
 * (exit status 1, as before the exec) */
static int start_hooks_run(void *ctx, char *why, size_t len)
{
	const struct start_hooks *h = ctx;

	return oci_hooks_run(h->spec, OCI_HOOK_START_CONTAINER, h->state_json, why, len);
}

static void __attribute__((noreturn)) init_run(struct init_ctx *c, const char *state_json,
					       const char *fifo_path)
{
	char why[WHY_LEN];
	int exec_errno = 0;

	/* blocks until `start` opens exec.fifo for reading */
	int w = open(fifo_path, O_WRONLY | O_CLOEXEC);
	struct stat ws, fs;
	/* fifo_path goes through /proc/self/fd: without a proc mount in the
	 * container it is a path of the image; only the fifo itself counts */
	if (w >= 0 && (fstat(w, &ws) < 0 || fstat(c->fifo, &fs) < 0 || ws.st_dev != fs.st_dev ||
		       ws.st_ino != fs.st_ino)) {
		fprintf(stderr, "sbx-oci: error: init: %s is not exec.fifo (no /proc in the container?)\n",
			fifo_path);
		_exit(1);
	}
	if (w < 0 || write(w, "0", 1) != 1) {
		fprintf(stderr, "sbx-oci: error: init: exec.fifo: %s\n", strerror(errno));
		_exit(1);
	}
	/* w stays open, close-on-exec: its end tells `start` that the exec
	 * happened (or that the init died), so poststart runs after it */
	close(c->fifo);
	syscall(SYS_close_range, 3U + (unsigned)c->o->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
	/* sbx's filter is in place since init_prepare; the startContainer
	 * hooks run once the process has its identity and capabilities */
	struct start_hooks h = { .spec = c->spec, .state_json = state_json };
	oci_process_exec(&c->spec->process, c->spec->seccomp, NULL, start_hooks_run, &h, why, sizeof(why),
			 &exec_errno);
	fprintf(stderr, "sbx-oci: error: %s\n", why);
	_exit(exec_errno == ENOENT ? 127 : exec_errno ? 126 : 1);
}

static void __attribute__((noreturn)) init_main(struct init_ctx *c)
{
	char why[WHY_LEN], fifo_path[64];
	_cleanup_free_ char *buf = malloc(MSG_MAX);

	if (!buf)
		init_fail(c, "init: out of memory");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	why[0] = '\0';
	if (init_namespaces(c, buf, why, sizeof(why)) < 0)
		init_fail(c, why);
	if (recv_msg(c->sync, buf, NULL) != 'H')
		_exit(1);
	snprintf(fifo_path, sizeof(fifo_path), "/proc/self/fd/%d", c->fifo);
	if (init_prepare(c, buf + 1, fifo_path, why, sizeof(why)) < 0)
		init_fail(c, why);
	prctl(PR_SET_PDEATHSIG, 0);
	if (send_msg(c->sync, 'R', "", 0) < 0)
		_exit(1);	/* the creator is gone: no create to wait for start */
	close(c->sync);
	init_run(c, buf + 1, fifo_path);
}

struct create_run {
	struct create_opts *o;
	struct oci_spec spec;
	struct oci_state st;
	struct oci_enforce *enf;
	struct init_ctx ctx;
	struct sbx_seccomp sbx_sc;	/* sbx's family filter (ctx.sbx_filter) */
	int cgfd, sync, pidfd;
	pid_t child, init;
	unsigned clone_flags;
	bool enf_done;			/* the manager watches the init: it removes the sandbox */
};

/* Opens the namespaces to join (checking their type) and sorts out which
 * are new: made by clone3, or by unshare after a joined user namespace. */
static int create_namespaces(struct create_run *c, char *why, size_t len)
{
	struct init_ctx *x = &c->ctx;
	unsigned new_flags = 0;

	for (size_t k = 0; k < sizeof(join_order) / sizeof(join_order[0]); k++) {
		int type = join_order[k];
		const struct oci_namespace *ns = oci_namespace_of(&c->spec, type);
		if (!ns)
			continue;
		if (!ns->path) {
			new_flags |= (unsigned)type;
			continue;
		}
		int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return sbx_fail(why, len, -errno, "linux.namespaces: %s path %s: %s", ns_name(type),
					ns->path, strerror(errno));
		int t = ioctl(fd, NS_GET_NSTYPE);
		if (t != type) {
			close(fd);
			return sbx_fail(why, len, -EINVAL,
					"linux.namespaces: %s path %s is not a %s namespace", ns_name(type),
					ns->path, ns_name(type));
		}
		x->ns_fd[x->n_ns] = fd;
		x->ns_type[x->n_ns++] = type;
		if (type == CLONE_NEWUSER)
			x->user_joined = true;
		if (type == CLONE_NEWPID)
			x->need_fork = true;
	}
	x->new_user = new_flags & CLONE_NEWUSER;
	if (x->user_joined) {
		x->unshare_flags = (int)new_flags;
		x->need_fork |= (new_flags & CLONE_NEWPID) != 0;
	} else {
		c->clone_flags = new_flags;
	}
	return 0;
}

static int write_map(pid_t pid, const char *file, const struct oci_idmap *m, size_t n, char *why,
		     size_t len)
{
	char path[64], buf[4096];
	size_t k = 0;

	for (size_t i = 0; i < n && k < sizeof(buf) - 40; i++)
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, "%u %u %u\n", m[i].container_id,
				      m[i].host_id, m[i].size);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, k) != (ssize_t)k)
		return sbx_fail(why, len, -errno, "linux.%s: write %s: %s",
				!strcmp(file, "uid_map") ? "uidMappings" : "gidMappings", path,
				strerror(errno));
	return 0;
}

static int create_clone(struct create_run *c, char *why, size_t len)
{
	int sp[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return sbx_fail(why, len, -errno, "socketpair: %s", strerror(errno));
	c->sync = sp[0];
	c->ctx.sync = sp[1];
	struct clone_args ca = {
		.flags = CLONE_PIDFD | CLONE_INTO_CGROUP | c->clone_flags,
		.pidfd = (uint64_t)(uintptr_t)&c->pidfd,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)c->cgfd,
	};
	pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0) {
		int e = errno;
		close(sp[1]);
		return sbx_fail(why, len, -e, "clone3 into the container's cgroup with the new namespaces: %s",
				strerror(e));
	}
	if (pid == 0) {
		close(sp[0]);
		init_main(&c->ctx);
	}
	close(sp[1]);
	c->ctx.sync = -1;
	c->child = pid;
	debug("create %s: clone3 -> %d", c->st.id, (int)pid);
	if (c->ctx.new_user) {
		int r = write_map(pid, "uid_map", c->spec.uid_mappings, c->spec.n_uid_mappings, why, len);
		if (r == 0)
			r = write_map(pid, "gid_map", c->spec.gid_mappings, c->spec.n_gid_mappings, why,
				      len);
		if (r < 0)
			return r;
		send_msg(c->sync, 'M', "", 0);
	}
	return 0;
}

static int init_said(int t, const char *buf, char *why, size_t len)
{
	if (t == 'E')
		return sbx_fail(why, len, -EIO, "%s", buf + 1);
	return sbx_fail(why, len, -EIO, "the container's init died during create%s",
			t < 0 ? ": read error" : "");
}

/* The init's messages up to 'R'; the hooks of the runtime between. */
static int create_sync(struct create_run *c, char *why, size_t len)
{
	_cleanup_free_ char *buf = malloc(MSG_MAX);
	_cleanup_free_ char *sj = NULL;
	size_t n;
	int t, r;

	if (!buf)
		return sbx_fail(why, len, -ENOMEM, "out of memory");
	t = recv_msg(c->sync, buf, &n);
	if (t != 'P')
		return init_said(t, buf, why, len);
	pid_t p = (pid_t)atoi(buf + 1);
	c->init = p > 0 ? p : c->child;
	if (p > 0) {
		/* the intermediate process exits once it has forked the init */
		waitpid(c->child, NULL, 0);
		c->child = 0;
	}
	c->st.pid = c->init;
	if (oci_proc_stat(c->init, NULL, &c->st.start_time) < 0)
		return sbx_fail(why, len, -ESRCH, "the container's init (pid %d) died during create",
				(int)c->init);
	/* before the init forks anything (hooks): the manager moves it into
	 * the v1 cgroups of the limits, which only later children inherit */
	r = oci_enforce_done(c->enf, c->init, why, len);
	c->enf = NULL;
	c->enf_done = true;
	if (r < 0)
		return r;
	r = oci_state_write(&c->st, why, len);
	if (r < 0)
		return r;
	sj = oci_state_json(&c->st, "creating");
	if (!sj)
		return sbx_fail(why, len, -ENOMEM, "out of memory");
	r = oci_hooks_run(&c->spec, OCI_HOOK_PRESTART, sj, why, len);
	if (r == 0)
		r = oci_hooks_run(&c->spec, OCI_HOOK_CREATE_RUNTIME, sj, why, len);
	if (r < 0)
		return r;
	r = send_msg(c->sync, 'H', sj, strlen(sj));
	if (r < 0)
		return sbx_fail(why, len, r, "the container's init is gone: %s", strerror(-r));
	t = recv_msg(c->sync, buf, &n);
	return t == 'R' ? 0 : init_said(t, buf, why, len);
}

static void create_cleanup(struct create_run *c, bool failed)
{
	if (failed) {
		if (c->init > 0)
			kill(c->init, SIGKILL);
		if (c->child > 0) {
			kill(c->child, SIGKILL);
			waitpid(c->child, NULL, 0);
		}
		if (c->st.cgroup[0]) {
			signal_all(&c->st, SIGKILL);
			cgroup_wait_empty(c->st.cgroup, 2000);
		}
		if (c->enf)
			oci_enforce_abort(c->enf);
		if (c->enf_done) {
			char why[WHY_LEN];
			if (oci_enforce_wait_gone(c->st.dir, why, sizeof(why)) < 0)
				warn("create %s: %s", c->st.id, why);
		}
		oci_state_remove(c->st.dir);
	}
	if (c->sync >= 0)
		close(c->sync);
	if (c->pidfd >= 0)
		close(c->pidfd);
	if (c->cgfd >= 0)
		close(c->cgfd);
	if (c->ctx.console >= 0)
		close(c->ctx.console);
	if (c->ctx.fifo >= 0)
		close(c->ctx.fifo);
	for (size_t i = 0; i < c->ctx.n_ns; i++)
		close(c->ctx.ns_fd[i]);
	oci_state_clear(&c->st);
	oci_spec_free(&c->spec);
	sbx_seccomp_free(&c->sbx_sc);
}

static char *annotations_json(const struct oci_spec *s)
{
	json_object *o = json_object_new_object();

	for (size_t i = 0; o && i < s->n_annotations; i++)
		json_object_object_add(o, s->annotations[i].key,
				       json_object_new_string(s->annotations[i].value));
	char *r = o ? strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) : NULL;
	json_object_put(o);
	return r;
}

/* The kernel raises an ambient capability only when it is permitted and
 * inheritable; runc warns about the others and goes on (`runc spec` lists
 * ambient ones without an inheritable set): so does sbx-oci. */
static void ambient_as_runc(struct oci_process *p, const char *id)
{
	uint64_t lost = p->caps.ambient & ~(p->caps.inheritable & p->caps.permitted);

	if (!p->has_caps || !lost)
		return;
	warn("%s: process.capabilities.ambient: capabilities %#llx are not both permitted and "
	     "inheritable: not raised (as runc)", id, (unsigned long long)lost);
	p->caps.ambient &= ~lost;
}

/* Loads the spec and fills the state; checks the console flags as runc. */
static int create_load(struct create_run *c, const char *bundle, char *why, size_t len)
{
	int r = oci_spec_load(bundle, &c->spec, why, len);

	if (r < 0)
		return r;
	for (char **w = c->spec.warnings; w && *w; w++)
		warn("%s", *w);
	if (!c->spec.has_process)
		return sbx_fail(why, len, -EINVAL, "config.json: process: missing (create needs it)");
	ambient_as_runc(&c->spec.process, c->st.id);
	if (c->spec.process.terminal && !c->o->console_socket)
		return sbx_fail(why, len, -EINVAL,
				"process.terminal is true: --console-socket is required (sbx-oci create detaches)");
	if (!c->spec.process.terminal && c->o->console_socket)
		return sbx_fail(why, len, -EINVAL,
				"--console-socket given but process.terminal is false: no tty to send");
	snprintf(c->st.bundle, sizeof(c->st.bundle), "%s", bundle);
	snprintf(c->st.rootfs, sizeof(c->st.rootfs), "%s", c->spec.root_path);
	oci_now_rfc3339(c->st.created, sizeof(c->st.created));
	struct passwd *pw = getpwuid(geteuid());
	snprintf(c->st.owner, sizeof(c->st.owner), "%s", pw ? pw->pw_name : "");
	c->st.annotations_json = annotations_json(&c->spec);
	c->st.creating = true;
	return 0;
}

static int create_files(struct create_run *c, char *why, size_t len)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/exec.fifo", c->st.dir);
	/* 0622 whatever the umask: the init may be another uid (a user
	 * namespace's root); it reaches the fifo through its O_PATH fd, not
	 * through the 0700 state directory */
	if (mkfifo(path, 0622) < 0 || chmod(path, 0622) < 0)
		return sbx_fail(why, len, -errno, "mkfifo %s: %s", path, strerror(errno));
	c->ctx.fifo = open(path, O_PATH | O_CLOEXEC);
	if (c->ctx.fifo < 0)
		return sbx_fail(why, len, -errno, "open %s: %s", path, strerror(errno));
	if (c->o->console_socket) {
		c->ctx.console = oci_console_connect(c->o->console_socket, why, len);
		if (c->ctx.console < 0)
			return c->ctx.console;
	}
	return oci_state_write(&c->st, why, len);
}

static int create_enforce(struct create_run *c, char *why, size_t len)
{
	uint64_t families;
	char link[64];
	int r = oci_enforce_begin(&c->spec, c->st.id, c->st.dir, &c->enf, &c->cgfd, c->st.sandbox_id,
				  sizeof(c->st.sandbox_id), why, len);

	if (r < 0)
		return r;
	if (oci_enforce_families(c->enf, &families)) {
		r = sbx_seccomp_build_families(families, &c->sbx_sc, why, len);
		if (r < 0)
			return r;
		c->ctx.sbx_filter = &c->sbx_sc.prog;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", c->cgfd);
	ssize_t n = readlink(link, c->st.cgroup, sizeof(c->st.cgroup) - 1);
	if (n < 0)
		return sbx_fail(why, len, -errno, "the container's cgroup: readlink: %s", strerror(errno));
	c->st.cgroup[n] = '\0';
	return 0;
}

static int do_create(const char *id, struct create_opts *o)
{
	char why[WHY_LEN], bundle[PATH_MAX];
	struct create_run c = { .o = o, .cgfd = -1, .sync = -1, .pidfd = -1 };
	int r;

	c.ctx.console = c.ctx.fifo = -1;
	c.ctx.spec = &c.spec;
	c.ctx.o = o;
	if (!realpath(o->bundle, bundle))
		return err("--bundle %s: %s", o->bundle, strerror(errno));
	r = oci_root_check(g.root, true, why, sizeof(why));
	if (r < 0)
		return err("%s", why);
	r = oci_state_mkdir(g.root, id, c.st.dir, sizeof(c.st.dir), why, sizeof(why));
	if (r < 0)
		return err("%s", why);
	snprintf(c.st.id, sizeof(c.st.id), "%s", id);
	/* from here, a failure removes everything */
	prctl(PR_SET_DUMPABLE, 0);
	r = create_load(&c, bundle, why, sizeof(why));
	if (r == 0)
		r = create_files(&c, why, sizeof(why));
	if (r == 0)
		r = create_namespaces(&c, why, sizeof(why));
	if (r == 0)
		r = create_enforce(&c, why, sizeof(why));
	if (r == 0)
		r = oci_state_write(&c.st, why, sizeof(why));
	if (r == 0)
		r = create_clone(&c, why, sizeof(why));
	if (r == 0)
		r = create_sync(&c, why, sizeof(why));
	if (r == 0) {
		c.st.creating = false;
		r = oci_state_write(&c.st, why, sizeof(why));
	}
	if (r == 0 && o->pid_file)
		r = write_pid_file(o->pid_file, c.init, why, sizeof(why));
	if (r < 0) {
		create_cleanup(&c, true);
		return err("create %s: %s", id, why);
	}
	debug("create %s: init %d created", id, (int)c.init);
	create_cleanup(&c, false);
	return 0;
}

/* ---- start, state, kill, delete, ps, list -------------------------------------------- */

static int load_state(const char *id, struct oci_state *st)
{
	char why[WHY_LEN];
	int r = oci_root_check(g.root, false, why, sizeof(why));

	if (r == -ENOENT)
		return err("container %s does not exist", id);
	if (r < 0)
		return err("%s", why);
	r = oci_state_read(g.root, id, st, why, sizeof(why));
	if (r < 0)
		return err("%s", why);
	return 0;
}

/* The spec of the container's bundle, for the hooks that run after create. */
static int load_bundle_spec(const struct oci_state *st, struct oci_spec *spec)
{
	char why[WHY_LEN];
	int r = oci_spec_load(st->bundle, spec, why, sizeof(why));

	if (r < 0)
		warn("%s: the hooks after create cannot run: %s", st->id, why);
	return r;
}

static void run_hooks_warn(const struct oci_state *st, enum oci_hook_kind kind, const char *status)
{
	struct oci_spec spec = { 0 };
	char why[WHY_LEN];

	if (load_bundle_spec(st, &spec) < 0)
		return;
	if (spec.n_hooks[kind]) {
		_cleanup_free_ char *sj = oci_state_json(st, status);
		if (sj && oci_hooks_run(&spec, kind, sj, why, sizeof(why)) < 0)
			warn("%s", why);
	}
	oci_spec_free(&spec);
}

static int cmd_start_id(const char *id)
{
	struct oci_state st;
	char fifo[PATH_MAX + 16], c;

	if (load_state(id, &st))
		return 1;
	const char *status = oci_state_status(&st);
	if (strcmp(status, "created")) {
		oci_state_clear(&st);
		if (!strcmp(status, "stopped"))
			return err("cannot start a container that has stopped");
		if (!strcmp(status, "running"))
			return err("cannot start an already running container");
		return err("cannot start a container in the %s state", status);
	}
	_cleanup_close_ int pfd = init_pidfd(&st);
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", st.dir);
	_cleanup_close_ int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		oci_state_clear(&st);
		return err("start %s: open exec.fifo: %s", id, strerror(errno));
	}
	/* the init's open for writing completes now; wait for its byte */
	for (;;) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { pfd, POLLIN, 0 } };
		int n = poll(p, pfd >= 0 ? 2 : 1, 10000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0 && (p[0].revents & POLLIN) && read(fd, &c, 1) == 1)
			break;
		if (n == 0 || (n > 0 && (p[1].revents & POLLIN))) {
			oci_state_clear(&st);
			return err("cannot start a container that has stopped");
		}
	}
	unlink(fifo);
	/* the init's end closes at its exec (or its death): then poststart */
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int n = poll(&p, 1, 30000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || read(fd, &c, 1) <= 0)
			break;
	}
	run_hooks_warn(&st, OCI_HOOK_POSTSTART, "running");
	oci_state_clear(&st);
	return 0;
}

static int cmd_state_id(const char *id)
{
	struct oci_state st;

	if (load_state(id, &st))
		return 1;
	_cleanup_free_ char *j = oci_state_json(&st, oci_state_status(&st));
	oci_state_clear(&st);
	if (!j)
		return err("out of memory");
	printf("%s\n", j);
	return 0;
}

static int parse_signal(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*s && !*end)
		return n > 0 && n < NSIG ? (int)n : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	/* RTMIN+N, RTMAX-N */
	if (!strncasecmp(s, "RTMIN", 5) || !strncasecmp(s, "RTMAX", 5)) {
		bool min = !strncasecmp(s, "RTMIN", 5);
		long k = 0;
		if (s[5]) {
			if (s[5] != (min ? '+' : '-'))
				return -1;
			k = strtol(s + 6, &end, 10);
			if (!s[6] || *end || k < 0)
				return -1;
		}
		int sig = min ? SIGRTMIN + (int)k : SIGRTMAX - (int)k;
		return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
	}
	for (int i = 1; i < NSIG; i++) {
		const char *a = sigabbrev_np(i);
		if (a && !strcasecmp(a, s))
			return i;
	}
	return -1;
}

static int do_kill(const char *id, const char *sigs, bool all)
{
	struct oci_state st;
	int sig = parse_signal(sigs ? sigs : "SIGTERM");

	if (sig < 0)
		return err("invalid signal \"%s\"", sigs);
	if (load_state(id, &st))
		return 1;
	const char *status = oci_state_status(&st);
	int r = 0;
	if (all) {
		r = signal_all(&st, sig);
		if (r == -ENOENT && strcmp(status, "stopped"))
			r = 0;	/* no cgroup known: at least the init below */
		else if (r < 0)
			r = err("kill --all %s: %s", id, strerror(-r));
	}
	if (!r && !strcmp(status, "stopped") && !all)
		r = err("container not running");
	else if (!r && strcmp(status, "stopped")) {
		_cleanup_close_ int pfd = init_pidfd(&st);
		if (pfd < 0 || pidfd_signal(pfd, sig) < 0) {
			if (!all)
				r = err("container not running");
		}
	}
	oci_state_clear(&st);
	return r;
}

/* Kills what is left of the container and waits (bounded) until it is gone. */
static int kill_and_wait(const struct oci_state *st)
{
	_cleanup_close_ int pfd = init_pidfd(st);

	if (pfd >= 0)
		pidfd_signal(pfd, SIGKILL);
	if (st->cgroup[0])
		signal_all(st, SIGKILL);
	if (pfd >= 0 && !wait_pidfd(pfd, 10000))
		return -ETIMEDOUT;
	if (st->cgroup[0] && !cgroup_wait_empty(st->cgroup, 10000))
		return -EBUSY;
	return 0;
}

static int do_delete(const char *id, bool force)
{
	struct oci_state st;
	char why[WHY_LEN];
	int r;

	r = oci_root_check(g.root, false, why, sizeof(why));
	if (r == 0)
		r = oci_state_read(g.root, id, &st, why, sizeof(why));
	if (r == -ENOENT && force)
		return 0;
	if (r == -EAGAIN && force) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/%s", g.root, id);
		oci_state_remove(dir);
		return 0;
	}
	if (r < 0)
		return err("%s", why);
	const char *status = oci_state_status(&st);
	if ((!strcmp(status, "running") || !strcmp(status, "paused")) && !force) {
		oci_state_clear(&st);
		return err("cannot delete container %s that is not stopped: %s", id, status);
	}
	if (!strcmp(status, "creating") && !force) {
		oci_state_clear(&st);
		return err("cannot delete container %s that is being created", id);
	}
	r = kill_and_wait(&st);
	if (r < 0) {
		oci_state_clear(&st);
		return err("delete %s: its processes do not die: %s", id, strerror(-r));
	}
	r = oci_enforce_wait_gone(st.dir, why, sizeof(why));
	if (r < 0)
		warn("delete %s: %s", id, why);
	run_hooks_warn(&st, OCI_HOOK_POSTSTOP, "stopped");
	r = oci_state_remove(st.dir);
	oci_state_clear(&st);
	if (r < 0)
		return err("delete %s: remove its state directory: %s", id, strerror(-r));
	return 0;
}

static int do_ps(const char *id, const char *format, int argc, char **argv)
{
	struct oci_state st;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n;

	if (load_state(id, &st))
		return 1;
	int r = cgroup_pids(st.cgroup, &pids, &n);
	oci_state_clear(&st);
	if (r < 0)
		return err("ps %s: the container's cgroup: %s", id, strerror(-r));
	if (!strcmp(format, "json")) {
		printf("[");
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		printf("]\n");
		return 0;
	}
	if (strcmp(format, "table"))
		return err("ps: invalid format \"%s\" (table or json)", format);
	/* table: ps(1) with the caller's options (default -ef), rows of the
	 * container's processes only, as runc does */
	char cmd[256] = "ps";
	for (int i = 0; i < argc; i++) {
		if (strlen(cmd) + strlen(argv[i]) + 4 >= sizeof(cmd))
			return err("ps: options too long");
		strcat(cmd, " ");
		if (strspn(argv[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=,") !=
		    strlen(argv[i]))
			return err("ps: unsupported characters in option %s", argv[i]);
		strcat(cmd, argv[i]);
	}
	if (!argc)
		strcat(cmd, " -ef");
	fflush(stdout);
	FILE *f = popen(cmd, "re");
	if (!f)
		return err("ps: run ps: %s", strerror(errno));
	char line[4096];
	int pid_col = -1, lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		if (lineno++ == 0) {
			char copy[4096], *save = NULL;
			snprintf(copy, sizeof(copy), "%s", line);
			int col = 0;
			for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save), col++)
				if (!strcmp(t, "PID"))
					pid_col = col;
			fputs(line, stdout);
			continue;
		}
		char copy[4096], *save = NULL, *t;
		snprintf(copy, sizeof(copy), "%s", line);
		t = strtok_r(copy, " \t\n", &save);
		for (int col = 0; t && col < pid_col; col++)
			t = strtok_r(NULL, " \t\n", &save);
		if (!t)
			continue;
		pid_t p = (pid_t)atoi(t);
		for (size_t i = 0; i < n; i++)
			if (pids[i] == p) {
				fputs(line, stdout);
				break;
			}
	}
	pclose(f);
	if (pid_col < 0)
		return err("ps: the output of ps has no PID column");
	return 0;
}

static int do_list(const char *format, bool quiet)
{
	char why[WHY_LEN];
	int r = oci_root_check(g.root, false, why, sizeof(why));
	bool json = !strcmp(format, "json");
	json_object *arr = json ? json_object_new_array() : NULL;

	if (r == -ENOENT) {
		if (json)
			printf("null\n");
		else if (!quiet)
			printf("ID          PID         STATUS      BUNDLE      CREATED     OWNER\n");
		json_object_put(arr);
		return 0;
	}
	if (r < 0)
		return err("%s", why);
	_cleanup_closedir_ DIR *d = opendir(g.root);
	if (!d)
		return err("list: %s: %s", g.root, strerror(errno));
	if (!json && !quiet)
		printf("%-12s%-12s%-12s%-40s%-32s%s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
	struct dirent *e;
	while ((e = readdir(d))) {
		struct oci_state st;
		if (e->d_name[0] == '.' || !oci_id_valid(e->d_name))
			continue;
		if (oci_state_read(g.root, e->d_name, &st, why, sizeof(why)) < 0)
			continue;
		const char *status = oci_state_status(&st);
		if (quiet)
			printf("%s\n", st.id);
		else if (json) {
			_cleanup_free_ char *j = oci_state_json(&st, status);
			json_object_array_add(arr, j ? json_tokener_parse(j) : NULL);
		} else {
			printf("%-12s%-12d%-12s%-40s%-32s%s\n", st.id,
			       strcmp(status, "stopped") ? (int)st.pid : 0, status, st.bundle, st.created,
			       st.owner);
		}
		oci_state_clear(&st);
	}
	if (json) {
		printf("%s\n", json_object_array_length(arr)
				       ? json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
									     JSON_C_TO_STRING_NOSLASHESCAPE)
				       : "null");
		json_object_put(arr);
	}
	return 0;
}

/* ---- exec -------------------------------------------------------------------------- */

struct exec_opts {
	const char *process, *pid_file, *console_socket, *cwd, *user, *preserve_fds_s;
	struct strlist env;
	bool detach, tty, ignore_paused;
	int preserve_fds;
};

/* The process to run: --process FILE, or config.json's process with the
 * operands as args and the flags applied, as runc builds it. */
static int exec_process(const struct oci_state *st, const struct exec_opts *o, int argc,
			char **argv, struct oci_process *ret, char *why, size_t len)
{
	char path[PATH_MAX + 16];
	_cleanup_free_ char *data = NULL;
	size_t n;
	json_object *root, *p;

	if (o->process)
		return oci_process_load(o->process, ret, why, len);
	if (argc == 0)
		return sbx_fail(why, len, -EINVAL, "exec: no command given (operands after the id, or --process)");
	snprintf(path, sizeof(path), "%s/config.json", st->bundle);
	int r = sbx_read_file(path, &data, &n, 4 << 20);
	if (r < 0)
		return sbx_fail(why, len, r, "%s: %s", path, strerror(-r));
	root = json_tokener_parse(data);
	if (!root || !json_object_object_get_ex(root, "process", &p)) {
		json_object_put(root);
		return sbx_fail(why, len, -EINVAL, "%s: no process object", path);
	}
	json_object *args = json_object_new_array(), *env;
	for (int i = 0; i < argc; i++)
		json_object_array_add(args, json_object_new_string(argv[i]));
	json_object_object_add(p, "args", args);
	json_object_object_add(p, "terminal", json_object_new_boolean(o->tty));
	if (o->cwd)
		json_object_object_add(p, "cwd", json_object_new_string(o->cwd));
	if (o->env.n) {
		if (!json_object_object_get_ex(p, "env", &env)) {
			env = json_object_new_array();
			json_object_object_add(p, "env", env);
		}
		for (size_t i = 0; i < o->env.n; i++)
			json_object_array_add(env, json_object_new_string(o->env.v[i]));
	}
	if (o->user) {
		unsigned uid, gid = 0;
		int k = sscanf(o->user, "%u:%u", &uid, &gid);
		if (k < 1) {
			json_object_put(root);
			return sbx_fail(why, len, -EINVAL, "exec --user %s: uid[:gid] expected", o->user);
		}
		json_object *u = json_object_new_object();
		json_object_object_add(u, "uid", json_object_new_int64(uid));
		json_object_object_add(u, "gid", json_object_new_int64(gid));
		json_object_object_add(p, "user", u);
	}
	const char *s = json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN);
	r = oci_process_parse(s, strlen(s), ret, why, len);
	json_object_put(root);
	return r;
}

struct exec_ctx {
	const struct oci_process *proc;
	const struct oci_seccomp *seccomp;
	const struct sock_fprog *sbx_filter;	/* sbx's family filter; NULL: none */
	const struct exec_opts *o;
	int sync, console;
	int ns_fd[8], ns_type[8];
	size_t n_ns;
	bool need_fork;
};

static void __attribute__((noreturn)) exec_child(struct exec_ctx *x)
{
	char why[WHY_LEN], pidbuf[32];
	int exec_errno = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (join_all(x->ns_fd, x->ns_type, x->n_ns, why, sizeof(why)) < 0)
		goto fail;
	if (x->need_fork) {
		pid_t p = fork();
		if (p < 0) {
			sbx_fail(why, sizeof(why), -errno, "fork into the pid namespace: %s", strerror(errno));
			goto fail;
		}
		if (p > 0) {
			snprintf(pidbuf, sizeof(pidbuf), "%d", (int)p);
			send_msg(x->sync, 'P', pidbuf, strlen(pidbuf));
			_exit(0);
		}
		/* no PDEATHSIG: our parent, the intermediate, exits now */
	} else {
		send_msg(x->sync, 'P', "0", 1);
	}
	if (x->console >= 0) {
		if (oci_console_setup(x->console, x->proc->console_height, x->proc->console_width, why,
				      sizeof(why)) < 0)
			goto fail;
		close(x->console);
	}
	syscall(SYS_close_range, 3U + (unsigned)x->o->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
	/* the process outlives sbx-oci exec --detach */
	prctl(PR_SET_PDEATHSIG, 0);
	oci_process_exec(x->proc, x->seccomp, x->sbx_filter, NULL, NULL, why, sizeof(why), &exec_errno);
fail:
	send_msg(x->sync, 'E', why, strlen(why));
	_exit(exec_errno == ENOENT ? 127 : 126);
}

static volatile pid_t forward_to;

static void forward_signal(int sig)
{
	if (forward_to > 0)
		kill(forward_to, sig);
}

/* The namespaces of the init that differ from ours, in join order. */
static int exec_namespaces(const struct oci_state *st, struct exec_ctx *x, char *why, size_t len)
{
	for (size_t k = 0; k < sizeof(join_order) / sizeof(join_order[0]); k++) {
		char theirs[64], ours[64];
		struct stat a, b;
		snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", (int)st->pid, ns_proc_name(join_order[k]));
		snprintf(ours, sizeof(ours), "/proc/self/ns/%s", ns_proc_name(join_order[k]));
		if (stat(theirs, &a) < 0) {
			if (errno == ENOENT && join_order[k] == CLONE_NEWTIME)
				continue;
			return sbx_fail(why, len, -errno, "exec: %s: %s", theirs, strerror(errno));
		}
		if (stat(ours, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			continue;
		int fd = open(theirs, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return sbx_fail(why, len, -errno, "exec: open %s: %s", theirs, strerror(errno));
		x->ns_fd[x->n_ns] = fd;
		x->ns_type[x->n_ns++] = join_order[k];
		if (join_order[k] == CLONE_NEWPID)
			x->need_fork = true;
	}
	return 0;
}

static int exec_wait(pid_t pid)
{
	int status;

	forward_to = pid;
	int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], forward_signal);
	for (;;) {
		pid_t w = waitpid(-1, &status, 0);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err("exec: wait for pid %d: %s", (int)pid, strerror(errno));
		if (w == pid)
			break;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

struct exec_run {
	struct oci_state st;
	struct oci_spec spec;
	struct oci_process proc;
	struct exec_ctx x;
	struct sbx_seccomp sbx_sc;	/* sbx's family filter (x.sbx_filter) */
	int sync, cgfd, pfd;
	pid_t child, target;
};

/* What the new process needs, opened before it is cloned: the spec (its
 * seccomp filter), the process, the console socket, the init's namespaces
 * and the container's cgroup. */
static int exec_prepare(struct exec_run *e, const char *id, const struct exec_opts *o, int argc,
			char **argv, char *why, size_t len)
{
	uint64_t families;
	bool filter;
	int r = oci_spec_load(e->st.bundle, &e->spec, why, len);

	if (r == 0)
		r = exec_process(&e->st, o, argc, argv, &e->proc, why, len);
	/* --process may not give what config.json's profile check refused
	 * (a capability that undoes sbx's enforcement) */
	if (r == 0)
		r = oci_enforce_exec_check(&e->spec, &e->proc, why, len);
	/* the init's family filter, for this process too */
	if (r == 0)
		r = oci_enforce_state_families(e->st.dir, &filter, &families, why, len);
	if (r == 0 && filter && (r = sbx_seccomp_build_families(families, &e->sbx_sc, why, len)) == 0)
		e->x.sbx_filter = &e->sbx_sc.prog;
	if (r < 0)
		return r;
	ambient_as_runc(&e->proc, id);
	e->x.proc = &e->proc;
	e->x.seccomp = e->spec.seccomp;
	if (e->proc.terminal && !o->console_socket)
		return sbx_fail(why, len, -EINVAL, "process.terminal is true: --console-socket is required");
	if (e->proc.terminal) {
		e->x.console = oci_console_connect(o->console_socket, why, len);
		if (e->x.console < 0)
			return e->x.console;
	}
	e->pfd = init_pidfd(&e->st);
	if (e->pfd < 0)
		return sbx_fail(why, len, -ESRCH, "cannot exec in a stopped container");
	r = exec_namespaces(&e->st, &e->x, why, len);
	if (r < 0)
		return r;
	/* the namespaces were opened by pid: they are the init's only if it
	 * still lives (the pidfd is not readable), not a reuser's of its pid */
	if (wait_pidfd(e->pfd, 0))
		return sbx_fail(why, len, -ESRCH, "cannot exec in a stopped container");
	e->cgfd = open(e->st.cgroup, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (e->cgfd < 0)
		return sbx_fail(why, len, -errno, "exec: the container's cgroup %s: %s", e->st.cgroup,
				strerror(errno));
	return 0;
}

/* Clones the process into the container's cgroup; it joins the namespaces
 * (forking into the pid namespace) and execs. Returns once it has exec'd
 * (the sync socket's end closes at its exec) with e->target set. */
static int exec_spawn(struct exec_run *e, const struct exec_opts *o, char *why, size_t len)
{
	_cleanup_free_ char *buf = malloc(MSG_MAX);
	int sp[2];

	if (!buf)
		return sbx_fail(why, len, -ENOMEM, "out of memory");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return sbx_fail(why, len, -errno, "socketpair: %s", strerror(errno));
	e->sync = sp[0];
	if (!o->detach)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	struct clone_args ca = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
				 .cgroup = (uint64_t)e->cgfd };
	e->child = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (e->child < 0) {
		int err = errno;
		close(sp[1]);
		return sbx_fail(why, len, -err, "clone3 into the container's cgroup: %s", strerror(err));
	}
	if (e->child == 0) {
		char jwhy[WHY_LEN];

		close(sp[0]);
		/* the init's v1 cgroups (memory, pids, devices of a hybrid
		 * host), which CLONE_INTO_CGROUP does not reach, before it
		 * joins the container's mount namespace */
		if (oci_cgroups_v1_join(e->st.pid, jwhy, sizeof(jwhy)) < 0) {
			send_msg(sp[1], 'E', jwhy, strlen(jwhy));
			_exit(126);
		}
		if (wait_pidfd(e->pfd, 0)) {	/* its /proc/PID/cgroup was the init's */
			snprintf(jwhy, sizeof(jwhy), "cannot exec in a stopped container");
			send_msg(sp[1], 'E', jwhy, strlen(jwhy));
			_exit(126);
		}
		e->x.sync = sp[1];
		exec_child(&e->x);
	}
	close(sp[1]);
	int t = recv_msg(e->sync, buf, NULL);
	if (t != 'P')
		return sbx_fail(why, len, -EIO, "%s",
				t == 'E' ? buf + 1 : "exec: the process died before its exec");
	e->target = atoi(buf + 1) > 0 ? (pid_t)atoi(buf + 1) : e->child;
	if (e->target != e->child) {
		waitpid(e->child, NULL, 0);
		e->child = -1;
	}
	t = recv_msg(e->sync, buf, NULL);
	if (t == 'E')
		return sbx_fail(why, len, -EIO, "%s", buf + 1);
	return 0;
}

static void exec_cleanup(struct exec_run *e, bool failed)
{
	if (failed && e->target > 0)
		kill(e->target, SIGKILL);
	if (failed && e->child > 0) {
		kill(e->child, SIGKILL);
		waitpid(e->child, NULL, 0);
	}
	if (failed && e->target > 0 && e->target != e->child)
		waitpid(e->target, NULL, 0);
	for (size_t i = 0; i < e->x.n_ns; i++)
		close(e->x.ns_fd[i]);
	if (e->sync >= 0)
		close(e->sync);
	if (e->cgfd >= 0)
		close(e->cgfd);
	if (e->pfd >= 0)
		close(e->pfd);
	if (e->x.console >= 0)
		close(e->x.console);
	oci_process_free(&e->proc);
	oci_spec_free(&e->spec);
	oci_state_clear(&e->st);
	sbx_seccomp_free(&e->sbx_sc);
}

static int do_exec(const char *id, struct exec_opts *o, int argc, char **argv)
{
	struct exec_run e = { .x = { .o = o, .sync = -1, .console = -1 }, .sync = -1, .cgfd = -1,
			      .pfd = -1, .child = -1, .target = -1 };
	char why[WHY_LEN];
	int r, rc;

	if (load_state(id, &e.st))
		return 1;
	prctl(PR_SET_DUMPABLE, 0);
	const char *status = oci_state_status(&e.st);
	if (!strcmp(status, "stopped") || (!strcmp(status, "paused") && !o->ignore_paused)) {
		oci_state_clear(&e.st);
		/* a paused one: the new process would be frozen in its cgroup */
		return err("cannot exec in a %s container", status);
	}
	r = exec_prepare(&e, id, o, argc, argv, why, sizeof(why));
	if (r == 0)
		r = exec_spawn(&e, o, why, sizeof(why));
	if (r == 0 && o->pid_file)
		r = write_pid_file(o->pid_file, e.target, why, sizeof(why));
	if (r < 0) {
		exec_cleanup(&e, true);
		return err("exec %s: %s", id, why);
	}
	rc = o->detach ? 0 : exec_wait(e.target);
	exec_cleanup(&e, false);
	return rc;
}

/* ---- the verbs ------------------------------------------------------------------------ */

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);	/* argv[0] is the verb */
	const char *usage;
	const char *help;
};

static const struct verb *find_verb(const char *name);

static int usage_of(const char *name)
{
	const struct verb *v = find_verb(name);

	printf("Usage: sbx-oci [global options] %s %s\n\n%s", v->name, v->usage, v->help);
	return 0;
}

/* parse_opts for a verb: --help prints its usage (exit 0); 'want' operands
 * at least. Returns the index of the first operand or -1 (with *rc set). */
static int verb_opts(int argc, char **argv, const struct opt *opts, int want, int *rc)
{
	int i = parse_opts(argc, argv, 1, opts, argv[0]);

	if (i == -2) {
		*rc = usage_of(argv[0]);
		return -1;
	}
	if (i < 0) {
		*rc = 2;
		return -1;
	}
	if (argc - i < want) {
		*rc = err("%s: the container id is missing (sbx-oci %s --help)", argv[0], argv[0]);
		return -1;
	}
	return i;
}

static int parse_preserve(const char *s, int *ret)
{
	char *end;
	long n;

	if (!s)
		return 0;
	n = strtol(s, &end, 10);
	if (!*s || *end || n < 0 || n > 65536)
		return err("--preserve-fds %s: a number of file descriptors expected", s);
	*ret = (int)n;
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	struct create_opts o = { .bundle = "." };
	const char *pidfd_socket = NULL;
	const struct opt opts[] = {
		{ "bundle", 'b', OPT_STR, &o.bundle },
		{ "console-socket", 0, OPT_STR, &o.console_socket },
		{ "pid-file", 0, OPT_STR, &o.pid_file },
		{ "no-pivot", 0, OPT_FLAG, &o.no_pivot },
		{ "no-new-keyring", 0, OPT_FLAG, &o.no_new_keyring },
		{ "preserve-fds", 0, OPT_STR, &o.preserve_fds_s },
		{ "pidfd-socket", 0, OPT_STR, &pidfd_socket },
		{ 0 },
	};
	int rc = 0, i = verb_opts(argc, argv, opts, 1, &rc);

	if (i < 0)
		return rc;
	if (argc - i > 1)
		return err("create: one container id expected, got %d operands", argc - i);
	if (parse_preserve(o.preserve_fds_s, &o.preserve_fds))
		return 1;
	if (pidfd_socket)
		return err("create: --pidfd-socket is not supported");
	return do_create(argv[i], &o);
}

static int cmd_start(int argc, char **argv)
{
	const struct opt opts[] = { { 0 } };
	int rc = 0, i = verb_opts(argc, argv, opts, 1, &rc);

	return i < 0 ? rc : cmd_start_id(argv[i]);
}

static int cmd_state(int argc, char **argv)
{
	const struct opt opts[] = { { 0 } };
	int rc = 0, i = verb_opts(argc, argv, opts, 1, &rc);

	return i < 0 ? rc : cmd_state_id(argv[i]);
}

static int cmd_kill(int argc, char **argv)
{
	bool all = false;
	const struct opt opts[] = { { "all", 'a', OPT_FLAG, &all }, { 0 } };
	int rc = 0, i = verb_opts(argc, argv, opts, 1, &rc);

	if (i < 0)
		return rc;
	if (argc - i > 2)
		return err("kill: too many operands (ID [SIGNAL])");
	return do_kill(argv[i], argc - i == 2 ? argv[i + 1] : NULL, all);
}

static int cmd_delete(int argc, char **argv)
{
	bool force = false;
	const struct opt opts[] = { { "force", 'f', OPT_FLAG, &force }, { 0 } };
	int rc = 0, i = verb_opts(argc, argv, opts, 1, &rc);

	if (i < 0)
		return rc;
	for (; i < argc; i++)
		rc |= do_delete(argv[i], force);
	return rc;
}

static int cmd_exec(int argc, char **argv)
{
	struct exec_opts o = { 0 };
	const char *ignored = NULL;
	struct strlist caps = { .n = 0 }, gids = { .n = 0 };
	bool no_new_privs = false;
	const struct opt opts[] = {
		{ "process", 'p', OPT_STR, &o.process },
		{ "detach", 'd', OPT_FLAG, &o.detach },
		{ "pid-file", 0, OPT_STR, &o.pid_file },
		{ "console-socket", 0, OPT_STR, &o.console_socket },
		{ "tty", 't', OPT_FLAG, &o.tty },
		{ "cwd", 0, OPT_STR, &o.cwd },
		{ "env", 'e', OPT_LIST, &o.env },
		{ "user", 'u', OPT_STR, &o.user },
		{ "preserve-fds", 0, OPT_STR, &o.preserve_fds_s },
		{ "additional-gids", 'g', OPT_LIST, &gids },
		{ "cap", 'c', OPT_LIST, &caps },
		{ "no-new-privs", 0, OPT_FLAG, &no_new_privs },
		{ "ignore-paused", 0, OPT_FLAG, &o.ignore_paused },
		{ "process-label", 0, OPT_STR, &ignored },
		{ "apparmor", 0, OPT_STR, &ignored },
		{ "cgroup", 0, OPT_STR, &ignored },
		{ 0 },
	};
	int rc = 0, i = verb_opts(argc, argv, opts, 1, &rc);

	if (i < 0)
		return rc;
	if (parse_preserve(o.preserve_fds_s, &o.preserve_fds))
		return 1;
	if (caps.n || gids.n || no_new_privs || ignored)
		return err("exec: --cap, --additional-gids, --no-new-privs, --process-label, --apparmor "
			   "and --cgroup are not supported: use --process with a process.json");
	return do_exec(argv[i], &o, argc - i - 1, argv + i + 1);
}

static int cmd_ps(int argc, char **argv)
{
	const char *format = "table";
	const struct opt opts[] = { { "format", 'f', OPT_STR, &format }, { 0 } };
	int rc = 0, i = verb_opts(argc, argv, opts, 1, &rc);

	if (i < 0)
		return rc;
	return do_ps(argv[i], format, argc - i - 1, argv + i + 1);
}

static int cmd_list(int argc, char **argv)
{
	const char *format = "table";
	bool quiet = false;
	const struct opt opts[] = { { "format", 'f', OPT_STR, &format }, { "quiet", 'q', OPT_FLAG, &quiet }, { 0 } };
	int rc = 0, i = verb_opts(argc, argv, opts, 0, &rc);

	if (i < 0)
		return rc;
	if (strcmp(format, "table") && strcmp(format, "json"))
		return err("list: invalid format \"%s\" (table or json)", format);
	return do_list(format, quiet);
}

/* pause/resume: the container's cgroup2 freezer (cgroup.freeze). */
static int do_freeze(const char *id, bool freeze)
{
	struct oci_state st;
	char path[PATH_MAX + 16];

	if (load_state(id, &st))
		return 1;
	const char *status = oci_state_status(&st);
	int rc = 0;
	if (freeze && strcmp(status, "running"))
		rc = err("cannot pause container %s: it is %s, not running", id, status);
	else if (!freeze && strcmp(status, "paused"))
		rc = err("cannot resume container %s: it is %s, not paused", id, status);
	if (!rc) {
		snprintf(path, sizeof(path), "%s/cgroup.freeze", st.cgroup);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, freeze ? "1" : "0", 1) != 1)
			rc = err("%s %s: %s: %s", freeze ? "pause" : "resume", id, path, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	oci_state_clear(&st);
	return rc;
}

static int cmd_pause(int argc, char **argv)
{
	const struct opt opts[] = { { 0 } };
	int rc = 0, i = verb_opts(argc, argv, opts, 1, &rc);

	return i < 0 ? rc : do_freeze(argv[i], true);
}

static int cmd_resume(int argc, char **argv)
{
	const struct opt opts[] = { { 0 } };
	int rc = 0, i = verb_opts(argc, argv, opts, 1, &rc);

	return i < 0 ? rc : do_freeze(argv[i], false);
}

/* run: create, start and (without --detach) wait for the init as its
 * subreaper, then delete; exits with the init's status. */
static int cmd_run(int argc, char **argv)
{
	struct create_opts o = { .bundle = "." };
	bool detach = false, keep = false;
	const struct opt opts[] = {
		{ "bundle", 'b', OPT_STR, &o.bundle },
		{ "console-socket", 0, OPT_STR, &o.console_socket },
		{ "pid-file", 0, OPT_STR, &o.pid_file },
		{ "no-pivot", 0, OPT_FLAG, &o.no_pivot },
		{ "no-new-keyring", 0, OPT_FLAG, &o.no_new_keyring },
		{ "preserve-fds", 0, OPT_STR, &o.preserve_fds_s },
		{ "detach", 'd', OPT_FLAG, &detach },
		{ "keep", 0, OPT_FLAG, &keep },
		{ 0 },
	};
	struct oci_state st;
	int rc = 0, status, i = verb_opts(argc, argv, opts, 1, &rc);

	if (i < 0)
		return rc;
	if (argc - i > 1)
		return err("run: one container id expected, got %d operands", argc - i);
	if (parse_preserve(o.preserve_fds_s, &o.preserve_fds))
		return 1;
	if (!detach)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (do_create(argv[i], &o))
		return 1;
	if (cmd_start_id(argv[i])) {
		do_delete(argv[i], true);
		return 1;
	}
	if (detach)
		return 0;
	if (load_state(argv[i], &st))
		return 1;
	pid_t init = st.pid;
	oci_state_clear(&st);
	forward_to = init;
	int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	for (size_t k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++)
		signal(sigs[k], forward_signal);
	for (;;) {
		pid_t w = waitpid(-1, &status, 0);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = err("run: wait for the init (pid %d): %s", (int)init, strerror(errno));
			break;
		}
		if (w == init) {
			rc = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
			break;
		}
	}
	if (!keep && do_delete(argv[i], true))
		return 1;
	return rc;
}

static int cmd_features(int argc, char **argv)
{
	const struct opt opts[] = { { 0 } };
	int rc = 0, i = verb_opts(argc, argv, opts, 0, &rc);

	if (i < 0)
		return rc;
	_cleanup_free_ char *j = oci_features_json();
	if (!j)
		return err("features: out of memory");
	fputs(j, stdout);
	return 0;
}

static const struct verb verbs[] = {
	{ "create", cmd_create, "[--bundle DIR] [--pid-file FILE] [--console-socket PATH] [--no-pivot]\n"
	  "       [--no-new-keyring] [--preserve-fds N] ID",
	  "Creates the container ID from the bundle (default: the current directory): its namespaces,\n"
	  "its cgroup under sbx's policy, its root file system, its hooks up to createContainer. Its\n"
	  "process waits for `start`. A failed create leaves nothing behind.\n\n"
	  "  -b, --bundle DIR        the bundle: DIR/config.json\n"
	  "  --pid-file FILE         write the init's pid (as the host sees it) to FILE\n"
	  "  --console-socket PATH   send the pty master of process.terminal to the unix socket PATH\n"
	  "  --no-pivot              MS_MOVE + chroot instead of pivot_root (a ramfs root)\n"
	  "  --no-new-keyring        accepted; sbx-oci makes no session keyring\n"
	  "  --preserve-fds N        pass fds 3 .. 3+N-1 to the container's process\n" },
	{ "start", cmd_start, "ID", "Starts the created container ID: its process runs its args.\n" },
	{ "state", cmd_state, "ID", "Prints the runtime-spec state of the container ID as JSON.\n" },
	{ "kill", cmd_kill, "[--all] ID [SIGNAL]",
	  "Sends SIGNAL (a name, with or without SIG, or a number; default SIGTERM) to the\n"
	  "container's init.\n\n"
	  "  -a, --all               every process of the container's cgroup\n" },
	{ "delete", cmd_delete, "[--force] ID...",
	  "Deletes a stopped or created container: kills what is left, runs its poststop hooks and\n"
	  "removes its state. A running one only with --force (SIGKILL to all its processes).\n\n"
	  "  -f, --force             delete a running container too; an unknown id is no error\n" },
	{ "exec", cmd_exec, "[--process FILE] [--detach] [--pid-file FILE] [--console-socket PATH] [--tty]\n"
	  "       [--cwd DIR] [--env K=V]... [--user UID[:GID]] ID [COMMAND [ARG...]]",
	  "Runs a new process in the container ID: the process object of FILE, or config.json's\n"
	  "process with COMMAND as its args. Exits with its status (128+N: killed by signal N).\n\n"
	  "  -p, --process FILE      the process as JSON (config.json's \"process\")\n"
	  "  -d, --detach            do not wait for it\n"
	  "  --pid-file FILE         write its pid to FILE\n"
	  "  --console-socket PATH   send its pty master to the unix socket PATH\n"
	  "  -t, --tty               give it a pty (with --console-socket)\n"
	  "  --cwd DIR, -e K=V, -u UID[:GID]   its cwd, more env, its identity\n"
	  "  --preserve-fds N        pass fds 3 .. 3+N-1\n" },
	{ "ps", cmd_ps, "[--format table|json] ID [PS-OPTIONS...]",
	  "Lists the processes of the container: json, an array of pids; table, ps(1)'s rows (with\n"
	  "PS-OPTIONS, default -ef) of the container's processes.\n" },
	{ "list", cmd_list, "[--format table|json] [--quiet]", "Lists the containers of --root.\n" },
	{ "run", cmd_run, "[--bundle DIR] [--pid-file FILE] [--console-socket PATH] [--detach] [--keep]\n"
	  "       [--no-pivot] [--no-new-keyring] [--preserve-fds N] ID",
	  "Creates and starts the container ID; without --detach, waits for its init, deletes the\n"
	  "container (unless --keep) and exits with the init's status (128+N: killed by signal N).\n"
	  "The options are create's, and:\n\n"
	  "  -d, --detach            return once it runs\n"
	  "  --keep                  do not delete it after it has exited\n" },
	{ "pause", cmd_pause, "ID", "Freezes every process of the running container ID (its cgroup's freezer).\n" },
	{ "resume", cmd_resume, "ID", "Thaws the paused container ID.\n" },
	{ "features", cmd_features, "", "Prints the runtime-spec features document (JSON).\n" },
	{ 0 },
};

static const struct verb *find_verb(const char *name)
{
	for (const struct verb *v = verbs; v->name; v++)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: sbx-oci [global options] COMMAND [options] ID ...\n\n"
		   "sbx as an OCI runtime, with runc's command line (sbx-oci(8), docs/oci.md).\n\n"
		   "Commands:\n");
	for (const struct verb *v = verbs; v->name; v++)
		fprintf(f, "  %-10s %s\n", v->name, v->usage);
	fprintf(f, "\nGlobal options:\n"
		   "  --root DIR           the state directory (default " OCI_DEFAULT_ROOT ")\n"
		   "  --log FILE           also log to FILE\n"
		   "  --log-format FORMAT  text or json (runc's logrus lines)\n"
		   "  --systemd-cgroup     cgroupsPath in systemd's slice:prefix:name form\n"
		   "  --debug              debug messages\n"
		   "  -v, --version        the version, in runc's three lines\n"
		   "  --criu, --rootless   accepted and ignored, as runc's callers pass them\n"
		   "\nsbx's policy (docs/oci.md):\n"
		   "  annotation org.sbx.profile=NAME     a profile of the policy directory\n"
		   "  annotation org.sbx.policy=PATH      a root-owned policy file inside it\n"
		   "  neither: $SBX_OCI_DEFAULT_PROFILE, else default_profile in " OCI_CONFIG_DEFAULT ",\n"
		   "  else none (no rules, audit only); allowed_profiles there bounds the annotations\n"
		   "  ($SBX_OCI_CONFIG names another file)\n");
}

static void version(void)
{
	printf("sbx-oci version %s\ncommit: %s\nspec: %s\n", SBX_OCI_VERSION, SBX_OCI_COMMIT,
	       OCI_VERSION);
}

int main(int argc, char **argv)
{
	const char *log_format = "text", *ignored = NULL;
	bool want_version = false;
	const struct opt global[] = {
		{ "root", 0, OPT_STR, &g.root },
		{ "log", 0, OPT_STR, &g.log },
		{ "log-format", 0, OPT_STR, &log_format },
		{ "systemd-cgroup", 0, OPT_FLAG, &g.systemd_cgroup },
		{ "debug", 0, OPT_FLAG, &g.debug },
		{ "version", 'v', OPT_FLAG, &want_version },
		{ "criu", 0, OPT_STR, &ignored },
		{ "rootless", 0, OPT_STR, &ignored },
		{ 0 },
	};

	int i = parse_opts(argc, argv, 1, global, "sbx-oci");
	if (i == -2) {
		usage(stdout);
		return 0;
	}
	if (i < 0)
		return 2;
	if (strcmp(log_format, "text") && strcmp(log_format, "json"))
		return err("--log-format %s: text or json", log_format);
	g.log_json = !strcmp(log_format, "json");
	/* a relative --root, as runc, against the current directory */
	static char abs_root[PATH_MAX];
	if (g.root[0] != '/') {
		if (!getcwd(abs_root, sizeof(abs_root)) ||
		    strlen(abs_root) + strlen(g.root) + 2 > sizeof(abs_root))
			return err("--root %s: cannot make it absolute", g.root);
		strcat(abs_root, "/");
		strcat(abs_root, g.root);
		g.root = abs_root;
	}
	if (g.log) {
		log_fd = open(g.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
		if (log_fd < 0)
			return err("--log %s: %s", g.log, strerror(errno));
	}
	if (want_version) {
		version();
		return 0;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 < argc && find_verb(argv[i + 1]))
			return usage_of(argv[i + 1]);
		usage(stdout);
		return 0;
	}
	const struct verb *v = find_verb(argv[i]);
	if (!v)
		return err("unknown command \"%s\" (sbx-oci --help lists them)", argv[i]);
	if (!strcmp(v->name, "create") || !strcmp(v->name, "exec") || !strcmp(v->name, "run")) {
		int r = reexec_sealed(argv);
		if (r < 0)
			return err("%s: run from a sealed copy of sbx-oci: %s", v->name, strerror(-r));
	}
	int rc = v->run(argc - i, argv + i);
	fflush(stdout);
	return rc;
}
