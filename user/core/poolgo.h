/* SPDX-License-Identifier: MIT */
/*
 * sbxd's warm pools: the "go" between sbxd and a pooled monitor.
 *
 * A pool entry is an `sbx run` monitor that sbxd started with
 * $SBX_POOL_FD naming one end of a SOCK_SEQPACKET pair. It builds the whole
 * sandbox for the pool's profile (slot, cgroup and limits, maps, audit
 * sinks, the provider's preparation with its seccomp filter), then sends
 * one byte, SBX_POOL_READY, and waits. sbxd hands it out with ONE message:
 * the fields below as "key=value\0" strings and the workload's stdin,
 * stdout and stderr as SCM_RIGHTS. Only what varies per start travels: the
 * profile, the provider and the caller's identity are the pool's key and
 * never change after the entry was built. End of file instead of a message
 * (sbxd drained the pool or died) tears the entry down; nothing ran. After
 * the go the monitor sends SBX_POOL_DONE once the workload has ended and
 * its result is written, then tears down (sbxd answers a Run at that byte).
 *
 *   arg=true          one per argument, in order (at least one)
 *   policy=/var/lib/sbx/sandboxes/web-1/profile.toml
 *   result=/var/lib/sbx/sandboxes/web-1/result.json
 *   log=/var/lib/sbx/sandboxes/web-1/output.log   (with log_max_size=, log_keep=)
 *   tty=1
 */
#ifndef SBX_POOLGO_H
#define SBX_POOLGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SBX_POOL_READY		'R'
#define SBX_POOL_DONE		'D'	/* monitor -> sbxd after the go: result written, teardown next */
#define SBX_POOL_MSG_MAX	(128 * 1024)	/* a longer command is started cold */
#define SBX_POOL_ARGS_MAX	4096

struct sbx_pool_go {
	char *argv[SBX_POOL_ARGS_MAX + 1];	/* NULL-terminated, into buf */
	const char *policy, *result, *log, *log_max_size, *log_keep;
	bool tty;
	int fds[3];			/* stdin, stdout, stderr */
	char *buf;			/* the message; owns the strings */
};

/* sbxd: appends "key=value\0" to buf (len, cap); -E2BIG past cap. */
int sbx_pool_go_add(char *buf, size_t *len, size_t cap, const char *key, const char *value);
/* sbxd: sends the message with the three descriptors. */
int sbx_pool_go_send(int sock, const char *msg, size_t len, const int fds[3]);
/* The monitor: says it is ready, then waits for the go, for sigfd or for
 * childfd (a held sandbox's init, -1: none) to end.
 * -EPIPE: end of file (drained); -EINTR: a signal; -ECHILD: the init
 * ended; -EBADMSG: a message that is not one. *ret is filled only on success. */
int sbx_pool_go_wait(int sock, int sigfd, int childfd, struct sbx_pool_go *ret);
void sbx_pool_go_free(struct sbx_pool_go *g);

#endif
