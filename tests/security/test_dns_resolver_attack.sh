#!/bin/bash
# SPDX-License-Identifier: MIT
# A hostile workload against its own DNS resolver (docs/network.md): the
# workload writes every byte that reaches sbx-dns (port 53 is redirected to
# it, UDP and TCP). Malformed queries, floods, held and slow TCP
# connections, oversized frames, pin exhaustion, the resolver's confinement,
# and what happens when it dies, again and again. tests/security/dnsatk.py
# is the hostile client. Like tests/integration/test_dns.sh, the file runs
# in a network namespace of its own with dnsmasq as the upstream server and
# documentation addresses on its own loopback.
if [ -z "${SBX_DNS_NETNS:-}" ] && [ -z "${SBX_TEST_SKIP:-}" ]; then
	if unshare -n true 2>/dev/null; then
		SBX_DNS_NETNS=1 exec unshare -n "$0" "$@"
	fi
	SBX_TEST_SKIP="cannot make a network namespace (unshare -n)"
fi
. "$(dirname "$0")/../integration/lib.sh"

[ -z "$SBX_TEST_SKIP" ] && ! command -v dnsmasq >/dev/null && SBX_TEST_SKIP="no dnsmasq (make deps installs dnsmasq-base)"
[ -z "$SBX_TEST_SKIP" ] && ! command -v dig >/dev/null && SBX_TEST_SKIP="no dig (make deps installs bind9-dnsutils)"
[ -z "$SBX_TEST_SKIP" ] && [ ! -x /usr/bin/python3 ] && SBX_TEST_SKIP="no /usr/bin/python3 for the hostile client"

UP=127.0.0.53
UPPORT=5300
ATK="/usr/bin/python3 $(cd "$(dirname "$0")" && pwd)/dnsatk.py"

atk_setup()
{
	local i
	ip link set lo up || return 1
	ip addr add 198.51.100.10/32 dev lo || return 1
	ip addr add 198.51.100.13/32 dev lo || return 1
	# syn.test: 11-0-X-Y.syn.test is 11.0.X.Y, a public address per name
	bg dnsmasq --keep-in-foreground --no-daemon --conf-file=/dev/null --port="$UPPORT" \
		--listen-address="$UP" --bind-interfaces --no-resolv --no-hosts --local-ttl=1 \
		--log-queries --log-facility="$T_TMP/dnsmasq.log" --pid-file="$T_TMP/dnsmasq.pid" \
		--host-record=api.test,198.51.100.10 \
		--host-record=evil.test,198.51.100.13 \
		--synth-domain=syn.test,11.0.0.0/16 || return 1
	for i in $(seq 100); do
		dig +short +time=1 +tries=1 -p "$UPPORT" @"$UP" api.test 2>/dev/null | grep -q 198.51.100.10 && break
		sleep 0.05
	done
	dig +short -p "$UPPORT" @"$UP" api.test | grep -q 198.51.100.10 || { echo "dnsmasq does not answer"; return 1; }
	dig +short -p "$UPPORT" @"$UP" 11-0-1-2.syn.test | grep -q 11.0.1.2 || { echo "dnsmasq does not synthesise syn.test"; return 1; }
	start_listener PT 198.51.100.10 tcp || return 1	# api.test
	start_listener PE 198.51.100.13 tcp || return 1	# evil.test
}

# pol FILE MODE NETWORK-LINES [PROFILE-LINES [DNS-LINES]]: profile "t"
pol()
{
	cat >"$1" <<EOF
version = 1
[profile.t]
provider = "host"
min_isolation = "none"
audit = "all"
$4
[profile.t.network]
mode = "$2"
$3
[profile.t.network.dns]
upstream = ["$UP:$UPPORT"]
$5
[profile.t.fs]
mode = "full"
EOF
}

P=$T_TMP/p.toml

wait_for_file()
{
	local i
	for i in $(seq 600); do [ -e "$1" ] && return 0; sleep 0.05; done
	return 1
}

# pins_of_instance: the entries of this file's sbx_pins (the file runs one
# sandbox at a time, so every entry is the current sandbox's)
pins_of_instance()
{
	bpftool -j map dump pinned "$PIN_DIR/sbx_pins" 2>/dev/null | jq 'length'
}

# Malformed queries get REFUSED or nothing, are never forwarded, and the
# resolver lives on and still answers; well-formed odd ones (0x20 case
# mixing, punycode, EDNS options, TC set) are answered.
case_malformed_queries_refused_not_forwarded()
{
	pol "$P" allow "allow = [\"api.test:$PT/tcp\", \"xn--bcher-kva.test:80/tcp\"]"
	: >"$T_TMP/dnsmasq.log"
	sbx_run r -P "$P" --profile t -- sh -c "$ATK battery; $ATK ask after api.test"
	expect_rc r 0
	local l
	for l in ptrloop ptrforward ptrout manylabels long254 nul dot backslash nonascii qd0 qd2 notify update answers cut header; do
		got=$(awk -v l=$l '$1 == l {print $2}' "$T_TMP/r.out")
		case $got in REFUSED|noreply) ;; *) fail "$l: got '$got', want REFUSED or no reply";; esac
	done
	# reflection: a message with QR set gets nothing back
	expect r qrset noreply
	expect r empty noreply
	expect r mixedcase NOERROR
	# dnsmasq refuses a name it does not know: the point is that sbx forwarded it
	eq "punycode forwarded" "$(ja r '[.[] | select(.event == "dns.query" and .name == "xn--bcher-kva.test" and .verdict == "allow")] | length')" 1
	expect r edns NOERROR
	expect r tcset NOERROR
	expect r after NOERROR
	grep -vi 'api.test\|xn--bcher-kva.test' "$T_TMP/dnsmasq.log" | grep -q 'query\[' &&
		fail "a malformed query reached the upstream: $(grep 'query\[' "$T_TMP/dnsmasq.log" | grep -v 'api.test\|xn--' | head -3)"
	eq "bad_query events" "$(ja r '[.[] | select(.event == "dns.denied" and .reason == "bad_query")] | length >= 15')" true
	eq "resolver never died" "$(ja r '[.[] | select(.event == "dns.resolver" and .state != "started")] | length')" 0
}

# A compression pointer into the header: the name the resolver checks is
# made of the client's id and flags, but the query goes upstream under a
# fresh id, so the upstream server would read another name than the one
# checked. Such a query must be refused, not forwarded.
case_name_pointing_into_header_refused()
{
	pol "$P" allow "allow = [\"api.test:$PT/tcp\", \"a.b:80/tcp\"]"
	: >"$T_TMP/dnsmasq.log"
	# id 01 61 flags 01 62 (the labels "a" and "b", then qdcount's 00 ends the name)
	sbx_run r -P "$P" --profile t -- sh -c "$ATK raw hdr 016101620001000000000000c00000010001"
	expect r hdr REFUSED
	grep -q 'query\[' "$T_TMP/dnsmasq.log" && fail "forwarded: $(grep 'query\[' "$T_TMP/dnsmasq.log" | head -2)"
	eq "bad_query" "$(ja r '[.[] | select(.event == "dns.denied" and .reason == "bad_query")] | length')" 1
}

# TCP abuse: every TCP client slot held, 3000 pipelined queries whose
# replies are not read, a 65535-byte frame, one byte a second.
case_tcp_abuse()
{
	pol "$P" allow "allow = [\"api.test:$PT/tcp\"]"
	sbx_run r -P "$P" --profile t -- sh -c "$ATK tcphold hold 200; $ATK pipeline pipe 3000; $ATK bigframe big; $ATK slowloris slow; $ATK ask after api.test tcp"
	expect_rc r 0
	# UDP lookups go on while every TCP slot is held
	expect r hold NOERROR
	# replies left unread for 3 s: the resolver holds back (16 in flight,
	# 256 KiB of replies at most) and, once they are read, every query is
	# answered
	expect r pipe 3000
	got=$(awk '$1 == "pipe" {print $3}' "$T_TMP/r.out")
	eq "pipelined replies" "$got" 3000
	# a 65535-byte frame for an allowed name is forwarded and answered
	case $(awk '$1 == "big" {print $2}' "$T_TMP/r.out") in NOERROR|FORMERR|rc1|SERVFAIL) ;; *) fail "big: $(grep ^big "$T_TMP/r.out")";; esac
	# a client that never completes a query is closed after 10 s of it
	got=$(awk '$1 == "slow" {print $2, $3}' "$T_TMP/r.out")
	case $got in "closed "1[0-9]|"closed "2[0-9]) ;; *) fail "slowloris: got '$got', want closed after 10-29 s";; esac
	expect r after NOERROR
}

# 64 TCP clients with 16 queries each in flight, to an upstream server that
# never answers: the resolver holds at most 16 TCP connections to it at
# once (the host's resolver is every sandbox's), not one per query.
case_upstream_tcp_bounded()
{
	ip addr add 127.0.0.54/32 dev lo 2>/dev/null
	T_CASE_RESTORE="ip addr del 127.0.0.54/32 dev lo"
	bg $ATK holdup 127.0.0.54 5301 9 >"$T_TMP/holdup.out" 2>&1
	local h=$BG_PID
	wait_for "$T_TMP/holdup.out" ready || fail "the silent upstream did not start: $(cat "$T_TMP/holdup.out")"
	cat >"$P" <<EOF
version = 1
[profile.t]
provider = "host"
min_isolation = "none"
[profile.t.network]
mode = "allow"
allow = ["*.syn.test:80/tcp"]
[profile.t.network.dns]
upstream = ["127.0.0.54:5301"]
[profile.t.fs]
mode = "full"
EOF
	sbx_run r -P "$P" --profile t -- sh -c "$ATK tcpfan fan 64 16"
	wait $h
	expect r fan 64
	local peak
	peak=$(awk '$1 == "peak" {print $2}' "$T_TMP/holdup.out")
	[ -n "$peak" ] && [ "$peak" -ge 1 ] && [ "$peak" -le 16 ] ||
		fail "the resolver held $peak TCP connections at once to the upstream ($(cat "$T_TMP/holdup.out"))"
}

# A flood of malformed datagrams: the sandbox's own lookups still work at
# once after it, and the audit trail holds at most the deny burst + rate of
# dns.denied events, the rest counted by audit.suppressed.
case_flood_bounded_and_responsive()
{
	pol "$P" allow "allow = [\"api.test:$PT/tcp\"]" "audit_deny_rate = 20
audit_deny_burst = 40"
	sbx_run r -P "$P" --profile t -- sh -c "$ATK flood fl 20000"
	expect_rc r 0
	expect r fl NOERROR
	local secs n sup
	secs=$(awk '$1 == "fl" {print $5}' "$T_TMP/r.out")
	awk -v s="$secs" 'BEGIN { exit !(s < 3) }' || fail "the lookup after the flood took $secs s"
	n=$(ja r '[.[] | select(.event == "dns.denied")] | length')
	[ "$n" -le $((40 + 20 * 10)) ] || fail "$n dns.denied events for a flood: the deny rate does not bound them"
	sup=$(ja r '[.[] | select(.event == "audit.suppressed") | .deny] | add // 0')
	[ "$sup" -gt 0 ] || fail "no audit.suppressed for the flood: $(ja r '[.[] | select(.event == "audit.suppressed")]' | head -c 400)"
}

# The running resolver keeps CAP_BPF only, with no_new_privs, and holds no
# file of sbx run (the audit log, the result, the sandbox's cgroup, its
# standard streams). Landlock is not shown in /proc/PID/status by any kernel
# this runs on, and nothing outside can make the resolver open a file: that
# part is not checked here.
case_resolver_confined()
{
	pol "$P" allow "allow = [\"api.test:$PT/tcp\"]"
	rm -f "$T_TMP/want-look" "$T_TMP/looked"
	"$SBX" run --result "$T_TMP/c.result" --audit "$T_TMP/c.audit" -P "$P" --profile t -- \
		sh -c "touch $T_TMP/want-look; while [ ! -e $T_TMP/looked ]; do sleep 0.05; done" >"$T_TMP/c.out" 2>"$T_TMP/c.err" &
	local run=$! pid cap nnp files
	T_CASE_PIDS="$T_CASE_PIDS $run"
	wait_for_file "$T_TMP/want-look" || fail "the workload did not start: $(cat "$T_TMP/c.err")"
	pid=$(pgrep -P "$run" -x sbx-dns)
	[ -n "$pid" ] || fail "no sbx-dns child of sbx run"
	cap=$(awk '/^CapEff/ {print $2}' /proc/"$pid"/status)
	nnp=$(awk '/^NoNewPrivs/ {print $2}' /proc/"$pid"/status)
	files=$(ls -l /proc/"$pid"/fd 2>/dev/null | awk '$NF ~ /^\// && $NF !~ /^\/dev\/null$/ {print $NF}' | tr '\n' ' ')
	touch "$T_TMP/looked"
	wait $run
	eq "CapEff" "$cap" 0000008000000000
	eq "NoNewPrivs" "$nnp" 1
	[ -z "$files" ] || fail "sbx-dns holds files of sbx run open: $files"
}

# The pin cap: past 4096 addresses the workload gets SERVFAIL and a
# dns.denied pin_failed, at once (the resolver does not walk the map that
# all sandboxes share for each of them); a name it already holds still
# answers; another sandbox's lookups and pins are not affected meanwhile.
# Once the pins have expired (TTL 1 s + grace 5 s), new names pin again.
case_pin_cap()
{
	pol "$P" allow "allow = [\"api.test:$PT/tcp\", \"*.syn.test:80/tcp\"]" "" 'ttl_floor = "0s"
grace = "5s"'
	rm -f "$T_TMP/full" "$T_TMP/other-done"
	sbx_run r -P "$P" --profile t -- sh -c "$ATK pins fill 4096 0; $ATK pins over 200 5000; $ATK ask again 11-0-0-5.syn.test; $ATK ask api api.test
touch $T_TMP/full; while [ ! -e $T_TMP/other-done ]; do sleep 0.05; done
sleep 6.5; $ATK pins later 200 10000" &
	local run=$! n secs
	T_CASE_PIDS="$T_CASE_PIDS $run"
	wait_for_file "$T_TMP/full" || fail "the first sandbox did not fill its pins"
	sbx_run o -P "$P" --profile t -- sh -c "$ATK ask look api.test; $(probes "c connect 198.51.100.10 $PT")"
	touch "$T_TMP/other-done"
	wait $run
	expect o look NOERROR
	expect o c ok
	expect r fill NOERROR=4096
	expect r over SERVFAIL=200
	secs=$(awk '$1 == "over" {print $3}' "$T_TMP/r.out")
	awk -v s="$secs" 'BEGIN { exit !(s < 2) }' || fail "200 lookups at the cap took $secs s"
	expect r again NOERROR
	# the cap is the sandbox's: a name not pinned yet fails too
	expect r api SERVFAIL
	expect r later NOERROR=200
	eq "pin_failed" "$(ja r '[.[] | select(.event == "dns.denied" and .reason == "pin_failed")][0].rcode')" SERVFAIL
	n=$(pins_of_instance)
	[ "${n:-0}" = 0 ] || fail "$n pins left after the runs"
}

# Another sandbox that may reach the loopback addresses asks the first
# one's resolver directly, on the port it listens on (no port-53 redirect
# involved): it must not fill the first sandbox's pins (nor make any).
case_other_sandbox_cannot_use_my_resolver()
{
	pol "$P" allow "allow = [\"api.test:$PT/tcp\", \"*.syn.test:80/tcp\"]"
	cat >>"$P" <<EOF
[profile.b]
provider = "host"
min_isolation = "none"
audit = "all"
[profile.b.network]
mode = "allow"
allow = ["loopback", "api.test:$PT/tcp"]
[profile.b.network.dns]
upstream = ["$UP:$UPPORT"]
[profile.b.fs]
mode = "full"
EOF
	rm -f "$T_TMP/ready" "$T_TMP/go"
	sbx_run a -P "$P" --profile t -- sh -c "touch $T_TMP/ready; while [ ! -e $T_TMP/go ]; do sleep 0.05; done; $ATK ask look api.test; $(probes "c connect 198.51.100.10 $PT")" &
	local run=$! pid port
	T_CASE_PIDS="$T_CASE_PIDS $run"
	wait_for_file "$T_TMP/ready" || fail "the first sandbox did not start"
	# the only sbx-dns of this network namespace
	pid=$(pgrep -x sbx-dns | head -1)
	port=$(ss -Hlunp "src 127.0.0.1" | awk -v p="pid=$pid," 'index($0, p) {n = split($4, a, ":"); print a[n]; exit}')
	[ -n "$port" ] || { touch "$T_TMP/go"; fail "no UDP port of sbx-dns $pid: $(ss -Hlunp)"; }
	sbx_run b -P "$P" --profile b -- env DNSATK_SERVER=127.0.0.1:$port $ATK pins steal 4200 0
	touch "$T_TMP/go"
	wait $run
	case $(awk '$1 == "steal" {print $2}' "$T_TMP/b.out") in
	*NOERROR*|*SERVFAIL*) fail "sandbox b was answered by a's resolver ($(grep ^steal "$T_TMP/b.out")); a then got: $(grep ^look "$T_TMP/a.out")" ;;
	esac
	expect a look NOERROR
	expect a c ok
}

# Killed once, the resolver comes back; the addresses of an exact denied
# name stay denied all along (they are pinned for the whole run).
case_death_keeps_denied_addresses()
{
	pol "$P" deny "deny = [\"evil.test\"]"
	rm -f "$T_TMP/want-kill" "$T_TMP/killed"
	"$SBX" run --result "$T_TMP/k.result" --audit "$T_TMP/k.audit" -P "$P" --profile t -- sh -c "$(probes "before connect 198.51.100.13 $PE")
touch $T_TMP/want-kill; while [ ! -e $T_TMP/killed ]; do sleep 0.05; done
$(probes "after connect 198.51.100.13 $PE")" >"$T_TMP/k.out" 2>"$T_TMP/k.err" &
	local run=$! pid i
	T_CASE_PIDS="$T_CASE_PIDS $run"
	wait_for_file "$T_TMP/want-kill" || fail "the workload did not start: $(cat "$T_TMP/k.err")"
	pid=$(pgrep -P "$run" -x sbx-dns)
	[ -n "$pid" ] || fail "no sbx-dns"
	kill -KILL "$pid"
	for i in $(seq 100); do grep -q '"state":"restarted"' "$T_TMP/k.audit" 2>/dev/null && break; sleep 0.05; done
	touch "$T_TMP/killed"
	wait $run
	RC=$?
	expect k before EPERM
	expect k after EPERM
}

# Killed six times within 10 s: the resolver is given up; names stay
# refused, pinned addresses are no longer open, denied ones stay denied,
# sbx run ends normally and nothing is left (no sbx-dns, no pins).
case_gave_up_fails_closed()
{
	pol "$P" allow "allow = [\"api.test:$PT/tcp\", \"evil.test:$PE/tcp\"]"
	cat >>"$P" <<EOF
[profile.d]
provider = "host"
min_isolation = "none"
audit = "all"
[profile.d.network]
mode = "deny"
deny = ["evil.test"]
[profile.d.network.dns]
upstream = ["$UP:$UPPORT"]
[profile.d.fs]
mode = "full"
EOF
	local prof run pid i k
	for prof in t d; do
		rm -f "$T_TMP/want-kill" "$T_TMP/killed"
		"$SBX" run --result "$T_TMP/$prof.result" --audit "$T_TMP/$prof.audit" -P "$P" --profile $prof -- sh -c "$ATK ask a0 api.test >/dev/null
touch $T_TMP/want-kill; while [ ! -e $T_TMP/killed ]; do sleep 0.05; done
$ATK ask q api.test
$(probes "api connect 198.51.100.10 $PT" "evil connect 198.51.100.13 $PE")" >"$T_TMP/$prof.out" 2>"$T_TMP/$prof.err" &
		run=$!
		T_CASE_PIDS="$T_CASE_PIDS $run"
		wait_for_file "$T_TMP/want-kill" || fail "the workload did not start: $(cat "$T_TMP/$prof.err")"
		for k in 1 2 3 4 5 6; do
			pid=""
			for i in $(seq 100); do
				pid=$(pgrep -P "$run" -x sbx-dns) && break
				sleep 0.02
			done
			[ -n "$pid" ] || fail "$prof: no sbx-dns to kill (kill $k)"
			kill -KILL "$pid"
			for i in $(seq 100); do [ -e /proc/"$pid" ] || break; sleep 0.02; done
		done
		wait_for "$T_TMP/$prof.audit" '"state":"gave_up"' || fail "$prof: no gave_up event"
		[ -z "$(pgrep -P "$run" -x sbx-dns)" ] || fail "$prof: an sbx-dns runs after gave_up"
		touch "$T_TMP/killed"
		wait $run
		RC=$?
		expect_rc $prof 0
		expect $prof evil EPERM
		eq "$prof gave_up events" "$(ja $prof '[.[] | select(.event == "dns.resolver" and .state == "gave_up")] | length')" 1
		eq "$prof restarts" "$(ja $prof '[.[] | select(.event == "dns.resolver" and .state == "restarted")] | length')" 5
		n=$(pins_of_instance)
		[ "${n:-0}" = 0 ] || fail "$prof: $n pins left after the run"
	done
	# allow mode: the name is no longer answered, its address no longer open
	case $(awk '$1 == "q" {print $2}' "$T_TMP/t.out") in NOERROR) fail "t: api.test answered after gave_up";; esac
	expect t api EPERM
	# deny mode: other destinations are still the mode's (allowed)
	expect d api ok
}

setup atk_setup
run_case malformed_queries_refused_not_forwarded case_malformed_queries_refused_not_forwarded
run_case name_pointing_into_header_refused case_name_pointing_into_header_refused
run_case resolver_confined case_resolver_confined
run_case death_keeps_denied_addresses case_death_keeps_denied_addresses
run_case gave_up_fails_closed case_gave_up_fails_closed
run_case upstream_tcp_bounded case_upstream_tcp_bounded
run_case flood_bounded_and_responsive case_flood_bounded_and_responsive
run_case pin_cap case_pin_cap
run_case other_sandbox_cannot_use_my_resolver case_other_sandbox_cannot_use_my_resolver
run_case tcp_abuse case_tcp_abuse
finish
