/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "varlink/server.h"
#include "varlink/varlink.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77		/* Linux 6.5 */
#endif

#define VL_MAX_IFACES 8
#define VL_MAX_QUEUED (8u << 20)	/* unsent bytes a slow reader may hold back */
#define VL_MAX_CONNS_PER_UID 256	/* connections one uid but root may hold */

struct sconn;

struct vl_call {
	struct sconn *conn;
	char *method;
	bool more, oneway, deferred;
	void (*cancel)(struct vl_call *c, void *data);
	void *cancel_data;
	int fds[VL_MAX_FDS];
	size_t n_fds;
};

struct sconn {
	struct ev_io io;
	struct vl_conn c;
	struct vl_server *s;
	struct vl_peer peer;
	struct vl_call *cur;		/* the call being served, or NULL */
	struct sconn *next, *prev;
	bool dead;			/* a hangup, an error or a protocol violation */
	bool closing;			/* close once the queue is sent */
	uint32_t mask;
};

struct vl_server {
	int epfd;
	struct ev_io lio;
	struct vl_server_info info;
	const struct vl_interface *ifaces[VL_MAX_IFACES];
	size_t n_ifaces;
	struct sconn *conns;
	size_t n_conns;
	int (*accept_hook)(const struct vl_peer *peer, void *data);
	void *accept_data;
	bool accept_paused;		/* out of descriptors: until a connection ends */
};

int ev_add(int epfd, struct ev_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, io->fd, &ev) < 0 ? -errno : 0;
}

int ev_mod(int epfd, struct ev_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	return epoll_ctl(epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0 ? -errno : 0;
}

void ev_del(int epfd, struct ev_io *io)
{
	if (io->fd >= 0)
		epoll_ctl(epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

static void call_free(struct vl_call *c)
{
	for (size_t i = 0; i < c->n_fds; i++)
		close(c->fds[i]);
	free(c->method);
	free(c);
}

static void conn_free(struct sconn *k)
{
	struct vl_server *s = k->s;

	if (k->cur) {
		struct vl_call *c = k->cur;

		k->cur = NULL;
		c->conn = NULL;
		if (c->deferred && c->cancel)
			c->cancel(c, c->cancel_data);
		call_free(c);
	}
	ev_del(s->epfd, &k->io);
	if (k->peer.pidfd >= 0)
		close(k->peer.pidfd);
	vl_conn_close(&k->c);
	if (k->prev)
		k->prev->next = k->next;
	else
		s->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	s->n_conns--;
	free(k);
	if (s->accept_paused && ev_mod(s->epfd, &s->lio, EPOLLIN) == 0)
		s->accept_paused = false;
}

/*
 * Backpressure: calls are read while fewer than VL_MAX_MESSAGE bytes of
 * them wait unserved, and served while fewer than that of replies wait
 * unsent. Past either the peer's writes block in the kernel instead of
 * growing the daemon's buffers, however many calls it pipelines behind one
 * that is kept (Run) or however slowly it reads.
 */
static bool conn_in_full(const struct sconn *k)
{
	return k->c.in_len > VL_MAX_MESSAGE;
}

static bool conn_out_full(const struct sconn *k)
{
	return k->c.out_len - k->c.out_off > VL_MAX_MESSAGE;
}

/* Wants EPOLLOUT while bytes wait, or to run the next buffered call soon.
 * EPOLLIN only while calls may be read: after the peer's end of stream (a
 * half-close: shutdown(SHUT_WR)) or with the input full the socket stays
 * readable, and EPOLLIN would wake the loop at once, over and over, for as
 * long as a call is kept; the peer's close still arrives as EPOLLHUP, which
 * epoll reports unasked. EPOLLOUT once the last call ended lets conn_event
 * close the connection. */
static void conn_rearm(struct sconn *k, bool kick)
{
	uint32_t m = k->c.eof || conn_in_full(k) ? 0 : EPOLLIN | EPOLLRDHUP;

	if (vl_conn_pending(&k->c) || kick || k->dead || (k->c.eof && !k->cur))
		m |= EPOLLOUT;
	if (m != k->mask && ev_mod(k->s->epfd, &k->io, m) == 0)
		k->mask = m;
}

/* A slow reader is cut off once what it left unread before this message
 * passes VL_MAX_QUEUED: one long reply (Metrics) alone does not count. */
static void conn_send(struct sconn *k, json_object *msg)
{
	size_t backlog = k->c.out_len - k->c.out_off;
	int r;

	if (!msg) {
		k->dead = true;
		return;
	}
	r = vl_conn_queue(&k->c, msg, NULL, 0);
	json_object_put(msg);
	if (r == 0)
		r = vl_conn_flush(&k->c);
	if ((r < 0 && r != -EAGAIN) || backlog > VL_MAX_QUEUED)
		k->dead = true;
	conn_rearm(k, false);
}

/* Ends the current call (whatever answered it) and lets the next one run. */
static void call_end(struct vl_call *c)
{
	struct sconn *k = c->conn;

	if (k) {
		k->cur = NULL;
		conn_rearm(k, k->c.in_len > 0);
	}
	call_free(c);
}

static int reply_final(struct vl_call *c, json_object *msg)
{
	if (c->conn && !c->oneway && !c->conn->dead)
		conn_send(c->conn, msg);
	else
		json_object_put(msg);
	call_end(c);
	return 0;
}

int vl_call_reply(struct vl_call *c, json_object *params)
{
	return reply_final(c, vl_reply_msg(params, false));
}

int vl_call_error(struct vl_call *c, const char *error, json_object *params)
{
	return reply_final(c, vl_error_msg(error, params));
}

int vl_call_notify(struct vl_call *c, json_object *params)
{
	if (!c->more) {
		json_object_put(params);
		return -EINVAL;
	}
	if (!c->conn || c->conn->dead) {
		json_object_put(params);
		return -EPIPE;
	}
	conn_send(c->conn, vl_reply_msg(params, true));
	return c->conn->dead ? -EPIPE : 0;
}

int vl_call_invalid(struct vl_call *c, const char *parameter)
{
	json_object *p = json_object_new_object();

	if (p)
		json_object_object_add(p, "parameter", json_object_new_string(parameter));
	return vl_call_error(c, "org.varlink.service.InvalidParameter", p);
}

void vl_call_defer(struct vl_call *c, void (*cancel)(struct vl_call *c, void *data), void *data)
{
	c->deferred = true;
	c->cancel = cancel;
	c->cancel_data = data;
}

bool vl_call_alive(const struct vl_call *c) { return c->conn && !c->conn->dead; }
const struct vl_peer *vl_call_peer(const struct vl_call *c) { return &c->conn->peer; }
const char *vl_call_method(const struct vl_call *c) { return c->method; }
bool vl_call_more(const struct vl_call *c) { return c->more; }
bool vl_call_oneway(const struct vl_call *c) { return c->oneway; }

size_t vl_call_take_fds(struct vl_call *c, int *fds, size_t max)
{
	return vl_fds_take(c->fds, &c->n_fds, fds, max);
}

static json_object *kv1(const char *k, const char *v)
{
	json_object *o = json_object_new_object();

	if (o)
		json_object_object_add(o, k, json_object_new_string(v));
	return o;
}

/* A message the connection cannot recover from: say why, then close. */
static void protocol_error(struct sconn *k, const char *reason)
{
	json_object *p = kv1("parameter", "message");

	if (p)
		json_object_object_add(p, "reason", json_object_new_string(reason));
	conn_send(k, vl_error_msg(k->s->info.invalid_error, p));
	k->closing = true;
	conn_rearm(k, false);
}

static const struct vl_interface *find_iface(const struct vl_server *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->n_ifaces; i++)
		if (strlen(s->ifaces[i]->name) == len && !strncmp(s->ifaces[i]->name, name, len))
			return s->ifaces[i];
	return NULL;
}

static int service_get_info(struct vl_call *c, json_object *params, void *data)
{
	struct vl_server *s = data;
	json_object *p = json_object_new_object(), *a = json_object_new_array();

	if (!p || !a) {
		json_object_put(p);
		json_object_put(a);
		return -ENOMEM;
	}
	json_object_object_add(p, "vendor", json_object_new_string(s->info.vendor));
	json_object_object_add(p, "product", json_object_new_string(s->info.product));
	json_object_object_add(p, "version", json_object_new_string(s->info.version));
	json_object_object_add(p, "url", json_object_new_string(s->info.url));
	for (size_t i = 0; i < s->n_ifaces; i++)
		json_object_array_add(a, json_object_new_string(s->ifaces[i]->name));
	json_object_object_add(p, "interfaces", a);
	return vl_call_reply(c, p);
}

static int service_get_description(struct vl_call *c, json_object *params, void *data)
{
	struct vl_server *s = data;
	const struct vl_interface *ifc;
	const char *name;

	if (vl_get_string(params, "interface", &name) < 0)
		return vl_call_invalid(c, "interface");
	ifc = find_iface(s, name, strlen(name));
	if (!ifc)
		return vl_call_error(c, "org.varlink.service.InterfaceNotFound", kv1("interface", name));
	return vl_call_reply(c, kv1("description", ifc->description));
}

static const char service_description[] =
	"# The Varlink Service Interface is provided by every varlink service. It\n"
	"# describes the service and the interfaces it implements.\n"
	"interface org.varlink.service\n\n"
	"# Get a list of all the interfaces a service provides and information\n"
	"# about the implementation.\n"
	"method GetInfo() -> (\n  vendor: string,\n  product: string,\n  version: string,\n"
	"  url: string,\n  interfaces: []string\n)\n\n"
	"# Get the description of an interface that is implemented by this service.\n"
	"method GetInterfaceDescription(interface: string) -> (description: string)\n\n"
	"# The requested interface was not found.\n"
	"error InterfaceNotFound (interface: string)\n\n"
	"# The requested method was not found\n"
	"error MethodNotFound (method: string)\n\n"
	"# The interface defines the requested method, but the service does not\n"
	"# implement it.\n"
	"error MethodNotImplemented (method: string)\n\n"
	"# One of the passed parameters is invalid.\n"
	"error InvalidParameter (parameter: string)\n";

static const struct vl_method service_methods[] = {
	{ "GetInfo", service_get_info },
	{ "GetInterfaceDescription", service_get_description },
	{ NULL, NULL }
};

/* Parses the call's envelope; the method gets the parameters. */
static void dispatch(struct sconn *k, json_object *msg)
{
	const struct vl_interface *ifc;
	const struct vl_method *m = NULL;
	json_object *params = NULL;
	const char *method = NULL, *dot;
	struct vl_call *c;
	bool b;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c) {
		k->dead = true;
		return;
	}
	c->conn = k;
	k->cur = c;
	c->n_fds = vl_conn_take_fds(&k->c, c->fds, VL_MAX_FDS);
	if (vl_get_bool(msg, "more", &b) == 0)
		c->more = b;
	if (vl_get_bool(msg, "oneway", &b) == 0)
		c->oneway = b;
	if (vl_get_string(msg, "method", &method) < 0 || !vl_valid_qualified(method)) {
		vl_call_invalid(c, "method");
		return;
	}
	c->method = strdup(method);
	if (!c->method) {
		vl_call_error(c, k->s->info.failed_error, kv1("reason", strerror(ENOMEM)));
		return;
	}
	if (json_object_object_get_ex(msg, "parameters", &params) && params &&
	    !json_object_is_type(params, json_type_object)) {
		vl_call_invalid(c, "parameters");
		return;
	}
	if (vl_get_bool(msg, "upgrade", &b) == 0 && b) {
		vl_call_error(c, "org.varlink.service.MethodNotImplemented", kv1("method", method));
		return;
	}
	dot = strrchr(c->method, '.');
	ifc = find_iface(k->s, c->method, (size_t)(dot - c->method));
	if (!ifc) {
		*(char *)dot = '\0';
		vl_call_error(c, "org.varlink.service.InterfaceNotFound", kv1("interface", c->method));
		return;
	}
	for (m = ifc->methods; m->name && strcmp(m->name, dot + 1); m++)
		;
	if (!m->name) {
		vl_call_error(c, "org.varlink.service.MethodNotFound", kv1("method", c->method));
		return;
	}
	r = m->fn(c, params, ifc->userdata);
	if (k->cur != c || c->deferred)
		return;		/* answered, or kept for later */
	vl_call_error(c, k->s->info.failed_error, kv1("reason", strerror(r < 0 ? -r : EPROTO)));
}

/* Serves what the buffer holds, one call at a time. */
static void conn_process(struct sconn *k)
{
	while (!k->cur && !k->dead && !k->closing && !conn_out_full(k)) {
		int err;
		json_object *msg = vl_conn_next(&k->c, &err);

		if (!msg) {
			if (err == -EBADMSG)
				protocol_error(k, "not a JSON object ended by a NUL byte");
			else if (err == -EMSGSIZE)
				protocol_error(k, "longer than the 1 MiB a message may have");
			else if (err < 0)
				k->dead = true;
			return;
		}
		dispatch(k, msg);
		json_object_put(msg);
	}
}

static void conn_event(struct ev_io *io, uint32_t events)
{
	struct sconn *k = (struct sconn *)io;

	if (events & EPOLLIN && !k->closing) {
		while (!conn_in_full(k)) {
			ssize_t n = vl_conn_read(&k->c);

			if (n == -EAGAIN || n == 0)
				break;
			if (n == -EMSGSIZE) {
				protocol_error(k, "longer than the 1 MiB a message may have");
				break;
			}
			if (n < 0) {
				k->dead = true;
				break;
			}
		}
	}
	if (events & (EPOLLERR | EPOLLHUP))
		k->dead = true;
	if (!k->dead && vl_conn_pending(&k->c)) {
		int r = vl_conn_flush(&k->c);

		if (r < 0 && r != -EAGAIN)
			k->dead = true;
	}
	if (!k->dead)
		conn_process(k);
	/* end of stream: the calls already read are served, then it closes */
	if (k->c.eof && !k->cur && !vl_conn_pending(&k->c))
		k->dead = true;
	if (k->closing && !vl_conn_pending(&k->c))
		k->dead = true;
	if (k->dead) {
		conn_free(k);
		return;
	}
	conn_rearm(k, false);
}

static void peer_of(int fd, struct vl_peer *p)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	int pidfd = -1;

	p->pid = 0;
	p->uid = (uid_t)-1;
	p->gid = (gid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0) {
		p->pid = uc.pid;
		p->uid = uc.uid;
		p->gid = uc.gid;
	}
	len = sizeof(p->groups);
	p->n_groups = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p->groups, &len) == 0 ?
		      len / sizeof(gid_t) : 0;
	len = sizeof(pidfd);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
		pidfd = -1;
	p->pidfd = pidfd;
}

/* One local user must not take every descriptor of the server (and so the
 * API from everyone else, root included): beyond its share, a connection
 * is closed at once. */
static bool over_share(const struct vl_server *s, uid_t uid)
{
	size_t n = 0;

	if (uid == 0)
		return false;
	for (const struct sconn *k = s->conns; k; k = k->next)
		if (k->peer.uid == uid && ++n >= VL_MAX_CONNS_PER_UID)
			return true;
	return false;
}

static void accept_event(struct ev_io *io, uint32_t events)
{
	struct vl_server *s = (struct vl_server *)((char *)io - offsetof(struct vl_server, lio));

	for (;;) {
		int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct sconn *k;

		if (fd < 0) {
			/* the listening socket stays readable while accept fails for
			 * want of descriptors: stop polling it until one is freed, or
			 * the loop spins (with no connection of ours to end, retry) */
			if ((errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			     errno == ENOMEM) && s->n_conns > 0 &&
			    ev_mod(s->epfd, &s->lio, 0) == 0)
				s->accept_paused = true;
			return;
		}
		k = calloc(1, sizeof(*k));
		if (!k) {
			close(fd);
			continue;
		}
		k->s = s;
		k->io.fd = fd;
		k->io.fn = conn_event;
		vl_conn_init(&k->c, fd);
		peer_of(fd, &k->peer);
		k->mask = EPOLLIN | EPOLLRDHUP;
		if (over_share(s, k->peer.uid) ||
		    (s->accept_hook && s->accept_hook(&k->peer, s->accept_data) < 0) ||
		    ev_add(s->epfd, &k->io, k->mask) < 0) {
			if (k->peer.pidfd >= 0)
				close(k->peer.pidfd);
			vl_conn_close(&k->c);
			free(k);
			continue;
		}
		k->next = s->conns;
		if (s->conns)
			s->conns->prev = k;
		s->conns = k;
		s->n_conns++;
	}
}

static struct vl_interface service_iface = {
	.name = "org.varlink.service",
	.description = service_description,
	.methods = service_methods,
};

int vl_server_new(int epfd, int listen_fd, const struct vl_server_info *info,
		  struct vl_server **ret)
{
	struct vl_server *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->epfd = epfd;
	s->info = *info;
	s->lio.fd = listen_fd;
	s->lio.fn = accept_event;
	r = ev_add(epfd, &s->lio, EPOLLIN);
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* org.varlink.service is served with the server as its userdata: each
 * server gets its own copy of the interface. */
int vl_server_add(struct vl_server *s, const struct vl_interface *iface)
{
	if (s->n_ifaces == 0 && iface != &service_iface) {
		struct vl_interface *svc = malloc(sizeof(*svc));

		if (!svc)
			return -ENOMEM;
		*svc = service_iface;
		svc->userdata = s;
		s->ifaces[s->n_ifaces++] = svc;
	}
	if (find_iface(s, iface->name, strlen(iface->name)))
		return -EEXIST;
	if (s->n_ifaces == VL_MAX_IFACES)
		return -E2BIG;
	s->ifaces[s->n_ifaces++] = iface;
	return 0;
}

void vl_server_free(struct vl_server *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_free(s->conns);
	ev_del(s->epfd, &s->lio);
	close(s->lio.fd);
	if (s->n_ifaces)
		free((void *)s->ifaces[0]);
	free(s);
}

size_t vl_server_connections(const struct vl_server *s) { return s->n_conns; }

void vl_server_set_accept_hook(struct vl_server *s,
			       int (*hook)(const struct vl_peer *peer, void *data), void *data)
{
	s->accept_hook = hook;
	s->accept_data = data;
}
