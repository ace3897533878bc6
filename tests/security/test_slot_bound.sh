#!/bin/bash
# SPDX-License-Identifier: MIT
# The slot bound (user/core/sandbox.c, slot_bound): a start reads only the
# sandbox slots below the number kept in /run/INSTANCE/lock, not all 4,096.
# What could go wrong: a bound that is too low (written by hand, left by an
# sbx that does not keep it, garbage) hides a busy slot, and a second sandbox
# is given it: it overwrites the first one's policy, and the first runs with
# the second's rules (or none once the second ends). A crash between raising
# the bound and using the slot could leave it too low as well, and a slot
# whose manager was killed would then never be reclaimed. Concurrent starts
# must still get one slot each. Each case checks that every running sandbox
# keeps its own slot and its own network policy: a connect its policy denies
# is refused (EPERM), a connect it allows reaches the closed port.
# (The --audit and --result files are not looked at.)
. "$(dirname "$0")/../integration/lib.sh"

ALLOWED=47391
DENIED=47392

bound_setup()
{
	cat >"$T_TMP/p.toml" <<EOF
version = 1
[profile.t]
provider = "process"
[profile.t.network]
mode = "allow"
allow = ["127.0.0.1:$ALLOWED/tcp"]
EOF
}

# (bash's /dev/tcp: the process provider's view of the host has no nettool)
CONNECTS="for p in $DENIED $ALLOWED; do bash -c \"exec 3<>/dev/tcp/127.0.0.1/\$p\" 2>&1; done; true"
declare -A PIDS

# start NAME: a held sandbox whose workload, on go, connects to the denied
# and to the allowed port.
start()
{
	held_start "$1" -P "$T_TMP/p.toml" --profile t -- sh -c "$CONNECTS"
	PIDS[$1]=$PID
}

# slots: "SLOT MANAGER_PID" of every running sandbox, one a line.
slots()
{
	"$SBX" ps --json | jq -r '.sandboxes[] | "\(.slot) \(.manager_pid)"' | sort -n
}

# distinct_slots N: N sandboxes run, each in a slot of its own. (A listing
# may miss a sandbox whose registry file is being rewritten at that moment:
# readdir and rename race. Two sandboxes in one slot stay one.)
distinct_slots()
{
	local s i
	for i in $(seq 40); do
		s=$(slots)
		[ "$(wc -l <<<"$s" | tr -d ' ')" = "$1" ] && break
		sleep 0.05
	done
	[ "$(wc -l <<<"$s" | tr -d ' ')" = "$1" ] ||
		fail "$1 sandboxes run, sbx ps lists (slot manager): $(tr '\n' ' ' <<<"$s")"
	eq "distinct slots" "$(cut -d' ' -f1 <<<"$s" | sort -u | wc -l | tr -d ' ')" "$1"
}

# confined NAME...: each one, let go, was refused the denied port only.
confined()
{
	local n
	for n in "$@"; do held_go "$n"; done
	for n in "$@"; do wait "${PIDS[$n]}"; done
	for n in "$@"; do
		grep -q "$DENIED: Operation not permitted" "$T_TMP/$n.out" ||
			fail "$n: the denied connect was not refused: $(cat "$T_TMP/$n.out")"
		grep -q "$ALLOWED: Connection refused" "$T_TMP/$n.out" ||
			fail "$n: the allowed connect did not reach the port: $(cat "$T_TMP/$n.out")"
	done
}

bound() { tr -d '\n' <"$RUN_DIR/lock"; }

# quiet: what an earlier (failed) case left has ended, so that the counts
# below are this case's.
quiet()
{
	local i
	for i in $(seq 100); do
		[ -z "$(slots)" ] && return 0
		sleep 0.05
	done
	fail "sandboxes of an earlier case still run: $(slots | tr '\n' ' ')"
}

# Two sandboxes run; the bound is then set to 0 (nothing active, a lie): a
# third start must find the busy slots anyway and take another one.
case_low_bound_never_hands_out_a_busy_slot()
{
	quiet
	start a
	start b
	printf '%010u\n' 0 >"$RUN_DIR/lock"
	start c
	distinct_slots 3
	[ "$(bound)" -ge 3 ] || fail "the bound $(bound) is below the three busy slots"
	confined a b c
}

# A bound of 1 with slots 0 and 1 busy: the slot at the bound is read as
# well, found busy, and the whole map is read.
case_bound_at_a_busy_slot_reads_all()
{
	quiet
	start a
	start b
	printf '%010u\n' 1 >"$RUN_DIR/lock"
	start c
	distinct_slots 3
	confined a b c
}

# Garbage, a bound past the map and an empty file read as "read them all".
case_garbage_bound_reads_all()
{
	local v i=0
	quiet
	start a
	for v in 'junk' '99999999999' '-1' ''; do
		i=$((i + 1))
		printf '%s\n' "$v" >"$RUN_DIR/lock"
		start "g$i"
		distinct_slots 2
		confined "g$i"
	done
	confined a
}

# A manager killed with its sandbox running (a crash; its init dies with it,
# the slot, cgroup and registry stay): the bound stays above its slot, and the
# instance's next start reclaims it instead of leaving it past the bound.
case_killed_manager_is_reclaimed()
{
	quiet
	local slot cg
	start a
	start b
	held_start k --direct -P "$T_TMP/p.toml" --profile t -- true
	read -r slot cg < <("$SBX" ps --json |
		jq -r --argjson p "$PID" '.sandboxes[] | select(.manager_pid == $p) | "\(.slot) \(.cgroup)"')
	[ -n "$cg" ] || fail "the third sandbox is not listed"
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null
	[ -d "$cg" ] || fail "the killed manager's cgroup went with it (nothing to reclaim)"
	[ "$(bound)" -gt "$slot" ] || fail "the bound $(bound) does not cover the dead manager's slot $slot"
	sbx_run next -P "$T_TMP/p.toml" --profile t -- true
	eq "the next start" "$RC" 0
	[ -d "$cg" ] && fail "the dead manager's cgroup survived the next start"
	[ -e "$RUN_DIR/slots/$slot" ] && fail "the dead manager's slot $slot is still registered"
	distinct_slots 2
	confined a b
}

# Eight starts at once (not one after another's "ready"): eight slots,
# eight policies.
case_concurrent_starts_get_their_own_slots()
{
	local i fd names=()
	quiet
	for i in $(seq 8); do
		names+=("p$i")
		mkfifo "$T_TMP/p$i.in"
		exec {fd}<>"$T_TMP/p$i.in"
		eval "held_p$i=$fd"
		bg sh -c 'f=$1; shift; exec "$@" <"$f"' sh "$T_TMP/p$i.in" \
			"$SBX" run -P "$T_TMP/p.toml" --profile t -- \
			sh -c "echo ready; read -r x; $CONNECTS" >"$T_TMP/p$i.out" 2>"$T_TMP/p$i.err"
		PIDS[p$i]=$BG_PID
	done
	for i in "${names[@]}"; do
		wait_for "$T_TMP/$i.out" ready || fail "$i did not start: $(cat "$T_TMP/$i.err")"
	done
	distinct_slots 8
	confined "${names[@]}"
}

setup bound_setup
run_case low_bound_never_hands_out_a_busy_slot case_low_bound_never_hands_out_a_busy_slot
run_case bound_at_a_busy_slot_reads_all case_bound_at_a_busy_slot_reads_all
run_case garbage_bound_reads_all case_garbage_bound_reads_all
run_case killed_manager_is_reclaimed case_killed_manager_is_reclaimed
run_case concurrent_starts_get_their_own_slots case_concurrent_starts_get_their_own_slots
finish
