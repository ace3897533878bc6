#!/bin/bash
# SPDX-License-Identifier: MIT
# An unprivileged local user against sbxd's API (the socket is mode 0666):
# real users that the file creates and removes, one private daemon. Each
# case is an attack; those that once worked are fixed, those that never did
# stay as regression tests asserting the error and the api.denied line.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sbxd_lib.sh"

UA=sbxka UB=sbxkb
CREATED_USERS=""
VL=$T_TMP/vl.py
# outside /tmp: the process provider's /tmp is its own
LOCKED=/var/lib/sbxatk.$$

_atk_cleanup()
{
	local u
	sbxd_stop
	for u in $CREATED_USERS; do userdel "$u" 2>/dev/null; done
	rm -rf "$LOCKED"
	_cleanup
}
trap _atk_cleanup EXIT

mk_user()
{
	getent passwd "$1" >/dev/null && return 0
	useradd -M -d / -s /usr/sbin/nologin "$1" && CREATED_USERS="$CREATED_USERS $1"
}

atk_setup()
{
	command -v useradd >/dev/null || { echo "no useradd"; return 1; }
	command -v python3 >/dev/null || { echo "no python3"; return 1; }
	mk_user $UA && mk_user $UB || return 1
	cat >"$DPOL/atk.toml" <<EOF
version = 1
[profile.both]
allow_users = ["$UA", "$UB"]
timeout = "60s"
memory = "256M"
pids = 64

# the host read-only: only the file modes keep other users' files
[profile.rohost]
allow_users = ["$UA", "$UB"]
provider = "process"
timeout = "60s"
[profile.rohost.fs]
mode = "read-only"
EOF
	# a directory no one but root may search, with an open one below
	mkdir -p "$LOCKED/open" && chmod 700 "$LOCKED" && chmod 755 "$LOCKED/open"
	echo TOPSECRET >"$LOCKED/open/secret" && chmod 644 "$LOCKED/open/secret"
	# vl.py SOCK METHOD JSON [more]: one raw call, every reply a line
	cat >"$VL" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
m = {"method": "org.sbx.Manager." + sys.argv[2], "parameters": json.loads(sys.argv[3])}
if len(sys.argv) > 4: m["more"] = True
s.sendall(json.dumps(m).encode() + b"\0")
buf = b""
s.settimeout(float(sys.argv[5]) if len(sys.argv) > 5 else 20)
try:
    while True:
        while b"\0" in buf:
            msg, buf = buf.split(b"\0", 1)
            print(msg.decode(), flush=True)
            if not json.loads(msg).get("continues"): sys.exit(0)
        c = s.recv(65536)
        if not c: break
        buf += c
except socket.timeout:
    pass
EOF
	chmod 644 "$VL"
	sbxd_start --max-sandboxes 8 --max-sandboxes-per-user 3
}

# vas USER METHOD JSON [more [timeout]]: a raw call as USER, replies in sx.out
vas()
{
	local u=$1
	shift
	runuser -u "$u" -- python3 "$VL" "$SOCK" "$@" >"$T_TMP/sx.out" 2>"$T_TMP/sx.err"
	RC=$?
}

error_of() { jq -r '.error // empty' "$T_TMP/sx.out" | head -1; }

denied_lines()
{
	jq -c --argjson u "$1" --arg m "org.sbx.Manager.$2" \
		'select(.event == "api.denied" and .uid == $u and .method == $m)' \
		"$DAUDIT/audit.jsonl" 2>/dev/null | wc -l
}

# One user cannot use up the registry that every user shares: exited
# sandboxes stay until removed, so on main a loop of `sbx start -- true`
# filled max_sandboxes and nobody else could start anything.
case_per_user_cap()
{
	local i before
	for i in 1 2 3; do
		as $UA start --name "capa$i" --profile both -- true
		[ "$RC" = 0 ] || fail "start capa$i: $(err)"
	done
	before=$(denied_lines "$(id -u $UA)" Start)
	vas $UA Start '{"name": "capa4", "profile": "both", "command": ["true"]}'
	eq "4th start" "$(error_of)" org.sbx.Manager.PermissionDenied
	grep -q 'max_sandboxes_per_user = 3' "$T_TMP/sx.out" || fail "reason: $(out)"
	eq "api.denied" "$(denied_lines "$(id -u $UA)" Start)" $((before + 1))
	# Run counts too (it is a sandbox while it runs)
	vas $UA Run '{"profile": "both", "command": ["true"]}'
	eq "run over the cap" "$(error_of)" org.sbx.Manager.PermissionDenied
	# the other user is not affected, nor root
	as $UB start --name capb1 --profile both -- true
	eq "other user starts" "$RC" 0
	sx start --name capr1 --profile both -- true
	eq "root starts" "$RC" 0
	# removing frees the slot
	as $UA rm capa1
	eq "rm" "$RC" 0
	as $UA start --name capa4 --profile both -- true
	eq "start after rm" "$RC" 0
	for i in capa2 capa3 capa4 capb1 capr1; do sx rm --force $i; done
}

# The setting is checked like the others.
case_per_user_cap_setting()
{
	"$SBXD" --check-config --policy-dir "$DPOL" --state-dir "$T_TMP/cc" \
		--max-sandboxes-per-user 0 >"$T_TMP/cc.out" 2>&1
	[ $? != 0 ] || fail "--max-sandboxes-per-user 0 accepted"
	grep -q "max_sandboxes_per_user" "$T_TMP/cc.out" || fail "message: $(cat "$T_TMP/cc.out")"
	printf 'max_sandboxes_per_user = "x"\n' >"$T_TMP/bad.toml"
	"$SBXD" --check-config -c "$T_TMP/bad.toml" --policy-dir "$DPOL" \
		--state-dir "$T_TMP/cc" >"$T_TMP/cc.out" 2>&1
	[ $? != 0 ] || fail "a string max_sandboxes_per_user accepted"
	grep -q "max_sandboxes_per_user must be an integer" "$T_TMP/cc.out" || fail "message: $(cat "$T_TMP/cc.out")"
}

# cwd into a directory under one the caller cannot search: the monitor
# (root) changed into it, and `cat secret` read past the 0700 parent. On
# main: TOPSECRET. Also through a symlink of the caller's own.
case_cwd_below_locked_dir()
{
	local before
	runuser -u $UA -- cat "$LOCKED/open/secret" >/dev/null 2>&1 && fail "the caller reads it anyway"
	before=$(denied_lines "$(id -u $UA)" Run)
	as $UA run --profile rohost --cwd "$LOCKED/open" -- sh -c 'cat secret; true'
	out | grep -q TOPSECRET && fail "the workload read the secret through its cwd"
	[ "$RC" != 0 ] || fail "ran: $(out)"
	grep -q "overrides.cwd.*Permission denied (resolved as the caller)" "$T_TMP/sx.err" || fail "err: $(err)"
	mkdir -p "$T_TMP/own_$UA" && chown $UA "$T_TMP/own_$UA"
	ln -sfn "$LOCKED/open" "$T_TMP/own_$UA/l"
	vas $UA Run "{\"profile\": \"rohost\", \"command\": [\"true\"], \"overrides\": {\"cwd\": \"$T_TMP/own_$UA/l\"}}"
	eq "symlinked cwd" "$(error_of)" org.sbx.Manager.PermissionDenied
	eq "api.denied" "$(denied_lines "$(id -u $UA)" Run)" $((before + 2))
	# a cwd the caller may enter still works, by its real path
	ln -sfn /tmp "$T_TMP/own_$UA/t"
	as $UA run --profile rohost --cwd "$T_TMP/own_$UA/t" -- pwd
	eq "own cwd rc" "$RC" 0
	eq "own cwd" "$(out)" /tmp
}

# ro, rw and exec paths resolved by root told a caller whether a file exists
# in a directory it cannot read: the errors differ. Resolved as the caller,
# an existing and a missing file there get the same refusal.
case_path_oracle()
{
	local k e1 e2
	for k in ro rw exec; do
		vas $UA Run "{\"profile\": \"rohost\", \"command\": [\"true\"], \"overrides\": {\"$k\": [\"$LOCKED/open/secret\"]}}"
		e1=$(jq -c '.parameters.reason' "$T_TMP/sx.out" | sed 's/secret/X/')
		eq "$k existing" "$(error_of)" org.sbx.Manager.PermissionDenied
		vas $UA Run "{\"profile\": \"rohost\", \"command\": [\"true\"], \"overrides\": {\"$k\": [\"$LOCKED/open/nothing\"]}}"
		e2=$(jq -c '.parameters.reason' "$T_TMP/sx.out" | sed 's/nothing/X/')
		eq "$k missing" "$(error_of)" org.sbx.Manager.PermissionDenied
		eq "$k: the same answer" "$e1" "$e2"
	done
	# wrong types are still the overrides' own errors
	vas $UA Run '{"profile": "rohost", "command": ["true"], "overrides": {"ro": "/etc"}}'
	eq "ro as a string" "$(error_of)" org.sbx.Manager.InvalidParameter
	vas $UA Run '{"profile": "rohost", "command": ["true"], "overrides": {"ro": [1], "cwd": 5}}'
	eq "numbers" "$(error_of)" org.sbx.Manager.InvalidParameter
	vas $UA Run '{"profile": "rohost", "command": ["true"], "overrides": {"ro": [null], "cwd": null}}'
	eq "nulls" "$(error_of)" org.sbx.Manager.InvalidParameter
}

setup atk_setup
run_case per_user_cap case_per_user_cap
run_case per_user_cap_setting case_per_user_cap_setting
run_case cwd_below_locked_dir case_cwd_below_locked_dir
run_case path_oracle case_path_oracle
run_case sbxd_stops sbxd_stop
finish
