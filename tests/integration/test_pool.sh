#!/bin/bash
# SPDX-License-Identifier: MIT
# sbxd's warm pools (docs/daemon.md, "Warm pools"): a pool fills to N, a
# start takes an entry (a hit) and the pool refills, misses and hits are in
# the metrics and the Sandbox object, concurrent starts get distinct
# entries, a pooled sandbox is enforced and starts from clean state, a
# changed profile drains the pool, and a stopped sbxd leaves nothing.
# Each case starts its own sbxd with the pools and stops it (the entries
# hold cgroups and slots, which the per-case leftover check would see).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sbxd_lib.sh"

write_pool_policy()
{
	cat >"$DPOL/pool.toml" <<EOF
version = 1
[profile.pl]
provider = "process"
timeout = "${1:-120s}"
[profile.pl.network]
mode = "allow"
allow = ["192.0.2.10:443/tcp"]
[profile.cold]
provider = "process"
timeout = "120s"
EOF
}

# pool_up N: sbxd with pool.pl = N and pool.cold = 0, stopped when the case ends
pool_up()
{
	write_pool_policy
	T_CASE_RESTORE="sbxd_stop"
	sbxd_start --pool "pl=$1" --pool cold=0 || fail "sbxd did not start"
}

jst() { SBX_SOCKET=$SOCK "$SBX" status --json "$1" | jq -r "$2"; }

case_fills_and_refills()
{
	pool_up 2
	pool_wait_ready pl 2
	eq "entries" "$(pool_entries pl | wc -l)" 2
	sx run --profile pl -- sh -c 'echo ran; exit 3'
	eq "run exit" "$RC" 3
	eq "run output" "$(out)" "ran"
	eq "hits" "$(pool_metric sbx_pool_hits_total pl)" 1
	eq "misses" "$(pool_metric sbx_pool_misses_total pl)" 0
	pool_wait_ready pl 2
	sx start --name a --profile pl -- sleep 60
	eq "start" "$RC" 0
	wait_state a running || fail "a is not running"
	eq "a pooled" "$(jst a .pooled)" true
	eq "hits" "$(pool_metric sbx_pool_hits_total pl)" 2
	sx rm --force a
	eq "rm" "$RC" 0
}

# sbx status without a name: each pool's size, ready entries, hits, misses
# and failures, as text and JSON, and why a profile has no pool.
pst() { jq -r --arg p "$1" ".pools[] | select(.profile == \$p) | $2" "$T_TMP/sx.out"; }

case_status_shows_pools()
{
	write_pool_policy
	T_CASE_RESTORE="sbxd_stop"
	sbxd_start --pool pl=2 --pool cold=0 --pool absent=1 || fail "sbxd did not start"
	pool_wait_ready pl 2
	sx run --profile pl -- true
	eq "pooled run" "$RC" 0
	sx run --profile cold -- true
	eq "cold run" "$RC" 0
	pool_wait_ready pl 2
	sx status --json
	eq "status --json" "$RC" 0
	eq "pl size" "$(pst pl .size)" 2
	eq "pl ready" "$(pst pl .ready)" 2
	eq "pl hits" "$(pst pl .hits)" 1
	eq "pl misses" "$(pst pl .misses)" 0
	eq "pl failures" "$(pst pl .failures)" 0
	eq "pl reason" "$(pst pl '.reason // "none"')" none
	eq "cold misses" "$(pst cold .misses)" 1
	eq "absent ready" "$(pst absent .ready)" 0
	case $(pst absent .reason) in
	*"no profile 'absent'"*) ;;
	*) fail "absent's reason: $(pst absent .reason)" ;;
	esac
	sx status
	eq "status" "$RC" 0
	grep -Eq '^pl +2 +2 +1 +0 +0$' "$T_TMP/sx.out" || fail "no pl row: $(out)"
	grep -Eq '^cold +0 +0 +0 +1 +0$' "$T_TMP/sx.out" || fail "no cold row: $(out)"
	grep -q "no pool: no profile 'absent'" "$T_TMP/sx.out" || fail "no reason for absent: $(out)"
}

# A start that is not the pool's key is cold and counts as no hit; a start
# of a pool of 0 is a miss.
case_misses_and_other_keys()
{
	pool_up 1
	pool_wait_ready pl 1
	sx run --profile cold -- true
	eq "cold run" "$RC" 0
	eq "cold misses" "$(pool_metric sbx_pool_misses_total cold)" 1
	eq "cold hits" "$(pool_metric sbx_pool_hits_total cold)" 0
	sx start --name o --profile pl --memory 200M -- sleep 60
	eq "start with an override" "$RC" 0
	wait_state o running || fail "o is not running"
	eq "override pooled" "$(jst o .pooled)" false
	eq "override limit" "$(jst o .limits.memory)" $((200 << 20))
	eq "pl hits" "$(pool_metric sbx_pool_hits_total pl)" 0
	eq "pl misses" "$(pool_metric sbx_pool_misses_total pl)" 0
	eq "pl ready" "$(pool_metric sbx_pool_ready pl)" 1
	sx rm --force o
}

# Starts at once: each gets its own entry (or a cold start), never one twice.
case_concurrent_starts_distinct()
{
	local n ids pids i starters=""
	pool_up 2
	pool_wait_ready pl 2
	for i in 1 2 3 4; do
		SBX_SOCKET=$SOCK "$SBX" start --name "c$i" --profile pl -- sleep 60 >/dev/null 2>&1 &
		starters="$starters $!"
	done
	wait $starters
	for i in 1 2 3 4; do
		wait_state "c$i" running || fail "c$i is not running"
	done
	for i in 1 2 3 4; do
		wait_status "c$i" '.id != ""' true || fail "c$i has no id"
	done
	ids=$(for i in 1 2 3 4; do jst "c$i" .id; done | sort -u | wc -l)
	eq "distinct sandbox ids" "$ids" 4
	pids=$(for i in 1 2 3 4; do jst "c$i" .pid; done | sort -u | wc -l)
	eq "distinct workload pids" "$pids" 4
	n=$(for i in 1 2 3 4; do jst "c$i" .pooled; done | grep -c true)
	eq "pooled starts = hits" "$n" "$(pool_metric sbx_pool_hits_total pl)"
	[ "$n" -ge 1 ] && [ "$n" -le 4 ] || fail "$n pooled starts"
	for i in 1 2 3 4; do sx rm --force "c$i"; done
}

# The profile holds in a pooled sandbox: a connect outside the allow list is
# EPERM, with a deny event that names the sandbox's id.
case_pooled_policy_enforced()
{
	local id
	pool_up 1
	pool_wait_ready pl 1
	sx start --name e --profile pl -- bash -c 'exec 3<>/dev/tcp/127.0.0.1/9; sleep 60' 
	eq "start" "$RC" 0
	wait_state e running || fail "e is not running"
	eq "pooled" "$(jst e .pooled)" true
	for i in $(seq 200); do
		grep -q "not permitted" "$DSTATE/sandboxes/e/output.log" 2>/dev/null && break
		sleep 0.05
	done
	grep -q "Operation not permitted" "$DSTATE/sandboxes/e/output.log" ||
		fail "connect was not EPERM: $(cat "$DSTATE/sandboxes/e/output.log")"
	id=$(jst e .id)
	[ -n "$id" ] || fail "no id"
	for i in $(seq 100); do
		jq -se --arg id "$id" 'map(select(.sandbox == $id and .event == "net.connect" and
			.verdict == "deny")) | length > 0' "$DAUDIT/audit.jsonl" >/dev/null 2>&1 && break
		sleep 0.05
	done
	jq -se --arg id "$id" 'map(select(.sandbox == $id and .event == "net.connect" and
		.verdict == "deny")) | length > 0' "$DAUDIT/audit.jsonl" >/dev/null ||
		fail "no net.connect deny event of $id: $(tail -c 500 "$DAUDIT/audit.jsonl")"
	eq "connect_denied" "$(jst e .counters.connect_denied)" 1
	sx rm --force e
}

# What one pooled sandbox did is not seen by the next: its /tmp, its
# counters, its processes.
case_pooled_state_fresh()
{
	pool_up 1
	pool_wait_ready pl 1
	sx run --profile pl -- bash -c 'echo secret >/tmp/mark; cat /tmp/mark; exec 3<>/dev/tcp/127.0.0.1/9'
	eq "first sandbox wrote its /tmp" "$(out)" secret
	grep -q "Operation not permitted" "$T_TMP/sx.err" || fail "first connect: $(err)"
	eq "first hits" "$(pool_metric sbx_pool_hits_total pl)" 1
	pool_wait_ready pl 1
	sx start --name b --profile pl -- sh -c 'ls -A /tmp; ls /proc | grep -c "^[0-9]"; sleep 60'
	eq "start b" "$RC" 0
	wait_state b running || fail "b is not running"
	eq "b pooled" "$(jst b .pooled)" true
	wait_status b '.counters != null' true || fail "b has no counters"
	eq "b connect_denied" "$(jst b .counters.connect_denied)" 0
	eq "b denials" "$(jst b .counters.denials)" 0
	for i in $(seq 100); do
		[ "$(wc -l <"$DSTATE/sandboxes/b/output.log" 2>/dev/null)" -ge 1 ] && break
		sleep 0.05
	done
	grep -q mark "$DSTATE/sandboxes/b/output.log" && fail "b sees the first sandbox's /tmp/mark"
	# sh, ls and grep of its own: nothing of the first sandbox
	n=$(tail -1 "$DSTATE/sandboxes/b/output.log")
	[ "$n" -le 4 ] || fail "b sees $n processes: $(cat "$DSTATE/sandboxes/b/output.log")"
	sx rm --force b
}

# A changed profile drains the old entries; new ones carry the new profile.
case_reload_drains()
{
	local old
	pool_up 2
	pool_wait_ready pl 2
	old=$(pool_entries pl)
	write_pool_policy 77s
	sx reload
	eq "reload" "$RC" 0
	for _ in $(seq 300); do
		for p in $old; do kill -0 "$p" 2>/dev/null && { sleep 0.1; continue 2; }; done
		break
	done
	for p in $old; do kill -0 "$p" 2>/dev/null && fail "old entry $p still runs"; done
	pool_wait_ready pl 2
	grep -q 'timeout = "1m17s"' "$DSTATE/pool/pl.toml" ||
		fail "the pool's profile is not the new one: $(cat "$DSTATE/pool/pl.toml")"
	sx start --name r --profile pl -- sleep 60
	wait_state r running || fail "r is not running"
	eq "r pooled" "$(jst r .pooled)" true
	eq "r timeout" "$(jst r .limits.timeout)" 77000ms
	sx rm --force r
}

# sbxd's stop tears the entries down: no monitor, cgroup or slot is left
# (the leftover check after each case looks at cgroups and slots).
case_stop_leaves_nothing()
{
	pool_up 3
	pool_wait_ready pl 3
	sbxd_stop
	[ -z "$(pool_entries pl)" ] || fail "entries still run: $(pool_entries pl | tr '\n' ' ')"
	[ -z "$(leftovers)" ] || fail "left: $(leftovers)"
}

run_case fills_and_refills case_fills_and_refills
run_case status_shows_pools case_status_shows_pools
run_case misses_and_other_keys case_misses_and_other_keys
run_case concurrent_starts_distinct case_concurrent_starts_distinct
run_case pooled_policy_enforced case_pooled_policy_enforced
run_case pooled_state_fresh case_pooled_state_fresh
run_case reload_drains case_reload_drains
run_case stop_leaves_nothing case_stop_leaves_nothing
finish
