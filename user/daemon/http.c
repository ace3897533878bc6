/* SPDX-License-Identifier: MIT */
/*
 * metrics_listen: GET /metrics over HTTP, served by libmicrohttpd on sbxd's
 * own epoll loop. MHD runs in its external-event mode with epoll: its epoll
 * fd sits in sbxd's loop, and MHD_run() is called when that fd is readable
 * or MHD's own timeout (idle connections) is due, from a timerfd. The
 * handler thus runs on sbxd's only thread and reads the registry without
 * locks. A slow or hostile client costs a bounded slot: few connections,
 * a small memory pool each, and an idle timeout. A client that keeps its
 * connections busy (a byte every few seconds) never meets the idle
 * timeout, and every loopback address (127.0.0.0/8) is any local user's:
 * so a new connection beyond the limit closes the oldest one rather than
 * being refused, and the scraper, which asks at once, gets its answer.
 *
 * The endpoint has no authentication and lists every sandbox's name: it is
 * meant for the loopback address and a Prometheus scraper
 * (docs/monitoring.md).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <microhttpd.h>

#include "daemon/daemon.h"
#include "util/prom.h"
#include "util/util.h"

#define HTTP_MAX_CONNECTIONS	16	/* open at once; a 17th closes the oldest */
#define HTTP_TIMEOUT_S		10	/* an idle or stalled connection is closed */
#define HTTP_MEMORY_LIMIT	(32 * 1024)

struct http_conn {
	uintptr_t id;			/* its socket_context, as MHD keeps it */
	int fd;
	bool evicted;			/* shut down, MHD has not closed it yet */
};

struct sbxd_http {
	struct sbxd *d;
	/* open connections, oldest first; room for those evicted but not yet
	 * closed by MHD (its own limit is the size of this array) */
	struct http_conn conns[2 * HTTP_MAX_CONNECTIONS];
	size_t n_conns;
	uintptr_t next_id;
	struct MHD_Daemon *mhd;
	struct ev_io io;		/* MHD's epoll fd */
	struct ev_io timer;		/* MHD's next timeout */
	int lfd;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *text)
{
	struct MHD_Response *rsp = MHD_create_response_from_buffer(strlen(text), (void *)text,
								   MHD_RESPMEM_PERSISTENT);
	enum MHD_Result r;

	if (!rsp)
		return MHD_NO;
	MHD_add_response_header(rsp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(rsp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	r = MHD_queue_response(conn, code, rsp);
	MHD_destroy_response(rsp);
	return r;
}

/* Any path but /metrics is 404; any method but GET and HEAD on it is 405
 * (MHD leaves out the body of a HEAD reply). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct sbxd_http *h = cls;
	struct MHD_Response *rsp;
	enum MHD_Result r;
	char *text = NULL;
	size_t len = 0;

	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: GET or HEAD\n");
	if (sbxd_metrics_text(h->d, NULL, &text, &len) < 0)
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	rsp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!rsp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(rsp, MHD_HTTP_HEADER_CONTENT_TYPE, PROM_CONTENT_TYPE);
	r = MHD_queue_response(conn, MHD_HTTP_OK, rsp);
	MHD_destroy_response(rsp);
	return r;
}

/* shutdown() makes the socket readable at EOF: MHD closes it in its next
 * run (and says so in on_connection, which forgets it). */
static void evict_oldest(struct sbxd_http *h)
{
	size_t live = 0;

	for (size_t i = 0; i < h->n_conns; i++)
		live += !h->conns[i].evicted;
	for (size_t i = 0; i < h->n_conns && live > HTTP_MAX_CONNECTIONS; i++) {
		if (h->conns[i].evicted)
			continue;
		shutdown(h->conns[i].fd, SHUT_RDWR);
		h->conns[i].evicted = true;
		live--;
	}
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct sbxd_http *h = cls;
	const union MHD_ConnectionInfo *ci;
	int fd;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		fd = ci ? ci->connect_fd : -1;
		if (fd < 0 || h->n_conns == sizeof(h->conns) / sizeof(h->conns[0]))
			return;		/* cannot be: MHD's limit is the array's size */
		*socket_context = (void *)++h->next_id;
		h->conns[h->n_conns++] = (struct http_conn){ .id = h->next_id, .fd = fd };
		evict_oldest(h);
		return;
	}
	for (size_t i = 0; *socket_context && i < h->n_conns; i++)
		if (h->conns[i].id == (uintptr_t)*socket_context) {
			memmove(&h->conns[i], &h->conns[i + 1], (h->n_conns - i - 1) * sizeof(h->conns[0]));
			h->n_conns--;
			break;
		}
}

/* After each MHD_run: wake again when MHD's next timeout is due (0: it
 * has work now), or never while nothing waits. */
static void arm(struct sbxd_http *h)
{
	struct itimerspec its = { 0 };
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(h->mhd, &ms) == MHD_YES) {
		if (ms == 0)
			ms = 1;		/* 0 would disarm the timer */
		its.it_value.tv_sec = (time_t)(ms / 1000);
		its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	}
	timerfd_settime(h->timer.fd, 0, &its, NULL);
}

static void on_mhd(struct ev_io *io, uint32_t events)
{
	struct sbxd_http *h = (struct sbxd_http *)((char *)io - offsetof(struct sbxd_http, io));

	MHD_run(h->mhd);
	arm(h);
}

static void on_timer(struct ev_io *io, uint32_t events)
{
	struct sbxd_http *h = (struct sbxd_http *)((char *)io - offsetof(struct sbxd_http, timer));
	uint64_t n;

	if (read(io->fd, &n, sizeof(n)) < 0 && errno == EAGAIN)
		return;
	MHD_run(h->mhd);
	arm(h);
}

/* sbxd binds the socket itself, for errors that name the problem. */
static int bind_listen(const char *addr, char *why, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, r;

	r = sbxd_parse_listen(addr, &ss, &sl, why, len);
	if (r < 0)
		return r;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return sbx_fail(why, len, -errno, "metrics_listen %s: socket: %m", addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 16) < 0) {
		r = -errno;
		close(fd);
		if (r == -EADDRINUSE)
			return sbx_fail(why, len, r, "metrics_listen %s: the port is in use "
					"(another program listens there)", addr);
		if (r == -EADDRNOTAVAIL)
			return sbx_fail(why, len, r, "metrics_listen %s: no interface of this host "
					"has that address", addr);
		if (r == -EACCES)
			return sbx_fail(why, len, r, "metrics_listen %s: permission denied", addr);
		return sbx_fail(why, len, r, "metrics_listen %s: %s", addr, strerror(-r));
	}
	return fd;
}

static int attach(struct sbxd_http *h, char *why, size_t len)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);

	if (!info || info->epoll_fd < 0)
		return sbx_fail(why, len, -EIO, "metrics_listen: libmicrohttpd has no epoll fd");
	h->io.fd = info->epoll_fd;
	h->io.fn = on_mhd;
	h->timer.fn = on_timer;
	h->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (h->timer.fd < 0)
		return sbx_fail(why, len, -errno, "metrics_listen: timerfd: %m");
	if (ev_add(h->d->epfd, &h->io, EPOLLIN) < 0 || ev_add(h->d->epfd, &h->timer, EPOLLIN) < 0)
		return sbx_fail(why, len, -errno, "metrics_listen: epoll: %m");
	return 0;
}

int sbxd_http_start(struct sbxd *d, char *why, size_t len)
{
	struct sbxd_http *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return sbx_fail(why, len, -ENOMEM, "metrics_listen: out of memory");
	h->d = d;
	h->io.fd = h->timer.fd = -1;
	h->lfd = bind_listen(d->cfg.metrics_listen, why, len);
	if (h->lfd < 0) {
		r = h->lfd;
		free(h);
		return r;
	}
	/* no MHD_USE_INTERNAL_POLLING_THREAD: MHD_run from sbxd's loop */
	h->mhd = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, on_request, h,
				  MHD_OPTION_LISTEN_SOCKET, h->lfd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)(2 * HTTP_MAX_CONNECTIONS),
				  MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
				  MHD_OPTION_END);
	if (!h->mhd) {
		close(h->lfd);
		free(h);
		return sbx_fail(why, len, -EIO, "metrics_listen %s: libmicrohttpd did not start",
				d->cfg.metrics_listen);
	}
	d->http = h;
	r = attach(h, why, len);
	if (r < 0) {
		sbxd_http_stop(d);
		return r;
	}
	arm(h);
	return 0;
}

void sbxd_http_stop(struct sbxd *d)
{
	struct sbxd_http *h = d->http;

	if (!h)
		return;
	if (h->io.fd >= 0)
		ev_del(d->epfd, &h->io);
	if (h->timer.fd >= 0) {
		ev_del(d->epfd, &h->timer);
		close(h->timer.fd);
	}
	/* quiesced, MHD hands the listening socket back rather than close it */
	if (MHD_quiesce_daemon(h->mhd) >= 0)
		close(h->lfd);
	MHD_stop_daemon(h->mhd);
	free(h);
	d->http = NULL;
}
