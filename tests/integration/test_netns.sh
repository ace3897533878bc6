#!/bin/bash
# SPDX-License-Identifier: MIT
# Private network namespaces with a veth pair (user/kernel/netns.c, docs/netns.md),
# through tests/integration/netns_harness.c: what the sandbox sees (lo, eth0,
# its address and default route), traffic both ways between host and sandbox
# over the veth addresses, failures, and that no sbx* link is left behind.
# Every link here is one this file creates (ids sbx-7e57xxxx, pool slots
# 16360 and up, which real sandboxes never get); host interfaces are not
# touched.
. "$(dirname "$0")/lib.sh"

# This file starts no sbx instance: nothing to unload (see _cleanup).
SBX=
HARNESS=$OUTPUT/tests/integration/netns_harness
[ -n "${OUTPUT:-}" ] || HARNESS=$PWD/build/tests/integration/netns_harness
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PFX=sbx7e57

# Needs neither BPF nor a working sbx, so it keeps its own reason to skip.
netns_skip_reason()
{
	local t
	[ "$(id -u)" = 0 ] || { echo "not root (network namespaces and veth)"; return; }
	for t in ip jq gcc pkg-config; do
		command -v $t >/dev/null || { echo "$t is not installed (make deps)"; return; }
	done
	pkg-config --exists libnl-route-3.0 || { echo "libnl-route-3.0 is missing (make deps)"; return; }
	unshare -n true 2>/dev/null || { echo "unshare(CLONE_NEWNET) fails here"; return; }
	unshare -n ip link add "${PFX}p0" type veth peer name "${PFX}p1" 2>/dev/null ||
		echo "veth links cannot be created here"
}

build()
{
	mkdir -p "$(dirname "$HARNESS")" || return 1
	# shellcheck disable=SC2046
	gcc -std=gnu11 -O2 -Wall -Wextra -D_GNU_SOURCE -iquote "$SRC/user" -iquote "$SRC/policy" \
		-iquote "$SRC/bpf/include" $(pkg-config --cflags libnl-route-3.0) \
		"$SRC/tests/integration/netns_harness.c" "$SRC/user/kernel/netns.c" "$SRC/user/kernel/libnl.c" \
		"$SRC/user/util/util.c" -o "$HARNESS" \
		$(pkg-config --libs libnl-route-3.0) || return 1
	if [ ! -x "$NETTOOL" ]; then
		gcc -std=gnu11 -O2 -Wall -Wextra -o "$NETTOOL" "$SRC/tests/integration/nettool.c" || return 1
	fi
}

SBX_TEST_SKIP=$(netns_skip_reason)
if [ -z "$SBX_TEST_SKIP" ] && ! build >"$T_TMP/build.log" 2>&1; then
	echo "FAIL netns.build: $(tail -c 600 "$T_TMP/build.log" | tr '\n' ' ')"
	exit 1
fi

# our_links: the sbx links of this file that exist now, one per line.
our_links()
{
	ip -j link show | jq -r --arg p "$PFX" '.[].ifname | select(startswith($p))'
}

# harness NAME [OPTIONS] -- CMD...: runs the harness in the foreground,
# output in $T_TMP/NAME.out / NAME.err; sets RC.
harness()
{
	local name=$1
	shift
	"$HARNESS" "$@" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	RC=$?
}

# harness_bg NAME [OPTIONS] -- CMD...: the same in the background (H_PID);
# returns once the pair exists, and sets VETH_IF, HOST_ADDR, SANDBOX_ADDR.
harness_bg()
{
	local name=$1 i line
	shift
	bg "$HARNESS" "$@" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	H_PID=$BG_PID
	for i in $(seq 250); do
		line=$(grep -m1 '^veth ' "$T_TMP/$name.out" 2>/dev/null)
		if [ -n "$line" ]; then
			set -- $line
			VETH_IF=$2 HOST_ADDR=${3%/*} SANDBOX_ADDR=${4%/*}
			return 0
		fi
		kill -0 "$H_PID" 2>/dev/null || break
		sleep 0.02
	done
	fail "$name: no veth line ($(tail -c 300 "$T_TMP/$name.err" | tr '\n' ' '))"
}

# wait_file FILE: until FILE exists (5 s), for the sandbox side of a case.
WAIT_FILE='i=0; while [ ! -e "$1" ] && [ $i -lt 250 ]; do sleep 0.02; i=$((i+1)); done'

# sandbox_script BODY: sh -c with wait_for FILE defined (files are shared:
# only the network namespace differs).
sandbox_script()
{
	printf 'wait_for() { %s; }; %s' "$WAIT_FILE" "$1"
}

expect_harness_ok()
{
	[ "$RC" = 0 ] || fail "$1: harness exited $RC: $(tail -c 400 "$T_TMP/$1.err" | tr '\n' ' ')"
}

# ---- what the sandbox sees --------------------------------------------------

case_sandbox_sees_lo_and_eth0_with_pool_address()
{
	local out=$T_TMP/in.json got
	harness in -i sbx-7e570001 -s 16361 -- sh -c "ip -j addr show >$out"
	expect_harness_ok in
	eq "veth line" "$(head -1 "$T_TMP/in.out")" "veth ${PFX}0001 10.200.255.165/30 10.200.255.166/30"
	got=$(jq -r '.[] | select(.ifname == "lo") | (.flags | index("UP") != null), (.addr_info[] | select(.family == "inet") | .local)' "$out")
	eq "lo up and 127.0.0.1" "$(echo $got)" "true 127.0.0.1"
	got=$(jq -r '.[] | select(.ifname == "eth0") | (.flags | index("UP") != null), (.addr_info[] | select(.family == "inet") | "\(.local)/\(.prefixlen)")' "$out")
	eq "eth0 up with the sandbox address" "$(echo $got)" "true 10.200.255.166/30"
	got=$(jq -r '[.[].ifname] | sort | join(" ")' "$out")
	eq "interfaces in the sandbox" "$got" "eth0 lo"
}

case_sandbox_default_route_goes_via_host_end()
{
	local out=$T_TMP/route.json
	harness rt -i sbx-7e570002 -s 16362 -- sh -c "ip -j route show default >$out"
	expect_harness_ok rt
	eq "default route" "$(jq -r '.[] | "\(.dst) via \(.gateway) dev \(.dev)"' "$out")" \
		"default via 10.200.255.169 dev eth0"
}

case_host_end_has_host_address_while_sandbox_runs()
{
	local got
	harness_bg h -i sbx-7e570003 -s 16363 -- sh -c "$(sandbox_script "wait_for $T_TMP/h.done")"
	got=$(ip -j addr show dev "$VETH_IF" | jq -r '.[] | (.flags | index("UP") != null),
		(.addr_info[] | select(.family == "inet") | "\(.local)/\(.prefixlen)")')
	touch "$T_TMP/h.done"
	eq "host end $VETH_IF up with address" "$(echo $got)" "true 10.200.255.173/30"
	wait "$H_PID"
	eq "harness exit" "$?" 0
}

# ---- traffic over the veth --------------------------------------------------

case_sandbox_connects_to_host_over_veth()
{
	local port
	harness_bg c -i sbx-7e570004 -s 16364 -- sh -c "$(sandbox_script \
		"wait_for $T_TMP/c.port; $NETTOOL connect \$SBX_VETH_HOST \$(cat $T_TMP/c.port) tcp")"
	start_listener port "$HOST_ADDR" tcp || fail "no listener on $HOST_ADDR"
	echo "$port" >"$T_TMP/c.port.tmp" && mv "$T_TMP/c.port.tmp" "$T_TMP/c.port"
	wait "$H_PID"
	RC=$?
	expect_harness_ok c
	eq "sandbox -> $HOST_ADDR:$port" "$(grep -v '^veth ' "$T_TMP/c.out")" ok
}

case_host_connects_to_sandbox_over_veth()
{
	local port i got
	harness_bg l -i sbx-7e570005 -s 16365 -- sh -c "$(sandbox_script \
		"$NETTOOL listen \$SBX_VETH_SANDBOX 0 tcp & p=\$!; wait_for $T_TMP/l.done; kill \$p")"
	for i in $(seq 250); do
		port=$(awk '/^port /{print $2}' "$T_TMP/l.out")
		[ -n "$port" ] && break
		sleep 0.02
	done
	[ -n "$port" ] || fail "no listener in the sandbox: $(cat "$T_TMP/l.err")"
	got=$("$NETTOOL" connect "$SANDBOX_ADDR" "$port" tcp 2>&1)
	touch "$T_TMP/l.done"
	wait "$H_PID"
	eq "host -> $SANDBOX_ADDR:$port" "$got" ok
}

case_profile_addresses_replace_the_pool()
{
	local out=$T_TMP/p.json
	harness p -i sbx-7e570006 -H 198.18.99.1/24 -S 198.18.99.2/24 -- \
		sh -c "ip -j addr show dev eth0 >$out && ip -j route show default >>$out"
	expect_harness_ok p
	eq "veth line" "$(head -1 "$T_TMP/p.out")" "veth ${PFX}0006 198.18.99.1/24 198.18.99.2/24"
	eq "eth0 address" "$(jq -rs '.[0][0].addr_info[] | select(.family == "inet") | .local' "$out")" \
		198.18.99.2
	eq "gateway" "$(jq -rs '.[1][0].gateway' "$out")" 198.18.99.1
}

# ---- failures and cleanup --------------------------------------------------

case_workload_status_passes_through_and_pair_goes()
{
	harness f -i sbx-7e570007 -s 16367 -- sh -c 'exit 3'
	eq "harness exit" "$RC" 3
	eq "links left" "$(our_links)" ""
}

case_second_pair_with_same_id_fails_and_keeps_first()
{
	local got
	harness_bg a -i sbx-7e570008 -s 16368 -- sh -c "$(sandbox_script "wait_for $T_TMP/a.done")"
	harness b -i sbx-7e570008 -s 16369 -- true
	got=$(ip -j addr show dev "$VETH_IF" | jq -r '.[].addr_info[] | select(.family == "inet") | .local')
	touch "$T_TMP/a.done"
	wait "$H_PID"
	eq "second harness exit" "$RC" 125
	grep -q 'create veth sbx7e570008.*exists' "$T_TMP/b.err" ||
		fail "second pair: unexpected error: $(cat "$T_TMP/b.err")"
	eq "first pair's host address" "$got" 10.200.255.193
	eq "links left" "$(our_links)" ""
}

case_host_end_goes_with_the_namespace_without_destroy()
{
	local i
	harness k -k -i sbx-7e570009 -s 16370 -- true
	expect_harness_ok k
	for i in $(seq 250); do
		[ -z "$(our_links)" ] && return 0
		sleep 0.02
	done
	fail "still there 5 s after the namespace died: $(our_links | tr '\n' ' ')"
}

case_no_sbx_links_left()
{
	local left
	left=$(our_links)
	[ -z "$left" ] || fail "left behind: $(echo $left)"
}

run_case sandbox_sees_lo_and_eth0_with_pool_address case_sandbox_sees_lo_and_eth0_with_pool_address
run_case sandbox_default_route_goes_via_host_end case_sandbox_default_route_goes_via_host_end
run_case host_end_has_host_address_while_sandbox_runs case_host_end_has_host_address_while_sandbox_runs
run_case sandbox_connects_to_host_over_veth case_sandbox_connects_to_host_over_veth
run_case host_connects_to_sandbox_over_veth case_host_connects_to_sandbox_over_veth
run_case profile_addresses_replace_the_pool case_profile_addresses_replace_the_pool
run_case workload_status_passes_through_and_pair_goes case_workload_status_passes_through_and_pair_goes
run_case second_pair_with_same_id_fails_and_keeps_first case_second_pair_with_same_id_fails_and_keeps_first
run_case host_end_goes_with_the_namespace_without_destroy case_host_end_goes_with_the_namespace_without_destroy
run_case no_sbx_links_left case_no_sbx_links_left
exit $T_FAILED
