#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/security/test_unix.sh in the guests: on Linux 6.1 there are no cgroup
# unix hooks, so network.unix rests on the BPF LSM programs
# (lsm/unix_stream_connect, lsm/unix_may_send), which judge the name the
# peer was bound to; on 6.12 both apply. Case names are prefixed "unix." as
# on the host.
cd "$(dirname "$0")/../.." || exit 1
# /var/tmp is part of the read-only host root in the guest: use a tmpfs
export SBX_TEST_VARTMP=/run
exec bash tests/security/test_unix.sh
