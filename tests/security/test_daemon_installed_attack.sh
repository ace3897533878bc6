#!/bin/bash
# SPDX-License-Identifier: MIT
# sbxd as installed (PREFIX/sbin/sbxd finding PREFIX/bin/sbx) against an
# unprivileged local user: which sbx runs as root, and the Update paths a
# sandbox's owner may take. The prefix is a copy of $OUTPUT's binaries in the
# layout `make install` gives (install adds nothing else that sbxd reads).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sbxd_lib.sh"

UA=sbxia
CREATED_USERS=""
PFX=$T_TMP/pfx

_ia_cleanup()
{
	local u
	sbxd_stop
	for u in $CREATED_USERS; do userdel "$u" 2>/dev/null; done
	_cleanup
}
trap _ia_cleanup EXIT

ia_setup()
{
	command -v useradd >/dev/null || { echo "no useradd"; return 1; }
	getent passwd $UA >/dev/null || { useradd -M -d / -s /usr/sbin/nologin $UA && CREATED_USERS=$UA; } || return 1
	chmod 755 "$T_TMP"
	cat >"$DPOL/ia.toml" <<EOF
version = 1
[profile.ro]
allow_users = ["$UA"]
timeout = "60s"
enforcement = "strict"
[profile.ro.fs]
mode = "read-only"
[profile.allownet]
allow_users = ["$UA"]
timeout = "60s"
[profile.allownet.network]
mode = "allow"
allow = ["192.0.2.0/24:80"]
[profile.fullnet]
allow_users = ["$UA"]
timeout = "60s"
[profile.fullnet.network]
mode = "full"
# last: a case appends a rule to its fs table
[profile.rotwo]
allow_users = ["$UA"]
timeout = "60s"
[profile.rotwo.fs]
mode = "read-only"
EOF
	# installed layout: sbxd in sbin, sbx in ../bin
	install -d -m 0755 "$PFX/sbin" "$PFX/bin" || return 1
	install -m 0755 "$SBXD" "$PFX/sbin/sbxd" && install -m 0755 "$SBX" "$PFX/bin/sbx" || return 1
	SBXD=$PFX/sbin/sbxd SBX=$PFX/bin/sbx sbxd_start
}

# sbxd_try: start the prefix's sbxd on a second socket; its first line in RC/out
sbxd_try()
{
	timeout 10 "$PFX/sbin/sbxd" --state-dir "$T_TMP/st2" --socket "$T_TMP/s2.sock" \
		--policy-dir "$DPOL" --audit-dir "$T_TMP/au2" --check-config >"$T_TMP/sx.out" 2>&1
	RC=$?
}

# The installed sbxd runs PREFIX/bin/sbx as root for every caller. A prefix
# that a user may write (PREFIX=/home/user/.local, a group-writable /opt/x)
# let that user replace sbx: on main sbxd took it and ran it as root.
case_writable_prefix_refused()
{
	local mode d
	sbxd_try
	eq "clean prefix" "$RC" 0
	for d in "$PFX/bin/sbx" "$PFX/bin" "$PFX"; do
		mode=$(stat -c %a "$d")
		chmod o+w "$d"
		sbxd_try
		chmod "$mode" "$d"
		[ "$RC" != 0 ] || fail "sbxd accepted a world-writable $d: $(cat "$T_TMP/sx.out")"
		grep -q "writable by others" "$T_TMP/sx.out" || fail "reason for $d: $(cat "$T_TMP/sx.out")"
	done
	# a binary the user owns
	chown $UA "$PFX/bin/sbx"
	sbxd_try
	chown root "$PFX/bin/sbx"
	[ "$RC" != 0 ] || fail "sbxd accepted an sbx owned by $UA"
	# a symlink is followed and its target checked
	mv "$PFX/bin/sbx" "$T_TMP/sbx.real" && chown $UA "$T_TMP/sbx.real"
	ln -s "$T_TMP/sbx.real" "$PFX/bin/sbx"
	sbxd_try
	rm "$PFX/bin/sbx"; chown root "$T_TMP/sbx.real"; mv "$T_TMP/sbx.real" "$PFX/bin/sbx"
	[ "$RC" != 0 ] || fail "sbxd accepted a symlink to an sbx owned by $UA"
	sbxd_try
	eq "clean prefix again" "$RC" 0
}

# The monitor's environment is sbxd's, never the caller's: a caller's
# LD_PRELOAD, PATH or SBX_* do not travel over the socket.
case_caller_env_not_inherited()
{
	local pid
	runuser -u $UA -- env SBX_SOCKET=$SOCK LD_PRELOAD=/nonexistent.so SBX_POLICY=/x SBX_IA_MARK=1 \
		PATH=/tmp/evil:$PATH "$PFX/bin/sbx" start --name envp --profile ro -- sleep 30 >/dev/null 2>&1 ||
		fail "start as $UA"
	wait_state envp running || fail "envp not running"
	for pid in $(pgrep -x sbx); do
		tr '\0' '\n' </proc/$pid/environ 2>/dev/null | grep -q SBX_IA_MARK && fail "monitor $pid has the caller's env"
		tr '\0' '\n' </proc/$pid/environ 2>/dev/null | grep -q nonexistent.so && fail "monitor $pid has LD_PRELOAD"
	done
	grep -q "$PFX/bin/sbx" <(ps -eo args) || fail "no monitor from the prefix runs"
	sx rm --force envp
}

# Attacks that fail, kept as regressions: an owner's deny-path on a sandbox
# whose fs is Landlock's is refused (Unenforceable) and nothing is applied.
case_update_landlock_deny_path()
{
	local before
	as $UA start --name ll --profile ro -- sleep 30
	eq "start" "$RC" 0
	wait_state ll running || fail "ll not running"
	before=$(sha1sum <"$DSTATE/sandboxes/ll/profile.toml")
	runuser -u $UA -- python3 - "$SOCK" >"$T_TMP/sx.out" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(json.dumps({"method": "org.sbx.Manager.Update", "parameters": {"name": "ll", "deny_path": ["/etc"]}}).encode() + b"\0")
print(s.recv(65536).rstrip(b"\0").decode())
EOF
	eq "error" "$(jq -r .error "$T_TMP/sx.out")" org.sbx.Manager.Unenforceable
	grep -q "Landlock\|fs rules" "$T_TMP/sx.out" || fail "reason: $(cat "$T_TMP/sx.out")"
	eq "profile unchanged" "$(sha1sum <"$DSTATE/sandboxes/ll/profile.toml")" "$before"
	# --ro by the owner on a read-only tree is no loosening yet still refused
	as $UA update --ro /etc ll
	[ "$RC" != 0 ] || fail "--ro applied"
	eq "profile unchanged after --ro" "$(sha1sum <"$DSTATE/sandboxes/ll/profile.toml")" "$before"
	sx rm --force ll
}

# A deny entry in mode "full" is not enforced: refused, not reported applied.
case_update_deny_in_full()
{
	as $UA start --name fn --profile fullnet -- sleep 30
	eq "start" "$RC" 0
	wait_state fn running || fail "fn not running"
	as $UA update --deny 192.0.2.1 fn
	[ "$RC" != 0 ] || fail "deny in mode full accepted"
	grep -q "ignored in mode 'full'" "$T_TMP/sx.err" || fail "reason: $(err)"
	sx rm --force fn
}

# An owner's --ro override of a file, then the administrator denies that
# file in the profile and runs Reload --running: the sandbox cannot move
# (its fs is Landlock's, fixed at start), and on main Restart (and the
# restart policy) ran the stored profile again: the override that a new
# Start is refused kept the file readable for good. A restart now runs the
# current version when the stored one is looser.
case_restart_after_reload()
{
	local f=$T_TMP/ia-secret
	echo IASECRET >"$f" && chmod 755 "$f"
	as $UA start --name rl --profile rotwo --ro "$f" -- sh -c "while :; do cat $f; sleep 0.2; done"
	eq "start" "$RC" 0
	wait_state rl running || fail "rl not running"
	sleep 0.5
	sx logs rl
	grep -q IASECRET "$T_TMP/sx.out" || fail "the override did not grant: $(out)"
	cp "$DPOL/ia.toml" "$T_TMP/ia.toml.orig"
	echo "rules = [{ path = \"$f\", access = \"deny\" }]" >>"$DPOL/ia.toml"
	sx reload --running
	eq "reload" "$RC" 0
	as $UA start --name rl2 --profile rotwo --ro "$f" -- true
	[ "$RC" != 0 ] || fail "a new start with the override was accepted"
	sx restart rl
	eq "restart" "$RC" 0
	wait_state rl running || fail "rl not running after restart"
	: >"$DSTATE/sandboxes/rl/output.log"
	sleep 1
	grep -q IASECRET "$DSTATE/sandboxes/rl/output.log" && fail "restart kept the denied file readable"
	grep -q '"deny"' "$DSTATE/sandboxes/rl/profile.toml" || fail "profile: $(cat "$DSTATE/sandboxes/rl/profile.toml")"
	cp "$T_TMP/ia.toml.orig" "$DPOL/ia.toml"
	sx reload
	sx rm --force rl
	sx rm --force rl2
}

# The owner's own Update tightening survives a restart when the profile did
# not change (the stored profile is no looser than the current version).
case_restart_keeps_owner_tightening()
{
	as $UA start --name kt --profile allownet -- sleep 30
	eq "start" "$RC" 0
	wait_state kt running || fail "kt not running"
	as $UA update --deny 192.0.2.1 kt
	eq "update" "$RC" 0
	as $UA restart kt
	eq "restart" "$RC" 0
	wait_state kt running || fail "kt not running after restart"
	grep -q '192.0.2.1' "$DSTATE/sandboxes/kt/profile.toml" || fail "deny lost: $(cat "$DSTATE/sandboxes/kt/profile.toml")"
	sx rm --force kt
}

# Update racing Restart: the owner sends Restart and, on a second connection,
# an Update right behind it. Whatever the interleaving, a tightening either
# lands in the profile the sandbox runs or is answered NotRunning, and a
# loosening is refused with nothing written.
case_update_races_restart()
{
	local i e
	as $UA start --name rr --profile allownet -- sleep 60
	eq "start" "$RC" 0
	wait_state rr running || fail "rr not running"
	for i in 1 2 3; do
		runuser -u $UA -- python3 - "$SOCK" "198.51.100.$i" >"$T_TMP/race.out" <<'EOF2'
import json, socket, sys
def call(m, p):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    s.sendall(json.dumps({"method": "org.sbx.Manager." + m, "parameters": p}).encode() + b"\0")
    return s
a = call("Restart", {"name": "rr", "timeout_ms": 500})
b = call("Update", {"name": "rr", "deny": [sys.argv[2]]})
c = call("Update", {"name": "rr", "allow": ["203.0.113.9"]})
for s in (b, c, a):
    s.settimeout(20)
    print(s.recv(65536).rstrip(b"\0").decode(), flush=True)
EOF2
		e=$(sed -n 1p "$T_TMP/race.out" | jq -r '.error // "ok"')
		case $e in
		ok) grep -q "198.51.100.$i" "$DSTATE/sandboxes/rr/profile.toml" ||
			fail "update $i replied ok but is not in the profile" ;;
		org.sbx.Manager.NotRunning) ;;
		*) fail "update $i: $(sed -n 1p "$T_TMP/race.out")" ;;
		esac
		eq "loosening $i" "$(sed -n 2p "$T_TMP/race.out" | jq -r .error)" org.sbx.Manager.PermissionDenied
		grep -q 203.0.113.9 "$DSTATE/sandboxes/rr/profile.toml" && fail "the loosening was written"
		wait_state rr running || fail "rr not running after restart $i"
	done
	sx rm --force rr
}

setup ia_setup
run_case writable_prefix_refused case_writable_prefix_refused
run_case caller_env_not_inherited case_caller_env_not_inherited
run_case update_landlock_deny_path case_update_landlock_deny_path
run_case update_deny_in_full case_update_deny_in_full
run_case restart_after_reload case_restart_after_reload
run_case restart_keeps_owner_tightening case_restart_keeps_owner_tightening
run_case update_races_restart case_update_races_restart
run_case sbxd_stops sbxd_stop
finish
