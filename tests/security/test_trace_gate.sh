#!/bin/bash
# SPDX-License-Identifier: MIT
# sys_enter (bpf/syscalls.bpf.c) runs for every syscall of the host while a
# sandbox needs it, and leaves early: a syscall that is no file syscall, while
# no sandbox observes, goes before the cgroup lookup. What could go wrong: a
# file syscall that the early exit takes for another (a legacy number, a
# relative path, openat2, a call made amid a flood of other syscalls) is not
# recorded, and Landlock's refusal of it goes unaudited; or a sandbox in
# observe mode next to an enforced one switches the other's audit off, or
# loses its own would-denials when the count of observers changes under it.
# Each refusal below must be in the audit trail exactly once.
. "$(dirname "$0")/../integration/lib.sh"

gate_setup()
{
	BACKEND=$("$SBX" features --json | jq -r .fs_backend)
	[ -n "$BACKEND" ] || return 1
	# outside /tmp: the process provider's view replaces /tmp
	V_TMP=$(mktemp -d "${SBX_TEST_VARTMP:-/var/tmp}/sbxtest.gate.XXXXXX") || return 1
	chmod 0755 "$V_TMP"	# lib.sh's cleanup removes it
	mkdir -p "$V_TMP/ok" "$V_TMP/no"
	echo secret >"$V_TMP/no/secret"
	echo fine >"$V_TMP/ok/fine"
	chmod -R a+rX "$V_TMP"
	cat >"$T_TMP/ll.toml" <<EOF
version = 1
[profile.ll]
provider = "host"
min_isolation = "none"
enforcement = "best-effort"
[profile.ll.network]
mode = "none"
[profile.ll.fs]
mode = "none"
rules = [{ path = "/usr/", access = "rx" }, { path = "/etc/", access = "r" },
	 { path = "/dev/null", access = "rw" }, { path = "$V_TMP/ok/", access = "r" }]
[profile.obs]
provider = "process"
[profile.obs.seccomp]
deny = ["chroot"]
EOF
}

# file_denials NAME PATH: the file events of run NAME that refused PATH.
file_denials()
{
	ja "$1" "[.[] | select(.event == \"file\" and .verdict == \"deny\" and .path == \"$2\")] | length"
}

need_landlock()
{
	[ "$BACKEND" = landlock ] || skip "the fs backend here is '$BACKEND' (this checks the Landlock audit)"
}

# 3,000 non-file syscalls (kill -0 is a shell builtin), then refused opens in
# every form the audit records: absolute, relative to the cwd, and through
# the legacy open() (python's os.open uses openat; dd's of= too).
case_refusals_amid_other_syscalls()
{
	need_landlock
	sbx_run ll -P "$T_TMP/ll.toml" --profile ll -- /usr/bin/sh -c "
		i=0; while [ \$i -lt 3000 ]; do i=\$((i + 1)); kill -0 \$\$; done
		cat $V_TMP/ok/fine
		cat $V_TMP/no/secret; echo abs=\$?
		cd $V_TMP && cat no/secret; echo rel=\$?
		i=0; while [ \$i -lt 3000 ]; do i=\$((i + 1)); kill -0 \$\$; done
		(: >$V_TMP/no/new) 2>/dev/null; echo create=\$?" </dev/null
	grep -q '^fine$' "$T_TMP/ll.out" || fail "the granted file was not read: $(cat "$T_TMP/ll.out" "$T_TMP/ll.err")"
	grep -q 'abs=[1-9]' "$T_TMP/ll.out" || fail "the absolute open was not refused"
	grep -q 'rel=[1-9]' "$T_TMP/ll.out" || fail "the relative open was not refused"
	grep -q 'create=[1-9]' "$T_TMP/ll.out" || fail "the create was not refused"
	eq "denials of the absolute path" "$(file_denials ll "$V_TMP/no/secret")" 1
	eq "denials of the relative path" "$(file_denials ll no/secret)" 1
	eq "denials of the create" "$(file_denials ll "$V_TMP/no/new")" 1
	eq "file denials in all" "$(ja ll '[.[] | select(.event == "file" and .verdict == "deny")] | length')" 3
}

# An observed sandbox runs beside an enforced one: the enforced one's
# Landlock refusals are audited as denials while the observer lives and
# after it ended, and the observer reports its would-denial once.
case_observer_beside_enforced()
{
	local pa
	need_landlock
	held_start obs --observe -P "$T_TMP/ll.toml" --profile obs -- \
		sh -c 'chroot / true 2>/dev/null; echo chroot=$?'
	pa=$PID
	sbx_run e1 -P "$T_TMP/ll.toml" --profile ll -- /usr/bin/sh -c "cat $V_TMP/no/secret; echo rc=\$?" </dev/null
	held_go obs
	wait "$pa"
	sbx_run e2 -P "$T_TMP/ll.toml" --profile ll -- /usr/bin/sh -c "cat $V_TMP/no/secret; echo rc=\$?" </dev/null
	grep -q 'rc=[1-9]' "$T_TMP/e1.out" || fail "e1: the open was not refused"
	grep -q 'rc=[1-9]' "$T_TMP/e2.out" || fail "e2: the open was not refused"
	eq "e1 denials (observer running)" "$(file_denials e1 "$V_TMP/no/secret")" 1
	eq "e2 denials (observer gone)" "$(file_denials e2 "$V_TMP/no/secret")" 1
	eq "observer's would-denials of chroot" \
		"$(ja obs '[.[] | select(.event == "syscall.denied" and .syscall == "chroot" and .verdict == "would_deny")] | length')" 1
}

setup gate_setup
run_case refusals_amid_other_syscalls case_refusals_amid_other_syscalls
run_case observer_beside_enforced case_observer_beside_enforced
finish
