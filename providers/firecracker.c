/* SPDX-License-Identifier: MIT */
/*
 * Firecracker's REST API over its unix socket (one HTTP/1.1 request per
 * connection), the jailer's command line, and the KVM probe that both
 * microvm backends use. No printing: every failure is a sentence in why.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "firecracker.h"
#include "util/json.h"
#include "util/util.h"

#define KVM_CACHE "/run/sbx-microvm-kvm"
#define KVM_TEST_MS 8000	/* a working KVM boots the guest in well under a second */

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll for ev until the deadline; 0, -ETIMEDOUT or -errno */
static int wait_fd(int fd, short ev, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = ev };
		long long left = deadline - mono_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static int send_all(int fd, const char *p, size_t n, long long deadline)
{
	while (n) {
		ssize_t w;
		int r = wait_fd(fd, POLLOUT, deadline);

		if (r < 0)
			return r;
		w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Once the headers are complete in buf (NUL-terminated): their length, and
 * the length of the whole response ((size_t)-1: up to EOF). */
static void parse_head(const char *buf, size_t *hdr, size_t *want)
{
	const char *end = strstr(buf, "\r\n\r\n"), *cl;

	if (!end)
		return;
	cl = strcasestr(buf, "\r\nContent-Length:");
	*hdr = (size_t)(end - buf) + 4;
	*want = cl && cl < end ? *hdr + strtoul(cl + 17, NULL, 10) : (size_t)-1;
	/* 204 and 1xx have no body whatever the headers say */
	if (!strncmp(buf + 8, " 204", 4))
		*want = *hdr;
}

/* Room for one more byte and the NUL, up to 1 MiB. */
static int grow(char **buf, size_t *cap, size_t n)
{
	char *nb;

	if (n + 1 < *cap)
		return 0;
	nb = *cap < (1u << 20) ? realloc(*buf, *cap * 2) : NULL;
	if (!nb)
		return -E2BIG;
	*buf = nb;
	*cap *= 2;
	return 0;
}

/* Reads one response: headers, then Content-Length bytes of body (or up to
 * EOF without one). *ret is malloc'd and NUL-terminated. */
static int read_response(int fd, long long deadline, char **ret, size_t *ret_hdr_len)
{
	size_t cap = 4096, n = 0, want = (size_t)-1, hdr = 0;
	_cleanup_free_ char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;
		int e;

		buf[n] = 0;
		if (!hdr)
			parse_head(buf, &hdr, &want);
		if (hdr && n >= want)
			break;
		if ((e = grow(&buf, &cap, n)) < 0 || (e = wait_fd(fd, POLLIN, deadline)) < 0)
			return e;
		r = recv(fd, buf + n, cap - n - 1, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -errno;
		if (r == 0 && !(hdr && want == (size_t)-1))
			return -ECONNRESET;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	*ret = TAKE_PTR(buf);
	*ret_hdr_len = hdr;
	return 0;
}

/* The "fault_message" string of an error body (escapes decoded, \uXXXX as '?'). */
static void fault_message(const char *body, char *out, size_t len)
{
	const char *p = strstr(body, "\"fault_message\"");
	size_t n = 0;

	out[0] = 0;
	if (!p || !len)
		return;
	p += strlen("\"fault_message\"");
	while (*p == ' ' || *p == ':' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p++ != '"')
		return;
	for (; *p && *p != '"' && n + 1 < len; p++) {
		char c = *p;

		if (c == '\\' && p[1]) {
			c = *++p;
			if (c == 'n')
				c = ' ';
			else if (c == 't')
				c = ' ';
			else if (c == 'u') {
				c = '?';
				for (int i = 0; i < 4 && p[1]; i++)
					p++;
			}
		}
		out[n++] = c;
	}
	out[n] = 0;
}

static int connect_unix(const char *path, long long deadline)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	memcpy(a.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS &&
	    errno != EAGAIN) {
		r = -errno;
		close(fd);
		return r;
	}
	if ((r = wait_fd(fd, POLLOUT, deadline)) < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int sbx_fc_request(const char *sock, const char *method, const char *path, const char *body,
		   int timeout_ms, int *ret_code, char *ret_body, size_t body_len,
		   char *why, size_t len)
{
	long long deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 5000);
	size_t blen = body ? strlen(body) : 0, hdr_len = 0;
	char *req = NULL, *resp = NULL, reason[64] = "", fault[400];
	int fd, code = 0, r, n;

	fd = connect_unix(sock, deadline);
	if (fd < 0)
		return sbx_fail(why, len, fd, "%s %s: connecting to %s: %s", method, path, sock,
				strerror(-fd));
	if (body)
		n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
			     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			     method, path, blen, body);
	else
		n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n",
			     method, path);
	if (n < 0) {
		close(fd);
		return -ENOMEM;
	}
	r = send_all(fd, req, (size_t)n, deadline);
	if (!r)
		r = read_response(fd, deadline, &resp, &hdr_len);
	free(req);
	close(fd);
	if (r < 0)
		return sbx_fail(why, len, r, "%s %s: %s", method, path,
				r == -ETIMEDOUT ? "no answer from Firecracker in time" : strerror(-r));
	if (sscanf(resp, "HTTP/1.%*d %d %63[^\r\n]", &code, reason) < 1) {
		free(resp);
		return sbx_fail(why, len, -EPROTO, "%s %s: not an HTTP response", method, path);
	}
	if (ret_code)
		*ret_code = code;
	if (ret_body && body_len)
		snprintf(ret_body, body_len, "%s", resp + hdr_len);
	if (code < 200 || code > 299) {
		fault_message(resp + hdr_len, fault, sizeof(fault));
		free(resp);
		return sbx_fail(why, len, -EPROTO, "%s %s: %d %s%s%s", method, path, code, reason,
				fault[0] ? ": " : "", fault);
	}
	free(resp);
	return 0;
}

/* ---- request bodies --------------------------------------------------------- */

struct body {
	struct json_writer w;
	FILE *f;
	char *buf;
	size_t len;
};

static bool body_open(struct body *b)
{
	memset(b, 0, sizeof(*b));
	b->f = open_memstream(&b->buf, &b->len);
	if (!b->f)
		return false;
	json_init(&b->w, b->f, false);
	json_begin_object(&b->w);
	return true;
}

static char *body_close(struct body *b)
{
	int r;

	json_end_object(&b->w);
	r = json_finish(&b->w);
	fclose(b->f);
	if (r < 0) {
		free(b->buf);
		return NULL;
	}
	return b->buf;
}

char *sbx_fc_boot_source_json(const struct sbx_fc_config *c)
{
	struct body b;

	if (!c->kernel || !body_open(&b))
		return NULL;
	json_kv_string(&b.w, "kernel_image_path", c->kernel);
	if (c->boot_args)
		json_kv_string(&b.w, "boot_args", c->boot_args);
	if (c->initrd)
		json_kv_string(&b.w, "initrd_path", c->initrd);
	return body_close(&b);
}

char *sbx_fc_drive_json(const struct sbx_fc_config *c)
{
	struct body b;

	if (!c->rootfs || !body_open(&b))
		return NULL;
	json_kv_string(&b.w, "drive_id", "rootfs");
	json_kv_string(&b.w, "path_on_host", c->rootfs);
	json_kv_bool(&b.w, "is_root_device", true);
	json_kv_bool(&b.w, "is_read_only", c->rootfs_read_only);
	return body_close(&b);
}

char *sbx_fc_machine_config_json(const struct sbx_fc_config *c)
{
	struct body b;

	if (!body_open(&b))
		return NULL;
	json_kv_uint(&b.w, "vcpu_count", c->vcpus ? c->vcpus : 1);
	json_kv_uint(&b.w, "mem_size_mib", c->mem_mib ? c->mem_mib : 256);
	return body_close(&b);
}

char *sbx_fc_network_json(const struct sbx_fc_config *c)
{
	struct body b;

	if (!c->tap || !body_open(&b))
		return NULL;
	json_kv_string(&b.w, "iface_id", "eth0");
	json_kv_string(&b.w, "host_dev_name", c->tap);
	if (c->guest_mac)
		json_kv_string(&b.w, "guest_mac", c->guest_mac);
	return body_close(&b);
}

char *sbx_fc_vsock_json(const struct sbx_fc_config *c)
{
	struct body b;

	if (!c->vsock_uds || !body_open(&b))
		return NULL;
	json_kv_uint(&b.w, "guest_cid", c->vsock_cid >= 3 ? c->vsock_cid : 3);
	json_kv_string(&b.w, "uds_path", c->vsock_uds);
	return body_close(&b);
}

static int put(const char *sock, const char *path, char *body, int timeout_ms, char *why,
	       size_t len)
{
	int r;

	if (!body)
		return sbx_fail(why, len, -ENOMEM, "PUT %s: cannot build the request body", path);
	r = sbx_fc_request(sock, "PUT", path, body, timeout_ms, NULL, NULL, 0, why, len);
	free(body);
	return r;
}

int sbx_fc_boot(const char *sock, const struct sbx_fc_config *c, int timeout_ms,
		char *why, size_t len)
{
	static const char start[] = "{\"action_type\":\"InstanceStart\"}";
	int r;

	r = put(sock, "/boot-source", sbx_fc_boot_source_json(c), timeout_ms, why, len);
	if (!r && c->rootfs)
		r = put(sock, "/drives/rootfs", sbx_fc_drive_json(c), timeout_ms, why, len);
	if (!r)
		r = put(sock, "/machine-config", sbx_fc_machine_config_json(c), timeout_ms, why, len);
	if (!r && c->tap)
		r = put(sock, "/network-interfaces/eth0", sbx_fc_network_json(c), timeout_ms, why, len);
	if (!r && c->vsock_uds)
		r = put(sock, "/vsock", sbx_fc_vsock_json(c), timeout_ms, why, len);
	if (!r)
		r = put(sock, "/actions", strdup(start), timeout_ms, why, len);
	return r;
}

int sbx_fc_jailer_argv(const char *jailer, const char *firecracker, const char *id, uid_t uid,
		       gid_t gid, const char *chroot_base, const char *api_sock, char *buf,
		       size_t buf_len, const char **ret_argv, size_t max_args)
{
	const char *v[16];
	size_t n = 0;
	int w = snprintf(buf, buf_len, "%u%c%u", (unsigned)uid, 0, (unsigned)gid);

	if (w < 0 || (size_t)w >= buf_len)
		return -ENOSPC;
	v[n++] = jailer;
	v[n++] = "--id";
	v[n++] = id;
	v[n++] = "--exec-file";
	v[n++] = firecracker;
	v[n++] = "--uid";
	v[n++] = buf;
	v[n++] = "--gid";
	v[n++] = buf + strlen(buf) + 1;
	v[n++] = "--chroot-base-dir";
	v[n++] = chroot_base;
	v[n++] = "--";
	v[n++] = "--api-sock";
	v[n++] = api_sock;
	if (n + 1 > max_args)
		return -ENOSPC;
	memcpy(ret_argv, v, n * sizeof(*v));
	ret_argv[n] = NULL;
	return (int)n;
}

int sbx_find_program(const char *prog, char *ret, size_t len)
{
	const char *path = getenv("PATH");
	char dir[4096];

	if (strchr(prog, '/')) {
		if (access(prog, X_OK) < 0)
			return -ENOENT;
		snprintf(ret, len, "%s", prog);
		return 0;
	}
	for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");

		snprintf(dir, sizeof(dir), "%.*s", (int)n, p);
		if (n) {
			snprintf(ret, len, "%s/%s", dir, prog);
			if (access(ret, X_OK) == 0)
				return 0;
		}
		p += n + (p[n] == ':');
	}
	return -ENOENT;
}

/* ---- KVM ------------------------------------------------------------------------- */

static int kvm_basic(char *why, size_t len)
{
	_cleanup_close_ int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int vm, v;

	if (fd < 0)
		return sbx_fail(why, len, -ENODEV, "KVM is not available: /dev/kvm: %s",
				strerror(errno));
	v = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION)
		return sbx_fail(why, len, -ENODEV, "KVM is not usable: API version %d, want %d", v,
				KVM_API_VERSION);
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	if (vm < 0)
		return sbx_fail(why, len, -ENODEV, "KVM is not usable: KVM_CREATE_VM: %s",
				strerror(errno));
	close(vm);
	return 0;
}

/* Boots kernel+initrd under -accel kvm with "sbx.probe" (the guest init powers
 * off at once). 0 when qemu exits 0 in time. */
static int kvm_test_boot(const char *qemu, const char *kernel, const char *initrd, char *why,
			 size_t len)
{
	const char *argv[] = { qemu, "-M", "microvm", "-nodefaults", "-no-user-config",
			       "-display", "none", "-no-reboot", "-accel", "kvm", "-cpu", "host",
			       "-m", "128M", "-smp", "1", "-kernel", kernel, "-initrd", initrd,
			       "-append", "console=ttyS0 quiet panic=-1 sbx.probe", NULL };
	long long deadline = mono_ms() + KVM_TEST_MS;
	int status = 0, devnull;
	pid_t pid = fork(), w;

	if (pid < 0)
		return sbx_fail(why, len, -errno, "KVM test boot: fork: %s", strerror(errno));
	if (pid == 0) {
		devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		execv(qemu, (char **)argv);
		_exit(127);
	}
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && mono_ms() < deadline)
		usleep(20000);
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return sbx_fail(why, len, -ENODEV,
				"KVM is not usable (PVM host?): a test boot under qemu -accel kvm "
				"did not finish in %d s", KVM_TEST_MS / 1000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return sbx_fail(why, len, -ENODEV,
				"KVM is not usable (PVM host?): a test boot under qemu -accel kvm "
				"failed (%s %d)", WIFEXITED(status) ? "exit status" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return 0;
}

int sbx_kvm_usable(const char *qemu, const char *kernel, const char *initrd, char *why,
		   size_t len)
{
	const char *force = getenv("SBX_MICROVM_ACCEL");
	char line[512] = "";
	FILE *f;
	int r;

	if (force && !strcmp(force, "tcg"))
		return sbx_fail(why, len, -ENODEV, "KVM is not used: SBX_MICROVM_ACCEL=tcg");
	if (force && !strcmp(force, "kvm"))
		return 0;
	if ((r = kvm_basic(why, len)) < 0)
		return r;
	f = fopen(KVM_CACHE, "re");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = 0;
		fclose(f);
		line[strcspn(line, "\n")] = 0;
		if (!strcmp(line, "yes"))
			return 0;
		if (!strncmp(line, "no ", 3))
			return sbx_fail(why, len, -ENODEV, "%s", line + 3);
	}
	if (!qemu || !kernel || !initrd || access(kernel, R_OK) || access(initrd, R_OK))
		return sbx_fail(why, len, -ENODEV,
				"KVM is not verified: /dev/kvm answers, but no guest kernel and "
				"initramfs are at hand for a test boot (see docs/microvm.md)");
	r = kvm_test_boot(qemu, kernel, initrd, why, len);
	f = fopen(KVM_CACHE ".tmp", "we");
	if (f) {
		fprintf(f, "%s%s\n", r ? "no " : "yes", r ? why : "");
		if (fclose(f) == 0)
			rename(KVM_CACHE ".tmp", KVM_CACHE);
	}
	return r;
}

int sbx_firecracker_probe(const char *bin, const char *kernel, const char *initrd, char *why,
			  size_t len)
{
	char path[4096], qemu[4096], kvm[400] = "";
	int have_bin = sbx_find_program(bin ? bin : "firecracker", path, sizeof(path)) == 0;
	int have_kvm = sbx_kvm_usable(sbx_find_program("qemu-system-x86_64", qemu, sizeof(qemu)) ?
				      NULL : qemu, kernel, initrd, kvm, sizeof(kvm)) == 0;

	if (have_bin && have_kvm)
		return 0;
	return sbx_fail(why, len, have_bin ? -ENODEV : -ENOENT, "%s%s%s%s",
			have_bin ? "" : "no firecracker binary (",
			have_bin ? "" : bin ? bin : "not in $PATH",
			have_bin ? "" : have_kvm ? ")" : "); ", have_kvm ? "" : kvm);
}
