#!/bin/bash
# SPDX-License-Identifier: MIT
# Socket families outside the inet families (issue 20, item 5;
# docs/policy.md "Socket families"):
# - every family but unix, inet and inet6 is refused with EPERM and a
#   net.socket audit event unless network.families lists it (vsock, xdp,
#   bluetooth, ...), under the host and the process providers, in every
#   network mode;
# - netlink sockets other than NETLINK_ROUTE are refused unless "netlink" is
#   listed; NETLINK_ROUTE stays (getaddrinfo, ip);
# - listing a family lets it through, and only it;
# - policy check names a bad family;
# - host pathname unix sockets (a stream and a datagram server the test
#   starts, not a real system socket) are unreachable unless network.unix
#   lists them, whatever the fs mode lets the workload see (host provider with
#   fs none and full, process provider with fs read-only and with an `r` rule
#   over the socket's directory); listed ones are reachable; a symlink to a
#   listed socket is not a listed path where the cgroup hooks judge the
#   address (6.7+), and is the listed socket where BPF LSM alone judges the
#   peer's name (6.1 guest);
# - abstract sockets of the host are unreachable: refused with EPERM in the
#   host's network namespace, absent from the process provider's own.
. "$(dirname "$0")/../integration/lib.sh"

# The process provider's view needs nettool and a shell (fs mode none cases).
TOOLS=$(dirname "$NETTOOL")
TOOLS_RULES="{ path = \"$TOOLS/\", access = \"rx\" }, { path = \"/usr/\", access = \"rx\" }, { path = \"/etc/\", access = \"r\" }"
VARTMP=${SBX_TEST_VARTMP:-/var/tmp}

# The cgroup unix hooks (Linux 6.7 and later) judge the address the workload
# passes, so a symlink to a socket is another address; BPF LSM alone (6.1)
# judges the name the peer was bound to, the symlink's target.
kv=$(uname -r)
kmaj=${kv%%.*}
kmin=${kv#*.}
kmin=${kmin%%.*}
ADDR_HOOKS=0
[ "$kmaj" -gt 6 ] || { [ "$kmaj" -eq 6 ] && [ "$kmin" -ge 7 ]; } && ADDR_HOOKS=1

# pol PROVIDER NETWORK-BODY: a profile t of that provider, fs mode full
# (host) or read-only (process).
pol()
{
	local fs='mode = "full"' iso=none
	[ "$1" = process ] && fs='mode = "read-only"' && iso=process
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.t]
provider = "$1"
min_isolation = "$iso"
[profile.t.network]
$2
[profile.t.fs]
$fs
EOF
}

# run_sock NAME PROBE...: each PROBE "LABEL NETTOOL-ARGS" in one sandbox.
run_sock()
{
	local name=$1
	shift
	sbx_run "$name" -P "$T_TMP/policy.toml" --profile t -- /bin/sh -c "$(probes "$@")"
	[ -s "$T_TMP/$name.result" ] || fail "$name: no result (sbx rc=$RC: $(tail -c 300 "$T_TMP/$name.err"))"
}

sock_events()
{
	ja "$1" '[.[] | select(.event == "net.socket") | "\(.verdict) \(.family) \(.protocol)"] | sort | join(",")'
}

# AF_VSOCK 40, AF_XDP 44, AF_NETLINK 16 (0 route, 9 audit, 15 uevent)
PROBES=("vsock family 40 1 0" "xdp family 44 3 0" "route family 16 3 0" "audit family 16 3 9"
	"uevent family 16 2 15")

families_refused()
{
	pol "$1" "$2"
	run_sock r "${PROBES[@]}"
	expect r vsock EPERM
	expect r xdp EPERM
	expect r route ok
	expect r audit EPERM
	expect r uevent EPERM
	eq "net.socket events" "$(sock_events r)" "deny netlink 15,deny netlink 9,deny vsock 0,deny xdp 0"
}

case_host_none_families_refused() { families_refused host 'mode = "none"'; }
case_host_full_families_refused() { families_refused host 'mode = "full"'; }
case_process_none_families_refused() { families_refused process 'mode = "none"'; }
case_process_full_families_refused() { families_refused process 'mode = "full"'; }

# A family number this kernel does not know yet (50: above AF_MAX) is refused
# by the filter (EPERM, audited), not left to the kernel (EAFNOSUPPORT):
# a later kernel that adds it must not open a family sbx never judged.
case_unknown_family_refused()
{
	pol host 'mode = "full"'
	run_sock r "future family 50 1 0" "route family 16 3 0"
	expect r future EPERM
	expect r route ok
	eq "net.socket events for family 50" \
		"$(ja r '[.[] | select(.event == "net.socket" and .verdict == "deny")] | length')" 1
}

# The process provider with a seccomp table of its own keeps the allow-list.
case_process_seccomp_kill_keeps_eperm()
{
	pol process 'mode = "none"'
	printf '[profile.t.seccomp]\naction = "kill"\n' >>"$T_TMP/policy.toml"
	run_sock r "vsock family 40 1 0" "route family 16 3 0"
	expect r vsock EPERM
	expect r route ok
}

families_listed()
{
	[ "$("$NETTOOL" family 40 1 0)" = ok ] || skip "this kernel has no vsock sockets"
	[ "$("$NETTOOL" family 16 3 9)" = ok ] || skip "this kernel has no NETLINK_AUDIT sockets"
	pol "$1" 'mode = "none"
families = ["vsock", "netlink"]'
	run_sock r "${PROBES[@]}"
	expect r vsock ok
	expect r xdp EPERM
	expect r route ok
	expect r audit ok
	expect r uevent ok
	eq "net.socket events" "$(sock_events r)" "deny xdp 0"
}

case_host_families_listed() { families_listed host; }
case_process_families_listed() { families_listed process; }

case_policy_check_names_bad_family()
{
	local out
	pol host 'mode = "none"
families = ["vsok"]'
	out=$("$SBX" policy check "$T_TMP/policy.toml" 2>&1) && fail "vsok accepted: $out"
	echo "$out" | grep -q "unknown socket family 'vsok'" || fail "no diagnostic naming vsok: $out"
	pol host 'mode = "none"
families = ["packet"]'
	out=$("$SBX" policy check "$T_TMP/policy.toml" 2>&1) && fail "packet accepted: $out"
	echo "$out" | grep -q "raw_sockets" || fail "packet: no pointer to raw_sockets: $out"
	pol host 'mode = "none"
families = ["vsock", "netlink"]'
	out=$("$SBX" run -P "$T_TMP/policy.toml" --profile t --print-profile -- true 2>&1)
	echo "$out" | grep -q '^families = \["netlink", "vsock"\]' || fail "--print-profile: $out"
}

# A stream and a datagram server outside /tmp (the process provider's /tmp is
# private), in a directory everyone may traverse, sockets everyone may write:
# only sbx stands between the workload and them. Plus an abstract server.
unix_setup()
{
	SOCKDIR=$(mktemp -d "$VARTMP/sbxtest-unix.XXXXXX") || return 1
	chmod 0755 "$SOCKDIR"
	bg "$NETTOOL" userve "$SOCKDIR" "$ABS"
	for _ in $(seq 100); do
		[ -e "$SOCKDIR/ready" ] && return 0
		sleep 0.05
	done
	echo "unix servers did not start" >&2
	return 1
}

# upol PROVIDER NET-MODE FS-BODY [UNIX-LIST]
upol()
{
	local iso=none
	[ "$1" = process ] && iso=process
	{
		printf 'version = 1\n[profile.t]\nprovider = "%s"\nmin_isolation = "%s"\n' "$1" "$iso"
		# the host provider's fs mode none needs BPF LSM under strict
		[ "$1" = host ] && [ "$3" = 'mode = "none"' ] && printf 'enforcement = "best-effort"\n'
		printf '[profile.t.network]\nmode = "%s"\n' "$2"
		[ -n "${4:-}" ] && printf 'unix = %s\n' "$4"
		printf '[profile.t.fs]\n%s\n' "$3"
		[ "$1" = host ] && [ "$3" = 'mode = "none"' ] && printf 'rules = [%s]\n' "$TOOLS_RULES"
	} >"$T_TMP/policy.toml"
}

run_unix()
{
	run_sock "$@"
}

unix_events()
{
	ja "$1" '[.[] | select(.event == "net.unix") | "\(.verdict) \(.op) \(.path // ("@" + .abstract))"] | sort | join(",")'
}

unix_refused()
{
	upol "$1" "$2" "$3"
	run_unix r "app unix stream $SOCKDIR/app.sock" "log unix dgram $SOCKDIR/log.sock" \
		"link unix stream $SOCKDIR/link.sock"
	expect r app EPERM
	expect r log EPERM
	expect r link EPERM
	local link=link
	[ "$ADDR_HOOKS" = 1 ] || link=app
	eq "net.unix events" "$(unix_events r)" \
		"deny connect $SOCKDIR/app.sock,deny connect $SOCKDIR/$link.sock,deny send $SOCKDIR/log.sock"
	eq "denials.net.unix" "$(jr r '.denials["net.unix"]')" 3
}

case_host_fs_none_unix_refused() { unix_refused host none 'mode = "none"'; }
case_host_fs_full_unix_refused() { unix_refused host full 'mode = "full"'; }
case_process_read_only_unix_refused() { unix_refused process none 'mode = "read-only"'; }
case_process_r_rule_unix_refused()
{
	unix_refused process none "mode = \"none\"
rules = [{ path = \"$SOCKDIR/\", access = \"r\" }, $TOOLS_RULES]"
}

unix_listed()
{
	upol "$1" none "$2" "[\"$SOCKDIR/app.sock\", \"$SOCKDIR/log.sock\"]"
	run_unix r "app unix stream $SOCKDIR/app.sock" "log unix dgram $SOCKDIR/log.sock" \
		"link unix stream $SOCKDIR/link.sock"
	expect r app ok
	expect r log ok
	if [ "$ADDR_HOOKS" = 1 ]; then
		expect r link EPERM
		eq "net.unix events" "$(unix_events r)" "deny connect $SOCKDIR/link.sock"
	else
		expect r link ok	# the peer is the listed socket
		eq "net.unix events" "$(unix_events r)" ""
	fi
}

case_host_unix_listed() { unix_listed host 'mode = "none"'; }
case_process_unix_listed() { unix_listed process 'mode = "read-only"'; }

# Other spellings of a listed path, and an abstract name that reads like it:
# the cgroup hooks judge the address the workload passes, so each one is
# another, unlisted address; where BPF LSM alone judges (6.1 guest) the peer
# is the listed socket, and the abstract name has no server.
case_listed_path_spellings()
{
	local p=$SOCKDIR/app.sock want
	upol host none 'mode = "full"' "[\"$p\"]"
	sbx_run r -P "$T_TMP/policy.toml" --profile t -- /bin/sh -c "cd '$SOCKDIR' && $(probes \
		"rel unix stream app.sock" "dslash unix stream $SOCKDIR//app.sock" \
		"dot unix stream $SOCKDIR/./app.sock" "proc unix stream /proc/self/root$p" \
		"abs unix abstract $p" "app unix stream $p")"
	[ -s "$T_TMP/r.result" ] || fail "no result (sbx rc=$RC: $(tail -c 300 "$T_TMP/r.err"))"
	expect r app ok
	if [ "$ADDR_HOOKS" = 1 ]; then
		for l in rel dslash dot proc abs; do expect r $l EPERM; done
		want=$(printf '%s\n' "deny connect app.sock" "deny connect $SOCKDIR//app.sock" \
			"deny connect $SOCKDIR/./app.sock" "deny connect /proc/self/root$p" \
			"deny connect @$p" | LC_ALL=C sort | paste -sd, -)
	else
		for l in rel dslash dot proc; do expect r $l ok; done
		expect r abs ECONNREFUSED
		want=""
	fi
	eq "net.unix events" "$(unix_events r)" "$want"
}

case_unix_star_allows_all()
{
	upol host none 'mode = "full"' '["*"]'
	run_unix r "app unix stream $SOCKDIR/app.sock" "link unix stream $SOCKDIR/link.sock"
	expect r app ok
	expect r link ok
	eq "net.unix events" "$(unix_events r)" ""
}

# The host's abstract names: the host provider shares the host's network
# namespace, so the hook refuses them; the process provider's namespace is
# its own, where the name does not exist.
case_host_abstract_refused()
{
	upol host none 'mode = "none"'
	run_unix r "abs unix abstract $ABS"
	expect r abs EPERM
	eq "net.unix events" "$(unix_events r)" "deny connect @$ABS"
}

case_process_abstract_scoped()
{
	upol process none 'mode = "read-only"'
	run_unix r "abs unix abstract $ABS"
	expect r abs ECONNREFUSED
	eq "net.unix events" "$(unix_events r)" ""
}

case_policy_check_names_bad_unix_path()
{
	local out
	upol host none 'mode = "none"' '["run/x.sock"]'
	out=$("$SBX" policy check "$T_TMP/policy.toml" 2>&1) && fail "relative path accepted: $out"
	echo "$out" | grep -q "unix socket 'run/x.sock' must be" || fail "no diagnostic: $out"
	for bad in /run/x/.. /run/x/. /run//x.sock /run/./x.sock /run/x/; do
		upol host none 'mode = "none"' "[\"$bad\"]"
		out=$("$SBX" policy check "$T_TMP/policy.toml" 2>&1) && fail "$bad accepted: $out"
		echo "$out" | grep -qF "unix socket '$bad' must be" || fail "no diagnostic for $bad: $out"
	done
	upol host none 'mode = "none"' '["/run/x.sock"]'
	out=$("$SBX" run -P "$T_TMP/policy.toml" --profile t --print-profile -- true 2>&1)
	echo "$out" | grep -q '^unix = \["/run/x.sock"\]' || fail "--print-profile: $out"
}

ABS="sbxtest-$$-abstract"
SOCKDIR=""
setup unix_setup
run_case host_fs_none_unix_refused case_host_fs_none_unix_refused
run_case host_fs_full_unix_refused case_host_fs_full_unix_refused
run_case process_read_only_unix_refused case_process_read_only_unix_refused
run_case process_r_rule_unix_refused case_process_r_rule_unix_refused
run_case host_unix_listed case_host_unix_listed
run_case process_unix_listed case_process_unix_listed
run_case listed_path_spellings case_listed_path_spellings
run_case unix_star_allows_all case_unix_star_allows_all
run_case host_abstract_refused case_host_abstract_refused
run_case process_abstract_scoped case_process_abstract_scoped
run_case policy_check_names_bad_unix_path case_policy_check_names_bad_unix_path
run_case host_none_families_refused case_host_none_families_refused
run_case host_full_families_refused case_host_full_families_refused
run_case process_none_families_refused case_process_none_families_refused
run_case process_full_families_refused case_process_full_families_refused
run_case unknown_family_refused case_unknown_family_refused
run_case process_seccomp_kill_keeps_eperm case_process_seccomp_kill_keeps_eperm
run_case host_families_listed case_host_families_listed
run_case process_families_listed case_process_families_listed
run_case policy_check_names_bad_family case_policy_check_names_bad_family
[ -n "$SOCKDIR" ] && rm -rf "$SOCKDIR"
finish
