/* SPDX-License-Identifier: MIT */
/*
 * The resolver engine (resolver.h): one epoll loop over the listening
 * sockets, one connected UDP socket per upstream, one TCP connection per
 * TCP query in flight upstream, and the TCP clients. Every fd is
 * non-blocking; a query's state lives in one slot of e->qs until it is
 * answered, refused or timed out.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "dns/resolver.h"
#include "netgroup.h"
#include "util/util.h"

#define MAX_TCP_INFLIGHT 16		/* per TCP client */
/* TCP connections to the upstream servers at once: each TCP query has its
 * own, and 64 clients with 16 queries each would otherwise hold 1024 open at
 * the host's resolver, which every sandbox and the host share */
#define MAX_UPSTREAM_TCP 16
#define N_QUERIES (SBX_DNS_MAX_PENDING_UDP + SBX_DNS_MAX_TCP_CLIENTS * MAX_TCP_INFLIGHT)
#define TCP_WBUF_MAX (256 * 1024)	/* unread replies before a client is dropped */
#define BATCH 64			/* datagrams or connections taken per wake-up */
#define TCP_FRAME_MAX (2 + SBX_DNS_MSG_MAX)

enum tag { T_STOP = 1, T_UDP_LISTEN, T_TCP_LISTEN, T_UP_UDP, T_CLIENT, T_UP_TCP };
/* epoll data: the kind of fd, a generation (an event queued for a client or
 * an upstream connection closed earlier in the same batch must not reach
 * what took its slot), the index */
#define TAG(t, gen, i) ((uint64_t)(t) << 56 | ((uint64_t)(gen) & 0xffffff) << 32 | (uint32_t)(i))
#define TAG_KIND(u) ((enum tag)((u) >> 56))
#define TAG_GEN(u) (((u) >> 32) & 0xffffff)
/* a failed or wrong upstream exchange ends its try this soon: fail-over without spinning */
#define TRY_FAILED_MS 100

struct query {
	bool used;
	uint8_t proto;			/* how the client asked: 17 or 6 */
	uint16_t up_id;			/* the id upstream sees */
	size_t upstream;		/* the upstream of the current try */
	uint64_t try_deadline, deadline, seq;
	struct sbx_dns_question q;
	const struct sbx_dns_rule *rule; /* the rule that decided, NULL for none */
	enum sbx_dns_reason would;	/* observe: why it would have been refused */
	uint8_t *pkt;			/* the client's query, sent upstream with up_id */
	size_t len;
	int lfd;			/* UDP: the listener it came on, and from whom */
	struct sockaddr_storage client;
	socklen_t client_len;
	size_t ci;			/* TCP: the client and its generation */
	uint64_t cgen;
	int ufd;			/* TCP: the upstream connection, -1 */
	uint64_t ugen;			/* TCP: its generation (epoll tag) */
	uint8_t *ubuf;			/* TCP: frame being written, then the answer read */
	size_t uoff, ulen;
	bool reading;
};

struct client {
	int fd;				/* -1: free */
	uint64_t gen, last;
	struct sockaddr_storage addr;
	uint8_t *rbuf, *wbuf;
	size_t rlen, wlen, wcap;
	unsigned inflight;
	uint32_t events;		/* what epoll watches now */
	bool eof;			/* the client shut its side: answer what it sent, then close */
};

struct engine {
	const struct sbx_resolver_cfg *cfg;
	int ep;
	int up_fd[SBX_DNS_MAX_UPSTREAMS];
	struct query *qs;
	size_t n_udp;
	size_t n_up_tcp;		/* upstream TCP connections open */
	struct client clients[SBX_DNS_MAX_TCP_CLIENTS];
	uint64_t seq, gen;
	uint32_t try_ms;
	uint8_t *buf;			/* one received message */
	uint8_t rnd[256];
	size_t rnd_left;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int ep_add(struct engine *e, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	return epoll_ctl(e->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int ep_mod(struct engine *e, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	return epoll_ctl(e->ep, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

static int random_id(struct engine *e, uint16_t *ret)
{
	if (e->rnd_left < 2) {
		ssize_t n = getrandom(e->rnd, sizeof(e->rnd), GRND_NONBLOCK);

		if (n < 2)
			return n < 0 ? -errno : -EAGAIN;
		e->rnd_left = (size_t)n;
	}
	e->rnd_left -= 2;
	*ret = (uint16_t)(e->rnd[e->rnd_left] << 8 | e->rnd[e->rnd_left + 1]);
	return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static bool same_question(const struct sbx_dns_question *a, const struct sbx_dns_question *b)
{
	return a->qtype == b->qtype && a->qclass == b->qclass && strcmp(a->name, b->name) == 0;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return false;
}

/* ---- the policy ---------------------------------------------------------- */

/* The rule with the highest specificity; a deny rule wins a tie. */
static const struct sbx_dns_rule *best_rule(const struct sbx_resolver_cfg *cfg, const char *name)
{
	const struct sbx_dns_rule *best = NULL;
	unsigned best_m = 0;

	for (size_t i = 0; i < cfg->n_rules; i++) {
		unsigned m = sbx_dns_name_match(cfg->rules[i].pattern, name);

		if (m && (m > best_m || (m == best_m && cfg->rules[i].deny && !best->deny))) {
			best = &cfg->rules[i];
			best_m = m;
		}
	}
	return best;
}

static uint8_t refusal_rcode(const struct sbx_resolver_cfg *cfg)
{
	return cfg->nxdomain ? SBX_DNS_RC_NXDOMAIN : SBX_DNS_RC_REFUSED;
}

static void report(struct engine *e, enum sbx_dns_verdict v, enum sbx_dns_reason why, const struct sbx_dns_question *q,
		   uint8_t proto, const struct sbx_dns_rule *rule, uint8_t rcode, size_t n_addrs,
		   const struct sbx_dns_addr *addrs, const struct sockaddr_storage *client)
{
	struct sbx_dns_event ev = {
		.verdict = v, .reason = why, .name = q ? q->name : "", .qtype = q ? q->qtype : 0,
		.proto = proto, .rule = rule ? rule->rule : SBX_DNS_NO_RULE, .rcode = rcode,
		.n_addrs = n_addrs, .addrs = addrs, .client = client,
	};

	if (e->cfg->event)
		e->cfg->event(e->cfg->ctx, &ev);
}

/* ---- TCP clients ---------------------------------------------------------- */

static struct client *client_of(struct engine *e, size_t ci, uint64_t gen)
{
	struct client *c = &e->clients[ci];

	return c->fd >= 0 && c->gen == gen ? c : NULL;
}

static void client_close(struct engine *e, struct client *c)
{
	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	free(c->rbuf);
	free(c->wbuf);
	c->rbuf = c->wbuf = NULL;
	c->rlen = c->wlen = c->wcap = 0;
	/* its queries still in flight find the generation changed and drop their answer */
	c->gen = 0;
	c->inflight = 0;
	c->eof = false;
}

static bool client_has_message(const struct client *c)
{
	return c->rlen >= 2 && c->rlen >= 2 + (size_t)(c->rbuf[0] << 8 | c->rbuf[1]);
}

/* Reads while there is room, writes what is queued: epoll watches for what is left. */
static void client_watch(struct engine *e, struct client *c)
{
	bool more = !c->eof && c->inflight < MAX_TCP_INFLIGHT;
	uint32_t ev = (more ? EPOLLIN | EPOLLRDHUP : 0) | (c->wlen ? EPOLLOUT : 0);

	if (c->eof && !c->inflight && !c->wlen && !client_has_message(c)) {
		client_close(e, c);
		return;
	}
	if (ev != c->events && ep_mod(e, c->fd, ev, TAG(T_CLIENT, c->gen, c - e->clients)) == 0)
		c->events = ev;
}

static void client_flush(struct engine *e, struct client *c)
{
	while (c->wlen) {
		ssize_t n = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			client_close(e, c);
			return;
		}
		memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
		c->wlen -= (size_t)n;
		c->last = now_ms();
	}
	client_watch(e, c);
}

/* Queues one framed message; a client that leaves too much unread is dropped. */
static void client_send(struct engine *e, struct client *c, const uint8_t *msg, size_t len)
{
	size_t need = c->wlen + 2 + len;

	if (need > TCP_WBUF_MAX) {
		client_close(e, c);
		return;
	}
	if (need > c->wcap) {
		size_t cap = need < 4096 ? 4096 : need * 2;
		uint8_t *p = realloc(c->wbuf, cap < TCP_WBUF_MAX ? cap : TCP_WBUF_MAX);

		if (!p) {
			client_close(e, c);
			return;
		}
		c->wbuf = p;
		c->wcap = cap < TCP_WBUF_MAX ? cap : TCP_WBUF_MAX;
	}
	put16(c->wbuf + c->wlen, (uint16_t)len);
	memcpy(c->wbuf + c->wlen + 2, msg, len);
	c->wlen += 2 + len;
	client_flush(e, c);
}

/* ---- answering the client ---------------------------------------------------- */

/* Where a reply goes: a UDP peer through a listener, or a TCP client. */
struct origin {
	uint8_t proto;
	int lfd;
	const struct sockaddr_storage *addr;
	socklen_t addr_len;
	size_t ci;
	uint64_t cgen;
};

static void answer(struct engine *e, const struct origin *o, const uint8_t *msg, size_t len)
{
	if (o->proto == IPPROTO_UDP) {
		/* UDP gives no second chance: a full socket buffer drops the reply */
		(void)sendto(o->lfd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)o->addr,
			     o->addr_len);
		return;
	}
	struct client *c = client_of(e, o->ci, o->cgen);

	if (c)
		client_send(e, c, msg, len);
}

static void answer_error(struct engine *e, const struct origin *o, const uint8_t *pkt, size_t len,
			 const struct sbx_dns_question *q, uint8_t rc)
{
	uint8_t out[512];
	ssize_t n = sbx_dns_error_reply(pkt, len, q, rc, out, sizeof(out));

	/* pkt may hold the id it was forwarded with: the client's is q->id */
	if (n >= 2) {
		out[0] = (uint8_t)(q->id >> 8);
		out[1] = (uint8_t)q->id;
	}
	if (n > 0)
		answer(e, o, out, (size_t)n);
}

static struct origin origin_of(const struct query *qq)
{
	return (struct origin){
		.proto = qq->proto, .lfd = qq->lfd, .addr = &qq->client, .addr_len = qq->client_len,
		.ci = qq->ci, .cgen = qq->cgen,
	};
}

/* ---- queries in flight ------------------------------------------------------- */

static void upstream_tcp_close(struct engine *e, struct query *qq)
{
	if (qq->ufd >= 0) {
		close(qq->ufd);
		e->n_up_tcp--;
	}
	qq->ufd = -1;
	free(qq->ubuf);
	qq->ubuf = NULL;
	qq->uoff = qq->ulen = 0;
	qq->reading = false;
}

static void query_release(struct engine *e, struct query *qq)
{
	upstream_tcp_close(e, qq);
	free(qq->pkt);
	qq->pkt = NULL;
	if (qq->proto == IPPROTO_UDP) {
		e->n_udp--;
	} else {
		struct client *c = client_of(e, qq->ci, qq->cgen);

		if (c && c->inflight) {
			c->inflight--;
			client_watch(e, c);
		}
	}
	qq->used = false;
}

/* The query's end without an answer: SERVFAIL. */
static void query_fail(struct engine *e, struct query *qq)
{
	struct origin o = origin_of(qq);
	enum sbx_dns_verdict v = qq->would ? SBX_DNSV_WOULD_DENY : SBX_DNSV_ALLOW;

	answer_error(e, &o, qq->pkt, qq->len, &qq->q, SBX_DNS_RC_SERVFAIL);
	report(e, v, SBX_DNSR_UPSTREAM, &qq->q, qq->proto, qq->rule, SBX_DNS_RC_SERVFAIL, 0, NULL, &qq->client);
	query_release(e, qq);
}

static bool id_in_use(struct engine *e, size_t upstream, uint8_t proto, uint16_t id)
{
	for (size_t i = 0; i < N_QUERIES; i++)
		if (e->qs[i].used && e->qs[i].proto == proto && e->qs[i].upstream == upstream &&
		    e->qs[i].up_id == id && e->qs[i].pkt)
			return true;
	return false;
}

static int try_tcp(struct engine *e, struct query *qq)
{
	const struct sbx_resolver_cfg *cfg = e->cfg;
	int fd, r;

	fd = socket(cfg->upstream[qq->upstream].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&cfg->upstream[qq->upstream], cfg->upstream_len[qq->upstream]) < 0 &&
	    errno != EINPROGRESS) {
		r = -errno;
		close(fd);
		return r;
	}
	qq->ubuf = malloc(2 + qq->len);
	if (!qq->ubuf) {
		close(fd);
		return -ENOMEM;
	}
	put16(qq->ubuf, (uint16_t)qq->len);
	memcpy(qq->ubuf + 2, qq->pkt, qq->len);
	qq->ulen = 2 + qq->len;
	qq->uoff = 0;
	qq->ufd = fd;
	e->n_up_tcp++;
	qq->ugen = ++e->gen;
	r = ep_add(e, fd, EPOLLOUT, TAG(T_UP_TCP, qq->ugen, qq - e->qs));
	if (r < 0)
		upstream_tcp_close(e, qq);
	return r;
}

static void try_failed(struct engine *e, struct query *qq)
{
	uint64_t soon = now_ms() + TRY_FAILED_MS;

	upstream_tcp_close(e, qq);
	if (soon < qq->try_deadline)
		qq->try_deadline = soon;
}

/* Sends the query to qq->upstream with a fresh id. A failed send ends the
 * try soon (TRY_FAILED_MS), not at once: a dead upstream is not spun on. */
static int open_upstream(struct engine *e, size_t u);

static void query_try(struct engine *e, struct query *qq, uint64_t now)
{
	uint16_t id = 0;
	int r;

	upstream_tcp_close(e, qq);
	qq->try_deadline = now + e->try_ms;
	if (qq->try_deadline > qq->deadline)
		qq->try_deadline = qq->deadline;
	if (qq->proto == IPPROTO_TCP && e->n_up_tcp >= MAX_UPSTREAM_TCP) {
		/* no connection free: the query waits its turn (and its 5 s) */
		try_failed(e, qq);
		return;
	}
	do {
		r = random_id(e, &id);
		if (r < 0)
			return;
	} while (id_in_use(e, qq->upstream, qq->proto, id));
	qq->up_id = id;
	put16(qq->pkt, id);
	if (qq->proto == IPPROTO_UDP && e->up_fd[qq->upstream] < 0 &&
	    open_upstream(e, qq->upstream) < 0)
		r = -EIO;
	else if (qq->proto == IPPROTO_UDP && e->up_fd[qq->upstream] < 0)
		r = -ENETUNREACH;	/* still no way there: this try fails */
	else if (qq->proto == IPPROTO_UDP)
		r = send(e->up_fd[qq->upstream], qq->pkt, qq->len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -errno : 0;
	else
		r = try_tcp(e, qq);
	if (r < 0)
		try_failed(e, qq);
}

static struct query *query_slot(struct engine *e, uint8_t proto)
{
	struct query *oldest = NULL;
	size_t i;

	if (proto == IPPROTO_UDP && e->n_udp >= SBX_DNS_MAX_PENDING_UDP) {
		for (i = 0; i < N_QUERIES; i++)
			if (e->qs[i].used && e->qs[i].proto == IPPROTO_UDP && (!oldest || e->qs[i].seq < oldest->seq))
				oldest = &e->qs[i];
		if (oldest)
			query_fail(e, oldest);
	}
	for (i = 0; i < N_QUERIES; i++)
		if (!e->qs[i].used)
			return &e->qs[i];
	return NULL;
}

static void forward(struct engine *e, const struct origin *o, const uint8_t *pkt, size_t len,
		    const struct sbx_dns_question *q, const struct sbx_dns_rule *rule, enum sbx_dns_reason would)
{
	struct query *qq = query_slot(e, o->proto);
	uint64_t now = now_ms();

	if (!qq || !(qq->pkt = malloc(len))) {
		answer_error(e, o, pkt, len, q, SBX_DNS_RC_SERVFAIL);
		report(e, would ? SBX_DNSV_WOULD_DENY : SBX_DNSV_ALLOW, SBX_DNSR_UPSTREAM, q, o->proto, rule,
		       SBX_DNS_RC_SERVFAIL, 0, NULL, o->addr);
		return;
	}
	memcpy(qq->pkt, pkt, len);
	qq->len = len;
	qq->used = true;
	qq->proto = o->proto;
	qq->q = *q;
	qq->rule = rule;
	qq->would = would;
	qq->seq = ++e->seq;
	qq->upstream = 0;
	qq->deadline = now + SBX_DNS_QUERY_TIMEOUT_MS;
	qq->ufd = -1;
	qq->lfd = o->lfd;
	qq->client_len = o->addr_len;
	memcpy(&qq->client, o->addr, sizeof(qq->client));
	qq->ci = o->ci;
	qq->cgen = o->cgen;
	if (o->proto == IPPROTO_UDP) {
		e->n_udp++;
	} else {
		struct client *c = client_of(e, o->ci, o->cgen);

		if (c)
			c->inflight++;
	}
	query_try(e, qq, now);
}

/* ---- a query from a client ---------------------------------------------------- */

static void bad_query(struct engine *e, const struct origin *o, const uint8_t *pkt, size_t len)
{
	uint8_t out[SBX_DNS_HEADER_LEN] = { 0 };

	/* a header with QR clear gets REFUSED so that the client does not wait;
	 * anything else may be a reflected reply and gets nothing */
	if (len >= SBX_DNS_HEADER_LEN && !(pkt[2] & 0x80)) {
		out[0] = pkt[0];
		out[1] = pkt[1];
		out[2] = 0x80 | (pkt[2] & 0x79);	/* QR, opcode and RD copied */
		out[3] = 0x80 | SBX_DNS_RC_REFUSED;
		answer(e, o, out, sizeof(out));
	}
	report(e, SBX_DNSV_DENY, SBX_DNSR_BAD_QUERY, NULL, o->proto, NULL, SBX_DNS_RC_REFUSED, 0, NULL, o->addr);
}

static void handle_query(struct engine *e, const struct origin *o, const uint8_t *pkt, size_t len)
{
	const struct sbx_resolver_cfg *cfg = e->cfg;
	struct sbx_dns_question q;
	const struct sbx_dns_rule *rule;
	enum sbx_dns_reason why = SBX_DNSR_NONE;

	if (sbx_dns_parse_query(pkt, len, &q, NULL, 0) < 0) {
		bad_query(e, o, pkt, len);
		return;
	}
	rule = best_rule(cfg, q.name);
	if (rule && rule->deny)
		why = SBX_DNSR_DENY_RULE;
	else if (!rule && cfg->allow_mode)
		why = SBX_DNSR_NO_ALLOW_RULE;
	if (why && !cfg->observe) {
		answer_error(e, o, pkt, len, &q, refusal_rcode(cfg));
		report(e, SBX_DNSV_DENY, why, &q, o->proto, rule, refusal_rcode(cfg), 0, NULL, o->addr);
		return;
	}
	forward(e, o, pkt, len, &q, rule, why);
}

/* ---- an answer from upstream -------------------------------------------------- */

/* The first address of r that is not public and that no rule allows, or NULL. */
static const struct sbx_dns_addr *rebinding(const struct sbx_resolver_cfg *cfg, const struct sbx_dns_reply *r)
{
	for (size_t i = 0; i < r->n_addrs; i++) {
		const struct sbx_dns_addr *a = &r->addrs[i];

		if (sbx_addr_group(a->family, a->addr) == SBX_GROUP_PUBLIC)
			continue;
		if (cfg->range_allowed && cfg->range_allowed(cfg->ctx, a->family, a->addr))
			continue;
		return a;
	}
	return NULL;
}

/* The deny rule of a name in r's CNAME chain, or NULL: such an answer is the
 * denied name's under another name (an alias anyone can point at it). A
 * chain longer than the reply keeps is refused when the policy denies any
 * name at all. */
static const struct sbx_dns_rule *chain_denied(const struct sbx_resolver_cfg *cfg, const struct sbx_dns_reply *r)
{
	for (size_t i = 0; i < r->n_chain; i++) {
		const struct sbx_dns_rule *rule = best_rule(cfg, r->chain[i]);

		if (rule && rule->deny)
			return rule;
	}
	for (size_t i = 0; r->chain_truncated && i < cfg->n_rules; i++)
		if (cfg->rules[i].deny)
			return &cfg->rules[i];
	return NULL;
}

static int pin_all(const struct sbx_resolver_cfg *cfg, const struct sbx_dns_rule *rule, const struct sbx_dns_reply *r)
{
	uint64_t now = boottime_ns();

	if (!cfg->pin)
		return 0;
	for (size_t i = 0; i < r->n_addrs; i++) {
		uint64_t ttl = r->addrs[i].ttl > cfg->ttl_floor_s ? r->addrs[i].ttl : cfg->ttl_floor_s;
		int e = cfg->pin(cfg->ctx, &r->addrs[i], rule, now + (ttl + cfg->grace_s) * 1000000000ull);

		if (e < 0)
			return e;
	}
	return 0;
}

/* Checks and pins an answer of an allow rule, passes the reply on, reports. */
static void query_answered(struct engine *e, struct query *qq, uint8_t *msg, size_t len, const struct sbx_dns_reply *r)
{
	const struct sbx_resolver_cfg *cfg = e->cfg;
	struct origin o = origin_of(qq);
	enum sbx_dns_reason why = qq->would;
	const struct sbx_dns_addr *bad = NULL;
	size_t n = r->n_addrs;
	const struct sbx_dns_addr *addrs = r->addrs;
	const struct sbx_dns_rule *denied = chain_denied(cfg, r);

	if (denied && !cfg->observe) {
		answer_error(e, &o, qq->pkt, qq->len, &qq->q, refusal_rcode(cfg));
		report(e, SBX_DNSV_DENY, SBX_DNSR_DENY_RULE, &qq->q, qq->proto, denied, refusal_rcode(cfg),
		       r->n_addrs, r->addrs, &qq->client);
		query_release(e, qq);
		return;
	}
	if (denied && !why)
		why = SBX_DNSR_DENY_RULE;
	if (qq->rule && !qq->rule->deny) {
		bad = rebinding(cfg, r);
		if (bad && !cfg->observe) {
			answer_error(e, &o, qq->pkt, qq->len, &qq->q, refusal_rcode(cfg));
			report(e, SBX_DNSV_DENY, SBX_DNSR_REBINDING, &qq->q, qq->proto, qq->rule, refusal_rcode(cfg),
			       1, bad, &qq->client);
			query_release(e, qq);
			return;
		}
		if (bad) {
			why = SBX_DNSR_REBINDING;
			addrs = bad;
			n = 1;
		}
		if (pin_all(cfg, qq->rule, r) < 0) {
			if (!cfg->observe) {
				answer_error(e, &o, qq->pkt, qq->len, &qq->q, SBX_DNS_RC_SERVFAIL);
				report(e, SBX_DNSV_DENY, SBX_DNSR_PIN_FAILED, &qq->q, qq->proto, qq->rule,
				       SBX_DNS_RC_SERVFAIL, r->n_addrs, r->addrs, &qq->client);
				query_release(e, qq);
				return;
			}
			if (!why)
				why = SBX_DNSR_PIN_FAILED;
		}
	}
	put16(msg, qq->q.id);
	answer(e, &o, msg, len);
	report(e, why ? SBX_DNSV_WOULD_DENY : SBX_DNSV_ALLOW, why, &qq->q, qq->proto, qq->rule, r->rcode, n, addrs,
	       &qq->client);
	query_release(e, qq);
}

static void upstream_udp_readable(struct engine *e, size_t u)
{
	const struct sbx_resolver_cfg *cfg = e->cfg;
	struct sbx_dns_reply r;

	for (int k = 0; k < BATCH; k++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(e->up_fd[u], e->buf, SBX_DNS_MSG_MAX, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;	/* EAGAIN, or an ICMP error of an earlier send: the try times out */
		if (!same_addr(&from, &cfg->upstream[u]) || sbx_dns_parse_reply(e->buf, (size_t)n, &r, NULL, 0) < 0)
			continue;
		for (size_t i = 0; i < N_QUERIES; i++) {
			struct query *qq = &e->qs[i];

			if (qq->used && qq->proto == IPPROTO_UDP && qq->upstream == u && qq->up_id == r.q.id &&
			    same_question(&qq->q, &r.q)) {
				query_answered(e, qq, e->buf, (size_t)n, &r);
				break;
			}
		}
	}
}

/* The whole framed answer is in qq->ubuf: checks it like a UDP one. */
static void upstream_tcp_done(struct engine *e, struct query *qq)
{
	struct sbx_dns_reply r;
	size_t len = qq->ulen;

	if (len > SBX_DNS_MSG_MAX || sbx_dns_parse_reply(qq->ubuf, len, &r, NULL, 0) < 0 || r.q.id != qq->up_id ||
	    !same_question(&qq->q, &r.q)) {
		try_failed(e, qq);	/* a wrong answer ends this try */
		return;
	}
	memcpy(e->buf, qq->ubuf, len);
	query_answered(e, qq, e->buf, len, &r);
}

static void upstream_tcp_event(struct engine *e, struct query *qq, uint32_t events)
{
	ssize_t n;

	if (!qq->used || qq->ufd < 0)
		return;
	if (!qq->reading) {
		n = send(qq->ufd, qq->ubuf + qq->uoff, qq->ulen - qq->uoff, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			goto fail;
		qq->uoff += (size_t)n;
		if (qq->uoff < qq->ulen)
			return;
		free(qq->ubuf);
		qq->ubuf = malloc(TCP_FRAME_MAX);
		if (!qq->ubuf || ep_mod(e, qq->ufd, EPOLLIN, TAG(T_UP_TCP, qq->ugen, qq - e->qs)) < 0)
			goto fail;
		qq->reading = true;
		qq->uoff = 0;
		qq->ulen = 0;
		return;
	}
	for (;;) {
		size_t want = qq->uoff < 2 ? 2 - qq->uoff : 2 + qq->ulen - qq->uoff;

		n = recv(qq->ufd, qq->ubuf + qq->uoff, want, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			goto fail;
		qq->uoff += (size_t)n;
		if (qq->uoff == 2)
			qq->ulen = (size_t)(qq->ubuf[0] << 8 | qq->ubuf[1]);
		if (qq->uoff >= 2 && qq->uoff == 2 + qq->ulen) {
			memmove(qq->ubuf, qq->ubuf + 2, qq->ulen);
			upstream_tcp_done(e, qq);
			return;
		}
	}
fail:
	try_failed(e, qq);
}

/* ---- listeners and clients ------------------------------------------------------ */

static void udp_listener_readable(struct engine *e, int lfd)
{
	for (int k = 0; k < BATCH; k++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(lfd, e->buf, SBX_DNS_MSG_MAX, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		struct origin o = { .proto = IPPROTO_UDP, .lfd = lfd, .addr = &from, .addr_len = fl };

		handle_query(e, &o, e->buf, (size_t)n);
	}
}

static void tcp_listener_readable(struct engine *e, int lfd)
{
	for (int k = 0; k < BATCH; k++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		int fd = accept4(lfd, (struct sockaddr *)&from, &fl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c = NULL;

		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0)
			return;	/* EAGAIN; EMFILE and the like: the client sees its connection refused */
		for (size_t i = 0; i < SBX_DNS_MAX_TCP_CLIENTS && !c; i++)
			if (e->clients[i].fd < 0)
				c = &e->clients[i];
		if (!c || !(c->rbuf = malloc(TCP_FRAME_MAX))) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->gen = ++e->gen;
		c->last = now_ms();
		c->addr = from;
		c->events = EPOLLIN | EPOLLRDHUP;
		if (ep_add(e, fd, c->events, TAG(T_CLIENT, c->gen, c - e->clients)) < 0)
			client_close(e, c);
	}
}

/* Handles every whole message buffered, while the client may have more in flight. */
static void client_process(struct engine *e, struct client *c)
{
	size_t ci = (size_t)(c - e->clients);
	uint64_t gen = c->gen;

	while (c->fd >= 0 && c->gen == gen && c->rlen >= 2 && c->inflight < MAX_TCP_INFLIGHT) {
		size_t len = (size_t)(c->rbuf[0] << 8 | c->rbuf[1]);
		struct origin o = { .proto = IPPROTO_TCP, .lfd = -1, .addr = &c->addr, .addr_len = sizeof(c->addr),
				    .ci = ci, .cgen = gen };

		if (c->rlen < 2 + len)
			break;
		c->last = now_ms();
		handle_query(e, &o, c->rbuf + 2, len);
		if (c->fd < 0 || c->gen != gen)
			return;	/* dropped while answering (too much unread) */
		memmove(c->rbuf, c->rbuf + 2 + len, c->rlen - 2 - len);
		c->rlen -= 2 + len;
	}
	if (c->fd >= 0 && c->gen == gen)
		client_watch(e, c);
}

static void client_event(struct engine *e, struct client *c, uint32_t events)
{
	if (c->fd < 0)
		return;
	if (events & (EPOLLERR | EPOLLHUP)) {
		/* reset, or both directions shut: no answer can reach it */
		client_close(e, c);
		return;
	}
	if (events & EPOLLOUT) {
		client_flush(e, c);
		if (c->fd < 0)
			return;
	}
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) || c->eof || c->inflight >= MAX_TCP_INFLIGHT)
		return;
	while (c->rlen < TCP_FRAME_MAX) {
		ssize_t n = recv(c->fd, c->rbuf + c->rlen, TCP_FRAME_MAX - c->rlen, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			client_close(e, c);
			return;
		}
		if (n == 0) {
			/* half-closed: what it sent is still answered (client_watch closes after) */
			c->eof = true;
			break;
		}
		c->rlen += (size_t)n;
	}
	client_process(e, c);
}

/* ---- timers ------------------------------------------------------------------------ */

static void on_query_released(struct engine *e)
{
	/* a client held back by its in-flight limit may go on with what it buffered */
	for (size_t i = 0; i < SBX_DNS_MAX_TCP_CLIENTS; i++) {
		struct client *c = &e->clients[i];

		if (c->fd >= 0 && client_has_message(c) && c->inflight < MAX_TCP_INFLIGHT)
			client_process(e, c);
	}
}

/* Handles what is due and returns the milliseconds until the next deadline (-1: none). */
static int run_timers(struct engine *e)
{
	uint64_t now = now_ms(), next = UINT64_MAX;

	for (size_t i = 0; i < N_QUERIES; i++) {
		struct query *qq = &e->qs[i];

		if (!qq->used)
			continue;
		if (now >= qq->deadline) {
			query_fail(e, qq);
			continue;
		}
		if (now >= qq->try_deadline) {
			qq->upstream = (qq->upstream + 1) % e->cfg->n_upstream;
			query_try(e, qq, now);
		}
		if (qq->try_deadline < next)
			next = qq->try_deadline;
	}
	for (size_t i = 0; i < SBX_DNS_MAX_TCP_CLIENTS; i++) {
		struct client *c = &e->clients[i];

		if (c->fd < 0 || c->inflight)
			continue;
		if (now - c->last >= SBX_DNS_TCP_IDLE_MS) {
			client_close(e, c);
			continue;
		}
		if (c->last + SBX_DNS_TCP_IDLE_MS < next)
			next = c->last + SBX_DNS_TCP_IDLE_MS;
	}
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

/* ---- setup and the loop ------------------------------------------------------------- */

static void engine_free(struct engine *e)
{
	for (size_t i = 0; e->qs && i < N_QUERIES; i++)
		if (e->qs[i].used)
			query_release(e, &e->qs[i]);
	for (size_t i = 0; i < SBX_DNS_MAX_TCP_CLIENTS; i++)
		client_close(e, &e->clients[i]);
	for (size_t i = 0; i < SBX_DNS_MAX_UPSTREAMS; i++)
		if (e->up_fd[i] >= 0)
			close(e->up_fd[i]);
	if (e->ep >= 0)
		close(e->ep);
	free(e->qs);
	free(e->buf);
}

static int open_upstream(struct engine *e, size_t u)
{
	const struct sbx_resolver_cfg *cfg = e->cfg;
	int fd = socket(cfg->upstream[u].ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* connected: the kernel drops datagrams from any other address and
	 * port. A server the host cannot reach now (no route yet) is no reason
	 * to stop: its tries fail (SERVFAIL) and the next one connects again. */
	if (connect(fd, (const struct sockaddr *)&cfg->upstream[u], cfg->upstream_len[u]) < 0) {
		close(fd);
		return 0;
	}
	e->up_fd[u] = fd;
	return ep_add(e, fd, EPOLLIN, TAG(T_UP_UDP, 0, u));
}

static int engine_setup(struct engine *e, const struct sbx_resolver_cfg *cfg)
{
	bool any = false;
	int r;

	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	e->ep = -1;
	for (size_t i = 0; i < SBX_DNS_MAX_UPSTREAMS; i++)
		e->up_fd[i] = -1;
	for (size_t i = 0; i < SBX_DNS_MAX_TCP_CLIENTS; i++)
		e->clients[i].fd = -1;
	if (cfg->n_upstream == 0 || cfg->n_upstream > SBX_DNS_MAX_UPSTREAMS)
		return -EINVAL;
	e->try_ms = cfg->timeout_ms ? cfg->timeout_ms : SBX_DNS_TRY_TIMEOUT_MS;
	e->qs = calloc(N_QUERIES, sizeof(*e->qs));
	e->buf = malloc(TCP_FRAME_MAX);
	e->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!e->qs || !e->buf)
		return -ENOMEM;
	if (e->ep < 0)
		return -errno;
	for (size_t i = 0; i < 2; i++) {
		if (cfg->udp_fd[i] >= 0) {
			if ((r = set_nonblock(cfg->udp_fd[i])) < 0 ||
			    (r = ep_add(e, cfg->udp_fd[i], EPOLLIN, TAG(T_UDP_LISTEN, 0, i))) < 0)
				return r;
			any = true;
		}
		if (cfg->tcp_fd[i] >= 0) {
			if (listen(cfg->tcp_fd[i], SBX_DNS_MAX_TCP_CLIENTS) < 0)
				return -errno;
			if ((r = set_nonblock(cfg->tcp_fd[i])) < 0 ||
			    (r = ep_add(e, cfg->tcp_fd[i], EPOLLIN, TAG(T_TCP_LISTEN, 0, i))) < 0)
				return r;
			any = true;
		}
	}
	if (!any)
		return -EINVAL;
	for (size_t u = 0; u < cfg->n_upstream; u++)
		if ((r = open_upstream(e, u)) < 0)
			return r;
	if (cfg->stop_fd >= 0 && (r = ep_add(e, cfg->stop_fd, EPOLLIN, TAG(T_STOP, 0, 0))) < 0)
		return r;
	return 0;
}

/* Returns 1 when stop_fd said so. */
static int dispatch(struct engine *e, const struct epoll_event *ev)
{
	uint32_t idx = (uint32_t)ev->data.u64;

	switch (TAG_KIND(ev->data.u64)) {
	case T_STOP:
		return 1;
	case T_UDP_LISTEN:
		udp_listener_readable(e, e->cfg->udp_fd[idx]);
		break;
	case T_TCP_LISTEN:
		tcp_listener_readable(e, e->cfg->tcp_fd[idx]);
		break;
	case T_UP_UDP:
		upstream_udp_readable(e, idx);
		break;
	case T_CLIENT:
		if (TAG_GEN(ev->data.u64) == (e->clients[idx].gen & 0xffffff))
			client_event(e, &e->clients[idx], ev->events);
		break;
	case T_UP_TCP:
		if (TAG_GEN(ev->data.u64) == (e->qs[idx].ugen & 0xffffff))
			upstream_tcp_event(e, &e->qs[idx], ev->events);
		break;
	}
	return 0;
}

int sbx_resolver_run(const struct sbx_resolver_cfg *cfg)
{
	struct engine e;
	struct epoll_event evs[64];
	int r = engine_setup(&e, cfg);

	while (r == 0) {
		int timeout = run_timers(&e);
		int n = epoll_wait(e.ep, evs, 64, timeout);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		for (int i = 0; i < n && r == 0; i++)
			r = dispatch(&e, &evs[i]);
		on_query_released(&e);
	}
	engine_free(&e);
	return r > 0 ? 0 : r;
}

/* ---- resolv.conf ------------------------------------------------------------------ */

static int nameserver(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	struct sockaddr_in *v4 = (struct sockaddr_in *)ret;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ret;
	char *zone;

	if (strlen(s) >= sizeof(host))
		return -EINVAL;
	strcpy(host, s);
	memset(ret, 0, sizeof(*ret));
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(53);
		*ret_len = sizeof(*v4);
		return 0;
	}
	zone = strchr(host, '%');
	if (zone)
		*zone++ = '\0';
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) != 1)
		return -EINVAL;
	v6->sin6_family = AF_INET6;
	v6->sin6_port = htons(53);
	if (zone) {
		char *end;
		unsigned long idx = strtoul(zone, &end, 10);

		v6->sin6_scope_id = *zone && !*end ? (uint32_t)idx : if_nametoindex(zone);
		if (!v6->sin6_scope_id)
			return -EINVAL;
	}
	*ret_len = sizeof(*v6);
	return 0;
}

int sbx_resolver_upstreams_from(const char *resolv_conf, struct sockaddr_storage *ret, socklen_t *ret_len,
				size_t max)
{
	_cleanup_fclose_ FILE *f = sbx_fopen_regular(resolv_conf);
	char line[512];
	size_t n = 0;

	if (!f)
		return -errno;
	while (n < max && fgets(line, sizeof(line), f)) {
		char kw[16], addr[128];

		/* "nameserver ADDR" and nothing else counts; comments start with # or ; */
		if (sscanf(line, "%15s %127s", kw, addr) != 2 || strcmp(kw, "nameserver") != 0)
			continue;
		if (nameserver(addr, &ret[n], &ret_len[n]) == 0)
			n++;
	}
	return (int)n;
}
