#!/bin/bash
# SPDX-License-Identifier: MIT
# The sbx CLI as a client of sbxd (docs/cli.md "sbxd verbs", sbx-start(1)
# and the other verb pages, docs/libsbx.md): start/ls/status/logs/stop/
# restart/rm round trip with the human and the --json output, sbx run
# through the daemon (stdio passed as descriptors, the workload's exit code,
# signals forwarded), sbx kill by name and by direct-mode id, the errors
# mapped to sentences and exit codes, the message when sbxd is not running,
# and a program of its own built against libsbx.so with pkg-config.
# One private sbxd serves the file (tests/integration/sbxd_lib.sh): its own
# socket, state, policy and audit directories under the test's tmp, the
# file's SBX_INSTANCE.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sbxd_lib.sh"

daemon_setup()
{
	# the built-in "default" (process provider) and a host profile
	cat >"$DPOL/host.toml" <<EOF
version = 1
[profile.hostp]
provider = "host"
min_isolation = "none"
user = "root"
[profile.hostp.fs]
mode = "full"
EOF
	sbxd_start
}

# ---- not running ---------------------------------------------------------------

case_verbs_say_sbxd_is_not_running()
{
	local v none=$T_TMP/none.sock msg
	msg="sbx: error: sbxd is not running (no socket at $none); start it with 'systemctl start sbxd' or 'sbxd &'"
	for v in "start --name x -- true" "stop x" "restart x" "rm x" "status x" "ls" "logs x" \
		"update x --memory 64M" "reload"; do
		SBX_SOCKET=$none "$SBX" $v >"$T_TMP/n.out" 2>"$T_TMP/n.err"
		eq "sbx $v: rc" $? 1
		eq "sbx $v: message" "$(cat "$T_TMP/n.err")" "$msg"
	done
	# --socket wins over $SBX_SOCKET
	SBX_SOCKET=$SOCK "$SBX" ls --socket "$none" >/dev/null 2>"$T_TMP/n.err"
	eq "--socket: rc" $? 1
	eq "--socket: message" "$(cat "$T_TMP/n.err")" "$msg"
	# JSON mode: the error is the JSON document on stdout
	SBX_SOCKET=$none "$SBX" ls --json >"$T_TMP/n.out" 2>/dev/null
	eq "ls --json rc" $? 1
	eq "ls --json error" "$(jq -r .error "$T_TMP/n.out")" "${msg#sbx: error: }"
	# a socket nobody listens on is "not running" too
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T_TMP/dead.sock"
	SBX_SOCKET=$T_TMP/dead.sock "$SBX" ls >/dev/null 2>"$T_TMP/n.err"
	eq "dead socket rc" $? 1
	grep -q "sbxd is not running (nothing listens on $T_TMP/dead.sock)" "$T_TMP/n.err" ||
		fail "dead socket: $(cat "$T_TMP/n.err")"
}

case_run_without_daemon()
{
	local none=$T_TMP/none.sock
	# root: direct mode as before
	SBX_SOCKET=$none "$SBX" run -- sh -c 'echo direct; exit 6' >"$T_TMP/d.out" 2>"$T_TMP/d.err"
	eq "root direct rc" $? 6
	eq "root direct stdout" "$(cat "$T_TMP/d.out")" direct
	# anyone else: a clear error, nothing runs
	id nobody >/dev/null 2>&1 || skip "no user nobody"
	SBX_SOCKET=$none runuser -u nobody -- "$SBX" run -- touch "$T_TMP/ran" >"$T_TMP/u.out" 2>"$T_TMP/u.err"
	eq "non-root rc" $? 125
	grep -q "sbxd is not running (no socket at $none)" "$T_TMP/u.err" || fail "non-root: $(cat "$T_TMP/u.err")"
	grep -q "without sbxd, sbx run needs root" "$T_TMP/u.err" || fail "non-root: $(cat "$T_TMP/u.err")"
	[ -e "$T_TMP/ran" ] && fail "the workload ran"
	return 0
}

# ---- the lifecycle verbs ------------------------------------------------------------

case_start_ls_status_logs_stop_restart_rm()
{
	local pid
	sx start --name web -- sh -c 'echo started; i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done'
	eq "start rc" "$RC" 0
	eq "start prints the name" "$(out)" web
	wait_state web running || fail "web is not running: $(SBX_SOCKET=$SOCK "$SBX" status web 2>&1)"
	# ls: the table and --json
	sx ls
	eq "ls rc" "$RC" 0
	eq "ls heading" "$(out | head -1 | tr -s ' ')" "NAME STATE PID UPTIME RESTARTS EXIT PROFILE COMMAND"
	out | grep -Eq '^web +running +[0-9]+ +[0-9]+s +0 +- +default +sh -c echo started' ||
		fail "ls row: $(out)"
	sx ls --json
	eq "ls --json names" "$(out | jq -r '[.sandboxes[] | "\(.name)=\(.state)"] | join(" ")')" "web=running"
	# status: the human form names state, pid, uptime, exit code, restarts, limits, counters
	sx status web
	eq "status rc" "$RC" 0
	pid=$(out | awk '$1 == "pid" { print $2 }')
	[ "$pid" -gt 0 ] 2>/dev/null || fail "status pid: $(out)"
	kill -0 "$pid" || fail "pid $pid is not alive"
	for l in '^name +web$' '^state +running$' '^uptime +[0-9]+s$' '^exit code +-$' \
		'^restarts +0 \(restart no\)$' '^profile +default \(provider process' \
		'^limits +memory 1.0 GiB, pids 256, cpu 1.000, timeout ' '^memory +[0-9.]+ [KMG]?i?B now, ' \
		'^cpu time +[0-9.]+ s$' '^network +0 B in, 0 B out$' '^connects +0 allowed, 0 denied$' \
		'^denials +0$'; do
		out | grep -Eq "$l" || fail "status lacks /$l/: $(out)"
	done
	sx status --json web
	eq "status --json" "$(out | jq -r '"\(.name) \(.state) \(.pid) \(.limits.pids) \(.counters | has("memory_current"))"')" \
		"web running $pid 256 true"
	# logs: all, --tail
	for i in $(seq 100); do
		sx logs web
		out | grep -q '^tick 3$' && break
		sleep 0.1
	done
	eq "logs head" "$(out | head -2 | tr '\n' ' ')" "started tick 1 "
	sx logs --tail 1 web
	eq "logs --tail 1 lines" "$(out | wc -l)" 1
	out | grep -q '^tick [0-9]*$' || fail "logs --tail 1: $(out)"
	# --follow prints what comes next; head ends it (exit 0)
	SBX_SOCKET=$SOCK timeout 20 "$SBX" logs --follow --tail 0 web | head -2 >"$T_TMP/f.out"
	eq "logs -f rc" "${PIPESTATUS[0]}" 0
	eq "logs -f lines" "$(grep -c '^tick [0-9]*$' "$T_TMP/f.out")" 2
	# rm refuses a running sandbox
	sx rm web
	eq "rm running rc" "$RC" 1
	eq "rm running message" "$(err)" "sbx: error: sandbox 'web' is running"
	# stop: SIGTERM; sh dies of it
	sx stop --time 5s web
	eq "stop rc" "$RC" 0
	eq "stop output" "$(out)" "web: exited (exit code 143 (SIGTERM))"
	kill -0 "$pid" 2>/dev/null && fail "pid $pid survived the stop"
	sx status web
	out | grep -Eq '^state +exited$' || fail "status after stop: $(out)"
	out | grep -Eq '^exit code +143 \(SIGTERM\)$' || fail "status after stop: $(out)"
	# restart: running again with another pid
	sx restart web
	eq "restart rc" "$RC" 0
	wait_state web running || fail "not running after restart"
	[ "$(SBX_SOCKET=$SOCK "$SBX" status --json web | jq -r .pid)" != "$pid" ] || fail "same pid after restart"
	sx rm --force web
	eq "rm --force rc" "$RC" 0
	eq "rm output" "$(out)" web
	sx ls --json
	eq "ls after rm" "$(out | jq -c .sandboxes)" "[]"
	sx status web
	eq "status after rm rc" "$RC" 1
	eq "status after rm" "$(err)" "sbx: error: no sandbox 'web'"
}

case_json_outputs_parse()
{
	sx start --json --name j --restart always -- sleep 1000
	eq "start --json rc" "$RC" 0
	eq "start --json" "$(out | jq -r '"\(.name) \(.restart) \(.command | join(" "))"')" "j always sleep 1000"
	wait_state j running || fail "j is not running"
	sx kill --json -s USR1 j
	eq "kill --json" "$(out | jq -c .)" '{"signalled":"j","signal":"USR1"}'
	# restart always: USR1 ends sleep, and the daemon starts it again
	wait_status j '"\(.state) \(.restarts)"' "running 1"
	eq "restarted after USR1" "$S" "running 1"
	sx stop --json --time 0 j
	eq "stop --json" "$(out | jq -r '"\(.name) \(.state)"')" "j exited"
	sx reload --json
	eq "reload --json" "$(out | jq -c .)" '{"profiles":["hostp"],"moved":[]}'
	sx rm --json j
	eq "rm --json" "$(out | jq -c .)" '{"removed":"j"}'
	sx --pretty ls
	out | jq -e '.sandboxes == []' >/dev/null || fail "ls --pretty: $(out)"
	[ "$(out | wc -l)" -gt 1 ] || fail "--pretty is not indented: $(out)"
	# the ad-hoc flags travel as overrides
	sx start --json --name lim --pids 17 --memory 64M -- sleep 1000
	eq "start with limits" "$(out | jq -c .limits)" '{"memory":67108864,"pids":17,"cpu":"1.000","timeout":"600000ms"}'
	sx rm --force lim
}

case_restart_on_failure_with_cap()
{
	sx start --name flaky --restart on-failure --max-restarts 2 -- sh -c 'echo run; exit 3'
	eq "start rc" "$RC" 0
	wait_status flaky '"\(.state) \(.restarts) \(.exit_code)"' "exited 2 3"
	eq "after the cap" "$S" "exited 2 3"
	sx logs flaky
	eq "three runs logged" "$(out | grep -c '^run$')" 3
	sx rm flaky
	eq "rm rc" "$RC" 0
}

# sbx update prints the status with the limits in force (the lead's
# test_update covers atomicity and who may loosen)
case_update_prints_new_limits()
{
	local i
	sx start --name up -- sleep 1000
	eq "start rc" "$RC" 0
	# the workload must be there: Update needs its cgroup
	for i in $(seq 600); do
		[ "$(SBX_SOCKET=$SOCK "$SBX" status --json up | jq -r .pid)" -gt 0 ] 2>/dev/null && break
		sleep 0.05
	done
	sx update up --memory 64M --pids 32
	eq "update rc" "$RC" 0
	out | grep -Eq '^limits +memory 64.0 MiB, pids 32, ' || fail "update output: $(out) $(err)"
	out | grep -Eq '^state +running$' || fail "update output: $(out)"
	sx update --json up --pids 16
	eq "update --json" "$(out | jq -c '[.limits.memory, .limits.pids, .state]')" '[67108864,16,"running"]'
	sx update nope --pids 8
	eq "update unknown rc" "$RC" 1
	eq "update unknown" "$(err)" "sbx: error: no sandbox 'nope'"
	sx rm --force up
}

# ---- errors --------------------------------------------------------------------------------

case_errors_are_sentences()
{
	sx status nope
	eq "NoSuchSandbox rc" "$RC" 1
	eq "NoSuchSandbox" "$(err)" "sbx: error: no sandbox 'nope'"
	sx start --name e1 --profile nope -- true
	eq "NoSuchProfile rc" "$RC" 1
	eq "NoSuchProfile" "$(err)" "sbx: error: no profile 'nope' in sbxd's policy directory"
	sx start --name 'bad/name' -- true
	eq "InvalidParameter rc" "$RC" 1
	grep -q "^sbx: error: invalid name: " "$T_TMP/sx.err" || fail "InvalidParameter: $(err)"
	sx start --name e2 -- sleep 1000
	sx start --name e2 -- sleep 1000
	eq "NameInUse rc" "$RC" 1
	eq "NameInUse" "$(err)" "sbx: error: a sandbox named 'e2' exists already"
	sx rm --force e2
	# InvalidPolicy: file:line:col: message, and nothing changes
	printf 'version = 1\n[profile.broken]\nprovider = 7\n' >"$DPOL/broken.toml"
	sx reload
	eq "InvalidPolicy rc" "$RC" 1
	grep -Eq "^sbx: error: $DPOL/broken.toml:3:[0-9]+: " "$T_TMP/sx.err" || fail "InvalidPolicy: $(err)"
	rm -f "$DPOL/broken.toml"
	sx reload
	eq "reload rc" "$RC" 0
	eq "reload output" "$(out | tr '\n' ';')" "profiles: hostp;moved: none;"
	# usage errors: 2, before any call
	for v in "stop" "stop a b" "stop --time x a" "start -- true" "start --name a" \
		"start --name a --restart sometimes -- true" "logs --tail -1 a" "update a" "kill"; do
		SBX_SOCKET=$SOCK "$SBX" $v >/dev/null 2>&1
		eq "sbx $v: rc" $? 2
	done
}

# ---- sbx run through the daemon ---------------------------------------------------------------

case_run_through_daemon()
{
	local pid
	printf 'line1\nline2\n' >"$T_TMP/in.txt"
	SBX_SOCKET=$SOCK "$SBX" run -- sh -c 'cat; echo to-stderr >&2; exit 42' \
		<"$T_TMP/in.txt" >"$T_TMP/r.out" 2>"$T_TMP/r.err"
	eq "exit code" $? 42
	eq "stdin to stdout" "$(cat "$T_TMP/r.out")" "$(printf 'line1\nline2')"
	eq "stderr" "$(cat "$T_TMP/r.err")" to-stderr
	# it ran under sbxd: while it runs, sbx ls lists it by its --name
	SBX_SOCKET=$SOCK bg "$SBX" run --name via-daemon --profile hostp -- \
		sh -c 'trap "echo got TERM; exit 4" TERM; echo ready; sleep 1000 & wait' >"$T_TMP/t.out" 2>&1
	pid=$BG_PID
	wait_for "$T_TMP/t.out" '^ready$' || fail "did not start: $(cat "$T_TMP/t.out")"
	sx ls --json
	eq "listed while it runs" "$(out | jq -r '.sandboxes[] | "\(.name) \(.profile)"')" "via-daemon hostp"
	# SIGTERM to the client reaches the workload (Kill through the API)
	kill -TERM "$pid"
	wait "$pid"
	eq "exit after SIGTERM" $? 4
	eq "workload saw TERM" "$(cat "$T_TMP/t.out")" "$(printf 'ready\ngot TERM')"
	sx ls --json
	eq "gone after the run" "$(out | jq -c .sandboxes)" "[]"
	# the daemon's errors exit 125; direct-only flags keep direct mode
	SBX_SOCKET=$SOCK "$SBX" run --profile nope -- true 2>"$T_TMP/p.err"
	eq "unknown profile rc" $? 125
	eq "unknown profile" "$(cat "$T_TMP/p.err")" "sbx: error: no profile 'nope' in sbxd's policy directory"
	SBX_SOCKET=$SOCK "$SBX" run --name n --result - -- true 2>"$T_TMP/m.err"
	eq "--name with --result rc" $? 125
	grep -q "\-\-name runs through sbxd, --result is for direct mode alone" "$T_TMP/m.err" || fail "$(cat "$T_TMP/m.err")"
	SBX_SOCKET=$SOCK "$SBX" run --result "$T_TMP/d.result" -- sh -c 'exit 3'
	eq "direct with --result rc" $? 3
	eq "direct result" "$(jq -r .exit_code "$T_TMP/d.result")" 3
	SBX_SOCKET=$SOCK SBX_DIRECT=1 "$SBX" run --name n -- true 2>"$T_TMP/m.err"
	eq "SBX_DIRECT=1 with --name rc" $? 125
	# the ad-hoc flags travel as overrides: a timeout ends the run with 124
	SBX_SOCKET=$SOCK "$SBX" run --timeout 300ms -- sleep 30 >/dev/null 2>&1
	eq "--timeout override rc" $? 124
}

# -t through sbxd: the caller's terminal is passed, the monitor relays a pty
# of its own; Ctrl-C typed is the workload's (130) and the terminal's modes
# come back (tests/security/ptydrive.py plays the caller's shell).
case_run_tty_through_daemon()
{
	local drive
	drive="python3 $(cd "$(dirname "$0")/../security" && pwd)/ptydrive.py"
	SBX_SOCKET=$SOCK timeout 60 $drive sigint -- "$SBX" run -it --name tty1 -- \
		sh -c 'echo READY; exec sleep 100' >"$T_TMP/tty.out" 2>&1
	eq "exit status after Ctrl-C" "$(sed -n 's/^rc //p' "$T_TMP/tty.out")" 130
	eq "terminal modes restored" "$(sed -n 's/^termios restored //p' "$T_TMP/tty.out")" yes
	grep -q "READY" "$T_TMP/tty.out" || fail "no output: $(cat "$T_TMP/tty.out")"
	SBX_SOCKET=$SOCK "$SBX" run -t -- true </dev/null 2>"$T_TMP/t.err"
	eq "-t without a terminal rc" $? 125
}

# ---- sbx kill ------------------------------------------------------------------------------------

case_kill_by_name_and_direct_id()
{
	local pid id
	sx start --name k -- sh -c 'trap "echo got HUP; exit 5" HUP; echo ready; while :; do sleep 0.1; done'
	eq "start rc" "$RC" 0
	for i in $(seq 200); do
		SBX_SOCKET=$SOCK "$SBX" logs k 2>/dev/null | grep -q ready && break
		sleep 0.05
	done
	sx kill -s HUP k
	eq "kill rc" "$RC" 0
	eq "kill output" "$(out)" "sent SIGHUP to k"
	wait_state k exited || fail "k did not exit"
	eq "exit code" "$(SBX_SOCKET=$SOCK "$SBX" status --json k | jq -r .exit_code)" 5
	sx kill k
	eq "kill exited rc" "$RC" 1
	eq "kill exited" "$(err)" "sbx: error: sandbox 'k' is not running"
	sx rm k
	# a direct-mode sandbox is still killed by id while sbxd runs
	SBX_DIRECT=1 bg "$SBX" run --result "$T_TMP/dk.result" -- sh -c 'echo ready; sleep 1000' >"$T_TMP/dk.out" 2>&1
	pid=$BG_PID
	wait_for "$T_TMP/dk.out" '^ready$' || fail "direct run did not start"
	id=$("$SBX" ps --json | jq -r '.sandboxes[0].id')
	sx kill "$id"
	eq "kill direct id rc" "$RC" 0
	out | grep -q "^killed $id; its sbx run (pid $pid) reports the result and cleans up$" || fail "$(out)"
	wait "$pid"
	eq "direct run exit" $? 137
	sx kill nothing-here
	eq "kill unknown rc" "$RC" 1
	eq "kill unknown" "$(err)" "sbx: error: no sandbox 'nothing-here' (see sbx ls and sbx ps)"
	# and without a daemon, sbx kill is the direct verb
	SBX_SOCKET=$T_TMP/none.sock "$SBX" kill sbx-00000000 >/dev/null 2>"$T_TMP/k.err"
	eq "no daemon kill rc" $? 1
	grep -q "no running sandbox 'sbx-00000000' (see sbx ps)" "$T_TMP/k.err" || fail "$(cat "$T_TMP/k.err")"
}

# ---- libsbx as another program uses it ------------------------------------------------------------

case_libsbx_so_via_pkg_config()
{
	local src flags
	src=$(cd "$(dirname "$0")/../.." && pwd)/docs/examples/libsbx-list.c
	[ -e "$OUTPUT/libsbx.so.1" ] || fail "no $OUTPUT/libsbx.so.1 (make builds it)"
	flags=$(PKG_CONFIG_PATH=$OUTPUT pkg-config --cflags --libs libsbx) || fail "pkg-config: no libsbx in $OUTPUT"
	cc -Wall -Wextra -Werror "$src" $flags -o "$T_TMP/libsbx-list" 2>"$T_TMP/cc.err" ||
		fail "the example does not build: $(cat "$T_TMP/cc.err")"
	# it links the shared library, not a copy of the code
	readelf -d "$T_TMP/libsbx-list" | grep -q 'NEEDED.*libsbx.so.1' || fail "not linked to libsbx.so.1"
	# only sbx_* is exported
	eq "exports" "$(nm -D --defined-only "$OUTPUT/libsbx.so.1" | awk '$2 == "T" { print $3 }' | grep -cv '^sbx_')" 0
	sx start --name lib1 -- sleep 1000
	LD_LIBRARY_PATH=$OUTPUT "$T_TMP/libsbx-list" "$SOCK" >"$T_TMP/l.out" 2>"$T_TMP/l.err"
	eq "example rc" $? 0
	eq "example output" "$(cat "$T_TMP/l.out")" "$(printf "sbxd %s api 1\nlib1 running\nstatus: -2 org.sbx.Manager.NoSuchSandbox: no sandbox 'no-such-sandbox-here'" \
		"$("$SBX" version | awk '{print $2}')")"
	# $SBX_SOCKET is the default path
	SBX_SOCKET=$SOCK LD_LIBRARY_PATH=$OUTPUT "$T_TMP/libsbx-list" >/dev/null 2>&1
	eq "example via \$SBX_SOCKET rc" $? 0
	LD_LIBRARY_PATH=$OUTPUT "$T_TMP/libsbx-list" "$T_TMP/none.sock" 2>"$T_TMP/l.err"
	eq "example without daemon rc" $? 1
	eq "example without daemon" "$(cat "$T_TMP/l.err")" "libsbx-list: cannot connect to sbxd: No such file or directory"
	sx rm --force lib1
	# make install: header, library, link and .pc under PREFIX; the
	# installed .pc builds the example too (its prefix moved to DESTDIR)
	local inst=$T_TMP/inst pre=/usr
	make -s -C "$(dirname "$src")/../.." OUTPUT="$OUTPUT" install DESTDIR="$inst" PREFIX=$pre \
		>"$T_TMP/inst.log" 2>&1 || fail "make install: $(tail -5 "$T_TMP/inst.log")"
	for f in include/sbx/libsbx.h lib/libsbx.so.1 lib/libsbx.so lib/pkgconfig/libsbx.pc; do
		[ -e "$inst$pre/$f" ] || fail "make install did not install $pre/$f"
	done
	eq "libsbx.so link" "$(readlink "$inst$pre/lib/libsbx.so")" libsbx.so.1
	eq "installed .pc prefix" "$(grep '^prefix=' "$inst$pre/lib/pkgconfig/libsbx.pc")" "prefix=$pre"
	flags=$(PKG_CONFIG_PATH=$inst$pre/lib/pkgconfig pkg-config --define-variable=prefix="$inst$pre" \
		--cflags --libs libsbx) || fail "pkg-config on the installed .pc"
	cc -Wall -Wextra -Werror "$src" $flags -o "$T_TMP/libsbx-list2" 2>"$T_TMP/cc.err" ||
		fail "the example does not build against the installed library: $(cat "$T_TMP/cc.err")"
	LD_LIBRARY_PATH=$inst$pre/lib "$T_TMP/libsbx-list2" "$SOCK" >/dev/null || fail "the installed build does not run"
}

# Every option that a verb's --help lists is in its man page and in
# docs/cli.md; every verb has its page and its section.
case_every_flag_documented()
{
	local repo v page opt man
	repo=$(cd "$(dirname "$0")/../.." && pwd)
	for v in start stop restart rm status ls logs update reload kill run metrics; do
		page=$repo/docs/man/sbx-$v.1
		[ "$v" = kill ] && page=$repo/docs/man/sbx-ps.1
		[ -e "$page" ] || fail "no man page $page"
		grep -Eq "^##+ \`sbx $v\`" "$repo/docs/cli.md" || fail "docs/cli.md has no section for sbx $v"
		man=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$page")
		for opt in $("$SBX" "$v" --help | sed -n '/^Options:/,/^[A-Z]/p' | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
			grep -q -- "$opt" <<<"$man" || fail "sbx $v: $opt is not in $(basename "$page")"
			grep -q -- "$opt" "$repo/docs/cli.md" || fail "sbx $v: $opt is not in docs/cli.md"
		done
	done
}

case_sbxd_stops_clean()
{
	sbxd_stop
	[ -e "$SOCK" ] && fail "socket left: $SOCK"
	return 0
}

OUTPUT=${OUTPUT:-$(dirname "$SBX")}
setup daemon_setup
run_case verbs_say_sbxd_is_not_running case_verbs_say_sbxd_is_not_running
run_case run_without_daemon case_run_without_daemon
run_case start_ls_status_logs_stop_restart_rm case_start_ls_status_logs_stop_restart_rm
run_case json_outputs_parse case_json_outputs_parse
run_case restart_on_failure_with_cap case_restart_on_failure_with_cap
run_case update_prints_new_limits case_update_prints_new_limits
run_case errors_are_sentences case_errors_are_sentences
run_case run_through_daemon case_run_through_daemon
run_case run_tty_through_daemon case_run_tty_through_daemon
run_case kill_by_name_and_direct_id case_kill_by_name_and_direct_id
run_case libsbx_so_via_pkg_config case_libsbx_so_via_pkg_config
run_case every_flag_documented case_every_flag_documented
run_case sbxd_stops_clean case_sbxd_stops_clean
finish
