#!/bin/bash
# SPDX-License-Identifier: MIT
# Attack pass on the audit rate limits (issue 20, item 10; docs/audit.md 5a)
# with file denials (Landlock, reported at syscall exit), which test_audit_flood
# does not flood:
#   - two processes flooding at once on both CPUs (the buckets are updated
#     lock-free from every CPU) get no more than burst + rate x seconds
#     denials into the log, and every denial is accounted for: written,
#     suppressed (audit.suppressed, whose counts add up to the exit's) or
#     dropped (the result's audit.dropped, seen as sequence gaps);
#   - the longest lines a workload can make (a comm and a path of control
#     characters and invalid UTF-8) stay under the documented bound L and are
#     valid JSON;
#   - a workload that fills the disk of the audit log (a writable grant on
#     its filesystem) does not make its denials vanish uncounted: every line
#     the log did not take is in the result's audit.unwritten, and a line cut
#     short does not swallow the next one;
#   - a burst of file denials larger than the ring holds is not lost
#     silently: dropped = sequence gaps, and the suppressed counts still add
#     up; the default audit_deny_burst (500) fits the default 256 KiB ring,
#     so with the defaults nothing of a burst is dropped.
. "$(dirname "$0")/../integration/lib.sh"

PY=/usr/bin/python3
SECS=3
DRATE=100 DBURST=200

bpol()
{
	cat >"$T_TMP/policy.toml" <<EOP
version = 1
[profile.b]
provider = "process"
min_isolation = "process"
enforcement = "best-effort"
$1
[profile.b.fs]
mode = "read-only"
rules = [{ path = "/usr/share/", access = "deny" }]
EOP
}

# argv: PROCS SECS [COUNT]: PROCS processes, each refused open()s of a long
# path of control characters and invalid UTF-8 under a comm of control
# characters for SECS seconds (or COUNT opens); each prints "made N".
py_flood='import ctypes, os, sys, time
libc = ctypes.CDLL(None)
libc.prctl(15, bytes(range(1, 16)), 0, 0, 0)
procs, secs = int(sys.argv[1]), float(sys.argv[2])
count = int(sys.argv[3]) if len(sys.argv) > 3 else 0
path = b"/usr/share/" + bytes([0xff]) * 100 + b"/" + bytes(range(1, 32)) * 4
kids = []
for _ in range(procs):
    pid = os.fork()
    if pid == 0:
        made, end = 0, time.time() + secs
        while (count and made < count) or (not count and time.time() < end):
            try:
                os.open(path, os.O_RDONLY)
            except PermissionError:
                made += 1
        print("made", made, flush=True)
        os._exit(0)
    kids.append(pid)
for p in kids:
    os.waitpid(p, 0)'

# accounted NAME: every file denial of run NAME's flood is written, suppressed
# or dropped, and the summaries add up; prints the number written.
accounted()
{
	local made written supp dropped sum
	made=$(awk '$1 == "made" { n += $2 } END { print n + 0 }' "$T_TMP/$1.out")
	[ "$made" -gt 0 ] || fail "$1: no denials made: $(tail -c 300 "$T_TMP/$1.err")"
	written=$(ja "$1" '[.[] | select(.event == "file" and .verdict == "deny" and (.path | startswith("/usr/share/\ufffd")))] | length')
	supp=$(jr "$1" .audit.suppressed.deny)
	dropped=$(jr "$1" .audit.dropped)
	eq "$1: written + suppressed + dropped = denials" "$((written + supp + dropped))" "$made"
	eq "$1: sequence gaps = dropped" "$(jr "$1" .audit.sequence_gaps)" "$dropped"
	sum=$(ja "$1" '[.[] | select(.event == "audit.suppressed") | .deny] | add // 0')
	eq "$1: sum of audit.suppressed.deny" "$sum" "$supp"
	eq "$1: sandbox.exit suppressed.deny" \
		"$(ja "$1" '[.[] | select(.event == "sandbox.exit")][0].suppressed.deny')" "$supp"
	echo "$written" >"$T_TMP/$1.written"
}

case_two_cpu_file_flood_bounded()
{
	local written secs
	[ "$(nproc)" -ge 2 ] || skip "one CPU: no concurrent bucket updates"
	bpol "audit_deny_rate = $DRATE
audit_deny_burst = $DBURST"
	sbx_run f -P "$T_TMP/policy.toml" --profile b -- "$PY" -c "$py_flood" 2 $SECS
	expect_rc f 0
	accounted f
	written=$(cat "$T_TMP/f.written")
	secs=$(($(ja f '(.[-1].time | sub("\\.[0-9]+Z$"; "Z") | fromdate) - (.[0].time | sub("\\.[0-9]+Z$"; "Z") | fromdate)') + 1))
	[ "$written" -le $((DBURST + DRATE * secs)) ] ||
		fail "f: $written file denials in ${secs}s (bound $DBURST + $DRATE/s)"
	[ "$written" -ge "$DBURST" ] || fail "f: only $written file denials written"
	[ "$(jr f .audit.suppressed.deny)" -gt 0 ] || fail "f: nothing suppressed"
	[ "$(ja f '[.[] | select(.event == "audit.suppressed")] | length')" -ge $((SECS - 1)) ] ||
		fail "f: fewer than $((SECS - 1)) audit.suppressed events in a ${SECS}s flood"
	return 0
}

case_longest_lines_within_bound()
{
	local max bound
	bpol "audit_deny_burst = 50"
	sbx_run l -P "$T_TMP/policy.toml" --profile b -- "$PY" -c "$py_flood" 1 0 50
	expect_rc l 0
	accounted l
	jq -e . "$T_TMP/l.audit" >/dev/null || fail "l: the log is not valid JSON lines"
	eq "l: comm" "$(ja l '[.[] | select(.event == "file")][-1].comm' | od -An -tx1 | tr -d ' \n')" \
		"0102030405060708090a0b0c0d0e0f0a"
	max=$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$T_TMP/l.audit")
	bound=$((4096 + 6 * ${#T_TMP} + 6 * 12))
	[ "$max" -le "$bound" ] || fail "l: a line of $max bytes (bound $bound)"
	[ "$max" -ge 1000 ] || fail "l: the longest line is only $max bytes: the path was not written"
	return 0
}

# Defaults (audit_deny_burst 500): a burst of 3000 file denials at once.
case_default_burst_overflow_not_silent()
{
	bpol ""
	sbx_run d -P "$T_TMP/policy.toml" --profile b -- "$PY" -c "$py_flood" 1 0 3000
	expect_rc d 0
	accounted d
	[ "$(jr d .audit.suppressed.deny)" -ge 2000 ] || fail "d: only $(jr d .audit.suppressed.deny) suppressed"
	# the default burst fits the default ring: nothing of it was dropped
	eq "d: dropped with the default burst" "$(jr d .audit.dropped)" 0
	return 0
}

# complete_lines FILE: lines of FILE that are one event each (audit.dropped,
# sbx run's report of what was lost, is not an event of the ring).
complete_lines()
{
	"$PY" -c 'import json, sys
n = 0
for l in open(sys.argv[1], "rb"):
    try:
        n += json.loads(l).get("event") != "audit.dropped"
    except ValueError:
        pass
print(n)' "$1"
}

case_full_log_disk_counted()
{
	local small="$T_TMP/small" log made events unwritten ok
	mkdir "$small" && mount -t tmpfs -o size=256k,mode=1777 sbxtest "$small" || skip "cannot mount a tmpfs"
	T_CASE_RESTORE="umount '$small'"
	cat >"$T_TMP/policy.toml" <<EOP
version = 1
[profile.b]
provider = "process"
min_isolation = "process"
enforcement = "best-effort"
[profile.b.fs]
mode = "read-only"
rules = [{ path = "/usr/share/", access = "deny" }, { path = "$small/", access = "rw" }]
EOP
	SBX_LOG_DIR="$small/log" sbx_run u -P "$T_TMP/policy.toml" --profile b -- sh -c \
		"dd if=/dev/zero of=$small/fill bs=1k count=1000 2>/dev/null; dd if=/dev/zero of=$small/fill2 bs=1 count=8192 2>/dev/null
		 sleep 0.3; for i in \$(seq 60); do cat /usr/share/secret-\$i 2>/dev/null; done; sleep 0.5; rm -f $small/fill*"
	expect_rc u 0
	log=$(ls "$small"/log/*.jsonl 2>/dev/null | head -1)
	[ -n "$log" ] || fail "u: no instance log in $small/log"
	events=$(jr u .audit.events)
	unwritten=$(jr u .audit.unwritten)
	ok=$(complete_lines "$log")
	eq "u: denials in the --audit file (another disk)" \
		"$(ja u '[.[] | select(.event == "file" and (.path | startswith("/usr/share/secret-")))] | length')" 60
	[ "$unwritten" -gt 0 ] 2>/dev/null || fail "u: audit.unwritten is '$unwritten' with $ok of $events lines in the full log"
	eq "u: complete lines + unwritten = events" "$((ok + unwritten))" "$events"
	eq "u: lines holding two events" "$(grep -c '"time".*"time"' "$log")" 0
	# and the loss was reported, in the log once there was room again
	eq "u: audit.dropped sink_total" "$(jq -rs '[.[] | select(.event == "audit.dropped")][-1].sink_total' "$log" 2>/dev/null)" "$unwritten"
	return 0
}

run_case two_cpu_file_flood_bounded case_two_cpu_file_flood_bounded
run_case longest_lines_within_bound case_longest_lines_within_bound
run_case default_burst_overflow_not_silent case_default_burst_overflow_not_silent
run_case full_log_disk_counted case_full_log_disk_counted
finish
