#!/bin/bash
# SPDX-License-Identifier: MIT
# Address forms and protocols that could slip past the network policy
# (issue 20, items 4, 9 and 15; docs/policy.md "Address forms the kernel
# rewrites" and "Protocols"):
# - the any-address in every spelling (0.0.0.0, ::, ::ffff:0.0.0.0, with and
#   without a bound source) reaches a loopback service, because the kernel
#   rewrites it after the hooks ran; the IPv4-compatible ::a.b.c.d;
# - hex, octal and short IPv4 forms written as host names;
# - UDP-Lite against "/udp" entries and listen ports, SCTP, DCCP and MPTCP
#   sockets, and the egress safety net on protocols it cannot judge.
# Loopback only. Each denial must be EPERM with one audit event.
. "$(dirname "$0")/../integration/lib.sh"

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

# net_events NAME EVENT: one line per EVENT audit record of run NAME:
# "verdict family addr mapped form port proto rule", sorted.
net_events()
{
	ja "$1" "[.[] | select(.event == \"$2\") | \"\(.verdict) \(.family) \(.addr) \(.ipv4_mapped // false) \(.addr_form // \"literal\") \(.port) \(.proto) \(.rule)\"] | sort | join(\"\\n\")"
}

have_proto()
{
	awk 'NR > 1 { print $1 }' /proc/net/protocols | grep -qx "$1"
}

forms_setup()
{
	start_listener T4 127.0.0.1 tcp &&
		start_listener T6 ::1 tcp &&
		start_listener T42 127.0.0.2 tcp &&
		start_listener U4 127.0.0.1 udp &&
		start_listener U6 ::1 udp &&
		start_listener L4 127.0.0.1 udplite &&
		start_listener L6 ::1 udplite
}

# Every spelling of "this host" against a deny list of loopback: the kernel
# sends 0.0.0.0 and ::ffff:0.0.0.0 to 127.0.0.1 (or the bound source) and ::
# to ::1, so each one must be refused and reported with the real destination.
case_any_address_forms_denied()
{
	pol "" 'mode = "deny"
deny = ["127.0.0.0/8", "::1"]'
	run_probes r "t4 connect 0.0.0.0 $T4 tcp" \
		"t6 connect :: $T6 tcp" \
		"tm connect ::ffff:0.0.0.0 $T4 tcp" \
		"t4src connect 0.0.0.0 $T42 tcp 127.0.0.2" \
		"tmsrc connect ::ffff:0.0.0.0 $T42 tcp ::ffff:127.0.0.2" \
		"u4 sendto 0.0.0.0 $U4 1 8" \
		"u6 sendto :: $U6 1 8" \
		"um sendto ::ffff:0.0.0.0 $U4 1 8" \
		"uc4 connect 0.0.0.0 $U4 udp" \
		"uc6 connect :: $U6 udp" \
		"l4 sendto 0.0.0.0 $L4 1 8 udplite" \
		"lc6 connect :: $L6 udplite"
	local p
	for p in t4 t6 tm t4src tmsrc u4 u6 um uc4 uc6 l4 lc6; do
		expect r "$p" EPERM
	done
	eq "connect events" "$(net_events r net.connect)" "$(printf '%s\n' \
		"deny ipv4 127.0.0.1 false unspecified $T4 tcp 127.0.0.0/8" \
		"deny ipv4 127.0.0.1 false unspecified $T42 tcp 127.0.0.0/8" \
		"deny ipv4 127.0.0.1 false unspecified $U4 udp 127.0.0.0/8" \
		"deny ipv4 127.0.0.1 true unspecified $T4 tcp 127.0.0.0/8" \
		"deny ipv4 127.0.0.1 true unspecified $T42 tcp 127.0.0.0/8" \
		"deny ipv6 ::1 false unspecified $T6 tcp ::1" \
		"deny ipv6 ::1 false unspecified $U6 udp ::1" | sort)"
	eq "send events" "$(net_events r net.send)" "$(printf '%s\n' \
		"deny ipv4 127.0.0.1 false unspecified $L4 136 127.0.0.0/8" \
		"deny ipv4 127.0.0.1 false unspecified $U4 udp 127.0.0.0/8" \
		"deny ipv4 127.0.0.1 true unspecified $U4 udp 127.0.0.0/8" \
		"deny ipv6 ::1 false unspecified $U6 udp ::1" | sort)"
	# UDP-Lite has no connect hook: its packets are judged at egress, where
	# the kernel has already put ::1 in place of ::.
	eq "packet events" "$(net_events r net.packet)" "deny ipv6 ::1 false literal $L6 136 ::1"
	eq connect_denied "$(jr r .network.connect_denied)" 7
}

# 0.0.0.0 from a socket bound to 127.0.0.2 goes to 127.0.0.2: that reading
# is judged too, while 0.0.0.0 without a source is 127.0.0.1 and allowed.
case_any_address_bound_source_judged()
{
	pol "" 'mode = "deny"
deny = ["127.0.0.2"]'
	run_probes r "src connect 0.0.0.0 $T42 tcp 127.0.0.2" \
		"srcm connect ::ffff:0.0.0.0 $T42 tcp ::ffff:127.0.0.2" \
		"usrc sendto 0.0.0.0 $U4 1 8 udp 127.0.0.2" \
		"nosrc connect 0.0.0.0 $T4 tcp"
	expect r src EPERM
	expect r srcm EPERM
	expect r usrc EPERM
	expect r nosrc ok
	eq "events" "$(ja r '[.[] | select(.verdict == "deny") | "\(.event) \(.addr) \(.addr_form) \(.port) \(.rule)"] | sort | join(",")')" \
		"net.connect 127.0.0.2 unspecified $T42 127.0.0.2,net.connect 127.0.0.2 unspecified $T42 127.0.0.2,net.send 127.0.0.2 unspecified $U4 127.0.0.2"
}

# Under an allow list the any-address is judged where it goes as well.
case_any_address_allow_mode()
{
	pol "" 'mode = "allow"
allow = ["127.0.0.1"]'
	run_probes r "t4 connect 0.0.0.0 $T4 tcp" "t6 connect :: $T6 tcp" "u6 sendto :: $U6 1 8"
	expect r t4 ok
	expect r t6 EPERM
	expect r u6 EPERM
	eq "events" "$(ja r '[.[] | select(.verdict == "deny") | "\(.event) \(.addr) \(.addr_form) \(.rule) \(.mode)"] | sort | join(",")')" \
		"net.connect ::1 unspecified default allow,net.send ::1 unspecified default allow"
}

# ::127.0.0.1 (IPv4-compatible) reaches 127.0.0.1 through a sit tunnel where
# one exists; it is judged as 127.0.0.1 and as itself, either denying.
case_ipv4_compatible_judged_both_ways()
{
	pol "" 'mode = "deny"
deny = ["127.0.0.0/8"]'
	run_probes r "c connect ::127.0.0.1 $T4 tcp" "s sendto ::127.0.0.2 $U4 1 8"
	expect r c EPERM
	expect r s EPERM
	eq "events" "$(net_events r net.connect; net_events r net.send)" "$(printf '%s\n' \
		"deny ipv4 127.0.0.1 false ipv4_compatible $T4 tcp 127.0.0.0/8" \
		"deny ipv4 127.0.0.2 false ipv4_compatible $U4 udp 127.0.0.0/8")"
	pol "" 'mode = "deny"
deny = ["::127.0.0.1"]'
	run_probes v6 "c connect ::127.0.0.1 $T4 tcp"
	expect v6 c EPERM
	eq "v6 reading" "$(net_events v6 net.connect)" \
		"deny ipv6 ::127.0.0.1 false ipv4_compatible $T4 tcp ::127.0.0.1"
}

# docs/policy.md: hex and octal IPv4 forms are refused. As host names they
# would resolve (inet_aton) to the address they spell.
case_numeric_host_forms_refused()
{
	local f=$T_TMP/numeric.toml out rc
	cat >"$f" <<'EOF'
version = 1
[profile.t]
provider = "host"
min_isolation = "none"
[profile.t.network]
mode = "deny"
deny = ["127.0.0.0/8",
  "0x7f.1",
	"0x7f000001:80/tcp"]
allow = [ "0x7f.0.0.1.", "1.0xff" ]
EOF
	out=$("$SBX" policy check "$f" 2>&1)
	rc=$?
	[ "$rc" != 0 ] || fail "policy check accepted numeric host names: $out"
	grep -qF "$f:8:3: error: '0x7f.1' is an IPv4 address in hex, octal or short form (resolvers read it as 127.0.0.1)" <<<"$out" ||
		fail "no error for 0x7f.1 at 8:3: $out"
	grep -qF "$f:9:2: error: '0x7f000001' is an IPv4 address" <<<"$out" || fail "no error at 9:2: $out"
	grep -qF "$f:10:11: error: '0x7f.0.0.1' is an IPv4 address" <<<"$out" || fail "no error at 10:11: $out"
	grep -qF "$f:10:26: error: '1.0xff' is an IPv4 address in hex, octal or short form (resolvers read it as 1.0.0.255)" <<<"$out" ||
		fail "no error at 10:26: $out"
	sbx_run r -P "$f" --profile t -- true
	expect_rc r 125
}

# UDP-Lite is UDP with a partial checksum: "/udp" deny entries cover it.
case_udplite_denied_by_udp_entries()
{
	have_proto UDP-Lite || skip "the kernel has no UDP-Lite (/proc/net/protocols)"
	pol "" 'mode = "deny"
deny = ["127.0.0.0/8/udp", "[::1]/udp"]'
	run_probes r "s4 sendto 127.0.0.1 $L4 1 8 udplite" "c4 connect 127.0.0.1 $L4 udplite" \
		"s6 sendto ::1 $L6 1 8 udplite" "m sendto ::ffff:127.0.0.1 $L4 1 8 udplite" \
		"tcp connect 127.0.0.1 $T4 tcp"
	expect r s4 EPERM
	expect r c4 EPERM
	expect r s6 EPERM
	expect r m EPERM
	expect r tcp ok
	eq "send events" "$(net_events r net.send)" "$(printf '%s\n' \
		"deny ipv4 127.0.0.1 false literal $L4 136 127.0.0.0/8/udp" \
		"deny ipv4 127.0.0.1 true literal $L4 136 127.0.0.0/8/udp" \
		"deny ipv6 ::1 false literal $L6 136 ::1/udp")"
	# connect(2) of UDP-Lite passes no hook; its first packet is dropped.
	eq "packet events" "$(net_events r net.packet)" "deny ipv4 127.0.0.1 false literal $L4 136 127.0.0.0/8/udp"
}

# Allowed UDP-Lite must pass the egress safety net (it used to be judged
# there as a port-less protocol and dropped), and "/udp" listen ports cover
# its bind.
case_udplite_allowed_by_udp_entries()
{
	have_proto UDP-Lite || skip "the kernel has no UDP-Lite (/proc/net/protocols)"
	local p
	p=$("$NETTOOL" bind 0 udplite | sed -n 's/^ok port=//p')
	pol "" "mode = \"allow\"
allow = [\"127.0.0.1:$L4/udp\"]
listen = [\"$p/udp\"]"
	run_probes r "s sendto 127.0.0.1 $L4 3 8 udplite" "c connect 127.0.0.1 $L4 udplite" \
		"b bind $p udplite 4" "t connect 127.0.0.1 $L4 tcp"
	expect r s ok
	expect r c ok
	expect r b ok
	expect r t EPERM
	eq packets_dropped "$(jr r .network.packets_dropped)" 0
	eq "net.packet events" "$(net_events r net.packet)" ""
	# A connected UDP-Lite socket to a port the list does not name.
	run_probes o "c connect 127.0.0.1 $U4 udplite"
	expect o c EPERM
	eq "other port" "$(net_events o net.packet)" "deny ipv4 127.0.0.1 false literal $U4 136 default"
}

# proto_refused NAME PROC SOCKARG: sockets of a protocol the hooks cannot
# judge are refused under allow and deny, allowed under full.
proto_refused()
{
	local name=$1 proc=$2 arg=$3 mode
	have_proto "$proc" || skip "the kernel has no $name (no $proc in /proc/net/protocols)"
	for mode in allow deny; do
		pol "" "mode = \"$mode\""
		run_probes "$mode" "v4 socket inet $arg" "v6 socket inet6 $arg" "tcp socket inet tcp"
		expect "$mode" v4 EPERM
		expect "$mode" v6 EPERM
		expect "$mode" tcp ok
		eq "$mode socket_denied" "$(jr "$mode" .network.socket_denied)" 2
		eq "$mode events" "$(ja "$mode" '[.[] | select(.event == "net.socket") | "\(.verdict) \(.family) \(.protocol)"] | join(",")')" \
			"deny inet $4,deny inet6 $4"
	done
	pol "" 'mode = "full"'
	run_probes full "v4 socket inet $arg"
	expect full v4 ok
}

case_mptcp_socket_refused() { proto_refused MPTCP MPTCP mptcp 262; }
case_sctp_socket_refused() { proto_refused SCTP SCTP sctp 132; }
case_sctp_seqpacket_socket_refused() { proto_refused SCTP SCTP sctp-seq 132; }
case_dccp_socket_refused() { proto_refused DCCP DCCP dccp 33; }

# The egress safety net cannot apply port rules to SCTP or DCCP packets (here
# from a raw socket, which the profile allows): it drops them and says so.
case_safety_net_fails_closed_on_port_protocols()
{
	# raw sockets: a root workload (the host provider's nobody has no CAP_NET_RAW)
	pol 'user = "root"' 'mode = "full"
raw_sockets = true'
	run_probes f "sctp rawsend 127.0.0.1 132"
	grep -q '^sctp EPERM socket' "$T_TMP/f.out" && skip "the workload may not open raw sockets (no CAP_NET_RAW)"
	expect f sctp ok
	eq "full: packets_dropped" "$(jr f .network.packets_dropped)" 0
	pol 'user = "root"' 'mode = "deny"
deny = ["127.0.0.1:9/udp"]
raw_sockets = true'
	run_probes r "sctp rawsend 127.0.0.1 132" "dccp6 rawsend ::1 33" "gre rawsend 127.0.0.1 47"
	expect r sctp EPERM
	expect r dccp6 EPERM
	expect r gre ok
	eq "net.packet events" "$(ja r '[.[] | select(.event == "net.packet") | "\(.verdict) \(.addr) \(.proto) \(.rule)"] | join(",")')" \
		"deny 127.0.0.1 132 unjudged,deny ::1 33 unjudged"
	eq packets_dropped "$(jr r .network.packets_dropped)" 2
}

setup forms_setup
run_case any_address_forms_denied case_any_address_forms_denied
run_case any_address_bound_source_judged case_any_address_bound_source_judged
run_case any_address_allow_mode case_any_address_allow_mode
run_case ipv4_compatible_judged_both_ways case_ipv4_compatible_judged_both_ways
run_case numeric_host_forms_refused case_numeric_host_forms_refused
run_case udplite_denied_by_udp_entries case_udplite_denied_by_udp_entries
run_case udplite_allowed_by_udp_entries case_udplite_allowed_by_udp_entries
run_case mptcp_socket_refused case_mptcp_socket_refused
run_case sctp_socket_refused case_sctp_socket_refused
run_case sctp_seqpacket_socket_refused case_sctp_seqpacket_socket_refused
run_case dccp_socket_refused case_dccp_socket_refused
run_case safety_net_fails_closed_on_port_protocols case_safety_net_fails_closed_on_port_protocols
finish
