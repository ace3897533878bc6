/* SPDX-License-Identifier: MIT */
/* libsbx: the connection, the generic call and the errors (libsbx.h). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "libsbx/libsbx.h"
#include "varlink/varlink.h"

struct sbx_client {
	char *path;
	struct vl_conn conn;
	bool connected;
	struct sbx_error err;
	json_object *err_params;	/* owned; err.parameters points here */
	char err_name[256];		/* err.name points here */
	char call_name[256];		/* the "name" of the call under way, for errors
					 * that do not repeat it */
	sbx_interrupt_fn on_interrupt;
	void *interrupt_data;
};

static void clear_error(struct sbx_client *c)
{
	json_object_put(c->err_params);
	c->err_params = NULL;
	memset(&c->err, 0, sizeof(c->err));
}

/* A failure that is not a varlink error: the connection's. */
static int fail(struct sbx_client *c, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct sbx_client *c, int r, const char *fmt, ...)
{
	va_list ap;

	clear_error(c);
	c->err.error = r;
	va_start(ap, fmt);
	vsnprintf(c->err.message, sizeof(c->err.message), fmt, ap);
	va_end(ap);
	return r;
}

static void disconnect(struct sbx_client *c)
{
	if (c->connected)
		vl_conn_close(&c->conn);
	c->connected = false;
}

static int do_connect(struct sbx_client *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (c->connected)
		return 0;
	if (strlen(c->path) >= sizeof(sa.sun_path))
		return fail(c, -ENAMETOOLONG, "socket path too long: %s", c->path);
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(c, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return fail(c, -e, "cannot connect to %s: %s", c->path, strerror(e));
	}
	vl_conn_init(&c->conn, fd);
	c->conn.max_message = VL_MAX_REPLY;
	c->connected = true;
	return 0;
}

int sbx_client_open(const char *path, struct sbx_client **ret)
{
	struct sbx_client *c;
	int r;

	*ret = NULL;
	if (!path || !*path)
		path = getenv("SBX_SOCKET");
	if (!path || !*path)
		path = SBX_SOCKET_DEFAULT;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->path = strdup(path);
	if (!c->path) {
		free(c);
		return -ENOMEM;
	}
	r = do_connect(c);
	if (r < 0) {
		sbx_client_close(c);
		return r;
	}
	*ret = c;
	return 0;
}

void sbx_client_close(struct sbx_client *c)
{
	if (!c)
		return;
	disconnect(c);
	clear_error(c);
	free(c->path);
	free(c);
}

const char *sbx_client_path(const struct sbx_client *c)
{
	return c->path;
}

const struct sbx_error *sbx_client_last_error(const struct sbx_client *c)
{
	return &c->err;
}

void sbx_client_on_interrupt(struct sbx_client *c, sbx_interrupt_fn fn, void *userdata)
{
	c->on_interrupt = fn;
	c->interrupt_data = userdata;
}

/* ---- varlink errors ------------------------------------------------------ */

static const char *param(json_object *p, const char *key)
{
	const char *s = "";

	vl_get_string(p, key, &s);
	return s;
}

/* The sandbox an error is about: its own "name", else the call's. */
static const char *sandbox_of(json_object *p, const char *call_name)
{
	const char *s = param(p, "name");

	return *s ? s : call_name;
}

static const struct {
	const char *name;	/* after "org.sbx.Manager." */
	int error;
} error_map[] = {
	{ "NoSuchSandbox", -ENOENT },	{ "NoSuchProfile", -ENOENT },
	{ "NameInUse", -EEXIST },	{ "NotRunning", -ESRCH },
	{ "IsRunning", -EBUSY },	{ "PermissionDenied", -EACCES },
	{ "InvalidParameter", -EINVAL },	{ "InvalidPolicy", -EBADMSG },
	{ "Unenforceable", -EOPNOTSUPP },	{ "Failed", -EIO },
};

static int error_errno(const char *name)
{
	const char *m = strncmp(name, SBX_INTERFACE ".", sizeof(SBX_INTERFACE)) == 0 ?
			name + sizeof(SBX_INTERFACE) : NULL;

	for (size_t i = 0; m && i < sizeof(error_map) / sizeof(error_map[0]); i++)
		if (!strcmp(m, error_map[i].name))
			return error_map[i].error;
	if (!strcmp(name, "org.varlink.service.MethodNotFound") ||
	    !strcmp(name, "org.varlink.service.InterfaceNotFound"))
		return -EOPNOTSUPP;
	if (!strcmp(name, "org.varlink.service.InvalidParameter"))
		return -EINVAL;
	return -EPROTO;
}

/* The sentence a person reads for error name with parameters p. */
static void error_message(char *buf, size_t len, const char *name, json_object *p, const char *method,
			  const char *call_name)
{
	const char *m = strrchr(name, '.') ? strrchr(name, '.') + 1 : name;
	int64_t line = 0, col = 0;

	if (!strcmp(m, "NoSuchSandbox"))
		snprintf(buf, len, "no sandbox '%s'", sandbox_of(p, call_name));
	else if (!strcmp(m, "NoSuchProfile"))
		snprintf(buf, len, "no profile '%s' in sbxd's policy directory",
			 param(p, "profile"));
	else if (!strcmp(m, "NameInUse"))
		snprintf(buf, len, "a sandbox named '%s' exists already", sandbox_of(p, call_name));
	else if (!strcmp(m, "NotRunning"))
		snprintf(buf, len, "sandbox '%s' is not running", sandbox_of(p, call_name));
	else if (!strcmp(m, "IsRunning"))
		snprintf(buf, len, "sandbox '%s' is running", sandbox_of(p, call_name));
	else if (!strcmp(m, "PermissionDenied"))
		snprintf(buf, len, "permission denied: %s%s%s%s", param(p, "reason"),
			 *param(p, "parameter") ? " (" : "", param(p, "parameter"),
			 *param(p, "parameter") ? ")" : "");
	else if (!strcmp(m, "InvalidParameter"))
		snprintf(buf, len, "invalid %s: %s", param(p, "parameter"), param(p, "reason"));
	else if (!strcmp(m, "InvalidPolicy")) {
		vl_get_int(p, "line", &line);
		vl_get_int(p, "column", &col);
		snprintf(buf, len, "%s:%lld:%lld: %s", param(p, "file"), (long long)line,
			 (long long)col, param(p, "message"));
	} else if (!strcmp(m, "Unenforceable"))
		snprintf(buf, len, "cannot enforce %s: %s", param(p, "rule"), param(p, "reason"));
	else if (!strcmp(m, "Failed"))
		snprintf(buf, len, "%s", param(p, "reason"));
	else if (!strcmp(m, "MethodNotFound") || !strcmp(m, "InterfaceNotFound"))
		snprintf(buf, len, "sbxd does not serve %s (an older daemon?)", method);
	else
		snprintf(buf, len, "%s %s", name,
			 p ? json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN) : "{}");
}

static int set_varlink_error(struct sbx_client *c, const char *name, json_object *p,
			     const char *method)
{
	clear_error(c);
	c->err_params = p ? json_object_get(p) : json_object_new_object();
	c->err.parameters = c->err_params;
	/* the name lives in a message that is freed: keep a copy */
	snprintf(c->err_name, sizeof(c->err_name), "%s", name);
	c->err.name = c->err_name;
	c->err.error = error_errno(name);
	error_message(c->err.message, sizeof(c->err.message), name, c->err_params, method,
		      c->call_name);
	return c->err.error;
}

/* ---- the call ----------------------------------------------------------- */

/* Waits for and parses the next message. */
static int next_message(struct sbx_client *c, json_object **ret)
{
	for (;;) {
		struct pollfd pfd = { .fd = c->conn.fd, .events = POLLIN };
		int fds[VL_MAX_FDS], err;
		size_t n;
		ssize_t r;

		*ret = vl_conn_next(&c->conn, &err);
		if (*ret)
			return 0;
		if (err == -EMSGSIZE)
			return fail(c, err, "sbxd sent a reply longer than %u bytes", VL_MAX_REPLY);
		if (err < 0)
			return fail(c, err, "sbxd sent a reply that is not a JSON object");
		if (poll(&pfd, 1, -1) < 0) {
			if (errno != EINTR)
				return fail(c, -errno, "poll: %s", strerror(errno));
			if (c->on_interrupt && (r = c->on_interrupt(c, c->interrupt_data)) < 0)
				return fail(c, (int)r, "interrupted");
			continue;
		}
		r = vl_conn_read(&c->conn);
		/* replies carry no descriptors: any that came are closed */
		n = vl_conn_take_fds(&c->conn, fds, VL_MAX_FDS);
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
		if (r == 0)
			return fail(c, -ECONNRESET, "sbxd closed the connection");
		if (r < 0 && r != -EAGAIN && r != -EINTR)
			return fail(c, (int)r, "reading from %s: %s", c->path, strerror((int)-r));
	}
}

static void full_name(char *buf, size_t len, const char *method)
{
	if (strchr(method, '.'))
		snprintf(buf, len, "%s", method);
	else
		snprintf(buf, len, "%s.%s", SBX_INTERFACE, method);
}

/* Handles one reply: 1 when the call is over, 0 for more, or -errno. */
static int take_reply(struct sbx_client *c, json_object *msg, const char *method,
		      sbx_reply_fn cb, void *userdata)
{
	json_object *p = NULL, *e = NULL;
	bool continues = false;
	int r;

	json_object_object_get_ex(msg, "parameters", &p);
	if (json_object_object_get_ex(msg, "error", &e)) {
		char name[256];

		snprintf(name, sizeof(name), "%s", json_object_get_string(e));
		set_varlink_error(c, name, p, method);
		return c->err.error;
	}
	vl_get_bool(msg, "continues", &continues);
	if (p && !json_object_is_type(p, json_type_object))
		return fail(c, -EBADMSG, "sbxd sent a reply whose parameters are not an object");
	if (!p) {
		p = json_object_new_object();
		if (!p)
			return fail(c, -ENOMEM, "out of memory");
		json_object_object_add(msg, "parameters", p);
	}
	r = cb ? cb(p, continues, userdata) : 0;
	if (r < 0)
		return fail(c, r, "%s", strerror(-r));
	if (r > 0)
		return 2;	/* stopped by the caller: the rest is not read */
	return continues ? 0 : 1;
}

int sbx_call(struct sbx_client *c, const char *method, json_object *params, unsigned flags,
	     const int *fds, size_t n_fds, sbx_reply_fn cb, void *userdata)
{
	char name[256];
	json_object *msg;
	int r;

	clear_error(c);
	full_name(name, sizeof(name), method);
	c->call_name[0] = '\0';
	if (params && json_object_is_type(params, json_type_object))
		snprintf(c->call_name, sizeof(c->call_name), "%s", param(params, "name"));
	if (n_fds > VL_MAX_FDS) {
		json_object_put(params);
		return fail(c, -EINVAL, "at most %d descriptors go with a call", VL_MAX_FDS);
	}
	r = do_connect(c);
	if (r < 0) {
		json_object_put(params);
		return r;
	}
	msg = vl_call_msg(name, params, flags & SBX_CALL_MORE, false);
	if (!msg)
		return fail(c, -ENOMEM, "out of memory");
	r = vl_conn_queue(&c->conn, msg, fds, n_fds);
	json_object_put(msg);
	if (r == 0)
		r = vl_conn_flush(&c->conn);
	if (r < 0) {
		disconnect(c);
		return fail(c, r, "sending to %s: %s", c->path, strerror(-r));
	}
	for (;;) {
		r = next_message(c, &msg);
		if (r < 0)
			break;
		r = take_reply(c, msg, name, cb, userdata);
		json_object_put(msg);
		if (r != 0)
			break;
	}
	if (r < 0 && c->err.name)
		return r;	/* a varlink error ends the call; the connection stays usable */
	if (r < 0 || r == 2)
		disconnect(c);
	return r < 0 ? r : 0;
}

struct simple {
	json_object *reply;
};

static int simple_cb(json_object *p, bool continues, void *userdata)
{
	struct simple *s = userdata;

	json_object_put(s->reply);
	s->reply = json_object_get(p);
	return 0;
}

int sbx_call_simple(struct sbx_client *c, const char *method, json_object *params,
		    json_object **ret)
{
	struct simple s = { 0 };
	int r = sbx_call(c, method, params, 0, NULL, 0, simple_cb, &s);

	if (r < 0 || !ret)
		json_object_put(s.reply);
	else
		*ret = s.reply;
	return r;
}
