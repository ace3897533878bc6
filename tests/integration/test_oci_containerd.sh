#!/bin/bash
# SPDX-License-Identifier: MIT
# sbx-oci under containerd (docs/oci.md, docs/kubernetes.md): a private
# containerd (its own config, root, state and socket under the test's
# temporary directory; stopped by pid at the end) runs containers from a
# busybox rootfs with `ctr run --runtime io.containerd.runc.v2 --runc-binary
# RUNTIME --rootfs DIR`, through containerd-shim-runc-v2, on runc and on
# sbx-oci (oci_lib.sh): exit code and output, `ctr run -t` through a pty,
# `ctr task exec`, `ctr task
# kill` (SIGTERM caught by the workload, then SIGKILL), the annotated denied
# connect audited with the container id. The Kubernetes path: the containerd
# snippet of docs/kubernetes.md, extracted from the page as it is, is part of
# this containerd's config: `containerd config dump` shows the `sbx` handler
# and the running CRI plugin loaded it; the RuntimeClass of the page names
# that handler. Skips when containerd, ctr or the shim are missing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci_lib.sh"

CD=$T_TMP/containerd
SOCK=$CD/containerd.sock
NS=sbxtest
CTR=(ctr -a "$SOCK" -n "$NS")
DOC=$OCI_SRC/docs/kubernetes.md
CD_PID=

containerd_cleanup()
{
	local c p
	if [ -n "$CD_PID" ] && kill -0 "$CD_PID" 2>/dev/null; then
		for c in $(timeout 10 "${CTR[@]}" task ls -q 2>/dev/null); do
			timeout 10 "${CTR[@]}" task kill -s KILL "$c" >/dev/null 2>&1
		done
		sleep 0.2
		for c in $(timeout 10 "${CTR[@]}" container ls -q 2>/dev/null); do
			timeout 10 "${CTR[@]}" task rm -f "$c" >/dev/null 2>&1
			timeout 10 "${CTR[@]}" container rm "$c" >/dev/null 2>&1
		done
		kill "$CD_PID" 2>/dev/null
		wait "$CD_PID" 2>/dev/null
	fi
	# shims of this containerd that outlived it (they daemonize): by the
	# socket address on their command line, which is this file's alone
	for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $SOCK" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null
	done
	oci_cgroup_cleanup
	oci_umount_under "$CD"
}
trap 'containerd_cleanup; _cleanup' EXIT

# doc_block MARKER: the fenced block that follows the line holding MARKER in
# docs/kubernetes.md, without its fences.
doc_block()
{
	awk -v m="$1" 'index($0, m) { on = 1; next } on && /^```/ { if (inb) exit; inb = 1; next } inb { print }' "$DOC"
}

containerd_setup()
{
	local t
	for t in containerd ctr containerd-shim-runc-v2; do
		command -v $t >/dev/null || { echo "SKIP: $t is not installed (apt-get install containerd)"; return 0; }
	done
	mkdir -p "$CD" "$T_TMP/marks" "$SBX_POLICY_DIR" "$SBX_LOG_DIR" && chmod 1777 "$T_TMP/marks" || return 1
	doc_block containerd-snippet >"$CD/snippet.toml"
	[ -s "$CD/snippet.toml" ] || { echo "no containerd snippet in $DOC"; return 1; }
	{
		cat <<EOF
version = 2
root = "$CD/root"
state = "$CD/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CD/cni/bin"
    conf_dir = "$CD/cni/conf"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
EOF
		cat "$CD/snippet.toml"
	} >"$CD/config.toml"
	oci_mkrootfs || return 1
	oci_check_runtime
	# the environment reaches the runtime: containerd -> shim -> runtime.
	# containerd (and so its shims, which make the containers) runs in a
	# v1 devices cgroup under the file's parent, where sbx-oci's devices
	# cgroups then go (case nothing_left); no other hierarchy is touched
	local devdir
	devdir=$(awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup" && $(i + 3) ~ /(^|,)devices(,|$)/) print $5 }' \
		/proc/self/mountinfo | head -1)
	[ -n "$devdir" ] && devdir=$devdir$OCI_CGPARENT/containerd && mkdir -p "$devdir"
	SBX_INSTANCE=$SBX_INSTANCE SBX_LOG_DIR=$SBX_LOG_DIR SBX_POLICY_DIR=$SBX_POLICY_DIR \
		sh -c '[ -z "$1" ] || echo $$ >"$1/cgroup.procs" || exit 1; shift; exec "$@"' sh "$devdir" \
		containerd -c "$CD/config.toml" >"$CD/log" 2>&1 &
	CD_PID=$!
	T_PIDS="$T_PIDS $CD_PID"
	for _ in $(seq 100); do
		"${CTR[@]}" version >/dev/null 2>&1 && break
		kill -0 "$CD_PID" 2>/dev/null || { echo "containerd died: $(tail -5 "$CD/log")"; return 1; }
		sleep 0.1
	done
	"${CTR[@]}" version >/dev/null 2>&1 || { echo "containerd did not answer on $SOCK: $(tail -5 "$CD/log")"; return 1; }
	start_listener PORT 127.0.0.1 && echo "$PORT" >"$T_TMP/port"
}

# crun NAME ID [CTR-RUN-ARGS]... -- CMD...: `ctr run --rm` of CMD on the
# case's runtime; stdout NAME.out, stderr NAME.err; sets RC.
crun()
{
	local name=$1 id=$2.$RT_NAME
	shift 2
	local -a a=()
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	timeout -s KILL 60 "${CTR[@]}" run --rm --runtime io.containerd.runc.v2 --runc-binary "$RT" --runc-root "$CD/runc" \
		--cgroup "$OCI_CGPARENT/$id" --env PATH=/bin "${a[@]}" --rootfs "$ROOTFS" "$id" "$@" \
		>"$T_TMP/$name.out" 2>"$T_TMP/$name.err" </dev/null
	RC=$?
}

cerr()
{
	tail -c 400 "$T_TMP/$1.err" | tr '\n' ' '
}

# cstart ID [ARGS]... -- CMD...: a detached container (sets CID).
cstart()
{
	CID=$1.$RT_NAME
	shift
	local -a a=()
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	timeout -s KILL 60 "${CTR[@]}" run -d --runtime io.containerd.runc.v2 --runc-binary "$RT" --runc-root "$CD/runc" \
		--cgroup "$OCI_CGPARENT/$CID" --env PATH=/bin --mount "type=bind,src=$T_TMP/marks,dst=/marks,options=rbind:rw" \
		"${a[@]}" --rootfs "$ROOTFS" "$CID" "$@" >"$T_TMP/$CID.out" 2>"$T_TMP/$CID.err" </dev/null ||
		fail "ctr run -d $CID failed: $(cerr "$CID")"
	# shellcheck disable=SC2034  # lib.sh's _case_cleanup runs it
	T_CASE_RESTORE="timeout 10 ${CTR[*]} task kill -s KILL $CID >/dev/null 2>&1; sleep 0.2;
		timeout 10 ${CTR[*]} task rm -f $CID >/dev/null 2>&1; timeout 10 ${CTR[*]} container rm $CID >/dev/null 2>&1"
}

# task_status ID: RUNNING, STOPPED, ... (ctr task ls)
task_status()
{
	"${CTR[@]}" task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'
}

case_exit_output()
{
	crun io c1 -- sh -c 'echo to-out; echo to-err >&2; exit 3'
	eq "exit code" "$RC" 3
	eq stdout "$(cat "$T_TMP/io.out")" to-out
	grep -qx to-err "$T_TMP/io.err" || fail "stderr has no to-err: $(cerr io)"
	crun ok c2 -- /bin/true
	[ "$RC" = 0 ] || fail "true: exit $RC ($(cerr ok))"
	crun segv c3 -- ocitool segv
	eq "exit code of a SIGSEGV death" "$RC" 139
}

# what containerd recorded: the runc v2 shim with BinaryName = the runtime,
# the options a `runtimes.sbx` handler gives (docs/kubernetes.md)
case_shim_options()
{
	cstart opts -- sleep 1000
	info=$("${CTR[@]}" container info "$CID") || fail "ctr container info failed"
	eq "runtime name" "$(jq -r '.Runtime.Name' <<<"$info")" io.containerd.runc.v2
	# the options are containerd.runc.v1.Options, protobuf: BinaryName is
	# field 6 (tag 0x32), a length, the path
	eq "runtime options type" "$(jq -r '.Runtime.Options.type_url' <<<"$info")" containerd.runc.v1.Options
	val=$(jq -r '.Runtime.Options.value' <<<"$info")
	python3 -c 'import base64, sys; p = sys.argv[2].encode()
sys.exit(bytes([0x32, len(p)]) + p not in base64.b64decode(sys.argv[1]))' "$val" "$RT" ||
		fail "the shim's options do not name $RT as BinaryName: $val"
	# the shim runs the runtime: containerd-shim-runc-v2 is the task's parent
	pid=$("${CTR[@]}" task ls 2>/dev/null | awk -v id="$CID" '$1 == id { print $2 }')
	[ -n "$pid" ] || fail "no task pid"
	ppid=$(awk '{ print $4 }' "/proc/$pid/stat")
	comm=$(cat "/proc/$ppid/comm")
	[[ $comm == containerd-shim* ]] || fail "the container's parent is $comm, not containerd-shim-runc-v2"
	# sbx-oci's devices cgroup of the container is under the file's parent
	# (so that case nothing_left can see what is left there)
	if [ "$RT_NAME" = sbx-oci ] && [ -d "$(oci_cgroup_dirs | grep -m1 /devices)" ]; then
		[ -n "$(oci_cgroups_left)" ] || fail "no devices cgroup of the container under $OCI_CGPARENT"
	fi
}

# `ctr run -t`: the shim's console socket; a pty in the test is ctr's terminal
case_tty()
{
	write_pty_driver
	timeout -s KILL 60 python3 "$T_TMP/ptydrive.py" "${CTR[@]}" run --rm -t --runtime io.containerd.runc.v2 \
		--runc-binary "$RT" --runc-root "$CD/runc" --cgroup "$OCI_CGPARENT/tty.$RT_NAME" --env PATH=/bin \
		--rootfs "$ROOTFS" "tty.$RT_NAME" sh >"$T_TMP/tty.out" 2>&1
	grep -q '^prompt True' "$T_TMP/tty.out" || fail "no shell prompt through the pty: $(tail -c 600 "$T_TMP/tty.out")"
	grep -q '^answer True' "$T_TMP/tty.out" || fail "no answer to the typed command: $(tail -c 600 "$T_TMP/tty.out")"
	grep -q '^status 5$' "$T_TMP/tty.out" || fail "ctr run -t did not exit 5: $(tail -c 600 "$T_TMP/tty.out")"
	grep -q '/dev/pts/[0-9]' "$T_TMP/tty.out" || fail "tty did not name a /dev/pts terminal: $(tail -c 600 "$T_TMP/tty.out")"
}

case_exec()
{
	cstart ex -- sleep 1000
	timeout -s KILL 30 "${CTR[@]}" task exec --exec-id e1 "$CID" sh -c 'echo in-exec; echo exec-err >&2; exit 4' \
		>"$T_TMP/exec.out" 2>"$T_TMP/exec.err" </dev/null
	eq "exit code of ctr task exec" "$?" 4
	eq "exec stdout" "$(cat "$T_TMP/exec.out")" in-exec
	grep -qx exec-err "$T_TMP/exec.err" || fail "exec stderr: $(cerr exec)"
	out=$(timeout -s KILL 30 "${CTR[@]}" task exec --exec-id e2 "$CID" cat /proc/1/cmdline </dev/null | tr '\0' ' ')
	eq "pid 1 seen by exec" "$out" "sleep 1000 "
}

case_kill()
{
	cstart kill -- sh -c "trap 'echo term >>/marks/term.$RT_NAME' TERM; echo ready >/marks/kill-ready.$RT_NAME; while :; do sleep 0.1; done"
	wait_for "$T_TMP/marks/kill-ready.$RT_NAME" ready || fail "the workload did not start"
	"${CTR[@]}" task kill -s TERM "$CID" || fail "ctr task kill -s TERM failed"
	wait_for "$T_TMP/marks/term.$RT_NAME" term || fail "the workload did not get SIGTERM"
	eq "status after a caught SIGTERM" "$(task_status "$CID")" RUNNING
	"${CTR[@]}" task kill -s KILL "$CID" || fail "ctr task kill -s KILL failed"
	for _ in $(seq 100); do
		[ "$(task_status "$CID")" = STOPPED ] && break
		sleep 0.1
	done
	eq "status after SIGKILL" "$(task_status "$CID")" STOPPED
	out=$("${CTR[@]}" task rm "$CID" 2>&1)
	grep -q 'exit code 137' <<<"$out" || fail "ctr task rm did not report exit code 137: $out"
}

case_annotated_connect()
{
	local port
	port=$(cat "$T_TMP/port") || fail "no listener"
	oci_deny_policy "$SBX_POLICY_DIR/oci-test.toml" ocideny "$port"
	# containerd's default capabilities hold CAP_NET_RAW, which a strict
	# profile without raw_sockets refuses (test_oci_podman)
	crun ann ann --net-host --cap-drop CAP_NET_RAW --annotation org.sbx.profile=ocideny -- ocitool connect 127.0.0.1 "$port"
	got=$(cat "$T_TMP/ann.out")
	if [ "$RT_NAME" = runc ]; then
		eq "connect under runc (no sbx policy)" "$got" ok
		return 0
	fi
	eq "connect to the denied 127.0.0.1:$port (rc $RC, $(cerr ann))" "$got" EPERM
	for _ in $(seq 40); do
		[ -n "$(oci_audit_lines ann.sbx-oci "$port")" ] && break
		sleep 0.1
	done
	eq "audit lines naming container ann.sbx-oci and port $port" "$(oci_audit_lines ann.sbx-oci "$port" | wc -l)" 1
	oci_audit_lines ann.sbx-oci "$port" | grep -q '"verdict":"deny"' ||
		fail "the audited connect is not a denial: $(oci_audit_lines ann.sbx-oci "$port")"
}

# docs/kubernetes.md's snippet, as the page has it, is in this containerd's
# config: config dump shows it, the running CRI plugin loaded it
case_k8s_handler_config()
{
	grep -qF 'runtimes.sbx' "$CD/snippet.toml" || fail "the snippet defines no runtimes.sbx"
	containerd -c "$CD/config.toml" config dump >"$T_TMP/dump.toml" 2>"$T_TMP/dump.err" ||
		fail "containerd config dump failed: $(cerr dump)"
	awk '/runtimes\.sbx\]$/ { on = 1 } on' "$T_TMP/dump.toml" >"$T_TMP/dump.sbx"
	grep -q 'runtime_type = "io.containerd.runc.v2"' "$T_TMP/dump.sbx" || fail "config dump: no runc.v2 sbx handler"
	grep -q 'BinaryName = "/usr/local/bin/sbx-oci"' "$T_TMP/dump.sbx" || fail "config dump: no BinaryName in the sbx handler"
	grep -q 'pod_annotations = \["org.sbx.profile"' "$T_TMP/dump.sbx" || fail "config dump: the handler passes no pod annotations"
	"${CTR[@]}" plugins ls | awk '$2 == "cri" { print $4 }' | grep -qx ok ||
		fail "the CRI plugin did not load: $("${CTR[@]}" plugins ls | grep cri)"
	grep -q 'sbx:{Type:io.containerd.runc.v2 .*BinaryName:/usr/local/bin/sbx-oci' "$CD/log" ||
		fail "the CRI plugin did not start with the sbx handler: $(grep -o 'Runtimes:map[^]]*' "$CD/log" | head -c 400)"
}

case_k8s_runtimeclass()
{
	doc_block 'runtimeclass:' >"$T_TMP/rc.yaml"
	grep -qx 'kind: RuntimeClass' "$T_TMP/rc.yaml" || fail "no RuntimeClass in docs/kubernetes.md"
	grep -qx 'apiVersion: node.k8s.io/v1' "$T_TMP/rc.yaml" || fail "the RuntimeClass is not node.k8s.io/v1"
	h=$(sed -n 's/^handler: //p' "$T_TMP/rc.yaml")
	grep -qF "containerd.runtimes.$h]" "$CD/snippet.toml" ||
		fail "the RuntimeClass's handler '$h' is not the snippet's runtime name"
}

setup containerd_setup
if grep -q '^SKIP: ' "$T_TMP/setup.log" 2>/dev/null && [ -z "$SBX_TEST_SKIP" ]; then
	SBX_TEST_SKIP=$(sed -n 's/^SKIP: //p' "$T_TMP/setup.log" | head -1)
fi
run_case k8s_handler_config case_k8s_handler_config
run_case k8s_runtimeclass case_k8s_runtimeclass
oci_cases exit_output case_exit_output
oci_cases shim_options case_shim_options
oci_cases tty case_tty
oci_cases exec case_exec
oci_cases kill case_kill
oci_cases annotated_connect case_annotated_connect
oci_case_sbx nothing_left case_oci_nothing_left
finish
