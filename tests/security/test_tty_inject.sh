#!/bin/bash
# SPDX-License-Identifier: MIT
# Terminal injection (the class of bubblewrap's CVE-2017-5226; docs/security.md
# "Terminal injection"). With the caller's terminal as stdin, stdout and
# stderr, a workload pushes "echo INJECTED" into the terminal's input queue
# with ioctl(TIOCSTI) on every fd it holds and on /dev/tty, also with bits
# above the 32 the kernel reads, and tries TIOCLINUX; whatever it manages
# would be run by the caller's shell once sbx exits.
#
# tests/security/ptydrive.py plays the caller: a login shell with a real pty
# as its controlling terminal, sbx as its foreground job, and afterwards the
# number of bytes waiting in the terminal's input queue. For each provider
# that can be handed a terminal: every TIOCSTI/TIOCLINUX fails (EPERM from
# sbx's seccomp guard; ENOTTY from gVisor's own kernel, which never passes
# the ioctl to the host), the queue stays empty, and the workload is not in
# the caller's session. `sbx run -it` gives a pty of sbx's: the caller's
# queue stays empty there too.
. "$(dirname "$0")/../integration/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
SRC=$(cd "$(dirname "$0")" && pwd)
DRIVE="python3 $SRC/ptydrive.py"
V_TMP=""
INJECT=""

_tty_cleanup()
{
	[ -n "$V_TMP" ] && rm -rf "$V_TMP"
	_cleanup
}
trap _tty_cleanup EXIT

tty_setup()
{
	command -v python3 >/dev/null || { echo "python3 missing"; return 1; }
	# outside /tmp, which the process provider's view replaces by a tmpfs
	V_TMP=$(mktemp -d "${SBX_TEST_VARTMP:-/var/tmp}/sbxtest.tty.XXXXXX") && chmod 0755 "$V_TMP" || return 1
	INJECT=$V_TMP/ttyinject
	gcc -std=gnu11 -O2 -Wall -Wextra -o "$INJECT" "$SRC/ttyinject.c" || return 1
	chmod 0755 "$INJECT"
}

# pol PROVIDER ISOLATION [PROFILE-LINES]: $T_TMP/p.toml with profile t.
pol()
{
	local fs=read-only
	[ "$1" = host ] && fs=full
	cat >"$T_TMP/p.toml" <<EOF
version = 1
[profile.t]
provider = "$1"
min_isolation = "$2"
$3
[profile.t.network]
mode = "none"
[profile.t.fs]
mode = "$fs"
rules = [{ path = "$V_TMP/", access = "rx" }]
EOF
}

# drive NAME [SBX-RUN-OPTIONS]...: the injector under sbx on a pty; the
# report in $T_TMP/NAME.out.
drive()
{
	local name=$1
	shift
	$DRIVE inject -- "$SBX" run -P "$T_TMP/p.toml" --profile t "$@" -- "$INJECT" >"$T_TMP/$name.out" 2>&1
}

# field NAME KEY: a line "KEY value" of the report.
field()
{
	sed -n "s/^$2 //p" "$T_TMP/$1.out" | head -1
}

# said NAME: what the workload (and sbx) printed on the terminal.
said()
{
	python3 -c 'import ast,sys; sys.stdout.write(ast.literal_eval(sys.argv[1]).decode(errors="replace").replace("\r", ""))' \
		"$(field "$1" output)"
}

# not_injected NAME ALLOWED-ERRNOS: every try failed with one of them, the
# caller's input queue is empty and sbx exited 0.
not_injected()
{
	local name=$1 ok=$2 out try got
	out=$(said "$name")
	eq "sbx's exit status" "$(field "$name" rc)" 0
	for try in tiocsti.stdin tiocsti.stdout tiocsti.stderr tiocsti.dev_tty tiocsti.high_bits tioclinux.stdin; do
		got=$(awk -v t="$try" '$1 == t { print $2; exit }' <<<"$out")
		[ -n "$got" ] || fail "$try: no result (terminal: $(tr '\n' ' ' <<<"$out"))"
		[[ " $ok " == *" $got "* ]] || fail "$try: $got, expected one of: $ok"
	done
	[ "$(field "$name" queued)" = 0 ] ||
		fail "bytes reached the caller's input queue: $(field "$name" queue)"
	grep -qx "ctty no" <<<"$out" || fail "the caller's terminal is the workload's controlling terminal"
	eq "caller's terminal modes kept" "$(field "$name" "termios restored")" yes
}

case_process_refuses_tiocsti() { pol process process; drive r; not_injected r EPERM; }
# the host provider had no seccomp filter at all without [seccomp]
case_host_refuses_tiocsti() { pol host none; drive r; not_injected r EPERM; }

# The guard is not one of the profile's rules: allowing ioctl keeps it.
case_seccomp_allow_ioctl_keeps_guard()
{
	pol host none '[profile.t.seccomp]
allow = ["ioctl"]'
	drive r
	not_injected r EPERM
}

# A terminal of sbx's own with -it: the workload may not push into its own
# pty either (EPERM), and never reaches the caller's.
case_it_pty_keeps_caller_queue_empty()
{
	pol process process
	$DRIVE inject -- "$SBX" run -it -P "$T_TMP/p.toml" --profile t -- "$INJECT" >"$T_TMP/r.out" 2>&1
	eq "sbx's exit status" "$(field r rc)" 0
	eq "caller's input queue" "$(field r queued)" 0
	eq "tiocsti on the pty" "$(said r | awk '$1 == "tiocsti.stdin" { print $2 }')" EPERM
	eq "caller's terminal modes restored" "$(field r "termios restored")" yes
}

# Without -t the workload holds the caller's terminal and may change its
# modes (another intr key, echo back on); the caller's shell must get its
# own modes back when sbx ends.
case_modes_restored_without_t()
{
	pol process process
	$DRIVE inject -- "$SBX" run -P "$T_TMP/p.toml" --profile t -- \
		sh -c 'stty intr ^A echo icanon && echo changed' >"$T_TMP/r.out" 2>&1
	eq "sbx's exit status" "$(field r rc)" 0
	said r | grep -q changed || fail "the workload did not run: $(said r)"
	eq "caller's terminal modes restored" "$(field r "termios restored")" yes
}

# gVisor's sentry implements the ioctl itself (ENOTTY on a host terminal
# given as stdin): nothing reaches the host terminal; runsc and its sentry
# are under sbx's guard as well.
case_gvisor_refuses_tiocsti()
{
	local out
	command -v runsc >/dev/null || skip "runsc not installed (apt-get install runsc)"
	out=$(cd / && timeout 60 runsc --rootless --network=none do /bin/true 2>&1) ||
		skip "runsc cannot run here: $(tail -c 200 <<<"$out" | tr '\n' ' ')"
	pol gvisor gvisor
	drive r
	not_injected r "EPERM ENOTTY EBADF"
}

# -t where the provider cannot hand over a terminal: refused by name.
case_it_refused_without_terminal_provider()
{
	local prov tried=""
	for prov in microvm gvisor; do
		pol $prov $prov
		$DRIVE inject -- "$SBX" run -it -P "$T_TMP/p.toml" --profile t -- true >"$T_TMP/r.out" 2>&1
		said r | grep -q "is not available here" && continue
		eq "$prov: sbx's exit status" "$(field r rc)" 125
		said r | grep -q "provider $prov cannot give the workload a terminal" ||
			fail "$prov: no refusal naming the provider: $(said r)"
		tried="$tried $prov"
	done
	[ -n "$tried" ] || skip "neither microvm nor gvisor is available here"
}

# mock runs no command, a WASI module has no ioctl (its runtime runs under
# the process provider, tested above) and the microVM guest's workload gets
# /dev/null as stdin: none of them can receive the caller's terminal, so
# there is no case for them (a case that can only skip asserts nothing).

setup tty_setup
run_case process_refuses_tiocsti case_process_refuses_tiocsti
run_case host_refuses_tiocsti case_host_refuses_tiocsti
run_case seccomp_allow_ioctl_keeps_guard case_seccomp_allow_ioctl_keeps_guard
run_case it_pty_keeps_caller_queue_empty case_it_pty_keeps_caller_queue_empty
run_case modes_restored_without_t case_modes_restored_without_t
run_case gvisor_refuses_tiocsti case_gvisor_refuses_tiocsti
run_case it_refused_without_terminal_provider case_it_refused_without_terminal_provider
finish
