#!/bin/bash
# SPDX-License-Identifier: MIT
# A hostile workload in a container that sbx-oci runs under an sbx profile
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
	cat >>"$SBX_POLICY_DIR/t.toml" <<'EOT'
[profile.v]
enforcement = "strict"
[profile.v.network]
mode = "full"
unix = ["*"]
families = ["vsock"]
[profile.v.fs]
mode = "full"
EOT
	oci_base "$SBX_POLICY_DIR/t.toml"
}

# The baseline: the deny list holds for connect4, v4-mapped connect6,
# sendmsg4, io_uring's connect, connect6 to ::1 and v4-mapped sendmsg6 with
# runc spec's default capabilities.
case_deny_forms_default_caps()
{
	runit forms '.process.args = ["/bin/sh", "-c", "/ociattack connect 9; /ociattack mapped 9; /ociattack udp 9; /ociattack uring 9; /ociattack v6 9"]'
	eq "run rc" "$RC" 0
	eq "connect [::1]:9" "$(key forms v6)" EPERM
	eq "sendto udp [::ffff:127.0.0.1]:9" "$(key forms udp6m)" EPERM
	# the ring itself is refused under every profile but none (sbx's family
	# filter: IORING_OP_SOCKET, test_oci_attack3); the connect hook behind it
	case "$(key forms uring)" in
	EPERM|setup-EPERM) ;;
	*) fail "io_uring IORING_OP_CONNECT 127.0.0.1:9: $(key forms uring)";;
	esac
	eq "connect 127.0.0.1:9" "$(key forms connect)" EPERM
	eq "connect [::ffff:127.0.0.1]:9" "$(key forms mapped)" EPERM
	eq "sendto udp 127.0.0.1:9" "$(key forms udp)" EPERM
}

# Podman's default capability set (no user namespace), the "cgroup" mount
# asked rw: the bind of the container's own cgroup is read-only all the
# same; cgroup.procs cannot be written.
case_cgroup_bind_readonly_podman_caps()
{
	local j
	j=$(caps_jq CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_KILL CAP_NET_BIND_SERVICE \
		CAP_SETFCAP CAP_SETGID CAP_SETPCAP CAP_SETUID CAP_SYS_CHROOT)
	runit podcaps "$j"' | .process.args = ["/ociattack", "cgwrite", "9"] |
		.mounts |= map(if .destination == "/sys/fs/cgroup" then .options = ["nosuid", "noexec", "nodev", "rw"] else . end)'
	eq "run rc" "$RC" 0
	[ "$(key podcaps cgwrite)" = ok ] && fail "the container wrote cgroup.procs: $(cat "$T_TMP/podcaps.out")"
	eq "connect after" "$(key podcaps after)" EPERM
}

# CAP_SYS_ADMIN without a user namespace (and without a cgroup namespace, as
# runc spec's config has none): a fresh cgroup2 mount shows the host's whole
# tree, and the workload moves itself out of sbx's cgroup, where the eBPF
# network policy is attached. A strict profile cannot be enforced for such a
# container: sbx-oci must refuse it, naming the capability.
case_sys_admin_refused_under_strict()
{
	local cg=/sys/fs/cgroup/unified
	[ -f /sys/fs/cgroup/cgroup.procs ] && cg=/sys/fs/cgroup
	[ -f "$cg/cgroup.procs" ] || skip "no cgroup2 hierarchy"
	mkdir -p "$cg/sbx-oci-attack-$$" || fail "cannot make the test's cgroup"
	T_CASE_RESTORE+="rmdir $cg/sbx-oci-attack-$$ 2>/dev/null;"
	runit sysadmin "$(caps_jq CAP_SYS_ADMIN CAP_KILL CAP_NET_BIND_SERVICE)"' |
		.process.args = ["/ociattack", "cgmove", "sbx-oci-attack-'$$'", "9"]'
	if [ "$RC" = 0 ]; then
		fail "a strict profile ran with CAP_SYS_ADMIN: $(tr '\n' ' ' <"$T_TMP/sysadmin.out")"
	fi
	grep -q CAP_SYS_ADMIN "$T_TMP/sysadmin.out" ||
		fail "the refusal does not name the capability: $(cat "$T_TMP/sysadmin.out")"
}

case_dangerous_caps_refused_under_strict()
{
	local c
	for c in CAP_NET_ADMIN CAP_BPF CAP_SYS_PTRACE CAP_SYS_MODULE CAP_SYS_RAWIO CAP_PERFMON \
		CAP_DAC_READ_SEARCH; do
		runit "cap-$c" "$(caps_jq "$c")"' | .process.args = ["/ociattack", "connect", "9"]'
		[ "$RC" = 0 ] && fail "a strict profile ran with $c: $(tr '\n' ' ' <"$T_TMP/cap-$c.out")"
		grep -q "$c" "$T_TMP/cap-$c.out" || fail "the refusal does not name $c: $(cat "$T_TMP/cap-$c.out")"
		rt delete --force "cap-$c" >/dev/null 2>&1
	done
	return 0
}

# With a user namespace, CAP_SYS_ADMIN is the namespace's: allowed, and the
# workload's cgroup2 mount is rooted in its own cgroup namespace.
case_sys_admin_in_userns_allowed()
{
	runit userns "$(caps_jq CAP_SYS_ADMIN)"' | .process.args = ["/ociattack", "cgmove", ".", "9"] |
		.linux.namespaces += [{"type": "user"}, {"type": "cgroup"}] |
		.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}] |
		.linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	[ "$RC" = 0 ] || skip "sbx-oci cannot run this user namespace here: $(head -3 "$T_TMP/userns.out")"
	eq "connect after" "$(key userns after)" EPERM
}

# a user namespace that maps host root onto the container's root is not the
# container's own: its root keeps host root's hold on root-owned files (a
# bound /sys remounted rw, the host's cgroup.procs). Refused under strict.
case_sys_admin_userns_mapping_host_root_refused()
{
	runit usernsroot "$(caps_jq CAP_SYS_ADMIN)"' | .process.args = ["/ociattack", "connect", "9"] |
		.linux.namespaces += [{"type": "user"}] |
		.linux.uidMappings = [{"containerID": 0, "hostID": 0, "size": 65536}] |
		.linux.gidMappings = [{"containerID": 0, "hostID": 0, "size": 65536}]'
	[ "$RC" != 0 ] || fail "a strict profile ran CAP_SYS_ADMIN in a user namespace mapping host root"
	grep -q CAP_SYS_ADMIN "$T_TMP/usernsroot.out" ||
		fail "the refusal does not name the capability: $(cat "$T_TMP/usernsroot.out")"
}

# best-effort: the capability runs, listed as degraded (not silently)
case_sys_admin_best_effort_degraded()
{
	runit besteff "$(caps_jq CAP_SYS_ADMIN)"' | .annotations["org.sbx.profile"] = "b" |
		.process.args = ["/ociattack", "connect", "9"]'
	eq "run rc" "$RC" 0
	grep -q 'CAP_SYS_ADMIN' "$SBX_LOG_DIR/audit.jsonl" ||
		fail "sandbox.start does not list CAP_SYS_ADMIN as degraded"
}

# Descriptors of the runtime inside the container: none may lead to a host
# directory, the state directory, bpffs, a cgroup directory or a socket.
case_no_fd_leaks()
{
	local bad
	runit fds '.process.args = ["/ociattack", "fds"]'
	eq "run rc" "$RC" 0
	grep -q '^end' "$T_TMP/fds.out" || fail "no output: $(cat "$T_TMP/fds.out")"
	# 0-2 are the caller's (here /dev/null and this test's output file)
	bad=$(grep '^fd ' "$T_TMP/fds.out" | awk '$3 > 2 {print $2, $3, $4}' | grep -v ' /proc/[0-9]*/fd$' || true)
	[ -z "$bad" ] || fail "descriptors leak into the container: $bad"
}

# The manager runs as root outside the container. A container without a pid
# namespace (root, CAP_KILL as in runc spec's set) sees it: it cannot open
# the manager's /proc exe (CVE-2019-5736), mem, root or environ (the
# manager's capabilities are not a subset of its own), but it can kill it:
# then nothing of the container may run on unconfined (the watchdog kills
# the cgroup), so the connect after the kill must not happen or be EPERM.
case_manager_killed_fails_closed()
{
	local b mgr k
	rm -f "$ROOTFS/tmp/mgrpid"
	b=$(bundle mgr '.process.args = ["/bin/sh", "-c",
		"while [ ! -s /tmp/mgrpid ]; do sleep 0.1; done; /ociattack peek $(cat /tmp/mgrpid); /ociattack kill $(cat /tmp/mgrpid); sleep 1; /ociattack connect 9"] |
		.linux.namespaces |= map(select(.type != "pid"))')
	T_CASE_RESTORE+="rt delete --force mgr >/dev/null 2>&1;"
	rt create --bundle "$b" mgr >"$T_TMP/mgr.out" 2>&1 </dev/null || fail "create: $(cat "$T_TMP/mgr.out")"
	rt start mgr || fail "start failed"
	mgr=$(cut -d' ' -f1 "$ROOTDIR/mgr/sbx-enforce.pid" 2>/dev/null)
	[ -n "$mgr" ] || fail "no manager pid in $ROOTDIR/mgr/sbx-enforce.pid: $(ls "$ROOTDIR/mgr")"
	echo "$mgr" >"$ROOTFS/tmp/mgrpid"
	# 60 s: on a loaded machine the workload's steps take seconds, and the
	# pid file must stay until its kill has read it
	for _ in $(seq 600); do
		[ "$(rt state mgr 2>/dev/null | jq -r .status)" = stopped ] && break
		sleep 0.1
	done
	[ "$(rt state mgr 2>/dev/null | jq -r .status)" = stopped ] ||
		fail "the container did not stop within 60 s: $(cat "$T_TMP/mgr.out")"
	rm -f "$ROOTFS/tmp/mgrpid"
	for k in exe mem root environ; do
		[ "$(key mgr "peek-$k")" = ok ] && fail "the workload opened the manager's /proc/$mgr/$k"
		[ -n "$(key mgr "peek-$k")" ] || fail "no peek-$k: $(cat "$T_TMP/mgr.out")"
	done
	case "$(key mgr kill)" in
	ok) ;;
	*) fail "the workload could not kill the manager ($mgr): $(cat "$T_TMP/mgr.out") (the case proves nothing)";;
	esac
	case "$(key mgr connect)" in
	""|EPERM) ;;
	*) fail "after the manager died the workload ran unconfined: connect $(key mgr connect)";;
	esac
	rt delete --force mgr >/dev/null 2>&1
	return 0
}

# `sbx-oci exec` into a container with a memory and a pids limit: the
# exec'd process is in every cgroup the init is in (sbx's cgroup2 one, where
# the eBPF policy is, and the v1 memory/pids ones of a hybrid host), and the
# denied port stays denied for it.
case_exec_in_same_cgroups()
{
	local b init ex
	b=$(bundle execcg '.process.args = ["sleep", "30"] | .linux.resources.memory.limit = 134217728 |
		.linux.resources.pids.limit = 64')
	T_CASE_RESTORE+="rt delete --force execcg >/dev/null 2>&1;"
	rt create --bundle "$b" execcg >"$T_TMP/execcg.out" 2>&1 </dev/null || fail "create: $(cat "$T_TMP/execcg.out")"
	rt start execcg || fail "start failed"
	init=$(rt exec execcg cat /proc/1/cgroup </dev/null 2>/dev/null | sort)
	ex=$(rt exec execcg cat /proc/self/cgroup </dev/null 2>/dev/null | sort)
	[ -n "$init" ] || fail "no cgroups of the init"
	eq "exec'd connect to the denied port" "$(rt exec execcg /ociattack connect 9 </dev/null 2>/dev/null | head -1)" "connect EPERM"
	rt delete --force execcg
	# user/oci/main.c: exec_spawn's child joins the init's v1 cgroups
	eq "cgroups of an exec'd process" "$ex" "$init"
}

# `sbx-oci exec --process` with a capability the container's config.json did
# not have (CAP_SYS_ADMIN, no user namespace): the exec'd process would move
# itself out of sbx's cgroup. Refused, naming the capability.
case_exec_process_caps()
{
	local b cg=/sys/fs/cgroup/unified
	[ -f /sys/fs/cgroup/cgroup.procs ] && cg=/sys/fs/cgroup
	mkdir -p "$cg/sbx-oci-attack-$$" || fail "cannot make the test's cgroup"
	T_CASE_RESTORE+="rmdir $cg/sbx-oci-attack-$$ 2>/dev/null;"
	b=$(bundle execcap '.process.args = ["sleep", "30"]')
	T_CASE_RESTORE+="rt delete --force execcap >/dev/null 2>&1;"
	rt create --bundle "$b" execcap >"$T_TMP/execcap.out" 2>&1 </dev/null || fail "create: $(cat "$T_TMP/execcap.out")"
	rt start execcap || fail "start failed"
	jq "$(caps_jq CAP_SYS_ADMIN)"' | .process | .args = ["/ociattack", "cgmove", "sbx-oci-attack-'$$'", "9"]' \
		"$T_TMP/base.json" >"$T_TMP/execcap.json"
	rt exec --process "$T_TMP/execcap.json" execcap >"$T_TMP/execcap.exec" 2>&1 </dev/null
	rt delete --force execcap
	# user/oci/main.c: exec_prepare checks the process (oci_enforce_exec_check)
	grep -q '^cgmove ok' "$T_TMP/execcap.exec" &&
		fail "the exec'd process left sbx's cgroup: $(tr '\n' ' ' <"$T_TMP/execcap.exec")"
	grep -q '^after ' "$T_TMP/execcap.exec" &&
		fail "the exec ran with CAP_SYS_ADMIN: $(tr '\n' ' ' <"$T_TMP/execcap.exec")"
	grep -q CAP_SYS_ADMIN "$T_TMP/execcap.exec" ||
		fail "the refusal does not name the capability: $(cat "$T_TMP/execcap.exec")"
}

# CAP_NET_RAW (Docker's and containerd's default sets): raw inet sockets are
# refused by sbx's sock_create hook, but packet sockets (AF_PACKET, and
# AF_INET/SOCK_PACKET) never reach it: a strict profile without
# raw_sockets = true refuses the capability (no user namespace), naming it;
# best-effort runs it, listed as degraded, and the inet raw socket is still
# refused.
case_raw_sockets_refused()
{
	runit raw "$(caps_jq CAP_NET_RAW)"' | .process.args = ["/ociattack", "raw"]'
	if [ "$RC" = 0 ] && [ "$(key raw packet)" = ok ]; then
		fail "a strict profile ran with CAP_NET_RAW and a packet socket opened: $(tr '\n' ' ' <"$T_TMP/raw.out")"
	fi
	[ "$RC" = 0 ] || grep -q CAP_NET_RAW "$T_TMP/raw.out" ||
		fail "the refusal does not name CAP_NET_RAW: $(cat "$T_TMP/raw.out")"
	runit rawb "$(caps_jq CAP_NET_RAW)"' | .annotations["org.sbx.profile"] = "b" |
		.process.args = ["/ociattack", "raw"]'
	eq "best-effort run rc" "$RC" 0
	eq "socket(AF_INET, SOCK_RAW)" "$(key rawb raw)" EPERM
	grep -q 'CAP_NET_RAW' "$SBX_LOG_DIR/audit.jsonl" ||
		fail "sandbox.start does not list CAP_NET_RAW as degraded"
}

# Socket families outside network.families (vsock, tipc, alg, key, netlink
# but route) are refused with EPERM in the init and in an exec'd process,
# even where the container's own seccomp allows every call and refuses
# seccomp(2) itself (sbx's filter goes in first), and each refusal of the
# init is a net.socket event with the container's id; inet, unix and
# netlink route stay open. Under "none" (runc behaviour) nothing is
# refused; a profile that lists vsock lets vsock through.
case_socket_families_refused()
{
	local k b ev
	runit fam '.process.args = ["/ociattack", "families"] |
		.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
		"syscalls": [{"names": ["seccomp"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
	eq "run rc" "$RC" 0
	for k in vsock tipc alg key netlink_audit socketpair_vsock; do
		eq "init: $k" "$(key fam $k)" EPERM
	done
	for k in inet unix netlink_route socketpair_unix; do
		eq "init: $k" "$(key fam $k)" ok
	done
	ev=$(jq -c 'select(.container == "fam" and .event == "net.socket")' "$SBX_LOG_DIR/audit.jsonl")
	[ "$(grep -c . <<<"$ev")" -ge 5 ] || fail "net.socket events of the init: $ev"
	jq -e 'select(.family == "vsock" and .verdict == "deny")' <<<"$ev" >/dev/null ||
		fail "no net.socket deny event naming vsock: $ev"
	# so do the createContainer hooks (the container's mount namespace
	# before pivot_root: host paths) and the startContainer ones (inside),
	# both forks of the init
	runit famh '.process.args = ["true"] |
		.hooks.createContainer = [{"path": "/bin/sh", "args": ["sh", "-c",
			"'"$ROOTFS"'/ociattack families >'"$ROOTFS"'/tmp/hook-create.out"]}] |
		.hooks.startContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "/ociattack families >/tmp/hook-start.out"]}]'
	eq "hooks: run rc" "$RC" 0
	for k in create start; do
		eq "$k hook: vsock" "$(sed -n 's|^vsock ||p' "$ROOTFS/tmp/hook-$k.out" 2>/dev/null)" EPERM
		eq "$k hook: inet" "$(sed -n 's|^inet ||p' "$ROOTFS/tmp/hook-$k.out" 2>/dev/null)" ok
	done
	rm -f "$ROOTFS"/tmp/hook-*.out
	# an exec'd process gets the filter too
	b=$(bundle famx '.process.args = ["sleep", "30"]')
	T_CASE_RESTORE+="rt delete --force famx >/dev/null 2>&1;"
	rt create --bundle "$b" famx >"$T_TMP/famx.out" 2>&1 </dev/null || fail "create: $(cat "$T_TMP/famx.out")"
	rt start famx || fail "start failed"
	rt exec famx /ociattack families >"$T_TMP/famx.exec" 2>&1 </dev/null
	for k in vsock tipc alg key netlink_audit; do
		eq "exec: $k" "$(sed -n "s|^$k ||p" "$T_TMP/famx.exec")" EPERM
	done
	eq "exec: inet" "$(sed -n 's|^inet ||p' "$T_TMP/famx.exec")" ok
	rt delete --force famx
	# none: plain runc, whatever the kernel answers
	runit famn '.process.args = ["/ociattack", "families"] | .annotations["org.sbx.profile"] = "none"'
	eq "none: run rc" "$RC" 0
	for k in vsock tipc alg key netlink_audit; do
		[ "$(key famn $k)" != EPERM ] || fail "none: $k refused ($(tr '\n' ' ' <"$T_TMP/famn.out"))"
	done
	# listed: vsock allowed, the rest still refused
	runit faml '.process.args = ["/ociattack", "families"] | .annotations["org.sbx.profile"] = "v"'
	eq "vsock listed: run rc" "$RC" 0
	[ "$(key faml vsock)" != EPERM ] || fail "a listed vsock was refused"
	eq "vsock listed: tipc" "$(key faml tipc)" EPERM
}

# runc spec's maskedPaths and readonlyPaths hold for root with the default
# capabilities (no CAP_SYS_ADMIN to unmount them).
case_proc_masked()
{
	runit procfs '.process.args = ["/ociattack", "procfs"]'
	eq "run rc" "$RC" 0
	case "$(key procfs sysrq)" in
	EROFS|ENOENT) ;;	# ENOENT: a kernel without CONFIG_MAGIC_SYSRQ
	*) fail "open /proc/sysrq-trigger for writing: $(key procfs sysrq)";;
	esac
	eq "open /proc/sys/vm/drop_caches for writing" "$(key procfs sysvm)" EROFS
	[ "$(key procfs kcore)" = readable ] && fail "/proc/kcore is not masked"
	return 0
}

# A network namespace joined by path (one this test makes, standing for the
# host's): sbx's policy is on the cgroup, so it holds in any namespace.
case_netns_by_path()
{
	local ns=sbxatk$$
	ip netns add "$ns" || skip "ip netns add failed"
	T_CASE_RESTORE+="ip netns del $ns 2>/dev/null;"
	ip -n "$ns" link set lo up
	runit netpath '.process.args = ["/bin/sh", "-c", "/ociattack connect 9; /ociattack mapped 9"] |
		.linux.namespaces |= map(if .type == "network" then .path = "/run/netns/'"$ns"'" else . end)'
	eq "run rc" "$RC" 0
	eq "connect 127.0.0.1:9" "$(key netpath connect)" EPERM
	eq "connect [::ffff:127.0.0.1]:9" "$(key netpath mapped)" EPERM
	ip netns del "$ns"
}

# Container ids that would leave --root are refused, and nothing is made
# outside it.
case_hostile_ids()
{
	local id b
	b=$(bundle ids '.process.args = ["true"]')
	for id in ../escape ./../escape a/b .. . "" "x
y" 'x"y' 'x\y' "$(printf 'x%.0s' $(seq 1100))"; do
		if rt create --bundle "$b" "$id" >/dev/null 2>&1 </dev/null; then
			rt delete --force "$id" >/dev/null 2>&1
			fail "id '$id' was accepted"
		fi
	done
	[ -e "$T_TMP/escape" ] && fail "an id made $T_TMP/escape outside --root"
	return 0
}

# state.json rewritten after the init exited so that its pid is a host
# process (pid reuse): kill and delete --force must not signal it (the start
# time does not match).
case_kill_checks_start_time()
{
	local b victim
	b=$(bundle reuse '.process.args = ["sleep", "30"]')
	T_CASE_RESTORE+="rt delete --force reuse >/dev/null 2>&1;"
	rt create --bundle "$b" reuse >/dev/null 2>&1 </dev/null || fail "create failed"
	rt start reuse || fail "start failed"
	rt kill reuse KILL || fail "kill failed"
	for _ in $(seq 100); do
		[ "$(rt state reuse 2>/dev/null | jq -r .status)" = stopped ] && break
		sleep 0.05
	done
	sleep 30 &
	victim=$!
	T_CASE_RESTORE+="kill $victim 2>/dev/null;"
	[ -f "$ROOTDIR/reuse/state.json" ] || fail "no $ROOTDIR/reuse/state.json: $(ls "$ROOTDIR/reuse")"
	jq --argjson p "$victim" '.pid = $p' "$ROOTDIR/reuse/state.json" >"$T_TMP/st.json" &&
		cat "$T_TMP/st.json" >"$ROOTDIR/reuse/state.json"
	rt kill reuse KILL >/dev/null 2>&1
	rt kill --all reuse KILL >/dev/null 2>&1
	rt delete --force reuse >/dev/null 2>&1
	kill -0 "$victim" 2>/dev/null || fail "sbx-oci signalled pid $victim, a host process with the container's old pid"
	kill "$victim"
	wait "$victim" 2>/dev/null
	return 0
}

# A flood of denied connects to hide one denial: every denial is either an
# event or counted in audit.suppressed, and every line of the sandbox names
# the container.
case_flood_counted()
{
	local n=20000 ev logged supp nocont
	runit flood '.process.args = ["/ociattack", "flood", "9", "'$n'"]'
	eq "run rc" "$RC" 0
	eq "denied connects" "$(key flood flood)" "$n"
	sleep 1
	ev=$(jq -cs '[.[] | select(.container == "flood")]' "$SBX_LOG_DIR/audit.jsonl")
	logged=$(jq '[.[] | select(.event == "net.connect" and .verdict == "deny")] | length' <<<"$ev")
	supp=$(jq '[.[] | select(.event == "audit.suppressed") | .deny] | add // 0' <<<"$ev")
	[ $((logged + supp)) -ge "$n" ] ||
		fail "denials lost: $logged logged + $supp suppressed < $n (audit: $(jq -c 'map(.event) | group_by(.) | map({(.[0]): length}) | add' <<<"$ev"))"
	nocont=$(jq -cs --arg s "$(jq -r '.[0].sandbox' <<<"$ev")" \
		'[.[] | select(.sandbox == $s and .container != "flood")] | length' "$SBX_LOG_DIR/audit.jsonl")
	eq "lines of the sandbox without the container id" "$nocont" 0
}

# CAP_MKNOD (containerd's default set): root makes a node of the host's
# root disk; the devices cgroup (runc spec: deny all but the defaults) keeps
# it from opening it, for the init and for an exec'd process.
case_mknod_host_disk()
{
	local d maj min b out
	d=$(stat -c '%d' /)
	maj=$((d >> 8 & 0xfff)); min=$(((d & 0xff) | (d >> 12 & 0xfff00)))
	[ -e "/sys/dev/block/$maj:$min" ] || skip "/ is not on a block device ($maj:$min)"
	b=$(bundle mknod "$(caps_jq CAP_MKNOD CAP_KILL)"' | .process.args = ["sleep", "30"]')
	T_CASE_RESTORE+="rt delete --force mknod >/dev/null 2>&1;"
	rt create --bundle "$b" mknod >/dev/null 2>&1 </dev/null || fail "create failed"
	rt start mknod || fail "start failed"
	rt exec mknod /ociattack mknod "$maj" "$min" >"$T_TMP/mknod.exec" 2>/dev/null </dev/null
	rt delete --force mknod
	runit mknodi "$(caps_jq CAP_MKNOD)"' | .process.args = ["/ociattack", "mknod", "'"$maj"'", "'"$min"'"]'
	eq "run rc" "$RC" 0
	eq "mknod by the init" "$(key mknodi mknod)" ok
	eq "open by the init" "$(key mknodi open)" EPERM
	out=$(sed -n 's/^open //p' "$T_TMP/mknod.exec")
	eq "open by an exec'd process" "$out" EPERM
}

# Mount destinations through symlinks of the rootfs (which a workload that
# shares the rootfs could plant) that lead outside it, absolute and
# relative, with rootfsPropagation shared: the mount lands inside the
# rootfs (or create refuses), never on the host's directory.
case_mount_dest_symlink()
{
	local h=$T_TMP/hostdir
	mkdir -p "$h"
	ln -sfn "$h" "$ROOTFS/evil1"
	ln -sfn "../../../../../../../../$h" "$ROOTFS/evil2"
	T_CASE_RESTORE+="rm -f $ROOTFS/evil1 $ROOTFS/evil2; umount $h 2>/dev/null;"
	runit msym '.process.args = ["true"] | .linux.rootfsPropagation = "shared" |
		.mounts += [{"destination": "/evil1", "type": "tmpfs", "source": "tmpfs"},
			    {"destination": "/evil2/sub", "type": "tmpfs", "source": "tmpfs"}]'
	mountpoint -q "$h" && fail "a mount of the container landed on the host's $h"
	mountpoint -q "$h/sub" && fail "a mount of the container landed on the host's $h/sub"
	findmnt -rn -o TARGET | grep -q "^$h" && fail "mounts under $h: $(findmnt -rn -o TARGET | grep "^$h")"
	rm -f "$ROOTFS/evil1" "$ROOTFS/evil2"
	return 0
}

# --pid-file inside a directory the container controls (its rootfs), where
# the workload of an earlier run left a symlink to a host file: the host
# file is not written (the pid file replaces the link, as runc's rename).
case_pid_file_symlink()
{
	local b
	echo precious >"$T_TMP/victim"
	ln -sfn "$T_TMP/victim" "$ROOTFS/tmp/pidlink"
	b=$(bundle pidf '.process.args = ["true"]')
	T_CASE_RESTORE+="rt delete --force pidf >/dev/null 2>&1; rm -f $ROOTFS/tmp/pidlink;"
	rt create --bundle "$b" --pid-file "$ROOTFS/tmp/pidlink" pidf >/dev/null 2>&1 </dev/null
	rt delete --force pidf >/dev/null 2>&1
	eq "the host file behind the symlink" "$(cat "$T_TMP/victim")" precious
	rm -f "$ROOTFS/tmp/pidlink"
}

# config.json binds the host's cgroup2 hierarchy (or a tree holding it,
# rbind of /sys) into the container: its root, without any capability but
# runc spec's, writes its pid into a cgroup outside sbx's and leaves the
# eBPF policy. A strict profile refuses such a bind, naming the mount.
case_cgroupfs_bind_refused()
{
	local cg=/sys/fs/cgroup/unified m src dst how rel
	[ -f /sys/fs/cgroup/cgroup.procs ] && cg=/sys/fs/cgroup
	[ -f "$cg/cgroup.procs" ] || skip "no cgroup2 hierarchy"
	mkdir -p "$cg/sbx-oci-attack-$$" || fail "cannot make the test's cgroup"
	T_CASE_RESTORE+="rmdir $cg/sbx-oci-attack-$$ 2>/dev/null;"
	mkdir -p "$ROOTFS/hostcg" "$ROOTFS/hostsys"
	for m in "$cg:/hostcg:bind" "/sys:/hostsys:rbind"; do
		IFS=: read -r src dst how <<<"$m"
		rel=${cg#$src}
		runit cgbind '.process.args = ["/bin/sh", "-c", "echo $$ >'"$dst$rel/sbx-oci-attack-$$"'/cgroup.procs && echo moved; /ociattack connect 9"] |
			.mounts += [{"destination": "'"$dst"'", "type": "bind", "source": "'"$src"'", "options": ["'"$how"'", "rw"]}]'
		grep -q '^moved' "$T_TMP/cgbind.out" &&
			fail "$how of $src: the workload left sbx's cgroup: $(tr '\n' ' ' <"$T_TMP/cgbind.out")"
		[ "$RC" = 0 ] && [ "$(key cgbind connect)" != EPERM ] &&
			fail "$how of $src: connect $(key cgbind connect)"
		[ "$RC" = 0 ] || grep -q "$dst" "$T_TMP/cgbind.out" ||
			fail "$how of $src: the refusal does not name the mount: $(cat "$T_TMP/cgbind.out")"
		rt delete --force cgbind >/dev/null 2>&1
	done
	return 0
}

# With a cgroup namespace and a writable "cgroup" mount (the container's
# root is sbx's cgroup), root makes a child cgroup, moves into it and writes
# what control files it can: the eBPF policy still holds below, and the
# container's own cgroup stays where it was.
case_cgroupns_child_cgroup()
{
	runit cgns '.process.args = ["/bin/sh", "-c",
		"mkdir /sys/fs/cgroup/x && echo $$ >/sys/fs/cgroup/x/cgroup.procs && echo moved; echo max >/sys/fs/cgroup/pids.max 2>/dev/null && echo pidsmax; echo max >/sys/fs/cgroup/memory.max 2>/dev/null && echo memmax; /ociattack connect 9; /ociattack cgmove .. 9"] |
		.linux.namespaces += [{"type": "cgroup"}] |
		.mounts |= map(if .destination == "/sys/fs/cgroup" then .options = ["nosuid", "noexec", "nodev", "rw"] else . end)'
	[ "$RC" = 0 ] || fail "run rc $RC: $(tr '\n' ' ' <"$T_TMP/cgns.out")"
	grep -q '^pidsmax\|^memmax' "$T_TMP/cgns.out" && fail "the container raised its own limit: $(tr '\n' ' ' <"$T_TMP/cgns.out")"
	eq "connect from a child cgroup" "$(key cgns connect)" EPERM
	[ "$(key cgns cgmove)" = ok ] && fail "the container left its cgroup namespace's root: $(tr '\n' ' ' <"$T_TMP/cgns.out")"
	eq "connect after" "$(key cgns after)" EPERM
}

# An exec'd process is under the spec's seccomp filter and capabilities
# as the init is (mkdir refused by the filter; CAP_NET_BIND_SERVICE only).
case_exec_same_seccomp_caps()
{
	local b
	b=$(bundle execsc '.process.args = ["sleep", "30"] |
		.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]} |
		'"$(caps_jq CAP_NET_BIND_SERVICE)")
	T_CASE_RESTORE+="rt delete --force execsc >/dev/null 2>&1;"
	rt create --bundle "$b" execsc >"$T_TMP/execsc.out" 2>&1 </dev/null || fail "create: $(cat "$T_TMP/execsc.out")"
	rt start execsc || fail "start failed"
	rt exec execsc /bin/busybox mkdir /tmp/z >/dev/null 2>&1 </dev/null && fail "an exec'd process escaped the seccomp filter"
	eq "CapEff of an exec'd process" "$(rt exec execsc /bin/busybox grep CapEff /proc/self/status 2>/dev/null </dev/null | awk '{print $2}')" \
		0000000000000400
	rt delete --force execsc
}

setup attack_setup
run_case deny_forms_default_caps case_deny_forms_default_caps
run_case cgroup_bind_readonly_podman_caps case_cgroup_bind_readonly_podman_caps
run_case sys_admin_refused_under_strict case_sys_admin_refused_under_strict
run_case dangerous_caps_refused_under_strict case_dangerous_caps_refused_under_strict
run_case sys_admin_in_userns_allowed case_sys_admin_in_userns_allowed
run_case sys_admin_userns_mapping_host_root_refused case_sys_admin_userns_mapping_host_root_refused
run_case sys_admin_best_effort_degraded case_sys_admin_best_effort_degraded
run_case no_fd_leaks case_no_fd_leaks
run_case exec_in_same_cgroups case_exec_in_same_cgroups
run_case exec_process_caps case_exec_process_caps
run_case raw_sockets_refused case_raw_sockets_refused
run_case socket_families_refused case_socket_families_refused
run_case proc_masked case_proc_masked
run_case netns_by_path case_netns_by_path
run_case hostile_ids case_hostile_ids
run_case kill_checks_start_time case_kill_checks_start_time
run_case flood_counted case_flood_counted
run_case mknod_host_disk case_mknod_host_disk
run_case mount_dest_symlink case_mount_dest_symlink
run_case pid_file_symlink case_pid_file_symlink
run_case cgroupfs_bind_refused case_cgroupfs_bind_refused
run_case cgroupns_child_cgroup case_cgroupns_child_cgroup
run_case exec_same_seccomp_caps case_exec_same_seccomp_caps
run_case manager_killed_fails_closed case_manager_killed_fails_closed
finish
