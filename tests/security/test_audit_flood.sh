#!/bin/bash
# SPDX-License-Identifier: MIT
# The audit trail cannot be flooded (issue 20, item 10; docs/audit.md "Rate
# limits"): a workload that makes decisions in a tight loop for three seconds
# gets at most burst + rate x seconds events of each kind into the --audit
# log, the rest is counted as suppressed and reported by audit.suppressed
# events (at least once a second while it lasts, and at exit), and
#   events written + suppressed (+ ring drops) == decisions made
# for allow events and for denials alike. A denial made after the flood, once
# the bucket has refilled, is in the trail with all its fields.
. "$(dirname "$0")/../integration/lib.sh"

SECS=3			# length of each flood
RATE=50 BURST=100	# allow events (audit_rate, audit_burst)
DRATE=100 DBURST=200	# denials (audit_deny_rate, audit_deny_burst)
ALLOWED_PORT=9 DENIED_PORT=10 LATE_PORT=4242
# The longest line sbx writes for a network event of these profiles, with
# room to spare, and the summary and lifecycle lines (docs/audit.md).
LINE_MAX=1024

flood_setup()
{
	[ -x "$NETTOOL" ] || return 1
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.flood]
provider = "host"
min_isolation = "none"
audit = "all"
audit_rate = $RATE
audit_burst = $BURST
audit_deny_rate = $DRATE
audit_deny_burst = $DBURST
[profile.flood.network]
mode = "allow"
allow = ["127.0.0.1:$ALLOWED_PORT/udp"]
[profile.flood.fs]
mode = "full"
EOF
	# a file of its own: it is valid for an sbx without the audit_* keys
	cat >"$T_TMP/dflt.toml" <<EOF
version = 1
[profile.dflt]
provider = "host"
min_isolation = "none"
audit = "all"
[profile.dflt.network]
mode = "allow"
allow = ["127.0.0.1:$ALLOWED_PORT/udp"]
[profile.dflt.fs]
mode = "full"
EOF
}

# flood_script PORT: UDP connects to 127.0.0.1:PORT in batches for $SECS
# seconds; nettool prints "connects=N failed=M" per batch.
flood_script()
{
	printf 'end=$(($(date +%%s) + %d)); while [ $(date +%%s) -lt $end ]; do %s flood 127.0.0.1 %d 2000; done' \
		"$SECS" "$NETTOOL" "$1"
}

# attempts NAME: connects made by the workload of run NAME (all batches).
attempts()
{
	sed -n 's/.*connects=\([0-9]*\) failed=\([0-9]*\).*/\1 \2/p' "$T_TMP/$1.out" |
		awk '{ n += $1 + $2 } END { print n + 0 }'
}

# check_bounded NAME KIND(allow|deny) RATE BURST PORT: the flood of run NAME
# is bounded, accounted for and summarised.
check_bounded()
{
	local name=$1 kind=$2 rate=$3 burst=$4 port=$5 made written supp sum last dropped
	local t0 t1 secs lines max bytes summaries
	[ -s "$T_TMP/$name.result" ] || fail "$name: no result (sbx rc=$RC: $(tail -c 300 "$T_TMP/$name.err"))"
	made=$(attempts "$name")
	[ "$made" -gt $((10 * (burst + rate * (SECS + 2)))) ] ||
		skip "$name: only $made connects in ${SECS}s: too slow a machine to flood"
	written=$(ja "$name" "[.[] | select(.event == \"net.connect\" and .verdict == \"$kind\" and .port == $port)] | length")
	supp=$(jr "$name" ".audit.suppressed.$kind")
	dropped=$(jr "$name" .audit.dropped)
	# the flood lasts $SECS s plus the time sbx takes to start and stop
	t0=$(ja "$name" '.[0].time | sub("\\.[0-9]+Z$"; "Z") | fromdate')
	t1=$(ja "$name" '.[-1].time | sub("\\.[0-9]+Z$"; "Z") | fromdate')
	secs=$((t1 - t0 + 1))
	[ "$written" -le $((burst + rate * secs)) ] ||
		fail "$name: $written $kind events in ${secs}s (bound $burst + $rate/s)"
	[ "$written" -ge "$rate" ] || fail "$name: only $written $kind events written"
	[ "$supp" -gt 0 ] || fail "$name: audit.suppressed.$kind is '$supp' after $made decisions"
	eq "$name: written + suppressed + dropped = decisions" "$((written + supp + dropped))" "$made"
	# the summaries: at least one a second while suppressing, their counts add up
	summaries=$(ja "$name" '[.[] | select(.event == "audit.suppressed")] | length')
	[ "$summaries" -ge "$SECS" ] || fail "$name: $summaries audit.suppressed events in a ${SECS}s flood"
	sum=$(ja "$name" "[.[] | select(.event == \"audit.suppressed\") | .$kind] | add")
	eq "$name: sum of audit.suppressed.$kind" "$sum" "$supp"
	eq "$name: last summary's ${kind}_total" \
		"$(ja "$name" "[.[] | select(.event == \"audit.suppressed\")][-1].${kind}_total")" "$supp"
	eq "$name: suppressed = sum of allow and deny" \
		"$(ja "$name" '[.[] | select(.event == "audit.suppressed") | select(.suppressed != .allow + .deny)] | length')" 0
	eq "$name: sandbox.exit suppressed.$kind" \
		"$(ja "$name" "[.[] | select(.event == \"sandbox.exit\")][0].suppressed.$kind")" "$supp"
	# every sequence number is an event written, suppressed or dropped
	last=$(ja "$name" '[.[].seq] | max')
	eq "$name: last seq = events + suppressed + dropped" "$last" \
		"$(($(jr "$name" .audit.events) + $(jr "$name" '.audit.suppressed.allow + .audit.suppressed.deny') + dropped))"
	eq "$name: sequence_gaps" "$(jr "$name" .audit.sequence_gaps)" "$dropped"
	# the log on disk: lines and bytes within the documented bound
	lines=$(wc -l <"$T_TMP/$name.audit")
	bytes=$(stat -c %s "$T_TMP/$name.audit")
	max=$((BURST + DBURST + (RATE + DRATE) * secs + secs + 3))
	[ "$lines" -le "$max" ] || fail "$name: $lines lines in the log (bound $max for ${secs}s)"
	[ "$bytes" -le $((max * LINE_MAX)) ] || fail "$name: $bytes bytes in the log (bound $((max * LINE_MAX)))"
}

case_allow_flood_bounded()
{
	sbx_run a -P "$T_TMP/policy.toml" --profile flood -- sh -c "$(flood_script $ALLOWED_PORT)"
	expect_rc a 0
	check_bounded a allow $RATE $BURST $ALLOWED_PORT
	eq "a: connect_allowed counts every decision" "$(jr a .network.connect_allowed)" "$(attempts a)"
}

case_deny_flood_bounded_late_denial_kept()
{
	local ev
	sbx_run d -P "$T_TMP/policy.toml" --profile flood -- sh -c \
		"$(flood_script $DENIED_PORT); sleep 2; $NETTOOL connect 127.0.0.1 $LATE_PORT udp"
	check_bounded d deny $DRATE $DBURST $DENIED_PORT
	eq "d: connect_denied counts every decision" "$(jr d .network.connect_denied)" "$(($(attempts d) + 1))"
	tail -1 "$T_TMP/d.out" | grep -q "^EPERM" || fail "d: the late connect was not refused: $(tail -1 "$T_TMP/d.out")"
	ev=$(ja d "[.[] | select(.event == \"net.connect\" and .port == $LATE_PORT)] |
		map(\"\(.verdict) \(.addr) \(.proto) \(.family) \(.rule) \(.comm) \(.pid > 0) \(.sandbox != null)\") | join(\",\")")
	eq "d: the denial after the flood" "$ev" "deny 127.0.0.1 udp ipv4 default nettool true true"
}

# Denials keep their room when allow events flood: the allow bucket being
# empty does not hold back a denial made at the same time.
case_denial_during_allow_flood()
{
	sbx_run m -P "$T_TMP/policy.toml" --profile flood -- sh -c \
		"$(flood_script $ALLOWED_PORT) & sleep 1; $NETTOOL connect 127.0.0.1 $LATE_PORT udp; wait"
	expect_rc m 0
	[ "$(jr m .audit.suppressed.allow)" -gt 0 ] || fail "m: no allow event suppressed"
	eq "m: the denial amid the flood" \
		"$(ja m "[.[] | select(.event == \"net.connect\" and .port == $LATE_PORT)] | map(.verdict) | join(\",\")")" deny
	eq "m: no denial suppressed" "$(jr m .audit.suppressed.deny)" 0
}

# The default limits (docs/policy.md: 100/s, burst 200; denials 200/s, burst
# 500) bound a profile that sets none, with the same accounting.
case_default_limits_bound_the_log()
{
	local made written supp secs lines
	sbx_run f -P "$T_TMP/dflt.toml" --profile dflt -- sh -c "$(flood_script $ALLOWED_PORT)"
	expect_rc f 0
	made=$(attempts f)
	written=$(ja f "[.[] | select(.event == \"net.connect\")] | length")
	supp=$(jr f .audit.suppressed.allow)
	secs=$(($(ja f '(.[-1].time | sub("\\.[0-9]+Z$"; "Z") | fromdate) - (.[0].time | sub("\\.[0-9]+Z$"; "Z") | fromdate)') + 1))
	lines=$(wc -l <"$T_TMP/f.audit")
	[ "$written" -le $((200 + 100 * secs)) ] || fail "f: $written allow events in ${secs}s (default bound 200 + 100/s)"
	[ "$lines" -le $((200 + 100 * secs + secs + 3)) ] || fail "f: $lines lines in ${secs}s"
	[ "$supp" -gt 0 ] 2>/dev/null || fail "f: audit.suppressed.allow is '$supp' after $made connects"
	eq "f: written + suppressed + dropped = decisions" "$((written + supp + $(jr f .audit.dropped)))" "$made"
	[ "$(ja f '[.[] | select(.event == "audit.suppressed")] | length')" -ge 1 ] || fail "f: no audit.suppressed event"
}

# Without suppression there is no summary, and the counts are 0.
case_quiet_run_no_summary()
{
	sbx_run q -P "$T_TMP/policy.toml" --profile flood -- "$NETTOOL" flood 127.0.0.1 $ALLOWED_PORT 10
	expect_rc q 0
	eq "q: audit.suppressed events" "$(ja q '[.[] | select(.event == "audit.suppressed")] | length')" 0
	eq "q: result suppressed" "$(jr q '"\(.audit.suppressed.allow) \(.audit.suppressed.deny)"')" "0 0"
	eq "q: events" "$(ja q '[.[] | select(.event == "net.connect")] | length')" 10
}

setup flood_setup
run_case allow_flood_bounded case_allow_flood_bounded
run_case deny_flood_bounded_late_denial_kept case_deny_flood_bounded_late_denial_kept
run_case denial_during_allow_flood case_denial_during_allow_flood
run_case default_limits_bound_the_log case_default_limits_bound_the_log
run_case quiet_run_no_summary case_quiet_run_no_summary
finish
