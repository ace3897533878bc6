#!/bin/bash
# SPDX-License-Identifier: MIT
# The security suite of tests/security (run on the host by
# tests/run-integration.sh, where Landlock is the fs backend), run in the
# guest where BPF LSM is: each case picks its expectations from
# `sbx features --json` .fs_backend. Case names are prefixed "exec_fd." as on
# the host.
cd "$(dirname "$0")/../.." || exit 1
# /var/tmp is part of the read-only host root in the guest: use a tmpfs
export SBX_TEST_VARTMP=/run
exec bash tests/security/test_exec_fd.sh
