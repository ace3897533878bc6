#!/bin/bash
# SPDX-License-Identifier: MIT
# Root in a sandbox must not weaken enforcement, for itself or for other
# sandboxes (issue 20, items 2 and 12). A workload running as uid 0 owns
# root-owned files without any capability: sbx's pins in bpffs, cgroup.procs
# and the limit files of cgroupfs, sysfs knobs. It tries (root_attack.sh):
#   - unlinking and renaming every pin under /sys/fs/bpf/$SBX_INSTANCE;
#   - writing its pid into the parent's and the hierarchy root's cgroup.procs
#     (v1 and v2);
#   - raising pids.max / memory.max / the v1 limits of its own cgroup;
#   - writing a host sysfs knob;
#   - bpf(2) (BPF_OBJ_GET on a pin, BPF_LINK_GET_NEXT_ID) without CAP_BPF;
#   - mounting a bpffs of its own;
# and afterwards a connect that the policy denies must still fail with EPERM,
# in that sandbox and in the next. Under the host provider (user = "root",
# Landlock keeps /sys and /proc unwritable) and under the process provider
# (user = "root", fs read-write and full: the view's /sys is read-only and
# bpffs hidden). Also: the links outlive their pins while a manager holds
# them, and the host provider runs as the sandbox's own uid unless the profile
# says root.
. "$(dirname "$0")/../integration/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
ATTACK=$(realpath "$(dirname "$0")/root_attack.sh")
PORT=""

root_setup()
{
	start_listener PORT 127.0.0.1
}

# rpol PROVIDER FS-MODE [PROFILE-KEYS]: profile t, every connection denied
# (mode allow with an empty list), strict.
rpol()
{
	local iso=process
	[ "$1" = host ] && iso=none
	cat >"$T_TMP/policy.toml" <<EOF
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
EOF
}

rrun()
{
	local name=$1
	shift
	sbx_run "$name" -P "$T_TMP/policy.toml" --profile t "$@"
}

# attack NAME: root_attack.sh, then the denied connect; every attempt refused.
# refusal NAME LABEL: the attempt LABEL met a permission refusal on a target
# it could see (EPERM, EACCES, EROFS), not a missing file. Under the process
# provider a target that its view does not show ("unreachable") counts: the
# view is what protects it there; under host it is a failure of the test.
refusal()
{
	local name=$1 l=$2 got
	got=$(awk -v l="$l" '$1 == l { $1 = ""; print substr($0, 2); exit }' "$T_TMP/$name.out")
	case $got in
	"refused EPERM" | "refused EACCES" | "refused EROFS") ;;
	"unreachable "*) [ "$(jq -r .provider "$T_TMP/$name.result")" = process ] ||
		fail "$name: $l: $got (under the host provider the target must be there)" ;;
	*) fail "$name: $l: expected a refusal with EPERM/EACCES/EROFS, got '${got:-nothing}' (sbx rc=$RC)" ;;
	esac
}

attack()
{
	local name=$1 l
	rrun "$name" -- sh -c "sh '$ATTACK' '$PIN_DIR'; printf 'connect '; '$NETTOOL' connect 127.0.0.1 $PORT; true"
	expect_rc "$name" 0
	for l in unlink_pins leave_cgroup raise_limits mount_bpffs; do
		refusal "$name" $l
	done
	grep -q '^sysfs_write ' "$T_TMP/$name.out" && refusal "$name" sysfs_write
	grep -q '^bpf_syscall ' "$T_TMP/$name.out" && expect "$name" bpf_syscall refused
	expect "$name" connect EPERM
	[ -e "$PIN_DIR/sbx_config" ] || fail "$name: the pins are gone: $(ls "$PIN_DIR" 2>&1 | tr '\n' ' ')"
	# the next sandbox is enforced too
	rrun "$name.next" -- "$NETTOOL" connect 127.0.0.1 "$PORT"
	grep -q '^EPERM' "$T_TMP/$name.next.out" ||
		fail "$name: the next sandbox's denied connect: $(cat "$T_TMP/$name.next.out" "$T_TMP/$name.next.err")"
}

case_host_root_cannot_weaken()
{
	"$SBX" features 2>/dev/null | grep -q "^landlock  *yes" || skip "Landlock is not active"
	rpol host full 'user = "root"'
	"$SBX" policy check "$T_TMP/policy.toml" >"$T_TMP/check.out" 2>&1 ||
		fail "policy check refuses host + root with Landlock: $(cat "$T_TMP/check.out")"
	attack hr
}

# The default profile of the host provider: before, the workload kept sbx's
# uid 0; now it is nobody.
case_host_default_cannot_weaken()
{
	rpol host full
	attack hd
}

case_host_root_read_write_cannot_weaken()
{
	"$SBX" features 2>/dev/null | grep -q "^landlock  *yes" || skip "Landlock is not active"
	rpol host read-write 'user = "root"'
	attack hrw
}

case_process_root_read_write_cannot_weaken()
{
	rpol process read-write 'user = "root"'
	attack prw
}

case_process_root_full_cannot_weaken()
{
	rpol process full 'user = "root"'
	attack pfull
}

# A manager holds its links: the host's root (not a workload) removing every
# link pin while a sandbox runs does not switch its enforcement off.
case_links_outlive_their_pins()
{
	local pid i
	rpol host full
	bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- sh -c \
		"sleep 1.5; '$NETTOOL' connect 127.0.0.1 $PORT" >"$T_TMP/l.out" 2>"$T_TMP/l.err"
	pid=$BG_PID
	for i in $(seq 200); do
		[ -n "$("$SBX" ps --json 2>/dev/null | jq -r '.sandboxes[0].pid // empty')" ] && break
		sleep 0.02
	done
	rm -f "$PIN_DIR"/link_* || fail "cannot remove the link pins"
	wait "$pid"
	grep -q '^EPERM' "$T_TMP/l.out" ||
		fail "the denied connect after the pins went: $(cat "$T_TMP/l.out" "$T_TMP/l.err")"
	# a new manager does not adopt a setup without its links (fail closed)
	rrun l2 -- "$NETTOOL" connect 127.0.0.1 "$PORT"
	[ "$RC" != 0 ] || grep -q '^EPERM' "$T_TMP/l2.out" ||
		fail "a sandbox ran unenforced after the link pins went: $(cat "$T_TMP/l2.out")"
	"$SBX" unload >/dev/null 2>&1
	return 0
}

# An idle setup whose audit program went (root removing prog_sys_exit, say)
# is replaced, not adopted: before, the next run went ahead with seccomp
# refusals failing with EPERM but leaving no event and no count. (Its link,
# link_sys_exit, exists only while a sandbox needs it: the next run that
# needs it attaches it again.)
case_idle_setup_without_audit_link_replaced()
{
	rpol host full
	rrun a -- true
	expect_rc a 0
	rm -f "$PIN_DIR/prog_sys_exit" "$PIN_DIR/link_sys_exit" || fail "cannot remove the pins"
	rrun b -- python3 -c 'import socket
try: socket.socket(40, 1)
except OSError as e: print(e.errno)'
	expect_rc b 0
	eq "vsock socket" "$(cat "$T_TMP/b.out")" 1
	[ -e "$PIN_DIR/prog_sys_exit" ] || fail "prog_sys_exit was not pinned again"
	eq "net.socket events" "$(ja b '[.[] | select(.event == "net.socket" and .verdict == "deny")] | length')" 1
}

# not root: the sandbox's own uid (core/uidpool.h, tests/security/test_uid.sh)
case_host_default_user_is_not_root()
{
	local u
	rpol host full
	rrun u -- id -u
	expect_rc u 0
	u=$(cat "$T_TMP/u.out")
	[ "$u" -ge 2080374784 ] 2>/dev/null && [ "$u" -le 2080440319 ] ||
		fail "host workload's uid $u is not from the sandbox uid range"
	rpol host full 'user = "root"'
	rrun u0 -- id -u
	expect_rc u0 0
	eq "host workload's uid with user = root" "$(cat "$T_TMP/u0.out")" 0
}

setup root_setup
run_case idle_setup_without_audit_link_replaced case_idle_setup_without_audit_link_replaced
run_case host_default_user_is_not_root case_host_default_user_is_not_root
run_case host_default_cannot_weaken case_host_default_cannot_weaken
run_case host_root_cannot_weaken case_host_root_cannot_weaken
run_case host_root_read_write_cannot_weaken case_host_root_read_write_cannot_weaken
run_case process_root_read_write_cannot_weaken case_process_root_read_write_cannot_weaken
run_case process_root_full_cannot_weaken case_process_root_full_cannot_weaken
run_case links_outlive_their_pins case_links_outlive_their_pins
finish
