#!/bin/bash
# SPDX-License-Identifier: MIT
#
# BPF LSM filesystem and exec policy (bpf/lib/lsm.h), inside the VM guest:
# every hook and every bypass of docs/security.md, checked by what the
# workload sees (EACCES/EPERM) and by the one audit event each refusal
# leaves (op, access, rule, backend, path).
#
# The workload is a bash "agent" in a host-provider sandbox that runs the
# commands this script sends it through a FIFO, so that every case runs
# inside the sandbox's cgroup under a policy written beforehand. The policy
# is written into sbx_fscfg/sbx_paths/sbx_execs by $VM_TOOLS/lsm_tool (as
# user space will from the profile's [fs]), with SBX_FSF_ENFORCE; the
# profile itself says fs mode "full" so that sbx adds nothing of its own.
#
# Prints PASS/FAIL/SKIP lines; exits 1 when a case failed.

set -u
SBX=${SBX:-${OUTPUT:-$PWD/build}/sbx}
VM_TOOLS=${VM_TOOLS:-${OUTPUT:-$PWD/build}/tests/vm}
TOOL=$VM_TOOLS/lsm_tool
export SBX_INSTANCE="vmlsmfs-$$"
W=$(mktemp -d /tmp/lsmfs.XXXXXX)
chmod 755 "$W"
export SBX_LOG_DIR="$W/log"
AGENT=""
failed=0

finish()
{
	[ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	umount "$W/pub/m" 2>/dev/null
	umount "$W/pub/um" 2>/dev/null
	"$SBX" unload >/dev/null 2>&1
	rm -rf "$W" "/run/$SBX_INSTANCE"
}
trap finish EXIT

say() { echo "$1 lsm_fs.$2${3:+: $3}"; [ "$1" = FAIL ] && failed=1; return 0; }

if [ ! -x "$TOOL" ]; then
	say SKIP all "$TOOL is not built (tests/vm/run.sh builds tests/vm/*.c)"
	exit 0
fi
if ! "$SBX" features bpf_lsm 2>/dev/null | grep -q '^bpf_lsm *yes'; then
	say SKIP all "BPF LSM is not functional on $(uname -r)"
	exit 0
fi

# ---- the agent -------------------------------------------------------------------

cat >"$W/p.toml" <<EOF
[profile."t.lsm"]
provider = "host"
min_isolation = "none"
enforcement = "best-effort"
user = "root"                    # the agent works in root's temp dir; the hooks are the subject
timeout = "240s"
[profile."t.lsm".network]
mode = "none"
[profile."t.lsm".fs]
mode = "full"
EOF

# start_agent: a sandboxed bash that evals each line of $W/in and answers
# with its output (base64, one line) on $W/out. Sets SLOT.
start_agent()
{
	rm -f "$W/in" "$W/out"
	mkfifo "$W/in" "$W/out"
	"$SBX" run -P "$W/p.toml" -- bash -c '
		exec 3<>"$1" 4<>"$2"
		echo ready >&4
		while IFS= read -r l <&3; do
			r=$(eval "$l" 2>&1 </dev/null)
			printf "%s\n" "$r" | base64 -w0 >&4
			echo >&4
		done' agent "$W/in" "$W/out" >"$W/agent.log" 2>&1 &
	AGENT=$!
	exec 5<>"$W/in" 6<>"$W/out"
	local ready=""
	read -r -t 180 ready <&6	# the first run loads every program: slow under TCG on a loaded host
	[ "$ready" = ready ] || { cat "$W/agent.log"; return 1; }
	SLOT=$(ls "/run/$SBX_INSTANCE/slots" 2>/dev/null | head -1)
	[ -n "$SLOT" ]
}

stop_agent()
{
	exec 5>&- 6<&-
	kill "$AGENT" 2>/dev/null
	wait "$AGENT" 2>/dev/null
	AGENT=""
}

# in_sbx CMD: run CMD in the agent, print its output.
in_sbx()
{
	local r=""
	printf '%s\n' "$*" >&5
	read -r -t 120 r <&6 || { echo "(agent did not answer)"; return; }
	base64 -d <<<"$r"
}

# expect NAME CMD WANT [EVENT]: CMD's output contains WANT; with EVENT, the
# refusal left exactly one audit event, and it contains EVENT (the fields
# "op=... verdict=deny access=... rule=... backend=bpf-lsm error=... path=...");
# without EVENT, no event at all.
expect()
{
	local name=$1 cmd=$2 want=$3 ev=${4:-} out evs n
	out=$(in_sbx "$cmd")
	evs=$("$TOOL" events 100)
	n=$(grep -c . <<<"$evs")
	if [[ $out != *"$want"* ]]; then
		say FAIL "$name" "wanted '$want', got '$(head -c 300 <<<"$out")'"
	elif [ -z "$ev" ] && [ "$n" != 0 ]; then
		say FAIL "$name" "unexpected audit event(s): $(head -c 300 <<<"$evs")"
	elif [ -n "$ev" ] && [ "$n" != 1 ]; then
		say FAIL "$name" "wanted one audit event, got $n: $(head -c 400 <<<"$evs")"
	elif [ -n "$ev" ] && [[ $evs != *"$ev"* ]]; then
		say FAIL "$name" "event '$evs' lacks '$ev'"
	else
		say PASS "$name"
	fi
}

DENY="verdict=deny"
BK="backend=bpf-lsm error=13"

# ---- the files -------------------------------------------------------------------

mkdir -p "$W/pub/m" "$W/pub/um" "$W/pub/mm" "$W/secret" "$W/ro/sub" "$W/bin" "$W/pub/dir"
echo top >"$W/secret/key"
echo ro >"$W/ro/a"
echo pub >"$W/pub/f"
echo no >"$W/pub/deny.txt"
echo other >"$W/other.txt"
cp /usr/bin/true "$W/pub/true"
cp /bin/bash "$W/pub/sh"
chmod 755 "$W/pub/true" "$W/pub/sh"
printf '#!%s\necho script-ran\n' "$W/pub/sh" >"$W/bin/s.sh"
chmod 755 "$W/bin/s.sh"
ln -s "$W/secret/key" "$W/pub/link"
long="$W/pub"
while [ ${#long} -lt 300 ]; do long="$long/dddddddddddddddddddddddddddddd"; done
mkdir -p "$long" && echo deep >"$long/f"

# ---- sandbox A: mode read-only, rules, no exec list ----------------------------

if ! start_agent; then
	say FAIL agent "the sandboxed agent did not start"
	exit 1
fi
# rules 0..4
if ! "$TOOL" policy "$SLOT" ro 0 "$W/pub/=rw" "$W/secret/=deny" "$W/ro/=r" \
	"$W/pub/deny.txt=deny" "$W/bin/=rx" "/dev/null=rw" >/dev/null; then
	say FAIL policy "lsm_tool policy failed"
	exit 1
fi
"$TOOL" events 10 >/dev/null	# drop what came before

# file_open
expect open.read_allowed "cat $W/ro/a" "ro"
expect open.read_default "cat /etc/hostname >/dev/null && echo ok" "ok"
expect open.read_denied_dir_rule "cat $W/secret/key" "Permission denied" \
	"op=open $DENY access=r rule=1 $BK path=$W/secret/key"
expect open.read_denied_file_rule "cat $W/pub/deny.txt" "Permission denied" \
	"op=open $DENY access=r rule=3 $BK path=$W/pub/deny.txt"
expect open.write_denied_rule "$TOOL open $W/ro/a w" "EACCES" \
	"op=open $DENY access=w rule=2 $BK path=$W/ro/a"
expect open.write_denied_default "$TOOL open $W/other.txt rw" "EACCES" \
	"op=open $DENY access=rw rule=default $BK path=$W/other.txt"
expect open.write_allowed "echo x >$W/pub/f && echo ok" "ok"
expect open.dir_rule_covers_dir "ls $W/secret" "Permission denied" \
	"op=open $DENY access=r rule=1 $BK path=$W/secret/"
expect open.dir_allowed "$TOOL open $W/pub dir" "OK"
expect open.too_long_fails_closed "cat $long/f" "Permission denied" \
	"op=open $DENY access=r rule=none $BK path=.../f"
# path hooks
expect create.denied "touch $W/ro/new" "Permission denied" \
	"op=create $DENY access=w rule=2 $BK path=$W/ro/new"
expect create.allowed "touch $W/pub/new && echo ok" "ok"
expect unlink.denied "rm -f $W/ro/a" "Permission denied" \
	"op=unlink $DENY access=w rule=2 $BK path=$W/ro/a"
expect unlink.allowed "rm $W/pub/new && echo ok" "ok"
expect mkdir.denied "mkdir $W/ro/d" "Permission denied" \
	"op=mkdir $DENY access=w rule=2 $BK path=$W/ro/d/"
expect rmdir.denied "rmdir $W/ro/sub" "Permission denied" \
	"op=rmdir $DENY access=w rule=2 $BK path=$W/ro/sub/"
expect mkdir_rmdir.allowed "mkdir $W/pub/d2 && rmdir $W/pub/d2 && echo ok" "ok"
expect symlink.denied "ln -s /x $W/ro/l" "Permission denied" \
	"op=symlink $DENY access=w rule=2 $BK path=$W/ro/l"
expect mknod.denied "mknod $W/ro/fifo p" "Permission denied" \
	"op=mknod $DENY access=w rule=2 $BK path=$W/ro/fifo"
expect truncate.denied "python3 -c 'import os; os.truncate(\"$W/ro/a\", 0)'" "Permission denied" \
	"op=truncate $DENY access=w rule=2 $BK path=$W/ro/a"
expect chmod.denied "chmod 600 $W/ro/a" "Permission denied" \
	"op=chmod $DENY access=w rule=2 $BK path=$W/ro/a"
expect chown.denied "chown 1:1 $W/ro/a" "Permission denied" \
	"op=chown $DENY access=w rule=2 $BK path=$W/ro/a"
expect chmod.allowed "chmod 600 $W/pub/f && echo ok" "ok"
expect rename.source_denied "mv $W/ro/a $W/pub/a" "Permission denied" \
	"op=rename $DENY access=w rule=2 $BK path=$W/ro/a"
expect rename.dest_denied "mv $W/pub/f $W/ro/f" "Permission denied" \
	"op=rename $DENY access=w rule=2 $BK path=$W/ro/f"
expect rename.allowed "mv $W/pub/f $W/pub/g && mv $W/pub/g $W/pub/f && echo ok" "ok"
expect rename.directory_refused "mv $W/pub/dir $W/pub/dir2" "Permission denied" \
	"op=rename $DENY access=w rule=none $BK path=$W/pub/dir/"
# Landlock, which every host workload runs under (scoping), refuses mounts
# itself, and it comes before bpf in lsm=: the refusal is EPERM and the BPF
# LSM's sb_mount hook (the second line) is not reached, so no sbx event
expect mount.refused "$TOOL mount none $W/pub/m tmpfs" "EPERM"
# umount checks CAP_SYS_ADMIN before the LSM hook, and sandboxed workloads
# no longer hold it: this case tests the KERNEL's refusal (no sbx event);
# the *.hook_decides cases below are where sb_umount/sb_mount decide
expect umount.refused "$TOOL umount /sys/fs/bpf" "EPERM"

# expect_hook NAME CMD WANT EVENT: CMD run by a process of the sandbox that
# the kernel and Landlock let through (root with CAP_SYS_ADMIN, not under
# Landlock: a shell of this script moved into the agent's cgroup), so that
# only sbx's BPF LSM hook can refuse it, with its audit event. The hooks
# judge workloads, which sbx starts with no_new_privs: the shell sets it too
# (prctl through python3, which keeps its capabilities).
expect_hook()
{
	local name=$1 cmd=$2 want=$3 ev=$4 cg out evs n
	cg=$(sed -n 's/^cgroup=//p' "/run/$SBX_INSTANCE/slots/$SLOT")
	[ -d "$cg" ] || { say FAIL "$name" "no cgroup for slot $SLOT ($cg)"; return; }
	out=$(sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec python3 -c "
import ctypes, os, sys
if ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0):  # PR_SET_NO_NEW_PRIVS
    sys.exit(\"prctl no_new_privs failed\")
os.execv(sys.argv[1], sys.argv[1:])" "$@"' sh "$cg" $cmd 2>&1)
	evs=$("$TOOL" events 100)
	n=$(grep -c . <<<"$evs")
	if [[ $out != *"$want"* ]]; then
		say FAIL "$name" "wanted '$want', got '$(head -c 300 <<<"$out")'"
	elif [ "$n" != 1 ]; then
		say FAIL "$name" "wanted one audit event, got $n: $(head -c 400 <<<"$evs")"
	elif [[ $evs != *"$ev"* ]]; then
		say FAIL "$name" "event '$evs' lacks '$ev'"
	else
		say PASS "$name"
	fi
}
# the same umount is allowed outside the sandbox (the mount is the test's)
mount -t tmpfs sbxtest-um "$W/pub/um"
expect_hook umount.hook_decides "$TOOL umount $W/pub/um" "EPERM" \
	"op=mount $DENY access=w rule=none backend=bpf-lsm error=1"
mountpoint -q "$W/pub/um" || say FAIL umount.hook_decides "the tmpfs was unmounted"
expect_hook mount.hook_decides "$TOOL mount none $W/pub/mm tmpfs" "EPERM" \
	"op=mount $DENY access=w rule=none backend=bpf-lsm error=1 path=$W/pub/mm"
mountpoint -q "$W/pub/mm" && { umount "$W/pub/mm"; say FAIL mount.hook_decides "the tmpfs was mounted"; }
expect exec.denied "$W/pub/true" "Permission denied" \
	"op=exec $DENY access=rx rule=0 $BK path=$W/pub/true"
expect exec.allowed "/usr/bin/true && echo ok" "ok"
expect mmap_exec.denied "$TOOL mmap-exec $W/pub/f" "EACCES" \
	"op=mmap_exec $DENY access=x rule=0 $BK path=$W/pub/f"
expect mprotect_exec.denied "$TOOL mprotect-exec $W/pub/f" "EACCES" \
	"op=mmap_exec $DENY access=x rule=0 $BK path=$W/pub/f"
expect mmap_exec.allowed "$TOOL mmap-exec /usr/bin/true" "OK"

# bypasses
expect bypass.symlink "cat $W/pub/link" "Permission denied" \
	"op=open $DENY access=r rule=1 $BK path=$W/secret/key"
expect bypass.hardlink "ln $W/secret/key $W/pub/k" "Permission denied" \
	"op=link $DENY access=rw rule=1 $BK path=$W/secret/key"
expect bypass.rename_into_allowed "mv $W/secret/key $W/pub/key" "Permission denied" \
	"op=rename $DENY access=rw rule=1 $BK path=$W/secret/key"
expect bypass.dotdot_after_chdir "cd $W/pub && cat ../secret/key" "Permission denied" \
	"op=open $DENY access=r rule=1 $BK path=$W/secret/key"
expect bypass.relative_after_chdir "cd $W/secret && cat key" "Permission denied" \
	"op=open $DENY access=r rule=1 $BK path=$W/secret/key"
expect bypass.proc_self_root "cat /proc/self/root$W/secret/key" "Permission denied" \
	"op=open $DENY access=r rule=1 $BK path=$W/secret/key"
expect bypass.opath_reopen "$TOOL opath $W/secret/key" "EACCES" \
	"op=open $DENY access=r rule=1 $BK path=$W/secret/key"
expect bypass.opath_execveat "$TOOL execveat-opath $W/pub/true" "EACCES" \
	"op=exec $DENY access=rx rule=0 $BK path=$W/pub/true"
# io_uring itself is refused by sbx's seccomp guard (EPERM at io_uring_setup,
# audited as syscall.denied, not as a file event) before any open is tried
expect bypass.io_uring "$TOOL uring $W/secret/key" "EPERM"
expect bypass.bind_mount "$TOOL mount $W/secret $W/pub/m bind" "EPERM"	# Landlock first, as above
expect bypass.shebang_interpreter "$W/bin/s.sh" "Permission denied" \
	"op=exec $DENY access=rx rule=0 $BK path=$W/pub/sh"
expect bypass.ldso "/lib64/ld-linux-x86-64.so.2 $W/pub/true" "" \
	"op=mmap_exec $DENY access=x rule=0 $BK path=$W/pub/true"
if [ "$(cat "$W/secret/key")" = top ] && cat "$W/secret/key" >/dev/null; then
	say PASS outside_sandbox_unaffected
else
	say FAIL outside_sandbox_unaffected "the host cannot read $W/secret/key"
fi
stop_agent

# ---- sandbox B: exec allow-list ---------------------------------------------------

if ! start_agent; then
	say FAIL agent_exec "the sandboxed agent did not start"
	exit 1
fi
"$TOOL" policy "$SLOT" ro 1 "$W/pub/=rwx" "/dev/null=rw" "x:/usr/" "x:$VM_TOOLS/" "x:$W/bin/" >/dev/null
"$TOOL" events 10 >/dev/null
expect execlist.allowed "/usr/bin/true && echo ok" "ok"
expect execlist.tool_allowed "$TOOL open $W/pub/f r" "OK"
expect execlist.not_listed "$W/pub/true" "Permission denied" \
	"op=exec $DENY access=rx rule=0 $BK path=$W/pub/true"
expect execlist.ldso "/lib64/ld-linux-x86-64.so.2 $W/pub/true" "" \
	"op=mmap_exec $DENY access=x rule=0 $BK path=$W/pub/true"
expect execlist.memfd_execveat "$TOOL memfd-exec /usr/bin/true" "EACCES" \
	"op=exec $DENY access=x rule=none $BK path=.../memfd:sbxtest"
expect execlist.shebang_interpreter "$W/bin/s.sh" "Permission denied" \
	"op=exec $DENY access=rx rule=0 $BK path=$W/pub/sh"
expect execlist.mprotect "$TOOL mprotect-exec $W/pub/f" "EACCES" \
	"op=mmap_exec $DENY access=x rule=0 $BK path=$W/pub/f"
stop_agent

exit $failed
