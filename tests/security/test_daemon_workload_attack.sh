#!/bin/bash
# SPDX-License-Identifier: MIT
# Attacks on sbxd from a hostile workload and a hostile local client, and on
# its state (docs/api.md): a second daemon on the same state directory is
# refused; a flood of connections past sbxd's descriptor limit does not make
# its accept loop spin; one local user holds at most 256 connections;
# output that is not UTF-8 reaches Logs callers as valid JSON; a workload
# (process, host; as root or not) cannot reach the socket, and one allowed
# every unix socket is nobody to the API; a root workload cannot signal,
# trace or open the /proc files of its monitor; a restarted daemon finishes
# a Stop in its grace period and stops a Run whose caller went with the old
# daemon; a meta.json naming an unrelated live pid, and garbage ones, do not
# make sbxd adopt or signal anything.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sbxd_lib.sh"

atk_setup()
{
	cat >"$DPOL/atk.toml" <<'EOF'
version = 1
[profile.svc]
provider = "process"
timeout = "120s"
[profile.proc]
provider = "process"
timeout = "60s"
fs.mode = "full"
[profile.procroot]
provider = "process"
user = "root"
timeout = "60s"
fs.mode = "full"
[profile.hostp]
provider = "host"
min_isolation = "none"
timeout = "60s"
fs.mode = "full"
[profile.hostroot]
provider = "host"
min_isolation = "none"
user = "root"
timeout = "60s"
fs.mode = "full"
[profile.procunix]
provider = "process"
timeout = "60s"
fs.mode = "full"
network.unix = ["*"]
EOF
	sbxd_start
}

# cpu_ticks PID: utime + stime of PID in clock ticks
cpu_ticks()
{
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# A second sbxd on the same state directory (another socket) would adopt
# the same monitors and write the same meta.json files: it must refuse.
case_second_daemon_same_state_dir()
{
	local rc
	timeout 10 "$SBXD" --state-dir "$DSTATE" --socket "$T_TMP/other.sock" \
		--policy-dir "$DPOL" --audit-dir "$DAUDIT" >"$T_TMP/second.log" 2>&1 &
	local pid=$!
	sleep 1.5
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		wait "$pid"
		fail "a second sbxd runs on $DSTATE: $(cat "$T_TMP/second.log")"
	fi
	wait "$pid"
	rc=$?
	eq "second sbxd exit status" "$rc" 1
	grep -q "another sbxd uses the state directory" "$T_TMP/second.log" ||
		fail "no clear error: $(cat "$T_TMP/second.log")"
	# the first one still serves
	sx ls
	eq "first sbxd still answers" "$RC" 0
	[ -e "$T_TMP/other.sock" ] && fail "the refused daemon left its socket"
	return 0
}

# A local user opens more connections than sbxd has descriptors: accept
# fails with EMFILE and the listening socket stays readable. The loop must
# not spin on it, and sbxd must answer again once the connections close.
case_emfile_no_spin()
{
	local before after
	local was
	was=$(prlimit --pid "$SBXD_PID" --nofile -o SOFT,HARD --noheadings | awk '{ print $1 ":" $2 }')
	prlimit --pid "$SBXD_PID" --nofile="64:${was#*:}" || skip "prlimit failed"
	T_CASE_RESTORE="prlimit --pid $SBXD_PID --nofile=$was"
	python3 - "$SOCK" "$T_TMP/hold" <<'EOF' &
import os, socket, sys, time
conns = []
for i in range(150):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])   # the backlog takes them even when accept fails
    conns.append(s)
open(sys.argv[2], "w").close()
time.sleep(4)
EOF
	local hold=$!
	T_CASE_PIDS="$T_CASE_PIDS $hold"
	for i in $(seq 100); do [ -e "$T_TMP/hold" ] && break; sleep 0.05; done
	[ -e "$T_TMP/hold" ] || fail "the client could not connect"
	sleep 0.3
	before=$(cpu_ticks "$SBXD_PID")
	sleep 2
	after=$(cpu_ticks "$SBXD_PID")
	# an idle daemon uses no CPU; a spinning one about 200 ticks in 2 s
	[ $((after - before)) -le 20 ] || fail "sbxd spins at EMFILE: $((after - before)) ticks in 2 s"
	wait "$hold"
	for i in $(seq 100); do
		SBX_SOCKET=$SOCK timeout 5 "$SBX" ls >/dev/null 2>&1 && break
		sleep 0.1
	done
	sx ls
	eq "answers after the flood" "$RC" 0
}

# An unprivileged local user opens 400 connections and keeps them: it gets
# its share (256), the others are closed at once, and root is still served.
case_connection_share_per_uid()
{
	runuser -u nobody -- python3 - "$SOCK" "$T_TMP/share" <<'EOF' &
import json, socket, sys, time
conns = []
for i in range(400):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])	# blocking: a full backlog waits, no EAGAIN
    s.settimeout(5)
    conns.append(s)
time.sleep(0.5)
ok = 0
for s in conns:
    try:
        s.sendall(json.dumps({"method": "org.sbx.Manager.Version"}).encode() + b"\0")
        if b"version" in s.recv(4096):
            ok += 1
    except OSError:
        pass
open(sys.argv[2], "w").write("%d %d\n" % (len(conns), ok))
time.sleep(3)
EOF
	local hog=$!
	T_CASE_PIDS="$T_CASE_PIDS $hog"
	for i in $(seq 300); do [ -s "$T_TMP/share" ] && break; sleep 0.1; done
	[ -s "$T_TMP/share" ] || fail "the client did not finish"
	eq "connected, answered" "$(cat "$T_TMP/share")" "400 256"
	SBX_SOCKET=$SOCK timeout 5 "$SBX" ls >/dev/null 2>&1 || fail "root is not served"
	wait "$hog"
	return 0
}

# The workload writes bytes that are not UTF-8 (and NULs): varlink is JSON,
# which is UTF-8; Logs replies must stay valid for any client.
case_logs_invalid_utf8()
{
	sx start --name bin --profile svc -- sh -c 'printf "a\377\376b\000c\300\257d\n"; sleep 60'
	eq "start" "$RC" 0
	for i in $(seq 100); do
		[ -s "$DSTATE/sandboxes/bin/output.log" ] && break
		sleep 0.05
	done
	python3 - "$SOCK" <<'EOF' 2>"$T_TMP/py.err" || fail "Logs reply: $(cat "$T_TMP/py.err")"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(json.dumps({"method": "org.sbx.Manager.Logs", "parameters": {"name": "bin"}}).encode() + b"\0")
buf = b""
while b"\0" not in buf:
    c = s.recv(65536)
    if not c: break
    buf += c
raw = buf.split(b"\0")[0]
try:
    r = json.loads(raw.decode("utf-8"))   # strict: what a varlink client does
except Exception as e:
    print("invalid reply:", e, raw[:200], file=sys.stderr)
    sys.exit(1)
d = r["parameters"]["data"]
want = "a\ufffd\ufffdb\x00c\ufffd\ufffdd\n"
if d != want:
    print("data %r, want %r" % (d, want), file=sys.stderr)
    sys.exit(1)
EOF
	sx rm --force bin
}

# api_probe SOCKET: from inside a sandbox, List then Stop victim, each reply
# on a line (or "connect ERROR")
API_PROBE='
import json, socket, sys
try:
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
except OSError as e:
    print("connect", e.errno); sys.exit(0)
for m, p in (("List", {}), ("Stop", {"name": "victim"})):
    s.sendall(json.dumps({"method": "org.sbx.Manager." + m, "parameters": p}).encode() + b"\0")
    buf = b""
    while b"\0" not in buf:
        c = s.recv(65536)
        if not c: break
        buf += c
    print(m, buf.split(b"\0")[0].decode())
'

# A workload (process and host providers, as root and as its own uid) tries
# sbxd's socket: network.unix denies the connect, with a net.unix event.
case_workload_cannot_reach_socket()
{
	local p
	T_CASE_RESTORE='SBX_SOCKET=$SOCK "$SBX" rm --force victim >/dev/null 2>&1'
	sx start --name victim --profile svc -- sleep 60
	eq "start victim ($(head -c 300 "$T_TMP/sx.err"))" "$RC" 0
	for p in proc procroot hostp; do
		sx run --profile "$p" -- python3 -c "$API_PROBE" "$SOCK"
		eq "$p: run rc ($(head -c 300 "$T_TMP/sx.err"))" "$RC" 0
		eq "$p: connect" "$(out)" "connect 1"
		jq -se --arg p "$p" --arg s "$SOCK" 'map(select(.profile == $p and .event == "net.unix" and
			.verdict == "deny" and .path == $s)) | length > 0' "$DAUDIT/audit.jsonl" >/dev/null ||
			fail "$p: no net.unix deny event: $(tail -c 600 "$DAUDIT/audit.jsonl")"
	done
	sx status --json victim
	eq "victim still running" "$(out | jq -r .state)" running
	sx rm --force victim
}

# A profile that lets the workload reach every unix socket: its uid (an
# allocated one) is nobody to sbxd: an empty List, NoSuchSandbox for the
# other sandbox, an api.denied line.
case_workload_uid_sees_nothing()
{
	T_CASE_RESTORE='SBX_SOCKET=$SOCK "$SBX" rm --force victim >/dev/null 2>&1'
	sx start --name victim --profile svc -- sleep 60
	eq "start victim ($(head -c 300 "$T_TMP/sx.err"))" "$RC" 0
	sx run --profile procunix -- python3 -c "$API_PROBE" "$SOCK"
	eq "run rc ($(head -c 300 "$T_TMP/sx.err"))" "$RC" 0
	eq "List" "$(out | sed -n 's/^List //p' | jq -c .parameters.sandboxes)" "[]"
	eq "Stop" "$(out | sed -n 's/^Stop //p' | jq -r .error)" org.sbx.Manager.NoSuchSandbox
	jq -se 'map(select(.event == "api.denied" and .method == "org.sbx.Manager.Stop" and
		.name == "victim" and .uid != 0)) | length > 0' "$DAUDIT/audit.jsonl" >/dev/null ||
		fail "no api.denied line"
	sx status --json victim
	eq "victim still running" "$(out | jq -r .state)" running
	sx rm --force victim
}

# A root workload under the host provider (no pid namespace: its parent is
# its monitor, a root process outside the sandbox) goes for the monitor:
# signals, ptrace, its /proc files. Each is refused (EPERM, EACCES); the
# kernel refuses these without an audit event, so the test checks the
# errno and that the monitor goes on (the sandbox ends with its exit code).
MON_PROBE='
import ctypes, os, signal
libc = ctypes.CDLL(None, use_errno=True)
m = os.getppid()
def t(name, f):
    try:
        f(); print(name, "ok")
    except OSError as e:
        print(name, e.errno)
t("kill", lambda: os.kill(m, signal.SIGKILL))
t("stop", lambda: os.kill(m, signal.SIGSTOP))
for name, req in (("attach", 16), ("seize", 0x4206)):
    print(name, "ok" if libc.ptrace(req, m, 0, 0) == 0 else ctypes.get_errno())
for p in ("mem", "environ", "fd/0", "cwd", "root"):
    t(p, lambda: open("/proc/%d/%s" % (m, p), "rb").close())
'

case_workload_attacks_monitor()
{
	sx run --profile hostroot -- python3 -c "$MON_PROBE"
	eq "run rc ($(head -c 300 "$T_TMP/sx.err"))" "$RC" 0
	eq "probes" "$(out | tr '\n' ' ')" \
		"kill 1 stop 1 attach 1 seize 1 mem 13 environ 13 fd/0 13 cwd 13 root 13 "
}

# sbxd_kill9: the daemon dies hard
sbxd_kill9()
{
	local i
	# a case is a subshell: an earlier case may have restarted the daemon
	SBXD_PID=$(cat "$SBXD_PIDFILE")
	kill -9 "$SBXD_PID" || fail "no daemon $SBXD_PID to kill"
	wait "$SBXD_PID" 2>/dev/null
	# a case is a subshell, not the daemon's parent: until it is dead (or a
	# zombie, whose files are closed), its lock on the state dir is held
	for i in $(seq 100); do
		[ "$(awk '{ print $3 }' "/proc/$SBXD_PID/stat" 2>/dev/null)" = Z ] && break
		kill -0 "$SBXD_PID" 2>/dev/null || break
		sleep 0.05
	done
	SBXD_PID=""
	: >"$SBXD_PIDFILE"
}

# wait_gone PID [TENTHS]: until PID has ended
wait_gone()
{
	local i
	for i in $(seq "${2:-100}"); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# workload_pid NAME: the pid of a sandbox's workload, once it has one
workload_pid()
{
	local i p
	for i in $(seq 200); do
		p=$(SBX_SOCKET=$SOCK "$SBX" status --json "$1" 2>/dev/null | jq .pid)
		[ "${p:-0}" -gt 0 ] && { echo "$p"; return 0; }
		sleep 0.05
	done
	return 1
}

# sbxd dies during a Stop's grace period, the workload ignoring TERM: the
# next sbxd finishes the stop (KILL after its own grace period) instead of
# leaving a sandbox marked stopping that runs forever.
case_stop_grace_survives_kill9()
{
	local pid
	T_CASE_RESTORE='SBX_SOCKET=$SOCK "$SBX" rm --force deaf >/dev/null 2>&1'
	sx start --name deaf --profile svc -- sh -c 'trap "" TERM; while :; do sleep 0.1; done'
	eq "start" "$RC" 0
	pid=$(workload_pid deaf) || fail "no workload pid"
	sleep 0.3	# the trap is set
	SBX_SOCKET=$SOCK "$SBX" stop --time 60s deaf >/dev/null 2>&1 &
	sleep 0.5
	grep -q '"stopping":true' "$DSTATE/sandboxes/deaf/meta.json" || fail "no stop in progress"
	sbxd_kill9
	kill -0 "$pid" 2>/dev/null || fail "the workload ended with TERM"
	sbxd_start >/dev/null || fail "restart: $(tail -3 "$T_TMP/sbxd.log")"
	# stop_timeout is 2s in sbxd_lib.sh
	wait_gone "$pid" 100 || fail "the workload runs on after the restarted sbxd's grace period"
	wait_state deaf exited || fail "not exited: $(SBX_SOCKET=$SOCK "$SBX" status deaf 2>&1)"
	sx status --json deaf
	eq "killed" "$(out | jq -r .exit_code)" 137
	sx rm deaf
	eq "rm" "$RC" 0
}

# sbxd dies during a Run: the caller lost its connection, which stops the
# sandbox (docs/api.md); the next sbxd does so and forgets it.
case_run_caller_gone_with_daemon()
{
	local pid cpid
	SBX_SOCKET=$SOCK "$SBX" run --profile svc --name orphan -- sh -c 'sleep 100' >/dev/null 2>&1 &
	cpid=$!
	pid=$(workload_pid orphan) || fail "no workload pid"
	sbxd_kill9
	wait "$cpid"
	sbxd_start >/dev/null || fail "restart: $(tail -3 "$T_TMP/sbxd.log")"
	wait_gone "$pid" 100 || fail "the workload of a Run whose caller is gone still runs"
	for i in $(seq 100); do
		[ -e "$DSTATE/sandboxes/orphan" ] || break
		sleep 0.1
	done
	[ -e "$DSTATE/sandboxes/orphan" ] && fail "the Run's state is left: $(ls "$DSTATE/sandboxes/orphan")"
	return 0
}

# A meta.json that names a running process that is not its monitor (a pid
# reused, or a record written by hand) must not make sbxd adopt or signal
# it; records that are not valid are skipped, the daemon goes on.
case_meta_pid_reuse_and_garbage()
{
	local victim d=$DSTATE/sandboxes
	[ -d "$d" ] || fail "no $d"
	sleep 100 &
	victim=$!
	T_CASE_PIDS="$T_CASE_PIDS $victim"
	sbxd_stop
	mkdir -p "$d/reused" "$d/garbage1" "$d/garbage2" "$d/garbage3" "$d/garbage4"
	printf '{"owner":0,"owner_gid":0,"profile":"svc","provider":"process","command":["sleep","100"],"restart":"no","state":"running","monitor":%d,"monitor_start":12345,"stopping":true}' \
		"$victim" >"$d/reused/meta.json"
	printf '[]' >"$d/garbage1/meta.json"
	printf '{"state":"running","monitor":' >"$d/garbage2/meta.json"
	printf '{"state":"running","monitor":-1,"command":5,"owner":"x","profile":7}' >"$d/garbage3/meta.json"
	head -c 4096 /dev/urandom >"$d/garbage4/meta.json"
	sbxd_start || fail "sbxd does not start on these records: $(tail -3 "$T_TMP/sbxd.log")"
	kill -0 "$victim" 2>/dev/null || fail "sbxd signalled an unrelated process"
	sx status --json reused
	eq "reused: exited ($(err))" "$(out | jq -r .state)" exited
	sx stop reused
	sx kill --signal KILL reused
	kill -0 "$victim" 2>/dev/null || fail "stop or kill reached an unrelated process"
	sx ls --json
	eq "listed" "$(out | jq -c '[.sandboxes[].name] | sort')" '["garbage3","reused"]'
	sx rm --force reused
	sx rm --force garbage3
	rm -rf "$d"/garbage*
	kill "$victim"
	return 0
}

setup atk_setup
run_case second_daemon_same_state_dir case_second_daemon_same_state_dir
run_case emfile_no_spin case_emfile_no_spin
run_case connection_share_per_uid case_connection_share_per_uid
run_case logs_invalid_utf8 case_logs_invalid_utf8
run_case workload_cannot_reach_socket case_workload_cannot_reach_socket
run_case workload_uid_sees_nothing case_workload_uid_sees_nothing
run_case workload_attacks_monitor case_workload_attacks_monitor
run_case stop_grace_survives_kill9 case_stop_grace_survives_kill9
run_case run_caller_gone_with_daemon case_run_caller_gone_with_daemon
run_case meta_pid_reuse_and_garbage case_meta_pid_reuse_and_garbage
run_case sbxd_stops sbxd_stop
finish
