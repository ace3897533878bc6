#!/bin/bash
# SPDX-License-Identifier: MIT
# sbx-oci's enforcement (user/oci/enforce.c), driven by oci_enforce_tool, a
# stand-in for sbx-oci's create and its engine: the profile an annotation
# names (or the configured default), the manager that keeps the sandbox while
# the container runs (`sbx ps`, SIGHUP, stdio), the audit events with the
# container id, linux.resources as cgroup limits, refusals (fs rules without
# BPF LSM, a policy file outside the trusted directory, a resource sbx does
# not apply under strict), abort, and that nothing is left once it is gone.
# Network probes use 127.0.0.1 only.
. "$(dirname "$0")/lib.sh"

OUTPUT=$(realpath -m "${OUTPUT:-$PWD/build}")
TOOL=$OUTPUT/tests/integration/oci_enforce_tool
AUDIT=$SBX_LOG_DIR/audit.jsonl
DENIED_PORT=9	# discard: nothing listens, so only sbx can make it EPERM

oe_setup()
{
	[ -x "$TOOL" ] || { echo "$TOOL is missing (make integration builds it)"; return 1; }
	mkdir -p "$SBX_POLICY_DIR" "$SBX_LOG_DIR" || return 1
	chmod 0755 "$SBX_POLICY_DIR"
	cat >"$SBX_POLICY_DIR/t.toml" <<EOF
version = 1
[profile.t]
enforcement = "strict"
[profile.t.network]
mode = "deny"
deny = ["127.0.0.1:$DENIED_PORT"]
unix = ["*"]
[profile.t.fs]
mode = "full"
[profile.fsr]
enforcement = "strict"
[profile.fsr.network]
mode = "full"
unix = ["*"]
[profile.fsr.fs]
mode = "full"
rules = [ { path = "/srv/", access = "r" } ]
[profile.fsb]
enforcement = "best-effort"
[profile.fsb.network]
mode = "full"
unix = ["*"]
[profile.fsb.fs]
mode = "full"
rules = [ { path = "/srv/", access = "r" } ]
EOF
	chmod 0644 "$SBX_POLICY_DIR/t.toml"
	# "$SBX" features needs the instance: load it once
	"$SBX" run -P "$SBX_POLICY_DIR/t.toml" --profile t -- true
}

# oe NAME [TOOL-OPTIONS]...: runs the tool for container NAME (state dir
# $T_TMP/NAME) to its end; output in $T_TMP/NAME.out, RC its exit code.
oe()
{
	local name=$1
	shift
	mkdir -p "$T_TMP/$name"
	timeout 60 "$TOOL" "$@" "$T_TMP/$name" "$name" >"$T_TMP/$name.out" 2>&1
	RC=$?
}

# line NAME KEY: the rest of the tool's output line KEY.
line()
{
	sed -n "s|^$2 ||p" "$T_TMP/$1.out" | head -1
}

# events NAME: the audit lines of container NAME, as one JSON array.
events()
{
	jq -cs --arg c "$1" '[.[] | select(.container == $c)]' "$AUDIT" 2>/dev/null
}

# until the tool running in the background for NAME has printed "gone"
wait_gone()
{
	wait_for "$T_TMP/$1.out" '^gone' || fail "$1: the tool did not end: $(cat "$T_TMP/$1.out")"
}

expect_gone()
{
	eq "$1: oci_enforce_wait_gone" "$(line "$1" gone)" 0
	[ -e "$T_TMP/$1/sbx-enforce.done" ] || fail "$1: no sbx-enforce.done"
}

case_denied_connect_audited()
{
	local ev id
	oe c1 -a org.sbx.profile=t -d $DENIED_PORT -l -x 7 -r 500
	eq "tool rc" "$RC" 0
	eq "denied connect" "$(line c1 denied)" EPERM
	eq "allowed connect" "$(line c1 allowed)" ok
	eq "init exit" "$(line c1 init-exit)" 7
	expect_gone c1
	id=$(line c1 sandbox)
	ev=$(events c1)
	eq "events of the container" "$(jq -r 'map(.event) | join(",")' <<<"$ev")" \
		"sandbox.start,net.connect,sandbox.exit"
	eq "net.connect denials of port $DENIED_PORT" \
		"$(jq '[.[] | select(.event == "net.connect" and .verdict == "deny" and .port == '$DENIED_PORT')] | length' <<<"$ev")" 1
	eq "sandbox ids" "$(jq -r 'map(.sandbox) | unique | join(",")' <<<"$ev")" "$id"
	eq "profile" "$(jq -r 'map(.profile) | unique | join(",")' <<<"$ev")" t
	eq "provider" "$(jq -r '.[0].provider' <<<"$ev")" oci
	eq "exit code read from the zombie" "$(jq -r '.[2].exit_code' <<<"$ev")" 7
	grep -q "^cgroups_path=/machine/test$" "$T_TMP/c1/sbx-enforce.state" ||
		fail "cgroupsPath not recorded: $(cat "$T_TMP/c1/sbx-enforce.state")"
}

# The manager while the container runs: listed by sbx ps, survives SIGHUP,
# holds none of the caller's descriptors.
# cpu_ticks PID: utime + stime of the process, in clock ticks.
cpu_ticks()
{
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

case_manager_while_running()
{
	local i mgr ps id fd
	rm -f "$T_TMP/go"
	mkdir -p "$T_TMP/c2"
	bg timeout 60 "$TOOL" -a org.sbx.profile=t -w "$T_TMP/go" "$T_TMP/c2" c2 >"$T_TMP/c2.out" 2>&1
	wait_for "$T_TMP/c2.out" '^init-ran' || fail "the init did not run: $(cat "$T_TMP/c2.out")"
	id=$(line c2 sandbox)
	ps=$("$SBX" ps --json)
	eq "sbx ps: provider, profile" \
		"$(jq -r --arg id "$id" '.sandboxes[] | select(.id == $id) | "\(.provider) \(.profile)"' <<<"$ps")" "oci t"
	mgr=$(cut -d' ' -f1 "$T_TMP/c2/sbx-enforce.pid")
	[ -n "$mgr" ] && [ -d "/proc/$mgr" ] || fail "no manager"
	for i in 0 1 2; do
		eq "manager fd $i" "$(readlink "/proc/$mgr/fd/$i")" /dev/null
	done
	for fd in /proc/"$mgr"/fd/*; do
		[ "$(readlink "$fd")" = "$T_TMP/c2.out" ] && fail "the manager holds the caller's stdout"
	done
	# a session of its own (not the caller's), and no session leader
	[ "$(ps -o sid= -p "$mgr")" != "$(ps -o sid= -p $$)" ] || fail "the manager is in the caller's session"
	[ "$(ps -o sid= -p "$mgr" | tr -d ' ')" != "$mgr" ] || fail "the manager leads its session"
	kill -HUP "$mgr"
	sleep 0.2
	[ -d "/proc/$mgr" ] || fail "the manager died of SIGHUP"
	# while the container runs, its manager sleeps in its wait: a manager
	# whose epoll set stays readable (a cgroup.events never read again)
	# spins and spends about all of the 2 s on the CPU
	local t0 t1
	t0=$(cpu_ticks "$mgr")
	sleep 2
	t1=$(cpu_ticks "$mgr")
	[ $((t1 - t0)) -lt 40 ] || fail "the manager used $((t1 - t0)) clock ticks of CPU in 2 s while idle"
	touch "$T_TMP/go"
	wait_gone c2
	expect_gone c2
	eq "events" "$(events c2 | jq -r 'map(.event) | join(",")')" "sandbox.start,sandbox.exit"
}

case_abort_leaves_nothing()
{
	oe c3 -A
	eq "tool rc" "$RC" 0
	grep -q '^aborted' "$T_TMP/c3.out" || fail "not aborted: $(cat "$T_TMP/c3.out")"
	expect_gone c3
	eq "events of an aborted container" "$(events c3 | jq length)" 0
}

bpf_lsm()
{
	[ "$("$SBX" features --json | jq -r .fs_backend)" = bpf-lsm ]
}

case_strict_fs_rules_refused()
{
	local err
	bpf_lsm && skip "this kernel has BPF LSM: fs rules are enforced"
	oe c4 -a org.sbx.profile=fsr
	eq "tool rc" "$RC" 2
	err=$(line c4 begin-error)
	[[ $err == *"'fs.rules' cannot be enforced by provider 'oci'"* && $err == *"BPF LSM"* &&
	   $err == *"rule '/srv/'"* ]] || fail "refusal: $err"
	eq "events of a refused container" "$(events c4 | jq length)" 0
}

case_best_effort_fs_rules_degraded()
{
	bpf_lsm && skip "this kernel has BPF LSM: fs rules are enforced"
	oe c5 -a org.sbx.profile=fsb -b 100
	eq "tool rc" "$RC" 0
	expect_gone c5
	events c5 | jq -e '.[0].degraded | (any(startswith("fs.rules: not enforced by provider oci")) and
		any(startswith("linux.resources.blockIO.weight: not applied")))' >/dev/null ||
		fail "degraded: $(events c5 | jq -c '.[0].degraded')"
}

# linux.resources as the sandbox's limits (the default profile "none" has none).
case_limits_from_resources()
{
	local id d mem="" pids="" cpu="" init
	rm -f "$T_TMP/go"
	mkdir -p "$T_TMP/c6"
	bg timeout 60 "$TOOL" -w "$T_TMP/go" -m 67108864 -s 134217728 -p 17 -q 50000 -P 100000 \
		"$T_TMP/c6" c6 >"$T_TMP/c6.out" 2>&1
	wait_for "$T_TMP/c6.out" '^init-ran' || fail "the init did not run: $(cat "$T_TMP/c6.out")"
	id=$(line c6 sandbox)
	init=$(line c6 init)
	for d in $(cgroup_root) $(v1_instance_dirs); do
		[ -f "$d/$id/memory.max" ] && mem=$(cat "$d/$id/memory.max")
		[ -f "$d/$id/memory.limit_in_bytes" ] && { mem=$(cat "$d/$id/memory.limit_in_bytes");
			grep -qx "$init" "$d/$id/cgroup.procs" || fail "init not in $d/$id"; }
		[ -f "$d/$id/pids.max" ] && { pids=$(cat "$d/$id/pids.max");
			grep -qx "$init" "$d/$id/cgroup.procs" || fail "init not in $d/$id"; }
		[ -f "$d/$id/cpu.max" ] && cpu=$(awk '{ print $1 * 1000 / $2 }' "$d/$id/cpu.max")
		[ -f "$d/$id/cpu.cfs_quota_us" ] &&
			cpu=$(( $(cat "$d/$id/cpu.cfs_quota_us") * 1000 / $(cat "$d/$id/cpu.cfs_period_us") ))
	done
	eq "cpu (milli-CPUs from quota/period)" "$cpu" 500
	touch "$T_TMP/go"
	eq "memory limit" "$mem" 67108864
	eq "pids limit" "$pids" 17
	wait_gone c6
	expect_gone c6
	eq "profile" "$(events c6 | jq -r '.[0].profile')" none
}

case_policy_outside_trusted_refused()
{
	local err
	cp "$SBX_POLICY_DIR/t.toml" "$T_TMP/evil.toml"
	oe c7 -a org.sbx.policy="$T_TMP/evil.toml" -a org.sbx.policy.profile=t
	eq "tool rc" "$RC" 2
	err=$(line c7 begin-error)
	[[ $err == "org.sbx.policy: "*"outside the trusted policy directory"* ]] || fail "refusal: $err"
	ln -sf "$T_TMP/evil.toml" "$SBX_POLICY_DIR/link.toml.lnk"
	oe c8 -a org.sbx.policy="$SBX_POLICY_DIR/link.toml.lnk" -a org.sbx.policy.profile=t
	rm -f "$SBX_POLICY_DIR/link.toml.lnk"
	[[ $(line c8 begin-error) == "org.sbx.policy: "*"outside the trusted"* ]] ||
		fail "symlink out: $(cat "$T_TMP/c8.out")"
	cp "$SBX_POLICY_DIR/t.toml" "$SBX_POLICY_DIR/gw.toml.off"
	chmod 0664 "$SBX_POLICY_DIR/gw.toml.off"
	oe c9 -a org.sbx.policy="$SBX_POLICY_DIR/gw.toml.off" -a org.sbx.policy.profile=t
	rm -f "$SBX_POLICY_DIR/gw.toml.off"
	[[ $(line c9 begin-error) == *"writable by its group or others"* ]] ||
		fail "group-writable: $(cat "$T_TMP/c9.out")"
}

case_policy_file_in_trusted_dir()
{
	oe c10 -a org.sbx.policy="$SBX_POLICY_DIR/t.toml" -a org.sbx.policy.profile=t -d $DENIED_PORT
	eq "tool rc" "$RC" 0
	eq "denied connect" "$(line c10 denied)" EPERM
	expect_gone c10
}

case_strict_unapplied_resource_refused()
{
	oe c11 -a org.sbx.profile=t -b 100
	eq "tool rc" "$RC" 2
	[[ $(line c11 begin-error) == "linux.resources.blockIO.weight: not applied by sbx-oci"*"profile 't' is strict"* ]] ||
		fail "refusal: $(cat "$T_TMP/c11.out")"
}

# hugepageLimits (Kubernetes sends one per page size, limit 0 when the pod
# asked for none): sbx sets no hugetlb limit, so one holds only where the
# host has no pool of that size; with a pool, strict refuses it.
case_hugepage_limits()
{
	local h=$T_TMP/huge
	mkdir -p "$h/hugepages-2048kB" "$h/hugepages-1048576kB"
	echo 0 >"$h/hugepages-2048kB/nr_hugepages"
	echo 0 >"$h/hugepages-2048kB/nr_overcommit_hugepages"
	echo 0 >"$h/hugepages-1048576kB/nr_hugepages"
	echo 0 >"$h/hugepages-1048576kB/nr_overcommit_hugepages"
	SBX_OCI_HUGEPAGES_DIR=$h oe h1 -a org.sbx.profile=t -H 2048:0 -H 1048576:0
	eq "no pool: tool rc" "$RC" 0
	echo 4 >"$h/hugepages-1048576kB/nr_overcommit_hugepages"
	SBX_OCI_HUGEPAGES_DIR=$h oe h2 -a org.sbx.profile=t -H 2048:0 -H 1048576:0
	eq "a 1 GiB pool: tool rc" "$RC" 2
	[[ $(line h2 begin-error) == "linux.resources.hugepageLimits[1]: not applied by sbx-oci (this host has a pool of 1048576 KiB huge pages"*"profile 't' is strict"* ]] ||
		fail "refusal: $(cat "$T_TMP/h2.out")"
}

case_default_profile_configured()
{
	printf '# sbx-oci\ndefault_profile = "t"\n' >"$T_TMP/oci.toml"
	SBX_OCI_CONFIG=$T_TMP/oci.toml oe c12 -d $DENIED_PORT
	eq "tool rc" "$RC" 0
	eq "denied connect" "$(line c12 denied)" EPERM
	expect_gone c12
	eq "profile" "$(events c12 | jq -r '.[0].profile')" t
	SBX_OCI_DEFAULT_PROFILE=nosuch oe c13
	[[ $(line c13 begin-error) == *"no profile 'nosuch'"* ]] || fail "unknown default: $(cat "$T_TMP/c13.out")"
}

# allowed_profiles in oci.toml: an annotation may choose only a listed
# profile (not "none", not an unlisted one), org.sbx.policy is refused, and
# the configured default still applies to a container without annotations.
case_allowed_profiles()
{
	printf 'default_profile = "t"\nallowed_profiles = ["t", "fsb"]  # pods may pick these\n' >"$T_TMP/oci.toml"
	SBX_OCI_CONFIG=$T_TMP/oci.toml oe a1 -a org.sbx.profile=none -d $DENIED_PORT
	eq "none refused: tool rc" "$RC" 2
	[[ $(line a1 begin-error) == *"annotation org.sbx.profile: profile 'none' is not in allowed_profiles ($T_TMP/oci.toml:2)"* ]] ||
		fail "refusal of none: $(cat "$T_TMP/a1.out")"
	SBX_OCI_CONFIG=$T_TMP/oci.toml oe a2 -a org.sbx.policy="$SBX_POLICY_DIR/t.toml" -a org.sbx.policy.profile=t
	eq "policy file refused: tool rc" "$RC" 2
	[[ $(line a2 begin-error) == *"annotation org.sbx.policy: refused: $T_TMP/oci.toml:2 sets allowed_profiles"* ]] ||
		fail "refusal of a policy file: $(cat "$T_TMP/a2.out")"
	# a listed one runs, enforced
	SBX_OCI_CONFIG=$T_TMP/oci.toml oe a3 -a org.sbx.profile=t -d $DENIED_PORT
	eq "listed: tool rc" "$RC" 0
	eq "listed: denied connect" "$(line a3 denied)" EPERM
	expect_gone a3
	# no annotation: the default, enforced
	SBX_OCI_CONFIG=$T_TMP/oci.toml oe a4 -d $DENIED_PORT
	eq "default: tool rc" "$RC" 0
	eq "default: denied connect" "$(line a4 denied)" EPERM
	expect_gone a4
	# an empty list: no annotation may choose
	printf 'allowed_profiles = []\n' >"$T_TMP/oci.toml"
	SBX_OCI_CONFIG=$T_TMP/oci.toml oe a5 -a org.sbx.profile=t
	eq "empty list: tool rc" "$RC" 2
	# a broken file refuses every container, naming the line
	printf 'default_profile = "t"\nallowed_profiles = ["t"\n' >"$T_TMP/oci.toml"
	SBX_OCI_CONFIG=$T_TMP/oci.toml oe a6
	eq "broken config: tool rc" "$RC" 2
	[[ $(line a6 begin-error) == *"$T_TMP/oci.toml:2: expected ',' or ']' after a name"* ]] ||
		fail "broken config: $(cat "$T_TMP/a6.out")"
	for n in a1 a2 a5 a6; do
		[ -z "$(events $n | jq -r '.[]')" ] || fail "$n: a refused container has audit events"
	done
}

# A process that outlives the init (no pid namespace) keeps the sandbox
# until delete: oci_enforce_wait_gone has the manager kill it.
case_leftover_killed_at_delete()
{
	local ev
	oe c14 -a org.sbx.profile=t -k -x 5 -r 300
	eq "tool rc" "$RC" 0
	eq "init exit" "$(line c14 init-exit)" 5
	expect_gone c14
	ev=$(events c14)
	eq "events" "$(jq -r 'map(.event) | join(",")' <<<"$ev")" "sandbox.start,sandbox.exit"
	pgrep -f "oci_enforce_tool.*c14" >/dev/null && fail "the leftover process still runs"
	return 0
}

# A manager killed (SIGKILL) while the container runs: its watchdog kills
# the container and removes the sandbox (fail closed).
case_manager_killed()
{
	local mgr i
	rm -f "$T_TMP/go"
	mkdir -p "$T_TMP/c15"
	bg timeout 60 "$TOOL" -a org.sbx.profile=t -w "$T_TMP/go" "$T_TMP/c15" c15 >"$T_TMP/c15.out" 2>&1
	wait_for "$T_TMP/c15.out" '^init-ran' || fail "the init did not run: $(cat "$T_TMP/c15.out")"
	mgr=$(cut -d' ' -f1 "$T_TMP/c15/sbx-enforce.pid")
	kill -KILL "$mgr"
	wait_gone c15
	eq "init killed" "$(line c15 init-exit)" 137
	eq "gone" "$(line c15 gone)" 0
	for i in $(seq 100); do
		[ -z "$(leftovers)" ] && break
		sleep 0.1
	done
}

# linux.resources.devices: every device denied, then the spec's rules (a v1
# devices cgroup of the container's own where the host has that hierarchy).
case_device_rules()
{
	local dir
	grep -qw devices /proc/self/cgroup || skip "no v1 devices hierarchy (the rules need a BPF device program sbx has not)"
	# deny all, allow /dev/null: /dev/kmsg (1:11) is denied; /dev/zero stays
	# allowed, as with runc, which appends its default devices (null, zero,
	# full, random, urandom, tty, console, ptmx, the ptys) after the spec's
	# rules: engines send a deny-all rule and count on them
	oe c16 -a org.sbx.profile=t -D -a:-1:-1:rwm -D +c:1:3:rwm -o /dev/null -o /dev/kmsg -o /dev/zero -r 100
	eq "tool rc" "$RC" 0
	eq "open /dev/null (allowed)" "$(line c16 "open /dev/null")" ok
	eq "open /dev/kmsg (denied)" "$(line c16 "open /dev/kmsg")" EPERM
	eq "open /dev/zero (runc's default)" "$(line c16 "open /dev/zero")" ok
	expect_gone c16
	dir=$(sed -n 's/^devices=//p' "$T_TMP/c16/sbx-enforce.state")
	[ -n "$dir" ] || fail "no devices cgroup recorded"
	[ -e "$dir" ] && fail "devices cgroup $dir left behind"
	return 0
}

setup oe_setup
run_case denied_connect_audited case_denied_connect_audited
run_case manager_while_running case_manager_while_running
run_case abort_leaves_nothing case_abort_leaves_nothing
run_case strict_fs_rules_refused case_strict_fs_rules_refused
run_case best_effort_fs_rules_degraded case_best_effort_fs_rules_degraded
run_case limits_from_resources case_limits_from_resources
run_case policy_outside_trusted_refused case_policy_outside_trusted_refused
run_case policy_file_in_trusted_dir case_policy_file_in_trusted_dir
run_case strict_unapplied_resource_refused case_strict_unapplied_resource_refused
run_case hugepage_limits case_hugepage_limits
run_case default_profile_configured case_default_profile_configured
run_case allowed_profiles case_allowed_profiles
run_case leftover_killed_at_delete case_leftover_killed_at_delete
run_case manager_killed case_manager_killed
run_case device_rules case_device_rules
finish
