#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Hostile DNS messages at the sandbox's resolver (tests/security/test_dns_attack.sh):
# sent to 8.8.8.8:53, which sbx redirects there, over UDP and over one TCP
# connection (pipelined frames, a frame cut short, a frame longer than what
# follows). Deterministic (seeded). Prints "sent N".
import random, socket, struct, sys

rnd = random.Random(1414)
ADDR = ("8.8.8.8", 53)


def name(labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"


def messages():
    q = name([b"api", b"test"]) + b"\0\1\0\1"
    hdr = lambda flags, qd, an, ns, ar: struct.pack(">HHHHHH", rnd.randrange(65536), flags, qd, an, ns, ar)
    yield hdr(0x0100, 1, 0, 0, 0) + q                        # a fine query
    yield hdr(0x0100, 2, 0, 0, 0) + q + q                    # two questions
    yield hdr(0x0100, 1, 0, 0, 0) + b"\xc0\x0c\0\1\0\1"       # pointer to itself
    yield hdr(0x0100, 1, 0, 0, 0) + b"\x3fabc"               # label past the end
    yield hdr(0x8180, 1, 1, 0, 0) + q + b"\xc0\x0c\0\1\0\1\0\0\0\1\0\4\1\2\3\4"  # a reply, reflected
    yield hdr(0x0100, 1, 0, 0, 1) + q + b"\0\0\x29\x10\0\0\0\0\0\0"              # EDNS OPT
    yield hdr(0x0100, 1, 0, 0, 0) + name([b"a" * 63] * 5) + b"\0\1\0\1"          # too long
    yield hdr(0x0100, 1, 0, 0, 0) + name([b"a.b", b"test"]) + b"\0\1\0\1"         # dot in a label
    yield hdr(0x0100, 1, 0, 0, 0) + name([b"api\0", b"test"]) + b"\0\1\0\1"       # NUL in a label
    yield b""
    yield b"\0"
    for _ in range(1500):
        m = bytearray(hdr(0x0100, 1, 0, 0, 0) + q)
        for _ in range(rnd.randrange(1, 6)):
            m[rnd.randrange(len(m))] = rnd.randrange(256)
        yield bytes(m[: rnd.randrange(len(m) + 1)] if rnd.random() < 0.2 else m)
    for _ in range(300):
        yield bytes(rnd.randrange(256) for _ in range(rnd.randrange(600)))


msgs = list(messages())
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setblocking(False)
n = 0
for m in msgs:
    try:
        u.sendto(m, ADDR)
        n += 1
    except OSError:
        pass
    try:
        while True:
            u.recv(4096)
    except OSError:
        pass
stream = b"".join(struct.pack(">H", len(m)) + m for m in msgs[:400])
for cut in (stream, stream[:-7], struct.pack(">H", 4000) + b"\0" * 100):
    t = socket.create_connection(ADDR, timeout=3)
    try:
        t.sendall(cut)
        t.shutdown(socket.SHUT_WR)
        while t.recv(65536):
            pass
    except OSError:
        pass
    t.close()
print("sent", n)
