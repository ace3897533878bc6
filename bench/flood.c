// SPDX-License-Identifier: MIT
/*
 * Denial generator for bench/audit.sh.
 *   flood WORKERS MS RATE PORT [sleep]
 * WORKERS processes (worker i pinned to CPU i modulo the CPU count) each send
 * unconnected UDP datagrams to 127.0.0.1:PORT for MS milliseconds. Inside a
 * sandbox whose policy does not allow that port, each sendto() is denied by
 * the cgroup/sendmsg4 program and audited. RATE 0: as fast as possible;
 * otherwise the workers together pace themselves to RATE attempts per second,
 * spinning between their sends (each holds its CPU whatever the rate), or
 * with "sleep" sleeping while ahead of their schedule (which is absolute: a
 * late wakeup is caught up by sending at once), so that on a machine with
 * few CPUs the workers leave the ring's consumer the CPU they do not need.
 * Prints "ATTEMPTS DENIED SECONDS".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int workers, ms, port, ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	double rate, t0;
	unsigned long long *cnt;

	bool nap = argc == 6 && !strcmp(argv[5], "sleep");

	if (argc != 5 && !nap) {
		fprintf(stderr, "usage: flood WORKERS MS RATE PORT [sleep]\n");
		return 2;
	}
	workers = atoi(argv[1]);
	ms = atoi(argv[2]);
	rate = atof(argv[3]);
	port = atoi(argv[4]);
	if (workers < 1 || workers > 64)
		return 2;
	cnt = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cnt == MAP_FAILED)
		return 1;
	t0 = now();
	for (int w = 0; w < workers; w++) {
		if (fork() == 0) {
			struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
			int s = socket(AF_INET, SOCK_DGRAM, 0);
			double end = t0 + ms / 1e3, per = rate > 0 ? workers / rate : 0, next = now();
			unsigned long long n = 0, denied = 0;
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(w % ncpu, &set);
			sched_setaffinity(0, sizeof(set), &set);
			if (nap)
				prctl(PR_SET_TIMERSLACK, 1UL);	/* wake on time, not 50 us late */
			a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			for (;;) {
				double t = now();

				if (t >= end)
					break;
				if (per > 0 && nap && t < next) {
					struct timespec d = { .tv_nsec = (long)((next - t) * 1e9) };

					nanosleep(&d, NULL);	/* < 1 s: 16 sends a slot */
					continue;
				}
				if (per > 0 && t < next)
					continue;	/* paced: spin until the next slot */
				next += per;
				for (int k = 0; k < 16; k++, n++)
					if (sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof(a)) < 0 &&
					    errno == EPERM)
						denied++;
				if (per > 0)
					next += per * 15;
			}
			cnt[2 * w] = n;
			cnt[2 * w + 1] = denied;
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	{
		unsigned long long n = 0, d = 0;

		for (int w = 0; w < workers; w++) {
			n += cnt[2 * w];
			d += cnt[2 * w + 1];
		}
		printf("%llu %llu %.3f\n", n, d, now() - t0);
	}
	return 0;
}
