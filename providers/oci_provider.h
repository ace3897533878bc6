/* SPDX-License-Identifier: MIT */
/*
 * The provider "oci" of sbx-oci's manager (user/oci/enforce.c): sbx_run
 * builds the sandbox as for any provider, but the workload is an OCI
 * container's init, which sbx-oci's `create` starts itself with clone3
 * (CLONE_INTO_CGROUP) into the cgroup this provider hands over. spawn()
 * sends the cgroup fd and the sandbox id to the creator over a
 * SOCK_SEQPACKET socket and waits for the init's pid; wait() reports the
 * end once the init has exited and the cgroup is empty. The manager is not
 * the init's parent (the engine's subreaper reaps it), so the exit status
 * is read from /proc while the init is a zombie, if the reaper has not
 * reaped it yet (else sandbox.exit says nothing of it: SBX_LIFE_NO_STATUS).
 *
 * Messages (struct sbx_oci_msg), one per datagram:
 *   manager -> creator: READY (+ the cgroup fd; id, cgroup path) or ERROR (text)
 *   creator -> manager: DONE (pid) or ABORT (EOF is ABORT too)
 *   manager -> creator: ACK once the pid is registered and sandbox.start
 *                       emitted, or ERROR
 */
#ifndef SBX_PROVIDERS_OCI_PROVIDER_H
#define SBX_PROVIDERS_OCI_PROVIDER_H

#include <stdint.h>
#include <sys/types.h>

#include "provider.h"

enum sbx_oci_msg_type {
	SBX_OCI_READY = 1,
	SBX_OCI_ERROR = 2,
	SBX_OCI_DONE = 3,
	SBX_OCI_ABORT = 4,
	SBX_OCI_ACK = 5,
};

struct sbx_oci_msg {
	uint32_t type;
	int32_t pid;			/* DONE */
	char id[32];			/* READY: the sandbox id */
	char text[4096];		/* READY: the cgroup's path; ERROR: the sentence */
};

extern const struct sbx_provider sbx_provider_oci;

/* The manager's end of the channel to the creator, before sbx_run. */
void sbx_oci_set_channel(int fd);
/* Whether spawn handed the cgroup over (after that, the creator has heard
 * from the manager; before, a failure is the manager's to report). */
bool sbx_oci_handed_over(void);

/* Both ends: one message; 0, -errno, or -EPIPE at EOF. fd_out/fd_in: the
 * descriptor carried (-1: none; *fd_in -1 when none came). */
int sbx_oci_send(int sock, const struct sbx_oci_msg *m, int fd_out);
int sbx_oci_recv(int sock, struct sbx_oci_msg *m, int *fd_in, int timeout_ms);

#endif
