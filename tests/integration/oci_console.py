#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""oci_console.py SOCKET OUT: the receiving end of --console-socket, as
conmon and go-runc are. Listens on the unix socket SOCKET, takes one pty
master sent with SCM_RIGHTS, writes "payload=<the message's bytes>" and
"isatty=<0|1>" to OUT, types "typed\\n" into the terminal, then copies what
the container writes to its terminal into OUT until it closes it."""
import os
import socket
import sys


def main():
    path, out = sys.argv[1], sys.argv[2]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(30)
    conn, _ = srv.accept()
    msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 1)
    with open(out, "a") as f:
        f.write("payload=%s\n" % msg.decode(errors="replace"))
        f.write("fds=%d\n" % len(fds))
        if not fds:
            return
        f.write("isatty=%d\n" % int(os.isatty(fds[0])))
    master = fds[0]
    os.write(master, b"typed\n")
    with open(out, "ab") as f:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            f.write(data)
            f.flush()


if __name__ == "__main__":
    main()
