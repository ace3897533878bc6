#!/bin/bash
# SPDX-License-Identifier: MIT
# bind(2) against the profile's listen ports, raw and packet sockets against
# raw_sockets, and the cgroup_skb safety net for traffic no sockaddr hook
# sees (ICMP echo through a ping socket).
. "$(dirname "$0")/lib.sh"

# free_port: a port nobody uses right now (the kernel's pick for port 0).
free_port()
{
	"$NETTOOL" bind 0 tcp | sed -n 's/^ok port=//p'
}

pol()
{
	write_policy "$T_TMP/policy.toml" t "$1" "$2"
}

run_probes()
{
	local name=$1
	shift
	sbx_run "$name" -P "$T_TMP/policy.toml" --profile t -- sh -c "$(probes "$@")"
	[ -s "$T_TMP/$name.result" ] || fail "$name: no result (sbx rc=$RC: $(tail -c 300 "$T_TMP/$name.err"))"
}

sock_setup()
{
	start_listener U4 127.0.0.1 udp
}

case_bind_listen_port_allowed()
{
	local a b
	a=$(free_port)
	b=$(free_port)
	pol "" "mode = \"allow\"
listen = [$a, \"$b/udp\"]"
	run_probes r "tcp4 bind $a tcp 4" "tcp6 bind $a tcp 6" "udp4 bind $b udp 4" "udp6 bind $b udp 6"
	expect r tcp4 ok
	expect r tcp6 ok
	expect r udp4 ok
	expect r udp6 ok
}

case_bind_other_port_refused()
{
	local a b c
	a=$(free_port)
	b=$(free_port)
	c=$(free_port)
	pol "" "mode = \"deny\"
listen = [$a, \"$c/udp\"]"
	run_probes r "tcp4 bind $b tcp 4" "tcp6 bind $b tcp 6" "udp4 bind $b udp 4" "udponly bind $c tcp 4"
	expect r tcp4 EPERM
	expect r tcp6 EPERM
	expect r udp4 EPERM
	expect r udponly EPERM
	eq bind_denied "$(jr r .network.bind_denied)" 4
	eq "net.bind deny events" "$(ja r "[.[] | select(.event == \"net.bind\" and .verdict == \"deny\" and .port == $b)] | length")" 3
	eq "rule of a bind denial" "$(ja r '[.[] | select(.event == "net.bind")][0].rule')" listen
}

case_bind_port_zero_allowed()
{
	pol "" 'mode = "allow"'
	run_probes r "tcp4 bind 0 tcp 4" "udp6 bind 0 udp 6"
	expect r tcp4 ok
	expect r udp6 ok
	pol "" 'mode = "full"
listen = [1]'
	run_probes f "tcp4 bind 0 tcp 4"
	expect f tcp4 ok
}

# docs/policy.md: "`full` lifts address restrictions on outgoing traffic, but
# binding still needs a listed port" and "listen ... No binding otherwise".
case_bind_full_mode_needs_listed_port()
{
	local a b
	a=$(free_port)
	b=$(free_port)
	pol "" "mode = \"full\"
listen = [$a]"
	run_probes l "listed bind $a tcp 4" "other bind $b tcp 4"
	expect l listed ok
	expect l other EPERM
	pol "" 'mode = "full"'
	run_probes e "nolisten bind $b tcp 4"
	expect e nolisten EPERM
}

case_raw_socket_refused()
{
	pol "" 'mode = "full"'
	run_probes r "raw raw" "raw6 raw 6"
	expect r raw EPERM
	expect r raw6 EPERM
	eq socket_denied "$(jr r .network.socket_denied)" 2
	eq "net.socket events" "$(ja r '[.[] | select(.event == "net.socket") | "\(.verdict) \(.family) \(.type) \(.protocol)"] | join(",")')" \
		"deny inet raw 1,deny inet6 raw 58"
}

# AF_PACKET sockets send frames that no cgroup hook sees (no sockaddr hook,
# no cgroup_skb egress): with raw_sockets = false they must not be created.
case_packet_socket_refused()
{
	pol "" 'mode = "allow"
allow = ["127.0.0.1"]'
	run_probes r "packet packet"
	expect r packet EPERM
	eq "net.socket event" "$(ja r '[.[] | select(.event == "net.socket") | "\(.family) \(.type)"] | join(",")')" "packet raw"
}

case_raw_sockets_true_allows_raw_and_packet()
{
	# raw sockets need CAP_NET_RAW, which only a root host workload keeps
	# (the default user, nobody, has no capability)
	pol 'user = "root"' 'mode = "full"
raw_sockets = true'
	run_probes r "raw raw" "raw6 raw 6" "packet packet"
	expect r raw ok
	expect r raw6 ok
	expect r packet ok
	eq socket_denied "$(jr r .network.socket_denied)" 0
}

case_mode_none_refuses_inet_sockets()
{
	pol "" 'mode = "none"'
	run_probes r "tcp socket inet tcp" "udp6 socket inet6 udp" "raw raw"
	expect r tcp EPERM
	expect r udp6 EPERM
	expect r raw EPERM
	# AF_UNIX is no network: it keeps working
	sbx_run u -P "$T_TMP/policy.toml" --profile t -- python3 -c \
		'import socket; socket.socketpair(); print("ok")'
	eq "unix socketpair" "$(cat "$T_TMP/u.out")" ok
}

# Ping sockets need net.ipv4.ping_group_range to include our gid; widen it for
# the case only and restore it afterwards.
enable_ping()
{
	local out old
	out=$("$NETTOOL" ping 127.0.0.1 2>&1)
	case $out in
	ok*) return 0 ;;
	EACCES*)
		old=$(sysctl -n net.ipv4.ping_group_range | tr -s '\t ' ' ')
		sysctl -q -w net.ipv4.ping_group_range="0 2147483647" ||
			skip "ping sockets refused and net.ipv4.ping_group_range cannot be set"
		T_CASE_RESTORE="sysctl -q -w net.ipv4.ping_group_range='$old'"
		out=$("$NETTOOL" ping 127.0.0.1 2>&1)
		[[ $out == ok* ]] || skip "ping sockets unavailable even with ping_group_range widened: $out"
		;;
	*) skip "ping sockets unavailable: $out" ;;
	esac
}

case_ping_denied_dropped_by_safety_net()
{
	enable_ping
	pol "" 'mode = "allow"
allow = ["127.0.0.2", "127.0.0.1:1-65535/tcp"]'
	run_probes r "denied ping 127.0.0.1" "allowed ping 127.0.0.2"
	expect r denied EPERM
	expect r allowed ok
	eq "net.packet event" "$(ja r '[.[] | select(.event == "net.packet") | "\(.verdict) \(.addr) \(.proto) \(.rule)"] | join(",")')" \
		"deny 127.0.0.1 icmp default"
	eq "denials.net.packet" "$(jr r '.denials."net.packet"')" 1
	eq packets_dropped "$(jr r .network.packets_dropped)" 1
	pol "" 'mode = "deny"
deny = ["127.0.0.0/8"]'
	run_probes d "denied ping 127.0.0.1"
	expect d denied EPERM
	eq "net.packet event (deny mode)" "$(ja d '[.[] | select(.event == "net.packet") | "\(.addr) \(.rule)"] | join(",")')" \
		"127.0.0.1 127.0.0.0/8"
	# mode full lets it through; mode none refuses the ping socket itself
	pol "" 'mode = "full"'
	run_probes f "allowed ping 127.0.0.1"
	expect f allowed ok
	pol "" 'mode = "none"'
	run_probes n "none ping 127.0.0.1"
	expect n none EPERM
	grep -q '^none EPERM socket' "$T_TMP/n.out" || fail "mode none: the ping socket was not refused at socket(): $(cat "$T_TMP/n.out")"
}

# ICMPv6 echo: the safety net drops it too. The kernel does not hand the
# cgroup_skb verdict back to ping_v6_sendmsg (icmpv6_push_pending_frames
# ignores it), so sendto succeeds and the echo just never comes back.
case_ping6_denied_dropped_by_safety_net()
{
	enable_ping
	"$NETTOOL" ping ::1 >/dev/null || skip "ICMPv6 ping sockets unavailable: $("$NETTOOL" ping ::1)"
	pol "" 'mode = "allow"
allow = ["::2"]'
	run_probes r "denied ping ::1"
	grep -q '^denied ok' "$T_TMP/r.out" && fail "the echo to ::1 got a reply through a denying policy"
	eq "net.packet event" "$(ja r '[.[] | select(.event == "net.packet") | "\(.verdict) \(.family) \(.addr) \(.proto)"] | join(",")')" \
		"deny ipv6 ::1 icmpv6"
	eq packets_dropped "$(jr r .network.packets_dropped)" 1
	pol "" 'mode = "allow"
allow = ["::1"]'
	run_probes a "allowed ping ::1"
	expect a allowed ok
}

setup sock_setup
run_case bind_listen_port_allowed case_bind_listen_port_allowed
run_case bind_other_port_refused case_bind_other_port_refused
run_case bind_port_zero_allowed case_bind_port_zero_allowed
run_case bind_full_mode_needs_listed_port case_bind_full_mode_needs_listed_port
run_case raw_socket_refused case_raw_socket_refused
run_case packet_socket_refused case_packet_socket_refused
run_case raw_sockets_true_allows_raw_and_packet case_raw_sockets_true_allows_raw_and_packet
run_case mode_none_refuses_inet_sockets case_mode_none_refuses_inet_sockets
run_case ping_denied_dropped_by_safety_net case_ping_denied_dropped_by_safety_net
run_case ping6_denied_dropped_by_safety_net case_ping6_denied_dropped_by_safety_net
finish
