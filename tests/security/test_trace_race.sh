#!/bin/bash
# SPDX-License-Identifier: MIT
# The syscall tracepoints are attached only while a sandbox needs them
# (user/core/trace.h). What could go wrong: a sandbox whose workload starts
# while the last other user of the links ends finds them detached under it
# (the ending one's sweep ran after the new one looked, or the new one saw a
# pin about to go) and its refusals go unaudited, or it sees a second link
# beside the first and every refusal is reported twice. Each run below makes
# one refused call at once; its --audit stream must hold exactly one
# syscall.denied for it, however the starts and ends interleave.
. "$(dirname "$0")/../integration/lib.sh"

race_setup()
{
	cat >"$T_TMP/p.toml" <<EOF
version = 1
[profile.audited]
provider = "process"
[profile.audited.seccomp]
deny = ["chroot"]
EOF
}

REFUSE='chroot / true 2>/dev/null; echo chroot=$?'

# check NAME: one syscall.denied of chroot in NAME's audit, and the call failed.
check()
{
	local n
	grep -q 'chroot=[1-9]' "$T_TMP/$1.out" || fail "$1: chroot was not refused: $(cat "$T_TMP/$1.out" "$T_TMP/$1.err")"
	n=$(ja "$1" '[.[] | select(.event == "syscall.denied" and .syscall == "chroot")] | length')
	eq "$1: syscall.denied events" "$n" 1
}

# Pairs started together: A ends (its refused call first) while B starts,
# with B's start shifted by 0-90 ms against A's so that its acquire falls
# before, inside and after A's release.
case_start_while_other_ends()
{
	local i pa pb rounds=12
	for i in $(seq "$rounds"); do
		bg sbx_run "a$i" -P "$T_TMP/p.toml" -- sh -c "$REFUSE"
		pa=$BG_PID
		sleep "0.0$((i % 10))"
		bg sbx_run "b$i" -P "$T_TMP/p.toml" -- sh -c "$REFUSE"
		pb=$BG_PID
		wait "$pa"
		wait "$pb"
		check "a$i"
		check "b$i"
	done
	[ -e "$PIN_DIR/link_sys_enter" ] && fail "link_sys_enter still pinned after every sandbox ended"
	return 0
}

# A stream of short audited sandboxes, each the last user when it ends, while
# others start one after another.
case_start_during_churn()
{
	local i churn
	(
		for i in $(seq 40); do
			[ -e "$T_TMP/stop" ] && break
			sbx_run "c$i" -P "$T_TMP/p.toml" -- true
		done
	) &
	churn=$!
	T_CASE_PIDS="$T_CASE_PIDS $churn"
	for i in $(seq 8); do
		sbx_run "d$i" -P "$T_TMP/p.toml" -- sh -c "$REFUSE"
		check "d$i"
	done
	touch "$T_TMP/stop"
	wait "$churn"
	[ -e "$PIN_DIR/link_sys_enter" ] && fail "link_sys_enter still pinned after every sandbox ended"
	return 0
}

# Three overlapping: A and B hold the links, A ends, C starts. C must find
# B's links (not attach a second pair beside them: B's and C's refusals would
# then be reported twice), and both must be audited once.
case_third_joins_after_first_ends()
{
	local pa pb
	held_start a -P "$T_TMP/p.toml" -- sh -c "$REFUSE"
	pa=$PID
	held_start b -P "$T_TMP/p.toml" -- sh -c "$REFUSE"
	pb=$PID
	held_go a
	wait "$pa"
	held_start c -P "$T_TMP/p.toml" -- sh -c "$REFUSE"
	held_go b
	held_go c
	wait "$pb"
	wait "$PID"
	check a
	check b
	check c
}

# A storm: audited sandboxes and sandboxes that need no tracing (whose
# starts sweep the slots and unpin the links when they see no user) all
# started at once, ending in any order. Every audited refusal once.
case_start_storm_mixed()
{
	local round i pids
	cat >"$T_TMP/plain.toml" <<EOF
version = 1
[profile.plain]
provider = "process"
audit = "none"
EOF
	for round in 1 2 3; do
		pids=""
		for i in 1 2 3 4 5; do
			bg sbx_run "s$round-$i" -P "$T_TMP/p.toml" -- sh -c "$REFUSE"
			pids="$pids $BG_PID"
			bg sbx_run "q$round-$i" -P "$T_TMP/plain.toml" -- true
			pids="$pids $BG_PID"
		done
		for i in $pids; do wait "$i"; done
		for i in 1 2 3 4 5; do
			check "s$round-$i"
			[ "$(jr "q$round-$i" .exit_code)" = 0 ] || fail "q$round-$i failed: $(cat "$T_TMP/q$round-$i.err")"
		done
	done
	[ -e "$PIN_DIR/link_sys_enter" ] && fail "link_sys_enter still pinned after every sandbox ended"
	return 0
}

setup race_setup
run_case start_while_other_ends case_start_while_other_ends
run_case start_during_churn case_start_during_churn
run_case third_joins_after_first_ends case_third_joins_after_first_ends
run_case start_storm_mixed case_start_storm_mixed
finish
