#!/bin/bash
# SPDX-License-Identifier: MIT
# The microvm provider (providers/microvm.c, providers/guest/): the command
# runs in a qemu -M microvm guest (TCG unless KVM works), its stdout and
# stderr are relayed apart, its exit status comes back, the timeout kills
# qemu, memory and vCPUs come from the profile's limits, qemu sits in the
# sandbox cgroup, and the guest's network goes through qemu's user-mode stack,
# i.e. through connect()s of the qemu process that the eBPF lists decide.
#
# Guest kernel and initramfs: $SBX_MICROVM_DIR or /var/cache/sbx/microvm when
# they exist there, else built for this file with providers/guest/mkguest.sh
# (apt-get download of Debian's kernel) into its temporary directory.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
POL=$T_TMP/microvm.toml
GUEST=""

microvm_setup()
{
	local d=${SBX_MICROVM_DIR:-/var/cache/sbx/microvm}
	chmod 0755 "$T_TMP"	# qemu runs as the sandbox's uid and reads the guest files
	if [ -r "$d/vmlinux" ] && [ -r "$d/initrd.img" ]; then
		GUEST=$d
	else
		GUEST=$T_TMP/guest
		"$SRC/providers/guest/mkguest.sh" -q -o "$GUEST" || return 1
	fi
	cat >"$POL" <<EOF
version = 1
[profile.vm]
provider = "microvm"
min_isolation = "microvm"
[profile.vm.network]
mode = "none"
EOF
}

if ! command -v qemu-system-x86_64 >/dev/null; then
	SBX_TEST_SKIP="qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
elif [ -z "$SBX_TEST_SKIP" ]; then
	microvm_setup >"$T_TMP/setup.log" 2>&1 ||
		SBX_TEST_SKIP="no guest kernel/initramfs and mkguest.sh failed: $(tail -c 200 "$T_TMP/setup.log" | tr '\n' ' ')"
fi
export SBX_MICROVM_DIR=$GUEST
unset SBX_MICROVM_KERNEL SBX_MICROVM_INITRD

# qemu processes of this file: those booting our guest's initramfs
our_qemus()
{
	pgrep -f "qemu-system-x86_64 .*-initrd $GUEST/initrd.img" || true
}

case_echo_stdout_relayed()
{
	sbx_run echo -P "$POL" -- echo hello from the guest
	expect_rc echo 0
	eq stdout "$(cat "$T_TMP/echo.out")" "hello from the guest"
	eq provider "$(jr echo .provider)" microvm
}

case_exit_code_passes_through()
{
	sbx_run code -P "$POL" -- sh -c 'exit 3'
	expect_rc code 3
}

case_stderr_separate()
{
	sbx_run err -P "$POL" -- sh -c 'echo to-out; echo to-err >&2'
	expect_rc err 0
	eq stdout "$(cat "$T_TMP/err.out")" to-out
	grep -qx to-err "$T_TMP/err.err" || fail "stderr lacks to-err: $(cat "$T_TMP/err.err")"
}

case_command_not_found_127()
{
	sbx_run nf -P "$POL" -- no-such-command
	expect_rc nf 127
	grep -q 'no-such-command: No such file or directory' "$T_TMP/nf.err" ||
		fail "no exec error: $(cat "$T_TMP/nf.err")"
}

case_large_output_intact()
{
	sbx_run big -P "$POL" -- sh -c 'head -c 4000000 /dev/zero | tr "\0" x'
	expect_rc big 0
	eq bytes "$(wc -c <"$T_TMP/big.out")" 4000000
	[ "$(tr -d x <"$T_TMP/big.out" | wc -c)" = 0 ] || fail "output corrupted"
}

case_timeout_124_qemu_killed()
{
	# sleep 3600 never ends by itself: 124 with a result is sbx's timeout
	sbx_run_within 600 to -P "$POL" --timeout 5s -- sleep 3600
	expect_rc to 124
	eq "result timed_out" "$(jr to .timed_out)" true
	[ -z "$(our_qemus)" ] || fail "qemu still running: $(our_qemus)"
}

case_memory_and_vcpus_from_limits()
{
	local mem want_cpus=2
	[ "$(nproc)" -ge 2 ] || want_cpus=1
	sbx_run lim -P "$POL" --memory 512M --cpu 2 -- sh -c 'grep MemTotal /proc/meminfo; nproc'
	expect_rc lim 0
	mem=$(awk '/MemTotal/ { print $2 }' "$T_TMP/lim.out")
	# 512 MiB minus qemu's 96 MiB share = 416 MiB of guest RAM, less what the kernel keeps
	[ -n "$mem" ] && [ "$mem" -gt 300000 ] && [ "$mem" -le 425984 ] ||
		fail "guest MemTotal ${mem:-?} kB, expected about 416 MiB"
	eq vcpus "$(sed -n 2p "$T_TMP/lim.out")" "$want_cpus"
	sbx_run small -P "$POL" --memory 128M -- true
	expect_rc small 125
	grep -q 'too small for a microvm' "$T_TMP/small.err" || fail "$(cat "$T_TMP/small.err")"
}

case_qemu_in_sandbox_cgroup()
{
	local pid cg i uid
	"$SBX" run -P "$POL" -- sleep 20 >/dev/null 2>&1 &
	bg_pid=$!
	T_CASE_PIDS="$T_CASE_PIDS $bg_pid"
	for i in $(seq 100); do
		pid=$("$SBX" ps --json 2>/dev/null | jq -r '.sandboxes[0].pid // empty')
		cg=$("$SBX" ps --json 2>/dev/null | jq -r '.sandboxes[0].cgroup // empty')
		[ -n "$pid" ] && break
		sleep 0.1
	done
	[ -n "$pid" ] || fail "sbx ps lists no sandbox"
	eq comm "$(cat /proc/"$pid"/comm)" qemu-system-x86
	grep -q "^0::${cg#$(cgroup2_mount)}\$" /proc/"$pid"/cgroup ||
		fail "qemu $pid not in $cg: $(grep '^0::' /proc/"$pid"/cgroup)"
	# runs as the sandbox's own uid under TCG (core/uidpool.h)
	if ! { [ -e /dev/kvm ] && grep -q '^yes' /run/sbx-microvm-kvm 2>/dev/null; }; then
		uid=$(awk '/^Uid:/ { print $2 }' /proc/"$pid"/status)
		[ "$uid" -ge 2080374784 ] 2>/dev/null && [ "$uid" -le 2080440319 ] ||
			fail "qemu's uid $uid is not from the sandbox uid range"
	fi
	kill "$bg_pid"
	wait "$bg_pid" 2>/dev/null
	return 0
}

case_sigterm_forwarded_to_guest_command()
{
	local i
	"$SBX" run -P "$POL" -- sh -c 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 1; done' \
		>"$T_TMP/sig.out" 2>"$T_TMP/sig.err" &
	bg_pid=$!
	T_CASE_PIDS="$T_CASE_PIDS $bg_pid"
	for i in $(seq 300); do
		grep -q ready "$T_TMP/sig.out" && break
		sleep 0.1
	done
	grep -q ready "$T_TMP/sig.out" || fail "the guest command did not start"
	kill -TERM "$bg_pid"
	wait "$bg_pid"
	RC=$?
	expect_rc sig 7
	grep -q got-term "$T_TMP/sig.out" || fail "trap did not run: $(cat "$T_TMP/sig.out")"
}

# A one-shot TCP server on 127.0.0.1 that stores what it receives; sets VAR to its port.
recorder()
{
	local var=$1 out=$T_TMP/rec.$1 i
	bg python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
print("port", s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    data = b""
    while True:
        d = c.recv(4096)
        if not d: break
        data += d
    open(sys.argv[1], "ab").write(data); c.close()
' "$out.data" >"$out" 2>&1
	for i in $(seq 100); do
		if grep -q '^port ' "$out"; then
			printf -v "$var" '%s' "$(awk '/^port / { print $2 }' "$out")"
			return 0
		fi
		sleep 0.05
	done
	fail "recorder did not start: $(cat "$out")"
}

case_network_allowed_and_denied_via_user_mode()
{
	local pol=$T_TMP/net.toml A B
	recorder A
	recorder B
	cat >"$pol" <<EOF
version = 1
[profile.vmnet]
provider = "microvm"
min_isolation = "microvm"
[profile.vmnet.network]
mode = "allow"
allow = ["127.0.0.1:$A/tcp"]
EOF
	sbx_run net -P "$pol" -- sh -c "echo token-a | nc 10.0.2.2 $A; echo a=\$?; echo token-b | nc 10.0.2.2 $B; echo b=\$?"
	expect_rc net 0
	grep -qx a=0 "$T_TMP/net.out" || fail "allowed connect failed: $(cat "$T_TMP/net.out" "$T_TMP/net.err")"
	grep -qx b=0 "$T_TMP/net.out" && fail "denied connect succeeded"
	sleep 0.3
	grep -q token-a "$T_TMP/rec.A.data" 2>/dev/null || fail "allowed port got nothing"
	[ -s "$T_TMP/rec.B.data" ] && fail "denied port received: $(cat "$T_TMP/rec.B.data")"
	eq "deny event" "$(ja net "[.[] | select(.event == \"net.connect\" and .verdict == \"deny\" and .port == $B and .comm == \"qemu-system-x86\")] | length > 0")" true
}

case_network_none_no_nic()
{
	sbx_run nonet -P "$POL" -- ls /sys/class/net
	expect_rc nonet 0
	eq interfaces "$(tr '\n' ' ' <"$T_TMP/nonet.out")" "lo "
}

# The profile's nofile and fsize reach the guest command (before: ignored):
# ulimit shows them (busybox: -f in 512-byte blocks), a write past fsize
# dies of SIGXFSZ, and the command cannot raise its hard limit again. The
# same boot (best-effort, with an fs grant the guest cannot have) lists the
# grant, and only it, as degraded.
case_rlimits_in_guest()
{
	cat >"$T_TMP/rl.toml" <<EOF
version = 1
[profile.vm]
provider = "microvm"
min_isolation = "microvm"
enforcement = "best-effort"
nofile = 64
fsize = "1M"
[profile.vm.fs]
rules = [{ path = "$T_TMP/", access = "rw" }]
EOF
	sbx_run rl -P "$T_TMP/rl.toml" -- sh -c 'echo nofile $(ulimit -n); echo fsize $(ulimit -f);
		head -c 2000000 /dev/zero >/tmp/big; echo write $?; echo size $(wc -c </tmp/big);
		ulimit -n 1000 2>/dev/null; echo raised $?'
	expect_rc rl 0
	eq nofile "$(awk '$1 == "nofile" { print $2 }' "$T_TMP/rl.out")" 64
	eq fsize "$(awk '$1 == "fsize" { print $2 }' "$T_TMP/rl.out")" 2048
	eq "write past fsize" "$(awk '$1 == "write" { print $2 }' "$T_TMP/rl.out")" 153
	eq "file size" "$(awk '$1 == "size" { print $2 }' "$T_TMP/rl.out")" 1048576
	[ "$(awk '$1 == "raised" { print $2 }' "$T_TMP/rl.out")" != 0 ] || fail "the command raised nofile"
	eq degraded "$(jr rl '[.degraded[] | split(":")[0]] | join(",")')" fs.rules
	return 0
}

# No host path is shared into the guest: a grant is refused under strict
# with the rule and its position, before qemu starts (before: dropped
# silently; best-effort: case_rlimits_in_guest). So is an exec list.
case_fs_grant_and_exec_list_refused()
{
	cat >"$T_TMP/fs.toml" <<EOF
version = 1
[profile.vm]
provider = "microvm"
min_isolation = "microvm"
[profile.vm.fs]
rules = [
  { path = "$T_TMP/", access = "rw" },
]
EOF
	sbx_run fs -P "$T_TMP/fs.toml" -- sh -c 'echo ran'
	expect_rc fs 125
	grep -q "'fs.rules' cannot be enforced by provider 'microvm'.*rule '$T_TMP/' ($T_TMP/fs.toml:7:3) grants rw" "$T_TMP/fs.err" ||
		fail "the error does not name the rule: $(cat "$T_TMP/fs.err")"
	[ -s "$T_TMP/fs.out" ] && fail "the command ran"
	cat >"$T_TMP/fx.toml" <<EOF
version = 1
[profile.vm]
provider = "microvm"
min_isolation = "microvm"
[profile.vm.fs]
exec = ["/bin/"]
EOF
	sbx_run fx -P "$T_TMP/fx.toml" -- true
	expect_rc fx 125
	grep -q "'fs.exec' cannot be enforced by provider 'microvm'" "$T_TMP/fx.err" ||
		fail "the error does not name fs.exec: $(cat "$T_TMP/fx.err")"
	return 0
}

case_nothing_left_behind()
{
	[ -z "$(our_qemus)" ] || fail "qemu processes left: $(our_qemus)"
	[ -z "$(ls -d "$RUN_DIR"/fc-* 2>/dev/null)" ] || fail "run directories left"
	[ -z "$(leftovers)" ] || fail "$(leftovers)"
}

run_case echo_stdout_relayed case_echo_stdout_relayed
run_case exit_code_passes_through case_exit_code_passes_through
run_case stderr_separate case_stderr_separate
run_case command_not_found_127 case_command_not_found_127
run_case large_output_intact case_large_output_intact
run_case timeout_124_qemu_killed case_timeout_124_qemu_killed
run_case memory_and_vcpus_from_limits case_memory_and_vcpus_from_limits
run_case qemu_in_sandbox_cgroup case_qemu_in_sandbox_cgroup
run_case sigterm_forwarded_to_guest_command case_sigterm_forwarded_to_guest_command
run_case network_allowed_and_denied_via_user_mode case_network_allowed_and_denied_via_user_mode
run_case network_none_no_nic case_network_none_no_nic
run_case rlimits_in_guest case_rlimits_in_guest
run_case fs_grant_and_exec_list_refused case_fs_grant_and_exec_list_refused
run_case nothing_left_behind case_nothing_left_behind
finish
