#!/bin/sh
# SPDX-License-Identifier: MIT
# Run inside a sandbox as uid 0 by tests/security/test_root_workload.sh:
# every way we know for root to weaken sbx's enforcement, one line each:
# "LABEL ok" when the attempt worked, "LABEL refused" when it did not.
# Usage: root_attack.sh PIN-DIR
pins=$1

# Each line says which refusal it met, so that a test can tell the rule
# under test from a target that was not even there:
#   "LABEL ok"                  the attempt worked
#   "LABEL refused ERRNO"       an attempt on an existing target failed
#   "LABEL unreachable WHAT"    no target was visible (nothing was tried)
say() { if [ "$2" = 0 ]; then echo "$1 ok"; else echo "$1 refused ${3:-?}"; fi; }

# errno: the errno name of a coreutils/shell error message.
errno()
{
	case $1 in
	*"not permitted"*) echo EPERM ;;
	*"ermission denied"*) echo EACCES ;;
	*"ead-only file system"*) echo EROFS ;;
	*"o such file"*) echo ENOENT ;;
	*"nvalid argument"*) echo EINVAL ;;
	*"evice or resource busy"*) echo EBUSY ;;
	*) echo "other($(echo "$1" | tr ' ' _ | head -c 60))" ;;
	esac
}

# 1. sbx's pins: unlink, rename (only the pin held a link before)
n=0 seen=0 err=
# nothing listed (a directory this user cannot search or list): the pin
# every instance has, by name; a refusal other than ENOENT shows it is there
list=$(ls -d "$pins"/* 2>/dev/null)
[ -n "$list" ] || list=$pins/sbx_config
for f in $list; do
	if [ ! -e "$f" ]; then
		e=$(rm "$f" 2>&1)
		[ "$(errno "$e")" = ENOENT ] && continue
		err=$(errno "$e") seen=1
		continue
	fi
	seen=1
	e=$(rm -f "$f" 2>&1) || err=$(errno "$e")
	[ -e "$f" ] || n=$((n + 1))
	if e=$(mv "$f" "$f.x" 2>&1); then n=$((n + 1)); else err=$(errno "$e"); fi
done
[ -d "$pins" ] && { if e=$(rmdir "$pins" 2>&1); then n=$((n + 1)); else err=${err:-$(errno "$e")}; fi; }
if [ "$seen" = 0 ] && [ "$n" = 0 ]; then
	echo "unlink_pins unreachable no pins visible in $pins"
else
	[ "$n" -gt 0 ]; say unlink_pins $? "$err"
fi

# 2. leave the cgroup: the parent's and the hierarchy root's cgroup.procs,
# 3. raise the limits: pids.max, memory.max (v2), v1 pids and memory
esc=1 lim=1 esc_seen=0 lim_seen=0 esc_err= lim_err=
while IFS=: read -r _ ctrl path; do
	case $ctrl in
	"") dirs="/sys/fs/cgroup/unified /sys/fs/cgroup" ;;
	name=*) continue ;;
	*) dirs="/sys/fs/cgroup/$ctrl" ;;
	esac
	for m in $dirs; do
		d=$m$path
		[ -d "$d" ] || continue
		for t in "$(dirname "$d")" "$m"; do
			[ -e "$t/cgroup.procs" ] || continue
			esc_seen=1
			if e=$( (echo $$ >"$t/cgroup.procs") 2>&1); then esc=0; else esc_err=$(errno "$e"); fi
		done
		for k in pids.max:max memory.max:max memory.limit_in_bytes:-1 \
			memory.memsw.limit_in_bytes:-1; do
			[ -e "$d/${k%%:*}" ] || continue
			lim_seen=1
			if e=$( (echo "${k#*:}" >"$d/${k%%:*}") 2>&1); then lim=0; else lim_err=$(errno "$e"); fi
		done
	done
done </proc/self/cgroup
if [ "$esc_seen" = 0 ]; then echo "leave_cgroup unreachable no cgroup.procs above this process's cgroups"
else say leave_cgroup $esc "$esc_err"; fi
if [ "$lim_seen" = 0 ]; then echo "raise_limits unreachable no limit file in this process's cgroups"
else say raise_limits $lim "$lim_err"; fi

# 4. a sysfs knob of the host (written back with its own value)
k=/sys/kernel/mm/transparent_hugepage/defrag
if [ -w "$k" ] || [ -e "$k" ]; then
	v=$(sed 's/.*\[\(.*\)\].*/\1/' "$k" 2>/dev/null)
	if [ -z "$v" ]; then
		echo "sysfs_write unreachable $k cannot be read"
	elif e=$( (echo "$v" >"$k") 2>&1); then
		say sysfs_write 0
	else
		say sysfs_write 1 "$(errno "$e")"
	fi
fi

# 5. bpf(2): BPF_OBJ_GET on a pin, BPF_LINK_GET_NEXT_ID
if [ -x /usr/bin/python3 ]; then
	/usr/bin/python3 - "$pins" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    return libc.syscall(321, cmd, buf, 128)
got = 0
try:
    names = os.listdir(sys.argv[1])
except OSError:
    names = []
for n in names:
    p = ctypes.create_string_buffer((sys.argv[1] + "/" + n).encode())
    attr = ctypes.c_uint64(ctypes.addressof(p)).value.to_bytes(8, "little")
    if bpf(7, attr) >= 0:          # BPF_OBJ_GET
        got = 1
if bpf(31, b"\0" * 8) >= 0:        # BPF_LINK_GET_NEXT_ID
    got = 1
print("bpf_syscall", "ok" if got else "refused")
PY
fi

# 6. a bpffs of its own
mkdir -p /tmp/bpfmnt 2>/dev/null
# (the raw syscall: mount(8) refuses a non-root caller without trying)
if [ -x /usr/bin/python3 ]; then
	/usr/bin/python3 - <<'PY'
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
if libc.mount(b"bpf", b"/tmp/bpfmnt", b"bpf", 0, None) == 0:
    libc.umount2(b"/tmp/bpfmnt", 0)
    print("mount_bpffs ok")
else:
    print("mount_bpffs refused", errno.errorcode.get(ctypes.get_errno(), "?"))
PY
elif e=$(mount -t bpf bpf /tmp/bpfmnt 2>&1); then
	umount /tmp/bpfmnt
	say mount_bpffs 0
else
	say mount_bpffs 1 "$(errno "$e")"
fi
exit 0
