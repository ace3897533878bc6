/* SPDX-License-Identifier: MIT */
/* Audit events -> journal entries (core/journal.h, docs/audit.md "The
 * journal"): every event type gets its SBX_* fields from its JSON line, and
 * a value from the workload cannot add or change a field. */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>

#include "testutil.h"
#include "core/audit.h"
#include "core/journal.h"
#include "sbx_abi.h"

static char *render(const struct sbx_audit_ctx *c, const void *ev, size_t size)
{
	struct json_writer w;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	json_init(&w, f, false);
	assert_int_equal(sbx_audit_event_json(&w, c, ev, size), 0);
	json_finish(&w);
	fclose(f);
	return buf;
}

/* The fields named name=value in e: how many there are, and that the one
 * there is value. */
static void expect(const struct sbx_journal_entry *e, const char *field)
{
	const char *eq = strchr(field, '=');
	char name[80];
	size_t len;
	const char *v;

	assert_non_null(eq);
	snprintf(name, sizeof(name), "%.*s", (int)(eq - field), field);
	v = sbx_journal_entry_get(e, name, &len);
	if (!v)
		fail_msg("no field %s", name);
	if (len != strlen(eq + 1) || memcmp(v, eq + 1, len))
		fail_msg("%s is '%.*s', expected '%s'", name, (int)len, v, eq + 1);
}

static size_t count(const struct sbx_journal_entry *e, const char *name)
{
	size_t n = 0, nlen = strlen(name);

	for (size_t i = 0; i < e->n; i++)
		n += e->iov[i].iov_len > nlen && !memcmp(e->iov[i].iov_base, name, nlen) &&
		     ((char *)e->iov[i].iov_base)[nlen] == '=';
	return n;
}

/* Every member of the JSON line is a field of the entry, with the same
 * text: the two outputs cannot disagree. */
static void same_as_json(const struct sbx_journal_entry *e, const char *line)
{
	json_object *o = json_tokener_parse(line);

	assert_non_null(o);
	json_object_object_foreach(o, key, v) {
		char name[80], want[512];

		snprintf(name, sizeof(name), "SBX_%s", !strcmp(key, "verdict") ? "action" : key);
		for (char *p = name; *p; p++)
			*p = (char)(*p == '.' ? '_' : (*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
		if (json_object_is_type(v, json_type_object)) {
			json_object_object_foreach(v, sub, sv) {
				char full[120];

				snprintf(full, sizeof(full), "%s_%s=%s", name, sub, json_object_get_string(sv));
				for (char *p = full + strlen(name) + 1; *p != '='; p++)
					*p = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
				expect(e, full);
			}
			continue;
		}
		snprintf(want, sizeof(want), "%s=%s", name,
			 json_object_is_type(v, json_type_string) ? json_object_get_string(v)
				: json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		expect(e, want);
		assert_int_equal(count(e, name), 1);
	}
	json_object_put(o);
}

struct ev_case {
	uint16_t type;
	uint16_t size;
	const char *fields[8];	/* beside the common ones */
};

static const struct ev_case cases[] = {
	{ SBX_EV_SANDBOX_START, sizeof(struct sbx_ev_life),
	  { "SBX_EVENT=sandbox.start", "SBX_PROVIDER=process", "PRIORITY=6",
	    "MESSAGE=sbx: sbx-1a2b3c4d started (profile web, provider process)" } },
	{ SBX_EV_SANDBOX_EXIT, sizeof(struct sbx_ev_life),
	  { "SBX_EVENT=sandbox.exit", "SBX_EXIT_CODE=0", "SBX_SUPPRESSED_ALLOW=0", "SBX_SUPPRESSED_DENY=0",
	    "MESSAGE=sbx: sbx-1a2b3c4d exited with status 0", "PRIORITY=6" } },
	{ SBX_EV_NET_CONNECT, sizeof(struct sbx_ev_net),
	  { "SBX_EVENT=net.connect", "SBX_ACTION=deny", "SBX_ADDR=192.0.2.7", "SBX_PORT=443",
	    "SBX_PROTO=tcp", "SBX_RULE=default", "PRIORITY=5",
	    "MESSAGE=sbx: sbx-1a2b3c4d denied connect to 192.0.2.7:443/tcp (rule default)" } },
	{ SBX_EV_NET_SEND, sizeof(struct sbx_ev_net),
	  { "SBX_EVENT=net.send", "SBX_ACTION=deny", "SBX_ADDR=192.0.2.7", "SBX_PORT=443" } },
	{ SBX_EV_NET_BIND, sizeof(struct sbx_ev_net),
	  { "SBX_EVENT=net.bind", "SBX_RULE=listen",
	    "MESSAGE=sbx: sbx-1a2b3c4d denied bind to 192.0.2.7:443/tcp (rule listen)" } },
	{ SBX_EV_SOCK_CREATE, sizeof(struct sbx_ev_sock),
	  { "SBX_EVENT=net.socket", "SBX_ACTION=deny", "SBX_FAMILY=inet", "SBX_TYPE=raw", "SBX_PROTOCOL=1",
	    "MESSAGE=sbx: sbx-1a2b3c4d denied socket inet/raw" } },
	{ SBX_EV_NET_QUOTA, sizeof(struct sbx_ev_quota),
	  { "SBX_EVENT=net.quota", "SBX_BYTES=70000", "SBX_QUOTA=65536" } },
	{ SBX_EV_NET_PACKET, sizeof(struct sbx_ev_net),
	  { "SBX_EVENT=net.packet", "SBX_ACTION=deny", "SBX_PORT=443" } },
	{ SBX_EV_SYSCALL_DENIED, sizeof(struct sbx_ev_syscall),
	  { "SBX_EVENT=syscall.denied", "SBX_ACTION=deny", "SBX_NR=321", "SBX_SYSCALL=bpf",
	    "SBX_ARGS=[0,0,0]", "MESSAGE=sbx: sbx-1a2b3c4d denied system call bpf" } },
	{ SBX_EV_FILE, sizeof(struct sbx_ev_file),
	  { "SBX_EVENT=file", "SBX_ACTION=deny", "SBX_OP=open", "SBX_PATH=/etc/shadow", "SBX_ACCESS=r",
	    "SBX_BACKEND=landlock", "SBX_ERRNO=13",
	    "MESSAGE=sbx: sbx-1a2b3c4d denied open of /etc/shadow (r) (rule default)" } },
	{ SBX_EV_NET_SOCKOPT, sizeof(struct sbx_ev_sockopt),
	  { "SBX_EVENT=net.sockopt", "SBX_ACTION=deny", "SBX_OPTION=IPV6_RTHDR", "SBX_LEVEL=ipv6" } },
	{ SBX_EV_NET_UNIX, sizeof(struct sbx_ev_unix),
	  { "SBX_EVENT=net.unix", "SBX_ACTION=deny", "SBX_OP=connect", "SBX_PATH=/run/docker.sock",
	    "MESSAGE=sbx: sbx-1a2b3c4d denied unix connect to /run/docker.sock" } },
	{ SBX_EV_AUDIT_SUPPRESSED, sizeof(struct sbx_ev_suppressed),
	  { "SBX_EVENT=audit.suppressed", "SBX_SUPPRESSED=12", "SBX_DENY=2", "PRIORITY=4" } },
	{ SBX_EV_LIMIT_DISK, sizeof(struct sbx_ev_disk),
	  { "SBX_EVENT=limit.disk", "SBX_MOUNT=/tmp", "SBX_LIMIT_BYTES=4096", "PRIORITY=4",
	    "MESSAGE=sbx: sbx-1a2b3c4d: its disk quota on /tmp is full" } },
	{ SBX_EV_DNS_QUERY, sizeof(struct sbx_ev_dns),
	  { "SBX_EVENT=dns.query", "SBX_ACTION=deny", "SBX_NAME=evil.example", "SBX_QTYPE=A",
	    "MESSAGE=sbx: sbx-1a2b3c4d denied DNS query A evil.example for no_allow_rule (rule default)" } },
	{ SBX_EV_DNS_DENIED, sizeof(struct sbx_ev_dns),
	  { "SBX_EVENT=dns.denied", "SBX_ACTION=deny", "SBX_REASON=no_allow_rule", "SBX_RCODE=REFUSED",
	    "PRIORITY=5" } },
	{ SBX_EV_DNS_RESOLVER, sizeof(struct sbx_ev_dns_resolver),
	  { "SBX_EVENT=dns.resolver", "SBX_STATE=died", "SBX_SIGNAL=9", "PRIORITY=5",
	    "MESSAGE=sbx: sbx-1a2b3c4d: its DNS resolver died" } },
};

/* One event of type t with values the cases above expect. */
static void fill(union { struct sbx_ev_net net; struct sbx_ev_file file; struct sbx_ev_life life;
			 struct sbx_ev_sock sock; struct sbx_ev_quota quota; struct sbx_ev_syscall sys;
			 struct sbx_ev_sockopt opt; struct sbx_ev_unix un; struct sbx_ev_suppressed sup;
			 struct sbx_ev_disk disk; struct sbx_ev_dns dns;
			 struct sbx_ev_dns_resolver res; } *ev, const struct ev_case *k)
{
	struct sbx_event_hdr *h = &ev->net.hdr;

	memset(ev, 0, sizeof(*ev));
	*h = (struct sbx_event_hdr){ .type = k->type, .size = k->size, .seq = 9, .pid = 812, .tgid = 812,
				     .cgroup_id = 4242, .ts_ns = 1 };
	memcpy(h->comm, "curl", 5);
	ev->net.verdict = SBX_VERDICT_DENY;	/* the first byte after the header, in each */
	switch (k->type) {
	case SBX_EV_NET_CONNECT: case SBX_EV_NET_SEND: case SBX_EV_NET_BIND: case SBX_EV_NET_PACKET:
		ev->net.family = 4;
		ev->net.proto = 6;
		ev->net.port = 443;
		ev->net.rule = k->type == SBX_EV_NET_BIND ? SBX_RULE_NONE : SBX_RULE_DEFAULT;
		inet_pton(AF_INET, "192.0.2.7", ev->net.addr);
		break;
	case SBX_EV_SOCK_CREATE:
		ev->sock.family = AF_INET;
		ev->sock.type = SOCK_RAW;
		ev->sock.protocol = 1;
		break;
	case SBX_EV_NET_QUOTA: ev->quota.bytes = 70000; ev->quota.quota = 65536; break;
	case SBX_EV_SYSCALL_DENIED: ev->sys.nr = 321; ev->sys.ret = -EPERM; break;
	case SBX_EV_FILE:
		ev->file.backend = SBX_FSB_LANDLOCK;
		ev->file.op = SBX_FOP_OPEN;
		ev->file.access = SBX_FACC_R;
		ev->file.rule = SBX_RULE_DEFAULT;
		ev->file.error = 13;
		strcpy(ev->file.path, "/etc/shadow");
		break;
	case SBX_EV_NET_SOCKOPT: ev->opt.family = AF_INET6; ev->opt.level = 41; ev->opt.optname = 57; break;
	case SBX_EV_NET_UNIX: strcpy(ev->un.path, "/run/docker.sock"); break;
	case SBX_EV_AUDIT_SUPPRESSED: ev->sup.allow = 10; ev->sup.deny = 2; break;
	case SBX_EV_LIMIT_DISK: ev->disk.used_bytes = ev->disk.limit_bytes = 4096; strcpy(ev->disk.mount, "/tmp"); break;
	case SBX_EV_SANDBOX_START: case SBX_EV_SANDBOX_EXIT: ev->life.workload_pid = 812; break;
	case SBX_EV_DNS_QUERY: case SBX_EV_DNS_DENIED:
		ev->dns.reason = SBX_DNS_REASON_NO_ALLOW_RULE;
		ev->dns.rcode = 5;
		ev->dns.qtype = 1;
		ev->dns.proto = 17;
		ev->dns.rule = SBX_RULE_DEFAULT;
		strcpy(ev->dns.name, "evil.example");
		break;
	case SBX_EV_DNS_RESOLVER: ev->res.state = SBX_DNSS_DIED; ev->res.status = 9; break;
	}
}

static void test_journal_every_event_type_maps_to_its_fields(void **state)
{
	struct sbx_profile p = { .name = (char *)"web", .net.mode = SBX_NET_ALLOW };
	struct sbx_audit_ctx c = { .sandbox_id = "sbx-1a2b3c4d", .profile = &p, .provider = "process" };
	bool seen[32] = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ev_case *k = &cases[i];
		union { struct sbx_ev_net net; struct sbx_ev_file file; struct sbx_ev_life life;
			struct sbx_ev_sock sock; struct sbx_ev_quota quota; struct sbx_ev_syscall sys;
			struct sbx_ev_sockopt opt; struct sbx_ev_unix un; struct sbx_ev_suppressed sup;
			struct sbx_ev_disk disk; struct sbx_ev_dns dns;
			struct sbx_ev_dns_resolver res; } ev;
		struct sbx_journal_entry e;
		char *line;

		fill((void *)&ev, k);
		line = render(&c, &ev, k->size);
		assert_int_equal(sbx_journal_entry_from_json(&e, line, strlen(line)), 0);
		expect(&e, "SYSLOG_IDENTIFIER=sbx");
		expect(&e, "SBX_SANDBOX=sbx-1a2b3c4d");
		expect(&e, "SBX_PROFILE=web");
		expect(&e, "SBX_SEQ=9");
		assert_int_equal(count(&e, "MESSAGE"), 1);
		assert_int_equal(count(&e, "PRIORITY"), 1);
		if (k->type != SBX_EV_SANDBOX_START && k->type != SBX_EV_SANDBOX_EXIT &&
		    k->type != SBX_EV_AUDIT_SUPPRESSED && k->type != SBX_EV_LIMIT_DISK &&
		    k->type < SBX_EV_DNS_QUERY) {
			expect(&e, "SBX_PID=812");
			expect(&e, "SBX_COMM=curl");
			expect(&e, "SBX_CGROUP_ID=4242");
		}
		for (size_t f = 0; f < 8 && k->fields[f]; f++)
			expect(&e, k->fields[f]);
		same_as_json(&e, line);
		seen[k->type] = true;
		sbx_journal_entry_free(&e);
		free(line);
	}
	/* a new event type without a case here fails this test */
	for (uint16_t t = 1; sbx_event_name(t); t++)
		if (!seen[t])
			fail_msg("event type %u (%s) has no journal case", t, sbx_event_name(t));
}

static void test_journal_rule_source_and_denials_filter(void **state)
{
	static const char line[] =
		"{\"seq\":4,\"sandbox\":\"sbx-35a5ac5e\",\"profile\":\"demo\",\"event\":\"net.connect\","
		"\"verdict\":\"allow\",\"pid\":15449,\"tid\":15449,\"comm\":\"python3\",\"cgroup_id\":4547,"
		"\"family\":\"ipv6\",\"addr\":\"::1\",\"port\":8080,\"proto\":\"tcp\",\"rule\":\"[::1]:8080/tcp\","
		"\"rule_index\":0,\"rule_source\":\"/etc/sbx/policy.d/demo.toml:8:10\"}\n";
	static const char api[] =
		"{\"event\":\"api.denied\",\"uid\":1000,\"pid\":77,\"method\":\"org.sbx.Manager.Stop\","
		"\"reason\":\"not your sandbox\",\"name\":\"web\",\"time\":\"2026-12-07T00:00:00.000000000Z\"}";
	struct sbx_journal_entry e;

	(void)state;
	assert_int_equal(sbx_journal_entry_from_json(&e, line, sizeof(line) - 1), 0);
	expect(&e, "SBX_RULE_SOURCE=/etc/sbx/policy.d/demo.toml:8:10");
	expect(&e, "SBX_RULE_INDEX=0");
	expect(&e, "SBX_ACTION=allow");
	expect(&e, "PRIORITY=6");
	expect(&e, "MESSAGE=sbx: sbx-35a5ac5e allowed connect to [::1]:8080/tcp (rule [::1]:8080/tcp)");
	assert_int_equal(count(&e, "SBX_VERDICT"), 0);
	sbx_journal_entry_free(&e);
	/* sbxd's refusals have no verdict: SBX_ACTION=deny finds them too */
	assert_int_equal(sbx_journal_entry_from_json(&e, api, sizeof(api) - 1), 0);
	expect(&e, "SBX_EVENT=api.denied");
	expect(&e, "SBX_ACTION=deny");
	expect(&e, "SBX_METHOD=org.sbx.Manager.Stop");
	expect(&e, "SBX_NAME=web");
	expect(&e, "PRIORITY=5");
	expect(&e, "MESSAGE=sbx: sbxd denied org.sbx.Manager.Stop to uid 1000: not your sandbox");
	sbx_journal_entry_free(&e);
}

/* A path or comm holding a newline and "FIELD=" stays one value of one
 * field: it is one iovec, which sd_journal_sendv sends length-prefixed. */
static void test_journal_values_cannot_inject_fields(void **state)
{
	struct sbx_profile p = { .name = (char *)"t", .fs.mode = SBX_FS_READ_ONLY };
	struct sbx_audit_ctx c = { .sandbox_id = "sbx-00000001", .profile = &p };
	struct sbx_ev_file ev = { 0 };
	/* ends in U+009B (UTF-8 c2 9b), a terminal's CSI */
	static const char evil[] = "/tmp/x\nSBX_ACTION=allow\nPRIORITY=0\nMESSAGE=forged\xc2\x9b" "31m";
	struct sbx_journal_entry e;
	size_t len;
	const char *v;
	char *line;

	(void)state;
	ev.hdr = (struct sbx_event_hdr){ .type = SBX_EV_FILE, .size = sizeof(ev), .seq = 2, .pid = 1, .tgid = 1 };
	memcpy(ev.hdr.comm, "a=b\nPRIORITY=0", 15);
	ev.verdict = SBX_VERDICT_DENY;
	ev.backend = SBX_FSB_LANDLOCK;
	ev.op = SBX_FOP_OPEN;
	ev.access = SBX_FACC_R;
	ev.rule = SBX_RULE_DEFAULT;
	ev.error = 13;
	strcpy(ev.path, evil);
	line = render(&c, &ev, sizeof(ev));
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);	/* still one JSON line */
	assert_int_equal(sbx_journal_entry_from_json(&e, line, strlen(line)), 0);
	v = sbx_journal_entry_get(&e, "SBX_PATH", &len);
	assert_non_null(v);
	assert_int_equal(len, strlen(evil));
	assert_memory_equal(v, evil, len);
	v = sbx_journal_entry_get(&e, "SBX_COMM", &len);
	assert_int_equal(len, 14);
	assert_memory_equal(v, "a=b\nPRIORITY=0", 14);
	expect(&e, "SBX_ACTION=deny");
	expect(&e, "PRIORITY=5");
	assert_int_equal(count(&e, "SBX_ACTION"), 1);
	assert_int_equal(count(&e, "PRIORITY"), 1);
	assert_int_equal(count(&e, "MESSAGE"), 1);
	/* the sentence is one line of printable text: the newlines of the
	 * path are \x0a in it (journalctl and syslog print it as a line) */
	v = sbx_journal_entry_get(&e, "MESSAGE", &len);
	assert_non_null(v);
	for (size_t i = 0; i < len; i++)
		assert_true((unsigned char)v[i] >= 0x20 && v[i] != 0x7f);
	assert_non_null(memmem(v, len, "/tmp/x\\x0aSBX_ACTION=allow\\x0aPRIORITY=0", 40));
	assert_non_null(memmem(v, len, "forged\\xc2\\x9b31m", 17));
	assert_null(memmem(v, len, "\xc2\x9b", 2));
	/* every field is one iovec starting with its own name */
	for (size_t i = 0; i < e.n; i++) {
		const char *f = e.iov[i].iov_base;
		const char *eq = memchr(f, '=', e.iov[i].iov_len);

		assert_non_null(eq);
		for (const char *q = f; q < eq; q++)
			assert_true((*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '_');
	}
	sbx_journal_entry_free(&e);
	free(line);
}

static void test_journal_rejects_what_is_not_an_event(void **state)
{
	static const char *const bad[] = { "", "[]", "{\"seq\":1}", "{\"event\":\"x\"", "{\"event\":\"x\"} junk",
					   "not json" };
	struct sbx_journal_entry e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sbx_journal_entry_from_json(&e, bad[i], strlen(bad[i])), -EINVAL);
}

/* Without journald every entry of a batch is counted lost, never sent. */
static void test_journal_counts_entries_when_journald_is_missing(void **state)
{
	struct sbx_journal j = { .fd = -1, .err = -ENOENT };
	static const char batch[] = "{\"event\":\"sandbox.start\",\"seq\":1}\n{\"event\":\"net.connect\",\"seq\":2}\n";
	char buf[256];

	(void)state;
	assert_int_equal(sbx_journal_send_lines(&j, batch, sizeof(batch) - 1), 2);
	assert_int_equal(j.lost, 2);
	assert_int_equal(j.sent, 0);
	assert_non_null(sbx_journal_warning(&j, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "journald does not run"));
	assert_null(sbx_journal_warning(&j, buf, sizeof(buf)));	/* once */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_every_event_type_maps_to_its_fields),
		cmocka_unit_test(test_journal_rule_source_and_denials_filter),
		cmocka_unit_test(test_journal_values_cannot_inject_fields),
		cmocka_unit_test(test_journal_rejects_what_is_not_an_event),
		cmocka_unit_test(test_journal_counts_entries_when_journald_is_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
