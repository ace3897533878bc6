#!/bin/bash
# SPDX-License-Identifier: MIT
# sbxd's registry and its robustness (docs/api.md): sandboxes survive a
# kill -9 of the daemon and are adopted with their status right, an exit
# while the daemon is down is recorded with its exit code, nothing leaks;
# restart policies with backoff; the output log rotated through the daemon;
# reload with a broken file changes nothing and says where; SIGHUP reloads;
# malformed and oversized messages get an error and the daemon goes on;
# 100 clients at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sbxd_lib.sh"

life_setup()
{
	cat >"$DPOL/life.toml" <<'EOF'
version = 1
[profile.svc]
timeout = "120s"
[profile.proc]
provider = "process"
timeout = "120s"
EOF
	sbxd_start --log-max-size 4K --log-keep 2
}

# vl METHOD JSON: one raw varlink call, the reply on stdout
vl()
{
	python3 - "$SOCK" "$1" "$2" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(json.dumps({"method": sys.argv[2], "parameters": json.loads(sys.argv[3])}).encode() + b"\0")
buf = b""
while b"\0" not in buf:
    c = s.recv(65536)
    if not c: break
    buf += c
print(buf.split(b"\0")[0].decode())
EOF
}

case_adopted_after_kill9()
{
	local pid_a pid_b old=$SBXD_PID
	sx start --name keep --profile svc -- sleep 100
	eq "start keep" "$RC" 0
	sx start --name ends --profile svc -- sh -c 'sleep 1.5; exit 7'
	eq "start ends" "$RC" 0
	wait_state keep running && wait_state ends running || fail "not running"
	# the pid is known once the monitor has spawned the workload
	for i in $(seq 200); do
		pid_a=$(SBX_SOCKET=$SOCK "$SBX" status --json keep | jq .pid)
		[ "$pid_a" -gt 0 ] && break
		sleep 0.05
	done
	# the daemon dies hard; the workloads go on under their monitors
	kill -9 "$SBXD_PID"
	wait "$SBXD_PID" 2>/dev/null
	SBXD_PID=""
	: >"$SBXD_PIDFILE"
	sleep 2.5	# 'ends' exits while no daemon runs
	kill -0 "$pid_a" || fail "the workload died with the daemon"
	# enforcement is on: the sandbox's cgroup is still in the instance's registry
	"$SBX" ps --json | jq -e '.sandboxes | length == 1' >/dev/null || fail "sbx ps: $("$SBX" ps 2>&1)"
	sbxd_start --log-max-size 4K --log-keep 2 || fail "restart: $(tail -3 "$T_TMP/sbxd.log")"
	[ "$SBXD_PID" != "$old" ] || fail "same daemon"
	sx status --json keep
	eq "keep adopted" "$(out | jq -r '"\(.state) \(.pid)"')" "running $pid_a"
	sx status --json ends
	eq "ends recorded" "$(out | jq -r '"\(.state) \(.exit_code)"')" "exited 7"
	# an adopted sandbox is stopped like any other, its exit recorded
	sx stop keep
	eq "stop adopted rc" "$RC" 0
	eq "stopped by TERM" "$(out | jq -r '.signal // empty' 2>/dev/null)$(SBX_SOCKET=$SOCK "$SBX" status --json keep | jq -r .exit_code)" 143
	kill -0 "$pid_a" 2>/dev/null && fail "workload $pid_a still alive"
	sx rm keep
	sx rm ends
	# nothing of them is left: no registry entries, no state
	eq "sbx ps after" "$("$SBX" ps --json | jq '.sandboxes | length')" 0
	[ -z "$(ls -A "$DSTATE/sandboxes")" ] || fail "state left: $(ls -A "$DSTATE/sandboxes")"
}

case_restart_always_with_backoff()
{
	local r
	sx start --name flaky --profile svc --restart always --max-restarts 3 -- sh -c 'exit 1'
	eq "start" "$RC" 0
	wait_status flaky '"\(.state) \(.restarts)"' "exited 3"
	eq "three restarts, then it stays down" "$S" "exited 3"
	sx status --json flaky
	eq "exit code of the last run" "$(out | jq .exit_code)" 1
	# always restarts a clean exit too; stop cancels it
	sx start --name clean --profile svc --restart always -- sh -c 'sleep 0.2'
	for i in $(seq 200); do
		[ "$(SBX_SOCKET=$SOCK "$SBX" status --json clean | jq .restarts)" -ge 2 ] && break
		sleep 0.1
	done
	[ "$(SBX_SOCKET=$SOCK "$SBX" status --json clean | jq .restarts)" -ge 2 ] || fail "no restarts of a clean exit"
	sx stop clean
	eq "stop" "$RC" 0
	r=$(SBX_SOCKET=$SOCK "$SBX" status --json clean | jq .restarts)
	sleep 1
	eq "no restart after stop" "$(SBX_SOCKET=$SOCK "$SBX" status --json clean | jq -r '"\(.state) \(.restarts)"')" "exited $r"
	sx rm flaky
	sx rm clean
}

case_output_log_rotated()
{
	sx start --name chatty --profile svc -- sh -c 'seq 1 5000; sleep 60'
	for i in $(seq 200); do
		SBX_SOCKET=$SOCK "$SBX" logs --tail 1 chatty 2>/dev/null | grep -qx 5000 && break
		sleep 0.05
	done
	sx logs chatty
	eq "last line" "$(out | tail -1)" 5000
	# the kept files hold an exact suffix of the output, each within 4K
	diff <(out) <(seq 1 5000 | tail -n "$(out | wc -l)") >/dev/null || fail "not a suffix of seq"
	for f in "$DSTATE"/sandboxes/chatty/output.log*; do
		[ "$(stat -c %s "$f")" -le 4096 ] || fail "$f is larger than 4K"
	done
	eq "files kept" "$(ls "$DSTATE"/sandboxes/chatty/output.log* | wc -l)" 3
	sx rm --force chatty
	eq "rm --force" "$RC" 0
	[ -e "$DSTATE/sandboxes/chatty" ] && fail "state of chatty left"
	return 0
}

case_reload_broken_file_changes_nothing()
{
	cat >"$DPOL/new.toml" <<'EOF'
version = 1
[profile.fresh]
timeout = "10s"
EOF
	sx reload
	eq "reload rc" "$RC" 0
	sx run --profile fresh -- true
	eq "a new profile runs" "$RC" 0
	printf 'version = 1\n[profile.broken]\ntimeout = "10s"\nnosuchkey = 1\n' >"$DPOL/zz.toml"
	sx reload
	eq "broken reload rc" "$RC" 1
	grep -q "$DPOL/zz.toml:4:1:" "$T_TMP/sx.err" || fail "no file:line:col: $(err)"
	# nothing changed: fresh still runs, broken does not exist
	sx run --profile fresh -- true
	eq "old policy kept" "$RC" 0
	sx run --profile broken -- true
	[ "$RC" != 0 ] || fail "the broken file's profile ran"
	# SIGHUP: the same, logged
	kill -HUP "$(cat "$SBXD_PIDFILE")"
	for i in $(seq 100); do grep -q "reload refused" "$T_TMP/sbxd.log" && break; sleep 0.05; done
	grep -q "reload refused, the old policy stays: $DPOL/zz.toml:4:1" "$T_TMP/sbxd.log" ||
		fail "SIGHUP: $(tail -2 "$T_TMP/sbxd.log")"
	rm -f "$DPOL/zz.toml" "$DPOL/new.toml"
	sx reload
	eq "reload after the fix" "$RC" 0
}

case_malformed_and_oversized_messages()
{
	python3 - "$SOCK" <<'EOF' || fail "raw protocol: see case.log"
import json, socket, sys
path = sys.argv[1]
def talk(data):
    s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(20)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass    # refused before it was all sent: the answer is queued
    buf = b""
    while True:
        try: c = s.recv(65536)
        except ConnectionResetError: break
        if not c: break
        buf += c
        if b"\0" in buf: break
    s.close()
    return json.loads(buf.split(b"\0")[0]) if buf else None
cases = [
    (b"this is not json\0", "org.sbx.Manager.InvalidParameter", "message"),
    (b"[1,2,3]\0", "org.sbx.Manager.InvalidParameter", "message"),
    (b'{"method": 7}\0', "org.varlink.service.InvalidParameter", "method"),
    (b'{"method": "org.sbx.Manager.List", "parameters": []}\0', "org.varlink.service.InvalidParameter", "parameters"),
    (b'{"method": "org.sbx.Manager.Nope"}\0', "org.varlink.service.MethodNotFound", None),
    (b'{"method": "org.nope.X"}\0', "org.varlink.service.InterfaceNotFound", None),
    (b'{"method": "org.sbx.Manager.Status", "parameters": {"name": 5}}\0', "org.sbx.Manager.InvalidParameter", "name"),
    (b'{"method": "org.sbx.Manager.Start", "parameters": {"name": "../x", "command": ["true"]}}\0', "org.sbx.Manager.InvalidParameter", "name"),
    (b'{"method": "org.sbx.Manager.Start", "parameters": {"name": "x", "command": []}}\0', "org.sbx.Manager.InvalidParameter", "command"),
    (b'{"method": "org.sbx.Manager.Kill", "parameters": {"name": "x", "signal": "NOPE"}}\0', "org.sbx.Manager.NoSuchSandbox", None),
    (b'{"method": "org.sbx.Manager.Subscribe"}\0', "org.varlink.service.ExpectedMore", None),
    (b"{" * 100000 + b"\0", "org.sbx.Manager.InvalidParameter", "message"),
    (b'{"method": "org.sbx.Manager.List", "parameters": {"x": "' + b"a" * (2 << 20) + b'"}}\0', "org.sbx.Manager.InvalidParameter", "message"),
]
bad = 0
for data, err, param in cases:
    r = talk(data)
    if not r or r.get("error") != err or (param and r["parameters"].get("parameter") != param):
        print("FAILED", data[:60], "->", r); bad += 1
    if r and err.endswith("InvalidParameter") and param == "message" and "reason" not in r["parameters"]:
        print("no reason", r); bad += 1
# a message cut short, then the peer gone: nothing to answer, nothing breaks
s = socket.socket(socket.AF_UNIX); s.connect(path); s.sendall(b'{"method": "org.sbx.Ma'); s.close()
# the daemon still answers
r = talk(b'{"method": "org.sbx.Manager.Version"}\0')
if not r or r["parameters"].get("api") != 1:
    print("daemon unhealthy", r); bad += 1
sys.exit(1 if bad else 0)
EOF
	kill -0 "$(cat "$SBXD_PIDFILE")" || fail "sbxd died"
}

case_hundred_clients_at_once()
{
	python3 - "$SOCK" <<'EOF' || fail "100 clients: see case.log"
import json, socket, sys
path = sys.argv[1]
socks = []
for i in range(100):
    s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(60); socks.append(s)
# all connected; each sends a call, then all read their answers
for i, s in enumerate(socks):
    m = "org.sbx.Manager.List" if i % 2 else "org.sbx.Manager.Version"
    s.sendall(json.dumps({"method": m}).encode() + b"\0")
ok = 0
for i, s in enumerate(socks):
    buf = b""
    while b"\0" not in buf:
        c = s.recv(65536)
        if not c: break
        buf += c
    r = json.loads(buf.split(b"\0")[0])
    if ("sandboxes" if i % 2 else "version") in r.get("parameters", {}):
        ok += 1
    s.close()
print("answered", ok)
sys.exit(0 if ok == 100 else 1)
EOF
	# and 100 runs through the daemon at once, each with its own exit code
	for i in $(seq 100); do
		SBX_SOCKET=$SOCK "$SBX" run --profile svc -- sh -c "exit $((i % 50))" >/dev/null 2>"$T_TMP/run$i.err" &
		pids="$pids $!"
	done
	i=0
	for p in $pids; do
		i=$((i + 1))
		wait "$p"
		rc=$?
		[ "$rc" = $((i % 50)) ] || fail "run $i exited $rc, not $((i % 50)): $(cat "$T_TMP/run$i.err")"
	done
	sx ls --json
	eq "runs forgotten" "$(out | jq -c '[.sandboxes[] | {name, state, exit_code}]')" "[]"
}

case_config_errors_name_the_place()
{
	local f=$T_TMP/sbxd.toml msg
	# each bad file: sbxd does not start, and says file:line:col and what
	while IFS='|' read -r body want; do
		printf '%b' "$body" >"$f"
		msg=$("$SBXD" -c "$f" --check-config --policy-dir "$DPOL" 2>&1)
		eq "rc for $want" "$?" 1
		[[ "$msg" == "sbxd: error: $f"*"$want"* ]] || fail "for '$want': $msg"
	done <<'CFG'
state_dir = "/var/lib/x"\nnosuch = 1\n|:2:1: unknown setting 'nosuch'
log_keep = "3"\n|:1:1: log_keep must be an integer, not string
stop_timeout = "soon"\n|:1:1: stop_timeout: 'soon' is not a duration
log_max_size = "1K"\n|:1:1: log_max_size: '1K' is below 4096 bytes
admin_groups = ["no-such-group-sbx"]\n|:1:1: admin_groups: no group 'no-such-group-sbx'
socket = "relative.sock"\n|:1:1: 'relative.sock' is not an absolute path
state_dir = \n|:1:
CFG
	# a good file and flags over it
	printf 'log_keep = 5\nstop_timeout = "3s"\nadmin_groups = ["root"]\n' >"$f"
	msg=$("$SBXD" -c "$f" --check-config --policy-dir "$DPOL" 2>&1)
	eq "good file rc" "$?" 0
	# a named file that does not exist is an error; the default one may be missing
	msg=$("$SBXD" -c "$T_TMP/none.toml" --check-config 2>&1)
	eq "missing -c file rc" "$?" 1
	# a broken policy directory stops the start, with the place
	mkdir -p "$T_TMP/badpol"
	printf 'version = 1\n[profile.x]\nmemory = "lots"\n' >"$T_TMP/badpol/a.toml"
	msg=$("$SBXD" --check-config --policy-dir "$T_TMP/badpol" 2>&1)
	eq "bad policy dir rc" "$?" 1
	[[ "$msg" == *"$T_TMP/badpol/a.toml:3:"* ]] || fail "bad policy dir: $msg"
	# usage errors exit 2
	"$SBXD" --no-such-flag >/dev/null 2>&1
	eq "unknown flag rc" "$?" 2
	"$SBXD" --log-keep many --check-config >/dev/null 2>&1
	eq "bad flag value rc" "$?" 2
}

case_served_description_is_the_docs()
{
	python3 - "$SOCK" "$(dirname "$0")/../../docs/api.md" <<'PY' || fail "docs/api.md and the daemon differ"
import json, re, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(json.dumps({"method": "org.varlink.service.GetInterfaceDescription",
                      "parameters": {"interface": "org.sbx.Manager"}}).encode() + b"\0")
buf = b""
while b"\0" not in buf:
    buf += s.recv(65536)
served = json.loads(buf.split(b"\0")[0])["parameters"]["description"]
doc = re.search(r"```varlink\n(.*?)```", open(sys.argv[2]).read(), re.S).group(1)
if served != doc:
    import difflib
    sys.stdout.writelines(difflib.unified_diff(doc.splitlines(True), served.splitlines(True), "docs/api.md", "served"))
    sys.exit(1)
PY
}

case_start_says_why_it_failed()
{
	sx start --name nocmd --profile svc -- /no/such/command
	eq "start of a missing command rc" "$RC" 1
	grep -q "/no/such/command" "$T_TMP/sx.err" || fail "start: $(err)"
	sx status --json nocmd
	eq "state" "$(out | jq -r '"\(.state) \(.exit_code)"')" "exited 127"
	out | jq -e '.error | contains("/no/such/command")' >/dev/null || fail "status error: $(out | jq -c .error)"
	sx rm nocmd
	# a workload that ran and ended at once: start succeeds, with its code
	sx start --name quick --profile svc -- sh -c 'exit 3'
	eq "start of a quick workload rc" "$RC" 0
	wait_state quick exited || fail "quick did not end"
	sx status --json quick
	eq "quick's exit code" "$(out | jq .exit_code)" 3
	sx rm quick
}

case_workload_gets_default_sigpipe()
{
	local mask
	# sbxd ignores SIGPIPE; its workloads must not inherit that
	mask=$(SBX_SOCKET=$SOCK "$SBX" run --profile proc -- sh -c 'grep SigIgn /proc/self/status' | awk '{ print $2 }')
	[ -n "$mask" ] || fail "no SigIgn line"
	[ $(( 0x$mask >> 12 & 1 )) = 0 ] || fail "SIGPIPE is ignored in the workload (SigIgn $mask)"
	# a pipeline ends as it does outside: yes dies of SIGPIPE
	eq "yes | head" "$(SBX_SOCKET=$SOCK "$SBX" run --profile proc -- sh -c 'yes | head -1; echo ${PIPESTATUS:-done}')" "y
done"
}

setup life_setup
run_case adopted_after_kill9 case_adopted_after_kill9
run_case restart_always_with_backoff case_restart_always_with_backoff
run_case output_log_rotated case_output_log_rotated
run_case reload_broken_file_changes_nothing case_reload_broken_file_changes_nothing
run_case malformed_and_oversized_messages case_malformed_and_oversized_messages
run_case hundred_clients_at_once case_hundred_clients_at_once
run_case config_errors_name_the_place case_config_errors_name_the_place
run_case served_description_is_the_docs case_served_description_is_the_docs
run_case start_says_why_it_failed case_start_says_why_it_failed
run_case workload_gets_default_sigpipe case_workload_gets_default_sigpipe
run_case sbxd_stops sbxd_stop
finish
