#!/bin/bash
# SPDX-License-Identifier: MIT
# cpus (cpuset pinning) and cpu_weight (docs/limits.md): the workload's
# Cpus_allowed_list, read from /proc/self/status inside the sandbox, is the
# profile's set under the host and process providers; sched_setaffinity to a
# CPU outside it fails with EINVAL; a CPU that is not online is refused with
# its number; cpu_weight is in the cgroup's cpu.weight (cpu.shares on v1), and
# two sandboxes pinned to one CPU share it as their weights say.
. "$(dirname "$0")/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
ONLINE=$(cat /sys/devices/system/cpu/online)
# the last CPU online, and another one (or none)
LAST=$(echo "$ONLINE" | tr ',' '\n' | tail -1 | sed 's/.*-//')
OTHER=$(echo "$ONLINE" | sed 's/[-,].*//')
[ "$OTHER" = "$LAST" ] && OTHER=

# cpol PROVIDER EXTRA-KEYS: profile t of that provider.
cpol()
{
	local iso=process fs=none
	[ "$1" = host ] && iso=none fs=read-only
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.t]
provider = "$1"
min_isolation = "$iso"
$2
[profile.t.network]
mode = "none"
[profile.t.fs]
mode = "$fs"
EOF
}

# The workload: its allowed CPUs, then an attempt to move to another CPU.
AFFINITY='import os, sys
print("allowed", open("/proc/self/status").read().split("Cpus_allowed_list:")[1].split()[0])
try:
    os.sched_setaffinity(0, {int(sys.argv[1])})
    print("widen ok", sorted(os.sched_getaffinity(0)))
except OSError as e:
    print("widen", os.strerror(e.errno))
print("now", sorted(os.sched_getaffinity(0)))'

pinned_case()
{
	[ -n "$OTHER" ] || skip "one CPU online ($ONLINE): nothing to pin away from"
	command -v python3 >/dev/null || skip "python3 is not installed"
	cpol "$1" "cpus = \"$LAST\""
	sbx_run r -P "$T_TMP/policy.toml" --profile t -- python3 -c "$AFFINITY" "$OTHER"
	expect_rc r 0
	eq "Cpus_allowed_list inside" "$(awk '$1 == "allowed" { print $2 }' "$T_TMP/r.out")" "$LAST"
	eq "sched_setaffinity to CPU $OTHER" "$(awk '$1 == "widen" { $1 = ""; print substr($0, 2) }' \
		"$T_TMP/r.out")" "Invalid argument"
	eq "affinity after the attempt" "$(awk '$1 == "now" { print $2 }' "$T_TMP/r.out")" "[$LAST]"
	eq "result cpus" "$(jr r .cpus)" "$LAST"
	eq "result cpu_weight" "$(jr r .cpu_weight)" null
}

case_process_cpus_pinned() { pinned_case process; }
case_host_cpus_pinned() { pinned_case host; }

# gVisor: the sentry's threads are in the cgroup and pinned; the workload
# sees a virtual CPU per CPU of the set, numbered from 0, and its
# /proc/self/status has no Cpus_allowed_list (docs/limits.md).
case_gvisor_cpus_pinned()
{
	local procs
	[ -n "$OTHER" ] || skip "one CPU online ($ONLINE): nothing to pin away from"
	command -v runsc >/dev/null || skip "runsc not installed (apt-get install runsc)"
	cpol gvisor "cpus = \"$LAST\""
	sed -i 's/^min_isolation = .*/min_isolation = "gvisor"/' "$T_TMP/policy.toml"
	sbx_run_within 120 r -P "$T_TMP/policy.toml" --profile t -- sh -c 'nproc; sleep 2' &
	sleep 1.5
	procs=$(cat "$(cgroup_file cgroup.procs)" 2>/dev/null)
	[ -n "$procs" ] || { wait; fail "no process in the sandbox's cgroup while it ran"; }
	for p in $procs; do
		eq "host pid $p's Cpus_allowed_list" \
			"$(awk '$1 == "Cpus_allowed_list:" { print $2 }' /proc/$p/status 2>/dev/null || echo "$LAST")" "$LAST"
	done
	wait
	eq "exit code (sbx: $(tail -c 300 "$T_TMP/r.err"))" "$(jr r .exit_code)" 0
	eq "nproc inside gVisor" "$(cat "$T_TMP/r.out")" 1
}

case_cpus_not_online()
{
	cpol process 'cpus = "0,1023"'
	sbx_run r -P "$T_TMP/policy.toml" --profile t -- true
	expect_rc r 125
	grep -q "cpus: CPU 1023 is not online (the CPUs online are $ONLINE" "$T_TMP/r.err" ||
		fail "error does not name CPU 1023: $(cat "$T_TMP/r.err")"
}

# cgroup_file NAME: the file of the running sandbox of this instance, on
# cgroup2 or in a v1 hierarchy.
cgroup_file()
{
	find /sys/fs/cgroup -path "*/$SBX_INSTANCE/sbx-*" -name "$1" 2>/dev/null | head -1
}

case_cpu_weight_file()
{
	local f want i
	cpol process 'cpu_weight = 300'
	sbx_run_within 30 r -P "$T_TMP/policy.toml" --profile t -- sleep 3 &
	for i in $(seq 100); do
		f=$(cgroup_file cpu.weight)
		want=300
		if [ -z "$f" ]; then
			f=$(cgroup_file cpu.shares)
			want=3072	# 300 * 1024 / 100
		fi
		[ -n "$f" ] && break
		sleep 0.05
	done
	[ -n "$f" ] || { wait; fail "no cpu.weight or cpu.shares of the sandbox under $SBX_INSTANCE"; }
	eq "$f" "$(cat "$f")" "$want"
	wait
	eq "result cpu_weight" "$(jr r .cpu_weight)" 300
	eq "result cpus" "$(jr r .cpus)" null
}

# Two sandboxes pinned to one CPU, weights 100 and 300, spin over the same
# 3 s window (a CLOCK_MONOTONIC deadline both read from a shared file):
# their CPU time (each workload's own, time.process_time) is in the ratio
# 1:3, within 25%.
SPIN='import time, sys
start = float(open(sys.argv[1]).read())
while time.monotonic() < start: time.sleep(0.01)
c0 = time.process_time()
while time.monotonic() < start + 3: pass
print("cpu_ms", int((time.process_time() - c0) * 1000))'

case_cpu_weight_ratio()
{
	local a b
	command -v python3 >/dev/null || skip "python3 is not installed"
	mkdir -p "$T_TMP/gate" && chmod 755 "$T_TMP/gate"
	python3 -c 'import time; print(time.monotonic() + 2)' >"$T_TMP/gate/start"
	for w in 100 300; do
		cat >"$T_TMP/w$w.toml" <<EOF
version = 1
[profile.t]
provider = "process"
cpus = "$LAST"
cpu_weight = $w
[profile.t.network]
mode = "none"
[profile.t.fs]
mode = "none"
rules = [{ path = "$T_TMP/gate/", access = "r" }]
EOF
		sbx_run_within 60 w$w -P "$T_TMP/w$w.toml" --profile t -- \
			python3 -c "$SPIN" "$T_TMP/gate/start" &
	done
	wait
	a=$(awk '$1 == "cpu_ms" { print $2 }' "$T_TMP/w100.out")
	b=$(awk '$1 == "cpu_ms" { print $2 }' "$T_TMP/w300.out")
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -gt 0 ] ||
		fail "no CPU time: w100 '$a' ($(tail -c 200 "$T_TMP/w100.err")), w300 '$b'"
	echo "cpu_ms weight 100: $a, weight 300: $b"
	awk -v a="$a" -v b="$b" 'BEGIN { r = b / a; exit !(r >= 2.25 && r <= 3.75) }' ||
		fail "CPU time ratio $b/$a, expected 3 within 25%"
}

setup true
run_case process_cpus_pinned case_process_cpus_pinned
run_case host_cpus_pinned case_host_cpus_pinned
run_case gvisor_cpus_pinned case_gvisor_cpus_pinned
run_case cpus_not_online case_cpus_not_online
run_case cpu_weight_file case_cpu_weight_file
run_case cpu_weight_ratio case_cpu_weight_ratio
finish
