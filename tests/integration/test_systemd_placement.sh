#!/bin/bash
# SPDX-License-Identifier: MIT
# sbx run's cgroup placement on a host where systemd is PID 1
# (user/kernel/systemd.c, docs/architecture.md "cgroups under systemd"),
# the part a host without systemd can show: in a mount namespace of its own
# where /run/systemd/system exists (what sd_booted looks for) and neither
# systemd's private socket nor the system bus is there, sbx believes
# systemd owns its cgroup and cannot ask it for a delegated scope:
#   - strict: refused (125) with the reason, the workload never runs;
#   - best-effort: runs, with a warning and "cgroup placement: ..." in the
#     result's degraded list;
#   - $SBX_CGROUP_ROOT given: nothing is asked of systemd, strict runs.
# The scope itself (created, joined, limits enforced in it, gone after the
# run) needs systemd as PID 1: tests/vm/test_systemd.sh.
. "$(dirname "$0")/lib.sh"

POL=$T_TMP/p.toml
cat >"$POL" <<EOF2
version = 1
[profile.strict]
provider = "host"
min_isolation = "none"
[profile.strict.fs]
mode = "full"
[profile.lax]
provider = "host"
min_isolation = "none"
enforcement = "best-effort"
[profile.lax.fs]
mode = "full"
EOF2

if [ -z "$SBX_TEST_SKIP" ] && [ -d /run/systemd/system ]; then
	SBX_TEST_SKIP="systemd is PID 1 here: the scope would be had (tests/vm/test_systemd.sh covers that)"
elif [ -z "$SBX_TEST_SKIP" ] && ! command -v unshare >/dev/null; then
	SBX_TEST_SKIP="unshare (util-linux) is not installed"
fi

# as_systemd_host NAME ARGS...: sbx_run in a private mount namespace with
# tmpfs on /run/systemd (holding an empty system/) and on /run/dbus; the
# host's own /run is untouched. Both directories must exist to be mounted
# over: a Debian host has them even without systemd as PID 1; a host
# without them skips.
as_systemd_host()
{
	local name=$1
	shift
	rm -f "$T_TMP/$name".{result,out,err}
	unshare -m --propagation private -- sh -c '
		mount -t tmpfs -o mode=755 sbxtest /run/systemd && mkdir /run/systemd/system &&
			mount -t tmpfs -o mode=755 sbxtest /run/dbus || exit 99
		exec "$@"' sh \
		"$SBX" run --result "$T_TMP/$name.result" "$@" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
	RC=$?
	[ $RC = 99 ] && skip "cannot mount tmpfs on /run/systemd and /run/dbus in a mount namespace"
	return 0
}

REASON="systemd is PID 1 but no delegated scope could be had (connect to systemd over D-Bus: No such file or directory): cgroup limits cannot be enabled in a cgroup systemd owns, and systemd may remove sbx's cgroups"

case_strict_refused_without_scope()
{
	[ -d /run/systemd ] && [ -d /run/dbus ] || skip "this host has no /run/systemd or /run/dbus to mount over"
	as_systemd_host s -P "$POL" --profile strict -- touch "$T_TMP/ran-strict"
	expect_rc s 125
	[ -e "$T_TMP/ran-strict" ] && fail "the workload ran"
	grep -qF "sbx: error: $REASON; use enforcement = \"best-effort\"" "$T_TMP/s.err" ||
		fail "message: $(cat "$T_TMP/s.err")"
}

case_best_effort_degraded_without_scope()
{
	[ -d /run/systemd ] && [ -d /run/dbus ] || skip "this host has no /run/systemd or /run/dbus to mount over"
	as_systemd_host l -P "$POL" --profile lax -- touch "$T_TMP/ran-lax"
	expect_rc l 0
	[ -e "$T_TMP/ran-lax" ] || fail "the workload did not run"
	grep -qF "sbx: warning: $REASON" "$T_TMP/l.err" || fail "warning: $(cat "$T_TMP/l.err")"
	eq degraded "$(jq -r --arg r "cgroup placement: $REASON" '[.degraded[] | select(. == $r)] | length' "$T_TMP/l.result")" 1
}

case_cgroup_root_given_asks_nothing()
{
	[ -d /run/systemd ] && [ -d /run/dbus ] || skip "this host has no /run/systemd or /run/dbus to mount over"
	SBX_CGROUP_ROOT=$(cgroup_root) as_systemd_host g -P "$POL" --profile strict -- touch "$T_TMP/ran-given"
	expect_rc g 0
	[ -e "$T_TMP/ran-given" ] || fail "the workload did not run"
	grep -q "systemd" "$T_TMP/g.err" && fail "systemd was asked: $(cat "$T_TMP/g.err")"
	return 0
}

run_case strict_refused_without_scope case_strict_refused_without_scope
run_case best_effort_degraded_without_scope case_best_effort_degraded_without_scope
run_case cgroup_root_given_asks_nothing case_cgroup_root_given_asks_nothing
finish
