#!/bin/bash
# SPDX-License-Identifier: MIT
# The shared audit log on disk (docs/audit.md, "The log on disk"):
# - rotation by size never loses, repeats or splits an event: concurrent
#   sandboxes write at full rate across more than ten rotations, and every
#   sandbox's seq is then 1..last exactly once across all the files, every
#   line is one JSON object;
# - the same through sbxd, with the real logrotate (docs/logrotate/sbx) run
#   while the monitors write, SIGHUP making sbxd drop the renamed file, and
#   sbxd's Subscribe delivering every event across the rotations;
# - back-pressure is visible: a monitor stopped while its workload floods
#   counts ring drops, writes audit.dropped lines and warns on stderr, at
#   most once a second.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sbxd_lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
FLOOD=6000

rot_setup()
{
	start_listener U4 127.0.0.1 udp || return 1
	local limits='audit_deny_rate = 100000
audit_deny_burst = 1000000'
	write_policy "$T_TMP/policy.toml" t "$limits" 'mode = "allow"'
	write_policy "$DPOL/flood.toml" flood "$limits
timeout = \"120s\"" 'mode = "allow"'
	echo "$U4" >"$T_TMP/port"
}

# The files of the log in DIR, oldest first: the numbered ones from the
# highest down, the date-named ones of logrotate, then audit.jsonl.
# (A logrotate rename racing a rotation of sbx's own leaves a number out.)
log_files()
{
	local dir=$1
	ls "$dir" | grep -E '^audit\.jsonl\.[0-9]+$' | sort -t. -k3,3 -rn | sed "s|^|$dir/|"
	ls "$dir" | grep -E '^audit\.jsonl-[0-9]' | sort | sed "s|^|$dir/|"
	echo "$dir/audit.jsonl"
}

# check_lines DIR: every file ends in a newline, every line is one JSON
# object (logrotate's archives are compressed from the second on).
check_lines()
{
	local f lines objs
	for f in $(log_files "$1"); do
		[ -s "$f" ] || continue
		[ "$(zcat -f "$f" | tail -c 1 | od -An -c | tr -d ' ')" = '\n' ] || fail "$f does not end with a newline"
		lines=$(zcat -f "$f" | wc -l)
		objs=$(zcat -f "$f" | jq -c 'select(type == "object")' 2>/dev/null | wc -l)
		eq "JSON objects in $f" "$objs" "$lines"
	done
}

# seq_report DIR: "SANDBOX lines unique max has_exit" per sandbox, over all files
seq_report()
{
	zcat -f $(log_files "$1") | jq -rs 'map(select(.seq != null)) | group_by(.sandbox) | .[] |
		"\(.[0].sandbox) \(length) \(map(.seq) | unique | length) \(map(.seq) | max) \(map(select(.event == "sandbox.exit")) | length)"'
}

# check_seq DIR N: N sandboxes, each with seq 1..max once and one sandbox.exit
check_seq()
{
	local sb n u max ex count=0
	while read -r sb n u max ex; do
		count=$((count + 1))
		eq "$sb: lines = distinct seq (no duplicate)" "$n" "$u"
		eq "$sb: distinct seq = last seq (no gap)" "$u" "$max"
		eq "$sb: sandbox.exit lines" "$ex" 1
	done <<<"$(seq_report "$1")"
	eq "sandboxes in the log" "$count" "$2"
}

case_rotation_loses_nothing()
{
	local dir=$SBX_LOG_DIR n i
	"$SBX" unload >/dev/null 2>&1
	rm -rf "$dir"
	export SBX_AUDIT_MAX_SIZE=64K SBX_AUDIT_KEEP=999
	# a ring that a flood cannot fill: gaps could only come from the log
	sbx_run warm -P "$T_TMP/policy.toml" --ring-size 8M -- true
	expect_rc warm 0
	for i in 1 2; do
		"$SBX" run --result "$T_TMP/c$i.result" -P "$T_TMP/policy.toml" -- \
			"$NETTOOL" flood 127.0.0.1 "$U4" $FLOOD >"$T_TMP/c$i.out" 2>"$T_TMP/c$i.err" &
		eval "P$i=\$!"
	done
	wait "$P1"
	wait "$P2"
	for i in 1 2; do
		grep -q "^EPERM connects=0 failed=$FLOOD" "$T_TMP/c$i.out" || fail "c$i: $(cat "$T_TMP/c$i.out" "$T_TMP/c$i.err")"
		eq "c$i dropped" "$(jq .audit.dropped "$T_TMP/c$i.result")" 0
		eq "c$i unwritten" "$(jq .audit.unwritten "$T_TMP/c$i.result")" 0
	done
	# the chain has no hole: only sbx rotated this log
	n=$(ls "$dir" | grep -cE '^audit\.jsonl\.[0-9]+$')
	[ "$n" -ge 10 ] || fail "only $n rotations (want at least 10)"
	[ -e "$dir/audit.jsonl.$n" ] || fail "a hole in audit.jsonl.1 .. .$n"
	check_lines "$dir"
	# warm, c1, c2
	check_seq "$dir" 3
	for i in 1 2; do
		id=$(jq -r .sandbox "$T_TMP/c$i.result")
		eq "c$i last seq = events" "$(seq_report "$dir" | awk -v s="$id" '$1 == s { print $4 }')" \
			"$(jq .audit.events "$T_TMP/c$i.result")"
	done
	eq "log files are 0600" "$(stat -c %a $(log_files "$dir") | sort -u)" 600
}

# sbx audit --follow goes on across rotations: every event of a flood once
case_audit_follow_across_rotations()
{
	local dir=$SBX_LOG_DIR id fl i
	export SBX_AUDIT_MAX_SIZE=64K SBX_AUDIT_KEEP=999
	rm -rf "$dir"
	sbx_run w -P "$T_TMP/policy.toml" -- true
	expect_rc w 0
	bg sh -c "exec '$SBX' audit --follow --json >'$T_TMP/follow.jsonl'"
	fl=$BG_PID
	wait_for "$T_TMP/follow.jsonl" '"sandbox.exit"' || fail "sbx audit --follow printed nothing"
	sbx_run fa -P "$T_TMP/policy.toml" -- "$NETTOOL" flood 127.0.0.1 "$U4" $FLOOD
	id=$(jr fa .sandbox)
	[ -e "$dir/audit.jsonl.10" ] || fail "fewer than 10 rotations"
	for i in $(seq 200); do
		grep -q "\"sandbox\":\"$id\".*\"sandbox.exit\"" "$T_TMP/follow.jsonl" && break
		sleep 0.05
	done
	kill_bg "$fl"
	eq "followed: lines, distinct seq, last seq" \
		"$(jq -rs --arg s "$id" '[.[] | select(.sandbox == $s and .seq != null) | .seq] | "\(length) \(unique | length) \(max)"' "$T_TMP/follow.jsonl")" \
		"$(jr fa .audit.events) $(jr fa .audit.events) $(jr fa .audit.events)"
}

case_bad_settings_refused()
{
	SBX_AUDIT_MAX_SIZE=12 sbx_run bad -P "$T_TMP/policy.toml" -- true
	expect_rc bad 125
	grep -q "SBX_AUDIT_MAX_SIZE='12'" "$T_TMP/bad.err" || fail "no clear error: $(cat "$T_TMP/bad.err")"
	"$SBXD" --check-config --audit-keep 1000 >"$T_TMP/d.out" 2>&1
	eq "sbxd --audit-keep 1000" "$?" 2
	grep -q "audit_keep: '1000'" "$T_TMP/d.out" || fail "sbxd: $(cat "$T_TMP/d.out")"
}

# subscriber FILE: Subscribe as root, the events as JSON lines into FILE
subscriber()
{
	python3 - "$SOCK" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(json.dumps({"method": "org.sbx.Manager.Subscribe", "parameters": {}, "more": True}).encode() + b"\0")
open(sys.argv[2].replace(".jsonl", ".ready"), "w").write("ready\n")
out, buf = open(sys.argv[2], "w"), b""
while True:
    c = s.recv(65536)
    if not c:
        break
    buf += c
    while b"\0" in buf:
        m, buf = buf.split(b"\0", 1)
        r = json.loads(m)
        out.write(json.dumps(r.get("parameters", {}).get("event", r)) + "\n")
        out.flush()
PY
}

# The logrotate snippet as installed, pointed at the test's log and daemon.
logrotate_conf()
{
	sed -e "s|/var/log/sbx/|$DAUDIT/|" \
	    -e "s|^\([[:space:]]*\)if \[ -d /run/systemd/system \].*|\1if false; then|" \
	    -e "s|pkill -HUP -x -U 0 sbxd|kill -HUP $SBXD_PID|" \
		"$SRC/docs/logrotate/sbx" >"$T_TMP/logrotate.conf"
}

# renamed_writers PID: descriptors of PID open for writing on logrotate's files
renamed_writers()
{
	local fd flags n=0
	for fd in /proc/"$1"/fd/*; do
		case "$(readlink "$fd")" in *audit.jsonl-*) ;; *) continue ;; esac
		flags=$(awk '/^flags:/ { print $2 }' "/proc/$1/fdinfo/${fd##*/}")
		[ $((8#$flags & 3)) -ne 0 ] && n=$((n + 1))
	done
	echo $n
}

case_sbxd_logrotate_and_subscribe()
{
	local i u4 sub n lr before
	command -v logrotate >/dev/null || skip "no logrotate (Debian package logrotate)"
	sbxd_start --audit-max-size 64K --audit-keep 999 || fail "sbxd did not start"
	bg subscriber "$T_TMP/sub.jsonl"
	sub=$BG_PID
	wait_for "$T_TMP/sub.ready" ready || fail "the subscriber did not connect"
	sleep 0.5	# Subscribe reads from where the log ends when sbxd takes the call
	u4=$(cat "$T_TMP/port")
	# bursts a 256 KiB ring holds, so that only the log could lose events
	for i in 1 2; do
		sx start --name f$i --profile flood -- sh -c \
			"for i in \$(seq 40); do $NETTOOL flood 127.0.0.1 $u4 300 >/dev/null; sleep 0.05; done"
		eq "start f$i" "$RC" 0
	done
	logrotate_conf
	for i in 1 2 3; do
		sleep 1.1	# logrotate's date names are to the second
		logrotate -f -s "$T_TMP/logrotate.state" "$T_TMP/logrotate.conf" >>"$T_TMP/logrotate.out" 2>&1 ||
			fail "logrotate: $(cat "$T_TMP/logrotate.out")"
		# sbxd's own lines go on through the rotations: a refused call each time
		SBX_SOCKET=$SOCK runuser -u nobody -- "$SBX" reload >/dev/null 2>&1
	done
	wait_state f1 exited || fail "f1 did not end"
	wait_state f2 exited || fail "f2 did not end"
	# logrotate skips an empty log (notifempty), as right after a rotation
	# of sbx's own: each rotation it did sent one SIGHUP
	lr=$(ls "$DAUDIT" | grep -cE '^audit\.jsonl-[0-9]')
	[ "$lr" -ge 1 ] || fail "logrotate rotated nothing: $(cat "$T_TMP/logrotate.out")"
	eq "SIGHUPs from postrotate" "$(grep -c "policy reloaded" "$T_TMP/sbxd.log")" "$lr"
	n=$(ls "$DAUDIT" | grep -cE '^audit\.jsonl\.[0-9]+$')
	[ "$n" -ge 3 ] || fail "only $n built-in rotations"
	# logrotate's renames racing sbx's rotations leave no hole in the chain
	[ -e "$DAUDIT/audit.jsonl.$n" ] || fail "a hole in audit.jsonl.1 .. .$n: $(ls "$DAUDIT" | tr '\n' ' ')"
	for i in 1 2; do
		eq "f$i dropped" "$(jq .audit.dropped "$DSTATE/sandboxes/f$i/result.json")" 0
	done
	check_lines "$DAUDIT"
	check_seq "$DAUDIT" 2
	eq "api.denied lines across the rotations" \
		"$(zcat -f $(log_files "$DAUDIT") | grep -c '"event":"api.denied"')" 3
	# Subscribe delivered the same events, each once
	for i in $(seq 100); do
		[ "$(grep -c '"sandbox.exit"' "$T_TMP/sub.jsonl")" = 2 ] && break
		sleep 0.1
	done
	kill_bg "$sub"
	before=$(seq_report "$DAUDIT")
	eq "Subscribe = the files" "$(jq -rs 'map(select(.seq != null)) | group_by(.sandbox) | .[] |
		"\(.[0].sandbox) \(length) \(map(.seq) | unique | length) \(map(.seq) | max) \(map(select(.event == "sandbox.exit")) | length)"' \
		"$T_TMP/sub.jsonl")" "$before"
	# SIGHUP: sbxd lets go of the file logrotate renamed at once, not at
	# its next write (nothing writes after the refused call that makes
	# sbxd hold the current file for writing, and the log not empty)
	SBX_SOCKET=$SOCK runuser -u nobody -- "$SBX" reload >/dev/null 2>&1
	sleep 1.1
	logrotate -f -s "$T_TMP/logrotate.state" "$T_TMP/logrotate.conf" >>"$T_TMP/logrotate.out" 2>&1 ||
		fail "logrotate: $(cat "$T_TMP/logrotate.out")"
	for i in $(seq 100); do
		[ "$(grep -c "policy reloaded" "$T_TMP/sbxd.log")" = $((lr + 1)) ] && break
		sleep 0.05
	done
	eq "SIGHUP from the last postrotate" "$(grep -c "policy reloaded" "$T_TMP/sbxd.log")" $((lr + 1))
	eq "sbxd's descriptors for writing to renamed files" "$(renamed_writers "$SBXD_PID")" 0
	sbxd_stop
}

case_slow_consumer_visible()
{
	local pid i d prev t n u4
	export SBX_AUDIT_MAX_SIZE=0
	u4=$(cat "$T_TMP/port")
	# a ring small enough that a stopped consumer surely loses events
	"$SBX" unload >/dev/null 2>&1
	"$SBX" run --ring-size 16K --result "$T_TMP/s.result" --audit "$T_TMP/s.audit" -P "$T_TMP/policy.toml" -- sh -c \
		"for i in \$(seq 60); do $NETTOOL flood 127.0.0.1 $u4 2000 >/dev/null; sleep 0.05; done" \
		>"$T_TMP/s.out" 2>"$T_TMP/s.err" &
	pid=$!
	T_PIDS="$T_PIDS $pid"
	for i in $(seq 100); do
		[ -s "$T_TMP/s.audit" ] && break
		sleep 0.05
	done
	kill -STOP "$pid"
	sleep 1.5	# the workload floods a ring nobody reads
	kill -CONT "$pid"
	wait "$pid"
	eq "sbx run exit" "$?" 0
	d=$(jq .audit.dropped "$T_TMP/s.result")
	[ "$d" -gt 0 ] || fail "no ring drops counted with the monitor stopped (dropped $d)"
	eq "audit.dropped ring sum = result" \
		"$(jq -s '[.[] | select(.event == "audit.dropped") | .ring] | add' "$T_TMP/s.audit")" "$d"
	eq "audit.dropped fields" "$(jq -s '[.[] | select(.event == "audit.dropped")][0] | keys | sort | join(",")' -r "$T_TMP/s.audit")" \
		"event,profile,ring,ring_total,sandbox,sink,sink_total,time"
	n=$(grep -c '^sbx: warning: .* audit events dropped' "$T_TMP/s.err")
	[ "$n" -ge 1 ] || fail "no warning on stderr: $(head -c 300 "$T_TMP/s.err")"
	eq "warnings = audit.dropped lines" "$n" "$(grep -c '"event":"audit.dropped"' "$T_TMP/s.audit")"
	# at most once a second while it runs (the last one is the end's)
	prev=""
	for t in $(jq -r 'select(.event == "audit.dropped") | .time' "$T_TMP/s.audit" | head -n -1); do
		t=$(date -d "$t" +%s.%N)
		[ -z "$prev" ] || awk -v a="$prev" -v b="$t" 'BEGIN { exit !(b - a >= 0.99) }' ||
			fail "two audit.dropped lines within a second: $prev $t"
		prev=$t
	done
}

setup rot_setup
run_case slow_consumer_visible case_slow_consumer_visible
run_case rotation_loses_nothing case_rotation_loses_nothing
run_case audit_follow_across_rotations case_audit_follow_across_rotations
run_case bad_settings_refused case_bad_settings_refused
run_case sbxd_logrotate_and_subscribe case_sbxd_logrotate_and_subscribe
finish
