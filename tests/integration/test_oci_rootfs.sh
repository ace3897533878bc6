#!/bin/bash
# SPDX-License-Identifier: MIT
# What a container of sbx-oci gets from user/oci's setup (oci_rootfs_setup,
# oci_process_exec), through tests/integration/oci_harness.c with specs built
# by hand: in a busybox rootfs made here, once as root in new mount, pid, uts,
# ipc, net and cgroup namespaces, once in a user namespace too (0 -> 100000),
# a script reports from inside what it sees (mounts and their flags,
# devices, masked and read-only paths, names, sysctl, identity,
# capabilities, rlimits, the seccomp errno); then the hostile mount targets
# (a symlink to /etc, a link and a destination with ".." out of the root),
# refused sysctl and names, a missing program, --no-pivot. The namespaces die
# with the harness; the rootfs is in this file's temporary directory.
. "$(dirname "$0")/lib.sh"

# This file starts no sbx instance: nothing to unload (see _cleanup).
SBX=
HARNESS=${OUTPUT:-$PWD/build}/tests/integration/oci_harness
ROOT=$T_TMP/rootfs
UROOT=$T_TMP/urootfs
HOST=$T_TMP/host

oci_skip_reason()
{
	[ "$(id -u)" = 0 ] || { echo "not root (namespaces, mounts, mknod)"; return; }
	[ -x /bin/busybox ] || { echo "busybox-static is not installed (make deps)"; return; }
	unshare -m -p -f -u -i true 2>/dev/null || echo "unshare of mount/pid/uts/ipc namespaces fails here"
}

# make_rootfs DIR: busybox and its applets, what the cases look for.
make_rootfs()
{
	local d=$1 a
	mkdir -p "$d"/bin "$d"/etc "$d"/secret "$d"/rodir || return 1
	cp /bin/busybox "$d"/bin/busybox || return 1
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$d/bin/$a" || return 1
	done
	echo marker >"$d"/etc/marker
	echo hidden >"$d"/secret/file
	echo hidden >"$d"/secretfile
	ln -s /etc "$d"/evil
	ln -s "../../../../../../..$HOST/target" "$d"/evil2
}

setup()
{
	[ -x "$HARNESS" ] || { echo "no $HARNESS: make $HARNESS (INTEG_TOOLS)"; return 1; }
	chmod 755 "$T_TMP"
	mkdir -p "$HOST"/data "$HOST"/target && echo hostfile >"$HOST"/file && echo d >"$HOST"/data/d || return 1
	make_rootfs "$ROOT" || return 1
	cp -a "$ROOT" "$UROOT" && chown -R 100000:100000 "$UROOT"
}

# What the container reports, one tagged line each (mountinfo as it is).
REPORT='
cat /proc/self/mountinfo | sed "s/^/mnt /"
grep -E "^(Cap[A-Za-z]+|Uid|Gid|Groups|NoNewPrivs|Seccomp):" /proc/self/status | tr "\t" " " | sed "s/^/st /"
echo "nofile $(ulimit -n) $(ulimit -Hn)"
echo "hostname $(hostname)"
echo "domainname $(cat /proc/sys/kernel/domainname)"
echo "shmmax $(cat /proc/sys/kernel/shmmax)"
echo "ip_forward $(cat /proc/sys/net/ipv4/ip_forward)"
echo "umask $(umask)"
echo "pwd $(pwd)"
echo "oom $(cat /proc/self/oom_score_adj)"
for d in /dev/mydev /dev/full /dev/null /dev/zero /dev/random /dev/urandom /dev/tty; do
	echo "dev $d $(stat -c "%F %a %u %g %t %T" $d 2>&1)"
done
echo "link fd $(readlink /dev/fd) ptmx $(readlink /dev/ptmx) stdin $(readlink /dev/stdin)"
echo "mkdir $(mkdir /tmp/sc 2>&1)"
echo "touchroot $(touch /x 2>&1)"
echo "touchro $(touch /rodir/x 2>&1)"
echo "procsys $( (echo 1 >/proc/sys/kernel/shmmax) 2>&1)"
touch /tmp/ok && echo "tmp writable"
echo "secretdir $(ls -A /secret 2>&1)"
echo "secretfile [$(cat /secretfile 2>&1)]"
echo "bound $(cat /etc/bound)"
echo "data $(ls /mnt/data)"
echo "uidmap $(cat /proc/self/uid_map)"
'

# run_full OUT [-u]: the full case, its report in OUT (stderr in OUT.err).
run_full()
{
	local out=$1 root=$ROOT
	shift
	[ "${1:-}" = -u ] && root=$UROOT
	"$HARNESS" "$@" full "$root" "$HOST" -- /bin/sh -c "$REPORT" >"$out" 2>"$out.err"
	echo "rc $?" >>"$out"
}

SBX_TEST_SKIP=$(oci_skip_reason)
if [ -z "$SBX_TEST_SKIP" ]; then
	T_SETUP_FAILED=$(setup 2>&1) || T_SETUP_FAILED=${T_SETUP_FAILED:-"setup failed"}
	[ -n "$T_SETUP_FAILED" ] || run_full "$T_TMP/full"
	[ -n "$T_SETUP_FAILED" ] || run_full "$T_TMP/ufull" -u
fi

# line FILE TAG: the report's line(s) for TAG, without the tag
line()
{
	sed -n "s|^$2 ||p" "$1"
}

# mnt FILE POINT: "OPTIONS FSTYPE" of the mount at POINT (the last one)
mnt()
{
	awk -v p="$2" '$1 == "mnt" && $6 == p { o = $7; for (i = 8; i <= NF; i++) if ($i == "-") { o = o " " $(i + 1); break } } END { print o }' "$1"
}

# has_opts FILE POINT FSTYPE OPT...: the mount at POINT is FSTYPE with every OPT
has_opts()
{
	local f=$1 p=$2 t=$3 m o
	shift 3
	m=$(mnt "$f" "$p")
	[ -n "$m" ] || fail "no mount at $p: $(grep '^mnt' "$f" | cut -c1-2000)"
	[ "${m#* }" = "$t" ] || fail "$p is ${m#* }, not $t"
	for o in "$@"; do
		[[ ",${m%% *}," == *",$o,"* ]] || fail "$p has options ${m%% *}, not $o"
	done
}

ran()
{
	[ "$(line "$1" rc)" = 0 ] || fail "the container failed: rc $(line "$1" rc): $(cat "$1.err")"
}

check_mounts()
{
	local f=$1
	ran "$f"
	has_opts "$f" /proc proc rw nosuid nodev noexec
	has_opts "$f" /dev tmpfs rw nosuid
	has_opts "$f" /dev/pts devpts nosuid noexec
	has_opts "$f" /dev/shm tmpfs nosuid nodev noexec
	has_opts "$f" /dev/mqueue mqueue nosuid nodev noexec
	has_opts "$f" /sys/fs/cgroup cgroup2 ro nosuid nodev noexec
	has_opts "$f" /etc/bound ext4 ro
	has_opts "$f" /mnt/data "$(mnt "$f" /mnt/data | cut -d' ' -f2)" ro nosuid nodev
	has_opts "$f" /tmp tmpfs rw nosuid nodev
	has_opts "$f" /proc/sys proc ro
	[ "$(line "$f" bound)" = hostfile ] || fail "/etc/bound: $(line "$f" bound)"
	[ "$(line "$f" data)" = d ] || fail "/mnt/data: $(line "$f" data)"
}

case_mounts_have_their_flags()
{
	check_mounts "$T_TMP/full"
	has_opts "$T_TMP/full" /sys sysfs ro nosuid nodev noexec
}

case_userns_mounts_have_their_flags()
{
	check_mounts "$T_TMP/ufull"
	# sysfs: the host's bound (no network namespace), read-only down to
	# its last submount
	has_opts "$T_TMP/ufull" /sys sysfs ro nosuid nodev noexec
	if [ -n "$(mnt "$T_TMP/ufull" /sys/fs/bpf)" ]; then
		has_opts "$T_TMP/ufull" /sys/fs/bpf bpf ro nosuid nodev noexec
	fi
	[ "$(line "$T_TMP/ufull" uidmap | tr -s ' ')" = " 0 100000 65536" ] ||
		[ "$(line "$T_TMP/ufull" uidmap | tr -s ' ')" = "0 100000 65536" ] ||
		fail "uid_map: $(line "$T_TMP/ufull" uidmap)"
}

check_masked_readonly()
{
	local f=$1 t
	ran "$f"
	[[ "$(line "$f" secretdir)" == *"Permission denied"* ]] || fail "/secret: $(line "$f" secretdir)"
	has_opts "$f" /secret tmpfs ro
	[ "$(line "$f" secretfile)" = "[]" ] || fail "/secretfile: $(line "$f" secretfile)"
	[[ "$(line "$f" touchro)" == *"Read-only file system"* ]] || fail "/rodir: $(line "$f" touchro)"
	[[ "$(line "$f" procsys)" == *"Read-only file system"* ]] || fail "/proc/sys: $(line "$f" procsys)"
	[[ "$(line "$f" touchroot)" == *"Read-only file system"* ]] || fail "/: $(line "$f" touchroot)"
	has_opts "$f" / ext4 ro
	grep -q "^tmp writable" "$f" || fail "/tmp is not writable"
	[ "$(cat "$ROOT/secret/file")" = hidden ] || fail "the rootfs's masked file changed"
}

case_masked_readonly_and_root_readonly()
{
	check_masked_readonly "$T_TMP/full"
}

case_userns_masked_readonly_and_root_readonly()
{
	check_masked_readonly "$T_TMP/ufull"
}

case_devices_with_their_modes()
{
	local f=$T_TMP/full
	ran "$f"
	[ "$(line "$f" "dev /dev/mydev")" = "character special file 640 1 2 1 3" ] ||
		fail "/dev/mydev: $(line "$f" "dev /dev/mydev")"
	[ "$(line "$f" "dev /dev/full")" = "character special file 600 0 0 1 7" ] ||
		fail "/dev/full (the spec's, not the default): $(line "$f" "dev /dev/full")"
	[ "$(line "$f" "dev /dev/null")" = "character special file 666 0 0 1 3" ] ||
		fail "/dev/null: $(line "$f" "dev /dev/null")"
	[ "$(line "$f" "dev /dev/tty")" = "character special file 666 0 0 5 0" ] ||
		fail "/dev/tty: $(line "$f" "dev /dev/tty")"
	[ "$(line "$f" link)" = "fd /proc/self/fd ptmx pts/ptmx stdin /proc/self/fd/0" ] ||
		fail "links: $(line "$f" link)"
}

case_userns_devices_are_the_hosts_bound()
{
	local f=$T_TMP/ufull d
	ran "$f"
	for d in null zero full random urandom tty; do
		[[ "$(line "$f" "dev /dev/$d")" == "character special file 666 "* ]] ||
			fail "/dev/$d: $(line "$f" "dev /dev/$d")"
		[ -n "$(mnt "$f" /dev/$d)" ] || fail "/dev/$d is not a bind mount"
	done
}

check_names_identity()
{
	local f=$1
	ran "$f"
	[ "$(line "$f" hostname)" = ocibox ] || fail "hostname: $(line "$f" hostname)"
	[ "$(line "$f" domainname)" = ocidomain ] || fail "domainname: $(line "$f" domainname)"
	[ "$(line "$f" shmmax)" = 12345678 ] || fail "kernel.shmmax: $(line "$f" shmmax)"
	[ "$(line "$f" "st Uid:")" = "1000 1000 1000 1000" ] || fail "Uid: $(line "$f" "st Uid:")"
	[ "$(line "$f" "st Gid:")" = "1000 1000 1000 1000" ] || fail "Gid: $(line "$f" "st Gid:")"
	[ "$(line "$f" "st Groups:" | xargs)" = "10 20" ] || fail "Groups: $(line "$f" "st Groups:")"
	[ "$(line "$f" umask)" = 0027 ] || fail "umask: $(line "$f" umask)"
	[ "$(line "$f" pwd)" = /work/sub ] || fail "cwd (made when missing): $(line "$f" pwd)"
	[ "$(line "$f" nofile)" = "123 456" ] || fail "RLIMIT_NOFILE: $(line "$f" nofile)"
	[ "$(line "$f" oom)" = 500 ] || fail "oom_score_adj: $(line "$f" oom)"
}

case_names_sysctl_identity_rlimits()
{
	check_names_identity "$T_TMP/full"
	[ "$(line "$T_TMP/full" ip_forward)" = 1 ] || fail "net.ipv4.ip_forward: $(line "$T_TMP/full" ip_forward)"
}

case_userns_names_sysctl_identity_rlimits()
{
	check_names_identity "$T_TMP/ufull"
}

check_caps_seccomp()
{
	local f=$1 k v
	ran "$f"
	# bounding chown, net_bind_service, kill; ambient net_bind_service:
	# after exec as uid 1000 the ambient set is all that is permitted
	for k in CapInh:0000000000000400 CapPrm:0000000000000400 CapEff:0000000000000400 \
		 CapBnd:0000000000000421 CapAmb:0000000000000400 NoNewPrivs:1 Seccomp:2; do
		v=$(line "$f" "st ${k%%:*}:")
		[ "$v" = "${k#*:}" ] || fail "${k%%:*} is $v, not ${k#*:}"
	done
	[[ "$(line "$f" mkdir)" == *"Unknown error 1234"* ]] ||
		fail "mkdir under the filter (errnoRet 1234): $(line "$f" mkdir)"
}

case_capabilities_and_seccomp_errno()
{
	check_caps_seccomp "$T_TMP/full"
}

case_userns_capabilities_and_seccomp_errno()
{
	check_caps_seccomp "$T_TMP/ufull"
}

# harness CASE [OPTIONS] -- CMD...: RC, OUT (stdout), ERR (stderr)
harness()
{
	local c=$1
	shift
	OUT=$("$HARNESS" "$@" "$c" "$ROOT" "$HOST" -- /bin/sh -c "$CMD" 2>"$T_TMP/err")
	RC=$?
	ERR=$(cat "$T_TMP/err")
}

case_symlink_to_etc_stays_in_the_rootfs()
{
	# the harness binds HOST/file at /evil/sbx-oci-escape and makes the
	# device /evil/escape-node, through ROOTFS/evil -> /etc
	CMD='cat /etc/sbx-oci-escape; stat -c "%F %t %T" /etc/escape-node'
	harness escape_abs
	[ $RC = 0 ] || fail "rc $RC: $ERR"
	[ "$OUT" = "hostfile
character special file 1 3" ] || fail "inside: $OUT"
	[ -f "$ROOT/etc/sbx-oci-escape" ] || fail "the mount point is not in the rootfs's /etc"
	[ -c "$ROOT/etc/escape-node" ] || fail "the device is not in the rootfs's /etc"
	[ ! -e /etc/sbx-oci-escape ] && [ ! -e /etc/escape-node ] || fail "the host's /etc was written"
}

case_link_with_dotdot_out_of_the_root_is_refused()
{
	CMD=true
	harness escape_rel
	[ $RC = 125 ] || fail "rc $RC: $ERR"
	[[ "$ERR" == *'mounts[1].destination "/evil2/x": ".." leads out of the container'* ]] || fail "$ERR"
	[ -z "$(ls -A "$HOST/target")" ] || fail "the host's directory changed: $(ls -A "$HOST/target")"
}

case_destination_with_dotdot_is_refused()
{
	CMD=true
	harness escape_dots
	[ $RC = 125 ] || fail "rc $RC: $ERR"
	[[ "$ERR" == *'mounts[1].destination "/../../'*'": ".." leads out of the container'* ]] || fail "$ERR"
	[ -z "$(ls -A "$HOST/target")" ] || fail "the host's directory changed: $(ls -A "$HOST/target")"
}

case_mount_over_proc_is_refused()
{
	CMD=true
	harness proc_over
	[ $RC = 125 ] || fail "rc $RC: $ERR"
	[[ "$ERR" == *"/proc/sys/kernel is kept for the container's own proc"* ]] || fail "$ERR"
}

case_host_sysctl_is_refused()
{
	CMD=true
	harness bad_sysctl
	[ $RC = 125 ] || fail "rc $RC: $ERR"
	[[ "$ERR" == *'linux.sysctl: "kernel.panic" is not scoped by a namespace'* ]] || fail "$ERR"
}

case_hostname_without_uts_is_refused()
{
	CMD=true
	harness bad_name
	[ $RC = 125 ] || fail "rc $RC: $ERR"
	[[ "$ERR" == *"hostname: needs the container's own uts namespace"* ]] || fail "$ERR"
}

case_missing_program_reports_the_exec_errno()
{
	OUT=$("$HARNESS" minimal "$ROOT" "$HOST" -- no-such-program 2>"$T_TMP/err")
	RC=$?
	ERR=$(cat "$T_TMP/err")
	[ $RC = 127 ] || fail "rc $RC: $ERR"
	[[ "$ERR" == *'exec errno 2: exec process.args[0] "no-such-program": No such file or directory (searched the PATH of process.env)'* ]] ||
		fail "$ERR"
}

case_env_path_finds_the_program()
{
	OUT=$("$HARNESS" minimal "$ROOT" "$HOST" -- hostname 2>"$T_TMP/err")
	RC=$?
	[ $RC = 0 ] || fail "rc $RC: $(cat "$T_TMP/err")"
}

case_no_pivot_moves_the_root()
{
	CMD='cat /etc/marker; cat /proc/self/mountinfo | head -1'
	harness minimal -n
	[ $RC = 0 ] || fail "rc $RC: $ERR"
	[[ "$OUT" == marker* ]] || fail "inside: $OUT"
}

case_root_propagation_shared_and_slave()
{
	local p
	# rshared here would reach the host's mounts if they were shared
	awk '$5 == "/"' /proc/self/mountinfo | grep -q 'shared:' &&
		skip "the host's / is shared: an rshared container would propagate to it"
	# (pivot_root needs the rootfs's own mount private: runc's behaviour)
	CMD='cat /etc/marker'
	for p in shared slave; do
		harness $p
		[ $RC = 0 ] || fail "$p: rc $RC: $ERR"
		[ "$OUT" = marker ] || fail "$p: inside: $OUT"
	done
}

case_seccomp_without_no_new_privs()
{
	CMD='grep -E "^(NoNewPrivs|Seccomp|CapEff|Uid):" /proc/self/status | tr "\t" " "; mkdir /dev/x 2>&1'
	harness seccomp_early
	[ $RC = 1 ] || fail "rc $RC: $ERR"
	[ "$OUT" = "Uid: 1000 1000 1000 1000
CapEff: 0000000000000000
NoNewPrivs: 0
Seccomp: 2
mkdir: can't create directory '/dev/x': Unknown error 1234" ] || fail "inside: $OUT"
}

case_no_mount_left_on_the_host()
{
	! grep -q "$T_TMP" /proc/self/mountinfo || fail "$(grep "$T_TMP" /proc/self/mountinfo)"
}

run_case mounts_have_their_flags case_mounts_have_their_flags
run_case userns_mounts_have_their_flags case_userns_mounts_have_their_flags
run_case masked_readonly_and_root_readonly case_masked_readonly_and_root_readonly
run_case userns_masked_readonly_and_root_readonly case_userns_masked_readonly_and_root_readonly
run_case devices_with_their_modes case_devices_with_their_modes
run_case userns_devices_are_the_hosts_bound case_userns_devices_are_the_hosts_bound
run_case names_sysctl_identity_rlimits case_names_sysctl_identity_rlimits
run_case userns_names_sysctl_identity_rlimits case_userns_names_sysctl_identity_rlimits
run_case capabilities_and_seccomp_errno case_capabilities_and_seccomp_errno
run_case userns_capabilities_and_seccomp_errno case_userns_capabilities_and_seccomp_errno
run_case symlink_to_etc_stays_in_the_rootfs case_symlink_to_etc_stays_in_the_rootfs
run_case link_with_dotdot_out_of_the_root_is_refused case_link_with_dotdot_out_of_the_root_is_refused
run_case destination_with_dotdot_is_refused case_destination_with_dotdot_is_refused
run_case mount_over_proc_is_refused case_mount_over_proc_is_refused
run_case host_sysctl_is_refused case_host_sysctl_is_refused
run_case hostname_without_uts_is_refused case_hostname_without_uts_is_refused
run_case missing_program_reports_the_exec_errno case_missing_program_reports_the_exec_errno
run_case env_path_finds_the_program case_env_path_finds_the_program
run_case no_pivot_moves_the_root case_no_pivot_moves_the_root
run_case root_propagation_shared_and_slave case_root_propagation_shared_and_slave
run_case seccomp_without_no_new_privs case_seccomp_without_no_new_privs
run_case no_mount_left_on_the_host case_no_mount_left_on_the_host
exit $T_FAILED
