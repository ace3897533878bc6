#!/bin/bash
# SPDX-License-Identifier: MIT
# What docs/cli.md, docs/audit.md and docs/providers.md promise about the
# command line, each case asserting the documented output, not only exit 0:
# `sbx audit` and its options (--json, the text form, --sandbox, --since,
# --file, --follow, its exit codes); `sbx run --audit -`, `--pretty`,
# `--pids`; flags that may only tighten a profile from a file; provider =
# "auto" (strongest available, never wasm or mock; fs.exec and pids pass over
# gVisor); signals sent to `sbx run` reaching the workload (host and process
# providers); $SBX_POLICY; the refusal of pins of another cgroup root or ABI;
# what `sbx unload` removes and leaves.
. "$(dirname "$0")/lib.sh"

ALT_CG=""	# a second cgroup root made by the cgroup-root case

_docs_cleanup()
{
	[ -n "$ALT_CG" ] && rmdir "$ALT_CG" 2>/dev/null
	_cleanup
}
trap _docs_cleanup EXIT

docs_setup()
{
	write_policy "$T_TMP/host.toml" h "" 'mode = "full"'
	cat >"$T_TMP/proc.toml" <<EOF || return 1
version = 1
[profile.p]
provider = "process"
[profile.p.network]
mode = "none"
[profile.p.fs]
mode = "read-only"
EOF
}

LOG() { echo "$SBX_LOG_DIR/audit.jsonl"; }

# ---- sbx audit ---------------------------------------------------------------

# two sandboxes in the instance log: A (exit 3), B (exit 0); sets A and B
two_runs()
{
	export SBX_LOG_DIR=$T_TMP/log.$RANDOM	# this case's log alone
	sbx_run a -P "$T_TMP/host.toml" -- sh -c 'exit 3'
	expect_rc a 3
	sbx_run b -P "$T_TMP/host.toml" -- true
	expect_rc b 0
	A=$(jr a .sandbox)
	B=$(jr b .sandbox)
	[[ "$A" == sbx-???????? && "$B" == sbx-???????? && "$A" != "$B" ]] || fail "sandbox ids '$A' '$B'"
}

case_audit_json_prints_the_log_unchanged()
{
	two_runs
	"$SBX" audit --json >"$T_TMP/j.out" 2>"$T_TMP/j.err"
	eq "sbx audit --json rc" $? 0
	cmp -s "$(LOG)" "$T_TMP/j.out" || fail "--json output differs from $(LOG): $(diff "$(LOG)" "$T_TMP/j.out" | head -5)"
	eq "events of A in the log" "$(grep -c "\"sandbox\":\"$A\"" "$T_TMP/j.out")" 2
	"$SBX" -j audit >"$T_TMP/j2.out" && cmp -s "$T_TMP/j.out" "$T_TMP/j2.out" || fail "-j before the verb differs"
}

case_audit_text_form()
{
	local re
	two_runs
	"$SBX" audit >"$T_TMP/t.out" 2>"$T_TMP/t.err" || fail "sbx audit failed: $(cat "$T_TMP/t.err")"
	eq "text lines" "$(wc -l <"$T_TMP/t.out")" "$(wc -l <"$(LOG)")"
	re='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{18}Z +'
	grep -Eq "${re}$A +sandbox.start +- *\$" "$T_TMP/t.out" || fail "no start line of $A: $(cat "$T_TMP/t.out")"
	grep -Eq "${re}$A +sandbox.exit +- +exit_code=3\$" "$T_TMP/t.out" || fail "no exit line of $A with exit_code=3: $(cat "$T_TMP/t.out")"
	grep -Eq "${re}$B +sandbox.exit +- +exit_code=0\$" "$T_TMP/t.out" || fail "no exit line of $B: $(cat "$T_TMP/t.out")"
}

case_audit_sandbox_and_since_filters()
{
	local out
	two_runs
	for id in "$A" "${A#sbx-}" "${A:0:7}"; do
		"$SBX" audit --json --sandbox "$id" >"$T_TMP/s.out" || fail "--sandbox $id failed"
		eq "--sandbox $id: sandboxes" "$(jq -r .sandbox "$T_TMP/s.out" | sort -u)" "$A"
		eq "--sandbox $id: events" "$(jq -r .event "$T_TMP/s.out" | tr '\n' ' ')" "sandbox.start sandbox.exit "
	done
	# --since SEQ: only seq > SEQ
	out=$("$SBX" audit --json --sandbox "$A" --since 1 | jq -r '"\(.seq) \(.event)"')
	eq "--since 1" "$out" "2 sandbox.exit"
	out=$("$SBX" audit --json --sandbox "$A" --since 0 | jq -r .seq | tr '\n' ' ')
	eq "--since 0" "$out" "1 2 "
	out=$("$SBX" audit --json --sandbox "$A" --since 2)
	eq "--since 2" "$out" ""
	# a prefix matching both selects both
	out=$("$SBX" audit --json --sandbox sbx- | jq -r .sandbox | sort -u | wc -l)
	eq "--sandbox sbx-: sandboxes" "$out" 2
	"$SBX" audit --sandbox "$A" --since 1 >"$T_TMP/st.out"
	eq "text with filters: lines" "$(wc -l <"$T_TMP/st.out")" 1
	grep -q "$A .*sandbox.exit.*exit_code=3" "$T_TMP/st.out" || fail "text line: $(cat "$T_TMP/st.out")"
}

case_audit_file_reads_a_run_audit_file()
{
	sbx_run f -P "$T_TMP/host.toml" -- sh -c 'exit 5'
	expect_rc f 5
	SBX_LOG_DIR=$T_TMP/nolog "$SBX" audit --json --file "$T_TMP/f.audit" >"$T_TMP/ff.out" 2>"$T_TMP/ff.err"
	eq "--file rc (no instance log)" $? 0
	cmp -s "$T_TMP/f.audit" "$T_TMP/ff.out" || fail "--file output differs from the file"
	eq "--file events" "$(jq -r '"\(.sandbox) \(.event)"' "$T_TMP/ff.out" | tr '\n' ' ')" \
		"$(jr f .sandbox) sandbox.start $(jr f .sandbox) sandbox.exit "
	eq "exit_code" "$(jq -r 'select(.event == "sandbox.exit") | .exit_code' "$T_TMP/ff.out")" 5
}

case_audit_exit_codes()
{
	local rc
	# timeout: a wrong sbx could wait for the log as --follow does
	SBX_LOG_DIR=$T_TMP/nolog timeout 30 "$SBX" audit >"$T_TMP/e.out" 2>"$T_TMP/e.err"
	rc=$?
	eq "missing log rc" $rc 1
	grep -q "$T_TMP/nolog/audit.jsonl" "$T_TMP/e.err" || fail "the error does not name the log: $(cat "$T_TMP/e.err")"
	timeout 30 "$SBX" audit --file "$T_TMP/none.jsonl" >/dev/null 2>&1
	eq "missing --file rc" $? 1
	"$SBX" audit --since x >/dev/null 2>"$T_TMP/u.err"
	eq "--since x rc" $? 2
	grep -q "since 'x'" "$T_TMP/u.err" || fail "--since x message: $(cat "$T_TMP/u.err")"
	"$SBX" audit extra >/dev/null 2>&1
	eq "operand rc" $? 2
	"$SBX" audit --bogus >/dev/null 2>&1
	eq "unknown option rc" $? 2
	SBX_INSTANCE=.bad "$SBX" audit >/dev/null 2>&1
	eq "invalid SBX_INSTANCE rc" $? 1
}

# --follow waits for a log that does not exist yet, prints what is appended,
# and holds back a last line without its newline until it is complete.
case_audit_follow()
{
	local d=$T_TMP/flog pid id
	rm -rf "$d"
	SBX_LOG_DIR=$d bg "$SBX" audit --follow --json >"$T_TMP/fo.out" 2>"$T_TMP/fo.err"
	pid=$BG_PID
	# the text form too: a partial line printed early would be a line of its own
	SBX_LOG_DIR=$d bg "$SBX" audit -f >"$T_TMP/ft.out" 2>"$T_TMP/ft.err"
	# both wait for the log (asleep between two tries) before it exists
	for p in $pid $BG_PID; do
		for i in $(seq 600); do
			kill -0 "$p" 2>/dev/null || fail "sbx audit --follow exited without a log: $(cat "$T_TMP/fo.err" "$T_TMP/ft.err")"
			grep -q nanosleep "/proc/$p/wchan" 2>/dev/null && break
			sleep 0.05
		done
	done
	[ -e "$d" ] && fail "$d exists before the run"
	SBX_LOG_DIR=$d sbx_run r -P "$T_TMP/host.toml" -- sh -c 'exit 4'
	expect_rc r 4
	id=$(jr r .sandbox)
	wait_for "$T_TMP/fo.out" "\"sandbox\":\"$id\".*\"sandbox.exit\"" ||
		fail "follow did not print the exit of $id: $(cat "$T_TMP/fo.out" "$T_TMP/fo.err")"
	# line X complete and the start of line Y in one write; Y completed later
	printf '{"seq":1,"sandbox":"sbx-0000000x","event":"x"}\n{"seq":1,"sandbox":"sbx-0000' >>"$d/audit.jsonl"
	wait_for "$T_TMP/fo.out" 'sbx-0000000x' || fail "follow did not print line X"
	printf '000y","event":"y"}\n' >>"$d/audit.jsonl"
	wait_for "$T_TMP/fo.out" '"event":"y"' || fail "follow did not print line Y"
	wait_for "$T_TMP/ft.out" 'sbx-0000000y' || fail "follow (text) did not print line Y: $(cat "$T_TMP/ft.out")"
	eq "text lines" "$(cut -c 32- "$T_TMP/ft.out" | awk '{print $1, $2}' | tr '\n' ';')" \
		"$id sandbox.start;$id sandbox.exit;sbx-0000000x x;sbx-0000000y y;"
	kill -0 "$pid" 2>/dev/null || fail "sbx audit --follow exited"
	cmp -s "$d/audit.jsonl" "$T_TMP/fo.out" ||
		fail "follow output differs from the log: $(diff "$d/audit.jsonl" "$T_TMP/fo.out")"
}

# ---- sbx run --audit -, --pretty, --pids --------------------------------------

case_run_audit_dash_events_on_stderr()
{
	local id
	start_listener P1 127.0.0.1 || fail "no listener"
	write_policy "$T_TMP/net.toml" n "" "mode = \"allow\"
allow = [\"127.0.0.1:1/tcp\"]"
	rm -f "$T_TMP/d.result"
	"$SBX" run -P "$T_TMP/net.toml" --audit - --result "$T_TMP/d.result" -- \
		sh -c "echo workload-out; $NETTOOL connect 127.0.0.1 $P1" >"$T_TMP/d.out" 2>"$T_TMP/d.err"
	RC=$?
	eq "nettool exit through sbx" "$RC" 1
	eq "stdout" "$(cat "$T_TMP/d.out")" "$(printf 'workload-out\nEPERM')"
	id=$(jq -r .sandbox "$T_TMP/d.result")
	jq -c . "$T_TMP/d.err" >/dev/null 2>&1 || fail "stderr is not JSON lines: $(cat "$T_TMP/d.err")"
	eq "events on stderr" "$(jq -r '"\(.sandbox) \(.seq) \(.event) \(.verdict)"' "$T_TMP/d.err" | tr '\n' ';')" \
		"$id 1 sandbox.start null;$id 2 net.connect deny;$id 3 sandbox.exit null;"
	eq "denied port" "$(jq -r 'select(.event == "net.connect") | .port' "$T_TMP/d.err")" "$P1"
	grep -F -x -f "$T_TMP/d.err" "$(LOG)" | wc -l | grep -qx 3 || fail "the instance log lacks the events of --audit -"
}

case_run_pretty_indents_result_and_errors()
{
	sbx_run pr -P "$T_TMP/host.toml" --pretty -- true
	expect_rc pr 0
	[ "$(wc -l <"$T_TMP/pr.result")" -gt 20 ] || fail "result not indented: $(cat "$T_TMP/pr.result")"
	grep -q '^  "sandbox": "sbx-' "$T_TMP/pr.result" || fail "no indented sandbox member: $(head -3 "$T_TMP/pr.result")"
	eq "pretty result exit_code" "$(jr pr .exit_code)" 0
	sbx_run pl -P "$T_TMP/host.toml" -- true
	eq "plain result lines" "$(wc -l <"$T_TMP/pl.result")" 1
	# --pretty implies --json: an early error is indented JSON on stdout
	sbx_run pe --pretty --provider nope -- true
	expect_rc pe 125
	eq "error object" "$(jq -r .error "$T_TMP/pe.out")" "unknown provider 'nope' (see sbx providers)"
	eq "error lines" "$(wc -l <"$T_TMP/pe.out")" 3
	[ -s "$T_TMP/pe.err" ] && fail "stderr not empty: $(cat "$T_TMP/pe.err")"
	return 0
}

# --pids N: at most N tasks in the sandbox; N out of 1..4194304 is 125.
case_run_pids_limits_tasks()
{
	# the process provider's init, sh and two sleeps are 4 tasks: the third
	# fork fails and dash exits 2 ("Cannot fork")
	sbx_run pd -P "$T_TMP/proc.toml" --pids 4 -- sh -c \
		'for i in 1 2 3 4 5 6 7 8; do sleep 100 & echo $i; done; echo end'
	expect_rc pd 2
	eq "--pids 4: sleeps started" "$(cat "$T_TMP/pd.out" | tr '\n' ' ')" "1 2 "
	grep -q "Cannot fork" "$T_TMP/pd.err" || fail "no fork failure: $(cat "$T_TMP/pd.err")"
	sbx_run pu -P "$T_TMP/proc.toml" --pids 64 -- sh -c \
		'for i in 1 2 3 4 5 6 7 8; do sleep 100 & echo $i; done; echo end'
	expect_rc pu 0
	eq "--pids 64: sleeps started" "$(cat "$T_TMP/pu.out" | tr '\n' ' ')" "1 2 3 4 5 6 7 8 end "
	for v in 0 4194305 x; do
		sbx_run pv -P "$T_TMP/proc.toml" --pids "$v" -- true
		expect_rc pv 125
		grep -q -- "--pids '$v': expected a number from 1 to 4194304" "$T_TMP/pv.err" || fail "--pids $v: $(cat "$T_TMP/pv.err")"
	done
}

# ---- flags only tighten a profile from a file --------------------------------

as_nobody()
{
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$SBX" "$@"
}

case_flags_tighten_limits_and_refuse_widening()
{
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
	write_policy "$T_TMP/lim.toml" lim 'timeout = "20s"
memory = "256M"
pids = 100' 'mode = "full"'
	# tightening: accepted, and the run applies it
	sbx_run tt -P "$T_TMP/lim.toml" --timeout 1s -- sleep 60
	expect_rc tt 124
	eq "timed_out" "$(jr tt .timed_out)" true
	as_nobody run -P "$T_TMP/lim.toml" --print-profile --timeout 5s --memory 64M --pids 10 \
		>"$T_TMP/t.toml" 2>"$T_TMP/t.err" || fail "tightening refused: $(cat "$T_TMP/t.err")"
	"$SBX" policy show --json "$T_TMP/t.toml" >"$T_TMP/t.json" || fail "printed profile does not load"
	eq "tightened limits" "$(jq -c '.profiles[0].limits | [.timeout_ms, .memory_bytes, .pids]' "$T_TMP/t.json")" \
		"[5000,67108864,10]"
	# loosening: refused with the documented message, exit 125
	as_nobody run -P "$T_TMP/lim.toml" --timeout 0 -- true >/dev/null 2>"$T_TMP/w.err"
	eq "--timeout 0 rc" $? 125
	eq "--timeout 0 message" "$(cat "$T_TMP/w.err")" \
		"sbx: error: --timeout 0 would widen profile 'lim' (its limit is 20000 ms; 0 is no limit); command-line flags may only tighten a profile from a policy file unless sbx runs as root"
	for f in "--timeout 1m" "--memory 1G" "--pids 101" "--pids 0"; do
		as_nobody run -P "$T_TMP/lim.toml" $f -- true >/dev/null 2>"$T_TMP/w.err"
		eq "$f rc" $? 125
		grep -q -- "^sbx: error: ${f% *} .*would widen profile 'lim'\|^sbx: error: --pids '0'" "$T_TMP/w.err" ||
			fail "$f message: $(cat "$T_TMP/w.err")"
	done
	# root may widen, with a warning, and the wider limit applies
	sbx_run rw -P "$T_TMP/lim.toml" --pids 200 --print-profile
	expect_rc rw 0
	grep -q "warning: --pids 200 widens profile 'lim'" "$T_TMP/rw.err" || fail "no warning: $(cat "$T_TMP/rw.err")"
}

# ---- provider = "auto" ---------------------------------------------------------

case_auto_provider_choice()
{
	local p
	command -v runsc >/dev/null || skip "runsc not installed (apt-get install runsc): auto cannot be shown choosing gVisor"
	"$SBX" providers --json | jq -e '.providers[] | select(.name == "gvisor") | .available' >/dev/null ||
		fail "runsc is installed but sbx providers says gvisor is unavailable"
	apol() { printf 'version = 1\n[profile.a]\nprovider = "auto"\n%s\n' "$1" >"$T_TMP/a.toml"; }
	apol 'min_isolation = "none"'
	SBX_MICROVM_DIR=/nonexistent sbx_run an -P "$T_TMP/a.toml" -- true
	expect_rc an 0
	eq "min none: strongest available" "$(jr an '"\(.provider) \(.isolation)"')" "gvisor gvisor"
	apol ''
	SBX_MICROVM_DIR=/nonexistent sbx_run ad -P "$T_TMP/a.toml" -- true
	expect_rc ad 0
	eq "default min process" "$(jr ad .provider)" gvisor
	# an fs.exec list and pids below 128 pass over gVisor
	apol "[profile.a.fs]
mode = \"read-only\"
exec = [\"/usr/bin/\", \"/usr/lib/\", \"/lib/\", \"/lib64/\"]"
	SBX_MICROVM_DIR=/nonexistent sbx_run ae -P "$T_TMP/a.toml" -- /usr/bin/true
	expect_rc ae 0
	eq "exec list" "$(jr ae .provider)" process
	apol 'pids = 64'
	SBX_MICROVM_DIR=/nonexistent sbx_run ap -P "$T_TMP/a.toml" -- true
	expect_rc ap 0
	eq "pids 64" "$(jr ap .provider)" process
	# wasm is available here, yet auto never picks it
	"$SBX" providers --json | jq -e '.providers[] | select(.name == "wasm") | .available' >/dev/null &&
		p=yes || p=no
	apol 'min_isolation = "wasm"'
	SBX_MICROVM_DIR=/nonexistent sbx_run aw -P "$T_TMP/a.toml" -- true
	expect_rc aw 125
	grep -q "no available provider gives isolation 'wasm' or stronger for profile 'a'" "$T_TMP/aw.err" ||
		fail "min wasm (wasm available: $p): $(cat "$T_TMP/aw.err")"
	# mock never: it runs nothing, so an auto run that ran the command did
	# not pick it (host, of mock's level and always available, is preferred
	# here anyway, so this shows less than the wasm case above)
	apol 'min_isolation = "none"'
	SBX_MICROVM_DIR=/nonexistent sbx_run ar -P "$T_TMP/a.toml" -- sh -c 'echo ran'
	expect_rc ar 0
	eq "the command ran" "$(cat "$T_TMP/ar.out")" ran
}

# ---- signals -------------------------------------------------------------------

# sig_case POLICY PROVIDER: each signal sent to sbx run reaches the workload,
# whose trap prints it and exits 40+N.
sig_cases()
{
	local pol=$1 prov=$2 sig n pid rc
	n=0
	for sig in TERM INT HUP QUIT USR1 USR2; do
		n=$((n + 1))
		rm -f "$T_TMP/sg.out" "$T_TMP/sg.err"
		bg "$SBX" run -P "$pol" -- sh -c \
			"trap 'echo got $sig; exit 4$n' $sig; echo ready; sleep 1000 & wait" \
			>"$T_TMP/sg.out" 2>"$T_TMP/sg.err"
		pid=$BG_PID
		wait_for "$T_TMP/sg.out" '^ready$' || fail "$prov: the workload did not start: $(cat "$T_TMP/sg.err")"
		kill -"$sig" "$pid"
		wait "$pid"
		rc=$?
		eq "$prov: output after SIG$sig" "$(cat "$T_TMP/sg.out")" "$(printf 'ready\ngot %s' "$sig")"
		eq "$prov: sbx exit code after SIG$sig" "$rc" "4$n"
	done
}

case_signals_reach_host_workload() { sig_cases "$T_TMP/host.toml" host; }
case_signals_reach_process_workload() { sig_cases "$T_TMP/proc.toml" process; }

# ---- SBX_POLICY ---------------------------------------------------------------

case_sbx_policy_env()
{
	write_policy "$T_TMP/env.toml" fromenv "env = { MARK = \"from-env\" }" 'mode = "full"'
	SBX_POLICY=$T_TMP/env.toml sbx_run e -- sh -c 'echo $MARK'
	expect_rc e 0
	eq "profile" "$(jr e .profile)" fromenv
	eq "workload env" "$(cat "$T_TMP/e.out")" from-env
	out=$(SBX_POLICY=$T_TMP/env.toml "$SBX" policy show --json | jq -r '.profiles[].name' | tr '\n' ' ')
	# the file's profiles in name order, then the built-in default
	eq "policy show profiles" "$out" "fromenv default "
	SBX_POLICY=$T_TMP/nowhere.toml sbx_run n -- true
	expect_rc n 125
	grep -q "^$T_TMP/nowhere.toml: error: cannot open: No such file or directory" "$T_TMP/n.err" ||
		fail "no error naming \$SBX_POLICY: $(cat "$T_TMP/n.err")"
	[ -e "$T_TMP/n.result" ] && fail "a result was written"
	SBX_POLICY=$T_TMP/nowhere.toml "$SBX" policy show >/dev/null 2>"$T_TMP/ns.err"
	eq "policy show rc" $? 1
	grep -q "^$T_TMP/nowhere.toml: error: cannot open" "$T_TMP/ns.err" || fail "policy show: $(cat "$T_TMP/ns.err")"
}

# ---- pins of another setup ------------------------------------------------------

case_other_cgroup_root_refused()
{
	local pins
	sbx_run l -P "$T_TMP/host.toml" -- true
	expect_rc l 0
	ALT_CG="$(cgroup_root)-alt"
	mkdir -p "$ALT_CG" || fail "cannot make $ALT_CG"
	SBX_CGROUP_ROOT=$ALT_CG sbx_run o -P "$T_TMP/host.toml" -- touch "$T_TMP/ran"
	expect_rc o 125
	[ -e "$T_TMP/ran" ] && fail "the workload ran"
	grep -q "pins in $PIN_DIR belong to another setup (ABI [0-9]*, cgroup root id [0-9]*; expected ABI [0-9]*, root $ALT_CG id [0-9]*); run 'sbx unload' first" "$T_TMP/o.err" ||
		fail "message: $(cat "$T_TMP/o.err")"
	# the original root still works
	sbx_run s -P "$T_TMP/host.toml" -- true
	expect_rc s 0
	rmdir "$ALT_CG"
}

# Pins whose cgroup root was removed (on a systemd host, systemd removes
# the transient scope of direct mode, root and all, after the last run):
# attached to nothing any more, they are replaced by the next run while no
# sandbox of theirs runs, instead of being refused as another setup's.
case_removed_cgroup_root_replaced()
{
	local root
	sbx_run l -P "$T_TMP/host.toml" -- true
	expect_rc l 0
	root=$(cgroup_root)
	rmdir "$root" || fail "cannot remove the emptied root $root"
	sbx_run n -P "$T_TMP/host.toml" -- touch "$T_TMP/ran-removed"
	expect_rc n 0
	[ -e "$T_TMP/ran-removed" ] || fail "the workload did not run"
	[ -d "$root" ] || fail "the root $root was not made anew"
	# the new setup is this root's: a third run adopts it
	sbx_run a -P "$T_TMP/host.toml" -- true
	expect_rc a 0
}

# set_abi N: rewrite abi_version in the instance's sbx_config
set_abi()
{
	local bytes
	bytes=$(bpftool -j map lookup pinned "$PIN_DIR/sbx_config" key 0 0 0 0 | jq -r '.value[1:] | map(ltrimstr("0x")) | join(" ")')
	bpftool map update pinned "$PIN_DIR/sbx_config" key 0 0 0 0 value hex \
		"$(printf %02x "$1")" $bytes || fail "cannot rewrite sbx_config"
}

pinned_abi()
{
	bpftool -j map lookup pinned "$PIN_DIR/sbx_config" key 0 0 0 0 | jq -r .formatted.value.abi_version
}

# Pins of another ABI: refused while a sandbox of theirs runs (it would lose
# its confinement); replaced by the next run once none does.
case_other_abi_refused()
{
	local abi pid
	command -v bpftool >/dev/null || skip "bpftool not installed"
	sbx_run l -P "$T_TMP/host.toml" -- true
	expect_rc l 0
	abi=$(pinned_abi)
	[ -n "$abi" ] && [ "$abi" != null ] || fail "cannot read sbx_config"
	bg "$SBX" run -P "$T_TMP/host.toml" -- sh -c 'echo ready; sleep 1000 & wait' >"$T_TMP/live.out" 2>&1
	pid=$BG_PID
	wait_for "$T_TMP/live.out" '^ready$' || fail "the live sandbox did not start: $(cat "$T_TMP/live.out")"
	set_abi $((abi - 1))
	sbx_run o -P "$T_TMP/host.toml" -- touch "$T_TMP/ran"
	expect_rc o 125
	[ -e "$T_TMP/ran" ] && fail "the workload ran"
	grep -q "pins in $PIN_DIR belong to another setup (ABI $((abi - 1)), cgroup root id [0-9]*; expected ABI $abi, root .*); run 'sbx unload' first" "$T_TMP/o.err" ||
		fail "message: $(cat "$T_TMP/o.err")"
	kill -TERM "$pid"
	wait "$pid"
	# nothing runs now: the next run replaces the old pins
	sbx_run n -P "$T_TMP/host.toml" -- touch "$T_TMP/ran"
	expect_rc n 0
	[ -e "$T_TMP/ran" ] || fail "the workload did not run"
	eq "pinned ABI after the run" "$(pinned_abi)" "$abi"
	# and sbx unload removes pins of another ABI
	set_abi $((abi - 1))
	"$SBX" unload >"$T_TMP/u.out" 2>&1 || fail "unload refused the other ABI's pins: $(cat "$T_TMP/u.out")"
	[ -e "$PIN_DIR" ] && fail "$PIN_DIR is still there"
	return 0
}

# ---- sbx unload ------------------------------------------------------------------

# Removes the pins, the empty cgroup root and /run/INSTANCE (lock, slots/,
# root/); leaves the audit log and any other file of /run/INSTANCE.
case_unload_removes_and_leaves()
{
	local n
	# start from nothing: earlier cases (gVisor) leave their own files in the run dir
	"$SBX" unload >/dev/null 2>&1
	rm -rf "$RUN_DIR"
	sbx_run l -P "$T_TMP/host.toml" -- true
	expect_rc l 0
	n=$(ls "$PIN_DIR" | wc -l)
	[ -d "$RUN_DIR" ] && [ -d "$(cgroup_root)" ] || fail "nothing loaded"
	"$SBX" unload >"$T_TMP/u.out" 2>&1 || fail "unload: $(cat "$T_TMP/u.out")"
	eq "unload output" "$(cat "$T_TMP/u.out")" "removed $n pins from $PIN_DIR"
	[ -e "$PIN_DIR" ] && fail "pins left"
	[ -e "$(cgroup_root)" ] && fail "cgroup root left"
	[ -e "$RUN_DIR" ] && fail "$RUN_DIR left: $(ls -A "$RUN_DIR")"
	eq "audit log kept" "$(grep -c "\"sandbox\":\"$(jr l .sandbox)\"" "$(LOG)")" 2
	# a file of its own in /run/INSTANCE (the runsc probe cache) keeps it
	sbx_run l2 -P "$T_TMP/host.toml" -- true
	expect_rc l2 0
	echo x >"$RUN_DIR/probe-test"
	"$SBX" unload --json >"$T_TMP/u.json" || fail "unload --json failed"
	eq "pins_removed" "$(jq -r .pins_removed "$T_TMP/u.json")" "$n"
	eq "run dir keeps other files" "$(ls -A "$RUN_DIR" | tr '\n' ' ')" "probe-test "
	rm -f "$RUN_DIR/probe-test"
	eq "unload with nothing loaded" "$("$SBX" unload --json)" "{\"pins_removed\":0,\"pin_dir\":\"$PIN_DIR\"}"
}

setup docs_setup
run_case audit_json_prints_the_log_unchanged case_audit_json_prints_the_log_unchanged
run_case audit_text_form case_audit_text_form
run_case audit_sandbox_and_since_filters case_audit_sandbox_and_since_filters
run_case audit_file_reads_a_run_audit_file case_audit_file_reads_a_run_audit_file
run_case audit_exit_codes case_audit_exit_codes
run_case audit_follow case_audit_follow
run_case run_audit_dash_events_on_stderr case_run_audit_dash_events_on_stderr
run_case run_pretty_indents_result_and_errors case_run_pretty_indents_result_and_errors
run_case run_pids_limits_tasks case_run_pids_limits_tasks
run_case flags_tighten_limits_and_refuse_widening case_flags_tighten_limits_and_refuse_widening
run_case auto_provider_choice case_auto_provider_choice
run_case signals_reach_host_workload case_signals_reach_host_workload
run_case signals_reach_process_workload case_signals_reach_process_workload
run_case sbx_policy_env case_sbx_policy_env
run_case other_cgroup_root_refused case_other_cgroup_root_refused
run_case removed_cgroup_root_replaced case_removed_cgroup_root_replaced
run_case other_abi_refused case_other_abi_refused
run_case unload_removes_and_leaves case_unload_removes_and_leaves
finish
