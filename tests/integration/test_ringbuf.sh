#!/bin/bash
# SPDX-License-Identifier: MIT
# Ring buffer overflow is counted, never silent: an instance loaded with a
# 4 KiB per-sandbox ring and a workload that makes thousands of audited
# denials in a tight loop (rate limits raised out of the way) loses events,
# and the result says how many. Every decision takes a sequence number
# whether or not its event fits, so
#   events delivered + events dropped == last sequence number
# and, since sandbox.start and sandbox.exit are written while the ring is
# empty, every drop shows up as a sequence gap. Allow events never fill the
# ring: they stop at half of it (the rest is the denials' reserve) and what
# they miss is counted as suppressed, not dropped.
. "$(dirname "$0")/lib.sh"

FLOOD=20000

ring_setup()
{
	start_listener U4 127.0.0.1 udp || return 1
	local limits='audit_rate = 100000
audit_burst = 1000000
audit_deny_rate = 100000
audit_deny_burst = 1000000'
	write_policy "$T_TMP/policy.toml" t "$limits" 'mode = "allow"'
	write_policy "$T_TMP/allow.toml" t "audit = \"all\"
$limits" 'mode = "full"'
}

case_tiny_ring_loaded()
{
	local size
	[ -e "$PIN_DIR" ] && fail "instance already loaded"
	sbx_run r -P "$T_TMP/policy.toml" --ring-size 4096 -- true
	expect_rc r 0
	size=$(bpftool map dump pinned "$PIN_DIR/sbx_config" -j | jq -r '.[0].formatted.value.ring_size // .[0].value.ring_size')
	eq "sbx_config ring_size" "$size" 4096
}

case_overflow_counted()
{
	local last events dropped gaps
	[ -e "$PIN_DIR/sbx_config" ] || skip "the tiny-ring instance was not loaded"
	sbx_run f -P "$T_TMP/policy.toml" -- "$NETTOOL" flood 127.0.0.1 "$U4" $FLOOD
	grep -q "^EPERM connects=0 failed=$FLOOD" "$T_TMP/f.out" || fail "flood: $(cat "$T_TMP/f.out")"
	eq connect_denied "$(jr f .network.connect_denied)" $FLOOD
	eq "suppressed" "$(jr f '"\(.audit.suppressed.allow) \(.audit.suppressed.deny)"')" "0 0"
	events=$(jr f .audit.events)
	dropped=$(jr f .audit.dropped)
	gaps=$(jr f .audit.sequence_gaps)
	last=$(ja f '.[-1].seq')
	[ "$dropped" -gt 0 ] || fail "audit.dropped is $dropped after $FLOOD events through a 4 KiB ring"
	[ "$gaps" -gt 0 ] || fail "audit.sequence_gaps is $gaps"
	eq "last seq (start + $FLOOD + exit)" "$last" $((FLOOD + 2))
	eq "events + dropped" "$((events + dropped))" "$last"
	eq "sequence_gaps" "$gaps" "$dropped"
	eq "event lines in the --audit file" "$(grep -vc '"event":"audit.dropped"' "$T_TMP/f.audit")" "$events"
	# back-pressure is visible: audit.dropped lines sum to the result's count
	eq "audit.dropped ring sum" "$(ja f '[.[] | select(.event == "audit.dropped") | .ring] | add')" "$dropped"
	eq "audit.dropped last ring_total" "$(ja f '[.[] | select(.event == "audit.dropped")][-1].ring_total')" "$dropped"
	grep -q "^sbx: warning: sbx-[0-9a-f]*: [0-9]* audit events dropped" "$T_TMP/f.err" ||
		fail "no drop warning on stderr: $(head -c 300 "$T_TMP/f.err")"
	eq "first event" "$(ja f '.[0] | "\(.seq) \(.event)"')" "1 sandbox.start"
	eq "last event" "$(ja f '.[-1].event')" sandbox.exit
	eq "sequence increasing" "$(ja f '[.[] | select(.seq) | .seq] as $s | [range(1; $s | length) | select($s[.] <= $s[. - 1])] | length')" 0
	eq "gaps in the file" "$(ja f '[.[] | select(.seq) | .seq] as $s | [range(1; $s | length) | $s[.] - $s[. - 1] - 1] | add')" "$dropped"
}

case_allow_events_keep_the_reserve()
{
	local events supp last
	[ -e "$PIN_DIR/sbx_config" ] || skip "the tiny-ring instance was not loaded"
	sbx_run a -P "$T_TMP/allow.toml" -- "$NETTOOL" flood 127.0.0.1 "$U4" $FLOOD
	expect_rc a 0
	eq connect_allowed "$(jr a .network.connect_allowed)" $FLOOD
	events=$(jr a .audit.events)
	supp=$(jr a .audit.suppressed.allow)
	last=$(ja a '[.[].seq] | max')
	eq "dropped (the reserve is never reached)" "$(jr a .audit.dropped)" 0
	[ "$supp" -gt 0 ] || fail "audit.suppressed.allow is $supp after $FLOOD events through a 4 KiB ring"
	eq "events + suppressed" "$((events + supp))" "$last"
	eq "sequence_gaps" "$(jr a .audit.sequence_gaps)" 0
	eq "summary" "$(ja a '[.[] | select(.event == "audit.suppressed") | .allow] | add')" "$supp"
}

setup ring_setup
run_case tiny_ring_loaded case_tiny_ring_loaded
run_case overflow_counted case_overflow_counted
run_case allow_events_keep_the_reserve case_allow_events_keep_the_reserve
finish
