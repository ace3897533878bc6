#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A workload observed for `sbx learn` (tests/security/test_learn_inject.sh)
# names things so that their text, if written into a comment of the learnt
# profile as it is, ends the comment and adds TOML of its own: a profile
# "injected" with provider "host", and keys in the learnt profile's tables.
import os
import socket

TOML = '\nversion = 1\n[profile.injected]\nprovider = "host"\n[profile.injected.z]\n#'

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(b"\0x" + TOML.encode())
    print("abstract connected")
except OSError as e:
    print("abstract", e.errno)
os.chdir("/tmp")
for n in ("rel" + TOML.replace("injected", "injected2"), "a\r\n[profile.injected3]\n#"):
    try:
        with open(n, "w") as f:
            f.write("x")
        print("write ok")
    except OSError as e:
        print("write", e.errno)
