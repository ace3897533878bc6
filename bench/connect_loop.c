// SPDX-License-Identifier: MIT
/*
 * connect() cost probe for bench/connect.sh.
 *   connect_loop listen PORT          accept and close connections forever
 *   connect_loop connect PORT COUNT   COUNT x (socket, connect, close) to
 *                                     127.0.0.1:PORT; prints ns per iteration
 *   connect_loop sendto PORT COUNT    COUNT x unconnected UDP sendto
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

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int do_listen(int port)
{
	struct sockaddr_in a = loopback(port);
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);

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

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int do_loop(int port, long count, int udp)
{
	struct sockaddr_in a = loopback(port);
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

		if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a))) {
			perror("connect");
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
	if (argc == 3 && !strcmp(argv[1], "listen"))
		return do_listen(atoi(argv[2]));
	if (argc == 4 && (!strcmp(argv[1], "connect") || !strcmp(argv[1], "sendto")))
		return do_loop(atoi(argv[2]), atol(argv[3]), !strcmp(argv[1], "sendto"));
	fprintf(stderr, "usage: connect_loop listen PORT | connect|sendto PORT COUNT\n");
	return 2;
}
