#!/bin/bash
# SPDX-License-Identifier: MIT
# Inbound connections outside the profile's listen list (issue 20, item 3;
# docs/policy.md "listen"), and io_uring under every provider that installs a
# seccomp filter (item 11; docs/seccomp.md):
# - listen() on an unbound socket picks an ephemeral port and bind(0) lets the
#   kernel pick one: no bind hook judges that port, yet no peer may connect
#   to it, IPv4 and IPv6, in every network mode; one net.bind denial with the
#   port per listener; listed ports keep working;
# - io_uring_setup fails with EPERM and a syscall.denied event under the host
#   and process providers, unless the profile's seccomp allow list names it.
# Loopback only: the peer runs in the sandbox too (the listener is judged).
. "$(dirname "$0")/../integration/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
SRC=$(cd "$(dirname "$0")" && pwd)
TOOLS=$OUTPUT/tests/security
URING=$TOOLS/uring

listen_setup()
{
	mkdir -p "$TOOLS" || return 1
	[ "$URING" -nt "$SRC/uring.c" ] ||
		gcc -std=gnu11 -O2 -Wall -Wextra -o "$URING" "$SRC/uring.c"
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

# port NAME LABEL: the port the probe LABEL of run NAME reported.
port()
{
	sed -n "s/^$2 .*port=\\([0-9]*\\).*/\\1/p" "$T_TMP/$1.out"
}

# listen_denials NAME: "port proto family" of each net.bind denial, sorted.
listen_denials()
{
	ja "$1" '[.[] | select(.event == "net.bind" and .verdict == "deny") | "\(.port) \(.proto) \(.family)"] | sort | join(",")'
}

# The four ways to a listener on a port the kernel picks: without bind and
# after bind(0), IPv4 and IPv6. Without BPF LSM, listen() succeeds and each
# peer's connect goes unanswered; with it (the VM guests), listen() itself
# fails with EPERM, before an unbound socket has a port (reported as 0).
expect_unlisted_refused()
{
	local name=$1 l p want="" lsm=false
	[ "$("$SBX" features --json | jq -r .fs_backend)" = bpf-lsm ] && lsm=true
	run_probes "$name" "u4 selflisten - 4" "u6 selflisten - 6" "z4 selflisten 0 4" "z6 selflisten 0 6"
	expect_rc "$name" 0
	for l in u4 u6 z4 z6; do
		p=$(port "$name" $l)
		if $lsm; then
			expect "$name" $l EPERM
			[ "$l" = "${l#u}" ] || [ "$p" = 0 ] || fail "$l: unbound socket has port '$p'"
		else
			expect "$name" $l ETIMEDOUT
		fi
		[ -n "$p" ] && { [ "$p" != 0 ] || $lsm; } ||
			fail "$l: no port in '$(grep "^$l " "$T_TMP/$name.out")'"
		want+="$p tcp ipv${l#?},"
	done
	want=$(tr ',' '\n' <<<"${want%,}" | sort | paste -sd,)
	eq "$name: one net.bind denial per listener" "$(listen_denials "$name")" "$want"
	eq "$name: bind_denied" "$(jr "$name" .network.bind_denied)" 4
}

case_ephemeral_listener_refused_deny_mode()
{
	pol "" 'mode = "deny"
listen = []'
	expect_unlisted_refused r
}

case_ephemeral_listener_refused_full_mode()
{
	pol "" 'mode = "full"
listen = []'
	expect_unlisted_refused f
}

case_ephemeral_listener_refused_allow_mode()
{
	pol "" 'mode = "allow"
allow = ["127.0.0.1", "::1"]
listen = []'
	expect_unlisted_refused a
}

# A listed port: bound explicitly, a peer connects and a byte goes each way.
case_listed_port_works()
{
	local p4=$((20000 + RANDOM % 20000)) p6
	p6=$((p4 + 1))
	pol "" "mode = \"deny\"
listen = [$p4, $p6]"
	run_probes l "l4 selflisten $p4 4" "l6 selflisten $p6 6"
	expect l l4 ok
	expect l l6 ok
	eq "no net.bind denial" "$(listen_denials l)" ""
	eq "packets_dropped" "$(jr l .network.packets_dropped)" 0
}

uring_prof()
{
	cat >"$T_TMP/uring.toml" <<EOF
version = 1
[profile.t]
provider = "$1"
min_isolation = "none"
$2
[profile.t.fs]
mode = "$3"
EOF
}

# io_uring is refused by default under the host provider (before: allowed)
# and the process provider, audited as syscall.denied.
expect_uring_refused()
{
	uring_prof "$1" "" "$2"
	sbx_run "u_$1" -P "$T_TMP/uring.toml" --profile t -- "$URING"
	[ -s "$T_TMP/u_$1.result" ] || fail "$1: no result (sbx rc=$RC: $(tail -c 300 "$T_TMP/u_$1.err"))"
	eq "$1: io_uring_setup" "$(cat "$T_TMP/u_$1.out")" EPERM
	eq "$1: syscall.denied io_uring_setup" \
		"$(ja "u_$1" '[.[] | select(.event == "syscall.denied" and .syscall == "io_uring_setup")] | length > 0')" true
}

case_io_uring_refused_host()
{
	expect_uring_refused host full
}

case_io_uring_refused_process()
{
	expect_uring_refused process read-only
}

# A profile whose seccomp allow list names io_uring gets it under the host
# provider: the always-on guard steps aside. io_uring's IORING_OP_SOCKET
# passes the family filter, so that takes best-effort (a degraded entry;
# under strict it is refused: test_unix_attacks.sh).
case_io_uring_allowed_by_profile()
{
	uring_prof host 'enforcement = "best-effort"
[profile.t.seccomp]
allow = ["io_uring_setup", "io_uring_enter", "io_uring_register"]' full
	sbx_run ua -P "$T_TMP/uring.toml" --profile t -- "$URING"
	expect_rc ua 0
	eq "io_uring_setup" "$(cat "$T_TMP/ua.out")" ok
}

setup listen_setup
run_case ephemeral_listener_refused_deny_mode case_ephemeral_listener_refused_deny_mode
run_case ephemeral_listener_refused_full_mode case_ephemeral_listener_refused_full_mode
run_case ephemeral_listener_refused_allow_mode case_ephemeral_listener_refused_allow_mode
run_case listed_port_works case_listed_port_works
run_case io_uring_refused_host case_io_uring_refused_host
run_case io_uring_refused_process case_io_uring_refused_process
run_case io_uring_allowed_by_profile case_io_uring_allowed_by_profile
finish
