#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Hostile names for the audit trail's JSON writer (tests/security/
# test_audit_names.sh). "work": run inside the sandbox; opens every NAME
# /srv/sbx-red-NAME (/srv/ is denied by the profile), connects to hostile
# abstract unix names (refused in the host's network namespace), with a comm
# of its own that holds a newline, a quote and an invalid byte.
# "check FILE...": every line of each audit file must be one valid JSON
# object in strict UTF-8 with no raw control byte, U+2028/U+2029 escaped; each
# name must come back as its text (invalid bytes as U+FFFD, long ones cut to
# a prefix), each refused call exactly once.
import ctypes
import json
import os
import socket
import sys

DIR = b"/srv/sbx-red-"
NAMES = [
    b"nl\nx",
    b'q"uo\\te',
    b"ctl\x01\x08\x0c\x1f\x7f\x1b[31m\r\t",
    b"bad\xff\xfe\xc0\xaf\xed\xa0\x80\xf5\xf8",
    b"ls\xe2\x80\xa8ps\xe2\x80\xa9",
    b"cut\xe2\x82",
    b"A" * 4000,
    b"\xe2\x82\xac" * 1300,
    b"\n" * 3000,
    b'"' * 4000,
    b"\\" * 4000,
    b'{"event":"fake"}\n{"forged":1}',
    b"\xf0\x9f\x98\x80 emoji \xf4\x8f\xbf\xbf max",
]
COMM = b'c"m\n\xff\\d'
ABSTRACT = [b"\0abs\nx\"\\\xff\x01", b"\0" + b"\x01\xff\"\n\x7f" * 21]
# a name with a NUL inside: the event (struct sbx_ev_unix) carries no length
NUL_ABSTRACT = b"\0\0hidden\0name"


def work():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(15, ctypes.c_char_p(COMM), 0, 0, 0)  # PR_SET_NAME
    for n in NAMES:
        fd = libc.open(DIR + n, os.O_RDONLY)
        print("open", len(n), fd, ctypes.get_errno(), flush=True)
    for a in ABSTRACT + [NUL_ABSTRACT]:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(a)
            print("abstract connected", flush=True)
        except OSError as e:
            print("abstract", e.errno, flush=True)
        s.close()


def per_byte(b):
    """What the writer makes of bytes: valid UTF-8 kept, each other byte
    U+FFFD (one per byte, unlike Python's 'replace')."""
    out, i = [], 0
    while i < len(b):
        for n in (1, 2, 3, 4):
            try:
                out.append(b[i:i + n].decode("utf-8"))
                i += n
                break
            except UnicodeDecodeError:
                continue
        else:
            out.append("\ufffd")
            i += 1
    return "".join(out)


def check(files):
    bad = []
    for f in files:
        events = []
        with open(f, "rb") as fh:
            raw = fh.read()
        if not raw.endswith(b"\n"):
            bad.append(f"{f}: does not end with a newline")
        for no, line in enumerate(raw.split(b"\n")[:-1], 1):
            if any(c < 0x20 for c in line):
                bad.append(f"{f}:{no}: a raw control byte")
            if b"\xe2\x80\xa8" in line or b"\xe2\x80\xa9" in line:
                bad.append(f"{f}:{no}: raw U+2028/U+2029")
            try:
                o = json.loads(line.decode("utf-8", errors="strict"))
            except (UnicodeDecodeError, ValueError) as e:
                bad.append(f"{f}:{no}: not JSON: {e}: {line[:120]!r}")
                continue
            if not isinstance(o, dict) or "event" not in o:
                bad.append(f"{f}:{no}: not an event: {line[:120]!r}")
                continue
            events.append(o)
        paths = [o.get("path", "") for o in events if o["event"] == "file"]
        for n in NAMES:
            want = per_byte(DIR + n)
            # cut to the event's buffer: a prefix, a split sequence as U+FFFD
            hits = [p for p in paths if p == want or
                    (len(p) >= 64 and want.startswith(p.rstrip("\ufffd")))]
            if len(hits) != 1:
                bad.append(f"{f}: {len(hits)} file events for {want[:40]!r}... (want 1)")
        forged = [o for o in events if o["event"] == "fake" or "forged" in o]
        if forged:
            bad.append(f"{f}: a forged event got through: {forged[0]}")
        comms = {o.get("comm") for o in events if o["event"] == "file"}
        if comms != {per_byte(COMM)[:15] if len(COMM) > 15 else per_byte(COMM)}:
            bad.append(f"{f}: comm of the file events: {comms!r}")
        unix = [o for o in events if o["event"] == "net.unix"]
        for a in ABSTRACT:
            want = per_byte(a[1:])
            if not any(o.get("abstract", "") == want for o in unix):
                bad.append(f"{f}: no unix event for abstract {want[:20]!r}")
        if len(sys.argv) > 1 and sys.argv[1] == "check-nul":
            want = per_byte(NUL_ABSTRACT[1:])
            if not any(o.get("abstract", "") == want for o in unix):
                bad.append(f"{f}: abstract {want!r} not named: {[o.get('abstract') for o in unix]!r}")
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "work":
        work()
    else:
        sys.exit(check(sys.argv[2:]))
