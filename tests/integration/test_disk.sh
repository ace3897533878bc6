#!/bin/bash
# SPDX-License-Identifier: MIT
# disk = "..." (docs/limits.md): under the process provider /tmp and /dev/shm
# are one tmpfs of that size. A workload that writes past it gets ENOSPC, the
# audit log has one limit.disk event with the mount and its size, and the
# result reports the use; writing through /dev/shm, hard links or a rename
# does not escape the quota. What cannot be bounded is refused under strict:
# the host provider, fs mode read-write, a write grant of a host directory.
. "$(dirname "$0")/lib.sh"

MIB=1048576
QUOTA=$((4 * MIB))

dpol()
{
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.t]
provider = "process"
disk = "4M"
$1
[profile.t.network]
mode = "none"
[profile.t.fs]
mode = "${2:-none}"
${3:-}
EOF
}

case_write_past_quota_enospc()
{
	dpol
	# 3 MiB land in /tmp, the next 3 MiB in /tmp stop at the quota
	sbx_run r -P "$T_TMP/policy.toml" --profile t -- sh -c '
		dd if=/dev/zero of=/tmp/a bs=1M count=3 2>/dev/null || echo "first write failed"
		dd if=/dev/zero of=/tmp/b bs=1M count=3 2>&1 | grep -o "No space left on device"
		echo "sizes $(stat -c %s /tmp/a) $(stat -c %s /tmp/b)"'
	expect_rc r 0
	eq "second write" "$(sed -n 1p "$T_TMP/r.out")" "No space left on device"
	eq "file sizes" "$(sed -n 2p "$T_TMP/r.out")" "sizes $((3 * MIB)) $MIB"
	eq "result disk" "$(jr r '[.disk.mount, .disk.used_bytes, .disk.limit_bytes, .disk.full] | @tsv')" \
		"$(printf '/tmp\t%s\t%s\ttrue' $QUOTA $QUOTA)"
	eq "limit.disk events" "$(ja r '[.[] | select(.event == "limit.disk")] | length')" 1
	eq "limit.disk fields" "$(ja r '.[] | select(.event == "limit.disk") |
		[.mount, .used_bytes, .limit_bytes, .sandbox == "'"$(jr r .sandbox)"'"] | @tsv')" \
		"$(printf '/tmp\t%s\t%s\ttrue' $QUOTA $QUOTA)"
}

case_under_quota_no_event()
{
	dpol
	sbx_run r -P "$T_TMP/policy.toml" --profile t -- sh -c 'dd if=/dev/zero of=/tmp/a bs=1M count=1 2>/dev/null'
	expect_rc r 0
	eq "result disk" "$(jr r '[.disk.used_bytes, .disk.full] | @tsv')" "$(printf '%s\tfalse' $MIB)"
	eq "limit.disk events" "$(ja r '[.[] | select(.event == "limit.disk")] | length')" 0
}

# /dev/shm is the same quota: 3 MiB in /tmp leave 1 MiB for /dev/shm.
case_dev_shm_shares_quota()
{
	dpol
	sbx_run r -P "$T_TMP/policy.toml" --profile t -- sh -c '
		dd if=/dev/zero of=/tmp/a bs=1M count=3 2>/dev/null
		dd if=/dev/zero of=/dev/shm/b bs=1M count=3 2>&1 | grep -o "No space left on device"
		echo "shm $(stat -c %s /dev/shm/b)"'
	expect_rc r 0
	eq "write to /dev/shm" "$(sed -n 1p "$T_TMP/r.out")" "No space left on device"
	eq "size in /dev/shm" "$(sed -n 2p "$T_TMP/r.out")" "shm $MIB"
}

# Hard links and renames move no data out of the quota: a link costs no
# block, a link or rename from /tmp to /dev/shm is EXDEV (two mounts), and
# deleting the original keeps the blocks while a link holds them.
case_links_do_not_escape()
{
	dpol
	sbx_run r -P "$T_TMP/policy.toml" --profile t -- sh -c '
		dd if=/dev/zero of=/tmp/a bs=1M count=3 2>/dev/null
		ln /tmp/a /tmp/l && echo "link ok"
		ln /tmp/a /dev/shm/l 2>&1 | grep -o "Invalid cross-device link"
		rm /tmp/a
		dd if=/dev/zero of=/tmp/b bs=1M count=3 2>&1 | grep -o "No space left on device"
		echo "b $(stat -c %s /tmp/b)"'
	expect_rc r 0
	eq "probe" "$(tr '\n' ' ' <"$T_TMP/r.out")" \
		"link ok Invalid cross-device link No space left on device b $MIB "
}

# Many empty files: the tmpfs's inodes are bounded too (one per 4 KiB).
case_inodes_bounded()
{
	dpol
	sbx_run r -P "$T_TMP/policy.toml" --profile t -- sh -c '
		i=0; while [ $i -lt 1100 ]; do touch /tmp/f$i 2>/dev/null || { echo "stopped at $i"; break; }; i=$((i + 1)); done' \
		2>/dev/null
	expect_rc r 0
	grep -q '^stopped at 10[0-9][0-9]$' "$T_TMP/r.out" || fail "empty files: $(cat "$T_TMP/r.out")"
	eq "limit.disk inodes" "$(ja r '.[] | select(.event == "limit.disk") | .inodes_used == .inodes_limit')" true
}

# fs mode read-only: the host's root is read-only, /tmp is the quota.
case_read_only_view_bounded()
{
	dpol "" read-only
	sbx_run r -P "$T_TMP/policy.toml" --profile t -- sh -c '
		touch /var/tmp/sbx-disk-test 2>/dev/null && echo "host write ok" || echo "host write refused"
		dd if=/dev/zero of=/tmp/a bs=1M count=5 2>&1 | grep -o "No space left on device"'
	expect_rc r 0
	eq "probe" "$(tr '\n' ' ' <"$T_TMP/r.out")" "host write refused No space left on device "
	eq "result disk full" "$(jr r .disk.full)" true
}

# sbx stats of a running sandbox reports the use of its /tmp quota.
case_stats_reports_use()
{
	local id i
	dpol
	sbx_run_within 30 r -P "$T_TMP/policy.toml" --profile t -- sh -c \
		'dd if=/dev/zero of=/dev/shm/a bs=1M count=2 2>/dev/null; : >/tmp/written; sleep 3' &
	for i in $(seq 50); do
		id=$("$SBX" ps --json | jq -r '.sandboxes[0].id // empty')
		[ -n "$id" ] && "$SBX" stats --json "$id" | jq -e '.disk_used_bytes >= 2097152' >/dev/null && break
		sleep 0.1
	done
	[ -n "$id" ] || { wait; fail "no running sandbox in sbx ps"; }
	eq "sbx stats disk" "$("$SBX" stats --json "$id" | jq -r '[.disk_used_bytes, .disk_limit_bytes] | @tsv')" \
		"$(printf '%s\t%s' $((2 * MIB)) $QUOTA)"
	"$SBX" stats "$id" | grep -q '^disk (/tmp)       2.0 MiB of 4.0 MiB$' ||
		fail "sbx stats text: $("$SBX" stats "$id" | grep disk)"
	wait
}

refused_case()
{
	sbx_run r -P "$T_TMP/policy.toml" --profile t -- true
	expect_rc r 125
	grep -q "'disk' cannot be enforced by provider '$1': .*$2" "$T_TMP/r.err" ||
		fail "no refusal naming '$2': $(cat "$T_TMP/r.err")"
}

case_refused_host()
{
	cat >"$T_TMP/policy.toml" <<EOF
version = 1
[profile.t]
provider = "host"
min_isolation = "none"
disk = "4M"
[profile.t.fs]
mode = "full"
EOF
	refused_case host "writes the host's own filesystem"
}

case_refused_read_write()
{
	dpol "" read-write
	refused_case process 'fs mode "read-write" writes the host'
}

case_refused_write_grant()
{
	mkdir -p "$T_TMP/w"
	dpol "" none "rules = [{ path = \"$T_TMP/w/\", access = \"rw\" }]"
	refused_case process "rule '$T_TMP/w/' .* grants writes to a host directory"
}

case_best_effort_grant_degraded()
{
	mkdir -p "$T_TMP/w"
	dpol 'enforcement = "best-effort"' none "rules = [{ path = \"$T_TMP/w/\", access = \"rw\" }]"
	sbx_run r -P "$T_TMP/policy.toml" --profile t -- true
	expect_rc r 0
	eq "degraded" "$(jr r '.degraded | map(select(startswith("disk: not enforced"))) | length')" 1
}

setup true
run_case write_past_quota_enospc case_write_past_quota_enospc
run_case under_quota_no_event case_under_quota_no_event
run_case dev_shm_shares_quota case_dev_shm_shares_quota
run_case links_do_not_escape case_links_do_not_escape
run_case inodes_bounded case_inodes_bounded
run_case read_only_view_bounded case_read_only_view_bounded
run_case stats_reports_use case_stats_reports_use
run_case refused_host case_refused_host
run_case refused_read_write case_refused_read_write
run_case refused_write_grant case_refused_write_grant
run_case best_effort_grant_degraded case_best_effort_grant_degraded
finish
