#!/bin/bash
# SPDX-License-Identifier: MIT
# `sbx run -it` (docs/cli.md "Interactive use"), driven through a real pty by
# tests/security/ptydrive.py, which plays the caller's login shell: an
# interactive bash in the sandbox sees a terminal (`tty` names /dev/pts/N,
# `test -t 0`), `stty size` shows the size the test set and, after the test
# changes it (SIGWINCH to sbx, TIOCSWINSZ on sbx's pty), the new one; job
# control works (monitor mode, `sleep 100 & jobs`, kill %1); Ctrl-C (\x03
# written to the master) interrupts a sleep and returns to the prompt with
# status 130; `exit 7` ends sbx with 7. Ctrl-C of a plain `sleep` workload
# ends sbx with the workload's 130, SIGTERM to sbx with 143; every run
# leaves the caller's terminal modes as they were. -t without a terminal on
# stdin is a usage error naming it (125); -i alone keeps stdin.
. "$(dirname "$0")/lib.sh"

DRIVE="python3 $(cd "$(dirname "$0")/../security" && pwd)/ptydrive.py"

# field NAME KEY: a line "KEY value" of the driver's report.
field()
{
	sed -n "s/^$2 //p" "$T_TMP/$1.out" | head -1
}

# checks NAME: every "check X ok|fail" line of the report passed.
checks()
{
	local bad
	grep -q '^check ' "$T_TMP/$1.out" || fail "no checks ran: $(head -c 600 "$T_TMP/$1.out")"
	bad=$(grep '^check .* fail' "$T_TMP/$1.out")
	[ -z "$bad" ] || fail "$(tr '\n' ';' <<<"$bad") (terminal: $(field "$1" output | tail -c 700))"
}

host_policy()
{
	cat >"$T_TMP/host.toml" <<EOF
version = 1
[profile.h]
provider = "host"
min_isolation = "none"
[profile.h.network]
mode = "none"
[profile.h.fs]
mode = "full"
EOF
}

shell_case()
{
	$DRIVE shell -- "$SBX" run -it "$@" -- bash --norc --noprofile >"$T_TMP/s.out" 2>&1
	checks s
	eq "sbx's exit status (exit 7)" "$(field s rc)" 7
	eq "caller's terminal modes restored" "$(field s "termios restored")" yes
}

# the built-in default profile (process provider)
case_it_bash_default_profile() { shell_case; }
case_it_bash_host_provider() { host_policy; shell_case -P "$T_TMP/host.toml"; }

case_ctrl_c_ends_workload_130()
{
	$DRIVE sigint -- "$SBX" run -it -- sh -c 'echo READY; exec sleep 100' >"$T_TMP/c.out" 2>&1
	eq "sbx's exit status" "$(field c rc)" 130
	eq "caller's terminal modes restored" "$(field c "termios restored")" yes
}

case_sigterm_to_sbx_restores_terminal()
{
	$DRIVE sigterm -- "$SBX" run -it -- sh -c 'echo READY; exec sleep 100' >"$T_TMP/t.out" 2>&1
	eq "sbx's exit status" "$(field t rc)" 143
	eq "caller's terminal modes restored" "$(field t "termios restored")" yes
}

case_t_needs_terminal()
{
	local out rc
	out=$("$SBX" run -t -- true </dev/null 2>&1)
	rc=$?
	eq "exit status" "$rc" 125
	grep -q -- "-t: stdin is not a terminal" <<<"$out" || fail "no message naming stdin: $out"
}

case_i_keeps_stdin()
{
	local out
	out=$(echo piped | "$SBX" run -i -- cat 2>&1)
	eq "cat's output" "$out" piped
}

run_case it_bash_default_profile case_it_bash_default_profile
run_case it_bash_host_provider case_it_bash_host_provider
run_case ctrl_c_ends_workload_130 case_ctrl_c_ends_workload_130
run_case sigterm_to_sbx_restores_terminal case_sigterm_to_sbx_restores_terminal
run_case t_needs_terminal case_t_needs_terminal
run_case i_keeps_stdin case_i_keeps_stdin
finish
