/* SPDX-License-Identifier: MIT */
/*
 * process.terminal with --console-socket: the container's process gets a
 * pty whose master goes to the caller (conmon, containerd's shim) over a
 * unix socket with SCM_RIGHTS, as runc sends it.
 */
#ifndef SBX_OCI_CONSOLE_H
#define SBX_OCI_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

/* In the runtime: connects to the unix socket at path (SOCK_STREAM, as
 * go-runc and conmon listen). Returns the fd (O_CLOEXEC) or -errno. */
int oci_console_connect(const char *path, char *why, size_t len);
/* In the container (after the rootfs is set up, or after setns): opens a
 * pty from /dev/ptmx, sizes it (rows/cols, 0: left alone), sends the master
 * over sock (payload "/dev/ptmx", as runc), closes it, and makes the peer
 * the controlling terminal and stdin/out/err of a new session. */
int oci_console_setup(int sock, uint32_t rows, uint32_t cols, char *why, size_t len);

#endif
