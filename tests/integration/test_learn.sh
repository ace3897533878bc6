#!/bin/bash
# SPDX-License-Identifier: MIT
# Learning mode (docs/learn.md): `sbx run --observe` refuses nothing the
# profile would refuse and reports it as would_deny; `sbx learn` turns that
# trail into a profile that passes `sbx policy check` and under which the
# same workload runs with no denial. The real workload is `git clone` over
# local HTTP (the dumb protocol, from python3 -m http.server on loopback).
# On this kind of host (no BPF LSM) the fs part is learnt from the syscall
# tracing programs (backend "landlock" in the events); under BPF LSM (the
# VM harness) from the LSM hooks.
. "$(dirname "$0")/lib.sh"

LOG=$T_TMP/obs.audit

learn_setup()
{
	start_listener PORT 127.0.0.1 || return 1
	git_http_server 127.0.0.1
}

# tight PROFILE-FILE: network mode allow with no entry, fs read-only
tight()
{
	cat >"$1" <<EOF
version = 1
[profile.tight]
provider = "host"
min_isolation = "none"
[profile.tight.network]
mode = "allow"
[profile.tight.fs]
mode = "read-only"
EOF
}

case_observe_lets_a_refused_connect_through()
{
	tight "$T_TMP/t.toml"
	sbx_run enf -P "$T_TMP/t.toml" -- "$NETTOOL" connect 127.0.0.1 "$PORT"
	grep -q EPERM "$T_TMP/enf.out" || fail "enforced: expected EPERM, got '$(cat "$T_TMP/enf.out")'"
	eq "enforced verdict" "$(ja enf '[.[] | select(.event == "net.connect")][0].verdict')" deny
	sbx_run obs --observe -P "$T_TMP/t.toml" -- "$NETTOOL" connect 127.0.0.1 "$PORT"
	expect_rc obs 0
	grep -q '^ok' "$T_TMP/obs.out" || fail "observed: the connect failed: '$(cat "$T_TMP/obs.out")'"
	eq "observed verdict" "$(ja obs '[.[] | select(.event == "net.connect")][0].verdict')" would_deny
	eq "observed port" "$(ja obs '[.[] | select(.event == "net.connect")][0].port')" "$PORT"
	eq "start says observe" "$(ja obs '.[] | select(.event == "sandbox.start") | .observe')" true
	eq "result says observe" "$(jr obs .observe)" true
	eq "result would_deny" "$(jr obs .would_deny)" 1
	eq "result denials" "$(jr obs '.denials["net.connect"]')" 0
	grep -q "warning: observe mode" "$T_TMP/obs.err" || fail "no observe warning on stderr"
	grep -q "nothing was enforced; 1 would_deny" "$T_TMP/obs.err" || fail "no observe summary: $(cat "$T_TMP/obs.err")"
}

# mode none would put the workload in a namespace of its own: observed in
# the host's, every connect reported
case_observe_of_mode_none_reports_connects()
{
	tight "$T_TMP/n.toml"
	sed -i 's/mode = "allow"/mode = "none"/' "$T_TMP/n.toml"
	sbx_run obsn --observe -P "$T_TMP/n.toml" -- "$NETTOOL" connect 127.0.0.1 "$PORT"
	grep -q '^ok' "$T_TMP/obsn.out" || fail "observed: the connect failed: '$(cat "$T_TMP/obsn.out")'"
	eq "verdict" "$(ja obsn '[.[] | select(.event == "net.connect")][0].verdict')" would_deny
	eq "mode" "$(ja obsn '[.[] | select(.event == "net.connect")][0].mode')" none
}

# a bind outside listen: refused when enforced, let through and learnt
# as a listen port under observe
case_observe_bind_is_learnt_as_listen()
{
	local port
	port=$("$NETTOOL" bind 0 tcp | sed -n 's/^ok port=//p')
	[ -n "$port" ] || fail "no free port"
	tight "$T_TMP/t.toml"
	sbx_run benf -P "$T_TMP/t.toml" -- "$NETTOOL" bind "$port" tcp
	grep -q '^ok' "$T_TMP/benf.out" && fail "enforced: the bind succeeded"
	sbx_run bobs --observe -P "$T_TMP/t.toml" -- "$NETTOOL" bind "$port" tcp
	grep -q '^ok' "$T_TMP/bobs.out" || fail "observed: the bind failed: '$(cat "$T_TMP/bobs.out")'"
	eq "verdict" "$(ja bobs '[.[] | select(.event == "net.bind")][0].verdict')" would_deny
	"$SBX" learn --audit "$T_TMP/bobs.audit" -o "$T_TMP/b.toml" 2>"$T_TMP/b.err" || fail "learn: $(cat "$T_TMP/b.err")"
	grep -q "^listen = \[" "$T_TMP/b.toml" && grep -q "\"$port/tcp\"" "$T_TMP/b.toml" ||
		fail "no listen port: $(cat "$T_TMP/b.toml")"
	"$SBX" policy check "$T_TMP/b.toml" >/dev/null 2>&1 || fail "does not check: $(cat "$T_TMP/b.toml")"
	sbx_run bl -P "$T_TMP/b.toml" -- "$NETTOOL" bind "$port" tcp
	grep -q '^ok' "$T_TMP/bl.out" || fail "the learnt profile refused the bind: '$(cat "$T_TMP/bl.out")'"
}

case_observe_is_direct_mode_and_process_or_host_only()
{
	tight "$T_TMP/t.toml"
	sbx_run obsg --observe -P "$T_TMP/t.toml" --provider mock -- true
	expect_rc obsg 125
	grep -q "observe" "$T_TMP/obsg.err" || fail "no reason: $(cat "$T_TMP/obsg.err")"
}

case_learnt_git_clone_runs_with_no_denial()
{
	local port dst=$T_TMP/out/dst n backend
	[ -s "$T_TMP/http.port" ] || skip "git or python3 missing"
	port=$(cat "$T_TMP/http.port")
	tight "$T_TMP/t.toml"
	# the tight profile refuses it
	sbx_run clone0 -P "$T_TMP/t.toml" -- git clone -q "http://127.0.0.1:$port/repo.git" "$dst"
	[ "$RC" != 0 ] || fail "the tight profile let git clone run"
	rm -rf "$dst"
	sbx_run clone1 --observe -P "$T_TMP/t.toml" -- git clone -q "http://127.0.0.1:$port/repo.git" "$dst"
	expect_rc clone1 0
	[ -f "$dst/sub/b.txt" ] || fail "observed clone made no work tree"
	n=$(ja clone1 '[.[] | select(.verdict == "deny")] | length')
	eq "denials under observe" "$n" 0
	# the fs accesses learnt from this host's backend
	n=$(ja clone1 '[.[] | select(.event == "file" and .verdict == "would_deny")] | length')
	[ "$n" -gt 0 ] || fail "no file would_deny event"
	# the backend that saw them: the LSM hooks where BPF LSM works (the VM
	# guests), the syscall tracing programs under Landlock
	backend=$(ja clone1 '[.[] | select(.event == "file")][0].backend')
	if [ "${SBX_VM:-}" = 1 ]; then
		eq "fs observed by" "$backend" bpf-lsm
	elif "$SBX" features --json 2>/dev/null | jq -e '.features[]? | select(.name == "bpf_lsm") | .available == false' >/dev/null; then
		eq "fs observed by" "$backend" landlock
	fi
	"$SBX" learn --audit "$T_TMP/clone1.audit" --name clone -o "$T_TMP/learned.toml" 2>"$T_TMP/learn.err" ||
		fail "sbx learn failed: $(cat "$T_TMP/learn.err")"
	"$SBX" policy check "$T_TMP/learned.toml" >"$T_TMP/check.out" 2>&1 ||
		fail "policy check: $(cat "$T_TMP/check.out") -- $(cat "$T_TMP/learned.toml")"
	grep -q "\"127.0.0.1:$port/tcp\"" "$T_TMP/learned.toml" || fail "no destination: $(cat "$T_TMP/learned.toml")"
	grep -q "path = \"$T_TMP/out/\", access = \"rwx\" },.*written" "$T_TMP/learned.toml" ||
		fail "no rule for the clone's directory: $(cat "$T_TMP/learned.toml")"
	rm -rf "$dst"
	sbx_run clone2 -P "$T_TMP/learned.toml" -- git clone -q "http://127.0.0.1:$port/repo.git" "$dst"
	expect_rc clone2 0
	[ -f "$dst/sub/b.txt" ] || fail "the clone under the learnt profile made no work tree"
	[ "$(ja clone2 '[.[] | select(.verdict == "deny")] | length')" = 0 ] ||
		fail "denials under the learnt profile: $(ja clone2 '[.[] | select(.verdict == "deny")]' | tr -d '\n' | head -c 1500) -- learnt: $(tr '\n' ' ' <"$T_TMP/learned.toml" | head -c 1500)"
	eq "would_deny under the learnt profile" "$(ja clone2 '[.[] | select(.verdict == "would_deny")] | length')" 0
}

# A trail written by hand: names from dns.query, generalised directories.
write_trail()
{
	local sb=${2:-sbx-00000001}
	cat >"$1" <<EOF
{"seq":1,"sandbox":"$sb","profile":"p","event":"sandbox.start","pid":1,"provider":"host","observe":true,"degraded":[]}
{"seq":2,"sandbox":"$sb","profile":"p","event":"dns.query","name":"api.test","qtype":"A","answers":["192.0.2.10"],"verdict":"allow"}
{"seq":3,"sandbox":"$sb","profile":"p","event":"net.connect","verdict":"would_deny","family":"ipv4","addr":"192.0.2.10","port":443,"proto":"tcp","rule":"default","mode":"allow"}
{"seq":4,"sandbox":"$sb","profile":"p","event":"net.connect","verdict":"would_deny","family":"ipv4","addr":"127.0.0.1","port":1111,"proto":"tcp","rule":"default","mode":"allow"}
{"seq":5,"sandbox":"$sb","profile":"p","event":"net.connect","verdict":"would_deny","family":"ipv4","addr":"127.0.0.1","port":2222,"proto":"tcp","rule":"default","mode":"allow"}
{"seq":6,"sandbox":"$sb","profile":"p","event":"net.bind","verdict":"would_deny","family":"ipv4","addr":"0.0.0.0","port":8080,"proto":"tcp","rule":"listen"}
{"seq":7,"sandbox":"$sb","profile":"p","event":"file","verdict":"would_deny","op":"open","path":"/srv/lib/py/a/one.py","access":"r","backend":"bpf-lsm","errno":13,"rule":"default","mode":"none"}
{"seq":8,"sandbox":"$sb","profile":"p","event":"file","verdict":"would_deny","op":"open","path":"/srv/lib/py/a/two.py","access":"r","backend":"bpf-lsm","errno":13,"rule":"default","mode":"none"}
{"seq":9,"sandbox":"$sb","profile":"p","event":"file","verdict":"would_deny","op":"open","path":"/srv/lib/py/a/three.py","access":"r","backend":"bpf-lsm","errno":13,"rule":"default","mode":"none"}
{"seq":10,"sandbox":"$sb","profile":"p","event":"file","verdict":"would_deny","op":"open","path":"/srv/data/out.log","access":"w","backend":"bpf-lsm","errno":13,"rule":"default","mode":"none"}
{"seq":11,"sandbox":"$sb","profile":"p","event":"file","verdict":"would_deny","op":"exec","path":"/usr/bin/tool","access":"x","backend":"bpf-lsm","errno":13,"rule":"default","mode":"none"}
{"seq":12,"sandbox":"$sb","profile":"p","event":"syscall.denied","verdict":"would_deny","syscall":"ptrace","nr":101,"errno":0,"args":[0,0,0]}
{"seq":13,"sandbox":"$sb","profile":"p","event":"sandbox.exit","pid":1,"exit_code":0}
EOF
}

case_learn_names_generalises_and_checks()
{
	local out=$T_TMP/l1.toml
	write_trail "$T_TMP/trail.jsonl"
	"$SBX" learn --audit "$T_TMP/trail.jsonl" -o "$out" 2>"$T_TMP/l1.err" || fail "learn: $(cat "$T_TMP/l1.err")"
	"$SBX" policy check "$out" >"$T_TMP/l1.check" 2>&1 || fail "policy check: $(cat "$T_TMP/l1.check") -- $(cat "$out")"
	grep -q '"api.test:443/tcp",.*resolved from 192.0.2.10' "$out" || fail "no name for 192.0.2.10: $(cat "$out")"
	grep -q '192.0.2.10:443' "$out" && fail "the address was written, not its name"
	grep -q '"127.0.0.1:1111/tcp"' "$out" || fail "address without a name missing"
	grep -q '"8080/tcp"' "$out" || fail "listen port missing"
	grep -q 'path = "/srv/lib/py/a/", access = "r" },.*3 files read' "$out" || fail "no generalised directory: $(cat "$out")"
	grep -q 'path = "/srv/data/out.log", access = "w" }' "$out" || fail "write rule: $(cat "$out")"
	grep -q 'path = "/usr/bin/tool", access = "x" }' "$out" || fail "exec rule: $(cat "$out")"
	grep -q '"ptrace",' "$out" || fail "syscall missing"
	grep -q '^mode = "none"' "$out" || fail "observed fs mode not kept: $(cat "$out")"
}

case_learn_base_prints_only_what_it_lacks()
{
	local out=$T_TMP/l2.toml
	write_trail "$T_TMP/trail.jsonl"
	cat >"$T_TMP/base.toml" <<'EOF'
version = 1
[profile.base]
provider = "host"
min_isolation = "none"
[profile.base.network]
mode = "allow"
allow = ["127.0.0.1:1111/tcp", "api.test:443/tcp"]
listen = ["8080"]
[profile.base.fs]
mode = "none"
rules = [{ path = "/srv/lib/", access = "r" }]
[profile.base.seccomp]
allow = ["ptrace"]
EOF
	"$SBX" policy check "$T_TMP/base.toml" >/dev/null 2>&1 || fail "the base does not check"
	"$SBX" learn --audit - --base "$T_TMP/base.toml" --profile base <"$T_TMP/trail.jsonl" >"$out" \
		2>"$T_TMP/l2.err" || fail "learn: $(cat "$T_TMP/l2.err")"
	"$SBX" policy check "$out" >"$T_TMP/l2.check" 2>&1 || fail "overlay does not check: $(cat "$T_TMP/l2.check") -- $(cat "$out")"
	grep -q '"127.0.0.1:2222/tcp"' "$out" || fail "lacking destination missing: $(cat "$out")"
	grep -q '1111\|api.test\|8080\|/srv/lib/\|ptrace' "$out" && fail "printed what the base has: $(cat "$out")"
	grep -q '/srv/data/out.log' "$out" || fail "lacking write missing"
	grep -q 'Only what profile "base" lacks' "$out" || fail "no overlay comment"
	return 0
}

case_learn_bad_input()
{
	local out=$T_TMP/l3.toml
	write_trail "$T_TMP/trail.jsonl"
	# a malformed line: an error naming the line
	{ head -2 "$T_TMP/trail.jsonl"; echo '{"seq": 3, broken'; } >"$T_TMP/bad.jsonl"
	"$SBX" learn --audit "$T_TMP/bad.jsonl" >"$out" 2>"$T_TMP/l3.err" && fail "a malformed line was accepted"
	grep -q "line 3: not a JSON object" "$T_TMP/l3.err" || fail "error: $(cat "$T_TMP/l3.err")"
	echo '[1,2]' | "$SBX" learn --audit - >/dev/null 2>"$T_TMP/l3.err" && fail "a JSON array was accepted"
	# two sandboxes: refused without --sandbox, one learnt with it
	write_trail "$T_TMP/other.jsonl" sbx-00000002
	cat "$T_TMP/trail.jsonl" "$T_TMP/other.jsonl" >"$T_TMP/two.jsonl"
	"$SBX" learn --audit "$T_TMP/two.jsonl" >/dev/null 2>"$T_TMP/l3.err" && fail "two sandboxes accepted"
	grep -q "more than one sandbox.*--sandbox" "$T_TMP/l3.err" || fail "error: $(cat "$T_TMP/l3.err")"
	"$SBX" learn --audit "$T_TMP/two.jsonl" --sandbox 00000002 >"$out" 2>"$T_TMP/l3.err" ||
		fail "--sandbox: $(cat "$T_TMP/l3.err")"
	grep -q "sandbox sbx-00000002" "$out" || fail "wrong sandbox learnt: $(head -3 "$out")"
	grep -q "13 events of other sandboxes skipped" "$out" || fail "skipped events not said: $(head -3 "$out")"
	# an empty log: an empty profile that says so, and checks
	: >"$T_TMP/empty.jsonl"
	"$SBX" learn --audit "$T_TMP/empty.jsonl" -o "$out" 2>"$T_TMP/l3.err" || fail "empty log: $(cat "$T_TMP/l3.err")"
	grep -q "nothing was learnt" "$out" || fail "empty profile says nothing: $(cat "$out")"
	"$SBX" policy check "$out" >/dev/null 2>&1 || fail "the empty profile does not check: $(cat "$out")"
	# usage errors
	"$SBX" learn >/dev/null 2>&1; eq "no --audit" "$?" 2
	"$SBX" learn --audit "$T_TMP/empty.jsonl" --name 'a"b' >/dev/null 2>&1; eq "bad --name" "$?" 2
	"$SBX" learn --audit "$T_TMP/nonexistent" >/dev/null 2>&1; eq "missing log" "$?" 1
}

setup learn_setup
run_case observe_lets_a_refused_connect_through case_observe_lets_a_refused_connect_through
run_case observe_of_mode_none_reports_connects case_observe_of_mode_none_reports_connects
run_case observe_bind_is_learnt_as_listen case_observe_bind_is_learnt_as_listen
run_case observe_is_direct_mode_and_process_or_host_only case_observe_is_direct_mode_and_process_or_host_only
run_case learnt_git_clone_runs_with_no_denial case_learnt_git_clone_runs_with_no_denial
run_case learn_names_generalises_and_checks case_learn_names_generalises_and_checks
run_case learn_base_prints_only_what_it_lacks case_learn_base_prints_only_what_it_lacks
run_case learn_bad_input case_learn_bad_input
finish
