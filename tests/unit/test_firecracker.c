/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the Firecracker API client (providers/firecracker.c): a
 * local unix-socket server thread plays Firecracker, checks every request
 * (method, path, headers, the exact JSON body) against a script and answers
 * as the script says.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "testutil.h"
#include "firecracker.h"

struct exchange {
	const char *method, *path;
	const char *body;		/* exact body expected, or NULL: none */
	const char *answer;		/* the whole HTTP response, or NULL: close unanswered */
	bool split;			/* send the answer in small pieces */
};

struct server {
	char dir[64], sock[108];
	int lfd;
	const struct exchange *script;
	size_t n, seen;
	char mismatch[512];		/* first difference from the script */
	pthread_t thread;
};

static const char ok204[] = "HTTP/1.1 204 No Content\r\nServer: Firecracker API\r\n"
			    "Connection: keep-alive\r\n\r\n";

static void note(struct server *s, const char *what, const char *got, const char *want)
{
	if (!s->mismatch[0])
		snprintf(s->mismatch, sizeof(s->mismatch), "request %zu: %s: got '%s', want '%s'",
			 s->seen, what, got ? got : "(none)", want ? want : "(none)");
}

/* One request: headers up to the blank line, then Content-Length bytes. */
static int read_request(int fd, char *buf, size_t cap, char **ret_body, size_t *ret_blen)
{
	size_t n = 0, want = 0;
	char *end = NULL;

	while (!end || n < want) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);

		if (r <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = 0;
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			const char *cl = strcasestr(buf, "\r\nContent-Length:");

			want = (size_t)(end - buf) + 4 + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
		}
	}
	*end = 0;
	*ret_body = end + 4;
	*ret_blen = n - (size_t)(end + 4 - buf);
	return 0;
}

static void check_request(struct server *s, const struct exchange *x, char *hdr, char *body,
			  size_t blen)
{
	char line[256], *ct = strcasestr(hdr, "\r\nContent-Type:");

	snprintf(line, sizeof(line), "%s %s HTTP/1.1", x->method, x->path);
	if (strncmp(hdr, line, strlen(line)) || hdr[strlen(line)] != '\r')
		note(s, "request line", strtok(hdr, "\r"), line);
	if (!strcasestr(hdr, "\r\nHost:"))
		note(s, "Host header", NULL, "present");
	if (x->body) {
		char got[2048];

		if (!ct || strncmp(ct + 15, " application/json\r", 18))
			note(s, "Content-Type", ct ? ct + 2 : NULL, "application/json");
		/* the writer ends each document with a newline; the JSON is the rest */
		snprintf(got, sizeof(got), "%.*s", (int)blen, body);
		got[strcspn(got, "\n")] = 0;
		if (strcmp(got, x->body))
			note(s, "body", got, x->body);
	} else if (blen) {
		note(s, "body", body, NULL);
	}
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	char buf[8192];

	for (; s->seen < s->n; s->seen++) {
		const struct exchange *x = &s->script[s->seen];
		int fd = accept(s->lfd, NULL, NULL);
		char *body;
		size_t blen;

		if (fd < 0)
			break;
		if (read_request(fd, buf, sizeof(buf), &body, &blen) < 0) {
			note(s, "request", "connection closed", "a request");
			close(fd);
			continue;
		}
		check_request(s, x, buf, body, blen);
		if (x->answer && !x->split) {
			if (write(fd, x->answer, strlen(x->answer)) < 0)
				note(s, "answer", strerror(errno), "written");
		} else if (x->answer) {
			for (const char *p = x->answer; *p; p += 7) {
				size_t k = strnlen(p, 7);

				if (write(fd, p, k) < 0)
					break;
				usleep(2000);
				if (k < 7)
					break;
			}
		}
		close(fd);
	}
	return NULL;
}

static void server_start(struct server *s, const struct exchange *script, size_t n)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/sbx-fctest.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->sock, sizeof(s->sock), "%s/api.sock", s->dir);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", s->sock);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 8), 0);
	s->script = script;
	s->n = n;
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

/* Stops the server (also when the client sent fewer requests than scripted). */
static void server_stop(struct server *s)
{
	shutdown(s->lfd, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	unlink(s->sock);
	rmdir(s->dir);
}

static const struct sbx_fc_config full_cfg = {
	.kernel = "/k/vmlinux", .initrd = "/k/initrd.img",
	.boot_args = "console=ttyS0 reboot=k \"quoted\"", .rootfs = "/k/rootfs.ext4",
	.rootfs_read_only = true, .vcpus = 2, .mem_mib = 384, .tap = "tap0",
	.guest_mac = "06:00:ac:10:00:02", .vsock_cid = 3, .vsock_uds = "/run/x/v.sock",
};

static void boot_sends_every_call_in_order(void **state)
{
	const struct exchange script[] = {
		{ "PUT", "/boot-source", "{\"kernel_image_path\":\"/k/vmlinux\",\"boot_args\":"
		  "\"console=ttyS0 reboot=k \\\"quoted\\\"\",\"initrd_path\":\"/k/initrd.img\"}", ok204, false },
		{ "PUT", "/drives/rootfs", "{\"drive_id\":\"rootfs\",\"path_on_host\":\"/k/rootfs.ext4\","
		  "\"is_root_device\":true,\"is_read_only\":true}", ok204, false },
		{ "PUT", "/machine-config", "{\"vcpu_count\":2,\"mem_size_mib\":384}", ok204, false },
		{ "PUT", "/network-interfaces/eth0", "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\","
		  "\"guest_mac\":\"06:00:ac:10:00:02\"}", ok204, false },
		{ "PUT", "/vsock", "{\"guest_cid\":3,\"uds_path\":\"/run/x/v.sock\"}", ok204, false },
		{ "PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", ok204, false },
	};
	struct server s;
	char why[512] = "";
	int r;

	server_start(&s, script, 6);
	r = sbx_fc_boot(s.sock, &full_cfg, 5000, why, sizeof(why));
	server_stop(&s);
	assert_int_equal(r, 0);
	assert_string_equal(s.mismatch, "");
	assert_int_equal(s.seen, 6);
}

static void boot_leaves_out_what_is_not_configured(void **state)
{
	const struct sbx_fc_config c = { .kernel = "/k/vmlinux", .vcpus = 1, .mem_mib = 128 };
	const struct exchange script[] = {
		{ "PUT", "/boot-source", "{\"kernel_image_path\":\"/k/vmlinux\"}", ok204, false },
		{ "PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":128}", ok204, false },
		{ "PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", ok204, false },
	};
	struct server s;
	char why[512] = "";
	int r;

	server_start(&s, script, 3);
	r = sbx_fc_boot(s.sock, &c, 5000, why, sizeof(why));
	server_stop(&s);
	assert_int_equal(r, 0);
	assert_string_equal(s.mismatch, "");
	assert_int_equal(s.seen, 3);
}

static void fault_message_is_reported_and_boot_stops(void **state)
{
	const struct exchange script[] = {
		{ "PUT", "/boot-source", "{\"kernel_image_path\":\"/k/vmlinux\",\"boot_args\":"
		  "\"console=ttyS0 reboot=k \\\"quoted\\\"\",\"initrd_path\":\"/k/initrd.img\"}", ok204, false },
		{ "PUT", "/drives/rootfs", "{\"drive_id\":\"rootfs\",\"path_on_host\":\"/k/rootfs.ext4\","
		  "\"is_root_device\":true,\"is_read_only\":true}", ok204, false },
		{ "PUT", "/machine-config", "{\"vcpu_count\":2,\"mem_size_mib\":384}",
		  "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 54\r\n\r\n"
		  "{\"fault_message\": \"Invalid \\\"vcpu_count\\\": too many\"}\n", false },
	};
	struct server s;
	char why[512] = "";
	int r;

	server_start(&s, script, 3);
	r = sbx_fc_boot(s.sock, &full_cfg, 5000, why, sizeof(why));
	server_stop(&s);
	assert_int_equal(r, -EPROTO);
	assert_string_equal(why, "PUT /machine-config: 400 Bad Request: Invalid \"vcpu_count\": too many");
	assert_string_equal(s.mismatch, "");
	assert_int_equal(s.seen, 3);	/* nothing after the refusal */
}

static void get_returns_status_and_body_in_pieces(void **state)
{
	const struct exchange script[] = {
		{ "GET", "/", NULL, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		  "Content-Length: 44\r\n\r\n{\"id\":\"sbx\",\"state\":\"Not started\",\"x\":\"1\"}\r\n",
		  true },
	};
	struct server s;
	char why[256] = "", body[128] = "";
	int code = 0, r;

	server_start(&s, script, 1);
	r = sbx_fc_request(s.sock, "GET", "/", NULL, 5000, &code, body, sizeof(body), why,
			   sizeof(why));
	server_stop(&s);
	assert_int_equal(r, 0);
	assert_string_equal(s.mismatch, "");
	assert_int_equal(code, 200);
	assert_string_equal(body, "{\"id\":\"sbx\",\"state\":\"Not started\",\"x\":\"1\"}\r\n");
}

static void unanswered_request_is_an_error(void **state)
{
	const struct exchange script[] = {
		{ "PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", NULL, false },
	};
	struct server s;
	char why[256] = "";
	int r;

	server_start(&s, script, 1);
	r = sbx_fc_request(s.sock, "PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", 5000,
			   NULL, NULL, 0, why, sizeof(why));
	server_stop(&s);
	assert_int_equal(r, -ECONNRESET);
	assert_non_null(strstr(why, "PUT /actions: "));
}

static void missing_socket_is_an_error(void **state)
{
	char why[256] = "";
	int r = sbx_fc_request("/nonexistent/sbx/api.sock", "PUT", "/actions", "{}", 1000, NULL,
			       NULL, 0, why, sizeof(why));

	assert_int_equal(r, -ENOENT);
	assert_string_equal(why, "PUT /actions: connecting to /nonexistent/sbx/api.sock: "
			    "No such file or directory");
}

static void jailer_command_line(void **state)
{
	const char *v[20];
	char buf[64];
	int n = sbx_fc_jailer_argv("/usr/bin/jailer", "/usr/bin/firecracker", "sbx-1", 65534, 65534,
				   "/run/sbx/fc/jail", "/api.sock", buf, sizeof(buf), v, 20);
	const char *want[] = { "/usr/bin/jailer", "--id", "sbx-1", "--exec-file",
			       "/usr/bin/firecracker", "--uid", "65534", "--gid", "65534",
			       "--chroot-base-dir", "/run/sbx/fc/jail", "--", "--api-sock",
			       "/api.sock" };

	assert_int_equal(n, 14);
	for (int i = 0; i < n; i++)
		assert_string_equal(v[i], want[i]);
	assert_null(v[n]);
	assert_int_equal(sbx_fc_jailer_argv("j", "f", "i", 0, 0, "b", "a", buf, sizeof(buf), v, 10),
			 -ENOSPC);
}

static void probe_names_the_missing_binary(void **state)
{
	char why[512] = "";

	setenv("SBX_MICROVM_ACCEL", "tcg", 1);
	assert_true(sbx_firecracker_probe("/nonexistent/firecracker", NULL, NULL, why,
					  sizeof(why)) < 0);
	unsetenv("SBX_MICROVM_ACCEL");
	assert_non_null(strstr(why, "no firecracker binary (/nonexistent/firecracker)"));
	assert_non_null(strstr(why, "KVM is not used"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(boot_sends_every_call_in_order),
		cmocka_unit_test(boot_leaves_out_what_is_not_configured),
		cmocka_unit_test(fault_message_is_reported_and_boot_stops),
		cmocka_unit_test(get_returns_status_and_body_in_pieces),
		cmocka_unit_test(unanswered_request_is_an_error),
		cmocka_unit_test(missing_socket_is_an_error),
		cmocka_unit_test(jailer_command_line),
		cmocka_unit_test(probe_names_the_missing_binary),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
