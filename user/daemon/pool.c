/* SPDX-License-Identifier: MIT */
/*
 * Warm pools (docs/api.md, "Warm pools"): pool.PROFILE = N keeps N
 * monitors of PROFILE built and waiting, each at the last step before its
 * workload (core/poolgo.h): slot, cgroup and limits, maps, audit sinks and
 * the provider's preparation with its seccomp filter are done. A start
 * whose effective profile is byte for byte the pool's, by root, takes one
 * (a hit): sbxd sends it the go with the command and the stdio and adopts
 * it as the sandbox's monitor; a replacement is started at once. Anything
 * else starts cold. The key is the whole profile as the monitor reads it,
 * so no setting that decides isolation is ever applied after the fact; a
 * changed profile drains the pool (EOF: the entries tear themselves down).
 *
 * An entry is handed out once: it is unlinked from its pool before the go
 * is sent, and its socket goes to the sandbox; the monitor reads one go and
 * never reads the socket again. It writes one byte there, SBX_POOL_DONE,
 * once the workload has ended and its result is written, before its
 * teardown: a Run is answered then (sandbox.c done_event), and the monitor
 * is reaped here when its teardown is over.
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/adhoc.h"
#include "core/poolgo.h"
#include "daemon/daemon.h"
#include "util/util.h"

#define FAIL_STREAK	3	/* entries failing in a row before the pool backs off */
#define BACKOFF_MS	1000
#define STOP_WAIT_MS	5000	/* sbxd's exit waits this long for its entries' teardown */
/* A Run's hit refills its pool after the answer (sbxd_pool_refill), not
 * beside the workload: building an entry is tens of milliseconds of CPU
 * that the Run would compete with. A Run that is still running after
 * this long gets its replacement anyway. */
#define REFILL_DELAY_MS	100

struct sbxd_pool_entry {
	struct sbxd_pool *pool;
	struct sbxd_pool_entry *next;
	pid_t pid;
	struct ev_io pidfd;
	struct ev_io sock;
	bool ready;
	bool draining;		/* its socket is closed: it tears itself down */
};

static struct sbxd_pool *pool_of(struct sbxd *d, const char *profile)
{
	for (size_t i = 0; i < d->n_pools; i++)
		if (!strcmp(d->pools[i].profile, profile))
			return &d->pools[i];
	return NULL;
}

static void close_sock(struct sbxd_pool_entry *e)
{
	if (e->sock.fd < 0)
		return;
	ev_del(e->pool->d->epfd, &e->sock);
	close(e->sock.fd);
	e->sock.fd = -1;
}

static void unlink_entry(struct sbxd_pool_entry *e)
{
	struct sbxd_pool *p = e->pool;

	for (struct sbxd_pool_entry **pp = &p->entries; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	if (!e->draining) {
		p->n_entries--;
		if (e->ready)
			p->n_ready--;
	}
}

static void free_entry(struct sbxd_pool_entry *e)
{
	close_sock(e);
	if (e->pidfd.fd >= 0) {
		ev_del(e->pool->d->epfd, &e->pidfd);
		close(e->pidfd.fd);
	}
	free(e);
}

/* EOF to the entry: it tears its sandbox down and exits (reaped by its pidfd). */
static void drain_entry(struct sbxd_pool_entry *e)
{
	if (e->draining)
		return;
	e->pool->n_entries--;
	if (e->ready)
		e->pool->n_ready--;
	e->draining = true;
	close_sock(e);
}

static void drain(struct sbxd_pool *p)
{
	for (struct sbxd_pool_entry *e = p->entries; e; e = e->next)
		drain_entry(e);
}

static void fill(struct sbxd_pool *p);

static void arm_timer(struct sbxd_pool *p, uint64_t ms)
{
	struct itimerspec its = { .it_value = { .tv_sec = (time_t)(ms / 1000),
						.tv_nsec = (long)(ms % 1000) * 1000000 } };

	if (p->timer.fd < 0) {
		p->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (p->timer.fd < 0 || ev_add(p->d->epfd, &p->timer, EPOLLIN) < 0)
			return;
	}
	timerfd_settime(p->timer.fd, 0, &its, NULL);
}

static void arm_backoff(struct sbxd_pool *p)
{
	uint32_t k = p->streak - FAIL_STREAK;

	arm_timer(p, (uint64_t)BACKOFF_MS << (k > 5 ? 5 : k));
}

static void timer_event(struct ev_io *io, uint32_t events)
{
	struct sbxd_pool *p = (struct sbxd_pool *)((char *)io - offsetof(struct sbxd_pool, timer));
	uint64_t n;

	if (read(io->fd, &n, sizeof(n)) < 0)
		return;
	p->backing_off = false;
	fill(p);
}

/* The entry ended: drained, or its setup failed before it was ready. */
static void entry_pidfd_event(struct ev_io *io, uint32_t events)
{
	struct sbxd_pool_entry *e = (struct sbxd_pool_entry *)((char *)io -
							       offsetof(struct sbxd_pool_entry, pidfd));
	struct sbxd_pool *p = e->pool;
	siginfo_t si = { 0 };
	bool failed = !e->draining;

	waitid(P_PIDFD, (id_t)io->fd, &si, WEXITED | WNOHANG);
	unlink_entry(e);
	free_entry(e);
	if (!failed)
		return;
	p->failures++;
	if (++p->streak >= FAIL_STREAK) {
		p->backing_off = true;
		arm_backoff(p);
		return;
	}
	fill(p);
}

/* SBX_POOL_READY, or EOF when the entry failed (its pidfd follows). */
static void entry_sock_event(struct ev_io *io, uint32_t events)
{
	struct sbxd_pool_entry *e = (struct sbxd_pool_entry *)((char *)io -
							       offsetof(struct sbxd_pool_entry, sock));
	char c = 0;
	ssize_t n = recv(io->fd, &c, 1, MSG_DONTWAIT);

	if (n < 0 && errno == EAGAIN)
		return;
	ev_del(e->pool->d->epfd, io);
	if (n == 1 && c == SBX_POOL_READY && !e->draining) {
		e->ready = true;
		e->pool->n_ready++;
		e->pool->streak = 0;
	}
	/* else its setup failed: it exits, and its pidfd counts the failure */
}

/* sbx run --policy POOLFILE --profile NAME [--audit-journal] -- true: the
 * command is a placeholder until the go. */
static char **entry_argv(struct sbxd_pool *p)
{
	char **v = calloc(10, sizeof(*v));
	size_t k = 0;

	if (!v)
		return NULL;
#define ADD(s) do { if (!(v[k++] = strdup(s))) goto fail; } while (0)
	ADD(p->d->sbx_path);
	ADD("run");
	ADD("--policy");
	ADD(p->file);
	ADD("--profile");
	ADD(p->run_name);
	if (p->d->cfg.audit_journal)
		ADD("--audit-journal");
	ADD("--");
	ADD("true");
#undef ADD
	return v;
fail:
	for (size_t i = 0; i < k; i++)
		free(v[i]);
	free(v);
	return NULL;
}

/* In the child: the socket on a descriptor that survives exec, then the
 * monitor as sandbox.c starts every monitor (as root's, stdio /dev/null,
 * stderr into STATE/pool/PROFILE.log). Never returns. */
static void entry_exec(struct sbxd_pool *p, int sock, char **argv)
{
	struct sbxd_sandbox tmp = { .d = p->d, .ephemeral = true,
				    .run_fds = { -1, -1, -1 } };
	char path[4200], v[16];
	int fd = fcntl(sock, F_DUPFD, 10);

	if (fd < 0)
		_exit(125);
	snprintf(v, sizeof(v), "%d", fd);
	setenv("SBX_POOL_FD", v, 1);
	snprintf(path, sizeof(path), "%s/pool/%s.log", p->d->cfg.state_dir, p->profile);
	tmp.run_fds[2] = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	sbxd_monitor_exec(&tmp, argv);
}

static int spawn_entry(struct sbxd_pool *p)
{
	struct sbxd_pool_entry *e = calloc(1, sizeof(*e));
	char **argv = entry_argv(p);
	int sv[2] = { -1, -1 }, r = 0;
	pid_t pid;

	if (!e || !argv || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = e && argv ? -errno : -ENOMEM;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0)
		entry_exec(p, sv[1], argv);
	e->pool = p;
	e->pid = pid;
	e->pidfd = (struct ev_io){ .fd = (int)syscall(SYS_pidfd_open, pid, 0), .fn = entry_pidfd_event };
	e->sock = (struct ev_io){ .fd = sv[0], .fn = entry_sock_event };
	sv[0] = -1;
	if (e->pidfd.fd < 0 || ev_add(p->d->epfd, &e->pidfd, EPOLLIN) < 0 ||
	    ev_add(p->d->epfd, &e->sock, EPOLLIN) < 0) {
		r = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (e->pidfd.fd >= 0) {
			ev_del(p->d->epfd, &e->pidfd);
			close(e->pidfd.fd);
		}
		close(e->sock.fd);
		goto out;
	}
	e->next = p->entries;
	p->entries = e;
	p->n_entries++;
	e = NULL;
out:
	free(e);
	for (char **a = argv; a && *a; a++)
		free(*a);
	free(argv);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return r;
}

static void fill(struct sbxd_pool *p)
{
	while (p->toml && !p->backing_off && p->n_entries < p->size && !p->d->quit)
		if (spawn_entry(p) < 0) {
			p->failures++;
			break;
		}
}

/* The profile as root's start without overrides makes it, written as the
 * monitor reads it: the pool's key. */
static int profile_text(const struct sbx_profile *p, char **ret, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f)
		return -ENOMEM;
	r = sbx_profile_write_toml(p, f);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int write_file(const char *path, const char *text, size_t len)
{
	char tmp[4300];
	FILE *f;
	int r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	if (fwrite(text, 1, len, f) != len)
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -EIO;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	return r;
}

/* The pool's key from the loaded policy; NULL toml (and why) when the
 * profile cannot be pooled. */
static void rekey(struct sbxd_pool *p)
{
	struct sbxd *d = p->d;
	const struct sbx_profile *base = d->have_pol ? cli_policy_find(&d->pol, p->profile) : NULL;
	struct adhoc_profile ap = { 0 };
	struct adhoc_args a;
	char *text = NULL;
	size_t len = 0;
	int r;

	p->why[0] = '\0';
	if (!base) {
		snprintf(p->why, sizeof(p->why), "no profile '%s' in %s", p->profile, d->cfg.policy_dir);
	} else if (sbxd_overrides_args(NULL, &a) < 0 || adhoc_build(&a, base, true, &ap) < 0) {
		snprintf(p->why, sizeof(p->why), "cannot build the profile");
	} else if (!ap.p->provider || strcmp(ap.p->provider, "process")) {
		/* its provider is prepared before the command is known: the
		 * process provider alone needs nothing of the command there */
		snprintf(p->why, sizeof(p->why), "provider %s: only profiles with provider = "
			 "\"process\" have a pool", ap.p->provider ? ap.p->provider : "auto");
	} else if ((r = profile_text(ap.p, &text, &len)) < 0 || (r = write_file(p->file, text, len)) < 0) {
		snprintf(p->why, sizeof(p->why), "%s: %s", p->file, strerror(-r));
		free(text);
		text = NULL;
	}
	if (text && p->toml && p->toml_len == len && !memcmp(p->toml, text, len)) {
		free(text);	/* unchanged: the entries stay */
		adhoc_profile_free(&ap);
		return;
	}
	drain(p);
	free(p->toml);
	free(p->run_name);
	p->toml = text;
	p->toml_len = len;
	p->run_name = text ? strdup(ap.p->name) : NULL;
	if (text && !p->run_name) {
		free(p->toml);
		p->toml = NULL;
	}
	p->streak = 0;
	p->backing_off = false;
	adhoc_profile_free(&ap);
	if (p->why[0])
		fprintf(stderr, "sbxd: pool %s: %s\n", p->profile, p->why);
}

json_object *sbxd_pool_json(struct sbxd *d, bool reasons)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < d->n_pools; i++) {
		const struct sbxd_pool *p = &d->pools[i];
		json_object *o = json_object_new_object();

		if (!o || json_object_array_add(a, o)) {
			json_object_put(o);
			json_object_put(a);
			return NULL;
		}
		json_object_object_add(o, "profile", json_object_new_string(p->profile));
		json_object_object_add(o, "size", json_object_new_int64(p->size));
		json_object_object_add(o, "ready", json_object_new_int64(p->n_ready));
		json_object_object_add(o, "hits", json_object_new_int64((int64_t)p->hits));
		json_object_object_add(o, "misses", json_object_new_int64((int64_t)p->misses));
		json_object_object_add(o, "failures", json_object_new_int64((int64_t)p->failures));
		if (reasons && p->why[0])
			json_object_object_add(o, "reason", json_object_new_string(p->why));
	}
	return a;
}

void sbxd_pool_refill(struct sbxd *d)
{
	for (size_t i = 0; i < d->n_pools; i++)
		fill(&d->pools[i]);
}

void sbxd_pool_reconcile(struct sbxd *d)
{
	for (size_t i = 0; i < d->n_pools; i++) {
		rekey(&d->pools[i]);
		fill(&d->pools[i]);
	}
}

int sbxd_pool_init(struct sbxd *d, char *why, size_t len)
{
	char dir[4200];
	int r;

	if (!d->cfg.n_pools)
		return 0;
	snprintf(dir, sizeof(dir), "%s/pool", d->cfg.state_dir);
	r = sbx_mkdir_p(dir, 0700);
	if (r < 0)
		return sbx_fail(why, len, r, "cannot create %s: %s", dir, strerror(-r));
	d->pools = calloc(d->cfg.n_pools, sizeof(*d->pools));
	if (!d->pools)
		return -ENOMEM;
	for (size_t i = 0; i < d->cfg.n_pools; i++) {
		struct sbxd_pool *p = &d->pools[i];

		p->d = d;
		snprintf(p->profile, sizeof(p->profile), "%s", d->cfg.pools[i].profile);
		p->size = d->cfg.pools[i].size;
		snprintf(p->file, sizeof(p->file), "%s/%s.toml", dir, p->profile);
		p->timer = (struct ev_io){ .fd = -1, .fn = timer_event };
	}
	d->n_pools = d->cfg.n_pools;
	sbxd_pool_reconcile(d);
	return 0;
}

/* The go: what this start varies in, and its stdio. */
static int send_go(struct sbxd_pool_entry *e, struct sbxd_sandbox *sb)
{
	const struct sbxd_config *c = &sb->d->cfg;
	_cleanup_free_ char *msg = malloc(SBX_POOL_MSG_MAX);
	char v[4200];
	size_t len = 0;
	int fds[3], opened[3] = { -1, -1, -1 }, r = 0;

	if (!msg)
		return -ENOMEM;
	for (char **a = sb->argv; *a && r == 0; a++)
		r = sbx_pool_go_add(msg, &len, SBX_POOL_MSG_MAX, "arg", *a);
#define ADD(k, ...) do { snprintf(v, sizeof(v), __VA_ARGS__); \
		if (r == 0) r = sbx_pool_go_add(msg, &len, SBX_POOL_MSG_MAX, k, v); } while (0)
	ADD("policy", "%s/profile.toml", sb->dir);
	ADD("result", "%s/result.json", sb->dir);
	if (sb->ephemeral && sb->tty)
		ADD("tty", "1");
	if (!sb->ephemeral) {
		ADD("log", "%s/output.log", sb->dir);
		ADD("log_max_size", "%llu", (unsigned long long)c->log_max_size);
		ADD("log_keep", "%u", c->log_keep);
	}
#undef ADD
	if (r < 0)
		return r;
	for (int i = 0; i < 3; i++) {
		fds[i] = sb->run_fds[i];
		if (i == 2 && !sb->ephemeral) {
			/* as monitor_exec: a detached monitor's complaints */
			snprintf(v, sizeof(v), "%s/monitor.log", sb->dir);
			fds[i] = opened[i] = open(v, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
		}
		if (fds[i] < 0)
			fds[i] = opened[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fds[i] < 0)
			r = -errno;
	}
	if (r == 0)
		r = sbx_pool_go_send(e->sock.fd, msg, len, fds);
	for (int i = 0; i < 3; i++)
		if (opened[i] >= 0)
			close(opened[i]);
	return r;
}

/* The pool of sb's start, when its key is the pool's. */
static struct sbxd_pool *matching_pool(struct sbxd_sandbox *sb, const struct sbx_profile *prof)
{
	struct sbxd_pool *p = pool_of(sb->d, sb->profile);
	char *text = NULL;
	size_t len = 0;
	bool same;

	/* the caller's identity is part of the key: entries are root's; an
	 * entry's view is built before the go, and a -t start's pty is part
	 * of the view (rootfs.c bind_tty): those start cold */
	if (!p || !p->toml || sb->owner != 0 || sb->owner_gid != 0 || sb->tty)
		return NULL;
	if (profile_text(prof, &text, &len) < 0)
		return NULL;
	same = len == p->toml_len && !memcmp(text, p->toml, len);
	free(text);
	return same ? p : NULL;
}

int sbxd_pool_take(struct sbxd_sandbox *sb, const struct sbx_profile *prof)
{
	struct sbxd_pool *p = matching_pool(sb, prof);
	struct sbxd_pool_entry *e;

	if (!p)
		return -ENOENT;
	for (;;) {
		for (e = p->entries; e && (!e->ready || e->draining); e = e->next)
			;
		if (!e) {
			p->misses++;
			fill(p);
			return -EAGAIN;
		}
		/* out of the pool before the go: never handed out twice */
		unlink_entry(e);
		if (send_go(e, sb) == 0)
			break;
		/* gone meanwhile: its end is reaped below, the next one is tried */
		kill(e->pid, SIGKILL);
		waitid(P_PIDFD, (id_t)e->pidfd.fd, &(siginfo_t){ 0 }, WEXITED);
		free_entry(e);
		p->failures++;
	}
	e->ready = false;	/* its socket is off the loop already */
	sbxd_sandbox_watch_done(sb, e->sock.fd);
	e->sock.fd = -1;
	ev_del(sb->d->epfd, &e->pidfd);
	sbxd_sandbox_attach(sb, e->pid, e->pidfd.fd);
	e->pidfd.fd = -1;
	free_entry(e);
	p->hits++;
	sb->pooled = true;
	if (!sb->ephemeral)
		fill(p);
	else if (!p->backing_off)
		arm_timer(p, REFILL_DELAY_MS);	/* or sbxd_pool_refill, whichever first */
	return 0;
}

struct sbxd_reap {
	struct sbxd *d;
	struct sbxd_reap *next;
	pid_t pid;
	struct ev_io pidfd;
};

static void reap_free(struct sbxd_reap *r)
{
	for (struct sbxd_reap **pp = &r->d->reaps; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	ev_del(r->d->epfd, &r->pidfd);
	close(r->pidfd.fd);
	free(r);
}

static void reap_event(struct ev_io *io, uint32_t events)
{
	struct sbxd_reap *r = (struct sbxd_reap *)((char *)io - offsetof(struct sbxd_reap, pidfd));

	waitid(P_PIDFD, (id_t)io->fd, &(siginfo_t){ 0 }, WEXITED | WNOHANG);
	reap_free(r);
}

void sbxd_reap(struct sbxd *d, pid_t pid, int pidfd)
{
	struct sbxd_reap *r = calloc(1, sizeof(*r));

	if (r) {
		*r = (struct sbxd_reap){ .d = d, .next = d->reaps, .pid = pid,
					 .pidfd = { .fd = pidfd, .fn = reap_event } };
		if (ev_add(d->epfd, &r->pidfd, EPOLLIN) == 0) {
			d->reaps = r;
			return;
		}
		free(r);
	}
	/* cannot watch it: wait for its teardown here (rare; no leak, no zombie) */
	waitid(P_PIDFD, (id_t)pidfd, &(siginfo_t){ 0 }, WEXITED);
	close(pidfd);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void sbxd_pool_stop(struct sbxd *d)
{
	uint64_t end;

	for (size_t i = 0; i < d->n_pools; i++)
		drain(&d->pools[i]);
	/* their teardown removes the cgroups and frees the slots: wait for it */
	end = mono_ms() + STOP_WAIT_MS;
	for (size_t i = 0; i < d->n_pools; i++) {
		struct sbxd_pool *p = &d->pools[i];

		while (p->entries) {
			struct sbxd_pool_entry *e = p->entries;
			struct pollfd pf = { .fd = e->pidfd.fd, .events = POLLIN };
			uint64_t now = mono_ms();

			if (pf.fd >= 0 && (now >= end || poll(&pf, 1, (int)(end - now)) <= 0))
				kill(e->pid, SIGKILL);
			waitpid(e->pid, NULL, 0);
			unlink_entry(e);
			free_entry(e);
		}
		if (p->timer.fd >= 0)
			close(p->timer.fd);
		free(p->toml);
		free(p->run_name);
	}
	/* the monitors that answered their Run finish their teardown */
	while (d->reaps) {
		struct pollfd pf = { .fd = d->reaps->pidfd.fd, .events = POLLIN };
		uint64_t now = mono_ms();

		if (now >= end || poll(&pf, 1, (int)(end - now)) <= 0)
			kill(d->reaps->pid, SIGKILL);
		waitpid(d->reaps->pid, NULL, 0);
		reap_free(d->reaps);
	}
	free(d->pools);
	d->pools = NULL;
	d->n_pools = 0;
}
