#!/bin/sh
# SPDX-License-Identifier: MIT
# Run inside a sandbox as uid 0 by tests/security/test_root_workload.sh:
# every way we know for root to weaken sbx's enforcement, one line each:
# "LABEL ok" when the attempt worked, "LABEL refused" when it did not.
# Usage: root_attack.sh PIN-DIR
pins=$1

say() { if [ "$2" = 0 ]; then echo "$1 ok"; else echo "$1 refused"; fi; }

# 1. sbx's pins: unlink, rename (only the pin held a link before)
n=0
for f in "$pins"/*; do
	[ -e "$f" ] || continue
	rm -f "$f" 2>/dev/null
	[ -e "$f" ] || n=$((n + 1))
	mv "$f" "$f.x" 2>/dev/null && n=$((n + 1))
done
[ -d "$pins" ] && rmdir "$pins" 2>/dev/null && n=$((n + 1))
[ "$n" -gt 0 ]; say unlink_pins $?

# 2. leave the cgroup: the parent's and the hierarchy root's cgroup.procs,
# 3. raise the limits: pids.max, memory.max (v2), v1 pids and memory
esc=1 lim=1
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
			[ -e "$t/cgroup.procs" ] && echo $$ >"$t/cgroup.procs" 2>/dev/null && esc=0
		done
		for k in pids.max:max memory.max:max memory.limit_in_bytes:-1 \
			memory.memsw.limit_in_bytes:-1; do
			[ -e "$d/${k%%:*}" ] && echo "${k#*:}" >"$d/${k%%:*}" 2>/dev/null && lim=0
		done
	done
done </proc/self/cgroup
say leave_cgroup $esc
say raise_limits $lim

# 4. a sysfs knob of the host (written back with its own value)
k=/sys/kernel/mm/transparent_hugepage/defrag
if [ -w "$k" ] || [ -e "$k" ]; then
	v=$(sed 's/.*\[\(.*\)\].*/\1/' "$k" 2>/dev/null)
	[ -n "$v" ] && echo "$v" >"$k" 2>/dev/null
	say sysfs_write $?
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
if mount -t bpf bpf /tmp/bpfmnt 2>/dev/null; then
	umount /tmp/bpfmnt
	say mount_bpffs 0
else
	say mount_bpffs 1
fi
exit 0
