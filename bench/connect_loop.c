// SPDX-License-Identifier: MIT
/*
 * connect() cost probe for bench/enforce.sh, bench/connect.sh and bench/dns.sh.
 *   connect_loop listen PORT [ADDR]   accept and close connections forever,
 *                                     on ADDR (default 127.0.0.1; 0.0.0.0
 *                                     takes every local address)
 *   connect_loop connect PORT COUNT [ADDRFILE]
 *                                     COUNT x (socket, connect, close) to
 *                                     127.0.0.1:PORT, or to the IPv4
 *                                     addresses of ADDRFILE (one a line, "-"
 *                                     for stdin) in turn; prints ns per
 *                                     iteration
 *   connect_loop sendto PORT COUNT    COUNT x unconnected UDP sendto
 * With BENCH_CLOCK=cpu in the environment, the loops print CPU time of the
 * process (user + system) per iteration instead: on a loaded machine the
 * time spent waiting for a CPU is left out (loopback's receive side runs in
 * the sender's softirq, so most of the listener's packet work is in it).
 * The client closes with SO_LINGER 0 (a reset): no TIME_WAIT is left, so
 * that many runs do not exhaust the ephemeral ports and slow connect() down
 * (which made interleaved figures bimodal).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_ADDRS 65536

static struct sockaddr_in ipv4(uint32_t addr, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	a.sin_addr.s_addr = addr;
	return a;
}

static int do_listen(int port, const char *host)
{
	struct sockaddr_in a = ipv4(htonl(INADDR_LOOPBACK), port);
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);

	if (host && inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		fprintf(stderr, "listen: not an IPv4 address: %s\n", host);
		return 2;
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4096)) {
		perror("listen");
		return 1;
	}
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c >= 0)
			close(c);
	}
}

/* The addresses of PATH ("-": stdin) into addrs[]; returns how many, or -1
 * (said on stderr) when a line is not an IPv4 address or there is none. */
static long read_addrs(const char *path, uint32_t *addrs)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char line[64];
	long n = 0, lineno = 0;

	if (!f) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct in_addr a;

		lineno++;
		line[strcspn(line, " \t\r\n")] = 0;
		if (!line[0])
			continue;
		if (inet_pton(AF_INET, line, &a) != 1 || n == MAX_ADDRS) {
			fprintf(stderr, "%s:%ld: %s: %s\n", path, lineno, line,
				n == MAX_ADDRS ? "too many addresses" : "not an IPv4 address");
			n = -1;
			break;
		}
		addrs[n++] = a.s_addr;
	}
	if (f != stdin)
		fclose(f);
	if (n == 0)
		fprintf(stderr, "%s: no address\n", path);
	return n > 0 ? n : -1;
}

static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void)
{
	struct timespec ts;

	clock_gettime(clock_id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int do_loop(int port, long count, int udp, const uint32_t *addrs, long n_addrs)
{
	struct sockaddr_in a = ipv4(addrs[0], port);
	int us = udp ? socket(AF_INET, SOCK_DGRAM, 0) : -1;
	double t0 = now();

	for (long i = 0; i < count; i++) {
		if (udp) {
			if (sendto(us, "x", 1, 0, (struct sockaddr *)&a, sizeof(a)) != 1) {
				perror("sendto");
				return 1;
			}
			continue;
		}
		int s = socket(AF_INET, SOCK_STREAM, 0);

		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		a.sin_addr.s_addr = addrs[i % n_addrs];
		if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a))) {
			fprintf(stderr, "connect %s:%d: %s\n", inet_ntoa(a.sin_addr), port, strerror(errno));
			return 1;
		}
		setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(s);
	}
	printf("%.1f\n", (now() - t0) / (double)count);
	return 0;
}

int main(int argc, char **argv)
{
	static uint32_t addrs[MAX_ADDRS];
	long n_addrs = 1;

	addrs[0] = htonl(INADDR_LOOPBACK);
	if (getenv("BENCH_CLOCK") && !strcmp(getenv("BENCH_CLOCK"), "cpu"))
		clock_id = CLOCK_PROCESS_CPUTIME_ID;
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "listen"))
		return do_listen(atoi(argv[2]), argc == 4 ? argv[3] : NULL);
	if ((argc == 4 && !strcmp(argv[1], "sendto")) ||
	    ((argc == 4 || argc == 5) && !strcmp(argv[1], "connect"))) {
		if (argc == 5 && (n_addrs = read_addrs(argv[4], addrs)) < 0)
			return 1;
		return do_loop(atoi(argv[2]), atol(argv[3]), !strcmp(argv[1], "sendto"), addrs, n_addrs);
	}
	fprintf(stderr, "usage: connect_loop listen PORT [ADDR] | connect PORT COUNT [ADDRFILE] | "
		"sendto PORT COUNT\n");
	return 2;
}
