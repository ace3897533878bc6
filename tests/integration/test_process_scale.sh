#!/bin/bash
# SPDX-License-Identifier: MIT
# The process provider at scale (slow; filter with the file pattern
# "process_scale"; the 1,000 sequential runs are in test_process_scale_seq.sh,
# which sources this file): 200 concurrent `sbx run`s of a sleeping workload all
# succeed and leave nothing behind; 1,000 sequential runs of /bin/true (and
# 300 with cgroup limits) leak nothing: sandbox cgroups (cgroup2 and, on
# hybrid hosts, v1), slot registry files, mounts, pins, entries of the
# sbx_cgroups / sbx_slots maps, and file descriptors of a
# long-lived observer (`sbx audit --follow`) are the same before and after.
. "$(dirname "$0")/lib.sh"

CONCURRENT=${SBX_TEST_CONCURRENT:-200}
SEQUENTIAL=${SBX_TEST_SEQUENTIAL:-1000}
SEQUENTIAL_LIMITS=${SBX_TEST_SEQUENTIAL_LIMITS:-300}

# ppol [PROFILE-KEYS]: profile t on the process provider, network and fs none.
ppol()
{
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.t]
provider = "process"
min_isolation = "process"
${1:-}
[profile.t.network]
mode = "none"
[profile.t.fs]
mode = "none"
EOF
}

# map_len MAP [JQ-FILTER]: entries of a pinned map.
map_len()
{
	bpftool map dump pinned "$PIN_DIR/$1" -j 2>/dev/null | jq "${2:-length}" 2>/dev/null || echo "?"
}

# snapshot OBSERVER-PID: one line per resource that a finished sandbox must
# not leave behind.
snapshot()
{
	local root v1=0 d
	root=$(cgroup_root)
	for d in $(v1_instance_dirs); do
		v1=$((v1 + $(find "$d" -mindepth 1 -type d | wc -l)))
	done
	echo "cgroup2 sandbox cgroups: $(find "$root" -mindepth 1 -type d 2>/dev/null | wc -l)"
	echo "cgroup v1 sandbox cgroups: $v1"
	echo "slot registry files: $(find "$RUN_DIR/slots" -mindepth 1 2>/dev/null | wc -l)"
	echo "mounts: $(wc -l </proc/self/mountinfo)"
	echo "pins: $(ls -A "$PIN_DIR" 2>/dev/null | wc -l)"
	echo "sbx_cgroups entries: $(map_len sbx_cgroups)"
	echo "sbx_slots entries: $(map_len sbx_slots)"
	echo "sbx_slots active: $(map_len sbx_slots '[.[] | select(.formatted.value.flags != 0)] | length')"
	echo "observer fds: $(ls /proc/"$1"/fd 2>/dev/null | wc -l)"
	echo "sandboxes in sbx ps: $("$SBX" ps --json 2>/dev/null | jq '.sandboxes | length')"
}

case_concurrent_sleep_runs()
{
	local i pids="" rc bad=0 why="" left
	ppol 'timeout = "60s"'
	mkdir -p "$T_TMP/conc"
	for i in $(seq "$CONCURRENT"); do
		"$SBX" run -P "$T_TMP/policy.toml" --profile t -- sleep 2 \
			>"$T_TMP/conc/$i.out" 2>"$T_TMP/conc/$i.err" &
		pids="$pids $!"
		T_CASE_PIDS="$T_CASE_PIDS $!"
	done
	i=0
	for p in $pids; do
		i=$((i + 1))
		wait "$p"
		rc=$?
		if [ $rc != 0 ]; then
			bad=$((bad + 1))
			[ -n "$why" ] || why="run $i exited $rc: $(head -c 300 "$T_TMP/conc/$i.err" | tr '\n' ' ')"
		fi
	done
	[ $bad = 0 ] || fail "$bad of $CONCURRENT concurrent runs failed; first: $why"
	left=$(leftovers)
	[ -z "$left" ] || fail "left behind: $left"
	eq "sbx ps after the runs" "$("$SBX" ps --json | jq '.sandboxes | length')" 0
	eq "cgroups under the instance root" "$(find "$(cgroup_root)" -mindepth 1 -type d | wc -l)" 0
	eq "slot registry files" "$(find "$RUN_DIR/slots" -mindepth 1 2>/dev/null | wc -l)" 0
	rm -rf "$T_TMP/conc"
}

# sequential N NAME: N runs of /bin/true under $T_TMP/policy.toml, comparing
# snapshots before and after.
sequential()
{
	local n=$1 i rc obs before after start
	# a first run loads the programs, the observer opens the log
	"$SBX" run -P "$T_TMP/policy.toml" --profile t -- /bin/true || fail "the first run failed"
	"$SBX" audit --follow >/dev/null 2>&1 &
	obs=$!
	T_CASE_PIDS="$T_CASE_PIDS $obs"
	sleep 0.5
	kill -0 "$obs" 2>/dev/null || fail "the observer (sbx audit --follow) did not stay"
	before=$(snapshot "$obs")
	start=$SECONDS
	for i in $(seq "$n"); do
		"$SBX" run -P "$T_TMP/policy.toml" --profile t -- /bin/true >/dev/null 2>"$T_TMP/seq.err"
		rc=$?
		[ $rc = 0 ] || fail "run $i of $n exited $rc: $(head -c 300 "$T_TMP/seq.err")"
	done
	sleep 0.5	# the observer reads every 200 ms
	after=$(snapshot "$obs")
	echo "$n runs in $((SECONDS - start)) s"
	[ "$before" = "$after" ] || fail "after $n sequential runs: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | tr '\n' ';')"
	kill "$obs" 2>/dev/null
	wait "$obs" 2>/dev/null
	return 0
}

case_sequential_true_runs_leak_nothing()
{
	ppol
	sequential "$SEQUENTIAL"
}

# With limits the sandbox also gets cgroup v1 directories on hybrid hosts.
case_sequential_runs_with_limits_leak_nothing()
{
	ppol 'pids = 64
memory = "64M"
cpu = 1'
	sbx_run probe -P "$T_TMP/policy.toml" --profile t -- /bin/true
	unenforceable probe pids memory cpu
	expect_rc probe 0
	sequential "$SEQUENTIAL_LIMITS"
}

# calibrate: SEQUENTIAL runs when they fit in SBX_TEST_SEQ_BUDGET seconds
# (default 80, below the runner's 120 s per file) at the speed of 20 runs
# here; otherwise 300, and the case name says so.
calibrate()
{
	local t0 ms i budget=${SBX_TEST_SEQ_BUDGET:-80}
	SEQ_NAME="sequential_${SEQUENTIAL}_true_runs_leak_nothing"
	[ -n "$SBX_TEST_SKIP" ] && return 0
	ppol
	t0=$(date +%s%N)
	for i in $(seq 20); do
		"$SBX" run -P "$T_TMP/policy.toml" --profile t -- /bin/true >/dev/null 2>&1
	done
	ms=$((($(date +%s%N) - t0) / 20000000))
	if [ $((ms * SEQUENTIAL)) -gt $((budget * 1000)) ] && [ "$SEQUENTIAL" -gt 300 ]; then
		SEQ_NAME="sequential_300_true_runs_leak_nothing_reduced_from_${SEQUENTIAL}_at_${ms}ms_per_run"
		SEQUENTIAL=300
	fi
}

setup true
# test_process_scale_seq.sh sources this file with SCALE_PART=seq, so that
# the 1,000 sequential runs get a runner time limit of their own.
case ${SCALE_PART:-main} in
seq)
	calibrate
	run_case "$SEQ_NAME" case_sequential_true_runs_leak_nothing
	;;
*)
	run_case "concurrent_${CONCURRENT}_sleep_runs" case_concurrent_sleep_runs
	run_case "sequential_${SEQUENTIAL_LIMITS}_runs_with_limits_leak_nothing" case_sequential_runs_with_limits_leak_nothing
	;;
esac
finish
