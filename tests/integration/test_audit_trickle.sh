#!/bin/bash
# SPDX-License-Identifier: MIT
# A steady trickle of audited denials loses nothing. While events keep
# coming, sbx run drains its ring every 200 us with the ring left out of its
# poll set between drains (core/run.c, AUDIT_DRAIN_PAUSE_NS); the
# once-a-second summary tick drains it too. A tick that found the ring empty
# during such a pause once left the ring out of the poll set until the next
# tick, and a second of events was dropped. 12,000 denied connects at 4,000
# a second (3 s, three ticks; the default 256 KiB ring holds about 2,700)
# must all be in the log, with no sequence gap.
. "$(dirname "$0")/lib.sh"

N=12000
RATE=4000

trickle_setup()
{
	start_listener U4 127.0.0.1 udp || return 1
	write_policy "$T_TMP/policy.toml" t 'audit_deny_rate = 100000
audit_deny_burst = 1000000' 'mode = "allow"'
}

case_trickle_loses_nothing()
{
	[ -e "$PIN_DIR" ] && fail "instance already loaded: its ring may not be the default size"
	sbx_run t -P "$T_TMP/policy.toml" -- "$NETTOOL" flood 127.0.0.1 "$U4" $N $RATE
	grep -q "^EPERM connects=0 failed=$N" "$T_TMP/t.out" || fail "flood: $(cat "$T_TMP/t.out")"
	eq "audit.dropped" "$(jr t .audit.dropped)" 0
	eq "audit.sequence_gaps" "$(jr t .audit.sequence_gaps)" 0
	eq "audit.events (start + $N + exit)" "$(jr t .audit.events)" $((N + 2))
	eq "net.connect lines in the --audit file" "$(grep -c '"event":"net.connect"' "$T_TMP/t.audit")" $N
	eq "last seq" "$(ja t '.[-1].seq')" $((N + 2))
}

setup trickle_setup
run_case trickle_loses_nothing case_trickle_loses_nothing
finish
