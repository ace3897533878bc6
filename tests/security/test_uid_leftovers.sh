#!/bin/bash
# SPDX-License-Identifier: MIT
# What a sandbox's own uid (issue 20, item 19) must not hand to the next
# sandbox that gets it, or to anyone else (attack pass on docs/policy.md "The
# sandbox's own uid"):
#   - a process of the uid that outlived its lease outside any cgroup keeps
#     the uid from being leased (no second sandbox shares it with that process);
#   - SysV shared memory, message queues and semaphores and POSIX shared
#     memory that a sandbox made private to its uid are removed with the lease,
#     so the uid's next holder cannot read them;
#   - keys that a sandbox (allowed the keyring calls) added to its uid's user
#     keyring are gone with it;
#   - a workload cannot make set-uid or set-gid files (chmod, fchmod, open with
#     O_CREAT, openat2), on the host provider's /tmp nor in an idmapped writable
#     grant: run later by anyone, such a file would act as the sandbox's uid
#     (or as the grant's owner) outside any sandbox; chmod's refusal is audited;
#   - sandboxes started together get different uids, cannot signal each
#     other or read each other's /proc, and a full range is refused (exit
#     125), never shared;
#   - a profile whose user or group is an id of the sandbox uid range is
#     refused: it would share that id with the sandbox that has it.
. "$(dirname "$0")/../integration/lib.sh"

PY=/usr/bin/python3
# a range of this file's own, so that other tests' sandboxes do not take its uids
BASE=$((2100000000 + ($$ % 100000) * 16))
export SBX_UID_RANGE="$BASE-$((BASE + 15))"
SHM_KEY=$((0x5b000000 + $$ % 65536))

# upol PROVIDER [FS-KEYS] [PROFILE-KEYS]: $T_TMP/policy.toml, profile t.
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
$3
[profile.t.fs]
$fs
$2
EOP
}

case_process_outside_cgroup_keeps_its_uid()
{
	local u
	command -v setpriv >/dev/null || skip "no setpriv"
	upol host
	# the previous holder's process, outside any sandbox (a set-uid program
	# it left behind, run by someone else)
	bg setpriv --reuid="$BASE" --regid="$BASE" --clear-groups sleep 30
	for _ in $(seq 100); do
		[ "$(awk '/^Uid:/ { print $2 }' "/proc/$BG_PID/status" 2>/dev/null)" = "$BASE" ] && break
		sleep 0.02
	done
	sbx_run a -P "$T_TMP/policy.toml" --profile t -- id -u
	expect_rc a 0
	u=$(cat "$T_TMP/a.out")
	[ "$u" != "$BASE" ] || fail "the sandbox got uid $BASE, which a process outside it still has"
	eq "the next free uid" "$u" $((BASE + 1))
	return 0
}

py_ipc='import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
key = int(sys.argv[2])
if sys.argv[1] == "make":
    i = libc.shmget(key, 4096, 0o1600)
    ctypes.memmove(libc.shmat(i, None, 0), b"secret-of-a\0", 12)
    q = libc.msgget(key, 0o1600)
    s = libc.semget(key, 1, 0o1600)
    with open("/dev/shm/" + sys.argv[3], "w") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write("secret-of-a")
    print(os.getuid(), i, q, s)
else:
    i = libc.shmget(key, 0, 0)
    e = ctypes.get_errno()
    q = libc.msgget(key, 0)
    s = libc.semget(key, 0, 0)
    print(os.getuid(), i, e, q, s, os.path.exists("/dev/shm/" + sys.argv[3]))'

case_ipc_objects_go_with_the_uid()
{
	local a b name="sbxtest-$$-ipc"
	upol host
	T_CASE_RESTORE="ipcrm -M $SHM_KEY -Q $SHM_KEY -S $SHM_KEY 2>/dev/null; rm -f /dev/shm/$name"
	sbx_run a -P "$T_TMP/policy.toml" --profile t -- "$PY" -c "$py_ipc" make "$SHM_KEY" "$name"
	expect_rc a 0
	read -r a _ <"$T_TMP/a.out"
	[ "$a" -ge "$BASE" ] 2>/dev/null || fail "no uid from the first sandbox: $(cat "$T_TMP/a.out" "$T_TMP/a.err")"
	awk -v u="$a" 'NR > 1 && ($8 == u || $10 == u)' /proc/sysvipc/shm /proc/sysvipc/msg | grep -q . &&
		fail "SysV objects of uid $a are left after its sandbox: $(ipcs -m -q | grep -w "$a")"
	awk -v u="$a" 'NR > 1 && ($5 == u || $7 == u)' /proc/sysvipc/sem | grep -q . &&
		fail "a semaphore set of uid $a is left after its sandbox"
	[ -e "/dev/shm/$name" ] && fail "/dev/shm/$name of uid $a is left after its sandbox"
	sbx_run b -P "$T_TMP/policy.toml" --profile t -- "$PY" -c "$py_ipc" read "$SHM_KEY" "$name"
	expect_rc b 0
	read -r b _ <"$T_TMP/b.out"
	eq "the second sandbox's uid (the same, the lowest free)" "$b" "$a"
	eq "what the second sandbox finds" "$(cut -d' ' -f2- "$T_TMP/b.out")" "-1 2 -1 -1 False"
	return 0
}

py_key='import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if sys.argv[1] == "add":
    r = libc.syscall(248, b"user", sys.argv[2].encode(), b"secret-of-a", 11, -4)
    print(os.getuid(), "ok" if r > 0 else ctypes.get_errno())
else:
    r = libc.syscall(249, b"user", sys.argv[2].encode(), None, 0)
    print(os.getuid(), "found" if r > 0 else ctypes.get_errno())'

case_user_keyring_goes_with_the_uid()
{
	local a b
	# the host provider refuses the keyring calls unless [seccomp] allows them
	# (test_keyrings.sh); a profile that does gets its uid's keyrings cleared
	upol host "" '[profile.t.seccomp]
allow = ["keyctl", "add_key", "request_key"]'
	sbx_run a -P "$T_TMP/policy.toml" --profile t -- "$PY" -c "$py_key" add "sbxtest-$$"
	expect_rc a 0
	read -r a ra <"$T_TMP/a.out"
	eq "add_key in the first sandbox" "$ra" ok
	sbx_run b -P "$T_TMP/policy.toml" --profile t -- "$PY" -c "$py_key" find "sbxtest-$$"
	expect_rc b 0
	read -r b rb <"$T_TMP/b.out"
	eq "the second sandbox's uid (the same, the lowest free)" "$b" "$a"
	eq "request_key of the first sandbox's key (ENOKEY)" "$rb" 126
	return 0
}

py_setid='import ctypes, os, sys
d = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
def t(name, f):
    try:
        f()
        print(name, "ok")
    except OSError as e:
        print(name, e.errno)
p = d + "/f"
open(p, "w").close()
t("chmod_u", lambda: os.chmod(p, 0o4755))
t("chmod_g", lambda: os.chmod(p, 0o2755))
fd = os.open(p, os.O_RDONLY)
t("fchmod", lambda: os.fchmod(fd, 0o4755))
t("creat", lambda: os.close(os.open(d + "/g", os.O_CREAT | os.O_WRONLY, 0o4755)))
class H(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]
h = H(os.O_CREAT | os.O_WRONLY, 0o4755, 0)
r = libc.syscall(437, -100, (d + "/h").encode(), ctypes.byref(h), 24)
print("openat2", "ok" if r >= 0 else ctypes.get_errno())
t("chmod_plain", lambda: os.chmod(p, 0o700))'

# check_setid NAME DIR: run NAME made no set-id file in DIR, and said why.
check_setid()
{
	local f
	expect_rc "$1" 0
	expect "$1" chmod_u 1
	expect "$1" chmod_g 1
	expect "$1" fchmod 1
	expect "$1" creat 1
	expect "$1" openat2 38
	expect "$1" chmod_plain ok
	f=$(find "$2" -perm /6000 | head -3)
	[ -z "$f" ] || fail "set-id files on the host: $(ls -ln $f)"
	[ "$(ja "$1" '[.[] | select(.event == "syscall.denied" and .errno == 1 and (.syscall == "chmod" or .syscall == "fchmod"))] | length')" -ge 3 ] ||
		fail "no syscall.denied events for chmod/fchmod: $(grep -c . "$T_TMP/$1.audit") lines"
}

case_setid_files_refused_on_host_tmp()
{
	local d="$T_TMP/hostdir"
	mkdir -m 1777 "$d"
	upol host
	sbx_run h -P "$T_TMP/policy.toml" --profile t -- "$PY" -c "$py_setid" "$d"
	check_setid h "$d"
	return 0
}

case_setid_files_refused_in_idmapped_grant()
{
	local d="$T_TMP/grant"
	mkdir "$d" && chown 65534:65534 "$d"
	upol process "rules = [{ path = \"$d/\", access = \"rw\" }]"
	sbx_run p -P "$T_TMP/policy.toml" --profile t -- "$PY" -c "$py_setid" "$d"
	check_setid p "$d"
	eq "owner of the file the workload made" "$(stat -c %u "$d/f")" 65534
	return 0
}

case_concurrent_starts_get_different_uids()
{
	local i n
	upol host
	for i in 1 2 3 4 5 6; do
		bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- sh -c 'id -u; sleep 1' \
			>"$T_TMP/c$i.out" 2>"$T_TMP/c$i.err"
	done
	wait $T_CASE_PIDS
	n=$(cat "$T_TMP"/c?.out | sort -u | grep -c .)
	eq "distinct uids of 6 sandboxes started together ($(cat "$T_TMP"/c?.out | tr '\n' ' '))" "$n" 6
	return 0
}

# The uid scan runs outside the lease lock (issue 15): holders run while
# short sandboxes of this instance and of a second one start and end all
# around them, leasing and releasing at once. No short sandbox may get a
# holder's uid, and holders none of each other's.
case_churn_never_takes_a_running_uid()
{
	local i h other="${SBX_INSTANCE:0:40}-u2" pids="" holders=""
	upol host
	# holders run until the case ends them: every short sandbox overlaps them
	for h in 1 2 3; do
		bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- sh -c 'id -u; exec sleep 300' \
			>"$T_TMP/h$h.out" 2>"$T_TMP/h$h.err"
		holders="$holders $BG_PID"
	done
	for h in 1 2 3; do
		wait_for "$T_TMP/h$h.out" . || fail "holder $h did not start: $(cat "$T_TMP/h$h.err")"
	done
	T_CASE_RESTORE="SBX_INSTANCE=$other \"$SBX\" unload >/dev/null 2>&1"
	for round in 1 2 3; do
		for i in 1 2 3 4; do
			if [ $((i % 2)) = 0 ]; then
				bg env SBX_INSTANCE="$other" "$SBX" run -P "$T_TMP/policy.toml" --profile t -- id -u \
					>"$T_TMP/s$round$i.out" 2>"$T_TMP/s$round$i.err"
			else
				bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- id -u \
					>"$T_TMP/s$round$i.out" 2>"$T_TMP/s$round$i.err"
			fi
			pids="$pids $BG_PID"
		done
		sleep 0.2
	done
	for i in $pids; do wait "$i"; done
	for h in $holders; do
		kill -0 "$h" 2>/dev/null || fail "a holder ended before the short sandboxes did"
	done
	for h in $holders; do kill "$h"; wait "$h"; done
	SBX_INSTANCE=$other "$SBX" unload >/dev/null 2>&1
	for f in "$T_TMP"/s??.out; do
		[ -s "$f" ] || fail "a short sandbox printed no uid: $(cat "${f%.out}.err")"
	done
	eq "distinct holder uids ($(cat "$T_TMP"/h?.out | tr '\n' ' '))" "$(sort -u "$T_TMP"/h?.out | grep -c .)" 3
	for h in 1 2 3; do
		grep -qx "$(cat "$T_TMP/h$h.out")" "$T_TMP"/s??.out &&
			fail "a short sandbox got holder $h's uid $(cat "$T_TMP/h$h.out") while it ran"
	done
	return 0
}

case_running_sandboxes_apart_and_full_range_refused()
{
	local a
	upol host
	# two uids: the third sandbox finds none
	SBX_UID_RANGE="$BASE-$((BASE + 1))" bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- \
		sh -c 'id -u; exec sleep 5.31' >"$T_TMP/a.out" 2>"$T_TMP/a.err"
	SBX_UID_RANGE="$BASE-$((BASE + 1))" bg "$SBX" run -P "$T_TMP/policy.toml" --profile t -- \
		sh -c 'id -u; exec sleep 5.32' >"$T_TMP/b.out" 2>"$T_TMP/b.err"
	for _ in $(seq 250); do
		[ -s "$T_TMP/a.out" ] && [ -s "$T_TMP/b.out" ] && break
		sleep 0.02
	done
	a=$(pgrep -xf "sleep 5.31" | head -1)
	[ -n "$a" ] || fail "the first sandbox did not start: $(cat "$T_TMP/a.err")"
	SBX_UID_RANGE="$BASE-$((BASE + 1))" sbx_run c -P "$T_TMP/policy.toml" --profile t -- true
	expect_rc c 125
	grep -q "every uid of the sandbox uid range $BASE-$((BASE + 1)) is in use" "$T_TMP/c.err" ||
		fail "c: no refusal naming the range: $(cat "$T_TMP/c.err")"
	# a wider range that overlaps: the next uid, and no way into the others
	SBX_UID_RANGE="$BASE-$((BASE + 9))" sbx_run d -P "$T_TMP/policy.toml" --profile t -- \
		sh -c "id -u; kill -0 $a 2>/dev/null; echo kill \$?; cat /proc/$a/environ >/dev/null 2>&1; echo environ \$?"
	expect_rc d 0
	eq "d: uid" "$(head -1 "$T_TMP/d.out")" $((BASE + 2))
	expect d kill 1
	expect d environ 1
	return 0
}

case_profile_user_in_range_refused()
{
	upol host "" "user = \"$((BASE + 3))\""
	sbx_run u -P "$T_TMP/policy.toml" --profile t -- id -u
	expect_rc u 125
	grep -q "user '$((BASE + 3))' ($((BASE + 3))) is in the sandbox uid range $BASE-$((BASE + 15))" "$T_TMP/u.err" ||
		fail "u: no refusal naming the user: $(cat "$T_TMP/u.err")"
	upol host "" "user = \"nobody\"
group = \"$((BASE + 4))\""
	sbx_run g -P "$T_TMP/policy.toml" --profile t -- id -u
	expect_rc g 125
	grep -q "group '$((BASE + 4))'" "$T_TMP/g.err" || fail "g: no refusal naming the group: $(cat "$T_TMP/g.err")"
	return 0
}

run_case process_outside_cgroup_keeps_its_uid case_process_outside_cgroup_keeps_its_uid
run_case ipc_objects_go_with_the_uid case_ipc_objects_go_with_the_uid
run_case user_keyring_goes_with_the_uid case_user_keyring_goes_with_the_uid
run_case setid_files_refused_on_host_tmp case_setid_files_refused_on_host_tmp
run_case setid_files_refused_in_idmapped_grant case_setid_files_refused_in_idmapped_grant
run_case concurrent_starts_get_different_uids case_concurrent_starts_get_different_uids
run_case churn_never_takes_a_running_uid case_churn_never_takes_a_running_uid
run_case running_sandboxes_apart_and_full_range_refused case_running_sandboxes_apart_and_full_range_refused
run_case profile_user_in_range_refused case_profile_user_in_range_refused
finish
