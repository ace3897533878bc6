#!/bin/bash
# SPDX-License-Identifier: MIT
# sbxd's caller permissions (docs/api.md "Who may call what"), with real
# users that the file creates and removes: a profile's allow_users and
# allow_groups decide who runs it (no one listed: root only); a caller sees
# and controls its own sandboxes only, root and admin_groups all of them; an
# unprivileged caller may only tighten; every refusal is one api.denied line
# in the audit log with the caller's uid, the method and the reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sbxd_lib.sh"

UA=sbxpa UB=sbxpb UC=sbxpc GRP=sbxpg ADM=sbxpadm
CREATED_USERS="" CREATED_GROUPS=""

_perm_cleanup()
{
	local u g
	sbxd_stop
	for u in $CREATED_USERS; do userdel "$u" 2>/dev/null; done
	for g in $CREATED_GROUPS; do groupdel "$g" 2>/dev/null; done
	_cleanup
}
trap _perm_cleanup EXIT

mk_group() { getent group "$1" >/dev/null || { groupadd "$1" && CREATED_GROUPS="$CREATED_GROUPS $1"; }; }
mk_user()
{
	getent passwd "$1" >/dev/null && return 0
	useradd -M -d / -s /usr/sbin/nologin ${2:+-G "$2"} "$1" && CREATED_USERS="$CREATED_USERS $1"
}

perm_setup()
{
	command -v useradd >/dev/null || { echo "no useradd"; return 1; }
	mk_group $GRP && mk_group $ADM || return 1
	mk_user $UA && mk_user $UB $GRP && mk_user $UC $ADM || return 1
	cat >"$DPOL/perm.toml" <<EOF
version = 1
[profile.only_a]
allow_users = ["$UA"]
timeout = "60s"
memory = "256M"
pids = 64

[profile.by_group]
allow_groups = ["$GRP"]
timeout = "60s"

[profile.by_uid]
allow_users = ["$(id -u $UC)"]
timeout = "60s"

[profile.root_only]
timeout = "60s"

[profile.as_caller]
allow_users = ["$UA"]
user = "caller"
timeout = "60s"

[profile.noisy]
provider = "process"
allow_users = ["$UA"]
timeout = "60s"
[profile.noisy.network]
mode = "allow"
allow = ["192.0.2.1:80/tcp"]
EOF
	# a pool of a profile no file defines: no entries, and a reason that
	# names the policy (for administrators only)
	sbxd_start --admin-group $ADM --pool absent=1
}

# denied_lines UID METHOD: api.denied lines of uid for method in the audit log
denied_lines()
{
	jq -c --argjson u "$1" --arg m "org.sbx.Manager.$2" \
		'select(.event == "api.denied" and .uid == $u and .method == $m)' \
		"$DAUDIT/audit.jsonl" 2>/dev/null | wc -l
}

case_allowed_user_runs()
{
	as $UA run --profile only_a -- sh -c 'echo ran-as-$(id -u)'
	eq "rc" "$RC" 0
	out | grep -q '^ran-as-[0-9]*$' || fail "output: $(out) $(err)"
	# the workload never runs as the caller's uid or as root
	[ "$(out | sed 's/ran-as-//')" != "$(id -u $UA)" ] || fail "the workload ran as the caller"
	[ "$(out | sed 's/ran-as-//')" != 0 ] || fail "the workload ran as root"
}

case_other_user_refused()
{
	local before
	before=$(denied_lines "$(id -u $UB)" Run)
	as $UB run --profile only_a -- touch "$T_TMP/ran"
	[ "$RC" != 0 ] || fail "sbx run succeeded for $UB"
	grep -q "allow_users and allow_groups do not name the caller" "$T_TMP/sx.err" || fail "message: $(err)"
	[ -e "$T_TMP/ran" ] && fail "the workload ran"
	eq "api.denied lines" "$(denied_lines "$(id -u $UB)" Run)" $((before + 1))
	jq -e --argjson u "$(id -u $UB)" 'select(.event == "api.denied" and .uid == $u) |
		.pid > 0 and .parameter == "profile" and (.time | test("Z$"))' \
		"$DAUDIT/audit.jsonl" >/dev/null || fail "api.denied fields: $(tail -1 "$DAUDIT/audit.jsonl")"
}

case_group_and_uid_entries()
{
	# a supplementary group of the caller
	as $UB run --profile by_group -- true
	eq "by_group as $UB" "$RC" 0
	as $UA run --profile by_group -- true
	[ "$RC" != 0 ] || fail "by_group ran for $UA, who is not in $GRP"
	# a numeric uid in allow_users
	as $UC run --profile by_uid -- true
	eq "by_uid as $UC" "$RC" 0
}

case_unlisted_profile_is_root_only()
{
	local u
	for u in $UA $UB $UC; do
		as $u start --name "ro-$u" --profile root_only -- sleep 30
		[ "$RC" != 0 ] || fail "root_only started for $u"
		grep -q "do not name the caller" "$T_TMP/sx.err" || fail "$u: $(err)"
	done
	# the built-in default names no one either
	as $UA run -- true
	[ "$RC" != 0 ] || fail "the built-in default ran for $UA"
	eq "Start denials of $UA" "$(denied_lines "$(id -u $UA)" Start)" 1
	sx run --profile root_only -- true
	eq "root runs root_only" "$RC" 0
	as $UA ls --json
	eq "nothing was started" "$(out | jq '.sandboxes | length')" 0
}

case_owner_sees_only_its_own()
{
	as $UA start --name mine-a --profile only_a -- sleep 60
	eq "start a" "$RC" 0
	as $UB start --name mine-b --profile by_group -- sleep 60
	eq "start b" "$RC" 0
	wait_state mine-a running && wait_state mine-b running || fail "not running"
	as $UA ls --json
	eq "A's list" "$(out | jq -r '[.sandboxes[].name] | sort | join(",")')" "mine-a"
	as $UB ls --json
	eq "B's list" "$(out | jq -r '[.sandboxes[].name] | sort | join(",")')" "mine-b"
	# another's sandbox does not exist for B: status, logs, stop, kill, rm
	for v in "status mine-a" "logs mine-a" "stop mine-a" "kill mine-a" "rm --force mine-a"; do
		as $UB $v
		eq "B: sbx $v rc" "$RC" 1
		# (sbx kill also looks among direct-mode sandboxes, and says so)
		[[ "$(err)" == "sbx: error: no sandbox 'mine-a'"* ]] || fail "B: sbx $v message: $(err)"
	done
	eq "B's refusals about mine-a are audited" \
		"$(jq -c 'select(.event == "api.denied" and .name == "mine-a")' "$DAUDIT/audit.jsonl" | wc -l)" 5
	sx status --json mine-a
	eq "still running" "$(out | jq -r .state)" running
	# the admin group sees both and may stop A's
	as $UC ls --json
	eq "admin's list" "$(out | jq -r '[.sandboxes[].name] | sort | join(",")')" "mine-a,mine-b"
	as $UC stop mine-a
	eq "admin stops A's" "$RC" 0
	# root sees all; the owner stops its own
	sx ls --json
	eq "root's list" "$(out | jq -r '[.sandboxes[].name] | sort | join(",")')" "mine-a,mine-b"
	as $UB stop mine-b
	eq "B stops its own" "$RC" 0
	as $UB rm mine-b
	eq "B removes its own" "$RC" 0
	sx rm mine-a
	eq "root removes A's" "$RC" 0
}

case_only_tighten()
{
	local before
	before=$(denied_lines "$(id -u $UA)" Run)
	# the profile has memory 256M, pids 64, timeout 60s: more is refused
	for o in "--memory 1G" "--pids 1000" "--timeout 1h" "--net host" "--rw /etc"; do
		as $UA run --profile only_a $o -- true
		[ "$RC" != 0 ] || fail "'$o' was accepted for $UA"
	done
	eq "api.denied for the loosening overrides" "$(denied_lines "$(id -u $UA)" Run)" $((before + 5))
	# less is fine, and in force
	as $UA start --name tight --profile only_a --memory 64M --pids 16 -- sleep 60
	eq "tighten rc" "$RC" 0
	sx status --json tight
	eq "memory in force" "$(out | jq .limits.memory)" $((64 << 20))
	eq "pids in force" "$(out | jq .limits.pids)" 16
	sx rm --force tight
}

case_no_policy_file_no_reload()
{
	printf 'version = 1\n[profile.x]\nallow_users = ["%s"]\n' $UA >"$T_TMP/own.toml"
	chmod 644 "$T_TMP/own.toml"
	# a policy file of the caller's own is direct mode, which is root's
	as $UA run --policy "$T_TMP/own.toml" -- true
	[ "$RC" != 0 ] || fail "a non-root --policy ran"
	as $UA reload
	[ "$RC" != 0 ] || fail "reload by $UA succeeded"
	grep -q "only root and admin_groups may reload" "$T_TMP/sx.err" || fail "reload: $(err)"
	eq "Reload denial audited" "$(denied_lines "$(id -u $UA)" Reload)" 1
	as $UC reload --running
	[ "$RC" != 0 ] || fail "reload --running by an admin succeeded"
	sx reload
	eq "root reloads" "$RC" 0
}

# subscribe USER [NAME]: Subscribe as USER for 3 s; the events' names on stdout
subscribe()
{
	runuser -u "$1" -- python3 - "$SOCK" "${2:-}" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(0.5)
p = {"name": sys.argv[2]} if sys.argv[2] else {}
s.sendall(json.dumps({"method": "org.sbx.Manager.Subscribe", "parameters": p, "more": True}).encode() + b"\0")
buf, end = b"", time.time() + 3
while time.time() < end:
    try:
        c = s.recv(65536)
    except socket.timeout:
        continue
    if not c:
        break
    buf += c
    while b"\0" in buf:
        m, buf = buf.split(b"\0", 1)
        r = json.loads(m)
        if "error" in r:
            print("error", r["error"]); sys.exit(0)
        ev = r["parameters"]["event"]
        print(ev.get("event"), ev.get("sandbox", "-"), ev.get("verdict", "-"))
PY
}

case_subscribe_sees_own_events_only()
{
	local id
	# a workload whose connects the profile refuses: a stream of net.connect denials
	# (python3: the process provider's view of the host has /usr, not the build tree)
	as $UA start --name noisy --profile noisy -- sh -c "while :; do python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", 9))' 2>/dev/null; sleep 0.1; done"
	eq "start noisy" "$RC" 0
	wait_state noisy running || fail "noisy is not running"
	for i in $(seq 100); do
		id=$(SBX_SOCKET=$SOCK "$SBX" status --json noisy | jq -r '.id // empty')
		[ -n "$id" ] && break
		sleep 0.05
	done
	subscribe $UA noisy >"$T_TMP/sub.a"
	grep -q "^net.connect $id deny$" "$T_TMP/sub.a" || fail "the owner saw no denial of $id: $(head -3 "$T_TMP/sub.a")"
	[ -z "$(awk -v id="$id" '$2 != id' "$T_TMP/sub.a")" ] || fail "other events in the owner's stream: $(head -3 "$T_TMP/sub.a")"
	# another user: all it may see is nothing; by name, no such sandbox
	subscribe $UB >"$T_TMP/sub.b"
	[ -s "$T_TMP/sub.b" ] && fail "$UB saw events: $(head -3 "$T_TMP/sub.b")"
	subscribe $UB noisy >"$T_TMP/sub.b2"
	eq "$UB subscribing to noisy" "$(cat "$T_TMP/sub.b2")" "error org.sbx.Manager.NoSuchSandbox"
	# an admin sees them
	subscribe $UC >"$T_TMP/sub.c"
	grep -q "^net.connect $id deny$" "$T_TMP/sub.c" || fail "the admin saw no denial: $(head -3 "$T_TMP/sub.c")"
	sx rm --force noisy
}

case_user_caller_is_the_api_caller()
{
	as $UA run --profile as_caller -- id -u
	eq "rc" "$RC" 0
	eq "the workload runs as the API's caller" "$(out)" "$(id -u $UA)"
}

setup perm_setup
# Pools(): every caller sees the figures, only an administrator the reason
# (it names policy files and their errors)
case_pool_reasons_for_admins_only()
{
	as $UA status --json
	eq "status as $UA" "$RC" 0
	eq "pool seen by $UA" "$(jq -r '.pools[] | select(.profile == "absent") | "\(.size) \(.ready)"' "$T_TMP/sx.out")" "1 0"
	eq "reason shown to $UA" "$(jq -r '.pools[] | select(.profile == "absent") | .reason // "none"' "$T_TMP/sx.out")" none
	as $UC status --json
	eq "status as $UC" "$RC" 0
	case $(jq -r '.pools[] | select(.profile == "absent") | .reason // "none"' "$T_TMP/sx.out") in
	*"no profile 'absent'"*) ;;
	*) fail "the administrator $UC sees no reason: $(out)" ;;
	esac
}

run_case allowed_user_runs case_allowed_user_runs
run_case other_user_refused case_other_user_refused
run_case group_and_uid_entries case_group_and_uid_entries
run_case unlisted_profile_is_root_only case_unlisted_profile_is_root_only
run_case owner_sees_only_its_own case_owner_sees_only_its_own
run_case only_tighten case_only_tighten
run_case no_policy_file_no_reload case_no_policy_file_no_reload
run_case subscribe_sees_own_events_only case_subscribe_sees_own_events_only
run_case user_caller_is_the_api_caller case_user_caller_is_the_api_caller
run_case pool_reasons_for_admins_only case_pool_reasons_for_admins_only
run_case sbxd_stops sbxd_stop
finish
