#!/bin/bash
# SPDX-License-Identifier: MIT
# The same behavioural filesystem suite as on the host (where Landlock is the
# backend), run in the guest where BPF LSM is: tests/integration/test_fs_landlock.sh
# picks its expectations from `sbx features --json` .fs_backend, so each case
# checks the backend that is active (both backends must pass the same
# suite). Its case names are prefixed "fs_landlock." as on the host.
cd "$(dirname "$0")/../.." || exit 1
# /var/tmp is part of the read-only host root in the guest: use a tmpfs
export SBX_TEST_VARTMP=/run
exec bash tests/integration/test_fs_landlock.sh
