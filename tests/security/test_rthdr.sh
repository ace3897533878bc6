#!/bin/bash
# SPDX-License-Identifier: MIT
# Packets that carry their own route (issue 20, item 1; docs/policy.md
# "Routing headers and source routes"): a workload sends to an address the
# policy allows, with an IPv6 routing header or an IPv4 source route whose
# first hop the policy never allowed. The kernel routes such a packet to the
# first hop, after connect/sendmsg judged the final address.
# tests/security/rthdr.c sets the route every way the kernel offers:
# setsockopt IPV6_RTHDR (types 0, 2, 4), IPV6_2292PKTOPTIONS, IPV6_RTHDR and
# IPV6_2292RTHDR cmsgs, setsockopt IP_OPTIONS (LSRR, SSRR), IP_RETOPTS cmsgs.
# Each must be refused: the socket option with EPERM and one net.sockopt
# event, a cmsg route by the kernel (EINVAL) or at egress (EPERM, one
# net.packet event naming the first hop and its port).
#
# It runs in a network namespace of its own (nsenter --net keeps the mounts
# that sbx needs; `ip netns exec` would remount /sys): fd00:5b::1 is the
# allowed address and fd00:5b::2 the first hop, both on its lo; 127.0.0.1 and
# 127.0.0.3 for IPv4.
. "$(dirname "$0")/../integration/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
SRC=$(cd "$(dirname "$0")" && pwd)
RTHDR=$OUTPUT/tests/security/rthdr
NS=sbxrt$$
ALLOW6=fd00:5b::1
HOP6=fd00:5b::2
ALLOW4=127.0.0.1
HOP4=127.0.0.3
PORT=4099

_rt_cleanup()
{
	ip netns del "$NS" 2>/dev/null
	_cleanup
}
trap _rt_cleanup EXIT

rt_skip_reason()
{
	[ "$(id -u)" = 0 ] || { echo "not root (network namespaces)"; return; }
	command -v nsenter >/dev/null || echo "nsenter is missing"
}

rt_setup()
{
	mkdir -p "$(dirname "$RTHDR")" || return 1
	[ "$RTHDR" -nt "$SRC/rthdr.c" ] ||
		gcc -std=gnu11 -O2 -Wall -Wextra -o "$RTHDR" "$SRC/rthdr.c" || return 1
	ip netns add "$NS" &&
		ip -n "$NS" link set lo up &&
		ip -n "$NS" addr add "$ALLOW6/128" dev lo nodad &&
		ip -n "$NS" addr add "$HOP6/128" dev lo nodad
}

SBX_TEST_SKIP=${SBX_TEST_SKIP:-$(rt_skip_reason)}

# pol MODE NET-LINES [PROFILE-KEYS]
pol()
{
	write_policy "$T_TMP/policy.toml" t "${3:-}" "mode = \"$1\"
$2"
}

# run NAME PROBE...: each probe "label FORM PROTO DST HOP" runs the attacker
# in the sandbox, inside the test's network namespace.
run()
{
	local name=$1 p script=""
	shift
	for p in "$@"; do
		set -- $p
		if [ "$1" = caps ]; then
			script+="awk '/^CapEff/ { print \"caps\", \$2 }' /proc/self/status; "
			continue
		fi
		script+="printf '%s ' $1; $RTHDR $2 $3 $4 $PORT $5; "
	done
	rm -f "$T_TMP/$name".{result,audit,out,err}
	nsenter --net="/run/netns/$NS" "$SBX" run --result "$T_TMP/$name.result" \
		--audit "$T_TMP/$name.audit" -P "$T_TMP/policy.toml" --profile t -- \
		sh -c "$script true" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	RC=$?
	[ -s "$T_TMP/$name.result" ] || fail "$name: no result (sbx rc=$RC: $(tail -c 300 "$T_TMP/$name.err"))"
}

sockopt_events()
{
	ja "$1" '[.[] | select(.event == "net.sockopt") | "\(.verdict) \(.family) \(.option)"] | sort | join("\n")'
}

packet_events()
{
	ja "$1" '[.[] | select(.event == "net.packet") | "\(.verdict) \(.addr) \(.port) \(.proto)"] | sort | join("\n")'
}

# Every route set with setsockopt is refused at setsockopt, in allow and in
# deny mode, for UDP and TCP; the control without a route still reaches the
# allowed address.
check_sockopt_refused()
{
	run r "srh-udp srh-opt udp $ALLOW6 $HOP6" "srh-tcp srh-opt tcp $ALLOW6 $HOP6" \
		"rt0-udp rt0-opt udp $ALLOW6 $HOP6" "rt2-udp rt2-opt udp $ALLOW6 $HOP6" \
		"pkt-udp srh-pktopt udp $ALLOW6 $HOP6" "pkt-tcp srh-pktopt tcp $ALLOW6 $HOP6" \
		"plain none udp $ALLOW6 $HOP6"
	local p
	for p in srh-udp srh-tcp rt0-udp rt2-udp pkt-udp pkt-tcp; do
		expect r "$p" EPERM
	done
	expect r plain ok
	eq "net.sockopt events" "$(sockopt_events r)" "$(printf '%s\n' \
		"deny inet6 IPV6_2292PKTOPTIONS" "deny inet6 IPV6_2292PKTOPTIONS" \
		"deny inet6 IPV6_RTHDR" "deny inet6 IPV6_RTHDR" "deny inet6 IPV6_RTHDR" \
		"deny inet6 IPV6_RTHDR")"
	eq "denials.net.sockopt" "$(jr r '.denials."net.sockopt"')" 6
	eq "no net.packet" "$(packet_events r)" ""
}

case_ipv6_rthdr_sockopt_allow_mode()
{
	pol allow "allow = [\"$ALLOW6\", \"$ALLOW4\"]"
	check_sockopt_refused
}

case_ipv6_rthdr_sockopt_deny_mode()
{
	pol deny "deny = [\"$HOP6\", \"$HOP4\"]"
	check_sockopt_refused
}

# Routing headers as cmsgs never reach the setsockopt hook. The kernel takes
# only type 2 there, and only when built with CONFIG_IPV6_MIP6: a header it
# refuses is EINVAL; one it sends must be dropped at egress and reported.
case_ipv6_rthdr_cmsg_refused()
{
	pol allow "allow = [\"$ALLOW6\"]" 'audit = "all"'
	run r "srh-cmsg srh-cmsg udp $ALLOW6 $HOP6" "rt0-cmsg rt0-cmsg udp $ALLOW6 $HOP6" \
		"rt2-cmsg rt2-cmsg udp $ALLOW6 $HOP6" "srh-2292 srh-2292 udp $ALLOW6 $HOP6" \
		"rt2-2292 rt2-2292 udp $ALLOW6 $HOP6"
	local p got sent=0
	for p in srh-cmsg rt0-cmsg rt2-cmsg srh-2292 rt2-2292; do
		got=$(awk -v l="$p" '$1 == l { print $2 }' "$T_TMP/r.out")
		case $got in
		EINVAL) ;;
		EPERM) sent=$((sent + 1)) ;;
		*) fail "$p: expected EPERM or EINVAL, got '${got:-nothing}' ($(tail -c 300 "$T_TMP/r.err"))" ;;
		esac
	done
	eq "net.packet events" "$(packet_events r | grep -c "deny $HOP6 $PORT udp")" "$sent"
	eq "no send to the first hop allowed" \
		"$(ja r "[.[] | select(.verdict == \"allow\" and .addr == \"$HOP6\")] | length")" 0
}

# IPv4 source routes need CAP_NET_RAW (ip_options_compile): a workload of
# the host provider that runs as root (user = "root") keeps it with raw_sockets. setsockopt IP_OPTIONS is
# refused; an
# IP_RETOPTS cmsg is dropped at egress with the first hop in the event.
case_ipv4_source_route_refused()
{
	pol allow "allow = [\"$ALLOW4\"]
raw_sockets = true" 'user = "root"'
	run r "lsrr-udp lsrr-opt udp $ALLOW4 $HOP4" "lsrr-tcp lsrr-opt tcp $ALLOW4 $HOP4" \
		"ssrr-udp ssrr-opt udp $ALLOW4 $HOP4" "lsrr-cmsg lsrr-cmsg udp $ALLOW4 $HOP4" \
		"plain none udp $ALLOW4 $HOP4" caps
	expect r plain ok
	local caps
	caps=$(awk '$1 == "caps" { print $2 }' "$T_TMP/r.out")
	[ -n "$caps" ] || fail "no CapEff line: $(cat "$T_TMP/r.out")"
	(( (0x$caps >> 13) & 1 )) || skip "the root workload has no CAP_NET_RAW (CapEff $caps)"
	local p
	for p in lsrr-udp lsrr-tcp ssrr-udp lsrr-cmsg; do
		expect r "$p" EPERM
	done
	eq "net.sockopt events" "$(sockopt_events r)" "$(printf '%s\n' \
		"deny inet IP_OPTIONS" "deny inet IP_OPTIONS" "deny inet IP_OPTIONS")"
	eq "net.packet events" "$(packet_events r)" "deny $HOP4 $PORT udp"
}

# The egress net leaves ordinary TCP and UDP alone: replies to a peer that
# the policy does not list still leave an accepted connection.
case_plain_traffic_passes()
{
	pol allow "allow = [\"$ALLOW6\", \"$ALLOW4\"]"
	run r "u6 none udp $ALLOW6 $HOP6" "t6 none tcp $ALLOW6 $HOP6" "u4 none udp $ALLOW4 $HOP4"
	expect r u6 ok
	expect r u4 ok
	# nothing listens: the SYN left and was answered with a reset
	expect r t6 ECONNREFUSED
	eq "no net.packet" "$(packet_events r)" ""
}

setup rt_setup
run_case ipv6_rthdr_sockopt_allow_mode case_ipv6_rthdr_sockopt_allow_mode
run_case ipv6_rthdr_sockopt_deny_mode case_ipv6_rthdr_sockopt_deny_mode
run_case ipv6_rthdr_cmsg_refused case_ipv6_rthdr_cmsg_refused
run_case ipv4_source_route_refused case_ipv4_source_route_refused
run_case plain_traffic_passes case_plain_traffic_passes
finish
