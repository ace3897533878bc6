// SPDX-License-Identifier: MIT
/*
 * nettool: the socket operations of the integration tests, one per run, so
 * that a shell test can run exactly one syscall pattern inside a sandbox and
 * see the errno the workload got.
 *
 *   nettool connect HOST PORT [PROTO [SRC]] connect(2) (TCP: then close; datagram
 *                                           protocols: then send one byte), after
 *                                           binding to SRC (port 0) when given
 *   nettool sendto HOST PORT COUNT SIZE [udp|udplite [SRC]]
 *                                           COUNT unconnected datagrams of SIZE bytes
 *   nettool tcpsend HOST PORT BYTES         connect, write BYTES, shutdown, wait for EOF
 *   nettool bind PORT [PROTO] [4|6]         bind(2) to the loopback address
 *   nettool socket inet|inet6 PROTO         socket(2) only
 *   nettool raw [6]                         socket(AF_INET[6], SOCK_RAW, IPPROTO_ICMP[V6])
 *   nettool rawsend HOST PROTO              one 8-byte datagram of IP protocol PROTO (raw)
 *   nettool packet                          socket(AF_PACKET, SOCK_RAW, ETH_P_ALL)
 *   nettool ping HOST                       one ICMP (v6: ICMPv6) echo through a ping socket
 *   nettool fastopen HOST PORT              TCP Fast Open: sendto(MSG_FASTOPEN) without connect
 *   nettool listen HOST PORT [tcp|udp]      serve until killed; prints "port N" when ready
 *   nettool flood HOST PORT COUNT [RATE]    COUNT connect(2)s of one UDP socket;
 *                                           RATE: paced to RATE a second, sleeping
 *                                           between them (an absolute schedule)
 *   nettool selflisten PORT|- [4|6]         TCP listener on loopback (bound to PORT, or
 *                                           "-": listen() without bind), then a peer
 *                                           socket connects to it (1.5 s) and one byte
 *                                           goes each way; prints "port=N" too (the
 *                                           bound port, also when listen fails)
 *
 *   nettool family FAM TYPE PROTO           socket() with numeric arguments
 *   nettool unix stream|dgram|abstract ADDR connect and read "hello", or send a datagram
 *   nettool userve DIR NAME                 unix servers in DIR and at abstract NAME
 *
 * PROTO: tcp, udp, udplite, sctp (SOCK_STREAM), sctp-seq (SOCK_SEQPACKET with
 * protocol 0, which the kernel resolves to SCTP), dccp, mptcp.
 * HOST is a numeric IPv4 or IPv6 address ("::ffff:127.0.0.1" uses an AF_INET6
 * socket). Output: one line, "ok" (possibly followed by details) or the errno
 * name ("EPERM"), plus "sent=N" where counting matters. Exit status: 0 on
 * success, 1 on EPERM or EACCES, 2 on any other error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EADDRINUSE: return "EADDRINUSE";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case ENETUNREACH: return "ENETUNREACH";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EINVAL: return "EINVAL";
	case EMSGSIZE: return "EMSGSIZE";
	case ENOBUFS: return "ENOBUFS";
	}
	return strerrorname_np(e) ? strerrorname_np(e) : "EUNKNOWN";
}

/* Prints the errno result and returns the exit status for it. */
static int result_errno(int e, const char *extra)
{
	printf("%s%s%s\n", errname(e), extra ? " " : "", extra ? extra : "");
	fflush(stdout);
	return e == EPERM || e == EACCES ? 1 : 2;
}

static int ok(const char *extra)
{
	printf("ok%s%s\n", extra ? " " : "", extra ? extra : "");
	fflush(stdout);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: nettool connect|sendto|tcpsend|bind|socket|raw|rawsend|packet|ping|fastopen|listen|selflisten|flood|family|unix|userve ...\n");
	return 2;
}

/* Numeric address -> sockaddr; returns the family or -1. */
static int parse_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return AF_INET6;
	}
	fprintf(stderr, "nettool: not a numeric address: %s\n", host);
	return -1;
}

/* Protocol names of the command line -> socket(2) type and protocol. */
static const struct {
	const char *name;
	int type, proto;
} protos[] = {
	{ "tcp", SOCK_STREAM, 0 },
	{ "udp", SOCK_DGRAM, 0 },
	{ "udplite", SOCK_DGRAM, 136 },		/* IPPROTO_UDPLITE */
	{ "sctp", SOCK_STREAM, 132 },		/* IPPROTO_SCTP */
	{ "sctp-seq", SOCK_SEQPACKET, 0 },
	{ "dccp", 6, 33 },			/* SOCK_DCCP, IPPROTO_DCCP */
	{ "mptcp", SOCK_STREAM, 262 },		/* IPPROTO_MPTCP */
};

static int sock_proto(const char *s, int *ret_type, int *ret_proto)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (strcmp(s ? s : "tcp", protos[i].name) == 0) {
			*ret_type = protos[i].type;
			*ret_proto = protos[i].proto;
			return 0;
		}
	}
	return -1;
}

/* Binds fd to SRC port 0 (same family as the socket). */
static int bind_src(int fd, const char *src)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (parse_addr(src, 0, &ss, &len) < 0)
		return -EINVAL;
	return bind(fd, (struct sockaddr *)&ss, len) < 0 ? -errno : 0;
}

static int cmd_connect(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam, type, proto, fd, r;

	if (argc < 2)
		return usage();
	fam = parse_addr(argv[0], atoi(argv[1]), &ss, &len);
	if (fam < 0 || sock_proto(argc > 2 ? argv[2] : NULL, &type, &proto) < 0)
		return usage();
	fd = socket(fam, type | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return result_errno(errno, "socket");
	if (argc > 3 && (r = bind_src(fd, argv[3])) < 0)
		return result_errno(-r, "bind");
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		return result_errno(errno, NULL);
	if (type == SOCK_DGRAM && send(fd, "x", 1, 0) != 1)
		return result_errno(errno, "send");
	close(fd);
	return ok(NULL);
}

static int cmd_sendto(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	long count, size, sent = 0;
	char extra[64], *buf;
	int fam, fd, type, proto, r;

	if (argc < 4)
		return usage();
	fam = parse_addr(argv[0], atoi(argv[1]), &ss, &len);
	count = atol(argv[2]);
	size = atol(argv[3]);
	if (fam < 0 || count < 0 || size < 0 || size > 65000 ||
	    sock_proto(argc > 4 ? argv[4] : "udp", &type, &proto) < 0 || type != SOCK_DGRAM)
		return usage();
	buf = calloc(1, (size_t)size + 1);
	fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return result_errno(errno, "socket");
	if (argc > 5 && (r = bind_src(fd, argv[5])) < 0)
		return result_errno(-r, "bind");
	for (; sent < count; sent++) {
		memset(buf, 'a' + (int)(sent % 26), (size_t)size);
		if (sendto(fd, buf, (size_t)size, 0, (struct sockaddr *)&ss, len) != size) {
			snprintf(extra, sizeof(extra), "sent=%ld", sent);
			return result_errno(errno, extra);
		}
	}
	close(fd);
	snprintf(extra, sizeof(extra), "sent=%ld", sent);
	return ok(extra);
}

static int cmd_tcpsend(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	long bytes, done = 0;
	char buf[4096], extra[64];
	int fam, fd;

	if (argc < 3)
		return usage();
	fam = parse_addr(argv[0], atoi(argv[1]), &ss, &len);
	bytes = atol(argv[2]);
	if (fam < 0)
		return usage();
	memset(buf, 'x', sizeof(buf));
	fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return result_errno(errno, "socket");
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		return result_errno(errno, "connect");
	while (done < bytes) {
		size_t n = (size_t)(bytes - done) < sizeof(buf) ? (size_t)(bytes - done) : sizeof(buf);
		ssize_t w = write(fd, buf, n);

		if (w < 0) {
			snprintf(extra, sizeof(extra), "sent=%ld", done);
			return result_errno(errno, extra);
		}
		done += w;
	}
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	snprintf(extra, sizeof(extra), "sent=%ld", done);
	return ok(extra);
}

static int cmd_bind(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam, type, proto, fd;

	if (argc < 1)
		return usage();
	fam = parse_addr(argc > 2 && !strcmp(argv[2], "6") ? "::1" : "127.0.0.1", atoi(argv[0]), &ss, &len);
	if (sock_proto(argc > 1 ? argv[1] : NULL, &type, &proto) < 0 || fam < 0)
		return usage();
	fd = socket(fam, type | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return result_errno(errno, "socket");
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return result_errno(errno, NULL);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		char extra[32];

		snprintf(extra, sizeof(extra), "port=%u", ntohs(((struct sockaddr_in *)&ss)->sin_port));
		close(fd);
		return ok(extra);
	}
	close(fd);
	return ok(NULL);
}

static int cmd_socket(int argc, char **argv)
{
	int fam, type, proto, fd;

	if (argc < 2)
		return usage();
	fam = !strcmp(argv[0], "inet6") ? AF_INET6 : !strcmp(argv[0], "inet") ? AF_INET : -1;
	if (fam < 0 || sock_proto(argv[1], &type, &proto) < 0)
		return usage();
	fd = socket(fam, type | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return result_errno(errno, NULL);
	close(fd);
	return ok(NULL);
}

static int cmd_raw(int argc, char **argv)
{
	bool v6 = argc > 0 && !strcmp(argv[0], "6");
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);

	if (fd < 0)
		return result_errno(errno, NULL);
	close(fd);
	return ok(NULL);
}

/* One 8-byte datagram of IP protocol PROTO through a raw socket. */
static int cmd_rawsend(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam, fd;

	if (argc < 2)
		return usage();
	fam = parse_addr(argv[0], 0, &ss, &len);
	if (fam < 0)
		return usage();
	fd = socket(fam, SOCK_RAW | SOCK_CLOEXEC, atoi(argv[1]));
	if (fd < 0)
		return result_errno(errno, "socket");
	if (sendto(fd, "\0\1\0\2\0\0\0\0", 8, 0, (struct sockaddr *)&ss, len) != 8)
		return result_errno(errno, "sendto");
	close(fd);
	return ok(NULL);
}

static int cmd_packet(void)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	if (fd < 0)
		return result_errno(errno, NULL);
	close(fd);
	return ok(NULL);
}

/* One echo request; "ok" when the reply came back within 1 s. */
static int cmd_ping(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct icmphdr icmp = { .type = ICMP_ECHO };
	struct pollfd pfd;
	socklen_t len;
	char reply[256];
	int fam, fd;

	if (argc < 1)
		return usage();
	fam = parse_addr(argv[0], 0, &ss, &len);
	if (fam < 0)
		return usage();
	fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, fam == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	if (fd < 0)
		return result_errno(errno, "socket");
	if (fam == AF_INET6)
		icmp.type = 128;	/* ICMPV6_ECHO_REQUEST */
	icmp.un.echo.sequence = htons(1);
	if (sendto(fd, &icmp, sizeof(icmp), 0, (struct sockaddr *)&ss, len) < 0)
		return result_errno(errno, "sendto");
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, 1000) != 1)
		return result_errno(ETIMEDOUT, "no reply");
	if (recv(fd, reply, sizeof(reply), 0) < 0)
		return result_errno(errno, "recv");
	close(fd);
	return ok(NULL);
}

/* Serves until killed: TCP reads each connection to EOF (children would be
 * overkill: connections are handled one after the other), UDP drains. */
static int cmd_listen(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[65536];
	int fam, type, proto, fd, one = 1;

	if (argc < 2)
		return usage();
	fam = parse_addr(argv[0], atoi(argv[1]), &ss, &len);
	if (fam < 0 || sock_proto(argc > 2 ? argv[2] : NULL, &type, &proto) < 0)
		return usage();
	signal(SIGPIPE, SIG_IGN);
	fd = socket(fam, type | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return result_errno(errno, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fam == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return result_errno(errno, "bind");
	if (type == SOCK_STREAM && listen(fd, 4096) < 0)
		return result_errno(errno, "listen");
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	printf("port %u\n", ntohs(fam == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					       : ((struct sockaddr_in6 *)&ss)->sin6_port));
	fflush(stdout);
	for (;;) {
		if (type == SOCK_DGRAM) {
			if (recv(fd, buf, sizeof(buf), 0) < 0 && errno != EINTR)
				return result_errno(errno, "recv");
			continue;
		}
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			continue;
		while (read(c, buf, sizeof(buf)) > 0)
			;
		close(c);
	}
}

/* Connects a peer to the listener fd on loopback port and passes a byte each
 * way; 0 or -errno (ETIMEDOUT when the SYN goes unanswered). */
static int self_exchange(int lfd, int fam, struct sockaddr_storage *ss, socklen_t len)
{
	struct pollfd pfd = { .events = POLLOUT };
	int fd, c, e = 0;
	socklen_t elen = sizeof(e);
	char b = 'x';

	fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)ss, len) < 0 && errno != EINPROGRESS)
		e = errno;
	pfd.fd = fd;
	if (!e && poll(&pfd, 1, 1500) != 1)
		e = ETIMEDOUT;
	if (!e && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
		e = errno;
	if (e) {
		close(fd);
		return -e;
	}
	c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0 || write(c, &b, 1) != 1 || send(fd, &b, 1, 0) != 1)
		e = errno;
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (!e && (poll(&pfd, 1, 1500) != 1 || recv(fd, &b, 1, 0) != 1 || read(c, &b, 1) != 1))
		e = EIO;
	if (c >= 0)
		close(c);
	close(fd);
	return -e;
}

static int cmd_selflisten(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	bool unbound = argc > 0 && !strcmp(argv[0], "-");
	int fam, fd, r;
	char extra[32];

	if (argc < 1)
		return usage();
	fam = parse_addr(argc > 1 && !strcmp(argv[1], "6") ? "::1" : "127.0.0.1",
			 unbound ? 0 : atoi(argv[0]), &ss, &len);
	if (fam < 0)
		return usage();
	fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return result_errno(errno, "socket");
	if (!unbound && bind(fd, (struct sockaddr *)&ss, len) < 0)
		return result_errno(errno, "bind");
	r = listen(fd, 16) < 0 ? errno : 0;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return result_errno(errno, "getsockname");
	snprintf(extra, sizeof(extra), "%sport=%u", r ? "listen " : "",
		 ntohs(fam == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
				      : ((struct sockaddr_in6 *)&ss)->sin6_port));
	if (r)
		return result_errno(r, extra);
	if (unbound) {
		/* listen() bound the any-address: connect to loopback */
		uint16_t port = fam == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					       : ((struct sockaddr_in6 *)&ss)->sin6_port;

		parse_addr(fam == AF_INET ? "127.0.0.1" : "::1", ntohs(port), &ss, &len);
	}
	r = self_exchange(fd, fam, &ss, len);
	close(fd);
	return r < 0 ? result_errno(-r, extra) : ok(extra);
}

static int cmd_fastopen(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam, fd;

	if (argc < 2)
		return usage();
	fam = parse_addr(argv[0], atoi(argv[1]), &ss, &len);
	if (fam < 0)
		return usage();
	fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return result_errno(errno, "socket");
	if (sendto(fd, "x", 1, MSG_FASTOPEN, (struct sockaddr *)&ss, len) < 0)
		return result_errno(errno, NULL);
	close(fd);
	return ok(NULL);
}

static int cmd_flood(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	long count, done = 0, denied = 0, rate = argc > 3 ? atol(argv[3]) : 0;
	struct timespec next;
	char extra[64];
	int fam, fd;

	if (argc < 3 || rate < 0 || rate > 1000000000)
		return usage();
	fam = parse_addr(argv[0], atoi(argv[1]), &ss, &len);
	count = atol(argv[2]);
	if (fam < 0)
		return usage();
	fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return result_errno(errno, "socket");
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long i = 0; i < count; i++) {
		if (rate) {
			next.tv_nsec += 1000000000 / rate;
			if (next.tv_nsec >= 1000000000) {
				next.tv_sec++;
				next.tv_nsec -= 1000000000;
			}
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		}
		if (connect(fd, (struct sockaddr *)&ss, len) == 0)
			done++;
		else
			denied++;
	}
	close(fd);
	snprintf(extra, sizeof(extra), "connects=%ld failed=%ld", done, denied);
	if (denied)
		return result_errno(EPERM, extra);
	return ok(extra);
}

/* family FAM TYPE PROTO: socket() with numeric arguments (vsock 40, ...). */
static int cmd_family(int argc, char **argv)
{
	int fd;

	if (argc < 3)
		return usage();
	fd = socket(atoi(argv[0]), atoi(argv[1]), atoi(argv[2]));
	if (fd < 0)
		return result_errno(errno, NULL);
	close(fd);
	return ok(NULL);
}

/* An AF_UNIX address: a path, or with abstract an abstract NAME. */
static socklen_t unix_addr(struct sockaddr_un *un, const char *name, bool abstract)
{
	size_t n = strlen(name);

	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	if (n > sizeof(un->sun_path) - 2)
		n = sizeof(un->sun_path) - 2;
	memcpy(un->sun_path + abstract, name, n);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract + n + !abstract);
}

/* unix stream|dgram|abstract ADDR: connect and read the server's "hello",
 * or send one datagram to ADDR. */
static int cmd_unix(int argc, char **argv)
{
	bool dgram, abstract;
	struct sockaddr_un un;
	socklen_t len;
	char buf[8] = "";
	int fd, r;

	if (argc < 2)
		return usage();
	dgram = !strcmp(argv[0], "dgram");
	abstract = !strcmp(argv[0], "abstract");
	len = unix_addr(&un, argv[1], abstract);
	fd = socket(AF_UNIX, dgram ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0)
		return result_errno(errno, "socket");
	if (dgram)
		r = sendto(fd, "x", 1, 0, (struct sockaddr *)&un, len) == 1 ? 0 : -1;
	else
		r = connect(fd, (struct sockaddr *)&un, len) == 0 &&
		    read(fd, buf, 6) == 6 && !memcmp(buf, "hello\n", 6) ? 0 : -1;
	if (r < 0)
		return result_errno(errno ? errno : EIO, NULL);
	close(fd);
	return ok(NULL);
}

static int unix_listener(const char *name, bool abstract, int type)
{
	struct sockaddr_un un;
	socklen_t len = unix_addr(&un, name, abstract);
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&un, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) < 0))
		return -1;
	if (!abstract)
		chmod(name, 0777);
	return fd;
}

/* userve DIR NAME: stream DIR/app.sock, datagram DIR/log.sock, symlink
 * DIR/link.sock -> app.sock, abstract stream NAME; creates DIR/ready, then
 * answers every connection with "hello\n" until killed. */
static int cmd_userve(int argc, char **argv)
{
	char app[256], log[256], link[256], ready[256];
	struct pollfd p[3];
	int fd;

	if (argc < 2)
		return usage();
	snprintf(app, sizeof(app), "%s/app.sock", argv[0]);
	snprintf(log, sizeof(log), "%s/log.sock", argv[0]);
	snprintf(link, sizeof(link), "%s/link.sock", argv[0]);
	snprintf(ready, sizeof(ready), "%s/ready", argv[0]);
	p[0].fd = unix_listener(app, false, SOCK_STREAM);
	p[1].fd = unix_listener(argv[1], true, SOCK_STREAM);
	p[2].fd = unix_listener(log, false, SOCK_DGRAM);
	if (p[0].fd < 0 || p[1].fd < 0 || p[2].fd < 0 || symlink(app, link) < 0)
		return result_errno(errno, "userve");
	fd = open(ready, O_CREAT | O_WRONLY, 0644);
	if (fd < 0)
		return result_errno(errno, "ready");
	close(fd);
	for (int i = 0; i < 3; i++)
		p[i].events = POLLIN;
	for (;;) {
		if (poll(p, 3, -1) < 0)
			continue;
		for (int i = 0; i < 2; i++) {
			int c = (p[i].revents & POLLIN) ? accept(p[i].fd, NULL, NULL) : -1;

			if (c >= 0) {
				if (write(c, "hello\n", 6) < 0)
					perror("write");
				close(c);
			}
		}
		if (p[2].revents & POLLIN) {
			char b[64];

			if (recv(p[2].fd, b, sizeof(b), 0) < 0)
				perror("recv");
		}
	}
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	argc -= 2;
	argv += 2;
	if (!strcmp(cmd, "connect"))
		return cmd_connect(argc, argv);
	if (!strcmp(cmd, "sendto"))
		return cmd_sendto(argc, argv);
	if (!strcmp(cmd, "tcpsend"))
		return cmd_tcpsend(argc, argv);
	if (!strcmp(cmd, "bind"))
		return cmd_bind(argc, argv);
	if (!strcmp(cmd, "socket"))
		return cmd_socket(argc, argv);
	if (!strcmp(cmd, "raw"))
		return cmd_raw(argc, argv);
	if (!strcmp(cmd, "rawsend"))
		return cmd_rawsend(argc, argv);
	if (!strcmp(cmd, "packet"))
		return cmd_packet();
	if (!strcmp(cmd, "ping"))
		return cmd_ping(argc, argv);
	if (!strcmp(cmd, "listen"))
		return cmd_listen(argc, argv);
	if (!strcmp(cmd, "selflisten"))
		return cmd_selflisten(argc, argv);
	if (!strcmp(cmd, "fastopen"))
		return cmd_fastopen(argc, argv);
	if (!strcmp(cmd, "flood"))
		return cmd_flood(argc, argv);
	if (!strcmp(cmd, "family"))
		return cmd_family(argc, argv);
	if (!strcmp(cmd, "unix"))
		return cmd_unix(argc, argv);
	if (!strcmp(cmd, "userve"))
		return cmd_userve(argc, argv);
	return usage();
}
