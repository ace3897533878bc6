#!/bin/bash
# SPDX-License-Identifier: MIT
# Learning mode in the guest, where BPF LSM is: the same suite as on the host
# (tests/integration/test_learn.sh), whose git clone case there learns the
# fs part from the syscall tracing programs (backend "landlock") and here
# from the LSM hooks (backend "bpf-lsm"), and runs the clone again under the
# learnt profile, enforced by BPF LSM, with no denial. Case names keep the
# prefix "learn." as on the host.
cd "$(dirname "$0")/../.." || exit 1
exec bash tests/integration/test_learn.sh
