#!/bin/bash
# SPDX-License-Identifier: MIT
# Attacks on sbxd from a hostile workload and a hostile local client, and on
# its state (docs/api.md): a second daemon on the same state directory is
# refused; a flood of connections past sbxd's descriptor limit does not make
# its accept loop spin; output that is not UTF-8 reaches Logs callers as
# valid JSON; a workload (process, host; as root or not) cannot reach the
# socket, and one allowed every unix socket is nobody to the API.
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
	prlimit --pid "$SBXD_PID" --nofile=64:64 || skip "prlimit failed"
	T_CASE_RESTORE="prlimit --pid $SBXD_PID --nofile=1024:524288"
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

setup atk_setup
run_case second_daemon_same_state_dir case_second_daemon_same_state_dir
run_case emfile_no_spin case_emfile_no_spin
run_case logs_invalid_utf8 case_logs_invalid_utf8
run_case workload_cannot_reach_socket case_workload_cannot_reach_socket
run_case workload_uid_sees_nothing case_workload_uid_sees_nothing
run_case sbxd_stops sbxd_stop
finish
