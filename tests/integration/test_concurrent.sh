#!/bin/bash
# SPDX-License-Identifier: MIT
# Two sandboxes with different policies alive at the same time: each is held
# to its own policy, the host (this test, outside any sandbox) is held to
# none, and each sbx run's --audit stream carries only its own events.
. "$(dirname "$0")/lib.sh"

conc_setup()
{
	start_listener PA 127.0.0.1 tcp || return 1
	start_listener PB 127.0.0.1 tcp
}

# wait_file PATH: up to 10 s.
wait_file()
{
	local i
	for i in $(seq 200); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# workload SELF OTHER OWN-PORT OTHER-PORT: waits until the other sandbox runs,
# probes both ports, then stays alive until the test says "host.done".
workload()
{
	local t=$T_TMP
	printf '%s' "touch $t/$1.started
		i=0; while [ ! -e $t/$2.started ] && [ \$i -lt 200 ]; do sleep 0.05; i=\$((i+1)); done
		[ -e $t/$2.started ] && echo overlap yes
		$(probes "own connect 127.0.0.1 $3" "other connect 127.0.0.1 $4")
		touch $t/$1.done
		i=0; while [ ! -e $t/host.done ] && [ \$i -lt 200 ]; do sleep 0.05; i=\$((i+1)); done
		$(probes "own2 connect 127.0.0.1 $3" "other2 connect 127.0.0.1 $4")"
}

case_two_sandboxes_different_policies()
{
	local pa pb n ida idb
	write_policy "$T_TMP/a.toml" a 'audit = "all"' "mode = \"allow\"
allow = [\"127.0.0.1:$PA/tcp\"]"
	write_policy "$T_TMP/b.toml" b 'audit = "all"' "mode = \"allow\"
allow = [\"127.0.0.1:$PB/tcp\"]"
	bg sbx_run a -P "$T_TMP/a.toml" -- sh -c "$(workload a b "$PA" "$PB")"
	pa=$BG_PID
	bg sbx_run b -P "$T_TMP/b.toml" -- sh -c "$(workload b a "$PB" "$PA")"
	pb=$BG_PID
	wait_file "$T_TMP/a.done" && wait_file "$T_TMP/b.done" || fail "the sandboxes did not both run: $(cat "$T_TMP"/a.err "$T_TMP"/b.err)"
	# both are alive now; the host is not confined by either policy
	n=$("$SBX" ps --json | jq '.sandboxes | length')
	eq "sandboxes running at once" "$n" 2
	eq "host connect to A's denied port" "$("$NETTOOL" connect 127.0.0.1 "$PB")" ok
	eq "host connect to B's denied port" "$("$NETTOOL" connect 127.0.0.1 "$PA")" ok
	touch "$T_TMP/host.done"
	wait "$pa"
	wait "$pb"
	expect a overlap yes
	expect b overlap yes
	expect a own ok
	expect a other EPERM
	expect b own ok
	expect b other EPERM
	expect a own2 ok
	expect a other2 EPERM
	expect b own2 ok
	expect b other2 EPERM
	eq "A connect_denied" "$(jr a .network.connect_denied)" 2
	eq "B connect_denied" "$(jr b .network.connect_denied)" 2
	ida=$(jr a .sandbox)
	idb=$(jr b .sandbox)
	[ "$ida" != "$idb" ] || fail "both runs report sandbox $ida"
	# each --audit file holds only its own sandbox's events, all of them
	eq "A's audit sandboxes" "$(ja a '[.[].sandbox] | unique | join(",")')" "$ida"
	eq "B's audit sandboxes" "$(ja b '[.[].sandbox] | unique | join(",")')" "$idb"
	eq "A's denied ports" "$(ja a '[.[] | select(.verdict == "deny") | .port] | unique | join(",")')" "$PB"
	eq "B's denied ports" "$(ja b '[.[] | select(.verdict == "deny") | .port] | unique | join(",")')" "$PA"
	eq "A's sequence" "$(ja a '[.[].seq] == [range(1; length + 1)]')" true
	eq "B's sequence" "$(ja b '[.[].seq] == [range(1; length + 1)]')" true
	eq "A's events" "$(ja a 'length')" "$(jr a .audit.events)"
	# the instance log has both
	eq "instance log sandboxes" "$(jq -rs '[.[].sandbox] | unique | length' "$SBX_LOG_DIR/audit.jsonl")" 2
}

# The policy of one sandbox is the same before, during and after another
# sandbox's life (slots and policy ids are not mixed up on reuse).
case_sequential_reuse_keeps_policies_apart()
{
	write_policy "$T_TMP/a.toml" a '' "mode = \"allow\"
allow = [\"127.0.0.1:$PA/tcp\"]"
	write_policy "$T_TMP/b.toml" b '' "mode = \"deny\"
deny = [\"127.0.0.1:$PA/tcp\"]"
	sbx_run a1 -P "$T_TMP/a.toml" -- sh -c "$(probes "pa connect 127.0.0.1 $PA" "pb connect 127.0.0.1 $PB")"
	sbx_run b1 -P "$T_TMP/b.toml" -- sh -c "$(probes "pa connect 127.0.0.1 $PA" "pb connect 127.0.0.1 $PB")"
	sbx_run a2 -P "$T_TMP/a.toml" -- sh -c "$(probes "pa connect 127.0.0.1 $PA" "pb connect 127.0.0.1 $PB")"
	expect a1 pa ok
	expect a1 pb EPERM
	expect b1 pa EPERM
	expect b1 pb ok
	expect a2 pa ok
	expect a2 pb EPERM
}

setup conc_setup
run_case two_sandboxes_different_policies case_two_sandboxes_different_policies
run_case sequential_reuse_keeps_policies_apart case_sequential_reuse_keeps_policies_apart
finish
