#!/bin/bash
# SPDX-License-Identifier: MIT
#
# VM check of the bandwidth rate programs (bpf/tc.bpf.c; runs inside the
# guest, from tests/vm/guest_tests.sh): the sbx object, with its two tc
# programs, loads on the guest kernel (Debian's 6.1 has no tc programs in the
# host's 6.18 verifier's shape to rely on), the programs are pinned as
# sched_cls, and they run: a packet on a device that is no sandbox's (lo) is
# dropped (TC_ACT_SHOT = 2), failing closed. The guest boots without
# modules (no veth, fq or tbf), so traffic is measured on the host
# (tests/integration/test_rate.sh), not here.
#
# Prints PASS/FAIL/SKIP lines; exits 1 when a case failed.

set -u
SBX=${SBX:-${OUTPUT:-$PWD/build}/sbx}
export SBX_INSTANCE="vmrate-$$"
WORK=$(mktemp -d /tmp/vmrate.XXXXXX)
export SBX_LOG_DIR="$WORK/log"
failed=0

finish()
{
	"$SBX" unload >/dev/null 2>&1
	rm -rf "$WORK" "/run/$SBX_INSTANCE"
}
trap finish EXIT

say() { echo "$1 rate.$2${3:+: $3}"; [ "$1" = FAIL ] && failed=1; return 0; }

printf 'version = 1\n[profile.t]\nprovider = "host"\nmin_isolation = "none"\n[profile.t.fs]\nmode = "full"\n' >"$WORK/p.toml"
if ! "$SBX" run -P "$WORK/p.toml" --profile t -- true >"$WORK/run.out" 2>&1; then
	say FAIL programs_load "sbx run: $(tail -c 400 "$WORK/run.out" | tr '\n' ' ')"
	exit 1
fi
say PASS programs_load
PIN=/sys/fs/bpf/$SBX_INSTANCE
for p in prog_tc_sandbox prog_tc_host; do
	if ! command -v bpftool >/dev/null; then
		say SKIP "$p" "no bpftool in the guest"
		continue
	fi
	type=$(bpftool -j prog show pinned "$PIN/$p" 2>/dev/null | sed -n 's/.*"type":"\([a-z_]*\)".*/\1/p')
	if [ "$type" != sched_cls ]; then
		say FAIL "${p}_pinned" "type '${type:-none}' (expected sched_cls)"
		continue
	fi
	say PASS "${p}_pinned"
	# 64 bytes of a frame; without a context the kernel runs it on lo
	# (ifindex 1), no sandbox's device
	head -c 64 /dev/zero >"$WORK/pkt"
	ret=$(bpftool prog run pinned "$PIN/$p" data_in "$WORK/pkt" 2>&1 | sed -n 's/.*Return value: \([0-9]*\).*/\1/p')
	if [ "$ret" = 2 ]; then
		say PASS "${p}_fails_closed"
	else
		say FAIL "${p}_fails_closed" "return value '${ret:-none}' (expected 2, TC_ACT_SHOT)"
	fi
done
exit $failed
