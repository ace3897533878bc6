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

_atk_cleanup()
{
	local u
	sbxd_stop
	for u in $CREATED_USERS; do userdel "$u" 2>/dev/null; done
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
EOF
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
	grep -q "max_sandboxes_per_user: 'x' is not a number" "$T_TMP/cc.out" || fail "message: $(cat "$T_TMP/cc.out")"
}

setup atk_setup
run_case per_user_cap case_per_user_cap
run_case per_user_cap_setting case_per_user_cap_setting
run_case sbxd_stops sbxd_stop
finish
