#!/bin/bash
# SPDX-License-Identifier: MIT
# Every member of the `syscall.denied` and `file` audit events, as docs/audit.md
# (sections 3.1, 3.2, 3.7, 3.8) lists them, with its type and its value: the
# common members (time, seq, sandbox, profile, event), the task members
# (verdict, pid, tid, comm, cgroup_id: checked against the live sandbox's
# cgroup and its processes), and the members of each type.
. "$(dirname "$0")/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
SRC=$(cd "$(dirname "$0")" && pwd)
TOOLS=$OUTPUT/tests/integration
VPROBE=$TOOLS/view_probe
PROBE=$TOOLS/proc_probe
TOOLS_RULE="{ path = \"$TOOLS/\", access = \"rx\" }"
V_TMP=""
RFC3339_NS='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$'

am_setup()
{
	mkdir -p "$TOOLS" || return 1
	gcc -std=gnu11 -O2 -Wall -Wextra -o "$VPROBE" "$SRC/view_probe.c" || return 1
	gcc -std=gnu11 -O2 -Wall -Wextra -o "$PROBE" "$SRC/proc_probe.c" || return 1
	V_TMP=$(mktemp -d "${SBX_TEST_VARTMP:-/var/tmp}/sbxtest.am.XXXXXX") && chmod 0755 "$V_TMP" "$T_TMP" || return 1
	BACKEND=$("$SBX" features --json | jq -r .fs_backend)
	[ -n "$BACKEND" ] && [ "$BACKEND" != null ]
}

# common_members NAME EVENT-JSON: the members of section 3.1 and 3.2.
common_members()
{
	local ev=$2 id
	id=$(jr "$1" .sandbox)
	eq "member names" "$(jq -r 'keys_unsorted | join(",")' <<<"$ev" | cut -d, -f1-10)" \
		"time,seq,sandbox,profile,event,verdict,pid,tid,comm,cgroup_id"
	[[ $(jq -r .time <<<"$ev") =~ $RFC3339_NS ]] || fail "time '$(jq -r .time <<<"$ev")' is not RFC 3339 UTC with ns"
	eq "types of seq, sandbox, profile, pid, tid, cgroup_id" \
		"$(jq -r '[.seq, .sandbox, .profile, .pid, .tid, .cgroup_id] | map(type) | join(" ")' <<<"$ev")" \
		"number string string number number number"
	eq sandbox "$(jq -r .sandbox <<<"$ev")" "$id"
	eq profile "$(jq -r .profile <<<"$ev")" t
	eq verdict "$(jq -r .verdict <<<"$ev")" deny
	# numbered in order between sandbox.start (1) and sandbox.exit
	local seq
	seq=$(jq -r .seq <<<"$ev")
	eq "seq = position in the log" "$(ja "$1" "[.[].seq] | index($seq) + 1")" "$seq"
	eq "seqs of the log" "$(ja "$1" '[.[].seq] | map(tostring) | join(" ")')" "$(seq -s ' ' "$(ja "$1" length)")"
}

# start_waiting NAME SHELL-CMD: runs sbx in the background; the workload's
# last step waits for $T_TMP/NAME.go (which the case creates).
start_waiting()
{
	rm -f "$T_TMP/$1".{result,audit,out,err,go}
	bg "$SBX" run --result "$T_TMP/$1.result" --audit "$T_TMP/$1.audit" -P "$T_TMP/policy.toml" \
		--profile t -- sh -c "$2" >"$T_TMP/$1.out" 2>"$T_TMP/$1.err"
	SBX_PID=$BG_PID
}

# wait_line NAME TEXT: until run NAME's stdout has the line TEXT (or sbx ended).
wait_line()
{
	local i
	for i in $(seq 1500); do
		grep -qx "$2" "$T_TMP/$1.out" 2>/dev/null && return 0
		kill -0 "$SBX_PID" 2>/dev/null || break
		sleep 0.02
	done
	fail "$1: the workload never printed '$2': $(cat "$T_TMP/$1.out" "$T_TMP/$1.err" | tr '\n' ' ')"
}

# the_probe_pid CGDIR: host pid of the view_probe process in the sandbox's cgroup.
the_probe_pid()
{
	local p
	for p in $(cat "$1/cgroup.procs"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = view_probe ] && echo "$p"
	done
}

# syscall.denied: ptrace(PTRACE_TRACEME, 4242, 0x1000) refused by the
# process provider's filter; pid/tid are the probe's host pid, cgroup_id
# the sandbox cgroup's inode.
case_syscall_denied_members()
{
	local ev id cg pid ino
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.t]
provider = "process"
[profile.t.network]
mode = "none"
[profile.t.fs]
mode = "none"
rules = [$TOOLS_RULE, { path = "$T_TMP/", access = "r" }]
EOF
	start_waiting r "hostname; exec $VPROBE ptrace_wait $T_TMP/r.go"
	wait_line r EPERM
	id=$(head -1 "$T_TMP/r.out")
	cg="$(cgroup_root)/$id"
	[ -d "$cg" ] || fail "no sandbox cgroup $cg"
	ino=$(stat -c %i "$cg")
	pid=$(the_probe_pid "$cg")
	[ -n "$pid" ] || fail "no view_probe in $cg/cgroup.procs: $(cat "$cg/cgroup.procs" | tr '\n' ' ')"
	touch "$T_TMP/r.go"
	wait "$SBX_PID"
	RC=$?
	expect_rc r 0
	eq "number of syscall.denied events" "$(ja r '[.[] | select(.event == "syscall.denied")] | length')" 1
	ev=$(ja r '.[] | select(.event == "syscall.denied")')
	common_members r "$ev"
	eq "pid (the probe's host pid)" "$(jq -r .pid <<<"$ev")" "$pid"
	eq "tid (single-threaded)" "$(jq -r .tid <<<"$ev")" "$pid"
	eq comm "$(jq -r .comm <<<"$ev")" view_probe
	eq "cgroup_id (inode of $cg)" "$(jq -r .cgroup_id <<<"$ev")" "$ino"
	eq "syscall, nr, errno, args" "$(jq -c '[.syscall, .nr, .errno, .args]' <<<"$ev")" \
		"[\"ptrace\",$(printf '%d' "$(awk '$2 == "__NR_ptrace" { print $3 }' /usr/include/x86_64-linux-gnu/asm/unistd_64.h 2>/dev/null || echo 101)"),1,[0,4242,4096]]"
	eq "member names after cgroup_id" "$(jq -r 'keys_unsorted[10:] | join(",")' <<<"$ev")" "syscall,nr,errno,args"
	eq "denials.syscall in the result" "$(jr r .denials.syscall)" 1
}

# file, decided by a rule: a read under a "w" rule (process provider), with
# the rule's text, its index and its source position in the policy file.
case_file_event_rule_members()
{
	local ev id cg pid ino d=$V_TMP/wo
	mkdir -p "$d" && echo data >"$d/f" && chmod 0777 "$d" && chmod 0666 "$d/f"
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.t]
provider = "process"
[profile.t.network]
mode = "none"
[profile.t.fs]
mode = "none"
rules = [$TOOLS_RULE, { path = "$T_TMP/", access = "r" },
  { path = "$d/", access = "w" }]
EOF
	start_waiting r "hostname; $PROBE read $d/f; exec $VPROBE ptrace_wait $T_TMP/r.go"
	wait_line r EACCES
	id=$(head -1 "$T_TMP/r.out")
	cg="$(cgroup_root)/$id"
	ino=$(stat -c %i "$cg") || fail "no sandbox cgroup $cg"
	touch "$T_TMP/r.go"
	wait "$SBX_PID"
	RC=$?
	expect_rc r 0
	eq "number of file events" "$(ja r '[.[] | select(.event == "file")] | length')" 1
	ev=$(ja r '.[] | select(.event == "file")')
	common_members r "$ev"
	eq comm "$(jq -r .comm <<<"$ev")" proc_probe
	eq "tid = pid (single-threaded)" "$(jq -r .tid <<<"$ev")" "$(jq -r .pid <<<"$ev")"
	eq "cgroup_id (inode of $cg)" "$(jq -r .cgroup_id <<<"$ev")" "$ino"
	eq "file members" "$(jq -c '[.op, .path, .access, .backend, .errno, .rule, .rule_index, .rule_source]' <<<"$ev")" \
		"[\"open\",\"$d/f\",\"r\",\"$BACKEND\",13,\"$d/ w\",2,\"$T_TMP/policy.toml:9:3\"]"
	eq "member names after cgroup_id" "$(jq -r 'keys_unsorted[10:] | join(",")' <<<"$ev")" \
		"op,path,access,backend,errno,rule,rule_index,rule_source"
	eq "denials.file in the result" "$(jr r .denials.file)" 1
}

# file, decided by the mode: a write under fs mode read-only (host
# provider), rule "default" with the mode.
case_file_event_default_members()
{
	local ev d=$V_TMP/plain
	mkdir -p "$d" && echo data >"$d/f" && chmod 0777 "$d" && chmod 0666 "$d/f"
	write_policy "$T_TMP/policy.toml" t "" 'mode = "none"'
	sed -i 's/^mode = "full"$/mode = "read-only"/' "$T_TMP/policy.toml"
	sbx_run r -P "$T_TMP/policy.toml" --profile t -- "$PROBE" write "$d/f"
	eq "probe" "$(cat "$T_TMP/r.out")" EACCES
	expect_rc r 1
	eq "host file unchanged" "$(cat "$d/f")" data
	eq "number of file events" "$(ja r '[.[] | select(.event == "file")] | length')" 1
	ev=$(ja r '.[] | select(.event == "file")')
	common_members r "$ev"
	eq "comm" "$(jq -r .comm <<<"$ev")" proc_probe
	eq "pid = sandbox.start pid (the host workload itself)" "$(jq -r .pid <<<"$ev")" "$(ja r '.[0].pid')"
	eq "file members" "$(jq -c '[.op, .path, .access, .backend, .errno, .rule, .mode]' <<<"$ev")" \
		"[\"open\",\"$d/f\",\"w\",\"$BACKEND\",13,\"default\",\"read-only\"]"
	eq "member names after cgroup_id" "$(jq -r 'keys_unsorted[10:] | join(",")' <<<"$ev")" \
		"op,path,access,backend,errno,rule,mode"
}

setup am_setup
run_case syscall_denied_members case_syscall_denied_members
run_case file_event_rule_members case_file_event_rule_members
run_case file_event_default_members case_file_event_default_members
finish
