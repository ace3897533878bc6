#!/bin/bash
# SPDX-License-Identifier: MIT
# More attacks (atk2) on a container that sbx-oci runs under an sbx profile
# (annotation org.sbx.profile), and hostile input to sbx-oci. The workload is
# ociattack.c (static) in a busybox rootfs from `runc spec`; profile t is
# strict and denies 127.0.0.1:9 (discard: nothing listens, so only sbx makes
# a connect there EPERM). Each case fails while its hole is open; those that
# sbx-oci resisted stay as regression tests. Network probes use 127.0.0.1/::1
# in namespaces the containers get; the cgroup a case moves a process into is
# one the case makes and removes.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/oci_attack_lib.sh"

attack_setup()
{
	oci_rootfs ociattack || return 1
	oci_policy_tb "$SBX_POLICY_DIR/t.toml"
	oci_base "$SBX_POLICY_DIR/t.toml"
}

# diag MSG: a note for whoever runs the file (ATK2_DIAG names a file)
diag() { [ -n "$ATK2_DIAG" ] && printf '%s\n' "$*" >>"$ATK2_DIAG"; return 0; }


# The baseline: the deny list holds for connect4, v4-mapped connect6,
# sendmsg4, io_uring's connect, connect6 to ::1 and v4-mapped sendmsg6 with

# No pid namespace: the init forks a child that outlives it and, after
# `sbx-oci delete`, connects to the denied port. The leftover must be killed
# or still confined.
case_orphan_after_delete()
{
	local b
	rm -f "$ROOTFS/tmp/orphan.out" "$ROOTFS/tmp/orphan.start"
	b=$(bundle orphan '.process.args = ["/bin/sh", "-c", "(echo started >/tmp/orphan.start; sleep 2; /ociattack connect 9 >/tmp/orphan.out 2>&1) & exit 0"] |
		.linux.namespaces |= map(select(.type != "pid"))')
	T_CASE_RESTORE+="rt delete --force orphan >/dev/null 2>&1;"
	rt create --bundle "$b" orphan >"$T_TMP/orphan.out" 2>&1 </dev/null || fail "create: $(cat "$T_TMP/orphan.out")"
	rt start orphan || fail "start failed"
	for _ in $(seq 100); do
		[ "$(rt state orphan 2>/dev/null | jq -r .status)" = stopped ] && break
		sleep 0.05
	done
	rt delete --force orphan >/dev/null 2>&1
	sleep 3
	[ -f "$ROOTFS/tmp/orphan.start" ] || fail "the init's child never ran"
	diag "orphan: $(cat "$ROOTFS/tmp/orphan.out" 2>&1)"
	[ -f "$ROOTFS/tmp/orphan.out" ] || return 0
	eq "connect from a leftover after delete" "$(head -1 "$ROOTFS/tmp/orphan.out")" "connect EPERM"
}

# linux.cgroupsPath naming a host cgroup ("/"): the container must still be
# confined (or refused).
case_cgroupspath_host()
{
	local p
	for p in / /init.scope /sbx-atk2-$$; do
		runit cgp '.linux.cgroupsPath = "'"$p"'" | .process.args = ["/ociattack", "connect", "9"]'
		diag "cgp $p rc $RC: $(tr '\n' ' ' <"$T_TMP/cgp.out")"
		[ "$RC" = 0 ] || continue
		eq "connect with cgroupsPath $p" "$(key cgp connect)" EPERM
	done
	rmdir /sys/fs/cgroup/sbx-atk2-$$ 2>/dev/null
	return 0
}

# `sbx-oci exec --process` with CAP_SYS_ADMIN only in the ambient and
# inheritable sets (bounding/effective/permitted as in config.json).
case_exec_ambient_caps()
{
	local b
	b=$(bundle execamb '.process.args = ["sleep", "30"]')
	T_CASE_RESTORE+="rt delete --force execamb >/dev/null 2>&1;"
	rt create --bundle "$b" execamb >"$T_TMP/execamb.out" 2>&1 </dev/null || fail "create: $(cat "$T_TMP/execamb.out")"
	rt start execamb || fail "start failed"
	jq '.process | .capabilities.ambient = ["CAP_SYS_ADMIN"] | .capabilities.inheritable = ["CAP_SYS_ADMIN"] |
		.args = ["/bin/busybox", "grep", "Cap", "/proc/self/status"]' "$T_TMP/base.json" >"$T_TMP/execamb.json"
	rt exec --process "$T_TMP/execamb.json" execamb >"$T_TMP/execamb.exec" 2>&1 </dev/null
	rt delete --force execamb
	local eff
	diag "execamb: $(tr '\n' ' ' <"$T_TMP/execamb.exec")"
	eff=$(awk '/^CapEff/ {print $2}' "$T_TMP/execamb.exec")
	[ -z "$eff" ] && return 0
	[ $(( 0x$eff & (1 << 21) )) = 0 ] || fail "exec'd process has CAP_SYS_ADMIN: $(tr '\n' ' ' <"$T_TMP/execamb.exec")"
}

# `sbx-oci exec` with --cwd/--env/--user: the exec'd process still denied.
case_exec_args_abuse()
{
	local b r
	b=$(bundle execarg '.process.args = ["sleep", "30"] | .linux.namespaces |= map(select(.type != "user"))')
	T_CASE_RESTORE+="rt delete --force execarg >/dev/null 2>&1;"
	rt create --bundle "$b" execarg >"$T_TMP/execarg.out" 2>&1 </dev/null || fail "create: $(cat "$T_TMP/execarg.out")"
	rt start execarg || fail "start failed"
	r=$(rt exec --cwd /proc/1/root --env LD_PRELOAD=/x --user 0:0 execarg /ociattack connect 9 </dev/null 2>/dev/null | head -1)
	rt delete --force execarg
	diag "execarg: $r"
	case "$r" in "connect EPERM"|"") ;; connect*) fail "exec with --cwd/--env/--user: $r" ;; esac
	return 0
}

# A hook of the bundle (createContainer) runs outside the container: it is
# the bundle author's, not the workload's. Recorded: whether the container's
# process itself is still denied when a hook exists.
case_hook_present()
{
	runit hook '.hooks = {"createContainer": [{"path": "/bin/true"}]} | .process.args = ["/ociattack", "connect", "9"]'
	diag "hook rc $RC: $(tr '\n' ' ' <"$T_TMP/hook.out")"
	[ "$RC" = 0 ] || return 0
	eq "connect with a createContainer hook" "$(key hook connect)" EPERM
}

# config.json mounts a fresh cgroup2 (or cgroup, or bpf) filesystem, not a
# bind: without a cgroup namespace it is the host's whole hierarchy; the
# container's root (runc spec's capabilities) writes its pid into a cgroup
# outside sbx's and connects. Refused, or the move fails.
case_fresh_cgroupfs_mount()
{
	local cg=/sys/fs/cgroup/unified t
	[ -f /sys/fs/cgroup/cgroup.procs ] && cg=/sys/fs/cgroup
	[ -f "$cg/cgroup.procs" ] || skip "no cgroup2 hierarchy"
	mkdir -p "$cg/sbx-oci-atk2-$$" || fail "cannot make the test's cgroup"
	T_CASE_RESTORE+="rmdir $cg/sbx-oci-atk2-$$ 2>/dev/null;"
	mkdir -p "$ROOTFS/freshcg"
	for t in cgroup2 cgroup bpf; do
		runit freshcg '.process.args = ["/bin/sh", "-c", "cat /proc/self/cgroup; ls -d /freshcg/*.s* /freshcg/sbx*; echo $$ >/freshcg/sbx-oci-atk2-'$$'/cgroup.procs && echo moved; /ociattack connect 9"] |
			.mounts += [{"destination": "/freshcg", "type": "'$t'", "source": "'$t'", "options": ["rw", "nosuid", "nodev", "noexec"]}] |
			.linux.namespaces |= map(select(.type != "cgroup"))'
		diag "freshcg $t rc $RC: $(tr '\n' ' ' <"$T_TMP/freshcg.out")"
		grep -q '^moved' "$T_TMP/freshcg.out" &&
			fail "$t mount: the workload left sbx's cgroup: $(tr '\n' ' ' <"$T_TMP/freshcg.out")"
		[ "$RC" = 0 ] && [ -n "$(key freshcg connect)" ] && [ "$(key freshcg connect)" != EPERM ] &&
			fail "$t mount: connect $(key freshcg connect)"
	done
	return 0
}

# No network, pid, ipc or uts namespace (the host's netns, where 127.0.0.1:9
# is the host's): every deny form still EPERM.
case_host_netns_forms()
{
	runit hostnet '.process.args = ["/bin/sh", "-c", "/ociattack connect 9; /ociattack mapped 9; /ociattack udp 9; /ociattack uring 9; /ociattack v6 9"] |
		del(.hostname) | .linux.namespaces |= map(select(.type == "mount"))'
	diag "hostnet rc $RC: $(tr '\n' ' ' <"$T_TMP/hostnet.out")"
	[ "$RC" = 0 ] || return 0
	eq "connect 127.0.0.1:9 (host netns)" "$(key hostnet connect)" EPERM
	eq "connect [::ffff:127.0.0.1]:9 (host netns)" "$(key hostnet mapped)" EPERM
	eq "sendto udp 127.0.0.1:9 (host netns)" "$(key hostnet udp)" EPERM
	# the ring itself is refused by sbx's family filter (IORING_OP_SOCKET,
	# test_oci_attack3), or the connect hook refuses the connect
	case "$(key hostnet uring)" in
	EPERM|setup-EPERM) ;;
	*) fail "io_uring connect (host netns): $(key hostnet uring)";;
	esac
	eq "connect [::1]:9 (host netns)" "$(key hostnet v6)" EPERM
}

# A paused container: an exec into it, then resume; the exec'd process is
# denied, and delete --force of a paused container leaves nothing running.
case_pause_exec_resume()
{
	local b r
	b=$(bundle pausex '.process.args = ["sleep", "30"]')
	T_CASE_RESTORE+="rt resume pausex >/dev/null 2>&1; rt delete --force pausex >/dev/null 2>&1;"
	rt create --bundle "$b" pausex >"$T_TMP/pausex.out" 2>&1 </dev/null || fail "create: $(cat "$T_TMP/pausex.out")"
	rt start pausex || fail "start failed"
	rt pause pausex >>"$T_TMP/pausex.out" 2>&1
	( sleep 1; rt resume pausex >/dev/null 2>&1 ) &
	r=$(timeout 10 "$RUNTIME" --root "$ROOTDIR" exec pausex /ociattack connect 9 </dev/null 2>"$T_TMP/pausex.err" | head -1)
	wait
	diag "pausex: $r; $(cat "$T_TMP/pausex.err"); $(tr '\n' ' ' <"$T_TMP/pausex.out")"
	case "$r" in "connect EPERM"|"") ;; *) fail "exec around pause/resume: $r" ;; esac
	rt pause pausex >/dev/null 2>&1
	local pid
	pid=$(rt state pausex 2>/dev/null | jq -r .pid)
	rt delete --force pausex >/dev/null 2>&1
	sleep 0.5
	if [ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != null ] && [ -d "/proc/$pid" ] &&
		grep -q sleep "/proc/$pid/cmdline" 2>/dev/null; then
		fail "the paused container's init $pid outlived delete --force"
	fi
	return 0
}

# As orphan_after_delete, but the leftover connects while the container is
# "stopped" and not yet deleted (the manager may have torn down already).
case_orphan_before_delete()
{
	local b
	rm -f "$ROOTFS/tmp/orphan2.out" "$ROOTFS/tmp/orphan2.start"
	b=$(bundle orphan2 '.process.args = ["/bin/sh", "-c", "(echo started >/tmp/orphan2.start; sleep 2; /ociattack connect 9 >/tmp/orphan2.out 2>&1) & exit 0"] |
		.linux.namespaces |= map(select(.type != "pid"))')
	T_CASE_RESTORE+="rt delete --force orphan2 >/dev/null 2>&1;"
	rt create --bundle "$b" orphan2 >"$T_TMP/orphan2.out" 2>&1 </dev/null || fail "create: $(cat "$T_TMP/orphan2.out")"
	rt start orphan2 || fail "start failed"
	sleep 4
	diag "orphan2: state $(rt state orphan2 2>/dev/null | jq -r .status); $(cat "$ROOTFS/tmp/orphan2.out" 2>&1)"
	rt delete --force orphan2 >/dev/null 2>&1
	[ -f "$ROOTFS/tmp/orphan2.start" ] || fail "the init's child never ran"
	[ -f "$ROOTFS/tmp/orphan2.out" ] || return 0
	eq "connect from a leftover of a stopped container" "$(head -1 "$ROOTFS/tmp/orphan2.out")" "connect EPERM"
}

# Hooks that run in the container (startContainer: "in the container just
# before its program runs", docs/oci.md) connect to the denied port: EPERM.
# createContainer (the container's mount namespace, before pivot_root) is
# recorded in the diag only: the bundle's author's, not the workload's.
case_hooks_connect()
{
	rm -f "$T_TMP/hook_cc.out" "$ROOTFS/tmp/hook_sc.out"
	runit hooks '.hooks = {"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "'"$ATTACK"' connect 9 >'"$T_TMP"'/hook_cc.out 2>&1"]}],
		"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "/ociattack connect 9 >/tmp/hook_sc.out 2>&1"]}]} |
		.process.args = ["/bin/true"]'
	diag "hooks rc $RC: $(tr '\n' ' ' <"$T_TMP/hooks.out"); cc: $(cat "$T_TMP/hook_cc.out" 2>&1); sc: $(cat "$ROOTFS/tmp/hook_sc.out" 2>&1)"
	[ -f "$ROOTFS/tmp/hook_sc.out" ] || return 0
	eq "connect from a startContainer hook" "$(head -1 "$ROOTFS/tmp/hook_sc.out")" "connect EPERM"
}

# linux.sysctl of a net.* key in a container without its own network
# namespace would set the host's value: refused, or the host's value
# unchanged.
case_sysctl_host_netns()
{
	local k=/proc/sys/net/ipv4/ip_unprivileged_port_start old
	old=$(cat $k) || skip "no $k"
	T_CASE_RESTORE+="echo $old >$k;"
	runit sysctl '.linux.sysctl = {"net.ipv4.ip_unprivileged_port_start": "'$((old == 1000 ? 1001 : 1000))'"} |
		del(.hostname) | .linux.namespaces |= map(select(.type == "mount"))'
	diag "sysctl rc $RC: $(tr '\n' ' ' <"$T_TMP/sysctl.out"); host now $(cat $k), was $old"
	eq "host's $k after the container" "$(cat $k)" "$old"
}

# CAP_SYS_ADMIN (and CAP_NET_ADMIN) only in the bounding set, the effective
# and permitted sets runc spec's: a uid-0 process gets its bounding set as
# permitted at its next execve. Refused, or no such capability raised.
case_bounding_only_caps()
{
	local eff
	runit bnd '.process.capabilities.bounding += ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"] |
		.process.args = ["/bin/sh", "-c", "/bin/busybox grep CapEff /proc/self/status; /ociattack cgwrite 9; /ociattack connect 9"]'
	diag "bnd rc $RC: $(tr '\n' ' ' <"$T_TMP/bnd.out")"
	[ "$RC" = 0 ] || return 0
	eff=$(awk '/^CapEff/ {print $2}' "$T_TMP/bnd.out")
	[ -n "$eff" ] || fail "no CapEff: $(cat "$T_TMP/bnd.out")"
	[ $(( 0x$eff & ((1 << 21) | (1 << 12)) )) = 0 ] ||
		fail "bounding-only CAP_SYS_ADMIN/CAP_NET_ADMIN became effective ($eff) under strict: $(tr '\n' ' ' <"$T_TMP/bnd.out")"
	eq "connect" "$(key bnd connect)" EPERM
}

# Each of CAP_NET_ADMIN, CAP_BPF, CAP_SYS_PTRACE only in the inheritable and
# ambient sets (or only in bounding): none may end up effective under strict.
case_caps_other_sets()
{
	local c set eff bit
	for c in CAP_NET_ADMIN:12 CAP_BPF:39 CAP_SYS_PTRACE:19 CAP_SYS_ADMIN:21; do
		bit=${c#*:}; c=${c%:*}
		for set in bounding inh_amb; do
			if [ $set = bounding ]; then
				runit cos '.process.capabilities.bounding += ["'$c'"] | .process.args = ["/bin/busybox", "grep", "CapEff", "/proc/self/status"]'
			else
				runit cos '.process.capabilities.inheritable = ["'$c'"] | .process.capabilities.ambient = ["'$c'"] |
					.process.args = ["/bin/busybox", "grep", "CapEff", "/proc/self/status"]'
			fi
			diag "cos $c $set rc $RC: $(tr '\n' ' ' <"$T_TMP/cos.out")"
			[ "$RC" = 0 ] || continue
			eff=$(awk '/^CapEff/ {print $2}' "$T_TMP/cos.out")
			[ -n "$eff" ] || continue
			[ $(( (0x$eff >> bit) & 1 )) = 0 ] || fail "$c in $set became effective ($eff) under strict"
		done
	done
	return 0
}

setup attack_setup
run_case caps_other_sets case_caps_other_sets
run_case bounding_only_caps case_bounding_only_caps
run_case sysctl_host_netns case_sysctl_host_netns
run_case hooks_connect case_hooks_connect
run_case orphan_before_delete case_orphan_before_delete
run_case host_netns_forms case_host_netns_forms
run_case pause_exec_resume case_pause_exec_resume
run_case fresh_cgroupfs_mount case_fresh_cgroupfs_mount
run_case orphan_after_delete case_orphan_after_delete
run_case cgroupspath_host case_cgroupspath_host
run_case exec_ambient_caps case_exec_ambient_caps
run_case exec_args_abuse case_exec_args_abuse
run_case hook_present case_hook_present
finish
