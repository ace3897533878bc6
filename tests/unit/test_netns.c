/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for user/kernel/netns.c: loopback in a fresh namespace, and veth pairs
 * to a "holder" child that sits in its own network namespace the way a
 * sandbox child does before it runs its workload. What the code made is
 * checked independently: `ip -j` from the host, `nsenter -n ip -j` inside,
 * and UDP datagrams over the pair. Every link is one this file creates, in
 * an address range real sandboxes do not use (pool slots 16370 and up;
 * sbx has at most 4096 slots). Tests that need root or veth are skipped
 * with the reason.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/socket.h>

#include "testutil.h"
#include "kernel/netns.h"

/* ---- helpers -------------------------------------------------------------- */

/* Runs a shell command, output into buf; returns its exit status. */
__attribute__((format(printf, 3, 4)))
static int sh(char *buf, size_t len, const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	size_t n = 0;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (n + 1 < len && !feof(f)) {
		size_t got = fread(buf + n, 1, len - 1 - n, f);

		if (!got)
			break;
		n += got;
	}
	buf[n] = 0;
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A child in its own network namespace, held until the test is done. It
 * answers one request per line on its command pipe: "udp ADDR PORT" sends a
 * datagram to ADDR:PORT and waits for the reply (result: 0 or an errno). */
struct holder {
	pid_t pid;
	int cmd, res;
};

static int holder_udp(const char *addr, const char *port)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct pollfd pfd = { .events = POLLIN };
	char buf[16];
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;

	s4->sin_family = (sa_family_t)fam;
	if (fam == AF_INET ? inet_pton(fam, addr, &s4->sin_addr) != 1
			   : inet_pton(fam, addr, &s6->sin6_addr) != 1)
		return EINVAL;
	if (fam == AF_INET)
		s4->sin_port = htons((uint16_t)atoi(port));
	else
		s6->sin6_port = htons((uint16_t)atoi(port));
	pfd.fd = socket(fam, SOCK_DGRAM, 0);
	if (pfd.fd < 0 || sendto(pfd.fd, "ping", 4, 0, (struct sockaddr *)&ss, sizeof(ss)) != 4)
		return errno;
	if (poll(&pfd, 1, 3000) != 1)
		return ETIMEDOUT;
	if (recv(pfd.fd, buf, sizeof(buf), 0) != 4 || memcmp(buf, "pong", 4))
		return EPROTO;
	close(pfd.fd);
	return 0;
}

static void holder_main(int cmd, int res)
{
	char line[256], a[128], p[16];
	FILE *in = fdopen(cmd, "r");
	int r = unshare(CLONE_NEWNET) < 0 ? errno : 0;

	if (write(res, &r, sizeof(r)) != sizeof(r) || r || !in)
		_exit(1);
	while (fgets(line, sizeof(line), in)) {
		r = sscanf(line, "udp %127s %15s", a, p) == 2 ? holder_udp(a, p) : EINVAL;
		if (write(res, &r, sizeof(r)) != sizeof(r))
			_exit(1);
	}
	_exit(0);
}

static int holder_start(struct holder *h)
{
	int c[2], s[2], r = -1;

	if (pipe2(c, O_CLOEXEC) < 0 || pipe2(s, O_CLOEXEC) < 0)
		return -errno;
	h->pid = fork();
	if (h->pid == 0) {
		close(c[1]);
		close(s[0]);
		holder_main(c[0], s[1]);
	}
	close(c[0]);
	close(s[1]);
	h->cmd = c[1];
	h->res = s[0];
	if (h->pid < 0 || read(h->res, &r, sizeof(r)) != sizeof(r))
		return -ECHILD;
	return -r;
}

/* Closing the command pipe ends the child; its namespace goes with it. */
static void holder_stop(struct holder *h)
{
	if (h->pid <= 0)
		return;
	close(h->cmd);
	close(h->res);
	waitpid(h->pid, NULL, 0);
	h->pid = 0;
}

/* Inside the holder: UDP to host_addr, answered by a socket bound there.
 * Returns 0 when the datagram came from sandbox_addr and the answer arrived. */
static int udp_round_trip(struct holder *h, const char *host_addr, const char *sandbox_addr)
{
	struct sockaddr_storage ss = {}, from;
	socklen_t sl = sizeof(ss), fl = sizeof(from);
	struct pollfd pfd = { .events = POLLIN };
	int fam = strchr(host_addr, ':') ? AF_INET6 : AF_INET, r = -1;
	char line[256], a[INET6_ADDRSTRLEN] = "", buf[8];
	void *src = fam == AF_INET ? (void *)&((struct sockaddr_in *)&from)->sin_addr
				   : (void *)&((struct sockaddr_in6 *)&from)->sin6_addr;

	ss.ss_family = (sa_family_t)fam;
	inet_pton(fam, host_addr, fam == AF_INET ? (void *)&((struct sockaddr_in *)&ss)->sin_addr
						 : (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr);
	pfd.fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (pfd.fd < 0 || bind(pfd.fd, (struct sockaddr *)&ss, sizeof(ss)) < 0 ||
	    getsockname(pfd.fd, (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	snprintf(line, sizeof(line), "udp %s %u\n", host_addr,
		 ntohs(((struct sockaddr_in *)&ss)->sin_port));	/* same offset in sin6 */
	if (write(h->cmd, line, strlen(line)) < 0)
		return -errno;
	if (poll(&pfd, 1, 3000) == 1 &&
	    recvfrom(pfd.fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) == 4) {
		inet_ntop(fam, src, a, sizeof(a));
		sendto(pfd.fd, "pong", 4, 0, (struct sockaddr *)&from, fl);
	}
	if (read(h->res, &r, sizeof(r)) != sizeof(r))
		r = ECHILD;
	close(pfd.fd);
	if (r)
		return -r;
	return strcmp(a, sandbox_addr) ? -EADDRNOTAVAIL : 0;
}

/* ---- fixture -------------------------------------------------------------- */

struct fx {
	struct holder h;
	struct sbx_veth v;
	char why[256];
	char out[8192];
};

/* Why the tests that need a namespace (or also veth) cannot run; NULL: they can. */
static const char *netns_skip, *veth_skip;

/* Root, network namespaces and veth, tried in a throwaway namespace. */
static int group_setup(void **state)
{
	struct nl_sock *sk;
	pid_t pid;
	int st;

	if (geteuid() != 0) {
		netns_skip = veth_skip = "needs root (network namespaces and veth)";
		return 0;
	}
	pid = fork();
	if (pid == 0) {
		sk = nl_socket_alloc();
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		if (!sk || nl_connect(sk, NETLINK_ROUTE) < 0 ||
		    rtnl_link_veth_add(sk, "probe0", "probe1", getpid()) < 0)
			_exit(2);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) == 1)
		netns_skip = veth_skip = "unshare(CLONE_NEWNET) fails here";
	else if (WEXITSTATUS(st) == 2)
		veth_skip = "veth links cannot be created here";
	return 0;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	if (!veth_skip && holder_start(&f->h) < 0)
		return -1;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	sbx_veth_destroy(&f->v);
	holder_stop(&f->h);
	free(f);
	return 0;
}

#define REQUIRE(reason)								\
	do {									\
		if (reason) {							\
			SKIP_BECAUSE("%s", reason); \
		}								\
	} while (0)

static int create(struct fx *f, const char *id, uint32_t slot, const struct sbx_profile *p)
{
	int r = sbx_veth_create(&f->v, id, slot, f->h.pid, p, f->why, sizeof(f->why));

	if (r < 0)
		print_message("sbx_veth_create: %s\n", f->why);
	return r;
}

/* `ip -j` inside the holder's namespace. */
#define IN_NS(f, ...) sh((f)->out, sizeof((f)->out), "nsenter -t %d -n " __VA_ARGS__)
#define ON_HOST(f, ...) sh((f)->out, sizeof((f)->out), __VA_ARGS__)
#define assert_out_has(f, s)							\
	do {									\
		if (!strstr((f)->out, (s)))					\
			fail_msg("'%s' not in: %s", (s), (f)->out);		\
	} while (0)

/* ---- input checks (no root needed: rejected before any syscall) ------------ */

static void test_create_rejects_id_without_8_hex_digits(void **state)
{
	struct sbx_veth v = { .host_if = "untouched" };
	char why[256] = "";

	assert_int_equal(sbx_veth_create(&v, "sbx-12345", 1, 1, NULL, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "sbx-12345"));
	assert_int_equal(sbx_veth_create(&v, "sbx-1234567g", 1, 1, NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(sbx_veth_create(&v, "sbx-123456789", 1, 1, NULL, why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(v.host_if, "untouched");
	assert_false(v.created);
}

static void test_create_rejects_slot_outside_pool(void **state)
{
	struct sbx_veth v = {};
	char why[256] = "";

	assert_int_equal(sbx_veth_create(&v, "sbx-0000abcd", 16384, 1, NULL, why, sizeof(why)),
			 -ERANGE);
	assert_non_null(strstr(why, "16384"));
	assert_false(v.created);
}

static void test_create_rejects_bad_profile_addresses(void **state)
{
	static const char *const bad[][2] = {
		{ "198.18.7.1/24", NULL },			/* half */
		{ NULL, "198.18.7.2/24" },			/* half */
		{ "198.18.7.1", "198.18.7.2" },			/* no prefix */
		{ "198.18.7.1/24", "198.18.8.2/24" },		/* two subnets */
		{ "198.18.7.1/24", "198.18.7.2/25" },		/* two prefixes */
		{ "198.18.7.1/24", "198.18.7.1/24" },		/* one address */
		{ "198.18.7.1/32", "198.18.7.2/32" },		/* no common subnet */
		{ "198.18.7.1/33", "198.18.7.2/33" },
		{ "198.18.7.1/24", "fd00::2/64" },		/* two families */
		{ "eth0/24", "198.18.7.2/24" },
		{ "198.18.7.1/ 24", "198.18.7.2/ 24" },
		{ "198.18.7.1/-24", "198.18.7.2/-24" },
	};
	struct sbx_profile p = {};
	struct sbx_veth v = {};
	char why[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p.net.veth_host = (char *)bad[i][0];
		p.net.veth_sandbox = (char *)bad[i][1];
		why[0] = 0;
		if (sbx_veth_create(&v, "sbx-0000abcd", 1, 1, &p, why, sizeof(why)) != -EINVAL)
			fail_msg("%s / %s accepted", bad[i][0], bad[i][1]);
		assert_true(why[0] != 0);
	}
	assert_false(v.created);
}

/* ---- loopback ------------------------------------------------------------- */

/* In a fresh namespace: 127.0.0.1 unreachable before, a TCP connection after. */
static int loopback_child(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int l, c;

	if (unshare(CLONE_NEWNET) < 0)
		return 10;
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno != ENETUNREACH)
		return 11;
	close(c);
	if (sbx_netns_loopback_up() < 0 || sbx_netns_loopback_up() < 0)
		return 12;
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &sl) < 0)
		return 13;
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return 14;
	return accept(l, NULL, NULL) < 0 ? 15 : 0;
}

static void test_loopback_up_makes_127_0_0_1_reachable(void **state)
{
	pid_t pid;
	int st;

	REQUIRE(netns_skip);
	pid = fork();
	if (pid == 0)
		_exit(loopback_child());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	/* 11: reachable before; 12: loopback_up failed; 14: connect failed */
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- veth ------------------------------------------------------------------- */

static ino_t own_netns(void)
{
	struct stat st;

	return stat("/proc/thread-self/ns/net", &st) < 0 ? 0 : st.st_ino;
}

static void test_veth_host_end_named_after_id_with_pool_address(void **state)
{
	struct fx *f = *state;
	ino_t before = own_netns();

	REQUIRE(veth_skip);
	assert_int_equal(create(f, "sbx-5eed0001", 16380, NULL), 0);
	assert_true(before != 0 && own_netns() == before);	/* sbx never leaves its netns */
	assert_true(f->v.created);
	assert_string_equal(f->v.host_if, "sbx5eed0001");
	/* slot 16380: 10.200.(65520/256).(65520%256) = 10.200.255.240/30 */
	assert_string_equal(f->v.host_cidr, "10.200.255.241/30");
	assert_string_equal(f->v.sandbox_cidr, "10.200.255.242/30");
	assert_int_equal(ON_HOST(f, "ip -j addr show dev sbx5eed0001"), 0);
	assert_out_has(f, "\"local\":\"10.200.255.241\",\"prefixlen\":30");
	assert_out_has(f, "\"UP\"");
	assert_out_has(f, "\"link_netnsid\"");		/* the peer lives elsewhere */
}

static void test_veth_sandbox_end_is_eth0_with_address_and_default_route(void **state)
{
	struct fx *f = *state;

	REQUIRE(veth_skip);
	assert_int_equal(create(f, "sbx-5eed0002", 16381, NULL), 0);
	assert_int_equal(IN_NS(f, "ip -j addr show dev eth0", f->h.pid), 0);
	assert_out_has(f, "\"local\":\"10.200.255.246\",\"prefixlen\":30");
	assert_out_has(f, "\"UP\"");
	assert_int_equal(IN_NS(f, "ip -j route show default", f->h.pid), 0);
	assert_out_has(f, "\"gateway\":\"10.200.255.245\"");
	assert_out_has(f, "\"dev\":\"eth0\"");
}

static void test_veth_carries_udp_both_ways(void **state)
{
	struct fx *f = *state;

	REQUIRE(veth_skip);
	assert_int_equal(create(f, "sbx-5eed0003", 16382, NULL), 0);
	assert_int_equal(udp_round_trip(&f->h, "10.200.255.249", "10.200.255.250"), 0);
}

static void test_veth_profile_addresses_ipv4(void **state)
{
	struct sbx_profile p = { .net.veth_host = "198.18.77.1/24",
				 .net.veth_sandbox = "198.18.77.20/24" };
	struct fx *f = *state;

	REQUIRE(veth_skip);
	assert_int_equal(create(f, "sbx-5eed0004", 3, &p), 0);
	assert_string_equal(f->v.host_cidr, "198.18.77.1/24");
	assert_string_equal(f->v.sandbox_cidr, "198.18.77.20/24");
	assert_int_equal(IN_NS(f, "ip -j route show default", f->h.pid), 0);
	assert_out_has(f, "\"gateway\":\"198.18.77.1\"");
	assert_int_equal(udp_round_trip(&f->h, "198.18.77.1", "198.18.77.20"), 0);
}

static void test_veth_profile_addresses_ipv6(void **state)
{
	struct sbx_profile p = { .net.veth_host = "fd5b:0:0:77::1/64",
				 .net.veth_sandbox = "fd5b:0:0:77::2/64" };
	struct fx *f = *state;

	REQUIRE(veth_skip);
	assert_int_equal(create(f, "sbx-5eed0005", 3, &p), 0);
	assert_int_equal(IN_NS(f, "ip -j -6 route show default", f->h.pid), 0);
	assert_out_has(f, "\"gateway\":\"fd5b:0:0:77::1\"");
	assert_int_equal(udp_round_trip(&f->h, "fd5b:0:0:77::1", "fd5b:0:0:77::2"), 0);
}

static void test_veth_destroy_removes_both_ends_and_is_idempotent(void **state)
{
	struct fx *f = *state;

	REQUIRE(veth_skip);
	assert_int_equal(create(f, "sbx-5eed0006", 16383, NULL), 0);
	sbx_veth_destroy(&f->v);
	assert_false(f->v.created);
	assert_int_not_equal(ON_HOST(f, "ip link show dev sbx5eed0006 2>&1"), 0);
	assert_int_not_equal(IN_NS(f, "ip link show dev eth0 2>&1", f->h.pid), 0);
	sbx_veth_destroy(&f->v);
	f->v.created = true;		/* as if the first delete had not been seen */
	sbx_veth_destroy(&f->v);
	assert_false(f->v.created);
	sbx_veth_destroy(NULL);
}

static void test_veth_existing_host_name_fails_with_eexist(void **state)
{
	struct fx *f = *state;
	struct sbx_veth again = {};
	char why[256] = "";

	REQUIRE(veth_skip);
	assert_int_equal(create(f, "sbx-5eed0007", 16370, NULL), 0);
	assert_int_equal(sbx_veth_create(&again, "sbx-5eed0007", 16371, f->h.pid, NULL, why,
					 sizeof(why)), -EEXIST);
	assert_non_null(strstr(why, "create veth sbx5eed0007"));
	assert_false(again.created);
	/* the first pair is untouched */
	assert_int_equal(ON_HOST(f, "ip -j addr show dev sbx5eed0007"), 0);
	assert_out_has(f, "10.200.255.201");
}

static void test_veth_for_dead_child_fails_with_enoent(void **state)
{
	struct sbx_veth v = {};
	char why[256] = "";
	pid_t pid;

	REQUIRE(veth_skip);
	pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	assert_int_equal(sbx_veth_create(&v, "sbx-5eed0008", 16372, pid, NULL, why, sizeof(why)),
			 -ENOENT);
	assert_non_null(strstr(why, "/ns/net"));
	assert_false(v.created);
}

/* A default route already in the sandbox: the last step fails, and the
 * host end must not stay behind. */
static void test_veth_sandbox_side_failure_removes_host_end(void **state)
{
	struct fx *f = *state;
	struct sbx_veth v = {};

	REQUIRE(veth_skip);
	assert_int_equal(IN_NS(f, "ip route add blackhole default 2>&1", f->h.pid), 0);
	assert_int_equal(sbx_veth_create(&v, "sbx-5eed0009", 16373, f->h.pid, NULL, f->why,
					 sizeof(f->why)), -EEXIST);
	assert_non_null(strstr(f->why, "default route"));
	assert_false(v.created);
	assert_int_not_equal(ON_HOST(f, "ip link show dev sbx5eed0009 2>&1"), 0);
}

/* What docs/netns.md promises for a manager that dies: the kernel removes
 * the host end when the sandbox namespace goes. */
static void test_veth_host_end_goes_with_sandbox_namespace(void **state)
{
	struct fx *f = *state;
	struct timespec ms10 = { .tv_nsec = 10000000 };
	int i;

	REQUIRE(veth_skip);
	assert_int_equal(create(f, "sbx-5eed000a", 16374, NULL), 0);
	holder_stop(&f->h);
	for (i = 0; i < 500; i++) {
		if (ON_HOST(f, "ip link show dev sbx5eed000a 2>&1") != 0)
			break;
		nanosleep(&ms10, NULL);
	}
	assert_true(i < 500);
	sbx_veth_destroy(&f->v);	/* already gone: still fine */
	assert_false(f->v.created);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_rejects_id_without_8_hex_digits),
		cmocka_unit_test(test_create_rejects_slot_outside_pool),
		cmocka_unit_test(test_create_rejects_bad_profile_addresses),
		cmocka_unit_test(test_loopback_up_makes_127_0_0_1_reachable),
#define FX(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)
		FX(test_veth_host_end_named_after_id_with_pool_address),
		FX(test_veth_sandbox_end_is_eth0_with_address_and_default_route),
		FX(test_veth_carries_udp_both_ways),
		FX(test_veth_profile_addresses_ipv4),
		FX(test_veth_profile_addresses_ipv6),
		FX(test_veth_destroy_removes_both_ends_and_is_idempotent),
		FX(test_veth_existing_host_name_fails_with_eexist),
		FX(test_veth_for_dead_child_fails_with_enoent),
		FX(test_veth_sandbox_side_failure_removes_host_end),
		FX(test_veth_host_end_goes_with_sandbox_namespace),
#undef FX
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
