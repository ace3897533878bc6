#!/bin/bash
# SPDX-License-Identifier: MIT
# Once the workload runs, and again whenever its wait loop has been quiet for
# 100 ms, the monitor (`sbx run`) drops the page-table entries of its clean
# file mappings: the text and rodata of sbx and its libraries
# (sbx_trim_memory, user/util/util.c). What runs later is mapped back from
# the page cache. What could go wrong:
# - the monitor runs code that is no longer the file it started from: sbx's
#   binary replaced by a rename while the monitor idles (the mapping keeps
#   the old inode: it must go on with the old code) or written in place (the
#   kernel refuses: ETXTBSY); libraries are root's, and a clean file page can
#   be dropped by reclaim at any time anyway;
# - a page it wrote is thrown away (relocations, data): the audit, the
#   accounting and the teardown that run after the trim must be whole;
# - the trim does not happen at all: the start-only code stays mapped;
# - the audit ring's mapping, let go while idle, is not taken again when
#   events come, or an event is lost or read twice across it.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/monitor_lib.sh"

P4=""

trim_setup()
{
	start_listener P4 127.0.0.1 tcp || return 1
}

tpol()
{
	write_policy "$T_TMP/policy.toml" t "pids = 64" "mode = \"allow\"
allow = [\"127.0.0.1:$P4/tcp\"]"
}

# text_rss PID FILE: "SIZE RSS" in KiB of FILE's executable mapping in PID
text_rss()
{
	awk -v f="$2" '
		/^[0-9a-f]+-[0-9a-f]+ / { x = ($2 ~ /x/ && $6 == f) }
		x && /^Size:/ { sz = $2 }
		x && /^Rss:/ { print sz, $2; exit }' "/proc/$1/smaps" 2>/dev/null
}

# wait_trimmed PID FILE: until at most a quarter of FILE's text is resident
# in PID (10 s at most); the start maps most of it
wait_trimmed()
{
	local sz rss
	for _ in $(seq 200); do
		read -r sz rss <<<"$(text_rss "$1" "$2")"
		[ -n "$rss" ] && [ "$rss" -le $((sz / 4)) ] && return 0
		sleep 0.05
	done
	fail "the idle monitor still maps ${rss:-?} of ${sz:-?} KiB of $2's text"
}

# sbx's text, mapped whole while it starts a sandbox, is given back once the
# workload idles: what stays is the idle tick's (.text.hot)
case_idle_monitor_gives_back_text()
{
	local sz rss
	tpol
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- sleep 30 >"$T_TMP/i.out" 2>"$T_TMP/i.err"
	wait_for_child "$BG_PID"
	read -r sz rss <<<"$(text_rss "$BG_PID" "$(readlink -f "$SBX")")"
	[ -n "$sz" ] || fail "no executable mapping of $SBX in the monitor"
	wait_trimmed "$BG_PID" "$(readlink -f "$SBX")"
	kill_bg "$BG_PID"
}

# held_run NAME SBX CODE: SBX runs a workload that waits for $T_TMP/NAME.go,
# connects to 127.0.0.1 (allowed) and 127.0.0.2 (denied), and exits CODE;
# result, audit and sbx's exit status into $T_TMP/NAME.{result,audit,rc}.
# Returns once the monitor is trimmed; sets MON (its pid).
held_run()
{
	local n=$1 bin=$2
	bg sh -c "\"$bin\" run --result $T_TMP/$n.result --audit $T_TMP/$n.audit -P $T_TMP/policy.toml \
		--profile t -- sh -c 'while [ ! -e $T_TMP/$n.go ]; do sleep 0.1; done; \
		$NETTOOL connect 127.0.0.1 $P4; $NETTOOL connect 127.0.0.2 $P4; exit $3' \
		>$T_TMP/$n.out 2>$T_TMP/$n.err; echo \$? >$T_TMP/$n.rc"
	MON=""
	for _ in $(seq 200); do
		MON=$(pgrep -P "$BG_PID" -x sbx) && break
		sleep 0.05
	done
	[ -n "$MON" ] || fail "no sbx under $BG_PID: $(cat "$T_TMP/$n.err")"
	wait_for_child "$MON"
	wait_trimmed "$MON" "$(readlink -f "$bin")"
	wait_ring_released "$MON"
}

# held_end NAME CODE: lets the workload of held_run go; the exit status, the
# result and the audit must be whole
held_end()
{
	local n=$1 ev
	touch "$T_TMP/$n.go"
	wait "$BG_PID"
	eq "sbx's exit status" "$(cat "$T_TMP/$n.rc")" "$2"
	eq "result exit_code" "$(jq -r .exit_code "$T_TMP/$n.result")" "$2"
	eq "denials counted in the result" "$(jq -r '.denials["net.connect"]' "$T_TMP/$n.result")" 1
	ev=$(jq -c 'select(.event == "net.connect")' "$T_TMP/$n.audit")
	eq "net.connect events" "$(grep -c . <<<"$ev")" 1
	eq "denied address" "$(jq -r .addr <<<"$ev")" 127.0.0.2
	eq "verdict" "$(jq -r .verdict <<<"$ev")" deny
	eq "sandbox.exit" "$(jq -r 'select(.event == "sandbox.exit") | .exit_code' "$T_TMP/$n.audit")" "$2"
}

# A denied connect made after the trim is audited whole, the exit status and
# the accounting come through, and the teardown leaves nothing (run_case
# checks): the code that runs them was mapped back in, nothing written lost.
case_audit_and_teardown_after_trim()
{
	tpol
	held_run a "$SBX" 7
	held_end a 7
}

# sbx's binary replaced while the trimmed monitor idles: written in place is
# refused; renamed over, the monitor goes on with the file it started from
# (its mapping holds the old inode) and ends the sandbox as it would have.
case_binary_replaced_while_idle()
{
	local d=$T_TMP/bin
	mkdir "$d" && cp "$SBX" "$d/sbx" || fail "cannot copy sbx"
	tpol
	held_run b "$d/sbx" 5
	# in place: the kernel refuses to open a running program for writing
	if (exec 3>>"$d/sbx") 2>"$T_TMP/w.err"; then
		fail "the running sbx could be opened for writing"
	fi
	grep -q "busy" "$T_TMP/w.err" || fail "not refused as busy (ETXTBSY): $(cat "$T_TMP/w.err")"
	# renamed over: garbage where sbx was
	head -c 600000 /dev/urandom >"$d/sbx.new" && chmod 755 "$d/sbx.new" && mv -f "$d/sbx.new" "$d/sbx" ||
		fail "cannot replace the copy"
	held_end b 5
}

# The idle monitor lets the audit ring's mapping go and maps it again when
# events come (run.c ring_release): three bursts of 200 denied connects, each
# made only once the monitor has released the ring, all arrive: every denial
# is an event (or a counted suppression), no drop, no sequence gap, nothing
# read twice.
case_ring_released_and_remapped()
{
	local i n ev sup
	tpol
	bg "$SBX" run --result "$T_TMP/r.result" --audit "$T_TMP/r.audit" -P "$T_TMP/policy.toml" --profile t -- \
		sh -c "for i in 1 2 3; do while [ ! -e $T_TMP/go.\$i ]; do sleep 0.05; done; \
			$NETTOOL flood 127.0.0.2 $P4 200 >/dev/null; touch $T_TMP/done.\$i; done" \
		>"$T_TMP/r.out" 2>"$T_TMP/r.err"
	wait_for_child "$BG_PID"
	for i in 1 2 3; do
		wait_ring_released "$BG_PID"
		touch "$T_TMP/go.$i"
		for _ in $(seq 200); do
			[ -e "$T_TMP/done.$i" ] && break
			sleep 0.05
		done
		[ -e "$T_TMP/done.$i" ] || fail "burst $i did not end: $(tail -c 300 "$T_TMP/r.err")"
	done
	wait "$BG_PID"
	eq "sbx's exit status" "$?" 0
	n=$(jq -c 'select(.event == "net.connect")' "$T_TMP/r.audit" | grep -c .)
	sup=$(jq -r .audit.suppressed.deny "$T_TMP/r.result")
	eq "denials counted (events received)" "$(jq -r '.denials["net.connect"]' "$T_TMP/r.result")" "$n"
	eq "net.connect events plus suppressed" "$((n + sup))" 600
	eq "dropped" "$(jq -r .audit.dropped "$T_TMP/r.result")" 0
	eq "sequence gaps" "$(jq -r .audit.sequence_gaps "$T_TMP/r.result")" 0
	ev=$(jq -r 'select(.event == "net.connect") | .seq' "$T_TMP/r.audit" | sort -n | uniq -d | head -3)
	eq "events read twice (seq)" "$ev" ""
}

setup trim_setup
run_case idle_monitor_gives_back_text case_idle_monitor_gives_back_text
run_case audit_and_teardown_after_trim case_audit_and_teardown_after_trim
run_case binary_replaced_while_idle case_binary_replaced_while_idle
run_case ring_released_and_remapped case_ring_released_and_remapped
finish
