#!/bin/bash
# SPDX-License-Identifier: MIT
# Live policy changes through sbxd (docs/api.md "Update", sbx-update(1)):
# `sbx update` and `sbx reload --running` under traffic: a connect loop in
# the sandbox sees every connect allowed until the flip and refused with
# EPERM after it, never a mix; the owner may tighten, loosening is root's
# (PermissionDenied, api.denied); what cannot change live is refused and
# nothing is applied.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sbxd_lib.sh"

UO=sbxupd
CREATED_USER=""

_upd_cleanup()
{
	sbxd_stop
	[ -n "$CREATED_USER" ] && userdel "$CREATED_USER" 2>/dev/null
	_cleanup
}
trap _upd_cleanup EXIT

upd_setup()
{
	getent passwd $UO >/dev/null || { useradd -M -d / -s /usr/sbin/nologin $UO && CREATED_USER=$UO; } ||
		return 1
	start_listener PORT 127.0.0.1 tcp || return 1
	echo "$PORT" >"$T_TMP/port"
	write_profile
	sbxd_start
}

# the profile: the host provider, the loopback port allowed; $1 replaces
# the network lines (the reload case's new version)
write_profile()
{
	local net=$1
	[ -n "$net" ] || net="mode = \"allow\"
allow = [\"127.0.0.1:$(cat "$T_TMP/port")/tcp\", \"127.0.0.2\"]"
	cat >"$DPOL/upd.toml" <<EOF
version = 1
[profile.web]
provider = "host"
min_isolation = "none"
allow_users = ["$UO"]
timeout = "120s"
memory = "256M"
[profile.web.network]
$net
[profile.web.fs]
mode = "full"
EOF
}

# loop NAME AS: starts the connect loop as sandbox NAME (by user AS, or root)
loop()
{
	local cmd="while :; do $NETTOOL connect 127.0.0.1 $(cat "$T_TMP/port") tcp 2>&1 | head -1; sleep 0.01; done"
	if [ -n "$2" ]; then
		as "$2" start --name "$1" --profile web -- sh -c "$cmd"
	else
		sx start --name "$1" --profile web -- sh -c "$cmd"
	fi
	eq "start $1" "$RC" 0
	wait_state "$1" running || fail "$1 is not running"
}

# results NAME: the loop's results, one word per connect
results() { SBX_SOCKET=$SOCK "$SBX" logs "$1" | awk '{ print $1 }'; }
count() { results "$1" | grep -cx "$2"; }

# until_count NAME WORD N
until_count()
{
	local i
	for i in $(seq 400); do
		[ "$(count "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.05
	done
	fail "$1: fewer than $3 '$2' results: $(results "$1" | uniq -c | tr '\n' ' ')"
}

# flipped_once NAME: all ok, then all EPERM
flipped_once()
{
	local seq
	seq=$(results "$1" | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
	[[ "$seq" =~ ^ok:[0-9]+\ EPERM:[0-9]+\ $ ]] ||
		fail "$1: the connect results are not all-allow then all-deny: $seq"
}

case_update_flips_under_traffic()
{
	loop flip
	until_count flip ok 20
	sx update flip --deny "127.0.0.1:$(cat "$T_TMP/port")/tcp"
	[ "$RC" = 0 ] || fail "update: $(err)"
	until_count flip EPERM 20
	flipped_once flip
	sx status --json flip
	eq "policy_version" "$(out | jq .policy_version)" 1
	# the refusals' events name the entry of the new policy that decided
	# (its index 1; the old policy's entry 1 is 127.0.0.2)
	jq -c --arg id "$(out | jq -r .id)" 'select(.sandbox == $id and .event == "net.connect" and
		.verdict == "deny") | [.rule, .rule_index]' "$DAUDIT/audit.jsonl" | sort | uniq -c >"$T_TMP/rules"
	eq "deny events' rule" "$(awk '{ print $2 }' "$T_TMP/rules")" "[\"127.0.0.1:$(cat "$T_TMP/port")/tcp\",1]"
	sx rm --force flip
}

case_owner_tightens_root_loosens()
{
	local before
	loop owned $UO
	until_count owned ok 5
	# tightening: the owner may
	as $UO update owned --memory 128M
	eq "owner lowers memory" "$RC" 0
	sx status --json owned
	eq "memory in force" "$(out | jq .limits.memory)" $((128 << 20))
	# loosening: refused for the owner, with an api.denied line
	before=$(jq -c 'select(.event == "api.denied" and .method == "org.sbx.Manager.Update")' \
		"$DAUDIT/audit.jsonl" 2>/dev/null | wc -l)
	as $UO update owned --memory 512M
	eq "owner raises memory rc" "$RC" 1
	grep -q "memory" "$T_TMP/sx.err" || fail "message: $(err)"
	as $UO update owned --allow 127.0.0.3
	eq "owner adds an allow entry rc" "$RC" 1
	eq "api.denied lines" "$(jq -c 'select(.event == "api.denied" and .method == "org.sbx.Manager.Update")' \
		"$DAUDIT/audit.jsonl" | wc -l)" $((before + 2))
	sx status --json owned
	eq "memory unchanged by the refusals" "$(out | jq .limits.memory)" $((128 << 20))
	# root may loosen
	sx update owned --memory 512M
	eq "root raises memory" "$RC" 0
	sx status --json owned
	eq "memory raised" "$(out | jq .limits.memory)" $((512 << 20))
	eq "two updates" "$(out | jq .policy_version)" 2
	sx rm --force owned
}

case_what_cannot_change_is_refused()
{
	loop fixed
	until_count fixed ok 5
	# memory far below what the workload uses is refused, not an OOM kill
	sx update fixed --memory 4K
	eq "memory below usage rc" "$RC" 1
	sx status --json fixed
	eq "memory unchanged" "$(out | jq .limits.memory)" $((256 << 20))
	eq "still running" "$(out | jq -r .state)" running
	eq "no update counted" "$(out | jq .policy_version)" 0
	sx update fixed --memory lots
	eq "bad size rc" "$RC" 1
	grep -q "'lots' is not a size" "$T_TMP/sx.err" || fail "message: $(err)"
	sx update nosuch --memory 64M
	eq "no such sandbox rc" "$RC" 1
	sx rm --force fixed
}

case_reload_running_moves_atomically()
{
	loop moving
	until_count moving ok 20
	# a new version of the profile denies the port: reload alone changes
	# nothing for running sandboxes
	write_profile "mode = \"allow\"
deny = [\"127.0.0.1:$(cat "$T_TMP/port")/tcp\"]"
	sx reload
	[ "$RC" = 0 ] || fail "reload: $(err)"
	sleep 0.3
	eq "plain reload leaves it" "$(count moving EPERM)" 0
	sx reload --running
	[ "$RC" = 0 ] || fail "reload --running: $(err)"
	until_count moving EPERM 20
	flipped_once moving
	write_profile
	sx reload
	sx rm --force moving
}

case_reload_running_holds_owner_to_new_limits()
{
	loop capped $UO
	as $UO update capped --memory 200M
	eq "owner sets 200M" "$RC" 0
	# the administrator lowers the profile's memory below the owner's 200M
	sed -i 's/^memory = "256M"/memory = "128M"/' "$DPOL/upd.toml"
	sx reload --running
	[ "$RC" = 0 ] || fail "reload --running: $(err)"
	sx status --json capped
	eq "memory in force after the reload" "$(out | jq .limits.memory)" $((128 << 20))
	sed -i 's/^memory = "128M"/memory = "256M"/' "$DPOL/upd.toml"
	sx reload
	sx rm --force capped
}

setup upd_setup
run_case update_flips_under_traffic case_update_flips_under_traffic
run_case owner_tightens_root_loosens case_owner_tightens_root_loosens
run_case what_cannot_change_is_refused case_what_cannot_change_is_refused
run_case reload_running_moves_atomically case_reload_running_moves_atomically
run_case reload_running_holds_owner_to_new_limits case_reload_running_holds_owner_to_new_limits
run_case sbxd_stops sbxd_stop
finish
