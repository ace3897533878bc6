#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run.sh - the VM test layer (make check / make test / make vmtest).
#
#   OUTPUT=<build dir> tests/vm/run.sh [-v] [-k 6.1|6.12|all] [PATTERN...]
#
# Compiles the guest-side helpers on the host (tests/vm/*.c, with the
# project's include paths and libbpf, and tests/integration/nettool.c, into
# $OUTPUT/tests/vm/; the guest sees the host's root read-only, so they run
# there unchanged), then boots each guest
# kernel once (default -k all: Debian's 6.1 and 6.12) and runs
# tests/vm/guest_tests.sh in it: every tests/vm/test_*.sh, or those whose
# name contains a PATTERN. tests/vm/test_systemd*.sh run in one more boot,
# of 6.12 with systemd as PID 1 (series "6.12+systemd"). Prints one line
# per boot:
#   vm 6.1 (6.1.0-NN-amd64): PASS (T s) | FAIL ... | SKIP: reason
# Exit status: 0 when no kernel failed (skipped kernels included: a machine
# that cannot run qemu or fetch the kernel skips, with the reason);
# 1 when a kernel failed, timed out or crashed; 2 on usage errors.
# SBX_VMTEST_REQUIRE=1 (or SBX_REQUIRE=1, which .ci/run sets) turns a skip
# into a failure (CI that must run them). The cases' totals over all kernels
# go to OUTPUT/test-totals/vmtest (tests/lib/totals.sh, tests/summary.sh).
# Options -v and -k, and the SBX_VMTEST_* variables, go to tests/vm/vmtest.sh.

set -u
cd "$(dirname "$0")/../.." || exit 2
OUTPUT=$(realpath -m "${OUTPUT:-build}")
export OUTPUT
. tests/lib/totals.sh
[ "${SBX_REQUIRE:-0}" = 1 ] && SBX_VMTEST_REQUIRE=1

opts=() kernels=all
while [ $# -gt 0 ]; do
	case $1 in
	-v) opts+=(-v); shift ;;
	-k) [ $# -ge 2 ] || { echo "run.sh: -k needs 6.1, 6.12 or all" >&2; exit 2; }
	    kernels=$2; shift 2 ;;
	-t) [ $# -ge 2 ] || { echo "run.sh: -t needs seconds" >&2; exit 2; }
	    opts+=(-t "$2"); shift 2 ;;
	-h|--help) sed -n '4,22s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) break ;;
	esac
done

# ---- helpers for the guest, built here ------------------------------------------

# Each tests/vm/NAME.c becomes $OUTPUT/tests/vm/NAME, compiled like sbx's own
# sources (the project's headers: sbx_abi.h, ...; libbpf). Rebuilt every run:
# it takes a fraction of a second and headers change under it.
tools=$OUTPUT/tests/vm
build_helper()
{	# build_helper SOURCE NAME
	local out=$tools/$2
	echo "  CC       ${out#"$OUTPUT"/}"
	gcc -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter \
		-iquote "$OUTPUT" -iquote bpf/include -iquote policy -iquote user -iquote providers \
		-o "$out.tmp" "$1" -Wl,--as-needed -lbpf -lelf -lz && mv "$out.tmp" "$out"
}
if command -v gcc >/dev/null; then
	mkdir -p "$tools" || exit 1
	build_helper tests/integration/nettool.c nettool || { echo "vm: FAIL: nettool does not compile"; exit 1; }
	# the shared fs suite (tests/vm/test_fs_shared.sh) needs its probe prebuilt
	mkdir -p "$OUTPUT/tests/integration" &&
		gcc -std=gnu11 -O2 -Wall -Wextra -o "$OUTPUT/tests/integration/proc_probe" \
			tests/integration/proc_probe.c || { echo "vm: FAIL: proc_probe does not compile"; exit 1; }
	# and so does the security suite (tests/vm/test_security.sh) its attacker
	mkdir -p "$OUTPUT/tests/security" &&
		gcc -std=gnu11 -O2 -Wall -Wextra -Wno-unused-parameter -o "$OUTPUT/tests/security/execfd" \
			tests/security/execfd.c || { echo "vm: FAIL: execfd does not compile"; exit 1; }
	# and tests/vm/test_update.sh its update tool (it links the core: make)
	make -s OUTPUT="$OUTPUT" "$OUTPUT/tests/integration/update_tool" ||
		{ echo "vm: FAIL: tests/integration/update_tool does not build"; exit 1; }
	# and tests/vm/test_listen.sh its io_uring probe
	gcc -std=gnu11 -O2 -Wall -Wextra -o "$OUTPUT/tests/security/uring" tests/security/uring.c ||
		{ echo "vm: FAIL: uring does not compile"; exit 1; }
	for c in tests/vm/*.c; do
		[ -f "$c" ] || continue
		build_helper "$c" "$(basename "$c" .c)" || { echo "vm: FAIL: $c does not compile"; exit 1; }
	done
fi

# ---- boot ------------------------------------------------------------------------

# Which boots the patterns select: tests/vm/test_systemd*.sh run in a boot
# of their own with systemd as PID 1 (vmtest.sh -i systemd, on Linux 6.12
# only: one boot for all of them), every other file in the usual boot.
plain=0 sd=0 deb=0
for f in tests/vm/test_*.sh; do
	sel=$(( $# == 0 ))
	for pat in "$@"; do [[ $f == *"$pat"* ]] && sel=1; done
	[ $sel = 1 ] || continue
	case ${f##*/} in test_systemd*) sd=1 ;; *) plain=1 ;; esac
	[ "${f##*/}" = test_systemd_deb.sh ] && deb=1
done
[ $sd = 0 ] && plain=1	# nothing matched: the usual boot reports it

summary=$(mktemp) cases=$(mktemp)
trap 'rm -f "$summary" "$cases"' EXIT
start=$SECONDS
rc=0
if [ $plain = 1 ]; then
	echo "  VMTEST   kernels: $kernels (Debian kernels under qemu, BPF LSM on)"
	SBX_VMTEST_SUMMARY=$summary tests/vm/vmtest.sh -k "$kernels" "${opts[@]+"${opts[@]}"}" -- \
		tests/vm/guest_tests.sh "$@" | tee "$cases"
	rc=${PIPESTATUS[0]}
fi
if [ $sd = 1 ]; then
	case $kernels in
	6.12|all)
		echo "  VMTEST   kernel: 6.12 with systemd as PID 1 (tests/vm/test_systemd*.sh)"
		# each case starts systemd units and loads sbx anew: more than the
		# default 300 s per file under TCG
		# the guest sees the host's /usr and dpkg database: while
		# test_systemd_deb.sh runs there, tests/deb/test_deb.sh (the
		# debtest layer, maybe running beside this one) waits, and the
		# other way round. Its dpkg runs read the whole package
		# database over 9p (about 6 minutes under TCG): a longer boot
		lock=() boot_secs=900
		[ $deb = 1 ] && lock=(flock /run/lock/sbx-deb.lock) boot_secs=1500
		# test_systemd.sh alone takes 400-600 s on a busy machine: twice the
		# limit of the other files, and the boot's limit grown by as much
		file_secs=${SBX_VM_TEST_TIMEOUT:-600}
		SBX_VMTEST_TIMEOUT=$((${SBX_VMTEST_TIMEOUT:-$boot_secs} + file_secs)) \
		SBX_VM_TEST_TIMEOUT=$((file_secs * 2)) \
		SBX_VMTEST_SUMMARY=$summary "${lock[@]+"${lock[@]}"}" tests/vm/vmtest.sh -k 6.12 -i systemd "${opts[@]+"${opts[@]}"}" -- \
			tests/vm/guest_tests.sh "$@" | tee -a "$cases"
		r=${PIPESTATUS[0]}
		{ [ $rc = 0 ] || [ $rc = 77 ]; } && [ $r != 77 ] && rc=$r
		;;
	*) echo "SKIP vm.systemd: the boot with systemd as PID 1 runs Linux 6.12 (-k 6.12 or -k all)" | tee -a "$cases" ;;
	esac
fi

failed=0 ran=0
echo "---- vm summary ($((SECONDS - start)) s) ----"
while IFS=$'\t' read -r series status secs detail release; do
	case $status in
	SKIP)
		echo "vm $series: SKIP: $detail"
		[ "${SBX_VMTEST_REQUIRE:-0}" = 1 ] && failed=1
		;;
	PASS)
		echo "vm $series ($release): PASS ($secs s)"
		ran=1
		;;
	*)
		echo "vm $series ($release): $status${detail:+ $detail} ($secs s)"
		failed=1
		;;
	esac
done <"$summary"
if [ ! -s "$summary" ] && [ $plain = 0 ]; then
	# only the systemd boot was selected, and it was not for these kernels
	totals_write vmtest 0 0 1 "vm.systemd: needs -k 6.12 or all" < <(sed -n 's/^SKIP //p' "$cases")
	exit 0
fi
if [ ! -s "$summary" ]; then
	echo "vm: FAIL: tests/vm/vmtest.sh exited $rc without a result"
	totals_write vmtest 0 1 0 </dev/null
	exit 1
fi
[ $failed = 0 ] && [ $rc != 0 ] && [ $rc != 77 ] && failed=1
layer_skip=
if [ $ran = 0 ] && ! grep -qE $'\t(FAIL|TIMEOUT|CRASH)\t' "$summary"; then
	layer_skip=$(awk -F'\t' '$2 == "SKIP" { print "vm " $1 ": " $4 }' "$summary" | sort -u | tr '\n' ' ')
	echo "vm: every kernel was skipped: the BPF LSM paths were NOT tested"
fi
# a kernel that failed as a whole (timeout, crash) counts as a failed case
p=$(grep -c '^PASS ' "$cases") x=$(grep -c '^FAIL ' "$cases") s=$(grep -c '^SKIP ' "$cases")
k=$(awk -F'\t' '$2 != "PASS" && $2 != "SKIP"' "$summary" | wc -l)
[ "$k" -gt "$x" ] && x=$k
{ sed -n 's/^SKIP //p' "$cases"; awk -F'\t' '$2 == "SKIP" { print "vm " $1 ": " $4 }' "$summary"; } |
	totals_write vmtest "$p" "$x" "$((s + $(awk -F'\t' '$2 == "SKIP"' "$summary" | wc -l)))" "$layer_skip"
exit $failed
