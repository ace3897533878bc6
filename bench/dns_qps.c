// SPDX-License-Identifier: MIT
/*
 * DNS probe for bench/dns.sh: A queries over UDP from one connected socket.
 *   dns_qps resolve ADDR PORT NAMEFILE
 *       asks for each name of NAMEFILE (one a line) in turn and prints the
 *       first IPv4 address of each answer, one a line (the workload's
 *       lookups before bench/connect_loop.c connects to the addresses);
 *       fails naming the first name that gets no address.
 *   dns_qps load ADDR PORT NAMEFILE INFLIGHT SECONDS RCODE
 *       keeps INFLIGHT queries outstanding for SECONDS, the names cycling
 *       over NAMEFILE, and prints the answers per second (last line).
 *       Every answer must carry RCODE (0 NOERROR, 5 REFUSED, ...): one that
 *       does not fails the run, since a rate of wrong answers means nothing.
 *       A query unanswered after 1 s is counted lost and sent again as a new
 *       one; the counts go to stderr.
 * The socket is connected, so that inside a sandbox sbx's connect4 hook sends
 * it to the sandbox's resolver whatever ADDR is (any port-53 destination).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_NAMES 65536
#define MAX_INFLIGHT 1024	/* the slot is the low 10 bits of the id */
#define QUERY_MAX 300		/* header + a 255-byte name + type and class */
#define LOST_NS 1000000000LL

struct query {
	unsigned char msg[QUERY_MAX];
	size_t len;
};

static struct query *queries;
static long n_queries;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One A/IN query with RD set for NAME into q (id 0, set at send time);
 * -1 when NAME is not a valid host name. */
static int build_query(struct query *q, const char *name)
{
	static const unsigned char head[12] = { 0, 0, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
	size_t pos = sizeof(head);
	const char *p = name;

	memcpy(q->msg, head, sizeof(head));
	while (*p) {
		size_t l = strcspn(p, ".");

		if (l == 0 || l > 63 || pos + 1 + l + 5 > QUERY_MAX)
			return -1;
		q->msg[pos++] = (unsigned char)l;
		memcpy(q->msg + pos, p, l);
		pos += l;
		p += l;
		if (*p == '.')
			p++;
	}
	q->msg[pos++] = 0;
	memcpy(q->msg + pos, "\0\1\0\1", 4);	/* type A, class IN */
	q->len = pos + 4;
	return 0;
}

static int read_names(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[300];

	if (!f) {
		perror(path);
		return -1;
	}
	queries = calloc(MAX_NAMES, sizeof(*queries));
	if (!queries) {
		perror("calloc");
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \t\r\n")] = 0;
		if (!line[0])
			continue;
		if (n_queries == MAX_NAMES || build_query(&queries[n_queries], line)) {
			fprintf(stderr, "%s:%ld: %s: %s\n", path, n_queries + 1, line,
				n_queries == MAX_NAMES ? "too many names" : "not a host name");
			fclose(f);
			return -1;
		}
		n_queries++;
	}
	fclose(f);
	if (n_queries == 0) {
		fprintf(stderr, "%s: no name\n", path);
		return -1;
	}
	return 0;
}

static int open_socket(const char *addr, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int s;

	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "not an IPv4 address: %s\n", addr);
		return -1;
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "connect %s:%d: %s\n", addr, port, strerror(errno));
		return -1;
	}
	return s;
}

static int send_query(int s, long i, uint16_t id)
{
	struct query *q = &queries[i];

	q->msg[0] = (unsigned char)(id >> 8);
	q->msg[1] = (unsigned char)id;
	if (send(s, q->msg, q->len, 0) == (ssize_t)q->len)
		return 0;
	/* a full socket buffer: the query counts as lost and is sent again */
	if (errno == EAGAIN || errno == ENOBUFS)
		return 1;
	perror("send");
	return -1;
}

/* Skips the name at msg[pos]; returns the position after it, or 0. */
static size_t skip_name(const unsigned char *msg, size_t len, size_t pos)
{
	while (pos < len) {
		if (msg[pos] == 0)
			return pos + 1;
		if ((msg[pos] & 0xc0) == 0xc0)
			return pos + 2 <= len ? pos + 2 : 0;
		pos += 1 + msg[pos];
	}
	return 0;
}

/* The first A/IN record of the answer section into *addr: 0, or -1. */
static int first_a(const unsigned char *msg, size_t len, struct in_addr *addr)
{
	size_t pos;
	unsigned an, i;

	if (len < 12 || (msg[3] & 0x0f) != 0 || ((msg[4] << 8) | msg[5]) != 1)
		return -1;
	an = (unsigned)(msg[6] << 8) | msg[7];
	pos = skip_name(msg, len, 12);
	if (!pos || (pos += 4) > len)
		return -1;
	for (i = 0; i < an; i++) {
		unsigned type, class, rdlen;

		pos = skip_name(msg, len, pos);
		if (!pos || pos + 10 > len)
			return -1;
		type = (unsigned)(msg[pos] << 8) | msg[pos + 1];
		class = (unsigned)(msg[pos + 2] << 8) | msg[pos + 3];
		rdlen = (unsigned)(msg[pos + 8] << 8) | msg[pos + 9];
		pos += 10;
		if (pos + rdlen > len)
			return -1;
		if (type == 1 && class == 1 && rdlen == 4) {
			memcpy(addr, msg + pos, 4);
			return 0;
		}
		pos += rdlen;
	}
	return -1;
}

/* One query at a time, 3 tries of 2 s each. */
static int do_resolve(int s)
{
	unsigned char buf[4096];

	for (long i = 0; i < n_queries; i++) {
		uint16_t id = (uint16_t)(i * 7919 + 1);
		struct in_addr a;
		int got = 0;

		for (int try = 0; try < 3 && !got; try++) {
			struct pollfd p = { .fd = s, .events = POLLIN };
			long long deadline = now_ns() + 2 * LOST_NS;

			if (send_query(s, i, id) < 0)
				return 1;
			while (!got && now_ns() < deadline) {
				ssize_t n;

				if (poll(&p, 1, (int)((deadline - now_ns()) / 1000000) + 1) < 0 && errno != EINTR) {
					perror("poll");
					return 1;
				}
				n = recv(s, buf, sizeof(buf), 0);
				if (n < 0 && errno != EAGAIN && errno != EINTR) {
					perror("recv");
					return 1;
				}
				if (n >= 12 && ((buf[0] << 8) | buf[1]) == id)
					got = first_a(buf, (size_t)n, &a) == 0 ? 1 : -1;
			}
		}
		if (got != 1) {
			fprintf(stderr, "resolve: no address for name %ld (%s)\n", i + 1,
				got ? "an answer without one" : "no answer");
			return 1;
		}
		printf("%s\n", inet_ntoa(a));
	}
	return 0;
}

struct slot {
	uint16_t id;
	long long sent;		/* 0: free */
};

static int do_load(int s, int inflight, double seconds, int rcode)
{
	static struct slot slots[MAX_INFLIGHT];
	unsigned char buf[4096];
	long long start = now_ns(), end = start + (long long)(seconds * 1e9), next_sweep = start;
	long answered = 0, lost = 0, wrong = 0, stale = 0, next = 0;
	unsigned gen = 0;

	for (;;) {
		long long t = now_ns();
		struct pollfd p = { .fd = s, .events = POLLIN };

		if (t >= end)
			break;
		for (int i = 0; i < inflight; i++) {
			int r;

			if (slots[i].sent)
				continue;
			slots[i].id = (uint16_t)((gen++ & 0x3f) << 10 | (unsigned)i);
			r = send_query(s, next, slots[i].id);
			if (r < 0)
				return 1;
			next = (next + 1) % n_queries;
			slots[i].sent = t;
			if (r > 0)	/* not sent: left to the lost-query sweep */
				break;
		}
		if (poll(&p, 1, 10) < 0 && errno != EINTR) {
			perror("poll");
			return 1;
		}
		for (;;) {
			ssize_t n = recv(s, buf, sizeof(buf), 0);
			struct slot *sl;

			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n < 0) {
				perror("recv");
				return 1;
			}
			if (n < 12)
				continue;
			sl = &slots[((buf[0] << 8) | buf[1]) & 0x3ff];
			if (!sl->sent || sl->id != ((buf[0] << 8) | buf[1])) {
				stale++;	/* the answer to a query counted lost */
				continue;
			}
			sl->sent = 0;
			if ((buf[3] & 0x0f) != rcode) {
				if (!wrong++)
					fprintf(stderr, "load: rcode %d, not %d\n", buf[3] & 0x0f, rcode);
				continue;
			}
			answered++;
		}
		if (t >= next_sweep) {
			for (int i = 0; i < inflight; i++)
				if (slots[i].sent && t - slots[i].sent > LOST_NS) {
					slots[i].sent = 0;
					lost++;
				}
			next_sweep = t + LOST_NS / 10;
		}
	}
	seconds = (double)(now_ns() - start) / 1e9;
	fprintf(stderr, "load: %ld answered, %ld lost, %ld late, %ld wrong rcode in %.2f s\n",
		answered, lost, stale, wrong, seconds);
	if (wrong)
		return 1;
	printf("%.0f\n", (double)answered / seconds);
	return 0;
}

int main(int argc, char **argv)
{
	int s;

	if (argc == 5 && !strcmp(argv[1], "resolve")) {
		if (read_names(argv[4]) || (s = open_socket(argv[2], atoi(argv[3]))) < 0)
			return 1;
		return do_resolve(s);
	}
	if (argc == 8 && !strcmp(argv[1], "load")) {
		int inflight = atoi(argv[5]);
		double seconds = atof(argv[6]);

		if (inflight < 1 || inflight > MAX_INFLIGHT || seconds <= 0) {
			fprintf(stderr, "load: INFLIGHT 1..%d, SECONDS > 0\n", MAX_INFLIGHT);
			return 2;
		}
		if (read_names(argv[4]) || (s = open_socket(argv[2], atoi(argv[3]))) < 0)
			return 1;
		return do_load(s, inflight, seconds, atoi(argv[7]));
	}
	fprintf(stderr, "usage: dns_qps resolve ADDR PORT NAMEFILE | "
		"load ADDR PORT NAMEFILE INFLIGHT SECONDS RCODE\n");
	return 2;
}
