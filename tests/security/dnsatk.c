// SPDX-License-Identifier: MIT
/*
 * dnsatk: one DNS query for NAME (type A) sent a way a workload might use to
 * reach a DNS server other than sbx's resolver (tests/security/test_dns_attack.sh).
 *
 *   dnsatk FORM ADDR PORT NAME
 *   dnsatk spoof ADDR PORT NAME SRC SPORT ANSWER SECS
 *
 * FORM:
 *   udp        sendto(ADDR) on a socket of ADDR's family ("::ffff:a.b.c.d" and
 *              "::a.b.c.d" use an AF_INET6 socket)
 *   dual       an AF_INET6 socket with IPV6_V6ONLY off, sendto(::ffff:ADDR)
 *   connect    connect(ADDR) then send()
 *   conn2      connect(8.8.8.8:53) (redirected), then sendto(ADDR)
 *   pktinfo    sendmsg(ADDR) with an IP_PKTINFO cmsg naming 127.0.0.1 as source
 *   mmsg       sendmmsg: one datagram to 8.8.8.8:53, one to ADDR
 *   tcp        connect(ADDR), the query framed
 *   tfo        sendto(ADDR, MSG_FASTOPEN) on a TCP socket without connect
 *   udplite    an IPPROTO_UDPLITE socket: connect(ADDR) then send()
 *   udplite-to an IPPROTO_UDPLITE socket: sendto(ADDR)
 *   raw        a SOCK_RAW IPPROTO_UDP socket: the UDP header written by hand,
 *              answers read from the same raw socket
 *
 * spoof sends forged answers "NAME A ANSWER" from SRC:SPORT to ADDR:PORT, one
 * for every query id, again and again for SECS seconds (IP_HDRINCL).
 *
 * Prints one line: "ok RCODE FIRST-A" (FIRST-A "-" when none), "timeout" when
 * nothing came back within 2 s, or the errno name of the call that failed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif
#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

static const char *const rcodes[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED" };

static int fail(const char *what)
{
	const char *n = strerrorname_np(errno);

	printf("%s %s\n", n ? n : "E?", what);
	return errno == EPERM || errno == EACCES ? 1 : 2;
}

static size_t build(const char *name, uint8_t *q)
{
	size_t o = 12;

	memset(q, 0, 12);
	q[0] = 0x5b;
	q[1] = 0x14;
	q[2] = 0x01;
	q[5] = 1;
	for (const char *l = name; *l;) {
		const char *dot = strchr(l, '.');
		size_t n = dot ? (size_t)(dot - l) : strlen(l);

		q[o++] = (uint8_t)n;
		memcpy(q + o, l, n);
		o += n;
		l += n + (dot ? 1 : 0);
	}
	q[o++] = 0;
	q[o++] = 0;
	q[o++] = 1;	/* A */
	q[o++] = 0;
	q[o++] = 1;	/* IN */
	return o;
}

/* "ok RCODE FIRST-A" from a reply of len bytes */
static int show(const uint8_t *r, size_t len)
{
	unsigned rc, an;
	size_t o = 12;
	char a[INET_ADDRSTRLEN] = "-";

	if (len < 12 || r[0] != 0x5b || r[1] != 0x14) {
		printf("garbled %zu\n", len);
		return 2;
	}
	rc = r[3] & 0xf;
	an = (unsigned)(r[6] << 8 | r[7]);
	while (o < len && r[o])
		o += r[o] + 1u;
	o += 5;
	for (unsigned i = 0; i < an && o + 12 <= len; i++) {
		while (o < len && r[o] && (r[o] & 0xc0) != 0xc0)
			o += r[o] + 1u;
		o += o < len && r[o] ? 2 : 1;
		if (o + 10 > len)
			break;
		unsigned type = (unsigned)(r[o] << 8 | r[o + 1]), rdlen = (unsigned)(r[o + 8] << 8 | r[o + 9]);

		o += 10;
		if (type == 1 && rdlen == 4 && o + 4 <= len) {
			inet_ntop(AF_INET, r + o, a, sizeof(a));
			break;
		}
		o += rdlen;
	}
	printf("ok %s %s\n", rc < 6 ? rcodes[rc] : "OTHER", a);
	return 0;
}

static int wait_reply(int fd, bool framed)
{
	uint8_t buf[4096];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, 2000) <= 0) {
		printf("timeout\n");
		return 3;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return fail("recv");
	if (framed)
		return n < 2 ? (printf("short\n"), 2) : show(buf + 2, (size_t)n - 2);
	return show(buf, (size_t)n);
}

static int parse(const char *s, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return AF_INET6;
	}
	return -1;
}

/* raw: answers arrive as IPv4 packets on the raw socket; the first UDP one
 * from the server's port 53 to our port is the reply */
static int raw_query(const struct sockaddr_storage *ss, socklen_t sl, int port, const uint8_t *q, size_t qlen)
{
	uint8_t pkt[600], buf[4096];
	struct udphdr *u = (struct udphdr *)pkt;
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP);

	if (fd < 0)
		return fail("socket");
	u->source = htons(40053);
	u->dest = htons((uint16_t)port);
	u->len = htons((uint16_t)(8 + qlen));
	u->check = 0;
	memcpy(pkt + 8, q, qlen);
	if (sendto(fd, pkt, 8 + qlen, 0, (const struct sockaddr *)ss, sl) < 0)
		return fail("sendto");
	for (int i = 0; i < 50; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 2000) <= 0)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 20)
			continue;
		size_t ihl = (size_t)(buf[0] & 0xf) * 4;
		struct udphdr *r = (struct udphdr *)(buf + ihl);

		if ((size_t)n < ihl + 8 || r->source != htons((uint16_t)port) || r->dest != htons(40053))
			continue;
		return show(buf + ihl + 8, (size_t)n - ihl - 8);
	}
	printf("timeout\n");
	return 3;
}

/* spoof: forged answers "NAME A ANSWER" from SRC:SPORT to ADDR:PORT (IPv4),
 * one for every query id, for SECS seconds (IP_HDRINCL: needs CAP_NET_RAW) */
static int spoof(char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])) };
	struct in_addr src, ans;
	uint8_t pkt[600];
	struct iphdr *ip = (struct iphdr *)pkt;
	struct udphdr *u = (struct udphdr *)(pkt + 20);
	uint8_t *d = pkt + 28;
	size_t qlen = build(argv[4], d), o = qlen, total;
	time_t end = time(NULL) + atoi(argv[8]);
	unsigned long sent = 0;
	int fd;

	if (inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1 || inet_pton(AF_INET, argv[5], &src) != 1 ||
	    inet_pton(AF_INET, argv[7], &ans) != 1)
		return 2;
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0)
		return fail("socket");
	d[2] = 0x81;
	d[3] = 0x80;
	d[7] = 1;	/* ANCOUNT */
	memcpy(d + o, "\300\14\0\1\0\1\0\0\1\54\0\4", 12);
	o += 12;
	memcpy(d + o, &ans, 4);
	o += 4;
	total = 28 + o;
	memset(pkt, 0, 28);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons((uint16_t)total);
	ip->saddr = src.s_addr;
	ip->daddr = dst.sin_addr.s_addr;
	u->source = htons((uint16_t)atoi(argv[6]));
	u->dest = dst.sin_port;
	u->len = htons((uint16_t)(8 + o));
	while (time(NULL) < end) {
		for (unsigned id = 0; id < 65536; id++) {
			d[0] = (uint8_t)(id >> 8);
			d[1] = (uint8_t)id;
			if (sendto(fd, pkt, total, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
				return fail("sendto");
			sent++;
		}
	}
	printf("ok sent=%lu\n", sent);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss, via;
	socklen_t sl, vl;
	uint8_t q[600], framed[602];
	size_t qlen;
	int fam, fd, port, one = 1, zero = 0;
	const char *form;

	if (argc == 9 && !strcmp(argv[1], "spoof"))
		return spoof(argv);
	if (argc != 5) {
		fprintf(stderr, "usage: dnsatk FORM ADDR PORT NAME\n");
		return 2;
	}
	form = argv[1];
	port = atoi(argv[3]);
	qlen = build(argv[4], q);
	fam = parse(argv[2], port, &ss, &sl);
	if (fam < 0) {
		fprintf(stderr, "dnsatk: bad address %s\n", argv[2]);
		return 2;
	}
	if (!strcmp(form, "raw"))
		return raw_query(&ss, sl, port, q, qlen);
	if (!strcmp(form, "tcp") || !strcmp(form, "tfo")) {
		framed[0] = (uint8_t)(qlen >> 8);
		framed[1] = (uint8_t)qlen;
		memcpy(framed + 2, q, qlen);
		fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return fail("socket");
		if (!strcmp(form, "tcp")) {
			if (connect(fd, (struct sockaddr *)&ss, sl) < 0)
				return fail("connect");
			if (send(fd, framed, qlen + 2, 0) < 0)
				return fail("send");
		} else {
			setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &zero, sizeof(zero));
			if (sendto(fd, framed, qlen + 2, MSG_FASTOPEN, (struct sockaddr *)&ss, sl) < 0)
				return fail("sendto");
		}
		return wait_reply(fd, true);
	}
	if (!strcmp(form, "udplite") || !strcmp(form, "udplite-to"))
		fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDPLITE);
	else if (!strcmp(form, "dual"))
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	else
		fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("socket");
	if (!strcmp(form, "udp") || !strcmp(form, "udplite-to")) {
		if (sendto(fd, q, qlen, 0, (struct sockaddr *)&ss, sl) < 0)
			return fail("sendto");
	} else if (!strcmp(form, "dual")) {
		struct sockaddr_in6 m = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };

		if (fam != AF_INET)
			return 2;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		m.sin6_addr.s6_addr[10] = m.sin6_addr.s6_addr[11] = 0xff;
		memcpy(m.sin6_addr.s6_addr + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		if (sendto(fd, q, qlen, 0, (struct sockaddr *)&m, sizeof(m)) < 0)
			return fail("sendto");
	} else if (!strcmp(form, "connect") || !strcmp(form, "udplite")) {
		if (connect(fd, (struct sockaddr *)&ss, sl) < 0)
			return fail("connect");
		if (send(fd, q, qlen, 0) < 0)
			return fail("send");
	} else if (!strcmp(form, "conn2")) {
		parse(fam == AF_INET ? "8.8.8.8" : "2001:4860:4860::8888", 53, &via, &vl);
		if (connect(fd, (struct sockaddr *)&via, vl) < 0)
			return fail("connect");
		if (sendto(fd, q, qlen, 0, (struct sockaddr *)&ss, sl) < 0)
			return fail("sendto");
	} else if (!strcmp(form, "pktinfo")) {
		char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))] = { 0 };
		struct iovec iov = { .iov_base = q, .iov_len = qlen };
		struct msghdr m = { .msg_name = &ss, .msg_namelen = sl, .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		struct in_pktinfo pi = { 0 };

		pi.ipi_spec_dst.s_addr = htonl(INADDR_LOOPBACK);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		if (sendmsg(fd, &m, 0) < 0)
			return fail("sendmsg");
	} else if (!strcmp(form, "mmsg")) {
		struct iovec iov = { .iov_base = q, .iov_len = qlen };
		struct mmsghdr mm[2] = { 0 };

		parse(fam == AF_INET ? "8.8.8.8" : "2001:4860:4860::8888", 53, &via, &vl);
		mm[0].msg_hdr = (struct msghdr){ .msg_name = &via, .msg_namelen = vl, .msg_iov = &iov, .msg_iovlen = 1 };
		mm[1].msg_hdr = (struct msghdr){ .msg_name = &ss, .msg_namelen = sl, .msg_iov = &iov, .msg_iovlen = 1 };
		if (sendmmsg(fd, mm, 2, 0) < 0)
			return fail("sendmmsg");
	} else {
		fprintf(stderr, "dnsatk: unknown form %s\n", form);
		return 2;
	}
	(void)one;
	return wait_reply(fd, false);
}
