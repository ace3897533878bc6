#!/bin/bash
# SPDX-License-Identifier: MIT
# The syscall tracepoints (tp_btf/sys_enter, sys_exit) tax every syscall of
# the host while attached, so sbx attaches them only while a sandbox needs
# them (docs/architecture.md, "Syscall tracing"; user/core/trace.h): with
# none the instance has no sys_enter/sys_exit link, a needing sandbox gets
# them before its workload runs (and its seccomp refusal is audited once),
# overlapping sandboxes share them, and a manager killed with SIGKILL does
# not leave them attached for good.
. "$(dirname "$0")/lib.sh"

# profiles: "quiet" has a seccomp filter but audit "none", "host" has no
# filter and fs mode full (neither needs the tracepoints); "audited" has a
# filter and audit on
tr_setup()
{
	cat >"$T_TMP/p.toml" <<EOF
version = 1
[profile.host]
provider = "host"
min_isolation = "none"
[profile.host.fs]
mode = "full"

[profile.quiet]
provider = "process"
audit = "none"
[profile.quiet.seccomp]
deny = ["chroot"]

[profile.audited]
provider = "process"
[profile.audited.seccomp]
deny = ["chroot"]

[profile.raised]
provider = "process"
audit = "deny"
[profile.raised.seccomp]
deny = ["chroot"]
EOF
	# the live update tool of test_update.sh (core/update.h, as sbxd drives it)
	[ -x "$UPDATE_TOOL" ] || make -s -C "$(dirname "$0")/../.." OUTPUT="${OUTPUT:-$PWD/build}" "$UPDATE_TOOL"
}

UPDATE_TOOL=${OUTPUT:-$PWD/build}/tests/integration/update_tool

# The pins of the links and what the kernel has attached: "enter exit" for
# each of the two tracepoints whose link runs the instance's programs.
attached()
{
	local id out=""
	[ -e "$PIN_DIR/link_sys_enter" ] && out="pin_enter"
	[ -e "$PIN_DIR/link_sys_exit" ] && out="$out pin_exit"
	for p in enter exit; do
		id=$(bpftool prog show pinned "$PIN_DIR/prog_sys_$p" -j 2>/dev/null | jq -r .id)
		[ -n "$id" ] && [ "$id" != null ] || continue
		bpftool link show -j 2>/dev/null | jq -e --argjson id "$id" 'any(.[]; .prog_id == $id)' \
			>/dev/null && out="$out link_$p"
	done
	echo "${out# }"
}

ALL="pin_enter pin_exit link_enter link_exit"

REFUSE='chroot / true 2>/dev/null; echo chroot=$?'

# denied NAME: the syscall.denied events of chroot in NAME's --audit file.
denied()
{
	ja "$1" '[.[] | select(.event == "syscall.denied" and .syscall == "chroot")] | length'
}

case_none_needed_no_links()
{
	"$SBX" run -P "$T_TMP/p.toml" --profile host -- /bin/true >/dev/null 2>&1 || fail "host run failed"
	[ -e "$PIN_DIR/prog_sys_enter" ] || fail "prog_sys_enter is not pinned: $(ls "$PIN_DIR" | tr '\n' ' ')"
	held_start quiet -P "$T_TMP/p.toml" --profile quiet -- sh -c "$REFUSE"
	eq "links with a sandbox whose audit is none" "$(attached)" ""
	eq "sbx features" "$("$SBX" features --json | jq -r .syscall_tracing)" detached
	held_go quiet
	wait "$PID"
	eq "quiet's exit code" "$(jr quiet .exit_code)" 0
	grep -q 'chroot=[1-9]' "$T_TMP/quiet.out" || fail "chroot was not refused: $(cat "$T_TMP/quiet.out")"
	eq "events of audit none" "$(denied quiet)" 0
	eq "links after" "$(attached)" ""
	# the exec guard (once per exec) stays attached
	[ -e "$PIN_DIR/link_exec_guard" ] || fail "link_exec_guard is gone"
}

case_needing_attaches_audits_once()
{
	held_start a -P "$T_TMP/p.toml" --profile audited -- sh -c "$REFUSE"
	eq "links while the audited sandbox runs" "$(attached)" "$ALL"
	eq "sbx features" "$("$SBX" features --json | jq -r .syscall_tracing)" attached
	held_go a
	wait "$PID"
	eq "A's exit code" "$(jr a .exit_code)" 0
	grep -q 'chroot=[1-9]' "$T_TMP/a.out" || fail "chroot was not refused: $(cat "$T_TMP/a.out")"
	eq "syscall.denied events" "$(denied a)" 1
	eq "links after its end" "$(attached)" ""
}

case_overlap_first_end_keeps_second()
{
	local pa
	held_start a -P "$T_TMP/p.toml" --profile audited -- sh -c "$REFUSE"
	pa=$PID
	held_start b -P "$T_TMP/p.toml" --profile audited -- sh -c "$REFUSE"
	held_go a
	wait "$pa"
	eq "A's exit code" "$(jr a .exit_code)" 0
	eq "links after the first ended" "$(attached)" "$ALL"
	held_go b
	wait "$PID"
	eq "B's exit code" "$(jr b .exit_code)" 0
	eq "A's syscall.denied events" "$(denied a)" 1
	eq "B's syscall.denied events" "$(denied b)" 1
	eq "links after both ended" "$(attached)" ""
}

case_sigkill_runner_links_go_at_next_start()
{
	held_start k --direct -P "$T_TMP/p.toml" --profile audited -- sh -c "$REFUSE"
	eq "links while it runs" "$(attached)" "$ALL"
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null
	# its slot stays active until the next sbx reclaims it (its sandbox may
	# still run until then): the links stay
	eq "links after SIGKILL" "$(attached)" "$ALL"
	# a needing sandbox started now reclaims the slot and keeps the links
	held_start c -P "$T_TMP/p.toml" --profile audited -- sh -c "$REFUSE"
	eq "links with the next needing sandbox" "$(attached)" "$ALL"
	held_go c
	wait "$PID"
	eq "C's exit code" "$(jr c .exit_code)" 0
	eq "C's syscall.denied events" "$(denied c)" 1
	eq "links after it" "$(attached)" ""
	# killed again, then a start that needs nothing: the reclaim unpins
	held_start k2 --direct -P "$T_TMP/p.toml" --profile audited -- sh -c "$REFUSE"
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null
	eq "links after the second SIGKILL" "$(attached)" "$ALL"
	"$SBX" run -P "$T_TMP/p.toml" --profile host -- /bin/true >/dev/null 2>&1 || fail "host run failed"
	eq "links after the next start" "$(attached)" ""
}

# A live update that raises the audit level from "none" applies the rule
# again: the links are attached before the flip, and the refusal after it is
# audited; the sandbox's end detaches them (its slot carried the flag).
case_update_raising_audit_attaches()
{
	local id out
	held_start q -P "$T_TMP/p.toml" --profile quiet -- sh -c "$REFUSE"
	eq "links before the update" "$(attached)" ""
	id=$("$SBX" ps --json | jq -r '.sandboxes[0].id')
	out=$("$UPDATE_TOOL" update "$T_TMP/p.toml" quiet raised "$id") || fail "update failed: $out"
	eq "links after the update" "$(attached)" "$ALL"
	held_go q
	wait "$PID"
	eq "Q's syscall.denied events" "$(denied q)" 1
	eq "links after it ended" "$(attached)" ""
}

case_unload_after_sigkill()
{
	held_start u --direct -P "$T_TMP/p.toml" --profile audited -- sh -c "$REFUSE"
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null
	"$SBX" unload >/dev/null 2>&1 || fail "sbx unload failed"
	eq "links after unload" "$(attached)" ""
	[ -e "$PIN_DIR" ] && fail "pins left: $(ls "$PIN_DIR" | tr '\n' ' ')"
	return 0
}

setup tr_setup
command -v bpftool >/dev/null || SBX_TEST_SKIP="bpftool is not installed"
run_case none_needed_no_links case_none_needed_no_links
run_case needing_attaches_audits_once case_needing_attaches_audits_once
run_case overlap_first_end_keeps_second case_overlap_first_end_keeps_second
run_case sigkill_runner_links_go_at_next_start case_sigkill_runner_links_go_at_next_start
run_case update_raising_audit_attaches case_update_raising_audit_attaches
run_case unload_after_sigkill case_unload_after_sigkill
finish
