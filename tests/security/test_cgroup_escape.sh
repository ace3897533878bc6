#!/bin/bash
# SPDX-License-Identifier: MIT
# Leaving the sandbox's cgroup by clone3(CLONE_INTO_CGROUP) (issue 20, the
# last attack sweep). The kernel lets a process start a child in any cgroup2
# directory it can open, checking only that the caller may write the
# target's and the common ancestor's cgroup.procs by owner and mode: no mount
# flag (the process provider's read-only /sys did not stop it), no Landlock
# right (the host provider's root protection did not), and the cgroup
# namespace only where cgroup2 is mounted with nsdelegate (not here). uid 0
# owns every cgroup.procs, so a root workload started a child in the
# hierarchy's root, where no program of sbx's applies: the connect its
# profile denies went through. Before the fix:
#   host, user = "root", fs read-only (strict):               into_cgroup ok, connect ok
#   process, user = "root", fs read-write, allow = ["clone3"]: into_cgroup ok, connect ok
# The cgroup guard (kernel/seccomp.h) refuses clone3 with ENOSYS for every
# host and process workload whatever seccomp.allow says; libc falls back to
# clone, which has no cgroup argument. Each case also checks that threads
# still start and that the denied connect leaves its net.connect event.
. "$(dirname "$0")/../integration/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
SRC=$(cd "$(dirname "$0")" && pwd)
INTOCG=$OUTPUT/tests/security/intocg
PORT=""

cg_setup()
{
	mkdir -p "$(dirname "$INTOCG")" || return 1
	[ "$INTOCG" -nt "$SRC/intocg.c" ] ||
		gcc -std=gnu11 -O2 -Wall -Wextra -o "$INTOCG" "$SRC/intocg.c" || return 1
	start_listener PORT 127.0.0.1
}

# The root of the cgroup2 hierarchy: outside every sandbox.
cg2_root()
{
	awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo
}

SBX_TEST_SKIP=${SBX_TEST_SKIP:-$([ -n "$(cg2_root)" ] || echo "no cgroup2 mount")}

# cpol PROVIDER FS-MODE [PROFILE-KEYS] [TRAILING-TABLES]: every connection
# denied, strict.
cpol()
{
	local iso=process
	[ "$1" = host ] && iso=none
	cat >"$T_TMP/policy.toml" <<EOT
version = 1
[profile.t]
provider = "$1"
min_isolation = "$iso"
enforcement = "strict"
pids = 64
memory = "256M"
$3
[profile.t.network]
mode = "allow"
allow = []
[profile.t.fs]
mode = "$2"
$4
EOT
	"$SBX" policy check "$T_TMP/policy.toml" >"$T_TMP/check.out" 2>&1 ||
		fail "policy check refuses the profile: $(cat "$T_TMP/check.out")"
}

# escape NAME: clone3 into the hierarchy's root, then the denied connect from
# there; a thread must still start.
escape()
{
	local name=$1
	sbx_run "$name" -P "$T_TMP/policy.toml" --profile t -- sh -c \
		"'$INTOCG' '$(cg2_root)' /bin/sh -c 'printf \"escaped \"; \"$NETTOOL\" connect 127.0.0.1 $PORT'; \
		 printf 'connect '; '$NETTOOL' connect 127.0.0.1 $PORT; \
		 python3 -c 'import threading; t = threading.Thread(target=print, args=(\"thread ok\",)); t.start(); t.join()'"
	expect_rc "$name" 0
	expect "$name" into_cgroup ENOSYS
	grep -q '^escaped ' "$T_TMP/$name.out" && fail "$name: a child left the cgroup: $(cat "$T_TMP/$name.out")"
	expect "$name" connect EPERM
	expect "$name" thread ok
	eq "$name: net.connect deny events" \
		"$(ja "$name" "[.[] | select(.event == \"net.connect\" and .verdict == \"deny\" and .port == $PORT)] | length")" 1
}

case_host_root()
{
	"$SBX" features 2>/dev/null | grep -q "^landlock  *yes" || skip "Landlock is not active"
	cpol host read-only 'user = "root"'
	escape hr
}

case_host_root_allow_clone3()
{
	"$SBX" features 2>/dev/null | grep -q "^landlock  *yes" || skip "Landlock is not active"
	cpol host read-only 'user = "root"' '[profile.t.seccomp]
allow = ["clone3"]'
	escape hra
}

case_host_default()
{
	cpol host read-only
	escape hd
}

case_process_root_allow_clone3()
{
	cpol process read-write 'user = "root"' '[profile.t.seccomp]
allow = ["clone3"]'
	escape pra
}

case_process_root_full()
{
	cpol process full 'user = "root"'
	escape pfull
}

setup cg_setup
run_case host_root case_host_root
run_case host_root_allow_clone3 case_host_root_allow_clone3
run_case host_default case_host_default
run_case process_root_allow_clone3 case_process_root_allow_clone3
run_case process_root_full case_process_root_full
finish
