#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Integration tests: root, the host kernel, real cgroup BPF programs.
#
#   tests/run-integration.sh [-v] [FILE-PATTERN...]
#
# Builds tests/integration/nettool.c into $OUTPUT/tests/integration/, then runs
# every tests/integration/test_*.sh (or those whose name contains one of the
# patterns), each under its own sbx instance. Every case prints one line:
#   PASS name | FAIL name: why | SKIP name: reason
# followed by a summary; the exit status is 1 when any case failed.
# SBX_TEST_AFTER=FILE (make check, which runs the VM layer beside this one):
# the files that measure bandwidth (test_rate) run last, once FILE exists,
# so that qemu does not take the CPU they measure with.
# When the machine cannot run them (not root, BPF cgroup programs do not
# load, ...), every case is reported as SKIP with the reason. When sbx itself
# cannot run a trial sandbox on a machine that has all that, the layer FAILS:
# a broken sbx is never a skip. Before running, instances that earlier killed
# runs left (sbxtest-PID-* with PID gone) are swept: pins, cgroups, mounts.
# The totals go to OUTPUT/test-totals/integration (tests/summary.sh).
#
# Environment: OUTPUT (build directory, default ./build), SBX_TEST_FILTER
# (run only cases whose name contains it), SBX_TEST_TIMEOUT (seconds per
# file, default 300: the microVM file boots guests under TCG).

set -u
cd "$(dirname "$0")/.." || exit 2
OUTPUT=$(realpath -m "${OUTPUT:-build}")
export OUTPUT SBX="$OUTPUT/sbx" NETTOOL="$OUTPUT/tests/integration/nettool"
export SBX_TEST_VERBOSE=${SBX_TEST_VERBOSE:-}
. tests/lib/totals.sh
TIMEOUT=${SBX_TEST_TIMEOUT:-300}

if [ "${1:-}" = -v ]; then
	SBX_TEST_VERBOSE=1
	shift
fi

files=()
for f in tests/integration/test_*.sh tests/security/test_*.sh; do
	if [ $# -eq 0 ]; then
		files+=("$f")
		continue
	fi
	for pat in "$@"; do
		[[ $f == *"$pat"* ]] && files+=("$f") && break
	done
done
[ ${#files[@]} -gt 0 ] || { echo "no test file matches: $*" >&2; exit 2; }
if [ -n "${SBX_TEST_AFTER:-}" ]; then
	quiet=()
	rest=()
	for f in "${files[@]}"; do
		case $f in
		*/test_rate.sh) quiet+=("$f") ;;
		*) rest+=("$f") ;;
		esac
	done
	files=("${rest[@]}" "${quiet[@]}")
	QUIET_FIRST=${quiet[0]:-}
fi

# ---- can this machine run the tests? ------------------------------------------

# feature_missing NAME...: prints "NAME: detail" for each feature that
# `sbx features --json` reports unavailable.
features_missing()
{
	local json
	json=$("$SBX" features --json 2>/dev/null) || { echo "sbx features failed"; return; }
	jq -r --argjson want "$(printf '%s\n' "$@" | jq -R . | jq -s .)" \
		'.features[] | select(.name as $n | $want | index($n)) | select(.available | not) | "\(.name): \(.detail)"' \
		<<<"$json" | head -3 | tr '\n' ' '
}

# trial_run: one sandbox under a throwaway instance, then unloaded.
trial_run()
{
	local dir out rc
	dir=$(mktemp -d)
	printf '%s\n' 'version = 1' '[profile.p]' 'provider = "host"' 'min_isolation = "none"' \
		'[profile.p.network]' 'mode = "none"' '[profile.p.fs]' 'mode = "full"' >"$dir/p.toml"
	out=$(SBX_INSTANCE="sbxtest-$$-probe" SBX_LOG_DIR="$dir" "$SBX" run -P "$dir/p.toml" -- true 2>&1)
	rc=$?
	SBX_INSTANCE="sbxtest-$$-probe" "$SBX" unload >/dev/null 2>&1 && rm -rf "/run/sbxtest-$$-probe"
	rm -rf "$dir"
	[ $rc = 0 ] || echo "a trial sandbox failed (exit $rc): $(tail -c 300 <<<"$out" | tr '\n' ' ')"
}

# machine_lacks: why this machine cannot run the tests (empty when it can).
# Only what the machine lacks may skip the layer.
machine_lacks()
{
	local t missing
	[ "$(id -u)" = 0 ] || { echo "not root (the integration tests load BPF programs and create cgroups)"; return; }
	for t in jq bpftool gcc timeout; do
		command -v $t >/dev/null || { echo "$t is not installed (make deps)"; return; }
	done
	[ -x "$SBX" ] || return 0	# broken, below
	missing=$(features_missing cgroup2 clone_into_cgroup bpffs bpf_prog_cgroup_sock_addr \
		bpf_prog_cgroup_sock bpf_prog_cgroup_skb bpf_prog_syscall bpf_map_ringbuf \
		bpf_map_lpm_trie bpf_map_array_of_maps)
	[ -z "$missing" ] || echo "kernel features missing: $missing"
}

# sbx_broken: why sbx itself cannot run a sandbox on a machine that has
# everything (empty when it can). That is a failure: a regression that
# breaks `sbx run` must fail the layer, not skip it.
sbx_broken()
{
	[ -x "$SBX" ] || { echo "$SBX is not built or not executable (make)"; return; }
	"$SBX" features --json >/dev/null 2>&1 || { echo "sbx features --json failed"; return; }
	trial_run
}

# sweep: what earlier runs that were killed (SIGKILL, a lost machine) left:
# instances named sbxtest-PID-* whose PID is gone. sbx unload removes their
# pins and cgroups; what it cannot is removed here, and said.
sweep()
{
	local d name pid root
	for d in /sys/fs/bpf/sbxtest-* /run/sbxtest-*; do
		[ -e "$d" ] || continue
		name=$(basename "$d")
		pid=${name#sbxtest-}; pid=${pid%%-*}
		[[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null || continue
		echo "  SWEEP    $name (left by an earlier run, pid $pid gone)"
		SBX_INSTANCE=$name "$SBX" unload >/dev/null 2>&1 ||
			echo "  SWEEP    $name: sbx unload failed; removing what is left"
		awk -v p="/run/$name/" 'index($5 "/", p) == 1 { print $5 }' /proc/self/mountinfo |
			sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
		rm -rf "/sys/fs/bpf/$name" "/run/$name"
	done
	# cgroups of dead instances, in the cgroup2 tree and the v1 hierarchies:
	# killed, then removed depth first
	find /sys/fs/cgroup -maxdepth 8 -type d -name 'sbxtest-*' -prune 2>/dev/null |
	while read -r d; do
		name=$(basename "$d")
		pid=${name#sbxtest-}; pid=${pid%%-*}
		[[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null || continue
		echo "  SWEEP    cgroup $d"
		[ -e "$d/cgroup.kill" ] && echo 1 >"$d/cgroup.kill" 2>/dev/null
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null
		find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
}

SBX_TEST_SKIP=$(machine_lacks)
if [ -z "$SBX_TEST_SKIP" ]; then
	sweep
	broken=$(sbx_broken)
	if [ -n "$broken" ]; then
		echo "FAIL integration.trial: $broken"
		echo "integration: 0 passed, 1 failed, 0 skipped: sbx cannot run a sandbox here"
		totals_write integration 0 1 0 </dev/null
		exit 1
	fi
	mkdir -p "$OUTPUT/tests/integration"
	if ! gcc -std=gnu11 -O2 -Wall -Wextra -o "$NETTOOL" tests/integration/nettool.c; then
		echo "FAIL build: tests/integration/nettool.c does not compile"
		totals_write integration 0 1 0 </dev/null
		exit 1
	fi
fi
export SBX_TEST_SKIP

# ---- run -------------------------------------------------------------------------

pass=0 fail=0 skip=0 start=$SECONDS
skips=$(mktemp)
trap 'rm -f "$skips"' EXIT
for f in "${files[@]}"; do
	name=$(basename "$f" .sh)
	if [ -n "${QUIET_FIRST:-}" ] && [ "$f" = "$QUIET_FIRST" ]; then
		echo "(waiting for the VM layer to end before $name)"
		while [ ! -e "$SBX_TEST_AFTER" ]; do sleep 2; done
	fi
	log=$(mktemp)
	timeout -k 10 "$TIMEOUT" bash "$f" >"$log" 2>&1
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
		echo "FAIL ${name#test_}: no cases ran"
		x=$((x + 1))
	fi
	pass=$((pass + p)) fail=$((fail + x)) skip=$((skip + s))
	[ -n "$SBX_TEST_SKIP" ] || sed -n 's/^SKIP //p' "$log" >>"$skips"
	rm -f "$log"
done

echo "integration: $pass passed, $fail failed, $skip skipped ($((SECONDS - start)) s)"
[ -n "$SBX_TEST_SKIP" ] && echo "integration: skipped because $SBX_TEST_SKIP"
totals_write integration $pass $fail $skip "$SBX_TEST_SKIP" <"$skips"
[ $fail = 0 ]
