#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Hostile DNS clients for tests/security/test_dns_resolver_attack.sh: run
# inside a sandbox, they write raw bytes to port 53 (which sbx redirects to
# the sandbox's resolver) and print one "LABEL RESULT" line per attack:
#   raw LABEL HEX           one UDP datagram; RESULT rcode name or "noreply"
#   tcpraw LABEL HEX        the same bytes as one TCP frame
#   battery                 every malformed query below, each a line
#   ask LABEL NAME [tcp]    a well-formed A query; RESULT rcode + first address
#   flood LABEL N           N malformed datagrams as fast as possible, then
#                           asks api.test (1 s a try, 5 tries): RESULT its
#                           rcode, datagrams sent, tries, seconds
#   tcphold LABEL N         holds N TCP connections open, then asks api.test
#                           over UDP: RESULT rcode
#   pipeline LABEL N        N queries on one TCP connection, replies unread
#                           for 3 s: RESULT queries sent, replies read
#   bigframe LABEL          one 65535-byte TCP frame: RESULT rcode | noreply
#   slowloris LABEL         one byte a second: RESULT "closed" + seconds
#   tcpfan LABEL C Q        C TCP connections with Q queries each in flight,
#                           held 4 s: RESULT connections made
#   holdup HOST PORT SECS   (outside a sandbox) an upstream that takes TCP
#                           connections and never answers: "peak N total M"
#   pins LABEL N FIRST      N distinct names FIRST..FIRST+N-1 under syn.test,
#                           asked one after the other: RESULT count per rcode
import errno
import os
import socket
import struct
import sys
import time

SERVER = ("192.0.2.53", 53)	# any address: port 53 goes to sbx
if os.environ.get("DNSATK_SERVER"):	# HOST:PORT: another resolver, asked directly
    _h, _p = os.environ["DNSATK_SERVER"].rsplit(":", 1)
    SERVER = (_h, int(_p))
RCODES = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED", 4: "NOTIMP"}


def qname(name):
    out = b""
    for label in name.split("."):
        if label:
            b = label.encode("latin-1")
            out += bytes([len(b)]) + b
    return out + b"\0"


def query(name, qtype=1, qid=0x1234, flags=0x0100, qd=1, an=0, ar=0, tail=b""):
    hdr = struct.pack(">HHHHHH", qid, flags, qd, an, 0, ar)
    body = name if isinstance(name, bytes) else qname(name)
    return hdr + body + struct.pack(">HH", qtype, 1) + tail


def rcode_of(data):
    if len(data) < 12:
        return "short"
    return RCODES.get(data[3] & 0xF, "rc%d" % (data[3] & 0xF))


def first_addr(data):
    # the first A record of the answer section, if any (enough for the tests)
    if len(data) < 12 or struct.unpack(">H", data[6:8])[0] == 0:
        return "-"
    i = 12
    while data[i] != 0:
        if data[i] & 0xC0 == 0xC0:
            i += 1
            break
        i += data[i] + 1
    i += 5
    for _ in range(struct.unpack(">H", data[6:8])[0]):
        if data[i] & 0xC0 == 0xC0:
            i += 2
        else:
            while data[i]:
                i += data[i] + 1
            i += 1
        t, _c, _ttl, ln = struct.unpack(">HHIH", data[i:i + 10])
        i += 10
        if t == 1 and ln == 4:
            return socket.inet_ntoa(data[i:i + 4])
        i += ln
    return "-"


def udp(pkt, timeout=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(pkt, SERVER)
        return s.recv(65535)
    except (socket.timeout, OSError):
        return None
    finally:
        s.close()


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            return None
        buf += d
    return buf


def tcp(pkt, timeout=3.0):
    s = socket.create_connection(SERVER, timeout=timeout)
    try:
        s.sendall(struct.pack(">H", len(pkt)) + pkt)
        ln = recv_exact(s, 2)
        return recv_exact(s, struct.unpack(">H", ln)[0]) if ln else None
    except (socket.timeout, OSError):
        return None
    finally:
        s.close()


def show(label, reply):
    print(label, rcode_of(reply) if reply is not None else "noreply", flush=True)


def battery():
    ptr_loop = struct.pack(">HHHHHH", 1, 0x100, 1, 0, 0, 0) + b"\xc0\x0c" + b"\0\1\0\1"
    ptr_fwd = struct.pack(">HHHHHH", 2, 0x100, 1, 0, 0, 0) + b"\xc0\x20" + b"\0\1\0\1" + b"\0" * 32
    ptr_out = struct.pack(">HHHHHH", 3, 0x100, 1, 0, 0, 0) + b"\xff\xff" + b"\0\1\0\1"
    cases = [
        ("ptrloop", ptr_loop),
        ("ptrforward", ptr_fwd),
        ("ptrout", ptr_out),
        ("manylabels", query(b"\x01a" * 200 + b"\0")),
        ("long254", query(".".join(["a" * 63] * 4) + ".x")),
        ("nul", query(b"\x04ap\0i\x04test\0")),
        ("dot", query(b"\x08api.test\0")),
        ("backslash", query(b"\x04ap\\i\x04test\0")),
        ("nonascii", query(b"\x04\xe4pi1\x04test\0")),
        ("qd0", query("api.test", qd=0)),
        ("qd2", query("api.test", qd=2)),
        ("notify", query("api.test", flags=0x2000)),
        ("update", query("api.test", flags=0x2800)),
        ("qrset", query("api.test", flags=0x8100)),
        ("answers", query("api.test", an=1)),
        ("cut", query("api.test")[:20]),
        ("header", b"\x12\x34\x01\x00"),
        ("empty", b""),
    ]
    for label, pkt in cases:
        show(label, udp(pkt, 1.0))
    # accepted forms: 0x20 case mixing, punycode, EDNS with an option, TC set
    opt = b"\0" + struct.pack(">HHIH", 41, 4096, 0, 8) + struct.pack(">HH", 10, 4) + b"abcd"
    show("mixedcase", udp(query("ApI.TeSt"), 3.0))
    show("punycode", udp(query("xn--bcher-kva.test"), 3.0))
    show("edns", udp(query("api.test", ar=1, tail=opt), 3.0))
    show("tcset", udp(query("api.test", flags=0x0300), 3.0))


def ask(label, name, proto="udp"):
    t = time.monotonic()
    r = tcp(query(name)) if proto == "tcp" else udp(query(name), 3.0)
    print(label, rcode_of(r) if r is not None else "noreply", first_addr(r) if r else "-",
          "%.1f" % (time.monotonic() - t), flush=True)


def flood(label, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    bad = struct.pack(">HHHHHH", 7, 0x100, 1, 0, 0, 0) + b"\xc0\x0c\0\1\0\1"
    sent = 0
    for _ in range(n):
        try:
            s.sendto(bad, SERVER)
            sent += 1
        except BlockingIOError:
            time.sleep(0.0005)
    s.close()
    # then as a stub resolver would: 1 s a try, 5 tries
    t = time.monotonic()
    for tries in range(1, 6):
        r = udp(query("api.test"), 1.0)
        if r is not None:
            break
    print(label, rcode_of(r) if r is not None else "noreply", sent, tries,
          "%.1f" % (time.monotonic() - t), flush=True)


def tcphold(label, n):
    held = []
    for _ in range(n):
        try:
            held.append(socket.create_connection(SERVER, timeout=2))
        except OSError:
            break
    print(label + "_held", len(held), flush=True)
    ask(label, "api.test")
    for s in held:
        s.close()


def pipeline(label, n):
    # n queries on one connection, none of the replies read for 3 s
    s = socket.create_connection(SERVER, timeout=5)
    frame = query("api.test")
    frame = struct.pack(">H", len(frame)) + frame
    sent = 0
    try:
        for _ in range(n):
            s.sendall(frame)
            sent += 1
    except OSError:
        pass
    time.sleep(3)
    got = 0
    try:
        while True:
            ln = recv_exact(s, 2)
            if not ln or not recv_exact(s, struct.unpack(">H", ln)[0]):
                break
            got += 1
    except OSError:
        pass
    s.close()
    print(label, sent, got, flush=True)


def bigframe(label):
    pkt = query("api.test", ar=0) + b"\0" * (65535 - len(query("api.test")))
    show(label, tcp(pkt, 8.0))


def slowloris(label):
    s = socket.create_connection(SERVER, timeout=30)
    pkt = struct.pack(">H", 30) + query("api.test")
    t = time.monotonic()
    try:
        for b in pkt:
            s.send(bytes([b]))
            time.sleep(1)
        print(label, "answered" if s.recv(2) else "closed", "%d" % (time.monotonic() - t), flush=True)
    except OSError:
        print(label, "closed", "%d" % (time.monotonic() - t), flush=True)
    s.close()


def pins(label, n, first):
    counts = {}
    t = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    for i in range(first, first + n):
        name = "11-0-%d-%d.syn.test" % (i // 256, i % 256)
        try:
            s.sendto(query(name, qid=i & 0xFFFF), SERVER)
            rc = rcode_of(s.recv(4096))
        except socket.timeout:
            rc = "noreply"
        except OSError as e:
            rc = errno.errorcode.get(e.errno, "error")
        if rc != "NOERROR" and i - first >= 3 and counts.get(rc, 0) >= 3:
            counts[rc] = counts.get(rc, 0) + first + n - i	# the rest would go the same way
            break
        counts[rc] = counts.get(rc, 0) + 1
    print(label, " ".join("%s=%d" % kv for kv in sorted(counts.items())), "%.1f" % (time.monotonic() - t),
          flush=True)


def tcpfan(label, clients, each):
    # clients connections, each with `each` queries for distinct names in flight
    socks = []
    for i in range(clients):
        try:
            s = socket.create_connection(SERVER, timeout=2)
        except OSError:
            break
        for j in range(each):
            q = query("n%d-%d.syn.test" % (i, j))
            s.sendall(struct.pack(">H", len(q)) + q)
        socks.append(s)
    print(label, len(socks), flush=True)
    time.sleep(4)
    for s in socks:
        s.close()


def holdup(host, port, secs):
    # outside the sandbox: an upstream server that accepts TCP connections and
    # never answers; prints the most connections it had open at once
    import selectors
    sel = selectors.DefaultSelector()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(4096)
    sel.register(ls, selectors.EVENT_READ)
    live = peak = total = 0
    print("ready", flush=True)
    end = time.monotonic() + secs
    while time.monotonic() < end:
        for key, _ in sel.select(0.1):
            if key.fileobj is ls:
                c, _ = ls.accept()
                sel.register(c, selectors.EVENT_READ)
                live += 1
                total += 1
                peak = max(peak, live)
            else:
                try:
                    d = key.fileobj.recv(65536)
                except OSError:
                    d = b""
                if not d:
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
                    live -= 1
    print("peak", peak, "total", total, flush=True)


def main(a):
    cmd = a[0]
    if cmd == "raw":
        show(a[1], udp(bytes.fromhex(a[2])))
    elif cmd == "tcpraw":
        show(a[1], tcp(bytes.fromhex(a[2])))
    elif cmd == "battery":
        battery()
    elif cmd == "ask":
        ask(a[1], a[2], a[3] if len(a) > 3 else "udp")
    elif cmd == "flood":
        flood(a[1], int(a[2]))
    elif cmd == "tcphold":
        tcphold(a[1], int(a[2]))
    elif cmd == "tcpfan":
        tcpfan(a[1], int(a[2]), int(a[3]))
    elif cmd == "holdup":
        holdup(a[1], int(a[2]), float(a[3]))
    elif cmd == "pipeline":
        pipeline(a[1], int(a[2]))
    elif cmd == "bigframe":
        bigframe(a[1])
    elif cmd == "slowloris":
        slowloris(a[1])
    elif cmd == "pins":
        pins(a[1], int(a[2]), int(a[3]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main(sys.argv[1:])
