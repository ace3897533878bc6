#!/bin/bash
# SPDX-License-Identifier: MIT
# Attacks on sbxd's warm pools (docs/api.md, "Warm pools"). A pool entry is
# a sandbox built for root's start of one profile before anyone asked for
# it; what could go wrong:
# - another caller gets root's entry (its identity is part of the key);
# - a start with overrides gets an entry built without them (applied after
#   the fact, or not at all);
# - a workload reaches the go socket (its own, or a waiting entry's) and
#   hands itself or a neighbour a command, or sees a waiting entry at all;
# - an entry is handed out twice, or a drained one runs something;
# - a held entry (its init and view built before the go) runs the command
#   less confined than a cold start, or with something of the init's;
# - the Run's answer, which comes before the teardown, comes while a
#   process of the sandbox still runs, or the next Run sees its leftovers;
# - a held entry whose init was killed is handed out, or not replaced;
# - a profile whose filter or descriptor limit refuses what taking the
#   command needs cannot be pooled, or is pooled without them.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sbxd_lib.sh"

# pl is pooled; plcold, the same profile under another name, never is
pool_up()
{
	local n
	echo "version = 1" >"$DPOL/pool.toml"
	for n in pl plcold; do
		cat >>"$DPOL/pool.toml" <<EOF
[profile.$n]
provider = "process"
timeout = "120s"
allow_users = ["nobody"]
[profile.$n.network]
mode = "none"
EOF
	done
	T_CASE_RESTORE="sbxd_stop"
	sbxd_start --pool "pl=$1" || fail "sbxd did not start"
}

jst() { SBX_SOCKET=$SOCK "$SBX" status --json "$1" | jq -r "$2"; }

# Root's entries are never another caller's, nor a start with overrides.
case_other_caller_and_overrides_cold()
{
	pool_up 1
	pool_wait_ready pl 1
	as nobody start --name n1 --profile pl -- sleep 60
	eq "nobody's start" "$RC" 0
	wait_state n1 running || fail "n1 is not running: $(err)"
	eq "nobody's sandbox pooled" "$(jst n1 .pooled)" false
	as nobody run --profile pl -- id -u
	eq "nobody's run" "$RC" 0
	sx start --name o1 --profile pl --pids 20 -- sleep 60
	wait_state o1 running || fail "o1 is not running"
	eq "override pooled" "$(jst o1 .pooled)" false
	eq "override pids" "$(jst o1 .limits.pids)" 20
	eq "hits" "$(pool_metric sbx_pool_hits_total pl)" 0
	eq "the entry still waits" "$(pool_metric sbx_pool_ready pl)" 1
	sx rm --force n1 o1
}

# The workload holds no go socket, has no SBX_POOL_FD, and cannot see or
# signal the entries that wait (they are outside its pid namespace).
case_workload_cannot_reach_entries()
{
	local others
	pool_up 2
	pool_wait_ready pl 2
	others=$(pool_entries pl | tr '\n' ' ')
	sx run --profile pl -- bash -c "
		for f in /proc/self/fd/*; do l=\$(readlink \$f); case \$l in socket:*) echo sock \$l;; esac; done
		env | grep -c SBX_POOL_FD
		for p in $others; do kill -0 \$p 2>/dev/null && echo reached \$p; done
		true"
	eq "run" "$RC" 0
	eq "hit" "$(pool_metric sbx_pool_hits_total pl)" 1
	grep -q '^sock' "$T_TMP/sx.out" && fail "the workload holds a socket: $(out)"
	grep -q '^reached' "$T_TMP/sx.out" && fail "the workload reached a waiting entry: $(out)"
	eq "SBX_POOL_FD in the workload's environment" "$(head -1 "$T_TMP/sx.out")" 0
}

# A handed-out monitor keeps its go socket only to say it is done (it reads
# no second go); sbxd holds one per waiting entry and one per running
# pooled sandbox (its done byte), none more.
case_handed_out_once()
{
	local mon n
	pool_up 1
	pool_wait_ready pl 1
	sx start --name h --profile pl -- sleep 60
	wait_state h running || fail "h is not running"
	eq "pooled" "$(jst h .pooled)" true
	# h's monitor: the sandbox's manager in sbx ps, a pool entry's command line
	wait_status h '.id != ""' true || fail "h has no id"
	mon=$("$SBX" ps --json | jq -r --arg id "$(jst h .id)" '.sandboxes[] | select(.id == $id) | .manager_pid')
	[ -n "$mon" ] || fail "no manager pid for h"
	pool_entries pl | grep -qx "$mon" || fail "h's monitor $mon is not a pool entry's"
	n=$(ss -xp 2>/dev/null | grep "pid=$mon," | grep -c '^u_seq')
	eq "go sockets of the handed-out monitor" "$n" 1
	pool_wait_ready pl 1
	n=$(ss -xp 2>/dev/null | grep "pid=$SBXD_PID," | grep -c '^u_seq')
	eq "sbxd's go sockets (one waiting entry, h's done)" "$n" 2
	sx rm --force h
}

# Drained entries run nothing: after a reload that changes the profile,
# sandbox.start events are those of the starts made, no more.
case_drained_entries_run_nothing()
{
	local old i starts before
	before=$(cat "$DAUDIT/audit.jsonl" 2>/dev/null | wc -l)
	pool_up 2
	pool_wait_ready pl 2
	old=$(pool_entries pl)
	sed -i 's/timeout = "120s"/timeout = "90s"/' "$DPOL/pool.toml"
	sx reload
	eq "reload" "$RC" 0
	for i in $(seq 300); do
		for p in $old; do kill -0 "$p" 2>/dev/null && { sleep 0.1; continue 2; }; done
		break
	done
	pool_wait_ready pl 2
	sx run --profile pl -- true
	eq "run" "$RC" 0
	starts=$(tail -n +$((before + 1)) "$DAUDIT/audit.jsonl" |
		jq -s '[.[] | select(.event == "sandbox.start")] | length')
	eq "sandbox.start events" "$starts" 1
	eq "hits" "$(pool_metric sbx_pool_hits_total pl)" 1
}

# What the workload of a held entry is, against a cold start of the same
# profile: identity, capabilities, no_new_privs, seccomp, its descriptors,
# its view (mount points) and its PID 1. Nothing of the init's reaches it.
# (the uid is the slot's lease, and sbx-init's arguments its descriptor
# numbers: both differ from one sandbox to the next)
confinement='grep -E "^(Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp|Seccomp_filters):" /proc/self/status
awk "/^(Uid|Gid):/ { print \$1, (\$2 != 0 && \$2 == \$3 && \$3 == \$4 && \$4 == \$5) }" /proc/self/status
ls /proc/self/fd | sort -n | tr "\n" " "; echo
awk "{print \$5, \$6}" /proc/self/mountinfo | sort
tr "\0" "\n" </proc/1/cmdline | head -1
cat /proc/1/environ 2>&1 | head -c 100 | grep -c SBX_ || true'

case_held_as_confined_as_cold()
{
	local cold
	pool_up 1
	pool_wait_ready pl 1
	sx run --profile plcold -- sh -c "$confinement"
	eq "cold run" "$RC" 0
	cold=$(out)
	sx run --profile pl -- sh -c "$confinement"
	eq "pooled run" "$RC" 0
	eq "hit" "$(pool_metric sbx_pool_hits_total pl)" 1
	[ "$(out)" = "$cold" ] || fail "the held entry's workload differs from a cold one's:
$(diff <(echo "$cold") <(out))"
	grep -q '^Seccomp:[[:space:]]*2' "$T_TMP/sx.out" || fail "no seccomp filter: $(out)"
	grep -q '^NoNewPrivs:[[:space:]]*1' "$T_TMP/sx.out" || fail "no no_new_privs: $(out)"
	grep -q '^CapEff:[[:space:]]*0*$' "$T_TMP/sx.out" || fail "capabilities: $(out)"
}

# The Run is answered before the teardown, but only once every process of
# the sandbox is gone: a daemonized child of the workload is dead when sbx
# run returns, and the next Run (another entry) sees nothing of the first.
case_answer_after_every_process()
{
	# a sleep whose argument names it
	local tag=3000.$$$RANDOM
	pool_up 2
	pool_wait_ready pl 2
	sx run --profile pl -- sh -c "setsid sleep $tag </dev/null >/dev/null 2>&1 &
		echo left >/tmp/leftover; echo left >/dev/shm/leftover
		while ! pgrep -f '^sleep $tag' >/dev/null; do sleep 0.05; done; exit 0"
	eq "first run" "$RC" 0
	pgrep -f -- "sleep $tag" >/dev/null && fail "a process of the answered Run still runs: $(pgrep -af -- "sleep $tag")"
	sx run --profile pl -- sh -c "ls /tmp /dev/shm; pgrep -f 'sleep $tag' || true; ps -e -o pid= | wc -l"
	eq "second run" "$RC" 0
	eq "hits" "$(pool_metric sbx_pool_hits_total pl)" 2
	grep -q leftover "$T_TMP/sx.out" && fail "the next Run sees the first one's files: $(out)"
	# ps, sh and PID 1 only
	[ "$(tail -1 "$T_TMP/sx.out")" -le 4 ] || fail "the next Run sees other processes: $(out)"
}

# A held entry whose init is killed before the go fails before it is handed
# out: sbxd counts the failure, replaces it, and the next Run is a hit on a
# fresh entry.
case_killed_held_init_replaced()
{
	local mon init i
	pool_up 1
	pool_wait_ready pl 1
	mon=$(pool_entries pl)
	init=$(pgrep -P "$mon" | head -1)
	[ -n "$init" ] || fail "entry $mon holds no init"
	kill -9 "$init"
	for i in $(seq 300); do
		kill -0 "$mon" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$mon" 2>/dev/null && fail "the entry $mon outlived its init"
	pool_wait_ready pl 1
	eq "failures" "$(pool_metric sbx_pool_failures_total pl)" 1
	[ "$(pool_entries pl)" != "$mon" ] || fail "the entry was not replaced"
	sx run --profile pl -- sh -c 'echo fresh; exit 5'
	eq "run on the replacement" "$RC" 5
	eq "output" "$(out)" fresh
	eq "hits" "$(pool_metric sbx_pool_hits_total pl)" 1
}

# The held process reads its command before nofile and the seccomp filter,
# which a profile may set so that reading it would fail (recvmsg and dup
# refused with kill, 8 descriptors): the pooled run works, and both are in
# force when the command runs.
case_strict_profile_held()
{
	cat >"$DPOL/pool.toml" <<EOF
version = 1
[profile.tight]
provider = "process"
timeout = "120s"
nofile = 8
[profile.tight.network]
mode = "none"
[profile.tight.seccomp]
preset = "strict"
action = "kill"
deny = ["recvmsg", "recvfrom", "dup2", "dup3"]
EOF
	T_CASE_RESTORE="sbxd_stop"
	sbxd_start --pool tight=1 || fail "sbxd did not start"
	pool_wait_ready tight 1
	sx run --profile tight -- sh -c 'ulimit -n; grep "^Seccomp:" /proc/self/status; exit 7'
	eq "pooled run" "$RC" 7
	eq "hit" "$(pool_metric sbx_pool_hits_total tight)" 1
	eq "nofile in force" "$(head -1 "$T_TMP/sx.out")" 8
	grep -q '^Seccomp:[[:space:]]*2' "$T_TMP/sx.out" || fail "no seccomp filter: $(out)"
}

run_case other_caller_and_overrides_cold case_other_caller_and_overrides_cold
run_case workload_cannot_reach_entries case_workload_cannot_reach_entries
run_case handed_out_once case_handed_out_once
run_case drained_entries_run_nothing case_drained_entries_run_nothing
run_case held_as_confined_as_cold case_held_as_confined_as_cold
run_case answer_after_every_process case_answer_after_every_process
run_case killed_held_init_replaced case_killed_held_init_replaced
run_case strict_profile_held case_strict_profile_held
finish
