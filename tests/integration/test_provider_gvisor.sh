#!/bin/bash
# SPDX-License-Identifier: MIT
# The gvisor provider (providers/gvisor.c): `runsc run` as root with the OCI
# bundle sbx writes under /run/<instance>/gvisor/<id>/. A workload reads a
# file of an fs rule, prints and exits with its code; the view (nobody, host
# name = sandbox id, read-only root, /etc/shadow and host paths hidden); a
# missing command (127); network mode none (a private netstack: host
# listeners unreachable, loopback inside works); mode allow on host
# networking, where sbx's eBPF hooks see the sentry's connects (an allowed
# loopback connect works, another gets EPERM and a net.connect denial); the
# memory limit applies to the sentry; SIGTERM of sbx reaches the workload;
# a timeout stops everything and leaves no runsc process, no bundle
# directory and no /tmp/runsc*; after SIGKILL of sbx, the runsc processes die
# with it and the next gvisor run removes the debris; a regular file as
# stdout keeps what was written before and after the run; fs rules are
# mounted longest path last whatever their order in the file (a deny or a
# narrower "r" written before the directory rule around it holds), and /tmp
# is not executable, as in the process provider's view.
#
# Every case is skipped, with the reason, when runsc is not installed or
# cannot run here.
. "$(dirname "$0")/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
TOOLS=$OUTPUT/tests/integration
NETTOOL=$TOOLS/nettool
GV_DIR=$RUN_DIR/gvisor
GV_RULES="{ path = \"$TOOLS/\", access = \"rx\" }, { path = \"$T_TMP/data.txt\", access = \"r\" }"

# Why gVisor cannot be tested here (empty when it can).
gvisor_skip_reason()
{
	local out
	command -v runsc >/dev/null || { echo "runsc not installed (apt-get install runsc)"; return; }
	out=$(runsc --version 2>&1) || { echo "runsc --version failed: $(head -c 200 <<<"$out")"; return; }
	# runsc itself, without sbx: if this fails, gVisor does not work on this machine
	out=$(cd / && timeout 60 runsc --rootless --network=none do /bin/true 2>&1) ||
		echo "runsc cannot run here (runsc --rootless --network=none do /bin/true: $(tail -c 200 <<<"$out" | tr '\n' ' '))"
}

if [ -z "$SBX_TEST_SKIP" ]; then
	SBX_TEST_SKIP=$(gvisor_skip_reason)
fi

gvisor_setup()
{
	mkdir -p "$TOOLS" || return 1
	if [ ! -x "$NETTOOL" ]; then
		gcc -std=gnu11 -O2 -Wall -Wextra -o "$NETTOOL" "$(dirname "$0")/nettool.c" || return 1
	fi
	start_listener P4 127.0.0.1 tcp || return 1
	start_listener Q4 127.0.0.1 tcp || return 1
	chmod 0755 "$T_TMP"
	echo "the data of the file" >"$T_TMP/data.txt"
	chmod 0644 "$T_TMP/data.txt"
}
setup gvisor_setup

# gpol [PROFILE-KEYS] [NETWORK-LINES] [FS-LINES]: $T_TMP/policy.toml with
# profile g on the gvisor provider; default network none, fs none with the
# tools directory and data.txt visible.
gpol()
{
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.g]
provider = "gvisor"
min_isolation = "gvisor"
timeout = "60s"
${1:-}
[profile.g.network]
${2:-mode = \"none\"}
[profile.g.fs]
${3:-mode = \"none\"
rules = [$GV_RULES]}
EOF
}

grun()
{
	local name=$1
	shift
	sbx_run "$name" -P "$T_TMP/policy.toml" --profile g "$@"
}

# Processes of this instance's runsc (their command lines name its run dir).
runsc_procs()
{
	pgrep -f -- "--root[= ]$GV_DIR/" | while read -r p; do
		local st
		st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)
		[ -n "$st" ] && [ "$st" != Z ] && echo "$p"
	done
}

bundles()
{
	find "$GV_DIR" -mindepth 1 -maxdepth 1 -type d 2>/dev/null
}

case_reads_file_prints_exit_code()
{
	gpol
	grun r -- sh -c "cat '$T_TMP/data.txt'; echo printed; exit 7"
	expect_rc r 7
	eq "stdout" "$(cat "$T_TMP/r.out")" "$(printf 'the data of the file\nprinted')"
	eq "result provider" "$(jr r .provider)" gvisor
	eq "result isolation" "$(jr r .isolation)" gvisor
	eq "result exit_code" "$(jr r .exit_code)" 7
	eq "sandbox.start provider" "$(ja r '[.[] | select(.event == "sandbox.start")][0].provider')" gvisor
	eq "bundle directories left" "$(bundles)" ""
}

case_view()
{
	local got id
	gpol
	grun r -- sh -c 'id -u; id -g; hostname; echo /*; test -e /etc/shadow && echo SHADOW; test -e /root && echo ROOT;
		echo x >/usr/sbx-probe 2>/dev/null && echo USR-WRITABLE; echo x >/sbx-probe 2>/dev/null && echo ROOT-WRITABLE;
		echo t >/tmp/t && cat /tmp/t'
	expect_rc r 0
	got=$(cat "$T_TMP/r.out")
	id=$(jr r .sandbox)
	eq "uid, gid, hostname" "$(head -3 <<<"$got" | tr '\n' ' ')" "65534 65534 $id "
	for w in SHADOW ROOT USR-WRITABLE ROOT-WRITABLE; do
		grep -qx "$w" <<<"$got" && fail "$w: $(tr '\n' ' ' <<<"$got")"
	done
	grep -qx t <<<"$got" || fail "/tmp is not writable: $(tr '\n' ' ' <<<"$got")"
	for d in /usr /etc /tmp /proc /dev; do
		grep -q -- "$d" <<<"$(sed -n 4p <<<"$got")" || fail "$d missing from / : $(sed -n 4p <<<"$got")"
	done
	[[ "$(sed -n 4p <<<"$got")" == */home* ]] && fail "/home is visible: $(sed -n 4p <<<"$got")"
	return 0
}

case_missing_command_127()
{
	gpol
	grun r -- sbx-no-such-command
	expect_rc r 127
}

case_net_none_private_netstack()
{
	gpol
	grun r -- sh -c "$NETTOOL connect 127.0.0.1 $P4; $NETTOOL listen 127.0.0.1 0 tcp >/tmp/l & sleep 1;
		port=\$(sed -n 's/^port //p' /tmp/l); printf 'inside '; $NETTOOL connect 127.0.0.1 \$port"
	expect_rc r 0
	[ "$(head -1 "$T_TMP/r.out")" = ok ] && fail "a host listener was reachable in mode none"
	expect r inside ok
	eq "connect_denied" "$(jr r .network.connect_denied)" 0
}

case_net_allow_host_networking_ebpf()
{
	gpol "" "mode = \"allow\"
allow = [\"127.0.0.1:$P4/tcp\"]"
	grun r -- sh -c "$(probes "allowed connect 127.0.0.1 $P4" "other connect 127.0.0.1 $Q4")"
	expect_rc r 0
	expect r allowed ok
	expect r other EPERM
	eq "result connect_allowed" "$(jr r .network.connect_allowed)" 1
	eq "result connect_denied" "$(jr r .network.connect_denied)" 1
	eq "net.connect denial port" "$(ja r '[.[] | select(.event == "net.connect" and .verdict == "deny")][0].port')" "$Q4"
}

case_memory_limit_applies_to_sentry()
{
	gpol 'memory = "64M"'
	grun r -- python3 -c 'b = bytearray(300 << 20); print("survived", len(b))'
	unenforceable r memory
	grep -q survived "$T_TMP/r.out" && fail "300 MB under a 64M limit: $(cat "$T_TMP/r.out")"
	eq "oom_killed" "$(jr r .oom_killed)" true
}

case_sigterm_of_sbx_reaches_workload()
{
	local i rc
	gpol
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile g --result "$T_TMP/t.result" -- \
		sh -c 'trap "echo got TERM; exit 3" TERM; echo ready; while :; do sleep 0.1; done' \
		>"$T_TMP/t.out" 2>"$T_TMP/t.err"
	for i in $(seq 200); do
		grep -q ready "$T_TMP/t.out" && break
		sleep 0.05
	done
	grep -q ready "$T_TMP/t.out" || fail "the workload did not start: $(cat "$T_TMP/t.err")"
	kill -TERM "$BG_PID"
	wait "$BG_PID"
	rc=$?
	eq "sbx exit code" "$rc" 3
	grep -q "got TERM" "$T_TMP/t.out" || fail "the workload did not see SIGTERM: $(cat "$T_TMP/t.out")"
}

case_timeout_leaves_nothing()
{
	local before after i
	before=$(ls -d /tmp/runsc* 2>/dev/null | sort)
	gpol
	grun r --timeout 1s -- sh -c 'trap "" TERM; sleep 60'
	expect_rc r 124
	eq "timed_out" "$(jr r .timed_out)" true
	# (a bound for a loaded machine, not a measurement)
	for i in $(seq 600); do
		[ -z "$(runsc_procs)" ] && break
		sleep 0.05
	done
	[ -z "$(runsc_procs)" ] || fail "runsc processes left: $(runsc_procs | xargs -r ps -o pid=,args= -p | head -c 400)"
	eq "bundle directories left" "$(bundles)" ""
	after=$(ls -d /tmp/runsc* 2>/dev/null | sort)
	eq "/tmp/runsc* made by the run" "$(comm -13 <(echo "$before") <(echo "$after"))" ""
}

case_sigkill_of_sbx_then_next_run_cleans()
{
	local i dir pids p st left
	gpol
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile g -- sh -c 'echo ready; sleep 60' \
		>"$T_TMP/k.out" 2>"$T_TMP/k.err"
	for i in $(seq 200); do
		grep -q ready "$T_TMP/k.out" && break
		sleep 0.05
	done
	grep -q ready "$T_TMP/k.out" || fail "the workload did not start: $(cat "$T_TMP/k.err")"
	dir=$(bundles)
	[ -n "$dir" ] || fail "no bundle directory under $GV_DIR"
	# the runsc processes of this sandbox, seen running: the same pids must go
	pids=$(runsc_procs)
	[ -n "$pids" ] || fail "no runsc process of the sandbox found while it runs"
	kill -KILL "$BG_PID"
	wait "$BG_PID" 2>/dev/null
	for i in $(seq 600); do
		left=$(for p in $pids; do st=$(awk '{print $3}' /proc/$p/stat 2>/dev/null) && [ "$st" != Z ] && echo $p; done)
		[ -z "$left" ] && break
		sleep 0.05
	done
	[ -z "$left" ] || fail "runsc processes survived SIGKILL of sbx: $(echo $left)"
	[ -z "$(runsc_procs)" ] || fail "runsc processes of the instance survived SIGKILL of sbx: $(runsc_procs | tr '\n' ' ')"
	[ -d "$dir" ] || fail "expected the debris $dir after SIGKILL (test assumption)"
	grun next -- true
	expect_rc next 0
	[ -e "$dir" ] && fail "the next gvisor run did not remove $dir"
	eq "bundle directories left" "$(bundles)" ""
}

case_regular_file_stdout_keeps_order()
{
	gpol
	{ echo before; "$SBX" run -P "$T_TMP/policy.toml" --profile g -- sh -c 'echo inside; echo inside-err >&2'; echo after; } \
		>"$T_TMP/f.log" 2>&1
	eq "file contents" "$(tr '\n' ' ' <"$T_TMP/f.log")" "before inside inside-err after "
}

# A deny rule written before the directory rule that covers it is still
# enforced: the longer path wins whatever the order in the file (the bundle
# used to mount the rules in file order, the directory over its mask).
case_fs_deny_listed_before_covering_dir()
{
	make_order_tree "$T_TMP"
	gpol "" "" "mode = \"none\"
rules = [$GV_RULES, { path = \"$O/secret/\", access = \"deny\" }, { path = \"$O/\", access = \"rx\" }]"
	grun r -- sh -c "printf 'prog '; $O/prog; printf 'secret '; cat $O/secret/f 2>/dev/null || echo refused"
	expect_rc r 0
	expect r prog ran
	expect r secret refused
}

# A narrower "r" rule written before the "rx" directory around it keeps its
# noexec (it used to be lost under the directory's bind).
case_fs_narrower_r_listed_before_rx_dir()
{
	make_order_tree "$T_TMP"
	gpol "" "" "mode = \"none\"
rules = [$GV_RULES, { path = \"$O/sub/\", access = \"r\" }, { path = \"$O/\", access = \"rx\" }]"
	grun r -- sh -c "printf 'prog '; $O/prog; printf 'read-sub '; cat $O/sub/f;
		printf 'sub-prog '; $O/sub/prog 2>/dev/null || echo refused"
	expect_rc r 0
	expect r prog ran
	expect r read-sub data-sub
	expect r sub-prog refused
}

# /tmp is private and not executable, as in the process provider's view
# (the base view's /tmp is rw, no x), in fs mode none and read-only.
case_tmp_not_executable()
{
	local mode
	for mode in none read-only; do
		gpol "" "" "mode = \"$mode\"
rules = [$GV_RULES]"
		grun r -- sh -c 'cp /bin/true /tmp/t && chmod 755 /tmp/t && printf "write ok\n";
			printf "exec "; /tmp/t 2>/dev/null && echo EXECUTED || echo refused'
		expect_rc r 0
		expect r write ok
		[ "$(awk '$1 == "exec" { print $2 }' "$T_TMP/r.out")" = refused ] ||
			fail "fs mode $mode: a program in /tmp was executed: $(tr '\n' ' ' <"$T_TMP/r.out")"
	done
}

case_private_netns_with_allow_refused()
{
	gpol "" 'mode = "allow"
namespace = "private"
allow = ["127.0.0.1:80"]'
	grun r -- true
	expect_rc r 125
	grep -q "'network.namespace' cannot be enforced by provider 'gvisor': gVisor cannot be given a veth pair" "$T_TMP/r.err" || fail "message: $(cat "$T_TMP/r.err")"
	eq "bundle directories left" "$(bundles)" ""
}

# fake_runsc NAME BODY: $T_TMP/NAME, a stand-in for runsc that answers sbx's
# probe (--version) like runsc and runs BODY (sh) for everything else.
fake_runsc()
{
	cat >"$T_TMP/$1" <<EOF
#!/bin/sh
[ "\$1" = --version ] && { echo "runsc version fake"; exit 0; }
$2
EOF
	chmod 0755 "$T_TMP/$1"
}

# runsc failing itself exits 128, the code of a workload that exits 128:
# sbx reports its own failure (125, runsc's message, no result) instead.
case_runsc_failure_exits_125()
{
	fake_runsc runsc-fails 'echo "fake runsc: cannot create the sandbox" >&2; exit 128'
	gpol "[profile.g.gvisor]
runsc = \"$T_TMP/runsc-fails\""
	grun r -- true
	expect_rc r 125
	grep -q "fake runsc: cannot create the sandbox" "$T_TMP/r.err" || fail "runsc's message: $(cat "$T_TMP/r.err")"
	grep -q "sbx: error: provider gvisor: runsc failed (exit status 128): runsc ended before it created the container" \
		"$T_TMP/r.err" || fail "sbx's message: $(cat "$T_TMP/r.err")"
	[ -e "$T_TMP/r.result" ] && fail "a result was written for a run sbx failed: $(cat "$T_TMP/r.result")"
	# a crashed sentry's status (Go's 2) is passed on by runsc as if it were
	# the container's: the crash report in --panic-log tells
	fake_runsc runsc-crash 'for a; do case $a in --panic-log=*) pl=${a#*=};; --pid-file=*) pf=${a#*=};; esac; done
echo 1 >"$pf"; echo "fatal error: newosproc" >"$pl"; exit 2'
	gpol "[profile.g.gvisor]
runsc = \"$T_TMP/runsc-crash\""
	grun c -- true
	expect_rc c 125
	grep -q "runsc failed (exit status 2): fatal error: newosproc" "$T_TMP/c.err" || fail "crash message: $(cat "$T_TMP/c.err")"
	eq "bundle directories left" "$(bundles)" ""
}

# The real runsc: a platform it does not know is its own fatal error (JSON
# in --log), exit 125 with its message; a workload's own 128 stays 128.
case_runsc_unknown_platform_125_workload_128()
{
	gpol
	grun w -- sh -c 'exit 128'
	expect_rc w 128
	eq "result exit_code" "$(jr w .exit_code)" 128
	runsc --platform=systrap flags >/dev/null 2>&1 && skip "this runsc knows the systrap platform: no runsc failure to provoke"
	gpol "[profile.g.gvisor]
platform = \"systrap\""
	grun r -- true
	expect_rc r 125
	grep -q "sbx: error: provider gvisor: runsc failed (exit status 128): unknown platform: systrap" \
		"$T_TMP/r.err" || fail "message: $(cat "$T_TMP/r.err")"
	[ -e "$T_TMP/r.result" ] && fail "a result was written for a run sbx failed"
	return 0
}

# policy/examples/http-fetch.toml under gVisor: a deny rule on a single file
# and an exec list used to make runsc fail with I/O errors ("mount submount
# /etc/shadow ... input/output error", "failed to load /usr/bin/curl"). The
# cause was its pids = 32, which runsc, the gofer and the sentry count
# against: refused with the reason; with room, the file is masked (reads as
# empty) and the programs run.
case_fs_deny_file_pids_floor()
{
	gpol 'pids = 32' "" "mode = \"read-only\"
rules = [{ path = \"/etc/shadow\", access = \"deny\" }, { path = \"/tmp/\", access = \"rw\" }]"
	grun low -- true
	expect_rc low 125
	grep -q "pids = 32 is too low for the gvisor provider, which needs at least 128" "$T_TMP/low.err" ||
		fail "message: $(cat "$T_TMP/low.err")"
	gpol 'pids = 128
enforcement = "best-effort"' "" "mode = \"read-only\"
rules = [{ path = \"/etc/shadow\", access = \"deny\" }, { path = \"/tmp/\", access = \"rw\" }]
exec = [\"/usr/bin/\", \"/bin/\", \"/usr/lib/\"]"
	grun ok -- sh -c 'printf "shadow-bytes %s\n" "$(wc -c </etc/shadow)"; printf "prog "; /usr/bin/env echo ran'
	expect_rc ok 0
	expect ok shadow-bytes 0
	expect ok prog ran
	# auto passes over gVisor for such a profile, to the process provider
	cat >"$T_TMP/auto.toml" <<EOF
version = 1
[profile.a]
provider = "auto"
min_isolation = "process"
pids = 32
[profile.a.network]
mode = "none"
[profile.a.fs]
mode = "read-only"
rules = [{ path = "/etc/shadow", access = "deny" }]
EOF
	sbx_run auto -P "$T_TMP/auto.toml" -- true
	expect_rc auto 0
	eq "auto's provider" "$(jr auto .provider)" process
	# and refuses it (125, not 127) when only gVisor would do
	sed -i 's/min_isolation = "process"/min_isolation = "gvisor"/' "$T_TMP/auto.toml"
	sbx_run autog -P "$T_TMP/auto.toml" -- true
	[ "$RC" = 125 ] || [ "$RC" = 0 ] || fail "min_isolation gvisor, pids = 32: sbx exited $RC ($(cat "$T_TMP/autog.err"))"
	[ "$RC" = 125 ] && { grep -q "gvisor: pids = 32 is too low" "$T_TMP/autog.err" || fail "message: $(cat "$T_TMP/autog.err")"; }
	return 0
}

run_case reads_file_prints_exit_code case_reads_file_prints_exit_code
run_case view case_view
run_case missing_command_127 case_missing_command_127
run_case net_none_private_netstack case_net_none_private_netstack
run_case net_allow_host_networking_ebpf case_net_allow_host_networking_ebpf
run_case memory_limit_applies_to_sentry case_memory_limit_applies_to_sentry
run_case sigterm_of_sbx_reaches_workload case_sigterm_of_sbx_reaches_workload
run_case timeout_leaves_nothing case_timeout_leaves_nothing
run_case sigkill_of_sbx_then_next_run_cleans case_sigkill_of_sbx_then_next_run_cleans
run_case regular_file_stdout_keeps_order case_regular_file_stdout_keeps_order
run_case fs_deny_listed_before_covering_dir case_fs_deny_listed_before_covering_dir
run_case fs_narrower_r_listed_before_rx_dir case_fs_narrower_r_listed_before_rx_dir
run_case tmp_not_executable case_tmp_not_executable
run_case private_netns_with_allow_refused case_private_netns_with_allow_refused
run_case runsc_failure_exits_125 case_runsc_failure_exits_125
run_case runsc_unknown_platform_125_workload_128 case_runsc_unknown_platform_125_workload_128
run_case fs_deny_file_pids_floor case_fs_deny_file_pids_floor
finish
