#!/bin/bash
# SPDX-License-Identifier: MIT
# What docs/providers.md ("process") promises of the process provider's view,
# seen from the workload: the host name is the sandbox id; /proc/sys is
# read-only (EROFS even for uid 0); /proc/sysrq-trigger is masked; /dev holds
# exactly null, zero, full, random, urandom, tty, the fd links and /dev/shm;
# the securebits are set and locked; abstract unix sockets of the host are out
# of reach (Landlock ABI >= 6); fs modes read-write and full (what is written
# on the host, what stays private); namespace = "private" through sbx run (the
# veth pair sbx<8 hex>, its addresses, the host reached over it, the pair gone
# at exit).
#
# The workload runs tests/integration/view_probe.c and nettool (compiled here
# into $OUTPUT/tests/integration, visible in the sandbox by an "rx" fs rule).
. "$(dirname "$0")/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
SRC=$(cd "$(dirname "$0")" && pwd)
TOOLS=$OUTPUT/tests/integration
VPROBE=$TOOLS/view_probe
NETTOOL=$TOOLS/nettool
TOOLS_RULE="{ path = \"$TOOLS/\", access = \"rx\" }"
# host files of the fs cases live outside /tmp (private in most modes)
V_TMP=""

view_setup()
{
	mkdir -p "$TOOLS" || return 1
	gcc -std=gnu11 -O2 -Wall -Wextra -o "$VPROBE" "$SRC/view_probe.c" || return 1
	if [ ! -x "$NETTOOL" ]; then
		gcc -std=gnu11 -O2 -Wall -Wextra -o "$NETTOOL" "$SRC/nettool.c" || return 1
	fi
	V_TMP=$(mktemp -d "${SBX_TEST_VARTMP:-/var/tmp}/sbxtest.view.XXXXXX") || return 1
	chmod 0755 "$V_TMP" "$T_TMP"
}

# vpol [PROFILE-KEYS] [NETWORK-LINES] [FS-LINES]: $T_TMP/policy.toml with
# profile t on the process provider (defaults: network none, fs none + tools).
vpol()
{
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.t]
provider = "process"
min_isolation = "process"
${1:-}
[profile.t.network]
${2:-mode = \"none\"}
[profile.t.fs]
${3:-mode = \"none\"
rules = [$TOOLS_RULE]}
EOF
}

run_in()
{
	local name=$1
	shift
	sbx_run "$name" -P "$T_TMP/policy.toml" --profile t -- "$@"
	[ -s "$T_TMP/$name.result" ] || fail "$name: no result (sbx rc=$RC: $(tail -c 300 "$T_TMP/$name.err"))"
}

# line NAME N: line N of run NAME's stdout.
line()
{
	sed -n "${2}p" "$T_TMP/$1.out"
}

# ---- host name, /proc, /dev, securebits -----------------------------------------

case_hostname_is_sandbox_id()
{
	local id host_before
	host_before=$(hostname)
	vpol
	run_in r sh -c 'hostname; cat /proc/sys/kernel/hostname; uname -n'
	expect_rc r 0
	id=$(jr r .sandbox)
	[[ $id =~ ^sbx-[0-9a-f]{8}$ ]] || fail "result sandbox id '$id'"
	eq "hostname, /proc/sys/kernel/hostname, uname -n" "$(tr '\n' ' ' <"$T_TMP/r.out")" "$id $id $id "
	eq "host's own name afterwards" "$(hostname)" "$host_before"
}

# uid 0 in the sandbox may write root's 0644 sysctl files by their mode: only
# the read-only mount stops it (as nobody, EACCES would come first).
case_proc_sys_read_only()
{
	vpol 'user = "0"'
	run_in r sh -c "id -u; $VPROBE write /proc/sys/kernel/hostname changed; \
$VPROBE write /proc/sys/kernel/domainname changed; hostname; \
awk '\$5 == \"/proc/sys\" { print \$6 }' /proc/self/mountinfo"
	expect_rc r 0
	eq "workload uid" "$(line r 1)" 0
	eq "write /proc/sys/kernel/hostname" "$(line r 2)" EROFS
	eq "write /proc/sys/kernel/domainname" "$(line r 3)" EROFS
	eq "host name after the refused write" "$(line r 4)" "$(jr r .sandbox)"
	[[ "$(line r 5)" == ro,* ]] || fail "/proc/sys mount options '$(line r 5)', expected ro,..."
}

case_sysrq_trigger_masked()
{
	[ -e /proc/sysrq-trigger ] || skip "this kernel has no /proc/sysrq-trigger (CONFIG_MAGIC_SYSRQ off): nothing to mask"
	vpol 'user = "0"'
	run_in r sh -c 'stat -c "%F %t:%T" /proc/sysrq-trigger; echo h >/proc/sysrq-trigger && echo wrote'
	expect_rc r 0
	# masked by a bind of /dev/null: a write goes nowhere
	eq "/proc/sysrq-trigger in the sandbox" "$(line r 1)" "character special file 1:3"
	eq "write to the mask" "$(line r 2)" wrote
}

case_dev_minimal()
{
	local want got
	vpol
	run_in r sh -c 'ls -A /dev | tr "\n" " "; echo; for n in null zero full random urandom tty; do stat -c "%n %F %t:%T" /dev/$n; done;
for l in fd stdin stdout stderr; do printf "%s " $l; readlink /dev/$l; done; stat -c "%n %F %a" /dev/shm; ls -A /dev/shm | wc -l'
	expect_rc r 0
	eq "entries of /dev" "$(line r 1)" "fd full null random shm stderr stdin stdout tty urandom zero "
	want="/dev/null character special file 1:3|/dev/zero character special file 1:5|/dev/full character special file 1:7|\
/dev/random character special file 1:8|/dev/urandom character special file 1:9|/dev/tty character special file 5:0|\
fd /proc/self/fd|stdin /proc/self/fd/0|stdout /proc/self/fd/1|stderr /proc/self/fd/2|/dev/shm directory 1777|0"
	got=$(sed -n '2,$p' "$T_TMP/r.out" | tr '\n' '|')
	eq "the /dev nodes" "$got" "$want|"
}

# SECBIT_NOROOT, NO_SETUID_FIXUP and NO_CAP_AMBIENT_RAISE set, each with its
# _LOCKED bit, and KEEP_CAPS locked off: 0xef, for nobody and for uid 0.
case_securebits_locked()
{
	local who
	for who in default root; do
		if [ $who = root ]; then vpol 'user = "0"'; else vpol; fi
		run_in $who sh -c "id -u; $VPROBE securebits"
		expect_rc $who 0
		eq "securebits ($who)" "$(line $who 2)" 0xef
	done
	eq "uid of the root run" "$(line root 1)" 0
	[ "$(line default 1)" != 0 ] || fail "the default workload runs as uid 0"
}

# Landlock ABI >= 6 scopes abstract unix sockets: a host listener (in the
# host's network namespace, which network mode full keeps) is reachable from
# the host but not from the sandbox.
case_abstract_socket_scoped()
{
	local abi name i
	abi=$("$SBX" features --json | jq -r '.features[] | select(.name == "landlock") | .detail' | sed -n 's/^ABI \([0-9]*\).*/\1/p')
	[ -n "$abi" ] || skip "no Landlock on this kernel (sbx features: $("$SBX" features --json | jq -c '.features[] | select(.name == "landlock")'))"
	[ "$abi" -ge 6 ] || skip "Landlock ABI $abi < 6: no abstract-socket scoping on this kernel"
	name="sbxtest-abstract-$$-$RANDOM"
	bg "$VPROBE" listen_abstract "$name" >"$T_TMP/listen.out" 2>&1
	for i in $(seq 500); do
		grep -q ready "$T_TMP/listen.out" && break
		sleep 0.02
	done
	grep -q ready "$T_TMP/listen.out" || fail "host listener did not start: $(cat "$T_TMP/listen.out")"
	vpol "" 'mode = "full"'
	run_in r "$VPROBE" abstract "$name"
	eq "sandbox connect to the host's @$name" "$(cat "$T_TMP/r.out")" EPERM
	expect_rc r 1
	grep -q accepted "$T_TMP/listen.out" && fail "the host listener accepted the sandbox's connection"
	# the same socket from the host: reachable (so the refusal is the scope)
	eq "host connect to @$name" "$("$VPROBE" abstract "$name")" ok
	for i in $(seq 500); do
		grep -q accepted "$T_TMP/listen.out" && break
		sleep 0.02
	done
	grep -q accepted "$T_TMP/listen.out" || fail "the host's connection was not accepted: $(cat "$T_TMP/listen.out")"
}

# ---- fs modes read-write and full ------------------------------------------------

# read-write: the host's root is bound writable (a file the workload writes
# outside /tmp is on the host afterwards); /tmp stays private (the host's
# /tmp files are not seen, a file written there is not on the host).
case_fs_read_write()
{
	local d=$V_TMP/rw tmark=$T_TMP/host-tmp-mark priv=/tmp/sbxtest-view-private-$$ uid
	mkdir -p "$d" && chmod 0777 "$d"
	echo host-data >"$d/existing" && chmod 0666 "$d/existing"
	echo mark >"$tmark" && chmod 0644 "$tmark"
	rm -f "$priv"
	T_CASE_RESTORE="rm -f '$priv'"	# should the view let it reach the host
	vpol "" "" 'mode = "read-write"'
	run_in r sh -c "echo sandbox-data >$d/new && echo new-ok; cat $d/existing; echo appended >>$d/existing && echo append-ok;
test -e $tmark && echo host-tmp-visible; echo x >$priv && echo tmp-ok; ls -A /tmp | wc -l; id -u"
	expect_rc r 0
	uid=$(tail -1 "$T_TMP/r.out")
	[ -n "$uid" ] && [ "$uid" != 0 ] || fail "the workload ran as uid '$uid'"
	eq "workload output" "$(tr '\n' ' ' <"$T_TMP/r.out")" "new-ok host-data append-ok tmp-ok 1 $uid "
	eq "file written in the sandbox, on the host" "$(cat "$d/new" 2>&1)" sandbox-data
	eq "owner of that file (the sandbox user)" "$(stat -c %u "$d/new")" "$uid"
	eq "host file appended to" "$(tr '\n' ' ' <"$d/existing")" "host-data appended "
	[ -e "$priv" ] && fail "$priv, written in the sandbox's /tmp, is in the host's /tmp"
	return 0
}

# full: the host's root writable and the host's own /tmp (no private tmpfs):
# the workload sees the host's /tmp files and its writes there stay.
case_fs_full_host_tmp()
{
	local tmark=$T_TMP/host-tmp-mark w=$T_TMP/full/written-in-sandbox
	echo mark >"$tmark" && chmod 0644 "$tmark"
	mkdir -p "$T_TMP/full" && chmod 0777 "$T_TMP/full"
	rm -f "$w"
	vpol "" "" 'mode = "full"'
	run_in r sh -c "cat $tmark; echo from-sandbox >$w && echo write-ok; id -u"
	expect_rc r 0
	eq "host /tmp file read in the sandbox" "$(line r 1)" mark
	eq "write into the host's /tmp" "$(line r 2)" write-ok
	[ "$(line r 3)" != 0 ] || fail "the workload ran as uid 0"
	eq "the file on the host" "$(cat "$w" 2>&1)" from-sandbox
	eq "its owner (the sandbox user)" "$(stat -c %u "$w")" "$(line r 3)"
	rm -f "$w"
}

# ---- namespace = "private": the veth pair --------------------------------------

# The workload, in its own namespace with a veth pair, prints its address and
# route, connects to a host server (bound to 0.0.0.0, reached through the host
# end's address), finds 127.0.0.1 its own, then waits for the host's go.
case_private_netns_veth()
{
	local sh=$V_TMP/veth id hex host_if i addr_in gw port
	mkdir -p "$sh" && chmod 0777 "$sh"
	start_listener port 0.0.0.0 tcp || fail "no host listener"
	vpol "" 'mode = "full"
namespace = "private"' "mode = \"none\"
rules = [$TOOLS_RULE, { path = \"$sh/\", access = \"rw\" }]"
	bg "$SBX" run --result "$T_TMP/r.result" --audit "$T_TMP/r.audit" -P "$T_TMP/policy.toml" --profile t -- sh -c "
ip -o -4 addr show dev eth0 | awk '{ print \$4 }'; gw=\$(ip route show default | awk '{ print \$3 }'); echo \$gw
$NETTOOL connect \$gw $port; $NETTOOL connect 127.0.0.1 $port; ip -o link show | awk -F': ' '{ print \$2 }' | sort | tr '\n' ' '; echo
hostname >$sh/ready
while [ ! -e $sh/go ]; do sleep 0.05; done" >"$T_TMP/r.out" 2>"$T_TMP/r.err"
	local sbx_pid=$BG_PID
	for i in $(seq 600); do
		[ -s "$sh/ready" ] && break
		kill -0 "$sbx_pid" 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$sh/ready" ] || fail "the workload did not get ready: $(cat "$T_TMP/r.out" "$T_TMP/r.err" | tr '\n' ' ')"
	id=$(cat "$sh/ready")
	hex=${id#sbx-}
	host_if=sbx$hex
	[[ $host_if =~ ^sbx[0-9a-f]{8}$ ]] || fail "sandbox id '$id'"
	ip link show dev "$host_if" >/dev/null 2>&1 || fail "no host link $host_if while the sandbox runs: $(ip -o link | awk -F': ' '/ sbx/ { print $2 }' | tr '\n' ' ')"
	local host_addr
	host_addr=$(ip -o -4 addr show dev "$host_if" | awk '{ print $4 }')
	addr_in=$(line r 1)
	gw=$(line r 2)
	[[ $host_addr =~ ^10\.200\.[0-9]+\.[0-9]+/30$ ]] || fail "host end address '$host_addr', expected one of the 10.200.0.0/16 pool, /30"
	eq "sandbox's default gateway = host end address" "$gw/30" "$host_addr"
	# the sandbox end is the second address of the host end's /30
	local a b c d
	IFS=. read -r a b c d <<<"${host_addr%/30}"
	eq "sandbox end address" "$addr_in" "$a.$b.$c.$((d + 1))/30"
	[ $(((d - 1) % 4)) = 0 ] || fail "host end $host_addr is not the first address of a /30"
	eq "connect to the host's server over the veth ($gw:$port)" "$(line r 3)" ok
	eq "connect to 127.0.0.1:$port (the sandbox's own loopback)" "$(line r 4)" ECONNREFUSED
	eq "links inside" "$(line r 5)" "eth0@if$(cat /sys/class/net/"$host_if"/ifindex) lo "
	touch "$sh/go"
	wait "$sbx_pid"
	RC=$?
	expect_rc r 0
	eq "result sandbox id" "$(jr r .sandbox)" "$id"
	# (sbx deletes it; the kernel would too, with the namespace: docs/netns.md)
	ip link show dev "$host_if" >/dev/null 2>&1 && fail "host link $host_if is still there after sbx run exited"
	return 0
}

setup view_setup
run_case hostname_is_sandbox_id case_hostname_is_sandbox_id
run_case proc_sys_read_only case_proc_sys_read_only
run_case sysrq_trigger_masked case_sysrq_trigger_masked
run_case dev_minimal case_dev_minimal
run_case securebits_locked case_securebits_locked
run_case abstract_socket_scoped case_abstract_socket_scoped
run_case fs_read_write case_fs_read_write
run_case fs_full_host_tmp case_fs_full_host_tmp
run_case private_netns_veth case_private_netns_veth
finish
