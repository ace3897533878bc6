#!/bin/bash
# SPDX-License-Identifier: MIT
# Every sandbox has a host uid of its own (issue 20, item 19). Sandboxes that
# shared nobody (65534) shared every per-user kernel limit: one of them could
# use up inotify instances, RLIMIT_NPROC, pipe pages, user namespaces or
# message queue bytes for all the others and for the host's own nobody.
#   - two sandboxes running at once, of two sbx instances and of the host and
#     process providers, get different uids, inside and in the host's view,
#     both from the sandbox uid range, and sandbox.start names it;
#   - a sandbox that takes every inotify instance its uid may have, or runs
#     more processes than another's RLIMIT_NPROC, stops neither another
#     sandbox nor the host's nobody;
#   - the uid's lease is gone when the sandbox ends, also when sbx is killed
#     (its watchdog kills the sandbox first), and stays while an orphan of
#     the sandbox still runs (no second sandbox gets that uid), until the
#     next sbx of the instance kills the orphan;
#   - user = "nobody" written in the profile is the host's nobody;
#   - a SBX_UID_RANGE that holds an account, or that is malformed, is refused.
. "$(dirname "$0")/../integration/lib.sh"

PY=/usr/bin/python3
LEASES=/run/sbx-uids
INST2="${SBX_INSTANCE:0:44}-two"

_uid_cleanup()
{
	SBX_INSTANCE=$INST2 "$SBX" unload >/dev/null 2>&1
	[ -e "/sys/fs/bpf/$INST2" ] || rm -rf "/run/$INST2"
	_cleanup
}
trap _uid_cleanup EXIT

# upol PROVIDER [PROFILE-KEYS]: $T_TMP/policy.toml, profile t.
upol()
{
	local iso=process fs='mode = "read-only"'
	[ "$1" = host ] && iso=none && fs='mode = "full"'
	cat >"$T_TMP/policy.toml" <<EOP
version = 1
[profile.t]
provider = "$1"
min_isolation = "$iso"
enforcement = "strict"
pids = 64
$2
[profile.t.fs]
$fs
EOP
}

# uid_of FILE: the real uid in a copy of /proc/self/status's Uid: line.
uid_of()
{
	awk '/^Uid:/ { print $2; exit }' "$1"
}

wait_line()
{
	for _ in $(seq 500); do
		[ -s "$1" ] && return 0
		sleep 0.02
	done
	return 1
}

# in_range UID: inside the default sandbox uid range (core/uidpool.h).
in_range()
{
	[ "$1" -ge 2080374784 ] 2>/dev/null && [ "$1" -le 2080440319 ]
}

# host_uid PATTERN: the uid of the host process whose command line is PATTERN.
host_uid()
{
	local pid
	pid=$(pgrep -xf "$1" | head -1)
	[ -n "$pid" ] && awk '/^Uid:/ { print $2 }' "/proc/$pid/status"
}

case_concurrent_sandboxes_get_different_uids()
{
	local a b ha hb
	upol host
	cp "$T_TMP/policy.toml" "$T_TMP/host.toml"
	bg "$SBX" run -P "$T_TMP/host.toml" --profile t -- \
		sh -c 'grep ^Uid: /proc/self/status; exec sleep 7.1' >"$T_TMP/a.out" 2>"$T_TMP/a.err"
	upol process
	SBX_INSTANCE=$INST2 bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- \
		sh -c 'grep ^Uid: /proc/self/status; exec sleep 7.2' >"$T_TMP/b.out" 2>"$T_TMP/b.err"
	wait_line "$T_TMP/a.out" || fail "host sandbox: $(cat "$T_TMP/a.err")"
	wait_line "$T_TMP/b.out" || fail "process sandbox (instance $INST2): $(cat "$T_TMP/b.err")"
	a=$(uid_of "$T_TMP/a.out")
	b=$(uid_of "$T_TMP/b.out")
	[ "$a" != "$b" ] || fail "both sandboxes run as uid $a"
	in_range "$a" || fail "host sandbox's uid $a is not from the sandbox uid range"
	in_range "$b" || fail "process sandbox's uid $b is not from the sandbox uid range"
	ha=$(host_uid "sleep 7.1")
	hb=$(host_uid "sleep 7.2")
	eq "host's view of the host sandbox" "$ha" "$a"
	eq "host's view of the process sandbox" "$hb" "$b"
	[ -e "$LEASES/$a" ] && [ -e "$LEASES/$b" ] || fail "no lease for $a or $b in $LEASES"
	grep -q "^instance=$INST2$" "$LEASES/$b" || fail "the lease of $b does not name $INST2"
	return 0
}

case_start_event_names_the_uid()
{
	local u
	upol host
	sbx_run r -P "$T_TMP/policy.toml" --profile t -- sh -c 'grep ^Uid: /proc/self/status'
	expect_rc r 0
	u=$(uid_of "$T_TMP/r.out")
	in_range "$u" || fail "uid $u is not from the sandbox uid range"
	eq "sandbox.start uid" "$(ja r '.[] | select(.event == "sandbox.start") | .uid')" "$u"
	# the pool is host-wide: another instance's sandbox may lease the freed
	# uid at once; this instance's lease must be gone
	grep -qs "^instance=$SBX_INSTANCE$" "$LEASES/$u" && fail "the lease of $u is left after the sandbox ended"
	return 0
}

# The process provider: the workload's own files in its /tmp, /dev/null, and
# a HOME it can use.
case_process_workload_uses_its_tmp_and_dev()
{
	upol process
	sbx_run p -P "$T_TMP/policy.toml" --profile t -- \
		sh -c 'echo x >/tmp/f && stat -c %u /tmp/f && echo y >/dev/null && echo $HOME && id -u'
	expect_rc p 0
	in_range "$(sed -n 3p "$T_TMP/p.out")" || fail "uid $(sed -n 3p "$T_TMP/p.out") is not from the range"
	eq "owner of /tmp/f" "$(sed -n 1p "$T_TMP/p.out")" "$(sed -n 3p "$T_TMP/p.out")"
	eq "HOME" "$(sed -n 2p "$T_TMP/p.out")" /tmp
	return 0
}

py_inotify='import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
fds = []
while len(fds) < int(sys.argv[1]):
    fd = libc.inotify_init1(0)
    if fd < 0:
        break
    fds.append(fd)
print(len(fds), ctypes.get_errno(), flush=True)
time.sleep(float(sys.argv[2]))'

# nobody_inotify: ok when the host's nobody can make an inotify instance,
# else the errno of inotify_init1.
nobody_inotify()
{
	setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" -c "$py_inotify" 1 0 |
		awk '{ print ($1 == 1 ? "ok" : "errno " $2) }'
}

case_inotify_exhaustion_stays_in_one_sandbox()
{
	local max n got
	[ -x "$PY" ] || skip "no $PY"
	max=$(cat /proc/sys/fs/inotify/max_user_instances)
	[ "$max" -le 4096 ] || skip "fs.inotify.max_user_instances is $max: too many to use up"
	got=$(nobody_inotify)
	[ "$got" = ok ] || skip "the host's nobody cannot make an inotify instance even before: $got"
	upol host "nofile = $((max + 64))"
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- "$PY" -c "$py_inotify" $((max + 8)) 20 \
		>"$T_TMP/hog.out" 2>"$T_TMP/hog.err"
	wait_line "$T_TMP/hog.out" || fail "the hog did not start: $(cat "$T_TMP/hog.err")"
	read -r n _ <"$T_TMP/hog.out"
	[ "$n" -le "$max" ] || fail "the hog made $n inotify instances, more than the limit $max"
	[ "$n" -ge $((max - 8)) ] || fail "the hog made only $n of $max inotify instances"
	sbx_run other -P "$T_TMP/policy.toml" --profile t -- "$PY" -c "$py_inotify" 1 0
	expect_rc other 0
	eq "another sandbox's inotify instance" \
		"$(awk '{ print ($1 == 1 ? "ok" : "errno " $2) }' "$T_TMP/other.out")" ok
	eq "the host's nobody's inotify instance" "$(nobody_inotify)" ok
	return 0
}

case_nproc_exhaustion_stays_in_one_sandbox()
{
	local got
	upol host
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- \
		sh -c 'for i in $(seq 30); do sleep 20 & done; echo ready; wait' >"$T_TMP/hog.out" 2>"$T_TMP/hog.err"
	wait_line "$T_TMP/hog.out" || fail "the hog did not start: $(cat "$T_TMP/hog.err")"
	# a workload that keeps itself to 20 processes of its uid forks (/bin/true
	# is not the last command, so bash forks for it)
	sbx_run other -P "$T_TMP/policy.toml" --profile t -- bash -c 'ulimit -u 20 && /bin/true && echo forked'
	eq "another sandbox's fork under RLIMIT_NPROC 20" "$(cat "$T_TMP/other.out")" forked
	got=$(setpriv --reuid=65534 --regid=65534 --clear-groups bash -c 'ulimit -u 20 && /bin/true && echo forked' 2>&1)
	eq "the host's nobody's fork under RLIMIT_NPROC 20" "$got" forked
	return 0
}

# start_orphan NAME: a host sandbox whose workload leaves a child (sleep
# 1000); sets U (its uid) and PID (sbx's pid).
start_orphan()
{
	upol host
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- \
		sh -c 'sleep 1000 & grep ^Uid: /proc/self/status; exec sleep 999' >"$T_TMP/$1.out" 2>"$T_TMP/$1.err"
	PID=$BG_PID
	wait_line "$T_TMP/$1.out" || fail "no sandbox: $(cat "$T_TMP/$1.err")"
	U=$(uid_of "$T_TMP/$1.out")
	in_range "$U" || fail "uid $U is not from the sandbox uid range"
	eq "the workload's uid in the host's view" "$(host_uid "sleep 1000")" "$U"
}

# A killed sbx's watchdog kills its sandbox, then gives the uid back.
case_killed_sbx_uid_released_by_watchdog()
{
	start_orphan k
	kill -KILL "$PID"
	wait "$PID" 2>/dev/null
	for _ in $(seq 250); do
		[ -e "$LEASES/$U" ] || break
		sleep 0.02
	done
	[ -e "$LEASES/$U" ] && fail "the lease of $U is left after the watchdog killed the sandbox"
	[ -n "$(pgrep -xf "sleep 1000" -U "$U")" ] && fail "the workload's child survived"
	return 0
}

# sbx and its watchdog killed: the workload's child lives on in the cgroup,
# and so does the lease: no sandbox (of any instance) gets that uid until the
# instance's next sbx kills the orphaned cgroup.
case_orphan_keeps_its_uid_until_reaped()
{
	local v wd
	start_orphan o
	wd=$(pgrep -P "$PID" -x sbx)
	[ -n "$wd" ] || fail "no watchdog process below sbx $PID"
	kill -KILL $wd "$PID"
	wait "$PID" 2>/dev/null
	eq "the orphan's uid in the host's view" "$(host_uid "sleep 1000")" "$U"
	[ -e "$LEASES/$U" ] || fail "the lease of $U went with the killed sbx, its workload still runs"
	SBX_INSTANCE=$INST2 sbx_run two -P "$T_TMP/policy.toml" --profile t -- sh -c 'grep ^Uid: /proc/self/status'
	expect_rc two 0
	v=$(uid_of "$T_TMP/two.out")
	[ "$v" != "$U" ] || fail "another instance's sandbox got uid $U while the orphan of that uid runs"
	# the instance's next sbx reclaims the dead manager's slot: kill, then free the uid
	sbx_run next -P "$T_TMP/policy.toml" --profile t -- true
	expect_rc next 0
	[ -n "$(pgrep -xf "sleep 1000" -U "$U")" ] && fail "the orphan of uid $U survived the reclaim"
	[ -e "$LEASES/$U" ] && fail "the lease of $U is left after its sandbox was reclaimed"
	return 0
}

case_explicit_nobody_is_the_hosts_nobody()
{
	upol host 'user = "nobody"'
	sbx_run n -P "$T_TMP/policy.toml" --profile t -- id -u
	expect_rc n 0
	eq "uid" "$(cat "$T_TMP/n.out")" 65534
	return 0
}

case_range_with_an_account_is_refused()
{
	local who
	who=$(awk -F: '$3 > 0 && $3 < 1000 { print $1 ":" $3; exit }' /etc/passwd)
	[ -n "$who" ] || skip "no system account in /etc/passwd"
	upol host
	SBX_UID_RANGE="${who#*:}-${who#*:}" sbx_run bad -P "$T_TMP/policy.toml" --profile t -- true
	expect_rc bad 125
	grep -q "the sandbox uid range ${who#*:}-${who#*:} holds '${who%%:*}' (${who#*:}) of /etc/passwd" "$T_TMP/bad.err" ||
		fail "the refusal does not name ${who%%:*}: $(cat "$T_TMP/bad.err")"
	SBX_UID_RANGE="61000-62000" sbx_run dyn -P "$T_TMP/policy.toml" --profile t -- true
	expect_rc dyn 125
	grep -q "DynamicUser" "$T_TMP/dyn.err" || fail "no DynamicUser refusal: $(cat "$T_TMP/dyn.err")"
	SBX_UID_RANGE="2080374784" sbx_run fmt -P "$T_TMP/policy.toml" --profile t -- true
	expect_rc fmt 125
	grep -q "SBX_UID_RANGE '2080374784' is not FIRST-LAST" "$T_TMP/fmt.err" ||
		fail "no format error: $(cat "$T_TMP/fmt.err")"
	# a range of its own is used
	SBX_UID_RANGE="2090000000-2090000009" sbx_run own -P "$T_TMP/policy.toml" --profile t -- id -u
	expect_rc own 0
	eq "uid from SBX_UID_RANGE" "$(cat "$T_TMP/own.out")" 2090000000
	return 0
}

run_case concurrent_sandboxes_get_different_uids case_concurrent_sandboxes_get_different_uids
run_case start_event_names_the_uid case_start_event_names_the_uid
run_case process_workload_uses_its_tmp_and_dev case_process_workload_uses_its_tmp_and_dev
run_case inotify_exhaustion_stays_in_one_sandbox case_inotify_exhaustion_stays_in_one_sandbox
run_case nproc_exhaustion_stays_in_one_sandbox case_nproc_exhaustion_stays_in_one_sandbox
run_case killed_sbx_uid_released_by_watchdog case_killed_sbx_uid_released_by_watchdog
run_case orphan_keeps_its_uid_until_reaped case_orphan_keeps_its_uid_until_reaped
run_case explicit_nobody_is_the_hosts_nobody case_explicit_nobody_is_the_hosts_nobody
run_case range_with_an_account_is_refused case_range_with_an_account_is_refused
finish
