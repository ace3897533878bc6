/* SPDX-License-Identifier: MIT */
/*
 * Varlink (https://varlink.org) over a unix stream socket: messages are JSON
 * objects each ended by a NUL byte. A call is
 *   {"method": "org.sbx.Manager.List", "parameters": {...}, "more": true}
 * and each reply {"parameters": {...}, "continues": true} or
 * {"error": "org.sbx.Manager.NoSuchSandbox", "parameters": {...}}. JSON is
 * json-c's. Descriptors travel beside a message as SCM_RIGHTS (the way
 * systemd's varlink does); the daemon takes them only with the call that
 * they arrive with.
 *
 * This file has the parts the server (user/daemon) and the client library
 * (user/libsbx) share: the connection with its buffers, and the message
 * helpers. Nothing here prints; errors are -errno.
 */
#ifndef SBX_VARLINK_H
#define SBX_VARLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#define VL_MAX_MESSAGE	(1u << 20)	/* a longer message is refused, the connection closed */
/* The client's limit for sbxd's replies: one reply may be long (Metrics
 * has some 6 KiB per running sandbox, max_sandboxes is 4096) and comes from
 * the daemon, not from any local user. */
#define VL_MAX_REPLY	(64u << 20)
#define VL_MAX_FDS	8		/* descriptors kept per received batch */

struct vl_conn {
	int fd;
	char *in;			/* received bytes not yet taken as messages */
	size_t in_len, in_cap;
	char *out;			/* bytes queued for sending */
	size_t out_len, out_cap, out_off;
	int fds[VL_MAX_FDS];		/* descriptors received and not yet taken */
	size_t n_fds;
	bool eof;
	size_t max_message;		/* longest message read; 0: VL_MAX_MESSAGE */
};

void vl_conn_init(struct vl_conn *c, int fd);
/* Closes fd, the descriptors not taken, and frees the buffers. */
void vl_conn_close(struct vl_conn *c);

/* Reads what the socket has (non-blocking fds return after EAGAIN; blocking
 * ones after one read). Returns bytes read, 0 at end of stream, -EAGAIN,
 * -EMSGSIZE when a message would pass VL_MAX_MESSAGE, or -errno. */
ssize_t vl_conn_read(struct vl_conn *c);
/* The next complete message, parsed, or NULL: *ret_err says why: 0 = need
 * more bytes, -EBADMSG = not a JSON object (the message is dropped),
 * -EMSGSIZE = more than VL_MAX_MESSAGE bytes and no message ends in them. */
json_object *vl_conn_next(struct vl_conn *c, int *ret_err);
/* Moves up to max of the *n_src descriptors of src to dst and closes the
 * rest; returns how many moved (*n_src becomes 0). */
size_t vl_fds_take(int *src, size_t *n_src, int *dst, size_t max);
/* Takes the received descriptors (up to max) in arrival order; returns how many. */
size_t vl_conn_take_fds(struct vl_conn *c, int *fds, size_t max);

/* Queues a message (the object's JSON text and a NUL), with fds sent along
 * with its first byte. */
int vl_conn_queue(struct vl_conn *c, json_object *msg, const int *fds, size_t n_fds);
/* Sends what is queued; returns 0 when all is sent, -EAGAIN when the socket
 * is full, -errno. */
int vl_conn_flush(struct vl_conn *c);
static inline bool vl_conn_pending(const struct vl_conn *c) { return c->out_len > c->out_off; }

/* Message helpers: NULL on ENOMEM. The parameters object is taken over. */
json_object *vl_call_msg(const char *method, json_object *params, bool more, bool oneway);
json_object *vl_reply_msg(json_object *params, bool continues);
json_object *vl_error_msg(const char *error, json_object *params);

/* Typed access to a parameters object. Each returns 0, -ENOENT when the key
 * is missing or null (the value stays as given: set defaults first), or
 * -EINVAL when it has another type. */
int vl_get_string(json_object *params, const char *key, const char **ret);
int vl_get_int(json_object *params, const char *key, int64_t *ret);
int vl_get_bool(json_object *params, const char *key, bool *ret);
int vl_get_array(json_object *params, const char *key, json_object **ret);
/* An array of strings, NULL-terminated, pointing into params (free the
 * array only). -EINVAL names nothing; the caller knows the key. */
int vl_get_strv(json_object *params, const char *key, const char ***ret, size_t *ret_n);

/* Whether name is a valid varlink interface-qualified method or error name. */
bool vl_valid_qualified(const char *name);

#endif
