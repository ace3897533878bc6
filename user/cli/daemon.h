/* SPDX-License-Identifier: MIT */
/*
 * The CLI as a client of sbxd (daemon_cmd.c): the verbs start, stop,
 * restart, rm, status, ls, logs, update and reload, and the helpers that
 * sbx run and sbx kill use when the daemon runs.
 */
#ifndef SBX_CLI_DAEMON_H
#define SBX_CLI_DAEMON_H

#include <errno.h>
#include <stdbool.h>

#include "cli/adhoc.h"
#include "libsbx/libsbx.h"

/* The --socket option of every verb that talks to sbxd. */
#define CLI_OPT_SOCKET 90
#define CLI_SOCKET_OPTION { "socket", 0, true, CLI_OPT_SOCKET, CLI_ARG_FILE }
#define CLI_SOCKET_HELP \
	"  --socket PATH      sbxd's socket (default $SBX_SOCKET, else\n" \
	"                     /run/sbx/sbxd.sock)\n"

/* Connects to sbxd. Returns 0; -ENOENT or -ECONNREFUSED when it is not
 * running (reported unless quiet); another -errno (reported). */
int cli_daemon_open(const char *socket, bool quiet, struct sbx_client **ret);

/* Whether r from sbx_client_open() means that no daemon listens. */
static inline bool cli_daemon_absent(int r)
{
	return r == -ENOENT || r == -ECONNREFUSED;
}

/* Reports the failure of a call (the daemon's error as a sentence);
 * returns r. */
int cli_daemon_error(struct sbx_client *c, int r);

/* The overrides of the ad-hoc flags for Run and Start (ret->ov); -EINVAL
 * (logged) for what the API cannot carry. The strings point into a. */
struct cli_overrides {
	struct sbx_overrides ov;
	const char *lists[4][ADHOC_MAX_ARGS + 1];	/* NULL-terminated copies */
};
int cli_daemon_overrides(const struct adhoc_args *a, struct cli_overrides *ret);

/* sbx run through sbxd: the exit status of the workload (125 when sbx or
 * the daemon failed). argv is NULL-terminated. */
int cli_daemon_run(struct sbx_client *c, const char *profile, const char *name,
		   const struct adhoc_args *a, char **argv, bool tty);

#endif
