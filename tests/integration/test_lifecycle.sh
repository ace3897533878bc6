#!/bin/bash
# SPDX-License-Identifier: MIT
# The life of an instance and of a sandbox: the first run loads and pins, the
# next adopts, unload removes everything (and is refused while a sandbox
# runs), bpftool reads the pinned maps through BTF; sbx ps / sbx stats show a
# running sandbox; exit codes and signal forwarding of sbx run.
. "$(dirname "$0")/lib.sh"

MAPS="sbx_cgroups sbx_config sbx_dns sbx_dns_orig sbx_dns_ports sbx_drops sbx_events sbx_execs sbx_fscfg sbx_loaders sbx_net4 sbx_net6 sbx_paths sbx_pins sbx_policies sbx_rate_ifs sbx_rates sbx_rings sbx_slots sbx_stats sbx_syscalls"
LINKS="link_bind4 link_bind6 link_connect4 link_connect6 link_getpeername4 link_getpeername6 link_recvmsg4 link_recvmsg6 link_sendmsg4 link_sendmsg6 link_setsockopt link_skb_egress link_skb_ingress link_sock_create link_exec_guard"
# the syscall tracepoints' programs are pinned; their links (link_sys_enter,
# link_sys_exit) exist only while a sandbox needs them (test_syscall_tracing)
PROGS="prog_emit_user prog_sys_enter prog_sys_exit prog_tc_host prog_tc_sandbox"
ATTACHED="sbx_bind4 sbx_bind6 sbx_connect4 sbx_connect6 sbx_getpeername4 sbx_getpeername6 sbx_recvmsg4 sbx_recvmsg6 sbx_sendmsg4 sbx_sendmsg6 sbx_setsockopt sbx_skb_egress sbx_skb_ingress sbx_sock_create"
# Linux 6.7 and later have cgroup hooks for unix addresses (network.unix)
kv=$(uname -r)
kmaj=${kv%%.*}
kmin=${kv#*.}
kmin=${kmin%%.*}
if [ "$kmaj" -gt 6 ] || { [ "$kmaj" -eq 6 ] && [ "$kmin" -ge 7 ]; }; then
	LINKS+=" link_connect_unix link_sendmsg_unix"
	UNIX_LINKS="link_connect_unix link_sendmsg_unix"
	ATTACHED=$(printf '%s\n' $ATTACHED sbx_connect_unix sbx_sendmsg_unix | sort | tr '\n' ' ')
	ATTACHED=${ATTACHED% }
fi

pol()
{
	write_policy "$T_TMP/policy.toml" t "$1" "$2"
}

life_setup()
{
	start_listener P4 127.0.0.1 tcp || return 1
	start_listener Q4 127.0.0.1 tcp || return 1
	start_listener U4 127.0.0.1 udp
}

# run_in NAME [SBX-OPTIONS...] -- CMD...  or  run_in NAME CMD...
run_in()
{
	local name=$1
	shift
	if [[ " $* " == *" -- "* ]]; then
		sbx_run "$name" -P "$T_TMP/policy.toml" --profile t "$@"
	else
		sbx_run "$name" -P "$T_TMP/policy.toml" --profile t -- "$@"
	fi
}

# alive PID: true when PID exists and is not a zombie (a killed process whose
# parent died is reparented and may stay a zombie until init reaps it).
alive()
{
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# map_ids: "name=id ..." of every pinned map.
map_ids()
{
	local m
	for m in $MAPS; do
		printf '%s=%s ' "$m" "$(bpftool map show pinned "$PIN_DIR/$m" -j 2>/dev/null | jq -r .id)"
	done
}

case_first_run_loads_and_pins()
{
	local m have attached
	[ -e "$PIN_DIR" ] && fail "$PIN_DIR exists before the first run"
	pol "" 'mode = "none"'
	run_in r true
	expect_rc r 0
	for m in $MAPS $LINKS $PROGS; do
		[ -e "$PIN_DIR/$m" ] || fail "missing pin $PIN_DIR/$m (have: $(ls "$PIN_DIR" | tr '\n' ' '))"
	done
	have=$(ls "$PIN_DIR" | grep -E '^(sbx_|link_)' | sort | tr '\n' ' ')
	eq "pinned maps and links" "$have" "$(printf '%s\n' $LINKS $MAPS | sort | tr '\n' ' ')"
	# the links are attached at the instance's cgroup root
	# bpftool 7.1 does not list the unix attach types: their links name the cgroup
	attached=$(bpftool cgroup show "$(cgroup_root)" -j | jq -r '.[].name'
		for l in ${UNIX_LINKS:-}; do
			bpftool link show pinned "$PIN_DIR/$l" -j | jq -e ".cgroup_id == $(stat -c %i "$(cgroup_root)")" >/dev/null &&
				bpftool prog show id "$(bpftool link show pinned "$PIN_DIR/$l" -j | jq .prog_id)" -j | jq -r .name
		done)
	attached=$(printf '%s\n' $attached | sort | tr '\n' ' ')
	attached=${attached% }
	eq "programs attached at $(cgroup_root)" "$attached" "$ATTACHED"
}

# Pins of an earlier build of the same ABI version can lack a map that came
# later: with no sandbox running, the next sbx run replaces the setup (before:
# "open pinned map ...: No such file or directory", exit 125); while one
# runs, it refuses and says why.
case_incomplete_setup_replaced_when_idle()
{
	local before
	pol "" 'mode = "none"'
	run_in a true
	expect_rc a 0
	before=$(bpftool map show pinned "$PIN_DIR/sbx_config" -j | jq -r .id)
	rm -f "$PIN_DIR/sbx_rate_ifs"
	run_in b true
	expect_rc b 0
	[ -e "$PIN_DIR/sbx_rate_ifs" ] || fail "sbx_rate_ifs was not pinned again"
	[ "$(bpftool map show pinned "$PIN_DIR/sbx_config" -j | jq -r .id)" != "$before" ] ||
		fail "the incomplete setup was adopted, not replaced"
	# with a sandbox running under it, the refusal names the missing pin
	sbx_run_within 60 bg -P "$T_TMP/policy.toml" --profile t -- sleep 30 &
	local i id=
	for i in $(seq 200); do
		id=$("$SBX" ps --json 2>/dev/null | jq -r '.sandboxes[0].id // empty')
		[ -n "$id" ] && break
		sleep 0.05
	done
	[ -n "$id" ] || { wait; fail "the background sandbox did not show in sbx ps"; }
	rm -f "$PIN_DIR/sbx_rate_ifs"
	run_in c true
	expect_rc c 125
	grep -q "sbx_rate_ifs is missing: the pins in .* come from an earlier build" "$T_TMP/c.err" ||
		fail "c: $(tail -c 300 "$T_TMP/c.err")"
	"$SBX" kill "$id" >/dev/null 2>&1 || kill -9 $(cat "$(cgroup_root)/$id/cgroup.procs" 2>/dev/null) 2>/dev/null
	wait
	"$SBX" unload >/dev/null 2>&1
}

case_second_run_adopts()
{
	local before after links_before links_after l
	pol "" 'mode = "none"'
	run_in a true
	before=$(map_ids)
	for l in $LINKS; do links_before+="$(bpftool link show pinned "$PIN_DIR/$l" -j | jq -r .id) "; done
	[[ $before == *=null* || $before == *"= "* ]] && fail "cannot read the map ids: $before"
	run_in b true
	expect_rc b 0
	after=$(map_ids)
	for l in $LINKS; do links_after+="$(bpftool link show pinned "$PIN_DIR/$l" -j | jq -r .id) "; done
	eq "map ids after another run" "$after" "$before"
	eq "link ids after another run" "$links_after" "$links_before"
	# --ring-size only applies when loading
	run_in c --ring-size 8192 -- true
	expect_rc c 0
	eq "map ids after a run with --ring-size" "$(map_ids)" "$before"
}

case_bpftool_dump_shows_btf_field_names()
{
	local out f
	pol "" 'mode = "none"'
	run_in r true
	out=$(bpftool map dump pinned "$PIN_DIR/sbx_stats" 2>&1 | head -40)
	for f in seq connect_allowed connect_denied bytes_in bytes_out packets_dropped quota_hits; do
		grep -q "\"$f\"" <<<"$out" || fail "bpftool map dump of sbx_stats lacks field '$f': $(head -c 300 <<<"$out")"
	done
	out=$(bpftool map dump pinned "$PIN_DIR/sbx_config" 2>&1)
	grep -q '"root_cgroup_id": '"$(stat -c %i "$(cgroup_root)")" <<<"$out" ||
		fail "sbx_config does not show the cgroup root's id: $out"
	bpftool map dump pinned "$PIN_DIR/sbx_slots" 2>&1 | head -20 | grep -q '"owner_pid"' ||
		fail "sbx_slots dump lacks owner_pid"
}

# start_running NAME: a sandbox that made 3 allowed and 2 denied connects and
# 4 UDP datagrams of 100 bytes, then waits for $T_TMP/NAME.release.
start_running()
{
	local name=$1 i script
	pol "" "mode = \"allow\"
allow = [\"127.0.0.1:$P4/tcp\", \"127.0.0.1:$U4/udp\"]"
	script="for i in 1 2 3; do $NETTOOL connect 127.0.0.1 $P4; done
		for i in 1 2; do $NETTOOL connect 127.0.0.1 $Q4; done
		$NETTOOL sendto 127.0.0.1 $U4 4 100
		touch $T_TMP/$name.ready
		while [ ! -e $T_TMP/$name.release ]; do sleep 0.05; done"
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile t --result "$T_TMP/$name.result" -- sh -c "$script" \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	RUN_PID=$BG_PID
	for i in $(seq 200); do
		[ -e "$T_TMP/$name.ready" ] && return 0
		kill -0 "$RUN_PID" 2>/dev/null || fail "sbx run ended early: $(cat "$T_TMP/$name.err")"
		sleep 0.05
	done
	fail "the sandbox did not get ready"
}

stop_running()
{
	touch "$T_TMP/$1.release"
	wait "$RUN_PID"
	RC=$?
}

case_ps_and_stats_show_running_sandbox()
{
	local ps id st
	start_running s
	ps=$("$SBX" ps --json) || fail "sbx ps --json failed"
	eq "ps: loaded" "$(jq -r .loaded <<<"$ps")" true
	eq "ps: sandboxes" "$(jq -r '.sandboxes | length' <<<"$ps")" 1
	id=$(jq -r '.sandboxes[0].id' <<<"$ps")
	eq "ps: profile" "$(jq -r '.sandboxes[0].profile' <<<"$ps")" t
	eq "ps: provider" "$(jq -r '.sandboxes[0].provider' <<<"$ps")" host
	eq "ps: manager_pid" "$(jq -r '.sandboxes[0].manager_pid' <<<"$ps")" "$RUN_PID"
	eq "ps: connect_allowed" "$(jq -r '.sandboxes[0].connect_allowed' <<<"$ps")" 3
	eq "ps: connect_denied" "$(jq -r '.sandboxes[0].connect_denied' <<<"$ps")" 2
	eq "ps: send_allowed" "$(jq -r '.sandboxes[0].send_allowed' <<<"$ps")" 4
	"$SBX" ps | grep -q "^$id " || fail "sbx ps (table) does not list $id: $("$SBX" ps)"
	st=$("$SBX" stats --json "$id") || fail "sbx stats --json $id failed"
	eq "stats: id" "$(jq -r .id <<<"$st")" "$id"
	eq "stats: connect_allowed" "$(jq -r .connect_allowed <<<"$st")" 3
	eq "stats: connect_denied" "$(jq -r .connect_denied <<<"$st")" 2
	[ "$(jq -r .bytes_out <<<"$st")" -ge $((4 * 128)) ] || fail "stats: bytes_out $(jq -r .bytes_out <<<"$st") < 512"
	[ "$(jq -r .cgroup <<<"$st")" = "$(cgroup_root)/$id" ] || fail "stats: cgroup $(jq -r .cgroup <<<"$st")"
	# beside the network counters: memory now and at peak, CPU time, tasks
	# (from cgroup2 or the v1 controllers, whichever this host has)
	jq -e '(.memory_bytes > 0) and (.memory_peak_bytes >= .memory_bytes) and
		(.cpu_user_ms | type) == "number" and (.cpu_system_ms | type) == "number" and
		(.pids >= 2)' <<<"$st" >/dev/null ||
		fail "stats: memory/cpu/pids missing or wrong: $(jq -c '{memory_bytes, memory_peak_bytes, cpu_user_ms, cpu_system_ms, pids}' <<<"$st")"
	"$SBX" stats "$id" >"$T_TMP/stats.txt" || fail "sbx stats $id failed"
	grep -Eq '^memory +[0-9.]+ [KMG]?i?B now, [0-9.]+ [KMG]?i?B peak$' "$T_TMP/stats.txt" &&
		grep -Eq '^cpu time +[0-9.]+ s \([0-9.]+ user, [0-9.]+ system\)$' "$T_TMP/stats.txt" &&
		grep -Eq '^pids +[0-9]+$' "$T_TMP/stats.txt" || fail "sbx stats (text) lacks memory/cpu/pids: $(cat "$T_TMP/stats.txt")"
	# the order of sbx(1) and docs/cli.md: ID first, option after it; and a unique prefix
	st=$("$SBX" stats "$id" --json) || fail "sbx stats $id --json failed"
	eq "stats ID --json" "$(jq -r .connect_denied <<<"$st")" 2
	st=$("$SBX" stats --json "${id#sbx-}" | jq -r .id)
	eq "stats by prefix" "$st" "$id"
	stop_running s
	eq "sbx run exit" "$RC" 0
	eq "ps after exit" "$("$SBX" ps --json | jq '.sandboxes | length')" 0
	"$SBX" stats "$id" >/dev/null 2>&1
	eq "sbx stats of a finished sandbox: exit code" "$?" 1
}

case_unload_refused_while_running()
{
	local out rc
	start_running u
	out=$("$SBX" unload 2>&1)
	rc=$?
	eq "sbx unload exit code while a sandbox runs" "$rc" 1
	grep -qi running <<<"$out" || fail "unload message does not say why: $out"
	[ -e "$PIN_DIR/sbx_config" ] && [ -e "$PIN_DIR/link_connect4" ] || fail "pins removed by a refused unload"
	# enforcement still works in the running sandbox: the workload's cgroup is attached
	[ -d "$(cgroup_root)" ] || fail "cgroup root removed by a refused unload"
	stop_running u
	eq "sbx run exit" "$RC" 0
}

case_unload_removes_pins_and_cgroup_root()
{
	local before out
	pol "" 'mode = "none"'
	run_in r true
	before=$(map_ids)
	out=$("$SBX" unload --json) || fail "sbx unload failed: $out"
	[ "$(jq -r .pins_removed <<<"$out")" -ge 19 ] || fail "pins_removed: $out"
	[ -e "$PIN_DIR" ] && fail "pin dir left: $(ls "$PIN_DIR")"
	[ -e "$(cgroup_root)" ] && fail "cgroup root left: $(cgroup_root)"
	# nothing attached any more: a task in a fresh run loads everything again
	run_in r2 true
	expect_rc r2 0
	[ "$(map_ids)" != "$before" ] || fail "map ids unchanged after unload and a new run"
	out=$("$SBX" unload 2>&1) || fail "second unload failed: $out"
	out=$("$SBX" unload 2>&1) || fail "unload with nothing loaded failed: $out"
}

# `sbx unload` takes the instance's lock, so /run/<instance> exists while it
# runs; once nothing is loaded it has no purpose and should go too.
case_unload_removes_run_dir()
{
	local out
	pol "" 'mode = "none"'
	run_in r true
	[ -d "$RUN_DIR" ] || fail "no run dir $RUN_DIR while loaded"
	out=$("$SBX" unload 2>&1) || fail "sbx unload failed: $out"
	[ -e "$RUN_DIR" ] && fail "sbx unload left $RUN_DIR behind: $(cd "$RUN_DIR" && find . -mindepth 1 | tr '\n' ' ')"
	return 0
}

case_exit_code_passthrough()
{
	pol "" 'mode = "none"'
	run_in r sh -c 'exit 42'
	expect_rc r 42
	eq "result exit_code" "$(jr r .exit_code)" 42
	eq "result signal" "$(jr r .signal)" null
	run_in z true
	expect_rc z 0
}

# Processes the workload leaves behind die with it; sbx does not wait for them.
case_background_processes_killed_at_exit()
{
	local gc
	pol "" 'mode = "none"'
	# sbx waiting for the child would hit the limit (the child sleeps 1000 s)
	sbx_run_within 120 r -P "$T_TMP/policy.toml" --profile t -- \
		sh -c "sleep 1000 & echo \$! >$T_TMP/gc.pid; exit 3"
	expect_rc r 3
	gc=$(cat "$T_TMP/gc.pid")
	[ -n "$gc" ] || fail "the workload did not record its background child"
	alive "$gc" && { kill -9 "$gc"; fail "background process $gc survived the sandbox"; }
	eq "result exit_code" "$(jr r .exit_code)" 3
	return 0
}

case_exit_code_signal()
{
	pol "" 'mode = "none"'
	run_in r sh -c 'kill -USR1 $$'
	expect_rc r 138
	eq "result signal" "$(jr r .signal)" 10
	eq "result exit_code" "$(jr r .exit_code)" 138
}

case_exit_code_timeout()
{
	pol "" 'mode = "none"'
	# the workload would sleep for an hour: only sbx's timeout ends it
	sbx_run_within 120 r -P "$T_TMP/policy.toml" --profile t --timeout 300ms -- sleep 3600
	expect_rc r 124
	eq timed_out "$(jr r .timed_out)" true
	eq "signal that stopped sleep" "$(jr r .signal)" 15
	eq "sandbox.exit timed_out" "$(ja r '.[-1].timed_out')" true
	# a workload that ignores SIGTERM is SIGKILLed after the grace period
	sbx_run_within 120 k -P "$T_TMP/policy.toml" --profile t --timeout 300ms -- \
		sh -c 'trap "" TERM; sleep 3600; sleep 3600'
	expect_rc k 124
	eq timed_out "$(jr k .timed_out)" true
	eq "signal that stopped the TERM-ignoring shell" "$(jr k .signal)" 9
}

case_exit_code_exec_failures()
{
	pol "" 'mode = "none"'
	run_in nf "$T_TMP/does-not-exist"
	expect_rc nf 127
	printf 'not a program\n' >"$T_TMP/noexec"
	chmod 0644 "$T_TMP/noexec"
	run_in ne "$T_TMP/noexec"
	expect_rc ne 126
	run_in dir "$T_TMP"
	expect_rc dir 126
}

case_sigterm_forwarded_nothing_left()
{
	local pid rc gc i
	pol "" 'mode = "none"'
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile t --result "$T_TMP/t.result" -- \
		sh -c "sleep 1000 & echo \$! >$T_TMP/gc.pid; touch $T_TMP/t.ready; wait" >"$T_TMP/t.out" 2>"$T_TMP/t.err"
	pid=$BG_PID
	for i in $(seq 200); do [ -e "$T_TMP/t.ready" ] && break; sleep 0.05; done
	[ -e "$T_TMP/t.ready" ] || fail "workload did not start: $(cat "$T_TMP/t.err")"
	gc=$(cat "$T_TMP/gc.pid")
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	eq "sbx exit code after SIGTERM" "$rc" 143
	eq "result signal" "$(jr t .signal)" 15
	alive "$gc" && { kill -9 "$gc"; fail "the workload's child $gc survived"; }
	return 0
}

case_sbx_kill_stops_sandbox()
{
	local id rc
	start_running k
	id=$("$SBX" ps --json | jq -r '.sandboxes[0].id')
	"$SBX" kill "$id" >/dev/null || fail "sbx kill $id failed"
	wait "$RUN_PID"
	rc=$?
	eq "sbx run exit code after sbx kill" "$rc" 137
}

# start_orphan_maker NAME: a sandbox whose workload has a child that keeps
# trying a denied connect (writing each result to NAME.last); sets RUN_PID and
# ORPHAN (the child's pid).
start_orphan_maker()
{
	local name=$1 i
	pol "" "mode = \"allow\"
allow = [\"127.0.0.1:$P4/tcp\"]"
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- sh -c "
		(while :; do $NETTOOL connect 127.0.0.1 $Q4 >$T_TMP/$name.tmp 2>&1; mv $T_TMP/$name.tmp $T_TMP/$name.last; sleep 0.05; done) &
		echo \$! >$T_TMP/$name.pid; wait" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	RUN_PID=$BG_PID
	for i in $(seq 200); do [ -s "$T_TMP/$name.last" ] && [ -s "$T_TMP/$name.pid" ] && break; sleep 0.05; done
	ORPHAN=$(cat "$T_TMP/$name.pid" 2>/dev/null)
	[ -n "$ORPHAN" ] || fail "the workload did not start: $(cat "$T_TMP/$name.err")"
	# whatever happens, the test kills what it started
	T_CASE_RESTORE="kill -9 $ORPHAN 2>/dev/null"
	eq "connect to the denied port inside the sandbox" "$(cat "$T_TMP/$name.last")" EPERM
}

# providers/spawn.c: "The sandbox must not outlive its manager." PDEATHSIG
# only reaches the workload's first process; its children must go too.
case_manager_sigkill_kills_whole_sandbox()
{
	local i v1
	start_orphan_maker m
	v1=$(v1_sandbox_dirs)
	[ -n "$v1" ] || [ -z "$(v1_instance_dirs)" ] || fail "the sandbox has no v1 cgroup (memory is always accounted)"
	kill -9 "$RUN_PID"
	wait "$RUN_PID" 2>/dev/null
	# generous: the watchdog kills through the cgroup on a loaded machine
	for i in $(seq 600); do alive "$ORPHAN" || break; sleep 0.05; done
	if alive "$ORPHAN"; then
		fail "process $ORPHAN of the sandbox still runs 30 s after its sbx run was SIGKILLed" \
			"(last connect to the denied port: $(cat "$T_TMP/m.last"); cgroup $(sed -n 's/^0:://p' /proc/$ORPHAN/cgroup))"
	fi
	# the watchdog removes the sandbox's v1 cgroups too (they leaked before)
	for i in $(seq 600); do [ -z "$(existing $v1)" ] && break; sleep 0.05; done
	[ -z "$(existing $v1)" ] || fail "v1 cgroups of the killed sandbox left: $(existing $v1)"
	return 0
}

# v1_sandbox_dirs: the v1 cgroups of this instance's sandboxes.
v1_sandbox_dirs()
{
	local d
	for d in $(v1_instance_dirs); do
		ls -d "$d"/*/ 2>/dev/null
	done
}

existing()
{
	local d
	for d in "$@"; do [ -d "$d" ] && echo "$d"; done
}

# v1 sandbox cgroups that nothing removed (a manager and its watchdog both
# SIGKILLed) are removed by sbx unload, with the instance directories.
case_unload_removes_stale_v1_cgroups()
{
	local d made="" out
	pol "" 'mode = "none"'
	run_in r true
	expect_rc r 0
	# memory and pids: hierarchies sbx uses that need no set-up to mkdir in
	for d in $(v1_instance_dirs | grep -E '/(memory|pids)/'); do
		[ -d "${d%/*}" ] || continue
		mkdir -p "$d/sbx-0badc0de" && made="$made $d/sbx-0badc0de"
	done
	[ -n "$made" ] || skip "no v1 cgroup hierarchy on this host (pure cgroup2)"
	out=$("$SBX" unload 2>&1) || fail "sbx unload failed: $out"
	[ -z "$(existing $made)" ] || fail "sbx unload left stale v1 cgroups: $(existing $made)"
	[ -z "$(existing $(v1_instance_dirs))" ] || fail "sbx unload left v1 instance directories: $(existing $(v1_instance_dirs))"
}

# After a manager crash, "sbx unload" must not detach the programs while a
# process of the sandbox lives on: either it refuses (exit 1) or nothing of
# the sandbox is left; never an unconfined workload.
case_unload_after_manager_crash_leaves_nothing_unconfined()
{
	local rc out
	start_orphan_maker c
	kill -9 "$RUN_PID"
	wait "$RUN_PID" 2>/dev/null
	sleep 0.3
	if alive "$ORPHAN"; then
		eq "fail-closed: connect after the manager died" "$(cat "$T_TMP/c.last")" EPERM
	fi
	out=$("$SBX" unload 2>&1)
	rc=$?
	sleep 0.3
	if [ $rc = 0 ] && alive "$ORPHAN"; then
		fail "sbx unload succeeded while process $ORPHAN of a sandbox (manager killed) still runs;" \
			"its connect to the denied port now gives '$(cat "$T_TMP/c.last")' (unconfined)"
	fi
	if [ $rc = 0 ]; then
		[ -e "$PIN_DIR" ] && fail "pins left after unload"
		[ -e "$(cgroup_root)" ] && fail "unload left the cgroup root: $(ls -d "$(cgroup_root)"/*/ 2>/dev/null | tr '\n' ' ')"
	fi
	return 0
}

setup life_setup
run_case first_run_loads_and_pins case_first_run_loads_and_pins
run_case second_run_adopts case_second_run_adopts
run_case incomplete_setup_replaced_when_idle case_incomplete_setup_replaced_when_idle
run_case bpftool_dump_shows_btf_field_names case_bpftool_dump_shows_btf_field_names
run_case ps_and_stats_show_running_sandbox case_ps_and_stats_show_running_sandbox
run_case unload_refused_while_running case_unload_refused_while_running
run_case unload_removes_pins_and_cgroup_root case_unload_removes_pins_and_cgroup_root
run_case unload_removes_run_dir case_unload_removes_run_dir
run_case unload_removes_stale_v1_cgroups case_unload_removes_stale_v1_cgroups
run_case exit_code_passthrough case_exit_code_passthrough
run_case background_processes_killed_at_exit case_background_processes_killed_at_exit
run_case exit_code_signal case_exit_code_signal
run_case exit_code_timeout case_exit_code_timeout
run_case exit_code_exec_failures case_exit_code_exec_failures
run_case sigterm_forwarded_nothing_left case_sigterm_forwarded_nothing_left
run_case sbx_kill_stops_sandbox case_sbx_kill_stops_sandbox
run_case manager_sigkill_kills_whole_sandbox case_manager_sigkill_kills_whole_sandbox
run_case unload_after_manager_crash_leaves_nothing_unconfined case_unload_after_manager_crash_leaves_nothing_unconfined
finish
