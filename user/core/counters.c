/* SPDX-License-Identifier: MIT */
/* The monitor's live counters file (core/counters.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/counters.h"
#include "core/run.h"
#include "core/sandbox.h"
#include "sbx_abi.h"
#include "util/util.h"

static int counters_path(const struct sbx_instance *in, uint32_t slot, char *buf, size_t len)
{
	char reg[PATH_MAX + 32];
	int r = sbx_instance_slot_file(in, slot, reg, sizeof(reg));

	if (r < 0)
		return r;
	if ((size_t)snprintf(buf, len, "%s.counters", reg) >= len)
		return -ENAMETOOLONG;
	return 0;
}

SBX_IDLE_PATH void sbx_counters_from_result(const struct sbx_run_result *res, const char *id,
			      struct sbx_monitor_counters *ret)
{
	const uint64_t *d = res->denials;

	memset(ret, 0, sizeof(*ret));
	snprintf(ret->id, sizeof(ret->id), "%s", id);
	ret->events = res->events;
	ret->unwritten = res->unwritten;
	ret->net_denials = d[SBX_EV_NET_CONNECT] + d[SBX_EV_NET_SEND] + d[SBX_EV_NET_BIND] +
			   d[SBX_EV_SOCK_CREATE] + d[SBX_EV_NET_QUOTA] + d[SBX_EV_NET_PACKET] +
			   d[SBX_EV_NET_SOCKOPT] + d[SBX_EV_NET_UNIX];
	ret->file_denials = d[SBX_EV_FILE];
	ret->exec_denials = res->exec_denials;
	ret->syscall_denials = d[SBX_EV_SYSCALL_DENIED];
}

SBX_IDLE_PATH static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* tmp + rename: a reader sees the old file or the new one, never half. */
static int write_file(const char *path, const struct sbx_monitor_counters *c)
{
	char tmp[PATH_MAX + 48], buf[512];
	int fd, n, r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	n = snprintf(buf, sizeof(buf),
		     "id=%s\nevents=%" PRIu64 "\nunwritten=%" PRIu64 "\nnet_denials=%" PRIu64
		     "\nfile_denials=%" PRIu64 "\nexec_denials=%" PRIu64 "\nsyscall_denials=%" PRIu64 "\n",
		     c->id, c->events, c->unwritten, c->net_denials, c->file_denials, c->exec_denials,
		     c->syscall_denials);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)n) != n)
		r = -EIO;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

SBX_IDLE_PATH void sbx_counters_publish(struct sbx_counters_pub *p, const struct sbx_sandbox *sb,
			  const struct sbx_run_result *res)
{
	struct sbx_monitor_counters now;
	char path[PATH_MAX + 48];
	uint64_t t;

	if (!sb->have_slot || !sb->bpf)
		return;
	sbx_counters_from_result(res, sb->id, &now);
	if (p->written && !memcmp(&now, &p->last, sizeof(now)))
		return;
	t = mono_ns();
	if (p->written && t - p->last_ns < SBX_COUNTERS_PERIOD_MS * 1000000ull)
		return;	/* the next batch or the once-a-second summary tick writes it */
	if (counters_path(&sb->bpf->paths, sb->slot, path, sizeof(path)) < 0 ||
	    write_file(path, &now) < 0)
		return;
	p->last = now;
	p->last_ns = t;
	p->written = true;
}

int sbx_counters_read(const struct sbx_instance *in, uint32_t slot, const char *id,
		      struct sbx_monitor_counters *ret)
{
	struct sbx_monitor_counters c = { 0 };
	static const struct { const char *key; size_t off; } keys[] = {
		{ "events=", offsetof(struct sbx_monitor_counters, events) },
		{ "unwritten=", offsetof(struct sbx_monitor_counters, unwritten) },
		{ "net_denials=", offsetof(struct sbx_monitor_counters, net_denials) },
		{ "file_denials=", offsetof(struct sbx_monitor_counters, file_denials) },
		{ "exec_denials=", offsetof(struct sbx_monitor_counters, exec_denials) },
		{ "syscall_denials=", offsetof(struct sbx_monitor_counters, syscall_denials) },
	};
	char path[PATH_MAX + 48], line[128];
	FILE *f;
	int r;

	r = counters_path(in, slot, path, sizeof(path));
	if (r < 0)
		return r;
	/* root-only, but a root workload could leave a FIFO there: sbxd
	 * reads it at each scrape on its only thread */
	f = sbx_fopen_regular(path);
	if (!f)
		return -errno;
	/* seven short lines; a bigger file is not the monitor's */
	for (int n = 0; n < 16 && fgets(line, sizeof(line), f); n++) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "id=", 3)) {
			snprintf(c.id, sizeof(c.id), "%s", line + 3);
			continue;
		}
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strncmp(line, keys[i].key, strlen(keys[i].key)))
				*(uint64_t *)((char *)&c + keys[i].off) =
					strtoull(line + strlen(keys[i].key), NULL, 10);
	}
	fclose(f);
	if (strcmp(c.id, id))
		return -ESTALE;
	*ret = c;
	return 0;
}

void sbx_counters_remove(const struct sbx_instance *in, uint32_t slot)
{
	char path[PATH_MAX + 48];

	if (counters_path(in, slot, path, sizeof(path)) == 0)
		unlink(path);
}
