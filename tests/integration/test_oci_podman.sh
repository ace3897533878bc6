#!/bin/bash
# SPDX-License-Identifier: MIT
# sbx-oci under Podman (docs/oci.md): `podman --runtime sbx-oci run --rm
# --rootfs DIR` with a busybox rootfs (tests/oci/mkrootfs.sh, nothing from a
# registry). Every case runs with runc too (oci_lib.sh): exit codes (0, 3,
# a signal death as 128+N), stdout and stderr apart, the default device
# nodes under Podman's deny-all device rules, `-it` through the
# console socket driven by a pty, `podman exec`, `podman stop` (SIGTERM
# trapped and ignored, SIGKILL after --time 1), `podman kill -s USR1`,
# --memory and --pids-limit in effect; then the annotated run: with
# org.sbx.profile naming a profile of SBX_POLICY_DIR that denies
# 127.0.0.1:PORT, the connect fails with EPERM and sbx's audit log has it
# once, with the container id (runc: the same connect succeeds); and the
# CVE-2019-5736 attempt: a container process cannot write the runtime's
# executable through /proc/PID/exe.
# Podman's storage is private (--root/--runroot/--tmpdir under the test's
# temporary directory, vfs driver, cgroupfs, file events, the host's network
# so that no CNI plugin runs): the host's containers are never touched. Skips when podman is missing or
# cannot run a container here with runc.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci_lib.sh"

PD=$T_TMP/podman
# what conmon gives the runtime: `create` sees this environment only
# (podman runs the other verbs with PATH and XDG_RUNTIME_DIR alone)
export CONTAINERS_CONF=$PD/containers.conf
PODMAN=(podman --root "$PD/root" --runroot "$PD/runroot" --tmpdir "$PD/tmp" --storage-driver vfs
	--cgroup-manager cgroupfs --events-backend file --network-config-dir "$PD/net")
# Podman's default rlimits exceed this host's hard limits (docs/oci.md)
RUNARGS=(--network host --ulimit nofile=1024:1024 --ulimit nproc=1024:1024
	--cgroup-parent "$OCI_CGPARENT")

podman_cleanup()
{
	if [ -d "$PD" ] && command -v podman >/dev/null; then
		timeout 30 "${PODMAN[@]}" rm -af -t 0 >/dev/null 2>&1
		for rt in "$OCI_REF" "$OCI_RUNTIME"; do
			[ -x "$rt" ] && timeout 30 "${PODMAN[@]}" --runtime "$rt" rm -af -t 0 >/dev/null 2>&1
		done
	fi
	oci_cgroup_cleanup
	oci_umount_under "$PD"
}
trap 'podman_cleanup; _cleanup' EXIT

podman_setup()
{
	command -v podman >/dev/null || { echo "SKIP: podman is not installed (apt-get install podman)"; return 0; }
	mkdir -p "$PD/tmp" "$PD/net" "$T_TMP/marks" && chmod 1777 "$T_TMP/marks" || return 1
	printf '[engine]\nconmon_env_vars = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SBX_INSTANCE=%s", "SBX_LOG_DIR=%s", "SBX_POLICY_DIR=%s"]\n' \
		"$SBX_INSTANCE" "$SBX_LOG_DIR" "$SBX_POLICY_DIR" >"$CONTAINERS_CONF"
	mkdir -p "$SBX_POLICY_DIR" "$SBX_LOG_DIR"
	# /evil: the CVE-2019-5736 case's script
	oci_mkrootfs "printf '#!/proc/self/exe\\n' >evil && chmod 0755 evil" || return 1
	oci_check_runtime
	# can podman run anything here at all (with runc)? (in a rootfs of its own)
	bash "$OCI_SRC/tests/oci/mkrootfs.sh" "$T_TMP/rootfs.try" || return 1
	if ! out=$(timeout 60 "${PODMAN[@]}" --runtime "$OCI_REF" run --rm "${RUNARGS[@]}" --rootfs "$T_TMP/rootfs.try" \
		/bin/true 2>&1); then
		echo "SKIP: podman cannot run a container here with $OCI_REF: $(tail -c 300 <<<"$out")"
	fi
	return 0
}

# prun NAME [PODMAN-RUN-ARGS]... -- CMD...: `podman run --rm` of CMD on the
# case's runtime; stdout to NAME.out, stderr to NAME.err; sets RC.
prun()
{
	local name=$1
	shift
	local -a a=()
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	timeout -s KILL 60 "${PODMAN[@]}" --runtime "$RT" run --rm "${RUNARGS[@]}" "${a[@]}" \
		--rootfs "$ROOTFS" "$@" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err" </dev/null
	RC=$?
}

perr()
{
	tail -c 400 "$T_TMP/$1.err" | tr '\n' ' '
}

# pstart NAME [ARGS]... -- CMD...: a detached container named NAME.RT_NAME
# (sets CID, its full id).
pstart()
{
	local name=$1.$RT_NAME
	shift
	local -a a=()
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	CID=$(timeout -s KILL 60 "${PODMAN[@]}" --runtime "$RT" run -d --name "$name" "${RUNARGS[@]}" "${a[@]}" \
		--rootfs "$ROOTFS" "$@" 2>"$T_TMP/$name.err") || fail "podman run -d $name failed: $(perr "$name")"
	CNAME=$name
	T_CASE_RESTORE="timeout 30 ${PODMAN[*]} --runtime $RT rm -f -t 0 $name >/dev/null 2>&1"
}

pod()
{
	timeout -s KILL 60 "${PODMAN[@]}" --runtime "$RT" "$@"
}

case_exit_codes()
{
	prun t -- /bin/true
	[ "$RC" = 0 ] || fail "true: exited $RC, expected 0 ($(perr t))"
	prun three -- sh -c 'exit 3'
	[ "$RC" = 3 ] || fail "exit 3: exited $RC, expected 3 ($(perr three))"
	prun segv -- ocitool segv
	[ "$RC" = 139 ] || fail "a SIGSEGV death: exited $RC, expected 139 = 128+11 ($(perr segv))"
	prun missing -- /no/such/program
	[ "$RC" = 127 ] || [ "$RC" = 126 ] || fail "a missing program: exited $RC, expected 127 (or 126) ($(perr missing))"
}

# the default device nodes work under Podman's device rules, which are
# "deny all" alone: a runtime must allow the nodes it makes itself (runc
# adds null, zero, full, random, urandom, tty, ptmx and pts to the rules)
case_device_nodes()
{
	prun dev -- sh -c 'echo x >/dev/null && echo null-ok; head -c 3 /dev/zero | wc -c; head -c 5 /dev/urandom | wc -c;
		head -c 2 /dev/random | wc -c; (echo x >/dev/full) 2>&1 | grep -q "No space" && echo full-enospc'
	[ "$RC" = 0 ] || fail "exited $RC ($(perr dev))"
	eq "the device nodes (null, zero, urandom, random, full)" "$(tr '\n' ' ' <"$T_TMP/dev.out")" "null-ok 3 5 2 full-enospc "
}

case_stdout_stderr()
{
	prun io -- sh -c 'echo to-out; echo to-err >&2; echo more-out'
	[ "$RC" = 0 ] || fail "exited $RC ($(perr io))"
	eq stdout "$(tr '\n' ' ' <"$T_TMP/io.out")" "to-out more-out "
	grep -qx to-err "$T_TMP/io.err" || fail "stderr has no to-err: $(perr io)"
	grep -q to-out "$T_TMP/io.err" && fail "stdout went to stderr too: $(perr io)"
	return 0
}

case_tty()
{
	write_pty_driver
	timeout -s KILL 60 python3 "$T_TMP/ptydrive.py" "${PODMAN[@]}" --runtime "$RT" run --rm -it "${RUNARGS[@]}" \
		--rootfs "$ROOTFS" sh >"$T_TMP/tty.out" 2>&1
	grep -q '^prompt True' "$T_TMP/tty.out" || fail "no shell prompt through the pty: $(tail -c 600 "$T_TMP/tty.out")"
	grep -q '^answer True' "$T_TMP/tty.out" || fail "no answer to the typed command: $(tail -c 600 "$T_TMP/tty.out")"
	grep -q '^status 5$' "$T_TMP/tty.out" || fail "podman run -it did not exit 5: $(tail -c 600 "$T_TMP/tty.out")"
	# the shell's stdin is a terminal of the container's devpts
	grep -q '/dev/pts/[0-9]' "$T_TMP/tty.out" || fail "tty did not name a /dev/pts terminal: $(tail -c 600 "$T_TMP/tty.out")"
}

case_exec()
{
	pstart ex -- sleep 1000
	pod exec "$CNAME" sh -c 'echo in-exec; echo exec-err >&2; exit 4' >"$T_TMP/exec.out" 2>"$T_TMP/exec.err"
	rc=$?
	eq "podman exec's exit code" "$rc" 4
	eq "podman exec's stdout" "$(cat "$T_TMP/exec.out")" in-exec
	grep -qx exec-err "$T_TMP/exec.err" || fail "podman exec's stderr has no exec-err: $(perr exec)"
	# the exec'd process is in the container: it sees the init (sleep) as pid 1
	out=$(pod exec "$CNAME" cat /proc/1/cmdline | tr '\0' ' ')
	eq "pid 1 seen by exec" "$out" "sleep 1000 "
}

case_stop()
{
	pstart stop -v "$T_TMP/marks:/marks" -- \
		sh -c "trap 'echo term >>/marks/stop.$RT_NAME' TERM; echo ready >/marks/stop-ready.$RT_NAME; while :; do sleep 0.1; done"
	wait_for "$T_TMP/marks/stop-ready.$RT_NAME" ready || fail "the workload did not start"
	local t0=$SECONDS
	pod stop --time 1 "$CNAME" >/dev/null 2>"$T_TMP/stop.err" || fail "podman stop failed: $(perr stop)"
	[ $((SECONDS - t0)) -lt 15 ] || fail "podman stop took $((SECONDS - t0)) s"
	grep -qx term "$T_TMP/marks/stop.$RT_NAME" 2>/dev/null || fail "the workload did not get SIGTERM first"
	code=$(pod inspect --format '{{.State.ExitCode}}' "$CNAME")
	eq "exit code after SIGKILL" "$code" 137
}

case_kill_signal()
{
	pstart kill -v "$T_TMP/marks:/marks" -- \
		sh -c "trap 'echo usr1 >>/marks/usr1.$RT_NAME' USR1; echo ready >/marks/usr1-ready.$RT_NAME; while :; do sleep 0.1; done"
	wait_for "$T_TMP/marks/usr1-ready.$RT_NAME" ready || fail "the workload did not start"
	pod kill -s USR1 "$CNAME" >/dev/null 2>"$T_TMP/kill.err" || fail "podman kill -s USR1 failed: $(perr kill)"
	wait_for "$T_TMP/marks/usr1.$RT_NAME" usr1 || fail "the workload did not get SIGUSR1"
	# still running: USR1 was caught, not fatal
	st=$(pod inspect --format '{{.State.Status}}' "$CNAME")
	eq "state after USR1" "$st" running
	pod kill -s KILL "$CNAME" >/dev/null 2>&1
	for _ in $(seq 100); do
		st=$(pod inspect --format '{{.State.Status}}' "$CNAME")
		[ "$st" = exited ] && break
		sleep 0.1
	done
	eq "state after KILL" "$st" exited
	eq "exit code after KILL" "$(pod inspect --format '{{.State.ExitCode}}' "$CNAME")" 137
}

case_memory_limit()
{
	prun memok --memory 64m -- ocitool alloc 16
	[ "$RC" = 0 ] || fail "16 MiB under --memory 64m: exited $RC ($(perr memok))"
	prun mem --memory 64m --memory-swap 64m -- ocitool alloc 256
	[ "$RC" = 137 ] || fail "256 MiB under --memory 64m: exited $RC, expected 137 (an OOM kill); $(tail -1 "$T_TMP/mem.out") $(perr mem)"
	grep -qx "done" "$T_TMP/mem.out" && fail "256 MiB were allocated under --memory 64m"
	return 0
}

case_pids_limit()
{
	prun pids --pids-limit 20 -- ocitool forks 60
	[ "$RC" = 0 ] || fail "exited $RC ($(perr pids))"
	read -r _ n err <"$T_TMP/pids.out"
	[ -n "$n" ] && [ "$n" -lt 20 ] || fail "forked ${n:-?} children under --pids-limit 20: $(cat "$T_TMP/pids.out")"
	eq "fork's errno at the limit" "$err" EAGAIN
}

oci_listen()
{
	start_listener PORT 127.0.0.1 && echo "$PORT" >"$T_TMP/port"
}

# the annotation names a profile of the policy directory; runc ignores it
# (the connect succeeds), sbx-oci denies it and audits it once
case_annotated_connect()
{
	local port
	port=$(cat "$T_TMP/port") || fail "no listener"
	oci_deny_policy "$SBX_POLICY_DIR/oci-test.toml" ocideny "$port"
	# Podman's default capabilities hold CAP_NET_RAW, whose packet sockets
	# sbx's hooks do not see: a strict profile without raw_sockets refuses
	# it (case raw_capability_refused), so the container drops it
	pstart ann --cap-drop NET_RAW --annotation org.sbx.profile=ocideny -- sleep 1000
	pod exec "$CNAME" ocitool connect 127.0.0.1 "$port" >"$T_TMP/ann.out" 2>"$T_TMP/ann.err"
	got=$(cat "$T_TMP/ann.out")
	if [ "$RT_NAME" = runc ]; then
		eq "connect under runc (no sbx policy)" "$got" ok
		return 0
	fi
	eq "connect to the denied 127.0.0.1:$port" "$got" EPERM
	# the init itself too (not only exec'd processes): a run of its own
	prun ann2 --cap-drop NET_RAW --annotation org.sbx.profile=ocideny -- ocitool connect 127.0.0.1 "$port"
	eq "connect of the container's init" "$(cat "$T_TMP/ann2.out")" EPERM
	for _ in $(seq 40); do
		[ -n "$(oci_audit_lines "$CID" "$port")" ] && break
		sleep 0.1
	done
	n=$(oci_audit_lines "$CID" "$port" | wc -l)
	eq "audit lines naming container $CID and port $port" "$n" 1
	oci_audit_lines "$CID" "$port" | grep -q '"verdict":"deny"' ||
		fail "the audited connect is not a denial: $(oci_audit_lines "$CID" "$port")"
}

# Podman's default capabilities (CAP_NET_RAW among them) under a strict
# profile without raw_sockets: refused, naming the capability and the way out
case_raw_capability_refused()
{
	[ "$RT_NAME" = runc ] && return 0
	oci_deny_policy "$SBX_POLICY_DIR/oci-test.toml" ocideny 9
	prun raw --annotation org.sbx.profile=ocideny -- true
	[ "$RC" != 0 ] || fail "a strict profile ran a container holding CAP_NET_RAW"
	grep -q "CAP_NET_RAW without a user namespace: not applied by sbx-oci.*raw_sockets = true" \
		"$T_TMP/raw.err" || fail "refusal does not name CAP_NET_RAW and raw_sockets: $(perr raw)"
}

# without an annotation: the default profile `none` (plain runc behaviour)
case_default_profile()
{
	local port
	port=$(cat "$T_TMP/port") || fail "no listener"
	prun def -- ocitool connect 127.0.0.1 "$port"
	eq "connect without an annotation" "$(cat "$T_TMP/def.out")" ok
}

# CVE-2019-5736: a process of the container holds the executable of a
# runtime process that entered the container (/proc/PID/exe) and writes it
# once that process is gone. `podman exec` of a script whose interpreter is
# /proc/self/exe makes the runtime's own executable the new program, inside
# the container. The runtime is a copy (so that a vulnerable one damages
# only the copy), which must come out unchanged. First the detector is
# shown to work: a host file run in the container's PID namespace with no
# capabilities (nsenter; tests/oci/ocitool.c capsleep) is written. (On the
# project's kernel the script's exec fails with ENOENT under runc and
# sbx-oci alike, both running from a memfd, so the case finds nothing to
# hold and checks that nothing was written.)
case_exe_overwrite()
{
	local copy=$T_TMP/rt-copy.$RT_NAME sum pid
	cp "$RT" "$copy" && cp "$ROOTFS/bin/ocitool" "$T_TMP/ocitool-copy" || fail "cannot copy"
	sum=$(sha256sum <"$copy")
	RT=$copy
	pstart ewref -v "$T_TMP/marks:/marks" -- sh -c "ocitool exewatch 20 >/marks/ewref.$RT_NAME; sleep 1000"
	local ref=$CNAME
	wait_for "$T_TMP/marks/ewref.$RT_NAME" watching || fail "exewatch did not start"
	pid=$(pod inspect --format '{{.State.Pid}}' "$CNAME")
	nsenter -t "$pid" -p "$T_TMP/ocitool-copy" capsleep 0.3 || fail "nsenter into pid $pid failed"
	wait_for "$T_TMP/marks/ewref.$RT_NAME" '^result' || fail "exewatch gave no result"
	grep -qx 'result wrote' "$T_TMP/marks/ewref.$RT_NAME" ||
		fail "the detector did not write a host file run in the container: $(tr '\n' ' ' <"$T_TMP/marks/ewref.$RT_NAME")"
	pstart ew -v "$T_TMP/marks:/marks" -- sh -c "ocitool exewatch 20 >/marks/ew.$RT_NAME; sleep 1000"
	T_CASE_RESTORE="$T_CASE_RESTORE; timeout 30 ${PODMAN[*]} --runtime $RT rm -f -t 0 $ref >/dev/null 2>&1"
	wait_for "$T_TMP/marks/ew.$RT_NAME" watching || fail "exewatch did not start"
	for _ in 1 2 3; do
		pod exec "$CNAME" /evil >>"$T_TMP/evil.out" 2>&1
		sleep 0.2
		grep -q '^caught' "$T_TMP/marks/ew.$RT_NAME" && break
	done
	if grep -q '^caught' "$T_TMP/marks/ew.$RT_NAME"; then
		wait_for "$T_TMP/marks/ew.$RT_NAME" '^result' || fail "exewatch gave no result"
	fi
	grep -qx 'result wrote' "$T_TMP/marks/ew.$RT_NAME" &&
		fail "a container process wrote the runtime's executable: $(tr '\n' ' ' <"$T_TMP/marks/ew.$RT_NAME")"
	eq "the runtime copy's sha256" "$(sha256sum <"$copy")" "$sum"
}

setup podman_setup
if grep -q '^SKIP: ' "$T_TMP/setup.log" 2>/dev/null && [ -z "$SBX_TEST_SKIP" ]; then
	SBX_TEST_SKIP=$(sed -n 's/^SKIP: //p' "$T_TMP/setup.log" | head -1)
fi
setup oci_listen
oci_cases exit_codes case_exit_codes
oci_cases stdout_stderr case_stdout_stderr
oci_cases device_nodes case_device_nodes
oci_cases tty case_tty
oci_cases exec case_exec
oci_cases stop case_stop
oci_cases kill_signal case_kill_signal
oci_cases memory_limit case_memory_limit
oci_cases pids_limit case_pids_limit
oci_cases default_profile case_default_profile
oci_cases annotated_connect case_annotated_connect
oci_cases raw_capability_refused case_raw_capability_refused
oci_cases exe_overwrite case_exe_overwrite
oci_case_sbx nothing_left case_oci_nothing_left
finish
