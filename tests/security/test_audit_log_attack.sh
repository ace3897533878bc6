#!/bin/bash
# SPDX-License-Identifier: MIT
# Attacks on the shared audit log on disk (issue 13; user/core/auditlog.c):
#   - a root workload with a read-only view of the host opens
#     audit.jsonl.lock (read access is enough for flock(2)) and holds it:
#     every writer used to wait for the lock forever, so its own monitor
#     stopped (no timeout: the workload ran on; no ring reading: drops), and
#     every other sandbox's monitor and sbxd with it. Now a writer waits
#     SBX_AUDIT_LOCK_WAIT_MS, then appends without the lock (no rotation) and
#     warns; the timeout is kept and the denials are in the log;
#   - the same lock held by a process outside any sandbox, against sbx run
#     and against sbxd (whose api.denied write hung its only thread);
#   - the log's descriptors (audit.jsonl, .lock, the directory) must not
#     reach the workload (a workload could write lines into the log);
#   - a symbolic link planted at audit.jsonl.1 is moved by rotation as a
#     name, never followed: its target is never written;
#   - an unprivileged local user floods sbxd with refused calls: every one
#     wrote an api.denied line (about 46000 lines, 8 MB a second from one
#     process of `nobody`), so the size-bounded log rotated every sandbox's
#     events away within a minute (64M x 5 by default). Now api.denied lines
#     are rate limited per caller uid and in all, and the lines kept out are
#     counted in the next line's "suppressed";
#   - a root workload with fs.mode "full" (host and process providers)
#     appended forged lines to the audit log and renamed it away: sbx's own
#     directories (the log's, sbxd's state, like the run directory) are now
#     unwritable for it (host: Landlock) or hidden from it (process view).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sbxd_lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")

# apol PROVIDER [KEYS]: profile t, root, the host read-only, no network,
# best-effort (Landlock refusals of writes are the denials to hide).
apol()
{
	local iso=process
	[ "$1" = host ] && iso=none
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.t]
provider = "$1"
min_isolation = "$iso"
enforcement = "best-effort"
user = "0"
$2
[profile.t.network]
mode = "none"
[profile.t.fs]
mode = "read-only"
EOF
}

# denials_in_log SANDBOX: file denials of SANDBOX in the shared log.
denials_in_log()
{
	cat "$SBX_LOG_DIR"/audit.jsonl* 2>/dev/null |
		jq -rs --arg s "$1" '[.[] | select(.sandbox == $s and .event == "file" and .verdict == "deny")] | length'
}

case_workload_holds_lock()
{
	local lockf="$SBX_LOG_DIR/audit.jsonl.lock" sb wall
	mkdir -p -m 0700 "$SBX_LOG_DIR"
	: >>"$lockf"
	chmod 0600 "$lockf"
	command -v flock >/dev/null || skip "no flock(1)"
	apol host 'timeout = "2s"'
	# shellcheck disable=SC2016
	sbx_run_within 40 l -P "$T_TMP/policy.toml" --profile t -- sh -c \
		'[ -r "$1" ] || { echo "cannot read $1"; exit 3; }
		 exec flock -x "$1" sh -c "echo locked; while :; do echo x >/etc/sbx-atk-lock 2>/dev/null; sleep 0.1; done"' \
		sh "$lockf"
	grep -q "cannot read" "$T_TMP/l.out" && skip "the workload does not see $SBX_LOG_DIR"
	grep -q locked "$T_TMP/l.out" || fail "l: the workload did not get the lock: $(cat "$T_TMP/l.out" "$T_TMP/l.err")"
	eq "l: timed_out" "$(jr l .timed_out)" true
	wall=$(jr l .wall_ms)
	[ "$wall" -lt 10000 ] 2>/dev/null || fail "l: the 2 s timeout took ${wall} ms with the log's lock held"
	sb=$(jr l .sandbox)
	[ "$(denials_in_log "$sb")" -gt 0 ] 2>/dev/null ||
		fail "l: no file denial of $sb in the shared log while its workload held the lock"
	grep -q "audit.jsonl.lock held by another process" "$T_TMP/l.err" ||
		fail "l: no warning about the held lock: $(tail -c 300 "$T_TMP/l.err")"
	return 0
}

case_outside_holder_does_not_stop_runs()
{
	local lockf="$SBX_LOG_DIR/audit.jsonl.lock" sb
	mkdir -p -m 0700 "$SBX_LOG_DIR"
	: >>"$lockf"
	command -v flock >/dev/null || skip "no flock(1)"
	bg flock -o -x "$lockf" sleep 60
	sleep 0.3
	apol host 'timeout = "20s"'
	sbx_run_within 30 o -P "$T_TMP/policy.toml" --profile t -- sh -c 'for i in 1 2 3; do echo x >/etc/sbx-atk-o; done; true'
	expect_rc o 0
	sb=$(jr o .sandbox)
	eq "o: denials of $sb in the shared log (lock held outside)" "$(denials_in_log "$sb")" "$(ja o '[.[] | select(.event == "file" and .verdict == "deny")] | length')"
	eq "o: audit.unwritten" "$(jr o .audit.unwritten)" 0
	[ "$(wc -l <"$SBX_LOG_DIR/audit.jsonl")" -gt 0 ] || fail "o: empty log"
	# every line whole
	jq -s length "$SBX_LOG_DIR/audit.jsonl" >/dev/null || fail "o: a line of the log is not JSON"
	kill_bg "$BG_PID"
	return 0
}

# the workload lists where its descriptors lead: nothing of the log
case_no_log_fd_in_workload()
{
	local prov
	for prov in host process; do
		apol "$prov"
		sbx_run f$prov -P "$T_TMP/policy.toml" --profile t -- sh -c \
			'for f in /proc/self/fd/*; do echo "fd $f $(readlink "$f")"; done'
		expect_rc f$prov 0
		grep -q '^fd ' "$T_TMP/f$prov.out" || fail "f$prov: no fd listed: $(cat "$T_TMP/f$prov.err")"
		if grep -E "audit\.jsonl|$SBX_LOG_DIR" "$T_TMP/f$prov.out"; then
			fail "$prov: the workload holds a descriptor of the log: $(grep -E 'audit|log' "$T_TMP/f$prov.out" | tr '\n' ' ')"
		fi
	done
	return 0
}

# a link at audit.jsonl.1 (and .2) is renamed, never written through
case_symlink_in_chain_not_followed()
{
	local victim="$T_TMP/victim" lines
	mkdir -p -m 0700 "$SBX_LOG_DIR"
	echo victim >"$victim"
	ln -sfn "$victim" "$SBX_LOG_DIR/audit.jsonl.1"
	ln -sfn "$victim" "$SBX_LOG_DIR/audit.jsonl.2"
	apol host
	SBX_AUDIT_MAX_SIZE=4K SBX_AUDIT_KEEP=2 sbx_run s -P "$T_TMP/policy.toml" --profile t -- sh -c \
		'i=0; while [ $i -lt 120 ]; do echo x >/etc/sbx-atk-link-$i 2>/dev/null; i=$((i + 1)); done; true'
	expect_rc s 0
	eq "s: the link's target" "$(cat "$victim")" victim
	[ -L "$SBX_LOG_DIR/audit.jsonl.1" ] && fail "s: audit.jsonl.1 is still the planted link after rotations"
	[ -f "$SBX_LOG_DIR/audit.jsonl.1" ] || fail "s: no rotated audit.jsonl.1"
	lines=$(ja s '[.[] | select(.event == "file" and .verdict == "deny")] | length')
	[ "$lines" -ge 100 ] 2>/dev/null || fail "s: only $lines denials"
	return 0
}

# FLOOD SOCK N: N refused calls (Reload) on one connection, pipelined
flood_py='import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
n = int(sys.argv[2]); m = json.dumps({"method": "org.sbx.Manager.Reload", "parameters": {}}).encode() + b"\0"
sent = got = 0
while got < n:
    if sent < n and sent - got < 64:
        k = min(64, n - sent); s.sendall(m * k); sent += k
    c = s.recv(1 << 20)
    if not c: break
    got += c.count(b"\0")
print("replies", got)'

case_api_denied_flood_bounded()
{
	local n=20000 lines supp other
	other=$(getent passwd daemon | cut -d: -f3)
	[ -n "$other" ] && [ "$other" != 0 ] || skip "no user daemon"
	rm -f "$DAUDIT"/audit.jsonl*
	sbxd_start || fail "sbxd: $(tail -c 300 "$T_TMP/sbxd.log")"
	runuser -u nobody -- python3 -c "$flood_py" "$SOCK" $n >"$T_TMP/fl.out" 2>&1
	eq "flood: replies" "$(cat "$T_TMP/fl.out")" "replies $n"
	# another caller's refusal is written, and reports what was kept out
	runuser -u daemon -- python3 -c "$flood_py" "$SOCK" 1 >"$T_TMP/fl2.out" 2>&1
	eq "second caller: replies" "$(cat "$T_TMP/fl2.out")" "replies 1"
	lines=$(jq -c 'select(.event == "api.denied" and .uid == 65534)' "$DAUDIT/audit.jsonl" | wc -l)
	[ "$lines" -le 400 ] || fail "$lines api.denied lines of nobody for $n refused calls in about a second (bound: burst 200 + 20/s)"
	[ "$lines" -ge 200 ] || fail "only $lines api.denied lines of nobody (burst 200)"
	eq "the other caller's line" "$(jq -c "select(.event == \"api.denied\" and .uid == $other)" "$DAUDIT/audit.jsonl" | wc -l)" 1
	supp=$(jq -s '[.[] | select(.event == "api.denied") | .suppressed // 0] | add' "$DAUDIT/audit.jsonl")
	eq "lines written + suppressed = refused calls" "$((lines + supp))" "$n"
	sbxd_stop
	return 0
}

# without root (the sandbox's own uid, the default) the lock cannot be had:
# the directory is 0700 and the files 0600
case_sandbox_uid_cannot_take_lock()
{
	local lockf="$SBX_LOG_DIR/audit.jsonl.lock"
	mkdir -p -m 0700 "$SBX_LOG_DIR"
	: >>"$lockf"
	command -v flock >/dev/null || skip "no flock(1)"
	apol host
	sed -i '/^user = "0"$/d' "$T_TMP/policy.toml"
	# shellcheck disable=SC2016
	sbx_run n -P "$T_TMP/policy.toml" --profile t -- sh -c \
		'id -u; if flock -n -x "$1" true 2>/dev/null; then echo lock taken; else echo lock refused; fi; cat "$2" >/dev/null 2>&1 && echo log read || echo log refused' \
		sh "$lockf" "$SBX_LOG_DIR/audit.jsonl"
	expect_rc n 0
	[ "$(head -1 "$T_TMP/n.out")" != 0 ] || fail "n: the workload runs as root"
	grep -qx "lock refused" "$T_TMP/n.out" || fail "n: $(cat "$T_TMP/n.out")"
	grep -qx "log refused" "$T_TMP/n.out" || fail "n: $(cat "$T_TMP/n.out")"
	return 0
}

# the same holder against sbxd: its api.denied line waited for the lock on
# sbxd's only thread, and every caller of every user waited with it
case_held_lock_does_not_stop_sbxd()
{
	local lockf="$DAUDIT/audit.jsonl.lock"
	command -v flock >/dev/null || skip "no flock(1)"
	rm -f "$DAUDIT"/audit.jsonl*
	sbxd_start || fail "sbxd: $(tail -c 300 "$T_TMP/sbxd.log")"
	bg flock -o -x "$lockf" sleep 60
	sleep 0.3
	timeout 10 runuser -u nobody -- python3 -c "$flood_py" "$SOCK" 3 >"$T_TMP/hl.out" 2>&1
	eq "refused calls answered while the lock is held" "$(cat "$T_TMP/hl.out")" "replies 3"
	sx ls
	eq "sbx ls while the lock is held" "$RC" 0
	eq "api.denied lines of nobody" \
		"$(jq -c 'select(.event == "api.denied" and .uid == 65534)' "$DAUDIT/audit.jsonl" | wc -l)" 3
	kill_bg "$BG_PID"
	sbxd_stop
	return 0
}

# forge_try PROVIDER NAME: a root workload of fs.mode "full" tries to append
# a forged line to the shared log, to rename the log away and to create a
# file beside it; none of it may happen.
forge_try()
{
	mkdir -p -m 0700 "$SBX_LOG_DIR"
	: >>"$SBX_LOG_DIR/audit.jsonl"
	apol "$1"
	sed -i 's/^mode = "read-only"/mode = "full"/' "$T_TMP/policy.toml"
	# shellcheck disable=SC2016
	sbx_run_within 40 "$2" -P "$T_TMP/policy.toml" --profile t -- sh -c \
		'echo "{\"event\":\"forged\"}" >>"$1/audit.jsonl" && echo appended
		 mv "$1/audit.jsonl" "$1/gone" && echo renamed
		 true >"$1/planted" && echo planted
		 echo done' sh "$SBX_LOG_DIR"
	grep -q '^done' "$T_TMP/$2.out" || fail "$2: the workload did not run: $(cat "$T_TMP/$2.err")"
	eq "$2: what a root workload did to the log directory" "$(grep -v '^done' "$T_TMP/$2.out")" ""
	[ -e "$SBX_LOG_DIR/audit.jsonl" ] || fail "$2: audit.jsonl is gone"
	[ ! -e "$SBX_LOG_DIR/planted" ] && [ ! -e "$SBX_LOG_DIR/gone" ] || fail "$2: a file was planted or moved"
	grep -q forged "$SBX_LOG_DIR"/audit.jsonl* && fail "$2: a forged line is in the log"
	return 0
}

case_root_host_workload_cannot_forge_log() { forge_try host rh; }
case_root_process_workload_cannot_forge_log() { forge_try process rp; }

run_case workload_holds_lock case_workload_holds_lock
run_case outside_holder_does_not_stop_runs case_outside_holder_does_not_stop_runs
run_case no_log_fd_in_workload case_no_log_fd_in_workload
run_case symlink_in_chain_not_followed case_symlink_in_chain_not_followed
run_case api_denied_flood_bounded case_api_denied_flood_bounded
run_case sandbox_uid_cannot_take_lock case_sandbox_uid_cannot_take_lock
run_case held_lock_does_not_stop_sbxd case_held_lock_does_not_stop_sbxd
run_case root_host_workload_cannot_forge_log case_root_host_workload_cannot_forge_log
run_case root_process_workload_cannot_forge_log case_root_process_workload_cannot_forge_log
finish
