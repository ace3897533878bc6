#!/bin/bash
# SPDX-License-Identifier: MIT
# provider = "auto" (user/cli/run_cmd.c auto_provider): the strongest
# available provider that meets min_isolation AND can find the program in
# what the workload sees. Checked: a host program (jq) is not run in the
# microVM guest, which has busybox only, but in the next provider; a program
# of the guest (sh) is; a program that no provider finds ends as 127 naming
# each provider's reason; a host file outside the process/gVisor view (fs
# mode none) is not picked until an fs rule shows it; the gVisor probe
# (`runsc --version`) runs once per runsc binary: its answer is cached in
# /run/<instance>/probe-runsc (mode 0600), a second run starts no
# `runsc --version`, and a touched runsc is probed again.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
GUEST=""
V_DIR=""	# host files for the view cases, outside /tmp (the view replaces it)

_auto_cleanup()
{
	[ -n "$V_DIR" ] && rm -rf "$V_DIR"
	_cleanup
}
trap _auto_cleanup EXIT

# apol FS-MODE [FS-LINES]: an auto profile with no network.
apol()
{
	cat >"$T_TMP/auto.toml" <<EOF
version = 1
[profile.a]
provider = "auto"
min_isolation = "process"
timeout = "2m"
[profile.a.network]
mode = "none"
[profile.a.fs]
mode = "$1"
${2:-}
EOF
}

auto_setup()
{
	local d=${SBX_MICROVM_DIR:-/var/cache/sbx/microvm}
	chmod 0755 "$T_TMP"	# qemu runs as nobody and reads the guest files
	if [ -r "$d/vmlinux" ] && [ -r "$d/initrd.img" ]; then
		GUEST=$d
	elif command -v qemu-system-x86_64 >/dev/null; then
		GUEST=$T_TMP/guest
		"$SRC/providers/guest/mkguest.sh" -q -o "$GUEST" || return 1
	fi
	V_DIR=$(mktemp -d /var/tmp/sbxtest-auto.XXXXXX)
	chmod 0755 "$V_DIR"
	cp /bin/true "$V_DIR/mytrue"
}

# The providers auto may pick here, strongest first (from sbx providers).
# the providers auto may pick for a host program, strongest first (unikernel
# boots images only: its can_run passes any other file over)
available()
{
	SBX_MICROVM_DIR=${1:-$GUEST} "$SBX" providers --json |
		jq -r '[.providers[] | select(.available and .name != "mock" and .name != "wasm" and .name != "host" and .name != "unikernel")] | reverse | .[].name'
}

case_host_program_not_run_in_microvm_guest()
{
	[ -n "$GUEST" ] || skip "no microvm guest (qemu-system-x86_64 not installed)"
	available | grep -qx microvm || skip "microvm not available here"
	command -v jq >/dev/null || skip "jq not installed"
	apol none	# fs mode none: the microVM enforces it (the guest sees no host files)
	SBX_MICROVM_DIR=$GUEST sbx_run r -P "$T_TMP/auto.toml" -- jq -n '6*7'
	expect_rc r 0
	eq "jq output" "$(cat "$T_TMP/r.out")" 42
	[ "$(jr r .provider)" != microvm ] || fail "auto picked microvm for a host program"
	eq "provider" "$(jr r .provider)" "$(available | grep -vx microvm | head -1)"
}

case_guest_program_runs_in_microvm()
{
	[ -n "$GUEST" ] || skip "no microvm guest (qemu-system-x86_64 not installed)"
	available | grep -qx microvm || skip "microvm not available here"
	apol none
	SBX_MICROVM_DIR=$GUEST sbx_run r -P "$T_TMP/auto.toml" -- sh -c 'echo in guest'
	expect_rc r 0
	eq "output" "$(cat "$T_TMP/r.out")" "in guest"
	eq "provider" "$(jr r .provider)" microvm
}

case_program_found_nowhere_is_127()
{
	apol none
	SBX_MICROVM_DIR=${GUEST:-/nonexistent} sbx_run r -P "$T_TMP/auto.toml" -- sbx-no-such-program
	expect_rc r 127
	grep -q "sbx-no-such-program: no available provider for profile 'a' can run it" "$T_TMP/r.err" ||
		fail "no reason: $(cat "$T_TMP/r.err")"
	grep -q "process: sbx-no-such-program: not found in the workload's PATH" "$T_TMP/r.err" ||
		fail "the process provider's reason is missing: $(cat "$T_TMP/r.err")"
}

case_file_outside_view_needs_rule()
{
	apol none
	SBX_MICROVM_DIR=/nonexistent sbx_run hidden -P "$T_TMP/auto.toml" -- "$V_DIR/mytrue"
	expect_rc hidden 127
	grep -q "$V_DIR/mytrue is not visible or not executable in the sandbox's view" "$T_TMP/hidden.err" ||
		fail "no view reason: $(cat "$T_TMP/hidden.err")"
	apol none "rules = [{ path = \"$V_DIR/\", access = \"rx\" }]"
	SBX_MICROVM_DIR=/nonexistent sbx_run shown -P "$T_TMP/auto.toml" -- "$V_DIR/mytrue"
	expect_rc shown 0
	eq "provider" "$(jr shown .provider)" "$(available /nonexistent | head -1)"
}

case_runsc_probe_cached()
{
	local real
	real=$(command -v runsc) || skip "runsc not installed (apt-get install runsc)"
	mkdir -p "$T_TMP/bin"
	# counts `runsc --version`, runs the real runsc for everything
	printf '#!/bin/sh\n[ "$1" = --version ] && echo x >>"%s"\nexec "%s" "$@"\n' \
		"$T_TMP/version-calls" "$real" >"$T_TMP/bin/runsc"
	chmod 0755 "$T_TMP/bin/runsc"
	apol read-only
	rm -f "$RUN_DIR/probe-runsc" "$T_TMP/version-calls"
	for i in 1 2; do
		PATH=$T_TMP/bin:$PATH SBX_MICROVM_DIR=/nonexistent sbx_run r$i -P "$T_TMP/auto.toml" -- true
		expect_rc r$i 0
		eq "provider of run $i" "$(jr r$i .provider)" gvisor
	done
	eq "runsc --version calls in two runs" "$(wc -l <"$T_TMP/version-calls")" 1
	[ -f "$RUN_DIR/probe-runsc" ] || fail "no cache file $RUN_DIR/probe-runsc"
	eq "cache file mode" "$(stat -c %a "$RUN_DIR/probe-runsc")" 600
	grep -q "^$T_TMP/bin/runsc " "$RUN_DIR/probe-runsc" ||
		fail "cache not keyed by the binary: $(cat "$RUN_DIR/probe-runsc")"
	# a changed binary (mtime) is probed again
	touch -d '1 minute ago' "$T_TMP/bin/runsc"
	PATH=$T_TMP/bin:$PATH SBX_MICROVM_DIR=/nonexistent sbx_run r3 -P "$T_TMP/auto.toml" -- true
	expect_rc r3 0
	eq "runsc --version calls after touching runsc" "$(wc -l <"$T_TMP/version-calls")" 2
}

setup auto_setup
run_case host_program_not_run_in_microvm_guest case_host_program_not_run_in_microvm_guest
run_case guest_program_runs_in_microvm case_guest_program_runs_in_microvm
run_case program_found_nowhere_is_127 case_program_found_nowhere_is_127
run_case file_outside_view_needs_rule case_file_outside_view_needs_rule
run_case runsc_probe_cached case_runsc_probe_cached
finish
