/* SPDX-License-Identifier: MIT */
/* sbxd: the resident sandbox manager (docs/man/sbxd.8, docs/api.md). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/run.h"
#include "daemon/certification.h"
#include "daemon/daemon.h"
#include "kernel/systemd.h"
#include "sbx_abi.h"
#include "util/util.h"

static const char usage_text[] =
	"Usage: sbxd [OPTION]...\n"
	"The sbx daemon: runs sandboxes for its callers over a varlink API on a unix\n"
	"socket, keeps a registry of them that outlives the daemon, and changes their\n"
	"policy while they run. The sbx command talks to it (sbx start, stop, ls, ...).\n"
	"\n"
	"Settings come from the built-in defaults, then the configuration file, then\n"
	"these options; each later one wins.\n"
	"  -c, --config FILE        configuration file (default /etc/sbx/sbxd.toml;\n"
	"                           a missing default file is fine, a named one is not)\n"
	"      --policy-dir DIR     the profiles (default /etc/sbx/policy.d)\n"
	"      --state-dir DIR      the registry (default /var/lib/sbx)\n"
	"      --socket PATH        the API socket (default /run/sbx/sbxd.sock)\n"
	"      --audit-dir DIR      where audit.jsonl goes (default /var/log/$SBX_INSTANCE)\n"
	"      --audit-max-size SIZE\n"
	"                           audit.jsonl rotates when it reaches SIZE (default\n"
	"                           64M; 0 = never, e.g. when logrotate does it)\n"
	"      --audit-keep N       rotated audit logs kept, audit.jsonl.1 .. .N\n"
	"                           (default 5)\n"
	"      --cgroup-root DIR    the cgroup2 directory sandboxes go beneath (default:\n"
	"                           the delegated cgroup of sbxd.service, else sbxd's own)\n"
	"      --admin-group GROUP  members see and control every sandbox (repeatable)\n"
	"      --stop-timeout D     grace period of a stop before SIGKILL (default 10s)\n"
	"      --log-max-size SIZE  size of a workload's output log before it rotates\n"
	"                           (default 1M)\n"
	"      --log-keep N         rotated output logs kept (default 3)\n"
	"      --max-sandboxes N    sandboxes sbxd manages at most (default 4096)\n"
	"      --max-sandboxes-per-user N\n"
	"                           sandboxes one user other than root may have at\n"
	"                           once (default 64)\n"
	"      --sbx PATH           the sbx binary that monitors each sandbox (default:\n"
	"                           sbx beside sbxd, else ../bin/sbx)\n"
	"      --metrics-listen ADDR:PORT\n"
	"                           serve Prometheus metrics over HTTP at\n"
	"                           http://ADDR:PORT/metrics (e.g. 127.0.0.1:9477 or\n"
	"                           [::1]:9477; unauthenticated: every sandbox's name;\n"
	"                           default off)\n"
	"      --audit-journal[=BOOL]\n"
	"                           also send audit events to journald, with SBX_*\n"
	"                           fields (default false)\n"
	"      --pool PROFILE=N     keep N sandboxes of PROFILE built and waiting for\n"
	"                           root's starts (warm pool; repeatable; 0 = none)\n"
	"      --check-config       check the configuration and the policy directory,\n"
	"                           then exit\n"
	"      --varlink-certification\n"
	"                           also serve org.varlink.certification (for the\n"
	"                           protocol tester only)\n"
	"  -h, --help               this text\n"
	"  -V, --version            the version\n"
	"\n"
	"Signals: SIGHUP re-reads the policy directory (like sbx reload) and reopens\n"
	"the audit log (after logrotate); SIGTERM and\n"
	"SIGINT stop the daemon and leave the sandboxes running: the next sbxd adopts\n"
	"them.\n"
	"\n"
	"Exit status: 0 after SIGTERM or --check-config success, 1 on an error (the\n"
	"message says which file, line and column, or which setting), 2 on usage\n"
	"errors.\n";

enum {
	OPT_POLICY_DIR = 256, OPT_STATE_DIR, OPT_SOCKET, OPT_AUDIT_DIR, OPT_CGROUP_ROOT,
	OPT_ADMIN_GROUP, OPT_STOP_TIMEOUT, OPT_LOG_MAX, OPT_LOG_KEEP, OPT_MAX_SANDBOXES, OPT_MAX_PER_USER,
	OPT_SBX, OPT_METRICS_LISTEN, OPT_AUDIT_JOURNAL, OPT_AUDIT_MAX, OPT_AUDIT_KEEP,
	OPT_POOL, OPT_CHECK, OPT_CERT,
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "policy-dir", required_argument, NULL, OPT_POLICY_DIR },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "audit-dir", required_argument, NULL, OPT_AUDIT_DIR },
	{ "cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT },
	{ "admin-group", required_argument, NULL, OPT_ADMIN_GROUP },
	{ "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
	{ "log-max-size", required_argument, NULL, OPT_LOG_MAX },
	{ "log-keep", required_argument, NULL, OPT_LOG_KEEP },
	{ "max-sandboxes", required_argument, NULL, OPT_MAX_SANDBOXES },
	{ "max-sandboxes-per-user", required_argument, NULL, OPT_MAX_PER_USER },
	{ "sbx", required_argument, NULL, OPT_SBX },
	{ "metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN },
	{ "audit-journal", optional_argument, NULL, OPT_AUDIT_JOURNAL },
	{ "audit-max-size", required_argument, NULL, OPT_AUDIT_MAX },
	{ "audit-keep", required_argument, NULL, OPT_AUDIT_KEEP },
	{ "pool", required_argument, NULL, OPT_POOL },
	{ "check-config", no_argument, NULL, OPT_CHECK },
	{ "varlink-certification", no_argument, NULL, OPT_CERT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static const char *const opt_keys[] = {
	[OPT_POLICY_DIR - 256] = "policy_dir", [OPT_STATE_DIR - 256] = "state_dir",
	[OPT_SOCKET - 256] = "socket", [OPT_AUDIT_DIR - 256] = "audit_dir",
	[OPT_CGROUP_ROOT - 256] = "cgroup_root", [OPT_ADMIN_GROUP - 256] = "admin_groups",
	[OPT_STOP_TIMEOUT - 256] = "stop_timeout", [OPT_LOG_MAX - 256] = "log_max_size",
	[OPT_LOG_KEEP - 256] = "log_keep", [OPT_MAX_SANDBOXES - 256] = "max_sandboxes",
	[OPT_SBX - 256] = "sbx", [OPT_MAX_PER_USER - 256] = "max_sandboxes_per_user",
	[OPT_METRICS_LISTEN - 256] = "metrics_listen",
	[OPT_AUDIT_JOURNAL - 256] = "audit_journal",
	[OPT_AUDIT_MAX - 256] = "audit_max_size", [OPT_AUDIT_KEEP - 256] = "audit_keep",
	[OPT_POOL - 256] = "pool",
};

struct flags {
	const char *config;
	bool check;
};

/* The file first, the flags over it: getopt runs twice. */
static int parse(int argc, char **argv, struct sbxd_config *cfg, struct flags *fl)
{
	char why[1024];
	int o, r;

	sbxd_config_defaults(cfg);
	while ((o = getopt_long(argc, argv, "c:hV", long_opts, NULL)) != -1) {
		switch (o) {
		case 'c': fl->config = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		case 'V': printf("sbxd %s (audit ABI %d, API %d)\n", SBX_VERSION, SBX_ABI_VERSION,
				 SBXD_API_VERSION); exit(0);
		case OPT_CHECK: fl->check = true; break;
		case OPT_CERT: cfg->certification = true; break;
		case '?': fputs("Try 'sbxd --help' for more information.\n", stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sbxd: error: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	r = sbxd_config_load(cfg, fl->config ? fl->config : SBXD_CONFIG_DEFAULT, fl->config != NULL,
			     why, sizeof(why));
	if (r < 0) {
		fprintf(stderr, "sbxd: error: %s\n", why);
		return 1;
	}
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:hV", long_opts, NULL)) != -1) {
		if (o < OPT_POLICY_DIR || o > OPT_POOL)
			continue;
		/* --audit-journal alone turns it on */
		if (sbxd_config_set(cfg, opt_keys[o - 256], optarg ? optarg : "true", why, sizeof(why)) < 0) {
			fprintf(stderr, "sbxd: error: --%s: %s\n", long_opts[o - 256 + 1].name, why);
			return 2;
		}
	}
	return 0;
}

/* A socket path that nobody listens on any more is removed; one in use is
 * another sbxd's. */
static int stale_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (r == 0)
		return -EADDRINUSE;
	return unlink(path) < 0 ? -errno : 0;
}

static int listen_socket(const char *path, bool *ret_created)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	mode_t old;
	int fd, r;

	fd = sbx_systemd_listen_fd();
	if (fd >= 0) {
		/* the accept loop reads until EAGAIN; the monitors must not inherit it */
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
			return -errno;
		*ret_created = false;
		return fd;
	}
	if (fd == -EBADF)
		return fd;	/* systemd passed something that is not our socket */
	snprintf(dir, sizeof(dir), "%s", path);
	r = sbx_mkdir_p(dirname(dir), 0755);
	if (r < 0)
		return r;
	r = stale_socket(path);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* everyone may connect: each call is decided by the caller's credentials */
	old = umask(0111);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 128) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_created = true;
	return fd;
}

/* Whether st may be trusted for what root runs: owned by root (or by sbxd's
 * own user) and writable by no one else; a sticky directory (/tmp) lets no
 * one else replace what is in it. */
static bool trusted(const struct stat *st)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return false;
	if (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))
		return true;
	return !(st->st_mode & S_IWOTH) && (!(st->st_mode & S_IWGRP) || st->st_gid == 0);
}

/* sbxd runs the sbx binary as root for any caller: a binary, or a
 * directory above it, that another user may write would let that user pick
 * what runs as root (an install into a user-writable prefix). Resolves
 * path (no symlink swapped later) and checks it and each directory above. */
static int check_sbx(char *path, size_t len, char *why, size_t wlen)
{
	char real[4096], *slash;
	struct stat st;

	if (!realpath(path, real))
		return -errno;
	snprintf(path, len, "%s", real);
	for (;;) {
		if (stat(real, &st) < 0)
			return -errno;
		if (!trusted(&st))
			return sbx_fail(why, wlen, -EPERM,
					"%s is owned by uid %u or writable by others (mode %04o): "
					"whoever may write it chooses what sbxd runs as root",
					real, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		slash = strrchr(real, '/');
		if (!slash || slash == real) {
			if (slash && real[1]) {
				real[1] = '\0';
				continue;
			}
			return 0;
		}
		*slash = '\0';
	}
}

static int find_sbx(struct sbxd *d, char *why, size_t len)
{
	char self[4096];
	ssize_t n;

	if (d->cfg.sbx_binary[0]) {
		snprintf(d->sbx_path, sizeof(d->sbx_path), "%s", d->cfg.sbx_binary);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0)
			return -errno;
		self[n] = '\0';
		/* beside sbxd (a build tree), else PREFIX/bin beside PREFIX/sbin */
		snprintf(d->sbx_path, sizeof(d->sbx_path), "%s/sbx", dirname(self));
		if (access(d->sbx_path, X_OK) < 0)
			snprintf(d->sbx_path, sizeof(d->sbx_path), "%s/../bin/sbx", self);
	}
	if (access(d->sbx_path, X_OK) < 0)
		return -errno;
	return check_sbx(d->sbx_path, sizeof(d->sbx_path), why, len);
}

static int open_audit(struct sbxd *d)
{
	char dir[4096], why[4200];
	int r;

	if (d->cfg.audit_dir[0])
		setenv("SBX_LOG_DIR", d->cfg.audit_dir, 1);
	r = sbx_audit_log_path(d->audit_path, sizeof(d->audit_path));
	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s", d->audit_path);
	r = sbx_mkdir_p(dirname(dir), 0755);
	if (r < 0)
		return r;
	r = sbx_auditlog_open(&d->audit, d->audit_path, d->cfg.audit_max_size, d->cfg.audit_keep, why,
			      sizeof(why));
	return r < 0 ? fprintf(stderr, "sbxd: error: the audit log %s\n", why), r : 0;
}

/* Where the monitors put their instance's cgroups: cgroup_root when set;
 * else sbx's own rule, which each monitor applies: beneath its cgroup, or on
 * a systemd host in the transient delegated scope sbx-<instance>.scope of
 * sbx.slice (kernel/systemd.h). Not in sbxd.service's own cgroup: a cgroup
 * that holds the sandboxes' cgroups (controllers enabled for its children)
 * cannot take a process, and systemd (before DelegateSubgroup=, v254) puts
 * the new main process of a restart there: `systemctl restart sbxd` would
 * fail with EBUSY (219/CGROUP) while a sandbox runs. In the scope, the
 * monitors and workloads outlive the daemon whatever its KillMode. */
static void cgroup_placement(struct sbxd *d)
{
	if (d->cfg.cgroup_root[0])
		snprintf(d->cgroup_root, sizeof(d->cgroup_root), "%s", d->cfg.cgroup_root);
}

/* One daemon per registry: a second one would adopt the same monitors and
 * rewrite the same meta.json files. The lock goes with the daemon, even
 * after kill -9; the monitors do not inherit it (O_CLOEXEC). */
static int lock_state_dir(struct sbxd *d)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/lock", d->cfg.state_dir);
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (d->lock_fd < 0)
		return -errno;
	return flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0 ? -errno : 0;
}

static int setup(struct sbxd *d, bool *ret_created)
{
	char why[1024];
	int lfd, r;

	why[0] = '\0';
	r = find_sbx(d, why, sizeof(why));
	if (r < 0)
		return fprintf(stderr, "sbxd: error: the sbx binary %s: %s (set sbx = or --sbx)\n",
			       d->sbx_path, why[0] ? why : strerror(-r)), r;
	if (sbxd_policy_load(d, &d->pol, why, sizeof(why), NULL) < 0)
		return fprintf(stderr, "sbxd: error: %s\n", why), -EINVAL;
	d->have_pol = true;
	cgroup_placement(d);
	r = open_audit(d);
	if (r < 0)
		return r;
	if (d->cfg.audit_journal && sbx_journal_open(&d->journal) < 0)
		fprintf(stderr, "sbxd: warning: %s\n", sbx_journal_warning(&d->journal, why, sizeof(why)));
	r = sbx_mkdir_p(d->cfg.state_dir, 0700);
	if (r == 0)
		r = lock_state_dir(d);
	if (r == -EWOULDBLOCK)
		return fprintf(stderr, "sbxd: error: another sbxd uses the state directory %s\n",
			       d->cfg.state_dir), r;
	if (r < 0 || sbxd_registry_open(d, why, sizeof(why)) < 0)
		return fprintf(stderr, "sbxd: error: state directory %s: %s\n", d->cfg.state_dir,
			       r < 0 ? strerror(-r) : why), -EIO;
	/* before the API socket: a refused address leaves nothing behind */
	if (d->cfg.metrics_listen[0]) {
		r = sbxd_http_start(d, why, sizeof(why));
		if (r < 0)
			return fprintf(stderr, "sbxd: error: %s\n", why), r;
		fprintf(stderr, "sbxd: metrics on http://%s/metrics\n", d->cfg.metrics_listen);
	}
	lfd = listen_socket(d->cfg.socket, ret_created);
	if (lfd < 0)
		return fprintf(stderr, "sbxd: error: socket %s: %s\n", d->cfg.socket,
			       lfd == -EADDRINUSE ? "another sbxd listens there" :
			       lfd == -EEXIST ? "a file that is not a socket is in the way" :
			       lfd == -EBADF ? "the socket systemd passed is not a listening unix stream socket" :
			       strerror(-lfd)), lfd;
	return lfd;
}

struct sig_io {
	struct ev_io io;
	struct sbxd *d;
};

static void on_signal(struct ev_io *io, uint32_t events)
{
	struct sig_io *s = (struct sig_io *)io;
	struct signalfd_siginfo si;

	while (read(io->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			s->d->reload = true;
		else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			s->d->quit = true;
	}
}

static void reload(struct sbxd *d)
{
	struct cli_policy np;
	char why[1024];

	d->reload = false;
	sbx_auditlog_reopen(&d->audit);	/* after logrotate: its postrotate sends SIGHUP */
	if (sbxd_policy_load(d, &np, why, sizeof(why), NULL) < 0) {
		fprintf(stderr, "sbxd: reload refused, the old policy stays: %s\n", why);
		return;
	}
	cli_policy_free(&d->pol);
	d->pol = np;
	fprintf(stderr, "sbxd: policy reloaded from %s\n", d->cfg.policy_dir);
	sbxd_pool_reconcile(d);
}

static int serve(struct sbxd *d, int lfd)
{
	static const struct vl_server_info info = {
		.vendor = "sbx", .product = "sbxd", .version = SBX_VERSION,
		.url = "https://github.com/sbx/sbx/blob/main/docs/api.md",
		.failed_error = "org.sbx.Manager.Failed",
		.invalid_error = "org.sbx.Manager.InvalidParameter",
	};
	struct sig_io sio = { .io = { .fn = on_signal }, .d = d };
	sigset_t set;
	int r;

	r = vl_server_new(d->epfd, lfd, &info, &d->server);
	if (r == 0)
		r = vl_server_add(d->server, sbxd_manager_interface(d));
	/* only for the interop test: never served without the flag */
	if (r == 0 && d->cfg.certification)
		r = vl_server_add(d->server, sbxd_certification_interface());
	if (r < 0)
		return r;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sio.io.fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sio.io.fd < 0 || ev_add(d->epfd, &sio.io, EPOLLIN) < 0)
		return -errno;
	{
		char why[512];

		if (sbxd_pool_init(d, why, sizeof(why)) < 0)
			return fprintf(stderr, "sbxd: error: %s\n", why), -EIO;
	}
	sbx_systemd_notify("READY=1");
	fprintf(stderr, "sbxd: listening on %s (%zu sandboxes in the registry)\n", d->cfg.socket,
		d->n_sandboxes);
	while (!d->quit) {
		/* One event at a time: a handler may free what another event
		 * of the same batch points to (a pooled Run's done byte and its
		 * monitor's exit: either ends the sandbox and frees it), and an
		 * event taken from the kernel after ev_del was not returned
		 * would then be a use after free. */
		struct epoll_event ev;
		int n = epoll_wait(d->epfd, &ev, 1, -1);

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 1) {
			struct ev_io *io = ev.data.ptr;

			io->fn(io, ev.events);
		}
		if (d->reload)
			reload(d);
	}
	sbx_systemd_notify("STOPPING=1");
	sbxd_pool_stop(d);
	sbxd_http_stop(d);
	sbxd_metrics_free(d);
	close(sio.io.fd);
	return 0;
}

/* Each client, monitor pidfd, timer and follower is a descriptor: sbxd
 * takes its hard limit (the monitors get the soft one back). */
static void raise_nofile(struct sbxd *d)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &d->nofile) < 0)
		return;
	rl = d->nofile;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
	if (rl.rlim_cur > d->nofile.rlim_cur)
		setrlimit(RLIMIT_NOFILE, &rl);
}

int main(int argc, char **argv)
{
	static struct sbxd d;
	struct flags fl = { 0 };
	bool created = false;
	sigset_t set;
	int r, lfd;

	r = parse(argc, argv, &d.cfg, &fl);
	if (r)
		return r;
	if (geteuid() != 0) {
		fprintf(stderr, "sbxd: error: sbxd must run as root (it creates cgroups and loads BPF)\n");
		return 1;
	}
	d.audit = (struct sbx_auditlog){ .dirfd = -1, .lockfd = -1, .fd = -1 };
	d.lock_fd = -1;
	d.follow_timer.fd = -1;
	if (fl.check) {
		char why[1024];

		why[0] = '\0';
		r = find_sbx(&d, why, sizeof(why));
		if (r < 0)
			return fprintf(stderr, "sbxd: error: the sbx binary %s: %s (set sbx = or --sbx)\n",
				       d.sbx_path, why[0] ? why : strerror(-r)), 1;
		if (sbxd_policy_load(&d, &d.pol, why, sizeof(why), NULL) < 0)
			return fprintf(stderr, "sbxd: error: %s\n", why), 1;
		printf("sbxd: configuration and policy directory %s are valid\n", d.cfg.policy_dir);
		return 0;
	}
	/* the signals go through signalfd; a vanished reader is EPIPE, not death */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile(&d);
	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d.epfd < 0)
		return perror("sbxd: epoll_create1"), 1;
	lfd = setup(&d, &created);
	if (lfd < 0)
		return 1;
	r = serve(&d, lfd);
	if (r < 0)
		fprintf(stderr, "sbxd: error: %s\n", strerror(-r));
	vl_server_free(d.server);
	if (created)
		unlink(d.cfg.socket);
	fprintf(stderr, "sbxd: stopped; %zu sandboxes keep running and will be adopted\n",
		d.n_sandboxes);
	return r < 0 ? 1 : 0;
}
