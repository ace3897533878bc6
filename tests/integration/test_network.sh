#!/bin/bash
# SPDX-License-Identifier: MIT
# Network policy enforcement by the cgroup sock_addr programs: every mode with
# IPv4 and IPv6, CIDRs, port ranges, protocols, IPv4-mapped destinations,
# unconnected UDP, and the decision rule of docs/policy.md ("most specific
# entry wins, deny wins ties"). All traffic goes to loopback listeners that
# this file starts itself.
. "$(dirname "$0")/lib.sh"

P=policy.toml

net_setup()
{
	start_listener P4 127.0.0.1 tcp || return 1
	start_listener Q4 127.0.0.1 tcp || return 1
	start_listener R4 127.0.0.2 tcp || return 1
	start_listener P6 ::1 tcp || return 1
	start_listener Q6 ::1 tcp || return 1
	start_listener U4 127.0.0.1 udp || return 1
	start_listener U6 ::1 udp || return 1
	# the listeners answer outside any sandbox
	"$NETTOOL" connect 127.0.0.1 "$P4" >/dev/null && "$NETTOOL" connect ::1 "$P6" >/dev/null
}

# pol PROFILE-EXTRA NETWORK-LINES: writes $T_TMP/policy.toml, profile "t".
pol()
{
	write_policy "$T_TMP/$P" t "$1" "$2"
}

# run_probes NAME PROBE...: one sandbox running every probe.
run_probes()
{
	local name=$1
	shift
	printf '%s\n' "$@" >"$T_TMP/$name.probes"
	sbx_run "$name" -P "$T_TMP/$P" --profile t -- sh -c "$(probes "$@")"
	[ -s "$T_TMP/$name.result" ] || fail "$name: no result (sbx rc=$RC: $(tail -c 300 "$T_TMP/$name.err"))"
}

# denials_audited NAME: every connect/sendto/fastopen probe of run NAME that
# got EPERM left exactly one deny event naming its address, port and
# protocol, and no other probe left one: the refusal is sbx's, not a
# kernel error that looks alike.
denials_audited()
{
	local name=$1 label verb a b p want got
	want=$(while read -r label verb a b p _; do
		[ "$(awk -v l="$label" '$1 == l { print $2; exit }' "$T_TMP/$name.out")" = EPERM ] || continue
		case $verb in
		connect) echo "net.connect $a $b $([ "$p" = udp ] && echo udp || echo tcp)" ;;
		fastopen) echo "net.connect $a $b tcp" ;;
		sendto) echo "net.send $a $b udp" ;;
		esac
	done <"$T_TMP/$name.probes" | sort)
	[ -n "$want" ] || fail "$name: no probe was refused (nothing to match with the audit)"
	got=$(ja "$name" '.[] | select((.event == "net.connect" or .event == "net.send") and .verdict == "deny")
		| "\(.event) \(.addr) \(.port) \(.proto)"' | sort)
	[ "$got" = "$want" ] || fail "$name: deny events [$(echo $got)], expected [$(echo $want)] (one per refused probe)"
}

# range_around IN OUT: a port range that has IN at one edge and OUT just
# outside the other edge.
range_around()
{
	if [ "$2" -gt "$1" ]; then echo "$1-$(($2 - 1))"; else echo "$(($2 + 1))-$1"; fi
}

case_mode_none_ipv4()
{
	pol "" 'mode = "none"'
	run_probes r 'tcp socket inet tcp' 'udp socket inet udp' 'conn connect 127.0.0.1 '"$P4"
	expect r tcp EPERM
	expect r udp EPERM
	expect r conn EPERM
	eq socket_denied "$(jr r .network.socket_denied)" 3
	eq "net.socket events" "$(ja r '[.[] | select(.event == "net.socket" and .family == "inet")] | length')" 3
}

case_mode_none_ipv6()
{
	pol "" 'mode = "none"'
	run_probes r 'tcp socket inet6 tcp' 'udp socket inet6 udp' 'conn connect ::1 '"$P6"
	expect r tcp EPERM
	expect r udp EPERM
	expect r conn EPERM
	eq "net.socket events" "$(ja r '[.[] | select(.event == "net.socket" and .family == "inet6")] | length')" 3
}

case_mode_full_ipv4()
{
	pol "" 'mode = "full"'
	run_probes r "a connect 127.0.0.1 $P4" "b connect 127.0.0.1 $Q4" "c connect 127.0.0.2 $R4" \
		"d sendto 127.0.0.1 $U4 1 10"
	expect r a ok
	expect r b ok
	expect r c ok
	expect r d ok
	eq connect_allowed "$(jr r .network.connect_allowed)" 3
}

case_mode_full_ipv6()
{
	pol "" 'mode = "full"'
	run_probes r "a connect ::1 $P6" "b connect ::1 $Q6" "d sendto ::1 $U6 1 10"
	expect r a ok
	expect r b ok
	expect r d ok
}

case_mode_allow_ipv4()
{
	pol "" "mode = \"allow\"
allow = [\"127.0.0.1:$P4\"]"
	run_probes r "listed connect 127.0.0.1 $P4" "otherport connect 127.0.0.1 $Q4" \
		"otheraddr connect 127.0.0.2 $R4" "udp sendto 127.0.0.1 $U4 1 10" "v6 connect ::1 $P6"
	expect r listed ok
	expect r otherport EPERM
	expect r otheraddr EPERM
	expect r udp EPERM
	expect r v6 EPERM
	eq connect_denied "$(jr r .network.connect_denied)" 3
	denials_audited r
}

case_mode_allow_ipv6()
{
	pol "" "mode = \"allow\"
allow = [\"[::1]:$P6\"]"
	run_probes r "listed connect ::1 $P6" "otherport connect ::1 $Q6" "v4 connect 127.0.0.1 $P6" \
		"udp sendto ::1 $U6 1 10"
	expect r listed ok
	expect r otherport EPERM
	expect r v4 EPERM
	expect r udp EPERM
	denials_audited r
}

case_mode_deny_ipv4()
{
	pol "" "mode = \"deny\"
deny = [\"127.0.0.1:$Q4\"]"
	run_probes r "unlisted connect 127.0.0.1 $P4" "listed connect 127.0.0.1 $Q4" \
		"otheraddr connect 127.0.0.2 $R4" "udp sendto 127.0.0.1 $Q4 1 10"
	expect r unlisted ok
	expect r listed EPERM
	expect r otheraddr ok
	expect r udp EPERM
	denials_audited r
}

case_mode_deny_ipv6()
{
	pol "" "mode = \"deny\"
deny = [\"[::1]:$Q6\"]"
	run_probes r "unlisted connect ::1 $P6" "listed connect ::1 $Q6" "udp sendto ::1 $Q6 1 10"
	expect r unlisted ok
	expect r listed EPERM
	expect r udp EPERM
	denials_audited r
}

case_cidr_ipv4()
{
	pol "" 'mode = "allow"
allow = ["127.0.0.2/31"]'
	run_probes r "inside connect 127.0.0.2 $R4" "outside connect 127.0.0.1 $P4" \
		"inside_udp sendto 127.0.0.3 $U4 1 10"
	expect r inside ok
	expect r outside EPERM
	expect r inside_udp ok
	pol "" 'mode = "deny"
deny = ["127.0.0.0/30"]'
	run_probes d "inside connect 127.0.0.1 $P4" "inside2 connect 127.0.0.2 $R4" \
		"outside sendto 127.0.0.4 $U4 1 10"
	expect d inside EPERM
	expect d inside2 EPERM
	expect d outside ok
	denials_audited r
}

case_cidr_ipv6()
{
	pol "" 'mode = "allow"
allow = ["::/127"]'
	run_probes r "inside connect ::1 $P6" "inside2 connect ::1 $Q6" "outside sendto ::2 $U6 1 10"
	expect r inside ok
	expect r inside2 ok
	expect r outside EPERM
	pol "" "mode = \"allow\"
allow = [\"[::2]/127:$P6\"]"
	run_probes o "outside connect ::1 $P6" "inside sendto ::3 $P6 1 10"
	expect o outside EPERM
	expect o inside ok
	denials_audited r
}

case_port_range_ipv4()
{
	local range
	range=$(range_around "$P4" "$Q4")
	pol "" "mode = \"allow\"
allow = [\"127.0.0.1:$range/tcp\"]"
	run_probes r "inside connect 127.0.0.1 $P4" "outside connect 127.0.0.1 $Q4"
	expect r inside ok
	expect r outside EPERM
	denials_audited r
}

case_port_range_ipv6()
{
	local range
	range=$(range_around "$P6" "$Q6")
	pol "" "mode = \"deny\"
deny = [\"[::1]:$range\"]"
	run_probes r "inside connect ::1 $P6" "outside connect ::1 $Q6"
	expect r inside EPERM
	expect r outside ok
	denials_audited r
}

case_proto_tcp_entry_does_not_allow_udp()
{
	pol "" "mode = \"allow\"
allow = [\"127.0.0.1:$U4/tcp\", \"127.0.0.1:$P4/tcp\", \"[::1]:$U6/tcp\"]"
	run_probes r "tcp connect 127.0.0.1 $P4" "sendto sendto 127.0.0.1 $U4 1 10" \
		"udpconnect connect 127.0.0.1 $U4 udp" "sendto6 sendto ::1 $U6 1 10"
	expect r tcp ok
	expect r sendto EPERM
	expect r udpconnect EPERM
	expect r sendto6 EPERM
	denials_audited r
}

case_proto_udp_entry_does_not_allow_tcp()
{
	pol "" "mode = \"allow\"
allow = [\"127.0.0.1:$P4/udp\"]"
	run_probes r "tcp connect 127.0.0.1 $P4" "udp sendto 127.0.0.1 $P4 1 10"
	expect r tcp EPERM
	expect r udp ok
	denials_audited r
}

case_ipv4_mapped_judged_as_ipv4()
{
	pol 'audit = "all"' "mode = \"allow\"
allow = [\"127.0.0.1:$P4\", \"127.0.0.1:$U4/udp\"]"
	run_probes r "allowed connect ::ffff:127.0.0.1 $P4" "denied connect ::ffff:127.0.0.1 $Q4" \
		"udp sendto ::ffff:127.0.0.1 $U4 1 10" "v6loop connect ::1 $P6"
	expect r allowed ok
	expect r denied EPERM
	expect r udp ok
	expect r v6loop EPERM
	eq "mapped deny event" "$(ja r "[.[] | select(.event == \"net.connect\" and .verdict == \"deny\" and .port == $Q4)
		| \"\(.family) \(.addr) \(.ipv4_mapped)\"] | join(\",\")")" "ipv4 127.0.0.1 true"
	eq "mapped allow rule" "$(ja r "[.[] | select(.event == \"net.connect\" and .verdict == \"allow\" and .port == $P4)
		| .rule] | join(\",\")")" "127.0.0.1:$P4"
	# and in deny mode a mapped address hits the IPv4 deny entry
	pol "" "mode = \"deny\"
deny = [\"127.0.0.1:$Q4\"]"
	run_probes d "denied connect ::ffff:127.0.0.1 $Q4" "other connect ::ffff:127.0.0.1 $P4"
	expect d denied EPERM
	expect d other ok
}

case_udp_sendto_allowed_and_denied()
{
	pol "" "mode = \"allow\"
allow = [\"127.0.0.1:$U4/udp\", \"[::1]:$U6/udp\"]"
	run_probes r "v4ok sendto 127.0.0.1 $U4 3 10" "v6ok sendto ::1 $U6 2 10" \
		"v4no sendto 127.0.0.1 $Q4 1 10" "v6no sendto ::1 $Q6 1 10"
	expect r v4ok ok
	expect r v6ok ok
	expect r v4no EPERM
	expect r v6no EPERM
	eq send_allowed "$(jr r .network.send_allowed)" 5
	eq send_denied "$(jr r .network.send_denied)" 2
	eq "net.send deny events" "$(ja r '[.[] | select(.event == "net.send" and .verdict == "deny")] | length')" 2
	eq "denials.net.send" "$(jr r '.denials."net.send"')" 2
	denials_audited r
}

# Longest prefix first, then narrowest port range: the docs/policy.md table.
case_most_specific_entry_wins()
{
	pol 'audit = "all"' "mode = \"allow\"
allow = [\"127.0.0.0/8\", \"127.0.0.1:$P4\"]
deny = [\"127.0.0.1\"]"
	run_probes r "portentry connect 127.0.0.1 $P4" "hostdeny connect 127.0.0.1 $Q4" \
		"cidrallow connect 127.0.0.2 $R4"
	expect r portentry ok
	expect r hostdeny EPERM
	expect r cidrallow ok
	eq "rule of the allowed port" "$(ja r "[.[] | select(.event == \"net.connect\" and .port == $P4) | .rule] | join(\",\")")" \
		"127.0.0.1:$P4"
	eq "rule of the denied port" "$(ja r "[.[] | select(.event == \"net.connect\" and .port == $Q4) | .rule] | join(\",\")")" \
		"127.0.0.1"
	eq "rule of the other address" "$(ja r "[.[] | select(.event == \"net.connect\" and .port == $R4) | .rule] | join(\",\")")" \
		"127.0.0.0/8"
	# deny mode: an allow exception with a longer prefix wins over the deny
	pol "" "mode = \"deny\"
deny = [\"127.0.0.0/8\", \"::/0\"]
allow = [\"127.0.0.1:$P4\", \"[::1]:$P6\"]"
	run_probes d "exception connect 127.0.0.1 $P4" "denied connect 127.0.0.1 $Q4" \
		"exception6 connect ::1 $P6" "denied6 connect ::1 $Q6"
	expect d exception ok
	expect d denied EPERM
	expect d exception6 ok
	expect d denied6 EPERM
	denials_audited r
}

# Address groups (docs/policy.md "Address groups"): a group is its ranges in
# both families, competing by prefix length with the other entries; public
# and private hold no loopback address.
case_address_groups()
{
	pol 'audit = "all"' "mode = \"allow\"
allow = [\"loopback\"]
deny = [\"127.0.0.1:$Q4\"]"
	run_probes r "group connect 127.0.0.1 $P4" "longer connect 127.0.0.1 $Q4" \
		"other connect 127.0.0.2 $R4" "group6 connect ::1 $P6"
	expect r group ok
	expect r longer EPERM
	expect r other ok
	expect r group6 ok
	eq "rule of a group's address" "$(ja r "[.[] | select(.event == \"net.connect\" and .port == $P4) | .rule] | join(\",\")")" \
		"loopback"
	pol "" "mode = \"allow\"
allow = [\"public\", \"private\", \"link-local\", \"metadata\"]"
	run_probes p "v4 connect 127.0.0.1 $P4" "v6 connect ::1 $P6"
	expect p v4 EPERM
	expect p v6 EPERM
}

case_deny_wins_ties()
{
	local a="$((U4 - 1))-$U4" b="$U4-$((U4 + 1))"
	# same prefix, same port width: "127.0.0.1:P" (any proto) vs "127.0.0.1:P/tcp"
	pol "" "mode = \"allow\"
allow = [\"127.0.0.1:$P4\", \"127.0.0.1:$a/udp\"]
deny = [\"127.0.0.1:$P4/tcp\", \"127.0.0.1:$b/udp\"]"
	run_probes r "tcp connect 127.0.0.1 $P4" "udp sendto 127.0.0.1 $P4 1 10" \
		"allowonly sendto 127.0.0.1 $((U4 - 1)) 1 10" "both sendto 127.0.0.1 $U4 1 10" \
		"denyonly sendto 127.0.0.1 $((U4 + 1)) 1 10"
	expect r tcp EPERM
	expect r udp ok
	expect r allowonly ok
	expect r both EPERM
	expect r denyonly EPERM
	denials_audited r
}

case_denied_connect_returns_eperm()
{
	local script
	pol "" "mode = \"allow\"
allow = []"
	# the errno and the exit status nettool reports for it (1 = EPERM/EACCES)
	script="$NETTOOL connect 127.0.0.1 $P4; echo rc4=\$?; $NETTOOL connect ::1 $P6; echo rc6=\$?;
		$NETTOOL connect 127.0.0.1 $U4 udp; echo rcu=\$?"
	sbx_run r -P "$T_TMP/$P" --profile t -- sh -c "$script"
	eq "workload output" "$(tr '\n' ' ' <"$T_TMP/r.out")" "EPERM rc4=1 EPERM rc6=1 EPERM rcu=1 "
	eq "net.connect deny events" "$(ja r '[.[] | select(.event == "net.connect" and .verdict == "deny")] | length')" 3
	eq "denials.net.connect" "$(jr r '.denials."net.connect"')" 3
}

# sendto(MSG_FASTOPEN) connects without connect(2): still judged.
case_tcp_fastopen_judged()
{
	pol "" "mode = \"allow\"
allow = [\"127.0.0.1:$P4/tcp\"]"
	run_probes r "allowed fastopen 127.0.0.1 $P4" "denied fastopen 127.0.0.1 $Q4" "denied6 fastopen ::1 $P6"
	expect r allowed ok
	expect r denied EPERM
	expect r denied6 EPERM
	denials_audited r
}

# A workload that creates sub-cgroups is still found (the programs look up
# the sandbox-level ancestor cgroup, docs/architecture.md).
# It must also be cleaned up with its sub-cgroups when it ends.
case_subcgroup_still_confined_and_removed()
{
	local pid i
	pol "" "mode = \"allow\"
allow = [\"127.0.0.1:$P4\"]"
	# No workload may write cgroupfs (issue 20): the test, as root, moves
	# the workload into a sub-cgroup of its sandbox, as a delegated manager
	# inside it would.
	rm -f "$T_TMP"/sub.{cg,pid,moved}
	# a teardown that hangs on the sub-cgroup is killed at 120 s (rc 137)
	bg timeout -s KILL 120 "$SBX" run -P "$T_TMP/$P" --profile t -- sh -c '
		sed -n "s/^0:://p" /proc/self/cgroup >"'"$T_TMP"'/sub.cg"; echo $$ >"'"$T_TMP"'/sub.pid"
		while [ ! -e "'"$T_TMP"'/sub.moved" ]; do sleep 0.02; done
		printf "where "; sed -n "s/^0:://p" /proc/self/cgroup
		'"$(probes "allowed connect 127.0.0.1 $P4" "denied connect 127.0.0.1 $Q4" "denied6 connect ::1 $P6")" \
		>"$T_TMP/r.out" 2>"$T_TMP/r.err"
	pid=$BG_PID
	for i in $(seq 250); do [ -s "$T_TMP/sub.pid" ] && break; sleep 0.02; done
	[ -s "$T_TMP/sub.pid" ] || fail "the workload did not start: $(cat "$T_TMP/r.err")"
	mkdir "$(cgroup2_mount)$(cat "$T_TMP/sub.cg")/sub" &&
		echo "$(cat "$T_TMP/sub.pid")" >"$(cgroup2_mount)$(cat "$T_TMP/sub.cg")/sub/cgroup.procs" ||
		fail "cannot move the workload into a sub-cgroup"
	touch "$T_TMP/sub.moved"
	wait "$pid"
	RC=$?
	expect_rc r 0
	grep -q "^where .*/$SBX_INSTANCE/sbx-[0-9a-f]*/sub\$" "$T_TMP/r.out" || fail "workload not in a sub-cgroup: $(grep ^where "$T_TMP/r.out")"
	expect r allowed ok
	expect r denied EPERM
	expect r denied6 EPERM
	[ -z "$(leftovers)" ] || fail "left behind after the run: $(leftovers | tr '\n' ' ')"
}

setup net_setup
run_case mode_none_ipv4 case_mode_none_ipv4
run_case mode_none_ipv6 case_mode_none_ipv6
run_case mode_full_ipv4 case_mode_full_ipv4
run_case mode_full_ipv6 case_mode_full_ipv6
run_case mode_allow_ipv4 case_mode_allow_ipv4
run_case mode_allow_ipv6 case_mode_allow_ipv6
run_case mode_deny_ipv4 case_mode_deny_ipv4
run_case mode_deny_ipv6 case_mode_deny_ipv6
run_case cidr_ipv4 case_cidr_ipv4
run_case cidr_ipv6 case_cidr_ipv6
run_case port_range_ipv4 case_port_range_ipv4
run_case port_range_ipv6 case_port_range_ipv6
run_case proto_tcp_entry_does_not_allow_udp case_proto_tcp_entry_does_not_allow_udp
run_case proto_udp_entry_does_not_allow_tcp case_proto_udp_entry_does_not_allow_tcp
run_case ipv4_mapped_judged_as_ipv4 case_ipv4_mapped_judged_as_ipv4
run_case udp_sendto_allowed_and_denied case_udp_sendto_allowed_and_denied
run_case most_specific_entry_wins case_most_specific_entry_wins
run_case address_groups case_address_groups
run_case deny_wins_ties case_deny_wins_ties
run_case denied_connect_returns_eperm case_denied_connect_returns_eperm
run_case tcp_fastopen_judged case_tcp_fastopen_judged
run_case subcgroup_still_confined_and_removed case_subcgroup_still_confined_and_removed
finish
