#!/bin/bash
# SPDX-License-Identifier: MIT
# The process provider at scale, part 2: 1,000 sequential `sbx run`s of
# /bin/true leak nothing (cgroups, slot registry files, mounts, pins, map
# entries, fds of an observer). The cases live in test_process_scale.sh; this
# file only gives them a runner time limit of their own. On a host too slow
# for 1,000 runs in the budget the case runs 300 and its name says so.
SCALE_PART=seq
. "$(dirname "$0")/test_process_scale.sh"
