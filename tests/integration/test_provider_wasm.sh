#!/bin/bash
# SPDX-License-Identifier: MIT
# The wasm provider (providers/wasm.c): a WASI preview1 module run by the
# first runtime found (wasmtime, wasmer, iwasm, wasmedge, node:wasi) inside
# the process provider's sandbox. The modules are tests/integration/wasm/*.wat,
# assembled here with wat2wasm (package wabt). Checked: output and exit 0,
# proc_exit codes pass through, a missing module is 127 and a non-module 126,
# the profile's fs rules are the module's preopened directories (readable;
# read-only unless the rule says w; nothing outside them: ENOTCAPABLE), the
# module's environment is exactly the profile's env, the runtime runs in the
# sandbox's cgroup, pid namespace and identity, the timeout ends it (124), a
# forced runtime that is not installed is refused (125).
#
# SBX_TEST_WASM_RUNTIME=NAME forces wasm.runtime (default: auto).
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")" && pwd)/wasm
MOD=$T_TMP/mod
RUNTIME=${SBX_TEST_WASM_RUNTIME:-auto}
# host files for the preopen cases live outside /tmp, which the view replaces
V_TMP=""

_wasm_cleanup()
{
	[ -n "$V_TMP" ] && rm -rf "$V_TMP"
	_cleanup
}
trap _wasm_cleanup EXIT

# Why this file cannot run here (empty when it can).
wasm_skip_reason()
{
	local json
	command -v wat2wasm >/dev/null || { echo "wat2wasm is not installed (apt-get install wabt)"; return; }
	[ -x "$SBX" ] || return 0	# run-integration.sh says so
	json=$("$SBX" providers --json 2>/dev/null) || { echo "sbx providers failed"; return; }
	if [ "$(jq -r '.providers[] | select(.name == "wasm") | .available' <<<"$json")" != true ]; then
		echo "provider wasm not available: $(jq -r '.providers[] | select(.name == "wasm") | .reason // "not built in"' <<<"$json")"
	fi
}
if [ -z "$SBX_TEST_SKIP" ]; then
	SBX_TEST_SKIP=$(wasm_skip_reason)
fi

# Which runtime auto picks: the first installed native one, else node.
native_runtime()
{
	local r
	for r in wasmtime wasmer iwasm wasmedge; do
		command -v $r >/dev/null && { echo $r; return; }
	done
}

# The runtime profile t uses: the forced one, else the first native one
# installed, else node.
effective_runtime()
{
	local rt=$RUNTIME
	[ "$rt" = auto ] && rt=$(native_runtime)
	echo "${rt:-node}"
}

wasm_setup()
{
	local f
	mkdir -p "$MOD" || return 1
	for f in "$SRC"/*.wat; do
		wat2wasm "$f" -o "$MOD/$(basename "$f" .wat).wasm" || return 1
	done
	printf 'this is not WebAssembly\n' >"$MOD/text.wasm"
	V_TMP=$(mktemp -d "${SBX_TEST_VARTMP:-/var/tmp}/sbxtest.wasm.XXXXXX") || return 1
	mkdir -p "$V_TMP/pre" "$V_TMP/rw" && chmod 0755 "$V_TMP" "$V_TMP/pre" && chmod 0777 "$V_TMP/rw"
	echo "inside-data-$$" >"$V_TMP/pre/in.txt"
	echo "outside-secret-$$" >"$V_TMP/outside.txt"
	chmod 0644 "$V_TMP/pre/in.txt" "$V_TMP/outside.txt"
}
setup wasm_setup

# wpol [PROFILE-KEYS] [FS-LINES]: $T_TMP/policy.toml with profile t on the
# wasm provider, network mode none, fs mode none without rules by default.
wpol()
{
	local rt=""
	[ "$RUNTIME" != auto ] && rt="wasm.runtime = \"$RUNTIME\""
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.t]
provider = "wasm"
min_isolation = "wasm"
$rt
${1:-}
[profile.t.network]
mode = "none"
[profile.t.fs]
${2:-mode = \"none\"}
EOF
}

# wrun NAME MODULE [ARGS...]: runs $MOD/MODULE (by its host path) in profile t.
wrun()
{
	local name=$1 mod=$2
	shift 2
	sbx_run "$name" -P "$T_TMP/policy.toml" --profile t -- "$MOD/$mod" "$@"
}

out()
{
	cat "$T_TMP/$1.out"
}

# ---- cases -------------------------------------------------------------------

case_hello_prints_and_exits_0()
{
	wpol
	wrun r hello.wasm
	expect_rc r 0
	eq "stdout" "$(out r)" "hello"
	eq "result provider" "$(jr r .provider)" wasm
	eq "result isolation" "$(jr r .isolation)" wasm
	eq "result exit_code" "$(jr r .exit_code)" 0
	return 0
}

# The runtime calls nothing the strictest preset refuses (action kill would
# end it with SIGSYS, 159).
case_strict_seccomp_kill_runs()
{
	wpol
	printf '[profile.t.seccomp]\npreset = "strict"\naction = "kill"\n' >>"$T_TMP/policy.toml"
	wrun r hello.wasm
	expect_rc r 0
	eq "stdout" "$(out r)" "hello"
	return 0
}

# node hangs when it cannot start a thread: sbx shrinks its V8 pool to the
# pids limit, and refuses a limit below 5.
case_low_pids_limit()
{
	[ "$(effective_runtime)" = node ] || skip "runtime $(effective_runtime): only node's thread needs are known"
	wpol 'pids = 5
timeout = "20s"'
	wrun r hello.wasm
	unenforceable r pids
	expect_rc r 0
	eq "stdout" "$(out r)" "hello"
	wpol 'pids = 4'
	wrun s hello.wasm
	expect_rc s 125
	grep -q 'too low for node' "$T_TMP/s.err" || fail "no reason: $(cat "$T_TMP/s.err")"
	return 0
}

case_exit_code_passes_through()
{
	wpol
	wrun r exit3.wasm
	expect_rc r 3
	eq "result exit_code" "$(jr r .exit_code)" 3
	eq "sandbox.exit exit_code" "$(ja r 'map(select(.event == "sandbox.exit"))[0].exit_code')" 3
	return 0
}

case_missing_module_127_not_a_module_126()
{
	wpol
	wrun r nothere.wasm
	expect_rc r 127
	grep -q 'No such file' "$T_TMP/r.err" || fail "no 'No such file' message: $(cat "$T_TMP/r.err")"
	wrun s text.wasm
	expect_rc s 126
	grep -q 'format' "$T_TMP/s.err" || fail "no 'Exec format error' message: $(cat "$T_TMP/s.err")"
	return 0
}

case_arguments_reach_the_module()
{
	# fileio checks argc == 3; with a preopen it prints the file named by argv[2]
	wpol "" "mode = \"none\"
rules = [{ path = \"$V_TMP/pre/\", access = \"r\" }]"
	wrun r fileio.wasm read in.txt
	expect_rc r 0
	wrun s fileio.wasm read in.txt extra-argument
	expect_rc s 2
	return 0
}

case_preopened_dir_readable()
{
	wpol "" "mode = \"none\"
rules = [{ path = \"$V_TMP/pre/\", access = \"r\" }]"
	wrun r fileio.wasm read in.txt
	expect_rc r 0
	eq "file read through the preopen" "$(out r)" "inside-data-$$"
	return 0
}

case_outside_path_refused()
{
	wpol "" "mode = \"none\"
rules = [{ path = \"$V_TMP/pre/\", access = \"r\" }]"
	# 176 = 100 + ENOTCAPABLE (76)
	wrun r fileio.wasm read ../outside.txt
	expect_rc r 176
	wrun s fileio.wasm read "$V_TMP/outside.txt"
	expect_rc s 176
	grep -q outside-secret "$T_TMP/r.out" "$T_TMP/s.out" && fail "the module read a file outside its preopen"
	# no rule, no preopen: file descriptor 3 does not exist (108 = 100 + EBADF)
	wpol
	wrun t fileio.wasm read in.txt
	expect_rc t 108
	return 0
}

case_preopen_write_follows_rule()
{
	wpol "" "mode = \"none\"
rules = [{ path = \"$V_TMP/rw/\", access = \"r\" }]"
	wrun r fileio.wasm write new.txt
	[ "$RC" -gt 100 ] || fail "write into a read-only preopen: sbx exited $RC, expected 100 + a WASI errno"
	[ -e "$V_TMP/rw/new.txt" ] && fail "the module created a file through a read-only rule"
	wpol "" "mode = \"none\"
rules = [{ path = \"$V_TMP/rw/\", access = \"rw\" }]"
	wrun s fileio.wasm write new.txt
	expect_rc s 0
	eq "file written through an rw preopen" "$(cat "$V_TMP/rw/new.txt" 2>/dev/null)" written
	return 0
}

case_env_only_from_profile()
{
	wpol 'env = { WASM_GREETING = "hi there", OTHER = "a=b" }'
	WASM_HOST_ONLY=leak wrun r env.wasm
	expect_rc r 0
	eq "module environment" "$(out r | sort | tr '\n' ' ')" "OTHER=a=b WASM_GREETING=hi there "
	wpol
	WASM_GREETING=leak wrun s env.wasm
	expect_rc s 0
	eq "module environment without profile env (no PATH, HOME, ... of the runtime)" "$(out s)" ""
	return 0
}

case_runtime_in_sandbox_cgroup()
{
	local i json id cg init rt_pid procs uid
	wpol 'timeout = "8s"'
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- "$MOD/loop.wasm"
	for i in $(seq 100); do
		json=$("$SBX" ps --json 2>/dev/null)
		init=$(jq -r '.sandboxes[0].pid // empty' <<<"$json")
		[ -n "$init" ] && rt_pid=$(pgrep -P "$init" | head -1)
		[ -n "$rt_pid" ] && break
		sleep 0.05
	done
	[ -n "$rt_pid" ] || fail "no runtime process under the sandbox's init (ps: $json)"
	id=$(jq -r '.sandboxes[0].id' <<<"$json")
	cg=$(jq -r '.sandboxes[0].cgroup' <<<"$json")
	eq "ps provider" "$(jq -r '.sandboxes[0].provider' <<<"$json")" wasm
	procs=$(cat "$cg/cgroup.procs" 2>/dev/null)
	grep -qx "$rt_pid" <<<"$procs" || fail "runtime pid $rt_pid ($(cat /proc/$rt_pid/comm)) not in $cg/cgroup.procs ($(echo $procs))"
	[ "$(readlink /proc/$rt_pid/ns/pid)" = "$(readlink /proc/self/ns/pid)" ] &&
		fail "runtime runs in the host's pid namespace"
	[ "$(readlink /proc/$rt_pid/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ] &&
		fail "runtime runs in the host's mount namespace"
	uid=$(awk '/^Uid:/ { print $2 }' /proc/$rt_pid/status)
	# the sandbox's own uid (core/uidpool.h), not the host's nobody
	[ "$uid" -ge 2080374784 ] 2>/dev/null && [ "$uid" -le 2080440319 ] ||
		fail "runtime uid $uid is not from the sandbox uid range"
	grep -q '^CapEff:[[:space:]]*0*$' /proc/$rt_pid/status || fail "runtime has capabilities: $(grep ^Cap /proc/$rt_pid/status | tr '\n' ' ')"
	grep -q '^Seccomp:[[:space:]]*2' /proc/$rt_pid/status || fail "runtime has no seccomp filter"
	"$SBX" kill "$id" >/dev/null 2>&1 || fail "sbx kill $id failed"
	wait "$BG_PID"
	return 0
}

case_timeout_124()
{
	wpol 'timeout = "1s"'
	# loop.wasm never ends: only sbx's timeout does, or the runner's limit
	wrun r loop.wasm
	expect_rc r 124
	eq "result timed_out" "$(jr r .timed_out)" true
	[ -n "$(jr r .signal | grep -Ex '9|15')" ] || fail "result signal '$(jr r .signal)': the runtime was not killed by sbx"
	return 0
}

case_trap_exits_134()
{
	local rt
	rt=$(effective_runtime)
	[ "$rt" = node ] || [ "$rt" = wasmtime ] || skip "the exit status of a trap is runtime-specific ($rt)"
	wpol
	wrun r trap.wasm
	expect_rc r 134
	return 0
}

case_forced_runtime_missing_refused()
{
	local r missing=""
	for r in wasmtime wasmer iwasm wasmedge; do
		command -v $r >/dev/null || { missing=$r; break; }
	done
	[ -n "$missing" ] || skip "every native runtime is installed"
	RUNTIME=$missing wpol
	wrun r hello.wasm
	expect_rc r 125
	grep -q "wasm.runtime = \"$missing\"" "$T_TMP/r.err" || fail "no reason naming wasm.runtime: $(cat "$T_TMP/r.err")"
	return 0
}

run_case hello_prints_and_exits_0 case_hello_prints_and_exits_0
run_case strict_seccomp_kill_runs case_strict_seccomp_kill_runs
run_case low_pids_limit case_low_pids_limit
run_case exit_code_passes_through case_exit_code_passes_through
run_case missing_module_127_not_a_module_126 case_missing_module_127_not_a_module_126
run_case arguments_reach_the_module case_arguments_reach_the_module
run_case preopened_dir_readable case_preopened_dir_readable
run_case outside_path_refused case_outside_path_refused
run_case preopen_write_follows_rule case_preopen_write_follows_rule
run_case env_only_from_profile case_env_only_from_profile
run_case runtime_in_sandbox_cgroup case_runtime_in_sandbox_cgroup
run_case timeout_124 case_timeout_124
run_case trap_exits_134 case_trap_exits_134
run_case forced_runtime_missing_refused case_forced_runtime_missing_refused
finish
