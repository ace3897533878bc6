/* SPDX-License-Identifier: MIT */
/*
 * Logs and Subscribe: reading a file that another process appends to and
 * rotates. A follower holds its file open and reads what was appended every
 * FOLLOW_MS; when the path names another file (rotated away), it reads the
 * rest of the old one first, then the new one from its start, so no byte is
 * lost or read twice across a rotation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "util/util.h"

#define FOLLOW_MS	100
#define CHUNK		(256u << 10)	/* bytes of log per reply */
#define LINE_MAX_AUDIT	(64u << 10)	/* a longer audit line is skipped */

struct follower {
	struct follower *next;
	struct sbxd *d;
	struct vl_call *call;
	struct sbxd_sandbox *sb;	/* Logs: whose output; Subscribe: the one named, or NULL */
	bool events;			/* Subscribe (JSON lines) or Logs (raw bytes) */
	char path[4200];
	int fd;
	ino_t ino;
	char *part;			/* Subscribe: a line not ended yet */
	size_t part_len;
};

static void follower_free(struct sbxd *d, struct follower *f)
{
	for (struct follower **p = &d->followers; *p; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			break;
		}
	if (f->fd >= 0)
		close(f->fd);
	free(f->part);
	free(f);
}

static void follower_cancel(struct vl_call *c, void *data)
{
	struct follower *f = data;

	follower_free(f->d, f);
}

/* ---- Subscribe: audit lines, filtered ---- */

static bool event_visible(struct follower *f, json_object *ev)
{
	const struct vl_peer *peer = vl_call_peer(f->call);
	const char *id = NULL;

	if (vl_get_string(ev, "sandbox", &id) < 0)
		return !f->sb && sbxd_is_admin(f->d, peer);	/* api.denied and other daemon lines */
	for (struct sbxd_sandbox *sb = f->d->sandboxes; sb; sb = sb->next) {
		if (f->sb && sb != f->sb)
			continue;
		if (!sb->id[0])
			sbxd_sandbox_locate(sb, NULL, NULL, 0);
		if (sb->id[0] && !strcmp(sb->id, id))
			return sbxd_may_see(f->d, peer, sb);
	}
	return !f->sb && sbxd_is_admin(f->d, peer);	/* sandboxes of direct-mode sbx run */
}

static void send_lines(struct follower *f, const char *buf, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len && f->call; i++) {
		json_object *ev, *p;
		char *line;

		if (buf[i] != '\n')
			continue;
		if (f->part_len) {
			line = realloc(f->part, f->part_len + (i - start) + 1);
			if (!line)
				return;
			memcpy(line + f->part_len, buf + start, i - start);
			line[f->part_len + (i - start)] = '\0';
			f->part = NULL;
			f->part_len = 0;
		} else {
			line = strndup(buf + start, i - start);
		}
		start = i + 1;
		ev = line ? json_tokener_parse(line) : NULL;
		free(line);
		if (!ev || !json_object_is_type(ev, json_type_object) || !event_visible(f, ev)) {
			json_object_put(ev);
			continue;
		}
		p = json_object_new_object();
		if (p)
			json_object_object_add(p, "event", ev);
		else
			json_object_put(ev);
		vl_call_notify(f->call, p);
	}
	if (start < len && f->part_len + (len - start) <= LINE_MAX_AUDIT) {
		char *n = realloc(f->part, f->part_len + (len - start));

		if (n) {
			memcpy(n + f->part_len, buf + start, len - start);
			f->part = n;
			f->part_len += len - start;
		}
	}
}

/* ---- reading ---- */

static void send_data(struct follower *f, const char *buf, size_t len)
{
	json_object *p;

	if (f->events) {
		send_lines(f, buf, len);
		return;
	}
	p = json_object_new_object();
	if (p)
		json_object_object_add(p, "data", json_object_new_string_len(buf, (int)len));
	vl_call_notify(f->call, p);
}

/* Reads what was appended; returns whether anything was. */
static bool drain(struct follower *f)
{
	static char buf[CHUNK];
	bool any = false;
	ssize_t n;

	while (f->fd >= 0 && vl_call_alive(f->call) && (n = read(f->fd, buf, sizeof(buf))) > 0) {
		send_data(f, buf, (size_t)n);
		any = true;
	}
	return any;
}

static void reopen_if_rotated(struct follower *f)
{
	struct stat st;
	int fd;

	if (stat(f->path, &st) < 0 || (f->fd >= 0 && st.st_ino == f->ino))
		return;
	drain(f);	/* the rest of the file that was renamed away */
	fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = fd;
	f->ino = st.st_ino;
}

static void follow_tick(struct ev_io *io, uint32_t events)
{
	struct sbxd *d = (struct sbxd *)((char *)io - offsetof(struct sbxd, follow_timer));
	struct follower *f, *next;
	uint64_t n;

	if (read(io->fd, &n, sizeof(n)) < 0)
		return;
	for (f = d->followers; f; f = next) {
		next = f->next;
		reopen_if_rotated(f);
		drain(f);
		/* Logs --follow ends with the sandbox (unless it restarts) */
		if (!f->events && f->sb->state == SBXD_EXITED) {
			reopen_if_rotated(f);
			drain(f);
			struct vl_call *c = f->call;

			follower_free(d, f);
			vl_call_reply(c, NULL);
		}
	}
}

static int timer_on(struct sbxd *d)
{
	struct itimerspec its = {
		.it_interval = { .tv_nsec = FOLLOW_MS * 1000000L },
		.it_value = { .tv_nsec = FOLLOW_MS * 1000000L },
	};

	if (d->follow_timer.fd >= 0)
		return 0;
	d->follow_timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->follow_timer.fd < 0)
		return -errno;
	d->follow_timer.fn = follow_tick;
	if (timerfd_settime(d->follow_timer.fd, 0, &its, NULL) < 0 ||
	    ev_add(d->epfd, &d->follow_timer, EPOLLIN) < 0) {
		close(d->follow_timer.fd);
		d->follow_timer.fd = -1;
		return -errno;
	}
	return 0;
}

static int follow(struct sbxd *d, struct vl_call *c, struct sbxd_sandbox *sb, bool events,
		  const char *path, int fd)
{
	struct follower *f = calloc(1, sizeof(*f));
	struct stat st;

	if (!f || timer_on(d) < 0) {
		free(f);
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	f->d = d;
	f->call = c;
	f->sb = sb;
	f->events = events;
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->fd = fd;
	if (fd >= 0 && fstat(fd, &st) == 0)
		f->ino = st.st_ino;
	f->next = d->followers;
	d->followers = f;
	vl_call_defer(c, follower_cancel, f);
	return 0;
}

void sbxd_followers_drop(struct sbxd *d, struct sbxd_sandbox *sb)
{
	struct follower *f, *next;

	for (f = d->followers; f; f = next) {
		next = f->next;
		if (f->sb == sb) {
			struct vl_call *c = f->call;

			follower_free(d, f);
			vl_call_reply(c, NULL);
		}
	}
}

/* ---- Logs: the kept files, oldest first, then the last lines ---- */

static int read_kept(struct sbxd_sandbox *sb, char **ret, size_t *ret_len, int *ret_fd)
{
	uint32_t keep = sb->d->cfg.log_keep;
	char *all = NULL, path[4300];
	size_t len = 0;

	*ret_fd = -1;
	for (uint32_t i = keep + 1; i-- > 0;) {
		char *buf;
		size_t n;

		if (i)
			snprintf(path, sizeof(path), "%s/output.log.%u", sb->dir, i);
		else
			snprintf(path, sizeof(path), "%s/output.log", sb->dir);
		if (i == 0)
			*ret_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (sbx_read_file(path, &buf, &n, sb->d->cfg.log_max_size * 2 + (1 << 20)) < 0)
			continue;
		char *p = realloc(all, len + n + 1);

		if (!p) {
			free(buf);
			free(all);
			return -ENOMEM;
		}
		all = p;
		memcpy(all + len, buf, n);
		len += n;
		free(buf);
	}
	/* the live file is followed from where this read ended */
	if (*ret_fd >= 0)
		lseek(*ret_fd, 0, SEEK_END);
	*ret = all;
	*ret_len = len;
	return 0;
}

static size_t tail_start(const char *buf, size_t len, int64_t tail)
{
	size_t i = len;
	int64_t lines = 0;

	if (tail < 0)
		return 0;
	if (tail == 0)
		return len;
	if (i && buf[i - 1] == '\n')
		i--;		/* the last line's own end */
	for (; i > 0; i--)
		if (buf[i - 1] == '\n' && ++lines == tail)
			return i;
	return 0;
}

int sbxd_logs(struct sbxd *d, struct vl_call *c, struct sbxd_sandbox *sb, int64_t tail, bool fol)
{
	char *all = NULL, path[4300];
	size_t len = 0, off;
	int fd, r;
	json_object *p;

	r = read_kept(sb, &all, &len, &fd);
	if (r < 0)
		return r;
	off = tail_start(all, len, tail);
	if (!vl_call_more(c)) {
		/* one reply: the last CHUNK*2 bytes of what was asked */
		if (len - off > CHUNK * 2)
			off = len - CHUNK * 2;
		p = json_object_new_object();
		if (p)
			json_object_object_add(p, "data", json_object_new_string_len(all + off, (int)(len - off)));
		free(all);
		if (fd >= 0)
			close(fd);
		return vl_call_reply(c, p);
	}
	for (; off < len; off += CHUNK) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;

		p = json_object_new_object();
		if (p)
			json_object_object_add(p, "data", json_object_new_string_len(all + off, (int)n));
		vl_call_notify(c, p);
	}
	free(all);
	if (!fol || sb->state == SBXD_EXITED) {
		if (fd >= 0)
			close(fd);
		return vl_call_reply(c, NULL);
	}
	snprintf(path, sizeof(path), "%s/output.log", sb->dir);
	return follow(d, c, sb, false, path, fd);
}

int sbxd_subscribe(struct sbxd *d, struct vl_call *c, struct sbxd_sandbox *only)
{
	int fd = open(d->audit_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	/* events from now on; the file may not exist before the first sandbox */
	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return follow(d, c, only, true, d->audit_path, fd);
}
