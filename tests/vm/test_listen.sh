#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/security/test_listen.sh in the guest, where BPF LSM is: listen() on a
# port outside the listen list (also an unbound socket's, and after bind(0))
# fails with EPERM through lsm/socket_listen; on the host the ingress net is
# what refuses it. Case names are prefixed "listen." as on the host.
cd "$(dirname "$0")/../.." || exit 1
exec bash tests/security/test_listen.sh
