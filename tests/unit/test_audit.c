/* SPDX-License-Identifier: MIT */
/* Audit events -> JSON lines (docs/audit.md), and the ABI layout pinned by
 * _Static_assert so that a change to sbx_abi.h that breaks consumers fails
 * the build. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

#include "testutil.h"
#include "core/audit.h"
#include "sbx_abi.h"

_Static_assert(sizeof(struct sbx_event_hdr) == 56, "event header is ABI");
_Static_assert(offsetof(struct sbx_event_hdr, seq) == 8, "seq offset is ABI");
_Static_assert(offsetof(struct sbx_event_hdr, cgroup_id) == 32, "cgroup_id offset is ABI");
_Static_assert(offsetof(struct sbx_event_hdr, comm) == 40, "comm offset is ABI");
_Static_assert(sizeof(struct sbx_ev_net) == 88, "net event is ABI");
_Static_assert(offsetof(struct sbx_ev_net, rule) == 64, "net rule offset is ABI");
_Static_assert(offsetof(struct sbx_ev_net, addr) == 72, "net addr offset is ABI");
_Static_assert(offsetof(struct sbx_ev_net, form) == 62, "net form offset is ABI");
_Static_assert(sizeof(struct sbx_ev_sock) == 72, "socket event is ABI");
_Static_assert(sizeof(struct sbx_ev_sockopt) == 72, "socket option event is ABI");
_Static_assert(sizeof(struct sbx_ev_quota) == 72, "quota event is ABI");
_Static_assert(sizeof(struct sbx_ev_life) == 88, "life event is ABI");
_Static_assert(offsetof(struct sbx_ev_life, suppressed_allow) == 72, "life event grew at its end");
_Static_assert(sizeof(struct sbx_ev_suppressed) == 88, "suppression summary is ABI");
_Static_assert(offsetof(struct sbx_ev_suppressed, allow) == 56 &&
	       offsetof(struct sbx_ev_suppressed, deny_total) == 80, "suppression summary fields are ABI");
_Static_assert(SBX_EV_AUDIT_SUPPRESSED == 13, "event numbers never change");
_Static_assert(SBX_EV_LIMIT_DISK == 14, "event numbers never change");
_Static_assert(sizeof(struct sbx_ev_syscall) == 96, "syscall event is ABI");
_Static_assert(offsetof(struct sbx_ev_syscall, verdict) == 88, "syscall event grew at its end");
_Static_assert(SBX_VERDICT_WOULD_DENY == 3, "verdict numbers never change");
_Static_assert(SBX_EV_NET_CONNECT == 3 && SBX_EV_NET_PACKET == 8 && SBX_EV_SYSCALL_DENIED == 9,
	       "event numbers never change");

static char *render(const struct sbx_audit_ctx *c, const void *ev, size_t size, int *ret)
{
	struct json_writer w;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	json_init(&w, f, false);
	*ret = sbx_audit_event_json(&w, c, ev, size);
	json_finish(&w);
	fclose(f);
	return buf;
}

static void fill_hdr(struct sbx_event_hdr *h, uint16_t type, uint16_t size)
{
	h->type = type;
	h->size = size;
	h->slot = 2;
	h->seq = 7;
	h->ts_ns = 1500000000ull;	/* 1.5 s after the monotonic epoch */
	h->pid = 101;
	h->tgid = 100;
	h->cgroup_id = 4242;
	memcpy(h->comm, "curl", 5);
}

static void test_audit_denied_connect_by_default_rule(void **state)
{
	struct sbx_profile p = { .name = (char *)"web" };
	struct sbx_audit_ctx c = { .sandbox_id = "sbx-00000001", .profile = &p,
				   .mono_to_real_ns = 1700000000ll * 1000000000ll };
	struct sbx_ev_net ev = { 0 };
	char *s;
	int r;

	p.net.mode = SBX_NET_ALLOW;
	fill_hdr(&ev.hdr, SBX_EV_NET_CONNECT, sizeof(ev));
	ev.verdict = SBX_VERDICT_DENY;
	ev.family = 4;
	ev.proto = 6;
	ev.port = 8081;
	ev.rule = SBX_RULE_DEFAULT;
	inet_pton(AF_INET, "127.0.0.1", ev.addr);
	s = render(&c, &ev, sizeof(ev), &r);
	assert_int_equal(r, 0);
	assert_string_equal(s,
		"{\"time\":\"2023-11-14T22:13:21.500000000Z\",\"seq\":7,\"sandbox\":\"sbx-00000001\","
		"\"profile\":\"web\",\"event\":\"net.connect\",\"verdict\":\"deny\",\"pid\":100,"
		"\"tid\":101,\"comm\":\"curl\",\"cgroup_id\":4242,\"family\":\"ipv4\",\"addr\":\"127.0.0.1\","
		"\"port\":8081,\"proto\":\"tcp\",\"rule\":\"default\",\"mode\":\"allow\"}\n");
	free(s);
}

/* Observe mode: the verdict says would_deny, for a net event and for a
 * syscall event (its verdict byte at the end), and the start event says so. */
static void test_audit_would_deny_and_observe_start(void **state)
{
	struct sbx_profile p = { .name = (char *)"t", .observe = true };
	struct sbx_audit_ctx c = { .sandbox_id = "sbx-00000001", .profile = &p };
	struct sbx_ev_syscall sc = { 0 };
	struct sbx_ev_life life = { 0 };
	struct sbx_ev_net ev = { 0 };
	char *s;
	int r;

	fill_hdr(&ev.hdr, SBX_EV_NET_CONNECT, sizeof(ev));
	ev.verdict = SBX_VERDICT_WOULD_DENY;
	ev.family = 4;
	ev.proto = 6;
	ev.rule = SBX_RULE_DEFAULT;
	s = render(&c, &ev, sizeof(ev), &r);
	assert_int_equal(r, 0);
	assert_non_null(strstr(s, "\"verdict\":\"would_deny\""));
	free(s);
	fill_hdr(&sc.hdr, SBX_EV_SYSCALL_DENIED, sizeof(sc));
	sc.nr = 0;
	sc.verdict = SBX_VERDICT_WOULD_DENY;
	s = render(&c, &sc, sizeof(sc), &r);
	assert_int_equal(r, 0);
	assert_non_null(strstr(s, "\"verdict\":\"would_deny\""));
	assert_non_null(strstr(s, "\"errno\":0"));
	free(s);
	sc.verdict = SBX_VERDICT_DENY;
	sc.ret = -1;
	s = render(&c, &sc, sizeof(sc), &r);
	assert_non_null(strstr(s, "\"verdict\":\"deny\""));
	free(s);
	fill_hdr(&life.hdr, SBX_EV_SANDBOX_START, sizeof(life));
	s = render(&c, &life, sizeof(life), &r);
	assert_int_equal(r, 0);
	assert_non_null(strstr(s, "\"observe\":true"));
	free(s);
	p.observe = false;
	s = render(&c, &life, sizeof(life), &r);
	assert_null(strstr(s, "observe"));
	free(s);
}

static void test_audit_rule_attribution_names_entry_host_and_source(void **state)
{
	struct sbx_net_entry ents[4] = { [3] = { .kind = SBX_NET_ENTRY_HOST, .host = (char *)"localhost",
						 .text = (char *)"localhost:9000",
						 .pos = { "p.toml", 9, 12 } } };
	struct sbx_profile p = { .name = (char *)"x" };
	struct sbx_audit_ctx c = { .sandbox_id = "sbx-1", .profile = &p };
	struct sbx_ev_net ev = { 0 };
	char *s;
	int r;

	fill_hdr(&ev.hdr, SBX_EV_NET_SEND, sizeof(ev));
	ev.verdict = SBX_VERDICT_ALLOW;
	ev.family = 6;
	ev.proto = 17;
	ev.port = 9000;
	p.net.entries = ents;
	p.net.n_entries = 4;
	ev.rule = 3;
	inet_pton(AF_INET6, "::1", ev.addr);
	s = render(&c, &ev, sizeof(ev), &r);
	assert_int_equal(r, 0);
	assert_non_null(strstr(s, "\"event\":\"net.send\",\"verdict\":\"allow\""));
	assert_non_null(strstr(s, "\"addr\":\"::1\",\"port\":9000,\"proto\":\"udp\""));
	assert_non_null(strstr(s, "\"rule\":\"localhost:9000\",\"rule_index\":3,"
			       "\"rule_host\":\"localhost\",\"rule_source\":\"p.toml:9:12\""));
	free(s);
}

static void test_audit_net_addr_form_and_unjudged_rule(void **state)
{
	struct sbx_profile p = { .name = (char *)"x" };
	struct sbx_audit_ctx c = { .sandbox_id = "sbx-1", .profile = &p };
	struct sbx_ev_net ev = { 0 };
	char *s;
	int r;

	(void)state;
	fill_hdr(&ev.hdr, SBX_EV_NET_CONNECT, sizeof(ev));
	ev.verdict = SBX_VERDICT_DENY;
	ev.family = 4;
	ev.proto = 6;
	ev.mapped = 1;
	ev.form = SBX_ADDR_UNSPECIFIED;
	ev.port = 80;
	ev.rule = SBX_RULE_DEFAULT;
	inet_pton(AF_INET, "127.0.0.1", ev.addr);
	s = render(&c, &ev, sizeof(ev), &r);
	assert_int_equal(r, 0);
	assert_non_null(strstr(s, "\"addr\":\"127.0.0.1\",\"ipv4_mapped\":true,"
			       "\"addr_form\":\"unspecified\",\"port\":80"));
	free(s);
	ev.form = SBX_ADDR_LITERAL;
	s = render(&c, &ev, sizeof(ev), &r);
	assert_null(strstr(s, "addr_form"));
	free(s);
	fill_hdr(&ev.hdr, SBX_EV_NET_PACKET, sizeof(ev));
	ev.mapped = 0;
	ev.form = SBX_ADDR_LITERAL;
	ev.proto = 132;
	ev.port = 0;
	ev.rule = SBX_RULE_UNJUDGED;
	s = render(&c, &ev, sizeof(ev), &r);
	assert_non_null(strstr(s, "\"proto\":\"132\",\"rule\":\"unjudged\""));
	free(s);
}

static void test_audit_exit_event_reports_signal(void **state)
{
	struct sbx_audit_ctx c = { .sandbox_id = "sbx-1" };
	struct sbx_ev_life ev = { 0 };
	char *s;
	int r;

	fill_hdr(&ev.hdr, SBX_EV_SANDBOX_EXIT, sizeof(ev));
	ev.workload_pid = 55;
	ev.exit_code = -1;
	ev.signal = 9;
	ev.flags = 1;
	ev.suppressed_allow = 7;
	ev.suppressed_deny = 3;
	s = render(&c, &ev, sizeof(ev), &r);
	assert_int_equal(r, 0);
	assert_non_null(strstr(s, "\"event\":\"sandbox.exit\",\"pid\":55,\"signal\":9,\"timed_out\":true,"
				  "\"suppressed\":{\"allow\":7,\"deny\":3}}"));
	free(s);
}

static void test_audit_limit_disk(void **state)
{
	struct sbx_audit_ctx c = { .sandbox_id = "sbx-1" };
	struct sbx_ev_disk ev = { 0 };
	char *s;
	int r;

	fill_hdr(&ev.hdr, SBX_EV_LIMIT_DISK, sizeof(ev));
	ev.hdr.tgid = 55;
	ev.used_bytes = 1048576;
	ev.limit_bytes = 1048576;
	ev.inodes_used = 3;
	ev.inodes_limit = 256;
	memcpy(ev.mount, "/tmp", 5);
	s = render(&c, &ev, sizeof(ev), &r);
	assert_int_equal(r, 0);
	assert_non_null(strstr(s, "\"event\":\"limit.disk\",\"pid\":55,\"mount\":\"/tmp\","
				  "\"used_bytes\":1048576,\"limit_bytes\":1048576,\"inodes_used\":3,"
				  "\"inodes_limit\":256}"));
	free(s);
	/* a mount name without its NUL stays inside the event */
	memset(ev.mount, 'a', sizeof(ev.mount));
	s = render(&c, &ev, sizeof(ev), &r);
	assert_int_equal(r, 0);
	free(s);
	s = render(&c, &ev, sizeof(ev) - 8, &r);
	assert_int_equal(r, -EINVAL);
	free(s);
}

static void test_audit_suppressed_summary(void **state)
{
	struct sbx_audit_ctx c = { .sandbox_id = "sbx-1" };
	struct sbx_ev_suppressed ev = { 0 };
	char *s;
	int r;

	fill_hdr(&ev.hdr, SBX_EV_AUDIT_SUPPRESSED, sizeof(ev));
	ev.hdr.tgid = 55;
	ev.allow = 10;
	ev.deny = 2;
	ev.allow_total = 110;
	ev.deny_total = 5;
	s = render(&c, &ev, sizeof(ev), &r);
	assert_int_equal(r, 0);
	assert_non_null(strstr(s, "\"event\":\"audit.suppressed\",\"pid\":55,\"suppressed\":12,\"allow\":10,"
				  "\"deny\":2,\"allow_total\":110,\"deny_total\":5}"));
	free(s);
	/* a truncated summary is malformed, not read past its end */
	s = render(&c, &ev, sizeof(ev) - 8, &r);
	assert_int_equal(r, -EINVAL);
	free(s);
}

static void test_audit_rejects_truncated_and_unknown_events(void **state)
{
	struct sbx_audit_ctx c = { .sandbox_id = "sbx-1" };
	struct sbx_ev_net ev = { 0 };
	char *s;
	int r;

	fill_hdr(&ev.hdr, SBX_EV_NET_CONNECT, sizeof(ev));
	s = render(&c, &ev, sizeof(ev.hdr) + 4, &r);
	assert_int_equal(r, -EINVAL);
	free(s);
	fill_hdr(&ev.hdr, 999, sizeof(ev));
	s = render(&c, &ev, sizeof(ev), &r);
	assert_int_equal(r, -EINVAL);
	free(s);
}

static void test_audit_time_is_rfc3339_nanoseconds(void **state)
{
	char buf[64];

	sbx_format_time(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000000000Z");
	sbx_format_time(1234567890123456789ll, buf, sizeof(buf));
	assert_string_equal(buf, "2009-02-13T23:31:30.123456789Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_denied_connect_by_default_rule),
		cmocka_unit_test(test_audit_would_deny_and_observe_start),
		cmocka_unit_test(test_audit_suppressed_summary),
		cmocka_unit_test(test_audit_limit_disk),
		cmocka_unit_test(test_audit_rule_attribution_names_entry_host_and_source),
		cmocka_unit_test(test_audit_net_addr_form_and_unjudged_rule),
		cmocka_unit_test(test_audit_exit_event_reports_signal),
		cmocka_unit_test(test_audit_rejects_truncated_and_unknown_events),
		cmocka_unit_test(test_audit_time_is_rfc3339_nanoseconds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
