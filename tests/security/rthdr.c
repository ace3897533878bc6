// SPDX-License-Identifier: MIT
/*
 * Attacker for tests/security/test_rthdr.sh: sends to a destination the
 * policy allows while asking the kernel to route the packet through another
 * address first (issue 20, item 1).
 *
 *   rthdr FORM PROTO DST PORT HOP
 *
 * FORM is how the route is set:
 *   srh-opt     IPv6 type-4 (segment routing) header, setsockopt IPV6_RTHDR
 *   rt0-opt     IPv6 type-0 header, setsockopt IPV6_RTHDR
 *   rt2-opt     IPv6 type-2 (mobile IPv6) header, setsockopt IPV6_RTHDR
 *   srh-cmsg    the type-4 header as an IPV6_RTHDR cmsg on sendmsg
 *   rt0-cmsg    the type-0 header as an IPV6_RTHDR cmsg
 *   rt2-cmsg    the type-2 header as an IPV6_RTHDR cmsg
 *   srh-2292    the type-4 header as an IPV6_2292RTHDR cmsg
 *   srh-pktopt  the type-4 header in a cmsg buffer, setsockopt IPV6_2292PKTOPTIONS
 *   lsrr-opt    IPv4 loose source route, setsockopt IP_OPTIONS
 *   ssrr-opt    IPv4 strict source route, setsockopt IP_OPTIONS
 *   lsrr-cmsg   the loose source route as an IP_RETOPTS cmsg on sendmsg
 *   none        no route: the control
 * PROTO is udp or tcp (cmsg forms: udp only). HOP is the first hop.
 *
 * Prints one word: "ok" when the data left, the errno name of the step that
 * failed, or "timeout" when a TCP connect got no answer within 2 s.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IPV6_2292PKTOPTIONS
#define IPV6_2292PKTOPTIONS 6
#endif
#ifndef IPV6_2292RTHDR
#define IPV6_2292RTHDR 5
#endif

static const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case EINVAL: return "EINVAL";
	case ENETUNREACH: return "ENETUNREACH";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return "error";
	}
}

static int report_errno(const char *step)
{
	int e = errno;

	printf("%s\n", errname(e));
	fprintf(stderr, "%s: %s\n", step, strerror(e));
	return 1;
}

/* A routing header of TYPE with HOP as the one segment still to visit: the
 * kernel adds the final destination (type 4: in segments[0]) and sends the
 * packet to HOP. Returns its length. */
static size_t build_rthdr6(unsigned char *b, int type, const struct in6_addr *hop)
{
	memset(b, 0, 40);
	b[0] = IPPROTO_NONE;	/* next header: the kernel fills it */
	b[2] = (unsigned char)type;
	b[3] = 1;		/* segments left */
	if (type == 4) {
		b[1] = 4;	/* two segments: (4 + 1) * 8 = 40 bytes */
		b[4] = 1;	/* last entry */
		memcpy(b + 8 + 16, hop, 16);	/* segments[1]: visited first */
		return 40;
	}
	b[1] = 2;		/* one address: (2 + 1) * 8 = 24 bytes */
	memcpy(b + 8, hop, 16);
	return 24;
}

/* IP_OPTIONS bytes of a loose (131) or strict (137) source route via HOP. */
static size_t build_srr4(unsigned char *b, int type, struct in_addr hop)
{
	b[0] = (unsigned char)type;
	b[1] = 7;
	b[2] = 4;
	memcpy(b + 3, &hop, 4);
	b[7] = IPOPT_END;
	return 8;
}

static int connect_tcp(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t el = sizeof(err);

	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	if (poll(&p, 1, 2000) != 1) {
		printf("timeout\n");
		return 1;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	errno = err;
	return err ? -1 : 0;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: rthdr FORM udp|tcp DST PORT HOP\n");
		return 2;
	}
	const char *form = argv[1];
	struct in_addr probe4;
	int tcp = !strcmp(argv[2], "tcp"), v4 = inet_pton(AF_INET, argv[3], &probe4) == 1;
	int none = !strcmp(form, "none"), cmsg = strstr(form, "cmsg") || strstr(form, "2292");
	unsigned char opt[64], cbuf[CMSG_SPACE(64)] = { 0 };
	size_t optlen;
	struct sockaddr_storage ss = { 0 };
	socklen_t salen;
	int fd, type = !strncmp(form, "srh", 3) ? 4 : !strncmp(form, "rt2", 3) ? 2 : 0;

	if (v4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		struct in_addr hop;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)atoi(argv[4]));
		if (inet_pton(AF_INET, argv[3], &s4->sin_addr) != 1 || inet_pton(AF_INET, argv[5], &hop) != 1)
			return 2;
		salen = sizeof(*s4);
		optlen = build_srr4(opt, form[0] == 's' ? 137 : 131, hop);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		struct in6_addr hop;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)atoi(argv[4]));
		if (inet_pton(AF_INET6, argv[3], &s6->sin6_addr) != 1 || inet_pton(AF_INET6, argv[5], &hop) != 1)
			return 2;
		salen = sizeof(*s6);
		optlen = build_rthdr6(opt, type, &hop);
	}
	fd = socket(v4 ? AF_INET : AF_INET6, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (fd < 0)
		return report_errno("socket");

	int level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
	int name = v4 ? (cmsg ? IP_RETOPTS : IP_OPTIONS) :
		   strstr(form, "2292") ? IPV6_2292RTHDR : IPV6_RTHDR;
	struct cmsghdr *c = (struct cmsghdr *)cbuf;

	c->cmsg_level = level;
	c->cmsg_type = name;
	c->cmsg_len = CMSG_LEN(optlen);
	memcpy(CMSG_DATA(c), opt, optlen);
	if (strstr(form, "pktopt")) {
		c->cmsg_type = IPV6_RTHDR;
		if (setsockopt(fd, level, IPV6_2292PKTOPTIONS, cbuf, CMSG_SPACE(optlen)) < 0)
			return report_errno("setsockopt IPV6_2292PKTOPTIONS");
	} else if (!cmsg && !none && setsockopt(fd, level, name, opt, optlen) < 0) {
		return report_errno("setsockopt");
	}

	if (tcp) {
		int r = connect_tcp(fd, (struct sockaddr *)&ss, salen);

		if (r < 0)
			return report_errno("connect");
		if (r > 0)
			return 1;
		if (write(fd, "x", 1) != 1)
			return report_errno("write");
		printf("ok\n");
		return 0;
	}
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr m = { .msg_name = &ss, .msg_namelen = salen, .msg_iov = &iov, .msg_iovlen = 1 };

	if (cmsg && !strstr(form, "pktopt")) {
		m.msg_control = cbuf;
		m.msg_controllen = CMSG_SPACE(optlen);
	}
	if (sendmsg(fd, &m, 0) < 0)
		return report_errno("sendmsg");
	printf("ok\n");
	return 0;
}
