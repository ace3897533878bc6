#!/bin/bash
# SPDX-License-Identifier: MIT
# The unikernel provider (providers/unikernel.c) with the PVH test image of
# tests/fixtures/pvh/ (built by `make fixtures` into $OUTPUT/fixtures/pvh.elf):
# qemu boots it under TCG (KVM only where the microvm provider found it
# working); its command line is the argv, its serial console the workload's
# stdout, its isa-debug-exit value the exit code; the timeout kills qemu
# (124); the guest's RAM comes from the memory limit; qemu sits in the
# sandbox cgroup as the sandbox's uid; and the network is qemu's user-mode
# stack or none. The fixture has no network driver, so the traffic itself is
# the microvm test's (test_provider_microvm.sh
# network_allowed_and_denied_via_user_mode): the same qemu -netdev user in
# the same cgroup, whose connect()s the same eBPF programs judge. Here the
# case checks that the NIC is there exactly when the profile allows a network.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
IMG=$OUTPUT/fixtures/pvh.elf
POL=$T_TMP/uk.toml

uk_setup()
{
	[ -r "$IMG" ] || make -s -C "$SRC" OUTPUT="$OUTPUT" fixtures || return 1
	# qemu runs as the sandbox's uid and reads the image: a copy it can read
	chmod 0755 "$T_TMP"
	cp "$IMG" "$T_TMP/pvh.elf" && chmod 0644 "$T_TMP/pvh.elf"
	IMG=$T_TMP/pvh.elf
	cat >"$POL" <<EOF2
version = 1
[profile.uk]
provider = "unikernel"
min_isolation = "unikernel"
memory = "160M"
[profile.uk.network]
mode = "none"

[profile.ukimg]
provider = "unikernel"
[profile.ukimg.unikernel]
image = "$IMG"
machine = "q35"
cmdline = "first-word"

[profile.uknet]
provider = "unikernel"
[profile.uknet.network]
mode = "allow"
allow = ["10.0.2.2:80"]

[profile.ukauto]
min_isolation = "unikernel"
EOF2
}

if ! command -v qemu-system-x86_64 >/dev/null; then
	SBX_TEST_SKIP="qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
elif [ -z "$SBX_TEST_SKIP" ]; then
	uk_setup >"$T_TMP/setup.log" 2>&1 ||
		SBX_TEST_SKIP="the PVH fixture could not be built: $(tail -c 200 "$T_TMP/setup.log" | tr '\n' ' ')"
fi

our_qemus()
{
	pgrep -f "qemu-system-x86_64 .*-kernel $IMG" || true
}

case_args_output_and_exit_code()
{
	sbx_run a -P "$POL" --profile uk -- "$IMG" hello world exit=7
	expect_rc a 7
	grep -qx "argv\[0\]=$IMG" "$T_TMP/a.out" || fail "no argv[0]: $(cat "$T_TMP/a.out")"
	grep -qx 'argv\[1\]=hello' "$T_TMP/a.out" || fail "no argv[1]: $(cat "$T_TMP/a.out")"
	grep -qx 'argv\[2\]=world' "$T_TMP/a.out" || fail "no argv[2]: $(cat "$T_TMP/a.out")"
	grep -qx 'argc=4' "$T_TMP/a.out" || fail "argc: $(cat "$T_TMP/a.out")"
	eq provider "$(jr a .provider)" unikernel
	eq isolation "$(jr a .isolation)" unikernel
	eq exit_code "$(jr a .exit_code)" 7
	sbx_run z -P "$POL" --profile uk -- "$IMG" exit=0
	expect_rc z 0
	sbx_run big -P "$POL" --profile uk -- "$IMG" exit=127
	expect_rc big 127
}

case_profile_image_machine_and_cmdline()
{
	# the image from the profile, q35, the profile's words first
	sbx_run p -P "$POL" --profile ukimg -- app exit=3
	expect_rc p 3
	grep -qx 'argv\[0\]=first-word' "$T_TMP/p.out" || fail "$(cat "$T_TMP/p.out")"
	grep -qx 'argv\[1\]=app' "$T_TMP/p.out" || fail "$(cat "$T_TMP/p.out")"
}

case_timeout_124_qemu_killed()
{
	sbx_run_within 60 t -P "$POL" --profile uk --timeout 2s -- "$IMG" hang
	expect_rc t 124
	eq timed_out "$(jr t .timed_out)" true
	grep -qx 'argv\[1\]=hang' "$T_TMP/t.out" || fail "the guest did not start: $(cat "$T_TMP/t.out")"
	[ -z "$(our_qemus)" ] || fail "qemu left running: $(our_qemus)"
}

case_memory_from_limit()
{
	local kib
	# 160M: qemu keeps 96 MiB, the guest gets 64 MiB (its memory map, less
	# the firmware's holes)
	sbx_run m -P "$POL" --profile uk -- "$IMG"
	expect_rc m 0
	kib=$(sed -n 's/^ram_kib=//p' "$T_TMP/m.out")
	[ "${kib:-0}" -gt 60000 ] && [ "$kib" -le 65536 ] || fail "guest RAM ${kib:-?} KiB, expected about 64 MiB"
	sbx_run m2 -P "$POL" --profile uk --memory 224M -- "$IMG"
	kib=$(sed -n 's/^ram_kib=//p' "$T_TMP/m2.out")
	[ "${kib:-0}" -gt 125000 ] && [ "$kib" -le 131072 ] || fail "guest RAM ${kib:-?} KiB, expected about 128 MiB"
	sbx_run small -P "$POL" --profile uk --memory 64M -- "$IMG"
	expect_rc small 125
	grep -q 'too small for a unikernel' "$T_TMP/small.err" || fail "$(cat "$T_TMP/small.err")"
}

# hang: qemu runs until killed; prints its pid, cgroup and command line
hanging_qemu()
{
	local i
	"$SBX" run -P "$POL" --profile "$1" -- "$IMG" hang >/dev/null 2>&1 &
	bg_pid=$!
	T_CASE_PIDS="$T_CASE_PIDS $bg_pid"
	for i in $(seq 100); do
		pid=$("$SBX" ps --json 2>/dev/null | jq -r '.sandboxes[0].pid // empty')
		cg=$("$SBX" ps --json 2>/dev/null | jq -r '.sandboxes[0].cgroup // empty')
		[ -n "$pid" ] && break
		sleep 0.1
	done
	[ -n "$pid" ] || fail "sbx ps lists no sandbox"
}

case_qemu_in_sandbox_cgroup_as_sandbox_uid()
{
	local uid nnp cap
	hanging_qemu uk
	eq comm "$(cat /proc/"$pid"/comm)" qemu-system-x86
	grep -q "^0::${cg#$(cgroup2_mount)}\$" /proc/"$pid"/cgroup ||
		fail "qemu $pid not in $cg: $(grep '^0::' /proc/"$pid"/cgroup)"
	if ! { [ -e /dev/kvm ] && grep -q '^yes' /run/sbx-microvm-kvm 2>/dev/null; }; then
		uid=$(awk '/^Uid:/ { print $2 }' /proc/"$pid"/status)
		[ "$uid" -ge 2080374784 ] 2>/dev/null && [ "$uid" -le 2080440319 ] ||
			fail "qemu's uid $uid is not from the sandbox uid range"
		nnp=$(awk '/^NoNewPrivs:/ { print $2 }' /proc/"$pid"/status)
		eq no_new_privs "$nnp" 1
		cap=$(awk '/^CapEff:/ { print $2 }' /proc/"$pid"/status)
		eq CapEff "$cap" 0000000000000000
	fi
	kill "$bg_pid"
	wait "$bg_pid" 2>/dev/null || true
}

case_nic_only_when_network_allowed()
{
	hanging_qemu uk
	tr '\0' ' ' </proc/"$pid"/cmdline | grep -q -- '-netdev' && fail "mode none, but qemu has a NIC"
	kill "$bg_pid"
	wait "$bg_pid" 2>/dev/null || true
	hanging_qemu uknet
	tr '\0' ' ' </proc/"$pid"/cmdline | grep -q -- '-netdev user,id=n0' ||
		fail "mode allow, but no user-mode NIC: $(tr '\0' ' ' </proc/"$pid"/cmdline)"
	kill "$bg_pid"
	wait "$bg_pid" 2>/dev/null || true
}

case_not_an_image_refused()
{
	sbx_run n -P "$POL" --profile uk -- /bin/true
	expect_rc n 125
	grep -q 'neither a PVH entry note' "$T_TMP/n.err" || fail "$(cat "$T_TMP/n.err")"
	sbx_run q -P "$POL" --profile uk -- "$IMG" 'two words'
	expect_rc q 125
	grep -q "argument 1 ('two words') holds a blank" "$T_TMP/q.err" || fail "$(cat "$T_TMP/q.err")"
}

case_auto_picks_unikernel_for_an_image()
{
	sbx_run au -P "$POL" --profile ukauto -- "$IMG" exit=4
	expect_rc au 4
	eq provider "$(jr au .provider)" unikernel
}

case_strict_refuses_what_a_unikernel_cannot_do()
{
	cat >"$T_TMP/strict.toml" <<EOF2
version = 1
[profile.s]
provider = "unikernel"
[profile.s.fs]
exec = ["/usr/bin/"]
EOF2
	sbx_run s -P "$T_TMP/strict.toml" -- "$IMG"
	expect_rc s 125
	grep -q "'fs.exec' cannot be enforced by provider 'unikernel'" "$T_TMP/s.err" || fail "$(cat "$T_TMP/s.err")"
}

case_nothing_left_behind()
{
	[ -z "$(our_qemus)" ] || fail "qemu processes left: $(our_qemus)"
	[ -z "$(leftovers)" ] || fail "$(leftovers)"
}

run_case args_output_and_exit_code case_args_output_and_exit_code
run_case profile_image_machine_and_cmdline case_profile_image_machine_and_cmdline
run_case timeout_124_qemu_killed case_timeout_124_qemu_killed
run_case memory_from_limit case_memory_from_limit
run_case qemu_in_sandbox_cgroup_as_sandbox_uid case_qemu_in_sandbox_cgroup_as_sandbox_uid
run_case nic_only_when_network_allowed case_nic_only_when_network_allowed
run_case not_an_image_refused case_not_an_image_refused
run_case auto_picks_unikernel_for_an_image case_auto_picks_unikernel_for_an_image
run_case strict_refuses_what_a_unikernel_cannot_do case_strict_refuses_what_a_unikernel_cannot_do
run_case nothing_left_behind case_nothing_left_behind
finish
