#!/bin/bash
# SPDX-License-Identifier: MIT
# The CVE-2019-5736 class against sbx-oci: nothing that enters a container
# may be the writable host binary. sbx-oci create and exec re-exec from a
# sealed memfd copy of themselves (F_SEAL_WRITE|GROW|SHRINK|SEAL) and are not
# dumpable until their exec. A container's root (ociexe.c, static) watches
# /proc for the runtime's processes while the host runs `sbx-oci exec` into
# it, among them a program "#!/proc/self/exe" (the CVE's trick: the exec'd
# process runs the runtime itself inside the container), and tries to open
# each one's /proc/PID/exe for writing, now and through an O_PATH fd after it
# is gone; a createContainer hook tries the same on the runtime process that
# runs it. Every write must fail and the host binary's sha256 not change.
# RUNTIME=runc runs the same against runc.
. "$(dirname "$0")/../integration/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
RUNTIME=${RUNTIME:-$OUTPUT/sbx-oci}
[ "$RUNTIME" = runc ] && RUNTIME=$(command -v runc)
ROOTDIR=$T_TMP/state
ROOTFS=$T_TMP/rootfs
ATTACK=$T_TMP/ociexe

if [ "$(id -u)" != 0 ]; then
	SBX_TEST_SKIP=${SBX_TEST_SKIP:-"needs root"}
elif ! command -v runc >/dev/null || ! [ -x /bin/busybox ]; then
	SBX_TEST_SKIP=${SBX_TEST_SKIP:-"needs runc (runc spec) and busybox-static"}
elif [ ! -x "$RUNTIME" ]; then
	SBX_TEST_SKIP=${SBX_TEST_SKIP:-"no runtime at $RUNTIME"}
fi

rt() { "$RUNTIME" --root "$ROOTDIR" "$@"; }

exe_setup()
{
	local c
	mkdir -p "$ROOTFS"/{bin,proc,sys,dev,tmp} || return 1
	cp /bin/busybox "$ROOTFS/bin/" || return 1
	for c in sh true sleep cat; do ln -sf busybox "$ROOTFS/bin/$c"; done
	${CC:-cc} -static -O2 -o "$ATTACK" "$(dirname "$0")/ociexe.c" || return 1
	cp "$ATTACK" "$ROOTFS/ociexe"
	printf '#!/proc/self/exe\n' >"$ROOTFS/bin/evil"
	chmod 0755 "$ROOTFS/bin/evil"
	(cd "$T_TMP" && runc spec) || return 1
	jq --arg r "$ROOTFS" '.root.path = $r | .root.readonly = false | .process.terminal = false' \
		"$T_TMP/config.json" >"$T_TMP/base.json"
	sha256sum "$RUNTIME" | cut -d' ' -f1 >"$T_TMP/sha.before"
}

bundle()
{
	mkdir -p "$T_TMP/$1"
	jq "$2" "$T_TMP/base.json" >"$T_TMP/$1/config.json" && echo "$T_TMP/$1"
}

case_exec_exe_not_writable()
{
	local b i out=$T_TMP/scan.out
	# the attacker holds every capability that could reach another
	# process's exe (ptrace's, the DAC overrides, admin): what stops it must
	# be the seal, not only the runtime being not dumpable
	b=$(bundle scan '.process.args = ["/ociexe", "scan", "6"] |
		.process.capabilities = ({} | .bounding = ["CAP_SYS_PTRACE", "CAP_DAC_OVERRIDE",
		"CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_SYS_ADMIN", "CAP_KILL"] | .effective = .bounding |
		.permitted = .bounding)')
	T_CASE_RESTORE+="rt delete --force scan >/dev/null 2>&1;"
	rt create --bundle "$b" scan >"$out" 2>&1 </dev/null || fail "create failed: $(cat "$out")"
	rt start scan || fail "start failed"
	for i in $(seq 15); do
		rt exec scan /bin/evil >/dev/null 2>&1 </dev/null
		rt exec scan /bin/true >/dev/null 2>&1 </dev/null
	done
	for i in $(seq 200); do
		grep -q '^seen ' "$out" && break
		sleep 0.05
	done
	grep -q '^seen ' "$out" || fail "the attacker did not finish: $(tail -5 "$out")"
	grep -q 'write=OK' "$out" && fail "a write reached the runtime's exe: $(grep 'write=OK' "$out" | head -3)"
	# (runc's exec'd processes are gone too fast for the scan to be sure to
	# see one: there it proves nothing either way)
	if grep -q '^seen 0 ' "$out" && [ "$(basename "$RUNTIME")" != runc ]; then
		fail "the attacker saw no runtime process: nothing was tested"
	fi
	eq "host binary unchanged" "$(sha256sum "$RUNTIME" | cut -d' ' -f1)" "$(cat "$T_TMP/sha.before")"
	rt delete --force scan
}

case_create_hook_exe_not_writable()
{
	local b out=$T_TMP/hook.out
	b=$(bundle hook ".process.args = [\"true\"] | .hooks.createContainer = [{\"path\": \"/bin/sh\",
		\"args\": [\"sh\", \"-c\", \"exec $ATTACK parent >$out 2>&1\"]}]")
	T_CASE_RESTORE+="rt delete --force hook >/dev/null 2>&1;"
	rt create --bundle "$b" hook >/dev/null 2>&1 </dev/null || fail "create failed"
	if ! grep -q "^seen 1 " "$out" && [ "$(basename "$RUNTIME")" != runc ]; then
		fail "the hook did not see the runtime as its parent: $(cat "$out")"
	fi
	grep -q 'write=OK' "$out" && fail "the hook wrote the runtime's exe: $(cat "$out")"
	eq "host binary unchanged" "$(sha256sum "$RUNTIME" | cut -d' ' -f1)" "$(cat "$T_TMP/sha.before")"
	rt delete --force hook
}

case_runs_from_sealed_memfd()
{
	local b pid link
	[ "$(basename "$RUNTIME")" = runc ] && skip "sbx-oci's own mechanism (runc 1.1 clones itself into a memfd too, named runc_cloned)"
	b=$(bundle sealed '.process.args = ["sleep", "100"]')
	T_CASE_RESTORE+="rt delete --force sealed >/dev/null 2>&1;"
	rt create --bundle "$b" --pid-file "$T_TMP/sealed.pid" sealed >/dev/null 2>&1 </dev/null || fail "create failed"
	pid=$(cat "$T_TMP/sealed.pid")
	link=$(readlink "/proc/$pid/exe")
	[[ "$link" == "/memfd:sbx-oci"* ]] || fail "the waiting init runs $link, not a memfd copy"
	rt delete --force sealed
}

setup exe_setup
run_case exec_exe_not_writable case_exec_exe_not_writable
run_case create_hook_exe_not_writable case_create_hook_exe_not_writable
run_case runs_from_sealed_memfd case_runs_from_sealed_memfd
finish
