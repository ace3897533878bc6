/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include "core/journal.h"
#include "kernel/systemd.h"

#define FIELD_NAME_MAX 64	/* journald's limit on a field name */
#define OWN_FIELDS 4		/* MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, SBX_ACTION of api.denied */

/* A member's field, or (own) one of the fields the sink adds itself, which
 * always have their room. */
static int add_field(struct sbx_journal_entry *e, bool own, const char *name, const char *val, size_t vlen)
{
	size_t nlen = strlen(name);
	char *f;

	if (e->n == SBX_JOURNAL_MAX_FIELDS - (own ? 0 : OWN_FIELDS))
		return 0;	/* no event has that many members: a future one loses its last */
	f = malloc(nlen + 1 + vlen);
	if (!f)
		return -ENOMEM;
	memcpy(f, name, nlen);
	f[nlen] = '=';
	memcpy(f + nlen + 1, val, vlen);
	e->iov[e->n++] = (struct iovec){ .iov_base = f, .iov_len = nlen + 1 + vlen };
	return 0;
}

/* SBX_ + the member's name in upper case, '.' and '-' as '_' ("verdict"
 * is the action). Names are sbx's own, but one that would not be a valid
 * journal field name is left out rather than sent mangled. */
static int field_name(char *buf, size_t cap, const char *prefix, const char *key)
{
	size_t n;

	if (!*prefix && !strcmp(key, "verdict"))
		key = "action";
	n = (size_t)snprintf(buf, cap, "%s_", *prefix ? prefix : "SBX");
	for (const char *k = key; *k; k++) {
		char c = *k;

		if (n >= FIELD_NAME_MAX)
			return -EINVAL;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (c == '.' || c == '-')
			c = '_';
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return -EINVAL;
		buf[n++] = c;
	}
	buf[n] = 0;
	return 0;
}

static int add_members(struct sbx_journal_entry *e, json_object *obj, const char *prefix)
{
	json_object_object_foreach(obj, key, v) {
		char name[FIELD_NAME_MAX + 32];
		const char *s;
		size_t len;
		int r;

		if (!v || field_name(name, sizeof(name), prefix, key) < 0)
			continue;
		switch (json_object_get_type(v)) {
		case json_type_object:
			if (*prefix)
				continue;	/* one level: no event nests deeper */
			r = add_members(e, v, name);
			break;
		case json_type_string:
			r = add_field(e, false, name, json_object_get_string(v),
				      (size_t)json_object_get_string_len(v));
			break;
		default:
			s = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN, &len);
			r = s ? add_field(e, false, name, s, len) : -ENOMEM;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

const char *sbx_journal_entry_get(const struct sbx_journal_entry *e, const char *name, size_t *ret_len)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < e->n; i++) {
		const char *f = e->iov[i].iov_base;

		if (e->iov[i].iov_len > nlen && !memcmp(f, name, nlen) && f[nlen] == '=') {
			if (ret_len)
				*ret_len = e->iov[i].iov_len - nlen - 1;
			return f + nlen + 1;
		}
	}
	return NULL;
}

/* A value as a C string for the message: fields are not NUL-terminated,
 * and a NUL inside one (never in sbx's JSON, but possible in \u0000) ends it. */
static const char *val(const struct sbx_journal_entry *e, const char *name, char *buf, size_t cap)
{
	size_t len;
	const char *v = sbx_journal_entry_get(e, name, &len);

	if (!v)
		return NULL;
	snprintf(buf, cap, "%.*s", (int)(len < cap ? len : cap - 1), v);
	return buf;
}

#define V(name) val(e, #name, b_##name, sizeof(b_##name))

/* "connect to 192.0.2.7:443/tcp", "open of /etc/shadow (r)", ... */
static void describe(const struct sbx_journal_entry *e, const char *ev, char *out, size_t cap)
{
	char b_SBX_ADDR[64], b_SBX_PORT[16], b_SBX_PROTO[16], b_SBX_PATH[4200], b_SBX_OP[32],
	     b_SBX_ACCESS[8], b_SBX_FAMILY[32], b_SBX_TYPE[16], b_SBX_OPTION[32], b_SBX_SYSCALL[48],
	     b_SBX_NR[16], b_SBX_ABSTRACT[256], b_SBX_BYTES[24], b_SBX_QUOTA[24], b_SBX_QTYPE[16],
	     b_SBX_NAME[300], b_SBX_REASON[32];
	const char *addr = V(SBX_ADDR), *port = V(SBX_PORT), *proto = V(SBX_PROTO);
	bool v6 = addr && strchr(addr, ':');

	if (!strcmp(ev, "net.connect") || !strcmp(ev, "net.send") || !strcmp(ev, "net.bind"))
		snprintf(out, cap, "%s to %s%s%s:%s/%s", ev + 4, v6 ? "[" : "", addr ? addr : "?",
			 v6 ? "]" : "", port ? port : "?", proto ? proto : "?");
	else if (!strcmp(ev, "net.packet"))
		snprintf(out, cap, "packet to %s (%s)", addr ? addr : "?", proto ? proto : "?");
	else if (!strcmp(ev, "net.socket"))
		snprintf(out, cap, "socket %s/%s", V(SBX_FAMILY) ?: "?", V(SBX_TYPE) ?: "?");
	else if (!strcmp(ev, "net.sockopt"))
		snprintf(out, cap, "socket option %s", V(SBX_OPTION) ?: "?");
	else if (!strcmp(ev, "net.unix") && V(SBX_PATH))
		snprintf(out, cap, "unix %s to %s", V(SBX_OP) ?: "connect", b_SBX_PATH);
	else if (!strcmp(ev, "net.unix"))
		snprintf(out, cap, "unix %s to @%s", V(SBX_OP) ?: "connect", V(SBX_ABSTRACT) ?: "?");
	else if (!strcmp(ev, "net.quota"))
		snprintf(out, cap, "traffic past its quota (%s of %s bytes)", V(SBX_BYTES) ?: "?",
			 V(SBX_QUOTA) ?: "?");
	else if (!strcmp(ev, "file"))
		snprintf(out, cap, "%s of %s (%s)", V(SBX_OP) ?: "?", V(SBX_PATH) ?: "?", V(SBX_ACCESS) ?: "");
	else if (!strcmp(ev, "syscall.denied"))
		snprintf(out, cap, "system call %s", V(SBX_SYSCALL) ?: (V(SBX_NR) ?: "?"));
	else if (!strcmp(ev, "dns.query") || !strcmp(ev, "dns.denied"))
		snprintf(out, cap, "DNS query %s %s%s%s", V(SBX_QTYPE) ?: "?", V(SBX_NAME) ?: "?",
			 V(SBX_REASON) ? " for " : "", V(SBX_REASON) ? b_SBX_REASON : "");
	else
		snprintf(out, cap, "%s", ev);
}

/* The sentence of MESSAGE. */
static void message(const struct sbx_journal_entry *e, char *out, size_t cap)
{
	char b_SBX_EVENT[32], b_SBX_SANDBOX[64], b_SBX_ACTION[16], b_SBX_RULE[512], b_SBX_PROFILE[128],
	     b_SBX_PROVIDER[32], b_SBX_EXIT_CODE[16], b_SBX_SIGNAL[16], b_SBX_SUPPRESSED[24],
	     b_SBX_MOUNT[256], b_SBX_METHOD[128], b_SBX_UID[16], b_SBX_REASON[512], b_SBX_STATE[16],
	     what[4400];
	const char *ev = V(SBX_EVENT) ?: "?", *sb = V(SBX_SANDBOX) ?: "sbxd", *act = V(SBX_ACTION);
	const char *rule = V(SBX_RULE);

	if (!strcmp(ev, "sandbox.start"))
		snprintf(out, cap, "sbx: %s started (profile %s, provider %s)", sb, V(SBX_PROFILE) ?: "?",
			 V(SBX_PROVIDER) ?: "?");
	else if (!strcmp(ev, "sandbox.exit") && V(SBX_SIGNAL))
		snprintf(out, cap, "sbx: %s was killed by signal %s", sb, b_SBX_SIGNAL);
	else if (!strcmp(ev, "sandbox.exit"))
		snprintf(out, cap, "sbx: %s exited with status %s", sb, V(SBX_EXIT_CODE) ?: "?");
	else if (!strcmp(ev, "audit.suppressed"))
		snprintf(out, cap, "sbx: %s: rate limits kept %s events out of the audit trail", sb,
			 V(SBX_SUPPRESSED) ?: "?");
	else if (!strcmp(ev, "limit.disk"))
		snprintf(out, cap, "sbx: %s: its disk quota on %s is full", sb, V(SBX_MOUNT) ?: "?");
	else if (!strcmp(ev, "dns.resolver"))
		snprintf(out, cap, "sbx: %s: its DNS resolver %s", sb, V(SBX_STATE) ?: "?");
	else if (!strcmp(ev, "api.denied"))
		snprintf(out, cap, "sbx: sbxd denied %s to uid %s: %s", V(SBX_METHOD) ?: "?", V(SBX_UID) ?: "?",
			 V(SBX_REASON) ?: "?");
	else {
		describe(e, ev, what, sizeof(what));
		snprintf(out, cap, "sbx: %s %s %s%s%s%s", sb,
			 !act ? "reported" : !strcmp(act, "deny") ? "denied" : !strcmp(act, "allow") ? "allowed" : act,
			 what, rule ? " (rule " : "", rule ?: "", rule ? ")" : "");
	}
}

/* Denials are notices (the policy did its work; journalctl -p notice
 * lists them), evidence lost is a warning, the rest is information. */
static int priority(const struct sbx_journal_entry *e)
{
	char b_SBX_EVENT[32], b_SBX_ACTION[16];
	const char *ev = V(SBX_EVENT) ?: "", *act = V(SBX_ACTION);

	if (!strcmp(ev, "audit.suppressed") || !strcmp(ev, "limit.disk"))
		return LOG_WARNING;
	if (act && !strcmp(act, "deny"))
		return LOG_NOTICE;
	return LOG_INFO;
}

#undef V

/* MESSAGE is what journalctl and syslog forwarders print as a line: the
 * names in it are the workload's (a path, an abstract name, a host name),
 * whose newlines would start forged lines there and whose escape sequences
 * would reach the reader's terminal. Control bytes are written as \xNN,
 * cut at the buffer's end; the SBX_* fields keep every byte. */
static void printable(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *in; in++) {
		unsigned char c = (unsigned char)*in, n = (unsigned char)in[1];
		/* C0, DEL, and the C1 controls U+0080-U+009F (UTF-8 C2 80-9F:
		 * U+009B is a terminal's CSI) */
		bool c1 = c == 0xc2 && n >= 0x80 && n <= 0x9f, ctl = c < 0x20 || c == 0x7f || c1;

		if (o + (c1 ? 8 : ctl ? 4 : 1) >= cap)
			break;
		if (!ctl) {
			out[o++] = (char)c;
			continue;
		}
		for (int k = 0; k < (c1 ? 2 : 1); k++) {
			unsigned char b = (unsigned char)in[k];

			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[b >> 4];
			out[o++] = hex[b & 0xf];
		}
		in += c1;
	}
	out[o] = 0;
}

static int finish(struct sbx_journal_entry *e)
{
	char raw[8192], msg[8192], prio[4];
	size_t len;
	int r;

	/* api.denied is a refusal without a verdict member: it says deny too,
	 * so that SBX_ACTION=deny finds every denial */
	if (!sbx_journal_entry_get(e, "SBX_ACTION", NULL) && sbx_journal_entry_get(e, "SBX_EVENT", &len) &&
	    len == 10 && !memcmp(sbx_journal_entry_get(e, "SBX_EVENT", NULL), "api.denied", 10) &&
	    (r = add_field(e, true, "SBX_ACTION", "deny", 4)) < 0)
		return r;
	message(e, raw, sizeof(raw));
	printable(raw, msg, sizeof(msg));
	snprintf(prio, sizeof(prio), "%d", priority(e));
	if ((r = add_field(e, true, "MESSAGE", msg, strlen(msg))) < 0 ||
	    (r = add_field(e, true, "PRIORITY", prio, strlen(prio))) < 0)
		return r;
	return add_field(e, true, "SYSLOG_IDENTIFIER", "sbx", 3);
}

int sbx_journal_entry_from_json(struct sbx_journal_entry *e, const char *line, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *obj;
	int r;

	e->n = 0;
	if (!tok)
		return -ENOMEM;
	while (len && line[len - 1] == '\n')
		len--;
	obj = json_tokener_parse_ex(tok, line, (int)len);
	r = obj && json_tokener_get_error(tok) == json_tokener_success &&
	    (size_t)json_tokener_get_parse_end(tok) == len &&
	    json_object_is_type(obj, json_type_object) &&
	    json_object_object_get_ex(obj, "event", NULL) ? 0 : -EINVAL;
	json_tokener_free(tok);
	if (r == 0)
		r = add_members(e, obj, "");
	if (r == 0)
		r = finish(e);
	json_object_put(obj);
	if (r < 0)
		sbx_journal_entry_free(e);
	return r;
}

void sbx_journal_entry_free(struct sbx_journal_entry *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->iov[i].iov_base);
	e->n = 0;
}

/* (Re)connects the probe socket to journald's. libsystemd's sender says
 * nothing when the socket is missing (it drops the entry and returns 0):
 * this finds out, before each batch, so that the loss is counted; and a
 * journald restarted since the last batch is the one polled. */
static int journal_connect(struct sbx_journal *j)
{
	static const struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = SBX_JOURNAL_SOCKET };

	if (j->fd < 0)
		return j->err;
	if (connect(j->fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
		return j->err = -errno;
	return 0;
}

int sbx_journal_open(struct sbx_journal *j)
{
	*j = (struct sbx_journal){ .fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0) };
	if (j->fd < 0)
		return j->err = -errno;
	return journal_connect(j);
}

void sbx_journal_close(struct sbx_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Room in journald's queue: a connected datagram socket polls writable only
 * while its peer's receive queue is not full (net.unix.max_dgram_qlen),
 * which is the queue libsystemd's sender would wait on. */
static bool journal_room(struct sbx_journal *j, int64_t deadline)
{
	struct pollfd p = { .fd = j->fd, .events = POLLOUT };
	int64_t left = j->stalled ? 0 : deadline - now_ms();
	int r;

	do
		r = poll(&p, 1, left > 0 ? (int)left : 0);
	while (r < 0 && errno == EINTR);
	j->stalled = r <= 0;
	return r > 0;
}

static int send_line(struct sbx_journal *j, const char *line, size_t len, int64_t deadline)
{
	struct sbx_journal_entry e;
	int r;

	if (!journal_room(j, deadline))
		return -EAGAIN;
	r = sbx_journal_entry_from_json(&e, line, len);
	if (r < 0)
		return r;
	r = sbx_systemd_journal_sendv(e.iov, (int)e.n);
	sbx_journal_entry_free(&e);
	if (r < 0)
		j->err = r;
	return r;
}

uint64_t sbx_journal_send_lines(struct sbx_journal *j, const char *buf, size_t len)
{
	int64_t deadline = now_ms() + SBX_JOURNAL_WAIT_MS;
	bool up = len && journal_connect(j) == 0;
	uint64_t lost = 0;

	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t n = nl ? (size_t)(nl - buf) + 1 : len;

		if (n > 1 && (!up || send_line(j, buf, n, deadline) < 0))
			lost++;
		else if (n > 1)
			j->sent++;
		buf += n;
		len -= n;
	}
	j->lost += lost;
	return lost;
}

const char *sbx_journal_warning(struct sbx_journal *j, char *buf, size_t len)
{
	if ((!j->err && !j->stalled) || j->warned)
		return NULL;
	j->warned = true;
	if (!j->err) {
		snprintf(buf, len, "audit journal: journald does not keep up (its queue stayed full for %d ms); "
			 "journal entries it has no room for are counted as unwritten", SBX_JOURNAL_WAIT_MS);
		return buf;
	}
	snprintf(buf, len, "audit journal: %s: %s%s; journal entries are counted as unwritten",
		 SBX_JOURNAL_SOCKET, strerror(-j->err), j->err == -ENOENT ? " (journald does not run)" : "");
	return buf;
}
