#!/bin/bash
# SPDX-License-Identifier: MIT
# A non-zero global_dropped (docs/audit.md sections 4.1, 5, 6): the global
# ring sbx_events (1 MiB, about 10,900 network events) is filled whether or
# not anybody reads it; nobody reads it here, and one sandbox makes 20,000
# audited connects. The copies that do not fit are counted as
# audit.global_dropped in the result, and the global stream read afterwards
# (docs/examples/sbx-consumer) has exactly that many sequence numbers missing:
#   global copies received + global_dropped == the sandbox's last seq.
# The flood is the first run of this file's instance, so the global ring holds
# nothing else. The audit rate limits are set to their maximum: this is about
# the rings, not the limits (tests/security/test_audit_flood.sh).
. "$(dirname "$0")/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CONSUMER=$OUTPUT/examples/sbx-consumer
FLOOD=20000

gd_setup()
{
	[ -x "$NETTOOL" ] || gcc -std=gnu11 -O2 -Wall -Wextra -o "$NETTOOL" "$ROOT/tests/integration/nettool.c" || return 1
	make -s -C "$ROOT/docs/examples" OUTPUT="$OUTPUT/examples" CFLAGS="-O2 -g" "$CONSUMER" || return 1
	start_listener U4 127.0.0.1 udp || return 1
	# the rate limits out of the way (their maximum): every connect is an
	# event, and none is suppressed (so no audit.suppressed summary either)
	write_policy "$T_TMP/policy.toml" t 'audit = "all"
audit_rate = 100000
audit_burst = 1000000' 'mode = "full"'
}

case_global_dropped_counted()
{
	local last events dropped gdrop got crc supp summaries
	[ -e "$PIN_DIR" ] && fail "instance already loaded: the global ring would not be empty"
	# a sandbox ring that holds the whole flood: on a loaded machine the
	# monitor reads late, and allow events that would pass half of a small
	# ring are suppressed, leaving fewer copies than the global ring holds
	sbx_run f -P "$T_TMP/policy.toml" --ring-size 8M -- "$NETTOOL" flood 127.0.0.1 "$U4" $FLOOD
	expect_rc f 0
	eq connect_allowed "$(jr f .network.connect_allowed)" $FLOOD
	events=$(jr f .audit.events)
	dropped=$(jr f .audit.dropped)
	gdrop=$(jr f .audit.global_dropped)
	last=$(ja f '.[-1].seq')
	eq "last event of the JSON log" "$(ja f '.[-1].event')" sandbox.exit
	# allow events leave half of the sandbox's ring to denials: what they
	# cannot have is suppressed (counted, and reported by audit.suppressed
	# events, which take sequence numbers of their own)
	supp=$(jr f '.audit.suppressed.allow + .audit.suppressed.deny')
	summaries=$(ja f '[.[] | select(.event == "audit.suppressed")] | length')
	eq "last seq (start + $FLOOD + $summaries summaries + exit)" "$last" $((FLOOD + 2 + summaries))
	eq "events + dropped + suppressed (own ring)" "$((events + dropped + supp))" "$last"
	[ "$gdrop" -gt 0 ] || fail "audit.global_dropped is $gdrop after $FLOOD events with nobody reading a 1 MiB global ring"
	[ "$gdrop" -lt "$last" ] || fail "audit.global_dropped $gdrop >= $last events"
	# the unread global ring: its copies (neither dropped nor suppressed),
	# then nothing more
	local want=$((last - gdrop - supp))
	timeout -k 5 120 "$CONSUMER" -n $want -t 60 "$SBX_INSTANCE" >"$T_TMP/g.out" 2>"$T_TMP/g.err"
	crc=$?
	eq "consumer exit (0: got all $want copies)" "$crc" 0
	timeout -k 5 30 "$CONSUMER" -t 1 "$SBX_INSTANCE" >"$T_TMP/g2.out" 2>"$T_TMP/g2.err"
	eq "copies beyond last - global_dropped - suppressed" "$(wc -l <"$T_TMP/g2.out")" 0
	got=$(sed -n 's/.* seq=\([0-9]*\) .*/\1/p' "$T_TMP/g.out" | sort -u)
	eq "distinct seqs on the global ring" "$(wc -l <<<"$got")" $want
	eq "global sequence gaps (1..$last missing)" "$(comm -13 <(echo "$got") <(seq "$last" | sort) | wc -l)" \
		"$((gdrop + supp))"
	eq "first global copy" "$(head -1 "$T_TMP/g.out" | cut -d' ' -f1-2)" "sandbox.start seq=1"
	# sbx_drops of the sandbox's slot, raw (bpftool), says the same
	local slot
	slot=$(sed -n '1s/.* slot=\([0-9]*\) .*/\1/p' "$T_TMP/g.out")
	[ -n "$slot" ] || fail "no slot in the consumer's first line: $(head -1 "$T_TMP/g.out")"
	eq "sbx_drops[$slot].global (bpftool, summed over CPUs)" "$(bpftool -j map lookup pinned "$PIN_DIR/sbx_drops" \
		key $((slot & 255)) $((slot >> 8 & 255)) 0 0 | jq '[.formatted.values[].value.global] | add')" "$gdrop"
}

setup gd_setup
run_case global_dropped_counted case_global_dropped_counted
finish
