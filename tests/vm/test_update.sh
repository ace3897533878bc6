#!/bin/bash
# SPDX-License-Identifier: MIT
# Live policy updates in the guest, where BPF LSM enforces fs rules: the same
# suite as on the host (tests/integration/test_update.sh), whose fs case
# there expects the update refused (Landlock) and here a flip like the
# network one (fs_update_flips_under_bpf_lsm). Case names keep the prefix
# "update." as on the host.
cd "$(dirname "$0")/../.." || exit 1
exec bash tests/integration/test_update.sh
