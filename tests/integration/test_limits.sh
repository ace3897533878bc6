#!/bin/bash
# SPDX-License-Identifier: MIT
# Resource limits (user/kernel/limits.c) on the host's real cgroups, driven through
# tests/integration/limits_harness.c (compiled here) until the process
# provider uses the module: memory, pids and CPU limits are enforced, kill
# leaves no process, and nothing the module created is left behind.
# Works on pure cgroup2 and on hybrid v1/v2 hosts alike; a limit the host
# cannot enforce turns its case into SKIP with the module's reason.
#
# Self-contained (it needs neither the sbx binary nor BPF): prints
#   PASS limits.NAME | FAIL limits.NAME: why | SKIP limits.NAME: reason
# and exits 1 when a case failed. Environment: OUTPUT (build directory),
# SBX_TEST_FILTER (run only cases whose name contains it).

set -u
cd "$(dirname "$0")/../.." || exit 2
OUTPUT=$(realpath -m "${OUTPUT:-build}")
HARNESS=$OUTPUT/tests/integration/limits_harness
INSTANCE="sbxtest-limits-$$"
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sbxtest.limits.XXXXXX")
FAILED=0

trap 'rm -rf "$T_TMP"' EXIT

# mounts FSTYPE [OPTION]: mount points of FSTYPE (with that super option).
mounts()
{
	awk -v t="$1" -v o="${2:-}" '{
		for (i = 7; i <= NF && $i != "-"; i++) ;
		if ($(i + 1) == t && (o == "" || index("," $(i + 3) ",", "," o ","))) print $5
	}' /proc/self/mountinfo
}

skip_reason()
{
	local t
	[ "$(id -u)" = 0 ] || { echo "not root (the tests create cgroups)"; return; }
	for t in gcc jq timeout; do
		command -v $t >/dev/null || { echo "$t is not installed (make deps)"; return; }
	done
	[ -n "$(mounts cgroup2)" ] || { echo "cgroup2 is not mounted"; return; }
	mkdir -p "$(dirname "$HARNESS")"
	gcc -std=gnu11 -O2 -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE \
		-iquote user -iquote policy -iquote bpf/include -o "$HARNESS" \
		tests/integration/limits_harness.c user/kernel/limits.c user/kernel/cgroup.c \
		user/kernel/mountinfo.c user/kernel/systemd.c user/util/util.c policy/values.c \
		$(pkg-config --libs libsystemd) >"$T_TMP/cc.log" 2>&1 || echo "BUILD-FAILED"
}
SKIP_ALL=$(skip_reason)
if [ "$SKIP_ALL" = BUILD-FAILED ]; then
	echo "FAIL limits.build: limits_harness does not compile: $(head -c 600 "$T_TMP/cc.log" | tr '\n' ' ')"
	exit 1
fi

fail() { echo "$*" >"$T_TMP/why"; exit 1; }
skip() { echo "$*" >"$T_TMP/why"; exit 77; }

# harness ARGS...: runs the harness; sets OUT (its JSON) and ERR (the
# workload's output); skips the case when the host cannot enforce a limit.
harness()
{
	timeout -k 5 60 "$HARNESS" -i "$INSTANCE" "$@" >"$T_TMP/out" 2>"$T_TMP/err"
	OUT=$(cat "$T_TMP/out")
	ERR=$(cat "$T_TMP/err")
	jq -e . >/dev/null 2>&1 <<<"$OUT" || fail "harness printed no JSON: $OUT $ERR"
	local create why
	create=$(j .create)
	why=$(j .why)
	# -EOPNOTSUPP: a SKIP only when this machine lacks the controller that
	# why names ("pids: no pids controller (...)"); if it has it, sbx failed
	if [ "$create" = -95 ]; then
		local c=${why%%:*}
		if grep -qw "$c" "$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)/cgroup.controllers" 2>/dev/null ||
			awk -F: -v c="$c" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) f = 1 } END { exit !f }' /proc/self/cgroup; then
			fail "sbx_limits_create refused although this machine has the $c controller: $why"
		fi
		skip "$why"
	fi
	[ "$create" = 0 ] || fail "sbx_limits_create: $create ($why); $(j .error)"
	[ "$(j .result)" = 0 ] || fail "harness result $(j .result)"
	printf '%s\n' "$(j '.v1_paths[]')" >>"$T_TMP/v1_paths"
	gone
}

j() { jq -r "$1" <<<"$OUT"; }

# gone: the sandbox's cgroups (v1 and cgroup2) no longer exist.
gone()
{
	local d
	for d in $(j '.v1_paths[]') "$(j .v2_path)"; do
		[ -e "$d" ] && fail "left behind: $d"
	done
	return 0
}

run_case()
{
	local name="limits.$1" rc
	if [ -n "${SBX_TEST_FILTER:-}" ] && [[ "$name" != *"$SBX_TEST_FILTER"* ]]; then
		return 0
	fi
	if [ -n "$SKIP_ALL" ]; then
		echo "SKIP $name: $SKIP_ALL"
		return 0
	fi
	: >"$T_TMP/why"
	( "$2" ) >"$T_TMP/case.log" 2>&1
	rc=$?
	case $rc in
	0) echo "PASS $name" ;;
	77) echo "SKIP $name: $(cat "$T_TMP/why")" ;;
	*)
		FAILED=1
		echo "FAIL $name: $(head -c 1500 "$T_TMP/why" | tr '\n' ' ')$(tail -c 400 "$T_TMP/case.log" | tr '\n' ' ')"
		;;
	esac
}

# ---- cases -----------------------------------------------------------------

# 256 MiB touched under a 64 MiB limit: the OOM killer ends it (no swap
# beyond the limit either), and the usage says so.
case_memory_bomb_oom_killed()
{
	harness -m $((64 << 20)) -- work mem $((256 << 20))
	[ "$(j .signal)" = 9 ] || fail "expected SIGKILL, got exit $(j .exit_code) signal $(j .signal): $ERR"
	grep -q touched <<<"$ERR" && fail "the workload touched all 256 MiB: $ERR"
	[ "$(j .oom_killed)" = true ] || fail "oom_killed is $(j .oom_killed): $OUT"
	local peak
	peak=$(j .peak_memory_bytes)
	[ "$peak" -gt $((32 << 20)) ] && [ "$peak" -le $((64 << 20)) ] ||
		fail "peak_memory_bytes $peak, expected in (32 MiB, 64 MiB]"
}

# Forking without end under pids = 32: fork fails with EAGAIN after at
# most 31 children (the workload itself is the 32nd), and it stops there.
# The child places itself in the v1 cgroups here (-s: attach_self).
case_fork_bomb_stopped()
{
	harness -s -p 32 -- work fork 100000
	local n
	n=$(awk '/^forked/ { print $2 }' <<<"$ERR")
	grep -q '^forked [0-9]* errno EAGAIN' <<<"$ERR" || fail "fork did not fail with EAGAIN: $ERR"
	[ "$(j .exit_code)" = 3 ] || fail "workload exit $(j .exit_code), signal $(j .signal)"
	[ "$n" -le 31 ] && [ "$n" -ge 20 ] || fail "forked $n children under pids = 32"
	[ "$(j .left_after_kill)" = 0 ] || fail "$(j .left_after_kill) processes survived the kill"
	[ "$(j .oom_killed)" = false ] || fail "oom_killed without a memory limit"
}

# A busy loop of 2 s wall time under 0.2 CPU gets ~0.4 s of CPU. The bound
# is the ratio of the sandbox's CPU to its own wall time (the quota, with
# room for scheduling noise); a loaded machine can only lower it, so there
# is no lower bound beyond "accounted at all".
case_cpu_quota_ratio()
{
	harness -c 200 -- work spin 2000
	[ "$(j .exit_code)" = 0 ] || fail "workload exit $(j .exit_code) signal $(j .signal): $ERR"
	local us wall
	us=$(($(j .cpu_user_us) + $(j .cpu_system_us)))
	wall=$(j .wall_ms)
	[ "$us" -gt 0 ] && [ "$us" -le $((wall * 350)) ] ||
		fail "CPU time ${us} us over ${wall} ms wall, expected at most 0.35 of the wall time for 0.2 CPU"
}

# The CPU time the cgroups account is the time the workload itself saw
# (CLOCK_PROCESS_CPUTIME_ID), whatever else the machine is busy with.
case_cpu_accounting_matches_workload()
{
	harness -- work spin 1000
	local us self
	us=$(($(j .cpu_user_us) + $(j .cpu_system_us)))
	self=$(awk '/^cpu_us/ { print $2 }' <<<"$ERR")
	[ -n "$self" ] || fail "the workload did not report its CPU time: $ERR"
	[ "$us" -ge $((self * 9 / 10)) ] && [ "$us" -le $((self * 11 / 10 + 50000)) ] ||
		fail "accounted ${us} us, the workload measured ${self} us"
}

# Detached, re-parented, setsid sleepers and the workload itself all die
# when the sandbox is killed (child attached by itself, -s).
case_kill_leaves_no_process()
{
	local secs=$((10000 + RANDOM % 50000)) seen i p
	# the sleepers are seen running before the kill (5 s later), so that
	# "none left" cannot pass on a tree that never started
	harness -s -k 5000 -- work tree 5 "$secs" &
	for i in $(seq 100); do
		seen=$(pgrep -f "^sleep $secs\$")
		[ "$(wc -w <<<"$seen")" -ge 5 ] && break
		sleep 0.05
	done
	wait $! || exit $?	# the harness's own fail/skip (in its subshell)
	[ "$(wc -w <<<"$seen")" -ge 5 ] || fail "only $(wc -w <<<"$seen") of 5 sleepers seen before the kill"
	OUT=$(cat "$T_TMP/out")
	[ "$(j .kill)" = 0 ] || fail "sbx_limits_kill returned $(j .kill)"
	[ "$(j .left_after_kill)" = 0 ] || fail "$(j .left_after_kill) processes survived"
	[ "$(j .signal)" = 9 ] || fail "workload ended with exit $(j .exit_code) signal $(j .signal)"
	for p in $seen; do
		for i in $(seq 600); do [ -e "/proc/$p" ] && [ "$(awk '{print $3}' /proc/$p/stat 2>/dev/null)" != Z ] || break; sleep 0.05; done
		[ -e "/proc/$p" ] && [ "$(awk '{print $3}' /proc/$p/stat 2>/dev/null)" != Z ] &&
			fail "sleeper $p survived: $(tr '\0' ' ' </proc/$p/cmdline)"
	done
	return 0
}

# A limit no controller can enforce fails the create with -EOPNOTSUPP and
# a reason naming it, and creates nothing: the v1 memory hierarchy is
# unmounted in a private mount namespace of the harness only.
case_missing_controller_is_reported()
{
	local mnt out
	mnt=$(mounts cgroup memory | head -1)
	[ -n "$mnt" ] || skip "no v1 memory hierarchy to hide on this host"
	command -v unshare >/dev/null || skip "unshare is not installed"
	out=$(timeout -k 5 60 unshare -m --propagation private sh -c \
		'umount "$1" && exec "$2" -i "$3" -m 67108864 -- /bin/true' sh "$mnt" "$HARNESS" "$INSTANCE" 2>&1)
	OUT=$out
	[ "$(j .create)" = -95 ] || fail "create returned $(j .create) without the memory hierarchy: $out"
	[[ "$(j .why)" == "memory: no memory controller ("*"no v1 memory hierarchy is mounted)"* ]] ||
		fail "why: $(j .why)"
	[ "$(j .result)" = -95 ] || fail "harness result $(j .result)"
	[ -e "$(j .v2_path)" ] && fail "left behind: $(j .v2_path)"
	return 0
}

# Every directory the module made, and the instance directories above them,
# are gone (the cgroup2 root was the harness's own and is gone as well).
case_nothing_left_behind()
{
	local d v2root
	[ -s "$T_TMP/v1_paths" ] || skip "no case used a v1 hierarchy (pure cgroup2 host)"
	while read -r d; do
		[ -n "$d" ] || continue
		[ -e "$d" ] && fail "left behind: $d"
	done <"$T_TMP/v1_paths"
	# the instance's directories stay for its next sandbox until sbx unload
	"$HARNESS" unload "$INSTANCE" || fail "harness unload failed"
	while read -r d; do
		[ -n "$d" ] || continue
		[ -e "$(dirname "$d")" ] && fail "instance directory left behind after unload: $(dirname "$d")"
	done <"$T_TMP/v1_paths"
	v2root="$(mounts cgroup2 | head -1)$(sed -n 's/^0:://p' /proc/self/cgroup | sed 's|^/$||')/$INSTANCE"
	[ -e "$v2root" ] && fail "cgroup2 root left behind: $v2root"
	return 0
}

: >"$T_TMP/v1_paths"
run_case memory_bomb_oom_killed case_memory_bomb_oom_killed
run_case fork_bomb_stopped case_fork_bomb_stopped
run_case cpu_quota_ratio case_cpu_quota_ratio
run_case cpu_accounting_matches_workload case_cpu_accounting_matches_workload
run_case kill_leaves_no_process case_kill_leaves_no_process
run_case missing_controller_is_reported case_missing_controller_is_reported
run_case nothing_left_behind case_nothing_left_behind
exit $FAILED
