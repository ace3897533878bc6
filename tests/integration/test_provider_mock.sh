#!/bin/bash
# SPDX-License-Identifier: MIT
# The mock provider (providers/mock.c) through `sbx run`: it runs nothing but
# goes through the whole sandbox lifecycle (slot, cgroup, limits, start and
# exit events, result, cleanup). Its configured stdout/stderr, exit code and
# duration; the same result twice; the command is never executed; the result
# and the sandbox.start event name provider "mock" with isolation "none";
# the simulated failures: spawn (125 with the reason), timeout (124, with the
# profile's timeout or one the mock adds), crash (139, SIGSEGV), oom (137,
# oom_killed from the cgroup with a memory limit; plain SIGKILL without);
# SIGTERM of sbx ends it (143); nothing is left behind.
. "$(dirname "$0")/lib.sh"

# mpol [PROFILE-KEYS] [MOCK-KEYS]: $T_TMP/policy.toml with profile m on the
# mock provider (isolation none, fs mode full: nothing to enforce).
mpol()
{
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.m]
provider = "mock"
min_isolation = "none"
${1:-}
[profile.m.fs]
mode = "full"
[profile.m.mock]
${2:-}
EOF
}

mrun()
{
	local name=$1
	shift
	sbx_run "$name" -P "$T_TMP/policy.toml" --profile m "$@"
}

case_output_exit_code_duration()
{
	local wall
	mpol "" 'exit_code = 42
stdout = "line 1\nline 2\n"
stderr = "warning: simulated\n"
duration = "300ms"'
	mrun r -- sh -c "touch '$T_TMP/ran'"
	expect_rc r 42
	eq "stdout" "$(cat "$T_TMP/r.out")" "$(printf 'line 1\nline 2')"
	eq "stderr" "$(cat "$T_TMP/r.err")" "warning: simulated"
	[ -e "$T_TMP/ran" ] && fail "the mock ran the command"
	eq "result provider" "$(jr r .provider)" mock
	eq "result isolation" "$(jr r .isolation)" none
	eq "result exit_code" "$(jr r .exit_code)" 42
	eq "result timed_out" "$(jr r .timed_out)" false
	wall=$(jr r .wall_ms)
	[ "$wall" -ge 300 ] || fail "wall_ms $wall < duration 300"
	eq "sandbox.start provider" "$(ja r '[.[] | select(.event == "sandbox.start")][0].provider')" mock
	eq "sandbox.exit exit_code" "$(ja r '[.[] | select(.event == "sandbox.exit")][0].exit_code')" 42
	return 0
}

case_deterministic()
{
	mpol "" 'exit_code = 7
stdout = "same every time\n"
stderr = "and this\n"'
	mrun a -- anything
	mrun b -- anything
	expect_rc a 7
	expect_rc b 7
	cmp -s "$T_TMP/a.out" "$T_TMP/b.out" || fail "stdout differs between two runs"
	cmp -s "$T_TMP/a.err" "$T_TMP/b.err" || fail "stderr differs between two runs"
	eq "result minus id and timing" \
		"$(jq -c 'del(.sandbox, .wall_ms, .cpu_ms, .cpu_user_ms, .cpu_system_ms, .peak_memory_bytes)' "$T_TMP/a.result")" \
		"$(jq -c 'del(.sandbox, .wall_ms, .cpu_ms, .cpu_user_ms, .cpu_system_ms, .peak_memory_bytes)' "$T_TMP/b.result")"
}

case_defaults_exit_0_no_output()
{
	mpol
	mrun r -- false
	expect_rc r 0
	[ -s "$T_TMP/r.out" ] && fail "stdout not empty: $(cat "$T_TMP/r.out")"
	return 0
}

case_fail_spawn()
{
	mpol "" 'fail = "spawn"'
	mrun r -- true
	expect_rc r 125
	grep -q 'simulated spawn failure (mock provider' "$T_TMP/r.err" || fail "message: $(cat "$T_TMP/r.err")"
	[ -s "$T_TMP/r.result" ] && fail "a result was written for a failed start"
	return 0
}

case_fail_timeout_profile_timeout()
{
	mpol 'timeout = "300ms"' 'fail = "timeout"'
	mrun r -- true
	expect_rc r 124
	eq "timed_out" "$(jr r .timed_out)" true
	eq "signal" "$(jr r .signal)" 15
	eq "sandbox.exit timed_out" "$(ja r '[.[] | select(.event == "sandbox.exit")][0].timed_out')" true
}

case_fail_timeout_without_profile_timeout()
{
	local wall
	mpol "" 'fail = "timeout"
duration = "400ms"'
	mrun r -- true
	expect_rc r 124
	eq "timed_out" "$(jr r .timed_out)" true
	# the mock sleeps its duration before timing out: a lower bound only
	wall=$(jr r .wall_ms)
	[ "$wall" -ge 400 ] || fail "wall_ms $wall, shorter than the duration (400 ms)"
}

case_fail_crash()
{
	mpol "" 'fail = "crash"
stdout = "before the crash\n"'
	mrun r -- true
	expect_rc r 139
	eq "signal" "$(jr r .signal)" 11
	eq "stdout" "$(cat "$T_TMP/r.out")" "before the crash"
}

case_fail_oom_with_memory_limit()
{
	mpol 'memory = "32M"' 'fail = "oom"'
	mrun r -- true
	unenforceable r memory
	expect_rc r 137
	eq "signal" "$(jr r .signal)" 9
	eq "oom_killed (from the cgroup's accounting)" "$(jr r .oom_killed)" true
}

case_fail_oom_without_limit()
{
	mpol "" 'fail = "oom"'
	mrun r -- true
	expect_rc r 137
	eq "signal" "$(jr r .signal)" 9
	eq "oom_killed" "$(jr r .oom_killed)" false
}

case_needs_min_isolation_none()
{
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.m]
provider = "mock"
EOF
	mrun r -- true
	expect_rc r 125
	# (the policy loader already refuses it; sbx run would too)
	grep -q "provider 'mock' (isolation 'none') does not meet min_isolation 'process'\|needs isolation 'process' but provider 'mock' gives 'none'" \
		"$T_TMP/r.err" || fail "message: $(cat "$T_TMP/r.err")"
}

case_sigterm_of_sbx_ends_it()
{
	local i rc
	mpol "" 'duration = "60s"'
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile m --result "$T_TMP/t.result" -- true
	for i in $(seq 100); do
		[ -n "$(pgrep -P "$BG_PID" -x sbx-mock)" ] && break
		sleep 0.05
	done
	[ -n "$(pgrep -P "$BG_PID" -x sbx-mock)" ] || fail "no sbx-mock child of sbx"
	kill -TERM "$BG_PID"
	wait "$BG_PID"
	rc=$?
	eq "sbx exit code after SIGTERM" "$rc" 143
}

run_case output_exit_code_duration case_output_exit_code_duration
run_case deterministic case_deterministic
run_case defaults_exit_0_no_output case_defaults_exit_0_no_output
run_case fail_spawn case_fail_spawn
run_case fail_timeout_profile_timeout case_fail_timeout_profile_timeout
run_case fail_timeout_without_profile_timeout case_fail_timeout_without_profile_timeout
run_case fail_crash case_fail_crash
run_case fail_oom_with_memory_limit case_fail_oom_with_memory_limit
run_case fail_oom_without_limit case_fail_oom_without_limit
run_case needs_min_isolation_none case_needs_min_isolation_none
run_case sigterm_of_sbx_ends_it case_sigterm_of_sbx_ends_it
finish
