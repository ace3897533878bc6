/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <stdlib.h>
#include <seccomp.h>

#include "core/audit.h"
#include "sbx_abi.h"

static const char *const event_names[] = {
	[SBX_EV_SANDBOX_START] = "sandbox.start", [SBX_EV_SANDBOX_EXIT] = "sandbox.exit",
	[SBX_EV_NET_CONNECT] = "net.connect",	  [SBX_EV_NET_SEND] = "net.send",
	[SBX_EV_NET_BIND] = "net.bind",		  [SBX_EV_SOCK_CREATE] = "net.socket",
	[SBX_EV_NET_QUOTA] = "net.quota",	  [SBX_EV_NET_PACKET] = "net.packet",
	[SBX_EV_SYSCALL_DENIED] = "syscall.denied", [SBX_EV_FILE] = "file",
	[SBX_EV_NET_SOCKOPT] = "net.sockopt", [SBX_EV_NET_UNIX] = "net.unix",
	[SBX_EV_AUDIT_SUPPRESSED] = "audit.suppressed", [SBX_EV_LIMIT_DISK] = "limit.disk",
	[SBX_EV_DNS_QUERY] = "dns.query", [SBX_EV_DNS_DENIED] = "dns.denied",
	[SBX_EV_DNS_RESOLVER] = "dns.resolver",
};

static const size_t event_sizes[] = {
	[SBX_EV_SANDBOX_START] = sizeof(struct sbx_ev_life),
	[SBX_EV_SANDBOX_EXIT] = sizeof(struct sbx_ev_life),
	[SBX_EV_NET_CONNECT] = sizeof(struct sbx_ev_net), [SBX_EV_NET_SEND] = sizeof(struct sbx_ev_net),
	[SBX_EV_NET_BIND] = sizeof(struct sbx_ev_net), [SBX_EV_SOCK_CREATE] = sizeof(struct sbx_ev_sock),
	[SBX_EV_NET_QUOTA] = sizeof(struct sbx_ev_quota), [SBX_EV_NET_PACKET] = sizeof(struct sbx_ev_net),
	[SBX_EV_SYSCALL_DENIED] = sizeof(struct sbx_ev_syscall),
	[SBX_EV_FILE] = sizeof(struct sbx_ev_file),
	[SBX_EV_NET_SOCKOPT] = sizeof(struct sbx_ev_sockopt),
	[SBX_EV_NET_UNIX] = sizeof(struct sbx_ev_unix),
	[SBX_EV_AUDIT_SUPPRESSED] = sizeof(struct sbx_ev_suppressed),
	[SBX_EV_LIMIT_DISK] = sizeof(struct sbx_ev_disk),
	[SBX_EV_DNS_QUERY] = sizeof(struct sbx_ev_dns),
	[SBX_EV_DNS_DENIED] = sizeof(struct sbx_ev_dns),
	[SBX_EV_DNS_RESOLVER] = sizeof(struct sbx_ev_dns_resolver),
};

#define N_EVENTS (sizeof(event_names) / sizeof(event_names[0]))

const char *sbx_event_name(uint16_t type)
{
	return type < N_EVENTS ? event_names[type] : NULL;
}

bool sbx_event_has_verdict(uint16_t type)
{
	switch (type) {
	case SBX_EV_NET_CONNECT: case SBX_EV_NET_SEND: case SBX_EV_NET_BIND: case SBX_EV_SOCK_CREATE:
	case SBX_EV_NET_PACKET: case SBX_EV_FILE: case SBX_EV_NET_SOCKOPT: case SBX_EV_NET_UNIX:
		return true;
	}
	return false;
}

const char *sbx_verdict_name(uint8_t verdict)
{
	return verdict == SBX_VERDICT_ALLOW ? "allow" :
	       verdict == SBX_VERDICT_WOULD_DENY ? "would_deny" : "deny";
}

/* libseccomp knows the names of the native syscalls. */
const char *sbx_syscall_name(uint32_t nr)
{
	static char buf[64];
	char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);

	if (!n)
		return NULL;
	snprintf(buf, sizeof(buf), "%s", n);
	free(n);
	return buf;
}

int64_t sbx_audit_clock_offset(void)
{
	struct timespec m, r;

	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	return ((int64_t)r.tv_sec - m.tv_sec) * 1000000000ll + (r.tv_nsec - m.tv_nsec);
}

/* "YYYY-MM-DDTHH:MM:SS" of the second last formatted, per thread: events come
 * many to a second, and gmtime_r + strftime cost more than the rest of a line
 * (docs/performance.md, section 4). */
static __thread struct {
	bool valid;
	time_t sec;
	size_t len;
	char text[32];
} time_cache;

/* The time's text into out (room for SBX_TIME_MAX); returns its length. */
#define SBX_TIME_MAX 64
static size_t format_time_into(int64_t real_ns, char *out)
{
	time_t sec = (time_t)(real_ns / 1000000000ll);
	long ns = (long)(real_ns % 1000000000ll);
	size_t n;

	if (ns < 0) {
		ns += 1000000000l;
		sec--;
	}
	if (!time_cache.valid || time_cache.sec != sec) {
		struct tm tm;

		gmtime_r(&sec, &tm);
		time_cache.len = strftime(time_cache.text, sizeof(time_cache.text), "%Y-%m-%dT%H:%M:%S", &tm);
		time_cache.sec = sec;
		time_cache.valid = true;
	}
	/* what "%s.%09ldZ" wrote */
	n = time_cache.len;
	memcpy(out, time_cache.text, n);
	out[n++] = '.';
	memset(out + n, '0', 9);
	json_format_u64(out + n + 9, (uint64_t)ns);	/* right-aligned: the zeros pad */
	n += 9;
	out[n++] = 'Z';
	return n;
}

void sbx_format_time(int64_t real_ns, char *buf, size_t len)
{
	char out[SBX_TIME_MAX];
	size_t n = format_time_into(real_ns, out);

	if (!len)
		return;
	n = n < len - 1 ? n : len - 1;	/* cut short as snprintf would */
	memcpy(buf, out, n);
	buf[n] = 0;
}

/* inet_ntop's text: IPv4 by hand (glibc prints it with sprintf, a tenth of
 * a flood's formatting), IPv6 by inet_ntop. buf: INET6_ADDRSTRLEN. */
static void format_addr(uint8_t family, const uint8_t *addr, char *buf)
{
	char *o = buf;

	if (family != 4) {
		inet_ntop(AF_INET6, addr, buf, INET6_ADDRSTRLEN);
		return;
	}
	for (int i = 0; i < 4; i++) {
		unsigned v = addr[i];

		if (v >= 100)
			*o++ = (char)('0' + v / 100);
		if (v >= 10)
			*o++ = (char)('0' + v / 10 % 10);
		*o++ = (char)('0' + v % 10);
		*o++ = i < 3 ? '.' : 0;
	}
}

static const char *proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case 0: return "any";
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "icmpv6";
	}
	snprintf(buf, len, "%u", p);
	return buf;
}

/*
 * The members of the hot path (every line's header and task, network
 * events whole) are formatted by hand into one buffer and handed to the
 * writer at once (json_members_raw): keys are literals with their quotes,
 * comma and colon, values are formatted in place. At a million events a
 * second the writer's bookkeeping per member was most of a line's cost
 * (bench/analysis.md, section 4). The bytes are the writer's, which
 * tests/unit/test_audit_format.c checks against the old formatter's. A
 * member too long for the buffer (a huge profile name) goes through the
 * writer itself. Before any other call on the writer, members_flush().
 */
struct members {
	struct json_writer *w;
	char *p;		/* next byte of buf */
	char buf[1024];		/* starts with the comma of its first member: dropped */
};

static void members_init(struct members *m, struct json_writer *w)
{
	m->w = w;
	m->p = m->buf;
}

static void members_flush(struct members *m)
{
	size_t len = (size_t)(m->p - m->buf);

	if (len)
		json_members_raw(m->w, m->buf + 1, len - 1);
	m->p = m->buf;
}

/* Room for n more bytes; false when one member of n bytes cannot fit. */
static bool members_room(struct members *m, size_t n)
{
	if ((size_t)(m->buf + sizeof(m->buf) - m->p) >= n)
		return true;
	members_flush(m);
	return n <= sizeof(m->buf);
}

static inline __attribute__((always_inline)) void put(struct members *m, const char *s, size_t n)
{
	memcpy(m->p, s, n);
	m->p += n;
}

/* ,"key": of a literal key (plain ASCII, nothing to escape) */
#define KEY(k) ",\"" k "\":", sizeof(",\"" k "\":") - 1
#define KEY_MAX 32

static void put_u64(struct members *m, uint64_t v)
{
	char buf[24], *end = buf + sizeof(buf), *d = json_format_u64(end, v);

	put(m, d, (size_t)(end - d));
}

static inline __attribute__((always_inline)) void kv_uint(struct members *m, const char *key, size_t klen, uint64_t v)
{
	members_room(m, KEY_MAX + 20);
	put(m, key, klen);
	put_u64(m, v);
}

/* A string value (NULL: null); the writer takes the member when it does
 * not fit. */
static inline __attribute__((always_inline)) void kv_str(struct members *m, const char *key,
							 size_t klen, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (!members_room(m, klen + JSON_ESCAPED_MAX(len))) {
		char name[KEY_MAX];

		/* ,"name": -> name */
		memcpy(name, key + 2, klen - 4);
		name[klen - 4] = 0;
		json_kv_string(m->w, name, s);
		return;
	}
	put(m, key, klen);
	if (!s)
		put(m, "null", 4);
	else
		m->p += json_escape_into(m->p, s, len);
}

/* A name of this file's own (event, verdict, family, protocol, address,
 * mode): printable ASCII without '"' or '\\', written as it is. */
static inline __attribute__((always_inline)) void kv_name(struct members *m, const char *key,
							  size_t klen, const char *s)
{
	size_t len = strlen(s);

	members_room(m, KEY_MAX + len + 2);	/* names are short */
	put(m, key, klen);
	*m->p++ = '"';
	put(m, s, len);
	*m->p++ = '"';
}

#define KV_UINT(m, k, v) kv_uint(m, KEY(k), v)
#define KV_NAME(m, k, s) kv_name(m, KEY(k), s)
#define KV_STR(m, k, s) kv_str(m, KEY(k), s)

static void write_header(struct members *m, const struct sbx_audit_ctx *c,
			 const struct sbx_event_hdr *h)
{
	members_room(m, KEY_MAX + SBX_TIME_MAX + 2);
	put(m, KEY("time"));
	*m->p++ = '"';	/* digits, '-', ':', 'T', '.', 'Z': nothing to escape */
	m->p += format_time_into((int64_t)h->ts_ns + c->mono_to_real_ns, m->p);
	*m->p++ = '"';
	KV_UINT(m, "seq", h->seq);
	KV_STR(m, "sandbox", c->sandbox_id);
	if (c->container)
		KV_STR(m, "container", c->container);
	KV_STR(m, "profile", c->profile ? c->profile->name : NULL);
	KV_NAME(m, "event", sbx_event_name(h->type));
}

static void write_task(struct members *m, const struct sbx_event_hdr *h)
{
	char comm[17];

	memcpy(comm, h->comm, 16);
	comm[16] = 0;
	/* packet events (cgroup_skb) describe the sandbox, not a task */
	if (h->tgid) {
		KV_UINT(m, "pid", h->tgid);
		KV_UINT(m, "tid", h->pid);
		KV_STR(m, "comm", comm);
	}
	KV_UINT(m, "cgroup_id", h->cgroup_id);
}

/* "FILE:LINE:COL" as one string: the file escaped, then the numbers, which
 * (like ':') can never continue a UTF-8 sequence the file ends in, so the
 * escaping is that of the whole. */
static void write_rule_source(struct members *m, const struct sbx_srcpos *pos)
{
	size_t len = strlen(pos->file);

	if (!members_room(m, KEY_MAX + JSON_ESCAPED_MAX(len) + 22)) {
		json_key(m->w, "rule_source");
		json_stringf(m->w, "%s:%u:%u", pos->file, pos->line, pos->col);
		return;
	}
	put(m, KEY("rule_source"));
	m->p += json_escape_into(m->p, pos->file, len) - 1;	/* without its closing quote */
	*m->p++ = ':';
	put_u64(m, pos->line);
	*m->p++ = ':';
	put_u64(m, pos->col);
	*m->p++ = '"';
}

/* The policy entry that decided, with where it was written. */
static void write_rule(struct members *m, const struct sbx_audit_ctx *c, uint32_t rule,
		       uint32_t policy_id)
{
	const struct sbx_profile *p = c->profile;
	const struct sbx_net_entry *e;

	if (rule == SBX_RULE_NONE)
		return;
	if (policy_id != c->policy_id && c->profile_of) {
		/* decided by a policy that replaced the one the sandbox started with */
		p = c->profile_of(c->profile_data, policy_id);
		if (!p && rule < SBX_RULE_UNJUDGED) {
			KV_NAME(m, "rule", "updated");
			KV_UINT(m, "rule_index", rule);
			return;
		}
	}
	if (rule == SBX_RULE_UNJUDGED) {
		KV_NAME(m, "rule", "unjudged");
		return;
	}
	if (rule == SBX_RULE_DNS) {
		KV_NAME(m, "rule", "dns");	/* sent to the sandbox's resolver */
		return;
	}
	if (rule == SBX_RULE_DEFAULT || !p || rule >= p->net.n_entries) {
		KV_NAME(m, "rule", "default");
		if (p)
			KV_NAME(m, "mode", sbx_net_mode_name(p->net.mode));
		return;
	}
	e = &p->net.entries[rule];
	KV_STR(m, "rule", e->text);
	KV_UINT(m, "rule_index", rule);
	if (e->host)
		KV_STR(m, "rule_host", e->host);
	if (e->pos.file)
		write_rule_source(m, &e->pos);
}

static void write_net(struct members *m, const struct sbx_audit_ctx *c, const struct sbx_ev_net *e)
{
	char addr[INET6_ADDRSTRLEN] = "", pbuf[8];

	format_addr(e->family, e->addr, addr);
	KV_NAME(m, "verdict", sbx_verdict_name(e->verdict));
	write_task(m, &e->hdr);
	KV_NAME(m, "family", e->family == 4 ? "ipv4" : "ipv6");
	KV_NAME(m, "addr", addr);
	if (e->mapped) {
		members_room(m, KEY_MAX + 4);
		put(m, KEY("ipv4_mapped"));
		put(m, "true", 4);
	}
	if (e->form == SBX_ADDR_UNSPECIFIED)
		KV_NAME(m, "addr_form", "unspecified");
	else if (e->form == SBX_ADDR_V4COMPAT)
		KV_NAME(m, "addr_form", "ipv4_compatible");
	KV_UINT(m, "port", e->port);
	KV_NAME(m, "proto", proto_name(e->proto, pbuf, sizeof(pbuf)));
	if (e->hdr.type == SBX_EV_NET_BIND)
		KV_NAME(m, "rule", "listen");
	else
		write_rule(m, c, e->rule, e->policy_id);
}

/* The verdict and the task, the first members of a decision; the rest goes
 * through the writer. */
static void write_decision(struct members *m, const char *verdict, const struct sbx_event_hdr *h)
{
	KV_NAME(m, "verdict", verdict);
	write_task(m, h);
	members_flush(m);
}

/* An abstract name may hold any byte, NUL too: written by its length
 * (name_len), and the JSON writer escapes them. */
static void write_unix(struct members *m, const struct sbx_ev_unix *e)
{
	struct json_writer *w = m->w;
	char path[SBX_UNIX_PATH_LEN + 1];
	size_t len;

	memcpy(path, e->path, sizeof(e->path));
	path[sizeof(e->path)] = 0;
	/* name_len 0: an empty name, or programs loaded by an sbx from
	 * before name_len (then cut at a NUL, as it was) */
	len = e->abstract && e->name_len ? (e->name_len < sizeof(e->path) ? e->name_len : sizeof(e->path)) :
					   strlen(path);
	write_decision(m, sbx_verdict_name(e->verdict), &e->hdr);
	json_kv_string(w, "op", e->send ? "send" : "connect");
	json_key(w, e->abstract ? "abstract" : "path");
	json_string_len(w, path, len);
}

static void write_sock(struct members *m, const struct sbx_ev_sock *e)
{
	struct json_writer *w = m->w;
	static const char *const fams[] = { [AF_INET] = "inet", [AF_INET6] = "inet6", [AF_PACKET] = "packet" };
	const char *fam = e->family < sizeof(fams) / sizeof(fams[0]) ? fams[e->family] : NULL;

	if (!fam)
		fam = sbx_family_name(e->family);	/* vsock, netlink, ... */

	write_decision(m, sbx_verdict_name(e->verdict), &e->hdr);
	if (fam)
		json_kv_string(w, "family", fam);
	else
		json_kv_uint(w, "family", e->family);
	unsigned type = e->type & 0xf;	/* without SOCK_CLOEXEC | SOCK_NONBLOCK */

	json_kv_string(w, "type", type == 3 ? "raw" : type == 2 ? "dgram" : type == 1 ? "stream" : "other");
	json_kv_uint(w, "protocol", e->protocol);
}

/* A refused socket option: "level" and "option" by name where sbx refuses it. */
static void write_sockopt(struct members *m, const struct sbx_ev_sockopt *e)
{
	struct json_writer *w = m->w;
	const char *opt = NULL;

	if (e->level == 0 && e->optname == 4)
		opt = "IP_OPTIONS";
	else if (e->level == 41)
		opt = e->optname == 57 ? "IPV6_RTHDR" : e->optname == 6 ? "IPV6_2292PKTOPTIONS" : NULL;
	write_decision(m, sbx_verdict_name(e->verdict), &e->hdr);
	json_kv_string(w, "family", e->family == AF_INET ? "inet" : e->family == AF_INET6 ? "inet6" : "other");
	json_kv_string(w, "level", e->level == 0 ? "ip" : e->level == 41 ? "ipv6" : "other");
	json_kv_int(w, "level_nr", e->level);
	if (opt)
		json_kv_string(w, "option", opt);
	json_kv_int(w, "optname", e->optname);
}

/* The start event says how the sandbox is confined, degraded runs included
 * (every degraded run says so in its result and in its audit trail). */
static void write_start(struct json_writer *w, const struct sbx_audit_ctx *c)
{
	if (c->provider)
		json_kv_string(w, "provider", c->provider);
	if (c->profile)
		json_kv_string(w, "enforcement", sbx_enforcement_name(c->profile->enforcement));
	if (c->uid)
		json_kv_uint(w, "uid", c->uid);
	if (c->profile && c->profile->observe)
		json_kv_bool(w, "observe", true);	/* nothing was enforced */
	json_key(w, "degraded");
	json_begin_array(w);
	for (size_t i = 0; i < c->n_degraded; i++)
		json_string(w, c->degraded[i]);
	json_end_array(w);
}

static void write_life(struct json_writer *w, const struct sbx_audit_ctx *c,
		       const struct sbx_ev_life *e)
{
	json_kv_uint(w, "pid", e->workload_pid);
	if (e->hdr.type == SBX_EV_SANDBOX_START)
		write_start(w, c);
	if (e->hdr.type != SBX_EV_SANDBOX_EXIT)
		return;
	if (e->flags & SBX_LIFE_NO_STATUS)
		;	/* not known: the members are left out */
	else if (e->signal)
		json_kv_int(w, "signal", e->signal);
	else
		json_kv_int(w, "exit_code", e->exit_code);
	json_kv_bool(w, "timed_out", e->flags & 1);
	json_key(w, "suppressed");
	json_begin_object(w);
	json_kv_uint(w, "allow", e->suppressed_allow);
	json_kv_uint(w, "deny", e->suppressed_deny);
	json_end_object(w);
}

/* "N events suppressed" by the rate limits since the previous summary. */
static void write_suppressed(struct json_writer *w, const struct sbx_ev_suppressed *e)
{
	json_kv_uint(w, "pid", e->hdr.tgid);
	json_kv_uint(w, "suppressed", e->allow + e->deny);
	json_kv_uint(w, "allow", e->allow);
	json_kv_uint(w, "deny", e->deny);
	json_kv_uint(w, "allow_total", e->allow_total);
	json_kv_uint(w, "deny_total", e->deny_total);
}

static const char *const file_ops[] = {
	[SBX_FOP_OPEN] = "open", [SBX_FOP_EXEC] = "exec", [SBX_FOP_MMAP_EXEC] = "mmap_exec",
	[SBX_FOP_CREATE] = "create", [SBX_FOP_UNLINK] = "unlink", [SBX_FOP_RENAME] = "rename",
	[SBX_FOP_LINK] = "link", [SBX_FOP_SYMLINK] = "symlink", [SBX_FOP_MKNOD] = "mknod",
	[SBX_FOP_MKDIR] = "mkdir", [SBX_FOP_RMDIR] = "rmdir", [SBX_FOP_TRUNCATE] = "truncate",
	[SBX_FOP_CHMOD] = "chmod", [SBX_FOP_CHOWN] = "chown", [SBX_FOP_MOUNT] = "mount",
};

/* The fs rule that decided: its text and position, "base view", "exec guard"
 * (no rule: the guard of bpf/lib/fsaudit.h), or the mode. */
static void write_fs_rule(struct json_writer *w, const struct sbx_audit_ctx *c, uint32_t rule)
{
	const struct sbx_profile *p = c->profile;
	char acc[8];

	if (rule == SBX_RULE_NONE)
		return;
	if (rule == SBX_RULE_BASE) {
		json_kv_string(w, "rule", "base view");
	} else if (rule == SBX_RULE_EXEC_GUARD) {
		json_kv_string(w, "rule", "exec guard");
	} else if (p && rule < p->fs.n_rules) {
		const struct sbx_fs_rule *r = &p->fs.rules[rule];

		sbx_access_str(r->access, acc);
		json_key(w, "rule");
		json_stringf(w, "%s %s", r->path, acc);
		json_kv_uint(w, "rule_index", rule);
		json_key(w, "rule_source");
		json_stringf(w, "%s:%u:%u", r->pos.file, r->pos.line, r->pos.col);
	} else if (p && rule < p->fs.n_rules + p->fs.n_exec) {
		json_key(w, "rule");
		json_stringf(w, "exec %s", p->fs.exec[rule - p->fs.n_rules]);
		json_kv_uint(w, "rule_index", rule);
	} else {
		json_kv_string(w, "rule", "default");
		if (p)
			json_kv_string(w, "mode", sbx_fs_mode_name(p->fs.mode));
	}
}

static void write_file(struct members *m, const struct sbx_audit_ctx *c, const struct sbx_ev_file *e)
{
	struct json_writer *w = m->w;
	char path[SBX_MAX_PATH_LEN + 1], acc[8];
	uint32_t rule = e->rule;

	memcpy(path, e->path, SBX_MAX_PATH_LEN);
	path[SBX_MAX_PATH_LEN] = 0;
	sbx_access_str(e->access, acc);
	write_decision(m, sbx_verdict_name(e->verdict), &e->hdr);
	json_kv_string(w, "op", e->op < sizeof(file_ops) / sizeof(file_ops[0]) && file_ops[e->op] ?
				file_ops[e->op] : "other");
	json_kv_string(w, "path", path);
	json_kv_string(w, "access", e->access ? acc : "");
	json_kv_string(w, "backend", e->backend == SBX_FSB_BPF_LSM ? "bpf-lsm" : "landlock");
	json_kv_int(w, "errno", e->error);
	/* Landlock does not say which rule refused: compute it from the policy */
	if (rule == SBX_RULE_NONE && e->backend == SBX_FSB_LANDLOCK && c->fs && path[0] == '/')
		sbx_fsplan_decide(c->fs, path, e->access, &rule);
	write_fs_rule(w, c, rule);
}

static void write_disk(struct json_writer *w, const struct sbx_ev_disk *e)
{
	char mount[SBX_DISK_MOUNT_LEN];

	snprintf(mount, sizeof(mount), "%.*s", (int)sizeof(e->mount), e->mount);
	json_kv_uint(w, "pid", e->hdr.tgid);
	json_kv_string(w, "mount", mount);
	json_kv_uint(w, "used_bytes", e->used_bytes);
	json_kv_uint(w, "limit_bytes", e->limit_bytes);
	json_kv_uint(w, "inodes_used", e->inodes_used);
	json_kv_uint(w, "inodes_limit", e->inodes_limit);
}

static const char *const dns_reasons[] = {
	[SBX_DNS_REASON_NONE] = NULL, [SBX_DNS_REASON_DENY_RULE] = "deny_rule",
	[SBX_DNS_REASON_NO_ALLOW_RULE] = "no_allow_rule", [SBX_DNS_REASON_REBINDING] = "rebinding",
	[SBX_DNS_REASON_BAD_QUERY] = "bad_query", [SBX_DNS_REASON_UPSTREAM] = "upstream",
	[SBX_DNS_REASON_PIN_FAILED] = "pin_failed",
};

static const char *dns_rcode_name(uint8_t rc, char *buf, size_t len)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					     "NOTIMP", "REFUSED" };

	if (rc < sizeof(names) / sizeof(names[0]))
		return names[rc];
	snprintf(buf, len, "RCODE%u", rc);
	return buf;
}

static const char *dns_type_name(uint16_t t, char *buf, size_t len)
{
	switch (t) {
	case 1: return "A";
	case 2: return "NS";
	case 5: return "CNAME";
	case 6: return "SOA";
	case 12: return "PTR";
	case 15: return "MX";
	case 16: return "TXT";
	case 28: return "AAAA";
	case 33: return "SRV";
	case 64: return "SVCB";
	case 65: return "HTTPS";
	case 255: return "ANY";
	}
	snprintf(buf, len, "TYPE%u", t);
	return buf;
}

static const char *verdict_name(uint8_t v)
{
	return v == SBX_VERDICT_ALLOW ? "allow" : v == 3 ? "would_deny" : "deny";
}

/* dns.query and dns.denied: the name and what its answer held */
static void write_dns(struct members *m, const struct sbx_audit_ctx *c, const struct sbx_ev_dns *e)
{
	struct json_writer *w = m->w;
	char name[SBX_DNS_NAME_LEN + 1], buf[16], addr[INET6_ADDRSTRLEN];

	memcpy(name, e->name, sizeof(e->name));
	name[sizeof(e->name)] = 0;
	write_decision(m, verdict_name(e->verdict), &e->hdr);
	json_kv_string(w, "name", name);
	json_kv_string(w, "qtype", dns_type_name(e->qtype, buf, sizeof(buf)));
	json_kv_string(w, "proto", proto_name(e->proto, buf, sizeof(buf)));
	json_kv_string(w, "rcode", dns_rcode_name(e->rcode, buf, sizeof(buf)));
	if (e->reason < sizeof(dns_reasons) / sizeof(dns_reasons[0]) && dns_reasons[e->reason])
		json_kv_string(w, "reason", dns_reasons[e->reason]);
	write_rule(m, c, e->rule, c->policy_id);
	members_flush(m);
	json_key(w, "answers");
	json_begin_array(w);
	for (unsigned i = 0; i < e->n_addrs && i < SBX_DNS_EV_ADDRS; i++) {
		format_addr(e->addrs[i].family, e->addrs[i].addr, addr);
		json_string(w, addr);
	}
	json_end_array(w);
	if (e->more_addrs)
		json_kv_bool(w, "answers_truncated", true);
	if (e->pin_s)
		json_kv_uint(w, "pin_s", e->pin_s);
}

static void write_dns_resolver(struct members *m, const struct sbx_ev_dns_resolver *e)
{
	struct json_writer *w = m->w;
	static const char *const states[] = { NULL, "started", "died", "restarted", "gave_up" };

	write_decision(m, verdict_name(e->verdict), &e->hdr);
	json_kv_string(w, "state", e->state < 5 && states[e->state] ? states[e->state] : "unknown");
	json_kv_uint(w, "resolver_pid", e->pid);
	if (e->state == SBX_DNSS_DIED || e->state == SBX_DNSS_GAVE_UP) {
		if (WIFSIGNALED(e->status))
			json_kv_int(w, "signal", WTERMSIG(e->status));
		else
			json_kv_int(w, "exit_code", WEXITSTATUS(e->status));
		json_kv_uint(w, "pins_flushed", e->pins_flushed);
	}
	json_kv_uint(w, "restarts", e->restarts);
}

int sbx_audit_event_json(struct json_writer *w, const struct sbx_audit_ctx *c,
			 const void *data, size_t size)
{
	const struct sbx_event_hdr *h = data;
	struct members m;

	if (size < sizeof(*h) || h->type >= N_EVENTS || !event_names[h->type] ||
	    size < event_sizes[h->type] || h->size > size)
		return -EINVAL;
	members_init(&m, w);
	json_begin_object(w);
	write_header(&m, c, h);
	switch (h->type) {
	case SBX_EV_SANDBOX_START:
	case SBX_EV_SANDBOX_EXIT:
		members_flush(&m);
		write_life(w, c, data);
		break;
	case SBX_EV_AUDIT_SUPPRESSED:
		members_flush(&m);
		write_suppressed(w, data);
		break;
	case SBX_EV_LIMIT_DISK:
		members_flush(&m);
		write_disk(w, data);
		break;
	case SBX_EV_DNS_QUERY:
	case SBX_EV_DNS_DENIED:
		write_dns(&m, c, data);
		break;
	case SBX_EV_DNS_RESOLVER:
		write_dns_resolver(&m, data);
		break;
	case SBX_EV_SOCK_CREATE:
		write_sock(&m, data);
		break;
	case SBX_EV_NET_SOCKOPT:
		write_sockopt(&m, data);
		break;
	case SBX_EV_NET_UNIX:
		write_unix(&m, data);
		break;
	case SBX_EV_FILE:
		write_file(&m, c, data);
		break;
	case SBX_EV_SYSCALL_DENIED: {
		const struct sbx_ev_syscall *sc = data;
		const char *name = sbx_syscall_name(sc->nr);

		write_decision(&m, sbx_verdict_name(sc->verdict), h);
		if (name)
			json_kv_string(w, "syscall", name);
		json_kv_uint(w, "nr", sc->nr);
		json_kv_int(w, "errno", -(int64_t)sc->ret);
		json_key(w, "args");
		json_begin_array(w);
		for (int i = 0; i < 3; i++)
			json_uint(w, sc->args[i]);
		json_end_array(w);
		break;
	}
	case SBX_EV_NET_QUOTA: {
		const struct sbx_ev_quota *q = data;

		write_decision(&m, "deny", h);
		json_kv_uint(w, "bytes", q->bytes);
		json_kv_uint(w, "quota", q->quota);
		break;
	}
	default:
		write_net(&m, c, data);
		members_flush(&m);
	}
	return json_end_object(w);
}
