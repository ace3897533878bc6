/* SPDX-License-Identifier: MIT */
/*
 * The fast audit formatter (a json_writer over a json_buf, hand-formatted
 * integers and times, docs/performance.md section 4) writes what the
 * stdio formatter before it wrote, byte for byte: docs/audit.md is an ABI.
 *
 * Proof, not assumption: tests/fixtures/audit/old-format-head.jsonl and
 * the OLD_* figures below were made by the old formatter (the FILE*
 * json_writer, snprintf integers, gmtime_r and strftime per event; commit
 * a598709) from the events that gen_event() below makes from a fixed seed:
 * the first lines as text (a failure shows the first line that differs)
 * and all of them as a length and an FNV-1a hash. To make them again from
 * an old tree, build this file with -DGOLDEN_GEN, link it with that tree's
 * core objects and run it: it prints every line on stdout.
 *
 * Beside that, the pieces against their plain-libc oracles: every byte and
 * many random strings through the escaper, integer edges against printf,
 * times against gmtime_r + strftime across second, day, year and epoch
 * boundaries, in orders that defeat the per-second cache.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <time.h>

#include "testutil.h"
#include "core/audit.h"
#include "sbx_abi.h"

#define N_EVENTS	60000
#define N_HEAD		300	/* lines kept as text in the fixture */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: the same sequence on every machine */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static unsigned rnd_below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* Text as hostile as a workload can make it: ASCII, every escaped byte,
 * valid UTF-8 (2, 3, 4 bytes, U+2028/9) and each kind of invalid byte. */
static void rnd_text(char *dst, size_t cap)
{
	static const char *const pieces[] = {
		"a", "Z", "0", "/", ".", "-", "_", " ", "~", "\"", "\\", "\b", "\f", "\n", "\r", "\t",
		"\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xe2\x80\xa8",
		"\xe2\x80\xa9", "\x80", "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82",
		"\xf0\x9f", "\xc2", "usr/lib/", "example.org", "%s", "{}", "\xef\xbb\xbf",
	};
	size_t n = 0, want = rnd_below(4) ? rnd_below(24) : rnd_below((unsigned)cap);

	while (n < want) {
		const char *p = pieces[rnd_below(sizeof(pieces) / sizeof(pieces[0]))];
		size_t l = strlen(p);

		if (n + l >= cap)
			break;
		memcpy(dst + n, p, l);
		n += l;
	}
	memset(dst + n, 0, cap - n);
}

static uint32_t rnd_rule(uint32_t n_rules)
{
	static const uint32_t special[] = { SBX_RULE_DEFAULT, SBX_RULE_NONE, SBX_RULE_BASE,
					    SBX_RULE_EXEC_GUARD, SBX_RULE_UNJUDGED, SBX_RULE_DNS };

	switch (rnd_below(4)) {
	case 0: return special[rnd_below(6)];
	case 1: return (uint32_t)rnd();
	default: return rnd_below(n_rules + 2);
	}
}

static uint64_t rnd_int(void)
{
	/* every magnitude: 0, small, powers of ten around the edges, all bits */
	static const uint64_t edges[] = { 0, 1, 9, 10, 99, 100, 999999999, 1000000000,
					  4294967295ull, 4294967296ull, 9223372036854775807ull,
					  9223372036854775808ull, 18446744073709551615ull };

	uint64_t v;

	switch (rnd_below(4)) {
	case 0: return edges[rnd_below(sizeof(edges) / sizeof(edges[0]))];
	case 1:
		v = rnd();	/* one call per statement: the order is the C standard's */
		return v >> rnd_below(64);
	default: return rnd_below(100000);
	}
}

/* Two profiles: the one the sandbox started with, and what a live update
 * put in its place (policy id 2). */
static struct sbx_net_entry net1[3] = {
	{ .text = (char *)"192.0.2.0/24:443/tcp", .pos = { "/etc/sbx/a.toml", 12, 9 } },
	{ .text = (char *)"api.example.org:443/tcp", .host = (char *)"api.example.org",
	  .pos = { "/etc/sbx/a.toml", 13, 9 } },
	{ .text = (char *)"10.0.0.1", .pos = { NULL, 0, 0 } },
};
static struct sbx_net_entry net2[1] = {
	{ .text = (char *)"private:53/udp", .pos = { "b.toml", 2, 11 } },
};
static struct sbx_fs_rule fs1[2] = {
	{ .path = (char *)"/usr/", .access = SBX_ACC_R | SBX_ACC_X, .pos = { "/etc/sbx/a.toml", 20, 3 } },
	{ .path = (char *)"/tmp/x \"q\"", .access = SBX_ACC_W, .pos = { "/etc/sbx/a.toml", 21, 3 } },
};
static char *fs_exec[1] = { (char *)"/usr/bin/curl" };
static struct sbx_profile prof1 = { .name = (char *)"web", .enforcement = SBX_ENFORCE_STRICT };
static struct sbx_profile prof2 = { .name = (char *)"web2" };
static char *degraded[2] = { (char *)"landlock: abi 1", (char *)"net \"x\"\n" };

static const struct sbx_profile *profile_of(void *data, uint32_t policy_id)
{
	(void)data;
	return policy_id == 2 ? &prof2 : NULL;
}

static void setup_profiles(void)
{
	prof1.net.entries = net1;
	prof1.net.n_entries = 3;
	prof1.net.mode = SBX_NET_ALLOW;
	prof1.fs.rules = fs1;
	prof1.fs.n_rules = 2;
	prof1.fs.exec = fs_exec;
	prof1.fs.n_exec = 1;
	prof2.net.entries = net2;
	prof2.net.n_entries = 1;
	prof2.observe = true;
}

/* The contexts events are formatted in, picked per event. */
static void make_ctx(struct sbx_audit_ctx c[3])
{
	memset(c, 0, 3 * sizeof(*c));
	c[0] = (struct sbx_audit_ctx){ .sandbox_id = "sbx-1a2b3c4d", .profile = &prof1,
				       .mono_to_real_ns = 1700000000ll * 1000000000ll + 123,
				       .provider = "process", .degraded = degraded, .n_degraded = 2,
				       .uid = 61234, .policy_id = 1, .profile_of = profile_of };
	c[1] = (struct sbx_audit_ctx){ .sandbox_id = "sbx-\"odd\"", .profile = &prof2,
				       .mono_to_real_ns = -5000000000ll, .policy_id = 2 };
	c[2] = (struct sbx_audit_ctx){ .sandbox_id = "sbx-00000003", .profile = NULL,
				       .mono_to_real_ns = 0 };
}

/* The fixed sequence starts here: seed, profiles, contexts, clock. */
static void start_sequence(struct sbx_audit_ctx ctxs[3], uint64_t *ts)
{
	rng_state = 0x5bd1e995u;
	setup_profiles();
	make_ctx(ctxs);
	*ts = 1500000000ull;
}

union event {
	struct sbx_event_hdr hdr;
	struct sbx_ev_net net;
	struct sbx_ev_file file;
	struct sbx_ev_dns dns;
	struct sbx_ev_unix un;
	struct sbx_ev_disk disk;
	struct sbx_ev_syscall sc;
	struct sbx_ev_life life;
	char bytes[1024];
};

/* Times: mostly a clock that ticks forward (across second boundaries every
 * few events), sometimes back, sometimes anywhere in 1970..2116. */
static uint64_t next_ts(uint64_t ts)
{
	switch (rnd_below(8)) {
	case 0: return rnd() >> 3;
	case 1: return ts > 2000000000ull ? ts - rnd_below(2000000000u) : ts;
	case 2: return (ts / 1000000000ull + 1) * 1000000000ull - rnd_below(2);
	default: return ts + rnd_below(400000000u);
	}
}

/* Event i of the fixed sequence, formatted with *ret_ctx. */
static size_t gen_event(union event *ev, uint64_t *ts, struct sbx_audit_ctx *ctxs,
			const struct sbx_audit_ctx **ret_ctx)
{
	static const uint16_t types[] = {
		SBX_EV_SANDBOX_START, SBX_EV_SANDBOX_EXIT, SBX_EV_NET_CONNECT, SBX_EV_NET_SEND,
		SBX_EV_NET_BIND, SBX_EV_SOCK_CREATE, SBX_EV_NET_QUOTA, SBX_EV_NET_PACKET,
		SBX_EV_SYSCALL_DENIED, SBX_EV_FILE, SBX_EV_NET_SOCKOPT, SBX_EV_NET_UNIX,
		SBX_EV_AUDIT_SUPPRESSED, SBX_EV_LIMIT_DISK, SBX_EV_DNS_QUERY, SBX_EV_DNS_DENIED,
		SBX_EV_DNS_RESOLVER, SBX_EV_NET_CONNECT, SBX_EV_NET_SEND, SBX_EV_FILE,
	};
	struct sbx_event_hdr *h = &ev->hdr;
	uint16_t type = types[rnd_below(sizeof(types) / sizeof(types[0]))];

	for (size_t i = 0; i < sizeof(ev->bytes); i += 8) {
		uint64_t v = rnd_int();

		memcpy(ev->bytes + i, &v, 8);
	}
	*ts = next_ts(*ts);
	h->type = type;
	h->size = (uint16_t)rnd_below(sizeof(ev->bytes) + 1);
	h->ts_ns = *ts;
	h->seq = rnd_int();
	h->pid = (uint32_t)rnd_int();
	h->tgid = rnd_below(5) ? (uint32_t)rnd_int() : 0;
	h->cgroup_id = rnd_int();
	rnd_text((char *)h->comm, sizeof(h->comm));
	memcpy(h->comm, ev->bytes + 600, rnd_below(3) ? 0 : 16);	/* no NUL at all */
	switch (type) {
	case SBX_EV_FILE:
		ev->file.rule = rnd_rule(3);
		ev->file.backend = (uint8_t)rnd_below(3);
		ev->file.op = (uint16_t)rnd_below(18);
		ev->file.error = (int32_t)rnd_int();
		rnd_text(ev->file.path, sizeof(ev->file.path));
		break;
	case SBX_EV_DNS_QUERY:
	case SBX_EV_DNS_DENIED:
		ev->dns.rule = rnd_rule(3);
		ev->dns.qtype = rnd_below(3) ? (uint16_t)rnd_below(70) : (uint16_t)rnd();
		ev->dns.rcode = (uint8_t)rnd_below(8);
		ev->dns.reason = (uint8_t)rnd_below(9);
		ev->dns.n_addrs = (uint8_t)rnd_below(11);
		for (unsigned i = 0; i < SBX_DNS_EV_ADDRS; i++)
			ev->dns.addrs[i].family = rnd_below(2) ? 4 : 6;
		rnd_text(ev->dns.name, sizeof(ev->dns.name));
		break;
	case SBX_EV_NET_UNIX:
		rnd_text(ev->un.path, sizeof(ev->un.path));
		/* as the BPF side sets it; the old formatter cut at the NUL */
		ev->un.name_len = (uint8_t)strnlen(ev->un.path, sizeof(ev->un.path));
		break;
	case SBX_EV_SYSCALL_DENIED:
		ev->sc.nr = rnd_below(4) ? rnd_below(460) : (uint32_t)rnd();
		ev->sc.ret = -(int32_t)rnd_below(4096);	/* -errno, as the kernel has it */
		break;
	case SBX_EV_SANDBOX_EXIT:
		/* the old formatter knew no SBX_LIFE_NO_STATUS (sbx-oci's), which
		 * leaves exit_code and signal out: the sequence's events lack it */
		ev->life.flags &= ~(uint32_t)SBX_LIFE_NO_STATUS;
		break;
	case SBX_EV_LIMIT_DISK:
	case SBX_EV_SANDBOX_START:
	case SBX_EV_AUDIT_SUPPRESSED:
	case SBX_EV_DNS_RESOLVER:
	case SBX_EV_SOCK_CREATE:
	case SBX_EV_NET_SOCKOPT:
	case SBX_EV_NET_QUOTA:
		break;
	default:
		ev->net.family = rnd_below(2) ? 4 : 6;
		ev->net.proto = (uint8_t)(rnd_below(2) ? rnd_below(60) : rnd());
		ev->net.form = (uint8_t)rnd_below(4);
		ev->net.rule = rnd_rule(3);
		ev->net.policy_id = 1 + rnd_below(3);
	}
	*ret_ctx = &ctxs[rnd_below(3)];
	return sizeof(ev->bytes);
}

#ifdef GOLDEN_GEN
/* The fixture's maker: every line through the formatter of the tree this is
 * built against, on stdout. */
int main(void)
{
	struct sbx_audit_ctx ctxs[3];
	union event ev;
	uint64_t ts;

	start_sequence(ctxs, &ts);
	for (unsigned i = 0; i < N_EVENTS; i++) {
		const struct sbx_audit_ctx *c;
		size_t size = gen_event(&ev, &ts, ctxs, &c);
		struct json_writer w;

		json_init(&w, stdout, false);
		if (sbx_audit_event_json(&w, c, &ev, size) < 0)
			return 1;
	}
	return fflush(stdout) ? 1 : 0;
}
#endif

#ifndef GOLDEN_GEN
/* ---- whole events ----------------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

#define FNV_BASIS 0xcbf29ce484222325ull

/* All N_EVENTS lines of the old formatter: their length and FNV-1a hash. */
#define OLD_BYTES	17435926ull
#define OLD_FNV		0x26929e3a59850077ull


static char *read_fixture(const char *rel, size_t *ret_len)
{
	char path[4096], *buf = NULL;
	size_t cap = 0;
	FILE *f = fopen(test_srcpath(path, sizeof(path), rel), "re");
	ssize_t n;

	assert_non_null(f);
	n = getdelim(&buf, &cap, '\0', f);	/* the whole file: it holds no NUL */
	assert_true(n > 0);
	fclose(f);
	*ret_len = (size_t)n;
	return buf;
}

/* The first line where got and want differ, printed, as a failure. */
static void assert_same_lines(const char *got, size_t got_len, const char *want, size_t want_len)
{
	size_t i = 0, line = 1, start = 0;

	while (i < got_len && i < want_len && got[i] == want[i]) {
		if (got[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	if (i == got_len && i == want_len)
		return;
	print_error("line %zu differs at column %zu:\n new: %.300s\n old: %.300s\n", line, i - start + 1,
		    got + start, want + start);
	fail();
}

/* As core/run.c does it: the lines of a drain appended to one buffer, which
 * is handed on (here: hashed) and emptied when it passes 64 KiB. */
static void test_events_match_the_old_formatter_byte_for_byte(void **state)
{
	struct sbx_audit_ctx ctxs[3];
	struct json_buf b = { 0 };
	union event ev;
	uint64_t ts, hash = FNV_BASIS, bytes = 0;
	size_t head_len = 0, want_len;
	char *head = NULL, *want = read_fixture("tests/fixtures/audit/old-format-head.jsonl", &want_len);

	start_sequence(ctxs, &ts);
	for (unsigned i = 0; i < N_EVENTS; i++) {
		const struct sbx_audit_ctx *c;
		size_t size = gen_event(&ev, &ts, ctxs, &c);
		struct json_writer w;

		json_init_buf(&w, &b, false);
		assert_int_equal(sbx_audit_event_json(&w, c, &ev, size), 0);
		assert_int_equal(json_finish(&w), 0);
		if (i == N_HEAD - 1) {
			head = malloc(b.len);
			assert_non_null(head);
			memcpy(head, b.data, b.len);
			head_len = b.len;
		}
		if ((b.len >= 65536 && i >= N_HEAD) || i == N_EVENTS - 1) {
			hash = fnv1a(hash, b.data, b.len);
			bytes += b.len;
			json_buf_clear(&b);
		}
	}
	assert_non_null(head);
	assert_same_lines(head, head_len, want, want_len);
	assert_int_equal(bytes, OLD_BYTES);
	assert_int_equal(hash, OLD_FNV);
	free(head);
	free(want);
	json_buf_free(&b);
}

/* The stdio writer (sbx audit, sbxd, the CLI) writes the same bytes. */
static void test_file_writer_matches_the_buffer_writer(void **state)
{
	struct sbx_audit_ctx ctxs[3];
	struct json_buf b = { 0 };
	union event ev;
	uint64_t ts;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	start_sequence(ctxs, &ts);
	for (unsigned i = 0; i < 5000; i++) {
		const struct sbx_audit_ctx *c;
		size_t size = gen_event(&ev, &ts, ctxs, &c);
		struct json_writer w, fw;

		json_init_buf(&w, &b, false);
		json_init(&fw, f, false);
		assert_int_equal(sbx_audit_event_json(&w, c, &ev, size), 0);
		assert_int_equal(sbx_audit_event_json(&fw, c, &ev, size), 0);
		assert_int_equal(json_finish(&fw), 0);
	}
	fclose(f);
	assert_same_lines(b.data, b.len, text, len);
	free(text);
	json_buf_free(&b);
}

/* ---- strings -------------------------------------------------------------------- */

/* The old escaper, restated plainly as the oracle: per UTF-8 sequence, the
 * short escapes, \u00XX for other controls and DEL, \u2028/\u2029, U+FFFD
 * per byte that begins no valid sequence. */
static size_t ref_escape(const unsigned char *s, size_t len, char *out)
{
	size_t o = 0;

	out[o++] = '"';
	for (size_t i = 0; i < len;) {
		size_t n = json_utf8_len(s + i, len - i);
		unsigned char c = s[i];

		if (n == 0) {
			o += (size_t)sprintf(out + o, "\xef\xbf\xbd");
			i++;
			continue;
		}
		if (n == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
			o += (size_t)sprintf(out + o, "\\u%04x", s[i + 2] == 0xa8 ? 0x2028 : 0x2029);
		else if (n > 1)
			o += (size_t)sprintf(out + o, "%.*s", (int)n, (const char *)s + i);
		else if (c == '"' || c == '\\')
			o += (size_t)sprintf(out + o, "\\%c", c);
		else if (c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
			o += (size_t)sprintf(out + o, "\\%c", c == '\b' ? 'b' : c == '\f' ? 'f' :
							     c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)sprintf(out + o, "\\u%04x", c);
		else
			out[o++] = (char)c;
		i += n;
	}
	out[o++] = '"';
	out[o++] = '\n';
	out[o] = 0;
	return o;
}

static void check_escape(struct json_buf *b, const unsigned char *s, size_t len)
{
	char want[4096];
	size_t n = ref_escape(s, len, want);
	struct json_writer w;

	json_buf_clear(b);
	json_init_buf(&w, b, false);
	assert_int_equal(json_string_len(&w, (const char *)s, len), 0);
	if (b->len != n || memcmp(b->data, want, n)) {
		print_error("escaping %zu bytes (first 0x%02x): got %.*s want %s", len, len ? s[0] : 0,
			    (int)b->len, b->data, want);
		fail();
	}
}

/* Every byte alone and between plain text, every pair of bytes, and every
 * three-byte sequence that begins with 0xe2 (U+2028, U+2029, their
 * neighbours and the cut ones). */
static void test_every_byte_escapes_as_before(void **state)
{
	struct json_buf b = { 0 };
	unsigned char s[8];

	for (unsigned c = 0; c < 256; c++) {
		s[0] = (unsigned char)c;
		check_escape(&b, s, 1);
		memcpy(s, "ab", 2);
		s[2] = (unsigned char)c;
		memcpy(s + 3, "cd", 2);
		check_escape(&b, s, 5);
		for (unsigned d = 0; d < 256; d++) {
			s[0] = (unsigned char)c;
			s[1] = (unsigned char)d;
			check_escape(&b, s, 2);
		}
	}
	for (unsigned c = 0; c < 256; c++)
		for (unsigned d = 0; d < 256; d++) {
			s[0] = 0xe2;
			s[1] = (unsigned char)c;
			s[2] = (unsigned char)d;
			check_escape(&b, s, 3);
		}
	json_buf_free(&b);
}

/* Strings of the workload's kind (rnd_text) and of raw random bytes. */
static void test_random_strings_escape_as_before(void **state)
{
	struct json_buf b = { 0 };
	char s[512];

	rng_state = 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < 50000; i++) {
		size_t len;

		if (i % 2) {
			rnd_text(s, sizeof(s));
			len = strlen(s);
		} else {
			len = rnd_below(64);
			for (size_t k = 0; k < len; k++)
				s[k] = (char)rnd();
		}
		check_escape(&b, (const unsigned char *)s, len);
	}
	json_buf_free(&b);
}

/* ---- integers ------------------------------------------------------------------- */

static void check_ints(struct json_buf *b, uint64_t v)
{
	char want[64];
	struct json_writer w;
	int n;

	json_buf_clear(b);
	json_init_buf(&w, b, false);
	assert_int_equal(json_uint(&w, v), 0);
	assert_int_equal(json_int(&w, (int64_t)v), 0);
	n = snprintf(want, sizeof(want), "%llu\n%lld\n", (unsigned long long)v, (long long)(int64_t)v);
	assert_int_equal(b->len, (size_t)n);
	assert_memory_equal(b->data, want, (size_t)n);
}

/* Around every power of ten, both ends of both types, every bit alone and
 * random values of every length: what printf writes. */
static void test_integers_print_as_printf(void **state)
{
	struct json_buf b = { 0 };
	uint64_t p = 1;

	for (int k = 0; k < 20; k++, p *= 10)
		for (int d = -2; d <= 2; d++) {
			check_ints(&b, p + (uint64_t)(int64_t)d);
			check_ints(&b, 0 - (p + (uint64_t)(int64_t)d));
		}
	for (int bit = 0; bit < 64; bit++) {
		check_ints(&b, 1ull << bit);
		check_ints(&b, (1ull << bit) - 1);
		check_ints(&b, 0 - (1ull << bit));
	}
	check_ints(&b, (uint64_t)INT64_MIN);
	check_ints(&b, (uint64_t)INT64_MAX);
	check_ints(&b, UINT64_MAX);
	check_ints(&b, 0);
	rng_state = 42;
	for (int i = 0; i < 200000; i++) {
		uint64_t v = rnd();

		check_ints(&b, v >> rnd_below(64));
	}
	json_buf_free(&b);
}

/* ---- times ---------------------------------------------------------------------- */

static void ref_time(int64_t real_ns, char *buf, size_t len)
{
	time_t sec = (time_t)(real_ns / 1000000000ll);
	long ns = (long)(real_ns % 1000000000ll);
	struct tm tm;
	char base[32];

	if (ns < 0) {
		ns += 1000000000l;
		sec--;
	}
	gmtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09ldZ", base, ns);
}

static void check_time(int64_t t)
{
	char got[64], want[64];

	memset(got, 'x', sizeof(got));
	sbx_format_time(t, got, sizeof(got));
	ref_time(t, want, sizeof(want));
	if (strcmp(got, want)) {
		print_error("time %" PRId64 ": got %s want %s\n", t, got, want);
		fail();
	}
}

/* Seconds where the calendar turns (epoch, leap days, years, 2038, the far
 * ends of int64 nanoseconds), each approached from both sides; then visited
 * alternately and at random, so that the per-second cache is both hit and
 * missed, and a stale entry would show. */
static void test_time_matches_gmtime_across_boundaries(void **state)
{
	static const int64_t secs[] = { 0, -1, 1, 59, 60, 86399, 86400, 951782399, 951782400,
					 951868800, 946684799, 946684800, 1700000000, 2147483647,
					 2147483648ll, 4102444799ll, 4102444800ll, -86400, -2208988800ll,
					 9223372035ll, -9223372036ll };
	static const int64_t nss[] = { 0, 1, 9, 10, 999999, 1000000, 123456789, 999999998, 999999999 };
	const size_t n_secs = sizeof(secs) / sizeof(secs[0]), n_nss = sizeof(nss) / sizeof(nss[0]);

	for (size_t i = 0; i < n_secs; i++)
		for (size_t k = 0; k < n_nss; k++) {
			int64_t t = secs[i] * 1000000000ll;

			if (secs[i] >= 0 ? t <= INT64_MAX - nss[k] : t >= INT64_MIN + nss[k]) {
				check_time(t + nss[k]);
				check_time(t - nss[k]);
			}
		}
	for (size_t i = 0; i + 1 < n_secs; i++)
		for (int k = 0; k < 4; k++) {
			check_time(secs[i] * 1000000000ll + 5);
			check_time(secs[i + 1] * 1000000000ll + 7);
		}
	check_time(INT64_MAX);
	check_time(INT64_MIN);
	rng_state = 7;
	for (int i = 0; i < 100000; i++) {
		static int64_t t = 1700000000ll * 1000000000ll;

		t += rnd_below(3) ? (int64_t)rnd_below(300000000) : -(int64_t)rnd_below(2000000000);
		check_time(t);
		if (i % 97 == 0)
			check_time((int64_t)rnd());
	}
}

/* A short buffer gets what snprintf would put in it. */
static void test_time_in_short_buffers_is_cut_as_snprintf(void **state)
{
	for (size_t len = 0; len <= 33; len++) {
		char got[40], want[40];

		memset(got, 'x', sizeof(got));
		memset(want, 'x', sizeof(want));
		sbx_format_time(1700000000123456789ll, got, len);
		ref_time(1700000000123456789ll, want, len);
		assert_memory_equal(got, want, sizeof(got));
	}
}

/* ---- values longer than the formatter's buffer ------------------------------------ */

/* line with its first `from` replaced by `to` (malloc'ed) */
static char *replace_once(const char *line, const char *from, const char *to)
{
	const char *at = strstr(line, from);
	size_t fl = strlen(from), tl = strlen(to), n = strlen(line);
	char *out = malloc(n - fl + tl + 1);

	assert_non_null(at);
	assert_non_null(out);
	memcpy(out, line, (size_t)(at - line));
	memcpy(out + (at - line), to, tl);
	memcpy(out + (at - line) + tl, at + fl, n - (size_t)(at - line) - fl + 1);
	return out;
}

/* text of len bytes that escapes to up to six times its length */
static char *long_text(size_t len, unsigned seed)
{
	static const char pieces[] = "a\"\x01/\\\xc3\xa9\t~";
	char *t = malloc(len + 1);

	assert_non_null(t);
	for (size_t i = 0; i < len; i++)
		t[i] = pieces[(i * 7 + seed) % (sizeof(pieces) - 1)];
	if (len && ((unsigned char)t[len - 1] == 0xc3))
		t[len - 1] = 'z';	/* no cut sequence at the end: (tested elsewhere) */
	t[len] = 0;
	return t;
}

/* The escaped form of s as ref_escape writes it, quoted, without its newline. */
static char *ref_quoted(const char *s)
{
	size_t len = strlen(s);
	char *out = malloc(6 * len + 4);

	assert_non_null(out);
	out[ref_escape((const unsigned char *)s, len, out) - 1] = 0;
	return out;
}

static char *format_line(const struct sbx_audit_ctx *c, const void *ev)
{
	struct json_buf b = { 0 };
	struct json_writer w;
	char *line;

	json_init_buf(&w, &b, false);
	assert_int_equal(sbx_audit_event_json(&w, c, ev, ((const struct sbx_event_hdr *)ev)->size), 0);
	line = strndup(b.data, b.len);
	assert_non_null(line);
	json_buf_free(&b);
	return line;
}

/* A sandbox name, profile name, rule text, host or source file too long for
 * the formatter's own buffer goes through the writer, whole: the line is
 * the one with short values, each long value where its short one was. */
static void test_long_values_are_written_whole(void **state)
{
	static const size_t lens[] = { 0, 1, 100, 160, 170, 300, 1000, 1021, 1024, 1030, 5000 };
	struct sbx_ev_net ev = { .hdr = { .type = SBX_EV_NET_CONNECT, .size = sizeof(ev), .seq = 9,
					  .ts_ns = 1500000000ull, .pid = 7, .tgid = 7, .cgroup_id = 5,
					  .comm = "curl" },
				 .verdict = SBX_VERDICT_DENY, .family = 4, .proto = 6, .port = 443,
				 .rule = 0, .policy_id = 1, .addr = { 192, 0, 2, 7 } };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char *v[5], *q[5], *line, *want, *next;
		static const char *const shorts[5] = { "S1x", "P2x", "T3x", "H4x", "F5x" };
		struct sbx_net_entry e;
		struct sbx_profile p = { 0 };
		struct sbx_audit_ctx c = { .policy_id = 1 };

		for (int k = 0; k < 5; k++) {
			v[k] = long_text(lens[i], (unsigned)k);
			q[k] = ref_quoted(v[k]);
		}
		/* the short line first */
		e = (struct sbx_net_entry){ .text = (char *)shorts[2], .host = (char *)shorts[3],
					    .pos = { shorts[4], 12, 9 } };
		p.name = (char *)shorts[1];
		p.net.entries = &e;
		p.net.n_entries = 1;
		c.sandbox_id = shorts[0];
		c.profile = &p;
		want = format_line(&c, &ev);
		for (int k = 0; k < 4; k++) {
			char from[8];

			snprintf(from, sizeof(from), "\"%s\"", shorts[k]);
			next = replace_once(want, from, q[k]);
			free(want);
			want = next;
		}
		q[4][strlen(q[4]) - 1] = 0;	/* "file" + :12:9" */
		next = replace_once(want, "\"F5x", q[4]);
		free(want);
		want = next;
		/* the long one */
		e = (struct sbx_net_entry){ .text = v[2], .host = v[3], .pos = { v[4], 12, 9 } };
		p.name = v[1];
		c.sandbox_id = v[0];
		line = format_line(&c, &ev);
		assert_same_lines(line, strlen(line), want, strlen(want));
		free(line);
		free(want);
		for (int k = 0; k < 5; k++) {
			free(v[k]);
			free(q[k]);
		}
	}
}

/* sbx-oci: "container" after "sandbox" in every line of a container's
 * sandbox; a sandbox.exit whose status is not known has neither exit_code
 * nor signal (docs/audit.md). */
static void test_container_member_and_unknown_status(void **state)
{
	struct sbx_profile p = { .name = (char *)"t" };
	struct sbx_audit_ctx c = { .sandbox_id = "sbx-1", .profile = &p, .container = "c\"1" };
	struct sbx_ev_life ev = { .hdr = { .type = SBX_EV_SANDBOX_EXIT, .size = sizeof(ev), .seq = 2,
					   .pid = 7, .tgid = 7 },
				  .workload_pid = 7, .exit_code = 3 };
	char *line;

	(void)state;
	line = format_line(&c, &ev);
	assert_non_null(strstr(line, "\"sandbox\":\"sbx-1\",\"container\":\"c\\\"1\",\"profile\":\"t\""));
	assert_non_null(strstr(line, "\"exit_code\":3,"));
	free(line);
	ev.flags = SBX_LIFE_NO_STATUS;
	line = format_line(&c, &ev);
	assert_null(strstr(line, "exit_code"));
	assert_null(strstr(line, "\"signal\""));
	assert_non_null(strstr(line, "\"timed_out\":false"));
	free(line);
	c.container = NULL;
	line = format_line(&c, &ev);
	assert_null(strstr(line, "container"));
	free(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_match_the_old_formatter_byte_for_byte),
		cmocka_unit_test(test_container_member_and_unknown_status),
		cmocka_unit_test(test_file_writer_matches_the_buffer_writer),
		cmocka_unit_test(test_long_values_are_written_whole),
		cmocka_unit_test(test_every_byte_escapes_as_before),
		cmocka_unit_test(test_random_strings_escape_as_before),
		cmocka_unit_test(test_integers_print_as_printf),
		cmocka_unit_test(test_time_matches_gmtime_across_boundaries),
		cmocka_unit_test(test_time_in_short_buffers_is_cut_as_snprintf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
