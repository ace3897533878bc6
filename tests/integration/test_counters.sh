#!/bin/bash
# SPDX-License-Identifier: MIT
# Byte and packet counters of the cgroup_skb programs, and the net_bytes
# quota. The counters see IP packets: skb->len at cgroup_skb egress is the IP
# header + transport header + payload (UDP over IPv4: 20 + 8 + S bytes; over
# IPv6: 40 + 8 + S).
. "$(dirname "$0")/lib.sh"

pol()
{
	write_policy "$T_TMP/policy.toml" t "$1" "$2"
}

counters_setup()
{
	start_listener U4 127.0.0.1 udp || return 1
	start_listener U6 ::1 udp || return 1
	start_listener T4 127.0.0.1 tcp
}

run_in()
{
	local name=$1
	shift
	sbx_run "$name" -P "$T_TMP/policy.toml" --profile t -- "$@"
	[ -s "$T_TMP/$name.result" ] || fail "$name: no result (sbx rc=$RC: $(tail -c 300 "$T_TMP/$name.err"))"
}

case_udp_ipv4_bytes_exact()
{
	local n=25 s=100
	pol "" "mode = \"allow\"
allow = [\"127.0.0.1:$U4/udp\"]"
	run_in r "$NETTOOL" sendto 127.0.0.1 "$U4" $n $s
	expect_rc r 0
	eq bytes_out "$(jr r .network.bytes_out)" $((n * (s + 28)))
	eq packets_out "$(jr r .network.packets_out)" $n
	eq send_allowed "$(jr r .network.send_allowed)" $n
	eq packets_dropped "$(jr r .network.packets_dropped)" 0
	# the listener is outside the sandbox: nothing comes back in
	eq bytes_in "$(jr r .network.bytes_in)" 0
}

case_udp_ipv6_bytes_exact()
{
	local n=10 s=1000
	pol "" "mode = \"allow\"
allow = [\"[::1]:$U6/udp\"]"
	run_in r "$NETTOOL" sendto ::1 "$U6" $n $s
	expect_rc r 0
	eq bytes_out "$(jr r .network.bytes_out)" $((n * (s + 48)))
	eq packets_out "$(jr r .network.packets_out)" $n
}

# An AF_INET6 socket sending to ::ffff:127.0.0.1 puts IPv4 packets on the wire.
case_udp_ipv4_mapped_bytes_exact()
{
	local n=7 s=300
	pol "" "mode = \"allow\"
allow = [\"127.0.0.1:$U4/udp\"]"
	run_in r "$NETTOOL" sendto ::ffff:127.0.0.1 "$U4" $n $s
	expect_rc r 0
	eq bytes_out "$(jr r .network.bytes_out)" $((n * (s + 28)))
	eq packets_out "$(jr r .network.packets_out)" $n
}

case_denied_traffic_not_counted()
{
	pol "" "mode = \"allow\"
allow = [\"127.0.0.1:$U4/udp\"]"
	run_in r sh -c "$NETTOOL sendto 127.0.0.1 $((U4 + 1)) 5 100; $NETTOOL sendto 127.0.0.1 $U4 2 50"
	eq bytes_out "$(jr r .network.bytes_out)" $((2 * 78))
	eq packets_out "$(jr r .network.packets_out)" 2
	eq send_denied "$(jr r .network.send_denied)" 1
}

case_tcp_transfer_counted_both_ways()
{
	local bytes=200000 out in pin
	pol "" "mode = \"allow\"
allow = [\"127.0.0.1:$T4/tcp\"]"
	run_in r "$NETTOOL" tcpsend 127.0.0.1 "$T4" $bytes
	expect_rc r 0
	out=$(jr r .network.bytes_out)
	in=$(jr r .network.bytes_in)
	pin=$(jr r .network.packets_in)
	[ "$out" -gt $bytes ] || fail "bytes_out $out <= payload $bytes"
	# payload plus at most 200 bytes of headers per packet, and room for a
	# retransmitted segment (a loaded machine retransmits on loopback too, and
	# a resent segment is sent, so counted): counting any packet twice would
	# be at least twice the payload
	[ "$out" -lt $((bytes * 3 / 2 + 200 * $(jr r .network.packets_out))) ] || fail "bytes_out $out too large"
	[ "$in" -gt 0 ] && [ "$pin" -gt 0 ] || fail "no ingress counted for the ACKs (bytes_in $in, packets_in $pin)"
}

case_net_bytes_quota()
{
	local quota=5000 s=100 per n
	per=$((s + 28))
	n=$((quota / per))	# datagrams that fit
	pol "net_bytes = $quota" 'mode = "full"'
	run_in r sh -c "$NETTOOL sendto 127.0.0.1 $U4 100 $s; $NETTOOL sendto 127.0.0.1 $U4 5 $s; $NETTOOL sendto ::1 $U6 1 1"
	eq "first sender" "$(sed -n 1p "$T_TMP/r.out")" "EPERM sent=$n"
	eq "second sender" "$(sed -n 2p "$T_TMP/r.out")" "EPERM sent=0"
	eq "IPv6 sender" "$(sed -n 3p "$T_TMP/r.out")" "EPERM sent=0"
	eq quota_exceeded "$(jr r .network.quota_exceeded)" true
	eq bytes_out "$(jr r .network.bytes_out)" $((n * per))
	eq packets_dropped "$(jr r .network.packets_dropped)" 3
	# sbx_abi.h, struct sbx_ev_quota: bytes = in + out including the packet
	# that exceeded the quota
	eq "net.quota events" "$(ja r '[.[] | select(.event == "net.quota") | "\(.verdict) \(.bytes) \(.quota)"] | join(",")')" \
		"deny $(((n + 1) * per)) $quota"
	eq "denials.net.quota" "$(jr r '.denials."net.quota"')" 1
}

# A TCP stream over the quota stalls: its segments are dropped from then on
# (retransmissions too), so the transfer never completes.
case_net_bytes_quota_stops_tcp()
{
	local quota=65536 used
	pol "net_bytes = $quota" 'mode = "full"'
	sbx_run r -P "$T_TMP/policy.toml" --profile t --timeout 1500ms -- \
		"$NETTOOL" tcpsend 127.0.0.1 "$T4" 1000000
	expect_rc r 124
	eq timed_out "$(jr r .timed_out)" true
	eq quota_exceeded "$(jr r .network.quota_exceeded)" true
	used=$(($(jr r .network.bytes_out) + $(jr r .network.bytes_in)))
	[ "$used" -le $quota ] || fail "bytes in + out = $used exceed the quota $quota"
	[ "$(jr r .network.packets_dropped)" -gt 0 ] || fail "no packets dropped"
	eq "net.quota events" "$(ja r '[.[] | select(.event == "net.quota")] | length')" 1
}

case_quota_not_hit_below_limit()
{
	pol 'net_bytes = "1M"' 'mode = "full"'
	run_in r "$NETTOOL" sendto 127.0.0.1 "$U4" 10 100
	expect_rc r 0
	eq quota_exceeded "$(jr r .network.quota_exceeded)" false
	eq "net.quota events" "$(ja r '[.[] | select(.event == "net.quota")] | length')" 0
}

setup counters_setup
run_case udp_ipv4_bytes_exact case_udp_ipv4_bytes_exact
run_case udp_ipv6_bytes_exact case_udp_ipv6_bytes_exact
run_case udp_ipv4_mapped_bytes_exact case_udp_ipv4_mapped_bytes_exact
run_case denied_traffic_not_counted case_denied_traffic_not_counted
run_case tcp_transfer_counted_both_ways case_tcp_transfer_counted_both_ways
run_case net_bytes_quota case_net_bytes_quota
run_case net_bytes_quota_stops_tcp case_net_bytes_quota_stops_tcp
run_case quota_not_hit_below_limit case_quota_not_hit_below_limit
finish
