#!/bin/bash
# SPDX-License-Identifier: MIT
# Warm pool entries (issue 15: user/daemon/pool.c, user/core/poolgo.c) as a
# workload sees them, beyond test_pool_attack.sh: an entry is a monitor that
# did everything but the clone before anyone asked, so what could leak is
# what it built early or what the go hands over late:
# - two pooled sandboxes running at once share a uid (leased at fill time,
#   perhaps twice), or see each other's /tmp, /dev/shm or SysV objects;
# - a descriptor of the monitor (go socket, bpf maps and links, the policy
#   or run directory, the O_PATH of sbx-init, the stdio sbxd passed with
#   SCM_RIGHTS) reaches the workload;
# - the syscall tracepoints, attached after the go (an idle entry keeps
#   none), are not yet up when the workload's first refused call is made, so
#   it goes unaudited, or are attached twice and it is reported twice.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/sbxd_lib.sh"

pool_up()
{
	cat >"$DPOL/pool.toml" <<EOF
version = 1
[profile.pl]
provider = "process"
timeout = "120s"
[profile.pl.network]
mode = "none"
[profile.pl.seccomp]
deny = ["chroot"]
EOF
	T_CASE_RESTORE="sbxd_stop"
	sbxd_start --pool "pl=$1" || fail "sbxd did not start"
}

jst() { SBX_SOCKET=$SOCK "$SBX" status --json "$1" | jq -r "$2"; }

# the uid of the process of this host whose command line is exactly $1
uid_of()
{
	local p
	for _ in $(seq 200); do
		p=$(pgrep -xf -- "$1" | head -1)
		[ -n "$p" ] && { awk '/^Uid:/ { print $2 }' "/proc/$p/status"; return; }
		sleep 0.05
	done
}

MARK='echo a >/tmp/mark-a; echo a >/dev/shm/mark-a; python3 -c "import ctypes; l = ctypes.CDLL(None); print(\"shm\", l.shmget(0x5b0a, 4096, 0o1666))"; exec sleep 6071'
LOOK='id -u; echo files $(ls -A /tmp /dev/shm); python3 -c "import ctypes; l = ctypes.CDLL(None); print(\"shm\", l.shmget(0x5b0a, 0, 0))"; for f in /proc/self/fd/*; do l=$(readlink "$f") && echo "fd ${f##*/} $l"; done; true'

case_concurrent_pooled_share_nothing()
{
	local ua ub
	pool_up 2
	pool_wait_ready pl 2
	sx start --name a --profile pl -- sh -c "$MARK"
	eq "start a" "$RC" 0
	wait_state a running || fail "a is not running: $(err)"
	eq "a pooled" "$(jst a .pooled)" true
	ua=$(uid_of "sleep 6071")
	[ -n "$ua" ] || fail "a's workload never ran: $(cat "$DSTATE/sandboxes/a/output.log" 2>/dev/null)"
	for _ in $(seq 100); do
		grep -q '^shm' "$DSTATE/sandboxes/a/output.log" 2>/dev/null && break
		sleep 0.05
	done
	sx run --profile pl -- sh -c "$LOOK"
	eq "run b" "$RC" 0
	eq "hits" "$(pool_metric sbx_pool_hits_total pl)" 2
	ub=$(head -1 "$T_TMP/sx.out")
	[ -n "$ub" ] && [ "$ub" != "$ua" ] || fail "two pooled sandboxes at once run as uid '$ua' and '$ub'"
	grep -q 'mark-a' "$T_TMP/sx.out" && fail "b sees a's files: $(out)"
	grep -q '^shm [0-9]' "$DSTATE/sandboxes/a/output.log" || fail "a made no SysV segment: $(cat "$DSTATE/sandboxes/a/output.log")"
	eq "shmget of a's key in b" "$(awk '$1 == "shm" { print $2 }' "$T_TMP/sx.out")" -1
	grep '^fd ' "$T_TMP/sx.out" | grep -v '^fd [012] ' | grep -q . &&
		fail "descriptors beyond stdio in a pooled workload: $(grep '^fd ' "$T_TMP/sx.out" | tr '\n' ' ')"
	sx rm --force a
}

# The first thing the pooled workload does is a refused call: one
# syscall.denied, in the daemon's log, under its own sandbox id; and the
# refusal is real.
case_pooled_first_call_audited_once()
{
	local id n i
	pool_up 1
	pool_wait_ready pl 1
	sx start --name f --profile pl -- sh -c 'chroot / true 2>/dev/null; echo chroot=$?; sleep 60'
	eq "start f" "$RC" 0
	wait_state f running || fail "f is not running: $(err)"
	eq "f pooled" "$(jst f .pooled)" true
	wait_status f '.id != ""' true || fail "f has no id"
	id=$(jst f .id)
	for i in $(seq 200); do
		grep -q 'chroot=' "$DSTATE/sandboxes/f/output.log" 2>/dev/null && break
		sleep 0.05
	done
	grep -q 'chroot=[1-9]' "$DSTATE/sandboxes/f/output.log" ||
		fail "chroot was not refused: $(cat "$DSTATE/sandboxes/f/output.log")"
	for i in $(seq 100); do
		n=$(jq -s --arg id "$id" '[.[] | select(.sandbox == $id and .event == "syscall.denied" and
			.syscall == "chroot")] | length' "$DAUDIT/audit.jsonl" 2>/dev/null)
		[ "${n:-0}" -ge 1 ] && break
		sleep 0.05
	done
	sleep 0.3	# a second copy would be right behind the first
	n=$(jq -s --arg id "$id" '[.[] | select(.sandbox == $id and .event == "syscall.denied" and
		.syscall == "chroot")] | length' "$DAUDIT/audit.jsonl" 2>/dev/null)
	eq "syscall.denied events of the pooled sandbox" "$n" 1
	sx rm --force f
}

run_case concurrent_pooled_share_nothing case_concurrent_pooled_share_nothing
run_case pooled_first_call_audited_once case_pooled_first_call_audited_once
finish
