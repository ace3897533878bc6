#!/bin/bash
# SPDX-License-Identifier: MIT
# Ring buffer overflow is counted, never silent: an instance loaded with a
# 4 KiB per-sandbox ring and a workload that makes thousands of audited
# decisions in a tight loop loses events, and the result says how many.
# Every decision takes a sequence number whether or not its event fits, so
#   events delivered + events dropped == last sequence number
# and, since sandbox.start and sandbox.exit are written while the ring is
# empty, every drop shows up as a sequence gap.
. "$(dirname "$0")/lib.sh"

FLOOD=20000

ring_setup()
{
	start_listener U4 127.0.0.1 udp || return 1
	write_policy "$T_TMP/policy.toml" t 'audit = "all"' 'mode = "full"'
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
	expect_rc f 0
	eq connect_allowed "$(jr f .network.connect_allowed)" $FLOOD
	events=$(jr f .audit.events)
	dropped=$(jr f .audit.dropped)
	gaps=$(jr f .audit.sequence_gaps)
	last=$(ja f '.[-1].seq')
	[ "$dropped" -gt 0 ] || fail "audit.dropped is $dropped after $FLOOD events through a 4 KiB ring"
	[ "$gaps" -gt 0 ] || fail "audit.sequence_gaps is $gaps"
	eq "last seq (start + $FLOOD + exit)" "$last" $((FLOOD + 2))
	eq "events + dropped" "$((events + dropped))" "$last"
	eq "sequence_gaps" "$gaps" "$dropped"
	eq "lines in the --audit file" "$(wc -l <"$T_TMP/f.audit")" "$events"
	eq "first event" "$(ja f '.[0] | "\(.seq) \(.event)"')" "1 sandbox.start"
	eq "last event" "$(ja f '.[-1].event')" sandbox.exit
	eq "sequence increasing" "$(ja f '[.[].seq] as $s | [range(1; $s | length) | select($s[.] <= $s[. - 1])] | length')" 0
	eq "gaps in the file" "$(ja f '[.[].seq] as $s | [range(1; $s | length) | $s[.] - $s[. - 1] - 1] | add')" "$dropped"
}

setup ring_setup
run_case tiny_ring_loaded case_tiny_ring_loaded
run_case overflow_counted case_overflow_counted
finish
