/* SPDX-License-Identifier: MIT */
/*
 * Logs and Subscribe: reading a file that another process appends to and
 * rotates. A follower holds its file open and reads what was appended every
 * FOLLOW_MS; when the path names another file (rotated away), it reads the
 * rest of the old one first, then the rotated files it has not read, then
 * the new one from its start, so no byte is lost or read twice across any
 * number of rotations (core/logfile.h for output.log, core/auditlog.h for
 * audit.jsonl).
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

#include "core/auditlog.h"
#include "core/logfile.h"
#include "daemon/daemon.h"
#include "util/json.h"
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
	struct sbx_auditfollow af;	/* Subscribe (core/auditlog.h) */
	bool have_af;
	char *part;			/* Subscribe: a line not ended yet */
	size_t part_len;
	struct sbx_logfollow lf;	/* Logs (core/logfile.h) */
	bool have_lf;
};

static void follower_free(struct sbxd *d, struct follower *f)
{
	for (struct follower **p = &d->followers; *p; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			break;
		}
	if (f->have_af)
		sbx_auditfollow_close(&f->af);
	if (f->have_lf)
		sbx_logfollow_close(&f->lf);
	free(f->part);
	free(f);
}

/* The workload's bytes as a JSON string: varlink is JSON, JSON is UTF-8,
 * and json-c copies bytes as they are: a byte that is not part of valid
 * UTF-8 becomes U+FFFD, as in the audit log (output.log keeps the bytes). */
static json_object *text_json(const char *buf, size_t len)
{
	const unsigned char *u = (const unsigned char *)buf;
	json_object *o;
	char *t;
	size_t i = 0, n = 0;

	t = malloc(len * 3 + 1);
	if (!t)
		return NULL;
	while (i < len) {
		size_t k = json_utf8_len(u + i, len - i);

		if (k) {
			memcpy(t + n, u + i, k);
			n += k;
			i += k;
		} else {
			memcpy(t + n, "\xef\xbf\xbd", 3);
			n += 3;
			i++;
		}
	}
	o = json_object_new_string_len(t, (int)n);
	free(t);
	return o;
}

/* Logs' bytes become replies with "continues". */
static int emit_notify(void *ctx, const void *buf, size_t len)
{
	struct vl_call *c = ctx;
	json_object *p = json_object_new_object();

	if (!p)
		return -ENOMEM;
	json_object_object_add(p, "data", text_json(buf, len));
	return vl_call_notify(c, p);
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
			sbxd_sandbox_locate(sb, NULL);
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

/* Subscribe's bytes become event replies, line by line. */
static int emit_lines(void *ctx, const void *buf, size_t len)
{
	struct follower *f = ctx;

	if (!vl_call_alive(f->call))
		return -EPIPE;
	send_lines(f, buf, len);
	return 0;
}

static void follow_tick(struct ev_io *io, uint32_t events)
{
	struct sbxd *d = (struct sbxd *)((char *)io - offsetof(struct sbxd, follow_timer));
	struct follower *f, *next;
	uint64_t n;

	if (read(io->fd, &n, sizeof(n)) < 0)
		return;
	sbxd_start_check(d);
	sbxd_metrics_check(d);
	for (f = d->followers; f; f = next) {
		struct vl_call *c = f->call;

		next = f->next;
		if (f->events) {
			/* across rotations of audit.jsonl, by sbx run or logrotate */
			sbx_auditfollow_pump(&f->af, emit_lines, f);
			continue;
		}
		sbx_logfollow_pump(&f->lf, emit_notify, c);
		/* Logs --follow ends with the sandbox (unless it restarts) */
		if (f->sb->state == SBXD_EXITED) {
			sbx_logfollow_pump(&f->lf, emit_notify, c);
			follower_free(d, f);
			vl_call_reply(c, NULL);
		}
	}
}

int sbxd_tick_on(struct sbxd *d)
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

static int follow(struct sbxd *d, struct vl_call *c, struct sbxd_sandbox *sb, bool events)
{
	struct follower *f = calloc(1, sizeof(*f));
	char why[512];

	if (!f || sbxd_tick_on(d) < 0) {
		free(f);
		return -ENOMEM;
	}
	f->d = d;
	f->call = c;
	f->sb = sb;
	f->events = events;
	/* events from now on; the file may not exist before the first sandbox */
	if (events && sbx_auditfollow_start(&f->af, d->audit_path, why, sizeof(why)) < 0) {
		free(f);
		return -EIO;
	}
	f->have_af = events;
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

/* ---- Logs ---- */

struct capped {
	char *buf;
	size_t len, cap;
};

/* Without "more" one reply carries the output: its last LOGS_ONE_REPLY bytes. */
#define LOGS_ONE_REPLY (CHUNK * 2)

static int emit_capped(void *ctx, const void *data, size_t n)
{
	struct capped *k = ctx;

	if (n >= LOGS_ONE_REPLY) {
		data = (const char *)data + (n - LOGS_ONE_REPLY);
		n = LOGS_ONE_REPLY;
		k->len = 0;
	} else if (k->len + n > LOGS_ONE_REPLY) {
		size_t drop = k->len + n - LOGS_ONE_REPLY;

		memmove(k->buf, k->buf + drop, k->len - drop);
		k->len -= drop;
	}
	if (!k->buf && !(k->buf = malloc(LOGS_ONE_REPLY)))
		return -ENOMEM;
	memcpy(k->buf + k->len, data, n);
	k->len += n;
	return 0;
}

int sbxd_logs(struct sbxd *d, struct vl_call *c, struct sbxd_sandbox *sb, int64_t tail, bool fol)
{
	struct follower *f;
	char path[4300], why[512];
	json_object *p;
	int r;

	snprintf(path, sizeof(path), "%s/output.log", sb->dir);
	if (!vl_call_more(c)) {
		struct capped k = { 0 };

		r = sbx_logfile_tail_emit(path, d->cfg.log_keep, (long)tail, emit_capped, &k);
		if (r < 0 && r != -ENOENT) {
			free(k.buf);
			return r;
		}
		p = json_object_new_object();
		if (p)
			json_object_object_add(p, "data", text_json(k.buf ? k.buf : "", k.len));
		free(k.buf);
		return vl_call_reply(c, p);
	}
	if (!fol || sb->state == SBXD_EXITED) {
		r = sbx_logfile_tail_emit(path, d->cfg.log_keep, (long)tail, emit_notify, c);
		if (r < 0 && r != -ENOENT)
			return r;
		return vl_call_reply(c, NULL);
	}
	r = follow(d, c, sb, false);
	if (r < 0)
		return r;
	for (f = d->followers; f && f->call != c; f = f->next)
		;
	r = sbx_logfollow_start(&f->lf, path, d->cfg.log_keep, (long)tail, emit_notify, c, why,
				sizeof(why));
	if (r < 0) {
		follower_free(d, f);
		p = json_object_new_object();
		if (p)
			json_object_object_add(p, "reason", json_object_new_string(why));
		return vl_call_error(c, "org.sbx.Manager.Failed", p);
	}
	f->have_lf = true;
	return 0;
}

int sbxd_subscribe(struct sbxd *d, struct vl_call *c, struct sbxd_sandbox *only)
{
	return follow(d, c, only, true);
}
