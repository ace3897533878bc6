/* SPDX-License-Identifier: MIT */
/*
 * A varlink server on one epoll loop (single-threaded). It accepts
 * connections, reads NUL-ended calls, names the caller from the socket
 * (SO_PEERCRED, and SO_PEERPIDFD where the kernel has it), and dispatches
 * each call to the method of a registered interface. It serves
 * org.varlink.service (GetInfo, GetInterfaceDescription) itself.
 *
 * A connection handles one call at a time, in order: calls that arrive
 * while one is deferred wait in its buffer. A method replies at once or
 * keeps the call (deferred: Run waiting for an exit, Logs following a file)
 * and replies later; when the peer goes away first, the call's cancel hook
 * runs and the call is freed by the server.
 */
#ifndef SBX_VARLINK_SERVER_H
#define SBX_VARLINK_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

/* One watched descriptor of the loop: epoll's data.ptr points to it. */
struct ev_io {
	int fd;
	void (*fn)(struct ev_io *io, uint32_t events);
};
int ev_add(int epfd, struct ev_io *io, uint32_t events);
int ev_mod(int epfd, struct ev_io *io, uint32_t events);
void ev_del(int epfd, struct ev_io *io);

struct vl_server;
struct vl_call;

struct vl_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int pidfd;			/* SO_PEERPIDFD, or -1 on kernels without it */
	gid_t groups[64];		/* SO_PEERGROUPS: supplementary groups */
	size_t n_groups;		/* (the first 64) */
};

/* A method returns 0 when it replied or kept the call (vl_call_defer). A
 * negative -errno makes the server reply with the info's failed_error and
 * {"reason": strerror}; methods reply their own named errors themselves. */
typedef int (*vl_method_fn)(struct vl_call *call, json_object *params, void *userdata);

struct vl_method {
	const char *name;		/* the member name, "List" */
	vl_method_fn fn;
};

struct vl_interface {
	const char *name;		/* "org.sbx.Manager" */
	const char *description;	/* the interface description text */
	const struct vl_method *methods;	/* ends with { NULL } */
	void *userdata;
};

struct vl_server_info {
	const char *vendor, *product, *version, *url;
	const char *failed_error;	/* error name for a method's -errno: {reason} */
	const char *invalid_error;	/* for a malformed or oversized message:
					 * {parameter, reason}; the connection closes */
};

/* listen_fd: a bound, listening unix stream socket (taken over). */
int vl_server_new(int epfd, int listen_fd, const struct vl_server_info *info,
		  struct vl_server **ret);
/* The interface must outlive the server. -EEXIST for a name served already. */
int vl_server_add(struct vl_server *s, const struct vl_interface *iface);
void vl_server_free(struct vl_server *s);
/* Number of open connections. */
size_t vl_server_connections(const struct vl_server *s);
/* Hook run when a connection is accepted with its peer; return -EPERM etc.
 * to refuse it (the connection is closed). Optional. */
void vl_server_set_accept_hook(struct vl_server *s,
			       int (*hook)(const struct vl_peer *peer, void *data), void *data);

/* The call being served. */
const struct vl_peer *vl_call_peer(const struct vl_call *c);
const char *vl_call_method(const struct vl_call *c);	/* qualified */
bool vl_call_more(const struct vl_call *c);
bool vl_call_oneway(const struct vl_call *c);
/* Descriptors that came with the call (taken: the caller owns them). */
size_t vl_call_take_fds(struct vl_call *c, int *fds, size_t max);

/* Replies. vl_call_reply and vl_call_error end the call (and free it);
 * vl_call_notify sends a reply with "continues" (only when the caller asked
 * for more: -EINVAL otherwise). params are taken over (NULL = {}). For a
 * oneway call the reply is dropped. */
int vl_call_reply(struct vl_call *c, json_object *params);
int vl_call_notify(struct vl_call *c, json_object *params);
int vl_call_error(struct vl_call *c, const char *error, json_object *params);
/* org.varlink.service.InvalidParameter {parameter} */
int vl_call_invalid(struct vl_call *c, const char *parameter);

/* Keeps the call after the method returns; cancel runs if the connection
 * closes before the call ends (the call is freed after it: do not reply). */
void vl_call_defer(struct vl_call *c, void (*cancel)(struct vl_call *c, void *data), void *data);
/* Whether the call's connection still has the peer (false after a hangup,
 * before cancel ran). */
bool vl_call_alive(const struct vl_call *c);

#endif
