#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Raw HTTP requests to sbxd's metrics endpoint (test_metrics_attack.sh):
# prints one line per request, "<name> <status codes of the replies>".
import socket
import sys

port = int(sys.argv[1])


def ask(raw, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(raw)
        data = b""
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            if not b:
                break
            data += b
    except OSError:
        data = b""
    finally:
        s.close()
    codes = [l.split()[1].decode() for l in data.split(b"\r\n")
             if l.startswith(b"HTTP/1.") and len(l.split()) > 1]
    return ",".join(codes) or "none", data


def get(path, extra=b"", version=b"HTTP/1.1"):
    return b"GET " + path + b" " + version + b"\r\nHost: x\r\n" + extra + b"Connection: close\r\n\r\n"


cases = [
    ("plain", get(b"/metrics")),
    ("query", get(b"/metrics?x=1")),
    ("double-slash", get(b"//metrics")),
    ("trailing-slash", get(b"/metrics/")),
    ("dotdot", get(b"/x/../metrics/../x")),
    ("absolute", get(b"http://127.0.0.1/x")),
    ("http10", get(b"/metrics", b"", b"HTTP/1.0")),
    ("bigheader", get(b"/metrics", b"X-A: " + b"a" * 40000 + b"\r\n")),
    ("manyheaders", get(b"/metrics", b"".join(b"X-%d: y\r\n" % i for i in range(3000)))),
    ("pipelined", b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ("options", b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ("trace", b"TRACE /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ("post-body", b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n"
                  + b"z" * 100000),
    ("garbage", b"\x00\x01\x02 nonsense\r\n\r\n"),
    ("after", get(b"/metrics")),
]
for name, raw in cases:
    code, data = ask(raw)
    if name == "garbage" and code in ("400", "none"):
        code = "refused"    # a 400 or a plain close, as the timing goes
    leak = "names" if name not in ("plain", "query", "http10", "pipelined", "after") and b"sbx_sandbox" in data else ""
    print(name, code, leak)
