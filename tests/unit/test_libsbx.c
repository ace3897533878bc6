/* SPDX-License-Identifier: MIT */
/*
 * libsbx against a scripted server (a child that accepts one connection,
 * records the call it received with the number of descriptors that came
 * with it, and answers with canned messages): the calls it sends, varlink
 * errors as -errno with name, parameters and sentence, streamed replies,
 * descriptors, and the failures of a daemon that misbehaves (a reply that
 * is not JSON, a connection closed without a reply).
 */
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libsbx/libsbx.h"

struct fixture {
	char dir[64];
	char sock[128];
	char dump[128];
	int lfd;
	pid_t child;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_libsbx.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/s.sock", f->dir);
	snprintf(f->dump, sizeof(f->dump), "%s/request", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->child > 0) {
		kill(f->child, SIGKILL);
		waitpid(f->child, NULL, 0);
	}
	close(f->lfd);
	unlink(f->sock);
	unlink(f->dump);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The child: one connection, one call read up to its NUL, then replies
 * (each sent with its NUL), then close. */
static void serve(struct fixture *f, const char *const *replies)
{
	f->child = fork();
	assert_true(f->child >= 0);
	if (f->child == 0) {
		char buf[65536], ctl[CMSG_SPACE(sizeof(int) * 8)];
		size_t len = 0, nfds = 0;
		int c = accept(f->lfd, NULL, NULL);
		FILE *out;

		while (c >= 0 && !memchr(buf, 0, len) && len < sizeof(buf)) {
			struct iovec iov = { buf + len, sizeof(buf) - len };
			struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
					     .msg_controllen = sizeof(ctl) };
			ssize_t n = recvmsg(c, &mh, 0);

			if (n <= 0)
				_exit(1);
			for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
				if (cm->cmsg_type == SCM_RIGHTS)
					nfds += (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			len += (size_t)n;
		}
		out = fopen(f->dump, "w");
		if (!out)
			_exit(1);
		fprintf(out, "%s\nfds %zu\n", buf, nfds);
		fclose(out);
		for (; *replies; replies++)
			if (write(c, *replies, strlen(*replies) + 1) < 0)
				_exit(1);
		close(c);
		_exit(0);
	}
}

/* The call the server received, parsed; the descriptor count in *nfds. */
static json_object *request(struct fixture *f, size_t *nfds)
{
	char buf[65536];
	FILE *in;
	size_t n;
	char *nl;
	json_object *o;

	waitpid(f->child, NULL, 0);
	f->child = 0;
	in = fopen(f->dump, "r");
	assert_non_null(in);
	n = fread(buf, 1, sizeof(buf) - 1, in);
	fclose(in);
	buf[n] = '\0';
	nl = strstr(buf, "\nfds ");
	assert_non_null(nl);
	*nfds = strtoul(nl + 5, NULL, 10);
	*nl = '\0';
	o = json_tokener_parse(buf);
	assert_non_null(o);
	return o;
}

static const char *get_path(json_object *o, const char *a, const char *b)
{
	json_object *v = o;

	if (a && !json_object_object_get_ex(v, a, &v))
		return NULL;
	if (b && !json_object_object_get_ex(v, b, &v))
		return NULL;
	return json_object_get_string(v);
}

static struct sbx_client *client(struct fixture *f)
{
	struct sbx_client *c = NULL;

	assert_int_equal(sbx_client_open(f->sock, &c), 0);
	return c;
}

static void test_version_call_and_reply(void **state)
{
	struct fixture *f = *state;
	static const char *const r[] = { "{\"parameters\":{\"version\":\"9.9\",\"abi\":10,\"api\":1}}", NULL };
	struct sbx_client *c;
	struct sbx_version v;
	json_object *req;
	size_t nfds;

	serve(f, r);
	c = client(f);
	assert_int_equal(sbx_version(c, &v), 0);
	assert_string_equal(v.version, "9.9");
	assert_int_equal(v.abi, 10);
	assert_int_equal(v.api, 1);
	req = request(f, &nfds);
	assert_string_equal(get_path(req, "method", NULL), "org.sbx.Manager.Version");
	assert_false(json_object_object_get_ex(req, "more", NULL));
	assert_int_equal(nfds, 0);
	json_object_put(req);
	sbx_client_close(c);
}

static void test_start_sends_overrides(void **state)
{
	struct fixture *f = *state;
	static const char *const r[] = { "{\"parameters\":{\"sandbox\":{\"name\":\"web\",\"state\":\"running\"}}}", NULL };
	const char *argv[] = { "sleep", "100", NULL }, *ro[] = { "/srv", "/opt", NULL };
	struct sbx_overrides ov = { .memory = "64M", .ro = ro };
	struct sbx_client *c;
	json_object *sb = NULL, *req, *a;
	size_t nfds;

	serve(f, r);
	c = client(f);
	assert_int_equal(sbx_start(c, "web", "p", argv, &ov, "on_failure", 3, &sb), 0);
	assert_string_equal(get_path(sb, "state", NULL), "running");
	json_object_put(sb);
	req = request(f, &nfds);
	assert_string_equal(get_path(req, "method", NULL), "org.sbx.Manager.Start");
	assert_string_equal(get_path(req, "parameters", "name"), "web");
	assert_string_equal(get_path(req, "parameters", "profile"), "p");
	assert_string_equal(get_path(req, "parameters", "restart"), "on_failure");
	assert_string_equal(get_path(req, "parameters", "max_restarts"), "3");
	json_object_object_get_ex(req, "parameters", &a);
	json_object_object_get_ex(a, "overrides", &a);
	assert_string_equal(get_path(a, "memory", NULL), "64M");
	assert_int_equal(json_object_array_length(json_object_object_get(a, "ro")), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(json_object_object_get(a, "ro"), 1)),
			    "/opt");
	/* unset members are not sent: the daemon keeps its defaults */
	assert_false(json_object_object_get_ex(a, "timeout", NULL));
	json_object_put(req);
	sbx_client_close(c);
}

static void test_varlink_error_mapped(void **state)
{
	struct fixture *f = *state;
	static const char *const r[] = {
		"{\"error\":\"org.sbx.Manager.InvalidPolicy\",\"parameters\":{\"file\":\"/p/a.toml\","
		"\"line\":3,\"column\":7,\"message\":\"unknown key\"}}", NULL };
	struct sbx_client *c;
	const struct sbx_error *e;
	json_object *req;
	size_t nfds;

	serve(f, r);
	c = client(f);
	assert_int_equal(sbx_reload(c, true, NULL), -EBADMSG);
	e = sbx_client_last_error(c);
	assert_string_equal(e->name, "org.sbx.Manager.InvalidPolicy");
	assert_string_equal(e->message, "/p/a.toml:3:7: unknown key");
	assert_int_equal(e->error, -EBADMSG);
	assert_string_equal(get_path(e->parameters, "message", NULL), "unknown key");
	req = request(f, &nfds);
	assert_string_equal(get_path(req, "parameters", "running"), "true");
	json_object_put(req);
	sbx_client_close(c);
}

static void test_error_names_and_sentences(void **state)
{
	static const struct {
		const char *msg, *sentence;
		int err;
	} t[] = {
		{ "{\"error\":\"org.sbx.Manager.NoSuchSandbox\",\"parameters\":{\"name\":\"x\"}}",
		  "no sandbox 'x'", -ENOENT },
		{ "{\"error\":\"org.sbx.Manager.PermissionDenied\",\"parameters\":{\"method\":\"Start\","
		  "\"reason\":\"only tighten\",\"parameter\":\"overrides\"}}",
		  "permission denied: only tighten (overrides)", -EACCES },
		{ "{\"error\":\"org.sbx.Manager.InvalidParameter\",\"parameters\":{\"parameter\":\"name\","
		  "\"reason\":\"too long\"}}", "invalid name: too long", -EINVAL },
		{ "{\"error\":\"org.sbx.Manager.IsRunning\",\"parameters\":{\"name\":\"w\"}}",
		  "sandbox 'w' is running", -EBUSY },
		{ "{\"error\":\"org.varlink.service.MethodNotFound\",\"parameters\":{\"method\":\"Status\"}}",
		  "sbxd does not serve org.sbx.Manager.Status (an older daemon?)", -EOPNOTSUPP },
		{ "{\"error\":\"com.example.Odd\",\"parameters\":{\"k\":1}}",
		  "com.example.Odd {\"k\":1}", -EPROTO },
		/* parameters missing altogether: the call's name, never a crash */
		{ "{\"error\":\"org.sbx.Manager.NotRunning\"}", "sandbox 'x' is not running", -ESRCH },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *r[] = { t[i].msg, NULL };
		struct sbx_client *c;
		size_t nfds;

		serve(f, r);
		c = client(f);
		assert_int_equal(sbx_status(c, "x", NULL), t[i].err);
		assert_string_equal(sbx_client_last_error(c)->message, t[i].sentence);
		assert_non_null(sbx_client_last_error(c)->parameters);
		json_object_put(request(f, &nfds));
		sbx_client_close(c);
	}
}

static int collect(const char *data, size_t len, void *userdata)
{
	strncat(userdata, data, len);
	strcat(userdata, "|");
	return 0;
}

static void test_logs_follow_streams(void **state)
{
	struct fixture *f = *state;
	static const char *const r[] = {
		"{\"parameters\":{\"data\":\"ab\"},\"continues\":true}",
		"{\"parameters\":{\"data\":\"\"},\"continues\":true}",
		"{\"parameters\":{\"data\":\"c\\n\"}}", NULL };
	struct sbx_client *c;
	char got[64] = "";
	json_object *req;
	size_t nfds;

	serve(f, r);
	c = client(f);
	assert_int_equal(sbx_logs(c, "w", 5, true, collect, got), 0);
	assert_string_equal(got, "ab|c\n|");
	req = request(f, &nfds);
	assert_string_equal(get_path(req, "more", NULL), "true");
	assert_string_equal(get_path(req, "parameters", "tail"), "5");
	assert_string_equal(get_path(req, "parameters", "follow"), "true");
	json_object_put(req);
	sbx_client_close(c);
}

static int stop_after_one(const char *data, size_t len, void *userdata)
{
	return 1;
}

/* A callback that stops ends the call with 0; the connection is closed and
 * the next call opens a new one. */
static void test_stop_then_reconnect(void **state)
{
	struct fixture *f = *state;
	static const char *const r1[] = { "{\"parameters\":{\"data\":\"x\"},\"continues\":true}", NULL };
	static const char *const r2[] = { "{\"parameters\":{\"version\":\"1\",\"abi\":1,\"api\":1}}", NULL };
	struct sbx_client *c;
	struct sbx_version v;
	size_t nfds;

	serve(f, r1);
	c = client(f);
	assert_int_equal(sbx_logs(c, "w", -1, true, stop_after_one, NULL), 0);
	json_object_put(request(f, &nfds));
	serve(f, r2);
	assert_int_equal(sbx_version(c, &v), 0);
	json_object_put(request(f, &nfds));
	sbx_client_close(c);
}

static void test_run_sends_stdio_fds(void **state)
{
	struct fixture *f = *state;
	static const char *const r[] = {
		"{\"parameters\":{\"name\":\"run-1\",\"started\":true},\"continues\":true}",
		"{\"parameters\":{\"name\":\"run-1\",\"exit_code\":42,\"result\":{\"exit_code\":42}}}", NULL };
	const char *argv[] = { "true", NULL };
	const int fds[3] = { 0, 1, 2 };
	struct sbx_client *c;
	json_object *res = NULL, *req;
	size_t nfds;
	int code = -1;

	serve(f, r);
	c = client(f);
	assert_int_equal(sbx_run_command(c, NULL, argv, NULL, NULL, fds, true, NULL, NULL, &code, &res), 0);
	assert_int_equal(code, 42);
	assert_string_equal(get_path(res, "exit_code", NULL), "42");
	json_object_put(res);
	req = request(f, &nfds);
	assert_int_equal(nfds, 3);
	assert_string_equal(get_path(req, "method", NULL), "org.sbx.Manager.Run");
	assert_string_equal(get_path(req, "parameters", "tty"), "true");
	assert_false(json_object_object_get_ex(json_object_object_get(req, "parameters"), "profile", NULL));
	json_object_put(req);
	sbx_client_close(c);
}

static void test_bad_reply_and_closed_connection(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = { "this is not json", NULL };
	static const char *const none[] = { NULL };
	static const char *const arr[] = { "{\"parameters\":[1]}", NULL };
	struct sbx_client *c;
	size_t nfds;

	serve(f, bad);
	c = client(f);
	assert_int_equal(sbx_list(c, NULL), -EBADMSG);
	assert_null(sbx_client_last_error(c)->name);
	assert_string_equal(sbx_client_last_error(c)->message, "sbxd sent a reply that is not a JSON object");
	json_object_put(request(f, &nfds));
	sbx_client_close(c);

	serve(f, none);
	c = client(f);
	assert_int_equal(sbx_list(c, NULL), -ECONNRESET);
	assert_string_equal(sbx_client_last_error(c)->message, "sbxd closed the connection");
	json_object_put(request(f, &nfds));
	sbx_client_close(c);

	serve(f, arr);
	c = client(f);
	assert_int_equal(sbx_list(c, NULL), -EBADMSG);
	json_object_put(request(f, &nfds));
	sbx_client_close(c);
}

static void test_open_failures(void **state)
{
	struct fixture *f = *state;
	struct sbx_client *c = (void *)1;
	char longp[200];

	assert_int_equal(sbx_client_open("/nonexistent/sbxd.sock", &c), -ENOENT);
	assert_null(c);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(sbx_client_open(longp, &c), -ENAMETOOLONG);
	/* $SBX_SOCKET when no path is given */
	setenv("SBX_SOCKET", "/nonexistent/other.sock", 1);
	assert_int_equal(sbx_client_open(NULL, &c), -ENOENT);
	unsetenv("SBX_SOCKET");
	(void)f;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_version_call_and_reply),
		T(test_start_sends_overrides),
		T(test_varlink_error_mapped),
		T(test_error_names_and_sentences),
		T(test_logs_follow_streams),
		T(test_stop_then_reconnect),
		T(test_run_sends_stdio_fds),
		T(test_bad_reply_and_closed_connection),
		T(test_open_failures),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
