#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""oci_reaper.py STATUS-FILE CMD [ARG...]: what conmon and containerd's shim
do for an OCI runtime's create. CMD runs as our child with us as a child
subreaper (PR_SET_CHILD_SUBREAPER), so that the container's init, orphaned
when `create` exits, becomes our child and we see its exit status. Each
process we reap is appended to STATUS-FILE as "cmd STATUS" (CMD itself) or
"PID STATUS"; STATUS is the exit code, or 128+N after signal N. Exits once
no child is left."""
import ctypes
import os
import sys

PR_SET_CHILD_SUBREAPER = 36


def status_of(ws):
    if os.WIFSIGNALED(ws):
        return 128 + os.WTERMSIG(ws)
    return os.WEXITSTATUS(ws)


def main():
    out, cmd = sys.argv[1], sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("prctl(PR_SET_CHILD_SUBREAPER): errno %d" % ctypes.get_errno())
    first = os.fork()
    if first == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    while True:
        try:
            pid, ws = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        with open(out, "a") as f:
            f.write("%s %d\n" % ("cmd" if pid == first else str(pid), status_of(ws)))


if __name__ == "__main__":
    main()
