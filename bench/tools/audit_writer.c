// SPDX-License-Identifier: MIT
/*
 * The audit writer's capacity, apart from the ring and the workload, for
 * bench/audit.sh: N events of a UDP flood (net.send denied by the mode's
 * default, as bench/flood.c makes them) are formatted by sbx's own
 * formatter (core/audit.c) into one buffer, which goes to a log through
 * sbx's own writer (core/auditlog.c: flock, fstatat, write) every 64 KiB,
 * as `sbx run` does it. CPU time (user + system) is what the machine's other
 * load changes least.
 *   audit_writer N LOGFILE
 * Prints "EVENTS CPU_SECONDS WALL_SECONDS BYTES".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/audit.h"
#include "core/auditlog.h"
#include "sbx_abi.h"

#define BATCH 65536	/* AUDIT_BATCH_MAX of core/run.c */

static double seconds(clockid_t clk)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sbx_profile p = { .name = (char *)"flood" };
	struct sbx_audit_ctx c = { .sandbox_id = "sbx-1a2b3c4d", .profile = &p };
	struct sbx_ev_net ev = { 0 };
	struct json_buf b = { 0 };
	struct sbx_auditlog log;
	unsigned long long bytes = 0;
	double cpu0, wall0;
	char why[256];
	long n;

	if (argc != 3 || (n = atol(argv[1])) <= 0) {
		fprintf(stderr, "usage: audit_writer N LOGFILE\n");
		return 2;
	}
	if (sbx_auditlog_open(&log, argv[2], 0, 0, why, sizeof(why)) < 0) {
		fprintf(stderr, "audit_writer: %s\n", why);
		return 1;
	}
	p.net.mode = SBX_NET_ALLOW;
	c.mono_to_real_ns = sbx_audit_clock_offset();
	ev.hdr.type = SBX_EV_NET_SEND;
	ev.hdr.size = sizeof(ev);
	ev.hdr.pid = ev.hdr.tgid = 4242;
	ev.hdr.cgroup_id = 8812;
	memcpy(ev.hdr.comm, "flood", 6);
	ev.verdict = SBX_VERDICT_DENY;
	ev.family = 4;
	ev.proto = 17;
	ev.port = 18090;
	ev.rule = SBX_RULE_DEFAULT;
	ev.addr[0] = 127;
	ev.addr[3] = 1;
	cpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	wall0 = seconds(CLOCK_MONOTONIC);
	for (long i = 0; i < n; i++) {
		struct json_writer w;

		ev.hdr.seq = (uint64_t)i + 1;
		ev.hdr.ts_ns = (uint64_t)(seconds(CLOCK_MONOTONIC) * 1e9);
		json_init_buf(&w, &b, false);
		if (sbx_audit_event_json(&w, &c, &ev, sizeof(ev)) < 0)
			return 1;
		if (b.len >= BATCH || i == n - 1) {
			if (sbx_auditlog_write(&log, b.data, b.len) < 0)
				return 1;
			bytes += b.len;
			json_buf_clear(&b);
		}
	}
	printf("%ld %.4f %.4f %llu\n", n, seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0,
	       seconds(CLOCK_MONOTONIC) - wall0, bytes);
	json_buf_free(&b);
	sbx_auditlog_close(&log);
	return 0;
}
