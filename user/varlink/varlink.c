/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "varlink/varlink.h"

void vl_conn_init(struct vl_conn *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
}

void vl_conn_close(struct vl_conn *c)
{
	for (size_t i = 0; i < c->n_fds; i++)
		close(c->fds[i]);
	c->n_fds = 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->in);
	free(c->out);
	c->in = c->out = NULL;
	c->in_len = c->in_cap = c->out_len = c->out_cap = c->out_off = 0;
}

static int grow(char **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 4096;
	char *p;

	while (n < need)
		n *= 2;
	if (n == *cap)
		return 0;
	p = realloc(*buf, n);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

/* Keeps the descriptors of a control message; those past VL_MAX_FDS are closed. */
static void take_cmsg(struct vl_conn *c, struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (c->n_fds < VL_MAX_FDS)
				c->fds[c->n_fds++] = fd;
			else
				close(fd);
		}
	}
}

static size_t max_message(const struct vl_conn *c)
{
	return c->max_message ? c->max_message : VL_MAX_MESSAGE;
}

ssize_t vl_conn_read(struct vl_conn *c)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VL_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	/* one byte beyond the limit tells a message that is too long */
	if (c->in_len > max_message(c) && !memchr(c->in, 0, c->in_len))
		return -EMSGSIZE;
	if (grow(&c->in, &c->in_cap, c->in_len + 65536) < 0)
		return -ENOMEM;
	iov.iov_base = c->in + c->in_len;
	iov.iov_len = c->in_cap - c->in_len;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	take_cmsg(c, &mh);
	if (mh.msg_flags & MSG_CTRUNC)
		return -EBADMSG;	/* descriptors were lost: the call cannot be trusted */
	if (n == 0) {
		c->eof = true;
		return 0;
	}
	c->in_len += (size_t)n;
	if (c->in_len > max_message(c) && !memchr(c->in, 0, c->in_len))
		return -EMSGSIZE;
	return n;
}

json_object *vl_conn_next(struct vl_conn *c, int *ret_err)
{
	char *end = c->in_len ? memchr(c->in, 0, c->in_len) : NULL;
	json_tokener *tok;
	json_object *o;
	size_t len;

	*ret_err = 0;
	if (!end) {
		/* complete calls before it were taken, the rest is too long */
		if (c->in_len > max_message(c))
			*ret_err = -EMSGSIZE;
		return NULL;
	}
	len = (size_t)(end - c->in);
	if (len > max_message(c)) {
		*ret_err = -EMSGSIZE;
		return NULL;
	}
	tok = json_tokener_new_ex(64);
	if (!tok) {
		*ret_err = -ENOMEM;
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, c->in, (int)len);
	/* the whole message must be one value: no trailing bytes before the NUL */
	if (o && json_tokener_get_parse_end(tok) != len) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	memmove(c->in, end + 1, c->in_len - len - 1);
	c->in_len -= len + 1;
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		*ret_err = -EBADMSG;
		return NULL;
	}
	return o;
}

size_t vl_fds_take(int *src, size_t *n_src, int *dst, size_t max)
{
	size_t n = *n_src < max ? *n_src : max;

	memcpy(dst, src, n * sizeof(int));
	for (size_t i = n; i < *n_src; i++)
		close(src[i]);
	*n_src = 0;
	return n;
}

size_t vl_conn_take_fds(struct vl_conn *c, int *fds, size_t max)
{
	return vl_fds_take(c->fds, &c->n_fds, fds, max);
}

/* Descriptors go out with the message at once, in one sendmsg (only the
 * blocking client library sends any); what that call did not take is queued
 * like any other message. */
int vl_conn_queue(struct vl_conn *c, json_object *msg, const int *fds, size_t n_fds)
{
	size_t len;
	const char *s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &len);
	int r;

	if (!s)
		return -ENOMEM;
	if (n_fds) {
		/* descriptors go out at once with the whole message (blocking
		 * clients only: the library sends its calls this way) */
		union {
			char buf[CMSG_SPACE(sizeof(int) * VL_MAX_FDS)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { .iov_base = (void *)s, .iov_len = len + 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		struct cmsghdr *cm;
		ssize_t n;

		if (n_fds > VL_MAX_FDS || vl_conn_pending(c))
			return -EINVAL;
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
		do
			n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
		if ((size_t)n == len + 1)
			return 0;
		/* the rest, with its NUL, is queued below */
		s += n;
		len -= (size_t)n;
	}
	r = grow(&c->out, &c->out_cap, c->out_len + len + 1);
	if (r < 0)
		return r;
	memcpy(c->out + c->out_len, s, len + 1);
	c->out_len += len + 1;
	return 0;
}

int vl_conn_flush(struct vl_conn *c)
{
	while (vl_conn_pending(c)) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		c->out_off += (size_t)n;
	}
	c->out_len = c->out_off = 0;
	return 0;
}

static json_object *with_params(json_object *o, json_object *params)
{
	if (!o) {
		json_object_put(params);
		return NULL;
	}
	if (!params)
		params = json_object_new_object();
	if (!params || json_object_object_add(o, "parameters", params)) {
		json_object_put(params);
		json_object_put(o);
		return NULL;
	}
	return o;
}

json_object *vl_call_msg(const char *method, json_object *params, bool more, bool oneway)
{
	json_object *o = json_object_new_object();

	if (o && json_object_object_add(o, "method", json_object_new_string(method))) {
		json_object_put(o);
		o = NULL;
	}
	if (o && more)
		json_object_object_add(o, "more", json_object_new_boolean(1));
	if (o && oneway)
		json_object_object_add(o, "oneway", json_object_new_boolean(1));
	return with_params(o, params);
}

json_object *vl_reply_msg(json_object *params, bool continues)
{
	json_object *o = json_object_new_object();

	if (o && continues)
		json_object_object_add(o, "continues", json_object_new_boolean(1));
	return with_params(o, params);
}

json_object *vl_error_msg(const char *error, json_object *params)
{
	json_object *o = json_object_new_object();

	if (o && json_object_object_add(o, "error", json_object_new_string(error))) {
		json_object_put(o);
		o = NULL;
	}
	return with_params(o, params);
}

static json_object *get(json_object *params, const char *key)
{
	json_object *v;

	if (!params || !json_object_object_get_ex(params, key, &v) || !v)
		return NULL;
	return v;
}

int vl_get_string(json_object *params, const char *key, const char **ret)
{
	json_object *v = get(params, key);

	if (!v)
		return -ENOENT;
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	*ret = json_object_get_string(v);
	return 0;
}

int vl_get_int(json_object *params, const char *key, int64_t *ret)
{
	json_object *v = get(params, key);

	if (!v)
		return -ENOENT;
	if (!json_object_is_type(v, json_type_int))
		return -EINVAL;
	errno = 0;
	*ret = json_object_get_int64(v);
	return errno ? -EINVAL : 0;
}

int vl_get_bool(json_object *params, const char *key, bool *ret)
{
	json_object *v = get(params, key);

	if (!v)
		return -ENOENT;
	if (!json_object_is_type(v, json_type_boolean))
		return -EINVAL;
	*ret = json_object_get_boolean(v);
	return 0;
}

int vl_get_array(json_object *params, const char *key, json_object **ret)
{
	json_object *v = get(params, key);

	if (!v)
		return -ENOENT;
	if (!json_object_is_type(v, json_type_array))
		return -EINVAL;
	*ret = v;
	return 0;
}

int vl_get_strv(json_object *params, const char *key, const char ***ret, size_t *ret_n)
{
	json_object *a;
	const char **v;
	size_t n;
	int r = vl_get_array(params, key, &a);

	if (r < 0)
		return r;
	n = json_object_array_length(a);
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);

		if (!e || !json_object_is_type(e, json_type_string)) {
			free(v);
			return -EINVAL;
		}
		v[i] = json_object_get_string(e);
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* interface.Name: an interface name (dot-separated labels of letters,
 * digits and dashes, at least two) and a member starting with a capital. */
bool vl_valid_qualified(const char *name)
{
	const char *dot = name ? strrchr(name, '.') : NULL;
	size_t labels = 1;

	if (!dot || dot == name || !isupper((unsigned char)dot[1]))
		return false;
	for (const char *p = dot + 1; *p; p++)
		if (!isalnum((unsigned char)*p))
			return false;
	for (const char *p = name; p < dot; p++) {
		if (*p == '.') {
			if (p == name || p[-1] == '.' || p[-1] == '-')
				return false;
			labels++;
		} else if (!isalnum((unsigned char)*p) && *p != '-') {
			return false;
		}
	}
	return labels >= 2 && isalpha((unsigned char)name[0]);
}
