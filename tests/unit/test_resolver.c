/* SPDX-License-Identifier: MIT */
/*
 * The resolver engine (user/dns/resolver.c) in a thread, with real loopback
 * sockets: dnsmasq serves fixed records as the upstream (the cases that
 * need it are skipped when it is not installed), and the test's own
 * sockets play a fake upstream for the anti-spoofing and timeout cases.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "dns/resolver.h"

/* ---- what the callbacks saw ---------------------------------------------- */

struct seen_pin {
	struct sbx_dns_addr a;
	uint32_t rule;
	uint64_t expires;
};

struct seen_event {
	enum sbx_dns_verdict verdict;
	enum sbx_dns_reason reason;
	char name[SBX_DNS_NAME_MAX];
	uint16_t qtype;
	uint8_t proto, rcode;
	uint32_t rule;
	size_t n_addrs;
	struct sbx_dns_addr first;
	bool has_client;
};

static struct {
	pthread_mutex_t mu;
	size_t n_pins, n_events;
	struct seen_pin pins[256];
	struct seen_event events[64];
	int pin_error;		/* what pin() returns */
	bool allow_ten;		/* range_allowed() says yes to 10.0.0.0/8 */
} R = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int cb_pin(void *ctx, const struct sbx_dns_addr *a, const struct sbx_dns_rule *r, uint64_t expires)
{
	int ret;

	pthread_mutex_lock(&R.mu);
	if (R.n_pins < 256)
		R.pins[R.n_pins++] = (struct seen_pin){ *a, r->rule, expires };
	ret = R.pin_error;
	pthread_mutex_unlock(&R.mu);
	return ret;
}

static bool cb_range(void *ctx, int family, const uint8_t addr[16])
{
	return R.allow_ten && family == AF_INET && addr[0] == 10;
}

static void cb_event(void *ctx, const struct sbx_dns_event *ev)
{
	pthread_mutex_lock(&R.mu);
	if (R.n_events < 64) {
		struct seen_event *s = &R.events[R.n_events++];

		*s = (struct seen_event){ .verdict = ev->verdict, .reason = ev->reason, .qtype = ev->qtype,
					  .proto = ev->proto, .rcode = ev->rcode, .rule = ev->rule,
					  .n_addrs = ev->n_addrs, .has_client = ev->client != NULL };
		snprintf(s->name, sizeof(s->name), "%s", ev->name);
		if (ev->n_addrs)
			s->first = ev->addrs[0];
	}
	pthread_mutex_unlock(&R.mu);
}

static void seen_reset(void)
{
	pthread_mutex_lock(&R.mu);
	R.n_pins = R.n_events = 0;
	R.pin_error = 0;
	R.allow_ten = false;
	pthread_mutex_unlock(&R.mu);
}

static size_t pins_now(void)
{
	size_t n;

	pthread_mutex_lock(&R.mu);
	n = R.n_pins;
	pthread_mutex_unlock(&R.mu);
	return n;
}

/* The n-th event (0-based), waiting up to 2 s for it: events follow the reply. */
static struct seen_event event_at(size_t n)
{
	struct seen_event e = { 0 };

	for (int i = 0; i < 200; i++) {
		pthread_mutex_lock(&R.mu);
		if (R.n_events > n) {
			e = R.events[n];
			pthread_mutex_unlock(&R.mu);
			return e;
		}
		pthread_mutex_unlock(&R.mu);
		usleep(10000);
	}
	fail_msg("no event %zu", n);
	return e;
}

/* The n-th event, checked for what every event says. */
static struct seen_event expect_event(size_t n, enum sbx_dns_verdict v, enum sbx_dns_reason why, uint32_t rule,
				      uint8_t rcode)
{
	struct seen_event ev = event_at(n);

	if (ev.verdict != v || ev.reason != why || ev.rule != rule || ev.rcode != rcode)
		fail_msg("event %zu (%s): verdict %d reason %d rule %u rcode %u, want %d %d %u %u", n, ev.name,
			 ev.verdict, ev.reason, ev.rule, ev.rcode, v, why, rule, rcode);
	return ev;
}

static bool pinned(const char *ip, uint32_t rule)
{
	uint8_t a[16] = { 0 };
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;
	bool found = false;

	assert_int_equal(inet_pton(fam, ip, a), 1);
	pthread_mutex_lock(&R.mu);
	for (size_t i = 0; i < R.n_pins; i++)
		if (R.pins[i].a.family == fam && !memcmp(R.pins[i].a.addr, a, 16) && R.pins[i].rule == rule)
			found = true;
	pthread_mutex_unlock(&R.mu);
	return found;
}

/* ---- the rules ------------------------------------------------------------ */

static const struct sbx_dns_rule rules[] = {
	{ "api.test", 443, 443, 6, false, 3 },
	{ "www.test", 1, 65535, 0, false, 4 },
	{ "*.wild.test", 80, 80, 6, false, 5 },
	{ "denied.test", 1, 65535, 0, true, 6 },
	{ "rebind.test", 1, 65535, 0, false, 7 },
	{ "lo.test", 1, 65535, 0, false, 8 },
	{ "big.test", 1, 65535, 0, false, 9 },
	{ "txt.test", 1, 65535, 0, false, 10 },
	{ "tie.wild.test", 1, 65535, 0, false, 11 },
	{ "tie.wild.test", 1, 65535, 0, true, 12 },
	{ "deep.wild.test", 1, 65535, 0, false, 13 },
	{ "fake.test", 1, 65535, 0, false, 14 },
};

/* ---- the engine in a thread ----------------------------------------------------- */

struct engine {
	struct sbx_resolver_cfg cfg;
	pthread_t th;
	int rc;
	uint16_t udp_port, tcp_port;
	bool running;
};

static uint16_t port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	return ntohs(a.sin_port);
}

static struct sockaddr_in loopback(uint16_t port)
{
	return (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port),
				     .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
}

static int bound(int type, uint16_t port)
{
	struct sockaddr_in a = loopback(port);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void engine_init(struct engine *e, uint16_t upstream_port)
{
	struct sockaddr_in up = loopback(upstream_port);

	seen_reset();
	memset(e, 0, sizeof(*e));
	e->cfg.udp_fd[0] = e->cfg.udp_fd[1] = e->cfg.tcp_fd[0] = e->cfg.tcp_fd[1] = -1;
	memcpy(&e->cfg.upstream[0], &up, sizeof(up));
	e->cfg.upstream_len[0] = sizeof(up);
	e->cfg.n_upstream = 1;
	e->cfg.rules = rules;
	e->cfg.n_rules = sizeof(rules) / sizeof(rules[0]);
	e->cfg.allow_mode = true;
	e->cfg.ttl_floor_s = 30;
	e->cfg.grace_s = 5;
	e->cfg.pin = cb_pin;
	e->cfg.range_allowed = cb_range;
	e->cfg.event = cb_event;
}

static void *engine_thread(void *arg)
{
	struct engine *e = arg;

	e->rc = sbx_resolver_run(&e->cfg);
	return NULL;
}

static void engine_start(struct engine *e)
{
	e->cfg.udp_fd[0] = bound(SOCK_DGRAM, 0);
	e->cfg.tcp_fd[0] = bound(SOCK_STREAM, 0);
	e->udp_port = port_of(e->cfg.udp_fd[0]);
	e->tcp_port = port_of(e->cfg.tcp_fd[0]);
	e->cfg.stop_fd = eventfd(0, EFD_CLOEXEC);
	assert_true(e->cfg.stop_fd >= 0);
	assert_int_equal(pthread_create(&e->th, NULL, engine_thread, e), 0);
	e->running = true;
}

/* Returns the engine's own return value. */
static int engine_halt(struct engine *e)
{
	uint64_t one = 1;

	if (!e->running)
		return 0;
	if (write(e->cfg.stop_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		abort();	/* the thread would outlive the case */
	pthread_join(e->th, NULL);
	e->running = false;
	close(e->cfg.stop_fd);
	close(e->cfg.udp_fd[0]);
	close(e->cfg.tcp_fd[0]);
	return e->rc;
}

static void engine_stop(struct engine *e)
{
	assert_int_equal(engine_halt(e), 0);
}

/* The engine of the running case: global, so that a failed case's teardown
 * stops its thread before the next case starts. */
static struct engine E;

static int halt_engine(void **state)
{
	(void)state;
	engine_halt(&E);
	return 0;
}

/* ---- a DNS client ------------------------------------------------------------------ */

static size_t make_query(uint8_t *b, uint16_t id, const char *name, uint16_t qtype)
{
	size_t n = 12;

	memset(b, 0, 12);
	b[0] = (uint8_t)(id >> 8);
	b[1] = (uint8_t)id;
	b[2] = 0x01;	/* RD */
	b[5] = 1;
	while (*name) {
		size_t l = strcspn(name, ".");

		b[n++] = (uint8_t)l;
		memcpy(b + n, name, l);
		n += l;
		name += l + (name[l] == '.');
	}
	b[n++] = 0;
	b[n++] = (uint8_t)(qtype >> 8);
	b[n++] = (uint8_t)qtype;
	b[n++] = 0;
	b[n++] = 1;
	return n;
}

static int udp_client(void)
{
	struct timeval tv = { .tv_sec = 3 };
	int fd = bound(SOCK_DGRAM, 0);

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	return fd;
}

/* Asks over UDP and parses the reply into r (its raw length returned). */
static ssize_t ask_udp(const struct engine *e, const char *name, uint16_t qtype, struct sbx_dns_reply *r)
{
	struct sockaddr_in to = loopback(e->udp_port);
	uint8_t q[512], buf[4096];
	char why[128];
	int fd = udp_client();
	uint16_t id = (uint16_t)(rand() & 0xffff);
	ssize_t n;

	n = (ssize_t)make_query(q, id, name, qtype);
	assert_int_equal(sendto(fd, q, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to)), n);
	n = recv(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n <= 0)
		fail_msg("no reply to %s over UDP", name);
	if (sbx_dns_parse_reply(buf, (size_t)n, r, why, sizeof(why)) < 0)
		fail_msg("reply to %s: %s", name, why);
	assert_int_equal(r->q.id, id);
	assert_string_equal(r->q.name, name);
	return n;
}

/* ask_udp() to the running engine, and the rcode the client must get. */
static void ask_rcode(const char *name, uint16_t qtype, uint8_t rcode, struct sbx_dns_reply *r)
{
	ask_udp(&E, name, qtype, r);
	if (r->rcode != rcode)
		fail_msg("%s %s: rcode %u, want %u", name, sbx_dns_type_name(qtype), r->rcode, rcode);
}

static int tcp_client(const struct engine *e)
{
	struct sockaddr_in to = loopback(e->tcp_port);
	struct timeval tv = { .tv_sec = 3 };
	int fd = -1;

	/* the engine calls listen() in its thread: a connection just after its start may be refused */
	for (int i = 0; i < 100; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(fd >= 0);
		if (connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0)
			break;
		assert_int_equal(errno, ECONNREFUSED);
		close(fd);
		fd = -1;
		usleep(10000);
	}
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	return fd;
}

static void read_full(int fd, uint8_t *b, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = recv(fd, b + got, n - got, 0);

		if (k <= 0)
			fail_msg("TCP reply cut after %zu of %zu bytes", got, n);
		got += (size_t)k;
	}
}

static void tcp_read_reply(int fd, struct sbx_dns_reply *r)
{
	uint8_t len[2], *buf = malloc(65536);
	char why[128];

	assert_non_null(buf);
	read_full(fd, len, 2);
	read_full(fd, buf, (size_t)(len[0] << 8 | len[1]));
	if (sbx_dns_parse_reply(buf, (size_t)(len[0] << 8 | len[1]), r, why, sizeof(why)) < 0)
		fail_msg("TCP reply: %s", why);
	free(buf);
}

static size_t framed(uint8_t *b, uint16_t id, const char *name, uint16_t qtype)
{
	size_t n = make_query(b + 2, id, name, qtype);

	b[0] = (uint8_t)(n >> 8);
	b[1] = (uint8_t)n;
	return n + 2;
}

static void assert_addr(const struct sbx_dns_addr *a, const char *ip)
{
	uint8_t want[16] = { 0 };
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(fam, ip, want), 1);
	assert_int_equal(a->family, fam);
	assert_memory_equal(a->addr, want, fam == AF_INET ? 4 : 16);
}

/* ---- dnsmasq, the real upstream ------------------------------------------------------ */

static struct {
	pid_t pid;
	uint16_t port;
	char dir[64], log[96];
	const char *missing;	/* why the dnsmasq cases skip */
} D;

static uint16_t free_port(void)
{
	int u = bound(SOCK_DGRAM, 0), t;
	uint16_t p = port_of(u);
	struct sockaddr_in a = loopback(p);

	/* the same port must be free for TCP too */
	t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bind(t, (struct sockaddr *)&a, sizeof(a)) < 0)
		p = 0;
	close(t);
	close(u);
	return p;
}

static bool dnsmasq_answers(void)
{
	struct sockaddr_in to = loopback(D.port);
	struct timeval tv = { .tv_usec = 200000 };
	uint8_t q[512], buf[512];
	int fd = bound(SOCK_DGRAM, 0);
	size_t n = make_query(q, 1, "api.test", SBX_DNS_T_A);
	ssize_t k;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	sendto(fd, q, n, 0, (struct sockaddr *)&to, sizeof(to));
	k = recv(fd, buf, sizeof(buf), 0);
	close(fd);
	return k > 12;
}

static int dnsmasq_start(void **state)
{
	char hosts[128], a_port[32], a_hosts[160], a_log[128];
	FILE *f;

	(void)state;
	if (access("/usr/sbin/dnsmasq", X_OK) != 0) {
		D.missing = "dnsmasq is not installed (Debian package dnsmasq-base, make deps)";
		return 0;
	}
	snprintf(D.dir, sizeof(D.dir), "/tmp/sbx-test-resolver.XXXXXX");
	assert_non_null(mkdtemp(D.dir));
	snprintf(hosts, sizeof(hosts), "%s/hosts", D.dir);
	snprintf(D.log, sizeof(D.log), "%s/log", D.dir);
	f = fopen(hosts, "w");
	assert_non_null(f);
	for (int i = 1; i <= 40; i++)
		fprintf(f, "192.0.2.%d big.test\n", 100 + i);
	fclose(f);
	for (int tries = 0; tries < 5 && !D.port; tries++)
		D.port = free_port();
	assert_int_not_equal(D.port, 0);
	snprintf(a_port, sizeof(a_port), "--port=%u", D.port);
	snprintf(a_hosts, sizeof(a_hosts), "--addn-hosts=%s", hosts);
	snprintf(a_log, sizeof(a_log), "--log-facility=%s", D.log);
	D.pid = fork();
	assert_true(D.pid >= 0);
	if (D.pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 1);
		dup2(null, 2);
		execl("/usr/sbin/dnsmasq", "dnsmasq", "--no-daemon", a_port, "--listen-address=127.0.0.1",
		      "--bind-interfaces", "--no-resolv", "--no-hosts", a_hosts, "--local=/test/", "--local-ttl=1",
		      "--host-record=api.test,192.0.2.10,2001:db8::10", "--cname=www.test,api.test",
		      "--address=/wild.test/192.0.2.20", "--host-record=rebind.test,10.0.0.1",
		      "--host-record=lo.test,127.0.0.2", "--host-record=denied.test,192.0.2.66",
		      "--host-record=unlisted.test,192.0.2.77", "--txt-record=txt.test,hello", "--log-queries",
		      a_log, "--user=root", "--pid-file=", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 50; i++) {
		if (dnsmasq_answers())
			return 0;
		if (waitpid(D.pid, NULL, WNOHANG) == D.pid) {
			D.pid = 0;
			break;
		}
		usleep(50000);
	}
	D.missing = "dnsmasq did not start answering on loopback";
	return 0;
}

static int dnsmasq_stop(void **state)
{
	char cmd[128];

	(void)state;
	if (D.pid > 0) {
		kill(D.pid, SIGTERM);
		waitpid(D.pid, NULL, 0);
	}
	if (D.dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", D.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", D.dir);
	}
	return 0;
}

#define NEED_DNSMASQ()						\
	do {							\
		if (D.missing)					\
			SKIP_BECAUSE("%s", D.missing);		\
	} while (0)

/* Whether dnsmasq logged a query for name (waits up to 2 s when want). */
static bool upstream_saw(const char *name, bool want)
{
	char needle[300], *text = NULL;
	size_t len = 0;
	bool found = false;

	snprintf(needle, sizeof(needle), "] %s from", name);
	for (int i = 0; i < (want ? 200 : 1) && !found; i++) {
		FILE *f = fopen(D.log, "r");

		if (f) {
			text = calloc(1, 1 << 20);
			assert_non_null(text);
			len = fread(text, 1, (1 << 20) - 1, f);
			fclose(f);
			found = len && strstr(text, needle);
			free(text);
		}
		if (!found && want)
			usleep(10000);
	}
	return found;
}

/* ---- cases with dnsmasq ----------------------------------------------------------------- */

static void allowed_answer_is_pinned_before_the_reply(void **state)
{
	struct sbx_dns_reply r;
	struct seen_event ev;
	struct timespec now;

	(void)state;
	NEED_DNSMASQ();
	engine_init(&E, D.port);
	engine_start(&E);
	ask_rcode("api.test", SBX_DNS_T_A, SBX_DNS_RC_NOERROR, &r);
	assert_int_equal(r.n_addrs, 1);
	assert_addr(&r.addrs[0], "192.0.2.10");
	/* the client holds the reply: the pin is already there */
	assert_int_equal(pins_now(), 1);
	assert_true(pinned("192.0.2.10", 3));
	/* expiry: boottime now + max(ttl 1, floor 30) + grace 5 */
	clock_gettime(CLOCK_BOOTTIME, &now);
	uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;

	pthread_mutex_lock(&R.mu);
	uint64_t expires = R.pins[0].expires;

	pthread_mutex_unlock(&R.mu);
	assert_true(expires > now_ns + 33000000000ull && expires <= now_ns + 35000000000ull);
	ev = expect_event(0, SBX_DNSV_ALLOW, SBX_DNSR_NONE, 3, SBX_DNS_RC_NOERROR);
	assert_string_equal(ev.name, "api.test");
	assert_int_equal(ev.qtype, SBX_DNS_T_A);
	assert_int_equal(ev.proto, 17);
	assert_int_equal(ev.n_addrs, 1);
	assert_addr(&ev.first, "192.0.2.10");
	assert_true(ev.has_client);

	/* AAAA, a CNAME chain (pinned under the queried name's rule), a wildcard,
	 * the more specific exact rule under a wildcard */
	ask_udp(&E, "api.test", SBX_DNS_T_AAAA, &r);
	assert_int_equal(r.n_addrs, 1);
	assert_true(pinned("2001:db8::10", 3));
	ask_udp(&E, "www.test", SBX_DNS_T_A, &r);
	assert_int_equal(r.n_addrs, 1);
	assert_true(pinned("192.0.2.10", 4));
	ask_udp(&E, "a.b.wild.test", SBX_DNS_T_A, &r);
	assert_true(pinned("192.0.2.20", 5));
	ask_udp(&E, "deep.wild.test", SBX_DNS_T_A, &r);
	assert_true(pinned("192.0.2.20", 13));
	/* other types are forwarded, and pin nothing */
	size_t before = pins_now();

	ask_rcode("txt.test", 16, SBX_DNS_RC_NOERROR, &r);
	assert_int_equal(pins_now(), before);
	ev = expect_event(5, SBX_DNSV_ALLOW, SBX_DNSR_NONE, 10, SBX_DNS_RC_NOERROR);
	assert_int_equal(ev.qtype, 16);
	engine_stop(&E);
}

static void refused_names_never_reach_upstream(void **state)
{
	struct sbx_dns_reply r;
	struct seen_event ev;

	(void)state;
	NEED_DNSMASQ();
	engine_init(&E, D.port);
	engine_start(&E);
	ask_rcode("denied.test", SBX_DNS_T_A, SBX_DNS_RC_REFUSED, &r);
	assert_int_equal(r.n_addrs, 0);
	expect_event(0, SBX_DNSV_DENY, SBX_DNSR_DENY_RULE, 6, SBX_DNS_RC_REFUSED);

	ask_rcode("unlisted.test", 16, SBX_DNS_RC_REFUSED, &r);
	ev = expect_event(1, SBX_DNSV_DENY, SBX_DNSR_NO_ALLOW_RULE, SBX_DNS_NO_RULE, SBX_DNS_RC_REFUSED);
	assert_int_equal(ev.qtype, 16);

	/* on a tie of specificity the deny rule wins */
	ask_rcode("tie.wild.test", SBX_DNS_T_A, SBX_DNS_RC_REFUSED, &r);
	expect_event(2, SBX_DNSV_DENY, SBX_DNSR_DENY_RULE, 12, SBX_DNS_RC_REFUSED);

	/* a wildcard never matches its apex */
	ask_rcode("wild.test", SBX_DNS_T_A, SBX_DNS_RC_REFUSED, &r);

	/* an allowed query after them: once upstream logged it, it would have logged those */
	ask_udp(&E, "api.test", SBX_DNS_T_A, &r);
	assert_true(upstream_saw("api.test", true));
	assert_false(upstream_saw("denied.test", false));
	assert_false(upstream_saw("unlisted.test", false));
	assert_false(upstream_saw("tie.wild.test", false));
	assert_int_equal(pins_now(), 1);
	engine_stop(&E);

	/* the NXDOMAIN option */
	engine_init(&E, D.port);
	E.cfg.nxdomain = true;
	engine_start(&E);
	ask_rcode("denied.test", SBX_DNS_T_A, SBX_DNS_RC_NXDOMAIN, &r);
	expect_event(0, SBX_DNSV_DENY, SBX_DNSR_DENY_RULE, 6, SBX_DNS_RC_NXDOMAIN);
	engine_stop(&E);
}

static void rebinding_answer_is_refused(void **state)
{
	struct sbx_dns_reply r;
	struct seen_event ev;

	(void)state;
	NEED_DNSMASQ();
	engine_init(&E, D.port);
	engine_start(&E);
	ask_rcode("rebind.test", SBX_DNS_T_A, SBX_DNS_RC_REFUSED, &r);
	assert_int_equal(r.n_addrs, 0);
	ev = expect_event(0, SBX_DNSV_DENY, SBX_DNSR_REBINDING, 7, SBX_DNS_RC_REFUSED);
	assert_int_equal(ev.n_addrs, 1);
	assert_addr(&ev.first, "10.0.0.1");
	ask_rcode("lo.test", SBX_DNS_T_A, SBX_DNS_RC_REFUSED, &r);
	ev = expect_event(1, SBX_DNSV_DENY, SBX_DNSR_REBINDING, 8, SBX_DNS_RC_REFUSED);
	assert_addr(&ev.first, "127.0.0.2");
	assert_int_equal(pins_now(), 0);

	/* a rule that allows 10.0.0.0/8 lets it through, pinned */
	pthread_mutex_lock(&R.mu);
	R.allow_ten = true;
	pthread_mutex_unlock(&R.mu);
	ask_rcode("rebind.test", SBX_DNS_T_A, SBX_DNS_RC_NOERROR, &r);
	assert_int_equal(r.n_addrs, 1);
	assert_true(pinned("10.0.0.1", 7));
	ask_rcode("lo.test", SBX_DNS_T_A, SBX_DNS_RC_REFUSED, &r);
	engine_stop(&E);
}

static void truncated_reply_passes_and_tcp_pins(void **state)
{
	struct sbx_dns_reply r;
	struct seen_event ev;
	uint8_t q[600];
	size_t n;
	int fd;

	(void)state;
	NEED_DNSMASQ();
	engine_init(&E, D.port);
	engine_start(&E);
	/* 40 A records do not fit 512 bytes: TC, with what fitted */
	ask_udp(&E, "big.test", SBX_DNS_T_A, &r);
	assert_true(r.tc);
	assert_true(r.n_addrs < 40);
	assert_int_equal(pins_now(), r.n_addrs);
	ev = expect_event(0, SBX_DNSV_ALLOW, SBX_DNSR_NONE, 9, SBX_DNS_RC_NOERROR);
	assert_int_equal(ev.n_addrs, r.n_addrs);

	/* the TCP retry: all 40 come back, SBX_DNS_MAX_ADDRS of them are pinned */
	seen_reset();
	fd = tcp_client(&E);
	n = framed(q, 0x7777, "big.test", SBX_DNS_T_A);
	assert_int_equal(send(fd, q, n, 0), (ssize_t)n);
	tcp_read_reply(fd, &r);
	assert_int_equal(r.q.id, 0x7777);
	assert_false(r.tc);
	assert_int_equal(r.n_addrs, SBX_DNS_MAX_ADDRS);
	assert_true(r.addrs_truncated);
	assert_int_equal(pins_now(), SBX_DNS_MAX_ADDRS);
	ev = expect_event(0, SBX_DNSV_ALLOW, SBX_DNSR_NONE, 9, SBX_DNS_RC_NOERROR);
	assert_int_equal(ev.proto, 6);
	assert_int_equal(ev.n_addrs, SBX_DNS_MAX_ADDRS);
	close(fd);
	engine_stop(&E);
}

static void tcp_pipelined_queries(void **state)
{
	struct sbx_dns_reply r;
	uint8_t q[1500];
	size_t n = 0;
	bool got[3] = { false };
	int fd;

	(void)state;
	NEED_DNSMASQ();
	engine_init(&E, D.port);
	engine_start(&E);
	fd = tcp_client(&E);
	n += framed(q + n, 101, "api.test", SBX_DNS_T_A);
	n += framed(q + n, 102, "denied.test", SBX_DNS_T_A);
	n += framed(q + n, 103, "www.test", SBX_DNS_T_AAAA);
	/* in two writes that split the second message's length */
	assert_int_equal(send(fd, q, 29, 0), 29);
	usleep(50000);
	assert_int_equal(send(fd, q + 29, n - 29, 0), (ssize_t)(n - 29));
	for (int i = 0; i < 3; i++) {
		tcp_read_reply(fd, &r);
		assert_true(r.q.id >= 101 && r.q.id <= 103);
		assert_false(got[r.q.id - 101]);
		got[r.q.id - 101] = true;
		if (r.q.id == 101) {
			assert_int_equal(r.rcode, 0);
			assert_addr(&r.addrs[0], "192.0.2.10");
			assert_true(pinned("192.0.2.10", 3));
		} else if (r.q.id == 102) {
			assert_int_equal(r.rcode, SBX_DNS_RC_REFUSED);
		} else {
			assert_int_equal(r.rcode, 0);
			assert_addr(&r.addrs[0], "2001:db8::10");
			assert_true(pinned("2001:db8::10", 4));
		}
	}
	/* the connection stays usable */
	n = framed(q, 104, "api.test", SBX_DNS_T_A);
	assert_int_equal(send(fd, q, n, 0), (ssize_t)n);
	tcp_read_reply(fd, &r);
	assert_int_equal(r.q.id, 104);
	/* a half-close still gets the answer to what was sent */
	n = framed(q, 105, "api.test", SBX_DNS_T_A);
	assert_int_equal(send(fd, q, n, 0), (ssize_t)n);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	tcp_read_reply(fd, &r);
	assert_int_equal(r.q.id, 105);
	assert_int_equal(recv(fd, q, 1, 0), 0);
	close(fd);
	engine_stop(&E);
}

static void observe_mode_forwards_and_reports(void **state)
{
	struct sbx_dns_reply r;
	struct seen_event ev;

	(void)state;
	NEED_DNSMASQ();
	engine_init(&E, D.port);
	E.cfg.observe = true;
	engine_start(&E);
	ask_rcode("denied.test", SBX_DNS_T_A, 0, &r);
	assert_addr(&r.addrs[0], "192.0.2.66");
	expect_event(0, SBX_DNSV_WOULD_DENY, SBX_DNSR_DENY_RULE, 6, SBX_DNS_RC_NOERROR);
	assert_int_equal(pins_now(), 0);	/* a deny rule pins nothing */
	ask_rcode("unlisted.test", SBX_DNS_T_A, 0, &r);
	expect_event(1, SBX_DNSV_WOULD_DENY, SBX_DNSR_NO_ALLOW_RULE, SBX_DNS_NO_RULE, SBX_DNS_RC_NOERROR);
	ask_rcode("rebind.test", SBX_DNS_T_A, 0, &r);
	ev = expect_event(2, SBX_DNSV_WOULD_DENY, SBX_DNSR_REBINDING, 7, SBX_DNS_RC_NOERROR);
	assert_addr(&ev.first, "10.0.0.1");
	assert_true(pinned("10.0.0.1", 7));
	ask_udp(&E, "api.test", SBX_DNS_T_A, &r);
	expect_event(3, SBX_DNSV_ALLOW, SBX_DNSR_NONE, 3, SBX_DNS_RC_NOERROR);
	assert_true(pinned("192.0.2.10", 3));
	engine_stop(&E);
}

static void deny_mode_forwards_unmatched_names(void **state)
{
	struct sbx_dns_reply r;

	(void)state;
	NEED_DNSMASQ();
	engine_init(&E, D.port);
	E.cfg.allow_mode = false;
	engine_start(&E);
	ask_rcode("unlisted.test", SBX_DNS_T_A, 0, &r);
	assert_addr(&r.addrs[0], "192.0.2.77");
	assert_int_equal(pins_now(), 0);
	expect_event(0, SBX_DNSV_ALLOW, SBX_DNSR_NONE, SBX_DNS_NO_RULE, SBX_DNS_RC_NOERROR);
	ask_udp(&E, "nothere.test", SBX_DNS_T_A, &r);
	assert_int_equal(r.rcode, SBX_DNS_RC_NXDOMAIN);	/* upstream's own rcode, passed on */
	ask_rcode("denied.test", SBX_DNS_T_A, SBX_DNS_RC_REFUSED, &r);
	engine_stop(&E);
}

static void failed_pin_gives_servfail(void **state)
{
	struct sbx_dns_reply r;
	struct seen_event ev;

	(void)state;
	NEED_DNSMASQ();
	engine_init(&E, D.port);
	engine_start(&E);
	pthread_mutex_lock(&R.mu);
	R.pin_error = -ENOSPC;
	pthread_mutex_unlock(&R.mu);
	ask_rcode("api.test", SBX_DNS_T_A, SBX_DNS_RC_SERVFAIL, &r);
	assert_int_equal(r.n_addrs, 0);
	ev = expect_event(0, SBX_DNSV_DENY, SBX_DNSR_PIN_FAILED, 3, SBX_DNS_RC_SERVFAIL);
	assert_int_equal(ev.n_addrs, 1);
	engine_stop(&E);
}

/* ---- cases with a fake upstream ------------------------------------------------------------ */

/* Waits for one query on the fake upstream socket; returns its length. */
static ssize_t fake_recv(int fd, uint8_t *b, size_t cap, struct sockaddr_in *from, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	socklen_t fl = sizeof(*from);

	if (poll(&p, 1, ms) != 1)
		return -1;
	return recvfrom(fd, b, cap, 0, (struct sockaddr *)from, &fl);
}

/* q turned into a reply with one A record of ip. */
static size_t fake_reply(uint8_t *b, size_t n, const char *ip)
{
	static const uint8_t rr[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4 };

	b[2] |= 0x80;
	b[3] = 0x80;
	b[7] = 1;
	memcpy(b + n, rr, sizeof(rr));
	assert_int_equal(inet_pton(AF_INET, ip, b + n + sizeof(rr)), 1);
	return n + sizeof(rr) + 4;
}

static void spoofed_answers_are_ignored(void **state)
{
	struct sbx_dns_reply r;
	struct sockaddr_in to, from;
	uint8_t q[512], up[512], bad[512];
	char why[128];
	int up_fd = bound(SOCK_DGRAM, 0), other = bound(SOCK_DGRAM, 0), cl = udp_client();
	ssize_t n;
	size_t k;

	(void)state;
	engine_init(&E, port_of(up_fd));
	engine_start(&E);
	to = loopback(E.udp_port);
	k = make_query(q, 0x5151, "fake.test", SBX_DNS_T_A);
	assert_int_equal(sendto(cl, q, k, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)k);
	n = fake_recv(up_fd, up, sizeof(up), &from, 3000);
	assert_int_equal(n, (ssize_t)k);
	assert_memory_equal(up + 2, q + 2, k - 2);	/* the same query, its own id */

	/* from another port, right id and question */
	memcpy(bad, up, (size_t)n);
	k = fake_reply(bad, (size_t)n, "192.0.2.1");
	assert_int_equal(sendto(other, bad, k, 0, (struct sockaddr *)&from, sizeof(from)), (ssize_t)k);
	/* another id */
	memcpy(bad, up, (size_t)n);
	bad[0] ^= 0x5a;
	k = fake_reply(bad, (size_t)n, "192.0.2.2");
	assert_int_equal(sendto(up_fd, bad, k, 0, (struct sockaddr *)&from, sizeof(from)), (ssize_t)k);
	/* another question: fake.test -> fakf.test, and another type */
	memcpy(bad, up, (size_t)n);
	bad[16] = 'f';
	k = fake_reply(bad, (size_t)n, "192.0.2.3");
	assert_int_equal(sendto(up_fd, bad, k, 0, (struct sockaddr *)&from, sizeof(from)), (ssize_t)k);
	memcpy(bad, up, (size_t)n);
	bad[n - 3] = 28;
	k = fake_reply(bad, (size_t)n, "192.0.2.4");
	assert_int_equal(sendto(up_fd, bad, k, 0, (struct sockaddr *)&from, sizeof(from)), (ssize_t)k);
	/* garbage */
	assert_int_equal(sendto(up_fd, "\1\2\3", 3, 0, (struct sockaddr *)&from, sizeof(from)), 3);
	usleep(100000);
	assert_int_equal(pins_now(), 0);
	/* the real one */
	memcpy(bad, up, (size_t)n);
	k = fake_reply(bad, (size_t)n, "192.0.2.99");
	assert_int_equal(sendto(up_fd, bad, k, 0, (struct sockaddr *)&from, sizeof(from)), (ssize_t)k);

	n = recv(cl, q, sizeof(q), 0);
	assert_true(n > 0);
	assert_int_equal(sbx_dns_parse_reply(q, (size_t)n, &r, why, sizeof(why)), 0);
	assert_int_equal(r.q.id, 0x5151);
	assert_int_equal(r.n_addrs, 1);
	assert_addr(&r.addrs[0], "192.0.2.99");
	assert_int_equal(pins_now(), 1);
	assert_true(pinned("192.0.2.99", 14));
	/* and only one reply */
	assert_int_equal(recv(cl, q, sizeof(q), MSG_DONTWAIT), -1);
	engine_stop(&E);
	close(up_fd);
	close(other);
	close(cl);
}

static void silent_upstream_fails_over_then_servfail(void **state)
{
	struct sbx_dns_reply r;
	struct sockaddr_in to, from, b_addr;
	uint8_t q[512], up[512];
	char why[128];
	int a = bound(SOCK_DGRAM, 0), b = bound(SOCK_DGRAM, 0), cl = udp_client();
	uint16_t first_id;
	ssize_t n;
	size_t k;

	(void)state;
	engine_init(&E, port_of(a));
	b_addr = loopback(port_of(b));
	memcpy(&E.cfg.upstream[1], &b_addr, sizeof(b_addr));
	E.cfg.upstream_len[1] = sizeof(b_addr);
	E.cfg.n_upstream = 2;
	E.cfg.timeout_ms = 300;
	engine_start(&E);
	to = loopback(E.udp_port);

	/* a stays silent: after 300 ms b is asked, with a fresh id, and answers */
	k = make_query(q, 0x6161, "fake.test", SBX_DNS_T_A);
	assert_int_equal(sendto(cl, q, k, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)k);
	n = fake_recv(a, up, sizeof(up), &from, 3000);
	assert_int_equal(n, (ssize_t)k);
	first_id = (uint16_t)(up[0] << 8 | up[1]);
	assert_int_equal(fake_recv(b, up, sizeof(up), &from, 150), -1);
	n = fake_recv(b, up, sizeof(up), &from, 3000);
	assert_int_equal(n, (ssize_t)k);
	assert_int_not_equal((uint16_t)(up[0] << 8 | up[1]), first_id);	/* 1 in 65536 to fail */
	k = fake_reply(up, (size_t)n, "192.0.2.98");
	assert_int_equal(sendto(b, up, k, 0, (struct sockaddr *)&from, sizeof(from)), (ssize_t)k);
	n = recv(cl, q, sizeof(q), 0);
	assert_true(n > 0);
	assert_int_equal(sbx_dns_parse_reply(q, (size_t)n, &r, why, sizeof(why)), 0);
	assert_addr(&r.addrs[0], "192.0.2.98");

	/* both silent: SERVFAIL after the whole query's 5 s */
	k = make_query(q, 0x6262, "fake.test", SBX_DNS_T_A);
	assert_int_equal(sendto(cl, q, k, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)k);
	struct timeval tv = { .tv_sec = 7 };

	assert_int_equal(setsockopt(cl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	n = recv(cl, q, sizeof(q), 0);
	assert_true(n > 0);
	assert_int_equal(sbx_dns_parse_reply(q, (size_t)n, &r, why, sizeof(why)), 0);
	assert_int_equal(r.q.id, 0x6262);
	assert_int_equal(r.rcode, SBX_DNS_RC_SERVFAIL);
	expect_event(1, SBX_DNSV_ALLOW, SBX_DNSR_UPSTREAM, 14, SBX_DNS_RC_SERVFAIL);
	engine_stop(&E);
	close(a);
	close(b);
	close(cl);
}

static void bad_queries_are_refused(void **state)
{
	struct sockaddr_in to;
	struct seen_event ev;
	uint8_t q[512], buf[512];
	int up = bound(SOCK_DGRAM, 0), cl = udp_client(), fd;
	size_t k;
	ssize_t n;

	(void)state;
	engine_init(&E, port_of(up));
	engine_start(&E);
	to = loopback(E.udp_port);
	/* a name with a space: REFUSED with the header alone */
	k = make_query(q, 0x0a0b, "a b.test", SBX_DNS_T_A);
	assert_int_equal(sendto(cl, q, k, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)k);
	n = recv(cl, buf, sizeof(buf), 0);
	assert_int_equal(n, 12);
	assert_int_equal(buf[0], 0x0a);
	assert_int_equal(buf[1], 0x0b);
	assert_int_equal(buf[2] & 0x80, 0x80);
	assert_int_equal(buf[3] & 0xf, SBX_DNS_RC_REFUSED);
	ev = expect_event(0, SBX_DNSV_DENY, SBX_DNSR_BAD_QUERY, SBX_DNS_NO_RULE, SBX_DNS_RC_REFUSED);
	assert_string_equal(ev.name, "");
	/* a response sent to it gets nothing back (no reflection), and no crash */
	q[2] |= 0x80;
	assert_int_equal(sendto(cl, q, k, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)k);
	assert_int_equal(sendto(cl, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	event_at(2);
	assert_int_equal(recv(cl, buf, sizeof(buf), MSG_DONTWAIT), -1);

	/* TCP: a zero-length message, a length that never comes, then the loop still serves */
	fd = tcp_client(&E);
	assert_int_equal(send(fd, "\0\0\0\50", 4, 0), 4);
	int fd2 = tcp_client(&E);
	uint8_t fr[600];
	struct sbx_dns_reply r;

	k = framed(fr, 0x0c0d, "denied.test", SBX_DNS_T_A);
	assert_int_equal(send(fd2, fr, k, 0), (ssize_t)k);
	tcp_read_reply(fd2, &r);
	assert_int_equal(r.q.id, 0x0c0d);
	assert_int_equal(r.rcode, SBX_DNS_RC_REFUSED);
	close(fd);
	close(fd2);
	engine_stop(&E);
	close(up);
	close(cl);
}

static void limits_of_clients_and_pending_queries(void **state)
{
	struct sockaddr_in to;
	struct sbx_dns_reply r;
	uint8_t q[600], buf[512];
	char why[128];
	int up = bound(SOCK_DGRAM, 0), cl = udp_client(), fds[SBX_DNS_MAX_TCP_CLIENTS + 1];
	size_t k;
	ssize_t n;

	(void)state;
	engine_init(&E, port_of(up));
	engine_start(&E);
	/* TCP: the 65th client is closed at once, the 64 before it are served */
	for (int i = 0; i <= SBX_DNS_MAX_TCP_CLIENTS; i++) {
		fds[i] = tcp_client(&E);
		usleep(2000);	/* accepted in this order */
	}
	assert_int_equal(recv(fds[SBX_DNS_MAX_TCP_CLIENTS], buf, 1, 0), 0);
	k = framed(q, 0x4040, "denied.test", SBX_DNS_T_A);
	assert_int_equal(send(fds[SBX_DNS_MAX_TCP_CLIENTS - 1], q, k, 0), (ssize_t)k);
	tcp_read_reply(fds[SBX_DNS_MAX_TCP_CLIENTS - 1], &r);
	assert_int_equal(r.q.id, 0x4040);
	for (int i = 0; i <= SBX_DNS_MAX_TCP_CLIENTS; i++)
		close(fds[i]);

	/* UDP: with 256 queries waiting on a silent upstream, one more makes the oldest fail */
	to = loopback(E.udp_port);
	for (int i = 0; i <= SBX_DNS_MAX_PENDING_UDP; i++) {
		k = make_query(q, (uint16_t)(1000 + i), "fake.test", SBX_DNS_T_A);
		assert_int_equal(sendto(cl, q, k, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)k);
		if (i % 16 == 15)
			usleep(5000);	/* never more than the listener's buffer holds */
	}
	n = recv(cl, buf, sizeof(buf), 0);
	assert_true(n > 0);
	assert_int_equal(sbx_dns_parse_reply(buf, (size_t)n, &r, why, sizeof(why)), 0);
	assert_int_equal(r.q.id, 1000);
	assert_int_equal(r.rcode, SBX_DNS_RC_SERVFAIL);
	engine_stop(&E);
	close(up);
	close(cl);
}

/* Bytes no client should send: mutated queries over UDP, random streams over
 * TCP. The engine must keep answering (and ASan must stay quiet). */
static void hostile_input_never_stops_the_loop(void **state)
{
	struct sockaddr_in to;
	struct sbx_dns_reply r;
	uint8_t q[600], good[600];
	int up = bound(SOCK_DGRAM, 0), cl = udp_client(), fd;
	size_t k, gk;

	(void)state;
	srand(14);
	engine_init(&E, port_of(up));
	engine_start(&E);
	to = loopback(E.udp_port);
	gk = make_query(good, 1, "x.deep.wild.test", SBX_DNS_T_A);
	for (int i = 0; i < 3000; i++) {
		memcpy(q, good, gk);
		k = (size_t)(rand() % 3) == 0 ? (size_t)rand() % gk : gk;
		for (int j = rand() % 4; j >= 0; j--)
			q[(size_t)rand() % gk] = (uint8_t)rand();
		(void)sendto(cl, q, k, 0, (struct sockaddr *)&to, sizeof(to));
		if (i % 32 == 31)
			usleep(2000);
	}
	for (int c = 0; c < 20; c++) {
		fd = tcp_client(&E);
		for (size_t i = 0; i < sizeof(q); i++)
			q[i] = (uint8_t)rand();
		(void)send(fd, q, (size_t)rand() % sizeof(q), MSG_NOSIGNAL);
		close(fd);
	}
	/* still serving: a refusal needs no upstream */
	ask_rcode("denied.test", SBX_DNS_T_A, SBX_DNS_RC_REFUSED, &r);
	engine_stop(&E);
	close(up);
	close(cl);
}

static void ipv6_listeners_and_idle_tcp_clients(void **state)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in6 to;
	struct sbx_dns_reply r;
	socklen_t al = sizeof(a);
	uint8_t q[512], buf[512];
	char why[128];
	int up = bound(SOCK_DGRAM, 0), u6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0),
	    t6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), cl, fd;
	struct timeval tv = { .tv_sec = 12 };
	size_t k;
	ssize_t n;

	(void)state;
	assert_true(u6 >= 0 && t6 >= 0);
	if (bind(u6, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(u6);
		close(t6);
		close(up);
		SKIP_BECAUSE("no IPv6 loopback (bind ::1: %s)", strerror(errno));
	}
	assert_int_equal(bind(t6, (struct sockaddr *)&a, sizeof(a)), 0);
	engine_init(&E, port_of(up));
	E.cfg.udp_fd[1] = u6;
	E.cfg.tcp_fd[1] = t6;
	engine_start(&E);

	assert_int_equal(getsockname(u6, (struct sockaddr *)&to, &al), 0);
	cl = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(setsockopt(cl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	k = make_query(q, 0x6666, "denied.test", SBX_DNS_T_AAAA);
	assert_int_equal(sendto(cl, q, k, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)k);
	n = recv(cl, buf, sizeof(buf), 0);
	assert_true(n > 0);
	assert_int_equal(sbx_dns_parse_reply(buf, (size_t)n, &r, why, sizeof(why)), 0);
	assert_int_equal(r.q.id, 0x6666);
	assert_int_equal(r.rcode, SBX_DNS_RC_REFUSED);
	close(cl);

	/* a TCP client that sends one byte and then nothing is closed after 10 s */
	al = sizeof(to);
	assert_int_equal(getsockname(t6, (struct sockaddr *)&to, &al), 0);
	fd = -1;
	for (int i = 0; i < 100 && fd < 0; i++) {
		fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
			close(fd);
			fd = -1;
			usleep(10000);
		}
	}
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(send(fd, "\0", 1, 0), 1);
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(recv(fd, buf, 1, 0), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec >= 9 && t1.tv_sec - t0.tv_sec <= 11);
	close(fd);
	engine_stop(&E);
	close(u6);
	close(t6);
	close(up);
}

static void upstreams_from_resolv_conf(void **state)
{
	char path[] = "/tmp/sbx-test-resolv.XXXXXX";
	struct sockaddr_storage ss[4];
	socklen_t sl[4];
	int fd = mkstemp(path);
	const char text[] = "# comment\nsearch example.com\nnameserver 192.0.2.53\n; other\n"
			    "nameserver   2001:db8::53\nnameserver bogus\noptions ndots:2\nnameserver 198.51.100.1\n"
			    "nameserver 203.0.113.1\n";
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss[0];
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss[1];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	assert_int_equal(sbx_resolver_upstreams_from(path, ss, sl, 3), 3);
	assert_int_equal(v4->sin_family, AF_INET);
	assert_int_equal(ntohs(v4->sin_port), 53);
	assert_int_equal(ntohl(v4->sin_addr.s_addr), 0xc0000235);
	assert_int_equal(sl[0], sizeof(struct sockaddr_in));
	assert_int_equal(v6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(v6->sin6_port), 53);
	assert_int_equal(v6->sin6_addr.s6_addr[15], 0x53);
	assert_int_equal(sl[1], sizeof(struct sockaddr_in6));
	assert_int_equal(((struct sockaddr_in *)&ss[2])->sin_addr.s_addr, htonl(0xc6336401));
	unlink(path);
	assert_int_equal(sbx_resolver_upstreams_from(path, ss, sl, 3), -ENOENT);
}

static void engine_refuses_a_bad_config(void **state)
{
	(void)state;
	engine_init(&E, 53);
	E.cfg.stop_fd = -1;
	assert_int_equal(sbx_resolver_run(&E.cfg), -EINVAL);	/* no listening socket */
	E.cfg.udp_fd[0] = bound(SOCK_DGRAM, 0);
	E.cfg.n_upstream = 0;
	assert_int_equal(sbx_resolver_run(&E.cfg), -EINVAL);
	E.cfg.n_upstream = 5;
	assert_int_equal(sbx_resolver_run(&E.cfg), -EINVAL);
	close(E.cfg.udp_fd[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(allowed_answer_is_pinned_before_the_reply, halt_engine),
		cmocka_unit_test_teardown(refused_names_never_reach_upstream, halt_engine),
		cmocka_unit_test_teardown(rebinding_answer_is_refused, halt_engine),
		cmocka_unit_test_teardown(truncated_reply_passes_and_tcp_pins, halt_engine),
		cmocka_unit_test_teardown(tcp_pipelined_queries, halt_engine),
		cmocka_unit_test_teardown(observe_mode_forwards_and_reports, halt_engine),
		cmocka_unit_test_teardown(deny_mode_forwards_unmatched_names, halt_engine),
		cmocka_unit_test_teardown(failed_pin_gives_servfail, halt_engine),
		cmocka_unit_test_teardown(spoofed_answers_are_ignored, halt_engine),
		cmocka_unit_test_teardown(silent_upstream_fails_over_then_servfail, halt_engine),
		cmocka_unit_test_teardown(bad_queries_are_refused, halt_engine),
		cmocka_unit_test_teardown(limits_of_clients_and_pending_queries, halt_engine),
		cmocka_unit_test_teardown(hostile_input_never_stops_the_loop, halt_engine),
		cmocka_unit_test_teardown(ipv6_listeners_and_idle_tcp_clients, halt_engine),
		cmocka_unit_test_teardown(upstreams_from_resolv_conf, halt_engine),
		cmocka_unit_test_teardown(engine_refuses_a_bad_config, halt_engine),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, dnsmasq_start, dnsmasq_stop);
}
