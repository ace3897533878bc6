#!/bin/bash
# SPDX-License-Identifier: MIT
# Live policy updates (core/update.h) of a sandbox that `sbx run` manages,
# driven from another process as the daemon does (update_tool links the core):
#   - network: a connect loop inside the sandbox to a loopback server sees
#     every connect allowed before the flip and every one refused (EPERM)
#     after it, with exactly one transition and nothing else in between;
#   - memory: what the workload could allocate before is OOM-killed after a
#     lower limit; a limit below what it uses now is refused, limit unchanged;
#   - fs rules enforced by Landlock are refused with the reason, and the
#     network part of that same update is not applied either; under BPF LSM
#     (tests/vm/test_update.sh runs this file in a guest) they flip as the
#     network rules do;
#   - after the sandbox ends, neither of its policy ids has entries left.

. "$(dirname "$0")/lib.sh"

UPDATE_TOOL=${OUTPUT:-$PWD/build}/tests/integration/update_tool

upd_setup()
{
	if [ ! -x "$UPDATE_TOOL" ]; then
		make -s -C "$(dirname "$0")/../.." OUTPUT="${OUTPUT:-$PWD/build}" "$UPDATE_TOOL" ||
			return 1
	fi
	"$SBX" run -P /dev/null true >/dev/null 2>&1 || true
}

# policy FILE PORT CUR-EXTRA NEXT-EXTRA CUR-NET NEXT-NET [CUR-FS [NEXT-FS]]
policy()
{
	cat >"$1" <<EOF
version = 1
[profile.cur]
provider = "host"
min_isolation = "none"
timeout = "120s"
$3
[profile.cur.network]
$5
[profile.cur.fs]
${7:-mode = \"full\"}
[profile.next]
provider = "host"
min_isolation = "none"
timeout = "120s"
$4
[profile.next.network]
$6
[profile.next.fs]
${8:-${7:-mode = \"full\"}}
EOF
}

# start NAME SCRIPT: sbx run of profile cur in the background; sets RUN_PID and ID
start()
{
	local i
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile cur --result "$T_TMP/$1.result" \
		-- sh -c "$2" >"$T_TMP/$1.out" 2>"$T_TMP/$1.err"
	RUN_PID=$BG_PID
	ID=
	for i in $(seq 200); do
		ID=$("$SBX" ps --json 2>/dev/null | jq -r '.sandboxes[0].id // empty')
		[ -n "$ID" ] && return 0
		if ! kill -0 "$RUN_PID" 2>/dev/null; then
			# a limit this machine has no controller for (the VM guest's
			# sbx root sits at the cgroup2 root, where sbx enables none)
			grep -q 'cannot be enforced here' "$T_TMP/$1.err" &&
				skip "$(grep -o "'[a-z]*' cannot be enforced here ([a-z]*: [^;)]*" "$T_TMP/$1.err" | head -1))"
			fail "sbx run ended early: $(cat "$T_TMP/$1.err")"
		fi
		sleep 0.05
	done
	fail "the sandbox did not show in sbx ps"
}

# casedir: D = a directory of the case's own for the workload's marks
# (host-provider workloads run as nobody)
casedir()
{
	D=$(mktemp -d "$T_TMP/case.XXXXXX")
	chmod 1777 "$D"
}

wait_file()
{
	local i
	for i in $(seq 400); do
		[ -e "$1" ] && return 0
		kill -0 "$RUN_PID" 2>/dev/null || fail "sbx run ended early waiting for $1"
		sleep 0.05
	done
	fail "timed out waiting for $1"
}

# count WORD FILE: lines of FILE whose first word is WORD
count()
{
	awk -v w="$1" '$1 == w { n++ } END { print n + 0 }' "$2"
}

# No entry of either policy id of the sandbox's slot is left in the maps
# keyed by policy id (this instance runs one sandbox at a time).
expect_no_entries()
{
	local m n
	for m in sbx_net4 sbx_net6 sbx_paths sbx_execs sbx_loaders; do
		n=$(bpftool map dump pinned "$PIN_DIR/$m" -j 2>/dev/null | jq length)
		eq "entries left in $m" "$n" 0
	done
	for m in "$1" "$2"; do
		n=$(bpftool map lookup pinned "$PIN_DIR/sbx_policies" key $m 0 0 0 -j |
			jq '.formatted.value | .net_mode + .flags + .n_listen + .audit_allow_burst')
		eq "sbx_policies[$m] cleared" "$n" 0
	done
}

case_connect_loop_flips_once()
{
	casedir
	local port out seq old new
	start_listener port 127.0.0.1 tcp || fail "no listener"
	policy "$T_TMP/policy.toml" "$port" "" "" \
		"mode = \"allow\"
allow = [\"127.0.0.1:$port/tcp\"]" \
		"mode = \"allow\"
deny = [\"127.0.0.1:$port/tcp\"]"
	start net "while [ ! -e $D/stop ]; do $NETTOOL connect 127.0.0.1 $port tcp >>$D/seq.log 2>&1; done"
	for i in $(seq 400); do
		[ "$(count ok "$D/seq.log" 2>/dev/null)" -ge 20 ] 2>/dev/null && break
		sleep 0.05
	done
	out=$("$UPDATE_TOOL" update "$T_TMP/policy.toml" cur next "$ID") || fail "update failed: $out (sbx ps: $("$SBX" ps --json | jq -c .sandboxes))"
	[[ "$out" =~ ^ok\ old=([0-9]+)\ new=([0-9]+) ]] || fail "update said: $out"
	old=${BASH_REMATCH[1]}
	new=${BASH_REMATCH[2]}
	[ $((old ^ 1)) = "$new" ] || fail "the update did not flip to the slot's other id: $out"
	for i in $(seq 400); do
		[ "$(count EPERM "$D/seq.log")" -ge 20 ] && break
		sleep 0.05
	done
	touch "$D/stop"
	wait "$RUN_PID"
	seq=$(awk '{ print $1 }' "$D/seq.log" | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
	[ "$(count ok "$D/seq.log")" -ge 20 ] || fail "too few connects before the flip: $seq"
	[ "$(count EPERM "$D/seq.log")" -ge 20 ] || fail "too few connects after the flip: $seq"
	# exactly: a run of ok, then a run of EPERM, nothing else
	[[ "$seq" =~ ^ok:[0-9]+\ EPERM:[0-9]+\ $ ]] ||
		fail "the connect results are not all-allow then all-deny: $seq"
	expect_no_entries "$old" "$new"
}

case_fs_update_refused_under_landlock()
{
	casedir
	local port out
	local backend
	backend=$("$SBX" features --json | jq -r .fs_backend)
	[ "$backend" = landlock ] || skip "the fs backend here is '$backend', not Landlock"
	start_listener port 127.0.0.1 tcp || fail "no listener"
	# next also drops the network grant: a refused update applies nothing
	policy "$T_TMP/policy.toml" "$port" "" "" \
		"mode = \"allow\"
allow = [\"127.0.0.1:$port/tcp\"]" \
		"mode = \"allow\"" \
		"mode = \"read-only\"
rules = [{ path = \"$D/\", access = \"rwx\" }]" \
		"mode = \"read-only\"
rules = [{ path = \"$D/\", access = \"rwx\" }, { path = \"/var/tmp/\", access = \"rwx\" }]"
	start fs "touch $D/ready; while [ ! -e $D/go ]; do sleep 0.05; done
		$NETTOOL connect 127.0.0.1 $port tcp >$D/after.log 2>&1
		touch $D/done; while [ ! -e $D/stop ]; do sleep 0.05; done"
	wait_file "$D/ready"
	out=$("$UPDATE_TOOL" update "$T_TMP/policy.toml" cur next "$ID")
	eq "update exit code" "$?" 1
	[[ "$out" == "error: fs rules of sandbox $ID are enforced by Landlock"* ]] ||
		fail "the refusal does not say Landlock enforces the fs rules: $out"
	touch "$D/go"
	wait_file "$D/done"
	eq "connect after the refused update (old policy kept)" "$(awk '{ print $1 }' "$D/after.log")" ok
	touch "$D/stop"
	wait "$RUN_PID"
	expect_no_entries 0 1
}

# Under BPF LSM (the VM layer: tests/vm/test_update.sh) fs rules flip like
# network rules: a read loop sees its file readable, then refused, once.
case_fs_update_flips_under_bpf_lsm()
{
	casedir
	local backend out seq old new
	backend=$("$SBX" features --json | jq -r .fs_backend)
	[ "$backend" = bpf-lsm ] || skip "the fs backend here is '$backend', not BPF LSM"
	mkdir "$D/locked" && echo secret >"$D/locked/f" && chmod -R a+rX "$D/locked"
	policy "$T_TMP/policy.toml" 0 "" "" "mode = \"none\"" "mode = \"none\"" \
		"mode = \"read-only\"
rules = [{ path = \"$D/\", access = \"rwx\" }]" \
		"mode = \"read-only\"
rules = [{ path = \"$D/\", access = \"rwx\" }, { path = \"$D/locked/\", access = \"deny\" }]"
	start fsl "while [ ! -e $D/stop ]; do if cat $D/locked/f >/dev/null 2>&1; then echo ok; else echo EACCES; fi >>$D/seq.log; done"
	for i in $(seq 400); do
		[ "$(count ok "$D/seq.log" 2>/dev/null)" -ge 20 ] 2>/dev/null && break
		sleep 0.05
	done
	out=$("$UPDATE_TOOL" update "$T_TMP/policy.toml" cur next "$ID") || fail "update failed: $out"
	[[ "$out" =~ ^ok\ old=([0-9]+)\ new=([0-9]+) ]] || fail "update said: $out"
	old=${BASH_REMATCH[1]}
	new=${BASH_REMATCH[2]}
	for i in $(seq 400); do
		[ "$(count EACCES "$D/seq.log")" -ge 20 ] && break
		sleep 0.05
	done
	touch "$D/stop"
	wait "$RUN_PID"
	seq=$(awk '{ print $1 }' "$D/seq.log" | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
	[[ "$seq" =~ ^ok:[0-9]+\ EACCES:[0-9]+\ $ ]] ||
		fail "the reads are not all-allowed then all-refused: $seq"
	[ "$(count ok "$D/seq.log")" -ge 20 ] && [ "$(count EACCES "$D/seq.log")" -ge 20 ] ||
		fail "too few reads on one side of the flip: $seq"
	expect_no_entries "$old" "$new"
}

case_memory_lowered_live()
{
	casedir
	local out why
	why=$(controller_missing memory)
	[ -n "$why" ] && skip "$why"
	policy "$T_TMP/policy.toml" 0 "memory = \"256M\"" "memory = \"32M\"" "mode = \"none\"" "mode = \"none\""
	start mem "$UPDATE_TOOL alloc 64 >$D/before.log 2>&1; echo rc=\$? >>$D/before.log
		touch $D/ready; while [ ! -e $D/go ]; do sleep 0.05; done
		$UPDATE_TOOL alloc 64 >$D/after.log 2>&1; echo rc=\$? >>$D/after.log
		touch $D/done; while [ ! -e $D/stop ]; do sleep 0.05; done"
	wait_file "$D/ready"
	eq "64 MiB before the update" "$(tr '\n' ' ' <"$D/before.log")" "ok rc=0 "
	out=$("$UPDATE_TOOL" update "$T_TMP/policy.toml" cur next "$ID") || fail "update failed: $out (sbx ps: $("$SBX" ps --json | jq -c .sandboxes))"
	[[ "$out" == *" memory=33554432" ]] || fail "update said: $out"
	touch "$D/go"
	wait_file "$D/done"
	# OOM-killed (SIGKILL: 128 + 9), or malloc refused
	grep -Eq '^rc=137$|^ENOMEM$' "$D/after.log" ||
		fail "64 MiB under the new 32 MiB limit: $(tr '\n' ' ' <"$D/after.log")"
	touch "$D/stop"
	wait "$RUN_PID"
}

case_memory_below_usage_refused()
{
	casedir
	local out why
	why=$(controller_missing memory)
	[ -n "$why" ] && skip "$why"
	policy "$T_TMP/policy.toml" 0 "memory = \"256M\"" "memory = \"32M\"" "mode = \"none\"" "mode = \"none\""
	start hold "$UPDATE_TOOL alloc 64 $D/release >$D/hold.log 2>&1 &
		while ! grep -q ok $D/hold.log 2>/dev/null; do sleep 0.05; done; touch $D/ready
		wait; while [ ! -e $D/stop ]; do sleep 0.05; done"
	wait_file "$D/ready"
	out=$("$UPDATE_TOOL" update "$T_TMP/policy.toml" cur next "$ID")
	eq "update exit code" "$?" 1
	[[ "$out" == "error: memory: sandbox $ID uses "*"more than the new limit of 33554432"* ]] ||
		fail "the refusal does not name the memory in use: $out"
	# the limit in force is still the old one
	eq "memory limit after the refused update" "$(memory_limit)" 268435456
	touch "$D/release" "$D/stop"
	wait "$RUN_PID"
}

# memory_limit: the sandbox's memory limit in force (v1 or cgroup2 file)
memory_limit()
{
	local dir lim=
	for dir in $(v1_instance_dirs) "$(cgroup_root)"; do
		[ -f "$dir/$ID/memory.limit_in_bytes" ] && lim=$(cat "$dir/$ID/memory.limit_in_bytes")
		[ -f "$dir/$ID/memory.max" ] && lim=$(cat "$dir/$ID/memory.max")
	done
	echo "$lim"
}

# A step that fails after the new policy id was written (a pids limit the
# sandbox has no cgroup for) undoes everything: the memory limit already
# lowered is restored, the new id's entries are removed, the old network
# policy stays in force.
case_failed_update_rolls_back()
{
	casedir
	local port out why n
	why=$(controller_missing memory)
	[ -n "$why" ] && skip "$why"
	start_listener port 127.0.0.1 tcp || fail "no listener"
	policy "$T_TMP/policy.toml" "$port" "memory = \"256M\"" "memory = \"128M\"
pids = 50" \
		"mode = \"allow\"
allow = [\"127.0.0.1:$port/tcp\"]" \
		"mode = \"allow\"
deny = [\"127.0.0.1:$port/tcp\"]"
	start rb "touch $D/ready; while [ ! -e $D/go ]; do sleep 0.05; done
		$NETTOOL connect 127.0.0.1 $port tcp >$D/after.log 2>&1
		touch $D/done; while [ ! -e $D/stop ]; do sleep 0.05; done"
	wait_file "$D/ready"
	out=$("$UPDATE_TOOL" update "$T_TMP/policy.toml" cur next "$ID")
	if [ $? = 0 ]; then
		touch "$D/go" "$D/stop"
		wait "$RUN_PID"
		skip "a pids limit could be added to the running sandbox here (cgroup2 pids enabled on the sbx root): nothing failed to roll back"
	fi
	[[ "$out" == "error: pids: the sandbox has no pids cgroup"* ]] || fail "update said: $out"
	eq "memory limit restored" "$(memory_limit)" 268435456
	n=$(bpftool map dump pinned "$PIN_DIR/sbx_net4" -j | jq '[.[] | .formatted.key.policy_id] | unique | length')
	eq "policy ids with sbx_net4 entries" "$n" 1
	touch "$D/go"
	wait_file "$D/done"
	eq "connect after the failed update (old policy kept)" "$(awk '{ print $1 }' "$D/after.log")" ok
	touch "$D/stop"
	wait "$RUN_PID"
}

case_tightens_decides_owner_or_root()
{
	policy "$T_TMP/policy.toml" 0 "memory = \"256M\"" "memory = \"512M\"" "mode = \"none\"" "mode = \"none\""
	eq "raising memory" "$("$UPDATE_TOOL" tightens "$T_TMP/policy.toml" cur next)" \
		"0: memory: the new profile raises it from 268435456 to 536870912 (profile 'cur')"
	eq "lowering memory" "$("$UPDATE_TOOL" tightens "$T_TMP/policy.toml" next cur)" 1
}

setup upd_setup
run_case connect_loop_flips_once case_connect_loop_flips_once
run_case fs_update_refused_under_landlock case_fs_update_refused_under_landlock
run_case fs_update_flips_under_bpf_lsm case_fs_update_flips_under_bpf_lsm
run_case memory_lowered_live case_memory_lowered_live
run_case memory_below_usage_refused case_memory_below_usage_refused
run_case failed_update_rolls_back case_failed_update_rolls_back
run_case tightens_decides_owner_or_root case_tightens_decides_owner_or_root
finish
