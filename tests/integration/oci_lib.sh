# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# What the OCI caller tests (test_oci_podman.sh, test_oci_containerd.sh)
# share, sourced after lib.sh:
#   OCI_RUNTIME   the runtime under test (env SBX_OCI_RUNTIME, default
#                 $OUTPUT/sbx-oci), OCI_REF the reference runtime (env
#                 SBX_OCI_REF, default runc from PATH): every case runs on
#                 both, so that a case that passes on runc shows the test is
#                 right, and the same case on sbx-oci tests sbx-oci
#   ROOTFS        the case's busybox rootfs (tests/oci/mkrootfs.sh): one per
#                 runtime ($T_TMP/rootfs.runc, rootfs.sbx-oci; oci_mkrootfs
#                 makes both), so that the mount points one runtime creates
#                 in it cannot hide that the other does not
#   oci_cases NAME FN   run_case NAME.runc and NAME.sbx-oci, with RT (the
#                 runtime's path) and RT_NAME set; a runtime that is not there
#                 makes its case SKIP with the reason
#   cgroup parent: runc's containers go under a parent of this file's own
#                 (OCI_CGPARENT, /sbxtest-PID-oci-FILE, which
#                 tests/run-integration.sh sweeps once PID is gone), removed
#                 at the end in every hierarchy; sbx-oci places a container in
#                 its sbx sandbox's cgroup whatever the path says
OCI_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OCI_RUNTIME=${SBX_OCI_RUNTIME:-${OUTPUT:-$OCI_SRC/build}/sbx-oci}
OCI_REF=${SBX_OCI_REF:-$(command -v runc 2>/dev/null || echo /usr/sbin/runc)}
OCI_CGPARENT=/sbxtest-$$-oci-$T_FILE
OCI_SKIP_RT=""		# why the runtime under test cannot be tried (set by oci_check_runtime)

# oci_cgroup_dirs: this file's cgroup parent in every hierarchy (one a line).
oci_cgroup_dirs()
{
	awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") print $5 }' \
		/proc/self/mountinfo | while read -r m; do echo "$m$OCI_CGPARENT"; done
}

# oci_cgroup_cleanup: kills what is left in the parent, removes it depth first.
oci_cgroup_cleanup()
{
	local d
	for d in $(oci_cgroup_dirs); do
		[ -d "$d" ] || continue
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null
	done
	sleep 0.1
	for d in $(oci_cgroup_dirs); do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	return 0
}

# oci_cgroups_left: the sandbox cgroups that sbx-oci made under this file's
# cgroup parent (where conmon and the shims run: its v1 devices cgroups are
# <creator's own>/sbx-oci/<sandbox>) and did not remove, one a line.
oci_cgroups_left()
{
	local d
	for d in $(oci_cgroup_dirs); do
		[ -d "$d" ] && find "$d" -mindepth 2 -type d -path '*/sbx-oci/*' 2>/dev/null
	done
}

# case_oci_nothing_left: after the cases, no sandbox cgroup of sbx-oci is
# left under the parent (each container's manager removes its own).
case_oci_nothing_left()
{
	local left
	for _ in $(seq 30); do
		left=$(oci_cgroups_left)
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	fail "sbx-oci left cgroups behind: $(echo $left)"
}

# oci_umount_under DIR: lazily unmounts every mount under DIR, deepest first.
oci_umount_under()
{
	awk -v p="$1/" 'index($5 "/", p) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
}

# oci_check_runtime: sets OCI_SKIP_RT when the runtime under test is missing.
oci_check_runtime()
{
	if [ ! -x "$OCI_RUNTIME" ]; then
		OCI_SKIP_RT="$OCI_RUNTIME is not built (make all builds sbx-oci)"
	fi
}

# oci_mkrootfs: both rootfs trees; EXTRA (shell commands) runs in each.
oci_mkrootfs()
{
	local n
	for n in runc sbx-oci; do
		bash "$OCI_SRC/tests/oci/mkrootfs.sh" "$T_TMP/rootfs.$n" || return 1
		(cd "$T_TMP/rootfs.$n" && eval "${1:-:}") || return 1
	done
}

# oci_cases NAME FN: NAME.runc and NAME.sbx-oci.
oci_cases()
{
	local name=$1 fn=$2
	RT=$OCI_REF RT_NAME=runc ROOTFS=$T_TMP/rootfs.runc
	if [ -x "$OCI_REF" ]; then
		run_case "$name.runc" "$fn"
	else
		RT_SKIP="runc is not installed (apt-get install runc)" run_case "$name.runc" _oci_skip
	fi
	RT=$OCI_RUNTIME RT_NAME=sbx-oci ROOTFS=$T_TMP/rootfs.sbx-oci
	if [ -z "$OCI_SKIP_RT" ]; then
		run_case "$name.sbx-oci" "$fn"
	else
		RT_SKIP=$OCI_SKIP_RT run_case "$name.sbx-oci" _oci_skip
	fi
}

# oci_case_sbx NAME FN: a case that only sbx-oci can pass (sbx's policy).
oci_case_sbx()
{
	RT=$OCI_RUNTIME RT_NAME=sbx-oci ROOTFS=$T_TMP/rootfs.sbx-oci
	if [ -z "$OCI_SKIP_RT" ]; then
		run_case "$1.sbx-oci" "$2"
	else
		RT_SKIP=$OCI_SKIP_RT run_case "$1.sbx-oci" _oci_skip
	fi
}

_oci_skip()
{
	skip "$RT_SKIP"
}

# oci_deny_policy FILE PROFILE PORT: a profile whose network policy denies
# TCP to 127.0.0.1:PORT and allows the rest, every decision audited.
oci_deny_policy()
{
	cat >"$1" <<EOF
version = 1
[profile.$2]
provider = "host"
min_isolation = "none"
audit = "all"
[profile.$2.network]
mode = "deny"
deny = ["127.0.0.1:$3/tcp"]
[profile.$2.fs]
mode = "full"
EOF
}

# oci_audit_lines ID PORT: the net.connect events (JSON lines) of sbx's
# audit logs under $SBX_LOG_DIR whose "container" is ID and port PORT.
oci_audit_lines()
{
	cat "$SBX_LOG_DIR"/*.jsonl "$SBX_LOG_DIR"/*/*.jsonl 2>/dev/null |
		jq -c --arg id "$1" --argjson port "$2" \
			'select(.container == $id and .event == "net.connect" and .port == $port)' 2>/dev/null
}

# write_pty_driver: $T_TMP/ptydrive.py CMD...: the terminal side of `podman
# run -it` and `ctr run -t`: CMD's stdin/stdout are the slave of a pty the
# script holds; it waits for busybox sh's prompt, types a command, reads its
# echo and output, types `exit 5` and prints what it saw and CMD's status.
write_pty_driver()
{
	cat >"$T_TMP/ptydrive.py" <<'EOF'
import os, pty, select, sys, time
argv = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
buf = b""
def read_until(want, secs):
    global buf
    end = time.time() + secs
    while want not in buf and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                break
            if not d:
                break
            buf += d
    return want in buf
ok = read_until(b"# ", 20)      # busybox sh's root prompt
os.write(fd, b"tty; echo $((6*7))x\n")
got = read_until(b"42x", 10)
os.write(fd, b"exit 5\n")
end = time.time() + 20
status = None
while time.time() < end:
    p, st = os.waitpid(pid, os.WNOHANG)
    if p:
        status = os.waitstatus_to_exitcode(st)
        break
    read_until(b"\0never", 0.2)
sys.stdout.write("prompt %s\nanswer %s\nstatus %s\n" % (ok, got, status))
sys.stdout.write("transcript %r\n" % buf)
EOF
}
