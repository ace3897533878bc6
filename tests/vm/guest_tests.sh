#!/bin/bash
# SPDX-License-Identifier: MIT
#
# guest_tests.sh - the VM test suite; runs INSIDE the guest that
# tests/vm/vmtest.sh boots (as root, on a Debian kernel with BPF LSM on).
#
#   tests/vm/vmtest.sh -k all [-i systemd] tests/vm/guest_tests.sh [NAME-PATTERN...]
#
# 1. Checks the guest itself: `bpf` is in the active LSM list and
#    `sbx features --json` reports bpf_lsm available (the functional probe:
#    an LSM program loads and fires). Without them every LSM test would be
#    meaningless, so a failure here is a FAIL, not a SKIP.
# 2. Runs every tests/vm/test_*.sh (or those whose name contains one of the
#    patterns), each in its own bash with a time limit. A test file prints
#    one line per case:  PASS name | FAIL name: why | SKIP name: reason
#    and exits non-zero only when a case failed.
# 3. Prints "vm[<kernel>]: N passed, N failed, N skipped (T s)"; exits 1
#    when anything failed.
#
# Environment given to each test file: OUTPUT (build dir), SBX (the binary),
# SBX_SRCDIR (the tree), SBX_VM=1, SBX_VM_KERNEL (6.1 or 6.12), VM_TOOLS
# ($OUTPUT/tests/vm: helpers that run.sh compiled on the host from
# tests/vm/*.c), NETTOOL (VM_TOOLS/nettool, when built). The tree and
# $OUTPUT are read-only in the guest; write under /tmp (a tmpfs).
# SBX_VM_TEST_TIMEOUT: seconds per test file (default 300).

set -u
cd "$(dirname "$0")/../.." || exit 2
SBX_SRCDIR=$(pwd -P)
OUTPUT=$(realpath -m "${OUTPUT:-build}")
SBX=$OUTPUT/sbx
VM_TOOLS=$OUTPUT/tests/vm
NETTOOL=$VM_TOOLS/nettool
export OUTPUT SBX SBX_SRCDIR VM_TOOLS NETTOOL
TIMEOUT=${SBX_VM_TEST_TIMEOUT:-300}

if [ "${SBX_VM:-}" != 1 ]; then
	echo "guest_tests.sh runs inside the test VM: tests/vm/vmtest.sh tests/vm/guest_tests.sh" >&2
	exit 2
fi

start=$SECONDS
pass=0 fail=0 skip=0
kernel=$(uname -r)

result()
{	# result PASS|FAIL|SKIP NAME [WHY]
	echo "$1 $2${3:+: $3}"
	case $1 in
	PASS) pass=$((pass + 1)) ;;
	FAIL) fail=$((fail + 1)) ;;
	SKIP) skip=$((skip + 1)) ;;
	esac
}

# ---- the guest itself -------------------------------------------------------

lsm=$(cat /sys/kernel/security/lsm 2>/dev/null)
case ",$lsm," in
*,bpf,*) result PASS vm.lsm_list ;;
*) result FAIL vm.lsm_list "bpf is not an active LSM: '${lsm:-securityfs unreadable}'" ;;
esac

if [ ! -x "$SBX" ]; then
	result FAIL vm.sbx_features "$SBX is not built (make)"
else
	json=$("$SBX" features --json 2>"/tmp/features.err")
	rc=$?
	if [ $rc != 0 ] || [ -z "$json" ]; then
		result FAIL vm.sbx_features "sbx features --json exited $rc: $(tail -c 300 /tmp/features.err)"
	else
		result PASS vm.sbx_features
		for f in bpf_lsm bpf_prog_lsm btf_vmlinux cgroup2 bpf_prog_cgroup_sock_addr bpf_map_ringbuf; do
			if command -v jq >/dev/null; then
				avail=$(jq -r --arg n "$f" '.features[] | select(.name == $n) | .available' <<<"$json")
				detail=$(jq -r --arg n "$f" '.features[] | select(.name == $n) | .detail' <<<"$json")
			else	# crude, but enough to tell true from false
				avail=$(tr -d '\n' <<<"$json" | grep -o "\"name\": *\"$f\", *\"available\": *[a-z]*" | grep -o '[a-z]*$')
				detail="(jq is not installed)"
			fi
			case $avail in
			true) result PASS "vm.feature.$f" ;;
			false) result FAIL "vm.feature.$f" "unavailable in the guest: $detail" ;;
			*) result FAIL "vm.feature.$f" "not reported by sbx features" ;;
			esac
		done
	fi
fi

# ---- the test files ---------------------------------------------------------

# tests/vm/test_systemd*.sh need systemd as PID 1: they run in the boot of
# vmtest.sh -i systemd (SBX_VM_INIT=systemd), and only they run there.
files=()
for f in tests/vm/test_*.sh; do
	[ -f "$f" ] || continue
	case ${SBX_VM_INIT:-busybox},${f##*/} in
	systemd,test_systemd*|busybox,test_systemd*) [ "${SBX_VM_INIT:-busybox}" = systemd ] || continue ;;
	systemd,*) continue ;;
	esac
	if [ $# -eq 0 ]; then
		files+=("$f")
		continue
	fi
	for pat in "$@"; do
		[[ $f == *"$pat"* ]] && files+=("$f") && break
	done
done

[ ${#files[@]} -gt 0 ] || result FAIL vm.files "no tests/vm/test_*.sh matches: $*"

for f in "${files[@]+"${files[@]}"}"; do
	name=$(basename "$f" .sh)
	log=$(mktemp /tmp/vmtest-log.XXXXXX)
	t0=$SECONDS
	timeout -k 10 "$TIMEOUT" bash "$f" >"$log" 2>&1 </dev/null
	rc=$?
	cat "$log"
	p=$(grep -c '^PASS ' "$log")
	x=$(grep -c '^FAIL ' "$log")
	s=$(grep -c '^SKIP ' "$log")
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		echo "FAIL ${name#test_}: timed out after ${TIMEOUT}s"
		x=$((x + 1))
	elif [ $rc != 0 ] && [ "$x" = 0 ]; then
		echo "FAIL ${name#test_}: exited $rc without reporting a failed case"
		x=$((x + 1))
	elif [ $((p + x + s)) = 0 ]; then
		echo "FAIL ${name#test_}: reported no case"
		x=$((x + 1))
	fi
	echo "  ($name: $((SECONDS - t0)) s)"
	pass=$((pass + p)) fail=$((fail + x)) skip=$((skip + s))
	rm -f "$log"
done

echo "vm[$kernel]: $pass passed, $fail failed, $skip skipped, ${#files[@]} test file(s) ($((SECONDS - start)) s)"
[ $fail = 0 ]
