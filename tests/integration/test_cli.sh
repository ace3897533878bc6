#!/bin/bash
# SPDX-License-Identifier: MIT
# What `sbx run` tells its caller (docs/cli.md, sbx-run(1)): exit codes that
# never pass sbx's own failures off as the workload's, the result kept off
# stdout (--result - is stderr, --result-fd N a descriptor of the caller's),
# and `sbx policy check` refusing what `sbx run` refuses, with the same
# message at the same position. Every shipped example (policy/examples/)
# passes check and each of its profiles runs a trivial command.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
EXAMPLES=$SRC/policy/examples
MODS=""

cli_setup()
{
	write_policy "$T_TMP/policy.toml" t "" 'mode = "none"'
	MODS=$T_TMP/mods
	mkdir -p "$MODS" || return 1
	if command -v wat2wasm >/dev/null; then
		wat2wasm "$SRC/tests/integration/wasm/hello.wat" -o "$MODS/hello.wasm" || return 1
	fi
}

prun()
{
	local name=$1
	shift
	sbx_run "$name" -P "$T_TMP/policy.toml" --profile t "$@"
}

# ---- exit codes ----------------------------------------------------------------

# Usage errors of sbx run exit 125 (like docker run, podman run, env), never a
# code a workload could have chosen below 124; nothing runs.
case_run_usage_errors_exit_125()
{
	local args
	for args in "--no-such-option -- touch $T_TMP/ran" "--timeout" "--" \
		"--result-fd 1 -- touch $T_TMP/ran" "--result-fd x -- touch $T_TMP/ran" \
		"--result $T_TMP/r.json --result-fd 3 -- touch $T_TMP/ran"; do
		"$SBX" run -P "$T_TMP/policy.toml" $args >/dev/null 2>"$T_TMP/err" 3>/dev/null
		RC=$?
		[ "$RC" = 125 ] || fail "sbx run $args: exit $RC, expected 125 ($(cat "$T_TMP/err"))"
		grep -q "sbx: error: " "$T_TMP/err" || fail "sbx run $args: no error message: $(cat "$T_TMP/err")"
	done
	[ -e "$T_TMP/ran" ] && fail "a usage error ran the command"
	"$SBX" run --help >/dev/null || fail "sbx run --help exits $?"
	return 0
}

# The workload's own 1, 125, 126 and 127 come through, with a result that says
# sbx did not fail; a command that is not found is 127 with exec_failed.
case_workload_codes_pass_through()
{
	local c
	for c in 1 42 125 126 127; do
		prun r$c -- sh -c "exit $c"
		expect_rc r$c "$c"
		eq "result of exit $c" "$(jr r$c .exit_code)" "$c"
		eq "exec_failed of exit $c" "$(jr r$c .exec_failed)" false
	done
	prun nf -- /nonexistent/command
	expect_rc nf 127
	eq "exec_failed of a missing command" "$(jr nf .exec_failed)" true
	prun sig -- sh -c 'kill -TERM $$'
	expect_rc sig 143
	eq "signal" "$(jr sig .signal)" 15
}

# sbx's own failure before the workload: 125 and no result (a result file it
# would have made is not left behind).
case_sbx_failure_has_no_result()
{
	prun f --profile nosuch -- touch "$T_TMP/f.ran"
	expect_rc f 125
	[ -e "$T_TMP/f.result" ] && fail "a result file was left for a run that never started"
	[ -e "$T_TMP/f.ran" ] && fail "the command ran"
	"$SBX" run -P "$T_TMP/policy.toml" --result /nonexistent/dir/r.json -- touch "$T_TMP/f.ran" 2>"$T_TMP/err"
	RC=$?
	eq "exit with an unwritable --result" "$RC" 125
	[ -e "$T_TMP/f.ran" ] && fail "the command ran although its result could not be written"
	grep -q "/nonexistent/dir/r.json" "$T_TMP/err" || fail "the error does not name the file: $(cat "$T_TMP/err")"
}

# ---- the result off stdout -------------------------------------------------------

case_result_dash_keeps_stdout_pure()
{
	local out
	out=$("$SBX" run -P "$T_TMP/policy.toml" --result - -- echo hi 2>"$T_TMP/err" | cat)
	eq "stdout of sbx run --result - -- echo hi | cat" "$out" hi
	jq -e '.exit_code == 0 and .profile == "t"' "$T_TMP/err" >/dev/null ||
		fail "stderr does not hold the result: $(cat "$T_TMP/err")"
}

case_result_fd_is_the_callers_and_not_the_workloads()
{
	local out
	out=$("$SBX" run -P "$T_TMP/policy.toml" --result-fd 3 -- \
		sh -c 'echo hi; if { true >&3; } 2>/dev/null; then echo fd3-open; fi' 3>"$T_TMP/r.json")
	eq "stdout" "$out" hi
	jq -e '.exit_code == 0' "$T_TMP/r.json" >/dev/null || fail "no result on fd 3: $(cat "$T_TMP/r.json")"
	"$SBX" run -P "$T_TMP/policy.toml" --result-fd 3 -- true 3</dev/null 2>"$T_TMP/err"
	eq "exit with a read-only --result-fd" "$?" 125
	grep -q "not open for writing" "$T_TMP/err" || fail "error: $(cat "$T_TMP/err")"
}

# ---- policy check and run agree ---------------------------------------------------

# A strict profile with a wildcard host name: run refuses it (125) and check
# refuses it too, with the same "FILE:LINE:COL: error: MESSAGE" line.
# Host names: the sandbox's resolver enforces them under the host provider
# (docs/network.md), so check and run both accept a wildcard there; a microVM
# guest resolves names itself, so both refuse it under strict with the same
# message.
vm_wildcard()
{
	printf '[profile.t]\nprovider = "microvm"\nenforcement = "%s"\n[profile.t.network]\nmode = "allow"\nallow = ["*.example.org:443"]\n' "$1" >"$T_TMP/w.toml"
}

case_check_and_run_refuse_wildcard_alike()
{
	local line_run line_check
	write_policy "$T_TMP/h.toml" t 'enforcement = "strict"' 'mode = "allow"
allow = ["*.example.org:443"]'
	sbx_run h -P "$T_TMP/h.toml" -- touch "$T_TMP/h.ran"
	expect_rc h 0
	[ -e "$T_TMP/h.ran" ] || fail "the workload did not run under the host provider"
	"$SBX" policy check "$T_TMP/h.toml" >/dev/null 2>&1 || fail "check refuses a wildcard under the host provider"
	vm_wildcard strict
	"$SBX" policy check "$T_TMP/w.toml" 2>"$T_TMP/check.err"
	eq "policy check exit" "$?" 1
	sbx_run w -P "$T_TMP/w.toml" -- touch "$T_TMP/w.ran"
	expect_rc w 125
	[ -e "$T_TMP/w.ran" ] && fail "the workload ran"
	# without a guest here, run stops at the provider, before the table
	grep -q "is not available here" "$T_TMP/w.err" && return 0
	line_run=$(grep -o "'network.allow' cannot be enforced.*" "$T_TMP/w.err")
	line_check=$(grep -o "'network.allow' cannot be enforced.*" "$T_TMP/check.err")
	[ -n "$line_run" ] || fail "run names no network.allow: $(cat "$T_TMP/w.err")"
	eq "check's reason = run's reason" "$line_check" "$line_run"
	vm_wildcard best-effort
	"$SBX" policy check "$T_TMP/w.toml" 2>/dev/null || fail "check refuses a best-effort wildcard"
}

# What the profile's provider cannot enforce (core/enforce.c's table): here
# user under the host provider. The same line from run and from check.
case_check_and_run_refuse_provider_gap_alike()
{
	local line_run line_check
	# (user is enforced by the host provider since issue 20; a network
	# namespace of its own is not)
	write_policy "$T_TMP/u.toml" t '' 'mode = "none"
namespace = "private"'
	sbx_run u -P "$T_TMP/u.toml" -- touch "$T_TMP/u.ran"
	expect_rc u 125
	[ -e "$T_TMP/u.ran" ] && fail "the workload ran"
	"$SBX" policy check "$T_TMP/u.toml" 2>"$T_TMP/check.err"
	eq "policy check exit" "$?" 1
	line_run=$(grep "cannot be enforced by provider 'host'" "$T_TMP/u.err")
	line_check=$(grep "cannot be enforced by provider 'host'" "$T_TMP/check.err")
	[ -n "$line_run" ] || fail "run names no gap: $(cat "$T_TMP/u.err")"
	eq "check's line = run's line" "$line_check" "$line_run"
	[[ $line_run == "$T_TMP/u.toml:2:10: error: profile 't': 'network.namespace' "* ]] || fail "not at the profile: $line_run"
}

# ---- the shipped examples -------------------------------------------------------

# envs FILE: the [env.NAME] names a policy file defines.
envs()
{
	grep -oE '^\[env\.[A-Za-z0-9_-]+' "$1" | sed 's/^\[env\.//' | sort -u
}

# example_cmd JSON-PROFILE: a trivial command the profile allows: a WASI
# module for wasm, else the first executable of its exec list, else true.
example_cmd()
{
	local prof=$1 e
	if [ "$(jq -r .provider <<<"$prof")" = wasm ]; then
		echo "$MODS/hello.wasm"
		return
	fi
	for e in $(jq -r '.filesystem.exec[]' <<<"$prof"); do
		if [ -f "$e" ] && [ -x "$e" ]; then
			echo "$e --version"
			return
		fi
	done
	echo true
}

# unavailable PROVIDER: why the provider cannot run here (empty when it can).
unavailable()
{
	[ "$1" = auto ] && return 0
	"$SBX" providers --json | jq -r --arg p "$1" '.providers[] | select(.name == $p and (.available | not)) | .reason'
}

# One case per example file (and overlay): sbx policy check accepts it.
case_example_passes_check()
{
	"$SBX" policy check $EX_ENVOPT "$EX_FILE" >/dev/null 2>"$T_TMP/err" ||
		fail "sbx policy check $EX_ENVOPT $EX_FILE: $(cat "$T_TMP/err")"
}

# One case per example profile (and overlay): it runs a trivial command, or
# is skipped with the reason its provider is unavailable here.
case_example_runs()
{
	local prof provider why cmd
	prof=$("$SBX" policy show --json $EX_ENVOPT --profile "$EX_PROFILE" "$EX_FILE" | jq -c '.profiles[0]')
	[ -n "$prof" ] || fail "sbx policy show failed"
	provider=$(jq -r .provider <<<"$prof")
	why=$(unavailable "$provider")
	[ -n "$why" ] && skip "provider $provider is unavailable here: $why"
	if [ "$provider" = wasm ] && [ ! -e "$MODS/hello.wasm" ]; then
		skip "wat2wasm (package wabt, make deps) is not installed to build a WASI module"
	fi
	cmd=$(example_cmd "$prof")
	sbx_run ex -P "$EX_FILE" $EX_ENVOPT --profile "$EX_PROFILE" -- $cmd
	[ "$RC" = 0 ] || fail "sbx run -P $EX_FILE $EX_ENVOPT --profile $EX_PROFILE -- $cmd: exit $RC: $(tail -c 400 "$T_TMP/ex.err")"
	[ -s "$T_TMP/ex.result" ] || fail "no result"
}

setup cli_setup
run_case run_usage_errors_exit_125 case_run_usage_errors_exit_125
run_case workload_codes_pass_through case_workload_codes_pass_through
run_case sbx_failure_has_no_result case_sbx_failure_has_no_result
run_case result_dash_keeps_stdout_pure case_result_dash_keeps_stdout_pure
run_case result_fd_is_the_callers_and_not_the_workloads case_result_fd_is_the_callers_and_not_the_workloads
run_case check_and_run_refuse_wildcard_alike case_check_and_run_refuse_wildcard_alike
run_case check_and_run_refuse_provider_gap_alike case_check_and_run_refuse_provider_gap_alike
for EX_FILE in "$EXAMPLES"/*.toml; do
	for EX_ENV in "" $(envs "$EX_FILE"); do
		EX_ENVOPT=${EX_ENV:+--env $EX_ENV}
		ex=$(basename "$EX_FILE" .toml)${EX_ENV:+@$EX_ENV}
		run_case "example_check.$ex" case_example_passes_check
		for EX_PROFILE in $("$SBX" policy show --json $EX_ENVOPT "$EX_FILE" 2>/dev/null |
				    jq -r '.profiles[].name' 2>/dev/null); do
			run_case "example_runs.$ex.$EX_PROFILE" case_example_runs
		done
	done
done
finish
